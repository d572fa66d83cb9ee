/*
 * test_pgtable.c - page tables against a reference: a sorted list of the
 * pages that hold an entry.  Entries are set at random pages across the
 * whole 47-bit space; the walk (pt_next_pte_table) must visit exactly the
 * tables that hold them, in order; pruning a range must free exactly the
 * tables wholly inside it; the table count must always match what
 * allocation and freeing said.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/pgtable.h"

#define TOP (1ull << 35)   /* pages in 47 bits */

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	struct pt_pool pool;
	uint64_t seed = 7;
	uint64_t pages[4000];
	size_t n = 0;

	pt_pool_init(&pool);
	uint32_t root = pt_alloc(&pool);
	uint32_t ntables = 1;
	CHECK(root != 0);
	for (int i = 0; i < 4000; i++) {
		/* clustered: a few regions, as address spaces are */
		uint64_t base = (test_rand(&seed) % 8) << 30;
		uint64_t pg = (base + test_rand(&seed) % (1u << 20)) % TOP;
		uint32_t added = 0;
		uint32_t t = pt_pte_table(&pool, root, pg, true, &added);
		CHECK(t != 0);
		ntables += added;
		uint64_t *e = pt_table(&pool, t) + (pg & (PT_ENTRIES - 1));
		if (!*e) {
			*e = (pg << 12) | 1;
			pages[n++] = pg;
		}
		CHECK_EQ(pool.live, ntables);
		uint32_t again = 0;
		CHECK_EQ(pt_pte_table(&pool, root, pg, false, &again), t);
		CHECK_EQ(again, 0);
	}
	qsort(pages, n, sizeof(*pages), cmp);

	/* Walk: every entry is found, in order, and only those. */
	size_t seen = 0;
	uint64_t pg = 0;
	uint32_t t;
	while ((t = pt_next_pte_table(&pool, root, &pg, TOP))) {
		const uint64_t *tbl = pt_table(&pool, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		for (; pg < stop; pg++) {
			if (!tbl[pg & (PT_ENTRIES - 1)])
				continue;
			CHECK(seen < n);
			if (seen < n)
				CHECK_EQ(pg, pages[seen]);
			CHECK_EQ(tbl[pg & (PT_ENTRIES - 1)] >> 12, pg);
			seen++;
		}
	}
	CHECK_EQ(seen, n);

	/* Clear the entries of one 1 GiB region and prune it: its tables go,
	 * the others stay and are still reachable. */
	uint64_t lo = 3ull << 30, hi = 4ull << 30;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t dummy = 0;
		uint32_t tt = pt_pte_table(&pool, root, pages[i], false, &dummy);
		uint64_t *e = pt_table(&pool, tt) + (pages[i] & (PT_ENTRIES - 1));
		if (pages[i] >= lo && pages[i] < hi)
			*e = 0;
		else
			pages[kept++] = pages[i];
	}
	uint64_t before = pool.live;
	uint32_t freed = pt_prune(&pool, root, lo, hi);
	CHECK_EQ(pool.live, before - freed);
	CHECK(freed > 0);
	pg = lo;
	CHECK_EQ(pt_next_pte_table(&pool, root, &pg, hi), 0);
	seen = 0;
	pg = 0;
	while ((t = pt_next_pte_table(&pool, root, &pg, TOP))) {
		const uint64_t *tbl = pt_table(&pool, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		for (; pg < stop; pg++)
			seen += tbl[pg & (PT_ENTRIES - 1)] != 0;
	}
	CHECK_EQ(seen, kept);

	/* Freeing the root frees everything; the pool recycles tables. */
	uint32_t total = pt_root_free(&pool, root);
	CHECK_EQ(total, before - freed);
	CHECK_EQ(pool.live, 0);
	uint32_t again = pt_alloc(&pool);
	CHECK(again != 0);
	const uint64_t *z = pt_table(&pool, again);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		CHECK_EQ(z[i], 0);

	/* Tables a fork design shares or has not copied (virt) are not in
	 * the modeled count nor its peak; copying one later raises both. */
	pt_pool_free(&pool);
	pt_pool_init(&pool);
	uint32_t a = pt_alloc(&pool), b = pt_alloc(&pool), c = pt_alloc(&pool);
	CHECK(a && b && c);
	CHECK_EQ(pool.peak, 3);
	pt_virt_add(&pool, 2);               /* two of them shared */
	CHECK_EQ(pt_modeled(&pool), 1);
	uint32_t d = pt_alloc(&pool);        /* 4 live, 2 modeled */
	CHECK(d);
	CHECK_EQ(pt_modeled(&pool), 2);
	CHECK_EQ(pool.peak, 3);
	pt_virt_sub(&pool, 2);               /* both copied after all */
	CHECK_EQ(pt_modeled(&pool), 4);
	CHECK_EQ(pool.peak, 4);
	pt_pool_free(&pool);
	CHECK_DONE();
}
