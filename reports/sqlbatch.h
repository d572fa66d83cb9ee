/*
 * sqlbatch.h - rows inserted into SQLite many to a statement.
 *
 * Millions of fault rows make the per-statement overhead of one INSERT a
 * row the bottleneck (about 1.4 us a row, three times SQLite's own insert
 * cost; docs/store.md measures it).  A batch keeps SQLBATCH_ROWS rows of
 * values and inserts them with one multi-row INSERT, prepared once; the
 * last partial batch uses a statement of its size.
 *
 * Lifecycle:
 *   b = sqlbatch_new(db, "INSERT INTO t (a, b) VALUES", 2)
 *   per row: v = sqlbatch_row(b, &rc); sqlbatch_int(&v[0], ...); ...
 *   sqlbatch_flush(b)          the rows still held
 *   sqlbatch_free(b)
 *
 * Invariants: a value is an integer, NULL, or a string that outlives the
 * batch (it is bound SQLITE_STATIC when the batch is flushed); a row's
 * values start as integer 0.
 *
 * Errors: sqlbatch_new() returns NULL when out of memory; sqlbatch_row()
 * returns NULL and sqlbatch_flush() a code other than SQLITE_OK with an
 * SQLite result code (the message is sqlite3_errmsg(db)).
 */
#ifndef COWSIM_SQLBATCH_H
#define COWSIM_SQLBATCH_H

#include <stdint.h>

#include <sqlite3.h>

#define SQLBATCH_ROWS 128

struct sqlbatch;

struct sqlbatch_val {
	const char *s;       /* text, or NULL */
	int64_t i;
	int null;
};

struct sqlbatch *sqlbatch_new(sqlite3 *db, const char *head, int ncols);
/* The values of the next row, to fill; flushes a full batch first. */
struct sqlbatch_val *sqlbatch_row(struct sqlbatch *b, int *rc);
/* Insert the rows held.  Returns an SQLite code (SQLITE_OK). */
int sqlbatch_flush(struct sqlbatch *b);
void sqlbatch_free(struct sqlbatch *b);

static inline void sqlbatch_int(struct sqlbatch_val *v, int64_t i)
{
	v->i = i;
}

/* Text, or NULL for s == NULL. */
static inline void sqlbatch_text(struct sqlbatch_val *v, const char *s)
{
	if (s)
		v->s = s;
	else
		v->null = 1;
}

#endif
