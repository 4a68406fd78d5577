/* extract.c - LED facts (colour + pattern -> meaning) from article sections. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract.h"
#include "textnorm.h"

/*
 * Text is read a sentence (or table row) at a time.  A sentence longer
 * than UNIT_MAX is cut into pieces: no LED statement is that long, and it
 * keeps the work per piece bounded whatever the input.
 */
#define UNIT_MAX 600
#define MEANING_MAX 80
#define PAIR_WINDOW 6

/* Words that name the light itself. */
static const char *const led_words[] = {
	"glow", "glowing", "glows", "indicator", "indicators", "lamp",
	"lamps", "led",	 "leds",    "light", "lights",	"status",
};

/* Verbs that sit between a light and its colour without changing it. */
static const char *const light_verbs[] = {
	"begins", "come",  "comes",	"continue", "continues", "go",
	"goes",	  "keep",  "keeps",	"lit",	    "remain",	 "remains",
	"show",	  "shows", "showing",	"start",    "starts",	 "stay",
	"stays",  "turn",  "turned",	"turning",  "turns",	 "up",
	"went",
};

/* Verbs that introduce a meaning: a colour never pairs across them. */
static const char *const meaning_verbs[] = {
	"denote",  "denotes",  "indicate", "indicates", "indicating",
	"mean",	   "meaning",  "means",	   "signal",	"signals",
	"signifies", "signify", "tells",
};

/*
 * Words stripped from the start of a meaning, longest first: the verb
 * that introduced it and the subject that names the speaker, so that
 * "it indicates that the speaker is charging" reads "charging".
 */
static const char *const meaning_fillers[] = {
	"lets you know that", "is telling you that", "tells you that",
	"lets you know", "is telling you", "tells you", "means that",
	"meaning that", "indicates that", "indicating that", "shows that",
	"signals that", "signifies that", "your speaker is", "the speaker is",
	"the device is", "the unit is", "speaker is", "device is", "it is",
	"this is", "that is", "means", "meaning", "mean", "indicates",
	"indicating", "indicate", "shows", "showing", "signals", "signal",
	"signifies", "denotes", "tells", "then", "once", "when", "whenever",
	"while", "if", "that", "this", "it", "the light", "the led",
	"the indicator", "the lamp", "light", "lights", "led", "leds",
	"indicator", "lamp", "is", "are", "the", "a", "an", "your",
};

/* Words that end a meaning without adding to it. */
static const char *const meaning_tails[] = {
	"and", "but", "so", "or", "then", "when", "whereas", "while",
};

/* After a comma, these start commentary rather than more meaning. */
static const char *const comment_starts[] = {
	"and", "but", "please", "see", "so", "then", "try", "which",
};

/* Conditions that can state a meaning before the light: "While X, ...". */
static const char *const lead_conditions[] = {
	"if", "once", "when", "whenever", "while",
};

static bool
in_list(const char *const *list, size_t n, const char *w)
{
	size_t i;

	/* most words share no first letter with any: no call for them */
	for (i = 0; i < n; i++)
		if (list[i][0] == w[0] && strcmp(list[i], w) == 0)
			return true;
	return false;
}

#define IN(list, w) in_list(list, sizeof(list) / sizeof(*(list)), w)

struct extractor {
	const struct kb_taxonomy *t;
	const char *solid; /* pattern id for an unqualified colour, or NULL */
	const char *section_model;
	const char *article_model;
	struct kb_led_facts *out;
	size_t section;
	/* The line being read, and the models it names (found on demand). */
	const char *line;
	size_t line_len;
	bool models_found;
	struct kb_match *models;
	size_t nmodels;
	bool table_led; /* the current table's header is about lights */
};

/* One colour paired with a pattern in a unit of text. */
struct mention {
	size_t color;
	const char *pattern;
	size_t start, end;
};

/* Per-token facts about a unit of text. */
struct unit {
	char *text;
	size_t len;
	size_t off; /* of text in the line */
	bool table;
	struct kb_token *tok;
	size_t ntok;
	size_t *clause; /* clause number of each token */
	unsigned char *kind;
	struct kb_match *colors, *patterns;
	size_t ncolors, npatterns;
};

