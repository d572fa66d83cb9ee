# lib.sh: shared helpers of the traces/capture/capture-*.sh scripts.
#
# A capture script defines NAME, a workload() function (run under the tracer,
# see below) and optionally prepare() (run once, untraced, to build inputs in
# $COWSIM_WORK), then calls cow_main "$@".  cow_main records the SAME workload
# three times, once per format:
#
#   dat     trace-cmd record -d --no-filter ... -- <script> --workload
#           (top-level tracefs buffer, trace.dat, markers via trace_marker);
#           with TC_SCOPE=tree the kernel's pid filter on the top-level
#           buffer and trace-cmd extract instead (cap_dat_tree): NAME.dat.zst
#   ftrace  a private tracefs instance instances/cowsim-NAME with the same
#           events, whose `trace` file (the kernel's own text) is saved
#   perf    perf record -d (per command, following children) and
#           perf script --ns --show-task-events --show-mmap-events
#
# Inside the workload, $COWSIM_MARKER is the trace_marker to write to (the
# instance's for ftrace, /dev/null for perf: perf records no trace_marker
# writes) and $LAUNCH is cowsim-launch.  Every change to tracefs is undone by
# an EXIT trap, also on failure or Ctrl-C: buffer_size_kb, tracing_on,
# set_event, set_event_pid, trace_clock, current_tracer, trace_options, and
# the instance is removed.  trace-cmd exits 1 at teardown on this VM even when
# the file is complete, so results are judged by checking files, not exit codes.
#
# Environment knobs: FORMATS="dat ftrace perf" (subset to re-run),
# TC_BUF_KB (trace-cmd -b, per CPU), TC_SCOPE (dat: "system", the default,
# records every task; "tree" records only the workload's process tree, see
# cap_dat_tree), TREE_BUF_KB (its buffer per CPU, must hold the whole run),
# FTRACE_BUF_KB (instance buffer per CPU, must hold the whole run), PRIO (the
# scheduling prefix of fork-timing workloads, default "nice -n -10"),
# PERF_MMAP (perf -m), KEEP_WORK=1 (keep temp dir).

set -euo pipefail
export PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

CAPDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CAPDIR/../.." && pwd)
REALDIR=$ROOT/traces/real
BINDIR=$CAPDIR/bin
LAUNCH=$BINDIR/cowsim-launch
COWKNOWN=$BINDIR/cowknown
FORKSWEEP=$BINDIR/forksweep
TRACEFS=${TRACEFS:-/sys/kernel/tracing}
CFLAGS_COW="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2"
export LAUNCH COWKNOWN FORKSWEEP CAPDIR

TC_BUF_KB=${TC_BUF_KB:-65536}
FTRACE_BUF_KB=${FTRACE_BUF_KB:-262144}
PERF_MMAP=${PERF_MMAP:-64M}
FORMATS=${FORMATS:-dat ftrace perf}
TC_SCOPE=${TC_SCOPE:-system}
TREE_BUF_KB=${TREE_BUF_KB:-262144}
# How the fork-timing captures (forksweep, pgbench, apache) start their
# server or program: on a shared machine other tasks preempt a fork in the
# middle and inflate the latency the trace shows; nice -10 makes that rarer.
# Not SCHED_FIFO: in a trial forksweep capture (load ~8) it narrowed the
# spread but raised the fastest small forks from 24 us to 47 us, a shift of
# the very per-fork term the captures are for.
PRIO=${PRIO:-nice -n -10}

# The events of every capture (reference/tracing.md §4 needs the fault, alloc
# and raw_syscalls events together; the per-syscall events give arguments).
COW_EVENTS=(
	exceptions:page_fault_user exceptions:page_fault_kernel
	kmem:mm_page_alloc
	sched:sched_process_fork sched:sched_process_exec
	sched:sched_process_exit sched:sched_process_free
	task:task_newtask task:task_rename
	mmap:exit_mmap
	raw_syscalls:sys_enter raw_syscalls:sys_exit
)
for _x in mmap munmap mprotect mremap brk madvise clone clone3 fork vfork \
	vmsplice io_uring_register openat read write pread64 pwrite64 execve \
	exit_group; do
	COW_EVENTS+=("syscalls:sys_enter_$_x" "syscalls:sys_exit_$_x")
