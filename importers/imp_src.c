/*
 * imp_src.c - an importer front end plus the core, as an event source
 * (imp_fe.h).
 *
 * The probe: before streaming, the head of the trace is read once through
 * the front end to learn what only the trace can say and what the replay
 * needs before its first event - the `cowsim: meta` facts (swap, kernel),
 * the pid of the first `cowsim: maps` snapshot (the default process tree),
 * and whether kmem:mm_page_alloc is traced at all (without it no fault can
 * be labelled, and a write-protect fault with no allocation would wrongly
 * read as a reuse).  The probe stops at the first snapshot once an
 * allocation has been seen (perf: at the first allocation), or after
 * IMP_PROBE_MAX records; launcher-made traces have both within their
 * first few thousand records.
 *
 * Parse-ahead: a text front end (fe->ahead) runs in a thread of its own
 * after the probe, filling a ring of record batches (their few strings
 * copied into each batch's arena) while the importing thread feeds the
 * previous batch to the core.  Parsing is over half of a text import's
 * time, so on two CPUs this nearly halves it.  The front end is touched
 * only by that thread once it runs; its counters and error reach the
 * importer through the batches, under the ring's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imp_fe.h"

#define AH_RING 4

struct imp_source {
	struct ev_source base;
	struct imp_core core;
	struct imp_fe *fe;
	int rootfd;             /* --sysroot, -1 none */
	char opened[64];        /* the path fe knows, if not base.path */
	int quiet;
	int done;
	int failed;
	/* parse-ahead */
	int ahead;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct imp_batch *ring;
	int prod, cons, full, stop;
	struct imp_batch *cb;
	uint32_t ci;
	uint64_t where, good, bad;
};

static void *ah_thread(void *arg)
{
	struct imp_source *s = arg;
	struct imp_fe *fe = s->fe;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->full == AH_RING && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		int stop = s->stop;
		struct imp_batch *b = &s->ring[s->prod];
		pthread_mutex_unlock(&s->mu);
		if (stop)
			return NULL;
		b->n = b->used = 0;
		b->end = 0;
		while (imp_batch_room(b)) {
			struct imp_rec r;
			int rc = fe->ops->read(fe, &r);
			if (rc <= 0) {
				b->end = rc ? rc : 1;
				snprintf(b->err, sizeof(b->err), "%s", fe->err);
				break;
			}
			imp_batch_put(b, &r, fe->where);
		}
		b->bytes_done = fe->bytes_done;
		b->good = fe->good;
		b->bad = fe->bad;
		pthread_mutex_lock(&s->mu);
		s->prod = (s->prod + 1) % AH_RING;
		s->full++;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (b->end)
			return NULL;
	}
}

static void ah_stop(struct imp_source *s)
{
	if (!s->ahead)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	s->ahead = 0;
}

static int ah_start(struct imp_source *s)
{
	s->ring = malloc(AH_RING * sizeof(*s->ring));
	if (!s->ring)
		return 0;   /* read inline */
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->th, NULL, ah_thread, s)) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		return 0;
	}
	s->ahead = 1;
	return 0;
}

/* The next record, from the parse-ahead ring or the front end itself. */
static int src_read(struct imp_source *s, struct imp_rec *r)
{
	if (!s->ahead) {
		int rc = s->fe->ops->read(s->fe, r);
		s->where = s->fe->where;
		s->good = s->fe->good;
		s->bad = s->fe->bad;
		s->base.bytes_done = s->fe->bytes_done;
		return rc;
	}
	for (;;) {
		struct imp_batch *b = s->cb;
		if (b && s->ci < b->n) {
			*r = b->r[s->ci];
			s->where = b->where[s->ci++];
			return 1;
		}
		if (b) {
			s->good = b->good;
			s->bad = b->bad;
			s->base.bytes_done = b->bytes_done;
			if (b->end) {
				if (b->end < 0) {
					snprintf(s->base.err, sizeof(s->base.err), "%s", b->err);
					evsrc_msg_rename(s->base.err, sizeof(s->base.err),
					                 s->opened, s->base.path);
				}
				return b->end < 0 ? b->end : 0;
			}
			pthread_mutex_lock(&s->mu);
			s->cons = (s->cons + 1) % AH_RING;
			s->full--;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			s->cb = NULL;
		}
		pthread_mutex_lock(&s->mu);
		while (!s->full)
			pthread_cond_wait(&s->cv, &s->mu);
		s->cb = &s->ring[s->cons];
		s->ci = 0;
		pthread_mutex_unlock(&s->mu);
	}
}

static void warn_stderr(void *ctx, const char *msg)
{
	struct imp_source *s = ctx;
	if (!s->quiet)
		fprintf(stderr, "cowsim: warning: %s\n", msg);
}

