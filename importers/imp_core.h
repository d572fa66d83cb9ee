/*
 * imp_core.h - the importers' shared core: raw tracepoint records in,
 * normalized events (ev.h) out.
 *
 * Every trace format cowsim reads (trace.dat, kernel ftrace text, trace-cmd
 * report text, perf script text) carries the same tracepoints; only the way
 * they are spelled differs.  So each format has a thin front end that only
 * parses - it fills one struct imp_rec per tracepoint record and hands it
 * to imp_core_feed() - and everything that needs judgement lives here, once:
 *
 *  - tasks and processes: tid -> tgid from task_newtask/sched_process_fork
 *    (CLONE_THREAD), comm from exec/rename, pid reuse, exits;
 *  - the process-tree selection (--pid, --comm, or by default the tree of
 *    the first process a `cowsim: maps` snapshot describes);
 *  - syscalls: enter/exit pairing per tid (raw_syscalls and the specific
 *    syscalls:* events both), applied only when the exit says success;
 *  - an address-space shadow per simulated mm (lib/vma.h), kept from the
 *    very events the core emits, to infer a mapping (EV_MAP_INFERRED) before
 *    a fault that lies in no known area;
 *  - exec: the kernel faults on the new image before sched_process_exec
 *    (ELF loading, argv copying); those records are held per task and
 *    released after EV_EXEC and after the maps snapshot that follows the
 *    exec, so they land in the new address space;
 *  - kernel-observed outcomes (reference/tracing.md section 4): a window per
 *    tid from each fault to that tid's next fault, syscall or marker; a
 *    qualifying order-0 user-movable allocation inside it labels the fault;
 *  - markers: maps snapshots, pagemap runs, meta facts, phases, expects;
 *  - O_DIRECT reads and writes become GUP pins for the syscall's duration;
 *    vmsplice and io_uring buffer registration are counted as unresolved.
 *
 * The code is split by job (imp_core.c the record stage and driver,
 * imp_sys.c syscalls, imp_marker.c markers, imp_snap.c maps snapshots and
 * pagemap runs, imp_as.c the output stage and shadow) around imp_int.h,
 * their shared internals, which nothing outside the core includes.
 *
 * Lifecycle: imp_core_init(), set sel/labels/where fields, imp_core_feed()
 * per record in file order, imp_core_finish() at the end of input, with
 * imp_core_pop() draining the output queue whenever convenient (the queue
 * is bounded by the work one record can cause, never by the trace length);
 * imp_core_free().
 *
 * Invariants: emitted events are in stream order with non-decreasing ts
 * (input that goes backwards is clamped and counted); a label
 * (EV_OBSERVED) always follows its fault and precedes that task's next
 * fault; nothing is emitted for a task outside the selection.
 *
 * Errors: imp_core_feed() returns 0 or -ENOMEM.  Everything wrong with the
 * trace itself is counted in struct imp_stats and, for the first few of
 * each kind, reported through the warn callback with file and line/record.
 */
#ifndef COWSIM_IMP_CORE_H
#define COWSIM_IMP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "evsrc.h"
#include "../lib/hmap.h"
#include "../lib/strtab.h"

/* What a raw record is.  Field use per kind (a[] = numbers, s/s2 = text
 * valid only during the imp_core_feed() call):
 *   IK_PF_USER, IK_PF_KERNEL  a0 address, a1 ip (0 if symbolic), a2 error code
 *   IK_FORK       a0 parent pid, a1 child pid; s child comm
 *   IK_EXEC       a0 pid, a1 old pid; s filename
 *   IK_EXIT       a0 pid, a1 group_dead (0/1; 2 = not in the record)
 *   IK_FREE       a0 pid
 *   IK_NEWTASK    a0 pid, a1 clone flags; s comm
 *   IK_RENAME     a0 pid; s new comm
 *   IK_EXIT_MMAP  -
 *   IK_SYS_ENTER  nr (x86-64 number), a0..a5 arguments; raw: raw_syscalls
 *   IK_SYS_EXIT   nr, a0 return value (as the 64-bit pattern)
 *   IK_PAGE_ALLOC a0 pfn, a1 order, a2 IMP_GFP_* class bits, a3 migratetype
 *                 (UINT64_MAX when the record has none)
 *   IK_PRINT      s marker text (trailing newline allowed)
 *   IK_DROPPED    a0 cpu, a1 events lost (0 = unknown number)
 *   IK_MMAP2      a0 pid, a1 start, a2 length, a3 pgoff, a4 inode,
 *                 a5 EV_PROT_* | EV_MAP_SHARED; s path, s2 "maj:min"
 *   IK_PFORK      a0 child pid, a1 child tid, a2 parent pid, a3 parent tid
 *   IK_PEXIT      a0 pid, a1 tid
 *   IK_PCOMM      a0 pid, a1 tid, a2 1 if from exec; s comm
 *   IK_OTHER      a known-harmless event we read and do not need
 *   IK_UNKNOWN    s event name (counted by name, skipped)
 *   IK_BAD        s the line (start), s2 what is wrong (counted, warned)
 */
