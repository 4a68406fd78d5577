/* article.c - fuzz targets "article_md", "article_txt", "article_html": one
 * file through the parser, tagging, LED extraction and the article page. */
#include <stdlib.h>
#include <string.h>

#include "article.h"
#include "db.h"
#include "extract.h"
#include "fuzz.h"
#include "html.h"
#include "index.h"
#include "util.h"

static bool
is_slug(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

static void
check_strv(const char *what, const struct kb_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		kb_fuzz_check_text(what, sv->v[i]);
}

static void
check_article(const struct kb_article *a, enum kb_format format)
{
	size_t i, k;

	KB_FUZZ_CHECK(a->format == format, "format %d, not %d", a->format,
		      format);
	kb_fuzz_check_text("title", a->title);
	KB_FUZZ_CHECK(*a->title != '\0', "empty title");
	KB_FUZZ_CHECK((a->markdown != NULL) == (format == KB_FORMAT_MARKDOWN),
		      "markdown kept for the wrong format");
	if (a->summary != NULL)
		kb_fuzz_check_text("summary", a->summary);
	check_strv("front matter model", &a->fm_models);
	check_strv("front matter symptom", &a->fm_symptoms);
	check_strv("front matter tag", &a->fm_tags);
	KB_FUZZ_CHECK(a->nsections == 0 || a->sections != NULL,
		      "sections missing");
	for (i = 0; i < a->nsections; i++) {
		const struct kb_section *s = &a->sections[i];

		kb_fuzz_check_text("heading", s->heading);
		kb_fuzz_check_text("body", s->body);
		kb_fuzz_check_text("anchor", s->anchor);
		KB_FUZZ_CHECK(is_slug(s->anchor), "anchor '%s'", s->anchor);
		KB_FUZZ_CHECK(strchr(s->heading, '\n') == NULL,
			      "heading on two lines: '%s'", s->heading);
		KB_FUZZ_CHECK(s->line >= 0, "line %d", s->line);
		for (k = 0; k < i; k++)
			KB_FUZZ_CHECK(
			    strcmp(a->sections[k].anchor, s->anchor) != 0,
			    "anchor '%s' twice", s->anchor);
	}
}

static void
copy_strv(struct kb_strv *to, const struct kb_strv *from)
{
	size_t i;

	kb_strv_init(to);
	for (i = 0; i < from->n; i++)
		kb_strv_push(to, from->v[i]);
}

/* The article as the server would read it back from the index. */
static struct kb_db_article *
as_stored(const struct kb_article *a, const struct kb_strv *models,
	  const struct kb_strv *symptoms, const struct kb_led_facts *f)
{
	struct kb_db_article *d = kb_xcalloc(1, sizeof(*d));
	size_t i;

	d->id = 1;
	d->path = kb_xstrdup("fuzz/article");
	d->format = kb_xstrdup("fuzz");
	d->title = kb_xstrdup(a->title);
	d->summary = a->summary ? kb_xstrdup(a->summary) : NULL;
	d->markdown = a->markdown ? kb_xstrdup(a->markdown) : NULL;
	copy_strv(&d->models, models);
	copy_strv(&d->symptoms, symptoms);
	d->sections = kb_xcalloc(a->nsections + 1, sizeof(*d->sections));
	d->nsections = a->nsections;
	for (i = 0; i < a->nsections; i++) {
		struct kb_db_section *s = &d->sections[i];

		s->id = (int64_t)i + 1;
		s->heading = kb_xstrdup(a->sections[i].heading);
		s->anchor = kb_xstrdup(a->sections[i].anchor);
		s->body = kb_xstrdup(a->sections[i].body);
		copy_strv(&s->models, &a->sections[i].models);
		copy_strv(&s->symptoms, &a->sections[i].symptoms);
	}
	d->leds = kb_xcalloc(f->n + 1, sizeof(*d->leds));
	d->nleds = f->n;
	for (i = 0; i < f->n; i++) {
		struct kb_db_led *l = &d->leds[i];
		const struct kb_section *s = &a->sections[f->v[i].section];

		l->article = 1;
		l->section = (int64_t)f->v[i].section + 1;
		l->model = f->v[i].model ? kb_xstrdup(f->v[i].model) : NULL;
		l->color = kb_xstrdup(f->v[i].color);
		l->pattern = kb_xstrdup(f->v[i].pattern);
		l->meaning = kb_xstrdup(f->v[i].meaning);
		l->heading = kb_xstrdup(s->heading);
		l->anchor = kb_xstrdup(s->anchor);
		l->path = kb_xstrdup(d->path);
	}
	return d;
}

static int
run_article(enum kb_format format, const char *name, const uint8_t *data,
	    size_t size)
{
	const struct kb_taxonomy *t = kb_fuzz_taxonomy_get();
	struct kb_article *a = NULL;
	struct kb_led_facts facts = {0};
	struct kb_strv models, symptoms;
	struct kb_db_article *d;
	struct kb_error err;
	struct kb_buf page;

	kb_error_clear(&err);
	if (kb_article_parse(format, name, (const char *)data, size, &a,
			     &err) != KB_OK) {
		KB_FUZZ_CHECK(err.status == KB_ERR_PARSE,
			      "parse failed with status %d: %s", err.status,
			      err.msg);
		KB_FUZZ_CHECK(strncmp(err.msg, name, strlen(name)) == 0,
			      "message does not name the file: %s", err.msg);
		kb_article_free(a);
		return 0;
	}
	KB_FUZZ_CHECK(a != NULL, "parsed, but no article");
	check_article(a, format);

	/* What kbindex does next, and what the article page shows. */
	kb_strv_init(&models);
	kb_strv_init(&symptoms);
	kb_tag_article(t, a, &models, &symptoms);
	kb_extract_leds(t, a, &models, &facts);
	kb_fuzz_check_facts(a, &models, &facts);
	d = as_stored(a, &models, &symptoms, &facts);
	kb_buf_init(&page);
	kb_html_article_page(&page, d, "zzfz query");
	kb_fuzz_check_html("article page", page.data, page.len);
	kb_buf_free(&page);
	kb_db_article_free(d);
	kb_led_facts_free(&facts);
	kb_strv_free(&models);
	kb_strv_free(&symptoms);
	kb_article_free(a);
	return 0;
}

int
kb_fuzz_article_md(const uint8_t *data, size_t size)
{
	return run_article(KB_FORMAT_MARKDOWN, "fuzz.md", data, size);
}

int
kb_fuzz_article_txt(const uint8_t *data, size_t size)
{
	return run_article(KB_FORMAT_TEXT, "fuzz.txt", data, size);
}

int
kb_fuzz_article_html(const uint8_t *data, size_t size)
{
	return run_article(KB_FORMAT_HTML, "fuzz.html", data, size);
}
