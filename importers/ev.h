/*
 * ev.h - the normalized event stream: what every importer produces and the
 * simulator consumes.
 *
 * A trace, whatever tool wrote it, is reduced to a sequence of fixed-size
 * records in timestamp order.  The record is the unit of the binary event
 * file (evfile.h) and of the in-memory blocks the replay loop walks, so it is
 * shaped for that loop: 48 bytes, naturally aligned, no pointers, every field
 * little-endian on disk.  A 20-million-event trace is ~0.9 GiB on disk and is
 * streamed, never loaded whole.
 *
 * Invariants (checked by ev_validate(), relied on by the engine):
 *  - ts never decreases from one record to the next;
 *  - type is one of enum ev_type; rsv is 0;
 *  - task ids (tid, tgid, and the child of EV_FORK/EV_FORK_DONE) are at
 *    most EV_PID_MAX, so a hostile stream cannot make more tasks than
 *    Linux can have;
 *  - addresses are user virtual addresses (< 2^47); page-granular operations
 *    (mmap, munmap, mprotect, madvise, mremap, gup, swap, ksm, page_init)
 *    carry a page-aligned addr and a length in pages (len > 0);
 *  - string ids (EV_EXEC, EV_COMM, EV_MARKER, EV_MMAP's file) index the
 *    stream's string table; 0 is the empty string.
 *
 * Field use per type (fields not named are 0):
 *
 *  type          tid/tgid          addr           aux            len          arg         flags
 *  EV_EXEC       task              -              -              -            path str    -
 *  EV_COMM       task              -              -              -            comm str    -
 *  EV_FORK       parent task       -              -              -            child tid   clone flags (CLONE_*)
 *  EV_FORK_DONE  parent task       -              observed ns    -            child tid   -
 *  EV_EXIT       task              -              -              -            -           EV_EXIT_GROUP
 *  EV_MMAP       task              start          file pgoff     pages        file str    EV_PROT_* | EV_MAP_*
 *  EV_MUNMAP     task              start          -              pages        -           -
 *  EV_MPROTECT   task              start          -              pages        -           EV_PROT_*
 *  EV_MREMAP     task              old start      new start      old pages    new pages   -
 *  EV_BRK        task              new brk        old brk        -            -           -
 *  EV_MADVISE    task              start          -              pages        -           advice (Linux MADV_*)
 *  EV_FAULT      task              fault address  ip             -            -           x86 error code (EV_PF_*)
 *  EV_GUP        task              start          refs (0 = 1)   pages        handle id   EV_GUP_*
 *  EV_GUP_PUT    task              -              -              -            handle id   -
 *  EV_SWAPOUT    task              start          -              pages        -           EV_SWAPOUT_RACE
 *  EV_SWAPIN     task              start          -              pages        -           -
 *  EV_KSM        task              start          merge key      pages        -           -
 *  EV_MIGRATE    task              start          -              pages        -           -
 *  EV_OBSERVED   task              fault address  -              -            -           EV_OBS_* (kernel's outcome)
 *  EV_MARKER     task              -              -              -            text str    -
 *  EV_PAGE_INIT  task              start          first pfn      pages        -           EV_PM_*
 *
 * EV_FORK is emitted when the child comes to exist (sched_process_fork); the
 * parent's syscall returns later, so the fork's observed latency arrives in
 * its own EV_FORK_DONE.  EV_OBSERVED likewise labels the task's most recent
 * EV_FAULT once the importer has seen the fault's allocation window close:
 * labels never reorder the stream.
 */
#ifndef COWSIM_EV_H
#define COWSIM_EV_H

#include <stdint.h>

enum ev_type {
	EV_NONE = 0,
	EV_EXEC,
	EV_COMM,
	EV_FORK,
	EV_FORK_DONE,
	EV_EXIT,
	EV_MMAP,
	EV_MUNMAP,
	EV_MPROTECT,
	EV_MREMAP,
	EV_BRK,
	EV_MADVISE,
	EV_FAULT,
	EV_GUP,
	EV_GUP_PUT,
	EV_SWAPOUT,
	EV_SWAPIN,
	EV_KSM,
	EV_MIGRATE,
	EV_OBSERVED,
	EV_MARKER,
	EV_PAGE_INIT,
	EV_NTYPES
};

struct cs_ev {
	uint64_t ts;     /* ns, trace clock */
	uint32_t tid;    /* thread id */
	uint32_t tgid;   /* thread-group id (process) */
	uint16_t cpu;    /* CPU the event happened on */
	uint8_t type;    /* enum ev_type */
	uint8_t rsv;     /* must be 0 */
	uint32_t flags;  /* per type, see the table above */
	uint64_t addr;   /* per type */
	uint64_t aux;    /* per type */
	uint32_t len;    /* pages, per type */
	uint32_t arg;    /* per type */
};
_Static_assert(sizeof(struct cs_ev) == 48, "event record must stay 48 bytes");

