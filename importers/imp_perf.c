/*
 * imp_perf.c - `perf script` text (reference/tracing.md section 2c).
 *
 * A sample line is  COMM TID [CPU] TIME: SYSTEM:EVENT: BODY  with the
 * default fields, or  COMM PID/TID [CPU] TIME: ...  with -F ...,pid,tid;
 * COMM may hold spaces, so the CPU bracket "[digits]" is the anchor and
 * the pid/tid token is the one before it.  TIME is sec.usec, or sec.nsec
 * with --ns.  Side-band records (--show-task-events, --show-mmap-events,
 * --show-lost-events) share the prefix:
 *   PERF_RECORD_MMAP2 PID/TID: [0xSTART(0xLEN) @ PGOFF MAJ:MIN INO GEN]: PROT PATH
 *   PERF_RECORD_FORK(PID:TID):(PPID:PTID)      PERF_RECORD_EXIT(PID:TID):(..)
 *   PERF_RECORD_COMM[ exec]: COMM:PID/TID      PERF_RECORD_LOST lost N
 * perf records no trace_marker writes, so there are no cowsim markers in
 * this format: MMAP2 records made during an exec stand in for the maps
 * snapshot, and FORK records tell threads from processes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "imp_fe.h"
#include "imp_tp.h"

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

static bool pidpair(const char **p, const char *e, char sep, uint64_t *a,
                    uint64_t *b)
{
	const char *s = *p;
	bool neg = s < e && *s == '-';
	if (neg)
		s++;
	if (!tp_dec(&s, e, a) || s >= e || *s != sep)
		return false;
	if (neg)
		*a = 0;
	s++;
	if (!tp_dec(&s, e, b))
		return false;
	*p = s;
	return true;
}

/* "[0x7ffd03275000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]" */
static int parse_mmap2(const char *p, const char *e, struct imp_rec *r)
{
	uint64_t pid, tid, start, len, pgoff, ino, gen;
	if (!pidpair(&p, e, '/', &pid, &tid))
		return -1;
	if (e - p < 3 || memcmp(p, ": [", 3))
		return -1;
	p += 3;
	if (!tp_hex(&p, e, &start) || p >= e || *p != '(')
		return -1;
	p++;
	if (!tp_hex(&p, e, &len) || e - p < 4 || memcmp(p, ") @ ", 4))
		return -1;
	p += 4;
	if (!tp_num(&p, e, &pgoff))
		return -1;
	p = tp_skip_sp(p, e);
	const char *dev = p;
	while (p < e && *p != ' ')
		p++;
	size_t devlen = (size_t)(p - dev);
	p = tp_skip_sp(p, e);
	if (!tp_dec(&p, e, &ino))
		return -1;
	p = tp_skip_sp(p, e);
	if (!tp_num(&p, e, &gen))
		return -1;
	if (e - p < 8 || memcmp(p, "]: ", 3))
		return -1;
	p += 3;
	const char *perm = p;
	p = tp_skip_sp(p + 4, e);
	r->kind = IK_MMAP2;
	r->tid = (int32_t)tid;
	r->tgid = (int32_t)pid;
	r->a[0] = pid;
	r->a[1] = start;
	r->a[2] = len;
	r->a[3] = pgoff;
	r->a[4] = ino;
	r->a[5] = (perm[0] == 'r' ? EV_PROT_READ : 0) |
	          (perm[1] == 'w' ? EV_PROT_WRITE : 0) |
	          (perm[2] == 'x' ? EV_PROT_EXEC : 0) |
	          (perm[3] == 's' ? EV_MAP_SHARED : 0);
	r->s = p;
	r->slen = (size_t)(e - p);
	r->s2 = dev;
	r->s2len = devlen;
	return 0;
}

