/*
 * rpt.h - what the parts of `cowsim report` share, inside reports/ only
 * (the API is report.h): the report being built, and the list of its
 * plots.  report.c makes the folder and runs the steps, plots.c writes the
 * gnuplot data and scripts and draws them, html.c writes the page.
 *
 * Lifecycle, within report_write(): plot_write_all() adds every plot to
 * r->plots, each with its NAME.dat and NAME.gp or with the sentence that
 * says why it has none; plot_draw() runs gnuplot on each that has data;
 * html_write_index() writes the page that links them.
 *
 * Errors: 0 or a negative errno, with the message in r->err.
 */
#ifndef COWSIM_RPT_H
#define COWSIM_RPT_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

struct rep_data;

/* Every plot's size in pixels: panels of a grid, drawn at the size the
 * page shows them. */
#define PLOT_W 440
#define PLOT_H 300

/* One picture of the page, or the reason there is none. */
struct plot {
	char name[64];           /* file stem: NAME.gp, .dat, .png, .svg */
	char nodata[256];        /* non-empty: no plot, say this instead */
	char attr[96];           /* HTML attributes for its figure (what the
	                            browser test checks: the axis range) */
};

struct rpt {
	sqlite3 *db;             /* the store the runs came from: the plots
	                            read forks, samples and markers there */
	const char *dbpath;
	char dir[PATH_MAX];      /* the temporary folder being filled */
	const struct rep_data *d;
	const char *baseline;    /* the preset the others are measured
	                            against; NULL when nothing is loaded */
	struct plot *plots;
	size_t nplots, capplots;
	char err[1024];
};

/* report.c: set r->err (a long path is cut, not a bug). */
void rpt_err(struct rpt *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Create the file named by fmt in r->dir; NULL with r->err set. */
FILE *rpt_create(struct rpt *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Close f, written as `what`: 0, or -EIO (disk full?) with r->err set. */
int rpt_finish(struct rpt *r, FILE *f, const char *what);

/* plots.c */
int plot_write_all(struct rpt *r);
/* The plot named name, or NULL. */
const struct plot *plot_find(const struct rpt *r, const char *name);
/* gnuplot on PATH, its path in out: 0 or -ENOENT. */
int plot_find_gnuplot(char *out, size_t len);
/* Run `gnuplot NAME.gp` in r->dir; its messages go to gnuplot.log there
 * (removed on success, quoted in r->err on failure).  0 or -EIO. */
int plot_draw(struct rpt *r, const char *gnuplot, const char *name);

/* html.c: write r->dir/index.html. */
int html_write_index(struct rpt *r);

#endif
