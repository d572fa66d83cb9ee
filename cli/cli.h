/*
 * cli.h - helpers shared by the verbs of the cowsim command line.
 */
#ifndef COWSIM_CLI_H
#define COWSIM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct replay;

/* Print "cowsim: message" on stderr; returns 2 (the bad-input status). */
int cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a non-negative integer (decimal or 0x); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Add to r the presets named in list ("all" or comma-separated; NULL means
 * all unless configs were given), then each config file, each with the
 * cost override if given.  Returns 0 or 2 after printing why. */
int cli_load_policies(struct replay *r, const char *list, char **configs,
                      size_t nconfigs, const char *cost);

/* The verbs (cowsim.c dispatches; each lives next to what it drives). */
int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_import(int argc, char **argv);

struct ev_source;
struct cs_ev;
/* One event as a line of text (cowsim dump). */
void cli_print_event(FILE *out, const struct ev_source *src,
                     const struct cs_ev *e);

#endif
