/* understand.h - what a query names: model, LED state, symptoms, free words. */
#ifndef KB_UNDERSTAND_H
#define KB_UNDERSTAND_H

#include <stdbool.h>

#include "taxonomy.h"
#include "util.h"

/*
 * How a query was read.  Pointers into the taxonomy are borrowed; the
 * lists are owned and released by kb_understood_free.
 */
struct kb_understood {
	const struct kb_model *model; /* NULL when none was named */
	bool model_fuzzy;	      /* recognised through a typo */
	const char *brand;	      /* a brand named without a model */
	const struct kb_led_term *color;
	const struct kb_led_term *pattern;
	struct kb_strv symptoms; /* ids, in the order they appear */
	struct kb_strv terms;	 /* the remaining words: norms, no stop words */
	/* Word spans of the query that named the model: [start, end) tokens. */
	size_t model_start, model_end;
	/*
	 * Per query token (kb_tokenize order): the index into symptoms of the
	 * phrase it belongs to, or -1; and whether it names the LED state.
	 */
	size_t ntokens;
	int *symptom_of;
	bool *led_word;
};

/*
 * What kb_understand derives from a taxonomy before it can read a query
 * (squashed aliases, stemmed symptom phrases); build it once per
 * taxonomy and share it between queries (read-only, thread-safe).
 */
struct kb_understand_cache;
struct kb_understand_cache *
kb_understand_cache_new(const struct kb_taxonomy *t);
void kb_understand_cache_free(struct kb_understand_cache *c);

/* The taxonomy's synonym groups, normalised and stemmed once. */
struct kb_syn_member {
	char *norm;
	char *stem;
	bool multiword;
};
struct kb_syn_group {
	struct kb_syn_member *m;
	size_t n;
};
const struct kb_syn_group *
kb_understand_synonyms(const struct kb_understand_cache *c, size_t *n);

/*
 * Read text through the taxonomy: the model (aliases, spacing and case
 * variants, small typos, a brand alone), an LED state (a colour, a
 * pattern with its synonyms; a pattern alone only next to "light"/"LED"),
 * symptoms from their phrases, and what is left.  cache may be NULL (built and dropped on the spot).
 */
void kb_understand(const struct kb_taxonomy *t,
		   const struct kb_understand_cache *cache, const char *text,
		   struct kb_understood *u);
void kb_understood_free(struct kb_understood *u);

#endif
