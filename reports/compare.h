/*
 * compare.h - the policies side by side, per trace, as text: the body of
 * `cowsim compare` (which loads stored runs with rep_load()) and of what
 * `cowsim replay` prints for table and markdown (the runs it just did,
 * rep_add_replay()), so that the two verbs show the same runs the same way.
 *
 * Formats: table is for people (metric rows, policy columns, aligned, rows
 * that are zero under every policy left out, values in human units: counts
 * with thousands separators, times in ns/µs/ms/s, sizes in KiB/MiB/GiB);
 * markdown is the same table for a pull request or a mailing-list post, one
 * collapsible <details> section per trace; csv and json are for programs
 * (one record per trace and policy, every metric, exact values, the same
 * columns for every trace; `replay` keeps its own record layout, see
 * cmp_opts.replay_records).
 *
 * With a baseline, each other policy's value is followed by its absolute
 * delta to the baseline policy's value on the same trace (+1, -3,412) and
 * its ratio ("new" where the baseline is 0); a trace with no run of the
 * baseline gets neither (its csv columns are empty, its json records have
 * none).
 *
 * A row is "changed" when some policy's value differs from the baseline's
 * (without a baseline: from the first policy's).  replay_seconds and
 * memory_peak_bytes, what the replay cost the machine that ran it, never
 * count as a change.
 */
#ifndef COWSIM_COMPARE_H
#define COWSIM_COMPARE_H

#include <stddef.h>
#include <stdio.h>

struct rep_data;

enum cmp_fmt { CMP_TABLE, CMP_CSV, CMP_JSON, CMP_MARKDOWN };

struct cmp_opts {
	enum cmp_fmt fmt;
	const char *baseline;    /* policy name, or NULL: no deltas/ratios */
	int changed_only;        /* table/markdown: leave out unchanged rows
	                            and say how many were left out */
	int replay_records;      /* csv/json as replay's own records (trace as
	                            given, every engine metric, replay_seconds,
	                            memory_peak_bytes) instead of compare's
	                            (store ids, derived rows) */
};

/* The --format names compare and replay take, NULL-terminated, the first
 * the default; cmp_format_of[i] is what cmp_format_names[i] means. */
extern const char *const cmp_format_names[];
extern const enum cmp_fmt cmp_format_of[];

/* Whether o makes sense as a whole: --changed-only shapes the tables for
 * people, so csv and json (every value, for programs) refuse it.  Returns
 * 0, or -EINVAL with the reason in err. */
int cmp_check(const struct cmp_opts *o, char *err, size_t errlen);

/*
 * Write the comparison of every trace in d to out as o says.  Returns 0,
 * -EINVAL (cmp_check() refused o; nothing written) or -ENOMEM, when out
 * holds part of it (so write to a buffer, and pass it on only on success).
 */
int cmp_write(FILE *out, const struct rep_data *d, const struct cmp_opts *o);

#endif
