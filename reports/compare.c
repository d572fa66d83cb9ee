/*
 * compare.c - the policies side by side, per trace, with ratios against a
 * baseline policy: what `cowsim compare` prints (compare.h; the verb, its
 * options and the store it reads are cli/cmd_compare.c's).
 *
 * One printer per format (compare.h says who each is for): the table's
 * columns are as wide as their widest cell or heading; csv and json give
 * every trace the same columns, so that pandas.read_csv / read_json take
 * them as they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/esc.h"
#include "compare.h"
#include "rep.h"

static void ratio_str(const struct rep_cell *c, const struct rep_cell *b,
                      char *buf, size_t len)
{
	double r;
	/* "=" where the value is the baseline's: the eye finds what differs. */
	if (rep_ratio(c, b, &r))
		snprintf(buf, len, "-");
	else if (r == 1.0)
		snprintf(buf, len, "=");
	else
		snprintf(buf, len, "%.2fx", r);
}

static void print_table(FILE *out, const struct rep_trace *t,
                        const struct rep_table *tb, int base)
{
	char sum[512], v[64], rt[32];
	size_t nc = tb->ncols, w0 = 6;
	size_t *vw = calloc(nc ? nc : 1, sizeof(*vw));
	size_t *rw = calloc(nc ? nc : 1, sizeof(*rw));
	if (!vw || !rw)
		goto out;

	rep_trace_summary(t, sum, sizeof(sum));
	fprintf(out, "%s: %s\n", t->name, sum);
	if (base >= 0)
		fprintf(out, "ratios: each policy / %s\n", t->runs[base].policy);
	for (size_t r = 0; r < tb->nrows; r++) {
		if (strlen(tb->rows[r].name) > w0)
			w0 = strlen(tb->rows[r].name);
		for (size_t c = 0; c < nc; c++) {
			size_t l = strlen(rep_cell_str(rep_cell(tb, r, c), v, sizeof(v)));
			if (l > vw[c])
				vw[c] = l;
			if (base >= 0 && (int)c != base) {
				ratio_str(rep_cell(tb, r, c), rep_cell(tb, r, (size_t)base),
				          rt, sizeof(rt));
				if (strlen(rt) > rw[c])
					rw[c] = strlen(rt);
			}
		}
	}
	for (size_t c = 0; c < nc; c++) {
		size_t cell = vw[c] + (rw[c] ? rw[c] + 1 : 0);
		size_t h = strlen(t->runs[c].policy) + ((int)c == base ? 1 : 0);
		if (h > cell)
			vw[c] += h - cell;
	}
	fprintf(out, "%-*s", (int)w0, "");
	for (size_t c = 0; c < nc; c++) {
		char h[96];
		snprintf(h, sizeof(h), "%s%s", t->runs[c].policy,
		         (int)c == base ? "*" : "");
		fprintf(out, "  %*s", (int)(vw[c] + (rw[c] ? rw[c] + 1 : 0)), h);
	}
	fputc('\n', out);
	for (size_t r = 0; r < tb->nrows; r++) {
		fprintf(out, "%-*s", (int)w0, tb->rows[r].name);
		for (size_t c = 0; c < nc; c++) {
			fprintf(out, "  %*s", (int)vw[c],
			        rep_cell_str(rep_cell(tb, r, c), v, sizeof(v)));
			if (rw[c]) {
				ratio_str(rep_cell(tb, r, c), rep_cell(tb, r, (size_t)base),
				          rt, sizeof(rt));
				fprintf(out, " %*s", (int)rw[c], rt);
			}
		}
		fputc('\n', out);
	}
	if (base >= 0)
		fprintf(out, "(* baseline)\n");
	fputc('\n', out);
out:
	free(vw);
	free(rw);
}

