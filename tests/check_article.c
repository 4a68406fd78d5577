/* check_article.c - parsing Markdown, plain text and HTML into articles. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "article.h"
#include "error.h"
#include "util.h"

#define DATA	 "tests/data/parse/"
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Every article the parser hands out keeps these promises. */
static void
check_invariants(const struct kb_article *a)
{
	size_t i, j;

	ck_assert_ptr_nonnull(a->title);
	ck_assert(a->title[0] != '\0');
	ck_assert(a->nsections > 0);
	for (i = 0; i < a->nsections; i++) {
		const struct kb_section *s = &a->sections[i];

		ck_assert_ptr_nonnull(s->heading);
		ck_assert_ptr_nonnull(s->body);
		ck_assert_ptr_nonnull(s->anchor);
		ck_assert(s->anchor[0] != '\0');
		ck_assert(s->line >= 0);
		ck_assert_uint_eq(s->models.n, 0);
		ck_assert_uint_eq(s->symptoms.n, 0);
		/* Only the lead-in has no heading, and it always has text. */
		if (s->heading[0] == '\0') {
			ck_assert_uint_eq(i, 0);
			ck_assert_str_eq(s->anchor, "intro");
			ck_assert(s->body[0] != '\0');
		}
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s->anchor, a->sections[j].anchor);
	}
}

static struct kb_article *
parse_ok(enum kb_format f, const char *name, const char *s, size_t len)
{
	struct kb_article *a = NULL;
	struct kb_error err;
	int rc;

	kb_error_clear(&err);
	rc = kb_article_parse(f, name, s, len, &a, &err);
	ck_assert_msg(rc == KB_OK, "%s: %s", name, err.msg);
	check_invariants(a);
	return a;
}

static struct kb_article *
parse_str(enum kb_format f, const char *name, const char *s)
{
	return parse_ok(f, name, s, strlen(s));
}

static struct kb_article *
parse_file(const char *path)
{
	struct kb_article *a;
	struct kb_error err;
	char *data;
	size_t len;

	ck_assert_msg(kb_read_file(path, 1 << 20, &data, &len, &err) == KB_OK,
		      "%s", err.msg);
	a = parse_ok(kb_article_format_of(path), path, data, len);
	free(data);
	return a;
}

/* Parse s, expecting failure; returns the status and fills err. */
static int
parse_fail(enum kb_format f, const char *name, const char *s, size_t len,
	   struct kb_error *err)
{
	struct kb_article *a = (struct kb_article *)1;
	int rc;

	kb_error_clear(err);
	rc = kb_article_parse(f, name, s, len, &a, err);
	ck_assert_int_ne(rc, KB_OK);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(err->status, rc);
	ck_assert(err->msg[0] != '\0');
	return rc;
}

static const struct kb_section *
find_section(const struct kb_article *a, const char *heading)
{
	size_t i;

	for (i = 0; i < a->nsections; i++)
		if (strcmp(a->sections[i].heading, heading) == 0)
			return &a->sections[i];
	ck_abort_msg("no section \"%s\" in \"%s\"", heading, a->title);
	return NULL;
}

/* The headings of a, joined by "|", for one comparison per article. */
static char *
headings(const struct kb_article *a)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	for (i = 0; i < a->nsections; i++)
		kb_buf_printf(&b, "%s%s", i ? "|" : "", a->sections[i].heading);
	return kb_buf_steal(&b);
}

static void
assert_headings(const struct kb_article *a, const char *want)
{
	char *got = headings(a);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
assert_list(const struct kb_strv *sv, const char *want)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	for (i = 0; i < sv->n; i++)
		kb_buf_printf(&b, "%s%s", i ? "|" : "", sv->v[i]);
	ck_assert_str_eq(b.data != NULL ? b.data : "", want);
	kb_buf_free(&b);
}

/* ---- formats --------------------------------------------------------- */

static const struct {
	const char *path;
	enum kb_format format;
} format_cases[] = {
    {"kb/articles/x.md", KB_FORMAT_MARKDOWN},
    {"x.markdown", KB_FORMAT_MARKDOWN},
    {"Saved Page.TXT", KB_FORMAT_TEXT},
    {"dir.v2/page.html", KB_FORMAT_HTML},
    {"page.HTM", KB_FORMAT_HTML},
    {"notes.pdf", KB_FORMAT_UNKNOWN},
    {"dir.md/README", KB_FORMAT_UNKNOWN},
    {".md", KB_FORMAT_UNKNOWN},
    {"", KB_FORMAT_UNKNOWN},
};

START_TEST(format_comes_from_the_extension_in_any_case)
{
	ck_assert_int_eq(kb_article_format_of(format_cases[_i].path),
			 format_cases[_i].format);
}
END_TEST

/* ---- Markdown -------------------------------------------------------- */

START_TEST(markdown_front_matter_gives_title_models_and_symptoms)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-battery.md");

	ck_assert_int_eq(a->format, KB_FORMAT_MARKDOWN);
	ck_assert_str_eq(a->title, "Anker Soundcore 2 won't hold a charge");
	assert_list(&a->fm_models, "Anker Soundcore 2");
	assert_list(&a->fm_symptoms, "wont-hold-charge|wont-fully-charge");
	assert_list(&a->fm_tags, "battery|charging");
	ck_assert_str_eq(a->summary,
			 "Why the battery runs down and when to replace it.");
	ck_assert_ptr_nonnull(a->markdown);
	ck_assert(strncmp(a->markdown, "# Soundcore 2 battery\n", 22) == 0);
	/* The H1 differs from the front matter title, so it is a section. */
	assert_headings(a, "Soundcore 2 battery|What the light means|"
			   "Replace the battery|Unplug when full");
	kb_article_free(a);
}
END_TEST

/* Each way of writing a list in front matter, and what it yields. */
static const struct {
	const char *yaml;
	const char *models;
	const char *tags;
} fm_list_cases[] = {
    {"models: [Anker Soundcore 2, JBL Flip 5]\n",
     "Anker Soundcore 2|JBL Flip 5", ""},
    {"models:\n  - Anker Soundcore 2\n  - JBL Flip 5\n",
     "Anker Soundcore 2|JBL Flip 5", ""},
    {"models: Anker Soundcore 2\n", "Anker Soundcore 2", ""},
    {"models: Anker Soundcore 2, JBL Flip 5 ,\n",
     "Anker Soundcore 2|JBL Flip 5", ""},
    {"models: \"Anker Soundcore 2\"\ntags: [a, A, b]\n", "Anker Soundcore 2",
     "a|b"},
    {"models: ~\ntags:\n", "", ""},
    {"Models: [X]\nunknown: {nested: [1, 2]}\ntags: 'c, d'\n", "X", "c|d"},
    {"", "", ""},
};

