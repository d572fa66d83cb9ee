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
expect 2 "'frobnicate' is not a verb" -- "$COWSIM" frobnicate
for v in replay check policies synth dump import compare report; do
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
expect 2 "unknown trace format (use --input-format)" -- "$COWSIM" replay "$T/noise.bin"
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
# a --cost file is read whole, however long: a key after 64 KiB of
# comments takes effect as in a short file
printf '[cost]\nfork_base_ns = 4000000\n' >"$T/cost-short.ini"
{
	echo '[cost]'
	i=0
	while [ $i -lt 1200 ]; do
		echo "; padding line $i: a cost file may be long with comments"
		i=$((i + 1))
	done
	echo 'fork_base_ns = 4000000'
} >"$T/cost-long.ini"
[ "$(wc -c <"$T/cost-long.ini")" -gt 65536 ] || fail "cost-long.ini is not over 64 KiB"
costrun() {
	"$COWSIM" replay "$SCN" --policy linux-6.12 --no-db --format json "$@" |
		sed -E 's/"replay_seconds": [0-9.e+-]+//'
}
costrun >"$T/cost-none.json" || fail "replay without --cost"
costrun --cost "$T/cost-short.ini" >"$T/cost-short.json" || fail "replay --cost short file"
costrun --cost "$T/cost-long.ini" >"$T/cost-long.json" || fail "replay --cost long file"
cmp -s "$T/cost-none.json" "$T/cost-short.json" && fail "fork_base_ns in a --cost file has no effect"
cmp -s "$T/cost-short.json" "$T/cost-long.json" || fail "a --cost file over 64 KiB was not read whole"

# check: a failing expectation is status 1 and names file and line
printf 'process P\nmmap P m 1\nwrite P m\nexpect linux-5.9 new_pages=5\n' >"$T/wrong.scn"
expect 1 "wrong.scn:4: linux-5.9: new_pages=5 (is 1): FAILED" -- "$COWSIM" check "$T/wrong.scn"
printf 'process P\nexpect linux-5.9 bogus_metric=1\n' >"$T/metric.scn"
expect 2 "metric.scn:2:18: unknown metric" -- "$COWSIM" check "$T/metric.scn"

# dump
expect 0 "exec" -- "$COWSIM" dump "$SCN" --limit 3

# import: the real traces, every format, and bad input of every kind
R=$SRC/traces/real
expect 0 "example" -- "$COWSIM" import --help
expect 2 "-o FILE is required" -- "$COWSIM" import "$R/cowknown.dat"
expect 2 "format must be" -- "$COWSIM" import "$R/cowknown.dat" --format xml -o "$T/i.ev"
expect 0 "observed labels" -- "$COWSIM" import "$R/cowknown.dat" -o "$T/k.ev"
grep -q "selection: *pid [0-9]* (first maps snapshot)" "$T/err" || fail "import did not select the snapshot's tree"
[ -s "$T/out" ] && fail "import's text summary is not on stderr alone"
expect 0 "linux-6.12" -- "$COWSIM" replay "$T/k.ev" -q
expect 0 "swap_total_kb=0" -- "$COWSIM" import "$R/cowknown.ftrace.txt.zst" -o "$T/f.ev"
expect 0 "processes: *7 " -- "$COWSIM" import "$R/cowknown.perf.txt.zst" --comm cowknown -o "$T/p.ev"
expect 0 "vforks 42" -- "$COWSIM" import "$R/build.dat" --input-format dat -o "$T/b.ev"
expect 2 "give one" -- "$COWSIM" import "$R/cowknown.dat" --pid 1 --comm x -o "$T/i.ev"
# --sysroot: a directory, or status 2 naming it; an empty one reads no
# exec'd file (cowknown's own program is counted missing, its faults too)
expect 2 "sysroot $T/none: No such file" -- "$COWSIM" import "$R/cowknown.dat" --sysroot "$T/none" -o "$T/i.ev"
expect 2 "sysroot $R/cowknown.dat: Not a directory" -- "$COWSIM" replay "$R/cowknown.dat" --sysroot "$R/cowknown.dat" --no-db -q
mkdir -p "$T/emptyroot"
expect 0 "exec images: *0 mapped .* 1 files missing" -- "$COWSIM" import "$R/cowknown.dat" --sysroot "$T/emptyroot" -o "$T/root.ev"
# -o onto a FIFO (or device) is refused, and the FIFO stays one: the rename
# into place would replace it with a regular file (it did replace /dev/null)
mkfifo "$T/fifo"
expect 2 "not a regular file" -- "$COWSIM" import "$R/cowknown.dat" -o "$T/fifo"
expect 2 "not a regular file" -- "$COWSIM" synth --events 10 -o "$T/fifo"
[ -p "$T/fifo" ] || fail "import -o FIFO replaced the FIFO"
# replay reads real traces directly, and shows the kernel's outcomes
"$COWSIM" replay "$R/redis-bgsave.dat" --policy all --format json -q >"$T/j" 2>"$T/err" || fail "replay of a trace.dat: $(head -c 300 "$T/err")"
for k in observed_copies observed_reuses observed_zero_fills agree labelled observed_fork_latency_ns_p50; do
	grep -q "\"$k\": [1-9]" "$T/j" || fail "replay JSON of a real trace lacks a non-zero $k"
