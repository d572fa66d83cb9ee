#!/bin/sh
# Fork and vfork apart, and one "observed fork latency" (docs/model.md,
# "Fork latency") everywhere: on a trace with forks, vforks and a CLONE_VM
# clone, each kernel-observed (mktrace), the median the run's metrics give
# (compare's table, csv and json), the fork_latency view's and the
# report's (its summary and its fork view) are one number, the median of
# the forks' times computed here from the clone flags alone - and not the
# median of every clone's, which the vforks' long waits would raise.  The
# vforks' times are shown apart (observed_vfork_ns_p50, clone_latency, the
# report's table of other clones).  A trace of vforks only
# (traces/real/build.dat) has no fork latency at all; one of forks only
# (traces/real/cowknown.dat) keeps its median.  The report's fork view has
# its three pictures.
# Skipped (status 77) without gnuplot or python3, unless CI is set: there
# that is a failure.
# usage: forklat.sh COWSIM SOURCE_DIR MKTRACE SQLQ
set -u
COWSIM=$1
SRC=$2
MKTRACE=$3
SQLQ=$4

for tool in gnuplot python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		if [ -n "${CI:-}" ]; then
			echo "FAIL: forklat: no $tool installed (.ci/deps installs it)"
			exit 1
		fi
		echo "forklat: no $tool installed: skipped"
		exit 77
	fi
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
q() { "$SQLQ" "$@"; }

# The nearest-rank median (rank ceil(n / 2)) of the numbers on stdin.
p50() { sort -n | awk '{ v[NR] = $1 } END { r = int((NR + 1) / 2); print NR ? v[r] : "" }'; }

# A metric of one run from compare's json and csv.
json_metric() {
	python3 -c 'import json, sys
for rec in json.load(open(sys.argv[1])):
    if rec["trace"] == sys.argv[2] and rec["policy"] == sys.argv[3]:
        print(rec[sys.argv[4]] if rec[sys.argv[4]] is not None else "")' "$@"
}
csv_metric() {
	python3 -c 'import csv, sys
for rec in csv.DictReader(open(sys.argv[1])):
    if rec["trace"] == sys.argv[2] and rec["policy"] == sys.argv[3]:
        print(rec[sys.argv[4]])' "$@"
}
# The report summary's observed fork p50 cell of a trace (us, as shown).
summary_obs() {
	python3 -c 'import re, sys
html = open(sys.argv[1]).read()
summary = html[html.index("<table id=\"summary\">"):]
summary = summary[:summary.index("</table>")]
for row in re.findall(r"<tr class=\"sumrow[^\"]*\" data-trace=\"([^\"]*)\"[^>]*>(.*?)</tr>", summary):
    if row[0] == sys.argv[2]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1])
        print(cells[-1])
        break' "$@"
}

"$MKTRACE" kv.ev 12 || fail "mktrace"
for t in kv.ev "$SRC/traces/real/build.dat" "$SRC/traces/real/cowknown.dat"; do
	"$COWSIM" replay "$t" --db f.db --policy linux-6.12,linux-5.7 -q ||
		fail "replay $t"
done
"$COWSIM" compare --db f.db --format json >c.json || fail "compare json"
"$COWSIM" compare --db f.db --format csv >c.csv || fail "compare csv"
"$COWSIM" compare --db f.db --trace kv.ev >c.txt || fail "compare table"
"$COWSIM" report --db f.db -o rep -q || fail "report"

