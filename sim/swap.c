/*
 * swap.c - per-CPU LRU batches, swap slots, the swap cache, swap-in and
 * swap-out.
 *
 * Follows mm/swap.c (folio_batch_add_and_move(), lru_add_drain(),
 * lru_add_drain_all()), mm/swap_state.c (delete_from_swap_cache(),
 * swapin_readahead()), mm/swapfile.c (the swap_map count, swap_free(),
 * try_to_free_swap()) and mm/vmscan.c (shrink_folio_list()).  The policy
 * decides whether a page may be unmapped (pol->may_unmap: 5.11's
 * feb889fb40fa "don't swap out pinned pages", 5.19's re-check after the
 * unmap in folio_try_share_anon_rmap_pte()); this file does the counting.
 *
 * A batch holds a reference on each page it holds (FR_BATCH, !FR_LRU):
 * that extra reference is what made the page-count era's reuse test copy
 * pages it need not have (d4c470970d45 drains the local batch first).
 */
#include "internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* per-CPU LRU batches (mm/swap.c folio_batch_add_and_move)            */

int batch_setup(struct sim_engine *e, uint32_t cpu)
{
	if (cpu < e->ncpu)
		return 0;
	uint32_t n = cpu + 1, b = e->cfg->lru_batch;
	uint32_t *nb = realloc(e->batch, (size_t)n * b * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	e->batch = nb;
	uint16_t *nn = realloc(e->batch_n, (size_t)n * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	e->batch_n = nn;
	memset(e->batch_n + e->ncpu, 0, (n - e->ncpu) * sizeof(*nn));
	acct(e, (int64_t)(n - e->ncpu) *
	        (int64_t)(b * sizeof(*nb) + sizeof(*nn)));
	e->ncpu = n;
	return 0;
}

/* lru_add_drain_cpu(): cpu's batch moves onto the LRU, and the batch's
 * references go. */
void lru_drain_cpu(struct sim_engine *e, uint32_t cpu)
{
	if (cpu >= e->ncpu || !e->batch_n[cpu])
		return;
	uint32_t *b = e->batch + (size_t)cpu * e->cfg->lru_batch;
	uint16_t n = e->batch_n[cpu];
	e->batch_n[cpu] = 0;
	e->m.lru_drains++;
	for (uint16_t i = 0; i < n; i++) {
		struct sim_frame *fr = &e->fr[b[i]];
		fr->flags = (uint16_t)((fr->flags & ~FR_BATCH) | FR_LRU);
		frame_put(e, b[i], 1);
	}
}

void sim_lru_drain_local(struct sim_engine *e)
{
	lru_drain_cpu(e, e->cpu);
}

/* lru_add_drain_all(). */
void lru_drain_all(struct sim_engine *e)
{
	for (uint32_t c = 0; c < e->ncpu; c++)
		lru_drain_cpu(e, c);
}

/* ------------------------------------------------------------------ */
/* swap slots and the swap cache                                       */

int slot_alloc(struct sim_engine *e, uint32_t *out)
{
	uint32_t s = e->free_slot;

	if (s) {
		e->free_slot = e->slot[s].frame;
	} else {
		if (!e->nslot)
			e->nslot = 1;   /* slot 0 is never used */
		if (e->nslot >= e->capslot &&
		    grow(e, (void **)&e->slot, &e->capslot, (size_t)e->nslot + 1,
		         sizeof(*e->slot)))
			return -ENOMEM;
		s = e->nslot++;
	}
	e->slot[s] = (struct sim_slot){ 0 };
	*out = s;
	return 0;
}

/* Free slot s once no swap PTE names it and no swap-cache page holds it. */
void slot_maybe_free(struct sim_engine *e, uint32_t s)
{
	struct sim_slot *sl = &e->slot[s];
	if (sl->count || sl->frame)
		return;
	sl->frame = e->free_slot;
	sl->owner = 0;
	e->free_slot = s;
}

/* Put frame f in the swap cache at slot s (FR_INSWAP and e->swapof). */
static int frame_set_swap(struct sim_engine *e, uint32_t f, uint32_t s)
{
	int err = side_set(e, &e->swapof, f, s);
	if (err)
		return err;
	e->fr[f].flags |= FR_INSWAP;
	return 0;
}

/* Drop frame f from the swap cache (delete_from_swap_cache()). */
void swapcache_del(struct sim_engine *e, uint32_t f)
{
	struct sim_frame *fr = &e->fr[f];
	uint32_t s = sim_frame_swap(e, f);

	assert(fr->flags & FR_INSWAP);
	e->slot[s].frame = 0;
	e->slot[s].owner = fr->owner;
	fr->flags &= (uint16_t)~FR_INSWAP;
	sim_side_del(&e->swapof, f);
	slot_maybe_free(e, s);
	frame_put(e, f, 1);
}

bool sim_try_free_swap(struct sim_engine *e, uint32_t f)
{
	if (!(e->fr[f].flags & FR_INSWAP) || e->slot[sim_frame_swap(e, f)].count)
		return false;
	swapcache_del(e, f);
	return true;
}

/* swapin_readahead(): read slot s into a new swap-cache page.  Readahead
 * pushes what it read onto the LRU at once ("lru_add_drain() ... Push any
 * new pages onto the LRU now"), so the page does not wait in a batch.
 * Returns 0 or -ENOMEM. */
int swap_readin(struct sim_engine *e, uint32_t s, uint32_t *out)
{
	uint32_t f;
	int err = frame_alloc(e, FR_ANON, e->slot[s].owner, &f);
	if (err)
		return err;
	err = frame_set_swap(e, f, s);
	if (err)
		return err;
	frame_get(e, f, 1);
	e->slot[s].frame = f;
	lru_add(e, f);
	sim_lru_drain_local(e);
	e->m.swapins++;
	*out = f;
	return 0;
}

/* ------------------------------------------------------------------ */
/* swap-out (mm/vmscan.c) and readahead                                */

/* shrink_folio_list() + try_to_unmap() for the page at pg in mm, after the
 * check phase: unmap it everywhere and write it out. */
void swapout_commit(struct sim_engine *e, uint32_t f, uint64_t pg)
{
	if (!e->pol->may_unmap(e, f, POL_UNMAP_SWAP, true)) {
		/* The rmap code saw a pin once the PTEs were cleared and put
		 * them back; the page stays in the swap cache, mapped. */
		e->m.swapout_refused++;
		return;
	}
	uint32_t s = sim_frame_swap(e, f);
	rmap_walk(e, f, pg, rmap_to_swap, &s);
	e->fr[f].flags &= (uint16_t)~FR_EXCL;
	e->m.swapouts++;
	/* Written out: if nothing but the swap cache holds it, it is freed
	 * (__remove_mapping()); GUP'd or batched pages stay in the cache. */
	if (e->fr[f].ref == 1)
		swapcache_del(e, f);
}

/*
 * Reclaim of the page at pg.  pageout: MADV_PAGEOUT, which only takes pages
 * mapped once.  race: a GUP-fast runs between the check and the unmap
 * (the next event), so the unmap is deferred.
 */
int swapout_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                 bool pageout, bool race, bool swap_on)
{
	uint64_t *ptep = pte_ptr(e, mm, pg, false);
	if (!ptep || !(*ptep & PTE_P))
		return 0;
	uint32_t f = pte_idx(*ptep);
	struct sim_frame *fr = &e->fr[f];
	if (!f || !(fr->flags & FR_ANON) || (fr->flags & FR_KSM))
		return 0;
	if (pageout && fr->map != 1)
		return 0;
	if (!swap_on || fr->phantom || (fr->flags & FR_BATCH) ||
	    !e->pol->may_unmap(e, f, POL_UNMAP_SWAP, false)) {
		e->m.swapout_refused++;
		return 0;
	}
	if (!(fr->flags & FR_INSWAP)) {
		uint32_t s;
		int err = slot_alloc(e, &s);
		if (err)
			return err;
		err = frame_set_swap(e, f, s);
		if (err)
			return err;
		frame_get(e, f, 1);
		e->slot[s].frame = f;
	}
	if (race) {
		e->race = (struct sim_race){ .kind = 1, .mm = (uint32_t)(mm - e->mm),
		                             .pg = pg, .frame = f };
		return 0;
	}
	swapout_commit(e, f, pg);
	return 0;
}

/* EV_SWAPOUT: reclaim of ev->len pages from ev->addr.  Returns 0 or
 * -ENOMEM. */
int ev_swapout(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev, bool swap_on)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	bool race = (ev->flags & EV_SWAPOUT_RACE) && ev->len == 1;

	/* Reclaim isolates from the LRU after draining this CPU's batch
	 * (shrink_inactive_list() -> lru_add_drain()). */
	sim_lru_drain_local(e);
	for (uint64_t i = 0; i < ev->len; i++) {
		int err = swapout_page(e, mm, pg + i, false, race, swap_on);
		if (err)
			return err;
	}
	return 0;
}

/* EV_SWAPIN: swap readahead brings the page into the swap cache. */
int ev_swapin(struct sim_engine *e, struct sim_mm *mm,
              const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_SWP))
			continue;
		uint32_t s = pte_idx(*ptep), f;
		int err;
		if (!e->slot[s].frame && (err = swap_readin(e, s, &f)))
			return err;
	}
	return 0;
}
