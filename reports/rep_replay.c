/*
 * rep_replay.c - a replay just done, as the reports' plain structs (rep.h),
 * so that `cowsim replay` prints its results with compare's formatter and
 * the two verbs show the same runs the same way.
 *
 * A separate file from rep.c because it reads the engines, not the store:
 * the rows then come out of rep_table_build() in the same order and with
 * the same derived rows as a stored run's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/replay.h"
#include "rep.h"

static int fill_run(struct rep_run *o, const struct replay_run *run)
{
	const struct sim_metrics *m = sim_metrics(run->e);
	size_t nm = sim_nmetrics();

	o->id = -1;
	o->policy = strdup(run->cfg.name);
	o->model = strdup(cfg_model_name(run->cfg.model));
	o->kernel = strdup(run->cfg.kernel);
	o->replay_seconds = run->seconds;
	o->memory_peak_bytes = (int64_t)sim_peak_memory_bytes(run->e);
	o->m = calloc(nm ? nm : 1, sizeof(*o->m));
	o->m_null = calloc(nm ? nm : 1, 1);
	if (!o->policy || !o->model || !o->kernel || !o->m || !o->m_null)
		return -ENOMEM;
	for (size_t i = 0; i < nm; i++)
		o->m[i] = (int64_t)sim_metric_get(m, i);
	return 0;
}

int rep_add_replay(struct rep_data *d, const struct replay *r)
{
	struct rep_trace *n = realloc(d->traces, (d->ntraces + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	d->traces = n;
	struct rep_trace *t = &d->traces[d->ntraces];
	memset(t, 0, sizeof(*t));
	t->id = -1;
	t->size_bytes = t->processes = t->threads = t->forks = -1;
	t->write_faults = t->labels = t->start_ts = t->dropped = -1;
	t->events = (int64_t)r->events;
	t->dur = r->events ? (int64_t)(r->last_ts - r->first_ts) : -1;
	t->name = strdup(r->trace);
	t->path = strdup(r->trace);
	t->hash = strdup("");
	t->format = strdup(r->format ? r->format : "");
	t->runs = calloc(r->nruns ? r->nruns : 1, sizeof(*t->runs));
	if (!t->name || !t->path || !t->hash || !t->format ||
	    !t->runs)
		goto oom;
	for (size_t i = 0; i < r->nruns; i++) {
		t->nruns++;
		if (fill_run(&t->runs[i], &r->runs[i]))
			goto oom;
	}
	d->ntraces++;
	return 0;
oom:
	/* every pointer is an allocation's result or NULL: freeable */
	rep_trace_free(t);
	return -ENOMEM;
}
