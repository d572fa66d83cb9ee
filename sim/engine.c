/*
 * engine.c - the mechanics of the simulated machine: frames, swap, page
 * tables, address spaces, tasks, GUP references; every event of ev.h.
 *
 * The engine does what every Linux version does alike - allocate, map,
 * count, unmap, free - and asks the policy (pol.h) at each point where
 * versions differ.  The shape of each operation follows the kernel function
 * named in its comment (mm/memory.c unless said otherwise), in a simplified
 * form: no locks, no THP, no hugetlb (see docs/model.md for what is left out
 * and why).
 *
 * The workload this file is shaped for is the replay loop: tens of millions
 * of events, most of them page faults that hit an address space and a PTE
 * table the previous fault also hit.  So: a one-entry task cache, a one-entry
 * PTE-table cache per address space, no allocation on the fault path except
 * for new frames (amortised growth of one array), and the policy consulted
 * only for write faults on write-protected anonymous pages.
 *
 * Error handling: every function that can allocate returns 0 or -ENOMEM and
 * the engine is unusable after -ENOMEM.  Everything else that can go wrong
 * is the trace's fault (lost events, a process we never saw start) and is
 * counted in the metrics and skipped.
 */
#include "engine.h"
#include "hugemem.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NO_FRAME UINT32_MAX
#define MAX_CPUS 256u
#define PREFETCH_AHEAD 8
#define FORK_AHEAD 32     /* PTEs ahead whose frame fork's copy prefetches */
#define ZAP_AHEAD 32      /* ... and zap_range() */
#define PIPE_PTE 16      /* events ahead whose PTE is prefetched */
#define PIPE_FRAME 6    /* events ahead whose frame is prefetched */
#define PIPE_RING 32     /* PTEs found at the first stage, kept for the second */
#define PIPE_FREE 16     /* depth in the free stack of the frame prefetched */
#define SHMEM_FILE_BASE 0x80000000u
/* The fault path of the block loop: inlined whatever the compiler's size
 * heuristics say, as it runs for nine events in ten (docs/bench.md). */
#define HOT_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------ */
/* memory accounting and growth                                        */

static void acct(struct sim_engine *e, int64_t delta)
{
	e->bytes += (uint64_t)delta;
	if (e->bytes > e->peak_bytes)
		e->peak_bytes = e->bytes;
}

/* Grow *arr (element size sz, capacity *cap) to hold at least need
 * elements, zeroing the new tail unless the caller initialises every
 * element it hands out (frames).  Returns 0 or -ENOMEM. */
