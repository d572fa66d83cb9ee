/*
 * imp_core.c - the importer core's record stage (imp_core.h), and its
 * driver: raw tracepoint records in, events of tasks out.
 *
 * The core has two stages; imp_int.h draws the whole flow and names the
 * files.  The record stage keeps what the trace says about tasks - tid to
 * tgid, the selected process tree, pending syscalls, the exec in progress,
 * the open outcome window - and turns records into events for a task: here
 * the tasks, process events and outcome windows, in imp_sys.c the syscalls,
 * in imp_marker.c and imp_snap.c the markers.  The output stage (imp_as.c)
 * receives those events in the order they will be written, and keeps the
 * address-space shadow from them.  Between the two stages sits the per-task
 * hold, here, which delays an exec's early records until the new address
 * space exists.
 *
 * Shaped for system-wide traces of a few million records where nine in ten
 * are faults, allocations and syscalls of a handful of tasks: a one-entry
 * task cache in front of the task table (lib/hmap.h), no allocation per
 * record (queues grow by lib/grow.h's doubling and are reused), per-task
 * state only.
 * Memory grows with tasks and mappings, never with the trace's length.
 */
#include "imp_int.h"
#include "../lib/grow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_MAX 4096u             /* records held for one exec at most */
#define WARN_PER_KIND 3
#define TID_HASH_MUL 0x9E3779B1u   /* 2^32 / golden ratio: Fibonacci hashing */

#define LINUX_CLONE_VM     0x00000100ull
#define LINUX_CLONE_VFORK  0x00004000ull
#define LINUX_CLONE_THREAD 0x00010000ull
#define LINUX_MIGRATE_MOVABLE 1    /* enum migratetype */

/* ------------------------------------------------------------------ */
/* stats and warnings                                                 */

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

void imp_core_fail(struct imp_core *c, const char *fmt, ...)
{
	if (c->fatal[0])
		return;
	int n = snprintf(c->fatal, sizeof(c->fatal), "%s:%s%" PRIu64 ": ",
	                 c->src->path, c->where_unit &&
	                 strcmp(c->where_unit, "line") ? " record " : "",
	                 c->where);
	if (n < 0 || (size_t)n >= sizeof(c->fatal))
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->fatal + n, sizeof(c->fatal) - (size_t)n, fmt, ap);
	va_end(ap);
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
/* tasks                                                              */

/* The task table is lib/hmap.h's index flavour: a slot holds the task
 * itself, whose tid is the key. */
static inline uint32_t tid_hash(uint32_t tid)
{
	return tid * TID_HASH_MUL;
}

static inline uint32_t task_hash(const struct imp_core *c,
                                 struct imp_task *t)
{
	(void)c;
	return tid_hash(t->tid);
}

static inline bool task_match(const struct imp_core *c, struct imp_task *t,
                              uint32_t tid)
{
	(void)c;
	return t->tid == tid;
}

HMAP_INDEX_FUNCS(imp_task_index, struct imp_task *, uint32_t, struct imp_core,
                 tid_hash, task_hash, task_match, 256)

struct imp_task *imp_task_find(struct imp_core *c, uint32_t tid)
{
	if (c->tlast && c->tlast->tid == tid)
		return c->tlast;
	struct imp_task *t = imp_task_index_find(&c->tasks, c, tid);
	if (t)
		c->tlast = t;
	return t;
}

static void task_release(struct imp_task *t)
{
	imp_as_put(t->as);
	free(t->held);
	free(t);
}

