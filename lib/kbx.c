/* kbx.c - the search index: impact-ordered postings and per-section term lists. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "db_int.h"
#include "decode.h"
#include "kbx.h"
#include "textnorm.h"

/*
 * Impact of a term in a section: BM25F over the columns (title, heading,
 * body, tags weighed as re-ranking weighs them), saturated, without idf,
 * as 1..255.  The query multiplies in the word's own weight.
 */
static const double kbx_colw[KBX_COLS] = { 0.7, 5.0, 1.0, 1.5 };
#define KBX_K1 2.5
#define KBX_B 0.8
/* Postings a query may read in all. */
#define KBX_COMPLETE 300000
/* Postings held in memory at once while rebuilding: bounds kbindex's RSS. */
#define KBX_PART 1000000
static size_t kbx_part = KBX_PART;

void
kbx_set_part_postings(size_t n)
{
	kbx_part = n > 0 ? n : KBX_PART;
}

/* ---- buffers ---- */

/* Room for n more bytes at the end of b; where they go. */
static unsigned char *
buf_room(struct kb_buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = kb_xrealloc(b->data, cap);
		b->cap = cap;
	}
	return (unsigned char *)b->data + b->len;
}

/* ---- the term dictionary of a build ---- */

struct termslot {
	char *key; /* NULL: empty */
	uint32_t len, hash, id;
};

struct termmap {
	struct termslot *slot;
	size_t cap, n;
};

static void termmap_put(struct termmap *m, char *key, uint32_t id);

static void
termmap_grow(struct termmap *m)
{
	struct termmap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->slot = kb_xcalloc(m->cap, sizeof(*m->slot));
	m->n = 0;
	for (i = 0; i < old.cap; i++)
		if (old.slot[i].key != NULL)
			termmap_put(m, old.slot[i].key, old.slot[i].id);
	free(old.slot);
}

static void
termmap_put(struct termmap *m, char *key, uint32_t id)
{
	size_t len = strlen(key), i;
	uint32_t h = (uint32_t)kb_fnv1a(key, len);

	if ((m->n + 1) * 2 > m->cap)
		termmap_grow(m);
	i = h & (m->cap - 1);
	while (m->slot[i].key != NULL)
		i = (i + 1) & (m->cap - 1);
	m->slot[i].key = key;
	m->slot[i].len = (uint32_t)len;
	m->slot[i].hash = h;
	m->slot[i].id = id;
	m->n++;
}

/* The id of term[0..len), or 0 when absent. */
static uint32_t
termmap_get_h(const struct termmap *m, const char *term, size_t len,
	      uint32_t h)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	i = h & (m->cap - 1);
	while (m->slot[i].key != NULL) {
		const struct termslot *t = &m->slot[i];

		if (t->hash == h && t->len == len &&
		    memcmp(t->key, term, len) == 0)
			return t->id;
		i = (i + 1) & (m->cap - 1);
	}
	return 0;
}

static void
termmap_free(struct termmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slot[i].key);
	free(m->slot);
}

/* ---- building ---- */

struct u32v {
	uint32_t *v;
	size_t n, cap;
};

static void
u32v_push(struct u32v *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->v = kb_xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = x;
}

/* Sections and each column's terms over the whole index. */
struct totals {
	uint64_t rows;
	uint64_t tok[KBX_COLS];
};

/* A rebuild of the postings under way (kbx_build_start). */
struct rebuild;
static void rebuild_stop(struct rebuild *r);

struct kbx_build {
	sqlite3 *sql;
	sqlite3_stmt *put_term, *put_fwd, *del_fwd;
	struct termmap terms;
	uint32_t next_id;
	struct kb_strv fresh; /* terms not yet written, id = next - n + i */
	uint32_t fresh_first;
	/* the section being added */
	struct u32v toks;
	size_t colstart[KBX_COLS + 1];
	bool dirty;
	/*
	 * While fwd only grows from empty (a new index), the totals and each
	 * term's section count are kept as sections are added, so finishing
	 * need not read fwd to count them.
	 */
	bool counting;
	int64_t last_section;
	struct totals tot;
	uint32_t *df, *df_last; /* by term id; dfcap of each */
	size_t dfcap;
	struct rebuild *rebuild; /* started by kbx_build_start */
	struct kb_buf row;	 /* the fwd row being written */
	/*
	 * While counting, every fwd row also goes to a scratch file, in the
	 * batches the rebuild reads (a uint32_t length, then rows as
	 * read_term_lists hands them over): the rebuild's worker reads it
	 * there, and finishing need not read fwd back through SQLite.
	 */
	int log_fd;	    /* -1 until the first batch is written */
	struct kb_buf log;  /* the batch being filled */
	bool log_off;	    /* it could not be written: read fwd */
};

static int
build_fail(struct kbx_build *b, struct kb_error *err, const char *what)
{
	if (sqlite3_errcode(b->sql) == SQLITE_FULL)
		return kb_error_set(err, KB_ERR_IO, 0,
				    "disk full while writing %s", what);
	return kb_error_set(err, KB_ERR_DB, 0, "writing %s: %s", what,
			    sqlite3_errmsg(b->sql));
}

