/* taxonomy.c - loading kb/taxonomy.json and finding its entries in text. */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"
#include "textnorm.h"

#define TAXONOMY_MAX_BYTES (16u << 20)
#define HASH_INIT 14695981039346656037ULL

/*
 * A hash map from byte strings to small integers, open addressing.  The
 * taxonomy is loaded once and searched for every section of every
 * article, so lookups must not allocate.
 */
struct strmap_slot {
	uint32_t key; /* 1 + the key's offset in keys; 0: empty slot */
	uint32_t len;
	uint32_t hash; /* the key's hash, low 32 bits */
	uint32_t val;
};
_Static_assert(sizeof(struct strmap_slot) == 16, "slots are packed as is");

/*
 * The keys live in one buffer, each followed by a NUL, so that slots and
 * keys can be packed as they are and an unpacked map used in place.
 */
struct strmap {
	struct strmap_slot *slots;
	char *keys;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	size_t keylen, keycap;
	bool keys_borrowed;  /* keys live in an unpacked taxonomy's arena */
	bool slots_borrowed; /* and so do the slots */
	/*
	 * A map being built also keeps a bit for each key's hash, eight
	 * bits a slot, so that most absent words (nearly every word of an
	 * article) are told apart without touching the slots; NULL in an
	 * unpacked map.
	 */
	unsigned char *filter;
	unsigned filter_shift; /* 32 - log2 of its bits */
};

static size_t
filter_bit(const struct strmap *m, uint32_t h)
{
	return (size_t)((h * 0x9E3779B1u) >> m->filter_shift);
}

static void
filter_add(struct strmap *m, uint32_t h)
{
	size_t b = filter_bit(m, h);

	m->filter[b >> 3] |= (unsigned char)(1u << (b & 7));
}

static uint64_t
hash_more(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
strmap_free(struct strmap *m)
{
	if (!m->keys_borrowed)
		free(m->keys);
	if (!m->slots_borrowed)
		free(m->slots);
	free(m->filter);
	memset(m, 0, sizeof(*m));
}

/* The slot holding key, or the empty slot where it would go. */
static struct strmap_slot *
strmap_slot(const struct strmap *m, uint64_t h, const char *key, size_t len)
{
	uint32_t h32 = (uint32_t)h;
	size_t i = (size_t)h32 & (m->cap - 1);
	struct strmap_slot *s;

	for (;;) {
		s = &m->slots[i];
		if (s->key == 0 ||
		    (s->hash == h32 && s->len == len &&
		     memcmp(m->keys + s->key - 1, key, len) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

/* The value stored for a key whose hash is h, or NULL. */
static const uint32_t *
strmap_get_h(const struct strmap *m, uint64_t h, const char *key, size_t len)
{
	const struct strmap_slot *s;
	size_t b;

	if (m->cap == 0)
		return NULL;
	if (m->filter != NULL) {
		b = filter_bit(m, (uint32_t)h);
		if (!(m->filter[b >> 3] & (1u << (b & 7))))
			return NULL;
	}
	s = strmap_slot(m, h, key, len);
	return s->key != 0 ? &s->val : NULL;
}

static const uint32_t *
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	return strmap_get_h(m, hash_more(HASH_INIT, key, len), key, len);
}

static void
strmap_grow(struct strmap *m)
{
	struct strmap old = *m;
	struct strmap_slot *s;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = kb_xcalloc(m->cap, sizeof(*m->slots));
	/* cap bytes of filter: 8 * cap bits, cap a power of two >= 64 */
	m->filter = kb_xcalloc(m->cap, 1);
	m->filter_shift = 32 - 3;
	for (i = m->cap; i > 1; i >>= 1)
		m->filter_shift--;
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].key == 0)
			continue;
		s = strmap_slot(m, old.slots[i].hash,
				m->keys + old.slots[i].key - 1,
				old.slots[i].len);
		*s = old.slots[i];
		filter_add(m, old.slots[i].hash);
	}
	free(old.slots);
	free(old.filter);
}

/*
 * The value slot for key, added with val when the key is new (*added
 * tells which, when not NULL).  Only maps being built grow: an unpacked
 * map is never added to.
 */
static uint32_t *
strmap_put(struct strmap *m, const char *key, size_t len, uint32_t val,
	   bool *added)
{
	uint64_t h = hash_more(HASH_INIT, key, len);
	struct strmap_slot *s;

	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	s = strmap_slot(m, h, key, len);
	if (added != NULL)
		*added = s->key == 0;
	if (s->key == 0) {
		if (len >= UINT32_MAX / 2 ||
		    m->keylen + len + 1 >= UINT32_MAX)
			kb_die_nomem();
		if (m->keylen + len + 1 > m->keycap) {
			m->keycap = m->keycap ? m->keycap : 256;
			while (m->keylen + len + 1 > m->keycap)
				m->keycap *= 2;
			m->keys = kb_xrealloc(m->keys, m->keycap);
		}
		memcpy(m->keys + m->keylen, key, len);
		m->keys[m->keylen + len] = '\0';
		s->key = (uint32_t)m->keylen + 1;
		s->len = (uint32_t)len;
		s->hash = (uint32_t)h;
		s->val = val;
		filter_add(m, s->hash);
		m->keylen += len + 1;
		m->n++;
	}
	return &s->val;
}

/*
 * A phrase as a sequence of keys: each key stands for a stem (or a group
 * of synonymous stems).  Stop words are not part of it.
 */
struct phrase {
	uint32_t *keys;
	size_t n;
	size_t entry; /* symptom / colour / pattern index */
	size_t ord;   /* order added, while a set is built and sorted */
};

struct phrase_set {
	struct phrase *v;
	size_t n, cap;
	size_t *first; /* phrases with first key k: v[first[k]..first[k+1]) */
};

enum { SET_SYMPTOMS, SET_COLORS, SET_PATTERNS, NSETS };
enum { NAMES_MODELS, NAMES_SYMPTOMS, NAMES_COLORS, NAMES_PATTERNS, NNAMES };

struct kb_taxonomy_index {
	/*
	 * Model aliases without spaces ("soundcore2") and every prefix of
	 * them: the value is model + 1 for a whole alias, 0 for a prefix, so
	 * a scan over text tokens stops as soon as it leaves every alias.
	 */
	struct strmap squash;
	size_t squash_max;
	struct strmap dict; /* stem -> key (1..nkeys) */
	uint32_t *canon;    /* key -> key standing for its synonym group */
	size_t nkeys, capkeys;
	uint32_t not_key; /* what every negation reads as */
	struct phrase_set sets[NSETS];
	struct strmap names[NNAMES]; /* squashed id/name/alias -> index */
	/*
	 * Unpacked only: each model's aliases, name and brand squashed, in
	 * that order, model m's from forms[form_at[m]]; strings in the arena.
	 */
	const char **forms;
	size_t *form_at;
};

/* Text concatenated without spaces: "Sound-Core 2" -> "soundcore2". */
static char *
squash_text(const char *text)
{
	struct kb_token *tok;
	struct kb_buf b;
	size_t n, i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	kb_tokenize(text, &tok, &n);
	for (i = 0; i < n; i++)
		kb_buf_adds(&b, tok[i].norm);
	kb_tokens_free(tok);
	return kb_buf_steal(&b);
}

/*
 * squash_text for a name being looked up, as every section's tags are,
 * into buf[0..bufsz) when it fits, else allocated (*own says which).  In
 * ASCII without apostrophes the words are the runs of letters and digits,
 * so their norms joined are those bytes lowercased; anything else is
 * tokenised.  (Building the index keeps to squash_text: the order of its
 * allocations decides the order of equal phrases.)
 */
static char *
squash_name(const char *text, char *buf, size_t bufsz, bool *own)
{
	const char *p;
	char *sq, *q;

	for (p = text; *p; p++)
		if ((unsigned char)*p >= 0x80 || *p == '\'')
			break;
	*own = *p != '\0' || (size_t)(p - text) >= bufsz;
	if (*p != '\0')
		return squash_text(text);
	sq = q = *own ? kb_xmalloc((size_t)(p - text) + 1) : buf;
	for (p = text; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*q++ = (char)(*p - 'A' + 'a');
		else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			*q++ = *p;
	}
	*q = '\0';
	return sq;
}

static uint32_t
intern_stem(struct kb_taxonomy_index *x, const char *stem)
{
	bool added;
	uint32_t *v;

	v = strmap_put(&x->dict, stem, strlen(stem), (uint32_t)x->nkeys + 1,
		       &added);
	if (added) {
		x->nkeys++;
		if (x->nkeys + 1 > x->capkeys) {
			x->capkeys = x->capkeys ? x->capkeys * 2 : 256;
			x->canon = kb_xrealloc(x->canon, x->capkeys *
							 sizeof(*x->canon));
			x->canon[0] = 0;
		}
		x->canon[x->nkeys] = (uint32_t)x->nkeys;
	}
	return *v;
}

/* Key of a (non-stop-word) norm, adding its stem when intern is set. */
static uint32_t
key_of_norm(const struct kb_taxonomy_index *x, const char *norm)
{
	char stem[128];
	const uint32_t *v;
	uint32_t nh, sh;
	size_t len;
	bool stop, neg;

	/* the stem's hash comes with it (kb_fnv1a, as the map's) */
	len = kb_stem_hashed(norm, stem, sizeof(stem), &stop, &neg, &nh, &sh);
	if (neg)
		return x->not_key;
	if (len >= sizeof(stem))
		return 0; /* longer than any word we stored */
	v = strmap_get_h(&x->dict, sh, stem, len);
	return v != NULL ? x->canon[*v] : 0;
}

/* Key of a term made beforehand (see struct kb_token_terms). */
static uint32_t
key_of_term(const struct kb_taxonomy_index *x, const char *term, bool neg,
	    uint64_t tk)
{
	const uint32_t *v;
	size_t len = KB_TERM_KEY_LEN(tk);

	if (neg)
		return x->not_key;
	/* key_of_norm gives up on stems of 128 bytes or more; so here. */
	if (len >= 128)
		return 0;
	v = strmap_get_h(&x->dict, KB_TERM_KEY_HASH(tk), term, len);
	return v != NULL ? x->canon[*v] : 0;
}

static uint32_t
intern_norm(struct kb_taxonomy_index *x, const char *norm)
{
	char stem[128];
	uint32_t k;

	if (kb_is_negation(norm))
		return x->not_key;
	if (kb_stem(norm, stem, sizeof(stem)) >= sizeof(stem))
		return 0;
	k = intern_stem(x, stem); /* may move x->canon */
	return x->canon[k];
}

static void
add_synonym_group(struct kb_taxonomy_index *x, const struct kb_strv *group)
{
	struct kb_token *tok;
	size_t n, i;
	uint32_t rep = 0, k;

	for (i = 0; i < group->n; i++) {
		kb_tokenize(group->v[i], &tok, &n);
		/* Only single words: phrases are matched word by word. */
		if (n == 1 && !kb_is_stopword(tok[0].norm)) {
			k = intern_norm(x, tok[0].norm);
			if (k == 0)
				;
			else if (rep == 0)
				rep = k;
			else if (k != rep && x->canon[k] == k)
				x->canon[k] = rep;
		}
		kb_tokens_free(tok);
	}
}

static void
add_phrase(struct kb_taxonomy_index *x, struct phrase_set *set,
	   const char *text, size_t entry)
{
	struct kb_token *tok;
	struct phrase ph;
	size_t n, i;
	uint32_t k;

	kb_tokenize(text, &tok, &n);
	ph.keys = kb_xcalloc(n ? n : 1, sizeof(*ph.keys));
	ph.n = 0;
	ph.entry = entry;
	ph.ord = set->n;
	for (i = 0; i < n; i++) {
		if (kb_is_stopword(tok[i].norm))
			continue;
		k = intern_norm(x, tok[i].norm);
		if (k == 0)
			goto unusable;
		ph.keys[ph.n++] = k;
	}
	if (ph.n == 0)
		goto unusable;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = kb_xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n++] = ph;
	kb_tokens_free(tok);
	return;
unusable:
	/* All stop words, or a word too long to stem: nothing to match. */
	free(ph.keys);
	kb_tokens_free(tok);
}

