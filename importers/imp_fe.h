/*
 * imp_fe.h - the front-end interface of the trace importers, and the
 * event source built on them.
 *
 * A front end knows one input format and nothing else: each read() call
 * parses input up to the next tracepoint record and fills a struct
 * imp_rec (imp_core.h), whose strings stay valid until the next call.
 * imp_open_source() wraps a front end and an imp_core into an ev_source:
 * it first probes the head of the trace (the first maps snapshot, which
 * names the default process tree; meta facts; whether allocations are
 * traced), rewinds, and then streams records through the core.
 *
 * Lifecycle of a front end: *_open(), read() until 0, rewind() to start
 * again, close().  read() returns 1 (a record), 0 (end of input) or a
 * negative errno with a message naming file and line/record in fe->err.
 * Lines that do not parse come out as IK_BAD records (counted and warned
 * about by the core, in order); a front end gives up with -EINVAL only
 * when its input is mostly not what it reads.  read() must not touch the
 * core: with fe->ahead set, it runs in a thread of its own, a batch ahead
 * of the import (imp_src.c).
 */
#ifndef COWSIM_IMP_FE_H
#define COWSIM_IMP_FE_H

#include <stddef.h>
#include <stdint.h>

#include "open.h"
#include "imp_core.h"

struct imp_fe;

/* What the probe learns from the head of a trace. */
struct imp_probe {
	uint32_t snap_pid;          /* first `cowsim: maps pid=N begin`, 0 none */
	int alloc;                  /* a kmem:mm_page_alloc record was seen */
};
/* How far the probe looks: launcher-made traces have their first snapshot
 * within a few thousand records (4-6 thousand in traces/real). */
#define IMP_PROBE_MAX 250000u

/* Feed one record to the probe (meta facts go to meta).  markers is 0 for
 * a format that cannot hold trace_marker lines (perf).  Returns 1 once the
 * probe has seen enough, 0 to go on, -ENOMEM. */
int imp_probe_step(struct ev_source *meta, const struct imp_rec *r,
                   struct imp_probe *pr, int has_alloc, int markers);

struct imp_fe_ops {
	int (*read)(struct imp_fe *fe, struct imp_rec *r);
	int (*rewind)(struct imp_fe *fe);
	void (*close)(struct imp_fe *fe);
	/* Optional: a front end that probes by itself (trace.dat does it in
	 * its reader process).  0 or a negative errno with fe->err. */
	int (*probe)(struct imp_fe *fe, struct ev_source *meta,
	             struct imp_probe *pr);
};

struct imp_fe {
	const struct imp_fe_ops *ops;
	uint64_t where;             /* line or record of the last read() */
	const char *unit;           /* "line" or "record" */
	uint64_t bytes_total, bytes_done;
	uint64_t good, bad;         /* records parsed / lines rejected */
	int has_alloc;              /* -1: probe decides; 0/1: the format says */
	int perf;                   /* MMAP2 stands in for maps snapshots */
	int ahead;                  /* read() may run in a parse-ahead thread */
	char err[512];
};

/*
 * Records in batches, for a front end that runs ahead of the importer (a
 * thread for text, a process for trace.dat): each record's strings are
 * copied into the batch's arena, so they live as long as the batch.
 */
#define IMP_BATCH 2048
#define IMP_BATCH_ARENA (96u << 10)
#define IMP_BATCH_STR 4096u     /* longer strings (none in practice) are cut */

struct imp_batch {
	struct imp_rec r[IMP_BATCH];
	uint64_t where[IMP_BATCH];
	uint32_t n, used;
	int end;                    /* 0 more to come, 1 end of input, <0 error */
	uint64_t bytes_done, good, bad;
	char err[512];
	char arena[IMP_BATCH_ARENA];
};

/* Room for one more record (with two strings of IMP_BATCH_STR)? */
static inline int imp_batch_room(const struct imp_batch *b)
{
	return b->n < IMP_BATCH && b->used + 2 * IMP_BATCH_STR <= IMP_BATCH_ARENA;
}

/* Append r (and its strings) read at where; the caller checked the room. */
void imp_batch_put(struct imp_batch *b, const struct imp_rec *r,
                   uint64_t where);

/* A text front end: lines from imp_lines, each given to parse (1 a
 * record, 0 not an event line, -1 garbage, reported as "what"). */
typedef int (*imp_line_parser)(const char *line, size_t len,
                               struct imp_rec *r);
int imp_text_open(const char *path, imp_line_parser parse, const char *what,
                  int perf, struct imp_fe **out, char *err, size_t errlen);

int imp_ftrace_open(const char *path, struct imp_fe **out, char *err,
                    size_t errlen);
int imp_perf_open(const char *path, struct imp_fe **out, char *err,
                  size_t errlen);
int imp_dat_open(const char *path, struct imp_fe **out, char *err,
                 size_t errlen);

/* Open path (format "dat", "ftrace" or "perf") as an event source. */
int imp_open_source(const char *path, const char *format,
                    const struct evsrc_opts *opts, struct ev_source **out,
                    char *err, size_t errlen);

/* An event source over a front end already open (imp_open_source()'s
 * second half); fe is the source's from then on, also on failure.  path
 * and format name it in messages and metadata.  Same returns. */
int imp_open_fe_source(struct imp_fe *fe, const char *path,
                       const char *format, const struct evsrc_opts *opts,
                       struct ev_source **out, char *err, size_t errlen);

/*
 * For the fuzz target (tests/fuzz, FUZZ_DATREC): cowsim's trace.dat code
 * after libtracecmd, in this process.  imp_dat_formats_open() opens the
 * event formats of a trusted trace.dat once; imp_dat_records_open() makes
 * a front end whose records are made of in[0..len) - each picks one of
 * those events and brings its own payload (imp_dat.c says how) - decoded
 * as records of the file are.  in and f must outlive the front end.
 * Returns 0, -ENOMEM, or for the formats -EINVAL with a message.
 */
struct imp_dat_formats;
int imp_dat_formats_open(const char *template, struct imp_dat_formats **out,
                         char *err, size_t errlen);
void imp_dat_formats_close(struct imp_dat_formats *f);
int imp_dat_records_open(const struct imp_dat_formats *f, const uint8_t *in,
                         size_t len, struct imp_fe **out);

/* src was opened as path (/proc/self/fd/N) and renamed after its input
 * (open.c): messages of the front end, which know only path, are renamed
 * too.  No-op if src is not an importer source.  Returns nothing: a path
 * too long to keep leaves the messages as they are. */
void imp_source_opened_as(struct ev_source *src, const char *path);

/* The import's counters, for `cowsim import` (NULL if src is not an
 * importer source). */
const struct imp_core *imp_source_core(const struct ev_source *src);

/* Which text format the first bytes of a (decompressed) file look like:
 * "ftrace", "perf" or NULL. */
const char *imp_detect_text(const char *head, size_t n);

#endif
