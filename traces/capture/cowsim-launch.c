/*
 * cowsim-launch: start a command so that a kernel trace of it can be replayed.
 *
 * A trace says nothing about the mappings execve() builds (binary segments,
 * ld.so, [stack], [vdso]) because no syscall creates them, nor about the pages
 * of a process that was already running when tracing began.  This launcher
 * fills both gaps by writing cowsim markers (docs/trace-markers.md) into
 * trace_marker, so they land in the trace in time order with the events around
 * them:
 *
 *   - it forks; the child does PTRACE_TRACEME + execvp, so it stops right after
 *     execve() returns, before it has run a single user instruction;
 *   - the parent then writes "cowsim: meta" lines and the child's
 *     /proc/PID/maps as a "cowsim: maps" snapshot, and detaches;
 *   - with --follow-exec it keeps the whole tree traced (fork, vfork, clone,
 *     exec) and snapshots every process again at each exec.  Every fork of the
 *     tree then stops for a ptrace event, which inflates fork latency (tens of
 *     microseconds per fork on the capture VM); use it only when the exec-time
 *     layouts of children matter more than fork timings;
 *   - --pagemap PID snapshots an already running process: its maps, then
 *     "cowsim: pagemap" runs read from /proc/PID/pagemap while the process is
 *     held stopped with PTRACE_SEIZE/PTRACE_INTERRUPT.
 *
 * Every marker is one line written with one write(): the kernel turns each
 * write into one print event, so a line can never be split or interleaved.
 * Marker lines are capped at 1000 bytes (the doc's limit; the kernel truncates
 * trace_marker writes around 1 KiB).
 *
 * Exit status: the command's (128+N if killed by signal N); 125 for a launcher
 * error; 126/127 when the command cannot be executed / is not found.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_MARKER "/sys/kernel/tracing/trace_marker"
#define MARKER_MAX 1000 /* bytes per marker line, newline included */
#define EXIT_LAUNCHER 125

static const char *prog = "cowsim-launch";
static int marker_fd = -1;
static const char *marker_path = DEFAULT_MARKER;
static unsigned long markers_written, markers_failed, markers_truncated;
static volatile pid_t forward_pid; /* where SIGINT/SIGTERM/... are sent */

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_LAUNCHER);
}

static void warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Write one marker line with a single write().  A failure is reported once
 * (the usual cause is tracing_on=0, which makes the kernel answer EBADF) and
 * counted; the traced command is never stopped because of it.
 */
