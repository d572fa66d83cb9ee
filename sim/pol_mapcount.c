/*
 * pol_mapcount.c - Linux <= 5.8: reuse decided by mapcount (+ swapcount).
 *
 * Follows do_wp_page() and reuse_swap_page() as they stood before
 * 09854ba94c6a ("mm: do_wp_page() simplification", 5.9).  An anonymous page
 * is reused when no other PTE maps it and no other swap entry refers to it;
 * references that are not mappings - GUP, the per-CPU LRU batches - are not
 * looked at.  That is what CVE-2020-29374 (Jann Horn's vmsplice reproducer,
 * cow.c "vmsplice() + unmap in child") exploits: a child's GUP reference
 * survives its munmap, the parent's mapcount drops to 1, the parent reuses
 * the page and its post-fork writes become readable through the child's
 * pipe.
 *
 * Switches honoured:
 *   gup_forces_cow_break  5.8, 17839856fd58 "gup: document and work around
 *                         'COW can break either way' issue": every GUP in a
 *                         COW mapping breaks COW first, as a write would
 *                         (should_force_cow_break()).  Stable 5.4.y, 4.19.y
 *                         and 4.14.y carry it too.
 *   reuse_ksm             5.1..5.8, 52d1e606ee73 reuse_ksm_page().
 *   swapout_skip_pinned   (off in every era this file models)
 *   fork_gup_fast_guard   off: nothing serialises GUP-fast against fork.
 */
#include "engine.h"

static enum pol_fork mc_fork_copy(struct sim_engine *e,
                                  const struct sim_mm *parent, uint32_t f)
{
	/* copy_one_pte(): every anon page is shared, GUP'd or not (the 2009
	 * "fork vs O_DIRECT" problem). */
	(void)e; (void)parent; (void)f;
	return POL_FORK_SHARE;
}

static unsigned mc_fork_filter(const struct sim_config *cfg)
{
	(void)cfg;
	return 0;
}

static enum pol_wp mc_wp_anon(struct sim_engine *e, uint32_t f, bool unshare)
{
	(void)unshare;   /* FAULT_FLAG_UNSHARE does not exist before 5.19 */
	return pol_mapcount_wp(e, f);
}

static enum pol_gup mc_gup(struct sim_engine *e, const struct vma *vma,
                           uint32_t f, bool writable, uint32_t flags)
{
	(void)f;
	if (writable)
		return POL_GUP_REF;
	if (flags & EV_GUP_WRITE)
		return POL_GUP_WRITE;
	if (e->cfg->gup_forces_cow_break && pol_cow_mapping(vma))
		return POL_GUP_WRITE;
	return POL_GUP_REF;
}

static unsigned mc_swapin(struct sim_engine *e, const struct vma *vma,
                          uint32_t f, bool write, bool swp_excl)
{
	(void)vma; (void)swp_excl;
	return pol_mapcount_swapin(e, f, write);
}

static bool mc_mprotect_writable(struct sim_engine *e, uint32_t f)
{
	(void)e; (void)f;
	return false;
}

static bool mc_gup_fast_races_fork(struct sim_engine *e)
{
	return !e->cfg->fork_gup_fast_guard;
}

const struct pol_ops pol_mapcount_ops = {
	.name = "mapcount",
	.summary = "reuse when mapcount + swapcount == 1; GUP references ignored",
	.fork_copy = mc_fork_copy,
	.fork_filter = mc_fork_filter,
	.wp_anon = mc_wp_anon,
	.gup = mc_gup,
	.swapin = mc_swapin,
	.may_unmap = pol_swap_allowed,
	.mprotect_writable = mc_mprotect_writable,
	.gup_fast_races_fork = mc_gup_fast_races_fork,
};
