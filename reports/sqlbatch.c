/*
 * sqlbatch.c - rows inserted into SQLite many to a statement (sqlbatch.h).
 *
 * The full-size statement is prepared at the first full batch and reused
 * (reset, rebound) for every one after; a partial batch, which happens
 * once per table, gets a statement of its own size, finalized at once.
 */
#include "sqlbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sqlbatch {
	sqlite3 *db;
	const char *head;    /* "INSERT INTO t VALUES" */
	int ncols, n;
	sqlite3_stmt *full;
	struct sqlbatch_val v[];
};

struct sqlbatch *sqlbatch_new(sqlite3 *db, const char *head, int ncols)
{
	struct sqlbatch *b = calloc(1, sizeof(*b) + sizeof(struct sqlbatch_val) *
	                            (size_t)ncols * SQLBATCH_ROWS);
	if (!b)
		return NULL;
	b->db = db;
	b->head = head;
	b->ncols = ncols;
	return b;
}

static int prepare(struct sqlbatch *b, int rows, sqlite3_stmt **st)
{
	size_t cap = strlen(b->head) + (size_t)rows * ((size_t)b->ncols * 2 + 4) + 8;
	char *sql = malloc(cap);
	if (!sql)
		return SQLITE_NOMEM;
	size_t len = (size_t)snprintf(sql, cap, "%s ", b->head);
	for (int r = 0; r < rows; r++) {
		sql[len++] = r ? ',' : ' ';
		sql[len++] = '(';
		for (int c = 0; c < b->ncols; c++) {
			if (c)
				sql[len++] = ',';
			sql[len++] = '?';
		}
		sql[len++] = ')';
	}
	sql[len] = 0;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, st, NULL);
	free(sql);
	return rc;
}

int sqlbatch_flush(struct sqlbatch *b)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!b->n)
		return SQLITE_OK;
	if (b->n == SQLBATCH_ROWS) {
		if (!b->full && (rc = prepare(b, SQLBATCH_ROWS, &b->full)))
			return rc;
		st = b->full;
	} else if ((rc = prepare(b, b->n, &st))) {
		return rc;
	}
	for (int k = 0; k < b->n * b->ncols; k++) {
		const struct sqlbatch_val *v = &b->v[k];
		if (v->null)
			sqlite3_bind_null(st, k + 1);
		else if (v->s)
			sqlite3_bind_text(st, k + 1, v->s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, k + 1, v->i);
	}
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (st == b->full)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	b->n = 0;
	return rc;
}

struct sqlbatch_val *sqlbatch_row(struct sqlbatch *b, int *rc)
{
	*rc = SQLITE_OK;
	if (b->n == SQLBATCH_ROWS && (*rc = sqlbatch_flush(b)))
		return NULL;
	struct sqlbatch_val *row = &b->v[b->n++ * b->ncols];
	memset(row, 0, sizeof(*row) * (size_t)b->ncols);
	return row;
}

void sqlbatch_free(struct sqlbatch *b)
{
	if (b) {
		sqlite3_finalize(b->full);
		free(b);
	}
}
