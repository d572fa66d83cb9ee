#!/bin/bash
# capture-build.sh: a fork/exec-heavy build (make -j2 over a generated C
# project of $BUILD_FILES files, gcc), in three formats.  make runs under
# cowsim-launch --follow-exec, so every exec in the tree (make, gcc, cc1, as,
# collect2, ld) gets a maps snapshot; the price is ptrace stops at every
# fork/exec, which inflates fork latency in this trace.
NAME=build
ROOT_EXE='make'
source "$(dirname "$(readlink -f "$0")")/lib.sh"
NEED_TOOLS+=(make gcc)

BUILD_FILES=${BUILD_FILES:-12}

prepare() {
	local src=$COWSIM_WORK/src i
	mkdir -p "$src"
	log "generating a $BUILD_FILES-file C project in $src"
	{
		echo '#ifndef PROJ_H'
		echo '#define PROJ_H'
		echo '#include <stddef.h>'
		for i in $(seq -w 1 "$BUILD_FILES"); do
			echo "long unit$i(const long *v, size_t n);"
		done
		echo '#endif'
	} >"$src/proj.h"
	for i in $(seq -w 1 "$BUILD_FILES"); do
		cat >"$src/unit$i.c" <<C
#include <stdio.h>
#include <string.h>
#include "proj.h"
struct acc$i { long sum, min, max; char tag[32]; };
static void step$i(struct acc$i *a, long x)
{
	a->sum += x * $((10#$i));
	if (x < a->min) a->min = x;
	if (x > a->max) a->max = x;
}
long unit$i(const long *v, size_t n)
{
	struct acc$i a = { 0, 1L << 40, -(1L << 40), "" };
	snprintf(a.tag, sizeof(a.tag), "unit%d", $((10#$i)));
	for (size_t k = 0; k < n; k++)
		step$i(&a, v[k] ^ (long)strlen(a.tag));
	return a.sum + a.min - a.max;
}
C
	done
	{
		echo '#include <stdio.h>'
		echo '#include "proj.h"'
		echo 'int main(void) {'
		echo '	long v[64]; for (int k = 0; k < 64; k++) v[k] = k * 7 - 100;'
		echo '	long t = 0;'
		for i in $(seq -w 1 "$BUILD_FILES"); do echo "	t += unit$i(v, 64);"; done
		echo '	printf("%ld\n", t); return 0; }'
	} >"$src/main.c"
	{
		echo 'CC = gcc'
		echo 'CFLAGS = -O2 -Wall'
		echo "OBJS = main.o $(for i in $(seq -w 1 "$BUILD_FILES"); do printf 'unit%s.o ' "$i"; done)"
		echo 'proj: $(OBJS)'
		printf '\t$(CC) -o $@ $(OBJS)\n'
		echo '%.o: %.c proj.h'
		printf '\t$(CC) $(CFLAGS) -c -o $@ $<\n'
	} >"$src/Makefile"
	# warm the page cache and check the project builds, untraced
	if ! make -s -C "$src" -j2 >/dev/null || ! "$src/proj" >/dev/null; then
		die "generated project does not build"
	fi
	make -s -C "$src" -j2 -B >/dev/null
	rm -f "$src"/*.o "$src/proj"
}

workload() {
	local b=$COWSIM_WORK/build-$COWSIM_FMT
	rm -rf "$b"
	cp -r "$COWSIM_WORK/src" "$b"
	"$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME --follow-exec -- \
		make -C "$b" -j2 >"$COWSIM_WORK/make.$COWSIM_FMT.log" 2>&1 ||
		{ cat "$COWSIM_WORK/make.$COWSIM_FMT.log" >&2; return 1; }
	{
		echo "### build ($COWSIM_FMT run): make -j2, $BUILD_FILES units + main, gcc $(gcc -dumpfullversion)"
		echo "proj prints: $("$b/proj")"
	} >"$COWSIM_WORK/notes.$COWSIM_FMT"
	cat "$COWSIM_WORK/notes.$COWSIM_FMT" >&2
}

cow_main "$@"
