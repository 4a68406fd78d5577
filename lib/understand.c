/* understand.c - what a query names: model, LED state, symptoms, free words. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy.h"
#include "textnorm.h"
#include "understand.h"

/* The most words a model name spans in a query ("ultimate ears boom 3"). */
#define MODEL_SPAN 5

static void
squash_into(struct kb_buf *b, const char *s)
{
	for (; *s; s++)
		if (*s != ' ')
			kb_buf_addc(b, *s);
}

/* Lowercase alphanumerics of s with everything else removed. */
static char *
squash(const char *s)
{
	char *n = kb_normalize(s);
	struct kb_buf b;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	squash_into(&b, n);
	free(n);
	return kb_buf_steal(&b);
}

static bool
same_digits(const char *a, const char *b)
{
	for (;;) {
		while (*a && !(*a >= '0' && *a <= '9'))
			a++;
		while (*b && !(*b >= '0' && *b <= '9'))
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

static bool
has_letters(const char *s, size_t min)
{
	size_t n = 0;

	for (; *s; s++)
		n += (*s >= 'a' && *s <= 'z');
	return n >= min;
}

/*
 * A model through a typo: consecutive words whose squashed form is within
 * the typo budget of a squashed alias with exactly the same digits, so
 * "soundcor 2" finds the Soundcore 2 and never the Soundcore 3.
 */
struct alias_form {
	const char *sq; /* squashed alias */
	char *own;	/* sq when it was squashed here */
	size_t len;
	size_t budget;
	const struct kb_model *model;
};

/* A brand as a query may spell it, squashed. */
struct brand_form {
	const char *sq;
	char *own;
	const char *brand;
};

/* One symptom phrase as matching sees it: its words' forms, in order. */
struct phrase_form {
	size_t symptom;
	size_t n;
	char w[16][64];
};

struct kb_understand_cache {
	/*
	 * The model and brand forms are built on first need, under lock:
	 * a query that names a model exactly never needs them, and a
	 * one-shot kbsearch should not pay for squashing every alias.
	 */
	const struct kb_taxonomy *tax;
	pthread_mutex_t lock;
	atomic_bool models_ready;
	struct alias_form *aliases; /* by first letter, else in taxonomy order */
	size_t naliases;
	size_t first[257]; /* aliases[first[c] .. first[c + 1]) begin with c */
	struct brand_form *brands; /* distinct, in order of first mention */
	size_t nbrands;
	struct phrase_form *phrases;
	size_t nphrases;
	struct kb_syn_group *syn;
	size_t nsyn;
};

/*
 * Form k of model m squashed (its aliases, then name, then brand): the
 * unpacked taxonomy's copy when it has one, else squashed here into *own.
 */
static const char *
model_form(const struct kb_taxonomy *t, size_t m, size_t k, const char *text,
	   char **own)
{
	const char *f = kb_taxonomy_model_form(t, m, k);

	*own = NULL;
	if (f != NULL)
		return f;
	*own = squash(text != NULL ? text : "");
	return *own;
}

static size_t
alias_forms(const struct kb_taxonomy *t, struct alias_form **out)
{
	struct alias_form *v = NULL;
	size_t n = 0, cap = 0, m, a;

	for (m = 0; m < t->nmodels; m++) {
		const struct kb_model *mo = &t->models[m];

		for (a = 0; a <= mo->aliases.n; a++) {
			char *own;
			const char *sq = model_form(t, m, a,
						    a < mo->aliases.n
							    ? mo->aliases.v[a]
							    : mo->name,
						    &own);
			char *letters = kb_xstrdup(sq), *w = letters;
			const char *r;

			/* The budget counts letters only. */
			for (r = sq; *r; r++)
				if (!(*r >= '0' && *r <= '9'))
					*w++ = *r;
			*w = '\0';
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = kb_xrealloc(v, cap * sizeof(*v));
			}
			v[n].sq = sq;
			v[n].own = own;
			v[n].budget = kb_typo_budget(letters);
			v[n].model = mo;
			n++;
			free(letters);
		}
	}
	*out = v;
	return n;
}

/*
 * A model through a typo: consecutive words whose squashed form is within
 * the typo budget of a squashed alias with exactly the same digits, so
 * "soundcor 2" finds the Soundcore 2 and never the Soundcore 3.
 */
static void
fuzzy_model(const struct kb_understand_cache *cache, const struct kb_token *tok,
	    size_t ntok, struct kb_understood *u)
{
	const struct alias_form *f = cache->aliases;
	struct kb_buf cat;
	size_t i, k, j, best = (size_t)-1, bi = 0, bk = 0, d;
	const struct kb_model *bm = NULL;

	kb_buf_init(&cat);
	for (i = 0; i < ntok; i++) {
		kb_buf_reset(&cat);
		kb_buf_add(&cat, "", 0);
		for (k = 1; k <= MODEL_SPAN && i + k <= ntok; k++) {
			squash_into(&cat, tok[i + k - 1].norm);
			if (cat.len < 5 || !has_letters(cat.data, 4))
				continue;
			unsigned char c0 = (unsigned char)cat.data[0];

			for (j = cache->first[c0]; j < cache->first[c0 + 1];
			     j++) {
				size_t gap = f[j].len > cat.len
						     ? f[j].len - cat.len
						     : cat.len - f[j].len;

				/* An edit per letter of length difference. */
				if (f[j].budget == 0 || gap > f[j].budget ||
				    !same_digits(f[j].sq, cat.data))
					continue;
				d = kb_edit_distance(cat.data, f[j].sq,
						     f[j].budget);
				if (d <= f[j].budget &&
				    (d < best || (d == best && k > bk))) {
					best = d;
					bm = f[j].model;
					bi = i;
					bk = k;
				}
			}
		}
	}
	kb_buf_free(&cat);
	if (bm != NULL && best > 0) {
		u->model = bm;
		u->model_fuzzy = true;
		u->model_start = bi;
		u->model_end = bi + bk;
	}
}

static void
brand_only(const struct kb_understand_cache *cache, const struct kb_token *tok,
	   size_t ntok, struct kb_understood *u)
{
	struct kb_buf cat;
	size_t i, k, m;

	kb_buf_init(&cat);
	for (i = 0; i < ntok && u->brand == NULL; i++) {
		kb_buf_reset(&cat);
		kb_buf_add(&cat, "", 0);
		for (k = 1; k <= 3 && i + k <= ntok && u->brand == NULL; k++) {
			squash_into(&cat, tok[i + k - 1].norm);
			for (m = 0; m < cache->nbrands; m++) {
				if (strcmp(cache->brands[m].sq, cat.data) == 0) {
					u->brand = cache->brands[m].brand;
					u->model_start = i;
					u->model_end = i + k;
					break;
				}
			}
		}
	}
	kb_buf_free(&cat);
}

static bool
is_light_word(const char *norm)
{
	static const char *const w[] = { "light", "lights", "led", "leds",
					 "indicator", "indicators", "lamp",
					 "glow", "glows", "glowing" };
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strcmp(norm, w[i]) == 0)
			return true;
	return false;
}

