/*
 * test_store.c - the results store: what goes in comes back out (every
 * metric, fork, sample, fault and the config text), processes keep their
 * identity when pids recycle, re-runs are recognised, version-1 and -2
 * databases (tests/data/store-v*.sql, dumped from the cowsims that wrote
 * them) migrate intact, and what is not ours is refused without being
 * touched.
 *
 * usage: test_store SOURCE_DIR
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "importers/evfile.h"
#include "importers/open.h"
#include "reports/store.h"
#include "sim/replay.h"

static char tmpdir[] = "/tmp/test_store-XXXXXX";
static const char *srcdir;

static char *tpath(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

/* First column of the first row of a query, as an integer (-1: no row). */
static int64_t q_int(sqlite3 *db, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bad query %s: %s\n", sql, sqlite3_errmsg(db));
		check_failures++;
		return -2;
	}
	int64_t v = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -3
		                                             : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *q_text(sqlite3 *db, const char *fmt, ...)
{
	static char out[65536];
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	sqlite3_stmt *st;
	out[0] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bad query %s: %s\n", sql, sqlite3_errmsg(db));
		check_failures++;
		return out;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* Replay path under the comma-separated presets into s, checking each
 * engine's results against what was stored when check is set. */
static int replay_into(struct store *s, const char *path, const char *pols,
                       int faults, int replace, struct store_result *res,
                       int check)
{
	struct replay r;
	struct ev_source *src = NULL;
	struct store_rec *rec = NULL;
	struct store_opts o = { .faults = faults, .replace = replace };
	char err[1024], list[256];
	int rc;

	replay_init(&r);
	snprintf(list, sizeof(list), "%s", pols);
	for (char *sv = NULL, *p = strtok_r(list, ",", &sv); p;
	     p = strtok_r(NULL, ",", &sv)) {
		struct sim_config c;
		cfg_defaults(&c);
		if (p[0] == '@') {
			/* "@ID": the configuration stored with run ID, as it was
			 * (presets change between cowsim versions). */
			const char *text = q_text(store_db(s), "SELECT config FROM runs "
			                          "WHERE id = %s", p + 1);
			CHECK(cfg_load_text(&c, "stored", text, err, sizeof(err)) == 0);
		} else {
			CHECK(cfg_load_preset(&c, p, err, sizeof(err)) == 0);
		}
		CHECK(replay_add(&r, &c) == 0);
	}
	rc = evsrc_open(path, NULL, &src, err, sizeof(err));
	if (!rc)
		rc = store_rec_begin(s, &r, path, &o, &rec, err, sizeof(err));
	if (!rc)
		rc = replay_run(&r, src, err, sizeof(err));
	if (!rc)
		rc = store_rec_commit(rec, src, res, err, sizeof(err));
	if (rc)
		fprintf(stderr, "replay_into %s: %s\n", path, err);
	if (!rc && check) {
		sqlite3 *db = store_db(s);
		for (size_t i = 0; i < r.nruns; i++) {
			const struct replay_run *run = &r.runs[i];
			int64_t id = q_int(db, "SELECT id FROM runs WHERE trace_id = %lld "
			                   "AND policy = '%s' ORDER BY id DESC",
			                   (long long)res->trace_id, run->cfg.name);
			CHECK(id > 0);
			/* every metric, by the column of its name */
			for (size_t m = 0; m < sim_nmetrics(); m++) {
				const char *name = sim_metric_name(m, NULL);
				int64_t v = q_int(db, "SELECT %s FROM runs WHERE id = %lld",
				                  name, (long long)id);
				if ((uint64_t)v != sim_metric_get(sim_metrics(run->e), m)) {
					fprintf(stderr, "%s %s: stored %lld\n", run->cfg.name,
					        name, (long long)v);
					check_failures++;
				}
			}
			size_t n = cfg_format(&run->cfg, NULL, 0);
			char *cfg = malloc(n + 1);
			cfg_format(&run->cfg, cfg, n + 1);
			CHECK(!strcmp(q_text(db, "SELECT config FROM runs WHERE id = %lld",
			                     (long long)id), cfg));
			free(cfg);
			size_t nf, ns;
			const struct sim_fork_rec *f = sim_forks(run->e, &nf);
			CHECK_EQ(q_int(db, "SELECT count(*) FROM forks WHERE run_id = %lld",
			               (long long)id), nf);
			for (size_t k = 0; k < nf; k++) {
				CHECK_EQ(q_int(db, "SELECT dur FROM forks WHERE run_id = %lld "
				               "ORDER BY id LIMIT 1 OFFSET %zu", (long long)id,
				               k), f[k].latency_ns);
				CHECK_EQ(q_int(db, "SELECT ptes FROM forks WHERE run_id = %lld "
				               "ORDER BY id LIMIT 1 OFFSET %zu", (long long)id,
				               k), f[k].ptes);
			}
			const struct sim_sample *sm = sim_samples(run->e, &ns);
			CHECK(ns > 0);
			CHECK_EQ(q_int(db, "SELECT max(frames) FROM samples WHERE run_id = "
			               "%lld AND events = %llu", (long long)id,
			               (unsigned long long)sm[ns - 1].events),
			         sm[ns - 1].frames);
			if (faults)
				CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_decisions "
				               "WHERE run_id = %lld", (long long)id),
				         sim_metrics(run->e)->write_faults);
		}
	}
	store_rec_free(rec);
	evsrc_close(src);
	replay_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ */

