/*
 * test_imp_text.c - the importers on small hand-made traces, one per
 * variant the tools print (reference/tracing.md section 2) and per rule
 * of docs/importers.md: kernel text with irq flags and kernel-style
 * syscalls, trace-cmd report with -t, raw_syscalls and named syscalls of
 * one call, instance prefixes, record-tgid and comm with spaces, exec-time
 * kernel faults held for the new image, the maps snapshot and pagemap
 * markers, stack growth, threads, O_DIRECT as GUP, labels and their loss
 * at dropped events, perf -F pid,tid --ns with MMAP2 standing in for the
 * snapshot, exec images read from a real ELF, shared-mapping fills.
 *
 * Each case renders the normalized events one per line and checks that
 * the expected lines appear in that order (other lines may come between).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "importers/elfimg.h"
#include "importers/open.h"
#include "sim/config.h"
#include "sim/sim.h"

static const char *const obs[] = { "none", "copy", "zero", "reuse", "new" };

/* Text (as format fmt) as an event source; NULL (said why) on failure. */
static struct ev_source *open_text(const char *text, const char *fmt,
                                   uint32_t pid)
{
	char path[] = "/tmp/cowsim-test-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	struct evsrc_opts o = { .format = fmt, .pid = pid, .quiet = 1 };
	struct ev_source *src = NULL;
	char err[1024];
	if (evsrc_open(path, &o, &src, err, sizeof(err)))
		fprintf(stderr, "open: %s\n", err);
	unlink(path);   /* the readers have it open */
	return src;
}

/* Import text (as format fmt) and render its events. */
static char *render(const char *text, const char *fmt, uint32_t pid,
                    struct ev_source **keep)
{
	struct ev_source *src = open_text(text, fmt, pid);
	char *out = NULL;
	size_t olen = 0;
	if (!src)
		return NULL;
	FILE *f = open_memstream(&out, &olen);
	struct cs_ev buf[256];
	long n;
	while ((n = evsrc_next(src, buf, 256)) > 0) {
		for (long i = 0; i < n; i++) {
			const struct cs_ev *e = &buf[i];
			fprintf(f, "%s %u/%u", ev_type_name(e->type), e->tid, e->tgid);
			switch (e->type) {
			case EV_EXEC: case EV_COMM: case EV_MARKER:
				fprintf(f, " '%s'", strtab_get(&src->strings, e->arg));
				break;
			case EV_OBSERVED:
				fprintf(f, " %#llx %s", (unsigned long long)e->addr,
				        obs[e->flags < 5 ? e->flags : 0]);
				break;
			case EV_MMAP:
				fprintf(f, " %#llx +%u fl=%#x file='%s'",
				        (unsigned long long)e->addr, e->len, e->flags,
				        strtab_get(&src->strings, e->arg));
				break;
			default:
				fprintf(f, " %#llx +%u fl=%#x arg=%u aux=%#llx",
				        (unsigned long long)e->addr, e->len, e->flags, e->arg,
				        (unsigned long long)e->aux);
			}
			fprintf(f, " @%llu\n", (unsigned long long)e->ts);
		}
	}
	if (n < 0)
		fprintf(f, "ERROR %s\n", src->err);
	fclose(f);
	if (keep)
		*keep = src;
	else
		evsrc_close(src);
	return out;
}

static void log_fault(void *ctx, const struct sim_fault_rec *r, int is_label)
{
	if (!is_label)
		fprintf(ctx, "%#llx %s\n", (unsigned long long)r->addr,
		        sim_out_name((enum sim_out)r->out));
}

/* Import text and replay it under linux-6.12 (the defaults): each write
 * fault's address and what the engine did, one a line. */
