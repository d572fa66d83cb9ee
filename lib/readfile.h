/*
 * readfile.h - read a whole small text file (a scenario, a configuration)
 * into memory, refusing what is too large or is not text.  The path "-"
 * reads stdin (named "<stdin>" in messages).
 *
 * Low-level: includes nothing above lib/.
 *
 * Errors: returns 0 and a NUL-terminated heap buffer in *out (free() it),
 * or a negative errno with "path: reason" in err.  A NUL byte in the file
 * is -EINVAL, and *nul_at is set to its offset (so a caller can name its
 * line); other failures leave *nul_at untouched.
 */
#ifndef COWSIM_READFILE_H
#define COWSIM_READFILE_H

#include <stddef.h>

int read_text_file(const char *path, size_t limit, const char *what,
                   char **out, size_t *len, size_t *nul_at, char *err,
                   size_t errlen);

#endif
