/*
 * store.h - the results store: every replay's runs in one SQLite database
 * that users query with the sqlite3 shell or pandas, and that `cowsim
 * compare` and `cowsim report` read.  The schema, its conventions and
 * example queries are in docs/store.md; this header is the C API.
 *
 * The store keeps what a replay produced and re-derives nothing: the
 * processes, threads, forks and markers are the engines' records
 * (sim_procs(), sim_threads(), sim_forks(), sim_markers()), and a fault's
 * event index and the kernel's label for it come from the engine's fault
 * hook.  Its files, by job:
 *   store.c        opening, schema versions, migrations
 *   store_key.c    identity: the trace's content hash, the run key, the
 *                  trace's unique name, the policy's era sort key
 *   store_rec.c    while the replay runs: what is stored already, the
 *                  fault hooks that spool --faults rows
 *   store_write.c  the commit: everything in one transaction
 *   spool.c        temporary files the rows wait in (spool.h)
 *   sqlbatch.c     rows inserted many to a statement (sqlbatch.h)
 *
 * Invariants:
 *  - A database this module opened for writing has the current schema
 *    (PRAGMA user_version == STORE_SCHEMA_VERSION, application_id ==
 *    STORE_APP_ID), is in WAL mode and has a busy timeout, so that several
 *    cowsim processes can write it at once: each waits for the other's
 *    transaction instead of failing.
 *  - A replay's runs land in one transaction (BEGIN IMMEDIATE ... COMMIT):
 *    a process killed at any point leaves the database as it was.  Nothing
 *    is written while the replay runs; per-fault rows are spooled to an
 *    unlinked temporary file and copied in at commit, so the write lock is
 *    held for the insert only, not for the whole replay.
 *  - A run is recognised by its key, a hash of the trace's content and the
 *    full configuration text it ran with: the same trace (wherever it now
 *    lives) under the same configuration is stored once.  A second store
 *    is skipped, or replaces the first with store_opts.replace.
 *  - Databases of an older schema are migrated forward on open, in one
 *    transaction; a newer one is refused, never modified.
 *  - traces.name is unique (an index keeps it so) and, once given, changes
 *    only by an explicit store_opts.name.
 *
 * Lifecycle, writing a replay:
 *   store_open(path, STORE_CREATE, &s)
 *   per trace:  replay_init(&r) ... replay_add() ...
 *               store_rec_begin(s, &r, path, &opts, &rec)   installs hooks
 *               replay_run(&r, src)
 *               store_rec_commit(rec, src, &res)            one transaction
 *               store_rec_free(rec); replay_free(&r)
 *   store_close(s)
 * Reading (compare, report): store_open(path, 0, &s), then store_db(s)
 * for queries (reports/rep.h loads what the reports need).
 *
 * Errors: functions return 0 or a negative errno, with a message in err
 * that names the database file and says what to do.
 */
#ifndef COWSIM_STORE_H
#define COWSIM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define STORE_SCHEMA_VERSION 5
#define STORE_APP_ID 0x636f7773      /* "cows" */
#define STORE_DEFAULT_DB "cowsim.db"
/* How long a writer waits for another one's transaction (a big --faults
 * store can hold the lock for many seconds). */
#define STORE_BUSY_MS (10 * 60 * 1000)

struct replay;
struct ev_source;

enum store_flags {
	STORE_CREATE = 1,   /* create the file if missing; migrate; writer */
};

struct store {
	sqlite3 *db;
	char *path;
	int version;        /* schema version found on open: if below
	                       STORE_SCHEMA_VERSION (and not 0, a new file),
	                       store_open() migrated it; tell the user */
};

/*
 * Open (and with STORE_CREATE create) the database at path, migrating an
 * older schema.  Returns 0 and *out, or:
 *   -ENOENT   no such file (without STORE_CREATE);
 *   -EACCES   cannot be opened or created (permissions, missing folder);
 *   -EINVAL   not an SQLite database, corrupt, or not a cowsim one;
 *   -EPROTO   written by a newer cowsim (its schema version is higher);
 *   -EIO      migration or setup failed (message from SQLite).
 */