done
unset _x

log() { printf '[capture %s] %s\n' "${NAME:-?}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- building ---------------------------------------------------------------

cow_build() {
	mkdir -p "$BINDIR"
	local p
	for p in cowsim-launch cowknown forksweep; do
		if [[ ! -x $BINDIR/$p || $CAPDIR/$p.c -nt $BINDIR/$p ]]; then
			log "cc $CFLAGS_COW -o bin/$p $p.c"
			# shellcheck disable=SC2086
			cc $CFLAGS_COW -o "$BINDIR/$p" "$CAPDIR/$p.c" ||
				die "building $p failed"
		fi
	done
}

# ---- tracefs state ----------------------------------------------------------

# One line per piece of global tracefs state this tooling may change.
tfs_state() {
	local t=$TRACEFS
	echo "buffer_size_kb=$(cut -d' ' -f1 <"$t/buffer_size_kb")"
	echo "tracing_on=$(cat "$t/tracing_on")"
	echo "current_tracer=$(cat "$t/current_tracer")"
	echo "trace_clock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$t/trace_clock")"
	echo "set_event=$(sort "$t/set_event" | tr '\n' ' ')"
	echo "set_event_pid=$(sort "$t/set_event_pid" | tr '\n' ' ')"
	echo "trace_options=$(tr '\n' ' ' <"$t/trace_options")"
	echo "instances=$(ls "$t/instances" | sort | tr '\n' ' ')"
}

tfs_save() {
	TFS_SAVED=$(tfs_state)
	TFS_BUF_RAW=$(cat "$TRACEFS/buffer_size_kb")
	TFS_SET_EVENT=$(cat "$TRACEFS/set_event")
	TFS_EVENT_PID=$(cat "$TRACEFS/set_event_pid")
	log "tracefs state saved (buffer_size_kb: '$TFS_BUF_RAW')"
}

tfs_get() { sed -n "s/^$1=//p" <<<"$TFS_SAVED"; }

# Remove a private instance: stop it, disable its events, rmdir.
tfs_rm_instance() {
	local d=$TRACEFS/instances/$1
	[[ -d $d ]] || return 0
	echo 0 >"$d/tracing_on" 2>/dev/null || true
	: >"$d/set_event" 2>/dev/null || true
	# EBUSY while a process still holds its trace_marker open (a launcher
	# of an interrupted run that is still exiting): retry for ~10 s
	local i
	for i in $(seq 40); do
		rmdir "$d" 2>/dev/null && return 0
		sleep 0.25
	done
	log "WARNING: could not remove $d (busy: $(fuser "$d/trace_marker" 2>&1 | tr -s ' '))"
}

