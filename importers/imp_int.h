/*
 * imp_int.h - the importer core's internals, shared by the files that make
 * up the core and by nothing else: front ends, imp_src.c and the verb see
 * only imp_core.h.
 *
 * The core (imp_core.h) is one pipeline, cut into files by job:
 *
 *   imp_core.c    the record stage and the driver: stats and warnings, the
 *                 task table, process events (fork, exec, exit, rename),
 *                 outcome windows, the per-task exec hold, and
 *                 imp_core_feed(), which dispatches each record;
 *   imp_sys.c     syscalls: entry/exit pairing per tid, applying a call at
 *                 its successful exit, the fd table, O_DIRECT pins;
 *   imp_marker.c  trace_marker text: the `cowsim:` grammar, meta facts, the
 *                 markers kept as events;
 *   imp_snap.c    a process's state as /proc showed it, not as the trace
 *                 built it: maps snapshots, pagemap runs, perf MMAP2;
 *   imp_as.c      the output stage: the queue, and the address-space shadow
 *                 (lib/vma.h) kept from the events as they leave, which
 *                 decides when a fault needs an inferred mapping.
 *
 * The flow, once: a record is turned into events of a task by the record
 * stage (imp_core.c, imp_sys.c, imp_marker.c, imp_snap.c), which hand them
 * to imp_emit().  imp_emit() holds them while the task is in an exec (the
 * hold) or drops them for a task outside the selection; otherwise, and when
 * a hold is released, imp_out_apply() updates the shadow from the event -
 * inserting an inferred mapping in front of a fault that lies in no known
 * area - and queues it.  EV_EXEC and a snapshot's diff go straight to
 * imp_out_apply(), ahead of the held records, which belong after them;
 * markers go straight to the queue (imp_out_push()): they never change the
 * engine's state.
 *
 * Lifecycle: a struct imp_task is created by the first record that names
 * its tid (imp_task_get()) or by the fork that makes it, lives in the task
 * table until sched_process_free or pid reuse deletes it, and owns its held
 * events.  A struct imp_as is created by the output stage when the engine
 * first meets a task (imp_task_as()) or at exec and fork, and is shared by
 * reference count between threads and CLONE_VM children (imp_as_put()).
 *
 * Invariants:
 *  - t->as->vmas is what the engine believes of t's mm: only the output
 *    stage changes it, from the event it queues in the same call;
 *  - a held event has passed no shadow yet; held events exist only while
 *    t->hold is not HOLD_NONE;
 *  - a task has at most one outcome window open (t->win); its label goes
 *    out behind its fault and before that task's next fault.
 *
 * Errors: most internal functions return nothing: running out of memory
 * sets c->oom, which imp_core_feed() and imp_core_finish() turn into
 * -ENOMEM.  Anything wrong with the trace is counted and warned about.
 */
#ifndef COWSIM_IMP_INT_H
#define COWSIM_IMP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "imp_core.h"
#include "../lib/vma.h"

/* Kinds of warning, each limited to a few messages (imp_core_warn()). */
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
	uint32_t exe;          /* exec images (imp_exe.c): 1 + index in
	                          c->exes, 0 none */
	uint8_t exe_placed;    /* bit k: image k is mapped (or given up) */
	uint8_t exe_missing;   /* the exec'd file could not be laid out */
	uint8_t exe_stack;     /* exec done, no user fault yet: the stack
	                          pages execve() wrote are still to mark */
	struct imp_fd *fds;
	uint32_t nfds;
	size_t capfds;
};

enum { T_LIVE = 0, T_EXITED = 1 };

/* t->hold: why a task's events are held, if they are (imp_core.c). */
enum {
	HOLD_NONE = 0,
	HOLD_EXEC,     /* an exec in progress: the records are the new image's */
	HOLD_SNAP,     /* exec done: waiting for the new image's maps snapshot
	                  or the task's own next record */
};

struct imp_task {
	uint32_t tid, tgid;
	struct imp_as *as;     /* output stage: NULL until the engine knows it */
	uint32_t comm;
	uint8_t sel;           /* in the selected tree */
	uint8_t state;
	uint8_t hold;          /* HOLD_* */
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
	uint32_t nheld;
	size_t capheld;
};

static inline void mk_ev(struct cs_ev *ev, const struct imp_task *t,
                         uint64_t ts, uint16_t cpu, uint8_t type)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->tid = t->tid;
	ev->tgid = t->tgid;
	ev->cpu = cpu;
	ev->type = type;
}