static int grow_raw(struct sim_engine *e, void **arr, uint32_t *cap,
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

static int grow(struct sim_engine *e, void **arr, uint32_t *cap, size_t need,
                size_t sz)
{
	return grow_raw(e, arr, cap, need, sz, true);
}

static inline uint32_t hash32(uint32_t x)
{
	return x * 0x9E3779B1u;
}

static inline uint32_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* ------------------------------------------------------------------ */
/* u64 -> u32 open-addressing maps (page cache, pfn index)             */

static int u64map_put(struct sim_engine *e, uint64_t **keys, uint32_t **vals,
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
		acct(e, (int64_t)(ncap - *cap) * 12);
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
static uint32_t u64map_get(uint64_t *keys, uint32_t *vals, uint32_t cap,
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
	acct(e, ((int64_t)cap - s->cap) * 8);
	free(s->key);
	free(s->val);
	s->key = k;
	s->val = v;
	s->cap = cap;
	return 0;
}

/* Set frame f's value to v (nonzero).  Fails (-ENOMEM) only when f had no
 * value yet. */
static int side_set(struct sim_engine *e, struct sim_side *s, uint32_t f,
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
static void side_del(struct sim_side *s, uint32_t f)
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

static void side_free(struct sim_side *s)
{
	free(s->key);
	free(s->val);
}

/* Set frame f's GUP reference count (FR_GUPREF and e->gupof).  Fails only
 * when f had none. */
static int frame_set_gup(struct sim_engine *e, uint32_t f, uint32_t n)
{
	if (!n) {
		side_del(&e->gupof, f);
		e->fr[f].flags &= (uint16_t)~FR_GUPREF;
		return 0;
	}
	int err = side_set(e, &e->gupof, f, n);
	if (err)
		return err;
	e->fr[f].flags |= FR_GUPREF;
	return 0;
}

/* Put frame f in the swap cache at slot s (FR_INSWAP and e->swapof). */
static int frame_set_swap(struct sim_engine *e, uint32_t f, uint32_t s)
{
	int err = side_set(e, &e->swapof, f, s);
	if (err)
		return err;
	e->fr[f].flags |= FR_INSWAP;
	return 0;
}

/* ------------------------------------------------------------------ */
/* frames                                                              */

/* A never-used frame, growing the array (and the free stack with it). */
static int frame_grow(struct sim_engine *e, uint32_t *out)
{
	if (e->nfr == e->capfr &&
	    grow_raw(e, (void **)&e->fr, &e->capfr, (size_t)e->nfr + 1,
	             sizeof(*e->fr), false))
		return -ENOMEM;
	if (e->capfree < e->capfr &&
	    grow_raw(e, (void **)&e->free_fr, &e->capfree, e->capfr,
	             sizeof(*e->free_fr), false))
		return -ENOMEM;
	*out = e->nfr++;
	return 0;
}

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

static int frame_alloc(struct sim_engine *e, uint16_t flags, uint32_t owner,
                       uint32_t *out)
{
	int err = frame_take(e, flags & FR_ANON, out);
	if (err)
		return err;
	e->fr[*out] = (struct sim_frame){ .flags = flags | FR_USED, .owner = owner };
	return 0;
}

static void ksm_forget(struct sim_engine *e, uint32_t f);

static void frame_free(struct sim_engine *e, uint32_t f)
{
	struct sim_frame *fr = &e->fr[f];

	assert(f != 0 && fr->ref == 0 && fr->map == 0 &&
	       !(fr->flags & FR_GUPREF));
	assert(!(fr->flags & (FR_INSWAP | FR_BATCH)));
	if (fr->flags & FR_KSM)
		ksm_forget(e, f);
	if (fr->flags & FR_ANON)
		e->anon_frames--;
	e->frames_used--;
	fr->flags = 0;
	/* The stack never outgrows the frame array it indexes, and is grown
	 * along with it in frame_alloc(), so this push cannot fail. */
	e->free_fr[e->nfree++] = f;
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

/* ------------------------------------------------------------------ */
/* per-CPU LRU batches (mm/swap.c folio_batch_add_and_move)            */

static int batch_setup(struct sim_engine *e, uint32_t cpu)
{
	if (cpu < e->ncpu)
		return 0;
	uint32_t n = cpu + 1, b = e->cfg->lru_batch;
	uint32_t *nb = realloc(e->batch, (size_t)n * b * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	e->batch = nb;
	uint16_t *nn = realloc(e->batch_n, (size_t)n * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	e->batch_n = nn;
	memset(e->batch_n + e->ncpu, 0, (n - e->ncpu) * sizeof(*nn));
	acct(e, (int64_t)(n - e->ncpu) * (b * 4 + 2));
	e->ncpu = n;
	return 0;
}

static void lru_drain_cpu(struct sim_engine *e, uint32_t cpu)
{
	if (cpu >= e->ncpu || !e->batch_n[cpu])
		return;
	uint32_t *b = e->batch + (size_t)cpu * e->cfg->lru_batch;
	uint16_t n = e->batch_n[cpu];
	e->batch_n[cpu] = 0;
	e->m.lru_drains++;
	for (uint16_t i = 0; i < n; i++) {
		struct sim_frame *fr = &e->fr[b[i]];
		fr->flags = (uint16_t)((fr->flags & ~FR_BATCH) | FR_LRU);
		frame_put(e, b[i], 1);
	}
}

void sim_lru_drain_local(struct sim_engine *e)
{
	lru_drain_cpu(e, e->cpu);
}

static void lru_drain_all(struct sim_engine *e)
{
	for (uint32_t c = 0; c < e->ncpu; c++)
		lru_drain_cpu(e, c);
}

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

/* ------------------------------------------------------------------ */
/* swap slots                                                          */

static int slot_alloc(struct sim_engine *e, uint32_t *out)
{
	uint32_t s = e->free_slot;

	if (s) {
		e->free_slot = e->slot[s].frame;
	} else {
		if (!e->nslot)
			e->nslot = 1;   /* slot 0 is never used */
		if (e->nslot >= e->capslot &&
		    grow(e, (void **)&e->slot, &e->capslot, (size_t)e->nslot + 1,
		         sizeof(*e->slot)))
			return -ENOMEM;
		s = e->nslot++;
	}
	e->slot[s] = (struct sim_slot){ 0 };
	*out = s;
	return 0;
}

static void slot_maybe_free(struct sim_engine *e, uint32_t s)
{
	struct sim_slot *sl = &e->slot[s];
	if (sl->count || sl->frame)
		return;
	sl->frame = e->free_slot;
	sl->owner = 0;
	e->free_slot = s;
}

/* Drop frame f from the swap cache (delete_from_swap_cache()). */
static void swapcache_del(struct sim_engine *e, uint32_t f)
{
	struct sim_frame *fr = &e->fr[f];
	uint32_t s = sim_frame_swap(e, f);

	assert(fr->flags & FR_INSWAP);
	e->slot[s].frame = 0;
	e->slot[s].owner = fr->owner;
	fr->flags &= (uint16_t)~FR_INSWAP;
	side_del(&e->swapof, f);
	slot_maybe_free(e, s);
	frame_put(e, f, 1);
}

bool sim_try_free_swap(struct sim_engine *e, uint32_t f)
{
	if (!(e->fr[f].flags & FR_INSWAP) || e->slot[sim_frame_swap(e, f)].count)
		return false;
	swapcache_del(e, f);
	return true;
}

/* ------------------------------------------------------------------ */
/* page cache and KSM                                                  */

static int pagecache_get(struct sim_engine *e, uint32_t file, uint64_t pgoff,
                         uint32_t *out)
{
	uint64_t key = ((uint64_t)file << 32) | (pgoff & 0xffffffffu);
	uint32_t f = u64map_get(e->pc_key, e->pc_val, e->pccap, key);
	if (f != NO_FRAME) {
		*out = f;
		return 0;
	}
	/* Read into the page cache: the cache holds a reference. */
	int err = frame_alloc(e, FR_FILE, 0, &f);
	if (err)
		return err;
	frame_get(e, f, 1);
	lru_add(e, f);
	err = u64map_put(e, &e->pc_key, &e->pc_val, &e->pccap, &e->pcn, key, f);
	if (err)
		return err;
	*out = f;
	return 0;
}

static uint32_t ksm_lookup(struct sim_engine *e, uint64_t key)
{
	for (uint32_t i = 0; i < e->nksm; i++)
		if (e->ksm_key[i] == key)
			return e->ksm_frame[i];
	return NO_FRAME;
}

static void ksm_forget(struct sim_engine *e, uint32_t f)
{
	for (uint32_t i = 0; i < e->nksm; i++) {
		if (e->ksm_frame[i] != f)
			continue;
		e->ksm_key[i] = e->ksm_key[e->nksm - 1];
		e->ksm_frame[i] = e->ksm_frame[e->nksm - 1];
		e->nksm--;
		break;
	}
	e->fr[f].flags &= (uint16_t)~FR_KSM;
}

/* ------------------------------------------------------------------ */
/* address spaces                                                      */

static int mm_alloc(struct sim_engine *e, uint32_t tgid, uint32_t *out)
{
	uint32_t i = e->free_mm;

	if (i) {
		e->free_mm = e->mm[i].next_free;
	} else {
		if (!e->nmm)
			e->nmm = 1;   /* index 0 is "none" */
		if (e->nmm >= e->capmm &&
		    grow(e, (void **)&e->mm, &e->capmm, (size_t)e->nmm + 1,
		         sizeof(*e->mm)))
			return -ENOMEM;
		i = e->nmm++;
	}
	struct sim_mm *mm = &e->mm[i];
	memset(mm, 0, sizeof(*mm));
	vma_set_init(&mm->vmas);
	mm->pgd = pt_alloc(&e->pt);
	if (!mm->pgd)
		return -ENOMEM;
	mm->nr_pt = 1;
	mm->id = ++e->next_mm_id;
	mm->users = 1;
	mm->tgid = tgid;
	*out = i;
	return 0;
}

/* The PTE slot for page pg, creating page tables if alloc; NULL if there is
 * no table (without alloc) or on ENOMEM (with alloc). */
static inline uint64_t *pte_ptr(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                         bool alloc)
{
	uint64_t key = (pg >> 9) + 1;
	unsigned slot = (unsigned)(pg >> 9) & (PTE_CACHE - 1);

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

/* zap_pte_range() for a swap entry: drop its slot reference. */
static void zap_swap_pte(struct sim_engine *e, uint64_t pte)
{
	/* free_swap_and_cache(): the last swap PTE gone, an unmapped
	 * swap-cache page has no reason to stay. */
	uint32_t s = pte_idx(pte);
	assert(e->slot[s].count > 0);
	e->slot[s].count--;
	uint32_t f = e->slot[s].frame;
	if (!e->slot[s].count && f && !e->fr[f].map)
		swapcache_del(e, f);
	else
		slot_maybe_free(e, s);
}

/*
 * Zap every entry in [start, end) pages of mm (zap_pte_range()).  Exit,
 * munmap and MADV_DONTNEED run this over every PTE a process has: it keeps
 * to the present-page case and settles rss and resident once per table.
 */
static void zap_range(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
                      uint64_t end)
{
	uint64_t pg = start;
	uint32_t t;

	while ((t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
		uint64_t *tbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		uint64_t rss = 0;
		if (stop > end)
			stop = end;
		for (; pg < stop; pg++) {
			unsigned i = (unsigned)pg & (PT_ENTRIES - 1);
			/* Frames of consecutive PTEs are scattered: fetch some
			 * ahead so that their cache misses overlap. */
			uint64_t ahead = tbl[(i + ZAP_AHEAD) & (PT_ENTRIES - 1)];
			if (ahead & PTE_P)
				__builtin_prefetch(&e->fr[pte_idx(ahead)], 1);
			uint64_t pte = tbl[i];
			if (!pte)
				continue;
			tbl[i] = 0;
			if (!(pte & PTE_P)) {
				zap_swap_pte(e, pte);
				continue;
			}
			rss++;
			uint32_t f = pte_idx(pte);
			if (f) {
				assert(e->fr[f].map > 0);
				e->fr[f].map--;
				frame_put(e, f, 1);
			}
		}
		mm->rss -= rss;
		e->resident -= rss;
	}
}

/* Free page tables left empty by an unmap of [start, end), within the gap
 * between the neighbouring areas (free_pgtables()'s floor and ceiling). */
static void prune_tables(struct sim_engine *e, struct sim_mm *mm,
                         uint64_t start, uint64_t end)
{
	size_t i = vma_lower_bound(&mm->vmas, start);
	uint64_t floor = 0, ceil = EV_USER_TOP >> EV_PAGE_SHIFT;

	if (i > 0)
		floor = mm->vmas.v[i - 1].end;
	if (i < mm->vmas.n)
		ceil = mm->vmas.v[i].start;
	if (ceil > end && i < mm->vmas.n && mm->vmas.v[i].start < end)
		return;
	uint32_t n = pt_prune(&e->pt, mm->pgd, floor, ceil);
	mm->nr_pt -= n;
	if (n)
		memset(mm->pte_key, 0, sizeof(mm->pte_key));
}

static void gup_release(struct sim_engine *e, uint32_t hi);

/* exit_mmap(): tear down an address space nobody uses any more. */
static void mm_teardown(struct sim_engine *e, uint32_t mi)
{
	struct sim_mm *mm = &e->mm[mi];

	if (e->cfg->exit_drains_lru)
		sim_lru_drain_local(e);
	for (size_t i = 0; i < mm->vmas.n; i++)
		zap_range(e, mm, mm->vmas.v[i].start, mm->vmas.v[i].end);
	/* References the process held through files (io_uring buffers, pipes
	 * it alone read, O_DIRECT in flight) die with it. */
	for (uint32_t h = 0; h < e->ngup; h++)
		if (e->gup[h].live && e->gup[h].mm_id == mm->id)
			gup_release(e, h);
	pt_root_free(&e->pt, mm->pgd);
	vma_set_free(&mm->vmas);
	mm->users = 0;
	mm->next_free = e->free_mm;
	e->free_mm = mi;
}

static void mm_put(struct sim_engine *e, uint32_t mi)
{
	assert(e->mm[mi].users > 0);
	if (--e->mm[mi].users == 0)
		mm_teardown(e, mi);
}

/* ------------------------------------------------------------------ */
/* tasks                                                               */

static uint32_t task_find_slow(struct sim_engine *e, uint32_t tid);

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

static uint32_t task_find_slow(struct sim_engine *e, uint32_t tid)
{
	if (!e->tixcap)
		return 0;
	uint32_t h = hash32(tid) & (e->tixcap - 1);
	while (e->tix[h]) {
		uint32_t t = e->tix[h];
		if (e->task[t - 1].tid == tid) {
			e->tcache[tid & (TASK_CACHE - 1)] = t;
			return t;
		}
		h = (h + 1) & (e->tixcap - 1);
	}
	return 0;
}

static int tix_insert(struct sim_engine *e, uint32_t t)
{
	if ((e->ntask + 1) * 2 > e->tixcap) {
		uint32_t ncap = e->tixcap ? e->tixcap * 2 : 256;
		uint32_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		acct(e, (int64_t)(ncap - e->tixcap) * 4);
		for (uint32_t i = 0; i < e->tixcap; i++) {
			if (!e->tix[i])
				continue;
			uint32_t h = hash32(e->task[e->tix[i] - 1].tid) & (ncap - 1);
			while (n[h])
				h = (h + 1) & (ncap - 1);
			n[h] = e->tix[i];
		}
		free(e->tix);
		e->tix = n;
		e->tixcap = ncap;
	}
	uint32_t h = hash32(e->task[t - 1].tid) & (e->tixcap - 1);
	while (e->tix[h])
		h = (h + 1) & (e->tixcap - 1);
	e->tix[h] = t;
	return 0;
}

/* Remove task t (1-based) from the index: backward-shift deletion. */
static void tix_remove(struct sim_engine *e, uint32_t t)
{
	uint32_t mask = e->tixcap - 1;
	uint32_t h = hash32(e->task[t - 1].tid) & mask;

	while (e->tix[h] != t)
		h = (h + 1) & mask;
	for (;;) {
		e->tix[h] = 0;
		uint32_t j = h;
		for (;;) {
			j = (j + 1) & mask;
			if (!e->tix[j])
				return;
			uint32_t home = hash32(e->task[e->tix[j] - 1].tid) & mask;
			/* Can the entry at j move back to h? */
			if ((j > h && (home <= h || home > j)) ||
			    (j < h && (home <= h && home > j)))
				break;
		}
		e->tix[h] = e->tix[j];
		h = j;
	}
}

/* Tasks live in a dense array; task_gone() keeps it dense. */
static int task_new(struct sim_engine *e, uint32_t tid, uint32_t tgid,
                    uint32_t mi, uint32_t proc, uint32_t *out)
{
	uint32_t t;

	if (e->ntask == e->captask &&
	    grow(e, (void **)&e->task, &e->captask, (size_t)e->ntask + 1,
	         sizeof(*e->task)))
		return -ENOMEM;
	t = ++e->ntask;
	e->task[t - 1] = (struct sim_task){ .tid = tid, .tgid = tgid, .mm = mi,
	                                    .proc = proc };
	int err = tix_insert(e, t);
	if (err)
		return err;
	if (proc != SIM_NONE)
		proc_task_add(e, proc);
	*out = t;
	return 0;
}

/* A task leaves: unindex it and drop its address space.  The slot is
 * compacted away by moving the last task into it. */
static void task_gone(struct sim_engine *e, uint32_t t)
{
	uint32_t mi = e->task[t - 1].mm;
	uint32_t p = e->task[t - 1].proc;

	tix_remove(e, t);
	uint32_t last = e->ntask;
	if (t != last) {
		tix_remove(e, last);
		e->task[t - 1] = e->task[last - 1];
		e->ntask--;
		tix_insert(e, t);   /* cannot fail: the index only shrank */
	} else {
		e->ntask--;
	}
	if (mi)
		mm_put(e, mi);
	if (p != SIM_NONE)
		proc_task_drop(e, p);
}

/* The whole thread group is dead: threads whose own exit the trace lost
 * must not linger (their address space would never be torn down). */
static void group_gone(struct sim_engine *e, uint32_t tgid)
{
	for (uint32_t t = e->ntask; t > 0; t--)
		if (t <= e->ntask && e->task[t - 1].tgid == tgid)
			task_gone(e, t);
}

/*
 * The task for an event.  A task the stream never introduced (it existed
 * before the trace, or its fork was lost) is invented: it joins the address
 * space of its thread-group leader if that is known, else gets a new one.
 * Returns 0 and the 1-based task index, or -ENOMEM.
 */
static int task_get(struct sim_engine *e, uint32_t tid, uint32_t tgid,
                    bool announced, uint32_t *out)
{
	uint32_t t = task_find(e, tid);
	if (t) {
		*out = t;
		return 0;
	}
	if (!announced)
		e->m.unknown_tasks++;
	uint32_t leader = tgid && tgid != tid ? task_find(e, tgid) : 0;
	uint32_t mi;
	int err;
	if (leader) {
		mi = e->task[leader - 1].mm;
		e->mm[mi].users++;
	} else {
		err = mm_alloc(e, tgid ? tgid : tid, &mi);
		if (err)
			return err;
	}
	err = task_new(e, tid, tgid ? tgid : tid, mi, SIM_NONE, &t);
	if (err)
		return err;
	*out = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* faults                                                              */

static int wp_fault(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
                    uint64_t pg, uint64_t *ptep, bool unshare,
                    enum sim_out *out);

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

/* A new writable anonymous page at the empty *ptep of a private area: a
 * fresh page, or the copy of a file page.  No GUP reference to check, and
 * anon_new() has stamped it with mm already.  Returns 0 or -ENOMEM. */
static inline int anon_fill(struct sim_engine *e, struct sim_mm *mm,
                            struct vma *vma, uint64_t *ptep)
{
	uint32_t f;
	int err = anon_new(e, mm->id, &f);
	if (err)
		return err;
	map_new(e, mm, ptep, f, true);
	vma->flags |= VMA_HAS_ANON;
	return 0;
}

/* do_anonymous_page() for a write.  Most faults of a trace are this one,
 * so fault_page() takes it inline. */
static inline int anon_write_fault(struct sim_engine *e, struct sim_mm *mm,
                                   struct vma *vma, uint64_t *ptep,
                                   enum sim_out *out)
{
	int err = anon_fill(e, mm, vma, ptep);
	if (err)
		return err;
	e->m.new_pages++;
	*out = OUT_NEW;
	return 0;
}

/* do_anonymous_page() / do_read_fault() / do_cow_fault() /
 * do_shared_fault(): the PTE is empty. */
static int fault_none(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
                      uint64_t pg, uint64_t *ptep, bool write,
                      enum sim_out *out)
{
	uint32_t f;
	int err;

	if (vma->flags & VMA_SHARED) {
		uint32_t file = vma->file;
		err = pagecache_get(e, file, vma->pgoff + (pg - vma->start), &f);
		if (err)
			return err;
		map_frame(e, mm, ptep, f, write);
		*out = write ? OUT_MKWRITE : OUT_MAP;
		return 0;
	}
	if ((vma->flags & VMA_ANON) || !vma->file) {
		if (!write) {
			/* The shared zero page: no counts, read-only. */
			map_frame(e, mm, ptep, 0, false);
			*out = OUT_MAP;
			return 0;
		}
		return anon_write_fault(e, mm, vma, ptep, out);
	}
	/* Private file mapping: read the page cache page; a write copies. */
	uint32_t pc;
	err = pagecache_get(e, vma->file, vma->pgoff + (pg - vma->start), &pc);
	if (err)
		return err;
	if (!write) {
		map_frame(e, mm, ptep, pc, false);
		*out = OUT_MAP;
		return 0;
	}
	err = anon_fill(e, mm, vma, ptep);
	if (err)
		return err;
	e->m.copies_file++;
	*out = OUT_COPY_FILE;
	return 0;
}

/* swapin_readahead(): read slot s into a new swap-cache page.  Readahead
 * pushes what it read onto the LRU at once ("lru_add_drain() ... Push any
 * new pages onto the LRU now"), so the page does not wait in a batch.
 * Returns 0 or -ENOMEM. */
static int swap_readin(struct sim_engine *e, uint32_t s, uint32_t *out)
{
	uint32_t f;
	int err = frame_alloc(e, FR_ANON, e->slot[s].owner, &f);
	if (err)
		return err;
	err = frame_set_swap(e, f, s);
	if (err)
		return err;
	frame_get(e, f, 1);
	e->slot[s].frame = f;
	lru_add(e, f);
	sim_lru_drain_local(e);
	e->m.swapins++;
	*out = f;
	return 0;
}

/* do_swap_page(): the PTE names a swap slot. */
static int fault_swap(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
                      uint64_t pg, uint64_t *ptep, bool write,
                      enum sim_out *out)
{
	uint64_t pte = *ptep;
	uint32_t s = pte_idx(pte);
	bool excl = (pte & PTE_SWPX) != 0;
	uint32_t f = e->slot[s].frame;
	int err;

	if (!f && (err = swap_readin(e, s, &f)))
		return err;
	/* swap_free(entry): this PTE stops naming the slot.  The slot cannot
	 * be freed here: the swap cache still holds it. */
	*ptep = 0;
	e->slot[s].count--;

	e->hold = f;
	unsigned d = e->pol->swapin(e, vma, f, write, excl);
	e->hold = 0;
	struct sim_frame *fr = &e->fr[f];
	if (d & POL_SWAPIN_EXCL)
		fr->flags |= FR_EXCL;
	else
		fr->flags &= (uint16_t)~FR_EXCL;
	bool writable = (d & POL_SWAPIN_WRITABLE) && (vma->flags & VMA_WRITE);
	map_frame(e, mm, ptep, f, writable);
	vma->flags |= VMA_HAS_ANON;
	if (writable)
		oracle_write_grant(e, mm, f);
	*out = OUT_SWAPIN;
	if (write && !writable)
		return wp_fault(e, mm, vma, pg, ptep, false, out);
	return 0;
}

/*
 * do_wp_page() on a present, write-protected PTE (or a GUP unshare,
 * FAULT_FLAG_UNSHARE, which leaves the PTE read-only).
 */
static int wp_fault(struct sim_engine *e, struct sim_mm *mm, struct vma *vma,
                    uint64_t pg, uint64_t *ptep, bool unshare,
                    enum sim_out *out)
{
	uint32_t f = pte_idx(*ptep);
	uint32_t nf;
	int err;

	if ((vma->flags & VMA_SHARED) && !unshare) {
		*ptep |= PTE_W;         /* wp_page_shared(): no copy */
		*out = OUT_MKWRITE;
		return 0;
	}
	if (f == 0 || (e->fr[f].flags & FR_FILE)) {
		/* The zero page or a page-cache page in a private mapping:
		 * never reused, always copied (wp_page_copy()). */
		err = anon_new(e, unshare ? e->fr[f].owner : mm->id, &nf);
		if (err)
			return err;
		if (f)
			oracle_cow_replaced(e, mm, pg, f);
		*ptep = 0;
		mm->rss--;
		e->resident--;
		if (f) {
			e->fr[f].map--;
			frame_put(e, f, 1);
		}
		map_new(e, mm, ptep, nf, !unshare);
		vma->flags |= VMA_HAS_ANON;
		if (f == 0) {
			e->m.zero_fills++;
			*out = OUT_ZERO_FILL;
		} else {
			e->m.copies_file++;
			*out = OUT_COPY_FILE;
		}
		return 0;
	}

	if (e->pol->wp_anon(e, f, unshare) == POL_REUSE) {
		struct sim_frame *fr = &e->fr[f];
		if (fr->flags & FR_KSM)
			ksm_forget(e, f);
		fr->flags |= FR_EXCL;          /* page_move_anon_rmap() */
		if (!unshare) {
			*ptep |= PTE_W;
			oracle_write_grant(e, mm, f);
		}
		e->m.reuses++;
		*out = OUT_REUSE;
		return 0;
	}

	oracle_copy(e, f);
	err = anon_new(e, unshare ? e->fr[f].owner : mm->id, &nf);
	if (err)
		return err;
	oracle_cow_replaced(e, mm, pg, f);
	*ptep = 0;
	mm->rss--;
	e->resident--;
	e->fr[f].map--;
	frame_put(e, f, 1);
	map_new(e, mm, ptep, nf, !unshare);
	e->m.copies_fault++;
	*out = OUT_COPY;
	return 0;
}

/* The latency model's cost of a fault by outcome, in ns (filled once by
 * sim_create() from the cost parameters). */
static void fault_costs(struct sim_engine *e)
{
	const struct cost_params *c = &e->cfg->cost;

	for (int o = 0; o < OUT_NR; o++) {
		double ns = c->fault_base_ns;
		if (o == OUT_COPY || o == OUT_COPY_FILE)
			ns += c->fault_per_copy_ns;
		else if (o == OUT_NEW || o == OUT_ZERO_FILL)
			ns += c->fault_per_zero_ns;
		e->fault_ns[o] = (uint64_t)ns;
	}
}

/* handle_mm_fault() for one page.  *out says what happened. */
HOT_INLINE int fault_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                          bool write, bool instr, enum sim_out *out)
{
	struct vma *vma = vma_find(&mm->vmas, pg);

	if (!vma) {
		*out = OUT_BAD;
		return 0;
	}
	if ((write && !(vma->flags & VMA_WRITE)) ||
	    (instr && !(vma->flags & VMA_EXEC)) ||
	    !(vma->flags & VMA_PROT_MASK)) {
		*out = OUT_SEGV;
		return 0;
	}
	uint64_t *ptep = pte_ptr(e, mm, pg, true);
	if (!ptep)
		return -ENOMEM;
	uint64_t pte = *ptep;
	if (!pte) {
		if (write && (vma->flags & (VMA_SHARED | VMA_ANON)) == VMA_ANON)
			return anon_write_fault(e, mm, vma, ptep, out);
		return fault_none(e, mm, vma, pg, ptep, write, out);
	}
	if (!(pte & PTE_P))
		return fault_swap(e, mm, vma, pg, ptep, write, out);
	if (write && !(pte & PTE_W)) {
		e->m.wp_faults++;
		return wp_fault(e, mm, vma, pg, ptep, false, out);
	}
	*out = OUT_NONE;
	return 0;
}

/* Tell the fault hook of a write fault, and remember which fault it was
 * for its label (ev_observed()).  Event index: the event being applied. */
static void fault_log(struct sim_engine *e, struct sim_task *tk,
                      const struct sim_mm *mm, const struct cs_ev *ev,
                      bool write)
{
	uint64_t seq = e->m.events - 1;

	tk->last_seq = (uint32_t)seq;
	tk->last_hooked = write;
	if (!write)
		return;
	struct sim_fault_rec r = { .seq = seq, .ts = ev->ts, .addr = ev->addr,
	                           .tid = tk->tid, .tgid = tk->tgid,
	                           .proc = tk->proc, .mm = mm->id,
	                           .flags = ev->flags, .out = tk->last_out };
	e->fault_hook(e->fault_ctx, &r, 0);
}

HOT_INLINE int ev_fault(struct sim_engine *e, uint32_t t,
                        const struct cs_ev *ev)
{
	struct sim_task *tk = &e->task[t - 1];
	struct sim_mm *mm = &e->mm[tk->mm];
	bool write = ev->flags & EV_PF_WRITE;
	enum sim_out out;

	int err = fault_page(e, mm, ev->addr >> EV_PAGE_SHIFT, write,
	                     ev->flags & EV_PF_INSTR, &out);
	if (err)
		return err;
	e->fault_n[write][out]++;
	tk = &e->task[t - 1];
	tk->last_addr = ev->addr;
	tk->last_out = (uint8_t)out;
	if (e->fault_hook)
		fault_log(e, tk, mm, ev, write);
	return 0;
}

/* Move the per-outcome fault counts into the metrics (see fault_n). */
static void fault_fold(struct sim_engine *e)
{
	for (int w = 0; w < 2; w++) {
		for (int o = 0; o < OUT_NR; o++) {
			uint64_t n = e->fault_n[w][o];
			if (!n)
				continue;
			e->fault_n[w][o] = 0;
			e->m.faults += n;
			if (w)
				e->m.write_faults += n;
			if (o == OUT_NONE)
				e->m.spurious_faults += n;
			else if (o == OUT_BAD)
				e->m.bad_faults += n;
			else if (o == OUT_SEGV)
				e->m.segv_faults += n;
			e->m.fault_latency_ns_sum += n * e->fault_ns[o];
		}
	}
}

/* Does an observed kernel outcome agree with what the engine did? */
static bool outcome_agrees(unsigned obs, enum sim_out o)
{
	switch (obs) {
	case EV_OBS_COPY:
		return o == OUT_COPY || o == OUT_COPY_FILE;
	case EV_OBS_ZERO:
	case EV_OBS_NEW:
		return o == OUT_ZERO_FILL || o == OUT_NEW;
	case EV_OBS_REUSE:
		return o == OUT_REUSE || o == OUT_NONE || o == OUT_MKWRITE ||
		       o == OUT_SWAPIN;
	default:
		return false;
	}
}

static void ev_observed(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	struct sim_task *tk = &e->task[t - 1];

	switch (ev->flags) {
	case EV_OBS_COPY: e->m.observed_copies++; break;
	case EV_OBS_REUSE: e->m.observed_reuses++; break;
	case EV_OBS_ZERO:
	case EV_OBS_NEW: e->m.observed_zero_fills++; break;
	default: return;
	}
	if ((tk->last_addr >> EV_PAGE_SHIFT) != (ev->addr >> EV_PAGE_SHIFT))
		return;
	e->m.labelled++;
	if (outcome_agrees(ev->flags, (enum sim_out)tk->last_out))
		e->m.agree++;
	if (e->fault_hook && tk->last_hooked) {
		/* The fault is at most 2^32 events back: its low bits say
		 * which. */
		uint64_t now = e->m.events - 1;
		uint64_t seq = now - (uint32_t)((uint32_t)now - tk->last_seq);
		struct sim_fault_rec r = { .seq = seq, .ts = ev->ts,
		                           .addr = ev->addr, .tid = tk->tid,
		                           .tgid = tk->tgid, .proc = tk->proc,
		                           .mm = e->mm[tk->mm].id,
		                           .out = tk->last_out,
		                           .observed = (uint8_t)ev->flags };
		e->fault_hook(e->fault_ctx, &r, 1);
	}
}

/* ------------------------------------------------------------------ */
/* rmap: every PTE that maps a frame                                   */

typedef void (*rmap_fn)(struct sim_engine *e, struct sim_mm *mm,
                        uint64_t *ptep, uint32_t f, void *arg);

/*
 * Visit every present PTE mapping frame f.  Pages shared by fork() sit at
 * the same address in every address space, so that address is tried first
 * in each; only if some mapping is still unaccounted for (mremap moved it)
 * is every anonymous area of every address space scanned.
 */
static void rmap_walk(struct sim_engine *e, uint32_t f, uint64_t pg,
                      rmap_fn fn, void *arg)
{
	uint32_t want = e->fr[f].map - e->fr[f].phantom, seen = 0;

	for (uint32_t i = 1; i < e->nmm && seen < want; i++) {
		struct sim_mm *mm = &e->mm[i];
		if (!mm->users)
			continue;
		uint64_t *p = pte_ptr(e, mm, pg, false);
		if (p && (*p & PTE_P) && pte_idx(*p) == f) {
			seen++;
			fn(e, mm, p, f, arg);
		}
	}
	if (seen >= want)
		return;
	for (uint32_t i = 1; i < e->nmm; i++) {
		struct sim_mm *mm = &e->mm[i];
		if (!mm->users)
			continue;
		for (size_t v = 0; v < mm->vmas.n; v++) {
			uint64_t q = mm->vmas.v[v].start, end = mm->vmas.v[v].end;
			uint32_t t;
			while ((t = pt_next_pte_table(&e->pt, mm->pgd, &q, end))) {
				uint64_t *tbl = pt_table(&e->pt, t);
				uint64_t stop = (q | (PT_ENTRIES - 1)) + 1;
				if (stop > end)
					stop = end;
				for (; q < stop; q++) {
					uint64_t *p = &tbl[q & (PT_ENTRIES - 1)];
					if (q != pg && (*p & PTE_P) && pte_idx(*p) == f)
						fn(e, mm, p, f, arg);
				}
			}
		}
	}
}

static void rmap_to_swap(struct sim_engine *e, struct sim_mm *mm,
                         uint64_t *ptep, uint32_t f, void *arg)
{
	uint32_t s = *(uint32_t *)arg;
	bool excl = e->fr[f].flags & FR_EXCL;

	*ptep = pte_mk(s, PTE_SWP | (excl ? PTE_SWPX : 0));
	e->slot[s].count++;
	mm->rss--;
	e->resident--;
	e->fr[f].map--;
	frame_put(e, f, 1);
}

static void rmap_wrprotect(struct sim_engine *e, struct sim_mm *mm,
                           uint64_t *ptep, uint32_t f, void *arg)
{
	(void)e; (void)mm; (void)f; (void)arg;
	*ptep &= ~PTE_W;
}

static void rmap_move(struct sim_engine *e, struct sim_mm *mm, uint64_t *ptep,
                      uint32_t f, void *arg)
{
	uint32_t nf = *(uint32_t *)arg;
	(void)mm;
	*ptep = pte_mk(nf, *ptep & (PTE_P | PTE_W));
	e->fr[nf].map++;
	e->fr[nf].ref++;
	e->fr[f].map--;
	e->fr[f].ref--;
}

/* ------------------------------------------------------------------ */
/* swap-out, KSM, migration                                            */

/* shrink_folio_list() + try_to_unmap() for the page at pg in mm, after the
 * check phase: unmap it everywhere and write it out. */
static void swapout_commit(struct sim_engine *e, uint32_t f, uint64_t pg)
{
	if (!e->pol->may_unmap(e, f, POL_UNMAP_SWAP, true)) {
		/* The rmap code saw a pin once the PTEs were cleared and put
		 * them back; the page stays in the swap cache, mapped. */
		e->m.swapout_refused++;
		return;
	}
	uint32_t s = sim_frame_swap(e, f);
	rmap_walk(e, f, pg, rmap_to_swap, &s);
	e->fr[f].flags &= (uint16_t)~FR_EXCL;
	e->m.swapouts++;
	/* Written out: if nothing but the swap cache holds it, it is freed
	 * (__remove_mapping()); GUP'd or batched pages stay in the cache. */
	if (e->fr[f].ref == 1)
		swapcache_del(e, f);
}

/*
 * Reclaim of the page at pg.  pageout: MADV_PAGEOUT, which only takes pages
 * mapped once.  race: a GUP-fast runs between the check and the unmap
 * (the next event), so the unmap is deferred.
 */
static int swapout_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                        bool pageout, bool race, bool swap_on)
{
	uint64_t *ptep = pte_ptr(e, mm, pg, false);
	if (!ptep || !(*ptep & PTE_P))
		return 0;
	uint32_t f = pte_idx(*ptep);
	struct sim_frame *fr = &e->fr[f];
	if (!f || !(fr->flags & FR_ANON) || (fr->flags & FR_KSM))
		return 0;
	if (pageout && fr->map != 1)
		return 0;
	if (!swap_on || fr->phantom || (fr->flags & FR_BATCH) ||
	    !e->pol->may_unmap(e, f, POL_UNMAP_SWAP, false)) {
		e->m.swapout_refused++;
		return 0;
	}
	if (!(fr->flags & FR_INSWAP)) {
		uint32_t s;
		int err = slot_alloc(e, &s);
		if (err)
			return err;
		err = frame_set_swap(e, f, s);
		if (err)
			return err;
		frame_get(e, f, 1);
		e->slot[s].frame = f;
	}
	if (race) {
		e->race = (struct sim_race){ .kind = 1, .mm = (uint32_t)(mm - e->mm),
		                             .pg = pg, .frame = f };
		return 0;
	}
	swapout_commit(e, f, pg);
	return 0;
}

static int ev_swapout(struct sim_engine *e, struct sim_mm *mm,
                      const struct cs_ev *ev, bool swap_on)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	bool race = (ev->flags & EV_SWAPOUT_RACE) && ev->len == 1;

	/* Reclaim isolates from the LRU after draining this CPU's batch
	 * (shrink_inactive_list() -> lru_add_drain()). */
	sim_lru_drain_local(e);
	for (uint64_t i = 0; i < ev->len; i++) {
		int err = swapout_page(e, mm, pg + i, false, race, swap_on);
		if (err)
			return err;
	}
	return 0;
}

/* EV_SWAPIN: swap readahead brings the page into the swap cache. */
static int ev_swapin(struct sim_engine *e, struct sim_mm *mm,
                     const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_SWP))
			continue;
		uint32_t s = pte_idx(*ptep), f;
		int err;
		if (!e->slot[s].frame && (err = swap_readin(e, s, &f)))
			return err;
	}
	return 0;
}

/* ksm: try_to_merge_one_page() / write_protect_page(). */
static int ev_ksm(struct sim_engine *e, struct sim_mm *mm,
                  const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_P))
			continue;
		uint32_t f = pte_idx(*ptep);
		struct sim_frame *fr = &e->fr[f];
		if (!f || !(fr->flags & FR_ANON) || (fr->flags & FR_KSM))
			continue;
		/* "mapcount + 1 + swapcache == refcount": any other reference
		 * (GUP, an LRU batch) makes KSM leave the page alone. */
		uint32_t expect = fr->map + ((fr->flags & FR_INSWAP) ? 1 : 0);
		if (fr->ref != expect || (fr->flags & FR_INSWAP) ||
		    !e->pol->may_unmap(e, f, POL_UNMAP_KSM, true)) {
			e->m.ksm_refused++;
			continue;
		}
		uint64_t key = ev->aux + i;
		uint32_t kf = ksm_lookup(e, key);
		if (kf == NO_FRAME) {
			if (e->nksm == e->capksm) {
				uint32_t cap = e->capksm ? e->capksm * 2 : 16;
				uint64_t *k = realloc(e->ksm_key, cap * sizeof(*k));
				if (!k)
					return -ENOMEM;
				e->ksm_key = k;
				uint32_t *v = realloc(e->ksm_frame, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				e->ksm_frame = v;
				acct(e, (int64_t)(cap - e->capksm) * 12);
				e->capksm = cap;
			}
			e->ksm_key[e->nksm] = key;
			e->ksm_frame[e->nksm++] = f;
			fr->flags = (uint16_t)((fr->flags | FR_KSM) & ~FR_EXCL);
			rmap_walk(e, f, pg + i, rmap_wrprotect, NULL);
		} else {
			*ptep = 0;
			fr->map--;
			frame_put(e, f, 1);
			mm->rss--;
			e->resident--;
			map_frame(e, mm, ptep, kf, false);
		}
		e->m.ksm_merges++;
	}
	return 0;
}

/* migrate_pages() of the page at pg: a move to a new frame that keeps
 * every bit of state, refused while anything but mappings and the swap
 * cache holds a reference. */
static int ev_migrate(struct sim_engine *e, struct sim_mm *mm,
                      const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	lru_drain_all(e);   /* migrate_prep(): lru_add_drain_all() */
	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_P))
			continue;
		uint32_t f = pte_idx(*ptep), nf;
		if (!f)
			continue;
		struct sim_frame *fr = &e->fr[f];
		uint32_t expect = fr->map + ((fr->flags & FR_INSWAP) ? 1 : 0) +
		                  ((fr->flags & FR_FILE) ? 1 : 0);
		if (fr->ref != expect || fr->phantom ||
		    !e->pol->may_unmap(e, f, POL_UNMAP_MIGRATE, true)) {
			e->m.migrate_refused++;
			continue;
		}
		uint16_t keep = fr->flags & (FR_ANON | FR_EXCL | FR_FILE | FR_KSM |
		                             FR_INSWAP | FR_GUPPED);
		int err = frame_alloc(e, keep | FR_LRU, fr->owner, &nf);
		if (err)
			return err;
		fr = &e->fr[f];
		struct sim_frame *nfr = &e->fr[nf];
		if (keep & FR_INSWAP) {
			uint32_t s = sim_frame_swap(e, f);
			side_del(&e->swapof, f);
			err = side_set(e, &e->swapof, nf, s);   /* room: f's */
			if (err)
				return err;
			e->slot[s].frame = nf;
			nfr->ref++;
			fr->ref--;
			fr->flags &= (uint16_t)~FR_INSWAP;
		}
		if (keep & FR_FILE) {
			for (uint32_t h = 0; h < e->pccap; h++)
				if (e->pc_val[h] == f + 1)
					e->pc_val[h] = nf + 1;
			nfr->ref++;
			fr->ref--;
		}
		if (keep & FR_KSM)
			for (uint32_t k = 0; k < e->nksm; k++)
				if (e->ksm_frame[k] == f)
					e->ksm_frame[k] = nf;
		rmap_walk(e, f, pg + i, rmap_move, &nf);
		fr = &e->fr[f];
		fr->flags &= (uint16_t)~(FR_KSM | FR_FILE);
		assert(fr->ref == 0 && fr->map == 0);
		frame_free(e, f);
		e->m.migrations++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* GUP                                                                 */

