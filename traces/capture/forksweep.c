/*
 * forksweep: many forks of known, varied shapes, for fitting a fork cost model.
 *
 * The kernel's fork cost (kernel/fork.c dup_mmap(), mm/memory.c
 * copy_page_range()) grows with the number of VMAs copied, the number of
 * page-table pages allocated for the child and the number of present PTEs
 * copied, on top of a fixed per-fork cost.  Real workloads mix these, so a
 * fit on them alone cannot tell the terms apart.  This program holds each
 * term still while it varies another:
 *
 *   size-MiB   one anonymous VMA with MiB MiB populated by writes (PTEs grow,
 *              page-table pages grow with them, one PTE page per 2 MiB)
 *   dense-N    N one-page anonymous VMAs, one page apart (VMAs grow; PTEs
 *              and page-table pages only when populated)
 *   sparse-N   N one-page anonymous VMAs, each alone in its own 2 MiB-aligned
 *              slot and populated (one PTE page per PTE)
 *
 * Unpopulated anonymous VMAs have no anon_vma, so copy_page_range() skips
 * them (vma_needs_copy()): dense-N-empty prices a VMA without page tables.
 * Every configuration is built afresh, forked --forks times (the child
 * _exit()s at once, the parent waits) and torn down, in an order shuffled by
 * --seed, so drift of the machine's load spreads over all of them.  Then
 * --vforks vfork()s and as many posix_spawn()s of /bin/true, which glibc 2.36
 * does with clone3(CLONE_VM|CLONE_VFORK): they show vfork's cost apart.
 *
 * All regions are MADV_NOHUGEPAGE (the capture VM has THP "madvise", so this
 * only documents the intent).  Each configuration is announced with
 *     cowsim: phase NAME vmas=V populated_pages=P
 * (V from /proc/self/maps just before the forks) and summed up on stdout.
 *
 * usage: forksweep [--marker PATH] [--forks N] [--vforks N] [--seed S]
 *                  [--sizes MiB,MiB,...] [--areas N,N,...]
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SLOT (2UL << 20) /* one PTE page maps 2 MiB on x86-64 */
#define MAX_LIST 32
#define MAX_CONF (3 * MAX_LIST)

enum kind { K_SIZE, K_DENSE_EMPTY, K_DENSE_FULL, K_SPARSE };

struct conf {
	enum kind kind;
	unsigned long n; /* MiB for K_SIZE, areas otherwise */
};

struct opts {
	const char *marker;
	unsigned forks, vforks;
	unsigned long seed;
	unsigned long sizes[MAX_LIST], areas[MAX_LIST];
	size_t nsizes, nareas;
};

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "forksweep: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void marker(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		fail("marker too long");
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) != n)
		fail("write to trace_marker: %s", strerror(errno));
}

static size_t parse_list(const char *s, unsigned long *out, const char *what)
{
	size_t n = 0;
	char *end;
	while (*s) {
		if (n == MAX_LIST)
			fail("--%s: more than %d values", what, MAX_LIST);
		errno = 0;
		out[n++] = strtoul(s, &end, 10);
		if (errno || end == s || (*end && *end != ','))
			fail("--%s: bad list at '%s'", what, s);
		s = *end ? end + 1 : end;
	}
	return n;
}

static unsigned long parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end)
		fail("%s: bad number '%s'", what, s);
	return v;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap %zu bytes: %s", len, strerror(errno));
	if (madvise(p, len, MADV_NOHUGEPAGE))
		fail("madvise: %s", strerror(errno));
	return p;
}

static void unmap(void *p, size_t len)
{
	if (munmap(p, len))
		fail("munmap: %s", strerror(errno));
}

static unsigned count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned n = 0;
	int c;
	if (!f)
		fail("open /proc/self/maps: %s", strerror(errno));
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Fork n times; the child leaves at once.  Returns the median wall time of
 * fork() as the parent saw it, in microseconds (a cross-check only: the
 * trace's sys_enter/sys_exit of clone is the measurement). */
static double fork_n(unsigned n)
{
	double t[n ? n : 1];
	for (unsigned i = 0; i < n; i++) {
		double t0 = now_us();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		t[i] = now_us() - t0;
		if (pid < 0)
			fail("fork: %s", strerror(errno));
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
			fail("waitpid %d: %s", (int)pid, strerror(errno));
	}
	qsort(t, n, sizeof(t[0]), cmp_double);
	return n ? t[n / 2] : 0;
}

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_SIZE: return "size";
	case K_DENSE_EMPTY: return "dense-empty";
	case K_DENSE_FULL: return "dense-populated";
	case K_SPARSE: return "sparse-populated";
	}
	return "?";
}

