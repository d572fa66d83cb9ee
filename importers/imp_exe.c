/*
 * imp_exe.c - exec images: the mappings execve() made, reconstructed from
 * the executed file's program headers, and placed once the trace shows
 * where ASLR put them.
 *
 * Without them the importer infers one-page anonymous areas from the new
 * image's first faults, so a write to the image's data, GOT or relro page
 * (a copy of a file page in the kernel) replays as fresh memory, and a
 * write into the part of a .bss page the file covered as no copy at all.
 * With the file (local, or under --sysroot), the segments are laid out as
 * fs/binfmt_elf.c elf_load() maps them: the file-backed part
 * [PAGESTART(vaddr), PAGEALIGN(vaddr + filesz)) private with the segment's
 * protection, and the zero-filled rest up to PAGEALIGN(vaddr + memsz)
 * anonymous (vm_brk_flags()).
 *
 * Where: an ET_EXEC image is at its link address.  An ET_DYN image (PIE,
 * the interpreter) is at a random base, which one fault gives exactly,
 * each rule checked by the base it yields being page aligned:
 *  - elf_load()'s padzero() clears the tail of the last file page of a
 *    writable segment with a .bss, at base + vaddr + filesz, a kernel-mode
 *    fault during the exec (the program's first, then the interpreter's);
 *  - the interpreter's (or a static PIE's) first instruction fetch is its
 *    entry point, base + e_entry;
 *  - ld.so's first read of the program is its program headers, AT_PHDR =
 *    base + e_phoff.
 * A fault that fits no rule, or a layout that would overlap a known area,
 * leaves today's inference alone.
 *
 * Files are read once per distinct exec path (a cache in the core): a
 * CGI server execs the same script hundreds of times.
 */
#include "imp_int.h"
#include "elfimg.h"
#include "../lib/grow.h"

#include <errno.h>
#include <stdlib.h>

struct imp_exe {
	uint32_t name;           /* exec filename (string id) */
	int err;                 /* elfimg_load()'s: 0 or negative errno */
	uint32_t n;              /* images: 1, or 2 with an interpreter */
	uint32_t file[2];        /* file identity of each image */
	struct elfimg img[2];    /* [0] the program, [1] its PT_INTERP */
};

#define PAGE_DOWN(a) ((a) & ~(EV_PAGE_SIZE - 1))
#define PAGE_UP(a) (((a) + EV_PAGE_SIZE - 1) & ~(EV_PAGE_SIZE - 1))

/* The cached images of filename id name; NULL when out of memory. */
static struct imp_exe *exe_get(struct imp_core *c, uint32_t name)
{
	for (size_t i = 0; i < c->nexes; i++)
		if (c->exes[i].name == name)
			return &c->exes[i];
	if (grow_array((void **)&c->exes, &c->capexes, c->nexes + 1,
	               sizeof(*c->exes), 8, false))
		return NULL;
	struct imp_exe *x = &c->exes[c->nexes++];
	memset(x, 0, sizeof(*x));
	x->name = name;
	const char *path = strtab_get(&c->src->strings, name);
	x->err = elfimg_load(c->rootfd, path, &x->img[0]);
	if (x->err)
		return x;
	x->n = 1;
	x->file[0] = name;
	if (x->img[0].interp[0]) {
		x->err = elfimg_load(c->rootfd, x->img[0].interp, &x->img[1]);
		if (x->err)
			return x;
		x->n = 2;
		x->file[1] = imp_intern(c, x->img[0].interp,
		                        strlen(x->img[0].interp));
	}
	return x;
}

/* Are the pages image k would cover at base all unmapped in the shadow? */
static bool layout_free(struct imp_as *as, const struct elfimg *e,
                        uint64_t base)
{
	for (uint32_t i = 0; i < e->nseg; i++) {
		const struct elfimg_seg *s = &e->seg[i];
		/* base, vaddr and memsz are each below 2^47: no overflow */
		if (base + s->vaddr + s->memsz > EV_USER_TOP)
			return false;
		uint64_t lo = PAGE_DOWN(base + s->vaddr) >> EV_PAGE_SHIFT;
		uint64_t hi = PAGE_UP(base + s->vaddr + s->memsz) >> EV_PAGE_SHIFT;
		if (hi - lo > UINT32_MAX)   /* an event's len */
			return false;
		size_t j = vma_lower_bound(&as->vmas, lo);
		if (j < as->vmas.n && as->vmas.v[j].start < hi)
			return false;
	}
	return true;
}

