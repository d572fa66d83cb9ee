/*
 * cmd_import.c - `cowsim import`: a real trace (trace.dat, ftrace text,
 * perf script text, plain or .zst) to a cowsim event file, with an
 * account of what was read.
 *
 * The event file is what a trace is replayed from many times, so the
 * import is the one place that says what the trace held and what the
 * importer had to guess or could not use: the summary goes to stderr, as
 * an account of the work rather than its result (which is FILE), and the
 * same counters go into the file's metadata (import_*), next to the
 * trace's own `cowsim: meta` facts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "../importers/evfile.h"
#include "../importers/open.h"
#include "../importers/imp_core.h"
#include "../importers/imp_fe.h"
#include "../importers/zin.h"
#include "../lib/progress.h"

static const char import_usage[] =
	"usage: cowsim import TRACE [--format dat|ftrace|perf]\n"
	"                     [--pid N | --comm NAME] [--quiet] -o FILE\n"
	"\n"
	"Read a trace as the Linux tracing tools wrote it - a trace-cmd\n"
	"trace.dat, the kernel's ftrace text or `trace-cmd report` output, or\n"
	"`perf script` output - and write its normalized events to FILE, a\n"
	"cowsim event file for `cowsim replay`.  The format is detected from\n"
	"the content; --format overrides.  Any of them may be gzip, xz or zstd\n"
	"compressed; TRACE - reads stdin.\n"
	"\n"
	"A system-wide trace is cut down to one process tree, followed through\n"
	"forks from its exec: --pid N (the tree of N), --comm NAME (the tree of\n"
	"the first exec of NAME), or by default the tree of the first process a\n"
	"`cowsim: maps` snapshot describes; without a snapshot, everything.\n"
	"Prints on stderr what it read: events in and out, processes, forks,\n"
	"execs, lost events, events skipped by name, inferred mappings,\n"
	"unresolved GUPs, kernel-observed outcome labels, and the speed.\n"
	"Warnings about the input name its file and line (or record); on a\n"
	"terminal a progress line shows the bytes read, the rate and an ETA;\n"
	"--quiet hides both.\n"
	"\n"
	"examples:\n"
	"  cowsim import traces/real/redis-bgsave.dat -o redis.ev\n"
	"  cowsim import big.ftrace.txt.zst --comm make -o build.ev\n"
	"  cowsim replay redis.ev --policy all\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void summary(FILE *o, const struct ev_source *src,
                    const struct imp_core *c, double secs, const char *outp)
{
	const struct imp_stats *s = &c->st;
	double mb = (double)src->bytes_total / 1e6;
	/* For a compressed file the MB/s is of compressed bytes: say so. */
	unsigned char head[ZIN_MAGIC_MAX] = { 0 };
	size_t n = 0;
	FILE *f = fopen(src->path, "rb");
	if (f) {
		n = fread(head, 1, sizeof(head), f);
		fclose(f);
	}
	const char *z = zin_name(zin_sniff(head, n));
	fprintf(o, "%s: %s%s%s%s, %.1f MB, %" PRIu64 " records in %.3f s "
	        "(%.1f MB/s%s, %.2f M records/s)\n", src->path, src->format,
	        z ? " (" : "", z ? z : "", z ? ")" : "", mb, s->records, secs,
	        secs > 0 ? mb / secs : 0, z ? " compressed" : "",
	        secs > 0 ? (double)s->records / secs / 1e6 : 0);
	fprintf(o, "  selection:        %s\n",
	        evsrc_meta_get(src, "import_selection"));
	fprintf(o, "  events out:       %" PRIu64 " -> %s\n", s->events_out, outp);
	fprintf(o, "  processes:        %" PRIu64 " (forks %" PRIu64 ", vforks %"
	        PRIu64 ", threads %" PRIu64 ", execs %" PRIu64 ", exits %" PRIu64
	        ")\n", s->processes, s->forks, s->vforks, s->threads, s->execs,
	        s->exits);
	fprintf(o, "  faults:           %" PRIu64 " user, %" PRIu64 " kernel\n",
	        s->faults_user, s->faults_kernel);
	fprintf(o, "  outside the tree: %" PRIu64 " records\n", s->filtered);
	fprintf(o, "  lost events:      %" PRIu64 " (in %" PRIu64 " reports)\n",
	        s->dropped_events, s->drop_reports);
	fprintf(o, "  skipped by kind:  %" PRIu64 " records", s->unknown_events);
	for (size_t i = 0; i < c->nskip; i++)
		fprintf(o, "%s %s %" PRIu64, i ? "," : ":", c->skip[i].name,
		        c->skip[i].n);
	if (c->skip_other)
		fprintf(o, ", others %" PRIu64, c->skip_other);
	fputc('\n', o);
	fprintf(o, "  bad lines:        %" PRIu64 "\n", s->bad_lines);
	fprintf(o, "  mappings:         %" PRIu64 " snapshot(s) with %" PRIu64
	        " lines, %" PRIu64 " inferred (+%" PRIu64 " made writable), %"
	        PRIu64 " stack growths\n", s->snapshots, s->snapshot_lines,
	        s->inferred_maps, s->inferred_upgrades, s->stack_growth);
	fprintf(o, "  GUP:              %" PRIu64 " O_DIRECT pins; unresolved: %"
	        PRIu64 " vmsplice, %" PRIu64 " io_uring buffer registrations\n",
	        s->odirect_gups, s->unresolved_vmsplice, s->unresolved_io_uring);
	fprintf(o, "  observed labels:  %s: copy %" PRIu64 ", reuse %" PRIu64
	        ", zero-fill %" PRIu64 ", new %" PRIu64 " (lost %" PRIu64 ")\n",
	        c->labels ? "yes" : "no (no mm_page_alloc)", s->labels_copy,
	        s->labels_reuse, s->labels_zero, s->labels_new, s->labels_lost);
	fprintf(o, "  repairs:          %" PRIu64 " timestamps clamped, %" PRIu64
	        " pids reused, %" PRIu64 " tasks seen mid-life, %" PRIu64
	        " syscall exits unmatched, %" PRIu64 " bad markers\n",
	        s->nonmonotonic, s->pid_reused, s->unknown_tasks,
	        s->syscall_mismatch, s->bad_markers);
	const char *keys[] = { "kernel", "swap_total_kb", "ncpus", "capture" };
	fprintf(o, "  trace facts:     ");
	int any = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = evsrc_meta_get(src, keys[i]);
		if (v) {
			fprintf(o, " %s=%s", keys[i], v);
			any = 1;
		}
	}
	fprintf(o, "%s\n", any ? "" : " (no cowsim: meta markers)");
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct evsrc_opts so = { 0 };
	const char *outp = NULL;
	uint64_t pid;
	int c;

	while ((c = getopt_long(argc, argv, "f:p:c:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "dat") && strcmp(optarg, "ftrace") &&
			    strcmp(optarg, "perf"))
				return cli_die("--format must be dat, ftrace or perf");
			so.format = optarg;
			break;
		case 'p':
			if (cli_parse_u64(optarg, &pid) || !pid || pid > INT32_MAX)
				return cli_die("--pid: '%s' is not a pid", optarg);
			so.pid = (uint32_t)pid;
			break;
		case 'c': so.comm = optarg; break;
		case 'o': outp = optarg; break;
		case 'q': so.quiet = 1; break;
		case 'h': fputs(import_usage, stdout); return 0;
		default: fputs(import_usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc || !outp) {
		fputs(import_usage, stderr);
		return 2;
	}
	if (so.pid && so.comm)
		return cli_die("--pid and --comm select a tree each: give one");

	char err[1024];
	struct ev_source *src = NULL;
	struct evf_writer *w = NULL;
	struct cs_ev *buf = NULL;
	struct progress pg;
	int rc = 0;
	double t0 = now_s();

	if (evsrc_open(argv[optind], &so, &src, err, sizeof(err)))
		return cli_die("%s", err);
	const struct imp_core *core = imp_source_core(src);
	if (!core) {
		rc = cli_die("%s: a %s, not a trace to import (replay it directly)",
		             argv[optind], src->format);
		goto out;
	}
	if (evf_create(outp, &w, err, sizeof(err))) {
		rc = cli_die("%s", err);
		goto out;
	}
	buf = malloc(4096 * sizeof(*buf));
	if (!buf) {
		rc = cli_die("out of memory");
		goto out;
	}
	progress_init(&pg, progress_wanted(so.quiet), src->path, "events");
	pg.bytes_total = src->bytes_total;
	for (;;) {
		long n = evsrc_next(src, buf, 4096);
		if (n < 0) {
			progress_abort(&pg);
			rc = cli_die("%s", src->err);
			goto out;
		}
		if (!n)
			break;
		if (evf_write(w, buf, (size_t)n)) {
			progress_abort(&pg);
			rc = cli_die("%s: write error: %s", outp, strerror(errno));
			goto out;
		}
		progress_tick(&pg, src->events, src->bytes_done);
	}
	progress_done(&pg, src->events, src->bytes_done);
	if (evf_finish(w, &src->strings, src->meta, src->nmeta, err,
	               sizeof(err))) {
		w = NULL;
		rc = cli_die("%s", err);
		goto out;
	}
	w = NULL;
	summary(stderr, src, core, now_s() - t0, outp);
	if (core->sel != IMP_SEL_ALL && !core->root && !so.quiet)
		fprintf(stderr, "cowsim: warning: %s: no process matched the "
		        "selection (%s): only markers were kept\n", argv[optind],
		        evsrc_meta_get(src, "import_selection"));
out:
	if (w)
		evf_abort(w);
	free(buf);
	evsrc_close(src);
	return rc;
}