/* Remove t from the table and free it. */
static void imp_task_delete(struct imp_core *c, struct imp_task *t)
{
	imp_task_index_remove(&c->tasks, c, t);
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

static struct imp_task *imp_task_new(struct imp_core *c, uint32_t tid,
                                 uint32_t tgid)
{
	/* Linux has no task above PID_MAX_LIMIT: a record naming one is
	 * corrupt, and believing them all would let a trace make 2^32. */
	if (tid > EV_PID_MAX || tgid > EV_PID_MAX) {
		c->st.impossible++;
		imp_core_warn(c, WARN_OTHER, "pid %u is above Linux's "
		              "PID_MAX_LIMIT (%u): record skipped",
		              tid > EV_PID_MAX ? tid : tgid, EV_PID_MAX);
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
	if (imp_task_index_add(&c->tasks, c, t)) {
		free(t);
		c->oom = 1;
		return NULL;
	}
	return c->tlast = t;
}

/* The task of a record, created if the trace never introduced it. */
struct imp_task *imp_task_get(struct imp_core *c, uint32_t tid,
                              uint32_t tgid)
{
	struct imp_task *t = imp_task_find(c, tid);
	if (t) {
		if (tgid && t->tgid != tgid && !t->known)
			t->tgid = tgid;
		return t;
	}
	t = imp_task_new(c, tid, tgid);
	if (t)
		t->sel = sel_initial(c, tid, t->tgid);
	return t;
}

uint32_t imp_intern(struct imp_core *c, const char *s, size_t len)
{
	uint32_t id = strtab_intern(&c->src->strings, s, len);
	if (id == UINT32_MAX) {
		c->oom = 1;
		return 0;
	}
	return id;
}

/* ------------------------------------------------------------------ */
/* the hold, between the two stages                                   */

void imp_release_hold(struct imp_core *c, struct imp_task *t)
{
	t->hold = HOLD_NONE;
	if (t->sel) {
		for (uint32_t i = 0; i < t->nheld; i++) {
			if (t->held[i].ts < c->last_ts)
				c->st.retimed++;
			imp_out_apply(c, t, &t->held[i]);
		}
	}
	t->nheld = 0;
}

/* An event of task t from the record stage. */
void imp_emit(struct imp_core *c, struct imp_task *t, struct cs_ev *ev)
{
	if (t->hold) {
		if (t->nheld == t->capheld) {
			if (t->capheld >= HOLD_MAX) {
				c->st.hold_overflow++;
				imp_core_warn(c, WARN_HOLD, "task %u: more than %u records "
				              "during its exec; released early", t->tid,
				              HOLD_MAX);
				imp_release_hold(c, t);
				imp_out_apply(c, t, ev);
				return;
			}
			if (grow_array((void **)&t->held, &t->capheld,
			               (size_t)t->nheld + 1, sizeof(*t->held), 32,
			               false)) {
				c->oom = 1;
				return;
			}
		}
		t->held[t->nheld++] = *ev;
		c->st.exec_held++;
		return;
	}
	if (!t->sel)
		return;
	imp_out_apply(c, t, ev);
}

/* ------------------------------------------------------------------ */
/* outcome windows                                                    */

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
	imp_emit(c, t, &ev);
}

static void win_alloc(struct imp_core *c, const struct imp_rec *r)
{
	struct imp_task *t = imp_task_find(c, (uint32_t)r->tid);
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
	if (r->a[3] != UINT64_MAX && r->a[3] != LINUX_MIGRATE_MOVABLE)
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
	for (uint32_t i = 0; i < c->tasks.cap; i++) {
		struct imp_task *t = c->tasks.slot[i];
		if (t && t->win) {
			t->win = 0;
			c->st.labels_lost++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* process events                                                     */

static void exec_begin(struct imp_core *c, struct imp_task *t)
{
	if (t->hold == HOLD_EXEC)
		return;
	if (t->hold == HOLD_SNAP)   /* a second exec before the first settled */
		imp_release_hold(c, t);
	t->hold = HOLD_EXEC;
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
	t->comm = imp_intern(c, s, n);
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
		t->hold = HOLD_NONE;
		t->nheld = 0;
		return;
	}
	c->st.execs++;
	struct cs_ev ev;
	mk_ev(&ev, t, r->ts, r->cpu, EV_EXEC);
	ev.arg = imp_intern(c, fn, fl);
	/* Straight out, ahead of the records held since the exec began:
	 * those belong to the new image. */
	imp_out_apply(c, t, &ev);
	if (t->comm) {
		mk_ev(&ev, t, r->ts, r->cpu, EV_COMM);
		ev.arg = t->comm;
		imp_out_apply(c, t, &ev);
	}
	/* Keep holding until the maps snapshot of the new image (written by
	 * the launcher while the task is stopped) or the task's first
	 * record of its own. */
	t->hold = HOLD_SNAP;
}

/* A task record no kernel writes (the trace is corrupt or forged): count
 * it, say where, and skip it. */
static void impossible(struct imp_core *c, const char *what, uint32_t pid)
{
	c->st.impossible++;
	imp_core_warn(c, WARN_OTHER, "%s: pid %u would create itself: "
	              "record skipped", what, pid);
}

static void on_newtask(struct imp_core *c, struct imp_task *parent,
                       const struct imp_rec *r)
{
	uint32_t pid = (uint32_t)r->a[0];
	if (!pid || pid > INT32_MAX)
		return;
	/* copy_process() runs in the parent: the new pid is never the
	 * creator's.  A record saying so is corrupt, and believing it would
	 * replace the running task under its own feet. */
	if (pid == (uint32_t)r->tid) {
		impossible(c, "task_newtask", pid);
		return;
	}
	struct imp_task *ch = imp_task_find(c, pid);
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
		imp_task_delete(c, ch);
		parent = imp_task_find(c, (uint32_t)r->tid);
	}
	uint64_t fl = r->a[1];
	uint32_t tgid = (fl & LINUX_CLONE_THREAD) && parent ? parent->tgid : pid;
	ch = imp_task_new(c, pid, tgid);
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
	/* Nor does a task fork itself: the child would take the parent's
	 * task (and address space) as it is being copied. */
	if (cpid == ppid || cpid == (uint32_t)r->tid) {
		impossible(c, "sched_process_fork", cpid);
		return;
	}
	c->saw_fork_tp = true;
	struct imp_task *p = imp_task_get(c, ppid ? ppid : (uint32_t)r->tid, 0);
	if (!p)
		return;
	if (p->hold == HOLD_SNAP)
		imp_release_hold(c, p);
	struct imp_task *ch = imp_task_find(c, cpid);
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
			imp_task_delete(c, ch);
		p = imp_task_find(c, ppid ? ppid : (uint32_t)r->tid);
		if (!p)
			return;
		if (tgid == p->tgid)
			fl |= LINUX_CLONE_THREAD | LINUX_CLONE_VM;
		ch = imp_task_new(c, cpid, (fl & LINUX_CLONE_THREAD) ? p->tgid : cpid);
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
	imp_emit(c, p, &ev);
	if (ch->comm && ch->comm != p->comm) {
		mk_ev(&ev, ch, r->ts, r->cpu, EV_COMM);
		ev.arg = ch->comm;
		imp_emit(c, ch, &ev);
	}
}

static void on_task_exit(struct imp_core *c, const struct imp_rec *r)
{
	uint32_t pid = r->a[0] ? (uint32_t)r->a[0] : (uint32_t)r->tid;
	struct imp_task *t = imp_task_find(c, pid);
	if (!t || t->state == T_EXITED)
		return;
	if (t->hold)
		imp_release_hold(c, t);
	win_close(c, t, r->ts, r->cpu);
	if (t->sc_gup) {
		struct cs_ev g;
		mk_ev(&g, t, r->ts, r->cpu, EV_GUP_PUT);
		g.arg = t->sc_handle;
		t->sc_gup = 0;
		imp_emit(c, t, &g);
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
	if (r->a[1] == 1 ||
	    (r->a[1] == IMP_GROUP_DEAD_UNKNOWN && t->tid == t->tgid))
		ev.flags = EV_EXIT_GROUP;
	if (!t->known)
		return;   /* the engine never met it: nothing to end */
	imp_emit(c, t, &ev);
}

/* ------------------------------------------------------------------ */
/* the record stage                                                   */

static int feed(struct imp_core *c, const struct imp_rec *r);

int imp_core_feed(struct imp_core *c, const struct imp_rec *r)
{
	int rc = feed(c, r);
	return c->fatal[0] ? -EINVAL : rc;
}

static int feed(struct imp_core *c, const struct imp_rec *r)
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
		struct imp_task *f = imp_task_find(c, (uint32_t)r->a[0]);
		if (f && f->state == T_EXITED)
			imp_task_delete(c, f);
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
			struct imp_task *ch = imp_task_find(c, ctid);
			if (!ch || ch->state == T_EXITED) {
				if (ch)
					imp_task_delete(c, ch);
				struct imp_task *p = imp_task_find(c,
				                                   (uint32_t)r->a[3]);
				ch = imp_task_new(c, ctid, cpid);
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
			imp_on_print(c, r, NULL);
		return c->oom ? -ENOMEM : 0;
	}
	uint32_t tid = (uint32_t)r->tid;
	if (r->kind == IK_PAGE_ALLOC) {
		win_alloc(c, r);
		return 0;
	}
	t = imp_task_get(c, tid, r->tgid > 0 ? (uint32_t)r->tgid : 0);
	if (!t)         /* out of memory, or a pid no task can have (skipped) */
		return c->oom ? -ENOMEM : 0;
	if (t->state == T_EXITED) {
		/* exit_mm() after sched_process_exit: clear_child_tid and the
		 * like.  The engine has dropped the task already. */
		if (r->kind == IK_PRINT)
			imp_on_print(c, r, t);
		else
			c->st.after_exit++;
		return c->oom ? -ENOMEM : 0;
	}
	if (!t->sel && !t->hold && !t->pending_root && c->sel != IMP_SEL_ALL &&
	    !(c->sel == IMP_SEL_COMM && !c->root && t->in_execve)) {
		/* Outside the tree: only what could bring a task into it. */
		switch (r->kind) {
		case IK_PRINT: imp_on_print(c, r, t); break;
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
	if (t->hold == HOLD_SNAP) {
		switch (r->kind) {
		case IK_SYS_EXIT: case IK_MMAP2: case IK_RENAME: case IK_PCOMM:
			break;
		default:
			imp_release_hold(c, t);
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
		imp_emit(c, t, &ev);
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
		imp_sys_enter(c, t, r);
		break;
	case IK_SYS_EXIT:
		c->saw_syscalls = true;
		win_close(c, t, r->ts, r->cpu);
		imp_sys_exit(c, t, r);
		break;
	case IK_PRINT:
		win_close(c, t, r->ts, r->cpu);
		imp_on_print(c, r, t);
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
			imp_emit(c, t, &ev);
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
		imp_on_mmap2(c, t, r);
		break;
	default:
		break;
	}
	return c->oom ? -ENOMEM : 0;
}

int imp_core_finish(struct imp_core *c)
{
	for (uint32_t i = 0; i < c->tasks.cap; i++) {
		struct imp_task *t = c->tasks.slot[i];
		if (!t)
			continue;
		win_close(c, t, c->last_in_ts, 0);
		if (t->hold)
			imp_release_hold(c, t);
	}
	imp_snap_finish(c);
	return c->oom ? -ENOMEM : 0;
}

int imp_core_init(struct imp_core *c, struct ev_source *src)
{
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->rootfd = -1;
	c->where_unit = "line";
	return 0;
}

void imp_core_free(struct imp_core *c)
{
	for (uint32_t i = 0; i < c->tasks.cap; i++)
		if (c->tasks.slot[i])
			task_release(c->tasks.slot[i]);
	imp_task_index_free(&c->tasks);
	imp_snap_free(c);
	imp_exe_free(c);
	free(c->out);
	memset(c, 0, sizeof(*c));
}
