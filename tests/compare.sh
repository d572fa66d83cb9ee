#!/bin/sh
# compare and replay's printed tables, for pull requests: each delta is the
# value minus the baseline's (checked against compare's own csv, not
# hard-coded), counts keep their exact digits with thousands separators,
# times are in human units, --changed-only hides exactly the rows on which
# every policy agrees and says how many, markdown has one <details> per
# trace with rows of one width and names escaped, and replay prints the
# same table as compare for the same runs (and its csv the same deltas).
# usage: compare.sh COWSIM SOURCE_DIR
set -u
COWSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS PATTERN-ON-STDERR-OR-STDOUT -- command...
expect() {
	want=$1; pat=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(head -c 400 "$T/err")"
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out" "$T/err"; then
		fail "$*: output lacks '$pat': $(head -c 400 "$T/err")"
	fi
}

R=$SRC/traces/real
POL=linux-5.7,linux-5.9,linux-6.12
# A policy whose name holds markdown's specials, from a config file.
sed 's/^name = .*/name = my|pol*_x/' "$SRC/configs/linux-5.9.ini" >odd.ini
# An empty sysroot: no exec image is read from this machine's files, so the
# counts checked below are the trace's alone.
mkdir empty

expect 0 "" -- "$COWSIM" replay "$R/cowknown.dat" "$R/build.dat" --policy $POL \
	--sysroot empty --config odd.ini --db c.db -q --baseline linux-5.9 --format markdown
cp out replay.md
expect 0 "" -- "$COWSIM" replay "$R/cowknown.dat" "$R/build.dat" --policy $POL \
	--sysroot empty --config odd.ini --no-db -q --baseline linux-5.9 --changed-only
cp out replay-changed.txt

expect 0 "" -- "$COWSIM" compare --db c.db --format csv --baseline linux-5.9
cp out c.csv
expect 0 "" -- "$COWSIM" compare --db c.db --format markdown --baseline linux-5.9
cp out full.md
expect 0 "" -- "$COWSIM" compare --db c.db --format markdown --baseline linux-5.9 \
	--changed-only
cp out changed.md
expect 0 "each policy against linux-5.9 (\*)" -- "$COWSIM" compare --db c.db \
	--baseline linux-5.9 --changed-only
cp out changed.txt

# ---- deltas: every cell of the markdown against the csv's numbers --------
# The csv holds each value exactly and its own _delta column; the markdown
# must show value, value - baseline's (signed, "=" for 0) and the ratio, with
# counts in exact digits and thousands separators.  Only count rows are
# checked digit for digit here; units are checked below.
deltas() {
awk -F, -v out="$T/check" '
function commas(v,   s, neg, r) {
	neg = v < 0; s = sprintf("%d", neg ? -v : v); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return (neg ? "-" : "") s r
}
function trim(s) { gsub(/^ +| +$/, "", s); return s }
FNR == 1 && NR == FNR { for (i = 1; i <= NF; i++) col[$i] = i; next }
NR == FNR {
	key = $col["trace"] SUBSEP $col["policy"]
	for (m in col) val[key, m] = $col[m]
	next
}
/^<details><summary>/ {
	tr = $0; sub(/^<details><summary>/, "", tr); sub(/ — .*/, "", tr); next
}
/^\| metric / {
	n = split($0, h, / \| /)
	for (i = 2; i <= n; i++) { h[i] = trim(h[i]); sub(/ \|$/, "", h[i]); gsub(/\\/, "", h[i]); sub(/ \(baseline\)$/, "", h[i]) }
	base = h[2]; next
}
/^\| `/ {
	s = $0; gsub(/\\\|/, "\001", s)
	n = split(s, c, / \| /)
	for (i = 1; i <= n; i++) { c[i] = trim(c[i]); sub(/^\| /, "", c[i]); sub(/ \|$/, "", c[i]) }
	m = c[1]; gsub(/`/, "", m)
	if (m ~ /_ns|_seconds|_pct|_bytes/) next
	bv = val[tr, base, m]
	if (c[2] != commas(bv)) printf "%s %s %s: shows %s, csv %s\n", tr, base, m, c[2], bv > out
	for (i = 3; i + 2 <= n; i += 3) {
		p = h[i]; v = val[tr, p, m]; d = v - bv
		want = d == 0 ? "=" : (d > 0 ? "+" : "") commas(d)
		if (c[i] != commas(v)) printf "%s %s %s: shows %s, csv %s\n", tr, p, m, c[i], v > out
		if (c[i + 1] != want) printf "%s %s %s: delta %s, expected %s\n", tr, p, m, c[i + 1], want > out
		if (val[tr, p, m "_delta"] != d) printf "%s %s %s: csv delta %s, expected %s\n", tr, p, m, val[tr, p, m "_delta"], d > out
		if (bv == 0 && v != 0 && c[i + 2] != "new") printf "%s %s %s: ratio %s, expected new\n", tr, p, m, c[i + 2] > out
		checked++
	}
}
END { if (checked < 40) printf "only %d cells checked\n", checked > out }
' "$1" "$2"
[ -s check ] && fail "deltas against $3: $(head -5 check)"
rm -f check
}
deltas c.csv full.md linux-5.9
# linux-5.7 copies no page needlessly where the others do: a baseline of 0
expect 0 "" -- "$COWSIM" compare --db c.db --format csv --baseline linux-5.7
cp out c57.csv
expect 0 "" -- "$COWSIM" compare --db c.db --format markdown --baseline linux-5.7
cp out full57.md
deltas c57.csv full57.md linux-5.7
# a count of more than three digits, with its separators
grep -q '^build.dat,.*,53234,' c.csv || fail "csv lacks build.dat's 53234 events"
grep -q '| `events` | 53,234 |' full.md || fail "markdown lacks 53,234 events"
# a baseline of 0 against a value: "new", not a ratio
grep -q '| new |' full57.md || fail "no 'new' ratio where the baseline is 0"

