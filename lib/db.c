/* db.c - the index file: schema, opening it read-only, reading articles back. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "db.h"
#include "db_int.h"
#include "kbx.h"
#include "understand.h"

/*
 * Sections are the unit of search.  Their text is stored once, here;
 * what finds them is kbx (kbx.h): impact-ordered postings per term and
 * each section's term numbers, built by kbindex from the "kb" tokenizer's
 * terms; a section's model and symptom tags are kept in its kbx row and,
 * as tag tokens in its tags column, in the postings, which is how filters
 * find them.  FTS5 indexes only article titles, for suggestions.
 */
const char kb_db_schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE articles("
	" id INTEGER PRIMARY KEY,"
	" path TEXT NOT NULL UNIQUE,"
	" hash TEXT NOT NULL,"
	" format TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" summary TEXT,"
	" models TEXT NOT NULL,"
	" symptoms TEXT NOT NULL,"
	/* packed (pack.c): its Markdown, and its sections' bodies too */
	" markdown BLOB);"
	"CREATE TABLE sections("
	" id INTEGER PRIMARY KEY,"
	" article_id INTEGER NOT NULL,"
	" ord INTEGER NOT NULL,"
	" heading TEXT NOT NULL,"
	" anchor TEXT NOT NULL,"
	" line INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" boost REAL NOT NULL DEFAULT 1);"
	"CREATE TABLE leds("
	" id INTEGER PRIMARY KEY,"
	" article_id INTEGER NOT NULL,"
	" section_id INTEGER NOT NULL,"
	" model TEXT,"
	" color TEXT NOT NULL,"
	" pattern TEXT NOT NULL,"
	" meaning TEXT NOT NULL,"
	/* facts its section lists: the fullest table answers first */
	" nsec INTEGER NOT NULL DEFAULT 1,"
	/* 1 for the fact answer cards show for its model and state */
	" best INTEGER NOT NULL DEFAULT 0);"
	/* Article titles for as-you-type suggestions (suggest.c). */
	"CREATE VIRTUAL TABLE titles USING fts5("
	" title, tokenize = 'kb', content = 'articles', content_rowid = 'id');"
	/* kbx.h: impact-ordered postings and each section's term numbers. */
	"CREATE TABLE terms(id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);"
	"CREATE TABLE postings(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE fwd(id INTEGER PRIMARY KEY, toks BLOB NOT NULL);"
	"CREATE TABLE vocab(word TEXT PRIMARY KEY, df INTEGER NOT NULL)"
	" WITHOUT ROWID;";

/*
 * The indexes on sections and leds, made after the tables are filled in a
 * new index (one sort each instead of a B-tree insert per row) and kept
 * up to date when an index is updated in place.  Answer cards read only
 * the LED facts marked best, a quarter of them, so their indexes hold
 * only those.
 */
const char kb_db_late_indexes_sql[] =
	"CREATE INDEX IF NOT EXISTS sections_article"
	" ON sections(article_id, ord);"
	"CREATE INDEX IF NOT EXISTS leds_article ON leds(article_id);"
	/* an answer card reads its few facts straight off these */
	"CREATE INDEX IF NOT EXISTS leds_state"
	" ON leds(color, pattern, nsec DESC, id) WHERE best = 1;"
	"CREATE INDEX IF NOT EXISTS leds_color"
	" ON leds(color, nsec DESC, id) WHERE best = 1;"
	"CREATE INDEX IF NOT EXISTS leds_pattern"
	" ON leds(pattern, nsec DESC, id) WHERE best = 1;"
	"CREATE INDEX IF NOT EXISTS leds_model"
	" ON leds(model COLLATE NOCASE, color, pattern, nsec DESC, id)"
	" WHERE best = 1;"
	"CREATE INDEX IF NOT EXISTS leds_model_color"
	" ON leds(model COLLATE NOCASE, color, nsec DESC, id) WHERE best = 1;"
	"CREATE INDEX IF NOT EXISTS leds_model_pattern"
	" ON leds(model COLLATE NOCASE, pattern, nsec DESC, id)"
	" WHERE best = 1;";

#define STMT_CACHE 64

