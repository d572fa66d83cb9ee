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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../importers/open.h"
#include "../lib/progress.h"
#include "../lib/readfile.h"
#include "../reports/store.h"
#include "cli.h"
#include "../sim/config.h"
#include "../sim/replay.h"

/* The most a --cost file may hold: what cfg_load_file() allows a --config
 * file, as the two are the same INI. */
#define COST_FILE_MAX (1u << 22)

/* ------------------------------------------------------------------ */

/* Add to r the presets named in list ("all" or comma-separated; NULL means
 * all unless configs were given), then each config file, each with the
 * cost override if given (a file with a [cost] section, read whole, or the
 * name of a cost preset when no such file exists).  Returns 0 or 2 after
 * printing why. */
static int load_policies(struct replay *r, const char *list,
                         const char **configs, size_t nconfigs,
                         const char *cost)
{
	char err[512];
	const char *cost_text = NULL;
	char *cost_buf = NULL;
	int rc = 0;

	if (cost) {
		size_t len, nul;
		rc = read_text_file(cost, COST_FILE_MAX, "a cost file", &cost_buf,
		                    &len, &nul, err, sizeof(err));
		if (rc == -ENOENT) {
			if (asprintf(&cost_buf, "[policy]\ncost = %s\n", cost) < 0)
				return cli_die("out of memory");
		} else if (rc) {
			return cli_die("%s", err);
		}
		rc = 0;
		cost_text = cost_buf;
	}

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
			for (from = 0; from < cfg_npresets(); from++)
				if (!strcmp(cfg_preset_name(from), tok))
					break;
			if (from == cfg_npresets()) {
				rc = cli_die("no policy preset named '%s' (see `cowsim "
				             "policies`)", tok);
				goto out;
			}
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
			if (cost_text && cfg_apply_text(&c, "--cost", cost_text, err,
			                                sizeof(err))) {
				rc = cli_die("%s", err);
				cfg_release(&c);
				goto out;
			}
			if (replay_add(r, &c)) {
				cfg_release(&c);
				rc = cli_die("out of memory");
				goto out;
			}
		}
	}
	for (size_t i = 0; i < nconfigs; i++) {
		struct sim_config c;
		cfg_defaults(&c);
		if (cfg_load_file(&c, configs[i], err, sizeof(err)) ||
		    (cost_text && cfg_apply_text(&c, "--cost", cost_text, err,
		                                 sizeof(err)))) {
			cfg_release(&c);
			rc = cli_die("%s", err);
			goto out;
		}
		if (replay_add(r, &c)) {
			cfg_release(&c);
			rc = cli_die("out of memory");
			goto out;
		}
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

static const char replay_usage[] =
	"usage: cowsim replay TRACE... [--policy NAME[,NAME...]|all]\n"
	"                     [--config FILE.ini]... [--cost NAME|FILE]\n"
	"                     [--format table|json|csv] [--quiet]\n"
	"                     [--db FILE | --no-db] [--faults] [--replace]\n"
	"                     [--check-invariants] [--pid N | --comm NAME]\n"
	"\n"
	"Replay each TRACE (a cowsim event file, a scenario, or a trace the\n"
	"importers read) through the policies, all in one pass, and print their\n"
	"metrics side by side.  --policy takes preset names (`cowsim policies`)\n"
	"or `all` (the default); --config adds a policy from an INI file;\n"
	"--cost replaces every policy's cost parameters (preset x86-64 or vm,\n"
	"or a file with a [cost] section).  A progress line is shown on a\n"
	"terminal unless --quiet.  --check-invariants verifies every engine\n"
	"invariant after every event (slow; for debugging models).\n"
	"A real trace (trace.dat, ftrace or perf text, plain or .zst) is imported\n"
	"on the fly (see `cowsim import --help`); --pid/--comm select its tree.\n"
	"\n"
	"Every run is also stored in an SQLite database, --db FILE (default\n"
	"cowsim.db in the current folder; --no-db to skip): the trace, the full\n"
	"configuration, every metric, one row per fork and, with --faults, one\n"
	"row per write fault with each policy's decision and the kernel's\n"
	"observed outcome.  A trace and configuration already stored (same\n"
	"content, wherever the file now is) are not stored twice: the stored\n"
	"run is kept unless --replace.  See docs/store.md; `cowsim compare` and\n"
	"`cowsim report` read the database.\n"
	"\n"
	"examples:\n"
	"  cowsim replay traces/scenarios/cow-03-vmsplice-unmap-child.scn\n"
	"  cowsim replay big.ev --policy linux-5.9,linux-6.12 --format json\n"
	"  cowsim replay traces/real/cowknown.dat --db results.db --faults\n";

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_POLICY,
		{ "config", required_argument, NULL, 'c' },
		{ "cost", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "input-format", required_argument, NULL, 'I' },
		CLI_OPT_QUIET,
		{ "check-invariants", no_argument, NULL, 'K' },
		CLI_OPT_DB,
		{ "no-db", no_argument, NULL, 'N' },
		{ "faults", no_argument, NULL, 'F' },
		{ "replace", no_argument, NULL, 'R' },
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common co;
	const char *cost = NULL, *infmt = NULL, *comm = NULL;
	uint64_t pid = 0;
	int invariants = 0, no_db = 0, faults = 0, replace = 0;
	struct store *db = NULL;
	const char **configs = NULL;
	size_t nconfigs = 0;
	enum replay_fmt fmt = REPLAY_TABLE;
	int c, taken, rc = 0;

	cli_common_init(&co);
	while ((c = getopt_long(argc, argv, "p:c:C:f:I:qh", opts, NULL)) != -1) {
		if ((taken = cli_common_opt(&co, c, optarg)) < 0) {
			rc = 2;
			goto done;
		}
		if (taken)
			continue;
		switch (c) {
		case 'c':
			if ((rc = cli_push_arg(&configs, &nconfigs, optarg)))
				goto done;
			break;
		case 'C': cost = optarg; break;
		case 'I': infmt = optarg; break;
		case 'f':
			if (!strcmp(optarg, "table"))
				fmt = REPLAY_TABLE;
			else if (!strcmp(optarg, "json"))
				fmt = REPLAY_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = REPLAY_CSV;
			else {
				rc = cli_die("--format must be table, json or csv");
				goto done;
			}
			break;
		case 'K': invariants = 1; break;
		case 'N': no_db = 1; break;
		case 'F': faults = 1; break;
		case 'R': replace = 1; break;
		case 'P':
			if (cli_parse_u64(optarg, &pid) || !pid || pid > INT32_MAX) {
				rc = cli_die("--pid: '%s' is not a pid", optarg);
				goto done;
			}
			break;
		case 'M': comm = optarg; break;
		case 'h': fputs(replay_usage, stdout); goto done;
		default: fputs(replay_usage, stderr); rc = 2; goto done;
		}
	}
	if (optind >= argc) {
		fputs(replay_usage, stderr);
		rc = 2;
		goto done;
	}
	if (no_db && (faults || replace)) {
		rc = cli_die("--faults and --replace are about the results "
		             "database: drop --no-db");
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
		struct evsrc_opts so = { .format = infmt, .quiet = co.quiet,
		                         .pid = (uint32_t)pid, .comm = comm };
		struct store_opts sto = { .faults = faults, .replace = replace,
		                          .progress = progress_wanted(co.quiet) };
		struct store_rec *rec = NULL;
		struct store_result res;
		char err[1024] = "";

		replay_init(&r);
		r.progress = progress_wanted(co.quiet);
		r.invariants = invariants;
		rc = load_policies(&r, co.policy, configs, nconfigs, cost);
		if (!rc && evsrc_open(argv[i], &so, &src, err, sizeof(err)))
			rc = cli_die("%s", err);
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
		if (!rc)
			replay_print(&r, fmt, out, i == optind, i == argc - 1);
		store_rec_free(rec);
		evsrc_close(src);
		replay_free(&r);
	}
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
	free(obuf);
done:
	store_close(db);
	free(configs);
	cli_common_free(&co);
	return rc;
}