static void marker(const char *fmt, ...)
{
	char buf[MARKER_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n;
	if (len > MARKER_MAX - 1) {
		len = MARKER_MAX - 1;
		markers_truncated++;
		if (markers_truncated == 1)
			warn("marker longer than %d bytes truncated: %.60s...",
			     MARKER_MAX, buf);
	}
	buf[len++] = '\n';
	ssize_t w = write(marker_fd, buf, len);
	if (w == (ssize_t)len) {
		markers_written++;
		return;
	}
	markers_failed++;
	if (markers_failed == 1) {
		if (w < 0)
			warn("writing marker to %s: %s%s", marker_path,
			     strerror(errno),
			     errno == EBADF ? " (is tracing_on 0?)" : "");
		else
			warn("short marker write to %s (%zd of %zu bytes)",
			     marker_path, w, len);
	}
}

/* Read a whole /proc file into a NUL-terminated malloc'd buffer. */
static char *slurp(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static void write_meta(char **extra, int nextra)
{
	struct utsname u;
	if (uname(&u) == 0) {
		/* kernel= is the numeric version (doc example "6.18.44");
		 * kernel_release= is uname -r verbatim. */
		char ver[sizeof(u.release)];
		size_t i = 0;
		while (u.release[i] &&
		       (isdigit((unsigned char)u.release[i]) ||
			u.release[i] == '.'))
			i++;
		memcpy(ver, u.release, i);
		ver[i] = '\0';
		if (i > 0)
			marker("cowsim: meta kernel=%s", ver);
		marker("cowsim: meta kernel_release=%s", u.release);
		marker("cowsim: meta machine=%s", u.machine);
	}
	char *mi = slurp("/proc/meminfo", NULL);
	if (mi) {
		char *p = strstr(mi, "SwapTotal:");
		unsigned long long kb;
		if (p && sscanf(p, "SwapTotal: %llu", &kb) == 1)
			marker("cowsim: meta swap_total_kb=%llu", kb);
		free(mi);
	} else {
		warn("cannot read /proc/meminfo: %s", strerror(errno));
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > 0)
		marker("cowsim: meta ncpus=%ld", ncpu);
	long psz = sysconf(_SC_PAGESIZE);
	if (psz > 0)
		marker("cowsim: meta page_size=%ld", psz);
	for (int i = 0; i < nextra; i++)
		marker("cowsim: meta %s", extra[i]);
}

/* Snapshot /proc/PID/maps; returns the text (caller frees) or NULL. */
static char *write_maps(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	char *maps = slurp(path, NULL);
	if (!maps) {
		warn("cannot read %s: %s (no maps snapshot for pid %d)", path,
		     strerror(errno), (int)pid);
		return NULL;
	}
	marker("cowsim: maps pid=%d begin", (int)pid);
	for (char *line = maps; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 0)
			marker("cowsim: maps pid=%d %.*s", (int)pid, (int)len,
			       line);
		line += len + (nl ? 1 : 0);
	}
	marker("cowsim: maps pid=%d end", (int)pid);
	return maps;
}

/* ---- --pagemap ---------------------------------------------------------- */

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_EXCL (1ULL << 56)
#define PM_PFN_MASK ((1ULL << 55) - 1)

struct run {
	uint64_t va, n, pfn, flags;
	bool active;
};

static void flags_str(uint64_t e, char *s)
{
	char *p = s;
	if (e & PM_PRESENT)
		*p++ = 'P';
	if (e & PM_SWAP)
		*p++ = 'S';
	if (e & PM_FILE)
		*p++ = 'F';
	if (e & PM_EXCL)
		*p++ = 'X';
	if (p == s)
		*p++ = '-';
	*p = '\0';
}

static void run_flush(pid_t pid, struct run *r, unsigned long *nruns)
{
	if (!r->active)
		return;
	char fl[8];
	flags_str(r->flags, fl);
	if (r->pfn)
		marker("cowsim: pagemap pid=%d va=0x%" PRIx64 " n=%" PRIu64
		       " flags=%s pfn=0x%" PRIx64,
		       (int)pid, r->va, r->n, fl, r->pfn);
	else
		marker("cowsim: pagemap pid=%d va=0x%" PRIx64 " n=%" PRIu64
		       " flags=%s",
		       (int)pid, r->va, r->n, fl);
	r->active = false;
	(*nruns)++;
}

/* Mappings whose pages are kernel-provided and never copied at fork. */
static bool special_mapping(const char *name)
{
	return !strcmp(name, "[vvar]") || !strcmp(name, "[vvar_vclock]") ||
	       !strcmp(name, "[vdso]") || !strcmp(name, "[vsyscall]");
}

static void write_pagemap(pid_t pid, const char *maps)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		warn("cannot open %s: %s (no pagemap runs for pid %d)", path,
		     strerror(errno), (int)pid);
		return;
	}
	const uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE);
	enum { CHUNK = 4096 };
	static uint64_t ent[CHUNK];
	unsigned long nruns = 0, npages = 0;
	bool saw_pfn = false, saw_present = false;

	for (const char *line = maps; *line;) {
		const char *nl = strchr(line, '\n');
		uint64_t start, end;
		int name_off = 0;
		char perms[8];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %n",
			   &start, &end, perms, &name_off) < 3) {
			warn("unparsable maps line for pid %d: %.80s",
			     (int)pid, line);
			goto next;
		}
		char name[64] = "";
		if (name_off > 0) {
			size_t l = nl ? (size_t)(nl - line - name_off)
				      : strlen(line + name_off);
			if (l >= sizeof(name))
				l = sizeof(name) - 1;
			memcpy(name, line + name_off, l);
			name[l] = '\0';
		}
		if (special_mapping(name))
			goto next;

		struct run r = { .active = false };
		for (uint64_t va = start; va < end;) {
			uint64_t want = (end - va) / psz;
			if (want > CHUNK)
				want = CHUNK;
			ssize_t got = pread(fd, ent, want * sizeof(uint64_t),
					    (off_t)((va / psz) * sizeof(uint64_t)));
			if (got <= 0) {
				if (got < 0 && errno == EINTR)
					continue;
				warn("reading %s at 0x%" PRIx64 ": %s", path,
				     va, got < 0 ? strerror(errno) : "EOF");
				break;
			}
			uint64_t cnt = (uint64_t)got / sizeof(uint64_t);
			for (uint64_t i = 0; i < cnt; i++, va += psz) {
				uint64_t e = ent[i];
				uint64_t fl = e & (PM_PRESENT | PM_SWAP |
						   PM_FILE | PM_EXCL);
				if (!(fl & (PM_PRESENT | PM_SWAP))) {
					run_flush(pid, &r, &nruns);
					continue;
				}
				uint64_t pfn = (e & PM_PRESENT) ?
						       (e & PM_PFN_MASK) : 0;
				npages++;
				if (e & PM_PRESENT)
					saw_present = true;
				if (pfn)
					saw_pfn = true;
				if (r.active && r.flags == fl &&
				    r.va + r.n * psz == va &&
				    ((r.pfn == 0 && pfn == 0) ||
				     (r.pfn && pfn && r.pfn + r.n == pfn))) {
					r.n++;
					continue;
				}
				run_flush(pid, &r, &nruns);
				r = (struct run){ .va = va, .n = 1, .pfn = pfn,
						  .flags = fl, .active = true };
			}
		}
		run_flush(pid, &r, &nruns);
