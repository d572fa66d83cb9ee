/*
 * sim.h - the COW simulation engine: replays normalized events (ev.h) against
 * a model of Linux memory management and one COW policy.
 *
 * One engine = one policy = one complete, independent simulated machine:
 * physical frames (refcount, mapcount, pins, anon-exclusive bit, swap cache,
 * per-CPU LRU batches, KSM, the shared zero page, a content stamp), address
 * spaces with x86-64 page tables and VMAs, tasks, swap slots and GUP
 * references.  To compare policies, the replay driver (replay.h) feeds the
 * same events to several engines.
 *
 * Lifecycle:
 *   sim_create(cfg, &e)       cfg must outlive the engine
 *   sim_apply(e, ev) ...      once per event, in stream order
 *   sim_finish(e)             end of stream: final gauges, percentiles
 *   sim_metrics(e), sim_forks(e), sim_samples(e),
 *   sim_procs(e), sim_threads(e), sim_markers(e)    read results
 *   sim_destroy(e)
 *
 * Errors: sim_apply() returns 0, -ENOMEM, or -E2BIG when an address space
 * would pass VMA_MAX_AREAS areas (lib/vma.h: no kernel-written trace does);
 * the engine is then unusable: destroy it.  Events that make no sense for the simulated state (a fault
 * outside any mapping, a fork by an unknown task, an unknown GUP handle) are
 * not errors: they are counted in the metrics and skipped, because real
 * traces have lost events and the replay must go on.
 *
 * Invariants the engine maintains after every event (sim_check() verifies
 * them exhaustively; the test suite calls it after every event):
 *  - for every frame: ref == map + in_swapcache + in_batch
 *                            + gets + pins * pin_bias (+ phantom mappers);
 *  - map == the number of PTEs (in all address spaces) that point at it;
 *  - a writable PTE maps a page with map == 1 that is anon-exclusive, or a
 *    page of a shared mapping;
 *  - for every swap slot: count == the number of swap PTEs naming it;
 *  - every present PTE lies inside a VMA of its address space.
 */
#ifndef COWSIM_SIM_H
#define COWSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../importers/ev.h"
#include "config.h"

struct sim_engine;

/* What a fault did, as the engine saw it. */
enum sim_out {
	OUT_NONE = 0,    /* nothing to do: PTE already allowed the access */
	OUT_MAP,         /* mapped an existing page (page cache, zero page) */
	OUT_NEW,         /* first touch: new zeroed anonymous page */
	OUT_ZERO_FILL,   /* write to the shared zero page: new zeroed page */
	OUT_COPY,        /* anon -> anon COW copy */
	OUT_COPY_FILE,   /* file -> anon copy (private file mapping) */
	OUT_REUSE,       /* write-protected anon page reused in place */
	OUT_MKWRITE,     /* shared mapping made writable */
	OUT_SWAPIN,      /* mapped from swap without a copy */
	OUT_BAD,         /* fault outside any mapping */
	OUT_SEGV,        /* access the mapping does not allow */
	OUT_NR
};
const char *sim_out_name(enum sim_out o);

/*
 * Counters and gauges of one run.  X(name, unit, description) lists them
 * once so that every output (table, JSON, CSV, SQLite) names them the same
 * way.  The unit is a bare word that readers stringify: `pages` (4 KiB
 * frames or pages of memory), `ns` (modeled or observed time), `count`
 * (events, calls, references, faults: anything counted that is not a page).
 */
