/*
 * engine.c - an engine's lifecycle and results: sim_create(), sim_destroy(),
 * sim_finish() and the accessors of sim.h.
 *
 * The engine does what every Linux version does alike - allocate, map,
 * count, unmap, free - and asks the policy (pol.h) at each point where
 * versions differ.  It is split along the kernel's own files, so that each
 * operation is found where an MM developer would look for it:
 *
 *   memory.c      faults, zap, and the event loop (mm/memory.c)
 *   fork.c        fork, exec, exit, address spaces (kernel/fork.c, copy_*)
 *   mmap.c        mmap, munmap, mprotect, mremap, brk, madvise
 *   swap.c        LRU batches, swap slots, swap cache, swap-in and -out
 *   rmap.c        every PTE that maps a frame (mm/rmap.c)
 *   gup.c         GUP references (mm/gup.c)
 *   ksm.c         KSM merging (mm/ksm.c)
 *   migrate.c     page migration (mm/migrate.c)
 *   filemap.c     the page cache (mm/filemap.c)
 *   page_alloc.c  frames (mm/page_alloc.c)
 *   task.c        tasks
 *   cost.c        the fork and fault latency model
 *   tables.c      growth, and the memory count of lib/hmap.h tables
 *   internal.h    what they share (as mm/internal.h)
 *
 * Each operation is a simplified form of the kernel function named in its
 * comment: no locks, no THP, no hugetlb (see docs/model.md for what is left
 * out and why).
 *
 * Error handling: every function that can allocate returns 0 or -ENOMEM and
 * the engine is unusable after -ENOMEM.  Everything else that can go wrong
 * is the trace's fault (lost events, a process we never saw start) and is
 * counted in the metrics and skipped.
 */
#include "internal.h"
#include "cost.h"

#include <stdlib.h>

int sim_create(const struct sim_config *cfg, struct sim_engine **out)
{
	struct sim_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->pol = cfg->model;
	e->pin_bias = cfg->pin_bias > 1 ? cfg->pin_bias : 1;
	if (e->pol)
		e->fork_filter = e->pol->fork_filter(cfg);
	e->swap_on = true;
	pt_pool_init(&e->pt);
	acct(e, sizeof(*e));
	if (!e->pol || !cfg->lru_batch || proc_create(e) ||
	    grow(e, (void **)&e->fr, &e->capfr, 1024, sizeof(*e->fr)))
		goto fail;
	/* Frame 0 is the shared zero page: never counted, never freed. */
	e->fr[0].flags = FR_USED | FR_ZERO;
	e->nfr = 1;
	if (batch_setup(e, 0))
		goto fail;
	e->capsamples = 1024;
	e->samples = malloc(e->capsamples * sizeof(*e->samples));
	if (!e->samples)
		goto fail;
	acct(e, (int64_t)(e->capsamples * sizeof(*e->samples)));
	e->sample_every = 64;
	e->next_sample = 1;
	cost_faults(&cfg->cost, e->fault_ns);
	*out = e;
	return 0;
fail:
	sim_destroy(e);
	return -ENOMEM;
}

void sim_destroy(struct sim_engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 1; i < e->nmm; i++)
		if (e->mm[i].users)
			vma_set_free(&e->mm[i].vmas);
	for (uint32_t g = 0; g < e->ngup; g++)
		free(e->gup[g].frames);
	pt_pool_free(&e->pt);
	free(e->fr);
	free(e->free_fr);
	free(e->slot);
	sim_side_free(&e->swapof);
	sim_side_free(&e->gupof);
	free(e->mm);
	free(e->task);
	task_index_free(&e->tix);
	free(e->gup);
	gup_index_free(&e->gix);
	free(e->batch);
	free(e->batch_n);
	u64map_free(&e->pc);
	free(e->ksm_key);
	free(e->ksm_frame);
	u64map_free(&e->pfn);
	free(e->forks);
	free(e->fork_lat_scratch);
	free(e->samples);
	proc_destroy(e);
	free(e);
}