tfs_restore() {
	[[ -n ${TFS_SAVED:-} ]] || return 0
	local t=$TRACEFS v cur inst
	# our instances first (they may hold tracefs files busy)
	local path
	for path in "$t"/instances/*; do
		[[ -d $path ]] || continue
		inst=${path##*/}
		case " $(tfs_get instances) " in *" $inst "*) continue ;; esac
		[[ $inst == cowsim-* ]] && tfs_rm_instance "$inst"
	done
	v=$(tfs_get buffer_size_kb)
	cur=$(cut -d' ' -f1 <"$t/buffer_size_kb")
	[[ $cur == "$v" ]] || echo "$v" >"$t/buffer_size_kb" ||
		log "WARNING: cannot restore buffer_size_kb=$v"
	v=$(tfs_get current_tracer)
	[[ $(cat "$t/current_tracer") == "$v" ]] || echo "$v" >"$t/current_tracer" || true
	v=$(tfs_get trace_clock)
	[[ -z $v ]] || echo "$v" >"$t/trace_clock" || true
	if [[ "$(sort "$t/set_event" | tr '\n' ' ')" != "$(tfs_get set_event)" ]]; then
		: >"$t/set_event"
		local e
		while read -r e; do
			[[ -n $e ]] && echo "$e" >>"$t/set_event"
		done <<<"$TFS_SET_EVENT"
	fi
	# Always rewritten, even when it reads the same: after an event-fork
	# capture (cap_dat_tree) the list reads empty once every traced task
	# has exited, yet the kernel keeps the (empty) pid list and its
	# filter, so every event of every task is ignored until the file is
	# truncated.
	: >"$t/set_event_pid"
	local p
	for p in $TFS_EVENT_PID; do echo "$p" >>"$t/set_event_pid"; done
	local o name
	for o in $(tfs_get trace_options); do
		if ! grep -qx -- "$o" "$t/trace_options"; then
			name=${o#no}
			if [[ $o == no* ]]; then v=0; else name=$o v=1; fi
			if ! { [[ -e $t/options/$name ]] && echo $v >"$t/options/$name"; } 2>/dev/null; then
				log "WARNING: cannot restore option $o"
			fi
		fi
	done
	v=$(tfs_get tracing_on)
	[[ $(cat "$t/tracing_on") == "$v" ]] || echo "$v" >"$t/tracing_on"
	local now
	now=$(tfs_state)
	if [[ $now == "$TFS_SAVED" ]]; then
		log "tracefs state restored (buffer_size_kb=$(tfs_get buffer_size_kb), tracing_on=$(tfs_get tracing_on), instances: '$(tfs_get instances)')"
	else
		log "WARNING: tracefs state differs from the start:"
		diff <(echo "$TFS_SAVED") <(echo "$now") >&2 || true
	fi
}

# ---- cleanup ------------------------------------------------------------------

