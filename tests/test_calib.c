/*
 * test_calib.c - the fork cost fit (sim/calib.h) against forks made from
 * known parameters: it must recover them within tolerance with noise and
 * preempted forks mixed in, hold what the data cannot tell apart, give
 * intervals that contain the truth, and price the fitted counts exactly
 * as cost_fork() does; and the engine counts what the new terms price.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "importers/scn.h"
#include "sim/calib.h"
#include "sim/cost.h"
#include "sim/sim.h"

#define P COST_FORK_NTERMS
_Static_assert(P == 8, "the arrays below list every term");

/* Uniform in [0, 1). */
static double unif(uint64_t *s)
{
	return (double)(test_rand(s) >> 11) / 9007199254740992.0;
}

/* A fork of random shape, as forksweep makes them: from a small process
 * to thousands of areas and 10^5 PTEs, log-uniformly, so that every term
 * weighs in some forks; no early copies. */
static void shape(uint64_t *s, double x[P])
{
	double areas = floor(20 * exp(unif(s) * log(200)));
	double copied = floor(areas * unif(s));
	double ptes = copied + floor(exp(unif(s) * log(100000)));
	x[COST_BASE] = 1;
	x[COST_VMAS] = areas;
	x[COST_VMAS_COPIED] = copied;
	x[COST_VMAS_FILE] = floor((areas - copied) * unif(s));
	x[COST_PT_PAGES] = 1 + floor(copied * unif(s)) + floor(ptes / 512);
	x[COST_PTES] = ptes;
	x[COST_PTES_WP] = floor(ptes * unif(s));
	x[COST_COPIES] = 0;
}

static bool within(double got, double want, double tol)
{
	return fabs(got - want) <= tol * want;
}

/* Known parameters, +-5% noise, and one fork in ten preempted (2 to 10
 * times its latency): recovered within 10%, intervals contain them. */
static void recovers(void)
{
	const double truth[P] = { 30000, 300, 900, 600, 1500, 40, 120, 0 };
	const double start[P] = { 55000, 1000, 0, 0, 400, 55, 0, 1000 };
	const bool all[P] = { true, true, true, true, true, true, true, true };
	struct calib_data d = { 0 };
	uint64_t s = 7;

	for (int i = 0; i < 400; i++) {
		double x[P];
		shape(&s, x);
		double y = calib_predict(truth, x) * (0.95 + 0.1 * unif(&s));
		if (i % 10 == 3)
			y *= 2 + 8 * unif(&s);
		CHECK(calib_add(&d, x, y) == 0);
	}
	struct calib_result r;
	CHECK(calib_fit(&d, all, start, 100, 1, &r) == 0);
	for (size_t k = 0; k < COST_COPIES; k++) {
		if (!within(r.beta[k], truth[k], 0.10))
			fprintf(stderr, "%s: %g, truth %g\n",
			        cost_fork_terms[k].param, r.beta[k], truth[k]);
		CHECK(within(r.beta[k], truth[k], 0.10));
		CHECK(r.identified[k]);
		CHECK(r.lo[k] <= r.beta[k] && r.beta[k] <= r.hi[k]);
		CHECK(r.lo[k] <= truth[k] * 1.02 && truth[k] * 0.98 <= r.hi[k]);
	}
	/* No early copy in any fork: its price is not identified and keeps
	 * the starting value. */
	CHECK(!r.identified[COST_COPIES]);
	CHECK(r.beta[COST_COPIES] == start[COST_COPIES]);

	/* The same seed gives the same intervals. */
	struct calib_result r2;
	CHECK(calib_fit(&d, all, start, 100, 1, &r2) == 0);
	CHECK(!memcmp(r.lo, r2.lo, sizeof(r.lo)) &&
	      !memcmp(r.hi, r2.hi, sizeof(r.hi)));

	/* Held parameters keep their value; the rest absorb the difference
	 * but stay non-negative. */
	const bool some[P] = { true, false, false, false, false, true, true,
	                       false };
	CHECK(calib_fit(&d, some, start, 0, 1, &r) == 0);
	for (size_t k = COST_VMAS; k <= COST_PT_PAGES; k++)
		CHECK(r.beta[k] == start[k]);
	for (size_t k = 0; k < P; k++)
		CHECK(r.beta[k] >= 0);
	calib_free(&d);
}

/* Forks that all have the same counts (pgbench's postmaster): only the
 * base is identified, and it is their median, whatever the one slow
 * fork (a mean would move 25%). */
