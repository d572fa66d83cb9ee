/*
 * evfile.c - reading and writing binary event files (see evfile.h).
 *
 * The reader checks every block's checksum before handing its records on,
 * and validates every record as it streams (ev_validate(): a few compares),
 * so that a corrupt file is reported with its block, and a hostile one
 * with its record number, instead of reaching the engine.  XXH3 runs at
 * tens of GB/s, well above the replay's ~1 GB/s of records.
 *
 * The writer fills in the header last, so it needs a file it can seek in:
 * for "-" (stdout, often a pipe) it writes an unnamed temporary file and
 * copies it to stdout only once complete, which also keeps the promise
 * that no reader is ever handed half a file.
 */
#include "evfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../lib/grow.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "evfile.c reads and writes records in host order: little-endian only"
#endif

struct evf_hdr {
	char magic[8];
	uint32_t version;
	uint32_t recsize;
	uint64_t nrec;
	uint64_t trailer;
	uint64_t first_ts;
	uint64_t last_ts;
	uint32_t flags;
	uint32_t nstrings;
	uint32_t nmeta;
	uint32_t hsum;
};
_Static_assert(sizeof(struct evf_hdr) == EVF_HEADER, "header is 64 bytes");

static uint32_t hdr_sum(const struct evf_hdr *h)
{
	struct evf_hdr c = *h;
	c.hsum = 0;
	return (uint32_t)XXH3_64bits(&c, sizeof(c));
}

struct evf_writer {
	FILE *f;
	char *path;
	char *tmp;          /* the temporary name; for stdout only a label */
	int to_stdout;      /* path "-": f is a tmpfile() copied to stdout */
	struct evf_hdr h;
	char *buf;
	XXH3_state_t *blk;       /* the block being written */
	XXH3_state_t *trl;       /* the trailer being written */
	uint64_t *sums;          /* one per finished block */
	size_t nsums, capsums;
	uint32_t inblk;          /* records in the block being written */
};

/* Write n bytes of the trailer, hashing them.  Returns 0 or -EIO. */
static int put(struct evf_writer *w, const void *p, size_t n)
{
	XXH3_64bits_update(w->trl, p, n);
	return n == 0 || fwrite(p, 1, n, w->f) == n ? 0 : -EIO;
}

/* Close the block being written.  Returns 0 or -ENOMEM. */
static int end_block(struct evf_writer *w)
{
	if (grow_array((void **)&w->sums, &w->capsums, w->nsums + 1,
	               sizeof(*w->sums), 256, false))
		return -ENOMEM;
	w->sums[w->nsums++] = XXH3_64bits_digest(w->blk);
	XXH3_64bits_reset(w->blk);
	w->inblk = 0;
	return 0;
}

