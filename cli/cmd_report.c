/*
 * cmd_report.c - `cowsim report`: plots and an HTML page from the stored
 * runs (reports/report.h builds the folder; this file reads the options
 * and the store, in the order that fails before anything is written).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "../lib/progress.h"
#include "../reports/rep.h"
#include "../reports/report.h"
#include "../reports/store.h"

static const char report_usage[] =
	"usage: cowsim report [--db FILE] -o DIR [--trace T]... [--policy P,...]\n"
	"                     [--quiet]\n"
	"\n"
	"Write DIR/index.html and its plots from the results database --db\n"
	"(default cowsim.db): per trace, COW copies per policy split by cause,\n"
	"the fork latency CDF with the kernel's observed latency beside it,\n"
	"cumulative copies and allocated frames over trace time; agreement with\n"
	"the kernel per policy; the side-by-side tables.  Plots are PNG and SVG\n"
	"drawn by gnuplot (Debian: gnuplot-nox); each one's gnuplot script and\n"
	"data file are kept beside it, to edit and run again.  The page needs\n"
	"no network.  DIR is replaced only if it holds an earlier report.\n"
	"--trace and --policy select as for `cowsim compare`.\n"
	"\n"
	"examples:\n"
	"  cowsim report -o report && xdg-open report/index.html\n"
	"  cowsim report --db results.db -o /tmp/r --trace cowknown.dat\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{ "output", required_argument, NULL, 'o' },
		CLI_OPT_TRACE,
		CLI_OPT_POLICY,
		CLI_OPT_QUIET,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common co;
	const char *out = NULL;
	struct report_dest dest;
	struct store *s = NULL;
	struct rep_data d = { 0 };
	/* A gnuplot failure quotes its log, then names the folder. */
	char err[1024 + PATH_MAX];
	size_t nplots = 0;
	int c, taken, rc = 0;

	cli_common_init(&co);
	while ((c = getopt_long(argc, argv, "D:o:t:p:qh", opts, NULL)) != -1) {
		if ((taken = cli_common_opt(&co, c, optarg)) < 0) {
			rc = 2;
			goto done;
		}
		if (taken)
			continue;
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': fputs(report_usage, stdout); goto done;
		default: fputs(report_usage, stderr); rc = 2; goto done;
		}
	}
	if (optind < argc) {
		rc = cli_die("report: unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if (!out || !*out) {
		fputs(report_usage, stderr);
		rc = cli_die("report: -o DIR is required (where to write the "
		             "report)");
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
	if (report_write(&dest, store_db(s), co.dbpath, &d,
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
