/*
 * calib.c - the robust fit of the fork cost parameters (calib.h).
 *
 * Least absolute log deviations with non-negative parameters, by
 * iteratively reweighted least squares: minimizing sum |e_i| (e_i the
 * log error of fork i) is minimizing sum w_i e_i^2 with w_i = 1/|e_i| at
 * the solution, so each step solves that weighted problem (linearized,
 * fit_once()) with the last step's errors, floored at CALIB_EPS so that
 * a fork the model already hits does not take all the weight.  p is at most
 * COST_FORK_NTERMS, so each weighted step builds the p x p normal
 * equations and solves them with the bounds by projected coordinate
 * descent, which needs no factorization and copes with collinear counts
 * (e.g. areas and page-table pages of small processes) by settling on one
 * of the equally good answers; the bootstrap then shows the spread.
 *
 * Counts span 1 (the base) to 10^5 (PTEs), so each column is scaled by
 * its largest value before the descent, which otherwise crawls.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "../lib/grow.h"

#define P COST_FORK_NTERMS
#define CALIB_EPS 1e-6           /* floor of |relative error| in weights */
#define CALIB_IRLS_MAX 200
/* A resample starts from the full fit, a few steps from its own: IRLS
 * creeps on an L1 plateau for long after it stops mattering, and the
 * intervals need hundreds of refits (all bundled traces in under 10 s,
 * bench/calibrate.sh). */
#define CALIB_IRLS_BOOT 30
#define CALIB_CD_MAX 2000
/* What is left of a unit count once the counts before it are taken out,
 * below which it is collinear with them (identify()). */
#define CALIB_COLLINEAR 1e-6

int calib_add(struct calib_data *d, const double x[P], double y)
{
	if (!(y > 0) || !isfinite(y))
		return -EINVAL;
	if (grow_array((void **)&d->f, &d->cap, d->n + 1, sizeof(*d->f), 256,
	               false))
		return -ENOMEM;
	memcpy(d->f[d->n].x, x, sizeof(d->f[d->n].x));
	d->f[d->n++].y = y;
	return 0;
}

void calib_free(struct calib_data *d)
{
	free(d->f);
	memset(d, 0, sizeof(*d));
}

double calib_predict(const double beta[P], const double x[P])
{
	double s = 0;
	for (size_t k = 0; k < P; k++)
		s += beta[k] * x[k];
	return s;
}

/* The error of a model m against an observed y: |log(y / m)|.  A fork 2x
 * slower than modeled and one 2x faster weigh alike (|y - m| / y would
 * give the fast one more weight and pull the fit below the median; |y -
 * m| / m would let one preempted fork 10x over the model weigh 9), and
 * for forks of equal counts the best m is their median.  m is floored so
 * that a parameter set that models a fork at 0 stays finite. */
static double rel_err(double m, double y)
{
	return fabs(log(y / fmax(m, 1e-3 * y)));
}

/* sum over the rows idx[0..n) of rel_err() under beta. */
static double objective(const struct calib_data *d, const size_t *idx,
                        size_t n, const double beta[P])
{
	double s = 0;
	for (size_t j = 0; j < n; j++) {
		const struct calib_fork *f = &d->f[idx[j]];
		s += rel_err(calib_predict(beta, f->x), f->y);
	}
	return s;
}

/* Minimize z'Az/2 - b'z over z >= 0 (A p x p, symmetric, PSD) by
 * projected coordinate descent from z. */
static void nnls_cd(const double *A, const double *b, size_t p, double *z)
{
	for (int sweep = 0; sweep < CALIB_CD_MAX; sweep++) {
		double moved = 0, size = 0;
		for (size_t k = 0; k < p; k++) {
			if (A[k * p + k] <= 0)
				continue;
			double g = b[k];
			for (size_t j = 0; j < p; j++)
				if (j != k)
					g -= A[k * p + j] * z[j];
			double nz = g / A[k * p + k];
			if (nz < 0)
				nz = 0;
			moved = fmax(moved, fabs(nz - z[k]));
			size = fmax(size, fabs(nz));
			z[k] = nz;
		}
		if (moved <= 1e-13 * (1 + size))
			break;
	}
}

/* One fit on rows idx[0..n) (a row may repeat) of the parameters in
 * use[], the others held at start; res gets beta, objective and
 * iterations.  At most `steps` steps.  w, t: n doubles of scratch each.  Each step linearizes
 * log m around the last step's model m0 (the observed y at the first
 * step): |log y - log m| ~ |t - m| / m0 with t = m0 (1 + log(y / m0)),
 * and solves for m the least squares of (t - m) / m0 weighted by
 * 1 / max(e, CALIB_EPS), e = |log(y / m0)|. */
