/*
 * fuzz_target.c - libFuzzer harnesses for every parser of outside input:
 * built once per target with -DFUZZ_<TARGET> (tests/fuzz/run.sh, or the
 * COWSIM_FUZZ CMake option with clang).
 *
 *   FUZZ_FTRACE   ftrace / trace-cmd report text, through the whole import
 *                 (front end + core), as `cowsim import --format ftrace`;
 *                 plain or compressed, so that the gzip, xz and zstd
 *                 decoders (importers/zin.c) are fuzzed too (seeds of each)
 *   FUZZ_PERF     perf script text, likewise
 *   FUZZ_DAT      trace.dat through libtracecmd and the dat front end
 *   FUZZ_SCN      the scenario language (scn_parse_text)
 *   FUZZ_EVFILE   the binary event file reader (evf_open_source)
 *
 * The readers take paths (libtracecmd can only open files), so the input
 * goes to a memfd whose /proc/self/fd path is handed over: no disk I/O,
 * no temporary files left behind.  Every event is drained so that the
 * core's whole pipeline runs; the only acceptable outcomes are success or
 * an error message - a crash, a sanitizer report or a hang is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "importers/evfile.h"
#include "importers/open.h"
#include "importers/imp_fe.h"
#include "importers/scn.h"

#if defined(FUZZ_FTRACE) || defined(FUZZ_PERF) || defined(FUZZ_DAT) || \
    defined(FUZZ_EVFILE)
static void drain(struct ev_source *src)
{
	static struct cs_ev buf[1024];
	for (;;) {
		long n = evsrc_next(src, buf, 1024);
		if (n <= 0)
			break;
	}
	evsrc_close(src);
}

static int to_memfd(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t k = write(fd, data + off, size - off);
		if (k <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)k;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
#if defined(FUZZ_SCN)
	char *text = malloc(size + 1);
	struct scn s;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (!scn_parse_text("fuzz.scn", text, &s, err, sizeof(err)))
		scn_free(&s);
	free(text);
#else
	char path[64];
	struct ev_source *src;
	int fd = to_memfd(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
#if defined(FUZZ_EVFILE)
	if (!evf_open_source(path, &src, err, sizeof(err)))
		drain(src);
#else
	struct evsrc_opts o = { .quiet = 1 };
#if defined(FUZZ_FTRACE)
	const char *fmt = "ftrace";
#elif defined(FUZZ_PERF)
	const char *fmt = "perf";
#else
	const char *fmt = "dat";
#endif
	if (!imp_open_source(path, fmt, &o, &src, err, sizeof(err)))
		drain(src);
#endif
	close(fd);
#endif
	return 0;
}
