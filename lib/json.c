/* json.c - result structs to JSON: the document kbsearch --json and the API share. */
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "escape.h"
#include "json.h"

static json_t *
strv_json(const struct kb_strv *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

/* Jansson refuses invalid UTF-8; stored text is clean, but never lose a key. */
static json_t *
str_json(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_string("");
}

static json_t *
hit_json(const struct kb_hit *h)
{
	json_t *o = json_object();
	char *snip = kb_snippet_html(h->snippet ? h->snippet : "");
	double score = isfinite(h->score) ? h->score : 0.0;

	json_object_set_new(o, "id", json_integer(h->id));
	json_object_set_new(o, "article", json_integer(h->article));
	json_object_set_new(o, "title", str_json(h->title));
	json_object_set_new(o, "heading", str_json(h->heading));
	json_object_set_new(o, "anchor", str_json(h->anchor));
	json_object_set_new(o, "snippet", str_json(snip));
	json_object_set_new(o, "path", str_json(h->path));
	json_object_set_new(o, "models", strv_json(&h->models));
	json_object_set_new(o, "symptoms", strv_json(&h->symptoms));
	json_object_set_new(o, "score", json_real(round(score * 1e4) / 1e4));
	json_object_set_new(o, "matchedAllWords", json_boolean(h->relax == 0));
	free(snip);
	return o;
}

static json_t *
understood_json(const struct kb_understanding *u)
{
	json_t *o = json_object(), *led = json_null();

	if (u->color != NULL || u->pattern != NULL) {
		led = json_object();
		json_object_set_new(led, "color", str_json(u->color));
		json_object_set_new(led, "pattern", str_json(u->pattern));
	}
	json_object_set_new(o, "model", str_json(u->model));
	json_object_set_new(o, "brand", str_json(u->brand));
	json_object_set_new(o, "led", led);
	json_object_set_new(o, "symptoms", strv_json(&u->symptoms));
	json_object_set_new(o, "terms", strv_json(&u->terms));
	return o;
}

static json_t *
answers_json(const struct kb_result *r)
{
	json_t *o = json_object(), *leds = json_array();
	size_t i;

	for (i = 0; i < r->nleds; i++) {
		const struct kb_led_answer *l = &r->leds[i];
		json_t *a = json_object(), *src = json_object();

		json_object_set_new(src, "article", json_integer(l->article));
		json_object_set_new(src, "section", json_integer(l->section));
		json_object_set_new(src, "path", str_json(l->path));
		json_object_set_new(src, "heading", str_json(l->heading));
		json_object_set_new(src, "anchor", str_json(l->anchor));
		json_object_set_new(a, "model", str_json(l->model));
		json_object_set_new(a, "color", str_json(l->color));
		json_object_set_new(a, "pattern", str_json(l->pattern));
		json_object_set_new(a, "meaning", str_json(l->meaning));
		json_object_set_new(a, "source", src);
		json_array_append_new(leds, a);
	}
	json_object_set_new(o, "led", leds);
	return o;
}

static json_t *
counts_json(const struct kb_count *v, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, v[i].value, json_integer(v[i].count));
	return o;
}

static json_t *
facets_json(const struct kb_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "model",
			    counts_json(r->facet_models, r->nfacet_models));
	json_object_set_new(o, "symptom", counts_json(r->facet_symptoms,
						      r->nfacet_symptoms));
	return o;
}

json_t *
kb_json_result(const struct kb_result *r)
{
	json_t *o = json_object(), *hits = json_array(), *f = json_object();
	size_t i;

	for (i = 0; i < r->nhits; i++)
		json_array_append_new(hits, hit_json(&r->hits[i]));
	json_object_set_new(o, "query", str_json(r->query ? r->query : ""));
	json_object_set_new(o, "hits", hits);
	json_object_set_new(o, "estimatedTotalHits",
			    json_integer((json_int_t)r->total));
	json_object_set_new(o, "limit", json_integer((json_int_t)r->limit));
	json_object_set_new(o, "offset", json_integer((json_int_t)r->offset));
	json_object_set_new(o, "processingTimeMs",
			    json_integer((json_int_t)llround(r->ms)));
	json_object_set_new(o, "relaxed", json_boolean(r->relax != 0));
	json_object_set_new(o, "understood", understood_json(&r->understood));
	json_object_set_new(o, "answers", answers_json(r));
	json_object_set_new(o, "didYouMean", str_json(r->did_you_mean));
	json_object_set_new(o, "facetDistribution", facets_json(r));
	json_object_set_new(f, "model", str_json(r->model));
	json_object_set_new(f, "symptom", str_json(r->symptom));
	json_object_set_new(o, "filters", f);
	return o;
}

