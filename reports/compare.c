/*
 * compare.c - `cowsim compare`: the policies side by side, per trace, from
 * the results store, with ratios against a baseline policy.
 *
 * The table format is for people (metric rows, policy columns, aligned,
 * rows that are zero everywhere left out); csv and json are for programs
 * (one record per trace and policy, every metric, the same columns for
 * every trace, so pandas.read_csv / read_json take them as they are);
 * markdown is for pasting into a review or a mailing-list post.  Output is
 * built in memory and written only when complete.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "../lib/esc.h"
#include "rep.h"
#include "store.h"

enum cmp_fmt { CMP_TABLE, CMP_CSV, CMP_JSON, CMP_MARKDOWN };

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
	fprintf(out, "%s: %s\n", t->label, sum);
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
	fprintf(out, "### %s\n\n%s", t->label, sum);
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

static const char compare_usage[] =
	"usage: cowsim compare [--db FILE] [--trace T]... [--policy P[,P...]]\n"
	"                      [--baseline POLICY]\n"
	"                      [--format table|csv|json|markdown]\n"
	"\n"
	"Show the policies side by side for each stored trace (or the traces\n"
	"named by --trace: a name, a path, the trace file itself wherever it now\n"
	"is, a stored id, or a hash prefix), from the results database --db\n"
	"(default cowsim.db).  Each policy's latest run is shown.  --baseline\n"
	"adds each policy's ratio to the baseline's value.  The table leaves out\n"
	"metrics that are zero under every policy; csv and json give every\n"
	"metric, one record per trace and policy.\n"
	"\n"
	"examples:\n"
	"  cowsim compare\n"
	"  cowsim compare --db results.db --trace cowknown.dat --baseline linux-6.12\n"
	"  cowsim compare --format csv > runs.csv\n";

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "trace", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dbpath = STORE_DEFAULT_DB, *baseline = NULL, *policy = NULL;
	const char **sel = NULL;
	size_t nsel = 0;
	enum cmp_fmt fmt = CMP_TABLE;
	struct store *s = NULL;
	struct rep_data d = { 0 };
	char err[1024];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "D:t:p:b:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dbpath = optarg; break;
		case 'p': policy = optarg; break;
		case 'b': baseline = optarg; break;
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
		case 'f':
			if (!strcmp(optarg, "table"))
				fmt = CMP_TABLE;
			else if (!strcmp(optarg, "csv"))
				fmt = CMP_CSV;
			else if (!strcmp(optarg, "json"))
				fmt = CMP_JSON;
			else if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md"))
				fmt = CMP_MARKDOWN;
			else {
				free(sel);
				return cli_die("--format must be table, csv, json or "
				               "markdown");
			}
			break;
		case 'h': fputs(compare_usage, stdout); free(sel); return 0;
		default: fputs(compare_usage, stderr); free(sel); return 2;
		}
	}
	if (optind < argc) {
		free(sel);
		return cli_die("compare: unexpected argument '%s' (traces are "
		               "chosen with --trace)", argv[optind]);
	}
	if (store_open(dbpath, 0, &s, err, sizeof(err))) {
		free(sel);
		return cli_die("%s", err);
	}
	if (s->version && s->version < STORE_SCHEMA_VERSION)
		fprintf(stderr, "cowsim: %s: migrated from schema version %d to %d\n",
		        dbpath, s->version, STORE_SCHEMA_VERSION);
	if (rep_load(store_db(s), sel, nsel, policy, &d, err, sizeof(err))) {
		rc = cli_die("%s: %s", dbpath, err);
		goto out;
	}
	if (baseline) {
		int found = 0;
		for (size_t i = 0; i < d.ntraces; i++)
			found |= rep_find_policy(&d.traces[i], baseline) >= 0;
		if (!found) {
			rc = cli_die("--baseline %s: no stored run of that policy on "
			             "these traces (see `cowsim compare` for the "
			             "stored ones)", baseline);
			goto out;
		}
	}

	char *obuf = NULL;
	size_t olen = 0;
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		rc = cli_die("out of memory");
		goto out;
	}
	int first = 1;
	if (fmt == CMP_JSON)
		fputs("[\n", out);
	for (size_t i = 0; i < d.ntraces && !rc; i++) {
		const struct rep_trace *t = &d.traces[i];
		struct rep_table tb;
		int base = baseline ? rep_find_policy(t, baseline) : -1;
		if (baseline && base < 0)
			fprintf(stderr, "cowsim: %s has no run of %s: no ratios for "
			        "it\n", t->name, baseline);
		if (rep_table_build(t, fmt == CMP_TABLE || fmt == CMP_MARKDOWN,
		                    &tb)) {
			rc = cli_die("out of memory");
			break;
		}
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
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
	free(obuf);
out:
	rep_free(&d);
	store_close(s);
	free(sel);
	return rc;
}
