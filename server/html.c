/* html.c - the pages kbserver renders: search, article, error. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "escape.h"
#include "html.h"

/* What the search API uses when the request names no limit. */
#define DEFAULT_LIMIT 10
/* article.c clips stored headings to this many bytes. */
#define STORED_HEADING_MAX 200

/*
 * Class names are built from these lists only, never from stored text, so
 * an odd colour in an article cannot add classes (or anything else).
 */
static const char *const led_colors[] = {"red",	  "white",  "blue",
					 "green", "orange", "purple"};
static const char *const led_patterns[] = {"solid", "blinking", "pulsing",
					   "off"};

static const char *
known(const char *s, const char *const *list, size_t n, const char *other)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return list[i];
	return other;
}

/* kb_html_escape, with NULL read as "". */
static void
esc(struct kb_buf *out, const char *s)
{
	kb_html_escape(out, s != NULL ? s : "");
}

static bool
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* ---------------------------------------------------------------------
 * URLs.  Built raw, then escaped once as an attribute value.
 */

/* Percent-encode everything but RFC 3986 unreserved characters. */
static void
url_encode(struct kb_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			kb_buf_addc(b, (char)*p);
			continue;
		}
		kb_buf_addc(b, '%');
		kb_buf_addc(b, hex[*p >> 4]);
		kb_buf_addc(b, hex[*p & 15]);
	}
}

/* Append "?key=value" or "&key=value"; an empty value adds nothing. */
static void
url_param(struct kb_buf *b, const char *key, const char *value)
{
	if (empty(value))
		return;
	kb_buf_addc(
	    b, b->len > 0 && memchr(b->data, '?', b->len) != NULL ? '&' : '?');
	kb_buf_adds(b, key);
	kb_buf_addc(b, '=');
	url_encode(b, value);
}

/* href="/?q=..&model=..&symptom=..&offset=.." (the attribute, escaped). */
static void
search_href(struct kb_buf *out, const char *q, const char *model,
	    const char *symptom, size_t offset, size_t limit)
{
	struct kb_buf u;
	char num[32];

	kb_buf_init(&u);
	kb_buf_addc(&u, '/');
	url_param(&u, "q", q);
	url_param(&u, "model", model);
	url_param(&u, "symptom", symptom);
	if (offset > 0) {
		snprintf(num, sizeof(num), "%zu", offset);
		url_param(&u, "offset", num);
	}
	if (limit != 0 && limit != DEFAULT_LIMIT) {
		snprintf(num, sizeof(num), "%zu", limit);
		url_param(&u, "limit", num);
	}
	kb_buf_adds(out, " href=\"");
	esc(out, u.data);
	kb_buf_addc(out, '"');
	kb_buf_free(&u);
}

/* href="/articles/{id}#{anchor}" */
static void
article_href(struct kb_buf *out, int64_t article, const char *anchor)
{
	struct kb_buf u;

	kb_buf_init(&u);
	kb_buf_printf(&u, "/articles/%lld", (long long)article);
	if (!empty(anchor)) {
		kb_buf_addc(&u, '#');
		url_encode(&u, anchor);
	}
	kb_buf_adds(out, " href=\"");
	esc(out, u.data);
	kb_buf_addc(out, '"');
	kb_buf_free(&u);
}

/* ---------------------------------------------------------------------
 * The frame every page shares.
 */

