/*
 * cmd_import.c - `cowsim import`: a real trace (trace.dat, ftrace text,
 * perf script text, plain or .zst) to a cowsim event file, with an
 * account of what was read.
 *
 * The event file is what a trace is replayed from many times, so the
 * import is the one place that says what the trace held and what the
 * importer had to guess or could not use: the summary goes to stderr (a
 * report to the person, like perf's and trace-cmd's; --quiet hides it) or,
 * with --format json, as one JSON object to stdout for a script (to stderr
 * when -o - puts the event file on stdout); the same counters go into the
 * file's metadata (import_*), next to the trace's own `cowsim: meta` facts.
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
#include "../lib/esc.h"
#include "../importers/evfile.h"
#include "../importers/open.h"
#include "../importers/imp_core.h"
#include "../importers/imp_fe.h"
#include "../importers/zin.h"
#include "../lib/progress.h"

static const char import_usage[] =
	"usage: cowsim import TRACE -o FILE|- [-I dat|ftrace|perf]\n"
	"                     [-P N | --comm NAME] [--sysroot DIR]\n"
	"                     [-f text|json] [-q]\n"
	"\n"
	"Read a trace as the Linux tracing tools wrote it - a trace-cmd\n"
	"trace.dat, the kernel's ftrace text or `trace-cmd report` output, or\n"
	"`perf script` output, any of them plain or gzip, xz or zstd\n"
	"compressed; - reads stdin - and write its normalized events to FILE, a\n"
	"cowsim event file for `cowsim replay`.\n"
	"\n"
	"  -o, --output FILE       the event file to write; - for stdout (not a\n"
	"                          terminal)\n"
	"  -I, --input-format FMT  what is read: dat, ftrace or perf (default:\n"
	"                          detected from the content)\n"
	"  -P, --pid N             keep the process tree of N\n"
	"      --comm NAME         keep the tree of the first exec of NAME\n"
	"      --sysroot DIR       read exec'd files (ELF program headers) under\n"
	"                          DIR, for a trace of another machine or container\n"
	"  -f, --format FMT        the summary: text (default, on stderr) or json\n"
	"                          (one object on stdout; on stderr with -o -)\n"
	"  -q, --quiet             no warnings, no progress line, no text summary\n"
	"\n"
	"A system-wide trace is cut down to one process tree, followed through\n"
	"forks from its exec: --pid, --comm, or by default the tree of the first\n"
	"process a `cowsim: maps` snapshot describes; without a snapshot,\n"
	"everything.  The summary says what was read: events in and out,\n"
	"processes, forks, execs, lost events, events skipped by name, inferred\n"
	"mappings, unresolved GUPs, kernel-observed outcome labels, and the\n"
	"speed.  Warnings about the input name its file and line (or record);\n"
	"on a terminal a progress line shows the bytes read, the rate and an\n"
	"ETA.\n"
	"Aliases kept from before the grammar (docs/cli.md): --format dat,\n"
	"ftrace or perf is --input-format.\n"
	"\n"
	"examples:\n"
	"  cowsim import traces/real/redis-bgsave.dat -o redis.ev\n"
	"  cowsim import big.ftrace.txt.zst --comm make -o build.ev\n"
	"  cowsim import capture.txt -I ftrace -P 4242 -o cap.ev -f json > sum.json\n"
	"  cowsim import trace.dat -o - | ssh host 'cat > trace.ev'\n"
	"  cowsim replay redis.ev -p all\n";

static const struct option import_opts[] = {
	CLI_OPT_OUTPUT,
	CLI_OPT_INPUT_FORMAT,
	CLI_OPT_FORMAT,
	CLI_OPT_PID,
	CLI_OPT_COMM,
	CLI_OPT_SYSROOT,
	CLI_OPT_QUIET,
	CLI_OPTS_END,
};

/* Letters import used before the grammar gave them to every verb. */
static const struct cli_retired import_retired[] = {
	{ 'p', "-p is --policy in every verb; the process to follow is --pid "
	       "(-P)" },
	{ 'c', "-c is --config in every verb; the command name is --comm" },
	{ 0, NULL },
};

