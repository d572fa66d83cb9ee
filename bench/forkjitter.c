/*
 * forkjitter.c - how much the same fork's latency moves between runs on
 * this machine, untraced: the floor under any fork-latency bar.
 *
 * Maps MB MiB of anonymous memory (no THP), writes every page, then forks
 * FORKS times, the child exiting at once and the parent waiting for it, and
 * prints each fork() call's time (the parent's, CLOCK_MONOTONIC around the
 * call) and their median.  After the first fork every PTE is read-only, so
 * forks 2..FORKS do the same work.  Run it several times back to back: the
 * medians of identical runs are the noise a model fitted to one capture
 * cannot get below (docs/costs.md).
 *
 * usage: forkjitter MB FORKS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORKS_MAX 64

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: forkjitter MB FORKS\n");
		return 2;
	}
	size_t len = (size_t)strtoul(argv[1], NULL, 10) << 20;
	int n = atoi(argv[2]);
	if (!len || n < 1 || n > FORKS_MAX) {
		fprintf(stderr, "forkjitter: MB must be > 0, FORKS 1..%d\n",
		        FORKS_MAX);
		return 2;
	}
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("forkjitter: mmap");
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 1, len);

	double v[FORKS_MAX], s[FORKS_MAX];
	for (int i = 0; i < n; i++) {
		double a = now_us();
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		double b = now_us();
		if (c < 0) {
			perror("forkjitter: fork");
			return 1;
		}
		waitpid(c, NULL, 0);
		v[i] = b - a;
	}
	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	printf("%zu MiB, %d forks (us):", len >> 20, n);
	for (int i = 0; i < n; i++)
		printf(" %.0f", v[i]);
	printf("; median %.0f\n", s[(n - 1) / 2]);
	return 0;
}
