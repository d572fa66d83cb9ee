/*
 * cmd_replay.c - `cowsim replay`, and the policy list every verb that
 * replays shares (cli_load_policies()).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../importers/evsrc.h"
#include "cli.h"
#include "config.h"
#include "replay.h"

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

static const char replay_usage[] =
	"usage: cowsim replay TRACE... [--policy NAME[,NAME...]|all]\n"
	"                     [--config FILE.ini]... [--cost NAME|FILE]\n"
	"                     [--format table|json|csv] [--quiet]\n"
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
	"examples:\n"
	"  cowsim replay traces/scenarios/cow-03-vmsplice-unmap-child.scn\n"
	"  cowsim replay big.ev --policy linux-5.9,linux-6.12 --format json\n";

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
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL, *cost = NULL, *infmt = NULL, *comm = NULL;
	uint64_t pid = 0;
	int invariants = 0;
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
		case 'P':
			if (cli_parse_u64(optarg, &pid) || !pid || pid > INT32_MAX) {
				free(configs);
				return cli_die("--pid: '%s' is not a pid", optarg);
			}
			break;
		case 'N': comm = optarg; break;
		case 'h': fputs(replay_usage, stdout); free(configs); return 0;
		default: fputs(replay_usage, stderr); free(configs); return 2;
		}
	}
	if (optind >= argc) {
		free(configs);
		fputs(replay_usage, stderr);
		return 2;
	}
	char *obuf = NULL;
	size_t olen = 0;
	FILE *out = open_memstream(&obuf, &olen);
	if (!out) {
		free(configs);
		return cli_die("out of memory");
	}
	for (int i = optind; i < argc && !rc; i++) {
		struct replay r;
		struct ev_source *src = NULL;
		struct evsrc_opts so = { .format = infmt, .quiet = quiet,
		                         .pid = (uint32_t)pid, .comm = comm };
		char err[1024] = "";

		replay_init(&r);
		r.progress = !quiet && isatty(2);
		r.invariants = invariants;
		rc = cli_load_policies(&r, policy, configs, nconfigs, cost);
		if (!rc && evsrc_open(argv[i], &so, &src, err, sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc && replay_run(&r, src, err, sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc)
			replay_print(&r, fmt, out, i == optind, i == argc - 1);
		evsrc_close(src);
		replay_free(&r);
	}
	fclose(out);
	if (!rc)
		fwrite(obuf, 1, olen, stdout);
	free(obuf);
	free(configs);
	return rc;
}