static char *outcomes(const char *text)
{
	struct ev_source *src = open_text(text, NULL, 0);
	struct sim_config cfg;
	struct sim_engine *e;
	struct cs_ev buf[256];
	char *out = NULL;
	size_t olen = 0;
	long n;
	if (!src)
		return NULL;
	cfg_defaults(&cfg);
	FILE *f = open_memstream(&out, &olen);
	CHECK(sim_create(&cfg, &e) == 0);
	sim_set_fault_hook(e, log_fault, f);
	while ((n = evsrc_next(src, buf, 256)) > 0)
		for (long i = 0; i < n; i++)
			CHECK(sim_apply(e, &buf[i]) == 0);
	sim_finish(e);
	sim_destroy(e);
	cfg_release(&cfg);
	evsrc_close(src);
	fclose(f);
	return out;
}

/* Every expected fragment, in order. */
static void in_order(const char *name, const char *got, const char *const *want)
{
	const char *p = got;
	for (size_t i = 0; want[i]; i++) {
		const char *q = p ? strstr(p, want[i]) : NULL;
		if (!q) {
			fprintf(stderr, "%s: missing (in order) '%s' in:\n%s\n", name,
			        want[i], got ? got : "(nothing)");
			check_failures++;
			return;
		}
		p = strchr(q, '\n');
	}
}

static void absent(const char *name, const char *got, const char *frag)
{
	if (got && strstr(got, frag)) {
		fprintf(stderr, "%s: unexpected '%s' in:\n%s\n", name, frag, got);
		check_failures++;
	}
}

static size_t count(const char *got, const char *frag)
{
	size_t n = 0;
	for (const char *p = got; p && (p = strstr(p, frag)); p++)
		n++;
	return n;
}

/* Kernel text: irq flags, kernel-style syscalls, O_DIRECT, a label. */
static void kernel_text(void)
{
	static const char t[] =
	"# tracer: nop\n#\n# entries-in-buffer/entries-written: 12/12   #P:2\n#\n"
	"            prog-100   [000] .....   100.000001: sys_openat(dfd: 0xffffff9c, filename: 0x7ffc0000, flags: 0x4002, mode: 0)\n"
	"            prog-100   [000] .....   100.000002: sys_openat -> 0x3\n"
	"            prog-100   [000] .....   100.000003: sys_mmap(addr: 0, len: 0x4000, prot: 3, flags: 0x22, fd: 0xffffffff, off: 0)\n"
	"            prog-100   [000] .....   100.000004: sys_mmap -> 0x7f0000000000\n"
	"            prog-100   [000] d....   100.000005: page_fault_user: address=0x7f0000000010 ip=0x400000 error_code=0x6\n"
	"            prog-100   [000] ..s..   100.000006: mm_page_alloc: page=00000000deadbeef pfn=0x1000 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"            prog-100   [000] .....   100.000007: mm_page_alloc: page=00000000deadbeef pfn=0x1001 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP\n"
	"            prog-100   [000] .....   100.000008: sys_pread64(fd: 3, buf: 0x7f0000001000, count: 0x2000, pos: 0)\n"
	"            prog-100   [000] .....   100.000009: sys_pread64 -> 0x2000\n"
	"            prog-100   [000] .....   100.000010: sys_munmap(addr: 0x7f0000000000, len: 0x4000)\n"
	"            prog-100   [000] .....   100.000011: sys_munmap -> 0xffffffffffffffea\n"
	"            prog-100   [000] .....   100.000012: sys_mprotect(start: 0x7f0000000000, len: 0x1000, prot: 1)\n"
	"            prog-100   [000] .....   100.000013: sys_mprotect -> 0x0\n";
	char *g = render(t, NULL, 0, NULL);
	const char *want[] = {
		"mmap 100/100 0x7f0000000000 +4 fl=0x23",
		"fault 100/100 0x7f0000000010 +0 fl=0x6",
		/* the softirq allocation is not the fault's: the zeroed one is */
		"observed 100/100 0x7f0000000010 new",
		"gup 100/100 0x7f0000001000 +2 fl=0x303",
		"gup_put 100/100",
		"mprotect 100/100 0x7f0000000000 +1 fl=0x1",
		NULL,
	};
	in_order("kernel text", g, want);
	absent("kernel text", g, "munmap");   /* it failed (-EINVAL) */
	absent("kernel text", g, "inferred");
	free(g);
}

