/*
 * cowsim.c - the command line: one binary, one verb per job, each verb in
 * a file of its own (cmd_*.c, check.c) next to the module it drives.
 *
 * Exit status, for every verb: 0 success; 1 the job ran and found what it
 * was asked to look for failing (`check`: an expectation not met); 2 bad
 * usage or bad input (a message names the file and the line, column or
 * record).  Results go to stdout only when the whole job succeeded, so a
 * failure never leaves half a table or half a JSON array behind.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_die(const char *fmt, ...)
{
	va_list ap;
	fputs("cowsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "replay", cmd_replay, "replay traces through COW policies, side by side" },
	{ "check", cmd_check, "run scenarios and check their expectations" },
	{ "policies", cmd_policies, "list the policy presets and their switches" },
	{ "synth", cmd_synth, "write a synthetic event stream" },
	{ "dump", cmd_dump, "print the normalized events of a trace" },
	{ "import", cmd_import, "read a real trace (trace.dat, ftrace, perf) into an event file" },
	{ "compare", cmd_compare, "stored runs side by side, with ratios to a baseline" },
	{ "report", cmd_report, "plots and an HTML page from the stored runs" },
};

static void usage(FILE *f)
{
	fputs("usage: cowsim VERB [OPTIONS] [ARGS]\n\n"
	      "cowsim replays page-fault traces through models of how Linux kernels\n"
	      "decide copy-on-write, and reports copies, memory, fork latency, and\n"
	      "correctness (leaks, lost pins) per policy.\n\nverbs:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n`cowsim VERB --help` describes a verb, with examples.\n"
	      "Exit status: 0 ok, 1 checks failed, 2 bad usage or bad input.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cowsim: unknown verb '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
