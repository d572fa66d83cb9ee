/*
 * cli.c - the helpers every verb shares (see cli.h): messages, numbers,
 * the grammar - the options that mean the same to every verb, parsed,
 * and their mistakes reported, here and nowhere else - and --db, whose
 * store is opened here so that each verb that reads or writes it fails,
 * and reports a migration, in the same words.
 *
 * Mistakes on the command line get two lines, as git's do: what was wrong
 * (with the nearest correct spelling, lib/suggest.h) and where the help
 * is.  getopt_long()'s own messages are silenced (opterr = 0) because
 * they can say neither.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../lib/readfile.h"
#include "../lib/suggest.h"
#include "../lib/version.h"
#include "../reports/rep.h"
#include "../reports/store.h"
#include "../importers/scn.h"
#include "../sim/config.h"
#include "../sim/sim.h"

int cli_die(const char *fmt, ...)
{
	va_list ap;
	fputs("cowsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int cli_push_arg(const char ***v, size_t *n, const char *arg)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return cli_die("out of memory");
	*v = nv;
	nv[(*n)++] = arg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the grammar                                                        */

void cli_common_init(struct cli_common *co)
{
	*co = (struct cli_common){ .dbpath = STORE_DEFAULT_DB };
}

void cli_common_free(struct cli_common *co)
{
	free(co->traces);
	co->traces = NULL;
	co->ntraces = 0;
}

int cli_version(void)
{
	printf("cowsim %s\n", cowsim_version());
	return 0;
}

int cli_usage_error(const struct cli_verb *v, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cowsim %s: ", v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cowsim %s --help'.\n", v->name);
	return 2;
}

int cli_choice(const struct cli_verb *v, const char *opt, const char *arg,
               const char *const *names)
{
	char list[256] = "", near[256];
	size_t used = 0, n = 0;
	struct suggest sg;

	if (!arg)
		return 0;
	suggest_init(&sg, arg);
	for (n = 0; names[n]; n++) {
		if (!strcmp(names[n], arg))
			return (int)n;
		suggest_add(&sg, names[n]);
	}
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s",
		                 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	cli_usage_error(v, "%s must be %s, not '%s'%s", opt, list, arg,
	                suggest_format(&sg, NULL, near, sizeof(near)));
	return -1;
}

/* The option of v's table whose val is val, or NULL. */
static const struct option *opt_by_val(const struct cli_verb *v, int val)
{
	for (const struct option *o = v->opts; o->name; o++)
		if (o->val == val)
			return o;
	return NULL;
}

/* "--name" or "-X", as the user typed it (typed: the argv element). */
static void opt_spelling(const struct cli_verb *v, int val, const char *typed,
                         char *buf, size_t len)
{
	const struct option *o = opt_by_val(v, val);
	if (o && (val >= CLI_LONG_ONLY || !strncmp(typed, "--", 2)))
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", val);
}

/* An unknown or ambiguous --word[=value]: name it, with the options of v
 * it may have meant. */
static int bad_long_option(const struct cli_verb *v, const char *typed)
{
	char word[64], near[256];
	size_t len = strcspn(typed + 2, "=");
	struct suggest sg;
	const char *prefixed[SUGGEST_MAX];
	size_t nprefixed = 0;

	snprintf(word, sizeof(word), "%.*s", (int)(len < 63 ? len : 63),
	         typed + 2);
	len = strlen(word);
	for (const struct option *o = v->opts; o->name; o++)
		if (len && !strncmp(o->name, word, len) && nprefixed < SUGGEST_MAX)
			prefixed[nprefixed++] = o->name;
	if (nprefixed > 1) {
		/* getopt_long() refuses an abbreviation of two options. */
		struct suggest amb = { .word = word, .n = nprefixed };
		memcpy(amb.cand, prefixed, nprefixed * sizeof(*prefixed));
		suggest_format(&amb, "--", near, sizeof(near));
		return cli_usage_error(v, "option '--%s' is ambiguous%s", word, near);
	}
	suggest_init(&sg, word);
	for (const struct option *o = v->opts; o->name; o++)
		suggest_add(&sg, o->name);
	return cli_usage_error(v, "unknown option '--%s'%s", word,
	                       suggest_format(&sg, "--", near, sizeof(near)));
}

