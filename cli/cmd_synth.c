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
	"usage: cowsim synth --events N [--seed S] [--quiet] -o FILE\n"
	"                    [--procs N] [--cpus N] [--arenas N] [--arena-pages N]\n"
	"\n"
	"Write a synthetic event stream of N events: a long-lived server with\n"
	"threads, heap and arenas; snapshot, worker and fork+exec children;\n"
	"O_DIRECT pins and vmsplice references.  The same seed always gives the\n"
	"same stream.  --procs bounds the live processes (16), --cpus spreads\n"
	"events over CPUs (4), --arenas and --arena-pages size the server's\n"
	"anonymous memory (4 x 16384 pages).  On a terminal a progress line\n"
	"shows the events written, the rate and an ETA; --quiet hides it.\n"
	"\n"
	"example:\n"
	"  cowsim synth --events 20000000 --seed 7 -o /tmp/bench.ev\n";

int cmd_synth(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "procs", required_argument, NULL, 'P' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "arenas", required_argument, NULL, 'a' },
		{ "arena-pages", required_argument, NULL, 'A' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct synth_opts o;
	const char *path = NULL;
	int c, quiet = 0;
	uint64_t v;

	synth_defaults(&o);
	while ((c = getopt_long(argc, argv, "n:s:o:P:c:a:A:qh", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(synth_usage, stdout);
			return 0;
		}
		if (c == 'o') {
			path = optarg;
			continue;
		}
		if (c == 'q') {
			quiet = 1;
			continue;
		}
		if (c == '?' || cli_parse_u64(optarg, &v)) {
			if (c != '?')
				return cli_die("synth: '%s' is not a number", optarg);
			fputs(synth_usage, stderr);
			return 2;
		}
		switch (c) {
		case 'n': o.events = v; break;
		case 's': o.seed = v; break;
		case 'P': if (v > 4096) return cli_die("synth: --procs at most 4096");
		          o.max_procs = (uint32_t)v; break;
		case 'c': if (v > 256) return cli_die("synth: --cpus at most 256");
		          o.cpus = (uint32_t)v; break;
		case 'a': if (v > 8) return cli_die("synth: --arenas at most 8");
		          o.arenas = (uint32_t)v; break;
		case 'A': if (v > (1u << 22)) return cli_die("synth: --arena-pages too large");
		          o.arena_pages = (uint32_t)v; break;
		}
	}
	if (!path || optind < argc) {
		fputs(synth_usage, stderr);
		return 2;
	}
	if (!o.events || !o.max_procs || !o.cpus || !o.arena_pages)
		return cli_die("synth: counts must be positive");
	o.progress = progress_wanted(quiet);
	char err[512] = "";
	if (synth_write(&o, path, err, sizeof(err)))
		return cli_die("%s", err);
	return 0;
}
