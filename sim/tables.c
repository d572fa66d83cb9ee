/*
 * tables.c - the engine's growth helper and its hash tables: u64 -> u32
 * maps (page cache, pfn index) and the side tables of frames (engine.h,
 * struct sim_side).
 *
 * Not kernel code: the kernel has an xarray, a swap map and struct page
 * fields where the engine needs these.  They live apart from the mm/ files
 * so that those read as the kernel does, and every byte they allocate is
 * counted with acct() (internal.h), as the engine's memory is one of its
 * results (sim_memory_bytes()).  Arrays big enough to matter get huge pages
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
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX)
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

int grow(struct sim_engine *e, void **arr, uint32_t *cap, size_t need,
         size_t sz)
{
	return grow_raw(e, arr, cap, need, sz, true);
}

/* ------------------------------------------------------------------ */
/* u64 -> u32 open-addressing maps (page cache, pfn index)             */

int u64map_put(struct sim_engine *e, uint64_t **keys, uint32_t **vals,
               uint32_t *cap, uint32_t *n, uint64_t key, uint32_t val)
{
	if ((*n + 1) * 2 > *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 1024;
		uint64_t *nk = calloc(ncap, sizeof(*nk));
		uint32_t *nv = calloc(ncap, sizeof(*nv));
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < *cap; i++) {
			if (!(*vals)[i])
				continue;
			uint32_t h = hash64((*keys)[i]) & (ncap - 1);
			while (nv[h])
				h = (h + 1) & (ncap - 1);
			nk[h] = (*keys)[i];
			nv[h] = (*vals)[i];
		}
		acct(e, (int64_t)(ncap - *cap) *
		        (int64_t)(sizeof(*nk) + sizeof(*nv)));
		free(*keys);
		free(*vals);
		*keys = nk;
		*vals = nv;
		*cap = ncap;
	}
	uint32_t h = hash64(key) & (*cap - 1);
	while ((*vals)[h] && (*keys)[h] != key)
		h = (h + 1) & (*cap - 1);
	if (!(*vals)[h])
		(*n)++;
	(*keys)[h] = key;
	(*vals)[h] = val + 1;
	return 0;
}

/* Value for key, or NO_FRAME. */
uint32_t u64map_get(uint64_t *keys, uint32_t *vals, uint32_t cap,
                    uint64_t key)
{
	if (!cap)
		return NO_FRAME;
	uint32_t h = hash64(key) & (cap - 1);
	while (vals[h]) {
		if (keys[h] == key)
			return vals[h] - 1;
		h = (h + 1) & (cap - 1);
	}
	return NO_FRAME;
}

/* ------------------------------------------------------------------ */
/* side tables of frames (engine.h, struct sim_side)                   */

static int side_rehash(struct sim_engine *e, struct sim_side *s, uint32_t cap)
{
	uint32_t *k = calloc(cap, sizeof(*k)), *v = calloc(cap, sizeof(*v));
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < s->cap; i++) {
		if (!s->key[i])
			continue;
		uint32_t h = hash32(s->key[i] - 1) & (cap - 1);
		while (k[h])
			h = (h + 1) & (cap - 1);
		k[h] = s->key[i];
		v[h] = s->val[i];
	}
	acct(e, ((int64_t)cap - s->cap) * (int64_t)(sizeof(*k) + sizeof(*v)));
	free(s->key);
	free(s->val);
	s->key = k;
	s->val = v;
	s->cap = cap;
	return 0;
}

/* Set frame f's value to v (nonzero).  Fails (-ENOMEM) only when f had no
 * value yet. */
int side_set(struct sim_engine *e, struct sim_side *s, uint32_t f,
             uint32_t v)
{
	assert(v);
	if ((s->n + 1) * 2 > s->cap) {
		if (sim_side_get(s, f)) {
			/* An update needs no room. */
		} else {
			int err = side_rehash(e, s, s->cap ? s->cap * 2 : 64);
			if (err)
				return err;
		}
	}
	uint32_t h = hash32(f) & (s->cap - 1);
	while (s->key[h] && s->key[h] != f + 1)
		h = (h + 1) & (s->cap - 1);
	if (!s->key[h])
		s->n++;
	s->key[h] = f + 1;
	s->val[h] = v;
	return 0;
}

/* Drop frame f's value, if it has one (backward-shift deletion). */
void side_del(struct sim_side *s, uint32_t f)
{
	if (!s->cap)
		return;
	uint32_t mask = s->cap - 1, h = hash32(f) & mask;
	while (s->key[h] != f + 1) {
		if (!s->key[h])
			return;
		h = (h + 1) & mask;
	}
	s->n--;
	for (;;) {
		s->key[h] = 0;
		uint32_t j = h;
		for (;;) {
			j = (j + 1) & mask;
			if (!s->key[j])
				return;
			uint32_t home = hash32(s->key[j] - 1) & mask;
			/* Can the entry at j move back to h? */
			if ((j > h && (home <= h || home > j)) ||
			    (j < h && (home <= h && home > j)))
				break;
		}
		s->key[h] = s->key[j];
		s->val[h] = s->val[j];
		h = j;
	}
}

void side_free(struct sim_side *s)
{
	free(s->key);
	free(s->val);
}