# ---- human units: a nanosecond metric in µs/ms, agreeing with the csv ----
ns=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "fork_latency_ns_p50") c = i }
              $1 == "cowknown.dat" && $5 == "linux-5.9" { print $c }' c.csv)
shown=$(grep -m1 '^| `fork_latency_ns_p50` |' full.md | awk -F' [|] ' '{ print $2 }')
case $shown in
*" µs"|*" ms") ;;
*) fail "fork_latency_ns_p50 shown as '$shown', not in µs or ms" ;;
esac
awk -v ns="$ns" -v s="$shown" 'BEGIN {
	split(s, p, " "); f = p[2] == "ms" ? 1e6 : 1e3
	exit !(ns > 0 && (p[1] * f - ns) ^ 2 <= (ns / 100) ^ 2)
}' || fail "fork_latency_ns_p50: '$shown' is not the csv's $ns ns"

# ... and a size in bytes in KiB/MiB/GiB
by=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "memory_peak_bytes") c = i }
              $1 == "build.dat" && $5 == "linux-5.9" { print $c }' c.csv)
shown=$(awk '/<summary>build.dat / { on = 1 } on && /^\| `memory_peak_bytes` \|/ { print; exit }' full.md |
	awk -F' [|] ' '{ print $2 }')
awk -v b="$by" -v s="$shown" 'BEGIN {
	split(s, p, " "); f = p[2] == "KiB" ? 1024 : p[2] == "MiB" ? 1048576 : p[2] == "GiB" ? 1073741824 : 0
	exit !(f && b > 0 && (p[1] * f - b) ^ 2 <= (b / 100) ^ 2)
}' || fail "memory_peak_bytes: '$shown' is not the csv's $by bytes in KiB/MiB/GiB"

# ---- markdown: one <details> per trace, rows of one width, escaping -------
[ "$(grep -c '^<details><summary>' full.md)" = 2 ] || fail "not one <details> per trace"
[ "$(grep -c '^</details>' full.md)" = 2 ] || fail "<details> not closed"
grep -q '<summary>cowknown.dat — [0-9]* changed of [0-9]*</summary>' full.md ||
	fail "summary lacks 'N changed of M'"
grep -q 'my\\|pol\\\*\\_x' full.md || fail "policy name not escaped: $(grep -m1 '^| metric' full.md)"
awk '/^<details>/ { w = 0 }
     /^\|/ { s = $0; gsub(/\\\|/, "", s); n = gsub(/\|/, "|", s)
             if (w && n != w) { print "row of " n " bars after rows of " w ": " $0; exit 1 }
             w = n }' full.md >widths || fail "markdown rows differ in width: $(cat widths)"

