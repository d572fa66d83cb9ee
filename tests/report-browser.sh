#!/bin/sh
# The report's page in a real browser, on a store of several traces (the
# bundled captures, a generated trace and a scenario, under every preset):
# it loads offline (the browser's network is shut, the page links nothing
# outside its folder), every picture renders (index.html records in the
# body's data-images attribute how many images loaded, of how many), and
# it has the shape docs/report.md promises: the summary first, a row per
# trace and preset, within one screen; trace sections about a screen high;
# presets with the same series drawn once under a joined label; agreement
# on an axis zoomed to its values; phases named; no yellow anywhere.  Two
# screenshots (the first screen and the whole page) must exist and not be
# blank; with REPORT_SHOTS=DIR they are kept there to look at.
# Skipped (status 77) where chromium or gnuplot is not installed, unless
# CI is set: there that is a failure.
# usage: report-browser.sh COWSIM SOURCE_DIR MKTRACE SQLQ
set -u
COWSIM=$1
SRC=$2
MKTRACE=$3
SQLQ=$4

missing() {
	if [ -n "${CI:-}" ]; then
		echo "FAIL: report-browser: $1 (.ci/deps installs it)"
		exit 1
	fi
	echo "report-browser: $1: skipped"
	exit 77
}
BROWSER=
for b in chromium chromium-browser google-chrome; do
	if command -v $b >/dev/null 2>&1; then
		BROWSER=$b
		break
	fi
