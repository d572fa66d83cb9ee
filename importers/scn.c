/*
 * scn.c - the scenario language (docs/scenarios.md): parse, expand
 * `repeat` blocks, emit normalized events.
 *
 * Two passes: the text is cut into statements (line, tokens with columns),
 * then the statements are executed in order, with a small stack for
 * `repeat N` ... `end`.  Execution keeps the state a scenario writer names
 * things by - processes, mapping variables, GUP handles - and turns every
 * statement into one or more events stamped 1 us apart.  Every error names
 * the file, line and column of the token at fault.
 */
#include "scn.h"
#include "../lib/grow.h"
#include "../lib/readfile.h"
#include "../lib/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 32
#define NAME_MAX_LEN 63

struct tok {
	const char *s;
	uint32_t len;
	uint32_t col;
};

struct stmt {
	uint32_t line;
	uint32_t ntok;
	struct tok t[MAX_TOKENS];
};

struct proc {
	char name[NAME_MAX_LEN + 1];
	uint32_t tid, tgid;
	uint16_t cpu;
	bool live;
	uint64_t last_fault;
};

struct var {
	char name[NAME_MAX_LEN + 1];
	uint64_t addr;
	uint64_t pages;
};

struct handle {
	char name[NAME_MAX_LEN + 1];
	uint32_t id;
};

struct heap {
	uint32_t tgid;
	uint64_t base, brk;
};

struct ctx {
	const char *origin;
	const struct scn_limits *lim;
	struct scn *s;
	char *err;
	size_t errlen;
	const struct stmt *st;     /* statement being executed */
	uint64_t now;
	uint64_t next_addr;
	uint32_t next_pid;
	uint32_t next_handle;
	struct proc *procs;
	size_t nprocs, capprocs;
	struct var *vars;
	size_t nvars, capvars;
	struct handle *handles;
	size_t nhandles, caphandles;
	struct heap *heaps;
	size_t nheaps, capheaps;
};

static int fail_at(struct ctx *c, uint32_t col, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u:%u: %s", c->origin,
	         c->st ? c->st->line : 0, col, msg);
	return -EINVAL;
}

static bool tok_is(const struct tok *t, const char *s)
{
	return strlen(s) == t->len && !memcmp(t->s, s, t->len);
}

static void tok_copy(const struct tok *t, char *buf, size_t len)
{
	size_t n = t->len < len - 1 ? t->len : len - 1;
	memcpy(buf, t->s, n);
	buf[n] = 0;
}

/* "key=value": true and *val set if t starts with key=. */
static bool tok_kv(const struct tok *t, const char *key, struct tok *val)
{
	size_t k = strlen(key);
	if (t->len <= k || memcmp(t->s, key, k) || t->s[k] != '=')
		return false;
	val->s = t->s + k + 1;
	val->len = t->len - (uint32_t)k - 1;
	val->col = t->col + (uint32_t)k + 1;
	return true;
}

static int parse_u64(struct ctx *c, const struct tok *t, uint64_t *out)
{
	char buf[32];
	char *end;
	if (!t->len || t->len >= sizeof(buf))
		return fail_at(c, t->col, "expected a number");
	tok_copy(t, buf, sizeof(buf));
	if (buf[0] == '-')
		return fail_at(c, t->col, "expected a non-negative number, got '%s'", buf);
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);
	if (*end || errno)
		return fail_at(c, t->col, "expected a number, got '%s'", buf);
	*out = v;
	return 0;
}

static int parse_count(struct ctx *c, const struct tok *t, uint64_t max,
                       uint64_t *out)
{
	int r = parse_u64(c, t, out);
	if (r)
		return r;
	if (*out == 0 || *out > max)
		return fail_at(c, t->col, "must be between 1 and %" PRIu64, max);
	return 0;
}

static bool valid_name(const struct tok *t)
{
	if (!t->len || t->len > NAME_MAX_LEN || !(isalpha((unsigned char)t->s[0]) ||
	                                          t->s[0] == '_'))
		return false;
	for (uint32_t i = 0; i < t->len; i++)
		if (!isalnum((unsigned char)t->s[i]) && t->s[i] != '_' && t->s[i] != '-')
			return false;
	return true;
}

static struct proc *proc_find(struct ctx *c, const struct tok *t)
{
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->procs[i].live && tok_is(t, c->procs[i].name))
			return &c->procs[i];
	return NULL;
}

static int proc_get(struct ctx *c, const struct tok *t, struct proc **out)
{
	*out = proc_find(c, t);
	if (!*out) {
		char n[NAME_MAX_LEN + 1];
		tok_copy(t, n, sizeof(n));
		return fail_at(c, t->col, "no live process or thread named '%s'", n);
	}
	return 0;
}

static int proc_new(struct ctx *c, const struct tok *t, struct proc **out)
{
	if (!valid_name(t))
		return fail_at(c, t->col, "bad process name (letters, digits, _ and -)");
	if (proc_find(c, t))
		return fail_at(c, t->col, "a live process is already named that");
	if (grow_array((void **)&c->procs, &c->capprocs, c->nprocs + 1,
	               sizeof(*c->procs), 8, false))
		return -ENOMEM;
	struct proc *p = &c->procs[c->nprocs++];
	memset(p, 0, sizeof(*p));
	tok_copy(t, p->name, sizeof(p->name));
	p->live = true;
	*out = p;
	return 0;
}

static struct var *var_find(struct ctx *c, const char *s, size_t len)
{
	for (size_t i = 0; i < c->nvars; i++)
		if (strlen(c->vars[i].name) == len && !memcmp(c->vars[i].name, s, len))
			return &c->vars[i];
	return NULL;
}

static int var_bind(struct ctx *c, const struct tok *t, uint64_t addr,
                    uint64_t pages)
{
	if (!valid_name(t))
		return fail_at(c, t->col, "bad mapping name (letters, digits, _ and -)");
	struct var *v = var_find(c, t->s, t->len);
	if (!v) {
		if (grow_array((void **)&c->vars, &c->capvars, c->nvars + 1,
		               sizeof(*c->vars), 16, false))
			return -ENOMEM;
		v = &c->vars[c->nvars++];
		tok_copy(t, v->name, sizeof(v->name));
	}
	v->addr = addr;
	v->pages = pages;
	return 0;
}

