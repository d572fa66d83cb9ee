/*
 * open.h - open any trace cowsim reads as an event source: the one entry
 * point into the importers for the layers above (cli/, reports/, tests).
 *
 * Detection goes by content, not by name, except for scenarios: the event
 * file and trace.dat by their magic numbers, text (plain or zstd) by what
 * its first lines look like.  The source returned is read with evsrc.h.
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
	int quiet;
};

/* The names opts->format takes (what `--input-format` accepts), in the
 * order detection tries them; NULL-terminated. */
extern const char *const evsrc_formats[];

/*
 * Open path as an event source, detecting its format unless opts->format
 * says.  Returns 0 and *out, or a negative errno with a message in err.
 */
int evsrc_open(const char *path, const struct evsrc_opts *opts,
               struct ev_source **out, char *err, size_t errlen);

/* Detect a file's format from its first bytes: "events", "dat", "scenario",
 * "ftrace", "perf", or NULL. */
const char *evsrc_detect(const char *path, const unsigned char *head,
                         size_t n);

#endif
