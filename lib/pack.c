/* pack.c - section text stored compressed with a dictionary trained on the index's own text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* ZDICT_trainFromBuffer_fastCover (exported by the shared library too) */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include "db_int.h"
#include "index.h"

/*
 * Sections are a few hundred bytes each: compressed alone, they barely
 * shrink, because what repeats is shared between sections (the phrasing of
 * fix steps, product names, the same warnings).  kbindex trains a zstd
 * dictionary on the first sections of a build and keeps it in the meta
 * table ('zdict'); each section's body is then one zstd frame against it
 * (without the frame's 4-byte magic number, which is put back on reading).
 * A body stored as TEXT is plain (the sections before the dictionary, or
 * an index too small to train one); a BLOB is packed.
 *
 * An article is packed as one frame, in its row's markdown column: its
 * Markdown (if it has any) and a NUL, then each section's body and a
 * NUL.  One frame costs zstd about what one section's does (~2.5 us
 * whatever the level), an article has a dozen sections, and its bodies
 * repeat its Markdown almost word for word: on the 10k bench corpus the
 * article packs in ~13 us and 0.61 KB, where its Markdown and bodies
 * apart took ~24 us and 1.08 KB.  A section's BLOB is then a reference to
 * its part of that frame: a 0 byte, then the article id, the offset and
 * the length as varints.  A BLOB starting with anything else is a frame
 * of its own (the sections sampled to train the dictionary, packed in
 * place); no frame kbindex stores starts with 0 (its content size is
 * always given).
 */

/*
 * zstd's fastest regular level: on the 10k bench corpus's sections it
 * packs in 60% of level 3's time to 11% more bytes (the index grows 3%).
 */
#define PACK_LEVEL 1
#define DICT_BYTES (32 * 1024)
static const unsigned char zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

struct kb_packer {
	ZSTD_CDict *cdict;
	ZSTD_DDict *ddict;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	void *dict;
	size_t dictlen;
	struct kb_buf tmp;
	sqlite3 *sql;
	sqlite3_stmt *get_bodies; /* prepared on first use */
	/* the last article frame read (as stored) and its text */
	struct kb_buf bodies_z;
	char *bodies;
	size_t bodies_len;
};

static void
use_dict(struct kb_packer *p, const void *dict, size_t len)
{
	p->dict = kb_xmalloc(len);
	memcpy(p->dict, dict, len);
	p->dictlen = len;
	p->ddict = ZSTD_createDDict(p->dict, len);
}

