/*
 * esc.h - the one place strings are escaped for the formats cowsim writes:
 * JSON string literals, CSV fields, HTML text, POSIX shell words.
 *
 * Low-level: includes nothing above lib/.
 *
 * The strings come from traces (comm names, file paths, exec paths) and
 * from the user (policy names, database paths), so they may hold any byte
 * but NUL.  Each function writes s, NUL-terminated, to out so that a
 * conforming reader of the format gets it back as one value:
 *
 *  - esc_json() writes a quoted JSON string that is valid JSON (RFC 8259)
 *    for ANY byte string.  '"' and '\' are backslash-escaped, control
 *    characters (below 0x20) written as \u00XX, and well-formed UTF-8
 *    (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF)
 *    copied as it is, so that readable text stays readable.  A byte that is
 *    not part of well-formed UTF-8 is written as \u00XX of its own value:
 *    read as the Latin-1 character of that byte.  JSON text must be
 *    Unicode, so such a byte cannot be copied; of the alternatives this one
 *    is deterministic, keeps every byte's value (U+FFFD would lose it) and
 *    is how a path in an unknown 8-bit encoding most often reads.  A reader
 *    cannot tell the fallback from a real U+0080..U+00FF, which cowsim's
 *    inputs (Linux comm and path names, mostly ASCII) make a rare confusion.
 *  - esc_csv() writes the field bare unless it holds ',', '"', '\n' or
 *    '\r'; then quoted, with each '"' doubled (RFC 4180).
 *  - esc_html() writes text safe in an HTML element or a quoted attribute
 *    value: '<', '>', '&' and '"' as entities, every other byte as it is.
 *  - esc_sh() writes a word a POSIX shell reads back as s (the command
 *    line a run was stored with): bare if it is non-empty and made only of
 *    characters no shell treats specially (letters, digits, _-+=/.,:@%),
 *    else in single quotes, each ' written as '\''.  Any byte but NUL
 *    survives single quotes, so non-UTF-8 arguments come back intact.
 *
 * Errors: none reported here; a failed write leaves the stream's error flag
 * set, which the caller checks (ferror()) when it finishes the file.
 */
#ifndef COWSIM_ESC_H
#define COWSIM_ESC_H

#include <stdio.h>

void esc_json(FILE *out, const char *s);
void esc_csv(FILE *out, const char *s);
void esc_html(FILE *out, const char *s);
void esc_sh(FILE *out, const char *s);

#endif
