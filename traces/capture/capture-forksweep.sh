#!/bin/bash
# capture-forksweep.sh: forks of many shapes (forksweep.c) for fitting and
# checking the fork cost model against the kernel's fork latency (the
# parent's clone, raw_syscalls sys_enter to sys_exit).
#
# forksweep builds each configuration (one populated region of each size in
# FS_SIZES MiB; FS_AREAS one-page VMAs, dense-unpopulated, dense-populated and
# one per 2 MiB slot), forks FS_FORKS times over it, in an order shuffled by
# FS_SEED, then does FS_VFORKS vforks and posix_spawns.  It runs under $PRIO
# (lib.sh; nice -10) so that other load on the machine inflates its fork latencies less.
# trace.dat of the process tree only (FORMATS=dat, TC_SCOPE=tree): calibration needs the timings, not the three
# formats.  capture-forksweep-holdout.sh runs it again with other shapes.
# Run as root:  traces/capture/capture-forksweep.sh
NAME=${FORKSWEEP_NAME:-forksweep}
ROOT_EXE=forksweep
FORMATS=${FORMATS:-dat}
TC_SCOPE=${TC_SCOPE:-tree}
source "$(dirname "$(readlink -f "$0")")/lib.sh"

FS_SIZES=${FS_SIZES:-0,1,4,16,64,256}
FS_AREAS=${FS_AREAS:-10,100,1000,4000}
FS_FORKS=${FS_FORKS:-16}
FS_VFORKS=${FS_VFORKS:-8}
FS_SEED=${FS_SEED:-1}
export FS_SIZES FS_AREAS FS_FORKS FS_VFORKS FS_SEED

workload() {
	local notes=$COWSIM_WORK/notes.$COWSIM_FMT
	{
		echo "### forksweep ($COWSIM_FMT run) sizes=$FS_SIZES areas=$FS_AREAS forks=$FS_FORKS vforks=$FS_VFORKS seed=$FS_SEED"
		echo "load before: $(cat /proc/loadavg)"
	} >"$notes"
	$PRIO "$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME -- \
		"$FORKSWEEP" --marker "$COWSIM_MARKER" --sizes "$FS_SIZES" \
		--areas "$FS_AREAS" --forks "$FS_FORKS" --vforks "$FS_VFORKS" \
		--seed "$FS_SEED" >>"$notes"
	echo "load after: $(cat /proc/loadavg)" >>"$notes"
	cat "$notes" >&2
}

cow_main "$@"