/* ADDR: NAME, NAME+PAGES or 0xHEX. */
static int parse_addr(struct ctx *c, const struct tok *t, uint64_t *out)
{
	if (t->len > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X')) {
		int r = parse_u64(c, t, out);
		if (r)
			return r;
		if (*out >= EV_USER_TOP)
			return fail_at(c, t->col, "address beyond the user address space");
		return 0;
	}
	const char *plus = memchr(t->s, '+', t->len);
	size_t nl = plus ? (size_t)(plus - t->s) : t->len;
	struct var *v = var_find(c, t->s, nl);
	if (!v) {
		char n[NAME_MAX_LEN + 1];
		struct tok nt = { .s = t->s, .len = (uint32_t)nl, .col = t->col };
		tok_copy(&nt, n, sizeof(n));
		return fail_at(c, t->col, "unknown mapping '%s' (map it first)", n);
	}
	uint64_t off = 0;
	if (plus) {
		struct tok ot = { .s = plus + 1, .len = t->len - (uint32_t)nl - 1,
		                  .col = t->col + (uint32_t)nl + 1 };
		int r = parse_u64(c, &ot, &off);
		if (r)
			return r;
		if (off >= (1ull << 35))
			return fail_at(c, ot.col, "page offset too large");
	}
	*out = v->addr + off * EV_PAGE_SIZE;
	if (*out >= EV_USER_TOP)
		return fail_at(c, t->col, "address beyond the user address space");
	return 0;
}

static int emit(struct ctx *c, const struct proc *p, uint8_t type,
                struct cs_ev **out)
{
	struct scn *s = c->s;
	*out = NULL;   /* defined on every path: gcc -O3 cannot see fail_at() != 0 */
	if (s->nev >= c->lim->events)
		return fail_at(c, 1, "scenario expands to more than %" PRIu64
		               " events", c->lim->events);
	if (grow_array((void **)&s->ev, &s->capev, s->nev + 1, sizeof(*s->ev),
	               256, false))
		return -ENOMEM;
	struct cs_ev *e = &s->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	c->now += 1000;
	e->ts = c->now;
	e->type = type;
	if (p) {
		e->tid = p->tid;
		e->tgid = p->tgid;
		e->cpu = p->cpu;
	}
	*out = e;
	return 0;
}

static uint32_t intern_tok(struct ctx *c, const struct tok *t)
{
	return strtab_intern(&c->s->strings, t->s, t->len);
}

static int need(struct ctx *c, uint32_t n, const char *usage)
{
	if (c->st->ntok < n)
		return fail_at(c, c->st->t[c->st->ntok - 1].col +
		                  c->st->t[c->st->ntok - 1].len,
		               "missing arguments; usage: %s", usage);
	return 0;
}

static int no_extra(struct ctx *c, uint32_t used)
{
	if (c->st->ntok > used) {
		const struct tok *t = &c->st->t[used];
		char n[64];
		tok_copy(t, n, sizeof(n));
		return fail_at(c, t->col, "unexpected '%s'", n);
	}
	return 0;
}

static int parse_prot(struct ctx *c, const struct tok *t, uint32_t *out)
{
	uint32_t p = 0;
	if (tok_is(t, "none")) {
		*out = 0;
		return 0;
	}
	for (uint32_t i = 0; i < t->len; i++) {
		switch (t->s[i]) {
		case 'r': p |= EV_PROT_READ; break;
		case 'w': p |= EV_PROT_WRITE | EV_PROT_READ; break;
		case 'x': p |= EV_PROT_EXEC; break;
		default:
			return fail_at(c, t->col + i, "protection is made of r, w, x or 'none'");
		}
	}
	*out = p;
	return 0;
}

/* Options shared by several statements: cpu=N. */
static int opt_cpu(struct ctx *c, const struct tok *t, uint16_t *cpu, bool *hit)
{
	struct tok v;
	*hit = false;
	if (!tok_kv(t, "cpu", &v))
		return 0;
	uint64_t n = 0;
	int r = parse_u64(c, &v, &n);
	if (r)
		return r;
	if (n > 4095)
		return fail_at(c, v.col, "cpu must be below 4096");
	*cpu = (uint16_t)n;
	*hit = true;
	return 0;
}

/* ---- statements ---- */

static int st_process(struct ctx *c)
{
	const struct stmt *st = c->st;
	struct proc *p;
	int r;

	if ((r = need(c, 2, "process NAME [pid=N] [cpu=N] [comm=TEXT]")))
		return r;
	if ((r = proc_new(c, &st->t[1], &p)))
		return r;
	p->tid = p->tgid = c->next_pid++;
	struct tok comm = st->t[1];
	for (uint32_t i = 2; i < st->ntok; i++) {
		struct tok v;
		bool hit;
		if ((r = opt_cpu(c, &st->t[i], &p->cpu, &hit)))
			return r;
		if (hit)
			continue;
		if (tok_kv(&st->t[i], "pid", &v)) {
			uint64_t n;
			if ((r = parse_count(c, &v, 4194304, &n)))
				return r;
			for (size_t k = 0; k < c->nprocs; k++)
				if (c->procs[k].live && c->procs[k].tid == n && &c->procs[k] != p)
					return fail_at(c, v.col, "pid %" PRIu64 " is in use", n);
			p->tid = p->tgid = (uint32_t)n;
		} else if (tok_kv(&st->t[i], "comm", &v)) {
			comm = v;
		} else {
			return no_extra(c, i);
		}
	}
	struct cs_ev *e;
	if ((r = emit(c, p, EV_EXEC, &e)))
		return r;
	e->arg = intern_tok(c, &comm);
	return 0;
}

