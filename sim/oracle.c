/*
 * oracle.c - correctness judgments, the same for every policy, and the
 * brute-force invariant checker.
 *
 * The oracle never influences a replay; it watches three moments:
 *
 *  leak          an address space gains write access to a page while some
 *                other address space holds a GUP reference to it.  Whatever
 *                the writer now stores is visible through that reference:
 *                "data written by one process after fork becoming visible to
 *                another through a GUP reference" (cow.c's "No leak from
 *                parent into child" / "... child into parent").  Counted once
 *                per GUP reference.
 *  lost pin      an address space's PTE stops mapping a page it has pinned
 *                (FOLL_PIN) because a COW copy replaced it: the pin now
 *                reads and writes a page the process no longer sees (cow.c's
 *                "Longterm R/O pin is reliable", "... R/W pin ...").  Counted
 *                once per pin.
 *  unnecessary   a COW copy at fault of a page that the faulting address
 *  copy          space alone mapped, that no swap entry named and no GUP
 *                reference held: nothing could have observed a reuse.  Only
 *                anon->anon copies can be unnecessary; KSM pages are always
 *                copied by design and are not counted.
 *
 * Judgments scan the live GUP handles, which are few; the frame's own GUP
 * count makes the common case (no GUP reference at all) a single test.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool handle_refs(const struct sim_gup *h, uint32_t f)
{
	for (uint32_t i = 0; i < h->npages; i++)
		if (h->frames[2 * i] == f && h->frames[2 * i + 1])
			return true;
	return false;
}

void oracle_leak_check(struct sim_engine *e, const struct sim_mm *mm,
                       uint32_t f)
{
	if (!(e->fr[f].flags & FR_ANON))
		return;
	for (uint32_t g = 0; g < e->ngup; g++) {
		struct sim_gup *h = &e->gup[g];
		if (!h->live || h->leaked || h->mm_id == mm->id)
			continue;
		if (handle_refs(h, f)) {
			h->leaked = 1;
			e->m.leaks++;
		}
	}
}

void oracle_cow_replaced(struct sim_engine *e, const struct sim_mm *mm,
                         uint64_t pg, uint32_t old)
{
	if (!(e->fr[old].flags & FR_GUPREF))
		return;
	for (uint32_t g = 0; g < e->ngup; g++) {
		struct sim_gup *h = &e->gup[g];
		if (!h->live || h->lost || h->mm_id != mm->id ||
		    !(h->flags & EV_GUP_PIN) || pg < h->start ||
		    pg >= h->start + h->npages)
			continue;
		uint64_t i = pg - h->start;
		if (h->frames[2 * i] == old && h->frames[2 * i + 1]) {
			h->lost = 1;
			e->m.lost_pins++;
		}
	}
}

void oracle_copy(struct sim_engine *e, uint32_t old)
{
	const struct sim_frame *fr = &e->fr[old];

	if (fr->map == 1 && !fr->phantom && !(fr->flags & FR_GUPREF) &&
	    !(fr->flags & FR_KSM) && sim_swapcount(e, old) == 0)
		e->m.unnecessary_copies++;
}

/* ------------------------------------------------------------------ */

int sim_page_state(struct sim_engine *e, uint32_t tid, uint64_t addr,
                   struct sim_page_state *st)
{
	uint32_t t = 0;

	for (uint32_t i = 0; i < e->ntask; i++)
		if (e->task[i].tid == tid)
			t = i + 1;
	if (!t)
		return -ENOENT;
	struct sim_mm *mm = &e->mm[e->task[t - 1].mm];
	uint64_t pg = addr >> EV_PAGE_SHIFT;
	uint32_t n = 0;
	uint32_t tbl = pt_pte_table(&e->pt, mm->pgd, pg, false, &n);
	if (!tbl)
		return -ENOENT;
	uint64_t pte = pt_table(&e->pt, tbl)[pg & (PT_ENTRIES - 1)];
	if (!pte)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	if (!(pte & PTE_P)) {
		const struct sim_slot *s = &e->slot[pte_idx(pte)];
		st->swapped = 1;
		st->swp_exclusive = (pte & PTE_SWPX) != 0;
		st->frame = s->frame;
		if (!s->frame)
			return 0;
	} else {
		st->present = 1;
		st->writable = (pte & PTE_W) != 0;
		st->frame = pte_idx(pte);
	}
	const struct sim_frame *fr = &e->fr[st->frame];
	st->ref = fr->ref;
	st->map = fr->map;
	st->gup = sim_frame_gup(e, st->frame);
	st->anon = (fr->flags & FR_ANON) != 0;
	st->exclusive = (fr->flags & FR_EXCL) != 0;
	st->in_swapcache = (fr->flags & FR_INSWAP) != 0;
	st->in_batch = (fr->flags & FR_BATCH) != 0;
	st->ksm = (fr->flags & FR_KSM) != 0;
	st->file = (fr->flags & FR_FILE) != 0;
	st->owner = fr->owner;
	return 0;
}

