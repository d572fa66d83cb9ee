/*
 * imp_dat.c - trace.dat files, read with libtracecmd + libtraceevent
 * (reference/tracing.md section 1).
 *
 * Shaped for the 80%-of-libtracecmd bar: the file's events are resolved
 * once, at open, into a table indexed by event id that holds each event's
 * kind and its fields (struct tep_format_field), so that a record costs a
 * table lookup and a few fixed-offset loads - no name lookups, no
 * tep_get_field_val(), no printing.  Records come in timestamp order from
 * tracecmd_read_next_data() (pull mode: the event source hands out blocks,
 * so the iterate-with-callback API would need a thread); the instance
 * buffers of `trace-cmd record -B` each get their own handle and are
 * merged by timestamp here.  A record whose missed_events is non-zero is
 * preceded by a loss record.
 *
 * gfp_flags are decoded with the event's own __print_flags table, read
 * from the parsed print format: the masks of GFP_HIGHUSER_MOVABLE,
 * __GFP_ZERO and __GFP_WRITE are whatever this kernel says they are.
 *
 * libtracecmd runs in a child process.  The child opens the file, probes
 * its head (meta markers, the first maps snapshot, whether allocations are
 * traced), rewinds, and fills a ring of record batches in memory shared
 * with the parent (the few strings copied into each batch's arena); a
 * byte through a socket pair hands over each full batch and each free one.  Two
 * things come of it.  Decoding (zstd, kbuffer, merging) overlaps the
 * import on the second CPU.  And a corrupt trace.dat can crash libtracecmd
 * - fuzzing found tracecmd_open_fd() calling tracecmd_close() on a
 * half-built handle - without crashing cowsim: the parent sees the socket
 * close and reports the file and record instead.
 *
 * Progress: the reader reads each CPU's data front to back, so what is
 * done is the sum over CPUs of how far into its data the last record read
 * lies (record offsets, which for a compressed trace.dat are in the
 * uncompressed space the CPU sizes are also given in), over the sum of the
 * sizes; it is shown as that share of the file's bytes.
 *
 * libtracecmd's tracecmd_read_next_data(), tracecmd_cpus(),
 * tracecmd_page_size() and tracecmd_get_cpu_file_size() are exported but
 * not declared in the public header (trace-cmd 3.1.6); they are declared
 * below.  The file is
 * read once, front to back: tracecmd_set_all_cpus_to_timestamp(), the
 * private rewind, loses instance buffers' records.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "imp_fe.h"
#include "../lib/grow.h"

extern struct tep_record *tracecmd_read_next_data(struct tracecmd_input *h,
                                                  int *rec_cpu);
extern int tracecmd_cpus(struct tracecmd_input *h);
extern int tracecmd_page_size(struct tracecmd_input *h);
extern unsigned long long tracecmd_get_cpu_file_size(struct tracecmd_input *h,
                                                     int cpu);

#define MAX_FIELDS 7
#define NBATCH 4
#define META_MAX (16u << 10)
/* A __data_loc / __rel_loc field: the string's offset in the low half,
 * its length in the high half (include/trace/trace_events.h). */
#define DATA_LOC_OFF_MASK  0xffffu
#define DATA_LOC_LEN_SHIFT 16

/* Memory shared by the parent and the reader process. */
struct shared {
	int32_t status;            /* 1 probed, -1 failed (err) */
	int32_t has_alloc;
	struct imp_probe pr;
	char err[512];
	uint32_t metalen;
	char meta[META_MAX];       /* "key\0value\0" pairs */
	struct imp_batch ring[NBATCH];
};

enum { RAW_NONE, RAW_ENTER, RAW_EXIT };

struct evinfo {
	uint8_t kind;          /* enum imp_kind; IK_NONE: not resolved */
	uint8_t raw;           /* raw_syscalls */
	int16_t nr;            /* syscall number */
	const char *name;
	struct tep_format_field *f[MAX_FIELDS];
	uint8_t nf;
};

struct buf_h {
	struct tracecmd_input *h;
	struct tep_handle *tep;
	struct evinfo *ev;     /* by event id */
	int nev;
	struct tep_record *peek;
	int ncpu;
	uint64_t *at;          /* per CPU: offset of the last record read */
	uint64_t page;
};

