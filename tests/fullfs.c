/*
 * fullfs.c - a full file system without mounting one: an LD_PRELOAD shim
 * for the store test that makes writes to files under FULLFS_DIR fail
 * with ENOSPC once FULLFS_BYTES bytes have been written to them (0: the
 * first write fails).  A tmpfs of a chosen size would need privileges the
 * CI machine may not give; this needs none, and is exact: the byte where
 * the disk fills is the test's to choose.
 *
 * SQLite writes through write(), pwrite() and pwrite64() of libc (the
 * unix VFS's syscall table points at them), which this shim interposes.
 * Test code: a static counter is the point.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long long used;

/* Is fd a file under FULLFS_DIR that has no room left for n bytes? */
static int full(int fd, size_t n)
{
	const char *dir = getenv("FULLFS_DIR");
	const char *lim = getenv("FULLFS_BYTES");
	char link[64], path[4096];
	if (!dir || !*dir)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t l = readlink(link, path, sizeof(path) - 1);
	if (l <= 0)
		return 0;
	path[l] = 0;
	if (strncmp(path, dir, strlen(dir)))
		return 0;
	if (used + (long long)n > (lim ? atoll(lim) : 0))
		return 1;
	used += (long long)n;
	return 0;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t n)
{
	if (full(fd, n)) {
		errno = ENOSPC;
		return -1;
	}
	return NEXT(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (full(fd, n)) {
		errno = ENOSPC;
		return -1;
	}
	return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (full(fd, n)) {
		errno = ENOSPC;
		return -1;
	}
	return NEXT(pwrite64)(fd, buf, n, off);
}
