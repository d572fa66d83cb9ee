/*
 * internal.h - what the engine's files share and nothing outside them
 * needs, as mm/internal.h is for mm/: the small inline helpers of the fault
 * path and the functions one file calls in another.
 *
 * engine.h is the engine's state, which the policies and the oracle read;
 * this header is the engine's own working surface on it.  The oracle may use
 * its definitions but calls none of its functions: the engine calls the
 * oracle, never the other way round.
 *
 * The helpers here are inline because the fault path, fork's copy loop and
 * the zap loop run them once per page (docs/bench.md): frame_take(),
 * frame_get(), frame_put(), pte_ptr(), map_frame(), map_new(), anon_new(),
 * task_find().  Every function declared below is documented where it is
 * defined; engine.c's opening comment lists the files.
 *
 * Errors: every function that can allocate returns 0 or -ENOMEM, after
 * which the engine is unusable (sim.h).
 */
#ifndef COWSIM_INTERNAL_H
#define COWSIM_INTERNAL_H

#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>

#define NO_FRAME UINT32_MAX

/* ---- tables.c: memory accounting, growth, the tables' functions ---- */

/* Every byte the engine allocates is counted (sim_memory_bytes()). */
static inline void acct(struct sim_engine *e, int64_t delta)
{
	e->bytes += (uint64_t)delta;
	if (e->bytes > e->peak_bytes)
		e->peak_bytes = e->bytes;
}

int grow_raw(struct sim_engine *e, void **arr, uint32_t *cap, size_t need,
             size_t sz, bool zero);
int grow(struct sim_engine *e, void **arr, uint32_t *cap, size_t need,
         size_t sz);

/* 64-bit keys (page cache, pfns): the first half of MurmurHash3's fmix64,
 * whose multiplier this is. */
#define HASH64_MUL 0xff51afd7ed558ccdull

static inline uint32_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= HASH64_MUL;
	x ^= x >> 33;
	return (uint32_t)x;
}

HMAP_FUNCS(u64map, uint64_t, uint32_t, hash64, 1024)

/* The task index: tasks by tid (task.c). */
static inline uint32_t task_item_hash(const struct sim_engine *e, uint32_t t)
{
	return sim_hash32(e->task[t - 1].tid);
}
static inline bool task_item_match(const struct sim_engine *e, uint32_t t,
                                   uint32_t tid)
{
	return e->task[t - 1].tid == tid;
}
HMAP_INDEX_FUNCS(task_index, uint32_t, uint32_t, struct sim_engine,
                 sim_hash32, task_item_hash, task_item_match, 256)

/* The GUP-handle index: live handles by id (gup.c); released handles stay
 * in it, unmatched, until the array is compacted. */
static inline uint32_t gup_item_hash(const struct sim_engine *e, uint32_t g)
{
	return sim_hash32(e->gup[g - 1].id);
}
static inline bool gup_item_match(const struct sim_engine *e, uint32_t g,
                                  uint32_t id)
{
	return e->gup[g - 1].live && e->gup[g - 1].id == id;
}
HMAP_INDEX_FUNCS(gup_index, uint32_t, uint32_t, struct sim_engine,
                 sim_hash32, gup_item_hash, gup_item_match, 64)

/* Count a table's growth: the bytes it held before an insert, and now. */
static inline void acct_growth(struct sim_engine *e, size_t before,
                               size_t after)
{
	acct(e, (int64_t)after - (int64_t)before);
}

int u64map_set(struct sim_engine *e, struct u64map *m, uint64_t key,
               uint32_t val);
int side_set(struct sim_engine *e, struct sim_side *s, uint32_t f,
             uint32_t v);

/* ---- page_alloc.c: frames ---- */

int frame_grow(struct sim_engine *e, uint32_t *out);
int frame_alloc(struct sim_engine *e, uint16_t flags, uint32_t owner,
                uint32_t *out);
void frame_free(struct sim_engine *e, uint32_t f);

/* Take a free frame and count it; the caller writes all of its state.
 * Frames are recycled last-freed first: that one is likeliest in cache. */
static inline int frame_take(struct sim_engine *e, bool anon, uint32_t *out)
{
	if (e->nfree)
		*out = e->free_fr[--e->nfree];
	else if (frame_grow(e, out))
		return -ENOMEM;
	e->frames_used++;
	if (e->frames_used > e->m.peak_frames)
		e->m.peak_frames = e->frames_used;
	if (anon) {
		e->anon_frames++;
		if (e->anon_frames > e->m.peak_anon_frames)
			e->m.peak_anon_frames = e->anon_frames;
	}
	return 0;
}

static inline void frame_get(struct sim_engine *e, uint32_t f, uint32_t n)
{
	struct sim_frame *fr = &e->fr[f];
	fr->ref += n;
	if (fr->ref > e->m.max_refcount)
		e->m.max_refcount = fr->ref;
}

