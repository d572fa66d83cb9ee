/*
 * config.c - policy configurations from INI text (libinih), the shipped
 * presets, and the canonical dump of a configuration.
 *
 * Every key is described once, in the tables below (name, type, where it
 * lives in struct sim_config, what it models); parsing, validation and
 * cfg_format() all walk the same tables, so a switch added here is
 * documented, parsed and stored with every result at once.
 */
#include "config.h"
#include "pol.h"
#include "../lib/readfile.h"
#include "../lib/suggest.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated at build time from configs/ (*.ini) (see CMakeLists.txt). */
struct cfg_embedded {
	const char *name;
	const char *text;
};
extern const struct cfg_embedded cfg_embedded[];
extern const size_t cfg_nembedded;

enum key_type { K_BOOL, K_U32, K_DOUBLE, K_ENUM };

struct key_desc {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;
	const char *const *enums;   /* K_ENUM: value names, NULL-terminated */
	const char *doc;
	uint32_t max;               /* K_U32: the largest value (0: 2^20) */
};

static const char *const early_cow_names[] = { "none", "pinned", "gupped", NULL };
static const char *const swapin_names[] = { "mapcount", "page-count", "exclusive", NULL };
static const char *const fork_mode_names[] = { "copy", "on-demand", "async", NULL };

#define SW(n, t, doc) { "switches", #n, t, offsetof(struct sim_config, n), NULL, doc, 0 }
#define SWE(n, e, doc) { "switches", #n, K_ENUM, offsetof(struct sim_config, n), e, doc, 0 }
#define CO(n, doc) { "cost", #n, K_DOUBLE, offsetof(struct sim_config, cost.n), NULL, doc, 0 }

