/*
 * spool.h - append-only temporary files with an in-memory tail, for rows
 * produced while a replay runs and written to the database after it (the
 * --faults rows of store_write.c: millions of them, which must neither
 * stay in memory nor go into the database before the replay succeeded).
 *
 * A spool is an unlinked file in $TMPDIR (or /tmp): a killed process
 * leaves nothing behind.  Appends go to a buffer of the capacity given at
 * open and reach the file a buffer at a time.  Records already appended
 * can be read back, found by key and patched in place, in the buffer or in
 * the file alike.
 *
 * Lifecycle:
 *   spool_open(&s, cap)           (a zeroed struct with fd -1 is closed)
 *   spool_add(&s, rec, len) ...   spool_find(), spool_read(), spool_patch()
 *   spool_flush(&s); then read it in order:
 *     struct spool_reader rd = { .s = &s, .cap = ..., .buf = malloc(cap) };
 *     while (spool_next(&rd, rec, len) == 0) ...
 *   spool_close(&s)
 *
 * Errors: a failed write is remembered in s.err (an errno) and the data of
 * the failed flush is dropped; the writer checks s.err once, after
 * spool_flush(), instead of at every append.  Functions that return int
 * return 0 or a negative errno as said at each.
 */
#ifndef COWSIM_SPOOL_H
#define COWSIM_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool {
	int fd;
	unsigned char *buf;
	size_t n, cap;
	uint64_t flushed;    /* bytes already in the file */
	int err;             /* first write error (errno) */
};

/* Create the file and a buffer of cap bytes.  Returns 0, -ENOMEM, or the
 * -errno of mkstemp() (spool_dir() cannot be written). */
int spool_open(struct spool *s, size_t cap);

/* The folder spools go to: $TMPDIR, or /tmp. */
const char *spool_dir(void);

void spool_add(struct spool *s, const void *p, size_t len);
void spool_flush(struct spool *s);
uint64_t spool_size(const struct spool *s);

/* Read or overwrite len bytes at offset off.  spool_read() returns 0 or
 * -EIO; spool_patch() sets s->err on failure. */
int spool_read(struct spool *s, uint64_t off, void *p, size_t len);
void spool_patch(struct spool *s, uint64_t off, const void *p, size_t len);

/* Where the record with key is, in a spool of len-byte records that begin
 * with ascending u64 keys.  Returns 0 and *off, -ENOENT, or -EIO. */
int spool_find(struct spool *s, size_t len, uint64_t key, uint64_t *off);

void spool_close(struct spool *s);

/* A reader over a flushed spool, in big sequential chunks: the caller
 * sets s, cap and a buffer of cap bytes. */
struct spool_reader {
	struct spool *s;
	unsigned char *buf;
	size_t n, pos, cap;
	uint64_t off;
};

/* The next len-byte record.  Returns 0, 1 at the end, or -EIO. */
int spool_next(struct spool_reader *r, void *p, size_t len);

#endif
