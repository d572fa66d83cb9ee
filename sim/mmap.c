/*
 * mmap.c - the address-space system calls: mmap(), munmap(), mprotect(),
 * mremap(), brk(), madvise(), and the initial pages of a process the trace
 * found running.
 *
 * Follows mm/mmap.c (mmap_region(), do_vmi_munmap() -> unmap_region(),
 * brk()), mm/mprotect.c (change_pte_range(); 6.0's 64fe24a3e05e makes an
 * exclusive anonymous PTE writable at once where the policy allows),
 * mm/mremap.c (move_vma(), move_page_tables()) and mm/madvise.c
 * (MADV_DONTNEED/FREE/REMOVE, DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK,
 * PAGEOUT, COLD).  The areas themselves are lib/vma.h's.
 */
#include "internal.h"

#include <errno.h>

/* File ids of shared anonymous areas (shmem, a file of their own each):
 * above the stream's string ids. */
#define SHMEM_FILE_BASE 0x80000000u

/* An EV_MMAP's EV_PROT_* and EV_MAP_* bits are the VMA flags of the same
 * name: every bit below the flags only the engine sets (VMA_DONTCOPY and
 * up) passes straight into the area. */
#define MMAP_VMA_FLAGS (VMA_DONTCOPY - 1u)
_Static_assert(EV_PROT_MASK == VMA_PROT_MASK && EV_MAP_SHARED == VMA_SHARED &&
               EV_MAP_ANON == VMA_ANON && EV_MAP_STACK == VMA_STACK &&
               EV_MAP_SPECIAL == VMA_SPECIAL &&
               EV_MAP_INFERRED == VMA_INFERRED &&
               EV_MAP_SNAPSHOT == VMA_SNAPSHOT && EV_MAP_HEAP == VMA_HEAP &&
               EV_MAP_NORESERVE == VMA_NORESERVE,
               "EV_MAP_* and VMA_* bits differ");

/* munmap() of pages [start, end): unmap_region() - zap, drop the areas,
 * free_pgtables().  Returns 0 or -ENOMEM. */
int unmap_pages(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
                uint64_t end)
{
	if (e->cfg->munmap_drains_lru)
		sim_lru_drain_local(e);
	zap_range(e, mm, start, end);
	int err = vma_unmap(&mm->vmas, start, end);
	if (err)
		return err;
	prune_tables(e, mm, start, end);
	return 0;
}

/* EV_MMAP: mmap_region(), MAP_FIXED included.  Returns 0 or -ENOMEM. */
int ev_mmap(struct sim_engine *e, struct sim_mm *mm,
            const struct cs_ev *ev)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;
	uint32_t flags = ev->flags & MMAP_VMA_FLAGS;
	uint32_t file = ev->arg;
	uint64_t pgoff = ev->aux;
	int err;

	if (ev->flags & EV_MAP_INFERRED)
		e->m.inferred_vmas++;
	/* MAP_FIXED over an existing mapping unmaps it first. */
	if (vma_lower_bound(&mm->vmas, start) < mm->vmas.n) {
		zap_range(e, mm, start, end);
		err = vma_unmap(&mm->vmas, start, end);
		if (err)
			return err;
	}
	if (!(flags & VMA_SHARED) || (flags & VMA_WRITE))
		flags |= VMA_MAYWRITE;
	if ((flags & VMA_SHARED) && !file) {
		/* Shared anonymous memory is shmem: give it a file of its own,
		 * which fork() passes on with the area. */
		file = SHMEM_FILE_BASE | (uint32_t)(++e->next_mm_id);
		pgoff = 0;
	} else if (!file) {
		pgoff = start;   /* anonymous vm_pgoff, so that areas merge */
	}
	return vma_map(&mm->vmas, start, end, flags, file, pgoff);
}

/* EV_MPROTECT: mprotect_fixup() + change_pte_range().  Returns 0 or
 * -ENOMEM. */
int ev_mprotect(struct sim_engine *e, struct sim_mm *mm,
                const struct cs_ev *ev)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;
	uint32_t prot = ev->flags & EV_PROT_MASK;
	int err = vma_update(&mm->vmas, start, end, VMA_PROT_MASK, prot);
	if (err)
		return err;
	/* change_pte_range(): removing write protects every PTE; adding it
	 * makes a PTE writable only where the policy allows (6.0+). */
	uint64_t pg = start;
	uint32_t t;
	while ((t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
		uint64_t *tbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		if (stop > end)
			stop = end;
		for (; pg < stop; pg++) {
			uint64_t *p = &tbl[pg & (PT_ENTRIES - 1)];
			if (!(*p & PTE_P))
				continue;
			if (!(prot & EV_PROT_WRITE)) {
				*p &= ~PTE_W;
				continue;
			}
			uint32_t f = pte_idx(*p);
			struct vma *v = vma_find(&mm->vmas, pg);
			if (!(*p & PTE_W) && f && v && !(v->flags & VMA_SHARED) &&
			    (e->fr[f].flags & FR_ANON) &&
			    e->pol->mprotect_writable(e, f)) {
				*p |= PTE_W;
				oracle_write_grant(e, mm, f);
			}
		}
	}
	return 0;
}