static uint32_t gup_find(struct sim_engine *e, uint32_t id)
{
	if (!e->gixcap)
		return NO_FRAME;
	uint32_t h = hash32(id) & (e->gixcap - 1);
	while (e->gix[h]) {
		uint32_t g = e->gix[h] - 1;
		if (e->gup[g].live && e->gup[g].id == id)
			return g;
		h = (h + 1) & (e->gixcap - 1);
	}
	return NO_FRAME;
}

/* Rebuild the id index (live handles only) at capacity cap. */
static int gix_rebuild(struct sim_engine *e, uint32_t cap)
{
	uint32_t *n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint32_t g = 0; g < e->ngup; g++) {
		if (!e->gup[g].live)
			continue;
		uint32_t h = hash32(e->gup[g].id) & (cap - 1);
		while (n[h])
			h = (h + 1) & (cap - 1);
		n[h] = g + 1;
	}
	acct(e, ((int64_t)cap - e->gixcap) * 4);
	free(e->gix);
	e->gix = n;
	e->gixcap = cap;
	return 0;
}

static void gup_release(struct sim_engine *e, uint32_t g)
{
	struct sim_gup *h = &e->gup[g];

	for (uint32_t i = 0; i < h->npages; i++) {
		uint32_t f = h->frames[2 * i];
		uint32_t refs = h->frames[2 * i + 1];
		if (f == NO_FRAME || !refs)
			continue;
		uint32_t g = sim_frame_gup(e, f);
		assert(g >= refs);
		frame_set_gup(e, f, g - refs);   /* a decrease: cannot fail */
		frame_put(e, f, refs * h->inc);
	}
	free(h->frames);
	acct(e, -(int64_t)h->npages * 8);
	h->frames = NULL;
	h->live = 0;
	e->live_gups--;
	/* Dead handles are swept when the array is compacted in gup_new(). */
}

