/*
 * store.c - opening the results database: creation, schema versions and
 * their forward migrations, refusal of what is not ours (see store.h; the
 * schema is documented in docs/store.md).
 *
 * The schema is a list of steps, each taking user_version v to v + 1; an
 * empty file is version 0, so a new database and an old one go through the
 * same code.  The views are not part of any step: they are derived, so
 * every migration drops and recreates them at their current definitions.
 * All of a migration runs in one BEGIN IMMEDIATE transaction after
 * re-reading user_version, so two cowsim processes opening the same old
 * file at once migrate it once.
 *
 * The metric columns of `runs` come from SIM_COUNTERS/SIM_GAUGES.  A metric
 * added to the engine later is added to an existing database as a new
 * nullable column when a writer opens it (NULL: the cowsim that stored that
 * run did not measure it); that needs no version bump, as it changes no
 * existing column.
 */
#include "store_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sim/sim.h"

/* ------------------------------------------------------------------ */
/* schema                                                              */

/* Version 1.  Timestamps (ts) and durations (dur) are in ns of the trace
 * clock, as Perfetto's; processes get synthetic ids (upid) because pids
 * recycle.  The metric columns are appended to `runs` by
 * store_migration_sql(). */
static const char schema_v1[] =
	"CREATE TABLE traces (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  hash TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  path TEXT NOT NULL,\n"
	"  format TEXT NOT NULL,\n"
	"  size_bytes INTEGER NOT NULL,\n"
	"  events INTEGER NOT NULL,\n"
	"  processes INTEGER NOT NULL,\n"
	"  threads INTEGER NOT NULL,\n"
	"  forks INTEGER NOT NULL,\n"
	"  write_faults INTEGER NOT NULL,\n"
	"  labels INTEGER NOT NULL,\n"
	"  start_ts INTEGER,\n"
	"  dur INTEGER,\n"
	"  dropped INTEGER,\n"
	"  faults_stored INTEGER NOT NULL DEFAULT 0,\n"
	"  created TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE trace_meta (\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,\n"
	"  key TEXT NOT NULL,\n"
	"  value TEXT,\n"
	"  PRIMARY KEY (trace_id, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE processes (\n"
	"  upid INTEGER PRIMARY KEY,\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,\n"
	"  pid INTEGER NOT NULL,\n"
	"  tgid INTEGER NOT NULL,\n"
	"  comm TEXT,\n"
	"  exe TEXT,\n"
	"  parent_upid INTEGER REFERENCES processes(upid),\n"
	"  start_ts INTEGER,\n"
	"  end_ts INTEGER,\n"
	"  threads INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX processes_trace ON processes(trace_id);\n"
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id),\n"
	"  run_key TEXT NOT NULL UNIQUE,\n"
	"  policy TEXT NOT NULL,\n"
	"  model TEXT NOT NULL,\n"
	"  kernel TEXT,\n"
	"  description TEXT,\n"
	"  config TEXT NOT NULL,\n"
	"  created TEXT NOT NULL,\n"
	"  cowsim_version TEXT,\n"
	"  replay_seconds REAL,\n"
	"  memory_peak_bytes INTEGER,\n"
	"  faults_logged INTEGER NOT NULL DEFAULT 0";
	/* metric columns and ");" follow */
static const char schema_v1_tail[] =
	"CREATE INDEX runs_trace ON runs(trace_id, policy);\n"
	"CREATE TABLE forks (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  ts INTEGER NOT NULL,\n"
	"  parent_upid INTEGER REFERENCES processes(upid),\n"
	"  child_upid INTEGER REFERENCES processes(upid),\n"
	"  parent_tid INTEGER NOT NULL,\n"
	"  child_tid INTEGER NOT NULL,\n"
	"  clone_flags INTEGER NOT NULL,\n"
	"  vmas INTEGER NOT NULL,\n"
	"  ptes INTEGER NOT NULL,\n"
	"  pt_pages INTEGER NOT NULL,\n"
	"  pages_copied INTEGER NOT NULL,\n"
	"  dur INTEGER NOT NULL,\n"
	"  observed_dur INTEGER\n"
	");\n"
	"CREATE INDEX forks_run ON forks(run_id);\n"
	"CREATE TABLE faults (\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL,\n"
	"  ts INTEGER NOT NULL,\n"
	"  upid INTEGER REFERENCES processes(upid),\n"
	"  tid INTEGER NOT NULL,\n"
	"  addr INTEGER NOT NULL,\n"
	"  user INTEGER NOT NULL,\n"
	"  observed TEXT,\n"
	"  PRIMARY KEY (trace_id, seq)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE fault_decisions (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL,\n"
	"  outcome TEXT NOT NULL,\n"
	"  PRIMARY KEY (run_id, seq)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE metric_docs (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  kind TEXT NOT NULL,\n"
	"  description TEXT NOT NULL\n"
	") WITHOUT ROWID;\n";

