#!/bin/sh
# The results store from the command line: replay writes it (default file,
# --db, --no-db, --faults, re-runs skipped or --replace'd), traces get
# unique names (--name), runs their era order, config rows, units and
# provenance, threads their table, JSON stays valid for any path; bad databases
# are refused with status 2 and left untouched, a replay killed for real
# (SIGKILL while it writes) leaves the database as it was, two replays
# writing one database at once both land, compare prints every format, and
# report writes a complete folder (or nothing).
# usage: store.sh COWSIM SOURCE_DIR MKTRACE SQLQ FULLFS
set -u
COWSIM=$1
SRC=$2
MKTRACE=$3
SQLQ=$4
FULLFS=$5
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

q() { "$SQLQ" "$@"; }

# The state of a database, as numbers that would change if anything of a
# run had been written.
state() {
	q "$1" "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM runs),
	        (SELECT count(*) FROM processes), (SELECT count(*) FROM forks),
	        (SELECT count(*) FROM faults), (SELECT count(*) FROM fault_decisions),
	        (SELECT count(*) FROM samples), (SELECT count(*) FROM markers),
	        (SELECT count(*) FROM threads)"
}

SCN=$SRC/traces/scenarios/eng-observed.scn
NOFORK=$SRC/traces/scenarios/eng-zero-page.scn

# ---- replay writes the store -------------------------------------------
expect 0 "3 runs stored in cowsim.db" -- "$COWSIM" replay "$SCN" \
	--policy linux-5.7,linux-5.9,linux-6.12
[ -f cowsim.db ] || fail "replay did not write ./cowsim.db"
[ "$(q cowsim.db 'SELECT count(*) FROM runs')" = 3 ] || fail "3 runs not stored"
[ "$(q cowsim.db 'PRAGMA journal_mode')" = wal ] || fail "not in WAL mode"
expect 0 "already in cowsim.db" -- "$COWSIM" replay "$SCN" --policy linux-5.9
grep -q "leaks" "$T/out" || fail "a skipped store should still print the replay"
[ "$(q cowsim.db 'SELECT count(*) FROM runs')" = 3 ] || fail "re-run stored twice"
old=$(q cowsim.db "SELECT id FROM runs WHERE policy = 'linux-5.9'")
expect 0 "replacing" -- "$COWSIM" replay "$SCN" --policy linux-5.9 --replace
new=$(q cowsim.db "SELECT id FROM runs WHERE policy = 'linux-5.9'")
[ "$old" != "$new" ] || fail "--replace kept the old run"
[ "$(q cowsim.db 'SELECT count(*) FROM runs')" = 3 ] || fail "--replace duplicated"
expect 0 "" -- "$COWSIM" replay "$SCN" --no-db --policy linux-5.8 -q
[ "$(q cowsim.db "SELECT count(*) FROM runs WHERE policy = 'linux-5.8'")" = 0 ] ||
	fail "--no-db stored"
expect 2 "drop --no-db" -- "$COWSIM" replay "$SCN" --no-db --faults
# quiet means quiet
expect 0 "" -- "$COWSIM" replay "$NOFORK" -q
[ -s "$T/err" ] && fail "replay -q wrote to stderr: $(cat "$T/err")"

# --faults: one row per write fault, each policy's decision beside it
"$MKTRACE" kv.ev 16 || fail "mktrace"
expect 0 "" -- "$COWSIM" replay kv.ev --db kv.db --faults -q
wf=$(q kv.db 'SELECT write_faults FROM traces')
[ "$(q kv.db 'SELECT count(*) FROM faults')" = "$wf" ] || fail "faults rows != write faults"
[ "$(q kv.db 'SELECT count(*) FROM fault_decisions')" = "$((wf * 6))" ] ||
	fail "not one decision per fault and policy"
[ "$(q kv.db 'SELECT count(DISTINCT upid) FROM faults')" -gt 5 ] ||
	fail "faults not attributed to processes"
[ "$(q kv.db 'SELECT count(*) FROM forks WHERE observed_dur IS NULL')" = 0 ] ||
	fail "observed fork latency lost"