struct kb_packer *
kb_packer_open(sqlite3 *sql)
{
	struct kb_packer *p = kb_xcalloc(1, sizeof(*p));
	sqlite3_stmt *st = NULL;

	kb_buf_init(&p->tmp);
	kb_buf_init(&p->bodies_z);
	p->sql = sql;
	if (sqlite3_prepare_v2(sql,
			       "SELECT value FROM meta WHERE key = 'zdict'", -1,
			       &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 0) > 0)
		use_dict(p, sqlite3_column_blob(st, 0),
			 (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	return p;
}

void
kb_packer_free(struct kb_packer *p)
{
	if (p == NULL)
		return;
	ZSTD_freeCDict(p->cdict);
	ZSTD_freeDDict(p->ddict);
	ZSTD_freeCCtx(p->cctx);
	ZSTD_freeDCtx(p->dctx);
	free(p->dict);
	kb_buf_free(&p->tmp);
	sqlite3_finalize(p->get_bodies);
	kb_buf_free(&p->bodies_z);
	free(p->bodies);
	free(p);
}

bool
kb_packer_ready(const struct kb_packer *p)
{
	return p->ddict != NULL;
}

int
kb_packer_train(struct kb_packer *p, sqlite3 *sql, const void *samples,
		const size_t *sizes, unsigned n)
{
	void *dict = kb_xmalloc(DICT_BYTES);
	ZDICT_fastCover_params_t fp;
	size_t len;

	/*
	 * ZDICT_trainFromBuffer's algorithm with the segment size fixed
	 * rather than searched for (40 trainings): on the 100k bench
	 * corpus's first 8,000 sections it took 0.10 s instead of 0.35,
	 * and the sections packed 1% smaller.
	 */
	memset(&fp, 0, sizeof(fp));
	fp.k = 2000;
	fp.d = 8;
	fp.f = 20;
	fp.accel = 1;
	fp.splitPoint = 1.0;
	fp.zParams.compressionLevel = 3;
	len = ZDICT_trainFromBuffer_fastCover(dict, DICT_BYTES, samples, sizes,
					      n, fp);
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK;

	/* Too little text to learn from: bodies stay plain. */
	if (ZDICT_isError(len) || p->ddict != NULL) {
		free(dict);
		return SQLITE_OK;
	}
	rc = sqlite3_prepare_v2(sql,
				"INSERT OR REPLACE INTO meta(key, value)"
				" VALUES ('zdict', ?)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, dict, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK
						     : sqlite3_errcode(sql);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		use_dict(p, dict, len);
	free(dict);
	return rc;
}

/* The compression side of the dictionary, made on first use. */
static bool
have_cdict(struct kb_packer *p)
{
	if (p->ddict == NULL)
		return false;
	if (p->cdict == NULL)
		p->cdict = ZSTD_createCDict(p->dict, p->dictlen, PACK_LEVEL);
	return p->cdict != NULL;
}

static ZSTD_CCtx *
new_cctx(void)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (c == NULL)
		return NULL;
	ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
	return c;
}

/* One frame against cdict, its magic number dropped; NULL on failure. */
static void *
pack_with(ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, const char *text,
	  size_t n, size_t *outlen)
{
	size_t cap = ZSTD_compressBound(n), got;
	unsigned char *out = kb_xmalloc(cap);

	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
	ZSTD_CCtx_refCDict(cctx, cdict);
	got = ZSTD_compress2(cctx, out, cap, text, n);
	if (ZSTD_isError(got) || got <= sizeof(zmagic) ||
	    memcmp(out, zmagic, sizeof(zmagic)) != 0 ||
	    out[sizeof(zmagic)] == 0) {
		free(out);
		return NULL;
	}
	memmove(out, out + sizeof(zmagic), got - sizeof(zmagic));
	*outlen = got - sizeof(zmagic);
	return out;
}

void *
kb_packer_pack(struct kb_packer *p, const char *text, size_t n,
	       size_t *outlen)
{
	*outlen = 0;
	if (!have_cdict(p))
		return NULL;
	if (p->cctx == NULL && (p->cctx = new_cctx()) == NULL)
		return NULL;
	return pack_with(p->cctx, p->cdict, text, n, outlen);
}

const struct kb_packer *
kb_packer_shared(struct kb_packer *p)
{
	return p != NULL && have_cdict(p) ? p : NULL;
}

struct kb_pack_ctx {
	ZSTD_CCtx *cctx;
};

struct kb_pack_ctx *
kb_pack_ctx_new(void)
{
	return kb_xcalloc(1, sizeof(struct kb_pack_ctx));
}

void
kb_pack_ctx_free(struct kb_pack_ctx *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->cctx);
	free(c);
}

void *
kb_pack_ctx_pack(struct kb_pack_ctx *c, const struct kb_packer *p,
		 const char *text, size_t n, size_t *outlen)
{
	*outlen = 0;
	if (p == NULL || p->cdict == NULL)
		return NULL;
	if (c->cctx == NULL && (c->cctx = new_cctx()) == NULL)
		return NULL;
	return pack_with(c->cctx, p->cdict, text, n, outlen);
}

/* As kb_packer_unpack, its length (NULs included) in *outlen. */
static char *
unpack(struct kb_packer *p, const void *blob, size_t len, size_t *outlen)
{
	unsigned long long size;
	size_t got;
	char *out;

	if (p == NULL || p->ddict == NULL || blob == NULL)
		return NULL;
	kb_buf_reset(&p->tmp);
	kb_buf_add(&p->tmp, (const char *)zmagic, sizeof(zmagic));
	kb_buf_add(&p->tmp, (const char *)blob, len);
	size = ZSTD_getFrameContentSize(p->tmp.data, p->tmp.len);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size == ZSTD_CONTENTSIZE_ERROR || size > 64u * 1024 * 1024)
		return NULL;
	if (p->dctx == NULL && (p->dctx = ZSTD_createDCtx()) == NULL)
		return NULL;
	out = kb_xmalloc((size_t)size + 1);
	got = ZSTD_decompress_usingDDict(p->dctx, out, (size_t)size,
					 p->tmp.data, p->tmp.len, p->ddict);
	if (ZSTD_isError(got) || got != size) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*outlen = got;
	return out;
}

char *
kb_packer_unpack(struct kb_packer *p, const void *blob, size_t len)
{
	size_t n;

	return unpack(p, blob, len, &n);
}

size_t
kb_packer_ref(unsigned char out[KB_PACKER_REF_MAX], int64_t article,
	      size_t off, size_t len)
{
	unsigned char *o = out;

	*o++ = 0;
	o = kb_put_varint(o, (uint64_t)article);
	o = kb_put_varint(o, off);
	o = kb_put_varint(o, len);
	return (size_t)(o - out);
}