/* trace-cmd report -t: one call seen raw and named is one call; an
 * instance prefix; nanoseconds. */
static void tracecmd_report(void)
{
	static const char t[] =
	"cpus=2\n"
	"            prog-200 [001]  100.000000100: sys_enter:            NR 9 (0, 2000, 3, 22, ffffffff, 0)\n"
	"            prog-200 [001]  100.000000200: sys_enter_mmap:       addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000\n"
	"            prog-200 [001]  100.000000300: sys_exit:             NR 9 = 139637976727552\n"
	"            prog-200 [001]  100.000000400: sys_exit_mmap:        0x7f0000000000\n"
	"inst:       prog-200 [001]  100.000000500: page_fault_user:      address=0x7f0000001000 ip=0x400000 error_code=0x6\n"
	"            prog-200 [001]  100.000000600: print:                tracing_mark_write: hello there\n"
	"CPU:1 [3 EVENTS DROPPED]\n";
	struct ev_source *src = NULL;
	char *g = render(t, "ftrace", 0, &src);
	const char *want[] = {
		"mmap 200/200 0x7f0000000000 +2 fl=0x23 file='' @100000000300",
		"fault 200/200 0x7f0000001000 +0 fl=0x6 arg=0 aux=0x400000 @100000000500",
		"marker 200/200 'hello there'",
		NULL,
	};
	in_order("trace-cmd report", g, want);
	CHECK_EQ(count(g, "mmap 200"), 1);
	CHECK(src && evsrc_meta_get(src, "import_dropped_events") &&
	      !strcmp(evsrc_meta_get(src, "import_dropped_events"), "3"));
	evsrc_close(src);
	free(g);
}

/* record-tgid, comm with spaces, the exec held for the new image, the
 * snapshot and pagemap markers, stack growth, a thread, a reuse label,
 * and the default tree (the snapshot's pid). */
