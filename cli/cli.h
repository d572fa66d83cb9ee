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
 * The shared options (--db, --trace, --policy, --quiet): a verb puts the
 * CLI_OPT_* entries it takes in its struct option table and hands every
 * getopt_long() result to cli_common_opt() first, which keeps the shared
 * ones in a struct cli_common.  The store those options name is opened by
 * cli_open_store() (which tells the user when it migrated the file), and
 * the runs they select are loaded by cli_load_runs(): every verb that
 * touches the results store goes through these two, so --db is read, and
 * its messages worded, once.
 *
 * Lifecycle: cli_common_init(), cli_common_opt() for each option, ...,
 * cli_common_free() (which frees the --trace list, not the strings: they
 * are argv's).
 */
#ifndef COWSIM_CLI_H
#define COWSIM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct rep_data;

/* The verbs. */
int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Print "cowsim: message" on stderr; returns 2 (the bad-input status). */
int cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a non-negative integer (decimal or 0x); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Append arg (not copied: an optarg lives as long as argv) to the array
 * *v of *n strings.  Returns 0, or 2 after saying "out of memory". */
int cli_push_arg(const char ***v, size_t *n, const char *arg);

/* ------------------------------------------------------------------ */
/* the options several verbs share                                    */

/* Their struct option entries; the val each returns is its short option
 * letter, which a verb may also list in its getopt_long() short string. */
#define CLI_OPT_DB     { "db", required_argument, NULL, 'D' }
#define CLI_OPT_TRACE  { "trace", required_argument, NULL, 't' }
#define CLI_OPT_POLICY { "policy", required_argument, NULL, 'p' }
#define CLI_OPT_QUIET  { "quiet", no_argument, NULL, 'q' }

struct cli_common {
	const char *dbpath;      /* --db FILE, STORE_DEFAULT_DB if not given */
	const char *policy;      /* --policy P[,P...], NULL if not given: for
	                            replay the presets to run, for the readers
	                            of the store the runs to show */
	const char **traces;     /* --trace T, each time given: which stored
	                            traces to show (rep_load()'s selectors) */
	size_t ntraces;
	int quiet;               /* --quiet */
};

void cli_common_init(struct cli_common *co);

/*
 * If c (a getopt_long() result, with its optarg) is one of the shared
 * options, keep it in co.  Returns 1 when it was, 0 when c is not a shared
 * option (the verb's own to handle), or -ENOMEM after saying so.
 */
int cli_common_opt(struct cli_common *co, int c, const char *arg);

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

#endif
