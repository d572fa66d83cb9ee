/*
 * cmd_compare.c - `cowsim compare`: the stored runs side by side, from the
 * results store (reports/compare.h writes the tables; this file reads the
 * options, the store, and checks the baseline exists).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../reports/compare.h"
#include "../reports/rep.h"
#include "../reports/store.h"

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
		CLI_OPT_DB,
		CLI_OPT_TRACE,
		CLI_OPT_POLICY,
		{ "baseline", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common co;
	const char *baseline = NULL;
	enum cmp_fmt fmt = CMP_TABLE;
	struct store *s = NULL;
	struct rep_data d = { 0 };
	char *obuf = NULL;
	size_t olen = 0;
	int c, taken, rc = 0;

	cli_common_init(&co);
	while ((c = getopt_long(argc, argv, "D:t:p:b:f:h", opts, NULL)) != -1) {
		if ((taken = cli_common_opt(&co, c, optarg)) < 0) {
			rc = 2;
			goto done;
		}
		if (taken)
			continue;
		switch (c) {
		case 'b': baseline = optarg; break;
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
				rc = cli_die("--format must be table, csv, json or "
				             "markdown");
				goto done;
			}
			break;
		case 'h': fputs(compare_usage, stdout); goto done;
		default: fputs(compare_usage, stderr); rc = 2; goto done;
		}
	}
	if (optind < argc) {
		rc = cli_die("compare: unexpected argument '%s' (traces are "
		             "chosen with --trace)", argv[optind]);
		goto done;
	}
	if ((rc = cli_open_store(co.dbpath, 0, &s)) ||
	    (rc = cli_load_runs(&co, s, &d)))
		goto done;
	if (baseline) {
		int found = 0;
		for (size_t i = 0; i < d.ntraces; i++)
			found |= rep_find_policy(&d.traces[i], baseline) >= 0;
		if (!found) {
			rc = cli_die("--baseline %s: no stored run of that policy on "
			             "these traces (see `cowsim compare` for the "
			             "stored ones)", baseline);
			goto done;
		}
		for (size_t i = 0; i < d.ntraces; i++)
			if (rep_find_policy(&d.traces[i], baseline) < 0)
				fprintf(stderr, "cowsim: %s has no run of %s: no ratios "
				        "for it\n", d.traces[i].name, baseline);
	}

	/* Built whole in memory, written only when complete. */
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		rc = cli_die("out of memory");
		goto done;
	}
	if (cmp_write(out, &d, fmt, baseline))
		rc = cli_die("out of memory");
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
done:
	free(obuf);
	rep_free(&d);
	store_close(s);
	cli_common_free(&co);
	return rc;
}
