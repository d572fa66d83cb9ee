/*
 * grow.c - realloc()-based array growth (see grow.h).
 */
#include "grow.h"

#include <stdlib.h>
#include <string.h>

int grow_array(void **arr, size_t *cap, size_t need, size_t size, size_t min,
               bool zero)
{
	size_t ncap;
	int err = grow_cap(*cap, need, min, SIZE_MAX, size, &ncap);

	if (err)
		return err;
	if (ncap == *cap)
		return 0;
	void *p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	if (zero)
		memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
	*arr = p;
	*cap = ncap;
	return 0;
}
