/* fts.c - the "kb" tokenizer: the same words, folding and stems everywhere. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "textnorm.h"

/*
 * The index and every query go through kb_tokenize and the Porter stemmer,
 * so "won't" in an article matches "wont" typed in a hurry, "Été" matches
 * "ete", and taxonomy matching (which uses the same functions) agrees with
 * what the index finds.  kbx (kbx.c) makes its terms with kb_fts_term_of;
 * FTS5 gets the same terms through the tokenizer registered here, for the
 * title index and the plain bm25 baseline of make eval.  Negations all become "not": "won't charge", "doesn't
 * charge" and "will not charge" are the same words to the index.
 */

struct kb_tokenizer {
	int unused;
};

static int
tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)ctx;
	(void)argv;
	(void)argc;
	*out = (Fts5Tokenizer *)kb_xcalloc(1, sizeof(struct kb_tokenizer));
	return SQLITE_OK;
}

static void
tok_delete(Fts5Tokenizer *t)
{
	free(t);
}

/* The index term for one norm; returns its length, written into buf. */
size_t
kb_fts_term_of(const char *norm, int stem, char *buf, size_t bufsz)
{
	size_t n;
	bool stop, neg;

	if (stem) {
		/* the stem and the negation test from one cache lookup */
		n = kb_stem_info(norm, buf, bufsz, &stop, &neg);
		if (neg) {
			memcpy(buf, "not", 4);
			return 3;
		}
		return n < bufsz ? n : bufsz - 1;
	}
	if (kb_is_negation(norm)) {
		memcpy(buf, "not", 4);
		return 3;
	}
	n = strlen(norm);
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, norm, n);
	buf[n] = '\0';
	return n;
}

size_t
kb_fts_term_of_token(const struct kb_token *tok, char *buf, size_t bufsz,
		     bool *stop, bool *neg, uint32_t *norm_hash,
		     uint32_t *term_hash)
{
	size_t k = kb_stem_token(tok, buf, bufsz, stop, neg, norm_hash,
				 term_hash);

	if (*neg) {
		memcpy(buf, "not", 4);
		k = 3;
		*term_hash = (uint32_t)kb_fnv1a(buf, k);
	} else if (k >= bufsz) {
		k = bufsz - 1;
		*term_hash = (uint32_t)kb_fnv1a(buf, k);
	}
	return k;
}

static int
tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text,
	     int len, int (*cb)(void *, int, const char *, int, int, int))
{
	struct kb_token *toks = NULL;
	char buf[256];
	size_t n = 0, i, k;
	int rc = SQLITE_OK;
	/* A prefix query keeps the letters typed: "chargi*" must not stem. */
	int stem = !(flags & FTS5_TOKENIZE_PREFIX);

	(void)t;
	if (len <= 0)
		return SQLITE_OK;
	kb_tokenize_n(text, (size_t)len, &toks, &n);
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		k = kb_fts_term_of(toks[i].norm, stem, buf, sizeof(buf));
		rc = cb(ctx, 0, buf, (int)k, (int)toks[i].start,
			(int)toks[i].end);
	}
	kb_tokens_free(toks);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static fts5_api *
fts5_api_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

int
kb_fts_register(sqlite3 *db)
{
	static fts5_tokenizer tok = { tok_create, tok_delete, tok_tokenize };
	fts5_api *api = fts5_api_of(db);
	int rc;

	if (api == NULL)
		return SQLITE_ERROR;
	rc = api->xCreateTokenizer(api, "kb", NULL, &tok, NULL);
	return rc;
}

char *
kb_fts_term(const char *word)
{
	struct kb_token *toks = NULL;
	char buf[256];
	size_t n = 0;
	char *r = NULL;

	kb_tokenize(word, &toks, &n);
	if (n > 0) {
		kb_fts_term_of(toks[0].norm, 1, buf, sizeof(buf));
		r = kb_xstrdup(buf);
	}
	kb_tokens_free(toks);
	return r;
}