static const struct key_desc keys[] = {
	SW(gup_forces_cow_break, K_BOOL, "5.8 17839856fd58: every GUP in a COW mapping breaks COW first"),
	SW(pin_bias, K_U32, "GUP_PIN_COUNTING_BIAS (3faa52c03f44, 5.7); 1 = a pin is a plain reference"),
	SWE(early_cow, early_cow_names, "copy at fork: none, pinned (70e806e4e645, 5.9), gupped (Piggin 2009)"),
	SW(fork_gup_fast_guard, K_BOOL, "57efa1fe5957 (5.11): mm->write_protect_seq stops GUP-fast racing fork"),
	SW(wp_swapcache_opt, K_BOOL, "53a05ad9f21d (5.18): do_wp_page() tolerates the swap cache's reference"),
	SW(wp_lru_drain, K_BOOL, "d4c470970d45 (5.18): do_wp_page() drains the local LRU batch"),
	SWE(swapin, swapin_names, "do_swap_page() reuse: mapcount (<=5.17), page-count (c145e0b47c77, 5.18), exclusive (5.19)"),
	SW(swapin_lru_drain, K_BOOL, "c145e0b47c77 (5.18): drain the local LRU batch before a write swap-in"),
	SW(swapout_skip_pinned, K_BOOL, "feb889fb40fa (5.11): reclaim skips maybe-pinned anon pages"),
	SW(swapout_recheck_pinned, K_BOOL, "5.19: try_to_unmap_one() rechecks pins after clearing the PTE"),
	SW(reuse_ksm, K_BOOL, "52d1e606ee73 (5.1) .. 1a0cf26323c8 (5.9): reuse_ksm_page()"),
	SW(mprotect_excl_writable, K_BOOL, "64fe24a3e05e (6.0): mprotect maps exclusive anon pages writable"),
	SW(ro_pin_unshare, K_BOOL, "a7f226604170 (5.19): R/O pins of shared anon pages unshare first"),
	SW(ro_pin_unshare_nonanon, K_BOOL, "84209e87c696 (6.2): R/O longterm pins unshare zero/page-cache pages in COW mappings"),
	SW(gup_overflow_check, K_BOOL, "8fde12ca79af (5.1): GUP refuses references that would overflow the refcount"),
	SW(zero_page_pin_noref, K_BOOL, "c8070b787519 (6.5): pinning the zero page takes no reference"),
	SW(exit_drains_lru, K_BOOL, "exit_mmap() calls lru_add_drain() on the exiting CPU"),
	SW(munmap_drains_lru, K_BOOL, "unmap_region()/zap_page_range() call lru_add_drain()"),
	{ "switches", "lru_batch", K_U32, offsetof(struct sim_config, lru_batch), NULL,
	  "per-CPU LRU add batch: PAGEVEC_SIZE 14 (<4.x), 15 (..6.8), 31 (9cecde80aae0, 6.9)",
	  1024 },
	SWE(fork_mode, fork_mode_names, "fork design: copy (mainline), on-demand (On-demand-fork, EuroSys 2021), async (Async-fork, PVLDB 2023)"),
	CO(fork_base_ns, "fork() of a process with an empty address space"),
	CO(vfork_base_ns, "vfork()/clone(CLONE_VM): no address-space copy"),
	CO(fork_per_vma_ns, "per inherited VMA (vm_area_dup, anon_vma_fork)"),
	CO(fork_per_pt_page_ns, "per page-table page allocated for the child"),
	CO(fork_per_pte_ns, "per PTE copied (refcount, mapcount, write-protect)"),
	CO(fork_per_copy_ns, "per page copied at fork (early COW)"),
	CO(fault_base_ns, "per page fault, entry to exit"),
	CO(fault_per_copy_ns, "extra per fault that copies a page"),
	CO(fault_per_zero_ns, "extra per fault that allocates a zeroed page"),
	CO(fork_per_shared_pt_ns, "fork_mode on-demand: per PTE table shared at fork"),
	CO(fork_per_copied_vma_ns, "extra per inherited VMA with PTEs copied (copy_page_range)"),
	CO(fork_per_file_vma_ns, "extra per inherited VMA mapping a file (i_mmap insertion)"),
	CO(fork_per_wrprotect_ns, "extra per PTE fork write-protects in the parent (ptep_set_wrprotect)"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *embedded_text(const char *name);

/* The registry's model named `name`, or NULL. */
static const struct pol_ops *find_model(const char *name)
{
	for (const struct pol_ops *const *m = pol_registry; *m; m++)
		if (!strcmp((*m)->name, name))
			return *m;
	return NULL;
}

void cfg_defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "custom");
	c->model = find_model("anon-exclusive");
	assert(c->model);
	c->pin_bias = 1024;
	c->early_cow = EARLY_COW_PINNED;
	c->fork_gup_fast_guard = true;
	c->wp_swapcache_opt = true;
	c->wp_lru_drain = true;
	c->swapin = SWAPIN_EXCLUSIVE;
	c->swapin_lru_drain = true;
	c->swapout_skip_pinned = true;
	c->swapout_recheck_pinned = true;
	c->mprotect_excl_writable = true;
	c->ro_pin_unshare = true;
	c->ro_pin_unshare_nonanon = true;
	c->gup_overflow_check = true;
	c->zero_page_pin_noref = true;
	c->exit_drains_lru = true;
	c->munmap_drains_lru = true;
	c->lru_batch = 31;
	/* Costs: the x86-64 preset, whose sources are written beside it. */
	char err[256];
	const char *text = embedded_text("cost-x86-64");
	int r = text ? cfg_apply_text(c, "configs/cost-x86-64.ini", text, err,
	                              sizeof(err)) : -ENOENT;
	assert(r == 0);
	(void)r;
	snprintf(c->cost_preset, sizeof(c->cost_preset), "x86-64");
}

const char *cfg_model_name(const struct pol_ops *m)
{
	return m->name;
}

struct parse_ctx {
	struct sim_config *c;
	const char *origin;
	char *err;
	size_t errlen;
	int depth;
	bool failed;
};

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
	         !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static void fail(struct parse_ctx *p, const char *fmt, const char *a,
                 const char *b)
{
	if (p->failed)
		return;
	p->failed = true;
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, a, b);
	snprintf(p->err, p->errlen, "%s", msg);
}

static int load_cost_preset(struct parse_ctx *p, const char *name);

/* "a, b, c": the names of the registry's models, for the message that
 * rejects an unknown one. */
