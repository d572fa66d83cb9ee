/*
 * cli.h - what the verbs of the cowsim command line share: their entry
 * points, error reporting, and the options several verbs take alike, parsed
 * and acted on in one place.
 *
 * A verb is `int cmd_NAME(int argc, char **argv)` in a file of its own,
 * cli/cmd_NAME.c, listed once in commands[] (cowsim.c), the table that
 * gives `cowsim --help` its order and its summaries.  argv[0] is the verb's
 * name.  A verb returns the process's exit status: 0 success, 1 the job ran
 * and what it checked failed, 2 bad usage or bad input (after cli_die()
 * said why).  The helpers below that print a message return that 2, so a
 * verb can pass it on.
 *
 * The grammar (docs/cli.md): one letter means one thing in every verb.
 * A verb describes itself in a struct cli_verb - its name, its --help
 * text and its struct option table, built from the CLI_OPT_* entries for
 * the options verbs share and ended by CLI_OPTS_END (--help, --version) -
 * and reads its arguments with cli_getopt(), which keeps the shared
 * options in a struct cli_common, prints --help and --version, and on a
 * mistake prints the two-line hint ("unknown option '--polcy'; did you
 * mean '--policy'?" / "Try 'cowsim replay --help'.") so that no verb words
 * these differently.  An option's short letter is its val in the table;
 * an option with no letter has a val of CLI_LONG_ONLY or above, so the
 * getopt short string is derived from the table and cannot disagree
 * with it.
 *
 * The store those options name is opened by cli_open_store() (which tells
 * the user when it migrated the file), and the runs they select are loaded
 * by cli_load_runs(): every verb that touches the results store goes
 * through these two, so --db is read, and its messages worded, once.
 *
 * Lifecycle: cli_common_init(), cli_getopt() until it returns CLI_END (or
 * a stop: return cli_exit_status() of it), ..., cli_common_free() (which
 * frees the --trace list, not the strings: they are argv's).
 */
#ifndef COWSIM_CLI_H
#define COWSIM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct rep_data;
struct scn;

/* The verbs. */
int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

/* Print "cowsim: message" on stderr; returns 2 (the bad-input status). */
int cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a non-negative integer (decimal or 0x); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Append arg (not copied: an optarg lives as long as argv) to the array
 * *v of *n strings.  Returns 0, or 2 after saying "out of memory". */
int cli_push_arg(const char ***v, size_t *n, const char *arg);

/* ------------------------------------------------------------------ */
/* the grammar: options every verb spells alike                       */

/* vals from here up are options with no short letter. */
#define CLI_LONG_ONLY 256

/* The shared options' struct option entries; the val of each is its short
 * letter.  cli_getopt() handles the ones struct cli_common holds. */
#define CLI_OPT_DB      { "db", required_argument, NULL, 'D' }
#define CLI_OPT_TRACE   { "trace", required_argument, NULL, 't' }
#define CLI_OPT_POLICY  { "policy", required_argument, NULL, 'p' }
#define CLI_OPT_QUIET   { "quiet", no_argument, NULL, 'q' }
#define CLI_OPT_FORMAT  { "format", required_argument, NULL, 'f' }
#define CLI_OPT_INPUT_FORMAT { "input-format", required_argument, NULL, 'I' }
#define CLI_OPT_OUTPUT  { "output", required_argument, NULL, 'o' }
#define CLI_OPT_PID     { "pid", required_argument, NULL, 'P' }
#define CLI_OPT_COMM    { "comm", required_argument, NULL, CLI_OPT_COMM_VAL }
#define CLI_OPT_COMM_VAL (CLI_LONG_ONLY + 0)
#define CLI_OPT_SYSROOT { "sysroot", required_argument, NULL, CLI_OPT_SYSROOT_VAL }
#define CLI_OPT_SYSROOT_VAL (CLI_LONG_ONLY + 1)
/* Shared letters whose values each verb reads itself. */
#define CLI_OPT_CONFIG  { "config", required_argument, NULL, 'c' }
#define CLI_OPT_COST    { "cost", required_argument, NULL, 'C' }
#define CLI_OPT_VERBOSE { "verbose", no_argument, NULL, 'v' }
/* The end of every verb's table: --help and --version, then the null
 * entry. */
#define CLI_OPTS_END { "help", no_argument, NULL, 'h' }, \
                     { "version", no_argument, NULL, 'V' }, { 0 }
/* A verb's own long-only options number from here. */
#define CLI_OPT_VERB_FIRST (CLI_LONG_ONLY + 16)

/* A short letter a verb once used for something that has another meaning
 * now, and what to say to whoever still types it. */
struct cli_retired {
	char letter;
	const char *hint;          /* e.g. "-p is --policy in every verb; the
	                              process is --pid (-P)" */
};

struct cli_verb {
	const char *name;          /* "replay" */
	const char *usage;         /* the --help text, ending in examples */
	const struct option *opts; /* ended by CLI_OPTS_END */
	const struct cli_retired *retired; /* ended by letter 0; may be NULL */
};

