/*
 * vma.c - sorted-array VMA sets (see vma.h for the contract).
 *
 * Every change is expressed with three primitives: split an area at a page,
 * remove a run of whole areas, and merge an area with its right neighbour.
 * Splitting first makes every range operation act on whole areas, which keeps
 * the edge cases in one place (vma_split) instead of in every operation.
 */
#include "vma.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vma_set_init(struct vma_set *s)
{
	memset(s, 0, sizeof(*s));
}

void vma_set_free(struct vma_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int vma_reserve(struct vma_set *s, size_t extra)
{
	if (s->n + extra > VMA_MAX_AREAS)
		return -E2BIG;
	if (s->n + extra <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap * 2 : 8;
	while (cap < s->n + extra)
		cap *= 2;
	struct vma *v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

int vma_set_copy(struct vma_set *dst, const struct vma_set *src)
{
	assert(dst->n == 0);
	int grow = vma_reserve(dst, src->n);
	if (grow)
		return grow;
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	dst->hint = 0;
	return 0;
}

size_t vma_lower_bound(const struct vma_set *s, uint64_t pg)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].end <= pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct vma *vma_find_slow(struct vma_set *s, uint64_t pg)
{
	size_t i = vma_lower_bound(s, pg);
	if (i < s->n && s->v[i].start <= pg) {
		s->hint = i;
		return &s->v[i];
	}
	return NULL;
}

/* Split the area containing pg so that an area starts exactly at pg.
 * No-op if pg is at an edge or in a hole.  Returns 0 or -ENOMEM. */
static int vma_split(struct vma_set *s, uint64_t pg)
{
	size_t i = vma_lower_bound(s, pg);

	if (i == s->n || s->v[i].start >= pg)
		return 0;
	int grow = vma_reserve(s, 1);
	if (grow)
		return grow;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->n++;
	s->v[i].end = pg;
	s->v[i + 1].pgoff += pg - s->v[i + 1].start;
	s->v[i + 1].start = pg;
	return 0;
}

static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->file == b->file &&
	       ((a->flags ^ b->flags) & VMA_MERGE_MASK) == 0 &&
	       a->pgoff + (a->end - a->start) == b->pgoff;
}

/* Merge neighbours among areas [lo, hi] (indices clamped to the set). */
static void vma_merge_range(struct vma_set *s, size_t lo, size_t hi)
{
	if (s->n < 2)
		return;
	if (hi >= s->n - 1)
		hi = s->n - 2;
	for (size_t i = hi + 1; i-- > lo;) {
		if (i + 1 >= s->n || !vma_mergeable(&s->v[i], &s->v[i + 1]))
			continue;
		s->v[i].end = s->v[i + 1].end;
		s->v[i].flags |= s->v[i + 1].flags & VMA_HAS_ANON;
		memmove(&s->v[i + 1], &s->v[i + 2], (s->n - i - 2) * sizeof(*s->v));
		s->n--;
	}
	s->hint = 0;
}

int vma_unmap(struct vma_set *s, uint64_t start, uint64_t end)
{
	/* Two splits need at most two slots; reserve both up front so a
	 * failure leaves the set untouched. */
	if (start >= end)
		return 0;
	int grow = vma_reserve(s, 2);
	if (grow)
		return grow;
	vma_split(s, start);
	vma_split(s, end);
	size_t i = vma_lower_bound(s, start), j = i;
	while (j < s->n && s->v[j].end <= end)
		j++;
	if (j > i) {
		memmove(&s->v[i], &s->v[j], (s->n - j) * sizeof(*s->v));
		s->n -= j - i;
	}
	s->hint = 0;
	return 0;
}

int vma_map(struct vma_set *s, uint64_t start, uint64_t end, uint32_t flags,
            uint32_t file, uint64_t pgoff)
{
	if (start >= end)
		return 0;
	int grow = vma_reserve(s, 3);
	if (grow)
		return grow;
	vma_unmap(s, start, end);
	size_t i = vma_lower_bound(s, start);
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = (struct vma){ .start = start, .end = end, .pgoff = pgoff,
	                         .flags = flags, .file = file };
	s->n++;
	vma_merge_range(s, i ? i - 1 : 0, i);
	return 0;
}

int vma_update(struct vma_set *s, uint64_t start, uint64_t end,
               uint32_t clear, uint32_t set)
{
	if (start >= end)
		return 0;
	int grow = vma_reserve(s, 2);
	if (grow)
		return grow;
	vma_split(s, start);
	vma_split(s, end);
	size_t i = vma_lower_bound(s, start), j = i;
	for (; j < s->n && s->v[j].start < end; j++)
		s->v[j].flags = (s->v[j].flags & ~clear) | set;
	vma_merge_range(s, i ? i - 1 : 0, j);
	return 0;
}

bool vma_covered(struct vma_set *s, uint64_t start, uint64_t end)
{
	size_t i = vma_lower_bound(s, start);
	uint64_t pg = start;

	for (; i < s->n && pg < end; i++) {
		if (s->v[i].start > pg)
			return false;
		pg = s->v[i].end;
	}
	return pg >= end;
}

int vma_set_check(const struct vma_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].start >= s->v[i].end)
			return -EINVAL;
		if (i + 1 < s->n) {
			if (s->v[i].end > s->v[i + 1].start)
				return -EINVAL;
			if (vma_mergeable(&s->v[i], &s->v[i + 1]))
				return -EINVAL;
		}
	}
	return 0;
}
