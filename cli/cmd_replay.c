/*
 * cmd_replay.c - `cowsim replay`, and the policy list every verb that
 * replays shares (cli_load_policies()).
 *
 * Every replay lands in the results store (reports/store.h) unless --no-db:
 * the database is opened before the first trace is read, so that a bad
 * --db fails before minutes of replay, and each trace's runs are committed
 * as soon as that trace is done.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../importers/open.h"
#include "../reports/store.h"
#include "cli.h"
#include "../sim/config.h"
#include "../sim/replay.h"

/* ------------------------------------------------------------------ */

int cli_load_policies(struct replay *r, const char *list, char **configs,
                      size_t nconfigs, const char *cost)
{
	char err[512];
	const char *cost_text = NULL;
	char *cost_buf = NULL;
	int rc = 0;

	if (cost) {
		/* A file with a [cost] section, or the name of a cost preset. */
		FILE *f = fopen(cost, "rb");
		if (f) {
			size_t cap = 1 << 16;
			cost_buf = calloc(1, cap + 1);
			size_t n = cost_buf ? fread(cost_buf, 1, cap, f) : 0;
			fclose(f);
			if (!cost_buf)
				return cli_die("out of memory");
			cost_buf[n] = 0;
		} else if (asprintf(&cost_buf, "[policy]\ncost = %s\n", cost) < 0) {
			return cli_die("out of memory");
		}
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
static void cli_store_note(const char *db, const char *trace,
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
		{ "policy", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "cost", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "input-format", required_argument, NULL, 'I' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check-invariants", no_argument, NULL, 'K' },
		{ "db", required_argument, NULL, 'D' },
		{ "no-db", no_argument, NULL, 'N' },
		{ "faults", no_argument, NULL, 'F' },
		{ "replace", no_argument, NULL, 'R' },
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL, *cost = NULL, *infmt = NULL, *comm = NULL;
	const char *dbpath = STORE_DEFAULT_DB;
	uint64_t pid = 0;
	int invariants = 0, no_db = 0, faults = 0, replace = 0;
	struct store *db = NULL;
	char **configs = NULL;
	size_t nconfigs = 0;
	enum replay_fmt fmt = REPLAY_TABLE;
	int quiet = 0, c, rc = 0;

	while ((c = getopt_long(argc, argv, "p:c:C:f:I:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy = optarg; break;
		case 'c': {
			char **n = realloc(configs, (nconfigs + 1) * sizeof(*n));
			if (!n)
				return cli_die("out of memory");
			configs = n;
			configs[nconfigs++] = optarg;
			break;
		}
		case 'C': cost = optarg; break;
		case 'I': infmt = optarg; break;
		case 'f':
			if (!strcmp(optarg, "table"))
				fmt = REPLAY_TABLE;
			else if (!strcmp(optarg, "json"))
				fmt = REPLAY_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = REPLAY_CSV;
			else
				return cli_die("--format must be table, json or csv");
			break;
		case 'q': quiet = 1; break;
		case 'K': invariants = 1; break;
		case 'D': dbpath = optarg; break;
		case 'N': no_db = 1; break;
		case 'F': faults = 1; break;
		case 'R': replace = 1; break;
		case 'P':
			if (cli_parse_u64(optarg, &pid) || !pid || pid > INT32_MAX) {
				free(configs);
				return cli_die("--pid: '%s' is not a pid", optarg);
			}
			break;
		case 'M': comm = optarg; break;
		case 'h': fputs(replay_usage, stdout); free(configs); return 0;
		default: fputs(replay_usage, stderr); free(configs); return 2;
		}
	}
	if (optind >= argc) {
		free(configs);
		fputs(replay_usage, stderr);
		return 2;
	}
	if (no_db && (faults || replace)) {
		free(configs);
		return cli_die("--faults and --replace are about the results "
		               "database: drop --no-db");
	}
	if (!no_db) {
		char err[1024];
		if (store_open(dbpath, STORE_CREATE, &db, err, sizeof(err))) {
			free(configs);
			return cli_die("%s", err);
		}
		if (db->version && db->version < STORE_SCHEMA_VERSION)
			fprintf(stderr, "cowsim: %s: migrated from schema version %d "
			        "to %d\n", dbpath, db->version, STORE_SCHEMA_VERSION);
	}
	char *obuf = NULL;
	size_t olen = 0;
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		store_close(db);
		free(configs);
		return cli_die("out of memory");
	}
	for (int i = optind; i < argc && !rc; i++) {
		struct replay r;
		struct ev_source *src = NULL;
		struct evsrc_opts so = { .format = infmt, .quiet = quiet,
		                         .pid = (uint32_t)pid, .comm = comm };
		struct store_opts sto = { .faults = faults, .replace = replace,
		                          .progress = !quiet && isatty(2) };
		struct store_rec *rec = NULL;
		struct store_result res;
		char err[1024] = "";

		replay_init(&r);
		r.progress = !quiet && isatty(2);
		r.invariants = invariants;
		rc = cli_load_policies(&r, policy, configs, nconfigs, cost);
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
			else if (!quiet)
				cli_store_note(dbpath, argv[i], &res);
		}
		if (!rc)
			replay_print(&r, fmt, out, i == optind, i == argc - 1);
		store_rec_free(rec);
		evsrc_close(src);
		replay_free(&r);
	}
	store_close(db);
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
	free(obuf);
	free(configs);
	return rc;
}

