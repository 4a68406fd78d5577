/* check_index.c - incremental, atomic index builds: counts, failures, locking. */
#include <check.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"
#include "db.h"
#include "db_int.h"
#include "index.h"
#include "kbx.h"
#include "search.h"
#include "testutil.h"

static char *dir;
static char *dbpath;

static void
setup(void)
{
	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "kb.db");
}

static void
teardown(void)
{
	kb_test_rmtree(dir);
	free(dbpath);
	free(dir);
}

static size_t
hits_for(const char *q)
{
	struct kb_search_opts o = { q, NULL, NULL, 10, 0 };
	struct kb_result *r = NULL;
	struct kb_db *db = NULL;
	struct kb_error err;
	size_t n;

	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_search(db, &o, &r, &err), KB_OK);
	n = r->relax == 0 ? r->nhits : 0;
	kb_result_free(r);
	kb_db_close(db);
	return n;
}

START_TEST(a_first_build_counts_every_article_as_new)
{
	struct kb_index_stats st;

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_uint_eq(st.articles, CORPUS_N);
	ck_assert_uint_eq(st.added, CORPUS_N);
	ck_assert_uint_eq(st.changed + st.removed, 0);
	ck_assert_uint_ge(st.sections, 8);
	ck_assert_uint_ge(st.leds, 3);
}
END_TEST

START_TEST(a_second_run_skips_unchanged_replaces_changed_removes_deleted)
{
	struct kb_test_doc docs[CORPUS_N];
	struct kb_index_stats st;

	memcpy(docs, corpus, sizeof(docs));
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_uint_eq(st.unchanged, CORPUS_N);
	ck_assert_uint_eq(st.added + st.changed + st.removed, 0);

	docs[0].text = "---\ntitle: Batteries\n---\n## Zebra section\n\nZebra "
		       "stripes only.\n";
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N - 1,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_uint_eq(st.changed, 1);
	ck_assert_uint_eq(st.removed, 1);
	ck_assert_uint_eq(st.articles, CORPUS_N - 1);
	ck_assert_uint_eq(hits_for("zebra"), 1);
	ck_assert_uint_eq(hits_for("routine"), 0);
	/* help/page.html was the last doc and is gone. */
	ck_assert_uint_eq(hits_for("firmware companion"), 0);
}
END_TEST

START_TEST(a_file_that_fails_to_parse_keeps_its_previous_version)
{
	struct kb_test_doc docs[CORPUS_N];
	struct kb_index_stats st;

	memcpy(docs, corpus, sizeof(docs));
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	docs[0].text = "---\ntitle: [unclosed\nmodels: {\n---\nbody\n";
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_uint_eq(st.articles, CORPUS_N);
	ck_assert_uint_eq(st.removed, 0);
	ck_assert_uint_eq(hits_for("routine"), 1);
}
END_TEST

START_TEST(a_second_indexer_is_refused_while_the_first_runs)
{
	struct kb_index *a = NULL, *b = NULL;
	struct kb_error err;

	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &a, &err), KB_OK);
	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &b, &err),
			 KB_ERR_BUSY);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err.msg, "another kbindex"));
	kb_index_abort(a);
	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &b, &err), KB_OK);
	kb_index_abort(b);
}
END_TEST

START_TEST(an_abandoned_run_leaves_the_live_index_as_it_was)
{
	struct kb_index *ix = NULL;
	struct kb_article *a = NULL;
	struct kb_error err;
	struct stat sb;
	char *tmp = kb_xasprintf("%s.new", dbpath);
	const char *doc = "## Zebra\n\nzebra text\n";

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_index_begin(dbpath, true, NULL, &ix, &err), KB_OK);
	ck_assert_int_eq(kb_article_parse(KB_FORMAT_MARKDOWN, "z.md", doc,
					  strlen(doc), &a, &err),
			 KB_OK);
	ck_assert_int_eq(kb_index_put(ix, "z.md", "0", a, &err), KB_OK);
	/* The live index is readable while a run is under way. */
	ck_assert_uint_eq(hits_for("routine"), 1);
	kb_index_abort(ix);
	kb_article_free(a);
	ck_assert_uint_eq(hits_for("routine"), 1);
	ck_assert_uint_eq(hits_for("zebra"), 0);
	ck_assert_int_ne(stat(tmp, &sb), 0);
	free(tmp);
}
END_TEST

