/*
 * imp_sys.c - syscalls in the importer core: entries and exits paired per
 * tid, and a call applied at its exit, only if it succeeded.
 *
 * A trace may carry raw_syscalls:sys_enter/exit, the named syscalls:*
 * events, or both for one call: the first entry opens the call, a named
 * entry right behind a raw one fills in its arguments, and the first exit
 * applies it, so a call counts once whatever was traced.  Applying at the
 * exit is what keeps the shadow true: mmap's address is its return value,
 * and a failed call changed nothing.
 *
 * Besides the calls that change an address space: openat/open fill an fd
 * table (kept with the address space, imp_as.c) so that a later mmap names
 * its file by the open() it came from, and O_DIRECT reads and writes
 * become GUP pins for the call's duration.  vmsplice and io_uring buffer
 * registration are counted, not modelled: their tracepoints carry no iovec
 * addresses, and the importer does not guess.  Numbers are x86-64's.
 */
#include "imp_int.h"
#include "../lib/grow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINUX_MAP_SHARED   0x01ull
#define LINUX_MAP_SHARED_VALIDATE 0x03ull
#define LINUX_MAP_TYPE     0x0full
#define LINUX_MAP_GROWSDOWN 0x0100ull
#define LINUX_MAP_ANON     0x20ull
#define LINUX_MAP_NORESERVE 0x4000ull
#define LINUX_O_DIRECT     0x4000ull  /* x86-64: 040000 */
#define LINUX_PROT_READ    0x1ull
#define LINUX_PROT_WRITE   0x2ull
#define LINUX_PROT_EXEC    0x4ull
#define LINUX_MAX_ERRNO    4095       /* include/linux/err.h */
/* io_uring_register() opcodes that register buffers */
#define LINUX_IORING_REGISTER_BUFFERS        0
#define LINUX_IORING_REGISTER_BUFFERS2       15
#define LINUX_IORING_REGISTER_BUFFERS_UPDATE 16

/* ------------------------------------------------------------------ */
/* syscall names                                                      */

int imp_syscall_nr(const char *name, size_t len)
{
	static const struct { const char *n; int nr; } tab[] = {
		{ "read", NR_read }, { "write", NR_write }, { "open", NR_open },
		{ "mmap", NR_mmap }, { "mprotect", NR_mprotect },
		{ "munmap", NR_munmap }, { "brk", NR_brk },
		{ "pread64", NR_pread64 }, { "pwrite64", NR_pwrite64 },
		{ "mremap", NR_mremap }, { "madvise", NR_madvise },
		{ "clone", NR_clone }, { "fork", NR_fork }, { "vfork", NR_vfork },
		{ "execve", NR_execve }, { "exit_group", NR_exit_group },
		{ "openat", NR_openat }, { "vmsplice", NR_vmsplice },
		{ "execveat", NR_execveat },
		{ "io_uring_register", NR_io_uring_register },
		{ "clone3", NR_clone3 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].n) == len && !memcmp(tab[i].n, name, len))
			return tab[i].nr;
	return -1;
}

/* ------------------------------------------------------------------ */
/* the fd table                                                       */

static struct imp_fd *fd_find(struct imp_as *as, int32_t fd)
{
	for (uint32_t i = 0; as && i < as->nfds; i++)
		if (as->fds[i].fd == fd)
			return &as->fds[i];
	return NULL;
}

/* The fd table lives with the address space the task uses in the output
 * stage (threads and vfork children share it, fork copies it). */
static void fd_record(struct imp_core *c, struct imp_task *t, int32_t fd,
                      uint64_t seq, bool odirect)
{
	struct imp_as *as = t->sel ? imp_task_as(c, t) : NULL;
	if (!as)
		return;
	struct imp_fd *f = fd_find(as, fd);
	if (!f) {
		if (grow_array((void **)&as->fds, &as->capfds,
		               (size_t)as->nfds + 1, sizeof(*as->fds), 16, false)) {
			c->oom = 1;
			return;
		}
		f = &as->fds[as->nfds++];
		f->fd = fd;
	}
	f->seq = seq;
	f->tgid = t->tgid;
	f->odirect = odirect;
}

/* ------------------------------------------------------------------ */
/* entry and exit                                                     */

