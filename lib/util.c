/* util.c - growable strings, string lists, UTF-8 helpers and hashing. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* xxhash.h is the whole implementation: nothing to link. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "error.h"
#include "util.h"

_Noreturn void
kb_die_nomem(void)
{
	fputs("kbsearch: out of memory\n", stderr);
	abort();
}

void *
kb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		kb_die_nomem();
	return p;
}

void *
kb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		kb_die_nomem();
	return p;
}

void *
kb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		kb_die_nomem();
	return q;
}

char *
kb_xstrdup(const char *s)
{
	return kb_xstrndup(s, strlen(s));
}

char *
kb_xstrndup(const char *s, size_t n)
{
	char *p = kb_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
kb_xasprintf(const char *fmt, ...)
{
	char small[256];
	va_list ap;
	char *p;
	int n;

	/* Most results are short: format once, into the stack, and copy. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		kb_die_nomem();
	if ((size_t)n < sizeof(small))
		return kb_xstrndup(small, (size_t)n);
	p = kb_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
kb_buf_init(struct kb_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
kb_buf_free(struct kb_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	kb_buf_init(b);
}

void
kb_buf_reset(struct kb_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct kb_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = kb_xrealloc(b->data, b->cap);
}

void
kb_buf_reserve(struct kb_buf *b, size_t n)
{
	buf_grow(b, n);
}

void
kb_buf_add(struct kb_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
kb_buf_adds(struct kb_buf *b, const char *s)
{
	kb_buf_add(b, s, strlen(s));
}

void
kb_buf_addc(struct kb_buf *b, char c)
{
	/* Parsers append a byte at a time: skip the copy when it fits. */
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	kb_buf_add(b, &c, 1);
}

