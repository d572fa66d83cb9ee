#!/bin/bash
# capture-redis-bgsave.sh: Redis BGSAVE under a write load, in three formats.
#
# redis-server (Debian) is started under cowsim-launch on 127.0.0.1:$REDIS_PORT
# with persistence into a temp dir, loaded with $REDIS_KEYS keys of
# $REDIS_VALUE bytes through `redis-cli --pipe`, then redis-benchmark
# overwrites random keys among the first $BENCH_KEYSPACE (a quarter of the
# data set) while BGSAVE forks the snapshot child: the parent's writes to pages shared with the child are the COW copies.
# Redis's own count, rdb_last_cow_size, is saved in the notes for a
# cross-check.  The server is stopped with SIGTERM to the pid the launcher
# reported.  Run as root; needs redis-server and redis-tools.
NAME=${REDIS_NAME:-redis-bgsave}
ROOT_EXE=redis-server
source "$(dirname "$(readlink -f "$0")")/lib.sh"
NEED_TOOLS+=(redis-server redis-cli redis-benchmark)

REDIS_PORT=${REDIS_PORT:-16379}
REDIS_KEYS=${REDIS_KEYS:-32000}
REDIS_VALUE=${REDIS_VALUE:-1000}
BENCH_REQUESTS=${BENCH_REQUESTS:-40000}
BENCH_KEYSPACE=${BENCH_KEYSPACE:-8000}   # the write load overwrites keys 0..this-1 only
export REDIS_PORT REDIS_KEYS REDIS_VALUE BENCH_REQUESTS BENCH_KEYSPACE

prepare() {
	if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
		die "something already answers on port $REDIS_PORT; set REDIS_PORT"
	fi
	# The load as Redis protocol, generated once, untraced.  Values are
	# random base64 so RDB compression does not hide the volume; key names
	# are redis-benchmark's (key:%012d) so its -r load overwrites them.
	log "generating $REDIS_KEYS SETs of $REDIS_VALUE bytes"
	/usr/bin/python3 - "$COWSIM_WORK/load.proto" "$REDIS_KEYS" "$REDIS_VALUE" <<'PY'
import base64, os, sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'wb') as f:
    for i in range(n):
        k = b'key:%012d' % i
        v = base64.b64encode(os.urandom(size))[:size]
        f.write(b'*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' % (len(k), k, len(v), v))
PY
}

mark() { printf 'cowsim: phase %s\n' "$*" >"$COWSIM_MARKER"; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

workload() {
	local dd=$COWSIM_WORK/redis-$COWSIM_FMT notes=$COWSIM_WORK/notes.$COWSIM_FMT
	rm -rf "$dd"
	mkdir -p "$dd"
	# globals, not locals: the EXIT trap must see them after a failure
	lpid='' bpid='' rpid=''
	# whatever happens, stop what this run started (by pid)
	trap '[[ -n $bpid ]] && kill -TERM $bpid 2>/dev/null; [[ -n $rpid ]] && kill -TERM $rpid 2>/dev/null; [[ -n $lpid ]] && wait $lpid 2>/dev/null; true' EXIT
	"$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME --pidfile "$dd/pid" -- \
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dd" \
		--dbfilename dump.rdb --save '' --appendonly no \
		--logfile "$dd/redis.log" --daemonize no &
	lpid=$!
	local i
	for i in $(seq 100); do
		rcli ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	rpid=$(cat "$dd/pid" 2>/dev/null || true)
	rcli ping >/dev/null || { echo "redis did not start, see $dd/redis.log" >&2; return 1; }
	mark "load-start keys=$REDIS_KEYS value_bytes=$REDIS_VALUE"
	rcli --pipe <"$COWSIM_WORK/load.proto" >"$dd/load.log"
	mark "load-done"
	local used
	used=$(rcli info memory | tr -d '\r' | sed -n 's/^used_memory:\(.*\)/\1/p')

	mark "write-load-start requests=$BENCH_REQUESTS keyspace=$BENCH_KEYSPACE"
	redis-benchmark -p "$REDIS_PORT" -t set -r "$BENCH_KEYSPACE" -d "$REDIS_VALUE" \
		-n "$BENCH_REQUESTS" -c 2 -P 16 -q >"$dd/bench.log" 2>&1 &
	bpid=$!
	sleep 0.1
	mark "bgsave-start"
	rcli bgsave >"$dd/bgsave.log"
	# one redis-cli polling every 50 ms, not one process per poll
	rcli -r 600 -i 0.05 info persistence 2>/dev/null | tr -d '\r' | while read -r l; do
		[[ $l == rdb_bgsave_in_progress:0 ]] && break
	done || true
	mark "bgsave-done"
	wait "$bpid" || true
	bpid=
	mark "write-load-done"
	local info keys
	info=$(rcli info persistence | tr -d '\r')
	keys=$(rcli dbsize)
	mark "stop"
	local server_pid=$rpid
	kill -TERM "$rpid"
	wait "$lpid" || true
	rpid='' lpid=''
	{
		echo "### redis ($COWSIM_FMT run) server pid $server_pid, port $REDIS_PORT"
		echo "used_memory after load: $used bytes; keys at the end: $keys"
		grep -E '^(rdb_last_cow_size|rdb_last_bgsave_status|rdb_last_bgsave_time_sec|rdb_saves|rdb_last_load_keys_loaded):' <<<"$info"
		local cow
		cow=$(sed -n 's/^rdb_last_cow_size:\(.*\)/\1/p' <<<"$info")
		echo "rdb_last_cow_size: $cow bytes = $((cow / 4096)) pages of 4 KiB"
		echo "redis log:"
		grep -E 'CoW|copy-on-write|Background saving' "$dd/redis.log" | sed 's/^/    /'
		echo "redis-benchmark: $(tr '\r' '\n' <"$dd/bench.log" | grep -a 'requests per second' | tail -1)"
		echo "dump.rdb: $(stat -c %s "$dd/dump.rdb" 2>/dev/null || echo missing) bytes"
	} >"$notes"
	cat "$notes" >&2
}

cow_main "$@"
