/*
 * plots.c - the report's pictures: for each one a data file (NAME.dat) and
 * a gnuplot script (NAME.gp) that writes NAME.png and NAME.svg, both kept
 * in the folder so that a user can edit a script and run `gnuplot NAME.gp`
 * there again.  Per trace, small panels meant to sit side by side: COW
 * copies by cause, zero-fills apart (stacked on the copies they would
 * dwarf them), copies against the baseline preset, agreement with the
 * kernel on an axis zoomed to the values and what the disagreements were,
 * the fork latency CDF with the kernel's observed latency, the fork view
 * (each fork's latency by its parent's size, modeled against observed,
 * and each run's fork latency beside its page-table memory: what fork
 * would cost under each design the trace was replayed with), cumulative
 * copies and allocated frames over trace time with the workload's phases.
 * Every fork figure takes forks only (forks.kind = 'fork', the definition
 * of docs/model.md): a vfork's time is its child's run until exec.
 * Where there is nothing to draw (no forks, no labels, runs stored without
 * a time series) the plot gets the sentence the page shows instead of an
 * empty picture.
 *
 * Presets that give the same series are one bar or one line, labelled
 * with all their names ("5.7 = 5.8 = piggin-2009"): drawn apart, identical
 * lines hide each other and identical bars say nothing.  Each preset keeps
 * one colour in every panel, from a colour-blind-safe palette with no
 * yellow (unreadable on white); the scripts set gnuplot's line types to it,
 * so that no default colour is left.
 *
 * gnuplot runs as a subprocess once per script (plot_draw()), so that a
 * failure names its script and the caller can count plots as they go.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/sim.h"
#include "rep.h"
#include "rpt.h"

/* Okabe & Ito's colour-blind-safe set without its yellow (#f0e442) and
 * the orange next to it (#e69f00), with Tol's wine and indigo for more;
 * black is kept for the kernel's own values. */
static const unsigned palette[] = {
	0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0x56b4e9, 0x882255, 0x332288,
};
#define NPAL (sizeof(palette) / sizeof(palette[0]))
/* What a copy was: the same colours in every trace. */
#define C_FAULT 0x0072b2
#define C_FORK 0xd55e00
#define C_UNNEC 0xcc79a7
#define C_ZERO 0x009e73

static struct plot *plot_add(struct rpt *r, const char *name)
{
	if (r->nplots == r->capplots) {
		size_t cap = r->capplots ? r->capplots * 2 : 16;
		struct plot *n = realloc(r->plots, cap * sizeof(*n));
		if (!n) {
			rpt_err(r, "out of memory");
			return NULL;
		}
		r->plots = n;
		r->capplots = cap;
	}
	struct plot *p = &r->plots[r->nplots++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

const struct plot *plot_find(const struct rpt *r, const char *name)
{
	for (size_t i = 0; i < r->nplots; i++)
		if (!strcmp(r->plots[i].name, name))
			return &r->plots[i];
	return NULL;
}

/* A gnuplot single-quoted string: '' stands for a quote. */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* A data-file string: double quotes, no quotes or control bytes inside. */
static void dat_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || (unsigned char)*s < 0x20 ? '_' : *s, f);
	fputc('"', f);
}

/* A malloc'd formatted string, or NULL (out of memory). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s) {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}

static void keys_free(char **k, size_t n)
{
	for (size_t i = 0; k && i < n; i++)
		free(k[i]);
	free(k);
}

/* The start of every script: the same look and palette, PNG first, drawn
 * at the size the page shows it so that its text stays sharp. */
static void gp_head(FILE *f, const char *name, const char *title)
{
	fprintf(f, "# Written by `cowsim report`; edit and run `gnuplot %s.gp`\n"
	        "# in this folder to redraw %s.png and %s.svg.\n"
	        "reset\n"
	        "set terminal pngcairo size %d,%d font 'sans,9' noenhanced\n"
	        "set output '%s.png'\n"
	        "# the palette (colour-blind safe, no yellow)\n",
	        name, name, name, PLOT_W, PLOT_H, name);
	for (size_t i = 0; i < NPAL; i++)
		fprintf(f, "set linetype %zu lc rgb '#%06x' lw 2\n", i + 1,
		        palette[i]);
	fprintf(f, "set linetype cycle %zu\nset title ", NPAL);
	gp_str(f, title);
	fputs("\nset grid ytics lc rgb '#dddddd'\nset border 3\n"
	      "set format y '%.10g'\n"
	      "set tics nomirror\nset key noenhanced font ',8'\n", f);
}

/* ... and its end: the same plot again as SVG. */
static void gp_tail(FILE *f, const char *name)
{
	fprintf(f, "set terminal svg size %d,%d dynamic font 'sans,9' "
	        "noenhanced background rgb 'white'\n"
	        "set output '%s.svg'\nreplot\nunset output\n", PLOT_W, PLOT_H,
	        name);
}

static int64_t metric(const struct rep_run *run, const char *name)
{
	int i = sim_metric_find(name);
	return i < 0 || run->m_null[i] ? 0 : run->m[i];
}

/* A preset's colour: by its place among every preset loaded, so that it
 * is the same in every trace's panels. */
static unsigned pol_colour(const struct rep_data *d, const char *policy)
{
	const char *seen[64];
	size_t n = 0;
	for (size_t i = 0; i < d->ntraces; i++)
		for (size_t k = 0; k < d->traces[i].nruns; k++) {
			const char *p = d->traces[i].runs[k].policy;
			size_t j;
			for (j = 0; j < n; j++)
				if (!strcmp(seen[j], p))
					break;
			if (j < n)
				continue;
			if (!strcmp(p, policy))
				return palette[n % NPAL];
			if (n < sizeof(seen) / sizeof(seen[0]))
				seen[n++] = p;
		}
	return palette[0];
}

/* ------------------------------------------------------------------ */
/* presets that draw the same                                          */

/* Runs drawn as one: those whose keys (their series as text) are equal. */
struct grp {
	size_t first;            /* its first run, whose colour it takes */
	size_t n;
	char label[256];         /* "linux-5.9", or "5.7 = 5.8 = piggin-2009" */
};

/* "5.7" for "linux-5.7": the short form for joined labels. */
static const char *short_name(const char *p)
{
	return strncmp(p, "linux-", 6) ? p : p + 6;
}

/* Group t's runs by keys[i] (one per run), in run order, into g (room for
 * t->nruns).  Returns the number of groups. */
