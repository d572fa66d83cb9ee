/*
 * proc.c - the engine's process table: which thread group each task
 * belonged to, from its fork (or first sighting) to its last thread's exit,
 * with a record per process that the results read (sim_procs(), the fault
 * hook's proc, sim_markers()).  The rules are listed in engine.h.
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

static inline uint32_t tgid_hash(uint32_t tgid)
{
	return tgid * 0x9E3779B1u;
}

HMAP_DEFINE(tgid_map, uint32_t, uint32_t, tgid_hash, 64);

struct proc_state {
	uint32_t live;          /* tasks alive in it now */
	bool over;              /* ended, or its exit was lost */
};

struct sim_proctab {
	struct sim_proc_rec *rec;
	struct proc_state *st;   /* per record too */
	size_t n, cap, capst;
	struct tgid_map tgid;    /* tgid -> newest record */
	struct sim_marker_rec *markers;
	size_t nmarkers, capmarkers;
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
	tgid_map_free(&pt->tgid);
	free(pt->markers);
	free(pt);
	e->procs = NULL;
}

/* The live process with this tgid, or SIM_NONE. */
static uint32_t tgid_live(const struct sim_proctab *pt, uint32_t tgid)
{
	const uint32_t *p = tgid_map_get(&pt->tgid, tgid);
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
	if (tgid_map_put(&pt->tgid, pid, (uint32_t)pt->n))
		return -ENOMEM;
	if (old != SIM_NONE)
		pt->st[old].over = true;
	pt->rec[pt->n] = (struct sim_proc_rec){ .pid = pid, .parent = SIM_NONE,
	                                         .fork = SIM_NONE };
	pt->st[pt->n] = (struct proc_state){ 0 };
	*out = (uint32_t)pt->n++;
	return 0;
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

void proc_exec(struct sim_engine *e, uint32_t p, uint32_t path)
{
	e->procs->rec[p].exe = path;
	e->procs->rec[p].comm = path;
}

/* A thread naming itself does not rename its process. */
void proc_comm(struct sim_engine *e, uint32_t t, uint32_t comm)
{
	const struct sim_task *tk = &e->task[t - 1];
	struct sim_proc_rec *r = &e->procs->rec[tk->proc];
	if (tk->tid == r->pid)
		r->comm = comm;
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

const struct sim_marker_rec *sim_markers(const struct sim_engine *e,
                                         size_t *n)
{
	*n = e->procs->nmarkers;
	return e->procs->markers;
}
