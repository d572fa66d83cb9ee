/*
 * suggest.c - the closest known names to a mistyped word (see suggest.h).
 *
 * The distance is computed with three rolling rows (the swap of two
 * neighbours looks two rows back), so it needs no allocation; names longer
 * than SUGGEST_LEN are not worth suggesting and are compared on their
 * first SUGGEST_LEN bytes, which keeps the rows on the stack.
 */
#include "suggest.h"

#include <stdio.h>
#include <string.h>

#define SUGGEST_LEN 63

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, SUGGEST_LEN), lb = strnlen(b, SUGGEST_LEN);
	size_t rows[3][SUGGEST_LEN + 1];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = a[i - 1] != b[j - 1];
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + sub);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < cur[j])
				cur[j] = pp[j - 2] + 1;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

void suggest_init(struct suggest *s, const char *word)
{
	*s = (struct suggest){ .word = word };
}

void suggest_add(struct suggest *s, const char *cand)
{
	if (!cand || !s->word)
		return;
	size_t lw = strlen(s->word), lc = strlen(cand);
	size_t shorter = lw < lc ? lw : lc;
	size_t limit = shorter / 3 > 1 ? shorter / 3 : 1;
	size_t d = suggest_distance(s->word, cand);

	if (d > limit || d >= lw || d >= lc || (s->n && d > s->best))
		return;
	if (s->n && d < s->best)
		s->n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->cand[i], cand))
			return;
	s->best = d;
	if (s->n < SUGGEST_MAX)
		s->cand[s->n++] = cand;
}

const char *suggest_format(const struct suggest *s, const char *prefix,
                           char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && used < len; i++) {
		const char *sep = i == 0 ? "; did you mean " :
		                  i + 1 == s->n ? " or " : ", ";
		int w = snprintf(buf + used, len - used, "%s'%s%s'%s", sep,
		                 prefix ? prefix : "", s->cand[i],
		                 i + 1 == s->n ? "?" : "");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}
