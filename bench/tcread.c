/*
 * tcread.c - the reference point for trace.dat import speed: libtracecmd's
 * own iteration over a trace.dat, reading three fields of every record and
 * doing nothing else (reference/tracing.md section 5: "iterate + read 3
 * fields, no output").  `cowsim import` must reach 80% of this rate.
 *
 * It uses the same pull API and open flags as the importer
 * (tracecmd_read_next_data, TRACECMD_FL_LOAD_NO_PLUGINS), and reads
 * common_pid plus two fields of page_fault_user (or of the record's own
 * event) through pre-resolved tep_format_field pointers, so that the
 * comparison is of work done per record, not of API choice.
 *
 * usage: tcread TRACE.dat   -> prints "records=N seconds=S rate=R"
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <trace-cmd.h>

extern struct tep_record *tracecmd_read_next_data(struct tracecmd_input *h,
                                                  int *rec_cpu);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tcread TRACE.dat\n");
		return 2;
	}
	double t0 = now_s();
	struct tracecmd_input *h = tracecmd_open(argv[1], TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h) {
		fprintf(stderr, "tcread: cannot open %s\n", argv[1]);
		return 2;
	}
	struct tep_handle *tep = tracecmd_get_tep(h);
	struct tep_event *pf = tep_find_event_by_name(tep, "exceptions",
	                                              "page_fault_user");
	struct tep_format_field *f_addr = pf ? tep_find_field(pf, "address") : NULL;
	struct tep_format_field *f_err = pf ? tep_find_field(pf, "error_code") : NULL;
	struct tep_record *r;
	unsigned long long n = 0, sum = 0, v;
	int cpu;

	while ((r = tracecmd_read_next_data(h, &cpu))) {
		int pid = tep_data_pid(tep, r);
		sum += (unsigned)pid;
		if (pf && tep_data_type(tep, r) == pf->id) {
			tep_read_number_field(f_addr, r->data, &v);
			sum += v;
			tep_read_number_field(f_err, r->data, &v);
			sum += v;
		}
		n++;
		tracecmd_free_record(r);
	}
	tracecmd_close(h);
	double s = now_s() - t0;
	printf("records=%llu seconds=%.3f rate=%.0f check=%llu\n", n, s,
	       s > 0 ? (double)n / s : 0, sum & 0xff);
	return 0;
}