static int st_fork(struct ctx *c, bool thread)
{
	const struct stmt *st = c->st;
	struct proc *parent, *child;
	bool vfork = false;
	int r;

	if ((r = need(c, 3, thread ? "thread PARENT NAME [cpu=N]"
	                           : "fork PARENT CHILD [vfork] [cpu=N]")))
		return r;
	if ((r = proc_get(c, &st->t[1], &parent)))
		return r;
	size_t pi = (size_t)(parent - c->procs);
	if ((r = proc_new(c, &st->t[2], &child)))
		return r;
	parent = &c->procs[pi];
	child->tid = c->next_pid++;
	child->tgid = thread ? parent->tgid : child->tid;
	child->cpu = parent->cpu;
	for (uint32_t i = 3; i < st->ntok; i++) {
		bool hit;
		if ((r = opt_cpu(c, &st->t[i], &child->cpu, &hit)))
			return r;
		if (hit)
			continue;
		if (!thread && tok_is(&st->t[i], "vfork"))
			vfork = true;
		else
			return no_extra(c, i);
	}
	struct cs_ev *e;
	if ((r = emit(c, parent, EV_FORK, &e)))
		return r;
	e->arg = child->tid;
	if (thread)
		e->flags = EV_CLONE_VM | EV_CLONE_THREAD;
	else if (vfork)
		e->flags = EV_CLONE_VM | EV_CLONE_VFORK;
	return 0;
}

static int st_exec(struct ctx *c)
{
	const struct stmt *st = c->st;
	struct proc *p;
	int r;

	if ((r = need(c, 2, "exec NAME [PATH]")))
		return r;
	if ((r = proc_get(c, &st->t[1], &p)))
		return r;
	if ((r = no_extra(c, 3)))
		return r;
	struct cs_ev *e;
	if ((r = emit(c, p, EV_EXEC, &e)))
		return r;
	e->arg = intern_tok(c, st->ntok > 2 ? &st->t[2] : &st->t[1]);
	return 0;
}

static int st_exit(struct ctx *c)
{
	struct proc *p;
	int r;

	if ((r = need(c, 2, "exit NAME")) || (r = no_extra(c, 2)))
		return r;
	if ((r = proc_get(c, &c->st->t[1], &p)))
		return r;
	struct cs_ev *e;
	if ((r = emit(c, p, EV_EXIT, &e)))
		return r;
	p->live = false;
	return 0;
}

static int st_sched(struct ctx *c)
{
	struct proc *p;
	bool hit = false;
	int r;

	if ((r = need(c, 3, "sched NAME cpu=N")) || (r = no_extra(c, 3)))
		return r;
	if ((r = proc_get(c, &c->st->t[1], &p)))
		return r;
	if ((r = opt_cpu(c, &c->st->t[2], &p->cpu, &hit)))
		return r;
	if (!hit)
		return fail_at(c, c->st->t[2].col, "expected cpu=N");
	return 0;
}

static int st_mmap(struct ctx *c)
{
	const struct stmt *st = c->st;
	struct proc *p;
	uint64_t pages, at = 0;
	uint32_t prot = EV_PROT_READ | EV_PROT_WRITE, flags = EV_MAP_ANON;
	uint32_t file = 0;
	uint64_t pgoff = 0;
	int r;

	if ((r = need(c, 4, "mmap NAME VAR PAGES [anon|file=F[@PGOFF]] "
	                    "[private|shared] [prot=rw] [at=0xADDR]")))
		return r;
	if ((r = proc_get(c, &st->t[1], &p)))
		return r;
	if ((r = parse_count(c, &st->t[3], 1u << 24, &pages)))
		return r;
	for (uint32_t i = 4; i < st->ntok; i++) {
		const struct tok *t = &st->t[i];
		struct tok v;
		if (tok_is(t, "anon")) {
			flags |= EV_MAP_ANON;
			file = 0;
		} else if (tok_is(t, "private")) {
			flags &= ~EV_MAP_SHARED;
		} else if (tok_is(t, "shared")) {
			flags |= EV_MAP_SHARED;
		} else if (tok_kv(t, "prot", &v)) {
			if ((r = parse_prot(c, &v, &prot)))
				return r;
		} else if (tok_kv(t, "at", &v)) {
			if ((r = parse_u64(c, &v, &at)))
				return r;
			if (at & (EV_PAGE_SIZE - 1) || at >= EV_USER_TOP)
				return fail_at(c, v.col, "at= must be a page-aligned user address");
		} else if (tok_kv(t, "file", &v)) {
			const char *atsign = memchr(v.s, '@', v.len);
			struct tok name = v;
			if (atsign) {
				name.len = (uint32_t)(atsign - v.s);
				struct tok off = { .s = atsign + 1, .len = v.len - name.len - 1,
				                   .col = v.col + name.len + 1 };
				if ((r = parse_u64(c, &off, &pgoff)))
					return r;
			}
			if (!name.len)
				return fail_at(c, v.col, "file= needs a name");
			file = intern_tok(c, &name);
			flags &= ~EV_MAP_ANON;
		} else {
			return no_extra(c, i);
		}
	}
	if (!at) {
		at = c->next_addr;
		/* one unmapped page between scenario mappings keeps them apart */
		c->next_addr += ((pages + 16) & ~15ull) * EV_PAGE_SIZE;
	}
	if (at + pages * EV_PAGE_SIZE > EV_USER_TOP)
		return fail_at(c, st->t[3].col, "mapping runs past the user address space");
	if ((r = var_bind(c, &st->t[2], at, pages)))
		return r;
	struct cs_ev *e;
	if ((r = emit(c, p, EV_MMAP, &e)))
		return r;
	e->addr = at;
	e->len = (uint32_t)pages;
	e->flags = prot | flags;
	e->arg = file;
	e->aux = pgoff;
	return 0;
}

static int st_range(struct ctx *c, uint8_t type, const char *usage,
                    uint32_t nfixed, uint64_t *addr, uint64_t *pages,
                    struct proc **p, struct cs_ev **out)
{
	const struct stmt *st = c->st;
	int r;

	if ((r = need(c, nfixed, usage)))
		return r;
	if ((r = proc_get(c, &st->t[1], p)))
		return r;
	if ((r = parse_addr(c, &st->t[2], addr)))
		return r;
	*addr &= ~(EV_PAGE_SIZE - 1);
	*pages = 1;
	if (nfixed >= 4 && (r = parse_count(c, &st->t[3], 1u << 24, pages)))
		return r;
	if ((*addr >> EV_PAGE_SHIFT) + *pages > (EV_USER_TOP >> EV_PAGE_SHIFT))
		return fail_at(c, st->t[2].col, "range runs past the user address space");
	if ((r = emit(c, *p, type, out)))
		return r;
	(*out)->addr = *addr;
	(*out)->len = (uint32_t)*pages;
	return 0;
}