done
expect 0 "forks  *6" -- "$COWSIM" replay "$R/cowknown.perf.txt.zst" --comm cowknown --policy linux-6.12 -q
expect 2 "not a pid" -- "$COWSIM" replay "$R/cowknown.dat" --pid x
# a real trace keeps every engine invariant after every event
expect 0 "" -- "$COWSIM" replay "$R/cowknown.dat" --check-invariants -q
# truncated trace.dat and .zst: status 2, named
head -c 600000 "$R/cowknown.dat" >"$T/trunc.dat"
expect 2 "trunc.dat" -- "$COWSIM" import "$T/trunc.dat" -o "$T/i.ev"
head -c 40000 "$R/cowknown.ftrace.txt.zst" >"$T/trunc.txt.zst"
expect 2 "trunc.txt.zst: byte [0-9]*: truncated zstd" -- "$COWSIM" import "$T/trunc.txt.zst" -o "$T/i.ev"
expect 2 "trunc.txt.zst: byte [0-9]*: truncated zstd" -- "$COWSIM" replay "$T/trunc.txt.zst" -q
[ -e "$T/i.ev" ] && fail "a failed import left its output file"
# garbage lines, unknown events, time going back, lost events, a pid
# reused after exit, a fault of a process never seen: recovered, counted,
# warned about with file and line
zstdcat "$R/cowknown.ftrace.txt.zst" | head -3000 >"$T/s.txt"
{
	head -100 "$T/s.txt"
	echo "garbage line here"
	echo "        mystery-12    [000] d....  3818.700000: mystery_event: x=1"
	echo "CPU:1 [226 EVENTS DROPPED]"
	echo "       stranger-4242  [001] d....  3818.000001: page_fault_user: address=0x7f0000001000 ip=0x1 error_code=0x6"
	echo "             sh-777   [000] .....  3818.700001: sched_process_exit: comm=sh pid=777 prio=120 group_dead=true"
	echo "             sh-776   [000] .....  3818.700002: task_newtask: pid=777 comm=sh clone_flags=1200000 oom_score_adj=0"
	echo "             sh-776   [000] .....  3818.700003: sched_process_fork: comm=sh pid=776 child_comm=sh child_pid=777"
	sed -n '101,3000p' "$T/s.txt"
	printf ' truncated-12 [00'
} >"$T/bad.txt"
expect 0 "bad lines: *2" -- "$COWSIM" import "$T/bad.txt" -o "$T/i.ev"
grep -q "skipped by kind:.*mystery_event 1" "$T/err" || fail "unknown event not counted by name"
grep -q "lost events: *226" "$T/err" || fail "lost events not counted"
grep -q "bad.txt:101: not an ftrace event line" "$T/err" || fail "garbage line not named: $(head -c 300 "$T/err")"
grep -q "bad.txt:103: the tracer lost 226 events" "$T/err" || fail "loss not named"
grep -q "bad.txt:[0-9]*: timestamp goes back" "$T/err" || fail "time going back not named"
grep -q "timestamps clamped" "$T/err" || fail "clamping not reported"
expect 0 "" -- "$COWSIM" replay "$T/bad.txt" -q
# mostly garbage, or no trace at all: status 2
head -c 100000 /dev/urandom >"$T/noise.txt"
expect 2 "noise.txt: no ftrace event lines" -- "$COWSIM" import -I ftrace "$T/noise.txt" -o "$T/i.ev"
{ for i in $(seq 1200); do echo "not a trace line $i"; done; head -200 "$T/s.txt"; } >"$T/mostly.txt"
# (import's old --format NAME-OF-AN-INPUT-FORMAT is kept as an alias)
expect 2 "mostly.txt:1001: not an ftrace event line" -- "$COWSIM" import --format ftrace "$T/mostly.txt" -o "$T/i.ev"
printf 'cowsim: maps pid=1 begin\n' >"$T/odd.txt"
expect 2 "unknown trace format" -- "$COWSIM" import "$T/odd.txt" -o "$T/i.ev"

# ------------------------------------------------------------------
# one grammar (docs/cli.md): the same option is the same in every verb; a
# mistake gets two lines, the second where the help is, and exit 2

