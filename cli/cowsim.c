/*
 * cowsim.c - the command line: one binary, one verb per job, and the one
 * table of verbs, commands[] (as git.c's and perf.c's), from which main()
 * dispatches and `cowsim --help` lists them, in its order.  Each verb lives
 * in a file of its own, cli/cmd_NAME.c; the options several verbs share are
 * parsed in cli.c.
 *
 * Exit status, for every verb: 0 success; 1 the job ran and found what it
 * was asked to look for failing (`check`: an expectation not met); 2 bad
 * usage or bad input (a message names the file and the line, column or
 * record).  Results go to stdout only when the whole job succeeded, so a
 * failure never leaves half a table or half a JSON array behind.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cmd_struct {
	const char *cmd;
	int (*fn)(int argc, char **argv);
	const char *help;        /* one line for `cowsim --help` */
};

static const struct cmd_struct commands[] = {
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].cmd, commands[i].help);
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].cmd))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cowsim: unknown verb '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
