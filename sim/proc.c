/*
 * proc.c - the engine's process table: which thread group each task
 * belonged to, from its fork (or first sighting) to its last thread's exit,
 * with a record per process that the results read (sim_procs(), the fault
 * hook's proc, sim_markers()), and a record per task ever seen
 * (sim_threads()).  The rules are listed in engine.h.
 *
 * Why here and not in the results store: the engine already runs every
 * task's life - task_new(), task_gone(), group_gone(), exec - and the store
 * following the stream again with a tracker of its own made two owners of
 * one rule.  The table is driven from those functions only, so it changes
 * at forks, execs, exits and first sightings, never at faults: the fault
 * path reads a task's process (for the hook) and writes nothing here.
 *
 * A process is found by thread-group id through a map from a tgid to the
 * newest record with it; whether that one is still alive is its own state,
 * so nothing is ever removed from the map.
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/grow.h"
#include "../lib/hmap.h"

static inline uint32_t id_hash(uint32_t id)
{
	return id * 0x9E3779B1u;
}

/* A tgid or tid -> the newest record with it. */
HMAP_DEFINE(id_map, uint32_t, uint32_t, id_hash, 64);

struct proc_state {
	uint32_t live;          /* tasks alive in it now */
	bool over;              /* ended, or its exit was lost */
};

struct sim_proctab {
	struct sim_proc_rec *rec;
	struct proc_state *st;   /* per record too */
	size_t n, cap, capst;
	struct id_map tgid;      /* tgid -> newest record */
	struct sim_marker_rec *markers;
	size_t nmarkers, capmarkers;
	/* Threads: a live task's tid names its newest record, as a tgid
	 * does a process's (the kernel never has two live tasks with one
	 * tid; the engine drops a stale one before reusing its tid). */
	struct sim_thread_rec *thr;
	size_t nthr, capthr;
	struct id_map tid;       /* tid -> newest record */
};

int proc_create(struct sim_engine *e)
{
	e->procs = calloc(1, sizeof(*e->procs));
	return e->procs ? 0 : -ENOMEM;
}

void proc_destroy(struct sim_engine *e)
{
	struct sim_proctab *pt = e->procs;
	if (!pt)
		return;
	free(pt->rec);
	free(pt->st);
	id_map_free(&pt->tgid);
	free(pt->markers);
	free(pt->thr);
	id_map_free(&pt->tid);
	free(pt);
	e->procs = NULL;
}

/* The live process with this tgid, or SIM_NONE. */
static uint32_t tgid_live(const struct sim_proctab *pt, uint32_t tgid)
{
	const uint32_t *p = id_map_get(&pt->tgid, tgid);
	return p && !pt->st[*p].over ? *p : SIM_NONE;
}

/* A new record; a live process with the same tgid lost its exit. */
static int proc_new(struct sim_proctab *pt, uint32_t pid, uint32_t *out)
{
	if (pt->n >= SIM_NONE ||
	    grow_array((void **)&pt->rec, &pt->cap, pt->n + 1, sizeof(*pt->rec),
	               64, false) ||
	    grow_array((void **)&pt->st, &pt->capst, pt->n + 1, sizeof(*pt->st),
	               64, false))
		return -ENOMEM;
	uint32_t old = tgid_live(pt, pid);
	if (id_map_put(&pt->tgid, pid, (uint32_t)pt->n))
		return -ENOMEM;
	if (old != SIM_NONE)
		pt->st[old].over = true;
	pt->rec[pt->n] = (struct sim_proc_rec){ .pid = pid, .parent = SIM_NONE,
	                                         .fork = SIM_NONE };
	pt->st[pt->n] = (struct proc_state){ 0 };
	*out = (uint32_t)pt->n++;
	return 0;
}

/* The record of live task t (1-based).  Every task has one: task_new()
 * makes it. */
static struct sim_thread_rec *thread_of(const struct sim_engine *e,
                                        uint32_t t)
{
	const struct sim_proctab *pt = e->procs;
	return &pt->thr[*id_map_get(&pt->tid, e->task[t - 1].tid)];
}

/* Task t now has a process: so has its record, and the process's name
 * until the thread gets one of its own. */
static void thread_join(struct sim_engine *e, uint32_t t)
{
	struct sim_thread_rec *r = thread_of(e, t);
	r->proc = e->task[t - 1].proc;
	if (!r->comm)
		r->comm = e->procs->rec[r->proc].comm;
}

int proc_thread_new(struct sim_engine *e, uint32_t t)
{
	struct sim_proctab *pt = e->procs;
	const struct sim_task *tk = &e->task[t - 1];
	if (pt->nthr >= SIM_NONE ||
	    grow_array((void **)&pt->thr, &pt->capthr, pt->nthr + 1,
	               sizeof(*pt->thr), 64, false) ||
	    id_map_put(&pt->tid, tk->tid, (uint32_t)pt->nthr))
		return -ENOMEM;
	pt->thr[pt->nthr++] = (struct sim_thread_rec){
		.first_ts = e->now, .tid = tk->tid, .tgid = tk->tgid,
		.proc = SIM_NONE, .parent = SIM_NONE,
	};
	if (tk->proc != SIM_NONE)
		thread_join(e, t);
	return 0;
}

void proc_thread_forked(struct sim_engine *e, uint32_t parent, uint32_t ct)
{
	const struct sim_proctab *pt = e->procs;
	struct sim_thread_rec *c = thread_of(e, ct);
	const struct sim_thread_rec *p = thread_of(e, parent);
	c->parent = (uint32_t)(p - pt->thr);
	c->start_ts = e->now;
	c->has_start = 1;
	/* copy_process() copies the creator's comm. */
	c->comm = p->comm;
}

