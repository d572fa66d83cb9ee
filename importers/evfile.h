/*
 * evfile.h - the binary event file: a trace parsed once, replayed many times.
 *
 * Layout (all integers little-endian):
 *
 *   header, 64 bytes
 *     0  char[8]  magic "COWSIMEV"
 *     8  u32      version (EVF_VERSION)
 *    12  u32      record size (48)
 *    16  u64      number of records
 *    24  u64      offset of the trailer (0 while being written)
 *    32  u64      first timestamp
 *    40  u64      last timestamp
 *    48  u32      flags (EVF_F_*)
 *    52  u32      number of strings
 *    56  u32      number of metadata entries
 *    60  u32      header checksum: low 32 bits of XXH3-64 of these 64
 *                 bytes with this field 0
 *   records, 48 bytes each (struct cs_ev), in blocks of EVF_BLOCK records
 *   trailer
 *     "STRS", then per string: u32 length, bytes (string 0 is "")
 *     "META", then per entry: u32 length, key, u32 length, value
 *     "SUMS", u32 number of blocks, then per block: u64 XXH3-64 of its
 *             records' bytes (the last block may be short)
 *     "END!", u64 XXH3-64 of the trailer from "STRS" to "END!" inclusive
 *
 * The trailer comes last so that a file is written in one sequential pass
 * with memory independent of its length (8 bytes a block of 4096 records
 * for the sums); the writer fills in the header at the end.  A file whose
 * trailer offset is 0 was never finished (the writer died): readers refuse
 * it.  Writers work on a temporary name and rename it into place only once
 * complete, so a crash never leaves a half file under the final name.
 *
 * Integrity: every byte is covered by a checksum, checked as it is read.
 * The header and trailer are checked at open; a block's records are checked
 * before any of them is handed on (the replay reads a block at a time), so
 * a flipped bit is an error naming the block, not a silently different
 * result.  ev_validate() still checks each record: a checksum says the file
 * is what was written, not that what was written makes sense.
 *
 * Versioning: the reader accepts exactly EVF_VERSION; a file of another
 * version is refused with a message saying which versions are involved
 * (version 1 had no checksums).
 */
#ifndef COWSIM_EVFILE_H
#define COWSIM_EVFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ev.h"
#include "evsrc.h"
#include "../lib/strtab.h"

#define EVF_MAGIC   "COWSIMEV"
#define EVF_VERSION 2u
#define EVF_HEADER  64u
#define EVF_BLOCK   4096u   /* records a block checksum covers */
/* The longest string a reader accepts: paths, names and marker text, all
 * far shorter (a trace line is at most 64 KiB). */
#define EVF_STR_MAX (1u << 16)

#define EVF_F_LABELS 0x1u   /* contains EV_OBSERVED */

struct evf_writer;

/*
 * Start writing path (through a temporary file next to it), "-" meaning
 * stdout, which must not be a terminal (through an unnamed temporary file,
 * copied out by evf_finish()).  Returns 0 and *out, or a negative errno
 * with a message in err; -EINVAL when path exists and is not a regular
 * file (a device or FIFO the rename into place would replace).
 */
int evf_create(const char *path, struct evf_writer **out, char *err,
               size_t errlen);

/* Append n records.  Returns 0 or a negative errno (write error). */
int evf_write(struct evf_writer *w, const struct cs_ev *ev, size_t n);

/*
 * Write the trailer (strings, metadata from src if not NULL), the header,
 * and rename the file into place (or copy it to stdout).  Frees w.  Returns 0 or a negative errno
 * with a message in err (the temporary file is then removed).
 */
int evf_finish(struct evf_writer *w, const struct strtab *strings,
               const struct ev_meta *meta, size_t nmeta, char *err,
               size_t errlen);

/* Give up: remove the temporary file and free w. */
void evf_abort(struct evf_writer *w);

/* Open an event file as an event source (evsrc_open() calls this). */
int evf_open_source(const char *path, struct ev_source **out, char *err,
                    size_t errlen);

#endif
