/*
 * store_rec.c - what the store does while a replay runs (store.h): it
 * looks up what the database already has, and with --faults installs the
 * fault hooks that spool rows for store_write.c to insert at commit.
 *
 * The store re-derives nothing.  The engine hands each hook the fault's
 * event index (seq), its process and, in a second call, the kernel's label
 * for it; the store only keeps them:
 *
 *  - the first run's hook spools every write fault of the trace (32 bytes
 *    a fault), and patches a label into the record of the fault it names,
 *    found by seq (spool_find(): the record is nearly always still in the
 *    spool's memory tail);
 *  - every run whose decisions are wanted spools them (8 bytes a fault:
 *    the seq and the outcome).
 * Without --faults no hook is installed, and the replay runs as if there
 * were no store.  Processes, forks and markers are read from the engines
 * at commit.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The kernel's label for the fault with event index seq: into its record.
 * A seq the spool does not have names no row: it is left alone. */
static void obs_patch(struct store_rec *t, uint64_t seq, unsigned obs)
{
	uint64_t off, addr;
	int rc = spool_find(&t->faults, sizeof(struct fault_rec), seq, &off);

	if (rc == -ENOENT)
		return;
	off += offsetof(struct fault_rec, addr);
	if (rc || spool_read(&t->faults, off, &addr, sizeof(addr))) {
		t->faults.err = EIO;
		return;
	}
	addr = (addr & ~(0xfull << FR_OBS_SHIFT)) | ((uint64_t)obs << FR_OBS_SHIFT);
	spool_patch(&t->faults, off, &addr, sizeof(addr));
}

/* The first run's hook spools the trace's faults and their labels; each
 * run's, its decisions. */
static void fault_hook(void *ctx, const struct sim_fault_rec *r, int is_label)
{
	struct rec_run *rr = ctx;
	struct store_rec *t = rr->rec;

	if (is_label) {
		if (rr == &t->runs[0] && t->spool_faults)
			obs_patch(t, r->seq, r->observed);
		return;
	}
	if (rr == &t->runs[0] && t->spool_faults) {
		struct fault_rec fr = {
			.seq = r->seq, .ts = r->ts,
			.addr = (r->addr & FR_ADDR_MASK) |
			        ((r->flags & EV_PF_USER) ? FR_USER_BIT : 0),
			.proc = r->proc, .tid = r->tid,
		};
		spool_add(&t->faults, &fr, sizeof(fr));
	}
	if (rr->spool_on) {
		uint64_t v = r->seq << 8 | r->out;
		spool_add(&rr->dec, &v, sizeof(v));
	}
}

int store_name_check(struct store_rec *t, const char *name, char *err,
                     size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!*name) {
		snprintf(err, errlen, "--name: a trace's name cannot be empty");
		return -EEXIST;
	}
	rc = sqlite3_prepare_v2(store_db(t->s), "SELECT path FROM traces WHERE "
	                        "name = ? AND hash != ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *other = sqlite3_column_text(st, 0);
		snprintf(err, errlen, "--name %s: %s already has a trace of that "
		         "name (%s, other content); pick another name", name,
		         t->s->path, other ? (const char *)other : "?");
		sqlite3_finalize(st);
		return -EEXIST;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	return 0;
sqlfail:
	sqlite3_finalize(st);
	return store_sql_fail(t, rc, "looking up trace names", err, errlen);
}

int store_rec_begin(struct store *s, struct replay *r, const char *path,
                    const struct store_opts *opts, struct store_rec **out,
                    char *err, size_t errlen)
{
	struct store_rec *t = calloc(1, sizeof(*t));
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (!t)
		goto oom;
	t->s = s;
	t->r = r;
	t->o = *opts;
	t->faults.fd = -1;
	if (!(t->path = strdup(path)))
		goto oom;
	if (opts->name && !(t->name = strdup(opts->name)))
		goto oom;
	if (opts->prov)
		t->prov = *opts->prov;
	/* The hash reads the file once more: a pipe would be drained. */
	struct stat sb;
	if (!stat(path, &sb) && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file, so its replay cannot "
		         "be stored (save it to a file first, or use --no-db)", path);
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = store_hash_file(path, t->hash, &t->size, err, errlen)))
		goto fail;
	/* Before the replay: a taken name must not cost the user a replay. */
	if (t->name && (rc = store_name_check(t, t->name, err, errlen)))
		goto fail;
	if (!r->nruns) {
		snprintf(err, errlen, "%s: no policy replayed, nothing to store",
		         path);
		rc = -EINVAL;
		goto fail;
	}
	t->runs = calloc(r->nruns, sizeof(*t->runs));
	if (!t->runs)
		goto oom;
	t->nruns = r->nruns;
	for (size_t i = 0; i < r->nruns; i++) {
		struct rec_run *rr = &t->runs[i];
		rr->rec = t;
		rr->run = &r->runs[i];
		rr->dec.fd = -1;
		size_t n = cfg_format(&r->runs[i].cfg, NULL, 0);
		if (!(rr->config = malloc(n + 1)))
			goto oom;
		cfg_format(&r->runs[i].cfg, rr->config, n + 1);
		store_run_key(t->hash, rr->config, rr->key);
	}

	/* What is stored already (decided again at commit). */
	sqlite3 *db = store_db(s);
	rc = sqlite3_prepare_v2(db, "SELECT faults_stored FROM traces WHERE "
	                        "hash = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->trace_known = 1;
		t->faults_known = sqlite3_column_int(st, 0);
	} else if (rc != SQLITE_DONE) {
		goto sqlfail;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE run_key = ?", -1,
	                        &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0; i < t->nruns; i++) {
		sqlite3_bind_text(st, 1, t->runs[i].key, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto sqlfail;
		t->runs[i].stored_before = rc == SQLITE_ROW;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;

	if (opts->faults) {
		t->spool_faults = !t->faults_known;
		if (t->spool_faults && (rc = spool_open(&t->faults, 1 << 20)))
			goto spoolfail;
		for (size_t i = 0; i < t->nruns; i++) {
			struct rec_run *rr = &t->runs[i];
			if (!rr->stored_before || opts->replace) {
				if ((rc = spool_open(&rr->dec, 1 << 18)))
					goto spoolfail;
				rr->spool_on = 1;
			}
			if (rr->spool_on || (i == 0 && t->spool_faults)) {
				r->runs[i].fault_hook = fault_hook;
				r->runs[i].fault_ctx = rr;
			}
		}
	}
	*out = t;
	return 0;

spoolfail:
	snprintf(err, errlen, "cannot create a --faults spool file in %s: %s "
	         "(set TMPDIR to a writable folder)", spool_dir(), strerror(-rc));
	goto fail;
sqlfail:
	rc = store_sql_fail(t, rc, "looking up stored runs", err, errlen);
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
fail:
	sqlite3_finalize(st);
	store_rec_free(t);
	return rc;
}

void store_rec_free(struct store_rec *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nruns; i++) {
		free(t->runs[i].config);
		spool_close(&t->runs[i].dec);
		if (t->r && t->r->runs[i].fault_ctx == &t->runs[i]) {
			t->r->runs[i].fault_hook = NULL;
			t->r->runs[i].fault_ctx = NULL;
		}
	}
	free(t->runs);
	spool_close(&t->faults);
	free(t->path);
	free(t->name);
	free(t);
}
