/*
 * engine.h - the engine's internal state, shared by the engine's files
 * (engine.c lists them; internal.h is their working surface), oracle.c and
 * the policy files.  Not an API for anything outside sim/.
 *
 * Memory layout is driven by one bar: at most 64 bytes of simulator memory
 * per simulated resident page.  A frame is 16 bytes (plus 4 in the free
 * stack); a PTE is 8 bytes in a 4 KiB table; everything else (areas, tasks,
 * swap slots, GUP handles) is per-process or per-event-kind, not per page.
 * The two per-frame facts that few frames have - the swap slot of a
 * swap-cache page and the GUP reference count - live in side tables keyed
 * by frame (struct sim_side), a flag bit saying whether a frame has an
 * entry: the frame itself fits four to a cache line, and the fault, fork
 * and zap loops, which touch a frame per page, miss less.
 *
 * Reference counting follows the kernel's split:
 *   ref  = page_count(): one per PTE mapping, one for the swap cache, one
 *          while in a per-CPU LRU batch, one per FOLL_GET, pin_bias per
 *          FOLL_PIN (GUP_PIN_COUNTING_BIAS), one per phantom mapper;
 *   map  = page_mapcount(): one per PTE mapping (and per phantom mapper);
 *   gup  = GUP references of any kind (the oracle's "a GUP reference exists").
 * The shared zero page is frame 0 and is never counted, as vm_normal_page()
 * returns NULL for it.
 */
#ifndef COWSIM_ENGINE_H
#define COWSIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../importers/ev.h"
#include "config.h"
#include "pgtable.h"
#include "pol.h"
#include "sim.h"
#include "../lib/hmap.h"
#include "../lib/vma.h"

/* ---- frames ---- */

#define FR_USED    0x0001u
#define FR_ANON    0x0002u   /* anonymous (PageAnon) */
#define FR_EXCL    0x0004u   /* PG_anon_exclusive */
#define FR_LRU     0x0008u   /* on an LRU list */
#define FR_BATCH   0x0010u   /* in a per-CPU batch (holds one ref, !LRU) */
#define FR_KSM     0x0020u
#define FR_FILE    0x0040u   /* page cache (file or shmem) */
#define FR_GUPPED  0x0080u   /* Piggin's PageDontCOW: GUP referenced it */
#define FR_ZERO    0x0100u   /* the shared zero page (frame 0 only) */
#define FR_INSWAP  0x0200u   /* in the swap cache: its slot is in e->swapof */
#define FR_GUPREF  0x0400u   /* has GUP references: their count in e->gupof */

struct sim_frame {
	uint32_t ref;
	uint32_t map;
	uint32_t owner;    /* content stamp: mm id of the last writer */
	uint16_t flags;
	uint8_t cpu;       /* batch holding it, while FR_BATCH */
	uint8_t phantom;   /* mappers the trace does not show (initial state) */
};
_Static_assert(sizeof(struct sim_frame) == 16, "frame must stay 16 bytes");

/* Fibonacci hashing of 32-bit keys (2^32 / the golden ratio): keys that
 * are small consecutive integers - frames, tids - spread over the table. */
#define SIM_HASH_MUL 0x9E3779B1u

static inline uint32_t sim_hash32(uint32_t x)
{
	return x * SIM_HASH_MUL;
}

/* A side table: frame -> nonzero value, for the few frames that have one
 * (lib/hmap.h: 8 bytes a slot, from 64 slots).  The engine inserts through
 * side_set() (internal.h), which counts the memory. */
HMAP_DEFINE(sim_side, uint32_t, uint32_t, sim_hash32, 64)

/* Frame f's value in s, or 0 if it has none. */
static inline uint32_t sim_side_val(const struct sim_side *s, uint32_t f)
{
	const uint32_t *v = sim_side_get(s, f);
	return v ? *v : 0;
}

/* The other tables of the engine (their functions: internal.h).  Task and
 * GUP-handle indices hold array index + 1 and find the key in the array. */
HMAP_STRUCT(u64map, uint64_t, uint32_t);
HMAP_INDEX_STRUCT(task_index, uint32_t);
HMAP_INDEX_STRUCT(gup_index, uint32_t);

/* ---- swap ---- */

struct sim_slot {
	uint32_t count;    /* swap PTEs naming this slot (swap_map count) */
	uint32_t frame;    /* swap-cache page, 0 if none; free-list link */
	uint32_t owner;    /* content stamp of the data on "disk" */
};

/* ---- PTE encoding (PTE-level entries) ---- */

#define PTE_P      0x1ull    /* present */
#define PTE_W      0x2ull    /* writable */
#define PTE_SWP    0x4ull    /* swap entry (not present) */
#define PTE_SWPX   0x8ull    /* swap entry with the exclusive bit (5.19) */
#define PTE_SHIFT  12