static struct cs_ev ev(uint64_t ts, unsigned type, uint32_t tid,
                       uint32_t tgid)
{
	return (struct cs_ev){ .ts = ts, .type = (uint8_t)type, .tid = tid,
	                       .tgid = tgid };
}

/* A trace where pid 200 is used by two processes in turn, one of them with
 * a thread; with a fork latency, a kernel label, markers (one by a task
 * never seen) and the exit of a task never seen. */
static void write_pid_reuse(const char *path)
{
	struct strtab strs;
	struct evf_writer *w;
	char err[512];
	struct cs_ev e[24];
	size_t n = 0;
	const uint64_t base = 0x10000000;

	strtab_init(&strs);
	uint32_t s_srv = strtab_intern(&strs, "/usr/bin/srv", 12);
	uint32_t s_thr = strtab_intern(&strs, "worker-thr", 10);
	uint32_t s_child = strtab_intern(&strs, "child2", 6);
	uint32_t s_mark = strtab_intern(&strs, "cowsim: phase a", 15);

	e[n] = ev(1000, EV_EXEC, 100, 100); e[n++].arg = s_srv;
	e[n] = ev(1100, EV_MMAP, 100, 100);
	e[n].addr = base; e[n].len = 4;
	e[n++].flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON;
	e[n] = ev(1200, EV_FAULT, 100, 100); e[n].addr = base;
	e[n++].flags = EV_PF_WRITE | EV_PF_USER;
	e[n] = ev(1250, EV_MARKER, 100, 100); e[n++].arg = s_mark;
	e[n] = ev(1300, EV_FORK, 100, 100); e[n++].arg = 200;
	e[n] = ev(1400, EV_FAULT, 200, 200); e[n].addr = base;
	e[n++].flags = EV_PF_WRITE | EV_PF_USER | EV_PF_PROT;
	e[n] = ev(1500, EV_EXIT, 200, 200); e[n++].flags = EV_EXIT_GROUP;
	e[n] = ev(1600, EV_FORK, 100, 100); e[n++].arg = 200;
	e[n] = ev(1700, EV_FAULT, 200, 200); e[n].addr = base + 4096;
	e[n++].flags = EV_PF_WRITE | EV_PF_USER;
	e[n] = ev(1800, EV_FORK_DONE, 100, 100); e[n].arg = 200;
	e[n++].aux = 55555;
	e[n] = ev(1900, EV_FORK, 200, 200); e[n].arg = 201;
	e[n++].flags = EV_CLONE_VM | EV_CLONE_THREAD;
	e[n] = ev(2000, EV_FAULT, 201, 200); e[n].addr = base + 2 * 4096;
	e[n++].flags = EV_PF_WRITE | EV_PF_USER;
	e[n] = ev(2100, EV_COMM, 201, 200); e[n++].arg = s_thr;
	e[n] = ev(2200, EV_COMM, 200, 200); e[n++].arg = s_child;
	e[n] = ev(2300, EV_OBSERVED, 201, 200); e[n].addr = base + 2 * 4096;
	e[n++].flags = EV_OBS_NEW;
	e[n] = ev(2350, EV_MARKER, 999, 999); e[n++].arg = s_mark;
	e[n++] = ev(2400, EV_EXIT, 201, 200);
	e[n] = ev(2450, EV_EXIT, 300, 300); e[n++].flags = EV_EXIT_GROUP;
	e[n++] = ev(2500, EV_EXIT, 200, 200);
	CHECK(evf_create(path, &w, err, sizeof(err)) == 0);
	CHECK(evf_write(w, e, n) == 0);
	CHECK(evf_finish(w, &strs, NULL, 0, err, sizeof(err)) == 0);
	strtab_free(&strs);
}