static int st_munmap(struct ctx *c)
{
	uint64_t a, n;
	struct proc *p;
	struct cs_ev *e;
	int r = st_range(c, EV_MUNMAP, "munmap NAME ADDR PAGES", 4, &a, &n, &p, &e);
	return r ? r : no_extra(c, 4);
}

static int st_mprotect(struct ctx *c)
{
	uint64_t a, n;
	struct proc *p;
	struct cs_ev *e;
	uint32_t prot;
	int r = need(c, 5, "mprotect NAME ADDR PAGES r|rw|rx|rwx|none");
	if (r || (r = parse_prot(c, &c->st->t[4], &prot)))
		return r;
	if ((r = st_range(c, EV_MPROTECT, "", 4, &a, &n, &p, &e)))
		return r;
	e->flags = prot;
	return no_extra(c, 5);
}

static int st_madvise(struct ctx *c)
{
	static const struct { const char *name; uint32_t advice; } adv[] = {
		{ "dontneed", EV_MADV_DONTNEED }, { "free", EV_MADV_FREE },
		{ "remove", EV_MADV_REMOVE }, { "dontfork", EV_MADV_DONTFORK },
		{ "dofork", EV_MADV_DOFORK }, { "wipeonfork", EV_MADV_WIPEONFORK },
		{ "keeponfork", EV_MADV_KEEPONFORK }, { "cold", EV_MADV_COLD },
		{ "pageout", EV_MADV_PAGEOUT }, { "mergeable", EV_MADV_MERGEABLE },
	};
	uint64_t a, n;
	struct proc *p;
	struct cs_ev *e;
	int r = need(c, 5, "madvise NAME ADDR PAGES ADVICE");
	if (r)
		return r;
	uint32_t advice = 0;
	size_t k;
	for (k = 0; k < sizeof(adv) / sizeof(adv[0]); k++)
		if (tok_is(&c->st->t[4], adv[k].name))
			advice = adv[k].advice;
	if (!advice)
		return fail_at(c, c->st->t[4].col, "unknown advice (dontneed, free, "
		               "remove, dontfork, dofork, wipeonfork, keeponfork, cold, "
		               "pageout, mergeable)");
	if ((r = st_range(c, EV_MADVISE, "", 4, &a, &n, &p, &e)))
		return r;
	e->flags = advice;
	return no_extra(c, 5);
}

static int st_mremap(struct ctx *c)
{
	const struct stmt *st = c->st;
	uint64_t a, n, nn;
	struct proc *p;
	struct cs_ev *e;
	int r = need(c, 5, "mremap NAME ADDR PAGES NEWPAGES [to=NEWVAR]");
	if (r || (r = parse_count(c, &st->t[4], 1u << 24, &nn)))
		return r;
	uint64_t to = 0;
	const struct tok *newvar = NULL;
	for (uint32_t i = 5; i < st->ntok; i++) {
		struct tok v;
		if (tok_kv(&st->t[i], "to", &v)) {
			newvar = &st->t[i];
			to = c->next_addr;
			c->next_addr += ((nn + 16) & ~15ull) * EV_PAGE_SIZE;
			if ((r = var_bind(c, &v, to, nn)))
				return r;
		} else {
			return no_extra(c, i);
		}
	}
	if ((r = st_range(c, EV_MREMAP, "", 4, &a, &n, &p, &e)))
		return r;
	e->aux = newvar ? to : a;
	e->arg = (uint32_t)nn;
	return 0;
}

static int st_brk(struct ctx *c)
{
	const struct stmt *st = c->st;
	struct proc *p;
	uint64_t pages;
	int r;

	if ((r = need(c, 3, "brk NAME PAGES")) || (r = no_extra(c, 3)))
		return r;
	if ((r = proc_get(c, &st->t[1], &p)))
		return r;
	if ((r = parse_u64(c, &st->t[2], &pages)))
		return r;
	if (pages > (1u << 24))
		return fail_at(c, st->t[2].col, "heap too large");
	struct heap *h = NULL;
	for (size_t i = 0; i < c->nheaps; i++)
		if (c->heaps[i].tgid == p->tgid)
			h = &c->heaps[i];
	if (!h) {
		if (grow_array((void **)&c->heaps, &c->capheaps, c->nheaps + 1,
		               sizeof(*c->heaps), 4, false))
			return -ENOMEM;
		h = &c->heaps[c->nheaps++];
		h->tgid = p->tgid;
		h->base = h->brk = 0x555555554000ull + (uint64_t)c->nheaps * (1ull << 32);
		struct tok heapname = { .s = "heap", .len = 4, .col = st->t[0].col };
		if ((r = var_bind(c, &heapname, h->base, 0)))
			return r;
	}
	struct cs_ev *e;
	if ((r = emit(c, p, EV_BRK, &e)))
		return r;
	e->aux = h->brk;
	h->brk = h->base + pages * EV_PAGE_SIZE;
	e->addr = h->brk;
	if (e->addr == e->aux)
		c->s->nev--;   /* nothing changes: emit nothing */
	return 0;
}

static int st_fault(struct ctx *c, uint32_t code)
{
	const struct stmt *st = c->st;
	struct proc *p;
	uint64_t addr, pages = 1;
	int r;

	if ((r = need(c, 3, "read|write|ifetch|kread|kwrite NAME ADDR [PAGES]")))
		return r;
	if ((r = proc_get(c, &st->t[1], &p)))
		return r;
	if ((r = parse_addr(c, &st->t[2], &addr)))
		return r;
	if (st->ntok > 3 && (r = parse_count(c, &st->t[3], 1u << 24, &pages)))
		return r;
	if ((r = no_extra(c, 4)))
		return r;
	for (uint64_t i = 0; i < pages; i++) {
		struct cs_ev *e;
		if ((r = emit(c, p, EV_FAULT, &e)))
			return r;
		e->addr = addr + i * EV_PAGE_SIZE;
		if (e->addr >= EV_USER_TOP)
			return fail_at(c, st->t[2].col, "range runs past the user address space");
		e->flags = code;
		p->last_fault = e->addr;
	}
	return 0;
}

static struct handle *handle_find(struct ctx *c, const struct tok *t)
{
	for (size_t i = 0; i < c->nhandles; i++)
		if (tok_is(t, c->handles[i].name))
			return &c->handles[i];
	return NULL;
}

