/* fts.c - the "kb" FTS5 tokenizer: the same words, folding and stems everywhere. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "textnorm.h"

/*
 * The index and every query go through kb_tokenize and the Porter stemmer,
 * so "won't" in an article matches "wont" typed in a hurry, "Été" matches
 * "ete", and taxonomy matching (which uses the same functions) agrees with
 * what FTS5 finds.  Negations all become "not": "won't charge", "doesn't
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
static size_t
term_of(const char *norm, int stem, char *buf, size_t bufsz)
{
	size_t n;

	if (kb_is_negation(norm)) {
		memcpy(buf, "not", 4);
		return 3;
	}
	if (!stem) {
		n = strlen(norm);
		if (n >= bufsz)
			n = bufsz - 1;
		memcpy(buf, norm, n);
		buf[n] = '\0';
		return n;
	}
	n = kb_stem(norm, buf, bufsz);
	return n < bufsz ? n : bufsz - 1;
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
		k = term_of(toks[i].norm, stem, buf, sizeof(buf));
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

/*
 * kbphrases(fts): a bit mask of the query's phrases present in the current
 * row (phrase i sets bit i, for the first 63), so ranking can tell which
 * of the query's words a section has without reading its text again.
 */
static void
aux_phrases(const Fts5ExtensionApi *api, Fts5Context *fts,
	    sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_int64 mask = 0;
	int n = api->xPhraseCount(fts), i;

	(void)argc;
	(void)argv;
	for (i = 0; i < n && i < 63; i++) {
		Fts5PhraseIter it;
		int col = -1, off = -1;

		if (api->xPhraseFirst(fts, i, &it, &col, &off) == SQLITE_OK &&
		    col >= 0)
			mask |= (sqlite3_int64)1 << i;
	}
	sqlite3_result_int64(ctx, mask);
}

/*
 * kbstats(fts): what re-ranking needs to score a row itself, as a blob of
 * 32-bit little-endian-or-native unsigned integers: the number of phrases
 * P (at most KB_STATS_MAX_PHRASES), the number of columns C, each
 * column's length in tokens, each column's average length times 1000,
 * then P x C occurrence counts (phrase-major).
 */
struct inst {
	int col, off, concept;
};

static int
cmp_inst(const void *a, const void *b)
{
	const struct inst *x = a, *y = b;

	if (x->col != y->col)
		return x->col - y->col;
	return x->off - y->off;
}

/*
 * For each column, the most distinct concepts found within any
 * KB_PROXIMITY_WINDOW consecutive tokens.  map gives each phrase's concept
 * as space-separated numbers; phrases mapped to 255 (tags) are ignored.
 */
static void
proximity(const Fts5ExtensionApi *api, Fts5Context *fts, const char *map,
	  int nc, int ninst, uint32_t *out)
{
	unsigned char concept[KB_STATS_MAX_PHRASES];
	struct inst *in;
	int np = 0, i, j, k, ph, col, off, n = 0;
	char *end;

	memset(concept, 255, sizeof(concept));
	while (map != NULL && *map && np < KB_STATS_MAX_PHRASES) {
		long c = strtol(map, &end, 10);

		if (end == map)
			break;
		concept[np++] = (unsigned char)(c >= 0 && c < 255 ? c : 255);
		map = end;
	}
	if (ninst <= 0)
		return;
	in = sqlite3_malloc64((size_t)ninst * sizeof(*in));
	if (in == NULL)
		return;
	for (i = 0; i < ninst; i++) {
		if (api->xInst(fts, i, &ph, &col, &off) != SQLITE_OK)
			break;
		if (ph < 0 || ph >= np || concept[ph] == 255 || col < 0 ||
		    col >= nc)
			continue;
		in[n].col = col;
		in[n].off = off;
		in[n].concept = concept[ph];
		n++;
	}
	qsort(in, (size_t)n, sizeof(*in), cmp_inst);
	for (i = 0; i < n; i = j) {
		/* The run of instances in one column is [i, j). */
		for (j = i; j < n && in[j].col == in[i].col; j++)
			;
		for (k = i; k < j; k++) {
			uint64_t seen = 0;
			uint32_t cnt = 0;
			int m;

			for (m = k; m < j && in[m].off - in[k].off <
						     KB_PROXIMITY_WINDOW;
			     m++) {
				uint64_t bit = (uint64_t)1 << (in[m].concept & 63);

				if (!(seen & bit)) {
					seen |= bit;
					cnt++;
				}
			}
			if (cnt > out[in[i].col])
				out[in[i].col] = cnt;
		}
	}
	sqlite3_free(in);
}

