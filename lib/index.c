/* index.c - building the index: a new file beside the live one, renamed into place. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "index.h"
#include "kbx.h"
#include "vocab.h"

enum {
	ST_FIND,
	ST_SEEN,
	ST_DEL_TITLE,
	ST_DEL_LEDS,
	ST_DEL_SECTIONS,
	ST_DEL_ARTICLE,
	ST_INS_ARTICLE,
	ST_INS_TITLE,
	ST_INS_SECTION,
	ST_INS_LED,
	ST_OLD_TEXT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_FIND] = "SELECT id, hash FROM articles WHERE path = ?",
	[ST_SEEN] = "INSERT OR IGNORE INTO temp.seen(path) VALUES (?)",
	/* External content: the title index is told the old title to forget. */
	[ST_DEL_TITLE] = "INSERT INTO titles(titles, rowid, title)"
			 " SELECT 'delete', id, title FROM articles"
			 " WHERE id = ?1",
	[ST_DEL_LEDS] = "DELETE FROM leds WHERE article_id = ?",
	[ST_DEL_SECTIONS] = "DELETE FROM sections WHERE article_id = ?",
	[ST_DEL_ARTICLE] = "DELETE FROM articles WHERE id = ?",
	[ST_INS_ARTICLE] = "INSERT INTO articles(path, hash, format, title,"
			   " summary, models, symptoms, markdown)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_INS_TITLE] = "INSERT INTO titles(rowid, title) VALUES (?, ?)",
	[ST_INS_SECTION] = "INSERT INTO sections(article_id, ord, heading,"
			   " anchor, line, body, boost)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_INS_LED] = "INSERT INTO leds(article_id, section_id, model, color,"
		       " pattern, meaning, nsec) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_OLD_TEXT] = "SELECT a.title, s.heading, s.body FROM sections s"
			" JOIN articles a ON a.id = s.article_id"
			" WHERE s.article_id = ?1",
};

/*
 * The fact answer cards show for each model and LED state (the most facts
 * in its section, then the first), kept as a new index's facts are stored
 * so finishing marks them without sorting the table: an open-addressed
 * table keyed by "model GS colour GS pattern", the model in ASCII lower
 * case as COLLATE NOCASE compares it.
 */
struct best_led {
	char *key; /* NULL: a free slot */
	uint64_t hash;
	int64_t id, nsec;
};

struct best_leds {
	struct best_led *v;
	size_t n, cap;
};

