/*
 * fork.c - address spaces' birth and death, fork(), exec(), exit().
 *
 * Follows kernel/fork.c (mm_alloc(), mmput(), copy_process() ->
 * dup_mmap()), mm/mmap.c (exit_mmap()) and mm/memory.c's copy side:
 * copy_page_range() -> copy_pte_range() -> copy_present_pte() /
 * copy_nonpresent_pte() / copy_present_page().  Fork shares every anonymous
 * page write-protected, except where the policy copies it at once ("early
 * COW"): 5.9's copy_present_page() for pages that may be pinned
 * (70e806e4e645, with MMF_HAS_PINNED of 008cfe4418b3), or Piggin's 2009
 * decow_one_pte() for pages GUP ever touched.  The GUP-fast race with fork
 * (57efa1fe5957's write_protect_seq) is recorded here as e->race and
 * judged in gup.c.
 *
 * copy_table() runs once per PTE of every forked address space, so it
 * keeps to the common case and asks the policy only about pages its
 * fork_filter says it might copy (docs/bench.md).  The fork's modeled
 * latency comes from cost.c.  With fork_mode on-demand or async the copy
 * is made all the same and forkmode.c records which tables the design
 * shares or leaves to the child, and prices the fork without them.
 */
#include "internal.h"

#include "cost.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FORK_AHEAD 32     /* PTEs ahead whose frame fork's copy prefetches */

/* ------------------------------------------------------------------ */
/* address spaces                                                      */

int mm_alloc(struct sim_engine *e, uint32_t tgid, uint32_t *out)
{
	uint32_t i = e->free_mm;

	if (i) {
		e->free_mm = e->mm[i].next_free;
	} else {
		if (!e->nmm)
			e->nmm = 1;   /* index 0 is "none" */
		if (e->nmm >= e->capmm &&
		    grow(e, (void **)&e->mm, &e->capmm, (size_t)e->nmm + 1,
		         sizeof(*e->mm)))
			return -ENOMEM;
		i = e->nmm++;
	}
	struct sim_mm *mm = &e->mm[i];
	memset(mm, 0, sizeof(*mm));
	vma_set_init(&mm->vmas);
	mm->pgd = pt_alloc(&e->pt);
	if (!mm->pgd)
		return -ENOMEM;
	mm->nr_pt = 1;
	mm->id = ++e->next_mm_id;
	mm->users = 1;
	mm->tgid = tgid;
	*out = i;
	return 0;
}

/* exit_mmap(): tear down an address space nobody uses any more. */
static void mm_teardown(struct sim_engine *e, uint32_t mi)
{
	struct sim_mm *mm = &e->mm[mi];

	if (e->cfg->exit_drains_lru)
		sim_lru_drain_local(e);
	if (mm->fm_shared || mm->fm_jobs)
		fm_mm_gone(e, mm);
	for (size_t i = 0; i < mm->vmas.n; i++)
		zap_range(e, mm, mm->vmas.v[i].start, mm->vmas.v[i].end);
	/* References the process held through files (io_uring buffers, pipes
	 * it alone read, O_DIRECT in flight) die with it. */
	for (uint32_t h = 0; h < e->ngup; h++)
		if (e->gup[h].live && e->gup[h].mm_id == mm->id)
			gup_release(e, h);
	pt_root_free(&e->pt, mm->pgd);
	vma_set_free(&mm->vmas);
	mm->users = 0;
	mm->next_free = e->free_mm;
	e->free_mm = mi;
}

/* mmput(): drop a user of address space mi; the last one tears it down. */
void mm_put(struct sim_engine *e, uint32_t mi)
{
	assert(e->mm[mi].users > 0);
	if (--e->mm[mi].users == 0)
		mm_teardown(e, mi);
}

/* ------------------------------------------------------------------ */
/* fork, exec, exit                                                    */

struct fork_ctx {
	struct sim_mm *parent;
	struct sim_mm *child;
	struct sim_fork_rec *rec;
};

/* copy_present_page(): the policy wants the child to have its own copy of
 * frame f now ("early COW"), writable if the area is; the parent's PTE is
 * left alone (5.9) or write-protected as for sharing (2009). */
