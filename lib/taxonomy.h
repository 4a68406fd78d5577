/* taxonomy.h - models, symptoms, LED vocabulary and synonyms; finding them in text. */
#ifndef KB_TAXONOMY_H
#define KB_TAXONOMY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

/*
 * kb/taxonomy.json:
 * {
 *   "models":   [ {"id": "anker-soundcore-2", "brand": "Anker",
 *                  "name": "Anker Soundcore 2",
 *                  "aliases": ["soundcore 2", "soundcore2", ...]} ],
 *   "symptoms": [ {"id": "wont-hold-charge", "label": "Won't hold a charge",
 *                  "phrases": ["won't hold a charge", "battery drains fast"]} ],
 *   "led": {
 *     "colors":   [ {"id": "red", "synonyms": ["red"]} ],
 *     "patterns": [ {"id": "solid", "synonyms": ["solid", "steady"]} ]
 *   },
 *   "synonyms": [ ["cable", "cord", "lead"], ... ]
 * }
 * Matching is on normalised tokens: lowercase, apostrophes dropped
 * ("won't" -> "wont"), diacritics-free ASCII where possible.  Model aliases
 * also match with their spaces removed or added ("soundcore2" and
 * "sound core 2" both find "soundcore 2").  A model's name, and its name
 * without the brand ("Flip 5"), are implicitly aliases; a brand alone never
 * is.  Symptom phrases and LED words match word by word with stop words
 * skipped and words stemmed ("battery drains fast" finds "battery is
 * draining fast"), single-word synonyms counting as the same word.
 */

struct kb_model {
	char *id;
	char *brand;
	char *name;
	struct kb_strv aliases;
};

struct kb_symptom {
	char *id;
	char *label;
	struct kb_strv phrases;
};

/* An LED colour or pattern: canonical id plus the words people use. */
struct kb_led_term {
	char *id;
	struct kb_strv synonyms;
};

struct kb_taxonomy_index; /* private to taxonomy.c */
struct kb_token;

struct kb_taxonomy {
	struct kb_model *models;
	size_t nmodels;
	struct kb_symptom *symptoms;
	size_t nsymptoms;
	struct kb_led_term *colors;
	size_t ncolors;
	struct kb_led_term *patterns;
	size_t npatterns;
	struct kb_strv *synonyms; /* groups of interchangeable words */
	size_t nsynonyms;
	char *json; /* the source text, kept so the index can store it */
	/*
	 * Matching tables built by kb_taxonomy_parse.  A taxonomy put
	 * together by hand may leave this NULL: lookups then build the
	 * tables for each call, correct but slow.
	 */
	struct kb_taxonomy_index *index;
	/* Set by kb_taxonomy_unpack: every string above points into it. */
	char *arena;
};

/* Load from a file, or from JSON text (name is used in messages). */
int kb_taxonomy_load(const char *path, struct kb_taxonomy **out,
		     struct kb_error *err);
int kb_taxonomy_parse(const char *name, const char *json, size_t len,
		      struct kb_taxonomy **out, struct kb_error *err);
/*
 * The taxonomy with its matching tables as one blob, and back: unpacking
 * costs a copy and a pass, where parsing the JSON and building the tables
 * costs tokenizing and stemming every name (kb_db_open does one or the
 * other on every start).  A blob from another build of kbsearch, or a
 * damaged one, is refused with KB_ERR_PARSE.  An unpacked taxonomy has no
 * JSON text (json is NULL).
 */
void kb_taxonomy_pack(const struct kb_taxonomy *t, struct kb_buf *out);
int kb_taxonomy_unpack(const void *blob, size_t len, struct kb_taxonomy **out,
		       struct kb_error *err);
/*
 * The same, unpacking in place a blob in memory from malloc (at least
 * len + 1 bytes), which the taxonomy then owns and frees, also when it is
 * refused: a reader that reads the blob straight into such a buffer
 * copies it once.
 */
int kb_taxonomy_adopt(char *blob, size_t len, struct kb_taxonomy **out,
		      struct kb_error *err);
