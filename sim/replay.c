/*
 * replay.c - the multi-policy replay loop (see replay.h; what it prints is
 * reports/compare.c's).
 */
#include "replay.h"
#include "../lib/progress.h"
#include "../lib/vma.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

int replay_add(struct replay *r, struct sim_config *cfg)
{
	void *n = realloc(r->runs, (r->nruns + 1) * sizeof(*r->runs));
	if (!n)
		return -ENOMEM;
	r->runs = n;
	struct replay_run *run = &r->runs[r->nruns];
	memset(run, 0, sizeof(*run));
	run->cfg = *cfg;
	cfg->text = NULL;
	r->nruns++;
	return 0;
}

void replay_free(struct replay *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		sim_destroy(r->runs[i].e);
		cfg_release(&r->runs[i].cfg);
	}
	free(r->runs);
	memset(r, 0, sizeof(*r));
}

/* Why engine i stopped (sim_apply()'s error ae), as the message for err;
 * returns the replay's error. */
static int engine_error(const struct replay *r, size_t i,
                        const struct ev_source *src, int ae, char *err,
                        size_t errlen)
{
	if (ae == -E2BIG) {
		/* the engine counted the event it stopped at */
		snprintf(err, errlen, "%s: event %" PRIu64 ": more than %u mappings "
		         "in one address space (Linux allows vm.max_map_count, "
		         "65530 by default): not a trace a kernel wrote", src->path,
		         sim_metrics(r->runs[i].e)->events - 1, VMA_MAX_AREAS);
		return -EINVAL;
	}
	snprintf(err, errlen, "%s: out of memory replaying under %s", src->path,
	         r->runs[i].cfg.name);
	return -ENOMEM;
}

int replay_run(struct replay *r, struct ev_source *src, char *err,
               size_t errlen)
{
	struct cs_ev *buf = malloc(REPLAY_BLOCK * sizeof(*buf));
	double t0 = now_s();
	struct progress pg;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	progress_init(&pg, r->progress, src->path, "events");
	pg.bytes_total = src->bytes_total;
	r->trace = src->path;
	r->format = src->format;
	const char *swap = evsrc_meta_get(src, "swap_total_kb");
	for (size_t i = 0; i < r->nruns; i++) {
		if (sim_create(&r->runs[i].cfg, &r->runs[i].e)) {
			rc = -ENOMEM;
			goto out;
		}
		if (swap && !strcmp(swap, "0"))
			sim_set_swap(r->runs[i].e, false);
		if (r->runs[i].fault_hook)
			sim_set_fault_hook(r->runs[i].e, r->runs[i].fault_hook,
			                   r->runs[i].fault_ctx);
	}
	for (;;) {
		double ts = now_s();
		long n = evsrc_next(src, buf, REPLAY_BLOCK);
		r->source_seconds += now_s() - ts;
		if (n < 0) {
			snprintf(err, errlen, "%s", src->err[0] ? src->err : "read error");
			rc = n == -ENOMEM ? -ENOMEM : -EINVAL;
			goto out;
		}
		if (n == 0)
			break;
		if (!r->events)
			r->first_ts = buf[0].ts;
		r->last_ts = buf[n - 1].ts;
		if (r->on_block && (rc = r->on_block(r->on_block_ctx, src, buf,
		                                     (size_t)n, err, errlen)))
			goto out;
		for (size_t i = 0; i < r->nruns; i++) {
			struct sim_engine *e = r->runs[i].e;
			double t = now_s();
			int ae;
			if (!r->invariants && (ae = sim_apply_block(e, buf, (size_t)n))) {
				rc = engine_error(r, i, src, ae, err, errlen);
				goto out;
			}
			for (long k = 0; r->invariants && k < n; k++) {
				if ((ae = sim_apply(e, &buf[k]))) {
					rc = engine_error(r, i, src, ae, err, errlen);
					goto out;
				}
				char why[400];
				if (r->invariants && sim_check(e, why, sizeof(why))) {
					snprintf(err, errlen, "%s: event %" PRIu64 " (%s): engine "
					         "invariant broken under %s: %s", src->path,
					         r->events + (uint64_t)k,
					         ev_type_name(buf[k].type), r->runs[i].cfg.name, why);
					rc = -EINVAL;
					goto out;
				}
			}
			r->runs[i].seconds += now_s() - t;
		}
		r->events += (uint64_t)n;
		progress_tick(&pg, r->events, src->bytes_done);
	}
	for (size_t i = 0; i < r->nruns; i++)
		sim_finish(r->runs[i].e);
	r->wall_seconds = now_s() - t0;
	progress_done(&pg, r->events, src->bytes_done);
out:
	progress_abort(&pg);
	free(buf);
	return rc;
}