# hint STATUS PATTERN -- command...: like expect, and stderr is exactly the
# two-line hint (the message, then "Try 'cowsim VERB --help'.") and stdout
# is empty
hint() {
	want=$1; pat=$2; shift 3
	expect "$want" "$pat" -- "$@"
	[ "$(wc -l <"$T/err")" -eq 2 ] || fail "$*: the hint is not two lines: $(head -c 300 "$T/err")"
	tail -1 "$T/err" | grep -q "^Try 'cowsim .*--help'\.$" || fail "$*: no 'Try ... --help' line: $(head -c 300 "$T/err")"
	grep -q "^cowsim.*: " "$T/err" || fail "$*: the hint does not start with 'cowsim'"
	[ -s "$T/out" ] && fail "$*: wrote to stdout on a usage error"
}
rm -f "$T/i.ev"
hint 2 "cowsim: 'replya' is not a verb; did you mean 'replay'?" -- "$COWSIM" replya
grep -q "Try 'cowsim --help'." "$T/err" || fail "unknown verb does not point to cowsim --help"
hint 2 "'comapre' is not a verb; did you mean 'compare'?" -- "$COWSIM" comapre
hint 2 "'frobnicate' is not a verb$" -- "$COWSIM" frobnicate
hint 2 "'nosuch' is not a verb" -- "$COWSIM" help nosuch
hint 2 "unknown option '--verison'; did you mean '--version'?" -- "$COWSIM" --verison
hint 2 "cowsim replay: unknown option '--polcy'; did you mean '--policy'?" -- "$COWSIM" replay "$SCN" --polcy linux-6.12
grep -q "^Try 'cowsim replay --help'.$" "$T/err" || fail "replay's hint does not name replay"
hint 2 "cowsim compare: unknown option '--basline'; did you mean '--baseline'?" -- "$COWSIM" compare --basline x
hint 2 "unknown option '--no-such-option'$" -- "$COWSIM" replay --no-such-option x
hint 2 "cowsim replay: option '-D' needs a value" -- "$COWSIM" replay "$SCN" -D
hint 2 "cowsim compare: option '--db' needs a value" -- "$COWSIM" compare --db
hint 2 "option '--quiet' takes no value" -- "$COWSIM" replay "$SCN" --quiet=yes
hint 2 "option '--p' is ambiguous; did you mean '--policy' or '--pid'?" -- "$COWSIM" replay "$SCN" --p x
hint 2 "unknown option '-Z'" -- "$COWSIM" dump "$SCN" -Z
hint 2 "cowsim replay: no TRACE to replay" -- "$COWSIM" replay
hint 2 "cowsim check: no SCENARIO to check" -- "$COWSIM" check
hint 2 "--format must be table, csv, json, markdown or md, not 'jsno'; did you mean 'json'?" -- "$COWSIM" replay "$SCN" --format jsno
hint 2 "--format must be table, csv, json, markdown or md, not 'cvs'; did you mean 'csv'?" -- "$COWSIM" compare -f cvs
# import's -p was --pid: now it says where the pid went
hint 2 "cowsim import: unknown option '-p': .*--pid (-P)" -- "$COWSIM" import -p 5 "$R/cowknown.dat" -o "$T/i.ev"
hint 2 "unknown option '-c': .*--comm" -- "$COWSIM" import -c make "$R/cowknown.dat" -o "$T/i.ev"
hint 2 "cowsim synth: unknown option '-P': .*--procs" -- "$COWSIM" synth -n 10 -P 3 -o "$T/i.ev"
hint 2 "cowsim synth: unknown option '-c': .*--cpus" -- "$COWSIM" synth -n 10 -c 3 -o "$T/i.ev"
hint 2 "cowsim report: a report is a folder" -- "$COWSIM" report -o -
[ -e "$T/i.ev" ] && fail "a usage error left an output file"

# help VERB is VERB --help, word for word; help is --help; all on stdout
"$COWSIM" --help >"$T/h1" 2>&1 || fail "cowsim --help"
"$COWSIM" help >"$T/h2" 2>&1 || fail "cowsim help"
cmp -s "$T/h1" "$T/h2" || fail "cowsim help differs from cowsim --help"
for v in replay check policies synth dump import compare report; do
	"$COWSIM" $v --help >"$T/h1" 2>"$T/e1" || fail "$v --help exited non-zero"
	"$COWSIM" help $v >"$T/h2" 2>"$T/e2" || fail "help $v exited non-zero"
	cmp -s "$T/h1" "$T/h2" || fail "cowsim help $v differs from cowsim $v --help"
	[ -s "$T/e1" ] && fail "$v --help wrote to stderr"
	grep -q "^usage: cowsim $v" "$T/h1" || fail "$v --help does not start with its usage"
	# the new grammar in every help text: no letter means another thing
	grep -qE -- "-p, --pid|-c, --comm|-P, --procs|-c, --cpus|-f, --input" "$T/h1" && fail "$v --help has an old letter"
	# --version: for help2man, on stdout, exit 0
	"$COWSIM" $v --version >"$T/v" 2>&1 || fail "$v --version exited non-zero"
	grep -qx "cowsim [0-9][^ ]*" "$T/v" || fail "$v --version: $(cat "$T/v")"
done
for a in --version -V; do
	"$COWSIM" $a >"$T/v" 2>"$T/e" || fail "cowsim $a exited non-zero"
	grep -qx "cowsim [0-9][^ ]*" "$T/v" || fail "cowsim $a printed: $(cat "$T/v")"
	[ -s "$T/e" ] && fail "cowsim $a wrote to stderr"
done
"$COWSIM" replay --help | grep -q -- "-I, --input-format" || fail "replay --help does not list --input-format"
"$COWSIM" replay --help | grep -q -- "-D, --db" || fail "replay --help does not list -D"

