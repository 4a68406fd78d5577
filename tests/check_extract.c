/* check_extract.c - LED facts (colour + pattern -> meaning) from articles. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "index.h"

#define DATA "tests/data/taxonomy/"
#define N_ELEMS(a) (sizeof(a) / sizeof(*(a)))

static struct kb_taxonomy *small;

static void
load_small(void)
{
	struct kb_error err;

	kb_error_clear(&err);
	if (kb_taxonomy_load(DATA "small.json", &small, &err) != KB_OK)
		ck_abort_msg("cannot load small.json: %s", err.msg);
}

static void
free_small(void)
{
	kb_taxonomy_free(small);
	small = NULL;
}

/*
 * Articles are put together by hand, as the article parser would leave
 * them, so these tests depend on nothing but extract and taxonomy.
 */
struct test_article {
	struct kb_article a;
	struct kb_section s[4];
};

static void
article_init(struct test_article *t, const char *const *bodies, size_t n)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->a.title = "test";
	t->a.sections = t->s;
	t->a.nsections = n;
	kb_strv_init(&t->a.fm_models);
	for (i = 0; i < n; i++) {
		t->s[i].heading = "";
		t->s[i].body = (char *)bodies[i];
		kb_strv_init(&t->s[i].models);
	}
}

static void
article_free(struct test_article *t)
{
	size_t i;

	kb_strv_free(&t->a.fm_models);
	for (i = 0; i < t->a.nsections; i++)
		kb_strv_free(&t->s[i].models);
}

/* Facts as "model|pattern/colour=meaning" joined by "; " ("-": no model). */
static char *
render_facts(const struct kb_led_facts *f)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (i = 0; i < f->n; i++)
		kb_buf_printf(&b, "%s%s|%s/%s=%s", i ? "; " : "",
			      f->v[i].model ? f->v[i].model : "-",
			      f->v[i].pattern, f->v[i].color, f->v[i].meaning);
	return kb_buf_steal(&b);
}

static char *
facts_of(const char *body)
{
	struct test_article t;
	struct kb_led_facts f = {0};
	char *r;

	article_init(&t, &body, 1);
	kb_extract_leds(small, &t.a, NULL, &f);
	r = render_facts(&f);
	kb_led_facts_free(&f);
	article_free(&t);
	return r;
}

struct extract_case {
	const char *body;
	const char *want;
};

static void
check_case(const struct extract_case *c)
{
	char *got = facts_of(c->body);

	ck_assert_msg(strcmp(got, c->want) == 0,
		      "\"%s\":\n  got  \"%s\"\n  want \"%s\"", c->body, got,
		      c->want);
	free(got);
}

static const struct extract_case fact_cases[] = {
	{"- **Blinking red** — the battery is low",
	 "-|blinking/red=battery is low"},
	{"Solid Red: it indicates that the speaker is charging",
	 "-|solid/red=charging"},
	{"a solid white light means it is fully charged",
	 "-|solid/white=fully charged"},
	{"| Solid red | Charging |", "-|solid/red=Charging"},
	{"Solid red | Charging", "-|solid/red=Charging"},
	{"blinking red - battery low", "-|blinking/red=battery low"},
	{"Blinking red = battery low", "-|blinking/red=battery low"},
	{"blinking red -> battery low", "-|blinking/red=battery low"},
	{"Blinking red – battery low.", "-|blinking/red=battery low"},
	{"When the LED flashes blue, the speaker is ready to pair",
	 "-|blinking/blue=ready to pair"},
	{"The light stays on white once the battery is full",
	 "-|solid/white=battery is full"},
	{"blinking red means low battery, solid white means full",
	 "-|blinking/red=low battery; -|solid/white=full"},
	{"Blinking red means low battery and solid white means full.",
	 "-|blinking/red=low battery; -|solid/white=full"},
	{"Solid red or solid white: charging",
	 "-|solid/red=charging; -|solid/white=charging"},
	{"Flashing red and blue means pairing mode",
	 "-|blinking/red=pairing mode; -|blinking/blue=pairing mode"},
	{"| Red | Blinking | Low battery |", "-|blinking/red=Low battery"},
	{"While charging, the LED is solid red.", "-|solid/red=charging"},
	{"The speaker is charging when the light is solid red.",
	 "-|solid/red=charging"},
	{"Once it is on charge the light should stay solid red.",
	 "-|solid/red=on charge"},
	{"A steady amber light means the battery is below 20%.",
	 "-|solid/orange=battery is below 20%"},
	{"If the light shows solid red once the cable is plugged in, power "
	 "is reaching the speaker.",
	 "-|solid/red=power is reaching the speaker"},
	{"blinking red - battery low, which means you should charge it",
	 "-|blinking/red=battery low"},
	{"The light turns white when fully charged.",
	 "-|solid/white=fully charged"},
	{"Red light: the speaker is charging (about 3 hours)",
	 "-|solid/red=charging (about 3 hours)"},
	{"The red light on the top blinks when the battery is low.",
	 "-|blinking/red=battery is low"},
	{"Is it charging? Solid red means yes. Blinking red means the "
	 "battery is low!",
	 "-|solid/red=yes; -|blinking/red=battery is low"},
	{"| Light | Meaning |\n|---|---|\n| Red | Charging |\n"
	 "| White | Full |",
	 "-|solid/red=Charging; -|solid/white=Full"},
	{"| Colour | Meaning |\n| Red | Charging |", "-|solid/red=Charging"},
	{"Steady red: charging\nsteady red: something else",
	 "-|solid/red=charging"},
};