void sim_set_swap(struct sim_engine *e, bool on)
{
	e->swap_on = on;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

enum sim_fork_kind sim_fork_kind(uint32_t clone_flags)
{
	if (clone_flags & EV_CLONE_THREAD)
		return SIM_KIND_THREAD;
	if (clone_flags & EV_CLONE_VFORK)
		return SIM_KIND_VFORK;
	if (clone_flags & EV_CLONE_VM)
		return SIM_KIND_CLONE_VM;
	return SIM_KIND_FORK;
}

const char *sim_fork_kind_name(enum sim_fork_kind k)
{
	static const char *const names[SIM_KIND_NR] = {
		[SIM_KIND_FORK] = "fork", [SIM_KIND_VFORK] = "vfork",
		[SIM_KIND_CLONE_VM] = "clone-vm", [SIM_KIND_THREAD] = "thread",
	};
	return (unsigned)k < SIM_KIND_NR ? names[k] : NULL;
}

/* Nearest-rank percentile of a sorted array: the value at rank
 * ceil(p * n / 100), as the store's views compute it (reports/store.c). */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	if (!n)
		return 0;
	size_t rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

void sim_finish(struct sim_engine *e)
{
	if (e->race.kind == 1)
		swapout_commit(e, e->race.frame, e->race.pg);
	e->race.kind = 0;

	/* Percentiles over forks only (sim_fork_kind()): vforks and CLONE_VM
	 * clones copy no page table, and a vfork's observed time is its
	 * child's run until exec.  The vforks' observed times get a median of
	 * their own, apart. */
	size_t cap = e->nforks ? e->nforks : 1;
	uint64_t *v = malloc(cap * sizeof(*v));
	uint64_t *o = malloc(cap * sizeof(*o));
	uint64_t *w = malloc(cap * sizeof(*w));
	size_t n = 0, no = 0, nw = 0;
	if (v && o && w) {
		for (size_t i = 0; i < e->nforks; i++) {
			const struct sim_fork_rec *r = &e->forks[i];
			enum sim_fork_kind k = sim_fork_kind(r->clone_flags);
			if (k == SIM_KIND_VFORK && r->observed_ns)
				w[nw++] = r->observed_ns;
			if (k != SIM_KIND_FORK)
				continue;
			v[n++] = r->latency_ns;
			e->m.fork_latency_ns_sum += r->latency_ns;
			if (r->observed_ns)
				o[no++] = r->observed_ns;
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		qsort(o, no, sizeof(*o), cmp_u64);
		qsort(w, nw, sizeof(*w), cmp_u64);
		e->m.fork_latency_ns_p50 = pct(v, n, 50);
		e->m.fork_latency_ns_p99 = pct(v, n, 99);
		e->m.fork_latency_ns_max = n ? v[n - 1] : 0;
		e->m.observed_fork_latency_ns_p50 = pct(o, no, 50);
		e->m.observed_fork_latency_ns_p99 = pct(o, no, 99);
		e->m.observed_forks = no;
		e->m.observed_vfork_ns_p50 = pct(w, nw, 50);
		e->m.observed_vforks = nw;
	}
	free(w);
	free(v);
	free(o);
	e->m.final_frames = e->frames_used;
	e->m.final_pt_pages = e->pt.live;
	e->m.peak_pt_pages = e->pt.peak;
	take_sample(e);
}

const struct sim_metrics *sim_metrics(const struct sim_engine *e)
{
	return &e->m;
}

const struct sim_fork_rec *sim_forks(const struct sim_engine *e, size_t *n)
{
	*n = e->nforks;
	return e->forks;
}

const struct sim_sample *sim_samples(const struct sim_engine *e, size_t *n)
{
	*n = e->nsamples;
	return e->samples;
}

uint64_t sim_memory_bytes(const struct sim_engine *e)
{
	return e->bytes + e->pt.nchunks * (uint64_t)PT_CHUNK_TABLES * 4096 +
	       e->pt.capchunks * sizeof(void *);
}

uint64_t sim_peak_memory_bytes(const struct sim_engine *e)
{
	return e->peak_bytes + e->pt.nchunks * (uint64_t)PT_CHUNK_TABLES * 4096 +
	       e->pt.capchunks * sizeof(void *);
}

uint64_t sim_resident_pages(const struct sim_engine *e)
{
	return e->resident;
}

void sim_set_fault_hook(struct sim_engine *e, sim_fault_hook fn, void *ctx)
{
	e->fault_hook = fn;
	e->fault_ctx = ctx;
}

const char *sim_out_name(enum sim_out o)
{
	static const char *const names[OUT_NR] = {
		[OUT_NONE] = "none", [OUT_MAP] = "map", [OUT_NEW] = "new",
		[OUT_ZERO_FILL] = "zero-fill", [OUT_COPY] = "copy",
		[OUT_COPY_FILE] = "copy-file", [OUT_REUSE] = "reuse",
		[OUT_MKWRITE] = "mkwrite", [OUT_SWAPIN] = "swapin",
		[OUT_BAD] = "bad", [OUT_SEGV] = "segv",
	};
	return o < OUT_NR ? names[o] : "?";
}