static inline void frame_put(struct sim_engine *e, uint32_t f, uint32_t n)
{
	struct sim_frame *fr = &e->fr[f];
	assert(fr->ref >= n);
	fr->ref -= n;
	/* e->hold is the page a fault handler has in hand: the kernel holds a
	 * reference on it, the engine's counts leave that reference out. */
	if (fr->ref == 0 && f != 0 && f != e->hold)
		frame_free(e, f);
}

/* ---- swap.c: LRU batches, swap slots, swap cache, swap-in and -out ---- */

int batch_setup(struct sim_engine *e, uint32_t cpu);
void lru_drain_cpu(struct sim_engine *e, uint32_t cpu);
void lru_drain_all(struct sim_engine *e);

/* folio_add_lru(): a new page waits in this CPU's batch, holding a ref. */
static inline void lru_add(struct sim_engine *e, uint32_t f)
{
	uint32_t cpu = e->cpu;
	struct sim_frame *fr = &e->fr[f];

	assert(!(fr->flags & (FR_BATCH | FR_LRU)));
	fr->flags |= FR_BATCH;
	fr->cpu = (uint8_t)cpu;
	frame_get(e, f, 1);
	uint32_t *b = e->batch + (size_t)cpu * e->cfg->lru_batch;
	b[e->batch_n[cpu]++] = f;
	if (e->batch_n[cpu] >= e->cfg->lru_batch)
		lru_drain_cpu(e, cpu);
}

int slot_alloc(struct sim_engine *e, uint32_t *out);
void slot_maybe_free(struct sim_engine *e, uint32_t s);
void swapcache_del(struct sim_engine *e, uint32_t f);
int swap_readin(struct sim_engine *e, uint32_t s, uint32_t *out);
void swapout_commit(struct sim_engine *e, uint32_t f, uint64_t pg);
int swapout_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                 bool pageout, bool race, bool swap_on);
int ev_swapout(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev, bool swap_on);
int ev_swapin(struct sim_engine *e, struct sim_mm *mm,
              const struct cs_ev *ev);

/* ---- filemap.c, ksm.c, migrate.c ---- */

int pagecache_get(struct sim_engine *e, uint32_t file, uint64_t pgoff,
                  uint32_t *out);
void ksm_forget(struct sim_engine *e, uint32_t f);
int ev_ksm(struct sim_engine *e, struct sim_mm *mm, const struct cs_ev *ev);
int ev_migrate(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev);

/* ---- page tables and mappings (every file that maps a page) ---- */

/* The PTE slot for page pg, creating page tables if alloc; NULL if there is
 * no table (without alloc) or on ENOMEM (with alloc). */
static inline uint64_t *pte_ptr(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                         bool alloc)
{
	uint64_t key = (pg >> PT_SHIFT) + 1;
	unsigned slot = (unsigned)(pg >> PT_SHIFT) & (PTE_CACHE - 1);

	if (mm->pte_key[slot] != key) {
		uint32_t n = 0;
		uint32_t t = pt_pte_table(&e->pt, mm->pgd, pg, alloc, &n);
		mm->nr_pt += n;
		if (!t)
			return NULL;
		mm->pte_key[slot] = key;
		mm->pte_tbl[slot] = t;
	}
	return pt_table(&e->pt, mm->pte_tbl[slot]) + (pg & (PT_ENTRIES - 1));
}

/* Install frame f at *ptep.  The zero page (f == 0) is not counted. */
static inline void map_frame(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
                      uint32_t f, bool writable)
{
	assert(*ptep == 0);
	*ptep = pte_mk(f, PTE_P | (writable ? PTE_W : 0));
	mm->rss++;
	e->resident++;
	if (f) {
		struct sim_frame *fr = &e->fr[f];
		fr->map++;
		if (fr->map > e->m.max_mapcount)
			e->m.max_mapcount = fr->map;
		frame_get(e, f, 1);
	}
}

/* Map a page fresh from anon_new() and add it to this CPU's LRU batch
 * (folio_add_lru_vma()).  anon_new() has already counted both the mapping
 * and the batch's reference. */
static inline void map_new(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
                    uint32_t f, bool writable)
{
	assert(*ptep == 0);
	assert(e->fr[f].ref == 2 && e->fr[f].map == 1 &&
	       (e->fr[f].flags & FR_BATCH) && e->fr[f].cpu == (uint8_t)e->cpu);
	*ptep = pte_mk(f, PTE_P | (writable ? PTE_W : 0));
	mm->rss++;
	e->resident++;
	uint32_t cpu = e->cpu;
	uint32_t *b = e->batch + (size_t)cpu * e->cfg->lru_batch;
	b[e->batch_n[cpu]++] = f;
	if (e->batch_n[cpu] >= e->cfg->lru_batch)
		lru_drain_cpu(e, cpu);
}

/* ---- memory.c: faults, zap, the event loop ---- */

/*
 * A new exclusive anonymous page whose content came from owner, for the
 * caller to map with map_new() - the next thing it does with the page.
 * Its state is written here as it will be once mapped and in this CPU's
 * LRU batch (one mapping, the mapping's and the batch's references), all
 * at once and without reading the frame: a recycled frame is usually not
 * in cache, and a read would wait for it where a write need not.
 */
