/*
 * imp_ftrace.c - ftrace text: the kernel's trace / trace_pipe files and
 * `trace-cmd report` output (reference/tracing.md section 2).
 *
 * A line is  [INSTANCE:] COMM-PID [(TGID)] [CPU] [FLAGS] TIMESTAMP: EVENT: BODY
 * where COMM may hold spaces and dashes, (TGID) comes with the record-tgid
 * option, FLAGS (irqs-off, need-resched, hardirq/softirq, preempt depth,
 * migrate) with irq-info, and the timestamp is sec.usec or, with -t,
 * sec.nsec.  The CPU field "[ddd]" is the anchor: the first "[digits]"
 * preceded by a pid is found from the left, and everything else is cut
 * around it.  Kernel text prints syscalls as "sys_mmap(args)" and
 * "sys_mmap -> ret"; trace-cmd prints "sys_enter_mmap: args".  Header
 * lines ("#...", "cpus=N") are skipped; "CPU:N [K EVENTS DROPPED]", the
 * kernel's "CPU:N [LOST K EVENTS]" and an entries-in-buffer count below
 * entries-written become loss records.
 *
 * Shaped for throughput (5 M lines/s and up): one memchr for the CPU
 * bracket, hand-written number parsing, no copies of the line.
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

/* Loss lines: "CPU:1 [226 EVENTS DROPPED]", "CPU:1 [LOST 226 EVENTS]". */
static int parse_lost(const char *p, const char *e, struct imp_rec *r)
{
	uint64_t cpu, n = 0;
	p += 4;
	if (!tp_dec(&p, e, &cpu))
		return -1;
	p = tp_skip_sp(p, e);
	if (p >= e || *p != '[')
		return -1;
	p++;
	if (e - p > 5 && !memcmp(p, "LOST ", 5))
		p += 5;
	if (!tp_dec(&p, e, &n))
		n = 0;
	memset(r, 0, sizeof(*r));
	r->kind = IK_DROPPED;
	r->tid = -1;
	r->irq = -1;
	r->a[0] = cpu;
	r->a[1] = n;
	return 1;
}

/* "# entries-in-buffer/entries-written: 13544/13544   #P:2" */
static int parse_header(const char *p, const char *e, struct imp_rec *r)
{
	static const char key[] = "# entries-in-buffer/entries-written: ";
	uint64_t a, b;
	if ((size_t)(e - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1))
		return 0;
	p += sizeof(key) - 1;
	if (!tp_dec(&p, e, &a) || p >= e || *p != '/' || (p++, !tp_dec(&p, e, &b)))
		return 0;
	if (a >= b)
		return 0;
	/* The ring buffer overwrote its oldest events. */
	memset(r, 0, sizeof(*r));
	r->kind = IK_DROPPED;
	r->tid = -1;
	r->irq = -1;
	r->a[0] = UINT64_MAX;
	r->a[1] = b - a;
	return 1;
}

/*
 * One line.  Returns 1 with a record, 0 for a line that is not an event
 * (header, comment, blank), -1 for garbage.
 */
static int parse_line(const char *line, size_t len, struct imp_rec *r)
{
	const char *e = line + len, *p = line;

	if (!len)
		return 0;
	if (*p == '#')
		return parse_header(p, e, r);
	if (len > 5 && !memcmp(p, "cpus=", 5))
		return 0;
	if (len > 4 && !memcmp(p, "CPU:", 4) && isdig(p[4]))
		return parse_lost(p, e, r);
	if (*p != ' ') {
		/* "name:" of a trace-cmd instance buffer (a comm is always
		 * right-aligned, so it starts with a space). */
		const char *q = p;
		while (q < e && *q != ' ')
			q++;
		if (q > p && q[-1] == ':' && q < e)
			p = q;
	}
	/* The CPU bracket: "[digits]" with a pid (or "(tgid)") before it. */
	const char *cpu_open = tp_cpu_field(p, e, true);
	if (!cpu_open)
		return -1;
	const char *q = cpu_open;
	while (q > p && q[-1] == ' ')
		q--;
	int32_t tgid = 0;
	if (q > p && q[-1] == ')') {
		const char *o = q - 1;
		while (o > p && *o != '(')
			o--;
		if (*o != '(')
			return -1;
		const char *t = tp_skip_sp(o + 1, q - 1);
		uint64_t v;
		if (t < q - 1 && isdig(*t) && tp_dec(&t, q - 1, &v) && v <= INT32_MAX)
			tgid = (int32_t)v;
		q = o;
		while (q > p && q[-1] == ' ')
			q--;
	}
	const char *pe = q;
	while (q > p && isdig(q[-1]))
		q--;
	if (q == pe || q == p || q[-1] != '-')
		return -1;
	uint64_t tid;
	const char *t = q;
	if (!tp_dec(&t, pe, &tid) || tid > INT32_MAX)
		return -1;

	memset(r, 0, sizeof(*r));
	r->tid = (int32_t)tid;
	r->tgid = tgid;
	r->irq = -1;
	uint64_t cpu = 0;
	t = cpu_open + 1;
	tp_dec(&t, e, &cpu);
	r->cpu = (uint16_t)cpu;
	p = tp_skip_sp(t + 1, e);

	/* FLAGS (irq-info) or the timestamp. */
	const char *tok = p;
	while (p < e && *p != ' ')
		p++;
	if (p == tok)
		return -1;
	if (p[-1] != ':') {
		if (p - tok >= 4) {
			int irq = tok[0] == 'd' || tok[0] == 'D' ? IMP_IRQ_OFF : 0;
			if (tok[2] == 'h')
				irq |= IMP_IRQ_HARD;
			else if (tok[2] == 's')
				irq |= IMP_IRQ_SOFT;
			else if (tok[2] == 'H')
				irq |= IMP_IRQ_HARD | IMP_IRQ_SOFT;
			r->irq = (int16_t)irq;
		}
		p = tp_skip_sp(p, e);
		tok = p;
		while (p < e && *p != ' ')
			p++;
		if (p == tok || p[-1] != ':')
			return -1;
	}
	const char *ts = tok;
	if (!tp_ts(&ts, p - 1, &r->ts) || ts != p - 1)
		return -1;
	p = tp_skip_sp(p, e);

	/* EVENT: "name:", "sys_x(" or "sys_x ->" */
	const char *n = p;
	while (p < e && (isdig(*p) || (*p >= 'a' && *p <= 'z') ||
	                 (*p >= 'A' && *p <= 'Z') || *p == '_'))
		p++;
	size_t nlen = (size_t)(p - n);
	if (!nlen || p >= e)
		return -1;
	enum imp_tp_style st = TP_PLAIN;
	const char *body;
	if (*p == ':') {
		body = tp_skip_sp(p + 1, e);
	} else if (*p == '(' && nlen > 4 && !memcmp(n, "sys_", 4)) {
		st = TP_KENTER;
		body = p;
		if (e > body && e[-1] == ')')
			e--;
	} else if (*p == ' ' && e - p > 3 && p[1] == '-' && p[2] == '>' &&
	           nlen > 4 && !memcmp(n, "sys_", 4)) {
		st = TP_KEXIT;
		body = p;
	} else {
		return -1;
	}
	return imp_tp_parse(n, nlen, st, body, e, r) ? -1 : 1;
}

int imp_ftrace_open(const char *path, struct imp_fe **out, char *err,
                    size_t errlen)
{
	return imp_text_open(path, parse_line, "not an ftrace event line", 0, out, err, errlen);
}
