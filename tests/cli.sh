#!/bin/sh
# The command line on good and bad input: usage and help texts, exit
# statuses (0 ok, 1 checks failed, 2 bad usage or input), messages that name
# the file and line/column/record, and no partial output on failure.
# usage: cli.sh COWSIM SOURCE_DIR
set -u
COWSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# replay stores its runs in ./cowsim.db by default: keep that in $T.
cd "$T" || exit 1
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS PATTERN-ON-STDERR-OR-STDOUT -- command...
expect() {
	want=$1; pat=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(head -c 300 "$T/err")"
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out" "$T/err"; then
		fail "$*: output lacks '$pat': $(head -c 300 "$T/err")"
	fi
}

expect 0 "verbs:" -- "$COWSIM" --help
expect 2 "usage" -- "$COWSIM"
expect 2 "unknown verb" -- "$COWSIM" frobnicate
for v in replay check policies synth dump compare report; do
	expect 0 "example" -- "$COWSIM" $v --help
done
expect 2 "" -- "$COWSIM" replay --no-such-option x
expect 2 "" -- "$COWSIM" replay

# policies: one per line, name first, every required preset present
"$COWSIM" policies >"$T/p" || fail "policies failed"
for p in linux-5.7 linux-5.8 linux-5.9 linux-5.18 linux-6.12 piggin-2009; do
	grep -q "^$p " "$T/p" || fail "policies does not list $p first on a line"
done
expect 0 "\[switches\]" -- "$COWSIM" policies --show linux-5.18
expect 2 "no policy preset" -- "$COWSIM" policies --show linux-9.9

# replay a scenario under all policies, in every format
SCN=$SRC/traces/scenarios/cow-03-vmsplice-unmap-child.scn
expect 0 "leaks" -- "$COWSIM" replay "$SCN"
"$COWSIM" replay "$SCN" --format json >"$T/j" 2>/dev/null || fail "json replay"
for k in trace policy events forks copies_fault copies_fork zero_fills reuses \
         unnecessary_copies leaks lost_pins peak_frames fork_latency_ns_p50 \
         fork_latency_ns_p99 replay_seconds; do
	grep -q "\"$k\":" "$T/j" || fail "JSON lacks $k"
done
[ "$(grep -c '"policy":' "$T/j")" -ge 6 ] || fail "JSON lacks one object per policy"
head -c 1 "$T/j" | grep -q '\[' || fail "JSON is not an array"
expect 0 "trace,format,policy" -- "$COWSIM" replay "$SCN" --format csv --policy linux-5.7
expect 2 "no policy preset" -- "$COWSIM" replay "$SCN" --policy linux-4.0
expect 2 "format" -- "$COWSIM" replay "$SCN" --format xml

# synth and replay of the event file
expect 0 "" -- "$COWSIM" synth --events 20000 --seed 3 -o "$T/s.ev"
expect 0 "linux-6.12" -- "$COWSIM" replay "$T/s.ev" --policy all -q
expect 2 "not a number" -- "$COWSIM" synth --events many -o "$T/x.ev"

# bad input: truncated, garbage, missing, unknown format -> status 2, named
head -c 20000 "$T/s.ev" >"$T/trunc.ev"
expect 2 "trunc.ev" -- "$COWSIM" replay "$T/trunc.ev"
grep -q "truncated" "$T/err" || fail "truncated file not called truncated"
printf 'process P\nmmap P m 1\nwrite P m\nbogus line here\n' >"$T/bad.scn"
expect 2 "bad.scn:4:1:" -- "$COWSIM" replay "$T/bad.scn"
expect 2 "bad.scn:4:1:" -- "$COWSIM" check "$T/bad.scn"
expect 2 "No such file" -- "$COWSIM" replay "$T/none.ev"
head -c 4096 /dev/urandom >"$T/noise.bin"
expect 2 "unknown trace format" -- "$COWSIM" replay "$T/noise.bin"
printf '\000\001\002' >"$T/nul.scn"
expect 2 "nul.scn:1:1:" -- "$COWSIM" check "$T/nul.scn"

# a failing run prints nothing on stdout, even if an earlier trace was fine
"$COWSIM" replay "$SCN" "$T/trunc.ev" --format json >"$T/o" 2>/dev/null
[ $? = 2 ] || fail "replay good+bad did not exit 2"
[ -s "$T/o" ] && fail "replay good+bad left partial output"

# configs: a user's file, with the error's line named
cat >"$T/mine.ini" <<INI
[policy]
name = mine
model = page-count
[switches]
wp_lru_drain = true
lru_batch = 7
INI
expect 0 "mine" -- "$COWSIM" replay "$SCN" --config "$T/mine.ini"
printf '[policy]\nname = x\n[switches]\nno_such_switch = 1\n' >"$T/bad.ini"
expect 2 "bad.ini:4:" -- "$COWSIM" replay "$SCN" --config "$T/bad.ini"
printf '[switches]\nlru_batch = lots\n' >"$T/bad2.ini"
expect 2 "bad2.ini:2:" -- "$COWSIM" replay "$SCN" --config "$T/bad2.ini"
expect 0 "" -- "$COWSIM" replay "$SCN" --cost vm --policy linux-6.12
expect 2 "cost" -- "$COWSIM" replay "$SCN" --cost nosuch --policy linux-6.12

# check: a failing expectation is status 1 and names file and line
printf 'process P\nmmap P m 1\nwrite P m\nexpect linux-5.9 new_pages=5\n' >"$T/wrong.scn"
expect 1 "wrong.scn:4: linux-5.9: new_pages=5 (is 1): FAILED" -- "$COWSIM" check "$T/wrong.scn"
printf 'process P\nexpect linux-5.9 bogus_metric=1\n' >"$T/metric.scn"
expect 2 "metric.scn:2:18: unknown metric" -- "$COWSIM" check "$T/metric.scn"

# dump
expect 0 "exec" -- "$COWSIM" dump "$SCN" --limit 3

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "cli: all good"
