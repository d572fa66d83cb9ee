/*
 * cmd_policies.c - `cowsim policies`: the shipped presets, one per line,
 * and with --show one preset as INI, the seed of a --config file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "../sim/config.h"

static const char policies_usage[] =
	"usage: cowsim policies [-v] [--show NAME]\n"
	"\n"
	"List the shipped policy presets, one per line: name, model, kernel,\n"
	"description.\n"
	"\n"
	"  -v, --verbose           also list every switch and cost parameter\n"
	"                          with what it models\n"
	"  -s, --show NAME         print a preset's effective configuration as\n"
	"                          INI (a starting point for a --config file)\n"
	"\n"
	"examples:\n"
	"  cowsim policies\n"
	"  cowsim policies --show linux-5.9 > my-5.9.ini\n";

static const struct option policies_opts[] = {
	CLI_OPT_VERBOSE,
	{ "show", required_argument, NULL, 's' },
	CLI_OPTS_END,
};

static const struct cli_verb policies_verb = {
	.name = "policies", .usage = policies_usage, .opts = policies_opts,
};

int cmd_policies(int argc, char **argv)
{
	struct cli_common co;
	int verbose = 0, c;
	const char *show = NULL;
	char err[512];

	cli_common_init(&co);
	while ((c = cli_getopt(&policies_verb, &co, argc, argv)) >= 0) {
		if (c == 'v')
			verbose = 1;
		else if (c == 's')
			show = optarg;
	}
	cli_common_free(&co);
	if (c != CLI_END)
		return cli_exit_status(c);
	if (optind < argc)
		return cli_usage_error(&policies_verb, "unexpected argument '%s'",
		                       argv[optind]);
	if (show) {
		struct sim_config cfg;
		cfg_defaults(&cfg);
		if (cfg_load_preset(&cfg, show, err, sizeof(err)))
			return cli_die("%s", err);
		size_t n = cfg_format(&cfg, NULL, 0);
		char *buf = malloc(n + 1);
		if (!buf)
			return cli_die("out of memory");
		cfg_format(&cfg, buf, n + 1);
		fputs(buf, stdout);
		free(buf);
		cfg_release(&cfg);
		return 0;
	}
	for (size_t i = 0; i < cfg_npresets(); i++) {
		struct sim_config cfg;
		cfg_defaults(&cfg);
		if (cfg_load_preset(&cfg, cfg_preset_name(i), err, sizeof(err)))
			return cli_die("%s", err);
		printf("%-14s %-15s %-14s %s\n", cfg.name, cfg_model_name(cfg.model),
		       cfg.kernel, cfg.description);
		cfg_release(&cfg);
	}
	if (verbose) {
		const char *sec, *name, *doc;
		printf("\nswitches and cost parameters ([section] key: what it models):\n");
		for (size_t i = 0; (doc = cfg_key_doc(i, &sec, &name)); i++)
			printf("  [%s] %-24s %s\n", sec, name, doc);
	}
	return 0;
}