/* Token index range [*a, *b) covering byte span [start, end). */
static void
span_tokens(const struct kb_token *tok, size_t ntok, size_t start,
	    size_t end, size_t *a, size_t *b)
{
	size_t i;

	*a = *b = ntok;
	for (i = 0; i < ntok; i++) {
		if (tok[i].end > start && *a == ntok)
			*a = i;
		if (tok[i].start < end)
			*b = i + 1;
	}
	if (*a > *b)
		*a = *b;
}

/* A query word as matching sees it: stemmed, negations as "not". */
static void
match_form(const char *norm, char *out, size_t outsz)
{
	if (kb_is_negation(norm))
		snprintf(out, outsz, "not");
	else
		kb_stem(norm, out, outsz);
}

#define GAP 2

/*
 * Symptom phrases said with words in between: "won't my speaker charge"
 * is "won't charge".  Each word of a phrase (stop words aside) must follow
 * the previous one within GAP other words, in order.  Phrases already
 * found whole are not looked for again.
 */
static void
gapped_symptoms(const struct kb_taxonomy *t,
		const struct kb_understand_cache *cache,
		const struct kb_token *tok, size_t ntok, struct kb_understood *u,
		const bool *used)
{
	char (*form)[64] = kb_xcalloc(ntok + 1, sizeof(*form));
	size_t *idx = kb_xcalloc(ntok + 1, sizeof(*idx));
	size_t n = 0, i, p, k, j, start = 0, at = 0;

	for (i = 0; i < ntok; i++) {
		/* Words of a phrase already found belong to it alone. */
		if (used[i] || u->symptom_of[i] >= 0 ||
		    kb_is_stopword(tok[i].norm))
			continue;
		match_form(tok[i].norm, form[n], sizeof(form[n]));
		idx[n++] = i;
	}
	for (p = 0; p < cache->nphrases; p++) {
		const struct phrase_form *pf = &cache->phrases[p];
		const struct kb_symptom *sy = &t->symptoms[pf->symptom];

		if (kb_strv_contains(&u->symptoms, sy->id))
			continue;
		/* Try each place the first word occurs. */
		for (j = 0; j < n; j++) {
			size_t got, last = j;

			if (strcmp(form[j], pf->w[0]) != 0)
				continue;
			got = 1;
			for (k = j + 1; k < n && got < pf->n &&
					k <= last + GAP + 1;
			     k++) {
				if (strcmp(form[k], pf->w[got]) == 0) {
					got++;
					last = k;
				}
			}
			if (got == pf->n) {
				start = j;
				at = last;
				break;
			}
		}
		if (j == n)
			continue;
		kb_strv_push(&u->symptoms, sy->id);
		for (k = start; k <= at; k++)
			if (u->symptom_of[idx[k]] < 0)
				u->symptom_of[idx[k]] = (int)(u->symptoms.n - 1);
	}
	free(form);
	free(idx);
}

