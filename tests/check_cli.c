/* check_cli.c - end to end: the real kbindex and kbsearch on a temporary folder. */
#include <check.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

static char *dir;
static char *docs;
static char *dbpath;

/* Help pages as a help desk exports them: no front matter at all. */
static const char plain_charge[] =
	"Anker Soundcore 2 Not Charging? Try These Fixes\n"
	"\n"
	"Your speaker shows a light but the battery never fills. Work through "
	"the steps below.\n"
	"\n"
	"1. Check the Charging Cable\n"
	"1. Check the Charging Cable\n"
	"\n"
	"The cable that ships with the Soundcore 2 is flimsy. Try another "
	"micro-USB cable first.\n"
	"\n"
	"2. Read the Indicator Light\n"
	"\n"
	"The LED on top tells you what is happening:\n"
	"- Solid red: the speaker is charging\n"
	"- Blinking red: battery low\n"
	"- Solid white: fully charged\n"
	"\n"
	"3. Clean the Port\n"
	"\n"
	"Lint in the port stops the plug from seating. Lift it out with a "
	"toothpick.\n";

static const char plain_drop[] =
	"JBL Flip 5 keeps disconnecting\n"
	"\n"
	"Move your phone closer\n"
	"\n"
	"When the connection keeps dropping, distance is the usual cause. "
	"Keep the phone near the speaker.\n";

static const char html_page[] =
	"<!DOCTYPE html><html><head><title>Help Center</title>"
	"<style>body{color:red}</style><script>alert('x')</script></head>"
	"<body><nav><a href='/'>Home</a> Battery Cable Support</nav>"
	"<h1>Speaker won't hold a charge</h1>"
	"<h2>Replace the battery</h2>"
	"<p>An old battery drains fast. Replacing it is the fix.</p>"
	"<h2>Check the adapter</h2><ul><li>Use a 5 W adapter</li>"
	"<li>Try a computer USB port</li></ul></body></html>";

static const char md_article[] =
	"---\n"
	"title: Update the firmware\n"
	"symptoms: [firmware-update]\n"
	"---\n"
	"## Install the update\n\n"
	"Open the companion app and install the newest firmware.\n";

static const char bad_md[] =
	"---\n"
	"title: Broken\n"
	"models: [unclosed\n"
	"---\n"
	"## Body\n\ntext\n";

static void
setup(void)
{
	dir = kb_test_tmpdir();
	docs = kb_test_path(dir, "docs");
	dbpath = kb_test_path(dir, "kb.db");
	kb_test_write(docs, "plain/soundcore-charging.txt", plain_charge);
	kb_test_write(docs, "plain/flip-disconnects.txt", plain_drop);
	kb_test_write(docs, "web/battery.html", html_page);
	kb_test_write(docs, "md/firmware.md", md_article);
	kb_test_write(docs, "notes.csv", "not,an,article\n");
}

static void
teardown(void)
{
	kb_test_rmtree(dir);
	free(docs);
	free(dbpath);
	free(dir);
}

static void
kbindex(struct kb_test_run *r, const char *extra, const char *path)
{
	const char *argv[] = { kb_test_prog("kbindex"), "--db", dbpath,
			       "--taxonomy", "kb/taxonomy.json",
			       extra ? extra : path, extra ? path : NULL, NULL };

	kb_test_run(r, argv, NULL);
}

static void
index_docs(void)
{
	struct kb_test_run r;

	kbindex(&r, "--quiet", docs);
	ck_assert_msg(r.status == 0, "kbindex: %d %s", r.status, r.err);
	kb_test_run_free(&r);
}

static void
kbsearch(struct kb_test_run *r, const char *a1, const char *a2,
	 const char *a3, const char *a4)
{
	const char *argv[] = { kb_test_prog("kbsearch"), "--db", dbpath, a1,
			       a2, a3, a4, NULL };
	const char *env[] = { "NO_COLOR=1", NULL };

	kb_test_run(r, argv, env);
}

static json_t *
search_json(const char *q)
{
	struct kb_test_run r;
	json_error_t e;
	json_t *j;

	kbsearch(&r, "--json", q, NULL, NULL);
	ck_assert_msg(r.status == 0 || r.status == 1, "status %d: %s",
		      r.status, r.err);
	j = json_loads(r.out, 0, &e);
	ck_assert_msg(j != NULL, "bad JSON for %s: %s", q, e.text);
	kb_test_run_free(&r);
	return j;
}

