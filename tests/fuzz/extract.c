/* extract.c - fuzz target "extract": LED facts out of one tagged section of
 * text. */
#include <stdlib.h>
#include <string.h>

#include "article.h"
#include "extract.h"
#include "fuzz.h"
#include "index.h"
#include "taxonomy.h"
#include "util.h"

static bool
is_term(const struct kb_led_term *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return true;
	return false;
}

void
kb_fuzz_check_facts(const struct kb_article *a, const struct kb_strv *models,
		    const struct kb_led_facts *f)
{
	const struct kb_taxonomy *t = kb_fuzz_taxonomy_get();
	size_t i, k;

	KB_FUZZ_CHECK(f->n == 0 || f->v != NULL, "facts missing");
	for (i = 0; i < f->n; i++) {
		const struct kb_led_fact *x = &f->v[i];

		KB_FUZZ_CHECK(x->section < a->nsections,
			      "fact %zu: section %zu of %zu", i, x->section,
			      a->nsections);
		KB_FUZZ_CHECK(
		    x->color && is_term(t->colors, t->ncolors, x->color),
		    "fact %zu: colour '%s'", i, x->color ? x->color : "(null)");
		KB_FUZZ_CHECK(x->pattern && is_term(t->patterns, t->npatterns,
						    x->pattern),
			      "fact %zu: pattern '%s'", i,
			      x->pattern ? x->pattern : "(null)");
		kb_fuzz_check_text("meaning", x->meaning);
		KB_FUZZ_CHECK(*x->meaning != '\0', "fact %zu: no meaning", i);
		if (x->model != NULL)
			KB_FUZZ_CHECK(kb_taxonomy_model(t, x->model) != NULL ||
					  kb_strv_contains(models, x->model),
				      "fact %zu: model '%s'", i, x->model);
		for (k = 0; k < i; k++)
			KB_FUZZ_CHECK(
			    !((f->v[k].model == NULL) == (x->model == NULL) &&
			      (x->model == NULL ||
			       strcmp(f->v[k].model, x->model) == 0) &&
			      strcmp(f->v[k].color, x->color) == 0 &&
			      strcmp(f->v[k].pattern, x->pattern) == 0),
			    "fact %zu repeats fact %zu", i, k);
	}
}

/*
 * The input is one section: its first line the heading, the rest the
 * body, cleaned as the parsers clean text; the section is tagged through
 * the taxonomy, as kbindex tags it, before extraction.
 */
int
kb_fuzz_extract(const uint8_t *data, size_t size)
{
	const struct kb_taxonomy *t = kb_fuzz_taxonomy_get();
	struct kb_article a = {0};
	struct kb_section s = {0};
	struct kb_led_facts facts = {0};
	struct kb_strv models, symptoms;
	char *text = kb_text_clean((const char *)data, size), *nl;

	nl = strchr(text, '\n');
	s.heading = kb_xstrndup(text, nl ? (size_t)(nl - text) : strlen(text));
	s.body = kb_xstrdup(nl ? nl + 1 : "");
	s.anchor = kb_slugify(s.heading);
	kb_strv_init(&s.models);
	kb_strv_init(&s.symptoms);
	a.format = KB_FORMAT_TEXT;
	a.title = kb_xstrdup("fuzz");
	a.sections = &s;
	a.nsections = 1;
	kb_strv_init(&models);
	kb_strv_init(&symptoms);
	kb_tag_article(t, &a, &models, &symptoms);
	kb_extract_leds(t, &a, &models, &facts);
	kb_fuzz_check_facts(&a, &models, &facts);
	kb_led_facts_free(&facts);
	kb_strv_free(&models);
	kb_strv_free(&symptoms);
	kb_strv_free(&s.models);
	kb_strv_free(&s.symptoms);
	free(s.heading);
	free(s.body);
	free(s.anchor);
	free(a.title);
	free(text);
	return 0;
}
