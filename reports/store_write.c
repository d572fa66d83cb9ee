/*
 * store_write.c - recording one replay into the results store (store.h).
 *
 * Three things happen while the replay runs, none of them in the database:
 *
 *  - The event stream is followed (replay's on_block observer, called with
 *    each block before the engines see it) to build the process table the
 *    way trace tools do: a process is a thread group from its fork (or
 *    first sighting) to its last thread's exit, and gets a synthetic id,
 *    because pids recycle and a trace of a busy machine reuses them.  Forks
 *    are logged with the processes they link, so that each engine's fork
 *    records can be tied to processes afterwards.
 *  - With --faults, every write fault is appended to a spool file (32 bytes
 *    a fault), and the kernel's observed outcome, which arrives in a later
 *    EV_OBSERVED event, is patched into its record.  Each run's decision for
 *    each write fault comes from the engine's fault hook and is spooled too
 *    (8 bytes: the fault's event index and the outcome).  Spools are
 *    unlinked temporary files: a killed replay leaves nothing behind, and
 *    memory does not grow with the trace.
 *  - Nothing else: metrics, forks and samples are read from the engines at
 *    the end.
 *
 * Then store_rec_commit() writes everything in one BEGIN IMMEDIATE
 * transaction.  Whether a run is already stored is decided twice: before
 * the replay (to skip spooling for it) and again under the write lock (a
 * concurrent replay may have stored it meanwhile), the second decision
 * being the one that counts.
 *
 * The event index (seq) of a fault is what ties its row in `faults` to the
 * runs' rows in `fault_decisions`: the engine's own event counter gives it
 * inside the hook.
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

#define NONE UINT32_MAX

/* ------------------------------------------------------------------ */
/* a small u32 -> u32 hash map (linear probing, backward-shift delete)  */

struct u32map {
	uint32_t *key;       /* key + 1; 0 = empty */
	uint32_t *val;
	uint32_t cap, n;     /* cap: power of two */
};

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint32_t map_get(const struct u32map *m, uint32_t key)
{
	if (!m->cap)
		return NONE;
	for (uint32_t i = mix32(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->key[i])
			return NONE;
		if (m->key[i] == key + 1)
			return m->val[i];
	}
}

static int map_put(struct u32map *m, uint32_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct u32map g = { .cap = m->cap ? m->cap * 2 : 256 };
		g.key = calloc(g.cap, sizeof(*g.key));
		g.val = calloc(g.cap, sizeof(*g.val));
		if (!g.key || !g.val) {
			free(g.key);
			free(g.val);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < m->cap; i++)
			if (m->key[i])
				map_put(&g, m->key[i] - 1, m->val[i]);
		free(m->key);
		free(m->val);
		*m = g;
	}
	uint32_t i = mix32(key) & (m->cap - 1);
	while (m->key[i] && m->key[i] != key + 1)
		i = (i + 1) & (m->cap - 1);
	if (!m->key[i])
		m->n++;
	m->key[i] = key + 1;
	m->val[i] = val;
	return 0;
}

