/*
 * imp_core.c - raw tracepoint records to normalized events (imp_core.h).
 *
 * Two stages.  The record stage (imp_core_feed) keeps what the trace says
 * about tasks - tid to tgid, pending syscalls, the exec in progress, the
 * open outcome window - and turns records into events for a task.  The
 * output stage (out_apply) receives those events in the order they will be
 * written, and keeps the address-space shadow from them: the shadow is
 * therefore exactly what the engine will believe, and a fault in no area of
 * it is the place to insert an inferred mapping.  Between the two stages
 * sits the per-task hold, which delays an exec's early records until the
 * new address space exists.
 *
 * Shaped for system-wide traces of a few million records where nine in ten
 * are faults, allocations and syscalls of a handful of tasks: a one-entry
 * task cache in front of an open-addressing table, no allocation per
 * record (queues grow geometrically and are reused), per-task state only.
 * Memory grows with tasks and mappings, never with the trace's length.
 */
#include "imp_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/vma.h"
#include "imp_tp.h"

#define HOLD_MAX 4096u             /* records held for one exec at most */
#define STACK_GROW_PAGES 32768u    /* 128 MiB: the default stack rlimit is
                                      8 MiB; generous for raised limits */
#define MIN_USER_ADDR 0x10000ull   /* mmap_min_addr */
#define WARN_PER_KIND 3

#define LINUX_CLONE_VM     0x00000100ull
#define LINUX_CLONE_VFORK  0x00004000ull
#define LINUX_CLONE_THREAD 0x00010000ull
#define LINUX_MAP_SHARED   0x01ull
#define LINUX_MAP_SHARED_VALIDATE 0x03ull
#define LINUX_MAP_TYPE     0x0full
#define LINUX_MAP_GROWSDOWN 0x0100ull
#define LINUX_MAP_ANON     0x20ull
#define LINUX_MAP_NORESERVE 0x4000ull
#define LINUX_O_DIRECT     0x4000ull  /* x86-64: 040000 */

enum { WARN_NONMONO, WARN_DROP, WARN_MARKER, WARN_PIDREUSE, WARN_SYSCALL,
       WARN_GFP, WARN_HOLD, WARN_OTHER };

struct imp_fd {
	int32_t fd;
	uint32_t tgid;         /* who opened it */
	uint64_t seq;          /* which open() it was: the file's identity,
	                          interned only when something maps it */
	uint8_t odirect;
};

/* An address space as the engine will see it (output stage). */
struct imp_as {
	uint32_t refs;
	uint32_t tgid;
	struct vma_set vmas;
	uint64_t brk;          /* page number of the break, 0 unknown */
	struct imp_fd *fds;
	uint32_t nfds, capfds;
};

enum { T_LIVE = 0, T_EXITED = 1 };

struct imp_task {
	uint32_t tid, tgid;
	struct imp_as *as;     /* output stage: NULL until the engine knows it */
	uint32_t comm;
	uint8_t sel;           /* in the selected tree */
	uint8_t state;
	uint8_t hold;          /* 0, 1 exec in progress, 2 exec done, waiting */
	uint8_t pending_root;  /* the --pid target, selected at its exec */
	uint8_t in_execve;
	uint8_t have_clone;
	uint8_t known;         /* output stage: announced to the engine */
	uint8_t renamed;       /* comm set by task_rename during this exec */
	uint64_t clone_flags;
	/* outcome window */
	uint8_t win;
	uint8_t win_label;
	uint32_t win_err;
	uint64_t win_addr;
	/* pending syscall */
	int32_t sc_nr;         /* -1 none */
	uint8_t sc_raw;
	uint8_t sc_gup;
	uint64_t sc_a[6];
	uint64_t sc_ts;
	uint32_t sc_handle;
	int32_t last_exit_nr;
	/* held events */
	struct cs_ev *held;
	uint32_t nheld, capheld;
};

struct snap_line {
	uint64_t start, end;   /* page numbers */
	uint64_t pgoff;
	uint32_t flags;        /* EV_PROT_* | EV_MAP_* */
	uint32_t file;
};

struct imp_snap {
	uint32_t pid;
	struct snap_line *v;
	size_t n, cap;
	bool heap;
	uint64_t heap_end;
};

/* ------------------------------------------------------------------ */
/* stats and warnings                                                  */

static const struct { const char *name, *doc; } stat_names[] = {
#define S(n, d) { #n, d },
	IMP_STATS(S)
#undef S
};

size_t imp_nstats(void)
{
	return sizeof(stat_names) / sizeof(stat_names[0]);
}

const char *imp_stat_name(size_t i, const char **doc)
{
	if (doc)
		*doc = stat_names[i].doc;
	return stat_names[i].name;
}

uint64_t imp_stat_get(const struct imp_stats *s, size_t i)
{
	return ((const uint64_t *)s)[i];
}

void imp_core_warn(struct imp_core *c, int kind, const char *fmt, ...)
{
	char msg[600];
	int n;
	if (!c->warn)
		return;
	if (kind >= 0 && kind < 8) {
		if (c->warned[kind] > WARN_PER_KIND)
			return;
		if (c->warned[kind]++ == WARN_PER_KIND) {
			snprintf(msg, sizeof(msg), "%s: (further warnings of this kind "
			         "are counted, not shown)", c->src->path);
			c->warn(c->warn_ctx, msg);
			return;
		}
	}
	n = snprintf(msg, sizeof(msg), "%s:%s%" PRIu64 ": ", c->src->path,
	             c->where_unit && strcmp(c->where_unit, "line") ?
	             " record " : "", c->where);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	c->warn(c->warn_ctx, msg);
}

void imp_core_skip(struct imp_core *c, const char *name, size_t len)
{
	c->st.unknown_events++;
	if (len >= sizeof(c->skip[0].name))
		len = sizeof(c->skip[0].name) - 1;
	for (size_t i = 0; i < c->nskip; i++) {
		if (!strncmp(c->skip[i].name, name, len) && !c->skip[i].name[len]) {
			c->skip[i].n++;
			return;
		}
	}
	if (c->nskip == IMP_MAX_SKIP) {
		c->skip_other++;
		return;
	}
	memcpy(c->skip[c->nskip].name, name, len);
	c->skip[c->nskip].name[len] = 0;
	c->skip[c->nskip++].n = 1;
}

int imp_core_store_stats(struct imp_core *c)
{
	char k[64], v[32];
	for (size_t i = 0; i < imp_nstats(); i++) {
		uint64_t x = imp_stat_get(&c->st, i);
		if (!x)
			continue;
		snprintf(k, sizeof(k), "import_%s", imp_stat_name(i, NULL));
		snprintf(v, sizeof(v), "%" PRIu64, x);
		if (evsrc_meta_set(c->src, k, v))
			return -ENOMEM;
	}
	/* "dropped" is what the results store files under traces.dropped:
	 * written even when 0, since the importer checked. */
	snprintf(v, sizeof(v), "%" PRIu64, c->st.dropped_events);
	return evsrc_meta_set(c->src, "dropped", v) ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* syscall names                                                       */

int imp_syscall_nr(const char *name, size_t len)
{
	static const struct { const char *n; int nr; } tab[] = {
		{ "read", NR_read }, { "write", NR_write }, { "open", NR_open },
		{ "mmap", NR_mmap }, { "mprotect", NR_mprotect },
		{ "munmap", NR_munmap }, { "brk", NR_brk },
		{ "pread64", NR_pread64 }, { "pwrite64", NR_pwrite64 },
		{ "mremap", NR_mremap }, { "madvise", NR_madvise },
		{ "clone", NR_clone }, { "fork", NR_fork }, { "vfork", NR_vfork },
		{ "execve", NR_execve }, { "exit_group", NR_exit_group },
		{ "openat", NR_openat }, { "vmsplice", NR_vmsplice },
		{ "execveat", NR_execveat },
		{ "io_uring_register", NR_io_uring_register },
		{ "clone3", NR_clone3 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].n) == len && !memcmp(tab[i].n, name, len))
			return tab[i].nr;
	return -1;
}

/* ------------------------------------------------------------------ */
/* tasks                                                               */

static inline uint32_t thash(uint32_t tid, uint32_t cap)
{
	return (tid * 0x9E3779B1u) & (cap - 1);
}

static struct imp_task *task_find(struct imp_core *c, uint32_t tid)
{
	if (c->tlast && c->tlast->tid == tid)
		return c->tlast;
	if (!c->tcap)
		return NULL;
	for (uint32_t h = thash(tid, c->tcap);; h = (h + 1) & (c->tcap - 1)) {
		struct imp_task *t = c->tasks[h];
		if (!t)
			return NULL;
		if (t->tid == tid)
			return c->tlast = t;
	}
}