enum imp_kind {
	IK_NONE = 0,
	IK_PF_USER,
	IK_PF_KERNEL,
	IK_FORK,
	IK_EXEC,
	IK_EXIT,
	IK_FREE,
	IK_NEWTASK,
	IK_RENAME,
	IK_EXIT_MMAP,
	IK_SYS_ENTER,
	IK_SYS_EXIT,
	IK_PAGE_ALLOC,
	IK_PRINT,
	IK_DROPPED,
	IK_MMAP2,
	IK_PFORK,
	IK_PEXIT,
	IK_PCOMM,
	IK_OTHER,
	IK_UNKNOWN,
	IK_BAD,
	IK_NKINDS
};

/* Allocation classes a front end decodes from gfp_flags, by the names the
 * event's own format gives the bits (never by one kernel's values). */
#define IMP_GFP_USERMOV 0x1u   /* every bit of GFP_HIGHUSER_MOVABLE */
#define IMP_GFP_ZERO    0x2u   /* __GFP_ZERO */
#define IMP_GFP_WRITE   0x4u   /* __GFP_WRITE (page cache for write()) */
#define IMP_GFP_UNKNOWN 0x8u   /* could not be decoded */

/* common_flags bits (include/linux/trace_events.h); -1 = not in the record */
#define IMP_IRQ_OFF  0x01      /* TRACE_FLAG_IRQS_OFF */
#define IMP_IRQ_HARD 0x08      /* TRACE_FLAG_HARDIRQ */
#define IMP_IRQ_SOFT 0x10      /* TRACE_FLAG_SOFTIRQ */

/* IK_EXIT a1 when the record has no group_dead field (older kernels). */
#define IMP_GROUP_DEAD_UNKNOWN 2

/* Syscall numbers above this are none (x86-64 has some 460): nr -1. */
#define IMP_NR_MAX 1023

/* x86-64 syscall numbers (the ABI, stable across kernels). */
enum {
	NR_read = 0, NR_write = 1, NR_open = 2, NR_mmap = 9, NR_mprotect = 10,
	NR_munmap = 11, NR_brk = 12, NR_pread64 = 17, NR_pwrite64 = 18,
	NR_mremap = 25, NR_madvise = 28, NR_clone = 56, NR_fork = 57,
	NR_vfork = 58, NR_execve = 59, NR_exit_group = 231, NR_openat = 257,
	NR_vmsplice = 278, NR_execveat = 322, NR_io_uring_register = 427,
	NR_clone3 = 435,
};
/* The syscall number of "mmap" (from sys_enter_mmap, sys_mmap...), or -1. */
int imp_syscall_nr(const char *name, size_t len);

struct imp_rec {
	uint64_t ts;        /* ns */
	int32_t tid;        /* -1: unknown */
	int32_t tgid;       /* 0: not in the record */
	uint16_t cpu;
	int16_t irq;        /* common_flags, -1 unknown */
	uint8_t kind;       /* enum imp_kind */
	uint8_t raw;        /* IK_SYS_*: from raw_syscalls */
	int32_t nr;         /* IK_SYS_*: syscall number, -1 unknown */
	uint64_t a[6];
	const char *s;
	size_t slen;
	const char *s2;
	size_t s2len;
};

