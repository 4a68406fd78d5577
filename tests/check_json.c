/* check_json.c - the search and article documents, field by field. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static struct kb_result *
sample(void)
{
	struct kb_result *r = kb_xcalloc(1, sizeof(*r));
	struct kb_hit *h;

	r->query = kb_xstrdup("<b>red</b>");
	r->hits = kb_xcalloc(1, sizeof(*r->hits));
	r->nhits = 1;
	r->total = 7;
	r->limit = 10;
	r->offset = 0;
	r->ms = 1.6;
	r->relax = 0;
	r->model = kb_xstrdup("Anker Soundcore 2");
	h = &r->hits[0];
	h->id = 42;
	h->article = 3;
	h->title = kb_xstrdup("LED <meanings>");
	h->heading = kb_xstrdup("Solid red");
	h->anchor = kb_xstrdup("solid-red");
	h->snippet = kb_xstrdup("a \x01<red>\x02 light");
	h->path = kb_xstrdup("articles/led.md");
	kb_strv_init(&h->models);
	kb_strv_init(&h->symptoms);
	kb_strv_push(&h->models, "Anker Soundcore 2");
	kb_strv_push(&h->symptoms, "led-indicator");
	h->score = 3.14159265;
	return r;
}

START_TEST(the_search_document_has_every_documented_field)
{
	struct kb_result *r = sample();
	json_t *j = kb_json_result(r), *h;

	ck_assert_str_eq(json_string_value(json_object_get(j, "query")),
			 "<b>red</b>");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 j, "estimatedTotalHits")),
			 7);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "limit")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "offset")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 j, "processingTimeMs")),
			 2);
	ck_assert(json_is_false(json_object_get(j, "relaxed")));
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(j, "filters"), "model")),
			 "Anker Soundcore 2");
	ck_assert(json_is_null(json_object_get(json_object_get(j, "filters"),
					       "symptom")));
	h = json_array_get(json_object_get(j, "hits"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "id")), 42);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "article")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(h, "title")),
			 "LED <meanings>");
	ck_assert_str_eq(json_string_value(json_object_get(h, "snippet")),
			 "a <mark>&lt;red&gt;</mark> light");
	ck_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(h, "models"), 0)),
			 "Anker Soundcore 2");
	ck_assert(json_real_value(json_object_get(h, "score")) == 3.1416);
	ck_assert(json_is_true(json_object_get(h, "matchedAllWords")));
	json_decref(j);
	kb_result_free(r);
}
END_TEST

START_TEST(errors_have_a_code_and_a_message)
{
	json_t *j = kb_json_error("bad_query", "q is empty");
	json_t *e = json_object_get(j, "error");

	ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
			 "bad_query");
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")),
			 "q is empty");
	json_decref(j);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, the_search_document_has_every_documented_field);
	tcase_add_test(tc, errors_have_a_code_and_a_message);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
