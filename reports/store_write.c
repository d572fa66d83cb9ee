/*
 * store_write.c - recording one replay into the results store (store.h).
 *
 * The store re-derives nothing: what a replay produced is the engines'.
 * The processes, the forks that link them and the markers are read from
 * the engines' records at the end (sim_procs(), sim_forks(),
 * sim_markers()); every engine saw the same stream and has the same
 * process table, so the first run's is the trace's.  While the replay
 * runs, only the fault hooks are called, and only with --faults:
 *
 *  - the first run's hook spools every write fault of the trace (32 bytes
 *    a fault: its event index, time, process, address), and when the
 *    engine hands over the kernel's label for a fault, patches it into
 *    that fault's record, found by its event index;
 *  - every run whose decisions are wanted spools them (8 bytes a fault:
 *    the event index and the outcome).
 * Spools are unlinked temporary files: a killed replay leaves nothing
 * behind, and memory does not grow with the trace.
 *
 * Then store_rec_commit() writes everything in one BEGIN IMMEDIATE
 * transaction.  Whether a run is already stored is decided twice: before
 * the replay (to skip spooling for it) and again under the write lock (a
 * concurrent replay may have stored it meanwhile), the second decision
 * being the one that counts.
 *
 * The event index (seq) of a fault is what ties its row in `faults` to the
 * runs' rows in `fault_decisions`; the engine gives it to the hook.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "../importers/evsrc.h"
#include "../sim/replay.h"
#include "../sim/sim.h"

#ifndef COWSIM_VERSION
#define COWSIM_VERSION "unknown"
#endif

/* ------------------------------------------------------------------ */
/* spools: append-only temporary files with an in-memory tail           */

struct spool {
	int fd;
	unsigned char *buf;
	size_t n, cap;
	uint64_t flushed;    /* bytes already in the file */
	int err;             /* first write error (errno) */
};

static int spool_open(struct spool *s, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	snprintf(path, sizeof(path), "%s/cowsim-spool-XXXXXX",
	         dir && *dir ? dir : "/tmp");
	s->fd = mkstemp(path);
	if (s->fd < 0)
		return -errno;
	unlink(path);
	s->buf = malloc(cap);
	if (!s->buf) {
		close(s->fd);
		s->fd = -1;
		return -ENOMEM;
	}
	s->cap = cap;
	return 0;
}

