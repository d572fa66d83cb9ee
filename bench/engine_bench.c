/*
 * engine_bench.c - replay one event file through some policy presets, all
 * in one pass as `cowsim replay` does, and print the engine's speed and
 * memory per policy: what bench/engine.sh reports (docs/bench.md).
 *
 * usage: cowsim-bench FILE PRESET[,PRESET...]
 *
 * One line per policy, then a line "all" when there are several:
 *   policy=NAME events=N seconds=S ev_per_s=R
 *   mem_peak=B mem_final=B resident_peak=P resident_final=P
 *   frames_peak=F frames_final=F B_per_resident=X B_per_frame=Y
 * seconds is the time spent inside that engine (replay.c measures it
 * around each block), so reading the file is not in it; "all" sums the
 * engines' seconds.
 *
 * "Resident page" is counted two ways, because neither alone is honest:
 *  resident   present PTEs summed over every simulated address space (the
 *             sum of the processes' RSS): a page shared by a parent and 15
 *             fork children counts 16 times, as it costs 16 PTEs;
 *  frames     physical pages the engine has allocated (anonymous + page
 *             cache), each counted once however many PTEs map it.
 * B_per_resident is peak engine memory over peak present PTEs and
 * B_per_frame peak engine memory over peak frames.  Present PTEs are
 * sampled at every block boundary (4096 events), so their peak can be
 * missed by at most one block's worth of change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importers/open.h"
#include "sim/config.h"
#include "sim/replay.h"
#include "sim/sim.h"

struct peaks {
	struct replay *r;
	uint64_t resident[64];
};

static void sample(struct peaks *pk)
{
	for (size_t i = 0; i < pk->r->nruns; i++) {
		if (!pk->r->runs[i].e)
			continue;
		uint64_t res = sim_resident_pages(pk->r->runs[i].e);
		if (res > pk->resident[i])
			pk->resident[i] = res;
	}
}

/* Called before each block: the engines have applied the one before. */
static int on_block(void *ctx, const struct ev_source *src,
                    const struct cs_ev *ev, size_t n, char *err, size_t errlen)
{
	(void)src; (void)ev; (void)n; (void)err; (void)errlen;
	sample(ctx);
	return 0;
}

static void line(const char *name, uint64_t events, double secs,
                 uint64_t mpeak, uint64_t mfinal, uint64_t rpeak,
                 uint64_t rfinal, uint64_t fpeak, uint64_t ffinal)
{
	printf("policy=%s events=%" PRIu64 " seconds=%.6f ev_per_s=%.0f "
	       "mem_peak=%" PRIu64 " mem_final=%" PRIu64 " resident_peak=%" PRIu64
	       " resident_final=%" PRIu64 " frames_peak=%" PRIu64
	       " frames_final=%" PRIu64 " B_per_resident=%.1f B_per_frame=%.1f\n",
	       name, events, secs, secs > 0 ? (double)events / secs : 0, mpeak,
	       mfinal, rpeak, rfinal, fpeak, ffinal,
	       rpeak ? (double)mpeak / (double)rpeak : 0,
	       fpeak ? (double)mpeak / (double)fpeak : 0);
}

int main(int argc, char **argv)
{
	char err[600];
	struct replay r;
	struct peaks pk = { .r = &r };
	struct ev_source *src = NULL;
	struct evsrc_opts so = { .quiet = 1 };

	if (argc != 3) {
		fprintf(stderr, "usage: cowsim-bench FILE PRESET[,PRESET...]\n");
		return 2;
	}
	replay_init(&r);
	char *list = strdup(argv[2]);
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		struct sim_config c = { 0 };
		if (r.nruns == 64 || cfg_load_preset(&c, tok, err, sizeof(err)) ||
		    replay_add(&r, &c)) {
			fprintf(stderr, "cowsim-bench: %s: %s\n", tok,
			        r.nruns == 64 ? "too many policies" : err);
			return 2;
		}
	}
	free(list);
	if (evsrc_open(argv[1], &so, &src, err, sizeof(err))) {
		fprintf(stderr, "cowsim-bench: %s\n", err);
		return 2;
	}
	r.on_block = on_block;
	r.on_block_ctx = &pk;
	if (replay_run(&r, src, err, sizeof(err))) {
		fprintf(stderr, "cowsim-bench: %s\n", err);
		return 1;
	}
	sample(&pk);
	double all = 0;
	uint64_t sum[6] = { 0 };
	for (size_t i = 0; i < r.nruns; i++) {
		const struct replay_run *run = &r.runs[i];
		const struct sim_metrics *m = sim_metrics(run->e);
		uint64_t v[6] = {
			sim_peak_memory_bytes(run->e), sim_memory_bytes(run->e),
			pk.resident[i], sim_resident_pages(run->e),
			m->peak_frames, m->final_frames,
		};
		line(run->cfg.name, r.events, run->seconds, v[0], v[1], v[2], v[3],
		     v[4], v[5]);
		all += run->seconds;
		for (int k = 0; k < 6; k++)
			sum[k] += v[k];
	}
	if (r.nruns > 1)
		line("all", r.events, all, sum[0], sum[1], sum[2], sum[3], sum[4],
		     sum[5]);
	evsrc_close(src);
	replay_free(&r);
	return 0;
}
