/*
 * migrate.c - page migration (mm/migrate.c migrate_pages(),
 * folio_migrate_mapping(), remove_migration_ptes()).
 *
 * A migration moves every bit of a page's state to a new frame: its
 * mappings, swap-cache slot, page-cache entry, KSM stable entry.  It is
 * refused, as folio_migrate_mapping()'s expected-count test refuses it,
 * while anything but mappings, the swap cache and the page cache holds a
 * reference - which is how a long-term pin blocks migration - and when the
 * policy says no (pol->may_unmap).
 */
#include "internal.h"

#include <assert.h>
#include <errno.h>

/* migrate_pages() of the page at pg: a move to a new frame that keeps
 * every bit of state, refused while anything but mappings and the swap
 * cache holds a reference. */
int ev_migrate(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	lru_drain_all(e);   /* migrate_prep(): lru_add_drain_all() */
	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_P))
			continue;
		uint32_t f = pte_idx(*ptep), nf;
		if (!f)
			continue;
		struct sim_frame *fr = &e->fr[f];
		uint32_t expect = fr->map + ((fr->flags & FR_INSWAP) ? 1 : 0) +
		                  ((fr->flags & FR_FILE) ? 1 : 0);
		if (fr->ref != expect || fr->phantom ||
		    !e->pol->may_unmap(e, f, POL_UNMAP_MIGRATE, true)) {
			e->m.migrate_refused++;
			continue;
		}
		uint16_t keep = fr->flags & (FR_ANON | FR_EXCL | FR_FILE | FR_KSM |
		                             FR_INSWAP | FR_GUPPED);
		int err = frame_alloc(e, keep | FR_LRU, fr->owner, &nf);
		if (err)
			return err;
		fr = &e->fr[f];
		struct sim_frame *nfr = &e->fr[nf];
		if (keep & FR_INSWAP) {
			uint32_t s = sim_frame_swap(e, f);
			sim_side_del(&e->swapof, f);
			err = side_set(e, &e->swapof, nf, s);   /* room: f's */
			if (err)
				return err;
			e->slot[s].frame = nf;
			nfr->ref++;
			fr->ref--;
			fr->flags &= (uint16_t)~FR_INSWAP;
		}
		if (keep & FR_FILE) {
			for (uint32_t h = 0; h < e->pc.cap; h++)
				if (e->pc.key[h] && e->pc.val[h] == f)
					e->pc.val[h] = nf;
			nfr->ref++;
			fr->ref--;
		}
		if (keep & FR_KSM)
			for (uint32_t k = 0; k < e->nksm; k++)
				if (e->ksm_frame[k] == f)
					e->ksm_frame[k] = nf;
		rmap_walk(e, f, pg + i, rmap_move, &nf);
		fr = &e->fr[f];
		fr->flags &= (uint16_t)~(FR_KSM | FR_FILE);
		assert(fr->ref == 0 && fr->map == 0);
		frame_free(e, f);
		e->m.migrations++;
	}
	return 0;
}