static long imp_next(struct ev_source *src, struct cs_ev *buf, size_t max)
{
	struct imp_source *s = (struct imp_source *)src;
	struct imp_rec r;

	if (s->failed)
		return -EIO;
	while (!s->done && imp_core_pending(&s->core) < max) {
		int rc = src_read(s, &r);
		s->core.where = s->where;
		if (rc < 0) {
			if (!s->ahead) {
				snprintf(src->err, sizeof(src->err), "%s", s->fe->err);
				evsrc_msg_rename(src->err, sizeof(src->err), s->opened,
				                 src->path);
			}
			s->failed = 1;
			return rc;
		}
		if (rc == 0 && !s->good && s->bad) {
			snprintf(src->err, sizeof(src->err), "%s: no %s in it (%" PRIu64
			         " lines did not parse)", src->path, s->fe->perf ?
			         "perf script lines" : "ftrace event lines", s->bad);
			s->failed = 1;
			return -EINVAL;
		}
		if (rc == 0) {
			s->done = 1;
			src->bytes_done = src->bytes_total;
			if (imp_core_finish(&s->core) || imp_core_store_stats(&s->core)) {
				snprintf(src->err, sizeof(src->err), "%s: out of memory",
				         src->path);
				s->failed = 1;
				return -ENOMEM;
			}
			break;
		}
		if ((rc = imp_core_feed(&s->core, &r))) {
			if (s->core.fatal[0])
				snprintf(src->err, sizeof(src->err), "%s", s->core.fatal);
			else
				snprintf(src->err, sizeof(src->err), "%s: out of memory",
				         src->path);
			evsrc_msg_rename(src->err, sizeof(src->err), s->opened,
			                 src->path);
			s->failed = 1;
			return rc;
		}
	}
	size_t n = imp_core_pop(&s->core, buf, max);
	src->events += n;
	return (long)n;
}

static void imp_close(struct ev_source *src)
{
	struct imp_source *s = (struct imp_source *)src;
	ah_stop(s);
	free(s->ring);
	if (s->fe)
		s->fe->ops->close(s->fe);
	imp_core_free(&s->core);
	if (s->rootfd >= 0)
		close(s->rootfd);
	evsrc_fini(src);
	free(s);
}

static const struct ev_source_ops imp_ops = { .next = imp_next,
                                              .close = imp_close };

void imp_source_opened_as(struct ev_source *src, const char *path)
{
	if (src && src->ops == &imp_ops && strlen(path) < 64)
		snprintf(((struct imp_source *)src)->opened, 64, "%s", path);
}

const struct imp_core *imp_source_core(const struct ev_source *src)
{
	if (!src || src->ops != &imp_ops)
		return NULL;
	return &((const struct imp_source *)src)->core;
}

int imp_probe_step(struct ev_source *meta, const struct imp_rec *r,
                   struct imp_probe *pr, int has_alloc, int markers)
{
	if (r->kind == IK_PAGE_ALLOC)
		pr->alloc = 1;
	if (r->kind == IK_PRINT) {
		uint32_t pid;
		if (imp_marker_meta(meta, r->s, r->slen) == -ENOMEM)
			return -ENOMEM;
		if (!pr->snap_pid && imp_marker_snapshot_begin(r->s, r->slen, &pid))
			pr->snap_pid = pid;
	}
	return (pr->snap_pid || !markers) && (pr->alloc || has_alloc >= 0);
}

static int probe(struct imp_source *s, struct imp_probe *pr, char *err,
                 size_t errlen)
{
	struct imp_rec r;
	uint64_t n = 0;
	int rc;
	memset(pr, 0, sizeof(*pr));
	if (s->fe->ops->probe) {
		rc = s->fe->ops->probe(s->fe, &s->base, pr);
		if (rc)
			snprintf(err, errlen, "%s", s->fe->err);
		return rc;
	}
	while (n++ < IMP_PROBE_MAX) {
		rc = s->fe->ops->read(s->fe, &r);
		if (rc <= 0)
			break;   /* errors resurface when streaming */
		rc = imp_probe_step(&s->base, &r, pr, s->fe->has_alloc, !s->fe->perf);
		if (rc < 0) {
			snprintf(err, errlen, "%s: out of memory", s->base.path);
			return rc;
		}
		if (rc)
			break;
	}
	rc = s->fe->ops->rewind(s->fe);
	if (rc)
		snprintf(err, errlen, "%s", s->fe->err);
	return rc;
}

static int fe_source(struct imp_source *s, struct imp_fe *fe,
                     const char *format, const struct evsrc_opts *opts,
                     struct ev_source **out, char *err, size_t errlen);

