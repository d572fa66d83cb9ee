/*
 * imp_tp.c - tracepoint bodies in text to records (imp_tp.h).
 *
 * The fields come in the order of each event's print format, so every
 * parser walks forward through the body looking for the next key; values
 * that may hold spaces (comm, filename) are cut at the key that follows
 * them.  Dispatch is on the name's first letter and length: a few
 * comparisons per line, no hashing, no allocation.
 */
#include "imp_tp.h"

#include <string.h>

#define NAME_IS(n, l, lit) ((l) == sizeof(lit) - 1 && !memcmp((n), lit, (l)))

/* The first "key" (e.g. " pid=") in [p, e) at or after p; NULL if none. */
static const char *find(const char *p, const char *e, const char *key)
{
	size_t k = strlen(key);
	if (p >= e || (size_t)(e - p) < k)
		return NULL;
	return memmem(p, (size_t)(e - p), key, k);
}

/* The last occurrence of key in [p, e). */
static const char *rfind(const char *p, const char *e, const char *key)
{
	const char *last = NULL, *q;
	while ((q = find(p, e, key))) {
		last = q;
		p = q + 1;
	}
	return last;
}

/* key at the very start of the body, or after a space. */
static const char *field(const char *b, const char *e, const char *key)
{
	size_t k = strlen(key);
	if ((size_t)(e - b) >= k && !memcmp(b, key, k))
		return b + k;
	char sp[40];
	if (k + 1 >= sizeof(sp))
		return NULL;
	sp[0] = ' ';
	memcpy(sp + 1, key, k + 1);
	const char *q = find(b, e, sp);
	return q ? q + k + 1 : NULL;
}

static bool fnum(const char *b, const char *e, const char *key, uint64_t *v)
{
	const char *p = field(b, e, key);
	return p && tp_num(&p, e, v);
}

/* The hot events print their fields in a fixed order: take "key=" right
 * at *p (after spaces) without searching; the callers fall back to the
 * searching parsers when a line is laid out otherwise. */
#define SEQ(p, e, lit) seq_key(p, e, lit, sizeof(lit) - 1)
static inline bool seq_key(const char **p, const char *e, const char *key,
                           size_t k)
{
	const char *s = tp_skip_sp(*p, e);
	if ((size_t)(e - s) < k || memcmp(s, key, k))
		return false;
	*p = s + k;
	return true;
}

static inline void skip_tok(const char **p, const char *e)
{
	const char *s = *p;
	while (s < e && *s != ' ')
		s++;
	*p = s;
}

/* "address=0x.. ip=0x..|symbol error_code=0x.." */
static bool pf_fast(const char *b, const char *e, struct imp_rec *r)
{
	const char *p = b;
	if (!SEQ(&p, e, "address=") || !tp_num(&p, e, &r->a[0]) ||
	    !SEQ(&p, e, "ip="))
		return false;
	if (!tp_num(&p, e, &r->a[1]) || (p < e && *p != ' ')) {
		r->a[1] = 0;   /* a kernel symbol */
		skip_tok(&p, e);
	}
	return SEQ(&p, e, "error_code=") && tp_num(&p, e, &r->a[2]);
}

/* "page=X pfn=0x.. order=N migratetype=N gfp_flags=NAMES" */
static bool alloc_fast(const char *b, const char *e, struct imp_rec *r)
{
	const char *p = b;
	if (!SEQ(&p, e, "page="))
		return false;
	skip_tok(&p, e);
	if (!SEQ(&p, e, "pfn=") || !tp_num(&p, e, &r->a[0]) ||
	    !SEQ(&p, e, "order=") || !tp_num(&p, e, &r->a[1]) ||
	    !SEQ(&p, e, "migratetype=") || !tp_num(&p, e, &r->a[3]) ||
	    !SEQ(&p, e, "gfp_flags="))
		return false;
	r->a[2] = imp_tp_gfp_names(p, e);
	return true;
}