/* getopt_long() said '?' (opterr is 0, so it said nothing else). */
static int bad_option(const struct cli_verb *v, char **argv)
{
	const char *typed = argv[optind - 1];
	char name[80];

	if (!strncmp(typed, "--", 2)) {
		if (!optopt)
			return bad_long_option(v, typed);
		opt_spelling(v, optopt, typed, name, sizeof(name));
		return cli_usage_error(v, "option '%s' takes no value", name);
	}
	for (const struct cli_retired *r = v->retired; r && r->letter; r++)
		if (r->letter == optopt)
			return cli_usage_error(v, "unknown option '-%c': %s", optopt,
			                       r->hint);
	if (optopt > ' ' && optopt < 127)
		return cli_usage_error(v, "unknown option '-%c'", optopt);
	return cli_usage_error(v, "unknown option '%s'", typed);
}

/* The shared option c, with its value arg: kept in co.  Returns 0, or
 * CLI_EXIT_USAGE after saying what was wrong with the value. */
static int common_opt(const struct cli_verb *v, struct cli_common *co, int c,
                      const char *arg)
{
	uint64_t pid;

	switch (c) {
	case 'D': co->dbpath = arg; break;
	case 'p': co->policy = arg; break;
	case 'q': co->quiet = 1; break;
	case 'f': co->format = arg; break;
	case 'I': co->infmt = arg; break;
	case 'o': co->output = arg; break;
	case CLI_OPT_COMM_VAL: co->comm = arg; break;
	case CLI_OPT_SYSROOT_VAL: co->sysroot = arg; break;
	case 't':
		if (cli_push_arg(&co->traces, &co->ntraces, arg))
			return CLI_EXIT_USAGE;
		break;
	case 'P':
		if (cli_parse_u64(arg, &pid) || !pid || pid > INT32_MAX) {
			cli_usage_error(v, "--pid: '%s' is not a pid", arg);
			return CLI_EXIT_USAGE;
		}
		co->pid = (uint32_t)pid;
		break;
	}
	return 0;
}

int cli_getopt(const struct cli_verb *v, struct cli_common *co, int argc,
               char **argv)
{
	/* The short string, from the table: a leading ':' makes a missing
	 * value ':' rather than '?'. */
	char shorts[160] = ":";
	size_t n = 1;
	for (const struct option *o = v->opts; o->name; o++) {
		if (o->val <= 0 || o->val >= CLI_LONG_ONLY || n + 3 >= sizeof(shorts))
			continue;
		shorts[n++] = (char)o->val;
		if (o->has_arg != no_argument)
			shorts[n++] = ':';
		if (o->has_arg == optional_argument)
			shorts[n++] = ':';
	}
	shorts[n] = '\0';

	opterr = 0;
	for (;;) {
		char name[80];
		int c = getopt_long(argc, argv, shorts, v->opts, NULL), r;

		switch (c) {
		case -1:
			return CLI_END;
		case 'h':
			fputs(v->usage, stdout);
			return CLI_EXIT_OK;
		case 'V':
			cli_version();
			return CLI_EXIT_OK;
		case ':':
			opt_spelling(v, optopt, argv[optind - 1], name, sizeof(name));
			cli_usage_error(v, "option '%s' needs a value", name);
			return CLI_EXIT_USAGE;
		case '?':
			bad_option(v, argv);
			return CLI_EXIT_USAGE;
		case 'D': case 'p': case 'q': case 'f': case 'I': case 'o':
		case 't': case 'P': case CLI_OPT_COMM_VAL: case CLI_OPT_SYSROOT_VAL:
			if ((r = common_opt(v, co, c, optarg)))
				return r;
			continue;
		}
		return c;
	}
}

