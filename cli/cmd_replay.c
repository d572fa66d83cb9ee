/*
 * cmd_replay.c - `cowsim replay`: traces through the policies, side by
 * side, each trace's runs stored as soon as it is done.
 *
 * Every replay lands in the results store (reports/store.h) unless --no-db:
 * the database is opened before the first trace is read, so that a bad
 * --db fails before minutes of replay, and each trace's runs are committed
 * as soon as that trace is done.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../importers/open.h"
#include "../importers/scn.h"
#include "../lib/esc.h"
#include "../lib/progress.h"
#include "../lib/readfile.h"
#include "../reports/compare.h"
#include "../reports/rep.h"
#include "../reports/store.h"
#include "cli.h"
#include "../sim/config.h"
#include "../sim/replay.h"

/* ------------------------------------------------------------------ */

/* Add configuration c to r, under each fork design of modes (a comma-
 * separated list of fork_mode values, or "all"; NULL: as c says).  c is
 * taken over.  Returns 0 or 2 after printing why. */
static int add_policy(struct replay *r, struct sim_config *c,
                      const char *modes)
{
	int rc = 0;

	if (!modes) {
		if (replay_add(r, c)) {
			cfg_release(c);
			return cli_die("out of memory");
		}
		return 0;
	}
	char *copy = strdup(strcmp(modes, "all") ? modes : "copy,on-demand,async");
	if (!copy) {
		cfg_release(c);
		return cli_die("out of memory");
	}
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc;
	     tok = strtok_r(NULL, ",", &save)) {
		struct sim_config d = *c;
		d.text = c->text ? strdup(c->text) : NULL;
		if (c->text && !d.text)
			rc = cli_die("out of memory");
		else if ((rc = cli_fork_mode(&d, tok, "--fork-mode")))
			cfg_release(&d);
		else if (replay_add(r, &d)) {
			cfg_release(&d);
			rc = cli_die("out of memory");
		}
	}
	free(copy);
	cfg_release(c);
	return rc;
}

/* Add to r the presets named in list ("all" or comma-separated; NULL means
 * all unless configs were given), then each config file, each with the
 * cost override if given (a file with a [cost] section, read whole, or the
 * name of a cost preset when no such file exists).  Returns 0 or 2 after
 * printing why. */
static int load_policies(struct replay *r, const char *list,
                         const char **configs, size_t nconfigs,
                         const char *cost, const char *modes)
{
	char err[512];
	const char *cost_origin = NULL;
	char *cost_buf = NULL;
	int rc = 0;

	if (cost && (rc = cli_cost_text(cost, &cost_buf, &cost_origin)))
		return rc;
	const char *cost_text = cost_buf;

	/* Presets named in the list (default: all, unless configs were given). */
	const char *l = list ? list : (nconfigs ? "" : "all");
	char *copy = strdup(l);
	if (!copy)
		return cli_die("out of memory");
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t from = 0, to = 0;
		if (!strcmp(tok, "all")) {
			from = 0;
			to = cfg_npresets();
		} else {
			long k = cfg_preset_find(tok, err, sizeof(err));
			if (k < 0) {
				rc = cli_die("%s", err);
				goto out;
			}
			from = (size_t)k;
			to = from + 1;
		}
		for (size_t i = from; i < to; i++) {
			struct sim_config c;
			cfg_defaults(&c);
			if (cfg_load_preset(&c, cfg_preset_name(i), err, sizeof(err))) {
				rc = cli_die("%s", err);
				cfg_release(&c);
				goto out;
			}
			if (cost_text && cfg_apply_text(&c, cost_origin, cost_text, err,
			                                sizeof(err))) {
				rc = cli_die("%s", err);
				cfg_release(&c);
				goto out;
			}
			if ((rc = add_policy(r, &c, modes)))
				goto out;
		}
	}
	for (size_t i = 0; i < nconfigs; i++) {
		struct sim_config c;
		cfg_defaults(&c);
		if (cfg_load_file(&c, configs[i], err, sizeof(err)) ||
		    (cost_text && cfg_apply_text(&c, cost_origin, cost_text, err,
		                                 sizeof(err)))) {
			cfg_release(&c);
			rc = cli_die("%s", err);
			goto out;
		}
		if ((rc = add_policy(r, &c, modes)))
			goto out;
	}
	if (!r->nruns)
		rc = cli_die("no policy to replay under (--policy or --config)");
