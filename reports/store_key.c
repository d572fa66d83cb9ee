/*
 * store_key.c - how the store recognises what it has: a trace by the hash
 * of its bytes, a run by the hash of that and its full configuration text
 * (store.h, docs/store.md "Runs are keyed"); and how users tell them apart:
 * a trace's unique display name, a policy's era sort key.
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

/* Is name free for the trace with this hash (no other trace has it)?
 * Returns 1, 0, or a negative errno. */
static int name_free(sqlite3_stmt *st, const char *name, const char *hash)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 1 : rc == SQLITE_ROW ? 0 : -EIO;
}

int store_trace_name(sqlite3 *db, const char *path, const char *hash,
                     char **out)
{
	sqlite3_stmt *st = NULL;
	const char *end = path + strlen(path), *p = end;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM traces WHERE name = ? AND "
	                       "hash != ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	/* Suffixes of one, two, ... path components: the shortest free one. */
	while (p > path) {
		do
			p--;
		while (p > path && p[-1] != '/');
		if (*p == '/')
			continue;        /* an empty component: "//", the root */
		if ((rc = name_free(st, p, hash)) < 0)
			goto out;
		if (rc == 1) {
			rc = (*out = strdup(p)) ? 0 : -ENOMEM;
			goto out;
		}
	}
	/* The same path held other content before (re-recorded): the
	 * basename and the start of this content's hash. */
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	rc = asprintf(out, "%s@%.8s", base, hash) < 0 ? -ENOMEM : 0;
	if (rc)
		*out = NULL;
out:
	sqlite3_finalize(st);
	return rc;
}

void store_policy_order(const char *policy, char *out, size_t len)
{
	/* Released kernels first, in version order; proposals after, by
	 * name.  Digit runs are padded to ten digits so that text order is
	 * version order (5.7 < 5.18). */
	size_t o = (size_t)snprintf(out, len, "%d ",
	                            strncmp(policy, "linux-", 6) != 0);
	for (const char *s = policy; *s && o + 1 < len;) {
		if (*s >= '0' && *s <= '9') {
			while (*s == '0' && s[1] >= '0' && s[1] <= '9')
				s++;
			size_t d = strspn(s, "0123456789");
			for (size_t z = d; z < 10 && o + 1 < len; z++)
				out[o++] = '0';
			for (size_t k = 0; k < d && o + 1 < len; k++)
				out[o++] = s[k];
			s += d;
		} else {
			out[o++] = *s++;
		}
	}
	out[o < len ? o : len - 1] = '\0';
}
