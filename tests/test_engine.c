/*
 * test_engine.c - the engine under every shipped policy:
 *  1. property test: synthetic streams (forks, threads, exec, GUP, madvise,
 *     munmap, brk...) replayed with sim_check() after every event, so every
 *     count is recomputed from scratch and compared 25,000 times per policy;
 *  2. determinism: the same stream twice gives the same metrics;
 *  3. page states after fork and COW, read through sim_page_state();
 *  4. memory does not grow with trace length: a steady workload ten times
 *     longer ends with the same engine memory;
 *  5. the kind of every combination of clone flags (sim_fork_kind()), the
 *     one definition of which clones a fork latency figure takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "importers/open.h"
#include "importers/scn.h"
#include "importers/synth.h"
#include "sim/config.h"
#include "sim/sim.h"

static int load(struct sim_config *c, const char *name)
{
	char err[256];
	cfg_defaults(c);
	if (cfg_load_preset(c, name, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static void property(const char *path, const char *policy, int every)
{
	struct sim_config cfg;
	struct ev_source *src;
	struct sim_engine *e;
	char err[512];
	struct cs_ev buf[512];
	uint64_t n = 0;

	if (load(&cfg, policy))
		return check_failures++, (void)0;
	CHECK(evsrc_open(path, NULL, &src, err, sizeof(err)) == 0);
	CHECK(sim_create(&cfg, &e) == 0);
	long k;
	while ((k = evsrc_next(src, buf, 512)) > 0) {
		for (long i = 0; i < k; i++, n++) {
			CHECK(sim_apply(e, &buf[i]) == 0);
			if ((n % every) == 0 && sim_check(e, err, sizeof(err))) {
				fprintf(stderr, "%s event %" PRIu64 " (%s) under %s: %s\n", path, n,
				        ev_type_name(buf[i].type), policy, err);
				check_failures++;
				goto out;
			}
		}
	}
	CHECK(k == 0);
	sim_finish(e);
	const struct sim_metrics *m = sim_metrics(e);
	CHECK_EQ(m->events, n);
	/* every write-protect fault on an anon page is a copy or a reuse */
	CHECK(m->copies_fault + m->reuses <= m->wp_faults + m->gups);
	CHECK(m->peak_frames >= m->final_frames);
	CHECK(m->fork_latency_ns_p50 <= m->fork_latency_ns_p99);
	CHECK(m->fork_latency_ns_p99 <= m->fork_latency_ns_max);
	CHECK(sim_check(e, err, sizeof(err)) == 0);
out:
	sim_destroy(e);
	evsrc_close(src);
	cfg_release(&cfg);
}

static void metrics_of(const char *path, const char *policy, struct sim_metrics *m,
                       uint64_t *mem)
{
	struct sim_config cfg;
	struct ev_source *src;
	struct sim_engine *e;
	char err[512];
	struct cs_ev buf[512];

	memset(m, 0, sizeof(*m));
	if (load(&cfg, policy) || evsrc_open(path, NULL, &src, err, sizeof(err))) {
		check_failures++;
		return;
	}
	CHECK(sim_create(&cfg, &e) == 0);
	long k;
	while ((k = evsrc_next(src, buf, 512)) > 0)
		CHECK(sim_apply_block(e, buf, (size_t)k) == 0);
	sim_finish(e);
	*m = *sim_metrics(e);
	if (mem)
		*mem = sim_peak_memory_bytes(e);
	sim_destroy(e);
	evsrc_close(src);
	cfg_release(&cfg);
}

static const char *const presets[] = {
	"linux-5.7", "linux-5.8", "linux-5.9", "linux-5.18", "linux-6.12",
	"piggin-2009",
};