static void test_round_trip(void)
{
	struct store *s;
	struct store_result res;
	char err[1024];
	char scn[512];

	snprintf(scn, sizeof(scn), "%s/traces/scenarios/eng-observed.scn", srcdir);
	CHECK(store_open(tpath("rt.db"), STORE_CREATE, &s, err, sizeof(err)) == 0);
	sqlite3 *db = store_db(s);
	CHECK_EQ(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_EQ(q_int(db, "PRAGMA application_id"), STORE_APP_ID);
	CHECK(!strcmp(q_text(db, "PRAGMA journal_mode"), "wal"));
	CHECK_EQ(q_int(db, "SELECT count(*) FROM metric_docs"), sim_nmetrics());

	CHECK(replay_into(s, scn, "linux-5.7,linux-5.9,linux-6.12", 1, 0, &res,
	                  1) == 0);
	CHECK_EQ(res.stored, 3);
	CHECK_EQ(res.skipped, 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM traces"), 1);
	CHECK(!strcmp(q_text(db, "SELECT format FROM traces"), "scenario"));
	CHECK(!strcmp(q_text(db, "SELECT name FROM traces"), "eng-observed.scn"));
	char hex[33];
	CHECK(store_hash_file(scn, hex, NULL, err, sizeof(err)) == 0);
	CHECK(!strcmp(q_text(db, "SELECT hash FROM traces"), hex));
	CHECK(!strcmp(q_text(db, "SELECT value FROM trace_meta WHERE key = "
	                     "'scenario'"), "agreement with observed outcomes"));
	/* 5 write faults, 2 of them labelled copies; linux-5.9 agrees with
	 * both, linux-5.7 with none (the scenario's own expectations). */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM faults"), 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM faults WHERE observed = 'copy'"),
	         2);
	CHECK_EQ(q_int(db, "SELECT agree FROM agreement WHERE policy = "
	               "'linux-5.9'"), 2);
	CHECK_EQ(q_int(db, "SELECT agree_pct FROM agreement_by_policy WHERE "
	               "policy = 'linux-5.7'"), 0);
	CHECK_EQ(q_int(db, "SELECT faults FROM fault_confusion WHERE policy = "
	               "'linux-5.9' AND observed = 'copy' AND outcome = 'copy'"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_outcomes"), 15);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM side_by_side"), 3);
	CHECK_EQ(q_int(db, "SELECT forks FROM fork_latency WHERE policy = "
	               "'linux-6.12'"), 1);

	/* The same again: recognised and skipped, nothing duplicated. */
	CHECK(replay_into(s, scn, "linux-5.9,linux-6.12", 1, 0, &res, 0) == 0);
	CHECK_EQ(res.stored, 0);
	CHECK_EQ(res.skipped, 2);
	CHECK(!strcmp(res.skipped_names, "linux-5.9, linux-6.12"));
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs"), 3);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_decisions"), 15);
	/* --replace: same number of runs, new ids, nothing orphaned. */
	int64_t old = q_int(db, "SELECT id FROM runs WHERE policy = 'linux-5.9'");
	CHECK(replay_into(s, scn, "linux-5.9", 1, 1, &res, 1) == 0);
	CHECK_EQ(res.stored, 1);
	CHECK_EQ(res.replaced, 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs"), 3);
	CHECK(q_int(db, "SELECT id FROM runs WHERE policy = 'linux-5.9'") != old);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_decisions"), 15);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_decisions WHERE run_id "
	               "NOT IN (SELECT id FROM runs)"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM forks WHERE run_id NOT IN "
	               "(SELECT id FROM runs)"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM samples WHERE run_id NOT IN "
	               "(SELECT id FROM runs)"), 0);
	/* A new policy on a known trace (here without --faults) reuses the
	 * trace's rows. */
	CHECK(replay_into(s, scn, "linux-5.18", 0, 0, &res, 1) == 0);
	CHECK_EQ(res.stored, 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM traces"), 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM processes"), 2);
	CHECK_EQ(q_int(db, "SELECT faults_logged FROM runs WHERE policy = "
	               "'linux-5.18'"), 0);
	CHECK_EQ(q_int(db, "PRAGMA foreign_key_check"), -1);
	CHECK(!strcmp(q_text(db, "PRAGMA integrity_check"), "ok"));
	store_close(s);
}