/* Map image k of as's exe at base, ahead of event at (its time and cpu). */
static void place(struct imp_core *c, struct imp_task *t, struct imp_as *as,
                  uint32_t k, uint64_t base, const struct cs_ev *at)
{
	const struct imp_exe *x = &c->exes[as->exe - 1];
	const struct elfimg *e = &x->img[k];

	as->exe_placed |= 1u << k;
	if (!layout_free(as, e, base)) {
		c->st.exec_images_conflict++;
		return;
	}
	for (uint32_t i = 0; i < e->nseg; i++) {
		const struct elfimg_seg *s = &e->seg[i];
		uint64_t lo = PAGE_DOWN(base + s->vaddr);
		uint64_t fend = PAGE_UP(base + s->vaddr + s->filesz);
		uint64_t mend = PAGE_UP(base + s->vaddr + s->memsz);
		struct cs_ev m;
		mk_ev(&m, t, at->ts, at->cpu, EV_MMAP);
		if (fend > lo) {
			m.addr = lo;
			m.len = (uint32_t)((fend - lo) >> EV_PAGE_SHIFT);
			m.flags = s->prot;
			m.arg = x->file[k];
			m.aux = PAGE_DOWN(s->offset) >> EV_PAGE_SHIFT;
			imp_out_map(c, as, &m);
		}
		if (mend > fend && mend > lo) {
			uint64_t a = fend > lo ? fend : lo;
			m.addr = a;
			m.len = (uint32_t)((mend - a) >> EV_PAGE_SHIFT);
			m.flags = s->prot | EV_MAP_ANON;
			m.arg = 0;
			m.aux = a >> EV_PAGE_SHIFT;
			imp_out_map(c, as, &m);
		}
	}
	c->st.exec_images_placed++;
}

void imp_exe_at_exec(struct imp_core *c, struct imp_task *t,
                     struct imp_as *as, const struct cs_ev *ev)
{
	struct imp_exe *x = exe_get(c, ev->arg);
	if (!x) {
		c->oom = 1;
		return;
	}
	if (x->err) {
		as->exe_missing = 1;
		if (x->err == -ENOEXEC)
			c->st.exec_images_bad++;
		else
			c->st.exec_images_missing++;
		return;
	}
	as->exe = (uint32_t)(x - c->exes) + 1;
	for (uint32_t k = 0; k < x->n; k++)
		if (!x->img[k].dyn)
			place(c, t, as, k, 0, ev);
}

/* The base at which off from a base falls on addr, if page aligned. */
static bool base_of(uint64_t addr, uint64_t off, uint64_t *base)
{
	*base = addr - off;
	return off <= addr && !(*base & (EV_PAGE_SIZE - 1)) &&
	       *base >= EV_PAGE_SIZE;
}

bool imp_exe_place(struct imp_core *c, struct imp_task *t, struct imp_as *as,
                   const struct cs_ev *f)
{
	const struct imp_exe *x = &c->exes[as->exe - 1];
	uint32_t all = (1u << x->n) - 1;
	uint64_t base;

	if ((as->exe_placed & all) == all)
		return false;
	if (!(f->flags & EV_PF_USER) && (f->flags & EV_PF_WRITE)) {
		/* padzero() of an image not yet placed: the program's comes
		 * first, but it has none when its .bss starts on a page. */
		for (uint32_t k = 0; k < x->n; k++) {
			if (as->exe_placed & (1u << k))
				continue;
			const struct elfimg *e = &x->img[k];
			for (uint32_t i = 0; i < e->nseg; i++) {
				const struct elfimg_seg *s = &e->seg[i];
				if (s->memsz > s->filesz && (s->prot & EV_PROT_WRITE) &&
				    base_of(f->addr, s->vaddr + s->filesz, &base)) {
					place(c, t, as, k, base, f);
					return true;
				}
			}
		}
		return false;
	}
	uint32_t entry_k = x->n - 1;
	if ((f->flags & EV_PF_INSTR) && !(as->exe_placed & (1u << entry_k)) &&
	    base_of(f->addr, x->img[entry_k].entry, &base)) {
		place(c, t, as, entry_k, base, f);
		return true;
	}
	if (x->n == 2 && (as->exe_placed & 2) && !(as->exe_placed & 1) &&
	    !(f->flags & (EV_PF_WRITE | EV_PF_INSTR)) &&
	    base_of(f->addr, x->img[0].phoff, &base)) {
		place(c, t, as, 0, base, f);
		return true;
	}
	return false;
}

void imp_exe_free(struct imp_core *c)
{
	free(c->exes);
	c->exes = NULL;
	c->nexes = c->capexes = 0;
}
