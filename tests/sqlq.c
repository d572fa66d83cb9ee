/*
 * sqlq.c - run SQL against a database and print the rows, fields joined
 * by '|' (as the sqlite3 shell does), for the shell tests: they then need
 * no sqlite3 shell installed.  Opens read-write without creating.
 *
 * usage: sqlq DB SQL
 * Exit status: 0, or 1 with SQLite's message on stderr.
 */
#include <stdio.h>

#include <sqlite3.h>

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *sql;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: sqlq DB SQL\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL)) {
		fprintf(stderr, "sqlq: %s: %s\n", argv[1], sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	sqlite3_busy_timeout(db, 60000);
	sql = argv[2];
	while (sql && *sql) {
		rc = sqlite3_prepare_v2(db, sql, -1, &st, &sql);
		if (rc) {
			fprintf(stderr, "sqlq: %s\n", sqlite3_errmsg(db));
			sqlite3_close(db);
			return 1;
		}
		if (!st)
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *v = sqlite3_column_text(st, c);
				printf("%s%s", c ? "|" : "", v ? (const char *)v : "");
			}
			putchar('\n');
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "sqlq: %s\n", sqlite3_errmsg(db));
			sqlite3_close(db);
			return 1;
		}
	}
	sqlite3_close(db);
	return 0;
}