struct dat_fe {
	struct imp_fe fe;
	char path[256];
	struct tracecmd_input *top;
	struct buf_h *b;
	int nb;
	uint64_t first_ts;
	struct tep_record *cur;     /* the record handed out last (freed next) */
	struct tep_record *stash;   /* a record held behind its loss record */
	int stash_b;
	uint64_t gfp_usermov, gfp_zero, gfp_write;
	bool gfp_ok;
	struct tep_format_field *f_type, *f_flags, *f_pid;
	bool swap;                  /* file endianness differs from ours */
	uint64_t data_total;        /* CPU data, all buffers (progress) */
	uint64_t data_done;
	/* the reader process */
	struct shared *sh;
	pid_t child;
	int c2p, p2c;               /* parent's ends of the two socket pairs */
	int cons;
	struct imp_batch *cb;       /* the batch being consumed */
	uint64_t cb_start;          /* file bytes before it (progress) */
	uint32_t ci;
};

static inline uint64_t rd(const struct dat_fe *d, const struct tep_format_field *f,
                          const void *data, int dsize)
{
	uint64_t v = 0;
	if (!f || f->offset < 0 || f->offset + f->size > dsize)
		return 0;
	if (d->swap) {
		unsigned long long x = 0;
		tep_read_number_field((struct tep_format_field *)f, data, &x);
		return x;
	}
	const unsigned char *p = (const unsigned char *)data + f->offset;
	switch (f->size) {
	case 1: v = p[0]; break;
	case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
	case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
	case 8: memcpy(&v, p, 8); break;
	default: break;
	}
	return v;
}

/* A string field: __data_loc / __rel_loc, a fixed char[], or a trailing
 * char[] (print's buf). */
static const char *rdstr(const struct dat_fe *d, const struct tep_format_field *f,
                         const struct tep_record *r, size_t *len)
{
	const char *data = r->data;
	int off, n;
	*len = 0;
	if (!f)
		return "";
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		uint32_t v = (uint32_t)rd(d, f, data, r->size);
		off = (int)(v & DATA_LOC_OFF_MASK);
		n = (int)(v >> DATA_LOC_LEN_SHIFT);
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += f->offset + f->size;
	} else {
		off = f->offset;
		n = f->size ? f->size : r->size - f->offset;
	}
	if (off < 0 || n < 0 || off > r->size || n > r->size - off)
		return "";
	const char *s = data + off;
	*len = strnlen(s, (size_t)n);
	return s;
}

/* ---- gfp decoding from the print format ---- */

static struct tep_print_arg *find_flags(struct tep_print_arg *a,
                                        const char *field)
{
	for (; a; a = a->next) {
		switch (a->type) {
		case TEP_PRINT_FLAGS:
			if (a->flags.field && a->flags.field->type == TEP_PRINT_FIELD &&
			    a->flags.field->field.name &&
			    !strcmp(a->flags.field->field.name, field))
				return a;
			break;
		case TEP_PRINT_OP: {
			struct tep_print_arg *x = find_flags(a->op.left, field);
			if (!x)
				x = find_flags(a->op.right, field);
			if (x)
				return x;
			break;
		}
		case TEP_PRINT_TYPE: {
			struct tep_print_arg *x = find_flags(a->typecast.item, field);
			if (x)
				return x;
			break;
		}
		default:
			break;
		}
	}
	return NULL;
}

static void gfp_table(struct dat_fe *d, struct tep_event *ev)
{
	struct tep_print_arg *fl = find_flags(ev->print_fmt.args, "gfp_flags");
	bool um = false, zero = false;
	if (!fl)
		return;
	for (struct tep_print_flag_sym *s = fl->flags.flags; s; s = s->next) {
		if (!s->value || !s->str)
			continue;
		uint64_t v = strtoull(s->value, NULL, 0);
		if (!strcmp(s->str, "GFP_HIGHUSER_MOVABLE"))
			d->gfp_usermov = v, um = true;
		else if (!strcmp(s->str, "__GFP_ZERO"))
			d->gfp_zero = v, zero = true;
		else if (!strcmp(s->str, "__GFP_WRITE"))
			d->gfp_write = v;
	}
	d->gfp_ok = um && zero && d->gfp_usermov;
}

/* ---- event table ---- */