static void print_markdown(FILE *out, const struct rep_trace *t,
                           const struct rep_table *tb, int base)
{
	char sum[512], v[64], rt[32];

	rep_trace_summary(t, sum, sizeof(sum));
	fprintf(out, "### %s\n\n%s", t->name, sum);
	if (base >= 0)
		fprintf(out, "; ratios against %s", t->runs[base].policy);
	fputs("\n\n| metric |", out);
	for (size_t c = 0; c < tb->ncols; c++)
		fprintf(out, " %s%s |", t->runs[c].policy,
		        (int)c == base ? " (baseline)" : "");
	fputs("\n|---|", out);
	for (size_t c = 0; c < tb->ncols; c++)
		fputs("---:|", out);
	fputc('\n', out);
	for (size_t r = 0; r < tb->nrows; r++) {
		fprintf(out, "| %s |", tb->rows[r].name);
		for (size_t c = 0; c < tb->ncols; c++) {
			fprintf(out, " %s", rep_cell_str(rep_cell(tb, r, c), v, sizeof(v)));
			if (base >= 0 && (int)c != base) {
				ratio_str(rep_cell(tb, r, c), rep_cell(tb, r, (size_t)base),
				          rt, sizeof(rt));
				fprintf(out, " (%s)", rt);
			}
			fputs(" |", out);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* With ratios, every row has the ratio columns (empty when this trace has
 * no run of the baseline), so that the header fits every trace. */
static void print_csv(FILE *out, const struct rep_trace *t,
                      const struct rep_table *tb, int base, int ratios,
                      int header)
{
	char v[64];
	double r;

	if (header) {
		fputs("trace,trace_id,trace_hash,format,policy,run_id,model", out);
		for (size_t k = 0; k < tb->nrows; k++)
			fprintf(out, ",%s", tb->rows[k].name);
		if (ratios) {
			fputs(",baseline", out);
			for (size_t k = 0; k < tb->nrows; k++)
				fprintf(out, ",%s_ratio", tb->rows[k].name);
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
			for (size_t k = 0; k < tb->nrows; k++) {
				if (base < 0 ||
				    rep_ratio(rep_cell(tb, k, c), rep_cell(tb, k, (size_t)base),
				              &r))
					fputc(',', out);
				else
					fprintf(out, ",%.6g", r);
			}
		}
		fputc('\n', out);
	}
}

static void json_cell(FILE *out, const struct rep_cell *c)
{
	switch (c->kind) {
	case REP_INT: fprintf(out, "%" PRId64, c->i); break;
	case REP_REAL: fprintf(out, "%.6g", c->d); break;
	default: fputs("null", out); break;
	}
}

static void print_json(FILE *out, const struct rep_trace *t,
                       const struct rep_table *tb, int base, int *first)
{
	double r;

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
			fprintf(out, ", \"%s\": ", tb->rows[k].name);
			json_cell(out, rep_cell(tb, k, c));
		}
		if (base >= 0) {
			fputs(", \"baseline\": ", out);
			esc_json(out, t->runs[base].policy);
			fputs(", \"ratios\": {", out);
			for (size_t k = 0; k < tb->nrows; k++) {
				fprintf(out, "%s\"%s\": ", k ? ", " : "", tb->rows[k].name);
				if (rep_ratio(rep_cell(tb, k, c), rep_cell(tb, k, (size_t)base),
				              &r))
					fputs("null", out);
				else
					fprintf(out, "%.6g", r);
			}
			fputc('}', out);
		}
		fputc('}', out);
	}
}

int cmp_write(FILE *out, const struct rep_data *d, enum cmp_fmt fmt,
              const char *baseline)
{
	int first = 1;

	if (fmt == CMP_JSON)
		fputs("[\n", out);
	for (size_t i = 0; i < d->ntraces; i++) {
		const struct rep_trace *t = &d->traces[i];
		struct rep_table tb;
		int base = baseline ? rep_find_policy(t, baseline) : -1;
		if (rep_table_build(t, fmt == CMP_TABLE || fmt == CMP_MARKDOWN,
		                    &tb))
			return -ENOMEM;
		switch (fmt) {
		case CMP_TABLE: print_table(out, t, &tb, base); break;
		case CMP_MARKDOWN: print_markdown(out, t, &tb, base); break;
		case CMP_CSV:
			print_csv(out, t, &tb, base, baseline != NULL, i == 0);
			break;
		case CMP_JSON: print_json(out, t, &tb, base, &first); break;
		}
		rep_table_free(&tb);
	}
	if (fmt == CMP_JSON)
		fputs("\n]\n", out);
	return 0;
}
