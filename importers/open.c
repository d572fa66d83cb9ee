/*
 * open.c - open a trace as an event source: detect its format, then hand it
 * to the reader of that format.
 *
 * Detection goes by content, not by name, except for scenarios: the event
 * file and trace.dat by their magic numbers, text (plain or zstd) by what
 * its first lines look like (imp_detect_text()).
 */
#include "open.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evfile.h"
#include "imp_fe.h"
#include "imp_lines.h"
#include "scn.h"
#include "../lib/suggest.h"

/* The first ten bytes of every trace.dat (trace-cmd.dat(5)). */
#define DAT_MAGIC "\x17\x08\x44" "tracing"

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

const char *const evsrc_formats[] = { "events", "dat", "scenario", "ftrace",
                                      "perf", NULL };

const char *evsrc_detect(const char *path, const unsigned char *head, size_t n)
{
	if (n >= 8 && !memcmp(head, EVF_MAGIC, 8))
		return "events";
	if (n >= sizeof(DAT_MAGIC) - 1 &&
	    !memcmp(head, DAT_MAGIC, sizeof(DAT_MAGIC) - 1))
		return "dat";
	if (ends_with(path, ".scn"))
		return "scenario";
	/* Text, perhaps zstd-compressed: look at the (decompressed) head. */
	char buf[16384];
	size_t k = imp_lines_peek(path, buf, sizeof(buf));
	if (k)
		return imp_detect_text(buf, k);
	return NULL;
}

int evsrc_open(const char *path, const struct evsrc_opts *opts,
               struct ev_source **out, char *err, size_t errlen)
{
	const char *fmt = opts ? opts->format : NULL;

	if (!fmt) {
		unsigned char head[64];
		FILE *f = fopen(path, "rb");
		if (!f) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			return -e;
		}
		size_t n = fread(head, 1, sizeof(head), f);
		fclose(f);
		fmt = evsrc_detect(path, head, n);
		if (!fmt) {
			snprintf(err, errlen, "%s: unknown trace format (use --input-format)", path);
			return -EINVAL;
		}
	}
	if (!strcmp(fmt, "events"))
		return evf_open_source(path, out, err, errlen);
	if (!strcmp(fmt, "scenario"))
		return scn_open_source(path, out, err, errlen);
	if (!strcmp(fmt, "dat") || !strcmp(fmt, "ftrace") || !strcmp(fmt, "perf"))
		return imp_open_source(path, fmt, opts, out, err, errlen);
	struct suggest sg;
	char near[128];
	suggest_init(&sg, fmt);
	for (const char *const *f = evsrc_formats; *f; f++)
		suggest_add(&sg, *f);
	snprintf(err, errlen, "%s: no input format '%s'%s (events, dat, scenario, "
	         "ftrace, perf)", path, fmt,
	         suggest_format(&sg, NULL, near, sizeof(near)));
	return -EINVAL;
}