int evf_create(const char *path, struct evf_writer **out, char *err,
               size_t errlen)
{
	int to_stdout = !strcmp(path, "-");
	if (to_stdout && isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "-: refusing to write binary to a terminal "
		         "(redirect stdout, or give a file name)");
		return -EINVAL;
	}
	/* The rename into place would replace a device or FIFO with a
	 * regular file: `-o /dev/null` as root once did exactly that to the
	 * machine's /dev/null. */
	struct stat st;
	if (!to_stdout && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; the event file is "
		         "renamed into place, which would replace it (to write to "
		         "a device or pipe, use -o - and redirect stdout)", path);
		return -EINVAL;
	}
	struct evf_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->to_stdout = to_stdout;
	w->path = strdup(path);
	if (!w->path || (to_stdout ? !(w->tmp = strdup("stdout (its temporary file)"))
	                 : asprintf(&w->tmp, "%s.tmp.%d", path, (int)getpid()) < 0)) {
		free(w->path);
		free(w);
		return -ENOMEM;
	}
	w->f = to_stdout ? tmpfile() : fopen(w->tmp, "wb");
	if (!w->f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", w->tmp, strerror(e));
		free(w->tmp);
		free(w->path);
		free(w);
		return -e;
	}
	w->buf = malloc(1 << 20);
	if (w->buf)
		setvbuf(w->f, w->buf, _IOFBF, 1 << 20);
	w->blk = XXH3_createState();
	w->trl = XXH3_createState();
	if (!w->blk || !w->trl) {
		snprintf(err, errlen, "%s: out of memory", path);
		evf_abort(w);
		return -ENOMEM;
	}
	XXH3_64bits_reset(w->blk);
	XXH3_64bits_reset(w->trl);
	memcpy(w->h.magic, EVF_MAGIC, 8);
	w->h.version = EVF_VERSION;
	w->h.recsize = sizeof(struct cs_ev);
	/* Valid as it stands, so that a writer that dies leaves a file the
	 * reader calls unfinished, not corrupt. */
	w->h.hsum = hdr_sum(&w->h);
	if (fwrite(&w->h, sizeof(w->h), 1, w->f) != 1) {
		snprintf(err, errlen, "%s: write error", w->tmp);
		evf_abort(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

int evf_write(struct evf_writer *w, const struct cs_ev *ev, size_t n)
{
	if (!n)
		return 0;
	if (fwrite(ev, sizeof(*ev), n, w->f) != n)
		return -EIO;
	for (size_t i = 0; i < n;) {
		size_t k = EVF_BLOCK - w->inblk;
		if (k > n - i)
			k = n - i;
		XXH3_64bits_update(w->blk, ev + i, k * sizeof(*ev));
		w->inblk += (uint32_t)k;
		i += k;
		if (w->inblk == EVF_BLOCK && end_block(w))
			return -ENOMEM;
	}
	if (!w->h.nrec)
		w->h.first_ts = ev[0].ts;
	w->h.last_ts = ev[n - 1].ts;
	w->h.nrec += n;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == EV_OBSERVED)
			w->h.flags |= EVF_F_LABELS;
	return 0;
}

static int put_blob(struct evf_writer *w, const char *s, size_t len)
{
	uint32_t l = (uint32_t)len;
	int r = put(w, &l, 4);
	return r ? r : put(w, s, len);
}

/* The whole of f, rewound, to stdout.  Returns 0 or -EIO (errno set). */
static int copy_out(FILE *f)
{
	char buf[1 << 16];
	size_t n;

	if (fseek(f, 0, SEEK_SET))
		return -EIO;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			return -EIO;
	return ferror(f) || fflush(stdout) ? -EIO : 0;
}

int evf_finish(struct evf_writer *w, const struct strtab *strings,
               const struct ev_meta *meta, size_t nmeta, char *err,
               size_t errlen)
{
	FILE *f = w->f;
	long off = ftell(f);
	int r = 0;

	if (off < 0)
		r = -EIO;
	if (!r && w->inblk)
		r = end_block(w);
	w->h.trailer = (uint64_t)off;
	w->h.nstrings = strings ? strings->n : 1;
	w->h.nmeta = (uint32_t)nmeta;
	if (!r)
		r = put(w, "STRS", 4);
	if (strings) {
		for (uint32_t i = 0; !r && i < strings->n; i++)
			r = put_blob(w, strtab_get(strings, i), strtab_len(strings, i));
	} else if (!r) {
		r = put_blob(w, "", 0);
	}
	if (!r)
		r = put(w, "META", 4);
	for (size_t i = 0; !r && i < nmeta; i++) {
		r = put_blob(w, meta[i].key, strlen(meta[i].key));
		if (!r)
			r = put_blob(w, meta[i].val, strlen(meta[i].val));
	}
	uint32_t nb = (uint32_t)w->nsums;
	if (!r)
		r = put(w, "SUMS", 4);
	if (!r)
		r = put(w, &nb, 4);
	if (!r)
		r = put(w, w->sums, w->nsums * sizeof(*w->sums));
	if (!r)
		r = put(w, "END!", 4);
	uint64_t tsum = XXH3_64bits_digest(w->trl);
	if (!r && fwrite(&tsum, 8, 1, f) != 1)
		r = -EIO;
	w->h.hsum = hdr_sum(&w->h);
	if (!r && (fseek(f, 0, SEEK_SET) || fwrite(&w->h, sizeof(w->h), 1, f) != 1))
		r = -EIO;
	if (!r && fflush(f))
		r = -EIO;
	if (!r && w->to_stdout && copy_out(f)) {
		snprintf(err, errlen, "-: write error on stdout: %s", strerror(errno));
		evf_abort(w);
		return -EIO;
	}
	if (r) {
		snprintf(err, errlen, "%s: %s", w->tmp, r == -ENOMEM ?
		         "out of memory" : "write error (disk full?)");
		evf_abort(w);
		return r;
	}
	if (fclose(f)) {
		w->f = NULL;
		snprintf(err, errlen, "%s: write error (disk full?)", w->tmp);
		evf_abort(w);
		return -EIO;
	}
	w->f = NULL;
	if (!w->to_stdout && rename(w->tmp, w->path)) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", w->path, strerror(e));
		evf_abort(w);
		return -e;
	}
	w->tmp[0] = 0;       /* renamed: nothing for evf_abort() to remove */
	evf_abort(w);
	return 0;
}

