/*
 * cli.c - the helpers every verb shares (see cli.h): messages, numbers,
 * and the options that mean the same to several verbs, above all --db,
 * whose store is opened here and nowhere else in cli/, so that each verb
 * that reads or writes it fails, and reports a migration, in the same
 * words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "../reports/rep.h"
#include "../reports/store.h"

int cli_die(const char *fmt, ...)
{
	va_list ap;
	fputs("cowsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int cli_push_arg(const char ***v, size_t *n, const char *arg)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return cli_die("out of memory");
	*v = nv;
	nv[(*n)++] = arg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the options several verbs share                                    */

void cli_common_init(struct cli_common *co)
{
	*co = (struct cli_common){ .dbpath = STORE_DEFAULT_DB };
}

int cli_common_opt(struct cli_common *co, int c, const char *arg)
{
	switch (c) {
	case 'D': co->dbpath = arg; return 1;
	case 'p': co->policy = arg; return 1;
	case 'q': co->quiet = 1; return 1;
	case 't': return cli_push_arg(&co->traces, &co->ntraces, arg) ? -ENOMEM : 1;
	}
	return 0;
}

void cli_common_free(struct cli_common *co)
{
	free(co->traces);
	co->traces = NULL;
	co->ntraces = 0;
}

int cli_open_store(const char *path, int flags, struct store **out)
{
	char err[1024];
	struct store *s;

	if (store_open(path, flags, &s, err, sizeof(err)))
		return cli_die("%s", err);
	if (s->version && s->version < STORE_SCHEMA_VERSION)
		fprintf(stderr, "cowsim: %s: migrated from schema version %d to %d\n",
		        path, s->version, STORE_SCHEMA_VERSION);
	*out = s;
	return 0;
}

int cli_load_runs(const struct cli_common *co, struct store *s,
                  struct rep_data *d)
{
	char err[1024];

	if (rep_load(store_db(s), co->traces, co->ntraces, co->policy, d, err,
	             sizeof(err)))
		return cli_die("%s: %s", co->dbpath, err);
	return 0;
}
