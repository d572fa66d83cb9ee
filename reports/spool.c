/*
 * spool.c - append-only temporary files with an in-memory tail (spool.h).
 *
 * The file is unlinked as soon as it is made, so only the descriptor keeps
 * it: nothing to clean up after a crash.  A flush writes the whole buffer
 * and an append that does not fit flushes first, so when every append is
 * one record of a fixed size, as the store's are, no record is split
 * between the file and the buffer; spool_find() relies on that.
 */
#include "spool.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *spool_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

int spool_open(struct spool *s, size_t cap)
{
	char path[PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	snprintf(path, sizeof(path), "%s/cowsim-spool-XXXXXX", spool_dir());
	s->fd = mkstemp(path);
	if (s->fd < 0)
		return -errno;
	unlink(path);
	s->buf = malloc(cap);
	if (!s->buf) {
		close(s->fd);
		s->fd = -1;
		return -ENOMEM;
	}
	s->cap = cap;
	return 0;
}

void spool_flush(struct spool *s)
{
	size_t off = 0;
	while (off < s->n && !s->err) {
		ssize_t w = write(s->fd, s->buf + off, s->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			s->err = w < 0 ? errno : ENOSPC;
		else
			off += (size_t)w;
	}
	s->flushed += s->n;
	s->n = 0;
}

void spool_add(struct spool *s, const void *p, size_t len)
{
	if (s->n + len > s->cap)
		spool_flush(s);
	memcpy(s->buf + s->n, p, len);
	s->n += len;
}

uint64_t spool_size(const struct spool *s)
{
	return s->flushed + s->n;
}

void spool_patch(struct spool *s, uint64_t off, const void *p,
                        size_t len)
{
	if (off >= s->flushed) {
		memcpy(s->buf + (off - s->flushed), p, len);
	} else if (!s->err && pwrite(s->fd, p, len, (off_t)off) != (ssize_t)len) {
		s->err = errno ? errno : EIO;
	}
}

int spool_read(struct spool *s, uint64_t off, void *p, size_t len)
{
	if (off >= s->flushed) {
		memcpy(p, s->buf + (off - s->flushed), len);
		return 0;
	}
	return pread(s->fd, p, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

/* The newest records are searched first: they are in memory, and the
 * most likely sought (a label follows its fault closely). */
int spool_find(struct spool *s, size_t len, uint64_t key,
                      uint64_t *off)
{
	uint64_t lo = 0, hi = spool_size(s) / len, k;

	if (s->n >= len) {
		memcpy(&k, s->buf, sizeof(k));
		if (key >= k)
			lo = s->flushed / len;
		else
			hi = s->flushed / len;
	}
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (spool_read(s, mid * len, &k, sizeof(k)))
			return -EIO;
		if (k == key) {
			*off = mid * len;
			return 0;
		}
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

void spool_close(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int spool_next(struct spool_reader *r, void *p, size_t len)
{
	if (r->pos + len > r->n) {
		uint64_t total = spool_size(r->s);
		size_t keep = r->n - r->pos;
		memmove(r->buf, r->buf + r->pos, keep);
		r->n = keep;
		r->pos = 0;
		size_t want = r->cap - keep;
		if (r->off + want > total)
			want = (size_t)(total - r->off);
		if (want && spool_read(r->s, r->off, r->buf + keep, want))
			return -EIO;
		r->off += want;
		r->n += want;
		if (r->pos + len > r->n)
			return 1;   /* end */
	}
	memcpy(p, r->buf + r->pos, len);
	r->pos += len;
	return 0;
}