void evf_abort(struct evf_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (!w->to_stdout && w->tmp && w->tmp[0])
		unlink(w->tmp);
	XXH3_freeState(w->blk);
	XXH3_freeState(w->trl);
	free(w->sums);
	free(w->buf);
	free(w->tmp);
	free(w->path);
	free(w);
}

/* ------------------------------------------------------------------ */
/* reading                                                             */

struct evf_src {
	struct ev_source base;
	FILE *f;
	char *buf;
	uint64_t nrec, done, prev_ts;
	uint64_t *sums;          /* the trailer's, one per block */
	XXH3_state_t *blk;       /* the block being read */
	int failed;
};

static long evf_next(struct ev_source *s, struct cs_ev *buf, size_t max)
{
	struct evf_src *r = (struct evf_src *)s;
	const char *why;

	if (r->failed)
		return -EIO;
	uint64_t left = r->nrec - r->done;
	/* Never past the block's end: its checksum is checked before the
	 * last of its records is handed on (all of them, when the caller
	 * reads a block at a time, as the replay does). */
	uint64_t inblk = r->done % EVF_BLOCK;
	if (left > EVF_BLOCK - inblk)
		left = EVF_BLOCK - inblk;
	size_t n = max < left ? max : (size_t)left;
	if (!n)
		return 0;
	/* read() straight into the caller's block: no stdio copy. */
	size_t want = n * sizeof(*buf), have = 0;
	while (have < want) {
		ssize_t k = read(fileno(r->f), (char *)buf + have, want - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
	}
	size_t got = have / sizeof(*buf);
	if (got < n) {
		snprintf(s->err, sizeof(s->err),
		         "%s: record %" PRIu64 ": file truncated (header promises %" PRIu64 ")",
		         s->path, r->done + got, r->nrec);
		r->failed = 1;
		return -EIO;
	}
	XXH3_64bits_update(r->blk, buf, n * sizeof(*buf));
	if (inblk + n == EVF_BLOCK || r->done + n == r->nrec) {
		uint64_t b = r->done / EVF_BLOCK;
		if (XXH3_64bits_digest(r->blk) != r->sums[b]) {
			uint64_t first = b * EVF_BLOCK, last = r->done + n - 1;
			snprintf(s->err, sizeof(s->err), "%s: block %" PRIu64
			         " (records %" PRIu64 "-%" PRIu64 "): checksum "
			         "mismatch: the file is corrupt", s->path, b, first,
			         last);
			r->failed = 1;
			return -EIO;
		}
		XXH3_64bits_reset(r->blk);
	}
	for (size_t i = 0; i < got; i++) {
		const struct cs_ev *e = &buf[i];
		/* Most records are faults: check those inline, the rest fully. */
		if (e->type == EV_FAULT && !e->rsv && e->ts >= r->prev_ts &&
		    e->addr < EV_USER_TOP && e->tid <= EV_PID_MAX &&
		    e->tgid <= EV_PID_MAX) {
			r->prev_ts = e->ts;
			continue;
		}
		if (ev_validate(&buf[i], r->prev_ts, s->strings.n, &why)) {
			snprintf(s->err, sizeof(s->err), "%s: record %" PRIu64 ": %s",
			         s->path, r->done + i, why);
			r->failed = 1;
			return -EINVAL;
		}
		r->prev_ts = buf[i].ts;
	}
	r->done += got;
	s->bytes_done = EVF_HEADER + r->done * sizeof(*buf);
	s->events += got;
	return (long)got;
}

static void evf_close(struct ev_source *s)
{
	struct evf_src *r = (struct evf_src *)s;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->sums);
	XXH3_freeState(r->blk);
	evsrc_fini(s);
	free(r);
}

