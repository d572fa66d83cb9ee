/*
 * filemap.c - the page cache (mm/filemap.c filemap_fault() ->
 * __filemap_get_folio()): one frame per (file, page offset), holding a
 * reference of its own, found through a u64 map (tables.c).
 *
 * Files are string ids of the stream (ev.h); shared anonymous memory is
 * shmem with a file id of its own (mmap.c).  Pages are never evicted: the
 * traces this replays do not show page-cache reclaim.
 */
#include "internal.h"

/* A page-cache key: the file id above PC_FILE_SHIFT, the page offset
 * (truncated to what fits) below it. */
#define PC_FILE_SHIFT 32
#define PC_PGOFF_MASK ((1ull << PC_FILE_SHIFT) - 1)

/* The page-cache frame of (file, pgoff), read in on a miss: a new frame
 * holding the cache's reference, in this CPU's LRU batch.  Returns 0 or
 * -ENOMEM. */
int pagecache_get(struct sim_engine *e, uint32_t file, uint64_t pgoff,
                  uint32_t *out)
{
	uint64_t key = ((uint64_t)file << PC_FILE_SHIFT) |
	               (pgoff & PC_PGOFF_MASK);
	const uint32_t *cached = u64map_get(&e->pc, key);
	if (cached) {
		*out = *cached;
		return 0;
	}
	/* Read into the page cache: the cache holds a reference. */
	uint32_t f;
	int err = frame_alloc(e, FR_FILE, 0, &f);
	if (err)
		return err;
	frame_get(e, f, 1);
	lru_add(e, f);
	err = u64map_set(e, &e->pc, key, f);
	if (err)
		return err;
	*out = f;
	return 0;
}
