/*
 * config.h - a policy configuration: which COW model, which era switches, and
 * the cost model's parameters.
 *
 * A configuration is read from INI text (libinih) with three sections:
 *
 *   [policy]    name, model, kernel, description
 *   [switches]  every behaviour that differs between kernel versions, one
 *               named key each, with the commit that introduced it
 *   [cost]      the latency model's parameters in ns (cost.h)
 *
 * Presets live in configs/ (*.ini) and are also compiled into the binary, so
 * `cowsim policies` and `--policy NAME` work from any directory; a user's own
 * file is passed with --config.  Keys not given keep the defaults of
 * cfg_defaults(), which are those of the newest kernel modelled (6.12).
 *
 * Lifecycle: cfg_defaults() or cfg_load_*() fill a struct sim_config, whose
 * `text` (the INI it came from, for the results store) is heap-owned:
 * release it with cfg_release().
 */
#ifndef COWSIM_CONFIG_H
#define COWSIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pol_ops;

enum pol_early_cow {
	EARLY_COW_NONE,    /* fork shares every anon page */
	EARLY_COW_PINNED,  /* has_pinned && page maybe pinned (70e806e4e645) */
	EARLY_COW_GUPPED,  /* any page GUP ever referenced (Piggin 2009) */
};

enum pol_swapin {
	SWAPIN_MAPCOUNT,   /* reuse_swap_page(): mapcount + swapcount == 1 */
	SWAPIN_PAGECOUNT,  /* c145e0b47c77 (5.18): page_count == 1 */
	SWAPIN_EXCLUSIVE,  /* 5.19: swp_exclusive bit, else page_count == 1 */
};

/* How fork() gives the child its page tables (docs/model.md, "Fork designs"). */
enum fork_mode {
	FORK_COPY,         /* mainline copy_page_range(): every PTE table now */
	FORK_ON_DEMAND,    /* On-demand-fork (EuroSys 2021) / COW PTE: PTE
	                      tables shared, copied at their first change */
	FORK_ASYNC,        /* Async-fork (PVLDB 16(5) 2023): the child copies
	                      the PTE tables after fork returns */
};

/* The cost model's parameters (see cost.h for how they combine). */
struct cost_params {
	double fork_base_ns;        /* fork() of an empty mm */
	double vfork_base_ns;       /* clone with CLONE_VM (vfork, threads) */
	double fork_per_vma_ns;     /* vm_area_dup + anon_vma_fork per area */
	double fork_per_pt_page_ns; /* allocate + zero a page-table page */
	double fork_per_pte_ns;     /* copy one PTE, take refs, write-protect */
	double fork_per_copy_ns;    /* early COW: allocate + copy 4 KiB */
	double fault_base_ns;       /* minor fault entry/exit + PTE update */
	double fault_per_copy_ns;   /* allocate + copy 4 KiB */
	double fault_per_zero_ns;   /* allocate + clear 4 KiB */
	double fork_per_shared_pt_ns; /* fork_mode on-demand: share one PTE
	                                 table (write-protect its PMD entry,
	                                 take a reference on the table) */
	double fork_per_copied_vma_ns; /* extra per area with PTEs copied:
	                                  copy_page_range()'s walk of it */
	double fork_per_wrprotect_ns;  /* extra per PTE fork write-protects
	                                  in the parent (it was writable) */
	double fork_per_file_vma_ns;   /* extra per area mapping a file:
	                                  dup_mmap()'s i_mmap insertion */
};

struct sim_config {
	char name[64];
	char kernel[64];
	char description[256];
	const struct pol_ops *model;  /* [policy] model, resolved through the
	                                 registry (pol.h) when the INI is read */

