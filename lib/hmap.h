/*
 * hmap.h - cowsim's one hash map: open addressing, linear probing,
 * backward-shift deletion, power-of-two capacity, load factor at most 1/2.
 *
 * Low-level: includes nothing above lib/.
 *
 * Its users differ in what a slot holds and what it may cost - the engine
 * accounts every byte it allocates (memory_peak_bytes), and keeps 8 bytes a
 * slot for a u32 -> u32 side table, 12 for a u64 -> u32 page cache, 4 for an
 * index of tasks whose tids live in the task array.  So the map is not one
 * type but a definition macro, as klib's khash: each user instantiates it
 * with its own key and value types, hash function and initial capacity, and
 * gets static inline functions (lookups sit on the engine's fault path).
 * Two flavours share the probing and deletion rules below:
 *
 *   HMAP_DEFINE(name, key_t, val_t, hash, mincap)
 *	a key -> value map, keys and values in two parallel arrays
 *	(cap * (sizeof(key_t) + sizeof(val_t)) bytes, nothing else);
 *
 *   HMAP_DEFINE_INDEX(name, item_t, key_t, ctx_t, hash_key, hash_item,
 *                     match, mincap)
 *	an index of items kept elsewhere: a slot holds only the item (an
 *	array index + 1, or a pointer), whose key the caller's functions
 *	derive through a context (cap * sizeof(item_t) bytes).
 *
 * Invariants (of both flavours):
 *  - cap is 0 (nothing allocated: a zero-filled struct is an empty map) or
 *    a power of two, at least mincap; n < cap / 2 + 1 always (a map grows
 *    before the insert that would make 2 * n exceed cap);
 *  - a slot is empty iff it holds 0: a key -> value map stores key + 1 in
 *    its key array (so the key (key_t)-1 cannot be stored), an index stores
 *    items, which are never 0 / NULL;
 *  - every entry lies on the run of non-empty slots that starts at its home,
 *    hash & (cap - 1), and no empty slot lies between its home and it.
 *    Deletion keeps this by shifting later members of the run back over the
 *    hole (Knuth's Algorithm R), so there are no tombstones;
 *  - the layout is a function of the sequence of operations alone: growth
 *    doubles the capacity (grow.h's rule) and re-inserts the old slots in
 *    slot order.  Callers may walk the slot arrays from 0 to cap - 1 (the
 *    key, val and slot members are public); the order they see is stable
 *    from run to run.
 *
 * Each DEFINE macro is its STRUCT macro (the type alone, for a header that
 * embeds the map in a struct of its own) followed by its FUNCS macro (the
 * functions, in the file that owns the hash functions):
 * HMAP_STRUCT(name, key_t, val_t) + HMAP_FUNCS(name, key_t, val_t, hash,
 * mincap); HMAP_INDEX_STRUCT(name, item_t) + HMAP_INDEX_FUNCS(name, item_t,
 * key_t, ctx_t, hash_key, hash_item, match, mincap).
 *
 * Memory: the map allocates only when it grows; NAME_bytes() says how many
 * bytes it holds, so a caller that accounts memory compares it before and
 * after an insert.
 *
 * Errors: the functions that insert return 0 or -ENOMEM, and on -ENOMEM the
 * map is unchanged.  Nothing else can fail.
 *
 * Functions of HMAP_DEFINE(name, ...), m a struct name *:
 *   val_t *name_get(m, key)      the value's slot, or NULL
 *   int name_put(m, key, val)    set (insert or replace); grows only when
 *                                the key is new
 *   bool name_del(m, key)        remove; false if the key was absent
 *   size_t name_bytes(m), void name_free(m) (leaves an empty map)
 *
 * Functions of HMAP_DEFINE_INDEX(name, ...), ctx a const ctx_t *:
 *   item_t name_find(m, ctx, key)   the item whose key matches, or 0
 *   int name_add(m, ctx, item)      insert (the caller knows it is absent)
 *   void name_remove(m, ctx, item)  remove this item, which must be there
 *   void name_clear(m)              empty it, keeping its capacity
 *   size_t name_bytes(m), void name_free(m)
 * hash_key(key) and hash_item(ctx, item) must agree on an item's key;
 * match(ctx, item, key) says whether the item is the one sought (it may
 * also say no for items the caller has retired but not yet removed).
 */
#ifndef COWSIM_HMAP_H
#define COWSIM_HMAP_H

#include "grow.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Can the entry at slot j, whose home is home, move back to the hole at
 * slot h?  Yes unless its home lies cyclically in (h, j]. */
