/* query.c - fuzz target "query": query text through understanding, FTS5
 * expressions and a whole search. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fuzz.h"
#include "json.h"
#include "query.h"
#include "search.h"
#include "textnorm.h"
#include "understand.h"
#include "util.h"

static sqlite3 *fts;
static sqlite3_stmt *match;
static struct kb_understand_cache *cache;

static void
query_cleanup(void)
{
	sqlite3_finalize(match);
	sqlite3_close(fts);
	kb_understand_cache_free(cache);
}

/*
 * A plain FTS5 table to compile expressions against: whatever the user
 * typed, what kbsearch hands to MATCH must never be a syntax error.
 */
static void
query_init(void)
{
	if (fts != NULL)
		return;
	if (sqlite3_open(":memory:", &fts) != SQLITE_OK ||
	    sqlite3_exec(fts,
			 "CREATE VIRTUAL TABLE t USING fts5(a, b);"
			 "INSERT INTO t VALUES ('red light', 'cable');",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(fts, "SELECT rowid FROM t WHERE t MATCH ?", -1,
			       &match, NULL) != SQLITE_OK)
		kb_fuzz_fail("fts5: %s", sqlite3_errmsg(fts));
	cache = kb_understand_cache_new(kb_fuzz_taxonomy_get());
	atexit(query_cleanup);
}

static void
check_match(const char *expr)
{
	int rc;

	sqlite3_bind_text(match, 1, expr, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(match)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		kb_fuzz_fail("MATCH '%s': %s", expr, sqlite3_errmsg(fts));
	sqlite3_reset(match);
	sqlite3_clear_bindings(match);
}

static void
check_fts(const char *text)
{
	struct kb_query *q = NULL;
	struct kb_buf b;
	bool *use;
	char *all, *any;
	size_t i;

	KB_FUZZ_CHECK(kb_query_parse(text, &q, NULL) == KB_OK && q != NULL,
		      "kb_query_parse failed");
	KB_FUZZ_CHECK(q->nterms <= KB_QUERY_MAX_TERMS, "%zu terms", q->nterms);
	use = kb_xcalloc(q->nterms + 1, sizeof(*use));
	for (i = 0; i < q->nterms; i++) {
		const char *w = q->terms[i].word;

		KB_FUZZ_CHECK(w != NULL && *w != '\0', "empty term %zu", i);
		KB_FUZZ_CHECK(kb_utf8_valid(w, strlen(w)),
			      "term %zu is not UTF-8", i);
		use[i] = i % 2 == 0;
		kb_buf_init(&b);
		kb_fts_quote(&b, w);
		check_match(b.data);
		kb_buf_free(&b);
	}
	all = kb_query_fts(q, NULL, KB_FTS_ALL);
	any = kb_query_fts(q, NULL, KB_FTS_ANY);
	KB_FUZZ_CHECK((all == NULL) == (q->nterms == 0),
		      "expression without terms, or terms without one");
	if (all != NULL) {
		check_match(all);
		check_match(any);
	}
	free(all);
	free(any);
	all = kb_query_fts(q, use, KB_FTS_ALL);
	if (all != NULL)
		check_match(all);
	free(all);
	free(use);
	kb_query_free(q);
}

static void
check_understand(const char *text)
{
	const struct kb_taxonomy *t = kb_fuzz_taxonomy_get();
	struct kb_understood u;
	struct kb_token *tok = NULL;
	size_t ntok = 0, i;

	kb_understand(t, cache, text, &u);
	kb_tokenize(text, &tok, &ntok);
	KB_FUZZ_CHECK(u.ntokens == ntok, "%zu tokens understood, %zu made",
		      u.ntokens, ntok);
	if (u.model != NULL)
		KB_FUZZ_CHECK(u.model_start <= u.model_end &&
				  u.model_end <= ntok,
			      "model span %zu..%zu of %zu", u.model_start,
			      u.model_end, ntok);
	for (i = 0; i < ntok; i++)
		KB_FUZZ_CHECK(u.symptom_of[i] >= -1 &&
				  u.symptom_of[i] < (int)u.symptoms.n,
			      "token %zu: symptom %d of %zu", i,
			      u.symptom_of[i], u.symptoms.n);
	for (i = 0; i < u.symptoms.n; i++)
		KB_FUZZ_CHECK(kb_taxonomy_symptom(t, u.symptoms.v[i]) != NULL,
			      "unknown symptom '%s'", u.symptoms.v[i]);
	for (i = 0; i < u.terms.n; i++)
		KB_FUZZ_CHECK(*u.terms.v[i] != '\0', "empty term %zu", i);
	kb_tokens_free(tok);
	kb_understood_free(&u);
}

/* Highlight markers come in pairs, never nested. */
static void
check_marks(const char *s)
{
	int open = 0;

	for (; s != NULL && *s; s++) {
		if (*s == KB_HL_START) {
			KB_FUZZ_CHECK(!open, "nested highlight");
			open = 1;
		} else if (*s == KB_HL_END) {
			KB_FUZZ_CHECK(open, "highlight closed twice");
			open = 0;
		}
	}
	KB_FUZZ_CHECK(!open, "highlight left open");
}

static void
check_search(const char *text, size_t limit, size_t offset)
{
	struct kb_search_opts o = {0};
	struct kb_result *r = NULL;
	struct kb_error err;
	json_t *doc;
	char *s;
	size_t i;

	o.query = text;
	o.limit = limit;
	o.offset = offset;
	kb_error_clear(&err);
	KB_FUZZ_CHECK(kb_search(kb_fuzz_db(), &o, &r, &err) == KB_OK,
		      "kb_search: %s", err.msg);
	KB_FUZZ_CHECK(r->nhits <= (limit ? limit : 10), "%zu hits", r->nhits);
	for (i = 0; i < r->nhits; i++) {
		KB_FUZZ_CHECK(r->hits[i].title && r->hits[i].heading &&
				  r->hits[i].anchor && r->hits[i].path,
			      "hit %zu lacks a field", i);
		check_marks(r->hits[i].snippet);
	}
	doc = kb_json_result(r);
	KB_FUZZ_CHECK(doc != NULL, "no JSON document for the result");
	s = json_dumps(doc, JSON_COMPACT);
	KB_FUZZ_CHECK(s != NULL, "the result's JSON cannot be written");
	free(s);
	json_decref(doc);
	kb_result_free(r);
}

int
kb_fuzz_query(const uint8_t *data, size_t size)
{
	char *text = kb_fuzz_string(data, size);

	query_init();
	check_fts(text);
	check_understand(text);
	/* A page somewhere in the first few, by the input's length. */
	check_search(text, size % 4 == 0 ? 0 : 1 + size % 7, size % 5);
	free(text);
	return 0;
}