static size_t group_runs(const struct rep_trace *t, char *const *keys,
                         struct grp *g)
{
	size_t ng = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		size_t j;
		for (j = 0; j < ng; j++)
			if (!strcmp(keys[g[j].first], keys[i]))
				break;
		if (j == ng)
			g[ng++] = (struct grp){ .first = i };
		g[j].n++;
	}
	for (size_t j = 0; j < ng; j++) {
		size_t l = 0, cap = sizeof(g[j].label);
		for (size_t i = g[j].first; i < t->nruns && l < cap; i++) {
			if (strcmp(keys[i], keys[g[j].first]))
				continue;
			const char *nm = t->runs[i].policy;
			l += (size_t)snprintf(g[j].label + l, cap - l, "%s%s",
			                      l ? " = " : "",
			                      g[j].n > 1 ? short_name(nm) : nm);
		}
	}
	return ng;
}

static unsigned grp_colour(const struct rpt *r, const struct rep_trace *t,
                           const struct grp *g)
{
	return pol_colour(r->d, t->runs[g->first].policy);
}

/* ------------------------------------------------------------------ */
/* bars                                                                */

/* Every function that writes a plot's files below returns 0, or -EIO (a
 * file or the store failed) or -ENOMEM, with r->err set.  Each plot_X()
 * first adds its plot to r, so that the page knows of it even when it has
 * only a sentence. */

/* One bar per group, in the group's colour: vals[j] high, text[j] written
 * beyond its end (above, or below a negative one), on the y axis
 * [ylo:yhi]. */
static int bars_plot(struct rpt *r, const struct rep_trace *t,
                     const char *name, const char *title, const char *ylabel,
                     const struct grp *g, size_t ng, const double *vals,
                     char (*text)[48], double ylo, double yhi)
{
	FILE *f = rpt_create(r, "%s.dat", name);
	if (!f)
		return -EIO;
	fputs("# presets (those with the same value joined by '=')  value  "
	      "colour  text\n", f);
	for (size_t j = 0; j < ng; j++) {
		dat_str(f, g[j].label);
		fprintf(f, " %.6g %u ", vals[j], grp_colour(r, t, &g[j]));
		dat_str(f, text[j]);
		fputc('\n', f);
	}
	if (rpt_finish(r, f, "a data file"))
		return -EIO;
	if (!(f = rpt_create(r, "%s.gp", name)))
		return -EIO;
	gp_head(f, name, title);
	fprintf(f, "set style fill solid 0.85 border rgb '#555555'\n"
	        "set boxwidth 0.6\n"
	        "set ylabel '%s'\n"
	        "set yrange [%.6g:%.6g]\n"
	        "set xrange [-0.6:%zu.4]\n"
	        "set xzeroaxis lt -1\n"
	        "%s"
	        "unset key\n"
	        "plot '%s.dat' using 0:2:3:xtic(1) with boxes lc rgb variable, \\\n"
	        "     '' using 0:($2 >= 0 ? $2 + %.6g : $2 - %.6g):4 with labels\n",
	        ylabel, ylo, yhi, ng - 1,
	        ng > 2 ? "set xtics rotate by -20 font ',8'\n" : "", name,
	        (yhi - ylo) * 0.05, (yhi - ylo) * 0.05);
	gp_tail(f, name);
	return rpt_finish(r, f, "a gnuplot script");
}

/* A y range from lo..hi that holds 0 and leaves room for the labels, in
 * *ylo, *yhi. */
static void pad_range(double lo, double hi, double *ylo, double *yhi)
{
	lo = lo < 0 ? lo : 0;
	hi = hi > 0 ? hi : 0;
	double pad = (hi - lo) * 0.15;
	if (pad == 0)
		pad = 1;
	*ylo = lo < 0 ? lo - pad : 0;
	*yhi = hi + pad;
}

/* Fault copies, fork copies and unnecessary copies, stacked; zero-fills
 * are not copies and get a panel of their own (plot_zero_fills()). */
static int plot_copies(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "copies-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	char **keys = calloc(t->nruns, sizeof(*keys));
	struct grp *g = calloc(t->nruns, sizeof(*g));
	int64_t (*v)[3] = calloc(t->nruns, sizeof(*v));
	int64_t total = 0;
	int rc = -ENOMEM;
	if (!keys || !g || !v)
		goto out;
	for (size_t i = 0; i < t->nruns; i++) {
		const struct rep_run *run = &t->runs[i];
		int64_t un = metric(run, "unnecessary_copies"),
		        unf = metric(run, "unnecessary_fork_copies");
		int64_t fc = metric(run, "copies_fault") +
		             metric(run, "copies_file") - un;
		int64_t kc = metric(run, "copies_fork") - unf;
		v[i][0] = fc > 0 ? fc : 0;
		v[i][1] = kc > 0 ? kc : 0;
		v[i][2] = un + unf;
		total += v[i][0] + v[i][1] + v[i][2];
		if (!(keys[i] = strf("%" PRId64 " %" PRId64 " %" PRId64, v[i][0],
		                     v[i][1], v[i][2])))
			goto out;
	}
	rc = 0;
	if (!total) {
		snprintf(p->nodata, sizeof(p->nodata), "No copies: no page was "
		         "copied under any preset in this trace.");
		goto out;
	}
	size_t ng = group_runs(t, keys, g);
	rc = -EIO;
	FILE *f = rpt_create(r, "%s.dat", name);
	if (!f)
		goto out;
	fputs("# presets  fault_copy  fork_copy  unnecessary\n"
	      "# fault_copy = copies_fault + copies_file - unnecessary_copies;\n"
	      "# fork_copy = copies_fork - unnecessary_fork_copies;\n"
	      "# unnecessary = unnecessary_copies + unnecessary_fork_copies\n", f);
	for (size_t j = 0; j < ng; j++) {
		const int64_t *x = v[g[j].first];
		dat_str(f, g[j].label);
		fprintf(f, " %" PRId64 " %" PRId64 " %" PRId64 "\n", x[0], x[1],
		        x[2]);
	}
	if (rpt_finish(r, f, "a data file"))
		goto out;
	snprintf(title, sizeof(title), "COW copies by cause - %s", t->name);
	if (!(f = rpt_create(r, "%s.gp", name)))
		goto out;
	gp_head(f, name, title);
	fprintf(f, "set style data histograms\n"
	        "set style histogram rowstacked\n"
	        "set style fill solid 0.85 border rgb '#555555'\n"
	        "set boxwidth 0.6\n"
	        "set ylabel 'pages copied (4 KiB)'\n"
	        "set yrange [0:*]\n"
	        "set key top left horizontal\n"
	        "set offsets 0, 0, graph 0.15, 0\n"
	        "%s"
	        "plot '%s.dat' using 2:xtic(1) title 'fault copy' lc rgb '#%06x', \\\n"
	        "     '' using 3 title 'fork copy' lc rgb '#%06x', \\\n"
	        "     '' using 4 title 'unnecessary copy' lc rgb '#%06x'\n",
	        ng > 2 ? "set xtics rotate by -20 font ',8'\n" : "", name,
	        C_FAULT, C_FORK, C_UNNEC);
	gp_tail(f, name);
	rc = rpt_finish(r, f, "a gnuplot script");
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	keys_free(keys, t->nruns);
	free(g);
	free(v);
	return rc;
}

