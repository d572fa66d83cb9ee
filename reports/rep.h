/*
 * rep.h - what `cowsim compare` and `cowsim report` read from the results
 * store, and the side-by-side table both print.
 *
 * rep_load() reads the latest run of each policy on each selected trace
 * (the latest_runs view: a policy name stored again with another config
 * shows its newest run), into plain structs; the reports then never hold
 * an SQLite statement while formatting.  Columns (policies) come in era
 * order (runs.policy_order: linux-5.7 < linux-5.18 < linux-6.12, then
 * proposals by name), the same for every trace, so that tables of several
 * traces line up.
 *
 * A table (rep_table) is metric rows x policy columns: first the derived
 * headline rows (all copies, unnecessary copies, agreement with the
 * kernel), then every metric of the engine, then replay_seconds and
 * memory_peak_bytes (what the replay cost, not what it found).  Cells
 * can be empty (a metric an older cowsim did not measure, an agreement
 * without labels).
 *
 * Lifecycle: rep_load() ... rep_free(); rep_table_build() ...
 * rep_table_free().  Errors: 0 or a negative errno with a message.
 */
#ifndef COWSIM_REP_H
#define COWSIM_REP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

struct rep_run {
	int64_t id;
	char *policy, *model, *kernel;
	double replay_seconds;
	int faults_logged;
	int64_t *m;              /* sim_nmetrics() values */
	unsigned char *m_null;   /* 1: NULL (not measured by that cowsim) */
	int64_t memory_peak_bytes;   /* the engine's own; -1: unknown */
};

struct rep_trace {
	int64_t id;
	char *name;              /* display name, unique in the store */
	char *path, *hash, *format;
	int64_t size_bytes, events, processes, threads, forks, write_faults;
	int64_t labels, start_ts, dur, dropped;   /* -1: unknown */
	struct rep_run *runs;
	size_t nruns;
};

struct rep_data {
	struct rep_trace *traces;
	size_t ntraces;
};

/*
 * Load the traces matching sel (each a trace name, a path, a hash prefix
 * of 6+ digits, a trace id, or a file whose content is stored; all traces
 * when nsel is 0), with their latest runs of the policies in the comma-
 * separated list `policies` (all when NULL).  Returns 0, -ENOENT (a
 * selector matched nothing, or nothing is stored: the message lists what
 * is), -EIO (SQLite error) or -ENOMEM.
 */
int rep_load(sqlite3 *db, const char *const *sel, size_t nsel,
             const char *policies, struct rep_data *out, char *err,
             size_t errlen);
void rep_free(struct rep_data *d);
/* Free what one trace holds (rep_free() does it for each). */
void rep_trace_free(struct rep_trace *t);

struct replay;
/*
 * Append the runs of a replay just done (sim/replay.h) to d as one more
 * trace, so that `cowsim replay` prints them with the formatter `cowsim
 * compare` uses (compare.h).  What only the store knows is left unknown:
 * ids and counts -1, hash "".  Returns 0 or -ENOMEM (d unchanged).
 */
int rep_add_replay(struct rep_data *d, const struct replay *r);

/* Index of the named run in t, or -1. */
int rep_find_policy(const struct rep_trace *t, const char *policy);
/* 1 if any trace of d has a run of policy (a --baseline to accept), else 0. */
int rep_has_policy(const struct rep_data *d, const char *policy);

enum rep_kind { REP_NULL = 0, REP_INT, REP_REAL };

struct rep_cell {
	enum rep_kind kind;
	int64_t i;
	double d;
};

struct rep_row {
	const char *name;        /* metric name (column name in the store) */
	const char *doc;         /* what it means */
};

struct rep_table {
	struct rep_row *rows;
	size_t nrows, ncols;
	struct rep_cell *cells;  /* nrows x ncols, row-major */
};

/* Build t's table.  With brief, rows that are zero (or empty) under every
 * policy are left out, except the correctness rows (leaks, lost_pins), as
 * `cowsim replay` does.  Returns 0 or -ENOMEM. */
int rep_table_build(const struct rep_trace *t, int brief,
                    struct rep_table *out);
void rep_table_free(struct rep_table *tb);

static inline const struct rep_cell *rep_cell(const struct rep_table *tb,
                                              size_t row, size_t col)
{
	return &tb->cells[row * tb->ncols + col];
}

/* A cell as text ("" for an empty one).  Returns buf. */
const char *rep_cell_str(const struct rep_cell *c, char *buf, size_t len);

/* value / base as a ratio: returns 0 and *r, or -1 when undefined (either
 * empty, or base 0 with a nonzero value; 0/0 is 1). */
int rep_ratio(const struct rep_cell *c, const struct rep_cell *base,
              double *r);

/* A human-readable one-line summary of a trace ("dat, 12836 events, ...");
 * what is unknown (-1, "") is left out. */
void rep_trace_summary(const struct rep_trace *t, char *buf, size_t len);

#endif