static void model_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct pol_ops *const *m = pol_registry; *m && n < len; m++) {
		int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", (*m)->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static int set_key(struct parse_ctx *p, const char *section, const char *name,
                   const char *value)
{
	struct sim_config *c = p->c;

	if (!strcmp(section, "policy")) {
		if (!strcmp(name, "name"))
			snprintf(c->name, sizeof(c->name), "%s", value);
		else if (!strcmp(name, "kernel"))
			snprintf(c->kernel, sizeof(c->kernel), "%s", value);
		else if (!strcmp(name, "description"))
			snprintf(c->description, sizeof(c->description), "%s", value);
		else if (!strcmp(name, "model")) {
			const struct pol_ops *m = find_model(value);
			if (!m) {
				char known[160], msg[200], near[160];
				struct suggest sg;
				model_list(known, sizeof(known));
				suggest_init(&sg, value);
				for (const struct pol_ops *const *m = pol_registry; *m; m++)
					suggest_add(&sg, (*m)->name);
				snprintf(msg, sizeof(msg), "unknown model '%s'%s", value,
				         suggest_format(&sg, NULL, near, sizeof(near)));
				fail(p, "%s (%s)", msg, known);
				return 0;
			}
			c->model = m;
		} else if (!strcmp(name, "cost")) {
			return load_cost_preset(p, value);
		} else {
			static const char *const policy_keys[] = { "name", "kernel",
				"description", "model", "cost" };
			struct suggest sg;
			char near[160];
			suggest_init(&sg, name);
			for (size_t i = 0; i < sizeof(policy_keys) / sizeof(*policy_keys); i++)
				suggest_add(&sg, policy_keys[i]);
			fail(p, "unknown key '%s' in [policy]%s", name,
			     suggest_format(&sg, NULL, near, sizeof(near)));
			return 0;
		}
		return 1;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_desc *k = &keys[i];
		if (strcmp(k->section, section) || strcmp(k->name, name))
			continue;
		char *at = (char *)c + k->off;
		char *end;
		if (!strcmp(section, "cost") && p->depth == 0)
			c->cost_preset[0] = '\0';
		switch (k->type) {
		case K_BOOL:
			if (parse_bool(value, (bool *)at)) {
				fail(p, "'%s' must be true or false, not '%s'", name, value);
				return 0;
			}
			return 1;
		case K_U32: {
			unsigned long v = strtoul(value, &end, 10);
			unsigned long max = k->max ? k->max : 1u << 20;
			if (!*value || *end || v == 0 || v > max) {
				char what[64];
				snprintf(what, sizeof(what), "'%s' must be an integer from 1 "
				         "to %lu", name, max);
				fail(p, "%s, not '%s'", what, value);
				return 0;
			}
			*(uint32_t *)at = (uint32_t)v;
			return 1;
		}
		case K_DOUBLE: {
			double v = strtod(value, &end);
			if (!*value || *end || !(v >= 0 && v < 1e12)) {
				fail(p, "'%s' must be a non-negative number of ns, not '%s'", name,
				     value);
				return 0;
			}
			*(double *)at = v;
			return 1;
		}
		case K_ENUM:
			for (int m = 0; k->enums[m]; m++) {
				if (!strcmp(k->enums[m], value)) {
					*(int *)at = m;
					return 1;
				}
			}
			fail(p, "'%s' has no value '%s'", name, value);
			return 0;
		}
	}
	/* The nearest known names: of the sections, or of this section's
	 * keys (a key that belongs in another section is named with it). */
	struct suggest sg;
	char near[160], msg[200];
	if (strcmp(section, "switches") && strcmp(section, "cost")) {
		static const char *const sections[] = { "policy", "switches", "cost" };
		suggest_init(&sg, section);
		for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++)
			suggest_add(&sg, sections[i]);
		fail(p, "unknown section [%s]%s", section,
		     suggest_format(&sg, NULL, near, sizeof(near)));
		return 0;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name)) {
			fail(p, "'%s' belongs in [%s]", name, keys[i].section);
			return 0;
		}
	suggest_init(&sg, name);
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section))
			suggest_add(&sg, keys[i].name);
	snprintf(msg, sizeof(msg), "unknown key '%s' in [%s]", name, section);
	fail(p, "%s%s", msg, suggest_format(&sg, NULL, near, sizeof(near)));
	return 0;
}

static int handler(void *user, const char *section, const char *name,
                   const char *value)
{
	struct parse_ctx *p = user;
	if (p->failed)
		return 1;
	return set_key(p, section, name, value);
}

