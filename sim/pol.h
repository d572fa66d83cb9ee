/*
 * pol.h - the interface between the engine (mechanics) and a COW policy
 * (decisions).
 *
 * The kernel's COW code interleaves "what to do" with "how to do it"; here
 * they are separated at the points where Linux versions differ.  A policy
 * answers questions about one page; the engine does every bit of counting,
 * mapping and unmapping.  Policies read page state through engine.h's
 * accessors and may call the two helpers that the kernel's own decision
 * code calls (lru_add_drain() of the local CPU and try_to_free_swap()),
 * because whether those run is itself an era difference.
 *
 * Decision points (each a callback, none optional):
 *
 *  fork_copy        fork() meets a present anonymous page in a COW mapping:
 *                   share it write-protected, or copy it for the child now
 *                   ("early COW"), leaving the parent's PTE writable or not.
 *  fork_filter      asked once per engine: which page states can make
 *                   fork_copy answer anything but "share" (POL_FF_*).  fork()
 *                   copies millions of PTEs and almost none of them is
 *                   copied early, so the engine asks fork_copy only about
 *                   pages in such a state; fork_copy stays the authority
 *                   for those.  The answer is a promise the debug build
 *                   checks at every PTE: fork_copy must say "share" for
 *                   every page in none of the declared states.
 *  wp_anon          a write fault on a write-protected PTE of an anonymous
 *                   page (do_wp_page()), or a GUP unshare request
 *                   (FAULT_FLAG_UNSHARE): reuse the page, or copy it.
 *  gup              GUP meets a present page: take the reference as is, or
 *                   first trigger a write fault (FOLL_WRITE, or 5.8's forced
 *                   COW break), or an unshare (5.19's R/O pins).
 *  swapin           do_swap_page() has the page in hand: map it exclusive?
 *                   writable?
 *  may_unmap        reclaim, migration or KSM wants to take the page from
 *                   its page tables; asked before the unmap and again after
 *                   it (the 5.19 rmap code rechecks pins once the PTE is
 *                   cleared, which closes the GUP-fast race).
 *  mprotect_writable  mprotect() adds PROT_WRITE: may this anon page's PTE
 *                   become writable at once (6.0), or stay R/O until a fault?
 *  gup_fast_races_fork  can a GUP-fast that runs concurrently with fork()
 *                   pin a page that fork() is sharing?
 */
#ifndef COWSIM_POL_H
#define COWSIM_POL_H

#include <stdbool.h>
#include <stdint.h>

struct sim_config;
struct sim_engine;
struct sim_mm;
struct vma;

enum pol_wp { POL_REUSE, POL_COPY };

enum pol_fork {
	POL_FORK_SHARE,      /* share write-protected (copy_present_pte()) */
	POL_FORK_COPY,       /* copy for the child, parent PTE untouched
	                        (copy_present_page(), 5.9+) */
	POL_FORK_COPY_WP,    /* copy for the child, parent PTE write-protected
	                        as usual (Piggin's decow_one_pte(), 2009) */
};

enum pol_gup {
	POL_GUP_REF,      /* take the reference on what is mapped */
	POL_GUP_WRITE,    /* write fault first (may copy), then the reference */
	POL_GUP_UNSHARE,  /* unshare first: exclusive but still R/O */
};

#define POL_SWAPIN_EXCL     0x1u  /* RMAP_EXCLUSIVE */
#define POL_SWAPIN_WRITABLE 0x2u  /* map the PTE writable now */

enum pol_unmap_why { POL_UNMAP_SWAP, POL_UNMAP_MIGRATE, POL_UNMAP_KSM };

/* fork_filter(): states in which fork_copy may not share a page.  0 means
 * it always shares. */
#define POL_FF_PINNED 0x1u   /* parent->has_pinned && sim_maybe_pinned() */
#define POL_FF_GUPPED 0x2u   /* FR_GUPPED set on the frame */

struct pol_ops {
	const char *name;      /* "mapcount", "page-count", ...: as written in
	                          [policy] model and in every result */
	const char *summary;   /* one line for `cowsim policies` */

	enum pol_fork (*fork_copy)(struct sim_engine *e,
	                           const struct sim_mm *parent, uint32_t frame);
	unsigned (*fork_filter)(const struct sim_config *cfg);
	enum pol_wp (*wp_anon)(struct sim_engine *e, uint32_t frame,
	                       bool unshare);
	enum pol_gup (*gup)(struct sim_engine *e, const struct vma *vma,
	                    uint32_t frame, bool pte_writable, uint32_t gup_flags);
	unsigned (*swapin)(struct sim_engine *e, const struct vma *vma,
	                   uint32_t frame, bool write, bool swp_exclusive);
	bool (*may_unmap)(struct sim_engine *e, uint32_t frame,
	                  enum pol_unmap_why why, bool after_unmap);
	bool (*mprotect_writable)(struct sim_engine *e, uint32_t frame);
	bool (*gup_fast_races_fork)(struct sim_engine *e);
};

/* Kernel decision code more than one era shares (pol_common.c). */

/* is_cow_mapping(): private and could be written. */
bool pol_cow_mapping(const struct vma *vma);

/* reuse_swap_page() of mm/swapfile.c before 5.18: may the page be reused
 * judging by mapcount + swapcount alone?  at_swapin: asked from
 * do_swap_page() for the faulting swap entry, before it is mapped.  Drops
 * the page from the swap cache when it says yes. */
bool pol_reuse_swap_page(struct sim_engine *e, uint32_t frame, bool at_swapin);

/* The mapcount era's write-fault and swap-in decisions, shared by the
 * mapcount and early-decow models (and 5.9-5.17's swap-in). */
enum pol_wp pol_mapcount_wp(struct sim_engine *e, uint32_t frame);
unsigned pol_mapcount_swapin(struct sim_engine *e, uint32_t frame, bool write);

/* do_wp_page() of 5.18 / wp_can_reuse_anon_folio() of 6.x: the refcount
 * test with the local LRU drain and the swap-cache allowance, each gated by
 * its switch (wp_lru_drain, wp_swapcache_opt). */
bool pol_wp_can_reuse(struct sim_engine *e, uint32_t frame);

/* shrink_folio_list()'s "don't swap out pinned pages" (5.11). */
bool pol_swap_allowed(struct sim_engine *e, uint32_t frame,
                      enum pol_unmap_why why, bool after_unmap);

/*
 * The registry: every model the build found, NULL-terminated, sorted by the
 * ops' symbol.  It is generated (cmake/pol_registry.cmake) from each
 * pol_*.c's `const struct pol_ops pol_NAME_ops = {` definition, so a model
 * is registered by existing; nothing registers at run time.  The config
 * loader resolves `[policy] model = NAME` through it (config.c), and the
 * engine runs the ops its configuration carries.
 */
extern const struct pol_ops *const pol_registry[];

#endif