static int
cmp_phrase(const void *a, const void *b)
{
	const struct phrase *p = a, *q = b;

	if (p->keys[0] != q->keys[0])
		return p->keys[0] < q->keys[0] ? -1 : 1;
	/* Keep taxonomy order among phrases with the same first key. */
	if (p->entry != q->entry)
		return p->entry < q->entry ? -1 : 1;
	return p->ord < q->ord ? -1 : p->ord > q->ord;
}

/* Where each first key's phrases begin, in a set sorted by first key. */
static void
index_first(const struct kb_taxonomy_index *x, struct phrase_set *set)
{
	size_t i, k;

	set->first = kb_xcalloc(x->nkeys + 2, sizeof(*set->first));
	i = 0;
	for (k = 0; k <= x->nkeys + 1; k++) {
		while (i < set->n && set->v[i].keys[0] < k)
			i++;
		set->first[k] = i;
	}
}

static void
finish_set(struct kb_taxonomy_index *x, struct phrase_set *set)
{
	if (set->n > 0)
		qsort(set->v, set->n, sizeof(*set->v), cmp_phrase);
	index_first(x, set);
}

static void
add_name(struct strmap *m, const char *text, size_t entry)
{
	char *sq = squash_text(text);

	if (sq[0] != '\0')
		strmap_put(m, sq, strlen(sq), (uint32_t)entry, NULL);
	free(sq);
}

static bool
all_digits(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Add a model alias (and its prefixes) to the squashed-alias map. */
static void
add_model_alias(struct kb_taxonomy_index *x, const char *alias,
		const char *squashed_brand, size_t model)
{
	char *sq = squash_text(alias);
	size_t len = strlen(sq), i;
	uint32_t *v;

	/* A brand alone, or a bare number, would match far too much. */
	if (len == 0 || strcmp(sq, squashed_brand) == 0 || all_digits(sq))
		goto out;
	for (i = 1; i < len; i++)
		strmap_put(&x->squash, sq, i, 0, NULL);
	v = strmap_put(&x->squash, sq, len, (uint32_t)model + 1, NULL);
	if (*v == 0)
		*v = (uint32_t)model + 1;
	if (len > x->squash_max)
		x->squash_max = len;
out:
	free(sq);
}

/* "JBL Flip 5" with brand "JBL" -> "Flip 5"; NULL when it has no brand. */
static char *
name_without_brand(const struct kb_model *m)
{
	struct kb_token *nt, *bt;
	size_t nn, nb, i;
	char *rest = NULL;

	if (m->brand == NULL || m->brand[0] == '\0')
		return NULL;
	kb_tokenize(m->name, &nt, &nn);
	kb_tokenize(m->brand, &bt, &nb);
	if (nb == 0 || nn <= nb)
		goto out;
	for (i = 0; i < nb; i++)
		if (strcmp(nt[i].norm, bt[i].norm) != 0)
			goto out;
	rest = kb_xstrdup(m->name + nt[nb].start);
out:
	kb_tokens_free(nt);
	kb_tokens_free(bt);
	return rest;
}

static void
index_free(struct kb_taxonomy_index *x)
{
	size_t i, j;

	if (x == NULL)
		return;
	strmap_free(&x->squash);
	strmap_free(&x->dict);
	free(x->canon);
	for (i = 0; i < NSETS; i++) {
		for (j = 0; j < x->sets[i].n; j++)
			free(x->sets[i].v[j].keys);
		free(x->sets[i].v);
		free(x->sets[i].first);
	}
	for (i = 0; i < NNAMES; i++)
		strmap_free(&x->names[i]);
	free(x->forms);
	free(x->form_at);
	free(x);
}

static void
index_led_terms(struct kb_taxonomy_index *x, struct phrase_set *set,
		struct strmap *names, const struct kb_led_term *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		add_phrase(x, set, v[i].id, i);
		add_name(names, v[i].id, i);
		for (j = 0; j < v[i].synonyms.n; j++) {
			add_phrase(x, set, v[i].synonyms.v[j], i);
			add_name(names, v[i].synonyms.v[j], i);
		}
	}
}

