/*
 * test_evfile.c - the binary event file: round trip of records, strings and
 * metadata, and refusal (with the block, record or reason named) of every
 * kind of damaged file: truncated, unfinished, wrong version, a flipped bit
 * in the header, a block or the trailer, and a record that makes no sense
 * under valid checksums (reseal() below is a second, independent writer of
 * the checksums, from evfile.h's description of the layout).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "check.h"
#include "importers/evfile.h"

static char dir[] = "/tmp/cowsim-evf-XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_sample(const char *path, size_t n)
{
	struct evf_writer *w;
	struct strtab st;
	char err[256];

	strtab_init(&st);
	uint32_t name = strtab_intern(&st, "/bin/x", 6);
	CHECK(evf_create(path, &w, err, sizeof(err)) == 0);
	for (size_t i = 0; i < n; i++) {
		struct cs_ev e = { .ts = 1000 + i, .tid = 7, .tgid = 7, .cpu = 1,
		                   .type = i == 0 ? EV_EXEC : EV_FAULT,
		                   .addr = 0x7f0000000000ull + i * 4096,
		                   .flags = EV_PF_WRITE, .arg = i == 0 ? name : 0 };
		CHECK(evf_write(w, &e, 1) == 0);
	}
	struct ev_meta meta[] = { { "kernel", "6.18" }, { "swap_total_kb", "0" } };
	CHECK(evf_finish(w, &st, meta, 2, err, sizeof(err)) == 0);
	strtab_free(&st);
}

static int read_all(const char *path, char *err, size_t len, uint64_t *n)
{
	struct ev_source *s;
	struct cs_ev buf[100];
	long k;

	*n = 0;
	int r = evf_open_source(path, &s, err, len);
	if (r)
		return r;
	while ((k = evsrc_next(s, buf, 100)) > 0)
		*n += (uint64_t)k;
	if (k < 0)
		snprintf(err, len, "%s", s->err);
	evsrc_close(s);
	return k < 0 ? (int)k : 0;
}

static void corrupt(const char *path, long off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, bytes, n, off) == (ssize_t)n);
	close(fd);
}

/* Recompute every checksum of the file at path from its bytes, as a
 * writer that knew only the layout in evfile.h would: after this, only
 * ev_validate() stands between a forged record and the engine. */
static void reseal(const char *path)
{
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (!f)
		return;
	uint8_t h[64];
	CHECK(fread(h, 64, 1, f) == 1);
	uint64_t nrec, trailer;
	uint32_t nstr, nmeta;
	memcpy(&nrec, h + 16, 8);
	memcpy(&trailer, h + 24, 8);
	memcpy(&nstr, h + 52, 4);
	memcpy(&nmeta, h + 56, 4);
	/* the block sums */
	uint64_t nb = (nrec + 4095) / 4096;
	uint64_t *sums = calloc(nb + 1, 8);
	uint8_t *rec = malloc(4096 * 48);
	for (uint64_t b = 0; b < nb; b++) {
		uint64_t k = nrec - b * 4096 < 4096 ? nrec - b * 4096 : 4096;
		CHECK(fread(rec, 48, k, f) == k);
		sums[b] = XXH3_64bits(rec, k * 48);
	}
	free(rec);
	/* the trailer: skip strings and metadata to SUMS, rewrite the sums,
	 * then hash it all again */
	CHECK(fseek(f, (long)trailer, SEEK_SET) == 0);
	for (uint64_t i = 0; i < nstr + 2ull * nmeta; i++) {
		uint32_t l;
		if (i == 0 || i == nstr)            /* "STRS", "META" */
			CHECK(fseek(f, 4, SEEK_CUR) == 0);
		CHECK(fread(&l, 4, 1, f) == 1);
		CHECK(fseek(f, l, SEEK_CUR) == 0);
	}
	if (!nmeta)
		CHECK(fseek(f, 4, SEEK_CUR) == 0);  /* "META" */
	CHECK(fseek(f, 8, SEEK_CUR) == 0);         /* "SUMS", count */
	CHECK(fwrite(sums, 8, nb, f) == nb);
	CHECK(fseek(f, 4, SEEK_CUR) == 0);         /* "END!" */
	long end = ftell(f);
	size_t tl = (size_t)(end - (long)trailer);
	uint8_t *t = malloc(tl);
	CHECK(fseek(f, (long)trailer, SEEK_SET) == 0);
	CHECK(fread(t, 1, tl, f) == tl);
	uint64_t tsum = XXH3_64bits(t, tl);
	CHECK(fwrite(&tsum, 8, 1, f) == 1);
	free(t);
	free(sums);
	/* the header */
	memset(h + 60, 0, 4);
	uint32_t hs = (uint32_t)XXH3_64bits(h, 64);
	memcpy(h + 60, &hs, 4);
	CHECK(fseek(f, 0, SEEK_SET) == 0);
	CHECK(fwrite(h, 64, 1, f) == 1);
	CHECK(fclose(f) == 0);
}