/* The bars of one integer per run, v[i] (zero-fills, or copies against
 * the baseline, base: the baseline's run, its bar labelled so; -1: none),
 * the runs with the same keys[i] joined.  The number of bars goes to *ngp;
 * a single one is drawn only with draw_one (all presets at the baseline
 * is said in a sentence instead). */
static int int_bars(struct rpt *r, const struct rep_trace *t,
                    const char *name, const char *title, const char *ylabel,
                    const int64_t *v, char *const *keys, int draw_one,
                    int base, size_t *ngp)
{
	struct grp *g = calloc(t->nruns, sizeof(*g));
	double *vals = calloc(t->nruns, sizeof(*vals));
	char (*text)[48] = calloc(t->nruns, sizeof(*text));
	int rc = -ENOMEM;
	if (!g || !vals || !text) {
		rpt_err(r, "out of memory");
		goto out;
	}
	size_t ng = group_runs(t, keys, g);
	double lo = 0, hi = 0;
	for (size_t j = 0; j < ng; j++) {
		int64_t x = v[g[j].first];
		vals[j] = (double)x;
		lo = vals[j] < lo ? vals[j] : lo;
		hi = vals[j] > hi ? vals[j] : hi;
		if (base >= 0 && !strcmp(keys[g[j].first], keys[base]))
			snprintf(text[j], sizeof(text[j]), "0 (baseline)");
		else
			snprintf(text[j], sizeof(text[j]), base >= 0 ? "%+" PRId64 :
			         "%" PRId64, x);
	}
	*ngp = ng;
	rc = 0;
	if (ng > 1 || draw_one) {
		double ylo, yhi;
		pad_range(lo, hi, &ylo, &yhi);
		rc = bars_plot(r, t, name, title, ylabel, g, ng, vals, text, ylo,
		               yhi);
	}
out:
	free(g);
	free(vals);
	free(text);
	return rc;
}

static int plot_zero_fills(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "zerofill-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	char **keys = calloc(t->nruns, sizeof(*keys));
	int64_t *v = calloc(t->nruns, sizeof(*v)), total = 0;
	int rc = -ENOMEM;
	size_t ng;
	if (!keys || !v)
		goto out;
	for (size_t i = 0; i < t->nruns; i++) {
		v[i] = metric(&t->runs[i], "zero_fills");
		total += v[i];
		if (!(keys[i] = strf("%" PRId64, v[i])))
			goto out;
	}
	rc = 0;
	if (!total) {
		snprintf(p->nodata, sizeof(p->nodata), "No zero-fills: no write "
		         "fault got a fresh zeroed page under any preset.");
		goto out;
	}
	snprintf(title, sizeof(title), "zero-filled pages - %s", t->name);
	rc = int_bars(r, t, name, title, "pages zero-filled (4 KiB)", v, keys,
	              1, -1, &ng);
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	keys_free(keys, t->nruns);
	free(v);
	return rc;
}

/* Each preset's copies minus the baseline's, as counts. */
static int plot_delta(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "delta-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	int b = r->baseline ? rep_find_policy(t, r->baseline) : -1;
	if (b < 0) {
		snprintf(p->nodata, sizeof(p->nodata), "No baseline: %s was not "
		         "replayed on this trace, so there is nothing to subtract.",
		         r->baseline ? r->baseline : "(none)");
		return 0;
	}
	char **keys = calloc(t->nruns, sizeof(*keys));
	int64_t *v = calloc(t->nruns, sizeof(*v));
	int rc = -ENOMEM;
	size_t ng;
	if (!keys || !v)
		goto out;
	int64_t base[4];
	static const char *const what[] = { "copies_fault", "copies_file",
	                                     "copies_fork", "unnecessary_copies" };
	for (int k = 0; k < 4; k++)
		base[k] = metric(&t->runs[b], what[k]);
	for (size_t i = 0; i < t->nruns; i++) {
		int64_t d[4];
		for (int k = 0; k < 4; k++)
			d[k] = metric(&t->runs[i], what[k]) - base[k];
		v[i] = d[0] + d[1] + d[2];
		/* Joined only when every cause moved alike. */
		if (!(keys[i] = strf("%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64,
		                     d[0], d[1], d[2], d[3])))
			goto out;
	}
	snprintf(title, sizeof(title), "copies minus %s's - %s", r->baseline,
	         t->name);
	rc = int_bars(r, t, name, title, "pages (4 KiB)", v, keys, 0, b, &ng);
	if (!rc && ng == 1)
		snprintf(p->nodata, sizeof(p->nodata), "No differences: every preset "
		         "copies exactly the pages the baseline, %s, copies (%" PRId64
		         ").", r->baseline, base[0] + base[1] + base[2]);
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	keys_free(keys, t->nruns);
	free(v);
	return rc;
}

/* Agreement per preset, on an axis that starts near the lowest value: the
 * differences between presets are a few points out of a hundred. */
static int plot_agree(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "agree-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	char **keys = calloc(t->nruns, sizeof(*keys));
	struct grp *g = calloc(t->nruns, sizeof(*g));
	double *vals = calloc(t->nruns, sizeof(*vals));
	char (*text)[48] = calloc(t->nruns, sizeof(*text));
	int rc = -ENOMEM;
	if (!keys || !g || !vals || !text)
		goto out;
	size_t with = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		int64_t l = metric(&t->runs[i], "labelled");
		with += l > 0;
		if (!(keys[i] = strf("%" PRId64 "/%" PRId64,
		                     metric(&t->runs[i], "agree"), l)))
			goto out;
	}
	rc = 0;
	if (!with) {
		snprintf(p->nodata, sizeof(p->nodata), "No agreement to show: this "
		         "trace has no kernel-observed fault outcomes (labels); "
		         "captures with kmem:mm_page_alloc have them "
		         "(docs/trace-markers.md).");
		goto out;
	}
	size_t ng = group_runs(t, keys, g);
	double lo = 100;
	for (size_t j = 0; j < ng; j++) {
		const struct rep_run *run = &t->runs[g[j].first];
		int64_t l = metric(run, "labelled");
		vals[j] = l > 0 ? 100.0 * (double)metric(run, "agree") / (double)l
		                : 0;
		lo = vals[j] < lo ? vals[j] : lo;
		snprintf(text[j], sizeof(text[j]), "%.2f%%", vals[j]);
	}
	/* From a round number below the lowest bar: 92..100 is drawn on
	 * 90..100, not 0..100, where it would look like no difference. */
	double ymin = lo >= 100 ? 95 : (double)((int)((lo - 1) / 5) * 5);
	ymin = ymin < 0 ? 0 : ymin;
	snprintf(p->attr, sizeof(p->attr), " data-ymin=\"%g\" data-vmin=\"%.2f\"",
	         ymin, lo);
	snprintf(title, sizeof(title), "agreement with the kernel - %s",
	         t->name);
	rc = bars_plot(r, t, name, title, "% of labelled write faults", g, ng,
	               vals, text, ymin, 100 + (100 - ymin) * 0.12);
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	keys_free(keys, t->nruns);
	free(g);
	free(vals);
	free(text);
	return rc;
}

