#!/bin/bash
# capture-pgbench-holdout.sh: capture-pgbench.sh with another shape (larger
# shared_buffers and scale, three clients, the TPC-B-like default script
# instead of select-only, another seed), into
# traces/real/pgbench-holdout.*: data of the same kind that a fit on
# pgbench.dat.zst has not seen.
# Run as root:  traces/capture/capture-pgbench-holdout.sh
PGBENCH_NAME=pgbench-holdout
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-48MB}
PG_SCALE=${PG_SCALE:-2}
PG_CLIENTS=${PG_CLIENTS:-3}
PG_TXNS=${PG_TXNS:-50}
PG_BENCH_OPTS=${PG_BENCH_OPTS-}
PG_SEED=${PG_SEED:-7}
source "$(dirname "$(readlink -f "$0")")/capture-pgbench.sh"
