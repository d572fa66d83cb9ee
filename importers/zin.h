/*
 * zin.h - compressed input: gzip, xz and zstd streams decompressed as they
 * are read, and the spooling of what must be seekable into a temporary
 * file.
 *
 * Every input cowsim reads may be compressed.  The compression is told by
 * the stream's magic number, never by the file's name: gzip 1f 8b, xz
 * fd 37 7a 58 5a 00, zstd 28 b5 2f fd.  Text (ftrace, perf script) is
 * decompressed as it is read (imp_lines.c), in one pass with a fixed
 * buffer.  What must be seekable - trace.dat, which libtracecmd reads at
 * offsets, and cowsim's event files - is decompressed whole into an
 * unlinked temporary file first (zin_spool()), so a decompression bomb is
 * bounded by the disk under $TMPDIR, not by memory.  Concatenated streams
 * (several gzip members, xz streams or zstd frames, as `cat a.gz b.gz` and
 * parallel compressors make) read as one.
 *
 * Lifecycle: zin_open() on an fd positioned at the stream's start;
 * zin_read() until 0; zin_rewind() to read again from the start (the fd
 * must be seekable); zin_close() (the fd stays the caller's).
 * Errors: a negative errno with a message naming the file and the byte
 * offset in it (of the compressed input) where the stream went wrong:
 * corrupt data, or a file that ends inside a stream (truncated).
 */
#ifndef COWSIM_ZIN_H
#define COWSIM_ZIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum zin_kind { ZIN_NONE, ZIN_GZIP, ZIN_XZ, ZIN_ZSTD };

/* The longest magic number: what zin_sniff() needs to see. */
#define ZIN_MAGIC_MAX 6

/* Which compression the first n bytes of a stream announce. */
enum zin_kind zin_sniff(const void *head, size_t n);

/* "gzip", "xz", "zstd", or NULL for ZIN_NONE. */
const char *zin_name(enum zin_kind k);

struct zin {
	int fd;
	enum zin_kind kind;
	void *ctx;             /* z_stream, lzma_stream or ZSTD_DCtx */
	unsigned char *in;
	size_t in_pos, in_end;
	bool in_eof;
	bool open;             /* inside a member/stream/frame */
	uint64_t bytes_in;     /* compressed bytes read from fd */
	const char *name;      /* for messages; the caller's string */
};

/* Start decompressing kind from fd's current position.  Returns 0, or
 * -ENOMEM with a message. */
int zin_open(struct zin *z, int fd, enum zin_kind kind, const char *name,
             char *err, size_t errlen);

/* Up to n decompressed bytes into buf.  Returns how many (0 only at the
 * end of the input), or a negative errno with a message. */
ssize_t zin_read(struct zin *z, void *buf, size_t n, char *err,
                 size_t errlen);

/* Back to the start of the file.  Returns 0 or a negative errno with a
 * message. */
int zin_rewind(struct zin *z, char *err, size_t errlen);

void zin_close(struct zin *z);

/* Compressed bytes the decoder has consumed (what the output so far came
 * from): bytes_in less what waits in the input buffer. */
static inline uint64_t zin_pos(const struct zin *z)
{
	return z->bytes_in - (z->in_end - z->in_pos);
}

/*
 * A temporary file in $TMPDIR (default /tmp), already unlinked, holding
 * what fd yields from its current position to its end - decompressed if
 * kind says.  Used for stdin and for compressed seekable formats.  With
 * progress set, a progress line reports the bytes read of in_total (0:
 * unknown).  Returns the new fd (positioned at 0), or a negative errno
 * with a message naming name (and, for corrupt data, the byte offset).
 */
struct progress;
int zin_spool(int fd, enum zin_kind kind, const char *name,
              uint64_t in_total, struct progress *progress, char *err,
              size_t errlen);

#endif