static void spool_flush(struct spool *s)
{
	size_t off = 0;
	while (off < s->n && !s->err) {
		ssize_t w = write(s->fd, s->buf + off, s->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			s->err = w < 0 ? errno : ENOSPC;
		else
			off += (size_t)w;
	}
	s->flushed += s->n;
	s->n = 0;
}

static void spool_add(struct spool *s, const void *p, size_t len)
{
	if (s->n + len > s->cap)
		spool_flush(s);
	memcpy(s->buf + s->n, p, len);
	s->n += len;
}

static uint64_t spool_size(const struct spool *s)
{
	return s->flushed + s->n;
}

/* Overwrite len bytes at offset off (in the file or the buffered tail). */
static void spool_patch(struct spool *s, uint64_t off, const void *p,
                        size_t len)
{
	if (off >= s->flushed) {
		memcpy(s->buf + (off - s->flushed), p, len);
	} else if (!s->err && pwrite(s->fd, p, len, (off_t)off) != (ssize_t)len) {
		s->err = errno ? errno : EIO;
	}
}

static int spool_read(struct spool *s, uint64_t off, void *p, size_t len)
{
	if (off >= s->flushed) {
		memcpy(p, s->buf + (off - s->flushed), len);
		return 0;
	}
	return pread(s->fd, p, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

/* Where the record with key is, in a spool of records of size len that
 * begin with ascending u64 keys.  The newest are searched first: they are
 * in memory, and the most likely sought.  Returns 0 and *off, -ENOENT, or
 * -EIO. */
static int spool_find(struct spool *s, size_t len, uint64_t key,
                      uint64_t *off)
{
	uint64_t lo = 0, hi = spool_size(s) / len, k;

	if (s->n >= len) {
		memcpy(&k, s->buf, sizeof(k));
		if (key >= k)
			lo = s->flushed / len;
		else
			hi = s->flushed / len;
	}
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (spool_read(s, mid * len, &k, sizeof(k)))
			return -EIO;
		if (k == key) {
			*off = mid * len;
			return 0;
		}
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

static void spool_close(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* A reader over a flushed spool, in big sequential chunks. */
struct spool_rd {
	struct spool *s;
	unsigned char *buf;
	size_t n, pos, cap;
	uint64_t off;
};

static int rd_next(struct spool_rd *r, void *p, size_t len)
{
	if (r->pos + len > r->n) {
		uint64_t total = spool_size(r->s);
		size_t keep = r->n - r->pos;
		memmove(r->buf, r->buf + r->pos, keep);
		r->n = keep;
		r->pos = 0;
		size_t want = r->cap - keep;
		if (r->off + want > total)
			want = (size_t)(total - r->off);
		if (want && spool_read(r->s, r->off, r->buf + keep, want))
			return -EIO;
		r->off += want;
		r->n += want;
		if (r->pos + len > r->n)
			return 1;   /* end */
	}
	memcpy(p, r->buf + r->pos, len);
	r->pos += len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* recording                                                           */

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
	int spool_on;
	struct spool dec;        /* (seq << 8 | outcome) per write fault */
};

struct store_rec {
	struct store *s;
	struct replay *r;
	struct store_opts o;
	char hash[33];
	uint64_t size;
	char *path;              /* as given */
	int trace_known;         /* trace row existed at begin */
	int faults_known;        /* ... with its faults */

	int spool_faults;
	struct spool faults;     /* struct fault_rec, in seq order */

	struct rec_run *runs;
	size_t nruns;
};

/* The engine whose records are the trace's (every engine has the same). */
static const struct sim_engine *trace_engine(const struct store_rec *t)
{
	return t->runs[0].run->e;
}

/* The kernel's label for the fault with event index seq: into its record. */
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

/* ------------------------------------------------------------------ */

static void run_key(const char *trace_hash, const char *config, char out[33])
{
	XXH3_state_t *st = XXH3_createState();
	XXH128_hash_t h;
	if (st) {
		XXH3_128bits_reset(st);
		XXH3_128bits_update(st, trace_hash, strlen(trace_hash));
		XXH3_128bits_update(st, "\n", 1);
		XXH3_128bits_update(st, config, strlen(config));
		h = XXH3_128bits_digest(st);
		XXH3_freeState(st);
	} else {
		/* The one-shot form needs no state: concatenate instead. */
		size_t a = strlen(trace_hash), b = strlen(config);
		char *buf = malloc(a + 1 + b);
		if (!buf) {
			memset(out, '0', 32);
			out[32] = 0;
			return;
		}
		memcpy(buf, trace_hash, a);
		buf[a] = '\n';
		memcpy(buf + a + 1, config, b);
		h = XXH3_128bits(buf, a + 1 + b);
		free(buf);
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, h);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}

static int sql_fail(struct store_rec *t, int rc, const char *what, char *err,
                    size_t errlen)
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
		run_key(t->hash, rr->config, rr->key);
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
	         "(set TMPDIR to a writable folder)",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(-rc));
	goto fail;
sqlfail:
	rc = sql_fail(t, rc, "looking up stored runs", err, errlen);
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
	free(t);
}

/* ------------------------------------------------------------------ */
/* batched inserts                                                     */

/*
 * Millions of fault rows make the per-statement overhead of one INSERT a
 * row the bottleneck (about 1.4 us a row, three times SQLite's own insert
 * cost).  A batch keeps BATCH_ROWS rows of values and inserts them with one
 * multi-row INSERT; the last partial batch uses a statement of its size.
 * Values are integers, NULL, or strings that outlive the batch.
 */
#define BATCH_ROWS 128

struct bval {
	const char *s;       /* text, or NULL */
	int64_t i;
	int null;
};

struct batch {
	sqlite3 *db;
	const char *head;    /* "INSERT INTO t VALUES" */
	int ncols, n;
	sqlite3_stmt *full;
	struct bval v[];
};

static struct batch *batch_new(sqlite3 *db, const char *head, int ncols)
{
	struct batch *b = calloc(1, sizeof(*b) + sizeof(struct bval) *
	                         (size_t)ncols * BATCH_ROWS);
	if (!b)
		return NULL;
	b->db = db;
	b->head = head;
	b->ncols = ncols;
	return b;
}

static int batch_prepare(struct batch *b, int rows, sqlite3_stmt **st)
{
	size_t cap = strlen(b->head) + (size_t)rows * ((size_t)b->ncols * 2 + 4) + 8;
	char *sql = malloc(cap);
	if (!sql)
		return SQLITE_NOMEM;
	size_t len = (size_t)snprintf(sql, cap, "%s ", b->head);
	for (int r = 0; r < rows; r++) {
		sql[len++] = r ? ',' : ' ';
		sql[len++] = '(';
		for (int c = 0; c < b->ncols; c++) {
			if (c)
				sql[len++] = ',';
			sql[len++] = '?';
		}
		sql[len++] = ')';
	}
	sql[len] = 0;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, st, NULL);
	free(sql);
	return rc;
}

/* Insert the rows held.  Returns an SQLite code (SQLITE_OK). */
static int batch_flush(struct batch *b)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!b->n)
		return SQLITE_OK;
	if (b->n == BATCH_ROWS) {
		if (!b->full && (rc = batch_prepare(b, BATCH_ROWS, &b->full)))
			return rc;
		st = b->full;
	} else if ((rc = batch_prepare(b, b->n, &st))) {
		return rc;
	}
	for (int k = 0; k < b->n * b->ncols; k++) {
		const struct bval *v = &b->v[k];
		if (v->null)
			sqlite3_bind_null(st, k + 1);
		else if (v->s)
			sqlite3_bind_text(st, k + 1, v->s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, k + 1, v->i);
	}
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (st == b->full)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	b->n = 0;
	return rc;
}

