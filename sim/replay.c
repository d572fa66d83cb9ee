/*
 * replay.c - the multi-policy replay loop and its output (see replay.h).
 */
#include "replay.h"
#include "../lib/esc.h"
#include "../lib/progress.h"

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
			if (!r->invariants && sim_apply_block(e, buf, (size_t)n)) {
				snprintf(err, errlen, "%s: out of memory replaying under %s",
				         src->path, r->runs[i].cfg.name);
				rc = -ENOMEM;
				goto out;
			}
			for (long k = 0; r->invariants && k < n; k++) {
				if (sim_apply(e, &buf[k])) {
					snprintf(err, errlen, "%s: out of memory replaying "
					         "under %s", src->path, r->runs[i].cfg.name);
					rc = -ENOMEM;
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

/* ------------------------------------------------------------------ */
/* output                                                              */

struct col {
	const char *name;
	const char *doc;
	size_t off;
};

static const struct col cols[] = {
#define C(n, d) { #n, d, offsetof(struct sim_metrics, n) },
	SIM_COUNTERS(C)
	SIM_GAUGES(C)
#undef C
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static uint64_t colval(const struct sim_engine *e, size_t c)
{
	return *(const uint64_t *)((const char *)sim_metrics(e) + cols[c].off);
}

void replay_print(const struct replay *r, enum replay_fmt fmt, FILE *out,
                  int first, int last)
{
	switch (fmt) {
	case REPLAY_JSON:
		if (first)
			fputs("[\n", out);
		for (size_t i = 0; i < r->nruns; i++) {
			const struct replay_run *run = &r->runs[i];
			fputs("  {\"trace\": ", out);
			esc_json(out, r->trace);
			fputs(", \"format\": ", out);
			esc_json(out, r->format);
			fputs(", \"policy\": ", out);
			esc_json(out, run->cfg.name);
			fprintf(out, ", \"model\": \"%s\"", cfg_model_name(run->cfg.model));
			for (size_t c = 0; c < NCOLS; c++)
				fprintf(out, ", \"%s\": %" PRIu64, cols[c].name, colval(run->e, c));
			fprintf(out, ", \"replay_seconds\": %.6f, \"memory_peak_bytes\": %" PRIu64
			        "}%s\n", run->seconds, sim_peak_memory_bytes(run->e),
			        (last && i + 1 == r->nruns) ? "" : ",");
		}
		if (last)
			fputs("]\n", out);
		break;
	case REPLAY_CSV:
		if (first) {
			fputs("trace,format,policy,model", out);
			for (size_t c = 0; c < NCOLS; c++)
				fprintf(out, ",%s", cols[c].name);
			fputs(",replay_seconds,memory_peak_bytes\n", out);
		}
		for (size_t i = 0; i < r->nruns; i++) {
			const struct replay_run *run = &r->runs[i];
			esc_csv(out, r->trace);
			fprintf(out, ",%s,", r->format);
			esc_csv(out, run->cfg.name);
			fprintf(out, ",%s", cfg_model_name(run->cfg.model));
			for (size_t c = 0; c < NCOLS; c++)
				fprintf(out, ",%" PRIu64, colval(run->e, c));
			fprintf(out, ",%.6f,%" PRIu64 "\n", run->seconds,
			        sim_peak_memory_bytes(run->e));
		}
		break;
	case REPLAY_TABLE: {
		fprintf(out, "%s (%s): %" PRIu64 " events, %.3f s\n", r->trace,
		        r->format, r->events, r->wall_seconds);
		int w = 28;
		int cw = 12;
		for (size_t i = 0; i < r->nruns; i++) {
			int l = (int)strlen(r->runs[i].cfg.name) + 1;
			if (l > cw)
				cw = l;
		}
		fprintf(out, "%-*s", w, "");
		for (size_t i = 0; i < r->nruns; i++)
			fprintf(out, "%*s", cw, r->runs[i].cfg.name);
		fputc('\n', out);
		for (size_t c = 0; c < NCOLS; c++) {
			/* Skip rows that are zero under every policy: they say
			 * nothing about this trace. */
			int any = 0;
			for (size_t i = 0; i < r->nruns; i++)
				any |= colval(r->runs[i].e, c) != 0;
			if (!any && strcmp(cols[c].name, "leaks") &&
			    strcmp(cols[c].name, "lost_pins"))
				continue;
			fprintf(out, "%-*s", w, cols[c].name);
			for (size_t i = 0; i < r->nruns; i++)
				fprintf(out, "%*" PRIu64, cw, colval(r->runs[i].e, c));
			fputc('\n', out);
		}
		fprintf(out, "%-*s", w, "replay_seconds");
		for (size_t i = 0; i < r->nruns; i++)
			fprintf(out, "%*.3f", cw, r->runs[i].seconds);
		fputc('\n', out);
		fputc('\n', out);
		break;
	}
	}
}
