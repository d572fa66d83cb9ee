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

uint32_t task_find_slow(struct sim_engine *e, uint32_t tid)
{
	if (!e->tixcap)
		return 0;
	uint32_t h = hash32(tid) & (e->tixcap - 1);
	while (e->tix[h]) {
		uint32_t t = e->tix[h];
		if (e->task[t - 1].tid == tid) {
			e->tcache[tid & (TASK_CACHE - 1)] = t;
			return t;
		}
		h = (h + 1) & (e->tixcap - 1);
	}
	return 0;
}

static int tix_insert(struct sim_engine *e, uint32_t t)
{
	if ((e->ntask + 1) * 2 > e->tixcap) {
		uint32_t ncap = e->tixcap ? e->tixcap * 2 : 256;
		uint32_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		acct(e, (int64_t)(ncap - e->tixcap) * (int64_t)sizeof(*n));
		for (uint32_t i = 0; i < e->tixcap; i++) {
			if (!e->tix[i])
				continue;
			uint32_t h = hash32(e->task[e->tix[i] - 1].tid) & (ncap - 1);
			while (n[h])
				h = (h + 1) & (ncap - 1);
			n[h] = e->tix[i];
		}
		free(e->tix);
		e->tix = n;
		e->tixcap = ncap;
	}
	uint32_t h = hash32(e->task[t - 1].tid) & (e->tixcap - 1);
	while (e->tix[h])
		h = (h + 1) & (e->tixcap - 1);
	e->tix[h] = t;
	return 0;
}

/* Remove task t (1-based) from the index: backward-shift deletion. */
static void tix_remove(struct sim_engine *e, uint32_t t)
{
	uint32_t mask = e->tixcap - 1;
	uint32_t h = hash32(e->task[t - 1].tid) & mask;

	while (e->tix[h] != t)
		h = (h + 1) & mask;
	for (;;) {
		e->tix[h] = 0;
		uint32_t j = h;
		for (;;) {
			j = (j + 1) & mask;
			if (!e->tix[j])
				return;
			uint32_t home = hash32(e->task[e->tix[j] - 1].tid) & mask;
			/* Can the entry at j move back to h? */
			if ((j > h && (home <= h || home > j)) ||
			    (j < h && (home <= h && home > j)))
				break;
		}
		e->tix[h] = e->tix[j];
		h = j;
	}
}

/* Tasks live in a dense array; task_gone() keeps it dense. */
int task_new(struct sim_engine *e, uint32_t tid, uint32_t tgid,
             uint32_t mi, uint32_t *out)
{
	uint32_t t;

	if (e->ntask == e->captask &&
	    grow(e, (void **)&e->task, &e->captask, (size_t)e->ntask + 1,
	         sizeof(*e->task)))
		return -ENOMEM;
	t = ++e->ntask;
	e->task[t - 1] = (struct sim_task){ .tid = tid, .tgid = tgid, .mm = mi,
	                                    .live = 1 };
	int err = tix_insert(e, t);
	if (err)
		return err;
	*out = t;
	return 0;
}

/* A task leaves: unindex it and drop its address space.  The slot is
 * compacted away by moving the last task into it. */
void task_gone(struct sim_engine *e, uint32_t t)
{
	uint32_t mi = e->task[t - 1].mm;

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
	err = task_new(e, tid, tgid ? tgid : tid, mi, &t);
	if (err)
		return err;
	*out = t;
	return 0;
}
