/* util.h - growable strings, string lists, UTF-8 helpers and hashing. */
#ifndef KB_UTIL_H
#define KB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kb_error;

/*
 * Ownership: every pointer a kb_* function returns is owned by the caller
 * unless the comment says "borrowed".  Every _free accepts NULL.
 * Allocation failure aborts the process (kb_xmalloc and friends): the
 * amounts involved are bounded by input limits, and a half-built result
 * is worse than a clear exit.
 */

void *kb_xmalloc(size_t n);
void *kb_xcalloc(size_t n, size_t size);
/* Report running out of memory and abort, as the kb_x* allocators do. */
_Noreturn void kb_die_nomem(void);
void *kb_xrealloc(void *p, size_t n);
char *kb_xstrdup(const char *s);
char *kb_xstrndup(const char *s, size_t n);
char *kb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated byte buffer. */
struct kb_buf {
	char *data;
	size_t len;
	size_t cap;
};

void kb_buf_init(struct kb_buf *b);
void kb_buf_free(struct kb_buf *b);
void kb_buf_reset(struct kb_buf *b);
void kb_buf_add(struct kb_buf *b, const char *s, size_t n);
/* Room for n more bytes (and the NUL) without reallocating. */
void kb_buf_reserve(struct kb_buf *b, size_t n);
void kb_buf_adds(struct kb_buf *b, const char *s);
void kb_buf_addc(struct kb_buf *b, char c);
void kb_buf_printf(struct kb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (never NULL) and reset b. */
char *kb_buf_steal(struct kb_buf *b);

/* A list of owned strings. */
struct kb_strv {
	char **v;
	size_t n;
	size_t cap;
};

void kb_strv_init(struct kb_strv *sv);
void kb_strv_free(struct kb_strv *sv);
void kb_strv_push(struct kb_strv *sv, const char *s);
void kb_strv_push_own(struct kb_strv *sv, char *s);
/* Push s unless an equal string (case-insensitive ASCII) is present. */
bool kb_strv_add_unique(struct kb_strv *sv, const char *s);
bool kb_strv_contains(const struct kb_strv *sv, const char *s);

/* Read a whole file; *len gets its size.  Refuses files over max bytes. */
int kb_read_file(const char *path, size_t max, char **out, size_t *len,
		 struct kb_error *err);

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
bool kb_utf8_valid(const char *s, size_t n);
/*
 * Decode one code point at s (n bytes available).  Returns the number of
 * bytes consumed (>= 1); invalid input yields U+FFFD and consumes 1 byte.
 */
size_t kb_utf8_decode(const char *s, size_t n, uint32_t *cp);
void kb_utf8_encode(struct kb_buf *b, uint32_t cp);
/*
 * Turn arbitrary bytes into clean text: valid UTF-8 is kept, Latin-1 bytes
 * are converted, a UTF-8 BOM is dropped, UTF-16 with a BOM is decoded,
 * CR LF and CR become LF, NUL and other C0 controls except TAB and LF are
 * dropped.  Returns a new string.
 */
char *kb_text_clean(const char *s, size_t n);

/* Lowercase ASCII in place. */
void kb_ascii_lower(char *s);
/* A URL- and HTML-id-safe slug of s: lowercase ASCII letters, digits, '-'. */
char *kb_slugify(const char *s);
/* Collapse runs of whitespace to one space and trim both ends, in place. */
void kb_squeeze_space(char *s);

/* 64-bit FNV-1a of the bytes. */
uint64_t kb_fnv1a(const void *data, size_t n);
/* kb_fnv1a(s, strlen(s)) in one pass; *len (may be NULL) gets strlen(s). */
uint64_t kb_fnv1a_str(const char *s, size_t *len);
/*
 * A term's length and the low 32 bits of its kb_fnv1a in one word: all a
 * term dictionary needs, besides the bytes, to look the term up.
 */
#define KB_TERM_KEY(len, hash) (((uint64_t)(len) << 32) | (uint32_t)(hash))
#define KB_TERM_KEY_LEN(key) ((size_t)((key) >> 32))
#define KB_TERM_KEY_HASH(key) ((uint32_t)(key))
/* qsort/bsearch order of int64_t values, rising. */
int kb_cmp_i64(const void *a, const void *b);
/* v as a LEB128 varint at o; the byte after it. */
static inline unsigned char *
kb_put_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

/* Reads one varint from [*p, end); false when it runs past end. */
static inline bool
kb_get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;

		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return true;
		}
		shift += 7;
	}
	return false;
}

/*
 * A digest of data[0..n) as 16 lowercase hex digits into out[17]: XXH3's
 * 64-bit hash, which reads eight bytes at a step where FNV-1a takes one
 * (the indexer digests every file it reads, to skip unchanged ones).
 */
void kb_hash_hex(const void *data, size_t n, char out[17]);

/* Monotonic clock in seconds. */
double kb_now(void);

#endif
