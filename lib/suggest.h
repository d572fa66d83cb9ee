/*
 * suggest.h - "did you mean": the known names closest to a word the user
 * mistyped (a verb, an option, a preset, an INI key, a scenario keyword).
 *
 * Closeness is the optimal string alignment distance (Damerau-Levenshtein
 * where no substring is edited twice): an insertion, a deletion, a
 * substitution or a swap of two neighbours costs 1, so "replya" is 1 from
 * "replay" and "polcy" 1 from "policy".  As in git's help.c, a candidate
 * is offered only when it is close for its length: at most a third of the
 * shorter of the two names may differ (at least one edit is always
 * allowed), and never the whole word, so a short word does not "mean"
 * everything.  Several candidates at the same best distance are all kept
 * (up to SUGGEST_MAX), in the order they were added.
 *
 * The caller feeds the candidates from wherever its names live (a table of
 * keys, getopt's options, the presets), so this module holds no list.
 * Low-level: includes nothing above lib/.
 *
 * Lifecycle: suggest_init(), suggest_add() per candidate, then
 * suggest_format() (or read best/n/cand).  Nothing to free: the candidates
 * are the caller's strings and must outlive the struct.
 */
#ifndef COWSIM_SUGGEST_H
#define COWSIM_SUGGEST_H

#include <stddef.h>

#define SUGGEST_MAX 4

struct suggest {
	const char *word;                 /* what the user typed */
	size_t best;                      /* distance of cand[], if n > 0 */
	size_t n;                         /* candidates kept */
	const char *cand[SUGGEST_MAX];
};

/* The optimal string alignment distance between a and b (bytes). */
size_t suggest_distance(const char *a, const char *b);

void suggest_init(struct suggest *s, const char *word);

/* Consider cand (NULL is ignored): kept if it is close enough and no
 * farther than those kept so far. */
void suggest_add(struct suggest *s, const char *cand);

/*
 * Write "; did you mean 'a'?" (or "'a' or 'b'", "'a', 'b' or 'c'"), each
 * name prefixed with prefix (e.g. "--"; NULL for none), to buf, or "" when
 * no candidate was close enough.  Truncated to len - 1 bytes, always
 * terminated; returns buf, so a message can take it as a %s.
 */
const char *suggest_format(const struct suggest *s, const char *prefix,
                           char *buf, size_t len);

#endif