# ---- --changed-only: exactly the rows where a delta is not "=" -----------
# From the full markdown: per trace, the rows with a delta other than "="
# (replay_seconds and memory_peak_bytes, costs of the replay, never count),
# and how many rows there were.
rows() {
	awk -v only="$2" '
	/^<details><summary>/ { tr = $0; sub(/^<details><summary>/, "", tr); sub(/ — .*/, "", tr) }
	/^\| `/ {
		s = $0; gsub(/\\\|/, "", s); n = split(s, c, / \| /)
		m = c[1]; gsub(/[|` ]/, "", m); changed = 0
		for (i = 4; i <= n; i += 3) { d = c[i]; gsub(/ /, "", d); if (d != "=" && d != "") changed = 1 }
		if (m == "replay_seconds" || m == "memory_peak_bytes") changed = 0
		if (!only || changed) print tr, m
	}' "$1"
}
rows full.md 1 >want-rows
rows changed.md 0 >got-rows
cmp -s want-rows got-rows || fail "--changed-only rows: $(diff want-rows got-rows | head -5)"
[ -s got-rows ] || fail "--changed-only left no rows"
for tr in cowknown.dat build.dat; do
	all=$(rows full.md 0 | grep -c "^$tr ")
	kept=$(grep -c "^$tr " want-rows)
	grep -q "<summary>$tr — $kept changed of $all</summary>" changed.md ||
		fail "$tr: summary is not '$kept changed of $all'"
	awk -v tr="$tr" -v n=$((all - kept)) '
		/^<details><summary>/ { on = index($0, "<summary>" tr " ") > 0 }
		on && $0 == n " unchanged rows hidden." { ok = 1 }
		END { exit !ok }' changed.md || fail "$tr: markdown does not say $((all - kept)) rows hidden"
done
grep -q '^(.* unchanged rows hidden)$' changed.txt || fail "table does not say how many rows it hid"
grep -q '^replay_seconds ' changed.txt && fail "--changed-only kept replay_seconds"
grep -q '^memory_peak_bytes ' changed.txt && fail "--changed-only kept memory_peak_bytes"

# ---- replay prints compare's table for the same runs ---------------------
# Only the heading of each trace differs: replay names the file as given
# and knows less of the trace than the store.
strip() { sed -e '/^<details>/d' -e '/ events/d' "$1"; }
strip replay.md >r.md
strip full.md >c.md
cmp -s r.md c.md || fail "replay and compare markdown differ: $(diff r.md c.md | head -6)"
grep -v ' events' replay-changed.txt >r.txt
grep -v ' events' changed.txt >c.txt
cmp -s r.txt c.txt || fail "replay and compare tables differ: $(diff r.txt c.txt | head -6)"

# replay's csv keeps its own columns and, with --baseline, has the same
# deltas and ratios as compare's csv of the same runs
expect 0 "" -- "$COWSIM" replay "$R/cowknown.dat" "$R/build.dat" --policy $POL \
	--sysroot empty --config odd.ini --no-db -q --baseline linux-5.9 --format csv
head -1 out | grep -q '^trace,format,policy,model,events,.*,replay_seconds,memory_peak_bytes,baseline,events_ratio,' ||
	fail "replay csv header: $(head -c 300 out)"
awk -F, '
FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; hdr[FILENAME] = $0; next }
{ t = $1; sub(/.*\//, "", t); key = t SUBSEP $col[FILENAME, "policy"] }
NR == FNR { for (i = 1; i <= NF; i++) v[key, i] = $i; next }
{
	for (k in col) {
		split(k, f, SUBSEP); if (f[1] != FILENAME || f[2] !~ /_(delta|ratio)$/ || f[2] ~ /^replay_seconds/) continue
		r = col["c.csv", f[2]]; if (!r) continue
		if (v[key, r] != $col[k]) { print "replay " key " " f[2] " " $col[k] " vs compare " v[key, r]; bad = 1 }
		n++
	}
}
END { if (n < 200) { print "only " n " compared"; bad = 1 } exit bad }' c.csv out >join ||
	fail "replay csv deltas differ from compare's: $(head -3 join)"

# ---- refusals -------------------------------------------------------------
expect 2 "--changed-only is for" -- "$COWSIM" compare --db c.db --format csv --changed-only
expect 2 "--changed-only is for" -- "$COWSIM" replay "$R/cowknown.dat" --no-db -q \
	--format json --changed-only
expect 2 "not one of the policies replayed" -- "$COWSIM" replay "$R/cowknown.dat" \
	--no-db -q --policy linux-5.9 --baseline linux-6.12
expect 2 "format" -- "$COWSIM" replay "$R/cowknown.dat" --no-db -q --format xml

[ $fails = 0 ] && echo "compare: all ok"
exit $((fails != 0))