static int copy_early(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma, uint64_t *src, uint64_t *dst,
                      uint32_t f, enum pol_fork d)
{
	uint32_t nf;

	if (d == POL_FORK_COPY_WP)
		*src &= ~PTE_W;
	if (!(e->fr[f].flags & FR_GUPREF))
		e->m.unnecessary_fork_copies++;
	int err = anon_new(e, e->fr[f].owner, &nf);
	if (err)
		return err;
	map_new(e, fc->child, dst, nf, vma->flags & VMA_WRITE);
	fc->rec->pages_copied++;
	e->m.copies_fork++;
	return 0;
}

/*
 * copy_pte_range(): copy_present_pte() / copy_nonpresent_pte() for every
 * entry of one PTE table in [*pg, stop).  This loop runs once per PTE of
 * every forked address space - about one PTE per event in a fork-heavy
 * trace - so it keeps to the common case: a page that is shared, not
 * copied.  The policy is asked only about pages its fork_filter says it
 * might copy; the counts the loop changes in the child and the engine
 * (rss, resident, PTEs) are added once per table.
 */
static int copy_table(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma, uint64_t *stbl, uint64_t *dtbl,
                      uint64_t pg, uint64_t stop)
{
	bool cow = !(vma->flags & VMA_SHARED);
	/* Pages that fork_copy might not share (fork_filter): FR_GUPPED set,
	 * or - with has_pinned - a refcount that looks pinned.  Frames outside
	 * [0, thr) by refcount and without gmask are shared unasked. */
	uint16_t gmask = cow && (e->fork_filter & POL_FF_GUPPED) ? FR_GUPPED : 0;
	uint32_t thr = cow && (e->fork_filter & POL_FF_PINNED) &&
	               fc->parent->has_pinned && e->pin_bias > 1
	               ? e->pin_bias : UINT32_MAX;
	uint64_t ptes = 0, rss = 0, wp = 0;
	int err = 0;

	for (; pg < stop; pg++) {
		unsigned i = (unsigned)pg & (PT_ENTRIES - 1);
		/* Frames of consecutive PTEs are scattered: fetch some ahead so
		 * that their cache misses overlap. */
		uint64_t ahead = stbl[(i + FORK_AHEAD) & (PT_ENTRIES - 1)];
		if (ahead & PTE_P)
			__builtin_prefetch(&e->fr[pte_idx(ahead)], 1);
		uint64_t pte = stbl[i];
		if (!pte)
			continue;
		ptes++;
		if (!(pte & PTE_P)) {
			/* swap_duplicate(); 5.19 clears the exclusive bit in the
			 * parent (and the child never gets it). */
			e->slot[pte_idx(pte)].count++;
			stbl[i] = pte & ~PTE_SWPX;
			dtbl[i] = pte & ~PTE_SWPX;
			continue;
		}
		uint32_t f = pte_idx(pte);
		struct sim_frame *fr = &e->fr[f];
		if (f && ((fr->flags & gmask) || fr->ref >= thr) &&
		    (fr->flags & (FR_ANON | FR_KSM)) == FR_ANON) {
			enum pol_fork d = e->pol->fork_copy(e, fc->parent, f);
			if (d != POL_FORK_SHARE) {
				err = copy_early(e, fc, vma, &stbl[i], &dtbl[i], f, d);
				if (err)
					break;
				continue;
			}
		}
#ifndef NDEBUG
		else if (f && cow && (fr->flags & (FR_ANON | FR_KSM)) == FR_ANON) {
			/* The policy's fork_filter promised this. */
			assert(e->pol->fork_copy(e, fc->parent, f) == POL_FORK_SHARE);
		}
#endif
		if (cow) {
			/* copy_present_pte(): only a writable PTE costs the
			 * parent an atomic ptep_set_wrprotect() (and, with
			 * it, the exclusive bit's clearing and a TLB flush
			 * to come); a page forked before is read-only. */
			wp += (pte & PTE_W) != 0;
			pte &= ~PTE_W;
			stbl[i] = pte;
			if (f)
				fr->flags &= (uint16_t)~FR_EXCL;
		}
		/* map_frame() of the same page for the child. */
		dtbl[i] = pte;
		rss++;
		if (f) {
			fr->map++;
			if (fr->map > e->m.max_mapcount)
				e->m.max_mapcount = fr->map;
			frame_get(e, f, 1);
		}
	}
	fc->rec->ptes += ptes;
	fc->rec->ptes_wp += wp;
	fc->child->rss += rss;
	e->resident += rss;
	return err;
}