START_TEST(led_statements_become_facts)
{
	check_case(&fact_cases[_i]);
}
END_TEST

static const struct extract_case no_fact_cases[] = {
	{"Red and white cables are included", ""},
	{"Use a red toothbrush", ""},
	{"the light is blinking", ""},
	{"The light on the top blinks when the battery is low", ""},
	{"What does a blinking red light mean?", ""},
	{"What the blinking red light means", ""},
	{"Solid red - blinking blue", ""},
	{"Solid red: solid", ""},
	{"Solid red: the light", ""},
	{"blinking red", ""},
	{"hold the Bluetooth button for 10 seconds, until the light turns "
	 "blue",
	 ""},
	{"Press the button when the light is blinking blue", ""},
	{"Plug in the red cable.", ""},
	{"Turn on the speaker and the red light will come on.", ""},
	{"| Colour | Cable |\n| Red | USB |", ""},
	{"", ""},
	{"\n\n\n", ""},
};

START_TEST(text_that_is_not_about_lights_gives_no_fact)
{
	check_case(&no_fact_cases[_i]);
}
END_TEST

/*
 * The indexer tags a section before it looks for LED facts, and tagging
 * notes when no word of the section starts a colour's name: extraction
 * then skips the section.  It must find what it finds without the note.
 */
static void
check_tagged(const char *body, int want_colour)
{
	struct test_article t;
	struct kb_section_words w;
	struct kb_strv models, symptoms;
	struct kb_led_facts f = {0};
	char *tagged, *plain = facts_of(body);

	article_init(&t, &body, 1);
	kb_strv_init(&t.s[0].symptoms);
	kb_strv_init(&models);
	kb_strv_init(&symptoms);
	kb_section_words_make(&t.s[0], &w);
	kb_tag_article_words(small, &t.a, &w, &models, &symptoms);
	kb_section_words_free(&w);
	if (want_colour != KB_COLOUR_UNKNOWN)
		ck_assert_int_eq(t.s[0].colour, want_colour);
	ck_assert_int_ne(t.s[0].colour, KB_COLOUR_UNKNOWN);
	kb_extract_leds(small, &t.a, NULL, &f);
	tagged = render_facts(&f);
	ck_assert_msg(strcmp(tagged, plain) == 0,
		      "\"%s\": tagged \"%s\", untagged \"%s\"", body,
		      tagged, plain);
	free(tagged);
	free(plain);
	kb_led_facts_free(&f);
	kb_strv_free(&models);
	kb_strv_free(&symptoms);
	kb_strv_free(&t.s[0].symptoms);
	article_free(&t);
}

START_TEST(tagging_skips_only_sections_without_a_colour)
{
	size_t i;

	for (i = 0; i < N_ELEMS(fact_cases); i++)
		check_tagged(fact_cases[i].body, KB_COLOUR_MAYBE);
	for (i = 0; i < N_ELEMS(no_fact_cases); i++)
		check_tagged(no_fact_cases[i].body, KB_COLOUR_UNKNOWN);
	check_tagged("Hold the button for ten seconds.", KB_COLOUR_NONE);
	check_tagged("A steady AMBER glow", KB_COLOUR_MAYBE);
	check_tagged("the light is blinking", KB_COLOUR_NONE);
}
END_TEST

START_TEST(long_meanings_are_cut_on_a_word_under_eighty_bytes)
{
	char *got = facts_of(
		"Blinking red: the battery is very low and the speaker will "
		"switch itself off within a few minutes unless you plug it "
		"in straight away");
	const char *meaning = strchr(got, '=');

	ck_assert_ptr_nonnull(meaning);
	meaning++;
	ck_assert_uint_le(strlen(meaning), 80);
	ck_assert_str_eq(meaning, "battery is very low and the speaker will "
				  "switch itself off within a few minutes");
	free(got);
	got = facts_of("Solid white: fully charged and ready to go with a good "
		       "cable and a 5 W or 10 W adapter (or a computer's USB "
		       "port)");
	ck_assert_str_eq(got, "-|solid/white=fully charged and ready to go "
			      "with a good cable and a 5 W or 10 W adapter");
	free(got);
}
END_TEST