#define SIM_COUNTERS(X) \
	X(events, count, "events replayed") \
	X(forks, count, "process creations (fork, vfork, clone without CLONE_THREAD)") \
	X(threads, count, "threads created (CLONE_THREAD)") \
	X(execs, count, "execve() calls") \
	X(exits, count, "task exits") \
	X(faults, count, "page-fault events") \
	X(write_faults, count, "page faults that were writes") \
	X(wp_faults, count, "write faults on present write-protected PTEs") \
	X(copies_fault, pages, "anon->anon COW copies at fault (incl. GUP-triggered and unshare)") \
	X(copies_file, pages, "file->anon copies at write fault in private file mappings") \
	X(zero_fills, pages, "writes to the shared zero page (allocate and clear)") \
	X(copies_fork, pages, "pages copied at fork (early COW)") \
	X(reuses, pages, "write-protected anon pages reused in place") \
	X(new_pages, pages, "first-touch anonymous pages") \
	X(unnecessary_copies, pages, "COW copies where the faulting mm was the only mapper and no GUP reference existed") \
	X(unnecessary_fork_copies, pages, "early COW copies at fork of pages no GUP reference held") \
	X(leaks, count, "GUP references through which another process's post-fork writes became visible") \
	X(lost_pins, count, "pins whose page stopped backing the pinner's mapping after a COW") \
	X(gups, count, "GUP calls") \
	X(gup_pages, pages, "pages GUP referenced") \
	X(gup_unshares, count, "R/O pins that had to unshare first") \
	X(gup_cow_breaks, count, "GUP calls that broke COW with a write fault") \
	X(gup_refused, count, "GUP references refused (refcount overflow guard, no mapping)") \
	X(refcount_overflows, count, "page refcounts pushed past INT_MAX") \
	X(swapouts, pages, "pages swapped out") \
	X(swapout_refused, pages, "swap-outs refused (pinned, shared for PAGEOUT, no swap)") \
	X(swapins, pages, "pages read back from swap") \
	X(ksm_merges, pages, "pages merged by KSM") \
	X(ksm_refused, pages, "KSM merges refused (extra references)") \
	X(migrations, pages, "pages migrated") \
	X(migrate_refused, pages, "migrations refused (extra references)") \
	X(lru_drains, count, "per-CPU LRU batch drains") \
	X(ptes_copied, count, "PTEs copied at fork") \
	X(pt_pages_copied, pages, "page-table pages allocated for fork children") \
	X(spurious_faults, count, "faults on PTEs that already allowed the access") \
	X(bad_faults, count, "faults outside any mapping (skipped)") \
	X(segv_faults, count, "faults the mapping's protection forbids (skipped)") \
	X(inferred_vmas, count, "mappings the importer had to infer") \
	X(phantom_mappers, count, "mappers of initial pages that the trace does not show") \
	X(unknown_tasks, count, "events of tasks never seen (a task was invented)") \
	X(unknown_handles, count, "GUP releases of unknown handles") \
	X(labelled, count, "faults with a kernel-observed outcome") \
	X(agree, count, "labelled faults whose predicted outcome matches the kernel's") \
	X(cow_labelled, count, "labelled faults that matter for copy-on-write: the kernel copied (a written page, or a private file page at first touch), reused, or zero-filled a present page; first touches of fresh anonymous memory left out") \
	X(cow_agree, count, "cow_labelled faults whose predicted outcome matches the kernel's") \
	X(observed_copies, count, "faults the kernel resolved by copying") \
	X(observed_reuses, count, "write-protect faults the kernel resolved by reuse") \
	X(observed_zero_fills, count, "write-protect faults the kernel resolved with a zeroed page (the shared zero page replaced)") \
	X(observed_new, count, "first touches the kernel resolved with a fresh zeroed page") \
	X(vforks, count, "vfork()s: clones with CLONE_VFORK, whose parent waits until the child execs or exits") \
	X(vm_clones, count, "clones sharing the address space (CLONE_VM) with neither CLONE_VFORK nor CLONE_THREAD") \
	X(fm_pt_deferred, count, "PTE tables forks did not copy: shared (fork_mode on-demand) or left to the child (async)") \
	X(fm_pt_fork_fallback, count, "PTE tables fork_mode on-demand copied at fork all the same: they map a page fork copies (maybe pinned)") \
	X(fm_pt_unshared, count, "shared PTE tables copied at the first fault or change that needed one of its own (on-demand)") \
	X(fm_pt_dropped, count, "shared PTE tables a process let go of without a copy (exit, exec, unmap of the whole table)") \
	X(fm_pt_synced, count, "PTE tables an async parent copied for its child before changing them (proactive sync)") \
	X(fm_pt_bg_copied, count, "PTE tables async children copied themselves, after fork returned") \
	X(fm_copy_ns, ns, "modeled time of on-demand table copies and async syncs, in the process that needed them") \
	X(fm_child_ns, ns, "modeled page-table copying of async children, after fork returned") \
	X(fm_pin_window, pages, "early-COW copies async children made after fork returned (writes through a pin in between reach the copy)")

