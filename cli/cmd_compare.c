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
#include "../lib/suggest.h"
#include "../reports/compare.h"
#include "../reports/rep.h"
#include "../reports/store.h"

static const char compare_usage[] =
	"usage: cowsim compare [-D FILE] [-t TRACE]... [-p P[,P...]]\n"
	"                      [-b POLICY] [--changed-only]\n"
	"                      [-f table|csv|json|markdown]\n"
	"\n"
	"Show the policies side by side for each stored trace (or the traces\n"
	"named by --trace: a name, a path, the trace file itself wherever it now\n"
	"is, a stored id, or a hash prefix), from the results database --db\n"
	"(default cowsim.db).  Each policy's latest run is shown.  --baseline\n"
	"adds, next to each other policy's value, its difference to the\n"
	"baseline's (+1, -3,412) and its ratio (new where the baseline is 0).\n"
	"--changed-only leaves out the metrics on which every policy agrees and\n"
	"says how many it left out.  The table leaves out metrics that are zero\n"
	"under every policy and shows counts with thousands separators, times\n"
	"in ns/us/ms/s; markdown is the same table in a collapsible section per\n"
	"trace, for a pull request; csv and json give every metric, exact, one\n"
	"record per trace and policy (with --baseline, _ratio and _delta\n"
	"columns).  `cowsim replay` takes the same --format, --baseline and\n"
	"--changed-only.\n"
	"\n"
	"  -D, --db FILE           the results database (default cowsim.db)\n"
	"  -t, --trace T           a stored trace to show (repeatable; default all)\n"
	"  -p, --policy P,...      the policies to show (default all)\n"
	"  -b, --baseline POLICY   deltas and ratios of each policy to this one\n"
	"      --changed-only      leave out the metrics every policy agrees on\n"
	"  -f, --format FMT        what is written: table (default), csv, json,\n"
	"                          markdown (or md)\n"
	"\n"
	"examples:\n"
	"  cowsim compare\n"
	"  cowsim compare -D results.db -t cowknown.dat -b linux-6.12\n"
	"  cowsim compare -b linux-6.12 --changed-only -f markdown\n"
	"  cowsim compare -f csv > runs.csv\n";

enum { OPT_CHANGED_ONLY = CLI_OPT_VERB_FIRST };

static const struct option compare_opts[] = {
	CLI_OPT_DB,
	CLI_OPT_TRACE,
	CLI_OPT_POLICY,
	{ "baseline", required_argument, NULL, 'b' },
	{ "changed-only", no_argument, NULL, OPT_CHANGED_ONLY },
	CLI_OPT_FORMAT,
	CLI_OPTS_END,
};

static const struct cli_verb compare_verb = {
	.name = "compare", .usage = compare_usage, .opts = compare_opts,
};

int cmd_compare(int argc, char **argv)
{
	struct cli_common co;
	struct cmp_opts o = { .fmt = CMP_TABLE };
	char err[160];
	struct store *s = NULL;
	struct rep_data d = { 0 };
	char *obuf = NULL;
	size_t olen = 0;
	int c, rc = 0;

	cli_common_init(&co);
	while ((c = cli_getopt(&compare_verb, &co, argc, argv)) >= 0) {
		if (c == 'b')
			o.baseline = optarg;
		else if (c == OPT_CHANGED_ONLY)
			o.changed_only = 1;
	}
	if (c != CLI_END) {
		rc = cli_exit_status(c);
		goto done;
	}
	int k = cli_choice(&compare_verb, "--format", co.format, cmp_format_names);
	if (k < 0) {
		rc = 2;
		goto done;
	}
	o.fmt = cmp_format_of[k];
	if (optind < argc) {
		rc = cli_usage_error(&compare_verb, "unexpected argument '%s' "
		                     "(traces are chosen with --trace)",
		                     argv[optind]);
		goto done;
	}
	if (cmp_check(&o, err, sizeof(err))) {
		rc = cli_usage_error(&compare_verb, "%s", err);
		goto done;
	}
	if ((rc = cli_open_store(co.dbpath, 0, &s)) ||
	    (rc = cli_load_runs(&co, s, &d)))
		goto done;
	if (o.baseline) {
		int found = 0;
		for (size_t i = 0; i < d.ntraces; i++)
			found |= rep_find_policy(&d.traces[i], o.baseline) >= 0;
		if (!found) {
			struct suggest sg;
			char near[256];
			suggest_init(&sg, o.baseline);
			for (size_t i = 0; i < d.ntraces; i++)
				for (size_t j = 0; j < d.traces[i].nruns; j++)
					suggest_add(&sg, d.traces[i].runs[j].policy);
			rc = cli_die("--baseline %s: no stored run of that policy on "
			             "these traces%s (see `cowsim compare` for the "
			             "stored ones)", o.baseline,
			             suggest_format(&sg, NULL, near, sizeof(near)));
			goto done;
		}
		for (size_t i = 0; i < d.ntraces; i++)
			if (rep_find_policy(&d.traces[i], o.baseline) < 0)
				fprintf(stderr, "cowsim: %s has no run of %s: no deltas "
				        "or ratios for it\n", d.traces[i].name,
				        o.baseline);
	}

	/* Built whole in memory, written only when complete. */
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		rc = cli_die("out of memory");
		goto done;
	}
	if (cmp_write(out, &d, &o))
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
