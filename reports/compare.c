/*
 * compare.c - the policies side by side, per trace, with deltas and ratios
 * against a baseline policy: what `cowsim compare` and `cowsim replay`
 * print (compare.h; the verbs, their options and where the runs come from
 * are cli/'s).
 *
 * The table and the markdown are one grid of strings (grid_build()) laid
 * out two ways, so that a terminal and a pull request show the same cells;
 * the grid is where human units and deltas are made.  csv and json are
 * printed straight from the rep_table, exact, and give every trace the
 * same columns, so that pandas.read_csv / read_json take them as they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/esc.h"
#include "../sim/sim.h"
#include "compare.h"
#include "rep.h"

const char *const cmp_format_names[] = { "table", "csv", "json", "markdown",
                                         "md", NULL };
const enum cmp_fmt cmp_format_of[] = { CMP_TABLE, CMP_CSV, CMP_JSON,
                                       CMP_MARKDOWN, CMP_MARKDOWN };

int cmp_check(const struct cmp_opts *o, char *err, size_t errlen)
{
	if (o->changed_only && (o->fmt == CMP_CSV || o->fmt == CMP_JSON)) {
		snprintf(err, errlen, "--changed-only is for --format table and "
		         "markdown: csv and json keep every metric, for programs");
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* units                                                               */

enum unit { U_COUNT, U_NS, U_SECONDS, U_BYTES, U_PCT };

/* The unit of a row: a metric's from the metrics list (sim/sim.h), and for
 * the rows rep.c derives or the replay adds, their own. */
static enum unit unit_of(const char *row)
{
	int m = sim_metric_find(row);
	if (m >= 0) {
		const char *u = sim_metric_unit((size_t)m);
		if (!strcmp(u, "ns"))
			return U_NS;
		if (!strcmp(u, "bytes"))
			return U_BYTES;
		return U_COUNT;
	}
	if (!strcmp(row, "replay_seconds"))
		return U_SECONDS;
	if (!strcmp(row, "agree_pct") || !strcmp(row, "cow_agree_pct"))
		return U_PCT;
	if (!strcmp(row, "memory_peak_bytes"))
		return U_BYTES;
	return U_COUNT;         /* copies, unnecessary: pages */
}

/* v with a thousands separator every three digits, with its sign when
 * sign is set ("+1,234", "-3", "+0" does not happen: deltas of 0 are "="). */