struct kb_db {
	sqlite3 *sql;
	struct kb_taxonomy *tax;
	struct kb_understand_cache *ucache;
	double timeout_ms;
	double deadline; /* kb_now() seconds, 0 for none */
	struct kb_packer *packer; /* NULL until a section's text is read */
	void *scratch; /* kept between searches by kbx.c */
	void (*scratch_free)(void *);
	struct {
		const char *key; /* the SQL text pointer: callers pass literals */
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
};

/* Set by kb_db_one_shot: readers copy pages in instead of mapping them. */
static bool one_shot;

/*
 * Whether the kernel gives huge pages to a mapping that asks for them:
 * "[always]" or "[madvise]" in sysfs, not "[never]" (or no such file).
 */
static bool
huge_pages_on(void)
{
	char buf[128];
	ssize_t n;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "[always]") != NULL ||
	       strstr(buf, "[madvise]") != NULL;
}

/*
 * A process that opens an index, searches once and exits touches a few
 * hundred of its pages, each once.  Mapped, each of them costs a page
 * fault that maps up to 16 pages around it (fault-around), and every page
 * so mapped is unmapped again at exit: at 100k articles a one-shot search
 * maps ~22 MB of the file and spends ~1.7 ms unmapping it.  Read with
 * pread() into SQLite's page cache instead, a page costs a system call
 * and a copy; the cache's slots are laid on one huge page, cleared faster
 * than the ~470 small pages it holds would be faulted in one by one.
 * SQLite writes every slot when it starts, so the buffer is what a
 * search needs, not more: ~400 pages at 100k articles (the packed
 * taxonomy is read past the cache), ~220 at 1k.  Pages past the slots
 * come from malloc, as usual.
 */
#define ONE_SHOT_CACHE ((size_t)2 << 20)

void
kb_db_one_shot(void)
{
	int hdr = 0, slot;
	void *m;

	one_shot = true;
	if (!huge_pages_on() ||
	    sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK ||
	    hdr <= 0 || hdr > 4096)
		return;
	slot = 4096 + hdr; /* kbindex makes 4 KiB pages */
	m = mmap(NULL, ONE_SHOT_CACHE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
#ifdef MADV_HUGEPAGE
	(void)madvise(m, ONE_SHOT_CACHE, MADV_HUGEPAGE);
#endif
	/* Refused once SQLite is initialised; the buffer then goes unused
	 * (kbsearch calls this first). The process's exit frees it. */
	if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, m, slot,
			   (int)(ONE_SHOT_CACHE / (size_t)slot)) != SQLITE_OK)
		munmap(m, ONE_SHOT_CACHE);
}

void
kb_db_builder(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int
kb_db_configure(sqlite3 *db, int readonly)
{
	int rc;

	/* Input never gets to write SQL, but keep the file unbreakable. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 64 * 1024 * 1024);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 100000);
	sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 200);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 200);
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 1000);
	sqlite3_busy_timeout(db, 5000);
	rc = kb_fts_register(db);
	if (rc != SQLITE_OK)
		return rc;
	if (!readonly)
		return rc;
	/* A reader attaches nothing, fires no trigger, runs small
	   statements; SQLite's defaults allow far more. */
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
	sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 4);
	sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 16);
	sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 25000);
	rc = sqlite3_exec(db, "PRAGMA query_only = 1;", NULL, NULL, NULL);
	/*
	 * Readers map the file instead of copying pages through read(): the
	 * index never changes under an open connection (kbindex renames a
	 * new file into place).  A one-shot process reads instead
	 * (kb_db_one_shot).  A file that is no index fails later, with a
	 * message saying so.
	 */
	if (rc == SQLITE_OK)
		sqlite3_exec(db,
			     one_shot ? "PRAGMA cache_size = -8000;"
				      : "PRAGMA mmap_size = 1073741824;"
					" PRAGMA cache_size = -8000;",
			     NULL, NULL, NULL);
	return rc;
}