	/* ---- switches (defaults: Linux 6.12) ---- */
	bool gup_forces_cow_break;    /* 5.8 17839856fd58, gone in 5.9 a308c71bf1e6 */
	uint32_t pin_bias;            /* GUP_PIN_COUNTING_BIAS: 1024 from 5.7
	                                 (3faa52c03f44); 1 = a pin is a plain ref */
	enum pol_early_cow early_cow; /* 5.9 70e806e4e645 */
	bool fork_gup_fast_guard;     /* mm->write_protect_seq, 57efa1fe5957 */
	bool wp_swapcache_opt;        /* 5.18 53a05ad9f21d */
	bool wp_lru_drain;            /* 5.18 d4c470970d45 */
	enum pol_swapin swapin;       /* 5.18 c145e0b47c77; 5.19 1493a1913e34 */
	bool swapin_lru_drain;        /* drain local LRU cache before a write
	                                 swap-in's refcount check */
	bool swapout_skip_pinned;     /* 5.11 feb889fb40fa */
	bool swapout_recheck_pinned;  /* 5.19 folio_try_share_anon_rmap_pte() */
	bool reuse_ksm;               /* 5.1..5.8 reuse_ksm_page() */
	bool mprotect_excl_writable;  /* 6.0 64fe24a3e05e */
	bool ro_pin_unshare;          /* 5.19 a7f226604170 FAULT_FLAG_UNSHARE */
	bool ro_pin_unshare_nonanon;  /* 6.2 84209e87c696 */
	bool gup_overflow_check;      /* 5.1 8fde12ca79af try_get_page() */
	bool zero_page_pin_noref;     /* 6.5 c8070b787519 */
	bool exit_drains_lru;         /* exit_mmap() -> lru_add_drain() */
	bool munmap_drains_lru;       /* unmap_region() -> lru_add_drain() */
	uint32_t lru_batch;           /* per-CPU LRU add batch (PAGEVEC_SIZE) */
	enum fork_mode fork_mode;     /* not a kernel era: a fork design */

	struct cost_params cost;
	char cost_preset[32];         /* the cost preset [cost] is ("x86-64",
	                                 `cost = NAME`), "" once [cost] keys
	                                 of the config's own changed it */

	char *text;                   /* INI text this came from (owned) */
};

/* Fill *c with the defaults (a 6.12 anon-exclusive kernel, x86-64 costs). */
void cfg_defaults(struct sim_config *c);

/*
 * Parse INI text into *c, on top of the defaults.  `origin` names the text
 * in messages ("configs/linux-5.9.ini").  Returns 0, or -EINVAL with
 * "origin:line: message" in err.
 */
int cfg_load_text(struct sim_config *c, const char *origin, const char *text,
                  char *err, size_t errlen);

/* Parse INI text on top of *c without recording it as c->text (for
 * overlays such as --cost).  Returns 0 or -EINVAL with a message. */
int cfg_apply_text(struct sim_config *c, const char *origin, const char *text,
                   char *err, size_t errlen);

/* Same, from a file.  Returns 0, -errno (file unreadable) or -EINVAL. */
int cfg_load_file(struct sim_config *c, const char *path, char *err,
                  size_t errlen);

/* The index of the shipped preset named name (cfg_preset_name()), or -1
 * with "no policy preset named 'x'; did you mean 'y'? ..." in err. */
long cfg_preset_find(const char *name, char *err, size_t errlen);

/* Load a shipped preset by name.  Returns 0 or -ENOENT (with
 * cfg_preset_find()'s message). */
int cfg_load_preset(struct sim_config *c, const char *name, char *err,
                    size_t errlen);

void cfg_release(struct sim_config *c);

/* The documented keys of [switches] and [cost], for `cowsim policies -v`
 * and docs: returns the doc line of key i (NULL past the end). */
const char *cfg_key_doc(size_t i, const char **section, const char **name);

/* Shipped presets, in the order `cowsim policies` prints them. */
size_t cfg_npresets(void);
const char *cfg_preset_name(size_t i);

/* The model's name as the INI, the JSON output and the store spell it. */
const char *cfg_model_name(const struct pol_ops *m);

/* Write the effective configuration (every key, but for the keys of a
 * fork design other than copy when fork_mode is copy: the dump of a copy
 * configuration is what it was before fork_mode) as INI text to buf.
 * Returns the length that would be written (snprintf semantics). */
size_t cfg_format(const struct sim_config *c, char *buf, size_t len);

#endif