done
[ -n "$BROWSER" ] || missing "no chromium installed (Debian: apt install chromium)"
command -v gnuplot >/dev/null 2>&1 || missing "no gnuplot installed (Debian: apt install gnuplot-nox)"
command -v python3 >/dev/null 2>&1 || missing "no python3 installed"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for t in "$SRC"/traces/real/*.dat; do
	"$COWSIM" replay "$t" --policy all --faults -q >/dev/null ||
		fail "replay $t"
done
"$MKTRACE" kv.ev 12 || fail "mktrace"
"$COWSIM" replay kv.ev -q --faults >/dev/null || fail "replay kv.ev"
"$COWSIM" replay "$SRC/traces/scenarios/eng-zero-page.scn" -q >/dev/null ||
	fail "replay scenario"
"$COWSIM" report -o rep -q || fail "report"
"$COWSIM" report -o rep2 -q --baseline no-such-preset 2>/dev/null &&
	fail "an unknown --baseline accepted"

# The flags keep chromium from reaching for the network (this machine's is
# closed) and from a profile or sandbox it cannot have under a test runner.
run_browser() {
	timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$T/profile" "$@" 2>"$T/browser.err"
}
run_browser --window-size=1440,900 --virtual-time-budget=10000 --dump-dom \
	"file://$T/rep/index.html" >dom.html
[ -s dom.html ] || fail "$BROWSER printed no DOM: $(tail -3 "$T/browser.err")"
grep -Eq '(src|href)="(https?:)?//' rep/index.html &&
	fail "index.html links something outside its folder"
imgs=$(grep -o '<img ' rep/index.html | wc -l)
[ "$imgs" -gt 0 ] || fail "index.html has no pictures"
got=$(grep -o 'data-images="[^"]*"' dom.html | sed 's/data-images="//; s/"//')
[ "$got" = "$imgs/$imgs" ] ||
	fail "pictures loaded in the browser: '$got', expected $imgs/$imgs"
grep -q "did not load: [a-z]" dom.html && fail "the page reports a picture that did not load"
grep -q "kv.ev" dom.html || fail "trace missing from the page"
grep -q "this trace has no forks" dom.html || fail "'no data' note missing"

# The summary: the first table, a row per trace and preset, one screen.
grep -o '<table[^>]*>' dom.html | head -1 | grep -q 'id="summary"' ||
	fail "the summary is not the page's first table"
want=$("$SQLQ" cowsim.db "SELECT count(*) FROM latest_runs")
rows=$(grep -o '<tr class="sumrow' dom.html | wc -l)
[ "$rows" -eq "$want" ] || fail "summary rows: $rows, expected $want (trace x preset)"
grep -q 'class="n d">' dom.html ||
	fail "no copies against the baseline in the summary"
bottom=$(grep -o 'data-summary-bottom="[0-9]*"' dom.html | grep -o '[0-9]*')
[ -n "$bottom" ] && [ "$bottom" -le 1080 ] ||
	fail "the summary ends at ${bottom:-?} px: more than one screen"
tallest=$(grep -o 'data-section-max="[0-9]*"' dom.html | grep -o '[0-9]*')
[ -n "$tallest" ] && [ "$tallest" -gt 0 ] && [ "$tallest" -le 1400 ] ||
	fail "the tallest trace section is ${tallest:-?} px high (at most 1400)"

# The plots' scripts and data, and the page's figures.
python3 - rep dom.html <<'PY' || fails=$((fails + 1))
import colorsys, glob, os, re, sys
rep, dom = sys.argv[1], open(sys.argv[2]).read()
bad = []
gps = sorted(glob.glob(os.path.join(rep, '*.gp')))
# No yellow: a hue between orange and green that is bright and saturated.
for gp in gps:
    text = open(gp).read()
    if 'set linetype cycle' not in text:
        bad.append('%s leaves gnuplot its default colours' % gp)
    for c in set(re.findall(r"#([0-9a-fA-F]{6})\b", text)):
        r, g, b = (int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        if 40 <= h * 360 <= 75 and s > 0.35 and v > 0.55:
            bad.append('%s: yellow #%s' % (gp, c))
# Zero-fills are not stacked on copies.
for gp in glob.glob(os.path.join(rep, 'copies-t*.gp')):
    if 'zero' in open(gp).read():
        bad.append('%s stacks zero-fills on copies' % gp)
# Identical series are one line or bar: no two blocks of a lines plot and
# no two rows of a bars plot alike; and some label joins presets.
joined = 0
for dat in glob.glob(os.path.join(rep, '*.dat')):
    text = open(dat).read()
    joined += ' = ' in text
    name = os.path.basename(dat)
    if name.startswith(('forklat', 'forksize', 'forkfit', 'cumcopies',
                        'frames')):
        blocks = [b for b in text.split('\n\n\n') if b.strip()]
        body = ['\n'.join(l for l in b.split('\n') if not l.startswith('#'))
                for b in blocks]
        if name.startswith(('forklat', 'forksize')) and \
           'observed (kernel)' in text:
            body = body[:-1]
        if len(set(body)) != len(body):
            bad.append('%s draws identical series apart' % dat)
    else:
        rows = [l.split('"', 2)[2] for l in text.split('\n')
                if l.startswith('"')]
        if len(set(rows)) != len(rows):
            bad.append('%s draws identical bars apart' % dat)
if not joined:
    bad.append('no plot joins presets with the same series (" = ")')
# Agreement on a zoomed axis: from above 0 when every value is high.
figs = re.findall(r'<figure id="(agree-t\d+)" data-ymin="([\d.]+)" '
                  r'data-vmin="([\d.]+)"', dom)
if not figs:
    bad.append('no agreement plot on the page')
for name, ymin, vmin in figs:
    ymin, vmin = float(ymin), float(vmin)
    gp = open(os.path.join(rep, name + '.gp')).read()
    if not re.search(r'set yrange \[%g:' % ymin, gp):
        bad.append('%s.gp does not draw the axis from %g' % (name, ymin))
    if vmin >= 90 and not 0 < ymin <= vmin:
        bad.append('%s: values from %g drawn from %g' % (name, vmin, ymin))
# The kernel-vs-model breakdown, and named phase lines.
if not re.search(r'<figure id="disagree-t\d+"', dom):
    bad.append('no disagreement breakdown on the page')
if not any('set label' in open(g).read()
           for g in glob.glob(os.path.join(rep, 'cumcopies-t*.gp'))):
    bad.append('no phase is named on any plot over time')
for b in bad:
    print('FAIL: ' + b)
sys.exit(1 if bad else 0)
PY

# The fork view (docs/report.md): per trace with forks its four pictures
# in the section's grid, the per-run table and the other clones apart; one
# observed fork p50 per trace in the summary, the fork view and the store's
# fork_latency view (forks only, docs/model.md), none for a trace of
# vforks only.
"$SQLQ" cowsim.db "SELECT t.name, r.id, coalesce(f.observed_p50, ''), f.forks,
	(SELECT count(*) FROM forks x WHERE x.run_id = r.id AND x.kind != 'fork')
	FROM latest_runs r JOIN traces t ON t.id = r.trace_id
	JOIN fork_latency f ON f.run_id = r.id" >forks.txt ||
	fail "reading fork_latency"
python3 - dom.html forks.txt <<'PY' || fails=$((fails + 1))
import html, re, sys
dom = open(sys.argv[1]).read()
bad = []
obs, forks, others = {}, {}, {}
for line in open(sys.argv[2]):
    name, run, o50, n, other = line.rstrip('\n').split('|')
    obs.setdefault(name, set()).add(o50)
    forks[run] = int(n)
    others[name] = others.get(name, 0) + int(other)
summary = dom[dom.index('<table id="summary"'):]
summary = summary[:summary.index('</table>')]
for name, o in obs.items():
    if len(o) != 1:
        bad.append('%s: runs of one trace disagree on the observed p50' % name)
    o50 = o.pop()
    want = '%.1f' % (int(o50) / 1e3) if o50 else ''
    rows = re.findall(r'<tr class="sumrow[^"]*" data-trace="%s"[^>]*>(.*?)</tr>'
                      % re.escape(html.escape(name)), summary, re.S)
    cell = re.findall(r'<td[^>]*>(.*?)</td>', rows[0])[-1] if rows else None
    if cell != want:
        bad.append('%s: the summary shows an observed fork p50 of %r, '
                   'fork_latency %r' % (name, cell, want))
    sec = re.search(r'<section class="trace" id="t(\d+)"><h2>%s</h2>(.*?)'
                    r'</section>' % re.escape(html.escape(name)), dom, re.S)
    if not sec:
        bad.append('%s: no section' % name)
        continue
    tid, body = sec.groups()
    grid = body[:body.index('</div>')]
    if o50:
        for p in ('forklat', 'forksize', 'forkfit', 'forkdesign'):
            if '<figure id="%s-t%s"' % (p, tid) not in grid:
                bad.append('%s: no %s picture in its grid' % (name, p))
        for run, v in re.findall(r'<tr class="forkrun" data-run="(\d+)" '
                                 r'data-observed-p50="(\d+)"', body):
            if v != o50:
                bad.append('%s: the fork view says %s, fork_latency %s'
                           % (name, v, o50))
        if 'class="forkrun"' not in body:
            bad.append('%s: no fork cost per run' % name)
    if others[name] and '<table class="otherclones">' not in body:
        bad.append('%s: its vforks and CLONE_VM clones are not shown apart'
                   % name)
for b in bad:
    print('FAIL: ' + b)
sys.exit(1 if bad else 0)
PY

# Screenshots: the first screen and the whole page, not blank.
run_browser --window-size=1440,900 --screenshot="$T/top.png" \
	"file://$T/rep/index.html" >/dev/null
run_browser --window-size=1440,"$(( ${bottom:-900} + 600 ))" \
	--screenshot="$T/start.png" "file://$T/rep/index.html" >/dev/null
for png in top.png start.png; do
	[ -s "$png" ] || { fail "no screenshot $png"; continue; }
	python3 - "$png" <<'PY' || fail "screenshot $png is blank or not a PNG"
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, w = 8, b'', 0
while pos < len(d):
    n, = struct.unpack('>I', d[pos:pos + 4])
    kind, body = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h = struct.unpack('>II', body[:8])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
# A page of one colour filters to a handful of byte values; text and
# plots give hundreds.
assert w == 1440 and len(set(raw)) > 64, (w, len(set(raw)))
PY
done
if [ -n "${REPORT_SHOTS:-}" ]; then
	mkdir -p "$REPORT_SHOTS" && cp top.png start.png "$REPORT_SHOTS"/
fi

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "report-browser: $got pictures rendered in $BROWSER; summary of $rows rows ends at ${bottom}px, tallest section ${tallest}px"
