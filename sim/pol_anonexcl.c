/*
 * pol_anonexcl.c - Linux >= 5.19: PG_anon_exclusive.
 *
 * 6c287605fd56 ("mm: remember exclusively mapped anonymous pages with
 * PG_anon_exclusive", David Hildenbrand) gives every anonymous page a bit
 * that says "only this mm maps it, and nothing can have shared it since".
 * The bit is set when a page is created for one mm (fault, COW copy, early
 * fork copy, exclusive swap-in) and cleared only when the page is shared:
 * fork without a pin, swap-out (moved into the swap PTE as swp_exclusive),
 * KSM.  A write fault on an exclusive page reuses it without looking at any
 * count; on other pages it falls back to 5.18's refcount test.  Because a
 * pinned page may not lose the bit (folio_try_dup_anon_rmap() and
 * folio_try_share_anon_rmap() fail while maybe pinned), a pin stays
 * reliable; and because R/O pins of possibly shared pages unshare first
 * (a7f226604170, FAULT_FLAG_UNSHARE), they do too.
 *
 * Follows 6.12's do_wp_page() / wp_can_reuse_anon_folio(), do_swap_page(),
 * copy_present_ptes() -> folio_try_dup_anon_rmap_ptes(),
 * try_to_unmap_one() -> folio_try_share_anon_rmap_pte() and
 * gup_must_unshare() (mm/internal.h), for small pages.
 *
 * Switches honoured:
 *   mprotect_excl_writable  64fe24a3e05e (6.0)
 *   ro_pin_unshare          a7f226604170 (5.19)
 *   ro_pin_unshare_nonanon  84209e87c696 (6.2): R/O longterm pins of the
 *                           zero page or a page-cache page in a COW mapping
 *   swapout_recheck_pinned  folio_try_share_anon_rmap_pte() after the unmap
 *   swapin_lru_drain, wp_lru_drain, wp_swapcache_opt  (as in 5.18)
 *   swapout_skip_pinned     feb889fb40fa
 */
#include "engine.h"

static enum pol_fork ax_fork_copy(struct sim_engine *e,
                                  const struct sim_mm *parent, uint32_t f)
{
	/* folio_try_dup_anon_rmap_pte(): -EBUSY (copy) only for a page that is
	 * still exclusive and maybe pinned; a shared page cannot be pinned. */
	if ((sim_frame(e, f)->flags & FR_EXCL) && parent->has_pinned &&
	    sim_maybe_pinned(e, f))
		return POL_FORK_COPY;
	return POL_FORK_SHARE;
}

static unsigned ax_fork_filter(const struct sim_config *cfg)
{
	(void)cfg;
	return POL_FF_PINNED;
}

static enum pol_wp ax_wp_anon(struct sim_engine *e, uint32_t f, bool unshare)
{
	(void)unshare;
	if (sim_frame(e, f)->flags & FR_EXCL)
		return POL_REUSE;
	return pol_wp_can_reuse(e, f) ? POL_REUSE : POL_COPY;
}

static enum pol_gup ax_gup(struct sim_engine *e, const struct vma *vma,
                           uint32_t f, bool writable, uint32_t flags)
{
	const struct sim_config *c = e->cfg;
	const struct sim_frame *fr = sim_frame(e, f);

	if (flags & EV_GUP_WRITE)
		return writable ? POL_GUP_REF : POL_GUP_WRITE;
	/* gup_must_unshare(): only FOLL_PIN; FOLL_GET (vmsplice) never
	 * unshares - its fork leak is closed by the refcount test instead. */
	if (!(flags & EV_GUP_PIN) || !c->ro_pin_unshare)
		return POL_GUP_REF;
	if (f && (fr->flags & FR_ANON))
		return (fr->flags & FR_EXCL) ? POL_GUP_REF : POL_GUP_UNSHARE;
	if (c->ro_pin_unshare_nonanon && (flags & EV_GUP_LONGTERM) &&
	    pol_cow_mapping(vma))
		return POL_GUP_UNSHARE;
	return POL_GUP_REF;
}

static unsigned ax_swapin(struct sim_engine *e, const struct vma *vma,
                          uint32_t f, bool write, bool swp_excl)
{
	const struct sim_config *c = e->cfg;

	(void)vma;
	if (sim_frame(e, f)->flags & FR_KSM)
		return 0;
	if (write && c->swapin_lru_drain && !(sim_frame(e, f)->flags & FR_LRU))
		sim_lru_drain_local(e);
	/* should_try_to_free_swap(): write && ref == 1 + nr (the fault's) */
	if (write && sim_frame(e, f)->ref == 1)
		sim_try_free_swap(e, f);
	/* exclusive || folio_ref_count == 1: map exclusive, and writable even
	 * on a read fault if the area is writable. */
	if (swp_excl || sim_frame(e, f)->ref == 0)
		return POL_SWAPIN_EXCL | POL_SWAPIN_WRITABLE;
	return 0;
}

static bool ax_may_unmap(struct sim_engine *e, uint32_t f,
                         enum pol_unmap_why why, bool after_unmap)
{
	if (!pol_swap_allowed(e, f, why, after_unmap))
		return false;
	/* folio_try_share_anon_rmap_pte(): with the PTE cleared and flushed,
	 * an exclusive page that may be pinned keeps its mapping. */
	if (after_unmap && e->cfg->swapout_recheck_pinned &&
	    (sim_frame(e, f)->flags & FR_EXCL) && sim_maybe_pinned(e, f))
		return false;
	return true;
}

static bool ax_mprotect_writable(struct sim_engine *e, uint32_t f)
{
	/* can_change_pte_writable(): only exclusive anonymous pages. */
	return e->cfg->mprotect_excl_writable &&
	       (sim_frame(e, f)->flags & FR_EXCL);
}

static bool ax_gup_fast_races_fork(struct sim_engine *e)
{
	/* GUP-fast pins only exclusive pages and rechecks after fork cleared
	 * the bit (plus write_protect_seq): no window. */
	(void)e;
	return false;
}

const struct pol_ops pol_anonexcl_ops = {
	.name = "anon-exclusive",
	.summary = "reuse exclusive pages; others by refcount; pins unshare and stay exclusive",
	.fork_copy = ax_fork_copy,
	.fork_filter = ax_fork_filter,
	.wp_anon = ax_wp_anon,
	.gup = ax_gup,
	.swapin = ax_swapin,
	.may_unmap = ax_may_unmap,
	.mprotect_writable = ax_mprotect_writable,
	.gup_fast_races_fork = ax_gup_fast_races_fork,
};