static struct kb_taxonomy_index *
index_build(const struct kb_taxonomy *t)
{
	struct kb_taxonomy_index *x = kb_xcalloc(1, sizeof(*x));
	const struct kb_model *m;
	const struct kb_symptom *s;
	char *brand, *rest;
	size_t i, j;

	x->not_key = intern_stem(x, "not");
	for (i = 0; i < t->nsynonyms; i++)
		add_synonym_group(x, &t->synonyms[i]);
	for (i = 0; i < t->nmodels; i++) {
		m = &t->models[i];
		brand = squash_text(m->brand != NULL ? m->brand : "");
		rest = name_without_brand(m);
		add_model_alias(x, m->name, brand, i);
		if (rest != NULL)
			add_model_alias(x, rest, brand, i);
		for (j = 0; j < m->aliases.n; j++)
			add_model_alias(x, m->aliases.v[j], brand, i);
		add_name(&x->names[NAMES_MODELS], m->id, i);
		add_name(&x->names[NAMES_MODELS], m->name, i);
		if (rest != NULL)
			add_name(&x->names[NAMES_MODELS], rest, i);
		for (j = 0; j < m->aliases.n; j++)
			add_name(&x->names[NAMES_MODELS], m->aliases.v[j], i);
		free(rest);
		free(brand);
	}
	for (i = 0; i < t->nsymptoms; i++) {
		s = &t->symptoms[i];
		add_name(&x->names[NAMES_SYMPTOMS], s->id, i);
		if (s->label != NULL)
			add_name(&x->names[NAMES_SYMPTOMS], s->label, i);
		for (j = 0; j < s->phrases.n; j++) {
			add_phrase(x, &x->sets[SET_SYMPTOMS], s->phrases.v[j],
				   i);
			add_name(&x->names[NAMES_SYMPTOMS], s->phrases.v[j],
				 i);
		}
	}
	index_led_terms(x, &x->sets[SET_COLORS], &x->names[NAMES_COLORS],
			t->colors, t->ncolors);
	index_led_terms(x, &x->sets[SET_PATTERNS], &x->names[NAMES_PATTERNS],
			t->patterns, t->npatterns);
	for (i = 0; i < NSETS; i++)
		finish_set(x, &x->sets[i]);
	return x;
}

/*
 * The index of t, or one built for this call (in *tmp, which the caller
 * frees) when t was put together by hand.
 */
static const struct kb_taxonomy_index *
index_of(const struct kb_taxonomy *t, struct kb_taxonomy_index **tmp)
{
	*tmp = NULL;
	if (t->index != NULL)
		return t->index;
	*tmp = index_build(t);
	return *tmp;
}

/* ---- Loading and validating ---- */

/* One step of a path into the JSON document: a member or an element. */
struct jstep {
	const char *key; /* NULL: an array element */
	size_t idx;
};

struct loader {
	const char *name; /* for messages */
	const char *text;
	size_t len;
	struct kb_error *err;
	struct jstep path[8];
	int depth;
};

static void
path_push_key(struct loader *ld, const char *key)
{
	if (ld->depth < (int)(sizeof(ld->path) / sizeof(*ld->path)))
		ld->path[ld->depth] = (struct jstep){key, 0};
	ld->depth++;
}

static void
path_push_idx(struct loader *ld, size_t idx)
{
	if (ld->depth < (int)(sizeof(ld->path) / sizeof(*ld->path)))
		ld->path[ld->depth] = (struct jstep){NULL, idx};
	ld->depth++;
}

static void
path_pop(struct loader *ld)
{
	ld->depth--;
}

/*
 * Jansson gives positions only for syntax errors, so the line of a value
 * that is well-formed but wrong is found by walking the (valid) text
 * along the path.  These helpers skip one JSON construct each.
 */
static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			 s[i] == '\r'))
		i++;
	return i;
}

static size_t
skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

static size_t
skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (i < n && s[i] == '"')
		return skip_string(s, n, i);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			if (s[i] == '"') {
				i = skip_string(s, n, i);
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
	       s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

/* From the value at i, follow one step; SIZE_MAX when it is not there. */
static size_t
follow_step(const char *s, size_t n, size_t i, const struct jstep *st)
{
	size_t k, klen, count = 0, was;

	if (i >= n || s[i] != (st->key != NULL ? '{' : '['))
		return SIZE_MAX;
	i = skip_ws(s, n, i + 1);
	while (i < n && s[i] != '}' && s[i] != ']') {
		was = i;
		if (st->key != NULL) {
			k = i + 1;
			i = skip_string(s, n, i);
			klen = i > k ? i - k - 1 : 0;
			i = skip_ws(s, n, i);
			if (i < n && s[i] == ':')
				i = skip_ws(s, n, i + 1);
			if (klen == strlen(st->key) &&
			    memcmp(s + k, st->key, klen) == 0)
				return i;
		} else if (count++ == st->idx) {
			return i;
		}
		i = skip_ws(s, n, skip_value(s, n, i));
		if (i < n && s[i] == ',')
			i = skip_ws(s, n, i + 1);
		if (i == was)
			break; /* not JSON after all: give up on the line */
	}
	return SIZE_MAX;
}

static int
line_of_path(const struct loader *ld)
{
	size_t i = skip_ws(ld->text, ld->len, 0), next, j;
	int d, line = 1;

	for (d = 0; d < ld->depth && d < 8; d++) {
		next = follow_step(ld->text, ld->len, i, &ld->path[d]);
		if (next == SIZE_MAX)
			break;
		i = next;
	}
	for (j = 0; j < i && j < ld->len; j++)
		if (ld->text[j] == '\n')
			line++;
	return line;
}

static void
path_render(const struct loader *ld, struct kb_buf *b)
{
	int d;

	for (d = 0; d < ld->depth && d < 8; d++) {
		if (ld->path[d].key != NULL)
			kb_buf_printf(b, "%s%s", d > 0 ? "." : "",
				      ld->path[d].key);
		else
			kb_buf_printf(b, "[%zu]", ld->path[d].idx);
	}
}

/* Report a problem at the current path: "name:12: models[3]: what". */
static int
fail(struct loader *ld, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(struct loader *ld, const char *fmt, ...)
{
	struct kb_buf path;
	char what[300];
	va_list ap;
	int line = line_of_path(ld);

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	kb_buf_init(&path);
	kb_buf_add(&path, "", 0);
	path_render(ld, &path);
	kb_error_set(ld->err, KB_ERR_PARSE, line, "%s:%d: %s%s%s", ld->name,
		     line, path.data, path.len ? ": " : "", what);
	kb_buf_free(&path);
	return KB_ERR_PARSE;
}

/*
 * obj[key] as a new string into *out.  A missing member is an error when
 * required, else *out gets dflt (which may be NULL).
 */
static int
get_string(struct loader *ld, json_t *obj, const char *key, bool required,
	   const char *dflt, char **out)
{
	json_t *v = json_object_get(obj, key);
	int rc = KB_OK;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return fail(ld, "missing \"%s\"", key);
		*out = dflt != NULL ? kb_xstrdup(dflt) : NULL;
		return KB_OK;
	}
	path_push_key(ld, key);
	if (!json_is_string(v)) {
		rc = fail(ld, "expected a string");
		goto out;
	}
	if (required && json_string_length(v) == 0) {
		rc = fail(ld, "must not be empty");
		goto out;
	}
	*out = kb_xstrndup(json_string_value(v), json_string_length(v));
out:
	path_pop(ld);
	return rc;
}

/* An array of strings into sv; v may be NULL (absent: empty). */
static int
get_strings(struct loader *ld, json_t *v, struct kb_strv *sv)
{
	json_t *e;
	size_t i;
	int rc = KB_OK;

	if (v == NULL)
		return KB_OK;
	if (!json_is_array(v))
		return fail(ld, "expected an array of strings");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			path_push_idx(ld, i);
			rc = fail(ld, "expected a string");
			path_pop(ld);
			return rc;
		}
		kb_strv_push_own(sv, kb_xstrndup(json_string_value(e),
						 json_string_length(e)));
	}
	return KB_OK;
}