START_TEST(markdown_front_matter_accepts_lists_scalars_and_comma_strings)
{
	struct kb_buf b;
	struct kb_article *a;

	kb_buf_init(&b);
	kb_buf_printf(&b, "---\n%s---\nSome text.\n", fm_list_cases[_i].yaml);
	a = parse_str(KB_FORMAT_MARKDOWN, "x.md", b.data);
	assert_list(&a->fm_models, fm_list_cases[_i].models);
	assert_list(&a->fm_tags, fm_list_cases[_i].tags);
	ck_assert_str_eq(a->title, "x");
	kb_article_free(a);
	kb_buf_free(&b);
}
END_TEST

/*
 * Front matter in the plain shapes kbindex reads without libyaml, and a
 * few just outside them.  Each must read exactly as libyaml reads it:
 * the same block with a comment line added (which only libyaml takes)
 * is the reference.
 */
static const char *const fm_plain_cases[] = {
    "title: Fitbit Motion 9 won't pair\nmodels: [Fitbit Motion 9]\n"
    "symptoms: [wont-pair, wont-turn-on]\n",
    "title: null\nmodels: Null\ntags: [NULL, a, null]\n",
    "Title: A  B   C\nMODELS: [X  Y, x  y]\n",
    "models: Anker Soundcore 2\nsymptoms: []\n",
    "title: first\ntitle: second\nsummary: one\ndescription: two\n",
    "summary: It (the 2nd one) works/fails a.b+c_d\n",
    "tags: [a, A, b]\nkeywords: [B, c]\ntag: d\n",
    "model: [x]\nsymptom: [y]\nother: [a, b]\nunknown: v\n",
    "title: 12345\nmodels: [3 Pro, 10]\n",
    "models: [a,b]\n",
    "models: [a , b]\n",
    "models: [ a, b ]\n",
    "title:  two spaces\n",
    "title: trailing \n",
    "models: a, b\n",
    "title: caf\xc3\xa9\n",
    "title: 'quoted'\n",
    "title: -dash\n",
    "title: a\n\nmodels: [b]\n",
    "title: x\n  y\n",
    "symptoms: [wont-pair]\nsymptoms: [wont-charge]\n",
};

static char *
fm_fields(const struct kb_article *a)
{
	struct kb_buf b;
	const struct kb_strv *l[3] = {&a->fm_models, &a->fm_symptoms,
				      &a->fm_tags};
	size_t i, k;

	kb_buf_init(&b);
	kb_buf_printf(&b, "title=%s summary=%s", a->title,
		      a->summary ? a->summary : "(none)");
	for (k = 0; k < 3; k++) {
		kb_buf_adds(&b, k == 0 ? " models=" : k == 1 ? " symptoms="
							    : " tags=");
		for (i = 0; i < l[k]->n; i++)
			kb_buf_printf(&b, "%s%s", i ? "|" : "", l[k]->v[i]);
	}
	return kb_buf_steal(&b);
}

START_TEST(plain_front_matter_reads_as_libyaml_reads_it)
{
	struct kb_buf b;
	struct kb_article *a;
	char *fast, *ref;

	kb_buf_init(&b);
	kb_buf_printf(&b, "---\n%s---\nSome text.\n", fm_plain_cases[_i]);
	a = parse_str(KB_FORMAT_MARKDOWN, "x.md", b.data);
	fast = fm_fields(a);
	kb_article_free(a);
	kb_buf_reset(&b);
	kb_buf_printf(&b, "---\n%s# read by libyaml\n---\nSome text.\n",
		      fm_plain_cases[_i]);
	a = parse_str(KB_FORMAT_MARKDOWN, "x.md", b.data);
	ref = fm_fields(a);
	kb_article_free(a);
	ck_assert_str_eq(fast, ref);
	free(fast);
	free(ref);
	kb_buf_free(&b);
}
END_TEST

/* Broken front matter, and the file line the error must name. */
static const struct {
	const char *text;
	int line;
	const char *says;
} fm_error_cases[] = {
    {"---\ntitle: ok\nmodels: [a, b\n---\n## A\nx\n", 4,
     "did not find expected ',' or ']'"},
    {"---\ntitle: ok\n  bad: indent\n---\nx\n", 3,
     "mapping values are not allowed"},
    {"---\ntitle: \"open\n---\nx\n", 3, "front matter"},
    {"---\n- just\n- a list\n---\nx\n", 2, "expected 'key: value'"},
    {"---\ntitle: no end\n\n## A\ntext\n", 1, "no closing '---'"},
    {"---\n", 1, "no closing '---'"},
    {"---\ntitle: x\ndeep: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "]\n---\nx\n",
     3, "nested more than"},
};

START_TEST(markdown_broken_front_matter_names_the_line)
{
	struct kb_error err;
	const char *t = fm_error_cases[_i].text;

	ck_assert_int_eq(
	    parse_fail(KB_FORMAT_MARKDOWN, "kb/a.md", t, strlen(t), &err),
	    KB_ERR_PARSE);
	ck_assert_int_eq(err.line, fm_error_cases[_i].line);
	ck_assert_msg(strstr(err.msg, fm_error_cases[_i].says) != NULL, "%s",
		      err.msg);
	ck_assert_msg(strncmp(err.msg, "kb/a.md: front matter: ", 23) == 0,
		      "%s", err.msg);
}
END_TEST

START_TEST(markdown_h2_headings_start_sections_with_unique_anchors)
{
	struct kb_article *a = parse_str(KB_FORMAT_MARKDOWN, "a.md",
					 "---\ntitle: T\n---\n"
					 "Lead-in text.\n\n"
					 "## Clean the port\n\nOne.\n\n"
					 "## Clean the port\n\nTwo.\n\n"
					 "## Clean the Port!\n\nThree.\n\n"
					 "## Intro\n\nFour.\n\n"
					 "## Зарядка\n\nFive.\n");

	assert_headings(a, "|Clean the port|Clean the port|Clean the Port!|"
			   "Intro|Зарядка");
	ck_assert_str_eq(a->sections[0].anchor, "intro");
	ck_assert_str_eq(a->sections[0].body, "Lead-in text.");
	ck_assert_int_eq(a->sections[0].line, 0);
	ck_assert_str_eq(a->sections[1].anchor, "clean-the-port");
	ck_assert_str_eq(a->sections[2].anchor, "clean-the-port-2");
	ck_assert_str_eq(a->sections[3].anchor, "clean-the-port-3");
	ck_assert_str_eq(a->sections[4].anchor, "intro-2");
	ck_assert_str_eq(a->sections[5].anchor, "section");
	/* Section lines are file lines: the front matter takes three. */
	ck_assert_int_eq(a->sections[1].line, 6);
	ck_assert_int_eq(a->sections[2].line, 10);
	ck_assert_str_eq(a->sections[3].body, "Three.");
	kb_article_free(a);
}
END_TEST

START_TEST(markdown_bodiless_heading_is_kept_unless_repeated)
{
	struct kb_article *a = parse_str(KB_FORMAT_MARKDOWN, "a.md",
					 "## Empty\n\n## Twice\n## Twice\n\n"
					 "Body.\n\n## Last\n");

	assert_headings(a, "Empty|Twice|Last");
	ck_assert_str_eq(find_section(a, "Empty")->body, "");
	ck_assert_str_eq(find_section(a, "Twice")->body, "Body.");
	ck_assert_str_eq(find_section(a, "Last")->body, "");
	kb_article_free(a);
}
END_TEST

