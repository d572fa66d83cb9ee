/*
 * fuzz_target.c - libFuzzer harnesses for every parser of outside input:
 * built once per target with -DFUZZ_<TARGET> (tests/fuzz/run.sh, or the
 * COWSIM_FUZZ CMake option with clang).
 *
 *   FUZZ_FTRACE   ftrace / trace-cmd report text, through the whole import
 *                 (front end + core), as `cowsim import --input-format ftrace`;
 *                 plain or compressed, so that the gzip, xz and zstd
 *                 decoders (importers/zin.c) are fuzzed too (seeds of each)
 *   FUZZ_PERF     perf script text, likewise
 *   FUZZ_DAT      trace.dat through libtracecmd and the dat front end (in
 *                 its reader process: libtracecmd's own crashes end there,
 *                 exit 2, and the fuzzer sees little past them)
 *   FUZZ_DATREC   cowsim's trace.dat code after libtracecmd, in process:
 *                 records made of the input, each one of the events of
 *                 traces/real/cowknown.dat with a payload of its own,
 *                 decoded as the reader decodes them and imported
 *   FUZZ_SCN      the scenario language (scn_parse_text)
 *   FUZZ_EVFILE   the binary event file reader (evf_open_source)
 *   FUZZ_SIM      the engine: the input decoded into an event stream over a
 *                 few tasks and mappings, every event ev_validate() passes
 *                 replayed under every preset with sim_check() after each,
 *                 so an impossible sequence must be survived or refused,
 *                 never a crash or a broken invariant
 *   FUZZ_CFG      the INI of --config files, presets and --cost files
 *                 (cfg_load_text); a text it accepts then drives an engine
 *                 through forks, pins and COW faults under sim_check(), so
 *                 an accepted value the engine cannot live with is a bug
 *   FUZZ_ELF      the exec-image reader (importers/elfimg.c): the input as
 *                 the head of an executed file, ELF headers or a "#!" line
 *   FUZZ_DB       a --db database: read as compare and report read it
 *                 (store_open, rep_load), then written as replay writes it
 *                 (migration, a replay's runs with --faults, read back);
 *                 SQLite needs a real file, so these live in a private
 *                 directory under /dev/shm, made once per process
 *
 * The readers take paths (libtracecmd can only open files), so the input
 * goes to a memfd whose /proc/self/fd path is handed over: no disk I/O,
 * no temporary files left behind.  Every event is drained so that the
 * core's whole pipeline runs; the only acceptable outcomes are success or
 * an error message - a crash, a sanitizer report or a hang is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "importers/elfimg.h"
#include "importers/evfile.h"
#include "importers/open.h"
#include "importers/imp_fe.h"
#include "importers/scn.h"
#include "sim/sim.h"
#if defined(FUZZ_DATREC)
#include "importers/imp_fe.h"
static struct imp_dat_formats *formats;     /* opened once */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	(void)argc;
	(void)argv;
	if (imp_dat_formats_open(FUZZ_SRC "/traces/real/cowknown.dat", &formats,
	                         err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return 0;
}
#endif
#if defined(FUZZ_DB)
#include <sys/stat.h>
#include "importers/evfile.h"
#include "reports/rep.h"
#include "reports/store.h"
#include "sim/replay.h"
#endif

#if defined(FUZZ_SIM) || defined(FUZZ_CFG) || defined(FUZZ_DB)
/* 16 input bytes an event.  Tasks, pages and lengths are drawn from small
 * sets so that random bytes make forks of tasks that exist and faults in
 * mappings that were made: the sequences the engine's rules are about. */
static void decode(const uint8_t *b, uint64_t *ts, struct cs_ev *e)
{
	static const uint64_t base[4] = { 0x400000ull, 0x10000000ull,
	                                  0x7f0000000000ull, 0x7ffc00000000ull };
	memset(e, 0, sizeof(*e));
	*ts += b[13];
	e->ts = *ts;
	e->type = (uint8_t)(1 + b[0] % (EV_NTYPES - 1));
	e->tid = 100 + (b[1] & 7);
	e->tgid = (b[1] & 8) ? 100 : e->tid;
	e->addr = base[b[2] & 3] + (uint64_t)b[3] * 4096;
	e->len = 1 + (b[4] & 15);
	e->flags = (uint32_t)b[5] | (uint32_t)b[6] << 8 | (uint32_t)b[7] << 16 |
	           (uint32_t)b[8] << 24;
	e->arg = (uint32_t)b[9] | (uint32_t)b[10] << 8;
	e->aux = (uint64_t)b[11] | (uint64_t)b[12] << 8;
	e->cpu = b[14] & 3;
	switch (e->type) {
	case EV_FORK: case EV_FORK_DONE:
		e->arg = 100 + (b[9] & 15);
		break;
	case EV_EXEC: case EV_COMM: case EV_MARKER:
		e->arg = 0;      /* the only string: the empty one */
		break;
	case EV_MMAP:
		e->arg = 0;
		break;
	case EV_MREMAP:
		e->aux = base[b[11] & 3] + (uint64_t)b[12] * 4096;
		e->arg = 1 + (b[10] & 15);
		break;
	case EV_BRK:
		e->aux = base[b[11] & 3] + (uint64_t)b[12] * 4096;
		break;
	case EV_FAULT: case EV_OBSERVED: case EV_EXIT:
		e->addr = e->type == EV_EXIT ? 0 : e->addr + (b[15] & 0xf) * 8;
		e->len = 0;
		e->aux = 0;
		break;
	default:
		break;
	}
}

#endif

#if defined(FUZZ_SIM) || defined(FUZZ_CFG)
/* Replay the events data decodes to through an engine under c, checking
 * every invariant after each; abort() (a crash the fuzzer keeps) when one
 * breaks. */
static void replay_one(const struct sim_config *c, const char *name,
                       const uint8_t *data, size_t size)
{
	char err[1024];
	struct sim_engine *e;
	if (sim_create(c, &e))
		return;
	uint64_t ts = 1, prev = 0;
	for (size_t off = 0; off + 16 <= size; off += 16) {
		struct cs_ev ev;
		const char *why;
		decode(data + off, &ts, &ev);
		if (ev_validate(&ev, prev, 1, &why))
			continue;
		prev = ev.ts;
		if (sim_apply(e, &ev))
			break;
		if (sim_check(e, err, sizeof(err))) {
			fprintf(stderr, "%s: event %zu (%s): %s\n", name, off / 16,
			        ev_type_name(ev.type), err);
			abort();
		}
	}
	sim_finish(e);
	sim_destroy(e);
}
#endif

#if defined(FUZZ_SIM)
static void replay_all(const uint8_t *data, size_t size)
{
	char err[1024];
	for (size_t p = 0; p < cfg_npresets(); p++) {
		struct sim_config c;
		cfg_defaults(&c);
		if (cfg_load_preset(&c, cfg_preset_name(p), err, sizeof(err)))
			abort();
		replay_one(&c, cfg_preset_name(p), data, size);
		cfg_release(&c);
	}
}
#endif

#if defined(FUZZ_CFG) || defined(FUZZ_DB)
/* A process maps 16 pages, writes 8, forks, parent and child write 4,
 * the parent pins 2 and forks again, everyone exits: enough for a
 * config's switches to matter (16 bytes an event, as decode() reads). */
static const uint8_t cow_story[] = {
#define E(t, tid, pg, len, fl, arg) (t) - 1, (tid) - 100, 2, pg, (len) - 1, \
	(fl) & 0xff, 0, 0, 0, arg, 0, 0, 0, 1, 0, 0
	E(1, 100, 0, 1, 0, 0),                            /* exec */
	E(6, 100, 0, 16, 0x23, 0),                        /* mmap rw anon */
	E(12, 100, 0, 1, 6, 0), E(12, 100, 1, 1, 6, 0), E(12, 100, 2, 1, 6, 0),
	E(12, 100, 3, 1, 6, 0), E(12, 100, 4, 1, 6, 0), E(12, 100, 5, 1, 6, 0),
	E(12, 100, 6, 1, 6, 0), E(12, 100, 7, 1, 6, 0),
	E(3, 100, 0, 1, 0, 1),                            /* fork -> 101 */
	E(12, 101, 0, 1, 7, 0), E(12, 101, 1, 1, 7, 0), E(12, 100, 2, 1, 7, 0),
	E(12, 100, 3, 1, 7, 0),
	E(13, 100, 4, 2, 1, 1),                           /* gup (pin) */
	E(3, 100, 0, 1, 0, 2),                            /* fork -> 102 */
	E(12, 102, 4, 1, 7, 0), E(12, 100, 4, 1, 7, 0), E(12, 102, 5, 1, 7, 0),
	E(14, 100, 0, 1, 0, 1),                           /* gup put */
	E(5, 102, 0, 1, 0, 0), E(5, 101, 0, 1, 0, 0), E(5, 100, 0, 1, 0, 0),
#undef E
};
#endif

#if defined(FUZZ_DB)
static char dir[64];            /* the harness's own: made once */

static void cleanup(void)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/t.ev", dir);
	unlink(p);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512], path[128];
	struct evf_writer *w;
	snprintf(dir, sizeof(dir), "/dev/shm/cowsim-fuzzdb-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	/* The trace every replay into a fuzzed database stores. */
	snprintf(path, sizeof(path), "%s/t.ev", dir);
	if (evf_create(path, &w, err, sizeof(err)))
		abort();
	uint64_t ts = 1;
	for (size_t off = 0; off + 16 <= sizeof(cow_story); off += 16) {
		struct cs_ev ev;
		decode(cow_story + off, &ts, &ev);
		if (evf_write(w, &ev, 1))
			abort();
	}
	if (evf_finish(w, NULL, NULL, 0, err, sizeof(err)))
		abort();
	return 0;
}