void proc_thread_end(struct sim_engine *e, uint32_t t)
{
	struct sim_thread_rec *r = thread_of(e, t);
	r->has_end = 1;
	r->end_ts = e->now;
}

void proc_thread_lost(struct sim_engine *e, uint32_t tid)
{
	struct sim_proctab *pt = e->procs;
	const uint32_t *i = id_map_get(&pt->tid, tid);
	if (i) {
		pt->thr[*i].has_end = 0;
		pt->thr[*i].end_ts = 0;
	}
}

int proc_attach(struct sim_engine *e, uint32_t t)
{
	struct sim_task *tk = &e->task[t - 1];
	uint32_t p = tgid_live(e->procs, tk->tgid);
	if (p == SIM_NONE) {
		int err = proc_new(e->procs, tk->tgid, &p);
		if (err)
			return err;
	}
	tk->proc = p;
	proc_task_add(e, p);
	thread_join(e, t);
	return 0;
}

int proc_fork(struct sim_engine *e, uint32_t parent, uint32_t ct,
              uint32_t fork)
{
	struct sim_proctab *pt = e->procs;
	struct sim_task *ctk = &e->task[ct - 1];
	uint32_t pp = e->task[parent - 1].proc, c;
	int err = proc_new(pt, ctk->tgid, &c);
	if (err)
		return err;
	struct sim_proc_rec *r = &pt->rec[c];
	r->start_ts = e->now;
	r->has_start = 1;
	r->fork = fork;
	if (pp != SIM_NONE) {
		r->parent = pp;
		r->comm = pt->rec[pp].comm;
		r->exe = pt->rec[pp].exe;
	}
	ctk->proc = c;
	proc_task_add(e, c);
	thread_join(e, ct);
	return 0;
}

void proc_task_add(struct sim_engine *e, uint32_t p)
{
	e->procs->st[p].live++;
	e->procs->rec[p].threads++;
}

void proc_task_drop(struct sim_engine *e, uint32_t p)
{
	e->procs->st[p].live--;
}

bool proc_alive(const struct sim_engine *e, uint32_t p)
{
	return e->procs->st[p].live > 0;
}

void proc_end(struct sim_engine *e, uint32_t p, uint64_t ts)
{
	struct sim_proctab *pt = e->procs;
	if (pt->st[p].over)
		return;
	pt->st[p].over = true;
	pt->rec[p].has_end = 1;
	pt->rec[p].end_ts = ts;
}

void proc_lost(struct sim_engine *e, uint32_t p)
{
	e->procs->st[p].over = true;
}

void proc_exec(struct sim_engine *e, uint32_t t, uint32_t path)
{
	uint32_t p = e->task[t - 1].proc;
	e->procs->rec[p].exe = path;
	e->procs->rec[p].comm = path;
	thread_of(e, t)->comm = path;
}

/* A thread naming itself does not rename its process. */
void proc_comm(struct sim_engine *e, uint32_t t, uint32_t comm)
{
	const struct sim_task *tk = &e->task[t - 1];
	struct sim_proc_rec *r = &e->procs->rec[tk->proc];
	if (tk->tid == r->pid)
		r->comm = comm;
	thread_of(e, t)->comm = comm;
}

int proc_marker(struct sim_engine *e, const struct cs_ev *ev, uint32_t p)
{
	struct sim_proctab *pt = e->procs;
	if (grow_array((void **)&pt->markers, &pt->capmarkers, pt->nmarkers + 1,
	               sizeof(*pt->markers), 16, false))
		return -ENOMEM;
	pt->markers[pt->nmarkers++] = (struct sim_marker_rec){
		.seq = e->m.events - 1, .ts = ev->ts, .proc = p, .text = ev->arg,
	};
	return 0;
}

int proc_check(const struct sim_engine *e, char *buf, size_t len)
{
	const struct sim_proctab *pt = e->procs;
	uint32_t *live = calloc(pt->n ? pt->n : 1, sizeof(*live));

	if (!live) {
		snprintf(buf, len, "out of memory");
		return -ENOMEM;
	}
	int err = 0;
	for (uint32_t t = 0; t < e->ntask && !err; t++) {
		const uint32_t *th = id_map_get(&pt->tid, e->task[t].tid);
		if (!th || pt->thr[*th].proc != e->task[t].proc ||
		    pt->thr[*th].has_end) {
			snprintf(buf, len, "task %u: no live thread record of its "
			         "process", e->task[t].tid);
			err = -EINVAL;
			break;
		}
		uint32_t p = e->task[t].proc;
		if (p >= pt->n) {
			snprintf(buf, len, "task %u: no process", e->task[t].tid);
			err = -EINVAL;
		} else {
			live[p]++;
		}
	}
	for (uint32_t p = 0; p < pt->n && !err; p++) {
		if (live[p] != pt->st[p].live || live[p] > pt->rec[p].threads) {
			snprintf(buf, len, "process %u (pid %u): %u tasks alive, %u "
			         "counted, %u ever", p, pt->rec[p].pid, live[p],
			         pt->st[p].live, pt->rec[p].threads);
			err = -EINVAL;
		}
	}
	free(live);
	return err;
}

const struct sim_proc_rec *sim_procs(const struct sim_engine *e, size_t *n)
{
	*n = e->procs->n;
	return e->procs->rec;
}

const struct sim_thread_rec *sim_threads(const struct sim_engine *e,
                                         size_t *n)
{
	*n = e->procs->nthr;
	return e->procs->thr;
}

const struct sim_marker_rec *sim_markers(const struct sim_engine *e,
                                         size_t *n)
{
	*n = e->procs->nmarkers;
	return e->procs->markers;
}
