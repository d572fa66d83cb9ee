#!/bin/bash
# capture-pgbench.sh: PostgreSQL 15's postmaster forking one backend per
# connection (`pgbench -C`), for fork latency of a real server.
#
# A private cluster (initdb --auth=trust, as the unprivileged user $PG_USER)
# lives in the temp dir and listens only on a unix socket there, port
# $PG_PORT, with shared_buffers=$PG_SHARED_BUFFERS.  prepare() (untraced)
# runs initdb and `pgbench -i -s $PG_SCALE`; the traced run starts the
# postmaster under cowsim-launch --user $PG_USER under $PRIO (nice -10), runs
# `pgbench -C` with $PG_CLIENTS clients x $PG_TXNS transactions each (one new
# connection, so one postmaster fork, per transaction; $PG_BENCH_OPTS adds
# e.g. -S), and stops the server with SIGINT (fast shutdown) to the pid the
# launcher reported.  The trace holds only the workload's process tree
# (TC_SCOPE=tree, lib.sh cap_dat_tree) and trace.dat only (FORMATS=dat).
# capture-pgbench-holdout.sh runs it again with another shape.
# Run as root:  traces/capture/capture-pgbench.sh
NAME=${PGBENCH_NAME:-pgbench}
ROOT_EXE=postgres
FORMATS=${FORMATS:-dat}
TC_SCOPE=${TC_SCOPE:-tree}
source "$(dirname "$(readlink -f "$0")")/lib.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-postgres}
PG_PORT=${PG_PORT:-15432}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-16MB}
PG_SCALE=${PG_SCALE:-1}
PG_CLIENTS=${PG_CLIENTS:-2}
PG_TXNS=${PG_TXNS:-100}
PG_BENCH_OPTS=${PG_BENCH_OPTS--S}
PG_SEED=${PG_SEED:-1}
export PG_BIN PG_USER PG_PORT PG_SHARED_BUFFERS PG_SCALE PG_CLIENTS PG_TXNS PG_BENCH_OPTS PG_SEED
NEED_TOOLS+=("$PG_BIN/postgres" "$PG_BIN/initdb" "$PG_BIN/pgbench" "$PG_BIN/pg_isready")

pg_dir() { echo "$COWSIM_WORK/pg"; }
pg_opts() {
	echo "-D $(pg_dir)/data -k $(pg_dir) -p $PG_PORT -c listen_addresses= -c shared_buffers=$PG_SHARED_BUFFERS -c fsync=off -c logging_collector=off"
}
pg_ready() {
	local i
	for i in $(seq 100); do
		"$PG_BIN/pg_isready" -q -h "$(pg_dir)" -p "$PG_PORT" && return 0
		sleep 0.1
	done
	return 1
}
# stop the postmaster by pid (fast shutdown) and wait for it
pg_stop() { # PID [LAUNCHER_PID]
	kill -INT "$1" 2>/dev/null || true
	if [[ -n ${2:-} ]]; then wait "$2" || true; fi
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

prepare() {
	local d
	d=$(pg_dir)
	[[ ! -S /tmp/.s.PGSQL.$PG_PORT ]] || die "port $PG_PORT in use (set PG_PORT)"
	chmod 711 "$COWSIM_WORK"
	mkdir -p "$d"
	chown "$PG_USER" "$d"
	log "initdb and pgbench -i -s $PG_SCALE (untraced)"
	setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --init-groups \
		"$PG_BIN/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 \
		--locale=C >"$COWSIM_WORK/initdb.log" 2>&1 ||
		{ cat "$COWSIM_WORK/initdb.log" >&2; die "initdb failed"; }
	# shellcheck disable=SC2046
	setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --init-groups \
		"$PG_BIN/postgres" $(pg_opts) >"$d/prepare.log" 2>&1 &
	local ppid=$!
	pg_ready || { cat "$d/prepare.log" >&2; die "postgres did not start"; }
	"$PG_BIN/pgbench" -i -s "$PG_SCALE" -h "$d" -p "$PG_PORT" -U postgres postgres \
		>"$COWSIM_WORK/pgbench-init.log" 2>&1 ||
		{ cat "$COWSIM_WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
	pg_stop "$ppid" "$ppid"
}

mark() { printf 'cowsim: phase %s\n' "$*" >"$COWSIM_MARKER"; }

workload() {
	local d notes=$COWSIM_WORK/notes.$COWSIM_FMT
	d=$(pg_dir)
	lpid='' spid=''
	trap '[[ -n $spid ]] && kill -INT $spid 2>/dev/null; [[ -n $lpid ]] && wait $lpid 2>/dev/null; true' EXIT
	echo "load before: $(cat /proc/loadavg)" >"$notes"
	# shellcheck disable=SC2046
	$PRIO "$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME \
		--user "$PG_USER" --pidfile "$d/pid" -- \
		"$PG_BIN/postgres" $(pg_opts) >"$d/server.log" 2>&1 &
	lpid=$!
	pg_ready || { cat "$d/server.log" >&2; return 1; }
	spid=$(cat "$d/pid")
	mark "bench-start clients=$PG_CLIENTS transactions=$PG_TXNS opts=$PG_BENCH_OPTS"
	# shellcheck disable=SC2086
	"$PG_BIN/pgbench" -C -n $PG_BENCH_OPTS -c "$PG_CLIENTS" -j 1 -t "$PG_TXNS" \
		--random-seed="$PG_SEED" -h "$d" -p "$PG_PORT" -U postgres postgres \
		>"$d/bench.log" 2>&1
	mark "bench-done"
	mark "stop"
	local server_pid=$spid
	pg_stop "$spid" "$lpid"
	spid='' lpid=''
	{
		echo "### postgres ($COWSIM_FMT run) postmaster pid $server_pid, socket dir + port $PG_PORT"
		echo "$("$PG_BIN/postgres" --version); shared_buffers=$PG_SHARED_BUFFERS scale=$PG_SCALE"
		echo "pgbench -C -n $PG_BENCH_OPTS -c $PG_CLIENTS -j 1 -t $PG_TXNS --random-seed=$PG_SEED:"
		grep -E 'number of transactions actually processed|failed|latency average|average connection time|tps' "$d/bench.log" | sed 's/^/    /'
		echo "load after: $(cat /proc/loadavg)"
	} >>"$notes"
	cat "$notes" >&2
}

cow_main "$@"
