/*
 * compare.h - the policies side by side, per trace, as text: the body of
 * `cowsim compare` (the verb, cli/cmd_compare.c, reads its options and
 * loads the runs with rep_load(); this writes them out).
 *
 * Formats: table is for people (metric rows, policy columns, aligned, rows
 * that are zero under every policy left out); csv and json are for programs
 * (one record per trace and policy, every metric, the same columns for
 * every trace); markdown is for a review or a mailing-list post.
 *
 * With a baseline, each value is shown with its ratio to the baseline
 * policy's on the same trace; a trace with no run of the baseline gets no
 * ratios (its csv ratio columns are empty, its json records have none).
 */
#ifndef COWSIM_COMPARE_H
#define COWSIM_COMPARE_H

#include <stdio.h>

struct rep_data;

enum cmp_fmt { CMP_TABLE, CMP_CSV, CMP_JSON, CMP_MARKDOWN };

/*
 * Write the comparison of every trace in d to out, in fmt, with ratios to
 * the policy named baseline (NULL: none).  Returns 0, or -ENOMEM, when out
 * holds part of it (so write to a buffer, and pass it on only on success).
 */
int cmp_write(FILE *out, const struct rep_data *d, enum cmp_fmt fmt,
              const char *baseline);

#endif
