/* check_html.c - the pages: escaping, anchors, LED cards, filter links. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "article.h"
#include "html.h"

static const char evil_q[] = "<script>alert(1)</script>\"'";
static const char evil_q_html[] =
    "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;";

static void
add_count(struct kb_count **v, size_t *n, const char *value, int64_t count)
{
	*v = kb_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].value = kb_xstrdup(value);
	(*v)[*n].count = count;
	(*n)++;
}

/* A result as kb_search would return it, with hostile text everywhere. */
static struct kb_result *
sample_result(const char *q)
{
	struct kb_result *r = kb_xcalloc(1, sizeof(*r));
	struct kb_led_answer *l;
	struct kb_hit *h;

	r->query = kb_xstrdup(q);
	r->hits = kb_xcalloc(2, sizeof(*r->hits));
	r->nhits = 2;
	r->total = 33;
	r->limit = 10;
	r->ms = 1.4;
	h = &r->hits[0];
	h->id = 40;
	h->article = 11;
	h->title = kb_xstrdup("LED <meanings>");
	h->heading = kb_xstrdup("Solid red & \"steady\"");
	h->anchor = kb_xstrdup("solid-red-steady");
	h->snippet = kb_xstrdup("a \x01<red>\x02 light & <b>bold</b>");
	h->path = kb_xstrdup("articles/led.md");
	kb_strv_push(&h->models, "Anker Soundcore 2");
	h = &r->hits[1];
	h->id = 41;
	h->article = 12;
	h->title = kb_xstrdup("Lead-in only");
	h->heading = kb_xstrdup("");
	h->anchor = kb_xstrdup("intro");
	h->snippet = kb_xstrdup("text");
	h->path = kb_xstrdup("articles/lead.md");
	r->understood.model = kb_xstrdup("Anker Soundcore 2");
	r->understood.color = kb_xstrdup("red");
	r->understood.pattern = kb_xstrdup("solid");
	kb_strv_push(&r->understood.symptoms, "led-indicator");
	r->leds = kb_xcalloc(2, sizeof(*r->leds));
	r->nleds = 2;
	l = &r->leds[0];
	l->model = kb_xstrdup("Anker Soundcore 2");
	l->color = kb_xstrdup("red");
	l->pattern = kb_xstrdup("solid");
	l->meaning = kb_xstrdup("charging <b>now</b>");
	l->article = 11;
	l->section = 38;
	l->path = kb_xstrdup("articles/led.md");
	l->heading = kb_xstrdup("What the LED on top means");
	l->anchor = kb_xstrdup("what-the-led-on-top-means");
	l = &r->leds[1];
	l->model = NULL;
	l->color = kb_xstrdup("chartreuse\" onclick=\"x");
	l->pattern = kb_xstrdup("blinking");
	l->meaning = kb_xstrdup("battery low");
	l->article = 3;
	l->section = 7;
	l->path = kb_xstrdup("articles/generic.md");
	l->heading = kb_xstrdup("");
	l->anchor = kb_xstrdup("intro");
	r->did_you_mean = kb_xstrdup("solid red & <x>");
	add_count(&r->facet_models, &r->nfacet_models, "Anker Soundcore 2", 14);
	add_count(&r->facet_models, &r->nfacet_models,
		  "Bang & Olufsen Beosound A1", 2);
	add_count(&r->facet_symptoms, &r->nfacet_symptoms, "led-indicator", 9);
	add_count(&r->facet_symptoms, &r->nfacet_symptoms, "wont-charge", 3);
	return r;
}

static char *
search_page(const char *q, const char *model, const char *symptom,
	    const struct kb_result *r)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_search_page(&b, q, model, symptom, r);
	return kb_buf_steal(&b);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

#define ck_assert_has(hay, needle)                                             \
	ck_assert_msg(strstr(hay, needle) != NULL, "missing %s in:\n%s",       \
		      needle, hay)
#define ck_assert_lacks(hay, needle)                                           \
	ck_assert_msg(strstr(hay, needle) == NULL, "unexpected %s in:\n%s",    \
		      needle, hay)

/*
 * Attribute names of every tag in page, as a browser would read them:
 * fails on an event handler or a style attribute.
 */