int
kbx_build_begin(sqlite3 *sql, struct kbx_build **out, struct kb_error *err)
{
	struct kbx_build *b = kb_xcalloc(1, sizeof(*b));
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	b->sql = sql;
	b->log_fd = -1;
	kb_strv_init(&b->fresh);
	b->next_id = 1;
	if (sqlite3_prepare_v2(sql, "SELECT id, term FROM terms", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);

		termmap_put(&b->terms, kb_col_text(st, 1, 1), id);
		if (id >= b->next_id)
			b->next_id = id + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto fail;
	b->fresh_first = b->next_id;
	if (sqlite3_prepare_v2(sql, "SELECT 1 FROM fwd LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto fail;
	b->counting = rc == SQLITE_DONE;
	if (sqlite3_prepare_v3(sql,
			       "INSERT INTO terms(id, term) VALUES (?, ?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &b->put_term,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(sql,
			       "INSERT OR REPLACE INTO fwd(id, toks)"
			       " VALUES (?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &b->put_fwd,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(sql,
			       "DELETE FROM fwd WHERE id IN (SELECT id FROM"
			       " sections WHERE article_id = ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &b->del_fwd,
			       NULL) != SQLITE_OK)
		goto fail;
	*out = b;
	return KB_OK;
fail:
	rc = build_fail(b, err, "the term list");
	kbx_build_free(b);
	return rc;
}

void
kbx_build_free(struct kbx_build *b)
{
	if (b == NULL)
		return;
	rebuild_stop(b->rebuild);
	kb_buf_free(&b->row);
	if (b->log_fd >= 0)
		close(b->log_fd);
	kb_buf_free(&b->log);
	sqlite3_finalize(b->put_term);
	sqlite3_finalize(b->put_fwd);
	sqlite3_finalize(b->del_fwd);
	termmap_free(&b->terms);
	kb_strv_free(&b->fresh);
	free(b->toks.v);
	free(b->df);
	free(b->df_last);
	free(b);
}

/* The id of term[0..len), whose kb_fnv1a is h; new terms get the next. */
static uint32_t
term_id(struct kbx_build *b, const char *term, size_t len, uint32_t h)
{
	uint32_t id = termmap_get_h(&b->terms, term, len, h);
	char *k;

	if (id != 0)
		return id;
	k = kb_xstrndup(term, len);
	id = b->next_id++;
	termmap_put(&b->terms, k, id);
	kb_strv_push(&b->fresh, k);
	return id;
}

/* Room for n more keys in t. */
static uint64_t *
terms_key_room(struct kbx_terms *t, size_t n)
{
	if (t->nkey + n > t->keycap) {
		t->keycap = t->nkey + n + t->keycap;
		t->key = kb_xrealloc(t->key, t->keycap * sizeof(*t->key));
	}
	return t->key + t->nkey;
}

void
kbx_terms_add(struct kbx_terms *t, int col, const struct kb_token *tok,
	      size_t n)
{
	char buf[256];
	uint64_t *key = terms_key_room(t, n);
	size_t i, k, room = 0;
	uint32_t nh, th;
	bool stop, neg;

	/* A term is its norm's stem, or "not": never longer than both. */
	for (i = 0; i < n; i++)
		room += (tok[i].len > 3 ? tok[i].len : 3) + 1;
	if (t->len + room > t->cap) {
		t->cap = t->len + room;
		t->text = kb_xrealloc(t->text, t->cap);
	}
	for (i = 0; i < n; i++) {
		k = kb_fts_term_of_token(&tok[i], buf, sizeof(buf), &stop, &neg,
					 &nh, &th);
		if (t->len + k + 1 > t->cap) {
			t->cap = (t->len + k + 1) * 2;
			t->text = kb_xrealloc(t->text, t->cap);
		}
		memcpy(t->text + t->len, buf, k);
		t->text[t->len + k] = 0;
		t->len += k + 1;
		key[i] = KB_TERM_KEY(k, th);
	}
	t->nkey += n;
	t->n[col] += (uint32_t)n;
}

void
kbx_terms_add_made(struct kbx_terms *t, int col, const char *terms, size_t len,
		   const uint64_t *key, size_t n)
{
	uint64_t *to = terms_key_room(t, n);

	if (t->len + len > t->cap) {
		t->cap = (t->len + len) * 2;
		t->text = kb_xrealloc(t->text, t->cap);
	}
	if (len > 0)
		memcpy(t->text + t->len, terms, len);
	if (n > 0)
		memcpy(to, key, n * sizeof(*key));
	t->nkey += n;
	t->len += len;
	t->n[col] += (uint32_t)n;
}

void
kbx_terms_copy(struct kbx_terms *dst, const struct kbx_terms *src,
	       size_t more_bytes, size_t more_terms)
{
	int c;

	if (src->len + more_bytes > dst->cap) {
		dst->cap = src->len + more_bytes;
		dst->text = kb_xrealloc(dst->text, dst->cap);
	}
	if (src->len > 0)
		memcpy(dst->text, src->text, src->len);
	dst->len = src->len;
	dst->nkey = 0;
	terms_key_room(dst, src->nkey + more_terms);
	if (src->nkey > 0)
		memcpy(dst->key, src->key, src->nkey * sizeof(*src->key));
	dst->nkey = src->nkey;
	for (c = 0; c < KBX_COLS; c++)
		dst->n[c] = src->n[c];
}

void
kbx_terms_free(struct kbx_terms *t)
{
	free(t->text);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

/* Count the section in b->toks into the totals (b->counting). */
static void
count_section(struct kbx_build *b, int64_t section)
{
	uint32_t sec = (uint32_t)section;
	size_t i;
	int c;

	if (section <= b->last_section || section > UINT32_MAX) {
		b->counting = false; /* replaced, or out of order: count later */
		return;
	}
	b->last_section = section;
	if (b->dfcap < b->next_id) {
		size_t cap = b->next_id * 2;

		b->df = kb_xrealloc(b->df, cap * sizeof(*b->df));
		b->df_last = kb_xrealloc(b->df_last, cap * sizeof(*b->df_last));
		memset(b->df + b->dfcap, 0, (cap - b->dfcap) * sizeof(*b->df));
		memset(b->df_last + b->dfcap, 0,
		       (cap - b->dfcap) * sizeof(*b->df_last));
		b->dfcap = cap;
	}
	b->tot.rows++;
	for (c = 0; c < KBX_COLS; c++)
		b->tot.tok[c] += b->colstart[c + 1] - b->colstart[c];
	for (i = 0; i < b->toks.n; i++) {
		uint32_t v = b->toks.v[i];

		if (b->df_last[v] != sec) {
			b->df_last[v] = sec;
			b->df[v]++;
		}
	}
}

static void log_add(struct kbx_build *b, int64_t section);

int
kbx_add_terms(struct kbx_build *b, int64_t section, const struct kbx_terms *t,
	      const struct kbx_feat *feat, struct kb_error *err)
{
	const char *p = t->text;
	size_t i, total = 0, tags, atags;
	unsigned char *o;
	int c, rc = KB_OK;

	for (c = 0; c < KBX_COLS; c++)
		total += t->n[c];
	if (b->toks.cap < total) {
		b->toks.cap = total;
		b->toks.v = kb_xrealloc(b->toks.v, total * sizeof(*b->toks.v));
	}
	b->toks.n = 0;
	for (c = 0; c < KBX_COLS; c++) {
		b->colstart[c] = b->toks.n;
		for (i = 0; i < t->n[c]; i++) {
			uint64_t key = t->key[b->toks.n];
			size_t k = KB_TERM_KEY_LEN(key);

			b->toks.v[b->toks.n++] =
			    term_id(b, p, k, KB_TERM_KEY_HASH(key));
			p += k + 1;
		}
	}
	b->colstart[KBX_COLS] = b->toks.n;
	if (b->counting)
		count_section(b, section);
	for (i = 0; i < b->fresh.n; i++) {
		sqlite3_bind_int64(b->put_term, 1,
				   (sqlite3_int64)(b->fresh_first + i));
		sqlite3_bind_text(b->put_term, 2, b->fresh.v[i], -1,
				  SQLITE_STATIC);
		if (sqlite3_step(b->put_term) != SQLITE_DONE)
			rc = build_fail(b, err, "the term list");
		sqlite3_reset(b->put_term);
		if (rc != KB_OK)
			return rc;
	}
	b->fresh_first += (uint32_t)b->fresh.n;
	if (b->fresh.n > 0) {
		kb_strv_free(&b->fresh);
		kb_strv_init(&b->fresh);
	}

	/* The row: column lengths, ids, article, prior, the two tag texts. */
	tags = feat->tags != NULL ? strlen(feat->tags) : 0;
	atags = feat->article_tags != NULL ? strlen(feat->article_tags) : 0;
	kb_buf_reset(&b->row);
	o = buf_room(&b->row, 10 * (KBX_COLS + 3) + 5 * total +
				  sizeof(feat->prior) + tags + atags);
	for (c = 0; c < KBX_COLS; c++)
		o = kb_put_varint(o, b->colstart[c + 1] - b->colstart[c]);
	for (i = 0; i < b->toks.n; i++)
		o = kb_put_varint(o, b->toks.v[i]);
	o = kb_put_varint(o, (uint64_t)feat->article);
	memcpy(o, &feat->prior, sizeof(feat->prior));
	o += sizeof(feat->prior);
	o = kb_put_varint(o, tags);
	if (tags > 0)
		memcpy(o, feat->tags, tags);
	o += tags;
	o = kb_put_varint(o, atags);
	if (atags > 0)
		memcpy(o, feat->article_tags, atags);
	o += atags;
	b->row.len = (size_t)((char *)o - b->row.data);
	sqlite3_bind_int64(b->put_fwd, 1, section);
	sqlite3_bind_blob(b->put_fwd, 2, b->row.data, (int)b->row.len,
			  SQLITE_STATIC);
	if (sqlite3_step(b->put_fwd) != SQLITE_DONE)
		rc = build_fail(b, err, "section tokens");
	sqlite3_reset(b->put_fwd);
	b->dirty = true;
	if (rc == KB_OK)
		log_add(b, section);
	return rc;
}

int
kbx_build_delete_article(struct kbx_build *b, int64_t article,
			 struct kb_error *err)
{
	int rc = KB_OK;

	b->counting = false;
	sqlite3_bind_int64(b->del_fwd, 1, article);
	if (sqlite3_step(b->del_fwd) != SQLITE_DONE)
		rc = build_fail(b, err, "section tokens");
	sqlite3_reset(b->del_fwd);
	b->dirty = true;
	return rc;
}

/* One decoded fwd row. */
struct fwd_row {
	uint32_t len[KBX_COLS];
	uint64_t ntok;		      /* term ids, then the features */
	const unsigned char *p, *end;
};

/* The next term id; false after the last. */
static bool
fwd_next(struct fwd_row *r, uint64_t *v)
{
	if (r->ntok == 0)
		return false;
	r->ntok--;
	return kb_get_varint(&r->p, r->end, v);
}

static bool
fwd_open(struct fwd_row *r, const void *blob, int bytes)
{
	int c;

	r->p = blob;
	r->end = r->p + (bytes > 0 ? bytes : 0);
	for (c = 0; c < KBX_COLS; c++) {
		uint64_t v;

		if (!kb_get_varint(&r->p, r->end, &v) || v > UINT32_MAX)
			return false;
		r->len[c] = (uint32_t)v;
	}
	r->ntok = (uint64_t)r->len[0] + r->len[1] + r->len[2] + r->len[3];
	return true;
}

/* Column lengths over all sections, and each term's section count. */
static int
count_pass(struct kbx_build *b, struct totals *t, uint32_t *df,
	   uint32_t *last, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	if (sqlite3_prepare_v2(b->sql, "SELECT id, toks FROM fwd", -1, &st,
			       NULL) != SQLITE_OK)
		return build_fail(b, err, "postings");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t sec = (uint32_t)sqlite3_column_int64(st, 0);
		struct fwd_row r;
		uint64_t v;
		int c;

		if (!fwd_open(&r, sqlite3_column_blob(st, 1),
			      sqlite3_column_bytes(st, 1)))
			continue;
		t->rows++;
		for (c = 0; c < KBX_COLS; c++)
			t->tok[c] += r.len[c];
		while (fwd_next(&r, &v))
			if (v < b->next_id && last[v] != sec) {
				last[v] = sec;
				df[v]++;
			}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? KB_OK : build_fail(b, err, "postings");
}

static uint8_t
impact(const uint16_t tf[KBX_COLS], const double norm[KBX_COLS])
{
	double w = 0.0, s;
	int c, q;

	/* a column without the term adds exactly 0 */
	for (c = 0; c < KBX_COLS; c++)
		if (tf[c] != 0)
			w += kbx_colw[c] * tf[c] / norm[c];
	s = w * (KBX_K1 + 1.0) / (w + KBX_K1);
	s = s / (KBX_K1 + 1.0) * 255.0;
	/* ceil(s) for 0 <= s < 256, without a call into libm */
	q = (int)s;
	q += q < s;
	return (uint8_t)(q < 1 ? 1 : q > 255 ? 255 : q);
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * One term's postings, added to out: df, the number of groups, then per
 * group its impact, count and byte length; then the groups' section
 * numbers, each group in rising order, delta-coded from 0.  SEC is in
 * rising order.  A first pass sizes every group, so the second writes
 * each section straight to its group's place: no copy of the term's
 * sections is made, whatever its df.
 */
static void
encode_postings(const uint32_t *sec, const uint8_t *imp, size_t n,
		struct kb_buf *out)
{
	size_t cnt[256] = { 0 }, len[256] = { 0 }, head, body = 0, i;
	uint32_t prev[256] = { 0 };
	unsigned char *o, *at[256];
	int v, nseg = 0;

	for (i = 0; i < n; i++) {
		uint8_t m = imp[i];

		cnt[m]++;
		len[m] += varint_len(sec[i] - prev[m]);
		prev[m] = sec[i];
	}
	head = 0;
	for (v = 255; v >= 1; v--) {
		if (cnt[v] == 0)
			continue;
		nseg++;
		head += 1 + varint_len(cnt[v]) + varint_len(len[v]);
		body += len[v];
	}
	head += varint_len(n) + varint_len((uint64_t)nseg);
	o = buf_room(out, head + body);
	o = kb_put_varint(o, n);
	o = kb_put_varint(o, (uint64_t)nseg);
	for (v = 255; v >= 1; v--) {
		if (cnt[v] == 0)
			continue;
		*o++ = (unsigned char)v;
		o = kb_put_varint(o, cnt[v]);
		o = kb_put_varint(o, len[v]);
	}
	for (v = 255; v >= 1; v--) {
		at[v] = o;
		o += len[v];
		prev[v] = 0;
	}
	for (i = 0; i < n; i++) {
		uint8_t m = imp[i];

		if (m >= 1) {
			at[m] = kb_put_varint(at[m], sec[i] - prev[m]);
			prev[m] = sec[i];
		}
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
}

/*
 * Rebuilding the postings from the term lists.  Terms are cut into parts
 * of at most kbx_part postings, the most held in memory at once.  With one
 * part the postings go straight to memory; with more, one pass over the
 * term lists spills each posting to its part's region of a scratch file
 * beside the index, and each part is then read back alone.  Either way
 * the term lists are read twice in all (counting, then this), not once
 * per part.
 *
 * Two threads share the work: the calling thread, which owns the SQLite
 * connection, reads the term lists and stores the encoded postings; a
 * worker computes the impacts, writes and reads the scratch file and
 * encodes each part, the part after the one being stored.
 */
struct spill {
	int fd;
	uint32_t nparts;
	uint32_t *part_lo;   /* first term of each part; nparts + 1 */
	uint32_t *part_of;   /* part of each term */
	uint64_t *base;      /* each part's region of the file, in bytes */
	uint64_t *done;      /* bytes each part has in the file so far */
	unsigned char **buf; /* each part's records not yet written */
	size_t *nbuf, bufcap;
	uint32_t *last;	     /* each part's last section spilled */
	int err;	     /* errno of a failed write */
};

/* Terms in one part: a spilled posting has 24 bits for its term. */
#define SPILL_WIDTH (1u << 24)
/*
 * A spilled posting: its section as a varint delta from the part's last
 * one (sections come in rising order), its term within the part as a
 * varint, its impact; at most SPILL_MAX bytes, ~3 on the bench corpus.
 */
#define SPILL_MAX 10

/* n bytes at fd's offset at; false (errno set) when they cannot be. */
static bool
pwrite_all(int fd, const void *data, size_t n, off_t at)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = pwrite(fd, (const char *)data + put, n - put,
				   at + (off_t)put);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return false;
		}
		put += (size_t)w;
	}
	return true;
}

/* Up to n bytes from fd's offset at: how many (short at the end), -1. */
static ssize_t
pread_all(int fd, void *data, size_t n, off_t at)
{
	size_t have = 0;

	while (have < n) {
		ssize_t got = pread(fd, (char *)data + have, n - have,
				    at + (off_t)have);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		have += (size_t)got;
	}
	return (ssize_t)have;
}

static void
spill_flush(struct spill *s, uint32_t p)
{
	if (s->err == 0 &&
	    !pwrite_all(s->fd, s->buf[p], s->nbuf[p],
			(off_t)(s->base[p] + s->done[p])))
		s->err = errno;
	s->done[p] += s->nbuf[p];
	s->nbuf[p] = 0;
}

static void
spill_put(struct spill *s, uint32_t p, uint32_t ti, uint8_t imp, uint32_t sec)
{
	unsigned char *o = s->buf[p] + s->nbuf[p];

	o = kb_put_varint(o, sec - s->last[p]);
	o = kb_put_varint(o, ti);
	*o++ = imp;
	s->last[p] = sec;
	s->nbuf[p] = (size_t)(o - s->buf[p]);
	if (s->bufcap - s->nbuf[p] < SPILL_MAX)
		spill_flush(s, p);
}

/* A scratch file beside the index, already unlinked; -1 and *path. */
static int
scratch_open(sqlite3 *sql, char **path)
{
	const char *db = sqlite3_db_filename(sql, "main");
	const char *slash = db != NULL ? strrchr(db, '/') : NULL;
	int fd;

	if (db == NULL || *db == 0)
		*path = kb_xstrdup("/tmp/kbx-spill-XXXXXX");
	else if (slash == NULL)
		*path = kb_xstrdup("kbx-spill-XXXXXX");
	else
		*path = kb_xasprintf("%.*s/kbx-spill-XXXXXX",
				     (int)(slash - db), db);
	fd = mkstemp(*path);
	if (fd >= 0) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
	return fd;
}

/* A scratch file for the rebuild in *fd, or an error naming it. */
static int
scratch_create(struct kbx_build *b, int *fd, struct kb_error *err)
{
	char *path;

	*fd = scratch_open(b->sql, &path);
	if (*fd < 0) {
		int e = errno, rc;

		rc = kb_error_set(err, KB_ERR_IO, 0,
				  "writing postings: cannot create %s: %s",
				  path, strerror(e));
		free(path);
		return rc;
	}
	return KB_OK;
}

static void
spill_free(struct spill *s)
{
	uint32_t p;

	if (s->fd >= 0)
		close(s->fd);
	for (p = 0; s->buf != NULL && p < s->nparts; p++)
		free(s->buf[p]);
	free(s->buf);
	free(s->nbuf);
	free(s->part_lo);
	free(s->part_of);
	free(s->base);
	free(s->done);
	free(s->last);
}

/* Term lists handed from the reading thread to the worker. */
#define BATCH_BYTES (256u << 10)
#define NBATCH 4

struct batch {
	unsigned char *data; /* rows: u32 section, u32 bytes, the row */
	size_t len, cap;
};

/* Stop logging: finishing reads fwd. */
static void
log_drop(struct kbx_build *b)
{
	if (b->log_fd >= 0)
		close(b->log_fd);
	b->log_fd = -1;
	b->log_off = true;
	kb_buf_free(&b->log);
}

/* Write the batch being filled to the log; false if it is dropped. */
static bool
log_flush(struct kbx_build *b)
{
	uint32_t len = (uint32_t)b->log.len;
	char *path = NULL;
	off_t end;

	if (b->log_off)
		return false;
	if (b->log.len == 0)
		return true;
	if (b->log_fd < 0 && (b->log_fd = scratch_open(b->sql, &path)) < 0) {
		free(path);
		log_drop(b);
		return false;
	}
	end = lseek(b->log_fd, 0, SEEK_END);
	if (end < 0 || b->log.len > UINT32_MAX ||
	    !pwrite_all(b->log_fd, &len, sizeof(len), end) ||
	    !pwrite_all(b->log_fd, b->log.data, b->log.len,
			end + (off_t)sizeof(len))) {
		log_drop(b);
		return false;
	}
	kb_buf_reset(&b->log);
	return true;
}

/* The fwd row just written (b->row), logged while counting. */
static void
log_add(struct kbx_build *b, int64_t section)
{
	uint32_t head[2];

	if (b->log_off)
		return;
	if (!b->counting) {
		log_drop(b);
		return;
	}
	if (b->log.len > 0 &&
	    b->log.len + sizeof(head) + b->row.len > BATCH_BYTES &&
	    !log_flush(b))
		return;
	head[0] = (uint32_t)section;
	head[1] = (uint32_t)b->row.len;
	kb_buf_add(&b->log, (const char *)head, sizeof(head));
	kb_buf_add(&b->log, b->row.data, b->row.len);
}

/*
 * Encoded postings handed back through a scratch file, a few terms at a
 * time: u32 term, u32 bytes, the postings.  The calling thread has the
 * index's own finishing to do meanwhile (its late indexes, the title
 * index); a file lets the worker run ahead of it by the whole 40-odd MB
 * of a 100k build's postings without holding them in memory, where two
 * 256 KiB buffers held the worker back until the caller came to store.
 */
#define OUT_BYTES (256u << 10)

struct rebuild {
	struct kbx_build *b;
	struct totals t;
	uint32_t *df;	 /* each term's sections */
	struct spill sp;
	struct spill *s; /* &sp, or NULL: one part, straight to memory */
	pthread_t worker;
	bool running, locks;
	/* the worker's */
	uint16_t *tf;
	uint32_t *touched;
	size_t tcap;
	double avg[KBX_COLS];
	size_t *off, *fill;
	uint32_t *sec;
	uint8_t *imp;
	struct kb_error err; /* a failed scratch-file read */
	int rc;
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch in[NBATCH];
	size_t in_put, in_got;
	bool in_closed; /* every term list is handed over */
	int log_fd;	/* the build's log, read by the worker; -1 none */
	int out_fd;	     /* the encoded postings, or -1 */
	struct kb_buf out;   /* the worker's, not yet written */
	uint64_t out_at;     /* the worker's: bytes written */
	uint64_t out_end;    /* shared: bytes of whole records in out_fd */
	bool out_closed; /* every part is handed back, or the worker failed */
	bool quit;	 /* the reading thread failed: stop */
};

/* One section's impacts, to memory or to its terms' parts' buffers. */
static void
impact_row(struct rebuild *r, uint32_t id, const void *blob, int bytes)
{
	struct kbx_build *b = r->b;
	struct spill *s = r->s;
	double norm[KBX_COLS];
	struct fwd_row fr;
	const unsigned char *p;
	size_t nt = 0, k;
	uint64_t v;
	int c;

	if (!fwd_open(&fr, blob, bytes))
		return;
	if (fr.ntok > r->tcap) {
		r->tcap = (size_t)fr.ntok;
		r->touched = kb_xrealloc(r->touched,
					 r->tcap * sizeof(*r->touched));
	}
	for (c = 0; c < KBX_COLS; c++)
		norm[c] = r->avg[c] > 0
				  ? 1.0 - KBX_B + KBX_B * fr.len[c] / r->avg[c]
				  : 1.0;
	/*
	 * A column at a time.  Term ids under 2^14 take one or two bytes;
	 * those are decoded without a loop (no branch on which it is).
	 */
	p = fr.p;
	for (c = 0; c < KBX_COLS; c++) {
		for (k = fr.len[c]; k > 0; k--) {
			uint16_t *x;

			if (fr.end - p >= 2 && !(p[0] & p[1] & 0x80)) {
				unsigned two = p[0] >> 7;

				v = (p[0] & 0x7fu) |
				    (((p[1] & 0x7fu) << 7) & (0u - two));
				p += 1 + two;
			} else if (!kb_get_varint(&p, fr.end, &v)) {
				goto counted;
			}
			if (v >= b->next_id)
				continue;
			x = &r->tf[v * KBX_COLS];
			if (x[0] == 0 && x[1] == 0 && x[2] == 0 && x[3] == 0)
				r->touched[nt++] = (uint32_t)v;
			if (x[c] < UINT16_MAX)
				x[c]++;
		}
	}
counted:
	for (k = 0; k < nt; k++) {
		uint32_t ti = r->touched[k];
		uint8_t w = impact(&r->tf[(size_t)ti * KBX_COLS], norm);

		memset(&r->tf[(size_t)ti * KBX_COLS], 0,
		       KBX_COLS * sizeof(*r->tf));
		if (s == NULL) {
			size_t at = r->off[ti] + r->fill[ti];

			if (at < r->off[ti + 1]) {
				r->sec[at] = id;
				r->imp[at] = w;
				r->fill[ti]++;
			}
		} else {
			uint32_t part = s->part_of[ti];

			spill_put(s, part, ti - s->part_lo[part], w, id);
		}
	}
}

/* Part p's postings back from the scratch file into memory. */
static int
unspill(struct spill *s, uint32_t p, const size_t *off, size_t *fill,
	uint32_t *sec, uint8_t *imp, struct kb_error *err)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *buf = kb_xmalloc(CHUNK);
	uint64_t at = s->base[p], end = s->base[p] + s->done[p];
	uint32_t width = s->part_lo[p + 1] - s->part_lo[p], last = 0;
	size_t have = 0;

	while (at < end || have > 0) {
		size_t want = CHUNK - have, used = 0;
		const unsigned char *q, *qend;

		if (want > end - at)
			want = (size_t)(end - at);
		if (want > 0) {
			ssize_t got = pread(s->fd, buf + have, want, (off_t)at);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				free(buf);
				return kb_error_set(
				    err, KB_ERR_IO, 0,
				    "writing postings: reading back the "
				    "scratch file: %s",
				    got < 0 ? strerror(errno) : "short read");
			}
			have += (size_t)got;
			at += (uint64_t)got;
		}
		q = buf;
		qend = buf + have;
		/* Whole records only, but for the file's last bytes. */
		while (q < qend && (qend - q >= SPILL_MAX || at == end)) {
			uint64_t d, ti;
			size_t pos;

			if (!kb_get_varint(&q, qend, &d) ||
			    !kb_get_varint(&q, qend, &ti) || q >= qend) {
				free(buf);
				return kb_error_set(err, KB_ERR_IO, 0,
						    "writing postings: the "
						    "scratch file is corrupt");
			}
			last += (uint32_t)d;
			if (ti < width) {
				pos = off[ti] + fill[ti];
				if (pos < off[ti + 1]) {
					sec[pos] = last;
					imp[pos] = *q;
					fill[ti]++;
				}
			}
			q++;
		}
		used = (size_t)(q - buf);
		memmove(buf, q, have - used);
		have -= used;
	}
	free(buf);
	return KB_OK;
}

/* Where each of terms [first, first + width) starts in a part's arrays. */
static void
part_offsets(const uint32_t *df, uint32_t first, size_t width, size_t *off,
	     size_t *fill)
{
	size_t sum = 0, i;

	for (i = 0; i < width; i++) {
		off[i] = sum;
		fill[i] = 0;
		sum += df[first + i];
	}
	off[width] = sum;
}

/*
 * Write the worker's encoded postings to the file and tell the reading
 * thread; false when told to stop or the write failed (r->rc says).
 */
static bool
out_flush(struct rebuild *r)
{
	bool quit;

	if (r->out.len > 0 &&
	    !pwrite_all(r->out_fd, r->out.data, r->out.len, (off_t)r->out_at)) {
		r->rc = kb_error_set(&r->err, KB_ERR_IO, 0,
				     "writing postings: scratch file beside "
				     "the index: %s",
				     strerror(errno));
		return false;
	}
	r->out_at += r->out.len;
	kb_buf_reset(&r->out);
	pthread_mutex_lock(&r->mu);
	r->out_end = r->out_at;
	quit = r->quit;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return !quit;
}

/* Encode a part's terms' postings for the reading thread; false: stop. */
static bool
encode_part(struct rebuild *r, uint32_t first, size_t width)
{
	struct kb_buf *out = &r->out;
	size_t i;

	for (i = 0; i < width; i++) {
		uint32_t head[2];
		size_t at;

		if (r->fill[i] == 0)
			continue;
		head[0] = first + (uint32_t)i;
		head[1] = 0;
		at = out->len;
		kb_buf_add(out, (const char *)head, sizeof(head));
		encode_postings(r->sec + r->off[i], r->imp + r->off[i],
				r->fill[i], out);
		head[1] = (uint32_t)(out->len - at - sizeof(head));
		memcpy(out->data + at + sizeof(uint32_t), &head[1],
		       sizeof(head[1]));
		if (out->len >= OUT_BYTES && !out_flush(r))
			return false;
	}
	return true;
}

/* Every term list from the build's log (a new index); false to stop. */
static bool
read_log(struct rebuild *r)
{
	struct batch *bt = &r->in[0];
	off_t at = 0;
	const char *why = "cut short";
	int e = 0;

	for (;;) {
		uint32_t len, head[2];
		ssize_t n;
		size_t k;
		bool quit;

		pthread_mutex_lock(&r->mu);
		quit = r->quit;
		pthread_mutex_unlock(&r->mu);
		if (quit)
			return false;
		n = pread_all(r->log_fd, &len, sizeof(len), at);
		if (n == 0)
			return true;
		if (n < 0)
			e = errno;
		if (n != (ssize_t)sizeof(len))
			goto fail;
		at += (off_t)sizeof(len);
		if (bt->cap < len) {
			bt->data = kb_xrealloc(bt->data, len);
			bt->cap = len;
		}
		n = pread_all(r->log_fd, bt->data, len, at);
		if (n < 0)
			e = errno;
		if (n != (ssize_t)len)
			goto fail;
		at += (off_t)len;
		for (k = 0; k < len;) {
			if (len - k < sizeof(head))
				goto bad;
			memcpy(head, bt->data + k, sizeof(head));
			k += sizeof(head);
			if (head[1] > len - k || head[1] > INT_MAX)
				goto bad;
			impact_row(r, head[0], bt->data + k, (int)head[1]);
			k += head[1];
		}
	}
bad:
	why = "damaged";
fail:
	r->rc = kb_error_set(&r->err, KB_ERR_IO, 0,
			     "writing postings: scratch file beside the index:"
			     " %s",
			     e != 0 ? strerror(e) : why);
	return false;
}

/* The worker: impacts, then each part read back and encoded. */
static void *
rebuild_worker(void *arg)
{
	struct rebuild *r = arg;
	struct spill *s = r->s;
	uint32_t p, nparts = s != NULL ? s->nparts : 1;
	bool quit = false;

	if (r->log_fd >= 0)
		quit = !read_log(r);
	for (; !quit;) {
		struct batch *bt;
		size_t at;

		pthread_mutex_lock(&r->mu);
		while (r->in_got == r->in_put && !r->in_closed && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		quit = r->quit;
		if (quit || r->in_got == r->in_put) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		bt = &r->in[r->in_got % NBATCH];
		pthread_mutex_unlock(&r->mu);
		for (at = 0; at < bt->len;) {
			uint32_t head[2];

			memcpy(head, bt->data + at, sizeof(head));
			at += sizeof(head);
			impact_row(r, head[0], bt->data + at, (int)head[1]);
			at += head[1];
		}
		pthread_mutex_lock(&r->mu);
		r->in_got++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	/* The term lists are all read: their buffers go. */
	for (p = 0; !quit && p < NBATCH; p++) {
		free(r->in[p].data);
		r->in[p].data = NULL;
	}
	if (!quit && s != NULL) {
		for (p = 0; p < s->nparts; p++)
			if (s->nbuf[p] > 0)
				spill_flush(s, p);
		for (p = 0; p < s->nparts; p++) {
			free(s->buf[p]);
			s->buf[p] = NULL;
		}
		if (s->err != 0)
			r->rc = kb_error_set(&r->err, KB_ERR_IO, 0,
					     "writing postings: scratch file "
					     "beside the index: %s",
					     strerror(s->err));
	}
	for (p = 0; p < nparts && !quit && r->rc == KB_OK; p++) {
		uint32_t first = s != NULL ? s->part_lo[p] : 0;
		size_t width = s != NULL ? s->part_lo[p + 1] - first
					 : r->b->next_id;

		if (s != NULL) {
			part_offsets(r->df, first, width, r->off, r->fill);
			r->rc = unspill(s, p, r->off, r->fill, r->sec, r->imp,
					&r->err);
			if (r->rc != KB_OK)
				break;
		}
		if (!encode_part(r, first, width))
			break;
	}
	if (!quit && r->rc == KB_OK)
		out_flush(r);
	pthread_mutex_lock(&r->mu);
	r->out_closed = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Hand the worker every section's term list. */
static int
read_term_lists(struct rebuild *r, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct batch *bt = NULL;
	int step = SQLITE_ERROR;

	if (sqlite3_prepare_v2(r->b->sql, "SELECT id, toks FROM fwd", -1,
			       &st, NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int bytes = sqlite3_column_bytes(st, 1);
		uint32_t head[2];

		if (bt != NULL && bt->len > 0 &&
		    bt->len + sizeof(head) + (size_t)bytes >
					  BATCH_BYTES) {
			pthread_mutex_lock(&r->mu);
			r->in_put++;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			bt = NULL;
		}
		if (bt == NULL) {
			pthread_mutex_lock(&r->mu);
			while (r->in_put - r->in_got == NBATCH && !r->out_closed)
				pthread_cond_wait(&r->cv, &r->mu);
			bt = &r->in[r->in_put % NBATCH];
			pthread_mutex_unlock(&r->mu);
			bt->len = 0;
		}
		head[0] = (uint32_t)sqlite3_column_int64(st, 0);
		head[1] = (uint32_t)(bytes > 0 ? bytes : 0);
		if (bt->len + sizeof(head) + head[1] > bt->cap) {
			bt->cap = bt->len + sizeof(head) + head[1];
			bt->cap = bt->cap < BATCH_BYTES ? BATCH_BYTES : bt->cap;
			bt->data = kb_xrealloc(bt->data, bt->cap);
		}
		memcpy(bt->data + bt->len, head, sizeof(head));
		if (head[1] > 0)
			memcpy(bt->data + bt->len + sizeof(head),
			       sqlite3_column_blob(st, 1), head[1]);
		bt->len += sizeof(head) + head[1];
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_lock(&r->mu);
	if (bt != NULL)
		r->in_put++;
	r->in_closed = true;
	if (step != SQLITE_DONE)
		r->quit = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return step == SQLITE_DONE ? KB_OK : build_fail(r->b, err, "postings");
}

/* Store what the worker encodes, part by part, until it is done. */
static int
store_parts(struct rebuild *r, struct kb_error *err)
{
	sqlite3_stmt *put = NULL;
	struct kb_buf in;   /* read from the file, not yet stored */
	uint64_t read = 0;  /* bytes of the file read */
	size_t at = 0;	    /* in in.data: the next record */
	int rc = KB_OK;

	kb_buf_init(&in);
	if (sqlite3_prepare_v2(r->b->sql,
			       "INSERT INTO postings(id, data) VALUES (?, ?)",
			       -1, &put, NULL) != SQLITE_OK)
		rc = build_fail(r->b, err, "postings");
	while (rc == KB_OK) {
		uint64_t end;
		uint32_t head[2];
		size_t want;
		ssize_t got;
		bool failed;

		/* Every whole record in hand is stored first. */
		if (in.len - at >= sizeof(head)) {
			memcpy(head, in.data + at, sizeof(head));
			if (in.len - at - sizeof(head) >= head[1]) {
				at += sizeof(head);
				sqlite3_bind_int64(put, 1,
						   (sqlite3_int64)head[0]);
				sqlite3_bind_blob(put, 2, in.data + at,
						  (int)head[1], SQLITE_STATIC);
				if (sqlite3_step(put) != SQLITE_DONE)
					rc = build_fail(r->b, err, "postings");
				sqlite3_reset(put);
				at += head[1];
				continue;
			}
		}
		pthread_mutex_lock(&r->mu);
		while (r->out_end == read && !r->out_closed)
			pthread_cond_wait(&r->cv, &r->mu);
		end = r->out_end;
		failed = r->out_closed && r->rc != KB_OK;
		pthread_mutex_unlock(&r->mu);
		if (end == read) {
			/* the worker is done (a failure is told by r->rc) */
			if (!failed && at != in.len)
				rc = kb_error_set(err, KB_ERR_IO, 0,
						  "writing postings: the "
						  "scratch file is corrupt");
			break;
		}
		/* Keep the record begun, and read on. */
		if (at > 0) {
			memmove(in.data, in.data + at, in.len - at);
			in.len -= at;
			at = 0;
		}
		want = end - read > OUT_BYTES ? OUT_BYTES : (size_t)(end - read);
		kb_buf_reserve(&in, want);
		got = pread_all(r->out_fd, in.data + in.len, want, (off_t)read);
		if (got != (ssize_t)want) {
			rc = kb_error_set(err, KB_ERR_IO, 0,
					  "writing postings: reading back the "
					  "scratch file: %s",
					  got < 0 ? strerror(errno)
						  : "short read");
			break;
		}
		in.len += want;
		read += want;
	}
	/* done, or failed: the worker stops at its next step */
	pthread_mutex_lock(&r->mu);
	r->quit = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	sqlite3_finalize(put);
	kb_buf_free(&in);
	return rc;
}

/* Free what a rebuild holds; its worker has stopped. */
static void
rebuild_free(struct rebuild *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->locks) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
	}
	for (i = 0; i < NBATCH; i++)
		free(r->in[i].data);
	kb_buf_free(&r->out);
	if (r->out_fd >= 0)
		close(r->out_fd);
	spill_free(&r->sp);
	if (r->log_fd >= 0)
		close(r->log_fd);
	free(r->df);
	free(r->tf);
	free(r->touched);
	free(r->off);
	free(r->fill);
	free(r->sec);
	free(r->imp);
	free(r);
}

/* Stop a rebuild's worker, if it runs, and free the rebuild. */
static void
rebuild_stop(struct rebuild *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		pthread_mutex_lock(&r->mu);
		r->quit = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->worker, NULL);
	}
	rebuild_free(r);
}

/*
 * Set up the parts and the worker for totals t and section counts df
 * (taken over), and hand the worker every term list.
 */
static int
rebuild_start(struct kbx_build *b, const struct totals *t, uint32_t *df,
	      struct rebuild **out, struct kb_error *err)
{
	struct rebuild *r = kb_xcalloc(1, sizeof(*r));
	struct spill *s = &r->sp;
	sigset_t all, old;
	size_t maxpart = 0, sum;
	uint32_t p, lo;
	int rc = KB_OK, c;

	*out = NULL;
	r->b = b;
	r->df = df;
	r->t = *t;
	s->fd = -1;
	r->log_fd = -1;
	r->out_fd = -1;
	/* A new index's term lists are in the log: the worker reads them. */
	if (b->counting && log_flush(b) && b->log_fd >= 0) {
		r->log_fd = b->log_fd;
		b->log_fd = -1;
		r->in_closed = true;
	}
	log_drop(b);
	kb_buf_init(&r->out);
	/* The parts. */
	s->part_lo = kb_xmalloc(sizeof(*s->part_lo));
	s->part_lo[0] = 1;
	for (lo = 1; lo < b->next_id;) {
		uint32_t hi = lo;

		sum = 0;
		while (hi < b->next_id &&
		       (hi == lo ||
			(sum + df[hi] <= kbx_part && hi - lo < SPILL_WIDTH)))
			sum += df[hi++];
		if (sum > maxpart)
			maxpart = sum;
		s->part_lo = kb_xrealloc(s->part_lo, (s->nparts + 2) *
							     sizeof(*s->part_lo));
		s->part_lo[++s->nparts] = hi;
		lo = hi;
	}
	for (c = 0; c < KBX_COLS; c++)
		r->avg[c] =
		    t->rows ? (double)t->tok[c] / (double)t->rows : 0.0;
	r->tf = kb_xcalloc((size_t)b->next_id * KBX_COLS, sizeof(*r->tf));
	r->off = kb_xcalloc((size_t)b->next_id + 1, sizeof(*r->off));
	r->fill = kb_xcalloc((size_t)b->next_id + 1, sizeof(*r->fill));
	r->sec = kb_xcalloc(maxpart ? maxpart : 1, sizeof(*r->sec));
	r->imp = kb_xcalloc(maxpart ? maxpart : 1, sizeof(*r->imp));
	if (s->nparts <= 1) {
		/* One part: term ids index OFF and FILL directly. */
		part_offsets(df, 0, b->next_id, r->off, r->fill);
	} else {
		rc = scratch_create(b, &s->fd, err);
		if (rc != KB_OK)
			goto fail;
		s->part_of =
		    kb_xmalloc((size_t)b->next_id * sizeof(*s->part_of));
		s->base = kb_xcalloc(s->nparts, sizeof(*s->base));
		s->done = kb_xcalloc(s->nparts, sizeof(*s->done));
		s->last = kb_xcalloc(s->nparts, sizeof(*s->last));
		s->nbuf = kb_xcalloc(s->nparts, sizeof(*s->nbuf));
		s->buf = kb_xcalloc(s->nparts, sizeof(*s->buf));
		/* 4 MiB of write buffers in all, 4 to 64 KiB a part. */
		s->bufcap = (4u << 20) / s->nparts;
		s->bufcap = s->bufcap < 4096	? 4096
			    : s->bufcap > 65536 ? 65536
						: s->bufcap;
		s->part_of[0] = 0;
		for (p = 0, sum = 0; p < s->nparts; p++) {
			uint32_t term;

			s->base[p] = sum;
			for (term = s->part_lo[p]; term < s->part_lo[p + 1];
			     term++) {
				s->part_of[term] = p;
				sum += (size_t)df[term] * SPILL_MAX;
			}
			s->buf[p] = kb_xmalloc(s->bufcap);
		}
		r->s = s;
	}
	rc = scratch_create(b, &r->out_fd, err);
	if (rc != KB_OK)
		goto fail;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->locks = true;
	/* Signals stay with the calling thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	c = pthread_create(&r->worker, NULL, rebuild_worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (c != 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0,
				  "writing postings: cannot start a thread: %s",
				  strerror(c));
		goto fail;
	}
	r->running = true;
	if (r->log_fd < 0) {
		rc = read_term_lists(r, err);
		if (rc != KB_OK)
			goto fail;
	}
	*out = r;
	return KB_OK;
fail:
	rebuild_stop(r);
	return rc;
}

/* Store the postings as the worker encodes them; frees r. */
static int
rebuild_end(struct rebuild *r, struct kb_error *err)
{
	int rc = store_parts(r, err);

	pthread_join(r->worker, NULL);
	r->running = false;
	if (r->rc != KB_OK && rc == KB_OK) {
		*err = r->err;
		rc = r->rc;
	}
	rebuild_free(r);
	return rc;
}

int
kbx_build_start(struct kbx_build *b, struct kb_error *err)
{
	struct totals t;
	uint32_t *df, *last;
	int rc;

	if (!b->dirty || b->rebuild != NULL)
		return KB_OK;
	df = kb_xcalloc(b->next_id, sizeof(*df));
	if (b->counting) {
		t = b->tot;
		memcpy(df, b->df,
		       (b->dfcap < b->next_id ? b->dfcap : b->next_id) *
			       sizeof(*df));
		rc = KB_OK;
	} else {
		last = kb_xcalloc(b->next_id, sizeof(*last));
		rc = count_pass(b, &t, df, last, err);
		free(last);
	}
	if (rc == KB_OK &&
	    sqlite3_exec(b->sql, "DELETE FROM postings", NULL, NULL, NULL) !=
		    SQLITE_OK)
		rc = build_fail(b, err, "postings");
	if (rc != KB_OK) {
		free(df);
		return rc;
	}
	return rebuild_start(b, &t, df, &b->rebuild, err);
}

int
kbx_build_finish(struct kbx_build *b, struct kb_error *err)
{
	struct rebuild *r;
	struct totals t;
	char meta[160];
	sqlite3_stmt *st = NULL;
	int rc;

	if (!b->dirty)
		return KB_OK;
	rc = kbx_build_start(b, err);
	if (rc != KB_OK)
		return rc;
	r = b->rebuild;
	b->rebuild = NULL;
	t = r->t;
	rc = rebuild_end(r, err);
	if (rc != KB_OK)
		return rc;
	snprintf(meta, sizeof(meta), "%llu %llu %llu %llu %llu",
		 (unsigned long long)t.rows, (unsigned long long)t.tok[0],
		 (unsigned long long)t.tok[1], (unsigned long long)t.tok[2],
		 (unsigned long long)t.tok[3]);
	if (sqlite3_prepare_v2(b->sql,
			       "INSERT OR REPLACE INTO meta(key, value)"
			       " VALUES ('kbx', ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return build_fail(b, err, "postings");
	sqlite3_bind_text(st, 1, meta, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = build_fail(b, err, "postings");
	sqlite3_finalize(st);
	b->dirty = false;
	return rc;
}

/* ---- checking ---- */

static const char meta_sql[] = "SELECT value FROM meta WHERE key = 'kbx'";

static uint64_t
pair_hash(uint32_t term, uint32_t section)
{
	uint64_t x = ((uint64_t)term << 32 | section) + 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int cmp_u32(const void *a, const void *b);

struct verify {
	sqlite3 *sql;
	char **term; /* by id; NULL where no term has the id */
	uint32_t nterm;
	uint32_t *df;
	uint64_t pairs, sum;
	struct totals tot;
};

static int verify_fail(struct kb_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
verify_fail(struct kb_error *err, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return kb_error_set(err, KB_ERR_DB, 0, "search index damaged: %s",
			    what);
}

static int
verify_terms(struct verify *v, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(v->sql, "SELECT max(id) FROM terms", -1, &st,
			       NULL) != SQLITE_OK)
		return kb_error_set(err, KB_ERR_DB, 0, "terms: %s",
				    sqlite3_errmsg(v->sql));
	if (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 m = sqlite3_column_int64(st, 0);

		v->nterm = m > 0 && m < UINT32_MAX ? (uint32_t)m + 1 : 1;
	}
	sqlite3_finalize(st);
	v->term = kb_xcalloc(v->nterm, sizeof(*v->term));
	v->df = kb_xcalloc(v->nterm, sizeof(*v->df));
	if (sqlite3_prepare_v2(v->sql, "SELECT id, term FROM terms", -1, &st,
			       NULL) != SQLITE_OK)
		return kb_error_set(err, KB_ERR_DB, 0, "terms: %s",
				    sqlite3_errmsg(v->sql));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		if (id <= 0 || id >= (sqlite3_int64)v->nterm)
			break;
		v->term[id] = kb_col_text(st, 1, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return verify_fail(err, "a term number is out of range");
	return KB_OK;
}

/* One section against its term list; adds its distinct terms to v. */
static int
verify_section(struct verify *v, int64_t id, const char *const text[3],
	       const void *blob, int bytes, struct u32v *ids,
	       struct kb_error *err)
{
	struct fwd_row r;
	char buf[256];
	uint64_t t;
	size_t i, k;
	int c;

	if (!fwd_open(&r, blob, bytes))
		return verify_fail(err, "section %lld: unreadable term "
				   "list", (long long)id);
	for (c = 0; c < KBX_COLS; c++)
		v->tot.tok[c] += r.len[c];
	v->tot.rows++;
	ids->n = 0;
	for (c = 0; c < KBX_COLS; c++) {
		struct kb_token *tok = NULL;
		size_t n = 0;

		if (c < 3 && text[c] != NULL)
			kb_tokenize(text[c], &tok, &n);
		if (c < 3 && n != r.len[c]) {
			kb_tokens_free(tok);
			return verify_fail(err, "section %lld: column %lld "
					   "has another number of terms than "
					   "its text",
					   (long long)id, (long long)c);
		}
		for (i = 0; i < r.len[c]; i++) {
			if (!fwd_next(&r, &t) || t == 0 || t >= v->nterm ||
			    v->term[t] == NULL) {
				kb_tokens_free(tok);
				return verify_fail(err, "section %lld: "
						   "unknown term number in "
						   "column %lld",
						   (long long)id, (long long)c);
			}
			if (c < 3) {
				kb_fts_term_of(tok[i].norm, 1, buf,
					       sizeof(buf));
				if (strcmp(buf, v->term[t]) != 0) {
					kb_tokens_free(tok);
					return verify_fail(
						err,
						"section %lld: term %lld "
						"differs from its text",
						(long long)id, (long long)i);
				}
			}
			u32v_push(ids, (uint32_t)t);
		}
		kb_tokens_free(tok);
	}
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(*ids->v), cmp_u32);
	for (i = k = 0; i < ids->n; i++) {
		if (k > 0 && ids->v[k - 1] == ids->v[i])
			continue;
		ids->v[k++] = ids->v[i];
		v->df[ids->v[i]]++;
		v->pairs++;
		v->sum += pair_hash(ids->v[i], (uint32_t)id);
	}
	return KB_OK;
}

static int
verify_sections(struct verify *v, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct u32v ids = { NULL, 0, 0 };
	struct kb_packer *pk = kb_packer_open(v->sql);
	int64_t nfwd = 0;
	int rc = KB_OK, step;

	if (sqlite3_prepare_v2(v->sql,
			       "SELECT s.id, a.title, s.heading, s.body, f.toks"
			       " FROM sections s LEFT JOIN articles a"
			       " ON a.id = s.article_id"
			       " LEFT JOIN fwd f ON f.id = s.id",
			       -1, &st, NULL) != SQLITE_OK) {
		kb_packer_free(pk);
		return kb_error_set(err, KB_ERR_DB, 0, "sections: %s",
				    sqlite3_errmsg(v->sql));
	}
	while (rc == KB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *text[3];
		char *body = kb_packer_text(pk, st, 3);
		int c;

		for (c = 0; c < 2; c++)
			text[c] = (const char *)sqlite3_column_text(st, c + 1);
		text[2] = body;
		if (id <= 0 || id > UINT32_MAX)
			rc = verify_fail(err, "section number %lld",
					 (long long)id);
		else if (text[0] == NULL)
			rc = verify_fail(err, "section %lld belongs to no "
					 "article", (long long)id);
		else if (sqlite3_column_type(st, 4) != SQLITE_BLOB)
			rc = verify_fail(err, "section %lld has no term "
					 "list", (long long)id);
		else if (body == NULL)
			rc = verify_fail(err, "section %lld: its text does "
					 "not unpack", (long long)id);
		else
			rc = verify_section(v, id, text,
					    sqlite3_column_blob(st, 4),
					    sqlite3_column_bytes(st, 4), &ids,
					    err);
		free(body);
	}
	sqlite3_finalize(st);
	kb_packer_free(pk);
	free(ids.v);
	if (rc != KB_OK)
		return rc;
	if (sqlite3_prepare_v2(v->sql, "SELECT count(*) FROM fwd", -1, &st,
			       NULL) != SQLITE_OK)
		return kb_error_set(err, KB_ERR_DB, 0, "fwd: %s",
				    sqlite3_errmsg(v->sql));
	if (sqlite3_step(st) == SQLITE_ROW)
		nfwd = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if ((uint64_t)nfwd != v->tot.rows)
		return verify_fail(err, "%lld term lists for %lld sections",
				   (long long)nfwd, (long long)v->tot.rows);
	return KB_OK;
}

/* A postings blob's directory (encode_postings). */
struct pdir {
	uint64_t df, nseg;
	uint64_t cnt[255], bytes[255];
};

/*
 * Read the directory at *p and leave *p at the groups' data.  False when
 * it is not well formed: *bad is then the first bad group (nseg when the
 * header is; nseg is kept even when over 255).  Well formed: impacts fall
 * from at most 255 to at least 1, and the groups end within end.
 */
static bool
read_dir(const unsigned char **p, const unsigned char *end, struct pdir *d,
	 uint64_t *bad)
{
	uint64_t s, total = 0;
	int last = 256;

	d->nseg = 0;
	*bad = 0;
	if (!kb_get_varint(p, end, &d->df) || !kb_get_varint(p, end, &d->nseg) ||
	    d->nseg > 255) {
		*bad = d->nseg;
		return false;
	}
	for (s = 0; s < d->nseg; s++) {
		*bad = s;
		if (*p >= end || **p == 0 || **p >= last)
			return false;
		last = *(*p)++;
		if (!kb_get_varint(p, end, &d->cnt[s]) ||
		    !kb_get_varint(p, end, &d->bytes[s]))
			return false;
		total += d->bytes[s];
	}
	*bad = d->nseg;
	return total <= (uint64_t)(end - *p);
}

static int
verify_postings(struct verify *v, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	uint64_t pairs = 0, sum = 0, lists = 0, want = 0;
	uint32_t t;
	int rc = KB_OK, step;

	for (t = 1; t < v->nterm; t++)
		want += v->df[t] > 0;
	if (sqlite3_prepare_v2(v->sql, "SELECT id, data FROM postings", -1,
			       &st, NULL) != SQLITE_OK)
		return kb_error_set(err, KB_ERR_DB, 0, "postings: %s",
				    sqlite3_errmsg(v->sql));
	while (rc == KB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		const unsigned char *p = sqlite3_column_blob(st, 1);
		const unsigned char *end = p + sqlite3_column_bytes(st, 1);
		uint64_t s, got = 0, e, d = 0, sec, bad;
		struct pdir dir;
		bool ok = read_dir(&p, end, &dir, &bad);

		if (id <= 0 || id >= (sqlite3_int64)v->nterm ||
		    (!ok && bad == dir.nseg && dir.nseg <= 255) ||
		    (ok && dir.df != v->df[id])) {
			rc = verify_fail(err, "postings of term %lld: "
					 "wrong header or count",
					 (long long)id);
			break;
		}
		lists++;
		if (dir.nseg > 255)
			rc = verify_fail(err, "postings of term %lld: %lld "
					 "groups", (long long)id,
					 (long long)dir.nseg);
		else if (!ok)
			rc = verify_fail(err, "postings of term "
					 "%lld: bad group %lld",
					 (long long)id, (long long)bad);
		/* then each group's sections, rising */
		for (s = 0; s < dir.nseg && rc == KB_OK; s++) {
			const unsigned char *gend = p + dir.bytes[s];

			sec = 0;
			for (e = 0; e < dir.cnt[s] && rc == KB_OK; e++) {
				if (!kb_get_varint(&p, gend, &d) || d == 0 ||
				    sec + d > UINT32_MAX)
					rc = verify_fail(
						err,
						"postings of term %lld: bad "
						"section in group %lld",
						(long long)id, (long long)s);
				sec += d;
				sum += pair_hash((uint32_t)id, (uint32_t)sec);
			}
			if (rc == KB_OK && p != gend)
				rc = verify_fail(err, "postings of term "
						 "%lld: group %lld has bytes "
						 "left over",
						 (long long)id, (long long)s);
			got += dir.cnt[s];
		}
		if (rc == KB_OK && p != end)
			rc = verify_fail(err, "postings of term %lld: bytes "
					 "after the last group",
					 (long long)id);
		pairs += got;
		if (rc == KB_OK && got != dir.df)
			rc = verify_fail(err, "postings of term %lld: %lld "
					 "sections listed",
					 (long long)id, (long long)got);
	}
	sqlite3_finalize(st);
	if (rc != KB_OK)
		return rc;
	if (lists != want || pairs != v->pairs || sum != v->sum)
		return verify_fail(err, "the postings hold %lld (term, "
				   "section) pairs, the term lists %lld",
				   (long long)pairs, (long long)v->pairs);
	return KB_OK;
}

static int
verify_totals(struct verify *v, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	unsigned long long m[1 + KBX_COLS] = { 0 };
	const char *val = NULL;
	int c, ok;

	if (sqlite3_prepare_v2(v->sql, meta_sql, -1, &st, NULL) !=
	    SQLITE_OK)
		return kb_error_set(err, KB_ERR_DB, 0, "meta: %s",
				    sqlite3_errmsg(v->sql));
	if (sqlite3_step(st) == SQLITE_ROW)
		val = (const char *)sqlite3_column_text(st, 0);
	ok = v->tot.rows == 0 ||
	     (val != NULL && sscanf(val, "%llu %llu %llu %llu %llu", &m[0],
				    &m[1], &m[2], &m[3], &m[4]) == 5);
	if (ok && val != NULL) {
		ok = m[0] == v->tot.rows;
		for (c = 0; c < KBX_COLS; c++)
			ok = ok && m[c + 1] == v->tot.tok[c];
	}
	sqlite3_finalize(st);
	return ok ? KB_OK
		  : verify_fail(err, "the recorded totals are not those "
				"of the %lld term lists",
				(long long)v->tot.rows);
}

int
kbx_verify(sqlite3 *sql, struct kb_error *err)
{
	struct verify v;
	uint32_t i;
	int rc;

	memset(&v, 0, sizeof(v));
	v.sql = sql;
	rc = verify_terms(&v, err);
	if (rc == KB_OK)
		rc = verify_sections(&v, err);
	if (rc == KB_OK)
		rc = verify_postings(&v, err);
	if (rc == KB_OK)
		rc = verify_totals(&v, err);
	for (i = 0; i < v.nterm && v.term != NULL; i++)
		free(v.term[i]);
	free(v.term);
	free(v.df);
	return rc;
}

/* ---- querying ---- */

struct kbx_phrase {
	uint32_t *ids; /* the phrase's terms; n == 0 matches nothing */
	size_t n;
	uint32_t *pre; /* a prefix phrase's last term: any of these */
	size_t npre;
	bool prefix;
	int col; /* -1: any column */
	int concept;
	double weight;
};

/* Where a phrase of the query starts in a section. */
struct inst {
	uint32_t col, off, concept;
};

struct kbx_query {
	struct kb_db *db;
	struct kbx_phrase ph[KB_STATS_MAX_PHRASES];
	size_t n;
	bool have_totals;
	struct totals tot;
	/* term -> phrases that may start with it, for kbx_stats */
	uint32_t *fkey;
	uint64_t *fmask;
	size_t fcap;
	unsigned fshift; /* 32 - log2(fcap) */
	/* kbx_stats' handle on fwd, moved from row to row, and its copy */
	sqlite3_blob *fwd;
	unsigned char *row;
	size_t rowcap;
	/* kbx_stats' scratch, kept from one section to the next */
	uint32_t *tok;
	size_t tokcap;
	struct inst *inst;
	size_t instcap;
};

static const char term_sql[] = "SELECT id FROM terms WHERE term = ?";
static const char prefix_sql[] =
	"SELECT t.id FROM terms t JOIN postings p ON p.id = t.id"
	" WHERE t.term >= ?1 AND t.term < ?1 || char(1114111)"
	" ORDER BY length(p.data) DESC LIMIT 128";
static const char fwd_sql[] = "SELECT toks FROM fwd WHERE id = ?";
static const char maxid_sql[] = "SELECT max(id) FROM fwd";

struct kbx_query *
kbx_query_new(struct kb_db *db)
{
	struct kbx_query *q = kb_xcalloc(1, sizeof(*q));

	q->db = db;
	return q;
}

void
kbx_query_free(struct kbx_query *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++) {
		free(q->ph[i].ids);
		free(q->ph[i].pre);
	}
	free(q->fkey);
	free(q->fmask);
	sqlite3_blob_close(q->fwd);
	free(q->row);
	free(q->tok);
	free(q->inst);
	free(q);
}

/*
 * The next varint of a buffer with KBX_PAD readable bytes past end,
 * added to *id (a posting group's deltas; a fwd row's term ids, from 0):
 * one or two bytes (nearly all of them) without a branch on the length,
 * longer ones through kb_get_varint.  False past end.
 */
#define KBX_PAD 8
static inline bool
next_id_padded(const unsigned char **p, const unsigned char *end,
	       uint64_t *id)
{
	const unsigned char *q = *p;
	uint64_t b0 = q[0], b1 = q[1], two = b0 >> 7;
	uint64_t d;

	if (__builtin_expect((b0 & b1) >= 0x80, 0) || q >= end) {
		if (!kb_get_varint(p, end, &d))
			return false;
		*id += d;
		return true;
	}
	if (q + 1 + two > end)
		return false;
	*id += (b0 & 0x7f) | ((b1 << 7) & (0 - two));
	*p = q + 1 + two;
	return true;
}

/*
 * A section's fwd row, read into q->row through one blob handle that
 * moves from row to row: a rowid seek and a copy, where stepping the
 * SELECT for each of a window's sections cost ~7 times as much.  1 with
 * *len bytes, 0 when there is no such row, -1 on a database error (or
 * when the search's time is up: blob reads never reach SQLite's progress
 * handler).
 */
static int
fwd_read(struct kbx_query *q, int64_t section, size_t *len)
{
	int rc, n;

	if (kb_db_timed_out(q->db))
		return -1;
	rc = q->fwd == NULL ? sqlite3_blob_open(kb_db_handle(q->db), "main",
						"fwd", "toks", section, 0,
						&q->fwd)
			    : sqlite3_blob_reopen(q->fwd, section);
	if (rc != SQLITE_OK) {
		/* A handle that failed to move is spent. */
		sqlite3_blob_close(q->fwd);
		q->fwd = NULL;
		/* SQLITE_ERROR: no such row ("no such rowid"). */
		return rc == SQLITE_ERROR ? 0 : -1;
	}
	n = sqlite3_blob_bytes(q->fwd);
	/* padded for next_id_padded */
	if ((size_t)n + KBX_PAD > q->rowcap) {
		q->rowcap = (size_t)n + KBX_PAD;
		q->row = kb_xrealloc(q->row, q->rowcap);
	}
	if (n > 0 && sqlite3_blob_read(q->fwd, q->row, n, 0) != SQLITE_OK)
		return -1;
	memset(q->row + n, 0, KBX_PAD);
	*len = (size_t)n;
	return 1;
}

static uint32_t
lookup_term(struct kb_db *db, const char *term)
{
	sqlite3_stmt *st = kb_db_stmt(db, term_sql);
	uint32_t id = 0;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
kbx_query_add(struct kbx_query *q, const char *phrase, double weight,
	      int concept)
{
	struct kbx_phrase *ph;
	struct kb_buf text;
	struct kb_token *tok = NULL;
	size_t ntok = 0, i;
	const char *s = phrase;
	char buf[256];

	if (q->n >= KB_STATS_MAX_PHRASES)
		return;
	ph = &q->ph[q->n++];
	memset(ph, 0, sizeof(*ph));
	ph->col = -1;
	ph->weight = weight;
	ph->concept = concept;
	if (strncmp(s, "tags : ", 7) == 0) {
		ph->col = KBX_COLS - 1;
		s += 7;
	}
	if (*s++ != '"')
		return;
	kb_buf_init(&text);
	for (; *s; s++) {
		if (*s == '"') {
			if (s[1] != '"')
				break;
			s++;
		}
		kb_buf_addc(&text, *s);
	}
	if (*s == '"' && s[1] == '*')
		ph->prefix = true;
	kb_buf_addc(&text, '\0');
	kb_tokenize(text.data, &tok, &ntok);
	kb_buf_free(&text);
	if (ntok == 0)
		return;
	ph->ids = kb_xcalloc(ntok, sizeof(*ph->ids));
	for (i = 0; i < ntok; i++) {
		kb_fts_term_of(tok[i].norm, !ph->prefix, buf, sizeof(buf));
		if (ph->prefix && i == ntok - 1) {
			sqlite3_stmt *st = kb_db_stmt(q->db, prefix_sql);

			if (st == NULL)
				break;
			sqlite3_bind_text(st, 1, buf, -1, SQLITE_TRANSIENT);
			while (sqlite3_step(st) == SQLITE_ROW) {
				ph->pre = kb_xrealloc(ph->pre,
						      (ph->npre + 1) *
							      sizeof(*ph->pre));
				ph->pre[ph->npre++] =
					(uint32_t)sqlite3_column_int64(st, 0);
			}
			sqlite3_reset(st);
			if (ph->npre == 0)
				break;
			qsort(ph->pre, ph->npre, sizeof(*ph->pre), cmp_u32);
			ph->ids[i] = ph->pre[0];
		} else {
			ph->ids[i] = lookup_term(q->db, buf);
			if (ph->ids[i] == 0)
				break;
		}
	}
	if (i == ntok)
		ph->n = ntok;
	kb_tokens_free(tok);
}

int64_t
kbx_term_df(struct kb_db *db, const char *term)
{
	uint32_t id = lookup_term(db, term);
	sqlite3_blob *blob = NULL;
	unsigned char head[10];
	const unsigned char *p = head;
	uint64_t df = 0;
	int n;

	if (id == 0)
		return 0;
	if (sqlite3_blob_open(kb_db_handle(db), "main", "postings", "data", id,
			      0, &blob) == SQLITE_OK) {
		n = sqlite3_blob_bytes(blob);
		if (n > (int)sizeof(head))
			n = (int)sizeof(head);
		if (sqlite3_blob_read(blob, head, n, 0) != SQLITE_OK ||
		    !kb_get_varint(&p, head + n, &df))
			df = 0;
	}
	sqlite3_blob_close(blob);
	return (int64_t)df;
}

static void read_feat(struct fwd_row *r, struct kbx_owned_feat *f);

int
kbx_section_feat(struct kb_db *db, int64_t section, struct kbx_owned_feat *f)
{
	sqlite3_stmt *st = kb_db_stmt(db, fwd_sql);
	struct fwd_row r;
	uint64_t x;
	int rc;

	memset(f, 0, sizeof(*f));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, section);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && fwd_open(&r, sqlite3_column_blob(st, 0),
					 sqlite3_column_bytes(st, 0))) {
		while (fwd_next(&r, &x))
			;
		read_feat(&r, f);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
	}
	sqlite3_reset(st);
	return rc;
}

long
kbx_term_sections(struct kb_db *db, const char *term, int64_t **out)
{
	uint32_t id = lookup_term(db, term);
	sqlite3_blob *blob = NULL;
	unsigned char *buf = NULL;
	const unsigned char *p;
	uint64_t s, e, d, sec, bad;
	struct pdir dir;
	size_t n = 0;
	int len;

	*out = NULL;
	if (id == 0)
		return 0;
	if (sqlite3_blob_open(kb_db_handle(db), "main", "postings", "data", id,
			      0, &blob) != SQLITE_OK)
		return sqlite3_errcode(kb_db_handle(db)) == SQLITE_ERROR ? 0
									 : -1;
	len = sqlite3_blob_bytes(blob);
	buf = kb_xmalloc(len > 0 ? (size_t)len : 1);
	if (sqlite3_blob_read(blob, buf, len, 0) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		free(buf);
		return -1;
	}
	sqlite3_blob_close(blob);
	p = buf;
	if (!read_dir(&p, buf + len, &dir, &bad) || dir.df > (uint64_t)len) {
		free(buf);
		return 0;
	}
	*out = kb_xcalloc(dir.df ? dir.df : 1, sizeof(**out));
	for (s = 0; s < dir.nseg; s++) {
		const unsigned char *gend = p + dir.bytes[s];

		for (sec = 0, e = 0; e < dir.cnt[s] && n < dir.df &&
				     kb_get_varint(&p, gend, &d);
		     e++) {
			sec += d;
			(*out)[n++] = (int64_t)sec;
		}
		p = gend;
	}
	free(buf);
	qsort(*out, n, sizeof(**out), kb_cmp_i64);
	return (long)n;
}

/* A term's postings blob, its groups read from the directory. */
struct plist {
	sqlite3_blob *blob;
	uint64_t df;
	size_t nseg;
	uint8_t imp[256];
	uint64_t cnt[256];
	uint64_t bytes[256];
	size_t data_at; /* where the groups' numbers begin */
	double weight;
	uint32_t term;
};

static int
plist_open(struct kb_db *db, uint32_t id, double weight, struct plist *l)
{
	unsigned char head[4096];
	const unsigned char *p = head, *end;
	int size, n;
	uint64_t v;
	size_t i;

	memset(l, 0, sizeof(*l));
	l->weight = weight;
	l->term = id;
	if (sqlite3_blob_open(kb_db_handle(db), "main", "postings", "data",
			      id, 0, &l->blob) != SQLITE_OK) {
		if (l->blob != NULL)
			sqlite3_blob_close(l->blob);
		l->blob = NULL;
		return 0; /* a term no section holds any more */
	}
	size = sqlite3_blob_bytes(l->blob);
	n = size < (int)sizeof(head) ? size : (int)sizeof(head);
	if (sqlite3_blob_read(l->blob, head, n, 0) != SQLITE_OK)
		return -1;
	end = head + n;
	if (!kb_get_varint(&p, end, &l->df) || !kb_get_varint(&p, end, &v) ||
	    v > 255)
		return -1;
	l->nseg = (size_t)v;
	for (i = 0; i < l->nseg; i++) {
		if (p >= end)
			return -1;
		l->imp[i] = *p++;
		if (!kb_get_varint(&p, end, &l->cnt[i]) ||
		    !kb_get_varint(&p, end, &l->bytes[i]))
			return -1;
	}
	l->data_at = (size_t)(p - head);
	return 0;
}

struct segref {
	double pri;
	uint32_t list;
	uint32_t seg;
};

/* Groups are read by falling weighted impact; ties by list, then group. */
static bool
segref_before(const struct segref *x, const struct segref *y)
{
	if (x->pri != y->pri)
		return x->pri > y->pri;
	if (x->list != y->list)
		return x->list < y->list;
	return x->seg < y->seg;
}

/*
 * The lists' groups merged in that order, one at a time: each list's are
 * in order already (impacts fall within a list), so a heap of one next
 * group per list gives them without sorting every group of every list,
 * most of which a query never reaches.
 */
struct segheap {
	struct segref *v;
	size_t n;
};

static void
segheap_push(struct segheap *h, struct segref r)
{
	size_t j = h->n++;

	while (j > 0 && segref_before(&r, &h->v[(j - 1) / 2])) {
		h->v[j] = h->v[(j - 1) / 2];
		j = (j - 1) / 2;
	}
	h->v[j] = r;
}

static struct segref
segheap_pop(struct segheap *h)
{
	struct segref top = h->v[0], last = h->v[--h->n];
	size_t j = 0;

	for (;;) {
		size_t l = 2 * j + 1, r = l + 1, m = j;
		const struct segref *mr = &last;

		if (l < h->n && segref_before(&h->v[l], mr)) {
			m = l;
			mr = &h->v[l];
		}
		if (r < h->n && segref_before(&h->v[r], mr))
			m = r;
		if (m == j)
			break;
		h->v[j] = h->v[m];
		j = m;
	}
	if (h->n > 0)
		h->v[j] = last;
	return top;
}

/*
 * Section -> score: a dense array over section ids kept with the
 * connection, and the ids touched, which the next search zeroes before
 * it starts (a one-shot process never does).
 */
struct acc {
	float *val;
	uint64_t *met; /* a bit per section id: val is non-zero */
	size_t cap;
	void *map; /* val and met share one mapping of maplen bytes */
	size_t maplen;
	bool sized; /* val covers every section id of the index */
	uint32_t *touched; /* section ids fit: see acc_add */
	size_t n, tcap;
	uint32_t *ids; /* a group's ids, decoded */
	size_t icap;
	bool simd; /* kb_decode_simd() */
};

#define ACC_HUGE ((size_t)2 << 20)
/* How far ahead of a pass over the touched ids their scores are fetched. */
#define ACC_AHEAD 16
/*
 * Sections from which a group's adds fetch scores ahead too: 1 MiB of
 * them, half this machine's L2.  Below it they stay cached, and fetching
 * ahead only costs (10k articles: 3-5% slower; 100k: 9% faster).
 */
#define ACC_AHEAD_MIN ((size_t)1 << 18)

/*
 * Make val and met cover cap section ids (a multiple of 64), keeping what
 * they hold.  They live in one anonymous mapping that asks for huge
 * pages: a query touches sections all over the array, and at 4 KiB a
 * page a one-shot search at 100k articles took ~700 page faults there
 * alone; with 2 MiB pages it takes two.  A small index's arrays stay on
 * small pages, where one huge page would cost more to clear than the
 * faults it saves.  The kernel zeroes the mapping.
 */
static void
acc_grow(struct acc *a, size_t cap)
{
	size_t vbytes = cap * sizeof(*a->val);
	size_t len = vbytes + cap / 64 * sizeof(*a->met);
	bool huge;
	void *m;

	huge = len >= ACC_HUGE;
	len = (len + ACC_HUGE - 1) / ACC_HUGE * ACC_HUGE;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		kb_die_nomem();
#ifdef MADV_HUGEPAGE
	if (huge) /* a hint; 4 KiB pages work */
		(void)madvise(m, len, MADV_HUGEPAGE);
#endif
	if (a->map != NULL) {
		memcpy(m, a->val, a->cap * sizeof(*a->val));
		memcpy((char *)m + vbytes, a->met,
		       a->cap / 64 * sizeof(*a->met));
		munmap(a->map, a->maplen);
	}
	a->map = m;
	a->maplen = len;
	a->val = m;
	a->met = (uint64_t *)(void *)((char *)m + vbytes);
	a->cap = cap;
}

static void *
acc_make(void)
{
	struct acc *a = kb_xcalloc(1, sizeof(struct acc));

	a->simd = kb_decode_simd();
	return a;
}

static void
acc_drop(void *p)
{
	struct acc *a = p;

	if (a == NULL)
		return;
	if (a->map != NULL)
		munmap(a->map, a->maplen);
	free(a->touched);
	free(a->ids);
	free(a);
}

static void
acc_add(struct acc *a, int64_t id, float s)
{
	/* Section ids are rowids counted up from 1; past 2^32 is damage. */
	if (id <= 0 || id > (int64_t)UINT32_MAX)
		return;
	if ((uint64_t)id >= a->cap) {
		size_t cap = a->cap ? a->cap : 1024;

		while (cap <= (uint64_t)id)
			cap *= 2;
		acc_grow(a, cap);
	}
	if (a->val[id] == 0.0f) {
		a->met[id / 64] |= (uint64_t)1 << (id % 64);
		if (a->n == a->tcap) {
			a->tcap = a->tcap ? a->tcap * 2 : 4096;
			a->touched = kb_xrealloc(a->touched,
						 a->tcap * sizeof(*a->touched));
		}
		a->touched[a->n++] = (uint32_t)id;
	}
	a->val[id] += s;
}

/*
 * Size the array for the index once: calloc'd memory comes from the
 * kernel zeroed, page by page as it is touched, so a one-shot search
 * pays only for the sections it reaches.
 */
static void
acc_size(struct kb_db *db, struct acc *a)
{
	sqlite3_stmt *st;
	int64_t max = 0;

	if (a->sized)
		return;
	a->sized = true;
	st = kb_db_stmt(db, maxid_sql);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	if (max <= 0 || (uint64_t)max < a->cap)
		return;
	acc_grow(a, ((size_t)max + 64) / 64 * 64);
}

static void
acc_clear(struct acc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		a->val[a->touched[i]] = 0.0f;
		a->met[a->touched[i] / 64] = 0;
	}
	a->n = 0;
}

static bool
allowed(const int64_t *allow, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (allow[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && allow[lo] == id;
}

/*
 * The k best of the accumulator in out, best first, leaving it empty: a
 * score is cleared as it is read, while its cache line is at hand,
 * rather than by another pass over ids all over the array.
 */
static size_t
acc_top(struct acc *a, size_t k, struct kbx_hit *out)
{
	size_t n = 0, i;

	/* A min-heap of the best k so far; worse = lower score, higher id. */
#define WORSE(x, y)                                                        \
	((x).score < (y).score || ((x).score == (y).score && (x).id > (y).id))
	for (i = 0; i < a->n; i++) {
		struct kbx_hit h;
		size_t j;

		if (i + ACC_AHEAD < a->n)
			__builtin_prefetch(&a->val[a->touched[i + ACC_AHEAD]], 1);
		h.id = a->touched[i];
		h.score = a->val[h.id];
		a->val[h.id] = 0.0f;
		a->met[h.id / 64] = 0;
		if (n < k) {
			j = n++;
			while (j > 0 && WORSE(h, out[(j - 1) / 2])) {
				out[j] = out[(j - 1) / 2];
				j = (j - 1) / 2;
			}
			out[j] = h;
		} else if (k > 0 && WORSE(out[0], h)) {
			j = 0;
			for (;;) {
				size_t l = 2 * j + 1, r = l + 1, m = j;
				const struct kbx_hit *mh = &h;

				if (l < n && WORSE(out[l], *mh)) {
					m = l;
					mh = &out[l];
				}
				if (r < n && WORSE(out[r], *mh))
					m = r;
				if (m == j)
					break;
				out[j] = out[m];
				j = m;
			}
			out[j] = h;
		}
	}
	a->n = 0;
	/* Heap to best-first order. */
	for (i = n; i > 1; i--) {
		struct kbx_hit top = out[0], last = out[i - 1];
		size_t j = 0, m = i - 1;

		for (;;) {
			size_t l = 2 * j + 1, r = l + 1, w = j;
			const struct kbx_hit *wh = &last;

			if (l < m && WORSE(out[l], *wh)) {
				w = l;
				wh = &out[l];
			}
			if (r < m && WORSE(out[r], *wh))
				w = r;
			if (w == j)
				break;
			out[j] = out[w];
			j = w;
		}
		out[j] = last;
		out[i - 1] = top;
	}
#undef WORSE
	return n;
}

/*
 * Where the CPU has a vector decoder (decode.h), a group's ids are
 * decoded whole into the accumulator's ids, then added; elsewhere each is
 * added as it is read, through next_id_padded, whose stream of one- and
 * two-byte gaps needs no second pass.
 */
static uint32_t *
acc_ids(struct acc *a, uint64_t c)
{
	if (c + KB_DECODE_SLACK > a->icap) {
		a->icap = (size_t)c + KB_DECODE_SLACK;
		free(a->ids);
		a->ids = kb_xcalloc(a->icap, sizeof(*a->ids));
	}
	return a->ids;
}

/* The ids of a group of c read whole into a->ids; how many. */
static size_t
decode_group(struct acc *a, const unsigned char *p, const unsigned char *end,
	     uint64_t c)
{
	uint64_t id = 0;
	size_t got = kb_decode_ids(p, (size_t)(end - p), &id, (size_t)c,
				   acc_ids(a, c), true);

	return got < c ? got : (size_t)c;
}

/*
 * Add w to each section of a group.  A section met before (its bit set)
 * already has a score; one not met has 0, so the add is the same for both
 * and only the list of touched ids depends on the bit, without a branch.
 */
static void
seg_add(struct acc *a, const unsigned char *p, const unsigned char *end,
	uint64_t c, float w)
{
	uint64_t *met = a->met, id = 0;
	uint32_t *touched;
	float *val = a->val;
	size_t n, cap = a->cap, got = 0, i = 0, run = 0;
	bool ahead = cap >= ACC_AHEAD_MIN;

	if (a->n + c > a->tcap) {
		a->tcap = a->n + c > 2 * a->tcap ? a->n + c : 2 * a->tcap;
		a->touched = kb_xrealloc(a->touched,
					 a->tcap * sizeof(*a->touched));
	}
	if (a->simd)
		got = decode_group(a, p, end, c);
	touched = a->touched;
	n = a->n;
	for (;;) {
		uint64_t word, bit, x;

		if (a->simd) {
			if (i == got)
				break;
			/*
			 * The scores are a float per section, megabytes at
			 * 100k articles, where each add would wait on
			 * memory: at the start of each run of ACC_AHEAD
			 * ids, the next run's scores are fetched.
			 */
			if (i == run) {
				size_t j, lim = got - run > ACC_AHEAD
							? run + ACC_AHEAD
							: got;

				for (j = lim; ahead && j < got &&
					      j < lim + ACC_AHEAD;
				     j++)
					if (a->ids[j] < cap)
						__builtin_prefetch(
						    &val[a->ids[j]], 1);
				run = lim;
			}
			x = a->ids[i++];
		} else {
			if (c-- == 0 || !next_id_padded(&p, end, &id))
				break;
			x = id;
		}
		if (__builtin_expect(x == 0 || x >= cap, 0)) {
			a->n = n;
			acc_add(a, (int64_t)x, w);
			n = a->n;
			touched = a->touched;
			met = a->met;
			val = a->val;
			cap = a->cap;
			continue;
		}
		word = met[x / 64];
		bit = (word >> (x % 64)) & 1;
		met[x / 64] = word | (uint64_t)1 << (x % 64);
		touched[n] = (uint32_t)x;
		n += bit ^ 1;
		val[x] += w;
	}
	a->n = n;
}

/*
 * Add to the sections already met; others stay out.  The bitmap is 1/32
 * of the scores' size and stays in cache where they would not: the ids
 * met are gathered first without a branch, then their scores added.
 */
static void
seg_bump(struct acc *a, const unsigned char *p, const unsigned char *end,
	 uint64_t c, float w)
{
	const uint64_t *met = a->met;
	float *val = a->val;
	uint64_t id = 0;
	size_t cap = a->cap, nh = 0, i;

	if (a->simd) {
		size_t got = decode_group(a, p, end, c);
		size_t ahead = cap >= ACC_AHEAD_MIN ? ACC_AHEAD : SIZE_MAX / 2;

		/* The ids met overwrite those already read. */
		nh = kb_ids_marked(a->ids, got, met, cap, a->ids, true);
		for (i = 0; i < nh; i++) {
			/* ids met are below cap */
			if (i + ahead < nh)
				__builtin_prefetch(&val[a->ids[i + ahead]], 1);
			val[a->ids[i]] += w;
		}
		return;
	}
	{
		uint32_t hit[256];

		while (c-- > 0 && next_id_padded(&p, end, &id)) {
			if (__builtin_expect(id >= cap, 0))
				continue;
			hit[nh] = (uint32_t)id;
			nh += (met[id / 64] >> (id % 64)) & 1;
			if (nh == sizeof(hit) / sizeof(hit[0])) {
				for (i = 0; i < nh; i++)
					val[hit[i]] += w;
				nh = 0;
			}
		}
		for (i = 0; i < nh; i++)
			val[hit[i]] += w;
	}
}

/* A list's weighted impact at segment s, 0 past its end. */
static double
seg_pri(const struct plist *x, size_t s)
{
	return s < x->nseg ? x->weight * x->imp[s] : 0.0;
}

long
kbx_top(struct kbx_query *q, const int64_t *allow, size_t nallow, size_t k,
	size_t budget, struct kbx_hit *out, bool *exhaustive)
{
	struct plist *l = NULL;
	struct segheap heap = { NULL, 0 };
	struct segref cur;
	struct acc *a = kb_db_scratch(q->db, acc_make, acc_drop);
	size_t nl = 0, i, j;
	size_t *at = NULL; /* per list: byte offset of its next segment */
	uint64_t seen = 0;
	unsigned char *buf = NULL;
	size_t bufcap = 0;
	long rc = -1;
	bool admit = true;

	*exhaustive = true;
	/*
	 * One list per phrase: its rarest word (a phrase's sections all hold
	 * it), or for a word still being typed each word it may become.
	 */
	for (i = 0; i < q->n; i++) {
		const struct kbx_phrase *ph = &q->ph[i];
		bool any = ph->prefix && ph->n == 1;
		size_t nt = any ? ph->npre : ph->prefix ? ph->n - 1 : ph->n, t;
		struct plist best;

		if (ph->n == 0 || ph->weight <= 0)
			continue;
		best.blob = NULL;
		l = kb_xrealloc(l, (nl + nt + 1) * sizeof(*l));
		for (t = 0; t < nt; t++) {
			struct plist x;

			if (plist_open(q->db, any ? ph->pre[t] : ph->ids[t],
				       ph->weight, &x) != 0) {
				if (x.blob != NULL)
					sqlite3_blob_close(x.blob);
				if (best.blob != NULL)
					sqlite3_blob_close(best.blob);
				goto out;
			}
			if (x.blob == NULL)
				continue;
			if (any) {
				l[nl++] = x;
			} else if (best.blob == NULL || x.df < best.df) {
				if (best.blob != NULL)
					sqlite3_blob_close(best.blob);
				best = x;
			} else {
				sqlite3_blob_close(x.blob);
			}
		}
		if (best.blob != NULL)
			l[nl++] = best;
	}
	/* A word in two phrases is one list weighing both. */
	for (i = 0, j = 0; i < nl; i++) {
		size_t m;

		for (m = 0; m < j && l[m].term != l[i].term; m++)
			;
		if (m < j) {
			l[m].weight += l[i].weight;
			sqlite3_blob_close(l[i].blob);
		} else {
			l[j++] = l[i];
		}
	}
	nl = j;
	at = kb_xcalloc(nl ? nl : 1, sizeof(*at));
	heap.v = kb_xcalloc(nl ? nl : 1, sizeof(*heap.v));
	for (i = 0; i < nl; i++) {
		at[i] = l[i].data_at;
		if (l[i].nseg > 0) {
			cur.pri = seg_pri(&l[i], 0);
			cur.list = (uint32_t)i;
			cur.seg = 0;
			segheap_push(&heap, cur);
		}
	}
	acc_clear(a);
	acc_size(q->db, a);
	/*
	 * Score at a time: the groups in falling weighted impact, each read
	 * whole.  budget ends admission (past it the groups only add to the
	 * sections met) and KBX_COMPLETE ends reading: the k are then the
	 * best of what the most telling postings reach, which a query of
	 * common words (a pasted ticket) needs to stay fast.  With one list
	 * the order is the score's, so k sections met are the k best.
	 */
	while (heap.n > 0) {
		struct plist *x;
		size_t s, bytes;
		uint64_t c, id = 0, d, e;
		float w;
		const unsigned char *p, *end;

		if (nl == 1 && a->n >= k)
			break;
		cur = segheap_pop(&heap);
		x = &l[cur.list];
		s = cur.seg;
		c = x->cnt[s];
		bytes = (size_t)x->bytes[s];
		w = (float)cur.pri;
		if (s + 1 < x->nseg) {
			struct segref next = { seg_pri(x, s + 1), cur.list,
					       cur.seg + 1 };

			segheap_push(&heap, next);
		}
		/* Blob reads never reach SQLite's progress handler. */
		if (kb_db_timed_out(q->db))
			goto out;
		if (seen + c > KBX_COMPLETE) {
			*exhaustive = false;
			break;
		}
		if (bytes + KBX_PAD > bufcap) {
			bufcap = bytes + KBX_PAD;
			buf = kb_xrealloc(buf, bufcap);
		}
		if (at[cur.list] + bytes > (size_t)sqlite3_blob_bytes(x->blob) ||
		    (bytes > 0 &&
		     sqlite3_blob_read(x->blob, buf, (int)bytes,
				       (int)at[cur.list]) != SQLITE_OK))
			goto out;
		at[cur.list] += bytes;
		memset(buf + bytes, 0, KBX_PAD);
		p = buf;
		end = buf + bytes;
		if (!admit) {
			seg_bump(a, p, end, c, w);
		} else if (allow == NULL) {
			seg_add(a, p, end, c, w);
		} else {
			for (e = 0; e < c && kb_get_varint(&p, end, &d); e++) {
				id += d;
				if (allowed(allow, nallow, (int64_t)id))
					acc_add(a, (int64_t)id, w);
			}
		}
		seen += c;
		if (admit && budget > 0 && seen >= budget && heap.n > 0) {
			admit = false;
			*exhaustive = false;
		}
	}
	rc = (long)acc_top(a, k, out);
out:
	for (i = 0; i < nl; i++)
		if (l[i].blob != NULL)
			sqlite3_blob_close(l[i].blob);
	free(l);
	free(heap.v);
	free(at);
	free(buf);
	return rc;
}

/* ---- statistics of one section ---- */

/*
 * An id's first slot: the top bits of its Fibonacci hash.  The low bits
 * of id * 2654435761 follow id's own low bits, so the ids a prefix
 * stands for (neighbours, often) would fill a run of slots, and each of
 * a section's tokens that starts no phrase but lands in the run would
 * walk to its end: 16 probes a token at 1k articles.
 */
static size_t
first_slot(const struct kbx_query *q, uint32_t id)
{
	return (uint32_t)(id * 2654435761u) >> q->fshift;
}

static void
first_add(struct kbx_query *q, uint32_t id, size_t ph)
{
	size_t i = first_slot(q, id);

	while (q->fkey[i] != 0 && q->fkey[i] != id)
		i = (i + 1) & (q->fcap - 1);
	q->fkey[i] = id;
	q->fmask[i] |= (uint64_t)1 << ph;
}

static uint64_t
first_get(const struct kbx_query *q, uint32_t id)
{
	size_t i = first_slot(q, id);

	while (q->fkey[i] != 0) {
		if (q->fkey[i] == id)
			return q->fmask[i];
		i = (i + 1) & (q->fcap - 1);
	}
	return 0;
}

static bool
prepare_stats(struct kbx_query *q)
{
	size_t need = 0, i, t;

	if (!q->have_totals) {
		sqlite3_stmt *st = kb_db_stmt(q->db, meta_sql);
		unsigned long long v[5];

		if (st == NULL)
			return false;
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sscanf((const char *)sqlite3_column_text(st, 0),
			   "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4]) == 5) {
			q->tot.rows = v[0];
			for (i = 0; i < KBX_COLS; i++)
				q->tot.tok[i] = v[i + 1];
		}
		sqlite3_reset(st);
		q->have_totals = true;
	}
	if (q->fkey != NULL)
		return true;
	for (i = 0; i < q->n; i++)
		if (q->ph[i].n > 0)
			need += q->ph[i].prefix && q->ph[i].n == 1
					? q->ph[i].npre
					: 1;
	q->fcap = 16;
	q->fshift = 28;
	while (q->fcap < 4 * need) {
		q->fcap *= 2;
		q->fshift--;
	}
	q->fkey = kb_xcalloc(q->fcap, sizeof(*q->fkey));
	q->fmask = kb_xcalloc(q->fcap, sizeof(*q->fmask));
	for (i = 0; i < q->n; i++) {
		const struct kbx_phrase *ph = &q->ph[i];

		if (ph->n == 0)
			continue;
		if (ph->prefix && ph->n == 1)
			for (t = 0; t < ph->npre; t++)
				first_add(q, ph->pre[t], i);
		else
			first_add(q, ph->ids[0], i);
	}
	return true;
}

static bool
in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
	return bsearch(&x, v, n, sizeof(*v), cmp_u32) != NULL;
}

/*
 * Per column, the most distinct concepts within the proximity window.
 * in[0..n) is in column, then offset order: kbx_stats finds the
 * instances so; the order among those at one offset does not
 * change the answer.
 */
static void
proximity(const struct inst *in, size_t n, uint32_t *out)
{
	size_t i, j, k, m;

	for (i = 0; i < n; i = j) {
		for (j = i; j < n && in[j].col == in[i].col; j++)
			;
		for (k = i; k < j; k++) {
			uint64_t seen = 0;
			uint32_t cnt = 0;

			for (m = k; m < j && in[m].off - in[k].off <
						     KB_PROXIMITY_WINDOW;
			     m++) {
				uint64_t bit = (uint64_t)1
					       << (in[m].concept & 63);

				if (!(seen & bit)) {
					seen |= bit;
					cnt++;
				}
			}
			if (cnt > out[in[i].col])
				out[in[i].col] = cnt;
		}
	}
}

static char *
get_text(const unsigned char **p, const unsigned char *end)
{
	uint64_t n;
	char *s;

	if (!kb_get_varint(p, end, &n) || n > (uint64_t)(end - *p))
		return kb_xstrdup("");
	s = kb_xstrndup((const char *)*p, (size_t)n);
	*p += n;
	return s;
}

static void
read_feat(struct fwd_row *r, struct kbx_owned_feat *f)
{
	uint64_t v = 0;

	f->article = kb_get_varint(&r->p, r->end, &v) ? (int64_t)v : 0;
	f->prior = 1.0;
	if (r->end - r->p >= (ptrdiff_t)sizeof(f->prior)) {
		memcpy(&f->prior, r->p, sizeof(f->prior));
		r->p += sizeof(f->prior);
	}
	f->tags = get_text(&r->p, r->end);
	f->article_tags = get_text(&r->p, r->end);
}

uint32_t *
kbx_stats(struct kbx_query *q, int64_t section, size_t *nv,
	  struct kbx_owned_feat *feat)
{
	struct fwd_row r;
	uint32_t *tok = q->tok, *v = NULL;
	struct inst *in = q->inst;
	size_t ntok = 0, cap = q->tokcap, ninst = 0, icap = q->instcap;
	size_t np = q->n, n, i, len;
	size_t start[KBX_COLS + 1];
	uint64_t x;
	int c;

	*nv = 0;
	if (!prepare_stats(q) || fwd_read(q, section, &len) != 1 ||
	    !fwd_open(&r, q->row, (int)len))
		return NULL;
	if (r.ntok > cap) {
		/* at most one token a byte */
		cap = r.ntok < (uint64_t)(r.end - r.p) ? (size_t)r.ntok
						       : (size_t)(r.end - r.p);
		cap = cap < 256 ? 256 : cap;
		tok = kb_xrealloc(tok, cap * sizeof(*tok));
		q->tok = tok;
		q->tokcap = cap;
	}
	/*
	 * Term ids of one or two bytes (nearly all) without a branch on
	 * which: byte at a time, the branch on each id's length missed
	 * often enough to be half of this function's time.
	 */
	while (r.ntok > 0 && ntok < cap) {
		x = 0;
		if (!next_id_padded(&r.p, r.end, &x))
			break;
		r.ntok--;
		tok[ntok++] = (uint32_t)x;
	}
	if (feat != NULL)
		read_feat(&r, feat);
	start[0] = 0;
	for (c = 0; c < KBX_COLS; c++) {
		start[c + 1] = start[c] + r.len[c];
		if (start[c + 1] > ntok)
			start[c + 1] = ntok;
	}
	n = 2 + 2 * KBX_COLS + np * KBX_COLS + KBX_COLS;
	v = kb_xcalloc(n, sizeof(*v));
	v[0] = (uint32_t)np;
	v[1] = KBX_COLS;
	for (c = 0; c < KBX_COLS; c++) {
		v[2 + c] = r.len[c];
		v[2 + KBX_COLS + c] =
			q->tot.rows ? (uint32_t)(q->tot.tok[c] * 1000 /
						 q->tot.rows)
				    : 0;
	}
	for (c = 0; c < KBX_COLS; c++) {
		for (i = start[c]; i < start[c + 1]; i++) {
			uint64_t mask = first_get(q, tok[i]);

			while (mask) {
				size_t p = (size_t)__builtin_ctzll(mask);
				const struct kbx_phrase *ph = &q->ph[p];
				size_t k;

				mask &= mask - 1;
				if ((ph->col >= 0 && ph->col != c) ||
				    i + ph->n > start[c + 1])
					continue;
				for (k = 1; k < ph->n; k++) {
					uint32_t t = tok[i + k];

					if (ph->prefix && k == ph->n - 1
						    ? !in_sorted(ph->pre,
								 ph->npre, t)
						    : t != ph->ids[k])
						break;
				}
				if (k < ph->n)
					continue;
				v[2 + 2 * KBX_COLS + p * KBX_COLS + c]++;
				if (ph->concept < 0 || ph->concept >= 255)
					continue;
				if (ninst == icap) {
					icap = icap ? icap * 2 : 64;
					in = kb_xrealloc(in,
							 icap * sizeof(*in));
					q->inst = in;
					q->instcap = icap;
				}
				in[ninst].col = (uint32_t)c;
				in[ninst].off = (uint32_t)(i - start[c]);
				in[ninst].concept = (uint32_t)ph->concept;
				ninst++;
			}
		}
	}
	proximity(in, ninst, v + 2 + 2 * KBX_COLS + np * KBX_COLS);
	*nv = n;
	return v;
}
