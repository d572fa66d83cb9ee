#!/bin/bash
# capture-forksweep-holdout.sh: capture-forksweep.sh with other sizes, area
# counts and order, into traces/real/forksweep-holdout.*: data of the same
# kind that a fit on forksweep.dat has not seen.
# Run as root:  traces/capture/capture-forksweep-holdout.sh
FORKSWEEP_NAME=forksweep-holdout
FS_SIZES=${FS_SIZES:-2,8,32,128}
FS_AREAS=${FS_AREAS:-50,500,2000}
FS_FORKS=${FS_FORKS:-12}
FS_SEED=${FS_SEED:-7}
source "$(dirname "$(readlink -f "$0")")/capture-forksweep.sh"
