/*
 * cowsim.c - the command line: one binary, one verb per job, and the one
 * table of verbs, commands[] (as git.c's and perf.c's), from which main()
 * dispatches and `cowsim --help` lists them, in its order.  Each verb lives
 * in a file of its own, cli/cmd_NAME.c; the options several verbs share are
 * parsed in cli.c.  `cowsim help VERB` runs `cowsim VERB --help`, so the
 * two never differ; a verb that is not one is answered with the nearest
 * that is.
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
#include "../lib/suggest.h"

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
	{ "calibrate", cmd_calibrate, "fit the fork cost parameters to a trace's observed fork latencies" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: cowsim VERB [OPTIONS] [ARGS]\n"
	      "       cowsim help [VERB] | --version\n\n"
	      "cowsim replays page-fault traces through models of how Linux kernels\n"
	      "decide copy-on-write, and reports copies, memory, fork latency, and\n"
	      "correctness (leaks, lost pins) per policy.\n\nverbs:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].cmd, commands[i].help);
	fputs("\n`cowsim VERB --help` (or `cowsim help VERB`) describes a verb, with\n"
	      "examples.  Every verb spells an option alike: -D --db, -t --trace,\n"
	      "-p --policy, -q --quiet, -f --format (what is written), -I\n"
	      "--input-format (what is read), -o --output (- for stdout), -P --pid,\n"
	      "-V --version, -h --help (see docs/cli.md).\n"
	      "Exit status: 0 ok, 1 checks failed, 2 bad usage or bad input.\n", f);
}

/* The verb named name, or NULL. */
static const struct cmd_struct *find_verb(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].cmd))
			return &commands[i];
	return NULL;
}

/* "cowsim: 'replya' is not a verb; did you mean 'replay'?" and where the
 * list is.  Returns 2. */
static int not_a_verb(const char *name)
{
	struct suggest sg;
	char near[256];

	suggest_init(&sg, name);
	for (size_t i = 0; i < NCOMMANDS; i++)
		suggest_add(&sg, commands[i].cmd);
	fprintf(stderr, "cowsim: '%s' is not a verb%s\nTry 'cowsim --help'.\n",
	        name, suggest_format(&sg, NULL, near, sizeof(near)));
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *a = argv[1];
	if (!strcmp(a, "--help") || !strcmp(a, "-h") ||
	    (!strcmp(a, "help") && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(a, "--version") || !strcmp(a, "-V"))
		return cli_version();
	if (!strcmp(a, "help")) {
		/* `cowsim help VERB` is `cowsim VERB --help`, word for word. */
		const struct cmd_struct *c = find_verb(argv[2]);
		char *args[] = { argv[2], "--help", NULL };
		if (!c)
			return not_a_verb(argv[2]);
		return c->fn(2, args);
	}
	if (a[0] == '-') {
		struct suggest sg;
		char near[256];
		static const char *const top[] = { "--help", "--version" };
		suggest_init(&sg, a);
		for (size_t i = 0; i < sizeof(top) / sizeof(*top); i++)
			suggest_add(&sg, top[i]);
		fprintf(stderr, "cowsim: unknown option '%s'%s\nTry 'cowsim "
		        "--help'.\n", a,
		        suggest_format(&sg, NULL, near, sizeof(near)));
		return 2;
	}
	const struct cmd_struct *c = find_verb(a);
	if (!c)
		return not_a_verb(a);
	return c->fn(argc - 1, argv + 1);
}
