/*
 * synth.c - the synthetic workload generator (see synth.h).
 *
 * State per process: its regions, and per region two bits per page -
 * present and writable - as the kernel would have them.  An action picks a
 * process and a page and emits an event only if the kernel would fault
 * there; fork() copies the bits and clears "writable" on both sides for
 * private mappings, exactly the write-protection the kernel applies, so the
 * following writes are COW faults.  Actions are drawn with fixed weights
 * that depend on the process's role.
 */
#include "synth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "evfile.h"
#include "../lib/progress.h"
#include "../lib/strtab.h"

#define MAX_REGIONS 16
#define BLOCK 4096
#define SEQ_WRITES 5   /* in 8: a slice's next write is to the next page */
#define SEQ_READS 5    /* in 8: ... and its next read */
/* The server's actions, per 10000 (reads take the rest), and one in how
 * many actions forks or recycles an arena (docs/bench.md). */
#define W_ALLOC 3700
#define W_WRITE 5700
#define W_DONTNEED 5
#define W_GUP 15
#define FORK_EVERY 25000
#define RECYCLE_EVERY 25000

enum role { R_SERVER, R_SNAPSHOT, R_WORKER, R_EXEC };

enum rkind { K_TEXT, K_DATA, K_ANON, K_HEAP, K_STACK };

struct region {
	uint64_t base;         /* page number */
	uint32_t pages;
	uint32_t touched;      /* first-touch cursor: pages [0, touched) used */
	enum rkind kind;
	uint32_t file;
	uint8_t *bits;         /* per page: PG_PRESENT | PG_WRITABLE */
};

/* A page's bits: what the kernel's PTE would say. */
#define PG_PRESENT  0x1u
#define PG_WRITABLE 0x2u

struct proc {
	uint32_t tid, tgid;
	uint32_t threads[4];
	uint32_t nthreads;
	uint16_t cpu;
	enum role role;
	bool live;
	uint64_t life;         /* events left before it exits (children) */
	struct region r[MAX_REGIONS];
	uint32_t nr;
	uint64_t brk_pages;
};

struct pending_put {
	uint64_t due;
	uint32_t tid, tgid, id;
};

struct gen {
	const struct synth_opts *o;
	uint64_t rng;
	uint64_t now;
	uint64_t emitted;
	struct cs_ev *buf;
	size_t nbuf;
	struct evf_writer *w;
	struct strtab strings;
	struct proc *procs;
	uint32_t nprocs;
	uint32_t next_pid;
	uint64_t next_base;
	uint32_t next_handle;
	struct pending_put puts[64];
	uint32_t nputs;
	uint32_t cur;          /* process running its time slice */
	uint32_t slice;        /* actions left in it */
	uint32_t tid;          /* thread running the slice (0: the main one) */
	uint32_t hot_region;   /* region and window the slice works in */
	uint32_t hot_start;
	uint32_t hot_cur;      /* page the slice wrote last */
	uint32_t rd_region;    /* region and page the slice read last */
	uint32_t rd_cur;
	uint32_t f_bin, f_libc, f_tool;
	int err;
};

