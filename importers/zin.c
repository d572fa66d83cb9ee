/*
 * zin.c - gzip (zlib), xz (liblzma) and zstd (libzstd) streams behind one
 * read call, and the spool into a temporary file (zin.h).
 *
 * The three libraries are driven the same way: a 1 MiB input buffer
 * refilled with read(2), and the decoder asked for output until it gives
 * some.  What differs is how each says "a stream ended here" (the point
 * where the end of the file is no truncation), kept in z->open, and how
 * each wants the next concatenated stream started.
 */
#include "zin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../lib/progress.h"

#define ZIN_IN (1u << 20)
#define SPOOL_BUF (1u << 20)

enum zin_kind zin_sniff(const void *head, size_t n)
{
	const unsigned char *h = head;
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return ZIN_GZIP;
	if (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6))
		return ZIN_XZ;
	if (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4))
		return ZIN_ZSTD;
	return ZIN_NONE;
}

const char *zin_name(enum zin_kind k)
{
	switch (k) {
	case ZIN_GZIP: return "gzip";
	case ZIN_XZ: return "xz";
	case ZIN_ZSTD: return "zstd";
	default: return NULL;
	}
}

static void ctx_free(struct zin *z)
{
	if (!z->ctx)
		return;
	switch (z->kind) {
	case ZIN_GZIP:
		inflateEnd(z->ctx);
		free(z->ctx);
		break;
	case ZIN_XZ:
		lzma_end(z->ctx);
		free(z->ctx);
		break;
	case ZIN_ZSTD:
		ZSTD_freeDCtx(z->ctx);
		break;
	default:
		break;
	}
	z->ctx = NULL;
}