static void exec_snapshot(void)
{
	static const char t[] =
	" launcher-300   (  300) [000] .....  50.000001: task_newtask: pid=301 comm=launcher clone_flags=1200000 oom_score_adj=0\n"
	" launcher-300   (  300) [000] .....  50.000002: sched_process_fork: comm=launcher pid=300 child_comm=launcher child_pid=301\n"
	" launcher-301   (  301) [001] .....  50.000003: sys_execve(filename: 0x7ffc, argv: 0x7ffd, envp: 0x7ffe)\n"
	" launcher-301   (  301) [001] .....  50.000004: exit_mmap: mt_mod 00000000abcdef12, DESTROY\n"
	" launcher-301   (  301) [001] .....  50.000005: task_rename: pid=301 oldcomm=launcher newcomm=my prog oom_score_adj=0\n"
	"  my prog-301   (  301) [001] d....  50.000006: page_fault_kernel: address=0x555555560000 ip=elf_load error_code=0x2\n"
	"  my prog-301   (  301) [001] .....  50.000007: mm_page_alloc: page=00000000aa pfn=0x2000 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP\n"
	"  my prog-301   (  301) [001] .....  50.000008: sched_process_exec: filename=/tmp/my prog pid=301 old_pid=301\n"
	"  my prog-301   (  301) [001] .....  50.000009: sys_execve -> 0x0\n"
	" launcher-300   (  300) [000] ...1.  50.000010: tracing_mark_write: cowsim: meta swap_total_kb=0\n"
	" launcher-300   (  300) [000] ...1.  50.000011: tracing_mark_write: cowsim: maps pid=301 begin\n"
	" launcher-300   (  300) [000] ...1.  50.000012: tracing_mark_write: cowsim: maps pid=301 555555554000-555555560000 r-xp 00000000 fe:00 1234   /tmp/my prog\n"
	" launcher-300   (  300) [000] ...1.  50.000013: tracing_mark_write: cowsim: maps pid=301 555555560000-555555562000 rw-p 00000000 00:00 0 \n"
	" launcher-300   (  300) [000] ...1.  50.000014: tracing_mark_write: cowsim: maps pid=301 7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0   [stack]\n"
	" launcher-300   (  300) [000] ...1.  50.000015: tracing_mark_write: cowsim: maps pid=301 ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]\n"
	" launcher-300   (  300) [000] ...1.  50.000016: tracing_mark_write: cowsim: maps pid=301 end\n"
	" launcher-300   (  300) [000] ...1.  50.000017: tracing_mark_write: cowsim: pagemap pid=301 va=0x555555561000 n=1 flags=PX pfn=0x2001\n"
	" launcher-300   (  300) [000] ...1.  50.000018: tracing_mark_write: cowsim: bogus stuff\n"
	"  my prog-301   (  301) [001] d....  50.000020: page_fault_user: address=0x7ffbfffff000 ip=0x555555554100 error_code=0x6\n"
	"  my prog-301   (  301) [001] .....  50.000021: task_newtask: pid=302 comm=my prog clone_flags=3d0f00 oom_score_adj=0\n"
	"  my prog-301   (  301) [001] .....  50.000022: sched_process_fork: comm=my prog pid=301 child_comm=my prog child_pid=302\n"
	"  my prog-302   (  301) [000] d....  50.000030: page_fault_user: address=0x555555561000 ip=0x555555554100 error_code=0x7\n"
	"  my prog-302   (  301) [000] .....  50.000031: sys_enter: NR 39 (0, 0, 0, 0, 0, 0)\n"
	"  my prog-301   (  301) [001] .....  50.000040: sched_process_exit: comm=my prog pid=301 prio=120 group_dead=false\n"
	"  my prog-302   (  301) [000] .....  50.000041: sched_process_exit: comm=my prog pid=302 prio=120 group_dead=true\n";
	struct ev_source *src = NULL;
	char *g = render(t, NULL, 0, &src);
	const char *want[] = {
		"exec 301/301 '/tmp/my prog'",
		"comm 301/301 'my prog'",
		"mmap 301/301 0x555555554000 +12 fl=0x205 file='fe:00:1234'",
		"mmap 301/301 0x555555560000 +2 fl=0x223",
		"mmap 301/301 0x7ffc00000000 +33 fl=0x263",
		/* the exec-time kernel fault, after the snapshot, labelled */
		"fault 301/301 0x555555560000 +0 fl=0x2",
		"observed 301/301 0x555555560000 new",
		"page_init 301/301 0x555555561000 +1 fl=0x9 arg=0 aux=0x2001",
		"mmap 301/301 0x7ffbfffff000 +1 fl=0x63",   /* stack growth */
		"fault 301/301 0x7ffbfffff000",
		"fork 301/301 0 +0 fl=0x10100 arg=302",
		"fault 302/301 0x555555561000 +0 fl=0x7",
		"observed 302/301 0x555555561000 reuse",
		"exit 301/301 0 +0 fl=0",
		"exit 302/301 0 +0 fl=0x1",
		NULL,
	};
	in_order("exec snapshot", g, want);
	absent("exec snapshot", g, "inferred");
	absent("exec snapshot", g, "/300 ");            /* the launcher */
	absent("exec snapshot", g, "0xffffffffff600000");
	CHECK(src && evsrc_meta_get(src, "swap_total_kb") &&
	      !strcmp(evsrc_meta_get(src, "swap_total_kb"), "0"));
	CHECK(src && evsrc_meta_get(src, "import_bad_markers") &&
	      !strcmp(evsrc_meta_get(src, "import_bad_markers"), "1"));
	evsrc_close(src);
	free(g);
	/* --pid of the launcher, running before the trace began: selected
	 * from its first record, its child with it */
	g = render(t, NULL, 300, NULL);
	const char *want300[] = {
		"fork 300/300 0 +0 fl=0 arg=301",
		"exec 301/301 '/tmp/my prog'",
		NULL,
	};
	in_order("--pid 300", g, want300);
	free(g);
}