/* EV_MREMAP: shrink, grow in place, or move_vma().  Returns 0 or -ENOMEM. */
int ev_mremap(struct sim_engine *e, struct sim_mm *mm,
              const struct cs_ev *ev)
{
	uint64_t old = ev->addr >> EV_PAGE_SHIFT, oldn = ev->len;
	uint64_t nw = ev->aux >> EV_PAGE_SHIFT, newn = ev->arg;
	struct vma *v = vma_find(&mm->vmas, old);
	int err;

	if (!v || !newn)
		return 0;
	struct vma tmpl = *v;
	if (nw == old) {
		if (newn < oldn)
			return unmap_pages(e, mm, old + newn, old + oldn);
		return vma_map(&mm->vmas, old + oldn, old + newn, tmpl.flags,
		               tmpl.file, tmpl.pgoff + (old + oldn - tmpl.start));
	}
	/* move_vma(): the pages move with their PTEs; no copy, no count
	 * changes.  Areas are re-created piecewise at the new place. */
	uint64_t keep = oldn < newn ? oldn : newn;
	if (vma_lower_bound(&mm->vmas, nw) < mm->vmas.n) {
		zap_range(e, mm, nw, nw + newn);
		err = vma_unmap(&mm->vmas, nw, nw + newn);
		if (err)
			return err;
	}
	for (uint64_t pg = old; pg < old + keep;) {
		struct vma *s = vma_find(&mm->vmas, pg);
		if (!s) {
			pg++;
			continue;
		}
		uint64_t stop = s->end < old + keep ? s->end : old + keep;
		err = vma_map(&mm->vmas, nw + (pg - old), nw + (stop - old),
		              s->flags, s->file, s->pgoff + (pg - s->start));
		if (err)
			return err;
		pg = stop;
	}
	for (uint64_t i = 0; i < keep; i++) {
		uint64_t *src = pte_ptr(e, mm, old + i, false);
		if (!src || !*src)
			continue;
		uint64_t val = *src;
		*src = 0;
		uint64_t *dst = pte_ptr(e, mm, nw + i, true);
		if (!dst)
			return -ENOMEM;
		*dst = val;
	}
	if (newn > keep) {
		struct vma *last = vma_find(&mm->vmas, nw + keep - 1);
		if (last) {
			struct vma t2 = *last;
			err = vma_map(&mm->vmas, nw + keep, nw + newn, t2.flags,
			              t2.file, t2.pgoff + (nw + keep - t2.start));
			if (err)
				return err;
		}
	}
	return unmap_pages(e, mm, old, old + oldn);
}