static int task_table_grow(struct imp_core *c)
{
	uint32_t ncap = c->tcap ? c->tcap * 2 : 256;
	struct imp_task **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->tcap; i++) {
		struct imp_task *t = c->tasks[i];
		if (!t)
			continue;
		uint32_t h = thash(t->tid, ncap);
		while (n[h])
			h = (h + 1) & (ncap - 1);
		n[h] = t;
	}
	free(c->tasks);
	c->tasks = n;
	c->tcap = ncap;
	return 0;
}

static void as_put(struct imp_as *as)
{
	if (!as || --as->refs)
		return;
	vma_set_free(&as->vmas);
	free(as->fds);
	free(as);
}

static void task_release(struct imp_task *t)
{
	as_put(t->as);
	free(t->held);
	free(t);
}

/* Remove t from the table (backward-shift deletion). */
static void task_delete(struct imp_core *c, struct imp_task *t)
{
	uint32_t h = thash(t->tid, c->tcap);
	while (c->tasks[h] != t)
		h = (h + 1) & (c->tcap - 1);
	c->tasks[h] = NULL;
	for (uint32_t j = (h + 1) & (c->tcap - 1); c->tasks[j];
	     j = (j + 1) & (c->tcap - 1)) {
		struct imp_task *m = c->tasks[j];
		uint32_t k = thash(m->tid, c->tcap);
		/* Move m back to the hole if its home is not in (h, j]. */
		if ((j > h && (k <= h || k > j)) || (j < h && k <= h && k > j)) {
			c->tasks[h] = m;
			c->tasks[j] = NULL;
			h = j;
		}
	}
	c->tn--;
	if (c->tlast == t)
		c->tlast = NULL;
	task_release(t);
}