static inline uint64_t pte_mk(uint32_t idx, uint64_t bits)
{
	return ((uint64_t)idx << PTE_SHIFT) | bits;
}
static inline uint32_t pte_idx(uint64_t pte)
{
	return (uint32_t)(pte >> PTE_SHIFT);
}

/* ---- address spaces and tasks ---- */

/* PTE tables cached per address space, direct-mapped by (pg >> PT_SHIFT): faults
 * alternate between a few areas (the allocation front, a hot data
 * structure, the stack), each needing its own table. */
#define PTE_CACHE 32

struct sim_mm {
	uint32_t id;         /* unique for the engine's life: pids recycle */
	uint32_t users;      /* tasks sharing it; 0 = free slot */
	uint32_t pgd;
	uint32_t nr_pt;      /* page-table pages, PGD included */
	uint32_t tgid;
	uint64_t pte_key[PTE_CACHE];  /* PTE tables recently used: (pg >> PT_SHIFT) + 1 */
	uint32_t pte_tbl[PTE_CACHE];  /* ... and their table indices */
	uint64_t rss;        /* present PTEs */
	uint64_t brk_start;
	uint64_t brk;
	struct vma_set vmas;
	bool has_pinned;     /* MMF_HAS_PINNED, sticky (008cfe4418b3) */
	uint32_t next_free;
	uint32_t fm_shared;  /* fork_mode on-demand: its shared PTE tables */
	uint32_t fm_jobs;    /* fork_mode async: copies it is parent or child of */
};

#define TASK_CACHE 64

struct sim_task {
	uint32_t tid;
	uint32_t tgid;
	uint32_t mm;         /* index into e->mm */
	uint32_t proc;       /* its process record (proc.c), SIM_NONE only
	                        for a task first seen at its exit */
	uint64_t last_addr;  /* last fault, for EV_OBSERVED */
	/* With a fault hook only (the fault path does not pay for them
	 * otherwise): the low 32 bits of the last fault's event index, and
	 * whether the hook was told of it (a write fault).  A label follows
	 * its fault within far fewer than 2^32 events, so the low bits name
	 * it (ev_observed(), memory.c). */
	uint32_t last_seq;
	uint8_t last_hooked;
	uint8_t last_out;    /* enum sim_out of that fault */
};

/* ---- GUP references ---- */

struct sim_gup {
	uint32_t id;         /* handle id from the stream */
	uint32_t mm_id;      /* owner address space (sim_mm.id) */
	uint64_t start;      /* first page number */
	uint32_t npages;
	uint32_t flags;      /* EV_GUP_* */
	uint64_t refs;       /* references per page */
	uint32_t inc;        /* refcount added per reference (1 or pin_bias) */
	uint8_t leaked;      /* oracle: counted once */
	uint8_t lost;
	uint8_t live;
	uint32_t *frames;    /* per page: frame referenced, or UINT32_MAX when
	                        no reference was taken */
};

/* A pending swap-out whose unmap waits for a racing GUP-fast. */
struct sim_race {
	int kind;            /* 0 none, 1 swap-out, 2 fork */
	uint32_t mm;
	uint64_t pg;
	uint64_t npages;
	uint32_t frame;
};

/*
 * fork_mode on-demand and async (forkmode.c): the engine keeps every page
 * table materialized as mainline's fork leaves it, and this ledger says
 * what the modeled design has instead.  On-demand: a share record per
 * shared PTE table, count = address spaces sharing it (0 = free record),
 * found through share: (mm id << FM_KEY_SHIFT | table) -> record.  Async:
 * a job per fork whose child has PTE tables still to copy, in address
 * order, each with the time by which the child's background copy has it.
 * live counts records and jobs: while it is 0 every event takes the
 * engine's usual path.
 */
struct fm_share {
	uint32_t count;
	uint32_t next_free;
};

struct fm_tab {
	uint64_t key;        /* pg >> PT_SHIFT */
	uint64_t done;       /* ts when the child's background copy has it */
	uint32_t ptes;
	uint16_t copies;     /* early COW pages in it, copied with it */
	uint8_t copied;
};

struct fm_job {
	uint32_t parent, child;   /* indices into e->mm */
	uint32_t fork;            /* index into e->forks */
	uint32_t n, cur;          /* tables; those before cur are copied */
	struct fm_tab *tab;
};

struct fm_state {
	uint32_t live;
	struct u64map share;
	struct fm_share *sh;
	uint32_t nsh, capsh, free_sh;
	struct fm_job *job;
	uint32_t njob, capjob;
	uint64_t next_done;       /* earliest tab.done of the jobs' next tables */
	struct fm_tab *build;     /* the fork being copied (async) */
	uint32_t nbuild, capbuild;
};