static void put_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

static void read_runs(struct store *s)
{
	struct rep_data d;
	char err[1024];
	memset(&d, 0, sizeof(d));
	rep_load(store_db(s), NULL, 0, NULL, &d, err, sizeof(err));
	rep_free(&d);
}

/* What `cowsim replay t.ev --db path --faults -p linux-6.12` does. */
static void write_run(struct store *s, const char *trace)
{
	char err[1024];
	struct replay r;
	struct sim_config c;
	struct ev_source *src = NULL;
	struct store_rec *rec = NULL;
	struct store_opts so = { .faults = 1 };
	struct store_result res;

	replay_init(&r);
	cfg_defaults(&c);
	if (cfg_load_preset(&c, "linux-6.12", err, sizeof(err)) ||
	    replay_add(&r, &c))
		abort();
	if (evsrc_open(trace, &(struct evsrc_opts){ .quiet = 1 }, &src, err,
	               sizeof(err)))
		abort();
	if (!store_rec_begin(s, &r, trace, &so, &rec, err, sizeof(err)) &&
	    !replay_run(&r, src, err, sizeof(err)))
		store_rec_commit(rec, src, &res, err, sizeof(err));
	store_rec_free(rec);
	evsrc_close(src);
	replay_free(&r);
}
#endif

#if defined(FUZZ_FTRACE) || defined(FUZZ_PERF) || defined(FUZZ_DAT) || \
    defined(FUZZ_EVFILE) || defined(FUZZ_DATREC)
