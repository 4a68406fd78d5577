/* check_util.c - text cleaning, UTF-8, slugs, buffers and lists. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct clean_case {
	const char *in;
	size_t len;
	const char *out;
};

static const struct clean_case clean_cases[] = {
	{ "plain", 5, "plain" },
	{ "\xEF\xBB\xBFwith bom", 11, "with bom" },
	{ "crlf\r\nline\rold mac", 18, "crlf\nline\nold mac" },
	{ "nul\0byte", 8, "nulbyte" },
	{ "caf\xE9 latin-1", 12, "caf\xC3\xA9 latin-1" },
	{ "\x93quoted\x94 \x92", 10, "\"quoted\" '" },
	{ "\xFF\xFEh\0i\0", 6, "hi" },
	{ "\xFE\xFF\0h\0i", 6, "hi" },
	{ "\xFF\xFE=\xD8\x0B\xDD", 6, "\xF0\x9F\x94\x8B" },
	{ "esc\x1b[31mred", 12, "esc[31mred" },
	{ "tab\tkept\n", 9, "tab\tkept\n" },
	{ "", 0, "" },
};

START_TEST(text_is_cleaned_to_utf8_with_lf_line_ends)
{
	const struct clean_case *c = &clean_cases[_i];
	char *s = kb_text_clean(c->in, c->len);

	ck_assert_str_eq(s, c->out);
	free(s);
}
END_TEST

/*
 * Long runs of printable ASCII are copied eight bytes at a time: what
 * breaks a run is found at every offset within and across those blocks.
 */
START_TEST(a_special_byte_is_handled_at_every_offset_of_a_long_line)
{
	static const struct {
		const char *b, *out; /* b goes in at the offset; out replaces it */
	} special[] = {
		{ "\r", "\n" },	      { "\x7f", "" },	  { "\x01", "" },
		{ "\t", "\t" },	      { "\n", "\n" },	  { "\xC3\xA9", "\xC3\xA9" },
		{ "~", "~" },	      { " ", " " },	  { "\xC2\x85", "" },
	};
	static const char as[] = "aaaaaaaaaaaaaaaaaaaaaaaa";
	static const char zs[] = "zzzzzzzzzzzzzzzzzzzzzzzz";
	char in[64], want[64];
	size_t k, at, n = sizeof(as) - 1;

	for (k = 0; k < sizeof(special) / sizeof(special[0]); k++)
		for (at = 0; at <= n; at++) {
			char *s;

			snprintf(in, sizeof(in), "%.*s%s%.*s", (int)at, as,
				 special[k].b, (int)(n - at), zs);
			snprintf(want, sizeof(want), "%.*s%s%.*s", (int)at, as,
				 special[k].out, (int)(n - at), zs);
			s = kb_text_clean(in, strlen(in));
			ck_assert_msg(strcmp(s, want) == 0,
				      "special %zu at %zu: got \"%s\"", k, at,
				      s);
			free(s);
		}
}
END_TEST

START_TEST(utf8_validation_rejects_overlongs_surrogates_and_truncation)
{
	ck_assert(kb_utf8_valid("h\xC3\xA9llo", 6));
	ck_assert(kb_utf8_valid("\xF0\x9F\x94\x8B", 4));
	ck_assert(!kb_utf8_valid("\xC0\xAF", 2));
	ck_assert(!kb_utf8_valid("\xED\xA0\x80", 3));
	ck_assert(!kb_utf8_valid("\xC3", 1));
	ck_assert(!kb_utf8_valid("\xF4\x90\x80\x80", 4));
}
END_TEST

START_TEST(slugs_are_lowercase_words_joined_by_hyphens)
{
	static const char *const c[][2] = {
		{ "Replace the Battery", "replace-the-battery" },
		{ "2. Reset the Device!", "2-reset-the-device" },
		{ "Won't hold a charge", "wont-hold-a-charge" },
		{ "  --  ", "" },
		{ "Caf\xC3\xA9 & more", "caf-more" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *s = kb_slugify(c[i][0]);

		ck_assert_str_eq(s, c[i][1]);
		free(s);
	}
}
END_TEST

START_TEST(buffers_grow_and_lists_stay_unique)
{
	struct kb_buf b;
	struct kb_strv sv;
	int i;

	kb_buf_init(&b);
	for (i = 0; i < 1000; i++)
		kb_buf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	kb_buf_free(&b);
	kb_strv_init(&sv);
	ck_assert(kb_strv_add_unique(&sv, "Red"));
	ck_assert(!kb_strv_add_unique(&sv, "red"));
	ck_assert(kb_strv_add_unique(&sv, "white"));
	ck_assert_uint_eq(sv.n, 2);
	ck_assert_ptr_null(sv.v[2]);
	kb_strv_free(&sv);
}
END_TEST

START_TEST(whitespace_is_squeezed_and_hashes_are_stable)
{
	char s[] = "  a \t b\n\nc  ";
	char h1[17], h2[17];

	kb_squeeze_space(s);
	ck_assert_str_eq(s, "a b c");
	kb_hash_hex("abc", 3, h1);
	kb_hash_hex("abd", 3, h2);
	ck_assert_str_eq(h1, "78af5f94892f3950"); /* XXH3_64bits("abc") */
	ck_assert_str_ne(h1, h2);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_loop_test(tc, text_is_cleaned_to_utf8_with_lf_line_ends, 0,
			    (int)(sizeof(clean_cases) / sizeof(clean_cases[0])));
	tcase_add_test(tc, a_special_byte_is_handled_at_every_offset_of_a_long_line);
	tcase_add_test(tc,
		       utf8_validation_rejects_overlongs_surrogates_and_truncation);
	tcase_add_test(tc, slugs_are_lowercase_words_joined_by_hyphens);
	tcase_add_test(tc, buffers_grow_and_lists_stay_unique);
	tcase_add_test(tc, whitespace_is_squeezed_and_hashes_are_stable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