# the shared letters work in replay as in compare: -D, -p, -f, -q, -I, -P
expect 0 "" -- "$COWSIM" replay "$SCN" -D "$T/d.db" -p linux-6.12 -f csv -q
grep -q "^trace,format,policy" "$T/out" || fail "replay -f csv"
"$COWSIM" compare -D "$T/d.db" -p linux-6.12 -f csv | grep -q linux-6.12 || fail "replay -D did not store in that database"
expect 2 "--baseline linux-6.21: no stored run of that policy on these traces; did you mean 'linux-6.12'?" -- "$COWSIM" compare -D "$T/d.db" -b linux-6.21
expect 0 "" -- "$COWSIM" replay "$T/s.txt" -I ftrace --no-db -q
expect 2 "no input format 'ftrce'; did you mean 'ftrace'?" -- "$COWSIM" replay "$T/s.txt" -I ftrce --no-db
expect 0 "exec" -- "$COWSIM" dump "$SCN" -n 3 -I scenario
sel=$("$COWSIM" import "$R/cowknown.dat" -o "$T/k.ev" 2>&1 | sed -n 's/.*selection: *pid \([0-9]*\) .*/\1/p')
[ -n "$sel" ] || fail "no pid in import's selection line"
expect 0 "selection: *pid $sel" -- "$COWSIM" import "$R/cowknown.dat" -P "$sel" -o "$T/k2.ev"
expect 0 "" -- "$COWSIM" import "$R/cowknown.dat" --pid "$sel" -o "$T/k2.ev"

# did you mean: presets, INI keys and sections (with file:line), scenario
# keywords (with file:line:col)
expect 2 "no policy preset named 'linux-6.21'; did you mean 'linux-6.12'?" -- "$COWSIM" replay "$SCN" -p linux-6.21 --no-db
expect 2 "no policy preset named 'linux-5.81'; did you mean 'linux-5.8' or 'linux-5.18'?" -- "$COWSIM" policies --show linux-5.81
printf '[policy]\nname = t\n[switches]\nlru_bach = 7\n' >"$T/typo.ini"
expect 2 "typo.ini:4: unknown key 'lru_bach' in \[switches\]; did you mean 'lru_batch'?" -- "$COWSIM" replay "$SCN" -c "$T/typo.ini" --no-db
printf '[policy]\nname = t\n[swithces]\nlru_batch = 7\n' >"$T/typo2.ini"
expect 2 "typo2.ini:4: unknown section \[swithces\]; did you mean 'switches'?" -- "$COWSIM" replay "$SCN" -c "$T/typo2.ini" --no-db
printf '[policy]\nnmae = t\n' >"$T/typo3.ini"
expect 2 "typo3.ini:2: unknown key 'nmae' in \[policy\]; did you mean 'name'?" -- "$COWSIM" replay "$SCN" -c "$T/typo3.ini" --no-db
printf '[cost]\nlru_batch = 7\n' >"$T/typo4.ini"
expect 2 "typo4.ini:2: 'lru_batch' belongs in \[switches\]" -- "$COWSIM" replay "$SCN" -c "$T/typo4.ini" --no-db
printf 'process P\nmmap P m 1\nwirte P m\n' >"$T/typo.scn"
expect 2 "typo.scn:3:1: unknown statement 'wirte'; did you mean 'write'?" -- "$COWSIM" check "$T/typo.scn"
printf 'procss P\n' >"$T/typo2.scn"
expect 2 "typo2.scn:1:1: unknown statement 'procss'; did you mean 'process'?" -- "$COWSIM" replay "$T/typo2.scn" --no-db
printf 'process P\nexpect linux-5.81 pass\n' >"$T/typo3.scn"
expect 2 "typo3.scn:2:8: no policy preset named 'linux-5.81'; did you mean 'linux-5.8' or 'linux-5.18'?" -- "$COWSIM" check "$T/typo3.scn"
# ... and replay refuses it too, at the same place (it was accepted)
expect 2 "typo3.scn:2:8: no policy preset named 'linux-5.81'" -- "$COWSIM" replay "$T/typo3.scn" --no-db
# the second name of a list is pointed at, not the first
printf 'process P\nexpect linux-5.8,linux-9.99 pass\n' >"$T/typo4.scn"
expect 2 "typo4.scn:2:18: no policy preset named 'linux-9.99'" -- "$COWSIM" check "$T/typo4.scn"
# messages name the file and line of what is wrong (issue 13, point 10)
printf '[cost]\nfork_base_ns = abc\n' >"$T/badcost.ini"
expect 2 "badcost.ini:2: 'fork_base_ns' must be" -- "$COWSIM" replay "$SCN" --no-db --cost "$T/badcost.ini"
expect 2 "--cost nosuch: no such file, and unknown cost preset 'nosuch'" -- "$COWSIM" replay "$SCN" --no-db --cost nosuch
printf '[policy]\nname = %0400d\nmodel = page-count\n' 0 >"$T/longline.ini"
expect 2 "longline.ini:2: line of 407 characters" -- "$COWSIM" replay "$SCN" --no-db -c "$T/longline.ini"
printf '[policy\nname = y\n' >"$T/unterm.ini"
expect 2 "unterm.ini:1: section header '\[policy' has no closing '\]'" -- "$COWSIM" replay "$SCN" --no-db -c "$T/unterm.ini"
printf '[policy]\nname = z\nmodel = page-count\n[switches]\nlru_batch = 5000\n' >"$T/lru.ini"
expect 2 "lru.ini:5: 'lru_batch' must be an integer from 1 to 1024, not '5000'" -- "$COWSIM" replay "$SCN" --no-db -c "$T/lru.ini"