static const struct {
	const char *body;
	const char *section_model; /* NULL: none */
	const char *article_model; /* NULL: none */
	const char *want;
} model_cases[] = {
	{"Flip 5: blinking red means low battery", "Anker Soundcore 2",
	 "Generic Speaker", "JBL Flip 5|blinking/red=low battery"},
	{"Blinking red on the Flip 5 means low battery", NULL, NULL,
	 "JBL Flip 5|blinking/red=low battery"},
	{"blinking red means low battery", "Anker Soundcore 2",
	 "Generic Speaker", "Anker Soundcore 2|blinking/red=low battery"},
	{"blinking red means low battery", NULL, "Generic Speaker",
	 "Generic Speaker|blinking/red=low battery"},
	{"blinking red means low battery", NULL, NULL,
	 "-|blinking/red=low battery"},
	{"On the Flip 5 blinking red means low battery; on the Soundcore 2 "
	 "blinking red means an update",
	 NULL, NULL,
	 "JBL Flip 5|blinking/red=low battery; "
	 "Anker Soundcore 2|blinking/red=update"},
	{"Blinking red means low battery. See the Flip 5 manual.",
	 "Anker Soundcore 2", NULL,
	 "Anker Soundcore 2|blinking/red=low battery"},
};

START_TEST(the_model_named_nearby_wins_then_the_sections_then_the_articles)
{
	struct test_article t;
	struct kb_strv amodels;
	struct kb_led_facts f = {0};
	const char *body = model_cases[_i].body;
	char *got;

	article_init(&t, &body, 1);
	kb_strv_init(&amodels);
	if (model_cases[_i].section_model != NULL)
		kb_strv_push(&t.s[0].models, model_cases[_i].section_model);
	if (model_cases[_i].article_model != NULL)
		kb_strv_push(&amodels, model_cases[_i].article_model);
	kb_extract_leds(small, &t.a, &amodels, &f);
	got = render_facts(&f);
	ck_assert_msg(strcmp(got, model_cases[_i].want) == 0,
		      "\"%s\":\n  got  \"%s\"\n  want \"%s\"", body, got,
		      model_cases[_i].want);
	free(got);
	kb_led_facts_free(&f);
	kb_strv_free(&amodels);
	article_free(&t);
}
END_TEST

START_TEST(several_models_leave_a_fact_generic)
{
	struct test_article t;
	struct kb_led_facts f = {0};
	const char *body = "solid red means charging";

	article_init(&t, &body, 1);
	kb_strv_push(&t.s[0].models, "JBL Flip 5");
	kb_strv_push(&t.s[0].models, "Anker Soundcore 2");
	kb_strv_push(&t.a.fm_models, "JBL Flip 5");
	kb_strv_push(&t.a.fm_models, "Anker Soundcore 2");
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_ptr_null(f.v[0].model);
	kb_led_facts_free(&f);
	article_free(&t);
}
END_TEST

START_TEST(front_matter_models_are_used_when_no_list_is_given)
{
	struct test_article t;
	struct kb_led_facts f = {0};
	const char *body = "solid red means charging";

	article_init(&t, &body, 1);
	kb_strv_push(&t.a.fm_models, "JBL Flip 5");
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].model, "JBL Flip 5");
	kb_led_facts_free(&f);
	article_free(&t);
}
END_TEST

START_TEST(facts_name_their_section_and_duplicates_keep_the_first)
{
	static const char *const bodies[] = {
		"Nothing about lights here.",
		"Solid red means charging.\nBlinking red means low battery.",
		"Solid red means something else entirely.",
	};
	struct test_article t;
	struct kb_led_facts f = {0};

	article_init(&t, bodies, 3);
	t.s[2].heading = "Solid white light: fully charged";
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_str_eq(f.v[0].meaning, "charging");
	ck_assert_uint_eq(f.v[0].section, 1);
	ck_assert_str_eq(f.v[1].meaning, "low battery");
	ck_assert_uint_eq(f.v[1].section, 1);
	ck_assert_str_eq(f.v[2].color, "white");
	ck_assert_str_eq(f.v[2].meaning, "fully charged");
	ck_assert_uint_eq(f.v[2].section, 2);
	kb_led_facts_free(&f);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_ptr_null(f.v);
	kb_led_facts_free(NULL);
	article_free(&t);
}
END_TEST

