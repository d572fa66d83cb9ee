/*
 * cmd_report.c - `cowsim report`: plots and an HTML page from the stored
 * runs (reports/report.h builds the folder; this file reads the options
 * and the store, in the order that fails before anything is written).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../lib/progress.h"
#include "../reports/rep.h"
#include "../reports/report.h"
#include "../reports/store.h"

static const char report_usage[] =
	"usage: cowsim report -o DIR [-D FILE] [-t TRACE]... [-p P,...]\n"
	"                     [-b POLICY] [-q]\n"
	"\n"
	"Write DIR/index.html and its plots from the results database --db\n"
	"(default cowsim.db).  The page opens with a summary, a row per trace\n"
	"and policy: copies against the --baseline policy (default: the first\n"
	"stored), agreement with the kernel, modeled and observed fork p50.\n"
	"Then per trace a grid of plots: COW copies by cause, zero-fills,\n"
	"copies against the baseline, agreement and the disagreements, the fork\n"
	"latency CDF, copies and frames over trace time with the workload's\n"
	"phases.  Policies with the same results are drawn once, labelled with\n"
	"all their names (\"5.7 = 5.8 = piggin-2009\").  Plots are PNG and SVG\n"
	"drawn by gnuplot (Debian: gnuplot-nox); each one's gnuplot script and\n"
	"data file are kept beside it, to edit and run again.  The page needs\n"
	"no network.  DIR is replaced only if it holds an earlier report.\n"
	"\n"
	"  -o, --output DIR        the folder to write (required; not -: a report\n"
	"                          is many files)\n"
	"  -D, --db FILE           the results database (default cowsim.db)\n"
	"  -t, --trace T           a stored trace to show (repeatable; default all)\n"
	"  -p, --policy P,...      the policies to show (default all)\n"
	"  -b, --baseline POLICY   what copies are measured against (default:\n"
	"                          the first stored policy, in era order)\n"
	"  -q, --quiet             no progress, no closing note\n"
	"\n"
	"examples:\n"
	"  cowsim report -o report && xdg-open report/index.html\n"
	"  cowsim report -D results.db -o /tmp/r -t cowknown.dat\n"
	"  cowsim report -o report -b linux-6.12\n";

static const struct option report_opts[] = {
	CLI_OPT_DB,
	CLI_OPT_OUTPUT,
	CLI_OPT_TRACE,
	CLI_OPT_POLICY,
	{ "baseline", required_argument, NULL, 'b' },
	CLI_OPT_QUIET,
	CLI_OPTS_END,
};

static const struct cli_verb report_verb = {
	.name = "report", .usage = report_usage, .opts = report_opts,
};

int cmd_report(int argc, char **argv)
{
	struct cli_common co;
	const char *baseline = NULL;
	struct report_dest dest;
	struct store *s = NULL;
	struct rep_data d = { 0 };
	/* A gnuplot failure quotes its log, then names the folder. */
	char err[1024 + PATH_MAX];
	size_t nplots = 0;
	int c, rc = 0;

	cli_common_init(&co);
	while ((c = cli_getopt(&report_verb, &co, argc, argv)) >= 0)
		if (c == 'b')
			baseline = optarg;
	if (c != CLI_END) {
		rc = cli_exit_status(c);
		goto done;
	}
	if (optind < argc) {
		rc = cli_usage_error(&report_verb, "unexpected argument '%s'",
		                     argv[optind]);
		goto done;
	}
	const char *out = co.output;
	if (!out || !*out) {
		rc = cli_usage_error(&report_verb, "-o DIR is required (where to "
		                     "write the report)");
		goto done;
	}
	if (!strcmp(out, "-")) {
		rc = cli_usage_error(&report_verb, "a report is a folder of files, "
		                     "not a stream: -o - cannot be one");
		goto done;
	}
	/* Everything that can be checked before writing anything. */
	if (report_prepare(out, &dest, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto done;
	}
	if ((rc = cli_open_store(co.dbpath, 0, &s)) ||
	    (rc = cli_load_runs(&co, s, &d)))
		goto done;
	if (baseline && !rep_has_policy(&d, baseline)) {
		rc = cli_die("report: --baseline %s: no stored run of that policy "
		             "on the traces selected (`cowsim compare` lists the "
		             "stored ones)", baseline);
		goto done;
	}
	if (report_write(&dest, store_db(s), co.dbpath, &d, baseline,
	                 progress_wanted(co.quiet), &nplots, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto done;
	}
	if (!co.quiet)
		fprintf(stderr, "cowsim: report of %zu trace%s written to %s (%zu "
		        "plots); open %s/index.html\n", d.ntraces,
		        d.ntraces == 1 ? "" : "s", out, nplots, out);
done:
	rep_free(&d);
	store_close(s);
	cli_common_free(&co);
	return rc;
}