static int resolve(struct dat_fe *d, struct buf_h *b)
{
	struct tep_event **all = tep_list_events(b->tep, TEP_EVENT_SORT_ID);
	int n = tep_get_events_count(b->tep), maxid = 0;
	if (!all)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (all[i]->id > maxid)
			maxid = all[i]->id;
	b->nev = maxid + 1;
	b->ev = calloc((size_t)b->nev, sizeof(*b->ev));
	if (!b->ev)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct tep_event *e = all[i];
		struct evinfo *x = &b->ev[e->id];
		const char *nm = e->name;
		x->name = nm;
		x->kind = IK_UNKNOWN;
		x->nr = -1;
		if (!d->f_type) {
			d->f_type = tep_find_common_field(e, "common_type");
			d->f_flags = tep_find_common_field(e, "common_flags");
			d->f_pid = tep_find_common_field(e, "common_pid");
		}
#define F(i, name) (x->f[i] = tep_find_field(e, name))
		if (!strcmp(nm, "page_fault_user") || !strcmp(nm, "page_fault_kernel")) {
			x->kind = nm[11] == 'u' ? IK_PF_USER : IK_PF_KERNEL;
			F(0, "address"); F(1, "ip"); F(2, "error_code");
		} else if (!strcmp(nm, "sched_process_fork")) {
			x->kind = IK_FORK;
			F(0, "parent_pid"); F(1, "child_pid"); F(2, "child_comm");
		} else if (!strcmp(nm, "sched_process_exec")) {
			x->kind = IK_EXEC;
			F(0, "pid"); F(1, "old_pid"); F(2, "filename");
		} else if (!strcmp(nm, "sched_process_exit")) {
			x->kind = IK_EXIT;
			F(0, "pid"); F(1, "group_dead");
		} else if (!strcmp(nm, "sched_process_free")) {
			x->kind = IK_FREE;
			F(0, "pid");
		} else if (!strcmp(nm, "task_newtask")) {
			x->kind = IK_NEWTASK;
			F(0, "pid"); F(1, "clone_flags"); F(2, "comm");
		} else if (!strcmp(nm, "task_rename")) {
			x->kind = IK_RENAME;
			F(0, "pid"); F(2, "newcomm");
		} else if (!strcmp(nm, "exit_mmap")) {
			x->kind = IK_EXIT_MMAP;
		} else if (!strcmp(nm, "mm_page_alloc")) {
			x->kind = IK_PAGE_ALLOC;
			F(0, "pfn"); F(1, "order"); F(2, "gfp_flags"); F(3, "migratetype");
			gfp_table(d, e);
		} else if (!strcmp(nm, "print") && !strcmp(e->system, "ftrace")) {
			x->kind = IK_PRINT;
			F(2, "buf");
		} else if (!strcmp(e->system, "raw_syscalls") &&
		           (!strcmp(nm, "sys_enter") || !strcmp(nm, "sys_exit"))) {
			x->raw = 1;
			x->kind = nm[4] == 'e' && nm[5] == 'n' ? IK_SYS_ENTER : IK_SYS_EXIT;
			F(0, "id");
			F(1, x->kind == IK_SYS_ENTER ? "args" : "ret");
		} else if (!strcmp(e->system, "syscalls") &&
		           (!strncmp(nm, "sys_enter_", 10) ||
		            !strncmp(nm, "sys_exit_", 9))) {
			bool enter = nm[4] == 'e' && nm[5] == 'n';
			const char *sc = nm + (enter ? 10 : 9);
			x->kind = enter ? IK_SYS_ENTER : IK_SYS_EXIT;
			x->nr = (int16_t)imp_syscall_nr(sc, strlen(sc));
			if (enter) {
				/* The arguments follow __syscall_nr in order. */
				int k = 0;
				for (struct tep_format_field *f = e->format.fields; f;
				     f = f->next)
					if (strcmp(f->name, "__syscall_nr") && k < 6)
						x->f[k++] = f;
				x->nf = (uint8_t)k;
			} else {
				F(0, "ret");
			}
		}
#undef F
	}
	/* the array belongs to tep (tep_list_events() caches it) */
	return 0;
}

/* ---- reading ---- */

static struct tep_record *next_rec(struct dat_fe *d, int *bi)
{
	int cpu;
	if (d->nb == 1) {
		*bi = 0;
		return tracecmd_read_next_data(d->b[0].h, &cpu);
	}
	int best = -1;
	for (int i = 0; i < d->nb; i++) {
		if (!d->b[i].peek)
			d->b[i].peek = tracecmd_read_next_data(d->b[i].h, &cpu);
		if (d->b[i].peek && (best < 0 || d->b[i].peek->ts < d->b[best].peek->ts))
			best = i;
	}
	if (best < 0)
		return NULL;
	struct tep_record *r = d->b[best].peek;
	d->b[best].peek = NULL;
	*bi = best;
	return r;
}

/* Account rec's place in its CPU's data (see the top of the file).  A
 * CPU's data starts on the page of its first record: asking libtracecmd
 * (tracecmd_read_cpu_first()) would rewind, which loses the missed-events
 * counts of instance buffers. */
