/* kbx.h - impact-ordered postings and per-section token lists beside FTS5. */
#ifndef KB_KBX_H
#define KB_KBX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct kb_token;

/*
 * The search index.  FTS5 answers "which sections match" by visiting
 * every matching row and scoring it before LIMIT applies; with a hundred
 * thousand articles the words people type match a third of all sections.
 * kbx keeps instead:
 *
 *  - terms and postings: for each term, the sections holding it, grouped
 *    by an 8-bit impact (a BM25F term score without idf) in falling
 *    order, with a directory of the groups at the head of the blob.  A
 *    query reads the groups that matter most across its words until a
 *    budget of postings is spent, and stops: the best sections for the
 *    words are found without touching the long tails of common words.
 *  - fwd: each section's terms as term numbers, column by column, so the
 *    window of candidates is re-scored exactly (phrases, columns,
 *    lengths, proximity), and so the postings can be rebuilt.
 *
 * Terms are what the "kb" tokenizer (fts.c) makes of the text: the same
 * folding and stems as queries and the taxonomy.  kbindex writes both in
 * the same transaction as everything else.
 */

#define KBX_COLS 4 /* title, heading, body, tags */

struct kbx_build;

/* Start building against an index open for writing (inside its BEGIN). */
int kbx_build_begin(sqlite3 *sql, struct kbx_build **out,
		    struct kb_error *err);
/*
 * What re-ranking reads about a section besides its words, kept in the
 * same row: its article, its prior, and its tags and its article's as
 * "kind RS value" items separated by US.
 */
struct kbx_feat {
	int64_t article;
	double prior;
	const char *tags;
	const char *article_tags;
};
/*
 * Adding (or replacing) a section takes two steps, so tokenizing can run
 * on another thread: making its kbx_terms needs no build and is
 * thread-safe; kbx_add_terms numbers the terms and stores the section.
 */
struct kbx_terms {
	char *text;	       /* the terms, each NUL-terminated */
	size_t len, cap;
	uint32_t n[KBX_COLS]; /* terms in each column */
	uint64_t *key;	       /* KB_TERM_KEY of each term */
	size_t nkey, keycap;
};
/*
 * A section's terms, a column at a time, as the "kb" tokenizer makes
 * them: append the terms of tok[0..n) as column col, after those of every
 * column before it (t starts zeroed, or as a copy of terms made for those
 * columns).
 */
void kbx_terms_add(struct kbx_terms *t, int col, const struct kb_token *tok,
		   size_t n);
/*
 * The same for terms made beforehand with kb_fts_term_of(norm, 1, ...):
 * n of them, each NUL-terminated, one after another in terms[0..len),
 * and key[0..n) their KB_TERM_KEYs.
 */
void kbx_terms_add_made(struct kbx_terms *t, int col, const char *terms,
			size_t len, const uint64_t *key, size_t n);
/*
 * Make dst the same terms as src, with room for more_terms more terms of
 * more_bytes in all (NULs included) to be added without growing.
 */
void kbx_terms_copy(struct kbx_terms *dst, const struct kbx_terms *src,
		    size_t more_bytes, size_t more_terms);
void kbx_terms_free(struct kbx_terms *t);
int kbx_add_terms(struct kbx_build *b, int64_t section,
		  const struct kbx_terms *t, const struct kbx_feat *feat,
		  struct kb_error *err);
/* Forget the sections of an article about to be deleted. */
int kbx_build_delete_article(struct kbx_build *b, int64_t article,
			     struct kb_error *err);
/*
 * Start rebuilding the postings from fwd: the term lists are read on the
 * calling thread, and the rest goes on on a thread of its own while the
 * caller uses the connection for other statements (not on fwd, terms or
 * postings).  kbx_build_finish completes it, or kbx_build_free drops it.
 */
int kbx_build_start(struct kbx_build *b, struct kb_error *err);
/* Rebuild the postings from fwd (started already or not). */
int kbx_build_finish(struct kbx_build *b, struct kb_error *err);
void kbx_build_free(struct kbx_build *b);
/*
 * Postings a rebuild holds in memory at once (0: the default, 1,000,000);
 * more than that are spilled to a scratch file beside the index.  For tests.
 */
void kbx_set_part_postings(size_t n);
/*
 * Check an index through and through, as FTS5's integrity-check would:
 * every section has its term list and no other does; each list holds
 * exactly the terms of its section's title, heading and body; the
 * postings hold exactly the (term, section) pairs of the lists, with the
 * counts kbx_build_finish wrote.  KB_OK, or an error naming the first
 * thing found wrong.
 */
int kbx_verify(sqlite3 *sql, struct kb_error *err);

/* Query side. */
struct kb_db;
struct kbx_query;

struct kbx_query *kbx_query_new(struct kb_db *db);
void kbx_query_free(struct kbx_query *q);
/*
 * Add the next phrase, in the FTS5 form search builds: "text" with ""
 * for a quote, an optional * after it for a prefix, an optional
 * "tags : " before it for the tags column.  weight is what a section
 * earns per unit of impact; concept groups phrases for proximity (255:
 * not counted).  Phrases are numbered in the order added.
 */
void kbx_query_add(struct kbx_query *q, const char *phrase, double weight,
		   int concept);
/* Sections holding an index term (as kb_fts_term makes them). */
int64_t kbx_term_df(struct kb_db *db, const char *term);
/*
 * Those sections, in rising order, as a new array in *out (free it; NULL
 * when none).  Returns how many, or -1 on a database error.
 */
long kbx_term_sections(struct kb_db *db, const char *term, int64_t **out);
/* Sections summing the most weighted impact over the phrases. */
struct kbx_hit {
	int64_t id;
	double score;
};
/*
 * At most k best sections; allow (sorted, may be NULL) restricts them.
 * Reads postings by falling weighted impact; budget (0: none) caps the
 * postings that may bring in new sections, past it only those met are
 * completed, up to a bound on postings read in all.  Returns how many,
 * or -1 on a database error.  *exhaustive says whether the k are
 * exactly the best (ties aside).
 */
long kbx_top(struct kbx_query *q, const int64_t *allow, size_t nallow,
	     size_t k, size_t budget, struct kbx_hit *out, bool *exhaustive);
/*
 * A section's statistics for re-ranking: the number of phrases P, the
 * number of columns C, each column's length, each column's average
 * length x 1000, P x C occurrence counts, then per column the most
 * distinct concepts within KB_PROXIMITY_WINDOW tokens.  *nv gets the
 * number of values (a new array; free it).  NULL when the section is
 * unknown.  feat (may be NULL) gets the section's features, its strings
 * new (free them).
 */
struct kbx_owned_feat {
	int64_t article;
	double prior;
	char *tags;
	char *article_tags;
};
uint32_t *kbx_stats(struct kbx_query *q, int64_t section, size_t *nv,
		    struct kbx_owned_feat *feat);
/* A section's features alone: 1, 0 when unknown, -1 on a database error. */
int kbx_section_feat(struct kb_db *db, int64_t section,
		     struct kbx_owned_feat *f);

#endif