static void
assert_no_handler_attributes(const char *page)
{
	const char *p = page, *name;
	char quote;
	size_t n;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			continue;
		p += strcspn(p, " \t\n>");
		while (*p && *p != '>') {
			p += strspn(p, " \t\n/");
			name = p;
			n = strcspn(p, " \t\n=>/");
			p += n;
			ck_assert_msg(
			    !(n >= 2 && strncasecmp(name, "on", 2) == 0),
			    "event handler attribute %.*s", (int)n, name);
			ck_assert_msg(
			    !(n == 5 && strncasecmp(name, "style", 5) == 0),
			    "style attribute");
			if (*p != '=')
				continue;
			p++;
			if (*p == '"' || *p == '\'') {
				quote = *p++;
				while (*p && *p != quote)
					p++;
				if (*p)
					p++;
			} else {
				p += strcspn(p, " \t\n>");
			}
		}
	}
}

/* The one script tag, no inline style: what the CSP needs. */
static void
assert_csp_clean(const char *page)
{
	ck_assert_uint_eq(count(page, "<script"), 1);
	ck_assert_has(page, "<script src=\"/static/app.js\" defer></script>");
	ck_assert_uint_eq(count(page, "<SCRIPT"), 0);
	ck_assert_lacks(page, "style=");
	ck_assert_lacks(page, "<style");
	assert_no_handler_attributes(page);
	ck_assert_lacks(page, "javascript:");
	ck_assert_has(page, "<html lang=\"en\">");
}

START_TEST(query_text_is_escaped_in_the_title_the_box_and_the_status)
{
	struct kb_result *r = sample_result(evil_q);
	char *p = search_page(evil_q, NULL, NULL, r);
	char *want;

	want = kb_xasprintf("<title>%s \u2013 kbsearch</title>", evil_q_html);
	ck_assert_has(p, want);
	free(want);
	want = kb_xasprintf("value=\"%s\"", evil_q_html);
	ck_assert_has(p, want);
	free(want);
	want = kb_xasprintf("33 results for \u201c%s\u201d \u00b7 1 ms",
			    evil_q_html);
	ck_assert_has(p, want);
	free(want);
	ck_assert_lacks(p, "<script>alert");
	assert_csp_clean(p);
	free(p);
	kb_result_free(r);
}
END_TEST

START_TEST(the_empty_page_has_a_box_a_status_and_an_empty_list)
{
	char *p = search_page(NULL, NULL, NULL, NULL);

	ck_assert_has(p, "<title>kbsearch</title>");
	ck_assert_has(p, "<label for=\"q\" class=\"visually-hidden\">");
	ck_assert_has(p, "<input id=\"q\" name=\"q\" type=\"search\" "
			 "value=\"\"");
	ck_assert_has(p, "<p id=\"status\" class=\"status\" role=\"status\" "
			 "aria-live=\"polite\"></p>");
	ck_assert_has(p, "<ol id=\"results\" class=\"results\"></ol>");
	ck_assert_lacks(p, "type=\"hidden\"");
	assert_csp_clean(p);
	free(p);
}
END_TEST

START_TEST(snippet_marks_survive_while_their_text_stays_escaped)
{
	struct kb_result *r = sample_result("red");
	char *p = search_page("red", NULL, NULL, r);

	ck_assert_has(p, "<p class=\"snippet\">a <mark>&lt;red&gt;</mark> "
			 "light &amp; &lt;b&gt;bold&lt;/b&gt;</p>");
	ck_assert_has(p, "<span class=\"heading\">Solid red &amp; "
			 "&quot;steady&quot;</span><span class=\"title\">LED "
			 "&lt;meanings&gt;</span>");
	/* A lead-in hit is named by its article's title. */
	ck_assert_has(p, "<a class=\"result-link\" href=\"/articles/12#intro\">"
			 "<span class=\"heading\">Lead-in only</span></a>");
	ck_assert_has(p, "href=\"/articles/11#solid-red-steady\"");
	free(p);
	kb_result_free(r);
}
END_TEST

START_TEST(led_cards_carry_colour_and_pattern_classes_from_a_fixed_list)
{
	struct kb_result *r = sample_result("solid red");
	char *p = search_page("solid red", NULL, NULL, r);

	ck_assert_has(p, "<section id=\"answers\" class=\"answers\" "
			 "aria-label=\"Answer\">");
	ck_assert_has(p, "<span class=\"led led-red led-solid\" role=\"img\" "
			 "aria-label=\"solid red light\"></span>");
	ck_assert_has(p, "<p><strong>Solid red</strong> on the Anker "
			 "Soundcore 2 means <strong class=\"meaning\">charging "
			 "&lt;b&gt;now&lt;/b&gt;</strong>.</p>");
	ck_assert_has(p, "<a class=\"source\" href=\"/articles/11#what-the-led-"
			 "on-top-means\">What the LED on top means \u2014 "
			 "articles/led.md</a>");
	/* An unknown colour gets led-other; its name stays escaped text. */
	ck_assert_has(p, "<span class=\"led led-other led-blinking\" "
			 "role=\"img\" aria-label=\"blinking chartreuse&quot; "
			 "onclick=&quot;x light\">");
	ck_assert_has(p, "<p><strong>Blinking chartreuse&quot; onclick=&quot;x"
			 "</strong> means");
	ck_assert_has(p, "Understood: model Anker Soundcore 2 \u00b7 light "
			 "solid red \u00b7 symptoms led-indicator");
	assert_csp_clean(p);
	free(p);
	kb_result_free(r);
}
END_TEST