/* The rows sql gives on the index: columns joined by '=', each row ended by '|'. */
static char *
index_rows(const char *sql)
{
	struct kb_buf b;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int i;

	kb_buf_init(&b);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++)
			kb_buf_printf(&b, "%s%s", i > 0 ? "=" : "",
				      (const char *)sqlite3_column_text(st, i));
		kb_buf_addc(&b, '|');
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kb_buf_steal(&b);
}

START_TEST(indexing_prints_one_summary_line_with_counts)
{
	struct kb_test_run r;
	regex_t re;

	kbindex(&r, NULL, docs);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_int_eq(regcomp(&re,
				 "^indexed 4 articles \\(4 new, 0 changed, 0 "
				 "removed\\), [0-9]+ sections, [0-9]+ LED "
				 "facts in [0-9.]+ s\n$",
				 REG_EXTENDED),
			 0);
	ck_assert_msg(regexec(&re, r.out, 0, NULL, 0) == 0, "got: %s", r.out);
	kb_test_run_free(&r);
	kbindex(&r, NULL, docs);
	ck_assert_ptr_nonnull(strstr(r.out, "(0 new, 0 changed, 0 removed)"));
	kb_test_run_free(&r);
	regfree(&re);
}
END_TEST

START_TEST(a_broken_file_is_named_and_the_rest_are_indexed)
{
	struct kb_test_run r;
	json_t *j;

	kb_test_write(docs, "md/broken.md", bad_md);
	kb_test_write(docs, "empty.txt", "");
	kbindex(&r, "--quiet", docs);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "md/broken.md:") != NULL, "%s", r.err);
	ck_assert_msg(strstr(r.err, "empty.txt") != NULL, "%s", r.err);
	/* one line per bad file, nothing else */
	{
		size_t lines = 0;
		const char *p;

		for (p = r.err; *p; p++)
			lines += *p == '\n';
		ck_assert_uint_eq(lines, 2);
	}
	kb_test_run_free(&r);
	j = search_json("companion firmware");
	ck_assert_uint_ge(json_array_size(json_object_get(j, "hits")), 1);
	json_decref(j);
}
END_TEST

/*
 * Files are parsed on other threads while earlier ones are stored: the
 * index and the messages must still follow the files' order.
 */
START_TEST(many_files_are_stored_and_reported_in_order)
{
	enum { N = 240 };
	struct kb_test_run r;
	struct kb_buf want_err, want_paths;
	char name[64], *text, *got_paths;
	int i;

	kb_buf_init(&want_err);
	kb_buf_init(&want_paths);
	for (i = 0; i < N; i++) {
		bool broken = i % 17 == 5, html = i % 3 == 1;

		snprintf(name, sizeof(name), "many/%03d.%s", i,
			 broken ? "md" : html ? "html" : "txt");
		if (broken) {
			kb_test_write(docs, name, bad_md);
			kb_buf_printf(&want_err, "%s|", name);
			continue;
		}
		text = html ? kb_xasprintf("<html><head><title>Article %d"
					   "</title></head><body><h2>Step %d"
					   "</h2><p>Hold the power button "
					   "for %d seconds.</p></body></html>",
					   i, i, i)
			    : kb_xasprintf("Article %d\n\nStep %d\n\nHold "
					   "the power button for %d seconds.\n",
					   i, i, i);
		kb_test_write(docs, name, text);
		free(text);
		kb_buf_printf(&want_paths, "%s|", name);
	}
	kbindex(&r, "--quiet", docs);
	ck_assert_int_eq(r.status, 1);
	{
		/* the broken files, one line each, in order */
		struct kb_buf got_err;
		const char *p = r.err;

		kb_buf_init(&got_err);
		while ((p = strstr(p, "many/")) != NULL) {
			size_t n = strcspn(p, ":");

			kb_buf_add(&got_err, p, n);
			kb_buf_addc(&got_err, '|');
			p += n;
		}
		kb_buf_addc(&got_err, 0);
		kb_buf_addc(&want_err, 0);
		ck_assert_str_eq(got_err.data, want_err.data);
		kb_buf_free(&got_err);
	}
	kb_test_run_free(&r);
	got_paths = index_rows("SELECT path FROM articles WHERE"
			       " path LIKE 'many/%' ORDER BY id");
	kb_buf_addc(&want_paths, 0);
	ck_assert_str_eq(got_paths, want_paths.data);
	kb_buf_free(&want_err);
	kb_buf_free(&want_paths);
	free(got_paths);
}
END_TEST