/* The values of the next row, to fill; flushes a full batch first. */
static struct bval *batch_row(struct batch *b, int *rc)
{
	*rc = SQLITE_OK;
	if (b->n == BATCH_ROWS && (*rc = batch_flush(b)))
		return NULL;
	struct bval *row = &b->v[b->n++ * b->ncols];
	memset(row, 0, sizeof(*row) * (size_t)b->ncols);
	return row;
}

static void batch_free(struct batch *b)
{
	if (b) {
		sqlite3_finalize(b->full);
		free(b);
	}
}

static inline void bv_int(struct bval *v, int64_t i) { v->i = i; }
static inline void bv_text(struct bval *v, const char *s)
{
	if (s)
		v->s = s;
	else
		v->null = 1;
}

/* ------------------------------------------------------------------ */
/* commit                                                              */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The progress line while rows go in, in replay's style. */
struct prog {
	int on;
	const char *what;
	uint64_t done, total;
	double t0, last;
};

static void prog_tick(struct prog *p, int final)
{
	if (!p->on || (!final && (p->done & 4095)))
		return;
	double now = now_s();
	if (!final && now - p->last < 0.5)
		return;
	p->last = now;
	double el = now - p->t0, rate = el > 0 ? (double)p->done / el : 0;
	char eta[32] = "";
	if (!final && p->total && p->done && rate > 0)
		snprintf(eta, sizeof(eta), ", ETA %.0fs",
		         (double)(p->total - p->done) / rate);
	fprintf(stderr, "\r%s: %5.1f%% %" PRIu64 " rows, %.2f M/s%s   %s",
	        p->what, p->total ? 100.0 * (double)p->done / (double)p->total : 100.0,
	        p->done, rate / 1e6, eta, final ? "\n" : "");
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

/* Insert the trace row, its metadata, its processes and its markers; fill
 * upid[]. */
static int insert_trace(struct store_rec *t, const struct ev_source *src,
                        int64_t *trace_id, int64_t *upid, char *err,
                        size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	char *abs = realpath(t->path, NULL);
	const char *name = strrchr(t->path, '/') ? strrchr(t->path, '/') + 1 : t->path;
	const char *dropped = evsrc_meta_get(src, "dropped");
	const struct sim_engine *e = trace_engine(t);
	const struct replay *r = t->r;
	size_t np, nm, threads = 0, forks = 0;
	const struct sim_proc_rec *procs = sim_procs(e, &np);
	const struct sim_marker_rec *markers = sim_markers(e, &nm);
	int rc;

	for (size_t i = 0; i < np; i++) {
		threads += procs[i].threads;
		forks += procs[i].fork != SIM_NONE;
	}

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO traces (hash, name, path, format, size_bytes, events, "
		"processes, threads, forks, write_faults, labels, start_ts, dur, "
		"dropped, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?, "
		"strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", -1, &st, NULL);
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
	free(abs);
	return 0;
fail:
	free(abs);
	sqlite3_finalize(st);
	return sql_fail(t, rc, "storing the trace", err, errlen);
}

/* The trace is stored already: map our processes onto its rows. */
static int map_processes(struct store_rec *t, int64_t trace_id, int64_t *upid,
                         char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0, np;
	sim_procs(trace_engine(t), &np);
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
	return sql_fail(t, rc, "reading the stored processes", err, errlen);
}

static int insert_faults(struct store_rec *t, int64_t trace_id,
                         const int64_t *upid, struct prog *pg, char *err,
                         size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	struct spool_rd rd = { .s = &t->faults, .cap = 1 << 20 };
	struct batch *b = NULL;
	size_t np;
	int rc;

	sim_procs(trace_engine(t), &np);

	spool_flush(&t->faults);
	if (t->faults.err) {
		snprintf(err, errlen, "the --faults spool: %s",
		         strerror(t->faults.err));
		return -EIO;
	}
	rd.buf = malloc(rd.cap);
	b = batch_new(db, "INSERT INTO faults (trace_id, seq, ts, upid, tid, "
	              "addr, user, observed) VALUES", 8);
	if (!rd.buf || !b) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	struct fault_rec fr;
	while ((rc = rd_next(&rd, &fr, sizeof(fr))) == 0) {
		struct bval *v = batch_row(b, &rc);
		if (!v)
			goto fail;
		bv_int(&v[0], trace_id);
		bv_int(&v[1], (int64_t)fr.seq);
		bv_int(&v[2], (int64_t)fr.ts);
		if (fr.proc < np)
			bv_int(&v[3], upid[fr.proc]);
		else
			v[3].null = 1;
		bv_int(&v[4], fr.tid);
		bv_int(&v[5], (int64_t)(fr.addr & ((1ull << 48) - 1)));
		bv_int(&v[6], !!(fr.addr & FR_USER_BIT));
		bv_text(&v[7], obs_name((unsigned)(fr.addr >> FR_OBS_SHIFT) & 0xf));
		pg->done++;
		prog_tick(pg, 0);
	}
	if (rc < 0) {
		snprintf(err, errlen, "reading the --faults spool: %s",
		         strerror(-rc));
		goto out;
	}
	if ((rc = batch_flush(b)))
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
	rc = sql_fail(t, rc, "storing faults", err, errlen);
out:
	batch_free(b);
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
		"memory_peak_bytes, faults_logged");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", %s",
		                        sim_metric_name(i, NULL));
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES (?,?,?,?,?,?,?,"
	                        "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'),"
	                        "?,?,?,?");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, ",?");
	snprintf(sql + len, cap - len, ")");
	return sql;
}

