/*
 * forkmode.c - fork designs beyond mainline's copy (config fork_mode):
 * On-demand-fork's shared PTE tables and Async-fork's child-side copy.
 *
 *   on-demand  Zhao, Gong, Fonseca, "On-demand-fork: a microsecond fork for
 *              memory-intensive and latency-sensitive applications",
 *              EuroSys 2021; Chih-En Lin's "Introduce Copy-On-Write to Page
 *              Table" series (RFC May 2022 .. v5 Apr 2023).  fork() shares
 *              every last-level (PTE) table with the child, write-protected
 *              at the PMD level and reference counted; the first fault or
 *              change of either process that must alter a shared table
 *              copies it for that process ("break COW PTE"); a process that
 *              lets go of a whole table (exit, unmap) only drops its
 *              reference.  A table mapping a page fork must copy (maybe
 *              pinned) is copied at fork instead (COW PTE v3: "If there is
 *              an unshareable mapped page (maybe pinned or private device),
 *              ... copy to the new one").
 *   async      Pang et al., "Async-fork: Mitigating Query Latency Spikes
 *              Incurred by the Fork-based Snapshot Mechanism from the OS
 *              Level", PVLDB 16(5), 2023.  fork() copies the upper levels
 *              and returns; the child copies the PTE tables after it; a
 *              parent about to change a range whose PTE table the child has
 *              not copied yet copies that table to the child first
 *              ("proactive synchronization").
 *
 * Why the engine's state does not change: the engine keeps every table
 * materialized as mainline's fork leaves it, and this file keeps the
 * ledger of what the design has instead (engine.h, struct fm_state).
 * Every event that reads a shared or not-yet-copied table's contents for a
 * decision or changes them - a fault that fills or changes an entry,
 * munmap, mmap over it, mremap, brk, mprotect, madvise, GUP (COW PTE breaks
 * the table in follow_pfn_pte()), swap-out and migration (it breaks them in
 * the rmap walk), KSM, a further fork, exit - first settles the table as
 * the design does: so at every decision point the state is the one the
 * design reaches, with refcounts, mapcounts and PG_anon_exclusive as a
 * copy made then would leave them, and the policies, the oracle and
 * sim_check() see what they see with copy.  What differs, and is counted
 * here, is who copies a table and when, at what cost, and how many
 * page-table pages exist (pt_pool.virt).
 *
 * Simplifications (docs/model.md, "Fork designs"): a swap-out, migration
 * or KSM merge settles the tables of the address space the event names,
 * not of every mapper its rmap walk would reach; the async child copies
 * its tables one after the other, from when fork returns, and does not
 * speed up when the parent synchronises some of them.
 */
#include "internal.h"

#include "cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Page numbers are below 2^36 (EV_USER_TOP), tables below 2^27. */
#define FM_KEY_SHIFT 28

static inline uint64_t fm_key(const struct sim_mm *mm, uint64_t table)
{
	return (uint64_t)mm->id << FM_KEY_SHIFT | table;
}

/* ------------------------------------------------------------------ */
/* on-demand: share records                                            */

/* A share record of count 0.  Returns 0 or -ENOMEM. */
static int share_new(struct sim_engine *e, uint32_t *out)
{
	struct fm_state *fm = &e->fm;
	uint32_t s = fm->free_sh;

	if (s) {
		fm->free_sh = fm->sh[s].next_free;
	} else {
		if (!fm->nsh)
			fm->nsh = 1;   /* 0 is "no record" on the free list */
		if (grow(e, (void **)&fm->sh, &fm->capsh, (size_t)fm->nsh + 1,
		         sizeof(*fm->sh)))
			return -ENOMEM;
		s = fm->nsh++;
	}
	fm->sh[s] = (struct fm_share){ .count = 0 };
	fm->live++;
	*out = s;
	return 0;
}