/* A fresh decoder for z->kind.  Returns 0 or -ENOMEM. */
static int ctx_new(struct zin *z)
{
	ctx_free(z);
	switch (z->kind) {
	case ZIN_GZIP: {
		z_stream *s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		/* 15 + 16: a gzip header and trailer, not zlib's */
		if (inflateInit2(s, 15 + 16) != Z_OK) {
			free(s);
			return -ENOMEM;
		}
		z->ctx = s;
		return 0;
	}
	case ZIN_XZ: {
		lzma_stream *s = malloc(sizeof(*s));
		if (!s)
			return -ENOMEM;
		*s = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
			free(s);
			return -ENOMEM;
		}
		z->ctx = s;
		return 0;
	}
	case ZIN_ZSTD:
		z->ctx = ZSTD_createDCtx();
		return z->ctx ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

int zin_open(struct zin *z, int fd, enum zin_kind kind, const char *name,
             char *err, size_t errlen)
{
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	z->kind = kind;
	z->name = name;
	if (kind != ZIN_NONE && (!(z->in = malloc(ZIN_IN)) || ctx_new(z))) {
		zin_close(z);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	return 0;
}

void zin_close(struct zin *z)
{
	ctx_free(z);
	free(z->in);
	z->in = NULL;
}

int zin_rewind(struct zin *z, char *err, size_t errlen)
{
	if (lseek(z->fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot seek: %s", z->name, strerror(errno));
		return -EIO;
	}
	z->in_pos = z->in_end = 0;
	z->in_eof = false;
	z->open = false;
	z->bytes_in = 0;
	if (ctx_new(z)) {
		snprintf(err, errlen, "%s: out of memory", z->name);
		return -ENOMEM;
	}
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t k;
	while ((k = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return k;
}

static ssize_t corrupt(struct zin *z, const char *why, char *err,
                       size_t errlen)
{
	snprintf(err, errlen, "%s: byte %" PRIu64 ": corrupt %s data (%s)",
	         z->name, zin_pos(z), zin_name(z->kind), why);
	return -EIO;
}

/* One decoder call: output into buf[0..n), input from z->in.  Returns the
 * bytes produced (0 is fine: more input needed), or an error. */
static ssize_t step(struct zin *z, void *buf, size_t n, char *err,
                    size_t errlen)
{
	switch (z->kind) {
	case ZIN_GZIP: {
		z_stream *s = z->ctx;
		if (!z->open && z->in_pos < z->in_end && s->total_in) {
			/* the next member of a concatenation */
			if (inflateReset(s) != Z_OK)
				return corrupt(z, "inflateReset", err, errlen);
		}
		s->next_in = z->in + z->in_pos;
		s->avail_in = (uInt)(z->in_end - z->in_pos);
		s->next_out = buf;
		s->avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		int r = inflate(s, Z_NO_FLUSH);
		z->in_pos = z->in_end - s->avail_in;
		size_t got = n - s->avail_out;
		if (r == Z_MEM_ERROR) {
			snprintf(err, errlen, "%s: out of memory", z->name);
			return -ENOMEM;
		}
		if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR)
			return corrupt(z, s->msg ? s->msg : "bad stream", err, errlen);
		z->open = r != Z_STREAM_END;
		return (ssize_t)got;
	}
	case ZIN_XZ: {
		lzma_stream *s = z->ctx;
		s->next_in = z->in + z->in_pos;
		s->avail_in = z->in_end - z->in_pos;
		s->next_out = buf;
		s->avail_out = n;
		lzma_ret r = lzma_code(s, z->in_eof ? LZMA_FINISH : LZMA_RUN);
		z->in_pos = z->in_end - s->avail_in;
		size_t got = n - s->avail_out;
		/* With LZMA_CONCATENATED the decoder is inside a stream until
		 * LZMA_FINISH at the end of the input gives LZMA_STREAM_END. */
		z->open = r != LZMA_STREAM_END;
		if (r == LZMA_OK || r == LZMA_STREAM_END)
			return (ssize_t)got;
		if (r == LZMA_MEM_ERROR) {
			snprintf(err, errlen, "%s: out of memory", z->name);
			return -ENOMEM;
		}
		if (r == LZMA_BUF_ERROR && z->in_eof) {
			if (got)
				return (ssize_t)got;
			snprintf(err, errlen, "%s: byte %" PRIu64 ": truncated xz stream "
			         "(the file ends inside it)", z->name, zin_pos(z));
			return -EIO;
		}
		return corrupt(z, r == LZMA_FORMAT_ERROR ? "not xz" :
		               r == LZMA_OPTIONS_ERROR ? "unsupported options" :
		               "bad block or check", err, errlen);
	}
	case ZIN_ZSTD: {
		ZSTD_inBuffer in = { z->in, z->in_end, z->in_pos };
		ZSTD_outBuffer out = { buf, n, 0 };
		size_t r = ZSTD_decompressStream(z->ctx, &out, &in);
		z->in_pos = in.pos;
		if (ZSTD_isError(r))
			return corrupt(z, ZSTD_getErrorName(r), err, errlen);
		z->open = r != 0;
		return (ssize_t)out.pos;
	}
	default:
		return -EINVAL;
	}
}

ssize_t zin_read(struct zin *z, void *buf, size_t n, char *err,
                 size_t errlen)
{
	if (z->kind == ZIN_NONE) {
		ssize_t k = read_some(z->fd, buf, n);
		if (k < 0) {
			snprintf(err, errlen, "%s: byte %" PRIu64 ": read error: %s",
			         z->name, z->bytes_in, strerror(errno));
			return -EIO;
		}
		z->bytes_in += (uint64_t)k;
		return k;
	}
	for (;;) {
		if (z->in_pos == z->in_end && !z->in_eof) {
			ssize_t k = read_some(z->fd, z->in, ZIN_IN);
			if (k < 0) {
				snprintf(err, errlen, "%s: byte %" PRIu64 ": read error: %s",
				         z->name, z->bytes_in, strerror(errno));
				return -EIO;
			}
			z->in_pos = 0;
			z->in_end = (size_t)k;
			z->bytes_in += (uint64_t)k;
			z->in_eof = k == 0;
		}
		/* the end: of the file, and of the last stream in it */
		if (z->in_pos == z->in_end && z->in_eof && !z->open)
			return 0;
		ssize_t got = step(z, buf, n, err, errlen);
		if (got)
			return got;
		/* Nothing more out of the decoder with nothing more in: a stream
		 * cut short (xz says so itself, from LZMA_FINISH).  Output the
		 * decoder still held - a full buffer last time - came out above. */
		if (z->in_pos == z->in_end && z->in_eof && z->open &&
		    z->kind != ZIN_XZ) {
			snprintf(err, errlen, "%s: byte %" PRIu64 ": truncated %s "
			         "stream (the file ends inside it)", z->name, zin_pos(z),
			         zin_name(z->kind));
			return -EIO;
		}
	}
}

static int tmp_fd(const char *name, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
	               errno == EINVAL)) {
		/* a file system without O_TMPFILE */
		char p[4096];
		snprintf(p, sizeof(p), "%s/cowsim-spool-XXXXXX", dir);
		fd = mkostemp(p, O_CLOEXEC);
		if (fd >= 0)
			unlink(p);
	}
	if (fd < 0)
		snprintf(err, errlen, "%s: cannot make a temporary file in %s: %s "
		         "(set TMPDIR to a folder with room)", name, dir,
		         strerror(errno));
	return fd < 0 ? -EIO : fd;
}

static int write_full(int fd, const void *buf, size_t n)
{
	while (n) {
		ssize_t k = write(fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		buf = (const char *)buf + k;
		n -= (size_t)k;
	}
	return 0;
}

int zin_spool(int fd, enum zin_kind kind, const char *name,
              uint64_t in_total, struct progress *progress, char *err,
              size_t errlen)
{
	struct zin z;
	int out = tmp_fd(name, err, errlen), rc;
	char *buf = NULL;
	uint64_t written = 0;

	if (out < 0)
		return out;
	if ((rc = zin_open(&z, fd, kind, name, err, errlen)))
		goto fail_close;
	if (!(buf = malloc(SPOOL_BUF))) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = -ENOMEM;
		goto fail;
	}
	if (progress)
		progress->bytes_total = in_total;
	for (;;) {
		ssize_t k = zin_read(&z, buf, SPOOL_BUF, err, errlen);
		if (k < 0) {
			rc = (int)k;
			goto fail;
		}
		if (!k)
			break;
		if ((rc = write_full(out, buf, (size_t)k))) {
			const char *dir = getenv("TMPDIR");
			snprintf(err, errlen, "%s: writing its uncompressed copy in %s: %s "
			         "(set TMPDIR to a folder with room)", name,
			         dir && *dir ? dir : "/tmp", strerror(-rc));
			goto fail;
		}
		written += (uint64_t)k;
		if (progress)
			progress_tick(progress, written, z.bytes_in);
	}
	if (progress)
		progress_done(progress, written, z.bytes_in);
	zin_close(&z);
	free(buf);
	if (lseek(out, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot seek its copy: %s", name,
		         strerror(errno));
		close(out);
		return -EIO;
	}
	return out;
fail:
	if (progress)
		progress_abort(progress);
	zin_close(&z);
	free(buf);
fail_close:
	close(out);
	return rc;
}
