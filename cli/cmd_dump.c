/*
 * cmd_dump.c - `cowsim dump`: the normalized events of any trace cowsim
 * reads, one line each, to see what an importer or a scenario made.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../importers/open.h"
#include "cli.h"

static const char dump_usage[] =
	"usage: cowsim dump TRACE [-n N] [-I FORMAT]\n"
	"\n"
	"Print the normalized events of any trace cowsim reads, one per line:\n"
	"time (ns), cpu, tid/tgid, type and its fields.  For checking what an\n"
	"importer made of a trace, or what a scenario expands to.\n"
	"\n"
	"  -n, --limit N           stop after N events\n"
	"  -I, --input-format FMT  what is read: events, scenario, dat, ftrace,\n"
	"                          perf (default: detected from the content)\n"
	"\n"
	"examples:\n"
	"  cowsim dump traces/scenarios/cow-01-basic.scn\n"
	"  cowsim dump capture.txt -I ftrace -n 20\n";

static const struct option dump_opts[] = {
	{ "limit", required_argument, NULL, 'n' },
	CLI_OPT_INPUT_FORMAT,
	CLI_OPTS_END,
};

static const struct cli_verb dump_verb = {
	.name = "dump", .usage = dump_usage, .opts = dump_opts,
};

/* One event as a line of text. */
static void print_event(FILE *out, const struct ev_source *src,
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
	struct cli_common co;
	uint64_t limit = UINT64_MAX, done = 0;
	int c;

	cli_common_init(&co);
	while ((c = cli_getopt(&dump_verb, &co, argc, argv)) >= 0)
		if (c == 'n' && cli_parse_u64(optarg, &limit))
			return cli_usage_error(&dump_verb, "--limit: '%s' is not a "
			                       "number", optarg);
	cli_common_free(&co);
	if (c != CLI_END)
		return cli_exit_status(c);
	if (optind + 1 != argc)
		return cli_usage_error(&dump_verb, optind < argc ? "one TRACE at a "
		                       "time" : "no TRACE to dump");
	struct ev_source *src;
	struct evsrc_opts so = { .format = co.infmt, .quiet = 1 };
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
			print_event(stdout, src, &buf[i]);
	}
	free(buf);
	evsrc_close(src);
	return rc;
}
