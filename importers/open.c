/*
 * open.c - open a trace as an event source: undo its compression, detect
 * its format, then hand it to the reader of that format.
 *
 * Detection goes by content, not by name, except for scenarios (by their
 * .scn name; from stdin, by a first statement `scenario` or `process`):
 * first the compression (gzip, xz, zstd: zin.h) by its magic number, then,
 * in the decompressed head, the event file and trace.dat by their magic
 * numbers, text by what its first lines look like (imp_detect_text()).
 *
 * Where the bytes come from decides how they are read.  A regular file is
 * read in place; compressed text is decompressed as it streams
 * (imp_lines.c), while compressed trace.dat, event files and scenarios -
 * read at offsets, or whole - are first decompressed into an unlinked
 * temporary file (zin_spool()).  Stdin ("-") and other unseekable inputs
 * (a FIFO) are copied into such a file as they come: every reader reads
 * a trace's head twice (the importers' probe, then the stream), so none
 * can read a pipe once.  The reader then opens the temporary file through
 * /proc/self/fd and the source is renamed after the input, so that
 * messages name what the user named.
 */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evfile.h"
#include "imp_fe.h"
#include "scn.h"
#include "../lib/suggest.h"
#include "zin.h"
#include "../lib/progress.h"

/* The first ten bytes of every trace.dat (trace-cmd.dat(5)). */
#define DAT_MAGIC "\x17\x08\x44" "tracing"
#define HEAD_MAX 16384
#define STDIN_NAME "<stdin>"

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

const char *const evsrc_formats[] = { "events", "dat", "scenario", "ftrace",
                                      "perf", NULL };
/* A scenario without its name (stdin): its first statement is
 * `scenario "..."` or `process NAME` - two words, where a perf script line
 * of a task called "process" has a dozen. */
static int scn_head(const char *p, size_t n)
{
	const char *e = p + n;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		if (p < le && *p != '#') {
			size_t len = (size_t)(le - p);
			if (len > 9 && !memcmp(p, "scenario ", 9))
				return 1;
			if (len <= 8 || memcmp(p, "process ", 8))
				return 0;
			int words = 0;
			for (const char *q = p; q < le && *q != '#'; q++)
				words += (*q != ' ' && *q != '\t') &&
				         (q == p || q[-1] == ' ' || q[-1] == '\t');
			return words == 2;
		}
		p = nl ? nl + 1 : e;
	}
	return 0;
}

const char *evsrc_detect(const char *path, const unsigned char *head, size_t n)
{
	if (n >= 8 && !memcmp(head, EVF_MAGIC, 8))
		return "events";
	if (n >= sizeof(DAT_MAGIC) - 1 &&
	    !memcmp(head, DAT_MAGIC, sizeof(DAT_MAGIC) - 1))
		return "dat";
	if (ends_with(path, ".scn") || ends_with(path, ".scn.gz") ||
	    ends_with(path, ".scn.xz") || ends_with(path, ".scn.zst") ||
	    (!strcmp(path, STDIN_NAME) && scn_head((const char *)head, n)))
		return "scenario";
	return imp_detect_text((const char *)head, n);
}

/* The first (decompressed) bytes of fd, which is at offset 0; a message
 * in err (else "") if the stream broke before len bytes. */
static size_t read_head(int fd, enum zin_kind kind, const char *name,
                        unsigned char *buf, size_t len, char *err,
                        size_t errlen)
{
	struct zin z;
	size_t n = 0;
	err[0] = 0;
	if (zin_open(&z, fd, kind, name, err, errlen))
		return 0;
	while (n < len) {
		ssize_t k = zin_read(&z, buf + n, len - n, err, errlen);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	zin_close(&z);
	return n;
}

static int open_fmt(const char *path, const char *fmt,
                    const struct evsrc_opts *opts, struct ev_source **out,
                    char *err, size_t errlen)
{
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

/* Replace fd by a spooled copy of it (decompressed per kind).  Returns 0
 * or a negative errno with a message. */
static int spool_to_tmpfile(int *fd, enum zin_kind kind, const char *name,
                 uint64_t size, const struct evsrc_opts *opts, char *err,
                 size_t errlen)
{
	struct progress pg;
	progress_init(&pg, progress_wanted(opts ? opts->quiet : 0), name,
	              kind ? "bytes decompressed" : "bytes read");
	/* a pipe is copied from where it is; a file to decompress, from 0 */
	if (kind && lseek(*fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot seek: %s", name, strerror(errno));
		return -EIO;
	}
	int t = zin_spool(*fd, kind, name, size, &pg, err, errlen);
	if (t < 0)
		return t;
	close(*fd);
	*fd = t;
	return 0;
}

int evsrc_open(const char *path, const struct evsrc_opts *opts,
               struct ev_source **out, char *err, size_t errlen)
{
	const char *fmt = opts ? opts->format : NULL;
	bool in = !strcmp(path, "-");
	const char *name = in ? STDIN_NAME : path;
	bool via_fd = false;
	unsigned char head[HEAD_MAX];
	struct stat st;
	int fd, rc;

	fd = in ? fcntl(0, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", name, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		if ((rc = spool_to_tmpfile(&fd, ZIN_NONE, name, 0, opts, err, errlen)))
			goto out;
		via_fd = true;
	} else if (in) {
		via_fd = true;   /* a redirected file: read it as it is */
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		goto out;
	}
	unsigned char magic[ZIN_MAGIC_MAX];
	ssize_t m = pread(fd, magic, sizeof(magic), 0);
	enum zin_kind kind = zin_sniff(magic, m > 0 ? (size_t)m : 0);
	if (!fmt) {
		size_t n = read_head(fd, kind, name, head, sizeof(head), err, errlen);
		fmt = evsrc_detect(name, head, n);
		if (!fmt) {
			/* a stream too broken to show its head says so; else the
			 * error comes when the reader reaches it */
			if (!err[0])
				snprintf(err, errlen, "%s: unknown trace format (use "
				         "--input-format)", name);
			rc = -EINVAL;
			goto out;
		}
	}
	/* Text streams through its decompressor; the rest is read at
	 * offsets or whole, so it is decompressed first. */
	if (kind && strcmp(fmt, "ftrace") && strcmp(fmt, "perf")) {
		if ((rc = spool_to_tmpfile(&fd, kind, name, (uint64_t)st.st_size, opts, err,
		                errlen)))
			goto out;
		via_fd = true;
	}
	if (!via_fd) {
		rc = open_fmt(path, fmt, opts, out, err, errlen);
		goto out;
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rc = open_fmt(proc, fmt, opts, out, err, errlen);
	if (rc) {
		evsrc_msg_rename(err, errlen, proc, name);
	} else {
		char *p = strdup(name);
		if (!p) {
			evsrc_close(*out);
			snprintf(err, errlen, "%s: out of memory", name);
			rc = -ENOMEM;
			goto out;
		}
		free((*out)->path);
		(*out)->path = p;
		imp_source_opened_as(*out, proc);
	}
out:
	/* The reader holds the file open by itself (trace.dat's reader
	 * process opened it before imp_open_source() returned). */
	close(fd);
	return rc;
}
