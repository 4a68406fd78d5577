/* suggest.c - as-you-type completions: models, symptoms, article titles, words. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db_int.h"
#include "query.h"
#include "suggest.h"
#include "textnorm.h"

static const char title_sql[] =
	"SELECT title, rowid FROM titles WHERE titles MATCH ?1"
	" ORDER BY rank LIMIT ?2";
static const char word_sql[] =
	"SELECT word FROM vocab WHERE word > ?1 AND word < ?1 || char(1114111)"
	" ORDER BY df DESC, word LIMIT ?2";

static bool
seen(struct kb_suggestion *v, size_t n, const char *text)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i].text, text) == 0)
			return true;
	return false;
}

static void
push(struct kb_suggestion **v, size_t *n, enum kb_suggest_type type,
     const char *text, const char *value)
{
	if (seen(*v, *n, text))
		return;
	*v = kb_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].type = type;
	(*v)[*n].text = kb_xstrdup(text);
	(*v)[*n].value = value ? kb_xstrdup(value) : NULL;
	(*n)++;
}

/* Does a name start with what was typed (both normalised)? */
static bool
begins(const char *name, const char *typed_norm)
{
	char *n = kb_normalize(name);
	bool yes = *typed_norm && strncmp(n, typed_norm, strlen(typed_norm)) == 0;

	free(n);
	return yes;
}

int
kb_suggest(struct kb_db *db, const char *typed, size_t max,
	   struct kb_suggestion **out, size_t *n, struct kb_error *err)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);
	struct kb_token *tok = NULL;
	struct kb_buf expr;
	sqlite3_stmt *st;
	char *norm = kb_normalize(typed);
	size_t ntok = 0, i, k;
	int rc = KB_OK;

	*out = NULL;
	*n = 0;
	kb_buf_init(&expr);
	if (*norm == '\0' || max == 0)
		goto out;
	for (i = 0; i < t->nmodels && *n < max; i++) {
		const struct kb_model *m = &t->models[i];
		bool hit = begins(m->name, norm);

		for (k = 0; k < m->aliases.n && !hit; k++)
			hit = begins(m->aliases.v[k], norm);
		if (hit)
			push(out, n, KB_SUGGEST_MODEL, m->name, m->id);
	}
	for (i = 0; i < t->nsymptoms && *n < max; i++) {
		const struct kb_symptom *s = &t->symptoms[i];
		const char *hit = begins(s->label, norm) ? s->label : NULL;

		for (k = 0; k < s->phrases.n && !hit; k++)
			if (begins(s->phrases.v[k], norm))
				hit = s->phrases.v[k];
		if (hit)
			push(out, n, KB_SUGGEST_SYMPTOM, hit, s->id);
	}

	/* Titles holding every word, the last one as typed so far. */
	kb_tokenize(typed, &tok, &ntok);
	for (i = 0; i < ntok && i < 8; i++) {
		if (i)
			kb_buf_addc(&expr, ' ');
		kb_fts_quote(&expr, tok[i].norm);
		if (i == ntok - 1)
			kb_buf_addc(&expr, '*');
	}
	if (expr.len && *n < max) {
		st = kb_db_stmt(db, title_sql);
		if (st == NULL) {
			rc = kb_error_set(err, KB_ERR_DB, 0,
					  "the index could not be read");
			goto out;
		}
		sqlite3_bind_text(st, 1, expr.data, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(max - *n));
		while (sqlite3_step(st) == SQLITE_ROW && *n < max) {
			const char *title = (const char *)sqlite3_column_text(st, 0);
			char id[32];

			snprintf(id, sizeof(id), "%lld",
				 (long long)sqlite3_column_int64(st, 1));
			if (title)
				push(out, n, KB_SUGGEST_TITLE, title, id);
		}
		sqlite3_reset(st);
	}

	/* The query with its last word completed from the vocabulary. */
	if (ntok > 0 && *n < max && strlen(tok[ntok - 1].norm) >= 2) {
		const char *last = tok[ntok - 1].norm;
		size_t keep = tok[ntok - 1].start;

		st = kb_db_stmt(db, word_sql);
		if (st != NULL) {
			sqlite3_bind_text(st, 1, last, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)(max - *n));
			while (sqlite3_step(st) == SQLITE_ROW && *n < max) {
				const char *w =
					(const char *)sqlite3_column_text(st, 0);
				char *text;

				if (w == NULL)
					continue;
				text = kb_xasprintf("%.*s%s", (int)keep, typed, w);
				push(out, n, KB_SUGGEST_WORD, text, NULL);
				free(text);
			}
			sqlite3_reset(st);
		}
	}
out:
	kb_tokens_free(tok);
	kb_buf_free(&expr);
	free(norm);
	return rc;
}

void
kb_suggestions_free(struct kb_suggestion *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].value);
	}
	free(v);
}

const char *
kb_suggest_type_name(enum kb_suggest_type t)
{
	switch (t) {
	case KB_SUGGEST_MODEL:
		return "model";
	case KB_SUGGEST_SYMPTOM:
		return "symptom";
	case KB_SUGGEST_TITLE:
		return "title";
	default:
		return "word";
	}
}