static char *
meta_get(sqlite3 *sql, const char *key)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	if (sqlite3_prepare_v2(sql, "SELECT value FROM meta WHERE key = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = kb_col_text(st, 0, 1);
	sqlite3_finalize(st);
	return v;
}

/*
 * The packed taxonomy, read straight into the buffer it is unpacked in:
 * it is the biggest thing a search reads on start.
 */
static bool
unpack_taxonomy(struct kb_db *db)
{
	sqlite3_stmt *st = NULL;
	sqlite3_blob *blob = NULL;
	struct kb_error err;
	sqlite3_int64 row = 0, len = 0;
	char *buf;

	if (sqlite3_prepare_v2(db->sql,
			       "SELECT rowid, length(value) FROM meta"
			       " WHERE key = 'taxonomy_packed'"
			       " AND typeof(value) = 'blob'",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		row = sqlite3_column_int64(st, 0);
		len = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (len <= 0 || len >= INT_MAX ||
	    sqlite3_blob_open(db->sql, "main", "meta", "value", row, 0,
			      &blob) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		return false;
	}
	buf = kb_xmalloc((size_t)len + 1);
	if (sqlite3_blob_bytes(blob) != len ||
	    sqlite3_blob_read(blob, buf, (int)len, 0) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		free(buf);
		return false;
	}
	sqlite3_blob_close(blob);
	return kb_taxonomy_adopt(buf, (size_t)len, &db->tax, &err) == KB_OK;
}

int
kb_db_open(const char *path, struct kb_db **out, struct kb_error *err)
{
	struct kb_db *db = NULL;
	struct kb_error terr;
	struct stat sb;
	char *schema = NULL, *tax = NULL;
	int rc = KB_OK;

	*out = NULL;
	if (stat(path, &sb) != 0) {
		rc = kb_error_set(err, KB_ERR_MISSING, 0, "no index at %s: %s",
				  path, strerror(errno));
		goto out;
	}
	db = kb_xcalloc(1, sizeof(*db));
	if (sqlite3_open_v2(path, &db->sql,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    kb_db_configure(db->sql, 1) != SQLITE_OK) {
		rc = kb_error_set(err, KB_ERR_DB, 0, "cannot open index %s",
				  path);
		goto out;
	}
	schema = meta_get(db->sql, "schema");
	if (schema == NULL) {
		rc = kb_error_set(err, KB_ERR_DB, 0,
				  "%s is not a kbsearch index (or is damaged)",
				  path);
		goto out;
	}
	if (strtol(schema, NULL, 10) != KB_SCHEMA_VERSION) {
		rc = kb_error_set(err, KB_ERR_DB, 0,
				  "%s was built by another kbsearch version "
				  "(schema %s, need %d): run kbindex --full",
				  path, schema, KB_SCHEMA_VERSION);
		goto out;
	}
	/*
	 * The packed taxonomy (tables built) when this build wrote it, else
	 * the JSON, parsed and its tables built here.
	 */
	if (!unpack_taxonomy(db)) {
		tax = meta_get(db->sql, "taxonomy");
		if (tax == NULL || *tax == '\0' ||
		    kb_taxonomy_parse("stored taxonomy", tax, strlen(tax),
				      &db->tax, &terr) != KB_OK)
			db->tax = kb_taxonomy_new_empty();
	}
	db->ucache = kb_understand_cache_new(db->tax);
	*out = db;
	db = NULL;
out:
	free(schema);
	free(tax);
	kb_db_close(db);
	return rc;
}

void
kb_db_close(struct kb_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(db->cache[i].st);
	if (db->scratch_free != NULL)
		db->scratch_free(db->scratch);
	kb_packer_free(db->packer);
	sqlite3_close(db->sql);
	kb_understand_cache_free(db->ucache);
	kb_taxonomy_free(db->tax);
	free(db);
}

/* SQLite calls this every few thousand instructions; nonzero stops it. */
static int
past_deadline(void *arg)
{
	struct kb_db *db = arg;

	return db->deadline > 0 && kb_now() > db->deadline;
}

void
kb_db_set_timeout(struct kb_db *db, double ms)
{
	db->timeout_ms = ms;
	db->deadline = 0;
	sqlite3_progress_handler(db->sql, ms > 0 ? 2000 : 0,
				 ms > 0 ? past_deadline : NULL, db);
}

void
kb_db_deadline_start(struct kb_db *db)
{
	db->deadline = db->timeout_ms > 0 ? kb_now() + db->timeout_ms / 1000.0
					  : 0;
}

void
kb_db_deadline_stop(struct kb_db *db)
{
	db->deadline = 0;
}

struct kb_packer *
kb_db_packer(struct kb_db *db)
{
	if (db->packer == NULL)
		db->packer = kb_packer_open(db->sql);
	return db->packer;
}

int
kb_db_timed_out(const struct kb_db *db)
{
	return db->deadline > 0 && kb_now() > db->deadline;
}

sqlite3 *
kb_db_handle(struct kb_db *db)
{
	return db->sql;
}

void *
kb_db_scratch(struct kb_db *db, void *(*make)(void), void (*drop)(void *))
{
	if (db->scratch == NULL) {
		db->scratch = make();
		db->scratch_free = drop;
	}
	return db->scratch;
}

sqlite3_stmt *
kb_db_stmt(struct kb_db *db, const char *sql)
{
	size_t i;
	sqlite3_stmt *st = NULL;

	for (i = 0; i < STMT_CACHE && db->cache[i].key != NULL; i++) {
		if (db->cache[i].key == sql) {
			sqlite3_reset(db->cache[i].st);
			sqlite3_clear_bindings(db->cache[i].st);
			return db->cache[i].st;
		}
	}
	if (sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st, NULL) != SQLITE_OK)
		return NULL;
	if (i == STMT_CACHE) {
		/* Full: callers use literals, so this only happens by mistake. */
		sqlite3_finalize(db->cache[STMT_CACHE - 1].st);
		i = STMT_CACHE - 1;
	}
	db->cache[i].key = sql;
	db->cache[i].st = st;
	return st;
}

const struct kb_taxonomy *
kb_db_taxonomy(const struct kb_db *db)
{
	return db->tax;
}

const struct kb_understand_cache *
kb_db_understand_cache(const struct kb_db *db)
{
	return db->ucache;
}

/*
 * Stored Markdown is zlib-compressed behind a 4-byte length: it is only
 * read to render one article page, and it would otherwise be the largest
 * thing in the file.
 */
void *
kb_pack_text(const char *text, size_t *outlen)
{
	size_t n = strlen(text);
	uLongf cap = compressBound((uLong)n);
	unsigned char *out = kb_xmalloc(cap + 4);

	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	if (compress2(out + 4, &cap, (const Bytef *)text, (uLong)n, 1) != Z_OK) {
		free(out);
		*outlen = 0;
		return NULL;
	}
	*outlen = cap + 4;
	return out;
}

char *
kb_unpack_text(const void *blob, size_t len)
{
	const unsigned char *b = blob;
	uLongf n;
	char *out;

	if (b == NULL || len < 4)
		return NULL;
	n = (uLongf)b[0] << 24 | (uLongf)b[1] << 16 | (uLongf)b[2] << 8 | b[3];
	if (n > 64u * 1024 * 1024)
		return NULL;
	out = kb_xmalloc(n + 1);
	if (uncompress((Bytef *)out, &n, b + 4, (uLong)(len - 4)) != Z_OK) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

char *
kb_col_text(sqlite3_stmt *st, int col, int nonnull)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (s == NULL)
		return nonnull ? kb_xstrdup("") : NULL;
	return kb_xstrndup((const char *)s,
			   (size_t)sqlite3_column_bytes(st, col));
}

char *
kb_strv_to_json(const struct kb_strv *sv)
{
	static const char hex[] = "0123456789ABCDEF";
	struct kb_buf b;
	size_t i, k, n = 0;

	/* Jansson's compact form, written directly: an article's lists are
	 * short, and Jansson made a value per item to print them. */
	kb_buf_init(&b);
	kb_buf_addc(&b, '[');
	for (i = 0; i < sv->n; i++) {
		const unsigned char *v = (const unsigned char *)sv->v[i];
		size_t len = strlen(sv->v[i]);

		/* as json_string(): text that is not UTF-8 is left out */
		if (!kb_utf8_valid(sv->v[i], len))
			continue;
		if (n++ > 0)
			kb_buf_addc(&b, ',');
		kb_buf_addc(&b, '"');
		for (k = 0; k < len; k++) {
			unsigned char c = v[k];
			char esc[7] = { '\\', 'u', '0', '0', 0, 0, 0 };

			switch (c) {
			case '"':
				kb_buf_add(&b, "\\\"", 2);
				break;
			case '\\':
				kb_buf_add(&b, "\\\\", 2);
				break;
			case '\b':
				kb_buf_add(&b, "\\b", 2);
				break;
			case '\f':
				kb_buf_add(&b, "\\f", 2);
				break;
			case '\n':
				kb_buf_add(&b, "\\n", 2);
				break;
			case '\r':
				kb_buf_add(&b, "\\r", 2);
				break;
			case '\t':
				kb_buf_add(&b, "\\t", 2);
				break;
			default:
				if (c < 0x20) {
					esc[4] = hex[c >> 4];
					esc[5] = hex[c & 15];
					kb_buf_add(&b, esc, 6);
				} else {
					kb_buf_addc(&b, (char)c);
				}
			}
		}
		kb_buf_addc(&b, '"');
	}
	kb_buf_addc(&b, ']');
	return kb_buf_steal(&b);
}

void
kb_strv_from_json(struct kb_strv *sv, const char *json)
{
	json_t *a;
	size_t i;

	if (json == NULL)
		return;
	a = json_loads(json, 0, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s != NULL)
			kb_strv_push(sv, s);
	}
	json_decref(a);
}

static int
db_fail(struct kb_db *db, struct kb_error *err)
{
	return kb_error_set(err, KB_ERR_DB, 0, "index read failed: %s",
			    sqlite3_errmsg(db->sql));
}

int
kb_db_stats(struct kb_db *db, struct kb_db_stats *st, struct kb_error *err)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM articles),"
		" (SELECT count(*) FROM sections),"
		" (SELECT count(*) FROM leds),"
		" (SELECT value FROM meta WHERE key = 'built_at')";
	sqlite3_stmt *s = kb_db_stmt(db, sql);
	const unsigned char *b;

	memset(st, 0, sizeof(*st));
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
		return db_fail(db, err);
	st->articles = sqlite3_column_int64(s, 0);
	st->sections = sqlite3_column_int64(s, 1);
	st->leds = sqlite3_column_int64(s, 2);
	b = sqlite3_column_text(s, 3);
	if (b != NULL)
		snprintf(st->built_at, sizeof(st->built_at), "%s", b);
	sqlite3_reset(s);
	return KB_OK;
}