# import's summary: text on stderr (none with -q), or JSON on stdout
expect 0 "" -- "$COWSIM" import "$R/cowknown.dat" -q -o "$T/k2.ev"
[ -s "$T/out" ] || [ -s "$T/err" ] && fail "import -q still printed: $(head -c 300 "$T/err")"
expect 0 "" -- "$COWSIM" import "$R/cowknown.dat" -f json -o "$T/k2.ev"
head -c 1 "$T/out" | grep -q '{' || fail "import -f json: not a JSON object"
for k in trace format output selection bytes seconds labels records events_out processes forks dropped_events skipped_by_kind trace_facts; do
	grep -q "\"$k\": " "$T/out" || fail "import's JSON summary lacks $k"
done
[ -s "$T/err" ] && fail "import -f json wrote to stderr: $(head -c 300 "$T/err")"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["events_out"] > 0' "$T/out" ||
		fail "import's JSON summary does not parse"
fi
expect 2 "--format must be text or json, not 'jsn'; did you mean 'json'?" -- "$COWSIM" import "$R/cowknown.dat" -f jsn -o "$T/i.ev"
expect 2 "disagree" -- "$COWSIM" import "$R/cowknown.dat" --format ftrace -I dat -o "$T/i.ev"

# - as stdout: import and synth write the same file to a pipe, after a
# complete write only, and never to a terminal
"$COWSIM" import "$R/cowknown.dat" -o - 2>"$T/err" | cat >"$T/pipe.ev" || fail "import -o -"
cmp -s "$T/k.ev" "$T/pipe.ev" || fail "import -o - differs from import -o FILE"
grep -q "events out:.* -> -" "$T/err" || fail "import -o - summary not on stderr"
[ -e "$T/-" ] && fail "import -o - wrote a file named -"
"$COWSIM" import "$R/cowknown.dat" -o - -f json 2>"$T/err" >"$T/pipe2.ev" || fail "import -o - -f json"
cmp -s "$T/k.ev" "$T/pipe2.ev" || fail "import -o - -f json mixed the summary into the events"
grep -q '"events_out": ' "$T/err" || fail "import -o - -f json: the JSON summary is not on stderr"
"$COWSIM" synth -n 20000 -s 3 -o - | cat >"$T/s2.ev" || fail "synth -o -"
cmp -s "$T/s.ev" "$T/s2.ev" || fail "synth -o - differs from synth -o FILE"
expect 0 "linux-6.12" -- "$COWSIM" replay "$T/s2.ev" -q --no-db
script -qec "'$COWSIM' synth -n 100 -o -" /dev/null >"$T/tty" 2>&1
[ $? = 2 ] || fail "synth -o - to a terminal did not exit 2"
grep -q "refusing to write binary to a terminal" "$T/tty" || fail "synth -o - to a terminal: $(head -c 300 "$T/tty")"
script -qec "'$COWSIM' import '$R/cowknown.dat' -o -" /dev/null >"$T/tty" 2>&1
grep -q "refusing to write binary to a terminal" "$T/tty" || fail "import -o - to a terminal: $(head -c 300 "$T/tty")"

