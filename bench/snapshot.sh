#!/bin/sh
# snapshot.sh - every metric of every bundled input under every preset, in a
# folder of small text files, so that two builds can be compared with
# `diff -r`.  It is the check behind "behaviour unchanged" when code moves:
# run it with the old binary and the new one, then diff the two folders.
#
# usage: bench/snapshot.sh COWSIM SRCDIR OUTDIR
#
# What is recorded, for the bundled real traces (trace.dat, ftrace and perf
# text), two synthetic streams and every scenario, under `--policy all` with
# each cost preset:
#   - the JSON metrics of every run (replay_seconds dropped: it is a timing);
#   - with --faults, the store's rows that a replay writes (processes, forks,
#     samples, markers, faults, fault_decisions, and every metric column of
#     runs), provenance columns (created, version, timing) dropped.
set -eu
COWSIM=$1; SRC=$2; OUT=$3
mkdir -p "$OUT"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

strip() { sed -E -e 's/"replay_seconds": [0-9.e+-]+, //' -e "s#$SRC/##g"; }

n=0
for t in "$SRC"/traces/real/*.dat "$SRC"/traces/real/*.txt.zst; do
	b=$(basename "$t")
	for cost in x86-64 vm; do
		"$COWSIM" replay "$t" --policy all --cost $cost --no-db --quiet \
			--format json | strip > "$OUT/$b.$cost.json"
		n=$((n + 1))
	done
	rm -f "$tmp/s.db"
	"$COWSIM" replay "$t" --policy all --db "$tmp/s.db" --faults --quiet \
		--format csv > /dev/null
	for q in \
		"SELECT upid,pid,tgid,comm,exe,parent_upid,start_ts,end_ts,threads FROM processes ORDER BY upid" \
		"SELECT r.policy,f.* FROM forks f JOIN runs r ON r.id=f.run_id ORDER BY r.policy,f.ts,f.child_upid" \
		"SELECT r.policy,s.ts,s.events,s.copies,s.zero_fills,s.frames,s.pt_pages FROM samples s JOIN runs r ON r.id=s.run_id ORDER BY r.policy,s.ts,s.events" \
		"SELECT seq,ts,upid,text FROM markers ORDER BY seq" \
		"SELECT seq,ts,upid,tid,addr,user,observed FROM faults ORDER BY seq" \
		"SELECT r.policy,d.seq,d.outcome FROM fault_decisions d JOIN runs r ON r.id=d.run_id ORDER BY r.policy,d.seq" \
		"SELECT name,format,events,processes,threads,forks,write_faults,labels,start_ts,dur,dropped,faults_stored FROM traces" \
		"SELECT key,value FROM trace_meta ORDER BY key"; do
		sqlite3 "$tmp/s.db" "$q"
	done > "$OUT/$b.store.txt"
	# every metric column of runs, whatever the schema calls them
	cols=$(sqlite3 "$tmp/s.db" "SELECT group_concat(name, ',') FROM metric_docs")
	sqlite3 "$tmp/s.db" "SELECT policy,model,$cols FROM runs ORDER BY policy" \
		>> "$OUT/$b.store.txt"
done

for seed in 7 11; do
	"$COWSIM" synth --events 2000000 --seed $seed -o "$tmp/s$seed.ev" >/dev/null 2>&1
	for cost in x86-64 vm; do
		"$COWSIM" replay "$tmp/s$seed.ev" --policy all --cost $cost --no-db \
			--quiet --format json | sed "s#$tmp/##" | strip \
			> "$OUT/synth-$seed.$cost.json"
		n=$((n + 1))
	done
done

for s in "$SRC"/traces/scenarios/*.scn; do
	b=$(basename "$s")
	"$COWSIM" replay "$s" --policy all --no-db --quiet --format json |
		strip > "$OUT/$b.json" || echo "exit $?" >> "$OUT/$b.json"
	n=$((n + 1))
done
echo "snapshot: $n inputs x presets written to $OUT"
