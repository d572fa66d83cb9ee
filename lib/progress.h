/*
 * progress.h - the one progress line every long job prints on stderr:
 * items and bytes done, the rate, and an ETA from the average rate.
 *
 * Low-level: includes nothing above lib/, so that the importers (synth),
 * the replay loop, the store and the report can all draw the same line.
 *
 * Shape of the line (on a terminal it is redrawn in place with '\r'):
 *     trace.dat:  42.1% 1.2M events, 12.0/28.5 MB, 2.31 M/s, ETA 9s
 * The percentage is of bytes when the total is known (of compressed bytes
 * for a compressed input: they are what is read), else of items when
 * their total is known (synth, plots), else absent.  It stays below 100%
 * until progress_done(): what is read ahead is not what is done.
 *
 * Cost: progress_tick() is an inline compare of the item count against a
 * threshold; the clock is read only every few thousand items and a line
 * drawn at most every PROGRESS_INTERVAL seconds (4 a second), so a loop
 * may call it once per event.
 *
 * When: progress_wanted() says whether to draw at all - on a terminal
 * (isatty(stderr)) unless --quiet; COWSIM_PROGRESS=1 forces it on,
 * COWSIM_PROGRESS=0 off, and COWSIM_PROGRESS=all draws at every call
 * without the rate limit (for the tests, whose traces take milliseconds).
 *
 * Lifecycle: progress_init(); progress_tick() as work goes; progress_done()
 * once at the end (draws the last line and ends it with a newline), or
 * progress_abort() on an error (ends a drawn line so that the message
 * after it starts on a line of its own).  No allocation; nothing to free.
 */
#ifndef COWSIM_PROGRESS_H
#define COWSIM_PROGRESS_H

#include <stdint.h>

#define PROGRESS_INTERVAL 0.25

struct progress {
	int on;
	const char *what;          /* the label: a file name, "report" */
	const char *unit;          /* "events", "records", "rows", "plots" */
	uint64_t items_total;      /* 0: unknown */
	uint64_t bytes_total;      /* 0: unknown */
	uint64_t check_at;         /* next item count at which to look */
	uint64_t step;             /* items between looks at the clock */
	double t0, last;
	int drawn;                 /* a line is on the terminal */
};

/* Nonzero if progress lines should be drawn: !quiet and stderr a terminal,
 * or COWSIM_PROGRESS=1 in the environment (COWSIM_PROGRESS=0: never);
 * PROGRESS_ALL for COWSIM_PROGRESS=all.  Pass it to progress_init(). */
#define PROGRESS_ALL 2
int progress_wanted(int quiet);

/* Start a line for what, counting unit; on 0 makes every call a no-op,
 * PROGRESS_ALL draws at every progress_tick(). */
void progress_init(struct progress *p, int on, const char *what,
                   const char *unit);

/* The slow half of progress_tick(). */
void progress_update(struct progress *p, uint64_t items, uint64_t bytes);

/* Items done so far (and bytes of the input, 0 if none). */
static inline void progress_tick(struct progress *p, uint64_t items,
                                 uint64_t bytes)
{
	if (p->on && items >= p->check_at)
		progress_update(p, items, bytes);
}

/* The final line (100% if a total was known), ended with a newline. */
void progress_done(struct progress *p, uint64_t items, uint64_t bytes);

/* End a drawn line without a final count (an error follows). */
void progress_abort(struct progress *p);

#endif