/* ------------------------------------------------------------------ */
/* sim_check(): recompute every count from scratch and compare.        */

#define FAIL(...) do { snprintf(buf, len, __VA_ARGS__); err = -EINVAL; goto out; } while (0)

int sim_check(struct sim_engine *e, char *buf, size_t len)
{
	uint64_t *ref = calloc(e->nfr ? e->nfr : 1, sizeof(*ref));
	uint32_t *map = calloc(e->nfr ? e->nfr : 1, sizeof(*map));
	uint32_t *gup = calloc(e->nfr ? e->nfr : 1, sizeof(*gup));
	uint32_t *sc = calloc(e->nslot ? e->nslot : 1, sizeof(*sc));
	int err = 0;
	uint64_t resident = 0, used = 0, anon = 0, ngupref = 0, ninswap = 0;

	if (!ref || !map || !gup || !sc) {
		snprintf(buf, len, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 1; i < e->nmm; i++) {
		struct sim_mm *mm = &e->mm[i];
		if (!mm->users)
			continue;
		if (vma_set_check(&mm->vmas))
			FAIL("mm %u: VMA set out of order or unmerged", mm->id);
		uint64_t rss = 0, pg = 0, end = EV_USER_TOP >> EV_PAGE_SHIFT;
		uint32_t t;
		while ((t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
			const uint64_t *tbl = pt_table(&e->pt, t);
			uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
			for (; pg < stop; pg++) {
				uint64_t pte = tbl[pg & (PT_ENTRIES - 1)];
				if (!pte)
					continue;
				struct vma *v = vma_find(&mm->vmas, pg);
				if (pte & PTE_P) {
					uint32_t f = pte_idx(pte);
					rss++;
					if (f >= e->nfr || !(e->fr[f].flags & FR_USED))
						FAIL("mm %u page 0x%" PRIx64 ": PTE names free frame %u",
						     mm->id, pg, f);
					if (!v)
						FAIL("mm %u page 0x%" PRIx64 ": present PTE outside any VMA",
						     mm->id, pg);
					if (f)
						map[f]++;
					if ((pte & PTE_W) && !(v->flags & VMA_SHARED)) {
						const struct sim_frame *fr = &e->fr[f];
						if (!f || fr->map != 1 || !(fr->flags & FR_EXCL) ||
						    !(fr->flags & FR_ANON))
							FAIL("mm %u page 0x%" PRIx64 ": writable private PTE on "
							     "frame %u (map %u, flags 0x%x)", mm->id, pg, f,
							     fr->map, fr->flags);
					}
				} else {
					uint32_t s = pte_idx(pte);
					if (!(pte & PTE_SWP) || s >= e->nslot)
						FAIL("mm %u page 0x%" PRIx64 ": bad swap PTE", mm->id, pg);
					sc[s]++;
				}
			}
		}
		if (rss != mm->rss)
			FAIL("mm %u: rss %" PRIu64 " but %" PRIu64 " present PTEs", mm->id,
			     mm->rss, rss);
		resident += rss;
	}
	if (resident != e->resident)
		FAIL("resident %" PRIu64 " but %" PRIu64 " present PTEs", e->resident,
		     resident);

	for (uint32_t g = 0; g < e->ngup; g++) {
		const struct sim_gup *h = &e->gup[g];
		if (!h->live)
			continue;
		for (uint32_t i = 0; i < h->npages; i++) {
			uint32_t f = h->frames[2 * i], n = h->frames[2 * i + 1];
			if (f == NO_FRAME || !n)
				continue;
			ref[f] += (uint64_t)n * h->inc;
			gup[f] += n;
		}
	}
	for (uint32_t c = 0; c < e->ncpu; c++) {
		const uint32_t *b = e->batch + (size_t)c * e->cfg->lru_batch;
		for (uint32_t i = 0; i < e->batch_n[c]; i++) {
			const struct sim_frame *fr = &e->fr[b[i]];
			if (!(fr->flags & FR_BATCH) || fr->cpu != c)
				FAIL("frame %u in CPU %u's batch without the batch flag", b[i], c);
			ref[b[i]]++;
		}
	}
	for (uint32_t f = 1; f < e->nfr; f++) {
		const struct sim_frame *fr = &e->fr[f];
		if (!(fr->flags & FR_USED))
			continue;
		used++;
		if (fr->flags & FR_ANON)
			anon++;
		uint64_t want = ref[f] + map[f] + fr->phantom +
		                ((fr->flags & FR_INSWAP) ? 1 : 0) +
		                ((fr->flags & FR_FILE) ? 1 : 0);
		if (fr->map != map[f] + fr->phantom)
			FAIL("frame %u: mapcount %u but %u PTEs (+%u phantom)", f, fr->map,
			     map[f], fr->phantom);
		if (fr->ref != want)
			FAIL("frame %u: refcount %u but %" PRIu64 " references", f, fr->ref,
			     want);
		if (sim_frame_gup(e, f) != gup[f])
			FAIL("frame %u: %u GUP refs counted, handles hold %u", f,
			     sim_frame_gup(e, f), gup[f]);
		if ((fr->flags & FR_GUPREF) && !sim_side_val(&e->gupof, f))
			FAIL("frame %u: GUP flag without a count", f);
		if (!(fr->flags & FR_GUPREF) && sim_side_val(&e->gupof, f))
			FAIL("frame %u: GUP count without the flag", f);
		if (!(fr->flags & FR_INSWAP) && sim_side_val(&e->swapof, f))
			FAIL("frame %u: swap slot without the swap-cache flag", f);
		ngupref += (fr->flags & FR_GUPREF) != 0;
		ninswap += (fr->flags & FR_INSWAP) != 0;
		if ((fr->flags & FR_INSWAP) &&
		    (!sim_frame_swap(e, f) || e->slot[sim_frame_swap(e, f)].frame != f))
			FAIL("frame %u: swap slot %u does not point back", f,
			     sim_frame_swap(e, f));
		if ((fr->flags & FR_BATCH) && (fr->flags & FR_LRU))
			FAIL("frame %u: both in a batch and on the LRU", f);
	}
	if (e->fr[0].ref != ref[0])
		FAIL("zero page: refcount %u but GUP holds %" PRIu64, e->fr[0].ref,
		     ref[0]);
	ngupref += (e->fr[0].flags & FR_GUPREF) != 0;   /* GUP of the zero page */
	if (sim_frame_gup(e, 0) != gup[0])
		FAIL("zero page: %u GUP refs counted, handles hold %u",
		     sim_frame_gup(e, 0), gup[0]);
	if (ngupref != e->gupof.n || ninswap != e->swapof.n)
		FAIL("side tables: %u GUP counts for %" PRIu64 " frames, %u swap slots "
		     "for %" PRIu64 " frames", e->gupof.n, ngupref, e->swapof.n,
		     ninswap);
	if (used != e->frames_used || anon != e->anon_frames)
		FAIL("frame accounting: %" PRIu64 "/%" PRIu64 " counted, %" PRIu64
		     "/%" PRIu64 " found", e->frames_used, e->anon_frames, used, anon);
	for (uint32_t s = 1; s < e->nslot; s++) {
		const struct sim_slot *sl = &e->slot[s];
		if (sl->count != sc[s])
			FAIL("swap slot %u: count %u but %u swap PTEs", s, sl->count, sc[s]);
	}
	err = proc_check(e, buf, len);
	if (!err)
		err = fm_check(e, buf, len);
out:
	free(ref);
	free(map);
	free(gup);
	free(sc);
	return err;
}