static void
read_led(sqlite3_stmt *s, struct kb_db_led *l)
{
	l->section = sqlite3_column_int64(s, 0);
	l->model = kb_col_text(s, 1, 0);
	l->color = kb_col_text(s, 2, 1);
	l->pattern = kb_col_text(s, 3, 1);
	l->meaning = kb_col_text(s, 4, 1);
	l->heading = kb_col_text(s, 5, 1);
	l->article = sqlite3_column_int64(s, 6);
	l->anchor = kb_col_text(s, 7, 1);
	l->path = kb_col_text(s, 8, 1);
}

int
kb_db_article(struct kb_db *db, const char *which, struct kb_db_article **out,
	      struct kb_error *err)
{
	static const char by_id[] =
		"SELECT id, path, format, title, summary, markdown, models,"
		" symptoms FROM articles WHERE id = ?";
	static const char by_path[] =
		"SELECT id, path, format, title, summary, markdown, models,"
		" symptoms FROM articles WHERE path = ?";
	static const char secs[] =
		"SELECT s.id, s.heading, s.anchor, s.body"
		" FROM sections s WHERE s.article_id = ? ORDER BY s.ord";
	static const char leds[] =
		"SELECT l.section_id, l.model, l.color, l.pattern, l.meaning,"
		" s.heading, l.article_id, s.anchor, a.path FROM leds l"
		" JOIN sections s ON s.id = l.section_id"
		" JOIN articles a ON a.id = l.article_id"
		" WHERE l.article_id = ? ORDER BY l.id";
	struct kb_db_article *a = NULL;
	sqlite3_stmt *s;
	char *end;
	long long id;
	size_t cap, i;
	int rc = KB_OK, step;