/* Is a task first seen with this tid/tgid in the selection? */
static uint8_t sel_initial(struct imp_core *c, uint32_t tid, uint32_t tgid)
{
	switch (c->sel) {
	case IMP_SEL_ALL:
		return 1;
	case IMP_SEL_PID:
		/* The target already running when the trace began (the attach
		 * case): selected from its first record. */
		if (tid == c->sel_pid || tgid == c->sel_pid) {
			if (!c->root)
				c->root = c->sel_pid;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static struct imp_task *task_new(struct imp_core *c, uint32_t tid,
                                 uint32_t tgid)
{
	if ((c->tn + 1) * 2 > c->tcap && task_table_grow(c)) {
		c->oom = 1;
		return NULL;
	}
	struct imp_task *t = calloc(1, sizeof(*t));
	if (!t) {
		c->oom = 1;
		return NULL;
	}
	t->tid = tid;
	t->tgid = tgid ? tgid : tid;
	t->sc_nr = -1;
	t->last_exit_nr = -1;
	uint32_t h = thash(tid, c->tcap);
	while (c->tasks[h])
		h = (h + 1) & (c->tcap - 1);
	c->tasks[h] = t;
	c->tn++;
	return c->tlast = t;
}

/* The task of a record, created if the trace never introduced it. */
static struct imp_task *task_get(struct imp_core *c, uint32_t tid,
                                 uint32_t tgid)
{
	struct imp_task *t = task_find(c, tid);
	if (t) {
		if (tgid && t->tgid != tgid && !t->known)
			t->tgid = tgid;
		return t;
	}
	t = task_new(c, tid, tgid);
	if (t)
		t->sel = sel_initial(c, tid, t->tgid);
	return t;
}

/* ------------------------------------------------------------------ */
/* output stage                                                        */

static int out_reserve(struct imp_core *c, size_t more)
{
	if (c->out_head && c->out_head + c->out_n + more > c->out_cap) {
		memmove(c->out, c->out + c->out_head, c->out_n * sizeof(*c->out));
		c->out_head = 0;
	}
	if (c->out_n + more <= c->out_cap)
		return 0;
	size_t cap = c->out_cap ? c->out_cap : 4096;
	while (cap < c->out_n + more)
		cap *= 2;
	struct cs_ev *n = realloc(c->out, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->out = n;
	c->out_cap = cap;
	return 0;
}

static void out_push(struct imp_core *c, struct cs_ev *ev)
{
	if (out_reserve(c, 1)) {
		c->oom = 1;
		return;
	}
	if (ev->ts < c->last_ts)
		ev->ts = c->last_ts;
	c->last_ts = ev->ts;
	c->out[c->out_head + c->out_n++] = *ev;
	c->st.events_out++;
}

static struct imp_as *as_new(struct imp_core *c, uint32_t tgid)
{
	struct imp_as *as = calloc(1, sizeof(*as));
	if (!as) {
		c->oom = 1;
		return NULL;
	}
	as->refs = 1;
	as->tgid = tgid;
	vma_set_init(&as->vmas);
	return as;
}

static int as_copy_fds(struct imp_as *dst, const struct imp_as *src)
{
	if (!src->nfds)
		return 0;
	dst->fds = malloc(src->nfds * sizeof(*dst->fds));
	if (!dst->fds)
		return -ENOMEM;
	memcpy(dst->fds, src->fds, src->nfds * sizeof(*dst->fds));
	dst->nfds = dst->capfds = src->nfds;
	return 0;
}

/* The task's address space as the engine will see it; a task the engine
 * has not met joins its thread-group leader's, as the engine does. */
static struct imp_as *task_as(struct imp_core *c, struct imp_task *t)
{
	if (t->as)
		return t->as;
	struct imp_task *lead = t->tgid != t->tid ? task_find(c, t->tgid) : NULL;
	if (lead && lead->as) {
		t->as = lead->as;
		t->as->refs++;
	} else {
		t->as = as_new(c, t->tgid);
		if (t->as)
			c->st.processes++;
	}
	return t->as;
}

static void mk_ev(struct cs_ev *ev, const struct imp_task *t, uint64_t ts,
                  uint16_t cpu, uint8_t type)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->tid = t->tid;
	ev->tgid = t->tgid;
	ev->cpu = cpu;
	ev->type = type;
}

static uint32_t intern(struct imp_core *c, const char *s, size_t len)
{
	uint32_t id = strtab_intern(&c->src->strings, s, len);
	if (id == UINT32_MAX) {
		c->oom = 1;
		return 0;
	}
	return id;
}

static uint32_t intern_inferred(struct imp_core *c)
{
	return intern(c, "?inferred", 9);
}

static void shadow_mremap(struct imp_as *as, const struct cs_ev *ev)
{
	uint64_t old = ev->addr >> EV_PAGE_SHIFT, oldn = ev->len;
	uint64_t nw = ev->aux >> EV_PAGE_SHIFT, newn = ev->arg;
	struct vma *v = vma_find(&as->vmas, old);
	if (!v || !newn)
		return;
	struct vma tmpl = *v;
	if (nw == old) {
		if (newn < oldn)
			vma_unmap(&as->vmas, old + newn, old + oldn);
		else
			vma_map(&as->vmas, old + oldn, old + newn, tmpl.flags,
			        tmpl.file, tmpl.pgoff + (old + oldn - tmpl.start));
		return;
	}
	vma_unmap(&as->vmas, old, old + oldn);
	vma_map(&as->vmas, nw, nw + newn, tmpl.flags, tmpl.file,
	        tmpl.pgoff + (old - tmpl.start));
}

/* Keep the shadow from an event that is about to be written. */
static int shadow_apply(struct imp_core *c, struct imp_as *as,
                        const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	int err = 0;

	switch (ev->type) {
	case EV_MMAP: {
		uint32_t fl = ev->flags & 0x0fffu;
		err = vma_map(&as->vmas, pg, pg + ev->len, fl, ev->arg, ev->aux);
		if (fl & EV_MAP_HEAP)
			as->brk = pg + ev->len;
		break;
	}
	case EV_MUNMAP:
		err = vma_unmap(&as->vmas, pg, pg + ev->len);
		break;
	case EV_MPROTECT:
		err = vma_update(&as->vmas, pg, pg + ev->len, VMA_PROT_MASK,
		                 ev->flags & EV_PROT_MASK);
		break;
	case EV_MREMAP:
		shadow_mremap(as, ev);
		break;
	case EV_BRK: {
		uint64_t nbrk = (ev->addr + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
		uint64_t obrk = ev->aux ? (ev->aux + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT
		                        : as->brk;
		if (obrk && nbrk > obrk)
			err = vma_map(&as->vmas, obrk, nbrk, VMA_READ | VMA_WRITE |
			              VMA_ANON | VMA_HEAP, 0, obrk);
		else if (obrk && nbrk < obrk)
			err = vma_unmap(&as->vmas, nbrk, obrk);
		if (nbrk)
			as->brk = nbrk;
		break;
	}
	default:
		break;
	}
	(void)c;
	return err;
}

/* A fault in no known area: the mapping the kernel must have had. */
static void infer_for_fault(struct imp_core *c, struct imp_task *t,
                            struct imp_as *as, const struct cs_ev *f)
{
	uint64_t pg = f->addr >> EV_PAGE_SHIFT;
	struct cs_ev m;
	size_t i = vma_lower_bound(&as->vmas, pg);

	mk_ev(&m, t, f->ts, f->cpu, EV_MMAP);
	if (i < as->vmas.n && (as->vmas.v[i].flags & VMA_STACK) &&
	    as->vmas.v[i].start - pg <= STACK_GROW_PAGES) {
		/* The stack grew down to the fault (expand_stack()). */
		m.addr = pg << EV_PAGE_SHIFT;
		m.len = (uint32_t)(as->vmas.v[i].start - pg);
		m.flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON | EV_MAP_STACK;
		m.aux = pg;
		c->st.stack_growth++;
	} else {
		m.addr = pg << EV_PAGE_SHIFT;
		m.len = 1;
		if (f->flags & EV_PF_INSTR) {
			m.flags = EV_PROT_READ | EV_PROT_EXEC;
			m.arg = intern_inferred(c);
		} else if (f->flags & EV_PF_WRITE) {
			m.flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON;
		} else {
			m.flags = EV_PROT_READ;
			m.arg = intern_inferred(c);
		}
		m.flags |= EV_MAP_INFERRED;
		m.aux = pg;
		c->st.inferred_maps++;
	}
	if (shadow_apply(c, as, &m))
		c->oom = 1;
	out_push(c, &m);
}

/* An event leaves the core: update the shadow the engine will mirror. */
static void out_apply(struct imp_core *c, struct imp_task *t, struct cs_ev *ev)
{
	struct imp_as *as;

	switch (ev->type) {
	case EV_MARKER:
		out_push(c, ev);
		return;
	case EV_EXEC:
		/* The engine gives the task a fresh mm; fds survive exec. */
		as = as_new(c, t->tgid);
		if (!as)
			return;
		if (t->as && as_copy_fds(as, t->as))
			c->oom = 1;
		if (!t->as)
			c->st.processes++;
		as_put(t->as);
		t->as = as;
		t->known = 1;
		out_push(c, ev);
		return;
	case EV_FORK: {
		struct imp_task *ch = task_find(c, ev->arg);
		struct imp_as *pas = task_as(c, t);
		t->known = 1;
		if (!pas || !ch)
			break;
		if (!(ev->flags & EV_CLONE_THREAD))
			c->st.processes++;
		as_put(ch->as);
		ch->as = NULL;
		if (ev->flags & EV_CLONE_VM) {
			ch->as = pas;
			pas->refs++;
		} else {
			ch->as = as_new(c, ch->tgid);
			if (ch->as && (vma_set_copy(&ch->as->vmas, &pas->vmas) ||
			               as_copy_fds(ch->as, pas)))
				c->oom = 1;
			if (ch->as)
				ch->as->brk = pas->brk;
		}
		ch->known = 1;
		out_push(c, ev);
		return;
	}
	case EV_EXIT:
		out_push(c, ev);
		as_put(t->as);
		t->as = NULL;
		t->known = 0;
		return;
	default:
		break;
	}
	if (!t->known && ev->type != EV_MARKER) {
		t->known = 1;
		c->st.unknown_tasks++;
	}
	as = task_as(c, t);
	if (!as)
		return;
	if (ev->type == EV_OBSERVED) {
		switch (ev->flags) {
		case EV_OBS_COPY: c->st.labels_copy++; break;
		case EV_OBS_REUSE: c->st.labels_reuse++; break;
		case EV_OBS_ZERO: c->st.labels_zero++; break;
		case EV_OBS_NEW: c->st.labels_new++; break;
		}
	} else if (ev->type == EV_FAULT) {
		if (ev->flags & EV_PF_USER)
			c->st.faults_user++;
		else
			c->st.faults_kernel++;
		uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
		struct vma *v = vma_find(&as->vmas, pg);
		if (!v && ev->addr >= MIN_USER_ADDR) {
			infer_for_fault(c, t, as, ev);
		} else if (v && (v->flags & VMA_INFERRED)) {
			uint32_t need = ((ev->flags & EV_PF_WRITE) ? VMA_WRITE : 0) |
			                ((ev->flags & EV_PF_INSTR) ? VMA_EXEC : 0);
			if (need & ~v->flags) {
				struct cs_ev m;
				mk_ev(&m, t, ev->ts, ev->cpu, EV_MPROTECT);
				m.addr = pg << EV_PAGE_SHIFT;
				m.len = 1;
				m.flags = (v->flags | need) & EV_PROT_MASK;
				c->st.inferred_upgrades++;
				if (shadow_apply(c, as, &m))
					c->oom = 1;
				out_push(c, &m);
			}
		}
	} else if (shadow_apply(c, as, ev)) {
		c->oom = 1;
	}
	out_push(c, ev);
}

static void release_hold(struct imp_core *c, struct imp_task *t)
{
	t->hold = 0;
	if (t->sel) {
		for (uint32_t i = 0; i < t->nheld; i++) {
			if (t->held[i].ts < c->last_ts)
				c->st.retimed++;
			out_apply(c, t, &t->held[i]);
		}
	}
	t->nheld = 0;
}

/* An event of task t from the record stage. */
static void emit(struct imp_core *c, struct imp_task *t, struct cs_ev *ev)
{
	if (t->hold) {
		if (t->nheld == t->capheld) {
			if (t->capheld >= HOLD_MAX) {
				c->st.hold_overflow++;
				imp_core_warn(c, WARN_HOLD, "task %u: more than %u records "
				              "during its exec; released early", t->tid,
				              HOLD_MAX);
				release_hold(c, t);
				out_apply(c, t, ev);
				return;
			}
			uint32_t cap = t->capheld ? t->capheld * 2 : 32;
			struct cs_ev *n = realloc(t->held, cap * sizeof(*n));
			if (!n) {
				c->oom = 1;
				return;
			}
			t->held = n;
			t->capheld = cap;
		}
		t->held[t->nheld++] = *ev;
		c->st.exec_held++;
		return;
	}
	if (!t->sel)
		return;
	out_apply(c, t, ev);
}

/* ------------------------------------------------------------------ */
/* outcome windows                                                     */

static void win_close(struct imp_core *c, struct imp_task *t, uint64_t ts,
                      uint16_t cpu)
{
	if (!t->win)
		return;
	t->win = 0;
	uint8_t lab = t->win_label;
	if (!lab && (t->win_err & (EV_PF_PROT | EV_PF_WRITE)) ==
	            (EV_PF_PROT | EV_PF_WRITE))
		lab = EV_OBS_REUSE;
	if (!lab || !(t->sel || t->hold))
		return;
	struct cs_ev ev;
	mk_ev(&ev, t, ts, cpu, EV_OBSERVED);
	ev.addr = t->win_addr;
	ev.flags = lab;
	emit(c, t, &ev);
}

static void win_alloc(struct imp_core *c, const struct imp_rec *r)
{
	struct imp_task *t = task_find(c, (uint32_t)r->tid);
	uint64_t gfp = r->a[2];

	if (gfp & IMP_GFP_UNKNOWN) {
		c->st.gfp_undecoded++;
		imp_core_warn(c, WARN_GFP, "mm_page_alloc: gfp_flags not decodable; "
		              "no outcome label from it");
		return;
	}
	if (!t || !t->win || t->win_label)
		return;
	/* tracing.md section 4: order 0, every GFP_HIGHUSER_MOVABLE bit, not
	 * page cache for write(), movable, not in interrupt context.  The
	 * first qualifying allocation decides (a retried fault allocates
	 * again). */
	if (r->a[1] != 0 || !(gfp & IMP_GFP_USERMOV) || (gfp & IMP_GFP_WRITE))
		return;
	if (r->a[3] != UINT64_MAX && r->a[3] != 1)
		return;
	if (r->irq >= 0 && (r->irq & (IMP_IRQ_HARD | IMP_IRQ_SOFT)))
		return;
	if (!(gfp & IMP_GFP_ZERO))
		t->win_label = EV_OBS_COPY;
	else if (t->win_err & EV_PF_PROT)
		t->win_label = EV_OBS_ZERO;
	else
		t->win_label = EV_OBS_NEW;
}

static void win_cancel_all(struct imp_core *c)
{
	for (uint32_t i = 0; i < c->tcap; i++) {
		struct imp_task *t = c->tasks[i];
		if (t && t->win) {
			t->win = 0;
			c->st.labels_lost++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* markers                                                             */

static const char *skip_sp(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p;
}

static bool word(const char **p, const char *e, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(e - *p) < n || memcmp(*p, w, n))
		return false;
	*p += n;
	return true;
}

/* "key=" then a number */
static bool kvnum(const char **p, const char *e, const char *key, uint64_t *v)
{
	*p = skip_sp(*p, e);
	return word(p, e, key) && tp_num(p, e, v);
}

int imp_marker_snapshot_begin(const char *s, size_t len, uint32_t *pid)
{
	const char *p = s, *e = s + len;
	uint64_t v;
	while (e > p && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	if (!word(&p, e, "cowsim: maps") || !kvnum(&p, e, "pid=", &v) ||
	    v > INT32_MAX)
		return 0;
	p = skip_sp(p, e);
	if (e - p != 5 || memcmp(p, "begin", 5))
		return 0;
	*pid = (uint32_t)v;
	return 1;
}

int imp_marker_meta(struct ev_source *src, const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	while (e > p && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	if (!word(&p, e, "cowsim: meta "))
		return 0;
	p = skip_sp(p, e);
	const char *eq = memchr(p, '=', (size_t)(e - p));
	if (!eq || eq == p || eq - p > 64)
		return -EINVAL;
	char k[65], *v = strndup(eq + 1, (size_t)(e - eq - 1));
	if (!v)
		return -ENOMEM;
	memcpy(k, p, (size_t)(eq - p));
	k[eq - p] = 0;
	int rc = evsrc_meta_set(src, k, v);
	free(v);
	return rc ? -ENOMEM : 1;
}

static struct imp_snap *snap_find(struct imp_core *c, uint32_t pid, bool make)
{
	for (size_t i = 0; i < c->nsnaps; i++)
		if (c->snaps[i].pid == pid)
			return &c->snaps[i];
	if (!make)
		return NULL;
	struct imp_snap *n = realloc(c->snaps, (c->nsnaps + 1) * sizeof(*n));
	if (!n) {
		c->oom = 1;
		return NULL;
	}
	c->snaps = n;
	n = &c->snaps[c->nsnaps++];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	return n;
}

static void snap_drop(struct imp_core *c, struct imp_snap *s)
{
	free(s->v);
	*s = c->snaps[--c->nsnaps];
}

/* One /proc/PID/maps line: "start-end perms offset dev inode [name]". */
static int snap_parse_line(struct imp_core *c, struct imp_snap *s,
                           const char *p, const char *e)
{
	uint64_t start, end, off, ino;
	struct snap_line l = { 0 };

	if (!tp_hex(&p, e, &start) || !word(&p, e, "-") || !tp_hex(&p, e, &end) ||
	    start >= end || (start | end) & (EV_PAGE_SIZE - 1))
		return -EINVAL;
	p = skip_sp(p, e);
	if (e - p < 5)
		return -EINVAL;
	const char *perm = p;
	p += 4;
	p = skip_sp(p, e);
	if (!tp_hex(&p, e, &off))
		return -EINVAL;
	p = skip_sp(p, e);
	const char *dev = p;
	while (p < e && *p != ' ')
		p++;
	size_t devlen = (size_t)(p - dev);
	p = skip_sp(p, e);
	if (!tp_dec(&p, e, &ino))
		return -EINVAL;
	p = skip_sp(p, e);
	const char *name = p;
	size_t nlen = (size_t)(e - p);

	if (end > EV_USER_TOP)
		return 0;   /* [vsyscall]: above user space, never faulted on */
	l.start = start >> EV_PAGE_SHIFT;
	l.end = end >> EV_PAGE_SHIFT;
	l.flags = (perm[0] == 'r' ? EV_PROT_READ : 0) |
	          (perm[1] == 'w' ? EV_PROT_WRITE : 0) |
	          (perm[2] == 'x' ? EV_PROT_EXEC : 0) |
	          (perm[3] == 's' ? EV_MAP_SHARED : 0) | EV_MAP_SNAPSHOT;
#define NAME_IS(x) (nlen == sizeof(x) - 1 && !memcmp(name, x, nlen))
	if (NAME_IS("[vdso]") || NAME_IS("[vvar]") || NAME_IS("[vvar_vclock]") ||
	    NAME_IS("[vsyscall]")) {
		l.flags |= EV_MAP_SPECIAL | EV_MAP_ANON;
	} else if (ino == 0) {
		l.flags |= EV_MAP_ANON;
		if (NAME_IS("[stack]") || (nlen > 7 && !memcmp(name, "[stack:", 7)))
			l.flags |= EV_MAP_STACK;
		else if (NAME_IS("[heap]")) {
			l.flags |= EV_MAP_HEAP;
			s->heap = true;
			s->heap_end = l.end;
		}
		l.pgoff = l.start;
	} else {
		char id[96];
		int n = snprintf(id, sizeof(id), "%.*s:%" PRIu64, (int)devlen, dev,
		                 ino);
		l.file = intern(c, id, (size_t)n < sizeof(id) ? (size_t)n :
		                sizeof(id) - 1);
		l.pgoff = off >> EV_PAGE_SHIFT;
	}
#undef NAME_IS
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct snap_line *n = realloc(s->v, cap * sizeof(*n));
		if (!n) {
			c->oom = 1;
			return -ENOMEM;
		}
		s->v = n;
		s->cap = cap;
	}
	s->v[s->n++] = l;
	return 0;
}

static bool same_area(const struct vma *v, const struct snap_line *l)
{
	uint32_t m = EV_PROT_MASK | EV_MAP_SHARED | EV_MAP_ANON | EV_MAP_STACK |
	             EV_MAP_SPECIAL | EV_MAP_HEAP;
	return v->start == l->start && v->end == l->end &&
	       (v->flags & m) == (l->flags & m) && v->file == l->file;
}

/* "maps pid=P end": the process's address space is now the snapshot. */
static void snap_apply(struct imp_core *c, struct imp_snap *s,
                       const struct imp_rec *r)
{
	struct imp_task *t = task_get(c, s->pid, 0);
	if (!t || !(t->sel || t->hold) || t->state == T_EXITED) {
		snap_drop(c, s);
		return;
	}
	if (!t->sel) {
		/* An exec'ing task that did not become part of the tree. */
		snap_drop(c, s);
		return;
	}
	c->st.snapshots++;
	if (!t->known) {
		t->known = 1;
		c->st.unknown_tasks++;
	}
	struct imp_as *as = task_as(c, t);
	if (!as) {
		snap_drop(c, s);
		return;
	}
	/* Areas the snapshot does not have go; areas it has that the shadow
	 * lacks come.  Identical ones are left alone, so that pages already
	 * faulted in them survive. */
	struct vma_set old;
	vma_set_init(&old);
	if (vma_set_copy(&old, &as->vmas)) {
		c->oom = 1;
		snap_drop(c, s);
		return;
	}
	size_t j = 0;
	for (size_t i = 0; i < old.n; i++) {
		while (j < s->n && s->v[j].end <= old.v[i].start)
			j++;
		if ((j < s->n && same_area(&old.v[i], &s->v[j])) ||
		    old.v[i].end - old.v[i].start > UINT32_MAX)
			continue;
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_MUNMAP);
		ev.addr = old.v[i].start << EV_PAGE_SHIFT;
		ev.len = (uint32_t)(old.v[i].end - old.v[i].start);
		out_apply(c, t, &ev);
	}
	for (size_t k = 0; k < s->n; k++) {
		const struct snap_line *l = &s->v[k];
		bool have = false;
		for (size_t i = vma_lower_bound(&old, l->start);
		     i < old.n && old.v[i].start <= l->start; i++)
			have |= same_area(&old.v[i], l);
		if (have || l->end - l->start > UINT32_MAX)
			continue;
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_MMAP);
		ev.addr = l->start << EV_PAGE_SHIFT;
		ev.len = (uint32_t)(l->end - l->start);
		ev.flags = l->flags;
		ev.arg = l->file;
		ev.aux = l->pgoff;
		out_apply(c, t, &ev);
	}
	vma_set_free(&old);
	if (s->heap)
		as->brk = s->heap_end;
	c->st.snapshot_lines += s->n;
	snap_drop(c, s);
	/* The exec's held records belong after the snapshot. */
	if (t->hold == 2)
		release_hold(c, t);
}

/* Letters of a pagemap run's flags. */
static bool pm_flags(const char *p, const char *e, uint32_t *out)
{
	uint32_t f = 0;
	if (p == e)
		return false;
	for (; p < e; p++) {
		switch (*p) {
		case 'P': f |= EV_PM_PRESENT; break;
		case 'S': f |= EV_PM_SWAPPED; break;
		case 'F': f |= EV_PM_FILE; break;
		case 'X': f |= EV_PM_EXCLUSIVE; break;
		case '-': break;
		default: return false;
		}
	}
	*out = f;
	return true;
}

static const char *tok_end(const char *p, const char *e)
{
	while (p < e && *p != ' ')
		p++;
	return p;
}

static void marker_bad(struct imp_core *c, const char *s, size_t len)
{
	c->st.bad_markers++;
	imp_core_warn(c, WARN_MARKER, "bad cowsim marker skipped: '%.*s'",
	              (int)(len > 120 ? 120 : len), s);
}

static void marker_event(struct imp_core *c, const struct imp_rec *r,
                         struct imp_task *w, const char *s, size_t len)
{
	struct cs_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts = r->ts;
	ev.cpu = r->cpu;
	ev.tid = r->tid > 0 ? (uint32_t)r->tid : 0;
	ev.tgid = w ? w->tgid : ev.tid;
	ev.type = EV_MARKER;
	ev.arg = intern(c, s, len);
	c->st.markers++;
	out_push(c, &ev);
}

static void on_print(struct imp_core *c, const struct imp_rec *r,
                     struct imp_task *w)
{
	const char *s = r->s, *e = r->s + r->slen;
	while (e > s && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == 0))
		e--;
	size_t len = (size_t)(e - s);
	const char *p = s;
	uint64_t pid;

	if (!word(&p, e, "cowsim: ")) {
		marker_event(c, r, w, s, len);
		return;
	}
	if (word(&p, e, "maps ")) {
		if (!kvnum(&p, e, "pid=", &pid) || pid > INT32_MAX || p == e ||
		    *p != ' ') {
			marker_bad(c, s, len);
			return;
		}
		p = skip_sp(p, e);
		struct imp_snap *sn;
		if (e - p == 5 && !memcmp(p, "begin", 5)) {
			sn = snap_find(c, (uint32_t)pid, true);
			if (sn)
				sn->n = 0, sn->heap = false;
		} else if (e - p == 3 && !memcmp(p, "end", 3)) {
			sn = snap_find(c, (uint32_t)pid, false);
			if (!sn)
				marker_bad(c, s, len);
			else
				snap_apply(c, sn, r);
		} else {
			sn = snap_find(c, (uint32_t)pid, false);
			if (!sn || snap_parse_line(c, sn, p, e))
				marker_bad(c, s, len);
		}
		return;
	}
	if (word(&p, e, "pagemap ")) {
		uint64_t va, n, pfn = 0;
		uint32_t fl;
		if (!kvnum(&p, e, "pid=", &pid) || !kvnum(&p, e, "va=", &va) ||
		    !kvnum(&p, e, "n=", &n)) {
			marker_bad(c, s, len);
			return;
		}
		p = skip_sp(p, e);
		const char *fe = tok_end(p, e);
		if (!word(&p, fe, "flags=") || !pm_flags(p, fe, &fl)) {
			marker_bad(c, s, len);
			return;
		}
		p = fe;
		if (p < e && !kvnum(&p, e, "pfn=", &pfn)) {
			marker_bad(c, s, len);
			return;
		}
		if (pid > INT32_MAX || !n || n > UINT32_MAX || (va & (EV_PAGE_SIZE - 1)) ||
		    va >= EV_USER_TOP || n > (EV_USER_TOP - va) >> EV_PAGE_SHIFT) {
			marker_bad(c, s, len);
			return;
		}
		struct imp_task *t = task_get(c, (uint32_t)pid, 0);
		if (!t)
			return;
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_PAGE_INIT);
		ev.addr = va;
		ev.len = (uint32_t)n;
		ev.flags = fl;
		ev.aux = pfn;
		c->st.pagemap_runs++;
		emit(c, t, &ev);
		return;
	}
	if (word(&p, e, "meta ")) {
		int rc = imp_marker_meta(c->src, s, len);
		if (rc == -ENOMEM)
			c->oom = 1;
		else if (rc != 1)
			marker_bad(c, s, len);
		else
			c->st.meta++;
		return;
	}
	if (word(&p, e, "phase ") || word(&p, e, "expect ")) {
		marker_event(c, r, w, s, len);
		return;
	}
	marker_bad(c, s, len);   /* docs/trace-markers.md: an unknown verb */
}

/* ------------------------------------------------------------------ */
/* syscalls                                                            */

static uint32_t pages_of(uint64_t len)
{
	uint64_t n = (len + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
	return n > UINT32_MAX ? 0 : (uint32_t)n;
}

static bool range_ok(uint64_t addr, uint32_t pages)
{
	return pages && !(addr & (EV_PAGE_SIZE - 1)) && addr < EV_USER_TOP &&
	       pages <= (EV_USER_TOP - addr) >> EV_PAGE_SHIFT;
}

static uint32_t prot_of(uint64_t prot)
{
	return (prot & 1 ? EV_PROT_READ : 0) | (prot & 2 ? EV_PROT_WRITE : 0) |
	       (prot & 4 ? EV_PROT_EXEC : 0);
}

static struct imp_fd *fd_find(struct imp_as *as, int32_t fd)
{
	for (uint32_t i = 0; as && i < as->nfds; i++)
		if (as->fds[i].fd == fd)
			return &as->fds[i];
	return NULL;
}

/* The fd table lives with the address space the task uses in the output
 * stage (threads and vfork children share it, fork copies it). */
static void fd_record(struct imp_core *c, struct imp_task *t, int32_t fd,
                      uint64_t seq, bool odirect)
{
	struct imp_as *as = t->sel ? task_as(c, t) : NULL;
	if (!as)
		return;
	struct imp_fd *f = fd_find(as, fd);
	if (!f) {
		if (as->nfds == as->capfds) {
			uint32_t cap = as->capfds ? as->capfds * 2 : 16;
			struct imp_fd *n = realloc(as->fds, cap * sizeof(*n));
			if (!n) {
				c->oom = 1;
				return;
			}
			as->fds = n;
			as->capfds = cap;
		}
		f = &as->fds[as->nfds++];
		f->fd = fd;
	}
	f->seq = seq;
	f->tgid = t->tgid;
	f->odirect = odirect;
}

static void sys_enter(struct imp_core *c, struct imp_task *t,
                      const struct imp_rec *r)
{
	int nr = r->nr;
	if (nr >= 0 && t->sc_nr == nr && t->sc_raw && !r->raw) {
		/* syscalls:sys_enter_X after raw_syscalls:sys_enter: the same
		 * call, named. */
		memcpy(t->sc_a, r->a, sizeof(t->sc_a));
		t->sc_raw = 0;
		return;
	}
	if (t->sc_gup) {
		/* The previous call's exit was lost: let its pin go. */
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP_PUT);
		ev.arg = t->sc_handle;
		emit(c, t, &ev);
	}
	t->sc_nr = nr;
	t->sc_raw = r->raw;
	t->sc_gup = 0;
	t->sc_ts = r->ts;
	memcpy(t->sc_a, r->a, sizeof(t->sc_a));
	t->last_exit_nr = -1;
	switch (nr) {
	case NR_execve:
	case NR_execveat:
		t->in_execve = 1;
		break;
	case NR_vmsplice:
		if (t->sel)
			c->st.unresolved_vmsplice++;
		break;
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64: {
		if (!t->sel || !t->as || !t->as->nfds)
			break;
		struct imp_fd *f = fd_find(t->as, (int32_t)(uint32_t)r->a[0]);
		uint64_t buf = r->a[1], cnt = r->a[2];
		if (!f || !f->odirect || !cnt || buf >= EV_USER_TOP ||
		    cnt > EV_USER_TOP - buf)
			break;
		uint64_t s = buf & ~(EV_PAGE_SIZE - 1);
		uint64_t end = (buf + cnt + EV_PAGE_SIZE - 1) & ~(EV_PAGE_SIZE - 1);
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP);
		ev.addr = s;
		ev.len = pages_of(end - s);
		if (!range_ok(s, ev.len))
			break;
		ev.arg = t->sc_handle = ++c->next_handle;
		/* A read DMAs into the buffer: FOLL_WRITE. */
		ev.flags = EV_GUP_PIN | ((nr == NR_read || nr == NR_pread64) ?
		                         EV_GUP_WRITE : 0) |
		           (EV_GUP_SRC_ODIRECT << EV_GUP_SRC_SHIFT);
		t->sc_gup = 1;
		c->st.odirect_gups++;
		emit(c, t, &ev);
		break;
	}
	default:
		break;
	}
}

static void sys_exit(struct imp_core *c, struct imp_task *t,
                     const struct imp_rec *r)
{
	int nr = r->nr;
	if (t->sc_nr < 0 || (nr >= 0 && t->sc_nr != nr)) {
		/* The second exit of one call (raw, then named), a clone child's
		 * first return, or an entry the trace lost. */
		if (nr >= 0 && nr != t->last_exit_nr && t->sc_nr != -1 &&
		    !((nr == NR_clone || nr == NR_clone3 || nr == NR_fork ||
		       nr == NR_vfork) && r->a[0] == 0)) {
			c->st.syscall_mismatch++;
			imp_core_warn(c, WARN_SYSCALL, "syscall %d exit of task %u "
			              "does not match its entry (%d): not applied",
			              nr, t->tid, t->sc_nr);
			t->sc_nr = -1;
		}
		return;
	}
	nr = t->sc_nr;
	t->sc_nr = -1;
	t->last_exit_nr = nr;
	long long ret = (long long)r->a[0];
	const uint64_t *a = t->sc_a;
	bool fail = ret < 0 && ret > -4096;
	struct cs_ev ev;

	if (t->sc_gup) {
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP_PUT);
		ev.arg = t->sc_handle;
		t->sc_gup = 0;
		emit(c, t, &ev);
	}
	if (nr == NR_execve || nr == NR_execveat)
		t->in_execve = 0;
	if (fail) {
		switch (nr) {
		case NR_mmap: case NR_munmap: case NR_mprotect: case NR_mremap:
		case NR_brk: case NR_madvise: case NR_clone: case NR_clone3:
		case NR_fork: case NR_vfork: case NR_openat: case NR_open:
			if (t->sel)
				c->st.syscalls_failed++;
			break;
		default:
			break;
		}
		return;
	}
	switch (nr) {
	case NR_mmap: {
		uint32_t fl = prot_of(a[2]);
		uint64_t mf = a[3];
		int32_t fd = (int32_t)(uint32_t)a[4];
		mk_ev(&ev, t, r->ts, r->cpu, EV_MMAP);
		ev.addr = (uint64_t)ret;
		ev.len = pages_of(a[1]);
		if (!range_ok(ev.addr, ev.len))
			return;
		if ((mf & LINUX_MAP_TYPE) == LINUX_MAP_SHARED ||
		    (mf & LINUX_MAP_TYPE) == LINUX_MAP_SHARED_VALIDATE)
			fl |= EV_MAP_SHARED;
		if (mf & LINUX_MAP_GROWSDOWN)
			fl |= EV_MAP_STACK;
		if (mf & LINUX_MAP_NORESERVE)
			fl |= EV_MAP_NORESERVE;
		if ((mf & LINUX_MAP_ANON) || fd < 0) {
			fl |= EV_MAP_ANON;
			ev.aux = ev.addr >> EV_PAGE_SHIFT;
		} else {
			struct imp_fd *f = fd_find(t->as, fd);
			char id[48];
			int n = f ? snprintf(id, sizeof(id), "open%" PRIu64 "@%u", f->seq,
			                     f->tgid)
			          : snprintf(id, sizeof(id), "fd%d@%u", fd, t->tgid);
			ev.arg = intern(c, id, (size_t)n);
			ev.aux = a[5] >> EV_PAGE_SHIFT;
		}
		ev.flags = fl;
		break;
	}
	case NR_munmap:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MUNMAP);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_mprotect:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MPROTECT);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.flags = prot_of(a[2]);
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_mremap:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MREMAP);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.aux = (uint64_t)ret;
		ev.arg = pages_of(a[2]);
		if (!range_ok(ev.addr, ev.len) || !range_ok(ev.aux, ev.arg))
			return;
		break;
	case NR_brk:
		mk_ev(&ev, t, r->ts, r->cpu, EV_BRK);
		ev.addr = (uint64_t)ret;
		if (ev.addr >= EV_USER_TOP)
			return;
		ev.aux = t->as ? t->as->brk << EV_PAGE_SHIFT : 0;
		break;
	case NR_madvise:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MADVISE);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.flags = (uint32_t)a[2];
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_clone: case NR_clone3: case NR_fork: case NR_vfork:
		if (ret <= 0 || ret > INT32_MAX)
			return;
		mk_ev(&ev, t, r->ts, r->cpu, EV_FORK_DONE);
		ev.arg = (uint32_t)ret;
		ev.aux = r->ts >= t->sc_ts ? r->ts - t->sc_ts : 0;
		break;
	case NR_openat: case NR_open: {
		if (!t->sel || ret > INT32_MAX)
			return;
		uint64_t oflags = nr == NR_openat ? a[2] : a[1];
		fd_record(c, t, (int32_t)ret, ++c->open_seq,
		          (oflags & LINUX_O_DIRECT) != 0);
		c->st.syscalls++;
		return;
	}
	case NR_io_uring_register:
		/* IORING_REGISTER_BUFFERS, _BUFFERS2, _BUFFERS_UPDATE: the
		 * iovecs are in user memory the trace does not show. */
		if (t->sel && (a[1] == 0 || a[1] == 15 || a[1] == 16))
			c->st.unresolved_io_uring++;
		return;
	default:
		return;
	}
	if (t->sel)
		c->st.syscalls++;
	emit(c, t, &ev);
}

