/*
 * rmap.c - reverse mapping: every PTE that maps a frame (mm/rmap.c
 * rmap_walk(), and the per-PTE work of try_to_unmap_one(),
 * page_mkclean_one()/write_protect_page() and remove_migration_pte()).
 *
 * The engine keeps no anon_vma chains.  Pages shared by fork() sit at the
 * same address in every address space, so that address is tried first in
 * each; only a page mremap() moved needs the full scan.  Swap-out, KSM and
 * migration are the only walkers, and all are rare next to faults.
 */
#include "internal.h"


/*
 * Visit every present PTE mapping frame f.  Pages shared by fork() sit at
 * the same address in every address space, so that address is tried first
 * in each; only if some mapping is still unaccounted for (mremap moved it)
 * is every anonymous area of every address space scanned.
 */
void rmap_walk(struct sim_engine *e, uint32_t f, uint64_t pg,
               rmap_fn fn, void *arg)
{
	uint32_t want = e->fr[f].map - e->fr[f].phantom, seen = 0;

	for (uint32_t i = 1; i < e->nmm && seen < want; i++) {
		struct sim_mm *mm = &e->mm[i];
		if (!mm->users)
			continue;
		uint64_t *p = pte_ptr(e, mm, pg, false);
		if (p && (*p & PTE_P) && pte_idx(*p) == f) {
			seen++;
			fn(e, mm, p, f, arg);
		}
	}
	if (seen >= want)
		return;
	for (uint32_t i = 1; i < e->nmm; i++) {
		struct sim_mm *mm = &e->mm[i];
		if (!mm->users)
			continue;
		for (size_t v = 0; v < mm->vmas.n; v++) {
			uint64_t q = mm->vmas.v[v].start, end = mm->vmas.v[v].end;
			uint32_t t;
			while ((t = pt_next_pte_table(&e->pt, mm->pgd, &q, end))) {
				uint64_t *tbl = pt_table(&e->pt, t);
				uint64_t stop = (q | (PT_ENTRIES - 1)) + 1;
				if (stop > end)
					stop = end;
				for (; q < stop; q++) {
					uint64_t *p = &tbl[q & (PT_ENTRIES - 1)];
					if (q != pg && (*p & PTE_P) && pte_idx(*p) == f)
						fn(e, mm, p, f, arg);
				}
			}
		}
	}
}

/* try_to_unmap_one() for swap-out: the PTE becomes a swap entry for the
 * slot *arg, exclusive if the page was (5.19). */
void rmap_to_swap(struct sim_engine *e, struct sim_mm *mm,
                  uint64_t *ptep, uint32_t f, void *arg)
{
	uint32_t s = *(uint32_t *)arg;
	bool excl = e->fr[f].flags & FR_EXCL;

	*ptep = pte_mk(s, PTE_SWP | (excl ? PTE_SWPX : 0));
	e->slot[s].count++;
	mm->rss--;
	e->resident--;
	e->fr[f].map--;
	frame_put(e, f, 1);
}

/* write_protect_page() for KSM. */
void rmap_wrprotect(struct sim_engine *e, struct sim_mm *mm,
                    uint64_t *ptep, uint32_t f, void *arg)
{
	(void)e; (void)mm; (void)f; (void)arg;
	*ptep &= ~PTE_W;
}

/* remove_migration_pte(): the PTE maps the new frame *arg with the same
 * bits, and its counts move along. */
void rmap_move(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
               uint32_t f, void *arg)
{
	uint32_t nf = *(uint32_t *)arg;
	(void)mm;
	*ptep = pte_mk(nf, *ptep & (PTE_P | PTE_W));
	e->fr[nf].map++;
	e->fr[nf].ref++;
	e->fr[f].map--;
	e->fr[f].ref--;
}