static void
hidden_input(struct kb_buf *out, const char *name, const char *value)
{
	if (empty(value))
		return;
	kb_buf_printf(out, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	esc(out, value);
	kb_buf_adds(out, "\">\n");
}

/*
 * Everything up to and including <main>.  skip is the fragment the skip
 * link goes to: the results on the search page, the main text elsewhere.
 */
static void
page_open(struct kb_buf *out, const char *title, const char *q,
	  const char *model, const char *symptom, const char *skip,
	  const char *skip_text)
{
	kb_buf_adds(out,
		    "<!doctype html>\n<html lang=\"en\">\n<head>\n"
		    "<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, "
		    "initial-scale=1\">\n"
		    "<meta name=\"color-scheme\" content=\"light dark\">\n"
		    "<title>");
	if (!empty(title)) {
		esc(out, title);
		kb_buf_adds(out, " \u2013 ");
	}
	kb_buf_adds(out,
		    "kbsearch</title>\n"
		    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
		    "<link rel=\"icon\" href=\"/static/favicon.svg\" "
		    "type=\"image/svg+xml\">\n"
		    "<link rel=\"search\" "
		    "type=\"application/opensearchdescription+xml\" "
		    "title=\"kbsearch\" href=\"/opensearch.xml\">\n"
		    "<script src=\"/static/app.js\" defer></script>\n"
		    "</head>\n<body>\n");
	kb_buf_printf(out, "<a class=\"skip\" href=\"%s\">%s</a>\n", skip,
		      skip_text);
	kb_buf_adds(out,
		    "<header class=\"top\">\n"
		    "<a class=\"brand\" href=\"/\">kbsearch</a>\n"
		    "<form class=\"search\" role=\"search\" action=\"/\" "
		    "method=\"get\">\n"
		    "<label for=\"q\" class=\"visually-hidden\">Search the "
		    "knowledge base</label>\n"
		    "<input id=\"q\" name=\"q\" type=\"search\" value=\"");
	esc(out, q);
	kb_buf_adds(out, "\" autocomplete=\"off\" spellcheck=\"false\" "
			 "placeholder=\"Describe the problem, e.g. soundcore 2 "
			 "solid red\" aria-describedby=\"hint\">\n");
	hidden_input(out, "model", model);
	hidden_input(out, "symptom", symptom);
	kb_buf_adds(out, "<button type=\"submit\">Search</button>\n</form>\n"
			 "<p id=\"hint\" class=\"hint\">Press <kbd>/</kbd> to "
			 "search, <kbd>\u2191</kbd> <kbd>\u2193</kbd> to move, "
			 "<kbd>Enter</kbd> to open</p>\n"
			 "</header>\n<main id=\"main\">\n");
}

static void
page_close(struct kb_buf *out)
{
	kb_buf_adds(out, "</main>\n<footer class=\"foot\">kbsearch \u00b7 "
			 "offline search for troubleshooting knowledge "
			 "bases</footer>\n</body>\n</html>\n");
}

/* ---------------------------------------------------------------------
 * The LED card, on the search page and on articles.
 */

/* "Solid red", "Blinking blue", "Red light off": capitalised, escaped. */
static void
led_phrase(struct kb_buf *out, const char *color, const char *pattern)
{
	struct kb_buf t;

	kb_buf_init(&t);
	if (pattern != NULL && strcmp(pattern, "off") == 0) {
		if (!empty(color))
			kb_buf_printf(&t, "%s light off", color);
		else
			kb_buf_adds(&t, "light off");
	} else {
		kb_buf_printf(&t, "%s%s%s", empty(pattern) ? "" : pattern,
			      !empty(pattern) && !empty(color) ? " " : "",
			      empty(color) ? "" : color);
		if (t.len == 0)
			kb_buf_adds(&t, "light");
	}
	if (t.data[0] >= 'a' && t.data[0] <= 'z')
		t.data[0] = (char)(t.data[0] - 'a' + 'A');
	esc(out, t.data);
	kb_buf_free(&t);
}

/* href is the raw attribute (already escaped); src the link text. */
static void
led_card(struct kb_buf *out, const char *model, const char *color,
	 const char *pattern, const char *meaning, const char *href,
	 const char *src)
{
	bool off = pattern != NULL && strcmp(pattern, "off") == 0;

	kb_buf_printf(
	    out,
	    "<div class=\"led-card\"><span class=\"led led-%s "
	    "led-%s\" role=\"img\" aria-label=\"",
	    known(color, led_colors, sizeof(led_colors) / sizeof(led_colors[0]),
		  "other"),
	    known(pattern, led_patterns,
		  sizeof(led_patterns) / sizeof(led_patterns[0]), "solid"));
	if (off) {
		esc(out, color);
		kb_buf_adds(out, empty(color) ? "light off" : " light off");
	} else {
		esc(out, pattern);
		if (!empty(pattern) && !empty(color))
			kb_buf_addc(out, ' ');
		esc(out, color);
		kb_buf_adds(out, empty(pattern) && empty(color) ? "light"
								: " light");
	}
	kb_buf_adds(out, "\"></span><p><strong>");
	led_phrase(out, color, pattern);
	kb_buf_adds(out, "</strong>");
	if (!empty(model)) {
		kb_buf_adds(out, " on the ");
		esc(out, model);
	}
	kb_buf_adds(out, " means <strong class=\"meaning\">");
	esc(out, meaning);
	kb_buf_adds(out, "</strong>.</p><a class=\"source\"");
	kb_buf_adds(out, href);
	kb_buf_addc(out, '>');
	esc(out, src);
	kb_buf_adds(out, "</a></div>\n");
}

/* ---------------------------------------------------------------------
 * The search page.
 */

static void
render_status(struct kb_buf *out, const char *q, const struct kb_result *r)
{
	const struct kb_understanding *u = &r->understood;
	size_t i;
	bool any = false;

	kb_buf_adds(out, "<span class=\"summary\">");
	kb_buf_printf(out, "%zu result%s%s for \u201c", r->total,
		      r->total == 1 ? "" : "s",
		      r->relax ? " with some of the words" : "");
	esc(out, r->query != NULL ? r->query : q);
	/* The API rounds the same way, so both renderings agree. */
	kb_buf_printf(out, "\u201d \u00b7 %lld ms</span>",
		      (long long)(r->ms >= 0 ? r->ms + 0.5 : 0));
	if (u->model == NULL && u->brand == NULL && u->color == NULL &&
	    u->pattern == NULL && u->symptoms.n == 0)
		return;
	kb_buf_adds(out, "<span class=\"understood\">Understood: ");
	if (u->model != NULL || u->brand != NULL) {
		kb_buf_adds(out, u->model != NULL ? "model " : "brand ");
		esc(out, u->model != NULL ? u->model : u->brand);
		any = true;
	}
	if (u->color != NULL || u->pattern != NULL) {
		kb_buf_adds(out, any ? " \u00b7 light " : "light ");
		esc(out, u->pattern);
		if (u->pattern != NULL && u->color != NULL)
			kb_buf_addc(out, ' ');
		esc(out, u->color);
		any = true;
	}
	for (i = 0; i < u->symptoms.n; i++) {
		if (i == 0)
			kb_buf_adds(out,
				    any ? " \u00b7 symptoms " : "symptoms ");
		else
			kb_buf_adds(out, ", ");
		esc(out, u->symptoms.v[i]);
	}
	kb_buf_adds(out, "</span>");
}

static void
render_dym(struct kb_buf *out, const struct kb_result *r, const char *model,
	   const char *symptom)
{
	if (empty(r->did_you_mean))
		return;
	kb_buf_adds(out, "<p id=\"dym\" class=\"dym\">Did you mean <a");
	search_href(out, r->did_you_mean, model, symptom, 0, r->limit);
	kb_buf_addc(out, '>');
	esc(out, r->did_you_mean);
	kb_buf_adds(out, "</a>?</p>\n");
}

/* "heading — path", or the path alone for a lead-in. */
static char *
source_text(const char *heading, const char *path)
{
	if (empty(heading))
		return kb_xstrdup(path != NULL ? path : "");
	return kb_xasprintf("%s \u2014 %s", heading, path != NULL ? path : "");
}

static void
render_answers(struct kb_buf *out, const struct kb_result *r)
{
	struct kb_buf href;
	size_t i;
	char *src;

	if (r->nleds == 0)
		return;
	kb_buf_init(&href);
	kb_buf_adds(out, "<section id=\"answers\" class=\"answers\" "
			 "aria-label=\"Answer\">\n");
	for (i = 0; i < r->nleds; i++) {
		const struct kb_led_answer *l = &r->leds[i];

		kb_buf_reset(&href);
		article_href(&href, l->article, l->anchor);
		src = source_text(l->heading, l->path);
		led_card(out, l->model, l->color, l->pattern, l->meaning,
			 href.data, src);
		free(src);
	}
	kb_buf_adds(out, "</section>\n");
	kb_buf_free(&href);
}

/*
 * One filter chip.  value NULL-free; count < 0 leaves the count out (a
 * filter in force that matched nothing still needs a way to remove it).
 */
static void
chip(struct kb_buf *out, const char *q, const char *model, const char *symptom,
     const char *label, bool pressed, int64_t count, size_t limit)
{
	kb_buf_printf(out, "<a class=\"chip\" aria-pressed=\"%s\"",
		      pressed ? "true" : "false");
	search_href(out, q, model, symptom, 0, limit);
	kb_buf_adds(out, " role=\"button\">");
	esc(out, label);
	if (count >= 0)
		kb_buf_printf(out, " <span class=\"count\">%lld</span>",
			      (long long)count);
	kb_buf_adds(out, "</a>\n");
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static void
render_filters(struct kb_buf *out, const char *q, const struct kb_result *r,
	       const char *model, const char *symptom)
{
	const char *cur_model = r->model != NULL ? r->model : model;
	const char *cur_symptom = r->symptom != NULL ? r->symptom : symptom;
	bool found;
	size_t i;

	if (r->nfacet_models == 0 && r->nfacet_symptoms == 0 &&
	    empty(cur_model) && empty(cur_symptom))
		return;
	kb_buf_adds(out, "<nav id=\"filters\" class=\"filters\" "
			 "aria-label=\"Filters\">\n");
	if (r->nfacet_models > 0 || !empty(cur_model)) {
		kb_buf_adds(out, "<div class=\"chips\" role=\"group\" "
				 "aria-label=\"Model\"><span "
				 "class=\"chips-label\" aria-hidden=\"true\">"
				 "Model</span>\n");
		found = false;
		for (i = 0; i < r->nfacet_models; i++)
			found |= same(r->facet_models[i].value, cur_model);
		if (!empty(cur_model) && !found)
			chip(out, q, NULL, cur_symptom, cur_model, true, -1,
			     r->limit);
		for (i = 0; i < r->nfacet_models; i++) {
			const struct kb_count *c = &r->facet_models[i];
			bool on = same(c->value, cur_model);

			chip(out, q, on ? NULL : c->value, cur_symptom,
			     c->value, on, c->count, r->limit);
		}
		kb_buf_adds(out, "</div>\n");
	}
	if (r->nfacet_symptoms > 0 || !empty(cur_symptom)) {
		kb_buf_adds(out, "<div class=\"chips\" role=\"group\" "
				 "aria-label=\"Symptom\"><span "
				 "class=\"chips-label\" aria-hidden=\"true\">"
				 "Symptom</span>\n");
		found = false;
		for (i = 0; i < r->nfacet_symptoms; i++)
			found |= same(r->facet_symptoms[i].value, cur_symptom);
		if (!empty(cur_symptom) && !found)
			chip(out, q, cur_model, NULL, cur_symptom, true, -1,
			     r->limit);
		for (i = 0; i < r->nfacet_symptoms; i++) {
			const struct kb_count *c = &r->facet_symptoms[i];
			bool on = same(c->value, cur_symptom);

			chip(out, q, cur_model, on ? NULL : c->value, c->value,
			     on, c->count, r->limit);
		}
		kb_buf_adds(out, "</div>\n");
	}
	kb_buf_adds(out, "</nav>\n");
}

static void
render_hit(struct kb_buf *out, const struct kb_hit *h)
{
	char *snip = kb_snippet_html(h->snippet != NULL ? h->snippet : "");

	kb_buf_adds(out, "<li class=\"result\"><a class=\"result-link\"");
	article_href(out, h->article, h->anchor);
	kb_buf_adds(out, "><span class=\"heading\">");
	esc(out, empty(h->heading) ? h->title : h->heading);
	kb_buf_adds(out, "</span>");
	if (!empty(h->heading)) {
		kb_buf_adds(out, "<span class=\"title\">");
		esc(out, h->title);
		kb_buf_adds(out, "</span>");
	}
	kb_buf_adds(out, "</a>\n<p class=\"snippet\">");
	kb_buf_adds(out, snip);
	kb_buf_adds(out, "</p><p class=\"path\">");
	esc(out, h->path);
	kb_buf_adds(out, "</p></li>\n");
	free(snip);
}

static void
render_results(struct kb_buf *out, const struct kb_result *r)
{
	size_t i;

	if (r->offset > 0)
		kb_buf_printf(out,
			      "<ol id=\"results\" class=\"results\" "
			      "start=\"%zu\">\n",
			      r->offset + 1);
	else
		kb_buf_adds(out, "<ol id=\"results\" class=\"results\">\n");
	for (i = 0; i < r->nhits; i++)
		render_hit(out, &r->hits[i]);
	kb_buf_adds(out, "</ol>\n");
	if (r->nhits == 0)
		kb_buf_adds(out, "<p class=\"empty\">No results. Try fewer or "
				 "other words, or remove a filter.</p>\n");
}

static void
render_pages(struct kb_buf *out, const char *q, const struct kb_result *r,
	     const char *model, const char *symptom)
{
	size_t limit = r->limit != 0 ? r->limit : DEFAULT_LIMIT;
	bool prev = r->offset > 0;
	bool next = r->offset + r->nhits < r->total && r->nhits > 0;

	if (!prev && !next)
		return;
	kb_buf_adds(out, "<nav class=\"pages\" aria-label=\"Pages\">");
	if (prev) {
		kb_buf_adds(out, "<a rel=\"prev\"");
		search_href(out, q, model, symptom,
			    r->offset > limit ? r->offset - limit : 0,
			    r->limit);
		kb_buf_adds(out, ">\u2190 Previous</a>");
	}
	if (next) {
		kb_buf_adds(out, "<a rel=\"next\"");
		search_href(out, q, model, symptom, r->offset + r->nhits,
			    r->limit);
		kb_buf_adds(out, ">Next \u2192</a>");
	}
	kb_buf_adds(out, "</nav>\n");
}

void
kb_html_search_page(struct kb_buf *out, const char *q, const char *model,
		    const char *symptom, const struct kb_result *r)
{
	const char *fm = model, *fs = symptom;

	/* Links keep the filters as the search resolved them. */
	if (r != NULL && r->model != NULL)
		fm = r->model;
	if (r != NULL && r->symptom != NULL)
		fs = r->symptom;
	page_open(out, q, q, model, symptom, "#results", "Skip to results");
	kb_buf_adds(out, "<p id=\"status\" class=\"status\" role=\"status\" "
			 "aria-live=\"polite\">");
	if (r != NULL)
		render_status(out, q, r);
	kb_buf_adds(out, "</p>\n");
	if (r == NULL) {
		kb_buf_adds(out,
			    "<ol id=\"results\" class=\"results\"></ol>\n");
	} else {
		render_dym(out, r, fm, fs);
		render_answers(out, r);
		render_filters(out, q, r, model, symptom);
		render_results(out, r);
		render_pages(out, q, r, fm, fs);
	}
	page_close(out);
}

/* ---------------------------------------------------------------------
 * Article pages.
 */

static const char *
section_anchor(const struct kb_db_article *a, int64_t section)
{
	size_t i;

	for (i = 0; i < a->nsections; i++)
		if (a->sections[i].id == section)
			return a->sections[i].anchor;
	return NULL;
}

static void
render_meta(struct kb_buf *out, const struct kb_db_article *a)
{
	size_t i;

	kb_buf_adds(out, "<p class=\"meta\">");
	if (a->models.n > 0) {
		kb_buf_adds(out, "<span class=\"models\">");
		for (i = 0; i < a->models.n; i++) {
			if (i > 0)
				kb_buf_adds(out, ", ");
			esc(out, a->models.v[i]);
		}
		kb_buf_adds(out, "</span> \u00b7 ");
	}
	if (a->symptoms.n > 0) {
		kb_buf_adds(out, "<span class=\"symptoms\">");
		for (i = 0; i < a->symptoms.n; i++) {
			if (i > 0)
				kb_buf_adds(out, ", ");
			esc(out, a->symptoms.v[i]);
		}
		kb_buf_adds(out, "</span> \u00b7 ");
	}
	kb_buf_adds(out, "<span class=\"path\">");
	esc(out, a->path);
	kb_buf_adds(out, "</span></p>\n");
}

static void
render_article_leds(struct kb_buf *out, const struct kb_db_article *a)
{
	struct kb_buf href;
	const char *anchor;
	size_t i;

	if (a->nleds == 0)
		return;
	kb_buf_init(&href);
	kb_buf_adds(out, "<section class=\"answers\" "
			 "aria-label=\"LED meanings\">\n");
	for (i = 0; i < a->nleds; i++) {
		const struct kb_db_led *l = &a->leds[i];

		kb_buf_reset(&href);
		kb_buf_adds(&href, "");
		anchor = section_anchor(a, l->section);
		if (!empty(anchor)) {
			struct kb_buf u;

			kb_buf_init(&u);
			kb_buf_addc(&u, '#');
			url_encode(&u, anchor);
			kb_buf_adds(&href, " href=\"");
			esc(&href, u.data);
			kb_buf_addc(&href, '"');
			kb_buf_free(&u);
		}
		led_card(out, l->model, l->color, l->pattern, l->meaning,
			 href.data,
			 empty(l->heading) ? "Introduction" : l->heading);
	}
	kb_buf_adds(out, "</section>\n");
	kb_buf_free(&href);
}

/* Plain text of a heading, whitespace squeezed, the way article.c reads it. */
static char *
md_heading_text(cmark_node *node)
{
	cmark_iter *it = cmark_iter_new(node);
	cmark_event_type ev;
	cmark_node *n;
	const char *lit;
	struct kb_buf b;
	char *s;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		n = cmark_iter_get_node(it);
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(n);
			if (lit != NULL)
				kb_buf_adds(&b, lit);
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			kb_buf_addc(&b, ' ');
			break;
		default:
			break;
		}
	}
	cmark_iter_free(it);
	s = kb_buf_steal(&b);
	kb_squeeze_space(s);
	return s;
}