static int
get_member_strings(struct loader *ld, json_t *obj, const char *key,
		   struct kb_strv *sv)
{
	int rc;

	path_push_key(ld, key);
	rc = get_strings(ld, json_object_get(obj, key), sv);
	path_pop(ld);
	return rc;
}

/*
 * Ids must be unique once case and spacing are ignored, since that is how
 * they are looked up.  ids maps squashed id -> entry; kind names the list.
 */
static int
check_id(struct loader *ld, struct strmap *ids, const char *kind,
	 const char *id, size_t entry)
{
	char *sq = squash_text(id);
	bool added;
	uint32_t *v;
	int rc = KB_OK;

	path_push_key(ld, "id");
	if (sq[0] == '\0') {
		rc = fail(ld, "id \"%s\" has no letters or digits", id);
		goto out;
	}
	v = strmap_put(ids, sq, strlen(sq), (uint32_t)entry, &added);
	if (!added)
		rc = fail(ld, "duplicate id \"%s\" (also %s[%u])", id, kind,
			  (unsigned)*v);
out:
	path_pop(ld);
	free(sq);
	return rc;
}

/* The array at root[key] (NULL when absent), or an error. */
static int
get_array(struct loader *ld, json_t *parent, const char *key, json_t **out)
{
	*out = json_object_get(parent, key);
	if (*out == NULL || json_is_array(*out))
		return KB_OK;
	return fail(ld, "expected an array");
}

static int
load_models(struct loader *ld, json_t *root, struct kb_taxonomy *t)
{
	struct strmap ids = {0};
	struct kb_model *m;
	json_t *arr, *v;
	size_t i;
	int rc;

	path_push_key(ld, "models");
	if ((rc = get_array(ld, root, "models", &arr)) != KB_OK || !arr)
		goto out;
	t->models = kb_xcalloc(json_array_size(arr), sizeof(*t->models));
	json_array_foreach(arr, i, v)
	{
		path_push_idx(ld, i);
		m = &t->models[t->nmodels++];
		if (!json_is_object(v))
			rc = fail(ld, "expected an object");
		if (rc == KB_OK)
			rc = get_string(ld, v, "id", true, NULL, &m->id);
		if (rc == KB_OK)
			rc = get_string(ld, v, "name", true, NULL, &m->name);
		if (rc == KB_OK)
			rc = get_string(ld, v, "brand", false, "", &m->brand);
		if (rc == KB_OK)
			rc = get_member_strings(ld, v, "aliases", &m->aliases);
		if (rc == KB_OK)
			rc = check_id(ld, &ids, "models", m->id, i);
		path_pop(ld);
		if (rc != KB_OK)
			goto out;
	}
out:
	path_pop(ld);
	strmap_free(&ids);
	return rc;
}

static int
load_symptoms(struct loader *ld, json_t *root, struct kb_taxonomy *t)
{
	struct strmap ids = {0};
	struct kb_symptom *s;
	json_t *arr, *v;
	size_t i;
	int rc;

	path_push_key(ld, "symptoms");
	if ((rc = get_array(ld, root, "symptoms", &arr)) != KB_OK || !arr)
		goto out;
	t->symptoms = kb_xcalloc(json_array_size(arr), sizeof(*t->symptoms));
	json_array_foreach(arr, i, v)
	{
		path_push_idx(ld, i);
		s = &t->symptoms[t->nsymptoms++];
		if (!json_is_object(v))
			rc = fail(ld, "expected an object");
		if (rc == KB_OK)
			rc = get_string(ld, v, "id", true, NULL, &s->id);
		if (rc == KB_OK)
			rc = get_string(ld, v, "label", false, s->id,
					&s->label);
		if (rc == KB_OK)
			rc = get_member_strings(ld, v, "phrases", &s->phrases);
		if (rc == KB_OK)
			rc = check_id(ld, &ids, "symptoms", s->id, i);
		path_pop(ld);
		if (rc != KB_OK)
			goto out;
	}
out:
	path_pop(ld);
	strmap_free(&ids);
	return rc;
}

static int
load_led_terms(struct loader *ld, json_t *led, const char *key,
	       struct kb_led_term **out, size_t *nout)
{
	struct strmap ids = {0};
	struct kb_led_term *e;
	json_t *arr, *v;
	char kind[32];
	size_t i;
	int rc;

	snprintf(kind, sizeof(kind), "led.%s", key);
	path_push_key(ld, key);
	if ((rc = get_array(ld, led, key, &arr)) != KB_OK || !arr)
		goto out;
	*out = kb_xcalloc(json_array_size(arr), sizeof(**out));
	json_array_foreach(arr, i, v)
	{
		path_push_idx(ld, i);
		e = &(*out)[(*nout)++];
		if (!json_is_object(v))
			rc = fail(ld, "expected an object");
		if (rc == KB_OK)
			rc = get_string(ld, v, "id", true, NULL, &e->id);
		if (rc == KB_OK)
			rc = get_member_strings(ld, v, "synonyms",
						&e->synonyms);
		if (rc == KB_OK)
			rc = check_id(ld, &ids, kind, e->id, i);
		path_pop(ld);
		if (rc != KB_OK)
			goto out;
	}
out:
	path_pop(ld);
	strmap_free(&ids);
	return rc;
}

static int
load_led(struct loader *ld, json_t *root, struct kb_taxonomy *t)
{
	json_t *led = json_object_get(root, "led");
	int rc;

	if (led == NULL)
		return KB_OK;
	path_push_key(ld, "led");
	if (!json_is_object(led)) {
		rc = fail(ld, "expected an object");
		goto out;
	}
	rc = load_led_terms(ld, led, "colors", &t->colors, &t->ncolors);
	if (rc == KB_OK)
		rc = load_led_terms(ld, led, "patterns", &t->patterns,
				    &t->npatterns);
out:
	path_pop(ld);
	return rc;
}

static int
load_synonyms(struct loader *ld, json_t *root, struct kb_taxonomy *t)
{
	json_t *arr, *v;
	size_t i;
	int rc;

	path_push_key(ld, "synonyms");
	if ((rc = get_array(ld, root, "synonyms", &arr)) != KB_OK || !arr)
		goto out;
	t->synonyms = kb_xcalloc(json_array_size(arr), sizeof(*t->synonyms));
	json_array_foreach(arr, i, v)
	{
		path_push_idx(ld, i);
		kb_strv_init(&t->synonyms[t->nsynonyms]);
		rc = get_strings(ld, v, &t->synonyms[t->nsynonyms++]);
		path_pop(ld);
		if (rc != KB_OK)
			goto out;
	}
out:
	path_pop(ld);
	return rc;
}

int
kb_taxonomy_parse(const char *name, const char *json, size_t len,
		  struct kb_taxonomy **out, struct kb_error *err)
{
	struct kb_taxonomy *t = NULL;
	struct loader ld = {0};
	json_error_t jerr;
	json_t *root = NULL;
	int rc = KB_OK;

	*out = NULL;
	if (name == NULL)
		name = "taxonomy";
	if (json == NULL) {
		json = "";
		len = 0;
	}
	ld.name = name;
	ld.text = json;
	ld.len = len;
	ld.err = err;
	/* A UTF-8 byte order mark is harmless but upsets the parser. */
	if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
		ld.text += 3;
		ld.len -= 3;
	}
	root = json_loadb(ld.text, ld.len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line > 0)
			rc = kb_error_set(err, KB_ERR_PARSE, jerr.line,
					  "%s:%d: invalid JSON: %s", name,
					  jerr.line, jerr.text);
		else
			rc = kb_error_set(err, KB_ERR_PARSE, 0,
					  "%s: invalid JSON: %s", name,
					  jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fail(&ld, "the top level must be an object");
		goto out;
	}
	t = kb_xcalloc(1, sizeof(*t));
	if ((rc = load_models(&ld, root, t)) != KB_OK ||
	    (rc = load_symptoms(&ld, root, t)) != KB_OK ||
	    (rc = load_led(&ld, root, t)) != KB_OK ||
	    (rc = load_synonyms(&ld, root, t)) != KB_OK)
		goto out;
	t->json = kb_xstrndup(json, len);
	t->index = index_build(t);
	*out = t;
	t = NULL;