enum {
	TK_OTHER = 0,
	TK_FREE,    /* stop word or light verb */
	TK_LED,	    /* names the light */
	TK_COLOR,   /* inside a colour match */
	TK_PATTERN, /* inside a pattern match */
};

/* Does the text between two tokens end a clause for pairing purposes? */
static bool
clause_gap(const char *s, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		switch (s[i]) {
		case ',':
		case ';':
		case ':':
		case '(':
		case ')':
		case '=':
		case '\n':
			return true;
		case '.':
		case '!':
		case '?':
			if (i + 1 < to && (s[i + 1] == ' ' || s[i + 1] == '\t'))
				return true;
			break;
		case '-':
			if (i + 1 < to && s[i + 1] == '>')
				return true;
			if (i > from && s[i - 1] == ' ' && i + 1 < to &&
			    s[i + 1] == ' ')
				return true;
			break;
		case '\xE2':
			/* en and em dash, arrows */
			if (i + 2 < to && s[i + 1] == '\x80' &&
			    (s[i + 2] == '\x93' || s[i + 2] == '\x94'))
				return true;
			if (i + 2 < to && s[i + 1] == '\x86')
				return true;
			break;
		}
	}
	return false;
}

/* Token index holding byte offset off (a match start), or ntok. */
static size_t
token_at(const struct unit *u, size_t off)
{
	size_t lo = 0, hi = u->ntok, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (u->tok[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
mark_matches(struct unit *u, const struct kb_match *m, size_t n,
	     unsigned char kind)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = token_at(u, m[i].start);
		     j < u->ntok && u->tok[j].start < m[i].end; j++)
			u->kind[j] = kind;
}

/*
 * "on" is a pattern word ("the light is on") but far more often a
 * preposition ("the light on the top").  Keep it only at the end of a
 * clause or before a colour or a joining word.
 */
static bool
weak_on(const struct unit *u, const struct kb_match *p)
{
	size_t i = token_at(u, p->start), next = i + 1;

	if (i >= u->ntok || strcmp(u->tok[i].norm, "on") != 0 ||
	    u->tok[i].end != p->end)
		return false;
	if (next >= u->ntok || u->clause[next] != u->clause[i])
		return false;
	if (u->kind[next] == TK_COLOR)
		return false;
	return !IN(lead_conditions, u->tok[next].norm) &&
	       strcmp(u->tok[next].norm, "and") != 0 &&
	       strcmp(u->tok[next].norm, "or") != 0 &&
	       strcmp(u->tok[next].norm, "until") != 0;
}

static void
unit_free(struct unit *u)
{
	free(u->text);
	kb_tokens_free(u->tok);
	free(u->clause);
	free(u->kind);
	free(u->colors);
	free(u->patterns);
}

/* Tokenise and classify; false when the unit names no colour. */
static bool
unit_read(struct extractor *x, struct unit *u)
{
	size_t i, k;

	kb_tokenize_n(u->text, u->len, &u->tok, &u->ntok);
	if (u->ntok == 0)
		return false;
	kb_taxonomy_find_colors_tok(x->t, u->text, u->tok, u->ntok, &u->colors,
				    &u->ncolors);
	if (u->ncolors == 0)
		return false;
	kb_taxonomy_find_patterns_tok(x->t, u->text, u->tok, u->ntok,
				      &u->patterns, &u->npatterns);
	u->clause = kb_xcalloc(u->ntok, sizeof(*u->clause));
	u->kind = kb_xcalloc(u->ntok, 1);
	for (i = 0; i < u->ntok; i++) {
		const char *w = u->tok[i].norm;

		if (i > 0)
			u->clause[i] = u->clause[i - 1] +
				       (clause_gap(u->text, u->tok[i - 1].end,
						   u->tok[i].start) ||
					IN(meaning_verbs, w));
		if (IN(led_words, w))
			u->kind[i] = TK_LED;
		else if (kb_is_stopword(w) || IN(light_verbs, w))
			u->kind[i] = TK_FREE;
	}
	mark_matches(u, u->patterns, u->npatterns, TK_PATTERN);
	mark_matches(u, u->colors, u->ncolors, TK_COLOR);
	/* Drop "on" where it is a preposition: then it is a function word. */
	for (i = k = 0; i < u->npatterns; i++) {
		if (weak_on(u, &u->patterns[i])) {
			u->kind[token_at(u, u->patterns[i].start)] = TK_FREE;
			continue;
		}
		u->patterns[k++] = u->patterns[i];
	}
	u->npatterns = k;
	return true;
}

/*
 * Words between two spans that say something else: more than one and the
 * colour and the pattern (or light) are about different things.
 */
static size_t
gap_words(const struct unit *u, size_t a_end, size_t b_start)
{
	size_t i, n = 0;

	for (i = token_at(u, a_end); i < u->ntok && u->tok[i].end <= b_start;
	     i++)
		if (u->kind[i] == TK_OTHER)
			n++;
	return n;
}

static size_t
span_gap(const struct unit *u, size_t s1, size_t e1, size_t s2, size_t e2)
{
	return e1 <= s2 ? gap_words(u, e1, s2) : gap_words(u, e2, s1);
}

static bool
same_clause(const struct unit *u, size_t a, size_t b)
{
	return u->clause[token_at(u, a)] == u->clause[token_at(u, b)];
}

/*
 * Pair colour c with the nearest pattern of its clause.  Without one, a
 * colour said of a light ("the light turns blue") is steady, as is a
 * colour in a table about lights; anything else is not an LED state.
 * Only words within PAIR_WINDOW of the colour are considered: a light's
 * colour and pattern are never far apart, and it keeps a line made of
 * nothing but colours and patterns linear.
 */
static bool
pair_color(const struct extractor *x, const struct unit *u, size_t c,
	   struct mention *m)
{
	const struct kb_match *col = &u->colors[c], *p, *best = NULL;
	size_t i, gap, best_gap = 0, dist, best_dist = 0, t0, t1, lo, hi;
	size_t mid, end;
	bool pattern_near = false;

	t0 = token_at(u, col->start);
	t1 = token_at(u, col->end > 0 ? col->end - 1 : 0);
	if (t1 >= u->ntok)
		t1 = u->ntok - 1;
	t0 = t0 > PAIR_WINDOW ? t0 - PAIR_WINDOW : 0;
	t1 = t1 + PAIR_WINDOW < u->ntok ? t1 + PAIR_WINDOW : u->ntok - 1;
	lo = u->tok[t0].start;
	hi = u->tok[t1].end;
	/* Patterns are in text order: find the first in the window. */
	for (i = 0, end = u->npatterns; i < end;) {
		mid = (i + end) / 2;
		if (u->patterns[mid].start < lo)
			i = mid + 1;
		else
			end = mid;
	}
	for (; i < u->npatterns && u->patterns[i].start < hi; i++) {
		p = &u->patterns[i];
		if (!same_clause(u, p->start, col->start))
			continue;
		pattern_near = true;
		gap = span_gap(u, col->start, col->end, p->start, p->end);
		if (p->start >= col->end)
			dist = p->start - col->end;
		else if (col->start >= p->end)
			dist = col->start - p->end;
		else
			dist = 0;
		if (gap > 1)
			continue;
		if (best == NULL || gap < best_gap ||
		    (gap == best_gap && dist < best_dist)) {
			best = p;
			best_gap = gap;
			best_dist = dist;
		}
	}
	m->color = col->index;
	if (best != NULL) {
		m->pattern = x->t->patterns[best->index].id;
		m->start = best->start < col->start ? best->start : col->start;
		m->end = best->end > col->end ? best->end : col->end;
		return true;
	}
	/* A pattern nearby that does not pair suggests something else. */
	if (pattern_near || x->solid == NULL)
		return false;
	m->pattern = x->solid;
	m->start = col->start;
	m->end = col->end;
	if (u->table && x->table_led)
		return true;
	for (i = t0; i <= t1; i++) {
		if (u->kind[i] != TK_LED ||
		    !same_clause(u, u->tok[i].start, col->start))
			continue;
		if (span_gap(u, col->start, col->end, u->tok[i].start,
			     u->tok[i].end) == 0)
			return true;
	}
	return false;
}

/* Is s[from..to) only joining words ("and", "or", ",", "/")? */
static bool
only_joiners(const struct unit *u, size_t from, size_t to)
{
	size_t i, j;

	if (to <= from)
		return true;
	for (i = from; i < to; i++)
		if (strchr(" \t,/&+", u->text[i]) == NULL &&
		    !((u->text[i] >= 'a' && u->text[i] <= 'z') ||
		      (u->text[i] >= 'A' && u->text[i] <= 'Z')))
			return false;
	for (j = token_at(u, from); j < u->ntok && u->tok[j].start < to; j++)
		if (strcmp(u->tok[j].norm, "and") != 0 &&
		    strcmp(u->tok[j].norm, "or") != 0)
			return false;
	return true;
}

/* Does tok[i..] start with the words of phrase?  Returns how many. */
static size_t
starts_with_words(const struct kb_token *tok, size_t n, size_t i,
		  const char *phrase)
{
	size_t k = 0, wl;
	const char *p = phrase, *sp;

	while (*p) {
		sp = strchr(p, ' ');
		wl = sp ? (size_t)(sp - p) : strlen(p);
		if (i + k >= n || strlen(tok[i + k].norm) != wl ||
		    memcmp(tok[i + k].norm, p, wl) != 0)
			return 0;
		k++;
		p += wl;
		if (*p == ' ')
			p++;
	}
	return k;
}

/* Is every word of the meaning a stop word or LED vocabulary? */
static bool
says_nothing(const struct extractor *x, const struct kb_token *tok, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *w = tok[i].norm;

		if (kb_is_stopword(w) || IN(led_words, w) ||
		    IN(light_verbs, w) || kb_taxonomy_color(x->t, w) ||
		    kb_taxonomy_pattern(x->t, w))
			continue;
		return false;
	}
	return true;
}

