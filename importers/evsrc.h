/*
 * evsrc.h - a source of normalized events: the one interface the replay
 * driver reads, whatever the input was.
 *
 * With ev.h it is the contract between the importers and the simulator:
 * sim/ includes these two headers of importers/ and nothing else of it, and
 * links only ev.c and evsrc.c (the cowsim_ev library).  Opening a path -
 * which needs every reader - is importers/open.h, for the layers above.
 *
 * A source yields events in blocks (the caller's buffer), in stream order,
 * and owns the string table the events' string ids refer to and a list of
 * key=value facts about the trace (kernel, swap, capture tool, dropped
 * events...).  For importers that parse as they go, the string table grows
 * while events are read: an id is valid from the block that first uses it.
 *
 * Metadata a consumer needs before the first event (the replay driver reads
 * swap_total_kb to configure the simulated machine) must be known when
 * evsrc_open() returns; facts learnt while reading (dropped events,
 * import statistics) are complete once evsrc_next() has returned 0.
 *
 * Lifecycle: evsrc_open() (importers/open.h) picks the right reader for a
 * path; then
 * evsrc_next() until it returns 0; then evsrc_close().
 *
 * Errors: evsrc_next() returns the number of events (> 0), 0 at the end, or
 * a negative errno with a message naming the file and the line or record in
 * src->err.  After an error the source yields nothing more.
 */
#ifndef COWSIM_EVSRC_H
#define COWSIM_EVSRC_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "../lib/strtab.h"

struct ev_source;

struct ev_source_ops {
	long (*next)(struct ev_source *s, struct cs_ev *buf, size_t max);
	void (*close)(struct ev_source *s);
};

struct ev_meta {
	char *key;
	char *val;
};

struct ev_source {
	const struct ev_source_ops *ops;
	char *path;
	const char *format;        /* "events", "scenario", "dat", "ftrace", "perf" */
	struct strtab strings;
	struct ev_meta *meta;
	size_t nmeta, capmeta;
	uint64_t bytes_total;      /* input size, 0 if unknown (a pipe) */
	uint64_t bytes_done;       /* progress */
	uint64_t events;           /* events yielded so far */
	char err[512];
};

static inline long evsrc_next(struct ev_source *s, struct cs_ev *buf,
                              size_t max)
{
	return s->ops->next(s, buf, max);
}

void evsrc_close(struct ev_source *s);

/* Helpers for implementations. */
int evsrc_init(struct ev_source *s, const struct ev_source_ops *ops,
               const char *path, const char *format);
void evsrc_fini(struct ev_source *s);
int evsrc_meta_set(struct ev_source *s, const char *key, const char *val);
const char *evsrc_meta_get(const struct ev_source *s, const char *key);

/* In a message, the first "from" (the path a reader opened, such as
 * /proc/self/fd/N for a spooled input) becomes "to" (the input's name). */
void evsrc_msg_rename(char *msg, size_t len, const char *from, const char *to);

#endif