#define SIM_GAUGES(X) \
	X(peak_frames, pages, "peak allocated frames (anonymous + page cache)") \
	X(final_frames, pages, "frames allocated at the end") \
	X(peak_anon_frames, pages, "peak anonymous frames") \
	X(peak_pt_pages, pages, "peak page-table pages") \
	X(final_pt_pages, pages, "page-table pages at the end") \
	X(max_refcount, count, "highest page refcount seen") \
	X(max_mapcount, count, "highest page mapcount seen") \
	X(fork_latency_ns_p50, ns, "modeled fork latency, median (forks only: no vfork or CLONE_VM clone)") \
	X(fork_latency_ns_p99, ns, "modeled fork latency, 99th percentile (forks only)") \
	X(fork_latency_ns_max, ns, "modeled fork latency, maximum (forks only)") \
	X(fork_latency_ns_sum, ns, "modeled fork latency, total (forks only)") \
	X(fault_latency_ns_sum, ns, "modeled fault latency, total") \
	X(observed_fork_latency_ns_p50, ns, "kernel-observed fork latency, median (forks only: no vfork or CLONE_VM clone)") \
	X(observed_forks, count, "forks (not vforks or CLONE_VM clones) with an observed latency") \
	X(observed_fork_latency_ns_p99, ns, "kernel-observed fork latency, 99th percentile (forks only)") \
	X(observed_vfork_ns_p50, ns, "kernel-observed vfork() time, median: the parent's wait until the child execs or exits, not a copy cost") \
	X(observed_vforks, count, "vforks with an observed time")

struct sim_metrics {
#define SIM_FIELD(n, u, d) uint64_t n;
	SIM_COUNTERS(SIM_FIELD)
	SIM_GAUGES(SIM_FIELD)
#undef SIM_FIELD
};

/* Metrics by index and name (metrics.c), in SIM_COUNTERS then SIM_GAUGES
 * order.  sim_metric_find() returns the index or -1. */
size_t sim_nmetrics(void);
const char *sim_metric_name(size_t i, const char **doc);
/* Metric i's unit ("pages", "ns", "count"), or NULL past the end. */
const char *sim_metric_unit(size_t i);
int sim_metric_find(const char *name);
uint64_t sim_metric_get(const struct sim_metrics *m, size_t i);

/*
 * What a clone made, told by its flags alone: the one definition of which
 * clones a fork latency figure takes (docs/model.md, "Fork latency"), used
 * by the metrics, the store's views and the reports alike.
 *
 *   SIM_KIND_FORK      none of CLONE_VM, CLONE_VFORK, CLONE_THREAD: fork(),
 *                      or clone() as fork: the child gets a copy of the
 *                      address space (dup_mmap()), and the parent's
 *                      syscall time is that copy and the task's setup.
 *   SIM_KIND_VFORK     CLONE_VFORK, with CLONE_VM (vfork(), posix_spawn())
 *                      or without: kernel_clone() waits in
 *                      wait_for_vfork_done() until the child execs or
 *                      exits, so the parent's syscall time is mostly the
 *                      child's run, not anything fork does.
 *   SIM_KIND_CLONE_VM  CLONE_VM without CLONE_VFORK or CLONE_THREAD: a
 *                      process sharing the address space; nothing copied.
 *   SIM_KIND_THREAD    CLONE_THREAD: a thread (counted in `threads`, no
 *                      fork record).
 *
 * Only SIM_KIND_FORK enters the fork latency figures: the others copy no
 * page table, and a vfork's observed time is not a cost a model prices.
 */
enum sim_fork_kind {
	SIM_KIND_FORK,
	SIM_KIND_VFORK,
	SIM_KIND_CLONE_VM,
	SIM_KIND_THREAD,
	SIM_KIND_NR
};
enum sim_fork_kind sim_fork_kind(uint32_t clone_flags);
/* "fork", "vfork", "clone-vm", "thread"; NULL past the end. */
const char *sim_fork_kind_name(enum sim_fork_kind k);