next:
		if (!nl)
			break;
		line = nl + 1;
	}
	close(fd);
	if (saw_present && !saw_pfn)
		warn("pid %d: pagemap shows no PFNs (needs CAP_SYS_ADMIN); "
		     "runs written without pfn=", (int)pid);
	fprintf(stderr, "%s: pid %d: %lu resident pages in %lu pagemap runs\n",
		prog, (int)pid, npages, nruns);
}

/*
 * Hold every thread of PID stopped while its pages are read, so the snapshot
 * is one instant of the process.  Returns the number of threads held; their
 * tids (and a signal to re-inject on detach) are stored in *tids / *sigs.
 */
struct held {
	pid_t tid;
	int sig;
};

static bool held_has(const struct held *h, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].tid == tid)
			return true;
	return false;
}

static size_t freeze(pid_t pid, struct held **out)
{
	struct held *h = NULL;
	size_t n = 0, cap = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	for (bool added = true; added;) {
		added = false;
		DIR *d = opendir(path);
		if (!d)
			break;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid_t tid = (pid_t)atoi(de->d_name);
			if (held_has(h, n, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				warn("cannot hold thread %d of pid %d (%s); "
				     "snapshot taken while it runs",
				     (int)tid, (int)pid, strerror(errno));
				continue;
			}
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			int st;
			int sig = 0;
			if (waitpid(tid, &st, __WALL) == tid &&
			    WIFSTOPPED(st) && (st >> 16) == 0 &&
			    WSTOPSIG(st) != SIGTRAP)
				sig = WSTOPSIG(st); /* signal-delivery stop */
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct held *nh = realloc(h, cap * sizeof(*h));
				if (!nh) {
					ptrace(PTRACE_DETACH, tid, 0,
					       (void *)(long)sig);
					break;
				}
				h = nh;
			}
			h[n++] = (struct held){ tid, sig };
			added = true;
		}
		closedir(d);
	}
	*out = h;
	return n;
}

static void thaw(struct held *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, h[i].tid, 0, (void *)(long)h[i].sig);
	free(h);
}

static int snapshot_running(pid_t pid)
{
	if (pid == getpid()) {
		warn("--pagemap %d is the launcher itself; skipped", (int)pid);
		return -1;
	}
	if (kill(pid, 0) < 0) {
		warn("--pagemap %d: %s", (int)pid, strerror(errno));
		return -1;
	}
	struct held *h = NULL;
	size_t n = freeze(pid, &h);
	char *maps = write_maps(pid);
	if (maps)
		write_pagemap(pid, maps);
	free(maps);
	thaw(h, n);
	return maps ? 0 : -1;
}

/* ---- launching ---------------------------------------------------------- */

static void forward_signal(int sig)
{
	pid_t p = forward_pid;
	if (p > 0)
		kill(p, sig);
}

static void install_forwarding(pid_t child)
{
	forward_pid = child;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_LAUNCHER;
}

/*
 * In the child, before exec: become USER (its uid, gid and groups) so that a
 * server that refuses to run as root (postgres) can be launched while the
 * launcher itself keeps root for trace_marker and ptrace.  Exits the child
 * with EXIT_LAUNCHER on error.
 */
static void become_user(const struct passwd *pw)
{
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "%s: cannot become user %s: %s\n", prog,
			pw->pw_name, strerror(errno));
		_exit(EXIT_LAUNCHER);
	}
}

/* user: NULL to keep the launcher's identity */
static pid_t spawn_traced(char **argv, const struct passwd *user)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (marker_fd >= 0)
			close(marker_fd);
		if (user)
			become_user(user);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			fprintf(stderr, "%s: PTRACE_TRACEME: %s\n", prog,
				strerror(errno));
			_exit(EXIT_LAUNCHER);
		}
		execvp(argv[0], argv);
		int e = errno;
		fprintf(stderr, "%s: cannot execute '%s': %s\n", prog, argv[0],
			strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	return pid;
}