/* ------------------------------------------------------------------ */
/* process events                                                      */

static void exec_begin(struct imp_core *c, struct imp_task *t)
{
	if (t->hold == 1)
		return;
	if (t->hold == 2)
		release_hold(c, t);   /* a second exec before the first settled */
	t->hold = 1;
}

static bool comm_matches(const struct imp_core *c, const char *s, size_t n)
{
	size_t k = strlen(c->sel_comm);
	return n == k && !memcmp(s, c->sel_comm, n);
}

static void set_comm(struct imp_core *c, struct imp_task *t, const char *s,
                     size_t n)
{
	if (n > 15)
		n = 15;
	t->comm = intern(c, s, n);
}

static void on_exec(struct imp_core *c, struct imp_task *t,
                    const struct imp_rec *r)
{
	const char *fn = r->s;
	size_t fl = r->slen;
	const char *base = fn;
	for (size_t i = 0; i < fl; i++)
		if (fn[i] == '/')
			base = fn + i + 1;
	if (!t->renamed)
		set_comm(c, t, base, (size_t)(fn + fl - base));
	t->renamed = 0;
	t->in_execve = 0;
	if (!t->sel) {
		const char *cm = strtab_get(&c->src->strings, t->comm);
		if ((c->sel == IMP_SEL_COMM && !c->root &&
		     comm_matches(c, cm, strlen(cm))) || t->pending_root) {
			t->sel = 1;
			t->pending_root = 0;
			c->root = t->tgid;
		}
	}
	if (!t->sel) {
		t->hold = 0;
		t->nheld = 0;
		return;
	}
	c->st.execs++;
	struct cs_ev ev;
	mk_ev(&ev, t, r->ts, r->cpu, EV_EXEC);
	ev.arg = intern(c, fn, fl);
	/* Straight out, ahead of the records held since the exec began:
	 * those belong to the new image. */
	out_apply(c, t, &ev);
	if (t->comm) {
		mk_ev(&ev, t, r->ts, r->cpu, EV_COMM);
		ev.arg = t->comm;
		out_apply(c, t, &ev);
	}
	/* Keep holding until the maps snapshot of the new image (written by
	 * the launcher while the task is stopped) or the task's first
	 * record of its own. */
	t->hold = 2;
}