/* One fork (any clone but a thread), as the engine modeled it. */
struct sim_fork_rec {
	uint64_t ts;
	uint32_t parent_tid;
	uint32_t child_tid;
	uint32_t parent_mm;     /* engine-wide unique ids of the address spaces */
	uint32_t child_mm;
	uint32_t clone_flags;
	uint32_t vmas;          /* areas the child inherited */
	uint64_t ptes;          /* PTEs copied */
	uint32_t pt_pages;      /* page-table pages allocated for the child */
	uint32_t pages_copied;  /* early COW copies */
	uint64_t latency_ns;    /* modeled */
	uint64_t observed_ns;   /* kernel-observed (0 = unknown) */
	uint64_t parent_rss;    /* the parent's present PTEs at the fork: its
	                           size, whatever the fork then copies */
	/* fork_mode on-demand / async (0 with copy): of the pt_pages, ptes and
	 * pages_copied above, those the fork left shared or to the child, and
	 * the child's own copying time (async) */
	uint32_t pt_deferred;
	uint32_t copies_deferred;
	uint64_t ptes_deferred;
	uint64_t child_ns;
	uint32_t vmas_copied;   /* of vmas, those copy_page_range() copied at
	                           least one PTE of (the rest cost only
	                           vm_area_dup()) */
	uint64_t ptes_wp;       /* of ptes, those fork write-protected in the
	                           parent: writable until now (copy_present_pte()'s
	                           ptep_set_wrprotect()) */
	uint32_t vmas_file;     /* of vmas, those mapping a file (dup_mmap()
	                           links each into the file's i_mmap tree) */
};

/* A point of the time series kept for plots. */
struct sim_sample {
	uint64_t ts;
	uint64_t events;
	uint64_t copies;        /* copies_fault + copies_file + copies_fork */
	uint64_t zero_fills;
	uint64_t frames;
	uint64_t pt_pages;
};

/*
 * One process (thread group) of the trace, as the engine followed it (the
 * rules are in engine.h).  Records are in the order the processes appeared
 * and are never removed: a pid the trace reuses is a new record.  Every
 * engine of a replay sees the same stream, so every engine has the same
 * table; string ids are the source's (ev.h).
 */
#define SIM_NONE UINT32_MAX
struct sim_proc_rec {
	uint64_t start_ts;      /* its fork; valid if has_start */
	uint64_t end_ts;        /* its exit; valid if has_end */
	uint32_t pid;           /* its thread-group id */
	uint32_t parent;        /* record of the process that forked it, or
	                           SIM_NONE (it existed before the trace) */
	uint32_t fork;          /* its fork record (sim_forks()), or SIM_NONE */
	uint32_t comm;          /* string id: exec path or comm, 0 = unknown */
	uint32_t exe;           /* string id: its last exec's path, 0 = none */
	uint32_t threads;       /* tasks it had, itself included */
	uint8_t has_start;      /* 0: began before the trace */
	uint8_t has_end;        /* 0: alive at the end, or its exit was lost */
};

/*
 * One task (thread) of the trace, as the engine followed it: a record per
 * task ever seen, in the order they appeared, never removed, so a tid the
 * trace reuses is a new record (the index is Perfetto's utid).  What the
 * stream carries and what it does not: the creator and creation time only
 * of tasks whose fork or clone the trace shows; the name only from the
 * creator, an exec or a comm event (else the process's); the exit only if
 * the trace shows it (exit, or its thread group's exit_group).
 */
struct sim_thread_rec {
	uint64_t first_ts;      /* the first event the engine saw of it */
	uint64_t start_ts;      /* its fork or clone; valid if has_start */
	uint64_t end_ts;        /* its exit; valid if has_end */
	uint32_t tid, tgid;
	uint32_t proc;          /* process record, or SIM_NONE (a task seen
	                           only at its exit) */
	uint32_t parent;        /* record of the task that made it, or
	                           SIM_NONE (not shown by the trace) */
	uint32_t comm;          /* string id, 0 = unknown */
	uint8_t has_start;
	uint8_t has_end;        /* 0: alive at the end, or its exit was lost */
};