/*
 * What inih gets wrong about the place of an error: a line longer than its
 * buffer (ini_max_line, as the library was built) is split, and the rest
 * read as a line of its own, so the error lands on a line that may not
 * exist; and "[policy" with no "]" is reported as a key in a section named
 * "".  Both are found here first.  Returns 0 or -EINVAL with the message.
 */
static int prescan(struct parse_ctx *p, const char *text)
{
	int line = 1;
	for (const char *l = text; *l; line++) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		const char *t = l;
		while (t < l + len && (*t == ' ' || *t == '\t'))
			t++;
		/* inih keeps 3 bytes of its buffer for "\r\n\0" */
		if (len + 3 > (size_t)ini_max_line) {
			snprintf(p->err, p->errlen, "%s:%d: line of %zu characters: "
			         "the INI reader takes at most %d", p->origin, line, len,
			         ini_max_line - 3);
			return -EINVAL;
		}
		if (t < l + len && *t == '[' && !memchr(t, ']', len - (size_t)(t - l))) {
			snprintf(p->err, p->errlen, "%s:%d: section header '%.*s' has no "
			         "closing ']'", p->origin, line, (int)(len - (size_t)(t - l)),
			         t);
			return -EINVAL;
		}
		l += len + (nl ? 1 : 0);
	}
	return 0;
}

static int parse(struct parse_ctx *p, const char *text)
{
	if (prescan(p, text))
		return -EINVAL;
	int line = ini_parse_string(text, handler, p);
	if (line < 0) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->origin);
		return -ENOMEM;
	}
	if (line > 0 || p->failed) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", p->failed ? p->err : "syntax error");
		if (line > 0)
			snprintf(p->err, p->errlen, "%s:%d: %s", p->origin, line, msg);
		else
			snprintf(p->err, p->errlen, "%s: %s", p->origin, msg);
		return -EINVAL;
	}
	return 0;
}

static const char *embedded_text(const char *name)
{
	for (size_t i = 0; i < cfg_nembedded; i++)
		if (!strcmp(cfg_embedded[i].name, name))
			return cfg_embedded[i].text;
	return NULL;
}

/* [policy] cost = NAME: the [cost] section of configs/cost-NAME.ini. */
static int load_cost_preset(struct parse_ctx *p, const char *name)
{
	char full[96];
	snprintf(full, sizeof(full), "cost-%s", name);
	const char *text = embedded_text(full);
	if (!text) {
		struct suggest sg;
		char near[160];
		suggest_init(&sg, name);
		for (size_t i = 0; i < cfg_nembedded; i++)
			if (!strncmp(cfg_embedded[i].name, "cost-", 5))
				suggest_add(&sg, cfg_embedded[i].name + 5);
		fail(p, "unknown cost preset '%s'%s", name,
		     suggest_format(&sg, NULL, near, sizeof(near)));
		return 0;
	}
	if (p->depth > 0) {
		fail(p, "cost preset '%s' names another preset%s", name, "");
		return 0;
	}
	struct parse_ctx sub = { .c = p->c, .origin = full, .err = p->err,
	                         .errlen = p->errlen, .depth = p->depth + 1 };
	if (parse(&sub, text)) {
		p->failed = true;
		return 0;
	}
	snprintf(p->c->cost_preset, sizeof(p->c->cost_preset), "%s", name);
	return 1;
}

int cfg_apply_text(struct sim_config *c, const char *origin, const char *text,
                   char *err, size_t errlen)
{
	struct parse_ctx p = { .c = c, .origin = origin, .err = err,
	                       .errlen = errlen };
	return parse(&p, text);
}

int cfg_load_text(struct sim_config *c, const char *origin, const char *text,
                  char *err, size_t errlen)
{
	int r = cfg_apply_text(c, origin, text, err, errlen);
	if (r)
		return r;
	free(c->text);
	c->text = strdup(text);
	return c->text ? 0 : -ENOMEM;
}

int cfg_load_file(struct sim_config *c, const char *path, char *err,
                  size_t errlen)
{
	char *buf;
	size_t len, nul;
	int r = read_text_file(path, 1u << 22, "a configuration", &buf, &len, &nul,
	                       err, errlen);
	if (r)
		return r;
	r = cfg_load_text(c, strcmp(path, "-") ? path : "<stdin>", buf, err,
	                  errlen);
	free(buf);
	return r;
}