/* The kernel's observed outcome and the model's, where they disagree.  The
 * store keeps per fault what the kernel did and what the model decided
 * (fault_confusion), not why: this pair is the finest cause it has.  What
 * agrees is sim/memory.c's outcome_agrees(). */
static const char disagree_sql[] =
	"SELECT observed, outcome, faults FROM fault_confusion WHERE run_id = ?1"
	" AND NOT ((observed = 'copy' AND outcome IN ('copy', 'copy-file'))"
	"       OR (observed IN ('zero', 'new') AND outcome IN ('zero-fill', 'new'))"
	"       OR (observed = 'reuse' AND outcome IN ('reuse', 'none', 'mkwrite',"
	"                                              'swapin')))"
	" ORDER BY observed, outcome";

#define MAXCAT 16

static int plot_disagree(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "disagree-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	if (t->labels <= 0) {
		snprintf(p->nodata, sizeof(p->nodata), "No disagreements to break "
		         "down: this trace has no kernel-observed outcomes.");
		return 0;
	}
	char cat[MAXCAT][64];
	size_t ncat = 0, decided = 0;
	int64_t (*cnt)[MAXCAT] = calloc(t->nruns, sizeof(*cnt));
	char **keys = calloc(t->nruns, sizeof(*keys));
	struct grp *g = calloc(t->nruns, sizeof(*g));
	sqlite3_stmt *st = NULL;
	int rc = -ENOMEM;
	if (!cnt || !keys || !g)
		goto out;
	if (sqlite3_prepare_v2(r->db, disagree_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < t->nruns; i++) {
		sqlite3_bind_int64(st, 1, t->runs[i].id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char c[64];
			snprintf(c, sizeof(c), "kernel %s, model %s",
			         sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
			size_t k;
			for (k = 0; k < ncat; k++)
				if (!strcmp(cat[k], c))
					break;
			/* Past MAXCAT - 1 kinds, the rest are "other": counted,
			 * not lost. */
			if (k == ncat && ncat >= MAXCAT - 1)
				snprintf(c, sizeof(c), "other");
			for (k = 0; k < ncat; k++)
				if (!strcmp(cat[k], c))
					break;
			if (k == ncat)
				snprintf(cat[ncat++], sizeof(cat[0]), "%s", c);
			cnt[i][k] += sqlite3_column_int64(st, 2);
		}
		if (rc != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
		decided += t->runs[i].faults_logged > 0;
	}
	rc = -ENOMEM;
	for (size_t i = 0; i < t->nruns; i++) {
		size_t len;
		FILE *k = open_memstream(&keys[i], &len);
		if (!k)
			goto out;
		for (size_t c = 0; c < ncat; c++)
			fprintf(k, " %" PRId64, cnt[i][c]);
		if (fclose(k))
			goto out;
	}
	rc = 0;
	if (!decided) {
		snprintf(p->nodata, sizeof(p->nodata), "No breakdown: these runs were "
		         "stored without per-fault decisions; replay with --faults "
		         "to see which outcomes the model got wrong.");
		goto out;
	}
	if (!ncat) {
		snprintf(p->nodata, sizeof(p->nodata), "No disagreements: every "
		         "labelled write fault's outcome was predicted right by "
		         "every preset.");
		goto out;
	}
	size_t ng = group_runs(t, keys, g);
	rc = -EIO;
	FILE *f = rpt_create(r, "%s.dat", name);
	if (!f)
		goto out;
	fputs("# presets, then the faults of each kind of disagreement:", f);
	for (size_t c = 0; c < ncat; c++)
		fprintf(f, "  [%zu] %s", c + 2, cat[c]);
	fputc('\n', f);
	for (size_t j = 0; j < ng; j++) {
		dat_str(f, g[j].label);
		for (size_t c = 0; c < ncat; c++)
			fprintf(f, " %" PRId64, cnt[g[j].first][c]);
		fputc('\n', f);
	}
	if (rpt_finish(r, f, "a data file"))
		goto out;
	snprintf(title, sizeof(title), "disagreements: kernel vs model - %s",
	         t->name);
	if (!(f = rpt_create(r, "%s.gp", name)))
		goto out;
	gp_head(f, name, title);
	fprintf(f, "set style data histograms\n"
	        "set style histogram rowstacked\n"
	        "set style fill solid 0.85 border rgb '#555555'\n"
	        "set boxwidth 0.6\n"
	        "set ylabel 'labelled write faults'\n"
	        "set yrange [0:*]\n"
	        "set offsets 0, 0, graph 0.%zu, 0\n"
	        "set key top left Left reverse\n"
	        "%s"
	        "plot ", ncat > 3 ? (size_t)45 : (size_t)25,
	        ng > 2 ? "set xtics rotate by -20 font ',8'\n" : "");
	for (size_t c = 0; c < ncat; c++) {
		fprintf(f, "%s'%s.dat' using %zu%s title ", c ? ", \\\n     " : "",
		        name, c + 2, c ? "" : ":xtic(1)");
		gp_str(f, cat[c]);
		fprintf(f, " lc rgb '#%06x'", palette[c % NPAL]);
	}
	fputc('\n', f);
	gp_tail(f, name);
	rc = rpt_finish(r, f, "a gnuplot script");
	goto out;
fail:
	rpt_err(r, "%s: reading fault outcomes: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	rc = -EIO;
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	sqlite3_finalize(st);
	keys_free(keys, t->nruns);
	free(cnt);
	free(g);
	return rc;
}

/* ------------------------------------------------------------------ */
/* lines                                                               */

/*
 * One line per group of runs with the same series (blocks[i]: run i's data
 * lines, "" for none), styled `with`; then, when extra is not NULL, that
 * block in black, titled extra_title.  setup: gnuplot lines before `plot`.
 */
static int lines_plot(struct rpt *r, const struct rep_trace *t,
                      const char *name, const char *title, char **blocks,
                      const char *with, const char *setup, const char *extra,
                      const char *extra_title)
{
	struct grp *g = calloc(t->nruns, sizeof(*g));
	if (!g) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	size_t ng = group_runs(t, blocks, g);
	int rc = -EIO;
	FILE *f = rpt_create(r, "%s.dat", name);
	if (!f)
		goto out;
	fputs("# One block per group of presets with the same series (gnuplot\n"
	      "# index 0, 1, ...), named in the comment above it\n", f);
	for (size_t j = 0; j < ng; j++) {
		fprintf(f, "# %s\n%s", g[j].label, blocks[g[j].first]);
		/* An empty block would shift gnuplot's index numbering. */
		fputs(blocks[g[j].first][0] ? "\n\n" : "nan nan\n\n\n", f);
	}
	if (extra)
		fprintf(f, "# %s\n%s", extra_title, extra);
	if (rpt_finish(r, f, "a data file"))
		goto out;
	if (!(f = rpt_create(r, "%s.gp", name)))
		goto out;
	gp_head(f, name, title);
	fprintf(f, "%splot ", setup);
	for (size_t j = 0; j < ng; j++) {
		fprintf(f, "%s'%s.dat' index %zu using 1:2 with %s lw 2 dt %zu "
		        "lc rgb '#%06x' title ", j ? ", \\\n     " : "", name, j,
		        with, j % 4 + 1, grp_colour(r, t, &g[j]));
		gp_str(f, g[j].label);
	}
	if (extra) {
		fprintf(f, ", \\\n     '%s.dat' index %zu using 1:2 with %s lw 3 "
		        "lc rgb '#000000' title ", name, ng, with);
		gp_str(f, extra_title);
	}
	fputc('\n', f);
	gp_tail(f, name);
	rc = rpt_finish(r, f, "a gnuplot script");
out:
	free(g);
	return rc;
}

/* One CDF block, as text in *out: sorted values (ns) -> fraction <= value.
 * Returns 0, or -EIO (SQLite) / -ENOMEM with r->err set. */
static int cdf_block(struct rpt *r, const char *sql, int64_t id, char **out,
                     int64_t *n_out)
{
	sqlite3_stmt *st;
	int64_t n = 0, k = 0;
	size_t len;
	FILE *f = open_memstream(out, &len);
	if (!f) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 1);
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_reset(st);
	/* The staircase itself (a rise at each value), drawn with lines:
	 * gnuplot's "steps" draws nothing for a trace with a single fork. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double us = sqlite3_column_double(st, 0) / 1e3;
		fprintf(f, "%.3f %.6f\n", us, (double)k / (double)n);
		k++;
		fprintf(f, "%.3f %.6f\n", us, (double)k / (double)n);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	*n_out = n;
	if (fclose(f)) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	return 0;
fail:
	rpt_err(r, "%s: reading forks: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	fclose(f);
	return -EIO;
}

static int plot_fork_latency(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "forklat-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	if (t->forks <= 0) {
		snprintf(p->nodata, sizeof(p->nodata), "No fork latency: this trace "
		         "has no forks.");
		return 0;
	}
	char **blocks = calloc(t->nruns, sizeof(*blocks)), *obs = NULL;
	int64_t n = 0, nobs = 0;
	int rc = -ENOMEM;
	if (!blocks) {
		rpt_err(r, "out of memory");
		return rc;
	}
	/* Forks only (forks.kind, sim_fork_kind()): a vfork's time is its
	 * child's run until exec, and a CLONE_VM clone copies nothing. */
	for (size_t i = 0; i < t->nruns; i++)
		if ((rc = cdf_block(r, "SELECT dur, count(*) OVER () FROM forks "
		                    "WHERE run_id = ? AND kind = 'fork' ORDER BY dur",
		                    t->runs[i].id, &blocks[i], &n)))
			goto out;
	if (!n) {
		snprintf(p->nodata, sizeof(p->nodata), "No fork latency: this "
		         "trace's %" PRId64 " clones are all vforks or CLONE_VM "
		         "clones, which copy no address space (their figures are "
		         "in the fork table).", t->forks);
		goto out;
	}
	/* Observed latencies are the trace's: the same in every run. */
	if ((rc = cdf_block(r, "SELECT observed_dur, count(*) OVER () FROM forks "
	                    "WHERE run_id = ? AND kind = 'fork' AND observed_dur "
	                    "IS NOT NULL ORDER BY observed_dur", t->runs[0].id,
	                    &obs, &nobs)))
		goto out;
	snprintf(title, sizeof(title), "fork latency - %s (%" PRId64 " forks%s)",
	         t->name, n, nobs ? "" : "; none kernel-observed");
	rc = lines_plot(r, t, name, title, blocks, "lines",
	                "set logscale x 10\n"
	                "set format y '%.1f'\nset format x '%g'\n"
	                "set xlabel 'fork() latency (us, log scale)'\n"
	                "set ylabel 'fraction of forks at or below'\n"
	                "set yrange [0:1.02]\n"
	                "set key bottom right opaque\n",
	                nobs ? obs : NULL, "observed (kernel)");
out:
	keys_free(blocks, t->nruns);
	free(obs);
	return rc;
}

/* Points "x y" of one run's forks, as text in *out (x as is, y in us),
 * from sql (?1 the run; columns x, y): those both positive, for log axes.
 * *n_out: how many.  Returns 0, or -EIO / -ENOMEM with r->err set. */
static int pts_block(struct rpt *r, const char *sql, int64_t id, char **out,
                     int64_t *n_out)
{
	sqlite3_stmt *st;
	size_t len;
	int64_t n = 0;
	FILE *f = open_memstream(out, &len);
	if (!f) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			double x = sqlite3_column_double(st, 0),
			       y = sqlite3_column_double(st, 1) / 1e3;
			if (x > 0 && y > 0) {
				fprintf(f, "%.6g %.3f\n", x, y);
				n++;
			}
		}
	}
	sqlite3_finalize(st);
	if (fclose(f)) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	if (rc != SQLITE_DONE) {
		rpt_err(r, "%s: reading forks: %s", r->dbpath,
		        sqlite3_errmsg(r->db));
		return -EIO;
	}
	*n_out = n;
	return 0;
}