NEED_TOOLS=()   # extra commands a capture script needs (it appends)
# Workloads stop what they start themselves (by pid, in their own EXIT trap);
# this restores tracefs and removes the temp dir and half-written outputs.
cow_cleanup() {
	local rc=$?
	set +e
	tfs_restore
	rm -f "$REALDIR"/*.part
	if [[ -n ${COWSIM_WORK:-} && -d ${COWSIM_WORK:-} && ${KEEP_WORK:-0} != 1 ]]; then
		rm -rf "$COWSIM_WORK"
	fi
	exit $rc
}

# ---- the three captures -------------------------------------------------------

CMDLOG=()   # exact commands run, for NAME.capture.txt
cmdlog() { CMDLOG+=("$*"); log "\$ $*"; }

# Put a finished file into traces/real atomically (compressing text with
# zstd -19), so an interrupted capture never leaves a truncated trace there.
publish() { # SRC DEST
	local src=$1 out=$2
	if [[ $out == *.zst ]]; then
		zstd -q -19 -f -o "$out.part" "$src"
	else
		cp "$src" "$out.part"
	fi
	chmod 644 "$out.part"
	mv -f "$out.part" "$out"
	log "wrote $out ($(stat -c %s "$out") bytes)"
}

cap_dat() {
	local out=$REALDIR/$NAME.dat tmp=$COWSIM_WORK/tc
	mkdir -p "$tmp"
	local ev=() e
	for e in "${COW_EVENTS[@]}"; do ev+=(-e "$e"); done
	rm -f "$tmp/trace.dat" "$COWSIM_WORK/status.dat"
	cmdlog "COWSIM_MARKER=$TRACEFS/trace_marker COWSIM_FMT=dat trace-cmd record -d --no-filter -b $TC_BUF_KB -o $tmp/trace.dat ${ev[*]} -- $CAPDIR/capture-$NAME.sh --workload"
	(cd "$tmp" && COWSIM_MARKER=$TRACEFS/trace_marker COWSIM_FMT=dat \
		trace-cmd record -d --no-filter -b "$TC_BUF_KB" -o "$tmp/trace.dat" \
		"${ev[@]}" -- "$CAPDIR/capture-$NAME.sh" --workload) \
		>"$tmp/record.log" 2>&1 || log "trace-cmd record exited $? (expected 1 on this VM; checking the file)"
	grep -E 'EPERM|denied|refused|No events|Failed|segfault|not found' "$tmp/record.log" >&2 || true
	tfs_restore
	workload_ok dat "$tmp/record.log"
	[[ -s $tmp/trace.dat ]] || { cat "$tmp/record.log" >&2; die "trace-cmd wrote no trace.dat"; }
	trace-cmd report -i "$tmp/trace.dat" >/dev/null 2>"$tmp/report.err" ||
		{ cat "$tmp/report.err" >&2; die "trace.dat does not read back"; }
	if trace-cmd report -i "$tmp/trace.dat" 2>/dev/null | grep -q 'EVENTS DROPPED'; then
		log "WARNING: trace.dat has dropped events; raise TC_BUF_KB"
	fi
	publish "$tmp/trace.dat" "$out"
}

# trace.dat of the workload's process tree only.  On a shared machine a
# system-wide record of a long run is mostly other tasks' faults, and
# `trace-cmd record -F -c` let a busy task's events through on this VM (6.18,
# trace-cmd 3.1.6).  So the top-level buffer is set up by hand with the
# kernel's own pid filter (set_event_pid = the shell that execs the workload,
# options/event-fork adds every descendant at fork), and `trace-cmd extract`
# writes the same trace.dat as record would.  Marker writes are not events, so
# the pid filter does not touch them.  The buffer must hold the whole run: an
# overrun (per_cpu/cpu*/stats) fails the capture.
cap_dat_tree() {
	local out=$REALDIR/$NAME.dat.zst tmp=$COWSIM_WORK/tc t=$TRACEFS e
	mkdir -p "$tmp"
	rm -f "$tmp/trace.dat" "$COWSIM_WORK/status.dat"
	cmdlog "echo 0 > $t/tracing_on; echo local > $t/trace_clock; echo nop > $t/current_tracer; echo $TREE_BUF_KB > $t/buffer_size_kb; echo 1 > $t/options/event-fork"
	echo 0 >"$t/tracing_on"
	echo local >"$t/trace_clock"
	echo nop >"$t/current_tracer"
	echo "$TREE_BUF_KB" >"$t/buffer_size_kb"
	echo 1 >"$t/options/event-fork"
	: >"$t/set_event"
	for e in "${COW_EVENTS[@]}"; do echo "$e" >>"$t/set_event"; done
	cmdlog "for e in ${COW_EVENTS[*]}; do echo \$e >> $t/set_event; done"
	: >"$t/trace"
	cmdlog "(echo \$BASHPID > $t/set_event_pid; echo 1 > $t/tracing_on; COWSIM_MARKER=$t/trace_marker COWSIM_FMT=dat exec $CAPDIR/capture-$NAME.sh --workload)"
	(
		echo "$BASHPID" >"$t/set_event_pid"
		echo 1 >"$t/tracing_on"
		COWSIM_MARKER=$t/trace_marker COWSIM_FMT=dat exec "$CAPDIR/capture-$NAME.sh" --workload
	) || true
	echo 0 >"$t/tracing_on"
	local c ov=0
	for c in "$t"/per_cpu/cpu*/stats; do
		ov=$((ov + $(sed -n 's/^overrun: //p' "$c")))
	done
	# Uncompressed and without kallsyms (cowsim resolves no kernel symbols;
	# they were ~0.7 MB of every file even compressed), then zstd -19 over
	# the whole file: about half the size of trace-cmd's own compression.
	cmdlog "echo 0 > $t/tracing_on; unshare -m --propagation private sh -c 'mount --bind /dev/null /proc/kallsyms && trace-cmd extract --compression none -o $tmp/trace.dat'"
	(cd "$tmp" && unshare -m --propagation private sh -c \
		'mount --bind /dev/null /proc/kallsyms && exec trace-cmd extract --compression none -o "$1"' \
		sh "$tmp/trace.dat") >"$tmp/extract.log" 2>&1 ||
		log "trace-cmd extract exited $? (checking the file)"
	tfs_restore
	workload_ok dat
	((ov == 0)) || die "the buffer overran ($ov events lost): raise TREE_BUF_KB"
	[[ -s $tmp/trace.dat ]] || { cat "$tmp/extract.log" >&2; die "trace-cmd wrote no trace.dat"; }
	trace-cmd report -i "$tmp/trace.dat" >/dev/null 2>"$tmp/report.err" ||
		{ cat "$tmp/report.err" >&2; die "trace.dat does not read back"; }
	publish "$tmp/trace.dat" "$out"
}