[ "$(q kv.db "SELECT count(*) FROM markers WHERE text LIKE 'cowsim: phase %'")" = 2 ] ||
	fail "markers not stored"

# ---- names, era order, threads, run_config, units, provenance -----------
# Two different files both called trace.dat: unique names, the first
# keeping the short one, each stable when more come.
mkdir -p redis pg x/pg
cp "$SRC/traces/real/redis-bgsave.dat" redis/trace.dat
cp "$SRC/traces/real/build.dat" pg/trace.dat
cp "$SRC/traces/real/py-multiprocessing.dat" x/pg/trace.dat
expect 0 "" -- "$COWSIM" replay redis/trace.dat pg/trace.dat --db n.db -q \
	--policy linux-6.12,linux-5.18,piggin-2009,linux-5.7,linux-5.9
expect 0 "" -- "$COWSIM" replay x/pg/trace.dat --db n.db -q --policy linux-6.12
[ "$(q n.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM traces ORDER BY id)")" = \
  "trace.dat pg/trace.dat x/pg/trace.dat" ] ||
	fail "trace names: $(q n.db 'SELECT group_concat(name) FROM traces')"
expect 0 "" -- "$COWSIM" compare --db n.db --format csv
grep -q "#" "$T/out" && fail "compare labels traces with #"
[ "$(cut -d, -f1 "$T/out" | sort -u | wc -l)" = 4 ] || fail "compare: not 3 traces by name"
# --name: one per trace; taken names refused before the replay; renames
expect 2 "one per trace" -- "$COWSIM" replay redis/trace.dat pg/trace.dat --db n.db --name a
expect 2 "already has a trace of that name" -- "$COWSIM" replay redis/trace.dat \
	--db n.db --name pg/trace.dat
expect 0 "" -- "$COWSIM" replay redis/trace.dat --db n.db -q --name "redis bgsave" \
	--policy linux-5.8
[ "$(q n.db "SELECT name FROM traces WHERE id = 1")" = "redis bgsave" ] ||
	fail "--name did not rename a stored trace"
expect 0 "" -- "$COWSIM" replay "$NOFORK" --db n.db -q --name "zero page" --policy linux-6.12
[ "$(q n.db "SELECT count(*) FROM traces WHERE name = 'zero page'")" = 1 ] ||
	fail "--name not stored"
[ "$(q n.db 'SELECT count(DISTINCT name) = count(*) FROM traces')" = 1 ] || fail "names not unique"
# presets in era order, proposals after: views and compare
[ "$(q n.db "SELECT group_concat(policy, ' ') FROM (SELECT policy FROM side_by_side WHERE trace_id = 2)")" = \
  "linux-5.7 linux-5.9 linux-5.18 linux-6.12 piggin-2009" ] || fail "side_by_side not in era order"
expect 0 "" -- "$COWSIM" compare --db n.db --format csv --trace pg/trace.dat
[ "$(tail -n +2 "$T/out" | cut -d, -f5 | tr '\n' ' ')" = \
  "linux-5.7 linux-5.9 linux-5.18 linux-6.12 piggin-2009 " ] ||
	fail "compare not in era order: $(tail -n +2 "$T/out" | cut -d, -f5 | tr '\n' ' ')"
# threads: every task the engine followed, forks' children with their creator
[ "$(q n.db 'SELECT count(*) FROM threads WHERE trace_id = 2 AND upid IS NOT NULL')" = \
  "$(q n.db 'SELECT threads FROM traces WHERE id = 2')" ] || fail "threads rows != traces.threads"
[ "$(q n.db 'SELECT count(DISTINCT upid) FROM threads WHERE trace_id = 2')" = \
  "$(q n.db 'SELECT processes FROM traces WHERE id = 2')" ] || fail "a process without a thread"