/*
 * Does the stored heading name this Markdown heading?  Stored headings
 * were clipped at STORED_HEADING_MAX bytes, so a long one matches on its
 * prefix.
 */
static bool
heading_matches(const char *stored, const char *text)
{
	size_t n = strlen(stored);
	char *s;
	bool eq;

	if (strcmp(stored, text) == 0)
		return true;
	s = kb_xstrdup(stored);
	kb_squeeze_space(s);
	eq = strcmp(s, text) == 0 || (n + 4 >= STORED_HEADING_MAX && n > 0 &&
				      strncmp(s, text, strlen(s)) == 0);
	free(s);
	return eq;
}

/*
 * The same choice article.c made when it indexed the file: the first H1
 * naming the title is the title; "##" opens sections, or without any the
 * highest level present does.
 */
static int
md_plan(cmark_node *doc, const char *title, cmark_node **title_node)
{
	cmark_node *n;
	char *text;
	int level, min_level = 7;
	bool h2 = false;

	*title_node = NULL;
	for (n = cmark_node_first_child(doc); n != NULL;
	     n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_HEADING)
			continue;
		level = cmark_node_get_heading_level(n);
		if (level == 1 && *title_node == NULL) {
			text = md_heading_text(n);
			if (text[0] != '\0' &&
			    (empty(title) || strcasecmp(title, text) == 0)) {
				*title_node = n;
				free(text);
				continue;
			}
			free(text);
		}
		if (level == 2)
			h2 = true;
		if (level < min_level)
			min_level = level;
	}
	return h2 ? 2 : (min_level == 7 ? 0 : min_level);
}

