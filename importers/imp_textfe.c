/*
 * imp_textfe.c - what the text front ends share: a line source
 * (imp_lines), a parser per format (imp_ftrace.c, imp_perf.c), and the
 * handling of lines that are not trace lines.  Also the record batches
 * the front ends that run ahead fill (imp_fe.h).
 *
 * A bad line is a record (IK_BAD) rather than a call into the core, so
 * that the parser can run in a thread of its own and the core still sees
 * every complaint in order, with its line number.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imp_fe.h"
#include "imp_lines.h"

#define BAD_LINES_TOLERATED 1000u
/* bytes_done (the progress line) is refreshed every 1024 good records:
 * under a batch (IMP_BATCH), so each batch carries its own position, and
 * rarely enough that imp_lines_pos()'s division costs nothing. */
#define PROGRESS_MASK 0x3ffu

struct text_fe {
	struct imp_fe fe;
	struct imp_lines L;
	imp_line_parser parse;
	const char *what;
};

void imp_batch_put(struct imp_batch *b, const struct imp_rec *r,
                   uint64_t where)
{
	struct imp_rec *x = &b->r[b->n];
	*x = *r;
	if (x->slen) {
		size_t n = x->slen > IMP_BATCH_STR ? IMP_BATCH_STR : x->slen;
		memcpy(b->arena + b->used, x->s, n);
		x->s = b->arena + b->used;
		x->slen = n;
		b->used += (uint32_t)n;
	}
	if (x->s2len) {
		size_t n = x->s2len > IMP_BATCH_STR ? IMP_BATCH_STR : x->s2len;
		memcpy(b->arena + b->used, x->s2, n);
		x->s2 = b->arena + b->used;
		x->s2len = n;
		b->used += (uint32_t)n;
	}
	b->where[b->n++] = where;
}

/* A line that did not parse: count it and make r an IK_BAD record (the
 * core counts and warns); -EINVAL once most of the input is like that. */
static int bad_line(struct imp_fe *fe, const char *path, const char *line,
                    size_t len, const char *what, struct imp_rec *r)
{
	fe->bad++;
	if (fe->bad > BAD_LINES_TOLERATED && fe->bad > fe->good) {
		snprintf(fe->err, sizeof(fe->err), "%s:%" PRIu64 ": %s; %" PRIu64
		         " of the lines so far are not trace lines: not a %s trace?",
		         path, fe->where, what, fe->bad,
		         fe->perf ? "perf script" : "ftrace");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->kind = IK_BAD;
	r->tid = -1;
	r->irq = -1;
	r->s = line;
	r->slen = len > 100 ? 100 : len;
	r->s2 = what;
	r->s2len = strlen(what);
	return 1;
}

static int text_read(struct imp_fe *fe, struct imp_rec *r)
{
	struct text_fe *f = (struct text_fe *)fe;
	const char *line;
	size_t len;

	for (;;) {
		int rc = imp_lines_next(&f->L, &line, &len, fe->err,
		                        sizeof(fe->err));
		fe->where = f->L.lineno;
		if (rc <= 0) {
			fe->bytes_done = imp_lines_pos(&f->L);
			return rc;
		}
		if (rc == 2)
			return bad_line(fe, f->L.path, line, len,
			                "overlong line (no newline in 64 KiB)", r);
		rc = f->parse(line, len, r);
		if (rc > 0) {
			fe->good++;
			if ((fe->good & PROGRESS_MASK) == 0)
				fe->bytes_done = imp_lines_pos(&f->L);
			return 1;
		}
		if (rc < 0)
			return bad_line(fe, f->L.path, line, len, f->what, r);
	}
}

static int text_rewind(struct imp_fe *fe)
{
	struct text_fe *f = (struct text_fe *)fe;
	fe->good = fe->bad = 0;
	return imp_lines_rewind(&f->L, fe->err, sizeof(fe->err));
}

static void text_close(struct imp_fe *fe)
{
	struct text_fe *f = (struct text_fe *)fe;
	imp_lines_close(&f->L);
	free(f);
}

static const struct imp_fe_ops text_ops = {
	.read = text_read, .rewind = text_rewind, .close = text_close,
};

int imp_text_open(const char *path, imp_line_parser parse, const char *what,
                  int perf, struct imp_fe **out, char *err, size_t errlen)
{
	struct text_fe *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	int rc = imp_lines_open(&f->L, path, err, errlen);
	if (rc) {
		free(f);
		return rc;
	}
	f->parse = parse;
	f->what = what;
	f->fe.ops = &text_ops;
	f->fe.unit = "line";
	f->fe.has_alloc = -1;
	f->fe.ahead = 1;
	f->fe.perf = perf;
	f->fe.bytes_total = f->L.bytes_total;
	*out = &f->fe;
	return 0;
}