[ "$(q n.db 'SELECT forks FROM traces WHERE id = 2')" -gt 2 ] || fail "build.dat has no forks?"
[ "$(q n.db "SELECT count(*) FROM forks f JOIN runs r ON r.id = f.run_id
             WHERE r.trace_id = 2 AND r.policy = 'linux-6.12' AND NOT EXISTS (
               SELECT 1 FROM threads t JOIN threads p ON p.utid = t.parent_utid
               WHERE t.trace_id = 2 AND t.tid = f.child_tid AND t.start_ts = f.ts
                 AND p.tid = f.parent_tid)")" = 0 ] || fail "a fork's child thread or its creator missing"
[ "$(q n.db 'SELECT count(*) FROM threads WHERE trace_id = 2 AND comm IS NULL')" = 0 ] ||
	fail "threads without a name"
# run_config: one row per key of the config text
[ "$(q n.db "SELECT c.value FROM run_config c JOIN runs r ON r.id = c.run_id
             WHERE r.trace_id = 2 AND r.policy = 'linux-6.12' AND c.key = 'lru_batch'")" = 31 ] ||
	fail "run_config lru_batch"
[ "$(q n.db "SELECT count(*) FROM run_config c JOIN runs r ON r.id = c.run_id
             WHERE r.trace_id = 2 AND r.policy = 'linux-6.12'")" = \
  "$("$COWSIM" policies --show linux-6.12 | grep -c ' = ')" ] || fail "run_config rows != config keys"
# units
[ "$(q n.db "SELECT count(*) FROM metric_docs WHERE coalesce(unit, '') = ''")" = 0 ] ||
	fail "a metric without a unit"
[ "$(q n.db "SELECT unit FROM metric_docs WHERE name = 'copies_fault'")" = pages ] || fail "unit of copies"
[ "$(q n.db "SELECT unit FROM metric_docs WHERE name = 'fork_latency_ns_p99'")" = ns ] || fail "unit of ns"
# provenance: every run says how, where and with what it was made
[ "$(q n.db "SELECT count(*) FROM runs WHERE command_line IS NULL OR cowsim_version IS NULL
             OR host_kernel_release IS NULL OR host_kernel_version IS NULL
             OR cost_preset IS NULL OR policy_order IS NULL")" = 0 ] || fail "provenance missing"
[ "$(q n.db "SELECT DISTINCT host_kernel_release FROM runs")" = "$(uname -r)" ] || fail "host kernel"
[ "$(q n.db "SELECT capture_kernel IS NOT NULL FROM traces WHERE id = 2")" = 1 ] ||
	fail "the trace's own kernel not kept"
q n.db "SELECT command_line FROM runs WHERE policy = 'linux-5.8'" |
	grep -qF -- "--name 'redis bgsave'" || fail "command line not shell-quoted"
pid=$(q n.db "SELECT pid FROM processes WHERE trace_id = 2 AND parent_upid IS NOT NULL LIMIT 1")
expect 0 "" -- "$COWSIM" replay pg/trace.dat --db sel.db -q --policy linux-6.12 --pid "$pid" --cost vm
[ "$(q sel.db "SELECT selection || ' ' || cost_preset FROM runs")" = "--pid $pid vm" ] ||
	fail "selection or cost preset: $(q sel.db 'SELECT selection, cost_preset FROM runs')"
# JSON stays valid for a trace whose path is not UTF-8
bad=$(printf 'bad\377\376.scn')
cp "$SCN" "$bad"
expect 0 "" -- "$COWSIM" replay "$bad" --db u.db -q --format json --policy linux-6.12
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "replay json of a non-UTF-8 path"
expect 0 "" -- "$COWSIM" compare --db u.db --format json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "compare json of a non-UTF-8 name"