/* Take up to refs references of inc each on frame f; *taken says how
 * many.  Returns 0 or -ENOMEM. */
static int gup_take(struct sim_engine *e, uint32_t f, uint64_t refs,
                    uint32_t inc, uint32_t *taken)
{
	struct sim_frame *fr = &e->fr[f];
	uint64_t room, cur = fr->ref;
	uint32_t gup = sim_frame_gup(e, f);

	if (e->cfg->gup_overflow_check)
		/* try_get_page()/try_grab_folio() (5.1, 8fde12ca79af): refuse a
		 * reference the refcount cannot hold without going negative. */
		room = cur < INT32_MAX ? (INT32_MAX - cur) / inc : 0;
	else
		room = cur < UINT32_MAX ? (UINT32_MAX - cur) / inc : 0;
	if (room > UINT32_MAX - gup)
		room = UINT32_MAX - gup;
	uint64_t k = refs < room ? refs : room;
	if (k < refs)
		e->m.gup_refused += refs - k;
	if (k) {
		uint64_t n = cur + k * inc;
		if (cur <= INT32_MAX && n > INT32_MAX)
			e->m.refcount_overflows++;
		int err = frame_set_gup(e, f, gup + (uint32_t)k);
		if (err)
			return err;
		fr = &e->fr[f];
		fr->ref = (uint32_t)n;
		if (fr->ref > e->m.max_refcount)
			e->m.max_refcount = fr->ref;
	}
	*taken = (uint32_t)k;
	return 0;
}