int store_open(const char *path, int flags, struct store **out, char *err,
               size_t errlen);
void store_close(struct store *s);

static inline sqlite3 *store_db(const struct store *s)
{
	return s->db;
}

/*
 * The schema as SQL, step by step: store_migration_sql(v) is what takes a
 * database from version v to v + 1 (v = 0: an empty file).  The metric
 * columns of `runs` are generated from SIM_COUNTERS/SIM_GAUGES.  Returns a
 * malloc'd string, or NULL past the last step or on ENOMEM.  Exposed for the
 * tests, which build old databases with it.
 */
char *store_migration_sql(int from_version);

/* ------------------------------------------------------------------ */
/* recording a replay                                                  */

/* Where a replay's runs came from, stored with each run (runs.command_line,
 * selection, cost_preset; docs/store.md).  Any field may be NULL: unknown.
 * The store adds what it can find itself: the cowsim version and the host
 * kernel (uname). */
struct store_prov {
	const char *command_line;  /* argv, shell-quoted, joined by spaces */
	const char *selection;     /* the process selection: "--pid 42",
	                              "--comm redis"; NULL for the whole trace */
	const char *cost;          /* the --cost argument: the cost preset of
	                              runs whose config names none itself */
};

struct store_opts {
	int faults;         /* one row per write fault and per-run decisions */
	int replace;        /* replace runs already stored (same key) */
	int progress;       /* progress line on stderr while inserting */
	const char *name;   /* the trace's display name (--name), or NULL for
	                       the shortest path suffix no other trace has; a
	                       trace already stored is renamed to it */
	const struct store_prov *prov;   /* or NULL; its strings must live
	                                    until store_rec_free() */
};

struct store_rec;

/*
 * Prepare to store the replay r of the trace at path (r's policies all
 * added, at least one): hash the file, look up which runs the database
 * already has, and with opts->faults install the fault hooks (r's first
 * run's for the trace's faults, each run's whose decisions are wanted);
 * without it nothing is installed.  Returns 0, -ENOMEM, -EINVAL (no
 * policy, or path is not a regular file), -EEXIST (opts->name is another
 * trace's, or empty), or -errno with a message (the
 * trace file cannot be read, a spool cannot be made, the database cannot
 * be queried).
 */
int store_rec_begin(struct store *s, struct replay *r, const char *path,
                    const struct store_opts *opts, struct store_rec **out,
                    char *err, size_t errlen);

/* What store_rec_commit() did, for the user. */
struct store_result {
	int64_t trace_id;
	size_t stored;       /* runs inserted */
	size_t replaced;     /* of which replaced an older run */
	size_t skipped;      /* runs already there, left alone */
	char skipped_names[256];   /* their policies, comma-separated */
	uint64_t fault_rows; /* faults + decision rows written */
};

/*
 * After a successful replay_run(): write the trace (if new), its processes
 * and markers, and every run not already stored, in one transaction.  src
 * must be the source the replay read (its string table holds the names of
 * processes and the text of markers).  Returns 0, or a negative errno with
 * a message (-EIO: SQLite failed or a spool could not be written; -EINVAL:
 * the trace is stored with other processes than this replay saw; -EEXIST:
 * another trace took opts->name meanwhile; -ENOMEM);
 * on error nothing was written.
 */
int store_rec_commit(struct store_rec *rec, const struct ev_source *src,
                     struct store_result *res, char *err, size_t errlen);

void store_rec_free(struct store_rec *rec);

/*
 * The XXH3-128 hash of a file's bytes as 32 hex digits (what `xxhsum -H2`
 * prints), read in a streaming pass.  Returns 0, or -errno with a message.
 */
int store_hash_file(const char *path, char hex[33], uint64_t *size,
                    char *err, size_t errlen);

#endif