static uint32_t prot_of(uint64_t prot)
{
	return (prot & LINUX_PROT_READ ? EV_PROT_READ : 0) |
	       (prot & LINUX_PROT_WRITE ? EV_PROT_WRITE : 0) |
	       (prot & LINUX_PROT_EXEC ? EV_PROT_EXEC : 0);
}

void imp_sys_enter(struct imp_core *c, struct imp_task *t,
                   const struct imp_rec *r)
{
	int nr = r->nr;
	if (nr >= 0 && t->sc_nr == nr && t->sc_raw && !r->raw) {
		/* syscalls:sys_enter_X after raw_syscalls:sys_enter: the same
		 * call, named. */
		memcpy(t->sc_a, r->a, sizeof(t->sc_a));
		t->sc_raw = 0;
		return;
	}
	if (t->sc_gup) {
		/* The previous call's exit was lost: let its pin go. */
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP_PUT);
		ev.arg = t->sc_handle;
		imp_emit(c, t, &ev);
	}
	t->sc_nr = nr;
	t->sc_raw = r->raw;
	t->sc_gup = 0;
	t->sc_ts = r->ts;
	memcpy(t->sc_a, r->a, sizeof(t->sc_a));
	t->last_exit_nr = -1;
	switch (nr) {
	case NR_execve:
	case NR_execveat:
		t->in_execve = 1;
		break;
	case NR_vmsplice:
		if (t->sel)
			c->st.unresolved_vmsplice++;
		break;
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64: {
		if (!t->sel || !t->as || !t->as->nfds)
			break;
		struct imp_fd *f = fd_find(t->as, (int32_t)(uint32_t)r->a[0]);
		uint64_t buf = r->a[1], cnt = r->a[2];
		if (!f || !f->odirect || !cnt || buf >= EV_USER_TOP ||
		    cnt > EV_USER_TOP - buf)
			break;
		uint64_t s = buf & ~(EV_PAGE_SIZE - 1);
		uint64_t end = (buf + cnt + EV_PAGE_SIZE - 1) & ~(EV_PAGE_SIZE - 1);
		struct cs_ev ev;
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP);
		ev.addr = s;
		ev.len = pages_of(end - s);
		if (!range_ok(s, ev.len))
			break;
		ev.arg = t->sc_handle = ++c->next_handle;
		/* A read DMAs into the buffer: FOLL_WRITE. */
		ev.flags = EV_GUP_PIN | ((nr == NR_read || nr == NR_pread64) ?
		                         EV_GUP_WRITE : 0) |
		           (EV_GUP_SRC_ODIRECT << EV_GUP_SRC_SHIFT);
		t->sc_gup = 1;
		c->st.odirect_gups++;
		imp_emit(c, t, &ev);
		break;
	}
	default:
		break;
	}
}

