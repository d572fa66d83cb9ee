/*
 * evsrc.c - the event source's own plumbing: its string table and metadata
 * list, and closing.  Kept apart from opening (open.c), which needs every
 * reader, so that the simulator can link the contract alone.
 */
#include "evsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/grow.h"

int evsrc_init(struct ev_source *s, const struct ev_source_ops *ops,
               const char *path, const char *format)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->format = format;
	strtab_init(&s->strings);
	s->path = strdup(path);
	return s->path && s->strings.n == 1 ? 0 : -ENOMEM;
}

void evsrc_fini(struct ev_source *s)
{
	for (size_t i = 0; i < s->nmeta; i++) {
		free(s->meta[i].key);
		free(s->meta[i].val);
	}
	free(s->meta);
	strtab_free(&s->strings);
	free(s->path);
}

int evsrc_meta_set(struct ev_source *s, const char *key, const char *val)
{
	for (size_t i = 0; i < s->nmeta; i++) {
		if (!strcmp(s->meta[i].key, key)) {
			char *v = strdup(val);
			if (!v)
				return -ENOMEM;
			free(s->meta[i].val);
			s->meta[i].val = v;
			return 0;
		}
	}
	if (grow_array((void **)&s->meta, &s->capmeta, s->nmeta + 1,
	               sizeof(*s->meta), 8, false))
		return -ENOMEM;
	char *k = strdup(key), *v = strdup(val);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	s->meta[s->nmeta++] = (struct ev_meta){ .key = k, .val = v };
	return 0;
}

const char *evsrc_meta_get(const struct ev_source *s, const char *key)
{
	for (size_t i = 0; i < s->nmeta; i++)
		if (!strcmp(s->meta[i].key, key))
			return s->meta[i].val;
	return NULL;
}

void evsrc_close(struct ev_source *s)
{
	if (s)
		s->ops->close(s);
}

void evsrc_msg_rename(char *msg, size_t len, const char *from, const char *to)
{
	char *p = strstr(msg, from);
	char tail[1024];
	if (!p || !*from)
		return;
	snprintf(tail, sizeof(tail), "%s", p + strlen(from));
	snprintf(p, len - (size_t)(p - msg), "%s%s", to, tail);
}