static uint64_t rnd(struct gen *g)
{
	/* splitmix64 */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(struct gen *g, uint32_t n)
{
	return n ? (uint32_t)((rnd(g) >> 32) * n >> 32) : 0;
}

/* Skewed towards 0: a hot set at the start of a region. */
static uint32_t skewed(struct gen *g, uint32_t n)
{
	uint64_t a = below(g, n), b = below(g, n);
	return (uint32_t)(a * b / (n ? n : 1));
}

static int flush(struct gen *g)
{
	if (!g->nbuf)
		return 0;
	int r = evf_write(g->w, g->buf, g->nbuf);
	g->nbuf = 0;
	return r;
}

static struct cs_ev *emit(struct gen *g, const struct proc *p, uint32_t tid,
                          uint8_t type)
{
	if (g->nbuf == BLOCK && (g->err = flush(g)))
		return NULL;
	struct cs_ev *e = &g->buf[g->nbuf++];
	memset(e, 0, sizeof(*e));
	g->now += 200 + below(g, 1800);
	e->ts = g->now;
	e->tid = tid ? tid : p->tid;
	e->tgid = p->tgid;
	e->cpu = p->cpu;
	e->type = type;
	g->emitted++;
	return e;
}

static int region_add(struct gen *g, struct proc *p, enum rkind kind,
                      uint32_t pages, uint32_t file, uint64_t base)
{
	if (p->nr == MAX_REGIONS)
		return 0;
	struct region *r = &p->r[p->nr];
	memset(r, 0, sizeof(*r));
	r->bits = calloc(pages, 1);
	if (!r->bits)
		return -ENOMEM;
	r->kind = kind;
	r->pages = pages;
	r->file = file;
	if (!base) {
		base = g->next_base;
		g->next_base += pages + 512;   /* gaps keep areas apart */
	}
	r->base = base;
	p->nr++;
	if (kind == K_HEAP)
		return 0;   /* created by brk below */
	struct cs_ev *e = emit(g, p, 0, EV_MMAP);
	if (!e)
		return g->err;
	e->addr = base << EV_PAGE_SHIFT;
	e->len = pages;
	switch (kind) {
	case K_TEXT: e->flags = EV_PROT_READ | EV_PROT_EXEC; break;
	case K_DATA: e->flags = EV_PROT_READ | EV_PROT_WRITE; break;
	case K_STACK: e->flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON |
	                         EV_MAP_STACK; break;
	default: e->flags = EV_PROT_READ | EV_PROT_WRITE | EV_MAP_ANON; break;
	}
	e->arg = file;
	return 0;
}

static void region_free(struct region *r)
{
	free(r->bits);
	r->bits = NULL;
}

static int image(struct gen *g, struct proc *p, bool big)
{
	int err;
	uint32_t bin = big ? g->f_bin : g->f_tool;
	if ((err = region_add(g, p, K_TEXT, big ? 2048 : 512, bin, 0)) ||
	    (err = region_add(g, p, K_DATA, big ? 256 : 32, bin, 0)) ||
	    (err = region_add(g, p, K_TEXT, 400, g->f_libc, 0)) ||
	    (err = region_add(g, p, K_STACK, 64, 0, 0)))
		return err;
	/* the heap: brk grows it from nothing */
	if ((err = region_add(g, p, K_HEAP, big ? 8192 : 512, 0, 0)))
		return err;
	struct cs_ev *e = emit(g, p, 0, EV_BRK);
	if (!e)
		return g->err;
	struct region *h = &p->r[p->nr - 1];
	e->aux = h->base << EV_PAGE_SHIFT;
	e->addr = e->aux;
	p->brk_pages = 0;
	if (big)
		for (uint32_t i = 0; i < g->o->arenas; i++)
			if ((err = region_add(g, p, K_ANON, g->o->arena_pages, 0, 0)))
				return err;
	return 0;
}

static struct proc *proc_slot(struct gen *g)
{
	for (uint32_t i = 0; i < g->nprocs; i++)
		if (!g->procs[i].live)
			return &g->procs[i];
	return NULL;
}

static void proc_clear(struct proc *p)
{
	for (uint32_t i = 0; i < p->nr; i++)
		region_free(&p->r[i]);
	p->nr = 0;
}

/* A fault on page i of region r by p, if the kernel would take one. */
static int touch(struct gen *g, struct proc *p, struct region *r, uint32_t i,
                 bool write)
{
	uint8_t b = r->bits[i];
	if (write && r->kind == K_TEXT)
		write = false;
	if (b & PG_WRITABLE)
		return 0;                         /* writable: no fault */
	if ((b & PG_PRESENT) && !write)
		return 0;                         /* present: reads don't fault */
	struct cs_ev *e = emit(g, p, g->tid, EV_FAULT);
	if (!e)
		return g->err;
	e->addr = ((r->base + i) << EV_PAGE_SHIFT) | (below(g, 512) << 3);
	e->flags = EV_PF_USER | (write ? EV_PF_WRITE : 0) | ((b & PG_PRESENT) ? EV_PF_PROT : 0);
	if (r->kind == K_TEXT)
		e->flags |= EV_PF_INSTR;
	r->bits[i] = (uint8_t)(PG_PRESENT | (write ? PG_WRITABLE : 0));
	if (i >= r->touched)
		r->touched = i + 1;
	return 0;
}

static struct region *pick_region(struct gen *g, struct proc *p, bool anon)
{
	for (int tries = 0; tries < 8; tries++) {
		struct region *r = &p->r[below(g, p->nr)];
		if (!anon || r->kind == K_ANON || r->kind == K_HEAP || r->kind == K_DATA)
			return r;
	}
	return &p->r[p->nr - 1];
}

static int act_alloc(struct gen *g, struct proc *p)
{
	/* Grow: first touches at the allocation cursor of an arena or the
	 * heap (brk first if the heap is full). */
	struct region *r = pick_region(g, p, true);
	if (r->kind == K_HEAP && r->touched >= p->brk_pages) {
		if (p->brk_pages >= r->pages)
			return 0;
		struct cs_ev *e = emit(g, p, 0, EV_BRK);
		if (!e)
			return g->err;
		e->aux = (r->base + p->brk_pages) << EV_PAGE_SHIFT;
		p->brk_pages += 32;
		if (p->brk_pages > r->pages)
			p->brk_pages = r->pages;
		e->addr = (r->base + p->brk_pages) << EV_PAGE_SHIFT;
		return 0;
	}
	uint32_t lim = r->kind == K_HEAP ? p->brk_pages : r->pages;
	if (r->touched >= lim)
		return 0;
	uint32_t n = 1 + below(g, 8);
	for (uint32_t k = 0; k < n && r->touched < lim; k++) {
		int err = touch(g, p, r, r->touched, below(g, 8) != 0);
		if (err)
			return err;
	}
	return 0;
}

/* Writes during a slice go to one window of one region: a program works
 * on some data structure for a while, not on random pages of all of its
 * memory (that is also what makes real fault traces cache-friendly). */
static int act_write_hot(struct gen *g, struct proc *p)
{
	if (g->hot_region >= p->nr)
		return 0;
	struct region *r = &p->r[g->hot_region];
	if (r->kind == K_TEXT || r->touched <= g->hot_start)
		return 0;
	uint32_t span = r->touched - g->hot_start;
	if (span > 512)
		span = 512;
	/* Mostly on from the page written last (a loop over an array, a
	 * buffer being filled), sometimes anywhere in the window (a hash
	 * table, a tree): real traces have 21-71% of write-protect faults
	 * on the page next to the thread's previous fault (docs/bench.md). */
	uint32_t i = g->hot_cur + 1;
	if (i < g->hot_start || i >= g->hot_start + span ||
	    below(g, 8) >= SEQ_WRITES)
		i = g->hot_start + skewed(g, span);
	g->hot_cur = i;
	return touch(g, p, r, i, true);
}

static int act_read(struct gen *g, struct proc *p)
{
	/* Like writes, reads mostly go on from the page read last (a scan,
	 * code running on), sometimes jump to a hot page anywhere. */
	if (g->rd_region < p->nr && below(g, 8) < SEQ_READS) {
		struct region *r = &p->r[g->rd_region];
		uint32_t lim = r->kind == K_HEAP ? p->brk_pages : r->pages;
		if (g->rd_cur + 1 < lim)
			return touch(g, p, r, ++g->rd_cur, false);
	}
	struct region *r = pick_region(g, p, false);
	/* Data is read where it was written: a jump lands below the region's
	 * allocation cursor; code and file data anywhere. */
	uint32_t lim = r->kind == K_TEXT ? r->pages : r->touched;
	if (!lim)
		return 0;
	g->rd_region = (uint32_t)(r - p->r);
	g->rd_cur = skewed(g, lim);
	return touch(g, p, r, g->rd_cur, false);
}

static int act_dontneed(struct gen *g, struct proc *p)
{
	struct region *r = pick_region(g, p, true);
	if (r->kind != K_ANON || r->touched < 64)
		return 0;
	uint32_t len = 16 + below(g, 240);
	uint32_t start = below(g, r->touched - (len < r->touched ? len : r->touched));
	if (start + len > r->pages)
		len = r->pages - start;
	struct cs_ev *e = emit(g, p, 0, EV_MADVISE);
	if (!e)
		return g->err;
	e->addr = (r->base + start) << EV_PAGE_SHIFT;
	e->len = len;
	e->flags = EV_MADV_DONTNEED;
	memset(r->bits + start, 0, len);
	return 0;
}

static int act_recycle(struct gen *g, struct proc *p)
{
	/* munmap an arena and map a fresh one: malloc trimming */
	for (uint32_t i = 0; i < p->nr; i++) {
		struct region *r = &p->r[i];
		if (r->kind != K_ANON || r->touched < r->pages / 2)
			continue;
		struct cs_ev *e = emit(g, p, 0, EV_MUNMAP);
		if (!e)
			return g->err;
		e->addr = r->base << EV_PAGE_SHIFT;
		e->len = r->pages;
		uint32_t pages = r->pages;
		region_free(r);
		p->r[i] = p->r[--p->nr];
		return region_add(g, p, K_ANON, pages, 0, 0);
	}
	return 0;
}

static int act_gup(struct gen *g, struct proc *p)
{
	if (g->nputs == sizeof(g->puts) / sizeof(g->puts[0]))
		return 0;
	struct region *r = pick_region(g, p, true);
	if (r->touched < 16)
		return 0;
	uint32_t n = 1 + below(g, 8);
	uint32_t start = below(g, r->touched - n);
	struct cs_ev *e = emit(g, p, 0, EV_GUP);
	if (!e)
		return g->err;
	e->addr = (r->base + start) << EV_PAGE_SHIFT;
	e->len = n;
	switch (below(g, 3)) {
	case 0:   /* vmsplice: R/O get */
		e->flags = EV_GUP_FAST | (EV_GUP_SRC_VMSPLICE << EV_GUP_SRC_SHIFT);
		break;
	case 1:   /* O_DIRECT read into the buffer: R/W pin */
		e->flags = EV_GUP_WRITE | EV_GUP_PIN | EV_GUP_FAST |
		           (EV_GUP_SRC_ODIRECT << EV_GUP_SRC_SHIFT);
		for (uint32_t k = 0; k < n; k++)
			r->bits[start + k] = PG_PRESENT | PG_WRITABLE;
		break;
	default:  /* O_DIRECT write from the buffer: R/O pin */
		e->flags = EV_GUP_PIN | EV_GUP_FAST |
		           (EV_GUP_SRC_ODIRECT << EV_GUP_SRC_SHIFT);
		for (uint32_t k = 0; k < n; k++)
			r->bits[start + k] |= PG_PRESENT;
		break;
	}
	e->arg = ++g->next_handle;
	g->puts[g->nputs++] = (struct pending_put){
		.due = g->emitted + 20 + below(g, 2000), .tid = p->tid,
		.tgid = p->tgid, .id = e->arg };
	return 0;
}

static int do_puts(struct gen *g)
{
	for (uint32_t i = 0; i < g->nputs;) {
		if (g->puts[i].due > g->emitted) {
			i++;
			continue;
		}
		struct proc fake = { .tid = g->puts[i].tid, .tgid = g->puts[i].tgid };
		struct cs_ev *e = emit(g, &fake, 0, EV_GUP_PUT);
		if (!e)
			return g->err;
		e->arg = g->puts[i].id;
		g->puts[i] = g->puts[--g->nputs];
	}
	return 0;
}

static void drop_puts_of(struct gen *g, uint32_t tgid)
{
	for (uint32_t i = 0; i < g->nputs;)
		if (g->puts[i].tgid == tgid)
			g->puts[i] = g->puts[--g->nputs];
		else
			i++;
}

static int act_fork(struct gen *g, struct proc *p)
{
	struct proc *c = proc_slot(g);
	if (!c)
		return 0;
	size_t pi = (size_t)(p - g->procs);
	memset(c, 0, sizeof(*c));
	p = &g->procs[pi];
	c->tid = c->tgid = g->next_pid++;
	c->cpu = (uint16_t)below(g, g->o->cpus);
	c->live = true;
	uint32_t k = below(g, 10);
	c->role = k < 3 ? R_SNAPSHOT : k < 6 ? R_WORKER : R_EXEC;
	c->life = c->role == R_EXEC ? 500 + below(g, 4000)
	                            : 20000 + below(g, 200000);
	struct cs_ev *e = emit(g, p, 0, EV_FORK);
	if (!e)
		return g->err;
	e->arg = c->tid;
	/* dup_mmap(): the child inherits every region; private pages become
	 * write-protected in both. */
	for (uint32_t i = 0; i < p->nr; i++) {
		struct region *src = &p->r[i], *dst = &c->r[i];
		*dst = *src;
		dst->bits = malloc(src->pages);
		if (!dst->bits)
			return -ENOMEM;
		for (uint32_t j = 0; j < src->pages; j++) {
			src->bits[j] &= PG_PRESENT;
			dst->bits[j] = src->bits[j];
		}
	}
	c->nr = p->nr;
	c->brk_pages = p->brk_pages;
	if (c->role == R_EXEC) {
		proc_clear(c);
		e = emit(g, c, 0, EV_EXEC);
		if (!e)
			return g->err;
		e->arg = g->f_tool;
		return image(g, c, false);
	}
	return 0;
}

static int act_exit(struct gen *g, struct proc *p)
{
	struct cs_ev *e = emit(g, p, 0, EV_EXIT);
	if (!e)
		return g->err;
	e->flags = EV_EXIT_GROUP;
	drop_puts_of(g, p->tgid);
	proc_clear(p);
	p->live = false;
	return 0;
}

static void next_slice(struct gen *g)
{
	/* The server gets half the slices; children share the rest. */
	g->cur = 0;
	if (g->nprocs > 1 && below(g, 2)) {
		uint32_t q = 1 + below(g, g->nprocs - 1);
		if (g->procs[q].live)
			g->cur = q;
	}
	struct proc *p = &g->procs[g->cur];
	g->slice = 32 + below(g, 480);
	if (below(g, 8) == 0)
		p->cpu = (uint16_t)below(g, g->o->cpus);
	g->hot_region = below(g, p->nr);
	struct region *r = &p->r[g->hot_region];
	g->hot_start = r->touched > 512 ? below(g, r->touched - 512) : 0;
	g->hot_cur = g->hot_start + (r->touched > 512 ? 512 : r->touched);
	g->rd_region = UINT32_MAX;
	/* A slice is one thread's: the real traces show a thread faulting
	 * in bursts (3-1180 faults in a row on average), not threads of a
	 * process taking turns at every fault. */
	g->tid = p->nthreads && below(g, 2) ? p->threads[below(g, p->nthreads)] : 0;
}

static int step(struct gen *g)
{
	if (!g->slice-- || !g->procs[g->cur].live)
		next_slice(g);
	struct proc *p = &g->procs[g->cur];
	if (p != &g->procs[0] && p->life && --p->life == 0)
		return act_exit(g, p);
	uint32_t k = below(g, 1000);
	switch (p->role) {
	case R_SERVER:
		/* Rates per server action, calibrated against the bundled real
		 * traces in docs/bench.md.  A fork per ~20k actions (~35k
		 * faults) of a server with ~30k present pages copies ~0.9 PTE
		 * per fault, as Redis BGSAVE (0.74) and multiprocessing (1.06)
		 * do; their processes are smaller and fork more often. */
		if (g->o->max_procs > 1 && below(g, FORK_EVERY) == 0)
			return act_fork(g, p);
		if (below(g, RECYCLE_EVERY) == 0)
			return act_recycle(g, p);
		k = below(g, 10000);
		if (k < W_ALLOC) return act_alloc(g, p);
		k -= W_ALLOC;
		if (k < W_WRITE) return act_write_hot(g, p);
		k -= W_WRITE;
		if (k < W_DONTNEED) return act_dontneed(g, p);
		k -= W_DONTNEED;
		if (k < W_GUP) return act_gup(g, p);
		return act_read(g, p);
	case R_SNAPSHOT:
		if (k < 700) return act_read(g, p);
		return act_write_hot(g, p);
	case R_WORKER:
		if (k < 400) return act_alloc(g, p);
		if (k < 700) return act_write_hot(g, p);
		return act_read(g, p);
	case R_EXEC:
		if (k < 500) return act_alloc(g, p);
		if (k < 800) return act_read(g, p);
		return act_write_hot(g, p);
	}
	return 0;
}

void synth_defaults(struct synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->events = 1000000;
	o->seed = 1;
	o->max_procs = 16;
	o->cpus = 4;
	o->arena_pages = 16384;
	o->arenas = 4;
}

int synth_write(const struct synth_opts *o, const char *path, char *err,
                size_t errlen)
{
	struct gen g = { .o = o, .rng = o->seed, .now = 1000000000ull,
	                 .next_pid = 2000, .next_base = 0x7f0000000ull };
	struct progress pg;
	int r;

	progress_init(&pg, o->progress, path, "events");
	pg.items_total = o->events;

	if (!o->events || !o->max_procs || !o->cpus || !o->arena_pages ||
	    o->arena_pages > (1u << 22) || o->arenas > 8 || o->max_procs > 4096) {
		snprintf(err, errlen, "synth: bad options");
		return -EINVAL;
	}
	strtab_init(&g.strings);
	g.buf = malloc(BLOCK * sizeof(*g.buf));
	g.nprocs = o->max_procs;
	g.procs = calloc(g.nprocs, sizeof(*g.procs));
	g.f_bin = strtab_intern(&g.strings, "/usr/bin/server", 15);
	g.f_libc = strtab_intern(&g.strings, "/usr/lib/x86_64-linux-gnu/libc.so.6", 35);
	g.f_tool = strtab_intern(&g.strings, "/usr/bin/tool", 13);
	if (!g.buf || !g.procs) {
		r = -ENOMEM;
		snprintf(err, errlen, "synth: out of memory");
		goto out;
	}
	if ((r = evf_create(path, &g.w, err, errlen)))
		goto out;

	struct proc *s = &g.procs[0];
	s->tid = s->tgid = g.next_pid++;
	s->live = true;
	s->role = R_SERVER;
	struct cs_ev *e = emit(&g, s, 0, EV_EXEC);
	e->arg = g.f_bin;
	if ((r = image(&g, s, true)))
		goto fail;
	for (uint32_t t = 0; t < 3; t++) {
		s->threads[s->nthreads++] = g.next_pid;
		e = emit(&g, s, 0, EV_FORK);
		if (!e) {
			r = g.err;
			goto fail;
		}
		e->arg = g.next_pid++;
		e->flags = EV_CLONE_VM | EV_CLONE_THREAD;
	}
	while (g.emitted < o->events) {
		if ((r = step(&g)) || (r = do_puts(&g)))
			goto fail;
		progress_tick(&pg, g.emitted, 0);
	}
	/* The last action may have run past the count: drop its tail. */
	uint64_t over = g.emitted - o->events;
	g.nbuf -= over < g.nbuf ? (size_t)over : g.nbuf;
	if ((r = flush(&g)))
		goto fail;
	struct ev_meta meta[] = {
		{ .key = "generator", .val = "cowsim synth" },
		{ .key = "capture", .val = "synthetic" },
	};
	r = evf_finish(g.w, &g.strings, meta, 2, err, errlen);
	g.w = NULL;
	if (!r)
		progress_done(&pg, o->events, 0);
	goto out;
fail:
	if (!err[0] || r == -ENOMEM)
		snprintf(err, errlen, "%s: %s", path,
		         r == -ENOMEM ? "out of memory" : "write error");
	evf_abort(g.w);
out:
	progress_abort(&pg);
	for (uint32_t i = 0; i < g.nprocs; i++)
		proc_clear(&g.procs[i]);
	free(g.procs);
	free(g.buf);
	strtab_free(&g.strings);
	return r;
}