/* EV_MMAP / EV_MPROTECT protection and mapping bits (cowsim's, not Linux's). */
#define EV_PROT_READ     0x0001u
#define EV_PROT_WRITE    0x0002u
#define EV_PROT_EXEC     0x0004u
#define EV_PROT_MASK     0x0007u
#define EV_MAP_SHARED    0x0010u  /* MAP_SHARED; else private (COW) */
#define EV_MAP_ANON      0x0020u  /* no file: anonymous (shared anon = shmem) */
#define EV_MAP_STACK     0x0040u  /* grows down */
#define EV_MAP_SPECIAL   0x0080u  /* vdso/vvar/vsyscall: never has anon pages */
#define EV_MAP_INFERRED  0x0100u  /* the importer invented it from a fault */
#define EV_MAP_SNAPSHOT  0x0200u  /* from a maps snapshot, not a syscall */
#define EV_MAP_HEAP      0x0400u  /* [heap] */
#define EV_MAP_NORESERVE 0x0800u

/* EV_FORK flags: Linux clone flags that matter here. */
#define EV_CLONE_VM      0x00000100u
#define EV_CLONE_VFORK   0x00004000u
#define EV_CLONE_THREAD  0x00010000u

/* EV_EXIT */
#define EV_EXIT_GROUP    0x1u     /* the whole thread group is dead */

/* EV_FAULT: the x86 page-fault error code, as the tracepoints carry it. */
#define EV_PF_PROT       0x01u    /* 1: protection fault on a present PTE */
#define EV_PF_WRITE      0x02u
#define EV_PF_USER       0x04u    /* 0: kernel code touching user memory */
#define EV_PF_INSTR      0x10u

/* EV_GUP flags: how the pages are grabbed (mm/gup.c FOLL_* and the path). */
#define EV_GUP_WRITE     0x0001u  /* FOLL_WRITE */
#define EV_GUP_PIN       0x0002u  /* FOLL_PIN (pin_user_pages); else FOLL_GET */
#define EV_GUP_LONGTERM  0x0004u  /* FOLL_LONGTERM */
#define EV_GUP_FAST      0x0008u  /* GUP-fast (lockless) path tried first */
#define EV_GUP_RACED     0x0010u  /* GUP-fast raced with the previous event of
                                     this mm (a fork, or a swap-out marked
                                     EV_SWAPOUT_RACE); scenarios only */
#define EV_GUP_SRC_SHIFT 8        /* who grabbed: enum ev_gup_src */
#define EV_GUP_SRC_MASK  0x0f00u

enum ev_gup_src {
	EV_GUP_SRC_OTHER = 0,
	EV_GUP_SRC_VMSPLICE,
	EV_GUP_SRC_IOURING,
	EV_GUP_SRC_ODIRECT,
	EV_GUP_SRC_GUPTEST,
};

/* EV_SWAPOUT */
#define EV_SWAPOUT_RACE  0x1u     /* the next event is an EV_GUP_RACED that ran
                                     between reclaim's check and its unmap */

/* EV_OBSERVED: what the kernel did at the task's last fault (tracing.md §4). */
enum ev_obs {
	EV_OBS_NONE = 0,
	EV_OBS_COPY,                /* allocated without __GFP_ZERO: a copy */
	EV_OBS_ZERO,                /* allocated with __GFP_ZERO on a wp fault */
	EV_OBS_REUSE,               /* write-protect fault, no allocation */
	EV_OBS_NEW,                 /* not-present fault that allocated zeroed */
};

/* EV_PAGE_INIT flags: a pagemap run (docs/trace-markers.md). */
#define EV_PM_PRESENT    0x1u
#define EV_PM_SWAPPED    0x2u
#define EV_PM_FILE       0x4u
#define EV_PM_EXCLUSIVE  0x8u

/* Linux madvise advice values the engine understands (EV_MADVISE flags). */
#define EV_MADV_DONTNEED    4
#define EV_MADV_FREE        8
#define EV_MADV_REMOVE      9
#define EV_MADV_DONTFORK   10
#define EV_MADV_DOFORK     11
#define EV_MADV_MERGEABLE  12
#define EV_MADV_WIPEONFORK 18
#define EV_MADV_KEEPONFORK 19
#define EV_MADV_COLD       20
#define EV_MADV_PAGEOUT    21

#define EV_PAGE_SHIFT 12
/* PID_MAX_LIMIT on 64-bit Linux (include/linux/threads.h): no task id
 * is above it, whatever kernel.pid_max says. */
#define EV_PID_MAX    (1u << 22)
#define EV_PAGE_SIZE  4096ull
#define EV_USER_TOP   (1ull << 47)

/* Name of an event type ("fault", "fork", ...); "?" for an unknown one. */
const char *ev_type_name(unsigned type);

/*
 * Check one record against the invariants above.  prev_ts is the previous
 * record's timestamp (0 for the first).  Returns 0, or -EINVAL with a short
 * static reason in *why.
 */
int ev_validate(const struct cs_ev *ev, uint64_t prev_ts, uint32_t nstrings,
                const char **why);

#endif