static const struct cli_verb import_verb = {
	.name = "import", .usage = import_usage, .opts = import_opts,
	.retired = import_retired,
};

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
	fprintf(o, "  exec images:      %" PRIu64 " mapped from their ELF headers, %"
	        PRIu64 " overlapping known areas; %" PRIu64 " files missing, %"
	        PRIu64 " not ELF (%" PRIu64 " faults inferred in them)\n",
	        s->exec_images_placed, s->exec_images_conflict,
	        s->exec_images_missing, s->exec_images_bad, s->exec_missing_faults);
	fprintf(o, "  GUP:              %" PRIu64 " O_DIRECT pins; unresolved: %"
	        PRIu64 " vmsplice, %" PRIu64 " io_uring buffer registrations\n",
	        s->odirect_gups, s->unresolved_vmsplice, s->unresolved_io_uring);
	fprintf(o, "  observed labels:  %s: copy %" PRIu64 ", reuse %" PRIu64
	        ", zero-fill %" PRIu64 ", new %" PRIu64 " (lost %" PRIu64 "; %" PRIu64
	        " shared-mapping fills unlabelled)\n",
	        c->labels ? "yes" : "no (no mm_page_alloc)", s->labels_copy,
	        s->labels_reuse, s->labels_zero, s->labels_new, s->labels_lost,
	        s->labels_shared_fill);
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

/* The summary as one JSON object: every counter of struct imp_stats by
 * its name, and what the text summary says besides. */
static void summary_json(FILE *o, const struct ev_source *src,
                         const struct imp_core *c, double secs,
                         const char *outp)
{
	const char *facts[] = { "kernel", "swap_total_kb", "ncpus", "capture" };

	fputs("{\n  \"trace\": ", o);
	esc_json(o, src->path);
	fputs(",\n  \"format\": ", o);
	esc_json(o, src->format);
	fputs(",\n  \"output\": ", o);
	esc_json(o, outp);
	fputs(",\n  \"selection\": ", o);
	esc_json(o, evsrc_meta_get(src, "import_selection"));
	fprintf(o, ",\n  \"bytes\": %" PRIu64 ",\n  \"seconds\": %.6f,\n"
	        "  \"labels\": %s", src->bytes_total, secs,
	        c->labels ? "true" : "false");
	for (size_t i = 0; i < imp_nstats(); i++)
		fprintf(o, ",\n  \"%s\": %" PRIu64, imp_stat_name(i, NULL),
		        imp_stat_get(&c->st, i));
	fputs(",\n  \"skipped_by_kind\": {", o);
	for (size_t i = 0; i < c->nskip; i++) {
		fputs(i ? ", " : "", o);
		esc_json(o, c->skip[i].name);
		fprintf(o, ": %" PRIu64, c->skip[i].n);
	}
	if (c->skip_other)
		fprintf(o, "%s\"others\": %" PRIu64, c->nskip ? ", " : "",
		        c->skip_other);
	fputs("},\n  \"trace_facts\": {", o);
	for (size_t i = 0, n = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		const char *v = evsrc_meta_get(src, facts[i]);
		if (!v)
			continue;
		fprintf(o, "%s\"%s\": ", n++ ? ", " : "", facts[i]);
		esc_json(o, v);
	}
	fputs("}\n}\n", o);
}

int cmd_import(int argc, char **argv)
{
	static const char *const summaries[] = { "text", "json", NULL };
	struct cli_common co;
	int c, json = 0;

	cli_common_init(&co);
	while ((c = cli_getopt(&import_verb, &co, argc, argv)) >= 0)
		;       /* every option of import's is a shared one */
	cli_common_free(&co);
	if (c != CLI_END)
		return cli_exit_status(c);
	struct evsrc_opts so = { .format = co.infmt, .pid = co.pid,
	                         .comm = co.comm, .quiet = co.quiet,
	                         .sysroot = co.sysroot };
	if (co.format) {
		/* Before the grammar, import's --format named what is read; the
		 * two sets of names are apart, so the old spelling still works. */
		int input = 0;
		for (const char *const *f = evsrc_formats; *f; f++)
			input |= !strcmp(*f, co.format);
		if (input && co.infmt && strcmp(co.infmt, co.format))
			return cli_usage_error(&import_verb, "--format %s (the old "
			                       "spelling of --input-format) and "
			                       "--input-format %s disagree",
			                       co.format, co.infmt);
		if (input)
			so.format = co.format;
		else if ((json = cli_choice(&import_verb, "--format", co.format,
		                            summaries)) < 0)
			return 2;
	}
	if (optind >= argc)
		return cli_usage_error(&import_verb, "no TRACE to import");
	if (optind + 1 != argc)
		return cli_usage_error(&import_verb, "one TRACE at a time");
	const char *outp = co.output;
	if (!outp)
		return cli_usage_error(&import_verb, "-o FILE is required (where to "
		                       "write the events; - for stdout)");
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
	/* stdout is the event file's with -o -: the summary goes beside. */
	FILE *sum = json && strcmp(outp, "-") ? stdout : stderr;
	if (json)
		summary_json(sum, src, core, now_s() - t0, outp);
	else if (!so.quiet)
		summary(sum, src, core, now_s() - t0, outp);
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
