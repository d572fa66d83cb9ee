/*
 * elfimg.h - the memory image execve() lays out for an ELF file: its
 * PT_LOAD segments (the file-backed part, the zero-filled .bss tail,
 * protections) and its PT_INTERP, read from the file's head.
 *
 * The importer (imp_as.c) reads the executed file of each
 * sched_process_exec with elfimg_load() and maps the segments once the
 * trace shows where they were placed, so that writes to an image's data,
 * GOT and relro pages are copies of file pages, as in the kernel, instead
 * of fresh anonymous memory inferred from the faults.
 *
 * Lifecycle: a struct elfimg is plain data, filled by elfimg_parse() or
 * elfimg_load(); nothing to free.
 *
 * Invariants after a successful parse: 1 <= nseg <= ELFIMG_MAX_SEGS; each
 * segment has filesz <= memsz, vaddr + memsz below 2^47 (user space) and
 * vaddr and offset congruent modulo the page size (what elf_map() needs);
 * interp is NUL-terminated ("" when the file has no PT_INTERP).
 */
#ifndef COWSIM_ELFIMG_H
#define COWSIM_ELFIMG_H

#include <stddef.h>
#include <stdint.h>

#define ELFIMG_MAX_SEGS 16       /* linkers write 2-5 PT_LOADs */
#define ELFIMG_HEAD (64 * 1024)  /* what is read: headers live in page 0 */

struct elfimg_seg {
	uint64_t vaddr;          /* p_vaddr (before the load base) */
	uint64_t memsz, filesz;  /* memsz > filesz: a zero-filled tail */
	uint64_t offset;         /* p_offset */
	uint32_t prot;           /* EV_PROT_* from p_flags */
};

struct elfimg {
	uint8_t dyn;             /* ET_DYN: loaded at a base the kernel picks */
	uint64_t entry;          /* e_entry */
	uint64_t phoff;          /* e_phoff: where ld.so reads AT_PHDR */
	uint32_t nseg;
	struct elfimg_seg seg[ELFIMG_MAX_SEGS];
	char interp[256];        /* PT_INTERP path, "" if none */
};

/* Parse the first len bytes of a file as a little-endian x86-64 ELF
 * (ET_EXEC or ET_DYN).  Never reads outside buf.  Returns 0, or -ENOEXEC
 * for anything else or anything malformed (headers past len included). */
int elfimg_parse(const uint8_t *buf, size_t len, struct elfimg *img);

/* If buf starts with "#!", the interpreter path of that line (as
 * binfmt_script reads it: leading blanks skipped, up to a blank or the
 * end of line) into out.  Returns 0, or -ENOEXEC (no "#!", no path, no
 * newline within len, or a path longer than outsz - 1). */
int elfimg_shebang(const uint8_t *buf, size_t len, char *out, size_t outsz);

/* Read path - resolved inside rootfd when rootfd >= 0 (openat2()'s
 * RESOLVE_IN_ROOT: absolute symlinks stay in the sysroot), else as is -
 * and parse it, following "#!" lines (up to 4, as the kernel does: the
 * image is the script interpreter's).  Returns 0, -ENOENT (or another
 * open/read errno) when the file cannot be read, -ENOEXEC when it is no
 * ELF this can lay out. */
int elfimg_load(int rootfd, const char *path, struct elfimg *img);

#endif