START_TEST(facts_are_appended_to_what_the_caller_has)
{
	struct test_article t;
	struct kb_led_facts f = {0};
	const char *body = "solid red means charging";

	article_init(&t, &body, 1);
	kb_extract_leds(small, &t.a, NULL, &f);
	t.s[0].body = "blinking red means low battery";
	kb_extract_leds(small, &t.a, NULL, &f);
	t.s[0].body = "solid red means something new";
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 2);
	kb_led_facts_free(&f);
	article_free(&t);
}
END_TEST

START_TEST(missing_pieces_give_no_facts_and_no_crash)
{
	struct test_article t;
	struct kb_led_facts f = {0};
	struct kb_taxonomy *empty = kb_taxonomy_new_empty();
	const char *body = "solid red means charging";

	article_init(&t, &body, 1);
	t.s[0].heading = NULL;
	kb_extract_leds(NULL, &t.a, NULL, &f);
	kb_extract_leds(small, NULL, NULL, &f);
	kb_extract_leds(small, &t.a, NULL, NULL);
	kb_extract_leds(empty, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 0);
	t.s[0].body = NULL;
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_uint_eq(f.n, 0);
	kb_taxonomy_free(empty);
	article_free(&t);
}
END_TEST

START_TEST(arbitrary_text_never_crashes_extraction)
{
	static const char *const pieces[] = {
		"red",	 "white",	 "blinking", " ",     "light",
		"means", ":",		 "-",	     "|",     "\n",
		". ",	 "\xE2\x80\x94", "\xFF",     "when",  ",",
		"on",	 "the",		 "stays on", "Flip 5", "charging",
		"\xC3",	 "*",		 "?",	     "once",  "is",
	};
	unsigned int seed = 4242;
	char text[700];
	struct test_article t;
	struct kb_led_facts f = {0};
	const char *body = text;
	size_t len, i;
	int round;

	for (round = 0; round < 3000; round++) {
		len = 0;
		while (len < sizeof(text) - 16) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 41 == 0)
				break;
			i = (seed >> 8) % N_ELEMS(pieces);
			memcpy(text + len, pieces[i], strlen(pieces[i]));
			len += strlen(pieces[i]);
		}
		text[len] = '\0';
		article_init(&t, &body, 1);
		kb_extract_leds(small, &t.a, NULL, &f);
		for (i = 0; i < f.n; i++) {
			ck_assert_uint_gt(strlen(f.v[i].meaning), 0);
			ck_assert_uint_le(strlen(f.v[i].meaning), 80);
		}
		kb_led_facts_free(&f);
		article_free(&t);
	}
}
END_TEST

START_TEST(a_huge_section_is_read_in_bounded_time)
{
	struct kb_buf b;
	struct test_article t;
	struct kb_led_facts f = {0};
	const char *body;
	double t0;
	size_t i;

	kb_buf_init(&b);
	/* One enormous line, then many short ones. */
	for (i = 0; i < 20000; i++)
		kb_buf_adds(&b, "red blinking white steady light ");
	kb_buf_addc(&b, '\n');
	for (i = 0; i < 20000; i++)
		kb_buf_adds(&b, "Blinking red means low battery.\n");
	body = b.data;
	article_init(&t, &body, 1);
	t0 = kb_now();
	kb_extract_leds(small, &t.a, NULL, &f);
	ck_assert_msg(kb_now() - t0 < 20.0, "took %.2fs", kb_now() - t0);
	ck_assert_uint_ge(f.n, 1);
	kb_led_facts_free(&f);
	article_free(&t);
	kb_buf_free(&b);
}
END_TEST

static Suite *
extract_suite(void)
{
	Suite *s = suite_create("extract");
	TCase *tc = tcase_create("leds");

	tcase_add_checked_fixture(tc, load_small, free_small);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, led_statements_become_facts, 0,
			    N_ELEMS(fact_cases));
	tcase_add_loop_test(tc, text_that_is_not_about_lights_gives_no_fact,
			    0, N_ELEMS(no_fact_cases));
	tcase_add_test(tc, tagging_skips_only_sections_without_a_colour);
	tcase_add_test(tc, long_meanings_are_cut_on_a_word_under_eighty_bytes);
	tcase_add_loop_test(
		tc,
		the_model_named_nearby_wins_then_the_sections_then_the_articles,
		0, N_ELEMS(model_cases));
	tcase_add_test(tc, several_models_leave_a_fact_generic);
	tcase_add_test(tc, front_matter_models_are_used_when_no_list_is_given);
	tcase_add_test(tc,
		       facts_name_their_section_and_duplicates_keep_the_first);
	tcase_add_test(tc, facts_are_appended_to_what_the_caller_has);
	tcase_add_test(tc, missing_pieces_give_no_facts_and_no_crash);
	tcase_add_test(tc, arbitrary_text_never_crashes_extraction);
	tcase_add_test(tc, a_huge_section_is_read_in_bounded_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(extract_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