START_TEST(a_kept_folder_keeps_its_articles_and_only_those)
{
	struct kb_index *ix = NULL;
	struct kb_index_stats st;
	struct kb_error err;

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	/* Runs that read no file but found one folder unreadable. */
	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &ix, &err), KB_OK);
	ck_assert_int_eq(kb_index_keep_folder(ix, "hel", &err), KB_OK);
	ck_assert_int_eq(kb_index_finish(ix, &st, &err), KB_OK);
	ck_assert_uint_eq(st.articles, 0);
	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &ix, &err), KB_OK);
	ck_assert_int_eq(kb_index_keep_folder(ix, "help", &err), KB_OK);
	ck_assert_int_eq(kb_index_finish(ix, &st, &err), KB_OK);
	ck_assert_uint_eq(st.articles, 1);
	ck_assert_uint_eq(st.removed, CORPUS_N - 1);
	ck_assert_uint_eq(hits_for("firmware companion"), 1);

	/* "" keeps everything: a folder given that could not be read. */
	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_index_begin(dbpath, false, NULL, &ix, &err), KB_OK);
	ck_assert_int_eq(kb_index_keep_folder(ix, "", &err), KB_OK);
	ck_assert_int_eq(kb_index_finish(ix, &st, &err), KB_OK);
	ck_assert_uint_eq(st.articles, CORPUS_N);
	ck_assert_uint_eq(st.removed, 0);
}
END_TEST

START_TEST(a_file_that_is_not_an_index_is_never_replaced)
{
	struct kb_index *ix = NULL;
	struct kb_error err;
	FILE *fp = fopen(dbpath, "w");
	struct stat sb;

	fputs("my precious notes\n", fp);
	fclose(fp);
	ck_assert_int_eq(kb_index_begin(dbpath, true, NULL, &ix, &err),
			 KB_ERR_DB);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a kbsearch index"));
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_size, 18);
}
END_TEST

START_TEST(a_changed_taxonomy_retags_everything)
{
	struct kb_index_stats st;

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, &st),
			 KB_OK);
	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       "{\"models\": [], \"symptoms\": []}",
				       false, &st),
			 KB_OK);
	ck_assert_uint_eq(st.added, CORPUS_N);
	ck_assert_uint_eq(st.unchanged, 0);
}
END_TEST

START_TEST(led_facts_are_stored_with_their_model_and_section)
{
	struct kb_db *db = NULL;
	struct kb_db_led *l = NULL;
	struct kb_error err;
	size_t n = 0, i;
	bool solid_red = false;

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_db_leds(db, "Anker Soundcore 2", &l, &n, &err),
			 KB_OK);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(l[i].heading, "What the light means");
		if (!strcmp(l[i].color, "red") && !strcmp(l[i].pattern, "solid")) {
			solid_red = true;
			ck_assert_ptr_nonnull(strstr(l[i].meaning, "charging"));
		}
	}
	ck_assert(solid_red);
	kb_db_leds_free(l, n);
	kb_db_close(db);
}
END_TEST