long cfg_preset_find(const char *name, char *err, size_t errlen)
{
	struct suggest sg;
	char near[256];

	suggest_init(&sg, name);
	for (size_t i = 0; i < cfg_npresets(); i++) {
		if (!strcmp(cfg_preset_name(i), name))
			return (long)i;
		suggest_add(&sg, cfg_preset_name(i));
	}
	snprintf(err, errlen, "no policy preset named '%s'%s (see `cowsim "
	         "policies`)", name, suggest_format(&sg, NULL, near, sizeof(near)));
	return -1;
}

int cfg_load_preset(struct sim_config *c, const char *name, char *err,
                    size_t errlen)
{
	if (cfg_preset_find(name, err, errlen) < 0)
		return -ENOENT;
	const char *text = embedded_text(name);
	char origin[128];
	snprintf(origin, sizeof(origin), "configs/%s.ini", name);
	return cfg_load_text(c, origin, text, err, errlen);
}

void cfg_release(struct sim_config *c)
{
	free(c->text);
	c->text = NULL;
}

size_t cfg_npresets(void)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg_nembedded; i++)
		if (strncmp(cfg_embedded[i].name, "cost-", 5))
			n++;
	return n;
}

static size_t preset_index(size_t i)
{
	for (size_t k = 0; k < cfg_nembedded; k++) {
		if (!strncmp(cfg_embedded[k].name, "cost-", 5))
			continue;
		if (i-- == 0)
			return k;
	}
	return cfg_nembedded;
}

const char *cfg_preset_name(size_t i)
{
	size_t k = preset_index(i);
	return k < cfg_nembedded ? cfg_embedded[k].name : NULL;
}

/* Keys that only a fork design other than copy reads: under copy they are
 * left out of cfg_format()'s dump, so that a configuration under copy dumps
 * - and is keyed in the results store - as it did before fork_mode.  The
 * write-protect term likewise while it is 0 (it prices nothing then): the
 * presets that do not set it key as they did before it existed. */
static bool key_inert(const struct sim_config *c, const struct key_desc *k)
{
	if (k->off == offsetof(struct sim_config, cost.fork_per_wrprotect_ns))
		return c->cost.fork_per_wrprotect_ns == 0;
	return c->fork_mode == FORK_COPY &&
	       (k->off == offsetof(struct sim_config, fork_mode) ||
	        k->off == offsetof(struct sim_config, cost.fork_per_shared_pt_ns));
}

size_t cfg_format(const struct sim_config *c, char *buf, size_t len)
{
	size_t n = 0;
	/* buf may be NULL (len 0) to measure: NULL + 0 is undefined in C. */
#define OUT(...) do { int w_ = snprintf(buf ? buf + (n < len ? n : len) : NULL, \
	n < len ? len - n : 0, __VA_ARGS__); if (w_ > 0) n += (size_t)w_; } while (0)
	OUT("[policy]\nname = %s\nmodel = %s\n", c->name, cfg_model_name(c->model));
	if (c->kernel[0])
		OUT("kernel = %s\n", c->kernel);
	if (c->description[0])
		OUT("description = %s\n", c->description);
	const char *sec = "";
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_desc *k = &keys[i];
		const char *at = (const char *)c + k->off;
		if (key_inert(c, k))
			continue;
		if (strcmp(sec, k->section)) {
			sec = k->section;
			OUT("\n[%s]\n", sec);
		}
		switch (k->type) {
		case K_BOOL: OUT("%s = %s\n", k->name, *(const bool *)at ? "true" : "false"); break;
		case K_U32: OUT("%s = %u\n", k->name, *(const uint32_t *)at); break;
		case K_DOUBLE: OUT("%s = %g\n", k->name, *(const double *)at); break;
		case K_ENUM: OUT("%s = %s\n", k->name, k->enums[*(const int *)at]); break;
		}
	}
#undef OUT
	return n;
}

const char *cfg_key_doc(size_t i, const char **section, const char **name)
{
	if (i >= NKEYS)
		return NULL;
	*section = keys[i].section;
	*name = keys[i].name;
	return keys[i].doc;
}
