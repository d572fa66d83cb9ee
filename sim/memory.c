/*
 * memory.c - page faults, unmapping, and the event loop around them.
 *
 * The fault side follows mm/memory.c: handle_mm_fault() -> do_anonymous_page()
 * / do_read_fault() / do_cow_fault() / do_shared_fault() (fault_none()),
 * do_swap_page() (fault_swap()), do_wp_page() -> wp_page_reuse() /
 * wp_page_copy() / wp_page_shared() (wp_fault()), with FAULT_FLAG_UNSHARE
 * (5.19, a7f226604170) for GUP.  Where versions differ - reuse or copy,
 * exclusive at swap-in or not - the policy decides (pol.h); the rest is the
 * same in every version.  The unmap side is zap_pte_range() and
 * free_pgtables().
 *
 * The event loop is here too, and that is on purpose: nine events in ten of
 * a real trace are page faults, and the block loop (sim_apply_block()) with
 * its prefetch pipeline, apply_one() and the forced-inline fault path
 * (HOT_INLINE) must be one translation unit for the compiler to keep them
 * in registers (docs/bench.md, "How the bar was reached").  Everything rarer
 * is a call into the file named after its kernel counterpart.
 *
 * The workload this file is shaped for is the replay loop: tens of millions
 * of events, most of them page faults that hit an address space and a PTE
 * table the previous fault also hit.  So: direct-mapped caches of tasks and
 * of each address space's PTE tables, no allocation on the fault path
 * except for new frames (amortised growth of one array), and the policy
 * consulted only for write faults on write-protected anonymous pages.
 */
#include "internal.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define MAX_CPUS 256u
#define ZAP_AHEAD 32      /* PTEs ahead whose frame zap_range() prefetches */
#define PIPE_PTE 16      /* events ahead whose PTE is prefetched */
#define PIPE_FRAME 6    /* events ahead whose frame is prefetched */
#define PIPE_RING 32     /* PTEs found at the first stage, kept for the second */
#define PIPE_FREE 16     /* depth in the free stack of the frame prefetched */
/* The fault path of the block loop: inlined whatever the compiler's size
 * heuristics say, as it runs for nine events in ten (docs/bench.md). */
#define HOT_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------ */
/* zap and free_pgtables                                               */

/* zap_pte_range() for a swap entry: drop its slot reference. */
static void zap_swap_pte(struct sim_engine *e, uint64_t pte)
{
	/* free_swap_and_cache(): the last swap PTE gone, an unmapped
	 * swap-cache page has no reason to stay. */
	uint32_t s = pte_idx(pte);
	assert(e->slot[s].count > 0);
	e->slot[s].count--;
	uint32_t f = e->slot[s].frame;
	if (!e->slot[s].count && f && !e->fr[f].map)
		swapcache_del(e, f);
	else
		slot_maybe_free(e, s);
}

/*
 * Zap every entry in [start, end) pages of mm (zap_pte_range()).  Exit,
 * munmap and MADV_DONTNEED run this over every PTE a process has: it keeps
 * to the present-page case and settles rss and resident once per table.
 */