int imp_open_source(const char *path, const char *format,
                    const struct evsrc_opts *opts, struct ev_source **out,
                    char *err, size_t errlen)
{
	struct imp_source *s = calloc(1, sizeof(*s));
	int rc;

	if (!s || evsrc_init(&s->base, &imp_ops, path, format)) {
		if (s)
			evsrc_fini(&s->base);
		free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	s->quiet = opts ? opts->quiet : 0;
	s->rootfd = -1;
	struct imp_fe *fe;
	if (!strcmp(format, "dat"))
		rc = imp_dat_open(path, &fe, err, errlen);
	else if (!strcmp(format, "perf"))
		rc = imp_perf_open(path, &fe, err, errlen);
	else
		rc = imp_ftrace_open(path, &fe, err, errlen);
	if (rc) {
		evsrc_fini(&s->base);
		free(s);
		return rc;
	}
	return fe_source(s, fe, format, opts, out, err, errlen);
}

int imp_open_fe_source(struct imp_fe *fe, const char *path,
                       const char *format, const struct evsrc_opts *opts,
                       struct ev_source **out, char *err, size_t errlen)
{
	struct imp_source *s = calloc(1, sizeof(*s));
	if (!s || evsrc_init(&s->base, &imp_ops, path, format)) {
		if (s)
			evsrc_fini(&s->base);
		free(s);
		fe->ops->close(fe);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	s->quiet = opts ? opts->quiet : 0;
	s->rootfd = -1;
	return fe_source(s, fe, format, opts, out, err, errlen);
}

/* The source s (its base set up) over the front end fe: probe, core,
 * selection.  Frees s (and closes fe) on failure. */
static int fe_source(struct imp_source *s, struct imp_fe *fe,
                     const char *format, const struct evsrc_opts *opts,
                     struct ev_source **out, char *err, size_t errlen)
{
	const char *path = s->base.path;
	char buf[64];
	int rc;

	s->fe = fe;
	struct imp_probe pr;
	if ((rc = probe(s, &pr, err, errlen)))
		goto fail;

	imp_core_init(&s->core, &s->base);
	struct imp_core *c = &s->core;
	c->warn = warn_stderr;
	c->warn_ctx = s;
	c->where_unit = s->fe->unit;
	c->perf = s->fe->perf;
	c->labels = s->fe->has_alloc >= 0 ? s->fe->has_alloc : pr.alloc;
	if (opts && opts->sysroot) {
		s->rootfd = open(opts->sysroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->rootfd < 0) {
			rc = -errno;
			snprintf(err, errlen, "--sysroot %s: %s", opts->sysroot,
			         strerror(errno));
			goto fail;
		}
	}
	c->rootfd = s->rootfd;
	const char *selwhat;
	if (opts && opts->pid) {
		c->sel = IMP_SEL_PID;
		c->sel_pid = opts->pid;
		snprintf(buf, sizeof(buf), "pid %u", opts->pid);
		selwhat = buf;
	} else if (opts && opts->comm) {
		c->sel = IMP_SEL_COMM;
		snprintf(c->sel_comm, sizeof(c->sel_comm), "%s", opts->comm);
		snprintf(buf, sizeof(buf), "comm %.15s", opts->comm);
		selwhat = buf;
	} else if (pr.snap_pid) {
		c->sel = IMP_SEL_PID;
		c->sel_pid = pr.snap_pid;
		snprintf(buf, sizeof(buf), "pid %u (first maps snapshot)",
		         pr.snap_pid);
		selwhat = buf;
	} else {
		c->sel = IMP_SEL_ALL;
		selwhat = "all";
	}
	s->base.bytes_total = s->fe->bytes_total;
	if (evsrc_meta_set(&s->base, "import_format", format) ||
	    evsrc_meta_set(&s->base, "import_selection", selwhat) ||
	    evsrc_meta_set(&s->base, "import_labels", c->labels ? "yes" : "no")) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (s->fe->ahead)
		ah_start(s);
	*out = &s->base;
	return 0;
fail:
	if (s->fe)
		s->fe->ops->close(s->fe);
	imp_core_free(&s->core);
	if (s->rootfd >= 0)
		close(s->rootfd);
	evsrc_fini(&s->base);
	free(s);
	return rc;
}

const char *imp_detect_text(const char *head, size_t n)
{
	const char *p = head, *e = head + n;
	int ftrace = 0, perf = 0;
	size_t ctl = 0;
	/* Text has no control bytes but tabs and newlines; binary data has
	 * plenty (random bytes: one in eight). */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)head[i];
		ctl += (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') ||
		       ch == 0x7f;
	}
	if (ctl * 100 > n)
		return NULL;
	for (int lines = 0; p < e && lines < 64; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;
		size_t len = (size_t)(le - p);
		if (len >= 9 && !memcmp(p, "# tracer:", 9))
			ftrace += 10;
		else if (len > 5 && !memcmp(p, "cpus=", 5))
			ftrace += 10;
		else if (memmem(p, len, "PERF_RECORD_", 12))
			perf += 10;
		else if (len > 20) {
			/* "comm-PID [CPU]" vs "comm PID [CPU]" */
			const char *br = memchr(p, '[', len);
			if (br && br > p + 1) {
				const char *q = br;
				while (q > p && q[-1] == ' ')
					q--;
				if (q > p && q[-1] == ')')
					ftrace++;
				while (q > p && q[-1] >= '0' && q[-1] <= '9')
					q--;
				if (q > p && q[-1] == '-')
					ftrace++;
				else if (q > p && (q[-1] == ' ' || q[-1] == '/'))
					perf++;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!ftrace && !perf)
		return NULL;
	return perf > ftrace ? "perf" : "ftrace";
}
