/*
 * strtab.c - interning string table (see strtab.h).
 */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fnv(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
	strtab_intern(t, "", 0);
}

void strtab_free(struct strtab *t)
{
	free(t->arena);
	free(t->off);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

static int rehash(struct strtab *t, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return -1;
	for (uint32_t id = 0; id < t->n; id++) {
		const char *s = t->arena + t->off[id];
		uint32_t k = fnv(s, strtab_len(t, id)) & (cap - 1);
		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = id + 1;
	}
	free(t->hash);
	t->hash = h;
	t->hcap = cap;
	return 0;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	if (t->hcap) {
		uint32_t k = fnv(s, len) & (t->hcap - 1);
		while (t->hash[k]) {
			uint32_t id = t->hash[k] - 1;
			if (strtab_len(t, id) == len &&
			    !memcmp(t->arena + t->off[id], s, len))
				return id;
			k = (k + 1) & (t->hcap - 1);
		}
	}
	if (t->used + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->used + len + 1)
			cap *= 2;
		char *a = realloc(t->arena, cap);
		if (!a)
			return UINT32_MAX;
		t->arena = a;
		t->cap = cap;
	}
	if (t->n == t->capn) {
		uint32_t cap = t->capn ? t->capn * 2 : 64;
		uint64_t *o = realloc(t->off, cap * sizeof(*o));
		if (!o)
			return UINT32_MAX;
		t->off = o;
		t->capn = cap;
	}
	if ((t->n + 1) * 2 > t->hcap && rehash(t, t->hcap ? t->hcap * 2 : 128))
		return UINT32_MAX;
	uint32_t id = t->n++;
	t->off[id] = t->used;
	memcpy(t->arena + t->used, s, len);
	t->arena[t->used + len] = 0;
	t->used += len + 1;
	uint32_t k = fnv(s, len) & (t->hcap - 1);
	while (t->hash[k])
		k = (k + 1) & (t->hcap - 1);
	t->hash[k] = id + 1;
	return id;
}
