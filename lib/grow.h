/*
 * grow.h - the one rule by which cowsim's arrays grow: capacity doubles from
 * a minimum until it holds what is needed.
 *
 * Low-level: includes nothing above lib/.
 *
 * Doubling makes appends amortised O(1) and keeps capacities powers of two
 * times the minimum, which the hash maps (hmap.h) rely on.  The capacity
 * rule is split from the allocation so that a caller with its own allocator
 * (the engine puts big arrays on huge pages) still grows by the same rule:
 * grow_cap() computes, grow_array() computes and realloc()s.
 *
 * Invariants: a capacity is 0 (nothing allocated) or min * 2^k; it never
 * exceeds the caller's limit, and cap * size never overflows size_t.
 *
 * Errors: both return 0 or -ENOMEM (the capacity would pass the limit or
 * overflow, or realloc() failed); on error nothing is changed.
 */
#ifndef COWSIM_GROW_H
#define COWSIM_GROW_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The capacity an array of capacity cur grows to so that it holds need
 * elements of size bytes each: cur itself if it already does, else cur (min
 * if cur is 0) doubled until it does.  The result is at most max and its
 * byte size fits size_t.  Returns 0 with *out set, or -ENOMEM. */
static inline int grow_cap(size_t cur, size_t need, size_t min, size_t max,
                           size_t size, size_t *out)
{
	size_t c = cur ? cur : min;
	size_t limit = size ? SIZE_MAX / size : SIZE_MAX;

	if (limit > max)
		limit = max;
	if (need <= cur) {
		*out = cur;
		return 0;
	}
	if (!c)
		c = 1;
	while (c < need) {
		if (c > limit / 2)
			return -ENOMEM;
		c *= 2;
	}
	if (c > limit)
		return -ENOMEM;
	*out = c;
	return 0;
}

/* Grow *arr (capacity *cap elements of size bytes) with realloc() to hold
 * at least need elements, by grow_cap()'s rule with minimum min.  zero says
 * to zero the new tail (for callers that do not initialise each element as
 * they hand it out).  Returns 0 or -ENOMEM, *arr and *cap untouched. */
int grow_array(void **arr, size_t *cap, size_t need, size_t size, size_t min,
               bool zero);

#endif