/* Has s no letter or digit left? */
static bool
has_no_word(const char *s)
{
	for (; *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || (unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * Turn s[0..n) into a short meaning: drop markup, the verb and subject
 * in front, and trailing joining words and punctuation; stop at the end
 * of the sentence or table cell; keep it under MEANING_MAX bytes.  NULL
 * when nothing is left or it only names lights.
 */
static char *
clean_meaning(const struct extractor *x, const char *s, size_t n)
{
	struct kb_buf b;
	struct kb_token *tok = NULL;
	size_t ntok, i, first, last, k, f, end, cut;
	char *r = NULL, *open_paren;
	bool changed;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	/* Inline markup the article parser may have left. */
	for (i = 0; i < n; i++)
		if (s[i] != '*' && s[i] != '`' && s[i] != '\n')
			kb_buf_addc(&b, s[i]);
	/* Skip separators and cell borders, then stop at the next cell. */
	i = strspn(b.data, " \t|:-=>,;.\"'()[]");
	cut = i + strcspn(b.data + i, "|;");
	for (k = i; k + 1 < cut; k++)
		if (strchr(".!?", b.data[k]) && b.data[k + 1] == ' ') {
			cut = k;
			break;
		}
	kb_tokenize_n(b.data, cut, &tok, &ntok);
	first = 0;
	last = ntok;
	do {
		changed = false;
		for (f = 0; f < sizeof(meaning_fillers) /
				    sizeof(*meaning_fillers) &&
			    first < last;
		     f++) {
			k = starts_with_words(tok, last, first,
					      meaning_fillers[f]);
			if (k > 0) {
				first += k;
				changed = true;
				break;
			}
		}
	} while (changed);
	/* "battery low, which means ..." - the rest is commentary. */
	for (k = first + 1; k < last; k++)
		if (IN(comment_starts, tok[k].norm) &&
		    memchr(b.data + tok[k - 1].end, ',',
			   tok[k].start - tok[k - 1].end) != NULL) {
			last = k;
			break;
		}
	while (last > first && IN(meaning_tails, tok[last - 1].norm))
		last--;
	if (last <= first || says_nothing(x, tok + first, last - first))
		goto out;
	/* Keep to MEANING_MAX bytes, ending on a whole word. */
	while (last > first + 1 &&
	       tok[last - 1].end - tok[first].start > MEANING_MAX)
		last--;
	end = tok[last - 1].end;
	if (end - tok[first].start > MEANING_MAX)
		goto out;
	/* "below 20%" and "(about 3 hours)" keep their closing marks. */
	if (end < cut && b.data[end] == '%' &&
	    end - tok[first].start < MEANING_MAX)
		end++;
	if (end < cut && b.data[end] == ')' &&
	    end - tok[first].start < MEANING_MAX &&
	    memchr(b.data + tok[first].start, '(', end - tok[first].start))
		end++;
	r = kb_xstrndup(b.data + tok[first].start, end - tok[first].start);
	/* A bracket cut off by the length limit goes, with what it opened. */
	open_paren = strrchr(r, '(');
	if (open_paren != NULL && strchr(open_paren, ')') == NULL) {
		*open_paren = '\0';
		if (has_no_word(r))
			goto drop;
	}
	kb_squeeze_space(r);
	k = strlen(r);
	while (k > 0 && strchr(" ,;:-", r[k - 1]) != NULL)
		r[--k] = '\0';
	goto out;
drop:
	free(r);
	r = NULL;
out:
	kb_tokens_free(tok);
	kb_buf_free(&b);
	return r;
}

/*
 * A meaning stated before the light: "While charging, the LED is solid
 * red" or "The battery is low when the light blinks red".  Only plain
 * statements count; "Press the button when the light flashes blue" is
 * an instruction, not a meaning.
 */
static char *
meaning_before(const struct extractor *x, const struct unit *u, size_t upto)
{
	size_t i, end, from, comma, led;
	bool lead, statement;

	if (u->ntok < 2 || u->tok[0].start >= upto)
		return NULL;
	lead = IN(lead_conditions, u->tok[0].norm);
	i = token_at(u, upto);
	if (lead) {
		/* "While X, the light ..." or "Once X the light ...". */
		from = u->tok[1].start;
		for (comma = upto; comma > u->tok[0].end; comma--)
			if (u->text[comma - 1] == ',')
				break;
		if (comma > u->tok[0].end) {
			end = comma - 1;
		} else {
			for (led = i; led > 2 && u->kind[led - 1] != TK_LED;)
				led--;
			if (led <= 2)
				return NULL;
			led--;
			if (u->kind[led - 1] == TK_FREE)
				led--; /* "the" light */
			end = u->tok[led].start;
		}
	} else {
		/* "X when the light ...". */
		while (i > 1 && !IN(lead_conditions, u->tok[i - 1].norm))
			i--;
		if (i <= 1)
			return NULL;
		from = 0;
		end = u->tok[i - 1].start;
	}
	statement = lead;
	for (i = 0; i < u->ntok && u->tok[i].end <= end; i++) {
		const char *w = u->tok[i].norm;

		if (strcmp(w, "you") == 0 || strcmp(w, "your") == 0 ||
		    strcmp(w, "press") == 0 || strcmp(w, "hold") == 0)
			return NULL;
		if (strcmp(w, "is") == 0 || strcmp(w, "are") == 0)
			statement = true;
	}
	if (!statement || from >= end)
		return NULL;
	return clean_meaning(x, u->text + from, end - from);
}

/* Questions and titles ("What the red light means") state no fact. */
static bool
is_question(const struct unit *u)
{
	size_t end = u->len;

	while (end > 0 && strchr(" \t*\"')", u->text[end - 1]) != NULL)
		end--;
	if (end > 0 && u->text[end - 1] == '?')
		return true;
	return strcmp(u->tok[0].norm, "what") == 0 ||
	       strcmp(u->tok[0].norm, "how") == 0 ||
	       strcmp(u->tok[0].norm, "why") == 0 ||
	       strcmp(u->tok[0].norm, "which") == 0;
}

/*
 * Where the meaning of a group ending at *from starts.  In "When the LED
 * flashes blue, the speaker is ready to pair" it is the main clause after
 * the comma; in "a solid white light on top means ..." it is what follows
 * the verb, unless a separator came first ("blinking red - battery low,
 * which means ...").
 */
static void
meaning_span(const struct unit *u, size_t group_start, size_t *from,
	     size_t to)
{
	size_t i, c;

	if (IN(lead_conditions, u->tok[0].norm) &&
	    memchr(u->text, ',', group_start) == NULL) {
		for (c = *from; c < to; c++)
			if (u->text[c] == ',') {
				*from = c + 1;
				return;
			}
	}
	for (i = token_at(u, *from); i < u->ntok && u->tok[i].end <= to;
	     i++) {
		if (!IN(meaning_verbs, u->tok[i].norm))
			continue;
		if (!clause_gap(u->text, *from, u->tok[i].start))
			*from = u->tok[i].start;
		return;
	}
}

/*
 * The model a statement at line offset at is about: the nearest named
 * before it on the line, else one named later in the same sentence, else
 * the section's or the article's only model.
 */
static const char *
model_for(struct extractor *x, size_t at, size_t unit_end)
{
	const struct kb_match *before = NULL, *after = NULL;
	char *copy;
	size_t i, hi, mid;

	if (!x->models_found) {
		copy = kb_xstrndup(x->line, x->line_len);
		kb_taxonomy_find_models(x->t, copy, &x->models, &x->nmodels);
		free(copy);
		x->models_found = true;
	}

	/* Matches are in text order: i = how many start at or before at. */
	for (i = 0, hi = x->nmodels; i < hi;) {
		mid = (i + hi) / 2;
		if (x->models[mid].start <= at)
			i = mid + 1;
		else
			hi = mid;
	}
	if (i > 0)
		before = &x->models[i - 1];
	if (i < x->nmodels && x->models[i].start < unit_end)
		after = &x->models[i];
	if (before != NULL)
		return x->t->models[before->index].name;
	if (after != NULL)
		return x->t->models[after->index].name;
	if (x->section_model != NULL)
		return x->section_model;
	return x->article_model;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
add_fact(struct extractor *x, const char *model, const char *color,
	 const char *pattern, const char *meaning)
{
	struct kb_led_facts *f = x->out;
	struct kb_led_fact *e;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (str_eq(f->v[i].model, model) &&
		    strcmp(f->v[i].color, color) == 0 &&
		    strcmp(f->v[i].pattern, pattern) == 0)
			return;
	f->v = kb_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	e = &f->v[f->n++];
	e->model = model != NULL ? kb_xstrdup(model) : NULL;
	e->color = kb_xstrdup(color);
	e->pattern = kb_xstrdup(pattern);
	e->meaning = kb_xstrdup(meaning);
	e->section = x->section;
}

static int
cmp_mention(const void *a, const void *b)
{
	const struct mention *p = a, *q = b;

	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return p->end < q->end ? -1 : p->end > q->end;
}

/*
 * One sentence or table row: pair colours with patterns, group mentions
 * that share a meaning ("solid red or solid white: charging"), and read
 * each group's meaning from what follows it.
 */
static void
extract_unit(struct extractor *x, const char *s, size_t off, size_t len,
	     bool table)
{
	struct unit u = {0};
	struct mention *m = NULL;
	size_t nm = 0, i, g, gend, next, j, from, to;
	char *meaning;
	const char *model;

	u.text = kb_xstrndup(s + off, len);
	u.len = len;
	u.off = off;
	u.table = table;
	if (!unit_read(x, &u) || is_question(&u))
		goto out;
	m = kb_xcalloc(u.ncolors, sizeof(*m));
	for (i = 0; i < u.ncolors; i++)
		if (pair_color(x, &u, i, &m[nm]))
			nm++;
	qsort(m, nm, sizeof(*m), cmp_mention);
	for (g = 0; g < nm; g = next) {
		gend = m[g].end;
		for (next = g + 1; next < nm; next++) {
			if (m[next].start >= gend &&
			    !only_joiners(&u, gend, m[next].start))
				break;
			if (m[next].end > gend)
				gend = m[next].end;
		}
		from = gend;
		to = next < nm ? m[next].start : u.len;
		meaning_span(&u, m[g].start, &from, to);
		meaning = clean_meaning(x, u.text + from, to - from);
		if (meaning == NULL && g == 0 && next == nm)
			meaning = meaning_before(x, &u, m[g].start);
		if (meaning == NULL)
			continue;
		for (j = g; j < next; j++) {
			model = model_for(x, u.off + m[j].start,
					  u.off + u.len);
			add_fact(x, model, x->t->colors[m[j].color].id,
				 m[j].pattern, meaning);
		}
		free(meaning);
	}
out:
	free(m);
	unit_free(&u);
}

static bool
is_table_row(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '|')
		return true;
	for (; i + 2 < len; i++)
		if (s[i] == ' ' && s[i + 1] == '|' && s[i + 2] == ' ')
			return true;
	return false;
}

/*
 * A table whose header row talks about lights or meanings ("| Colour |
 * Meaning |"): its colours are LED states even without a pattern word.
 */
static bool
header_about_lights(const char *s, size_t len)
{
	struct kb_token *tok;
	size_t n, i;
	bool yes = false;

	kb_tokenize_n(s, len, &tok, &n);
	for (i = 0; i < n && !yes; i++)
		yes = IN(led_words, tok[i].norm) ||
		      strcmp(tok[i].norm, "meaning") == 0 ||
		      strcmp(tok[i].norm, "means") == 0;
	kb_tokens_free(tok);
	return yes;
}

/* Split a line into sentences (and over-long sentences into pieces). */
static void
extract_sentences(struct extractor *x, const char *s, size_t len)
{
	size_t start = 0, i, end, cut;

	while (start < len) {
		end = len;
		for (i = start; i + 1 < len && i <= start + UNIT_MAX; i++)
			if ((s[i] == '.' || s[i] == '!' || s[i] == '?') &&
			    (s[i + 1] == ' ' || s[i + 1] == '\t')) {
				end = i + 1;
				break;
			}
		if (end - start > UNIT_MAX) {
			cut = start + UNIT_MAX;
			while (cut > start + UNIT_MAX / 2 && s[cut] != ' ')
				cut--;
			if (s[cut] != ' ')
				cut = start + UNIT_MAX;
			/* Never split a UTF-8 sequence. */
			while (cut > start + 1 &&
			       ((unsigned char)s[cut] & 0xC0) == 0x80)
				cut--;
			end = cut;
		}
		extract_unit(x, s, start, end - start, false);
		start = end;
	}
}

static void
extract_text(struct extractor *x, const char *text)
{
	const char *line = text, *nl;
	size_t len;
	bool in_table = false, row;

	while (*line) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		row = is_table_row(line, len);
		if (row && !in_table)
			x->table_led = header_about_lights(line, len);
		in_table = row;
		free(x->models);
		x->models = NULL;
		x->nmodels = 0;
		x->models_found = false;
		x->line = line;
		x->line_len = len;
		if (len > 0) {
			if (row && len <= UNIT_MAX * 4)
				extract_unit(x, line, 0, len, true);
			else
				extract_sentences(x, line, len);
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	free(x->models);
	x->models = NULL;
	x->nmodels = 0;
}

/*
 * Could text mention a colour?  The test is a case-insensitive byte
 * search for every ASCII colour word (ASCII case only, as strcasestr does
 * in the C locale); any non-ASCII word makes the answer "maybe", since
 * matching folds case and accents beyond what a byte search sees.
 *
 * Most sections name no colour, and every section is asked, so the words
 * are looked for in one pass over the text: a bitmap of the words' first
 * two bytes, lowercased, picks the few places where one of them may
 * start, and only there are the words compared.
 */
struct colour_filter {
	bool always;		  /* a non-ASCII word: every text may match */
	bool single[256];	  /* one-byte words, lowercased */
	unsigned char pair[8192]; /* bit (a << 8 | b): a word starts "ab" */
	const char **words;	  /* the words of two bytes or more */
	unsigned int *starts;	  /* and their first two bytes, as a bit */
	size_t nwords;
};

static unsigned char
lower_ascii(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static void
colour_filter_init(struct colour_filter *f, const struct kb_taxonomy *t)
{
	size_t i, k, n = 0;
	unsigned int bit;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < t->ncolors; i++)
		n += t->colors[i].synonyms.n + 1;
	f->words = kb_xcalloc(n, sizeof(*f->words));
	f->starts = kb_xcalloc(n, sizeof(*f->starts));
	for (i = 0; i < t->ncolors; i++) {
		const struct kb_led_term *c = &t->colors[i];

		for (k = 0; k <= c->synonyms.n; k++) {
			const char *w = k < c->synonyms.n ? c->synonyms.v[k]
							  : c->id;
			const unsigned char *p;

			for (p = (const unsigned char *)w; *p; p++)
				if (*p >= 0x80)
					f->always = true;
			if (w[0] == '\0')
				continue;
			if (w[1] == '\0') {
				f->single[lower_ascii((unsigned char)w[0])] =
				    true;
				continue;
			}
			bit = (unsigned int)lower_ascii((unsigned char)w[0])
				  << 8 |
			      lower_ascii((unsigned char)w[1]);
			f->pair[bit >> 3] |= (unsigned char)(1u << (bit & 7));
			f->starts[f->nwords] = bit;
			f->words[f->nwords++] = w;
		}
	}
}

static void
colour_filter_free(struct colour_filter *f)
{
	free(f->words);
	free(f->starts);
}

static bool
may_name_colour(const struct colour_filter *f, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned int a, b, bit;
	size_t k;

	if (text == NULL || *text == '\0')
		return false;
	if (f->always)
		return true;
	for (a = lower_ascii(*p); a != '\0'; a = b, p++) {
		if (f->single[a])
			return true;
		b = lower_ascii(p[1]);
		bit = a << 8 | b;
		if (b == '\0' || !(f->pair[bit >> 3] & (1u << (bit & 7))))
			continue;
		for (k = 0; k < f->nwords; k++)
			if (f->starts[k] == bit &&
			    strncasecmp((const char *)p + 2, f->words[k] + 2,
					strlen(f->words[k] + 2)) == 0)
				return true;
	}
	return false;
}

void
kb_extract_leds(const struct kb_taxonomy *t, const struct kb_article *a,
		const struct kb_strv *article_models, struct kb_led_facts *out)
{
	struct extractor x = {0};
	struct colour_filter filter;
	bool have_filter = false; /* made when first needed, if ever */
	const struct kb_led_term *solid;
	const struct kb_section *s;
	size_t i;

	if (t == NULL || a == NULL || out == NULL || t->ncolors == 0)
		return;
	x.t = t;
	x.out = out;
	solid = kb_taxonomy_pattern(t, "solid");
	x.solid = solid != NULL ? solid->id : NULL;
	if (article_models == NULL)
		article_models = &a->fm_models;
	if (article_models->n == 1)
		x.article_model = article_models->v[0];
	for (i = 0; i < a->nsections; i++) {
		s = &a->sections[i];
		/*
		 * Most sections name no colour at all: skip them cheaply,
		 * by what tagging saw in their words or else by a byte scan.
		 */
		if (s->colour == KB_COLOUR_NONE)
			continue;
		if (s->colour == KB_COLOUR_UNKNOWN && !have_filter) {
			colour_filter_init(&filter, t);
			have_filter = true;
		}
		if (s->colour == KB_COLOUR_UNKNOWN &&
		    !may_name_colour(&filter, s->heading) &&
		    !may_name_colour(&filter, s->body))
			continue;
		x.section = i;
		x.section_model = s->models.n == 1 ? s->models.v[0] : NULL;
		if (s->heading != NULL)
			extract_text(&x, s->heading);
		if (s->body != NULL)
			extract_text(&x, s->body);
	}
	if (have_filter)
		colour_filter_free(&filter);
}

void
kb_led_facts_free(struct kb_led_facts *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].model);
		free(f->v[i].color);
		free(f->v[i].pattern);
		free(f->v[i].meaning);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
