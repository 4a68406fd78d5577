/* check_relevance.c - kbsearch on kb/ must meet the relevance thresholds recorded in the repo. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"

/* kb/ indexed once by the real kbindex, shared by every test. */
static char *dir;
static char *db;

static void
setup(void)
{
	struct kb_test_run r;
	const char *index[] = { kb_test_prog("kbindex"), "--quiet", "--db",
				NULL, "kb/", NULL };

	dir = kb_test_tmpdir();
	db = kb_test_path(dir, "kb.db");
	index[3] = db;
	kb_test_run(&r, index, NULL);
	ck_assert_msg(r.status == 0, "kbindex kb/: %s", r.err);
	kb_test_run_free(&r);
}

static void
teardown(void)
{
	kb_test_rmtree(dir);
	free(db);
	free(dir);
}

START_TEST(kbsearch_meets_the_recorded_thresholds_on_the_judged_queries)
{
	struct kb_test_run r;
	const char *eval[] = { kb_test_prog("kbeval"), "--db", db,
			       "--thresholds", "tests/relevance/thresholds",
			       "tests/relevance/queries.tsv", NULL };

	kb_test_run(&r, eval, NULL);
	/* The table is the evidence either way. */
	fputs(r.out, stdout);
	ck_assert_msg(r.status == 0, "below the thresholds (status %d): %s",
		      r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "threshold MRR@10"));
	ck_assert_ptr_null(strstr(r.out, "FAILED"));
	kb_test_run_free(&r);
}
END_TEST

START_TEST(the_soundcore_example_answers_charging_then_fixes_for_that_model)
{
	struct kb_test_run r;
	const char *search[] = { kb_test_prog("kbsearch"), "--db", db, "-n",
				 "10", "Soundcore 2 solid red not full", NULL };
	const char *env[] = { "NO_COLOR=1", NULL };
	const char *card, *first, *p;

	kb_test_run(&r, search, env);
	ck_assert_int_eq(r.status, 0);
	card = strstr(r.out, "Solid red on the Anker Soundcore 2: charging");
	first = strstr(r.out, "\n1. ");
	ck_assert_msg(card != NULL, "no answer card:\n%s", r.out);
	ck_assert_msg(first != NULL && card < first, "%s", r.out);
	/* Fixes for a speaker that won't fully charge, in the first page. */
	ck_assert_msg(strstr(r.out, "pin") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "Clean the micro-USB port") != NULL ||
			      strstr(r.out, "Clean dust") != NULL,
		      "%s", r.out);
	/* Only the Soundcore 2 and generic articles on the page. */
	for (p = r.out; (p = strstr(p, "articles/")) != NULL; p++) {
		char name[128];

		sscanf(p, "articles/%127[^.#]", name);
		ck_assert_msg(strstr(name, "soundcore") == NULL ||
				      strncmp(name, "soundcore-2", 11) == 0,
			      "another model's page: %s", name);
	}
	kb_test_run_free(&r);
}
END_TEST

START_TEST(wont_hold_charge_lists_the_battery_replacement_in_the_first_three)
{
	struct kb_test_run r;
	const char *search[] = { kb_test_prog("kbsearch"), "--db", db, "-n",
				 "3", "won't hold charge", NULL };
	const char *env[] = { "NO_COLOR=1", NULL };

	kb_test_run(&r, search, env);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "speaker-wont-hold-a-charge.md"
				    "#replace-the-battery") != NULL,
		      "%s", r.out);
	kb_test_run_free(&r);
}
END_TEST

START_TEST(lite_reads_as_light_not_as_a_typo_of_another_word)
{
	struct kb_test_run r;
	const char *search[] = { kb_test_prog("kbsearch"), "--db", db, "-n",
				 "3", "soundcor 2 red lite", NULL };
	const char *env[] = { "NO_COLOR=1", NULL };
	static const char led[] = "articles/soundcore-2-led-indicator.md";
	const char *first, *path;

	/*
	 * "lite" is a common spelling of "light", not a typo: corrected, it
	 * became "likely" and a generic article that is "likely" the cause
	 * came first.
	 */
	kb_test_run(&r, search, env);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "likely") == NULL, "%s", r.out);
	first = strstr(r.out, "\n1. ");
	path = first != NULL ? strstr(first, "articles/") : NULL;
	ck_assert_msg(path != NULL && strncmp(path, led, sizeof(led) - 1) == 0,
		      "%s", r.out);
	kb_test_run_free(&r);
}
END_TEST

static Suite *
relevance_suite(void)
{
	Suite *s = suite_create("relevance");
	TCase *tc = tcase_create("relevance");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(
		tc, kbsearch_meets_the_recorded_thresholds_on_the_judged_queries);
	tcase_add_test(
		tc, the_soundcore_example_answers_charging_then_fixes_for_that_model);
	tcase_add_test(
		tc, wont_hold_charge_lists_the_battery_replacement_in_the_first_three);
	tcase_add_test(tc, lite_reads_as_light_not_as_a_typo_of_another_word);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(relevance_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