static void track(struct dat_fe *d, struct buf_h *b, const struct tep_record *rec)
{
	if (rec->cpu < 0 || rec->cpu >= b->ncpu)
		return;
	uint64_t *at = &b->at[rec->cpu];
	if (*at == UINT64_MAX)
		*at = b->page ? rec->offset / b->page * b->page : rec->offset;
	if (rec->offset < *at)
		return;
	d->data_done += rec->offset - *at;
	*at = rec->offset;
}

/* The progress so far as bytes of the file (once a batch, not a record:
 * a division costs what a record's decoding does). */
static uint64_t bytes_done(const struct dat_fe *d)
{
	if (!d->data_total)
		return 0;
	return (uint64_t)((double)d->data_done / (double)d->data_total *
	                  (double)d->fe.bytes_total);
}

/* How long each CPU's data is.  Returns 0 or -ENOMEM. */
static int cpu_extents(struct dat_fe *d, struct buf_h *b)
{
	int n = tracecmd_cpus(b->h);
	if (n <= 0)
		return 0;
	if (!(b->at = malloc((size_t)n * sizeof(*b->at))))
		return -ENOMEM;
	b->ncpu = n;
	b->page = (uint64_t)tracecmd_page_size(b->h);
	for (int c = 0; c < n; c++) {
		b->at[c] = UINT64_MAX;
		d->data_total += tracecmd_get_cpu_file_size(b->h, c);
	}
	return 0;
}

static void decode(const struct dat_fe *d, const struct buf_h *b,
                   const struct tep_record *rec, struct imp_rec *r);

/* The loss record that goes before rec: `missed` events lost on its CPU. */
static void loss_rec(const struct tep_record *rec, uint64_t missed,
                     struct imp_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = IK_DROPPED;
	r->tid = -1;
	r->irq = -1;
	r->ts = rec->ts;
	r->cpu = (uint16_t)rec->cpu;
	r->a[0] = (uint64_t)rec->cpu;
	r->a[1] = missed;
}

static int dat_read_sync(struct dat_fe *d, struct imp_rec *r)
{
	struct imp_fe *fe = &d->fe;
	struct tep_record *rec;
	int bi;

	if (d->cur) {
		tracecmd_free_record(d->cur);
		d->cur = NULL;
	}
	if (d->stash) {
		rec = d->stash;
		bi = d->stash_b;
		d->stash = NULL;
	} else {
		rec = next_rec(d, &bi);
		if (!rec)
			return 0;
		fe->where++;
		track(d, &d->b[bi], rec);
		if (rec->missed_events) {
			loss_rec(rec, rec->missed_events > 0 ?
			         (uint64_t)rec->missed_events : 0, r);
			d->stash = rec;
			d->stash_b = bi;
			return 1;
		}
	}
	d->cur = rec;
	decode(d, &d->b[bi], rec, r);
	return 1;
}

/* One record into r, with the event table of its buffer b.  Everything in
 * rec is the file's, so hostile: every field read is bounds-checked
 * (rd(), rdstr()).  This is what the records fuzz target reaches. */