static void
best_leds_free(struct best_leds *b)
{
	size_t i;

	for (i = 0; i < b->cap; i++)
		free(b->v[i].key);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static struct best_led *
best_led_slot(struct best_led *v, size_t cap, uint64_t h, const char *key)
{
	size_t i = (size_t)h & (cap - 1);

	while (v[i].key != NULL && (v[i].hash != h || strcmp(v[i].key, key)))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Fact id, listed in a section of nsec facts, for its model and state. */
static void
best_leds_add(struct best_leds *b, const char *model, const char *color,
	      const char *pattern, int64_t id, int64_t nsec)
{
	struct kb_buf k;
	struct best_led *x;
	uint64_t h;
	size_t i;

	if (b->n * 2 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct best_led *v = kb_xcalloc(cap, sizeof(*v));

		for (i = 0; i < b->cap; i++)
			if (b->v[i].key != NULL)
				*best_led_slot(v, cap, b->v[i].hash,
					       b->v[i].key) = b->v[i];
		free(b->v);
		b->v = v;
		b->cap = cap;
	}
	kb_buf_init(&k);
	/* a fact with no model is keyed apart from every model's */
	kb_buf_addc(&k, model != NULL ? 'm' : '-');
	for (i = 0; model != NULL && model[i] != 0; i++)
		kb_buf_addc(&k, model[i] >= 'A' && model[i] <= 'Z'
					? (char)(model[i] - 'A' + 'a')
					: model[i]);
	kb_buf_addc(&k, '\x1d');
	kb_buf_adds(&k, color);
	kb_buf_addc(&k, '\x1d');
	kb_buf_adds(&k, pattern);
	h = kb_fnv1a(k.data, k.len);
	x = best_led_slot(b->v, b->cap, h, k.data);
	if (x->key == NULL) {
		x->key = kb_buf_steal(&k);
		x->hash = h;
		x->id = id;
		x->nsec = nsec;
		b->n++;
	} else if (nsec > x->nsec) {
		x->id = id;
		x->nsec = nsec;
	}
	kb_buf_free(&k);
}

struct kb_index {
	char *path;
	char *tmp;
	char *lockpath;
	int lockfd;
	bool locked; /* only then may PATH.new be touched */
	sqlite3 *sql;
	sqlite3_stmt *st[ST_COUNT];
	struct kb_taxonomy *own_tax;
	const struct kb_taxonomy *tax;
	struct kb_index_stats stats;
	bool fresh; /* a new, empty index, not a copy of the live one */
	struct kb_vocab_delta *vocab;
	struct kbx_build *kbx;
	/* Section text packing, and the sections kept plain until it can. */
	struct kb_packer *packer;
	struct kb_buf samples;
	size_t *sample_len;
	int64_t *sample_id;
	size_t nsamples;
	struct best_leds best; /* a new index's, as its facts are stored */
	int wbfd;	  /* PATH.new, for start_writeback; -2: cannot be */
	size_t unflushed; /* articles stored since the last start_writeback */
};

/*
 * Sections (or bytes of text) a packing dictionary is trained on.  The
 * articles stored before it are packed twice (zlib, then again with the
 * dictionary), on the storing thread while the parsing threads wait: at
 * 2,000 sections that is ~300 articles.  On the 100k bench corpus the
 * dictionary trained on 2,000 sections packs the articles' text as small
 * as one trained on 8,000 (80.5 MB either way).
 */
#define PACK_SAMPLES 2000
#define PACK_SAMPLE_BYTES (2 * 1024 * 1024)
/* Fewer than this and the text stays plain. */
#define PACK_MIN_SAMPLES 100

/*
 * Articles stored between two calls of start_writeback: ~7 MB of index
 * on the 100k bench corpus.
 */
#define WRITEBACK_ARTICLES 2048

/*
 * Have the kernel start writing PATH.new's dirty pages to disk, and
 * return without waiting.  The index is fsync'd once complete, before it
 * replaces the live one; without this, nothing of it would have reached
 * the disk by then (the kernel's own writeback waits 30 s), and that
 * fsync wrote the whole file while kbindex waited: 0.22-0.26 s of a 10 s
 * build at 100k articles.  With a start every WRITEBACK_ARTICLES and one
 * after the postings, the fsync takes ~0.007 s and the starts ~0.1 s in
 * all, on the storing thread, which mostly waits for the parsing threads
 * then.  A hint only: where it cannot be done, the fsync does it all.
 */
static void
start_writeback(struct kb_index *ix)
{
	ix->unflushed = 0;
#ifdef SYNC_FILE_RANGE_WRITE
	if (ix->wbfd == -1) {
		ix->wbfd = open(ix->tmp, O_RDONLY | O_CLOEXEC);
		if (ix->wbfd < 0)
			ix->wbfd = -2;
	}
	if (ix->wbfd >= 0)
		(void)sync_file_range(ix->wbfd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
}

/*
 * A failure the postings' rebuild reported (kbx.c), told as every failed
 * write is: where, and that the live index was not touched.
 */
static int
rebuild_fail(struct kb_index *ix, struct kb_error *err, int rc)
{
	char msg[sizeof(err->msg)];

	if (rc == KB_OK || err == NULL)
		return rc;
	memcpy(msg, err->msg, sizeof(msg));
	return kb_error_set(err, (enum kb_status)rc, 0,
			    "%s: %s; the previous index is unchanged", ix->tmp,
			    msg);
}

static int
sql_fail(struct kb_index *ix, struct kb_error *err, const char *what)
{
	int code = ix->sql ? sqlite3_errcode(ix->sql) & 0xff : SQLITE_ERROR;
	/*
	 * SQLite keeps the system error of a failed write only sometimes (not
	 * for one at COMMIT); callers clear errno before the call, so what it
	 * holds now is that write's.
	 */
	int sys = errno;

	if (ix->sql != NULL && sqlite3_system_errno(ix->sql) != 0)
		sys = sqlite3_system_errno(ix->sql);
	if (code == SQLITE_FULL ||
	    (code == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)))
		return kb_error_set(err, KB_ERR_IO, 0,
				    "%s: disk full while writing %s; the "
				    "previous index is unchanged",
				    ix->path, ix->tmp);
	/* "disk I/O error" alone does not say what went wrong (EFBIG, EIO). */
	if (code == SQLITE_IOERR && sys != 0)
		return kb_error_set(err, KB_ERR_IO, 0,
				    "%s: %s: %s (%s); the previous index is "
				    "unchanged",
				    ix->tmp, what, sqlite3_errmsg(ix->sql),
				    strerror(sys));
	return kb_error_set(err, KB_ERR_DB, 0, "%s: %s: %s", ix->tmp, what,
			    ix->sql ? sqlite3_errmsg(ix->sql) : "no database");
}

static int
exec(struct kb_index *ix, const char *sql, struct kb_error *err)
{
	errno = 0;
	if (sqlite3_exec(ix->sql, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "writing the index");
	return KB_OK;
}

static int
take_lock(struct kb_index *ix, struct kb_error *err)
{
	char pid[32], held[32] = "";
	ssize_t n;

	ix->lockfd = open(ix->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ix->lockfd < 0)
		return kb_error_set(err, KB_ERR_IO, 0, "%s: cannot create: %s",
				    ix->lockpath, strerror(errno));
	if (flock(ix->lockfd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(ix->lockfd, held, sizeof(held) - 1, 0);
		held[n > 0 ? n : 0] = '\0';
		held[strcspn(held, "\n")] = '\0';
		return kb_error_set(err, KB_ERR_BUSY, 0,
				    "%s is being updated by another kbindex "
				    "(pid %s); try again when it has finished",
				    ix->path, *held ? held : "unknown");
	}
	ix->locked = true;
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(ix->lockfd, 0) != 0 ||
	    pwrite(ix->lockfd, pid, (size_t)n, 0) != n) {
		/* The pid is only a courtesy for the message above. */
	}
	return KB_OK;
}

static void
remove_tmp(struct kb_index *ix)
{
	static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = kb_xasprintf("%s%s", ix->tmp, suffix[i]);

		unlink(p);
		free(p);
	}
}

static int
copy_file(const char *from, const char *to, struct kb_error *err)
{
	char buf[1 << 16];
	int in = -1, out = -1, rc = KB_OK;
	ssize_t n, w, off;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0, "%s: cannot read: %s",
				  from, strerror(errno));
		goto out;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0, "%s: cannot create: %s",
				  to, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = kb_error_set(err, KB_ERR_IO, 0, "%s: %s", from,
					  strerror(errno));
			goto out;
		}
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				rc = kb_error_set(
					err, KB_ERR_IO, 0,
					"%s: %s; the previous index is "
					"unchanged",
					to, w < 0 ? strerror(errno) : "short write");
				goto out;
			}
		}
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/*
 * What the live index is: 0 absent, 1 a usable kbsearch index whose
 * taxonomy (hash) is put in *taxhash and stored taxonomy in *taxjson,
 * 2 a kbsearch index of another schema, -1 something else.
 */
static int
probe_live(const char *path, char **taxhash, char **taxjson)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int kind = -1;

	*taxhash = NULL;
	*taxjson = NULL;
	if (stat(path, &sb) != 0)
		return 0;
	if (sb.st_size == 0)
		return 2;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT key, value FROM meta WHERE key IN"
			       " ('schema', 'taxonomy_hash', 'taxonomy')",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	kind = 2;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);

		if (k == NULL)
			continue;
		if (strcmp(k, "schema") == 0 &&
		    sqlite3_column_int(st, 1) == KB_SCHEMA_VERSION)
			kind = 1;
		else if (strcmp(k, "taxonomy_hash") == 0)
			*taxhash = kb_col_text(st, 1, 1);
		else if (strcmp(k, "taxonomy") == 0)
			*taxjson = kb_col_text(st, 1, 1);
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kind;
}

int
kb_index_begin(const char *path, bool full, const struct kb_taxonomy *tax,
	       struct kb_index **out, struct kb_error *err)
{
	struct kb_index *ix = kb_xcalloc(1, sizeof(*ix));
	struct kb_error terr;
	char *oldhash = NULL, *oldjson = NULL, newhash[17];
	int live, rc = KB_OK, i;