/* gup NAME ADDR PAGES [write] [pin|get] [longterm] [fast] [raced] [refs=N]
 *     [src=...] [as H]; vmsplice/iouring/pin are presets of flags. */
static int st_gup(struct ctx *c, uint32_t preset)
{
	const struct stmt *st = c->st;
	uint64_t a, n;
	struct proc *p;
	struct cs_ev *e;
	uint32_t flags = preset;
	uint64_t refs = 1;
	const struct tok *as = NULL;
	int r;

	if ((r = st_range(c, EV_GUP, "gup NAME ADDR PAGES [write] [pin|get] "
	                  "[longterm] [fast] [raced] [refs=N] [as H]", 4, &a, &n, &p,
	                  &e)))
		return r;
	for (uint32_t i = 4; i < st->ntok; i++) {
		const struct tok *t = &st->t[i];
		struct tok v;
		if (tok_is(t, "write"))
			flags |= EV_GUP_WRITE;
		else if (tok_is(t, "pin"))
			flags |= EV_GUP_PIN;
		else if (tok_is(t, "get"))
			flags &= ~EV_GUP_PIN;
		else if (tok_is(t, "longterm"))
			flags |= EV_GUP_LONGTERM;
		else if (tok_is(t, "fast"))
			flags |= EV_GUP_FAST;
		else if (tok_is(t, "raced"))
			flags |= EV_GUP_RACED | EV_GUP_FAST;
		else if (tok_kv(t, "refs", &v)) {
			if ((r = parse_count(c, &v, UINT32_MAX * 2ull, &refs)))
				return r;
		} else if (tok_is(t, "as")) {
			if (i + 1 >= st->ntok)
				return fail_at(c, t->col + 2, "'as' needs a handle name");
			as = &st->t[++i];
			if (!valid_name(as))
				return fail_at(c, as->col, "bad handle name");
		} else {
			return no_extra(c, i);
		}
	}
	e = &c->s->ev[c->s->nev - 1];
	e->flags = flags;
	e->aux = refs;
	e->arg = ++c->next_handle;
	if (as) {
		struct handle *h = handle_find(c, as);
		if (!h) {
			if (grow_array((void **)&c->handles, &c->caphandles,
			               c->nhandles + 1, sizeof(*c->handles), 8,
			               false))
				return -ENOMEM;
			h = &c->handles[c->nhandles++];
			tok_copy(as, h->name, sizeof(h->name));
		}
		h->id = e->arg;
	}
	return 0;
}

static int st_release(struct ctx *c)
{
	const struct stmt *st = c->st;
	int r;

	if ((r = need(c, 2, "release HANDLE")) || (r = no_extra(c, 2)))
		return r;
	struct handle *h = handle_find(c, &st->t[1]);
	if (!h || !h->id)
		return fail_at(c, st->t[1].col, "no GUP handle of that name (name it "
		               "with 'as H')");
	struct cs_ev *e;
	struct proc *owner = NULL;
	for (size_t i = 0; i < c->s->nev && !owner; i++) {
		const struct cs_ev *g = &c->s->ev[i];
		if (g->type == EV_GUP && g->arg == h->id)
			for (size_t k = 0; k < c->nprocs; k++)
				if (c->procs[k].tid == g->tid)
					owner = &c->procs[k];
	}
	if ((r = emit(c, owner, EV_GUP_PUT, &e)))
		return r;
	e->arg = h->id;
	h->id = 0;
	return 0;
}

static int st_swap_op(struct ctx *c, uint8_t type)
{
	const struct stmt *st = c->st;
	struct proc *p;
	uint64_t addr, pages = 1;
	uint32_t flags = 0;
	int r;

	if ((r = need(c, 3, type == EV_SWAPOUT ? "swapout NAME ADDR [PAGES] [race]"
	                    : "swapin|migrate NAME ADDR [PAGES]")))
		return r;
	if ((r = proc_get(c, &st->t[1], &p)) || (r = parse_addr(c, &st->t[2], &addr)))
		return r;
	uint32_t i = 3;
	if (i < st->ntok && isdigit((unsigned char)st->t[i].s[0])) {
		if ((r = parse_count(c, &st->t[i], 1u << 24, &pages)))
			return r;
		i++;
	}
	if (type == EV_SWAPOUT && i < st->ntok && tok_is(&st->t[i], "race")) {
		if (pages != 1)
			return fail_at(c, st->t[i].col, "a racing swap-out is of one page");
		flags = EV_SWAPOUT_RACE;
		i++;
	}
	if ((r = no_extra(c, i)))
		return r;
	struct cs_ev *e;
	if ((r = emit(c, p, type, &e)))
		return r;
	e->addr = addr & ~(EV_PAGE_SIZE - 1);
	e->len = (uint32_t)pages;
	e->flags = flags;
	return 0;
}

static int st_ksm(struct ctx *c)
{
	uint64_t a, n, key;
	struct proc *p;
	struct cs_ev *e;
	int r = need(c, 4, "ksm NAME ADDR KEY");
	if (r || (r = parse_u64(c, &c->st->t[3], &key)))
		return r;
	if ((r = st_range(c, EV_KSM, "", 3, &a, &n, &p, &e)))
		return r;
	e->aux = key;
	return no_extra(c, 4);
}

static int st_observe(struct ctx *c)
{
	static const struct { const char *n; uint32_t v; } obs[] = {
		{ "copy", EV_OBS_COPY }, { "zero", EV_OBS_ZERO },
		{ "reuse", EV_OBS_REUSE }, { "new", EV_OBS_NEW },
	};
	struct proc *p;
	int r;

	if ((r = need(c, 3, "observe NAME copy|reuse|zero|new")) ||
	    (r = no_extra(c, 3)))
		return r;
	if ((r = proc_get(c, &c->st->t[1], &p)))
		return r;
	uint32_t v = 0;
	for (size_t k = 0; k < 4; k++)
		if (tok_is(&c->st->t[2], obs[k].n))
			v = obs[k].v;
	if (!v)
		return fail_at(c, c->st->t[2].col, "outcome is copy, reuse, zero or new");
	if (!p->last_fault)
		return fail_at(c, c->st->t[1].col, "that process has not faulted yet");
	struct cs_ev *e;
	if ((r = emit(c, p, EV_OBSERVED, &e)))
		return r;
	e->addr = p->last_fault;
	e->flags = v;
	return 0;
}