struct sim_engine {
	const struct sim_config *cfg;
	const struct pol_ops *pol;
	uint32_t pin_bias;
	unsigned fork_filter;   /* pol->fork_filter(cfg): POL_FF_* */

	/* frames */
	struct sim_frame *fr;
	uint32_t nfr, capfr;
	uint32_t *free_fr;      /* stack of free frame indices: popping reads
	                           this dense array, not the cold frame */
	uint32_t nfree, capfree;
	uint64_t frames_used, anon_frames;

	/* swap */
	struct sim_slot *slot;
	uint32_t nslot, capslot, free_slot;

	/* side tables of frames (see the top of this file) */
	struct sim_side swapof;  /* FR_INSWAP frame -> its swap slot */
	struct sim_side gupof;   /* FR_GUPREF frame -> GUP references */

	struct pt_pool pt;

	/* address spaces */
	struct sim_mm *mm;
	uint32_t nmm, capmm, free_mm, next_mm_id;

	/* tasks: array + tid index */
	struct sim_task *task;
	uint32_t ntask, captask;
	struct task_index tix;
	uint32_t tcache[TASK_CACHE];   /* tid & mask -> task (checked) */

	/* GUP handles: array + id index */
	struct sim_gup *gup;
	uint32_t ngup, capgup, live_gups;
	struct gup_index gix;   /* every handle of the array, dead ones too */

	/* per-CPU LRU batches: batch[cpu * lru_batch + i] */
	uint32_t *batch;
	uint16_t *batch_n;
	uint32_t ncpu;

	/* page cache: (file << 32 | pgoff) -> frame */
	struct u64map pc;

	/* KSM stable pages: key -> frame (few; linear) */
	uint64_t *ksm_key;
	uint32_t *ksm_frame;
	uint32_t nksm, capksm;

	/* initial state: pfn -> frame, only while EV_PAGE_INIT events arrive */
	struct u64map pfn;

	struct sim_race race;
	struct fm_state fm;
	uint32_t hold;           /* frame a fault handler holds (never freed) */

	/* the event being applied */
	uint64_t now;
	uint32_t cpu;
	int in_gup;

	struct sim_metrics m;
	struct sim_fork_rec *forks;
	size_t nforks, capforks;
	uint64_t *fork_lat_scratch;

	struct sim_sample *samples;
	size_t nsamples, capsamples;
	uint64_t sample_every, next_sample;

	sim_fault_hook fault_hook;
	void *fault_ctx;
	struct sim_proctab *procs;   /* proc.c */

	uint64_t fault_ns[OUT_NR];   /* modeled cost of a fault by outcome */
	/* Faults by (write, outcome) since the last fault_fold(): one
	 * increment per fault instead of five counters; folded into m at the
	 * end of every sim_apply()/sim_apply_block() call, so m is exact
	 * whenever the engine is not inside one. */
	uint32_t fault_n[2][OUT_NR];

	uint64_t bytes, peak_bytes;
	uint64_t resident;       /* present PTEs, all mms */
	bool swap_on;            /* the traced machine had swap */
};

/* ---- accessors and helpers for policies ---- */

static inline const struct sim_frame *sim_frame(const struct sim_engine *e,
                                                uint32_t f)
{
	return &e->fr[f];
}

/* page_maybe_dma_pinned() of a small page: the fuzzy refcount test. */
static inline bool sim_maybe_pinned(const struct sim_engine *e, uint32_t f)
{
	return e->pin_bias > 1 && e->fr[f].ref >= e->pin_bias;
}

/* GUP references (any kind) on frame f. */
static inline uint32_t sim_frame_gup(const struct sim_engine *e, uint32_t f)
{
	return (e->fr[f].flags & FR_GUPREF) ? sim_side_val(&e->gupof, f) : 0;
}

/* The swap slot of a swap-cache frame (0 if not in the swap cache). */
static inline uint32_t sim_frame_swap(const struct sim_engine *e, uint32_t f)
{
	return (e->fr[f].flags & FR_INSWAP) ? sim_side_val(&e->swapof, f) : 0;
}

/* Number of swap PTEs still naming the frame's swap slot (page_swapcount). */
static inline uint32_t sim_swapcount(const struct sim_engine *e, uint32_t f)
{
	return (e->fr[f].flags & FR_INSWAP) ? e->slot[sim_frame_swap(e, f)].count
	                                    : 0;
}

static inline bool sim_in_swapcache(const struct sim_engine *e, uint32_t f)
{
	return (e->fr[f].flags & FR_INSWAP) != 0;
}

/* lru_add_drain(): drain the current CPU's batch. */
void sim_lru_drain_local(struct sim_engine *e);

/* try_to_free_swap(): drop the page from the swap cache if no swap PTE
 * still names its slot.  Returns true if it did. */
