#!/bin/sh
# Build the libFuzzer targets (tests/fuzz/fuzz_target.c) with clang under
# ASan+UBSan and run each for a bounded time from its seed corpus
# (tests/fuzz/corpus/TARGET, small slices of the real traces; the trace.dat
# target also starts from traces/real/cowknown.dat).  Fails on any crash,
# sanitizer report, leak, timeout or out-of-memory; the offending input is
# kept in the build directory and its path printed.
#
# usage: tests/fuzz/run.sh SECONDS_PER_TARGET [BUILD_DIR] [TARGET...]
# Exit status: 0 all targets clean, 1 a target failed, 77 no clang (skip;
# under CI=true a missing clang fails instead: .ci/deps installs it).
set -u
SECS=${1:-60}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${2:-$SRC/build-fuzz}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-ftrace perf scn evfile sim cfg dat}

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
cmake -S "$SRC" -B "$B" -DCOWSIM_FUZZ=ON -DCMAKE_C_COMPILER="$CC" \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
cmake --build "$B" -j "$(nproc)" >"$B/build.log" 2>&1 || { tail -30 "$B/build.log"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:max_allocation_size_mb=2048
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0
pass=0
failed=0
for t in $TARGETS; do
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
	echo "fuzz: $t for ${SECS}s"
	if "$B/fuzz_$t" -max_total_time="$SECS" -max_len="$maxlen" -timeout=20 \
		-rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$B/crash-$t/" "$work" >"$B/fuzz-$t.log" 2>&1; then
		pass=$((pass + 1))
		grep -E "stat::number_of_executed_units|cov:" "$B/fuzz-$t.log" | tail -2
	else
		failed=$((failed + 1))
		echo "FAIL: fuzz_$t (log $B/fuzz-$t.log, inputs in $B/crash-$t/)"
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$B/fuzz-$t.log" | head -8
	fi
done
echo "fuzz: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
