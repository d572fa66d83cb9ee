/*
 * readfile.c - whole-file reads of small text inputs (see readfile.h).
 */
#include "readfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int read_text_file(const char *path, size_t limit, const char *what,
                   char **out, size_t *len, size_t *nul_at, char *err,
                   size_t errlen)
{
	/* "-" is stdin, as for every file the tool reads; named so. */
	bool in = !strcmp(path, "-");
	FILE *f = in ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (in)
		path = "<stdin>";
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 65536 * 2;
			if (cap > limit * 2 + 65536 * 2) {
				snprintf(err, errlen, "%s: too large for %s", path, what);
				rc = -EINVAL;
				goto out;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got < 65536)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
		goto out;
	}
	if (n > limit) {
		snprintf(err, errlen, "%s: too large for %s", path, what);
		rc = -EINVAL;
		goto out;
	}
	buf[n] = 0;
	const char *nul = memchr(buf, 0, n);
	if (nul) {
		*nul_at = (size_t)(nul - buf);
		snprintf(err, errlen, "%s: NUL byte: not %s", path, what);
		rc = -EINVAL;
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	if (!in)
		fclose(f);
	return rc;
}