	*out = NULL;
	errno = 0;
	id = strtoll(which, &end, 10);
	if (*which != '\0' && *end == '\0' && errno == 0) {
		s = kb_db_stmt(db, by_id);
		if (s == NULL)
			return db_fail(db, err);
		sqlite3_bind_int64(s, 1, id);
	} else {
		s = kb_db_stmt(db, by_path);
		if (s == NULL)
			return db_fail(db, err);
		sqlite3_bind_text(s, 1, which, -1, SQLITE_TRANSIENT);
	}
	step = sqlite3_step(s);
	if (step != SQLITE_ROW) {
		sqlite3_reset(s);
		if (step == SQLITE_DONE)
			return kb_error_set(err, KB_ERR_MISSING, 0,
					    "no article %s in the index",
					    which);
		return db_fail(db, err);
	}
	a = kb_xcalloc(1, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	a->path = kb_col_text(s, 1, 1);
	a->format = kb_col_text(s, 2, 1);
	a->title = kb_col_text(s, 3, 1);
	a->summary = kb_col_text(s, 4, 0);
	a->markdown = kb_packer_unpack_doc(kb_db_packer(db),
					   sqlite3_column_blob(s, 5),
					   (size_t)sqlite3_column_bytes(s, 5));
	kb_strv_from_json(&a->models, (const char *)sqlite3_column_text(s, 6));
	kb_strv_from_json(&a->symptoms,
			  (const char *)sqlite3_column_text(s, 7));
	sqlite3_reset(s);

	s = kb_db_stmt(db, secs);
	if (s == NULL) {
		rc = db_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, a->id);
	cap = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		struct kb_db_section *sec;

		if (a->nsections == cap) {
			cap = cap ? cap * 2 : 8;
			a->sections = kb_xrealloc(a->sections,
						  cap * sizeof(*a->sections));
		}
		sec = &a->sections[a->nsections++];
		memset(sec, 0, sizeof(*sec));
		sec->id = sqlite3_column_int64(s, 0);
		sec->heading = kb_col_text(s, 1, 1);
		sec->anchor = kb_col_text(s, 2, 1);
		sec->body = kb_packer_text(kb_db_packer(db), s, 3);
		if (sec->body == NULL) {
			sqlite3_reset(s);
			rc = db_fail(db, err);
			goto out;
		}
	}
	sqlite3_reset(s);
	if (step != SQLITE_DONE) {
		rc = db_fail(db, err);
		goto out;
	}
	for (i = 0; i < a->nsections; i++) {
		struct kb_db_section *sec = &a->sections[i];
		struct kbx_owned_feat f;

		if (kbx_section_feat(db, sec->id, &f) < 0) {
			rc = db_fail(db, err);
			goto out;
		}
		kb_tag_items(f.tags, KB_TAG_MODEL, &sec->models);
		kb_tag_items(f.tags, KB_TAG_SYMPTOM, &sec->symptoms);
		free(f.tags);
		free(f.article_tags);
	}