static void drain(struct ev_source *src)
{
	static struct cs_ev buf[1024];
	for (;;) {
		long n = evsrc_next(src, buf, 1024);
		if (n <= 0)
			break;
	}
	evsrc_close(src);
}
#endif

#if defined(FUZZ_FTRACE) || defined(FUZZ_PERF) || defined(FUZZ_DAT) || \
    defined(FUZZ_EVFILE)
static int to_memfd(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t k = write(fd, data + off, size - off);
		if (k <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)k;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
#if defined(FUZZ_DATREC)
	struct imp_fe *fe;
	struct ev_source *src;
	struct evsrc_opts o = { .quiet = 1 };
	if (!imp_dat_records_open(formats, data, size, &fe) &&
	    !imp_open_fe_source(fe, "fuzz.dat", "dat", &o, &src, err, sizeof(err)))
		drain(src);
#elif defined(FUZZ_DB)
	char p[128], t[128];
	struct store *s;
	snprintf(t, sizeof(t), "%s/t.ev", dir);
	snprintf(p, sizeof(p), "%s/r.db", dir);
	put_file(p, data, size);
	if (!store_open(p, 0, &s, err, sizeof(err))) {
		read_runs(s);
		store_close(s);
	}
	unlink(p);
	const char *sfx[] = { "", "-wal", "-shm", "-journal" };
	snprintf(p, sizeof(p), "%s/w.db", dir);
	put_file(p, data, size);
	if (!store_open(p, STORE_CREATE, &s, err, sizeof(err))) {
		write_run(s, t);
		read_runs(s);
		store_close(s);
	}
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		char q[160];
		snprintf(q, sizeof(q), "%s%s", p, sfx[i]);
		unlink(q);
	}
#elif defined(FUZZ_SIM)
	(void)err;
	replay_all(data, size);
#elif defined(FUZZ_CFG)
	char *text = malloc(size + 1);
	struct sim_config c;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	cfg_defaults(&c);
	if (!cfg_load_text(&c, "fuzz.ini", text, err, sizeof(err)))
		replay_one(&c, "fuzz.ini", cow_story, sizeof(cow_story));
	cfg_release(&c);
	free(text);
#elif defined(FUZZ_ELF)
	struct elfimg img;
	char interp[256];
	(void)err;
	if (!elfimg_parse(data, size, &img)) {
		/* The invariants elfimg.h promises, which imp_exe.c relies on. */
		if (img.nseg < 1 || img.nseg > ELFIMG_MAX_SEGS ||
		    strnlen(img.interp, sizeof(img.interp)) == sizeof(img.interp))
			abort();
		for (uint32_t i = 0; i < img.nseg; i++)
			if (img.seg[i].filesz > img.seg[i].memsz ||
			    img.seg[i].vaddr + img.seg[i].memsz > EV_USER_TOP)
				abort();
	}
	elfimg_shebang(data, size, interp, sizeof(interp));
#elif defined(FUZZ_SCN)
	char *text = malloc(size + 1);
	struct scn s;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	/* The tool's limits take seconds to reach under ASan: the fuzzer
	 * checks they are enforced with smaller ones. */
	static const struct scn_limits lim = { 200000, 400000 };
	if (!scn_parse_text_limits("fuzz.scn", text, &lim, &s, err, sizeof(err)))
		scn_free(&s);
	free(text);
#else
	char path[64];
	struct ev_source *src;
	int fd = to_memfd(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
#if defined(FUZZ_EVFILE)
	if (!evf_open_source(path, &src, err, sizeof(err)))
		drain(src);
#else
	struct evsrc_opts o = { .quiet = 1 };
#if defined(FUZZ_FTRACE)
	const char *fmt = "ftrace";
#elif defined(FUZZ_PERF)
	const char *fmt = "perf";
#else
	const char *fmt = "dat";
#endif
	if (!imp_open_source(path, fmt, &o, &src, err, sizeof(err)))
		drain(src);
#endif
	close(fd);
#endif
	return 0;
}