void imp_sys_exit(struct imp_core *c, struct imp_task *t,
                  const struct imp_rec *r)
{
	int nr = r->nr;
	if (t->sc_nr < 0 || (nr >= 0 && t->sc_nr != nr)) {
		/* The second exit of one call (raw, then named), a clone child's
		 * first return, or an entry the trace lost. */
		if (nr >= 0 && nr != t->last_exit_nr && t->sc_nr != -1 &&
		    !((nr == NR_clone || nr == NR_clone3 || nr == NR_fork ||
		       nr == NR_vfork) && r->a[0] == 0)) {
			c->st.syscall_mismatch++;
			imp_core_warn(c, WARN_SYSCALL, "syscall %d exit of task %u "
			              "does not match its entry (%d): not applied",
			              nr, t->tid, t->sc_nr);
			t->sc_nr = -1;
		}
		return;
	}
	nr = t->sc_nr;
	t->sc_nr = -1;
	t->last_exit_nr = nr;
	long long ret = (long long)r->a[0];
	const uint64_t *a = t->sc_a;
	bool fail = ret < 0 && ret >= -LINUX_MAX_ERRNO;
	struct cs_ev ev;

	if (t->sc_gup) {
		mk_ev(&ev, t, r->ts, r->cpu, EV_GUP_PUT);
		ev.arg = t->sc_handle;
		t->sc_gup = 0;
		imp_emit(c, t, &ev);
	}
	if (nr == NR_execve || nr == NR_execveat)
		t->in_execve = 0;
	if (fail) {
		switch (nr) {
		case NR_mmap: case NR_munmap: case NR_mprotect: case NR_mremap:
		case NR_brk: case NR_madvise: case NR_clone: case NR_clone3:
		case NR_fork: case NR_vfork: case NR_openat: case NR_open:
			if (t->sel)
				c->st.syscalls_failed++;
			break;
		default:
			break;
		}
		return;
	}
	switch (nr) {
	case NR_mmap: {
		uint32_t fl = prot_of(a[2]);
		uint64_t mf = a[3];
		int32_t fd = (int32_t)(uint32_t)a[4];
		mk_ev(&ev, t, r->ts, r->cpu, EV_MMAP);
		ev.addr = (uint64_t)ret;
		ev.len = pages_of(a[1]);
		if (!range_ok(ev.addr, ev.len))
			return;
		if ((mf & LINUX_MAP_TYPE) == LINUX_MAP_SHARED ||
		    (mf & LINUX_MAP_TYPE) == LINUX_MAP_SHARED_VALIDATE)
			fl |= EV_MAP_SHARED;
		if (mf & LINUX_MAP_GROWSDOWN)
			fl |= EV_MAP_STACK;
		if (mf & LINUX_MAP_NORESERVE)
			fl |= EV_MAP_NORESERVE;
		if ((mf & LINUX_MAP_ANON) || fd < 0) {
			fl |= EV_MAP_ANON;
			ev.aux = ev.addr >> EV_PAGE_SHIFT;
		} else {
			struct imp_fd *f = fd_find(t->as, fd);
			char id[48];
			int n = f ? snprintf(id, sizeof(id), "open%" PRIu64 "@%u", f->seq,
			                     f->tgid)
			          : snprintf(id, sizeof(id), "fd%d@%u", fd, t->tgid);
			ev.arg = imp_intern(c, id, (size_t)n);
			ev.aux = a[5] >> EV_PAGE_SHIFT;
		}
		ev.flags = fl;
		break;
	}
	case NR_munmap:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MUNMAP);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_mprotect:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MPROTECT);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.flags = prot_of(a[2]);
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_mremap:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MREMAP);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.aux = (uint64_t)ret;
		ev.arg = pages_of(a[2]);
		if (!range_ok(ev.addr, ev.len) || !range_ok(ev.aux, ev.arg))
			return;
		break;
	case NR_brk:
		mk_ev(&ev, t, r->ts, r->cpu, EV_BRK);
		ev.addr = (uint64_t)ret;
		if (ev.addr >= EV_USER_TOP)
			return;
		ev.aux = t->as ? t->as->brk << EV_PAGE_SHIFT : 0;
		break;
	case NR_madvise:
		mk_ev(&ev, t, r->ts, r->cpu, EV_MADVISE);
		ev.addr = a[0];
		ev.len = pages_of(a[1]);
		ev.flags = (uint32_t)a[2];
		if (!range_ok(ev.addr, ev.len))
			return;
		break;
	case NR_clone: case NR_clone3: case NR_fork: case NR_vfork:
		if (ret <= 0 || ret > INT32_MAX)
			return;
		mk_ev(&ev, t, r->ts, r->cpu, EV_FORK_DONE);
		ev.arg = (uint32_t)ret;
		ev.aux = r->ts >= t->sc_ts ? r->ts - t->sc_ts : 0;
		break;
	case NR_openat: case NR_open: {
		if (!t->sel || ret > INT32_MAX)
			return;
		uint64_t oflags = nr == NR_openat ? a[2] : a[1];
		fd_record(c, t, (int32_t)ret, ++c->open_seq,
		          (oflags & LINUX_O_DIRECT) != 0);
		c->st.syscalls++;
		return;
	}
	case NR_io_uring_register:
		/* IORING_REGISTER_BUFFERS, _BUFFERS2, _BUFFERS_UPDATE: the
		 * iovecs are in user memory the trace does not show. */
		if (t->sel && (a[1] == LINUX_IORING_REGISTER_BUFFERS ||
		               a[1] == LINUX_IORING_REGISTER_BUFFERS2 ||
		               a[1] == LINUX_IORING_REGISTER_BUFFERS_UPDATE))
			c->st.unresolved_io_uring++;
		return;
	default:
		return;
	}
	if (t->sel)
		c->st.syscalls++;
	imp_emit(c, t, &ev);
}
