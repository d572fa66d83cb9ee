/*
 * test_vma.c - the VMA set against a simple reference: an array with one
 * entry per page of a small address space, holding the flags, file and file
 * offset that page should have.  Random map/unmap/update operations are
 * applied to both; after each, every page's lookup must agree, the set's
 * invariants must hold, and no two adjacent areas may be mergeable.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/vma.h"

#define NPAGES 512

struct ref_page {
	int mapped;
	uint32_t flags;
	uint32_t file;
	uint64_t pgoff;
};

static void ref_map(struct ref_page *r, uint64_t s, uint64_t e, uint32_t flags,
                    uint32_t file, uint64_t pgoff)
{
	for (uint64_t p = s; p < e; p++)
		r[p] = (struct ref_page){ 1, flags, file, pgoff + (p - s) };
}

int main(void)
{
	struct vma_set set;
	struct ref_page ref[NPAGES];
	uint64_t seed = 42;

	vma_set_init(&set);
	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 20000; step++) {
		uint64_t a = test_rand(&seed) % NPAGES;
		uint64_t len = 1 + test_rand(&seed) % 40;
		uint64_t b = a + len > NPAGES ? NPAGES : a + len;
		int op = (int)(test_rand(&seed) % 3);
		if (op == 0) {
			uint32_t flags = (uint32_t)(test_rand(&seed) % 4) | VMA_READ;
			uint32_t file = (uint32_t)(test_rand(&seed) % 3);
			/* anonymous areas take pgoff = start, as the engine does */
			uint64_t pgoff = file ? test_rand(&seed) % 100 : a;
			CHECK(vma_map(&set, a, b, flags, file, pgoff) == 0);
			ref_map(ref, a, b, flags, file, pgoff);
		} else if (op == 1) {
			CHECK(vma_unmap(&set, a, b) == 0);
			for (uint64_t p = a; p < b; p++)
				ref[p].mapped = 0;
		} else {
			uint32_t set_bits = (uint32_t)(test_rand(&seed) % 2) ? VMA_WRITE : 0;
			uint32_t clear = set_bits ? 0 : VMA_WRITE;
			CHECK(vma_update(&set, a, b, clear, set_bits) == 0);
			for (uint64_t p = a; p < b; p++)
				if (ref[p].mapped)
					ref[p].flags = (ref[p].flags & ~clear) | set_bits;
		}
		CHECK(vma_set_check(&set) == 0);
		for (uint64_t p = 0; p < NPAGES; p++) {
			struct vma *v = vma_find(&set, p);
			if (!ref[p].mapped) {
				CHECK(v == NULL);
				continue;
			}
			CHECK(v != NULL);
			if (!v)
				continue;
			CHECK_EQ(v->flags & VMA_MERGE_MASK, ref[p].flags & VMA_MERGE_MASK);
			CHECK_EQ(v->file, ref[p].file);
			CHECK_EQ(v->pgoff + (p - v->start), ref[p].pgoff);
		}
		/* vma_covered() against the reference */
		int all = 1;
		for (uint64_t p = a; p < b; p++)
			all &= ref[p].mapped;
		CHECK_EQ(vma_covered(&set, a, b), all);
		if (check_failures)
			break;
	}

	/* copy is deep and independent */
	struct vma_set copy;
	vma_set_init(&copy);
	CHECK(vma_set_copy(&copy, &set) == 0);
	CHECK_EQ(copy.n, set.n);
	CHECK(vma_unmap(&copy, 0, NPAGES) == 0);
	CHECK_EQ(copy.n, 0);
	CHECK(set.n == 0 || vma_find(&set, set.v[0].start) != NULL);
	vma_set_free(&copy);

	/* adjacent compatible areas merge; incompatible ones do not */
	vma_set_free(&set);
	vma_set_init(&set);
	CHECK(vma_map(&set, 10, 20, VMA_READ | VMA_ANON, 0, 10) == 0);
	CHECK(vma_map(&set, 20, 30, VMA_READ | VMA_ANON, 0, 20) == 0);
	CHECK_EQ(set.n, 1);
	CHECK(vma_map(&set, 30, 40, VMA_READ | VMA_WRITE | VMA_ANON, 0, 30) == 0);
	CHECK_EQ(set.n, 2);
	CHECK(vma_update(&set, 30, 40, VMA_WRITE, 0) == 0);
	CHECK_EQ(set.n, 1);
	CHECK(vma_unmap(&set, 15, 16) == 0);
	CHECK_EQ(set.n, 2);
	vma_set_free(&set);
	CHECK_DONE();
}