static void fit_once(const struct calib_data *d, const size_t *idx, size_t n,
                     const bool use[P], const double start[P], unsigned steps,
                     double *w, double *t, struct calib_result *res)
{
	size_t col[P], p = 0;
	double scale[P], beta[P], z[P], A[P * P], b[P];

	memcpy(beta, start, sizeof(beta));
	for (size_t k = 0; k < P; k++) {
		if (!use[k])
			continue;
		double m = 0;
		for (size_t j = 0; j < n; j++)
			m = fmax(m, fabs(d->f[idx[j]].x[k]));
		if (m > 0) {
			scale[p] = m;
			z[p] = start[k] * m;
			col[p++] = k;
		}
	}
	double best = objective(d, idx, n, beta);
	memcpy(res->beta, beta, sizeof(beta));
	res->iterations = 0;
	for (size_t j = 0; j < n; j++) {
		w[j] = 1 / (d->f[idx[j]].y * d->f[idx[j]].y);
		t[j] = d->f[idx[j]].y;
	}
	for (unsigned it = 1; p && it <= steps; it++) {
		memset(A, 0, sizeof(A));
		memset(b, 0, sizeof(b));
		for (size_t j = 0; j < n; j++) {
			const double *x = d->f[idx[j]].x;
			double yr = t[j], u[P];
			for (size_t k = 0; k < P; k++)
				if (!use[k])
					yr -= beta[k] * x[k];
			for (size_t a = 0; a < p; a++)
				u[a] = x[col[a]] / scale[a];
			for (size_t a = 0; a < p; a++) {
				b[a] += w[j] * u[a] * yr;
				for (size_t c = 0; c < p; c++)
					A[a * p + c] += w[j] * u[a] * u[c];
			}
		}
		nnls_cd(A, b, p, z);
		for (size_t a = 0; a < p; a++)
			beta[col[a]] = z[a] / scale[a];
		double obj = objective(d, idx, n, beta);
		double gain = best - obj;
		if (obj < best) {
			best = obj;
			memcpy(res->beta, beta, sizeof(beta));
			res->iterations = it;
		}
		if (it > 2 && fabs(gain) <= 1e-9 * best)
			break;
		for (size_t j = 0; j < n; j++) {
			const struct calib_fork *f = &d->f[idx[j]];
			double m = fmax(calib_predict(beta, f->x), 1e-3 * f->y);
			double e = log(f->y / m);
			t[j] = m * (1 + e);
			w[j] = 1 / (m * m * fmax(fabs(e), CALIB_EPS));
		}
	}
	res->objective = best;
}

/*
 * Which free parameters the forks can tell apart: a count that is, over
 * every fork, a linear combination of the counts before it (in
 * cost_fork_terms[] order, the base first) has no price of its own in
 * these data - all of pgbench's forks have the same areas and PTEs, so
 * only their sum is seen - and is held at start instead of being given
 * an arbitrary share.  Gram-Schmidt over the columns, each scaled to unit
 * length, with the forks weighted by 1/y as in the fit.  Returns 0 or
 * -ENOMEM.
 */
static int identify(const struct calib_data *d, const bool free_k[P],
                    bool use[P])
{
	size_t n = d->n, m = 0;
	double *q = malloc(n * P * sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (size_t k = 0; k < P; k++) {
		double *v = &q[m * n], norm = 0;
		use[k] = false;
		if (!free_k[k])
			continue;
		for (size_t i = 0; i < n; i++) {
			v[i] = d->f[i].x[k] / d->f[i].y;
			norm += v[i] * v[i];
		}
		if (norm == 0)
			continue;
		norm = sqrt(norm);
		for (size_t i = 0; i < n; i++)
			v[i] /= norm;
		for (int pass = 0; pass < 2; pass++)
			for (size_t a = 0; a < m; a++) {
				double dot = 0;
				for (size_t i = 0; i < n; i++)
					dot += q[a * n + i] * v[i];
				for (size_t i = 0; i < n; i++)
					v[i] -= dot * q[a * n + i];
			}
		double left = 0;
		for (size_t i = 0; i < n; i++)
			left += v[i] * v[i];
		left = sqrt(left);
		if (left < CALIB_COLLINEAR)
			continue;
		for (size_t i = 0; i < n; i++)
			v[i] /= left;
		use[k] = true;
		m++;
	}
	free(q);
	return 0;
}

/* splitmix64: the bootstrap's generator, its state the caller's. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n), linearly interpolated. */
static double quantile(const double *v, size_t n, double q)
{
	double h = q * (double)(n - 1);
	size_t i = (size_t)h;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

int calib_fit(const struct calib_data *d, const bool free_k[P],
              const double start[P], unsigned boot, uint64_t seed,
              struct calib_result *res)
{
	size_t n = d->n;
	int rc = 0;

	if (!n)
		return -EINVAL;
	size_t *idx = malloc(n * sizeof(*idx));
	double *w = malloc(2 * n * sizeof(*w));
	double *bs = boot ? malloc((size_t)boot * P * sizeof(*bs)) : NULL;
	if (!idx || !w || (boot && !bs)) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = identify(d, free_k, res->identified)))
		goto out;
	for (size_t j = 0; j < n; j++)
		idx[j] = j;
	fit_once(d, idx, n, res->identified, start, CALIB_IRLS_MAX, w, w + n,
	         res);
	memcpy(res->lo, res->beta, sizeof(res->lo));
	memcpy(res->hi, res->beta, sizeof(res->hi));
	uint64_t s = seed;
	for (unsigned r = 0; r < boot; r++) {
		struct calib_result one;
		for (size_t j = 0; j < n; j++)
			idx[j] = (size_t)(next_rand(&s) % n);
		/* From the full fit: the resample's answer is near it. */
		fit_once(d, idx, n, res->identified, res->beta, CALIB_IRLS_BOOT, w,
		         w + n, &one);
		for (size_t k = 0; k < P; k++)
			bs[k * boot + r] = one.beta[k];
	}
	for (size_t k = 0; boot && k < P; k++) {
		if (!res->identified[k])
			continue;
		qsort(&bs[k * boot], boot, sizeof(*bs), cmp_double);
		res->lo[k] = quantile(&bs[k * boot], boot, 0.025);
		res->hi[k] = quantile(&bs[k * boot], boot, 0.975);
	}
out:
	free(idx);
	free(w);
	free(bs);
	return rc;
}