int main(void)
{
	char p[600], err[512];
	uint64_t n;
	struct ev_source *s;

	CHECK(mkdtemp(dir) != NULL);
	path_of(p, sizeof(p), "good.ev");
	write_sample(p, 1000);
	CHECK(evf_open_source(p, &s, err, sizeof(err)) == 0);
	CHECK(!strcmp(evsrc_meta_get(s, "kernel"), "6.18"));
	CHECK(!strcmp(evsrc_meta_get(s, "swap_total_kb"), "0"));
	CHECK(evsrc_meta_get(s, "nope") == NULL);
	struct cs_ev buf[2000];
	CHECK_EQ(evsrc_next(s, buf, 2000), 1000);
	CHECK_EQ(evsrc_next(s, buf, 2000), 0);
	CHECK(!strcmp(strtab_get(&s->strings, buf[0].arg), "/bin/x"));
	CHECK_EQ(buf[999].addr, 0x7f0000000000ull + 999 * 4096);
	evsrc_close(s);
	/* no temporary file left behind */
	char tmp[700];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", p, (int)getpid());
	CHECK(access(tmp, F_OK) != 0);

	/* truncated: the header promises more than the file has */
	path_of(p, sizeof(p), "trunc.ev");
	write_sample(p, 1000);
	CHECK(truncate(p, 64 + 48 * 500) == 0);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "truncated") != NULL);

	/* unfinished: trailer offset 0 */
	path_of(p, sizeof(p), "unfinished.ev");
	write_sample(p, 10);
	uint64_t zero = 0;
	corrupt(p, 24, &zero, 8);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "header checksum") != NULL);
	{       /* as a writer that died leaves it: header valid, trailer 0 */
		uint8_t h[64];
		FILE *f = fopen(p, "r+b");
		CHECK(f && fread(h, 64, 1, f) == 1);
		memset(h + 60, 0, 4);
		uint32_t hs = (uint32_t)XXH3_64bits(h, 64);
		memcpy(h + 60, &hs, 4);
		CHECK(fseek(f, 0, SEEK_SET) == 0 && fwrite(h, 64, 1, f) == 1);
		fclose(f);
	}
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "unfinished") != NULL);

	/* another version */
	path_of(p, sizeof(p), "v9.ev");
	write_sample(p, 10);
	uint32_t v9 = 9;
	corrupt(p, 8, &v9, 4);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "version 9") != NULL);

	/* not an event file */
	path_of(p, sizeof(p), "junk.ev");
	FILE *f = fopen(p, "w");
	fputs("hello, world", f);
	fclose(f);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);

	/* several blocks, read in pieces that do not divide a block */
	path_of(p, sizeof(p), "blocks.ev");
	write_sample(p, 10000);
	CHECK(read_all(p, err, sizeof(err), &n) == 0);
	CHECK_EQ(n, 10000);
	reseal(p);              /* the reference agrees with the writer */
	CHECK(read_all(p, err, sizeof(err), &n) == 0);
	/* one flipped bit anywhere is an error naming where */
	uint8_t byte;
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, &byte, 1, 64 + 48 * 5000 + 33) == 1);
	close(fd);
	byte ^= 0x10;           /* a fault's address: still a valid record */
	corrupt(p, 64 + 48 * 5000 + 33, &byte, 1);
	CHECK(read_all(p, err, sizeof(err), &n) == -EIO);
	CHECK(strstr(err, "block 1 (records 4096-") && strstr(err, "checksum"));
	path_of(p, sizeof(p), "hdrflip.ev");
	write_sample(p, 10);
	uint8_t one = 11;       /* 11 records promised, the trailer moved */
	corrupt(p, 16, &one, 1);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "header checksum") != NULL);
	path_of(p, sizeof(p), "trlflip.ev");
	write_sample(p, 10);
	corrupt(p, 64 + 48 * 10 + 4 + 4 + 4 + 5, "y", 1);  /* "/bin/x" -> "/bin/y" */
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "trailer checksum") != NULL);

	/* a record that makes no sense, under valid checksums, is named by
	 * its number */
	path_of(p, sizeof(p), "badrec.ev");
	write_sample(p, 100);
	uint8_t bad = 99;
	corrupt(p, 64 + 48 * 42 + 18, &bad, 1);
	CHECK(read_all(p, err, sizeof(err), &n) == -EIO);
	CHECK(strstr(err, "block 0") != NULL);
	reseal(p);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "record 42") != NULL);
	/* ... and one naming a task Linux cannot have (a fault: the reader's
	 * fast path for faults checks it too) */
	path_of(p, sizeof(p), "bigpid.ev");
	write_sample(p, 100);
	uint32_t bigpid = EV_PID_MAX + 1;
	corrupt(p, 64 + 48 * 7 + 8, &bigpid, 4);
	reseal(p);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "record 7") && strstr(err, "PID_MAX_LIMIT"));
	/* ... and so is one whose time runs backwards */
	path_of(p, sizeof(p), "backwards.ev");
	write_sample(p, 100);
	uint64_t early = 1;
	corrupt(p, 64 + 48 * 50, &early, 8);
	reseal(p);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "record 50") && strstr(err, "backwards"));

	/* an aborted writer leaves nothing */
	struct evf_writer *w;
	path_of(p, sizeof(p), "aborted.ev");
	CHECK(evf_create(p, &w, err, sizeof(err)) == 0);
	evf_abort(w);
	CHECK(access(p, F_OK) != 0);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