static void on_newtask(struct imp_core *c, struct imp_task *parent,
                       const struct imp_rec *r)
{
	uint32_t pid = (uint32_t)r->a[0];
	if (!pid || pid > INT32_MAX)
		return;
	struct imp_task *ch = task_find(c, pid);
	if (ch && ch->state == T_LIVE && !ch->known && !ch->have_clone &&
	    parent && ch->tgid == ((r->a[1] & LINUX_CLONE_THREAD) ? parent->tgid
	                                                         : pid)) {
		/* Introduced a moment ago by perf's FORK record. */
		ch->clone_flags = r->a[1];
		ch->have_clone = 1;
		if (r->slen)
			set_comm(c, ch, r->s, r->slen);
		return;
	}
	if (ch) {
		if (ch->state != T_EXITED) {
			c->st.pid_reused++;
			imp_core_warn(c, WARN_PIDREUSE, "pid %u reused before its "
			              "exit was seen: the old task is dropped", pid);
		}
		task_delete(c, ch);
		parent = task_find(c, (uint32_t)r->tid);
	}
	uint64_t fl = r->a[1];
	uint32_t tgid = (fl & LINUX_CLONE_THREAD) && parent ? parent->tgid : pid;
	ch = task_new(c, pid, tgid);
	if (!ch)
		return;
	ch->clone_flags = fl;
	ch->have_clone = 1;
	if (parent) {
		ch->sel = parent->sel;
		ch->comm = parent->comm;
	}
	if (r->slen)
		set_comm(c, ch, r->s, r->slen);
	if (!ch->sel && c->sel == IMP_SEL_PID && pid == c->sel_pid)
		ch->pending_root = 1;
}