static void decode(const struct dat_fe *d, const struct buf_h *b,
                   const struct tep_record *rec, struct imp_rec *r)
{
	const void *data = rec->data;
	int ds = rec->size;
	int id = (int)rd(d, d->f_type, data, ds);

	memset(r, 0, sizeof(*r));
	r->ts = rec->ts;
	r->cpu = (uint16_t)rec->cpu;
	r->tid = (int32_t)rd(d, d->f_pid, data, ds);
	r->irq = d->f_flags ? (int16_t)rd(d, d->f_flags, data, ds) : -1;
	if (id < 0 || id >= b->nev || !b->ev[id].kind) {
		r->kind = IK_UNKNOWN;
		r->s = "(unknown event id)";
		r->slen = strlen(r->s);
		return;
	}
	const struct evinfo *x = &b->ev[id];
	r->kind = x->kind;
	switch (x->kind) {
	case IK_SYS_ENTER:
		r->raw = x->raw;
		if (x->raw) {
			r->nr = (int32_t)(int64_t)rd(d, x->f[0], data, ds);
			const struct tep_format_field *f = x->f[1];
			if (f && f->offset >= 0 && f->offset + (int)sizeof(r->a) <= ds &&
			    !d->swap)
				memcpy(r->a, (const char *)data + f->offset, sizeof(r->a));
		} else {
			r->nr = x->nr;
			for (int i = 0; i < x->nf; i++)
				r->a[i] = rd(d, x->f[i], data, ds);
		}
		if (r->nr > IMP_NR_MAX || r->nr < 0)
			r->nr = -1;
		break;
	case IK_SYS_EXIT:
		r->raw = x->raw;
		if (x->raw) {
			r->nr = (int32_t)(int64_t)rd(d, x->f[0], data, ds);
			r->a[0] = rd(d, x->f[1], data, ds);
		} else {
			r->nr = x->nr;
			r->a[0] = rd(d, x->f[0], data, ds);
		}
		if (r->nr > IMP_NR_MAX || r->nr < 0)
			r->nr = -1;
		break;
	case IK_PAGE_ALLOC: {
		r->a[0] = rd(d, x->f[0], data, ds);
		r->a[1] = rd(d, x->f[1], data, ds);
		uint64_t g = rd(d, x->f[2], data, ds);
		if (!d->gfp_ok) {
			r->a[2] = IMP_GFP_UNKNOWN;
		} else {
			r->a[2] = ((g & d->gfp_usermov) == d->gfp_usermov ? IMP_GFP_USERMOV : 0) |
			          (g & d->gfp_zero ? IMP_GFP_ZERO : 0) |
			          (d->gfp_write && (g & d->gfp_write) ? IMP_GFP_WRITE : 0);
		}
		r->a[3] = x->f[3] ? rd(d, x->f[3], data, ds) : UINT64_MAX;
		break;
	}
	case IK_EXIT:
		r->a[0] = rd(d, x->f[0], data, ds);
		r->a[1] = x->f[1] ? (rd(d, x->f[1], data, ds) ? 1 : 0) :
		                    IMP_GROUP_DEAD_UNKNOWN;
		break;
	case IK_UNKNOWN:
		r->s = x->name;
		r->slen = strlen(x->name);
		break;
	default:
		for (int i = 0; i < 2; i++)
			r->a[i] = rd(d, x->f[i], data, ds);
		if (x->f[2])
			r->s = rdstr(d, x->f[2], rec, &r->slen);
		if (x->kind == IK_PF_USER || x->kind == IK_PF_KERNEL)
			r->a[2] = rd(d, x->f[2], data, ds), r->s = NULL, r->slen = 0;
		if (x->kind == IK_FORK && (int64_t)(int32_t)r->a[0] < 0)
			r->a[0] = 0;
		break;
	}
}

/* Open the file and resolve its events (in the reader process). */
static int setup(struct dat_fe *d, const char *path, char *err, size_t errlen)
{
	tracecmd_set_loglevel(TEP_LOG_NONE);
	d->top = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!d->top) {
		snprintf(err, errlen, "%s: not a readable trace.dat (libtracecmd "
		         "could not open it: truncated or corrupt?)", path);
		return -EINVAL;
	}
	struct tep_handle *tep = tracecmd_get_tep(d->top);
	d->swap = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep);
	int ni = tracecmd_buffer_instances(d->top);
	if (ni < 0)
		ni = 0;
	d->b = calloc((size_t)ni + 1, sizeof(*d->b));
	if (!d->b) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	d->b[0].h = d->top;
	d->nb = 1;
	for (int i = 0; i < ni; i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(d->top, i);
		if (h)
			d->b[d->nb++].h = h;
	}
	for (int i = 0; i < d->nb; i++) {
		d->b[i].tep = tracecmd_get_tep(d->b[i].h);
		if (!d->b[i].tep || resolve(d, &d->b[i]) || cpu_extents(d, &d->b[i])) {
			snprintf(err, errlen, "%s: cannot read its event formats", path);
			return -EINVAL;
		}
	}
	if (!d->f_type || !d->f_pid) {
		snprintf(err, errlen, "%s: no event formats in the file", path);
		return -EINVAL;
	}
	bool alloc = tep_find_event_by_name(tep, "kmem", "mm_page_alloc") != NULL;
	d->fe.has_alloc = alloc && d->gfp_ok ? -1 : 0;
	return 0;
}

/* The channels are socket pairs, not pipes, so that a write to a reader
 * that has already exited fails with EPIPE instead of raising SIGPIPE. */