static int st_pages(struct ctx *c)
{
	const struct stmt *st = c->st;
	uint64_t a, n;
	struct proc *p;
	struct cs_ev *e;
	int r = st_range(c, EV_PAGE_INIT, "pages NAME ADDR COUNT [flags=PSFX] "
	                 "[pfn=N]", 4, &a, &n, &p, &e);
	if (r)
		return r;
	for (uint32_t i = 4; i < st->ntok; i++) {
		struct tok v;
		if (tok_kv(&st->t[i], "flags", &v)) {
			for (uint32_t k = 0; k < v.len; k++) {
				switch (v.s[k]) {
				case 'P': e->flags |= EV_PM_PRESENT; break;
				case 'S': e->flags |= EV_PM_SWAPPED; break;
				case 'F': e->flags |= EV_PM_FILE; break;
				case 'X': e->flags |= EV_PM_EXCLUSIVE; break;
				case '-': break;
				default: return fail_at(c, v.col + k, "flags are P, S, F, X");
				}
			}
		} else if (tok_kv(&st->t[i], "pfn", &v)) {
			if ((r = parse_u64(c, &v, &e->aux)))
				return r;
		} else {
			return no_extra(c, i);
		}
	}
	return 0;
}

static int st_expect(struct ctx *c)
{
	const struct stmt *st = c->st;
	struct scn *s = c->s;
	int r;

	if ((r = need(c, 3, "expect POLICIES CHECK...")))
		return r;
	if (grow_array((void **)&s->exp, &s->capexp, s->nexp + 1,
	               sizeof(*s->exp), 16, false))
		return -ENOMEM;
	struct scn_expect *x = &s->exp[s->nexp];
	memset(x, 0, sizeof(*x));
	x->line = st->line;
	x->pcol = st->t[1].col;
	x->policies = strndup(st->t[1].s, st->t[1].len);
	x->checks = calloc(st->ntok - 2, sizeof(*x->checks));
	if (!x->policies || !x->checks) {
		free(x->policies);
		free(x->checks);
		return -ENOMEM;
	}
	s->nexp++;
	for (uint32_t i = 2; i < st->ntok; i++) {
		const struct tok *t = &st->t[i];
		struct scn_check *k = &x->checks[x->nchecks++];
		k->col = t->col;
		if (tok_is(t, "pass")) {
			k->kind = 1;
			continue;
		}
		if (tok_is(t, "fail")) {
			k->kind = 2;
			continue;
		}
		static const struct { const char *s; enum scn_op op; } ops[] = {
			{ "!=", SCN_NE }, { "<=", SCN_LE }, { ">=", SCN_GE },
			{ "==", SCN_EQ }, { "=", SCN_EQ }, { "<", SCN_LT }, { ">", SCN_GT },
		};
		uint32_t at = 0;
		size_t oi = 0;
		for (at = 0; at < t->len; at++) {
			for (oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++)
				if (!strncmp(t->s + at, ops[oi].s, strlen(ops[oi].s)))
					break;
			if (oi < sizeof(ops) / sizeof(ops[0]))
				break;
		}
		if (at == 0 || at >= t->len)
			return fail_at(c, t->col, "expected pass, fail or METRIC<op>VALUE "
			               "(e.g. leaks=1, copies_fault>=2)");
		if (at >= sizeof(k->metric))
			return fail_at(c, t->col, "metric name too long");
		memcpy(k->metric, t->s, at);
		k->metric[at] = 0;
		k->op = ops[oi].op;
		uint32_t ol = (uint32_t)strlen(ops[oi].s);
		struct tok v = { .s = t->s + at + ol, .len = t->len - at - ol,
		                 .col = t->col + at + ol };
		if ((r = parse_u64(c, &v, &k->value)))
			return r;
	}
	return 0;
}

/* ---- driver ---- */

static int tokenize(struct ctx *c, const char *line, size_t len, uint32_t lineno,
                    struct stmt *st)
{
	st->line = lineno;
	st->ntok = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i >= len || line[i] == '#')
			break;
		if (st->ntok == MAX_TOKENS) {
			c->st = st;
			return fail_at(c, (uint32_t)i + 1, "too many words on one line");
		}
		struct tok *t = &st->t[st->ntok++];
		t->col = (uint32_t)i + 1;
		if (line[i] == '"') {
			size_t j = i + 1;
			while (j < len && line[j] != '"')
				j++;
			if (j >= len) {
				c->st = st;
				return fail_at(c, (uint32_t)i + 1, "unterminated quote");
			}
			t->s = line + i + 1;
			t->len = (uint32_t)(j - i - 1);
			i = j + 1;
		} else {
			size_t j = i;
			while (j < len && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' &&
			       line[j] != '#')
				j++;
			t->s = line + i;
			t->len = (uint32_t)(j - i);
			i = j;
		}
		for (uint32_t k = 0; k < t->len; k++) {
			if ((unsigned char)t->s[k] < 0x20 && t->s[k] != '\t') {
				c->st = st;
				return fail_at(c, t->col + k, "control character in input");
			}
		}
	}
	return 0;
}

/* Copy st into out with every "$i" replaced by iter; false if st has none
 * (or the result would not fit, which leaves the words as written). */
static bool substitute(const struct stmt *st, struct stmt *out, char *buf,
                       size_t len, uint64_t iter)
{
	bool any = false;
	size_t used = 0;

	*out = *st;
	for (uint32_t i = 0; i < st->ntok; i++) {
		const struct tok *t = &st->t[i];
		if (!memmem(t->s, t->len, "$i", 2))
			continue;
		char *dst = buf + used;
		size_t n = 0;
		for (uint32_t k = 0; k < t->len; k++) {
			if (k + 1 < t->len && t->s[k] == '$' && t->s[k + 1] == 'i') {
				int w = snprintf(dst + n, len - used - n, "%" PRIu64, iter);
				if (w < 0 || (size_t)w >= len - used - n)
					return false;
				n += (size_t)w;
				k++;
			} else {
				if (used + n + 1 >= len)
					return false;
				dst[n++] = t->s[k];
			}
		}
		out->t[i].s = dst;
		out->t[i].len = (uint32_t)n;
		used += n;
		any = true;
	}
	return any;
}