static int gup_new(struct sim_engine *e, uint32_t id, uint32_t *out)
{
	if (e->ngup == e->capgup && e->live_gups < e->ngup / 2) {
		/* Compact dead handles away before growing. */
		uint32_t w = 0;
		for (uint32_t g = 0; g < e->ngup; g++)
			if (e->gup[g].live)
				e->gup[w++] = e->gup[g];
		e->ngup = w;
		int err = gix_rebuild(e, e->gixcap ? e->gixcap : 64);
		if (err)
			return err;
	}
	if (e->ngup == e->capgup &&
	    grow(e, (void **)&e->gup, &e->capgup, (size_t)e->ngup + 1,
	         sizeof(*e->gup)))
		return -ENOMEM;
	uint32_t g = e->ngup++;
	e->gup[g] = (struct sim_gup){ .id = id, .live = 1 };
	e->live_gups++;
	if (e->ngup * 2 > e->gixcap) {
		int err = gix_rebuild(e, e->gixcap ? e->gixcap * 2 : 64);
		if (err)
			return err;
	} else {
		uint32_t h = hash32(id) & (e->gixcap - 1);
		while (e->gix[h])
			h = (h + 1) & (e->gixcap - 1);
		e->gix[h] = g + 1;
	}
	*out = g;
	return 0;
}

/* GUP on the page at pg: fault it in, break COW or unshare as the policy
 * says, then reference whatever is mapped.  Returns the frame or NO_FRAME
 * (no mapping: GUP stops there, as get_user_pages() returns short). */
static int gup_page(struct sim_engine *e, struct sim_mm *mm, uint64_t pg,
                    uint32_t flags, bool raced, uint32_t *out)
{
	struct vma *vma = vma_find(&mm->vmas, pg);
	bool write = flags & EV_GUP_WRITE;
	enum sim_out o;
	int err;

	*out = NO_FRAME;
	if (!vma || (write && !(vma->flags & VMA_MAYWRITE)))
		return 0;
	uint64_t *ptep = pte_ptr(e, mm, pg, true);
	if (!ptep)
		return -ENOMEM;
	if (raced) {
		/* GUP-fast read the PTE before fork() write-protected it: the
		 * page looked writable and exclusive, so no fault, no unshare. */
		if (*ptep & PTE_P)
			*out = pte_idx(*ptep);
		return 0;
	}
	e->in_gup = 1;
	if (!(*ptep & PTE_P)) {
		/* faultin_page(): GUP faults through handle_mm_fault(), and no
		 * fault tracepoint fires for it. */
		if (!*ptep)
			err = fault_none(e, mm, vma, pg, ptep, write, &o);
		else
			err = fault_swap(e, mm, vma, pg, ptep, write, &o);
		if (err)
			goto out;
	}
	bool w = *ptep & PTE_W;
	enum pol_gup d = e->pol->gup(e, vma, pte_idx(*ptep), w, flags);
	if (d == POL_GUP_WRITE && !w) {
		e->m.gup_cow_breaks++;
		err = wp_fault(e, mm, vma, pg, ptep, !(vma->flags & VMA_WRITE), &o);
		if (err)
			goto out;
	} else if (d == POL_GUP_UNSHARE) {
		e->m.gup_unshares++;
		err = wp_fault(e, mm, vma, pg, ptep, true, &o);
		if (err)
			goto out;
	}
	*out = pte_idx(*ptep);
	err = 0;
out:
	e->in_gup = 0;
	return err;
}

