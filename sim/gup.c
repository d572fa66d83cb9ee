/*
 * gup.c - GUP references: get_user_pages() and pin_user_pages() and their
 * release (mm/gup.c __get_user_pages() -> faultin_page(), try_grab_folio(),
 * unpin_user_pages()).
 *
 * A GUP call is a handle from the stream (EV_GUP ... EV_GUP_PUT) holding
 * references on a range of pages: FOLL_GET adds 1 to the refcount per
 * reference, FOLL_PIN adds GUP_PIN_COUNTING_BIAS (3faa52c03f44, 5.7).
 * Before the reference, the policy says whether to break COW with a write
 * fault (17839856fd58, 5.8) or to unshare (a7f226604170, 5.19; 84209e87c696,
 * 6.2, for non-anonymous pages).  Refcount overflow is refused as
 * try_get_page() does from 5.1 (8fde12ca79af); pinning the zero page takes
 * no reference from 6.5 (c8070b787519).  A GUP-fast that raced a fork
 * (57efa1fe5957) takes its reference on what it read before the
 * write-protect.
 */
#include "internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

/* Set frame f's GUP reference count (FR_GUPREF and e->gupof).  Fails only
 * when f had none. */
static int frame_set_gup(struct sim_engine *e, uint32_t f, uint32_t n)
{
	if (!n) {
		sim_side_del(&e->gupof, f);
		e->fr[f].flags &= (uint16_t)~FR_GUPREF;
		return 0;
	}
	int err = side_set(e, &e->gupof, f, n);
	if (err)
		return err;
	e->fr[f].flags |= FR_GUPREF;
	return 0;
}

/* The live handle with this id, or NO_FRAME if none. */
static uint32_t gup_find(struct sim_engine *e, uint32_t id)
{
	uint32_t g = gup_index_find(&e->gix, e, id);
	return g ? g - 1 : NO_FRAME;
}

/* Index handle g.  Returns 0 or -ENOMEM. */
static int gix_add(struct sim_engine *e, uint32_t g)
{
	size_t before = gup_index_bytes(&e->gix);
	int err = gup_index_add(&e->gix, e, g + 1);
	if (err)
		return err;
	acct_growth(e, before, gup_index_bytes(&e->gix));
	return 0;
}

/* unpin_user_pages() / put_page() of every reference handle g holds; the
 * handle dies. */
void gup_release(struct sim_engine *e, uint32_t g)
{
	struct sim_gup *h = &e->gup[g];

	for (uint32_t i = 0; i < h->npages; i++) {
		uint32_t f = h->frames[2 * i];
		uint32_t refs = h->frames[2 * i + 1];
		if (f == NO_FRAME || !refs)
			continue;
		uint32_t g = sim_frame_gup(e, f);
		assert(g >= refs);
		frame_set_gup(e, f, g - refs);   /* a decrease: cannot fail */
		frame_put(e, f, refs * h->inc);
	}
	free(h->frames);
	acct(e, -(int64_t)h->npages * 2 * (int64_t)sizeof(*h->frames));
	h->frames = NULL;
	h->live = 0;
	e->live_gups--;
	/* Dead handles are swept when the array is compacted in gup_new(). */
}

/* Take up to refs references of inc each on frame f; *taken says how
 * many.  Returns 0 or -ENOMEM. */
static int gup_take(struct sim_engine *e, uint32_t f, uint64_t refs,
                    uint32_t inc, uint32_t *taken)
{
	struct sim_frame *fr = &e->fr[f];
	uint64_t room, cur = fr->ref;
	uint32_t gup = sim_frame_gup(e, f);

	if (e->cfg->gup_overflow_check)
		/* try_get_page()/try_grab_folio() (5.1, 8fde12ca79af): refuse a
		 * reference the refcount cannot hold without going negative. */
		room = cur < INT32_MAX ? (INT32_MAX - cur) / inc : 0;
	else
		room = cur < UINT32_MAX ? (UINT32_MAX - cur) / inc : 0;
	if (room > UINT32_MAX - gup)
		room = UINT32_MAX - gup;
	uint64_t k = refs < room ? refs : room;
	if (k < refs)
		e->m.gup_refused += refs - k;
	if (k) {
		uint64_t n = cur + k * inc;
		if (cur <= INT32_MAX && n > INT32_MAX)
			e->m.refcount_overflows++;
		int err = frame_set_gup(e, f, gup + (uint32_t)k);
		if (err)
			return err;
		fr = &e->fr[f];
		fr->ref = (uint32_t)n;
		if (fr->ref > e->m.max_refcount)
			e->m.max_refcount = fr->ref;
	}
	*taken = (uint32_t)k;
	return 0;
}

static int gup_new(struct sim_engine *e, uint32_t id, uint32_t *out)
{
	if (e->ngup == e->capgup && e->live_gups < e->ngup / 2) {
		/* Compact dead handles away before growing. */
		uint32_t w = 0;
		for (uint32_t g = 0; g < e->ngup; g++)
			if (e->gup[g].live)
				e->gup[w++] = e->gup[g];
		e->ngup = w;
		gup_index_clear(&e->gix);
		for (uint32_t g = 0; g < w; g++) {
			int err = gix_add(e, g);
			if (err)
				return err;
		}
	}
	if (e->ngup == e->capgup &&
	    grow(e, (void **)&e->gup, &e->capgup, (size_t)e->ngup + 1,
	         sizeof(*e->gup)))
		return -ENOMEM;
	uint32_t g = e->ngup++;
	e->gup[g] = (struct sim_gup){ .id = id, .live = 1 };
	e->live_gups++;
	int err = gix_add(e, g);
	if (err)
		return err;
	*out = g;
	return 0;
}