	s = kb_db_stmt(db, leds);
	if (s == NULL) {
		rc = db_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, a->id);
	cap = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (a->nleds == cap) {
			cap = cap ? cap * 2 : 8;
			a->leds = kb_xrealloc(a->leds, cap * sizeof(*a->leds));
		}
		read_led(s, &a->leds[a->nleds++]);
	}
	sqlite3_reset(s);
	if (step != SQLITE_DONE)
		rc = db_fail(db, err);
out:
	if (rc != KB_OK) {
		kb_db_article_free(a);
		a = NULL;
	}
	*out = a;
	return rc;
}

void
kb_db_article_free(struct kb_db_article *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nsections; i++) {
		free(a->sections[i].heading);
		free(a->sections[i].anchor);
		free(a->sections[i].body);
		kb_strv_free(&a->sections[i].models);
		kb_strv_free(&a->sections[i].symptoms);
	}
	free(a->sections);
	kb_db_leds_free(a->leds, a->nleds);
	free(a->path);
	free(a->format);
	free(a->title);
	free(a->summary);
	free(a->markdown);
	kb_strv_free(&a->models);
	kb_strv_free(&a->symptoms);
	free(a);
}

int
kb_db_leds(struct kb_db *db, const char *model, struct kb_db_led **out,
	   size_t *n, struct kb_error *err)
{
	static const char all[] =
		"SELECT l.section_id, l.model, l.color, l.pattern, l.meaning,"
		" s.heading, l.article_id, s.anchor, a.path FROM leds l"
		" JOIN sections s ON s.id = l.section_id"
		" JOIN articles a ON a.id = l.article_id"
		" ORDER BY l.model IS NULL, l.model, l.color, l.pattern, l.id";
	static const char one[] =
		"SELECT l.section_id, l.model, l.color, l.pattern, l.meaning,"
		" s.heading, l.article_id, s.anchor, a.path FROM leds l"
		" JOIN sections s ON s.id = l.section_id"
		" JOIN articles a ON a.id = l.article_id"
		" WHERE l.model = ? COLLATE NOCASE"
		" ORDER BY l.color, l.pattern, l.id";
	sqlite3_stmt *s = kb_db_stmt(db, model ? one : all);
	size_t cap = 0;
	int step;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return db_fail(db, err);
	if (model != NULL)
		sqlite3_bind_text(s, 1, model, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kb_xrealloc(*out, cap * sizeof(**out));
		}
		read_led(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (step != SQLITE_DONE) {
		kb_db_leds_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_fail(db, err);
	}
	return KB_OK;
}

void
kb_db_leds_free(struct kb_db_led *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].model);
		free(v[i].color);
		free(v[i].pattern);
		free(v[i].meaning);
		free(v[i].heading);
		free(v[i].anchor);
		free(v[i].path);
	}
	free(v);
}

