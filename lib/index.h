/* index.h - building the index: a new file beside the live one, renamed into place. */
#ifndef KB_INDEX_H
#define KB_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "article.h"
#include "error.h"
#include "extract.h"
#include "taxonomy.h"
#include "textnorm.h"

/*
 * A run of the indexer.  kb_index_begin takes an exclusive lock next to the
 * index (PATH.lock), copies the live index (unless full) to PATH.new and
 * opens that; every change goes into PATH.new; kb_index_finish renames it
 * over PATH.  Readers of PATH see the old index or the new one, never a
 * mix, and a crash at any point leaves PATH as it was.
 */
struct kb_index;

struct kb_index_stats {
	size_t articles; /* in the index after the run */
	size_t added;
	size_t changed;
	size_t removed;
	size_t unchanged;
	size_t sections; /* in the index after the run */
	size_t leds;	 /* in the index after the run */
};

/*
 * taxonomy may be NULL: then the taxonomy stored in the existing index is
 * used, or an empty one.  A taxonomy different from the stored one forces
 * a full rebuild, since every tag may change.
 */
int kb_index_begin(const char *path, bool full, const struct kb_taxonomy *tax,
		   struct kb_index **out, struct kb_error *err);

/*
 * Is this run building a new index from nothing (--full, a changed
 * taxonomy, no index yet)?  Then no file is unchanged, and a caller need
 * not read a file before it is parsed to ask kb_index_unchanged.
 */
bool kb_index_fresh(const struct kb_index *ix);

/* The taxonomy in effect for this run (borrowed). */
const struct kb_taxonomy *kb_index_taxonomy(const struct kb_index *ix);

/*
 * Is the file at relpath with this content hash already indexed?  Either
 * way the path is remembered as present, so it is not removed at the end;
 * call this for files that fail to parse too, so their old version stays.
 */
bool kb_index_unchanged(struct kb_index *ix, const char *relpath,
			const char *hash);

/*
 * Keep every article under the folder relprefix ("" for every article) as
 * it is, as kb_index_unchanged does for one file: for a folder that could
 * not be read this run.
 */
int kb_index_keep_folder(struct kb_index *ix, const char *relprefix,
			 struct kb_error *err);

/* Tag, extract LED facts and store (replacing any older version). */
int kb_index_put(struct kb_index *ix, const char *relpath, const char *hash,
		 struct kb_article *a, struct kb_error *err);

/*
 * kb_index_put in two steps, so a caller can parse and prepare the next
 * articles on another thread while this one is stored.  kb_index_prepare
 * does all that needs no index (tagging, LED facts, the vocabulary words,
 * each section's tags and terms); it only reads the taxonomy
 * (kb_index_taxonomy), so any number may run at once.  The article must
 * outlive the result, which kb_index_put_prepared stores.
 */
struct kb_prepared;
struct kb_prepared *kb_index_prepare(const struct kb_taxonomy *tax,
				     struct kb_article *a);
int kb_index_put_prepared(struct kb_index *ix, const char *relpath,
			  const char *hash, const struct kb_prepared *p,
			  struct kb_error *err);
void kb_prepared_free(struct kb_prepared *p);

/*
 * Packing on the parsing threads too.  Once the index has trained its
 * packing dictionary, kb_index_packing returns it (before, NULL); it stays
 * valid until kb_index_finish or kb_index_abort.  kb_prepared_pack packs
 * a prepared article's text with it, using ctx, which is the calling
 * thread's own, so kb_index_put_prepared stores that text as it is.  The
 * index is the same either way.
 */
struct kb_packer;
struct kb_pack_ctx;
const struct kb_packer *kb_index_packing(struct kb_index *ix);
struct kb_pack_ctx *kb_pack_ctx_new(void);
void kb_pack_ctx_free(struct kb_pack_ctx *ctx);
void kb_prepared_pack(struct kb_prepared *p, const struct kb_packer *packer,
		      struct kb_pack_ctx *ctx);

/* Remove articles not seen this run, optimise, rename into place. */
int kb_index_finish(struct kb_index *ix, struct kb_index_stats *st,
		    struct kb_error *err);
/* Abandon the run: the live index is untouched.  Accepts NULL. */
void kb_index_abort(struct kb_index *ix);

/*
 * Tag an article's sections from its front matter, else from its text
 * through the taxonomy; fills the article-level lists too.
 */
void kb_tag_article(const struct kb_taxonomy *t, struct kb_article *a,
		    struct kb_strv *models, struct kb_strv *symptoms);

/*
 * A section's text as tagging reads it, "heading\nbody", tokenised once
 * so that tagging, the vocabulary and the index terms can share its
 * words: tok[0..nhead) are the heading's, tok[nhead..ntok) the body's.
 * terms[0..terms_len) holds each token's index term (kb_fts_term_of,
 * stemmed), NUL-terminated, in token order, the heading's in the first
 * head_len bytes; token i's is at terms + term_at[i], and neg[i] and
 * stop[i] tell whether the token was a negation, a stop word.
 */
struct kb_section_words {
	char *text;
	struct kb_token *tok;
	size_t ntok, nhead;
	char *terms;
	size_t terms_len, head_len;
	uint32_t *term_at;
	unsigned char *neg, *stop;
	uint64_t *term_key;  /* KB_TERM_KEY of each token's term */
	uint32_t *norm_hash; /* kb_fnv1a of each token's norm, low bits */
};
void kb_section_words_make(const struct kb_section *s,
			   struct kb_section_words *w);
void kb_section_words_free(struct kb_section_words *w);
/* kb_tag_article given words[i], made as above, for each section i. */
void kb_tag_article_words(const struct kb_taxonomy *t, struct kb_article *a,
			  const struct kb_section_words *words,
			  struct kb_strv *models, struct kb_strv *symptoms);

/* The symptoms an article's title names: what the article is for. */
void kb_tag_title(const struct kb_taxonomy *t, const char *title,
		  struct kb_strv *symptoms);

/*
 * How much a section is worth as an answer before any query: a step that
 * tells the reader what to do ("Replace the battery", "2. Reset the
 * device") is what people search a troubleshooting base for, the untitled
 * lead-in before the first heading rarely is, and articles put their main
 * answer first and the side cases last.  position counts the headed
 * sections before this one.  Multiplies the text score; 1.0 is neutral.
 */
double kb_section_prior(const char *heading, size_t position);

#endif
