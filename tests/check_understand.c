/* check_understand.c - reading queries through the taxonomy, as a table of cases. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy.h"
#include "taxonomy.h"
#include "understand.h"
#include "util.h"

static struct kb_taxonomy *tax;

static void
setup(void)
{
	struct kb_error err;

	ck_assert_msg(kb_taxonomy_load("kb/taxonomy.json", &tax, &err) ==
			      KB_OK,
		      "%s", err.msg);
}

/*
 * The same taxonomy packed and unpacked, as kbsearch reads it from an
 * index: its models' squashed forms come precomputed from the blob.
 */
static void
setup_packed(void)
{
	struct kb_taxonomy *t;
	struct kb_error err;
	struct kb_buf b;

	ck_assert_msg(kb_taxonomy_load("kb/taxonomy.json", &t, &err) == KB_OK,
		      "%s", err.msg);
	kb_buf_init(&b);
	kb_taxonomy_pack(t, &b);
	ck_assert_msg(kb_taxonomy_unpack(b.data, b.len, &tax, &err) == KB_OK,
		      "%s", err.msg);
	ck_assert_ptr_nonnull(kb_taxonomy_model_form(tax, 0, 0));
	kb_buf_free(&b);
	kb_taxonomy_free(t);
}

static void
teardown(void)
{
	kb_taxonomy_free(tax);
}

struct ucase {
	const char *query;
	const char *model;   /* display name, or NULL */
	const char *brand;   /* brand alone, or NULL */
	const char *color;   /* or NULL */
	const char *pattern; /* or NULL */
	const char *symptom; /* one expected symptom id, or NULL */
};

static const struct ucase cases[] = {
	{ "Soundcore 2 solid red not full", "Anker Soundcore 2", NULL, "red",
	  "solid", "wont-fully-charge" },
	{ "soundcore2 won't charge", "Anker Soundcore 2", NULL, NULL, NULL,
	  "wont-charge" },
	{ "sound core 2 battery drains fast", "Anker Soundcore 2", NULL, NULL,
	  NULL, "wont-hold-charge" },
	{ "SOUNDCORE 2", "Anker Soundcore 2", NULL, NULL, NULL, NULL },
	{ "soundcor 2 wont charge", "Anker Soundcore 2", NULL, NULL, NULL,
	  "wont-charge" },
	{ "soundcore 3 not charging", "Anker Soundcore 3", NULL, NULL, NULL,
	  "wont-charge" },
	{ "my anker won't hold charge", NULL, "Anker", NULL, NULL,
	  "wont-hold-charge" },
	{ "dies after an hour", NULL, NULL, NULL, NULL, "wont-hold-charge" },
	{ "doesn't stay charged", NULL, NULL, NULL, NULL, "wont-hold-charge" },
	{ "why won't my speaker charge", NULL, NULL, NULL, NULL,
	  "wont-charge" },
	{ "red light blinks", NULL, NULL, "red", "blinking", NULL },
	{ "flashing red", NULL, NULL, "red", "blinking", NULL },
	{ "steady white light", NULL, NULL, "white", "solid", NULL },
	{ "breathing blue", NULL, NULL, "blue", "pulsing", NULL },
	{ "no light at all", NULL, NULL, NULL, "off", NULL },
	{ "how do I turn it on", NULL, NULL, NULL, NULL, NULL },
	{ "JBL Flip 5 keeps disconnecting", "JBL Flip 5", NULL, NULL, NULL,
	  "connection-drops" },
	{ "charge 4 hours", NULL, NULL, NULL, NULL, NULL },
};