/*
 * Run the statement c->st, or, when sg is not NULL, run nothing and offer
 * every statement keyword to sg: the "did you mean" of an unknown one is
 * built from this very chain, so a keyword added here is suggested too.
 */
static int dispatch_stmt(struct ctx *c, struct suggest *sg)
{
	const struct tok *v = &c->st->t[0];
#define IS(x) (sg ? (suggest_add(sg, x), false) : tok_is(v, x))
	if (IS("process")) return st_process(c);
	if (IS("fork")) return st_fork(c, false);
	if (IS("thread")) return st_fork(c, true);
	if (IS("exec")) return st_exec(c);
	if (IS("exit")) return st_exit(c);
	if (IS("sched")) return st_sched(c);
	if (IS("mmap")) return st_mmap(c);
	if (IS("munmap")) return st_munmap(c);
	if (IS("mprotect")) return st_mprotect(c);
	if (IS("mremap")) return st_mremap(c);
	if (IS("madvise")) return st_madvise(c);
	if (IS("brk")) return st_brk(c);
	if (IS("read")) return st_fault(c, EV_PF_USER);
	if (IS("write")) return st_fault(c, EV_PF_USER | EV_PF_WRITE);
	if (IS("ifetch")) return st_fault(c, EV_PF_USER | EV_PF_INSTR);
	if (IS("kread")) return st_fault(c, 0);
	if (IS("kwrite")) return st_fault(c, EV_PF_WRITE);
	if (IS("gup")) return st_gup(c, 0);
	if (IS("vmsplice")) return st_gup(c, EV_GUP_FAST | (EV_GUP_SRC_VMSPLICE << EV_GUP_SRC_SHIFT));
	if (IS("iouring")) return st_gup(c, EV_GUP_WRITE | EV_GUP_PIN | EV_GUP_LONGTERM |
	                                    EV_GUP_FAST | (EV_GUP_SRC_IOURING << EV_GUP_SRC_SHIFT));
	if (IS("pin")) return st_gup(c, EV_GUP_PIN | EV_GUP_LONGTERM |
	                                (EV_GUP_SRC_GUPTEST << EV_GUP_SRC_SHIFT));
	if (IS("release")) return st_release(c);
	if (IS("swapout")) return st_swap_op(c, EV_SWAPOUT);
	if (IS("swapin")) return st_swap_op(c, EV_SWAPIN);
	if (IS("migrate")) return st_swap_op(c, EV_MIGRATE);
	if (IS("ksm")) return st_ksm(c);
	if (IS("observe")) return st_observe(c);
	if (IS("pages")) return st_pages(c);
	if (IS("expect")) return st_expect(c);
	if (IS("marker")) {
		struct cs_ev *e;
		int r = need(c, 2, "marker TEXT");
		if (r || (r = no_extra(c, 2)) || (r = emit(c, NULL, EV_MARKER, &e)))
			return r;
		e->arg = intern_tok(c, &c->st->t[1]);
		return 0;
	}
	if (IS("sleep")) {
		uint64_t ns;
		int r = need(c, 2, "sleep NS");
		if (r || (r = no_extra(c, 2)) || (r = parse_u64(c, &c->st->t[1], &ns)))
			return r;
		if (ns > (1ull << 50))
			return fail_at(c, c->st->t[1].col, "sleep too long");
		c->now += ns;
		return 0;
	}
	if (IS("swap")) {
		int r = need(c, 2, "swap on|off");
		if (r || (r = no_extra(c, 2)))
			return r;
		if (tok_is(&c->st->t[1], "on"))
			c->s->swap = true;
		else if (tok_is(&c->st->t[1], "off"))
			c->s->swap = false;
		else
			return fail_at(c, c->st->t[1].col, "expected on or off");
		return 0;
	}
	if (IS("fork-mode")) {
		/* The values of the configuration's fork_mode switch. */
		static const char *const modes[] = { "copy", "on-demand", "async" };
		int r = need(c, 2, "fork-mode copy|on-demand|async");
		if (r || (r = no_extra(c, 2)))
			return r;
		for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
			if (tok_is(&c->st->t[1], modes[i])) {
				snprintf(c->s->fork_mode, sizeof(c->s->fork_mode), "%s",
				         modes[i]);
				return 0;
			}
		}
		return fail_at(c, c->st->t[1].col, "expected copy, on-demand or async");
	}
	if (IS("scenario")) {
		int r = need(c, 2, "scenario \"NAME\"");
		if (r || (r = no_extra(c, 2)))
			return r;
		free(c->s->name);
		c->s->name = strndup(c->st->t[1].s, c->st->t[1].len);
		return c->s->name ? 0 : -ENOMEM;
	}
#undef IS
	return 1;
}

static int run_stmt(struct ctx *c)
{
	const struct tok *v = &c->st->t[0];
	int r = dispatch_stmt(c, NULL);
	if (r != 1)
		return r;
	struct suggest sg;
	char n[64], near[160];
	tok_copy(v, n, sizeof(n));
	suggest_init(&sg, n);
	dispatch_stmt(c, &sg);
	return fail_at(c, v->col, "unknown statement '%s'%s", n,
	               suggest_format(&sg, NULL, near, sizeof(near)));
}

void scn_free(struct scn *s)
{
	for (size_t i = 0; i < s->nexp; i++) {
		free(s->exp[i].policies);
		free(s->exp[i].checks);
	}
	free(s->exp);
	free(s->ev);
	free(s->path);
	free(s->name);
	strtab_free(&s->strings);
	memset(s, 0, sizeof(*s));
}

int scn_parse_text(const char *origin, const char *text, struct scn *s,
                   char *err, size_t errlen)
{
	return scn_parse_text_limits(origin, text, &SCN_LIMITS_DEFAULT, s, err,
	                             errlen);
}