static void test_pid_reuse(void)
{
	struct store *s;
	struct store_result res;
	char err[1024];
	const char *ev = tpath("reuse.ev");

	write_pid_reuse(ev);
	CHECK(store_open(tpath("reuse.db"), STORE_CREATE, &s, err,
	                 sizeof(err)) == 0);
	sqlite3 *db = store_db(s);
	CHECK(replay_into(s, ev, "linux-6.12,linux-5.7", 1, 0, &res, 1) == 0);
	CHECK_EQ(q_int(db, "SELECT processes FROM traces"), 3);
	CHECK_EQ(q_int(db, "SELECT threads FROM traces"), 4);
	CHECK_EQ(q_int(db, "SELECT forks FROM traces"), 2);
	CHECK_EQ(q_int(db, "SELECT write_faults FROM traces"), 4);
	CHECK_EQ(q_int(db, "SELECT labels FROM traces"), 1);
	CHECK_EQ(q_int(db, "SELECT dur FROM traces"), 1500);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM processes WHERE pid = 200"), 2);
	int64_t srv = q_int(db, "SELECT upid FROM processes WHERE pid = 100");
	int64_t a = q_int(db, "SELECT upid FROM processes WHERE pid = 200 "
	                  "ORDER BY start_ts");
	int64_t b = q_int(db, "SELECT upid FROM processes WHERE pid = 200 "
	                  "ORDER BY start_ts DESC");
	CHECK(a != b);
	CHECK(!strcmp(q_text(db, "SELECT comm FROM processes WHERE upid = %lld",
	                     (long long)srv), "srv"));
	CHECK(!strcmp(q_text(db, "SELECT exe FROM processes WHERE upid = %lld",
	                     (long long)srv), "/usr/bin/srv"));
	CHECK_EQ(q_int(db, "SELECT start_ts FROM processes WHERE upid = %lld",
	               (long long)srv), -3);   /* NULL: before the trace */
	CHECK_EQ(q_int(db, "SELECT parent_upid FROM processes WHERE upid = %lld",
	               (long long)a), srv);
	CHECK_EQ(q_int(db, "SELECT start_ts FROM processes WHERE upid = %lld",
	               (long long)a), 1300);
	CHECK_EQ(q_int(db, "SELECT end_ts FROM processes WHERE upid = %lld",
	               (long long)a), 1500);
	CHECK_EQ(q_int(db, "SELECT end_ts FROM processes WHERE upid = %lld",
	               (long long)b), 2500);
	CHECK_EQ(q_int(db, "SELECT threads FROM processes WHERE upid = %lld",
	               (long long)b), 2);
	/* A thread naming itself leaves its process's name alone. */
	CHECK(!strcmp(q_text(db, "SELECT comm FROM processes WHERE upid = %lld",
	                     (long long)b), "child2"));
	/* Threads: one per task ever seen, pid 200 twice (a utid each), with
	 * creator, name and life as far as the trace shows them. */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM threads"), 5);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM threads WHERE upid IS NOT "
	               "NULL"), 4);   /* = traces.threads */
	int64_t t100 = q_int(db, "SELECT utid FROM threads WHERE tid = 100");
	int64_t ta = q_int(db, "SELECT utid FROM threads WHERE upid = %lld",
	                   (long long)a);
	int64_t tb = q_int(db, "SELECT utid FROM threads WHERE tid = 200 AND "
	                   "upid = %lld", (long long)b);
	CHECK(ta != tb);
	CHECK(!strcmp(q_text(db, "SELECT comm FROM threads WHERE utid = %lld",
	                     (long long)t100), "srv"));
	CHECK_EQ(q_int(db, "SELECT first_ts FROM threads WHERE utid = %lld",
	               (long long)t100), 1000);
	CHECK_EQ(q_int(db, "SELECT start_ts FROM threads WHERE utid = %lld",
	               (long long)t100), -3);
	CHECK_EQ(q_int(db, "SELECT end_ts FROM threads WHERE utid = %lld",
	               (long long)t100), -3);
	CHECK_EQ(q_int(db, "SELECT parent_utid FROM threads WHERE utid = %lld",
	               (long long)ta), t100);
	CHECK_EQ(q_int(db, "SELECT start_ts FROM threads WHERE utid = %lld",
	               (long long)ta), 1300);
	CHECK_EQ(q_int(db, "SELECT end_ts FROM threads WHERE utid = %lld",
	               (long long)ta), 1500);
	CHECK(!strcmp(q_text(db, "SELECT comm FROM threads WHERE utid = %lld",
	                     (long long)ta), "srv"));   /* its creator's */
	CHECK(!strcmp(q_text(db, "SELECT comm FROM threads WHERE utid = %lld",
	                     (long long)tb), "child2"));
	CHECK_EQ(q_int(db, "SELECT end_ts FROM threads WHERE utid = %lld",
	               (long long)tb), 2500);
	CHECK_EQ(q_int(db, "SELECT parent_utid FROM threads WHERE tid = 201"), tb);
	CHECK_EQ(q_int(db, "SELECT upid FROM threads WHERE tid = 201"), b);
	CHECK(!strcmp(q_text(db, "SELECT comm FROM threads WHERE tid = 201"),
	              "worker-thr"));
	CHECK_EQ(q_int(db, "SELECT end_ts FROM threads WHERE tid = 201"), 2400);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM threads WHERE tid = 300 AND "
	               "upid IS NULL AND end_ts = 2450"), 1);
	/* A marker names its writer's process, or none; an exit of a task
	 * never seen made no process (3 above). */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM markers"), 2);
	CHECK_EQ(q_int(db, "SELECT upid FROM markers WHERE ts = 1250"), srv);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM markers WHERE ts = 2350 AND "
	               "upid IS NULL"), 1);
	/* Faults belong to the process that ran at the time. */
	CHECK_EQ(q_int(db, "SELECT upid FROM faults WHERE ts = 1400"), a);
	CHECK_EQ(q_int(db, "SELECT upid FROM faults WHERE ts = 1700"), b);
	CHECK_EQ(q_int(db, "SELECT upid FROM faults WHERE ts = 2000"), b);
	CHECK(!strcmp(q_text(db, "SELECT observed FROM faults WHERE ts = 2000"),
	              "new"));
	CHECK_EQ(q_int(db, "SELECT count(*) FROM faults WHERE observed IS NOT "
	               "NULL"), 1);
	/* Forks link the processes; the second has the observed latency. */
	CHECK_EQ(q_int(db, "SELECT child_upid FROM forks f JOIN runs r ON "
	               "r.id = f.run_id WHERE r.policy = 'linux-6.12' AND "
	               "f.ts = 1300"), a);
	CHECK_EQ(q_int(db, "SELECT child_upid FROM forks f JOIN runs r ON "
	               "r.id = f.run_id WHERE r.policy = 'linux-6.12' AND "
	               "f.ts = 1600"), b);
	CHECK_EQ(q_int(db, "SELECT observed_dur FROM forks WHERE ts = 1600"),
	         55555);
	CHECK_EQ(q_int(db, "SELECT observed_dur FROM forks WHERE ts = 1300"), -3);
	CHECK_EQ(q_int(db, "SELECT observed_forks FROM fork_latency LIMIT 1"), 1);
	CHECK_EQ(q_int(db, "SELECT observed_p50 FROM fork_latency LIMIT 1"), 55555);
	/* The first child's write to the parent's page was a COW copy. */
	CHECK(!strcmp(q_text(db, "SELECT outcome FROM fault_outcomes WHERE ts = "
	                     "1400 AND policy = 'linux-6.12'"), "copy"));
	store_close(s);
}