START_TEST(filter_chips_link_with_percent_encoded_values)
{
	struct kb_result *r = sample_result("solid red");
	char *p;

	p = search_page("solid red", NULL, NULL, r);
	ck_assert_has(p, "<nav id=\"filters\" class=\"filters\" "
			 "aria-label=\"Filters\">");
	ck_assert_has(p, "<div class=\"chips\" role=\"group\" "
			 "aria-label=\"Model\">");
	ck_assert_has(p,
		      "<a class=\"chip\" aria-pressed=\"false\" "
		      "href=\"/?q=solid%20red&amp;model=Bang%20%26%20Olufsen"
		      "%20Beosound%20A1\" role=\"button\">Bang &amp; Olufsen "
		      "Beosound A1 <span class=\"count\">2</span></a>");
	ck_assert_has(p, "href=\"/?q=solid%20red&amp;symptom=wont-charge\"");
	free(p);

	/* With a filter in force its chip is pressed and removes it. */
	r->model = kb_xstrdup("Anker Soundcore 2");
	p = search_page("solid red", "soundcore2", "wont-charge", r);
	ck_assert_has(p, "<a class=\"chip\" aria-pressed=\"true\" "
			 "href=\"/?q=solid%20red&amp;symptom=wont-charge\" "
			 "role=\"button\">Anker Soundcore 2 <span "
			 "class=\"count\">14</span></a>");
	ck_assert_has(p, "<a class=\"chip\" aria-pressed=\"true\" "
			 "href=\"/?q=solid%20red&amp;model=Anker%20Soundcore"
			 "%202\" role=\"button\">wont-charge <span "
			 "class=\"count\">3</span></a>");
	ck_assert_has(p, "<input type=\"hidden\" name=\"model\" "
			 "value=\"soundcore2\">");
	ck_assert_has(p, "<input type=\"hidden\" name=\"symptom\" "
			 "value=\"wont-charge\">");
	/* Did-you-mean keeps the filters. */
	ck_assert_has(p,
		      "<p id=\"dym\" class=\"dym\">Did you mean <a "
		      "href=\"/?q=solid%20red%20%26%20%3Cx%3E&amp;model="
		      "Anker%20Soundcore%202&amp;symptom=wont-charge\">solid "
		      "red &amp; &lt;x&gt;</a>?</p>");
	free(p);
	kb_result_free(r);
}
END_TEST

START_TEST(pages_link_to_the_previous_and_next_offsets)
{
	struct kb_result *r = sample_result("red");
	char *p;

	r->offset = 10;
	p = search_page("red", NULL, NULL, r);
	ck_assert_has(p, "<ol id=\"results\" class=\"results\" start=\"11\">");
	ck_assert_has(p, "<a rel=\"prev\" href=\"/?q=red\">");
	ck_assert_has(p, "<a rel=\"next\" href=\"/?q=red&amp;offset=12\">");
	free(p);
	r->offset = 31;
	p = search_page("red", NULL, NULL, r);
	ck_assert_lacks(p, "rel=\"next\"");
	ck_assert_has(p, "<a rel=\"prev\" href=\"/?q=red&amp;offset=21\">");
	free(p);
	kb_result_free(r);
}
END_TEST

START_TEST(no_results_say_so)
{
	struct kb_result *r = kb_xcalloc(1, sizeof(*r));
	char *p;

	r->query = kb_xstrdup("zzz");
	r->limit = 10;
	p = search_page("zzz", NULL, NULL, r);
	ck_assert_has(p, "0 results for \u201czzz\u201d");
	ck_assert_has(p, "<p class=\"empty\">");
	ck_assert_lacks(p, "id=\"answers\"");
	ck_assert_lacks(p, "id=\"filters\"");
	ck_assert_lacks(p, "class=\"pages\"");
	free(p);
	kb_result_free(r);
}
END_TEST

