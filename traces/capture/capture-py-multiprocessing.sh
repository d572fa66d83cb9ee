#!/bin/bash
# capture-py-multiprocessing.sh: CPython multiprocessing (fork start method)
# over a data set of tens of MB, in three formats.  See py-mp-workload.py.
# Debian's /usr/bin/python3 is used with PATH=/usr/bin:/bin (python3 on PATH
# may be a pyenv shim, a bash script that spawns dozens of processes).
# The ftrace run turns on options/record-tgid (the pool's parent has threads).
NAME=${PY_NAME:-py-multiprocessing}
ROOT_EXE=python3
FTRACE_TGID=1
source "$(dirname "$(readlink -f "$0")")/lib.sh"
[[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 missing: apt-get install -y python3"

PY_ITEMS=${PY_ITEMS:-200000}
PY_ARRAY_MB=${PY_ARRAY_MB:-16}
PY_WORKERS=${PY_WORKERS:-3}

workload() {
	PATH=/usr/bin:/bin "$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME -- \
		/usr/bin/python3 "$CAPDIR/py-mp-workload.py" --marker "$COWSIM_MARKER" \
		--items "$PY_ITEMS" --array-mb "$PY_ARRAY_MB" --workers "$PY_WORKERS" \
		>"$COWSIM_WORK/notes.$COWSIM_FMT.out"
	{
		echo "### python ($COWSIM_FMT run): items=$PY_ITEMS array_mb=$PY_ARRAY_MB workers=$PY_WORKERS"
		cat "$COWSIM_WORK/notes.$COWSIM_FMT.out"
	} >"$COWSIM_WORK/notes.$COWSIM_FMT"
	rm -f "$COWSIM_WORK/notes.$COWSIM_FMT.out"
	cat "$COWSIM_WORK/notes.$COWSIM_FMT" >&2
}

cow_main "$@"