void zap_range(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
               uint64_t end)
{
	uint64_t pg = start;
	uint32_t t;

	while ((t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
		uint64_t *tbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		uint64_t rss = 0;
		if (stop > end)
			stop = end;
		for (; pg < stop; pg++) {
			unsigned i = (unsigned)pg & (PT_ENTRIES - 1);
			/* Frames of consecutive PTEs are scattered: fetch some
			 * ahead so that their cache misses overlap. */
			uint64_t ahead = tbl[(i + ZAP_AHEAD) & (PT_ENTRIES - 1)];
			if (ahead & PTE_P)
				__builtin_prefetch(&e->fr[pte_idx(ahead)], 1);
			uint64_t pte = tbl[i];
			if (!pte)
				continue;
			tbl[i] = 0;
			if (!(pte & PTE_P)) {
				zap_swap_pte(e, pte);
				continue;
			}
			rss++;
			uint32_t f = pte_idx(pte);
			if (f) {
				assert(e->fr[f].map > 0);
				e->fr[f].map--;
				frame_put(e, f, 1);
			}
		}
		mm->rss -= rss;
		e->resident -= rss;
	}
}

/* Free page tables left empty by an unmap of [start, end), within the gap
 * between the neighbouring areas (free_pgtables()'s floor and ceiling). */
void prune_tables(struct sim_engine *e, struct sim_mm *mm,
                  uint64_t start, uint64_t end)
{
	size_t i = vma_lower_bound(&mm->vmas, start);
	uint64_t floor = 0, ceil = EV_USER_TOP >> EV_PAGE_SHIFT;

	if (i > 0)
		floor = mm->vmas.v[i - 1].end;
	if (i < mm->vmas.n)
		ceil = mm->vmas.v[i].start;
	if (ceil > end && i < mm->vmas.n && mm->vmas.v[i].start < end)
		return;
	uint32_t n = pt_prune(&e->pt, mm->pgd, floor, ceil);
	mm->nr_pt -= n;
	if (n)
		memset(mm->pte_key, 0, sizeof(mm->pte_key));
}

/* ------------------------------------------------------------------ */
/* faults                                                              */

/* A new writable anonymous page at the empty *ptep of a private area: a
 * fresh page, or the copy of a file page.  No GUP reference to check, and
 * anon_new() has stamped it with mm already.  Returns 0 or -ENOMEM. */
static inline int anon_fill(struct sim_engine *e, struct sim_mm *mm,
                            struct vma *vma, uint64_t *ptep)
{
	uint32_t f;
	int err = anon_new(e, mm->id, &f);
	if (err)
		return err;
	map_new(e, mm, ptep, f, true);
	vma->flags |= VMA_HAS_ANON;
	return 0;
}

/* do_anonymous_page() for a write.  Most faults of a trace are this one,
 * so fault_page() takes it inline. */
static inline int anon_write_fault(struct sim_engine *e, struct sim_mm *mm,
                                   struct vma *vma, uint64_t *ptep,
                                   enum sim_out *out)
{
	int err = anon_fill(e, mm, vma, ptep);
	if (err)
		return err;
	e->m.new_pages++;
	*out = OUT_NEW;
	return 0;
}

/* do_anonymous_page() / do_read_fault() / do_cow_fault() /
 * do_shared_fault(): the PTE is empty. */
int fault_none(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
               uint64_t pg, uint64_t *ptep, bool write,
               enum sim_out *out)
{
	uint32_t f;
	int err;

	if (vma->flags & VMA_SHARED) {
		uint32_t file = vma->file;
		err = pagecache_get(e, file, vma->pgoff + (pg - vma->start), &f);
		if (err)
			return err;
		map_frame(e, mm, ptep, f, write);
		*out = write ? OUT_MKWRITE : OUT_MAP;
		return 0;
	}
	if ((vma->flags & VMA_ANON) || !vma->file) {
		if (!write) {
			/* The shared zero page: no counts, read-only. */
			map_frame(e, mm, ptep, 0, false);
			*out = OUT_MAP;
			return 0;
		}
		return anon_write_fault(e, mm, vma, ptep, out);
	}
	/* Private file mapping: read the page cache page; a write copies. */
	uint32_t pc;
	err = pagecache_get(e, vma->file, vma->pgoff + (pg - vma->start), &pc);
	if (err)
		return err;
	if (!write) {
		map_frame(e, mm, ptep, pc, false);
		*out = OUT_MAP;
		return 0;
	}
	err = anon_fill(e, mm, vma, ptep);
	if (err)
		return err;
	e->m.copies_file++;
	*out = OUT_COPY_FILE;
	return 0;
}

/* do_swap_page(): the PTE names a swap slot. */
int fault_swap(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
               uint64_t pg, uint64_t *ptep, bool write,
               enum sim_out *out)
{
	uint64_t pte = *ptep;
	uint32_t s = pte_idx(pte);
	bool excl = (pte & PTE_SWPX) != 0;
	uint32_t f = e->slot[s].frame;
	int err;

	if (!f && (err = swap_readin(e, s, &f)))
		return err;
	/* swap_free(entry): this PTE stops naming the slot.  The slot cannot
	 * be freed here: the swap cache still holds it. */
	*ptep = 0;
	e->slot[s].count--;

	e->hold = f;
	unsigned d = e->pol->swapin(e, vma, f, write, excl);
	e->hold = 0;
	struct sim_frame *fr = &e->fr[f];
	if (d & POL_SWAPIN_EXCL)
		fr->flags |= FR_EXCL;
	else
		fr->flags &= (uint16_t)~FR_EXCL;
	bool writable = (d & POL_SWAPIN_WRITABLE) && (vma->flags & VMA_WRITE);
	map_frame(e, mm, ptep, f, writable);
	vma->flags |= VMA_HAS_ANON;
	if (writable)
		oracle_write_grant(e, mm, f);
	*out = OUT_SWAPIN;
	if (write && !writable)
		return wp_fault(e, mm, vma, pg, ptep, false, out);
	return 0;
}

/*
 * do_wp_page() on a present, write-protected PTE (or a GUP unshare,
 * FAULT_FLAG_UNSHARE, which leaves the PTE read-only).
 */
int wp_fault(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
             uint64_t pg, uint64_t *ptep, bool unshare,
             enum sim_out *out)
{
	uint32_t f = pte_idx(*ptep);
	uint32_t nf;
	int err;

	if ((vma->flags & VMA_SHARED) && !unshare) {
		*ptep |= PTE_W;         /* wp_page_shared(): no copy */
		*out = OUT_MKWRITE;
		return 0;
	}
	if (f == 0 || (e->fr[f].flags & FR_FILE)) {
		/* The zero page or a page-cache page in a private mapping:
		 * never reused, always copied (wp_page_copy()). */
		err = anon_new(e, unshare ? e->fr[f].owner : mm->id, &nf);
		if (err)
			return err;
		if (f)
			oracle_cow_replaced(e, mm, pg, f);
		*ptep = 0;
		mm->rss--;
		e->resident--;
		if (f) {
			e->fr[f].map--;
			frame_put(e, f, 1);
		}
		map_new(e, mm, ptep, nf, !unshare);
		vma->flags |= VMA_HAS_ANON;
		if (f == 0) {
			e->m.zero_fills++;
			*out = OUT_ZERO_FILL;
		} else {
			e->m.copies_file++;
			*out = OUT_COPY_FILE;
		}
		return 0;
	}

	if (e->pol->wp_anon(e, f, unshare) == POL_REUSE) {
		struct sim_frame *fr = &e->fr[f];
		if (fr->flags & FR_KSM)
			ksm_forget(e, f);
		fr->flags |= FR_EXCL;          /* page_move_anon_rmap() */
		if (!unshare) {
			*ptep |= PTE_W;
			oracle_write_grant(e, mm, f);
		}
		e->m.reuses++;
		*out = OUT_REUSE;
		return 0;
	}

	oracle_copy(e, f);
	err = anon_new(e, unshare ? e->fr[f].owner : mm->id, &nf);
	if (err)
		return err;
	oracle_cow_replaced(e, mm, pg, f);
	*ptep = 0;
	mm->rss--;
	e->resident--;
	e->fr[f].map--;
	frame_put(e, f, 1);
	map_new(e, mm, ptep, nf, !unshare);
	e->m.copies_fault++;
	*out = OUT_COPY;
	return 0;
}

/* handle_mm_fault() for one page.  *out says what happened. */
HOT_INLINE int fault_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                          bool write, bool instr, enum sim_out *out)
{
	struct vma *vma = vma_find(&mm->vmas, pg);

	if (!vma) {
		*out = OUT_BAD;
		return 0;
	}
	if ((write && !(vma->flags & VMA_WRITE)) ||
	    (instr && !(vma->flags & VMA_EXEC)) ||
	    !(vma->flags & VMA_PROT_MASK)) {
		*out = OUT_SEGV;
		return 0;
	}
	uint64_t *ptep = pte_ptr(e, mm, pg, true);
	if (!ptep)
		return -ENOMEM;
	uint64_t pte = *ptep;
	if (!pte) {
		if (write && (vma->flags & (VMA_SHARED | VMA_ANON)) == VMA_ANON)
			return anon_write_fault(e, mm, vma, ptep, out);
		return fault_none(e, mm, vma, pg, ptep, write, out);
	}
	if (!(pte & PTE_P))
		return fault_swap(e, mm, vma, pg, ptep, write, out);
	if (write && !(pte & PTE_W)) {
		e->m.wp_faults++;
		return wp_fault(e, mm, vma, pg, ptep, false, out);
	}
	*out = OUT_NONE;
	return 0;
}

