/*
 * imp_snap.c - a process's state as /proc showed it rather than as the
 * trace built it: `cowsim: maps` snapshots, `cowsim: pagemap` runs, and
 * perf's MMAP2 records.
 *
 * A process already running when tracing began, and every exec'd image
 * (whose ELF mappings no syscall shows), has areas the trace never saw
 * made.  The launcher writes /proc/PID/maps as markers while the task is
 * stopped; perf writes MMAP2 records.  A snapshot is collected line by line
 * per pid and applied at its end as a difference against the shadow: areas
 * it lacks are unmapped, areas the shadow lacks are mapped, identical ones
 * are left alone so that pages already faulted in them survive.  Applying
 * it releases the exec hold that waits for it.  A pagemap run becomes one
 * EV_PAGE_INIT, the initial state of its pages.
 */
#include "imp_int.h"
#include "../lib/grow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imp_tp.h"

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
/* maps snapshots                                                     */

static struct imp_snap *snap_find(struct imp_core *c, uint32_t pid, bool make)
{
	for (size_t i = 0; i < c->nsnaps; i++)
		if (c->snaps[i].pid == pid)
			return &c->snaps[i];
	if (!make)
		return NULL;
	if (grow_array((void **)&c->snaps, &c->capsnaps, c->nsnaps + 1,
	               sizeof(*c->snaps), 4, false)) {
		c->oom = 1;
		return NULL;
	}
	struct imp_snap *n = &c->snaps[c->nsnaps++];
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

	if (!tp_hex(&p, e, &start) || !tp_word(&p, e, "-") ||
	    !tp_hex(&p, e, &end) || start >= end ||
	    (start | end) & (EV_PAGE_SIZE - 1))
		return -EINVAL;
	p = tp_skip_sp(p, e);
	if (e - p < 5)
		return -EINVAL;
	const char *perm = p;
	p += 4;
	p = tp_skip_sp(p, e);
	if (!tp_hex(&p, e, &off))
		return -EINVAL;
	p = tp_skip_sp(p, e);
	const char *dev = p;
	while (p < e && *p != ' ')
		p++;
	size_t devlen = (size_t)(p - dev);
	p = tp_skip_sp(p, e);
	if (!tp_dec(&p, e, &ino))
		return -EINVAL;
	p = tp_skip_sp(p, e);
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
		l.file = imp_intern(c, id, (size_t)n < sizeof(id) ? (size_t)n :
		                    sizeof(id) - 1);
		l.pgoff = off >> EV_PAGE_SHIFT;
	}
#undef NAME_IS
	if (grow_array((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v), 64,
	               false)) {
		c->oom = 1;
		return -ENOMEM;
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
	struct imp_task *t = imp_task_get(c, s->pid, 0);
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
	struct imp_as *as = imp_task_as(c, t);
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
		imp_out_apply(c, t, &ev);
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
		imp_out_apply(c, t, &ev);
	}
	vma_set_free(&old);
	if (s->heap)
		as->brk = s->heap_end;
	c->st.snapshot_lines += s->n;
	snap_drop(c, s);
	/* The exec's held records belong after the snapshot. */
	if (t->hold == HOLD_SNAP)
		imp_release_hold(c, t);
}

int imp_snap_marker(struct imp_core *c, const struct imp_rec *r,
                    const char *p, const char *e)
{
	struct imp_snap *sn;
	uint64_t pid;

	if (!tp_kvnum(&p, e, "pid=", &pid) || pid > INT32_MAX || p == e ||
	    *p != ' ')
		return -EINVAL;
	p = tp_skip_sp(p, e);
	if (e - p == 5 && !memcmp(p, "begin", 5)) {
		sn = snap_find(c, (uint32_t)pid, true);
		if (sn)
			sn->n = 0, sn->heap = false;
		return 0;
	}
	if (e - p == 3 && !memcmp(p, "end", 3)) {
		sn = snap_find(c, (uint32_t)pid, false);
		if (!sn)
			return -EINVAL;
		snap_apply(c, sn, r);
		return 0;
	}
	sn = snap_find(c, (uint32_t)pid, false);
	return !sn || snap_parse_line(c, sn, p, e) ? -EINVAL : 0;
}

void imp_snap_finish(struct imp_core *c)
{
	while (c->nsnaps) {
		c->st.snapshots_discarded++;
		imp_core_warn(c, WARN_MARKER, "maps snapshot of pid %u has no end "
		              "(truncated trace?): discarded", c->snaps[0].pid);
		snap_drop(c, &c->snaps[0]);
	}
}

void imp_snap_free(struct imp_core *c)
{
	while (c->nsnaps)
		snap_drop(c, &c->snaps[0]);
	free(c->snaps);
}

/* ------------------------------------------------------------------ */
/* pagemap runs                                                       */

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

int imp_pagemap_marker(struct imp_core *c, const struct imp_rec *r,
                       const char *p, const char *e)
{
	uint64_t pid, va, n, pfn = 0;
	uint32_t fl;

	if (!tp_kvnum(&p, e, "pid=", &pid) || !tp_kvnum(&p, e, "va=", &va) ||
	    !tp_kvnum(&p, e, "n=", &n))
		return -EINVAL;
	p = tp_skip_sp(p, e);
	const char *fe = tok_end(p, e);
	if (!tp_word(&p, fe, "flags=") || !pm_flags(p, fe, &fl))
		return -EINVAL;
	p = fe;
	if (p < e && !tp_kvnum(&p, e, "pfn=", &pfn))
		return -EINVAL;
	if (pid > INT32_MAX || !n || n > UINT32_MAX || (va & (EV_PAGE_SIZE - 1)) ||
	    va >= EV_USER_TOP || n > (EV_USER_TOP - va) >> EV_PAGE_SHIFT)
		return -EINVAL;
	struct imp_task *t = imp_task_get(c, (uint32_t)pid, 0);
	if (!t)
		return 0;   /* out of memory: c->oom says so */
	struct cs_ev ev;
	mk_ev(&ev, t, r->ts, r->cpu, EV_PAGE_INIT);
	ev.addr = va;
	ev.len = (uint32_t)n;
	ev.flags = fl;
	ev.aux = pfn;
	c->st.pagemap_runs++;
	imp_emit(c, t, &ev);
	return 0;
}

/* ------------------------------------------------------------------ */
/* perf MMAP2                                                         */

/* perf's MMAP2: the exec-time mappings (and any not made by a syscall the
 * trace shows). */
void imp_on_mmap2(struct imp_core *c, struct imp_task *t,
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
		ev.arg = imp_intern(c, id, (size_t)k < sizeof(id) ? (size_t)k :
		                    sizeof(id) - 1);
		ev.aux = r->a[3] >> EV_PAGE_SHIFT;
	}
#undef NAME_IS
	ev.flags = fl;
	c->st.snapshot_lines++;
	imp_emit(c, t, &ev);
}
