/*
 * store_key.c - how the store recognises what it has: a trace by the hash
 * of its bytes, a run by the hash of that and its full configuration text
 * (store.h, docs/store.md "Runs are keyed").
 *
 * Content, not names: the same file moved or renamed is the same trace,
 * and a preset whose text changed between cowsim versions is a new run.
 * Both are XXH3-128 (what `xxhsum -H2` prints), read in one streaming pass.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

int store_hash_file(const char *path, char hex[33], uint64_t *size,
                    char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	XXH3_state_t *st = XXH3_createState();
	size_t cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	int rc = 0;
	uint64_t total = 0;
	if (!st || !buf) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	XXH3_128bits_reset(st);
	size_t n;
	while ((n = fread(buf, 1, cap, f)) > 0) {
		XXH3_128bits_update(st, buf, n);
		total += n;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error while hashing", path);
		rc = -EIO;
		goto out;
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", c.digest[i]);
	if (size)
		*size = total;
out:
	free(buf);
	XXH3_freeState(st);
	fclose(f);
	return rc;
}

void store_run_key(const char *trace_hash, const char *config, char out[33])
{
	XXH3_state_t *st = XXH3_createState();
	XXH128_hash_t h;
	if (st) {
		XXH3_128bits_reset(st);
		XXH3_128bits_update(st, trace_hash, strlen(trace_hash));
		XXH3_128bits_update(st, "\n", 1);
		XXH3_128bits_update(st, config, strlen(config));
		h = XXH3_128bits_digest(st);
		XXH3_freeState(st);
	} else {
		/* The one-shot form needs no state: concatenate instead. */
		size_t a = strlen(trace_hash), b = strlen(config);
		char *buf = malloc(a + 1 + b);
		if (!buf) {
			memset(out, '0', 32);
			out[32] = 0;
			return;
		}
		memcpy(buf, trace_hash, a);
		buf[a] = '\n';
		memcpy(buf + a + 1, config, b);
		h = XXH3_128bits(buf, a + 1 + b);
		free(buf);
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, h);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}