cap_ftrace() {
	local inst=cowsim-$NAME d=$TRACEFS/instances/cowsim-$NAME
	local out=$REALDIR/$NAME.ftrace.txt.zst tmp=$COWSIM_WORK/ft
	mkdir -p "$tmp"
	tfs_rm_instance "$inst"
	cmdlog "mkdir $d"
	mkdir "$d"
	cmdlog "echo 0 > $d/tracing_on; echo $FTRACE_BUF_KB > $d/buffer_size_kb"
	echo 0 >"$d/tracing_on"
	echo "$FTRACE_BUF_KB" >"$d/buffer_size_kb"
	if [[ ${FTRACE_TGID:-0} == 1 ]]; then
		cmdlog "echo 1 > $d/options/record-tgid"
		echo 1 >"$d/options/record-tgid"
	fi
	local e refused=()
	for e in "${COW_EVENTS[@]}"; do
		echo "$e" >>"$d/set_event" 2>/dev/null || refused+=("$e")
	done
	cmdlog "for e in ${COW_EVENTS[*]}; do echo \$e >> $d/set_event; done"
	((${#refused[@]} == 0)) || log "instance refused events: ${refused[*]}"
	cmdlog "echo > $d/trace; echo 1 > $d/tracing_on"
	: >"$d/trace"
	echo 1 >"$d/tracing_on"
	cmdlog "COWSIM_MARKER=$d/trace_marker COWSIM_FMT=ftrace $CAPDIR/capture-$NAME.sh --workload"
	local rc=0
	rm -f "$COWSIM_WORK/status.ftrace"
	COWSIM_MARKER=$d/trace_marker COWSIM_FMT=ftrace "$CAPDIR/capture-$NAME.sh" --workload || rc=$?
	echo 0 >"$d/tracing_on"
	cmdlog "echo 0 > $d/tracing_on; zstd -19 < $d/trace > $out; rmdir $d"
	cp "$d/trace" "$tmp/trace.txt"
	tfs_rm_instance "$inst"
	tfs_restore
	workload_ok ftrace
	local hdr
	hdr=$(grep -m1 'entries-in-buffer/entries-written' "$tmp/trace.txt" || true)
	log "instance header: $hdr"
	if [[ $hdr =~ ([0-9]+)/([0-9]+) ]] && [[ ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]]; then
		die "the instance buffer overflowed ($hdr): raise FTRACE_BUF_KB"
	fi
	publish "$tmp/trace.txt" "$out"
}

cap_perf() {
	local out=$REALDIR/$NAME.perf.txt.zst tmp=$COWSIM_WORK/pf
	mkdir -p "$tmp"
	local ev=() e
	for e in "${COW_EVENTS[@]}"; do ev+=(-e "$e"); done
	cmdlog "COWSIM_MARKER=/dev/null COWSIM_FMT=perf perf record -d -m $PERF_MMAP -o $tmp/perf.data ${ev[*]} -- $CAPDIR/capture-$NAME.sh --workload"
	local rc=0
	rm -f "$COWSIM_WORK/status.perf"
	COWSIM_MARKER=/dev/null COWSIM_FMT=perf perf record -d -m "$PERF_MMAP" \
		-o "$tmp/perf.data" "${ev[@]}" -- "$CAPDIR/capture-$NAME.sh" --workload \
		2>"$tmp/record.log" || rc=$?
	cat "$tmp/record.log" >&2
	workload_ok perf
	((rc == 0)) || log "perf record exited $rc"
	[[ -s $tmp/perf.data ]] || die "perf wrote no perf.data"
	cmdlog "perf script -i $tmp/perf.data --ns --show-task-events --show-mmap-events --show-lost-events | zstd -19 > $out"
	perf script -i "$tmp/perf.data" --ns --show-task-events --show-mmap-events \
		--show-lost-events 2>"$tmp/script.err" >"$tmp/perf.txt" ||
		{ cat "$tmp/script.err" >&2; die "perf script failed"; }
	if grep -q 'PERF_RECORD_LOST' "$tmp/perf.txt"; then
		log "WARNING: perf lost events; raise PERF_MMAP"
	fi
	publish "$tmp/perf.txt" "$out"
}

# ---- main ---------------------------------------------------------------------

# Entry of the traced run (the tracer starts "capture-NAME.sh --workload"):
# run workload() with errexit in a subshell and leave its exit status in
# $COWSIM_WORK/status.$COWSIM_FMT, since trace-cmd's own exit code says
# nothing (it is 1 on this VM even when all went well).
cow_run_workload() {
	[[ -n ${COWSIM_WORK:-} && -n ${COWSIM_MARKER:-} && -n ${COWSIM_FMT:-} ]] ||
		die "--workload is run by the capture script itself, not by hand"
	local rc=0
	set +e
	(set -e; workload)
	rc=$?
	set -e
	echo "$rc" >"$COWSIM_WORK/status.$COWSIM_FMT"
	exit "$rc"
}

workload_ok() { # FMT [LOG]
	local st
	st=$(cat "$COWSIM_WORK/status.$1" 2>/dev/null || echo missing)
	[[ $st == 0 ]] && return 0
	[[ -n ${2:-} && -f ${2:-} ]] && tail -n 20 "$2" >&2
	die "the $1 run's workload failed (status: $st)"
}

cow_main() {
	if [[ ${1:-} == --workload ]]; then cow_run_workload; fi
	[[ $(id -u) == 0 ]] || die "run as root (tracefs, ptrace, pagemap PFNs)"
	[[ -w $TRACEFS/trace_marker ]] || die "tracefs not mounted at $TRACEFS"
	local tool
	for tool in cc trace-cmd perf zstd "${NEED_TOOLS[@]}"; do
		command -v "$tool" >/dev/null || die "missing tool '$tool' (apt-get install -y ...)"
	done
	cow_build
	mkdir -p "$REALDIR"
	COWSIM_WORK=$(mktemp -d "/tmp/cowsim-$NAME.XXXXXX")
	export COWSIM_WORK
	trap cow_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tfs_save
	if declare -F prepare >/dev/null; then prepare; fi
	[[ $TC_SCOPE == system || $TC_SCOPE == tree ]] ||
		die "TC_SCOPE must be system or tree, not '$TC_SCOPE'"
	local f
	for f in $FORMATS; do
		case $f in
		dat) if [[ $TC_SCOPE == tree ]]; then cap_dat_tree; else cap_dat; fi ;;
		ftrace) cap_ftrace ;;
		perf) cap_perf ;;
		*) die "unknown format '$f' in FORMATS" ;;
		esac
	done
	cow_report
}

