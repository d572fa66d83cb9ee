/*
 * imp_as.c - the importer core's output stage: the queue of events that
 * leave the core, and the address-space shadow kept from them.
 *
 * Every event of a task goes through imp_out_apply() in the order it will
 * be written, and the shadow - one lib/vma.h set per simulated mm, shared
 * the way the engine shares it: by threads and CLONE_VM children, copied
 * at fork, fresh at exec - is updated from that very event.  So the shadow
 * is exactly what the engine will believe, not what the trace merely said
 * (a held record, a failed syscall, a task outside the selection leave
 * nothing in it), and a fault in no area of it is the place to insert the
 * mapping the kernel must have had: the stack grown down to it, or an
 * inferred one.
 *
 * The fd table (imp_sys.c fills it) lives in the address space because it
 * is shared and copied the same way.  The queue grows geometrically and is
 * reused; what one record can put into it is bounded (imp_core.h).
 */
#include "imp_int.h"
#include "../lib/grow.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STACK_GROW_PAGES 32768u    /* 128 MiB: the default stack rlimit is
                                      8 MiB; generous for raised limits */
#define MIN_USER_ADDR 0x10000ull   /* mmap_min_addr */
#define MAX_ARG_PAGES 512u         /* argv + envp: at most a quarter of the
                                      8 MiB stack rlimit (bprm_stack_limits) */
/* The EV_MMAP flags an area keeps (lib/vma.h mirrors them bit for bit). */
#define MMAP_VMA_FLAGS (EV_PROT_MASK | EV_MAP_SHARED | EV_MAP_ANON |         \
                        EV_MAP_STACK | EV_MAP_SPECIAL | EV_MAP_INFERRED |    \
                        EV_MAP_SNAPSHOT | EV_MAP_HEAP | EV_MAP_NORESERVE)

/* ------------------------------------------------------------------ */
/* the queue                                                          */

static int out_reserve(struct imp_core *c, size_t more)
{
	if (c->out_head && c->out_head + c->out_n + more > c->out_cap) {
		memmove(c->out, c->out + c->out_head, c->out_n * sizeof(*c->out));
		c->out_head = 0;
	}
	return grow_array((void **)&c->out, &c->out_cap, c->out_n + more,
	                  sizeof(*c->out), 4096, false);
}

void imp_out_push(struct imp_core *c, struct cs_ev *ev)
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

/* ------------------------------------------------------------------ */
/* address spaces                                                     */

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

void imp_as_put(struct imp_as *as)
{
	if (!as || --as->refs)
		return;
	vma_set_free(&as->vmas);
	free(as->fds);
	free(as);
}

static int as_copy_fds(struct imp_as *dst, const struct imp_as *src)
{
	if (!src->nfds)
		return 0;
	dst->fds = malloc(src->nfds * sizeof(*dst->fds));
	if (!dst->fds)
		return -ENOMEM;
	memcpy(dst->fds, src->fds, src->nfds * sizeof(*dst->fds));
	dst->capfds = dst->nfds = src->nfds;
	return 0;
}

/* The task's address space as the engine will see it; a task the engine
 * has not met joins its thread-group leader's, as the engine does. */