# ---- kv.ev: 12 forks, 4 vforks, a CLONE_VM clone ---------------------------
run=$(q f.db "SELECT id FROM runs r WHERE policy = 'linux-6.12' AND trace_id = (SELECT id FROM traces WHERE name = 'kv.ev')")
# fork: none of CLONE_VM (0x100), CLONE_VFORK (0x4000), CLONE_THREAD (0x10000)
want=$(q f.db "SELECT observed_dur FROM forks WHERE run_id = $run AND clone_flags & 82176 = 0 AND observed_dur IS NOT NULL" | p50)
mixed=$(q f.db "SELECT observed_dur FROM forks WHERE run_id = $run AND observed_dur IS NOT NULL" | p50)
vwant=$(q f.db "SELECT observed_dur FROM forks WHERE run_id = $run AND clone_flags & 16384 AND observed_dur IS NOT NULL" | p50)
[ -n "$want" ] && [ "$want" != "$mixed" ] ||
	fail "kv.ev: the forks' median ($want) should differ from every clone's ($mixed)"
[ "$(q f.db "SELECT group_concat(kind || ':' || n, ' ') FROM (SELECT kind, count(*) n FROM forks WHERE run_id = $run GROUP BY kind ORDER BY kind)")" = \
  "clone-vm:1 fork:12 vfork:4" ] || fail "kv.ev: fork kinds: $(q f.db "SELECT group_concat(DISTINCT kind) FROM forks")"
for pol in linux-6.12 linux-5.7; do
	for src in json csv; do
		got=$(${src}_metric c.$src kv.ev $pol observed_fork_latency_ns_p50)
		[ "$got" = "$want" ] || fail "compare $src, $pol: observed p50 $got, not the forks' $want"
		got=$(${src}_metric c.$src kv.ev $pol observed_forks)
		[ "$got" = 12 ] || fail "compare $src, $pol: observed_forks $got, not 12"
		got=$(${src}_metric c.$src kv.ev $pol observed_vfork_ns_p50)
		[ "$got" = "$vwant" ] || fail "compare $src, $pol: vfork p50 $got, not $vwant"
		got=$(${src}_metric c.$src kv.ev $pol vforks)
		[ "$got" = 4 ] || fail "compare $src, $pol: vforks $got, not 4"
		got=$(${src}_metric c.$src kv.ev $pol vm_clones)
		[ "$got" = 1 ] || fail "compare $src, $pol: vm_clones $got, not 1"
	done
	got=$(q f.db "SELECT observed_p50 FROM fork_latency WHERE trace = 'kv.ev' AND policy = '$pol'")
	[ "$got" = "$want" ] || fail "fork_latency, $pol: observed p50 $got, not $want"
	got=$(q f.db "SELECT forks FROM fork_latency WHERE trace = 'kv.ev' AND policy = '$pol'")
	[ "$got" = 12 ] || fail "fork_latency, $pol: $got forks, not 12"
	# the modeled median: the view's is the run's metric
	[ "$(q f.db "SELECT dur_p50 FROM fork_latency WHERE trace = 'kv.ev' AND policy = '$pol'")" = \
	  "$(json_metric c.json kv.ev $pol fork_latency_ns_p50)" ] ||
		fail "fork_latency, $pol: modeled p50 is not the run's metric"
	got=$(q f.db "SELECT observed_p50 FROM clone_latency WHERE trace = 'kv.ev' AND policy = '$pol' AND kind = 'vfork'")
	[ "$got" = "$vwant" ] || fail "clone_latency, $pol: vfork p50 $got, not $vwant"
done
us=$(awk -v n="$want" 'BEGIN { printf "%.1f", n / 1e3 }')
line=$(grep '^observed_fork_latency_ns_p50 ' c.txt)
echo "$line" | grep -q " $(awk -v n="$want" 'BEGIN { printf "%d", n / 1e3 }') µs" ||
	fail "compare table: '$line' is not $want ns"
got=$(summary_obs rep/index.html kv.ev)
[ "$got" = "$us" ] || fail "report summary: observed p50 '$got', not $us"
grep -o 'class="forkrun" data-run="[0-9]*" data-observed-p50="[0-9]*"' rep/index.html |
	grep -q "data-observed-p50=\"$want\"" || fail "report fork view: observed p50 not $want"
grep -q '<table class="otherclones">' rep/index.html ||
	fail "report: no table of the clones that are not forks"
