#!/bin/sh
# The fork-timing traces bundled for calibration (traces/real/forksweep*,
# pgbench*, apache; see traces/real/README.md) still import without loss and
# keep their forks: per trace, the importer's fork and vfork counts, no
# dropped events, and after a replay into a store every fork row with the
# kernel-observed latency (the parent's clone, sys_enter to sys_exit) and the
# number of forks of more than 1,000 PTEs that the fit's second bar is
# measured on.  The expected counts are those measured on the files when
# they were captured (traces/real/README.md); a change here means an
# importer or engine change lost or invented forks.
# usage: real-forks.sh COWSIM SOURCE_DIR SQLQ
set -u
COWSIM=$1
SRC=$2
SQLQ=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# json_field NAME FILE: the integer of "NAME": N in import's json summary
json_field() { sed -n "s/^  \"$1\": \([0-9]*\),*$/\1/p" "$2"; }

# check TRACE COMM FORKS VFORKS BIG: BIG = forks (not vforks) of > 1000 PTEs
check() {
	tr=$SRC/traces/real/$1
	[ -f "$tr" ] || { fail "$1: missing"; return; }
	if ! "$COWSIM" import -q -f json --comm "$2" -o "$T/ev" "$tr" >"$T/sum" 2>"$T/err"; then
		fail "$1: import failed: $(head -c 300 "$T/err")"
		return
	fi
	got="$(json_field forks "$T/sum") $(json_field vforks "$T/sum") $(json_field dropped_events "$T/sum")"
	[ "$got" = "$3 $4 0" ] ||
		fail "$1: import: forks vforks dropped = $got, expected $3 $4 0"
	rm -f "$T/r.db"
	if ! "$COWSIM" replay -q --comm "$2" -p linux-6.12 --db "$T/r.db" "$tr" \
		>/dev/null 2>"$T/err"; then
		fail "$1: replay failed: $(head -c 300 "$T/err")"
		return
	fi
	# CLONE_VFORK = 0x4000
	got=$("$SQLQ" "$T/r.db" "SELECT
		sum((clone_flags & 16384) = 0), sum((clone_flags & 16384) != 0),
		count(observed_dur), sum(observed_dur > 0),
		sum((clone_flags & 16384) = 0 AND ptes > 1000) FROM forks")
	want="$3|$4|$(($3 + $4))|$(($3 + $4))|$5"
	[ "$got" = "$want" ] ||
		fail "$1: store forks|vforks|observed|observed>0|forks>1000 PTEs = $got, expected $want"
}

check forksweep.dat.zst forksweep 288 16 128
check forksweep-holdout.dat.zst forksweep 156 16 60
check pgbench.dat.zst postgres 208 0 0
check pgbench-holdout.dat.zst postgres 158 0 0
check apache.dat.zst apache2 306 0 0
check redis-bgsave-2.dat.zst redis-server 1 0 1
check py-multiprocessing-2.dat.zst python3 3 0 3

[ "$fails" = 0 ] || { echo "real-forks.sh: $fails failure(s)"; exit 1; }
echo "real-forks.sh: all checks passed"
