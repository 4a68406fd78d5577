/* db_int.h - what libkb's own modules share about the SQLite file; not for programs. */
#ifndef KB_DB_INT_H
#define KB_DB_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "db.h"
#include "util.h"

extern const char kb_db_schema_sql[];
extern const char kb_db_late_indexes_sql[];

/* Phrases kbx_stats() reports on; later ones are not counted. */
#define KB_STATS_MAX_PHRASES 63
/* Tokens within which query words count as said together. */
#define KB_PROXIMITY_WINDOW 8

/* Register the "kb" FTS5 tokenizer. */
int kb_fts_register(sqlite3 *db);
/* The index term of one token's norm into buf; returns its length. */
size_t kb_fts_term_of(const char *norm, int stem, char *buf, size_t bufsz);
struct kb_token;
/*
 * kb_fts_term_of(tok->norm, 1, buf, bufsz), from the token's own length
 * and hash through the stem cache; also its stop-word and negation flags
 * and the low 32 bits of kb_fnv1a of the norm and of the term.
 */
size_t kb_fts_term_of_token(const struct kb_token *tok, char *buf,
			    size_t bufsz, bool *stop, bool *neg,
			    uint32_t *norm_hash, uint32_t *term_hash);
/* The index term the tokenizer makes of one word, or NULL if none. */
char *kb_fts_term(const char *word);

/* Settings every connection gets: defensive mode, limits, tokenizer. */
int kb_db_configure(sqlite3 *db, int readonly);

sqlite3 *kb_db_handle(struct kb_db *db);
struct kb_understand_cache;
const struct kb_understand_cache *kb_db_understand_cache(const struct kb_db *db);
/* True when the connection's deadline has passed. */
int kb_db_timed_out(const struct kb_db *db);
/* Working memory kept with the connection: made once, dropped at close. */
void *kb_db_scratch(struct kb_db *db, void *(*make)(void),
		    void (*drop)(void *));
/* A cached prepared statement for sql (reset and unbound), or NULL. */
sqlite3_stmt *kb_db_stmt(struct kb_db *db, const char *sql);

/*
 * A single index term standing for a tag, written into the tags column so
 * that the postings find sections by model or symptom (queries and
 * filters): "kbmodel" or "kbsym" and the value's letters and digits
 * ("kbsymwontfullycharge").
 */
char *kb_tag_token(int kind, const char *value);
/* The same, added to b. */
void kb_tag_token_add(struct kb_buf *b, int kind, const char *value);

/*
 * The values of one kind in a list of "kind RS value" items separated by
 * US (a section's tags as kbx keeps them), in case-blind order.
 */
void kb_tag_items(const char *items, int kind, struct kb_strv *out);
/*
 * The next item of such a list from *p on: true with its kind and its
 * value, len bytes at *value (not NUL-terminated), *p moved past it;
 * false at the end.  Items without RS are passed over.
 */
bool kb_tag_next(const char **p, int *kind, const char **value,
		 size_t *len);
/*
 * The sections tagged kind = value: rising, a new array in *out (NULL
 * when none).  Returns how many, or -1 on a database error.
 */
long kb_tag_sections(struct kb_db *db, int kind, const char *value,
		     int64_t **out);

/* JSON array text <-> string list. */
char *kb_strv_to_json(const struct kb_strv *sv);
void kb_strv_from_json(struct kb_strv *sv, const char *json);

/* Compressed text for storage, and back (NULL when damaged). */
void *kb_pack_text(const char *text, size_t *outlen);
char *kb_unpack_text(const void *blob, size_t len);

/*
 * Section text packing (pack.c): a zstd dictionary trained on the index's
 * own text, kept in meta.  open loads it when the index has one.
 */
struct kb_packer;
struct kb_packer *kb_packer_open(sqlite3 *sql);
void kb_packer_free(struct kb_packer *p);
/* Has a dictionary: pack packs. */
bool kb_packer_ready(const struct kb_packer *p);
/* Train one on n samples (sizes[i] bytes each, back to back); keep it in
 * meta.  Too few samples is not an error: nothing is packed then. */
int kb_packer_train(struct kb_packer *p, sqlite3 *sql, const void *samples,
		    const size_t *sizes, unsigned n);
/* text[0..n) packed (a new blob of *outlen bytes), or NULL: store it
 * plain. */
void *kb_packer_pack(struct kb_packer *p, const char *text, size_t n,
		     size_t *outlen);
/*
 * Packing on other threads.  kb_packer_shared gives the trained dictionary
 * (NULL before there is one), which any number of threads may then use
 * at once, each with a context of its own, until the packer is freed.
 * kb_pack_ctx_pack packs exactly as kb_packer_pack does, and
 * kb_pack_ctx_pack_article as kb_packer_pack_article.
 */
const struct kb_packer *kb_packer_shared(struct kb_packer *p);
struct kb_pack_ctx; /* kb_pack_ctx_new: index.h */
void *kb_pack_ctx_pack(struct kb_pack_ctx *c, const struct kb_packer *p,
		       const char *text, size_t n, size_t *outlen);
/*
 * An article's frame (pack.c): text[0..n) is its Markdown (or nothing
 * when markdown is false), a NUL, and each section's body and a NUL.
 */
void *kb_pack_ctx_pack_article(struct kb_pack_ctx *c,
			       const struct kb_packer *p, const char *text,
			       size_t n, bool markdown, size_t *outlen);
/*
 * A section's body as a reference to its part of its article's frame
 * (pack.c): out gets it, its length is returned.
 */
#define KB_PACKER_REF_MAX 31
size_t kb_packer_ref(unsigned char out[KB_PACKER_REF_MAX], int64_t article,
		     size_t off, size_t len);
/* Column col of st as text: plain as is, packed unpacked; NULL when
 * damaged.  p may be NULL when no packed text is expected. */
char *kb_packer_text(struct kb_packer *p, sqlite3_stmt *st, int col);
char *kb_packer_unpack(struct kb_packer *p, const void *blob, size_t len);
/* A whole document (Markdown): packed when it can be, else zlib. */
void *kb_packer_pack_doc(struct kb_packer *p, const char *text,
			 size_t *outlen);
/* An article's frame on the storing thread; NULL without a dictionary. */
void *kb_packer_pack_article(struct kb_packer *p, const char *text, size_t n,
			     bool markdown, size_t *outlen);
/* The Markdown of a document or article blob; NULL for an article that
 * has none. */
char *kb_packer_unpack_doc(struct kb_packer *p, const void *blob,
			   size_t len);
/* The reading connection's packer, loaded on first use. */
struct kb_packer *kb_db_packer(struct kb_db *db);

/* A column as an owned string ("" for NULL when nonnull). */
char *kb_col_text(sqlite3_stmt *st, int col, int nonnull);

#endif
