/*
 * task.c - the tasks of the simulated machine, found by tid (kernel/pid.c's
 * find_task_by_vpid(), in spirit), born in fork.c, gone at exit
 * (kernel/exit.c do_exit(), and exit_group()'s whole thread group).
 *
 * Tasks live in a dense array, indexed by an open-addressing table on tid
 * and fronted by a direct-mapped cache (task_find() in internal.h): every
 * event names a task, and the fault path asks for one per fault.  A task
 * the stream never introduced is invented (task_get()), as real traces
 * start mid-life and lose events.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

/* task_find() past its cache: the tid index.  Returns the 1-based task,
 * or 0. */
uint32_t task_find_slow(struct sim_engine *e, uint32_t tid)
{
	uint32_t t = task_index_find(&e->tix, e, tid);
	if (t)
		e->tcache[tid & (TASK_CACHE - 1)] = t;
	return t;
}

/* Index task t (1-based).  Returns 0 or -ENOMEM. */
static int tix_insert(struct sim_engine *e, uint32_t t)
{
	size_t before = task_index_bytes(&e->tix);
	int err = task_index_add(&e->tix, e, t);
	if (err)
		return err;
	acct_growth(e, before, task_index_bytes(&e->tix));
	return 0;
}

static void tix_remove(struct sim_engine *e, uint32_t t)
{
	task_index_remove(&e->tix, e, t);
}

/* Tasks live in a dense array; task_gone() keeps it dense. */
int task_new(struct sim_engine *e, uint32_t tid, uint32_t tgid,
             uint32_t mi, uint32_t proc, uint32_t *out)
{
	uint32_t t;

	if (e->ntask == e->captask &&
	    grow(e, (void **)&e->task, &e->captask, (size_t)e->ntask + 1,
	         sizeof(*e->task)))
		return -ENOMEM;
	t = ++e->ntask;
	e->task[t - 1] = (struct sim_task){ .tid = tid, .tgid = tgid, .mm = mi,
	                                    .proc = proc };
	int err = tix_insert(e, t);
	if (err)
		return err;
	if (proc != SIM_NONE)
		proc_task_add(e, proc);
	if ((err = proc_thread_new(e, t)))
		return err;
	*out = t;
	return 0;
}

/* A task leaves: unindex it and drop its address space.  The slot is
 * compacted away by moving the last task into it. */
void task_gone(struct sim_engine *e, uint32_t t)
{
	uint32_t mi = e->task[t - 1].mm;
	uint32_t p = e->task[t - 1].proc;

	proc_thread_end(e, t);
	tix_remove(e, t);
	uint32_t last = e->ntask;
	if (t != last) {
		tix_remove(e, last);
		e->task[t - 1] = e->task[last - 1];
		e->ntask--;
		tix_insert(e, t);   /* cannot fail: the index only shrank */
	} else {
		e->ntask--;
	}
	if (mi)
		mm_put(e, mi);
	if (p != SIM_NONE)
		proc_task_drop(e, p);
}

/* The whole thread group is dead: threads whose own exit the trace lost
 * must not linger (their address space would never be torn down). */
void group_gone(struct sim_engine *e, uint32_t tgid)
{
	for (uint32_t t = e->ntask; t > 0; t--)
		if (t <= e->ntask && e->task[t - 1].tgid == tgid)
			task_gone(e, t);
}

/*
 * The task for an event.  A task the stream never introduced (it existed
 * before the trace, or its fork was lost) is invented: it joins the address
 * space of its thread-group leader if that is known, else gets a new one.
 * Returns 0 and the 1-based task index, or -ENOMEM.
 */
int task_get(struct sim_engine *e, uint32_t tid, uint32_t tgid,
             bool announced, uint32_t *out)
{
	uint32_t t = task_find(e, tid);
	if (t) {
		*out = t;
		return 0;
	}
	if (!announced)
		e->m.unknown_tasks++;
	uint32_t leader = tgid && tgid != tid ? task_find(e, tgid) : 0;
	uint32_t mi;
	int err;
	if (leader) {
		mi = e->task[leader - 1].mm;
		e->mm[mi].users++;
	} else {
		err = mm_alloc(e, tgid ? tgid : tid, &mi);
		if (err)
			return err;
	}
	err = task_new(e, tid, tgid ? tgid : tid, mi, SIM_NONE, &t);
	if (err)
		return err;
	*out = t;
	return 0;
}