static void share_free(struct sim_engine *e, uint32_t s)
{
	struct fm_state *fm = &e->fm;

	fm->sh[s] = (struct fm_share){ .count = 0, .next_free = fm->free_sh };
	fm->free_sh = s;
	fm->live--;
}

/* Entries in use in a PTE table: what copying it copies. */
static uint32_t table_ptes(struct sim_engine *e, uint32_t t)
{
	const uint64_t *tbl = pt_table(&e->pt, t);
	uint32_t n = 0;

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		n += tbl[i] != 0;
	return n;
}

/*
 * mm stops sharing PTE table `table` (index t): with drop, it lets go of
 * the whole table (zap of a whole table, exit), which only decrements the
 * share count; else it needs a table of its own, a copy if others still
 * share it.  The last sharer keeps the table: nothing to copy.
 */
static void share_leave(struct sim_engine *e, struct sim_mm *mm,
                        uint64_t table, uint32_t t, bool drop)
{
	uint64_t k = fm_key(mm, table);
	uint32_t *v = u64map_get(&e->fm.share, k);

	if (!v)
		return;
	uint32_t s = *v;
	u64map_del(&e->fm.share, k);
	mm->fm_shared--;
	struct fm_share *sh = &e->fm.sh[s];
	if (sh->count <= 1) {
		share_free(e, s);
		return;
	}
	sh->count--;
	if (drop) {
		/* The materialized table is about to be freed with the rest:
		 * the modeled count does not change. */
		e->pt.virt--;
		e->m.fm_pt_dropped++;
		return;
	}
	e->m.fm_pt_unshared++;
	e->m.fm_copy_ns += (uint64_t)cost_pt_copy(&e->cfg->cost,
	                                          table_ptes(e, t), 0);
	pt_virt_sub(&e->pt, 1);
}

/* The tables of mm in [start, end) pages leave their share: dropped when
 * unmap and wholly inside, copied otherwise. */