static inline int anon_new(struct sim_engine *e, uint32_t owner, uint32_t *out)
{
	uint32_t f;
	int err = frame_take(e, true, &f);
	if (err)
		return err;
	e->fr[f] = (struct sim_frame){
		.ref = 2, .map = 1, .owner = owner, .cpu = (uint8_t)e->cpu,
		.flags = FR_USED | FR_ANON | FR_EXCL | FR_BATCH,
	};
	if (e->m.max_mapcount < 1)
		e->m.max_mapcount = 1;
	if (e->m.max_refcount < 2)
		e->m.max_refcount = 2;
	*out = f;
	return 0;
}

int fault_none(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
               uint64_t pg, uint64_t *ptep, bool write, enum sim_out *out);
int fault_swap(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
               uint64_t pg, uint64_t *ptep, bool write, enum sim_out *out);
int wp_fault(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
             uint64_t pg, uint64_t *ptep, bool unshare, enum sim_out *out);
void zap_range(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
               uint64_t end);
void prune_tables(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
                  uint64_t end);
void take_sample(struct sim_engine *e);

/* ---- rmap.c ---- */

typedef void (*rmap_fn)(struct sim_engine *e, struct sim_mm *mm,
                        uint64_t *ptep, uint32_t f, void *arg);
void rmap_walk(struct sim_engine *e, uint32_t f, uint64_t pg, rmap_fn fn,
               void *arg);
void rmap_to_swap(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
                  uint32_t f, void *arg);
void rmap_wrprotect(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
                    uint32_t f, void *arg);
void rmap_move(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
               uint32_t f, void *arg);

/* ---- task.c ---- */

uint32_t task_find_slow(struct sim_engine *e, uint32_t tid);

static inline uint32_t task_find(struct sim_engine *e, uint32_t tid)
{
	/* A direct-mapped cache in front of the index: threads of one
	 * process interleave, and the cache keeps all of them.  Entries are
	 * checked, never invalidated: task_gone() moves tasks around.  (An
	 * empty entry, 0, fails the bound check by wrapping around.) */
	uint32_t c = e->tcache[tid & (TASK_CACHE - 1)];
	if (c - 1 < e->ntask && e->task[c - 1].tid == tid)
		return c;
	return task_find_slow(e, tid);
}

int task_new(struct sim_engine *e, uint32_t tid, uint32_t tgid, uint32_t mi,
             uint32_t proc, uint32_t *out);
void task_gone(struct sim_engine *e, uint32_t t);
void group_gone(struct sim_engine *e, uint32_t tgid);
int task_get(struct sim_engine *e, uint32_t tid, uint32_t tgid,
             bool announced, uint32_t *out);

/* ---- fork.c: address spaces, fork, exec ---- */

int mm_alloc(struct sim_engine *e, uint32_t tgid, uint32_t *out);
void mm_put(struct sim_engine *e, uint32_t mi);
int ev_fork(struct sim_engine *e, uint32_t t, const struct cs_ev *ev);
void ev_fork_done(struct sim_engine *e, const struct cs_ev *ev);
int ev_exec(struct sim_engine *e, uint32_t t, const struct cs_ev *ev);

/* ---- forkmode.c: fork_mode on-demand and async (engine.h, fm_state) ---- */

int fm_fork_table(struct sim_engine *e, struct sim_mm *parent,
                  struct sim_mm *child, uint64_t pg, uint64_t ptes,
                  uint32_t copies, struct sim_fork_rec *rec);
int fm_fork_end(struct sim_engine *e, uint32_t pmi, uint32_t cmi,
                uint32_t fork, struct sim_fork_rec *rec);
void fm_event(struct sim_engine *e, struct sim_mm *mm, const struct cs_ev *ev);
void fm_mm_gone(struct sim_engine *e, struct sim_mm *mm);
int fm_check(struct sim_engine *e, char *buf, size_t len);
void fm_free(struct sim_engine *e);

/* ---- gup.c ---- */

void gup_release(struct sim_engine *e, uint32_t g);
int ev_gup(struct sim_engine *e, uint32_t t, const struct cs_ev *ev);
void ev_gup_put(struct sim_engine *e, const struct cs_ev *ev);

/* ---- mmap.c ---- */

int unmap_pages(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
                uint64_t end);
int ev_mmap(struct sim_engine *e, struct sim_mm *mm, const struct cs_ev *ev);
int ev_mprotect(struct sim_engine *e, struct sim_mm *mm,
                const struct cs_ev *ev);
int ev_mremap(struct sim_engine *e, struct sim_mm *mm,
              const struct cs_ev *ev);
int ev_brk(struct sim_engine *e, struct sim_mm *mm, const struct cs_ev *ev);
int ev_madvise(struct sim_engine *e, struct sim_mm *mm,
               const struct cs_ev *ev, bool swap_on);
int ev_page_init(struct sim_engine *e, struct sim_mm *mm,
                 const struct cs_ev *ev);

#endif