/* Group the alias forms by first letter, keeping their order within. */
static void
index_aliases(struct kb_understand_cache *c)
{
	struct alias_form *v = kb_xcalloc(c->naliases + 1, sizeof(*v));
	size_t count[256] = { 0 }, at[256], i, b;

	for (i = 0; i < c->naliases; i++) {
		c->aliases[i].len = strlen(c->aliases[i].sq);
		count[(unsigned char)c->aliases[i].sq[0]]++;
	}
	for (b = 0, i = 0; b < 256; b++) {
		c->first[b] = i;
		at[b] = i;
		i += count[b];
	}
	c->first[256] = i;
	for (i = 0; i < c->naliases; i++)
		v[at[(unsigned char)c->aliases[i].sq[0]]++] = c->aliases[i];
	free(c->aliases);
	c->aliases = v;
}

static size_t
form_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The alias and brand forms of the cache's taxonomy, built once. */
static const struct kb_understand_cache *
model_forms(const struct kb_understand_cache *cache)
{
	struct kb_understand_cache *c = (struct kb_understand_cache *)cache;
	const struct kb_taxonomy *t = c->tax;
	size_t s, k;

	if (atomic_load_explicit(&c->models_ready, memory_order_acquire))
		return c;
	pthread_mutex_lock(&c->lock);
	if (!atomic_load_explicit(&c->models_ready, memory_order_relaxed)) {
		/* Brands seen so far, by hash: index + 1, 0 for none. */
		size_t cap = 16, *seen;

		while (cap < 2 * t->nmodels)
			cap *= 2;
		seen = kb_xcalloc(cap, sizeof(*seen));
		c->naliases = alias_forms(t, &c->aliases);
		index_aliases(c);
		c->brands = kb_xcalloc(t->nmodels + 1, sizeof(*c->brands));
		for (s = 0; s < t->nmodels; s++) {
			char *own;
			const char *sq = model_form(
				t, s, t->models[s].aliases.n + 1,
				t->models[s].brand, &own);

			k = *sq ? form_hash(sq) & (cap - 1) : 0;
			while (*sq && seen[k] != 0 &&
			       strcmp(c->brands[seen[k] - 1].sq, sq) != 0)
				k = (k + 1) & (cap - 1);
			if (*sq == '\0' || seen[k] != 0) {
				free(own);
				continue;
			}
			seen[k] = c->nbrands + 1;
			c->brands[c->nbrands].sq = sq;
			c->brands[c->nbrands].own = own;
			c->brands[c->nbrands].brand = t->models[s].brand;
			c->nbrands++;
		}
		free(seen);
		atomic_store_explicit(&c->models_ready, true,
				      memory_order_release);
	}
	pthread_mutex_unlock(&c->lock);
	return c;
}

