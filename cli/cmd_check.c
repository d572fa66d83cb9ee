/*
 * cmd_check.c - `cowsim check`: replay scenarios and hold each policy to the
 * scenario's `expect` lines.
 *
 * A scenario is replayed once per policy it names, with sim_check() run
 * after every single event: an engine invariant broken anywhere fails the
 * scenario even if the expectations hold.  Then each expectation is
 * evaluated against the final metrics of each policy it names:
 *   pass        no leak and no lost pin (cow.c's verdict)
 *   fail        at least one leak or lost pin
 *   METRIC op N a metric compared with a number.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../importers/scn.h"
#include "cli.h"
#include "../importers/open.h"
#include "../sim/config.h"
#include "../sim/sim.h"

static const char check_usage[] =
	"usage: cowsim check SCENARIO.scn... [-v] [--no-invariants]\n"
	"                    [--fork-mode copy|on-demand|async]\n"
	"\n"
	"Replay each scenario under every policy its `expect` lines name (all\n"
	"presets if it has none), verify the engine's invariants after every\n"
	"event, and check the expectations.  Prints each failure as FILE:LINE:\n"
	"with the policy and the values seen.\n"
	"Exit status 1 if any expectation or invariant failed, 2 on a bad\n"
	"scenario (FILE:LINE:COL: message).\n"
	"\n"
	"  -v, --verbose           print passing checks too\n"
	"      --no-invariants     do not check the engine's invariants\n"
	"      --fork-mode MODE    replay every policy under this fork design,\n"
	"                          whatever a scenario's `fork-mode` says\n"
	"\n"
	"example:\n"
	"  cowsim check traces/scenarios/*.scn\n";

enum { OPT_NO_INVARIANTS = CLI_OPT_VERB_FIRST, OPT_FORK_MODE };

static const struct option check_opts[] = {
	CLI_OPT_VERBOSE,
	{ "no-invariants", no_argument, NULL, OPT_NO_INVARIANTS },
	{ "fork-mode", required_argument, NULL, OPT_FORK_MODE },
	CLI_OPTS_END,
};

static const struct cli_verb check_verb = {
	.name = "check", .usage = check_usage, .opts = check_opts,
};

static bool compare(uint64_t v, enum scn_op op, uint64_t want)
{
	switch (op) {
	case SCN_EQ: return v == want;
	case SCN_NE: return v != want;
	case SCN_LT: return v < want;
	case SCN_LE: return v <= want;
	case SCN_GT: return v > want;
	case SCN_GE: return v >= want;
	}
	return false;
}

static const char *op_str(enum scn_op op)
{
	static const char *const s[] = { "=", "!=", "<", "<=", ">", ">=" };
	return s[op];
}

/* Replay s under cfg; returns 0, 1 (an invariant broke: reported) or 2. */
static int run_one(const struct scn *s, const struct sim_config *cfg,
                   bool invariants, struct sim_metrics *m)
{
	struct sim_engine *e;
	char buf[512];
	int rc = 0;

	if (sim_create(cfg, &e))
		return cli_die("out of memory");
	sim_set_swap(e, s->swap);
	for (size_t i = 0; i < s->nev; i++) {
		if (sim_apply(e, &s->ev[i])) {
			rc = cli_die("%s: out of memory", s->path);
			break;
		}
		if (invariants && sim_check(e, buf, sizeof(buf))) {
			printf("%s: event %zu (%s): invariant broken under %s: %s\n",
			       s->path, i, ev_type_name(s->ev[i].type), cfg->name, buf);
			rc = 1;
			break;
		}
	}
	if (!rc) {
		sim_finish(e);
		*m = *sim_metrics(e);
	}
	sim_destroy(e);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	struct cli_common co;
	int verbose = 0, c;
	bool invariants = true;
	const char *fork_mode = NULL;
	size_t nchecks = 0, nfailed = 0, nscn = 0;

	cli_common_init(&co);
	while ((c = cli_getopt(&check_verb, &co, argc, argv)) >= 0) {
		if (c == 'v')
			verbose = 1;
		else if (c == OPT_NO_INVARIANTS)
			invariants = false;
		else if (c == OPT_FORK_MODE)
			fork_mode = optarg;
	}
	cli_common_free(&co);
	if (c != CLI_END)
		return cli_exit_status(c);
	if (optind >= argc)
		return cli_usage_error(&check_verb, "no SCENARIO to check");
	/* Parse every scenario first: a bad one stops everything, before any
	 * result is printed. */
	/* Opened as replay opens them, so a scenario may be compressed or
	 * come on stdin ("-") too. */
	size_t n = (size_t)(argc - optind);
	struct ev_source **srcs = calloc(n, sizeof(*srcs));
	if (!srcs)
		return cli_die("out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char err[1024];
		struct evsrc_opts so = { .format = "scenario", .quiet = 1 };
		if (evsrc_open(argv[optind + (int)i], &so, &srcs[i], err, sizeof(err)))
			rc = cli_die("%s", err);
		if (!rc)
			rc = cli_scn_check(scn_of_source(srcs[i]));
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const struct scn *s = scn_of_source(srcs[i]);
		nscn++;
		for (size_t p = 0; p < cfg_npresets() && rc != 2; p++) {
			const char *name = cfg_preset_name(p);
			bool named = !s->nexp;
			for (size_t k = 0; k < s->nexp; k++)
				named |= scn_expect_names(&s->exp[k], name);
			if (!named)
				continue;
			struct sim_config cfg;
			struct sim_metrics m;
			char err[512];
			cfg_defaults(&cfg);
			if (cfg_load_preset(&cfg, name, err, sizeof(err))) {
				rc = cli_die("%s", err);
				break;
			}
			/* The design the scenario is about, or the one asked for. */
			const char *mode = fork_mode ? fork_mode
			                   : s->fork_mode[0] ? s->fork_mode : NULL;
			if (mode && cli_fork_mode(&cfg, mode, fork_mode ? "--fork-mode"
			                                      : s->path)) {
				cfg_release(&cfg);
				rc = 2;
				break;
			}
			int r = run_one(s, &cfg, invariants, &m);
			cfg_release(&cfg);
			if (r == 2) {
				rc = 2;
				break;
			}
			if (r == 1) {
				nfailed++;
				continue;
			}
			for (size_t k = 0; k < s->nexp; k++) {
				const struct scn_expect *x = &s->exp[k];
				if (!scn_expect_names(x, name))
					continue;
				for (size_t j = 0; j < x->nchecks; j++) {
					const struct scn_check *ck = &x->checks[j];
					bool ok;
					char what[128];
					nchecks++;
					if (ck->kind == 1 || ck->kind == 2) {
						bool clean = !m.leaks && !m.lost_pins;
						ok = ck->kind == 1 ? clean : !clean;
						snprintf(what, sizeof(what), "%s (leaks=%" PRIu64
						         " lost_pins=%" PRIu64 ")",
						         ck->kind == 1 ? "pass" : "fail", m.leaks,
						         m.lost_pins);
					} else {
						int mi = sim_metric_find(ck->metric);
						uint64_t v = sim_metric_get(&m, (size_t)mi);
						ok = compare(v, ck->op, ck->value);
						snprintf(what, sizeof(what), "%s%s%" PRIu64 " (is %" PRIu64 ")",
						         ck->metric, op_str(ck->op), ck->value, v);
					}
					if (!ok)
						nfailed++;
					if (!ok || verbose)
						printf("%s:%u: %s: %s: %s\n", s->path, x->line, cfg.name,
						       what, ok ? "ok" : "FAILED");
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (srcs[i])
			evsrc_close(srcs[i]);
	free(srcs);
	if (rc)
		return rc;
	printf("%zu scenario%s, %zu check%s, %zu failed\n", nscn,
	       nscn == 1 ? "" : "s", nchecks, nchecks == 1 ? "" : "s", nfailed);
	return nfailed ? 1 : 0;
}