/* An article as the index returns it, built by the real parser. */
static struct kb_db_article *
article_from(const char *name, const char *text)
{
	struct kb_db_article *d = kb_xcalloc(1, sizeof(*d));
	struct kb_article *a = NULL;
	struct kb_error err;
	size_t i;

	ck_assert_int_eq(kb_article_parse(kb_article_format_of(name), name,
					  text, strlen(text), &a, &err),
			 KB_OK);
	d->id = 5;
	d->path = kb_xasprintf("articles/%s", name);
	d->format = kb_xstrdup("markdown");
	d->title = kb_xstrdup(a->title);
	d->markdown = a->markdown != NULL ? kb_xstrdup(a->markdown) : NULL;
	d->sections = kb_xcalloc(a->nsections, sizeof(*d->sections));
	d->nsections = a->nsections;
	for (i = 0; i < a->nsections; i++) {
		d->sections[i].id = 100 + (int64_t)i;
		d->sections[i].heading = kb_xstrdup(a->sections[i].heading);
		d->sections[i].anchor = kb_xstrdup(a->sections[i].anchor);
		d->sections[i].body = kb_xstrdup(a->sections[i].body);
	}
	kb_article_free(a);
	return d;
}

static char *
article_page(const struct kb_db_article *a, const char *q)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_article_page(&b, a, q);
	return kb_buf_steal(&b);
}

static const char evil_md[] =
    "---\ntitle: Evil <script>window.__pwned=1</script>\n---\n"
    "Lead-in with <img src=x onerror=\"window.__pwned=1\"> inline.\n\n"
    "<script>window.__pwned=1</script>\n\n"
    "## Step <script>alert(1)</script>\n\n"
    "[click](javascript:alert(1)) and <b onclick=\"x()\">bold</b>\n\n"
    "<div style=\"color:red\">block</div>\n\n"
    "<style>body{display:none}</style>\n";

START_TEST(raw_html_in_markdown_articles_is_never_rendered)
{
	struct kb_db_article *a = article_from("evil.md", evil_md);
	char *p = article_page(a, evil_q);
	char *want;

	ck_assert_lacks(p, "<img");
	ck_assert_lacks(p, "onerror");
	ck_assert_lacks(p, "<b ");
	ck_assert_lacks(p, "<div style");
	ck_assert_has(p,
		      "<h1>Evil &lt;script&gt;window.__pwned=1&lt;/script&gt;"
		      "</h1>");
	/* Inline HTML in a heading is dropped, as the indexer drops it. */
	ck_assert_has(p, "<h2 id=\"step-alert-1\">Step alert(1)</h2>");
	ck_assert_has(p, "<!-- raw HTML omitted -->");
	want = kb_xasprintf("value=\"%s\"", evil_q_html);
	ck_assert_has(p, want);
	free(want);
	ck_assert_has(p, "<a class=\"back\" href=\"/?q=%3Cscript%3Ealert%281%29"
			 "%3C%2Fscript%3E%22%27\">");
	assert_csp_clean(p);
	free(p);
	kb_db_article_free(a);
}
END_TEST

static const char anchors_md[] =
    "# Fixing the Soundcore 2\n\n"
    "Read this first.\n\n"
    "## Change the cable\n\nUse another *USB-C* cable.\n\n"
    "### A subheading\n\nstays an h3\n\n"
    "## Reset\n\n- hold power\n- wait\n\n"
    "## Reset\n\nagain, with the same heading\n\n"
    "## Caf\xc3\xa9  `port`   care\n\nclean it\n";

START_TEST(h2_ids_are_the_section_anchors_the_index_links_to)
{
	struct kb_db_article *a = article_from("fix.md", anchors_md);
	char *p = article_page(a, NULL);
	struct kb_buf want;
	size_t i;

	ck_assert_uint_eq(a->nsections, 5);
	kb_buf_init(&want);
	ck_assert_str_eq(a->sections[0].heading, "");
	kb_buf_printf(&want, "<div id=\"%s\">\n<p>Read this first.</p>\n</div>",
		      a->sections[0].anchor);
	ck_assert_has(p, want.data);
	for (i = 1; i < a->nsections; i++) {
		kb_buf_reset(&want);
		kb_buf_printf(&want, "<h2 id=\"%s\">", a->sections[i].anchor);
		ck_assert_uint_eq(count(p, want.data), 1);
	}
	kb_buf_free(&want);
	ck_assert_has(p, "<h2 id=\"reset-2\">Reset</h2>");
	ck_assert_has(p, "<h2 id=\"change-the-cable\">Change the cable</h2>\n"
			 "<p>Use another <em>USB-C</em> cable.</p>");
	ck_assert_has(p, "<h3>A subheading</h3>");
	ck_assert_has(p, "<li>hold power</li>");
	/* The title heading is the page's h1, shown once. */
	ck_assert_uint_eq(count(p, "<h1>"), 1);
	ck_assert_has(p, "<h1>Fixing the Soundcore 2</h1>");
	ck_assert_has(p, "<a class=\"back\" href=\"/\">");
	free(p);
	kb_db_article_free(a);
}
END_TEST

