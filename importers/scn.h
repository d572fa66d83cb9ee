/*
 * scn.h - hand-written scenarios: a small line-oriented language for event
 * sequences with named processes and symbolic addresses, plus `expect`
 * lines stating what each policy must conclude.  Grammar: docs/scenarios.md.
 *
 * A scenario is parsed whole (they are small) into an event array, its
 * string table and its expectations; scn_open_source() wraps it as an
 * event source so that `cowsim replay x.scn` works like any trace, and
 * `cowsim check` evaluates the expectations.
 *
 * Errors: scn_parse_file() returns 0, or -EINVAL with "file:line:col:
 * message" in err (or another negative errno for I/O).  Nothing is kept
 * from a scenario that failed to parse.
 */
#ifndef COWSIM_SCN_H
#define COWSIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "evsrc.h"
#include "../lib/strtab.h"

enum scn_op { SCN_EQ, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

struct scn_check {
	int kind;            /* 0 metric, 1 pass, 2 fail */
	char metric[48];
	enum scn_op op;
	uint64_t value;
	uint32_t col;
};

struct scn_expect {
	uint32_t line;
	uint32_t pcol;       /* column of the policies word */
	char *policies;      /* comma-separated preset names, or "all" */
	struct scn_check *checks;
	size_t nchecks;
};

struct scn {
	char *path;
	char *name;
	struct cs_ev *ev;
	size_t nev, capev;
	struct strtab strings;
	struct scn_expect *exp;
	size_t nexp, capexp;
	bool swap;
	char fork_mode[16];  /* `fork-mode M`: the fork design every policy
	                        replays it under ("" = each policy's own) */
};

/* What a scenario may make the parser do: a scenario is code, and a hostile
 * one must end, in bounded memory, with an error naming its line.
 * SCN_LIMITS_DEFAULT is what the tool allows (5e7 events are 2.4 GB). */
struct scn_limits {
	uint64_t events;     /* events the scenario expands to */
	uint64_t steps;      /* statements executed, 'end's included */
};
#define SCN_LIMITS_DEFAULT ((struct scn_limits){ 50000000u, 100000000u })

int scn_parse_file(const char *path, struct scn *out, char *err, size_t errlen);
int scn_parse_text(const char *origin, const char *text, struct scn *out,
                   char *err, size_t errlen);
/* scn_parse_text() under other limits (the fuzz target's are small, so that
 * its inputs stay fast).  Same returns. */
int scn_parse_text_limits(const char *origin, const char *text,
                          const struct scn_limits *lim, struct scn *out,
                          char *err, size_t errlen);
void scn_free(struct scn *s);

/* True if the expectation names the policy (or says "all"). */
bool scn_expect_names(const struct scn_expect *x, const char *policy);

/* The scenario behind an event source scn_open_source() made; NULL for
 * any other source. */
const struct scn *scn_of_source(const struct ev_source *src);

int scn_open_source(const char *path, struct ev_source **out, char *err,
                    size_t errlen);

#endif