static int ev_gup(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t mi = e->task[t - 1].mm;
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	uint64_t refs = ev->aux ? ev->aux : 1;
	bool pin = ev->flags & EV_GUP_PIN;
	bool raced = (ev->flags & EV_GUP_RACED) && e->race.kind == 2 &&
	             e->race.mm == mi && e->pol->gup_fast_races_fork(e);
	uint32_t g;
	int err;

	uint32_t old = gup_find(e, ev->arg);
	if (old != NO_FRAME)
		gup_release(e, old);    /* a handle id reused: the old one ended */
	err = gup_new(e, ev->arg, &g);
	if (err)
		return err;
	uint32_t *frames = malloc((size_t)ev->len * 2 * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	acct(e, (int64_t)ev->len * 8);
	struct sim_gup *h = &e->gup[g];
	h->mm_id = e->mm[mi].id;
	h->start = pg;
	h->npages = ev->len;
	h->flags = ev->flags;
	h->refs = refs;
	h->inc = pin && e->pin_bias > 1 ? e->pin_bias : 1;
	h->frames = frames;
	for (uint32_t i = 0; i < ev->len; i++)
		frames[2 * i] = NO_FRAME, frames[2 * i + 1] = 0;
	e->m.gups++;

	for (uint32_t i = 0; i < ev->len; i++) {
		uint32_t f;
		err = gup_page(e, &e->mm[mi], pg + i, ev->flags, raced, &f);
		if (err)
			return err;
		if (f == NO_FRAME) {
			e->m.gup_refused += ev->len - i;
			break;
		}
		h = &e->gup[g];
		if (f == 0 && pin && e->cfg->zero_page_pin_noref) {
			/* c8070b787519: pinning the zero page takes no ref. */
			e->m.gup_pages++;
			continue;
		}
		frames[2 * i] = f;
		err = gup_take(e, f, refs, h->inc, &frames[2 * i + 1]);
		if (err)
			return err;
		if (f && (e->fr[f].flags & FR_ANON))
			e->fr[f].flags |= FR_GUPPED;
		e->m.gup_pages++;
	}
	if (pin)
		e->mm[mi].has_pinned = true;
	return 0;
}

static void ev_gup_put(struct sim_engine *e, const struct cs_ev *ev)
{
	uint32_t g = gup_find(e, ev->arg);
	if (g == NO_FRAME) {
		e->m.unknown_handles++;
		return;
	}
	gup_release(e, g);
}

/* ------------------------------------------------------------------ */
/* fork, exec, exit                                                    */

struct fork_ctx {
	struct sim_mm *parent;
	struct sim_mm *child;
	struct sim_fork_rec *rec;
};

/* copy_present_page(): the policy wants the child to have its own copy of
 * frame f now ("early COW"), writable if the area is; the parent's PTE is
 * left alone (5.9) or write-protected as for sharing (2009). */
static int copy_early(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma, uint64_t *src, uint64_t *dst,
                      uint32_t f, enum pol_fork d)
{
	uint32_t nf;

	if (d == POL_FORK_COPY_WP)
		*src &= ~PTE_W;
	if (!(e->fr[f].flags & FR_GUPREF))
		e->m.unnecessary_fork_copies++;
	int err = anon_new(e, e->fr[f].owner, &nf);
	if (err)
		return err;
	map_new(e, fc->child, dst, nf, vma->flags & VMA_WRITE);
	fc->rec->pages_copied++;
	e->m.copies_fork++;
	return 0;
}

/*
 * copy_pte_range(): copy_present_pte() / copy_nonpresent_pte() for every
 * entry of one PTE table in [*pg, stop).  This loop runs once per PTE of
 * every forked address space - about one PTE per event in a fork-heavy
 * trace - so it keeps to the common case: a page that is shared, not
 * copied.  The policy is asked only about pages its fork_filter says it
 * might copy; the counts the loop changes in the child and the engine
 * (rss, resident, PTEs) are added once per table.
 */
static int copy_table(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma, uint64_t *stbl, uint64_t *dtbl,
                      uint64_t pg, uint64_t stop)
{
	bool cow = !(vma->flags & VMA_SHARED);
	/* Pages that fork_copy might not share (fork_filter): FR_GUPPED set,
	 * or - with has_pinned - a refcount that looks pinned.  Frames outside
	 * [0, thr) by refcount and without gmask are shared unasked. */
	uint16_t gmask = cow && (e->fork_filter & POL_FF_GUPPED) ? FR_GUPPED : 0;
	uint32_t thr = cow && (e->fork_filter & POL_FF_PINNED) &&
	               fc->parent->has_pinned && e->pin_bias > 1
	               ? e->pin_bias : UINT32_MAX;
	uint64_t ptes = 0, rss = 0;
	int err = 0;

	for (; pg < stop; pg++) {
		unsigned i = (unsigned)pg & (PT_ENTRIES - 1);
		/* Frames of consecutive PTEs are scattered: fetch some ahead so
		 * that their cache misses overlap. */
		uint64_t ahead = stbl[(i + FORK_AHEAD) & (PT_ENTRIES - 1)];
		if (ahead & PTE_P)
			__builtin_prefetch(&e->fr[pte_idx(ahead)], 1);
		uint64_t pte = stbl[i];
		if (!pte)
			continue;
		ptes++;
		if (!(pte & PTE_P)) {
			/* swap_duplicate(); 5.19 clears the exclusive bit in the
			 * parent (and the child never gets it). */
			e->slot[pte_idx(pte)].count++;
			stbl[i] = pte & ~PTE_SWPX;
			dtbl[i] = pte & ~PTE_SWPX;
			continue;
		}
		uint32_t f = pte_idx(pte);
		struct sim_frame *fr = &e->fr[f];
		if (f && ((fr->flags & gmask) || fr->ref >= thr) &&
		    (fr->flags & (FR_ANON | FR_KSM)) == FR_ANON) {
			enum pol_fork d = e->pol->fork_copy(e, fc->parent, f);
			if (d != POL_FORK_SHARE) {
				err = copy_early(e, fc, vma, &stbl[i], &dtbl[i], f, d);
				if (err)
					break;
				continue;
			}
		}
#ifndef NDEBUG
		else if (f && cow && (fr->flags & (FR_ANON | FR_KSM)) == FR_ANON) {
			/* The policy's fork_filter promised this. */
			assert(e->pol->fork_copy(e, fc->parent, f) == POL_FORK_SHARE);
		}
#endif
		if (cow) {
			pte &= ~PTE_W;
			stbl[i] = pte;
			if (f)
				fr->flags &= (uint16_t)~FR_EXCL;
		}
		/* map_frame() of the same page for the child. */
		dtbl[i] = pte;
		rss++;
		if (f) {
			fr->map++;
			if (fr->map > e->m.max_mapcount)
				e->m.max_mapcount = fr->map;
			frame_get(e, f, 1);
		}
	}
	fc->rec->ptes += ptes;
	fc->child->rss += rss;
	e->resident += rss;
	return err;
}

static int copy_range(struct sim_engine *e, struct fork_ctx *fc,
                      struct vma *vma)
{
	uint64_t pg = vma->start, end = vma->end;
	uint32_t t;

	while ((t = pt_next_pte_table(&e->pt, fc->parent->pgd, &pg, end))) {
		uint64_t *stbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		if (stop > end)
			stop = end;
		/* Skip to the first entry in use: an empty stretch needs no
		 * table in the child. */
		while (pg < stop && !stbl[pg & (PT_ENTRIES - 1)])
			pg++;
		if (pg == stop)
			continue;
		uint32_t n = 0;
		uint32_t d = pt_pte_table(&e->pt, fc->child->pgd, pg, true, &n);
		if (!d)
			return -ENOMEM;
		fc->child->nr_pt += n;
		int err = copy_table(e, fc, vma, stbl, pt_table(&e->pt, d), pg,
		                     stop);
		if (err)
			return err;
		pg = stop;
	}
	return 0;
}

static double fork_cost(const struct cost_params *c,
                        const struct sim_fork_rec *r, bool vm)
{
	if (vm)
		return c->vfork_base_ns;
	return c->fork_base_ns + c->fork_per_vma_ns * r->vmas +
	       c->fork_per_pt_page_ns * r->pt_pages +
	       c->fork_per_pte_ns * (double)r->ptes +
	       c->fork_per_copy_ns * r->pages_copied;
}

/* dup_mmap() + copy_page_range(). */
static int mm_dup(struct sim_engine *e, uint32_t pmi, uint32_t cmi,
                  struct sim_fork_rec *rec)
{
	struct sim_mm *parent = &e->mm[pmi], *child = &e->mm[cmi];
	int err;

	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	err = vma_set_copy(&child->vmas, &parent->vmas);
	if (err)
		return err;
	/* MADV_DONTFORK areas are not inherited at all. */
	for (size_t i = child->vmas.n; i-- > 0;) {
		struct vma *v = &child->vmas.v[i];
		if (v->flags & VMA_DONTCOPY) {
			err = vma_unmap(&child->vmas, v->start, v->end);
			if (err)
				return err;
		} else if (v->flags & VMA_WIPEONFORK) {
			v->flags &= ~VMA_HAS_ANON;
		}
	}
	rec->vmas = (uint32_t)child->vmas.n;
	struct fork_ctx fc = { .parent = parent, .child = child, .rec = rec };
	uint32_t pt0 = child->nr_pt;
	for (size_t i = 0; i < parent->vmas.n; i++) {
		struct vma *v = &parent->vmas.v[i];
		/* vma_needs_copy(): only areas with anonymous pages; the rest
		 * the child refaults. */
		if (!(v->flags & VMA_HAS_ANON) ||
		    (v->flags & (VMA_DONTCOPY | VMA_WIPEONFORK | VMA_SPECIAL)))
			continue;
		err = copy_range(e, &fc, v);
		if (err)
			return err;
		parent = fc.parent = &e->mm[pmi];
		child = fc.child = &e->mm[cmi];
	}
	rec->pt_pages = child->nr_pt - pt0 + 1;   /* + the PGD */
	return 0;
}

static int ev_fork(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t ctid = ev->arg;
	uint32_t flags = ev->flags;
	bool vm = flags & EV_CLONE_VM;
	bool thread = flags & EV_CLONE_THREAD;
	uint32_t ptgid = e->task[t - 1].tgid;
	uint32_t ctgid = thread ? ptgid : ctid;
	uint32_t cmi, ct;
	int err;

	if (ctid == ev->tid || !ctid)
		return 0;
	uint32_t stale = task_find(e, ctid);
	if (stale) {
		/* Its exit was lost; pid reused. */
		uint32_t sp = e->task[stale - 1].proc;
		task_gone(e, stale);
		if (sp != SIM_NONE && !proc_alive(e, sp))
			proc_lost(e, sp);
		t = task_find(e, ev->tid);   /* task_gone() moves tasks */
	}
	uint32_t pmi = e->task[t - 1].mm;
	uint32_t cproc = thread ? e->task[t - 1].proc : SIM_NONE;
	if (thread)
		e->m.threads++;
	else
		e->m.forks++;
	if (vm) {
		cmi = pmi;
		e->mm[cmi].users++;
		err = task_new(e, ctid, ctgid, cmi, cproc, &ct);
		if (err)
			return err;
		if (thread)
			return 0;
	} else {
		err = mm_alloc(e, ctgid, &cmi);
		if (err)
			return err;
		err = task_new(e, ctid, ctgid, cmi, cproc, &ct);
		if (err)
			return err;
	}
	if (!thread && (err = proc_fork(e, t, ct, (uint32_t)e->nforks)))
		return err;
	if (e->nforks == e->capforks) {
		size_t cap = e->capforks ? e->capforks * 2 : 64;
		struct sim_fork_rec *n = realloc(e->forks, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		acct(e, (int64_t)(cap - e->capforks) * (int64_t)sizeof(*n));
		e->forks = n;
		e->capforks = cap;
	}
	struct sim_fork_rec rec = {
		.ts = ev->ts, .parent_tid = ev->tid, .child_tid = ctid,
		.parent_mm = e->mm[pmi].id, .child_mm = e->mm[cmi].id,
		.clone_flags = flags,
	};
	if (!vm) {
		err = mm_dup(e, pmi, cmi, &rec);
		if (err)
			return err;
		e->m.ptes_copied += rec.ptes;
		e->m.pt_pages_copied += rec.pt_pages;
		e->race = (struct sim_race){ .kind = 2, .mm = pmi };
	}
	rec.latency_ns = (uint64_t)fork_cost(&e->cfg->cost, &rec, vm);
	e->forks[e->nforks++] = rec;
	return 0;
}

static void ev_fork_done(struct sim_engine *e, const struct cs_ev *ev)
{
	for (size_t i = e->nforks; i-- > 0 && i + 64 >= e->nforks;) {
		struct sim_fork_rec *r = &e->forks[i];
		if (r->child_tid == ev->arg && r->parent_tid == ev->tid) {
			r->observed_ns = ev->aux;
			return;
		}
	}
}

static int ev_exec(struct sim_engine *e, uint32_t t, const struct cs_ev *ev)
{
	uint32_t omi = e->task[t - 1].mm, mi;
	int err = mm_alloc(e, ev->tgid, &mi);
	if (err)
		return err;
	e->task[t - 1].mm = mi;
	proc_exec(e, e->task[t - 1].proc, ev->arg);
	e->m.execs++;
	mm_put(e, omi);
	return 0;
}

/* ------------------------------------------------------------------ */
/* mmap and friends                                                    */

static int unmap_pages(struct sim_engine *e, struct sim_mm *mm, uint64_t start,
                       uint64_t end)
{
	if (e->cfg->munmap_drains_lru)
		sim_lru_drain_local(e);
	zap_range(e, mm, start, end);
	int err = vma_unmap(&mm->vmas, start, end);
	if (err)
		return err;
	prune_tables(e, mm, start, end);
	return 0;
}

static int ev_mmap(struct sim_engine *e, struct sim_mm *mm,
                   const struct cs_ev *ev)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;
	uint32_t flags = ev->flags & 0x0fffu;
	uint32_t file = ev->arg;
	uint64_t pgoff = ev->aux;
	int err;

	if (ev->flags & EV_MAP_INFERRED)
		e->m.inferred_vmas++;
	/* MAP_FIXED over an existing mapping unmaps it first. */
	if (vma_lower_bound(&mm->vmas, start) < mm->vmas.n) {
		zap_range(e, mm, start, end);
		err = vma_unmap(&mm->vmas, start, end);
		if (err)
			return err;
	}
	if (!(flags & VMA_SHARED) || (flags & VMA_WRITE))
		flags |= VMA_MAYWRITE;
	if ((flags & VMA_SHARED) && !file) {
		/* Shared anonymous memory is shmem: give it a file of its own,
		 * which fork() passes on with the area. */
		file = SHMEM_FILE_BASE | (uint32_t)(++e->next_mm_id);
		pgoff = 0;
	} else if (!file) {
		pgoff = start;   /* anonymous vm_pgoff, so that areas merge */
	}
	return vma_map(&mm->vmas, start, end, flags, file, pgoff);
}

static int ev_mprotect(struct sim_engine *e, struct sim_mm *mm,
                       const struct cs_ev *ev)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;
	uint32_t prot = ev->flags & EV_PROT_MASK;
	int err = vma_update(&mm->vmas, start, end, VMA_PROT_MASK, prot);
	if (err)
		return err;
	/* change_pte_range(): removing write protects every PTE; adding it
	 * makes a PTE writable only where the policy allows (6.0+). */
	uint64_t pg = start;
	uint32_t t;
	while ((t = pt_next_pte_table(&e->pt, mm->pgd, &pg, end))) {
		uint64_t *tbl = pt_table(&e->pt, t);
		uint64_t stop = (pg | (PT_ENTRIES - 1)) + 1;
		if (stop > end)
			stop = end;
		for (; pg < stop; pg++) {
			uint64_t *p = &tbl[pg & (PT_ENTRIES - 1)];
			if (!(*p & PTE_P))
				continue;
			if (!(prot & EV_PROT_WRITE)) {
				*p &= ~PTE_W;
				continue;
			}
			uint32_t f = pte_idx(*p);
			struct vma *v = vma_find(&mm->vmas, pg);
			if (!(*p & PTE_W) && f && v && !(v->flags & VMA_SHARED) &&
			    (e->fr[f].flags & FR_ANON) &&
			    e->pol->mprotect_writable(e, f)) {
				*p |= PTE_W;
				oracle_write_grant(e, mm, f);
			}
		}
	}
	return 0;
}