static void share_settle(struct sim_engine *e, struct sim_mm *mm,
                         uint64_t start, uint64_t end, bool unmap)
{
	uint64_t pg = start;
	uint32_t t;

	while (mm->fm_shared && (t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
		uint64_t table = pg >> PT_SHIFT;
		uint64_t first = table << PT_SHIFT, last = first + PT_ENTRIES;
		share_leave(e, mm, table, t, unmap && first >= start && last <= end);
		pg = last;
	}
}

/* ------------------------------------------------------------------ */
/* async: the child's copy                                             */

/* Table i of job j is copied now; by_parent: the parent's proactive sync,
 * else the child's own copy (background, or before it touches it). */
static void job_copy(struct sim_engine *e, struct fm_job *j, uint32_t i,
                     bool by_parent)
{
	struct fm_tab *tb = &j->tab[i];
	uint64_t ns = (uint64_t)cost_pt_copy(&e->cfg->cost, tb->ptes, tb->copies);

	tb->copied = 1;
	pt_virt_sub(&e->pt, 1);
	e->m.fm_pin_window += tb->copies;
	if (by_parent) {
		e->m.fm_pt_synced++;
		e->m.fm_copy_ns += ns;
	} else {
		e->m.fm_pt_bg_copied++;
		e->m.fm_child_ns += ns;
		e->forks[j->fork].child_ns += ns;
	}
}

/* Job index ji is over: its tables are copied, or its child is gone. */
static void job_end(struct sim_engine *e, uint32_t ji)
{
	struct fm_state *fm = &e->fm;
	struct fm_job *j = &fm->job[ji];

	e->mm[j->parent].fm_jobs--;
	e->mm[j->child].fm_jobs--;
	acct(e, -(int64_t)(j->n * sizeof(*j->tab)));
	free(j->tab);
	fm->job[ji] = fm->job[--fm->njob];
	fm->live--;
}

/* Move j->cur past copied tables; true if the job is done. */
static bool job_skip(struct fm_job *j)
{
	while (j->cur < j->n && j->tab[j->cur].copied)
		j->cur++;
	return j->cur == j->n;
}

static void next_done(struct fm_state *fm)
{
	fm->next_done = UINT64_MAX;
	for (uint32_t i = 0; i < fm->njob; i++)
		if (fm->job[i].tab[fm->job[i].cur].done < fm->next_done)
			fm->next_done = fm->job[i].tab[fm->job[i].cur].done;
}

/* The children's background copies up to time ts. */
static void jobs_advance(struct sim_engine *e, uint64_t ts)
{
	struct fm_state *fm = &e->fm;

	for (uint32_t i = 0; i < fm->njob;) {
		struct fm_job *j = &fm->job[i];
		for (; j->cur < j->n && j->tab[j->cur].done <= ts; j->cur++)
			if (!j->tab[j->cur].copied)
				job_copy(e, j, j->cur, false);
		if (job_skip(j))
			job_end(e, i);
		else
			i++;
	}
	next_done(fm);
}

/* The tables of [first, last] of job ji still to copy are copied now, by
 * the parent or by the child; settle: every one left. */
static void job_settle(struct sim_engine *e, uint32_t ji, uint64_t first,
                       uint64_t last, bool by_parent)
{
	struct fm_job *j = &e->fm.job[ji];
	uint32_t lo = j->cur, hi = j->n;

	while (lo < hi) {   /* the first table >= first: keys ascend */
		uint32_t mid = lo + (hi - lo) / 2;
		if (j->tab[mid].key < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < j->n && j->tab[i].key <= last; i++)
		if (!j->tab[i].copied)
			job_copy(e, j, i, by_parent);
}

/* mm is about to change [start, end): every job it is parent or child of
 * copies the tables there first.  Returns with ended jobs removed. */
static void jobs_touch(struct sim_engine *e, struct sim_mm *mm,
                       uint64_t start, uint64_t end)
{
	struct fm_state *fm = &e->fm;
	uint32_t mi = (uint32_t)(mm - e->mm);

	if (start >= end)
		return;
	for (uint32_t i = 0; i < fm->njob;) {
		struct fm_job *j = &fm->job[i];
		if (j->parent == mi || j->child == mi)
			job_settle(e, i, start >> PT_SHIFT, (end - 1) >> PT_SHIFT,
			           j->parent == mi);
		if (job_skip(j))
			job_end(e, i);
		else
			i++;
	}
	next_done(fm);
}

/* ------------------------------------------------------------------ */
/* the engine's hooks                                                  */

int fm_fork_table(struct sim_engine *e, struct sim_mm *parent,
                  struct sim_mm *child, uint64_t pg, uint64_t ptes,
                  uint32_t copies, struct sim_fork_rec *rec)
{
	struct fm_state *fm = &e->fm;
	uint64_t table = pg >> PT_SHIFT;
	int err;

	if (e->cfg->fork_mode == FORK_ASYNC) {
		/* Two areas in one table: one entry, copied at once. */
		if (fm->nbuild && fm->build[fm->nbuild - 1].key == table) {
			fm->build[fm->nbuild - 1].ptes += (uint32_t)ptes;
			fm->build[fm->nbuild - 1].copies += (uint16_t)copies;
		} else {
			if (grow_raw(e, (void **)&fm->build, &fm->capbuild,
			             (size_t)fm->nbuild + 1, sizeof(*fm->build), false))
				return -ENOMEM;
			fm->build[fm->nbuild++] = (struct fm_tab){
				.key = table, .ptes = (uint32_t)ptes,
				.copies = (uint16_t)copies };
			rec->pt_deferred++;
			e->m.fm_pt_deferred++;
			pt_virt_add(&e->pt, 1);
		}
		rec->ptes_deferred += ptes;
		rec->copies_deferred += copies;
		return 0;
	}
	/* on-demand */
	if (u64map_get(&fm->share, fm_key(child, table))) {
		rec->ptes_deferred += ptes;   /* a second area of a shared table */
		return 0;
	}
	if (copies) {
		e->m.fm_pt_fork_fallback++;
		return 0;
	}
	uint32_t s;
	const uint32_t *v = u64map_get(&fm->share, fm_key(parent, table));
	if (v) {
		s = *v;
	} else {
		if ((err = share_new(e, &s)))
			return err;
		if ((err = u64map_set(e, &fm->share, fm_key(parent, table), s))) {
			share_free(e, s);
			return err;
		}
		fm->sh[s].count = 1;
		parent->fm_shared++;
	}
	if ((err = u64map_set(e, &fm->share, fm_key(child, table), s)))
		return err;
	fm->sh[s].count++;
	child->fm_shared++;
	pt_virt_add(&e->pt, 1);
	rec->pt_deferred++;
	rec->ptes_deferred += ptes;
	e->m.fm_pt_deferred++;
	return 0;
}

int fm_fork_end(struct sim_engine *e, uint32_t pmi, uint32_t cmi,
                uint32_t fork, struct sim_fork_rec *rec)
{
	struct fm_state *fm = &e->fm;
	bool async = e->cfg->fork_mode == FORK_ASYNC;

	rec->latency_ns = (uint64_t)cost_fork_deferred(&e->cfg->cost, rec, !async);
	e->m.ptes_copied -= rec->ptes_deferred;
	e->m.pt_pages_copied -= rec->pt_deferred;
	if (!async || !fm->nbuild)
		return 0;
	if (fm->njob == fm->capjob &&
	    grow(e, (void **)&fm->job, &fm->capjob, (size_t)fm->njob + 1,
	         sizeof(*fm->job)))
		return -ENOMEM;
	struct fm_tab *tab = malloc(fm->nbuild * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	acct(e, (int64_t)(fm->nbuild * sizeof(*tab)));
	/* The child starts copying when fork returns, one table after the
	 * other, each at the price fork would have paid for it. */
	double t = (double)(rec->ts + rec->latency_ns);
	for (uint32_t i = 0; i < fm->nbuild; i++) {
		tab[i] = fm->build[i];
		t += cost_pt_copy(&e->cfg->cost, tab[i].ptes, tab[i].copies);
		tab[i].done = (uint64_t)t;
	}
	fm->job[fm->njob++] = (struct fm_job){ .parent = pmi, .child = cmi,
		.fork = fork, .n = fm->nbuild, .tab = tab };
	fm->nbuild = 0;
	e->mm[pmi].fm_jobs++;
	e->mm[cmi].fm_jobs++;
	fm->live++;
	if (tab[0].done < fm->next_done || fm->njob == 1)
		fm->next_done = tab[0].done;
	return 0;
}

void fm_event(struct sim_engine *e, struct sim_mm *mm, const struct cs_ev *ev)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;
	bool unmap = false;

	if (e->fm.njob && ev->ts >= e->fm.next_done)
		jobs_advance(e, ev->ts);
	if (!mm->fm_shared && !mm->fm_jobs)
		return;
	switch ((enum ev_type)ev->type) {
	case EV_FAULT: {
		/* A read of a present page changes nothing; every other fault
		 * fills or changes the entry (a shared table is write-protected
		 * at the PMD, so any write faults). */
		const uint64_t *ptep = pte_ptr(e, mm, start, false);
		if (!ptep || (!(ev->flags & EV_PF_WRITE) && (*ptep & PTE_P)))
			return;
		end = start + 1;
		break;
	}
	case EV_MMAP: {
		/* Only a mapping over existing areas (MAP_FIXED) unmaps
		 * anything; a new one changes no entry until it is touched. */
		size_t i = vma_lower_bound(&mm->vmas, start);
		if (i == mm->vmas.n || mm->vmas.v[i].start >= end)
			return;
		unmap = true;
		break;
	}
	case EV_MUNMAP:
		unmap = true;
		break;
	case EV_MREMAP:      /* the old range loses its entries */
		unmap = true;
		break;
	case EV_BRK: {
		uint64_t nbrk = (ev->addr + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
		uint64_t obrk = ev->aux ? (ev->aux + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT
		                        : mm->brk;
		if (!nbrk || nbrk >= obrk)
			return;
		start = nbrk;
		end = obrk;
		unmap = true;
		break;
	}
	case EV_MPROTECT:
	case EV_MADVISE:
	case EV_GUP:
	case EV_SWAPOUT:
	case EV_KSM:
	case EV_MIGRATE:
	case EV_PAGE_INIT:
		break;
	case EV_FORK:
		/* A further fork write-protects the parent's entries: an async
		 * parent synchronises first, an async child finishes its copy
		 * (it forks from user space, after its copy).  Shared tables
		 * are shared once more (fm_fork_table()). */
		if (ev->flags & EV_CLONE_VM)
			return;
		start = 0;
		end = EV_USER_TOP >> EV_PAGE_SHIFT;
		if (mm->fm_jobs)
			jobs_touch(e, mm, start, end);
		return;
	default:
		return;
	}
	if (mm->fm_shared)
		share_settle(e, mm, start, end, unmap);
	if (mm->fm_jobs)
		jobs_touch(e, mm, start, end);
}

void fm_mm_gone(struct sim_engine *e, struct sim_mm *mm)
{
	uint64_t top = EV_USER_TOP >> EV_PAGE_SHIFT;
	uint32_t mi = (uint32_t)(mm - e->mm);

	if (mm->fm_jobs) {
		/* A parent's exit_mmap() changes every entry: it synchronises
		 * first.  A child that dies stops copying: the tables it had
		 * not copied are freed without ever having existed. */
		for (uint32_t i = 0; i < e->fm.njob;) {
			struct fm_job *j = &e->fm.job[i];
			if (j->child == mi) {
				for (uint32_t k = j->cur; k < j->n; k++)
					if (!j->tab[k].copied)
						e->pt.virt--;
				job_end(e, i);
				continue;
			}
			if (j->parent == mi)
				job_settle(e, i, 0, top, true);
			if (job_skip(j))
				job_end(e, i);
			else
				i++;
		}
		next_done(&e->fm);
	}
	if (mm->fm_shared)
		share_settle(e, mm, 0, top, true);
}

int fm_check(struct sim_engine *e, char *buf, size_t len)
{
	const struct fm_state *fm = &e->fm;
	uint64_t virt = 0, entries = 0, shared = 0;
	uint32_t live = fm->njob;

	for (uint32_t s = 1; s < fm->nsh; s++) {
		if (fm->sh[s].count) {
			virt += fm->sh[s].count - 1;
			live++;
		}
	}
	for (uint32_t i = 0; i < fm->njob; i++)
		for (uint32_t k = fm->job[i].cur; k < fm->job[i].n; k++)
			virt += !fm->job[i].tab[k].copied;
	for (uint32_t i = 1; i < e->nmm; i++)
		if (e->mm[i].users)
			shared += e->mm[i].fm_shared;
	for (size_t i = 0; i < fm->share.cap; i++)
		entries += fm->share.key[i] != 0;
	if (virt != e->pt.virt || live != fm->live || shared != entries) {
		snprintf(buf, len, "fork_mode ledger: %llu tables shared or not "
		         "yet copied, pt.virt %llu; %u records and jobs, live %u; "
		         "%llu sharer entries, mms count %llu",
		         (unsigned long long)virt, (unsigned long long)e->pt.virt,
		         live, fm->live, (unsigned long long)entries,
		         (unsigned long long)shared);
		return -EINVAL;
	}
	return 0;
}

void fm_free(struct sim_engine *e)
{
	struct fm_state *fm = &e->fm;

	for (uint32_t i = 0; i < fm->njob; i++)
		free(fm->job[i].tab);
	free(fm->job);
	free(fm->sh);
	free(fm->build);
	u64map_free(&fm->share);
	memset(fm, 0, sizeof(*fm));
}