/* EV_BRK: brk() grows or shrinks the heap.  Returns 0 or -ENOMEM. */
int ev_brk(struct sim_engine *e, struct sim_mm *mm,
           const struct cs_ev *ev)
{
	uint64_t nbrk = (ev->addr + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
	uint64_t obrk = ev->aux ? (ev->aux + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT
	                        : mm->brk;

	if (!obrk || !nbrk) {
		/* brk(0), or the first brk the trace shows: it only tells where
		 * the heap is. */
		if (nbrk)
			mm->brk_start = mm->brk = nbrk;
		return 0;
	}
	if (!mm->brk_start)
		mm->brk_start = obrk;
	mm->brk = nbrk;
	if (nbrk > obrk) {
		/* brk() grows only into free space (the check against the next
		 * area's vm_start_gap()), so a trace that shows it succeeding
		 * says nothing was mapped there: whatever the model holds in
		 * the range is stale - typically an area inferred from faults -
		 * and goes, as under MAP_FIXED.  Laying the heap over it
		 * instead would leave a shared page's writable PTE in a
		 * private area. */
		size_t i = vma_lower_bound(&mm->vmas, obrk);
		if (i < mm->vmas.n && mm->vmas.v[i].start < nbrk) {
			zap_range(e, mm, obrk, nbrk);
			int err = vma_unmap(&mm->vmas, obrk, nbrk);
			if (err)
				return err;
		}
		return vma_map(&mm->vmas, obrk, nbrk,
		               VMA_READ | VMA_WRITE | VMA_ANON | VMA_HEAP |
		               VMA_MAYWRITE, 0, obrk);
	}
	if (nbrk < obrk)
		return unmap_pages(e, mm, nbrk, obrk);
	return 0;
}

/* EV_MADVISE: madvise_vma_behavior() for the advice the stream carries;
 * other advice changes nothing here.  Returns 0 or -ENOMEM. */
int ev_madvise(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev, bool swap_on)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;

	switch (ev->flags) {
	case EV_MADV_DONTNEED:
	case EV_MADV_FREE:
	case EV_MADV_REMOVE:
		/* zap_page_range_single(): drains the local LRU cache first. */
		if (e->cfg->munmap_drains_lru)
			sim_lru_drain_local(e);
		zap_range(e, mm, start, end);
		return 0;
	case EV_MADV_DONTFORK:
		return vma_update(&mm->vmas, start, end, 0, VMA_DONTCOPY);
	case EV_MADV_DOFORK:
		return vma_update(&mm->vmas, start, end, VMA_DONTCOPY, 0);
	case EV_MADV_WIPEONFORK:
		return vma_update(&mm->vmas, start, end, 0, VMA_WIPEONFORK);
	case EV_MADV_KEEPONFORK:
		return vma_update(&mm->vmas, start, end, VMA_WIPEONFORK, 0);
	case EV_MADV_PAGEOUT:
	case EV_MADV_COLD: {
		bool pageout = ev->flags == EV_MADV_PAGEOUT;
		sim_lru_drain_local(e);
		for (uint64_t pg = start; pg < end; pg++) {
			if (pageout) {
				int err = swapout_page(e, mm, pg, true, false, swap_on);
				if (err)
					return err;
				continue;
			}
			/* folio_deactivate(): the page waits in this CPU's batch
			 * with a reference, like an LRU add. */
			uint64_t *p = pte_ptr(e, mm, pg, false);
			if (!p || !(*p & PTE_P) || !pte_idx(*p))
				continue;
			uint32_t f = pte_idx(*p);
			if ((e->fr[f].flags & FR_LRU) && e->fr[f].map == 1) {
				e->fr[f].flags &= (uint16_t)~FR_LRU;
				lru_add(e, f);
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* EV_PAGE_INIT: pages a process had before the trace (a pagemap run). */
int ev_page_init(struct sim_engine *e, struct sim_mm *mm,
                 const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	uint32_t fl = ev->flags;

	for (uint32_t i = 0; i < ev->len; i++) {
		struct vma *v = vma_find(&mm->vmas, pg + i);
		if (!v)
			continue;
		uint64_t *ptep = pte_ptr(e, mm, pg + i, true);
		if (!ptep)
			return -ENOMEM;
		if (*ptep)
			continue;
		int err;
		uint32_t f = NO_FRAME;
		if (fl & EV_PM_SWAPPED) {
			uint32_t s;
			err = slot_alloc(e, &s);
			if (err)
				return err;
			e->slot[s].count = 1;
			*ptep = pte_mk(s, PTE_SWP |
			                  ((fl & EV_PM_EXCLUSIVE) ? PTE_SWPX : 0));
			v->flags |= VMA_HAS_ANON;
			continue;
		}
		if (!(fl & EV_PM_PRESENT))
			continue;
		bool file = (fl & EV_PM_FILE) && v->file;
		const uint32_t *known = ev->aux ? u64map_get(&e->pfn, ev->aux + i)
		                                : NULL;
		/* The PFN's frame may have been freed since (a pagemap names
		 * PFNs, and the engine's frames die with their last mapper):
		 * then the PFN starts afresh. */
		if (known && *known < e->nfr && (e->fr[*known].flags & FR_USED))
			f = *known;
		if (f == NO_FRAME && file) {
			err = pagecache_get(e, v->file, v->pgoff + (pg + i - v->start),
			                    &f);
			if (err)
				return err;
		} else if (f == NO_FRAME) {
			err = frame_alloc(e, FR_ANON | FR_LRU, mm->id, &f);
			if (err)
				return err;
			if (fl & EV_PM_EXCLUSIVE)
				e->fr[f].flags |= FR_EXCL;
			else if (!ev->aux) {
				/* Shared with a mapper the trace does not show. */
				e->fr[f].phantom++;
				e->fr[f].map++;
				frame_get(e, f, 1);
				e->m.phantom_mappers++;
			}
			v->flags |= VMA_HAS_ANON;
		}
		if (ev->aux && (!known || *known != f)) {
			err = u64map_set(e, &e->pfn, ev->aux + i, f);
			if (err)
				return err;
		}
		if (e->fr[f].map && (e->fr[f].flags & FR_ANON)) {
			/* A frame the snapshot shows mapped again: shared from
			 * now on, so no mapper may write it in place - the PTE
			 * already there is write-protected, as fork() does the
			 * parent's.  (Found by fuzzing: two pagemap runs naming
			 * one PFN left that PTE writable on a page of mapcount 2.) */
			e->fr[f].flags &= (uint16_t)~FR_EXCL;
			rmap_walk(e, f, pg + i, rmap_wrprotect, NULL);
		}
		bool w = (v->flags & VMA_WRITE) && (e->fr[f].flags & FR_EXCL) &&
		         !(v->flags & VMA_SHARED);
		map_frame(e, mm, ptep, f, w);
	}
	return 0;
}
