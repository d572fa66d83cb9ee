/*
 * cmd_calibrate.c - `cowsim calibrate`: fit the fork cost parameters to
 * the kernel-observed fork latencies of real traces, and say how well the
 * model did before and after.
 *
 * Each trace is replayed once under one policy (the counts a fork's price
 * multiplies - areas, page-table pages, PTEs - are the policy's, not the
 * cost's) with the starting --cost; every fork (sim_fork_kind(): not a
 * vfork, CLONE_VM clone or thread) with an observed latency becomes a row
 * of the fit (sim/calib.h).  A vfork's observed time is the parent's wait
 * until the child execs or exits, not work of the fork, so vforks are not
 * fitted; nor are faults, as no
 * trace this project reads times a fault (page_fault_user fires at entry
 * only; docs/costs.md).  --hold-out traces are replayed and reported but
 * left out of the fit: the error on them is the honest one.
 *
 * Everything is computed before anything is written: the INI (-o) goes to
 * a temporary file beside it renamed into place, so a bad trace leaves no
 * half-written preset.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../importers/open.h"
#include "../lib/esc.h"
#include "../lib/grow.h"
#include "../lib/progress.h"
#include "../lib/version.h"
#include "cli.h"
#include "../sim/calib.h"
#include "../sim/config.h"
#include "../sim/cost.h"
#include "../sim/replay.h"

#define P COST_FORK_NTERMS
/* Forks of more than this many PTEs have a bar of their own (issue 11). */
#define BIG_FORK_PTES 1000

struct cal_trace {
	const char *path;
	int held_out;
	size_t first, n;         /* its forks: rows [first, first + n) */
	size_t skipped;          /* copying forks without an observed latency */
	size_t vforks;           /* vforks and CLONE_VM clones with one, not
	                            fitted */
};

struct cal_state {
	struct cal_trace *t;
	size_t nt;
	struct calib_data all;   /* every trace's forks, in trace order */
	double *before;          /* modeled latency of each, starting cost */
	size_t capbefore;
	struct sim_config cfg;   /* the policy with the starting cost */
};

/* Replay trace t under s->cfg and append its forks.  Returns 0 or 2 after
 * printing why. */