void
kb_buf_printf(struct kb_buf *b, const char *fmt, ...)
{
	size_t room = b->cap - b->len;
	va_list ap;
	int n;

	/* Format straight into the buffer; only when it is short, again. */
	if (b->data != NULL) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->data[b->len] = '\0';
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->data[b->len] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
kb_buf_steal(struct kb_buf *b)
{
	char *p;

	if (b->data == NULL)
		return kb_xstrdup("");
	p = b->data;
	kb_buf_init(b);
	return p;
}

void
kb_strv_init(struct kb_strv *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void
kb_strv_free(struct kb_strv *sv)
{
	size_t i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	kb_strv_init(sv);
}

void
kb_strv_push_own(struct kb_strv *sv, char *s)
{
	if (sv->n + 1 >= sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = kb_xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
kb_strv_push(struct kb_strv *sv, const char *s)
{
	kb_strv_push_own(sv, kb_xstrdup(s));
}

bool
kb_strv_contains(const struct kb_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcasecmp(sv->v[i], s) == 0)
			return true;
	return false;
}

bool
kb_strv_add_unique(struct kb_strv *sv, const char *s)
{
	if (kb_strv_contains(sv, s))
		return false;
	kb_strv_push(sv, s);
	return true;
}

static int
too_large(const char *path, size_t max, struct kb_error *err)
{
	if (max >= (1 << 20) && max % (1 << 20) == 0)
		return kb_error_set(err, KB_ERR_IO, 0,
				    "%s: larger than %zu MiB, skipped", path,
				    max >> 20);
	return kb_error_set(err, KB_ERR_IO, 0,
			    "%s: larger than %zu bytes, skipped", path, max);
}

int
kb_read_file(const char *path, size_t max, char **out, size_t *len,
	     struct kb_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, have = 0;
	ssize_t n;
	int rc = KB_OK, fd;

	*out = NULL;
	*len = 0;
	/* Non-blocking, so that opening a FIFO cannot wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return kb_error_set(err, KB_ERR_IO, 0, "%s: cannot open: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0, "%s: %s", path,
				  strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kb_error_set(err, KB_ERR_IO, 0,
				  "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = too_large(path, max, err);
		goto out;
	}
	/* Read straight into one buffer of the size fstat gave (+1 to see
	 * the end, or growth while it is read). */
	cap = (size_t)st.st_size + 1;
	buf = kb_xmalloc(cap + 1);
	for (;;) {
		if (have == cap) {
			if (have > max) {
				rc = too_large(path, max, err);
				goto out;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = kb_xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = kb_error_set(err, KB_ERR_IO, 0,
					  "%s: read error: %s", path,
					  strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		/* All fstat gave, in a read that came back short: the end
		 * (no second read to learn it, a system call a file). */
		if (have == (size_t)st.st_size &&
		    (size_t)n < cap - (have - (size_t)n))
			break;
	}
	if (have > max) {
		rc = too_large(path, max, err);
		goto out;
	}
	buf[have] = '\0';
	*len = have;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

size_t
kb_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	size_t len, i;

	if (n == 0) {
		*cp = 0xFFFD;
		return 1;
	}
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	} else if ((u[0] & 0xE0) == 0xC0) {
		len = 2;
		c = u[0] & 0x1F;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3;
		c = u[0] & 0x0F;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4;
		c = u[0] & 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (len > n) {
		*cp = 0xFFFD;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = c;
	return len;
}

bool
kb_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		k = kb_utf8_decode(s + i, n - i, &cp);
		if (cp == 0xFFFD && k == 1 &&
		    !(n - i >= 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0))
			return false;
		i += k;
	}
	return true;
}

void
kb_utf8_encode(struct kb_buf *b, uint32_t cp)
{
	char *t;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	buf_grow(b, 4);
	t = b->data + b->len;
	if (cp < 0x80) {
		t[0] = (char)cp;
		b->len += 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		b->len += 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		b->len += 3;
	} else {
		t[0] = (char)(0xF0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (char)(0x80 | (cp & 0x3F));
		b->len += 4;
	}
	b->data[b->len] = '\0';
}

static void
add_clean_cp(struct kb_buf *b, uint32_t cp, bool *last_cr)
{
	if (cp == '\r') {
		kb_buf_addc(b, '\n');
		*last_cr = true;
		return;
	}
	if (cp == '\n' && *last_cr) {
		*last_cr = false;
		return;
	}
	*last_cr = false;
	if (cp == 0xFEFF)
		return;
	if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7F ||
	    (cp >= 0x80 && cp < 0xA0))
		return;
	kb_utf8_encode(b, cp);
}

static char *
clean_utf16(const unsigned char *u, size_t n, bool big)
{
	struct kb_buf b;
	bool last_cr = false;
	size_t i;
	uint32_t cp, lo;

	kb_buf_init(&b);
	for (i = 2; i + 1 < n; i += 2) {
		cp = big ? (uint32_t)(u[i] << 8 | u[i + 1])
			 : (uint32_t)(u[i + 1] << 8 | u[i]);
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < n) {
			lo = big ? (uint32_t)(u[i + 2] << 8 | u[i + 3])
				 : (uint32_t)(u[i + 3] << 8 | u[i + 2]);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				i += 2;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		add_clean_cp(&b, cp, &last_cr);
	}
	return kb_buf_steal(&b);
}

/*
 * kb_text_clean for UTF-8, s[0..n), or NULL when it is not valid UTF-8
 * (as kb_utf8_valid judges).  Every code point kept is copied as it
 * stands, since re-encoding a valid sequence gives the same bytes, and
 * nothing grows, so the result fits in n + 1 bytes.
 */
#define ONES64 0x0101010101010101ULL

static char *
clean_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = kb_xmalloc(n + 1);
	size_t i = 0, o = 0, k;
	bool last_cr = false;
	uint32_t cp;

	while (i < n) {
		/* Eight printable ASCII bytes at a time, the common case. */
		while (n - i >= 8) {
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (((x - ONES64 * 0x20) & ~x & ONES64 * 0x80) != 0 ||
			    ((x + ONES64 * (127 - 0x7E)) | x) & ONES64 * 0x80)
				break;
			memcpy(out + o, &x, 8);
			o += 8;
			i += 8;
			last_cr = false;
		}
		if (i == n)
			break;
		if (u[i] >= 0x20 && u[i] < 0x7F) {
			out[o++] = s[i++];
			last_cr = false;
			continue;
		}
		if (u[i] < 0x80) {
			if (u[i] == '\r')
				out[o++] = '\n';
			else if (u[i] == '\t' || (u[i] == '\n' && !last_cr))
				out[o++] = s[i];
			last_cr = u[i] == '\r';
			i++;
			continue;
		}
		k = kb_utf8_decode(s + i, n - i, &cp);
		if (cp == 0xFFFD && k == 1) {
			free(out);
			return NULL;
		}
		if (cp != 0xFEFF && !(cp >= 0x80 && cp < 0xA0)) {
			memcpy(out + o, s + i, k);
			o += k;
		}
		last_cr = false;
		i += k;
	}
	out[o] = '\0';
	return out;
}

char *
kb_text_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct kb_buf b;
	bool last_cr = false;
	size_t i = 0;
	uint32_t cp;
	char *out;

	if (n >= 2 && u[0] == 0xFF && u[1] == 0xFE)
		return clean_utf16(u, n, false);
	if (n >= 2 && u[0] == 0xFE && u[1] == 0xFF)
		return clean_utf16(u, n, true);
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	/* Valid UTF-8 is taken as such; anything else is read as Latin-1. */
	out = clean_utf8(s + i, n - i);
	if (out != NULL)
		return out;
	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (; i < n; i++) {
		cp = u[i];
		/* Windows-1252 punctuation commonly found in "Latin-1". */
		if (cp == 0x92 || cp == 0x91)
			cp = '\'';
		else if (cp == 0x93 || cp == 0x94)
			cp = '"';
		else if (cp == 0x96 || cp == 0x97)
			cp = 0x2013;
		add_clean_cp(&b, cp, &last_cr);
	}
	return kb_buf_steal(&b);
}

void
kb_ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

char *
kb_slugify(const char *s)
{
	struct kb_buf b;
	bool dash = false;
	char c;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (; *s; s++) {
		c = *s;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && b.len > 0)
				kb_buf_addc(&b, '-');
			dash = false;
			kb_buf_addc(&b, c);
		} else if (c != '\'') {
			dash = true;
		}
	}
	return kb_buf_steal(&b);
}

void
kb_squeeze_space(char *s)
{
	char *w = s, *r = s;
	bool space = false;

	while (*r == ' ' || *r == '\t' || *r == '\n')
		r++;
	for (; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			space = true;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

int
kb_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
kb_fnv1a(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
kb_fnv1a_str(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t h = 14695981039346656037ULL;

	for (; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	if (len != NULL)
		*len = (size_t)(p - (const unsigned char *)s);
	return h;
}

void
kb_hash_hex(const void *data, size_t n, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits(data, n));
}

double
kb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