static int
cmp_str_nocase(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

bool
kb_tag_next(const char **p, int *kind, const char **value, size_t *len)
{
	while (*p != NULL && **p) {
		const char *item = *p, *end = strchr(item, '\x1f'), *sep;
		size_t n = end ? (size_t)(end - item) : strlen(item);

		*p = end ? end + 1 : item + n;
		sep = memchr(item, '\x1e', n);
		if (sep == NULL)
			continue;
		/* nearly every kind is one digit */
		if (sep == item + 1 && item[0] >= '0' && item[0] <= '9')
			*kind = item[0] - '0';
		else
			*kind = (int)strtol(item, NULL, 10);
		*value = sep + 1;
		*len = n - (size_t)(sep + 1 - item);
		return true;
	}
	return false;
}

void
kb_tag_items(const char *items, int kind, struct kb_strv *out)
{
	const char *p = items, *v;
	size_t first = out->n, len;
	int k;

	while (kb_tag_next(&p, &k, &v, &len))
		if (k == kind)
			kb_strv_push_own(out, kb_xstrndup(v, len));
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v),
		      cmp_str_nocase);
}

/* The index term of a tag (NULL if none): its token as the tokenizer
   makes it. */
static char *
tag_term(int kind, const char *value)
{
	char *tok = kb_tag_token(kind, value);
	char *term = kb_fts_term(tok);

	free(tok);
	return term;
}

long
kb_tag_sections(struct kb_db *db, int kind, const char *value,
		int64_t **out)
{
	char *term = tag_term(kind, value);
	long n = 0;

	*out = NULL;
	if (term != NULL)
		n = kbx_term_sections(db, term, out);
	free(term);
	return n;
}

/* Sections per model or symptom of the taxonomy, from the postings. */
int
kb_db_tag_counts(struct kb_db *db, int kind, struct kb_count **out, size_t *n,
		 struct kb_error *err)
{
	const struct kb_taxonomy *t = db->tax;
	size_t count = kind == KB_TAG_MODEL ? t->nmodels : t->nsymptoms, i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < count; i++) {
		const char *value = kind == KB_TAG_MODEL ? t->models[i].name
							 : t->symptoms[i].id;
		char *term = tag_term(kind, value);
		int64_t df = term ? kbx_term_df(db, term) : 0;

		free(term);
		if (df <= 0)
			continue;
		*out = kb_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[*n].value = kb_xstrdup(value);
		(*out)[(*n)++].count = df;
	}
	(void)err;
	return KB_OK;
}

void
kb_counts_free(struct kb_count *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}
