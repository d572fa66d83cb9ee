/*
 * pgtable.h - x86-64 shaped 4-level page tables for simulated address spaces.
 *
 * Every level is a 4 KiB table of 512 64-bit entries, indexed by 9 bits of
 * the page number (PGD 39-47, PUD 30-38, PMD 21-29, PTE 12-20 of the virtual
 * address), so the simulator allocates page-table pages exactly where the
 * kernel would and can count them: fork() pays per page-table page it
 * allocates for the child, and an address space's page-table footprint is
 * part of its memory.
 *
 * Tables come from one pool per engine, in 2 MiB chunks (one transparent huge
 * page each, see hugemem.h) that are never moved
 * (entries may be held by pointer across allocations), recycled through a
 * free list.  A table is named by a 32-bit index; index 0 is never handed
 * out, so an upper-level entry of 0 means "no table".
 *
 * Upper-level entries hold (index << 12) | 1.  What a PTE-level entry holds
 * is the engine's business (engine.h); this module only allocates, walks and
 * frees tables, and treats a PTE of 0 as empty.
 *
 * Lifecycle: pt_pool_init(), pt_root_alloc() per address space, lookups and
 * walks, pt_prune()/pt_root_free(), pt_pool_free().
 *
 * Errors: allocation functions return 0 (no table) on ENOMEM; callers treat
 * that as -ENOMEM.
 */
#ifndef COWSIM_PGTABLE_H
#define COWSIM_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define PT_SHIFT        9u          /* page-number bits one level indexes */
#define PT_ENTRIES      (1u << PT_SHIFT)
#define PT_CHUNK_SHIFT  9u          /* 512 tables = 2 MiB: one huge page */
#define PT_CHUNK_TABLES (1u << PT_CHUNK_SHIFT)

struct pt_pool {
	uint64_t **chunk;      /* chunk[i] = PT_CHUNK_TABLES * PT_ENTRIES entries */
	uint32_t nchunks;
	uint32_t capchunks;
	uint32_t next;         /* next never-used index */
	uint32_t free_head;    /* free list, linked through entry 0 */
	uint64_t live;         /* tables handed out and not freed */
	/* Of the live tables, those the modeled machine does not have: PTE
	 * tables that a fork_mode other than copy shares or has not copied
	 * yet, which the engine keeps materialized (forkmode.c).  live - virt
	 * is the modeled page-table footprint; peak is its maximum.  0 with
	 * fork_mode = copy. */
	uint64_t virt;
	uint64_t peak;
};

void pt_pool_init(struct pt_pool *p);
void pt_pool_free(struct pt_pool *p);

static inline uint64_t *pt_table(const struct pt_pool *p, uint32_t idx)
{
	return p->chunk[idx >> PT_CHUNK_SHIFT] +
	       (uint64_t)(idx & (PT_CHUNK_TABLES - 1)) * PT_ENTRIES;
}

/* Page-table pages the modeled machine has (see virt). */
static inline uint64_t pt_modeled(const struct pt_pool *p)
{
	return p->live - p->virt;
}

/* n materialized tables become modeled ones (copied after all), or the
 * other way round (pt_virt_add: shared or deferred at fork). */
static inline void pt_virt_sub(struct pt_pool *p, uint64_t n)
{
	p->virt -= n;
	if (p->live - p->virt > p->peak)
		p->peak = p->live - p->virt;
}
static inline void pt_virt_add(struct pt_pool *p, uint64_t n)
{
	p->virt += n;
}

/* A zeroed table, or 0 on ENOMEM. */
uint32_t pt_alloc(struct pt_pool *p);
void pt_free(struct pt_pool *p, uint32_t idx);

/* Index of page number pg at level lvl (3 = PGD ... 0 = PTE). */
static inline unsigned pt_index(uint64_t pg, unsigned lvl)
{
	return (unsigned)(pg >> (PT_SHIFT * lvl)) & (PT_ENTRIES - 1);
}

/*
 * The PTE table covering pg, or 0 if it does not exist.  With alloc, missing
 * tables are created and *nalloc is increased by how many (0 returned only on
 * ENOMEM).
 */
uint32_t pt_pte_table(struct pt_pool *p, uint32_t root, uint64_t pg,
                      bool alloc, uint32_t *nalloc);

/*
 * Find the first existing PTE table that covers a page in [*pg, end).
 * Returns its index and sets *pg to the first page it covers that is >= the
 * input *pg; returns 0 when there is none.
 */
uint32_t pt_next_pte_table(struct pt_pool *p, uint32_t root, uint64_t *pg,
                           uint64_t end);

/*
 * Free the page-table pages below root that lie wholly inside [start, end)
 * pages, as free_pgtables() does for the gap an unmap leaves between two
 * areas.  The caller guarantees the range holds no entries (nothing is
 * mapped outside areas); tables only partly inside are kept, as the kernel
 * keeps them.  Returns the number of tables freed.
 */
uint32_t pt_prune(struct pt_pool *p, uint32_t root, uint64_t start,
                  uint64_t end);

/* Free root and every table below it; returns how many tables that was. */
uint32_t pt_root_free(struct pt_pool *p, uint32_t root);

#endif