static int insert_run(struct store_rec *t, struct rec_run *rr,
                      int64_t trace_id, const int64_t *upid, int with_faults,
                      struct prog *pg, char *err, size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	const struct sim_config *cfg = &rr->run->cfg;
	const struct sim_engine *e = rr->run->e;
	char *sql = runs_insert_sql();
	unsigned char *buf = NULL;
	uint32_t *child = NULL;
	struct batch *b = NULL;
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
	sqlite3_bind_text(st, c++, COWSIM_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, c++, rr->run->seconds);
	sqlite3_bind_int64(st, c++, (int64_t)sim_peak_memory_bytes(e));
	sqlite3_bind_int(st, c++, with_faults);
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
		"observed_dur) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
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
		struct spool_rd rd = { .s = &rr->dec, .cap = 1 << 20 };
		spool_flush(&rr->dec);
		if (rr->dec.err) {
			snprintf(err, errlen, "the --faults spool: %s",
			         strerror(rr->dec.err));
			rc = -EIO;
			goto out;
		}
		buf = rd.buf = malloc(rd.cap);
		b = batch_new(db, "INSERT INTO fault_decisions (run_id, seq, "
		              "outcome) VALUES", 3);
		if (!buf || !b) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		uint64_t v;
		while ((rc = rd_next(&rd, &v, sizeof(v))) == 0) {
			struct bval *bv = batch_row(b, &rc);
			if (!bv)
				goto fail;
			bv_int(&bv[0], run_id);
			bv_int(&bv[1], (int64_t)(v >> 8));
			bv_text(&bv[2], sim_out_name((enum sim_out)(v & 0xff)));
			pg->done++;
			prog_tick(pg, 0);
		}
		if (rc < 0) {
			snprintf(err, errlen, "reading the --faults spool: %s",
			         strerror(-rc));
			goto out;
		}
		if ((rc = batch_flush(b)))
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = sql_fail(t, rc, "storing a run", err, errlen);
out:
	batch_free(b);
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
	struct prog pg = { .on = t->o.progress, .what = t->s->path };

	memset(res, 0, sizeof(*res));
	size_t np;
	sim_procs(trace_engine(t), &np);
	upid = calloc(np ? np : 1, sizeof(*upid));
	if (!upid) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (t->spool_faults)
		pg.total += spool_size(&t->faults) / sizeof(struct fault_rec);
	for (size_t i = 0; i < t->nruns; i++)
		if (t->runs[i].spool_on)
			pg.total += spool_size(&t->runs[i].dec) / sizeof(uint64_t);
	pg.on = pg.on && pg.total > 100000;
	pg.t0 = pg.last = now_s();

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_fail(t, rc, "starting the transaction", err, errlen);
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
	if (trace_id)
		rc = map_processes(t, trace_id, upid, err, errlen);
	else
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
		if ((rc = insert_run(t, rr, trace_id, upid, with_faults, &pg, err,
		                     errlen)))
			goto fail;
		res->stored++;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	res->fault_rows = pg.done;
	if (pg.on)
		prog_tick(&pg, 1);
	free(upid);
	return 0;

sqlfail:
	rc = sql_fail(t, rc, "storing the replay", err, errlen);
fail:
	if (pg.on)
		fputc('\n', stderr);
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(upid);
	return rc;
}