/* Build one configuration, fork over it, tear it down. */
static void run_conf(const struct opts *o, int mfd, const struct conf *c)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	size_t len, pages = 0;
	char *base;
	char name[64];

	switch (c->kind) {
	case K_SIZE:
		len = c->n << 20;
		base = len ? map_anon(len) : NULL;
		for (size_t off = 0; off < len; off += psz, pages++)
			base[off] = 1;
		snprintf(name, sizeof(name), "size-%luMiB", c->n);
		break;
	case K_DENSE_EMPTY:
	case K_DENSE_FULL:
		/* 2N pages, every odd one unmapped: N VMAs that cannot merge */
		len = 2 * c->n * psz;
		base = map_anon(len);
		for (size_t i = 0; i < c->n; i++) {
			unmap(base + (2 * i + 1) * psz, psz);
			if (c->kind == K_DENSE_FULL) {
				base[2 * i * psz] = 1;
				pages++;
			}
		}
		snprintf(name, sizeof(name), "%s-%lu", kind_name(c->kind), c->n);
		break;
	case K_SPARSE: {
		/* N+1 slots so one 2 MiB boundary can be aligned to; keep the
		 * first page of each aligned slot, unmap the rest */
		len = (c->n + 1) * SLOT;
		char *raw = map_anon(len);
		char *al = (char *)(((uintptr_t)raw + SLOT - 1) & ~(SLOT - 1));
		if (al > raw)
			unmap(raw, (size_t)(al - raw));
		for (size_t i = 0; i < c->n; i++) {
			char *s = al + i * SLOT;
			unmap(s + psz, SLOT - psz);
			s[0] = 1;
			pages++;
		}
		char *tail = al + c->n * SLOT;
		if (tail < raw + len)
			unmap(tail, (size_t)(raw + len - tail));
		base = al;
		len = c->n * SLOT;
		snprintf(name, sizeof(name), "sparse-populated-%lu", c->n);
		break;
	}
	default:
		fail("bad configuration kind");
	}
	unsigned vmas = count_vmas();
	marker(mfd, "cowsim: phase %s vmas=%u populated_pages=%zu forks=%u", name,
	       vmas, pages, o->forks);
	double med = fork_n(o->forks);
	printf("%-24s vmas=%-5u populated_pages=%-6zu forks=%u fork_median_us=%.1f\n",
	       name, vmas, pages, o->forks, med);
	if (base)
		unmap(base, len); /* holes inside are fine for munmap */
}

static void run_vforks(const struct opts *o, int mfd)
{
	unsigned vmas = count_vmas();
	marker(mfd, "cowsim: phase vfork vmas=%u forks=%u", vmas, o->vforks);
	for (unsigned i = 0; i < o->vforks; i++) {
		pid_t pid = vfork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			fail("vfork: %s", strerror(errno));
		int st;
		if (waitpid(pid, &st, 0) != pid)
			fail("waitpid: %s", strerror(errno));
	}
	marker(mfd, "cowsim: phase posix_spawn vmas=%u spawns=%u", vmas, o->vforks);
	for (unsigned i = 0; i < o->vforks; i++) {
		pid_t pid;
		char *argv[] = { "true", NULL };
		int e = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
		if (e)
			fail("posix_spawn /bin/true: %s", strerror(e));
		int st;
		if (waitpid(pid, &st, 0) != pid)
			fail("waitpid: %s", strerror(errno));
	}
	printf("vfork+posix_spawn        vmas=%-5u vforks=%u spawns=%u\n", vmas,
	       o->vforks, o->vforks);
}

int main(int argc, char **argv)
{
	struct opts o = { .forks = 16, .vforks = 8, .seed = 1 };
	o.nsizes = parse_list("0,1,4,16,64,256", o.sizes, "sizes");
	o.nareas = parse_list("10,100,1000,4000", o.areas, "areas");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			fail("usage: forksweep [--marker PATH] [--forks N] [--vforks N] "
			     "[--seed S] [--sizes LIST] [--areas LIST]");
		if (!strcmp(a, "--marker"))
			o.marker = v;
		else if (!strcmp(a, "--forks"))
			o.forks = (unsigned)parse_num(v, a);
		else if (!strcmp(a, "--vforks"))
			o.vforks = (unsigned)parse_num(v, a);
		else if (!strcmp(a, "--seed"))
			o.seed = parse_num(v, a);
		else if (!strcmp(a, "--sizes"))
			o.nsizes = parse_list(v, o.sizes, "sizes");
		else if (!strcmp(a, "--areas"))
			o.nareas = parse_list(v, o.areas, "areas");
		else
			fail("unknown option %s", a);
		i++;
	}
	int mfd = -1;
	if (o.marker && (mfd = open(o.marker, O_WRONLY | O_CLOEXEC)) < 0)
		fail("open %s: %s", o.marker, strerror(errno));

	struct conf confs[MAX_CONF];
	size_t n = 0;
	for (size_t i = 0; i < o.nsizes; i++)
		confs[n++] = (struct conf){ K_SIZE, o.sizes[i] };
	for (size_t i = 0; i < o.nareas; i++) {
		confs[n++] = (struct conf){ K_DENSE_EMPTY, o.areas[i] };
		confs[n++] = (struct conf){ K_DENSE_FULL, o.areas[i] };
		confs[n++] = (struct conf){ K_SPARSE, o.areas[i] };
	}
	/* Fisher-Yates with a private LCG: the order is a function of --seed */
	unsigned long long r = o.seed * 6364136223846793005ULL + 1442695040888963407ULL;
	for (size_t i = n; i > 1; i--) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t j = (size_t)((r >> 33) % i);
		struct conf t = confs[i - 1];
		confs[i - 1] = confs[j];
		confs[j] = t;
	}
	printf("forksweep pid=%d seed=%lu forks=%u vforks=%u\n", (int)getpid(),
	       o.seed, o.forks, o.vforks);
	for (size_t i = 0; i < n; i++)
		run_conf(&o, mfd, &confs[i]);
	run_vforks(&o, mfd);
	marker(mfd, "cowsim: phase done");
	return 0;
}
