/*
 * imp_lines.c - streamed lines of plain or compressed text (imp_lines.h).
 *
 * The buffer is refilled by moving the unread tail to the front and
 * reading behind it, so a line never straddles a refill; memchr finds the
 * newline.  At tens of MB/s of trace text this loop is the importers'
 * floor, so it touches each byte once and allocates nothing after open.
 */
#include "imp_lines.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_DROP (64u << 20)

static int start(struct imp_lines *l, char *err, size_t errlen)
{
	unsigned char head[ZIN_MAGIC_MAX];
	ssize_t n;

	while ((n = pread(l->fd, head, sizeof(head), 0)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", l->path, strerror(errno));
		return -EIO;
	}
	enum zin_kind kind = zin_sniff(head, (size_t)n);
	l->start = l->end = 0;
	l->eof = l->skipping = false;
	l->lineno = 0;
	l->fill_lo = l->fill_hi = 0;
	l->fill_at = 0;
	if (kind == ZIN_NONE && l->bytes_total > 2 * IMP_LINE_MAX && !l->map) {
		void *m = mmap(NULL, l->bytes_total, PROT_READ, MAP_PRIVATE, l->fd, 0);
		if (m != MAP_FAILED) {
			madvise(m, l->bytes_total, MADV_SEQUENTIAL);
			l->map = m;
			l->maplen = l->bytes_total;
		}
	}
	if (l->map) {
		l->dropped = 0;
		l->start = 0;
		l->end = l->maplen;
		l->eof = true;
		return 0;
	}
	if (!l->buf && !(l->buf = malloc(l->cap)))
		return -ENOMEM;
	if (kind != ZIN_NONE && l->cap < IMP_LINES_BUF) {
		char *nb = realloc(l->buf, IMP_LINES_BUF);
		if (!nb)
			return -ENOMEM;
		l->buf = nb;
		l->cap = IMP_LINES_BUF;
	}
	zin_close(&l->z);
	int rc = zin_open(&l->z, l->fd, kind, l->path, err, errlen);
	if (!rc)
		rc = zin_rewind(&l->z, err, errlen);
	return rc;
}

int imp_lines_open(struct imp_lines *l, const char *path, char *err,
                   size_t errlen)
{
	struct stat st;
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!fstat(l->fd, &st))
		l->bytes_total = (uint64_t)st.st_size;
	/* A small plain file needs no more than itself (and the fuzz targets
	 * open thousands of small files a second). */
	l->cap = IMP_LINES_BUF;
	if (l->bytes_total && l->bytes_total + 1 < IMP_LINES_BUF)
		l->cap = l->bytes_total + 1 > 2 * IMP_LINE_MAX ?
		         (size_t)l->bytes_total + 1 : 2 * IMP_LINE_MAX;
	int rc = start(l, err, errlen);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		imp_lines_close(l);
	}
	return rc;
}

int imp_lines_rewind(struct imp_lines *l, char *err, size_t errlen)
{
	return start(l, err, errlen);
}

void imp_lines_close(struct imp_lines *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	zin_close(&l->z);
	free(l->buf);
	if (l->map)
		munmap(l->map, l->maplen);
	l->map = NULL;
	l->buf = NULL;
}

/* Append decompressed or raw bytes behind l->end.  Returns 0, or a
 * negative errno with a message. */
static int fill(struct imp_lines *l, char *err, size_t errlen)
{
	if (l->start) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->start = 0;
	}
	char msg[512];
	l->fill_lo = zin_pos(&l->z);
	l->fill_at = l->end;
	ssize_t k = zin_read(&l->z, l->buf + l->end, l->cap - l->end, msg,
	                     sizeof(msg));
	if (k < 0) {
		snprintf(err, errlen, "%s (after line %" PRIu64 ")", msg, l->lineno);
		return (int)k;
	}
	if (k == 0)
		l->eof = true;
	l->end += (size_t)k;
	l->fill_hi = zin_pos(&l->z);
	return 0;
}

uint64_t imp_lines_pos(const struct imp_lines *l)
{
	if (l->map)
		return l->start;
	if (l->start <= l->fill_at || l->end <= l->fill_at)
		return l->fill_lo;
	return l->fill_lo + (l->fill_hi - l->fill_lo) * (l->start - l->fill_at) /
	                    (l->end - l->fill_at);
}

int imp_lines_next(struct imp_lines *l, const char **line, size_t *len,
                   char *err, size_t errlen)
{
	for (;;) {
		char *p = (l->map ? l->map : l->buf) + l->start;
		size_t avail = l->end - l->start;
		char *nl = avail ? memchr(p, '\n', avail) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - p);
			l->start += n + 1;
			l->lineno++;
			if (l->skipping) {
				l->skipping = false;
				continue;
			}
			if (n > IMP_LINE_MAX) {
				/* only a mapped file gets here: same rule */
				*line = p;
				*len = 80;
				return 2;
			}
			if (n && p[n - 1] == '\r')
				n--;
			if (l->map && (size_t)(p - l->map) - l->dropped > MAP_DROP) {
				/* Lines behind this one are done with: let their pages
				 * go from our mapping, so that memory stays flat
				 * however long the file (the page cache keeps them). */
				size_t upto = (size_t)(p - l->map) & ~(size_t)4095;
				madvise(l->map + l->dropped, upto - l->dropped, MADV_DONTNEED);
				l->dropped = upto;
			}
			*line = p;
			*len = n;
			return 1;
		}
		if (l->eof) {
			if (!avail)
				return 0;
			/* A last line without its newline. */
			l->start = l->end;
			l->lineno++;
			if (l->skipping) {
				l->skipping = false;
				return 0;
			}
			*line = p;
			*len = avail;
			return 1;
		}
		if (avail >= IMP_LINE_MAX) {
			/* No newline in 64 KiB: not a trace line.  Hand out its
			 * head once and drop the rest up to the next newline. */
			bool was = l->skipping;
			l->skipping = true;
			l->start = l->end;
			if (!was) {
				*line = p;
				*len = 80;
				return 2;
			}
		}
		int rc = fill(l, err, errlen);
		if (rc)
			return rc;
	}
}
