/*
 * cowknown: a workload whose every write fault has a known outcome.
 *
 * The importer labels write faults copy/reuse/zero/new from kmem:mm_page_alloc
 * (reference/tracing.md §4).  To test those labels against ground truth, this
 * program takes write faults on its own pages, reads /proc/self/pagemap before
 * and after each one, and writes
 *     cowsim: expect pid=PID va=0xADDR outcome=copy|reuse|zero|new
 * to trace_marker right after the fault.  The outcome is what pagemap shows,
 * not what the phase intends:
 *     before not present                  -> new
 *     before = the shared zero page's PFN -> zero
 *     PFN changed                         -> copy
 *     PFN unchanged                       -> reuse
 * so a phase whose intent the kernel does not follow (the LRU phase, or a
 * reuse phase disturbed by a remote per-CPU LRU batch) still gets true labels;
 * the summary on stdout shows intent versus outcome.
 *
 * Phases (each announced with "cowsim: phase NAME ..."):
 *   A  first-touch writes                               (new)
 *   Z  read (maps the zero page), then write             (zero)
 *   S  first touches of the pages B, C, D and E use      (new)
 *   B  parent writes pages shared with a live child      (copy)
 *   C  child writes pages shared with the parent         (copy)
 *   D  parent writes pages the child already copied away (reuse)
 *   E  parent writes pages after the child exited        (reuse)
 *   F  MAP_PRIVATE file page, read then written          (copy)
 *   G  MAP_PRIVATE file page written without a read      (new: nothing
 *      was mapped; the kernel copies the page-cache page into a new anon
 *      page, so its allocation has no __GFP_ZERO)
 *   L  touch on CPU0, move to CPU1 before fork, child exits at once, parent
 *      writes on CPU1: the folios may still sit in CPU0's LRU-add batch, so
 *      the kernel may copy where a mapcount model says reuse
 * Phases A-G run pinned to CPU0 so the kernel's local lru_add_drain() sees
 * every batch and D/E really reuse.  All regions are MADV_NOHUGEPAGE.
 * Must run as root: PFNs in pagemap need CAP_SYS_ADMIN.
 *
 * usage: cowknown [--marker PATH] [--pages N] [--dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

enum outcome { O_NEW, O_ZERO, O_COPY, O_REUSE, O_NR };
static const char *const oname[O_NR] = { "new", "zero", "copy", "reuse" };

static int marker_fd = -1;
static int pagemap_fd = -1;
static uint64_t zero_pfn;
static size_t psz;
static pid_t self;

/* per-phase tallies for the summary (the child reports its own) */
struct tally {
	const char *phase;
	enum outcome intent;
	bool intent_known;
	unsigned n[O_NR];
};
#define MAX_PHASES 32
static struct tally tallies[MAX_PHASES];
static int ntally;
static struct tally *cur;

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cowknown: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void marker(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		fail("marker too long");
	buf[n++] = '\n';
	if (write(marker_fd, buf, (size_t)n) != n)
		fail("write to trace_marker: %s%s", strerror(errno),
		     errno == EBADF ? " (tracing off?)" : "");
}

static void reopen_pagemap(void)
{
	/* pagemap fds are bound to the mm at open time: a fork child must
	 * open its own. */
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		fail("open /proc/self/pagemap: %s", strerror(errno));
	self = getpid();
}