/* Article id's frame unpacked into p->bodies; false if damaged. */
static bool
load_bodies(struct kb_packer *p, int64_t id)
{
	const void *z;
	size_t zlen, n;
	char *text;
	bool ok;

	if (p->get_bodies == NULL &&
	    sqlite3_prepare_v2(p->sql,
			       "SELECT markdown FROM articles WHERE id = ?", -1,
			       &p->get_bodies, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(p->get_bodies, 1, id);
	ok = sqlite3_step(p->get_bodies) == SQLITE_ROW &&
	     sqlite3_column_type(p->get_bodies, 0) == SQLITE_BLOB &&
	     sqlite3_column_bytes(p->get_bodies, 0) > 1;
	if (ok) {
		z = sqlite3_column_blob(p->get_bodies, 0);
		zlen = (size_t)sqlite3_column_bytes(p->get_bodies, 0);
		ok = *(const char *)z == 'Z' || *(const char *)z == 'B';
	}
	if (ok) {
		/* the same frame as last time: an article's sections are
		   read one after another */
		if (p->bodies == NULL || zlen != p->bodies_z.len ||
		    memcmp(z, p->bodies_z.data, zlen) != 0) {
			text = unpack(p, (const char *)z + 1, zlen - 1, &n);
			ok = text != NULL;
			if (ok) {
				free(p->bodies);
				p->bodies = text;
				p->bodies_len = n;
				kb_buf_reset(&p->bodies_z);
				kb_buf_add(&p->bodies_z, z, zlen);
			}
		}
	}
	sqlite3_reset(p->get_bodies);
	return ok;
}

/* A section's part of its article's frame (kb_packer_ref), or NULL. */
static char *
unpack_ref(struct kb_packer *p, const unsigned char *b, size_t len)
{
	const unsigned char *at = b + 1, *end = b + len;
	uint64_t id, off, n;

	if (!kb_get_varint(&at, end, &id) || !kb_get_varint(&at, end, &off) ||
	    !kb_get_varint(&at, end, &n) || at != end || id > INT64_MAX ||
	    p == NULL || p->sql == NULL || !load_bodies(p, (int64_t)id))
		return NULL;
	/* each body is followed by its NUL */
	if (off > p->bodies_len || n > p->bodies_len - off ||
	    p->bodies[off + n] != '\0' || strlen(p->bodies + off) != n)
		return NULL;
	return kb_xstrndup(p->bodies + off, (size_t)n);
}

char *
kb_packer_text(struct kb_packer *p, sqlite3_stmt *st, int col)
{
	const unsigned char *b;
	size_t len;

	if (sqlite3_column_type(st, col) != SQLITE_BLOB)
		return kb_col_text(st, col, 1);
	b = sqlite3_column_blob(st, col);
	len = (size_t)sqlite3_column_bytes(st, col);
	if (len > 0 && b[0] == 0)
		return unpack_ref(p, b, len);
	return kb_packer_unpack(p, b, len);
}

/*
 * Whole documents (an article's Markdown): 'Z' and a packed frame when
 * there is a dictionary, else kb_pack_text's zlib form (which starts with
 * the length's high byte, never 'Z' or 'B' for the lengths allowed).  An
 * article's frame (above) is 'Z' and the frame when the article has
 * Markdown, 'B' and the frame when it has only sections.
 */
/* tag and the frame z[0..n) (which is freed), as a new blob. */
static void *
doc_blob(char tag, unsigned char *z, size_t n, size_t *outlen)
{
	unsigned char *out = kb_xmalloc(n + 1);

	out[0] = (unsigned char)tag;
	memcpy(out + 1, z, n);
	free(z);
	*outlen = n + 1;
	return out;
}

void *
kb_packer_pack_doc(struct kb_packer *p, const char *text, size_t *outlen)
{
	size_t n = 0;
	unsigned char *z = kb_packer_pack(p, text, strlen(text), &n);

	if (z == NULL)
		return kb_pack_text(text, outlen);
	return doc_blob('Z', z, n, outlen);
}

void *
kb_packer_pack_article(struct kb_packer *p, const char *text, size_t n,
		       bool markdown, size_t *outlen)
{
	size_t zn = 0;
	unsigned char *z = kb_packer_pack(p, text, n, &zn);

	*outlen = 0;
	return z == NULL ? NULL : doc_blob(markdown ? 'Z' : 'B', z, zn, outlen);
}

void *
kb_pack_ctx_pack_article(struct kb_pack_ctx *c, const struct kb_packer *p,
			 const char *text, size_t n, bool markdown,
			 size_t *outlen)
{
	size_t zn = 0;
	unsigned char *z = kb_pack_ctx_pack(c, p, text, n, &zn);

	*outlen = 0;
	return z == NULL ? NULL : doc_blob(markdown ? 'Z' : 'B', z, zn, outlen);
}

char *
kb_packer_unpack_doc(struct kb_packer *p, const void *blob, size_t len)
{
	const unsigned char *b = blob;
	char *s;

	if (b != NULL && len > 1 && b[0] == 'B')
		return NULL; /* an article's sections, no Markdown */
	if (b != NULL && len > 1 && b[0] == 'Z') {
		s = kb_packer_unpack(p, b + 1, len - 1);
		/* the Markdown ends at the first NUL: the sections follow */
		if (s != NULL && strlen(s) > 0)
			s = kb_xrealloc(s, strlen(s) + 1);
		return s;
	}
	return kb_unpack_text(blob, len);
}