static int ev_mremap(struct sim_engine *e, struct sim_mm *mm,
                     const struct cs_ev *ev)
{
	uint64_t old = ev->addr >> EV_PAGE_SHIFT, oldn = ev->len;
	uint64_t nw = ev->aux >> EV_PAGE_SHIFT, newn = ev->arg;
	struct vma *v = vma_find(&mm->vmas, old);
	int err;

	if (!v || !newn)
		return 0;
	struct vma tmpl = *v;
	if (nw == old) {
		if (newn < oldn)
			return unmap_pages(e, mm, old + newn, old + oldn);
		return vma_map(&mm->vmas, old + oldn, old + newn, tmpl.flags,
		               tmpl.file, tmpl.pgoff + (old + oldn - tmpl.start));
	}
	/* move_vma(): the pages move with their PTEs; no copy, no count
	 * changes.  Areas are re-created piecewise at the new place. */
	uint64_t keep = oldn < newn ? oldn : newn;
	if (vma_lower_bound(&mm->vmas, nw) < mm->vmas.n) {
		zap_range(e, mm, nw, nw + newn);
		err = vma_unmap(&mm->vmas, nw, nw + newn);
		if (err)
			return err;
	}
	for (uint64_t pg = old; pg < old + keep;) {
		struct vma *s = vma_find(&mm->vmas, pg);
		if (!s) {
			pg++;
			continue;
		}
		uint64_t stop = s->end < old + keep ? s->end : old + keep;
		err = vma_map(&mm->vmas, nw + (pg - old), nw + (stop - old),
		              s->flags, s->file, s->pgoff + (pg - s->start));
		if (err)
			return err;
		pg = stop;
	}
	for (uint64_t i = 0; i < keep; i++) {
		uint64_t *src = pte_ptr(e, mm, old + i, false);
		if (!src || !*src)
			continue;
		uint64_t val = *src;
		*src = 0;
		uint64_t *dst = pte_ptr(e, mm, nw + i, true);
		if (!dst)
			return -ENOMEM;
		*dst = val;
	}
	if (newn > keep) {
		struct vma *last = vma_find(&mm->vmas, nw + keep - 1);
		if (last) {
			struct vma t2 = *last;
			err = vma_map(&mm->vmas, nw + keep, nw + newn, t2.flags,
			              t2.file, t2.pgoff + (nw + keep - t2.start));
			if (err)
				return err;
		}
	}
	return unmap_pages(e, mm, old, old + oldn);
}