static void on_fork(struct imp_core *c, const struct imp_rec *r)
{
	uint32_t ppid = (uint32_t)r->a[0], cpid = (uint32_t)r->a[1];
	if (!cpid || cpid > INT32_MAX)
		return;
	c->saw_fork_tp = true;
	struct imp_task *p = task_get(c, ppid ? ppid : (uint32_t)r->tid, 0);
	if (!p)
		return;
	if (p->hold == 2)
		release_hold(c, p);
	struct imp_task *ch = task_find(c, cpid);
	uint64_t fl;
	if (ch && ch->have_clone) {
		fl = ch->clone_flags;
	} else {
		/* No task_newtask: the parent's pending syscall says what. */
		switch (p->sc_nr) {
		case NR_clone: fl = p->sc_a[0]; break;
		case NR_vfork: fl = LINUX_CLONE_VM | LINUX_CLONE_VFORK; break;
		default: fl = 0; break;
		}
		if (ch && ch->state != T_EXITED && ch->known) {
			c->st.pid_reused++;
			imp_core_warn(c, WARN_PIDREUSE, "pid %u reused before its "
			              "exit was seen: the old task is dropped", cpid);
		}
		uint32_t tgid = ch && ch->tgid != cpid ? ch->tgid : 0;
		if (ch)
			task_delete(c, ch);
		p = task_find(c, ppid ? ppid : (uint32_t)r->tid);
		if (!p)
			return;
		if (tgid == p->tgid)
			fl |= LINUX_CLONE_THREAD | LINUX_CLONE_VM;
		ch = task_new(c, cpid, (fl & LINUX_CLONE_THREAD) ? p->tgid : cpid);
		if (!ch)
			return;
		ch->sel = p->sel;
		ch->comm = p->comm;
		if (!ch->sel && c->sel == IMP_SEL_PID && cpid == c->sel_pid)
			ch->pending_root = 1;
	}
	ch->have_clone = 0;
	if (!p->sel)
		return;
	if (fl & LINUX_CLONE_THREAD)
		c->st.threads++;
	else if (fl & LINUX_CLONE_VM)
		c->st.vforks++;
	else
		c->st.forks++;
	struct cs_ev ev;
	mk_ev(&ev, p, r->ts, r->cpu, EV_FORK);
	ev.arg = cpid;
	ev.flags = (uint32_t)(fl & (LINUX_CLONE_VM | LINUX_CLONE_VFORK |
	                            LINUX_CLONE_THREAD));
	emit(c, p, &ev);
	if (ch->comm && ch->comm != p->comm) {
		mk_ev(&ev, ch, r->ts, r->cpu, EV_COMM);
		ev.arg = ch->comm;
		emit(c, ch, &ev);
	}
}