bool sim_try_free_swap(struct sim_engine *e, uint32_t f);

/* ---- the process table (proc.c) ---- */

/*
 * Processes as the task lifecycle makes them: the engine runs every task's
 * life (task_new, task_gone, group_gone, exec), so it is the one place that
 * knows which thread group a task belonged to at each event, for the
 * results (sim_procs(), sim_threads(), sim_markers(), the fault hook's
 * proc).  Memory grows with tasks, processes and markers, never with other
 * events.  It is kept out of
 * the engine's accounting: memory_peak_bytes measures the simulated machine,
 * as it did before the table existed.
 *
 * The rules (those the results store followed on its own before):
 *  - a task the stream never introduced joins the live process of its
 *    thread group, or starts one whose beginning the trace does not show;
 *    a task first seen at its exit leaves no process behind;
 *  - a fork (not a thread) starts a process, with its parent's name and
 *    executable; a live process with the child's pid lost its exit: it is
 *    over, end unknown;
 *  - a process ends at exit_group or at its last task's exit; a pid reused
 *    by a fork whose old task was the process's last ends it unknown;
 *  - exec names the process after its path; a comm event renames it only
 *    when the thread-group leader renames itself.
 * A process that is over keeps the tasks the engine still has for it.
 */
struct sim_proctab;

int proc_create(struct sim_engine *e);
void proc_destroy(struct sim_engine *e);
/* Task t (1-based), which has none, joins its thread group's live
 * process, or a new one.  Returns 0 or -ENOMEM. */
int proc_attach(struct sim_engine *e, uint32_t t);
/* A fork (not a thread) by task parent made the task ct, which has no
 * process yet: a new one, made by fork record number fork.  Returns 0 or
 * -ENOMEM. */
int proc_fork(struct sim_engine *e, uint32_t parent, uint32_t ct,
              uint32_t fork);
/* A task joins process p / leaves it; whether p has tasks left. */
void proc_task_add(struct sim_engine *e, uint32_t p);
void proc_task_drop(struct sim_engine *e, uint32_t p);
/* Process p ended at ts (exit), or is over with its end unknown. */
void proc_end(struct sim_engine *e, uint32_t p, uint64_t ts);
void proc_lost(struct sim_engine *e, uint32_t p);
bool proc_alive(const struct sim_engine *e, uint32_t p);
/* Task t exec'd path / named itself comm (EV_COMM). */
void proc_exec(struct sim_engine *e, uint32_t t, uint32_t path);
void proc_comm(struct sim_engine *e, uint32_t t, uint32_t comm);
/*
 * Threads (sim_threads()): task_new() gives every task a record, which
 * records its creator and creation time if a fork or clone made it
 * (proc_thread_forked(), after the task is made), its process once it has
 * one, its name (the creator's, then its exec path or comm event), and its
 * exit (task_gone() calls proc_thread_end() while t is still a task), or
 * that the exit was lost: the newest record of tid ended unseen, as a fork
 * reuses its tid (proc_thread_lost()).  proc_thread_new() returns 0 or
 * -ENOMEM.
 */
int proc_thread_new(struct sim_engine *e, uint32_t t);
void proc_thread_forked(struct sim_engine *e, uint32_t parent, uint32_t ct);
void proc_thread_end(struct sim_engine *e, uint32_t t);
void proc_thread_lost(struct sim_engine *e, uint32_t tid);
/* sim_check()'s part: every task has a process and a live thread record
 * naming it, and each process's count of live tasks is right.  Returns 0, -EINVAL with why in buf, or
 * -ENOMEM. */
int proc_check(const struct sim_engine *e, char *buf, size_t len);
/* The event being applied is a marker by a task of process p (SIM_NONE:
 * a task the engine does not know).  Returns 0 or -ENOMEM. */
int proc_marker(struct sim_engine *e, const struct cs_ev *ev, uint32_t p);

/* ---- oracle (oracle.c) ---- */

/* mm gains write access to frame f (reuse, or a writable mapping): the
 * content stamp moves to mm; with GUP references, check them for leaks. */
void oracle_leak_check(struct sim_engine *e, const struct sim_mm *mm,
                       uint32_t f);
static inline void oracle_write_grant(struct sim_engine *e,
                                      const struct sim_mm *mm, uint32_t f)
{
	if (e->fr[f].flags & FR_GUPREF)
		oracle_leak_check(e, mm, f);
	e->fr[f].owner = mm->id;
}
/* mm's PTE for page pg stops mapping frame old because of a COW copy. */
void oracle_cow_replaced(struct sim_engine *e, const struct sim_mm *mm,
                         uint64_t pg, uint32_t old);
/* A COW copy of old at fault in mm; counts it if it was unnecessary. */
void oracle_copy(struct sim_engine *e, uint32_t old);

#endif
