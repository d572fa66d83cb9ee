/*
 * store_write.c - store_rec_commit(): a recorded replay into the database,
 * in one BEGIN IMMEDIATE transaction (store.h).
 *
 * In order: the trace (if new: its row under a name chosen now, under the
 * write lock, its metadata, processes, threads and markers, from the first
 * engine's records; if known, its stored processes are matched to the
 * engine's by order, and it is renamed if a name was asked for), its faults if it has none yet and
 * they were spooled, then every run not already stored - its row with a
 * column per metric and its provenance, its forks (tied to processes through the engine's
 * process table), its samples, its fault decisions.  Whether a run is
 * stored is decided again here, under the write lock: a concurrent replay
 * may have stored it since store_rec_begin().
 *
 * Spools are read back in big sequential chunks and rows go in
 * SQLBATCH_ROWS to a statement (sqlbatch.h); the write lock is held for
 * the insert only, never during the replay.
 */
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "../importers/evsrc.h"
#include "../lib/progress.h"
#include "../lib/version.h"
#include "sqlbatch.h"

int store_sql_fail(const struct store_rec *t, int rc, const char *what,
                   char *err, size_t errlen)
{
	if ((rc & 0xff) == SQLITE_BUSY)
		snprintf(err, errlen, "%s: %s: the database stayed locked by "
		         "another process for %d s; try again when it is done",
		         t->s->path, what, STORE_BUSY_MS / 1000);
	else if ((rc & 0xff) == SQLITE_FULL)
		snprintf(err, errlen, "%s: %s: the disk is full; nothing of this "
		         "replay was stored", t->s->path, what);
	else
		snprintf(err, errlen, "%s: %s: %s", t->s->path, what,
		         sqlite3_errmsg(store_db(t->s)));
	return -EIO;
}

/* The progress line while rows go in (lib/progress.h). */
struct prog {
	struct progress p;
	uint64_t done;
};

/* A spool could not be written while the replay ran. */
static void spool_fail(int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "writing the --faults spool in %s: %s (set TMPDIR "
	         "to a folder with room)", spool_dir(), strerror(e));
}

static const char *obs_name(unsigned o)
{
	switch (o) {
	case EV_OBS_COPY: return "copy";
	case EV_OBS_ZERO: return "zero";
	case EV_OBS_REUSE: return "reuse";
	case EV_OBS_NEW: return "new";
	default: return NULL;
	}
}

/* A process's name as the kernel keeps it (task->comm): the last path
 * component, at most TASK_COMM_LEN - 1 bytes. */
static void comm_of(char comm[16], const char *s)
{
	const char *slash = strrchr(s, '/');
	if (slash)
		s = slash + 1;
	snprintf(comm, 16, "%s", s);
}

/* The engine's thread records, after the processes (upid[] filled).  A
 * thread's creator precedes it, so its utid is known when it goes in.
 * Returns SQLITE_OK or the SQLite error. */
static int insert_threads(struct store_rec *t, const struct ev_source *src,
                          int64_t trace_id, const int64_t *upid)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	size_t n;
	const struct sim_thread_rec *th = sim_threads(store_trace_engine(t), &n);
	int64_t *utid = malloc((n ? n : 1) * sizeof(*utid));
	int rc = SQLITE_NOMEM;

	if (!utid)
		goto out;
	rc = sqlite3_prepare_v2(db,
		"INSERT INTO threads (trace_id, tid, tgid, upid, parent_utid, comm, "
		"first_ts, start_ts, end_ts) VALUES (?,?,?,?,?,?,?,?,?)", -1, &st,
		NULL);
	if (rc != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct sim_thread_rec *r = &th[i];
		char comm[16];
		comm_of(comm, strtab_get(&src->strings, r->comm));
		sqlite3_bind_int64(st, 1, trace_id);
		sqlite3_bind_int64(st, 2, r->tid);
		sqlite3_bind_int64(st, 3, r->tgid);
		if (r->proc != SIM_NONE)
			sqlite3_bind_int64(st, 4, upid[r->proc]);
		else
			sqlite3_bind_null(st, 4);
		if (r->parent < i)
			sqlite3_bind_int64(st, 5, utid[r->parent]);
		else
			sqlite3_bind_null(st, 5);
		if (comm[0])
			sqlite3_bind_text(st, 6, comm, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 6);
		sqlite3_bind_int64(st, 7, (int64_t)r->first_ts);
		if (r->has_start)
			sqlite3_bind_int64(st, 8, (int64_t)r->start_ts);
		else
			sqlite3_bind_null(st, 8);
		if (r->has_end)
			sqlite3_bind_int64(st, 9, (int64_t)r->end_ts);
		else
			sqlite3_bind_null(st, 9);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto out;
		utid[i] = sqlite3_last_insert_rowid(db);
		sqlite3_reset(st);
	}
	rc = SQLITE_OK;
