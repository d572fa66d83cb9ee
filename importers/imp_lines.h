/*
 * imp_lines.h - lines of a text trace, plain or compressed (gzip, xz,
 * zstd: zin.h), streamed.
 *
 * Text traces are read in one pass with memory independent of their size:
 * a fixed buffer (IMP_LINES_BUF) is filled by the decompressor, or by
 * read(2) for what cannot be mapped (pipes, tracefs files), and lines are
 * handed out as pointers into it, valid until the next call.  A plain
 * regular file is mmap()ed instead: its lines are read in place, without
 * the copy into a buffer (a tenth of the import's time at 500 MB/s), and
 * the kernel pages it in and out as the scan passes.  A compressed file
 * is recognised by its magic number, not its name.  The buffer holds one line at most IMP_LINE_MAX
 * long; a longer line (binary garbage without newlines) is skipped and
 * reported, never a reason to grow without bound.
 *
 * Lifecycle: imp_lines_open(); imp_lines_next() until 0; imp_lines_rewind()
 * to read again from the start (the importers' probe), imp_lines_close().
 * Errors: imp_lines_next() returns 1 (a line), 2 (an overlong line was
 * skipped; line and len give its first bytes), 0 at the end, or a negative
 * errno with a message naming the file, the byte offset and the line in
 * err (I/O error, corrupt or truncated compressed stream).
 * imp_lines_pos() is the progress: bytes of the file (compressed bytes, for
 * a compressed one) behind the lines handed out so far - for a buffer, the
 * file bytes the last fill consumed, in proportion to the share of it
 * handed out (a 4 MiB buffer of text is a few hundred KiB of zstd: the
 * file position alone would run ahead by that much).
 */
#ifndef COWSIM_IMP_LINES_H
#define COWSIM_IMP_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zin.h"

#define IMP_LINES_BUF (4u << 20)
#define IMP_LINE_MAX  (64u << 10)

struct imp_lines {
	int fd;
	struct zin z;          /* the (de)compressing reader, unless mapped */
	char *buf;
	size_t cap;            /* IMP_LINES_BUF, less for a small plain file */
	char *map;             /* a plain regular file, mapped whole */
	size_t maplen;
	size_t dropped;        /* mapped bytes before this are released */
	size_t start, end;     /* unread bytes: buf[start..end) */
	bool eof;
	bool skipping;         /* discarding the rest of an overlong line */
	uint64_t lineno;       /* number of the line last returned */
	uint64_t fill_lo, fill_hi;  /* file position before and after the last fill */
	size_t fill_at;        /* where in buf the last fill put its bytes */
	uint64_t bytes_total;  /* file size */
	char path[256];
};

int imp_lines_open(struct imp_lines *l, const char *path, char *err,
                   size_t errlen);
int imp_lines_next(struct imp_lines *l, const char **line, size_t *len,
                   char *err, size_t errlen);
int imp_lines_rewind(struct imp_lines *l, char *err, size_t errlen);
void imp_lines_close(struct imp_lines *l);

/* Bytes of the file consumed (see above), for a progress line. */
uint64_t imp_lines_pos(const struct imp_lines *l);

#endif