static void same_shape(void)
{
	const double start[P] = { 55000, 1000, 0, 0, 400, 55, 0, 1000 };
	const bool all[P] = { true, true, true, true, true, true, true, true };
	const double x[P] = { 1, 217, 100, 90, 26, 606, 606, 0 };
	const double y[] = { 300e3, 310e3, 320e3, 330e3, 340e3, 350e3, 360e3,
	                     370e3, 380e3, 390e3, 400e3, 1000e3 };
	struct calib_data d = { 0 };
	struct calib_result r;

	for (size_t i = 0; i < sizeof(y) / sizeof(*y); i++)
		CHECK(calib_add(&d, x, y[i]) == 0);
	CHECK(calib_fit(&d, all, start, 50, 3, &r) == 0);
	CHECK(r.identified[0]);
	for (size_t k = 1; k < P; k++) {
		CHECK(!r.identified[k]);
		CHECK(r.beta[k] == start[k]);
	}
	double m = calib_predict(r.beta, x);
	CHECK(m >= 350e3 * 0.999 && m <= 360e3 * 1.001);
	calib_free(&d);
}

/* cost_fork() is the sum of cost_fork_terms[] over cost_fork_counts(),
 * the counts the fit sees; and a bad observed latency is refused. */
static void same_prices(void)
{
	struct cost_params c = { .fork_base_ns = 55000, .fork_per_vma_ns = 1000,
	                         .fork_per_copied_vma_ns = 250,
	                         .fork_per_file_vma_ns = 100,
	                         .fork_per_pt_page_ns = 400,
	                         .fork_per_pte_ns = 55,
	                         .fork_per_copy_ns = 1000,
	                         .vfork_base_ns = 17000 };
	struct sim_fork_rec rec = { .vmas = 30, .vmas_copied = 12,
	                            .vmas_file = 7,
	                            .pt_pages = 9, .ptes = 1234,
	                            .pages_copied = 2 };
	double x[P], beta[P];

	cost_fork_counts(&rec, x);
	for (size_t k = 0; k < P; k++)
		beta[k] = *cost_term_param(&c, k);
	CHECK(cost_fork(&c, &rec, false) == calib_predict(beta, x));
	CHECK(cost_fork(&c, &rec, false) == 55000 + 30000 + 3000 + 700 +
	      3600 + 1234 * 55 + 2000);
	CHECK(cost_fork(&c, &rec, true) == 17000);

	struct calib_data d = { 0 };
	struct calib_result r;
	CHECK(calib_add(&d, x, 0) == -EINVAL);
	CHECK(calib_add(&d, x, NAN) == -EINVAL);
	CHECK(calib_fit(&d, (const bool[P]){ true }, beta, 0, 1, &r) ==
	      -EINVAL);
	calib_free(&d);
}

/* The counts the area terms price, from a fork of four areas: an empty
 * anonymous one, a written anonymous one, a file read (its PTEs are the
 * page cache's: the child refaults them, nothing copied) and a private file
 * written (COW: copied). */
static void fork_counts(void)
{
	static const char text[] =
		"process P\n"
		"mmap P empty 4\n"
		"mmap P heap 3\n"
		"write P heap 3\n"
		"mmap P lib 2 file=libc private prot=r\n"
		"read P lib 2\n"
		"mmap P data 2 file=data private\n"
		"write P data 1\n"
		"fork P C\n"
		"fork P D\n"
		"write P heap 1\n"
		"fork P E\n";
	struct scn sc;
	struct sim_config cfg;
	struct sim_engine *e;
	char err[256];

	CHECK(scn_parse_text("inline", text, &sc, err, sizeof(err)) == 0);
	cfg_defaults(&cfg);
	CHECK(sim_create(&cfg, &e) == 0);
	for (size_t i = 0; i < sc.nev; i++)
		CHECK(sim_apply(e, &sc.ev[i]) == 0);
	size_t nf;
	const struct sim_fork_rec *f = sim_forks(e, &nf);
	CHECK_EQ(nf, 3);
	CHECK_EQ(f[0].vmas, 4);
	CHECK_EQ(f[0].vmas_copied, 2);   /* heap and data */
	CHECK_EQ(f[0].vmas_file, 2);     /* lib and data */
	CHECK_EQ(f[0].ptes, 4);
	/* The first fork write-protects every written PTE in the parent; the
	 * second finds them read-only; after a write (a COW copy, C and D
	 * still map the old page) the third write-protects that one. */
	CHECK_EQ(f[0].ptes_wp, 4);
	CHECK_EQ(f[1].ptes, 4);
	CHECK_EQ(f[1].ptes_wp, 0);
	CHECK_EQ(f[2].ptes, 4);
	CHECK_EQ(f[2].ptes_wp, 1);
	sim_destroy(e);
	scn_free(&sc);
	cfg_release(&cfg);
}

int main(void)
{
	fork_counts();
	recovers();
	same_shape();
	same_prices();
	CHECK_DONE();
}
