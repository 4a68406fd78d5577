/* search.c - free text in, ranked sections out. */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "query.h"
#include "search.h"

/*
 * Sections matching a filter; ?3 / ?4 are NULL when there is no filter.
 * The rank column is bm25 with the column weights stored in the index.
 */
#define FILTERS                                                            \
	" AND (?3 IS NULL OR rowid IN (SELECT section_id FROM tags"        \
	"  WHERE kind = 1 AND value = ?3))"                                \
	" AND (?4 IS NULL OR rowid IN (SELECT section_id FROM tags"        \
	"  WHERE kind = 2 AND value = ?4))"

static const char count_sql[] =
	"SELECT count(*) FROM fts WHERE fts MATCH ?1" FILTERS;
static const char fetch_sql[] =
	"SELECT rowid, rank,"
	" snippet(fts, 2, char(1), char(2), '…', 24)"
	" FROM fts WHERE fts MATCH ?1" FILTERS
	" ORDER BY rank LIMIT ?5 OFFSET ?6";
static const char hit_sql[] =
	"SELECT s.article_id, s.heading, s.anchor, s.models, s.symptoms,"
	" a.title, a.path FROM sections s JOIN articles a"
	" ON a.id = s.article_id WHERE s.id = ?";
static const char df_sql[] = "SELECT doc FROM fts_vocab WHERE term = ?";
static const char cand_sql[] =
	"SELECT rowid, rank FROM fts WHERE fts MATCH ?1" FILTERS
	" ORDER BY rank LIMIT ?5";
static const char boost_sql[] = "SELECT boost FROM sections WHERE id = ?";
static const char snip_sql[] =
	"SELECT snippet(fts, 2, char(1), char(2), '…', 24)"
	" FROM fts WHERE fts MATCH ?1 AND rowid = ?2";

/*
 * The best RERANK_WINDOW sections of a level by bm25 are re-ordered with
 * what bm25 cannot see (the section's prior); past the window, bm25 order
 * stands.  The window does not depend on offset or limit, so pages stay
 * consistent with each other.
 */
#define RERANK_WINDOW 200

struct cand {
	int64_t id;
	double score;
	size_t pos; /* bm25 order, to keep the sort stable */
};

#define MAX_LEVELS (KB_QUERY_MAX_TERMS + 2)

struct level {
	char *expr;
	size_t count;
};

static int
fail(struct kb_db *db, struct kb_error *err)
{
	/* The message stays generic: SQLite's text never reaches users. */
	(void)db;
	return kb_error_set(err, KB_ERR_DB, 0,
			    "the index could not be searched (damaged or "
			    "built by another version? run kbindex --full)");
}

static void
bind_filters(sqlite3_stmt *st, const char *model, const char *symptom)
{
	if (model)
		sqlite3_bind_text(st, 3, model, -1, SQLITE_STATIC);
	if (symptom)
		sqlite3_bind_text(st, 4, symptom, -1, SQLITE_STATIC);
}

static int
count_matches(struct kb_db *db, const char *expr, const struct kb_result *r,
	      size_t *out)
{
	sqlite3_stmt *st = kb_db_stmt(db, count_sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	bind_filters(st, r->model, r->symptom);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static void
lookup_df(struct kb_db *db, struct kb_query *q)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < q->nterms; i++) {
		char *term = kb_fts_term(q->terms[i].word);

		q->terms[i].df = 0;
		st = kb_db_stmt(db, df_sql);
		if (term == NULL || st == NULL) {
			free(term);
			continue;
		}
		sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			q->terms[i].df = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		free(term);
	}
}

/*
 * The relaxation ladder: each expression matches a superset of the one
 * before, so results can be listed level by level without repeats.
 */