int scn_parse_text_limits(const char *origin, const char *text,
                          const struct scn_limits *lim, struct scn *s,
                          char *err, size_t errlen)
{
	struct ctx c = { .origin = origin, .lim = lim, .s = s, .err = err, .errlen = errlen,
	                 .now = 1000000, .next_addr = 0x7f0000000000ull,
	                 .next_pid = 1000 };
	struct stmt *stmts = NULL;
	size_t nst = 0, capst = 0;
	int r = 0;

	memset(s, 0, sizeof(*s));
	s->swap = true;
	strtab_init(&s->strings);
	s->path = strdup(origin);
	const char *base = strrchr(origin, '/');
	s->name = strdup(base ? base + 1 : origin);
	if (!s->path || !s->name) {
		r = -ENOMEM;
		goto out;
	}

	uint32_t lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (grow_array((void **)&stmts, &capst, nst + 1, sizeof(*stmts),
		               64, false)) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = tokenize(&c, p, len, lineno, &stmts[nst])))
			goto out;
		if (stmts[nst].ntok)
			nst++;
		p += len + (nl ? 1 : 0);
	}

	/* Execute, expanding repeat blocks. */
	struct { size_t start; uint64_t left, total; } stack[16];
	int depth = 0;
	uint64_t steps = 0;
	for (size_t pc = 0; pc < nst; pc++) {
		c.st = &stmts[pc];
		const struct tok *v = &c.st->t[0];
		/* The events cap alone let nested repeats of empty bodies
		 * run for ever (10^16 iterations for two). */
		if (++steps > lim->steps) {
			/* Name the outermost loop: its count multiplies them all. */
			c.st = &stmts[depth ? stack[0].start : pc];
			r = fail_at(&c, c.st->t[0].col, "scenario runs more than %"
			            PRIu64 " statements (repeat counts multiply: lower "
			            "them)", lim->steps);
			goto out;
		}
		if (tok_is(v, "repeat")) {
			uint64_t n;
			if ((r = need(&c, 2, "repeat N")) || (r = no_extra(&c, 2)) ||
			    (r = parse_count(&c, &c.st->t[1], 100000000, &n)))
				goto out;
			if (depth == 16) {
				r = fail_at(&c, v->col, "repeat nested too deep");
				goto out;
			}
			stack[depth].start = pc;
			stack[depth].left = n;
			stack[depth].total = n;
			depth++;
			continue;
		}
		if (tok_is(v, "end")) {
			if ((r = no_extra(&c, 1)))
				goto out;
			if (!depth) {
				r = fail_at(&c, v->col, "'end' without 'repeat'");
				goto out;
			}
			if (--stack[depth - 1].left)
				pc = stack[depth - 1].start;
			else
				depth--;
			continue;
		}
		if (tok_is(v, "expect") && depth) {
			r = fail_at(&c, v->col, "'expect' inside a repeat block");
			goto out;
		}
		/* Inside repeat, "$i" in a word stands for the iteration number
		 * of the innermost repeat (0, 1, ...), so that a loop can name
		 * a process or a mapping per iteration. */
		struct stmt sub;
		char scratch[MAX_TOKENS * 80];
		if (depth && substitute(c.st, &sub, scratch, sizeof(scratch),
		                        stack[depth - 1].total - stack[depth - 1].left))
			c.st = &sub;
		if ((r = run_stmt(&c)))
			goto out;
	}
	if (depth) {
		c.st = &stmts[stack[depth - 1].start];
		r = fail_at(&c, 1, "'repeat' without 'end'");
		goto out;
	}
out:
	free(stmts);
	free(c.procs);
	free(c.vars);
	free(c.handles);
	free(c.heaps);
	if (r) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", origin);
		scn_free(s);
	}
	return r;
}

int scn_parse_file(const char *path, struct scn *s, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len, nul = (size_t)-1;
	int r = read_text_file(path, 64u << 20, "a scenario", &buf, &len, &nul, err,
	                       errlen);
	if (r == -EINVAL && nul != (size_t)-1) {
		/* Name the NUL's line and column, as for any other error. */
		FILE *f = fopen(path, "rb");
		uint32_t line = 1, col = 1;
		for (size_t k = 0; f && k < nul; k++, col++) {
			int ch = fgetc(f);
			if (ch == '\n')
				line++, col = 0;
		}
		if (f)
			fclose(f);
		snprintf(err, errlen, "%s:%u:%u: NUL byte: not a scenario text", path,
		         line, col);
	}
	if (r)
		return r;
	r = scn_parse_text(path, buf, s, err, errlen);
	free(buf);
	return r;
}

bool scn_expect_names(const struct scn_expect *x, const char *policy)
{
	if (!strcmp(x->policies, "all"))
		return true;
	size_t pl = strlen(policy);
	for (const char *p = x->policies; *p;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == pl && !memcmp(p, policy, l))
			return true;
		p += l + (comma ? 1 : 0);
	}
	return false;
}

/* ---- as an event source ---- */

struct scn_src {
	struct ev_source base;
	struct scn s;
	size_t pos;
};

static long scn_next(struct ev_source *src, struct cs_ev *buf, size_t max)
{
	struct scn_src *r = (struct scn_src *)src;
	size_t n = r->s.nev - r->pos;
	if (n > max)
		n = max;
	memcpy(buf, r->s.ev + r->pos, n * sizeof(*buf));
	r->pos += n;
	src->events += n;
	src->bytes_done = r->pos;
	return (long)n;
}

static void scn_close(struct ev_source *src)
{
	struct scn_src *r = (struct scn_src *)src;
	scn_free(&r->s);
	evsrc_fini(src);
	free(r);
}

static const struct ev_source_ops scn_ops = { .next = scn_next, .close = scn_close };

const struct scn *scn_of_source(const struct ev_source *src)
{
	return src->ops == &scn_ops ? &((const struct scn_src *)src)->s : NULL;
}

int scn_open_source(const char *path, struct ev_source **out, char *err,
                    size_t errlen)
{
	struct scn_src *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	int e = scn_parse_file(path, &r->s, err, errlen);
	if (e) {
		free(r);
		return e;
	}
	if ((e = evsrc_init(&r->base, &scn_ops, path, "scenario"))) {
		scn_free(&r->s);
		free(r);
		return e;
	}
	/* The scenario's own table replaces the empty one. */
	strtab_free(&r->base.strings);
	r->base.strings = r->s.strings;
	memset(&r->s.strings, 0, sizeof(r->s.strings));
	r->base.bytes_total = r->s.nev;
	if (!r->s.swap)
		evsrc_meta_set(&r->base, "swap_total_kb", "0");
	evsrc_meta_set(&r->base, "scenario", r->s.name);
	*out = &r->base;
	return 0;
}