# Write traces/real/NAME.capture.txt (commands, versions, notes, counts),
# with paths relative to the repository and the temp dir as $COWSIM_WORK.
cow_report() {
	local info=$REALDIR/$NAME.capture.txt
	{
		echo "# capture of '$NAME' by traces/capture/capture-$NAME.sh"
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "kernel: $(uname -r)  ncpus: $(nproc)"
		echo "tools: $(trace-cmd --version 2>&1 | grep -m1 version) / $(perf --version) / $(zstd --version)"
		echo "formats: $FORMATS"
		echo
		echo "## commands"
		local c
		for c in "${CMDLOG[@]}"; do echo "\$ $c"; done
		echo
		echo "## workload notes"
		cat "$COWSIM_WORK"/notes.* 2>/dev/null || echo "(none)"
		echo
		echo "## files"
		local f
		for f in $FORMATS; do
			case $f in
			dat) f=$REALDIR/$NAME.dat
				[[ $TC_SCOPE == tree ]] && f+=.zst ;;
			ftrace) f=$REALDIR/$NAME.ftrace.txt.zst ;;
			perf) f=$REALDIR/$NAME.perf.txt.zst ;;
			esac
			[[ -f $f ]] || continue
			/usr/bin/python3 "$CAPDIR/tracestats.py" --root "${ROOT_EXE:-}" "$f"
		done
	} | sed -e "s|$ROOT/||g" -e "s|$COWSIM_WORK|\$COWSIM_WORK|g" >"$info.tmp"
	mv "$info.tmp" "$info"
	log "wrote $info"
	cat "$info"
}