static int parse_record(const char *n, size_t nlen, const char *p,
                        const char *e, struct imp_rec *r)
{
	uint64_t a, b, c, d;
#define IS(lit) (nlen == sizeof(lit) - 1 && !memcmp(n, lit, nlen))
	if (IS("PERF_RECORD_MMAP2"))
		return parse_mmap2(tp_skip_sp(p, e), e, r);
	if (IS("PERF_RECORD_FORK") || IS("PERF_RECORD_EXIT")) {
		if (p >= e || *p != '(' || (p++, !pidpair(&p, e, ':', &a, &b)) ||
		    e - p < 3 || memcmp(p, "):(", 3))
			return -1;
		p += 3;
		if (!pidpair(&p, e, ':', &c, &d))
			return -1;
		r->kind = n[12] == 'F' ? IK_PFORK : IK_PEXIT;
		r->a[0] = a;
		r->a[1] = b;
		r->a[2] = c;
		r->a[3] = d;
		return 0;
	}
	if (IS("PERF_RECORD_COMM")) {
		bool exec = e - p > 5 && !memcmp(p, " exec", 5);
		const char *c0 = memchr(p, ':', (size_t)(e - p));
		if (!c0)
			return -1;
		const char *s = tp_skip_sp(c0 + 1, e);
		const char *colon = NULL;
		for (const char *q = s; q < e; q++)
			if (*q == ':')
				colon = q;
		if (!colon)
			return -1;
		const char *q = colon + 1;
		if (!pidpair(&q, e, '/', &a, &b))
			return -1;
		r->kind = IK_PCOMM;
		r->a[0] = a;
		r->a[1] = b;
		r->a[2] = exec;
		r->s = s;
		r->slen = (size_t)(colon - s);
		r->tid = (int32_t)b;
		r->tgid = (int32_t)a;
		return 0;
	}
	if (IS("PERF_RECORD_LOST") || IS("PERF_RECORD_LOST_SAMPLES")) {
		const char *q = e;
		while (q > p && isdig(q[-1]))
			q--;
		if (!tp_dec(&q, e, &a))
			a = 0;
		r->kind = IK_DROPPED;
		r->a[0] = r->cpu;
		r->a[1] = a;
		return 0;
	}
#undef IS
	r->kind = IK_UNKNOWN;
	r->s = n;
	r->slen = nlen;
	return 0;
}

static int parse_line(const char *line, size_t len, struct imp_rec *r)
{
	const char *e = line + len, *p = line;
	if (!len || *p == '#')
		return 0;
	const char *cpu_open = tp_cpu_field(p, e, false);
	if (!cpu_open)
		return -1;
	const char *q = cpu_open;
	while (q > p && q[-1] == ' ')
		q--;
	const char *pe = q;
	while (q > p && (isdig(q[-1]) || q[-1] == '/' || q[-1] == '-'))
		q--;
	if (q == pe || (q > p && q[-1] != ' '))
		return -1;
	uint64_t pid = 0, tid;
	const char *t = q;
	const char *slash = memchr(q, '/', (size_t)(pe - q));
	if (slash) {
		if (!tp_dec(&t, slash, &pid))
			pid = 0;
		t = slash + 1;
	}
	bool neg = t < pe && *t == '-';
	if (neg)
		t++;
	if (!tp_dec(&t, pe, &tid) || t != pe || tid > INT32_MAX ||
	    pid > INT32_MAX)
		return -1;
	memset(r, 0, sizeof(*r));
	r->tid = neg ? -1 : (int32_t)tid;
	r->tgid = (int32_t)pid;
	r->irq = -1;
	uint64_t cpu = 0;
	t = cpu_open + 1;
	tp_dec(&t, e, &cpu);
	r->cpu = (uint16_t)cpu;
	p = tp_skip_sp(t + 1, e);
	const char *ts = p;
	while (p < e && *p != ' ' && *p != ':')
		p++;
	if (p >= e || *p != ':')
		return -1;
	if (!tp_ts(&ts, p, &r->ts) || ts != p)
		return -1;
	p = tp_skip_sp(p + 1, e);
	/* "system:event: body" or "PERF_RECORD_X ..." */
	const char *n = p;
	while (p < e && *p != ' ' && !(*p == ':' && (p + 1 == e || p[1] == ' ')) &&
	       *p != '(')
		p++;
	if (p == n)
		return -1;
	if (p - n > 12 && !memcmp(n, "PERF_RECORD_", 12))
		return parse_record(n, (size_t)(p - n), p, e, r) ? -1 : 1;
	if (p >= e || *p != ':')
		return -1;
	const char *body = tp_skip_sp(p + 1, e);
	const char *nm = n;
	for (const char *c = n; c < p; c++)
		if (*c == ':')
			nm = c + 1;
	if (nm == p)
		return -1;
	return imp_tp_parse(nm, (size_t)(p - nm), TP_PLAIN, body, e, r) ? -1 : 1;
}

int imp_perf_open(const char *path, struct imp_fe **out, char *err,
                  size_t errlen)
{
	return imp_text_open(path, parse_line, "not a perf script line", 1, out, err, errlen);
}