/* Version 2: the time series each run samples (sim_sample, at most ~1024
 * points a run, for the plots over trace time) and the trace's markers
 * (workload phases, expectations).  Runs stored under version 1 have no
 * samples: the reports say "no data" for them. */
static const char schema_v2[] =
	"CREATE TABLE samples (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  ts INTEGER NOT NULL,\n"
	"  events INTEGER NOT NULL,\n"
	"  copies INTEGER NOT NULL,\n"
	"  zero_fills INTEGER NOT NULL,\n"
	"  frames INTEGER NOT NULL,\n"
	"  pt_pages INTEGER NOT NULL,\n"
	"  PRIMARY KEY (run_id, events)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE markers (\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL,\n"
	"  ts INTEGER NOT NULL,\n"
	"  upid INTEGER REFERENCES processes(upid),\n"
	"  text TEXT NOT NULL,\n"
	"  PRIMARY KEY (trace_id, seq)\n"
	") WITHOUT ROWID;\n";

/* Version 3: what a user needs to tell runs and traces apart and to build
 * on the store.  Traces get a unique display name (filled and made unique
 * by migrate_v3(), which then adds the UNIQUE index) and the kernel they
 * were captured on; runs the sort key of their policy's era and their
 * provenance (NULL for runs stored before: it was not recorded); threads
 * their table, which for traces stored before holds only each process's
 * main thread (tid = pid), the one thread the processes table implies;
 * metric_docs the unit of each metric (rewritten at every migration). */
static const char schema_v3[] =
	"ALTER TABLE traces ADD COLUMN capture_kernel TEXT;\n"
	"UPDATE traces SET capture_kernel = (SELECT value FROM trace_meta m\n"
	"  WHERE m.trace_id = traces.id AND m.key = 'kernel');\n"
	"ALTER TABLE runs ADD COLUMN policy_order TEXT;\n"
	"ALTER TABLE runs ADD COLUMN cost_preset TEXT;\n"
	"ALTER TABLE runs ADD COLUMN selection TEXT;\n"
	"ALTER TABLE runs ADD COLUMN command_line TEXT;\n"
	"ALTER TABLE runs ADD COLUMN host_kernel_release TEXT;\n"
	"ALTER TABLE runs ADD COLUMN host_kernel_version TEXT;\n"
	"ALTER TABLE metric_docs ADD COLUMN unit TEXT;\n"
	"CREATE TABLE threads (\n"
	"  utid INTEGER PRIMARY KEY,\n"
	"  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,\n"
	"  tid INTEGER NOT NULL,\n"
	"  tgid INTEGER NOT NULL,\n"
	"  upid INTEGER REFERENCES processes(upid),\n"
	"  parent_utid INTEGER REFERENCES threads(utid),\n"
	"  comm TEXT,\n"
	"  first_ts INTEGER,\n"
	"  start_ts INTEGER,\n"
	"  end_ts INTEGER\n"
	");\n"
	"CREATE INDEX threads_trace ON threads(trace_id);\n"
	"INSERT INTO threads (trace_id, tid, tgid, upid, comm, start_ts, end_ts)\n"
	"  SELECT trace_id, pid, tgid, upid, comm, start_ts, end_ts\n"
	"  FROM processes ORDER BY upid;\n";

/* Version 4: each fork's kind (sim_fork_kind(): fork, vfork, clone-vm),
 * the one definition of which clones a fork latency figure takes, kept
 * as a column so that a query needs no clone-flag arithmetic; and the
 * parent's size at the fork (present PTEs), the x of the report's fork
 * view, which no fork design changes.  Forks stored before get their kind
 * from their flags (sb_fork_kind_case(), the same rule) and no size
 * (NULL: that cowsim did not record it).  With them, what a fork design
 * (fork_mode, docs/model.md) left out of the fork: the page-table pages,
 * PTEs and early copies shared or left to the child, and an async child's
 * own copying time - 0 under copy, NULL before version 4. */
static const char schema_v4[] =
	"ALTER TABLE forks ADD COLUMN kind TEXT;\n"
	"ALTER TABLE forks ADD COLUMN parent_rss INTEGER;\n"
	"ALTER TABLE forks ADD COLUMN pt_deferred INTEGER;\n"
	"ALTER TABLE forks ADD COLUMN ptes_deferred INTEGER;\n"
	"ALTER TABLE forks ADD COLUMN copies_deferred INTEGER;\n"
	"ALTER TABLE forks ADD COLUMN child_dur INTEGER;\n";