/* Which headings open sections, and where the title comes from. */
static const struct {
	const char *name;
	const char *text;
	const char *title;
	const char *headings;
} md_title_cases[] = {
    {"a.md", "# Big Title\n\nIntro.\n\n## One\n\nx\n", "Big Title", "|One"},
    {"a.md", "# Title\n\nIntro.\n\n# Part A\n\nx\n\n# Part B\n\ny\n", "Title",
     "|Part A|Part B"},
    {"dir/no-title.md", "Just text.\n\n### Small\n\nx\n", "no-title", "|Small"},
    {"a.md", "---\ntitle: Front\n---\n# Front\n\nIntro.\n\n## One\n\nx\n",
     "Front", "|One"},
    {"a.md", "Intro.\n\n## A *b* `c`\n\nx\n\n### Deeper\n\ny\n", "a", "|A b c"},
    {"a.md", "# **Bold** [link](http://x) title\n\nx\n", "Bold link title", ""},
    {"a.markdown", "Setext Title\n============\n\ntext\n\nPart\n----\n\nx\n",
     "Setext Title", "|Part"},
};

START_TEST(markdown_title_comes_from_front_matter_then_h1_then_file_name)
{
	struct kb_article *a =
	    parse_str(KB_FORMAT_MARKDOWN, md_title_cases[_i].name,
		      md_title_cases[_i].text);
	char *h = headings(a);

	ck_assert_str_eq(a->title, md_title_cases[_i].title);
	ck_assert_str_eq(h, md_title_cases[_i].headings);
	free(h);
	kb_article_free(a);
}
END_TEST

/* Decoding can bring back what kb_text_clean removed: it is spaced out. */
START_TEST(markdown_escapes_and_entities_never_put_controls_in_text)
{
	static const char text[] =
	    "---\ntitle: \"Flip 5\\fLED\\0 \\x01meanings\"\n"
	    "summary: \"a\\tb\\x1bc\"\nmodels: [\"JBL\\x02 Flip 5\"]\n---\n"
	    "## Reset&#1;the speaker\n\nHold&#x1B;it.\n";
	struct kb_article *a = parse_str(KB_FORMAT_MARKDOWN, "a\001b.md", text);
	const char *p;

	ck_assert_str_eq(a->title, "Flip 5 LED meanings");
	ck_assert_str_eq(a->summary, "a b c");
	ck_assert_str_eq(a->fm_models.v[0], "JBL Flip 5");
	ck_assert_str_eq(a->sections[0].heading, "Reset the speaker");
	for (p = a->sections[0].body; *p; p++)
		ck_assert_msg((unsigned char)*p >= ' ', "control 0x%02x", *p);
	ck_assert_ptr_nonnull(strstr(a->sections[0].body, "Hold"));
	kb_article_free(a);
}
END_TEST

START_TEST(markdown_level_three_headings_stay_inside_the_section)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-battery.md");
	const struct kb_section *s = find_section(a, "Replace the battery");

	ck_assert_str_eq(s->body,
			 "Replacing the battery is routine for a speaker more "
			 "than about five years\nold. See the battery guide "
			 "for the steps:\n\n"
			 "1. Remove the rubber feet.\n"
			 "2. Undo the screws under them.\n"
			 "  - Keep the screws in a cup.\n"
			 "3. Lift the battery out.\n\n"
			 "Before you start\n\n"
			 "Unplug the speaker and switch it off. Use isopropyl "
			 "alcohol only on the port.\n\n"
			 "Battery: 2600 mAh");
	ck_assert_int_eq(s->line, 24);
	kb_article_free(a);
}
END_TEST

/* Markdown bodies and the plain text each renders to. */
static const struct {
	const char *md;
	const char *body;
} md_body_cases[] = {
    /* bullets, one per line, wrapped items joined */
    {"- one\n- two\n  continued\n- three\n", "- one\n- two continued\n- three"},
    /* ordered lists keep their numbers, nested lists indent */
    {"3. a\n4. b\n   - c\n     1. d\n", "3. a\n4. b\n  - c\n    1. d"},
    /* a list between paragraphs */
    {"Before:\n\n- x\n- y\n\nAfter.\n", "Before:\n\n- x\n- y\n\nAfter."},
    /* pipe tables become rows of cells */
    {"| Light | Meaning |\n|---|:---:|\n| Solid red | Charging |\n"
     "| Solid white | Full |\n",
     "Light | Meaning\nSolid red | Charging\nSolid white | Full"},
    /* soft breaks stay line breaks outside lists */
    {"line one\nline two\n", "line one\nline two"},
    /* raw HTML blocks and inline tags are dropped, text kept */
    {"<div class=\"ad\">\nBuy now!\n</div>\n\nText with <b>bold</b> "
     "and <!-- hidden --> a comment.\n",
     "Text with bold and a comment."},
    {"<script>alert(1)</script>\n\nok\n", "ok"},
    /* inline markup removed */
    {"**Strong**, *em*, `code`, [link](http://x \"t\") and "
     "![alt text](i.png).\n",
     "Strong, em, code, link and alt text."},
    /* code blocks kept as text */
    {"Run:\n\n```sh\nmake check\nmake run\n```\n\n    indented\n",
     "Run:\n\nmake check\nmake run\n\nindented"},
    /* block quotes and thematic breaks */
    {"> quoted\n> text\n\n---\n\nafter\n", "quoted\ntext\n\nafter"},
    /* entities decoded */
    {"Tom &amp; Jerry &copy;\n", "Tom & Jerry \xC2\xA9"},
};

START_TEST(markdown_body_is_plain_text_with_lists_and_rows_on_lines)
{
	struct kb_article *a =
	    parse_str(KB_FORMAT_MARKDOWN, "a.md", md_body_cases[_i].md);

	ck_assert_uint_eq(a->nsections, 1);
	ck_assert_str_eq(a->sections[0].body, md_body_cases[_i].body);
	kb_article_free(a);
}
END_TEST

START_TEST(markdown_sample_table_and_html_render_as_expected)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-battery.md");

	ck_assert_str_eq(find_section(a, "What the light means")->body,
			 "Light | Meaning\nBlinking red | Battery low\n"
			 "Solid red | Charging\nSolid white | Fully charged");
	ck_assert_str_eq(find_section(a, "Soundcore 2 battery")->body,
			 "Batteries lose capacity with age. That is normal "
			 "and not a fault.");
	ck_assert(strstr(a->markdown, "Sponsored") != NULL);
	kb_article_free(a);
}
END_TEST

/* ---- plain text ------------------------------------------------------ */