/* Counters of what an import saw and did (printed by `cowsim import`, and
 * stored as import_* metadata). */
#define IMP_STATS(X) \
	X(records, "tracepoint records read") \
	X(events_out, "normalized events written") \
	X(filtered, "records of tasks outside the selected process tree") \
	X(unknown_events, "records of events the importers do not use (skipped)") \
	X(bad_lines, "lines or records that did not parse (skipped)") \
	X(dropped_events, "events the tracer lost (reported by the trace)") \
	X(drop_reports, "places where the trace says events were lost") \
	X(nonmonotonic, "records whose timestamp went backwards (clamped)") \
	X(processes, "processes in the selection") \
	X(forks, "forks (no CLONE_VM)") \
	X(vforks, "vforks / posix_spawn (CLONE_VM, no CLONE_THREAD)") \
	X(threads, "threads (CLONE_THREAD)") \
	X(execs, "execs") \
	X(exits, "task exits") \
	X(faults_user, "user-mode page faults") \
	X(faults_kernel, "kernel-mode page faults on user addresses") \
	X(faults_highaddr, "faults above the user address range (skipped)") \
	X(syscalls, "syscalls applied") \
	X(syscalls_failed, "syscalls that failed (not applied)") \
	X(syscall_mismatch, "syscall exits without a matching entry") \
	X(inferred_maps, "mappings inferred from a fault in no known area") \
	X(inferred_upgrades, "inferred mappings made writable by a later write") \
	X(stack_growth, "stack expansions below [stack]") \
	X(snapshots, "maps snapshots applied") \
	X(snapshot_lines, "maps snapshot lines") \
	X(snapshots_discarded, "maps snapshots without their end (discarded)") \
	X(pagemap_runs, "pagemap runs (initial page state)") \
	X(markers, "markers kept as events") \
	X(bad_markers, "cowsim: markers that did not parse (skipped)") \
	X(meta, "meta facts") \
	X(exec_held, "exec-time records held for the new address space") \
	X(hold_overflow, "holds released early (too many records)") \
	X(retimed, "held events re-stamped to keep time order") \
	X(odirect_gups, "O_DIRECT transfers modelled as GUP pins") \
	X(unresolved_vmsplice, "vmsplice calls (pages unknown: not modelled)") \
	X(unresolved_io_uring, "io_uring buffer registrations (not modelled)") \
	X(labels_copy, "faults the kernel resolved by copying") \
	X(labels_reuse, "write-protect faults the kernel resolved by reuse") \
	X(labels_zero, "write-protect faults resolved with a zeroed page") \
	X(labels_new, "not-present faults resolved with a zeroed page") \
	X(labels_lost, "open outcome windows abandoned at lost events") \
	X(labels_shared_fill, "allocations at faults on shared mappings: page-cache fills, not labelled") \
	X(exec_images_placed, "exec images (program, interpreter) mapped from their ELF headers") \
	X(exec_images_missing, "execs whose file could not be read (inferred instead)") \
	X(exec_images_bad, "execs of a file that is no x86-64 ELF (inferred instead)") \
	X(exec_images_conflict, "exec images whose layout overlapped known areas (not mapped)") \
	X(exec_stack_pages, "stack pages execve() wrote, present from the start") \
	X(exec_missing_faults, "faults inferred in the images of missing or bad exec files") \
	X(gfp_undecoded, "allocations whose gfp flags could not be decoded") \
	X(pid_reused, "pids reused (a new task under an old task's pid)") \
	X(after_exit, "records of a task after its exit (skipped)") \
	X(impossible, "task records no kernel writes, e.g. a task forking itself (skipped)") \
	X(unknown_tasks, "tasks first seen mid-life (state invented)")

struct imp_stats {
#define IMP_STAT_FIELD(n, d) uint64_t n;
	IMP_STATS(IMP_STAT_FIELD)
#undef IMP_STAT_FIELD
};

/* Names and descriptions of the stats, in IMP_STATS order. */
size_t imp_nstats(void);
const char *imp_stat_name(size_t i, const char **doc);
uint64_t imp_stat_get(const struct imp_stats *s, size_t i);

