/*
 * store_int.h - what the files that record a replay share (store_rec.c
 * while the replay runs, store_write.c at commit, store_key.c for the
 * keys); not an API: store.h is.
 */
#ifndef COWSIM_STORE_INT_H
#define COWSIM_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/replay.h"
#include "../sim/sim.h"
#include "spool.h"
#include "store.h"

/* A spooled write fault.  The observed outcome and user bit ride in the
 * top byte of addr (user addresses are below 2^47). */
struct fault_rec {
	uint64_t seq;            /* first: the spool is searched by it */
	uint64_t ts;
	uint64_t addr;           /* | observed << 56 | user << 60 */
	uint32_t proc;           /* process record (sim_procs()) */
	uint32_t tid;
};
_Static_assert(sizeof(struct fault_rec) == 32, "spool record size");
#define FR_OBS_SHIFT 56
#define FR_USER_BIT (1ull << 60)
#define FR_ADDR_MASK ((1ull << 56) - 1)

struct rec_run {
	struct store_rec *rec;
	struct replay_run *run;
	char key[33];
	char *config;            /* cfg_format() text */
	int stored_before;       /* run key found at begin */
	int spool_on;            /* its decisions are spooled */
	struct spool dec;        /* (seq << 8 | outcome) per write fault */
};

struct store_rec {
	struct store *s;
	struct replay *r;
	struct store_opts o;
	char hash[33];
	uint64_t size;
	char *path;              /* as given */
	char *name;              /* opts.name, or NULL */
	struct store_prov prov;  /* the caller's, or all NULL */
	int trace_known;         /* trace row existed at begin */
	int faults_known;        /* ... with its faults */

	int spool_faults;        /* the trace's faults are wanted: runs[0]'s
	                            hook spools them */
	struct spool faults;     /* struct fault_rec, in seq order */

	struct rec_run *runs;
	size_t nruns;
};

/* The engine whose records are the trace's (every engine has the same). */
static inline const struct sim_engine *store_trace_engine(
	const struct store_rec *t)
{
	return t->runs[0].run->e;
}

/* The run key (store.h): XXH3-128 of the trace's hash and the full
 * configuration text, as 32 hex digits. */
void store_run_key(const char *trace_hash, const char *config, char out[33]);

/* The display name of a new trace at path (absolute as stored): the
 * shortest suffix of whole path components that no other trace (by hash)
 * in db is named, else "BASENAME@HASH8" (the same path with other content
 * stored before).  Returns 0 and a malloc'd *out, -ENOMEM, or -EIO (an
 * SQLite error: sqlite3_errmsg(db) says which). */
int store_trace_name(sqlite3 *db, const char *path, const char *hash,
                     char **out);

/* runs.policy_order for a policy name: a text key under which linux-N.M
 * presets sort in version order (5.7 < 5.9 < 5.18 < 6.12), before every
 * other name, which sort by name.  Always NUL-terminated in len. */
void store_policy_order(const char *policy, char *out, size_t len);

/* Is name taken by a trace other than the one with this hash?  Returns
 * 0 (free), -EEXIST with a message naming that trace, or -EIO. */
int store_name_check(struct store_rec *t, const char *name, char *err,
                     size_t errlen);

/* Say in err what failed (rc, an SQLite code) for the user.  Returns
 * -EIO. */
int store_sql_fail(const struct store_rec *t, int rc, const char *what,
                   char *err, size_t errlen);

#endif