static void put_byte(int fd, char c)
{
	while (send(fd, &c, 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static int get_byte(int fd, char *c)
{
	ssize_t k;
	while ((k = recv(fd, c, 1, 0)) < 0 && errno == EINTR)
		;
	return k == 1 ? 0 : -1;
}

/* The reader process: open, probe, rewind, then fill batches until the
 * end of the file.  Never returns. */
/* Read one record into batch b.  Returns 1, or 0 at the end of the file
 * (b->end set). */
static int fill_one(struct dat_fe *d, struct imp_batch *b)
{
	struct imp_rec r;
	if (dat_read_sync(d, &r) <= 0) {
		b->end = 1;
		return 0;
	}
	imp_batch_put(b, &r, d->fe.where);
	return 1;
}

/* Copy a batch kept by the probe into a ring slot, moving its strings. */
static void batch_move(struct imp_batch *dst, const struct imp_batch *src)
{
	dst->n = src->n;
	dst->used = src->used;
	dst->end = src->end;
	dst->bytes_done = src->bytes_done;
	memcpy(dst->arena, src->arena, src->used);
	memcpy(dst->where, src->where, src->n * sizeof(src->where[0]));
	for (uint32_t i = 0; i < src->n; i++) {
		struct imp_rec r = src->r[i];
		if (r.slen)
			r.s = dst->arena + (r.s - src->arena);
		if (r.s2len)
			r.s2 = dst->arena + (r.s2 - src->arena);
		dst->r[i] = r;
	}
}

static void reader_fail(struct shared *sh, int c2p, const char *path,
                        const char *what)
{
	snprintf(sh->err, sizeof(sh->err), "%s: %s", path, what);
	sh->status = -1;
	put_byte(c2p, 'E');
	_exit(0);
}

/*
 * The reader process: open, probe, then fill batches until the end of the
 * file.  Never returns.  The records the probe reads are kept (at most
 * IMP_PROBE_MAX, a few thousand in practice) and sent first: rewinding
 * with tracecmd_set_all_cpus_to_timestamp() loses the records of
 * instance buffers (`trace-cmd record -B`), so the file is read once.
 */
static void reader(struct dat_fe *d, const char *path, int c2p, int p2c)
{
	struct shared *sh = d->sh;
	struct ev_source meta;
	struct imp_batch **kept = NULL;
	size_t nkept = 0, capkept = 0;
	int eof = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setup(d, path, sh->err, sizeof(sh->err))) {
		sh->status = -1;
		put_byte(c2p, 'E');
		_exit(0);
	}
	if (evsrc_init(&meta, NULL, path, "dat"))
		reader_fail(sh, c2p, path, "out of memory");
	for (uint64_t n = 0; n < IMP_PROBE_MAX && !eof; n++) {
		if (!nkept || !imp_batch_room(kept[nkept - 1])) {
			if (grow_array((void **)&kept, &capkept, nkept + 1,
			               sizeof(*kept), 8, false))
				reader_fail(sh, c2p, path, "out of memory");
			struct imp_batch *b = malloc(sizeof(*b));
			if (!b)
				reader_fail(sh, c2p, path, "out of memory");
			b->n = b->used = 0;
			b->end = 0;
			kept[nkept++] = b;
		}
		struct imp_batch *b = kept[nkept - 1];
		if (!fill_one(d, b)) {
			eof = 1;
			break;
		}
		b->bytes_done = bytes_done(d);
		if (imp_probe_step(&meta, &b->r[b->n - 1], &sh->pr, d->fe.has_alloc, 1))
			break;
	}
	for (size_t i = 0; i < meta.nmeta; i++) {
		size_t kl = strlen(meta.meta[i].key) + 1, vl = strlen(meta.meta[i].val) + 1;
		if (sh->metalen + kl + vl > META_MAX)
			break;
		memcpy(sh->meta + sh->metalen, meta.meta[i].key, kl);
		memcpy(sh->meta + sh->metalen + kl, meta.meta[i].val, vl);
		sh->metalen += (uint32_t)(kl + vl);
	}
	evsrc_fini(&meta);
	sh->has_alloc = d->fe.has_alloc;
	sh->status = 1;
	put_byte(c2p, 'P');

	int prod = 0, tokens = NBATCH;
	for (size_t k = 0;; k++) {
		char c;
		if (!tokens) {
			if (get_byte(p2c, &c))
				_exit(0);   /* the parent is gone */
			tokens++;
		}
		struct imp_batch *b = &sh->ring[prod];
		if (k < nkept) {
			batch_move(b, kept[k]);
			free(kept[k]);
			/* the last kept batch may have room: top it up */
			if (k + 1 < nkept || b->end)
				goto send;
		} else {
			b->n = b->used = 0;
			b->end = 0;
		}
		while (imp_batch_room(b) && fill_one(d, b))
			;
		b->bytes_done = bytes_done(d);
send:
		tokens--;
		prod = (prod + 1) % NBATCH;
		put_byte(c2p, 'B');
		if (b->end)
			_exit(0);
	}
}

static void reader_gone(struct dat_fe *d, const char *when)
{
	int st = 0;
	if (d->child > 0 && waitpid(d->child, &st, 0) == d->child)
		d->child = 0;
	if (WIFSIGNALED(st))
		snprintf(d->fe.err, sizeof(d->fe.err), "%s:%s%" PRIu64 ": libtracecmd "
		         "crashed %s (signal %d): the trace.dat is corrupt", d->path,
		         " record ", d->fe.where, when, WTERMSIG(st));
	else
		snprintf(d->fe.err, sizeof(d->fe.err), "%s: record %" PRIu64 ": the "
		         "trace.dat reader stopped %s (status %d)", d->path,
		         d->fe.where, when, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int dat_read(struct imp_fe *fe, struct imp_rec *r)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	for (;;) {
		struct imp_batch *b = d->cb;
		if (b && d->ci < b->n) {
			*r = b->r[d->ci];
			fe->where = b->where[d->ci++];
			return 1;
		}
		if (b) {
			if (b->end)
				return 0;
			put_byte(d->p2c, 'F');
			d->cb = NULL;
		}
		char c;
		if (get_byte(d->c2p, &c) || c != 'B') {
			reader_gone(d, "while reading it");
			return -EIO;
		}
		d->cb = &d->sh->ring[d->cons];
		d->cons = (d->cons + 1) % NBATCH;
		d->ci = 0;
		/* done: the batches consumed, not the ones read ahead */
		fe->bytes_done = d->cb_start;
		d->cb_start = d->cb->bytes_done;
	}
}

static int dat_probe(struct imp_fe *fe, struct ev_source *meta,
                     struct imp_probe *pr)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	*pr = d->sh->pr;
	for (uint32_t off = 0; off < d->sh->metalen;) {
		const char *k = d->sh->meta + off;
		const char *v = k + strlen(k) + 1;
		if (evsrc_meta_set(meta, k, v)) {
			snprintf(fe->err, sizeof(fe->err), "%s: out of memory", d->path);
			return -ENOMEM;
		}
		off += (uint32_t)(strlen(k) + strlen(v) + 2);
	}
	return 0;
}

static int dat_rewind(struct imp_fe *fe)
{
	snprintf(fe->err, sizeof(fe->err), "trace.dat: no rewind (it probes by "
	         "itself)");
	return -EINVAL;
}

static void dat_close(struct imp_fe *fe)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	if (d->child > 0) {
		kill(d->child, SIGKILL);
		waitpid(d->child, NULL, 0);
	}
	if (d->c2p >= 0)
		close(d->c2p);
	if (d->p2c >= 0)
		close(d->p2c);
	if (d->sh)
		munmap(d->sh, sizeof(*d->sh));
	free(d);
}

static const struct imp_fe_ops dat_ops = {
	.read = dat_read, .rewind = dat_rewind, .close = dat_close,
	.probe = dat_probe,
};

int imp_dat_open(const char *path, struct imp_fe **out, char *err,
                 size_t errlen)
{
	struct dat_fe *d = calloc(1, sizeof(*d));
	struct stat st;
	int c2p[2], p2c[2];
	if (!d) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->fe.ops = &dat_ops;
	d->fe.unit = "record";
	d->c2p = d->p2c = -1;
	if (stat(path, &st)) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(d);
		return -e;
	}
	d->fe.bytes_total = (uint64_t)st.st_size;
	d->sh = mmap(NULL, sizeof(*d->sh), PROT_READ | PROT_WRITE,
	             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (d->sh == MAP_FAILED) {
		d->sh = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
		dat_close(&d->fe);
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c2p)) {
		snprintf(err, errlen, "%s: socketpair: %s", path, strerror(errno));
		dat_close(&d->fe);
		return -EIO;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p2c)) {
		close(c2p[0]);
		close(c2p[1]);
		snprintf(err, errlen, "%s: socketpair: %s", path, strerror(errno));
		dat_close(&d->fe);
		return -EIO;
	}
	fflush(NULL);
	d->child = fork();
	if (d->child == 0) {
		/* A crash of libtracecmd ends the reader and nothing else: the
		 * default action, not a handler inherited from the parent (a
		 * sanitizer's or a fuzzer's would report the library's bug as
		 * cowsim's); the parent sees the reader die and names the file. */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE,
		                             SIGILL };
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		close(c2p[0]);
		close(p2c[1]);
		reader(d, path, c2p[1], p2c[0]);
	}
	close(c2p[1]);
	close(p2c[0]);
	d->c2p = c2p[0];
	d->p2c = p2c[1];
	if (d->child < 0) {
		snprintf(err, errlen, "%s: fork: %s", path, strerror(errno));
		d->child = 0;
		dat_close(&d->fe);
		return -EIO;
	}
	char c;
	if (get_byte(d->c2p, &c)) {
		reader_gone(d, "opening it");
		snprintf(err, errlen, "%s", d->fe.err);
		dat_close(&d->fe);
		return -EINVAL;
	}
	if (c != 'P') {
		snprintf(err, errlen, "%s", d->sh->err);
		dat_close(&d->fe);
		return -EINVAL;
	}
	d->fe.has_alloc = d->sh->has_alloc;
	*out = &d->fe;
	return 0;
}

