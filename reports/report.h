/*
 * report.h - the work of `cowsim report`: a folder of plots and an
 * index.html from the runs loaded from the results store (rep_load()),
 * readable offline.  The verb, cli/cmd_report.c, reads the options and
 * the store; this builds the folder.
 *
 * The page leads with one table for every trace and preset: copies
 * against a baseline preset, agreement with the kernel, modeled and
 * observed fork latency.  Then per trace a grid of small plots: COW copies
 * by cause, zero-fills, copies against the baseline, agreement and its
 * disagreements, the fork latency CDF, cumulative copies and allocated
 * frames over trace time; and its tables, folded.  Each plot is PNG and
 * SVG drawn by gnuplot, with its data file and script beside it (plots.c);
 * index.html needs no network (html.c).  docs/report.md describes it.
 *
 * Invariant: nothing half-written.  The report is built in a temporary
 * folder next to the destination and renamed into place only when every
 * plot exists.  An existing report there (it has a .cowsim-report marker)
 * is swapped out atomically (renameat2 RENAME_EXCHANGE) and removed; any
 * other existing non-empty folder is refused before anything is done.
 *
 * Lifecycle: report_prepare(), before anything else (so that a missing
 * gnuplot or a wrong destination fails before the store is even opened),
 * then report_write().
 *
 * Errors: 0 or a negative errno, with a message for the user in err.
 */
#ifndef COWSIM_REPORT_H
#define COWSIM_REPORT_H

#include <limits.h>
#include <stddef.h>

#include <sqlite3.h>

struct rep_data;

/* Where a report goes, checked by report_prepare(). */
struct report_dest {
	const char *dir;         /* the folder to write */
	char gnuplot[PATH_MAX];  /* the gnuplot found on PATH */
	int swap;                /* dir holds an earlier report: exchange */
};

/*
 * Check what can be checked before writing anything: gnuplot is on PATH,
 * and dir is absent, an empty folder or an earlier report.  Returns 0 and
 * *dest, or -ENOENT (no gnuplot), -ENOTDIR (dir is a file) or -EEXIST (a
 * folder that is not a report).
 */
int report_prepare(const char *dir, struct report_dest *dest, char *err,
                   size_t errlen);

/*
 * Write the report of d, loaded from the store db (at dbpath, which the
 * page names), to dest->dir, measuring presets against the one named
 * baseline (NULL: the first loaded; a trace without a run of it shows no
 * differences); with progress, a progress line on stderr
 * while gnuplot draws.  Returns 0 and in *nplots the number of pictures
 * drawn, or a negative errno (-EIO: a file, gnuplot or the store failed;
 * -ENOMEM; -ENAMETOOLONG), when dest->dir is as it was.
 */
int report_write(const struct report_dest *dest, sqlite3 *db,
                 const char *dbpath, const struct rep_data *d,
                 const char *baseline, int progress,
                 size_t *nplots, char *err, size_t errlen);

#endif
