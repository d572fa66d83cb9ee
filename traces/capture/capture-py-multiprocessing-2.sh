#!/bin/bash
# capture-py-multiprocessing-2.sh: capture-py-multiprocessing.sh again, with a
# larger data set, trace.dat only and recorded per process tree
# (TC_SCOPE=tree), into traces/real/py-multiprocessing-2.*: the pool's forks
# timed on the current capture kernel (py-multiprocessing.dat was taken on an
# earlier kernel build; docs/costs.md).
# Run as root:  traces/capture/capture-py-multiprocessing-2.sh
PY_NAME=py-multiprocessing-2
PY_ARRAY_MB=${PY_ARRAY_MB:-32}
FORMATS=${FORMATS:-dat}
TC_SCOPE=${TC_SCOPE:-tree}
source "$(dirname "$(readlink -f "$0")")/capture-py-multiprocessing.sh"
