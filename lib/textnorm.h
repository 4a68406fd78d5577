/* textnorm.h - normalised word tokens, stop words and stemming. */
#ifndef KB_TEXTNORM_H
#define KB_TEXTNORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One word of a text.  norm is the word lowercased and folded to ASCII
 * where a folding exists ("Été" -> "ete", "Straße" -> "strasse"), with
 * apostrophes inside the word removed ("won't" -> "wont") and a final
 * possessive "'s" dropped ("Soundcore 2's" -> "soundcore", "2").  Letters
 * without a folding (Greek, Cyrillic, CJK ...) are kept as UTF-8, Greek and
 * Cyrillic lowercased.  start/end are byte offsets into the text that was
 * tokenised: text[start..end) is the word as written, apostrophes and
 * accents included.
 *
 * Word characters are ASCII letters and digits and code points from U+00C0
 * up, except symbols and punctuation (U+00D7, U+00F7, U+2000-U+2BFF,
 * U+3000-U+303F, variation selectors, emoji, private use, U+FFF0 up ...).
 * Everything else separates words: "usb-c" is "usb", "c"; "micro/usb" is
 * "micro", "usb".  Invalid UTF-8 separates words too.
 */
struct kb_token {
	const char *norm; /* NUL-terminated, never empty; lives in the array */
	size_t start;
	size_t end;
	uint32_t len;  /* strlen(norm) */
	uint32_t hash; /* djb2 of norm (h = h * 33 + byte from 5381), 32 bits */
};

/*
 * Tokenise text (NUL-terminated) or text[0..len).  *out gets an array of
 * *n tokens in text order, or NULL when there are none; the norm strings
 * live in the same allocation, so one kb_tokens_free releases everything.
 */
void kb_tokenize(const char *text, struct kb_token **out, size_t *n);
void kb_tokenize_n(const char *text, size_t len, struct kb_token **out,
		   size_t *n);
void kb_tokens_free(struct kb_token *tokens);

/* The norms of text's tokens joined by single spaces ("" when none). */
char *kb_normalize(const char *text);

/*
 * Common English function words ("a", "the", "is", "my" ...), given a
 * norm.  Negations ("not", "no", "never", "wont" ...) and words that
 * describe a light ("on", "off", "up", "out", "once" ...) are never stop
 * words: "no light" and "stays on" must keep every word.
 */
bool kb_is_stopword(const char *norm);

/*
 * True for norms that negate: "not", "wont", "cant", "cannot", "dont",
 * "doesnt", "isnt" ...  ("no" and "never" are not included: they carry
 * their own meaning.)  Matching treats all of them as "not", so "won't
 * charge", "doesn't charge" and "will not charge" read alike.
 */
bool kb_is_negation(const char *norm);

/*
 * Porter stem of a norm, as SQLite FTS5's porter tokenizer computes it
 * (words shorter than 3 or longer than 64 bytes are left alone):
 * "charging", "charges", "charged" -> "charg"; "batteries" -> "batteri".
 * Writes a NUL-terminated result into out (truncated to outsz - 1 bytes)
 * and returns the full length of the stem.  outsz of 65 always suffices
 * for a stem that differs from its input.
 */
size_t kb_stem(const char *norm, char *out, size_t outsz);
/*
 * kb_stem, also telling whether norm is a stop word (*stop) and a
 * negation (*neg): one lookup for callers that need all three of every
 * token.
 */
size_t kb_stem_info(const char *norm, char *out, size_t outsz, bool *stop,
		    bool *neg);
/*
 * kb_stem_info, also giving the low 32 bits of kb_fnv1a of norm
 * (*norm_hash) and of the stem (*stem_hash, when the stem fits in out):
 * hashes the indexer would otherwise take again of every token, kept
 * with each cached stem.
 */
size_t kb_stem_hashed(const char *norm, char *out, size_t outsz, bool *stop,
		      bool *neg, uint32_t *norm_hash, uint32_t *stem_hash);
/* kb_stem_hashed of a token's norm, its length and hash taken as made. */
size_t kb_stem_token(const struct kb_token *t, char *out, size_t outsz,
		     bool *stop, bool *neg, uint32_t *norm_hash,
		     uint32_t *stem_hash);

#endif
