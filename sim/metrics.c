/*
 * metrics.c - metric names, for lookups by name (scenario expectations,
 * the results store).
 */
#include <stddef.h>
#include <string.h>

#include "sim.h"

static const struct {
	const char *name;
	const char *unit;
	const char *doc;
	size_t off;
} table[] = {
#define M(n, u, d) { #n, #u, d, offsetof(struct sim_metrics, n) },
	SIM_COUNTERS(M)
	SIM_GAUGES(M)
#undef M
};

size_t sim_nmetrics(void)
{
	return sizeof(table) / sizeof(table[0]);
}

const char *sim_metric_name(size_t i, const char **doc)
{
	if (i >= sim_nmetrics())
		return NULL;
	if (doc)
		*doc = table[i].doc;
	return table[i].name;
}

const char *sim_metric_unit(size_t i)
{
	return i < sim_nmetrics() ? table[i].unit : NULL;
}

int sim_metric_find(const char *name)
{
	for (size_t i = 0; i < sim_nmetrics(); i++)
		if (!strcmp(table[i].name, name))
			return (int)i;
	return -1;
}

uint64_t sim_metric_get(const struct sim_metrics *m, size_t i)
{
	return *(const uint64_t *)((const char *)m + table[i].off);
}
