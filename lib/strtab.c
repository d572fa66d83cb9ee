/*
 * strtab.c - interning string table (see strtab.h).
 *
 * The index is hmap.h's item flavour: a slot holds id + 1 and the string
 * itself stays in the arena, so the table costs 4 bytes a slot.
 */
#include "strtab.h"
#include "grow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fnv(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* A string sought in the index. */
struct strtab_key {
	const char *s;
	size_t len;
};

static inline uint32_t key_hash(struct strtab_key k)
{
	return fnv(k.s, k.len);
}

static inline uint32_t item_hash(const struct strtab *t, uint32_t item)
{
	return fnv(t->arena + t->off[item - 1], strtab_len(t, item - 1));
}

static inline bool item_match(const struct strtab *t, uint32_t item,
                              struct strtab_key k)
{
	return strtab_len(t, item - 1) == k.len &&
	       !memcmp(t->arena + t->off[item - 1], k.s, k.len);
}

HMAP_INDEX_FUNCS(strtab_index, uint32_t, struct strtab_key, struct strtab,
                 key_hash, item_hash, item_match, 128)

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
	strtab_intern(t, "", 0);
}

void strtab_free(struct strtab *t)
{
	free(t->arena);
	free(t->off);
	strtab_index_free(&t->idx);
	memset(t, 0, sizeof(*t));
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	uint32_t item = strtab_index_find(&t->idx, t,
	                                  (struct strtab_key){ s, len });
	if (item)
		return item - 1;
	if (grow_array((void **)&t->arena, &t->cap, t->used + len + 1, 1, 4096,
	               false) ||
	    grow_array((void **)&t->off, &t->capn, (size_t)t->n + 1,
	               sizeof(*t->off), 64, false))
		return UINT32_MAX;
	uint32_t id = t->n++;
	t->off[id] = t->used;
	memcpy(t->arena + t->used, s, len);
	t->arena[t->used + len] = 0;
	t->used += len + 1;
	if (strtab_index_add(&t->idx, t, id + 1)) {
		/* Forget the string: the arena keeps its bytes, unused. */
		t->n--;
		t->used = t->off[id];
		return UINT32_MAX;
	}
	return id;
}