tid=$(q f.db "SELECT id FROM traces WHERE name = 'kv.ev'")
for p in forklat forksize forkfit forkdesign; do
	for ext in gp dat png svg; do
		[ -s rep/$p-t$tid.$ext ] || fail "report: $p-t$tid.$ext missing"
	done
	grep -q "<img src=\"$p-t$tid.png\"" rep/index.html ||
		fail "report: $p-t$tid not on the page"
done
# the CDF draws the forks only: 12 rises of the kernel's staircase
[ "$(awk '/^# observed/ { o = 1; next } o && NF == 2 { n++ } END { print n / 2 }' rep/forklat-t$tid.dat)" = 12 ] ||
	fail "report: the observed CDF is not the 12 forks'"
grep -q "logscale xy" rep/forksize-t$tid.gp || fail "report: forksize is not log-log"
grep -q "modeled = observed" rep/forkfit-t$tid.gp || fail "report: forkfit has no equal line"
grep -q "set output 'forkdesign-t$tid.svg'" rep/forkdesign-t$tid.gp ||
	fail "report: forkdesign draws no SVG"

# ---- build.dat: vforks only ----------------------------------------------
[ "$(json_metric c.json build.dat linux-6.12 observed_forks)" = 0 ] ||
	fail "build.dat: its vforks counted as observed forks"
[ "$(json_metric c.json build.dat linux-6.12 observed_fork_latency_ns_p50)" = 0 ] ||
	fail "build.dat: a fork latency from vforks"
[ "$(q f.db "SELECT coalesce(observed_p50, 'none') FROM fork_latency WHERE trace = 'build.dat' AND policy = 'linux-6.12'")" = none ] ||
	fail "build.dat: fork_latency has an observed p50"
bw=$(q f.db "SELECT observed_dur FROM forks f JOIN runs r ON r.id = f.run_id JOIN traces t ON t.id = r.trace_id WHERE t.name = 'build.dat' AND r.policy = 'linux-6.12' AND observed_dur IS NOT NULL" | p50)
[ "$(json_metric c.json build.dat linux-6.12 observed_vfork_ns_p50)" = "$bw" ] ||
	fail "build.dat: the vforks' median is not $bw"
[ "$(json_metric c.json build.dat linux-6.12 vforks)" = 42 ] || fail "build.dat: not 42 vforks"
[ -z "$(summary_obs rep/index.html build.dat)" ] ||
	fail "build.dat: the report's summary shows a fork latency"
grep -q "clones are all vforks or CLONE_VM clones" rep/index.html ||
	fail "build.dat: the report does not say why it has no fork latency"

# ---- cowknown.dat: forks only --------------------------------------------
cw=$(q f.db "SELECT observed_dur FROM forks f JOIN runs r ON r.id = f.run_id JOIN traces t ON t.id = r.trace_id WHERE t.name = 'cowknown.dat' AND r.policy = 'linux-6.12' AND observed_dur IS NOT NULL" | p50)
[ "$(json_metric c.json cowknown.dat linux-6.12 observed_fork_latency_ns_p50)" = "$cw" ] ||
	fail "cowknown.dat: observed p50 not $cw"
[ "$(q f.db "SELECT observed_p50 FROM fork_latency WHERE trace = 'cowknown.dat' AND policy = 'linux-6.12'")" = "$cw" ] ||
	fail "cowknown.dat: the view's observed p50 not $cw"
[ "$(summary_obs rep/index.html cowknown.dat)" = "$(awk -v n="$cw" 'BEGIN { printf "%.1f", n / 1e3 }')" ] ||
	fail "cowknown.dat: the report's observed p50 not $cw ns"

[ "$fails" = 0 ] || { echo "forklat: $fails failure(s)"; exit 1; }
echo "forklat: ok (kv.ev observed fork p50 $want ns, every clone's $mixed ns; build.dat vfork p50 $bw ns)"