/* Pages covering len bytes; 0 if more than an event's len can hold. */
static inline uint32_t pages_of(uint64_t len)
{
	uint64_t n = (len + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
	return n > UINT32_MAX ? 0 : (uint32_t)n;
}

/* A page-aligned, non-empty range inside user space (ev.h's invariant). */
static inline bool range_ok(uint64_t addr, uint32_t pages)
{
	return pages && !(addr & (EV_PAGE_SIZE - 1)) && addr < EV_USER_TOP &&
	       pages <= (EV_USER_TOP - addr) >> EV_PAGE_SHIFT;
}

/* --- imp_core.c: tasks, strings, the hold --- */

/* The task of tid, or NULL (a one-entry cache in front of the table). */
struct imp_task *imp_task_find(struct imp_core *c, uint32_t tid);
/* The task of a record, created if the trace never introduced it; NULL
 * when out of memory (c->oom set) or for a pid above EV_PID_MAX (no task
 * can have one: counted as impossible, warned, the record skipped). */
struct imp_task *imp_task_get(struct imp_core *c, uint32_t tid,
                              uint32_t tgid);
/* The string id of s in the stream's table; 0 (and c->oom) on failure. */
uint32_t imp_intern(struct imp_core *c, const char *s, size_t len);
/* An event of task t from the record stage: held, dropped or applied. */
void imp_emit(struct imp_core *c, struct imp_task *t, struct cs_ev *ev);
/* End t's hold: its held events go to the output stage, in order. */
void imp_release_hold(struct imp_core *c, struct imp_task *t);

/* --- imp_as.c: the output stage --- */

/* Queue a mapping the importer makes itself (inferred, or an exec image),
 * keeping the shadow; out of memory sets c->oom. */
void imp_out_map(struct imp_core *c, struct imp_as *as, struct cs_ev *m);

/* --- imp_exe.c: exec images --- */

/* At EV_EXEC, as being t's fresh space: read the executed file (cached
 * per path) and map what is at a fixed address; counts a file missing or
 * not ELF (as->exe_missing). */
void imp_exe_at_exec(struct imp_core *c, struct imp_task *t,
                     struct imp_as *as, const struct cs_ev *ev);
/* A fault f in no known area of as (as->exe != 0): if it shows where an
 * image not yet placed is, map that image (before f).  Returns whether
 * it mapped anything. */
bool imp_exe_place(struct imp_core *c, struct imp_task *t, struct imp_as *as,
                   const struct cs_ev *f);
void imp_exe_free(struct imp_core *c);

/* --- imp_sys.c: syscalls --- */

void imp_sys_enter(struct imp_core *c, struct imp_task *t,
                   const struct imp_rec *r);
void imp_sys_exit(struct imp_core *c, struct imp_task *t,
                  const struct imp_rec *r);

/* --- imp_marker.c: trace_marker text --- */

/* A print record (w is its task, NULL for the idle task). */
void imp_on_print(struct imp_core *c, const struct imp_rec *r,
                  struct imp_task *w);

/* --- imp_snap.c: maps snapshots, pagemap runs, perf MMAP2 --- */

/* The rest of a "cowsim: maps pid=P ..." marker at [p, e): begin, a line,
 * or end (which applies the snapshot).  Returns 0 or -EINVAL (the caller
 * counts a bad marker). */
int imp_snap_marker(struct imp_core *c, const struct imp_rec *r,
                    const char *p, const char *e);
/* The rest of a "cowsim: pagemap ..." marker at [p, e): an EV_PAGE_INIT.
 * Returns 0 or -EINVAL (the caller counts a bad marker). */
int imp_pagemap_marker(struct imp_core *c, const struct imp_rec *r,
                       const char *p, const char *e);
/* perf's MMAP2 record of task t. */
void imp_on_mmap2(struct imp_core *c, struct imp_task *t,
                  const struct imp_rec *r);
/* End of input: snapshots without their end are counted and dropped. */
void imp_snap_finish(struct imp_core *c);
/* Free every snapshot being collected. */
void imp_snap_free(struct imp_core *c);

/* --- imp_as.c: the output stage --- */

/* Queue an event as is (markers); its ts is clamped to the last one. */
void imp_out_push(struct imp_core *c, struct cs_ev *ev);
/* An event of t leaves the core: keep the shadow from it, then queue it. */
void imp_out_apply(struct imp_core *c, struct imp_task *t, struct cs_ev *ev);
/* t's address space as the engine will see it (a task the engine has not
 * met joins its thread-group leader's); NULL (and c->oom) on failure. */
struct imp_as *imp_task_as(struct imp_core *c, struct imp_task *t);
/* Drop a reference; the last one frees the address space.  NULL is fine. */
void imp_as_put(struct imp_as *as);

#endif