/* The views, at their current definitions (recreated on every migration).
 * latest_runs: the newest run of each policy name on each trace, which is
 * what the other views and `cowsim compare` show. */
static const char *const view_names[] = {
	"latest_runs", "side_by_side", "clone_latency", "fork_latency", "agreement",
	"agreement_by_policy", "fault_outcomes", "fault_confusion", "run_config",
};

static const char views_sql[] =
	"CREATE VIEW latest_runs AS\n"
	"  SELECT r.* FROM runs r\n"
	"  WHERE r.id = (SELECT max(id) FROM runs x\n"
	"                WHERE x.trace_id = r.trace_id AND x.policy = r.policy);\n"
	"CREATE VIEW side_by_side AS\n"
	"  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.model,\n"
	"         r.id AS run_id,\n"
	"         r.copies_fault + r.copies_file + r.copies_fork AS copies,\n"
	"         r.copies_fault, r.copies_file, r.copies_fork, r.zero_fills,\n"
	"         r.unnecessary_copies + r.unnecessary_fork_copies AS unnecessary,\n"
	"         r.reuses, r.peak_frames, r.peak_pt_pages,\n"
	"         r.fork_latency_ns_p50, r.fork_latency_ns_p99,\n"
	"         r.leaks, r.lost_pins, r.labelled, r.agree,\n"
	"         CASE WHEN r.labelled > 0\n"
	"              THEN round(100.0 * r.agree / r.labelled, 2) END\n"
	"           AS agree_pct,\n"
	"         r.replay_seconds\n"
	"  FROM latest_runs r JOIN traces t ON t.id = r.trace_id\n"
	"  ORDER BY t.id, r.policy_order, r.id;\n"
	/* Nearest-rank percentiles: the value at rank ceil(p * n / 100), as
	 * sim_finish() computes the run's metrics.  A row per run and kind
	 * of clone (forks.kind); fork_latency is its forks. */
	"CREATE VIEW clone_latency AS\n"
	"  WITH m AS (\n"
	"    SELECT f.run_id, f.kind, f.dur,\n"
	"           row_number() OVER (PARTITION BY f.run_id, f.kind\n"
	"                              ORDER BY f.dur) AS rn,\n"
	"           count(*) OVER (PARTITION BY f.run_id, f.kind) AS n\n"
	"    FROM forks f JOIN latest_runs r ON r.id = f.run_id),\n"
	"  o AS (\n"
	"    SELECT f.run_id, f.kind, f.observed_dur AS dur,\n"
	"           row_number() OVER (PARTITION BY f.run_id, f.kind\n"
	"                              ORDER BY f.observed_dur) AS rn,\n"
	"           count(*) OVER (PARTITION BY f.run_id, f.kind) AS n\n"
	"    FROM forks f JOIN latest_runs r ON r.id = f.run_id\n"
	"    WHERE f.observed_dur IS NOT NULL),\n"
	"  ms AS (\n"
	"    SELECT run_id, kind, max(n) AS clones,\n"
	"           max(CASE WHEN rn = (50 * n + 99) / 100 THEN dur END) AS p50,\n"
	"           max(CASE WHEN rn = (90 * n + 99) / 100 THEN dur END) AS p90,\n"
	"           max(CASE WHEN rn = (99 * n + 99) / 100 THEN dur END) AS p99,\n"
	"           max(dur) AS max, avg(dur) AS mean\n"
	"    FROM m GROUP BY run_id, kind),\n"
	"  os AS (\n"
	"    SELECT run_id, kind, max(n) AS clones,\n"
	"           max(CASE WHEN rn = (50 * n + 99) / 100 THEN dur END) AS p50,\n"
	"           max(CASE WHEN rn = (90 * n + 99) / 100 THEN dur END) AS p90,\n"
	"           max(CASE WHEN rn = (99 * n + 99) / 100 THEN dur END) AS p99,\n"
	"           max(dur) AS max\n"
	"    FROM o GROUP BY run_id, kind)\n"
	"  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,\n"
	"         ms.kind, ms.clones,\n"
	"         ms.p50 AS dur_p50, ms.p90 AS dur_p90, ms.p99 AS dur_p99,\n"
	"         ms.max AS dur_max, ms.mean AS dur_mean,\n"
	"         coalesce(os.clones, 0) AS observed,\n"
	"         os.p50 AS observed_p50, os.p90 AS observed_p90,\n"
	"         os.p99 AS observed_p99, os.max AS observed_max\n"
	"  FROM latest_runs r JOIN traces t ON t.id = r.trace_id\n"
	"  JOIN ms ON ms.run_id = r.id\n"
	"  LEFT JOIN os ON os.run_id = r.id AND os.kind = ms.kind\n"
	"  ORDER BY t.id, r.policy_order, r.id, ms.kind;\n"
	/* Every latest run, with or without forks. */
	"CREATE VIEW fork_latency AS\n"
	"  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,\n"
	"         coalesce(c.clones, 0) AS forks,\n"
	"         c.dur_p50, c.dur_p90, c.dur_p99, c.dur_max, c.dur_mean,\n"
	"         coalesce(c.observed, 0) AS observed_forks,\n"
	"         c.observed_p50, c.observed_p90, c.observed_p99,\n"
	"         c.observed_max\n"
	"  FROM latest_runs r JOIN traces t ON t.id = r.trace_id\n"
	"  LEFT JOIN clone_latency c ON c.run_id = r.id AND c.kind = 'fork'\n"
	"  ORDER BY t.id, r.policy_order, r.id;\n"
	/* Agreement counts only labelled faults (engine's `labelled`,
	 * `agree`): totals of all predicted copies would not compare with
	 * the labelled subset the kernel's outcomes are known for. */
	"CREATE VIEW agreement AS\n"
	"  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,\n"
	"         r.cow_labelled, r.cow_agree,\n"
	"         CASE WHEN r.cow_labelled > 0\n"
	"              THEN round(100.0 * r.cow_agree / r.cow_labelled, 2) END\n"
	"           AS cow_agree_pct,\n"
	"         r.labelled, r.agree, r.labelled - r.agree AS disagree,\n"
	"         CASE WHEN r.labelled > 0\n"
	"              THEN round(100.0 * r.agree / r.labelled, 2) END\n"
	"           AS agree_pct,\n"
	"         r.observed_copies, r.observed_reuses, r.observed_zero_fills,\n"
	"         r.observed_new\n"
	"  FROM latest_runs r JOIN traces t ON t.id = r.trace_id\n"
	"  ORDER BY t.id, r.policy_order, r.id;\n"
	"CREATE VIEW agreement_by_policy AS\n"
	"  SELECT policy, count(*) AS traces,\n"
	"         sum(cow_labelled) AS cow_labelled, sum(cow_agree) AS cow_agree,\n"
	"         CASE WHEN sum(cow_labelled) > 0\n"
	"              THEN round(100.0 * sum(cow_agree) / sum(cow_labelled), 2)\n"
	"           END AS cow_agree_pct,\n"
	"         sum(labelled) AS labelled, sum(agree) AS agree,\n"
	"         CASE WHEN sum(labelled) > 0\n"
	"              THEN round(100.0 * sum(agree) / sum(labelled), 2) END\n"
	"           AS agree_pct\n"
	"  FROM latest_runs WHERE labelled > 0\n"
	"  GROUP BY policy ORDER BY min(policy_order), min(id);\n"
	"CREATE VIEW fault_outcomes AS\n"
	"  SELECT r.trace_id, d.run_id, r.policy, f.seq, f.ts, f.upid, f.tid,\n"
	"         f.addr, f.user, d.outcome, f.observed\n"
	"  FROM fault_decisions d JOIN runs r ON r.id = d.run_id\n"
	"  JOIN faults f ON f.trace_id = r.trace_id AND f.seq = d.seq;\n"
	"CREATE VIEW fault_confusion AS\n"
	"  SELECT t.name AS trace, r.policy, d.run_id, f.observed, d.outcome,\n"
	"         count(*) AS faults\n"
	"  FROM fault_decisions d JOIN latest_runs r ON r.id = d.run_id\n"
	"  JOIN traces t ON t.id = r.trace_id\n"
	"  JOIN faults f ON f.trace_id = r.trace_id AND f.seq = d.seq\n"
	"  WHERE f.observed IS NOT NULL\n"
	"  GROUP BY d.run_id, f.observed, d.outcome\n"
	"  ORDER BY t.id, r.policy_order, d.run_id, f.observed, d.outcome;\n"
	/* runs.config split into one row per key, its INI read in SQL (a
	 * recursive walk over its lines, carrying the section), so that it
	 * holds for every run ever stored and has one owner: the text. */
	"CREATE VIEW run_config AS\n"
	"  WITH RECURSIVE l(run_id, n, line, rest, section) AS (\n"
	"    SELECT id, 0, NULL, config || char(10), '' FROM runs\n"
	"    UNION ALL\n"
	"    SELECT run_id, n + 1,\n"
	"           trim(substr(rest, 1, instr(rest, char(10)) - 1)),\n"
	"           substr(rest, instr(rest, char(10)) + 1),\n"
	"           CASE WHEN trim(substr(rest, 1, instr(rest, char(10)) - 1))\n"
	"                     LIKE '[%]'\n"
	"                THEN trim(substr(trim(substr(rest, 1,\n"
	"                       instr(rest, char(10)) - 1)), 2,\n"
	"                       length(trim(substr(rest, 1,\n"
	"                       instr(rest, char(10)) - 1))) - 2))\n"
	"                ELSE section END\n"
	"    FROM l WHERE rest != '')\n"
	"  SELECT run_id, section,\n"
	"         trim(substr(line, 1, instr(line, '=') - 1)) AS key,\n"
	"         trim(substr(line, instr(line, '=') + 1)) AS value\n"
	"  FROM l WHERE instr(line, '=') > 1 AND line NOT LIKE ';%'\n"
	"    AND line NOT LIKE '#%'\n"
	"  ORDER BY run_id, n;\n";