out:
	sqlite3_finalize(st);
	free(utid);
	return rc;
}

/* Insert the trace row, its metadata, its processes, threads and markers;
 * fill upid[]. */
static int insert_trace(struct store_rec *t, const struct ev_source *src,
                        int64_t *trace_id, int64_t *upid, char *err,
                        size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	char *abs = realpath(t->path, NULL);
	char *name = NULL;
	const char *dropped = evsrc_meta_get(src, "dropped");
	const char *kernel = evsrc_meta_get(src, "kernel");
	const struct sim_engine *e = store_trace_engine(t);
	const struct replay *r = t->r;
	size_t np, nm, threads = 0, forks = 0;
	const struct sim_proc_rec *procs = sim_procs(e, &np);
	const struct sim_marker_rec *markers = sim_markers(e, &nm);
	int rc;

	for (size_t i = 0; i < np; i++) {
		threads += procs[i].threads;
		forks += procs[i].fork != SIM_NONE;
	}
	/* Named under the write lock, so two replays cannot take one name. */
	if (t->name) {
		if ((rc = store_name_check(t, t->name, err, errlen))) {
			free(abs);
			return rc;
		}
		name = strdup(t->name);
		rc = name ? 0 : -ENOMEM;
	} else {
		rc = store_trace_name(db, abs ? abs : t->path, t->hash, &name);
	}
	if (rc == -ENOMEM) {
		free(abs);
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (rc) {
		rc = SQLITE_ERROR;
		goto fail;
	}

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO traces (hash, name, path, format, size_bytes, events, "
		"processes, threads, forks, write_faults, labels, start_ts, dur, "
		"dropped, capture_kernel, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,"
		"?,?,?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, abs ? abs : t->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, src->format ? src->format : "?", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)t->size);
	sqlite3_bind_int64(st, 6, (int64_t)r->events);
	sqlite3_bind_int64(st, 7, (int64_t)np);
	sqlite3_bind_int64(st, 8, (int64_t)threads);
	sqlite3_bind_int64(st, 9, (int64_t)forks);
	sqlite3_bind_int64(st, 10, (int64_t)sim_metrics(e)->write_faults);
	sqlite3_bind_int64(st, 11, (int64_t)sim_metrics(e)->labelled);
	if (r->events) {
		sqlite3_bind_int64(st, 12, (int64_t)r->first_ts);
		sqlite3_bind_int64(st, 13, (int64_t)(r->last_ts - r->first_ts));
	}
	if (dropped && *dropped) {
		char *end;
		long long d = strtoll(dropped, &end, 10);
		if (!*end)
			sqlite3_bind_int64(st, 14, d);
	}
	if (kernel && *kernel)
		sqlite3_bind_text(st, 15, kernel, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		goto fail;
	*trace_id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	st = NULL;

	rc = sqlite3_prepare_v2(db, "INSERT INTO trace_meta VALUES (?,?,?)", -1,
	                        &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < src->nmeta; i++) {
		sqlite3_bind_int64(st, 1, *trace_id);
		sqlite3_bind_text(st, 2, src->meta[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, src->meta[i].val, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO processes (trace_id, pid, tgid, comm, exe, "
		"parent_upid, start_ts, end_ts, threads) VALUES (?,?,?,?,?,?,?,?,?)",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < np; i++) {
		const struct sim_proc_rec *p = &procs[i];
		char comm[16];
		comm_of(comm, strtab_get(&src->strings, p->comm));
		sqlite3_bind_int64(st, 1, *trace_id);
		sqlite3_bind_int64(st, 2, p->pid);
		sqlite3_bind_int64(st, 3, p->pid);
		if (comm[0])
			sqlite3_bind_text(st, 4, comm, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 4);
		if (p->exe)
			sqlite3_bind_text(st, 5, strtab_get(&src->strings, p->exe), -1,
			                  SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		if (p->parent != SIM_NONE)
			sqlite3_bind_int64(st, 6, upid[p->parent]);
		else
			sqlite3_bind_null(st, 6);
		if (p->has_start)
			sqlite3_bind_int64(st, 7, (int64_t)p->start_ts);
		else
			sqlite3_bind_null(st, 7);
		if (p->has_end)
			sqlite3_bind_int64(st, 8, (int64_t)p->end_ts);
		else
			sqlite3_bind_null(st, 8);
		sqlite3_bind_int64(st, 9, p->threads);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto fail;
		upid[i] = sqlite3_last_insert_rowid(db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	rc = sqlite3_prepare_v2(db, "INSERT INTO markers VALUES (?,?,?,?,?)", -1,
	                        &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < nm; i++) {
		const struct sim_marker_rec *m = &markers[i];
		sqlite3_bind_int64(st, 1, *trace_id);
		sqlite3_bind_int64(st, 2, (int64_t)m->seq);
		sqlite3_bind_int64(st, 3, (int64_t)m->ts);
		if (m->proc != SIM_NONE)
			sqlite3_bind_int64(st, 4, upid[m->proc]);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, strtab_get(&src->strings, m->text), -1,
		                  SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = insert_threads(t, src, *trace_id, upid)) != SQLITE_OK)
		goto fail;
	free(abs);
	free(name);
	return 0;
fail:
	free(abs);
	free(name);
	sqlite3_finalize(st);
	return store_sql_fail(t, rc, "storing the trace", err, errlen);
}

/* The trace is stored already: map our processes onto its rows. */
static int map_processes(struct store_rec *t, int64_t trace_id, int64_t *upid,
                         char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0, np;
	sim_procs(store_trace_engine(t), &np);
	int rc = sqlite3_prepare_v2(store_db(t->s), "SELECT upid FROM processes "
	                            "WHERE trace_id = ? ORDER BY upid", -1, &st,
	                            NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, trace_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n < np)
			upid[n] = sqlite3_column_int64(st, 0);
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (n != np) {
		snprintf(err, errlen, "%s: trace %s is stored with %zu processes, "
		         "but this replay of it saw %zu (was it imported "
		         "differently?); store this replay in another --db",
		         t->s->path, t->path, n, np);
		return -EINVAL;
	}
	return 0;
fail:
	sqlite3_finalize(st);
	return store_sql_fail(t, rc, "reading the stored processes", err, errlen);
}

/* --name for a trace already stored: it takes the name. */
static int rename_trace(struct store_rec *t, int64_t trace_id, char *err,
                        size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = store_name_check(t, t->name, err, errlen);
	if (rc)
		return rc;
	rc = sqlite3_prepare_v2(store_db(t->s), "UPDATE traces SET name = ? "
	                        "WHERE id = ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, trace_id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(t, rc, "renaming the trace", err, errlen);
	return 0;
}

static int insert_faults(struct store_rec *t, int64_t trace_id,
                         const int64_t *upid, struct prog *pg, char *err,
                         size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	struct spool_reader rd = { .s = &t->faults, .cap = 1 << 20 };
	struct sqlbatch *b = NULL;
	size_t np;
	int rc;

	sim_procs(store_trace_engine(t), &np);

	spool_flush(&t->faults);
	if (t->faults.err) {
		spool_fail(t->faults.err, err, errlen);
		return -EIO;
	}
	rd.buf = malloc(rd.cap);
	b = sqlbatch_new(db, "INSERT INTO faults (trace_id, seq, ts, upid, tid, "
	              "addr, user, observed) VALUES", 8);
	if (!rd.buf || !b) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	struct fault_rec fr;
	while ((rc = spool_next(&rd, &fr, sizeof(fr))) == 0) {
		struct sqlbatch_val *v = sqlbatch_row(b, &rc);
		if (!v)
			goto fail;
		sqlbatch_int(&v[0], trace_id);
		sqlbatch_int(&v[1], (int64_t)fr.seq);
		sqlbatch_int(&v[2], (int64_t)fr.ts);
		if (fr.proc < np)
			sqlbatch_int(&v[3], upid[fr.proc]);
		else
			v[3].null = 1;
		sqlbatch_int(&v[4], fr.tid);
		sqlbatch_int(&v[5], (int64_t)(fr.addr & ((1ull << 48) - 1)));
		sqlbatch_int(&v[6], !!(fr.addr & FR_USER_BIT));
		sqlbatch_text(&v[7], obs_name((unsigned)(fr.addr >> FR_OBS_SHIFT) & 0xf));
		pg->done++;
		progress_tick(&pg->p, pg->done, 0);
	}
	if (rc < 0) {
		snprintf(err, errlen, "reading the --faults spool: %s",
		         strerror(-rc));
		goto out;
	}
	if ((rc = sqlbatch_flush(b)))
		goto fail;
	rc = sqlite3_prepare_v2(db, "UPDATE traces SET faults_stored = 1 "
	                        "WHERE id = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, trace_id);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = store_sql_fail(t, rc, "storing faults", err, errlen);
out:
	sqlbatch_free(b);
	sqlite3_finalize(st);
	free(rd.buf);
	return rc;
}

static char *runs_insert_sql(void)
{
	size_t n = sim_nmetrics();
	size_t cap = 1024 + n * 48;
	char *sql = malloc(cap);
	if (!sql)
		return NULL;
	size_t len = (size_t)snprintf(sql, cap,
		"INSERT INTO runs (trace_id, run_key, policy, model, kernel, "
		"description, config, created, cowsim_version, replay_seconds, "
		"memory_peak_bytes, faults_logged, policy_order, cost_preset, "
		"selection, command_line, host_kernel_release, "
		"host_kernel_version");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", %s",
		                        sim_metric_name(i, NULL));
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES (?,?,?,?,?,?,?,"
	                        "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'),"
	                        "?,?,?,?,?,?,?,?,?,?");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, ",?");
	snprintf(sql + len, cap - len, ")");
	return sql;
}

/* Bind s, or NULL when it is NULL or empty. */
static void bind_opt(sqlite3_stmt *st, int c, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, c, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, c);
}

static int insert_run(struct store_rec *t, struct rec_run *rr,
                      int64_t trace_id, const int64_t *upid, int with_faults,
                      const struct utsname *host, struct prog *pg, char *err,
                      size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	const struct sim_config *cfg = &rr->run->cfg;
	const struct sim_engine *e = rr->run->e;
	char *sql = runs_insert_sql();
	unsigned char *buf = NULL;
	uint32_t *child = NULL;
	struct sqlbatch *b = NULL;
	int rc;

	if (!sql) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		goto fail;
	int c = 1;
	sqlite3_bind_int64(st, c++, trace_id);
	sqlite3_bind_text(st, c++, rr->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, cfg->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, cfg_model_name(cfg->model), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, cfg->kernel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, cfg->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, rr->config, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, cowsim_version(), -1, SQLITE_STATIC);
	sqlite3_bind_double(st, c++, rr->run->seconds);
	sqlite3_bind_int64(st, c++, (int64_t)sim_peak_memory_bytes(e));
	sqlite3_bind_int(st, c++, with_faults);
	char order[256];
	store_policy_order(cfg->name, order, sizeof(order));
	sqlite3_bind_text(st, c++, order, -1, SQLITE_TRANSIENT);
	/* A config whose own [cost] keys changed its costs names no preset;
	 * they may have come from --cost. */
	bind_opt(st, c++, cfg->cost_preset[0] ? cfg->cost_preset : t->prov.cost);
	bind_opt(st, c++, t->prov.selection);
	bind_opt(st, c++, t->prov.command_line);
	bind_opt(st, c++, host ? host->release : NULL);
	bind_opt(st, c++, host ? host->version : NULL);
	for (size_t i = 0; i < sim_nmetrics(); i++)
		sqlite3_bind_int64(st, c++,
		                   (int64_t)sim_metric_get(sim_metrics(e), i));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		goto fail;
	int64_t run_id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	st = NULL;

	/* The process each fork made, from the engine's process table. */
	size_t nf, np;
	const struct sim_fork_rec *f = sim_forks(e, &nf);
	const struct sim_proc_rec *procs = sim_procs(e, &np);
	if (!(child = malloc((nf ? nf : 1) * sizeof(*child)))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nf; i++)
		child[i] = SIM_NONE;
	for (size_t i = 0; i < np; i++)
		if (procs[i].fork < nf)
			child[procs[i].fork] = (uint32_t)i;
	rc = sqlite3_prepare_v2(db,
		"INSERT INTO forks (run_id, ts, parent_upid, child_upid, parent_tid, "
		"child_tid, clone_flags, vmas, ptes, pt_pages, pages_copied, dur, "
		"observed_dur, kind, parent_rss) VALUES "
		"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < nf; i++) {
		uint32_t c = child[i];
		uint32_t pp = c != SIM_NONE ? procs[c].parent : SIM_NONE;
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, (int64_t)f[i].ts);
		if (pp != SIM_NONE)
			sqlite3_bind_int64(st, 3, upid[pp]);
		else
			sqlite3_bind_null(st, 3);
		if (c != SIM_NONE)
			sqlite3_bind_int64(st, 4, upid[c]);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, f[i].parent_tid);
		sqlite3_bind_int64(st, 6, f[i].child_tid);
		sqlite3_bind_int64(st, 7, f[i].clone_flags);
		sqlite3_bind_int64(st, 8, f[i].vmas);
		sqlite3_bind_int64(st, 9, (int64_t)f[i].ptes);
		sqlite3_bind_int64(st, 10, f[i].pt_pages);
		sqlite3_bind_int64(st, 11, f[i].pages_copied);
		sqlite3_bind_int64(st, 12, (int64_t)f[i].latency_ns);
		if (f[i].observed_ns)
			sqlite3_bind_int64(st, 13, (int64_t)f[i].observed_ns);
		else
			sqlite3_bind_null(st, 13);
		sqlite3_bind_text(st, 14,
		                  sim_fork_kind_name(sim_fork_kind(f[i].clone_flags)),
		                  -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 15, (int64_t)f[i].parent_rss);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	size_t ns;
	const struct sim_sample *sm = sim_samples(e, &ns);
	rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO samples VALUES "
	                        "(?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < ns; i++) {
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, (int64_t)sm[i].ts);
		sqlite3_bind_int64(st, 3, (int64_t)sm[i].events);
		sqlite3_bind_int64(st, 4, (int64_t)sm[i].copies);
		sqlite3_bind_int64(st, 5, (int64_t)sm[i].zero_fills);
		sqlite3_bind_int64(st, 6, (int64_t)sm[i].frames);
		sqlite3_bind_int64(st, 7, (int64_t)sm[i].pt_pages);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	if (with_faults) {
		struct spool_reader rd = { .s = &rr->dec, .cap = 1 << 20 };
		spool_flush(&rr->dec);
		if (rr->dec.err) {
			spool_fail(rr->dec.err, err, errlen);
			rc = -EIO;
			goto out;
		}
		buf = rd.buf = malloc(rd.cap);
		b = sqlbatch_new(db, "INSERT INTO fault_decisions (run_id, seq, "
		              "outcome) VALUES", 3);
		if (!buf || !b) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		uint64_t v;
		while ((rc = spool_next(&rd, &v, sizeof(v))) == 0) {
			struct sqlbatch_val *bv = sqlbatch_row(b, &rc);
			if (!bv)
				goto fail;
			sqlbatch_int(&bv[0], run_id);
			sqlbatch_int(&bv[1], (int64_t)(v >> 8));
			sqlbatch_text(&bv[2], sim_out_name((enum sim_out)(v & 0xff)));
			pg->done++;
			progress_tick(&pg->p, pg->done, 0);
		}
		if (rc < 0) {
			snprintf(err, errlen, "reading the --faults spool: %s",
			         strerror(-rc));
			goto out;
		}
		if ((rc = sqlbatch_flush(b)))
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = store_sql_fail(t, rc, "storing a run", err, errlen);
out:
	sqlbatch_free(b);
	sqlite3_finalize(st);
	free(buf);
	free(child);
	return rc;
}

int store_rec_commit(struct store_rec *t, const struct ev_source *src,
                     struct store_result *res, char *err, size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	int64_t trace_id = 0, *upid = NULL;
	int faults_stored = 0, rc;
	struct prog pg = { .done = 0 };
	uint64_t rows = 0;

	struct utsname host;
	int host_ok = uname(&host) == 0;

	memset(res, 0, sizeof(*res));
	size_t np;
	sim_procs(store_trace_engine(t), &np);
	upid = calloc(np ? np : 1, sizeof(*upid));
	if (!upid) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (t->spool_faults)
		rows += spool_size(&t->faults) / sizeof(struct fault_rec);
	for (size_t i = 0; i < t->nruns; i++)
		if (t->runs[i].spool_on)
			rows += spool_size(&t->runs[i].dec) / sizeof(uint64_t);
	progress_init(&pg.p, t->o.progress && rows > 100000, t->s->path, "rows");
	pg.p.items_total = rows;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = store_sql_fail(t, rc, "starting the transaction", err, errlen);
		free(upid);
		return rc;
	}
	rc = sqlite3_prepare_v2(db, "SELECT id, faults_stored FROM traces "
	                        "WHERE hash = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		trace_id = sqlite3_column_int64(st, 0);
		faults_stored = sqlite3_column_int(st, 1);
	} else if (rc != SQLITE_DONE) {
		goto sqlfail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (trace_id) {
		rc = map_processes(t, trace_id, upid, err, errlen);
		if (!rc && t->name)
			rc = rename_trace(t, trace_id, err, errlen);
	} else
		rc = insert_trace(t, src, &trace_id, upid, err, errlen);
	if (rc)
		goto fail;
	res->trace_id = trace_id;
	/* Faults: ours if the trace has none yet (and we spooled them). */
	int have_faults = faults_stored;
	if (!faults_stored && t->spool_faults) {
		if ((rc = insert_faults(t, trace_id, upid, &pg, err, errlen)))
			goto fail;
		have_faults = 1;
	}

	rc = sqlite3_prepare_v2(db, "SELECT id FROM runs WHERE run_key = ?", -1,
	                        &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0; i < t->nruns; i++) {
		struct rec_run *rr = &t->runs[i];
		int64_t old = 0;
		sqlite3_bind_text(st, 1, rr->key, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			old = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(st);
		if (old && !t->o.replace) {
			res->skipped++;
			size_t l = strlen(res->skipped_names);
			snprintf(res->skipped_names + l, sizeof(res->skipped_names) - l,
			         "%s%s", l ? ", " : "", rr->run->cfg.name);
			continue;
		}
		if (old) {
			/* Explicitly, child tables first: foreign keys are not
			 * enforced (checking them costs a third of the insert
			 * time of the fault rows), so nothing cascades. */
			char sql[256];
			snprintf(sql, sizeof(sql),
			         "DELETE FROM fault_decisions WHERE run_id = %lld; "
			         "DELETE FROM forks WHERE run_id = %lld; "
			         "DELETE FROM samples WHERE run_id = %lld; "
			         "DELETE FROM runs WHERE id = %lld;",
			         (long long)old, (long long)old, (long long)old,
			         (long long)old);
			rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
			if (rc != SQLITE_OK)
				goto sqlfail;
			res->replaced++;
		}
		/* Decisions only go in alongside the faults they refer to. */
		int with_faults = rr->spool_on && have_faults;
		if ((rc = insert_run(t, rr, trace_id, upid, with_faults,
		                     host_ok ? &host : NULL, &pg, err, errlen)))
			goto fail;
		res->stored++;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	res->fault_rows = pg.done;
	progress_done(&pg.p, pg.done, 0);
	free(upid);
	return 0;

sqlfail:
	rc = store_sql_fail(t, rc, "storing the replay", err, errlen);
fail:
	progress_abort(&pg.p);
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(upid);
	return rc;
}
