#!/bin/sh
# Build the libFuzzer targets (tests/fuzz/fuzz_target.c) with clang under
# ASan+UBSan and run each for a bounded time from its seed corpus
# (tests/fuzz/corpus/TARGET, small slices of the real traces; the trace.dat
# target also starts from traces/real/cowknown.dat).  Fails on any crash,
# sanitizer report, leak, timeout or out-of-memory; the offending input is
# kept in the build directory and its path printed.
#
# usage: tests/fuzz/run.sh SECONDS_PER_TARGET [BUILD_DIR] [TARGET...]
#        FUZZ_PARALLEL=1 tests/fuzz/run.sh 3600 build-fuzz   (a campaign)
# Exit status: 0 all targets clean, 1 a target failed, 77 no clang (skip;
# under CI=true a missing clang fails instead: .ci/deps installs it).
set -u
SECS=${1:-60}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${2:-$SRC/build-fuzz}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-ftrace perf scn evfile sim cfg db datrec dat elf}

# Under CI nothing skips: what is missing is a failed run.
SKIP=77
[ -n "${CI:-}" ] && SKIP=1

CC=$(command -v clang || command -v clang-14 || true)
if [ -z "$CC" ]; then
	echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)"
	exit $SKIP
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' |
	"$CC" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
	echo "fuzz: $CC cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
	exit $SKIP
fi
# -O1 with every assert kept (Debug): the fuzzer's speed, the checks' bite.
cmake -S "$SRC" -B "$B" -DCOWSIM_FUZZ=ON -DCMAKE_C_COMPILER="$CC" \
	-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null || exit 1
cmake --build "$B" -j "$(nproc)" >"$B/build.log" 2>&1 || { tail -30 "$B/build.log"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:max_allocation_size_mb=2048
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0
# One target: its corpus accumulates in $B/corpus-T across runs, crashes
# land in $B/crash-T; prints one summary line (inputs tried, edges, corpus)
# and returns 1 on a crash, leak, timeout or out-of-memory.
fuzz_one() {
	t=$1
	work="$B/corpus-$t"
	mkdir -p "$work" "$B/crash-$t"
	cp "$SRC/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null
	maxlen=65536
	# the INI target starts from the presets and cost files themselves
	[ "$t" = cfg ] && cp "$SRC"/configs/*.ini "$work/" 2>/dev/null
	if [ "$t" = dat ]; then
		cp "$SRC/traces/real/cowknown.dat" "$work/" 2>/dev/null
		maxlen=1200000
	fi
	[ "$t" = db ] && maxlen=262144
	[ "$t" = sim ] && maxlen=8192      # 512 events, x 6 presets, checked
	# A trace.dat of 1.1 MB takes seconds under ASan on a loaded machine:
	# a timeout is a hang only well past that.  In a campaign every
	# target runs at nice 19 beside the others: one that ran 79 ms alone
	# took 22 s there, so the bar is minutes.
	tmo=20
	[ "$t" = dat ] && tmo=120
	[ -n "${FUZZ_PARALLEL:-}" ] && tmo=600
	if $NICE "$B/fuzz_$t" -max_total_time="$SECS" -max_len="$maxlen" -timeout=$tmo \
		-rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$B/crash-$t/" "$work" >"$B/fuzz-$t.log" 2>&1; then
		echo "fuzz: $t: ${SECS}s, $(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz-$t.log") inputs," \
			"$(grep -o 'cov: [0-9]*' "$B/fuzz-$t.log" | tail -1 | cut -d' ' -f2) edges," \
			"corpus $(ls "$work" | wc -l): clean"
		return 0
	fi
	echo "FAIL: fuzz_$t (log $B/fuzz-$t.log, inputs in $B/crash-$t/)"
	grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$B/fuzz-$t.log" | head -8
	return 1
}

# FUZZ_PARALLEL=1 runs the targets at once (each under nice), for long
# campaigns; otherwise one after another.
NICE=
[ -n "${FUZZ_PARALLEL:-}" ] && NICE="nice -n 19"
failed=0
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	for t in $TARGETS; do
		( fuzz_one "$t" >"$B/result-$t" 2>&1 || echo FAILED >>"$B/result-$t" ) &
	done
	wait
	for t in $TARGETS; do
		cat "$B/result-$t"
		grep -q '^FAILED$' "$B/result-$t" && failed=$((failed + 1))
	done
else
	for t in $TARGETS; do
		echo "fuzz: $t for ${SECS}s"
		fuzz_one "$t" || failed=$((failed + 1))
	done
fi
echo "fuzz: $(echo $TARGETS | wc -w) targets, $failed failed"
[ "$failed" -eq 0 ]