static void map_del(struct u32map *m, uint32_t key)
{
	if (!m->cap)
		return;
	uint32_t mask = m->cap - 1, i = mix32(key) & mask;
	while (m->key[i] && m->key[i] != key + 1)
		i = (i + 1) & mask;
	if (!m->key[i])
		return;
	/* Shift later members of the probe run back over the hole. */
	for (uint32_t j = (i + 1) & mask; m->key[j]; j = (j + 1) & mask) {
		uint32_t home = mix32(m->key[j] - 1) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = 0;
	m->n--;
}

static void map_free(struct u32map *m)
{
	free(m->key);
	free(m->val);
}

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
/* the tracker                                                         */

struct proc {
	uint32_t pid, tgid;
	uint32_t parent;         /* local index, NONE if unknown */
	uint32_t exe;            /* string id of the last exec's path */
	uint64_t start_ts, end_ts;
	uint8_t has_start, has_end, dead;
	char comm[16];           /* TASK_COMM_LEN */
	uint32_t live, threads;
};

struct task {
	uint32_t tid;
	uint32_t proc;
	uint64_t last_page;      /* page of the task's last fault */
	uint64_t last_wfault;    /* spool index + 1 of it if a write, else 0 */
};

struct marker {
	uint64_t seq, ts;
	uint32_t proc;           /* NONE: a task never seen */
	uint32_t text;           /* string id */
};

struct fork_log {
	uint64_t ts;
	uint32_t parent_tid, child_tid;
	uint32_t parent, child;  /* local process indexes */
};

/* A spooled write fault.  The observed outcome and user bit ride in the
 * top byte of addr (user addresses are below 2^47). */
struct fault_rec {
	uint64_t seq;
	uint64_t ts;
	uint64_t addr;           /* | observed << 56 | user << 60 */
	uint32_t proc;
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

	struct proc *procs;
	size_t nprocs, capprocs;
	struct task *tasks;
	size_t ntasks, captasks;
	uint32_t *free_tasks;
	size_t nfree, capfree;
	uint64_t tasks_seen;
	struct u32map tid_map;   /* tid -> task */
	struct u32map pid_map;   /* tgid -> live proc */
	struct fork_log *forks;
	size_t nforks, capforks;
	struct marker *markers;
	size_t nmarkers, capmarkers;

	uint64_t events, write_faults, labels;
	uint64_t first_ts, last_ts;
	int spool_faults;
	struct spool faults;

	struct rec_run *runs;
	size_t nruns;
	int oom;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

static uint32_t proc_new(struct store_rec *t, uint32_t pid, uint32_t parent,
                         uint64_t ts, int has_start)
{
	if (grow((void **)&t->procs, &t->capprocs, t->nprocs + 1,
	         sizeof(*t->procs)))
		return NONE;
	uint32_t p = (uint32_t)t->nprocs++;
	struct proc *pr = &t->procs[p];
	memset(pr, 0, sizeof(*pr));
	pr->pid = pr->tgid = pid;
	pr->parent = parent;
	pr->start_ts = ts;
	pr->has_start = (uint8_t)has_start;
	if (parent != NONE) {
		memcpy(pr->comm, t->procs[parent].comm, sizeof(pr->comm));
		pr->exe = t->procs[parent].exe;
	}
	/* A live process with this tgid lost its exit: it is gone now. */
	uint32_t old = map_get(&t->pid_map, pid);
	if (old != NONE)
		t->procs[old].dead = 1;
	if (map_put(&t->pid_map, pid, p))
		return NONE;
	return p;
}

static void proc_end(struct store_rec *t, uint32_t p, uint64_t ts)
{
	struct proc *pr = &t->procs[p];
	if (pr->dead)
		return;
	pr->dead = 1;
	pr->has_end = 1;
	pr->end_ts = ts;
	if (map_get(&t->pid_map, pr->tgid) == p)
		map_del(&t->pid_map, pr->tgid);
}

static uint32_t task_new(struct store_rec *t, uint32_t tid, uint32_t p)
{
	uint32_t k;
	if (t->nfree) {
		k = t->free_tasks[--t->nfree];
	} else {
		if (grow((void **)&t->tasks, &t->captasks, t->ntasks + 1,
		         sizeof(*t->tasks)))
			return NONE;
		k = (uint32_t)t->ntasks++;
	}
	t->tasks[k] = (struct task){ .tid = tid, .proc = p };
	if (map_put(&t->tid_map, tid, k))
		return NONE;
	t->procs[p].live++;
	t->procs[p].threads++;
	t->tasks_seen++;
	return k;
}

/* A task is gone (exit, or its tid reappears); returns its process. */
static uint32_t task_gone(struct store_rec *t, uint32_t k)
{
	uint32_t p = t->tasks[k].proc;
	map_del(&t->tid_map, t->tasks[k].tid);
	if (grow((void **)&t->free_tasks, &t->capfree, t->nfree + 1,
	         sizeof(*t->free_tasks)) == 0)
		t->free_tasks[t->nfree++] = k;
	if (t->procs[p].live)
		t->procs[p].live--;
	return p;
}

/* The live task for tid, or NONE.  A task whose process ended (another
 * thread called exit_group) is dropped on sight. */
static uint32_t task_find(struct store_rec *t, uint32_t tid)
{
	uint32_t k = map_get(&t->tid_map, tid);
	if (k != NONE && t->procs[t->tasks[k].proc].dead) {
		task_gone(t, k);
		k = NONE;
	}
	return k;
}

/* The task for an event, invented (as the engine does) when the stream
 * never introduced it: it joins its thread group's live process, or starts
 * one whose beginning the trace does not show. */
static uint32_t task_get(struct store_rec *t, uint32_t tid, uint32_t tgid)
{
	uint32_t k = task_find(t, tid);
	if (k != NONE)
		return k;
	uint32_t p = map_get(&t->pid_map, tgid);
	if (p != NONE && t->procs[p].dead) {
		/* Its last task vanished (a lost exit): this is a new one. */
		map_del(&t->pid_map, tgid);
		p = NONE;
	}
	if (p == NONE) {
		p = proc_new(t, tgid, NONE, 0, 0);
		if (p == NONE)
			return NONE;
	}
	return task_new(t, tid, p);
}

static void set_comm(char comm[16], const char *s)
{
	const char *slash = strrchr(s, '/');
	if (slash)
		s = slash + 1;
	snprintf(comm, 16, "%s", s);
}

static void obs_patch(struct store_rec *t, uint64_t idx, unsigned obs)
{
	struct fault_rec fr;
	uint64_t off = idx * sizeof(fr) + offsetof(struct fault_rec, addr);
	uint64_t addr;
	if (spool_read(&t->faults, off, &addr, sizeof(addr))) {
		t->faults.err = EIO;
		return;
	}
	addr = (addr & ~(0xfull << FR_OBS_SHIFT)) | ((uint64_t)obs << FR_OBS_SHIFT);
	spool_patch(&t->faults, off, &addr, sizeof(addr));
}

static int track(struct store_rec *t, const struct ev_source *src,
                 const struct cs_ev *ev, uint64_t seq)
{
	uint32_t k, p;

	if (ev->type == EV_NONE)
		return 0;
	if (ev->type == EV_MARKER) {
		/* The engine does not make tasks for markers; neither do we. */
		k = task_find(t, ev->tid);
		if (grow((void **)&t->markers, &t->capmarkers, t->nmarkers + 1,
		         sizeof(*t->markers)))
			return -ENOMEM;
		t->markers[t->nmarkers++] = (struct marker){
			.seq = seq, .ts = ev->ts, .text = ev->arg,
			.proc = k == NONE ? NONE : t->tasks[k].proc,
		};
		return 0;
	}
	if (ev->type == EV_EXIT) {
		/* An exit of a task never seen changes nothing. */
		k = task_find(t, ev->tid);
		if (k == NONE)
			return 0;
		p = task_gone(t, k);
		if ((ev->flags & EV_EXIT_GROUP) || !t->procs[p].live)
			proc_end(t, p, ev->ts);
		return 0;
	}
	k = task_get(t, ev->tid, ev->tgid);
	if (k == NONE)
		return -ENOMEM;
	p = t->tasks[k].proc;

	switch (ev->type) {
	case EV_FORK: {
		uint32_t ctid = ev->arg;
		if (!ctid || ctid == ev->tid)
			break;
		uint32_t stale = task_find(t, ctid);
		if (stale != NONE) {
			uint32_t sp = task_gone(t, stale);
			if (!t->procs[sp].live)
				t->procs[sp].dead = 1;   /* its exit was lost */
		}
		if (ev->flags & EV_CLONE_THREAD) {
			if (task_new(t, ctid, p) == NONE)
				return -ENOMEM;
			break;
		}
		uint32_t c = proc_new(t, ctid, p, ev->ts, 1);
		if (c == NONE || task_new(t, ctid, c) == NONE ||
		    grow((void **)&t->forks, &t->capforks, t->nforks + 1,
		         sizeof(*t->forks)))
			return -ENOMEM;
		t->forks[t->nforks++] = (struct fork_log){
			.ts = ev->ts, .parent_tid = ev->tid, .child_tid = ctid,
			.parent = p, .child = c,
		};
		break;
	}
	case EV_EXEC:
		t->procs[p].exe = ev->arg;
		set_comm(t->procs[p].comm, strtab_get(&src->strings, ev->arg));
		break;
	case EV_COMM:
		/* A thread naming itself does not rename its process. */
		if (ev->tid == t->procs[p].pid)
			set_comm(t->procs[p].comm, strtab_get(&src->strings, ev->arg));
		break;
	case EV_FAULT: {
		struct task *tk = &t->tasks[k];
		tk->last_page = ev->addr >> EV_PAGE_SHIFT;
		tk->last_wfault = 0;
		if (!(ev->flags & EV_PF_WRITE))
			break;
		t->write_faults++;
		if (!t->spool_faults)
			break;
		struct fault_rec fr = {
			.seq = seq, .ts = ev->ts,
			.addr = (ev->addr & FR_ADDR_MASK) |
			        ((ev->flags & EV_PF_USER) ? FR_USER_BIT : 0),
			.proc = p, .tid = ev->tid,
		};
		tk->last_wfault = spool_size(&t->faults) / sizeof(fr) + 1;
		spool_add(&t->faults, &fr, sizeof(fr));
		break;
	}
	case EV_OBSERVED: {
		/* It labels the task's last fault if on the same page (the
		 * engine's rule); only write faults have rows. */
		struct task *tk = &t->tasks[k];
		if (ev->flags < EV_OBS_COPY || ev->flags > EV_OBS_NEW ||
		    tk->last_page != (ev->addr >> EV_PAGE_SHIFT))
			break;
		t->labels++;
		if (tk->last_wfault)
			obs_patch(t, tk->last_wfault - 1, ev->flags);
		break;
	}
	default:
		break;
	}
	return 0;
}

static int on_block(void *ctx, const struct ev_source *src,
                    const struct cs_ev *ev, size_t n, char *err, size_t errlen)
{
	struct store_rec *t = ctx;

	if (!t->events && n)
		t->first_ts = ev[0].ts;
	for (size_t i = 0; i < n; i++) {
		if (track(t, src, &ev[i], t->events + i)) {
			snprintf(err, errlen, "out of memory following processes");
			return -ENOMEM;
		}
	}
	if (n)
		t->last_ts = ev[n - 1].ts;
	t->events += n;
	if (t->faults.err) {
		snprintf(err, errlen, "writing the --faults spool in %s: %s",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		         strerror(t->faults.err));
		return -EIO;
	}
	return 0;
}

static void fault_hook(void *ctx, const struct sim_fault_rec *r, int is_label)
{
	struct rec_run *rr = ctx;

	if (is_label)
		return;   /* labels are a trace fact: on_block has them */
	uint64_t seq = sim_metrics(rr->run->e)->events - 1;
	uint64_t v = seq << 8 | r->out;
	spool_add(&rr->dec, &v, sizeof(v));
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
	t->runs = calloc(r->nruns ? r->nruns : 1, sizeof(*t->runs));
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
			if (rr->stored_before && !opts->replace)
				continue;
			if ((rc = spool_open(&rr->dec, 1 << 18)))
				goto spoolfail;
			rr->spool_on = 1;
			r->runs[i].fault_hook = fault_hook;
			r->runs[i].fault_ctx = rr;
		}
	}
	r->on_block = on_block;
	r->on_block_ctx = t;
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
	if (t->r && t->r->on_block_ctx == t) {
		t->r->on_block = NULL;
		t->r->on_block_ctx = NULL;
	}
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
	free(t->procs);
	free(t->tasks);
	free(t->free_tasks);
	free(t->forks);
	free(t->markers);
	map_free(&t->tid_map);
	map_free(&t->pid_map);
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

/* Insert the trace row, its metadata and its processes; fill upid[]. */
static int insert_trace(struct store_rec *t, const struct ev_source *src,
                        int64_t *trace_id, int64_t *upid, char *err,
                        size_t errlen)
{
	sqlite3 *db = store_db(t->s);
	sqlite3_stmt *st = NULL;
	char *abs = realpath(t->path, NULL);
	const char *name = strrchr(t->path, '/') ? strrchr(t->path, '/') + 1 : t->path;
	const char *dropped = evsrc_meta_get(src, "dropped");
	int rc;

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
	sqlite3_bind_int64(st, 6, (int64_t)t->events);
	sqlite3_bind_int64(st, 7, (int64_t)t->nprocs);
	sqlite3_bind_int64(st, 8, (int64_t)t->tasks_seen);
	sqlite3_bind_int64(st, 9, (int64_t)t->nforks);
	sqlite3_bind_int64(st, 10, (int64_t)t->write_faults);
	sqlite3_bind_int64(st, 11, (int64_t)t->labels);
	if (t->events) {
		sqlite3_bind_int64(st, 12, (int64_t)t->first_ts);
		sqlite3_bind_int64(st, 13, (int64_t)(t->last_ts - t->first_ts));
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
	for (size_t i = 0; i < t->nprocs; i++) {
		const struct proc *p = &t->procs[i];
		sqlite3_bind_int64(st, 1, *trace_id);
		sqlite3_bind_int64(st, 2, p->pid);
		sqlite3_bind_int64(st, 3, p->tgid);
		if (p->comm[0])
			sqlite3_bind_text(st, 4, p->comm, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		if (p->exe)
			sqlite3_bind_text(st, 5, strtab_get(&src->strings, p->exe), -1,
			                  SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		if (p->parent != NONE)
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
	for (size_t i = 0; i < t->nmarkers; i++) {
		const struct marker *m = &t->markers[i];
		sqlite3_bind_int64(st, 1, *trace_id);
		sqlite3_bind_int64(st, 2, (int64_t)m->seq);
		sqlite3_bind_int64(st, 3, (int64_t)m->ts);
		if (m->proc != NONE)
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
	size_t n = 0;
	int rc = sqlite3_prepare_v2(store_db(t->s), "SELECT upid FROM processes "
	                            "WHERE trace_id = ? ORDER BY upid", -1, &st,
	                            NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, trace_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n < t->nprocs)
			upid[n] = sqlite3_column_int64(st, 0);
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (n != t->nprocs) {
		snprintf(err, errlen, "%s: trace %s is stored with %zu processes, "
		         "but this replay of it saw %zu (was it imported "
		         "differently?); store this replay in another --db",
		         t->s->path, t->path, n, t->nprocs);
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
	int rc;

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
		bv_int(&v[3], upid[fr.proc]);
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

/* Tie an engine's fork record to the processes the tracker saw it make.
 * Both lists are in stream order, so a forward walk finds it. */
static const struct fork_log *fork_match(const struct store_rec *t,
                                         size_t *pos,
                                         const struct sim_fork_rec *f)
{
	for (size_t i = *pos; i < t->nforks && t->forks[i].ts <= f->ts; i++) {
		if (t->forks[i].ts == f->ts && t->forks[i].child_tid == f->child_tid &&
		    t->forks[i].parent_tid == f->parent_tid) {
			*pos = i + 1;
			return &t->forks[i];
		}
	}
	return NULL;
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

	size_t nf;
	const struct sim_fork_rec *f = sim_forks(e, &nf);
	rc = sqlite3_prepare_v2(db,
		"INSERT INTO forks (run_id, ts, parent_upid, child_upid, parent_tid, "
		"child_tid, clone_flags, vmas, ptes, pt_pages, pages_copied, dur, "
		"observed_dur) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	size_t pos = 0;
	for (size_t i = 0; i < nf; i++) {
		const struct fork_log *l = fork_match(t, &pos, &f[i]);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, (int64_t)f[i].ts);
		if (l) {
			sqlite3_bind_int64(st, 3, upid[l->parent]);
			sqlite3_bind_int64(st, 4, upid[l->child]);
		} else {
			sqlite3_bind_null(st, 3);
			sqlite3_bind_null(st, 4);
		}
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
	upid = calloc(t->nprocs ? t->nprocs : 1, sizeof(*upid));
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