/*
 * Several paths at once: each folder's articles are stored relative to
 * it, a file given alone by its name, and of two files with the same
 * relative path the one under the earlier folder wins; the other is named.
 */
START_TEST(folders_and_files_given_together_keep_the_first_of_a_name)
{
	struct kb_test_run r;
	char *got;
	char *first = kb_xasprintf("%s/first", dir);
	char *second = kb_xasprintf("%s/second/", dir);
	char *alone = kb_xasprintf("%s/loose/alone.txt", dir);
	const char *argv[] = { kb_test_prog("kbindex"), "--db", dbpath,
			       "--quiet", "--taxonomy", "kb/taxonomy.json",
			       first, second, alone, NULL };

	kb_test_write(dir, "first/same.txt", "First copy\n\nUnder first.\n");
	kb_test_write(dir, "first/sub/deep.txt", "Deep\n\nUnder first/sub.\n");
	kb_test_write(dir, "second/same.txt", "Second copy\n\nUnder second.\n");
	kb_test_write(dir, "second/other.txt", "Other\n\nOnly in second.\n");
	kb_test_write(dir, "loose/alone.txt", "Alone\n\nGiven by name.\n");
	kb_test_run(&r, argv, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "second/same.txt: same relative path as "
				    "an earlier file, skipped") != NULL,
		      "%s", r.err);
	ck_assert_msg(strstr(r.err, "first/same.txt") == NULL, "%s", r.err);
	kb_test_run_free(&r);
	got = index_rows("SELECT path, title FROM articles ORDER BY id");
	ck_assert_str_eq(got, "alone.txt=Alone|other.txt=Other|"
			      "same.txt=First copy|sub/deep.txt=Deep|");
	free(got);
	free(first);
	free(second);
	free(alone);
}
END_TEST

START_TEST(plain_text_articles_get_titles_sections_tags_and_led_facts)
{
	struct kb_test_run r;
	json_t *j, *secs, *leds, *models;
	size_t i;
	bool cable = false, clean = false;

	index_docs();
	kbsearch(&r, "--json", "--show", "plain/soundcore-charging.txt", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "title")),
			 "Anker Soundcore 2 Not Charging? Try These Fixes");
	secs = json_object_get(j, "sections");
	for (i = 0; i < json_array_size(secs); i++) {
		const char *h = json_string_value(
			json_object_get(json_array_get(secs, i), "heading"));

		cable |= strstr(h, "Check the Charging Cable") != NULL;
		clean |= strstr(h, "Clean the Port") != NULL;
		/* the repeated heading is counted once */
		if (i > 0)
			ck_assert_str_ne(
				h, json_string_value(json_object_get(
					   json_array_get(secs, i - 1),
					   "heading")));
	}
	ck_assert(cable && clean);
	models = json_object_get(j, "models");
	ck_assert_uint_eq(json_array_size(models), 1);
	ck_assert_str_eq(json_string_value(json_array_get(models, 0)),
			 "Anker Soundcore 2");
	ck_assert_uint_ge(json_array_size(json_object_get(j, "symptoms")), 1);
	leds = json_object_get(j, "leds");
	ck_assert_uint_eq(json_array_size(leds), 3);
	json_decref(j);
	kb_test_run_free(&r);

	j = search_json("keeps disconnecting");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(j, "hits"), 0),
				 "path")),
			 "plain/flip-disconnects.txt");
	json_decref(j);
}
END_TEST

START_TEST(html_articles_lose_script_style_and_navigation)
{
	struct kb_test_run r;

	index_docs();
	kbsearch(&r, "--show", "web/battery.html", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Speaker won't hold a charge"));
	ck_assert_ptr_nonnull(strstr(r.out, "## Replace the battery"));
	ck_assert_ptr_null(strstr(r.out, "alert"));
	ck_assert_ptr_null(strstr(r.out, "color:red"));
	ck_assert_ptr_null(strstr(r.out, "Support"));
	kb_test_run_free(&r);
}
END_TEST

START_TEST(json_output_has_the_documented_shape)
{
	json_t *j, *h;
	static const char *const keys[] = { "id", "article", "title",
					    "heading", "snippet", "path",
					    "models", "symptoms", "score" };
	size_t i;

	index_docs();
	j = search_json("battery drains");
	ck_assert_str_eq(json_string_value(json_object_get(j, "query")),
			 "battery drains");
	ck_assert(json_is_integer(json_object_get(j, "estimatedTotalHits")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "limit")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "offset")), 0);
	ck_assert(json_is_integer(json_object_get(j, "processingTimeMs")));
	h = json_array_get(json_object_get(j, "hits"), 0);
	ck_assert_ptr_nonnull(h);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(h, keys[i]) != NULL,
			      "hit has no %s", keys[i]);
	ck_assert_str_eq(json_string_value(json_object_get(h, "path")),
			 "web/battery.html");
	ck_assert_ptr_nonnull(strstr(
		json_string_value(json_object_get(h, "snippet")), "<mark>"));
	json_decref(j);
}
END_TEST

