/*
 * calib.h - fitting the fork cost parameters (cost.h) to kernel-observed
 * fork latencies, for `cowsim calibrate` (docs/costs.md, "Fitting your
 * own").
 *
 * The model is linear: a fork's latency is sum_k beta_k * x_k over the
 * counts of cost_fork_counts().  The fit chooses the free betas, each
 * >= 0, that minimize the sum over forks of |log(observed / model)|:
 * least absolute deviations, so a fork the scheduler preempted (observed
 * far above the model) pulls the fit only as much as any other fork that
 * is off, and for forks of equal counts the answer is their median; of
 * the logarithm, so a 100 us fork counts as much as a 9 ms one (the bars
 * of issue 11 are relative) and a fork 2x over the model weighs what one
 * 2x under does.  It is solved by iteratively reweighted least squares
 * (each step a weighted non-negative least squares of the linearized
 * problem, by projected coordinate descent over the normal equations,
 * p <= COST_FORK_NTERMS unknowns).  Fixed betas keep the caller's value
 * and their part is taken off the observed latencies first; so are the
 * betas whose counts the forks cannot tell apart (calib_result).
 *
 * The uncertainty of each beta is a percentile bootstrap over forks:
 * refit on `boot` resamples drawn with replacement, with a seeded
 * generator (same data, same seed: same intervals), and report the 2.5th
 * and 97.5th percentiles.
 *
 * Lifecycle: fill a struct calib_data with calib_add() (its arrays grow),
 * calib_fit() as often as wanted, calib_free().
 */
#ifndef COWSIM_CALIB_H
#define COWSIM_CALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cost.h"

struct calib_fork {
	double x[COST_FORK_NTERMS];  /* cost_fork_counts() */
	double y;                    /* observed latency, ns (> 0) */
};

struct calib_data {
	struct calib_fork *f;
	size_t n, cap;
};

struct calib_result {
	double beta[COST_FORK_NTERMS];   /* fitted (or fixed) parameters */
	double lo[COST_FORK_NTERMS];     /* 95% bootstrap interval; = beta */
	double hi[COST_FORK_NTERMS];     /* for a fixed one */
	bool identified[COST_FORK_NTERMS];  /* free, and its count is not a
	                                       linear combination of the
	                                       counts before it over these
	                                       forks: the data priced it.  The
	                                       others keep start's value */
	double objective;                /* sum |log(y / model)| at beta */
	unsigned iterations;             /* IRLS steps of the main fit */
};

/* Append one fork: its counts (cost_fork_counts()) and observed latency
 * (ns, > 0).  Returns 0, -EINVAL (y not positive and finite), or -ENOMEM. */
int calib_add(struct calib_data *d, const double x[COST_FORK_NTERMS],
              double y);

void calib_free(struct calib_data *d);

/*
 * Fit the betas marked free in `free_k` to d's forks, the others held at
 * start[k]; start also seeds the iteration.  boot resamples (0: no
 * intervals, lo = hi = beta) with generator seed `seed`.  Returns 0 and
 * *res, -EINVAL if d has no fork, or -ENOMEM.
 */
int calib_fit(const struct calib_data *d, const bool free_k[COST_FORK_NTERMS],
              const double start[COST_FORK_NTERMS], unsigned boot,
              uint64_t seed, struct calib_result *res);

/* The model's latency for counts x under beta. */
double calib_predict(const double beta[COST_FORK_NTERMS],
                     const double x[COST_FORK_NTERMS]);

#endif
