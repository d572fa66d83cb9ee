/*
 * test_lib.c - unit tests of the ground floor's containers: the hash map
 * (lib/hmap.h) in both flavours against a plain array model, and the growth
 * rule (lib/grow.h).
 *
 * The map tests follow SQLite's way with its own containers: long random
 * sequences of operations, several seeds, each result compared with a model
 * too simple to be wrong (a linear array), and the structure's invariants
 * checked as it goes.  Weak hashes are used on purpose: they make long
 * probe runs that wrap around the end of the table, where backward-shift
 * deletion is easiest to get wrong.
 */
#include "lib/grow.h"
#include "lib/hmap.h"
#include "lib/strtab.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* key -> value maps                                                   */

static inline uint32_t hash_good(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

/* Eight homes for all keys, the last four slots and the first four: runs
 * as long as the table allows, wrapping around its end. */
static inline uint32_t hash_bad(uint32_t k)
{
	return (k & 7) - 4u;
}

HMAP_DEFINE(map64, uint64_t, uint32_t, hash_good, 16)
HMAP_DEFINE(map32, uint32_t, uint32_t, hash_bad, 4)

/* The model: n (key, value) pairs in no order. */
struct model {
	uint64_t key[4096];
	uint32_t val[4096];
	uint32_t n;
};

static int model_find(const struct model *md, uint64_t k)
{
	for (uint32_t i = 0; i < md->n; i++)
		if (md->key[i] == k)
			return (int)i;
	return -1;
}

/* The invariants of hmap.h, checked on a whole map. */
#define CHECK_MAP(m, hash) do { \
	uint32_t cnt_ = 0, mask_ = (m)->cap - 1; \
	CHECK((m)->cap == 0 || ((m)->cap & mask_) == 0); \
	CHECK((uint64_t)(m)->n * 2 <= (m)->cap + 1); \
	for (uint32_t i_ = 0; i_ < (m)->cap; i_++) { \
		if (!(m)->key[i_]) \
			continue; \
		cnt_++; \
		/* No hole between the entry's home and the entry. */ \
		for (uint32_t h_ = hash((m)->key[i_] - 1) & mask_; h_ != i_; \
		     h_ = (h_ + 1) & mask_) \
			CHECK((m)->key[h_]); \
	} \
	CHECK_EQ(cnt_, (m)->n); \
} while (0)

static void test_map64(uint64_t seed)
{
	struct map64 m = { 0 };
	static struct model md;
	uint64_t rs = seed;

	md.n = 0;
	for (int op = 0; op < 200000; op++) {
		/* Few distinct keys, so puts, updates and deletes all hit. */
		uint64_t k = test_rand(&rs) % 3000;
		if (k == 2999)
			k = UINT64_MAX - 1;   /* the largest storable key */
		uint32_t v = (uint32_t)test_rand(&rs);
		int at = model_find(&md, k);
		uint32_t *p = map64_get(&m, k);
		CHECK(at < 0 ? !p : p && *p == md.val[at]);
		switch (test_rand(&rs) % 4) {
		case 0:
		case 1:
			CHECK_EQ(map64_put(&m, k, v), 0);
			if (at < 0) {
				at = (int)md.n++;
				md.key[at] = k;
			}
			md.val[at] = v;
			break;
		case 2:
			CHECK_EQ(map64_del(&m, k), at >= 0);
			if (at >= 0) {
				md.n--;
				md.key[at] = md.key[md.n];
				md.val[at] = md.val[md.n];
			}
			break;
		default:
			break;
		}
		CHECK_EQ(m.n, md.n);
		if (op % 10000 == 0)
			CHECK_MAP(&m, hash_good);
	}
	CHECK_MAP(&m, hash_good);
	for (uint32_t i = 0; i < md.n; i++) {
		uint32_t *p = map64_get(&m, md.key[i]);
		CHECK(p && *p == md.val[i]);
	}
	CHECK_EQ(map64_bytes(&m), (size_t)m.cap * 12);
	map64_free(&m);
	CHECK(!m.cap && !m.n && !map64_get(&m, 1) && !map64_del(&m, 1));
}

