/*
 * forkcost.c - measure this machine's cost-model parameters (configs/cost-*.ini)
 * and print them as a [cost] section.
 *
 * Each parameter is the slope or the intercept of a real measurement, taken
 * as the minimum of several runs (fork() times are noisy on shared VMs; the
 * minimum is the least disturbed):
 *   fork_base_ns         fork() of this small process (parent side: from
 *                        the call to its return)
 *   fork_per_pte_ns      slope of fork time over 64 MiB .. 512 MiB of
 *                        touched anonymous memory, per 4 KiB page
 *   fork_per_vma_ns      slope over 1000 .. 8000 extra one-page areas, minus
 *                        their PTEs
 *   fault_*              write faults: first touch (zeroed page), COW copy
 *                        with the child alive, reuse after the child exited
 *   vfork_base_ns        vfork() until the child's _exit() lets the parent go
 * Page-table pages are not separable from PTEs by timing: allocating and
 * clearing one is the same work as a first-touch fault's page, so
 * fork_per_pt_page_ns is printed as fault_per_zero_ns.
 *
 * usage: forkcost [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static double fork_min(int reps)
{
	double best = 1e18;
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		double t1 = now_ns();
		if (c < 0) {
			perror("fork");
			exit(1);
		}
		waitpid(c, NULL, 0);
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static char *touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	for (size_t o = 0; o < bytes; o += 4096)
		p[o] = 1;
	return p;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	int reps = quick ? 5 : 15;
	size_t mib_lo = 64, mib_hi = quick ? 256 : 512;

	double base = fork_min(reps);
	double vbase = 1e18;
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		pid_t c = vfork();
		if (c == 0)
			_exit(0);
		double t1 = now_ns();
		waitpid(c, NULL, 0);
		if (t1 - t0 < vbase)
			vbase = t1 - t0;
	}

	char *lo = touch(mib_lo << 20);
	double t_lo = fork_min(reps);
	munmap(lo, mib_lo << 20);
	char *hi = touch(mib_hi << 20);
	double t_hi = fork_min(reps);
	double per_pte = (t_hi - t_lo) / (double)(((mib_hi - mib_lo) << 20) / 4096);

	/* faults on the large area: COW copy with the child alive, then reuse */
	size_t pages = (mib_hi << 20) / 4096;
	int pfd[2];
	if (pipe(pfd))
		return 1;
	pid_t c = fork();
	if (c == 0) {
		char b;
		if (read(pfd[0], &b, 1) < 0)
			_exit(1);
		_exit(0);
	}
	double t0 = now_ns();
	for (size_t i = 0; i < pages; i++)
		hi[i * 4096] = 2;
	double cow = (now_ns() - t0) / pages;
	if (write(pfd[1], "x", 1) < 0)
		return 1;
	waitpid(c, NULL, 0);
	c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	t0 = now_ns();
	for (size_t i = 0; i < pages; i++)
		hi[i * 4096] = 3;
	double reuse = (now_ns() - t0) / pages;
	munmap(hi, mib_hi << 20);

	/* first touch */
	size_t ft_bytes = (size_t)64 << 20;
	char *ft = mmap(NULL, ft_bytes, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(ft, ft_bytes, MADV_NOHUGEPAGE);
	t0 = now_ns();
	for (size_t o = 0; o < ft_bytes; o += 4096)
		ft[o] = 1;
	double first = (now_ns() - t0) / (ft_bytes / 4096);
	munmap(ft, ft_bytes);

	/* VMAs: many separate one-page areas (alternating protections so that
	 * they cannot merge), each touched so that fork copies its PTE */
	int nv_lo = 1000, nv_hi = quick ? 4000 : 8000;
	char **areas = calloc((size_t)nv_hi, sizeof(*areas));
	double t_v[2];
	int counts[2] = { nv_lo, nv_hi };
	int made = 0;
	for (int k = 0; k < 2; k++) {
		for (; made < counts[k]; made++) {
			areas[made] = mmap(NULL, 4096, made & 1 ? PROT_READ | PROT_WRITE
			                               : PROT_READ | PROT_WRITE | PROT_EXEC,
			                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			areas[made][0] = 1;
		}
		t_v[k] = fork_min(reps);
	}
	double per_vma = (t_v[1] - t_v[0]) / (nv_hi - nv_lo) - per_pte;

	printf("; measured by bench/forkcost on this machine (min of %d runs)\n", reps);
	printf("[cost]\n");
	printf("fork_base_ns = %.0f\n", base);
	printf("vfork_base_ns = %.0f\n", vbase);
	printf("fork_per_pte_ns = %.1f            ; %zu..%zu MiB: %.2f..%.2f ms\n",
	       per_pte, mib_lo, mib_hi, t_lo / 1e6, t_hi / 1e6);
	printf("fork_per_vma_ns = %.0f             ; %d..%d areas: %.2f..%.2f ms\n",
	       per_vma > 0 ? per_vma : 0, nv_lo, nv_hi, t_v[0] / 1e6, t_v[1] / 1e6);
	printf("fork_per_pt_page_ns = %.0f          ; = fault_per_zero_ns (alloc + clear 4 KiB)\n",
	       first - reuse > 0 ? first - reuse : 0);
	printf("fork_per_copy_ns = %.0f            ; = fault_per_copy_ns\n",
	       cow - reuse > 0 ? cow - reuse : 0);
	printf("fault_base_ns = %.0f               ; write fault that reuses\n", reuse);
	printf("fault_per_copy_ns = %.0f           ; COW copy fault minus a reuse\n",
	       cow - reuse > 0 ? cow - reuse : 0);
	printf("fault_per_zero_ns = %.0f           ; first-touch fault minus a reuse\n",
	       first - reuse > 0 ? first - reuse : 0);
	return 0;
}
