/*
 * html.c - the report's index.html: the traces, the plots (or why there is
 * none), the fork latency and agreement tables the store's views give, and
 * each trace's side-by-side table.  It uses no network resource (inline
 * CSS, relative image links) and ends with a small script that records, in
 * the body's data-images attribute, how many pictures loaded: the browser
 * test (tests/report-browser.sh) reads it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "../lib/esc.h"
#include "rep.h"
#include "rpt.h"

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
	const struct plot *p = plot_find(r, name);
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

int html_write_index(struct rpt *r)
{
	FILE *f = rpt_create(r, "index.html");
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
	for (size_t i = 0; i < r->d->ntraces; i++) {
		const struct rep_trace *t = &r->d->traces[i];
		fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td><a href=\"#t%"
		        PRId64 "\">", t->id, t->id);
		esc_html(f, t->name);
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

	for (size_t i = 0; i < r->d->ntraces; i++) {
		const struct rep_trace *t = &r->d->traces[i];
		struct rep_table tb;
		char name[64];
		fprintf(f, "<h2 id=\"t%" PRId64 "\">", t->id);
		esc_html(f, t->name);
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
	return rpt_finish(r, f, "index.html");
}