static void test_map32(uint64_t seed)
{
	struct map32 m = { 0 };
	static struct model md;
	uint64_t rs = seed;

	md.n = 0;
	for (int op = 0; op < 100000; op++) {
		uint32_t k = (uint32_t)(test_rand(&rs) % 200);
		uint32_t v = (uint32_t)test_rand(&rs);
		int at = model_find(&md, k);
		uint32_t *p = map32_get(&m, k);
		CHECK(at < 0 ? !p : p && *p == md.val[at]);
		/* Grow and shrink in waves, so that deletion sees full runs. */
		bool filling = (op / 5000) % 2 == 0;
		if (test_rand(&rs) % 4 < (filling ? 3u : 1u)) {
			size_t before = map32_bytes(&m);
			CHECK_EQ(map32_put(&m, k, v), 0);
			/* An update never grows the map. */
			if (at >= 0)
				CHECK_EQ(map32_bytes(&m), before);
			if (at < 0) {
				at = (int)md.n++;
				md.key[at] = k;
			}
			md.val[at] = v;
		} else {
			CHECK_EQ(map32_del(&m, k), at >= 0);
			if (at >= 0) {
				md.n--;
				md.key[at] = md.key[md.n];
				md.val[at] = md.val[md.n];
			}
		}
		CHECK_EQ(m.n, md.n);
		if (op % 1000 == 0)
			CHECK_MAP(&m, hash_bad);
	}
	CHECK_MAP(&m, hash_bad);
	CHECK(m.cap >= 4 && m.cap <= 512);
	map32_free(&m);
}

/* Growth: the minimum capacity first, then doubling at half full, and the
 * bytes the map reports are what it holds. */
static void test_map_growth(void)
{
	struct map64 m = { 0 };

	CHECK_EQ(map64_bytes(&m), 0);
	CHECK_EQ(map64_put(&m, 5, 1), 0);
	CHECK_EQ(m.cap, 16);
	for (uint64_t k = 0; k < 8; k++)
		CHECK_EQ(map64_put(&m, k, (uint32_t)k), 0);
	CHECK_EQ(m.n, 8);
	CHECK_EQ(m.cap, 16);
	CHECK_EQ(map64_put(&m, 8, 8), 0);
	CHECK_EQ(m.cap, 32);
	CHECK_EQ(map64_bytes(&m), 32 * 12);
	map64_free(&m);
}

/* ------------------------------------------------------------------ */
/* indexes of items kept elsewhere (as the engine's task index)        */

struct pool {
	uint32_t key[1024];    /* item i + 1 has key key[i] */
	bool live[1024];
};

static inline uint32_t ix_hash_key(uint32_t k)
{
	return hash_bad(k);
}

static inline uint32_t ix_hash_item(const struct pool *p, uint32_t it)
{
	return hash_bad(p->key[it - 1]);
}

static inline bool ix_match(const struct pool *p, uint32_t it, uint32_t k)
{
	return p->live[it - 1] && p->key[it - 1] == k;
}

HMAP_DEFINE_INDEX(ix, uint32_t, uint32_t, struct pool, ix_hash_key,
                  ix_hash_item, ix_match, 8)

static void test_index(uint64_t seed)
{
	static struct pool p;
	struct ix m = { 0 };
	uint64_t rs = seed;

	memset(&p, 0, sizeof(p));
	for (uint32_t i = 0; i < 1024; i++)
		p.key[i] = (uint32_t)(test_rand(&rs) % 100000);
	for (int op = 0; op < 100000; op++) {
		uint32_t i = (uint32_t)(test_rand(&rs) % 1024);
		uint32_t k = p.key[i];
		/* The model: the first live item of the pool with key k. */
		uint32_t want = 0;
		for (uint32_t j = 0; j < 1024 && !want; j++)
			if (p.live[j] && p.key[j] == k)
				want = j + 1;
		uint32_t got = ix_find(&m, &p, k);
		CHECK(want ? got && p.key[got - 1] == k && p.live[got - 1]
		           : !got);
		if (!p.live[i] && !want) {
			CHECK_EQ(ix_add(&m, &p, i + 1), 0);
			p.live[i] = true;
		} else if (p.live[i]) {
			ix_remove(&m, &p, i + 1);
			p.live[i] = false;
		}
		uint32_t live = 0;
		for (uint32_t j = 0; j < 1024; j++)
			live += p.live[j];
		CHECK_EQ(m.n, live);
	}
	uint32_t cnt = 0;
	for (uint32_t s = 0; s < m.cap; s++) {
		if (!m.slot[s])
			continue;
		cnt++;
		CHECK(p.live[m.slot[s] - 1]);
		for (uint32_t h = ix_hash_item(&p, m.slot[s]) & (m.cap - 1);
		     h != s; h = (h + 1) & (m.cap - 1))
			CHECK(m.slot[h]);
	}
	CHECK_EQ(cnt, m.n);
	CHECK_EQ(ix_bytes(&m), (size_t)m.cap * 4);
	size_t cap = m.cap;
	ix_clear(&m);
	CHECK(m.cap == cap && !m.n && !ix_find(&m, &p, p.key[0]));
	ix_free(&m);
}

