/*
 * report.c - `cowsim report`'s folder (report.h): made in a temporary
 * place, filled by plots.c and html.c, moved into place only when whole;
 * and the small helpers the three share (rpt.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rep.h"
#include "report.h"
#include "rpt.h"
#include "../lib/progress.h"

#define MARKER ".cowsim-report"

void rpt_err(struct rpt *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

FILE *rpt_create(struct rpt *r, const char *fmt, ...)
{
	char name[256], path[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		rpt_err(r, "cannot write %s: %s", path, strerror(errno));
	return f;
}

int rpt_finish(struct rpt *r, FILE *f, const char *what)
{
	int bad = ferror(f);
	if (fclose(f) || bad) {
		rpt_err(r, "writing %s in %s failed (disk full?)", what,
		        r->dir);
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the folder                                                          */

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return 0;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* May we put a report at out?  Returns 0 with *swap set when out holds an
 * earlier report (exchanged, then removed); an absent or empty folder is
 * simply renamed over.  Else -EEXIST / -ENOTDIR with a message. */
static int check_dest(const char *out, int *swap, char *err, size_t len)
{
	struct stat sb;
	char marker[PATH_MAX + 32];

	*swap = 0;
	if (lstat(out, &sb))
		return 0;
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, len, "%s exists and is not a folder: choose another "
		         "-o", out);
		return -ENOTDIR;
	}
	snprintf(marker, sizeof(marker), "%s/" MARKER, out);
	if (!access(marker, F_OK)) {
		*swap = 1;
		return 0;
	}
	if (dir_empty(out))
		return 0;
	snprintf(err, len, "%s exists and is not a cowsim report: choose another "
	         "-o, or remove it", out);
	return -EEXIST;
}


int report_prepare(const char *dir, struct report_dest *dest, char *err,
                   size_t errlen)
{
	dest->dir = dir;
	if (plot_find_gnuplot(dest->gnuplot, sizeof(dest->gnuplot))) {
		snprintf(err, errlen, "gnuplot not found on PATH: install it "
		         "(Debian: apt install gnuplot-nox) and run again");
		return -ENOENT;
	}
	return check_dest(dir, &dest->swap, err, errlen);
}

/* Draw every plot that has data, with a progress line; 0 or -EIO. */
static int draw_all(struct rpt *r, const char *gnuplot, int progress,
                    size_t *drawn)
{
	struct progress pg;
	size_t todo = 0, done = 0;
	for (size_t i = 0; i < r->nplots; i++)
		todo += !r->plots[i].nodata[0];
	progress_init(&pg, progress, "report", "plots");
	pg.items_total = todo;
	for (size_t i = 0; i < r->nplots; i++) {
		if (r->plots[i].nodata[0])
			continue;
		if (plot_draw(r, gnuplot, r->plots[i].name)) {
			progress_abort(&pg);
			return -EIO;
		}
		progress_tick(&pg, ++done, 0);
	}
	progress_done(&pg, done, 0);
	*drawn = todo;
	return 0;
}

int report_write(const struct report_dest *dest, sqlite3 *db,
                 const char *dbpath, const struct rep_data *d,
                 const char *baseline, int progress, size_t *nplots,
                 char *err, size_t errlen)
{
	struct rpt r = { .db = db, .dbpath = dbpath, .d = d,
	                 .baseline = baseline };
	const char *out = dest->dir;
	int rc, made = 0, drawing = 0;

	for (size_t i = 0; !r.baseline && i < d->ntraces; i++)
		if (d->traces[i].nruns)
			r.baseline = d->traces[i].runs[0].policy;

	/* The temporary folder, next to the destination (same filesystem,
	 * so the final rename is atomic). */
	char parent[PATH_MAX], base[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", out);
	size_t pl = strlen(parent);
	while (pl > 1 && parent[pl - 1] == '/')
		parent[--pl] = 0;
	char *slash = strrchr(parent, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : parent);
	if (slash == parent)
		parent[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), ".");
	if (snprintf(r.dir, sizeof(r.dir), "%s/.%s.tmp-XXXXXX", parent, base) >=
	    (int)sizeof(r.dir)) {
		rpt_err(&r, "%s: path too long", out);
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (!mkdtemp(r.dir)) {
		rc = -errno;
		rpt_err(&r, "cannot create the report in %s: %s (is the folder "
		        "there and writable?)", parent, strerror(-rc));
		goto out;
	}
	made = 1;
	chmod(r.dir, 0755);

	FILE *m = rpt_create(&r, MARKER);
	if (!m) {
		rc = -EIO;
		goto out;
	}
	if ((rc = rpt_finish(&r, m, MARKER)) || (rc = plot_write_all(&r)))
		goto out;
	drawing = 1;
	if ((rc = draw_all(&r, dest->gnuplot, progress, nplots)))
		goto out;
	drawing = 0;
	if ((rc = html_write_index(&r)))
		goto out;

	/* Into place (rename(2) replaces an empty folder). */
	if (!dest->swap) {
		if (rename(r.dir, out)) {
			rc = -errno;
			rpt_err(&r, "cannot move the report to %s: %s", out,
			        strerror(-rc));
			goto out;
		}
		made = 0;
	} else if (renameat2(AT_FDCWD, r.dir, AT_FDCWD, out, RENAME_EXCHANGE)) {
		rc = -errno;
		rpt_err(&r, "cannot replace the report in %s: %s", out,
		        strerror(-rc));
		goto out;
	}
	/* else r.dir now holds the previous report, removed below. */
out:
	if (made)
		rm_tree(r.dir);
	free(r.plots);
	if (rc)
		snprintf(err, errlen, "%s%s%s", r.err,
		         drawing ? "; nothing was written to " : "",
		         drawing ? out : "");
	return rc;
}
