/*
 * vma.h - a process's virtual memory areas: a sorted, non-overlapping set of
 * page ranges with flags.
 *
 * Low-level: includes nothing above lib/.
 *
 * Lifecycle: vma_set_init() (or zero-fill), then any number of vma_map /
 * vma_unmap / vma_protect / vma_set_flags / vma_find, then vma_set_free().
 * vma_set_copy() duplicates a set for fork().
 *
 * Invariants (vma_set_check() asserts them):
 *  - v[0..n) is sorted by start, and v[i].end <= v[i+1].start;
 *  - every area is non-empty: start < end (page numbers, end exclusive);
 *  - two adjacent areas (v[i].end == v[i+1].start) are never mergeable:
 *    vma_map and friends merge them as the kernel's vma_merge() would, so
 *    the count of areas - which fork() pays for per area - stays close to
 *    what /proc/PID/maps would show.
 *
 * Shaped for the replay loop: a process has tens to a few thousand areas,
 * lookups vastly outnumber changes and hit the same area again and again,
 * so the set is a flat sorted array with a one-entry lookup cache, binary
 * search behind it, and memmove for changes.  Used by the engine (one set per
 * simulated mm) and by the importers (a shadow set per traced process to
 * know when a fault needs an inferred mapping).
 *
 * Errors: functions that can grow the array return 0, -ENOMEM, or -E2BIG
 * past VMA_MAX_AREAS areas, and leave the set unchanged on failure.
 */
#ifndef COWSIM_VMA_H
#define COWSIM_VMA_H

/* The most areas one set holds: 16 times Linux's default vm.max_map_count
 * (65530), so no kernel-written trace reaches it, while a hostile one
 * cannot grow a set without bound. */
#define VMA_MAX_AREAS (1u << 20)

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Area flags.  The low bits mirror ev.h's EV_PROT_* and EV_MAP_* on purpose. */
#define VMA_READ       0x0001u
#define VMA_WRITE      0x0002u
#define VMA_EXEC       0x0004u
#define VMA_PROT_MASK  0x0007u
#define VMA_SHARED     0x0010u
#define VMA_ANON       0x0020u   /* no backing file */
#define VMA_STACK      0x0040u
#define VMA_SPECIAL    0x0080u   /* vdso & co: never copied page by page */
#define VMA_INFERRED   0x0100u
#define VMA_SNAPSHOT   0x0200u
#define VMA_HEAP       0x0400u
#define VMA_NORESERVE  0x0800u
#define VMA_DONTCOPY   0x1000u   /* MADV_DONTFORK: not inherited at fork */
#define VMA_WIPEONFORK 0x2000u   /* MADV_WIPEONFORK: child gets it empty */
#define VMA_HAS_ANON   0x4000u   /* has (had) anonymous pages: the kernel's
                                    vma->anon_vma; fork copies its PTEs */
#define VMA_MAYWRITE   0x8000u   /* could be made writable (VM_MAYWRITE) */

/* Flags that, when equal, let two adjacent areas merge (HAS_ANON excluded:
 * the kernel merges a VMA with an anon_vma into one without). */
#define VMA_MERGE_MASK (0xffffu & ~VMA_HAS_ANON & ~VMA_INFERRED & ~VMA_SNAPSHOT)

struct vma {
	uint64_t start;   /* first page number */
	uint64_t end;     /* page number past the last page */
	uint64_t pgoff;   /* file page offset of start (file mappings) */
	uint32_t flags;
	uint32_t file;    /* file identity (string id), 0 for anonymous */
};

struct vma_set {
	struct vma *v;
	size_t n;
	size_t cap;
	size_t hint;      /* index of the last area vma_find returned */
};

void vma_set_init(struct vma_set *s);
void vma_set_free(struct vma_set *s);

/* Make dst a copy of src (dst must be empty or freshly initialised).
 * Returns 0 or -ENOMEM. */
int vma_set_copy(struct vma_set *dst, const struct vma_set *src);

/* The area containing page number pg, or NULL.  Inline for the hint hit,
 * which is the common case on the replay loop's fault path. */
struct vma *vma_find_slow(struct vma_set *s, uint64_t pg);
static inline struct vma *vma_find(struct vma_set *s, uint64_t pg)
{
	if (s->hint < s->n) {
		struct vma *h = &s->v[s->hint];
		if (pg >= h->start && pg < h->end)
			return h;
	}
	return vma_find_slow(s, pg);
}

/* Index of the first area with end > pg (n if none). */
size_t vma_lower_bound(const struct vma_set *s, uint64_t pg);

/* Insert [start, end) with flags/file/pgoff, replacing whatever overlapped
 * (MAP_FIXED semantics; the caller unmaps pages first).  Returns 0 or
 * -ENOMEM. */
int vma_map(struct vma_set *s, uint64_t start, uint64_t end, uint32_t flags,
            uint32_t file, uint64_t pgoff);

/* Remove [start, end), splitting areas at the edges.  Returns 0 or -ENOMEM
 * (a split in the middle of one area needs one more slot). */
int vma_unmap(struct vma_set *s, uint64_t start, uint64_t end);

/* Within [start, end): flags = (flags & ~clear) | set, splitting at the
 * edges and merging afterwards.  Returns 0 or -ENOMEM. */
int vma_update(struct vma_set *s, uint64_t start, uint64_t end,
               uint32_t clear, uint32_t set);

/* True if every page of [start, end) is inside some area. */
bool vma_covered(struct vma_set *s, uint64_t start, uint64_t end);

/* Assert the invariants; returns 0 or -EINVAL. */
int vma_set_check(const struct vma_set *s);

#endif