/* The ids a query on the index at dbpath returns, as "1 5 9 ". */
static char *
ids_of(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct kb_buf b;
	int rc;

	kb_buf_init(&b);
	kb_buf_adds(&b, "");
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		kb_buf_printf(&b, "%lld ", sqlite3_column_int64(st, 0));
	ck_assert_int_eq(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kb_buf_steal(&b);
}

/* Per model (any case) and state, the fact of the fullest section, first. */
static const char best_by_sorting[] =
	"SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY model"
	" COLLATE NOCASE, color, pattern ORDER BY nsec DESC, id) AS n"
	" FROM leds) WHERE n = 1 ORDER BY id";
static const char marked_best[] =
	"SELECT id FROM leds WHERE best = 1 ORDER BY id";

START_TEST(a_new_index_marks_the_facts_sorting_them_would)
{
	struct kb_test_doc docs[] = {
		{ "a.md", "---\ntitle: One light\nmodels: [Anker Soundcore 2]\n"
			  "---\n## Lights\n\n- **Solid red**: charging\n" },
		{ "b.md", "---\ntitle: Two lights\nmodels: [anker soundcore 2]\n"
			  "---\n## Lights\n\n- **Solid red**: charging now\n"
			  "- **Blinking white**: pairing\n" },
		{ "c.md", "---\ntitle: White\n---\n## Lights\n\n"
			  "- **Solid white**: full\n" },
		{ "d.md", "---\ntitle: White again\n---\n## Lights\n\n"
			  "- **Solid white**: full as well\n" },
	};
	char *want, *got, *all;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(kb_test_index(dbpath, docs, 4, kb_test_taxonomy, true,
				       NULL),
			 KB_OK);
	all = ids_of("SELECT id FROM leds ORDER BY id");
	ck_assert_str_eq(all, "1 2 3 4 5 ");
	want = ids_of(best_by_sorting);
	got = ids_of(marked_best);
	ck_assert_str_eq(got, want);
	/* the two-fact section's red beats the first; the tie goes first */
	ck_assert_str_eq(got, "2 3 4 ");
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT meaning FROM leds WHERE"
					    " best = 1 AND pattern = 'solid'"
					    " AND model IS NULL",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "full");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(want);
	free(got);
	free(all);
	/* an update sorts them instead: the same choice */
	docs[0].text = "---\ntitle: One light\nmodels: [Anker Soundcore 2]\n"
		       "---\n## Lights\n\n- **Solid red**: charging\n"
		       "- **Solid white**: full\n- **Blinking red**: low\n";
	ck_assert_int_eq(kb_test_index(dbpath, docs, 4, kb_test_taxonomy,
				       false, NULL),
			 KB_OK);
	want = ids_of(best_by_sorting);
	got = ids_of(marked_best);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
}
END_TEST

/* kbx_verify on the index at dbpath after sql (may be NULL) ran on it. */
static int
verify_after(const char *sql, char *msg, size_t msgsz)
{
	sqlite3 *db = NULL;
	struct kb_error err;
	int rc;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	if (sql != NULL)
		ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) ==
				      SQLITE_OK,
			      "%s: %s", sql, sqlite3_errmsg(db));
	kb_error_clear(&err);
	rc = kbx_verify(db, &err);
	snprintf(msg, msgsz, "%s", err.msg);
	sqlite3_close(db);
	return rc;
}

START_TEST(the_search_index_agrees_with_the_text_after_builds_and_updates)
{
	struct kb_test_doc docs[CORPUS_N];
	char msg[512];

	memcpy(docs, corpus, sizeof(docs));
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
	/* one article changed, one gone: their old terms must leave */
	docs[0].text = "---\ntitle: Batteries\n---\n## Zebra section\n\nZebra "
		       "stripes only.\n";
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N - 1,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
}
END_TEST

/* Every (id, data) row of the postings, in id order, as one string. */
static char *
postings_dump(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct kb_buf b;
	int rc;

	kb_buf_init(&b);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT id, hex(data) FROM postings"
					    " ORDER BY id",
					    -1, &st, NULL),
			 SQLITE_OK);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char id[32];

		snprintf(id, sizeof(id), "%lld ", sqlite3_column_int64(st, 0));
		kb_buf_add(&b, id, strlen(id));
		kb_buf_add(&b, (const char *)sqlite3_column_text(st, 1),
			   (size_t)sqlite3_column_bytes(st, 1));
		kb_buf_addc(&b, '\n');
	}
	ck_assert_int_eq(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kb_buf_steal(&b);
}

/* Entries of folder d whose names start with prefix. */
static int
files_named(const char *d, const char *prefix)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(dp);
	return n;
}