out:
	json_decref(root);
	kb_taxonomy_free(t);
	return rc;
}

int
kb_taxonomy_load(const char *path, struct kb_taxonomy **out,
		 struct kb_error *err)
{
	char *data = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = kb_read_file(path, TAXONOMY_MAX_BYTES, &data, &len, err);
	if (rc == KB_OK)
		rc = kb_taxonomy_parse(path, data, len, out, err);
	free(data);
	return rc;
}

struct kb_taxonomy *
kb_taxonomy_new_empty(void)
{
	struct kb_taxonomy *t = kb_xcalloc(1, sizeof(*t));

	t->json = kb_xstrdup("{}");
	t->index = index_build(t);
	return t;
}

/* Strings of an unpacked taxonomy live in its arena, freed at once. */
static void
str_free(const struct kb_taxonomy *t, char *s)
{
	if (t->arena == NULL)
		free(s);
}

static void
strv_free(const struct kb_taxonomy *t, struct kb_strv *sv)
{
	if (t->arena == NULL)
		kb_strv_free(sv);
	else
		free(sv->v);
}

static void
led_terms_free(const struct kb_taxonomy *t, struct kb_led_term *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		str_free(t, v[i].id);
		strv_free(t, &v[i].synonyms);
	}
	free(v);
}

void
kb_taxonomy_free(struct kb_taxonomy *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nmodels; i++) {
		str_free(t, t->models[i].id);
		str_free(t, t->models[i].brand);
		str_free(t, t->models[i].name);
		strv_free(t, &t->models[i].aliases);
	}
	free(t->models);
	for (i = 0; i < t->nsymptoms; i++) {
		str_free(t, t->symptoms[i].id);
		str_free(t, t->symptoms[i].label);
		strv_free(t, &t->symptoms[i].phrases);
	}
	free(t->symptoms);
	led_terms_free(t, t->colors, t->ncolors);
	led_terms_free(t, t->patterns, t->npatterns);
	for (i = 0; i < t->nsynonyms; i++)
		strv_free(t, &t->synonyms[i]);
	free(t->synonyms);
	free(t->json);
	index_free(t->index);
	free(t->arena);
	free(t);
}

/* ---- Packing: the taxonomy and its tables as one blob ---- */

/*
 * Layout, integers little-endian u32, strings as length, bytes and a NUL
 * (length 0xFFFFFFFF for NULL), so an unpacked string points into a copy
 * of the blob:
 *
 *   "KBTX" format version-string
 *   models:   n, n x (id brand name aliases)      aliases: n, n x string
 *   symptoms: n, n x (id label phrases)
 *   colors, patterns: n, n x (id synonyms)
 *   synonyms: n, n x strings
 *   index: squash-map squash_max dict-map nkeys canon[0..nkeys] not_key
 *          3 x phrase set (n, n x (nkeys keys... entry), in sorted order)
 *          4 x name map
 *          per model: aliases, name and brand squashed (aliases.n + 2)
 *   map: cap n keylen, the keys (keylen bytes, each ending in a NUL),
 *        zeros to a multiple of 4 bytes from the start, then the cap
 *        slots as they are in memory (key len hash val), so an unpacked
 *        map is used where it lies
 *
 * The tables hold stems, so a blob made by another build (whose stemmer
 * may differ) is refused for the JSON to be parsed instead.
 */
#define PACK_MAGIC "KBTX"
#define PACK_FORMAT 3u
#define PACK_NULL 0xFFFFFFFFu

static void
put_u32(struct kb_buf *b, size_t v)
{
	char c[4];

	c[0] = (char)(v & 0xFF);
	c[1] = (char)((v >> 8) & 0xFF);
	c[2] = (char)((v >> 16) & 0xFF);
	c[3] = (char)((v >> 24) & 0xFF);
	kb_buf_add(b, c, 4);
}

static void
put_bytes(struct kb_buf *b, const char *s, size_t n)
{
	put_u32(b, n);
	kb_buf_add(b, s, n);
	kb_buf_addc(b, '\0');
}

static void
put_str(struct kb_buf *b, const char *s)
{
	if (s == NULL)
		put_u32(b, PACK_NULL);
	else
		put_bytes(b, s, strlen(s));
}

static void
put_strv(struct kb_buf *b, const struct kb_strv *sv)
{
	size_t i;

	put_u32(b, sv->n);
	for (i = 0; i < sv->n; i++)
		put_str(b, sv->v[i]);
}

/* Slots as they are, after the keys and padding to a multiple of 4. */
static void
put_map(struct kb_buf *b, const struct strmap *m)
{
	size_t i;

	put_u32(b, m->cap);
	put_u32(b, m->n);
	put_u32(b, m->keylen);
	kb_buf_add(b, m->keys, m->keylen);
	while (b->len % 4 != 0)
		kb_buf_addc(b, '\0');
	for (i = 0; i < m->cap; i++) {
		put_u32(b, m->slots[i].key);
		put_u32(b, m->slots[i].len);
		put_u32(b, m->slots[i].hash);
		put_u32(b, m->slots[i].val);
	}
}

void
kb_taxonomy_pack(const struct kb_taxonomy *t, struct kb_buf *out)
{
	struct kb_taxonomy_index *tmp;
	const struct kb_taxonomy_index *x = index_of(t, &tmp);
	const struct kb_led_term *terms[2] = { t->colors, t->patterns };
	const size_t nterms[2] = { t->ncolors, t->npatterns };
	size_t i, j, k;

	kb_buf_add(out, PACK_MAGIC, 4);
	put_u32(out, PACK_FORMAT);
	put_str(out, KB_VERSION);
	put_u32(out, t->nmodels);
	for (i = 0; i < t->nmodels; i++) {
		put_str(out, t->models[i].id);
		put_str(out, t->models[i].brand);
		put_str(out, t->models[i].name);
		put_strv(out, &t->models[i].aliases);
	}
	put_u32(out, t->nsymptoms);
	for (i = 0; i < t->nsymptoms; i++) {
		put_str(out, t->symptoms[i].id);
		put_str(out, t->symptoms[i].label);
		put_strv(out, &t->symptoms[i].phrases);
	}
	for (k = 0; k < 2; k++) {
		put_u32(out, nterms[k]);
		for (i = 0; i < nterms[k]; i++) {
			put_str(out, terms[k][i].id);
			put_strv(out, &terms[k][i].synonyms);
		}
	}
	put_u32(out, t->nsynonyms);
	for (i = 0; i < t->nsynonyms; i++)
		put_strv(out, &t->synonyms[i]);

	put_map(out, &x->squash);
	put_u32(out, x->squash_max);
	put_map(out, &x->dict);
	put_u32(out, x->nkeys);
	for (i = 0; i <= x->nkeys; i++)
		put_u32(out, x->canon[i]);
	put_u32(out, x->not_key);
	for (k = 0; k < NSETS; k++) {
		put_u32(out, x->sets[k].n);
		for (i = 0; i < x->sets[k].n; i++) {
			const struct phrase *ph = &x->sets[k].v[i];

			put_u32(out, ph->n);
			for (j = 0; j < ph->n; j++)
				put_u32(out, ph->keys[j]);
			put_u32(out, ph->entry);
		}
	}
	for (k = 0; k < NNAMES; k++)
		put_map(out, &x->names[k]);
	for (i = 0; i < t->nmodels; i++) {
		const struct kb_model *m = &t->models[i];
		char *sq;

		for (j = 0; j < m->aliases.n + 2; j++) {
			sq = squash_text(j < m->aliases.n ? m->aliases.v[j]
				       : j == m->aliases.n ? m->name
				       : m->brand != NULL ? m->brand : "");
			put_str(out, sq);
			free(sq);
		}
	}
	index_free(tmp);
}