uint64_t imp_tp_gfp_names(const char *s, const char *e)
{
	uint64_t out = 0;
	bool named = false, nonzero = false;
	while (s < e && *s != ' ') {
		const char *t = s;
		while (s < e && *s != '|' && *s != ' ')
			s++;
		size_t n = (size_t)(s - t);
		if (n && (t[0] == 'G' || t[0] == '_'))
			named = true;
		if (NAME_IS(t, n, "GFP_HIGHUSER_MOVABLE"))
			out |= IMP_GFP_USERMOV;
		else if (NAME_IS(t, n, "__GFP_ZERO"))
			out |= IMP_GFP_ZERO;
		else if (NAME_IS(t, n, "__GFP_WRITE"))
			out |= IMP_GFP_WRITE;
		else if (!named && n && !(n == 1 && t[0] == '0') &&
		         !NAME_IS(t, n, "none") && !NAME_IS(t, n, "0x0"))
			nonzero = true;
		if (s < e && *s == '|')
			s++;
	}
	if (!named && nonzero)
		return IMP_GFP_UNKNOWN;
	return out;
}

/* "name: value, name: value" (format-file style) or the kernel's
 * "name: value" with decimal small values; a quoted string after a value
 * (newer kernels print user strings) is skipped. */
static int sys_args(const char *p, const char *e, struct imp_rec *r)
{
	for (int i = 0; i < 6 && p < e; i++) {
		const char *c = memchr(p, ':', (size_t)(e - p));
		if (!c)
			break;
		p = tp_skip_sp(c + 1, e);
		if (!tp_num(&p, e, &r->a[i]))
			return -1;
		p = tp_skip_sp(p, e);
		if (p < e && *p == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\' && p + 1 < e)
					p++;
			if (p < e)
				p++;
		}
		while (p < e && *p != ',')
			p++;
		if (p < e)
			p++;
	}
	return 0;
}

static int parse_syscall(const char *name, size_t nlen, enum imp_tp_style st,
                         const char *b, const char *e, struct imp_rec *r)
{
	const char *n = name;
	bool enter;
	if (st == TP_KENTER || st == TP_KEXIT) {
		n += 4;   /* "sys_" */
		nlen -= 4;
		enter = st == TP_KENTER;
	} else if (nlen > 10 && !memcmp(name, "sys_enter_", 10)) {
		n += 10;
		nlen -= 10;
		enter = true;
	} else {
		n += 9;   /* "sys_exit_" */
		nlen -= 9;
		enter = false;
	}
	r->nr = imp_syscall_nr(n, nlen);
	r->raw = 0;
	if (enter) {
		r->kind = IK_SYS_ENTER;
		if (r->nr < 0)
			return 0;
		if (st == TP_KENTER && b < e && *b == '(')
			b++;
		return sys_args(b, e, r);
	}
	r->kind = IK_SYS_EXIT;
	if (st == TP_KEXIT) {
		const char *q = find(b, e, "->");
		if (!q)
			return -1;
		b = tp_skip_sp(q + 2, e);
	}
	b = tp_skip_sp(b, e);
	if (b < e && *b == '-') {
		uint64_t v;
		b++;
		if (!tp_dec(&b, e, &v))
			return -1;
		r->a[0] = (uint64_t)-(int64_t)v;
		return 0;
	}
	return tp_num(&b, e, &r->a[0]) ? 0 : -1;
}

