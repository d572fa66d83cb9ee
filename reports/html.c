/*
 * html.c - the report's index.html.  It leads with the cross-trace
 * summary, one screen: a row per trace and preset with its copies against
 * the baseline preset, its agreement with the kernel and its modeled and
 * observed median fork latency (forks only, as the fork_latency view and
 * the run's metrics: one figure whichever the reader looks at).  Then the
 * traces, and per trace a grid of the small plots plots.c draws (or why
 * there is none) with its tables folded below - the fork cost per run,
 * the fork latency percentiles, the vforks and CLONE_VM clones apart,
 * every metric - so that a section is about a screen high however many
 * traces there are.  It uses no network resource (inline CSS, relative
 * image links) and ends with a small script that records on the body what
 * the browser test (tests/report-browser.sh) checks: how many pictures
 * loaded (data-images), where the summary ends (data-summary-bottom) and
 * the tallest trace section (data-section-max), in CSS pixels.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "../lib/esc.h"
#include "../sim/sim.h"
#include "rep.h"
#include "rpt.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char css[] =
	"body{font-family:sans-serif;margin:1em auto;max-width:1420px;"
	"color:#222;padding:0 1em}\n"
	"h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px "
	"solid #ccc;padding-bottom:.2em;margin:1.2em 0 .4em}\n"
	"table{border-collapse:collapse;font-size:.85em;margin:.4em 0 .8em}\n"
	"th,td{border:1px solid #ddd;padding:.1em .5em}td.n{text-align:right;"
	"font-variant-numeric:tabular-nums}th{background:#f4f4f4}\n"
	"tr:hover td{background:#eef4fa}\n"
	"#summary tbody{border-top:2px solid #999}\n"
	"#summary td.d{font-weight:bold;color:#0b4f8a}\n"
	"#summary tr.base td{background:#f6f6f6}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fill,"
	"minmax(" STR(PLOT_W) "px,1fr));gap:.4em;align-items:start}\n"
	"figure{margin:0}img{display:block;border:1px solid #eee}\n"
	"figcaption{font-size:.75em;line-height:1.1;color:#555}\n"
	".nodata{color:#6b4a00;background:#fff6e0;border:1px solid #e8d3a0;"
	"padding:.3em .8em .3em 2em;margin:.5em 0;font-size:.85em}\n"
	".meta{color:#555;font-size:.85em;margin:.2em 0}"
	"code{background:#f4f4f4;padding:0 .2em}\n"
	"details{margin:.5em 0}summary{cursor:pointer;color:#0b4f8a}\n";

/* Record what the browser test checks; say which pictures did not load. */
static const char img_script[] =
	"<script>\n"
	"window.addEventListener('load', function () {\n"
	"  var imgs = document.images, ok = 0, b = document.body;\n"
	"  for (var i = 0; i < imgs.length; i++)\n"
	"    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
	"    else imgs[i].insertAdjacentHTML('afterend',\n"
	"      '<p class=\"nodata\">This picture did not load: ' +\n"
	"      imgs[i].getAttribute('src') + '</p>');\n"
	"  b.setAttribute('data-images', ok + '/' + imgs.length);\n"
	"  var s = document.getElementById('summary');\n"
	"  b.setAttribute('data-summary-bottom',\n"
	"    Math.round(s.getBoundingClientRect().bottom + window.scrollY));\n"
	"  var secs = document.querySelectorAll('section.trace'), max = 0;\n"
	"  for (var k = 0; k < secs.length; k++)\n"
	"    max = Math.max(max, secs[k].offsetHeight);\n"
	"  b.setAttribute('data-section-max', max);\n"
	"});\n"
	"</script>\n";

/* The figure of plot name, or when it has none, nothing: the grid stays
 * dense, and html_nodata() says below it why a panel is missing. */
static void html_figure(FILE *f, const struct rpt *r, const char *name)
{
	const struct plot *p = plot_find(r, name);
	if (!p || p->nodata[0])
		return;
	fprintf(f, "<figure id=\"%s\"%s><a href=\"%s.svg\"><img src=\"%s.png\" "
	        "alt=\"%s\" width=\"%d\" height=\"%d\"></a>\n<figcaption><a "
	        "href=\"%s.svg\">SVG</a> &middot; <a href=\"%s.gp\">gnuplot "
	        "script</a> &middot; <a href=\"%s.dat\">data</a></figcaption>"
	        "</figure>\n", name, p->attr, name, name, name, PLOT_W, PLOT_H,
	        name, name, name);
}

