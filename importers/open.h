/*
 * open.h - open any trace cowsim reads as an event source: the one entry
 * point into the importers for the layers above (cli/, reports/, tests).
 *
 * Detection goes by content, not by name, except for scenarios: first a
 * compression (gzip, xz, zstd) by its magic number, then in what it
 * decompresses to the event file and trace.dat by their magic numbers,
 * text by what its first lines look like.  Every format may be compressed;
 * "-" reads stdin.  The source returned is read with evsrc.h.
 */
#ifndef COWSIM_OPEN_H
#define COWSIM_OPEN_H

#include <stddef.h>
#include <stdint.h>

#include "evsrc.h"

/* Options for opening a trace (importers read what applies to them). */
struct evsrc_opts {
	const char *format;        /* NULL: detect */
	uint32_t pid;              /* keep only this process tree (0: all) */
	const char *comm;          /* ... or the tree of the first exec of comm */
	const char *sysroot;       /* exec'd files are read under it; NULL: / */
	int quiet;
};

/* The names opts->format takes (what `--input-format` accepts), in the
 * order detection tries them; NULL-terminated. */
extern const char *const evsrc_formats[];

/*
 * Open path ("-": stdin) as an event source, detecting its format unless
 * opts->format says.  Compressed trace.dat, event files and scenarios, and
 * anything from stdin or a FIFO, are first copied into an unlinked file in
 * $TMPDIR (with a progress line unless opts->quiet: progress.h).  Returns
 * 0 and *out, or a negative errno with a message in err naming the input
 * (and the byte offset of corrupt or truncated compressed data).
 */
int evsrc_open(const char *path, const struct evsrc_opts *opts,
               struct ev_source **out, char *err, size_t errlen);

/* Detect a file's format from its first (decompressed) bytes and, for a
 * scenario, its name: "events", "dat", "scenario", "ftrace", "perf", or
 * NULL. */
const char *evsrc_detect(const char *path, const unsigned char *head,
                         size_t n);

#endif