/* Put the index file back to saved[0..len), then update it with docs. */
static void
update_from(const char *saved, size_t len, const struct kb_test_doc *docs,
	    size_t n)
{
	FILE *f = fopen(dbpath, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(saved, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(kb_test_index(dbpath, docs, n, kb_test_taxonomy, false,
				       NULL),
			 KB_OK);
}

START_TEST(postings_rebuilt_in_parts_equal_those_built_at_once)
{
	struct kb_test_doc docs[CORPUS_N];
	char *whole, *parts, *first, *saved, msg[512];
	size_t nl = 0, len;
	struct kb_error err;
	const char *p;

	memcpy(docs, corpus, sizeof(docs));
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, true, NULL),
			 KB_OK);
	whole = postings_dump();
	for (p = whole; *p; p++)
		nl += *p == '\n';
	ck_assert_uint_gt(nl, 50);
	ck_assert_int_eq(kb_read_file(dbpath, SIZE_MAX, &saved, &len, &err),
			 KB_OK);
	/* a few postings a part: dozens of parts through the scratch file */
	kbx_set_part_postings(_i == 0 ? 7 : 1);
	ck_assert_int_eq(kb_test_index(dbpath, docs, CORPUS_N,
				       kb_test_taxonomy, true, NULL),
			 KB_OK);
	parts = postings_dump();
	ck_assert_str_eq(parts, whole);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
	free(parts);
	first = whole;
	/* an update rebuilds in parts too: the same as in one part */
	docs[0].text = "---\ntitle: Batteries\n---\n## Zebra section\n\nZebra "
		       "stripes only.\n";
	update_from(saved, len, docs, CORPUS_N - 1);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
	parts = postings_dump();
	kbx_set_part_postings(0);
	update_from(saved, len, docs, CORPUS_N - 1);
	whole = postings_dump();
	ck_assert_str_eq(parts, whole);
	ck_assert_str_ne(whole, first);
	free(parts);
	free(whole);
	free(first);
	free(saved);
	/* no scratch file is left beside the index */
	ck_assert_int_eq(files_named(dir, "kbx-spill"), 0);
}
END_TEST

/* Each way of damaging the index, and what the check must say of it. */
static const struct {
	const char *sql;
	const char *says;
} damage[] = {
	{ "DELETE FROM fwd WHERE id = (SELECT min(id) FROM sections)",
	  "has no term list" },
	{ "INSERT INTO fwd(id, toks) SELECT max(id) + 100, toks FROM fwd",
	  "term lists for" },
	{ "UPDATE sections SET body = body || ' zebra'"
	  " WHERE id = (SELECT min(id) FROM sections WHERE body <> '')",
	  "another number of terms" },
	{ "UPDATE sections SET body = replace(body, 'battery', 'batterx')"
	  " WHERE body LIKE '%battery%'",
	  "differs from its text" },
	{ "DELETE FROM postings WHERE id = (SELECT min(id) FROM postings)",
	  "pairs" },
	{ "UPDATE postings SET data = substr(data, 1, length(data) - 1)"
	  " WHERE id = (SELECT max(id) FROM postings)",
	  "postings of term" },
	{ "UPDATE meta SET value = '1 1 1 1 1' WHERE key = 'kbx'",
	  "recorded totals" },
};

START_TEST(a_damaged_search_index_is_reported)
{
	char msg[512];

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	ck_assert_int_ne(verify_after(damage[_i].sql, msg, sizeof(msg)),
			 KB_OK);
	ck_assert_msg(strstr(msg, damage[_i].says) != NULL,
		      "%s: said \"%s\"", damage[_i].sql, msg);
}
END_TEST

/* ---- packed section text ---- */

#define PACK_N 150

static const char *const pack_words[] = {
	"battery", "charge", "cable",  "light", "speaker", "earbuds", "reset",
	"pair",	   "app",    "update", "button", "blinking", "amber", "port",
};

/* Article i of a generated knowledge base (fresh strings, free them). */
static void
pack_doc(size_t i, unsigned salt, char **path, char **text)
{
	struct kb_buf b;
	unsigned x = (unsigned)i * 2654435761u + salt;
	size_t k;

	kb_buf_init(&b);
	kb_buf_printf(&b, "---\ntitle: Note %zu\n---\n## Steps\n\n", i);
	for (k = 0; k < 40; k++) {
		x = x * 1103515245u + 12345u;
		kb_buf_printf(&b, "%s ", pack_words[(x >> 16) % 14]);
	}
	kb_buf_printf(&b, "\n\n## Hold\n\nHold the button for %zu seconds.\n",
		      i + 2);
	*path = kb_xasprintf("p%03zu.md", i);
	*text = kb_buf_steal(&b);
	/* one plain text article among those an update adds */
	if (i == PACK_N + 5) {
		free(*path);
		free(*text);
		*path = kb_xasprintf("p%03zu.txt", i);
		*text = kb_xasprintf("Note %zu\n\nHold the button for %zu"
				     " seconds.\n",
				     i, i + 2);
	}
}

