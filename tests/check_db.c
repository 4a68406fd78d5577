/* check_db.c - opening indexes read-only and reading articles back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corpus.h"
#include "db.h"
#include "db_int.h"
#include "testutil.h"

static char *dir;
static char *dbpath;

static void
setup(void)
{
	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "kb.db");
	ck_assert_int_eq(kb_test_index(dbpath, corpus, CORPUS_N,
				       kb_test_taxonomy, false, NULL),
			 KB_OK);
}

static void
teardown(void)
{
	kb_test_rmtree(dir);
	free(dbpath);
	free(dir);
}

START_TEST(a_missing_index_is_reported_as_missing)
{
	struct kb_db *db = NULL;
	struct kb_error err;
	char *p = kb_test_path(dir, "nope.db");

	ck_assert_int_eq(kb_db_open(p, &db, &err), KB_ERR_MISSING);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(strstr(err.msg, p));
	free(p);
}
END_TEST

START_TEST(a_file_that_is_not_an_index_is_named_as_such)
{
	struct kb_db *db = NULL;
	struct kb_error err;
	char *p = kb_test_path(dir, "junk.db");
	FILE *fp = fopen(p, "w");

	fputs("this is not sqlite\n", fp);
	fclose(fp);
	ck_assert_int_eq(kb_db_open(p, &db, &err), KB_ERR_DB);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a kbsearch index"));
	free(p);
}
END_TEST

START_TEST(stats_count_articles_sections_and_build_time)
{
	struct kb_db *db = NULL;
	struct kb_db_stats st;
	struct kb_error err;

	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_db_stats(db, &st, &err), KB_OK);
	ck_assert_int_eq(st.articles, (int64_t)CORPUS_N);
	ck_assert_int_ge(st.sections, 8);
	ck_assert_uint_eq(strlen(st.built_at), 20);
	kb_db_close(db);
}
END_TEST

START_TEST(an_article_reads_back_by_path_and_by_id)
{
	struct kb_db *db = NULL;
	struct kb_db_article *a = NULL, *b = NULL;
	struct kb_error err;
	char id[32];

	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_db_article(db, "sc2/led.md", &a, &err), KB_OK);
	ck_assert_str_eq(a->title, "Soundcore 2 light meanings");
	ck_assert_str_eq(a->format, "markdown");
	ck_assert_uint_eq(a->nsections, 2);
	ck_assert_str_eq(a->sections[1].heading, "Clean the port");
	ck_assert_ptr_nonnull(strstr(a->sections[1].body, "toothpick"));
	ck_assert_ptr_nonnull(a->markdown);
	ck_assert_uint_eq(a->nleds, 3);
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	ck_assert_int_eq(kb_db_article(db, id, &b, &err), KB_OK);
	ck_assert_str_eq(b->path, "sc2/led.md");
	kb_db_article_free(b);
	ck_assert_int_eq(kb_db_article(db, "nope.md", &b, &err) == KB_OK, 0);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(err.status, KB_ERR_MISSING);
	kb_db_article_free(a);
	kb_db_article_free(b);
	kb_db_close(db);
}
END_TEST

START_TEST(tag_counts_list_models_and_symptoms_in_use)
{
	struct kb_db *db = NULL;
	struct kb_count *c = NULL;
	struct kb_error err;
	size_t n = 0, i;
	bool flip = false;

	ck_assert_int_eq(kb_db_open(dbpath, &db, &err), KB_OK);
	ck_assert_int_eq(kb_db_tag_counts(db, KB_TAG_MODEL, &c, &n, &err),
			 KB_OK);
	for (i = 0; i < n; i++)
		if (!strcmp(c[i].value, "JBL Flip 5"))
			flip = c[i].count >= 1;
	ck_assert(flip);
	kb_counts_free(c, n);
	ck_assert_ptr_nonnull(kb_db_taxonomy(db));
	ck_assert_uint_eq(kb_db_taxonomy(db)->nmodels, 2);
	kb_db_close(db);
}
END_TEST

/* Lists are stored as JSON written by hand: as Jansson writes them. */
START_TEST(lists_are_stored_as_jansson_writes_them)
{
	static const char *const items[] = {
		"Anker Soundcore 2", "a\x01\x1f/\"\\\b\f\n\r\t\x7f",
		"caf\xc3\xa9 \xe2\x80\xa8", "", "bad\xff", "\xed\xa0\x80",
		"\xc0\xaf", "x",
	};
	size_t n, i;

	for (n = 0; n <= sizeof(items) / sizeof(items[0]); n++) {
		struct kb_strv sv;
		json_t *a = json_array();
		char *want, *got;

		kb_strv_init(&sv);
		for (i = 0; i < n; i++) {
			kb_strv_push(&sv, items[i]);
			json_array_append_new(a, json_string(items[i]));
		}
		want = json_dumps(a, JSON_COMPACT);
		got = kb_strv_to_json(&sv);
		ck_assert_str_eq(got, want);
		free(want);
		free(got);
		json_decref(a);
		kb_strv_free(&sv);
	}
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_missing_index_is_reported_as_missing);
	tcase_add_test(tc, a_file_that_is_not_an_index_is_named_as_such);
	tcase_add_test(tc, stats_count_articles_sections_and_build_time);
	tcase_add_test(tc, an_article_reads_back_by_path_and_by_id);
	tcase_add_test(tc, tag_counts_list_models_and_symptoms_in_use);
	tcase_add_test(tc, lists_are_stored_as_jansson_writes_them);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(db_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