# compressed input and stdin: every format under gzip, xz and zstd, and
# through a pipe, gives the events of the plain file; truncated: status 2,
# the file and the byte named
if command -v gzip >/dev/null && command -v xz >/dev/null && command -v zstd >/dev/null; then
	zstdcat "$R/cowknown.ftrace.txt.zst" >"$T/c.ftrace"
	zstdcat "$R/cowknown.perf.txt.zst" >"$T/c.perf"
	cp "$R/cowknown.dat" "$T/c.dat"
	"$COWSIM" import -q "$R/cowknown.dat" -o "$T/c.cows" 2>/dev/null || fail "import for the event file"
	cp "$SRC/traces/scenarios/cow-01-basic.scn" "$T/c.scn"
	# replay's csv less the trace's name and the timings
	results() { "$COWSIM" replay --no-db -q -f csv -p linux-6.12 "$@" | awk -F, -v OFS=, '{ NF -= 2; $1 = ""; print }'; }
	for f in c.ftrace c.perf c.dat c.cows c.scn; do
		"$COWSIM" dump "$T/$f" >"$T/$f.want" 2>"$T/err" || fail "dump $f: $(cat "$T/err")"
		results "$T/$f" >"$T/$f.rwant" || fail "replay $f"
		cat "$T/$f" | "$COWSIM" dump - >"$T/got" 2>"$T/err" || fail "dump - <$f: $(cat "$T/err")"
		cmp -s "$T/$f.want" "$T/got" || fail "dump - of $f differs from dump $f"
		for z in gz xz zst; do
			case $z in
			gz) gzip -c "$T/$f" >"$T/$f.$z" ;;
			xz) xz -c "$T/$f" >"$T/$f.$z" ;;
			zst) zstd -q -c "$T/$f" >"$T/$f.$z" ;;
			esac
			"$COWSIM" dump "$T/$f.$z" >"$T/got" 2>"$T/err" || fail "dump $f.$z: $(cat "$T/err")"
			cmp -s "$T/$f.want" "$T/got" || fail "dump $f.$z differs from dump $f"
			cat "$T/$f.$z" | "$COWSIM" dump - >"$T/got" 2>"$T/err" || fail "dump - <$f.$z: $(cat "$T/err")"
			cmp -s "$T/$f.want" "$T/got" || fail "dump - <$f.$z differs from dump $f"
			results "$T/$f.$z" >"$T/got" || fail "replay $f.$z"
			cmp -s "$T/$f.rwant" "$T/got" || fail "replay --no-db $f.$z differs from $f"
			if [ "$f" != c.scn ]; then
				head -c $(($(wc -c <"$T/$f.$z") / 2)) "$T/$f.$z" >"$T/trunc-$f.$z"
				expect 2 "trunc-$f.$z: byte [0-9]*: truncated" -- "$COWSIM" dump "$T/trunc-$f.$z"
				expect 2 "<stdin>: byte [0-9]*: truncated" -- sh -c "\"$COWSIM\" dump - <\"$T/trunc-$f.$z\""
			fi
		done
	done
	cat "$T/c.ftrace.gz" "$T/c.ftrace.gz" >"$T/twice.gz"
	"$COWSIM" dump "$T/twice.gz" >"$T/got" 2>/dev/null
	[ "$(wc -l <"$T/got")" -gt "$(wc -l <"$T/c.ftrace.want")" ] || fail "a second gzip member was not read"
	printf '\037\213garbage' >"$T/bad.gz"
	expect 2 "bad.gz: byte [0-9]*: corrupt gzip" -- "$COWSIM" dump "$T/bad.gz"
	expect 0 "observed labels" -- sh -c "cat \"$R/cowknown.dat\" | \"$COWSIM\" import - -o \"$T/stdin.cows\""
	expect 0 "" -- "$COWSIM" replay --no-db -q - <"$T/c.ftrace.xz"
elif [ -n "${CI:-}" ]; then
	fail "gzip, xz and zstd are needed (.ci/deps)"
else
	echo "cli: no gzip/xz/zstd here: compressed input not tested"
fi

# progress: with COWSIM_PROGRESS=all every tick draws a line; percentages
# start low (the first block of a trace is not half of it), rise, and reach
# 100% only on the last line.  Never on a file without it,
# nor with --quiet.
progress_ok() {
	tr '\r' '\n' <"$1" | sed -n 's/^[^ ]*: *\([0-9.]*\)% .*/\1/p' >"$T/pct"
	[ "$(wc -l <"$T/pct")" -ge 3 ] &&
	awk '{ if (hit || $1 + 0 < prev || (NR == 1 && $1 + 0 >= 50)) bad = 1
	       if ($1 + 0 >= 100) hit = 1; prev = $1 + 0 }
	     END { exit bad || prev != 100 }' "$T/pct"
}
# (a plain text file is mapped: it once said 100% on its first line)
zstdcat "$R/redis-bgsave.ftrace.txt.zst" >"$T/redis.txt"
for f in "$T/redis.txt" "$R/redis-bgsave.ftrace.txt.zst" "$R/redis-bgsave.dat"; do
	COWSIM_PROGRESS=all "$COWSIM" replay --no-db -p linux-6.12 "$f" >/dev/null 2>"$T/err"
	progress_ok "$T/err" || fail "replay $f: no rising progress: $(tr '\r' '\n' <"$T/err" | head -5)"
	COWSIM_PROGRESS=all "$COWSIM" replay --no-db -q -p linux-6.12 "$f" >/dev/null 2>"$T/err"
	grep -q "%" "$T/err" && fail "replay --quiet drew progress"
	"$COWSIM" replay --no-db -p linux-6.12 "$f" >/dev/null 2>"$T/err"
	grep -q "%" "$T/err" && fail "replay drew progress on a file"