struct imp_as *imp_task_as(struct imp_core *c, struct imp_task *t)
{
	if (t->as)
		return t->as;
	struct imp_task *lead = t->tgid != t->tid ? imp_task_find(c, t->tgid)
	                                          : NULL;
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

/* ------------------------------------------------------------------ */
/* the shadow                                                         */

static uint32_t intern_inferred(struct imp_core *c)
{
	return imp_intern(c, "?inferred", 9);
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
		uint32_t fl = ev->flags & MMAP_VMA_FLAGS;
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
	if (err == -E2BIG)
		imp_core_fail(c, "more than %u mappings in the address space of "
		              "process %u (Linux allows vm.max_map_count, 65530 by "
		              "default): not a trace a kernel wrote", VMA_MAX_AREAS,
		              ev->tgid);
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
	if (as->exe_missing)
		c->st.exec_missing_faults++;
	imp_out_map(c, as, &m);
}

void imp_out_map(struct imp_core *c, struct imp_as *as, struct cs_ev *m)
{
	if (shadow_apply(c, as, m))
		c->oom = 1;
	imp_out_push(c, m);
}

/* The first kernel fault on the new [stack] during an exec is
 * create_elf_tables() writing argv/envp pointers and the auxv below the
 * strings copy_strings() put at the top through get_arg_page() (GUP: no
 * fault).  So every page above the fault's, up to the top, is present
 * from the start: a later write there reuses it (or copies it after a
 * fork), never allocates. */
static void exec_stack(struct imp_core *c, struct imp_task *t,
                       struct imp_as *as, const struct vma *v,
                       const struct cs_ev *f)
{
	uint64_t pg = (f->addr >> EV_PAGE_SHIFT) + 1;
	as->exe_stack = 0;
	if (pg >= v->end || v->end - pg > MAX_ARG_PAGES)
		return;
	struct cs_ev m;
	mk_ev(&m, t, f->ts, f->cpu, EV_PAGE_INIT);
	m.addr = pg << EV_PAGE_SHIFT;
	m.len = (uint32_t)(v->end - pg);
	m.flags = EV_PM_PRESENT | EV_PM_EXCLUSIVE;
	c->st.exec_stack_pages += m.len;
	imp_out_push(c, &m);
}

/* An event leaves the core: update the shadow the engine will mirror. */
void imp_out_apply(struct imp_core *c, struct imp_task *t, struct cs_ev *ev)
{
	struct imp_as *as;

	switch (ev->type) {
	case EV_MARKER:
		imp_out_push(c, ev);
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
		imp_as_put(t->as);
		t->as = as;
		t->known = 1;
		imp_out_push(c, ev);
		as->exe_stack = 1;
		imp_exe_at_exec(c, t, as, ev);
		return;
	case EV_FORK: {
		struct imp_task *ch = imp_task_find(c, ev->arg);
		struct imp_as *pas = imp_task_as(c, t);
		t->known = 1;
		if (!pas || !ch)
			break;
		/* on_fork() drops a task forking itself: were it here, the
		 * parent's space would be freed before it is copied. */
		assert(ch != t);
		if (!(ev->flags & EV_CLONE_THREAD))
			c->st.processes++;
		imp_as_put(ch->as);
		ch->as = NULL;
		if (ev->flags & EV_CLONE_VM) {
			ch->as = pas;
			pas->refs++;
		} else {
			ch->as = as_new(c, ch->tgid);
			if (ch->as && (vma_set_copy(&ch->as->vmas, &pas->vmas) ||
			               as_copy_fds(ch->as, pas)))
				c->oom = 1;
			if (ch->as) {
				ch->as->brk = pas->brk;
				ch->as->exe = pas->exe;
				ch->as->exe_placed = pas->exe_placed;
				ch->as->exe_missing = pas->exe_missing;
			}
		}
		ch->known = 1;
		imp_out_push(c, ev);
		return;
	}
	case EV_EXIT:
		imp_out_push(c, ev);
		imp_as_put(t->as);
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
	as = imp_task_as(c, t);
	if (!as)
		return;
	if (ev->type == EV_OBSERVED) {
		/* A shared mapping has no COW: an allocation at its fault is
		 * the page cache (shmem_alloc_folio() allocates without
		 * __GFP_ZERO, then clears it) being filled, which the
		 * allocation rule would call a copy.  Only a reuse (a
		 * write-protect fault that allocated nothing: do_wp_page()'s
		 * wp_page_shared()) says what the kernel did. */
		struct vma *v = vma_find(&as->vmas, ev->addr >> EV_PAGE_SHIFT);
		if (v && (v->flags & VMA_SHARED) && ev->flags != EV_OBS_REUSE) {
			c->st.labels_shared_fill++;
			return;
		}
		switch (ev->flags) {
		case EV_OBS_COPY: c->st.labels_copy++; break;
		case EV_OBS_REUSE: c->st.labels_reuse++; break;
		case EV_OBS_ZERO: c->st.labels_zero++; break;
		case EV_OBS_NEW: c->st.labels_new++; break;
		}
	} else if (ev->type == EV_FAULT) {
		if (ev->flags & EV_PF_USER) {
			c->st.faults_user++;
			as->exe_stack = 0;
		} else {
			c->st.faults_kernel++;
		}
		uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
		struct vma *v = vma_find(&as->vmas, pg);
		if (!v && as->exe && imp_exe_place(c, t, as, ev))
			v = vma_find(&as->vmas, pg);
		if (!v && ev->addr >= MIN_USER_ADDR) {
			infer_for_fault(c, t, as, ev);
		} else if (v && (v->flags & VMA_STACK) && as->exe_stack &&
		           !(ev->flags & EV_PF_USER)) {
			exec_stack(c, t, as, v, ev);
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
				imp_out_push(c, &m);
			}
		}
	} else if (shadow_apply(c, as, ev)) {
		c->oom = 1;
	}
	imp_out_push(c, ev);
}