/* A reader over the arena; any fault sets bad and reads stop mattering. */
struct rd {
	char *start, *p, *end;
	bool bad;
};

static uint32_t
get_u32(struct rd *r)
{
	const unsigned char *c = (const unsigned char *)r->p;

	if (r->bad || r->end - r->p < 4) {
		r->bad = true;
		return 0;
	}
	r->p += 4;
	return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
	       (uint32_t)c[3] << 24;
}

/* A count of items of at least size bytes each that can still follow. */
static size_t
get_count(struct rd *r, size_t size)
{
	uint32_t n = get_u32(r);

	if (r->bad || (size_t)n > (size_t)(r->end - r->p) / size) {
		r->bad = true;
		return 0;
	}
	return n;
}

static char *
get_bytes(struct rd *r, bool nullable, size_t *len)
{
	static char empty[1];
	uint32_t n = get_u32(r);
	char *s;

	*len = 0;
	if (!r->bad && n == PACK_NULL && nullable)
		return NULL;
	if (r->bad || (size_t)n >= (size_t)(r->end - r->p) || r->p[n] != '\0') {
		r->bad = true;
		return empty;
	}
	s = r->p;
	r->p += (size_t)n + 1;
	*len = n;
	return s;
}

static char *
get_str(struct rd *r, bool nullable)
{
	size_t len;

	return get_bytes(r, nullable, &len);
}

static void
get_strv(struct rd *r, struct kb_strv *sv)
{
	size_t n = get_count(r, 4), i;

	sv->v = kb_xcalloc(n + 1, sizeof(*sv->v));
	sv->cap = n + 1;
	for (i = 0; i < n && !r->bad; i++)
		sv->v[sv->n++] = get_str(r, false);
}

/*
 * A map whose values must be at most maxval, used where it lies in the
 * arena: no key is hashed and nothing is allocated (on a big-endian host
 * the slots are decoded into a copy).  Every slot is checked to point
 * inside the keys and the map to have empty slots, so a damaged blob can
 * make lookups miss but not read outside it.
 */
static void
get_map(struct rd *r, struct strmap *m, uint32_t maxval)
{
	size_t cap = get_u32(r), n = get_u32(r), keylen = get_u32(r), i;
	size_t used = 0;
	struct strmap_slot *s;

	m->keys_borrowed = m->slots_borrowed = true;
	if (r->bad || (cap & (cap - 1)) != 0 || n * 2 > cap ||
	    cap > (n <= 32 ? 64 : 4 * n) ||
	    keylen > (size_t)(r->end - r->p) ||
	    (keylen > 0 && r->p[keylen - 1] != '\0')) {
		r->bad = true;
		return;
	}
	m->keys = r->p;
	m->keylen = keylen;
	r->p += keylen;
	while (!r->bad && (size_t)(r->p - r->start) % 4 != 0)
		if (r->p++ == r->end)
			r->bad = true;
	if (r->bad || cap > (size_t)(r->end - r->p) / sizeof(*s)) {
		r->bad = true;
		return;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	m->slots = (struct strmap_slot *)(void *)r->p;
	r->p += cap * sizeof(*s);
#else
	m->slots_borrowed = false;
	m->slots = cap ? kb_xcalloc(cap, sizeof(*m->slots)) : NULL;
	for (i = 0; i < cap; i++) {
		m->slots[i].key = get_u32(r);
		m->slots[i].len = get_u32(r);
		m->slots[i].hash = get_u32(r);
		m->slots[i].val = get_u32(r);
	}
#endif
	m->cap = cap;
	m->n = n;
	for (i = 0; i < cap; i++) {
		s = &m->slots[i];
		if (s->key == 0)
			continue;
		used++;
		if ((size_t)s->key - 1 >= keylen ||
		    s->len >= keylen - ((size_t)s->key - 1) ||
		    m->keys[s->key - 1 + s->len] != '\0' || s->val > maxval)
			r->bad = true;
	}
	if (used != n)
		r->bad = true;
}

static void
get_set(struct rd *r, struct kb_taxonomy_index *x, struct phrase_set *set,
	size_t nentries)
{
	size_t n = get_count(r, 12), i, j;

	set->v = kb_xcalloc(n + 1, sizeof(*set->v));
	set->cap = n + 1;
	for (i = 0; i < n && !r->bad; i++) {
		struct phrase *ph = &set->v[set->n++];

		ph->n = get_count(r, 4);
		ph->keys = kb_xcalloc(ph->n + 1, sizeof(*ph->keys));
		for (j = 0; j < ph->n; j++) {
			ph->keys[j] = get_u32(r);
			if (ph->keys[j] == 0 || ph->keys[j] > x->nkeys)
				r->bad = true;
		}
		ph->entry = get_u32(r);
		/* Sorted by first key, as finish_set leaves them. */
		if (ph->n == 0 || ph->entry >= nentries ||
		    (i > 0 && ph->keys[0] < set->v[i - 1].keys[0]))
			r->bad = true;
	}
	if (!r->bad)
		index_first(x, set);
}

static void
get_terms(struct rd *r, struct kb_led_term **v, size_t *n)
{
	size_t count = get_count(r, 8), i;

	*v = kb_xcalloc(count + 1, sizeof(**v));
	for (i = 0; i < count && !r->bad; i++) {
		(*v)[i].id = get_str(r, false);
		get_strv(r, &(*v)[i].synonyms);
		(*n)++;
	}
}

static struct kb_taxonomy_index *
get_index(struct rd *r, const struct kb_taxonomy *t)
{
	struct kb_taxonomy_index *x = kb_xcalloc(1, sizeof(*x));
	const size_t nentries[NNAMES] = { t->nmodels, t->nsymptoms,
					  t->ncolors, t->npatterns };
	size_t i;

	get_map(r, &x->squash, (uint32_t)t->nmodels);
	x->squash_max = get_u32(r);
	get_map(r, &x->dict, UINT32_MAX);
	x->nkeys = get_count(r, 4);
	if (r->bad || x->nkeys == 0 || x->nkeys >= UINT32_MAX) {
		r->bad = true;
		return x;
	}
	x->capkeys = x->nkeys + 1;
	x->canon = kb_xcalloc(x->capkeys, sizeof(*x->canon));
	for (i = 0; i <= x->nkeys; i++) {
		x->canon[i] = get_u32(r);
		if (x->canon[i] > x->nkeys || (i == 0) != (x->canon[i] == 0))
			r->bad = true;
	}
	for (i = 0; i < x->dict.cap && !r->bad; i++)
		if (x->dict.slots[i].key != 0 &&
		    (x->dict.slots[i].val == 0 ||
		     x->dict.slots[i].val > x->nkeys))
			r->bad = true;
	x->not_key = get_u32(r);
	if (x->not_key == 0 || x->not_key > x->nkeys)
		r->bad = true;
	get_set(r, x, &x->sets[SET_SYMPTOMS], t->nsymptoms);
	get_set(r, x, &x->sets[SET_COLORS], t->ncolors);
	get_set(r, x, &x->sets[SET_PATTERNS], t->npatterns);
	for (i = 0; i < NNAMES && !r->bad; i++)
		get_map(r, &x->names[i],
			nentries[i] ? (uint32_t)nentries[i] - 1 : 0);
	for (i = 0; i < NNAMES && !r->bad; i++)
		if (nentries[i] == 0 && x->names[i].n > 0)
			r->bad = true;
	if (r->bad)
		return x;
	x->form_at = kb_xcalloc(t->nmodels + 1, sizeof(*x->form_at));
	for (i = 0; i < t->nmodels; i++)
		x->form_at[i + 1] = x->form_at[i] + t->models[i].aliases.n + 2;
	x->forms = kb_xcalloc(x->form_at[t->nmodels] + 1, sizeof(*x->forms));
	for (i = 0; i < x->form_at[t->nmodels] && !r->bad; i++)
		x->forms[i] = get_str(r, false);
	return x;
}

int
kb_taxonomy_unpack(const void *blob, size_t len, struct kb_taxonomy **out,
		   struct kb_error *err)
{
	char *arena = kb_xmalloc(len + 1);

	memcpy(arena, blob, len);
	return kb_taxonomy_adopt(arena, len, out, err);
}

int
kb_taxonomy_adopt(char *arena, size_t len, struct kb_taxonomy **out,
		  struct kb_error *err)
{
	struct kb_taxonomy *t = kb_xcalloc(1, sizeof(*t));
	struct rd r;
	size_t i;

	*out = NULL;
	t->arena = arena;
	r.start = r.p = t->arena;
	r.end = t->arena + len;
	r.bad = len < 4 || memcmp(r.p, PACK_MAGIC, 4) != 0;
	if (!r.bad)
		r.p += 4;
	if (get_u32(&r) != PACK_FORMAT ||
	    strcmp(get_str(&r, false), KB_VERSION) != 0) {
		kb_taxonomy_free(t);
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "packed taxonomy: not made by kbsearch "
				    KB_VERSION);
	}
	i = get_count(&r, 16);
	t->models = kb_xcalloc(i + 1, sizeof(*t->models));
	for (; t->nmodels < i && !r.bad; t->nmodels++) {
		struct kb_model *m = &t->models[t->nmodels];

		m->id = get_str(&r, false);
		m->brand = get_str(&r, true);
		m->name = get_str(&r, false);
		get_strv(&r, &m->aliases);
	}
	i = get_count(&r, 12);
	t->symptoms = kb_xcalloc(i + 1, sizeof(*t->symptoms));
	for (; t->nsymptoms < i && !r.bad; t->nsymptoms++) {
		struct kb_symptom *s = &t->symptoms[t->nsymptoms];

		s->id = get_str(&r, false);
		s->label = get_str(&r, true);
		get_strv(&r, &s->phrases);
	}
	get_terms(&r, &t->colors, &t->ncolors);
	get_terms(&r, &t->patterns, &t->npatterns);
	i = get_count(&r, 4);
	t->synonyms = kb_xcalloc(i + 1, sizeof(*t->synonyms));
	for (; t->nsynonyms < i && !r.bad; t->nsynonyms++)
		get_strv(&r, &t->synonyms[t->nsynonyms]);
	if (!r.bad)
		t->index = get_index(&r, t);
	if (r.bad || r.p != r.end) {
		kb_taxonomy_free(t);
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "packed taxonomy: damaged");
	}
	*out = t;
	return KB_OK;
}