/* ---- records made of bytes, in this process: for the fuzz target ---- */

/*
 * A trace.dat is read by libtracecmd in a reader process (above), so a
 * fuzzer driving a whole file sees neither the coverage nor the crashes of
 * what runs there, nor much of cowsim's own code behind it.  Here the
 * event formats of a trusted file are opened once, in this process, and
 * the records are made of the fuzz input: each picks one of the file's
 * events and brings its own payload, which decode() and then the core read
 * as they would a record from the file.
 */
struct imp_dat_formats {
	struct dat_fe d;            /* the template, opened in this process */
	int *ids;                   /* its event ids, every one resolved */
	int nids;
};

int imp_dat_formats_open(const char *template, struct imp_dat_formats **out,
                         char *err, size_t errlen)
{
	struct imp_dat_formats *f = calloc(1, sizeof(*f));
	int rc;
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", template);
		return -ENOMEM;
	}
	if ((rc = setup(&f->d, template, err, errlen)))
		goto fail;
	const struct buf_h *b = &f->d.b[0];
	f->ids = malloc((size_t)b->nev * sizeof(*f->ids));
	if (!f->ids) {
		snprintf(err, errlen, "%s: out of memory", template);
		rc = -ENOMEM;
		goto fail;
	}
	for (int id = 0; id < b->nev; id++)
		if (b->ev[id].kind)
			f->ids[f->nids++] = id;
	if (!f->nids) {
		snprintf(err, errlen, "%s: no events", template);
		rc = -EINVAL;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	imp_dat_formats_close(f);
	return rc;
}