static void on_task_exit(struct imp_core *c, const struct imp_rec *r)
{
	uint32_t pid = r->a[0] ? (uint32_t)r->a[0] : (uint32_t)r->tid;
	struct imp_task *t = task_find(c, pid);
	if (!t || t->state == T_EXITED)
		return;
	if (t->hold)
		release_hold(c, t);
	win_close(c, t, r->ts, r->cpu);
	if (t->sc_gup) {
		struct cs_ev g;
		mk_ev(&g, t, r->ts, r->cpu, EV_GUP_PUT);
		g.arg = t->sc_handle;
		t->sc_gup = 0;
		emit(c, t, &g);
	}
	t->state = T_EXITED;
	t->sc_nr = -1;
	t->in_execve = 0;
	if (!t->sel)
		return;
	c->st.exits++;
	struct cs_ev ev;
	mk_ev(&ev, t, r->ts, r->cpu, EV_EXIT);
	/* group_dead; older kernels lack the field: a leader's exit then. */
	if (r->a[1] == 1 || (r->a[1] == 2 && t->tid == t->tgid))
		ev.flags = EV_EXIT_GROUP;
	if (!t->known)
		return;   /* the engine never met it: nothing to end */
	emit(c, t, &ev);
}

/* perf's MMAP2: the exec-time mappings (and any not made by a syscall the
 * trace shows). */
static void on_mmap2(struct imp_core *c, struct imp_task *t,
                     const struct imp_rec *r)
{
	if (t->sc_nr >= 0 && t->sc_nr != NR_execve && t->sc_nr != NR_execveat)
		return;   /* the syscall's exit applies it */
	uint64_t start = r->a[1], len = r->a[2];
	struct cs_ev ev;
	mk_ev(&ev, t, r->ts, r->cpu, EV_MMAP);
	ev.addr = start;
	ev.len = pages_of(len);
	if (!range_ok(start, ev.len))
		return;
	uint32_t fl = (uint32_t)r->a[5] | EV_MAP_SNAPSHOT;
	const char *n = r->s;
	size_t nl = r->slen;
#define NAME_IS(x) (nl == sizeof(x) - 1 && !memcmp(n, x, nl))
	if (NAME_IS("[vdso]") || NAME_IS("[vvar]") || NAME_IS("[vvar_vclock]") ||
	    NAME_IS("[vsyscall]")) {
		fl |= EV_MAP_SPECIAL | EV_MAP_ANON;
	} else if (r->a[4] == 0 || NAME_IS("//anon")) {
		fl |= EV_MAP_ANON;
		if (NAME_IS("[stack]"))
			fl |= EV_MAP_STACK;
		else if (NAME_IS("[heap]"))
			fl |= EV_MAP_HEAP;
		ev.aux = start >> EV_PAGE_SHIFT;
	} else {
		char id[96];
		int k = snprintf(id, sizeof(id), "%.*s:%" PRIu64, (int)r->s2len,
		                 r->s2, r->a[4]);
		ev.arg = intern(c, id, (size_t)k < sizeof(id) ? (size_t)k :
		                sizeof(id) - 1);
		ev.aux = r->a[3] >> EV_PAGE_SHIFT;
	}
#undef NAME_IS
	ev.flags = fl;
	c->st.snapshot_lines++;
	emit(c, t, &ev);
}

/* ------------------------------------------------------------------ */
/* the record stage                                                    */