static void count_str(int64_t v, int sign, char *buf, size_t len)
{
	char d[32];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int nd = snprintf(d, sizeof(d), "%" PRIu64, u);
	size_t o = 0;

	if (v < 0 || sign)
		o += (size_t)snprintf(buf, len, "%s", v < 0 ? "-" : "+");
	for (int i = 0; i < nd && o + 2 < len; i++) {
		if (i && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o < len ? o : len - 1] = 0;
}

/* v in the largest of units[] (each step times the one before) that keeps
 * it at 1 or more, with three significant digits ("1.23 ms", "512 KiB").
 * The smallest unit shows whole numbers ("850 ns", "12 B"). */
static void scaled_str(double v, const char *const *units, size_t nunits,
                       double step, int sign, char *buf, size_t len)
{
	double a = fabs(v);
	size_t k = 0;
	while (k + 1 < nunits && a >= step) {
		a /= step;
		v /= step;
		k++;
	}
	int prec = k == 0 ? 0 : a < 10 ? 2 : a < 100 ? 1 : 0;
	snprintf(buf, len, sign ? "%+.*f %s" : "%.*f %s", prec, v, units[k]);
}

static double cell_num(const struct rep_cell *c)
{
	return c->kind == REP_INT ? (double)c->i : c->d;
}

/* A value (sign 0) or a delta (sign 1) of unit u in human units.  Counts
 * stay exact; times and sizes are rounded to three digits (csv and json
 * have them exact). */
static void human_str(enum unit u, const struct rep_cell *c, int sign,
                      char *buf, size_t len)
{
	static const char *const t[] = { "ns", "µs", "ms", "s" };
	static const char *const b[] = { "B", "KiB", "MiB", "GiB", "TiB" };

	if (c->kind == REP_NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	switch (u) {
	case U_NS:
		scaled_str(cell_num(c), t, 4, 1000, sign, buf, len);
		break;
	case U_SECONDS:
		scaled_str(cell_num(c) * 1e9, t, 4, 1000, sign, buf, len);
		break;
	case U_BYTES:
		scaled_str(cell_num(c), b, 5, 1024, sign, buf, len);
		break;
	case U_PCT:
		snprintf(buf, len, sign ? "%+.1f pp" : "%.1f%%", cell_num(c));
		break;
	case U_COUNT:
		if (c->kind == REP_INT)
			count_str(c->i, sign, buf, len);
		else
			snprintf(buf, len, sign ? "%+.4g" : "%.4g", c->d);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* deltas and changes                                                  */

static int cell_eq(const struct rep_cell *a, const struct rep_cell *b)
{
	if (a->kind != b->kind)
		return 0;
	return a->kind == REP_NULL || (a->kind == REP_INT ? a->i == b->i
	                                                  : a->d == b->d);
}

/* c - base: 0 and *out, or -1 when either is empty.  Integers stay
 * integers, so that a delta of counts is exact. */
static int cell_delta(const struct rep_cell *c, const struct rep_cell *base,
                      struct rep_cell *out)
{
	if (c->kind == REP_NULL || base->kind == REP_NULL)
		return -1;
	if (c->kind == REP_INT && base->kind == REP_INT)
		*out = (struct rep_cell){ .kind = REP_INT, .i = c->i - base->i };
	else
		*out = (struct rep_cell){ .kind = REP_REAL,
		                          .d = cell_num(c) - cell_num(base) };
	return 0;
}

/* Does row r differ between the policies (against column ref)?  What the
 * replay cost this machine (its time, the engine's memory) is not a
 * finding: it never counts. */
static int row_changed(const struct rep_table *tb, size_t r, size_t ref)
{
	if (!strcmp(tb->rows[r].name, "replay_seconds") ||
	    !strcmp(tb->rows[r].name, "memory_peak_bytes"))
		return 0;
	for (size_t c = 0; c < tb->ncols; c++)
		if (!cell_eq(rep_cell(tb, r, c), rep_cell(tb, r, ref)))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the grid: table and markdown                                        */

/*
 * Row 0 is the heading; column 0 the metric; then the baseline's value,
 * if there is a baseline, then per other policy its value and (with a
 * baseline) its delta and ratio.  Every cell is an allocated string.
 */
struct grid {
	char **cell;             /* nrows x ncols */
	size_t nrows, ncols;
	size_t changed, total;   /* rows that differ, of all the table's */
	int base;                /* baseline column of the rep_table, or -1;
	                            shown in column 1 */
};

static void grid_free(struct grid *g)
{
	for (size_t i = 0; g->cell && i < g->nrows * g->ncols; i++)
		free(g->cell[i]);
	free(g->cell);
	memset(g, 0, sizeof(*g));
}

static int grid_set(struct grid *g, size_t r, size_t c, const char *s)
{
	return (g->cell[r * g->ncols + c] = strdup(s)) ? 0 : -ENOMEM;
}

/* The policy (rep_table column) shown k-th: the baseline first, then the
 * others in their order. */
static size_t policy_at(size_t k, int base)
{
	if (base < 0)
		return k;
	return k == 0 ? (size_t)base : k - 1 + (k - 1 >= (size_t)base);
}

/* Returns 0 or -ENOMEM (g freed). */
static int grid_build(const struct rep_trace *t, const struct rep_table *tb,
                      int base, int changed_only, struct grid *g)
{
	size_t ref = base >= 0 ? (size_t)base : 0, col = 1, row = 1;
	char v[64];

	memset(g, 0, sizeof(*g));
	g->base = base;
	g->ncols = 1 + tb->ncols * (base >= 0 ? 3 : 1) - (base >= 0 ? 2 : 0);
	g->total = tb->nrows;
	for (size_t r = 0; r < tb->nrows; r++)
		g->changed += row_changed(tb, r, ref);
	g->nrows = 1 + (changed_only ? g->changed : g->total);
	g->cell = calloc(g->nrows * g->ncols, sizeof(*g->cell));
	if (!g->cell || grid_set(g, 0, 0, "metric"))
		goto oom;
	for (size_t k = 0; k < tb->ncols; k++) {
		size_t c = policy_at(k, base);
		if (grid_set(g, 0, col++, t->runs[c].policy))
			goto oom;
		if (base >= 0 && (int)c != base &&
		    (grid_set(g, 0, col++, "delta") || grid_set(g, 0, col++, "ratio")))
			goto oom;
	}
	for (size_t r = 0; r < tb->nrows; r++) {
		if (changed_only && !row_changed(tb, r, ref))
			continue;
		enum unit u = unit_of(tb->rows[r].name);
		const struct rep_cell *b = base >= 0 ? rep_cell(tb, r, ref) : NULL;
		col = 0;
		if (grid_set(g, row, col++, tb->rows[r].name))
			goto oom;
		for (size_t k = 0; k < tb->ncols; k++) {
			size_t c = policy_at(k, base);
			const struct rep_cell *x = rep_cell(tb, r, c);
			struct rep_cell dl;
			double q;
			human_str(u, x, 0, v, sizeof(v));
			if (grid_set(g, row, col++, v))
				goto oom;
			if (!b || (int)c == base)
				continue;
			/* "=" where the value is the baseline's: the eye finds
			 * what differs; no ratio where it would say nothing. */
			if (cell_delta(x, b, &dl))
				v[0] = 0;
			else if (cell_eq(x, b))
				snprintf(v, sizeof(v), "=");
			else
				human_str(u, &dl, 1, v, sizeof(v));
			if (grid_set(g, row, col++, v))
				goto oom;
			if (cell_eq(x, b) || (x->kind == REP_NULL) ||
			    b->kind == REP_NULL)
				v[0] = 0;
			else if (rep_ratio(x, b, &q))
				snprintf(v, sizeof(v), "new");
			else
				snprintf(v, sizeof(v), "%.2fx", q);
			if (grid_set(g, row, col++, v))
				goto oom;
		}
		row++;
	}
	return 0;
oom:
	grid_free(g);
	return -ENOMEM;
}

/* Columns on a terminal: UTF-8 continuation bytes take none ("µs"). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

static void hidden_note(FILE *out, const struct grid *g, int changed_only,
                        const char *fmt)
{
	if (changed_only)
		fprintf(out, fmt, g->total - g->changed,
		        g->total - g->changed == 1 ? "" : "s");
}

static int print_table(FILE *out, const struct rep_trace *t,
                       const struct grid *g, int changed_only)
{
	char sum[512];
	size_t *w = calloc(g->ncols, sizeof(*w));
	if (!w)
		return -ENOMEM;

	rep_trace_summary(t, sum, sizeof(sum));
	fprintf(out, "%s: %s\n", t->name, sum);
	if (g->base >= 0)
		fprintf(out, "deltas and ratios: each policy against %s (*)\n",
		        t->runs[g->base].policy);
	for (size_t r = 0; r < g->nrows; r++)
		for (size_t c = 0; c < g->ncols; c++) {
			size_t l = text_width(g->cell[r * g->ncols + c]);
			/* the baseline's heading gets its "*" */
			l += r == 0 && g->base >= 0 && c == 1;
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < g->nrows; r++) {
		for (size_t c = 0; c < g->ncols; c++) {
			const char *s = g->cell[r * g->ncols + c];
			int star = r == 0 && g->base >= 0 && c == 1;
			size_t l = text_width(s) + (size_t)star;
			if (c == 0) {
				fputs(s, out);
				pad(out, w[c] - l);
			} else {
				pad(out, 2 + w[c] - l);
				fprintf(out, "%s%s", s, star ? "*" : "");
			}
		}
		fputc('\n', out);
	}
	hidden_note(out, g, changed_only, "(%zu unchanged row%s hidden)\n");
	fputc('\n', out);
	free(w);
	return 0;
}

/* Text in a markdown table cell: what GitHub would read as markup or as
 * a cell boundary is backslash-escaped; a line break would end the row. */
static void md_esc(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else if (strchr("\\`*_[]<>|~#&!", *s))
			fprintf(out, "\\%c", *s);
		else
			fputc(*s, out);
	}
}

static void print_markdown(FILE *out, const struct rep_trace *t,
                           const struct grid *g, int changed_only)
{
	char sum[512];

	/* <summary> is HTML, not markdown: escaped as HTML text. */
	fputs("<details><summary>", out);
	esc_html(out, t->name);
	fprintf(out, " — %zu changed of %zu</summary>\n\n", g->changed, g->total);
	rep_trace_summary(t, sum, sizeof(sum));
	md_esc(out, sum);
	if (g->base >= 0) {
		fputs("; deltas and ratios against ", out);
		md_esc(out, t->runs[g->base].policy);
	}
	fputs("\n\n", out);
	for (size_t r = 0; r < g->nrows; r++) {
		fputc('|', out);
		for (size_t c = 0; c < g->ncols; c++) {
			const char *s = g->cell[r * g->ncols + c];
			fputc(' ', out);
			/* Metric names are identifiers: code, which also keeps
			 * their underscores from reading as emphasis. */
			if (r && c == 0) {
				fprintf(out, "`%s`", s);
			} else {
				md_esc(out, s);
				if (!r && g->base >= 0 && c == 1)
					fputs(" (baseline)", out);
			}
			fputs(" |", out);
		}
		fputc('\n', out);
		if (r == 0) {
			fputs("|---|", out);
			for (size_t c = 1; c < g->ncols; c++)
				fputs("---:|", out);
			fputc('\n', out);
		}
	}
	hidden_note(out, g, changed_only, "\n%zu unchanged row%s hidden.\n");
	fputs("\n</details>\n\n", out);
}

/* ------------------------------------------------------------------ */
/* csv and json                                                        */

/* An exact number for a program: integers whole, reals to 6 digits. */
static void num_str(const struct rep_cell *c, char *buf, size_t len)
{
	if (c->kind == REP_INT)
		snprintf(buf, len, "%" PRId64, c->i);
	else
		snprintf(buf, len, "%.6g", c->d);
}

/* The ratio (kind 'r') or delta ('d') of x to the baseline's b (NULL:
 * none) as a number in buf; returns -1 when it has none. */
static int versus(const struct rep_cell *x, const struct rep_cell *b,
                  char kind, char *buf, size_t len)
{
	struct rep_cell dl;
	double r;

	if (!b)
		return -1;
	if (kind == 'd') {
		if (cell_delta(x, b, &dl))
			return -1;
		num_str(&dl, buf, len);
	} else {
		if (rep_ratio(x, b, &r))
			return -1;
		snprintf(buf, len, "%.6g", r);
	}
	return 0;
}

/* Row k's baseline cell in tb, or NULL when there is no baseline. */
static const struct rep_cell *base_cell(const struct rep_table *tb, size_t k,
                                        int base)
{
	return base < 0 ? NULL : rep_cell(tb, k, (size_t)base);
}

/* With a baseline, every row has the ratio and delta columns (empty when
 * this trace has no run of the baseline), so that the header fits every
 * trace. */
static void print_csv(FILE *out, const struct rep_trace *t,
                      const struct rep_table *tb, int base, int ratios,
                      int header)
{
	static const char *const suffix[] = { "_ratio", "_delta" };
	char v[64];

	if (header) {
		fputs("trace,trace_id,trace_hash,format,policy,run_id,model", out);
		for (size_t k = 0; k < tb->nrows; k++)
			fprintf(out, ",%s", tb->rows[k].name);
		if (ratios) {
			fputs(",baseline", out);
			for (int s = 0; s < 2; s++)
				for (size_t k = 0; k < tb->nrows; k++)
					fprintf(out, ",%s%s", tb->rows[k].name, suffix[s]);
		}
		fputc('\n', out);
	}
	for (size_t c = 0; c < tb->ncols; c++) {
		const struct rep_run *run = &t->runs[c];
		esc_csv(out, t->name);
		fprintf(out, ",%" PRId64 ",%s,", t->id, t->hash);
		esc_csv(out, t->format);
		fputc(',', out);
		esc_csv(out, run->policy);
		fprintf(out, ",%" PRId64 ",", run->id);
		esc_csv(out, run->model);
		for (size_t k = 0; k < tb->nrows; k++)
			fprintf(out, ",%s", rep_cell_str(rep_cell(tb, k, c), v, sizeof(v)));
		if (ratios) {
			fputc(',', out);
			if (base >= 0)
				esc_csv(out, t->runs[base].policy);
			for (int s = 0; s < 2; s++)
				for (size_t k = 0; k < tb->nrows; k++)
					fprintf(out, ",%s",
					        versus(rep_cell(tb, k, c),
					               base_cell(tb, k, base), "rd"[s], v,
					               sizeof(v)) ? "" : v);
		}
		fputc('\n', out);
	}
}

static void print_json(FILE *out, const struct rep_trace *t,
                       const struct rep_table *tb, int base, int *first)
{
	static const char *const key[] = { "ratios", "deltas" };
	char v[64];

	for (size_t c = 0; c < tb->ncols; c++) {
		const struct rep_run *run = &t->runs[c];
		fputs(*first ? "  {" : ",\n  {", out);
		*first = 0;
		fputs("\"trace\": ", out);
		esc_json(out, t->name);
		fprintf(out, ", \"trace_hash\": \"%s\", \"trace_id\": %" PRId64
		        ", \"format\": ", t->hash, t->id);
		esc_json(out, t->format);
		fputs(", \"policy\": ", out);
		esc_json(out, run->policy);
		fprintf(out, ", \"run_id\": %" PRId64 ", \"model\": ", run->id);
		esc_json(out, run->model);
		for (size_t k = 0; k < tb->nrows; k++) {
			const struct rep_cell *x = rep_cell(tb, k, c);
			if (x->kind == REP_NULL)
				snprintf(v, sizeof(v), "null");
			else
				num_str(x, v, sizeof(v));
			fprintf(out, ", \"%s\": %s", tb->rows[k].name, v);
		}
		if (base >= 0) {
			fputs(", \"baseline\": ", out);
			esc_json(out, t->runs[base].policy);
			for (int s = 0; s < 2; s++) {
				fprintf(out, ", \"%s\": {", key[s]);
				for (size_t k = 0; k < tb->nrows; k++)
					fprintf(out, "%s\"%s\": %s", k ? ", " : "",
					        tb->rows[k].name,
					        versus(rep_cell(tb, k, c),
					               base_cell(tb, k, base), "rd"[s], v,
					               sizeof(v)) ? "null" : v);
				fputc('}', out);
			}
		}
		fputc('}', out);
	}
}

/* ------------------------------------------------------------------ */
/* replay's records                                                    */

/*
 * What `cowsim replay --format csv|json` has always printed, which scripts
 * (and bench/snapshot.sh, byte for byte) read: per run the trace as given,
 * every metric of the engine, replay_seconds to the microsecond and the
 * engine's memory_peak_bytes; none of compare's store ids or derived rows.
 * With a baseline, its ratios and deltas follow, as in compare's records.
 */
#define REC_EXTRA 2          /* replay_seconds, memory_peak_bytes */

static const char *rec_name(size_t k)
{
	size_t nm = sim_nmetrics();
	return k < nm ? sim_metric_name(k, NULL)
	              : k == nm ? "replay_seconds" : "memory_peak_bytes";
}

static struct rep_cell rec_cell(const struct rep_run *r, size_t k)
{
	size_t nm = sim_nmetrics();
	if (k == nm)
		return (struct rep_cell){ .kind = REP_REAL, .d = r->replay_seconds };
	return (struct rep_cell){ .kind = REP_INT,
	                          .i = k < nm ? r->m[k] : r->memory_peak_bytes };
}

static void rec_str(const struct rep_cell *c, char *buf, size_t len)
{
	if (c->kind == REP_REAL)
		snprintf(buf, len, "%.6f", c->d);
	else
		num_str(c, buf, len);
}

/* versus() for record k of run c against the baseline run's */
static int rec_versus(const struct rep_trace *t, size_t k, size_t c, int base,
                      char kind, char *buf, size_t len)
{
	struct rep_cell x = rec_cell(&t->runs[c], k), b;
	if (base < 0)
		return -1;
	b = rec_cell(&t->runs[base], k);
	return versus(&x, &b, kind, buf, len);
}

static void print_records_csv(FILE *out, const struct rep_trace *t, int base,
                              int ratios, int header)
{
	static const char *const suffix[] = { "_ratio", "_delta" };
	size_t n = sim_nmetrics() + REC_EXTRA;
	char v[64];

	if (header) {
		fputs("trace,format,policy,model", out);
		for (size_t k = 0; k < n; k++)
			fprintf(out, ",%s", rec_name(k));
		if (ratios) {
			fputs(",baseline", out);
			for (int s = 0; s < 2; s++)
				for (size_t k = 0; k < n; k++)
					fprintf(out, ",%s%s", rec_name(k), suffix[s]);
		}
		fputc('\n', out);
	}
	for (size_t c = 0; c < t->nruns; c++) {
		esc_csv(out, t->name);
		fputc(',', out);
		esc_csv(out, t->format);
		fputc(',', out);
		esc_csv(out, t->runs[c].policy);
		fputc(',', out);
		esc_csv(out, t->runs[c].model);
		for (size_t k = 0; k < n; k++) {
			struct rep_cell x = rec_cell(&t->runs[c], k);
			rec_str(&x, v, sizeof(v));
			fprintf(out, ",%s", v);
		}
		if (ratios) {
			fputc(',', out);
			if (base >= 0)
				esc_csv(out, t->runs[base].policy);
			for (int s = 0; s < 2; s++)
				for (size_t k = 0; k < n; k++)
					fprintf(out, ",%s", rec_versus(t, k, c, base, "rd"[s], v,
					                               sizeof(v)) ? "" : v);
		}
		fputc('\n', out);
	}
}

/* One object a line, as replay has always written them. */
static void print_records_json(FILE *out, const struct rep_trace *t, int base,
                               int last)
{
	static const char *const key[] = { "ratios", "deltas" };
	size_t n = sim_nmetrics() + REC_EXTRA;
	char v[64];

	for (size_t c = 0; c < t->nruns; c++) {
		fputs("  {\"trace\": ", out);
		esc_json(out, t->name);
		fputs(", \"format\": ", out);
		esc_json(out, t->format);
		fputs(", \"policy\": ", out);
		esc_json(out, t->runs[c].policy);
		fputs(", \"model\": ", out);
		esc_json(out, t->runs[c].model);
		for (size_t k = 0; k < n; k++) {
			struct rep_cell x = rec_cell(&t->runs[c], k);
			rec_str(&x, v, sizeof(v));
			fprintf(out, ", \"%s\": %s", rec_name(k), v);
		}
		if (base >= 0) {
			fputs(", \"baseline\": ", out);
			esc_json(out, t->runs[base].policy);
			for (int s = 0; s < 2; s++) {
				fprintf(out, ", \"%s\": {", key[s]);
				for (size_t k = 0; k < n; k++)
					fprintf(out, "%s\"%s\": %s", k ? ", " : "", rec_name(k),
					        rec_versus(t, k, c, base, "rd"[s], v, sizeof(v))
					                ? "null" : v);
				fputc('}', out);
			}
		}
		fprintf(out, "}%s\n", last && c + 1 == t->nruns ? "" : ",");
	}
}

int cmp_write(FILE *out, const struct rep_data *d, const struct cmp_opts *o)
{
	char err[160];
	int human = o->fmt == CMP_TABLE || o->fmt == CMP_MARKDOWN;
	int first = 1, rc = 0;

	if (cmp_check(o, err, sizeof(err)))
		return -EINVAL;
	if (o->fmt == CMP_JSON)
		fputs("[\n", out);
	for (size_t i = 0; i < d->ntraces && !rc; i++) {
		const struct rep_trace *t = &d->traces[i];
		int base = o->baseline ? rep_find_policy(t, o->baseline) : -1;
		int last = i + 1 == d->ntraces;
		struct rep_table tb;
		struct grid g;
		if (!human && o->replay_records) {
			if (o->fmt == CMP_CSV)
				print_records_csv(out, t, base, o->baseline != NULL, i == 0);
			else
				print_records_json(out, t, base, last);
			continue;
		}
		if (rep_table_build(t, human, &tb))
			return -ENOMEM;
		if (human && !(rc = grid_build(t, &tb, base, o->changed_only, &g))) {
			if (o->fmt == CMP_TABLE)
				rc = print_table(out, t, &g, o->changed_only);
			else
				print_markdown(out, t, &g, o->changed_only);
			grid_free(&g);
		} else if (o->fmt == CMP_CSV) {
			print_csv(out, t, &tb, base, o->baseline != NULL, i == 0);
		} else if (o->fmt == CMP_JSON) {
			print_json(out, t, &tb, base, &first);
		}
		rep_table_free(&tb);
	}
	if (o->fmt == CMP_JSON)
		fputs(o->replay_records ? "]\n" : "\n]\n", out);
	return rc;
}