/* The string table, whose index is the item flavour. */
static void test_strtab(void)
{
	struct strtab t;
	char buf[32];

	strtab_init(&t);
	CHECK_EQ(strtab_intern(&t, "", 0), 0);
	for (int round = 0; round < 2; round++)
		for (uint32_t i = 0; i < 5000; i++) {
			int len = snprintf(buf, sizeof(buf), "s%u", i * 7919u);
			CHECK_EQ(strtab_intern(&t, buf, (size_t)len), i + 1);
		}
	CHECK_EQ(t.n, 5001);
	CHECK(!strcmp(strtab_get(&t, 1), "s0"));
	CHECK_EQ(strtab_len(&t, 2), 5);
	/* A prefix is a different string. */
	CHECK_EQ(strtab_intern(&t, "s791", 4), 5001);
	strtab_free(&t);
}

/* ------------------------------------------------------------------ */
/* growth                                                              */

static void test_grow(void)
{
	size_t c;

	CHECK_EQ(grow_cap(0, 1, 16, SIZE_MAX, 4, &c), 0);
	CHECK_EQ(c, 16);
	CHECK_EQ(grow_cap(0, 17, 16, SIZE_MAX, 4, &c), 0);
	CHECK_EQ(c, 32);
	CHECK_EQ(grow_cap(32, 20, 16, SIZE_MAX, 4, &c), 0);
	CHECK_EQ(c, 32);
	CHECK_EQ(grow_cap(32, 33, 16, SIZE_MAX, 4, &c), 0);
	CHECK_EQ(c, 64);
	CHECK_EQ(grow_cap(32, 1000, 16, SIZE_MAX, 4, &c), 0);
	CHECK_EQ(c, 1024);
	/* The limit, and overflow of the byte size. */
	CHECK_EQ(grow_cap(16, 17, 16, 31, 4, &c), -ENOMEM);
	CHECK_EQ(grow_cap(16, 17, 16, 32, 4, &c), 0);
	CHECK_EQ(c, 32);
	CHECK_EQ(grow_cap(1, SIZE_MAX / 8, 1, SIZE_MAX, 16, &c), -ENOMEM);
	CHECK_EQ(grow_cap((size_t)1 << 62, ((size_t)1 << 62) + 1, 1, SIZE_MAX,
	                  1, &c), 0);
	CHECK_EQ(c, (size_t)1 << 63);
	CHECK_EQ(grow_cap((size_t)1 << 63, ((size_t)1 << 63) + 1, 1, SIZE_MAX,
	                  1, &c), -ENOMEM);

	uint32_t *a = NULL;
	size_t cap = 0;
	CHECK_EQ(grow_array((void **)&a, &cap, 3, sizeof(*a), 4, true), 0);
	CHECK(a && cap == 4 && !a[0] && !a[3]);
	for (uint32_t i = 0; i < 4; i++)
		a[i] = i + 1;
	CHECK_EQ(grow_array((void **)&a, &cap, 5, sizeof(*a), 4, true), 0);
	CHECK_EQ(cap, 8);
	CHECK(a[3] == 4 && !a[4] && !a[7]);
	uint32_t *old = a;
	CHECK_EQ(grow_array((void **)&a, &cap, 8, sizeof(*a), 4, true), 0);
	CHECK(a == old && cap == 8);
	CHECK_EQ(grow_array((void **)&a, &cap, SIZE_MAX / 2, sizeof(*a), 4,
	                    true), -ENOMEM);
	CHECK(a == old && cap == 8);
	free(a);
}

int main(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		test_map64(seed);
		test_map32(seed);
		test_index(seed);
	}
	test_map_growth();
	test_strtab();
	test_grow();
	CHECK_DONE();
}