static inline bool hmap_movable(uint32_t h, uint32_t j, uint32_t home,
                                uint32_t mask)
{
	return ((j - home) & mask) >= ((j - h) & mask);
}

/* The capacity a map of capacity cap holding n entries needs before it
 * takes one more: cap itself, or doubled (mincap from 0).  Returns 0 with
 * *out set, or -ENOMEM. */
static inline int hmap_room(uint32_t cap, uint32_t n, uint32_t mincap,
                            size_t slot_size, uint32_t *out)
{
	size_t c;

	if (((uint64_t)n + 1) * 2 <= cap) {
		*out = cap;
		return 0;
	}
	if (grow_cap(cap, (size_t)cap + 1, mincap, (size_t)1 << 31, slot_size,
	             &c))
		return -ENOMEM;
	*out = (uint32_t)c;
	return 0;
}

#define HMAP_STRUCT(name, key_t, val_t)                                       \
struct name {                                                                 \
	key_t *key;          /* key + 1; 0 = empty */                         \
	val_t *val;                                                           \
	uint32_t cap, n;                                                      \
}

#define HMAP_DEFINE(name, key_t, val_t, hash, mincap)                         \
HMAP_STRUCT(name, key_t, val_t);                                              \
HMAP_FUNCS(name, key_t, val_t, hash, mincap)

#define HMAP_FUNCS(name, key_t, val_t, hash, mincap)                          \
static inline uint32_t name##_slot(const struct name *m, key_t k)            \
{                                                                             \
	uint32_t mask = m->cap - 1;                                           \
	uint32_t i = (uint32_t)(hash(k)) & mask;                              \
	while (m->key[i] && m->key[i] != (key_t)(k + 1))                      \
		i = (i + 1) & mask;                                           \
	return i;                                                             \
}                                                                             \
                                                                              \
static inline val_t *name##_get(const struct name *m, key_t k)               \
{                                                                             \
	if (!m->cap)                                                          \
		return NULL;                                                  \
	uint32_t i = name##_slot(m, k);                                       \
	return m->key[i] ? &m->val[i] : NULL;                                 \
}                                                                             \
                                                                              \
static inline size_t name##_bytes(const struct name *m)                      \
{                                                                             \
	return (size_t)m->cap * (sizeof(key_t) + sizeof(val_t));              \
}                                                                             \
                                                                              \
static inline int name##_rehash(struct name *m, uint32_t cap)                \
{                                                                             \
	struct name g = { .cap = cap, .n = m->n };                            \
	g.key = calloc(cap, sizeof(key_t));                                   \
	g.val = calloc(cap, sizeof(val_t));                                   \
	if (!g.key || !g.val) {                                               \
		free(g.key);                                                  \
		free(g.val);                                                  \
		return -ENOMEM;                                               \
	}                                                                     \
	for (uint32_t i = 0; i < m->cap; i++) {                               \
		if (!m->key[i])                                               \
			continue;                                             \
		uint32_t j = name##_slot(&g, (key_t)(m->key[i] - 1));         \
		g.key[j] = m->key[i];                                         \
		g.val[j] = m->val[i];                                         \
	}                                                                     \
	free(m->key);                                                         \
	free(m->val);                                                         \
	*m = g;                                                               \
	return 0;                                                             \
}                                                                             \
                                                                              \
static inline int name##_put(struct name *m, key_t k, val_t v)               \
{                                                                             \
	val_t *p = name##_get(m, k);                                          \
	uint32_t cap;                                                         \
	if (p) {                                                              \
		*p = v;                                                       \
		return 0;                                                     \
	}                                                                     \
	if (hmap_room(m->cap, m->n, (mincap), sizeof(key_t) + sizeof(val_t),  \
	              &cap))                                                  \
		return -ENOMEM;                                               \
	if (cap != m->cap && name##_rehash(m, cap))                           \
		return -ENOMEM;                                               \
	uint32_t i = name##_slot(m, k);                                       \
	m->key[i] = (key_t)(k + 1);                                           \
	m->val[i] = v;                                                        \
	m->n++;                                                               \
	return 0;                                                             \
}                                                                             \
                                                                              \
static inline bool name##_del(struct name *m, key_t k)                       \
{                                                                             \
	if (!m->cap)                                                          \
		return false;                                                 \
	uint32_t mask = m->cap - 1, i = name##_slot(m, k);                    \
	if (!m->key[i])                                                       \
		return false;                                                 \
	for (uint32_t j = (i + 1) & mask; m->key[j]; j = (j + 1) & mask) {    \
		uint32_t home = (uint32_t)(hash((key_t)(m->key[j] - 1))) & mask; \
		if (hmap_movable(i, j, home, mask)) {                         \
			m->key[i] = m->key[j];                                \
			m->val[i] = m->val[j];                                \
			i = j;                                                \
		}                                                             \
	}                                                                     \
	m->key[i] = 0;                                                        \
	m->n--;                                                               \
	return true;                                                          \
}                                                                             \
                                                                              \
static inline void name##_free(struct name *m)                               \
{                                                                             \
	free(m->key);                                                         \
	free(m->val);                                                         \
	memset(m, 0, sizeof(*m));                                             \
}

#define HMAP_INDEX_STRUCT(name, item_t)                                       \
struct name {                                                                 \
	item_t *slot;        /* 0 = empty */                                  \
	uint32_t cap, n;                                                      \
}

#define HMAP_DEFINE_INDEX(name, item_t, key_t, ctx_t, hash_key, hash_item,   \
                          match, mincap)                                      \