static void page_states(void)
{
	static const char text[] =
		"process P\nmmap P mem 2\nwrite P mem 2\nfork P C\nwrite P mem\n";
	struct scn s;
	struct sim_config cfg;
	struct sim_engine *e;
	struct sim_page_state st;
	char err[256];

	CHECK(scn_parse_text("inline", text, &s, err, sizeof(err)) == 0);
	CHECK(load(&cfg, "linux-6.12") == 0);
	CHECK(sim_create(&cfg, &e) == 0);
	/* through the fork: both pages shared, write-protected, not exclusive */
	for (size_t i = 0; i < s.nev - 1; i++)
		CHECK(sim_apply(e, &s.ev[i]) == 0);
	uint64_t mem = s.ev[1].addr;
	CHECK(sim_page_state(e, 1000, mem, &st) == 0);
	CHECK(st.present && !st.writable && !st.exclusive && st.anon);
	CHECK_EQ(st.map, 2);
	uint32_t shared = st.frame;
	CHECK(sim_page_state(e, 1001, mem, &st) == 0);
	CHECK_EQ(st.frame, shared);
	/* the parent's write copies: new exclusive writable page for it */
	CHECK(sim_apply(e, &s.ev[s.nev - 1]) == 0);
	CHECK(sim_page_state(e, 1000, mem, &st) == 0);
	CHECK(st.present && st.writable && st.exclusive);
	CHECK(st.frame != shared);
	CHECK_EQ(st.map, 1);
	size_t nf;
	const struct sim_fork_rec *fr = sim_forks(e, &nf);
	CHECK_EQ(nf, 1);
	CHECK_EQ(st.owner, fr[0].parent_mm);   /* the writer's content stamp */
	CHECK(sim_page_state(e, 1001, mem, &st) == 0);
	CHECK_EQ(st.frame, shared);
	CHECK_EQ(st.map, 1);
	CHECK(!st.writable);
	CHECK(sim_page_state(e, 1001, mem + 8192 * 4, &st) == -ENOENT);
	CHECK(sim_check(e, err, sizeof(err)) == 0);
	sim_destroy(e);
	cfg_release(&cfg);
	scn_free(&s);
}

/* Replay ev[0..n) under every preset, every invariant checked after each
 * event, and after event i call at(e, i) for the case's own checks. */
static void replay_checked(struct cs_ev *ev, size_t n,
                           void (*at)(struct sim_engine *e, size_t i))
{
	for (size_t p = 0; p < sizeof(presets) / sizeof(presets[0]); p++) {
		struct sim_config cfg;
		struct sim_engine *e;
		char err[256];
		CHECK(load(&cfg, presets[p]) == 0);
		CHECK(sim_create(&cfg, &e) == 0);
		for (size_t i = 0; i < n; i++) {
			ev[i].ts = 1000 + i;
			CHECK(sim_apply(e, &ev[i]) == 0);
			int bad = sim_check(e, err, sizeof(err));
			if (bad)
				fprintf(stderr, "%s, event %zu: %s\n", presets[p], i, err);
			CHECK(bad == 0);
			at(e, i);
		}
		sim_destroy(e);
		cfg_release(&cfg);
	}
}

static void page_init_twice_at(struct sim_engine *e, size_t i)
{
	struct sim_page_state st;
	if (i == 3) {    /* both addresses map one read-only frame */
		CHECK(sim_page_state(e, 100, 0x10000000, &st) == 0);
		CHECK(!st.writable && st.map == 2);
		CHECK(sim_page_state(e, 100, 0x10010000, &st) == 0);
		CHECK(!st.writable && st.map == 2);
	}
}

/* A maps snapshot's pagemap naming one PFN at two addresses (of one
 * process or two): the frame is shared, and no PTE of it stays writable -
 * under every preset, with every invariant checked after each event.  The
 * engine fuzz target found the first PTE left writable on a page of
 * mapcount 2. */
static void page_init_twice(void)
{
	struct cs_ev ev[] = {
		{ .type = EV_EXEC, .tid = 100, .tgid = 100 },
		{ .type = EV_MMAP, .tid = 100, .tgid = 100, .addr = 0x10000000,
		  .len = 32, .flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON,
		  .aux = 0x10000 },
		{ .type = EV_PAGE_INIT, .tid = 100, .tgid = 100, .addr = 0x10000000,
		  .len = 4, .aux = 0x2929, .flags = EV_PM_PRESENT | EV_PM_EXCLUSIVE },
		{ .type = EV_PAGE_INIT, .tid = 100, .tgid = 100, .addr = 0x10010000,
		  .len = 4, .aux = 0x2929, .flags = EV_PM_PRESENT | EV_PM_EXCLUSIVE },
		{ .type = EV_FAULT, .tid = 100, .tgid = 100, .addr = 0x10000000,
		  .flags = EV_PF_USER | EV_PF_WRITE | EV_PF_PROT },
	};
	replay_checked(ev, sizeof(ev) / sizeof(ev[0]), page_init_twice_at);
}

static void brk_over_mapping_at(struct sim_engine *e, size_t i)
{
	struct sim_page_state st;
	int r = sim_page_state(e, 100, 0x20002000, &st);
	if (i == 2)      /* shmem: a writable page-cache page */
		CHECK(r == 0 && st.present && st.writable && !st.anon);
	if (i == 3)      /* the heap replaced it */
		CHECK(r == -ENOENT);
	if (i == 4)      /* the heap's own, private page */
		CHECK(r == 0 && st.present && st.writable && st.anon &&
		      st.exclusive);
}

/* A brk() the trace shows succeeding over pages the model still maps
 * (shared memory here): the kernel grows the heap only into free space, so
 * the model's area is stale and must go with its pages.  Found by fuzz_sim:
 * laying the heap over it left the shared page's writable PTE in a private
 * area (tests/fuzz/corpus/sim/brk-over-shared). */
