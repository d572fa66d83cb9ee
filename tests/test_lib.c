/*
 * test_lib.c - unit tests of the ground floor: the hash map (lib/hmap.h) in
 * both flavours against a plain array model, the growth rule (lib/grow.h)
 * the escaping of strings for JSON, CSV and HTML (lib/esc.h) and the
 * "did you mean" of mistyped names (lib/suggest.h).
 *
 * The map tests follow SQLite's way with its own containers: long random
 * sequences of operations, several seeds, each result compared with a model
 * too simple to be wrong (a linear array), and the structure's invariants
 * checked as it goes.  Weak hashes are used on purpose: they make long
 * probe runs that wrap around the end of the table, where backward-shift
 * deletion is easiest to get wrong.
 */
#include "lib/esc.h"
#include "lib/grow.h"
#include "lib/hmap.h"
#include "lib/strtab.h"
#include "lib/suggest.h"
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
	/* reserve: as far as the count needs, and no further. */
	CHECK_EQ(map64_reserve(&m, 16), 0);
	CHECK_EQ(m.cap, 32);
	CHECK_EQ(map64_reserve(&m, 17), 0);
	CHECK_EQ(m.cap, 64);
	CHECK_EQ(map64_reserve(&m, 100), 0);
	CHECK_EQ(m.cap, 256);
	CHECK_EQ(map64_reserve(&m, (uint64_t)1 << 31), -ENOMEM);
	CHECK_EQ(m.cap, 256);
	for (uint64_t k = 0; k < 9; k++)
		CHECK(map64_get(&m, k) && *map64_get(&m, k) == k);
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
	/* reserve keeps every item findable. */
	uint32_t before = m.n;
	CHECK_EQ(ix_reserve(&m, &p, (uint64_t)m.cap), 0);
	CHECK_EQ(m.n, before);
	for (uint32_t j = 0; j < 1024; j++)
		if (p.live[j])
			CHECK(ix_find(&m, &p, p.key[j]));
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

/* ------------------------------------------------------------------ */
/* escaping                                                            */

typedef void esc_fn(FILE *, const char *);

/* What fn writes for s, in buf (NUL-terminated). */
static const char *esc_out(esc_fn *fn, const char *s, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	buf[0] = 0;   /* an empty write leaves the buffer as it was */
	if (!f)
		return "";
	fn(f, s);
	fclose(f);
	return buf;
}

#define CHECK_ESC(fn, in, want) do { \
	char buf_[256]; \
	const char *got_ = esc_out(fn, in, buf_, sizeof(buf_)); \
	if (strcmp(got_, want)) { \
		fprintf(stderr, "%s:%d: %s(%s) wrote [%s], want [%s]\n", \
		        __FILE__, __LINE__, #fn, #in, got_, want); \
		check_failures++; \
	} \
} while (0)

/* Decode the JSON string literal j as RFC 8259 allows, into the bytes it
 * stands for under esc.h's rule (a \u00XX is the byte XX, a character
 * copied as UTF-8 its own bytes).  Returns the length, or -1 where j is not
 * a valid JSON string: a raw control character, an unknown escape, a byte
 * that is not well-formed UTF-8, no closing quote, anything after it. */
static long json_decode(const unsigned char *j, unsigned char *out)
{
	long n = 0;

	if (*j++ != '"')
		return -1;
	while (*j != '"') {
		if (*j < 0x20)
			return -1;
		if (*j == '\\') {
			unsigned v;
			if (j[1] == '"' || j[1] == '\\') {
				out[n++] = j[1];
				j += 2;
				continue;
			}
			if (j[1] != 'u' || sscanf((const char *)j + 2, "%4x", &v) != 1 ||
			    v > 0xff)
				return -1;
			out[n++] = (unsigned char)v;
			j += 6;
			continue;
		}
		/* Raw bytes must be UTF-8: a lead byte and its continuation
		 * bytes.  (The finer rules - overlong forms, surrogates - are
		 * pinned by the fixed cases of test_esc().) */
		int len = *j < 0x80 ? 1 : *j >= 0xc2 && *j <= 0xdf ? 2 :
		          *j >= 0xe0 && *j <= 0xef ? 3 :
		          *j >= 0xf0 && *j <= 0xf4 ? 4 : 0;
		if (!len)
			return -1;
		for (int i = 1; i < len; i++)
			if (j[i] < 0x80 || j[i] > 0xbf)
				return -1;
		for (int i = 0; i < len; i++)
			out[n++] = *j++;
	}
	return j[1] ? -1 : n;
}

