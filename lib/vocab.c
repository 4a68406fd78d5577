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

void
kb_words_init(struct kb_words *w)
{
	memset(w, 0, sizeof(*w));
	kb_buf_init(&w->text);
}

void
kb_words_free(struct kb_words *w)
{
	kb_buf_free(&w->text);
	free(w->at);
	free(w->hash);
	memset(w, 0, sizeof(*w));
}

/*
 * The distinct words met so far: an open-addressing set of indexes into
 * the packed list, so that an article's words are copied once
 * each however often they repeat.
 */
struct seen {
	uint32_t *slots; /* 1 + index into out's words; 0: empty */
	size_t cap; /* a power of two */
	size_t n;
};

static void
seen_init(struct seen *s)
{
	s->cap = 512;
	s->n = 0;
	s->slots = kb_xcalloc(s->cap, sizeof(*s->slots));
}

static void
seen_grow(struct seen *s, const struct kb_words *out)
{
	uint32_t *slots = s->slots;
	size_t cap = s->cap, i, k;

	s->cap *= 2;
	s->slots = kb_xcalloc(s->cap, sizeof(*s->slots));
	for (i = 0; i < cap; i++) {
		if (slots[i] == 0)
			continue;
		k = (size_t)out->hash[slots[i] - 1] & (s->cap - 1);
		while (s->slots[k] != 0)
			k = (k + 1) & (s->cap - 1);
		s->slots[k] = slots[i];
	}
	free(slots);
}

/* Is w[0..n) in the set?  If not, *at gets the free slot for it. */
static bool
seen_find(const struct seen *s, const struct kb_words *out, const char *w,
	  size_t n, uint64_t h, size_t *at)
{
	size_t k = (size_t)h & (s->cap - 1);

	for (; s->slots[k] != 0; k = (k + 1) & (s->cap - 1)) {
		size_t i = s->slots[k] - 1;
		const char *v = out->text.data + out->at[i];

		if (out->hash[i] == h && memcmp(v, w, n) == 0 && v[n] == '\0')
			return true;
	}
	*at = k;
	return false;
}

/* Append w[0..n] (NUL-terminated) with its hash h to out, and to the set
 * at slot at. */
static void
seen_put(struct seen *s, struct kb_words *out, const char *w, size_t n,
	 uint64_t h, size_t at)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 256;
		out->at = kb_xrealloc(out->at, out->cap * sizeof(*out->at));
		out->hash = kb_xrealloc(out->hash,
					out->cap * sizeof(*out->hash));
	}
	out->at[out->n] = out->text.len;
	out->hash[out->n] = h;
	/* with its NUL (the buffer's own NUL comes after: room for both) */
	if (out->text.len + n + 2 > out->text.cap)
		kb_buf_reserve(&out->text, n + 1);
	memcpy(out->text.data + out->text.len, w, n + 1);
	out->text.len += n + 1;
	out->text.data[out->text.len] = '\0';
	s->slots[at] = (uint32_t)++out->n;
	s->n++;
	if (s->n * 2 > s->cap)
		seen_grow(s, out);
}

static void
seen_add_tokens(struct seen *seen, struct kb_words *out,
		const struct kb_token *tok, const uint32_t *hash, size_t ntok)
{
	size_t i, len, at;

	for (i = 0; i < ntok; i++) {
		const char *w = tok[i].norm;
		uint64_t h;
		size_t k = 0;

		len = tok[i].len;
		if (hash != NULL)
			h = hash[i];
		else
			h = (uint32_t)kb_fnv1a(w, len);

		/* kept: 2 to 32 bytes, not all digits */
		if (len < 2 || len > 32)
			continue;
		while (k < len && w[k] >= '0' && w[k] <= '9')
			k++;
		if (k == len)
			continue;
		if (!seen_find(seen, out, w, len, h, &at))
			seen_put(seen, out, w, len, h, at);
	}
}

void
kb_vocab_words(const char *const *texts, size_t n, struct kb_words *out)
{
	struct kb_token *tok;
	struct seen seen;
	size_t ntok, k;

	seen_init(&seen);
	for (k = 0; k < n; k++) {
		if (texts[k] == NULL)
			continue;
		tok = NULL;
		ntok = 0;
		kb_tokenize(texts[k], &tok, &ntok);
		seen_add_tokens(&seen, out, tok, NULL, ntok);
		kb_tokens_free(tok);
	}
	free(seen.slots);
}

void
kb_vocab_words_tok(const struct kb_token *const *toks, const size_t *ntoks,
		   const uint32_t *const *hashes, size_t n,
		   struct kb_words *out)
{
	struct seen seen;
	size_t k, i, bytes = 0;

	/* Room for every word (each is copied at most once). */
	for (k = 0; k < n; k++)
		for (i = 0; i < ntoks[k]; i++)
			bytes += toks[k][i].len + 1;
	kb_buf_reserve(&out->text, bytes);
	seen_init(&seen);
	for (k = 0; k < n; k++)
		seen_add_tokens(&seen, out, toks[k],
				hashes != NULL ? hashes[k] : NULL, ntoks[k]);
	free(seen.slots);
}

void
kb_vocab_delta_words(struct kb_vocab_delta *d, const struct kb_words *words,
		     int sign)
{
	size_t i;

	for (i = 0; i < words->n; i++) {
		const char *w = words->text.data + words->at[i];
		uint64_t h = words->hash[i];
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
	struct kb_words words;

	kb_words_init(&words);
	kb_vocab_words(texts, n, &words);
	kb_vocab_delta_words(d, &words, sign);
	kb_words_free(&words);
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