static void brk_over_mapping(void)
{
	struct cs_ev ev[] = {
		{ .type = EV_EXEC, .tid = 100, .tgid = 100 },
		{ .type = EV_MMAP, .tid = 100, .tgid = 100, .addr = 0x20000000,
		  .len = 8, .flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON |
		  EV_MAP_SHARED },
		{ .type = EV_FAULT, .tid = 100, .tgid = 100, .addr = 0x20002000,
		  .flags = EV_PF_USER | EV_PF_WRITE },
		{ .type = EV_BRK, .tid = 100, .tgid = 100, .addr = 0x20004000,
		  .aux = 0x20000000 },
		{ .type = EV_FAULT, .tid = 100, .tgid = 100, .addr = 0x20002000,
		  .flags = EV_PF_USER | EV_PF_WRITE },
	};
	replay_checked(ev, sizeof(ev) / sizeof(ev[0]), brk_over_mapping_at);
}

static void steady_memory(const char *dir)
{
	/* The same loop 2,000 and 20,000 times: the engine must end with the
	 * same memory (nothing kept per event). */
	static const char fmt[] =
		"process P\nmmap P mem 64\nmmap P tmp 8\nrepeat %d\nwrite P mem 64\n"
		"fork P C\nwrite C mem 8\nvmsplice P mem 4 as r\nrelease r\nexit C\n"
		"madvise P mem 64 dontneed\nend\n";
	uint64_t mem[2];
	int reps[2] = { 200, 2000 };
	for (int i = 0; i < 2; i++) {
		char path[512], text[512];
		struct sim_metrics m;
		snprintf(path, sizeof(path), "%s/steady-%d.scn", dir, reps[i]);
		snprintf(text, sizeof(text), fmt, reps[i]);
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		if (!f)
			return;
		fputs(text, f);
		fclose(f);
		metrics_of(path, "linux-6.12", &m, &mem[i]);
		CHECK_EQ(m.forks, (uint64_t)reps[i]);
		unlink(path);
	}
	/* Fork records are kept (48 bytes a fork, for percentiles and the
	 * results store): allow exactly that much more. */
	uint64_t per_fork = sizeof(struct sim_fork_rec);
	CHECK(mem[1] <= mem[0] + (uint64_t)(reps[1] - reps[0]) * per_fork * 2 + 4096);
	if (mem[1] > mem[0] + (uint64_t)(reps[1] - reps[0]) * per_fork * 2 + 4096)
		fprintf(stderr, "memory: %" PRIu64 " after %d loops, %" PRIu64 " after %d\n",
		        mem[0], reps[0], mem[1], reps[1]);
}

/* docs/model.md's table: CLONE_THREAD wins, then CLONE_VFORK (with or
 * without CLONE_VM the parent waits for the child), then CLONE_VM. */
static void fork_kinds(void)
{
	static const struct {
		uint32_t flags;
		const char *kind;
	} want[] = {
		{ 0, "fork" },
		{ EV_CLONE_VM, "clone-vm" },
		{ EV_CLONE_VFORK, "vfork" },
		{ EV_CLONE_VM | EV_CLONE_VFORK, "vfork" },
		{ EV_CLONE_THREAD, "thread" },
		{ EV_CLONE_THREAD | EV_CLONE_VM, "thread" },
		{ EV_CLONE_THREAD | EV_CLONE_VFORK, "thread" },
		{ EV_CLONE_THREAD | EV_CLONE_VM | EV_CLONE_VFORK, "thread" },
		{ 0x11 /* CSIGNAL bits: not the kind's */, "fork" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(!strcmp(sim_fork_kind_name(sim_fork_kind(want[i].flags)),
		              want[i].kind));
	CHECK(sim_fork_kind_name(SIM_KIND_NR) == NULL);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/cowsim-test-XXXXXX";
	char path[600], err[512];
	struct synth_opts o;

	(void)argc; (void)argv;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.ev", dir);
	synth_defaults(&o);
	o.events = 25000;
	o.seed = 11;
	o.arena_pages = 256;
	o.max_procs = 8;
	CHECK(synth_write(&o, path, err, sizeof(err)) == 0);

	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		property(path, presets[i], 1);
	page_init_twice();
	brk_over_mapping();

	struct sim_metrics a, b;
	metrics_of(path, "linux-5.9", &a, NULL);
	metrics_of(path, "linux-5.9", &b, NULL);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(a.forks > 0 && a.copies_fault > 0 && a.gups > 0 && a.exits > 0);

	page_states();
	fork_kinds();
	steady_memory(dir);
	unlink(path);
	rmdir(dir);
	CHECK_DONE();
}
