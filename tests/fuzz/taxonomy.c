/* taxonomy.c - fuzz target "taxonomy": a taxonomy file loaded, then used to tag
 * text and read a query. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "taxonomy.h"
#include "understand.h"
#include "util.h"

/* Text that names a bit of everything the built-in taxonomy knows. */
static const char sample[] =
    "My Anker Soundcore 2 won't charge: solid red light, then blinking "
    "white. The JBL flip5 battery drains fast; cable or cord? soundcore "
    "ii not full \xc3\xa9t\xc3\xa9 no light at all.";

static void
check_matches(const char *what, const char *text, const struct kb_match *m,
	      size_t n, size_t entries)
{
	size_t len = strlen(text), i;

	for (i = 0; i < n; i++) {
		KB_FUZZ_CHECK(m[i].index < entries, "%s %zu: entry %zu of %zu",
			      what, i, m[i].index, entries);
		KB_FUZZ_CHECK(m[i].start < m[i].end && m[i].end <= len,
			      "%s %zu: span %zu..%zu of %zu", what, i,
			      m[i].start, m[i].end, len);
	}
}

static void
find_all(const struct kb_taxonomy *t, const char *text)
{
	static const struct {
		const char *what;
		void (*find)(const struct kb_taxonomy *, const char *,
			     struct kb_match **, size_t *);
	} finders[] = {
	    {"model", kb_taxonomy_find_models},
	    {"symptom", kb_taxonomy_find_symptoms},
	    {"colour", kb_taxonomy_find_colors},
	    {"pattern", kb_taxonomy_find_patterns},
	};
	const size_t count[] = {t->nmodels, t->nsymptoms, t->ncolors,
				t->npatterns};
	size_t i;

	for (i = 0; i < sizeof(finders) / sizeof(*finders); i++) {
		struct kb_match *m = NULL;
		size_t n = 0;

		finders[i].find(t, text, &m, &n);
		check_matches(finders[i].what, text, m, n, count[i]);
		free(m);
	}
}

static void
understand(const struct kb_taxonomy *t, const char *text)
{
	struct kb_understand_cache *c = kb_understand_cache_new(t);
	struct kb_understood u;

	kb_understand(t, c, text, &u);
	if (u.model != NULL)
		KB_FUZZ_CHECK(u.model >= t->models &&
				  u.model < t->models + t->nmodels,
			      "model outside the taxonomy");
	kb_understood_free(&u);
	kb_understand_cache_free(c);
}

int
kb_fuzz_taxonomy(const uint8_t *data, size_t size)
{
	struct kb_taxonomy *t = NULL;
	struct kb_error err;
	size_t i, k;

	kb_error_clear(&err);
	if (kb_taxonomy_parse("fuzz.json", (const char *)data, size, &t,
			      &err) != KB_OK) {
		KB_FUZZ_CHECK(t == NULL, "failed, yet a taxonomy came back");
		KB_FUZZ_CHECK(err.status == KB_ERR_PARSE,
			      "failed with status %d: %s", err.status, err.msg);
		KB_FUZZ_CHECK(strncmp(err.msg, "fuzz.json", 9) == 0,
			      "message does not name the file: %s", err.msg);
		return 0;
	}
	KB_FUZZ_CHECK(t != NULL, "loaded, but no taxonomy");
	for (i = 0; i < t->nmodels; i++) {
		const struct kb_model *m = &t->models[i];

		KB_FUZZ_CHECK(m->id && m->name && m->brand,
			      "model %zu lacks a field", i);
		KB_FUZZ_CHECK(kb_taxonomy_model(t, m->id) != NULL,
			      "model '%s' not found by its id", m->id);
		kb_taxonomy_model(t, m->name);
		for (k = 0; k < m->aliases.n; k++)
			kb_taxonomy_model(t, m->aliases.v[k]);
		find_all(t, m->name);
	}
	for (i = 0; i < t->nsymptoms; i++) {
		const struct kb_symptom *s = &t->symptoms[i];

		KB_FUZZ_CHECK(s->id && s->label, "symptom %zu lacks a field",
			      i);
		KB_FUZZ_CHECK(kb_taxonomy_symptom(t, s->id) != NULL,
			      "symptom '%s' not found by its id", s->id);
		for (k = 0; k < s->phrases.n; k++)
			find_all(t, s->phrases.v[k]);
	}
	for (i = 0; i < t->ncolors; i++)
		kb_taxonomy_color(t, t->colors[i].id);
	for (i = 0; i < t->npatterns; i++)
		kb_taxonomy_pattern(t, t->patterns[i].id);
	find_all(t, sample);
	understand(t, sample);
	kb_taxonomy_free(t);
	return 0;
}