out:
	free(copy);
	free(cost_buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* cowsim replay                                                       */

/* "cowsim" and argv as a shell reads them back, for the stored runs'
 * provenance; taken before getopt_long() permutes argv.  Returns a
 * malloc'd string, or NULL (out of memory). */
static char *shell_words(const char *first, int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs(first, f);
	for (int i = 0; i < argc; i++) {
		fputc(' ', f);
		esc_sh(f, argv[i]);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The process selection as options ("--pid 42 --comm redis"), stored
 * with the runs.  Returns a malloc'd string, or NULL (out of memory). */
static char *selection_words(uint64_t pid, const char *comm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (pid)
		fprintf(f, "--pid %" PRIu64 "%s", pid, comm ? " " : "");
	if (comm) {
		fputs("--comm ", f);
		esc_sh(f, comm);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Say where the runs went, and which were already there. */
static void note_stored(const char *db, const char *trace,
                        const struct store_result *res)
{
	if (res->stored)
		fprintf(stderr, "cowsim: %s: %zu run%s stored in %s%s\n", trace,
		        res->stored, res->stored == 1 ? "" : "s", db,
		        res->replaced ? " (replacing the stored ones)" : "");
	if (res->skipped)
		fprintf(stderr, "cowsim: %s: already in %s with the same content "
		        "and configuration, kept as stored: %s (--replace to store "
		        "this replay instead)\n", trace, db, res->skipped_names);
}

/* Is one of r's policies named name? */
static int find_run(const struct replay *r, const char *name)
{
	for (size_t i = 0; i < r->nruns; i++)
		if (!strcmp(r->runs[i].cfg.name, name))
			return 1;
	return 0;
}

static const char replay_usage[] =
	"usage: cowsim replay TRACE... [-p NAME[,NAME...]|all] [-c FILE.ini]...\n"
	"                     [-C NAME|FILE] [-f table|csv|json|markdown]\n"
	"                     [-b POLICY] [--changed-only] [-I FORMAT]\n"
	"                     [-q] [-D FILE | --no-db] [--faults] [--replace]\n"
	"                     [--check-invariants] [-P N | --comm NAME]\n"
	"                     [--name NAME]... [--fork-mode MODE[,MODE...]|all]\n"
	"                     [--sysroot DIR]\n"
	"\n"
	"Replay each TRACE (a cowsim event file, a scenario, or a trace the\n"
	"importers read) through the policies, all in one pass, and print their\n"
	"metrics side by side.  The table and markdown are `cowsim compare`'s;\n"
	"csv and json are one record per run, every metric exact.\n"
	"\n"
	"  -p, --policy NAME,...   preset names (`cowsim policies`) or `all` (the\n"
	"                          default)\n"
	"  -c, --config FILE.ini   add a policy from an INI file (repeatable)\n"
	"  -C, --cost NAME|FILE    replace every policy's cost parameters: preset\n"
	"                          x86-64, vm or vm-fitted, or a file with a\n"
	"                          [cost] section\n"
	"      --fork-mode MODES   replay every policy under each fork design:\n"
	"                          copy, on-demand, async (comma-separated), or\n"
	"                          all; a run not under copy is named POLICY+MODE\n"
	"  -f, --format FMT        what is written: table (default), csv, json,\n"
	"                          markdown (or md)\n"
	"  -b, --baseline POLICY   deltas and ratios of each policy to this one\n"
	"      --changed-only      (table, markdown) only the metrics on which the\n"
	"                          policies differ\n"
	"  -I, --input-format FMT  what is read: events, scenario, dat, ftrace,\n"
	"                          perf (default: detected from the content)\n"
	"  -q, --quiet             no progress line, no notes on stderr\n"
	"  -D, --db FILE           the results database (default cowsim.db)\n"
	"      --no-db             do not store the runs\n"
	"      --faults            also store one row per write fault\n"
	"      --replace           store this replay over an identical stored one\n"
	"      --check-invariants  verify every engine invariant after every\n"
	"                          event (slow; for debugging models)\n"
	"  -P, --pid N             a real trace: the process tree of N\n"
	"      --comm NAME         a real trace: the tree of the first exec of NAME\n"
	"      --sysroot DIR       a real trace: read exec'd files under DIR\n"
	"      --name NAME         the stored trace's name (once per TRACE)\n"
	"\n"
	"A progress line is shown on a terminal unless --quiet.  A real trace\n"
	"(trace.dat, ftrace or perf text, plain or .zst) is imported on the fly\n"
	"(see `cowsim import --help`).\n"
	"\n"
	"Every run is also stored in an SQLite database, --db FILE (default\n"
	"cowsim.db in the current folder; --no-db to skip): the trace, the full\n"
	"configuration, every metric, one row per fork and, with --faults, one\n"
	"row per write fault with each policy's decision and the kernel's\n"
	"observed outcome.  A trace and configuration already stored (same\n"
	"content, wherever the file now is) are not stored twice: the stored\n"
	"run is kept unless --replace.  A trace is stored under a unique name:\n"
	"--name NAME (once per TRACE, in order), else the shortest end of its\n"
	"path that no other stored trace has (trace.dat, redis/trace.dat).\n"
	"See docs/store.md; `cowsim compare` and `cowsim report` read the\n"
	"database.  Options: docs/cli.md.\n"
	"\n"
	"examples:\n"
	"  cowsim replay traces/scenarios/cow-03-vmsplice-unmap-child.scn\n"
	"  cowsim replay big.ev -p linux-5.9,linux-6.12 -f json\n"
	"  cowsim replay t.dat -b linux-6.12 --changed-only -f markdown\n"
	"  cowsim replay traces/real/cowknown.dat -D results.db --faults\n"
	"  cowsim replay capture.txt -I ftrace --comm redis-server\n";

enum {
	OPT_INVARIANTS = CLI_OPT_VERB_FIRST,
	OPT_NO_DB,
	OPT_FAULTS,
	OPT_REPLACE,
	OPT_CHANGED_ONLY,
	OPT_NAME,
	OPT_FORK_MODE,
};

static const struct option replay_opts[] = {
	CLI_OPT_POLICY,
	CLI_OPT_CONFIG,
	CLI_OPT_COST,
	CLI_OPT_FORMAT,
	{ "baseline", required_argument, NULL, 'b' },
	{ "changed-only", no_argument, NULL, OPT_CHANGED_ONLY },
	CLI_OPT_INPUT_FORMAT,
	CLI_OPT_QUIET,
	{ "check-invariants", no_argument, NULL, OPT_INVARIANTS },
	CLI_OPT_DB,
	{ "no-db", no_argument, NULL, OPT_NO_DB },
	{ "faults", no_argument, NULL, OPT_FAULTS },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	CLI_OPT_PID,
	CLI_OPT_COMM,
	CLI_OPT_SYSROOT,
	{ "name", required_argument, NULL, OPT_NAME },
	{ "fork-mode", required_argument, NULL, OPT_FORK_MODE },
	CLI_OPTS_END,
};

static const struct cli_verb replay_verb = {
	.name = "replay", .usage = replay_usage, .opts = replay_opts,
};

int cmd_replay(int argc, char **argv)
{
	struct cli_common co;
	const char *cost = NULL, *fork_modes = NULL;
	int invariants = 0, no_db = 0, faults = 0, replace = 0;
	struct store *db = NULL;
	const char **configs = NULL, **names = NULL;
	size_t nconfigs = 0, nnames = 0;
	char *cmdline = shell_words("cowsim", argc, argv), *selection = NULL;
	struct cmp_opts o = { .fmt = CMP_TABLE, .replay_records = 1 };
	struct rep_data shown = { 0 };
	char err[1024];
	int c, rc = 0;

	cli_common_init(&co);
	if (!cmdline) {
		rc = cli_die("out of memory");
		goto done;
	}
	while ((c = cli_getopt(&replay_verb, &co, argc, argv)) >= 0) {
		switch (c) {
		case 'c':
			if ((rc = cli_push_arg(&configs, &nconfigs, optarg)))
				goto done;
			break;
		case 'C': cost = optarg; break;
		case OPT_FORK_MODE: fork_modes = optarg; break;
		case OPT_INVARIANTS: invariants = 1; break;
		case OPT_NO_DB: no_db = 1; break;
		case OPT_FAULTS: faults = 1; break;
		case OPT_REPLACE: replace = 1; break;
		case 'b': o.baseline = optarg; break;
		case OPT_CHANGED_ONLY: o.changed_only = 1; break;
		case OPT_NAME:
			if ((rc = cli_push_arg(&names, &nnames, optarg)))
				goto done;
			break;
		}
	}
	if (c != CLI_END) {
		rc = cli_exit_status(c);
		goto done;
	}
	int k = cli_choice(&replay_verb, "--format", co.format, cmp_format_names);
	if (k < 0) {
		rc = 2;
		goto done;
	}
	o.fmt = cmp_format_of[k];
	if (optind >= argc) {
		rc = cli_usage_error(&replay_verb, "no TRACE to replay");
		goto done;
	}
	if (no_db && (faults || replace)) {
		rc = cli_die("--faults and --replace are about the results "
		             "database: drop --no-db");
		goto done;
	}
	if (cmp_check(&o, err, sizeof(err))) {
		rc = cli_usage_error(&replay_verb, "%s", err);
		goto done;
	}
	if (nnames && (no_db || nnames != (size_t)(argc - optind))) {
		rc = no_db ? cli_die("--name names the stored trace: drop --no-db")
		           : cli_die("--name: give one per trace, in order (%d "
		                     "traces, %zu names)", argc - optind, nnames);
		goto done;
	}
	if ((co.pid || co.comm) &&
	    !(selection = selection_words(co.pid, co.comm))) {
		rc = cli_die("out of memory");
		goto done;
	}
	if (!no_db && (rc = cli_open_store(co.dbpath, STORE_CREATE, &db)))
		goto done;
	char *obuf = NULL;
	size_t olen = 0;
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		rc = cli_die("out of memory");
		goto done;
	}
	for (int i = optind; i < argc && !rc; i++) {
		struct replay r;
		struct ev_source *src = NULL;
		struct evsrc_opts so = { .format = co.infmt, .quiet = co.quiet,
		                         .pid = co.pid, .comm = co.comm,
		                         .sysroot = co.sysroot };
		struct store_prov prov = { .command_line = cmdline,
		                           .selection = selection, .cost = cost };
		struct store_opts sto = { .faults = faults, .replace = replace,
		                          .progress = progress_wanted(co.quiet),
		                          .name = nnames ? names[i - optind] : NULL,
		                          .prov = &prov };
		struct store_rec *rec = NULL;
		struct store_result res;

		err[0] = 0;
		replay_init(&r);
		r.progress = progress_wanted(co.quiet);
		r.invariants = invariants;
		rc = load_policies(&r, co.policy, configs, nconfigs, cost,
		                   fork_modes);
		if (!rc && o.baseline && !find_run(&r, o.baseline))
			rc = cli_die("--baseline %s: not one of the policies replayed "
			             "(--policy, --config)", o.baseline);
		if (!rc && evsrc_open(argv[i], &so, &src, err, sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc && scn_of_source(src))
			rc = cli_scn_check(scn_of_source(src));
		if (!rc && db && store_rec_begin(db, &r, argv[i], &sto, &rec, err,
		                                 sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc && replay_run(&r, src, err, sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc && rec) {
			if (store_rec_commit(rec, src, &res, err, sizeof(err)))
				rc = cli_die("%s", err);
			else if (!co.quiet)
				note_stored(co.dbpath, argv[i], &res);
		}
		if (!rc && rep_add_replay(&shown, &r))
			rc = cli_die("out of memory");
		store_rec_free(rec);
		evsrc_close(src);
		replay_free(&r);
	}
	if (!rc && cmp_write(out, &shown, &o))
		rc = cli_die("out of memory");
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
	free(obuf);
done:
	rep_free(&shown);
	store_close(db);
	free(configs);
	free(names);
	free(cmdline);
	free(selection);
	cli_common_free(&co);
	return rc;
}