static int
pack_index(size_t n, unsigned salt_of_last)
{
	struct kb_test_doc docs[PACK_N + 10];
	char *path[PACK_N + 10], *text[PACK_N + 10];
	size_t i;
	int rc;

	ck_assert_uint_le(n, PACK_N + 10);
	memset(docs, 0, sizeof(docs));
	for (i = 0; i < n; i++) {
		pack_doc(i, i + 1 == n ? salt_of_last : 0, &path[i], &text[i]);
		docs[i].path = path[i];
		docs[i].text = text[i];
	}
	rc = kb_test_index(dbpath, docs, n, NULL, false, NULL);
	for (i = 0; i < n; i++) {
		free(path[i]);
		free(text[i]);
	}
	return rc;
}

/* One value of the index at dbpath as text ("" for none). */
static char *
pack_sql(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	v = kb_xstrdup(sqlite3_step(st) == SQLITE_ROW &&
				       sqlite3_column_text(st, 0)
			       ? (const char *)sqlite3_column_text(st, 0)
			       : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The file at from copied over to; the test fails if it cannot be. */
static void
copy_db(const char *from, const char *to)
{
	struct kb_error err;
	char *data = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(kb_read_file(from, (size_t)1 << 30, &data, &len, &err),
			 KB_OK);
	f = fopen(to, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(data);
}

START_TEST(section_text_is_packed_and_reads_back_whole)
{
	static const char *const broken[] = {
		"UPDATE articles SET markdown = substr(markdown, 1,"
		" length(markdown) - 3) WHERE id = (SELECT max(id) FROM articles)",
		"UPDATE sections SET body = substr(body, 1, length(body) - 1)"
		" WHERE id = (SELECT max(id) FROM sections)",
	};
	struct kb_db *db = NULL;
	struct kb_db_article *a = NULL;
	struct kb_error err;
	char msg[512], *dict, *v, *path, *text, *good;

	ck_assert_int_eq(pack_index(PACK_N, 0), KB_OK);
	v = pack_sql("SELECT group_concat(t) FROM (SELECT DISTINCT"
		     " typeof(body) AS t FROM sections)");
	ck_assert_str_eq(v, "blob");
	free(v);
	dict = pack_sql("SELECT hex(value) FROM meta WHERE key = 'zdict'");
	ck_assert_uint_gt(strlen(dict), 1000);
	/* every body unpacks to the words its term list holds */
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_db_article(db, "p042.md", &a, &err), KB_OK);
	ck_assert_uint_eq(a->nsections, 2);
	ck_assert_str_eq(a->sections[1].body, "Hold the button for 44 seconds.");
	/* the Markdown too (after the front matter), also of the articles
	   stored before the dictionary */
	pack_doc(42, 0, &path, &text);
	ck_assert_str_eq(a->markdown, strstr(text, "## Steps"));
	free(path);
	free(text);
	kb_db_article_free(a);
	v = pack_sql("SELECT count(*) FROM articles WHERE"
		     " substr(markdown, 1, 1) <> CAST('Z' AS BLOB)");
	ck_assert_str_eq(v, "0");
	free(v);
	kb_db_close(db);

	/* an update packs its new text with the same dictionary */
	ck_assert_int_eq(pack_index(PACK_N + 10, 7), KB_OK);
	v = pack_sql("SELECT hex(value) FROM meta WHERE key = 'zdict'");
	ck_assert_str_eq(v, dict);
	free(v);
	v = pack_sql("SELECT count(*) FROM sections WHERE typeof(body) <> 'blob'");
	ck_assert_str_eq(v, "0");
	free(v);
	/* the 10 new articles' sections point into their articles' frames */
	v = pack_sql("SELECT count(DISTINCT article_id) FROM sections"
		     " WHERE substr(body, 1, 1) = x'00'");
	ck_assert_str_eq(v, "10");
	free(v);
	v = pack_sql("SELECT count(*) FROM sections"
		     " WHERE substr(body, 1, 1) = x'00'");
	ck_assert_str_eq(v, "19"); /* 9 x 2 Markdown, 1 plain text */
	free(v);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
	free(dict);
	/* read in turns, each article's sections come from its own frame */
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	for (size_t k = 0; k < 4; k++) {
		char want[64];
		size_t n = PACK_N + (k % 2 ? 9 : 3);

		snprintf(want, sizeof(want), "p%03zu.md", n);
		ck_assert_int_eq(kb_db_article(db, want, &a, &err), KB_OK);
		ck_assert_uint_eq(a->nsections, 2);
		snprintf(want, sizeof(want), "Hold the button for %zu seconds.",
			 n + 2);
		ck_assert_str_eq(a->sections[1].body, want);
		ck_assert_ptr_nonnull(strstr(a->sections[0].body, " "));
		/* the Markdown from the same frame, without the sections */
		pack_doc(n, n + 1 == PACK_N + 10 ? 7 : 0, &path, &text);
		ck_assert_str_eq(a->markdown, strstr(text, "## Steps"));
		free(path);
		free(text);
		kb_db_article_free(a);
	}
	/* an article without Markdown: its frame holds its sections only */
	ck_assert_int_eq(kb_db_article(db, "p155.txt", &a, &err), KB_OK);
	ck_assert_ptr_null(a->markdown);
	ck_assert_uint_ge(a->nsections, 1);
	ck_assert_ptr_nonnull(strstr(a->sections[a->nsections - 1].body,
				     "Hold the button for 157 seconds."));
	kb_db_article_free(a);
	v = pack_sql("SELECT hex(substr(markdown, 1, 1)) FROM articles"
		     " WHERE path = 'p155.txt'");
	ck_assert_str_eq(v, "42"); /* 'B' */
	free(v);
	kb_db_close(db);

	/* a damaged frame or reference is reported too */
	good = kb_xasprintf("%s.good", dbpath);
	copy_db(dbpath, good);
	for (size_t k = 0; k < sizeof(broken) / sizeof(broken[0]); k++) {
		ck_assert_int_ne(verify_after(broken[k], msg, sizeof(msg)),
				 KB_OK);
		ck_assert_msg(strstr(msg, "does not unpack") != NULL, "%s",
			      msg);
		copy_db(good, dbpath);
		ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK,
			      "%s", msg);
	}
	free(good);

	/* a damaged body is reported, not read as something else */
	ck_assert_int_ne(verify_after("UPDATE sections SET body ="
				      " substr(body, 1, length(body) - 3)"
				      " WHERE id = (SELECT min(id) FROM sections)",
				      msg, sizeof(msg)),
			 KB_OK);
	ck_assert_msg(strstr(msg, "does not unpack") != NULL, "%s", msg);
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_ne(kb_db_article(db, "p000.md", &a, &err), KB_OK);
	kb_db_close(db);
}
END_TEST

START_TEST(a_small_index_keeps_its_text_plain)
{
	char msg[512], *v;

	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
	v = pack_sql("SELECT count(*) FROM sections WHERE typeof(body) = 'blob'"
		     " OR (SELECT count(*) FROM meta WHERE key = 'zdict')");
	ck_assert_str_eq(v, "0");
	free(v);
	ck_assert_msg(verify_after(NULL, msg, sizeof(msg)) == KB_OK, "%s", msg);
}
END_TEST

/*
 * The first stage reads postings group by group.  Past its budget it only
 * adds to the sections already met; their scores must come out as they
 * would with no budget at all.  Sections far apart make deltas of two
 * bytes; one group holds more met sections than are added at a time.
 */
#define SPREAD_N 600

START_TEST(the_first_stage_past_its_budget_completes_the_scores_it_met)
{
	struct kb_test_doc docs[SPREAD_N];
	char *text[SPREAD_N], *path[SPREAD_N];
	struct kbx_hit *all = calloc(2 * SPREAD_N, sizeof(*all));
	struct kbx_hit *met = calloc(2 * SPREAD_N, sizeof(*met));
	struct kbx_query *q;
	struct kb_db *db = NULL;
	struct kb_error err;
	int64_t *ids = NULL;
	char *term;
	bool exact;
	long n, nmet, nf, i, j;

	for (i = 0; i < SPREAD_N; i++) {
		path[i] = kb_xasprintf("s%03ld.md", i);
		text[i] = kb_xasprintf("---\ntitle: Note\n---\nThe gasket %s "
				       "%s here.\n",
				       i % 2 ? "rim" : "seal",
				       i % 150 ? "lid" : "flange");
		docs[i].path = path[i];
		docs[i].text = text[i];
	}
	ck_assert_int_eq(kb_test_index(dbpath, docs, SPREAD_N, NULL, true,
				       NULL),
			 KB_OK);
	for (i = 0; i < SPREAD_N; i++) {
		free(path[i]);
		free(text[i]);
	}
	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	q = kbx_query_new(db);
	kbx_query_add(q, "\"gasket\"", 2.0, 0);
	kbx_query_add(q, "\"seal\"", 1.0, 1);
	kbx_query_add(q, "\"flange\"", 0.5, 2);
	n = kbx_top(q, NULL, 0, 2 * SPREAD_N, 0, all, &exact);
	ck_assert_int_ge(n, SPREAD_N);
	ck_assert(exact);
	nmet = kbx_top(q, NULL, 0, 2 * SPREAD_N, 1, met, &exact);
	ck_assert(!exact);
	ck_assert_int_ge(nmet, SPREAD_N / 2 + 1);
	for (i = 0; i < nmet; i++) {
		for (j = 0; j < n && all[j].id != met[i].id; j++)
			;
		ck_assert_int_lt(j, n);
		ck_assert_msg(met[i].score == all[j].score,
			      "section %lld: %g past the budget, %g without",
			      (long long)met[i].id, met[i].score,
			      all[j].score);
	}
	kbx_query_free(q);
	/* the sections of a rare word, found through two-byte deltas */
	q = kbx_query_new(db);
	kbx_query_add(q, "\"flange\"", 1.0, 0);
	n = kbx_top(q, NULL, 0, 2 * SPREAD_N, 0, all, &exact);
	term = kb_fts_term("flange");
	nf = kbx_term_sections(db, term, &ids);
	free(term);
	ck_assert_int_eq(nf, SPREAD_N / 150);
	ck_assert_int_eq(n, nf);
	ck_assert_int_ge(ids[1] - ids[0], 128);
	for (i = 0; i < nf; i++) {
		for (j = 0; j < n && all[j].id != ids[i]; j++)
			;
		ck_assert_int_lt(j, n);
	}
	kbx_query_free(q);
	free(ids);
	free(all);
	free(met);
	kb_db_close(db);
}
END_TEST

static Suite *
index_suite(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("index");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_first_build_counts_every_article_as_new);
	tcase_add_test(
		tc,
		a_second_run_skips_unchanged_replaces_changed_removes_deleted);
	tcase_add_test(tc,
		       a_file_that_fails_to_parse_keeps_its_previous_version);
	tcase_add_test(tc, a_second_indexer_is_refused_while_the_first_runs);
	tcase_add_test(tc,
		       an_abandoned_run_leaves_the_live_index_as_it_was);
	tcase_add_test(tc, a_kept_folder_keeps_its_articles_and_only_those);
	tcase_add_test(tc, a_file_that_is_not_an_index_is_never_replaced);
	tcase_add_test(tc, a_changed_taxonomy_retags_everything);
	tcase_add_test(tc, led_facts_are_stored_with_their_model_and_section);
	tcase_add_test(tc, a_new_index_marks_the_facts_sorting_them_would);
	tcase_add_test(
		tc, the_search_index_agrees_with_the_text_after_builds_and_updates);
	tcase_add_loop_test(tc,
			    postings_rebuilt_in_parts_equal_those_built_at_once,
			    0, 2);
	tcase_add_loop_test(tc, a_damaged_search_index_is_reported, 0,
			    (int)(sizeof(damage) / sizeof(damage[0])));
	tcase_add_test(tc, section_text_is_packed_and_reads_back_whole);
	tcase_add_test(tc, a_small_index_keeps_its_text_plain);
	tcase_add_test(tc,
		       the_first_stage_past_its_budget_completes_the_scores_it_met);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(index_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