/* Tell the fault hook of a write fault, and remember which fault it was
 * for its label (ev_observed()).  Event index: the event being applied. */
static void fault_log(struct sim_engine *e, struct sim_task *tk,
                      const struct sim_mm *mm, const struct cs_ev *ev,
                      bool write)
{
	uint64_t seq = e->m.events - 1;

	tk->last_seq = (uint32_t)seq;
	tk->last_hooked = write;
	if (!write)
		return;
	struct sim_fault_rec r = { .seq = seq, .ts = ev->ts, .addr = ev->addr,
	                           .tid = tk->tid, .tgid = tk->tgid,
	                           .proc = tk->proc, .mm = mm->id,
	                           .flags = ev->flags, .out = tk->last_out };
	e->fault_hook(e->fault_ctx, &r, 0);
}

HOT_INLINE int ev_fault(struct sim_engine *e, uint32_t t,
                        const struct cs_ev *ev)
{
	struct sim_task *tk = &e->task[t - 1];
	struct sim_mm *mm = &e->mm[tk->mm];
	bool write = ev->flags & EV_PF_WRITE;
	enum sim_out out;

	int err = fault_page(e, mm, ev->addr >> EV_PAGE_SHIFT, write,
	                     ev->flags & EV_PF_INSTR, &out);
	if (err)
		return err;
	e->fault_n[write][out]++;
	tk = &e->task[t - 1];
	tk->last_addr = ev->addr;
	tk->last_out = (uint8_t)out;
	if (e->fault_hook)
		fault_log(e, tk, mm, ev, write);
	return 0;
}

