/*
 * test_scn.c - the scenario language: what statements expand to, and that
 * every kind of mistake is reported at its file, line and column.
 */
#include <string.h>

#include "check.h"
#include "importers/scn.h"

static int parse(const char *text, struct scn *s, char *err, size_t len)
{
	return scn_parse_text("t.scn", text, s, err, len);
}

static void expect_error(const char *text, const char *where, const char *what)
{
	struct scn s;
	char err[512] = "";
	int r = parse(text, &s, err, sizeof(err));
	CHECK(r == -EINVAL);
	if (r != -EINVAL)
		scn_free(&s);
	if (!strstr(err, where) || !strstr(err, what)) {
		fprintf(stderr, "for %s: got '%s', wanted '%s' ... '%s'\n", text, err,
		        where, what);
		check_failures++;
	}
}

int main(void)
{
	struct scn s;
	char err[512];

	CHECK(parse("process P cpu=2\n"
	            "mmap P mem 4 prot=rw\n"
	            "write P mem+1 2   # two faults\n"
	            "fork P C\n"
	            "vmsplice C mem 1 as h\n"
	            "release h\n"
	            "repeat 3\n"
	            "read C mem+$i\n"
	            "end\n"
	            "exit C\n"
	            "expect linux-5.7,linux-6.12 pass leaks=0 copies_fault>=1\n",
	            &s, err, sizeof(err)) == 0);
	/* exec, mmap, 2 faults, fork, gup, put, 3 reads, exit */
	CHECK_EQ(s.nev, 11);
	CHECK_EQ(s.ev[0].type, EV_EXEC);
	CHECK_EQ(s.ev[0].cpu, 2);
	CHECK_EQ(s.ev[1].type, EV_MMAP);
	CHECK_EQ(s.ev[1].len, 4);
	CHECK_EQ(s.ev[2].type, EV_FAULT);
	CHECK_EQ(s.ev[2].addr, s.ev[1].addr + 4096);
	CHECK_EQ(s.ev[3].addr, s.ev[1].addr + 8192);
	CHECK(s.ev[2].flags & EV_PF_WRITE);
	CHECK_EQ(s.ev[4].type, EV_FORK);
	CHECK_EQ(s.ev[4].arg, 1001);
	CHECK_EQ(s.ev[5].type, EV_GUP);
	CHECK_EQ(s.ev[6].type, EV_GUP_PUT);
	CHECK_EQ(s.ev[6].arg, s.ev[5].arg);
	CHECK_EQ(s.ev[9].addr, s.ev[1].addr + 2 * 4096);   /* $i = 2 */
	CHECK_EQ(s.ev[9].tid, 1001);
	for (size_t i = 1; i < s.nev; i++)
		CHECK(s.ev[i].ts > s.ev[i - 1].ts);
	CHECK_EQ(s.nexp, 1);
	CHECK_EQ(s.exp[0].nchecks, 3);
	CHECK(scn_expect_names(&s.exp[0], "linux-6.12"));
	CHECK(!scn_expect_names(&s.exp[0], "linux-5.9"));
	CHECK_EQ(s.exp[0].checks[2].op, SCN_GE);
	CHECK_EQ(s.exp[0].line, 11);
	scn_free(&s);

	expect_error("process P\nmmap P mem 4\nwrite Q mem\n", "t.scn:3:7:",
	             "no live process");
	expect_error("process P\nwrite P nowhere\n", "t.scn:2:9:", "unknown mapping");
	expect_error("process P\nmmap P m 0\n", "t.scn:2:10:", "between 1 and");
	expect_error("process P\nfrobnicate P\n", "t.scn:2:1:", "unknown statement");
	expect_error("process P\nmmap P m 1 prot=rq\n", "t.scn:2:18:", "protection");
	expect_error("repeat 2\nprocess P\n", "t.scn:1:", "without 'end'");
	expect_error("end\n", "t.scn:1:1:", "without 'repeat'");
	/* Empty nested loops make no events but must still end (10^16
	 * iterations before the statement cap); the outer repeat is named. */
	expect_error("process P\nrepeat 100000000\nrepeat 100000000\nend\nend\n",
	             "t.scn:2:1:", "more than 100000000 statements");
	expect_error("process P\nprocess P\n", "t.scn:2:9:", "already named");
	expect_error("process \"P\n", "t.scn:1:9:", "unterminated quote");
	expect_error("process P\nmmap P m 1\nexpect all leaks~3\n", "t.scn:3:12:",
	             "expected pass, fail");
	expect_error("process P\nrelease h\n", "t.scn:2:9:", "no GUP handle");
	expect_error("process P\nmmap P m 1\nwrite P m+99999999999\n", "t.scn:3:11:",
	             "too large");
	expect_error("process P\nmmap P m 1\nmadvise P m 1 sideways\n", "t.scn:3:15:",
	             "unknown advice");
	expect_error("process P\nwrite P 0xffffffffffffff\n", "t.scn:2:9:",
	             "beyond the user address space");
	expect_error("process P\nsched P cpu=99999\n", "t.scn:2:13:", "below 4096");
	CHECK_DONE();
}