static void html_nodata(FILE *f, const struct rpt *r, const char *name,
                        int *open)
{
	const struct plot *p = plot_find(r, name);
	if (!p || !p->nodata[0])
		return;
	if (!*open)
		fputs("<ul class=\"nodata\">\n", f);
	*open = 1;
	fputs("<li>", f);
	esc_html(f, p->nodata);
	fputs("</li>\n", f);
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

/* A latency in ns as us, or an empty cell for 0 (none measured). */
static void ns_cell(FILE *f, int64_t ns)
{
	if (ns > 0)
		fprintf(f, "<td class=\"n\">%.1f</td>", (double)ns / 1e3);
	else
		fputs("<td class=\"n\"></td>", f);
}

static int64_t metric(const struct rep_run *run, const char *name);

/*
 * The fork view's table: what fork costs under each run, one row a run,
 * with what sets the run apart (its preset, its cost preset, and the
 * config keys outside [policy] and [switches] - cost parameters, a fork
 * mode - whose values differ between the trace's runs), its modeled fork
 * latency, the kernel's, and the page-table memory its forks allocated
 * and its peak.  The figures are the run's metrics (what compare prints),
 * forks only as every fork figure.  Returns 0 or -EIO.
 */
static int html_fork_design(struct rpt *r, FILE *f, const struct rep_trace *t)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db,
		"SELECT group_concat(c.key || ' = ' || c.value, ', ') FROM "
		"run_config c WHERE c.run_id = ?1 AND (c.section NOT IN ('policy', "
		"'switches') OR c.key = 'fork_mode') AND EXISTS (SELECT 1 FROM "
		"run_config x JOIN latest_runs l ON l.id = x.run_id WHERE "
		"l.trace_id = ?2 AND x.section = c.section AND x.key = c.key AND "
		"x.value IS NOT c.value)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	fputs("<table class=\"forkdesign\"><tr><th rowspan=\"2\">run</th>"
	      "<th rowspan=\"2\">cost preset</th><th rowspan=\"2\">config that "
	      "differs</th><th rowspan=\"2\">forks</th><th colspan=\"2\">modeled "
	      "(us)</th><th colspan=\"2\">kernel (us)</th><th rowspan=\"2\">"
	      "modeled / kernel<br>p50</th><th colspan=\"2\">page tables (KiB)"
	      "</th></tr>\n<tr><th>p50</th><th>p99</th><th>p50</th><th>p99</th>"
	      "<th>allocated by forks</th><th>peak</th></tr>\n", f);
	for (size_t i = 0; i < t->nruns; i++) {
		const struct rep_run *run = &t->runs[i];
		int64_t m50 = metric(run, "fork_latency_ns_p50"),
		        o50 = metric(run, "observed_fork_latency_ns_p50");
		sqlite3_bind_int64(st, 1, run->id);
		sqlite3_bind_int64(st, 2, t->id);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			goto fail;
		const char *diff = (const char *)sqlite3_column_text(st, 0);
		fprintf(f, "<tr class=\"forkrun\" data-run=\"%" PRId64 "\" "
		        "data-observed-p50=\"%" PRId64 "\"><td>", run->id, o50);
		esc_html(f, run->policy);
		fputs("</td><td>", f);
		sqlite3_stmt *cp;
		if (sqlite3_prepare_v2(r->db, "SELECT cost_preset FROM runs WHERE "
		                       "id = ?", -1, &cp, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(cp, 1, run->id);
			if (sqlite3_step(cp) == SQLITE_ROW &&
			    sqlite3_column_text(cp, 0))
				esc_html(f, (const char *)sqlite3_column_text(cp, 0));
		}
		sqlite3_finalize(cp);
		fputs("</td><td>", f);
		esc_html(f, diff ? diff : "");
		fprintf(f, "</td><td class=\"n\">%" PRId64 "</td>",
		        metric(run, "forks") - metric(run, "vforks") -
		        metric(run, "vm_clones"));
		ns_cell(f, m50);
		ns_cell(f, metric(run, "fork_latency_ns_p99"));
		ns_cell(f, o50);
		ns_cell(f, metric(run, "observed_fork_latency_ns_p99"));
		if (m50 > 0 && o50 > 0)
			fprintf(f, "<td class=\"n\">&times;%.2f</td>",
			        (double)m50 / (double)o50);
		else
			fputs("<td class=\"n\"></td>", f);
		fprintf(f, "<td class=\"n\">%" PRId64 "</td><td class=\"n\">%"
		        PRId64 "</td></tr>\n", metric(run, "pt_pages_copied") * 4,
		        metric(run, "peak_pt_pages") * 4);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	fputs("</table>\n", f);
	return 0;
fail:
	rpt_err(r, "%s: reading run configs: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

/*
 * The clones that are not forks, apart (clone_latency), the trace's
 * (its first run's; the kernel's times are the same in every run): a
 * vfork's time is its child's run until exec, nothing a fork design
 * changes, and a CLONE_VM clone copies nothing.  Nothing when the trace
 * has none.  Returns 0 or -EIO.
 */
static int html_other_clones(struct rpt *r, FILE *f, const struct rep_trace *t)
{
	sqlite3_stmt *st;
	int rows = 0;
	int rc = sqlite3_prepare_v2(r->db, "SELECT kind, clones, observed, "
	                            "observed_p50, observed_p99, observed_max "
	                            "FROM clone_latency WHERE run_id = ? AND kind "
	                            "!= 'fork'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, t->runs[0].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows++)
			fputs("<p class=\"meta\">Not in any fork figure: <b>vfork</b>s "
			      "(CLONE_VFORK: the parent waits until the child execs or "
			      "exits, so its time is the child's run, not a copy) and "
			      "<b>clone-vm</b> (CLONE_VM: the address space is shared, "
			      "nothing is copied). Their kernel-observed times:</p>\n"
			      "<table class=\"otherclones\"><tr><th>kind</th><th>clones"
			      "</th><th>observed</th><th>p50 (us)</th><th>p99 (us)</th>"
			      "<th>max (us)</th></tr>\n", f);
		fputs("<tr><td>", f);
		esc_html(f, (const char *)sqlite3_column_text(st, 0));
		fputs("</td>", f);
		html_num(f, st, 1, 1);
		html_num(f, st, 2, 1);
		for (int c = 3; c <= 5; c++)
			html_num(f, st, c, 1e3);
		fputs("</tr>\n", f);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (rows)
		fputs("</table>\n", f);
	return 0;
fail:
	rpt_err(r, "%s: reading clone latencies: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

static int html_agreement_table(struct rpt *r, FILE *f)
{
	sqlite3_stmt *st;
	/* The faults that matter for copy-on-write lead: first touches of
	 * fresh memory, right under every model, would flatter them all. */
	int rc = sqlite3_prepare_v2(r->db, "SELECT policy, traces, cow_labelled, "
	                            "cow_agree, cow_agree_pct, labelled, "
	                            "agree_pct FROM agreement_by_policy",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	int rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows++)
			fputs("<table><tr><th>policy</th><th>labelled traces</th>"
			      "<th>COW faults labelled</th><th>agree</th><th>%</th>"
			      "<th>all labelled faults</th><th>%</th></tr>\n", f);
		fputs("<tr><td>", f);
		esc_html(f, (const char *)sqlite3_column_text(st, 0));
		fputs("</td>", f);
		for (int c = 1; c <= 6; c++)
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

static int64_t metric(const struct rep_run *run, const char *name)
{
	int i = sim_metric_find(name);
	return i < 0 || run->m_null[i] ? 0 : run->m[i];
}

static int64_t copies(const struct rep_run *run)
{
	return metric(run, "copies_fault") + metric(run, "copies_file") +
	       metric(run, "copies_fork");
}

/* A latency in ns from column c as us, or an empty cell. */
static void us_cell(FILE *f, sqlite3_stmt *st, int c, int rows)
{
	fprintf(f, "<td class=\"n\"%s", rows > 1 ? "" : ">");
	if (rows > 1)
		fprintf(f, " rowspan=\"%d\">", rows);
	if (st && sqlite3_column_type(st, c) != SQLITE_NULL)
		fprintf(f, "%.1f", sqlite3_column_double(st, c) / 1e3);
	fputs("</td>", f);
}

/*
 * The summary: a row per trace and preset, the trace's rows in one tbody.
 * Copies are shown against the baseline's on the same trace ("=", or the
 * ratio and the difference in pages), bold where they differ, as is an
 * agreement that differs from the baseline's; the
 * observed fork latency is the trace's, one cell for all its rows.
 */
static int html_summary(struct rpt *r, FILE *f)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT dur_p50, observed_p50 FROM "
	                       "fork_latency WHERE run_id = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		rpt_err(r, "%s: reading fork latencies: %s", r->dbpath,
		        sqlite3_errmsg(r->db));
		return -EIO;
	}
	fputs("<table id=\"summary\"><thead><tr><th rowspan=\"2\">trace</th>"
	      "<th rowspan=\"2\">preset</th><th colspan=\"3\">COW copies (pages)"
	      "</th><th rowspan=\"2\">agreement<br>with kernel</th><th colspan="
	      "\"2\" title=\"forks only: no vfork (its time is the child's run until "
	      "exec) and no CLONE_VM clone\">fork p50 (us)</th></tr>\n<tr><th>all"
	      "</th><th>vs ", f);
	esc_html(f, r->baseline ? r->baseline : "baseline");
	fputs("</th><th>unnecessary</th><th>modeled</th><th>observed</th></tr>"
	      "</thead>\n", f);
	for (size_t i = 0; i < r->d->ntraces; i++) {
		const struct rep_trace *t = &r->d->traces[i];
		int b = r->baseline ? rep_find_policy(t, r->baseline) : -1;
		int64_t base = b >= 0 ? copies(&t->runs[b]) : 0;
		fputs("<tbody>\n", f);
		for (size_t k = 0; k < t->nruns; k++) {
			const struct rep_run *run = &t->runs[k];
			int64_t c = copies(run), l = metric(run, "labelled");
			int have = 0;
			sqlite3_bind_int64(st, 1, run->id);
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				have = 1;
			else if (rc != SQLITE_DONE)
				goto fail;
			fprintf(f, "<tr class=\"sumrow%s\" data-trace=\"",
			        (int)k == b ? " base" : "");
			esc_html(f, t->name);
			fputs("\" data-preset=\"", f);
			esc_html(f, run->policy);
			fputs("\">", f);
			if (!k) {
				fprintf(f, "<td rowspan=\"%zu\"><a href=\"#t%" PRId64 "\">",
				        t->nruns, t->id);
				esc_html(f, t->name);
				fputs("</a></td>", f);
			}
			fputs("<td>", f);
			esc_html(f, run->policy);
			fprintf(f, "</td><td class=\"n\">%" PRId64 "</td>", c);
			if (b < 0)
				fputs("<td class=\"n\" title=\"no run of the baseline on "
				      "this trace\"></td>", f);
			else if ((int)k == b)
				fputs("<td class=\"n\">baseline</td>", f);
			else if (c == base)
				fputs("<td class=\"n\">=</td>", f);
			else if (base)
				fprintf(f, "<td class=\"n d\">&times;%.3f (%+" PRId64 ")</td>",
				        (double)c / (double)base, c - base);
			else
				fprintf(f, "<td class=\"n d\">%+" PRId64 "</td>", c - base);
			fprintf(f, "<td class=\"n\">%" PRId64 "</td>",
			        metric(run, "unnecessary_copies") +
			        metric(run, "unnecessary_fork_copies"));
			if (l > 0)
				fprintf(f, "<td class=\"n%s\">%.2f%%</td>",
				        b >= 0 && (int)k != b &&
				        metric(run, "agree") * metric(&t->runs[b], "labelled")
				        != metric(&t->runs[b], "agree") * l ? " d" : "",
				        100.0 * (double)metric(run, "agree") / (double)l);
			else
				fputs("<td class=\"n\" title=\"no kernel-observed outcomes in "
				      "this trace\"></td>", f);
			us_cell(f, have ? st : NULL, 0, 1);
			if (!k)
				us_cell(f, have ? st : NULL, 1, (int)t->nruns);
			fputs("</tr>\n", f);
			sqlite3_reset(st);
		}
		fputs("</tbody>\n", f);
	}
	fputs("</table>\n", f);
	sqlite3_finalize(st);
	return 0;
fail:
	rpt_err(r, "%s: reading fork latencies: %s", r->dbpath,
	        sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return -EIO;
}

static void html_traces(const struct rpt *r, FILE *f)
{
	fputs("<table><tr><th>#</th><th>trace</th><th>format</th><th>events</th>"
	      "<th>processes</th><th title=\"every process creation: forks, "
	      "vforks and CLONE_VM clones\">clones</th><th>write faults</th>"
	      "<th>labelled"
	      "</th><th>duration (s)</th><th>dropped</th><th>presets</th><th>hash"
	      "</th></tr>\n", f);
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
}

/* A trace's section: its grid of plots, its tables folded below. */
static int html_trace(struct rpt *r, FILE *f, const struct rep_trace *t)
{
	static const char *const panels[] = {
		"copies", "zerofill", "delta", "agree", "disagree", "forklat",
		"forksize", "forkfit", "forkdesign", "cumcopies", "frames",
	};
	char sum[512], name[64];
	struct rep_table tb;
	int rc, open = 0;

	fprintf(f, "<section class=\"trace\" id=\"t%" PRId64 "\"><h2>", t->id);
	esc_html(f, t->name);
	fputs("</h2>\n<p class=\"meta\">", f);
	rep_trace_summary(t, sum, sizeof(sum));
	esc_html(f, sum);
	fputs(" &middot; <code>", f);
	esc_html(f, t->path);
	fputs("</code></p>\n<div class=\"grid\">\n", f);
	for (size_t k = 0; k < sizeof(panels) / sizeof(panels[0]); k++) {
		snprintf(name, sizeof(name), "%s-t%" PRId64, panels[k], t->id);
		html_figure(f, r, name);
	}
	fputs("</div>\n", f);
	for (size_t k = 0; k < sizeof(panels) / sizeof(panels[0]); k++) {
		snprintf(name, sizeof(name), "%s-t%" PRId64, panels[k], t->id);
		html_nodata(f, r, name, &open);
	}
	fputs(open ? "</ul>\n<details>" : "<details>", f);
	fputs("<summary>Fork cost per run, fork latency percentiles and every "
	      "metric, side by side</summary>\n", f);
	int64_t forks = 0;
	for (size_t i = 0; i < t->nruns; i++)
		forks += metric(&t->runs[i], "forks") -
		         metric(&t->runs[i], "vforks") -
		         metric(&t->runs[i], "vm_clones");
	if (forks > 0 && (rc = html_fork_design(r, f, t)))
		return rc;
	if (t->forks > 0 && ((rc = html_fork_table(r, f, t)) ||
	                     (rc = html_other_clones(r, f, t))))
		return rc;
	fputs("<p class=\"meta\">Rows that are zero under every preset are left "
	      "out; hover a metric for what it counts. <code>cowsim compare</code> "
	      "prints the same.</p>\n", f);
	if (rep_table_build(t, 1, &tb)) {
		rpt_err(r, "out of memory");
		return -ENOMEM;
	}
	html_compare(f, t, &tb);
	rep_table_free(&tb);
	fputs("</details></section>\n", f);
	return 0;
}

int html_write_index(struct rpt *r)
{
	FILE *f = rpt_create(r, "index.html");
	char when[64];
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
	fprintf(f, "</code>, %s: each preset's latest run on each trace, "
	        "measured against <b>", when);
	esc_html(f, r->baseline ? r->baseline : "(none)");
	fputs("</b> (<code>--baseline</code> chooses). Agreement: the share of "
	      "the write faults whose outcome the kernel's trace shows (copy, "
	      "reuse, zero-fill) that the preset predicted.</p>\n", f);
	if ((rc = html_summary(r, f)))
		goto out;
	fputs("<h2>Traces</h2>\n", f);
	html_traces(r, f);
	fputs("<details><summary>Agreement with the kernel per preset, over all "
	      "labelled traces</summary>\n", f);
	if ((rc = html_agreement_table(r, f)))
		goto out;
	fputs("</details>\n", f);
	for (size_t i = 0; i < r->d->ntraces; i++)
		if ((rc = html_trace(r, f, &r->d->traces[i])))
			goto out;
	fputs(img_script, f);
	fputs("</body></html>\n", f);
out:
	if (rc) {
		fclose(f);
		return rc;
	}
	return rpt_finish(r, f, "index.html");
}