static int copy_range(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma)
{
	uint64_t pg = vma->start, end = vma->end;
	uint32_t t;

	while ((t = pt_next_pte_table(&e->pt, fc->parent->pgd, &pg, end))) {
		uint64_t *stbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		if (stop > end)
			stop = end;
		/* Skip to the first entry in use: an empty stretch needs no
		 * table in the child. */
		while (pg < stop && !stbl[pg & (PT_ENTRIES - 1)])
			pg++;
		if (pg == stop)
			continue;
		uint32_t n = 0;
		uint32_t d = pt_pte_table(&e->pt, fc->child->pgd, pg, true, &n);
		if (!d)
			return -ENOMEM;
		fc->child->nr_pt += n;
		uint64_t ptes0 = fc->rec->ptes;
		uint32_t copies0 = fc->rec->pages_copied;
		int err = copy_table(e, fc, vma, stbl, pt_table(&e->pt, d), pg,
		                     stop);
		if (err)
			return err;
		/* Another design shares the table, or leaves it to the child:
		 * forkmode.c keeps the ledger of it. */
		if (e->cfg->fork_mode != FORK_COPY &&
		    (err = fm_fork_table(e, fc->parent, fc->child, pg,
		                         fc->rec->ptes - ptes0,
		                         fc->rec->pages_copied - copies0, fc->rec)))
			return err;
		pg = stop;
	}
	return 0;
}

/* dup_mmap() + copy_page_range(). */
static int mm_dup(struct sim_engine *e, uint32_t pmi, uint32_t cmi,
                  struct sim_fork_rec *rec)
{
	struct sim_mm *parent = &e->mm[pmi], *child = &e->mm[cmi];
	int err;

	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	err = vma_set_copy(&child->vmas, &parent->vmas);
	if (err)
		return err;
	/* MADV_DONTFORK areas are not inherited at all. */
	for (size_t i = child->vmas.n; i-- > 0;) {
		struct vma *v = &child->vmas.v[i];
		if (v->flags & VMA_DONTCOPY) {
			err = vma_unmap(&child->vmas, v->start, v->end);
			if (err)
				return err;
		} else if (v->flags & VMA_WIPEONFORK) {
			v->flags &= ~VMA_HAS_ANON;
		}
	}
	rec->vmas = (uint32_t)child->vmas.n;
	/* File-backed as the fault path reads it (memory.c): not anonymous,
	 * and a file named. */
	for (size_t i = 0; i < child->vmas.n; i++)
		rec->vmas_file += !(child->vmas.v[i].flags & VMA_ANON) &&
		                  child->vmas.v[i].file;
	struct fork_ctx fc = { .parent = parent, .child = child, .rec = rec };
	uint32_t pt0 = child->nr_pt;
	for (size_t i = 0; i < parent->vmas.n; i++) {
		struct vma *v = &parent->vmas.v[i];
		/* vma_needs_copy(): only areas with anonymous pages; the rest
		 * the child refaults. */
		if (!(v->flags & VMA_HAS_ANON) ||
		    (v->flags & (VMA_DONTCOPY | VMA_WIPEONFORK | VMA_SPECIAL)))
			continue;
		uint64_t done = rec->ptes;
		err = copy_range(e, &fc, v);
		if (err)
			return err;
		if (rec->ptes != done)
			rec->vmas_copied++;
		parent = fc.parent = &e->mm[pmi];
		child = fc.child = &e->mm[cmi];
	}
	rec->pt_pages = child->nr_pt - pt0 + 1;   /* + the PGD */
	return 0;
}

/* EV_FORK: copy_process() for a fork, vfork, clone or new thread of task
 * t.  Returns 0 or -ENOMEM. */
