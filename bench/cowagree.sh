#!/bin/sh
# cowagree.sh - how often a policy agrees with the kernel on the faults that
# matter for copy-on-write, per trace: the write faults the kernel resolved
# by copying, reusing or zero-filling (observed `copy`, `reuse`, `zero`),
# first-touch writes to private file pages (observed `copy`) among them.
# First touches of fresh anonymous memory (observed `new`) are left out:
# every policy gets them right, and there are so many of them that they
# would hide the COW faults (build.dat: 18,669 of 20,908 labels).
#
# It is the figure behind docs/importers.md "Exec images": run it before
# and after an importer change.  Agreement is the engine's own rule
# (sim/memory.c outcome_agrees()): copy = copy or copy-file; zero = new or
# zero-fill; reuse = reuse, none, mkwrite or swapin.
#
# usage: [POLICY=NAME] bench/cowagree.sh COWSIM TRACE [REPLAY-OPTION...]
#   POLICY defaults to linux-6.12; options go to `cowsim replay` (--sysroot).
# Prints: TRACE POLICY AGREE/FAULTS PERCENT, then the disagreements by
# observed/outcome.
set -eu
COWSIM=$1; shift
POLICY=${POLICY:-linux-6.12}
TRACE=$1; shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$COWSIM" replay "$TRACE" -p "$POLICY" --faults --db "$tmp/r.db" --quiet \
	"$@" >/dev/null
python3 - "$tmp/r.db" "$(basename "$TRACE")" "$POLICY" <<'PY'
import sqlite3, sys
db, name, pol = sys.argv[1:]
con = sqlite3.connect(db)
AGREE = {'copy': ('copy', 'copy-file'), 'zero': ('new', 'zero-fill'),
         'reuse': ('reuse', 'none', 'mkwrite', 'swapin')}
n = ok = 0
bad = {}
for obs, out, k in con.execute(
        "SELECT observed, outcome, count(*) FROM fault_outcomes "
        "WHERE policy = ? AND observed IN ('copy', 'reuse', 'zero') "
        "GROUP BY 1, 2", (pol,)):
    n += k
    if out in AGREE[obs]:
        ok += k
    else:
        bad[(obs, out)] = k
if n == 0:
    sys.exit(f"cowagree: {name}: no labelled COW faults (no mm_page_alloc?)")
print(f"{name} {pol} {ok}/{n} {100.0 * ok / n:.1f}%")
for (obs, out), k in sorted(bad.items(), key=lambda x: -x[1]):
    print(f"  observed {obs}, {pol} {out}: {k}")
PY