int cli_open_store(const char *path, int flags, struct store **out)
{
	char err[1024];
	struct store *s;

	if (store_open(path, flags, &s, err, sizeof(err)))
		return cli_die("%s", err);
	if (s->version && s->version < STORE_SCHEMA_VERSION)
		fprintf(stderr, "cowsim: %s: migrated from schema version %d to %d\n",
		        path, s->version, STORE_SCHEMA_VERSION);
	*out = s;
	return 0;
}

int cli_load_runs(const struct cli_common *co, struct store *s,
                  struct rep_data *d)
{
	char err[1024];

	if (rep_load(store_db(s), co->traces, co->ntraces, co->policy, d, err,
	             sizeof(err)))
		return cli_die("%s: %s", co->dbpath, err);
	return 0;
}

int cli_scn_check(const struct scn *s)
{
	for (size_t k = 0; k < s->nexp; k++) {
		const struct scn_expect *x = &s->exp[k];
		for (size_t j = 0; j < x->nchecks; j++) {
			const struct scn_check *ck = &x->checks[j];
			if (ck->kind == 0 && sim_metric_find(ck->metric) < 0)
				return cli_die("%s:%u:%u: unknown metric '%s'", s->path,
				               x->line, ck->col, ck->metric);
		}
		/* Each name of the comma-separated list, at its own column. */
		for (const char *t = x->policies; *t;) {
			size_t len = strcspn(t, ",");
			char name[128], perr[512];
			snprintf(name, sizeof(name), "%.*s", (int)len, t);
			if (strcmp(name, "all") &&
			    cfg_preset_find(name, perr, sizeof(perr)) < 0)
				return cli_die("%s:%u:%u: %s", s->path, x->line,
				               x->pcol + (uint32_t)(t - x->policies), perr);
			t += len + (t[len] == ',');
		}
	}
	return 0;
}

int cli_fork_mode(struct sim_config *c, const char *mode, const char *origin)
{
	char text[96], err[512];

	snprintf(text, sizeof(text), "[switches]\nfork_mode = %s\n", mode);
	if (cfg_apply_text(c, origin, text, err, sizeof(err))) {
		/* The text is ours: its line number means nothing. */
		const char *why = strstr(err, ": ");
		return cli_die("%s: %s", origin, why ? why + 2 : err);
	}
	if (c->fork_mode != FORK_COPY) {
		size_t n = strlen(c->name);
		snprintf(c->name + n, sizeof(c->name) - n, "+%s", mode);
	}
	if (c->text) {
		char *t;
		if (asprintf(&t, "%s\n; %s\n%s", c->text, origin, text) < 0)
			return cli_die("out of memory");
		free(c->text);
		c->text = t;
	}
	return 0;
}

/* The most a --cost file may hold: what cfg_load_file() allows a --config
 * file, as the two are the same INI. */
#define COST_FILE_MAX (1u << 22)

int cli_cost_text(const char *cost, char **text, const char **origin)
{
	char err[512];
	size_t len, nul;
	char *buf = NULL;

	*text = NULL;
	*origin = "--cost";
	int rc = read_text_file(cost, COST_FILE_MAX, "a cost file", &buf, &len,
	                        &nul, err, sizeof(err));
	if (rc == -ENOENT) {
		if (asprintf(&buf, "[policy]\ncost = %s\n", cost) < 0)
			return cli_die("out of memory");
	} else if (rc) {
		return cli_die("%s", err);
	} else {
		/* errors name the file's lines */
		*origin = strcmp(cost, "-") ? cost : "<stdin>";
	}
	/* Checked once, before any policy: a bad --cost is one error, and a
	 * name that is neither a file nor a preset is said so (its text is
	 * ours, so its line numbers mean nothing). */
	struct sim_config probe;
	cfg_defaults(&probe);
	if (cfg_apply_text(&probe, *origin, buf, err, sizeof(err))) {
		const char *why = strstr(err, ": ");
		cfg_release(&probe);
		free(buf);
		if (!strcmp(*origin, "--cost"))
			return cli_die("--cost %s: no such file, and %s", cost,
			               why ? why + 2 : err);
		return cli_die("%s", err);
	}
	cfg_release(&probe);
	*text = buf;
	return 0;
}