json_t *
kb_json_article(const struct kb_db_article *a)
{
	json_t *o = json_object(), *secs = json_array(), *leds = json_array();
	size_t i;

	for (i = 0; i < a->nsections; i++) {
		const struct kb_db_section *s = &a->sections[i];
		json_t *so = json_object();

		json_object_set_new(so, "id", json_integer(s->id));
		json_object_set_new(so, "heading", str_json(s->heading));
		json_object_set_new(so, "anchor", str_json(s->anchor));
		json_object_set_new(so, "text", str_json(s->body));
		json_object_set_new(so, "models", strv_json(&s->models));
		json_object_set_new(so, "symptoms", strv_json(&s->symptoms));
		json_array_append_new(secs, so);
	}
	for (i = 0; i < a->nleds; i++) {
		const struct kb_db_led *l = &a->leds[i];
		json_t *lo = json_object();

		json_object_set_new(lo, "model", str_json(l->model));
		json_object_set_new(lo, "color", str_json(l->color));
		json_object_set_new(lo, "pattern", str_json(l->pattern));
		json_object_set_new(lo, "meaning", str_json(l->meaning));
		json_object_set_new(
			lo, "source",
			json_pack("{s:I, s:I, s:s, s:s, s:s}", "article",
				  (json_int_t)l->article, "section",
				  (json_int_t)l->section, "path",
				  l->path ? l->path : "", "heading",
				  l->heading ? l->heading : "", "anchor",
				  l->anchor ? l->anchor : ""));
		json_array_append_new(leds, lo);
	}
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "title", str_json(a->title));
	json_object_set_new(o, "path", str_json(a->path));
	json_object_set_new(o, "format", str_json(a->format));
	json_object_set_new(o, "summary", str_json(a->summary));
	json_object_set_new(o, "models", strv_json(&a->models));
	json_object_set_new(o, "symptoms", strv_json(&a->symptoms));
	json_object_set_new(o, "sections", secs);
	json_object_set_new(o, "leds", leds);
	return o;
}

json_t *
kb_json_error(const char *code, const char *message)
{
	json_t *o = json_object(), *e = json_object();

	json_object_set_new(e, "code", str_json(code));
	json_object_set_new(e, "message", str_json(message));
	json_object_set_new(o, "error", e);
	return o;
}

static json_int_t
count_of(const struct kb_count *c, size_t n, const char *value)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strcasecmp(c[k].value, value) == 0)
			return c[k].count;
	return 0;
}

json_t *
kb_json_tags(struct kb_db *db, int kind, struct kb_error *err)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);
	struct kb_count *c = NULL;
	json_t *arr;
	size_t n = 0, i, k;

	if (kb_db_tag_counts(db, kind, &c, &n, err) != KB_OK)
		return NULL;
	arr = json_array();
	if (kind == KB_TAG_MODEL) {
		for (i = 0; i < t->nmodels; i++) {
			const struct kb_model *m = &t->models[i];
			json_t *al = json_array();

			for (k = 0; k < m->aliases.n; k++)
				json_array_append_new(al,
						      str_json(m->aliases.v[k]));
			json_array_append_new(
				arr, json_pack("{s:o, s:o, s:o, s:o, s:I}", "id",
					       str_json(m->id), "name",
					       str_json(m->name), "brand",
					       str_json(m->brand), "aliases", al,
					       "sections",
					       count_of(c, n, m->name)));
		}
	} else {
		for (i = 0; i < t->nsymptoms; i++) {
			const struct kb_symptom *s = &t->symptoms[i];

			json_array_append_new(
				arr, json_pack("{s:o, s:o, s:I}", "id",
					       str_json(s->id), "label",
					       str_json(s->label), "sections",
					       count_of(c, n, s->id)));
		}
	}
	kb_counts_free(c, n);
	return arr;
}
