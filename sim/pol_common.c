/*
 * pol_common.c - pieces of kernel decision code that several eras share.
 *
 * Each function here is one kernel function, transcribed into the engine's
 * terms.  One difference in bookkeeping runs through all of them: the
 * engine's refcount never includes the transient reference the fault
 * handler itself holds on the page, so the kernel's "page_count(page) == 1"
 * reads `ref == 0` at swap-in (the page is not mapped yet) and `ref == 1` at
 * a write fault (the faulting PTE's own mapping).
 */
#include "engine.h"

bool pol_cow_mapping(const struct vma *vma)
{
	return !(vma->flags & VMA_SHARED) && (vma->flags & VMA_MAYWRITE);
}

/*
 * reuse_swap_page(), mm/swapfile.c, 5.x before c145e0b47c77 (and 2.6.29,
 * which lacks only the KSM test):
 *
 *	count = page_trans_huge_mapcount(page, total_map_swapcount);
 *	if (count <= 1 && PageSwapCache(page)) {
 *		count += page_swapcount(page);
 *		if (count != 1)
 *			goto out;
 *		if (!PageWriteback(page)) {
 *			delete_from_swap_cache(page);
 *			SetPageDirty(page);
 *		}
 *	}
 * out:
 *	return count <= 1;
 *
 * Extra references - GUP, the LRU batches - are not looked at.  From
 * do_swap_page() it runs before swap_free() and before the page is mapped:
 * the faulting entry is still counted in page_swapcount(), and the engine,
 * which has already dropped it, adds it back.
 */
bool pol_reuse_swap_page(struct sim_engine *e, uint32_t f, bool at_swapin)
{
	const struct sim_frame *fr = sim_frame(e, f);

	if (fr->flags & FR_KSM)
		return false;
	uint32_t count = fr->map;
	if (count <= 1 && sim_in_swapcache(e, f)) {
		count += sim_swapcount(e, f) + (at_swapin ? 1 : 0);
		if (count != 1)
			return count <= 1;
		sim_try_free_swap(e, f);
	}
	return count <= 1;
}

/*
 * do_wp_page() before 09854ba94c6a (5.9), for anonymous pages: KSM pages
 * are reused only by 5.1-5.8's reuse_ksm_page() (!PageSwapCache &&
 * page_ref_freeze(page, 1)); others when reuse_swap_page() says so.
 */
enum pol_wp pol_mapcount_wp(struct sim_engine *e, uint32_t f)
{
	const struct sim_frame *fr = sim_frame(e, f);

	if (fr->flags & FR_KSM)
		return (e->cfg->reuse_ksm && !sim_in_swapcache(e, f) && fr->ref == 1)
		       ? POL_REUSE : POL_COPY;
	return pol_reuse_swap_page(e, f, false) ? POL_REUSE : POL_COPY;
}

/*
 * do_swap_page() before c145e0b47c77 (5.18): a write fault reuses if
 * reuse_swap_page() says so; a read fault always maps read-only, and the
 * page stays in the swap cache unless swap is over half full (never here).
 */
unsigned pol_mapcount_swapin(struct sim_engine *e, uint32_t f, bool write)
{
	if (write && pol_reuse_swap_page(e, f, true))
		return POL_SWAPIN_EXCL | POL_SWAPIN_WRITABLE;
	return 0;
}

/*
 * do_wp_page() of 5.18 (53a05ad9f21d, d4c470970d45), which 5.19 kept for
 * pages not marked exclusive and 6.x moved into wp_can_reuse_anon_folio():
 *
 *	if (PageKsm(page) || page_count(page) > 3)
 *		goto copy;
 *	if (!PageLRU(page))
 *		lru_add_drain();		<- local CPU only
 *	if (page_count(page) > 1 + PageSwapCache(page))
 *		goto copy;
 *	if (!trylock_page(page))
 *		goto copy;
 *	if (PageSwapCache(page))
 *		try_to_free_swap(page);
 *	if (PageKsm(page) || page_count(page) != 1)
 *		goto copy;
 *	reuse
 *
 * Without either switch this is 5.9's rule (09854ba94c6a):
 *
 *	if (PageKsm(page) || page_count(page) != 1) goto copy;
 *	if (!trylock_page(page)) goto copy;
 *	if (PageKsm(page) || page_mapcount(page) != 1 ||
 *	    page_count(page) != 1) goto copy;
 *
 * trylock never fails in the simulation: there is no concurrency inside an
 * event.
 */
bool pol_wp_can_reuse(struct sim_engine *e, uint32_t f)
{
	const struct sim_config *c = e->cfg;
	const struct sim_frame *fr = sim_frame(e, f);

	if (fr->flags & FR_KSM)
		return false;
	if (!c->wp_lru_drain && !c->wp_swapcache_opt)
		return fr->ref == 1 && fr->map == 1;
	if (fr->ref > 3)
		return false;
	if (c->wp_lru_drain && !(fr->flags & FR_LRU))
		sim_lru_drain_local(e);
	fr = sim_frame(e, f);
	uint32_t allow = 1;
	if (c->wp_swapcache_opt && sim_in_swapcache(e, f))
		allow++;
	if (fr->ref > allow)
		return false;
	if (c->wp_swapcache_opt && sim_in_swapcache(e, f))
		sim_try_free_swap(e, f);
	fr = sim_frame(e, f);
	return fr->ref == 1;
}

/*
 * shrink_folio_list() refuses to add a maybe-pinned anonymous page to the
 * swap cache (feb889fb40fa, 5.11); migration and KSM never take a page with
 * references beyond its mappings (the engine checks that itself).
 */
bool pol_swap_allowed(struct sim_engine *e, uint32_t f, enum pol_unmap_why why,
                      bool after_unmap)
{
	if (why == POL_UNMAP_SWAP && !after_unmap && e->cfg->swapout_skip_pinned &&
	    sim_maybe_pinned(e, f))
		return false;
	return true;
}