static int is_gauge(size_t i)
{
	static const char *const gauges[] = {
#define G(n, u, d) #n,
		SIM_GAUGES(G)
#undef G
	};
	const char *name = sim_metric_name(i, NULL);
	for (size_t k = 0; k < sizeof(gauges) / sizeof(gauges[0]); k++)
		if (!strcmp(gauges[k], name))
			return 1;
	return 0;
}

/* A growing string for generated SQL.  Returns 0 or -ENOMEM (and then the
 * buffer is freed: callers only check at the end). */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL,
		                  b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap : 1024);
		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			free(b->s);
			b->s = NULL;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

static char *sb_done(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* The metric_docs rows, current. */
static void sb_metric_docs(struct sbuf *b)
{
	sb_add(b, "DELETE FROM metric_docs;\n");
	for (size_t i = 0; i < sim_nmetrics(); i++) {
		const char *doc, *name = sim_metric_name(i, &doc);
		sb_add(b, "INSERT INTO metric_docs (name, kind, unit, "
		       "description) VALUES ('%s', '%s', '%s', '", name,
		       is_gauge(i) ? "gauge" : "counter", sim_metric_unit(i));
		for (const char *p = doc; *p; p++)
			sb_add(b, *p == '\'' ? "''" : "%c", *p);
		sb_add(b, "');\n");
	}
}

/* sim_fork_kind() of forks.clone_flags as an SQL expression: a CASE over
 * every combination of the flags it reads, each answered by the function
 * itself, so that rows migrated and rows written agree by construction. */
static void sb_fork_kind_case(struct sbuf *b)
{
	static const uint32_t bits[] = { EV_CLONE_VM, EV_CLONE_VFORK,
	                                 EV_CLONE_THREAD };
	const uint32_t mask = EV_CLONE_VM | EV_CLONE_VFORK | EV_CLONE_THREAD;
	sb_add(b, "CASE clone_flags & %u", mask);
	for (unsigned c = 0; c < 1u << 3; c++) {
		uint32_t fl = 0;
		for (unsigned i = 0; i < 3; i++)
			if (c & 1u << i)
				fl |= bits[i];
		sb_add(b, " WHEN %u THEN '%s'", fl,
		       sim_fork_kind_name(sim_fork_kind(fl)));
	}
	sb_add(b, " END");
}

char *store_migration_sql(int from)
{
	struct sbuf b = { 0 };

	switch (from) {
	case 0:
		sb_add(&b, "%s", schema_v1);
		for (size_t i = 0; i < sim_nmetrics(); i++)
			sb_add(&b, ",\n  %s INTEGER", sim_metric_name(i, NULL));
		sb_add(&b, "\n);\n%s", schema_v1_tail);
		break;
	case 1:
		sb_add(&b, "%s", schema_v2);
		break;
	case 2:
		sb_add(&b, "%s", schema_v3);
		break;
	case 3:
		sb_add(&b, "%sUPDATE forks SET kind = ", schema_v4);
		sb_fork_kind_case(&b);
		sb_add(&b, ";\n");
		break;
	case 4:
		/* Version 5 adds metrics only (cow_labelled, cow_agree,
		 * observed_new: add_new_metrics() makes their columns) and the
		 * agreement views that lead with them, recreated below; older
		 * runs keep NULL there - that cowsim did not count them. */
		sb_add(&b, "SELECT 1;\n");
		break;
	default:
		return NULL;
	}
	return sb_done(&b);
}

/* ------------------------------------------------------------------ */
/* opening                                                             */

static int exec_sql(sqlite3 *db, const char *sql, const char *path,
                    const char *what, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", path, what,
	         msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/*
 * Switch the database to WAL mode.  SQLite does not call the busy handler
 * for this pragma: while another process holds the file open (one replay
 * creating the database as another starts), it answers SQLITE_BUSY at once.
 * So wait here as the busy timeout would, polling every 10 ms, and do not
 * ask at all when the mode is already WAL (the mode is persistent, and
 * reading it takes no lock).  Returns 0 or the SQLite error, with err set.
 */
static int set_wal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	for (int waited = 0;; waited += 10) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			bool wal = m && !strcmp((const char *)m, "wal");
			sqlite3_finalize(st);
			if (wal)
				return 0;
		} else {
			sqlite3_finalize(st);
		}
		rc = exec_sql(db, "PRAGMA journal_mode = WAL", path,
		              "switching to WAL mode", err, errlen);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_MS)
			return rc;
		usleep(10 * 1000);
	}
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Turn an SQLite failure on first contact into what the user must hear. */
static int open_failure(int rc, const char *path, sqlite3 *db, char *err,
                        size_t errlen)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		snprintf(err, errlen, "%s: not an SQLite database (is it the "
		         "right file? pass another --db, or move it away)", path);
		return -EINVAL;
	case SQLITE_CORRUPT:
		snprintf(err, errlen, "%s: the database is corrupt (%s); move it "
		         "away and replay into a new --db", path, sqlite3_errmsg(db));
		return -EINVAL;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		snprintf(err, errlen, "%s: cannot open or write the database (%s); "
		         "check that its folder exists and is writable, or pass "
		         "another --db", path, sqlite3_errmsg(db));
		return -EACCES;
	case SQLITE_FULL:
		snprintf(err, errlen, "%s: the disk is full: nothing was stored; "
		         "free some space or pass another --db", path);
		return -ENOSPC;
	case SQLITE_BUSY:
		snprintf(err, errlen, "%s: the database stayed locked by another "
		         "process for %d s; try again when it is done", path,
		         STORE_BUSY_MS / 1000);
		return -EIO;
	default:
		if (sqlite3_system_errno(db) == ENOSPC)
			return open_failure(SQLITE_FULL, path, db, err, errlen);
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return -EIO;
	}
}

