/*
 * test_model.c - docs/model.md's "How to add a model", followed once: the
 * toy model of pol_alwayscopy.c is registered by the same build step as
 * sim/'s models (this binary's registry lists it), its ini names it like a
 * preset names its model, and a scenario replayed under it gives the
 * outcome the model promises, next to linux-6.12's.
 *
 * usage: test_model SRCDIR
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "importers/scn.h"
#include "sim/config.h"
#include "sim/pol.h"
#include "sim/sim.h"

/* A page only the parent maps again when it writes: the child that shared
 * it has exited. */
static const char scenario[] =
	"process P\n"
	"mmap P mem 4\n"
	"write P mem 4       # fresh pages: no copy\n"
	"fork P C\n"
	"exit C              # the pages are P's alone again\n"
	"write P mem 4       # 6.12 reuses them; always-copy copies\n";

/* Replay s under cfg, checking the engine's invariants after every event. */
static struct sim_metrics replay(const struct scn *s,
                                 const struct sim_config *cfg)
{
	struct sim_metrics m = { 0 };
	struct sim_engine *e;
	char err[512];

	if (sim_create(cfg, &e)) {
		CHECK(!"sim_create");
		return m;
	}
	sim_set_swap(e, s->swap);
	for (size_t i = 0; i < s->nev; i++) {
		CHECK(sim_apply(e, &s->ev[i]) == 0);
		if (sim_check(e, err, sizeof(err))) {
			fprintf(stderr, "%s: event %zu: %s\n", cfg->name, i, err);
			check_failures++;
			break;
		}
	}
	sim_finish(e);
	m = *sim_metrics(e);
	sim_destroy(e);
	return m;
}

int main(int argc, char **argv)
{
	struct sim_config toy, ref;
	struct scn s;
	char err[512], path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: test_model SRCDIR\n");
		return 2;
	}

	/* Registered by the build, not by any code. */
	size_t n = 0;
	for (const struct pol_ops *const *m = pol_registry; *m; m++)
		n += !strcmp((*m)->name, "always-copy");
	CHECK_EQ(n, 1);

	/* Its ini resolves to it; an unknown model's message lists it. */
	snprintf(path, sizeof(path), "%s/tests/data/always-copy.ini", argv[1]);
	cfg_defaults(&toy);
	if (cfg_load_file(&toy, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(!strcmp(cfg_model_name(toy.model), "always-copy"));
	cfg_defaults(&ref);
	CHECK(cfg_load_text(&ref, "t.ini", "[policy]\nmodel = never-copy\n", err,
	                    sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "t.ini:2: unknown model 'never-copy'"));
	CHECK(strstr(err, "always-copy"));
	cfg_release(&ref);

	cfg_defaults(&ref);
	CHECK(cfg_load_preset(&ref, "linux-6.12", err, sizeof(err)) == 0);
	CHECK(scn_parse_text("toy.scn", scenario, &s, err, sizeof(err)) == 0);
	struct sim_metrics mt = replay(&s, &toy), mr = replay(&s, &ref);
	CHECK_EQ(mr.copies_fault, 0);
	CHECK_EQ(mt.copies_fault, 4);
	CHECK_EQ(mt.unnecessary_copies, 4);
	CHECK_EQ(mt.leaks, 0);
	scn_free(&s);
	cfg_release(&toy);
	cfg_release(&ref);
	CHECK_DONE();
}
