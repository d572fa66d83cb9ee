/*
 * report.c - `cowsim report`: a folder of plots and an index.html from the
 * results store, readable offline.
 *
 * Plots are drawn by gnuplot, run as a subprocess once per script (so a
 * failure names its script, and the progress line can count plots).  Each
 * plot is a data file (NAME.dat) and a script (NAME.gp) that writes
 * NAME.png and NAME.svg; both are kept in the folder, so a user can edit a
 * script and run `gnuplot NAME.gp` there again.  Per trace: COW copies per
 * policy split by cause, the fork latency CDF with the kernel's observed
 * latency beside it, cumulative copies and allocated frames over trace
 * time; for the whole database: agreement with the kernel per policy.
 * Where there is nothing to draw (no forks, no labels, runs stored without
 * a time series) the page says so instead of showing an empty plot.
 *
 * Nothing half-written: the report is built in a temporary folder next to
 * the destination and renamed into place only when every plot exists.  An
 * existing report there (it has a .cowsim-report marker) is swapped out
 * atomically (renameat2 RENAME_EXCHANGE) and removed; any other existing
 * non-empty folder is refused before anything is done.
 *
 * index.html uses no network resource (inline CSS, relative image links)
 * and ends with a small script that records, in the body's data-images
 * attribute, how many pictures loaded: the browser test reads it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../lib/esc.h"
#include "../sim/sim.h"
#include "rep.h"
#include "store.h"

#define MARKER ".cowsim-report"

/* One picture of the page, or the reason there is none. */
struct plot {
	char name[64];           /* file stem: NAME.gp, .dat, .png, .svg */
	char nodata[256];        /* non-empty: no plot, say this instead */
};

struct rpt {
	sqlite3 *db;
	const char *dbpath;
	char dir[PATH_MAX];      /* the temporary folder being filled */
	struct rep_data d;
	struct plot *plots;
	size_t nplots, capplots;
	int progress;
	char err[1024];
};