/* An empty taxonomy: tagging finds nothing, everything else works. */
struct kb_taxonomy *kb_taxonomy_new_empty(void);
void kb_taxonomy_free(struct kb_taxonomy *t);

/* Lookups by id, name or alias (case- and spacing-insensitive); borrowed. */
/*
 * Model model's alias k squashed (k < aliases.n), then its name (k ==
 * aliases.n) and brand (aliases.n + 1), as an unpacked taxonomy carries
 * them; NULL when this taxonomy does not, and the caller squashes.
 */
const char *kb_taxonomy_model_form(const struct kb_taxonomy *t, size_t model,
				   size_t k);
const struct kb_model *kb_taxonomy_model(const struct kb_taxonomy *t,
					 const char *name);
const struct kb_symptom *kb_taxonomy_symptom(const struct kb_taxonomy *t,
					     const char *name);
const struct kb_led_term *kb_taxonomy_color(const struct kb_taxonomy *t,
					    const char *word);
const struct kb_led_term *kb_taxonomy_pattern(const struct kb_taxonomy *t,
					      const char *word);

/*
 * A match found in text: which entry, and where (byte offsets into the
 * text that was searched).
 */
struct kb_match {
	size_t index; /* into models / symptoms / colors / patterns */
	size_t start;
	size_t end;
};

/*
 * Find every model / symptom mentioned in text.  Results are appended to
 * *out (realloc'd; caller frees), *n updated; overlapping matches keep the
 * longest.  A brand alone does not match a model.
 */
void kb_taxonomy_find_models(const struct kb_taxonomy *t, const char *text,
			     struct kb_match **out, size_t *n);
void kb_taxonomy_find_symptoms(const struct kb_taxonomy *t, const char *text,
			       struct kb_match **out, size_t *n);
/* The same, given text's tokens (kb_tokenize of text) instead of anew. */
void kb_taxonomy_find_models_tok(const struct kb_taxonomy *t, const char *text,
				 const struct kb_token *tok, size_t ntok,
				 struct kb_match **out, size_t *n);
void kb_taxonomy_find_symptoms_tok(const struct kb_taxonomy *t,
				   const char *text, const struct kb_token *tok,
				   size_t ntok, struct kb_match **out,
				   size_t *n);
/*
 * The index terms of a text's tokens, made beforehand as
 * kb_fts_term_of(norm, 1, ...) makes them: token i's is NUL-terminated
 * at text + at[i]; neg[i] and stop[i] tell whether the token was a
 * negation (kb_is_negation), a stop word (kb_is_stopword).
 */
struct kb_token_terms {
	const char *text;
	const uint32_t *at;
	const unsigned char *neg, *stop;
	const uint64_t *key; /* KB_TERM_KEY of each term */
};
/*
 * kb_taxonomy_find_symptoms_tok, taking the tokens' stems from terms;
 * *colour (when not NULL) is set when a token starts a colour's name.
 */
void kb_taxonomy_find_symptoms_terms(const struct kb_taxonomy *t,
				     const char *text,
				     const struct kb_token *tok, size_t ntok,
				     const struct kb_token_terms *terms,
				     struct kb_match **out, size_t *n,
				     bool *colour);
void kb_taxonomy_find_colors(const struct kb_taxonomy *t, const char *text,
			     struct kb_match **out, size_t *n);
void kb_taxonomy_find_patterns(const struct kb_taxonomy *t, const char *text,
			       struct kb_match **out, size_t *n);
/* The same on text's tokens, tok[0..ntok) as kb_tokenize makes them. */
void kb_taxonomy_find_colors_tok(const struct kb_taxonomy *t,
				 const char *text, const struct kb_token *tok,
				 size_t ntok, struct kb_match **out, size_t *n);
void kb_taxonomy_find_patterns_tok(const struct kb_taxonomy *t,
				   const char *text,
				   const struct kb_token *tok, size_t ntok,
				   struct kb_match **out, size_t *n);

#endif
