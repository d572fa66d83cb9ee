/*
 * replay.h - run one event source through several policies in one pass,
 * side by side.
 *
 * The driver reads the source in blocks of REPLAY_BLOCK events and hands
 * each block to every engine in turn: each engine's working set (its page
 * tables and frames) stays hot in cache for a whole block instead of being
 * evicted by the others at every event, and the source is read once however
 * many policies there are.
 *
 * Lifecycle: replay_init(), replay_add() per policy, replay_run() once,
 * then read r->runs[i] (the layers above print and store them; nothing
 * here prints), replay_free().
 *
 * Errors: replay_run() returns 0, -EINVAL (the source failed, or the trace
 * passed a hard limit: its message is in err, naming file and line, record
 * or event) or -ENOMEM.  A failed replay has no
 * results to print: callers must not store or print a partial one.
 */
#ifndef COWSIM_REPLAY_H
#define COWSIM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../importers/evsrc.h"
#include "config.h"
#include "sim.h"

#define REPLAY_BLOCK 4096

struct replay_run {
	struct sim_config cfg;
	struct sim_engine *e;
	double seconds;          /* time spent in this engine */
	sim_fault_hook fault_hook;   /* set before replay_run() to log faults */
	void *fault_ctx;
};

struct replay {
	struct replay_run *runs;
	size_t nruns;
	const char *trace;       /* path, for output */
	const char *format;
	uint64_t events;
	uint64_t first_ts, last_ts;   /* of the first and last event */
	double wall_seconds;     /* whole pass, import included */
	double source_seconds;   /* reading/importing the source */
	int progress;            /* show a progress line on stderr */
	int invariants;          /* sim_check() after every event (slow) */
	/* Called with each block before the engines see it (the engines
	 * have applied the one before), e.g. for the benchmark to sample
	 * them.  Returns 0, or a negative errno to stop the replay (its
	 * message in err). */
	int (*on_block)(void *ctx, const struct ev_source *src,
	                const struct cs_ev *ev, size_t n, char *err, size_t errlen);
	void *on_block_ctx;
};

void replay_init(struct replay *r);

/* Add a policy (the config is copied; its text is taken over).  Returns 0
 * or -ENOMEM. */
int replay_add(struct replay *r, struct sim_config *cfg);

int replay_run(struct replay *r, struct ev_source *src, char *err,
               size_t errlen);

void replay_free(struct replay *r);

#endif