HMAP_INDEX_STRUCT(name, item_t);                                              \
HMAP_INDEX_FUNCS(name, item_t, key_t, ctx_t, hash_key, hash_item, match,      \
                 mincap)

#define HMAP_INDEX_FUNCS(name, item_t, key_t, ctx_t, hash_key, hash_item,    \
                         match, mincap)                                       \
static inline item_t name##_find(const struct name *m, const ctx_t *c,       \
                                 key_t k)                                     \
{                                                                             \
	if (!m->cap)                                                          \
		return (item_t)0;                                             \
	uint32_t mask = m->cap - 1;                                           \
	for (uint32_t i = (uint32_t)(hash_key(k)) & mask; m->slot[i];         \
	     i = (i + 1) & mask)                                              \
		if (match(c, m->slot[i], k))                                  \
			return m->slot[i];                                    \
	return (item_t)0;                                                     \
}                                                                             \
                                                                              \
static inline size_t name##_bytes(const struct name *m)                      \
{                                                                             \
	return (size_t)m->cap * sizeof(item_t);                               \
}                                                                             \
                                                                              \
/* Put item it in the first empty slot of its run (no room check). */        \
static inline void name##_place(struct name *m, const ctx_t *c, item_t it)   \
{                                                                             \
	uint32_t mask = m->cap - 1;                                           \
	uint32_t i = (uint32_t)(hash_item(c, it)) & mask;                     \
	while (m->slot[i])                                                    \
		i = (i + 1) & mask;                                           \
	m->slot[i] = it;                                                      \
	m->n++;                                                               \
}                                                                             \
                                                                              \
static inline int name##_add(struct name *m, const ctx_t *c, item_t it)      \
{                                                                             \
	uint32_t cap;                                                         \
	if (hmap_room(m->cap, m->n, (mincap), sizeof(item_t), &cap))          \
		return -ENOMEM;                                               \
	if (cap != m->cap) {                                                  \
		struct name g = { .cap = cap };                               \
		g.slot = calloc(cap, sizeof(item_t));                         \
		if (!g.slot)                                                  \
			return -ENOMEM;                                       \
		for (uint32_t i = 0; i < m->cap; i++)                         \
			if (m->slot[i])                                       \
				name##_place(&g, c, m->slot[i]);              \
		free(m->slot);                                                \
		*m = g;                                                       \
	}                                                                     \
	name##_place(m, c, it);                                               \
	return 0;                                                             \
}                                                                             \
                                                                              \
static inline void name##_remove(struct name *m, const ctx_t *c, item_t it)  \
{                                                                             \
	uint32_t mask = m->cap - 1;                                           \
	uint32_t i = (uint32_t)(hash_item(c, it)) & mask;                     \
	while (m->slot[i] != it)                                              \
		i = (i + 1) & mask;                                           \
	for (uint32_t j = (i + 1) & mask; m->slot[j]; j = (j + 1) & mask) {   \
		uint32_t home = (uint32_t)(hash_item(c, m->slot[j])) & mask;  \
		if (hmap_movable(i, j, home, mask)) {                         \
			m->slot[i] = m->slot[j];                              \
			i = j;                                                \
		}                                                             \
	}                                                                     \
	m->slot[i] = (item_t)0;                                               \
	m->n--;                                                               \
}                                                                             \
                                                                              \
static inline void name##_clear(struct name *m)                              \
{                                                                             \
	if (m->cap)                                                           \
		memset(m->slot, 0, name##_bytes(m));                          \
	m->n = 0;                                                             \
}                                                                             \
                                                                              \
static inline void name##_free(struct name *m)                               \
{                                                                             \
	free(m->slot);                                                        \
	memset(m, 0, sizeof(*m));                                             \
}

#endif
