/*
 * synth.h - a seeded generator of large, realistic event streams for
 * benchmarks and tests.
 *
 * The stream imitates a fork-heavy service: a long-lived server (threads,
 * a heap grown by brk, anonymous arenas, text and data of its binary)
 * that keeps allocating and writing; snapshot children that fork from it,
 * read, write a little and exit (Redis BGSAVE); worker children that
 * allocate and write their own memory (multiprocessing); fork+exec children
 * with a small image of their own (build farms); O_DIRECT-like pins and
 * vmsplice references with their releases; munmap, MADV_DONTNEED and
 * arena recycling that keep the resident set bounded.
 *
 * Faults are only emitted where a real kernel would fault: the generator
 * tracks, per process and page, "present" and "writable" as the kernel
 * would see them (first touch, read of an untouched page, write to a page
 * fork() write-protected), so the stream has the mix of first-touch, zero
 * page, COW and reuse faults that real traces have, not spurious ones.
 *
 * Its rates, fault mix and locality (a thread's faults come in bursts and
 * mostly on the page after its previous one) are calibrated against the
 * bundled real traces: docs/bench.md has the numbers, bench/tracemix.py
 * measures them.
 *
 * The same options and seed always give the same stream.
 */
#ifndef COWSIM_SYNTH_H
#define COWSIM_SYNTH_H

#include <stddef.h>
#include <stdint.h>

struct synth_opts {
	uint64_t events;       /* how many events to write */
	uint64_t seed;
	uint32_t max_procs;    /* live processes at most (default 16) */
	uint32_t cpus;         /* CPUs events are spread over (default 4) */
	uint32_t arena_pages;  /* pages per server arena (default 16384) */
	uint32_t arenas;       /* server arenas (default 4) */
	int progress;          /* a progress line on stderr (lib/progress.h) */
};

void synth_defaults(struct synth_opts *o);

/*
 * Write the stream to path as a binary event file.  Returns 0, or a
 * negative errno with a message in err.
 */
int synth_write(const struct synth_opts *o, const char *path, char *err,
                size_t errlen);

#endif
