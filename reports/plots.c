/*
 * plots.c - the report's pictures: for each one a data file (NAME.dat) and
 * a gnuplot script (NAME.gp) that writes NAME.png and NAME.svg, both kept
 * in the folder so that a user can edit a script and run `gnuplot NAME.gp`
 * there again.  Per trace: COW copies per policy split by cause, the fork
 * latency CDF with the kernel's observed latency beside it, cumulative
 * copies and allocated frames over trace time; for the whole database:
 * agreement with the kernel per policy.  Where there is nothing to draw (no
 * forks, no labels, runs stored without a time series) the plot gets the
 * sentence the page shows instead of an empty picture.
 *
 * gnuplot runs as a subprocess once per script (plot_draw()), so that a
 * failure names its script and the caller can count plots as they go.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/sim.h"
#include "rep.h"
#include "rpt.h"

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
	struct plot *p = plot_add(r, name);
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
	FILE *f = rpt_create(r, "%s.dat", name);
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
	if (rpt_finish(r, f, "a data file"))
		return -EIO;
	char title[512];
	snprintf(title, sizeof(title), "COW copies by cause - %s", t->name);
	if (!(f = rpt_create(r, "%s.gp", name)))
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
	return rpt_finish(r, f, "a gnuplot script");
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
	struct plot *p = plot_add(r, name);
	if (!p)
		return -ENOMEM;
	if (t->forks <= 0) {
		snprintf(p->nodata, sizeof(p->nodata), "No data: this trace has no "
		         "forks, so there is no fork latency to show.");
		return 0;
	}
	FILE *f = rpt_create(r, "%s.dat", name);
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
	if (rpt_finish(r, f, "a data file"))
		return -EIO;
	snprintf(title, sizeof(title), "fork latency - %s (%" PRId64 " forks%s)",
	         t->name, n, nobs ? "" : "; no kernel-observed latency in this "
	         "trace");
	if (!(f = rpt_create(r, "%s.gp", name)))
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
	return rpt_finish(r, f, "a gnuplot script");
}

/* Cumulative copies and frames over trace time: one data file, two plots. */
static int plot_timelines(struct rpt *r, const struct rep_trace *t)
{
	char data[64], cname[64], fname[64], title[512];
	snprintf(data, sizeof(data), "timeline-t%" PRId64, t->id);
	snprintf(cname, sizeof(cname), "cumcopies-t%" PRId64, t->id);
	snprintf(fname, sizeof(fname), "frames-t%" PRId64, t->id);
	struct plot *pc = plot_add(r, cname);
	struct plot *pf = pc ? plot_add(r, fname) : NULL;
	if (!pc || !pf)
		return -ENOMEM;
	pc = &r->plots[r->nplots - 2];

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, "SELECT ts, events, copies, frames "
	                            "FROM samples WHERE run_id = ? ORDER BY events",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	FILE *f = rpt_create(r, "%s.dat", data);
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
	if (rpt_finish(r, f, "a data file"))
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
		         kinds[k].what, t->name);
		if (!(f = rpt_create(r, "%s.gp", name))) {
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
		if (rpt_finish(r, f, "a gnuplot script")) {
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
	struct plot *p = plot_add(r, "agreement");
	if (!p)
		return -ENOMEM;
	const struct rep_data *d = r->d;
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
	FILE *f = rpt_create(r, "agreement.dat");
	if (!f) {
		free(pols);
		return -EIO;
	}
	fputs("# % of kernel-labelled write faults whose outcome the policy "
	      "predicted.\n# policy", f);
	for (size_t i = 0; i < d->ntraces; i++)
		if (d->traces[i].labels > 0)
			fprintf(f, "  %s", d->traces[i].name);
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
	if (rpt_finish(r, f, "a data file"))
		return -EIO;
	if (!(f = rpt_create(r, "agreement.gp")))
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
		gp_str(f, d->traces[i].name);
		col++;
	}
	if (nlab > 1)
		fprintf(f, ", \\\n     'agreement.dat' using %d title 'all labelled "
		        "traces' lc rgb 'black'", col);
	fputc('\n', f);
	gp_tail(f, "agreement", 900, 480);
	return rpt_finish(r, f, "a gnuplot script");
}

int plot_write_all(struct rpt *r)
{
	int err = 0;
	for (size_t i = 0; i < r->d->ntraces && !err; i++) {
		const struct rep_trace *t = &r->d->traces[i];
		err = plot_copies(r, t);
		if (!err)
			err = plot_fork_latency(r, t);
		if (!err)
			err = plot_timelines(r, t);
	}
	return err ? err : plot_agreement(r);
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