static void
render_markdown(struct kb_buf *out, const struct kb_db_article *a)
{
	cmark_mem *mem = cmark_get_default_mem_allocator();
	cmark_node *doc, *n, *title_node;
	size_t next = 0, j;
	bool intro = false;
	int level;
	char *text, *html;

	/* Raw HTML stays suppressed: CMARK_OPT_UNSAFE is never passed. */
	doc = cmark_parse_document(a->markdown, strlen(a->markdown),
				   CMARK_OPT_DEFAULT);
	if (doc == NULL)
		return;
	level = md_plan(doc, a->title, &title_node);
	if (a->nsections > 0 && a->sections[0].heading[0] == '\0') {
		kb_buf_adds(out, "<div id=\"");
		esc(out, a->sections[0].anchor);
		kb_buf_adds(out, "\">\n");
		intro = true;
		next = 1;
	}
	for (n = cmark_node_first_child(doc); n != NULL;
	     n = cmark_node_next(n)) {
		if (n == title_node)
			continue;
		if (cmark_node_get_type(n) == CMARK_NODE_HEADING &&
		    cmark_node_get_heading_level(n) <= level) {
			text = md_heading_text(n);
			if (text[0] != '\0') {
				if (intro)
					kb_buf_adds(out, "</div>\n");
				intro = false;
				for (j = next; j < a->nsections; j++)
					if (heading_matches(
						a->sections[j].heading, text))
						break;
				kb_buf_adds(out, "<h2");
				if (j < a->nsections) {
					kb_buf_adds(out, " id=\"");
					esc(out, a->sections[j].anchor);
					kb_buf_addc(out, '"');
					next = j + 1;
				}
				kb_buf_addc(out, '>');
				esc(out, text);
				kb_buf_adds(out, "</h2>\n");
				free(text);
				continue;
			}
			free(text);
		}
		html = cmark_render_html(n, CMARK_OPT_DEFAULT);
		if (html != NULL)
			kb_buf_adds(out, html);
		mem->free(html);
	}
	if (intro)
		kb_buf_adds(out, "</div>\n");
	cmark_node_free(doc);
}