/* Move the per-outcome fault counts into the metrics (see fault_n). */
static void fault_fold(struct sim_engine *e)
{
	for (int w = 0; w < 2; w++) {
		for (int o = 0; o < OUT_NR; o++) {
			uint64_t n = e->fault_n[w][o];
			if (!n)
				continue;
			e->fault_n[w][o] = 0;
			e->m.faults += n;
			if (w)
				e->m.write_faults += n;
			if (o == OUT_NONE)
				e->m.spurious_faults += n;
			else if (o == OUT_BAD)
				e->m.bad_faults += n;
			else if (o == OUT_SEGV)
				e->m.segv_faults += n;
			e->m.fault_latency_ns_sum += n * e->fault_ns[o];
		}
	}
}

/* Does an observed kernel outcome agree with what the engine did? */
static bool outcome_agrees(unsigned obs, enum sim_out o)
{
	switch (obs) {
	case EV_OBS_COPY:
		return o == OUT_COPY || o == OUT_COPY_FILE;
	case EV_OBS_ZERO:
	case EV_OBS_NEW:
		return o == OUT_ZERO_FILL || o == OUT_NEW;
	case EV_OBS_REUSE:
		return o == OUT_REUSE || o == OUT_NONE || o == OUT_MKWRITE ||
		       o == OUT_SWAPIN;
	default:
		return false;
	}
}

static void ev_observed(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	struct sim_task *tk = &e->task[t - 1];

	switch (ev->flags) {
	case EV_OBS_COPY: e->m.observed_copies++; break;
	case EV_OBS_REUSE: e->m.observed_reuses++; break;
	case EV_OBS_ZERO: e->m.observed_zero_fills++; break;
	case EV_OBS_NEW: e->m.observed_new++; break;
	default: return;
	}
	if ((tk->last_addr >> EV_PAGE_SHIFT) != (ev->addr >> EV_PAGE_SHIFT))
		return;
	bool ok = outcome_agrees(ev->flags, (enum sim_out)tk->last_out);
	e->m.labelled++;
	e->m.agree += ok;
	/* A first touch of fresh anonymous memory is new under every model:
	 * counting it would only dilute the faults where policies differ. */
	if (ev->flags != EV_OBS_NEW) {
		e->m.cow_labelled++;
		e->m.cow_agree += ok;
	}
	if (e->fault_hook && tk->last_hooked) {
		/* The fault is at most 2^32 events back: its low bits say
		 * which. */
		uint64_t now = e->m.events - 1;
		uint64_t seq = now - (uint32_t)((uint32_t)now - tk->last_seq);
		struct sim_fault_rec r = { .seq = seq, .ts = ev->ts,
		                           .addr = ev->addr, .tid = tk->tid,
		                           .tgid = tk->tgid, .proc = tk->proc,
		                           .mm = e->mm[tk->mm].id,
		                           .out = tk->last_out,
		                           .observed = (uint8_t)ev->flags };
		e->fault_hook(e->fault_ctx, &r, 1);
	}
}

/* ------------------------------------------------------------------ */
/* the event loop                                                      */