/*
 * Wait for the child's post-exec stop.  Returns 0 when stopped at the exec
 * SIGTRAP, or the exit code when it ended first (exec failed).
 */
static int wait_exec_stop(pid_t child, bool *stopped)
{
	for (;;) {
		int st;
		pid_t w = waitpid(child, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid(%d): %s", (int)child, strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*stopped = false;
			return exit_code(st);
		}
		if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) {
			*stopped = true;
			return 0;
		}
		/* A signal arrived before exec completed: deliver it. */
		if (WIFSTOPPED(st))
			ptrace(PTRACE_CONT, child, 0,
			       (void *)(long)WSTOPSIG(st));
	}
}

static int run_simple(char **argv, const char *pidfile,
		      const struct passwd *user)
{
	pid_t child = spawn_traced(argv, user);
	install_forwarding(child);
	bool stopped;
	int rc = wait_exec_stop(child, &stopped);
	if (!stopped)
		return rc;
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f || fprintf(f, "%d\n", (int)child) < 0 || fclose(f))
			warn("cannot write pid file %s: %s", pidfile,
			     strerror(errno));
	}
	free(write_maps(child));
	if (ptrace(PTRACE_DETACH, child, 0, 0) < 0)
		warn("PTRACE_DETACH %d: %s", (int)child, strerror(errno));
	for (;;) {
		int st;
		pid_t w = waitpid(child, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid(%d): %s", (int)child, strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return exit_code(st);
	}
}

/* Set of tids already seen stopping, so a new tracee's initial SIGSTOP can
 * be told from a SIGSTOP someone sent it. */
struct pidset {
	pid_t *v;
	size_t n, cap;
};

static bool pidset_has(const struct pidset *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return true;
	return false;
}

static void pidset_add(struct pidset *s, pid_t p)
{
	if (pidset_has(s, p))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		pid_t *nv = realloc(s->v, s->cap * sizeof(pid_t));
		if (!nv)
			die("out of memory");
		s->v = nv;
	}
	s->v[s->n++] = p;
}

static void pidset_del(struct pidset *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

static int run_follow(char **argv, const char *pidfile,
		      const struct passwd *user)
{
	pid_t child = spawn_traced(argv, user);
	install_forwarding(child);
	bool stopped;
	int rc = wait_exec_stop(child, &stopped);
	if (!stopped)
		return rc;
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f || fprintf(f, "%d\n", (int)child) < 0 || fclose(f))
			warn("cannot write pid file %s: %s", pidfile,
			     strerror(errno));
	}
	long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
	if (ptrace(PTRACE_SETOPTIONS, child, 0, (void *)opts) < 0)
		die("PTRACE_SETOPTIONS: %s", strerror(errno));
	free(write_maps(child));
	unsigned long nexec = 1, nnew = 0;
	struct pidset seen = { 0 };
	pidset_add(&seen, child);
	ptrace(PTRACE_CONT, child, 0, 0);

	int child_rc = EXIT_LAUNCHER;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break; /* the whole tree is gone */
			die("waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (w == child)
				child_rc = exit_code(st);
			pidset_del(&seen, w);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st);
		int event = st >> 16;
		long inject = 0;
		if (!pidset_has(&seen, w)) {
			/* First stop of an auto-attached new task: its
			 * initial SIGSTOP is ptrace's, not a real signal. */
			pidset_add(&seen, w);
			nnew++;
			if (sig != SIGSTOP)
				inject = sig == SIGTRAP ? 0 : sig;
		} else if (event == PTRACE_EVENT_EXEC) {
			free(write_maps(w));
			nexec++;
		} else if (event == PTRACE_EVENT_FORK ||
			   event == PTRACE_EVENT_VFORK ||
			   event == PTRACE_EVENT_CLONE) {
			/* nothing: the new task reports its own first stop */
		} else if (event != 0) {
			/* other ptrace events: just resume */
		} else {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, w, 0, &si) < 0 &&
			    errno == EINVAL)
				inject = 0; /* group-stop: resume */
			else
				inject = sig;
		}
		if (ptrace(PTRACE_CONT, w, 0, (void *)inject) < 0 &&
		    errno != ESRCH)
			warn("PTRACE_CONT %d: %s", (int)w, strerror(errno));
	}
	free(seen.v);
	fprintf(stderr, "%s: --follow-exec: %lu exec snapshots, %lu new tasks "
			"followed\n",
		prog, nexec, nnew);
	return child_rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--marker PATH] [--follow-exec] [--pagemap PID]... "
		"[--meta KEY=VALUE]... [--pidfile PATH] [--user NAME] "
		"[-- CMD ARGS...]\n"
		"\n"
		"  --marker PATH   trace_marker to write cowsim markers to\n"
		"                  (default " DEFAULT_MARKER ";\n"
		"                  use instances/NAME/trace_marker for an "
		"instance)\n"
		"  --follow-exec   keep the whole process tree under ptrace and "
		"snapshot\n"
		"                  maps at every exec (inflates fork latency)\n"
		"  --pagemap PID   snapshot a running process: maps + pagemap "
		"runs\n"
		"                  (repeatable; PID,PID,... accepted); without "
		"CMD, exit after\n"
		"  --meta K=V      extra 'cowsim: meta K=V' line (repeatable), "
		"e.g. capture=NAME\n"
		"  --pidfile PATH  write the launched command's pid to PATH\n"
		"  --user NAME     run CMD as user NAME (uid, gid, groups); "
		"the launcher\n"
		"                  stays root for trace_marker and ptrace\n"
		"\n"
		"Markers: see docs/trace-markers.md. Exit status is the "
		"command's.\n",
		prog);
}