/* A loss of events abandons the open window: no label from across it. */
static void loss_cancels_label(void)
{
	static const char t[] =
	"cpus=2\n"
	"            prog-500 [000]  10.000001: sys_exit_mmap:        0x7f0000000000\n"
	"            prog-500 [000]  10.000002: page_fault_user:      address=0x7f0000000000 ip=0x1 error_code=0x7\n"
	"CPU:0 [12 EVENTS DROPPED]\n"
	"            prog-500 [000]  10.000004: mm_page_alloc:        page=0x1 pfn=0x1 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"            prog-500 [000]  10.000005: page_fault_user:      address=0x7f0000001000 ip=0x1 error_code=0x7\n"
	"            prog-500 [000]  10.000006: mm_page_alloc:        page=0x1 pfn=0x2 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"            prog-500 [000]  10.000007: sys_enter:            NR 39 (0, 0, 0, 0, 0, 0)\n";
	char *g = render(t, NULL, 0, NULL);
	const char *want[] = {
		"fault 500/500 0x7f0000000000",
		"mmap 500/500 0x7f0000001000 +1 fl=0x123",   /* inferred, write */
		"fault 500/500 0x7f0000001000",
		"observed 500/500 0x7f0000001000 copy",
		NULL,
	};
	in_order("loss", g, want);
	absent("loss", g, "observed 500/500 0x7f0000000000");
	free(g);
}

/* perf -F comm,pid,tid,cpu,time,event,trace --ns: MMAP2 made during the
 * exec stand in for the snapshot; FORK then task_newtask is no pid reuse. */
static void perf_text(void)
{
	static const char t[] =
	"       perf-exec 400/400 [000]  10.000000001: PERF_RECORD_COMM exec: prog:400/400\n"
	"            prog 400/400 [000]  10.000000002: PERF_RECORD_MMAP2 400/400: [0x555555554000(0x1000) @ 0 fe:00 99 0]: r-xp /bin/prog\n"
	"            prog 400/400 [000]  10.000000003: PERF_RECORD_MMAP2 400/400: [0x7ffc00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]\n"
	"            prog 400/400 [000]  10.000000004:   sched:sched_process_exec: filename=/bin/prog pid=400 old_pid=400\n"
	"            prog 400/400 [000]  10.000000005: exceptions:page_fault_user: address=0x555555554000 ip=0x555555554000 error_code=0x14\n"
	"            prog 400/400 [000]  10.000000006: PERF_RECORD_FORK(401:401):(400:400)\n"
	"            prog 400/400 [000]  10.000000007:       task:task_newtask: pid=401 comm=prog clone_flags=1200000 oom_score_adj=0\n"
	"            prog 400/400 [000]  10.000000008: sched:sched_process_fork: comm=prog pid=400 child_comm=prog child_pid=401\n"
	"            prog 401/401 [001]  10.000000009: exceptions:page_fault_user: address=0x7ffc00000010 ip=0x555555554000 error_code=0x7\n";
	struct ev_source *src = NULL;
	char *g = render(t, NULL, 0, &src);
	const char *want[] = {
		"exec 400/400 '/bin/prog'",
		"mmap 400/400 0x555555554000 +1 fl=0x205 file='fe:00:99'",
		"mmap 400/400 0x7ffc00000000 +33 fl=0x263",
		"fault 400/400 0x555555554000 +0 fl=0x14",
		"fork 400/400 0 +0 fl=0 arg=401",
		"fault 401/401 0x7ffc00000010",
		NULL,
	};
	in_order("perf", g, want);
	absent("perf", g, "inferred");
	CHECK(src && !evsrc_meta_get(src, "import_pid_reused"));
	CHECK(src && !strcmp(src->format, "perf"));
	evsrc_close(src);
	free(g);
}

/* Hostile pids: a task_newtask and a sched_process_fork naming the
 * creator as its own child (one flipped byte of a real trace made this).
 * Believing them freed the parent's address space and then copied it
 * (a use-after-free that ASan reports).  They are skipped and counted, and
 * the task's later faults keep their mapping. */
