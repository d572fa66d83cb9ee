/*
 * ksm.c - kernel samepage merging (mm/ksm.c: try_to_merge_one_page(),
 * write_protect_page(), replace_page()).
 *
 * The stream names which pages KSM merged (EV_KSM, a content key each);
 * the engine merges those whose references are only their mappings and
 * the swap cache, as write_protect_page()'s "mapcount + 1 + swapcache ==
 * refcount" test does, and write-protects every mapping.  A KSM page is
 * never reused at a write fault except by 5.1-5.8's reuse_ksm_page()
 * (pol_common.c).  Stable pages are few: a linear table.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static uint32_t ksm_lookup(struct sim_engine *e, uint64_t key)
{
	for (uint32_t i = 0; i < e->nksm; i++)
		if (e->ksm_key[i] == key)
			return e->ksm_frame[i];
	return NO_FRAME;
}

/* Frame f stops being a KSM stable page (freed, or reused at a fault). */
void ksm_forget(struct sim_engine *e, uint32_t f)
{
	for (uint32_t i = 0; i < e->nksm; i++) {
		if (e->ksm_frame[i] != f)
			continue;
		e->ksm_key[i] = e->ksm_key[e->nksm - 1];
		e->ksm_frame[i] = e->ksm_frame[e->nksm - 1];
		e->nksm--;
		break;
	}
	e->fr[f].flags &= (uint16_t)~FR_KSM;
}

/* ksm: try_to_merge_one_page() / write_protect_page(). */
int ev_ksm(struct sim_engine *e, struct sim_mm *mm,
           const struct cs_ev *ev)
{
	uint64_t pg = ev->addr >> EV_PAGE_SHIFT;

	for (uint64_t i = 0; i < ev->len; i++) {
		uint64_t *ptep = pte_ptr(e, mm, pg + i, false);
		if (!ptep || !(*ptep & PTE_P))
			continue;
		uint32_t f = pte_idx(*ptep);
		struct sim_frame *fr = &e->fr[f];
		if (!f || !(fr->flags & FR_ANON) || (fr->flags & FR_KSM))
			continue;
		/* "mapcount + 1 + swapcache == refcount": any other reference
		 * (GUP, an LRU batch) makes KSM leave the page alone. */
		uint32_t expect = fr->map + ((fr->flags & FR_INSWAP) ? 1 : 0);
		if (fr->ref != expect || (fr->flags & FR_INSWAP) ||
		    !e->pol->may_unmap(e, f, POL_UNMAP_KSM, true)) {
			e->m.ksm_refused++;
			continue;
		}
		uint64_t key = ev->aux + i;
		uint32_t kf = ksm_lookup(e, key);
		if (kf == NO_FRAME) {
			if (e->nksm == e->capksm) {
				size_t cap;
				if (grow_cap(e->capksm, (size_t)e->nksm + 1, 16,
				             UINT32_MAX, sizeof(*e->ksm_key) +
				             sizeof(*e->ksm_frame), &cap))
					return -ENOMEM;
				uint64_t *k = realloc(e->ksm_key, cap * sizeof(*k));
				if (!k)
					return -ENOMEM;
				e->ksm_key = k;
				uint32_t *v = realloc(e->ksm_frame, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				e->ksm_frame = v;
				acct(e, (int64_t)(cap - e->capksm) *
				     (int64_t)(sizeof(*k) + sizeof(*v)));
				e->capksm = (uint32_t)cap;
			}
			e->ksm_key[e->nksm] = key;
			e->ksm_frame[e->nksm++] = f;
			fr->flags = (uint16_t)((fr->flags | FR_KSM) & ~FR_EXCL);
			rmap_walk(e, f, pg + i, rmap_wrprotect, NULL);
		} else {
			*ptep = 0;
			fr->map--;
			frame_put(e, f, 1);
			mm->rss--;
			e->resident--;
			map_frame(e, mm, ptep, kf, false);
		}
		e->m.ksm_merges++;
	}
	return 0;
}
