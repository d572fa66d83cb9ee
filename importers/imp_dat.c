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
 * Decoding and importing overlap: after the probe, a reader thread does all
 * the libtracecmd work (decompression, merging, freeing records) and
 * fills batches of imp_rec, with their few strings copied into the
 * batch's arena; the importing thread only consumes batches.  libtracecmd
 * is touched by one thread at a time (the probe runs before the reader
 * starts), and a batch is never refilled before it is released, so the
 * strings stay valid while the core looks at them.
 *
 * libtracecmd's tracecmd_read_next_data(), tracecmd_peek_next_data() and
 * tracecmd_set_all_cpus_to_timestamp() are exported but not declared in
 * the public header (trace-cmd 3.1.6); they are declared below.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <trace-cmd.h>

#include "imp_fe.h"

extern struct tep_record *tracecmd_read_next_data(struct tracecmd_input *h,
                                                  int *rec_cpu);
extern struct tep_record *tracecmd_peek_next_data(struct tracecmd_input *h,
                                                  int *rec_cpu);
extern void tracecmd_set_all_cpus_to_timestamp(struct tracecmd_input *h,
                                               unsigned long long time);

#define MAX_FIELDS 7
#define BATCH 2048
#define NBATCH 4
#define ARENA (96u << 10)
#define STR_MAX 4096u          /* longer strings (none in practice) are cut */

struct batch {
	struct imp_rec r[BATCH];
	uint64_t where[BATCH];
	char arena[ARENA];
	uint32_t n, used;
	int eof;
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
	/* the reader thread (after the probe) */
	bool threaded, started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *ring[NBATCH];
	int prod, cons, full, stop;
	struct batch *cb;           /* the batch being consumed */
	uint32_t ci;
};

static uint64_t rd(const struct dat_fe *d, const struct tep_format_field *f,
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
		off = (int)(v & 0xffff);
		n = (int)(v >> 16);
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
		if (rec->missed_events) {
			memset(r, 0, sizeof(*r));
			r->kind = IK_DROPPED;
			r->tid = -1;
			r->irq = -1;
			r->ts = rec->ts;
			r->cpu = (uint16_t)rec->cpu;
			r->a[0] = (uint64_t)rec->cpu;
			r->a[1] = rec->missed_events > 0 ? (uint64_t)rec->missed_events : 0;
			d->stash = rec;
			d->stash_b = bi;
			return 1;
		}
	}
	d->cur = rec;
	struct buf_h *b = &d->b[bi];
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
		return 1;
	}
	const struct evinfo *x = &b->ev[id];
	r->kind = x->kind;
	switch (x->kind) {
	case IK_SYS_ENTER:
		r->raw = x->raw;
		if (x->raw) {
			r->nr = (int32_t)(int64_t)rd(d, x->f[0], data, ds);
			const struct tep_format_field *f = x->f[1];
			if (f && f->offset >= 0 && f->offset + 48 <= ds && !d->swap)
				memcpy(r->a, (const char *)data + f->offset, 48);
		} else {
			r->nr = x->nr;
			for (int i = 0; i < x->nf; i++)
				r->a[i] = rd(d, x->f[i], data, ds);
		}
		if (r->nr > 1023 || r->nr < 0)
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
		if (r->nr > 1023 || r->nr < 0)
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
		r->a[1] = x->f[1] ? (rd(d, x->f[1], data, ds) ? 1 : 0) : 2;
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
	return 1;
}

static const char *arena_copy(struct batch *b, const char *s, size_t *len)
{
	size_t n = *len > STR_MAX ? STR_MAX : *len;
	char *dst = b->arena + b->used;
	memcpy(dst, s, n);
	b->used += (uint32_t)n;
	*len = n;
	return dst;
}

static void *reader(void *arg)
{
	struct dat_fe *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->mu);
		while (d->full == NBATCH && !d->stop)
			pthread_cond_wait(&d->cv, &d->mu);
		int stop = d->stop;
		struct batch *b = d->ring[d->prod];
		pthread_mutex_unlock(&d->mu);
		if (stop)
			break;
		b->n = b->used = 0;
		b->eof = 0;
		/* Room for two strings of STR_MAX before each record. */
		while (b->n < BATCH && b->used + 2 * STR_MAX <= ARENA) {
			struct imp_rec *r = &b->r[b->n];
			if (dat_read_sync(d, r) <= 0) {
				b->eof = 1;
				break;
			}
			if (r->slen)
				r->s = arena_copy(b, r->s, &r->slen);
			if (r->s2len)
				r->s2 = arena_copy(b, r->s2, &r->s2len);
			b->where[b->n++] = d->fe.where;
		}
		pthread_mutex_lock(&d->mu);
		d->prod = (d->prod + 1) % NBATCH;
		d->full++;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		if (b->eof)
			break;
	}
	return NULL;
}

static void reader_stop(struct dat_fe *d)
{
	if (!d->started)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->th, NULL);
	d->started = false;
	d->stop = 0;
	d->prod = d->cons = d->full = 0;
	d->cb = NULL;
}

