/* tag.c - tagging articles and sections with models and symptoms. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_int.h"
#include "index.h"
#include "textnorm.h"

/* Canonical model name for a front-matter value; unknown ones kept as given. */
static void
add_model(const struct kb_taxonomy *t, struct kb_strv *sv, const char *name)
{
	const struct kb_model *m = kb_taxonomy_model(t, name);

	kb_strv_add_unique(sv, m ? m->name : name);
}

static void
add_symptom(const struct kb_taxonomy *t, struct kb_strv *sv, const char *name)
{
	const struct kb_symptom *s = kb_taxonomy_symptom(t, name);
	char *slug;

	if (s != NULL) {
		kb_strv_add_unique(sv, s->id);
		return;
	}
	slug = kb_slugify(name);
	if (*slug)
		kb_strv_add_unique(sv, slug);
	free(slug);
}

/*
 * Add the models and symptoms text names; tok[0..ntok) are its tokens,
 * and terms (or NULL) their index terms.
 */
static void
find_in_tok(const struct kb_taxonomy *t, const char *text,
	    const struct kb_token *tok, size_t ntok,
	    const struct kb_token_terms *terms, struct kb_strv *models,
	    struct kb_strv *symptoms, bool *colour)
{
	struct kb_match *m = NULL;
	size_t n = 0, i;

	if (models != NULL) {
		kb_taxonomy_find_models_tok(t, text, tok, ntok, &m, &n);
		for (i = 0; i < n; i++)
			kb_strv_add_unique(models, t->models[m[i].index].name);
		free(m);
		m = NULL;
		n = 0;
	}
	if (symptoms != NULL) {
		if (terms != NULL)
			kb_taxonomy_find_symptoms_terms(t, text, tok, ntok,
							terms, &m, &n, colour);
		else
			kb_taxonomy_find_symptoms_tok(t, text, tok, ntok, &m,
						      &n);
		for (i = 0; i < n; i++)
			kb_strv_add_unique(symptoms,
					   t->symptoms[m[i].index].id);
		free(m);
	}
}

static void
find_in(const struct kb_taxonomy *t, const char *text, struct kb_strv *models,
	struct kb_strv *symptoms)
{
	struct kb_token *tok = NULL;
	size_t ntok = 0;

	if (text == NULL)
		return;
	kb_tokenize(text, &tok, &ntok);
	find_in_tok(t, text, tok, ntok, NULL, models, symptoms, NULL);
	kb_tokens_free(tok);
}

void
kb_tag_title(const struct kb_taxonomy *t, const char *title,
	     struct kb_strv *symptoms)
{
	find_in(t, title, NULL, symptoms);
}

void
kb_section_words_make(const struct kb_section *s, struct kb_section_words *w)
{
	size_t hl = strlen(s->heading), bl = strlen(s->body), i, k, cap;
	char buf[256];
	uint32_t th;
	bool stop, neg;

	/* "heading\nbody": a section is tagged by what either names. */
	w->text = kb_xmalloc(hl + bl + 2);
	memcpy(w->text, s->heading, hl);
	w->text[hl] = '\n';
	memcpy(w->text + hl + 1, s->body, bl + 1);
	/*
	 * No word spans the line break, so the words of the joined text are
	 * the heading's followed by the body's, as each alone would give.
	 */
	kb_tokenize_n(w->text, hl + bl + 1, &w->tok, &w->ntok);
	for (i = 0; i < w->ntok && w->tok[i].start < hl; i++)
		;
	w->nhead = i;
	/* Stems serve both symptom matching and the index terms. */
	cap = hl + bl + 2 + 8 * w->ntok;
	w->terms = kb_xmalloc(cap);
	w->terms_len = 0;
	w->head_len = 0;
	w->term_at = kb_xmalloc((w->ntok ? w->ntok : 1) * sizeof(*w->term_at));
	w->neg = kb_xmalloc(2 * (w->ntok ? w->ntok : 1));
	w->stop = w->neg + w->ntok;
	w->term_key = kb_xmalloc((w->ntok ? w->ntok : 1) *
				 (sizeof(*w->term_key) + sizeof(*w->norm_hash)));
	w->norm_hash = (uint32_t *)(w->term_key + w->ntok);
	for (i = 0; i < w->ntok; i++) {
		if (i == w->nhead)
			w->head_len = w->terms_len;
		k = kb_fts_term_of_token(&w->tok[i], buf, sizeof(buf), &stop,
					 &neg, &w->norm_hash[i], &th);
		w->term_key[i] = KB_TERM_KEY(k, th);
		w->neg[i] = neg;
		w->stop[i] = stop;
		if (w->terms_len + k + 1 > cap) {
			cap = (w->terms_len + k + 1) * 2;
			w->terms = kb_xrealloc(w->terms, cap);
		}
		w->term_at[i] = (uint32_t)w->terms_len;
		memcpy(w->terms + w->terms_len, buf, k);
		w->terms[w->terms_len + k] = '\0';
		w->terms_len += k + 1;
	}
	if (w->nhead == w->ntok)
		w->head_len = w->terms_len;
}

void
kb_section_words_free(struct kb_section_words *w)
{
	if (w == NULL)
		return;
	free(w->text);
	kb_tokens_free(w->tok);
	free(w->terms);
	free(w->term_at);
	free(w->neg); /* and stop with it */
	free(w->term_key); /* and norm_hash with it */
	memset(w, 0, sizeof(*w));
}

