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
	"                      [--baseline POLICY] [--changed-only]\n"
	"                      [--format table|csv|json|markdown]\n"
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
	"examples:\n"
	"  cowsim compare\n"
	"  cowsim compare --db results.db --trace cowknown.dat --baseline linux-6.12\n"
	"  cowsim compare --baseline linux-6.12 --changed-only --format markdown\n"
	"  cowsim compare --format csv > runs.csv\n";

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		CLI_OPT_TRACE,
		CLI_OPT_POLICY,
		{ "baseline", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "changed-only", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common co;
	struct cmp_opts o = { .fmt = CMP_TABLE };
	char err[160];
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
		case 'b': o.baseline = optarg; break;
		case 'X': o.changed_only = 1; break;
		case 'f':
			if (cmp_parse_format(optarg, &o.fmt)) {
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
	if (cmp_check(&o, err, sizeof(err))) {
		rc = cli_die("%s", err);
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
			rc = cli_die("--baseline %s: no stored run of that policy on "
			             "these traces (see `cowsim compare` for the "
			             "stored ones)", o.baseline);
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