/* raw_syscalls: "NR 9 (0, 2000, 3, 22, ffffffff, 0)" / "NR 9 = 1407..." */
static int parse_raw(bool enter, const char *b, const char *e,
                     struct imp_rec *r)
{
	uint64_t nr;
	const char *p = b;
	r->kind = enter ? IK_SYS_ENTER : IK_SYS_EXIT;
	r->raw = 1;
	if (e - p < 3 || memcmp(p, "NR ", 3))
		return -1;
	p += 3;
	if (*p == '-') {
		r->nr = -1;   /* NR -1: a syscall number the kernel rejected */
		return 0;
	}
	if (!tp_dec(&p, e, &nr))
		return -1;
	r->nr = nr <= IMP_NR_MAX ? (int32_t)nr : -1;
	p = tp_skip_sp(p, e);
	if (enter) {
		if (p >= e || *p != '(')
			return -1;
		p++;
		for (int i = 0; i < 6 && p < e; i++) {
			p = tp_skip_sp(p, e);
			if (!tp_hex(&p, e, &r->a[i]))
				return -1;
			p = tp_skip_sp(p, e);
			if (p < e && *p == ',')
				p++;
		}
		return 0;
	}
	if (p >= e || *p != '=')
		return -1;
	p = tp_skip_sp(p + 1, e);
	bool neg = p < e && *p == '-';
	if (neg)
		p++;
	if (!tp_dec(&p, e, &r->a[0]))
		return -1;
	if (neg)
		r->a[0] = (uint64_t)-(int64_t)r->a[0];
	return 0;
}

/* The value of "key=" up to the " next=" key that follows it. */
static bool span(const char *b, const char *e, const char *key,
                 const char *next, const char **s, size_t *len)
{
	const char *p = field(b, e, key);
	if (!p)
		return false;
	const char *q = next ? find(p, e, next) : NULL;
	if (!q)
		q = next ? NULL : e;
	if (!q) {
		/* the following key is missing: the value runs to a space */
		q = p;
		while (q < e && *q != ' ')
			q++;
	}
	*s = p;
	*len = (size_t)(q - p);
	return true;
}

/* A true/false (or numeric) field as 1 or 0; absent, the "not in the
 * record" value its one user, group_dead, needs. */
static bool bool_field(const char *b, const char *e, const char *key,
                       uint64_t *v)
{
	const char *p = field(b, e, key);
	if (!p) {
		*v = IMP_GROUP_DEAD_UNKNOWN;
		return true;
	}
	if (e - p >= 4 && !memcmp(p, "true", 4))
		*v = 1;
	else if (e - p >= 5 && !memcmp(p, "false", 5))
		*v = 0;
	else if (!tp_num(&p, e, v))
		return false;
	else
		*v = *v ? 1 : 0;
	return true;
}