void imp_dat_formats_close(struct imp_dat_formats *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->d.nb; i++) {
		free(f->d.b[i].ev);
		free(f->d.b[i].at);
	}
	free(f->d.b);
	if (f->d.top)
		tracecmd_close(f->d.top);
	free(f->ids);
	free(f);
}

struct rec_fe {
	struct imp_fe fe;
	const struct imp_dat_formats *f;
	const uint8_t *in;
	size_t len, pos;
	uint64_t ts;
	unsigned char data[256];
};

/* 4 bytes a record - event (2), cpu and time step (1), payload length
 * (1) - then the payload, the event's id written over its common_type
 * field so that it decodes as that event. */
static int rec_read(struct imp_fe *fe, struct imp_rec *r)
{
	struct rec_fe *q = (struct rec_fe *)fe;
	const struct dat_fe *d = &q->f->d;
	if (q->pos + 4 > q->len)
		return 0;
	const uint8_t *h = q->in + q->pos;
	size_t n = h[3];
	q->pos += 4;
	if (n > q->len - q->pos)
		n = q->len - q->pos;
	memcpy(q->data, q->in + q->pos, n);
	q->pos += n;
	q->ts += 1 + (h[2] >> 3);
	fe->where++;
	struct tep_record rec = { .ts = q->ts, .data = q->data, .size = (int)n,
	                          .cpu = h[2] & 3 };
	if (h[2] & 4) {             /* a loss before this record */
		loss_rec(&rec, n, r);
		return 1;
	}
	int id = q->f->ids[(h[0] | h[1] << 8) % q->f->nids];
	const struct tep_format_field *t = d->f_type;
	if (t->offset >= 0 && (size_t)(t->offset + t->size) <= n && t->size == 2) {
		uint16_t v = (uint16_t)id;
		memcpy(q->data + t->offset, &v, 2);
	}
	decode(d, &d->b[0], &rec, r);
	return 1;
}

static int rec_rewind(struct imp_fe *fe)
{
	struct rec_fe *q = (struct rec_fe *)fe;
	q->pos = 0;
	q->ts = 0;
	fe->where = 0;
	return 0;
}

static void rec_close(struct imp_fe *fe)
{
	free(fe);
}

static const struct imp_fe_ops rec_ops = {
	.read = rec_read, .rewind = rec_rewind, .close = rec_close,
};

int imp_dat_records_open(const struct imp_dat_formats *f, const uint8_t *in,
                         size_t len, struct imp_fe **out)
{
	struct rec_fe *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fe.ops = &rec_ops;
	q->fe.unit = "record";
	q->fe.bytes_total = len;
	q->fe.has_alloc = f->d.fe.has_alloc;
	q->f = f;
	q->in = in;
	q->len = len;
	*out = &q->fe;
	return 0;
}