static int load_sql_file(const char *db_path, const char *sql_path)
{
	FILE *f = fopen(sql_path, "r");
	if (!f)
		return -1;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	sqlite3 *db;
	if (sqlite3_open(db_path, &db) != SQLITE_OK)
		return -1;
	char *msg = NULL;
	int rc = sqlite3_exec(db, buf, NULL, NULL, &msg);
	if (rc)
		fprintf(stderr, "%s: %s\n", sql_path, msg);
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

static void test_migration(void)
{
	struct store *s;
	struct store_result res;
	char err[1024], fixture[512], scn[512];

	snprintf(fixture, sizeof(fixture), "%s/tests/data/store-v1.sql", srcdir);
	snprintf(scn, sizeof(scn), "%s/traces/scenarios/eng-observed.scn", srcdir);
	CHECK(load_sql_file(tpath("v1.db"), fixture) == 0);

	/* A reader migrates too (the views need the current schema). */
	CHECK(store_open(tpath("v1.db"), 0, &s, err, sizeof(err)) == 0);
	CHECK_EQ(s->version, 1);
	sqlite3 *db = store_db(s);
	CHECK_EQ(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_decisions"), 10);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM samples"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM markers"), 0);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM side_by_side"), 2);
	CHECK_EQ(q_int(db, "SELECT agree FROM agreement WHERE policy = "
	               "'linux-6.12'"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM fault_confusion"), 2);
	CHECK(!strcmp(q_text(db, "PRAGMA integrity_check"), "ok"));
	store_close(s);

	/* Opening it again finds the current version: nothing to do. */
	CHECK(store_open(tpath("v1.db"), STORE_CREATE, &s, err, sizeof(err)) == 0);
	CHECK_EQ(s->version, STORE_SCHEMA_VERSION);
	db = store_db(s);
	/* The v1 runs are recognised (same content, same config text)... */
	char ids[64], lo[24];
	snprintf(lo, sizeof(lo), "%s", q_text(db, "SELECT min(id) FROM runs"));
	snprintf(ids, sizeof(ids), "@%s,@%s", lo,
	         q_text(db, "SELECT max(id) FROM runs"));
	CHECK(replay_into(s, scn, ids, 1, 0, &res, 0) == 0);
	CHECK_EQ(res.skipped, 2);
	CHECK_EQ(res.stored, 0);
	/* ... and a new one joins the old trace and its processes. */
	CHECK(replay_into(s, scn, "linux-5.9", 1, 0, &res, 1) == 0);
	CHECK_EQ(res.stored, 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM traces"), 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM processes"), 2);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM faults"), 5);
	CHECK(q_int(db, "SELECT count(*) FROM samples") > 0);
	store_close(s);
}

/* A version-2 database made by the cowsim before version 3: its two
 * traces were both "trace.dat". */
static void test_migration_v2(void)
{
	struct store *s;
	struct store_result res;
	char err[1024], fixture[512], scn[512];

	snprintf(fixture, sizeof(fixture), "%s/tests/data/store-v2.sql", srcdir);
	snprintf(scn, sizeof(scn), "%s/traces/scenarios/eng-observed.scn", srcdir);
	CHECK(load_sql_file(tpath("v2.db"), fixture) == 0);
	CHECK(store_open(tpath("v2.db"), 0, &s, err, sizeof(err)) == 0);
	CHECK_EQ(s->version, 2);
	sqlite3 *db = store_db(s);
	CHECK_EQ(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* Old runs kept, intact. */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs"), 6);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM processes"), 4);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM samples WHERE run_id = 1") > 0, 1);
	CHECK(!strcmp(q_text(db, "PRAGMA integrity_check"), "ok"));
	/* Names made unique, the first stored keeping its own. */
	CHECK(!strcmp(q_text(db, "SELECT name FROM traces WHERE id = 1"),
	              "trace.dat"));
	CHECK(!strcmp(q_text(db, "SELECT name FROM traces WHERE id = 2"),
	              "pg/trace.dat"));
	CHECK((sqlite3_exec(db, "UPDATE traces SET name = 'trace.dat' WHERE "
	                    "id = 2", NULL, NULL, NULL) & 0xff) ==
	      SQLITE_CONSTRAINT);
	/* Era order in the views. */
	CHECK(!strcmp(q_text(db, "SELECT group_concat(policy) FROM (SELECT "
	                     "policy FROM side_by_side WHERE trace_id = 1)"),
	              "linux-5.7,linux-5.18,linux-6.12"));
	CHECK_EQ(q_int(db, "SELECT count(*) FROM runs WHERE policy_order IS "
	               "NULL"), 0);
	/* The main threads the processes imply. */
	CHECK_EQ(q_int(db, "SELECT count(*) FROM threads t JOIN processes p "
	               "ON p.upid = t.upid AND p.pid = t.tid"), 4);
	/* Config by key, units, and provenance unknown (NULL) for old runs. */
	CHECK_EQ(q_int(db, "SELECT value FROM run_config c JOIN runs r ON "
	               "r.id = c.run_id WHERE r.policy = 'linux-6.12' AND "
	               "c.section = 'switches' AND c.key = 'lru_batch'"), 31);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM metric_docs WHERE unit IS NULL "
	               "OR unit = ''"), 0);
	CHECK_EQ(q_int(db, "SELECT count(command_line) + count(host_kernel_release) "
	               "FROM runs"), 0);
	store_close(s);

	/* A new run of a migrated trace joins it, under its name. */
	CHECK(store_open(tpath("v2.db"), STORE_CREATE, &s, err, sizeof(err)) == 0);
	db = store_db(s);
	CHECK(replay_into(s, scn, "linux-5.9", 0, 0, &res, 1) == 0);
	CHECK_EQ(res.stored, 1);
	CHECK_EQ(q_int(db, "SELECT trace_id FROM runs WHERE policy = "
	               "'linux-5.9'"), 1);
	CHECK_EQ(q_int(db, "SELECT count(*) FROM traces"), 2);
	CHECK(!strcmp(q_text(db, "SELECT name FROM traces WHERE id = 1"),
	              "trace.dat"));
	CHECK(!strcmp(q_text(db, "SELECT group_concat(policy) FROM (SELECT "
	                     "policy FROM side_by_side WHERE trace_id = 1)"),
	              "linux-5.7,linux-5.9,linux-5.18,linux-6.12"));
	store_close(s);
}

