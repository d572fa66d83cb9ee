#!/bin/sh
# Build the project again with AddressSanitizer and UndefinedBehaviorSanitizer
# (and assertions on) and run the whole test suite in that build.
# usage: sanitizers.sh SOURCE_DIR BUILD_DIR
set -eu
SRC=$1
B=$2
cmake -S "$SRC" -B "$B" -DCOWSIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$B" -j "$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$B" --output-on-failure -j "$(nproc)"