START_TEST(text_saved_page_gives_title_and_recovered_headings)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-wont-charge.txt");

	ck_assert_int_eq(a->format, KB_FORMAT_TEXT);
	ck_assert_ptr_null(a->markdown);
	ck_assert_str_eq(a->title,
			 "Anker Soundcore 2 Won't Charge? Try These Fixes");
	/* Numbered and "Step 3:" headings, "1." repeated once, a question. */
	assert_headings(a, "|What the light means|1. Try Another Cable|"
			   "2. Check the Power Source|Step 3: Clean the port|"
			   "Why won't it hold a charge?");
	ck_assert_int_eq(find_section(a, "1. Try Another Cable")->line, 18);
	ck_assert_int_eq(find_section(a, "Step 3: Clean the port")->line, 36);
	ck_assert_str_eq(a->sections[0].anchor, "intro");
	ck_assert_str_eq(a->sections[2].anchor, "1-try-another-cable");
	kb_article_free(a);
}
END_TEST

START_TEST(text_wrapped_lines_join_and_paragraphs_stay_apart)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-wont-charge.txt");

	ck_assert_str_eq(a->sections[0].body,
			 "Your Soundcore 2 plays fine on the cable but the "
			 "battery never seems to fill up, or the light does "
			 "not come on at all when you plug it in. Most of the "
			 "time the cause is simple and the fix takes a few "
			 "minutes.\n\n"
			 "Work through the steps below in order. Each one "
			 "rules out a cause.");
	kb_article_free(a);
}
END_TEST

START_TEST(text_wrap_width_tells_wrapped_lines_from_deliberate_breaks)
{
	/*
	 * Wrapped at 72 columns, continuation lines starting with capitals;
	 * then short lines the writer broke on purpose.
	 */
	struct kb_article *a = parse_str(
	    KB_FORMAT_TEXT, "t.txt",
	    "Title\n\n"
	    "If the speaker still does not charge after you tried another "
	    "cable,\n"
	    "Anker support can check it under warranty. Before you contact "
	    "them,\n"
	    "Bluetooth pairing problems are worth a note, since a reset "
	    "may fix them.\n\n"
	    "Solid red means charging\n"
	    "Solid white means full\n");

	ck_assert_uint_eq(a->nsections, 1);
	ck_assert_str_eq(a->sections[0].body,
			 "If the speaker still does not charge after you tried "
			 "another cable, Anker support can check it under "
			 "warranty. Before you contact them, Bluetooth pairing "
			 "problems are worth a note, since a reset may fix "
			 "them.\n\n"
			 "Solid red means charging\nSolid white means full");
	kb_article_free(a);
}
END_TEST

START_TEST(text_led_lines_and_bullets_are_kept_one_per_line)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-wont-charge.txt");

	/* "Solid red: charging" is body, never a heading. */
	ck_assert_str_eq(find_section(a, "What the light means")->body,
			 "The LED on top of the speaker tells you what the "
			 "battery is doing:\n"
			 "- Blinking red: battery low\n"
			 "- Solid red: charging\n"
			 "- Solid white: fully charged\n\n"
			 "If the light stays off when the cable is plugged "
			 "in, start with the cable.");
	ck_assert_str_eq(find_section(a, "Step 3: Clean the port")->body,
			 "Switch the speaker off first. Dust and lint in the "
			 "port can stop the plug from seating.\n"
			 "- Lift dust out with a toothpick.\n"
			 "- Brush the port with a toothbrush dipped in "
			 "isopropyl alcohol.\n"
			 "- Be gentle: the pins are delicate.");
	ck_assert(strstr(find_section(a, "1. Try Another Cable")->body,
			 "\n\n- Use a micro-USB cable, not USB-C.\n- Avoid") !=
		  NULL);
	kb_article_free(a);
}
END_TEST

/*
 * Lines that look a little like headings but are not, each given after a
 * blank line and followed by text, the way a heading would be.
 */
static const char *const not_heading_cases[] = {
    "Solid red: charging",
    "Blinking white: pairing mode",
    "This ends like a sentence.",
    "Is the cable damaged, frayed or bent or just very old and worn out "
    "now?",
    "see https://example.com/help",
    "www.example.com",
    "and then it stops",
    "- Bullet item here",
    "• Bullet item here",
    "This line is far too long to be a heading because it goes on and on "
    "about many things",
    "One two three four five six seven eight nine ten eleven twelve",
    "12345",
};

START_TEST(text_label_and_sentence_lines_are_not_headings)
{
	struct kb_buf b;
	struct kb_article *a;

	kb_buf_init(&b);
	kb_buf_printf(&b,
		      "Title\n\nIntro text here.\n\n%s\n\n"
		      "Body text that follows the line.\n",
		      not_heading_cases[_i]);
	a = parse_str(KB_FORMAT_TEXT, "t.txt", b.data);
	ck_assert_msg(a->nsections == 1, "\"%s\" became a heading",
		      not_heading_cases[_i]);
	ck_assert_str_eq(a->sections[0].heading, "");
	kb_article_free(a);
	kb_buf_free(&b);
}
END_TEST

/* Lines that are headings in the same place. */
static const char *const heading_cases[] = {
    "Check the Cable",
    "2. Reset the Device",
    "10) Replace the battery",
    "Step 3: Clean the port",
    "Method 2 - Charge from a computer",
    "Why won't it charge?",
    "iPhone pairing problems",
    "Charging port (micro-USB)",
};

START_TEST(text_short_title_like_lines_are_headings)
{
	struct kb_buf b;
	struct kb_article *a;

	kb_buf_init(&b);
	kb_buf_printf(&b,
		      "Title\n\nIntro text here.\n\n%s\n\n"
		      "Body text that follows the line.\n",
		      heading_cases[_i]);
	a = parse_str(KB_FORMAT_TEXT, "t.txt", b.data);
	ck_assert_uint_eq(a->nsections, 2);
	ck_assert_str_eq(a->sections[1].heading, heading_cases[_i]);
	ck_assert_int_eq(a->sections[1].line, 5);
	ck_assert_str_eq(a->sections[1].body,
			 "Body text that follows the line.");
	kb_article_free(a);
	kb_buf_free(&b);
}
END_TEST

START_TEST(text_repeated_heading_counts_once)
{
	struct kb_article *a =
	    parse_str(KB_FORMAT_TEXT, "t.txt",
		      "Page Title\nPage Title\n\n"
		      "Intro paragraph.\n\n"
		      "Clean the port\nClean the port\n"
		      "Use a toothpick.\n\n"
		      "Try another cable\n\nTry another cable\n\n"
		      "Use a good cable.\n");

	ck_assert_str_eq(a->title, "Page Title");
	assert_headings(a, "|Clean the port|Try another cable");
	ck_assert_str_eq(a->sections[0].body, "Intro paragraph.");
	ck_assert_str_eq(a->sections[1].body, "Use a toothpick.");
	ck_assert_str_eq(a->sections[2].body, "Use a good cable.");
	kb_article_free(a);
}
END_TEST