/* ---- Lookups ---- */

static const uint32_t *
lookup_name(const struct kb_taxonomy *t, int which, const char *name,
	    struct kb_taxonomy_index **tmp)
{
	const struct kb_taxonomy_index *x;
	char buf[128], *sq;
	const uint32_t *v;
	bool own;

	*tmp = NULL;
	if (t == NULL || name == NULL)
		return NULL;
	x = index_of(t, tmp);
	sq = squash_name(name, buf, sizeof(buf), &own);
	v = sq[0] != '\0' ? strmap_get(&x->names[which], sq, strlen(sq))
			  : NULL;
	if (own)
		free(sq);
	return v;
}

const char *
kb_taxonomy_model_form(const struct kb_taxonomy *t, size_t model, size_t k)
{
	const struct kb_taxonomy_index *x = t->index;

	if (x == NULL || x->forms == NULL || model >= t->nmodels ||
	    k >= x->form_at[model + 1] - x->form_at[model])
		return NULL;
	return x->forms[x->form_at[model] + k];
}

const struct kb_model *
kb_taxonomy_model(const struct kb_taxonomy *t, const char *name)
{
	struct kb_taxonomy_index *tmp;
	const uint32_t *v = lookup_name(t, NAMES_MODELS, name, &tmp);
	const struct kb_model *m = v != NULL ? &t->models[*v] : NULL;

	index_free(tmp);
	return m;
}

const struct kb_symptom *
kb_taxonomy_symptom(const struct kb_taxonomy *t, const char *name)
{
	struct kb_taxonomy_index *tmp;
	const uint32_t *v = lookup_name(t, NAMES_SYMPTOMS, name, &tmp);
	const struct kb_symptom *s = v != NULL ? &t->symptoms[*v] : NULL;

	index_free(tmp);
	return s;
}

const struct kb_led_term *
kb_taxonomy_color(const struct kb_taxonomy *t, const char *word)
{
	struct kb_taxonomy_index *tmp;
	const uint32_t *v = lookup_name(t, NAMES_COLORS, word, &tmp);
	const struct kb_led_term *c = v != NULL ? &t->colors[*v] : NULL;

	index_free(tmp);
	return c;
}

const struct kb_led_term *
kb_taxonomy_pattern(const struct kb_taxonomy *t, const char *word)
{
	struct kb_taxonomy_index *tmp;
	const uint32_t *v = lookup_name(t, NAMES_PATTERNS, word, &tmp);
	const struct kb_led_term *p = v != NULL ? &t->patterns[*v] : NULL;

	index_free(tmp);
	return p;
}

/* ---- Finding entries in text ---- */

/*
 * Does the text between two words end a clause, so that no match may
 * span it?  A line break or table cell border does, and so does sentence
 * punctuation followed by a space ("5.0" and "e.g" do not break).
 */
static bool
gap_breaks(const char *text, size_t from, size_t to)
{
	size_t i;
	char c, next;

	for (i = from; i < to; i++) {
		c = text[i];
		if (c == '\n' || c == '|')
			return true;
		if (c == '.' || c == '!' || c == '?' || c == ';' ||
		    c == ':') {
			next = i + 1 < to ? text[i + 1] : '\0';
			if (next == ' ' || next == '\t')
				return true;
		}
	}
	return false;
}

struct candidate {
	size_t entry;
	size_t t0, t1; /* first and last token */
	size_t start, end;
};

struct candidates {
	struct candidate *v;
	size_t n, cap;
};

static void
candidate_add(struct candidates *c, const struct kb_token *tok, size_t entry,
	      size_t t0, size_t t1)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = kb_xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = (struct candidate){entry, t0, t1, tok[t0].start,
					  tok[t1].end};
}

static int
cmp_longest_first(const void *a, const void *b)
{
	const struct candidate *p = a, *q = b;
	size_t lp = p->end - p->start, lq = q->end - q->start;

	if (lp != lq)
		return lp > lq ? -1 : 1;
	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return p->entry < q->entry ? -1 : p->entry > q->entry;
}

static int
cmp_text_order(const void *a, const void *b)
{
	const struct candidate *p = a, *q = b;

	return p->start < q->start ? -1 : p->start > q->start;
}

/*
 * Keep the longest of overlapping candidates (ties: the earlier, then the
 * first in the taxonomy) and append the survivors in text order.
 */
static void
resolve_overlaps(struct candidates *c, size_t ntok, struct kb_match **out,
		 size_t *n)
{
	bool *taken;
	size_t i, j, kept = 0;
	bool free_span;

	if (c->n == 0)
		return;
	taken = kb_xcalloc(ntok, sizeof(*taken));
	qsort(c->v, c->n, sizeof(*c->v), cmp_longest_first);
	for (i = 0; i < c->n; i++) {
		free_span = true;
		for (j = c->v[i].t0; j <= c->v[i].t1 && free_span; j++)
			free_span = !taken[j];
		if (!free_span)
			continue;
		for (j = c->v[i].t0; j <= c->v[i].t1; j++)
			taken[j] = true;
		c->v[kept++] = c->v[i];
	}
	free(taken);
	qsort(c->v, kept, sizeof(*c->v), cmp_text_order);
	*out = kb_xrealloc(*out, (*n + kept) * sizeof(**out));
	for (i = 0; i < kept; i++)
		(*out)[(*n)++] = (struct kb_match){c->v[i].entry, c->v[i].start,
						   c->v[i].end};
}

/*
 * Units that turn a model-like "charge 4" or "flip 5" into an amount:
 * "let it charge 4 hours", "flip 5 times".
 */
static const char *const units[] = {
	"day",	   "days",    "h",	"hour",	  "hours", "hr",
	"hrs",	   "min",     "mins",	"minute", "minutes", "month",
	"months",  "percent", "s",	"sec",	  "second", "seconds",
	"secs",	   "step",    "steps",	"time",	  "times", "week",
	"weeks",   "year",    "years",
};