static bool valid_meta(const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return false;
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return strlen(s) < 900;
}

static pid_t parse_pid(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		die("invalid pid '%s'", s);
	return (pid_t)v;
}

int main(int argc, char **argv)
{
	bool follow = false;
	const char *pidfile = NULL;
	const struct passwd *user = NULL;
	pid_t *pm = NULL;
	int npm = 0;
	char **meta = calloc((size_t)argc, sizeof(char *));
	int nmeta = 0;
	if (!meta)
		die("out of memory");
	pm = calloc((size_t)argc * 64, sizeof(pid_t));
	if (!pm)
		die("out of memory");

	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--follow-exec")) {
			follow = true;
		} else if (!strcmp(a, "--marker") || !strcmp(a, "--pagemap") ||
			   !strcmp(a, "--meta") || !strcmp(a, "--pidfile") ||
			   !strcmp(a, "--user")) {
			if (i + 1 >= argc)
				die("%s needs an argument (see --help)", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--marker")) {
				marker_path = v;
			} else if (!strcmp(a, "--pidfile")) {
				pidfile = v;
			} else if (!strcmp(a, "--user")) {
				user = getpwnam(v);
				if (!user)
					die("--user: no user '%s'", v);
			} else if (!strcmp(a, "--meta")) {
				if (!valid_meta(v))
					die("--meta wants KEY=VALUE without "
					    "spaces, got '%s'", v);
				meta[nmeta++] = (char *)v;
			} else {
				char *copy = strdup(v);
				if (!copy)
					die("out of memory");
				for (char *tok = strtok(copy, ","); tok;
				     tok = strtok(NULL, ",")) {
					if (npm >= argc * 64)
						die("too many --pagemap pids");
					pm[npm++] = parse_pid(tok);
				}
				free(copy);
			}
		} else if (a[0] == '-') {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(stderr);
			return EXIT_LAUNCHER;
		} else {
			break; /* first non-option: the command */
		}
	}
	char **cmd = i < argc ? argv + i : NULL;
	if (!cmd && npm == 0) {
		fprintf(stderr, "%s: nothing to do: give a command after -- "
				"or --pagemap PID\n",
			prog);
		usage(stderr);
		return EXIT_LAUNCHER;
	}
	if (follow && !cmd)
		die("--follow-exec needs a command");

	marker_fd = open(marker_path, O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		die("cannot open marker file %s: %s%s", marker_path,
		    strerror(errno),
		    errno == EACCES || errno == EPERM ? " (run as root)" :
		    errno == ENOENT ? " (is tracefs mounted? does the "
				      "instance exist?)" :
				      "");

	write_meta(meta, nmeta);
	int rc = 0;
	for (int k = 0; k < npm; k++)
		if (snapshot_running(pm[k]) < 0)
			rc = EXIT_LAUNCHER;
	if (cmd)
		rc = follow ? run_follow(cmd, pidfile, user) :
			      run_simple(cmd, pidfile, user);

	if (markers_failed)
		warn("%lu of %lu marker writes to %s failed", markers_failed,
		     markers_failed + markers_written, marker_path);
	if (markers_truncated)
		warn("%lu marker lines were truncated to %d bytes",
		     markers_truncated, MARKER_MAX);
	close(marker_fd);
	free(pm);
	free(meta);
	return rc;
}