/*
 * The fork view's scatter plots, per fork (forks only, as every fork
 * figure): latency against the parent's size (present PTEs at the fork,
 * the same under every design, so that runs of one trace under different
 * designs line up), modeled per run and the kernel's in black; and modeled
 * against observed, with the line where they are equal.  Both log-log: a
 * trace's forks span tens of pages to gigabytes.
 */
static int plot_fork_scatter(struct rpt *r, const struct rep_trace *t)
{
	char sname[64], fname[64], title[512];
	snprintf(sname, sizeof(sname), "forksize-t%" PRId64, t->id);
	snprintf(fname, sizeof(fname), "forkfit-t%" PRId64, t->id);
	if (!plot_add(r, sname) || !plot_add(r, fname))
		return -ENOMEM;
	struct plot *ps = &r->plots[r->nplots - 2], *pf = &r->plots[r->nplots - 1];
	char **sb = calloc(t->nruns, sizeof(*sb)),
	     **fb = calloc(t->nruns, sizeof(*fb)), *obs = NULL, *setup = NULL;
	int64_t ns = 0, nf = 0, nobs = 0, k;
	double lo = 0, hi = 0;
	int rc = -ENOMEM;
	if (!sb || !fb) {
		rpt_err(r, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->nruns; i++) {
		if ((rc = pts_block(r, "SELECT parent_rss, dur FROM forks WHERE "
		                    "run_id = ?1 AND kind = 'fork' ORDER BY ts",
		                    t->runs[i].id, &sb[i], &k)))
			goto out;
		ns += k;
		if ((rc = pts_block(r, "SELECT observed_dur / 1e3, dur FROM forks "
		                    "WHERE run_id = ?1 AND kind = 'fork' ORDER BY ts",
		                    t->runs[i].id, &fb[i], &k)))
			goto out;
		nf += k;
	}
	if ((rc = pts_block(r, "SELECT parent_rss, observed_dur FROM forks "
	                    "WHERE run_id = ?1 AND kind = 'fork' ORDER BY ts",
	                    t->runs[0].id, &obs, &nobs)))
		goto out;
	if (!ns)
		snprintf(ps->nodata, sizeof(ps->nodata), "No fork latency by "
		         "address-space size: %s.", t->forks <= 0 ? "this trace has "
		         "no forks" : "no fork with its parent's size (no forks but "
		         "vforks and CLONE_VM clones, or runs stored before schema "
		         "version 4: replay with --replace)");
	else {
		snprintf(title, sizeof(title), "fork latency by size - %s", t->name);
		rc = lines_plot(r, t, sname, title, sb, "points pt 6 ps 0.9",
		                "set logscale xy 10\nset format x '%g'\n"
		                "set format y '%g'\n"
		                "set xlabel 'parent resident pages at fork (log)'\n"
		                "set ylabel 'fork() latency (us, log)'\n"
		                "set key top left opaque\n",
		                nobs ? obs : NULL, "observed (kernel)");
		if (rc)
			goto out;
	}
	/* The equal line over the range of both. */
	for (size_t i = 0; i < t->nruns; i++) {
		double x, y;
		for (const char *l = fb[i]; sscanf(l, "%lf %lf", &x, &y) == 2;) {
			double a = x < y ? x : y, b = x < y ? y : x;
			lo = lo == 0 || a < lo ? a : lo;
			hi = b > hi ? b : hi;
			if (!(l = strchr(l, '\n')))
				break;
			l++;
		}
	}
	rc = 0;
	if (!nf) {
		snprintf(pf->nodata, sizeof(pf->nodata), "No modeled against "
		         "observed: %s.", t->forks <= 0 ? "this trace has no forks"
		         : "no fork of this trace has a kernel-observed latency");
		goto out;
	}
	snprintf(title, sizeof(title), "modeled vs observed, per fork - %s",
	         t->name);
	if (!(setup = strf("set logscale xy 10\nset format x '%%g'\n"
	                   "set format y '%%g'\n"
	                   "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n"
	                   "set arrow from %.6g,%.6g to %.6g,%.6g nohead dt 2 "
	                   "lc rgb '#000000'\n"
	                   "set label 'modeled = observed' at %.6g,%.6g right "
	                   "rotate by 28 font ',7' tc rgb '#555555'\n"
	                   "set xlabel 'kernel-observed fork() (us, log)'\n"
	                   "set ylabel 'modeled fork() (us, log)'\n"
	                   "set key top left opaque\n", lo / 1.5, hi * 1.5,
	                   lo / 1.5, hi * 1.5, lo / 1.5, lo / 1.5, hi * 1.5,
	                   hi * 1.5, hi, hi / 1.15))) {
		rpt_err(r, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = lines_plot(r, t, fname, title, fb, "points pt 6 ps 0.9", setup,
	                NULL, NULL);
out:
	keys_free(sb, t->nruns);
	keys_free(fb, t->nruns);
	free(obs);
	free(setup);
	return rc;
}

/*
 * The fork view's answer to "what would fork cost me under each design":
 * per run (its preset and config: cost preset, fork mode, whatever the
 * runs were replayed with), the modeled fork latency p50 and p99 beside
 * the kernel's (dashed: p50, dotted: p99), and the page-table memory the
 * forks allocated and the run's peak, side by side in one picture.  Runs
 * with the same four numbers are one bar, labelled with all their names.
 */
static int plot_fork_design(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "forkdesign-t%" PRId64, t->id);
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	int fi = sim_metric_find("fork_latency_ns_p50");
	size_t with = 0;
	for (size_t i = 0; i < t->nruns; i++)
		with += metric(&t->runs[i], "forks") >
		        metric(&t->runs[i], "vforks") +
		        metric(&t->runs[i], "vm_clones") && !t->runs[i].m_null[fi];
	if (!with) {
		snprintf(p->nodata, sizeof(p->nodata), "No fork cost per design: "
		         "this trace has no forks (vforks and CLONE_VM clones copy "
		         "no address space).");
		return 0;
	}
	char **keys = calloc(t->nruns, sizeof(*keys));
	struct grp *g = calloc(t->nruns, sizeof(*g));
	int rc = -ENOMEM;
	FILE *f;
	if (!keys || !g)
		goto out;
	for (size_t i = 0; i < t->nruns; i++) {
		const struct rep_run *run = &t->runs[i];
		if (!(keys[i] = strf("%.1f %.1f %" PRId64 " %" PRId64,
		                     metric(run, "fork_latency_ns_p50") / 1e3,
		                     metric(run, "fork_latency_ns_p99") / 1e3,
		                     metric(run, "pt_pages_copied") * 4,
		                     metric(run, "peak_pt_pages") * 4)))
			goto out;
	}
	size_t ng = group_runs(t, keys, g);
	double o50 = metric(&t->runs[0], "observed_fork_latency_ns_p50") / 1e3,
	       o99 = metric(&t->runs[0], "observed_fork_latency_ns_p99") / 1e3;
	rc = -EIO;
	if (!(f = rpt_create(r, "%s.dat", name)))
		goto out;
	/* Two panels leave no room for "5.7 = 5.8 = piggin-2009" under a
	 * bar: the axis names a group by its first run and how many more,
	 * the data file keeps the whole label. */
	fputs("# runs (those with the same values joined by '=')  modeled p50 "
	      "p99 (us)  page tables allocated by the forks, the run's peak "
	      "(KiB)  colour  axis label\n", f);
	for (size_t j = 0; j < ng; j++) {
		char tick[64];
		const char *first = short_name(t->runs[g[j].first].policy);
		if (g[j].n > 1)
			snprintf(tick, sizeof(tick), "%.40s +%zu", first, g[j].n - 1);
		else
			snprintf(tick, sizeof(tick), "%.40s", first);
		dat_str(f, g[j].label);
		fprintf(f, " %s %u ", keys[g[j].first], grp_colour(r, t, &g[j]));
		dat_str(f, tick);
		fputc('\n', f);
	}
	if (rpt_finish(r, f, "a data file"))
		goto out;
	if (!(f = rpt_create(r, "%s.gp", name)))
		goto out;
	snprintf(title, sizeof(title), "fork cost per run - %s", t->name);
	gp_head(f, name, title);
	double ymax = o99 > o50 ? o99 : o50;
	for (size_t i = 0; i < t->nruns; i++) {
		double v = metric(&t->runs[i], "fork_latency_ns_p99") / 1e3;
		ymax = v > ymax ? v : ymax;
	}
	/* Two panels in one picture (multiplot), which `replot` cannot
	 * redraw: the plots are written again for the SVG. */
	for (int svg = 0; svg < 2; svg++) {
		if (svg)
			fprintf(f, "set terminal svg size %d,%d dynamic font "
			        "'sans,9' noenhanced background rgb 'white'\n"
			        "set output '%s.svg'\n", PLOT_W, PLOT_H, name);
		fprintf(f, "set style fill solid 0.85 border rgb '#555555'\n"
		        "set xrange [-0.6:%zu.6]\n"
		        "set xtics rotate by -30 font ',7'\n"
		        "set key top right font ',7' samplen 2 spacing 0.9\n"
		        "set multiplot layout 1,2 title ", ng - 1);
		gp_str(f, title);
		fprintf(f, "\nunset title\nset yrange [0:%.6g]\n", ymax * 1.8);
		if (o50 > 0)
			fprintf(f, "set arrow 1 from graph 0, first %.3f to graph 1, "
			        "first %.3f nohead dt 2 lw 1.5 lc rgb '#000000'\n"
			        "set arrow 2 from graph 0, first %.3f to graph 1, "
			        "first %.3f nohead dt 3 lw 1.5 lc rgb '#000000'\n",
			        o50, o50, o99, o99);
		fprintf(f, "set ylabel 'fork() latency (us)'\n"
		        "plot '%s.dat' using ($0 - 0.18):2:(0.34):6:xtic(7) with "
		        "boxes lc rgb variable title 'p50', \\\n"
		        "     '' using ($0 + 0.18):3:(0.34):6 with boxes fs pattern 4 "
		        "lc rgb variable title 'p99'%s\n"
		        "unset arrow\nset yrange [0:*]\nset offsets 0, 0, graph 0.45, 0\n"
		        "set ylabel 'page tables (KiB)'\n"
		        "plot '%s.dat' using ($0 - 0.18):4:(0.34):6:xtic(7) with "
		        "boxes lc rgb variable title 'by forks', \\\n"
		        "     '' using ($0 + 0.18):5:(0.34):6 with boxes fs pattern 4 "
		        "lc rgb variable title 'peak'\n"
		        "unset multiplot\nset offsets 0, 0, 0, 0\n", name,
		        o50 > 0 ? ", \\\n     NaN with lines dt 2 lc rgb '#000000' "
		        "title 'kernel p50', NaN with lines dt 3 lc rgb '#000000' "
		        "title 'kernel p99'" : "", name);
	}
	fputs("unset output\n", f);
	rc = rpt_finish(r, f, "a gnuplot script");
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	keys_free(keys, t->nruns);
	free(g);
	return rc;
}

/* The workload's phases (markers "phase NAME ...", as docs/trace-markers.md
 * writes them, with or without the "cowsim: " prefix) as gnuplot commands
 * in *out: a dotted line each, and its name where it does not crowd the
 * one named before it.  Returns 0 or -ENOMEM. */
static int phase_lines(struct rpt *r, const struct rep_trace *t, int64_t t0,
                       double span, char **out)
{
	size_t len;
	FILE *ph = open_memstream(out, &len);
	sqlite3_stmt *st;
	if (!ph)
		return -ENOMEM;
	if (sqlite3_prepare_v2(r->db, "SELECT ts, text FROM markers WHERE "
	                       "trace_id = ?1 AND (text LIKE 'phase %' OR text "
	                       "LIKE 'cowsim: phase %') ORDER BY seq LIMIT 500",
	                       -1, &st, NULL) == SQLITE_OK) {
		int n = 0;
		double last = -1e300;
		sqlite3_bind_int64(st, 1, t->id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			double x = (double)(sqlite3_column_int64(st, 0) - t0) / 1e9;
			const char *txt = (const char *)sqlite3_column_text(st, 1);
			const char *nm = strstr(txt ? txt : "", "phase ");
			char name[14] = "";
			sscanf(nm ? nm + 6 : "", "%13s", name);
			fprintf(ph, "set arrow from %.9f, graph 0 to %.9f, graph 1 "
			        "nohead lc rgb '#999999' dt 3\n", x, x);
			/* A rotated label is about a fortieth of the panel wide. */
			if (name[0] && x - last >= span / 40) {
				fprintf(ph, "set label %d ", ++n + 10);
				gp_str(ph, name);
				fprintf(ph, " at %.9f, graph 1 rotate by 90 left "
				        "font ',7' tc rgb '#555555' offset 0.3,0.3\n", x);
				last = x;
			}
		}
		sqlite3_finalize(st);
	}
	return fclose(ph) ? -ENOMEM : 0;
}

/* Cumulative copies and frames over trace time: two plots. */
static int plot_timelines(struct rpt *r, const struct rep_trace *t)
{
	char cname[64], fname[64], title[512];
	snprintf(cname, sizeof(cname), "cumcopies-t%" PRId64, t->id);
	snprintf(fname, sizeof(fname), "frames-t%" PRId64, t->id);
	struct plot *pc = plot_add(r, cname);
	struct plot *pf = pc ? plot_add(r, fname) : NULL;
	if (!pc || !pf)
		return -ENOMEM;
	pc = &r->plots[r->nplots - 2];

	char **cb = calloc(t->nruns, sizeof(*cb)),
	     **fb = calloc(t->nruns, sizeof(*fb)), *phases = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -ENOMEM;
	if (!cb || !fb)
		goto out;
	if (sqlite3_prepare_v2(r->db, "SELECT ts, copies, frames FROM samples "
	                       "WHERE run_id = ? ORDER BY events", -1, &st,
	                       NULL) != SQLITE_OK)
		goto fail;
	int64_t t0 = t->start_ts, tmax = 0;
	size_t with = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		size_t rows = 0, cl, fl;
		FILE *c = open_memstream(&cb[i], &cl),
		     *f = c ? open_memstream(&fb[i], &fl) : NULL;
		if (!f) {
			if (c)
				fclose(c);
			goto out;
		}
		sqlite3_bind_int64(st, 1, t->runs[i].id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t ts = sqlite3_column_int64(st, 0);
			if (t0 < 0)
				t0 = ts;
			tmax = ts - t0 > tmax ? ts - t0 : tmax;
			double x = (double)(ts - t0) / 1e9;
			fprintf(c, "%.9f %" PRId64 "\n", x,
			        (int64_t)sqlite3_column_int64(st, 1));
			fprintf(f, "%.9f %" PRId64 "\n", x,
			        (int64_t)sqlite3_column_int64(st, 2));
			rows++;
		}
		sqlite3_reset(st);
		if ((fclose(c) | fclose(f)) != 0) {
			rc = -ENOMEM;
			goto out;
		}
		if (rc != SQLITE_DONE)
			goto fail;
		with += rows > 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = 0;
	if (!with) {
		snprintf(pc->nodata, sizeof(pc->nodata), "No time series: these "
		         "runs were stored by a cowsim older than schema version 2; "
		         "replay with --replace to get one.");
		snprintf(pf->nodata, sizeof(pf->nodata), "%s", pc->nodata);
		goto out;
	}
	double span = (double)(t->dur > 0 ? t->dur : tmax) / 1e9;
	if ((rc = phase_lines(r, t, t0, span, &phases)))
		goto out;
	/* Samples are taken every so many events: between two of them the
	 * values held, or moved by what those events did, so they are drawn
	 * as steps, not interpolated across a quiet stretch of the trace. */
	static const struct {
		const char *what, *ylabel;
	} kinds[] = {
		{ "cumulative COW copies", "pages copied so far (4 KiB)" },
		{ "allocated frames", "frames, anon + page cache (4 KiB)" },
	};
	for (int k = 0; k < 2 && !rc; k++) {
		/* Phase names go above the plot, in a margin of their own;
		 * the key sits in the top left, clear of rising lines. */
		char *setup = strf("# workload phases (markers)\n%s%s"
		                   "set xlabel 'trace time (s)'\nset ylabel '%s'\n"
		                   "set xrange [0:%.9g]\nset yrange [0:*]\n"
		                   "set offsets 0, 0, graph 0.3, 0\n"
		                   "set key top left opaque\n", phases,
		                   strstr(phases, "set label") ?
		                   "set tmargin 8\nset title offset 0,5.5\n" : "",
		                   kinds[k].ylabel, span);
		if (!setup) {
			rc = -ENOMEM;
			break;
		}
		snprintf(title, sizeof(title), "%s - %s", kinds[k].what, t->name);
		rc = lines_plot(r, t, k ? fname : cname, title, k ? fb : cb,
		                "steps", setup, NULL, NULL);
		free(setup);
	}
	goto out;
fail:
	rpt_err(r, "%s: reading samples: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	rc = -EIO;
out:
	if (rc == -ENOMEM)
		rpt_err(r, "out of memory");
	sqlite3_finalize(st);
	keys_free(cb, t->nruns);
	keys_free(fb, t->nruns);
	free(phases);
	return rc;
}

int plot_write_all(struct rpt *r)
{
	static int (*const per_trace[])(struct rpt *, const struct rep_trace *) = {
		plot_copies, plot_zero_fills, plot_delta, plot_agree,
		plot_disagree, plot_fork_latency, plot_fork_scatter,
		plot_fork_design, plot_timelines,
	};
	int err = 0;
	for (size_t i = 0; i < r->d->ntraces && !err; i++)
		for (size_t k = 0; k < sizeof(per_trace) / sizeof(per_trace[0]) &&
		     !err; k++)
			if (r->d->traces[i].nruns)
				err = per_trace[k](r, &r->d->traces[i]);
	return err;
}

/* ------------------------------------------------------------------ */
/* running gnuplot                                                     */

int plot_find_gnuplot(char *out, size_t len)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		snprintf(out, len, "%.*s/gnuplot", (int)l, p);
		if (l && access(out, X_OK) == 0)
			return 0;
		if (!e)
			break;
		p = e + 1;
	}
	return -ENOENT;
}

int plot_draw(struct rpt *r, const char *gnuplot, const char *name)
{
	char script[128], log[PATH_MAX + 32];
	snprintf(script, sizeof(script), "%s.gp", name);
	snprintf(log, sizeof(log), "%s/gnuplot.log", r->dir);
	pid_t pid = fork();
	if (pid < 0) {
		rpt_err(r, "cannot start gnuplot: %s",
		        strerror(errno));
		return -EIO;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		if (chdir(r->dir))
			_exit(126);
		execl(gnuplot, "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rpt_err(r, "waiting for gnuplot: %s",
			        strerror(errno));
			return -EIO;
		}
	}
	char png[PATH_MAX + 128], svg[PATH_MAX + 128];
	struct stat a, b;
	snprintf(png, sizeof(png), "%s/%s.png", r->dir, name);
	snprintf(svg, sizeof(svg), "%s/%s.svg", r->dir, name);
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	         !stat(png, &a) && a.st_size > 0 && !stat(svg, &b) && b.st_size > 0;
	if (!ok) {
		char msg[600] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			size_t n = fread(msg, 1, sizeof(msg) - 1, f);
			msg[n] = 0;
			fclose(f);
			for (char *c = msg; *c; c++)
				if (*c == '\n' && c[1])
					*c = ' ';
		}
		rpt_err(r, "gnuplot failed on %s.gp "
		        "(status %d)%s%s", name,
		        WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		        msg[0] ? ": " : "", msg);
		return -EIO;
	}
	unlink(log);
	return 0;
}
