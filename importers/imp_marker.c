/*
 * imp_marker.c - trace_marker text in the importer core: the `cowsim:`
 * grammar of docs/trace-markers.md.
 *
 * The launcher and the test programs write markers through trace_marker;
 * they arrive as print records from any task - outside the selected tree
 * too, and from the idle task - and are kept whoever wrote them, since they
 * never change the engine's state.  Each is sorted here by its verb: maps
 * and pagemap go to imp_snap.c, meta facts to the source's metadata;
 * phases, expects and any text that is not `cowsim:` become EV_MARKER
 * events.  A `cowsim:` marker that does not parse is counted and warned
 * about, never guessed at.
 *
 * Two of the parsers also serve the probe that reads the head of a trace
 * before the stream starts (imp_src.c): a snapshot's begin, which names the
 * default process tree, and meta facts, which the replay needs before its
 * first event (swap_total_kb).
 */
#include "imp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imp_tp.h"

int imp_marker_snapshot_begin(const char *s, size_t len, uint32_t *pid)
{
	const char *p = s, *e = s + len;
	uint64_t v;
	while (e > p && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	if (!tp_word(&p, e, "cowsim: maps") || !tp_kvnum(&p, e, "pid=", &v) ||
	    v > INT32_MAX)
		return 0;
	p = tp_skip_sp(p, e);
	if (e - p != 5 || memcmp(p, "begin", 5))
		return 0;
	*pid = (uint32_t)v;
	return 1;
}

int imp_marker_meta(struct ev_source *src, const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	while (e > p && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	if (!tp_word(&p, e, "cowsim: meta "))
		return 0;
	p = tp_skip_sp(p, e);
	const char *eq = memchr(p, '=', (size_t)(e - p));
	if (!eq || eq == p || eq - p > 64)
		return -EINVAL;
	char k[65], *v = strndup(eq + 1, (size_t)(e - eq - 1));
	if (!v)
		return -ENOMEM;
	memcpy(k, p, (size_t)(eq - p));
	k[eq - p] = 0;
	int rc = evsrc_meta_set(src, k, v);
	free(v);
	return rc ? -ENOMEM : 1;
}

static void marker_bad(struct imp_core *c, const char *s, size_t len)
{
	c->st.bad_markers++;
	imp_core_warn(c, WARN_MARKER, "bad cowsim marker skipped: '%.*s'",
	              (int)(len > 120 ? 120 : len), s);
}

static void marker_event(struct imp_core *c, const struct imp_rec *r,
                         struct imp_task *w, const char *s, size_t len)
{
	struct cs_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts = r->ts;
	ev.cpu = r->cpu;
	ev.tid = r->tid > 0 ? (uint32_t)r->tid : 0;
	ev.tgid = w ? w->tgid : ev.tid;
	ev.type = EV_MARKER;
	ev.arg = imp_intern(c, s, len);
	c->st.markers++;
	imp_out_push(c, &ev);
}

void imp_on_print(struct imp_core *c, const struct imp_rec *r,
                  struct imp_task *w)
{
	const char *s = r->s, *e = r->s + r->slen;
	while (e > s && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == 0))
		e--;
	size_t len = (size_t)(e - s);
	const char *p = s;

	if (!tp_word(&p, e, "cowsim: ")) {
		marker_event(c, r, w, s, len);
		return;
	}
	if (tp_word(&p, e, "maps ")) {
		if (imp_snap_marker(c, r, p, e))
			marker_bad(c, s, len);
		return;
	}
	if (tp_word(&p, e, "pagemap ")) {
		if (imp_pagemap_marker(c, r, p, e))
			marker_bad(c, s, len);
		return;
	}
	if (tp_word(&p, e, "meta ")) {
		int rc = imp_marker_meta(c->src, s, len);
		if (rc == -ENOMEM)
			c->oom = 1;
		else if (rc != 1)
			marker_bad(c, s, len);
		else
			c->st.meta++;
		return;
	}
	if (tp_word(&p, e, "phase ") || tp_word(&p, e, "expect ")) {
		marker_event(c, r, w, s, len);
		return;
	}
	marker_bad(c, s, len);   /* docs/trace-markers.md: an unknown verb */
}