void take_sample(struct sim_engine *e)
{
	if (e->nsamples == e->capsamples) {
		/* Keep every other sample and halve the rate: the series stays
		 * at most capsamples long whatever the trace length. */
		size_t w = 0;
		for (size_t i = 0; i < e->nsamples; i += 2)
			e->samples[w++] = e->samples[i];
		e->nsamples = w;
		e->sample_every *= 2;
	}
	e->samples[e->nsamples++] = (struct sim_sample){
		.ts = e->now, .events = e->m.events,
		.copies = e->m.copies_fault + e->m.copies_file + e->m.copies_fork,
		.zero_fills = e->m.zero_fills, .frames = e->frames_used,
		.pt_pages = pt_modeled(&e->pt),
	};
	e->next_sample = e->m.events + e->sample_every;
}

static int apply_slow(struct sim_engine *e, const struct cs_ev *ev)
{
	uint32_t t;
	int err = 0;
	bool swap_on = e->swap_on;

	/* A swap-out waiting for its racing GUP-fast: anything else first
	 * lets it finish. */
	struct sim_race race = { .kind = 0 };
	if (e->race.kind) {
		race = e->race;
		if (!(ev->type == EV_GUP && (ev->flags & EV_GUP_RACED))) {
			e->race.kind = 0;
			if (race.kind == 1)
				swapout_commit(e, race.frame, race.pg);
		}
	}

	if (ev->type == EV_MARKER) {
		/* No task is made for a marker. */
		t = task_find(e, ev->tid);
		err = proc_marker(e, ev, t ? e->task[t - 1].proc : SIM_NONE);
		goto out;
	}
	if (ev->type == EV_NONE)
		goto out;
	/* An exec, or the snapshot of a process that was running before the
	 * trace began, may be the first the stream says of a task: that is an
	 * introduction, not a lost event. */
	err = task_get(e, ev->tid, ev->tgid,
	               ev->type == EV_EXEC ||
	               (ev->type == EV_MMAP && (ev->flags & EV_MAP_SNAPSHOT)) ||
	               ev->type == EV_PAGE_INIT, &t);
	if (err)
		return err;
	/* A task first seen at its exit leaves no process behind. */
	if (e->task[t - 1].proc == SIM_NONE && ev->type != EV_EXIT &&
	    (err = proc_attach(e, t)))
		return err;
	struct sim_mm *mm = &e->mm[e->task[t - 1].mm];

	/* fork_mode on-demand or async: settle the tables this event reads
	 * or changes first (forkmode.c). */
	if (e->fm.live)
		fm_event(e, mm, ev);

	switch ((enum ev_type)ev->type) {
	case EV_FAULT:
		err = ev_fault(e, t, ev);
		break;
	case EV_FORK:
		err = ev_fork(e, t, ev);
		break;
	case EV_FORK_DONE:
		ev_fork_done(e, ev);
		break;
	case EV_EXEC:
		err = ev_exec(e, t, ev);
		break;
	case EV_COMM:
		proc_comm(e, t, ev->arg);
		break;
	case EV_EXIT: {
		uint32_t p = e->task[t - 1].proc;
		e->m.exits++;
		task_gone(e, t);
		if (ev->flags & EV_EXIT_GROUP)
			group_gone(e, ev->tgid);
		if (p != SIM_NONE &&
		    ((ev->flags & EV_EXIT_GROUP) || !proc_alive(e, p)))
			proc_end(e, p, ev->ts);
		break;
	}
	case EV_MMAP:
		err = ev_mmap(e, mm, ev);
		break;
	case EV_MUNMAP:
		err = unmap_pages(e, mm, ev->addr >> EV_PAGE_SHIFT,
		                  (ev->addr >> EV_PAGE_SHIFT) + ev->len);
		break;
	case EV_MPROTECT:
		err = ev_mprotect(e, mm, ev);
		break;
	case EV_MREMAP:
		err = ev_mremap(e, mm, ev);
		break;
	case EV_BRK:
		err = ev_brk(e, mm, ev);
		break;
	case EV_MADVISE:
		err = ev_madvise(e, mm, ev, swap_on);
		break;
	case EV_GUP:
		err = ev_gup(e, t, ev);
		if (!err && race.kind == 1)
			swapout_commit(e, race.frame, race.pg);
		e->race.kind = 0;
		break;
	case EV_GUP_PUT:
		ev_gup_put(e, ev);
		break;
	case EV_SWAPOUT:
		err = ev_swapout(e, mm, ev, swap_on);
		break;
	case EV_SWAPIN:
		err = ev_swapin(e, mm, ev);
		break;
	case EV_KSM:
		err = ev_ksm(e, mm, ev);
		break;
	case EV_MIGRATE:
		err = ev_migrate(e, mm, ev);
		break;
	case EV_OBSERVED:
		ev_observed(e, t, ev);
		break;
	case EV_PAGE_INIT:
		err = ev_page_init(e, mm, ev);
		break;
	default:
		break;
	}
out:
	return err;
}