/* Add metric columns this binary knows and the database lacks. */
static int add_new_metrics(sqlite3 *db, const char *path, char *err,
                           size_t errlen)
{
	for (size_t i = 0; i < sim_nmetrics(); i++) {
		const char *name = sim_metric_name(i, NULL);
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info"
		                            "('runs') WHERE name = ?", -1, &st, NULL);
		if (rc != SQLITE_OK)
			return open_failure(rc, path, db, err, errlen);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			continue;
		if (rc != SQLITE_DONE)
			return open_failure(rc, path, db, err, errlen);
		char sql[160];
		snprintf(sql, sizeof(sql), "ALTER TABLE runs ADD COLUMN %s INTEGER",
		         name);
		if (exec_sql(db, sql, path, "adding a metric column", err, errlen))
			return -EIO;
	}
	return 0;
}

/* Does this binary know a metric the database has no column for?  (An
 * error reads as "yes": the migration then reports it.) */
static int metrics_missing(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('runs') "
	                       "WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return 1;
	int missing = 0;
	for (size_t i = 0; i < sim_nmetrics() && !missing; i++) {
		sqlite3_bind_text(st, 1, sim_metric_name(i, NULL), -1,
		                  SQLITE_STATIC);
		missing = sqlite3_step(st) != SQLITE_ROW;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return missing;
}

/* What version 3 adds that SQL alone cannot fill: each run's policy_order,
 * and a unique name for each trace, given in the order the traces were
 * stored, so that the first of several "trace.dat" keeps its name and the
 * others get longer path suffixes, as they would have had they been stored
 * by this cowsim; then the index that keeps names unique.  Returns 0 or
 * -EIO / -ENOMEM with err set. */
static int migrate_v3(struct store *s, char *err, size_t errlen)
{
	sqlite3 *db = s->db;
	sqlite3_stmt *st = NULL, *up = NULL;
	char *name = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT DISTINCT policy FROM runs", -1, &st,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE runs SET policy_order = ? WHERE "
	                       "policy = ?", -1, &up, NULL) != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pol = (const char *)sqlite3_column_text(st, 0);
		char key[256];
		store_policy_order(pol ? pol : "", key, sizeof(key));
		sqlite3_bind_text(up, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, pol ? pol : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(up) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(up);
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	st = up = NULL;

	/* Names no path suffix can be, so that only the traces named so far
	 * take part in the choice. */
	if (exec_sql(db, "UPDATE traces SET name = char(1) || id", s->path,
	             "migrating trace names", err, errlen))
		return -EIO;
	if (sqlite3_prepare_v2(db, "SELECT id, path, hash FROM traces ORDER BY "
	                       "id", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE traces SET name = ? WHERE id = ?", -1,
	                       &up, NULL) != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 1);
		const char *hash = (const char *)sqlite3_column_text(st, 2);
		rc = store_trace_name(db, path ? path : "?", hash ? hash : "", &name);
		if (rc == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (rc)
			goto sqlfail;
		sqlite3_bind_text(up, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 0));
		if (sqlite3_step(up) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(up);
		free(name);
		name = NULL;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return exec_sql(db, "CREATE UNIQUE INDEX traces_name ON traces(name)",
	                s->path, "migrating trace names", err, errlen) ? -EIO : 0;
sqlfail:
	snprintf(err, errlen, "%s: migrating to schema version 3: %s", s->path,
	         sqlite3_errmsg(db));
	rc = -EIO;
fail:
	free(name);
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return rc < 0 ? rc : -EIO;
}

/* Bring the database to the current version in one transaction.  *from is
 * the version found (re-read under the write lock). */
static int migrate(struct store *s, int *from, char *err, size_t errlen)
{
	sqlite3 *db = s->db;
	int64_t v = 0;
	int rc;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return open_failure(rc, s->path, db, err, errlen);
	rc = pragma_int(db, "PRAGMA user_version", &v);
	if (rc != SQLITE_OK) {
		rc = open_failure(rc, s->path, db, err, errlen);
		goto fail;
	}
	*from = (int)v;
	if (v > STORE_SCHEMA_VERSION) {
		/* Someone newer migrated it meanwhile. */
		snprintf(err, errlen, "%s: written by a newer cowsim (schema "
		         "version %d; this cowsim knows up to %d): use that cowsim, "
		         "or another --db", s->path, (int)v, STORE_SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		char *sql = store_migration_sql((int)v);
		char what[64];
		if (!sql) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto fail;
		}
		snprintf(what, sizeof(what), "migrating from schema version %d",
		         (int)v);
		rc = exec_sql(db, sql, s->path, what, err, errlen);
		free(sql);
		if (rc) {
			rc = -EIO;
			goto fail;
		}
		if (v == 2 && (rc = migrate_v3(s, err, errlen)))
			goto fail;
	}
	/* The metric columns first: the views name them. */
	if ((rc = add_new_metrics(db, s->path, err, errlen)))
		goto fail;
	struct sbuf b = { 0 };
	for (size_t i = 0; i < sizeof(view_names) / sizeof(view_names[0]); i++)
		sb_add(&b, "DROP VIEW IF EXISTS %s;\n", view_names[i]);
	sb_add(&b, "%s", views_sql);
	sb_metric_docs(&b);
	sb_add(&b, "PRAGMA user_version = %d;\nPRAGMA application_id = %d;\n",
	       STORE_SCHEMA_VERSION, STORE_APP_ID);
	char *sql = sb_done(&b);
	if (!sql) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = exec_sql(db, sql, s->path, "creating the views", err, errlen);
	free(sql);
	if (rc) {
		rc = -EIO;
		goto fail;
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = open_failure(rc, s->path, db, err, errlen);
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * What the file says it is: its application_id, user_version, and whether
 * it holds anything at all (tables, indexes, views).  Read in one read
 * transaction: a process creating the database commits all three at once,
 * and read one by one they could straddle that commit (an id of 0 from
 * before it, a schema from after: "not one cowsim wrote").  Returns
 * SQLITE_OK or the SQLite error.
 */
static int read_header(sqlite3 *db, int64_t *app, int64_t *v, int *empty)
{
	int64_t n = 0;
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = pragma_int(db, "PRAGMA application_id", app)) == SQLITE_OK &&
	    (rc = pragma_int(db, "PRAGMA user_version", v)) == SQLITE_OK)
		rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &n);
	*empty = n == 0;
	sqlite3_exec(db, rc == SQLITE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL,
	             NULL);
	return rc;
}

/* Can this process create files next to path (the -wal and -shm files a
 * writer needs; db NULL, before opening) and write path itself (db, once
 * open)?  Checked before a replay, so that a read-only database fails in
 * the first second, not after the replay.  Returns 0 or -EACCES (-ENOMEM)
 * with the reason in err. */
static int writable(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	if (db) {
		if (sqlite3_db_readonly(db, "main") != 1)
			return 0;
		snprintf(err, errlen, "%s: cannot store runs: the database is "
		         "read-only (its permissions); pass another --db", path);
		return -EACCES;
	}
	char *dir = strdup(path);
	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char *slash = strrchr(dir, '/');
	const char *d = slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".";
	int ok = access(d, W_OK | X_OK) == 0;
	if (!ok)
		snprintf(err, errlen, "%s: cannot store runs here: its folder %s "
		         "is not writable (%s); pass another --db", path, d,
		         strerror(errno));
	free(dir);
	return ok ? 0 : -EACCES;
}

int store_open(const char *path, int flags, struct store **out, char *err,
               size_t errlen)
{
	struct store *s;
	struct stat sb;
	int64_t v = 0, app = 0;
	int rc, empty = 0;

	*out = NULL;
	/* A file this call creates on a full disk is removed again, with its
	 * -wal and -shm: the failed replay leaves no stub behind.  Only then:
	 * after another failure the file may be one another replay is
	 * creating at this very moment. */
	int created = stat(path, &sb) != 0;
	if (!(flags & STORE_CREATE) && created) {
		snprintf(err, errlen, "%s: no such database (replays write one: "
		         "`cowsim replay TRACE --db %s`)", path, path);
		return -ENOENT;
	}
	if (!stat(path, &sb) && S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: is a folder, not a database file; pass "
		         "--db FOLDER/results.db", path);
		return -EINVAL;
	}
	if ((flags & STORE_CREATE) && (rc = writable(NULL, path, err, errlen)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &s->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	                     ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0),
	                     NULL);
	if (rc != SQLITE_OK) {
		rc = s->db ? open_failure(rc, path, s->db, err, errlen) : -ENOMEM;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/* First contact: this is where a non-SQLite file shows itself.  A
	 * database is cowsim's by its application_id alone (every schema
	 * version sets it): anything else that is not empty is another
	 * program's, refused before a byte of it changes. */
	if ((rc = read_header(s->db, &app, &v, &empty))) {
		rc = open_failure(rc, path, s->db, err, errlen);
		goto fail;
	}
	s->version = (int)v;
	if (app != STORE_APP_ID && (app != 0 || !empty)) {
		snprintf(err, errlen, "%s: an SQLite database, but not one cowsim "
		         "wrote (application_id %#llx, user_version %lld); pass "
		         "another --db", path, (unsigned long long)app, (long long)v);
		rc = -EINVAL;
		goto fail;
	}
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: written by a newer cowsim (schema "
		         "version %lld; this cowsim knows up to %d): use that "
		         "cowsim, or another --db", path, (long long)v,
		         STORE_SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if (empty && !(flags & STORE_CREATE)) {
		snprintf(err, errlen, "%s: empty database, no runs stored yet "
		         "(`cowsim replay TRACE --db %s` stores some)", path, path);
		rc = -ENOENT;
		goto fail;
	}
	/* WAL lets readers (compare, report) run while a replay writes, and
	 * writers queue on the busy timeout.  The mode is persistent; setting
	 * it needs the write lock, so only writers do. */
	if ((flags & STORE_CREATE) && (rc = writable(s->db, path, err, errlen)))
		goto fail;
	if (flags & STORE_CREATE) {
		rc = set_wal(s->db, path, err, errlen);
		if (rc) {
			rc = open_failure(rc, path, s->db, err, errlen);
			goto fail;
		}
	}
	if (v < STORE_SCHEMA_VERSION ||
	    ((flags & STORE_CREATE) && metrics_missing(s->db))) {
		int from = 0;
		if ((rc = migrate(s, &from, err, errlen)))
			goto fail;
		s->version = from;
	}
	/* NORMAL is durable against a killed process (the kill test) and
	 * consistent after a power loss; FULL would sync every commit.
	 * Foreign keys are declared (they document the joins) but not
	 * enforced: the writer keeps them, and checking them would cost a
	 * third of the insert time of --faults rows. */
	rc = exec_sql(s->db, "PRAGMA foreign_keys = OFF; "
	              "PRAGMA synchronous = NORMAL; "
	              "PRAGMA cache_size = -65536; "
	              "PRAGMA journal_size_limit = 67108864", path,
	              "setting up the connection", err, errlen);
	if (rc) {
		rc = -EIO;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	if (created && (flags & STORE_CREATE) && rc == -ENOSPC) {
		static const char *const sfx[] = { "-wal", "-shm", "-journal" };
		for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
			char *p = NULL;
			if (asprintf(&p, "%s%s", path, sfx[i]) >= 0)
				unlink(p);
			free(p);
		}
		unlink(path);
	}
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}
