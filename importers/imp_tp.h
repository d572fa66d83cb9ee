/*
 * imp_tp.h - the text of one tracepoint record, as the kernel's trace
 * file, trace-cmd report and perf script print it, to a struct imp_rec.
 *
 * The three tools print an event's body with the event's own print format
 * (kernel text differs only for syscalls, which it prints in its own
 * "sys_mmap(addr: 0, ...)" / "sys_mmap -> 0x..." style), so the body
 * parsers are shared and each front end only cuts its line prefix (comm,
 * pid, cpu, flags, timestamp, event name) in its own way.
 *
 * Also the small text parsers the front ends and the core's markers
 * (imp_marker.c, imp_snap.c) share.  They take explicit end pointers
 * (lines are not NUL-terminated) and never read past them.
 */
#ifndef COWSIM_IMP_TP_H
#define COWSIM_IMP_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "imp_core.h"

enum imp_tp_style {
	TP_PLAIN = 0,   /* "name: body" */
	TP_KENTER,      /* kernel text "sys_mmap(args)" */
	TP_KEXIT,       /* kernel text "sys_mmap -> ret" */
};

/*
 * Fill r (kind and fields; ts/tid/cpu are the caller's) from event name
 * (without any "system:" prefix) and body [b, e).  Returns 0, or -1 if the
 * body of a known event does not parse (the caller counts a bad line).
 * Unknown events get IK_UNKNOWN with the name in r->s.
 */
int imp_tp_parse(const char *name, size_t nlen, enum imp_tp_style style,
                 const char *b, const char *e, struct imp_rec *r);

/* gfp_flags as printed ("GFP_HIGHUSER_MOVABLE|__GFP_ZERO|...") to
 * IMP_GFP_* classes. */
uint64_t imp_tp_gfp_names(const char *s, const char *e);

static inline const char *tp_skip_sp(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p;
}

static inline int tp_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex digits (an optional 0x first) at *p. */
static inline bool tp_hex(const char **p, const char *e, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	const char *d = s;
	int h;
	while (s < e && (h = tp_hexval(*s)) >= 0) {
		if (x >> 60)
			return false;
		x = x << 4 | (unsigned)h;
		s++;
	}
	if (s == d)
		return false;
	*p = s;
	*v = x;
	return true;
}

static inline bool tp_dec(const char **p, const char *e, uint64_t *v)
{
	const char *s = *p, *d = s;
	uint64_t x = 0;
	while (s < e && *s >= '0' && *s <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (unsigned)(*s - '0');
		s++;
	}
	if (s == d)
		return false;
	*p = s;
	*v = x;
	return true;
}

/* The CPU field "[ddd]" of a line: the first "[digits]" after a space
 * (or, ftrace's record-tgid-less layout, a digit) at or after p; NULL if
 * none.  Every tool prints the task before it, so it anchors the line. */
static inline const char *tp_cpu_field(const char *p, const char *e,
                                       bool digit_before)
{
	const char *br = p;
	while ((br = memchr(br, '[', (size_t)(e - br)))) {
		const char *d = br + 1;
		while (d < e && *d >= '0' && *d <= '9')
			d++;
		if (d > br + 1 && d < e && *d == ']' && br > p &&
		    (br[-1] == ' ' || (digit_before && br[-1] >= '0' && br[-1] <= '9')))
			return br;
		br++;
	}
	return NULL;
}

/* 0x-prefixed hex, else decimal (the kernel's syscall style). */
static inline bool tp_num(const char **p, const char *e, uint64_t *v)
{
	const char *s = *p;
	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return tp_hex(p, e, v);
	return tp_dec(p, e, v);
}

/* The literal w at *p (and past it), as the marker grammar has it. */
static inline bool tp_word(const char **p, const char *e, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(e - *p) < n || memcmp(*p, w, n))
		return false;
	*p += n;
	return true;
}

/* "key=" then a number */
static inline bool tp_kvnum(const char **p, const char *e, const char *key,
                            uint64_t *v)
{
	*p = tp_skip_sp(*p, e);
	return tp_word(p, e, key) && tp_num(p, e, v);
}

/* "123.456789" (any number of fraction digits) to ns; "123" as is. */
static inline bool tp_ts(const char **p, const char *e, uint64_t *ns)
{
	uint64_t sec, frac = 0;
	const char *s = *p;
	if (!tp_dec(&s, e, &sec))
		return false;
	if (s < e && *s == '.') {
		s++;
		int digits = 0;
		while (s < e && *s >= '0' && *s <= '9') {
			if (digits < 9) {
				frac = frac * 10 + (unsigned)(*s - '0');
				digits++;
			}
			s++;
		}
		for (; digits < 9; digits++)
			frac *= 10;
		if (sec > UINT64_MAX / 1000000000u - 1)
			return false;
		*ns = sec * 1000000000u + frac;
	} else {
		*ns = sec;
	}
	*p = s;
	return true;
}

#endif