/*
 * One event.  Page faults of known tasks - nine events in ten of a real
 * trace - take a short path that the compiler can keep in registers;
 * everything else goes through apply_slow().
 */
HOT_INLINE int apply_one(struct sim_engine *e, const struct cs_ev *ev)
{
	int err;

	e->now = ev->ts;
	e->cpu = ev->cpu < MAX_CPUS ? ev->cpu : ev->cpu % MAX_CPUS;
	if (e->cpu >= e->ncpu && (err = batch_setup(e, e->cpu)))
		return err;
	e->m.events++;
	uint32_t t;
	/* A pending race or a fork_mode ledger (forkmode.c) sends every
	 * event through apply_slow(); one test for both. */
	if (ev->type == EV_FAULT && !((unsigned)e->race.kind | e->fm.live) &&
	    (t = task_find(e, ev->tid)))
		err = ev_fault(e, t, ev);
	else
		err = apply_slow(e, ev);
	if (e->m.events >= e->next_sample)
		take_sample(e);
	return err;
}

int sim_apply(struct sim_engine *e, const struct cs_ev *ev)
{
	int err = apply_one(e, ev);
	fault_fold(e);
	return err;
}

/* The PTE a future fault will read, if its task is in the task cache and
 * its PTE table exists; NULL otherwise.  Only for prefetching: it may be
 * stale by the time the fault is applied.  Filling the PTE-table cache here
 * is safe: the cache holds only (key, table) pairs, and everything that
 * frees a table clears it. */
static inline const uint64_t *peek_pte(struct sim_engine *e,
                                       const struct cs_ev *ev)
{
	if (ev->type != EV_FAULT)
		return NULL;
	uint32_t c = e->tcache[ev->tid & (TASK_CACHE - 1)];
	if (c - 1 >= e->ntask || e->task[c - 1].tid != ev->tid)
		return NULL;
	struct sim_mm *mm = &e->mm[e->task[c - 1].mm];
	if (!mm->users)
		return NULL;
	/* pte_ptr() without allocation: a miss walks the tables now and
	 * fills the cache, so the fault itself will not have to. */
	return pte_ptr(e, mm, ev->addr >> EV_PAGE_SHIFT, false);
}

int sim_apply_block(struct sim_engine *e, const struct cs_ev *ev, size_t n)
{
	/* A two-stage software pipeline over the block: PIPE_PTE events
	 * ahead, find the PTE and prefetch it; PIPE_FRAME events ahead, read
	 * that PTE and prefetch its frame.  Faults of a real trace hit
	 * scattered pages, and without this every one of them waits for two
	 * cache misses in turn.  The PTE found at the first stage is kept in
	 * a ring for the second; one not found then (its table did not exist
	 * yet) is not looked for again: such a page is new, with no frame to
	 * fetch.  A third prefetch is for a frame the allocations to come
	 * will take from the free stack: PIPE_FREE deep, as a page is
	 * allocated about every other event. */
	const uint64_t *ring[PIPE_RING];

	_Static_assert(PIPE_RING >= PIPE_PTE + 1 &&
	               (PIPE_RING & (PIPE_RING - 1)) == 0, "ring size");
	for (size_t i = 0; i < n && i < PIPE_PTE; i++)
		ring[i] = peek_pte(e, &ev[i]);
	for (size_t i = 0; i < n; i++) {
		if (i + PIPE_PTE < n) {
			const uint64_t *p = peek_pte(e, &ev[i + PIPE_PTE]);
			if (p)
				__builtin_prefetch(p);
			ring[(i + PIPE_PTE) & (PIPE_RING - 1)] = p;
		}
		if (i + PIPE_FRAME < n) {
			const uint64_t *p = ring[(i + PIPE_FRAME) & (PIPE_RING - 1)];
			if (p && (*p & PTE_P))
				__builtin_prefetch(&e->fr[pte_idx(*p)], 1);
		}
		if (e->nfree >= PIPE_FREE)
			__builtin_prefetch(&e->fr[e->free_fr[e->nfree - PIPE_FREE]], 1);
		int err = apply_one(e, &ev[i]);
		if (err) {
			fault_fold(e);
			return err;
		}
	}
	fault_fold(e);
	return 0;
}