/* A version-3 database, before forks had a kind: 3 forks, a vfork and a
 * CLONE_VM clone, each kernel-observed (tests/mktrace with 3 snapshots). */
static void test_migration_v3(void)
{
	struct store *s;
	struct store_result res;
	char err[1024], fixture[512], scn[512];

	snprintf(fixture, sizeof(fixture), "%s/tests/data/store-v3.sql", srcdir);
	snprintf(scn, sizeof(scn), "%s/traces/scenarios/eng-threads-vfork.scn",
	         srcdir);
	CHECK(load_sql_file(tpath("v3.db"), fixture) == 0);
	CHECK(store_open(tpath("v3.db"), 0, &s, err, sizeof(err)) == 0);
	CHECK_EQ(s->version, 3);
	sqlite3 *db = store_db(s);
	CHECK_EQ(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK(!strcmp(q_text(db, "PRAGMA integrity_check"), "ok"));
	/* Every old fork classified by its flags, none left without. */
	CHECK(!strcmp(q_text(db, "SELECT group_concat(kind) FROM (SELECT kind "
	                     "FROM forks ORDER BY ts)"),
	              "fork,fork,vfork,fork,clone-vm"));
	CHECK_EQ(q_int(db, "SELECT count(*) FROM forks WHERE parent_rss IS NOT "
	               "NULL"), 0);
	/* The fork latency is the forks': the vfork's 711 us wait and the
	 * clone's 40 us are not in it, but in clone_latency, apart. */
	CHECK_EQ(q_int(db, "SELECT forks FROM fork_latency"), 3);
	CHECK_EQ(q_int(db, "SELECT observed_forks FROM fork_latency"), 3);
	CHECK_EQ(q_int(db, "SELECT observed_p50 FROM fork_latency"), 213000);
	CHECK_EQ(q_int(db, "SELECT observed_max FROM fork_latency"), 276000);
	CHECK_EQ(q_int(db, "SELECT dur_max FROM fork_latency"), 86490);
	CHECK_EQ(q_int(db, "SELECT observed_p50 FROM clone_latency WHERE kind = "
	               "'vfork'"), 711000);
	CHECK_EQ(q_int(db, "SELECT clones FROM clone_latency WHERE kind = "
	               "'clone-vm'"), 1);
	store_close(s);

	/* A new run records each fork's kind and its parent's size. */
	CHECK(store_open(tpath("v3.db"), STORE_CREATE, &s, err, sizeof(err)) == 0);
	db = store_db(s);
	CHECK(replay_into(s, scn, "linux-6.12", 0, 0, &res, 1) == 0);
	CHECK_EQ(res.stored, 1);
	CHECK(!strcmp(q_text(db, "SELECT group_concat(kind || ':' || parent_rss) "
	                     "FROM (SELECT kind, parent_rss FROM forks f JOIN "
	                     "runs r ON r.id = f.run_id JOIN traces t ON t.id = "
	                     "r.trace_id WHERE t.name != 'kv.ev' ORDER BY f.ts)"),
	              "fork:2,vfork:2"));
	store_close(s);
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int x = fgetc(fa), y = fgetc(fb);
		if (x != y)
			same = 0;
		if (x == EOF || y == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	CHECK(system(cmd) == 0);
}

static void test_refusals(void)
{
	struct store *s = NULL;
	char err[1024];
	struct stat sb;

	/* A newer schema: refused, not touched. */
	CHECK(store_open(tpath("new.db"), STORE_CREATE, &s, err, sizeof(err)) == 0);
	CHECK(sqlite3_exec(store_db(s), "PRAGMA user_version = 99", NULL, NULL,
	                   NULL) == SQLITE_OK);
	store_close(s);
	copy_file(tpath("new.db"), tpath("new.copy"));
	CHECK(store_open(tpath("new.db"), STORE_CREATE, &s, err, sizeof(err)) ==
	      -EPROTO);
	CHECK(strstr(err, "newer cowsim") && strstr(err, "version 99"));
	CHECK(store_open(tpath("new.db"), 0, &s, err, sizeof(err)) == -EPROTO);
	CHECK(same_file(tpath("new.db"), tpath("new.copy")));

	/* Not an SQLite file. */
	FILE *f = fopen(tpath("noise.db"), "wb");
	for (int i = 0; i < 8192; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	copy_file(tpath("noise.db"), tpath("noise.copy"));
	CHECK(store_open(tpath("noise.db"), STORE_CREATE, &s, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(strstr(err, "not an SQLite database") != NULL);
	CHECK(same_file(tpath("noise.db"), tpath("noise.copy")));

	/* Somebody else's SQLite database. */
	sqlite3 *db;
	CHECK(sqlite3_open(tpath("other.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE notes (x)", NULL, NULL, NULL) == 0);
	sqlite3_close(db);
	CHECK(store_open(tpath("other.db"), STORE_CREATE, &s, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(strstr(err, "not one cowsim wrote") != NULL);

	/* Missing file for a reader: not created. */
	CHECK(store_open(tpath("none.db"), 0, &s, err, sizeof(err)) == -ENOENT);
	CHECK(stat(tpath("none.db"), &sb) != 0);
	/* A folder that does not exist. */
	CHECK(store_open(tpath("no/such/dir.db"), STORE_CREATE, &s, err,
	                 sizeof(err)) == -EACCES);
	CHECK(strstr(err, "no/such/dir.db") != NULL);
	/* A folder given as the file. */
	CHECK(store_open(tmpdir, STORE_CREATE, &s, err, sizeof(err)) == -EINVAL);
	CHECK(s == NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_store SOURCE_DIR\n");
		return 2;
	}
	srcdir = argv[1];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_round_trip();
	test_pid_reuse();
	test_migration();
	test_migration_v2();
	test_migration_v3();
	test_refusals();
	if (!check_failures) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "files kept in %s\n", tmpdir);
	}
	CHECK_DONE();
}