static int ev_brk(struct sim_engine *e, struct sim_mm *mm,
                  const struct cs_ev *ev)
{
	uint64_t nbrk = (ev->addr + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT;
	uint64_t obrk = ev->aux ? (ev->aux + EV_PAGE_SIZE - 1) >> EV_PAGE_SHIFT
	                        : mm->brk;

	if (!obrk || !nbrk) {
		/* brk(0), or the first brk the trace shows: it only tells where
		 * the heap is. */
		if (nbrk)
			mm->brk_start = mm->brk = nbrk;
		return 0;
	}
	if (!mm->brk_start)
		mm->brk_start = obrk;
	mm->brk = nbrk;
	if (nbrk > obrk)
		return vma_map(&mm->vmas, obrk, nbrk,
		               VMA_READ | VMA_WRITE | VMA_ANON | VMA_HEAP |
		               VMA_MAYWRITE, 0, obrk);
	if (nbrk < obrk)
		return unmap_pages(e, mm, nbrk, obrk);
	return 0;
}

static int ev_madvise(struct sim_engine *e, struct sim_mm *mm,
                      const struct cs_ev *ev, bool swap_on)
{
	uint64_t start = ev->addr >> EV_PAGE_SHIFT, end = start + ev->len;

	switch (ev->flags) {
	case EV_MADV_DONTNEED:
	case EV_MADV_FREE:
	case EV_MADV_REMOVE:
		/* zap_page_range_single(): drains the local LRU cache first. */
		if (e->cfg->munmap_drains_lru)
			sim_lru_drain_local(e);
		zap_range(e, mm, start, end);
		return 0;
	case EV_MADV_DONTFORK:
		return vma_update(&mm->vmas, start, end, 0, VMA_DONTCOPY);
	case EV_MADV_DOFORK:
		return vma_update(&mm->vmas, start, end, VMA_DONTCOPY, 0);
	case EV_MADV_WIPEONFORK:
		return vma_update(&mm->vmas, start, end, 0, VMA_WIPEONFORK);
	case EV_MADV_KEEPONFORK:
		return vma_update(&mm->vmas, start, end, VMA_WIPEONFORK, 0);
	case EV_MADV_PAGEOUT:
	case EV_MADV_COLD: {
		bool pageout = ev->flags == EV_MADV_PAGEOUT;
		sim_lru_drain_local(e);
		for (uint64_t pg = start; pg < end; pg++) {
			if (pageout) {
				int err = swapout_page(e, mm, pg, true, false, swap_on);
				if (err)
					return err;
				continue;
			}
			/* folio_deactivate(): the page waits in this CPU's batch
			 * with a reference, like an LRU add. */
			uint64_t *p = pte_ptr(e, mm, pg, false);
			if (!p || !(*p & PTE_P) || !pte_idx(*p))
				continue;
			uint32_t f = pte_idx(*p);
			if ((e->fr[f].flags & FR_LRU) && e->fr[f].map == 1) {
				e->fr[f].flags &= (uint16_t)~FR_LRU;
				lru_add(e, f);
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* EV_PAGE_INIT: pages a process had before the trace (a pagemap run). */
static int ev_page_init(struct sim_engine *e, struct sim_mm *mm,
                        const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;
	uint32_t fl = ev->flags;

	for (uint32_t i = 0; i < ev->len; i++) {
		struct vma *v = vma_find(&mm->vmas, pg + i);
		if (!v)
			continue;
		uint64_t *ptep = pte_ptr(e, mm, pg + i, true);
		if (!ptep)
			return -ENOMEM;
		if (*ptep)
			continue;
		int err;
		uint32_t f = NO_FRAME;
		if (fl & EV_PM_SWAPPED) {
			uint32_t s;
			err = slot_alloc(e, &s);
			if (err)
				return err;
			e->slot[s].count = 1;
			*ptep = pte_mk(s, PTE_SWP |
			                  ((fl & EV_PM_EXCLUSIVE) ? PTE_SWPX : 0));
			v->flags |= VMA_HAS_ANON;
			continue;
		}
		if (!(fl & EV_PM_PRESENT))
			continue;
		bool file = (fl & EV_PM_FILE) && v->file;
		if (ev->aux)
			f = u64map_get(e->pfn_key, e->pfn_val, e->pfncap,
			               ev->aux + i);
		if (f == NO_FRAME && file) {
			err = pagecache_get(e, v->file, v->pgoff + (pg + i - v->start),
			                    &f);
			if (err)
				return err;
		} else if (f == NO_FRAME) {
			err = frame_alloc(e, FR_ANON | FR_LRU, mm->id, &f);
			if (err)
				return err;
			if (fl & EV_PM_EXCLUSIVE)
				e->fr[f].flags |= FR_EXCL;
			else if (!ev->aux) {
				/* Shared with a mapper the trace does not show. */
				e->fr[f].phantom++;
				e->fr[f].map++;
				frame_get(e, f, 1);
				e->m.phantom_mappers++;
			}
			v->flags |= VMA_HAS_ANON;
		}
		if (ev->aux && u64map_get(e->pfn_key, e->pfn_val, e->pfncap,
		                          ev->aux + i) == NO_FRAME) {
			err = u64map_put(e, &e->pfn_key, &e->pfn_val, &e->pfncap,
			                 &e->pfnn, ev->aux + i, f);
			if (err)
				return err;
		}
		if (e->fr[f].map && (e->fr[f].flags & FR_ANON))
			e->fr[f].flags &= (uint16_t)~FR_EXCL;
		bool w = (v->flags & VMA_WRITE) && (e->fr[f].flags & FR_EXCL) &&
		         !(v->flags & VMA_SHARED);
		map_frame(e, mm, ptep, f, w);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the event loop                                                      */

static void take_sample(struct sim_engine *e)
{
	if (e->nsamples == e->capsamples) {
		/* Keep every other sample and halve the rate: the series stays
		 * at most capsamples long whatever the trace length. */
		size_t w = 0;
		for (size_t i = 0; i < e->nsamples; i += 2)
			e->samples[w++] = e->samples[i];
		e->nsamples = w;
		e->sample_every *= 2;
	}
	e->samples[e->nsamples++] = (struct sim_sample){
		.ts = e->now, .events = e->m.events,
		.copies = e->m.copies_fault + e->m.copies_file + e->m.copies_fork,
		.zero_fills = e->m.zero_fills, .frames = e->frames_used,
		.pt_pages = e->pt.live,
	};
	e->next_sample = e->m.events + e->sample_every;
}

static int apply_slow(struct sim_engine *e, const struct cs_ev *ev)
{
	uint32_t t;
	int err = 0;
	bool swap_on = e->swap_on;

	/* A swap-out waiting for its racing GUP-fast: anything else first
	 * lets it finish. */
	struct sim_race race = { .kind = 0 };
	if (e->race.kind) {
		race = e->race;
		if (!(ev->type == EV_GUP && (ev->flags & EV_GUP_RACED))) {
			e->race.kind = 0;
			if (race.kind == 1)
				swapout_commit(e, race.frame, race.pg);
		}
	}

	if (ev->type == EV_MARKER) {
		/* No task is made for a marker. */
		t = task_find(e, ev->tid);
		err = proc_marker(e, ev, t ? e->task[t - 1].proc : SIM_NONE);
		goto out;
	}
	if (ev->type == EV_NONE)
		goto out;
	/* An exec, or the snapshot of a process that was running before the
	 * trace began, may be the first the stream says of a task: that is an
	 * introduction, not a lost event. */
	err = task_get(e, ev->tid, ev->tgid,
	               ev->type == EV_EXEC ||
	               (ev->type == EV_MMAP && (ev->flags & EV_MAP_SNAPSHOT)) ||
	               ev->type == EV_PAGE_INIT, &t);
	if (err)
		return err;
	/* A task first seen at its exit leaves no process behind. */
	if (e->task[t - 1].proc == SIM_NONE && ev->type != EV_EXIT &&
	    (err = proc_attach(e, t)))
		return err;
	struct sim_mm *mm = &e->mm[e->task[t - 1].mm];

	switch ((enum ev_type)ev->type) {
	case EV_FAULT:
		err = ev_fault(e, t, ev);
		break;
	case EV_FORK:
		err = ev_fork(e, t, ev);
		break;
	case EV_FORK_DONE:
		ev_fork_done(e, ev);
		break;
	case EV_EXEC:
		err = ev_exec(e, t, ev);
		break;
	case EV_COMM:
		proc_comm(e, t, ev->arg);
		break;
	case EV_EXIT: {
		uint32_t p = e->task[t - 1].proc;
		e->m.exits++;
		task_gone(e, t);
		if (ev->flags & EV_EXIT_GROUP)
			group_gone(e, ev->tgid);
		if (p != SIM_NONE &&
		    ((ev->flags & EV_EXIT_GROUP) || !proc_alive(e, p)))
			proc_end(e, p, ev->ts);
		break;
	}
	case EV_MMAP:
		err = ev_mmap(e, mm, ev);
		break;
	case EV_MUNMAP:
		err = unmap_pages(e, mm, ev->addr >> EV_PAGE_SHIFT,
		                  (ev->addr >> EV_PAGE_SHIFT) + ev->len);
		break;
	case EV_MPROTECT:
		err = ev_mprotect(e, mm, ev);
		break;
	case EV_MREMAP:
		err = ev_mremap(e, mm, ev);
		break;
	case EV_BRK:
		err = ev_brk(e, mm, ev);
		break;
	case EV_MADVISE:
		err = ev_madvise(e, mm, ev, swap_on);
		break;
	case EV_GUP:
		err = ev_gup(e, t, ev);
		if (!err && race.kind == 1)
			swapout_commit(e, race.frame, race.pg);
		e->race.kind = 0;
		break;
	case EV_GUP_PUT:
		ev_gup_put(e, ev);
		break;
	case EV_SWAPOUT:
		err = ev_swapout(e, mm, ev, swap_on);
		break;
	case EV_SWAPIN:
		err = ev_swapin(e, mm, ev);
		break;
	case EV_KSM:
		err = ev_ksm(e, mm, ev);
		break;
	case EV_MIGRATE:
		err = ev_migrate(e, mm, ev);
		break;
	case EV_OBSERVED:
		ev_observed(e, t, ev);
		break;
	case EV_PAGE_INIT:
		err = ev_page_init(e, mm, ev);
		break;
	default:
		break;
	}
out:
	return err;
}

/*
 * One event.  Page faults of known tasks - nine events in ten of a real
 * trace - take a short path that the compiler can keep in registers;
 * everything else goes through apply_slow().
 */
HOT_INLINE int apply_one(struct sim_engine *e, const struct cs_ev *ev)
{
	int err;

	e->now = ev->ts;
	e->cpu = ev->cpu < MAX_CPUS ? ev->cpu : ev->cpu % MAX_CPUS;
	if (e->cpu >= e->ncpu && (err = batch_setup(e, e->cpu)))
		return err;
	e->m.events++;
	uint32_t t;
	if (ev->type == EV_FAULT && !e->race.kind && (t = task_find(e, ev->tid)))
		err = ev_fault(e, t, ev);
	else
		err = apply_slow(e, ev);
	if (e->m.events >= e->next_sample)
		take_sample(e);
	return err;
}

int sim_apply(struct sim_engine *e, const struct cs_ev *ev)
{
	int err = apply_one(e, ev);
	fault_fold(e);
	return err;
}

/* The PTE a future fault will read, if its task is in the task cache and
 * its PTE table exists; NULL otherwise.  Only for prefetching: it may be
 * stale by the time the fault is applied.  Filling the PTE-table cache here
 * is safe: the cache holds only (key, table) pairs, and everything that
 * frees a table clears it. */
static inline const uint64_t *peek_pte(struct sim_engine *e,
                                       const struct cs_ev *ev)
{
	if (ev->type != EV_FAULT)
		return NULL;
	uint32_t c = e->tcache[ev->tid & (TASK_CACHE - 1)];
	if (c - 1 >= e->ntask || e->task[c - 1].tid != ev->tid)
		return NULL;
	struct sim_mm *mm = &e->mm[e->task[c - 1].mm];
	if (!mm->users)
		return NULL;
	/* pte_ptr() without allocation: a miss walks the tables now and
	 * fills the cache, so the fault itself will not have to. */
	return pte_ptr(e, mm, ev->addr >> EV_PAGE_SHIFT, false);
}

int sim_apply_block(struct sim_engine *e, const struct cs_ev *ev, size_t n)
{
	/* A two-stage software pipeline over the block: PIPE_PTE events
	 * ahead, find the PTE and prefetch it; PIPE_FRAME events ahead, read
	 * that PTE and prefetch its frame.  Faults of a real trace hit
	 * scattered pages, and without this every one of them waits for two
	 * cache misses in turn.  The PTE found at the first stage is kept in
	 * a ring for the second; one not found then (its table did not exist
	 * yet) is not looked for again: such a page is new, with no frame to
	 * fetch.  A third prefetch is for a frame the allocations to come
	 * will take from the free stack: PIPE_FREE deep, as a page is
	 * allocated about every other event. */
	const uint64_t *ring[PIPE_RING];

	_Static_assert(PIPE_RING >= PIPE_PTE + 1 &&
	               (PIPE_RING & (PIPE_RING - 1)) == 0, "ring size");
	for (size_t i = 0; i < n && i < PIPE_PTE; i++)
		ring[i] = peek_pte(e, &ev[i]);
	for (size_t i = 0; i < n; i++) {
		if (i + PIPE_PTE < n) {
			const uint64_t *p = peek_pte(e, &ev[i + PIPE_PTE]);
			if (p)
				__builtin_prefetch(p);
			ring[(i + PIPE_PTE) & (PIPE_RING - 1)] = p;
		}
		if (i + PIPE_FRAME < n) {
			const uint64_t *p = ring[(i + PIPE_FRAME) & (PIPE_RING - 1)];
			if (p && (*p & PTE_P))
				__builtin_prefetch(&e->fr[pte_idx(*p)], 1);
		}
		if (e->nfree >= PIPE_FREE)
			__builtin_prefetch(&e->fr[e->free_fr[e->nfree - PIPE_FREE]], 1);
		int err = apply_one(e, &ev[i]);
		if (err) {
			fault_fold(e);
			return err;
		}
	}
	fault_fold(e);
	return 0;
}

/* ------------------------------------------------------------------ */
/* lifecycle and results                                               */

int sim_create(const struct sim_config *cfg, struct sim_engine **out)
{
	struct sim_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->pol = pol_for_model(cfg->model);
	e->pin_bias = cfg->pin_bias > 1 ? cfg->pin_bias : 1;
	if (e->pol)
		e->fork_filter = e->pol->fork_filter(cfg);
	e->swap_on = true;
	pt_pool_init(&e->pt);
	acct(e, sizeof(*e));
	if (!e->pol || !cfg->lru_batch || proc_create(e) ||
	    grow(e, (void **)&e->fr, &e->capfr, 1024, sizeof(*e->fr)))
		goto fail;
	/* Frame 0 is the shared zero page: never counted, never freed. */
	e->fr[0].flags = FR_USED | FR_ZERO;
	e->nfr = 1;
	if (batch_setup(e, 0))
		goto fail;
	e->capsamples = 1024;
	e->samples = malloc(e->capsamples * sizeof(*e->samples));
	if (!e->samples)
		goto fail;
	acct(e, (int64_t)(e->capsamples * sizeof(*e->samples)));
	e->sample_every = 64;
	e->next_sample = 1;
	fault_costs(e);
	*out = e;
	return 0;
fail:
	sim_destroy(e);
	return -ENOMEM;
}

void sim_destroy(struct sim_engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 1; i < e->nmm; i++)
		if (e->mm[i].users)
			vma_set_free(&e->mm[i].vmas);
	for (uint32_t g = 0; g < e->ngup; g++)
		free(e->gup[g].frames);
	pt_pool_free(&e->pt);
	free(e->fr);
	free(e->free_fr);
	free(e->slot);
	side_free(&e->swapof);
	side_free(&e->gupof);
	free(e->mm);
	free(e->task);
	free(e->tix);
	free(e->gup);
	free(e->gix);
	free(e->batch);
	free(e->batch_n);
	free(e->pc_key);
	free(e->pc_val);
	free(e->ksm_key);
	free(e->ksm_frame);
	free(e->pfn_key);
	free(e->pfn_val);
	free(e->forks);
	free(e->fork_lat_scratch);
	free(e->samples);
	proc_destroy(e);
	free(e);
}

void sim_set_swap(struct sim_engine *e, bool on)
{
	e->swap_on = on;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	if (!n)
		return 0;
	size_t rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

void sim_finish(struct sim_engine *e)
{
	if (e->race.kind == 1)
		swapout_commit(e, e->race.frame, e->race.pg);
	e->race.kind = 0;

	/* Percentiles over fork()s that copy an address space; vfork and
	 * CLONE_VM clones share it and cost no page-table work. */
	uint64_t *v = malloc((e->nforks ? e->nforks : 1) * sizeof(*v));
	uint64_t *o = malloc((e->nforks ? e->nforks : 1) * sizeof(*o));
	size_t n = 0, no = 0;
	if (v && o) {
		for (size_t i = 0; i < e->nforks; i++) {
			const struct sim_fork_rec *r = &e->forks[i];
			if (r->clone_flags & EV_CLONE_VM)
				continue;
			v[n++] = r->latency_ns;
			e->m.fork_latency_ns_sum += r->latency_ns;
			if (r->observed_ns)
				o[no++] = r->observed_ns;
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		qsort(o, no, sizeof(*o), cmp_u64);
		e->m.fork_latency_ns_p50 = pct(v, n, 50);
		e->m.fork_latency_ns_p99 = pct(v, n, 99);
		e->m.fork_latency_ns_max = n ? v[n - 1] : 0;
		e->m.observed_fork_latency_ns_p50 = pct(o, no, 50);
		e->m.observed_forks = no;
	}
	free(v);
	free(o);
	e->m.final_frames = e->frames_used;
	e->m.final_pt_pages = e->pt.live;
	e->m.peak_pt_pages = e->pt.peak;
	take_sample(e);
}

const struct sim_metrics *sim_metrics(const struct sim_engine *e)
{
	return &e->m;
}

const struct sim_config *sim_config(const struct sim_engine *e)
{
	return e->cfg;
}

const struct sim_fork_rec *sim_forks(const struct sim_engine *e, size_t *n)
{
	*n = e->nforks;
	return e->forks;
}

const struct sim_sample *sim_samples(const struct sim_engine *e, size_t *n)
{
	*n = e->nsamples;
	return e->samples;
}

uint64_t sim_memory_bytes(const struct sim_engine *e)
{
	return e->bytes + e->pt.nchunks * (uint64_t)PT_CHUNK_TABLES * 4096 +
	       e->pt.capchunks * sizeof(void *);
}

uint64_t sim_peak_memory_bytes(const struct sim_engine *e)
{
	return e->peak_bytes + e->pt.nchunks * (uint64_t)PT_CHUNK_TABLES * 4096 +
	       e->pt.capchunks * sizeof(void *);
}

uint64_t sim_resident_pages(const struct sim_engine *e)
{
	return e->resident;
}

void sim_set_fault_hook(struct sim_engine *e, sim_fault_hook fn, void *ctx)
{
	e->fault_hook = fn;
	e->fault_ctx = ctx;
}

const char *sim_out_name(enum sim_out o)
{
	static const char *const names[OUT_NR] = {
		[OUT_NONE] = "none", [OUT_MAP] = "map", [OUT_NEW] = "new",
		[OUT_ZERO_FILL] = "zero-fill", [OUT_COPY] = "copy",
		[OUT_COPY_FILE] = "copy-file", [OUT_REUSE] = "reuse",
		[OUT_MKWRITE] = "mkwrite", [OUT_SWAPIN] = "swapin",
		[OUT_BAD] = "bad", [OUT_SEGV] = "segv",
	};
	return o < OUT_NR ? names[o] : "?";
}
