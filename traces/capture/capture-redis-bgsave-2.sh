#!/bin/bash
# capture-redis-bgsave-2.sh: capture-redis-bgsave.sh again, trace.dat only and
# recorded per process tree (TC_SCOPE=tree), into traces/real/redis-bgsave-2.*:
# the BGSAVE fork timed on the current capture kernel, for fitting and
# checking the fork cost (redis-bgsave.dat was taken on an earlier kernel
# build, whose forks cost several times more per PTE; docs/costs.md).
# Run as root:  traces/capture/capture-redis-bgsave-2.sh
REDIS_NAME=redis-bgsave-2
FORMATS=${FORMATS:-dat}
TC_SCOPE=${TC_SCOPE:-tree}
source "$(dirname "$(readlink -f "$0")")/capture-redis-bgsave.sh"
