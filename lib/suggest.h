/* suggest.h - as-you-type completions: models, symptoms, article titles, words. */
#ifndef KB_SUGGEST_H
#define KB_SUGGEST_H

#include <stddef.h>

#include "db.h"
#include "error.h"

enum kb_suggest_type {
	KB_SUGGEST_MODEL,
	KB_SUGGEST_SYMPTOM,
	KB_SUGGEST_TITLE,
	KB_SUGGEST_WORD,
};

struct kb_suggestion {
	enum kb_suggest_type type;
	char *text;  /* what to put in the search box */
	char *value; /* model name, symptom id, article id; may be NULL */
};

/*
 * Up to max completions of what has been typed so far: models and
 * symptoms whose names or phrases start with it, article titles holding
 * its words (the last one as a prefix), and the query with its last word
 * completed from the index's vocabulary, most common first.
 */
int kb_suggest(struct kb_db *db, const char *typed, size_t max,
	       struct kb_suggestion **out, size_t *n, struct kb_error *err);
void kb_suggestions_free(struct kb_suggestion *v, size_t n);
const char *kb_suggest_type_name(enum kb_suggest_type t);

#endif