static size_t
build_levels(const struct kb_query *q, struct level *lv, int *relax_of)
{
	bool use[KB_QUERY_MAX_TERMS] = { false };
	bool any_content = false, all_known = true;
	size_t i, n = 0, nuse = 0;

	for (i = 0; i < q->nterms; i++)
		if (!q->terms[i].stop)
			any_content = true;
	/* Stop words count only when the query is nothing but stop words. */
	for (i = 0; i < q->nterms; i++) {
		if (any_content && q->terms[i].stop)
			continue;
		if (q->terms[i].df > 0) {
			use[i] = true;
			nuse++;
		} else {
			all_known = false;
		}
	}
	if (nuse == 0)
		return 0;
	lv[n].expr = kb_query_fts(q, use, KB_FTS_ALL);
	relax_of[n++] = all_known ? 0 : 1;
	while (nuse > 1) {
		size_t drop = q->nterms;

		for (i = 0; i < q->nterms; i++)
			if (use[i] && (drop == q->nterms ||
				       q->terms[i].df > q->terms[drop].df))
				drop = i;
		use[drop] = false;
		nuse--;
		lv[n].expr = kb_query_fts(q, use, KB_FTS_ALL);
		relax_of[n] = relax_of[n - 1] + 1;
		n++;
	}
	for (i = 0; i < q->nterms; i++)
		use[i] = q->terms[i].df > 0 && (!any_content || !q->terms[i].stop);
	lv[n].expr = kb_query_fts(q, use, KB_FTS_ANY);
	relax_of[n] = -1;
	n++;
	return n;
}

static int
fill_hit(struct kb_db *db, struct kb_hit *h)
{
	sqlite3_stmt *st = kb_db_stmt(db, hit_sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, h->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	h->article = sqlite3_column_int64(st, 0);
	h->heading = kb_col_text(st, 1, 1);
	h->anchor = kb_col_text(st, 2, 1);
	kb_strv_from_json(&h->models, (const char *)sqlite3_column_text(st, 3));
	kb_strv_from_json(&h->symptoms,
			  (const char *)sqlite3_column_text(st, 4));
	h->title = kb_col_text(st, 5, 1);
	h->path = kb_col_text(st, 6, 1);
	sqlite3_reset(st);
	return 0;
}

/* Fetch rows [off, off+lim) of expr, appending them to r->hits. */
static int
fetch(struct kb_db *db, const char *expr, size_t off, size_t lim,
      struct kb_result *r)
{
	sqlite3_stmt *st = kb_db_stmt(db, fetch_sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	bind_filters(st, r->model, r->symptom);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)lim);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)off);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kb_hit *h = &r->hits[r->nhits];

		memset(h, 0, sizeof(*h));
		h->id = sqlite3_column_int64(st, 0);
		h->score = -sqlite3_column_double(st, 1);
		h->snippet = kb_col_text(st, 2, 1);
		r->nhits++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static char *
snippet_of(struct kb_db *db, const char *expr, int64_t id)
{
	sqlite3_stmt *st = kb_db_stmt(db, snip_sql);
	char *s = NULL;

	if (st == NULL)
		return kb_xstrdup("");
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		s = kb_col_text(st, 0, 1);
	sqlite3_reset(st);
	return s ? s : kb_xstrdup("");
}

/* Rows [off, off+lim) of one level, in final order, appended to r->hits. */
static int
fetch_level(struct kb_db *db, const char *expr, size_t off, size_t lim,
	    struct kb_result *r)
{
	struct cand *c = NULL;
	sqlite3_stmt *st;
	size_t n = 0, j;
	int rc = 0, step;

	if (off >= RERANK_WINDOW)
		return fetch(db, expr, off, lim, r);
	st = kb_db_stmt(db, cand_sql);
	if (st == NULL)
		return -1;
	c = kb_xcalloc(RERANK_WINDOW, sizeof(*c));
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	bind_filters(st, r->model, r->symptom);
	sqlite3_bind_int(st, 5, RERANK_WINDOW);
	while (n < RERANK_WINDOW && (step = sqlite3_step(st)) == SQLITE_ROW) {
		c[n].id = sqlite3_column_int64(st, 0);
		c[n].score = -sqlite3_column_double(st, 1);
		c[n].pos = n;
		n++;
	}
	sqlite3_reset(st);
	for (j = 0; j < n; j++) {
		st = kb_db_stmt(db, boost_sql);
		if (st == NULL) {
			rc = -1;
			goto out;
		}
		sqlite3_bind_int64(st, 1, c[j].id);
		if (sqlite3_step(st) == SQLITE_ROW)
			c[j].score *= sqlite3_column_double(st, 0);
		sqlite3_reset(st);
	}
	qsort(c, n, sizeof(*c), cmp_cand);
	for (j = off; j < n && lim > 0; j++, lim--) {
		struct kb_hit *h = &r->hits[r->nhits++];

		memset(h, 0, sizeof(*h));
		h->id = c[j].id;
		h->score = c[j].score;
		h->snippet = snippet_of(db, expr, h->id);
	}
	if (lim > 0 && n == RERANK_WINDOW)
		rc = fetch(db, expr, RERANK_WINDOW, lim, r);
out:
	free(c);
	return rc;
}