START_TEST(exit_status_says_hits_none_usage_or_no_index)
{
	struct kb_test_run r;
	const char *missing[] = { kb_test_prog("kbsearch"), "--db",
				  "/nonexistent/kb.db", "battery", NULL };

	index_docs();
	kbsearch(&r, "battery", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	kb_test_run_free(&r);
	kbsearch(&r, "xyzzyplugh", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	kb_test_run_free(&r);
	kbsearch(&r, "--limit", "ten", "battery", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--limit"));
	kb_test_run_free(&r);
	kbsearch(&r, "--bogus", "battery", NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	kb_test_run_free(&r);
	kbsearch(&r, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	kb_test_run_free(&r);
	kb_test_run(&r, missing, NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "no index at /nonexistent/kb.db"));
	ck_assert_ptr_nonnull(strstr(r.err, "kbindex kb/"));
	kb_test_run_free(&r);
}
END_TEST

static const char *const hostile[] = {
	"usb-c", "\"", "AND", "*", "foo:bar", "NOT", "\"\"\"", "(", ")",
	"NEAR(", "a OR", "^*", "\xF0\x9F\x94\x8B", "-", "'", "\\",
};

START_TEST(hostile_queries_exit_cleanly_without_sqlite_messages)
{
	struct kb_test_run r;

	index_docs();
	kbsearch(&r, hostile[_i], NULL, NULL, NULL);
	ck_assert_msg(r.status == 0 || r.status == 1, "%s: status %d %s",
		      hostile[_i], r.status, r.err);
	ck_assert_msg(strcasestr(r.err, "sql") == NULL &&
			      strcasestr(r.err, "fts5") == NULL &&
			      strcasestr(r.out, "fts5") == NULL,
		      "%s", r.err);
	kb_test_run_free(&r);
}
END_TEST

START_TEST(a_five_kilobyte_query_exits_cleanly)
{
	struct kb_test_run r;
	struct kb_buf b;

	index_docs();
	kb_buf_init(&b);
	while (b.len < 5 * 1024)
		kb_buf_adds(&b, "speaker battery \"won't\" AND * usb-c ");
	kbsearch(&r, b.data, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.err, "");
	kb_test_run_free(&r);
	kb_buf_free(&b);
}
END_TEST

START_TEST(colour_only_on_request_or_a_terminal)
{
	struct kb_test_run r;

	index_docs();
	kbsearch(&r, "battery", NULL, NULL, NULL);
	ck_assert_ptr_null(strchr(r.out, '\033'));
	ck_assert_ptr_nonnull(strstr(r.out, "1. "));
	ck_assert_ptr_nonnull(strstr(r.out, "web/battery.html#"));
	kb_test_run_free(&r);
	kbsearch(&r, "--color", "always", "battery", NULL);
	ck_assert_ptr_nonnull(strchr(r.out, '\033'));
	kb_test_run_free(&r);
}
END_TEST

START_TEST(models_and_symptoms_can_be_listed_and_filtered)
{
	struct kb_test_run r;
	json_t *j;

	index_docs();
	kbsearch(&r, "--list-models", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Anker Soundcore 2"));
	kb_test_run_free(&r);
	kbsearch(&r, "--list-symptoms", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "wont-hold-charge"));
	kb_test_run_free(&r);
	kbsearch(&r, "--json", "--model", "soundcore2", "speaker");
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_ge(json_array_size(json_object_get(j, "hits")), 1);
	ck_assert_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(j, "hits"), 0), "path")),
		"plain/soundcore-charging.txt");
	json_decref(j);
	kb_test_run_free(&r);
}
END_TEST