START_TEST(text_runs_of_short_lines_are_a_list_not_headings)
{
	struct kb_article *a = parse_str(
	    KB_FORMAT_TEXT, "t.txt",
	    "Title\n\nLight meanings\nSolid red\nCharging\n"
	    "Solid white\nFully charged\n\n"
	    "What you need:\n\nA toothpick\nA dry toothbrush\n\n"
	    "Reset steps:\n1. Unplug the cable\n2. Hold the power button\n\n"
	    "Then:\nWait a minute\n\n"
	    "Questions?\nCall us today\nWe answer within a day.\n");

	ck_assert_uint_eq(a->nsections, 1);
	ck_assert_str_eq(
	    a->sections[0].body,
	    "Light meanings\nSolid red\nCharging\nSolid white\n"
	    "Fully charged\n\n"
	    "What you need:\n\n- A toothpick\n- A dry toothbrush\n\n"
	    "Reset steps:\n1. Unplug the cable\n"
	    "2. Hold the power button\n\n"
	    "Then:\n- Wait a minute\n\n"
	    "Questions?\n\nCall us today\nWe answer within a day.");
	kb_article_free(a);
}
END_TEST

START_TEST(text_unwrapped_page_keeps_one_paragraph_a_line)
{
	/* Saved without wrapping: every paragraph is one long line. */
	struct kb_article *a = parse_str(
	    KB_FORMAT_TEXT, "t.txt",
	    "Speaker Help\nHome\nSpeakers\n"
	    "Your speaker should charge from any good micro-USB cable. If "
	    "it does not, the cable or the port is usually to blame.\n"
	    "Check the cable\n"
	    "Use another micro-USB cable. Many cheap cables are "
	    "charge-only or worn out after a year of use in a bag.\n"
	    "Clean the port\n"
	    "Lint collects in the port. Lift it out gently with a "
	    "toothpick, then brush the port with a dry toothbrush.\n"
	    "\xE2\x80\xA2 Switch the speaker off first.\n"
	    "\xE2\x97\xA6 Do not use metal tools.\n"
	    "Contact us\n"
	    "Our support team answers within one working day. Include "
	    "your order number and a photo of the light.\n");

	assert_headings(a, "|Check the cable|Clean the port|Contact us");
	ck_assert_str_eq(find_section(a, "Clean the port")->body,
			 "Lint collects in the port. Lift it out gently with a "
			 "toothpick, then brush the port with a dry "
			 "toothbrush.\n"
			 "- Switch the speaker off first.\n"
			 "  - Do not use metal tools.");
	kb_article_free(a);
}
END_TEST

START_TEST(text_lone_markers_underlines_and_tab_tables_are_understood)
{
	struct kb_article *a = parse_str(
	    KB_FORMAT_TEXT, "t.txt",
	    "Resetting Your Speaker\n======================\n\n"
	    "Intro text.\n\n"
	    "What you need\n--------------\n"
	    "\xE2\x80\xA2\nA toothpick\n\xE2\x80\xA2\nA dry toothbrush\n\n"
	    "Model\tBattery\tCharge time\n"
	    "Soundcore 2\t2600 mAh\t3 to 4 hours\n");

	ck_assert_str_eq(a->title, "Resetting Your Speaker");
	assert_headings(a, "|What you need");
	ck_assert_str_eq(a->sections[1].body,
			 "- A toothpick\n- A dry toothbrush\n\n"
			 "Model | Battery | Charge time\n"
			 "Soundcore 2 | 2600 mAh | 3 to 4 hours");
	kb_article_free(a);
}
END_TEST

START_TEST(text_long_first_line_is_a_paragraph_not_a_title)
{
	struct kb_buf b;
	struct kb_article *a;
	int i;

	kb_buf_init(&b);
	for (i = 0; i < 40; i++)
		kb_buf_adds(&b, "word ");
	a = parse_str(KB_FORMAT_TEXT, "t.txt", b.data);
	ck_assert(strlen(a->title) <= 84);
	ck_assert(strstr(a->title, "word word") == a->title);
	ck_assert_uint_eq(a->nsections, 1);
	ck_assert_uint_eq(strlen(a->sections[0].body), 199);
	kb_article_free(a);
	kb_buf_free(&b);
}
END_TEST

/* ---- HTML ------------------------------------------------------------ */

START_TEST(html_h1_is_the_title_and_h2_h3_start_sections)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-help.html");

	ck_assert_int_eq(a->format, KB_FORMAT_HTML);
	ck_assert_str_eq(a->title, "Soundcore 2 won\xE2\x80\x99t charge");
	assert_headings(a, "|What the light means|Try another cable|"
			   "Reset the speaker");
	ck_assert_str_eq(a->sections[0].body,
			 "If your speaker does not charge, work through these "
			 "checks.");
	ck_assert_int_eq(find_section(a, "Try another cable")->line, 27);
	assert_list(&a->fm_tags, "soundcore 2|charging|LED");
	ck_assert_str_eq(a->summary,
			 "What to do when a Soundcore 2 will not charge.");
	kb_article_free(a);
}
END_TEST

START_TEST(html_drops_scripts_styles_navigation_and_page_furniture)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-help.html");
	static const char *const gone[] = {
	    "track",
	    "font-family",
	    "Home",
	    "Breadcrumbs",
	    "Shop",
	    "JBL",
	    "Search",
	    "JavaScript",
	    "rights",
	    "dataLayer",
	    "Example Support",
	};
	size_t i, j;

	for (i = 0; i < a->nsections; i++)
		for (j = 0; j < sizeof(gone) / sizeof(*gone); j++)
			ck_assert_msg(
			    strstr(a->sections[i].body, gone[j]) == NULL &&
				strstr(a->sections[i].heading, gone[j]) == NULL,
			    "\"%s\" leaked into section %zu", gone[j], i);
	kb_article_free(a);
}
END_TEST

START_TEST(html_lists_and_table_rows_keep_their_lines)
{
	struct kb_article *a = parse_file(DATA "soundcore-2-help.html");

	ck_assert_str_eq(find_section(a, "What the light means")->body,
			 "Light | Meaning\nBlinking red | Battery low\n"
			 "Solid red | Charging\nSolid white | Fully charged");
	ck_assert_str_eq(find_section(a, "Try another cable")->body,
			 "A faulty cable is the most common cause.\n"
			 "Try a cable that charges other devices.\n\n"
			 "- Use a micro-USB cable.\n"
			 "- Avoid charge-only cables\n"
			 "  - They may drop out.");
	ck_assert_str_eq(find_section(a, "Reset the speaker")->body,
			 "1. Unplug the charging cable.\n"
			 "2. Hold the power button for 8 seconds.");
	kb_article_free(a);
}
END_TEST