static void self_fork(void)
{
	static const char t[] =
	"               q-99    [000] .....  1.000000: sched_process_exec: filename=/usr/bin/q pid=99 old_pid=99\n"
	"               q-99    [000] .....  1.000001: page_fault_user: address=0x7f0000001000 ip=0x1 error_code=0x6\n"
	"               q-99    [000] .....  1.000003: task_newtask: pid=100 comm=p clone_flags=1200000 oom_score_adj=0\n"
	"               p-100   [000] .....  1.000004: sched_process_fork: comm=p pid=100 child_comm=p child_pid=100\n"
	"               q-99    [000] .....  1.000005: sched_process_fork: comm=q pid=99 child_comm=p child_pid=100\n"
	"               p-100   [001] .....  1.000006: page_fault_user: address=0x7f0000001000 ip=0x1 error_code=0x7\n"
	"               p-100   [001] .....  1.000007: task_newtask: pid=100 comm=p clone_flags=1200000 oom_score_adj=0\n"
	"               p-100   [001] .....  1.000008: page_fault_user: address=0x7f0000002000 ip=0x1 error_code=0x7\n"
	/* a pid above PID_MAX_LIMIT: no such task can exist */
	"               x-5000000 [001] .....  1.000009: page_fault_user: address=0x7f0000003000 ip=0x1 error_code=0x7\n";
	struct ev_source *src = NULL;
	char *g = render(t, NULL, 0, &src);
	const char *want[] = {
		"exec 99/99 '/usr/bin/q'",
		"fault 99/99 0x7f0000001000",
		"fork 99/99 0 +0 fl=0 arg=100",
		"fault 100/100 0x7f0000001000",
		"fault 100/100 0x7f0000002000",
		NULL,
	};
	in_order("self fork", g, want);
	CHECK(src && evsrc_meta_get(src, "import_impossible") &&
	      !strcmp(evsrc_meta_get(src, "import_impossible"), "3"));
	evsrc_close(src);
	free(g);
}

/* A shared mapping's first touch fills the page cache: shmem allocates
 * without __GFP_ZERO, which must not read as a COW copy; its write-protect
 * fault with no allocation is still a reuse. */
static void shared_fill(void)
{
	static const char t[] =
	"cpus=2\n"
	"            prog-600 [000]  10.000001: sys_enter_mmap:       addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000021, fd: 0xffffffffffffffff, off: 0x00000000\n"
	"            prog-600 [000]  10.000002: sys_exit_mmap:        0x7f0000000000\n"
	"            prog-600 [000]  10.000003: page_fault_user:      address=0x7f0000000000 ip=0x1 error_code=0x6\n"
	"            prog-600 [000]  10.000004: mm_page_alloc:        page=0x1 pfn=0x1 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"            prog-600 [000]  10.000005: page_fault_user:      address=0x7f0000001000 ip=0x1 error_code=0x7\n"
	"            prog-600 [000]  10.000006: page_fault_user:      address=0x7f0000100000 ip=0x1 error_code=0x6\n"
	"            prog-600 [000]  10.000007: mm_page_alloc:        page=0x1 pfn=0x2 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"            prog-600 [000]  10.000008: sys_enter:            NR 39 (0, 0, 0, 0, 0, 0)\n";
	char *g = render(t, NULL, 0, NULL);
	const char *want[] = {
		"mmap 600/600 0x7f0000000000 +2 fl=0x33",
		"fault 600/600 0x7f0000000000",
		"fault 600/600 0x7f0000001000",
		"observed 600/600 0x7f0000001000 reuse",
		"fault 600/600 0x7f0000100000",
		/* private (inferred) memory: the rule still calls it a copy */
		"observed 600/600 0x7f0000100000 copy",
		NULL,
	};
	in_order("shared fill", g, want);
	absent("shared fill", g, "observed 600/600 0x7f0000000000");
	free(g);
}

