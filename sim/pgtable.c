/*
 * pgtable.c - page-table page pool and walks (see pgtable.h).
 *
 * Walks are written per level rather than with a generic visitor: fork and
 * munmap walk sparse ranges of large address spaces and must skip empty
 * upper-level entries in O(1) each, while the fault path only ever needs the
 * PTE table of one address (and the engine caches that).
 */
#include "pgtable.h"
#include "hugemem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define PT_TOP_LEVEL 3u
/* An upper-level entry: (table index << PT_UPPER_SHIFT) | PT_UPPER_PRESENT. */
#define PT_UPPER_SHIFT   12
#define PT_UPPER_PRESENT 1u

void pt_pool_init(struct pt_pool *p)
{
	memset(p, 0, sizeof(*p));
	p->next = 1;    /* index 0 means "no table" */
}

void pt_pool_free(struct pt_pool *p)
{
	for (uint32_t i = 0; i < p->nchunks; i++)
		free(p->chunk[i]);
	free(p->chunk);
	memset(p, 0, sizeof(*p));
}

uint32_t pt_alloc(struct pt_pool *p)
{
	uint32_t idx;

	if (p->free_head) {
		idx = p->free_head;
		uint64_t *t = pt_table(p, idx);
		p->free_head = (uint32_t)t[0];
		memset(t, 0, PT_ENTRIES * sizeof(*t));
	} else {
		idx = p->next;
		uint32_t c = idx >> PT_CHUNK_SHIFT;
		if (c >= p->nchunks) {
			if (c >= p->capchunks) {
				uint32_t cap = p->capchunks ? p->capchunks * 2 : 16;
				uint64_t **n = realloc(p->chunk, cap * sizeof(*n));
				if (!n)
					return 0;
				p->chunk = n;
				p->capchunks = cap;
			}
			p->chunk[c] = huge_alloc((size_t)PT_CHUNK_TABLES *
			                         PT_ENTRIES * sizeof(uint64_t));
			if (!p->chunk[c])
				return 0;
			p->nchunks = c + 1;
		}
		p->next++;
		memset(pt_table(p, idx), 0, PT_ENTRIES * sizeof(uint64_t));
	}
	if (++p->live - p->virt > p->peak)
		p->peak = p->live - p->virt;
	return idx;
}

void pt_free(struct pt_pool *p, uint32_t idx)
{
	assert(idx && idx < p->next);
	pt_table(p, idx)[0] = p->free_head;
	p->free_head = idx;
	p->live--;
}

static inline uint32_t pt_child(uint64_t e)
{
	return (uint32_t)(e >> PT_UPPER_SHIFT);
}

uint32_t pt_pte_table(struct pt_pool *p, uint32_t root, uint64_t pg,
                      bool alloc, uint32_t *nalloc)
{
	uint32_t tbl = root;

	for (unsigned lvl = PT_TOP_LEVEL; lvl > 0; lvl--) {
		uint64_t *t = pt_table(p, tbl);
		unsigned i = pt_index(pg, lvl);
		if (!t[i]) {
			if (!alloc)
				return 0;
			uint32_t n = pt_alloc(p);
			if (!n)
				return 0;
			/* pt_alloc never moves chunks, so t is still valid. */
			t[i] = ((uint64_t)n << PT_UPPER_SHIFT) |
			       PT_UPPER_PRESENT;
			(*nalloc)++;
		}
		tbl = pt_child(t[i]);
	}
	return tbl;
}

/* Table tbl at level lvl covers pages [base, base + PT_ENTRIES * span(lvl)). */
static uint32_t pt_find(struct pt_pool *p, uint32_t tbl, unsigned lvl,
                        uint64_t base, uint64_t *pg, uint64_t end)
{
	const uint64_t *t = pt_table(p, tbl);
	unsigned shift = PT_SHIFT * lvl;
	unsigned i = *pg > base ? (unsigned)((*pg - base) >> shift) : 0;

	for (; i < PT_ENTRIES; i++) {
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (ebase >= end)
			return 0;
		if (!t[i])
			continue;
		uint64_t from = *pg > ebase ? *pg : ebase;
		if (lvl == 1) {
			*pg = from;
			return pt_child(t[i]);
		}
		uint64_t save = *pg;
		*pg = from;
		uint32_t r = pt_find(p, pt_child(t[i]), lvl - 1, ebase, pg, end);
		if (r)
			return r;
		*pg = save;
	}
	return 0;
}

uint32_t pt_next_pte_table(struct pt_pool *p, uint32_t root, uint64_t *pg,
                           uint64_t end)
{
	if (*pg >= end)
		return 0;
	return pt_find(p, root, PT_TOP_LEVEL, 0, pg, end);
}

static uint32_t pt_free_level(struct pt_pool *p, uint32_t tbl, unsigned lvl);

#ifndef NDEBUG
static bool pt_empty(const uint64_t *t)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}
#endif

static uint32_t pt_prune_level(struct pt_pool *p, uint32_t tbl, unsigned lvl,
                               uint64_t base, uint64_t start, uint64_t end)
{
	uint64_t *t = pt_table(p, tbl);
	unsigned shift = PT_SHIFT * lvl;
	uint64_t span = 1ull << shift;
	uint32_t freed = 0;
	unsigned i = start > base ? (unsigned)((start - base) >> shift) : 0;

	for (; i < PT_ENTRIES; i++) {
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (ebase >= end)
			break;
		if (!t[i])
			continue;
		uint32_t child = pt_child(t[i]);
		bool inside = ebase >= start && ebase + span <= end;
		if (lvl > 1 && !inside)
			freed += pt_prune_level(p, child, lvl - 1, ebase, start, end);
		if (inside) {
			/* No mapping can lie in a gap between areas, so every
			 * table wholly inside it is empty: free the subtree. */
			assert(lvl > 1 || pt_empty(pt_table(p, child)));
			freed += pt_free_level(p, child, lvl - 1);
			t[i] = 0;
			continue;
		}
	}
	return freed;
}

uint32_t pt_prune(struct pt_pool *p, uint32_t root, uint64_t start,
                  uint64_t end)
{
	if (start >= end)
		return 0;
	return pt_prune_level(p, root, PT_TOP_LEVEL, 0, start, end);
}

static uint32_t pt_free_level(struct pt_pool *p, uint32_t tbl, unsigned lvl)
{
	uint32_t n = 1;

	if (lvl > 0) {
		const uint64_t *t = pt_table(p, tbl);
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			if (t[i])
				n += pt_free_level(p, pt_child(t[i]), lvl - 1);
	}
	pt_free(p, tbl);
	return n;
}

uint32_t pt_root_free(struct pt_pool *p, uint32_t root)
{
	return pt_free_level(p, root, PT_TOP_LEVEL);
}