START_TEST(plain_text_articles_render_from_their_sections)
{
	struct kb_db_article *a = kb_xcalloc(1, sizeof(*a));
	char *p;

	a->id = 9;
	a->path = kb_xstrdup("articles/saved.txt");
	a->format = kb_xstrdup("text");
	a->title = kb_xstrdup("Saved <page>");
	kb_strv_push(&a->models, "JBL Flip 5");
	kb_strv_push(&a->symptoms, "wont-charge");
	a->sections = kb_xcalloc(2, sizeof(*a->sections));
	a->nsections = 2;
	a->sections[0].id = 1;
	a->sections[0].heading = kb_xstrdup("");
	a->sections[0].anchor = kb_xstrdup("intro");
	a->sections[0].body = kb_xstrdup("First line\nsecond <line>\n\nnext");
	a->sections[1].id = 2;
	a->sections[1].heading = kb_xstrdup("Steps & tips");
	a->sections[1].anchor = kb_xstrdup("steps-tips");
	a->sections[1].body = kb_xstrdup("Do this:\n- one\n- <two>\nafter");
	a->leds = kb_xcalloc(1, sizeof(*a->leds));
	a->nleds = 1;
	a->leds[0].section = 2;
	a->leds[0].model = kb_xstrdup("JBL Flip 5");
	a->leds[0].color = kb_xstrdup("white");
	a->leds[0].pattern = kb_xstrdup("pulsing");
	a->leds[0].meaning = kb_xstrdup("charging");
	a->leds[0].heading = kb_xstrdup("Steps & tips");
	p = article_page(a, "flip");
	ck_assert_has(p,
		      "<p class=\"meta\"><span class=\"models\">JBL Flip 5"
		      "</span> \u00b7 <span class=\"symptoms\">wont-charge"
		      "</span> \u00b7 <span class=\"path\">articles/saved.txt"
		      "</span></p>");
	ck_assert_has(p, "<div id=\"intro\">\n<p>First line<br>\nsecond "
			 "&lt;line&gt;</p>\n<p>next</p>\n</div>");
	ck_assert_has(p, "<h2 id=\"steps-tips\">Steps &amp; tips</h2>\n"
			 "<p>Do this:</p>\n<ul>\n<li>one</li>\n<li>&lt;two&gt;"
			 "</li>\n</ul>\n<p>after</p>");
	ck_assert_has(p, "<span class=\"led led-white led-pulsing\"");
	ck_assert_has(p, "<a class=\"source\" href=\"#steps-tips\">Steps &amp; "
			 "tips</a>");
	ck_assert_has(p, "<a class=\"back\" href=\"/?q=flip\">");
	assert_csp_clean(p);
	free(p);
	kb_db_article_free(a);
}
END_TEST

START_TEST(error_pages_name_the_status_and_escape_the_message)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_error_page(&b, 404, "no article <42>");
	ck_assert_has(b.data, "<title>404 Not Found \u2013 kbsearch</title>");
	ck_assert_has(b.data, "<h1>404 Not Found</h1>\n<p>no article "
			      "&lt;42&gt;</p>");
	ck_assert_has(b.data, "<form class=\"search\" role=\"search\"");
	assert_csp_clean(b.data);
	kb_buf_reset(&b);
	kb_html_error_page(&b, 599, "odd");
	ck_assert_has(b.data, "<h1>599 Error</h1>");
	kb_buf_free(&b);
}
END_TEST

static Suite *
html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("html");

	tcase_add_test(
	    tc, query_text_is_escaped_in_the_title_the_box_and_the_status);
	tcase_add_test(tc, the_empty_page_has_a_box_a_status_and_an_empty_list);
	tcase_add_test(tc,
		       snippet_marks_survive_while_their_text_stays_escaped);
	tcase_add_test(
	    tc, led_cards_carry_colour_and_pattern_classes_from_a_fixed_list);
	tcase_add_test(tc, filter_chips_link_with_percent_encoded_values);
	tcase_add_test(tc, pages_link_to_the_previous_and_next_offsets);
	tcase_add_test(tc, no_results_say_so);
	tcase_add_test(tc, raw_html_in_markdown_articles_is_never_rendered);
	tcase_add_test(tc, h2_ids_are_the_section_anchors_the_index_links_to);
	tcase_add_test(tc, plain_text_articles_render_from_their_sections);
	tcase_add_test(tc, error_pages_name_the_status_and_escape_the_message);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(html_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
