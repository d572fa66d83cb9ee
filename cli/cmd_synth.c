/*
 * cmd_synth.c - `cowsim synth`: write a synthetic event stream
 * (importers/synth.c makes it; this file only reads the options).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "../importers/synth.h"
#include "cli.h"
#include "../lib/progress.h"

static const char synth_usage[] =
	"usage: cowsim synth -n N [-s S] -o FILE|- [--procs N] [--cpus N]\n"
	"                    [-a N] [-A N] [-q]\n"
	"\n"
	"Write a synthetic event stream of N events: a long-lived server with\n"
	"threads, heap and arenas; snapshot, worker and fork+exec children;\n"
	"O_DIRECT pins and vmsplice references.  The same seed always gives the\n"
	"same stream.  On a terminal a progress line shows the events written,\n"
	"the rate and an ETA; --quiet hides it.\n"
	"\n"
	"  -n, --events N          how many events (required)\n"
	"  -s, --seed S            the random seed (default 1)\n"
	"  -o, --output FILE       the event file to write; - for stdout (not a\n"
	"                          terminal)\n"
	"      --procs N           at most N live processes (16)\n"
	"      --cpus N            events spread over N CPUs (4)\n"
	"  -a, --arenas N          the server's anonymous arenas (4)\n"
	"  -A, --arena-pages N     pages per arena (16384)\n"
	"  -q, --quiet             no progress line\n"
	"\n"
	"examples:\n"
	"  cowsim synth -n 20000000 -s 7 -o /tmp/bench.ev\n"
	"  cowsim synth -n 100000 -o - | ssh host 'cat > s.ev'\n";

enum { OPT_PROCS = CLI_OPT_VERB_FIRST, OPT_CPUS };

static const struct option synth_opts[] = {
	{ "events", required_argument, NULL, 'n' },
	{ "seed", required_argument, NULL, 's' },
	CLI_OPT_OUTPUT,
	{ "procs", required_argument, NULL, OPT_PROCS },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "arenas", required_argument, NULL, 'a' },
	{ "arena-pages", required_argument, NULL, 'A' },
	CLI_OPT_QUIET,
	CLI_OPTS_END,
};

/* Letters synth used before the grammar gave them to every verb. */
static const struct cli_retired synth_retired[] = {
	{ 'P', "-P is --pid in every verb; the process bound is --procs" },
	{ 'c', "-c is --config in every verb; the CPUs are --cpus" },
	{ 0, NULL },
};

static const struct cli_verb synth_verb = {
	.name = "synth", .usage = synth_usage, .opts = synth_opts,
	.retired = synth_retired,
};

int cmd_synth(int argc, char **argv)
{
	struct cli_common co;
	struct synth_opts o;
	int c;
	uint64_t v;

	synth_defaults(&o);
	cli_common_init(&co);
	while ((c = cli_getopt(&synth_verb, &co, argc, argv)) >= 0) {
		if (cli_parse_u64(optarg, &v))
			return cli_usage_error(&synth_verb, "'%s' is not a number",
			                       optarg);
		switch (c) {
		case 'n': o.events = v; break;
		case 's': o.seed = v; break;
		case OPT_PROCS:
			if (v > 4096)
				return cli_usage_error(&synth_verb, "--procs at most 4096");
			o.max_procs = (uint32_t)v;
			break;
		case OPT_CPUS:
			if (v > 256)
				return cli_usage_error(&synth_verb, "--cpus at most 256");
			o.cpus = (uint32_t)v;
			break;
		case 'a':
			if (v > 8)
				return cli_usage_error(&synth_verb, "--arenas at most 8");
			o.arenas = (uint32_t)v;
			break;
		case 'A':
			if (v > (1u << 22))
				return cli_usage_error(&synth_verb, "--arena-pages too large");
			o.arena_pages = (uint32_t)v;
			break;
		}
	}
	cli_common_free(&co);
	if (c != CLI_END)
		return cli_exit_status(c);
	if (optind < argc)
		return cli_usage_error(&synth_verb, "unexpected argument '%s'",
		                       argv[optind]);
	if (!co.output)
		return cli_usage_error(&synth_verb, "-o FILE is required (where to "
		                       "write the events; - for stdout)");
	if (!o.events || !o.max_procs || !o.cpus || !o.arena_pages)
		return cli_usage_error(&synth_verb, "counts must be positive");
	o.progress = progress_wanted(co.quiet);
	char err[512] = "";
	if (synth_write(&o, co.output, err, sizeof(err)))
		return cli_die("%s", err);
	return 0;
}