/* Small pages: which title, which headings, what body. */
static const struct {
	const char *html;
	const char *title;
	const char *headings;
	const char *first_body;
} html_cases[] = {
    /* no h1: the <title> */
    {"<title> Page  title </title><h2>A</h2><p>x</p>", "Page title", "A", "x"},
    /* a lone h1 is the title and a section too */
    {"<h1>Only</h1><p>text</p>", "Only", "Only", "text"},
    /* nothing: the file name */
    {"<p>just text</p>", "page", "", "just text"},
    /* an article's own header keeps its h1; the site header goes */
    {"<header>Site</header><article><header><h1>Art</h1></header>"
     "<p>a</p><h3>Sub</h3><p>b</p></article>",
     "Art", "|Sub", "a"},
    /* hidden and role=navigation elements go */
    {"<div role=\"navigation\">Menu</div><p hidden>secret</p>"
     "<p aria-hidden=\"true\">x</p><p>shown</p>",
     "page", "", "shown"},
    /* whitespace collapses; br breaks lines; pre keeps its lines */
    {"<p>a\n\t b&nbsp;&nbsp;c<br>d</p><pre>x  y\nz</pre>", "page", "",
     "a b c\nd\n\nx  y\nz"},
    /* nested tables flatten into their cell */
    {"<table><tr><td>a<table><tr><td>b</td><td>c</td></tr></table></td>"
     "<td></td><td>d</td></tr></table>",
     "page", "", "a b | c | d"},
    /* a meta charset does not undo the UTF-8 conversion */
    {"<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9</p>", "page", "",
     "caf\xC3\xA9"},
    /* comments and processing instructions are not text */
    {"<p>a<!-- no -->b<?php echo 1; ?></p>", "page", "", "ab"},
};

START_TEST(html_small_pages_give_title_headings_and_body)
{
	struct kb_article *a =
	    parse_str(KB_FORMAT_HTML, "dir/page.html", html_cases[_i].html);
	char *h = headings(a);

	ck_assert_str_eq(a->title, html_cases[_i].title);
	ck_assert_str_eq(h, html_cases[_i].headings);
	ck_assert_str_eq(a->sections[0].body, html_cases[_i].first_body);
	free(h);
	kb_article_free(a);
}
END_TEST

/* ---- encodings and errors -------------------------------------------- */

/* A string literal and its length, NULs included. */
#define BYTES(s) s, sizeof(s) - 1

static const struct {
	enum kb_format format;
	const char *data;
	size_t len;
	const char *title;
	const char *body;
} encoding_cases[] = {
    {KB_FORMAT_TEXT, BYTES("\xEF\xBB\xBFTitle\n\nBody.\n"), "Title", "Body."},
    {KB_FORMAT_TEXT, BYTES("Title\r\n\r\nBody one\r\ntwo.\r\n"), "Title",
     "Body one two."},
    {KB_FORMAT_TEXT, BYTES("Caf\xE9 guide\n\nLa m\xE9thode.\n"),
     "Caf\xC3\xA9 guide", "La m\xC3\xA9thode."},
    {KB_FORMAT_TEXT,
     BYTES("\xFF\xFET\0i\0t\0l\0e\0\r\0\n\0\r\0\n\0B\0o\0d\0y\0"), "Title",
     "Body"},
    {KB_FORMAT_TEXT, BYTES("\xFE\xFF\0T\0i\0t\0l\0e\0\n\0\n\0B\0o\0d\0y"),
     "Title", "Body"},
    {KB_FORMAT_MARKDOWN,
     BYTES("\xEF\xBB\xBF---\r\ntitle: T\r\n---\r\nBody\r\n"), "T", "Body"},
    {KB_FORMAT_MARKDOWN, BYTES("# Ti\0tle\n\nBo\0dy\n"), "Title", "Body"},
    {KB_FORMAT_HTML, BYTES("<h1>Caf\xE9</h1><p>\x93quoted\x94</p>"),
     "Caf\xC3\xA9", "\"quoted\""},
};

START_TEST(input_is_cleaned_of_boms_crlf_latin1_utf16_and_nuls)
{
	struct kb_article *a =
	    parse_ok(encoding_cases[_i].format, "e", encoding_cases[_i].data,
		     encoding_cases[_i].len);

	ck_assert_str_eq(a->title, encoding_cases[_i].title);
	ck_assert_str_eq(a->sections[a->nsections - 1].body,
			 encoding_cases[_i].body);
	kb_article_free(a);
}
END_TEST

static const struct {
	enum kb_format format;
	const char *data;
	const char *says;
} error_cases[] = {
    {KB_FORMAT_MARKDOWN, "", "empty file"},
    {KB_FORMAT_TEXT, " \n\t\n\r\n", "empty file"},
    {KB_FORMAT_HTML, "\xC2\xA0\n", "empty file"},
    {KB_FORMAT_MARKDOWN, "---\ntitle: Only a title\n---\n", "no text"},
    {KB_FORMAT_MARKDOWN, "<!-- just a comment -->\n", "no text"},
    {KB_FORMAT_TEXT, "-----\n=====\n", "no text"},
    {KB_FORMAT_TEXT, "Just a title\n", "no text"},
    {KB_FORMAT_HTML, "<script>var x = 1;</script><style>p{}</style>",
     "no text"},
    {KB_FORMAT_HTML, "<nav>menu</nav><footer>(c)</footer>", "no text"},
};

START_TEST(empty_files_and_files_without_text_are_parse_errors)
{
	struct kb_error err;
	const char *d = error_cases[_i].data;

	ck_assert_int_eq(
	    parse_fail(error_cases[_i].format, "kb/x", d, strlen(d), &err),
	    KB_ERR_PARSE);
	ck_assert_msg(strstr(err.msg, error_cases[_i].says) != NULL, "%s",
		      err.msg);
	ck_assert_msg(strncmp(err.msg, "kb/x: ", 6) == 0, "%s", err.msg);
}
END_TEST

START_TEST(binary_data_is_a_parse_error_but_utf16_and_stray_nuls_are_text)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10"
				  "\x08\x06\0\0\0\x1f\xf3\xff";
	struct kb_article *a;
	struct kb_error err;

	ck_assert_int_eq(parse_fail(KB_FORMAT_MARKDOWN, "kb/x.md", BYTES(png),
				    &err),
			 KB_ERR_PARSE);
	ck_assert_msg(strncmp(err.msg, "kb/x.md: binary data", 20) == 0, "%s",
		      err.msg);
	a = parse_ok(KB_FORMAT_TEXT, "e", BYTES("\xFF\xFEH\0\xE9\0\n\0\n\0B\0\xE9\0"));
	ck_assert_str_eq(a->title, "H\xC3\xA9");
	kb_article_free(a);
	a = parse_ok(KB_FORMAT_TEXT, "e", BYTES("Caf\xC3\xA9\0 guide\n\nBody.\n"));
	ck_assert_str_eq(a->title, "Caf\xC3\xA9 guide");
	kb_article_free(a);
}
END_TEST