int ev_fork(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t ctid = ev->arg;
	uint32_t flags = ev->flags;
	bool vm = flags & EV_CLONE_VM;
	bool thread = flags & EV_CLONE_THREAD;
	uint32_t ptgid = e->task[t - 1].tgid;
	uint32_t ctgid = thread ? ptgid : ctid;
	uint32_t cmi, ct;
	int err;

	if (ctid == ev->tid || !ctid)
		return 0;
	uint32_t stale = task_find(e, ctid);
	if (stale) {
		/* Its exit was lost; pid reused. */
		uint32_t sp = e->task[stale - 1].proc;
		task_gone(e, stale);
		proc_thread_lost(e, ctid);
		if (sp != SIM_NONE && !proc_alive(e, sp))
			proc_lost(e, sp);
		t = task_find(e, ev->tid);   /* task_gone() moves tasks */
	}
	uint32_t pmi = e->task[t - 1].mm;
	uint32_t cproc = thread ? e->task[t - 1].proc : SIM_NONE;
	if (thread)
		e->m.threads++;
	else
		e->m.forks++;
	e->m.vforks += sim_fork_kind(flags) == SIM_KIND_VFORK;
	e->m.vm_clones += sim_fork_kind(flags) == SIM_KIND_CLONE_VM;
	if (vm) {
		cmi = pmi;
		e->mm[cmi].users++;
		err = task_new(e, ctid, ctgid, cmi, cproc, &ct);
		if (err)
			return err;
		proc_thread_forked(e, t, ct);
		if (thread)
			return 0;
	} else {
		err = mm_alloc(e, ctgid, &cmi);
		if (err)
			return err;
		err = task_new(e, ctid, ctgid, cmi, cproc, &ct);
		if (err)
			return err;
		proc_thread_forked(e, t, ct);
	}
	if (!thread && (err = proc_fork(e, t, ct, (uint32_t)e->nforks)))
		return err;
	if (e->nforks == e->capforks) {
		size_t old = e->capforks;
		if (grow_array((void **)&e->forks, &e->capforks, e->nforks + 1,
		               sizeof(*e->forks), 64, false))
			return -ENOMEM;
		acct(e, (int64_t)((e->capforks - old) * sizeof(*e->forks)));
	}
	struct sim_fork_rec rec = {
		.ts = ev->ts, .parent_tid = ev->tid, .child_tid = ctid,
		.parent_mm = e->mm[pmi].id, .child_mm = e->mm[cmi].id,
		.clone_flags = flags, .parent_rss = e->mm[pmi].rss,
	};
	if (!vm) {
		err = mm_dup(e, pmi, cmi, &rec);
		if (err)
			return err;
		e->m.ptes_copied += rec.ptes;
		e->m.pt_pages_copied += rec.pt_pages;
		e->race = (struct sim_race){ .kind = 2, .mm = pmi };
	}
	rec.latency_ns = (uint64_t)cost_fork(&e->cfg->cost, &rec, vm);
	if (!vm && e->cfg->fork_mode != FORK_COPY &&
	    (err = fm_fork_end(e, pmi, cmi, (uint32_t)e->nforks, &rec)))
		return err;
	e->forks[e->nforks++] = rec;
	return 0;
}

/* EV_FORK_DONE: the kernel-observed latency of one of the last 64 forks. */
void ev_fork_done(struct sim_engine *e, const struct cs_ev *ev)
{
	for (size_t i = e->nforks; i-- > 0 && i + 64 >= e->nforks;) {
		struct sim_fork_rec *r = &e->forks[i];
		if (r->child_tid == ev->arg && r->parent_tid == ev->tid) {
			r->observed_ns = ev->aux;
			return;
		}
	}
}

/* EV_EXEC: exec_mmap(): task t gets a new, empty address space and drops
 * its old one.  Returns 0 or -ENOMEM. */
int ev_exec(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t omi = e->task[t - 1].mm, mi;
	int err = mm_alloc(e, ev->tgid, &mi);
	if (err)
		return err;
	e->task[t - 1].mm = mi;
	proc_exec(e, t, ev->arg);
	e->m.execs++;
	mm_put(e, omi);
	return 0;
}