done
COWSIM_PROGRESS=all "$COWSIM" import "$R/build.dat" -o "$T/b.ev" >"$T/out" 2>"$T/err"
progress_ok "$T/err" || fail "import: no rising progress"
[ -s "$T/out" ] && fail "import wrote to stdout"
grep -q "observed labels" "$T/err" || fail "import's summary is not on stderr"
COWSIM_PROGRESS=all "$COWSIM" import -q "$R/build.dat" -o "$T/b.ev" 2>"$T/err"
grep -q "%" "$T/err" && fail "import --quiet drew progress"
COWSIM_PROGRESS=all "$COWSIM" synth --events 20000 -o "$T/syn.ev" 2>"$T/err"
progress_ok "$T/err" || fail "synth: no rising progress"
COWSIM_PROGRESS=all "$COWSIM" synth --events 20000 -q -o "$T/syn.ev" 2>"$T/err"
[ -s "$T/err" ] && fail "synth --quiet drew progress"
COWSIM_PROGRESS=1 "$COWSIM" replay --no-db -p linux-6.12 "$R/cowknown.dat" >/dev/null 2>"$T/err"
grep -q "100.0% 1899 events" "$T/err" || fail "COWSIM_PROGRESS=1 did not force the line on: $(cat "$T/err")"

# trace.dat files on which libtracecmd itself crashes (found by fuzzing;
# kept as patches of a bundled trace): status 2 and a message, never a crash
mkdir "$T/dc"
python3 "$SRC/tests/patchfile.py" "$R/cowknown.dat" "$SRC/tests/data/dat-crashes.txt" "$T/dc" ||
	fail "patchfile.py"