struct kb_understand_cache *
kb_understand_cache_new(const struct kb_taxonomy *t)
{
	struct kb_understand_cache *c = kb_xcalloc(1, sizeof(*c));
	size_t s, ph, k, cap = 0;

	c->tax = t;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->models_ready, false);
	c->nsyn = t->nsynonyms;
	c->syn = kb_xcalloc(t->nsynonyms + 1, sizeof(*c->syn));
	for (s = 0; s < t->nsynonyms; s++) {
		const struct kb_strv *g = &t->synonyms[s];
		char stem[128];

		c->syn[s].n = g->n;
		c->syn[s].m = kb_xcalloc(g->n + 1, sizeof(*c->syn[s].m));
		for (k = 0; k < g->n; k++) {
			struct kb_syn_member *m = &c->syn[s].m[k];

			m->norm = kb_normalize(g->v[k]);
			kb_stem(m->norm, stem, sizeof(stem));
			m->stem = kb_xstrdup(stem);
			m->multiword = strchr(m->norm, ' ') != NULL;
		}
	}
	for (s = 0; s < t->nsymptoms; s++) {
		for (ph = 0; ph < t->symptoms[s].phrases.n; ph++) {
			struct kb_token *pt = NULL;
			size_t npt = 0;
			struct phrase_form f;

			memset(&f, 0, sizeof(f));
			f.symptom = s;
			kb_tokenize(t->symptoms[s].phrases.v[ph], &pt, &npt);
			for (k = 0; k < npt && f.n < 16; k++)
				if (!kb_is_stopword(pt[k].norm))
					match_form(pt[k].norm, f.w[f.n++],
						   sizeof(f.w[0]));
			kb_tokens_free(pt);
			if (f.n < 2)
				continue;
			if (c->nphrases == cap) {
				cap = cap ? cap * 2 : 64;
				c->phrases = kb_xrealloc(
					c->phrases, cap * sizeof(*c->phrases));
			}
			c->phrases[c->nphrases++] = f;
		}
	}
	return c;
}

void
kb_understand_cache_free(struct kb_understand_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->naliases; i++)
		free(c->aliases[i].own);
	free(c->aliases);
	for (i = 0; i < c->nbrands; i++)
		free(c->brands[i].own);
	free(c->brands);
	free(c->phrases);
	for (i = 0; i < c->nsyn; i++) {
		size_t k;

		for (k = 0; k < c->syn[i].n; k++) {
			free(c->syn[i].m[k].norm);
			free(c->syn[i].m[k].stem);
		}
		free(c->syn[i].m);
	}
	free(c->syn);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct kb_syn_group *
kb_understand_synonyms(const struct kb_understand_cache *c, size_t *n)
{
	*n = c->nsyn;
	return c->syn;
}

