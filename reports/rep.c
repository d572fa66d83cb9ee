/*
 * rep.c - loading the latest runs for the reports, and the side-by-side
 * table model (see rep.h).
 */
#include "rep.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sim.h"
#include "store.h"

static char *dup_col(sqlite3_stmt *st, int c)
{
	const unsigned char *s = sqlite3_column_text(st, c);
	return strdup(s ? (const char *)s : "");
}

static int64_t int_or(sqlite3_stmt *st, int c, int64_t dflt)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? dflt
	                                                 : sqlite3_column_int64(st, c);
}

static int is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Does trace row (id, name, path, hash) match selector s (whose file
 * content hash, if s names a readable file, is fhash)? */
static int matches(const char *s, const char *fhash, int64_t id,
                   const char *name, const char *path, const char *hash)
{
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	if (!strcmp(s, idbuf) || !strcmp(s, name) || !strcmp(s, path))
		return 1;
	if (fhash && !strcmp(fhash, hash))
		return 1;
	size_t n = strlen(s);
	return n >= 6 && is_hex(s) && !strncmp(s, hash, n);
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* The names of what is stored, for "no such trace/policy" messages. */
static void list_stored(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	size_t l = 0;
	buf[0] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW && l + 1 < len) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		l += (size_t)snprintf(buf + l, len - l, "%s%s", l ? ", " : "",
		                      s ? (const char *)s : "");
	}
	sqlite3_finalize(st);
	if (l >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

static void run_free(struct rep_run *r)
{
	free(r->policy);
	free(r->model);
	free(r->kernel);
	free(r->m);
	free(r->m_null);
}

void rep_trace_free(struct rep_trace *t)
{
	for (size_t k = 0; k < t->nruns; k++)
		run_free(&t->runs[k]);
	free(t->runs);
	free(t->name);
	free(t->path);
	free(t->hash);
	free(t->format);
	memset(t, 0, sizeof(*t));
}

void rep_free(struct rep_data *d)
{
	for (size_t i = 0; i < d->ntraces; i++)
		rep_trace_free(&d->traces[i]);
	free(d->traces);
	memset(d, 0, sizeof(*d));
}

static int load_runs(sqlite3 *db, struct rep_trace *t, const char *policies,
                     char *err, size_t errlen)
{
	size_t nm = sim_nmetrics();
	size_t cap = 512 + nm * 40;
	char *sql = malloc(cap);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!sql)
		goto oom;
	size_t len = (size_t)snprintf(sql, cap, "SELECT r.id, r.policy, r.model, "
	                              "r.kernel, r.replay_seconds, r.faults_logged, "
	                              "r.memory_peak_bytes");
	for (size_t i = 0; i < nm; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", r.%s",
		                        sim_metric_name(i, NULL));
	snprintf(sql + len, cap - len, " FROM latest_runs r WHERE r.trace_id = ? "
	         "ORDER BY r.policy_order, r.policy");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(st, 1, t->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pol = (const char *)sqlite3_column_text(st, 1);
		if (policies && !in_list(policies, pol ? pol : ""))
			continue;
		struct rep_run *n = realloc(t->runs, (t->nruns + 1) * sizeof(*n));
		if (!n)
			goto oom;
		t->runs = n;
		struct rep_run *r = &t->runs[t->nruns++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->policy = dup_col(st, 1);
		r->model = dup_col(st, 2);
		r->kernel = dup_col(st, 3);
		r->replay_seconds = sqlite3_column_double(st, 4);
		r->faults_logged = sqlite3_column_int(st, 5);
		r->memory_peak_bytes = int_or(st, 6, -1);
		r->m = calloc(nm, sizeof(*r->m));
		r->m_null = calloc(nm, 1);
		if (!r->policy || !r->model || !r->kernel || !r->m || !r->m_null)
			goto oom;
		for (size_t i = 0; i < nm; i++) {
			r->m_null[i] = sqlite3_column_type(st, 7 + (int)i) == SQLITE_NULL;
			r->m[i] = sqlite3_column_int64(st, 7 + (int)i);
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	return 0;
sqlfail:
	snprintf(err, errlen, "reading runs: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -EIO;
oom:
	snprintf(err, errlen, "out of memory");
	sqlite3_finalize(st);
	return -ENOMEM;
}

int rep_load(sqlite3 *db, const char *const *sel, size_t nsel,
             const char *policies, struct rep_data *out, char *err,
             size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char **fhash = NULL;
	unsigned char *used = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nsel) {
		fhash = calloc(nsel, sizeof(*fhash));
		used = calloc(nsel, 1);
		if (!fhash || !used)
			goto oom;
		/* A selector naming a readable file matches by content. */
		for (size_t i = 0; i < nsel; i++) {
			char hex[33], e[256];
			FILE *f = fopen(sel[i], "rb");
			if (!f)
				continue;
			fclose(f);
			if (!store_hash_file(sel[i], hex, NULL, e, sizeof(e)) &&
			    !(fhash[i] = strdup(hex)))
				goto oom;
		}
	}
	rc = sqlite3_prepare_v2(db, "SELECT id, name, path, hash, format, "
	                        "size_bytes, events, processes, threads, forks, "
	                        "write_faults, labels, start_ts, dur, dropped "
	                        "FROM traces ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *path = (const char *)sqlite3_column_text(st, 2);
		const char *hash = (const char *)sqlite3_column_text(st, 3);
		int want = !nsel;
		for (size_t i = 0; i < nsel; i++) {
			if (matches(sel[i], fhash[i], id, name ? name : "",
			            path ? path : "", hash ? hash : "")) {
				used[i] = 1;
				want = 1;
			}
		}
		if (!want)
			continue;
		struct rep_trace *n = realloc(out->traces,
		                              (out->ntraces + 1) * sizeof(*n));
		if (!n)
			goto oom;
		out->traces = n;
		struct rep_trace *t = &out->traces[out->ntraces++];
		memset(t, 0, sizeof(*t));
		t->id = id;
		t->name = dup_col(st, 1);
		t->path = dup_col(st, 2);
		t->hash = dup_col(st, 3);
		t->format = dup_col(st, 4);
		if (!t->name || !t->path || !t->hash || !t->format)
			goto oom;
		t->size_bytes = int_or(st, 5, -1);
		t->events = int_or(st, 6, -1);
		t->processes = int_or(st, 7, -1);
		t->threads = int_or(st, 8, -1);
		t->forks = int_or(st, 9, -1);
		t->write_faults = int_or(st, 10, -1);
		t->labels = int_or(st, 11, -1);
		t->start_ts = int_or(st, 12, -1);
		t->dur = int_or(st, 13, -1);
		t->dropped = int_or(st, 14, -1);
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < nsel; i++) {
		if (!used[i]) {
			char names[512];
			list_stored(db, "SELECT name FROM traces ORDER BY id", names,
			            sizeof(names));
			snprintf(err, errlen, "no stored trace matches '%s' (stored: "
			         "%s; --trace takes a name, path, file, id or hash "
			         "prefix)", sel[i], names[0] ? names : "none");
			rc = -ENOENT;
			goto fail;
		}
	}
	for (size_t i = 0; i < out->ntraces; i++)
		if ((rc = load_runs(db, &out->traces[i], policies, err, errlen)))
			goto fail;
	/* Drop traces left without a run (a --policy filter). */
	size_t w = 0, runs = 0;
	for (size_t i = 0; i < out->ntraces; i++) {
		runs += out->traces[i].nruns;
		if (out->traces[i].nruns) {
			out->traces[w++] = out->traces[i];
		} else {
			rep_trace_free(&out->traces[i]);
		}
	}
	out->ntraces = w;
	if (!runs) {
		char names[512];
		if (policies) {
			list_stored(db, "SELECT policy FROM runs GROUP BY policy "
			            "ORDER BY min(policy_order), policy",
			            names, sizeof(names));
			snprintf(err, errlen, "no stored run of %s on %s (stored "
			         "policies: %s)", policies,
			         nsel ? "those traces" : "any trace",
			         names[0] ? names : "none");
		} else {
			snprintf(err, errlen, "no runs stored yet (`cowsim replay "
			         "TRACE --db FILE` stores some)");
		}
		rc = -ENOENT;
		goto fail;
	}
	rc = 0;
	goto out;
sqlfail:
	snprintf(err, errlen, "reading traces: %s", sqlite3_errmsg(db));
	rc = -EIO;
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
fail:
	sqlite3_finalize(st);
	rep_free(out);
out:
	for (size_t i = 0; fhash && i < nsel; i++)
		free(fhash[i]);
	free(fhash);
	free(used);
	return rc;
}

int rep_find_policy(const struct rep_trace *t, const char *policy)
{
	for (size_t i = 0; i < t->nruns; i++)
		if (!strcmp(t->runs[i].policy, policy))
			return (int)i;
	return -1;
}

int rep_has_policy(const struct rep_data *d, const char *policy)
{
	for (size_t i = 0; i < d->ntraces; i++)
		if (rep_find_policy(&d->traces[i], policy) >= 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the table                                                           */

static const struct rep_row derived[] = {
	{ "copies", "all COW copies: at fault (anon and file) and at fork" },
	{ "unnecessary", "copies nothing could have observed a reuse of "
	                 "(unnecessary_copies + unnecessary_fork_copies)" },
	{ "cow_agree_pct", "% of the kernel-labelled faults that matter for "
	                   "copy-on-write whose outcome the policy predicted "
	                   "(cow_agree / cow_labelled)" },
	{ "agree_pct", "% of all kernel-labelled faults, first touches of fresh "
	               "memory included, whose outcome the policy predicted "
	               "(agree / labelled)" },
};
#define NDERIVED (sizeof(derived) / sizeof(derived[0]))

static int64_t metric(const struct rep_run *r, const char *name, int *null)
{
	int i = sim_metric_find(name);
	if (i < 0 || r->m_null[i]) {
		*null = 1;
		return 0;
	}
	return r->m[i];
}

static struct rep_cell derived_cell(const struct rep_run *r, size_t k)
{
	struct rep_cell c = { .kind = REP_INT };
	int null = 0;
	switch (k) {
	case 0:
		c.i = metric(r, "copies_fault", &null) + metric(r, "copies_file", &null) +
		      metric(r, "copies_fork", &null);
		break;
	case 1:
		c.i = metric(r, "unnecessary_copies", &null) +
		      metric(r, "unnecessary_fork_copies", &null);
		break;
	case 2:
	case 3: {
		int64_t l = metric(r, k == 2 ? "cow_labelled" : "labelled", &null);
		int64_t a = metric(r, k == 2 ? "cow_agree" : "agree", &null);
		if (l <= 0) {
			c.kind = REP_NULL;
		} else {
			c.kind = REP_REAL;
			c.d = 100.0 * (double)a / (double)l;
		}
		break;
	}
	}
	if (null)
		c.kind = REP_NULL;
	return c;
}

int rep_table_build(const struct rep_trace *t, int brief,
                    struct rep_table *out)
{
	size_t nm = sim_nmetrics(), max = NDERIVED + nm + 2, nr = 0;
	size_t nc = t->nruns;

	memset(out, 0, sizeof(*out));
	out->rows = calloc(max, sizeof(*out->rows));
	out->cells = calloc(max * (nc ? nc : 1), sizeof(*out->cells));
	if (!out->rows || !out->cells) {
		rep_table_free(out);
		return -ENOMEM;
	}
	out->ncols = nc;
	for (size_t k = 0; k < max; k++) {
		struct rep_row row;
		for (size_t c = 0; c < nc; c++) {
			const struct rep_run *r = &t->runs[c];
			struct rep_cell *cell = &out->cells[nr * nc + c];
			if (k < NDERIVED) {
				*cell = derived_cell(r, k);
			} else if (k < NDERIVED + nm) {
				size_t i = k - NDERIVED;
				*cell = (struct rep_cell){
					.kind = r->m_null[i] ? REP_NULL : REP_INT, .i = r->m[i] };
			} else if (k == NDERIVED + nm) {
				*cell = (struct rep_cell){ .kind = REP_REAL,
				                           .d = r->replay_seconds };
			} else {
				*cell = (struct rep_cell){
					.kind = r->memory_peak_bytes < 0 ? REP_NULL : REP_INT,
					.i = r->memory_peak_bytes };
			}
		}
		if (k < NDERIVED)
			row = derived[k];
		else if (k < NDERIVED + nm)
			row.name = sim_metric_name(k - NDERIVED, &row.doc);
		else if (k == NDERIVED + nm)
			row = (struct rep_row){ "replay_seconds",
			                        "time the engine spent on this run" };
		else
			row = (struct rep_row){ "memory_peak_bytes",
			                        "memory the engine itself took at its "
			                        "peak (the simulator's, not the "
			                        "modeled kernel's)" };
		if (brief && strcmp(row.name, "leaks") && strcmp(row.name, "lost_pins")) {
			int any = 0;
			for (size_t c = 0; c < nc; c++) {
				const struct rep_cell *cell = &out->cells[nr * nc + c];
				any |= (cell->kind == REP_INT && cell->i) ||
				       (cell->kind == REP_REAL &&
				        (cell->d != 0 || strstr(row.name, "agree_pct")));
			}
			if (!any)
				continue;
		}
		out->rows[nr++] = row;
	}
	out->nrows = nr;
	return 0;
}

void rep_table_free(struct rep_table *tb)
{
	free(tb->rows);
	free(tb->cells);
	memset(tb, 0, sizeof(*tb));
}

const char *rep_cell_str(const struct rep_cell *c, char *buf, size_t len)
{
	switch (c->kind) {
	case REP_INT:
		snprintf(buf, len, "%" PRId64, c->i);
		break;
	case REP_REAL:
		snprintf(buf, len, "%.4g", c->d);
		break;
	default:
		snprintf(buf, len, "%s", "");
		break;
	}
	return buf;
}

int rep_ratio(const struct rep_cell *c, const struct rep_cell *base,
              double *r)
{
	if (c->kind == REP_NULL || base->kind == REP_NULL)
		return -1;
	double v = c->kind == REP_INT ? (double)c->i : c->d;
	double b = base->kind == REP_INT ? (double)base->i : base->d;
	if (b == 0) {
		if (v != 0)
			return -1;
		*r = 1;
		return 0;
	}
	*r = v / b;
	return 0;
}

void rep_trace_summary(const struct rep_trace *t, char *buf, size_t len)
{
	size_t l = (size_t)snprintf(buf, len, "%s", t->format);
	if (t->events >= 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %" PRId64 " events",
		                      t->events);
	if (t->processes >= 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %" PRId64 " processes",
		                      t->processes);
	/* traces.forks counts every process creation; the runs tell the
	 * vforks and CLONE_VM clones apart (docs/model.md), which no fork
	 * figure takes, so the count says what the figures are over. */
	int vi = sim_metric_find("vforks"), ci = sim_metric_find("vm_clones");
	int64_t vf = 0, vm = 0;
	if (t->nruns && vi >= 0 && ci >= 0 && !t->runs[0].m_null[vi] &&
	    !t->runs[0].m_null[ci]) {
		vf = t->runs[0].m[vi];
		vm = t->runs[0].m[ci];
	}
	if (t->forks >= 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %" PRId64 " forks",
		                      t->forks - vf - vm);
	if (vf > 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, " + %" PRId64 " vforks", vf);
	if (vm > 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, " + %" PRId64
		                      " CLONE_VM clones", vm);
	if (t->dur >= 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %.3f s of trace",
		                      (double)t->dur / 1e9);
	if (t->labels > 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %" PRId64 " labelled faults",
		                      t->labels);
	if (t->dropped > 0 && l < len)
		l += (size_t)snprintf(buf + l, len - l, ", %" PRId64 " events DROPPED",
		                      t->dropped);
	if (t->hash[0] && l < len)
		snprintf(buf + l, len - l, ", hash %.12s", t->hash);
}
