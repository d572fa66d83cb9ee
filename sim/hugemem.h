/*
 * hugemem.h - ask for transparent huge pages under the engine's big arrays.
 *
 * Why: a replay touches the frame array and the page-table pool at scattered
 * places, one or two cache lines per event, over tens of MiB.  With 4 KiB
 * pages nearly every such touch also misses the TLB (a few thousand entries
 * cover only ~8 MiB), and the page walk costs as much as the cache miss it
 * precedes.  Debian's default THP mode is "madvise", so the hint has to be
 * given explicitly.  It is only a hint: where THP is off, or the kernel
 * refuses, nothing changes but speed.
 *
 * huge_hint(p, len) advises MADV_HUGEPAGE on the 2 MiB-aligned interior of
 * [p, p+len); smaller ranges are left alone; madvise() errors are ignored by
 * design.  huge_alloc(len) returns len bytes (uninitialised, rounded up to
 * whole 2 MiB) aligned to 2 MiB and hinted; NULL when out of memory.
 * Release it with free().
 */
#ifndef COWSIM_HUGEMEM_H
#define COWSIM_HUGEMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_SZ ((size_t)2 << 20)

static inline void huge_hint(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t a = ((uintptr_t)p + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1);
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_SZ - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p; (void)len;
#endif
}

static inline void *huge_alloc(size_t len)
{
	void *p = aligned_alloc(HUGE_SZ, (len + HUGE_SZ - 1) & ~(HUGE_SZ - 1));
	if (p)
		huge_hint(p, len);
	return p;
}

#endif