struct cli_common {
	const char *dbpath;      /* --db FILE, STORE_DEFAULT_DB if not given */
	const char *policy;      /* --policy P[,P...], NULL if not given: for
	                            replay the presets to run, for the readers
	                            of the store the runs to show */
	const char **traces;     /* --trace T, each time given: which stored
	                            traces to show (rep_load()'s selectors) */
	size_t ntraces;
	int quiet;               /* --quiet */
	const char *format;      /* --format: what is written; NULL if not
	                            given (each verb checks its values) */
	const char *infmt;       /* --input-format: what is read; NULL detects */
	const char *output;      /* --output FILE, "-" for stdout; NULL */
	uint32_t pid;            /* --pid N; 0 if not given */
	const char *comm;        /* --comm NAME; NULL */
	const char *sysroot;     /* --sysroot DIR: where exec'd files are read
	                            from; NULL the local file system */
};

void cli_common_init(struct cli_common *co);

/* What cli_getopt() returns besides an option's val. */
enum {
	CLI_END = -1,            /* the options are done: argv[optind] on are
	                            the operands */
	CLI_EXIT_OK = -2,        /* --help or --version was printed */
	CLI_EXIT_USAGE = -3,     /* a usage error was reported */
};

/*
 * getopt_long() over v's table.  Keeps the shared options in co, prints
 * --help (v->usage, on stdout) and --version, and reports any mistake -
 * an unknown option (with the nearest of v's options), an ambiguous
 * abbreviation, a missing or unwanted value, a retired letter, a bad
 * --pid - as "cowsim VERB: ..." plus "Try 'cowsim VERB --help'." on
 * stderr.  Returns the val of an option of the verb's own, CLI_END, or
 * CLI_EXIT_OK / CLI_EXIT_USAGE: the verb then returns
 * cli_exit_status() of it (0 or 2).
 */
int cli_getopt(const struct cli_verb *v, struct cli_common *co, int argc,
               char **argv);

/* The exit status for a CLI_EXIT_* result of cli_getopt(). */
static inline int cli_exit_status(int c)
{
	return c == CLI_EXIT_OK ? 0 : 2;
}

/*
 * Report a usage error of verb v - "cowsim VERB: message" then "Try
 * 'cowsim VERB --help'." - on stderr.  Returns 2.
 */
int cli_usage_error(const struct cli_verb *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The index of arg in the NULL-terminated names, for an option such as
 * --format whose value is one of a few words, names[0] the default: 0 when
 * arg is NULL (not given).  Returns -1 after cli_usage_error() said "OPT
 * must be a, b or c, not 'arg'" with the nearest name.
 */
int cli_choice(const struct cli_verb *v, const char *opt, const char *arg,
               const char *const *names);

/*
 * The [cost] text that --cost ARG names: the file ARG ('-' is stdin) read
 * whole, or, when no such file exists, the cost preset ARG ("[policy]
 * cost = ARG").  Checked by applying it to the defaults once, so that a
 * bad --cost is one error whatever the number of policies.  Returns 0 with
 * *text (free() it) and *origin (the name cfg_apply_text() messages should
 * give it), or 2 after printing why.
 */
int cli_cost_text(const char *cost, char **text, const char **origin);

/* Print "cowsim VERSION" on stdout (for --version); returns 0. */
int cli_version(void);

void cli_common_free(struct cli_common *co);

/*
 * Open the results store at path (store_open(); flags STORE_CREATE for a
 * writer), and say on stderr when it was migrated from an older schema.
 * Returns 0 and *out (store_close() it), or 2 after printing why not.
 */
int cli_open_store(const char *path, int flags, struct store **out);

/*
 * Load the runs co selects (--trace, --policy) from s, opened from
 * co->dbpath, into *d (rep_free() it, also after an error).  Returns 0, or
 * 2 after printing why (nothing matched, an SQLite error).
 */
int cli_load_runs(const struct cli_common *co, struct store *s,
                  struct rep_data *d);

/*
 * Check that every `expect` line of scenario s names known presets and
 * metrics (the importers cannot: presets and metrics are the engine's).
 * Returns 0, or 2 after "file:line:col: unknown ..." with the nearest
 * names.  `check` evaluates the expectations; `replay` only refuses a
 * scenario whose expectations could never be evaluated.
 */
int cli_scn_check(const struct scn *s);

/*
 * Put configuration c under fork design `mode` (the fork_mode switch:
 * copy, on-demand, async), as `--fork-mode` and a scenario's `fork-mode`
 * do: the switch is set, "+MODE" is added to the name unless the mode is
 * copy (so one replay can hold a preset under several designs), and the
 * switch is appended to c->text (if any) so that the stored configuration
 * says it.  origin names the setting in messages.  Returns 0, or 2 after
 * printing "ORIGIN: 'fork_mode' has no value 'x'" (or out of memory).
 */
struct sim_config;
int cli_fork_mode(struct sim_config *c, const char *mode, const char *origin);

#endif
