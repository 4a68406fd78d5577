/* query.c - user text in, safe FTS5 expressions out. */
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "textnorm.h"
#include "util.h"

void
kb_fts_quote(struct kb_buf *b, const char *word)
{
	kb_buf_addc(b, '"');
	for (; *word; word++) {
		if (*word == '"')
			kb_buf_addc(b, '"');
		kb_buf_addc(b, *word);
	}
	kb_buf_addc(b, '"');
}

/* Cut at most max bytes from s without splitting a UTF-8 sequence. */
static size_t
clip_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int
kb_query_parse(const char *text, struct kb_query **out, struct kb_error *err)
{
	struct kb_query *q = kb_xcalloc(1, sizeof(*q));
	struct kb_token *toks = NULL;
	struct kb_strv stems;
	char stem[256];
	size_t n = 0, i, len;

	(void)err;
	kb_strv_init(&stems);
	len = clip_utf8(text, KB_QUERY_MAX_BYTES);
	q->text = kb_xstrndup(text, len);
	kb_tokenize_n(q->text, len, &toks, &n);
	q->terms = kb_xcalloc(KB_QUERY_MAX_TERMS, sizeof(*q->terms));
	for (i = 0; i < n && q->nterms < KB_QUERY_MAX_TERMS; i++) {
		const char *w = toks[i].norm;

		/* "charge charging" is one term to the index: keep one. */
		if (kb_is_negation(w))
			memcpy(stem, "not", 4);
		else
			kb_stem(w, stem, sizeof(stem));
		if (!kb_strv_add_unique(&stems, stem))
			continue;
		q->terms[q->nterms].word = kb_xstrdup(w);
		q->terms[q->nterms].stop = kb_is_stopword(w);
		q->terms[q->nterms].df = -1;
		q->nterms++;
	}
	kb_tokens_free(toks);
	kb_strv_free(&stems);
	*out = q;
	return KB_OK;
}

void
kb_query_free(struct kb_query *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nterms; i++)
		free(q->terms[i].word);
	free(q->terms);
	free(q->text);
	free(q);
}

char *
kb_query_fts(const struct kb_query *q, const bool *use, enum kb_fts_op op)
{
	struct kb_buf b;
	size_t i, k = 0;

	kb_buf_init(&b);
	for (i = 0; i < q->nterms; i++) {
		if (use != NULL && !use[i])
			continue;
		if (k++ > 0)
			kb_buf_adds(&b, op == KB_FTS_ANY ? " OR " : " ");
		kb_fts_quote(&b, q->terms[i].word);
	}
	if (k == 0) {
		kb_buf_free(&b);
		return NULL;
	}
	return kb_buf_steal(&b);
}