/* Keeps this program's .bss more than a page past its file part, for
 * exec_image(); "used", or link-time optimisation drops it. */
__attribute__((used)) static char bss_pad[4 * 4096];

/* An exec of a real ELF - this test program, built by the build - with no
 * maps snapshot: the program is placed by elf_load()'s padzero() kernel
 * fault, the interpreter by its entry fetch, and the image's data page
 * is a private file mapping (a write copies the file page) and its .bss
 * anonymous (a write is a zero-fill), not one-page inferred areas. */
static void exec_image(void)
{
	char self[200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct elfimg img, ld;
	CHECK(n > 0);
	if (n <= 0)
		return;
	self[n] = 0;
	CHECK_EQ(elfimg_load(-1, self, &img), 0);
	CHECK(img.dyn && img.interp[0]);
	CHECK_EQ(elfimg_load(-1, img.interp, &ld), 0);
	const struct elfimg_seg *d = NULL;
	for (uint32_t i = 0; i < img.nseg; i++)
		if ((img.seg[i].prot & EV_PROT_WRITE) &&
		    img.seg[i].memsz > img.seg[i].filesz)
			d = &img.seg[i];
	CHECK(d != NULL);
	if (!d || !img.dyn)
		return;
	const unsigned long long base = 0x555555554000ull, ldbase = 0x7ffff7fc3000ull;
	unsigned long long zs = base + d->vaddr + d->filesz;
	unsigned long long data = (base + d->vaddr) & ~4095ull;
	unsigned long long bss = (zs + 4095) & ~4095ull;
	unsigned long long end = (base + d->vaddr + d->memsz + 4095) & ~4095ull;
	CHECK(bss < end && data < (zs & ~4095ull));
	char t[4096], w[4][sizeof(self) + 96];   /* the longest line names self */
	snprintf(t, sizeof(t),
	"cpus=2\n"
	"          sh-700 [000]  10.000001: sys_enter_execve:     filename: 0x1000, argv: 0x2000, envp: 0x3000\n"
	"          sh-700 [000]  10.000002: exit_mmap:            mt_mod 0xffff, DESTROY\n"
	"          sh-700 [000]  10.000003: task_rename:          pid=700 oldcomm=sh newcomm=prog oom_score_adj=0\n"
	"        prog-700 [000]  10.000004: page_fault_kernel:    address=%#llx ip=0xffffffff8177879a error_code=0x2\n"
	"        prog-700 [000]  10.000005: mm_page_alloc:        page=0x1 pfn=0x1 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"        prog-700 [000]  10.000006: sched_process_exec:   filename=%s pid=700 old_pid=700\n"
	"        prog-700 [000]  10.000007: sys_exit_execve:      0x0\n"
	"        prog-700 [000]  10.000008: page_fault_user:      address=%#llx ip=%#llx error_code=0x14\n"
	"        prog-700 [000]  10.000009: page_fault_user:      address=%#llx ip=0x1 error_code=0x6\n"
	"        prog-700 [000]  10.000010: mm_page_alloc:        page=0x1 pfn=0x2 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
	"        prog-700 [000]  10.000011: page_fault_user:      address=%#llx ip=0x1 error_code=0x6\n"
	"        prog-700 [000]  10.000012: mm_page_alloc:        page=0x1 pfn=0x3 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP\n"
	"        prog-700 [000]  10.000013: sys_enter:            NR 39 (0, 0, 0, 0, 0, 0)\n",
	zs, self, ldbase + ld.entry, ldbase + ld.entry, data, bss);
	char *g = render(t, NULL, 0, NULL);
	snprintf(w[0], sizeof(w[0]), "mmap 700/700 %#llx +%llu fl=0x3 file='%s'",
	         data, (((zs + 4095) & ~4095ull) - data) >> 12, self);
	snprintf(w[1], sizeof(w[1]), "mmap 700/700 %#llx +%llu fl=0x23 file=''",
	         bss, (end - bss) >> 12);
	snprintf(w[2], sizeof(w[2]), "fault 700/700 %#llx +0 fl=0x6", data);
	snprintf(w[3], sizeof(w[3]), "fault 700/700 %#llx +0 fl=0x6", bss);
	const char *want[] = {
		"exec 700/700",
		w[0], w[1],
		"fault 700/700",           /* padzero's */
		"observed 700/700",
		"file='/", /* the interpreter, at its entry fetch */
		w[2], "copy",
		w[3], "new",
		NULL,
	};
	in_order("exec image", g, want);
	absent("exec image", g, "fl=0x12");  /* no inferred area (0x1xx) */
	absent("exec image", g, "fl=0x11");
	free(g);
	/* and the replay: the data page is a copy of the file page, the .bss
	 * page fresh memory (inferred, both were anonymous: new) */
	g = outcomes(t);
	snprintf(w[0], sizeof(w[0]), "%#llx copy-file", data);
	snprintf(w[1], sizeof(w[1]), "%#llx new", bss);
	const char *want2[] = { w[0], w[1], NULL };
	in_order("exec image replay", g, want2);
	free(g);
}

/* The stack pages execve() wrote through GUP (no fault) are present from
 * the start: those above its first kernel fault on the new [stack]. */
static void exec_stack(void)
{
	static const char t[] =
	" launcher-799   (  799) [000] .....  60.000001: task_newtask: pid=800 comm=launcher clone_flags=1200000 oom_score_adj=0\n"
	" launcher-799   (  799) [000] .....  60.000002: sched_process_fork: comm=launcher pid=799 child_comm=launcher child_pid=800\n"
	" launcher-800   (  800) [001] .....  60.000003: sys_execve(filename: 0x7ffc, argv: 0x7ffd, envp: 0x7ffe)\n"
	" launcher-800   (  800) [001] .....  60.000004: exit_mmap: mt_mod 00000000abcdef12, DESTROY\n"
	" launcher-800   (  800) [001] .....  60.000005: task_rename: pid=800 oldcomm=launcher newcomm=prog oom_score_adj=0\n"
	"     prog-800   (  800) [001] d....  60.000006: page_fault_kernel: address=0x7ffc0001f739 ip=0xffffffff81bb6e18 error_code=0x2\n"
	"     prog-800   (  800) [001] .....  60.000008: sched_process_exec: filename=/nonexistent/prog pid=800 old_pid=800\n"
	"     prog-800   (  800) [001] .....  60.000009: sys_execve -> 0x0\n"
	" launcher-799   (  799) [000] ...1.  60.000011: tracing_mark_write: cowsim: maps pid=800 begin\n"
	" launcher-799   (  799) [000] ...1.  60.000014: tracing_mark_write: cowsim: maps pid=800 7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0   [stack]\n"
	" launcher-799   (  799) [000] ...1.  60.000016: tracing_mark_write: cowsim: maps pid=800 end\n"
	"     prog-800   (  800) [001] d....  60.000020: page_fault_kernel: address=0x7ffc0001e000 ip=0xffffffff81bb6e18 error_code=0x2\n"
	"     prog-800   (  800) [001] d....  60.000021: page_fault_user: address=0x7ffc0001d000 ip=0x1 error_code=0x6\n";
	char *g = render(t, NULL, 0, NULL);
	const char *want[] = {
		"exec 800/800",
		"mmap 800/800 0x7ffc00000000 +33 fl=0x263",
		"page_init 800/800 0x7ffc00020000 +1 fl=0x9",
		"fault 800/800 0x7ffc0001f739",
		"fault 800/800 0x7ffc0001e000",
		NULL,
	};
	in_order("exec stack", g, want);
	CHECK_EQ(count(g, "page_init"), 1);   /* the first kernel fault only */
	free(g);
}

int main(void)
{
	kernel_text();
	tracecmd_report();
	exec_snapshot();
	loss_cancels_label();
	perf_text();
	self_fork();
	shared_fill();
	exec_image();
	exec_stack();
	CHECK_DONE();
}