# ---- bad databases: status 2, named, untouched --------------------------
head -c 8192 /dev/urandom >noise.db
cp noise.db noise.copy
expect 2 "noise.db: not an SQLite database" -- "$COWSIM" replay "$SCN" --db noise.db
cmp -s noise.db noise.copy || fail "a non-SQLite --db was modified"
expect 2 "noise.db: not an SQLite database" -- "$COWSIM" compare --db noise.db
expect 2 "noise.db: not an SQLite database" -- "$COWSIM" report --db noise.db -o r0
[ -e r0 ] && fail "report created its folder for a bad database"
cp kv.db newer.db
q newer.db 'PRAGMA user_version = 99' || fail "sqlq"
cp newer.db newer.copy
expect 2 "newer cowsim" -- "$COWSIM" replay "$SCN" --db newer.db
expect 2 "newer cowsim" -- "$COWSIM" compare --db newer.db
cmp -s newer.db newer.copy || fail "a newer database was modified"
expect 2 "no/such/dir/x.db" -- "$COWSIM" replay "$SCN" --db no/such/dir/x.db
expect 2 "no such database" -- "$COWSIM" compare --db none.db
[ -e none.db ] && fail "compare created a database"
# another program's SQLite file is refused untouched, whatever its
# user_version says: cowsim's databases are known by their application_id
for uv in 1 2 3 99; do
	rm -f other.db && : >other.db
	q other.db "CREATE TABLE t(x); PRAGMA user_version = $uv" || fail "sqlq"
	cp other.db other.copy
	expect 2 "other.db: an SQLite database, but not one cowsim wrote" -- \
		"$COWSIM" replay "$SCN" --db other.db
	grep -q "newer cowsim" "$T/err" && fail "another program's database called a newer cowsim's"
	cmp -s other.db other.copy || fail "another program's database (user_version $uv) was modified"
	[ -e other.db-wal ] && fail "another program's database was switched to WAL"
done

# a database this user cannot write fails before any trace is read (the
# trace below does not exist: were the database checked at the end, that
# would be the error).  Root writes anywhere, so this runs as nobody.
mkdir ro rof && cp kv.db ro/kv.db && cp kv.db rof/kv.db
chmod 555 ro && chmod 777 rof && chmod 444 rof/kv.db && chmod 755 "$T"
AS_USER=
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null 2>&1; then
		AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
	elif [ -n "${CI:-}" ]; then
		fail "cannot run the read-only database checks unprivileged (no setpriv)"
	fi
fi
if [ "$(id -u)" != 0 ] || [ -n "$AS_USER" ]; then
	expect 2 "ro/kv.db: cannot store runs here: its folder ro is not writable" -- \
		$AS_USER "$COWSIM" replay no-such-trace.scn --db ro/kv.db
	expect 2 "rof/kv.db: cannot store runs: the database is read-only" -- \
		$AS_USER "$COWSIM" replay no-such-trace.scn --db rof/kv.db
	# reading one is fine
	expect 0 "" -- $AS_USER "$COWSIM" compare --db rof/kv.db
fi
chmod 755 ro

# ---- a replay killed while it writes leaves the database as it was ------
"$COWSIM" synth --events 1000000 --seed 5 -o big.ev || fail "synth"
expect 0 "" -- "$COWSIM" replay "$SCN" --db k.db -q
before=$(state k.db)
caught=0
for attempt in 1 2 3 4 5; do
	"$COWSIM" replay big.ev --db k.db --faults -q >/dev/null 2>&1 &
	pid=$!
	# The runs are written only after the replay; the WAL growing past a
	# few MB means the transaction is being written: kill it there.
	while kill -0 $pid 2>/dev/null; do
		s=$(stat -c %s k.db-wal 2>/dev/null || echo 0)
		if [ "$s" -gt 4000000 ]; then
			kill -9 $pid
			break
		fi
		sleep 0.05
	done
	wait $pid
	st=$?
	# Killed before its commit: the database must be as it was.  Killed
	# after it (on a loaded machine the commit can slip in between the
	# poll and the kill: the checkpoint after it still shows a big WAL),
	# or not killed at all: the whole run must be there; undo, try again.
	if [ $st = 137 ] && [ "$(state k.db)" = "$before" ]; then
		caught=1
		break
	fi
	[ "$(q k.db "SELECT count(*) FROM traces WHERE name = 'big.ev'")" = 1 ] ||
		fail "a replay (status $st) left a partial run: $(state k.db)"
	q k.db "DELETE FROM fault_decisions; DELETE FROM faults;
	        DELETE FROM forks; DELETE FROM samples; DELETE FROM markers;
	        DELETE FROM processes WHERE trace_id > 1;
	        DELETE FROM threads WHERE trace_id > 1;
	        DELETE FROM runs WHERE trace_id > 1;
	        DELETE FROM traces WHERE id > 1" || true