static void
write_many(const char *root, int n)
{
	struct kb_buf b;
	char name[64];
	int i, k;

	kb_buf_init(&b);
	for (i = 0; i < n; i++) {
		kb_buf_reset(&b);
		kb_buf_printf(&b, "---\ntitle: Generated article %d\n---\n", i);
		for (k = 0; k < 6; k++)
			kb_buf_printf(&b,
				      "## Step %d of fix %d\n\nUnplug the "
				      "speaker, wait %d seconds, check cable "
				      "number %d and the port. Quux%d.\n\n",
				      k, i, k * 7, i * k, i);
		snprintf(name, sizeof(name), "gen/a%05d.md", i);
		kb_test_write(root, name, b.data);
	}
	kb_buf_free(&b);
}

START_TEST(killing_the_indexer_at_any_moment_leaves_the_old_index_usable)
{
	struct kb_test_run r;
	char *before;
	int round;

	index_docs();
	kbsearch(&r, "--json", "battery charging", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	/* The hits, without the timing that follows them. */
	*strstr(r.out, "\"processingTimeMs\"") = '\0';
	before = kb_xstrdup(strstr(r.out, "\"hits\""));
	kb_test_run_free(&r);
	write_many(docs, 1500);
	srand((unsigned)time(NULL));
	for (round = 0; round < 6; round++) {
		pid_t pid = fork();
		int st;

		ck_assert(pid >= 0);
		if (pid == 0) {
			execl(kb_test_prog("kbindex"), "kbindex", "--quiet",
			      "--full", "--db", dbpath, "--taxonomy",
			      "kb/taxonomy.json", docs, (char *)NULL);
			_exit(127);
		}
		/* Somewhere between start-up and the final rename. */
		usleep((useconds_t)(20000 + rand() % 250000 * (round + 1) / 6));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (WIFEXITED(st)) {
			/* It finished first: the new index is complete. */
			ck_assert_int_eq(WEXITSTATUS(st), 0);
			break;
		}
		kbsearch(&r, "--json", "battery charging", NULL, NULL);
		ck_assert_int_eq(r.status, 0);
		*strstr(r.out, "\"processingTimeMs\"") = '\0';
		ck_assert_msg(strcmp(strstr(r.out, "\"hits\""), before) == 0,
			      "the live index changed after a kill in round %d",
			      round);
		kb_test_run_free(&r);
	}
	free(before);
	/* The next run cleans up and completes. */
	kbindex(&r, "--quiet", docs);
	ck_assert_msg(r.status == 0, "%s", r.err);
	kb_test_run_free(&r);
	kbsearch(&r, "Quux1234", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	kb_test_run_free(&r);
}
END_TEST

START_TEST(help_and_version_exit_zero)
{
	struct kb_test_run r;
	const char *a1[] = { kb_test_prog("kbsearch"), "--help", NULL };
	const char *a2[] = { kb_test_prog("kbindex"), "--version", NULL };
	const char *a3[] = { kb_test_prog("kbindex"), NULL };

	kb_test_run(&r, a1, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: kbsearch"));
	kb_test_run_free(&r);
	kb_test_run(&r, a2, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "kbindex "));
	kb_test_run_free(&r);
	kb_test_run(&r, a3, NULL);
	ck_assert_int_eq(r.status, 2);
	kb_test_run_free(&r);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, indexing_prints_one_summary_line_with_counts);
	tcase_add_test(tc, a_broken_file_is_named_and_the_rest_are_indexed);
	tcase_add_test(tc, many_files_are_stored_and_reported_in_order);
	tcase_add_test(tc,
		       folders_and_files_given_together_keep_the_first_of_a_name);
	tcase_add_test(
		tc, plain_text_articles_get_titles_sections_tags_and_led_facts);
	tcase_add_test(tc, html_articles_lose_script_style_and_navigation);
	tcase_add_test(tc, json_output_has_the_documented_shape);
	tcase_add_test(tc, exit_status_says_hits_none_usage_or_no_index);
	tcase_add_loop_test(tc,
			    hostile_queries_exit_cleanly_without_sqlite_messages,
			    0, (int)(sizeof(hostile) / sizeof(hostile[0])));
	tcase_add_test(tc, a_five_kilobyte_query_exits_cleanly);
	tcase_add_test(tc, colour_only_on_request_or_a_terminal);
	tcase_add_test(tc, models_and_symptoms_can_be_listed_and_filtered);
	tcase_add_test(
		tc,
		killing_the_indexer_at_any_moment_leaves_the_old_index_usable);
	tcase_add_test(tc, help_and_version_exit_zero);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
