/*
 * forkwrite.c - the benchmark's workload: millions of page faults with
 * known shape, as in reference/tracing.md section 5.
 *
 * Maps MB MiB of anonymous memory (no THP, so every 4 KiB page faults on
 * its own), writes every page (first touch: new pages), then ROUNDS times:
 * fork; the child writes every page (COW copies) and exits; the parent
 * waits and writes every page again (reuse, or copies where a per-CPU LRU
 * batch still holds the page).  MB=1024 ROUNDS=2 gives about 1.3 M faults
 * and as many allocations: with the syscall events around them, a trace
 * of a few million records.
 *
 * usage: forkwrite MB ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void touch(volatile char *p, size_t len, char v)
{
	for (size_t off = 0; off < len; off += 4096)
		p[off] = v;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: forkwrite MB ROUNDS\n");
		return 2;
	}
	size_t len = (size_t)atol(argv[1]) << 20;
	int rounds = atoi(argv[2]);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	touch(p, len, 1);
	for (int r = 0; r < rounds; r++) {
		pid_t c = fork();
		if (c < 0) {
			perror("fork");
			return 1;
		}
		if (c == 0) {
			touch(p, len, 2);
			_exit(0);
		}
		waitpid(c, NULL, 0);
		touch(p, len, 3);
	}
	return 0;
}