static void
aux_stats(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
	  int argc, sqlite3_value **argv)
{
	int np = api->xPhraseCount(fts), nc = api->xColumnCount(fts);
	int ninst = 0, i, ph, col, off;
	sqlite3_int64 rows = 0, total;
	uint32_t *v;
	size_t n;

	if (np > KB_STATS_MAX_PHRASES)
		np = KB_STATS_MAX_PHRASES;
	/* ... and, with a concept map, one proximity count per column. */
	n = 2 + 2 * (size_t)nc + (size_t)np * (size_t)nc +
	    (argc > 0 ? (size_t)nc : 0);
	v = sqlite3_malloc64(n * sizeof(*v));
	if (v == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	memset(v, 0, n * sizeof(*v));
	v[0] = (uint32_t)np;
	v[1] = (uint32_t)nc;
	api->xRowCount(fts, &rows);
	for (i = 0; i < nc; i++) {
		int len = 0;

		api->xColumnSize(fts, i, &len);
		v[2 + i] = (uint32_t)(len > 0 ? len : 0);
		total = 0;
		api->xColumnTotalSize(fts, i, &total);
		v[2 + nc + i] = rows > 0 ? (uint32_t)(total * 1000 / rows) : 0;
	}
	api->xInstCount(fts, &ninst);
	for (i = 0; i < ninst; i++) {
		if (api->xInst(fts, i, &ph, &col, &off) != SQLITE_OK)
			break;
		if (ph < np && col >= 0 && col < nc)
			v[2 + 2 * nc + ph * nc + col]++;
	}
	if (argc > 0)
		proximity(api, fts, (const char *)sqlite3_value_text(argv[0]),
			  nc, ninst, v + 2 + 2 * nc + (size_t)np * nc);
	sqlite3_result_blob64(ctx, v, n * sizeof(*v), sqlite3_free);
}

/*
 * kbrank(fts, weights): a first-stage rank that needs no column lengths:
 * minus the sum, over the query's phrases present in the row, of the
 * phrase's weight (space-separated, one per phrase) times how telling its
 * best column is (heading, then title, body, tags), a little more for a
 * few repeats.  bm25 reads every matching row's size record; this reads
 * nothing but the row's own positions, and the re-ranking of the window
 * that follows does the fine scoring.
 */
static void
aux_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
	 int argc, sqlite3_value **argv)
{
	const char *w = argc > 0 ? (const char *)sqlite3_value_text(argv[0])
				 : NULL;
	int n = api->xPhraseCount(fts), i;
	double score = 0.0;
	char *end;

	/* Where a phrase is found says more than how often. */
	static const double colboost[] = { 1.3, 1.6, 1.0, 0.8 };

	for (i = 0; i < n; i++) {
		Fts5PhraseIter it;
		int col = -1, off = -1, tf = 0;
		double wt = 1.0, best = 0.0;

		if (w != NULL && *w) {
			wt = strtod(w, &end);
			w = end;
		}
		if (api->xPhraseFirst(fts, i, &it, &col, &off) != SQLITE_OK)
			continue;
		for (; col >= 0 && tf < 8; tf++) {
			double b = col < 4 ? colboost[col] : 1.0;

			if (b > best)
				best = b;
			api->xPhraseNext(fts, &it, &col, &off);
		}
		if (tf > 0)
			score += wt * (best + 0.05 * (tf > 5 ? 5 : tf));
	}
	sqlite3_result_double(ctx, -score);
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
	if (rc == SQLITE_OK)
		rc = api->xCreateFunction(api, "kbphrases", NULL, aux_phrases,
					  NULL);
	if (rc == SQLITE_OK)
		rc = api->xCreateFunction(api, "kbstats", NULL, aux_stats,
					  NULL);
	if (rc == SQLITE_OK)
		rc = api->xCreateFunction(api, "kbrank", NULL, aux_rank, NULL);
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
		term_of(toks[0].norm, 1, buf, sizeof(buf));
		r = kb_xstrdup(buf);
	}
	kb_tokens_free(toks);
	return r;
}
