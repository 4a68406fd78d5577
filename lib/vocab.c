/* vocab.c - the unstemmed word list the index keeps for typo correction. */
#include <stdlib.h>
#include <string.h>

#include "textnorm.h"
#include "util.h"
#include "vocab.h"

struct entry {
	char *word; /* NULL: empty slot */
	uint64_t hash;
	int64_t delta;
};

struct kb_vocab_delta {
	struct entry *slots;
	size_t cap; /* power of two */
	size_t used;
};

static uint64_t
hash_str(const char *s)
{
	return kb_fnv1a(s, strlen(s));
}

struct kb_vocab_delta *
kb_vocab_delta_new(void)
{
	struct kb_vocab_delta *d = kb_xcalloc(1, sizeof(*d));

	d->cap = 1024;
	d->slots = kb_xcalloc(d->cap, sizeof(*d->slots));
	return d;
}

void
kb_vocab_delta_free(struct kb_vocab_delta *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->cap; i++)
		free(d->slots[i].word);
	free(d->slots);
	free(d);
}

static struct entry *
find_slot(struct entry *slots, size_t cap, const char *w, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slots[i].word != NULL &&
	       (slots[i].hash != h || strcmp(slots[i].word, w) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void
grow(struct kb_vocab_delta *d)
{
	struct entry *old = d->slots;
	size_t oldcap = d->cap, i;

	d->cap *= 2;
	d->slots = kb_xcalloc(d->cap, sizeof(*d->slots));
	for (i = 0; i < oldcap; i++)
		if (old[i].word != NULL)
			*find_slot(d->slots, d->cap, old[i].word,
				   old[i].hash) = old[i];
	free(old);
}

static bool
worth_keeping(const char *w)
{
	size_t n = strlen(w);
	const char *p;

	if (n < 2 || n > 32)
		return false;
	for (p = w; *p; p++)
		if (!(*p >= '0' && *p <= '9'))
			return true;
	return false;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kb_vocab_words(const char *const *texts, size_t n, struct kb_strv *out)
{
	struct kb_token *tok = NULL;
	size_t ntok, i, k, kept;

	for (k = 0; k < n; k++) {
		if (texts[k] == NULL)
			continue;
		ntok = 0;
		kb_tokenize(texts[k], &tok, &ntok);
		for (i = 0; i < ntok; i++)
			if (worth_keeping(tok[i].norm))
				kb_strv_push(out, tok[i].norm);
		kb_tokens_free(tok);
		tok = NULL;
	}
	if (out->n < 2)
		return;
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	for (i = 1, kept = 1; i < out->n; i++) {
		if (strcmp(out->v[i], out->v[kept - 1]) == 0)
			free(out->v[i]);
		else
			out->v[kept++] = out->v[i];
	}
	out->n = kept;
}

void
kb_vocab_delta_words(struct kb_vocab_delta *d, const struct kb_strv *words,
		     int sign)
{
	size_t i;

	for (i = 0; i < words->n; i++) {
		const char *w = words->v[i];
		uint64_t h = hash_str(w);
		struct entry *e = find_slot(d->slots, d->cap, w, h);

		if (e->word == NULL) {
			e->word = kb_xstrdup(w);
			e->hash = h;
			d->used++;
		}
		e->delta += sign;
		if (d->used * 2 > d->cap)
			grow(d);
	}
}

void
kb_vocab_delta_article(struct kb_vocab_delta *d, const char *const *texts,
		       size_t n, int sign)
{
	struct kb_strv words;

	kb_strv_init(&words);
	kb_vocab_words(texts, n, &words);
	kb_vocab_delta_words(d, &words, sign);
	kb_strv_free(&words);
}

void
kb_vocab_delta_each(const struct kb_vocab_delta *d,
		    void (*fn)(void *ctx, const char *word, int64_t delta),
		    void *ctx)
{
	size_t i;

	for (i = 0; i < d->cap; i++)
		if (d->slots[i].word != NULL && d->slots[i].delta != 0)
			fn(ctx, d->slots[i].word, d->slots[i].delta);
}