static int dat_read(struct imp_fe *fe, struct imp_rec *r)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	if (!d->threaded)
		return dat_read_sync(d, r);
	if (!d->started) {
		for (int i = 0; i < NBATCH; i++)
			if (!d->ring[i] && !(d->ring[i] = malloc(sizeof(struct batch)))) {
				d->threaded = false;   /* no memory for it: read inline */
				return dat_read_sync(d, r);
			}
		d->prod = d->cons = d->full = 0;
		d->cb = NULL;
		if (pthread_create(&d->th, NULL, reader, d)) {
			d->threaded = false;
			return dat_read_sync(d, r);
		}
		d->started = true;
	}
	for (;;) {
		struct batch *b = d->cb;
		if (b && d->ci < b->n) {
			*r = b->r[d->ci];
			fe->where = b->where[d->ci++];
			return 1;
		}
		if (b) {
			if (b->eof)
				return 0;
			pthread_mutex_lock(&d->mu);
			d->cons = (d->cons + 1) % NBATCH;
			d->full--;
			pthread_cond_broadcast(&d->cv);
			pthread_mutex_unlock(&d->mu);
			d->cb = NULL;
		}
		pthread_mutex_lock(&d->mu);
		while (!d->full)
			pthread_cond_wait(&d->cv, &d->mu);
		d->cb = d->ring[d->cons];
		d->ci = 0;
		pthread_mutex_unlock(&d->mu);
	}
}

static int dat_rewind(struct imp_fe *fe)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	reader_stop(d);
	if (d->cur)
		tracecmd_free_record(d->cur);
	if (d->stash)
		tracecmd_free_record(d->stash);
	d->cur = d->stash = NULL;
	for (int i = 0; i < d->nb; i++) {
		if (d->b[i].peek)
			tracecmd_free_record(d->b[i].peek);
		d->b[i].peek = NULL;
		tracecmd_set_all_cpus_to_timestamp(d->b[i].h, 0);
	}
	fe->where = 0;
	/* From here on (the probe is done) reading overlaps importing. */
	d->threaded = true;
	return 0;
}

static void dat_close(struct imp_fe *fe)
{
	struct dat_fe *d = (struct dat_fe *)fe;
	reader_stop(d);
	for (int i = 0; i < NBATCH; i++)
		free(d->ring[i]);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	if (d->cur)
		tracecmd_free_record(d->cur);
	if (d->stash)
		tracecmd_free_record(d->stash);
	for (int i = 0; i < d->nb; i++) {
		if (d->b[i].peek)
			tracecmd_free_record(d->b[i].peek);
		free(d->b[i].ev);
		if (i)
			tracecmd_close(d->b[i].h);
	}
	free(d->b);
	if (d->top)
		tracecmd_close(d->top);
	free(d);
}

static const struct imp_fe_ops dat_ops = {
	.read = dat_read, .rewind = dat_rewind, .close = dat_close,
};

int imp_dat_open(const char *path, struct imp_fe **out, char *err,
                 size_t errlen)
{
	struct dat_fe *d = calloc(1, sizeof(*d));
	struct stat st;
	int rc = -EINVAL;
	if (!d) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	snprintf(d->path, sizeof(d->path), "%s", path);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->fe.ops = &dat_ops;
	d->fe.unit = "record";
	if (!stat(path, &st))
		d->fe.bytes_total = (uint64_t)st.st_size;
	tracecmd_set_loglevel(TEP_LOG_NONE);
	d->top = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!d->top) {
		snprintf(err, errlen, "%s: not a readable trace.dat (libtracecmd "
		         "could not open it: truncated or corrupt?)", path);
		goto fail;
	}
	struct tep_handle *tep = tracecmd_get_tep(d->top);
	d->swap = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep);
	int ni = tracecmd_buffer_instances(d->top);
	if (ni < 0)
		ni = 0;
	d->b = calloc((size_t)ni + 1, sizeof(*d->b));
	if (!d->b) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	d->b[0].h = d->top;
	d->nb = 1;
	for (int i = 0; i < ni; i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(d->top, i);
		if (!h)
			continue;
		d->b[d->nb++].h = h;
	}
	for (int i = 0; i < d->nb; i++) {
		d->b[i].tep = tracecmd_get_tep(d->b[i].h);
		if (!d->b[i].tep || resolve(d, &d->b[i])) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: cannot read its event formats", path);
			goto fail;
		}
	}
	if (!d->f_type || !d->f_pid) {
		snprintf(err, errlen, "%s: no event formats in the file", path);
		goto fail;
	}
	bool alloc = tep_find_event_by_name(tep, "kmem", "mm_page_alloc") != NULL;
	d->fe.has_alloc = alloc && d->gfp_ok ? -1 : 0;
	*out = &d->fe;
	return 0;
fail:
	dat_close(&d->fe);
	return rc;
}