	*out = NULL;
	ix->lockfd = -1;
	ix->wbfd = -1;
	ix->vocab = kb_vocab_delta_new();
	ix->path = kb_xstrdup(path);
	ix->tmp = kb_xasprintf("%s.new", path);
	ix->lockpath = kb_xasprintf("%s.lock", path);
	rc = take_lock(ix, err);
	if (rc != KB_OK)
		goto out;
	/*
	 * A PATH.new left by a killed run is garbage: we hold the lock.  Its
	 * journal must go too, or SQLite would "roll back" the fresh copy.
	 */
	remove_tmp(ix);

	live = probe_live(path, &oldhash, &oldjson);
	if (live < 0) {
		rc = kb_error_set(err, KB_ERR_DB, 0,
				  "%s exists and is not a kbsearch index; "
				  "refusing to replace it (choose another "
				  "--db or remove the file)",
				  path);
		goto out;
	}
	if (tax == NULL) {
		if (oldjson != NULL &&
		    kb_taxonomy_parse("stored taxonomy", oldjson,
				      strlen(oldjson), &ix->own_tax,
				      &terr) == KB_OK)
			tax = ix->own_tax;
		else
			tax = ix->own_tax = kb_taxonomy_new_empty();
	}
	ix->tax = tax;
	kb_hash_hex(tax->json ? tax->json : "", tax->json ? strlen(tax->json) : 0,
		    newhash);
	ix->fresh = full || live != 1 || oldhash == NULL ||
		strcmp(oldhash, newhash) != 0;
	if (!ix->fresh) {
		rc = copy_file(path, ix->tmp, err);
		if (rc != KB_OK)
			goto out;
	}
	/* One thread uses the connection at a time: no mutex around calls. */
	if (sqlite3_open_v2(ix->tmp, &ix->sql,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    kb_db_configure(ix->sql, 0) != SQLITE_OK) {
		rc = sql_fail(ix, err, "cannot create");
		goto out;
	}
	/*
	 * No journal: the file is private until renamed, and a failed run
	 * deletes it, so rollback is never needed.  Sorts bigger than the
	 * cache (a new index's sections_article: ~20 MB at 100k articles)
	 * spill to a temporary file, not to the heap.
	 */
	rc = exec(ix,
		  "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		  "PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -4000;"
		  "PRAGMA temp_store = FILE;",
		  err);
	if (rc != KB_OK)
		goto out;
	rc = exec(ix, "BEGIN", err);
	if (rc == KB_OK && ix->fresh)
		rc = exec(ix, kb_db_schema_sql, err);
	if (rc == KB_OK)
		rc = exec(ix, "CREATE TEMP TABLE seen(path TEXT PRIMARY KEY)",
			  err);
	if (rc != KB_OK)
		goto out;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(ix->sql, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &ix->st[i],
				       NULL) != SQLITE_OK) {
			rc = sql_fail(ix, err, "preparing statements");
			goto out;
		}
	}
	ix->packer = kb_packer_open(ix->sql);
	kb_buf_init(&ix->samples);
	rc = kbx_build_begin(ix->sql, &ix->kbx, err);
	if (rc != KB_OK)
		goto out;
	*out = ix;
	ix = NULL;
out:
	free(oldhash);
	free(oldjson);
	kb_index_abort(ix);
	return rc;
}

bool
kb_index_fresh(const struct kb_index *ix)
{
	return ix->fresh;
}

const struct kb_taxonomy *
kb_index_taxonomy(const struct kb_index *ix)
{
	return ix->tax;
}

/* Bound without a copy: every caller's text outlives the statement's step. */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int
run(struct kb_index *ix, int which, struct kb_error *err)
{
	int rc, sys;

	errno = 0;
	rc = sqlite3_step(ix->st[which]);
	sys = errno;
	sqlite3_reset(ix->st[which]);
	sqlite3_clear_bindings(ix->st[which]);
	errno = sys;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sql_fail(ix, err, "writing the index");
	return KB_OK;
}

bool
kb_index_unchanged(struct kb_index *ix, const char *relpath, const char *hash)
{
	sqlite3_stmt *st = ix->st[ST_FIND];
	bool same = false;

	/* A new index holds nothing, and keeps everything put in it. */
	if (ix->fresh)
		return false;
	bind_text(ix->st[ST_SEEN], 1, relpath);
	run(ix, ST_SEEN, NULL);
	bind_text(st, 1, relpath);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);

		same = h != NULL && hash != NULL && strcmp(h, hash) == 0;
	}
	sqlite3_reset(st);
	if (same)
		ix->stats.unchanged++;
	return same;
}

int
kb_index_keep_folder(struct kb_index *ix, const char *relprefix,
		     struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = KB_OK;

	errno = 0;
	if (sqlite3_prepare_v2(ix->sql,
			       "INSERT OR IGNORE INTO temp.seen(path)"
			       " SELECT path FROM articles WHERE ?1 = '' OR"
			       " substr(path, 1, length(?1) + 1) = ?1 || '/'",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "keeping a folder's articles");
	bind_text(st, 1, relprefix);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sql_fail(ix, err, "keeping a folder's articles");
	sqlite3_finalize(st);
	return rc;
}

static int
delete_article(struct kb_index *ix, sqlite3_int64 id, struct kb_error *err)
{
	static const int order[] = { ST_DEL_TITLE, ST_DEL_LEDS,
				     ST_DEL_SECTIONS, ST_DEL_ARTICLE };
	sqlite3_stmt *st = ix->st[ST_OLD_TEXT];
	struct kb_strv old;
	char *body;
	size_t i;
	int rc;

	rc = kbx_build_delete_article(ix->kbx, id, err);
	if (rc != KB_OK)
		return rc;
	/* The words the article brought to the vocabulary leave with it. */
	kb_strv_init(&old);
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (old.n == 0)
			kb_strv_push_own(&old, kb_col_text(st, 0, 1));
		kb_strv_push_own(&old, kb_col_text(st, 1, 1));
		body = kb_packer_text(ix->packer, st, 2);
		kb_strv_push_own(&old, body ? body : kb_xstrdup(""));
	}
	sqlite3_reset(st);
	kb_vocab_delta_article(ix->vocab, (const char *const *)old.v, old.n,
			       -1);
	kb_strv_free(&old);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		sqlite3_bind_int64(ix->st[order[i]], 1, id);
		rc = run(ix, order[i], err);
		if (rc != KB_OK)
			return rc;
	}
	return KB_OK;
}

