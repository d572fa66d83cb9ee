/*
 * strtab.h - an interning string table: each distinct string gets a small
 * integer id, in order of first appearance, id 0 being the empty string.
 *
 * Event records carry string ids (comm names, file identities, exec paths,
 * marker text) so that they stay fixed-size; the table travels with the
 * stream (evfile.h writes it after the records).  Strings are stored
 * NUL-terminated in one growing arena; ids index an offset array.
 *
 * Low-level: includes nothing above lib/.
 *
 * Lifecycle: strtab_init(), strtab_intern() / strtab_get(), strtab_free().
 * Errors: strtab_intern() returns the id, or UINT32_MAX on ENOMEM.
 */
#ifndef COWSIM_STRTAB_H
#define COWSIM_STRTAB_H

#include "hmap.h"

#include <stddef.h>
#include <stdint.h>

/* id + 1 of each string, hashed by its text (the functions: strtab.c) */
HMAP_INDEX_STRUCT(strtab_index, uint32_t);

struct strtab {
	char *arena;
	size_t used, cap;
	uint64_t *off;       /* off[id] = offset of string id in arena */
	size_t capn;
	uint32_t n;
	struct strtab_index idx;
};

void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);
static inline const char *strtab_get(const struct strtab *t, uint32_t id)
{
	return id < t->n ? t->arena + t->off[id] : "";
}
static inline size_t strtab_len(const struct strtab *t, uint32_t id)
{
	if (id >= t->n)
		return 0;
	size_t end = id + 1 < t->n ? t->off[id + 1] : t->used;
	return end - t->off[id] - 1;
}

#endif
