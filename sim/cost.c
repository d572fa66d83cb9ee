/*
 * cost.c - the fork and fault latency model (cost.h).
 *
 * Kept apart from the engine's mechanics because it is a model of a
 * machine, not of the kernel: the engine counts what fork() and a fault
 * did (dup_mmap()'s areas, copy_page_range()'s areas, page-table pages and
 * PTEs, copy_present_page()'s early copies; wp_page_copy()'s copy, a
 * zeroed page of do_anonymous_page()), and this file prices the counts
 * with the parameters of docs/costs.md.
 */
#include "cost.h"

#define TERM(p, what) { #p, what, offsetof(struct cost_params, p) }
/* In enum cost_fork_term's order. */
const struct cost_term cost_fork_terms[COST_FORK_NTERMS] = {
	TERM(fork_base_ns, "forks"),
	TERM(fork_per_vma_ns, "areas inherited"),
	TERM(fork_per_copied_vma_ns, "areas with PTEs copied"),
	TERM(fork_per_file_vma_ns, "areas mapping a file"),
	TERM(fork_per_pt_page_ns, "page-table pages allocated"),
	TERM(fork_per_pte_ns, "PTEs copied"),
	TERM(fork_per_wrprotect_ns, "PTEs write-protected in the parent"),
	TERM(fork_per_copy_ns, "pages copied early"),
};

void cost_fork_counts(const struct sim_fork_rec *r,
                      double x[COST_FORK_NTERMS])
{
	x[COST_BASE] = 1;
	x[COST_VMAS] = r->vmas;
	x[COST_VMAS_COPIED] = r->vmas_copied;
	x[COST_VMAS_FILE] = r->vmas_file;
	x[COST_PT_PAGES] = r->pt_pages;
	x[COST_PTES] = (double)r->ptes;
	x[COST_PTES_WP] = (double)r->ptes_wp;
	x[COST_COPIES] = r->pages_copied;
}

double cost_fork(const struct cost_params *c, const struct sim_fork_rec *r,
                 bool vm)
{
	double x[COST_FORK_NTERMS], ns = 0;

	if (vm)
		return c->vfork_base_ns;
	cost_fork_counts(r, x);
	for (size_t k = 0; k < COST_FORK_NTERMS; k++)
		ns += *(const double *)((const char *)c + cost_fork_terms[k].off) *
		      x[k];
	return ns;
}

double cost_fork_deferred(const struct cost_params *c,
                          const struct sim_fork_rec *r, bool shared)
{
	/* Priced through cost_fork() so that its terms, whatever they are,
	 * apply to the tables the parent did copy. */
	struct sim_fork_rec p = *r;
	p.pt_pages -= r->pt_deferred;
	p.ptes -= r->ptes_deferred;
	/* The write-protects go with the PTEs the parent copied; which of
	 * them were writable is not kept per table, so in proportion. */
	if (r->ptes)
		p.ptes_wp = (uint64_t)((double)r->ptes_wp * (double)p.ptes /
		                       (double)r->ptes);
	p.pages_copied -= r->copies_deferred;
	return cost_fork(c, &p, false) +
	       (shared ? c->fork_per_shared_pt_ns * r->pt_deferred : 0);
}

double cost_pt_copy(const struct cost_params *c, uint64_t ptes,
                    uint32_t copies)
{
	return c->fork_per_pt_page_ns + c->fork_per_pte_ns * (double)ptes +
	       c->fork_per_copy_ns * copies;
}

void cost_faults(const struct cost_params *c, uint64_t fault_ns[OUT_NR])
{
	for (int o = 0; o < OUT_NR; o++) {
		double ns = c->fault_base_ns;
		if (o == OUT_COPY || o == OUT_COPY_FILE)
			ns += c->fault_per_copy_ns;
		else if (o == OUT_NEW || o == OUT_ZERO_FILL)
			ns += c->fault_per_zero_ns;
		fault_ns[o] = (uint64_t)ns;
	}
}
