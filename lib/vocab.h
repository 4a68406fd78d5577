/* vocab.h - the unstemmed word list the index keeps for typo correction. */
#ifndef KB_VOCAB_H
#define KB_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct kb_token;

/*
 * Changes to the vocabulary during one indexer run: for every word, how
 * many articles gained (+) or lost (-) it.  Words are token norms (as
 * typed, lowercased, unstemmed), 2 to 32 bytes, not all digits.
 */
struct kb_vocab_delta;

struct kb_vocab_delta *kb_vocab_delta_new(void);
void kb_vocab_delta_free(struct kb_vocab_delta *d);
/* Count each distinct word of texts[0..n) once, with sign +1 or -1. */
void kb_vocab_delta_article(struct kb_vocab_delta *d,
			    const char *const *texts, size_t n, int sign);
/*
 * An article's distinct words, packed: word i is text.data + at[i]
 * (NUL-ended) and hash[i] the low 32 bits of its kb_fnv1a_str.
 */
struct kb_words {
	struct kb_buf text;
	size_t *at;
	uint64_t *hash;
	size_t n, cap;
};

void kb_words_init(struct kb_words *w);
void kb_words_free(struct kb_words *w);
/*
 * The same in two steps, so the words can be found on another thread:
 * the distinct words of texts[0..n) put in out, which starts empty (in
 * the order first met; thread-safe),
 * then each counted with sign.
 */
void kb_vocab_words(const char *const *texts, size_t n, struct kb_words *out);
/*
 * The same for texts already tokenised: toks[k][0..ntoks[k]), k < n;
 * hashes[k], when hashes and it are not NULL, holds the low 32 bits of
 * the kb_fnv1a of each of those tokens' norms.
 */
void kb_vocab_words_tok(const struct kb_token *const *toks, const size_t *ntoks,
			const uint32_t *const *hashes, size_t n,
			struct kb_words *out);
void kb_vocab_delta_words(struct kb_vocab_delta *d,
			  const struct kb_words *words, int sign);
/* Visit every word whose count changed. */
void kb_vocab_delta_each(const struct kb_vocab_delta *d,
			 void (*fn)(void *ctx, const char *word, int64_t delta),
			 void *ctx);

#endif