n=0
for f in "$T"/dc/*.dat; do
	n=$((n + 1))
	expect 2 "$(basename "$f"): .*libtracecmd" -- "$COWSIM" import -q "$f" -o "$T/dc.ev"
	expect 2 "" -- "$COWSIM" replay "$f" --no-db -q
done
[ $n -ge 10 ] || fail "only $n libtracecmd crash cases"
[ -e "$T/dc.ev" ] && fail "a crashing trace.dat left an event file"

# a replay that cannot fit in its memory limit says so and exits 2 (an
# ASan build reserves terabytes of address space, so ulimit -v cannot be
# used on one: there the sanitizers test covers memory errors instead)
if ! ldd "$COWSIM" 2>/dev/null | grep -q libasan; then
	"$COWSIM" synth -n 1000000 -s 5 -a 8 -A 200000 -o "$T/mem.ev" -q || fail "synth for the memory limit"
	( ulimit -v 200000; exec "$COWSIM" replay "$T/mem.ev" --no-db -q ) >"$T/out" 2>"$T/err"
	[ $? = 2 ] || fail "a replay over ulimit -v did not exit 2: $(head -c 300 "$T/err")"
	grep -q "mem.ev: out of memory replaying under" "$T/err" ||
		fail "a replay over ulimit -v: $(head -c 300 "$T/err")"
	[ -s "$T/out" ] && fail "a replay out of memory printed half a result"
	rm -f "$T/mem.ev"
fi

# hard limits on what a hostile input makes the engine hold: areas per
# address space (1,048,576; Linux's default vm.max_map_count is 65,530)
printf 'process P\nrepeat 530000\nmmap P a 1 prot=r\nmmap P b 1 prot=rw\nend\n' >"$T/vmas.scn"
expect 2 "vmas.scn: event 1048575: more than 1048576 mappings in one address space" -- \
	"$COWSIM" replay "$T/vmas.scn" --no-db -q -p linux-6.12
[ -s "$T/out" ] && fail "a replay past the mappings limit printed a result"

# --config - and --cost - read stdin, and their errors say so
printf '[policy]\nname = mine\nmodel = page-count\n' >"$T/mine.ini"
"$COWSIM" replay "$SCN" --no-db -q -c - <"$T/mine.ini" >"$T/out" 2>"$T/err" || fail "-c -: $(cat "$T/err")"
grep -q "mine" "$T/out" || fail "-c - did not add the policy from stdin"
printf '[cost]\nfork_base_ns = x\n' >"$T/c.ini"
"$COWSIM" replay "$SCN" --no-db -q -p linux-6.12 --cost - <"$T/c.ini" >"$T/out" 2>"$T/err"
[ $? = 2 ] && grep -q "<stdin>:2: 'fork_base_ns'" "$T/err" || fail "--cost - error: $(cat "$T/err")"

# check reads scenarios as replay does: compressed, or on stdin
gzip -c "$SRC/traces/scenarios/cow-01-basic.scn" >"$T/chk.scn.gz"
expect 0 "1 scenario, 6 checks, 0 failed" -- "$COWSIM" check "$T/chk.scn.gz"
"$COWSIM" check - <"$SRC/traces/scenarios/cow-01-basic.scn" >"$T/out" 2>&1 ||
	fail "check - (stdin): $(head -c 300 "$T/out")"
grep -q "1 scenario, 6 checks, 0 failed" "$T/out" || fail "check - (stdin) did not check"

# --fork-mode: each policy under each design, named POLICY+MODE; the stored
# configuration says the design; a bad design is one error naming it
"$COWSIM" replay "$SCN" --no-db -q -p linux-6.12 --fork-mode all -f csv >"$T/fm.csv" 2>"$T/err" ||
	fail "replay --fork-mode all: $(head -c 300 "$T/err")"
for n in linux-6.12 linux-6.12+on-demand linux-6.12+async; do
	grep -q ",$n," "$T/fm.csv" || fail "replay --fork-mode all: no run $n"
done
[ "$(wc -l <"$T/fm.csv")" = 4 ] || fail "replay --fork-mode all: not 3 runs"
expect 2 "--fork-mode: 'fork_mode' has no value 'lazy'" -- "$COWSIM" replay "$SCN" --no-db -p linux-6.12 --fork-mode copy,lazy
expect 2 "'fork_mode' has no value 'eager'" -- "$COWSIM" check --fork-mode eager "$SCN"
"$COWSIM" replay "$SCN" -q -D "$T/fm.db" -p linux-6.12 --fork-mode on-demand >/dev/null 2>"$T/err" ||
	fail "replay --fork-mode on-demand into a store: $(head -c 300 "$T/err")"
"$COWSIM" compare -D "$T/fm.db" -f csv >"$T/out" 2>&1 && grep -q "linux-6.12+on-demand" "$T/out" ||
	fail "the stored run is not named linux-6.12+on-demand: $(head -c 300 "$T/out")"
# a scenario's fork-mode statement: the design its expectations are about
printf 'fork-mode lazy
' >"$T/fm.scn"
expect 2 "fm.scn:1:11: expected copy, on-demand or async" -- "$COWSIM" check "$T/fm.scn"
printf 'fork-mode async
process P
mmap P m 1
write P m
fork P C
expect linux-6.12 fm_pt_deferred=1
' >"$T/fm2.scn"
expect 0 "1 scenario, 1 check, 0 failed" -- "$COWSIM" check "$T/fm2.scn"
expect 1 "linux-6.12: fm_pt_deferred=1 (is 0): FAILED" -- "$COWSIM" check --fork-mode copy "$T/fm2.scn"
# calibrate: fits the bundled cowknown trace's forks, writes an INI that
# replay loads with --cost, and on a bad trace exits 2 leaving no INI
CK="$SRC/traces/real/cowknown.dat"
expect 0 "fork_per_pte_ns" -- "$COWSIM" calibrate "$CK" -q --bootstrap 20 -o "$T/fit.ini"
grep -q '^\[cost\]' "$T/fit.ini" && grep -q "cowknown.dat (6 forks)" "$T/fit.ini" ||
	fail "calibrate -o: the INI lacks [cost] or what it was fitted on"
"$COWSIM" replay "$CK" --no-db -q -p linux-6.12 -f json >"$T/def.json" 2>"$T/err" || fail "replay: $(cat "$T/err")"
"$COWSIM" replay "$CK" --no-db -q -p linux-6.12 -f json --cost "$T/fit.ini" >"$T/fit.json" 2>"$T/err" ||
	fail "replay --cost FITTED.ini: $(cat "$T/err")"
cmp -s "$T/def.json" "$T/fit.json" && fail "the fitted cost changed no modeled latency"
expect 0 '"parameters"' -- "$COWSIM" calibrate "$CK" -q --bootstrap 0 -f json
expect 0 "fork_base_ns" -- "$COWSIM" calibrate "$CK" -q --bootstrap 0 -o -
echo keep >"$T/kept.ini"
expect 2 "trunc.ev" -- "$COWSIM" calibrate "$CK" "$T/trunc.ev" -q -o "$T/kept.ini"
[ "$(cat "$T/kept.ini")" = keep ] || fail "a failed calibrate touched its -o file"
expect 2 "trunc.ev" -- "$COWSIM" calibrate "$CK" -q --hold-out "$T/trunc.ev" -o "$T/none.ini"
[ -e "$T/none.ini" ] && fail "a failed calibrate wrote its -o file"
ls "$T" | grep -q '\.tmp' && fail "a failed calibrate left a temporary file"
expect 2 "no copying fork with a kernel-observed latency" -- "$COWSIM" calibrate "$SCN" -q
expect 2 "'fork_per_nothing_ns' is not a fork cost term" -- "$COWSIM" calibrate "$CK" --fit fork_per_nothing_ns
expect 2 "one preset" -- "$COWSIM" calibrate "$CK" -p all
expect 2 "bootstrap" -- "$COWSIM" calibrate "$CK" --bootstrap lots
# forksweep varies the areas with and without PTEs, not the file areas:
# the first is priced, the second reported as not identified
FS="$SRC/traces/real/forksweep.dat.zst"
"$COWSIM" calibrate "$FS" -q --bootstrap 0 -f json >"$T/fs.json" 2>"$T/err" || fail "calibrate forksweep: $(cat "$T/err")"
grep -q '"name": "fork_per_copied_vma_ns", "fitted": true' "$T/fs.json" ||
	fail "forksweep does not price areas with PTEs apart"
grep -q '"name": "fork_per_file_vma_ns", "fitted": false' "$T/fs.json" ||
	fail "forksweep's file areas do not vary, yet their price was fitted"
expect 0 "held out" -- "$COWSIM" calibrate "$FS" -q --bootstrap 0 --hold-out "$SRC/traces/real/forksweep-holdout.dat.zst"
expect 0 "a perf capture" -- "$COWSIM" calibrate "$SRC/traces/real/cowknown.perf.txt.zst" --bootstrap 0

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "cli: all good"
