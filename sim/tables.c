/*
 * tables.c - the engine's growth helper and the accounted inserts into its
 * hash tables: u64 -> u32 maps (page cache, pfn index) and the side tables
 * of frames (engine.h, struct sim_side).
 *
 * Not kernel code: the kernel has an xarray, a swap map and struct page
 * fields where the engine needs these.  The rules - how an array grows,
 * how a table probes and deletes - are lib/grow.h's and lib/hmap.h's; this
 * file adds what the engine needs on top: every byte is counted with
 * acct() (internal.h), as the engine's memory is one of its results
 * (sim_memory_bytes()), and arrays big enough to matter get huge pages
 * (hugemem.h).
 */
#include "internal.h"
#include "hugemem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* growth                                                              */

/* Grow *arr (element size sz, capacity *cap) to hold at least need
 * elements, zeroing the new tail unless the caller initialises every
 * element it hands out (frames).  Returns 0 or -ENOMEM. */
int grow_raw(struct sim_engine *e, void **arr, uint32_t *cap,
             size_t need, size_t sz, bool zero)
{
	if (need <= *cap)
		return 0;
	size_t ncap;
	if (grow_cap(*cap, need, 16, UINT32_MAX, sz, &ncap))
		return -ENOMEM;
	void *p;
	if (ncap * sz >= 2 * HUGE_SZ) {
		/* Not realloc(): it would mremap() the old 4 KiB pages into
		 * place, and only the new half would get huge pages. */
		p = huge_alloc(ncap * sz);
		if (!p)
			return -ENOMEM;
		if (*cap)
			memcpy(p, *arr, *cap * sz);
		free(*arr);
	} else {
		p = realloc(*arr, ncap * sz);
		if (!p)
			return -ENOMEM;
	}
	if (zero)
		memset((char *)p + *cap * sz, 0, (ncap - *cap) * sz);
	acct(e, (int64_t)((ncap - *cap) * sz));
	*arr = p;
	*cap = (uint32_t)ncap;
	return 0;
}

/* grow_raw() with the new tail zeroed. */
int grow(struct sim_engine *e, void **arr, uint32_t *cap, size_t need,
         size_t sz)
{
	return grow_raw(e, arr, cap, need, sz, true);
}

/* ------------------------------------------------------------------ */
/* accounted inserts into the tables of lib/hmap.h                     */

/* Set key's value in m.  Returns 0 or -ENOMEM. */
int u64map_set(struct sim_engine *e, struct u64map *m, uint64_t key,
               uint32_t val)
{
	size_t before = u64map_bytes(m);
	int err = u64map_put(m, key, val);
	if (err)
		return err;
	acct_growth(e, before, u64map_bytes(m));
	return 0;
}

/* Set frame f's value to v (nonzero).  Fails (-ENOMEM) only when f had no
 * value yet. */
int side_set(struct sim_engine *e, struct sim_side *s, uint32_t f, uint32_t v)
{
	assert(v);
	size_t before = sim_side_bytes(s);
	int err = sim_side_put(s, f, v);
	if (err)
		return err;
	acct_growth(e, before, sim_side_bytes(s));
	return 0;
}