static int collect(struct cal_state *s, struct cal_trace *t,
                   const struct cli_common *co)
{
	struct replay r;
	struct ev_source *src = NULL;
	struct evsrc_opts so = { .format = co->infmt, .quiet = co->quiet,
	                         .pid = co->pid, .comm = co->comm };
	struct sim_config c;
	char err[1024];
	int rc = 0;

	replay_init(&r);
	r.progress = progress_wanted(co->quiet);
	/* replay_add() takes the config's text over: give it a copy. */
	c = s->cfg;
	c.text = s->cfg.text ? strdup(s->cfg.text) : NULL;
	if ((s->cfg.text && !c.text) || replay_add(&r, &c)) {
		cfg_release(&c);
		rc = cli_die("out of memory");
		goto out;
	}
	if (evsrc_open(t->path, &so, &src, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto out;
	}
	if (replay_run(&r, src, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto out;
	}
	/* perf record follows a tree by inheriting its events into every
	 * child (perf_event_init_task() in copy_process()): the forks it
	 * times are slowed by the measuring itself (docs/costs.md). */
	if (!co->quiet && src->format && !strcmp(src->format, "perf"))
		fprintf(stderr, "cowsim: %s: a perf capture: its forks include "
		        "perf's own per-child event inheritance; fit trace-cmd or "
		        "ftrace captures\n", t->path);
	size_t nf;
	const struct sim_fork_rec *f = sim_forks(r.runs[0].e, &nf);
	t->first = s->all.n;
	for (size_t i = 0; i < nf; i++) {
		/* Forks only (docs/model.md, "Fork latency: what every figure
		 * counts"): a vfork's time is its child's run. */
		if (sim_fork_kind(f[i].clone_flags) != SIM_KIND_FORK) {
			t->vforks += f[i].observed_ns != 0;
			continue;
		}
		if (!f[i].observed_ns) {
			t->skipped++;
			continue;
		}
		double x[P];
		cost_fork_counts(&f[i], x);
		if (calib_add(&s->all, x, (double)f[i].observed_ns) ||
		    grow_array((void **)&s->before, &s->capbefore, s->all.n,
		               sizeof(*s->before), 256, false)) {
			rc = cli_die("out of memory");
			goto out;
		}
		s->before[s->all.n - 1] = (double)f[i].latency_ns;
	}
	t->n = s->all.n - t->first;
out:
	evsrc_close(src);
	replay_free(&r);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v); NAN when n is 0. */
static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* How the model did on a set of forks. */
struct cal_err {
	size_t n;
	double obs_p50, before_p50, after_p50;   /* median latency, ns */
	double before_abs, after_abs;   /* median |model - observed| / observed */
	size_t big, big_before, big_after;   /* forks > BIG_FORK_PTES, and
	                                        those within 20% */
};

/* The errors over the rows of s whose trace is selected by want (-1 all,
 * else held_out == want), or only trace only (if not NULL).  Returns 0 or
 * -ENOMEM. */
static int errors(const struct cal_state *s, const double beta[P],
                  const struct cal_trace *only, int want, struct cal_err *e)
{
	size_t n = s->all.n;
	double *v = malloc(5 * (n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	double *obs = v, *bef = v + n, *aft = v + 2 * n, *eb = v + 3 * n,
	       *ea = v + 4 * n;
	memset(e, 0, sizeof(*e));
	for (size_t ti = 0; ti < s->nt; ti++) {
		const struct cal_trace *t = &s->t[ti];
		if (only ? t != only : (want >= 0 && t->held_out != want))
			continue;
		for (size_t i = t->first; i < t->first + t->n; i++) {
			const struct calib_fork *f = &s->all.f[i];
			double a = calib_predict(beta, f->x);
			size_t k = e->n++;
			obs[k] = f->y;
			bef[k] = s->before[i];
			aft[k] = a;
			eb[k] = fabs(s->before[i] - f->y) / f->y;
			ea[k] = fabs(a - f->y) / f->y;
			if (f->x[COST_PTES] > BIG_FORK_PTES) {
				e->big++;
				e->big_before += eb[k] <= 0.2;
				e->big_after += ea[k] <= 0.2;
			}
		}
	}
	e->obs_p50 = median(obs, e->n);
	e->before_p50 = median(bef, e->n);
	e->after_p50 = median(aft, e->n);
	e->before_abs = median(eb, e->n);
	e->after_abs = median(ea, e->n);
	free(v);
	return 0;
}

/* Signed percent of a over b. */
static double pct_off(double a, double b)
{
	return 100 * (a - b) / b;
}

/* ------------------------------------------------------------------ */
/* output                                                              */

struct cal_out {
	const struct cal_state *s;
	const struct calib_result *res;
	const bool *free_k;
	const double *start;
	const char *cost_name;   /* the starting cost, as given */
	unsigned boot;
	size_t nfit;
	int verbose;             /* -v: one line per fork too */
};

static void write_table(FILE *out, const struct cal_out *o)
{
	const struct cal_state *s = o->s;
	size_t held = 0;
	for (size_t ti = 0; ti < s->nt; ti++)
		held += s->t[ti].held_out;
	fprintf(out, "fitted on %zu fork%s of %zu trace%s (%zu held out) under "
	        "%s, from cost %s; 95%% intervals: bootstrap over forks, %u "
	        "resamples\n\n", o->nfit, o->nfit == 1 ? "" : "s",
	        s->nt - held, s->nt - held == 1 ? "" : "s", held, s->cfg.name,
	        o->cost_name, o->boot);
	fprintf(out, "%-24s %12s %12s %25s\n", "parameter", "start", "fitted",
	        "95% interval");
	for (size_t k = 0; k < P; k++) {
		char iv[64];
		if (o->res->identified[k])
			snprintf(iv, sizeof(iv), "%.4g - %.4g", o->res->lo[k],
			         o->res->hi[k]);
		else
			snprintf(iv, sizeof(iv), o->free_k[k] ? "(not identified)"
			         : "(held)");
		fprintf(out, "%-24s %12.4g %12.4g %25s\n", cost_fork_terms[k].param,
		        o->start[k], o->res->beta[k], iv);
	}
	fprintf(out, "\n%-28s %-8s %5s %10s %16s %16s %11s %11s\n", "trace",
	        "role", "forks", "obs p50", "before p50", "after p50",
	        ">1k PTEs", "in 20%");
	for (size_t ti = 0; ti <= s->nt; ti++) {
		struct cal_err e;
		const struct cal_trace *t = ti < s->nt ? &s->t[ti] : NULL;
		if (errors(s, o->res->beta, t, -1, &e) || !e.n)
			continue;
		char b[32], a[32], big[32];
		snprintf(b, sizeof(b), "%.1f (%+.0f%%)", e.before_p50 / 1e3,
		         pct_off(e.before_p50, e.obs_p50));
		snprintf(a, sizeof(a), "%.1f (%+.0f%%)", e.after_p50 / 1e3,
		         pct_off(e.after_p50, e.obs_p50));
		snprintf(big, sizeof(big), "%zu/%zu", e.big_before, e.big_after);
		const char *name = t ? t->path : "all";
		size_t len = strlen(name);
		fprintf(out, "%-28s %-8s %5zu %10.1f %16s %16s %11zu %11s\n",
		        len > 28 ? name + len - 28 : name,
		        t ? (t->held_out ? "held out" : "fit") : "", e.n,
		        e.obs_p50 / 1e3, b, a, e.big, e.big ? big : "-");
	}
	for (int want = 0; want <= 1; want++) {
		struct cal_err e;
		if (errors(s, o->res->beta, NULL, want, &e) || !e.n)
			continue;
		fprintf(out, "\n%s forks: median |error| per fork %.1f%% before, "
		        "%.1f%% after", want ? "held-out" : "fitted",
		        100 * e.before_abs, 100 * e.after_abs);
	}
	for (size_t ti = 0; o->verbose && ti < s->nt; ti++) {
		const struct cal_trace *t = &s->t[ti];
		if (t->n)
			fprintf(out, "\n%s:\n%7s %7s %7s %8s %9s %9s %6s %10s "
			        "%16s %16s\n", t->path, "areas", "copied", "file",
			        "pt pages", "PTEs", "PTEs wp", "early", "observed",
			        "before", "after");
		for (size_t i = t->first; i < t->first + t->n; i++) {
			const struct calib_fork *f = &s->all.f[i];
			double a = calib_predict(o->res->beta, f->x);
			char b[32], af[32];
			snprintf(b, sizeof(b), "%.1f (%+.0f%%)", s->before[i] / 1e3,
			         pct_off(s->before[i], f->y));
			snprintf(af, sizeof(af), "%.1f (%+.0f%%)", a / 1e3,
			         pct_off(a, f->y));
			fprintf(out, "%7.0f %7.0f %7.0f %8.0f %9.0f %9.0f %6.0f "
			        "%10.1f %16s %16s\n", f->x[COST_VMAS],
			        f->x[COST_VMAS_COPIED], f->x[COST_VMAS_FILE],
			        f->x[COST_PT_PAGES], f->x[COST_PTES],
			        f->x[COST_PTES_WP], f->x[COST_COPIES], f->y / 1e3, b,
			        af);
		}
	}
	fputs("\n(latencies in us; before: the starting cost; >1k PTEs: forks "
	      "of more than 1,000 PTEs, and how many of them are within 20% "
	      "of the kernel's, before/after)\n", out);
}

static void json_err(FILE *out, const struct cal_err *e)
{
	fprintf(out, "{\"forks\": %zu, \"observed_p50_ns\": %.0f, "
	        "\"before_p50_ns\": %.0f, \"after_p50_ns\": %.0f, "
	        "\"before_median_abs_error\": %.4f, "
	        "\"after_median_abs_error\": %.4f, \"big_forks\": %zu, "
	        "\"big_within_20pct_before\": %zu, "
	        "\"big_within_20pct_after\": %zu}",
	        e->n, e->n ? e->obs_p50 : 0, e->n ? e->before_p50 : 0,
	        e->n ? e->after_p50 : 0, e->n ? e->before_abs : 0,
	        e->n ? e->after_abs : 0, e->big, e->big_before, e->big_after);
}

static void write_json(FILE *out, const struct cal_out *o)
{
	const struct cal_state *s = o->s;
	fputs("{\"policy\": ", out);
	esc_json(out, s->cfg.name);
	fputs(", \"start_cost\": ", out);
	esc_json(out, o->cost_name);
	fprintf(out, ", \"fitted_forks\": %zu, \"bootstrap\": %u,\n"
	        " \"parameters\": [", o->nfit, o->boot);
	for (size_t k = 0; k < P; k++)
		fprintf(out, "%s\n  {\"name\": \"%s\", \"fitted\": %s, \"start\": "
		        "%.6g, \"value\": %.6g, \"lo\": %.6g, \"hi\": %.6g}",
		        k ? "," : "", cost_fork_terms[k].param,
		        o->res->identified[k] ? "true" : "false", o->start[k],
		        o->res->beta[k], o->res->lo[k], o->res->hi[k]);
	fputs("],\n \"traces\": [", out);
	for (size_t ti = 0; ti < s->nt; ti++) {
		struct cal_err e;
		if (errors(s, o->res->beta, &s->t[ti], -1, &e))
			continue;
		fputs(ti ? ",\n  {\"path\": " : "\n  {\"path\": ", out);
		esc_json(out, s->t[ti].path);
		fprintf(out, ", \"held_out\": %s, \"error\": ",
		        s->t[ti].held_out ? "true" : "false");
		json_err(out, &e);
		fputc('}', out);
	}
	fputs("],\n \"fitted\": ", out);
	struct cal_err e;
	if (!errors(s, o->res->beta, NULL, 0, &e))
		json_err(out, &e);
	fputs(",\n \"held_out\": ", out);
	if (!errors(s, o->res->beta, NULL, 1, &e))
		json_err(out, &e);
	fputs("}\n", out);
}

/* The basename of path. */
static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/*
 * The INI: comments saying what it was fitted on, then the [cost] section
 * of cfg_format() - every [cost] key, so the file stands alone - with the
 * fitted values and each one's interval.  Returns 0 or -ENOMEM.
 */
static int write_ini(FILE *out, const struct cal_out *o)
{
	const struct cal_state *s = o->s;
	struct sim_config c = s->cfg;
	struct cal_err e;

	for (size_t k = 0; k < P; k++)
		*cost_term_param(&c.cost, k) = o->res->beta[k];
	fprintf(out, "; Fitted by cowsim %s calibrate (robust: least absolute "
	        "log error,\n; non-negative) on %zu fork%s with a "
	        "kernel-observed latency, replayed under %s,\n; from the "
	        "traces:\n", cowsim_version(), o->nfit, o->nfit == 1 ? "" : "s",
	        s->cfg.name);
	for (size_t ti = 0; ti < s->nt; ti++)
		if (!s->t[ti].held_out)
			fprintf(out, ";   %s (%zu fork%s)\n", base(s->t[ti].path),
			        s->t[ti].n, s->t[ti].n == 1 ? "" : "s");
	if (!errors(s, o->res->beta, NULL, 0, &e) && e.n)
		fprintf(out, "; Median |error| per fork: %.1f%% with the starting "
		        "cost (%s), %.1f%% fitted.\n", 100 * e.before_abs,
		        o->cost_name, 100 * e.after_abs);
	if (!errors(s, o->res->beta, NULL, 1, &e) && e.n) {
		fprintf(out, "; Held out (%zu forks): %.1f%% before, %.1f%% "
		        "fitted; the traces:\n", e.n, 100 * e.before_abs,
		        100 * e.after_abs);
		for (size_t ti = 0; ti < s->nt; ti++)
			if (s->t[ti].held_out)
				fprintf(out, ";   %s (%zu fork%s)\n",
				        base(s->t[ti].path), s->t[ti].n,
				        s->t[ti].n == 1 ? "" : "s");
	}
	fprintf(out, "; Intervals: 95%%, percentile bootstrap over forks, %u "
	        "resamples.  Keys not\n; fitted are the starting cost's.  Load "
	        "with: cowsim replay --cost FILE\n", o->boot);
	size_t len = cfg_format(&c, NULL, 0);
	char *text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	cfg_format(&c, text, len + 1);
	char *sec = strstr(text, "\n[cost]\n");
	for (char *line = sec ? sec + 1 : NULL, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		fputs(line, out);
		size_t k = 0;
		while (k < P && (strncmp(line, cost_fork_terms[k].param,
		                         strlen(cost_fork_terms[k].param)) ||
		                 line[strlen(cost_fork_terms[k].param)] != ' '))
			k++;
		if (k < P && o->res->identified[k])
			fprintf(out, "   ; %.4g - %.4g", o->res->lo[k], o->res->hi[k]);
		else if (line[0] != '[')
			fputs("   ; not fitted", out);
		fputc('\n', out);
	}
	free(text);
	return 0;
}

/* Write the INI to path through a temporary file renamed into place, so
 * that path is either the whole INI or untouched.  Returns 0 or 2 after
 * printing why. */
static int save_ini(const char *path, const struct cal_out *o)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0)
		return cli_die("out of memory");
	FILE *f = fopen(tmp, "w");
	if (!f) {
		int rc = cli_die("%s: %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	int err = write_ini(f, o);
	if (fflush(f) || ferror(f))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	int rc = 0;
	if (err) {
		unlink(tmp);
		rc = cli_die("%s: %s", path, strerror(-err));
	}
	free(tmp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* cowsim calibrate                                                    */

static const char calibrate_usage[] =
	"usage: cowsim calibrate TRACE... [-o FILE.ini] [-C NAME|FILE] [-p NAME]\n"
	"                        [--hold-out TRACE]... [--fit PARAM,...]\n"
	"                        [--bootstrap N] [-f table|json] [-I FORMAT]\n"
	"                        [-q] [-v] [-P N | --comm NAME]\n"
	"\n"
	"Fit the fork cost parameters to the kernel-observed latencies of the\n"
	"forks in the real TRACEs (the parent's clone/fork, sys_enter to\n"
	"sys_exit), and print each parameter with its 95% interval and the\n"
	"error per trace and per fork, with the starting cost and fitted.\n"
	"The fit minimizes the sum of the forks' |log(observed / model)|\n"
	"(robust: a preempted fork moves it no more than any other fork that\n"
	"is off), parameters >= 0; intervals are a bootstrap over forks.\n"
	"vforks and faults are not fitted (docs/costs.md says why).\n"
	"\n"
	"  -o, --output FILE.ini   write the fitted [cost] preset, loadable by\n"
	"                          `replay --cost FILE.ini` ('-': stdout, in place\n"
	"                          of the table)\n"
	"  -C, --cost NAME|FILE    the starting cost: preset x86-64 (default), vm\n"
	"                          or vm-fitted, or a file with a [cost] section;\n"
	"                          the keys not fitted keep its values\n"
	"  -p, --policy NAME       the preset to replay under (default linux-6.12)\n"
	"      --hold-out TRACE    replay and report TRACE, but leave it out of the\n"
	"                          fit (repeatable)\n"
	"      --fit PARAM,...     the parameters to fit (default: every fork\n"
	"                          term); the others keep the starting cost's\n"
	"      --bootstrap N       resamples for the intervals (default 200; 0:\n"
	"                          none)\n"
	"  -f, --format FMT        table (default) or json\n"
	"  -I, --input-format FMT  what is read (default: detected)\n"
	"  -q, --quiet             no progress line, no notes on stderr\n"
	"  -v, --verbose           (table) also one line per fork: its counts,\n"
	"                          observed latency, and the model's before and\n"
	"                          after\n"
	"  -P, --pid N             a real trace: the process tree of N\n"
	"      --comm NAME         a real trace: the tree of the first exec of NAME\n"
	"\n"
	"How to fit your own: docs/costs.md.  Options: docs/cli.md.\n"
	"\n"
	"examples:\n"
	"  cowsim calibrate traces/real/*.dat -o my-cost.ini\n"
	"  cowsim calibrate a.dat b.dat --hold-out c.dat -C vm\n"
	"  cowsim calibrate t.dat --fit fork_base_ns,fork_per_pte_ns -f json\n";

enum {
	OPT_HOLD_OUT = CLI_OPT_VERB_FIRST,
	OPT_FIT,
	OPT_BOOT,
};

static const struct option calibrate_opts[] = {
	CLI_OPT_OUTPUT,
	CLI_OPT_COST,
	CLI_OPT_POLICY,
	{ "hold-out", required_argument, NULL, OPT_HOLD_OUT },
	{ "fit", required_argument, NULL, OPT_FIT },
	{ "bootstrap", required_argument, NULL, OPT_BOOT },
	CLI_OPT_FORMAT,
	CLI_OPT_INPUT_FORMAT,
	CLI_OPT_QUIET,
	CLI_OPT_VERBOSE,
	CLI_OPT_PID,
	CLI_OPT_COMM,
	CLI_OPTS_END,
};

static const struct cli_verb calibrate_verb = {
	.name = "calibrate", .usage = calibrate_usage, .opts = calibrate_opts,
};

/* Mark the parameters named in list ("a,b") free.  Returns 0 or 2. */
static int parse_fit(const char *list, bool free_k[P])
{
	char *copy = strdup(list);
	if (!copy)
		return cli_die("out of memory");
	memset(free_k, 0, P * sizeof(*free_k));
	int rc = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < P && strcmp(tok, cost_fork_terms[k].param))
			k++;
		if (k == P) {
			char names[512];
			size_t n = 0;
			for (size_t j = 0; j < P; j++)
				n += (size_t)snprintf(names + n, sizeof(names) - n,
				                      "%s%s", j ? ", " : "",
				                      cost_fork_terms[j].param);
			rc = cli_usage_error(&calibrate_verb, "--fit: '%s' is not a "
			                     "fork cost term (%s)", tok, names);
		} else {
			free_k[k] = true;
		}
	}
	free(copy);
	return rc;
}

int cmd_calibrate(int argc, char **argv)
{
	static const char *const formats[] = { "table", "json", NULL };
	struct cli_common co;
	struct cal_state s = { 0 };
	const char *cost = NULL, *fit = NULL, **held = NULL;
	size_t nheld = 0;
	char *cost_text = NULL;
	const char *cost_origin = NULL;
	uint64_t boot = 200;
	bool free_k[P];
	double start[P];
	char err[512];
	int c, rc = 0, verbose = 0;

	cli_common_init(&co);
	cfg_defaults(&s.cfg);
	while ((c = cli_getopt(&calibrate_verb, &co, argc, argv)) >= 0) {
		switch (c) {
		case 'C': cost = optarg; break;
		case 'v': verbose = 1; break;
		case OPT_FIT: fit = optarg; break;
		case OPT_HOLD_OUT:
			if ((rc = cli_push_arg(&held, &nheld, optarg)))
				goto done;
			break;
		case OPT_BOOT:
			if (cli_parse_u64(optarg, &boot) || boot > 100000) {
				rc = cli_usage_error(&calibrate_verb, "--bootstrap must "
				                     "be 0 to 100000, not '%s'", optarg);
				goto done;
			}
			break;
		}
	}
	if (c != CLI_END) {
		rc = cli_exit_status(c);
		goto done;
	}
	int fmt = cli_choice(&calibrate_verb, "--format", co.format, formats);
	if (fmt < 0) {
		rc = 2;
		goto done;
	}
	if (optind >= argc) {
		rc = cli_usage_error(&calibrate_verb, "no TRACE to fit");
		goto done;
	}
	for (size_t k = 0; k < P; k++)
		free_k[k] = true;
	if (fit && (rc = parse_fit(fit, free_k)))
		goto done;
	const char *policy = co.policy ? co.policy : "linux-6.12";
	if (strchr(policy, ',') || !strcmp(policy, "all")) {
		rc = cli_usage_error(&calibrate_verb, "--policy: one preset, not "
		                     "'%s'", policy);
		goto done;
	}
	if (cfg_load_preset(&s.cfg, policy, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto done;
	}
	if (cost && ((rc = cli_cost_text(cost, &cost_text, &cost_origin)) ||
	             cfg_apply_text(&s.cfg, cost_origin, cost_text, err,
	                            sizeof(err)))) {
		rc = rc ? rc : cli_die("%s", err);
		goto done;
	}
	for (size_t k = 0; k < P; k++)
		start[k] = *cost_term_param(&s.cfg.cost, k);

	size_t ntr = (size_t)(argc - optind) + nheld;
	s.t = calloc(ntr, sizeof(*s.t));
	if (!s.t) {
		rc = cli_die("out of memory");
		goto done;
	}
	for (int i = optind; i < argc; i++)
		s.t[s.nt++].path = argv[i];
	for (size_t i = 0; i < nheld; i++) {
		s.t[s.nt].path = held[i];
		s.t[s.nt++].held_out = 1;
	}
	for (size_t i = 0; i < s.nt && !rc; i++)
		rc = collect(&s, &s.t[i], &co);
	if (rc)
		goto done;

	/* The forks to fit: those of the traces not held out. */
	struct calib_data fitd = { 0 };
	for (size_t i = 0; i < s.nt && !rc; i++)
		for (size_t j = s.t[i].first; !s.t[i].held_out &&
		     j < s.t[i].first + s.t[i].n; j++)
			if (calib_add(&fitd, s.all.f[j].x, s.all.f[j].y))
				rc = cli_die("out of memory");
	if (!rc && !fitd.n)
		rc = cli_die("no copying fork with a kernel-observed latency in "
		             "the traces to fit (a trace needs sched_process_fork "
		             "and the parent's clone syscall enter and exit)");
	struct calib_result res;
	if (!rc && calib_fit(&fitd, free_k, start, (unsigned)boot, 1, &res))
		rc = cli_die("out of memory");
	size_t nfit = fitd.n;
	calib_free(&fitd);
	if (rc)
		goto done;
	if (!co.quiet)
		for (size_t i = 0; i < s.nt; i++)
			if (s.t[i].vforks || s.t[i].skipped)
				fprintf(stderr, "cowsim: %s: %zu fork%s %s; left out: "
				        "%zu timed vfork%s or CLONE_VM clone%s, %zu "
				        "fork%s without an observed latency\n",
				        s.t[i].path, s.t[i].n,
				        s.t[i].n == 1 ? "" : "s",
				        s.t[i].held_out ? "held out" : "fitted",
				        s.t[i].vforks, s.t[i].vforks == 1 ? "" : "s",
				        s.t[i].vforks == 1 ? "" : "s", s.t[i].skipped,
				        s.t[i].skipped == 1 ? "" : "s");

	struct cal_out o = { .s = &s, .res = &res, .free_k = free_k,
	                     .start = start, .boot = (unsigned)boot,
	                     .cost_name = cost ? cost : s.cfg.cost_preset,
	                     .nfit = nfit, .verbose = verbose };
	if (co.output && !strcmp(co.output, "-")) {
		if (write_ini(stdout, &o))
			rc = cli_die("out of memory");
		goto done;
	}
	if (co.output && (rc = save_ini(co.output, &o)))
		goto done;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out) {
		rc = cli_die("out of memory");
		goto done;
	}
	if (fmt == 1)
		write_json(out, &o);
	else
		write_table(out, &o);
	if (fclose(out))
		rc = cli_die("out of memory");
	else
		fwrite(buf, 1, len, stdout);
	free(buf);
done:
	calib_free(&s.all);
	free(s.before);
	free(s.t);
	free(held);
	free(cost_text);
	cfg_release(&s.cfg);
	cli_common_free(&co);
	return rc;
}
