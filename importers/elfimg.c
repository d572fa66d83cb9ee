/*
 * elfimg.c - a small bounds-checked reader of Elf64_Ehdr and Elf64_Phdr.
 *
 * Why not libelf (Debian's libelf-dev): all that is needed is the program
 * header table and the PT_INTERP string from the first page of a file; a
 * library that maps and indexes whole files (sections, symbols) would be a
 * build dependency and attack surface for ~150 lines of fixed-offset
 * loads.  Files come from a sysroot the user points at, so they are
 * untrusted: every offset and size is checked against the bytes read
 * before use, fields are loaded with memcpy (no alignment assumptions),
 * and tests/fuzz feeds arbitrary bytes to elfimg_parse() and
 * elfimg_shebang().
 *
 * The rules follow fs/binfmt_elf.c load_elf_binary(): only PT_LOAD
 * segments are mapped, p_vaddr and p_offset must agree modulo the page
 * size, p_filesz <= p_memsz; fs/binfmt_script.c for "#!".
 */
#include "elfimg.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define PT_LOAD 1u
#define PT_INTERP 3u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

static uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int elfimg_parse(const uint8_t *buf, size_t len, struct elfimg *img)
{
	memset(img, 0, sizeof(*img));
	/* ELFCLASS64, ELFDATA2LSB, EV_CURRENT; ET_EXEC or ET_DYN; EM_X86_64:
	 * the traces are x86-64's (raw syscall numbers are read as such). */
	if (len < EHDR_SIZE || memcmp(buf, "\x7f" "ELF\x02\x01\x01", 7))
		return -ENOEXEC;
	uint16_t type = ld16(buf + 16), mach = ld16(buf + 18);
	if ((type != 2 && type != 3) || mach != 62)
		return -ENOEXEC;
	img->dyn = type == 3;
	img->entry = ld64(buf + 24);
	img->phoff = ld64(buf + 32);
	uint16_t phentsize = ld16(buf + 54), phnum = ld16(buf + 56);
	if (phentsize != PHDR_SIZE || phnum == 0 || img->phoff > len ||
	    (uint64_t)phnum * PHDR_SIZE > len - img->phoff)
		return -ENOEXEC;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + img->phoff + (size_t)i * PHDR_SIZE;
		uint32_t ptype = ld32(ph), flags = ld32(ph + 4);
		uint64_t off = ld64(ph + 8), vaddr = ld64(ph + 16);
		uint64_t filesz = ld64(ph + 32), memsz = ld64(ph + 40);
		if (ptype == PT_INTERP) {
			/* A path with its NUL, inside what was read. */
			if (img->interp[0] || filesz < 2 ||
			    filesz > sizeof(img->interp) || off > len ||
			    filesz > len - off || buf[off + filesz - 1] != 0 ||
			    memchr(buf + off, 0, filesz - 1))
				return -ENOEXEC;
			memcpy(img->interp, buf + off, filesz);
			continue;
		}
		if (ptype != PT_LOAD || memsz == 0)
			continue;
		if (img->nseg == ELFIMG_MAX_SEGS || filesz > memsz ||
		    vaddr >= EV_USER_TOP || memsz > EV_USER_TOP - vaddr ||
		    ((vaddr ^ off) & (EV_PAGE_SIZE - 1)))
			return -ENOEXEC;
		struct elfimg_seg *s = &img->seg[img->nseg++];
		s->vaddr = vaddr;
		s->memsz = memsz;
		s->filesz = filesz;
		s->offset = off;
		s->prot = ((flags & PF_R) ? EV_PROT_READ : 0) |
		          ((flags & PF_W) ? EV_PROT_WRITE : 0) |
		          ((flags & PF_X) ? EV_PROT_EXEC : 0);
	}
	return img->nseg ? 0 : -ENOEXEC;
}

int elfimg_shebang(const uint8_t *buf, size_t len, char *out, size_t outsz)
{
	if (len < 2 || buf[0] != '#' || buf[1] != '!' || !outsz)
		return -ENOEXEC;
	const uint8_t *nl = memchr(buf, '\n', len);
	if (!nl)
		return -ENOEXEC;
	const uint8_t *p = buf + 2;
	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	const uint8_t *e = p;
	while (e < nl && *e != ' ' && *e != '\t' && *e != 0)
		e++;
	size_t n = (size_t)(e - p);
	if (!n || n >= outsz)
		return -ENOEXEC;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* Open path for reading, inside rootfd if it is a sysroot.  Returns an fd
 * or a negative errno. */
static int open_in(int rootfd, const char *path)
{
	int fd;
	if (rootfd < 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
		                        .resolve = RESOLVE_IN_ROOT };
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	return fd < 0 ? -errno : fd;
}

int elfimg_load(int rootfd, const char *path, struct elfimg *img)
{
	const size_t headsz = ELFIMG_HEAD;
	char name[256];
	int err = -ENOEXEC;

	if (strlen(path) >= sizeof(name))
		return -ENAMETOOLONG;
	strcpy(name, path);
	uint8_t *head = malloc(headsz);
	if (!head)
		return -ENOMEM;
	/* binfmt_script: the image is the interpreter's, up to
	 * BINPRM_MAX_RECURSION (4) scripts deep. */
	for (int depth = 0; depth < 5; depth++) {
		int fd = open_in(rootfd, name);
		if (fd < 0) {
			err = fd;
			goto out;
		}
		size_t got = 0;
		while (got < headsz) {
			ssize_t r = pread(fd, head + got, headsz - got, (off_t)got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				err = -errno;
				close(fd);
				goto out;
			}
			if (r == 0)
				break;
			got += (size_t)r;
		}
		close(fd);
		err = elfimg_parse(head, got, img);
		if (!err || elfimg_shebang(head, got, name, sizeof(name)))
			goto out;
		err = -ENOEXEC;
	}
out:
	free(head);
	return err;
}
