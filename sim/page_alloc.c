/*
 * page_alloc.c - physical frames: allocation, the free stack, freeing
 * (mm/page_alloc.c; frame_put() is put_page(), frame_free() the free it
 * ends in).
 *
 * A frame is struct sim_frame (engine.h), 16 bytes, in one array that grows
 * by doubling.  Free frames sit on a dense stack of indices and are handed
 * out last-freed first: popping reads that stack, not the cold frame, and
 * the frame it yields is the likeliest still in cache.  The hot part -
 * frame_take(), frame_get(), frame_put() - is inline in internal.h, as the
 * fault path runs it for every new page.
 */
#include "internal.h"

#include <assert.h>
#include <errno.h>

/* A never-used frame, growing the array (and the free stack with it). */
int frame_grow(struct sim_engine *e, uint32_t *out)
{
	if (e->nfr == e->capfr &&
	    grow_raw(e, (void **)&e->fr, &e->capfr, (size_t)e->nfr + 1,
	             sizeof(*e->fr), false))
		return -ENOMEM;
	if (e->capfree < e->capfr &&
	    grow_raw(e, (void **)&e->free_fr, &e->capfree, e->capfr,
	             sizeof(*e->free_fr), false))
		return -ENOMEM;
	*out = e->nfr++;
	return 0;
}

/* A new frame with these flags and content stamp, no references yet.
 * Returns 0 or -ENOMEM. */
int frame_alloc(struct sim_engine *e, uint16_t flags, uint32_t owner,
                uint32_t *out)
{
	int err = frame_take(e, flags & FR_ANON, out);
	if (err)
		return err;
	e->fr[*out] = (struct sim_frame){ .flags = flags | FR_USED, .owner = owner };
	return 0;
}

/* Frame f's last reference is gone: back on the free stack. */
void frame_free(struct sim_engine *e, uint32_t f)
{
	struct sim_frame *fr = &e->fr[f];

	assert(f != 0 && fr->ref == 0 && fr->map == 0 &&
	       !(fr->flags & FR_GUPREF));
	assert(!(fr->flags & (FR_INSWAP | FR_BATCH)));
	if (fr->flags & FR_KSM)
		ksm_forget(e, f);
	if (fr->flags & FR_ANON)
		e->anon_frames--;
	e->frames_used--;
	fr->flags = 0;
	/* The stack never outgrows the frame array it indexes, and is grown
	 * along with it in frame_grow(), so this push cannot fail. */
	e->free_fr[e->nfree++] = f;
}