/* Does the match ending at tok[last] end in a number followed by a unit? */
static bool
number_of_units(const char *text, const struct kb_token *tok, size_t ntok,
		size_t last)
{
	const char *w = tok[last].norm;
	size_t i;

	if (*w < '0' || *w > '9' || !all_digits(w))
		return false;
	if (last + 1 < ntok && !gap_breaks(text, tok[last].end,
					   tok[last + 1].start)) {
		for (i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (strcmp(units[i], tok[last + 1].norm) == 0)
				return true;
	}
	/* "4%" reads as an amount too. */
	return text[tok[last].end] == '%';
}

void
kb_taxonomy_find_models_tok(const struct kb_taxonomy *t, const char *text,
			    const struct kb_token *tok, size_t ntok,
			    struct kb_match **out, size_t *n)
{
	struct kb_taxonomy_index *tmp = NULL;
	const struct kb_taxonomy_index *x;
	struct candidates c = {0};
	size_t i, j, len, tl;
	const uint32_t *v;
	char *buf = NULL;
	uint64_t h;

	if (t == NULL || text == NULL)
		return;
	x = index_of(t, &tmp);
	if (x->squash.n == 0 || ntok == 0)
		goto out;
	buf = kb_xmalloc(x->squash_max + 1);
	/*
	 * Join consecutive words without their spaces while the result is
	 * still the start of some alias: "sound" "core" "2" finds
	 * "soundcore2" just as "soundcore2" and "soundcore" "2" do.
	 */
	for (i = 0; i < ntok; i++) {
		h = HASH_INIT;
		len = 0;
		for (j = i; j < ntok; j++) {
			if (j > i && gap_breaks(text, tok[j - 1].end,
						tok[j].start))
				break;
			tl = strlen(tok[j].norm);
			if (len + tl > x->squash_max)
				break;
			memcpy(buf + len, tok[j].norm, tl);
			len += tl;
			h = hash_more(h, tok[j].norm, tl);
			v = strmap_get_h(&x->squash, h, buf, len);
			if (v == NULL)
				break;
			if (*v != 0 && !number_of_units(text, tok, ntok, j))
				candidate_add(&c, tok, *v - 1, i, j);
		}
	}
	resolve_overlaps(&c, ntok, out, n);
out:
	free(buf);
	free(c.v);
	index_free(tmp);
}

void
kb_taxonomy_find_models(const struct kb_taxonomy *t, const char *text,
			struct kb_match **out, size_t *n)
{
	struct kb_token *tok = NULL;
	size_t ntok = 0;

	if (t == NULL || text == NULL)
		return;
	kb_tokenize(text, &tok, &ntok);
	kb_taxonomy_find_models_tok(t, text, tok, ntok, out, n);
	kb_tokens_free(tok);
}

/*
 * Find the phrases of one set in text, whose tokens are tok[0..ntok) and,
 * when terms is not NULL, their stems terms.
 */
static void
find_phrases_tok(const struct kb_taxonomy *t, int which, const char *text,
		 const struct kb_token *tok, size_t ntok,
		 const struct kb_token_terms *terms, struct kb_match **out,
		 size_t *n, bool *colour)
{
	struct kb_taxonomy_index *tmp = NULL;
	const struct kb_taxonomy_index *x;
	const struct phrase_set *set, *colours = NULL;
	const struct phrase *ph;
	struct candidates c = {0};
	size_t i, nk = 0, p, f, j;
	uint32_t *key = NULL, *seg = NULL, s = 0;
	size_t *pos = NULL;

	if (t == NULL || text == NULL)
		return;
	x = index_of(t, &tmp);
	set = &x->sets[which];
	if (colour != NULL) {
		colours = &x->sets[SET_COLORS];
		if (colours->n == 0 || colours->first == NULL)
			colours = NULL;
		/* no keys made below: say "maybe" */
		else if (set->n == 0)
			*colour = true;
	}
	if (set->n == 0 || ntok == 0)
		goto out;
	/* The words that count: stop words dropped, each as its key. */
	pos = kb_xmalloc(ntok * (sizeof(*pos) + sizeof(*key) + sizeof(*seg)));
	key = (uint32_t *)(pos + ntok);
	seg = key + ntok;
	for (i = 0; i < ntok; i++) {
		if (i > 0 && gap_breaks(text, tok[i - 1].end, tok[i].start))
			s++;
		if (terms != NULL ? terms->stop[i]
				  : kb_is_stopword(tok[i].norm))
			continue;
		if (terms != NULL)
			key[nk] = key_of_term(x, terms->text + terms->at[i],
					      terms->neg[i], terms->key[i]);
		else
			key[nk] = key_of_norm(x, tok[i].norm);
		seg[nk] = s;
		pos[nk] = i;
		if (colours != NULL && key[nk] != 0 && key[nk] <= x->nkeys &&
		    colours->first[key[nk]] < colours->first[key[nk] + 1])
			*colour = true;
		nk++;
	}
	for (p = 0; p < nk; p++) {
		if (key[p] == 0 || key[p] > x->nkeys)
			continue;
		for (f = set->first[key[p]]; f < set->first[key[p] + 1]; f++) {
			ph = &set->v[f];
			if (ph->n > nk - p)
				continue;
			for (j = 1; j < ph->n; j++)
				if (key[p + j] != ph->keys[j] ||
				    seg[p + j] != seg[p])
					break;
			if (j == ph->n)
				candidate_add(&c, tok, ph->entry, pos[p],
					      pos[p + ph->n - 1]);
		}
	}
	resolve_overlaps(&c, ntok, out, n);
out:
	free(pos); /* and key and seg with it */
	free(c.v);
	index_free(tmp);
}

static void
find_phrases(const struct kb_taxonomy *t, int which, const char *text,
	     struct kb_match **out, size_t *n)
{
	struct kb_token *tok = NULL;
	size_t ntok = 0;

	if (t == NULL || text == NULL)
		return;
	kb_tokenize(text, &tok, &ntok);
	find_phrases_tok(t, which, text, tok, ntok, NULL, out, n, NULL);
	kb_tokens_free(tok);
}

void
kb_taxonomy_find_symptoms(const struct kb_taxonomy *t, const char *text,
			  struct kb_match **out, size_t *n)
{
	find_phrases(t, SET_SYMPTOMS, text, out, n);
}

void
kb_taxonomy_find_symptoms_tok(const struct kb_taxonomy *t, const char *text,
			      const struct kb_token *tok, size_t ntok,
			      struct kb_match **out, size_t *n)
{
	find_phrases_tok(t, SET_SYMPTOMS, text, tok, ntok, NULL, out, n, NULL);
}

void
kb_taxonomy_find_symptoms_terms(const struct kb_taxonomy *t, const char *text,
				const struct kb_token *tok, size_t ntok,
				const struct kb_token_terms *terms,
				struct kb_match **out, size_t *n, bool *colour)
{
	find_phrases_tok(t, SET_SYMPTOMS, text, tok, ntok, terms, out, n,
			 colour);
}

void
kb_taxonomy_find_colors(const struct kb_taxonomy *t, const char *text,
			struct kb_match **out, size_t *n)
{
	find_phrases(t, SET_COLORS, text, out, n);
}

void
kb_taxonomy_find_patterns(const struct kb_taxonomy *t, const char *text,
			  struct kb_match **out, size_t *n)
{
	find_phrases(t, SET_PATTERNS, text, out, n);
}

void
kb_taxonomy_find_colors_tok(const struct kb_taxonomy *t, const char *text,
			    const struct kb_token *tok, size_t ntok,
			    struct kb_match **out, size_t *n)
{
	find_phrases_tok(t, SET_COLORS, text, tok, ntok, NULL, out, n, NULL);
}

void
kb_taxonomy_find_patterns_tok(const struct kb_taxonomy *t, const char *text,
			      const struct kb_token *tok, size_t ntok,
			      struct kb_match **out, size_t *n)
{
	find_phrases_tok(t, SET_PATTERNS, text, tok, ntok, NULL, out, n, NULL);
}
