/*
 * pol_pagecount.c - Linux 5.9..5.18: reuse only when page_count() is 1.
 *
 * 09854ba94c6a ("mm: do_wp_page() simplification", Linus, 5.9-rc4) replaced
 * the mapcount reasoning with one question: is the faulting PTE the only
 * reference to the page?  Any other reference - a GUP, the LRU-add batch of
 * some CPU, the swap cache, a speculative lookup - forces a copy.  That closes
 * CVE-2020-29374 for small pages and breaks the opposite way: a pinned page
 * that gets write-protected (mprotect, clear_refs, fork) is copied on the
 * next write and the pin silently stops backing the mapping (cow.c's R/O pin
 * and io_uring cases fail here).  5.9 also added early COW at fork for
 * pinned pages (70e806e4e645, Peter Xu) so that fork itself does not cause
 * that.
 *
 * Switches honoured (5.9 preset: all off but early_cow; 5.18: all on):
 *   early_cow=pinned      70e806e4e645: copy_present_page() when
 *                         has_pinned && page_maybe_dma_pinned()
 *   fork_gup_fast_guard   57efa1fe5957 (5.11): mm->write_protect_seq makes
 *                         GUP-fast fail while fork copies; before it a pin
 *                         can slip past fork's check
 *   wp_swapcache_opt      53a05ad9f21d (5.18): tolerate the swap cache's ref
 *   wp_lru_drain          d4c470970d45 (5.18): drain the local LRU batch
 *   swapin                mapcount (5.9-5.17: do_swap_page() still used
 *                         reuse_swap_page()) or page-count (c145e0b47c77)
 *   swapin_lru_drain      c145e0b47c77: drain before the swap-in check
 *   swapout_skip_pinned   feb889fb40fa (5.11)
 */
#include "engine.h"

static enum pol_fork pc_fork_copy(struct sim_engine *e,
                                  const struct sim_mm *parent, uint32_t f)
{
	if (e->cfg->early_cow == EARLY_COW_PINNED && parent->has_pinned &&
	    sim_maybe_pinned(e, f))
		return POL_FORK_COPY;
	return POL_FORK_SHARE;
}

static unsigned pc_fork_filter(const struct sim_config *cfg)
{
	return cfg->early_cow == EARLY_COW_PINNED ? POL_FF_PINNED : 0;
}

static enum pol_wp pc_wp_anon(struct sim_engine *e, uint32_t f, bool unshare)
{
	(void)unshare;
	return pol_wp_can_reuse(e, f) ? POL_REUSE : POL_COPY;
}

static enum pol_gup pc_gup(struct sim_engine *e, const struct vma *vma,
                           uint32_t f, bool writable, uint32_t flags)
{
	/* a308c71bf1e6 removed 5.8's forced COW break: a read GUP takes its
	 * reference on whatever is mapped, shared or not. */
	(void)e; (void)vma; (void)f;
	return (flags & EV_GUP_WRITE) && !writable ? POL_GUP_WRITE : POL_GUP_REF;
}

static unsigned pc_swapin(struct sim_engine *e, const struct vma *vma,
                          uint32_t f, bool write, bool swp_excl)
{
	const struct sim_config *c = e->cfg;

	(void)vma; (void)swp_excl;
	if (c->swapin == SWAPIN_MAPCOUNT)
		return pol_mapcount_swapin(e, f, write);
	/* c145e0b47c77 "mm: streamline COW logic in do_swap_page()":
	 *	if (write && swapcache && !KSM && !PageLRU) lru_add_drain();
	 *	swap_free(entry);
	 *	if (write && !KSM && page_count == 2) try_to_free_swap(page);
	 *	if (write && !KSM && page_count == 1) map writable, exclusive
	 * (the fault's own reference is the "+1" in both counts). */
	if (!write || (sim_frame(e, f)->flags & FR_KSM))
		return 0;
	if (c->swapin_lru_drain && !(sim_frame(e, f)->flags & FR_LRU))
		sim_lru_drain_local(e);
	if (sim_frame(e, f)->ref == 1)
		sim_try_free_swap(e, f);
	if (sim_frame(e, f)->ref == 0)
		return POL_SWAPIN_EXCL | POL_SWAPIN_WRITABLE;
	return 0;
}

static bool pc_mprotect_writable(struct sim_engine *e, uint32_t f)
{
	(void)e; (void)f;
	return false;
}

static bool pc_gup_fast_races_fork(struct sim_engine *e)
{
	return !e->cfg->fork_gup_fast_guard;
}

const struct pol_ops pol_pagecount_ops = {
	.name = "page-count",
	.summary = "reuse only when page_count == 1; early COW at fork for pinned pages",
	.fork_copy = pc_fork_copy,
	.fork_filter = pc_fork_filter,
	.wp_anon = pc_wp_anon,
	.gup = pc_gup,
	.swapin = pc_swapin,
	.may_unmap = pol_swap_allowed,
	.mprotect_writable = pc_mprotect_writable,
	.gup_fast_races_fork = pc_gup_fast_races_fork,
};
