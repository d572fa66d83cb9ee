/*
 * pol_decow.c - early "decow" at fork of pages GUP has referenced, with
 * mapcount reuse otherwise: Nick Piggin's 2009 proposal.
 *
 * From the linux-mm thread "[PATCH] fork vs gup(-fast) fix" (March-April
 * 2009; the per-page version of 17 Mar, Message-Id
 * <200903170301.43091.nickpiggin@yahoo.com.au>, reposted 14 Apr next to
 * KOSAKI's "mm: Don't unmap gup()ed page", seed 002):
 *  - get_user_pages() on a COW mapping always breaks COW first, read or
 *    write ("decow = pages && is_cow_mapping()" forces FOLL_WRITE), and sets
 *    PG_dontcow on the anonymous page it returns, which is then exclusive;
 *  - the flag is never cleared while the page lives ("doesn't try to
 *    reintroduce pages as COW candidates after the get_user_pages is
 *    finished");
 *  - fork() gives the child a copy of every PG_dontcow page
 *    (decow_one_pte()), the parent's PTE being write-protected as usual, so
 *    the parent's next write reuses its page by mapcount;
 *  - GUP-fast refuses anonymous pages without the flag (slow path), so it
 *    cannot race with fork on a page fork is about to share;
 *  - do_wp_page() and do_swap_page() keep 2.6.29's reuse_swap_page().
 * Linus rejected it; it is here because it is the design space's other
 * corner: no false copies from unrelated references (LRU batches, swap
 * cache), paid for with a copy per GUP'd page at every fork, forever.
 *
 * Switch early_cow=pinned turns it into Peter Xu's 5.9 rule
 * (70e806e4e645: has_pinned && page_maybe_dma_pinned(), parent untouched)
 * on top of mapcount reuse - a kernel that never existed, but the cleanest
 * way to see what early COW alone buys.
 */
#include "engine.h"

static enum pol_fork dc_fork_copy(struct sim_engine *e,
                                  const struct sim_mm *parent, uint32_t f)
{
	switch (e->cfg->early_cow) {
	case EARLY_COW_GUPPED:
		if (sim_frame(e, f)->flags & FR_GUPPED)
			return POL_FORK_COPY_WP;
		return POL_FORK_SHARE;
	case EARLY_COW_PINNED:
		if (parent->has_pinned && sim_maybe_pinned(e, f))
			return POL_FORK_COPY;
		return POL_FORK_SHARE;
	default:
		return POL_FORK_SHARE;
	}
}

static unsigned dc_fork_filter(const struct sim_config *cfg)
{
	switch (cfg->early_cow) {
	case EARLY_COW_GUPPED: return POL_FF_GUPPED;
	case EARLY_COW_PINNED: return POL_FF_PINNED;
	default: return 0;
	}
}

static enum pol_wp dc_wp_anon(struct sim_engine *e, uint32_t f, bool unshare)
{
	(void)unshare;
	return pol_mapcount_wp(e, f);   /* 2.6.29's do_wp_page() */
}

static enum pol_gup dc_gup(struct sim_engine *e, const struct vma *vma,
                           uint32_t f, bool writable, uint32_t flags)
{
	(void)f;
	if (writable)
		return POL_GUP_REF;
	if (flags & EV_GUP_WRITE)
		return POL_GUP_WRITE;
	if (e->cfg->early_cow == EARLY_COW_GUPPED && pol_cow_mapping(vma))
		return POL_GUP_WRITE;
	return POL_GUP_REF;
}

static unsigned dc_swapin(struct sim_engine *e, const struct vma *vma,
                          uint32_t f, bool write, bool swp_excl)
{
	(void)vma; (void)swp_excl;
	return pol_mapcount_swapin(e, f, write);
}

static bool dc_mprotect_writable(struct sim_engine *e, uint32_t f)
{
	(void)e; (void)f;
	return false;
}

static bool dc_gup_fast_races_fork(struct sim_engine *e)
{
	if (e->cfg->early_cow == EARLY_COW_GUPPED)
		return false;
	return !e->cfg->fork_gup_fast_guard;
}

const struct pol_ops pol_decow_ops = {
	.name = "early-decow",
	.summary = "copy GUP'd pages for the child at fork; mapcount reuse otherwise",
	.fork_copy = dc_fork_copy,
	.fork_filter = dc_fork_filter,
	.wp_anon = dc_wp_anon,
	.gup = dc_gup,
	.swapin = dc_swapin,
	.may_unmap = pol_swap_allowed,
	.mprotect_writable = dc_mprotect_writable,
	.gup_fast_races_fork = dc_gup_fast_races_fork,
};
