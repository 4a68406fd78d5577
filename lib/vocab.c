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
	return kb_fnv1a_str(s, NULL);
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

/*
 * The distinct words met so far: an open-addressing set of indexes into
 * the output list, so that an article's words are copied once
 * each however often they repeat.
 */
struct seen {
	uint32_t *slots; /* 1 + index into out->v; 0: empty */
	uint32_t *hashes;
	size_t cap; /* a power of two */
	size_t n;
};

static void
seen_init(struct seen *s)
{
	s->cap = 512;
	s->n = 0;
	s->slots = kb_xcalloc(s->cap, sizeof(*s->slots));
	s->hashes = kb_xcalloc(s->cap, sizeof(*s->hashes));
}

static void
seen_free(struct seen *s)
{
	free(s->slots);
	free(s->hashes);
}

static void
seen_grow(struct seen *s)
{
	uint32_t *slots = s->slots, *hashes = s->hashes;
	size_t cap = s->cap, i, k;

	s->cap *= 2;
	s->slots = kb_xcalloc(s->cap, sizeof(*s->slots));
	s->hashes = kb_xcalloc(s->cap, sizeof(*s->hashes));
	for (i = 0; i < cap; i++) {
		if (slots[i] == 0)
			continue;
		k = hashes[i] & (s->cap - 1);
		while (s->slots[k] != 0)
			k = (k + 1) & (s->cap - 1);
		s->slots[k] = slots[i];
		s->hashes[k] = hashes[i];
	}
	free(slots);
	free(hashes);
}

/* Is w[0..n) in the set?  If not, *at gets the free slot for it. */
static bool
seen_find(const struct seen *s, const struct kb_strv *out, const char *w,
	  size_t n, uint32_t h, size_t *at)
{
	size_t k = h & (s->cap - 1);

	for (; s->slots[k] != 0; k = (k + 1) & (s->cap - 1)) {
		const char *v = out->v[s->slots[k] - 1];

		if (s->hashes[k] == h && strncmp(v, w, n) == 0 && v[n] == '\0')
			return true;
	}
	*at = k;
	return false;
}

static void
seen_put(struct seen *s, size_t at, uint32_t h, size_t index)
{
	s->slots[at] = (uint32_t)index + 1;
	s->hashes[at] = h;
	s->n++;
	if (s->n * 2 > s->cap)
		seen_grow(s);
}

/* Start from the words already in out, dropping any repeats among them. */
static void
seen_start(struct seen *seen, struct kb_strv *out)
{
	size_t i, kept, len, at;
	uint32_t h;

	seen_init(seen);
	for (i = 0, kept = 0; i < out->n; i++) {
		len = strlen(out->v[i]);
		h = (uint32_t)kb_fnv1a(out->v[i], len);
		if (seen_find(seen, out, out->v[i], len, h, &at)) {
			free(out->v[i]);
			continue;
		}
		out->v[kept] = out->v[i];
		seen_put(seen, at, h, kept++);
	}
	out->n = kept;
	if (out->v != NULL)
		out->v[kept] = NULL;
}

static void
seen_add_tokens(struct seen *seen, struct kb_strv *out,
		const struct kb_token *tok, size_t ntok)
{
	size_t i, len, at;
	uint32_t h;

	for (i = 0; i < ntok; i++) {
		const char *w = tok[i].norm;
		uint64_t h64 = kb_fnv1a_str(w, &len);
		size_t k = 0;

		/* kept: 2 to 32 bytes, not all digits */
		if (len < 2 || len > 32)
			continue;
		while (k < len && w[k] >= '0' && w[k] <= '9')
			k++;
		if (k == len)
			continue;
		h = (uint32_t)h64;
		if (seen_find(seen, out, tok[i].norm, len, h, &at))
			continue;
		kb_strv_push_own(out, kb_xstrndup(tok[i].norm, len));
		seen_put(seen, at, h, out->n - 1);
	}
}

static void
seen_finish(struct seen *seen, struct kb_strv *out)
{
	(void)out;
	seen_free(seen);
}

void
kb_vocab_words(const char *const *texts, size_t n, struct kb_strv *out)
{
	struct kb_token *tok;
	struct seen seen;
	size_t ntok, k;

	seen_start(&seen, out);
	for (k = 0; k < n; k++) {
		if (texts[k] == NULL)
			continue;
		tok = NULL;
		ntok = 0;
		kb_tokenize(texts[k], &tok, &ntok);
		seen_add_tokens(&seen, out, tok, ntok);
		kb_tokens_free(tok);
	}
	seen_finish(&seen, out);
}

void
kb_vocab_words_tok(const struct kb_token *const *toks, const size_t *ntoks,
		   size_t n, struct kb_strv *out)
{
	struct seen seen;
	size_t k;

	seen_start(&seen, out);
	for (k = 0; k < n; k++)
		seen_add_tokens(&seen, out, toks[k], ntoks[k]);
	seen_finish(&seen, out);
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