/* GUP on the page at pg: fault it in, break COW or unshare as the policy
 * says, then reference whatever is mapped.  Returns the frame or NO_FRAME
 * (no mapping: GUP stops there, as get_user_pages() returns short). */
static int gup_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                    uint32_t flags, bool raced, uint32_t *out)
{
	struct vma *vma = vma_find(&mm->vmas, pg);
	bool write = flags & EV_GUP_WRITE;
	enum sim_out o;
	int err;

	*out = NO_FRAME;
	if (!vma || (write && !(vma->flags & VMA_MAYWRITE)))
		return 0;
	uint64_t *ptep = pte_ptr(e, mm, pg, true);
	if (!ptep)
		return -ENOMEM;
	if (raced) {
		/* GUP-fast read the PTE before fork() write-protected it: the
		 * page looked writable and exclusive, so no fault, no unshare. */
		if (*ptep & PTE_P)
			*out = pte_idx(*ptep);
		return 0;
	}
	e->in_gup = 1;
	if (!(*ptep & PTE_P)) {
		/* faultin_page(): GUP faults through handle_mm_fault(), and no
		 * fault tracepoint fires for it. */
		if (!*ptep)
			err = fault_none(e, mm, vma, pg, ptep, write, &o);
		else
			err = fault_swap(e, mm, vma, pg, ptep, write, &o);
		if (err)
			goto out;
	}
	bool w = *ptep & PTE_W;
	enum pol_gup d = e->pol->gup(e, vma, pte_idx(*ptep), w, flags);
	if (d == POL_GUP_WRITE && !w) {
		e->m.gup_cow_breaks++;
		err = wp_fault(e, mm, vma, pg, ptep, !(vma->flags & VMA_WRITE), &o);
		if (err)
			goto out;
	} else if (d == POL_GUP_UNSHARE) {
		e->m.gup_unshares++;
		err = wp_fault(e, mm, vma, pg, ptep, true, &o);
		if (err)
			goto out;
	}
	*out = pte_idx(*ptep);
	err = 0;
out:
	e->in_gup = 0;
	return err;
}

/* EV_GUP: __get_user_pages() of ev->len pages for handle ev->arg.
 * Returns 0 or -ENOMEM. */
int ev_gup(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t mi = e->task[t - 1].mm;
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	uint64_t refs = ev->aux ? ev->aux : 1;
	bool pin = ev->flags & EV_GUP_PIN;
	bool raced = (ev->flags & EV_GUP_RACED) && e->race.kind == 2 &&
	             e->race.mm == mi && e->pol->gup_fast_races_fork(e);
	uint32_t g;
	int err;

	uint32_t old = gup_find(e, ev->arg);
	if (old != NO_FRAME)
		gup_release(e, old);    /* a handle id reused: the old one ended */
	err = gup_new(e, ev->arg, &g);
	if (err)
		return err;
	uint32_t *frames = malloc((size_t)ev->len * 2 * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	acct(e, (int64_t)ev->len * 2 * (int64_t)sizeof(*frames));
	struct sim_gup *h = &e->gup[g];
	h->mm_id = e->mm[mi].id;
	h->start = pg;
	h->npages = ev->len;
	h->flags = ev->flags;
	h->refs = refs;
	h->inc = pin && e->pin_bias > 1 ? e->pin_bias : 1;
	h->frames = frames;
	for (uint32_t i = 0; i < ev->len; i++)
		frames[2 * i] = NO_FRAME, frames[2 * i + 1] = 0;
	e->m.gups++;

	for (uint32_t i = 0; i < ev->len; i++) {
		uint32_t f;
		err = gup_page(e, &e->mm[mi], pg + i, ev->flags, raced, &f);
		if (err)
			return err;
		if (f == NO_FRAME) {
			e->m.gup_refused += ev->len - i;
			break;
		}
		h = &e->gup[g];
		if (f == 0 && pin && e->cfg->zero_page_pin_noref) {
			/* c8070b787519: pinning the zero page takes no ref. */
			e->m.gup_pages++;
			continue;
		}
		frames[2 * i] = f;
		err = gup_take(e, f, refs, h->inc, &frames[2 * i + 1]);
		if (err)
			return err;
		if (f && (e->fr[f].flags & FR_ANON))
			e->fr[f].flags |= FR_GUPPED;
		e->m.gup_pages++;
	}
	if (pin)
		e->mm[mi].has_pinned = true;
	return 0;
}

/* EV_GUP_PUT: the handle's references are released. */
void ev_gup_put(struct sim_engine *e, const struct cs_ev *ev)
{
	uint32_t g = gup_find(e, ev->arg);
	if (g == NO_FRAME) {
		e->m.unknown_handles++;
		return;
	}
	gup_release(e, g);
}