START_TEST(unknown_format_and_missing_output_are_argument_errors)
{
	struct kb_error err;
	struct kb_article *a;

	ck_assert_int_eq(
	    kb_article_parse(KB_FORMAT_UNKNOWN, "x.pdf", "x", 1, &a, &err),
	    KB_ERR_ARG);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(
	    kb_article_parse(KB_FORMAT_TEXT, "x", "x", 1, NULL, &err),
	    KB_ERR_ARG);
	ck_assert_int_eq(
	    kb_article_parse(KB_FORMAT_TEXT, "x", "x", 1, &a, NULL),
	    KB_ERR_PARSE); /* err may be NULL */
	kb_article_free(NULL);
}
END_TEST

/* ---- hostile input --------------------------------------------------- */

static uint32_t
rng(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static void
parse_any(enum kb_format f, const char *data, size_t len)
{
	struct kb_article *a = NULL;
	struct kb_error err;
	int rc = kb_article_parse(f, "fuzz", data, len, &a, &err);

	ck_assert(rc == KB_OK || rc == KB_ERR_PARSE);
	if (rc == KB_OK)
		check_invariants(a);
	else
		ck_assert_ptr_null(a);
	kb_article_free(a);
}

START_TEST(binary_garbage_never_crashes)
{
	static const enum kb_format formats[] = {
	    KB_FORMAT_MARKDOWN, KB_FORMAT_TEXT, KB_FORMAT_HTML};
	uint32_t state = (uint32_t)_i * 7919u + 1;
	size_t len = 1 + rng(&state) % 20000, i;
	char *buf = malloc(len);

	for (i = 0; i < len; i++)
		buf[i] = (char)rng(&state);
	/* Some runs in UTF-16, some with markup bytes thick on the ground. */
	if (_i % 4 == 1 && len >= 2) {
		buf[0] = '\xFF';
		buf[1] = '\xFE';
	} else if (_i % 4 == 2) {
		for (i = 0; i < len; i++)
			buf[i] =
			    "#-*_[]<>|:\n \t`!aZ1."[(unsigned char)buf[i] % 20];
	} else if (_i % 4 == 3) {
		/* Without NULs it is not taken for binary: read as Latin-1. */
		for (i = 0; i < len; i++)
			buf[i] = buf[i] ? buf[i] : '\x01';
	}
	for (i = 0; i < 3; i++)
		parse_any(formats[i], buf, len);
	free(buf);
}
END_TEST

START_TEST(mutated_sample_files_never_crash)
{
	static const char *const files[] = {
	    DATA "soundcore-2-battery.md",
	    DATA "soundcore-2-help.html",
	    DATA "soundcore-2-wont-charge.txt",
	};
	uint32_t state = (uint32_t)_i + 99;
	struct kb_error err;
	char *data;
	size_t len, i, n;
	const char *path = files[_i % 3];

	ck_assert(kb_read_file(path, 1 << 20, &data, &len, &err) == KB_OK);
	n = 1 + rng(&state) % 16;
	for (i = 0; i < n; i++)
		data[rng(&state) % len] = (char)rng(&state);
	/* Cut it short sometimes, mid-line or mid-tag. */
	if (_i % 5 == 0)
		len = rng(&state) % len;
	parse_any(kb_article_format_of(path), data, len);
	free(data);
}
END_TEST

/*
 * Blank runs inside a paragraph become one space, wherever they fall
 * against the eight-byte steps the parser takes over plain stretches:
 * words of 1 to 12 letters, separated by one to three blanks (spaces and
 * tabs, some around inline HTML, which is dropped), lines broken softly
 * or hard and some starting with dropped HTML and blanks; the body must
 * be the words joined by single spaces, a line to a line.
 */
START_TEST(blank_runs_in_paragraphs_become_single_spaces)
{
	static const char *const blanks[] = {" ",  " ",	  " ",	 "  ",
					     "\t", " \t", "\t ", "   "};
	uint32_t state = (uint32_t)_i * 2654435761u + 17;
	struct kb_buf md, want;
	struct kb_article *a = NULL;
	struct kb_error err;
	size_t lines = 1 + rng(&state) % 4, l, w, k, words;

	kb_buf_init(&md);
	kb_buf_init(&want);
	kb_buf_adds(&md, "# Blanks\n\n");
	for (l = 0; l < lines; l++) {
		words = 1 + rng(&state) % 20;
		if (l > 0) {
			/* a soft break, or a hard one after trailing blanks */
			kb_buf_adds(&md, rng(&state) % 3 ? "\n" : "   \n");
			kb_buf_addc(&want, '\n');
			/* inline HTML is dropped: the line starts blank */
			if (rng(&state) % 3 == 0) {
				kb_buf_adds(&md, "<b></b>");
				kb_buf_adds(&md, blanks[rng(&state) % 8]);
			}
		}
		for (w = 0; w < words; w++) {
			size_t len = 1 + rng(&state) % 12;

			if (w > 0) {
				kb_buf_adds(&md, blanks[rng(&state) % 8]);
				if (rng(&state) % 4 == 0) {
					kb_buf_adds(&md, "<i></i>");
					kb_buf_adds(&md, blanks[rng(&state) % 8]);
				}
				kb_buf_addc(&want, ' ');
			}
			for (k = 0; k < len; k++) {
				char c = (char)('a' + rng(&state) % 26);

				kb_buf_addc(&md, c);
				kb_buf_addc(&want, c);
			}
		}
	}
	kb_buf_addc(&md, '\n');
	ck_assert_int_eq(kb_article_parse(KB_FORMAT_MARKDOWN, "blanks.md",
					  md.data, md.len, &a, &err),
			 KB_OK);
	ck_assert_uint_eq(a->nsections, 1);
	ck_assert_str_eq(a->sections[0].body, want.data);
	kb_article_free(a);
	kb_buf_free(&md);
	kb_buf_free(&want);
}
END_TEST

/* head, n copies of unit, then tail. */
static char *
repeat(const char *head, const char *unit, size_t n, const char *tail,
       size_t *len)
{
	struct kb_buf b;
	size_t i;

	kb_buf_init(&b);
	kb_buf_adds(&b, head);
	for (i = 0; i < n; i++)
		kb_buf_adds(&b, unit);
	kb_buf_adds(&b, tail);
	*len = b.len;
	return kb_buf_steal(&b);
}

static const struct {
	enum kb_format format;
	const char *unit;
	size_t n;
	const char *tail;
} deep_cases[] = {
    {KB_FORMAT_MARKDOWN, "> ", 50000, "deep quote\n"},
    {KB_FORMAT_MARKDOWN, "- ", 50000, "deep list\n"},
    {KB_FORMAT_MARKDOWN, "[", 100000, "brackets\n"},
    {KB_FORMAT_MARKDOWN, "*a **b ", 100000, "\n"},
    {KB_FORMAT_MARKDOWN, "## h\n", 20000, "end\n"},
    {KB_FORMAT_MARKDOWN, "x", 3000000, "\n"},
    {KB_FORMAT_HTML, "<div>", 200000, "deep div"},
    {KB_FORMAT_HTML, "<ul><li>", 100000, "deep list"},
    {KB_FORMAT_HTML, "<table><tr><td>", 50000, "deep table"},
    {KB_FORMAT_HTML, "<h2>a</h2>", 20000, "many headings"},
    {KB_FORMAT_TEXT, "word ", 600000, "\n"},
    {KB_FORMAT_TEXT, "Heading Here\n\nBody text.\n\n", 20000, ""},
    {KB_FORMAT_TEXT, "\n", 1000000, "x\n"},
    {KB_FORMAT_TEXT, "\xE2\x80\xA2\n", 100000, "x\n"},
};

START_TEST(deep_nesting_many_headings_and_long_lines_are_survived)
{
	size_t len;
	char *s = repeat("", deep_cases[_i].unit, deep_cases[_i].n,
			 deep_cases[_i].tail, &len);

	parse_any(deep_cases[_i].format, s, len);
	free(s);
}
END_TEST

START_TEST(many_sections_are_capped_and_their_text_kept)
{
	size_t len, i;
	char *s = repeat("", "## Heading\n\ntext\n\n", 5000, "", &len);
	struct kb_article *a = parse_ok(KB_FORMAT_MARKDOWN, "m.md", s, len);
	const struct kb_section *last = &a->sections[a->nsections - 1];
	size_t texts = 0;
	const char *p;

	ck_assert_uint_le(a->nsections, 5000);
	for (i = 0; i < a->nsections; i++)
		for (p = a->sections[i].body; (p = strstr(p, "text")) != NULL;
		     p += 4)
			texts++;
	ck_assert_uint_eq(texts, 5000);
	ck_assert(strstr(last->body, "Heading") != NULL);
	kb_article_free(a);
	free(s);
}
END_TEST

/* Input whose tree would cost gigabytes, and what the error says. */
static const struct {
	enum kb_format format;
	const char *head;
	const char *unit;
	size_t n;
	const char *says;
} dense_cases[] = {
    {KB_FORMAT_MARKDOWN, "", "*_", 4100000, "too much Markdown markup"},
    {KB_FORMAT_HTML, "", "<b>", 3100000, "too much HTML markup"},
    {KB_FORMAT_MARKDOWN, "---\ntags: [", "x", 70000, "larger than"},
};

START_TEST(markup_too_dense_to_parse_is_refused_with_a_clear_error)
{
	struct kb_error err;
	size_t len;
	char *s = repeat(dense_cases[_i].head, dense_cases[_i].unit,
			 dense_cases[_i].n, "]\n---\ntext\n", &len);

	ck_assert_int_eq(
	    parse_fail(dense_cases[_i].format, "big", s, len, &err),
	    KB_ERR_PARSE);
	ck_assert_msg(strstr(err.msg, dense_cases[_i].says) != NULL, "%s",
		      err.msg);
	free(s);
}
END_TEST

static Suite *
article_suite(void)
{
	Suite *s = suite_create("article");
	TCase *tc = tcase_create("article");

	/* Hostile inputs run long under the sanitizers. */
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, format_comes_from_the_extension_in_any_case, 0,
			    NELEM(format_cases));
	tcase_add_test(tc,
		       markdown_front_matter_gives_title_models_and_symptoms);
	tcase_add_loop_test(
	    tc, markdown_front_matter_accepts_lists_scalars_and_comma_strings,
	    0, NELEM(fm_list_cases));
	tcase_add_loop_test(tc, plain_front_matter_reads_as_libyaml_reads_it, 0,
			    sizeof(fm_plain_cases) / sizeof(fm_plain_cases[0]));
	tcase_add_loop_test(tc, markdown_broken_front_matter_names_the_line, 0,
			    NELEM(fm_error_cases));
	tcase_add_test(tc,
		       markdown_h2_headings_start_sections_with_unique_anchors);
	tcase_add_test(tc, markdown_bodiless_heading_is_kept_unless_repeated);
	tcase_add_loop_test(
	    tc, markdown_title_comes_from_front_matter_then_h1_then_file_name,
	    0, NELEM(md_title_cases));
	tcase_add_test(
	    tc, markdown_escapes_and_entities_never_put_controls_in_text);
	tcase_add_test(tc,
		       markdown_level_three_headings_stay_inside_the_section);
	tcase_add_loop_test(
	    tc, markdown_body_is_plain_text_with_lists_and_rows_on_lines, 0,
	    NELEM(md_body_cases));
	tcase_add_test(tc, markdown_sample_table_and_html_render_as_expected);
	tcase_add_test(tc, text_saved_page_gives_title_and_recovered_headings);
	tcase_add_test(tc, text_wrapped_lines_join_and_paragraphs_stay_apart);
	tcase_add_test(
	    tc, text_wrap_width_tells_wrapped_lines_from_deliberate_breaks);
	tcase_add_test(tc, text_led_lines_and_bullets_are_kept_one_per_line);
	tcase_add_loop_test(tc, text_label_and_sentence_lines_are_not_headings,
			    0, NELEM(not_heading_cases));
	tcase_add_loop_test(tc, text_short_title_like_lines_are_headings, 0,
			    NELEM(heading_cases));
	tcase_add_test(tc, text_repeated_heading_counts_once);
	tcase_add_test(tc, text_runs_of_short_lines_are_a_list_not_headings);
	tcase_add_test(tc, text_unwrapped_page_keeps_one_paragraph_a_line);
	tcase_add_test(
	    tc, text_lone_markers_underlines_and_tab_tables_are_understood);
	tcase_add_test(tc, text_long_first_line_is_a_paragraph_not_a_title);
	tcase_add_test(tc, html_h1_is_the_title_and_h2_h3_start_sections);
	tcase_add_test(tc,
		       html_drops_scripts_styles_navigation_and_page_furniture);
	tcase_add_test(tc, html_lists_and_table_rows_keep_their_lines);
	tcase_add_loop_test(tc, html_small_pages_give_title_headings_and_body,
			    0, NELEM(html_cases));
	tcase_add_loop_test(tc,
			    input_is_cleaned_of_boms_crlf_latin1_utf16_and_nuls,
			    0, NELEM(encoding_cases));
	tcase_add_loop_test(tc,
			    empty_files_and_files_without_text_are_parse_errors,
			    0, NELEM(error_cases));
	tcase_add_test(
	    tc, binary_data_is_a_parse_error_but_utf16_and_stray_nuls_are_text);
	tcase_add_test(tc,
		       unknown_format_and_missing_output_are_argument_errors);
	tcase_add_loop_test(tc, binary_garbage_never_crashes, 0, 60);
	tcase_add_loop_test(tc, mutated_sample_files_never_crash, 0, 150);
	tcase_add_loop_test(
	    tc, deep_nesting_many_headings_and_long_lines_are_survived, 0,
	    NELEM(deep_cases));
	tcase_add_test(tc, many_sections_are_capped_and_their_text_kept);
	tcase_add_loop_test(tc, blank_runs_in_paragraphs_become_single_spaces,
			    0, 400);
	tcase_add_loop_test(
	    tc, markup_too_dense_to_parse_is_refused_with_a_clear_error, 0,
	    NELEM(dense_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(article_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
