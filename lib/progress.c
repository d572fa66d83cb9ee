/*
 * progress.c - the progress line (progress.h).
 *
 * The clock is looked at every `step` items, step re-estimated at each
 * look from the rate so far so that looks come about twenty times a
 * second whatever an item costs (an event: nanoseconds; a plot: a second).
 * The ETA is the average rate's: el * (1 - f) / f for the fraction f done,
 * steadier than an instantaneous rate on input whose density varies.
 */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOKS_PER_S 20.0
#define STEP_MAX (1u << 20)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int progress_wanted(int quiet)
{
	const char *e = getenv("COWSIM_PROGRESS");
	if (quiet)
		return 0;
	if (e && !strcmp(e, "all"))
		return PROGRESS_ALL;
	if (e && *e)
		return strcmp(e, "0") != 0;
	return isatty(STDERR_FILENO);
}

void progress_init(struct progress *p, int on, const char *what,
                   const char *unit)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->what = what;
	p->unit = unit;
	p->step = 1;
	p->check_at = 1;
	p->t0 = p->last = now_s();
}

static void fmt_secs(char *buf, size_t len, double s)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void draw(struct progress *p, uint64_t items, uint64_t bytes,
                 double now, int final)
{
	double el = now - p->t0;
	double frac = -1;
	char pct[16] = "", by[48] = "", rate[32], eta[32] = "";

	if (p->bytes_total)
		frac = (double)bytes / (double)p->bytes_total;
	else if (p->items_total)
		frac = (double)items / (double)p->items_total;
	if (frac > 1)
		frac = 1;
	/* Read-ahead or a last partial block is not the end: 100% is
	 * progress_done()'s alone. */
	if (!final && frac > 0.999)
		frac = 0.999;
	if (frac >= 0)
		snprintf(pct, sizeof(pct), "%5.1f%% ", 100 * frac);
	if (p->bytes_total)
		snprintf(by, sizeof(by), ", %.1f/%.1f MB", (double)bytes / 1e6,
		         (double)p->bytes_total / 1e6);
	else if (bytes)
		snprintf(by, sizeof(by), ", %.1f MB", (double)bytes / 1e6);
	double r = el > 0 ? (double)items / el : 0;
	if (r >= 1e6)
		snprintf(rate, sizeof(rate), "%.2f M/s", r / 1e6);
	else if (r >= 1e3)
		snprintf(rate, sizeof(rate), "%.1f k/s", r / 1e3);
	else
		snprintf(rate, sizeof(rate), "%.1f/s", r);
	if (!final && frac > 0) {
		char t[16];
		fmt_secs(t, sizeof(t), el * (1 - frac) / frac);
		snprintf(eta, sizeof(eta), ", ETA %s", t);
	} else if (!final && frac == 0) {
		snprintf(eta, sizeof(eta), ", ETA ?");
	} else if (final) {
		char t[16];
		fmt_secs(t, sizeof(t), el);
		snprintf(eta, sizeof(eta), " in %s", t);
	}
	fprintf(stderr, "\r%s: %s%" PRIu64 " %s%s, %s%s%s", p->what, pct, items,
	        p->unit, by, rate, eta,
	        isatty(STDERR_FILENO) ? "\033[K" : "   ");
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	p->drawn = !final;
}

void progress_update(struct progress *p, uint64_t items, uint64_t bytes)
{
	double now = now_s();
	double el = now - p->t0;
	if (p->on == PROGRESS_ALL) {
		p->check_at = items + 1;
		draw(p, items, bytes, now, 0);
		return;
	}
	if (el > 0 && items) {
		double per_s = (double)items / el;
		uint64_t s = (uint64_t)(per_s / LOOKS_PER_S);
		p->step = s < 1 ? 1 : s > STEP_MAX ? STEP_MAX : s;
	}
	p->check_at = items + p->step;
	if (now - p->last < PROGRESS_INTERVAL)
		return;
	p->last = now;
	draw(p, items, bytes, now, 0);
}

void progress_done(struct progress *p, uint64_t items, uint64_t bytes)
{
	if (!p->on)
		return;
	draw(p, items, p->bytes_total ? p->bytes_total : bytes, now_s(), 1);
	p->on = 0;
}

void progress_abort(struct progress *p)
{
	if (p->on && p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
	p->on = 0;
}
