/*
 * mktrace.c - write a small deterministic event file with what the report
 * draws and the synthetic generator does not make: kernel-observed fork
 * latencies (EV_FORK_DONE), kernel-labelled fault outcomes (EV_OBSERVED)
 * and workload phases (markers).  A server touches its heap, then forks
 * snapshot children one after another; each child writes a few shared
 * pages (the kernel copied: labelled "copy") and exits; the parent then
 * writes pages it alone maps again (labelled "reuse").  Before each fork
 * the parent also first-touches two pages on CPU 1 and writes them again
 * on CPU 0 after the child is gone: the kernel reused them (the label),
 * page-count kernels may not (the remote CPU's LRU batch holds a
 * reference), so policies disagree with the kernel on some faults.  Pids
 * of the children recycle, as on a busy machine.  Every third snapshot
 * the server also spawns a helper with vfork() + exec() (as posix_spawn()
 * does), whose kernel-observed time is the parent's wait until the exec -
 * longer than any fork here, so that a median that mixes them in is
 * visibly not the forks' - and once it starts a CLONE_VM worker (a clone
 * that shares the address space with neither CLONE_VFORK nor
 * CLONE_THREAD).
 *
 * usage: mktrace FILE [FORKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importers/evfile.h"

#define HEAP 0x7f0000000000ull
#define PAGES 512

static struct cs_ev buf[1 << 16];
static size_t n;
static uint64_t now = 1000000;

static struct cs_ev *emit(unsigned type, uint32_t tid, uint32_t tgid)
{
	struct cs_ev *e = &buf[n++];
	memset(e, 0, sizeof(*e));
	now += 1000;
	e->ts = now;
	e->type = (uint8_t)type;
	e->tid = tid;
	e->tgid = tgid;
	return e;
}

static void write_page_cpu(uint32_t tid, uint64_t pg, unsigned obs, int prot,
                           uint16_t cpu)
{
	struct cs_ev *e = emit(EV_FAULT, tid, tid);
	e->cpu = cpu;
	e->addr = HEAP + pg * 4096;
	e->flags = EV_PF_WRITE | EV_PF_USER | (prot ? EV_PF_PROT : 0);
	if (obs) {
		e = emit(EV_OBSERVED, tid, tid);
		e->cpu = cpu;
		e->addr = HEAP + pg * 4096;
		e->flags = obs;
	}
}

static void write_page(uint32_t tid, uint64_t pg, unsigned obs, int prot)
{
	write_page_cpu(tid, pg, obs, prot, 0);
}

int main(int argc, char **argv)
{
	struct strtab strs;
	struct evf_writer *w;
	char err[512];
	int forks = argc > 2 ? atoi(argv[2]) : 24;

	if (argc < 2 || forks < 1 || forks > 500) {
		fprintf(stderr, "usage: mktrace FILE [FORKS (1-500)]\n");
		return 2;
	}
	strtab_init(&strs);
	uint32_t exe = strtab_intern(&strs, "/usr/bin/kvstore", 16);
	uint32_t load = strtab_intern(&strs, "cowsim: phase load", 18);
	uint32_t snap = strtab_intern(&strs, "cowsim: phase snapshots", 23);
	uint32_t sh = strtab_intern(&strs, "/bin/sh", 7);

	struct cs_ev *e = emit(EV_EXEC, 100, 100);
	e->arg = exe;
	e = emit(EV_MMAP, 100, 100);
	e->addr = HEAP;
	e->len = PAGES + 1024;
	e->flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON;
	emit(EV_MARKER, 100, 100)->arg = load;
	for (uint64_t p = 0; p < PAGES; p++)
		write_page(100, p, p % 8 ? 0 : EV_OBS_NEW, 0);
	emit(EV_MARKER, 100, 100)->arg = snap;
	for (int k = 0; k < forks; k++) {
		uint32_t child = 2000 + (uint32_t)(k % 5);   /* pids recycle */
		uint64_t fresh = PAGES + 2 * (uint64_t)k;
		write_page_cpu(100, fresh, EV_OBS_NEW, 0, 1);
		write_page_cpu(100, fresh + 1, EV_OBS_NEW, 0, 1);
		e = emit(EV_FORK, 100, 100);
		e->arg = child;
		uint64_t fork_ts = now;
		/* The child runs; the parent's fork() returns later. */
		for (int j = 0; j < 4; j++)
			write_page(child, (uint64_t)(k * 7 + j * 13) % PAGES,
			           EV_OBS_COPY, 1);
		e = emit(EV_FORK_DONE, 100, 100);
		e->arg = child;
		e->aux = 150000 + (uint64_t)((k * 7919) % 23) * 9000;
		(void)fork_ts;
		e = emit(EV_EXIT, child, child);
		e->flags = EV_EXIT_GROUP;
		/* After the child's exit the parent is the only mapper again. */
		for (int j = 0; j < 6; j++)
			write_page(100, (uint64_t)(k * 11 + j * 17) % PAGES,
			           j % 2 ? 0 : EV_OBS_REUSE, 1);
		write_page(100, fresh, EV_OBS_REUSE, 1);
		write_page(100, fresh + 1, EV_OBS_REUSE, 1);
		if (k % 3 == 1 || k == 2) {
			uint32_t helper = 3000 + (uint32_t)(k % 4);
			int vfork = k % 3 == 1;
			e = emit(EV_FORK, 100, 100);
			e->arg = helper;
			e->flags = EV_CLONE_VM | (vfork ? EV_CLONE_VFORK : 0);
			if (vfork)
				emit(EV_EXEC, helper, helper)->arg = sh;
			e = emit(EV_FORK_DONE, 100, 100);
			e->arg = helper;
			e->aux = vfork ? 700000 + (uint64_t)k * 11000 : 40000;
			e = emit(EV_EXIT, helper, helper);
			e->flags = EV_EXIT_GROUP;
		}
	}
	if (evf_create(argv[1], &w, err, sizeof(err)) ||
	    evf_write(w, buf, n) ||
	    evf_finish(w, &strs, NULL, 0, err, sizeof(err))) {
		fprintf(stderr, "mktrace: %s\n", err);
		return 1;
	}
	strtab_free(&strs);
	return 0;
}