static void test_esc(void)
{
	CHECK_ESC(esc_json, "", "\"\"");
	CHECK_ESC(esc_json, "bash", "\"bash\"");
	CHECK_ESC(esc_json, "a\"b\\c", "\"a\\\"b\\\\c\"");
	CHECK_ESC(esc_json, "\t\n\x1f\x7f", "\"\\u0009\\u000a\\u001f\x7f\"");
	/* Well-formed UTF-8 as it is: 2, 3 and 4 bytes, at the range ends. */
	CHECK_ESC(esc_json, "\xc2\x80 \xc3\xa9 \xe2\x82\xac \xef\xbf\xbf \xf0\x9f\x90\x84 "
	          "\xf4\x8f\xbf\xbf",
	          "\"\xc2\x80 \xc3\xa9 \xe2\x82\xac \xef\xbf\xbf \xf0\x9f\x90\x84 "
	          "\xf4\x8f\xbf\xbf\"");
	/* Everything else byte by byte, as Latin-1: a lone continuation
	 * byte, Latin-1 text, overlong forms, a surrogate, past U+10FFFF, a
	 * sequence cut short by the end and by ASCII. */
	CHECK_ESC(esc_json, "\x80", "\"\\u0080\"");
	CHECK_ESC(esc_json, "caf\xe9", "\"caf\\u00e9\"");
	CHECK_ESC(esc_json, "\xc0\xaf", "\"\\u00c0\\u00af\"");
	CHECK_ESC(esc_json, "\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");
	CHECK_ESC(esc_json, "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
	CHECK_ESC(esc_json, "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"");
	CHECK_ESC(esc_json, "\xe2\x82", "\"\\u00e2\\u0082\"");
	CHECK_ESC(esc_json, "\xe2x\xac", "\"\\u00e2x\\u00ac\"");
	CHECK_ESC(esc_json, "\xff\xfe", "\"\\u00ff\\u00fe\"");

	/* Any byte string: valid JSON that decodes back to its bytes. */
	uint64_t rs = 42;
	for (int round = 0; round < 20000; round++) {
		unsigned char in[24], dec[24 * 6];
		char buf[24 * 6 + 3];
		size_t len = test_rand(&rs) % sizeof(in);
		for (size_t i = 0; i < len; i++) {
			/* Mostly high bytes, so that sequences form and break. */
			uint64_t r = test_rand(&rs);
			in[i] = (unsigned char)(r % 4 ? 0x80 + (r >> 8) % 0x80
			                              : 1 + (r >> 8) % 0x7f);
		}
		in[len] = 0;
		esc_out(esc_json, (const char *)in, buf, sizeof(buf));
		long n = json_decode((const unsigned char *)buf, dec);
		CHECK(n == (long)len && !memcmp(dec, in, len));
	}

	CHECK_ESC(esc_csv, "", "");
	CHECK_ESC(esc_csv, "linux-5.8", "linux-5.8");
	CHECK_ESC(esc_csv, "a,b", "\"a,b\"");
	CHECK_ESC(esc_csv, "say \"hi\"", "\"say \"\"hi\"\"\"");
	CHECK_ESC(esc_csv, "two\nlines", "\"two\nlines\"");
	CHECK_ESC(esc_csv, "cr\r", "\"cr\r\"");

	CHECK_ESC(esc_html, "a<b>&\"c\"'", "a&lt;b&gt;&amp;&quot;c&quot;'");
	CHECK_ESC(esc_html, "caf\xc3\xa9", "caf\xc3\xa9");

	CHECK_ESC(esc_sh, "--policy=linux-5.9,linux-6.12", "--policy=linux-5.9,linux-6.12");
	CHECK_ESC(esc_sh, "", "''");
	CHECK_ESC(esc_sh, "a b", "'a b'");
	CHECK_ESC(esc_sh, "it's", "'it'\\''s'");
	CHECK_ESC(esc_sh, "$HOME;*", "'$HOME;*'");
	CHECK_ESC(esc_sh, "\xff\xfe", "'\xff\xfe'");
}

/* The closest of names[] to word, formatted as the CLI prints it. */
static const char *suggest_of(const char *word, const char *const *names,
                              char *buf, size_t len)
{
	struct suggest s;
	suggest_init(&s, word);
	for (size_t i = 0; names[i]; i++)
		suggest_add(&s, names[i]);
	return suggest_format(&s, NULL, buf, len);
}

static void test_suggest(void)
{
	static const char *const verbs[] = { "replay", "check", "policies",
		"synth", "dump", "import", "compare", "report", NULL };
	static const char *const keys[] = { "lru_batch", "pin_bias",
		"wp_lru_drain", "swapin_lru_drain", "exit_drains_lru",
		"munmap_drains_lru", NULL };
	static const char *const opts[] = { "policy", "pid", "db", "trace",
		"format", "input-format", "output", "quiet", NULL };
	char buf[200];

	CHECK_EQ(suggest_distance("", ""), 0);
	CHECK_EQ(suggest_distance("abc", ""), 3);
	CHECK_EQ(suggest_distance("replya", "replay"), 1);     /* swap */
	CHECK_EQ(suggest_distance("polcy", "policy"), 1);      /* insertion */
	CHECK_EQ(suggest_distance("policyy", "policy"), 1);    /* deletion */
	CHECK_EQ(suggest_distance("lru_bitch", "lru_batch"), 1); /* substitution */
	CHECK_EQ(suggest_distance("ca", "abc"), 3);            /* OSA, not DL's 2 */
	CHECK_EQ(suggest_distance("kitten", "sitting"), 3);

	CHECK(!strcmp(suggest_of("replya", verbs, buf, sizeof(buf)),
	              "; did you mean 'replay'?"));
	CHECK(!strcmp(suggest_of("comapre", verbs, buf, sizeof(buf)),
	              "; did you mean 'compare'?"));
	CHECK(!strcmp(suggest_of("lru_bach", keys, buf, sizeof(buf)),
	              "; did you mean 'lru_batch'?"));
	CHECK(!strcmp(suggest_of("polcy", opts, buf, sizeof(buf)),
	              "; did you mean 'policy'?"));
	/* Ties are all offered, in the order given. */
	static const char *const two[] = { "linux-5.8", "linux-5.9", NULL };
	CHECK(!strcmp(suggest_of("linux-5.0", two, buf, sizeof(buf)),
	              "; did you mean 'linux-5.8' or 'linux-5.9'?"));
	/* Too far for its length: nothing. */
	CHECK(!strcmp(suggest_of("frobnicate", verbs, buf, sizeof(buf)), ""));
	CHECK(!strcmp(suggest_of("xyz", verbs, buf, sizeof(buf)), ""));
	CHECK(!strcmp(suggest_of("q", opts, buf, sizeof(buf)), ""));
	CHECK(!strcmp(suggest_of("lru", keys, buf, sizeof(buf)), ""));
	/* A prefix for each name, and a short buffer stays terminated. */
	struct suggest s;
	suggest_init(&s, "polcy");
	for (size_t i = 0; opts[i]; i++)
		suggest_add(&s, opts[i]);
	CHECK(!strcmp(suggest_format(&s, "--", buf, sizeof(buf)),
	              "; did you mean '--policy'?"));
	CHECK(!strcmp(suggest_format(&s, "--", buf, 8), "; did y"));
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
	test_esc();
	test_suggest();
	CHECK_DONE();
}