done
[ $caught = 1 ] || fail "could not kill a replay while it wrote (status $st)"
after=$(state k.db)
[ "$before" = "$after" ] || fail "killed replay changed the database: $before -> $after"
[ "$(q k.db 'PRAGMA integrity_check')" = ok ] || fail "integrity after kill"
[ "$(q k.db "SELECT count(*) FROM traces WHERE name = 'big.ev'")" = 0 ] ||
	fail "killed replay left its trace"
# and the database is still good to write
expect 0 "" -- "$COWSIM" replay "$NOFORK" --db k.db -q --policy linux-6.12
[ "$(q k.db 'SELECT count(*) FROM runs')" = 7 ] || fail "write after kill"

# ---- four writers creating one new database at once all land -----------
# (the header was read in three statements: one could see another's half-
# made database and call it foreign; 4 of 760 such races failed)
i=0
while [ $i -lt 60 ]; do
	rm -f new.db new.db-wal new.db-shm
	k=0
	for f in cow-01-basic cow-02-basic-mprotect cow-03-vmsplice-unmap-child \
		cow-04-vmsplice-unmap-child-mprotect; do
		k=$((k + 1))
		"$COWSIM" replay "$SRC/traces/scenarios/$f.scn" --db new.db \
			--faults -q --policy linux-6.12 >/dev/null 2>"w$k.err" &
	done
	for k in 1 2 3 4; do
		wait %$k 2>/dev/null
	done
	wait
	cat w1.err w2.err w3.err w4.err >w.err
	[ -s w.err ] && fail "four new-database writers, round $i: $(head -c 300 w.err)"
	n=$(q new.db 'SELECT count(*) FROM traces')
	[ "$n" = 4 ] || fail "four new-database writers, round $i: $n traces stored"
	i=$((i + 1))
done

# ---- a full disk: a clear message, nothing stored, nothing left behind --
# (tests/fullfs.c fails writes under a folder with ENOSPC past a byte count;
# ASan builds must be told the shim may load before their runtime)
mkdir full
FULLFS_DIR=$T/full FULLFS_BYTES=0 LD_PRELOAD=$FULLFS \
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	"$COWSIM" replay "$SCN" --db full/new.db -q >full.out 2>full.err
[ $? = 2 ] || fail "a new database on a full disk: not status 2: $(cat full.err)"
grep -q "full/new.db: the disk is full" full.err || fail "full disk not said: $(cat full.err)"
[ -z "$(ls full)" ] || fail "a new database on a full disk left files: $(ls full)"
cp kv.db full/kv.db
before=$(state full/kv.db)
FULLFS_DIR=$T/full FULLFS_BYTES=200000 LD_PRELOAD=$FULLFS \
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	"$COWSIM" replay "$SRC/traces/real/cowknown.dat" --db full/kv.db --faults -q \
	>full.out 2>full.err
[ $? = 2 ] || fail "a replay onto a full disk: not status 2: $(cat full.err)"
grep -q "the disk is full" full.err || fail "full disk during the write not said: $(cat full.err)"
[ "$(state full/kv.db)" = "$before" ] || fail "a replay onto a full disk changed the database"
q full/kv.db 'PRAGMA integrity_check' | grep -qx ok || fail "full disk: integrity"

