/*
 * pol_alwayscopy.c - a toy model, "always-copy": every write fault on a
 * write-protected anonymous page copies it, whoever else maps or references
 * it.  It never reuses, so nothing can leak through a GUP reference, and
 * every copy of a page only the faulting process mapped is unnecessary.
 *
 * It is not a kernel and it does not ship: it is docs/model.md's "How to add
 * a model" followed once, in a test binary (test_model.c) whose registry the
 * build writes from sim/'s policies plus this file, exactly as it writes the
 * cowsim binary's from sim/ alone.  No switch is honoured.
 */
#include "sim/engine.h"

static enum pol_fork ac_fork_copy(struct sim_engine *e,
                                  const struct sim_mm *parent, uint32_t f)
{
	(void)e; (void)parent; (void)f;
	return POL_FORK_SHARE;
}

static unsigned ac_fork_filter(const struct sim_config *cfg)
{
	(void)cfg;
	return 0;
}

static enum pol_wp ac_wp_anon(struct sim_engine *e, uint32_t f, bool unshare)
{
	(void)e; (void)f; (void)unshare;
	return POL_COPY;
}

static enum pol_gup ac_gup(struct sim_engine *e, const struct vma *vma,
                           uint32_t f, bool writable, uint32_t flags)
{
	(void)e; (void)vma; (void)f;
	return (flags & EV_GUP_WRITE) && !writable ? POL_GUP_WRITE : POL_GUP_REF;
}

static unsigned ac_swapin(struct sim_engine *e, const struct vma *vma,
                          uint32_t f, bool write, bool swp_excl)
{
	/* Mapped read-only and shared: the next write copies. */
	(void)e; (void)vma; (void)f; (void)write; (void)swp_excl;
	return 0;
}

static bool ac_mprotect_writable(struct sim_engine *e, uint32_t f)
{
	(void)e; (void)f;
	return false;
}

static bool ac_gup_fast_races_fork(struct sim_engine *e)
{
	(void)e;
	return false;
}

const struct pol_ops pol_alwayscopy_ops = {
	.name = "always-copy",
	.summary = "copy at every write fault on a write-protected page (a test's toy)",
	.fork_copy = ac_fork_copy,
	.fork_filter = ac_fork_filter,
	.wp_anon = ac_wp_anon,
	.gup = ac_gup,
	.swapin = ac_swapin,
	.may_unmap = pol_swap_allowed,
	.mprotect_writable = ac_mprotect_writable,
	.gup_fast_races_fork = ac_gup_fast_races_fork,
};