/* A bullet line of a stored body: "- item", possibly indented. */
static const char *
bullet_text(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return line[0] == '-' && line[1] == ' ' ? line + 2 : NULL;
}

/* Stored section text: blank lines part paragraphs, "- " lines are lists. */
static void
render_body(struct kb_buf *out, const char *body)
{
	enum { NONE, PARA, LIST } state = NONE;
	const char *p = body, *nl, *item;
	char *line;

	while (*p) {
		nl = strchr(p, '\n');
		line =
		    kb_xstrndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		p = nl != NULL ? nl + 1 : p + strlen(p);
		item = bullet_text(line);
		if (line[strspn(line, " \t")] == '\0') {
			kb_buf_adds(out, state == PARA	 ? "</p>\n"
					 : state == LIST ? "</ul>\n"
							 : "");
			state = NONE;
		} else if (item != NULL) {
			if (state == PARA)
				kb_buf_adds(out, "</p>\n");
			if (state != LIST)
				kb_buf_adds(out, "<ul>\n");
			state = LIST;
			kb_buf_adds(out, "<li>");
			esc(out, item);
			kb_buf_adds(out, "</li>\n");
		} else {
			if (state == LIST)
				kb_buf_adds(out, "</ul>\n");
			kb_buf_adds(out, state == PARA ? "<br>\n" : "<p>");
			state = PARA;
			esc(out, line);
		}
		free(line);
	}
	kb_buf_adds(out, state == PARA	 ? "</p>\n"
			 : state == LIST ? "</ul>\n"
					 : "");
}