/* Process-tree selection. */
enum imp_sel_mode {
	IMP_SEL_ALL = 0,     /* every task */
	IMP_SEL_PID,         /* the tree of one pid */
	IMP_SEL_COMM,        /* the tree of the first exec of a comm */
};

struct imp_task;
struct imp_as;
HMAP_INDEX_STRUCT(imp_task_index, struct imp_task *);

/* Event names the trace had that no importer uses: name -> count. */
struct imp_skip {
	char name[48];
	uint64_t n;
};
#define IMP_MAX_SKIP 64

typedef void (*imp_warn_fn)(void *ctx, const char *msg);

struct imp_core {
	/* --- set by the caller before feeding --- */
	struct ev_source *src;     /* strings and meta go here */
	enum imp_sel_mode sel;
	uint32_t sel_pid;
	char sel_comm[16];
	bool labels;               /* the trace has kmem:mm_page_alloc */
	bool perf;                 /* perf: MMAP2 records stand in for maps */
	imp_warn_fn warn;
	void *warn_ctx;
	int rootfd;                /* exec images are read from: -1 the local
	                              file system, or a --sysroot directory
	                              fd (the caller's to close) */
	const char *where_unit;    /* "line" or "record" */
	uint64_t where;            /* current line/record number */

	/* --- state --- */
	struct imp_stats st;
	struct imp_skip skip[IMP_MAX_SKIP];
	size_t nskip;
	uint64_t skip_other;

	struct cs_ev *out;         /* output queue */
	size_t out_head, out_n, out_cap;
	uint64_t last_ts;          /* last emitted */
	uint64_t last_in_ts;       /* last record's */

	struct imp_task_index tasks; /* tid -> task (lib/hmap.h) */
	struct imp_task *tlast;    /* one-entry cache */

	struct imp_exe *exes;      /* exec images by path (imp_exe.c) */
	size_t nexes, capexes;

	struct imp_snap *snaps;    /* maps snapshots being collected */
	size_t nsnaps, capsnaps;

	uint32_t root;             /* selected root tgid, 0 = none yet */
	bool saw_syscalls;
	bool saw_fork_tp;          /* sched_process_fork seen (perf: prefer) */
	uint32_t next_handle;
	uint64_t open_seq;
	uint32_t warned[8];
	int oom;
	char fatal[400];           /* set by imp_core_fail(): the import stops */
};

int imp_core_init(struct imp_core *c, struct ev_source *src);
void imp_core_free(struct imp_core *c);

/* Process one record.  Returns 0, -ENOMEM, or -EINVAL when the trace
 * passed a hard limit (c->fatal says which, and where). */
int imp_core_feed(struct imp_core *c, const struct imp_rec *r);

/* End of input: close windows, release holds, discard unfinished
 * snapshots.  Returns 0 or -ENOMEM. */
int imp_core_finish(struct imp_core *c);

/* Move up to max queued events into buf; returns how many. */
size_t imp_core_pop(struct imp_core *c, struct cs_ev *buf, size_t max);
static inline size_t imp_core_pending(const struct imp_core *c)
{
	return c->out_n;
}

/* Warn about the current record (file and line/record are prefixed);
 * kind < 8 limits each kind to a few messages. */
void imp_core_warn(struct imp_core *c, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stop the import at the current record: a hard limit no kernel-written
 * trace reaches was passed.  The message gets the file and line/record in
 * front, as a warning's; the first one is kept. */
void imp_core_fail(struct imp_core *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Count an unknown event by name. */
void imp_core_skip(struct imp_core *c, const char *name, size_t len);

/* Store the counters as import_* metadata of the source. */
int imp_core_store_stats(struct imp_core *c);

/* Parse the text of a `cowsim: meta` marker etc. outside the stream (the
 * probe): returns 1 and sets *pid if text is "cowsim: maps pid=N begin". */
int imp_marker_snapshot_begin(const char *s, size_t len, uint32_t *pid);
/* If text is "cowsim: meta K=V", store it in src's metadata.  Returns 1 if
 * it was one, 0 if not, -ENOMEM. */
int imp_marker_meta(struct ev_source *src, const char *s, size_t len);

#endif