static const struct ev_source_ops evf_ops = { .next = evf_next, .close = evf_close };

/* Read n bytes of the trailer, hashing them.  Returns 0 or -EIO. */
static int get(FILE *f, XXH3_state_t *h, void *p, size_t n)
{
	if (n && fread(p, 1, n, f) != n)
		return -EIO;
	XXH3_64bits_update(h, p, n);
	return 0;
}

/* Read a u32-length-prefixed blob of at most limit bytes into a fresh
 * NUL-terminated buffer.  Returns NULL on a short or oversized blob. */
static char *get_blob(FILE *f, XXH3_state_t *h, size_t limit, uint32_t *len)
{
	uint32_t l;
	if (get(f, h, &l, 4) || l > limit)
		return NULL;
	char *s = malloc((size_t)l + 1);
	if (!s)
		return NULL;
	if (get(f, h, s, l)) {
		free(s);
		return NULL;
	}
	s[l] = 0;
	*len = l;
	return s;
}

int evf_open_source(const char *path, struct ev_source **out, char *err,
                    size_t errlen)
{
	struct evf_src *r = calloc(1, sizeof(*r));
	struct evf_hdr h;
	struct stat st;
	int e;

	if (!r)
		return -ENOMEM;
	if ((e = evsrc_init(&r->base, &evf_ops, path, "events")))
		goto fail_nomsg;
	r->f = fopen(path, "rb");
	if (!r->f) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		goto fail;
	}
	r->buf = malloc(1 << 20);
	if (r->buf)
		setvbuf(r->f, r->buf, _IOFBF, 1 << 20);
	if (fstat(fileno(r->f), &st) || fread(&h, sizeof(h), 1, r->f) != 1) {
		snprintf(err, errlen, "%s: shorter than an event-file header", path);
		e = -EINVAL;
		goto fail;
	}
	if (memcmp(h.magic, EVF_MAGIC, 8)) {
		snprintf(err, errlen, "%s: not a cowsim event file (bad magic)", path);
		e = -EINVAL;
		goto fail;
	}
	if (h.version != EVF_VERSION) {
		snprintf(err, errlen, "%s: event file version %u, this cowsim reads "
		         "version %u: re-import the trace", path, h.version, EVF_VERSION);
		e = -EINVAL;
		goto fail;
	}
	if (h.hsum != hdr_sum(&h)) {
		snprintf(err, errlen, "%s: header checksum mismatch: the file is "
		         "corrupt", path);
		e = -EINVAL;
		goto fail;
	}
	if (h.recsize != sizeof(struct cs_ev)) {
		snprintf(err, errlen, "%s: record size %u, expected %zu", path,
		         h.recsize, sizeof(struct cs_ev));
		e = -EINVAL;
		goto fail;
	}
	if (!h.trailer) {
		snprintf(err, errlen, "%s: unfinished event file (its writer never "
		         "completed it)", path);
		e = -EINVAL;
		goto fail;
	}
	if (h.nrec > (UINT64_MAX - EVF_HEADER) / sizeof(struct cs_ev) ||
	    h.trailer != EVF_HEADER + h.nrec * sizeof(struct cs_ev) ||
	    h.trailer + 32 > (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: truncated or corrupt: header says %" PRIu64
		         " records, the file has %lld bytes", path, h.nrec,
		         (long long)st.st_size);
		e = -EINVAL;
		goto fail;
	}
	if (fseeko(r->f, (off_t)h.trailer, SEEK_SET)) {
		snprintf(err, errlen, "%s: cannot seek to its trailer", path);
		e = -EIO;
		goto fail;
	}
	r->blk = XXH3_createState();
	if (!r->blk)
		goto fail_nomsg;
	/* The trailer is hashed as it is read (get()), and checked whole
	 * before anything read from it is used. */
	XXH3_state_t *th = r->blk;
	XXH3_64bits_reset(th);
	char tag[4];
	uint64_t size = (uint64_t)st.st_size;
	if (get(r->f, th, tag, 4) || memcmp(tag, "STRS", 4) ||
	    h.nstrings == 0 || h.nstrings > size) {
		snprintf(err, errlen, "%s: corrupt string table", path);
		e = -EINVAL;
		goto fail;
	}
	strtab_free(&r->base.strings);
	memset(&r->base.strings, 0, sizeof(r->base.strings));
	for (uint32_t i = 0; i < h.nstrings; i++) {
		uint32_t l;
		char *s = get_blob(r->f, th, EVF_STR_MAX, &l);
		if (!s || strtab_intern(&r->base.strings, s, l) != i) {
			free(s);
			snprintf(err, errlen, "%s: corrupt string table (string %u)", path, i);
			e = -EINVAL;
			goto fail;
		}
		free(s);
	}
	if (get(r->f, th, tag, 4) || memcmp(tag, "META", 4) || h.nmeta > size) {
		snprintf(err, errlen, "%s: corrupt metadata", path);
		e = -EINVAL;
		goto fail;
	}
	for (uint32_t i = 0; i < h.nmeta; i++) {
		uint32_t kl, vl;
		char *k = get_blob(r->f, th, 4096, &kl);
		char *v = k ? get_blob(r->f, th, 1 << 20, &vl) : NULL;
		if (!k || !v || evsrc_meta_set(&r->base, k, v)) {
			free(k);
			free(v);
			snprintf(err, errlen, "%s: corrupt metadata (entry %u)", path, i);
			e = -EINVAL;
			goto fail;
		}
		free(k);
		free(v);
	}
	uint32_t nb;
	uint64_t want = (h.nrec + EVF_BLOCK - 1) / EVF_BLOCK;
	if (get(r->f, th, tag, 4) || memcmp(tag, "SUMS", 4) ||
	    get(r->f, th, &nb, 4) || nb != want) {
		snprintf(err, errlen, "%s: corrupt block checksums", path);
		e = -EINVAL;
		goto fail;
	}
	r->sums = malloc(want ? want * sizeof(*r->sums) : 1);
	if (!r->sums)
		goto fail_nomsg;
	uint64_t tsum;
	if (get(r->f, th, r->sums, want * sizeof(*r->sums)) ||
	    get(r->f, th, tag, 4) || memcmp(tag, "END!", 4) ||
	    fread(&tsum, 8, 1, r->f) != 1) {
		snprintf(err, errlen, "%s: corrupt trailer", path);
		e = -EINVAL;
		goto fail;
	}
	if (tsum != XXH3_64bits_digest(th)) {
		snprintf(err, errlen, "%s: trailer checksum mismatch (strings, "
		         "metadata or block sums): the file is corrupt", path);
		e = -EINVAL;
		goto fail;
	}
	XXH3_64bits_reset(r->blk);
	if (lseek(fileno(r->f), EVF_HEADER, SEEK_SET) != EVF_HEADER) {
		e = -EIO;
		snprintf(err, errlen, "%s: cannot seek", path);
		goto fail;
	}
	r->nrec = h.nrec;
	r->base.bytes_total = h.trailer;
	r->base.bytes_done = EVF_HEADER;
	*out = &r->base;
	return 0;
fail_nomsg:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	evf_close(&r->base);
	return e;
}