# ---- two writers at once both land --------------------------------------
"$COWSIM" synth --events 300000 --seed 11 -o a.ev || fail "synth a"
"$COWSIM" synth --events 300000 --seed 12 -o b.ev || fail "synth b"
"$COWSIM" replay a.ev --db c.db --faults -q >a.out 2>a.err &
pa=$!
"$COWSIM" replay b.ev --db c.db --faults -q >b.out 2>b.err &
pb=$!
# and the same trace and config twice at once: stored once, no error
"$COWSIM" replay "$SCN" --db c.db -q >s1.out 2>s1.err &
ps1=$!
"$COWSIM" replay "$SCN" --db c.db -q >s2.out 2>s2.err &
ps2=$!
wait $pa; sa=$?
wait $pb; sb=$?
wait $ps1; s1=$?
wait $ps2; s2=$?
[ $sa = 0 ] || fail "concurrent writer a: $sa $(cat a.err)"
[ $sb = 0 ] || fail "concurrent writer b: $sb $(cat b.err)"
[ $s1 = 0 ] && [ $s2 = 0 ] || fail "concurrent same-run writers: $s1 $s2 $(cat s1.err s2.err)"
[ "$(q c.db 'SELECT count(*) FROM traces')" = 3 ] || fail "concurrent: traces"
[ "$(q c.db 'SELECT count(*) FROM runs')" = 18 ] || fail "concurrent: runs $(q c.db 'SELECT count(*) FROM runs')"
[ "$(q c.db 'SELECT count(*) FROM fault_decisions')" = \
  "$(q c.db 'SELECT 6 * sum(write_faults) FROM traces WHERE faults_stored')" ] ||
	fail "concurrent: fault decisions incomplete"

# ---- compare --------------------------------------------------------------
expect 0 "linux-6.12" -- "$COWSIM" compare --db kv.db
grep -q "^copies " "$T/out" || fail "compare table lacks the copies row"
expect 0 "each policy against linux-5.7 (\*)" -- "$COWSIM" compare --db kv.db --baseline linux-5.7
expect 0 "" -- "$COWSIM" compare --db c.db --format csv
[ "$(wc -l <"$T/out")" = 19 ] || fail "compare csv: not a header + 18 rows"
head -1 "$T/out" | grep -q "^trace,trace_id,trace_hash,format,policy,run_id,model,copies," ||
	fail "compare csv header"
n=$(head -1 "$T/out" | tr ',' '\n' | wc -l)
awk -F, -v n="$n" 'NF != n { bad = 1 } END { exit bad }' "$T/out" ||
	fail "compare csv rows differ in width"
expect 0 "" -- "$COWSIM" compare --db c.db --format csv --baseline linux-6.12
head -1 "$T/out" | grep -q ",copies_ratio," || fail "compare csv lacks ratios"
expect 0 "" -- "$COWSIM" compare --db c.db --format json --baseline linux-6.12
head -c 1 "$T/out" | grep -q '\[' || fail "compare json is not an array"
[ "$(grep -c '"policy":' "$T/out")" = 18 ] || fail "compare json: not 18 records"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert len(d) == 18 and all("ratios" in r and "copies" in r for r in d)' "$T/out" ||
		fail "compare json does not parse"
fi
expect 0 "|---|" -- "$COWSIM" compare --db kv.db --format markdown
expect 0 "eng-observed.scn" -- "$COWSIM" compare --db c.db --trace eng-observed.scn
grep -q "^a.ev" "$T/out" && fail "--trace did not select"
expect 0 "b.ev" -- "$COWSIM" compare --db c.db --trace "$T/b.ev" --policy linux-5.9
grep -q "linux-6.12" "$T/out" && fail "--policy did not select"
expect 2 "no stored trace matches 'nope'" -- "$COWSIM" compare --db c.db --trace nope
expect 2 "linux-9.9" -- "$COWSIM" compare --db c.db --baseline linux-9.9
expect 2 "format" -- "$COWSIM" compare --db c.db --format xml

