/* check_escape.c - HTML and terminal escaping of article and query text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

START_TEST(html_escaping_covers_the_five_special_characters)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_escape(&b, "<a href=\"x\" onclick='y'>&</a>");
	ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;"
				 "&gt;&amp;&lt;/a&gt;");
	kb_buf_free(&b);
}
END_TEST

START_TEST(snippet_highlights_become_mark_and_the_text_stays_escaped)
{
	char *h = kb_snippet_html("a \x01<b>red</b>\x02 light & \x01more");

	ck_assert_str_eq(h, "a <mark>&lt;b&gt;red&lt;/b&gt;</mark> light "
			    "&amp; <mark>more</mark>");
	free(h);
	h = kb_snippet_html("\x02stray end\x01");
	ck_assert_str_eq(h, "stray end<mark></mark>");
	free(h);
}
END_TEST

START_TEST(plain_snippets_lose_their_markers)
{
	char *p = kb_snippet_plain("\x01solid\x02 red");

	ck_assert_str_eq(p, "solid red");
	free(p);
}
END_TEST

START_TEST(terminal_text_drops_escape_sequences_and_bidi_overrides)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_term_text(&b, "ok\033[2Jcleared\x07\xE2\x80\xAE" "evil\xC2\x9B", false);
	ck_assert_str_eq(b.data, "ok[2Jclearedevil");
	kb_buf_reset(&b);
	kb_term_text(&b, "line\nnext\ttab", false);
	ck_assert_str_eq(b.data, "line next tab");
	kb_buf_free(&b);
}
END_TEST

START_TEST(terminal_highlights_use_colour_only_when_asked)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_term_text(&b, "a \x01red\x02 b", true);
	ck_assert_str_eq(b.data, "a \033[1;33mred\033[0m b");
	kb_buf_reset(&b);
	kb_term_text(&b, "a \x01red\x02 b", false);
	ck_assert_str_eq(b.data, "a red b");
	kb_buf_reset(&b);
	kb_term_text(&b, "\x01unterminated", true);
	ck_assert_str_eq(b.data, "\033[1;33munterminated\033[0m");
	kb_buf_free(&b);
}
END_TEST

static Suite *
escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, html_escaping_covers_the_five_special_characters);
	tcase_add_test(
		tc, snippet_highlights_become_mark_and_the_text_stays_escaped);
	tcase_add_test(tc, plain_snippets_lose_their_markers);
	tcase_add_test(tc,
		       terminal_text_drops_escape_sequences_and_bidi_overrides);
	tcase_add_test(tc, terminal_highlights_use_colour_only_when_asked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(escape_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
