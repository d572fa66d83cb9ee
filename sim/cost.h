/*
 * cost.h - the latency model: what a fork and a page fault cost in time,
 * from the [cost] parameters of a configuration (config.h, struct
 * cost_params; docs/costs.md says where each figure comes from).
 *
 * The model is linear in the work the engine counted, and it never feeds
 * back into the replay: it only turns counts into nanoseconds for the
 * fork and fault latency metrics.
 *
 *   fork (copies the address space): the sum over cost_fork_terms[] of
 *   parameter * count, that is
 *       fork_base_ns + fork_per_vma_ns        * areas inherited
 *                    + fork_per_copied_vma_ns * areas with PTEs copied
 *                    + fork_per_file_vma_ns   * areas mapping a file
 *                    + fork_per_pt_page_ns    * page-table pages allocated
 *                    + fork_per_pte_ns        * PTEs copied
 *                    + fork_per_copy_ns       * pages copied early (early COW)
 *   vfork or CLONE_VM clone (threads are not forks):
 *       vfork_base_ns (no page-table work)
 *   fault, by outcome (enum sim_out):
 *       fault_base_ns, plus fault_per_copy_ns for a copy (OUT_COPY,
 *       OUT_COPY_FILE) or fault_per_zero_ns for a new zeroed page (OUT_NEW,
 *       OUT_ZERO_FILL).
 *
 * The fork's terms are one table so that the price (cost_fork()) and the
 * fit of the prices to observed latencies (calib.h) read the same counts:
 * a term added here is priced and fitted alike.
 *
 * All functions are pure: no engine state, no errors.
 */
#ifndef COWSIM_COST_H
#define COWSIM_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sim.h"

/* One term of a copying fork's price: a [cost] parameter (a double of
 * struct cost_params at offset `off`) times a count of struct
 * sim_fork_rec. */
struct cost_term {
	const char *param;       /* "fork_per_pte_ns" */
	const char *count;       /* what it multiplies: "PTEs copied" */
	size_t off;              /* offsetof(struct cost_params, param) */
};

/* The terms, in cost_fork_terms[] order. */
enum cost_fork_term {
	COST_BASE,               /* 1 */
	COST_VMAS,               /* areas inherited */
	COST_VMAS_COPIED,        /* of those, with PTEs copied */
	COST_VMAS_FILE,          /* of those, mapping a file */
	COST_PT_PAGES,           /* page-table pages allocated */
	COST_PTES,               /* PTEs copied */
	COST_PTES_WP,            /* of those, write-protected in the parent */
	COST_COPIES,             /* pages copied early */
	COST_FORK_NTERMS
};
extern const struct cost_term cost_fork_terms[COST_FORK_NTERMS];

/* The counts of r that cost_fork_terms[] price, in its order (the first
 * is 1: the base). */
void cost_fork_counts(const struct sim_fork_rec *r,
                      double x[COST_FORK_NTERMS]);

/* The parameter of term k in c. */
static inline double *cost_term_param(struct cost_params *c, size_t k)
{
	return (double *)((char *)c + cost_fork_terms[k].off);
}

/* The modeled latency of the fork described by r, in ns; vm: the child
 * shares the parent's address space (CLONE_VM). */
double cost_fork(const struct cost_params *c, const struct sim_fork_rec *r,
                 bool vm);

/* fork_mode on-demand or async: the parent-visible part of fork r, what
 * cost_fork() charges for all but the r->pt_deferred PTE tables (with their
 * r->ptes_deferred PTEs and r->copies_deferred early copies), plus
 * fork_per_shared_pt_ns per deferred table when they are shared
 * (on-demand).  No errors. */
double cost_fork_deferred(const struct cost_params *c,
                          const struct sim_fork_rec *r, bool shared);

/* Copying one PTE table of ptes entries, copies of them early COW, after
 * fork (an on-demand unshare, an async sync or background copy), in ns. */
double cost_pt_copy(const struct cost_params *c, uint64_t ptes,
                    uint32_t copies);

/* Fill fault_ns[o] with the modeled latency of a fault of outcome o, in
 * ns, truncated to whole ns (the engine adds these up per fault). */
void cost_faults(const struct cost_params *c, uint64_t fault_ns[OUT_NR]);

#endif