int imp_tp_parse(const char *name, size_t nlen, enum imp_tp_style style,
                 const char *b, const char *e, struct imp_rec *r)
{
	const char *p, *q;

	if (style != TP_PLAIN)
		return nlen > 4 ? parse_syscall(name, nlen, style, b, e, r) : -1;
	switch (name[0]) {
	case 'p':
		if (NAME_IS(name, nlen, "page_fault_user") ||
		    NAME_IS(name, nlen, "page_fault_kernel")) {
			r->kind = nlen == 15 ? IK_PF_USER : IK_PF_KERNEL;
			if (pf_fast(b, e, r))
				return 0;
			if (!fnum(b, e, "address=", &r->a[0]))
				return -1;
			if (!fnum(b, e, "ip=", &r->a[1]))
				r->a[1] = 0;   /* a kernel symbol */
			return fnum(b, e, "error_code=", &r->a[2]) ? 0 : -1;
		}
		if (NAME_IS(name, nlen, "print")) {
			/* "tracing_mark_write: text" (the ip's symbol first) */
			r->kind = IK_PRINT;
			p = b;
			if ((q = field(b, e, "buf=")) && q - b <= 64) {
				p = q;
			} else {
				for (q = b; q < e && q - b < 64 && *q != ' '; q++)
					;
				if (q > b && q < e && q[-1] == ':')
					p = q + 1;
			}
			if (p < e && *p == ' ')
				p++;
			r->s = p;
			r->slen = (size_t)(e - p);
			return 0;
		}
		break;
	case 't':
		if (NAME_IS(name, nlen, "tracing_mark_write")) {
			r->kind = IK_PRINT;
			r->s = b;
			r->slen = (size_t)(e - b);
			return 0;
		}
		if (NAME_IS(name, nlen, "task_newtask")) {
			r->kind = IK_NEWTASK;
			if (!fnum(b, e, "pid=", &r->a[0]))
				return -1;
			p = field(b, e, "clone_flags=");
			if (!p || !tp_hex(&p, e, &r->a[1]))
				return -1;
			if (!span(b, e, "comm=", " clone_flags=", &r->s, &r->slen))
				r->slen = 0;
			return 0;
		}
		if (NAME_IS(name, nlen, "task_rename")) {
			r->kind = IK_RENAME;
			if (!fnum(b, e, "pid=", &r->a[0]))
				return -1;
			return span(b, e, "newcomm=", " oom_score_adj=", &r->s,
			            &r->slen) ? 0 : -1;
		}
		break;
	case 's':
		if (nlen > 14 && !memcmp(name, "sched_process_", 14)) {
			const char *n = name + 14;
			size_t l = nlen - 14;
			if (NAME_IS(n, l, "fork")) {
				r->kind = IK_FORK;
				q = find(b, e, "child_comm=");
				if (!q || !fnum(q, e, "child_pid=", &r->a[1]))
					return -1;
				p = rfind(b, q, "pid=");
				if (!p)
					return -1;
				p += 4;
				if (!tp_num(&p, q, &r->a[0]))
					return -1;
				return span(q, e, "child_comm=", " child_pid=", &r->s,
				            &r->slen) ? 0 : -1;
			}
			if (NAME_IS(n, l, "exec")) {
				r->kind = IK_EXEC;
				q = rfind(b, e, " pid=");
				if (!q || !field(b, q + 1, "filename="))
					return -1;
				p = q + 5;
				if (!tp_num(&p, e, &r->a[0]))
					return -1;
				if (!fnum(q, e, "old_pid=", &r->a[1]))
					r->a[1] = r->a[0];
				r->s = field(b, q + 1, "filename=");
				r->slen = (size_t)(q - r->s);
				return 0;
			}
			if (NAME_IS(n, l, "exit") || NAME_IS(n, l, "free")) {
				r->kind = n[0] == 'e' ? IK_EXIT : IK_FREE;
				q = rfind(b, e, " prio=");
				p = rfind(b, q ? q : e, "pid=");
				if (!p)
					return -1;
				p += 4;
				if (!tp_num(&p, e, &r->a[0]))
					return -1;
				if (r->kind == IK_EXIT &&
				    !bool_field(b, e, "group_dead=", &r->a[1]))
					return -1;
				return 0;
			}
			break;
		}
		if (NAME_IS(name, nlen, "sys_enter"))
			return parse_raw(true, b, e, r);
		if (NAME_IS(name, nlen, "sys_exit"))
			return parse_raw(false, b, e, r);
		if ((nlen > 10 && !memcmp(name, "sys_enter_", 10)) ||
		    (nlen > 9 && !memcmp(name, "sys_exit_", 9)))
			return parse_syscall(name, nlen, style, b, e, r);
		break;
	case 'e':
		if (NAME_IS(name, nlen, "exit_mmap")) {
			r->kind = IK_EXIT_MMAP;
			return 0;
		}
		break;
	case 'm':
		if (NAME_IS(name, nlen, "mm_page_alloc")) {
			r->kind = IK_PAGE_ALLOC;
			if (alloc_fast(b, e, r))
				return 0;
			if (!fnum(b, e, "pfn=", &r->a[0]) ||
			    !fnum(b, e, "order=", &r->a[1]))
				return -1;
			if (!fnum(b, e, "migratetype=", &r->a[3]))
				r->a[3] = UINT64_MAX;
			p = field(b, e, "gfp_flags=");
			if (!p)
				return -1;
			r->a[2] = imp_tp_gfp_names(p, e);
			return 0;
		}
		break;
	default:
		break;
	}
	r->kind = IK_UNKNOWN;
	r->s = name;
	r->slen = nlen;
	return 0;
}
