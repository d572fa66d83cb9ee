/*
 * cmd_misc.c - the small verbs: `cowsim policies`, `synth`, `dump`.
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
#include "../importers/synth.h"
#include "cli.h"
#include "../sim/config.h"

/* ------------------------------------------------------------------ */
/* cowsim policies                                                     */

static const char policies_usage[] =
	"usage: cowsim policies [-v] [--show NAME]\n"
	"\n"
	"List the shipped policy presets, one per line: name, model, kernel,\n"
	"description.  -v also lists every switch and cost parameter with what\n"
	"it models; --show NAME prints a preset's effective configuration as INI\n"
	"(a starting point for a --config file of your own).\n"
	"\n"
	"example:\n"
	"  cowsim policies\n"
	"  cowsim policies --show linux-5.9 > my-5.9.ini\n";

int cmd_policies(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "show", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int verbose = 0, c;
	const char *show = NULL;
	char err[512];

	while ((c = getopt_long(argc, argv, "vs:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v': verbose = 1; break;
		case 's': show = optarg; break;
		case 'h': fputs(policies_usage, stdout); return 0;
		default: fputs(policies_usage, stderr); return 2;
		}
	}
	if (optind < argc)
		return cli_die("policies: unexpected argument '%s'", argv[optind]);
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

/* ------------------------------------------------------------------ */
/* cowsim synth                                                        */

static const char synth_usage[] =
	"usage: cowsim synth --events N [--seed S] -o FILE\n"
	"                    [--procs N] [--cpus N] [--arenas N] [--arena-pages N]\n"
	"\n"
	"Write a synthetic event stream of N events: a long-lived server with\n"
	"threads, heap and arenas; snapshot, worker and fork+exec children;\n"
	"O_DIRECT pins and vmsplice references.  The same seed always gives the\n"
	"same stream.  --procs bounds the live processes (16), --cpus spreads\n"
	"events over CPUs (4), --arenas and --arena-pages size the server's\n"
	"anonymous memory (4 x 16384 pages).\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct synth_opts o;
	const char *path = NULL;
	int c;
	uint64_t v;

	synth_defaults(&o);
	while ((c = getopt_long(argc, argv, "n:s:o:P:c:a:A:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(synth_usage, stdout);
			return 0;
		}
		if (c == 'o') {
			path = optarg;
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
	char err[512] = "";
	if (synth_write(&o, path, err, sizeof(err)))
		return cli_die("%s", err);
	return 0;
}


/* ------------------------------------------------------------------ */
/* cowsim dump                                                         */

static const char dump_usage[] =
	"usage: cowsim dump TRACE [--limit N] [--input-format FMT]\n"
	"\n"
	"Print the normalized events of any trace cowsim reads, one per line:\n"
	"time (ns), cpu, tid/tgid, type and its fields.  For checking what an\n"
	"importer made of a trace, or what a scenario expands to.\n"
	"\n"
	"example:\n"
	"  cowsim dump traces/scenarios/cow-01-basic.scn\n";

void cli_print_event(FILE *out, const struct ev_source *src,
                     const struct cs_ev *e)
{
	fprintf(out, "%" PRIu64 " cpu=%u %u/%u %-9s", e->ts, e->cpu, e->tid, e->tgid,
	        ev_type_name(e->type));
	switch (e->type) {
	case EV_EXEC: case EV_COMM: case EV_MARKER:
		fprintf(out, " %s", strtab_get(&src->strings, e->arg));
		break;
	case EV_FORK:
		fprintf(out, " child=%u flags=0x%x", e->arg, e->flags);
		break;
	case EV_FORK_DONE:
		fprintf(out, " child=%u observed=%" PRIu64 "ns", e->arg, e->aux);
		break;
	case EV_EXIT:
		fprintf(out, " group=%u", e->flags & EV_EXIT_GROUP);
		break;
	case EV_MMAP:
		fprintf(out, " 0x%" PRIx64 " +%u prot=%c%c%c %s%s%s%s file=%s pgoff=%" PRIu64,
		        e->addr, e->len, e->flags & EV_PROT_READ ? 'r' : '-',
		        e->flags & EV_PROT_WRITE ? 'w' : '-',
		        e->flags & EV_PROT_EXEC ? 'x' : '-',
		        e->flags & EV_MAP_SHARED ? "shared" : "private",
		        e->flags & EV_MAP_ANON ? " anon" : "",
		        e->flags & EV_MAP_INFERRED ? " inferred" : "",
		        e->flags & EV_MAP_SNAPSHOT ? " snapshot" : "",
		        strtab_get(&src->strings, e->arg), e->aux);
		break;
	case EV_MUNMAP: case EV_SWAPIN: case EV_MIGRATE:
		fprintf(out, " 0x%" PRIx64 " +%u", e->addr, e->len);
		break;
	case EV_MPROTECT: case EV_MADVISE: case EV_SWAPOUT: case EV_PAGE_INIT:
		fprintf(out, " 0x%" PRIx64 " +%u flags=0x%x", e->addr, e->len, e->flags);
		if (e->type == EV_PAGE_INIT && e->aux)
			fprintf(out, " pfn=0x%" PRIx64, e->aux);
		break;
	case EV_MREMAP:
		fprintf(out, " 0x%" PRIx64 " +%u -> 0x%" PRIx64 " +%u", e->addr, e->len,
		        e->aux, e->arg);
		break;
	case EV_BRK:
		fprintf(out, " 0x%" PRIx64 " -> 0x%" PRIx64, e->aux, e->addr);
		break;
	case EV_FAULT:
		fprintf(out, " 0x%" PRIx64 " %s%s%s%s", e->addr,
		        e->flags & EV_PF_WRITE ? "write" : "read",
		        e->flags & EV_PF_PROT ? " present" : "",
		        e->flags & EV_PF_USER ? " user" : " kernel",
		        e->flags & EV_PF_INSTR ? " ifetch" : "");
		break;
	case EV_GUP:
		fprintf(out, " 0x%" PRIx64 " +%u id=%u flags=0x%x refs=%" PRIu64, e->addr,
		        e->len, e->arg, e->flags, e->aux ? e->aux : 1);
		break;
	case EV_GUP_PUT:
		fprintf(out, " id=%u", e->arg);
		break;
	case EV_KSM:
		fprintf(out, " 0x%" PRIx64 " +%u key=%" PRIu64, e->addr, e->len, e->aux);
		break;
	case EV_OBSERVED: {
		static const char *const o[] = { "none", "copy", "zero", "reuse", "new" };
		fprintf(out, " 0x%" PRIx64 " %s", e->addr, e->flags <= 4 ? o[e->flags] : "?");
		break;
	}
	}
	fputc('\n', out);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "input-format", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t limit = UINT64_MAX, done = 0;
	const char *infmt = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "n:I:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_u64(optarg, &limit))
				return cli_die("--limit: '%s' is not a number", optarg);
			break;
		case 'I': infmt = optarg; break;
		case 'h': fputs(dump_usage, stdout); return 0;
		default: fputs(dump_usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(dump_usage, stderr);
		return 2;
	}
	struct ev_source *src;
	struct evsrc_opts so = { .format = infmt, .quiet = 1 };
	char err[1024];
	if (evsrc_open(argv[optind], &so, &src, err, sizeof(err)))
		return cli_die("%s", err);
	struct cs_ev *buf = malloc(4096 * sizeof(*buf));
	int rc = 0;
	if (!buf) {
		evsrc_close(src);
		return cli_die("out of memory");
	}
	while (done < limit) {
		long n = evsrc_next(src, buf, 4096);
		if (n < 0) {
			rc = cli_die("%s", src->err);
			break;
		}
		if (!n)
			break;
		for (long i = 0; i < n && done < limit; i++, done++)
			cli_print_event(stdout, src, &buf[i]);
	}
	free(buf);
	evsrc_close(src);
	return rc;
}