/* An EV_MARKER, with the process of the task that wrote it. */
struct sim_marker_rec {
	uint64_t seq;           /* its index in the event stream */
	uint64_t ts;
	uint32_t proc;          /* process record, or SIM_NONE (a task the
	                           engine does not know) */
	uint32_t text;          /* string id */
};

/*
 * One write fault, for --faults logging (sim_set_fault_hook).  The hook is
 * called twice for a fault the trace labels: at the fault (is_label 0),
 * and when its EV_OBSERVED arrives (is_label 1): then seq names the fault
 * of the earlier call and observed says what the kernel did; tid, tgid,
 * proc and out are as they were, ts and addr the label's, flags 0.  Only
 * the engine matches labels to faults (the task's last fault, on the same
 * page), for the hook as for the labelled and agree metrics.
 */
struct sim_fault_rec {
	uint64_t seq;           /* the fault's index in the event stream */
	uint64_t ts;
	uint64_t addr;
	uint32_t tid;
	uint32_t tgid;
	uint32_t proc;          /* process record (sim_procs()) */
	uint32_t mm;            /* engine-wide unique id of the address space */
	uint32_t flags;         /* EV_PF_* of the fault */
	uint8_t out;            /* enum sim_out */
	uint8_t observed;       /* enum ev_obs, in the label call; else 0 */
};
typedef void (*sim_fault_hook)(void *ctx, const struct sim_fault_rec *r,
                               int is_label);

int sim_create(const struct sim_config *cfg, struct sim_engine **out);
void sim_destroy(struct sim_engine *e);

/* Apply one event.  Returns 0 or -ENOMEM. */
int sim_apply(struct sim_engine *e, const struct cs_ev *ev);

/* Apply n events in order (the replay loop's form).  Returns 0 or -ENOMEM;
 * on error the events after the failing one are not applied. */
int sim_apply_block(struct sim_engine *e, const struct cs_ev *ev, size_t n);

/* End of stream: compute percentiles and final gauges. */
void sim_finish(struct sim_engine *e);

const struct sim_metrics *sim_metrics(const struct sim_engine *e);
const struct sim_fork_rec *sim_forks(const struct sim_engine *e, size_t *n);
const struct sim_sample *sim_samples(const struct sim_engine *e, size_t *n);
const struct sim_proc_rec *sim_procs(const struct sim_engine *e, size_t *n);
const struct sim_marker_rec *sim_markers(const struct sim_engine *e,
                                         size_t *n);
const struct sim_thread_rec *sim_threads(const struct sim_engine *e,
                                         size_t *n);

/* Bytes the engine holds now and at most (its own memory, not the trace's). */
uint64_t sim_memory_bytes(const struct sim_engine *e);
uint64_t sim_peak_memory_bytes(const struct sim_engine *e);
/* Present PTEs across all address spaces now (resident pages). */
uint64_t sim_resident_pages(const struct sim_engine *e);

/* Whether the simulated machine has swap (default yes).  A trace taken
 * without swap says so in its metadata: MADV_PAGEOUT then swaps nothing. */
void sim_set_swap(struct sim_engine *e, bool on);

/* Called for every write fault (is_label 0) and when its label arrives
 * (is_label 1, see struct sim_fault_rec).  Without a hook the fault path
 * does no work for it. */
void sim_set_fault_hook(struct sim_engine *e, sim_fault_hook fn, void *ctx);

/*
 * Check every invariant listed above by brute force.  Slow: for tests.
 * Returns 0, or -EINVAL with a description in buf.
 */
int sim_check(struct sim_engine *e, char *buf, size_t len);

/* Test hooks: the state of the page mapped at addr in tid's address space.
 * Returns 0 and fills *st, or -ENOENT if nothing is mapped there. */
struct sim_page_state {
	uint32_t frame;         /* 0 = shared zero page */
	uint32_t ref, map, gup;
	int present, writable, swapped, swp_exclusive;
	int anon, exclusive, in_swapcache, in_batch, ksm, file;
	uint32_t owner;         /* mm id of the last writer */
};
int sim_page_state(struct sim_engine *e, uint32_t tid, uint64_t addr,
                   struct sim_page_state *st);

#endif
