/*
 * test_evfile.c - the binary event file: round trip of records, strings and
 * metadata, and refusal (with the record or reason named) of every kind of
 * damaged file: truncated, unfinished, wrong version, corrupt record.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

	/* a corrupt record is named by its number */
	path_of(p, sizeof(p), "badrec.ev");
	write_sample(p, 100);
	uint8_t bad = 99;
	corrupt(p, 64 + 48 * 42 + 18, &bad, 1);
	CHECK(read_all(p, err, sizeof(err), &n) == -EINVAL);
	CHECK(strstr(err, "record 42") != NULL);
	/* ... and so is one whose time runs backwards */
	path_of(p, sizeof(p), "backwards.ev");
	write_sample(p, 100);
	uint64_t early = 1;
	corrupt(p, 64 + 48 * 50, &early, 8);
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