# ---- report -----------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1; then
	expect 0 "" -- "$COWSIM" replay "$NOFORK" --db kv.db -q
	expect 0 "written to rep" -- "$COWSIM" report --db kv.db -o rep
	[ -f rep/index.html ] || fail "report: no index.html"
	# kv.ev (1) copies pages and zero-fills none; eng-zero-page.scn (2)
	# the other way round
	for p in copies-t1 cumcopies-t1 frames-t1 zerofill-t2 cumcopies-t2 \
		frames-t2; do
		for ext in gp png svg; do
			[ -s rep/$p.$ext ] || fail "report: rep/$p.$ext missing"
		done
	done
	[ -e rep/zerofill-t1.png ] && fail "report drew zero-fills of a trace without"
	grep -q "No copies: no page was copied" rep/index.html ||
		fail "report: no 'no data' for copies"
	for ext in gp png svg dat; do
		[ -s rep/forklat-t1.$ext ] || fail "report: forklat-t1.$ext missing"
		[ -s rep/agree-t1.$ext ] || fail "report: agree-t1.$ext missing"
	done
	[ -e rep/forklat-t2.png ] && fail "report drew fork latency of a trace without forks"
	grep -q "this trace has no forks" rep/index.html || fail "report: no 'no data' for forks"
	for f in rep/*.png; do
		head -c 8 "$f" | od -An -c | grep -q 'P   N   G' || fail "$f is not a PNG"
	done
	for f in rep/*.svg; do
		grep -q '<svg' "$f" || fail "$f is not an SVG"
		grep -q '</svg>' "$f" || fail "$f is truncated"
	done
	for img in $(grep -o 'src="[^"]*"' rep/index.html | sed 's/src="//; s/"//'); do
		[ -s "rep/$img" ] || fail "index.html shows a missing $img"
	done
	grep -qiE '(src|href)="(https?:)?//' rep/index.html && fail "index.html uses the network"
	ls -a | grep -q '\.tmp-' && fail "report left a temporary folder"
	# the kept scripts redraw their picture
	rm rep/copies-t1.png
	(cd rep && gnuplot copies-t1.gp) || fail "a kept script does not run"
	[ -s rep/copies-t1.png ] || fail "a kept script did not redraw"
	# again onto itself: replaced
	expect 0 "" -- "$COWSIM" report --db kv.db -o rep -q
	[ -s rep/copies-t1.png ] || fail "report replacing itself"
	# nothing to draw: say so
	expect 0 "" -- "$COWSIM" replay "$NOFORK" --db nolab.db -q --policy linux-6.12
	expect 0 "" -- "$COWSIM" report --db nolab.db -o rep2 -q
	grep -q "this trace has no kernel-observed fault outcomes" rep2/index.html ||
		fail "report: no 'no data' for agreement"
	# an empty folder is fine
	mkdir empty
	expect 0 "" -- "$COWSIM" report --db nolab.db -o empty -q
	[ -s empty/index.html ] || fail "report into an empty folder"
	# refusals: a folder that is not a report, gnuplot missing
	mkdir mine && echo keep >mine/notes.txt
	expect 2 "not a cowsim report" -- "$COWSIM" report --db kv.db -o mine
	[ "$(cat mine/notes.txt)" = keep ] || fail "report touched a foreign folder"
	expect 2 "gnuplot not found" -- env PATH=/nonexistent "$COWSIM" report --db kv.db -o rep3
	[ -e rep3 ] && fail "report without gnuplot created its folder"
	expect 2 "no/such" -- "$COWSIM" report --db kv.db -o no/such/r
elif [ -n "${CI:-}" ]; then
	fail "gnuplot not installed (.ci/deps installs gnuplot-nox): the report checks cannot run"
else
	echo "store.sh: gnuplot not installed: report checks skipped"
fi

# ---- progress: on a terminal only ---------------------------------------------
if command -v script >/dev/null 2>&1; then
	script -qec "$COWSIM replay big.ev --db p.db --policy linux-6.12 --faults" \
		/dev/null >tty.out 2>&1 </dev/null
	grep -q "rows" tty.out || fail "no store progress line on a terminal"
	"$COWSIM" replay big.ev --db p2.db --policy linux-6.12 --faults >/dev/null 2>notty.err
	grep -q "rows" notty.err && fail "progress line when not on a terminal"
fi

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "store: all good"