static uint64_t pm_entry(const volatile char *va)
{
	uint64_t e;
	off_t off = (off_t)(((uintptr_t)va / psz) * sizeof(e));
	if (pread(pagemap_fd, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		fail("pread pagemap: %s", strerror(errno));
	return e;
}

static void phase(const char *name, int intent, const char *text)
{
	if (ntally == MAX_PHASES)
		fail("too many phases");
	cur = &tallies[ntally++];
	cur->phase = strdup(name);
	if (!cur->phase)
		fail("out of memory");
	cur->intent_known = intent >= 0;
	cur->intent = intent >= 0 ? (enum outcome)intent : O_NEW;
	marker("cowsim: phase %s %s", name, text);
}

/* Write one byte to va, judge the outcome from pagemap, mark it. */
static enum outcome write_fault(volatile char *va, char val)
{
	uint64_t before = pm_entry(va);
	*va = val;
	uint64_t after = pm_entry(va);
	if (!(after & PM_PRESENT))
		fail("page %p not present after write", (void *)va);
	uint64_t pb = before & PM_PFN_MASK, pa = after & PM_PFN_MASK;
	enum outcome o;
	if (!(before & PM_PRESENT))
		o = O_NEW;
	else if (pb == zero_pfn)
		o = O_ZERO;
	else if (pb != pa)
		o = O_COPY;
	else
		o = O_REUSE;
	marker("cowsim: expect pid=%d va=0x%" PRIxPTR " outcome=%s",
	       (int)self, (uintptr_t)va, oname[o]);
	cur->n[o]++;
	return o;
}

static char *map_anon(size_t pages)
{
	char *p = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap %zu pages: %s", pages, strerror(errno));
	if (madvise(p, pages * psz, MADV_NOHUGEPAGE) < 0)
		fail("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	return p;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("sched_setaffinity(cpu %d): %s", cpu, strerror(errno));
}

static void xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
}

static void xwrite1(int fd)
{
	char c = 1;
	if (write(fd, &c, 1) != 1)
		fail("pipe write: %s", strerror(errno));
}

static void xread1(int fd)
{
	char c;
	ssize_t r;
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		fail("pipe read: %s", r < 0 ? strerror(errno) : "EOF");
}

static pid_t xfork(void)
{
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		fail("fork: %s", strerror(errno));
	return p;
}

static void xwait(pid_t p)
{
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("child %d failed (status 0x%x)", (int)p, st);
}

static void print_tally(const char *who)
{
	for (int i = 0; i < ntally; i++) {
		struct tally *t = &tallies[i];
		unsigned tot = 0;
		for (int o = 0; o < O_NR; o++)
			tot += t->n[o];
		if (!tot)
			continue;
		printf("%-6s %-34s", who, t->phase);
		for (int o = 0; o < O_NR; o++)
			if (t->n[o])
				printf(" %s=%u", oname[o], t->n[o]);
		if (t->intent_known && t->n[t->intent] != tot)
			printf("   (intended %s for all %u)",
			       oname[t->intent], tot);
		printf("\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *mpath = "/sys/kernel/tracing/trace_marker";
	const char *dir = "/var/tmp";
	size_t n = 32; /* pages per phase */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--marker") && i + 1 < argc)
			mpath = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 65536)
				fail("--pages wants 1..65536");
			n = (size_t)v;
		} else {
			fprintf(stderr, "usage: cowknown [--marker PATH] "
					"[--pages N] [--dir DIR]\n");
			return 2;
		}
	}
	psz = (size_t)sysconf(_SC_PAGESIZE);
	marker_fd = open(mpath, O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		fail("open %s: %s", mpath, strerror(errno));
	reopen_pagemap();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* The zero page's PFN: read-fault a fresh anonymous page. */
	{
		volatile char *z = map_anon(1);
		(void)*z;
		uint64_t e = pm_entry(z);
		zero_pfn = e & PM_PFN_MASK;
		if (!(e & PM_PRESENT) || zero_pfn == 0)
			fail("pagemap shows no PFN for a read page: run as "
			     "root (CAP_SYS_ADMIN), pagemap entry 0x%" PRIx64,
			     e);
		munmap((void *)z, psz);
	}
	if (ncpu >= 2)
		pin_cpu(0);
	marker("cowsim: phase setup pages_per_phase=%zu zero_pfn=0x%" PRIx64
	       " ncpus=%ld",
	       n, zero_pfn, ncpu);

	/* A: first touch */
	char *ra = map_anon(n);
	phase("A_first_touch", O_NEW, "expect=new");
	for (size_t i = 0; i < n; i++)
		write_fault(ra + i * psz, 'a');

	/* Z: read (zero page) then write */
	char *rz = map_anon(n);
	phase("Z_zero_page_then_write", O_ZERO, "expect=zero");
	for (size_t i = 0; i < n; i++) {
		volatile char *p = rz + i * psz;
		(void)*p; /* read fault: maps the shared zero page */
		write_fault((char *)p, 'z');
	}

	/* S: the pages B..E share with a child, touched before the fork */
	char *rb = map_anon(n), *rc = map_anon(n), *re = map_anon(n);
	phase("S_setup_first_touch", O_NEW, "expect=new regions for B C D E");
	for (size_t i = 0; i < n; i++) {
		write_fault(rb + i * psz, 'b');
		write_fault(rc + i * psz, 'c');
		write_fault(re + i * psz, 'e');
	}

	int go[2], done[2];
	xpipe(go);
	xpipe(done);
	marker("cowsim: phase fork1 child shares B C D E regions");
	pid_t kid = xfork();
	if (kid == 0) {
		reopen_pagemap();
		memset(tallies, 0, sizeof(tallies));
		ntally = 0;
		xread1(go[0]);
		phase("C_child_writes_shared", O_COPY, "expect=copy");
		for (size_t i = 0; i < n; i++)
			write_fault(rc + i * psz, 'C');
		print_tally("child");
		xwrite1(done[1]);
		xread1(go[0]); /* wait for D, then exit */
		_exit(0);
	}
	phase("B_parent_writes_shared_live_child", O_COPY, "expect=copy");
	for (size_t i = 0; i < n; i++)
		write_fault(rb + i * psz, 'B');
	xwrite1(go[1]);
	xread1(done[0]);
	phase("D_parent_writes_after_child_copied", O_REUSE, "expect=reuse");
	for (size_t i = 0; i < n; i++)
		write_fault(rc + i * psz, 'D');
	xwrite1(go[1]);
	xwait(kid);
	phase("E_parent_writes_after_child_exit", O_REUSE, "expect=reuse");
	for (size_t i = 0; i < n; i++)
		write_fault(re + i * psz, 'E');

	/* F and G: private file mappings */
	char path[4096];
	snprintf(path, sizeof(path), "%s/cowknown.XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0)
		fail("mkstemp %s: %s", path, strerror(errno));
	unlink(path);
	/* F uses file pages [0, n), G the n/4+1 pages after a 16-page gap,
	 * in a VMA of their own: F's read faults map neighbouring page-cache
	 * pages too (fault-around, 64 KiB), which must not reach G's pages. */
	size_t gpages = n / 4 + 1, goff = n + 16;
	size_t fpages = goff + gpages;
	char *page = malloc(psz);
	if (!page)
		fail("out of memory");
	for (size_t i = 0; i < fpages; i++) {
		memset(page, (int)('0' + i % 10), psz);
		if (write(fd, page, psz) != (ssize_t)psz)
			fail("write %s: %s", path, strerror(errno));
	}
	free(page);
	if (fsync(fd) < 0)
		fail("fsync: %s", strerror(errno));
	char *rf = mmap(NULL, n * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			fd, 0);
	char *rg = mmap(NULL, gpages * psz, PROT_READ | PROT_WRITE,
			MAP_PRIVATE, fd, (off_t)(goff * psz));
	if (rf == MAP_FAILED || rg == MAP_FAILED)
		fail("mmap file: %s", strerror(errno));
	madvise(rf, n * psz, MADV_NOHUGEPAGE);
	madvise(rg, gpages * psz, MADV_NOHUGEPAGE);
	phase("F_file_private_read_then_write", O_COPY, "expect=copy");
	for (size_t i = 0; i < n; i++) {
		volatile char *p = rf + i * psz;
		(void)*p; /* maps the page-cache page read-only */
		write_fault((char *)p, 'F');
	}
	phase("G_file_private_write_unmapped", O_NEW,
	      "expect=new (anon copy of a page-cache page, no __GFP_ZERO)");
	for (size_t i = 0; i < gpages; i++)
		write_fault(rg + i * psz, 'G');
	munmap(rf, n * psz);
	munmap(rg, gpages * psz);
	close(fd);

	/* L: remote LRU batch (reference/tracing.md §4 caveat 3) */
	if (ncpu >= 2) {
		static const size_t lsizes[] = { 4, 4, 4, 12, 40 };
		for (size_t r = 0; r < sizeof(lsizes) / sizeof(lsizes[0]);
		     r++) {
			size_t ln = lsizes[r];
			char name[64];
			pin_cpu(0);
			char *rl = map_anon(ln);
			snprintf(name, sizeof(name), "L%zu_setup_cpu0_n%zu",
				 r, ln);
			phase(name, O_NEW, "expect=new touched on CPU0");
			for (size_t i = 0; i < ln; i++)
				write_fault(rl + i * psz, 'l');
			pin_cpu(1);
			marker("cowsim: phase L%zu_fork_on_cpu1 n=%zu", r, ln);
			pid_t k = xfork();
			if (k == 0)
				_exit(0);
			xwait(k);
			snprintf(name, sizeof(name),
				 "L%zu_parent_writes_cpu1_n%zu", r, ln);
			phase(name, -1,
			      "expect=reuse-or-copy (remote LRU batch)");
			for (size_t i = 0; i < ln; i++)
				write_fault(rl + i * psz, 'L');
			munmap(rl, ln * psz);
		}
	} else {
		marker("cowsim: phase L_skipped ncpus=%ld", ncpu);
	}

	marker("cowsim: phase end");
	print_tally("parent");
	munmap(ra, n * psz);
	munmap(rz, n * psz);
	munmap(rb, n * psz);
	munmap(rc, n * psz);
	munmap(re, n * psz);
	return 0;
}