void
kb_understand(const struct kb_taxonomy *t,
	      const struct kb_understand_cache *cache, const char *text,
	      struct kb_understood *u)
{
	struct kb_understand_cache *own = NULL;
	struct kb_token *tok = NULL;
	struct kb_match *m = NULL;
	size_t ntok = 0, n = 0, i, a, b;
	bool light = false, *used = NULL;

	if (cache == NULL)
		cache = own = kb_understand_cache_new(t);
	memset(u, 0, sizeof(*u));
	kb_strv_init(&u->symptoms);
	kb_strv_init(&u->terms);
	kb_tokenize(text, &tok, &ntok);
	used = kb_xcalloc(ntok + 1, sizeof(*used));

	kb_taxonomy_find_models(t, text, &m, &n);
	if (n > 0) {
		u->model = &t->models[m[0].index];
		span_tokens(tok, ntok, m[0].start, m[0].end, &u->model_start,
			    &u->model_end);
	}
	free(m);
	m = NULL;
	n = 0;
	if (u->model == NULL)
		fuzzy_model(model_forms(cache), tok, ntok, u);
	if (u->model == NULL)
		brand_only(model_forms(cache), tok, ntok, u);
	for (i = u->model_start; i < u->model_end; i++)
		used[i] = true;

	u->ntokens = ntok;
	u->symptom_of = kb_xcalloc(ntok + 1, sizeof(*u->symptom_of));
	u->led_word = kb_xcalloc(ntok + 1, sizeof(*u->led_word));
	for (i = 0; i < ntok; i++) {
		u->symptom_of[i] = -1;
		light |= is_light_word(tok[i].norm);
	}
	kb_taxonomy_find_colors(t, text, &m, &n);
	for (i = 0; i < n && u->color == NULL; i++) {
		span_tokens(tok, ntok, m[i].start, m[i].end, &a, &b);
		if (a < b && used[a])
			continue;
		u->color = &t->colors[m[i].index];
		for (; a < b; a++)
			u->led_word[a] = true;
	}
	free(m);
	m = NULL;
	n = 0;
	/* "turn it on" names no light; "solid red" and "no light" do. */
	if (u->color != NULL || light) {
		kb_taxonomy_find_patterns(t, text, &m, &n);
		for (i = 0; i < n && u->pattern == NULL; i++) {
			span_tokens(tok, ntok, m[i].start, m[i].end, &a, &b);
			if (a < b && used[a])
				continue;
			u->pattern = &t->patterns[m[i].index];
			for (; a < b; a++)
				u->led_word[a] = true;
		}
		free(m);
		m = NULL;
		n = 0;
	}

	kb_taxonomy_find_symptoms(t, text, &m, &n);
	for (i = 0; i < n; i++) {
		const char *id = t->symptoms[m[i].index].id;
		size_t k;

		kb_strv_add_unique(&u->symptoms, id);
		for (k = 0; k < u->symptoms.n; k++)
			if (strcmp(u->symptoms.v[k], id) == 0)
				break;
		span_tokens(tok, ntok, m[i].start, m[i].end, &a, &b);
		for (; a < b; a++)
			if (u->symptom_of[a] < 0)
				u->symptom_of[a] = (int)k;
	}
	free(m);

	if (ntok <= 24)
		gapped_symptoms(t, cache, tok, ntok, u, used);

	for (i = 0; i < ntok; i++) {
		if (used[i] || kb_is_stopword(tok[i].norm))
			continue;
		kb_strv_add_unique(&u->terms, tok[i].norm);
	}
	free(used);
	kb_tokens_free(tok);
	kb_understand_cache_free(own);
}

void
kb_understood_free(struct kb_understood *u)
{
	if (u == NULL)
		return;
	kb_strv_free(&u->symptoms);
	kb_strv_free(&u->terms);
	free(u->symptom_of);
	free(u->led_word);
}