int imp_core_feed(struct imp_core *c, const struct imp_rec *r)
{
	struct imp_task *t = NULL;
	struct cs_ev ev;

	c->st.records++;
	if ((r->kind == IK_DROPPED || r->kind == IK_BAD) && !r->ts) {
		/* a loss line of text carries no time of its own */
	} else if (r->ts < c->last_in_ts) {
		c->st.nonmonotonic++;
		imp_core_warn(c, WARN_NONMONO, "timestamp goes back %" PRIu64
		              " ns: clamped to keep time order", c->last_in_ts - r->ts);
	} else {
		c->last_in_ts = r->ts;
	}

	switch ((enum imp_kind)r->kind) {
	case IK_UNKNOWN:
		imp_core_skip(c, r->s, r->slen);
		return 0;
	case IK_BAD: {
		/* Quote the line printable: it may be binary garbage. */
		char q[104];
		size_t n = r->slen > 100 ? 100 : r->slen;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)r->s[i];
			q[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		q[n] = 0;
		c->st.records--;
		c->st.bad_lines++;
		imp_core_warn(c, WARN_OTHER, "%.*s, skipped: '%s'", (int)r->s2len,
		              r->s2, q);
		return 0;
	}
	case IK_OTHER:
	case IK_NONE:
	case IK_NKINDS:
		return 0;
	case IK_DROPPED:
		c->st.drop_reports++;
		c->st.dropped_events += r->a[1];
		if (r->a[1])
			imp_core_warn(c, WARN_DROP, "the tracer lost %" PRIu64 " events "
			              "on CPU %" PRIu64 ": open outcome windows "
			              "abandoned", r->a[1], r->a[0]);
		else
			imp_core_warn(c, WARN_DROP, "the tracer lost events on CPU %"
			              PRIu64 ": open outcome windows abandoned", r->a[0]);
		win_cancel_all(c);
		return 0;
	case IK_FREE: {
		struct imp_task *f = task_find(c, (uint32_t)r->a[0]);
		if (f && f->state == T_EXITED)
			task_delete(c, f);
		return 0;
	}
	case IK_FORK:
		on_fork(c, r);
		return c->oom ? -ENOMEM : 0;
	case IK_EXIT:
		on_task_exit(c, r);
		return c->oom ? -ENOMEM : 0;
	case IK_PFORK: {
		/* perf FORK(child pid:tid):(parent pid:tid): who is a thread of
		 * whom, which default perf script fields do not show. */
		uint32_t ctid = (uint32_t)r->a[1], cpid = (uint32_t)r->a[0];
		if (ctid && ctid <= INT32_MAX) {
			struct imp_task *ch = task_find(c, ctid);
			if (!ch || ch->state == T_EXITED) {
				if (ch)
					task_delete(c, ch);
				struct imp_task *p = task_find(c, (uint32_t)r->a[3]);
				ch = task_new(c, ctid, cpid);
				if (ch && p) {
					ch->sel = p->sel;
					ch->comm = p->comm;
				}
				if (ch && !ch->sel && c->sel == IMP_SEL_PID &&
				    ctid == c->sel_pid)
					ch->pending_root = 1;
			}
		}
		return c->oom ? -ENOMEM : 0;
	}
	case IK_PEXIT:
		return 0;
	default:
		break;
	}

	if (r->tid <= 0) {
		/* The idle task: nothing of a process happens there. */
		if (r->kind == IK_PRINT)
			on_print(c, r, NULL);
		return c->oom ? -ENOMEM : 0;
	}
	uint32_t tid = (uint32_t)r->tid;
	if (r->kind == IK_PAGE_ALLOC) {
		win_alloc(c, r);
		return 0;
	}
	t = task_get(c, tid, r->tgid > 0 ? (uint32_t)r->tgid : 0);
	if (!t)
		return -ENOMEM;
	if (t->state == T_EXITED) {
		/* exit_mm() after sched_process_exit: clear_child_tid and the
		 * like.  The engine has dropped the task already. */
		if (r->kind == IK_PRINT)
			on_print(c, r, t);
		else
			c->st.after_exit++;
		return c->oom ? -ENOMEM : 0;
	}
	if (!t->sel && !t->hold && !t->pending_root && c->sel != IMP_SEL_ALL &&
	    !(c->sel == IMP_SEL_COMM && !c->root && t->in_execve)) {
		/* Outside the tree: only what could bring a task into it. */
		switch (r->kind) {
		case IK_PRINT: on_print(c, r, t); break;
		case IK_NEWTASK: on_newtask(c, t, r); break;
		case IK_RENAME: set_comm(c, t, r->s, r->slen); break;
		case IK_PCOMM: set_comm(c, t, r->s, r->slen); break;
		case IK_SYS_ENTER:
			if (r->nr == NR_execve || r->nr == NR_execveat)
				t->in_execve = 1;
			break;
		case IK_SYS_EXIT:
			if (r->nr == NR_execve || r->nr == NR_execveat)
				t->in_execve = 0;
			break;
		case IK_EXEC:
			if (c->sel == IMP_SEL_COMM && !c->root)
				on_exec(c, t, r);
			break;
		default:
			break;
		}
		c->st.filtered++;
		return c->oom ? -ENOMEM : 0;
	}
	if (t->hold == 2) {
		switch (r->kind) {
		case IK_SYS_EXIT: case IK_MMAP2: case IK_RENAME: case IK_PCOMM:
			break;
		default:
			release_hold(c, t);
			break;
		}
	}

	switch ((enum imp_kind)r->kind) {
	case IK_PF_USER:
	case IK_PF_KERNEL:
		win_close(c, t, r->ts, r->cpu);
		mk_ev(&ev, t, r->ts, r->cpu, EV_FAULT);
		ev.addr = r->a[0];
		ev.aux = r->a[1];
		ev.flags = (uint32_t)r->a[2];
		if (ev.addr >= EV_USER_TOP) {
			c->st.faults_highaddr++;
			break;
		}
		emit(c, t, &ev);
		if (c->labels) {
			t->win = 1;
			t->win_label = 0;
			t->win_err = (uint32_t)r->a[2];
			t->win_addr = r->a[0];
		}
		break;
	case IK_SYS_ENTER:
		c->saw_syscalls = true;
		win_close(c, t, r->ts, r->cpu);
		sys_enter(c, t, r);
		break;
	case IK_SYS_EXIT:
		c->saw_syscalls = true;
		win_close(c, t, r->ts, r->cpu);
		sys_exit(c, t, r);
		break;
	case IK_PRINT:
		win_close(c, t, r->ts, r->cpu);
		on_print(c, r, t);
		break;
	case IK_NEWTASK:
		on_newtask(c, t, r);
		break;
	case IK_EXEC:
		win_close(c, t, r->ts, r->cpu);
		on_exec(c, t, r);
		break;
	case IK_RENAME:
		set_comm(c, t, r->s, r->slen);
		if (t->in_execve || !c->saw_syscalls || t->hold) {
			/* begin_new_exec() renames: from here on the records are
			 * the new image's (also for a vfork child, whose exec
			 * destroys no mm and so has no exit_mmap). */
			win_close(c, t, r->ts, r->cpu);
			exec_begin(c, t);
			t->renamed = 1;
		} else if (t->sel) {
			mk_ev(&ev, t, r->ts, r->cpu, EV_COMM);
			ev.arg = t->comm;
			emit(c, t, &ev);
		}
		break;
	case IK_PCOMM:
		set_comm(c, t, r->s, r->slen);
		if (r->a[2]) {
			win_close(c, t, r->ts, r->cpu);
			exec_begin(c, t);
			t->renamed = 1;
		}
		break;
	case IK_EXIT_MMAP:
		if (t->in_execve || !c->saw_syscalls) {
			win_close(c, t, r->ts, r->cpu);
			exec_begin(c, t);
		}
		break;
	case IK_MMAP2:
		on_mmap2(c, t, r);
		break;
	default:
		break;
	}
	return c->oom ? -ENOMEM : 0;
}

int imp_core_finish(struct imp_core *c)
{
	for (uint32_t i = 0; i < c->tcap; i++) {
		struct imp_task *t = c->tasks[i];
		if (!t)
			continue;
		win_close(c, t, c->last_in_ts, 0);
		if (t->hold)
			release_hold(c, t);
	}
	while (c->nsnaps) {
		c->st.snapshots_discarded++;
		imp_core_warn(c, WARN_MARKER, "maps snapshot of pid %u has no end "
		              "(truncated trace?): discarded", c->snaps[0].pid);
		snap_drop(c, &c->snaps[0]);
	}
	return c->oom ? -ENOMEM : 0;
}

size_t imp_core_pop(struct imp_core *c, struct cs_ev *buf, size_t max)
{
	size_t n = c->out_n < max ? c->out_n : max;
	if (!n)
		return 0;
	memcpy(buf, c->out + c->out_head, n * sizeof(*buf));
	c->out_head += n;
	c->out_n -= n;
	if (!c->out_n)
		c->out_head = 0;
	return n;
}

int imp_core_init(struct imp_core *c, struct ev_source *src)
{
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->where_unit = "line";
	return 0;
}

void imp_core_free(struct imp_core *c)
{
	for (uint32_t i = 0; i < c->tcap; i++)
		if (c->tasks[i])
			task_release(c->tasks[i]);
	free(c->tasks);
	while (c->nsnaps)
		snap_drop(c, &c->snaps[0]);
	free(c->snaps);
	free(c->out);
	memset(c, 0, sizeof(*c));
}