static const char *
format_name(enum kb_format f)
{
	switch (f) {
	case KB_FORMAT_MARKDOWN:
		return "markdown";
	case KB_FORMAT_TEXT:
		return "text";
	case KB_FORMAT_HTML:
		return "html";
	default:
		return "unknown";
	}
}

/* The articles stored before the dictionary, packed with it. */
static int
repack_markdown(struct kb_index *ix, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct kb_strv text;
	int64_t *id = NULL;
	size_t n = 0, i;
	int rc = KB_OK;

	kb_strv_init(&text);
	errno = 0;
	if (sqlite3_prepare_v2(ix->sql,
			       "SELECT id, markdown FROM articles WHERE"
			       " markdown IS NOT NULL AND substr(markdown, 1, 1)"
			       " NOT IN (CAST('Z' AS BLOB), CAST('B' AS BLOB))",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "packing articles");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *md = kb_unpack_text(sqlite3_column_blob(st, 1),
					  (size_t)sqlite3_column_bytes(st, 1));

		if (md == NULL)
			continue;
		id = kb_xrealloc(id, (n + 1) * sizeof(*id));
		id[n++] = sqlite3_column_int64(st, 0);
		kb_strv_push_own(&text, md);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(ix->sql,
			       "UPDATE articles SET markdown = ? WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		rc = sql_fail(ix, err, "packing articles");
	for (i = 0; rc == KB_OK && i < n; i++) {
		size_t plen = 0;
		void *packed = kb_packer_pack_doc(ix->packer, text.v[i], &plen);

		if (packed == NULL)
			continue;
		sqlite3_bind_blob(st, 1, packed, (int)plen, free);
		sqlite3_bind_int64(st, 2, id[i]);
		errno = 0;
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_fail(ix, err, "packing articles");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	kb_strv_free(&text);
	free(id);
	return rc;
}

/*
 * Keep a plain section as a sample for the packing dictionary; once there
 * are enough (or at the end, force), train it and pack the samples'
 * sections in place.
 */
static int
sample(struct kb_index *ix, int64_t id, const char *text, bool force,
       struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t i, at = 0;
	int rc = KB_OK;

	if (kb_packer_ready(ix->packer))
		return KB_OK;
	if (text != NULL) {
		size_t n = strlen(text);

		if (n == 0)
			return KB_OK;
		ix->sample_len = kb_xrealloc(ix->sample_len,
					     (ix->nsamples + 1) *
						     sizeof(*ix->sample_len));
		ix->sample_id = kb_xrealloc(ix->sample_id,
					    (ix->nsamples + 1) *
						    sizeof(*ix->sample_id));
		ix->sample_len[ix->nsamples] = n;
		ix->sample_id[ix->nsamples++] = id;
		kb_buf_add(&ix->samples, text, n);
	}
	if (!force && ix->nsamples < PACK_SAMPLES &&
	    ix->samples.len < PACK_SAMPLE_BYTES)
		return KB_OK;
	errno = 0;
	if (ix->nsamples >= PACK_MIN_SAMPLES &&
	    kb_packer_train(ix->packer, ix->sql, ix->samples.data,
			    ix->sample_len, (unsigned)ix->nsamples) != SQLITE_OK)
		return sql_fail(ix, err, "writing the packing dictionary");
	if (kb_packer_ready(ix->packer) &&
	    sqlite3_prepare_v2(ix->sql,
			       "UPDATE sections SET body = ? WHERE id = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "packing section text");
	for (i = 0; st != NULL && rc == KB_OK && i < ix->nsamples; i++) {
		size_t plen = 0;
		void *packed = kb_packer_pack(ix->packer, ix->samples.data + at,
					      ix->sample_len[i], &plen);

		at += ix->sample_len[i];
		if (packed == NULL)
			continue;
		sqlite3_bind_blob(st, 1, packed, (int)plen, free);
		sqlite3_bind_int64(st, 2, ix->sample_id[i]);
		errno = 0;
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_fail(ix, err, "packing section text");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc == KB_OK && kb_packer_ready(ix->packer))
		rc = repack_markdown(ix, err);
	kb_buf_free(&ix->samples);
	kb_buf_init(&ix->samples);
	free(ix->sample_len);
	free(ix->sample_id);
	ix->sample_len = NULL;
	ix->sample_id = NULL;
	ix->nsamples = 0;
	return rc;
}

/* Words for the tags column: model names and aliases, symptom labels. */
static char *
tags_text(const struct kb_taxonomy *t, const struct kb_article *a,
	  const struct kb_section *s)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (i = 0; i < s->models.n; i++) {
		if (b.len)
			kb_buf_add(&b, "; ", 2);
		kb_buf_adds(&b, s->models.v[i]);
	}
	for (i = 0; i < s->symptoms.n; i++) {
		const struct kb_symptom *sy =
			kb_taxonomy_symptom(t, s->symptoms.v[i]);

		if (b.len)
			kb_buf_add(&b, "; ", 2);
		kb_buf_adds(&b, sy ? sy->label : s->symptoms.v[i]);
	}
	for (i = 0; i < a->fm_tags.n; i++) {
		if (b.len)
			kb_buf_add(&b, "; ", 2);
		kb_buf_adds(&b, a->fm_tags.v[i]);
	}
	for (i = 0; i < s->models.n + s->symptoms.n; i++) {
		bool m = i < s->models.n;

		if (b.len)
			kb_buf_addc(&b, ' ');
		kb_tag_token_add(&b, m ? KB_TAG_MODEL : KB_TAG_SYMPTOM,
				 m ? s->models.v[i]
				   : s->symptoms.v[i - s->models.n]);
	}
	return kb_buf_steal(&b);
}

/* Append "kind RS value" items (US-separated), skipping repeats. */
/*
 * Tag items being joined: "kind RS value", separated by US, each kept
 * once whatever its case.  An item is written at the end of the text and
 * taken back when it repeats one before it.
 */
struct tag_items {
	struct kb_buf b;
	size_t (*item)[2]; /* each item's start and length */
	size_t n, cap;
};

static void
tag_items_init(struct tag_items *t)
{
	kb_buf_init(&t->b);
	kb_buf_add(&t->b, "", 0);
	t->item = NULL;
	t->n = t->cap = 0;
}

/* The item kind RS value, or kind RS value GS value2 when value2 is set. */
static void
tag_item_add(struct tag_items *t, int kind, const char *value,
	     const char *value2)
{
	size_t sep = t->b.len, start, len, i;

	assert(kind >= 0 && kind <= 9);
	if (t->b.len > 0)
		kb_buf_addc(&t->b, '\x1f');
	start = t->b.len;
	kb_buf_addc(&t->b, (char)('0' + kind));
	kb_buf_addc(&t->b, '\x1e');
	kb_buf_adds(&t->b, value);
	if (value2 != NULL) {
		kb_buf_addc(&t->b, '\x1d');
		kb_buf_adds(&t->b, value2);
	}
	len = t->b.len - start;
	for (i = 0; i < t->n; i++)
		if (t->item[i][1] == len &&
		    strncasecmp(t->b.data + t->item[i][0], t->b.data + start,
				len) == 0) {
			t->b.len = sep;
			t->b.data[sep] = '\0';
			return;
		}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->item = kb_xrealloc(t->item, t->cap * sizeof(*t->item));
	}
	t->item[t->n][0] = start;
	t->item[t->n++][1] = len;
}

static void
tag_items_add(struct tag_items *t, int kind, const struct kb_strv *values)
{
	size_t i;

	for (i = 0; i < values->n; i++)
		tag_item_add(t, kind, values->v[i], NULL);
}

static char *
tag_items_steal(struct tag_items *t)
{
	free(t->item);
	return kb_buf_steal(&t->b);
}

/*
 * A section's tags as kbx keeps them (kbx_feat): its models, its
 * symptoms and the LED states it gives meanings of (section sec of the
 * article's facts).
 */
static char *
tag_list(const struct kb_strv *models, const struct kb_strv *symptoms,
	 const struct kb_led_facts *leds, size_t sec)
{
	struct tag_items t;
	size_t i;

	tag_items_init(&t);
	tag_items_add(&t, KB_TAG_MODEL, models);
	tag_items_add(&t, KB_TAG_SYMPTOM, symptoms);
	for (i = 0; i < leds->n; i++)
		if (leds->v[i].section == sec)
			tag_item_add(&t, KB_TAG_LED, leds->v[i].color,
				     leds->v[i].pattern);
	return tag_items_steal(&t);
}

/* An article's symptom tags, as its sections' kbx rows keep them. */
static char *
article_tag_list(const struct kb_strv *symptoms,
		 const struct kb_strv *title)
{
	struct tag_items t;

	tag_items_init(&t);
	tag_items_add(&t, KB_TAG_ARTICLE_SYMPTOM, symptoms);
	tag_items_add(&t, KB_TAG_TITLE_SYMPTOM, title);
	return tag_items_steal(&t);
}

struct kb_prepared_section {
	char *tags;  /* the tags column's text */
	char *stags; /* the tags as kbx_feat keeps them */
	struct kbx_terms terms;
};

struct kb_prepared {
	struct kb_article *a;
	struct kb_strv models, symptoms, title_sym;
	struct kb_words words;
	struct kb_led_facts leds;
	char *atags;
	struct kb_prepared_section *sec; /* a->nsections */
	/* the article's frame (pack.c) packed by kb_prepared_pack, or NULL */
	void *packed_doc;
	size_t packed_doc_len;
};

struct kb_prepared *
kb_index_prepare(const struct kb_taxonomy *tax, struct kb_article *a)
{
	struct kb_prepared *p = kb_xcalloc(1, sizeof(*p));
	size_t nsec = a->nsections, ntexts = nsec + 1, i, ntitle = 0, ntags;
	struct kb_section_words *w = kb_xcalloc(nsec + 1, sizeof(*w));
	const struct kb_token **toks = kb_xcalloc(ntexts, sizeof(*toks));
	size_t *ntoks = kb_xcalloc(ntexts, sizeof(*ntoks));
	const uint32_t **hashes = kb_xcalloc(ntexts, sizeof(*hashes));
	struct kb_token *title = NULL, *tags;
	struct kbx_terms title_terms = {0}, tag_terms = {0};
	const char *prev_tags = NULL;

	p->a = a;
	kb_strv_init(&p->models);
	kb_strv_init(&p->symptoms);
	kb_strv_init(&p->title_sym);
	kb_words_init(&p->words);
	/*
	 * Each text is tokenised once, and its tokens serve tagging, the
	 * vocabulary and the index terms alike.
	 */
	if (a->title != NULL)
		kb_tokenize(a->title, &title, &ntitle);
	for (i = 0; i < nsec; i++)
		kb_section_words_make(&a->sections[i], &w[i]);
	kb_tag_article_words(tax, a, w, &p->models, &p->symptoms);
	kb_tag_title(tax, a->title, &p->title_sym);
	toks[0] = title;
	ntoks[0] = ntitle;
	for (i = 0; i < nsec; i++) {
		toks[i + 1] = w[i].tok;
		ntoks[i + 1] = w[i].ntok;
	}
	hashes[0] = NULL; /* the title's: taken as the words are met */
	for (i = 0; i < nsec; i++)
		hashes[i + 1] = w[i].norm_hash;
	kb_vocab_words_tok(toks, ntoks, hashes, ntexts, &p->words);
	kb_extract_leds(tax, a, &p->models, &p->leds);
	p->atags = article_tag_list(&p->symptoms, &p->title_sym);
	p->sec = kb_xcalloc(nsec ? nsec : 1, sizeof(*p->sec));
	/* Every section's terms start with the title's, made once. */
	kbx_terms_add(&title_terms, 0, title, ntitle);
	for (i = 0; i < nsec; i++) {
		struct kb_section *s = &a->sections[i];
		struct kb_prepared_section *ps = &p->sec[i];

		ps->tags = tags_text(tax, a, s);
		ps->stags = tag_list(&s->models, &s->symptoms, &p->leds, i);
		/* Sections of an article mostly share their tags. */
		if (prev_tags == NULL || strcmp(prev_tags, ps->tags) != 0) {
			kbx_terms_free(&tag_terms);
			tags = NULL;
			ntags = 0;
			kb_tokenize(ps->tags, &tags, &ntags);
			kbx_terms_add(&tag_terms, 3, tags, ntags);
			kb_tokens_free(tags);
			prev_tags = ps->tags;
		}
		kbx_terms_copy(&ps->terms, &title_terms,
			       w[i].terms_len + tag_terms.len,
			       w[i].ntok + tag_terms.n[3]);
		kbx_terms_add_made(&ps->terms, 1, w[i].terms, w[i].head_len,
				   w[i].term_key, w[i].nhead);
		kbx_terms_add_made(&ps->terms, 2, w[i].terms + w[i].head_len,
				   w[i].terms_len - w[i].head_len,
				   w[i].term_key + w[i].nhead,
				   w[i].ntok - w[i].nhead);
		kbx_terms_add_made(&ps->terms, 3, tag_terms.text, tag_terms.len,
				   tag_terms.key, tag_terms.n[3]);
		kb_section_words_free(&w[i]);
	}
	kbx_terms_free(&title_terms);
	kbx_terms_free(&tag_terms);
	kb_tokens_free(title);
	free(toks);
	free(ntoks);
	free(hashes);
	free(w);
	return p;
}

const struct kb_packer *
kb_index_packing(struct kb_index *ix)
{
	return kb_packer_shared(ix->packer);
}

/*
 * The text of a's frame: its Markdown (if any) and a NUL, then each
 * section's body and a NUL.  False when there is nothing to pack.
 */
static bool
article_text(const struct kb_article *a, struct kb_buf *b)
{
	size_t i;

	kb_buf_init(b);
	if (a->markdown == NULL && a->nsections == 0)
		return false;
	kb_buf_add(b, a->markdown ? a->markdown : "",
		   a->markdown ? strlen(a->markdown) + 1 : 1);
	for (i = 0; i < a->nsections; i++)
		kb_buf_add(b, a->sections[i].body,
			   strlen(a->sections[i].body) + 1);
	return true;
}

void
kb_prepared_pack(struct kb_prepared *p, const struct kb_packer *packer,
		 struct kb_pack_ctx *ctx)
{
	const struct kb_article *a = p->a;
	struct kb_buf b;

	if (packer == NULL)
		return;
	if (article_text(a, &b))
		p->packed_doc = kb_pack_ctx_pack_article(
		    ctx, packer, b.data, b.len, a->markdown != NULL,
		    &p->packed_doc_len);
	kb_buf_free(&b);
}

void
kb_prepared_free(struct kb_prepared *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->a->nsections; i++) {
		free(p->sec[i].tags);
		free(p->sec[i].stags);
		kbx_terms_free(&p->sec[i].terms);
	}
	free(p->sec);
	free(p->packed_doc);
	free(p->atags);
	kb_strv_free(&p->models);
	kb_strv_free(&p->symptoms);
	kb_strv_free(&p->title_sym);
	kb_words_free(&p->words);
	kb_led_facts_free(&p->leds);
	free(p);
}

int
kb_index_put(struct kb_index *ix, const char *relpath, const char *hash,
	     struct kb_article *a, struct kb_error *err)
{
	struct kb_prepared *p = kb_index_prepare(ix->tax, a);
	int rc = kb_index_put_prepared(ix, relpath, hash, p, err);

	kb_prepared_free(p);
	return rc;
}

int
kb_index_put_prepared(struct kb_index *ix, const char *relpath,
		      const char *hash, const struct kb_prepared *p,
		      struct kb_error *err)
{
	const struct kb_article *a = p->a;
	sqlite3_stmt *st;
	sqlite3_int64 aid, *sids = NULL;
	size_t headed, off;
	bool packed = false;
	void *doc = NULL;
	char *mj = NULL, *sj = NULL;
	double prior;
	int rc = KB_OK;
	size_t i;

	st = ix->st[ST_FIND];
	bind_text(st, 1, relpath);
	if (sqlite3_step(st) == SQLITE_ROW) {
		aid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = delete_article(ix, aid, err);
		if (rc != KB_OK)
			goto out;
		ix->stats.changed++;
	} else {
		sqlite3_reset(st);
		ix->stats.added++;
	}
	if (!ix->fresh) {
		bind_text(ix->st[ST_SEEN], 1, relpath);
		run(ix, ST_SEEN, NULL);
	}
	kb_vocab_delta_words(ix->vocab, &p->words, 1);

	mj = kb_strv_to_json(&p->models);
	sj = kb_strv_to_json(&p->symptoms);
	st = ix->st[ST_INS_ARTICLE];
	bind_text(st, 1, relpath);
	bind_text(st, 2, hash);
	bind_text(st, 3, format_name(a->format));
	bind_text(st, 4, a->title);
	bind_text(st, 5, a->summary);
	bind_text(st, 6, mj);
	bind_text(st, 7, sj);
	/* The article as one frame once there is a dictionary (pack.c). */
	if (p->packed_doc != NULL) {
		sqlite3_bind_blob(st, 8, p->packed_doc, (int)p->packed_doc_len,
				  SQLITE_STATIC);
		packed = true;
	} else {
		struct kb_buf b;
		size_t plen = 0;

		if (kb_packer_ready(ix->packer) && article_text(a, &b)) {
			doc = kb_packer_pack_article(ix->packer, b.data, b.len,
						     a->markdown != NULL,
						     &plen);
			kb_buf_free(&b);
			packed = doc != NULL;
		}
		/* else the Markdown alone, zlib-packed */
		if (!packed && a->markdown != NULL)
			doc = kb_packer_pack_doc(ix->packer, a->markdown,
						 &plen);
		if (doc != NULL)
			sqlite3_bind_blob(st, 8, doc, (int)plen, free);
		else
			sqlite3_bind_null(st, 8);
	}
	rc = run(ix, ST_INS_ARTICLE, err);
	if (rc != KB_OK)
		goto out;
	aid = sqlite3_last_insert_rowid(ix->sql);
	/* A new index's title index is made in one go when it is finished. */
	if (!ix->fresh) {
		sqlite3_bind_int64(ix->st[ST_INS_TITLE], 1, aid);
		bind_text(ix->st[ST_INS_TITLE], 2, a->title);
		rc = run(ix, ST_INS_TITLE, err);
		if (rc != KB_OK)
			goto out;
	}


	sids = kb_xcalloc(a->nsections ? a->nsections : 1, sizeof(*sids));
	headed = 0;
	/* offsets in the article's frame: the sections follow its Markdown */
	off = a->markdown != NULL ? strlen(a->markdown) + 1 : 1;
	for (i = 0; i < a->nsections; i++) {
		const struct kb_section *s = &a->sections[i];
		size_t blen = strlen(s->body);
		unsigned char ref[KB_PACKER_REF_MAX];

		st = ix->st[ST_INS_SECTION];
		sqlite3_bind_int64(st, 1, aid);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, s->heading);
		bind_text(st, 4, s->anchor);
		sqlite3_bind_int(st, 5, s->line);
		if (packed)
			sqlite3_bind_blob(st, 6, ref,
					  (int)kb_packer_ref(ref, aid, off,
							     blen),
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_text(st, 6, s->body, (int)blen,
					  SQLITE_STATIC);
		off += blen + 1;
		prior = kb_section_prior(s->heading, headed);
		sqlite3_bind_double(st, 7, prior);
		if (*s->heading)
			headed++;
		rc = run(ix, ST_INS_SECTION, err);
		sids[i] = sqlite3_last_insert_rowid(ix->sql);
		if (rc == KB_OK) {
			struct kbx_feat feat;

			feat.article = aid;
			feat.prior = prior;
			feat.tags = p->sec[i].stags;
			feat.article_tags = p->atags;
			rc = kbx_add_terms(ix->kbx, sids[i], &p->sec[i].terms,
					   &feat, err);
		}
		if (rc == KB_OK && !packed)
			rc = sample(ix, sids[i], s->body, false, err);
		if (rc != KB_OK)
			goto out;
		ix->stats.sections++;
	}
	for (i = 0; i < p->leds.n; i++) {
		const struct kb_led_fact *f = &p->leds.v[i];
		size_t k, same = 0;

		if (f->section >= a->nsections)
			continue;
		for (k = 0; k < p->leds.n; k++)
			same += p->leds.v[k].section == f->section;
		st = ix->st[ST_INS_LED];
		sqlite3_bind_int64(st, 7, (sqlite3_int64)same);
		sqlite3_bind_int64(st, 1, aid);
		sqlite3_bind_int64(st, 2, sids[f->section]);
		bind_text(st, 3, f->model);
		bind_text(st, 4, f->color);
		bind_text(st, 5, f->pattern);
		bind_text(st, 6, f->meaning);
		rc = run(ix, ST_INS_LED, err);
		if (rc != KB_OK)
			goto out;
		if (ix->fresh)
			best_leds_add(&ix->best, f->model, f->color,
				      f->pattern, sqlite3_last_insert_rowid(ix->sql),
				      (int64_t)same);
	}
	if (++ix->unflushed == WRITEBACK_ARTICLES)
		start_writeback(ix);
out:
	free(sids);
	free(mj);
	free(sj);
	return rc;
}

static int
remove_unseen(struct kb_index *ix, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 *ids = NULL;
	size_t n = 0, cap = 0, i;
	int rc = KB_OK;

	if (sqlite3_prepare_v2(ix->sql,
			       "SELECT id FROM articles WHERE path NOT IN"
			       " (SELECT path FROM temp.seen)",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "finding removed files");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = kb_xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	for (i = 0; i < n && rc == KB_OK; i++)
		rc = delete_article(ix, ids[i], err);
	ix->stats.removed = n;
	free(ids);
	return rc;
}

static int
count(struct kb_index *ix, const char *sql, size_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(ix->sql, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = (size_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Per model and LED state, the fact from the fullest section (then the
 * first), marked before a new index has its LED indexes, which hold only
 * the facts marked best (kb_db_late_indexes_sql).  A new index chose them
 * as its facts were stored (best_leds_add); an updated one sorts its
 * facts once.  The winners' ids are read first and marked one by one:
 * one UPDATE over the whole table kept a copy of every page it changed
 * (~28 MB at 100k articles).
 */
static int
mark_best_leds(struct kb_index *ix, struct kb_error *err)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	sqlite3_int64 *ids = NULL;
	size_t n = 0, cap = 0, i;
	int rc = KB_OK, step;

	errno = 0;
	if (ix->fresh) {
		/* chosen as the facts were stored; none is marked yet */
		if (sqlite3_prepare_v2(ix->sql,
				       "UPDATE leds SET best = 1 WHERE id = ?",
				       -1, &upd, NULL) != SQLITE_OK)
			return sql_fail(ix, err, "choosing LED facts");
		for (i = 0; i < ix->best.cap && rc == KB_OK; i++) {
			if (ix->best.v[i].key == NULL)
				continue;
			sqlite3_bind_int64(upd, 1, ix->best.v[i].id);
			if (sqlite3_step(upd) != SQLITE_DONE)
				rc = sql_fail(ix, err, "choosing LED facts");
			sqlite3_reset(upd);
		}
		sqlite3_finalize(upd);
		best_leds_free(&ix->best);
		return rc;
	}
	rc = exec(ix, "UPDATE leds SET best = 0 WHERE best = 1", err);
	if (rc != KB_OK)
		return rc;
	if (sqlite3_prepare_v2(ix->sql,
			       "SELECT id FROM (SELECT id, row_number() OVER"
			       " (PARTITION BY model COLLATE NOCASE, color,"
			       " pattern ORDER BY nsec DESC, id) AS n"
			       " FROM leds) WHERE n = 1",
			       -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ix->sql, "UPDATE leds SET best = 1 WHERE id = ?",
			       -1, &upd, NULL) != SQLITE_OK) {
		rc = sql_fail(ix, err, "choosing LED facts");
		goto out;
	}
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ids = kb_xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(sel, 0);
	}
	if (step != SQLITE_DONE) {
		rc = sql_fail(ix, err, "choosing LED facts");
		goto out;
	}
	for (i = 0; i < n && rc == KB_OK; i++) {
		sqlite3_bind_int64(upd, 1, ids[i]);
		if (sqlite3_step(upd) != SQLITE_DONE)
			rc = sql_fail(ix, err, "choosing LED facts");
		sqlite3_reset(upd);
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	free(ids);
	return rc;
}

/* The taxonomy with its tables built, for readers to load in one step. */
static int
write_packed_taxonomy(struct kb_index *ix, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct kb_buf b;
	int rc = KB_OK;

	kb_buf_init(&b);
	kb_taxonomy_pack(ix->tax, &b);
	if (sqlite3_prepare_v2(ix->sql,
			       "INSERT OR REPLACE INTO meta(key, value)"
			       " VALUES ('taxonomy_packed', ?)",
			       -1, &st, NULL) != SQLITE_OK)
		rc = sql_fail(ix, err, "writing metadata");
	else {
		sqlite3_bind_blob(st, 1, b.data, (int)b.len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_fail(ix, err, "writing metadata");
	}
	sqlite3_finalize(st);
	kb_buf_free(&b);
	return rc;
}

static int
write_meta(struct kb_index *ix, struct kb_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *json = ix->tax->json ? ix->tax->json : "";
	char hash[17], when[32], schema[16];
	time_t now = time(NULL);
	struct tm tm;
	const char *kv[4][2];
	int rc = KB_OK;
	size_t i;

	kb_hash_hex(json, strlen(json), hash);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(schema, sizeof(schema), "%d", KB_SCHEMA_VERSION);
	kv[0][0] = "schema", kv[0][1] = schema;
	kv[1][0] = "built_at", kv[1][1] = when;
	kv[2][0] = "taxonomy", kv[2][1] = json;
	kv[3][0] = "taxonomy_hash", kv[3][1] = hash;
	if (sqlite3_prepare_v2(ix->sql,
			       "INSERT OR REPLACE INTO meta(key, value)"
			       " VALUES (?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "writing metadata");
	for (i = 0; i < 4 && rc == KB_OK; i++) {
		sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_fail(ix, err, "writing metadata");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc == KB_OK)
		rc = write_packed_taxonomy(ix, err);
	return rc;
}

struct vocab_write {
	sqlite3_stmt *st;
	int failed;
};

static void
vocab_row(void *ctx, const char *word, int64_t delta)
{
	struct vocab_write *w = ctx;

	if (w->failed)
		return;
	sqlite3_bind_text(w->st, 1, word, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w->st, 2, delta);
	if (sqlite3_step(w->st) != SQLITE_DONE)
		w->failed = 1;
	sqlite3_reset(w->st);
}

static int
write_vocab(struct kb_index *ix, struct kb_error *err)
{
	struct vocab_write w = { NULL, 0 };

	if (sqlite3_prepare_v2(ix->sql,
			       "INSERT INTO vocab(word, df) VALUES (?, ?)"
			       " ON CONFLICT(word) DO UPDATE"
			       " SET df = df + excluded.df",
			       -1, &w.st, NULL) != SQLITE_OK)
		return sql_fail(ix, err, "writing the vocabulary");
	kb_vocab_delta_each(ix->vocab, vocab_row, &w);
	sqlite3_finalize(w.st);
	if (w.failed)
		return sql_fail(ix, err, "writing the vocabulary");
	return exec(ix, "DELETE FROM vocab WHERE df <= 0", err);
}

static int
sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
kb_index_finish(struct kb_index *ix, struct kb_index_stats *st,
		struct kb_error *err)
{
	char *dir = NULL, *slash;
	int rc, i;

	rc = ix->fresh ? KB_OK : remove_unseen(ix, err);
	if (rc == KB_OK)
		rc = write_vocab(ix, err);
	kb_vocab_delta_free(ix->vocab);
	ix->vocab = NULL;
	if (rc == KB_OK)
		rc = write_meta(ix, err);
	/* The postings are rebuilt on another thread meanwhile. */
	if (rc == KB_OK)
		rc = rebuild_fail(ix, err, kbx_build_start(ix->kbx, err));
	if (rc == KB_OK)
		rc = mark_best_leds(ix, err);
	if (rc == KB_OK)
		rc = exec(ix, kb_db_late_indexes_sql, err);
	if (rc == KB_OK && ix->fresh)
		rc = exec(ix, "INSERT INTO titles(titles) VALUES ('rebuild')",
			  err);
	/* before the wait for the postings, which are the longer job */
	if (rc == KB_OK)
		rc = exec(ix, "INSERT INTO titles(titles) VALUES ('optimize')",
			  err);
	if (rc == KB_OK)
		rc = sample(ix, 0, NULL, true, err);
	/* Nothing is packed from here on: its contexts' memory goes. */
	kb_packer_free(ix->packer);
	ix->packer = NULL;
	if (rc == KB_OK)
		rc = rebuild_fail(ix, err, kbx_build_finish(ix->kbx, err));
	/* the postings, the late indexes and the title index */
	if (rc == KB_OK)
		start_writeback(ix);
	if (rc != KB_OK)
		goto out;
	if (count(ix, "SELECT count(*) FROM articles", &ix->stats.articles) ||
	    count(ix, "SELECT count(*) FROM sections", &ix->stats.sections) ||
	    count(ix, "SELECT count(*) FROM leds", &ix->stats.leds)) {
		rc = sql_fail(ix, err, "counting");
		goto out;
	}
	rc = exec(ix, "COMMIT", err);
	if (rc != KB_OK)
		goto out;
	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(ix->st[i]);
		ix->st[i] = NULL;
	}
	kbx_build_free(ix->kbx);
	ix->kbx = NULL;
	if (sqlite3_close(ix->sql) != SQLITE_OK) {
		rc = sql_fail(ix, err, "closing");
		goto out;
	}
	ix->sql = NULL;
	if (sync_path(ix->tmp, 0) != 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0,
				  "%s: cannot sync: %s; the previous index "
				  "is unchanged",
				  ix->tmp, strerror(errno));
		goto out;
	}
	if (rename(ix->tmp, ix->path) != 0) {
		rc = kb_error_set(err, KB_ERR_IO, 0,
				  "cannot rename %s to %s: %s", ix->tmp,
				  ix->path, strerror(errno));
		goto out;
	}
	dir = kb_xstrdup(ix->path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		sync_path(".", 1);
	else if (slash == dir)
		sync_path("/", 1);
	else {
		*slash = '\0';
		sync_path(dir, 1);
	}
	if (st != NULL)
		*st = ix->stats;
out:
	free(dir);
	kb_index_abort(ix);
	return rc;
}

void
kb_index_abort(struct kb_index *ix)
{
	int i;

	if (ix == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ix->st[i]);
	kbx_build_free(ix->kbx);
	kb_packer_free(ix->packer);
	kb_buf_free(&ix->samples);
	free(ix->sample_len);
	free(ix->sample_id);
	best_leds_free(&ix->best);
	if (ix->sql != NULL)
		sqlite3_close(ix->sql);
	/* After a successful rename there is no PATH.new left to remove. */
	if (ix->locked)
		remove_tmp(ix);
	if (ix->lockfd >= 0)
		close(ix->lockfd);
	if (ix->wbfd >= 0)
		close(ix->wbfd);
	kb_taxonomy_free(ix->own_tax);
	kb_vocab_delta_free(ix->vocab);
	free(ix->path);
	free(ix->tmp);
	free(ix->lockpath);
	free(ix);
}