START_TEST(each_query_is_read_as_expected)
{
	const struct ucase *c = &cases[_i];
	struct kb_understood u;

	kb_understand(tax, NULL, c->query, &u);
	if (c->model) {
		ck_assert_msg(u.model != NULL, "%s: no model", c->query);
		ck_assert_str_eq(u.model->name, c->model);
	} else {
		ck_assert_msg(u.model == NULL, "%s: model %s", c->query,
			      u.model ? u.model->name : "");
	}
	if (c->brand) {
		ck_assert_ptr_nonnull(u.brand);
		ck_assert_str_eq(u.brand, c->brand);
	}
	if (c->color) {
		ck_assert_msg(u.color != NULL, "%s: no colour", c->query);
		ck_assert_str_eq(u.color->id, c->color);
	} else {
		ck_assert_msg(u.color == NULL, "%s: colour %s", c->query,
			      u.color ? u.color->id : "");
	}
	if (c->pattern) {
		ck_assert_msg(u.pattern != NULL, "%s: no pattern", c->query);
		ck_assert_str_eq(u.pattern->id, c->pattern);
	} else {
		ck_assert_msg(u.pattern == NULL, "%s: pattern %s", c->query,
			      u.pattern ? u.pattern->id : "");
	}
	if (c->symptom)
		ck_assert_msg(kb_strv_contains(&u.symptoms, c->symptom),
			      "%s: no symptom %s", c->query, c->symptom);
	kb_understood_free(&u);
}
END_TEST

START_TEST(model_words_leave_the_free_terms)
{
	struct kb_understood u;

	kb_understand(tax, NULL, "soundcore 2 cable broken", &u);
	ck_assert(!kb_strv_contains(&u.terms, "soundcore"));
	ck_assert(!kb_strv_contains(&u.terms, "2"));
	ck_assert(kb_strv_contains(&u.terms, "cable"));
	ck_assert(kb_strv_contains(&u.terms, "broken"));
	kb_understood_free(&u);
}
END_TEST

START_TEST(a_typo_is_never_read_as_another_number)
{
	struct kb_understood u;

	kb_understand(tax, NULL, "soundcor 3", &u);
	ck_assert_ptr_nonnull(u.model);
	ck_assert_str_eq(u.model->name, "Anker Soundcore 3");
	kb_understood_free(&u);
}
END_TEST

START_TEST(edit_distance_counts_swaps_as_one)
{
	ck_assert_uint_eq(kb_edit_distance("battery", "batery", 2), 1);
	ck_assert_uint_eq(kb_edit_distance("charging", "chraging", 2), 1);
	ck_assert_uint_eq(kb_edit_distance("firmware", "firmwear", 2), 2);
	ck_assert_uint_eq(kb_edit_distance("abc", "xyz", 1), 2);
	ck_assert_uint_eq(kb_edit_distance("same", "same", 0), 0);
}
END_TEST

START_TEST(typo_budgets_grow_with_length_and_never_touch_numbers)
{
	ck_assert_uint_eq(kb_typo_budget("red"), 0);
	ck_assert_uint_eq(kb_typo_budget("cable"), 1);
	ck_assert_uint_eq(kb_typo_budget("replacement"), 2);
	ck_assert_uint_eq(kb_typo_budget("srsxb13"), 0);
	ck_assert_uint_eq(kb_typo_budget("2600"), 0);
}
END_TEST

/* The tests that read queries through a taxonomy, for either fixture. */
static void
add_reading_tests(TCase *tc)
{
	tcase_add_loop_test(tc, each_query_is_read_as_expected, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, model_words_leave_the_free_terms);
	tcase_add_test(tc, a_typo_is_never_read_as_another_number);
}

static Suite *
understand_suite(void)
{
	Suite *s = suite_create("understand");
	TCase *tc = tcase_create("understand");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	add_reading_tests(tc);
	tcase_add_test(tc, edit_distance_counts_swaps_as_one);
	tcase_add_test(tc,
		       typo_budgets_grow_with_length_and_never_touch_numbers);
	suite_add_tcase(s, tc);

	/* Every reading again, on the taxonomy an index carries. */
	tc = tcase_create("understand-packed");
	tcase_add_unchecked_fixture(tc, setup_packed, teardown);
	add_reading_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(understand_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