void
kb_tag_article_words(const struct kb_taxonomy *t, struct kb_article *a,
		     const struct kb_section_words *words,
		     struct kb_strv *models, struct kb_strv *symptoms)
{
	bool fm_models = a->fm_models.n > 0, fm_symptoms = a->fm_symptoms.n > 0;
	size_t i, k;

	for (i = 0; i < a->fm_models.n; i++)
		add_model(t, models, a->fm_models.v[i]);
	for (i = 0; i < a->fm_symptoms.n; i++)
		add_symptom(t, symptoms, a->fm_symptoms.v[i]);

	/*
	 * Each section's text is read once: what it names tags the section,
	 * and, without front matter, the article too.  Models come from
	 * front matter when it gives them, so a passing mention of another
	 * model does not re-tag a section.
	 */
	if (!fm_models || !fm_symptoms)
		find_in(t, a->title, fm_models ? NULL : models,
			fm_symptoms ? NULL : symptoms);
	for (i = 0; i < a->nsections; i++) {
		struct kb_section *s = &a->sections[i];
		struct kb_section_words own;
		const struct kb_section_words *w = &own;
		struct kb_token_terms terms;
		bool colour;

		if (words != NULL)
			w = &words[i];
		else
			kb_section_words_make(s, &own);
		kb_strv_free(&s->models);
		kb_strv_free(&s->symptoms);
		terms.text = w->terms;
		terms.at = w->term_at;
		terms.neg = w->neg;
		terms.stop = w->stop;
		terms.key = w->term_key;
		colour = false;
		find_in_tok(t, w->text, w->tok, w->ntok, &terms,
			    fm_models ? NULL : &s->models, &s->symptoms,
			    &colour);
		s->colour = t == NULL ? KB_COLOUR_UNKNOWN
			    : colour  ? KB_COLOUR_MAYBE
				      : KB_COLOUR_NONE;
		if (words == NULL)
			kb_section_words_free(&own);
		if (!fm_models)
			for (k = 0; k < s->models.n; k++)
				kb_strv_add_unique(models, s->models.v[k]);
		if (!fm_symptoms)
			for (k = 0; k < s->symptoms.n; k++)
				kb_strv_add_unique(symptoms, s->symptoms.v[k]);
	}

	/*
	 * A section names its own symptoms (a fix for "won't fully charge"
	 * in a general article); when it names none it inherits the
	 * article's, and likewise for models.
	 */
	for (i = 0; i < a->nsections; i++) {
		struct kb_section *s = &a->sections[i];

		if (s->models.n == 0)
			for (k = 0; k < models->n; k++)
				kb_strv_push(&s->models, models->v[k]);
		if (s->symptoms.n == 0)
			for (k = 0; k < symptoms->n; k++)
				kb_strv_push(&s->symptoms, symptoms->v[k]);
	}
}

void
kb_tag_article(const struct kb_taxonomy *t, struct kb_article *a,
	       struct kb_strv *models, struct kb_strv *symptoms)
{
	kb_tag_article_words(t, a, NULL, models, symptoms);
}

/* Verbs that open the heading of a fix in help-desk articles. */
static const char *const fix_verbs[] = {
	"adjust", "avoid", "bypass", "calibrate", "change", "charge",
	"check", "claim", "clean", "clear", "close", "connect", "contact",
	"disable", "disconnect", "dont", "download", "dry", "enable",
	"ensure", "find", "fit", "fix", "forget", "get", "hold", "inspect",
	"install", "keep", "let", "lift", "look", "make", "move", "open",
	"pair", "plug", "power", "press", "reboot", "recharge", "reconnect",
	"reinstall", "remove", "repair", "replace", "resolder", "reset",
	"restart", "restore", "run", "see", "send", "set", "solder",
	"straighten", "swap", "switch", "take", "test", "tighten", "try",
	"turn", "unpair", "unplug", "update", "upgrade", "use", "verify",
	"wait", "wipe", "wire",
};

double
kb_section_prior(const char *heading, size_t position)
{
	const char *p = heading;
	char word[32];
	size_t n = 0, i;
	double pos;

	if (heading == NULL || *heading == '\0')
		return 0.8;
	pos = position < 3 ? 1.0 + 0.04 * (double)(3 - position) : 1.0;
	/* Skip a step number: "2. Reset the device", "Step 3: Clean". */
	while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		p++;
	if (strncasecmp(p, "step ", 5) == 0) {
		p += 5;
		while (*p && !((*p >= 'a' && *p <= 'z') ||
			       (*p >= 'A' && *p <= 'Z')))
			p++;
	}
	for (; *p && n + 1 < sizeof(word); p++) {
		char c = *p;

		if (c == '\'')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c < 'a' || c > 'z')
			break;
		word[n++] = c;
	}
	word[n] = '\0';
	for (i = 0; i < sizeof(fix_verbs) / sizeof(fix_verbs[0]); i++)
		if (fix_verbs[i][0] == word[0] && strcmp(word, fix_verbs[i]) == 0)
			return 1.15 * pos;
	return pos;
}

void
kb_tag_token_add(struct kb_buf *b, int kind, const char *value)
{
	size_t n = strlen(value);
	char *o;

	kb_buf_adds(b, kind == KB_TAG_MODEL ? "kbmodel" : "kbsym");
	kb_buf_reserve(b, n);
	o = b->data + b->len;
	for (; *value; value++) {
		char c = *value;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			*o++ = c;
	}
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

char *
kb_tag_token(int kind, const char *value)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_tag_token_add(&b, kind, value);
	return kb_buf_steal(&b);
}