/* Set the error message (vsnprintf: a long path is cut, not a bug). */
static void rpt_err(struct rpt *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void rpt_err(struct rpt *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static FILE *create(struct rpt *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static FILE *create(struct rpt *r, const char *fmt, ...)
{
	char name[256], path[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		rpt_err(r, "cannot write %s: %s", path,
		         strerror(errno));
	return f;
}

static int finish(struct rpt *r, FILE *f, const char *what)
{
	int bad = ferror(f);
	if (fclose(f) || bad) {
		rpt_err(r, "writing %s in %s failed (disk "
		         "full?)", what, r->dir);
		return -EIO;
	}
	return 0;
}

static struct plot *add_plot(struct rpt *r, const char *name)
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

static const struct plot *find_plot(const struct rpt *r, const char *name)
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

/* A data-file string: double quotes, no quotes or blanks inside. */
static void dat_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || (unsigned char)*s < 0x20 ? '_' : *s, f);
	fputc('"', f);
}

/* The start of every script: the same look, PNG first. */
static void gp_head(FILE *f, const char *name, const char *title, int w,
                    int h)
{
	fprintf(f, "# Written by `cowsim report`; edit and run `gnuplot %s.gp`\n"
	        "# in this folder to redraw %s.png and %s.svg.\n"
	        "reset\n"
	        "set terminal pngcairo size %d,%d font 'sans,10' noenhanced\n"
	        "set output '%s.png'\n"
	        "set title ", name, name, name, w, h, name);
	gp_str(f, title);
	fputs("\nset grid ytics lc rgb '#dddddd'\nset border 3\n"
	      "set format y '%.10g'\n"
	      "set tics nomirror\nset key noenhanced\n", f);
}

/* ... and its end: the same plot again as SVG. */
static void gp_tail(FILE *f, const char *name, int w, int h)
{
	fprintf(f, "set terminal svg size %d,%d dynamic font 'sans,10' "
	        "noenhanced background rgb 'white'\n"
	        "set output '%s.svg'\nreplot\nunset output\n", w, h, name);
}

static int64_t metric(const struct rep_run *run, const char *name)
{
	int i = sim_metric_find(name);
	return i < 0 || run->m_null[i] ? 0 : run->m[i];
}

/* ------------------------------------------------------------------ */
/* the plots                                                           */

static int plot_copies(struct rpt *r, const struct rep_trace *t)
{
	char name[64];
	snprintf(name, sizeof(name), "copies-t%" PRId64, t->id);
	struct plot *p = add_plot(r, name);
	if (!p)
		return -ENOMEM;
	int64_t total = 0;
	for (size_t i = 0; i < t->nruns; i++)
		total += metric(&t->runs[i], "copies_fault") +
		         metric(&t->runs[i], "copies_file") +
		         metric(&t->runs[i], "copies_fork") +
		         metric(&t->runs[i], "zero_fills");
	if (!total) {
		snprintf(p->nodata, sizeof(p->nodata), "No data: no page was copied "
		         "or zero-filled under any policy in this trace.");
		return 0;
	}
	FILE *f = create(r, "%s.dat", name);
	if (!f)
		return -EIO;
	fputs("# policy  fault_copy  fork_copy  zero_fill  unnecessary\n"
	      "# fault_copy = copies_fault + copies_file - unnecessary_copies;\n"
	      "# fork_copy = copies_fork - unnecessary_fork_copies;\n"
	      "# unnecessary = unnecessary_copies + unnecessary_fork_copies\n", f);
	for (size_t i = 0; i < t->nruns; i++) {
		const struct rep_run *run = &t->runs[i];
		int64_t un = metric(run, "unnecessary_copies"),
		        unf = metric(run, "unnecessary_fork_copies");
		int64_t fc = metric(run, "copies_fault") + metric(run, "copies_file") - un;
		int64_t kc = metric(run, "copies_fork") - unf;
		dat_str(f, run->policy);
		fprintf(f, " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
		        fc > 0 ? fc : 0, kc > 0 ? kc : 0, metric(run, "zero_fills"),
		        un + unf);
	}
	if (finish(r, f, "a data file"))
		return -EIO;
	char title[512];
	snprintf(title, sizeof(title), "COW copies by cause - %s", t->label);
	if (!(f = create(r, "%s.gp", name)))
		return -EIO;
	gp_head(f, name, title, 900, 480);
	fprintf(f, "set style data histograms\n"
	        "set style histogram rowstacked\n"
	        "set style fill solid 0.85 border rgb '#555555'\n"
	        "set boxwidth 0.7\n"
	        "set ylabel 'pages (4 KiB)'\n"
	        "set yrange [0:*]\n"
	        "set key outside right top\n"
	        "set xtics rotate by -25\n"
	        "plot '%s.dat' using 2:xtic(1) title 'fault copy' lc rgb '#4e79a7', \\\n"
	        "     '' using 3 title 'fork copy' lc rgb '#f28e2b', \\\n"
	        "     '' using 4 title 'zero fill' lc rgb '#76b7b2', \\\n"
	        "     '' using 5 title 'unnecessary copy' lc rgb '#e15759'\n",
	        name);
	gp_tail(f, name, 900, 480);
	return finish(r, f, "a gnuplot script");
}

/* Write one CDF block: sorted values (ns) -> fraction <= value. */
static int cdf_block(struct rpt *r, FILE *f, const char *sql, int64_t id,
                     int64_t *n_out)
{
	sqlite3_stmt *st;
	int64_t n = 0, k = 0;
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
	return 0;
fail:
	rpt_err(r, "%s: reading forks: %s", r->dbpath,
	         sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

static int plot_fork_latency(struct rpt *r, const struct rep_trace *t)
{
	char name[64], title[512];
	snprintf(name, sizeof(name), "forklat-t%" PRId64, t->id);
	struct plot *p = add_plot(r, name);
	if (!p)
		return -ENOMEM;
	if (t->forks <= 0) {
		snprintf(p->nodata, sizeof(p->nodata), "No data: this trace has no "
		         "forks, so there is no fork latency to show.");
		return 0;
	}
	FILE *f = create(r, "%s.dat", name);
	if (!f)
		return -EIO;
	fputs("# One block per policy (gnuplot index 0, 1, ...), the kernel's\n"
	      "# observed latency last if the trace has it: latency_us  "
	      "fraction_of_forks_at_or_below\n", f);
	int64_t n = 0, nobs = 0;
	size_t blocks = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		fprintf(f, "# %s\n", t->runs[i].policy);
		if (cdf_block(r, f, "SELECT dur, count(*) OVER () FROM forks WHERE "
		              "run_id = ? ORDER BY dur", t->runs[i].id, &n)) {
			fclose(f);
			return -EIO;
		}
		fputs("\n\n", f);
		blocks++;
	}
	/* Observed latencies are the trace's: the same in every run. */
	fputs("# observed (kernel)\n", f);
	if (cdf_block(r, f, "SELECT observed_dur, count(*) OVER () FROM forks "
	              "WHERE run_id = ? AND observed_dur IS NOT NULL ORDER BY "
	              "observed_dur", t->runs[0].id, &nobs)) {
		fclose(f);
		return -EIO;
	}
	if (finish(r, f, "a data file"))
		return -EIO;
	snprintf(title, sizeof(title), "fork latency - %s (%" PRId64 " forks%s)",
	         t->label, n, nobs ? "" : "; no kernel-observed latency in this "
	         "trace");
	if (!(f = create(r, "%s.gp", name)))
		return -EIO;
	gp_head(f, name, title, 900, 480);
	fputs("set logscale x 10\n"
	      "set format y '%.1f'\nset format x '%g'\n"
	      "set xlabel 'fork() latency (us, log scale)'\n"
	      "set ylabel 'fraction of forks at or below'\n"
	      "set yrange [0:1.02]\n"
	      "set key outside right top\n"
	      "plot ", f);
	for (size_t i = 0; i < blocks; i++) {
		fprintf(f, "%s'%s.dat' index %zu using 1:2 with lines lw 2 dt %zu "
		        "title ", i ? ", \\\n     " : "", name, i, i % 5 + 1);
		gp_str(f, t->runs[i].policy);
	}
	if (nobs)
		fprintf(f, ", \\\n     '%s.dat' index %zu using 1:2 with lines lw 3 "
		        "lc rgb 'black' title 'observed (kernel)'", name, blocks);
	fputc('\n', f);
	gp_tail(f, name, 900, 480);
	return finish(r, f, "a gnuplot script");
}

/* Cumulative copies and frames over trace time: one data file, two plots. */
static int plot_timelines(struct rpt *r, const struct rep_trace *t)
{
	char data[64], cname[64], fname[64], title[512];
	snprintf(data, sizeof(data), "timeline-t%" PRId64, t->id);
	snprintf(cname, sizeof(cname), "cumcopies-t%" PRId64, t->id);
	snprintf(fname, sizeof(fname), "frames-t%" PRId64, t->id);
	struct plot *pc = add_plot(r, cname);
	struct plot *pf = pc ? add_plot(r, fname) : NULL;
	if (!pc || !pf)
		return -ENOMEM;
	pc = &r->plots[r->nplots - 2];

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, "SELECT ts, events, copies, frames "
	                            "FROM samples WHERE run_id = ? ORDER BY events",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	FILE *f = create(r, "%s.dat", data);
	if (!f) {
		sqlite3_finalize(st);
		return -EIO;
	}
	fputs("# One block per policy (gnuplot index 0, 1, ...):\n"
	      "# seconds_since_trace_start  events  cumulative_copies  frames\n", f);
	int64_t t0 = t->start_ts;
	size_t with = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		size_t rows = 0;
		fprintf(f, "# %s\n", t->runs[i].policy);
		sqlite3_bind_int64(st, 1, t->runs[i].id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t ts = sqlite3_column_int64(st, 0);
			if (t0 < 0)
				t0 = ts;
			fprintf(f, "%.9f %" PRId64 " %" PRId64 " %" PRId64 "\n",
			        (double)(ts - t0) / 1e9,
			        (int64_t)sqlite3_column_int64(st, 1),
			        (int64_t)sqlite3_column_int64(st, 2),
			        (int64_t)sqlite3_column_int64(st, 3));
			rows++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			fclose(f);
			goto fail;
		}
		/* An empty block would shift gnuplot's index numbering. */
		fputs(rows ? "\n\n" : "nan nan nan nan\n\n\n", f);
		with += rows > 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (finish(r, f, "a data file"))
		return -EIO;
	if (!with) {
		snprintf(pc->nodata, sizeof(pc->nodata), "No data: these runs were "
		         "stored without a time series (by a cowsim older than "
		         "schema version 2); replay with --replace to get one.");
		snprintf(pf->nodata, sizeof(pf->nodata), "%s", pc->nodata);
		return 0;
	}
	/* Samples are taken every so many events: between two of them the
	 * values held, or moved by what those events did, so they are drawn
	 * as steps, not interpolated across a quiet stretch of the trace.
	 *
	 * Workload phases (markers "phase NAME ..." as docs/trace-markers.md
	 * writes them, with or without the "cowsim: " prefix) as vertical
	 * lines, named when there are few enough to read. */
	char *phases = NULL;
	size_t plen = 0;
	FILE *ph = open_memstream(&phases, &plen);
	if (!ph)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(r->db, "SELECT ts, text FROM markers WHERE "
	                        "trace_id = ?1 AND (text LIKE 'phase %' OR text "
	                        "LIKE 'cowsim: phase %') ORDER BY seq LIMIT 200",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		int n = 0, total = 0;
		sqlite3_bind_int64(st, 1, t->id);
		while (sqlite3_step(st) == SQLITE_ROW)
			total++;
		sqlite3_reset(st);
		while (sqlite3_step(st) == SQLITE_ROW) {
			double x = (double)(sqlite3_column_int64(st, 0) - t0) / 1e9;
			const char *txt = (const char *)sqlite3_column_text(st, 1);
			const char *nm = strstr(txt ? txt : "", "phase ");
			char name[48];
			sscanf(nm ? nm + 6 : "", "%47s", name);
			fprintf(ph, "set arrow from %.9f, graph 0 to %.9f, graph 1 nohead "
			        "lc rgb '#bbbbbb' dt 3\n", x, x);
			if (total <= 12 && nm) {
				fprintf(ph, "set label %d ", ++n + 10);
				gp_str(ph, name);
				fprintf(ph, " at %.9f, graph 0.98 rotate by 90 right "
				        "font ',8' tc rgb '#888888' offset -0.6,0\n", x);
			}
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (fclose(ph)) {
		free(phases);
		return -ENOMEM;
	}

	static const struct {
		const char *what, *ylabel;
		int col;
	} kinds[] = {
		{ "cumulative COW copies", "pages copied so far (fault + fork)", 3 },
		{ "allocated frames", "frames (4 KiB pages: anonymous + page cache)", 4 },
	};
	for (int k = 0; k < 2; k++) {
		const char *name = k ? fname : cname;
		snprintf(title, sizeof(title), "%s over trace time - %s",
		         kinds[k].what, t->label);
		if (!(f = create(r, "%s.gp", name))) {
			free(phases);
			return -EIO;
		}
		gp_head(f, name, title, 900, 480);
		if (plen)
			fprintf(f, "# workload phases (markers)\n%s", phases);
		fprintf(f, "set xlabel 'trace time (s)'\nset ylabel '%s'\n"
		        "set yrange [0:*]\nset key outside right top\nplot ",
		        kinds[k].ylabel);
		for (size_t i = 0; i < t->nruns; i++) {
			fprintf(f, "%s'%s.dat' index %zu using 1:%d with steps lw 2 "
			        "title ", i ? ", \\\n     " : "", data, i, kinds[k].col);
			gp_str(f, t->runs[i].policy);
		}
		fputc('\n', f);
		gp_tail(f, name, 900, 480);
		if (finish(r, f, "a gnuplot script")) {
			free(phases);
			return -EIO;
		}
	}
	free(phases);
	return 0;
fail:
	rpt_err(r, "%s: reading samples: %s", r->dbpath,
	         sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

/* Agreement per policy: one cluster per policy, one bar per labelled
 * trace (and all labelled traces together when there are several). */
static int plot_agreement(struct rpt *r)
{
	struct plot *p = add_plot(r, "agreement");
	if (!p)
		return -ENOMEM;
	const struct rep_data *d = &r->d;
	size_t nlab = 0;
	for (size_t i = 0; i < d->ntraces; i++)
		for (size_t k = 0; k < d->traces[i].nruns; k++)
			if (metric(&d->traces[i].runs[k], "labelled") > 0) {
				nlab++;
				break;
			}
	if (!nlab) {
		snprintf(p->nodata, sizeof(p->nodata), "No data: no trace here has "
		         "kernel-observed fault outcomes (labels), so agreement with "
		         "the kernel cannot be measured. Traces captured with "
		         "kmem:mm_page_alloc have them (docs/trace-markers.md).");
		return 0;
	}
	/* The policies, in first-seen order across traces. */
	const char **pols = calloc(64, sizeof(*pols));
	size_t npol = 0;
	if (!pols)
		return -ENOMEM;
	for (size_t i = 0; i < d->ntraces; i++)
		for (size_t k = 0; k < d->traces[i].nruns && npol < 64; k++) {
			size_t j;
			for (j = 0; j < npol; j++)
				if (!strcmp(pols[j], d->traces[i].runs[k].policy))
					break;
			if (j == npol)
				pols[npol++] = d->traces[i].runs[k].policy;
		}
	FILE *f = create(r, "agreement.dat");
	if (!f) {
		free(pols);
		return -EIO;
	}
	fputs("# % of kernel-labelled write faults whose outcome the policy "
	      "predicted.\n# policy", f);
	for (size_t i = 0; i < d->ntraces; i++)
		if (d->traces[i].labels > 0)
			fprintf(f, "  %s", d->traces[i].label);
	fputs(nlab > 1 ? "  all\n" : "\n", f);
	for (size_t j = 0; j < npol; j++) {
		int64_t la = 0, ag = 0;
		dat_str(f, pols[j]);
		for (size_t i = 0; i < d->ntraces; i++) {
			const struct rep_trace *t = &d->traces[i];
			if (t->labels <= 0)
				continue;
			int k = rep_find_policy(t, pols[j]);
			int64_t l = k < 0 ? 0 : metric(&t->runs[k], "labelled");
			int64_t a = k < 0 ? 0 : metric(&t->runs[k], "agree");
			la += l;
			ag += a;
			if (l > 0)
				fprintf(f, " %.3f", 100.0 * (double)a / (double)l);
			else
				fputs(" NaN", f);
		}
		if (nlab > 1)
			fprintf(f, " %.3f", la ? 100.0 * (double)ag / (double)la : 0.0);
		fputc('\n', f);
	}
	free(pols);
	if (finish(r, f, "a data file"))
		return -EIO;
	if (!(f = create(r, "agreement.gp")))
		return -EIO;
	gp_head(f, "agreement", "agreement with the kernel: labelled write "
	        "faults predicted right", 900, 480);
	fputs("set style data histograms\n"
	      "set style histogram clustered gap 1\n"
	      "set style fill solid 0.85 border rgb '#555555'\n"
	      "set ylabel '% of labelled faults'\n"
	      "set yrange [0:105]\n"
	      "set key outside right top\n"
	      "set xtics rotate by -25\n"
	      "plot ", f);
	int col = 2;
	for (size_t i = 0; i < d->ntraces; i++) {
		if (d->traces[i].labels <= 0)
			continue;
		fprintf(f, "%s'agreement.dat' using %d%s title ",
		        col > 2 ? ", \\\n     " : "", col, col == 2 ? ":xtic(1)" : "");
		gp_str(f, d->traces[i].label);
		col++;
	}
	if (nlab > 1)
		fprintf(f, ", \\\n     'agreement.dat' using %d title 'all labelled "
		        "traces' lc rgb 'black'", col);
	fputc('\n', f);
	gp_tail(f, "agreement", 900, 480);
	return finish(r, f, "a gnuplot script");
}

/* ------------------------------------------------------------------ */
/* running gnuplot                                                     */

static int find_gnuplot(char *out, size_t len)
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

/* Run `gnuplot NAME.gp` in the report folder; its messages go to
 * gnuplot.log there (removed on success). */
static int run_gnuplot(struct rpt *r, const char *gnuplot, const char *name)
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

/* ------------------------------------------------------------------ */
/* index.html                                                          */

static const char css[] =
	"body{font-family:sans-serif;margin:1.5em auto;max-width:1200px;"
	"color:#222;padding:0 1em}\n"
	"h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc;"
	"padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em}\n"
	"table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}\n"
	"th,td{border:1px solid #ddd;padding:.15em .5em}td.n{text-align:right;"
	"font-variant-numeric:tabular-nums}th{background:#f4f4f4}\n"
	"tr:hover td{background:#fafae8}\n"
	"figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}\n"
	"figcaption{font-size:.8em;color:#555}\n"
	".nodata{color:#8a5a00;background:#fff8e6;border:1px solid #f0d9a0;"
	"padding:.5em .8em;display:inline-block}\n"
	".meta{color:#555;font-size:.9em}code{background:#f4f4f4;padding:0 .2em}\n";

/* Show the images that loaded: the test reads data-images. */
static const char img_script[] =
	"<script>\n"
	"window.addEventListener('load', function () {\n"
	"  var imgs = document.images, ok = 0;\n"
	"  for (var i = 0; i < imgs.length; i++)\n"
	"    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
	"    else imgs[i].insertAdjacentHTML('afterend',\n"
	"      '<p class=\"nodata\">This picture did not load: ' +\n"
	"      imgs[i].getAttribute('src') + '</p>');\n"
	"  document.body.setAttribute('data-images', ok + '/' + imgs.length);\n"
	"});\n"
	"</script>\n";

static void html_figure(FILE *f, const struct rpt *r, const char *name,
                        const char *caption)
{
	const struct plot *p = find_plot(r, name);
	if (!p)
		return;
	if (p->nodata[0]) {
		fputs("<p class=\"nodata\">", f);
		esc_html(f, p->nodata);
		fputs("</p>\n", f);
		return;
	}
	fprintf(f, "<figure><a href=\"%s.svg\"><img src=\"%s.png\" alt=\"",
	        name, name);
	esc_html(f, caption);
	fprintf(f, "\" width=\"900\" height=\"480\"></a>\n<figcaption>");
	esc_html(f, caption);
	fprintf(f, " &middot; <a href=\"%s.svg\">SVG</a> &middot; "
	        "<a href=\"%s.gp\">gnuplot script</a></figcaption></figure>\n",
	        name, name);
}

static void html_compare(FILE *f, const struct rep_trace *t,
                         const struct rep_table *tb)
{
	char v[64];
	fputs("<table><tr><th>metric</th>", f);
	for (size_t c = 0; c < t->nruns; c++) {
		fputs("<th>", f);
		esc_html(f, t->runs[c].policy);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (size_t k = 0; k < tb->nrows; k++) {
		fputs("<tr><td title=\"", f);
		esc_html(f, tb->rows[k].doc ? tb->rows[k].doc : "");
		fputs("\">", f);
		esc_html(f, tb->rows[k].name);
		fputs("</td>", f);
		for (size_t c = 0; c < tb->ncols; c++)
			fprintf(f, "<td class=\"n\">%s</td>",
			        rep_cell_str(rep_cell(tb, k, c), v, sizeof(v)));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_num(FILE *f, sqlite3_stmt *st, int c, double scale)
{
	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		fputs("<td class=\"n\"></td>", f);
	else if (scale != 1)
		fprintf(f, "<td class=\"n\">%.1f</td>",
		        sqlite3_column_double(st, c) / scale);
	else
		fprintf(f, "<td class=\"n\">%s</td>", sqlite3_column_text(st, c));
}

/* The fork_latency view's rows of one trace, in us. */
static int html_fork_table(struct rpt *r, FILE *f, const struct rep_trace *t)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, "SELECT policy, forks, dur_p50, "
	                            "dur_p90, dur_p99, dur_max, observed_forks, "
	                            "observed_p50, observed_p90, observed_p99, "
	                            "observed_max, run_id FROM fork_latency WHERE "
	                            "trace_id = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, t->id);
	fputs("<table><tr><th rowspan=\"2\">policy</th><th rowspan=\"2\">forks"
	      "</th><th colspan=\"4\">modeled latency (us)</th><th rowspan=\"2\">"
	      "observed forks</th><th colspan=\"4\">kernel-observed (us)</th>"
	      "</tr>\n<tr><th>p50</th><th>p90</th><th>p99</th><th>max</th>"
	      "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n", f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t run = sqlite3_column_int64(st, 11);
		if (!t->nruns)
			continue;
		int shown = 0;
		for (size_t i = 0; i < t->nruns; i++)
			shown |= t->runs[i].id == run;
		if (!shown)
			continue;
		fputs("<tr><td>", f);
		esc_html(f, (const char *)sqlite3_column_text(st, 0));
		fputs("</td>", f);
		html_num(f, st, 1, 1);
		for (int c = 2; c <= 5; c++)
			html_num(f, st, c, 1e3);
		html_num(f, st, 6, 1);
		for (int c = 7; c <= 10; c++)
			html_num(f, st, c, 1e3);
		fputs("</tr>\n", f);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	fputs("</table>\n", f);
	return 0;
fail:
	rpt_err(r, "%s: reading fork latencies: %s",
	         r->dbpath, sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

static int html_agreement_table(struct rpt *r, FILE *f)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, "SELECT policy, traces, labelled, "
	                            "agree, agree_pct FROM agreement_by_policy",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	int rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows++)
			fputs("<table><tr><th>policy</th><th>labelled traces</th>"
			      "<th>labelled faults</th><th>agree</th><th>%</th></tr>\n",
			      f);
		fputs("<tr><td>", f);
		esc_html(f, (const char *)sqlite3_column_text(st, 0));
		fputs("</td>", f);
		for (int c = 1; c <= 4; c++)
			html_num(f, st, c, 1);
		fputs("</tr>\n", f);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	if (rows)
		fputs("</table>\n", f);
	sqlite3_finalize(st);
	return 0;
fail:
	rpt_err(r, "%s: reading agreement: %s", r->dbpath,
	         sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

static int write_index(struct rpt *r)
{
	FILE *f = create(r, "index.html");
	char sum[512], when[64];
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	if (!f)
		return -EIO;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"generator\" content=\"cowsim report\">\n"
	      "<title>cowsim report</title>\n<style>\n", f);
	fputs(css, f);
	fputs("</style></head>\n<body>\n<h1>cowsim report</h1>\n<p class=\"meta\">"
	      "From <code>", f);
	esc_html(f, r->dbpath);
	fprintf(f, "</code>, %s. Each policy's latest run on each trace. Plots "
	        "link to their SVG; each has its gnuplot script and data file "
	        "beside it in this folder.</p>\n", when);

	fputs("<h2>Traces</h2>\n<table><tr><th>#</th><th>trace</th><th>format"
	      "</th><th>events</th><th>processes</th><th>forks</th><th>write "
	      "faults</th><th>labelled</th><th>duration (s)</th><th>dropped</th>"
	      "<th>policies</th><th>hash</th></tr>\n", f);
	for (size_t i = 0; i < r->d.ntraces; i++) {
		const struct rep_trace *t = &r->d.traces[i];
		fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td><a href=\"#t%"
		        PRId64 "\">", t->id, t->id);
		esc_html(f, t->label);
		fputs("</a></td><td>", f);
		esc_html(f, t->format);
		fprintf(f, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%"
		        PRId64 "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%"
		        PRId64 "</td><td class=\"n\">%" PRId64 "</td>", t->events,
		        t->processes, t->forks, t->write_faults, t->labels);
		if (t->dur >= 0)
			fprintf(f, "<td class=\"n\">%.3f</td>", (double)t->dur / 1e9);
		else
			fputs("<td></td>", f);
		if (t->dropped >= 0)
			fprintf(f, "<td class=\"n\">%" PRId64 "</td>", t->dropped);
		else
			fputs("<td class=\"n\" title=\"not reported by the capture\">?"
			      "</td>", f);
		fprintf(f, "<td class=\"n\">%zu</td><td><code>%.12s</code></td></tr>\n",
		        t->nruns, t->hash);
	}
	fputs("</table>\n", f);

	fputs("<h2>Agreement with the kernel</h2>\n<p>Of the write faults whose "
	      "outcome the kernel's own trace shows (copy, reuse, zero-fill), the "
	      "share each policy predicted.</p>\n", f);
	html_figure(f, r, "agreement", "agreement with the kernel per policy");
	if ((rc = html_agreement_table(r, f)))
		goto out;

	for (size_t i = 0; i < r->d.ntraces; i++) {
		const struct rep_trace *t = &r->d.traces[i];
		struct rep_table tb;
		char name[64];
		fprintf(f, "<h2 id=\"t%" PRId64 "\">", t->id);
		esc_html(f, t->label);
		fputs("</h2>\n<p class=\"meta\">", f);
		rep_trace_summary(t, sum, sizeof(sum));
		esc_html(f, sum);
		fputs("<br><code>", f);
		esc_html(f, t->path);
		fputs("</code></p>\n", f);
		snprintf(name, sizeof(name), "copies-t%" PRId64, t->id);
		html_figure(f, r, name, "COW copies per policy, by cause");
		fputs("<h3>Fork latency</h3>\n", f);
		snprintf(name, sizeof(name), "forklat-t%" PRId64, t->id);
		html_figure(f, r, name, "fork latency CDF per policy, with the "
		            "kernel's observed latency");
		if (t->forks > 0 && (rc = html_fork_table(r, f, t)))
			goto out;
		fputs("<h3>Over trace time</h3>\n", f);
		snprintf(name, sizeof(name), "cumcopies-t%" PRId64, t->id);
		html_figure(f, r, name, "cumulative COW copies over trace time");
		snprintf(name, sizeof(name), "frames-t%" PRId64, t->id);
		html_figure(f, r, name, "allocated frames over trace time");
		fputs("<h3>All metrics</h3>\n<p class=\"meta\">Rows that are zero "
		      "under every policy are left out; hover a metric for what it "
		      "counts. <code>cowsim compare</code> prints the same.</p>\n", f);
		if (rep_table_build(t, 1, &tb)) {
			rpt_err(r, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		html_compare(f, t, &tb);
		rep_table_free(&tb);
	}
	fputs(img_script, f);
	fputs("</body></html>\n", f);
out:
	if (rc) {
		fclose(f);
		return rc;
	}
	return finish(r, f, "index.html");
}

/* ------------------------------------------------------------------ */
/* the folder                                                          */

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return 0;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* May we put a report at out?  Returns 0 with *swap set when out holds an
 * earlier report (exchanged, then removed); an absent or empty folder is
 * simply renamed over.  Else -EEXIST / -ENOTDIR with a message. */
static int check_dest(const char *out, int *swap, char *err, size_t len)
{
	struct stat sb;
	char marker[PATH_MAX + 32];

	*swap = 0;
	if (lstat(out, &sb))
		return 0;
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, len, "%s exists and is not a folder: choose another "
		         "-o", out);
		return -ENOTDIR;
	}
	snprintf(marker, sizeof(marker), "%s/" MARKER, out);
	if (!access(marker, F_OK)) {
		*swap = 1;
		return 0;
	}
	if (dir_empty(out))
		return 0;
	snprintf(err, len, "%s exists and is not a cowsim report: choose another "
	         "-o, or remove it", out);
	return -EEXIST;
}

static const char report_usage[] =
	"usage: cowsim report [--db FILE] -o DIR [--trace T]... [--policy P,...]\n"
	"                     [--quiet]\n"
	"\n"
	"Write DIR/index.html and its plots from the results database --db\n"
	"(default cowsim.db): per trace, COW copies per policy split by cause,\n"
	"the fork latency CDF with the kernel's observed latency beside it,\n"
	"cumulative copies and allocated frames over trace time; agreement with\n"
	"the kernel per policy; the side-by-side tables.  Plots are PNG and SVG\n"
	"drawn by gnuplot (Debian: gnuplot-nox); each one's gnuplot script and\n"
	"data file are kept beside it, to edit and run again.  The page needs\n"
	"no network.  DIR is replaced only if it holds an earlier report.\n"
	"--trace and --policy select as for `cowsim compare`.\n"
	"\n"
	"examples:\n"
	"  cowsim report -o report && xdg-open report/index.html\n"
	"  cowsim report --db results.db -o /tmp/r --trace cowknown.dat\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },
		{ "trace", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *policy = NULL;
	const char **sel = NULL;
	size_t nsel = 0;
	struct rpt r = { .dbpath = STORE_DEFAULT_DB };
	struct store *s = NULL;
	char gnuplot[PATH_MAX];
	int quiet = 0, c, rc = 0, swap = 0, made = 0;

	while ((c = getopt_long(argc, argv, "D:o:t:p:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'D': r.dbpath = optarg; break;
		case 'o': out = optarg; break;
		case 'p': policy = optarg; break;
		case 'q': quiet = 1; break;
		case 't': {
			const char **n = realloc(sel, (nsel + 1) * sizeof(*n));
			if (!n) {
				free(sel);
				return cli_die("out of memory");
			}
			sel = n;
			sel[nsel++] = optarg;
			break;
		}
		case 'h': fputs(report_usage, stdout); free(sel); return 0;
		default: fputs(report_usage, stderr); free(sel); return 2;
		}
	}
	if (optind < argc || !out || !*out) {
		free(sel);
		if (optind < argc)
			return cli_die("report: unexpected argument '%s'", argv[optind]);
		fputs(report_usage, stderr);
		return cli_die("report: -o DIR is required (where to write the "
		               "report)");
	}
	/* Everything that can be checked before writing anything. */
	if (find_gnuplot(gnuplot, sizeof(gnuplot))) {
		free(sel);
		return cli_die("gnuplot not found on PATH: install it (Debian: "
		               "apt install gnuplot-nox) and run again");
	}
	if (check_dest(out, &swap, r.err, sizeof(r.err))) {
		free(sel);
		return cli_die("%s", r.err);
	}
	if (store_open(r.dbpath, 0, &s, r.err, sizeof(r.err))) {
		free(sel);
		return cli_die("%s", r.err);
	}
	if (s->version && s->version < STORE_SCHEMA_VERSION)
		fprintf(stderr, "cowsim: %s: migrated from schema version %d to %d\n",
		        r.dbpath, s->version, STORE_SCHEMA_VERSION);
	r.db = store_db(s);
	r.progress = !quiet && isatty(2);
	if (rep_load(r.db, sel, nsel, policy, &r.d, r.err, sizeof(r.err))) {
		rc = cli_die("%s: %s", r.dbpath, r.err);
		goto out;
	}

	/* The temporary folder, next to the destination (same filesystem,
	 * so the final rename is atomic). */
	char parent[PATH_MAX], base[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", out);
	size_t pl = strlen(parent);
	while (pl > 1 && parent[pl - 1] == '/')
		parent[--pl] = 0;
	char *slash = strrchr(parent, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : parent);
	if (slash == parent)
		parent[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), ".");
	if (snprintf(r.dir, sizeof(r.dir), "%s/.%s.tmp-XXXXXX", parent, base) >=
	    (int)sizeof(r.dir)) {
		rc = cli_die("%s: path too long", out);
		goto out;
	}
	if (!mkdtemp(r.dir)) {
		rc = cli_die("cannot create the report in %s: %s (is the folder "
		             "there and writable?)", parent, strerror(errno));
		goto out;
	}
	made = 1;
	chmod(r.dir, 0755);

	FILE *m = create(&r, MARKER);
	if (!m || finish(&r, m, MARKER)) {
		rc = cli_die("%s", r.err);
		goto out;
	}
	int err = 0;
	for (size_t i = 0; i < r.d.ntraces && !err; i++) {
		const struct rep_trace *t = &r.d.traces[i];
		err = plot_copies(&r, t);
		if (!err)
			err = plot_fork_latency(&r, t);
		if (!err)
			err = plot_timelines(&r, t);
	}
	if (!err)
		err = plot_agreement(&r);
	if (err) {
		rc = cli_die("%s", r.err);
		goto out;
	}
	size_t todo = 0, done = 0;
	for (size_t i = 0; i < r.nplots; i++)
		todo += !r.plots[i].nodata[0];
	double t0 = now_s(), last = 0;
	for (size_t i = 0; i < r.nplots; i++) {
		if (r.plots[i].nodata[0])
			continue;
		if (run_gnuplot(&r, gnuplot, r.plots[i].name)) {
			if (r.progress)
				fputc('\n', stderr);
			rc = cli_die("%s; nothing was written to %s", r.err, out);
			goto out;
		}
		done++;
		double now = now_s();
		if (r.progress && (now - last > 0.5 || done == todo)) {
			double rate = done / (now - t0 > 0 ? now - t0 : 1e-9);
			last = now;
			fprintf(stderr, "\rreport: %zu/%zu plots, %.1f/s, ETA %.0fs   %s",
			        done, todo, rate, (double)(todo - done) / rate,
			        done == todo ? "\n" : "");
		}
	}
	if (write_index(&r)) {
		rc = cli_die("%s", r.err);
		goto out;
	}

	/* Into place (rename(2) replaces an empty folder). */
	if (!swap) {
		if (rename(r.dir, out)) {
			rc = cli_die("cannot move the report to %s: %s", out,
			             strerror(errno));
			goto out;
		}
	} else {
		if (renameat2(AT_FDCWD, r.dir, AT_FDCWD, out, RENAME_EXCHANGE)) {
			rc = cli_die("cannot replace the report in %s: %s", out,
			             strerror(errno));
			goto out;
		}
		/* r.dir now holds the previous report. */
	}
	if (!swap)
		made = 0;
	if (!quiet)
		fprintf(stderr, "cowsim: report of %zu trace%s written to %s (%zu "
		        "plots); open %s/index.html\n", r.d.ntraces,
		        r.d.ntraces == 1 ? "" : "s", out, todo, out);
out:
	if (made)
		rm_tree(r.dir);
	free(r.plots);
	rep_free(&r.d);
	store_close(s);
	free(sel);
	return rc;
}
