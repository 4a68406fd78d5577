/* check_query.c - query parsing and FTS5 expression building, as a table of cases. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"

struct qcase {
	const char *input;
	const char *all; /* expected KB_FTS_ALL expression; NULL for none */
	const char *any; /* expected KB_FTS_ANY expression; NULL: same words */
};

static const struct qcase cases[] = {
	{ "won't hold charge", "\"wont\" \"hold\" \"charge\"",
	  "\"wont\" OR \"hold\" OR \"charge\"" },
	{ "usb-c", "\"usb\" \"c\"", NULL },
	{ "\"", NULL, NULL },
	{ "*", NULL, NULL },
	{ "\"\"\"\"", NULL, NULL },
	{ "AND", "\"and\"", NULL },
	{ "OR NOT NEAR", "\"or\" \"not\" \"near\"", NULL },
	{ "foo:bar", "\"foo\" \"bar\"", NULL },
	{ "title:battery", "\"title\" \"battery\"", NULL },
	{ "NEAR(red light, 2)", "\"near\" \"red\" \"light\" \"2\"", NULL },
	{ "red*", "\"red\"", NULL },
	{ "^start", "\"start\"", NULL },
	{ "a + b - c", "\"a\" \"b\" \"c\"", NULL },
	{ "(((battery)))", "\"battery\"", NULL },
	{ "\xF0\x9F\x94\x8B battery \xF0\x9F\x98\x80", "\"battery\"", NULL },
	{ "\xF0\x9F\x98\x80", NULL, NULL },
	{ "Été SPEAKER", "\"ete\" \"speaker\"", NULL },
	{ "charge charging charged", "\"charge\"", NULL },
	{ "'; DROP TABLE articles; --", "\"drop\" \"table\" \"articles\"",
	  NULL },
	{ "<script>alert(1)</script>", "\"script\" \"alert\" \"1\"", NULL },
	{ "\xff\xfe broken \xc3", "\"broken\"", NULL },
	{ "", NULL, NULL },
	{ "   \t\n ", NULL, NULL },
};

START_TEST(each_input_becomes_the_expected_safe_expression)
{
	const struct qcase *c = &cases[_i];
	struct kb_query *q = NULL;
	char *all, *any;

	ck_assert_int_eq(kb_query_parse(c->input, &q, NULL), KB_OK);
	all = kb_query_fts(q, NULL, KB_FTS_ALL);
	any = kb_query_fts(q, NULL, KB_FTS_ANY);
	if (c->all == NULL) {
		ck_assert_msg(all == NULL, "input '%s' gave '%s'", c->input,
			      all);
		ck_assert_ptr_null(any);
	} else {
		ck_assert_ptr_nonnull(all);
		ck_assert_str_eq(all, c->all);
		if (c->any != NULL)
			ck_assert_str_eq(any, c->any);
	}
	free(all);
	free(any);
	kb_query_free(q);
}
END_TEST

START_TEST(stop_words_are_flagged_but_negations_are_not)
{
	struct kb_query *q = NULL;
	size_t i;

	ck_assert_int_eq(kb_query_parse("why does my speaker not charge", &q,
					NULL),
			 KB_OK);
	for (i = 0; i < q->nterms; i++) {
		const char *w = q->terms[i].word;

		if (!strcmp(w, "speaker") || !strcmp(w, "charge") ||
		    !strcmp(w, "not"))
			ck_assert_msg(!q->terms[i].stop, "%s is a stop word",
				      w);
		if (!strcmp(w, "my") || !strcmp(w, "does"))
			ck_assert_msg(q->terms[i].stop, "%s not a stop word",
				      w);
	}
	kb_query_free(q);
}
END_TEST

START_TEST(a_five_kilobyte_query_keeps_a_bounded_number_of_terms)
{
	struct kb_buf b;
	struct kb_query *q = NULL;
	char *e;
	int i;

	kb_buf_init(&b);
	for (i = 0; b.len < 5 * 1024; i++)
		kb_buf_printf(&b, "word%d \"quote\" AND (x OR y) ", i);
	ck_assert_int_eq(kb_query_parse(b.data, &q, NULL), KB_OK);
	ck_assert_uint_le(q->nterms, KB_QUERY_MAX_TERMS);
	ck_assert_uint_gt(q->nterms, 10);
	e = kb_query_fts(q, NULL, KB_FTS_ANY);
	ck_assert_ptr_nonnull(e);
	free(e);
	kb_query_free(q);
	kb_buf_free(&b);
}
END_TEST

START_TEST(an_overlong_query_is_cut_on_a_character_boundary)
{
	struct kb_buf b;
	struct kb_query *q = NULL;

	kb_buf_init(&b);
	while (b.len < KB_QUERY_MAX_BYTES + 10)
		kb_buf_adds(&b, "\xC3\xA9"); /* é */
	ck_assert_int_eq(kb_query_parse(b.data + 1, &q, NULL), KB_OK);
	ck_assert_uint_le(strlen(q->text), KB_QUERY_MAX_BYTES);
	ck_assert(kb_utf8_valid(q->text + 1, strlen(q->text) - 1));
	kb_query_free(q);
	kb_buf_free(&b);
}
END_TEST

START_TEST(selected_terms_only_enter_the_expression)
{
	struct kb_query *q = NULL;
	bool use[3] = { true, false, true };
	char *e;

	ck_assert_int_eq(kb_query_parse("red blinking light", &q, NULL),
			 KB_OK);
	ck_assert_uint_eq(q->nterms, 3);
	e = kb_query_fts(q, use, KB_FTS_ALL);
	ck_assert_str_eq(e, "\"red\" \"light\"");
	free(e);
	use[0] = use[2] = false;
	ck_assert_ptr_null(kb_query_fts(q, use, KB_FTS_ALL));
	kb_query_free(q);
}
END_TEST

static Suite *
query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("build");

	tcase_add_loop_test(tc, each_input_becomes_the_expected_safe_expression,
			    0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, stop_words_are_flagged_but_negations_are_not);
	tcase_add_test(tc,
		       a_five_kilobyte_query_keeps_a_bounded_number_of_terms);
	tcase_add_test(tc, an_overlong_query_is_cut_on_a_character_boundary);
	tcase_add_test(tc, selected_terms_only_enter_the_expression);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(query_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