static void
resolve_filters(struct kb_db *db, const struct kb_search_opts *o,
		struct kb_result *r)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);

	if (o->model != NULL && *o->model) {
		const struct kb_model *m = kb_taxonomy_model(t, o->model);

		r->model = kb_xstrdup(m ? m->name : o->model);
	}
	if (o->symptom != NULL && *o->symptom) {
		const struct kb_symptom *s = kb_taxonomy_symptom(t, o->symptom);

		r->symptom = kb_xstrdup(s ? s->id : o->symptom);
	}
}

int
kb_search(struct kb_db *db, const struct kb_search_opts *opts,
	  struct kb_result **out, struct kb_error *err)
{
	struct kb_result *r = kb_xcalloc(1, sizeof(*r));
	struct kb_query *q = NULL;
	struct level lv[MAX_LEVELS];
	int relax_of[MAX_LEVELS];
	size_t nlv = 0, used = 0, i, want, prev, before;
	double t0 = kb_now();
	int rc = KB_OK;

	memset(lv, 0, sizeof(lv));
	*out = NULL;
	r->limit = opts->limit == 0 ? 10 : opts->limit;
	if (r->limit > KB_SEARCH_MAX_LIMIT)
		r->limit = KB_SEARCH_MAX_LIMIT;
	r->offset = opts->offset;
	rc = kb_query_parse(opts->query ? opts->query : "", &q, err);
	if (rc != KB_OK)
		goto out;
	r->query = kb_xstrdup(q->text);
	resolve_filters(db, opts, r);
	lookup_df(db, q);
	nlv = build_levels(q, lv, relax_of);

	/* Relax until the page can be filled or there is nothing left. */
	want = r->offset + r->limit;
	for (i = 0; i < nlv; i++) {
		if (count_matches(db, lv[i].expr, r, &lv[i].count) != 0) {
			rc = fail(db, err);
			goto out;
		}
		used = i + 1;
		if (lv[i].count >= want)
			break;
	}
	if (used > 0) {
		r->total = lv[used - 1].count;
		r->relax = relax_of[used - 1];
		r->match = kb_xstrdup(lv[used - 1].expr);
	}

	r->hits = kb_xcalloc(r->limit, sizeof(*r->hits));
	prev = 0;
	for (i = 0; i < used && r->nhits < r->limit; i++) {
		size_t start = r->offset + r->nhits, off, lim;
		char *expr;

		if (lv[i].count <= start || lv[i].count == prev) {
			prev = lv[i].count > prev ? lv[i].count : prev;
			continue;
		}
		off = start > prev ? start - prev : 0;
		lim = r->limit - r->nhits;
		expr = i == 0 ? kb_xstrdup(lv[0].expr)
			      : kb_xasprintf("(%s) NOT (%s)", lv[i].expr,
					     lv[i - 1].expr);
		before = r->nhits;
		rc = fetch_level(db, expr, off, lim, r);
		free(expr);
		if (rc != 0) {
			rc = fail(db, err);
			goto out;
		}
		/* "relaxed" describes the hits shown, not the levels counted. */
		if (r->nhits > before)
			r->relax = relax_of[i];
		while (before < r->nhits)
			r->hits[before++].relax = relax_of[i];
		prev = lv[i].count;
	}
	for (i = 0; i < r->nhits; i++) {
		if (fill_hit(db, &r->hits[i]) != 0) {
			rc = fail(db, err);
			goto out;
		}
	}
	r->ms = (kb_now() - t0) * 1000.0;
out:
	for (i = 0; i < nlv; i++)
		free(lv[i].expr);
	kb_query_free(q);
	if (rc != KB_OK) {
		kb_result_free(r);
		r = NULL;
	}
	*out = r;
	return rc;
}

void
kb_result_free(struct kb_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nhits; i++) {
		struct kb_hit *h = &r->hits[i];

		free(h->title);
		free(h->heading);
		free(h->anchor);
		free(h->snippet);
		free(h->path);
		kb_strv_free(&h->models);
		kb_strv_free(&h->symptoms);
	}
	free(r->hits);
	free(r->query);
	free(r->match);
	free(r->model);
	free(r->symptom);
	free(r);
}