static void
render_sections(struct kb_buf *out, const struct kb_db_article *a)
{
	size_t i;

	for (i = 0; i < a->nsections; i++) {
		const struct kb_db_section *s = &a->sections[i];

		if (empty(s->heading)) {
			kb_buf_adds(out, "<div id=\"");
			esc(out, s->anchor);
			kb_buf_adds(out, "\">\n");
			render_body(out, s->body != NULL ? s->body : "");
			kb_buf_adds(out, "</div>\n");
			continue;
		}
		kb_buf_adds(out, "<h2 id=\"");
		esc(out, s->anchor);
		kb_buf_adds(out, "\">");
		esc(out, s->heading);
		kb_buf_adds(out, "</h2>\n");
		render_body(out, s->body != NULL ? s->body : "");
	}
}

void
kb_html_article_page(struct kb_buf *out, const struct kb_db_article *a,
		     const char *q)
{
	page_open(out, a->title, q, NULL, NULL, "#main", "Skip to article");
	kb_buf_adds(out, "<p class=\"back-wrap\"><a class=\"back\"");
	search_href(out, q, NULL, NULL, 0, 0);
	kb_buf_adds(out, empty(q) ? ">\u2190 New search</a></p>\n"
				  : ">\u2190 Back to results</a></p>\n");
	kb_buf_adds(out, "<article class=\"doc\">\n<h1>");
	esc(out, a->title);
	kb_buf_adds(out, "</h1>\n");
	render_meta(out, a);
	render_article_leds(out, a);
	if (a->markdown != NULL)
		render_markdown(out, a);
	else
		render_sections(out, a);
	kb_buf_adds(out, "</article>\n");
	page_close(out);
}

/* ---------------------------------------------------------------------
 * Errors.
 */

static const char *
reason_phrase(int status)
{
	static const struct {
		int status;
		const char *reason;
	} map[] = {
	    {400, "Bad Request"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {408, "Request Timeout"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].status == status)
			return map[i].reason;
	return "Error";
}

void
kb_html_error_page(struct kb_buf *out, int status, const char *message)
{
	char *title = kb_xasprintf("%d %s", status, reason_phrase(status));

	page_open(out, title, NULL, NULL, NULL, "#main", "Skip to message");
	kb_buf_adds(out, "<div class=\"error\">\n<h1>");
	esc(out, title);
	kb_buf_adds(out, "</h1>\n<p>");
	esc(out, message);
	kb_buf_adds(out, "</p>\n<p><a href=\"/\">Start a new search</a></p>\n"
			 "</div>\n");
	page_close(out);
	free(title);
}
