/* search.c - free text in, understood, ranked sections and answers out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_int.h"
#include "escape.h"
#include "fuzzy.h"
#include "query.h"
#include "kbx.h"
#include "search.h"
#include "textnorm.h"
#include "understand.h"

/*
 * How a search runs:
 *
 *  1. The query is read through the taxonomy (understand.c): model, LED
 *     state, symptoms, remaining words.
 *  2. Every word becomes a concept: the word, its taxonomy synonyms and,
 *     for the last word of a query still being typed, its prefix.  Words
 *     the index has never seen are corrected against the unstemmed
 *     vocabulary or dropped; long queries keep their most informative
 *     words.  Recognised symptoms and the model become tag concepts,
 *     which match the tag terms kbindex writes into the tags column.
 *  3. Every alternative of every concept is ORed, so a query never
 *     comes back empty because one word is missing.  The impact-ordered
 *     postings (kbx.h) pick a window of candidates: the sections with the
 *     most weighted impact, reading the most telling postings first and
 *     stopping at a budget, so common words cost no more than rare ones.
 *     Each candidate is then scored on every phrase from its own tokens.
 *  4. The window is re-ranked: the share of the query's information a
 *     section covers, whether it is about the model asked for (generic
 *     advice above advice for another model), tagged with the symptoms
 *     asked for, holds the LED state asked about, and its own prior.  A
 *     single article gets at most two places in the first page.
 */

static const char hit_sql[] =
	"SELECT s.article_id, s.heading, s.anchor, a.title, a.path, s.body"
	" FROM sections s JOIN articles a ON a.id = s.article_id"
	" WHERE s.id = ?";
/* Sections in the index, as kbindex counted them (kbx.c). */
static const char nsec_sql[] =
	"SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'kbx'";
/*
 * Words that may be what a typo meant: of a length near it, starting with
 * its first letter (?3) or its second (?4).  Each letter is a range of the
 * vocabulary's key, so a search reads the words under two letters, not
 * all of them (man pages: 16,471 words).  ?4 is a letter after ?3, or the
 * same one, which the second range then skips.
 */
#define VOCAB_RANGE(n)                                                     \
	"SELECT word, df FROM vocab WHERE word >= ?" #n                    \
	" AND word < ?" #n " || char(1114111)"                             \
	" AND substr(word, 1, 1) = ?" #n                                   \
	" AND length(word) BETWEEN ?1 AND ?2"
static const char vocab_sql[] =
	VOCAB_RANGE(3) " UNION ALL " VOCAB_RANGE(4) " AND ?4 > ?3";
static const char word_sql[] = "SELECT df FROM vocab WHERE word = ?";
static const char prefix_sql[] =
	"SELECT max(df) FROM vocab WHERE word >= ?1 AND word < ?1 || char(1114111)";
/*
 * LED answers, the fact from the section that lists the most first: for
 * the model asked for, for no model in particular, or for any.
 */
#define ANSWER(idx)                                                        \
	"SELECT l.model, l.color, l.pattern, l.meaning, l.article_id,"     \
	" l.section_id, a.path, s.heading, s.anchor"                       \
	" FROM leds l INDEXED BY " idx                                     \
	" JOIN sections s ON s.id = l.section_id"                          \
	" JOIN articles a ON a.id = l.article_id WHERE l.best = 1 AND "
#define ANSWER_ORDER " ORDER BY l.nsec DESC, l.id"
#define CP "l.color = ?1 AND l.pattern = ?2"
#define C "l.color = ?1"
#define P "l.pattern = ?2"
#define MODEL "l.model = ?3 COLLATE NOCASE AND "
#define GENERIC "l.model IS NULL AND "
/*
 * [who][state]: who 0 any, 1 the model, 2 no model; state 0 colour and
 * pattern, 1 colour, 2 pattern.  Each reads its index in answer order,
 * so the first few rows are the answer.
 */
static const char *const answer_sql[3][3] = {
	{ ANSWER("leds_state") CP ANSWER_ORDER,
	  ANSWER("leds_color") C ANSWER_ORDER,
	  ANSWER("leds_pattern") P ANSWER_ORDER },
	{ ANSWER("leds_model") MODEL CP ANSWER_ORDER,
	  ANSWER("leds_model_color") MODEL C ANSWER_ORDER,
	  ANSWER("leds_model_pattern") MODEL P ANSWER_ORDER },
	{ ANSWER("leds_model") GENERIC CP ANSWER_ORDER,
	  ANSWER("leds_model_color") GENERIC C ANSWER_ORDER,
	  ANSWER("leds_model_pattern") GENERIC P ANSWER_ORDER },
};
#undef ANSWER
#undef CP
#undef C
#undef P
#undef MODEL
#undef GENERIC
/*
 * The plain bm25 baseline: a temporary FTS5 table over the same text,
 * made the first time it is asked for (make eval).  The tags column
 * holds the section's model names and symptom labels.
 */
static const char base_make_sql[] =
	"CREATE VIRTUAL TABLE temp.base USING fts5("
	" title, heading, body, tags, tokenize = 'kb')";
static const char base_text_sql[] =
	"SELECT s.id, a.title, s.heading, s.body"
	" FROM sections s JOIN articles a ON a.id = s.article_id";
static const char base_put_sql[] =
	"INSERT INTO temp.base(rowid, title, heading, body, tags)"
	" VALUES (?, ?, ?, ?, ?)";
static const char base_all_sql[] =
	"SELECT rowid FROM temp.base WHERE base MATCH ?1"
	" ORDER BY bm25(base) LIMIT ?2";

/* Candidates re-ranked per query; past them, bm25 order stands. */
#define WINDOW 200
/* LED facts an answer card lists at most. */
#define MAX_LED_ANSWERS 8
/*
 * Postings that may bring sections into the first stage (the most
 * telling first); kbx.c bounds the postings read in all.
 */
#define FIRST_BUDGET 50000
/* Most word concepts a query keeps (long tickets keep the informative). */
#define MAX_WORDS 12
#define MAX_LONG_WORDS 40
#define MAX_CONCEPTS 56
/* More distinct words than this and a query is a pasted ticket. */
#define LONG_QUERY_WORDS 15
/* FTS5 phrases kbphrases() can report on. */
#define MAX_PHRASES 63
/* Places one article may take in the first page. */
#define PER_ARTICLE 2
/* The first places, one article each. */
#define TOP_DISTINCT 1
#define FIRST_PAGE 10
/* Words in a snippet. */
#define SNIPPET_WORDS 24
/* Words allowed between the words of a multi-word synonym. */
#define MW_GAP 2
/* Share of a word's weight earned through a synonym or a tag. */
#define SYNONYM_CREDIT 0.6
#define TAG_CREDIT 0.8
#define TAG_TF 2.0
#define FILLER_WEIGHT 0.25
/*
 * Ranking weights, chosen on half of tests/relevance/queries.tsv and
 * checked on the other half (make eval): BM25F saturation and length
 * normalisation; what words said together in a heading or the body add;
 * what a symptom tag on the article, the section or the title adds; what
 * the model asked for (or another one) multiplies by; how steeply the
 * share of the query's words a section covers counts.
 */
#define BM_K1 2.5
#define BM_B 0.8
#define PROX_HEADING 0.8
#define PROX_BODY 0.1
#define SYM_ARTICLE 0.75
#define SYM_SECTION 0.45
#define SYM_TITLE 0.1
#define MODEL_MATCH 1.9
#define MODEL_OTHER 0.4
#define MODEL_OFF_SYMPTOM 0.4
#define COVER_EXP 1.6
#define BM_FLOOR 0.3

enum concept_kind { C_WORD, C_SYMPTOM, C_MODEL };

struct concept {
	enum concept_kind kind;
	char *word;	       /* the word searched for (after correction) */
	struct kb_strv alts;   /* FTS5 phrases, already quoted */
	double weight;	       /* information: idf x query frequency */
	int64_t df;	       /* sections holding the word (max of alts) */
	unsigned qtf;	       /* times the query says it */
	size_t nexact;	       /* alts before the synonyms */
	size_t pos;	       /* first token of the word in the query */
	uint64_t mask;	       /* phrase bits belonging to this concept */
	uint64_t exact;	       /* bits of the word as typed (no synonyms) */
	int symptom;	       /* the recognised symptom it is part of, or -1 */
	bool led;	       /* it names the LED state asked about */
};

struct plan {
	struct concept c[MAX_CONCEPTS];
	size_t n;
	char *expr;
	double total_weight; /* of word concepts */
	bool long_query;
	size_t dropped;	     /* words dropped as unknown */
	bool led_answered;   /* LED facts answer the light asked about */
	uint32_t led_symptoms; /* symptoms said only in LED words, then */
	size_t nwords;	     /* word concepts */
	int64_t nsections;
};

struct cand {
	int64_t id;
	int64_t article;
	struct kbx_owned_feat feat; /* prior and tags */
	double bm25;
	uint32_t prox[4]; /* concepts said together, per column */
	uint64_t phrases;
	double cover;
	double score;
	size_t pos;
};

static void
push_count(struct kb_count **v, size_t *n, const char *value, size_t len,
	   int64_t count)
{
	*v = kb_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].value = kb_xstrndup(value, len);
	(*v)[*n].count = count;
	(*n)++;
}

/*
 * Counts of values, each found by its hash: a window's tags name a
 * hundred models and more, and each of its ~1,000 tags is counted.
 */
struct counter {
	struct kb_count **v;
	size_t *n;
	struct {
		uint32_t at; /* 1 + the value's place in *v; 0: empty */
		uint32_t hash;
	} *slot;
	size_t cap;
};

static void
counter_init(struct counter *c, struct kb_count **v, size_t *n)
{
	memset(c, 0, sizeof(*c));
	c->v = v;
	c->n = n;
}

static void
counter_free(struct counter *c)
{
	free(c->slot);
	memset(c, 0, sizeof(*c));
}

static void
counter_put(struct counter *c, size_t at, uint32_t h)
{
	size_t i = h & (c->cap - 1);

	while (c->slot[i].at != 0)
		i = (i + 1) & (c->cap - 1);
	c->slot[i].at = (uint32_t)at + 1;
	c->slot[i].hash = h;
}

/* Count value[0..len). */
static void
add_count(struct counter *c, const char *value, size_t len)
{
	uint32_t h = (uint32_t)kb_fnv1a(value, len);
	size_t i;

	if (2 * (*c->n + 1) > c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		free(c->slot);
		c->slot = kb_xcalloc(c->cap, sizeof(*c->slot));
		for (i = 0; i < *c->n; i++)
			counter_put(c, i,
				    (uint32_t)kb_fnv1a_str((*c->v)[i].value,
							   NULL));
	}
	for (i = h & (c->cap - 1); c->slot[i].at != 0;
	     i = (i + 1) & (c->cap - 1)) {
		struct kb_count *x = &(*c->v)[c->slot[i].at - 1];

		if (c->slot[i].hash == h && strncmp(x->value, value, len) == 0 &&
		    x->value[len] == '\0') {
			x->count++;
			return;
		}
	}
	push_count(c->v, c->n, value, len, 1);
	counter_put(c, *c->n - 1, h);
}

static int
cmp_count(const void *a, const void *b)
{
	const struct kb_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->value, y->value);
}

/*
 * Sections matching any of the query's words: exact when the candidate
 * window was not full, else estimated from the words' frequencies as if
 * they occurred independently.  Counting every match exactly would cost
 * as much as scoring every match, which the window exists to avoid.
 */
static size_t
estimate_total(const struct plan *p, size_t nc)
{
	double none = 1.0, n = (double)p->nsections, est;
	size_t i;

	if (nc < WINDOW || n <= 0)
		return nc;
	for (i = 0; i < p->n; i++)
		if (p->c[i].kind == C_WORD)
			none *= 1.0 - (double)p->c[i].df / n;
	est = n * (1.0 - none);
	return est > (double)nc ? (size_t)est : nc;
}

/* KBSEARCH_DEBUG=1: where a search spends its time, on stderr. */
static void
stamp(const struct kb_result *r, const char *what)
{
	if (getenv("KBSEARCH_DEBUG") != NULL)
		fprintf(stderr, "%-14s %7.2f ms\n", what,
			(kb_now() - r->ms) * 1000.0);
}

static int
fail_db(struct kb_db *db, struct kb_error *err)
{
	if (kb_db_timed_out(db))
		return kb_error_set(err, KB_ERR_TIMEOUT, 0,
				    "the query took too long and was stopped");
	return kb_error_set(err, KB_ERR_DB, 0,
			    "the index could not be searched (damaged or "
			    "built by another version? run kbindex --full)");
}

static int
fail(struct kb_error *err)
{
	/* SQLite's text never reaches users: their input caused nothing. */
	return kb_error_set(err, KB_ERR_DB, 0,
			    "the index could not be searched (damaged or "
			    "built by another version? run kbindex --full)");
}

static int64_t
term_df(struct kb_db *db, const char *word)
{
	char *term = kb_fts_term(word);
	int64_t df = term ? kbx_term_df(db, term) : 0;

	free(term);
	return df;
}

static void
quoted(struct kb_strv *sv, const char *phrase, bool prefix, const char *col)
{
	struct kb_buf b;

	kb_buf_init(&b);
	if (col != NULL)
		kb_buf_printf(&b, "%s : ", col);
	kb_fts_quote(&b, phrase);
	if (prefix)
		kb_buf_addc(&b, '*');
	kb_strv_push_own(sv, kb_buf_steal(&b));
}

/* Synonyms of a word from the taxonomy's groups (stems compared). */
static void
add_synonyms(const struct kb_understand_cache *uc, struct concept *c)
{
	const struct kb_syn_group *grp;
	char ws[128];
	size_t ng = 0, g, k;

	grp = kb_understand_synonyms(uc, &ng);
	kb_stem(c->word, ws, sizeof(ws));
	for (g = 0; g < ng; g++) {
		bool in = false;

		for (k = 0; k < grp[g].n && !in; k++)
			in = !grp[g].m[k].multiword &&
			     strcmp(grp[g].m[k].stem, ws) == 0;
		if (!in)
			continue;
		for (k = 0; k < grp[g].n; k++) {
			const struct kb_syn_member *m = &grp[g].m[k];

			if (*m->norm && strcmp(m->stem, ws) != 0 &&
			    !kb_strv_contains(&c->alts, m->norm))
				quoted(&c->alts, m->norm, false, NULL);
		}
	}
}

static int64_t
vocab_df(struct kb_db *db, const char *word)
{
	sqlite3_stmt *st = kb_db_stmt(db, word_sql);
	int64_t df = 0;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, word, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		df = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return df;
}

static int64_t
prefix_df(struct kb_db *db, const char *prefix)
{
	sqlite3_stmt *st = kb_db_stmt(db, prefix_sql);
	int64_t df = 0;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		df = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return df;
}

/* Index documents holding every word of a phrase, at most. */
static int64_t
phrase_df(struct kb_db *db, const char *phrase)
{
	struct kb_token *tok = NULL;
	size_t n = 0, i;
	int64_t df = -1, d;

	kb_tokenize(phrase, &tok, &n);
	for (i = 0; i < n; i++) {
		d = term_df(db, tok[i].norm);
		if (df < 0 || d < df)
			df = d;
	}
	kb_tokens_free(tok);
	return df < 0 ? 0 : df;
}

/*
 * A word concept's alternatives: the word as typed, its prefix when it is
 * still being typed, then its synonyms; df is the best any of them has.
 */
static void
fill_alts(struct kb_db *db, struct concept *c,
	  bool long_query, bool typing)
{
	size_t k;

	c->df = term_df(db, c->word);
	quoted(&c->alts, c->word, false, NULL);
	if (typing && strlen(c->word) >= 2) {
		int64_t pdf = prefix_df(db, c->word);

		/* Words still being typed count as what they begin. */
		quoted(&c->alts, c->word, true, NULL);
		if (pdf > c->df)
			c->df = pdf;
	}
	c->nexact = c->alts.n;
	if (long_query)
		return;
	add_synonyms(kb_db_understand_cache(db), c);
	for (k = c->nexact; k < c->alts.n; k++) {
		const char *a = c->alts.v[k];
		char *plain = kb_xstrndup(a + 1, strlen(a) - 2);
		int64_t df = phrase_df(db, plain);

		free(plain);
		if (df > c->df)
			c->df = df;
	}
}

/*
 * The closest word of the unstemmed vocabulary within the typo budget;
 * ties go to the more common word.  NULL when there is none.  A word the
 * index has never seen (unknown) has the larger budget of fuzzy.h
 * ("lght" -> "light").
 */
static char *
correct(struct kb_db *db, const char *word, bool unknown)
{
	size_t budget = unknown ? kb_typo_budget_unseen(word)
				: kb_typo_budget(word);
	size_t len = strlen(word), d;
	size_t best = budget + 1;
	int64_t best_df = 0;
	sqlite3_stmt *st;
	char *out = NULL, f0[2] = { word[0], 0 }, f1[2] = { word[1], 0 };

	char wstem[128], cstem[128];

	if (budget == 0)
		return NULL;
	st = kb_db_stmt(db, vocab_sql);
	if (st == NULL)
		return NULL;
	kb_stem(word, wstem, sizeof(wstem));
	/*
	 * A typo rarely hits the first letter and the second one together.
	 * Lengths allow for a typo of another form of the word, compared
	 * stem to stem ("overchraging" -> "overcharge").
	 */
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(len > budget + 3
							  ? len - budget - 3
							  : 1));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(len + budget + 3));
	if (f1[0] == '\0')
		f1[0] = f0[0];
	if ((unsigned char)f1[0] < (unsigned char)f0[0]) {
		f0[0] = word[1];
		f1[0] = word[0];
	}
	sqlite3_bind_text(st, 3, f0, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f1, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *w = (const char *)sqlite3_column_text(st, 0);
		int64_t df = sqlite3_column_int64(st, 1);

		if (w == NULL || kb_typo_budget(w) == 0)
			continue;
		d = kb_edit_distance(word, w, budget);
		if (d > budget) {
			kb_stem(w, cstem, sizeof(cstem));
			d = kb_edit_distance(wstem, cstem, budget);
		}
		if (d == 0 || d > budget)
			continue;
		/* ties: the first word in the vocabulary's order */
		if (d < best || (d == best && df > best_df) ||
		    (d == best && df == best_df && strcmp(w, out) < 0)) {
			free(out);
			out = kb_xstrdup(w);
			best = d;
			best_df = df;
		}
	}
	sqlite3_reset(st);
	return out;
}

/*
 * Words that carry the asking rather than the problem ("how do I know
 * if ...", "I need help with ..."): searched, but worth little.
 */
static bool
is_filler(const char *w)
{
	static const char *const fill[] = {
		"anyone", "appreciate", "advice", "ask", "asking", "hello",
		"help", "hey", "hi", "issue", "know", "many", "much", "need",
		"please",
		"problem", "question", "someone", "tell", "thank", "thanks",
		"want", "wondering",
	};
	size_t i;

	for (i = 0; i < sizeof(fill) / sizeof(fill[0]); i++)
		if (strcmp(w, fill[i]) == 0)
			return true;
	return false;
}

static double
idf(int64_t n, int64_t df)
{
	return log(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
}

static int
cmp_weight_desc(const void *a, const void *b)
{
	const struct concept *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
cmp_pos(const void *a, const void *b)
{
	const struct concept *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void
concept_free(struct concept *c)
{
	free(c->word);
	kb_strv_free(&c->alts);
}

static void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		concept_free(&p->c[i]);
	free(p->expr);
}

/*
 * A synonym of several words said in the query ("wall socket", "take
 * apart") becomes one concept whose alternatives are its whole group, and
 * its words are not searched one by one.
 */
static bool
usable(const struct kb_understood *u, const bool *consumed, size_t i)
{
	return !consumed[i] && !(i >= u->model_start && i < u->model_end);
}

static void
multiword_synonyms(struct kb_db *db, const struct kb_taxonomy *t,
		   const struct kb_token *tok, size_t ntok,
		   const struct kb_understood *u, struct plan *p,
		   bool *consumed)
{
	char (*qs)[64] = kb_xcalloc(ntok + 1, sizeof(*qs));
	size_t g, m, i, k, pos[8];
	char ss[8][64];

	for (i = 0; i < ntok; i++)
		kb_stem(tok[i].norm, qs[i], sizeof(qs[i]));
	for (g = 0; g < t->nsynonyms; g++) {
		const struct kb_strv *grp = &t->synonyms[g];

		for (m = 0; m < grp->n && p->n < MAX_WORDS; m++) {
			struct kb_token *st = NULL;
			size_t nst = 0;
			struct concept *c;

			kb_tokenize(grp->v[m], &st, &nst);
			if (nst < 2) {
				kb_tokens_free(st);
				continue;
			}
			/*
			 * In order, with at most MW_GAP other words between
			 * ("take the speaker apart" says "take apart").
			 */
			if (nst > 8) {
				kb_tokens_free(st);
				continue;
			}
			for (k = 0; k < nst; k++)
				kb_stem(st[k].norm, ss[k], sizeof(ss[k]));
			for (i = 0; i < ntok; i++) {
				size_t at, lim;

				if (!usable(u, consumed, i) ||
				    strcmp(qs[i], ss[0]) != 0)
					continue;
				pos[0] = i;
				at = i + 1;
				for (k = 1; k < nst; k++) {
					lim = pos[k - 1] + MW_GAP + 1;
					while (at < ntok && at <= lim &&
					       !(usable(u, consumed, at) &&
						 strcmp(qs[at], ss[k]) == 0))
						at++;
					if (at >= ntok || at > lim)
						break;
					pos[k] = at++;
				}
				if (k == nst)
					break;
			}
			kb_tokens_free(st);
			if (i >= ntok || nst > 8)
				continue;
			c = &p->c[p->n];
			memset(c, 0, sizeof(*c));
			kb_strv_init(&c->alts);
			c->kind = C_WORD;
			c->word = kb_normalize(grp->v[m]);
			c->qtf = 1;
			c->pos = i;
			c->symptom = i < u->ntokens ? u->symptom_of[i] : -1;
			c->led = false;
			quoted(&c->alts, c->word, false, NULL);
			c->nexact = 1;
			for (k = 0; k < grp->n; k++) {
				char *n = kb_normalize(grp->v[k]);
				int64_t df;

				if (*n && strcmp(n, c->word) != 0 &&
				    !kb_strv_contains(&c->alts, n)) {
					quoted(&c->alts, n, false, NULL);
					df = strchr(n, ' ') ? 0 : term_df(db, n);
					if (df > c->df)
						c->df = df;
				}
				free(n);
			}
			if (c->df == 0)
				c->df = 1;
			c->weight = idf(p->nsections, c->df);
			for (k = 0; k < nst; k++)
				consumed[pos[k]] = true;
			p->n++;
		}
	}
	free(qs);
}

/* Corrections for the did-you-mean text: byte spans of the query. */
struct fixes {
	struct {
		size_t start, end;
		char *text;
	} v[MAX_CONCEPTS + 1];
	size_t n;
};

static void
note_correction(struct fixes *f, size_t start, size_t end, char *fix)
{
	size_t i;

	if (f->n == sizeof(f->v) / sizeof(f->v[0])) {
		free(fix);
		return;
	}
	/* Keep them in text order. */
	for (i = f->n; i > 0 && f->v[i - 1].start > start; i--)
		f->v[i] = f->v[i - 1];
	f->v[i].start = start;
	f->v[i].end = end;
	f->v[i].text = fix;
	f->n++;
}

static char *
apply_fixes(const char *text, struct fixes *f)
{
	struct kb_buf b;
	size_t i, at = 0;

	kb_buf_init(&b);
	for (i = 0; i < f->n; i++) {
		if (f->v[i].start >= at) {
			kb_buf_add(&b, text + at, f->v[i].start - at);
			kb_buf_adds(&b, f->v[i].text);
			at = f->v[i].end;
		}
		free(f->v[i].text);
	}
	kb_buf_adds(&b, text + at);
	f->n = 0;
	return kb_buf_steal(&b);
}

static void
build_plan(struct kb_db *db, const char *text, const struct kb_understood *u,
	   struct plan *p, char **did_you_mean)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);
	struct kb_token *tok = NULL;
	struct fixes fx;
	size_t ntok = 0, i, k, nwords = 0, phrase = 0;
	bool any_content = false, corrected = false, typing, *consumed = NULL;
	sqlite3_stmt *st;
	char stem[128];

	memset(p, 0, sizeof(*p));
	fx.n = 0;
	st = kb_db_stmt(db, nsec_sql);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		p->nsections = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	kb_tokenize(text, &tok, &ntok);
	for (i = 0; i < ntok; i++)
		if (!kb_is_stopword(tok[i].norm) &&
		    !(i >= u->model_start && i < u->model_end))
			any_content = true;
	/* A query still being typed: no space after its last word. */
	typing = ntok > 0 && text[tok[ntok - 1].end] == '\0';

	/*
	 * A pasted ticket: typos and partial words no longer matter, numbers
	 * are order ids and dates, and every word counts a little.
	 */
	for (i = 0, k = 0; i < ntok; i++)
		if (!kb_is_stopword(tok[i].norm))
			k++;
	p->long_query = k > LONG_QUERY_WORDS;
	if (p->long_query)
		typing = false;

	consumed = kb_xcalloc(ntok + 1, sizeof(*consumed));
	if (!p->long_query)
		multiword_synonyms(db, t, tok, ntok, u, p, consumed);

	for (i = 0; i < ntok && nwords < 8 * MAX_CONCEPTS; i++) {
		const char *w = tok[i].norm;
		struct concept *c = NULL;

		if (consumed[i])
			continue;
		if (i >= u->model_start && i < u->model_end)
			continue;
		if (any_content && kb_is_stopword(w))
			continue;
		if (p->long_query && kb_typo_budget(w) == 0 &&
		    strspn(w, "0123456789") == strlen(w))
			continue;
		kb_stem(w, stem, sizeof(stem));
		for (k = 0; k < p->n; k++) {
			char s2[128];

			kb_stem(p->c[k].word, s2, sizeof(s2));
			if (strcmp(s2, stem) == 0) {
				p->c[k].qtf++;
				c = &p->c[k];
				break;
			}
		}
		if (c != NULL)
			continue;
		if (p->n == MAX_CONCEPTS) {
			/* Make room: keep the most informative so far. */
			qsort(p->c, p->n, sizeof(p->c[0]), cmp_weight_desc);
			concept_free(&p->c[--p->n]);
		}
		c = &p->c[p->n];
		memset(c, 0, sizeof(*c));
		kb_strv_init(&c->alts);
		c->kind = C_WORD;
		c->word = kb_xstrdup(w);
		c->qtf = 1;
		c->pos = i;
		c->symptom = i < u->ntokens ? u->symptom_of[i] : -1;
		c->led = i < u->ntokens && u->led_word[i];
		fill_alts(db, c, p->long_query,
			  typing && i == ntok - 1);
		/*
		 * Found only through its stem ("replacment" shares one with
		 * "replacement"): searched as typed, but worth a suggestion.
		 */
		if (c->df > 0 && !p->long_query && vocab_df(db, w) == 0 &&
		    !(typing && i == ntok - 1 && prefix_df(db, w) > 0)) {
			char *fix = correct(db, w, false);

			if (fix != NULL) {
				note_correction(&fx, tok[i].start, tok[i].end,
						fix);
				corrected = true;
			}
		}
		/* Neither the word nor a synonym is known: a typo? */
		if (c->df == 0 && !p->long_query) {
			char *fix = correct(db, w, true);

			if (fix != NULL) {
				note_correction(&fx, tok[i].start, tok[i].end,
						kb_xstrdup(fix));
				corrected = true;
				free(c->word);
				c->word = fix;
				kb_strv_free(&c->alts);
				fill_alts(db, c, false, false);
			}
		}
		if (c->df == 0) {
			/* A word the index has never seen cannot be required. */
			p->dropped++;
			concept_free(c);
			continue;
		}
		c->weight = idf(p->nsections, c->df);
		if (is_filler(c->word))
			c->weight *= FILLER_WEIGHT;
		p->n++;
		nwords++;
	}
	for (i = 0; i < p->n; i++)
		p->c[i].weight *= 1.0 + log((double)p->c[i].qtf);
	/* Keep the informative words; the rest would only add noise. */
	if (p->n > (p->long_query ? MAX_LONG_WORDS : MAX_WORDS)) {
		qsort(p->c, p->n, sizeof(p->c[0]), cmp_weight_desc);
		while (p->n > (p->long_query ? MAX_LONG_WORDS : MAX_WORDS))
			concept_free(&p->c[--p->n]);
	}
	qsort(p->c, p->n, sizeof(p->c[0]), cmp_pos);
	for (i = 0; i < p->n; i++)
		p->total_weight += p->c[i].weight;
	p->nwords = p->n;

	for (i = 0; i < u->symptoms.n && p->n < MAX_CONCEPTS; i++) {
		struct concept *c = &p->c[p->n++];
		char *tag = kb_tag_token(KB_TAG_SYMPTOM, u->symptoms.v[i]);

		memset(c, 0, sizeof(*c));
		kb_strv_init(&c->alts);
		c->kind = C_SYMPTOM;
		c->symptom = -1;
		c->word = kb_xstrdup(u->symptoms.v[i]);
		quoted(&c->alts, tag, false, "tags");
		free(tag);
	}
	if (u->model != NULL && p->n < MAX_CONCEPTS) {
		struct concept *c = &p->c[p->n++];
		char *tag = kb_tag_token(KB_TAG_MODEL, u->model->name);

		memset(c, 0, sizeof(*c));
		kb_strv_init(&c->alts);
		c->kind = C_MODEL;
		c->symptom = -1;
		c->word = kb_xstrdup(u->model->name);
		quoted(&c->alts, tag, false, "tags");
		free(tag);
	}

	/* One OR over every alternative; phrase numbers follow the order. */
	{
		struct kb_buf e;

		kb_buf_init(&e);
		for (i = 0; i < p->n; i++) {
			for (k = 0; k < p->c[i].alts.n; k++) {
				if (phrase >= MAX_PHRASES)
					break;
				if (e.len)
					kb_buf_adds(&e, " OR ");
				kb_buf_adds(&e, p->c[i].alts.v[k]);
				p->c[i].mask |= (uint64_t)1 << phrase;
				if (k < p->c[i].nexact)
					p->c[i].exact |= (uint64_t)1 << phrase;
				phrase++;
			}
		}
		p->expr = e.len ? kb_buf_steal(&e) : NULL;
		kb_buf_free(&e);
	}
	if (getenv("KBSEARCH_DEBUG") != NULL)
		for (i = 0; i < p->n; i++)
			fprintf(stderr, "concept %-16s kind %d df %lld w %.2f qtf %u"
				" sym %d led %d alts %zu\n", p->c[i].word,
				p->c[i].kind, (long long)p->c[i].df,
				p->c[i].weight, p->c[i].qtf, p->c[i].symptom,
				p->c[i].led, p->c[i].alts.n);
	/* A model read through a typo is corrected to its name. */
	if (u->model_fuzzy && u->model_end > u->model_start &&
	    u->model_end <= ntok) {
		note_correction(&fx, tok[u->model_start].start,
				tok[u->model_end - 1].end,
				kb_xstrdup(u->model->name));
		corrected = true;
	}
	if (corrected)
		*did_you_mean = apply_fixes(text, &fx);
	for (i = 0; i < fx.n; i++)
		free(fx.v[i].text);
	kb_tokens_free(tok);
	free(consumed);
}

struct section_tags {
	bool model_match;   /* tagged with the model asked for */
	bool other_model;   /* tagged only with other models */
	bool brand_match;
	bool generic;	    /* no model at all */
	int symptom_hits;
	int article_hits;   /* understood symptoms the article is about */
	int title_hits;	    /* ... that its title names */
	uint32_t symptoms;  /* bit k: tagged with understood symptom k */
};

/* The facets of a result, counted over the candidate window. */
struct facets {
	struct counter models, symptoms;
};

/* Whether v[0..len) is the string s. */
static bool
span_is(const char *v, size_t len, const char *s)
{
	return strncmp(s, v, len) == 0 && s[len] == '\0';
}

/*
 * One tag of a section or of its article, v[0..len), folded into f.  The
 * value is read where it lies: copying each of a window's ~1,000 tags out
 * to end it with a NUL cost more than the rest of this.
 */
static void
take_tag(const struct kb_taxonomy *t, const struct kb_understood *u,
	 uint32_t ignore, int kind, const char *v, size_t len,
	 struct section_tags *f, int *models, struct facets *fc)
{
	size_t k;

	if (kind == KB_TAG_LED)
		return;
	if (kind == KB_TAG_MODEL)
		add_count(&fc->models, v, len);
	else if (kind == KB_TAG_SYMPTOM)
		add_count(&fc->symptoms, v, len);
	if (kind == KB_TAG_MODEL) {
		(*models)++;
		if (u->model && strlen(u->model->name) == len &&
		    strncasecmp(v, u->model->name, len) == 0)
			f->model_match = true;
		if (u->brand) {
			char name[512];
			const struct kb_model *m;

			memcpy(name, v, len);
			name[len] = '\0';
			m = kb_taxonomy_model(t, name);
			if (m && strcasecmp(m->brand, u->brand) == 0)
				f->brand_match = true;
		}
		return;
	}
	for (k = 0; k < u->symptoms.n && k < 32; k++) {
		if (!span_is(v, len, u->symptoms.v[k]) ||
		    (ignore & ((uint32_t)1 << k)))
			continue;
		/* Words of the symptom count as covered. */
		f->symptoms |= (uint32_t)1 << k;
		if (kind == KB_TAG_ARTICLE_SYMPTOM)
			f->article_hits++;
		else if (kind == KB_TAG_TITLE_SYMPTOM)
			f->title_hits++;
		else
			f->symptom_hits++;
	}
}

/*
 * A section's tags and its article's, as "kind RS value" items joined by
 * US (what feat_sql's group_concat makes), folded into f.
 */
static void
take_tags(const struct kb_taxonomy *t, const struct kb_understood *u,
	  uint32_t ignore, const char *section, const char *article,
	  struct section_tags *f, struct facets *fc)
{
	const char *lists[2] = { section, article }, *p, *v;
	size_t len;
	int models = 0, i, kind;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 2; i++) {
		for (p = lists[i]; kb_tag_next(&p, &kind, &v, &len);)
			take_tag(t, u, ignore, kind, v, len < 512 ? len : 511,
				 f, &models, fc);
	}
	f->generic = models == 0;
	f->other_model = models > 0 && !f->model_match;
}

/*
 * 1.6 when the section gives a meaning for the LED state asked about (the
 * colour and the pattern, either when only one is asked), else 1; tags
 * are its tags as kbx keeps them, LED states among them (KB_TAG_LED).
 */
/* Whether text[0..len) is id; a NULL id is any. */
static bool
id_is(const char *text, size_t len, const struct kb_led_term *id)
{
	return id == NULL ||
	       (strlen(id->id) == len && strncmp(text, id->id, len) == 0);
}

static double
led_factor(const struct kb_understood *u, const char *tags)
{
	const char *p = tags, *v, *gs;
	size_t len;
	int kind;

	if (u->color == NULL && u->pattern == NULL)
		return 1.0;
	while (kb_tag_next(&p, &kind, &v, &len))
		if (kind == KB_TAG_LED &&
		    (gs = memchr(v, '\x1d', len)) != NULL &&
		    id_is(v, (size_t)(gs - v), u->color) &&
		    id_is(gs + 1, len - (size_t)(gs - v) - 1, u->pattern))
			return 1.6;
	return 1.0;
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static size_t
same_article(const struct cand *out, size_t k, int64_t article)
{
	size_t j, same = 0;

	for (j = 0; j < k; j++)
		same += out[j].article == article;
	return same;
}

/*
 * The first TOP_DISTINCT places go to different articles, and no article
 * has more than PER_ARTICLE sections in the first page; the rest follow
 * in score order.
 */
static void
diversify(struct cand *c, size_t n)
{
	struct cand *out = kb_xcalloc(n ? n : 1, sizeof(*out));
	bool *taken = kb_xcalloc(n ? n : 1, sizeof(*taken));
	size_t k = 0, i;

	for (i = 0; i < n && k < TOP_DISTINCT; i++) {
		if (same_article(out, k, c[i].article) == 0) {
			out[k++] = c[i];
			taken[i] = true;
		}
	}
	for (i = 0; i < n && k < FIRST_PAGE; i++) {
		if (!taken[i] &&
		    same_article(out, k, c[i].article) < PER_ARTICLE) {
			out[k++] = c[i];
			taken[i] = true;
		}
	}
	for (i = 0; i < n; i++)
		if (!taken[i])
			out[k++] = c[i];
	memcpy(c, out, n * sizeof(*c));
	free(out);
	free(taken);
}

/*
 * Words asked for together and found together: in the heading most of
 * all, then the body; the title, shared by every section of an article,
 * a little.
 */
static double
proximity_factor(const struct plan *p, const struct cand *c)
{
	double q = (double)p->nwords, t, h, b;

	if (p->nwords < 2 || p->long_query)
		return 1.0;
	t = c->prox[0] > 1 ? (c->prox[0] - 1) / (q - 1) : 0.0;
	h = c->prox[1] > 1 ? (c->prox[1] - 1) / (q - 1) : 0.0;
	b = c->prox[2] > 1 ? (c->prox[2] - 1) / (q - 1) : 0.0;
	(void)t;
	return 1.0 + PROX_HEADING * h + PROX_BODY * b;
}

static double
score_of(const struct plan *p, const struct kb_understood *u, struct cand *c,
	 double bm_max, const struct section_tags *f, double led, double prior)
{
	double cover = 1.0, matched = 0.0, s, model = 1.0, sym = 1.0;
	size_t i;

	/*
	 * A word counts in full when the section has it as typed, a little
	 * less through a synonym, and also when the section is tagged with
	 * the symptom the word was part of, or holds the LED state it named:
	 * "not full" is answered by a fix for a speaker that won't fully
	 * charge whether or not the fix says "full".
	 */
	if (p->total_weight > 0) {
		double total = 0.0;

		for (i = 0; i < p->n; i++) {
			const struct concept *k = &p->c[i];
			double got = 0.0;

			if (k->kind != C_WORD)
				continue;
			/*
			 * The light is answered by the LED card; the sections
			 * listed are judged by the rest of the question.
			 */
			if (k->led && p->led_answered)
				continue;
			total += k->weight;
			if (c->phrases & k->exact)
				got = 1.0;
			else if (c->phrases & k->mask)
				got = SYNONYM_CREDIT;
			if (k->symptom >= 0 && k->symptom < 32 &&
			    (f->symptoms & ((uint32_t)1 << k->symptom)))
				got = got > TAG_CREDIT ? got : TAG_CREDIT;
			if (k->led && led > 1.0)
				got = got > TAG_CREDIT ? got : TAG_CREDIT;
			matched += got * k->weight;
		}
		cover = total > 0 ? matched / total : 1.0;
	}
	c->cover = cover;
	/*
	 * The model asked for lifts its sections, fully when they are also
	 * about the symptom asked for: "Soundcore 2 won't fully charge" wants
	 * the general fix for that symptom above a Soundcore 2 page about
	 * something else.
	 */
	if (u->model != NULL)
		model = f->model_match
				? 1.0 + (MODEL_MATCH - 1.0) *
						(u->symptoms.n == 0 || f->symptoms
							 ? 1.0
							 : MODEL_OFF_SYMPTOM)
			: f->generic ? 1.0
				     : MODEL_OTHER;
	else if (u->brand != NULL)
		model = f->brand_match ? 1.2 : f->generic ? 1.0 : 0.7;
	/*
	 * A section in an article about the symptom asked for beats one
	 * that merely mentions it.
	 */
	if (f->article_hits > 0)
		sym += SYM_ARTICLE * (f->article_hits > 2 ? 2 : f->article_hits);
	if (f->symptom_hits > 0)
		sym += SYM_SECTION * (f->symptom_hits > 2 ? 2 : f->symptom_hits);
	/* The article whose title names the symptom is the one for it. */
	if (f->title_hits > 0)
		sym += SYM_TITLE;
	/*
	 * Coverage matters most for short queries: two words asked for, two
	 * words wanted.  A ticket's words are never all in one section.
	 */
	s = (BM_FLOOR + c->bm25 / (bm_max > 0 ? bm_max : 1.0)) *
	    pow(0.1 + cover, p->nwords <= 4   ? COVER_EXP
			     : p->nwords <= 12 ? 1.5
					       : 0.5);
	return s * model * sym * led * prior * proximity_factor(p, c);
}

/*
 * BM25F over the query's concepts, from kbx_stats(): each concept's
 * occurrences summed over columns (weighted, length-normalised), a
 * synonym's at SYNONYM_CREDIT, then saturated once per concept, so a
 * section that says "cable" ten times does not outrank one that has both
 * words asked for, and synonyms cannot outweigh the word as typed.
 * *present gets the phrases the row has.
 */
static double
bm25f(const struct plan *p, const void *blob, size_t bytes, uint64_t *present,
      uint32_t prox[4])
{
	/* title, heading, body, tags */
	static const double colw[] = { 0.7, 5.0, 1.0, 1.5 };
	const uint32_t *v = blob;
	double norm[4], score = 0.0;
	size_t np, nc, i, k, ph;

	*present = 0;
	if (v == NULL || bytes < 2 * sizeof(*v))
		return 0.0;
	np = v[0];
	nc = v[1];
	if (nc != 4 || bytes < (2 + 2 * nc + np * nc) * sizeof(*v))
		return 0.0;
	for (i = 0; i < nc; i++) {
		double avg = v[2 + nc + i] / 1000.0;

		norm[i] = avg > 0 ? 1.0 - BM_B + BM_B * v[2 + i] / avg : 1.0;
	}
	for (ph = 0; ph < np; ph++)
		for (i = 0; i < nc; i++)
			if (v[2 + 2 * nc + ph * nc + i])
				*present |= (uint64_t)1 << ph;
	if (bytes >= (2 + 3 * nc + np * nc) * sizeof(*v))
		for (i = 0; i < nc; i++)
			prox[i] = v[2 + 2 * nc + np * nc + i];
	for (k = 0; k < p->n; k++) {
		const struct concept *c = &p->c[k];
		double tf = 0.0;
		uint64_t m;

		if (c->kind != C_WORD || (c->led && p->led_answered))
			continue;
		/* the concept's phrases, in order: a long query has dozens */
		for (m = np < 64 ? c->mask & (((uint64_t)1 << np) - 1)
				 : c->mask;
		     m != 0; m &= m - 1) {
			double credit;

			ph = (size_t)__builtin_ctzll(m);
			credit = (c->exact & ((uint64_t)1 << ph))
					 ? 1.0
					 : SYNONYM_CREDIT;
			for (i = 0; i < nc; i++)
				tf += credit * colw[i] *
				      v[2 + 2 * nc + ph * nc + i] / norm[i];
		}
		score += c->weight * tf * (BM_K1 + 1.0) / (tf + BM_K1);
	}
	return score;
}

/*
 * What a section earns for being about a symptom the query names, in the
 * same currency as the words: each word of the symptom's phrase that the
 * section lacks counts as if said TAG_TF times, when the section (or its
 * article) is tagged with the symptom.  A fix for "won't fully charge"
 * rarely repeats "not full"; its tag says what it is for.
 */
static double
tag_bm25(const struct plan *p, const struct cand *c,
	 const struct section_tags *f)
{
	double add = 0.0;
	size_t k;

	for (k = 0; k < p->n; k++) {
		const struct concept *w = &p->c[k];

		if (w->kind != C_WORD || w->symptom < 0 || w->symptom >= 32 ||
		    (w->led && p->led_answered) || (c->phrases & w->mask) ||
		    !(f->symptoms & ((uint32_t)1 << w->symptom)))
			continue;
		add += w->weight * TAG_TF * (BM_K1 + 1.0) / (TAG_TF + BM_K1);
	}
	return add;
}

/*
 * Symptoms named only by the words of the LED state ("solid red" is also
 * a phrase of "what does the light mean"): once the LED card answers the
 * light, they say nothing more about which sections to list.
 */
static uint32_t
led_only_symptoms(const struct kb_understood *u)
{
	uint32_t mask = 0;
	size_t k, i;

	for (k = 0; k < u->symptoms.n && k < 32; k++) {
		bool any = false, all = true;

		for (i = 0; i < u->ntokens; i++) {
			if (u->symptom_of[i] != (int)k)
				continue;
			any = true;
			all &= u->led_word[i];
		}
		if (any && all)
			mask |= (uint32_t)1 << k;
	}
	return mask;
}

static void
cands_free(struct cand *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++) {
		free(c[i].feat.tags);
		free(c[i].feat.article_tags);
	}
	free(c);
}

/* Sections holding both filter values asked for, sorted; NULL for none. */
/* Sections with both of two rising lists: kept in a. */
static size_t
intersect(int64_t *a, size_t na, const int64_t *b, size_t nb)
{
	size_t i = 0, k = 0, n = 0;

	while (i < na && k < nb) {
		if (a[i] < b[k])
			i++;
		else if (a[i] > b[k])
			k++;
		else
			a[n++] = a[i++], k++;
	}
	return n;
}

/* The sections the model and symptom filters allow, rising; none: all. */
static int
filter_sections(struct kb_db *db, const struct kb_result *r, int64_t **out,
		size_t *n)
{
	int64_t *sym = NULL;
	long nm = 0, ns = 0;

	*out = NULL;
	*n = 0;
	if (r->model == NULL && r->symptom == NULL)
		return 0;
	if (r->model != NULL)
		nm = kb_tag_sections(db, KB_TAG_MODEL, r->model, out);
	if (r->symptom != NULL)
		ns = kb_tag_sections(db, KB_TAG_SYMPTOM, r->symptom,
				     r->model != NULL ? &sym : out);
	if (nm < 0 || ns < 0) {
		free(sym);
		free(*out);
		*out = NULL;
		return -1;
	}
	*n = (size_t)(r->model != NULL ? nm : ns);
	if (r->model != NULL && r->symptom != NULL)
		*n = intersect(*out, *n, sym, (size_t)ns);
	free(sym);
	if (*out == NULL)
		*out = kb_xcalloc(1, sizeof(**out)); /* filtered to nothing */
	return 0;
}

/*
 * The window: the sections with the most weighted impact over the
 * query's phrases (kbx.h), reading the most telling postings first and
 * admitting sections from FIRST_BUDGET of them, then each scored on
 * every phrase from its own tokens.  A section found through a phrase's rarest word
 * that lacks every phrase is no match.
 */
/* The plan's phrases as the first stage reads them. */
static struct kbx_query *
plan_query(struct kb_db *db, const struct plan *p)
{
	struct kbx_query *q = kbx_query_new(db);
	size_t phrase = 0, i, k;

	for (i = 0; i < p->n; i++) {
		const struct concept *x = &p->c[i];

		/* Tags weigh like an average word. */
		for (k = 0; k < x->alts.n && phrase < MAX_PHRASES;
		     k++, phrase++)
			kbx_query_add(q, x->alts.v[k],
				      x->kind != C_WORD ? 1.0
				      : k < x->nexact
					      ? x->weight
					      : x->weight * SYNONYM_CREDIT,
				      x->kind == C_WORD ? (int)i : 255);
	}
	return q;
}

static int
first_stage(struct kb_db *db, const struct plan *p, struct kb_result *r,
	    struct cand *c, size_t *n)
{
	struct kbx_query *q = plan_query(db, p);
	struct kbx_hit *hits = kb_xcalloc(WINDOW, sizeof(*hits));
	int64_t *allow = NULL;
	size_t nallow = 0, i;
	bool exhaustive = true;
	long got;
	int rc = -1;

	if (filter_sections(db, r, &allow, &nallow) != 0)
		goto out;
	stamp(r, "phrases");
	got = kbx_top(q, allow, nallow, WINDOW, FIRST_BUDGET, hits,
		      &exhaustive);
	if (got < 0)
		goto out;
	stamp(r, exhaustive ? "first stage" : "first stage*");
	for (i = 0; i < (size_t)got; i++) {
		size_t nv = 0;
		uint32_t *v;

		memset(&c[*n], 0, sizeof(c[*n]));
		c[*n].feat.prior = 1.0;
		v = kbx_stats(q, hits[i].id, &nv, &c[*n].feat);
		c[*n].id = hits[i].id;
		c[*n].article = c[*n].feat.article;
		c[*n].pos = *n;
		c[*n].bm25 = bm25f(p, v, nv * sizeof(*v), &c[*n].phrases,
				   c[*n].prox);
		free(v);
		if (c[*n].phrases != 0) {
			(*n)++;
		} else {
			free(c[*n].feat.tags);
			free(c[*n].feat.article_tags);
		}
	}
	stamp(r, "window scored");
	rc = 0;
out:
	free(allow);
	free(hits);
	kbx_query_free(q);
	return rc;
}

static int
rank_window(struct kb_db *db, const struct plan *p,
	    const struct kb_understood *u, struct kb_result *r,
	    struct cand **out, size_t *nout)
{
	struct section_tags *f;
	struct facets fc;
	struct cand *c;
	double bm_max = 0.0;
	size_t n = 0, i;
	bool debug = getenv("KBSEARCH_DEBUG") != NULL;

	*out = NULL;
	*nout = 0;
	c = kb_xcalloc(WINDOW, sizeof(*c));
	if (first_stage(db, p, r, c, &n) != 0) {
		cands_free(c, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (c[i].bm25 > bm_max)
			bm_max = c[i].bm25;
	f = kb_xcalloc(n ? n : 1, sizeof(*f));
	bm_max = 0.0;
	counter_init(&fc.models, &r->facet_models, &r->nfacet_models);
	counter_init(&fc.symptoms, &r->facet_symptoms, &r->nfacet_symptoms);
	for (i = 0; i < n; i++)
		take_tags(kb_db_taxonomy(db), u, p->led_symptoms,
			  c[i].feat.tags, c[i].feat.article_tags, &f[i], &fc);
	counter_free(&fc.models);
	counter_free(&fc.symptoms);
	for (i = 0; i < n; i++) {
		c[i].bm25 += tag_bm25(p, &c[i], &f[i]);
		if (c[i].bm25 > bm_max)
			bm_max = c[i].bm25;
	}
	for (i = 0; i < n; i++) {
		c[i].score = score_of(p, u, &c[i], bm_max, &f[i],
				      led_factor(u, c[i].feat.tags),
				      c[i].feat.prior);
		if (debug)
			fprintf(stderr,
				"cand %4lld bm %.2f cover %.2f mod %d/%d/%d "
				"sym %d/%d led %.1f prior %.2f -> %.3f\n",
				(long long)c[i].id, c[i].bm25, c[i].cover,
				f[i].model_match, f[i].generic,
				f[i].other_model, f[i].article_hits,
				f[i].symptom_hits, led_factor(u, c[i].feat.tags),
				c[i].feat.prior, c[i].score);
	}
	free(f);
	if (r->nfacet_models > 1)
		qsort(r->facet_models, r->nfacet_models,
		      sizeof(*r->facet_models), cmp_count);
	if (r->nfacet_symptoms > 1)
		qsort(r->facet_symptoms, r->nfacet_symptoms,
		      sizeof(*r->facet_symptoms), cmp_count);
	stamp(r, "re-ranked");
	qsort(c, n, sizeof(*c), cmp_cand);
	diversify(c, n);
	*out = c;
	*nout = n;
	return 0;
}

/* The query's words as snippets look for them: stems and prefixes. */
struct matcher {
	struct kb_strv stems;
	struct kb_strv prefixes;
};

static void
matcher_init(struct matcher *m, const struct plan *p)
{
	char stem[128], word[128];
	size_t i, k;

	kb_strv_init(&m->stems);
	kb_strv_init(&m->prefixes);
	for (i = 0; i < p->n; i++) {
		const struct concept *c = &p->c[i];

		if (c->kind != C_WORD)
			continue;
		for (k = 0; k < c->alts.n; k++) {
			const char *a = c->alts.v[k];
			size_t len = strlen(a);
			bool prefix = len > 0 && a[len - 1] == '*';

			/* alts are quoted: "word" or "word"* */
			if (len < 2 || a[0] != '"')
				continue;
			len -= prefix ? 3 : 2;
			if (len == 0 || len >= sizeof(word) ||
			    memchr(a + 1, ' ', len) != NULL)
				continue;
			memcpy(word, a + 1, len);
			word[len] = '\0';
			if (prefix) {
				kb_strv_push(&m->prefixes, word);
				continue;
			}
			if (kb_is_negation(word))
				snprintf(stem, sizeof(stem), "not");
			else
				kb_stem(word, stem, sizeof(stem));
			kb_strv_push(&m->stems, stem);
		}
	}
}

static void
matcher_free(struct matcher *m)
{
	kb_strv_free(&m->stems);
	kb_strv_free(&m->prefixes);
}

/* Does a word of the text stand for one of the query's concepts? */
static bool
word_matches(const struct matcher *m, const char *norm)
{
	char stem[128];
	size_t i;

	for (i = 0; i < m->prefixes.n; i++)
		if (strncmp(norm, m->prefixes.v[i], strlen(m->prefixes.v[i])) ==
		    0)
			return true;
	if (kb_is_negation(norm))
		snprintf(stem, sizeof(stem), "not");
	else
		kb_stem(norm, stem, sizeof(stem));
	for (i = 0; i < m->stems.n; i++)
		if (strcmp(m->stems.v[i], stem) == 0)
			return true;
	return false;
}

/*
 * A snippet of the section body: the SNIPPET_WORDS-word window holding
 * the most query words, with each match marked for the renderers.  Made
 * here from the stored text, so showing ten hits costs no FTS5 query.
 */
static char *
make_snippet(const struct matcher *m, const char *body)
{
	struct kb_token *tok = NULL;
	struct kb_buf b;
	bool *hit;
	size_t n = 0, i, best = 0, best_hits = 0, hits = 0, start, end, at;

	kb_tokenize(body, &tok, &n);
	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	if (n == 0) {
		kb_tokens_free(tok);
		return kb_buf_steal(&b);
	}
	hit = kb_xcalloc(n, sizeof(*hit));
	for (i = 0; i < n; i++)
		hit[i] = word_matches(m, tok[i].norm);
	for (i = 0; i < n; i++) {
		hits += hit[i];
		if (i >= SNIPPET_WORDS)
			hits -= hit[i - SNIPPET_WORDS];
		if (hits > best_hits) {
			best_hits = hits;
			best = i + 1 >= SNIPPET_WORDS ? i + 1 - SNIPPET_WORDS : 0;
		}
	}
	/* Start a little before the first match, as a reader would. */
	for (i = best; i < n && i < best + SNIPPET_WORDS && !hit[i]; i++)
		;
	if (i < n && i > best + 3 && best_hits > 0)
		best = i - 3 > best ? i - 3 : best;
	start = best;
	end = start + SNIPPET_WORDS < n ? start + SNIPPET_WORDS : n;
	if (start > 0)
		kb_buf_adds(&b, "…");
	at = tok[start].start;
	for (i = start; i < end; i++) {
		kb_buf_add(&b, body + at, tok[i].start - at);
		if (hit[i])
			kb_buf_addc(&b, KB_HL_START);
		kb_buf_add(&b, body + tok[i].start, tok[i].end - tok[i].start);
		if (hit[i])
			kb_buf_addc(&b, KB_HL_END);
		at = tok[i].end;
	}
	if (end < n)
		kb_buf_adds(&b, "…");
	else
		kb_buf_adds(&b, body + at);
	free(hit);
	kb_tokens_free(tok);
	return kb_buf_steal(&b);
}

static int
fill_hit(struct kb_db *db, const struct matcher *m, struct kb_hit *h,
	 const char *tags)
{
	sqlite3_stmt *st = kb_db_stmt(db, hit_sql);
	struct kbx_owned_feat f;
	char *body;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, h->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	h->article = sqlite3_column_int64(st, 0);
	h->heading = kb_col_text(st, 1, 1);
	h->anchor = kb_col_text(st, 2, 1);
	h->title = kb_col_text(st, 3, 1);
	h->path = kb_col_text(st, 4, 1);
	body = kb_packer_text(kb_db_packer(db), st, 5);
	sqlite3_reset(st);
	if (body == NULL)
		return -1;
	h->snippet = make_snippet(m, body);
	free(body);
	/* A window candidate's tags were read with its terms. */
	if (tags != NULL) {
		kb_tag_items(tags, KB_TAG_MODEL, &h->models);
		kb_tag_items(tags, KB_TAG_SYMPTOM, &h->symptoms);
		return 0;
	}
	if (kbx_section_feat(db, h->id, &f) < 0)
		return -1;
	kb_tag_items(f.tags, KB_TAG_MODEL, &h->models);
	kb_tag_items(f.tags, KB_TAG_SYMPTOM, &h->symptoms);
	free(f.tags);
	free(f.article_tags);
	return 0;
}

static struct kb_hit *
add_hit(struct kb_result *r, int64_t id, double score)
{
	struct kb_hit *h = &r->hits[r->nhits++];

	memset(h, 0, sizeof(*h));
	h->id = id;
	h->score = score;
	return h;
}

/*
 * Places from start on, past the re-ranked window: the first stage's
 * order, read further, without the window's sections.
 */
static int
fetch_tail(struct kb_db *db, const struct plan *p, const struct cand *c,
	   size_t nc, size_t start, size_t lim, struct kb_result *r)
{
	size_t k = start + lim, skip = start - nc, i;
	struct kbx_query *q = plan_query(db, p);
	struct kbx_hit *hits = kb_xcalloc(k, sizeof(*hits));
	int64_t *win = kb_xcalloc(nc ? nc : 1, sizeof(*win));
	int64_t *allow = NULL;
	size_t nallow = 0;
	bool exhaustive;
	long got = -1;

	for (i = 0; i < nc; i++)
		win[i] = c[i].id;
	qsort(win, nc, sizeof(*win), kb_cmp_i64);
	if (filter_sections(db, r, &allow, &nallow) == 0)
		got = kbx_top(q, allow, nallow, k, 0, hits, &exhaustive);
	for (i = 0; got > 0 && i < (size_t)got && r->nhits < r->limit; i++) {
		if (bsearch(&hits[i].id, win, nc, sizeof(*win), kb_cmp_i64))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		add_hit(r, hits[i].id, 0.0)->relax = 1;
	}
	free(allow);
	free(win);
	free(hits);
	kbx_query_free(q);
	return got < 0 ? -1 : 0;
}

/* Add the facts st finds, one per model and state, up to the cap. */
static int
collect_leds(sqlite3_stmt *st, const struct kb_taxonomy *t,
	     const struct kb_understood *u, int only_brand,
	     struct kb_led_answer **v, size_t *n)
{
	int rc = SQLITE_DONE;

	if (u->color)
		sqlite3_bind_text(st, 1, u->color->id, -1, SQLITE_STATIC);
	if (u->pattern)
		sqlite3_bind_text(st, 2, u->pattern->id, -1, SQLITE_STATIC);
	if (u->model)
		sqlite3_bind_text(st, 3, u->model->name, -1, SQLITE_STATIC);
	while (*n < MAX_LED_ANSWERS && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *model = (const char *)sqlite3_column_text(st, 0);
		const char *color = (const char *)sqlite3_column_text(st, 1);
		const char *pattern = (const char *)sqlite3_column_text(st, 2);
		struct kb_led_answer *a;
		bool dup = false;
		size_t i;

		if (only_brand >= 0) {
			const struct kb_model *m =
				model ? kb_taxonomy_model(t, model) : NULL;
			bool mine = m && strcasecmp(m->brand, u->brand) == 0;

			if (mine != (only_brand == 1))
				continue;
		}
		for (i = 0; i < *n && !dup; i++)
			dup = (((*v)[i].model == NULL) == (model == NULL)) &&
			      (!model || strcasecmp((*v)[i].model, model) == 0) &&
			      strcmp((*v)[i].color, color ? color : "") == 0 &&
			      strcmp((*v)[i].pattern, pattern ? pattern : "") ==
				      0;
		if (dup)
			continue;
		*v = kb_xrealloc(*v, (*n + 1) * sizeof(**v));
		a = &(*v)[(*n)++];
		a->model = model ? kb_xstrdup(model) : NULL;
		a->color = kb_xstrdup(color ? color : "");
		a->pattern = kb_xstrdup(pattern ? pattern : "");
		a->meaning = kb_col_text(st, 3, 1);
		a->article = sqlite3_column_int64(st, 4);
		a->section = sqlite3_column_int64(st, 5);
		a->path = kb_col_text(st, 6, 1);
		a->heading = kb_col_text(st, 7, 1);
		a->anchor = kb_col_text(st, 8, 1);
	}
	if (*n >= MAX_LED_ANSWERS)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * LED facts for the state asked about: the model's own first, then facts
 * that hold for any model (a named model excludes other models' lights);
 * with a brand named, its models' first; with neither, any model's.  One
 * fact per model, colour and pattern, from the section that lists the
 * most, at most MAX_LED_ANSWERS.
 */
static int
led_answers(struct kb_db *db, const struct kb_understood *u,
	    struct kb_result *r)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);
	int state = u->color && u->pattern ? 0 : u->color ? 1 : 2;
	struct kb_led_answer *v = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = 0, pass;

	if (u->color == NULL && u->pattern == NULL)
		return 0;
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		const char *sql = u->model ? answer_sql[pass ? 2 : 1][state]
				  : u->brand || !pass ? answer_sql[0][state]
						      : NULL;

		if (sql == NULL)
			break;
		st = kb_db_stmt(db, sql);
		if (st == NULL) {
			rc = -1;
			break;
		}
		rc = collect_leds(st, t, u,
				  u->model || !u->brand ? -1 : pass == 0, &v,
				  &n);
	}
	r->leds = v;
	r->nleds = n;
	return rc;
}

static void
resolve_filters(struct kb_db *db, const struct kb_search_opts *o,
		struct kb_result *r)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);

	if (o->model != NULL && *o->model) {
		const struct kb_model *m = kb_taxonomy_model(t, o->model);

		r->model = kb_xstrdup(m ? m->name : o->model);
	}
	if (o->symptom != NULL && *o->symptom) {
		const struct kb_symptom *s = kb_taxonomy_symptom(t, o->symptom);

		r->symptom = kb_xstrdup(s ? s->id : o->symptom);
	}
}

static void
copy_understanding(const struct kb_understood *u, struct kb_result *r)
{
	struct kb_understanding *d = &r->understood;
	size_t i;

	d->model = u->model ? kb_xstrdup(u->model->name) : NULL;
	d->brand = u->brand ? kb_xstrdup(u->brand) : NULL;
	d->color = u->color ? kb_xstrdup(u->color->id) : NULL;
	d->pattern = u->pattern ? kb_xstrdup(u->pattern->id) : NULL;
	kb_strv_init(&d->symptoms);
	kb_strv_init(&d->terms);
	for (i = 0; i < u->symptoms.n; i++)
		kb_strv_push(&d->symptoms, u->symptoms.v[i]);
	for (i = 0; i < u->terms.n; i++)
		kb_strv_push(&d->terms, u->terms.v[i]);
}

/* Cut at most max bytes from s without splitting a UTF-8 sequence. */
static char *
clip_query(const char *s)
{
	size_t n = strlen(s);

	if (n > KB_QUERY_MAX_BYTES) {
		n = KB_QUERY_MAX_BYTES;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return kb_xstrndup(s, n);
}

int
kb_search(struct kb_db *db, const struct kb_search_opts *opts,
	  struct kb_result **out, struct kb_error *err)
{
	struct kb_result *r = kb_xcalloc(1, sizeof(*r));
	struct kb_understood u;
	struct matcher m;
	struct plan p;
	struct cand *c = NULL;
	const char **hit_tags = NULL; /* per hit: its window tags, if any */
	size_t nc = 0, i, start;
	double t0 = kb_now();
	int rc = KB_OK;
	bool own_txn;

	memset(&p, 0, sizeof(p));
	*out = NULL;
	kb_db_deadline_start(db);
	/* One read transaction: one lock and one change check per search. */
	own_txn = sqlite3_get_autocommit(kb_db_handle(db)) &&
		  sqlite3_exec(kb_db_handle(db), "BEGIN", NULL, NULL, NULL) ==
			  SQLITE_OK;
	r->ms = t0; /* the start, until the end replaces it with the time */
	r->limit = opts->limit == 0 ? 10 : opts->limit;
	if (r->limit > KB_SEARCH_MAX_LIMIT)
		r->limit = KB_SEARCH_MAX_LIMIT;
	r->offset = opts->offset;
	r->query = clip_query(opts->query ? opts->query : "");
	r->hits = kb_xcalloc(r->limit, sizeof(*r->hits));
	resolve_filters(db, opts, r);
	kb_understand(kb_db_taxonomy(db), kb_db_understand_cache(db), r->query,
		      &u);
	copy_understanding(&u, r);
	stamp(r, "understood");
	build_plan(db, r->query, &u, &p, &r->did_you_mean);
	stamp(r, "planned");
	if (led_answers(db, &u, r) != 0) {
		rc = fail_db(db, err);
		goto out;
	}
	p.led_answered = r->nleds > 0;
	if (p.led_answered)
		p.led_symptoms = led_only_symptoms(&u);
	if (p.expr == NULL)
		goto done;
	r->match = kb_xstrdup(p.expr);
	stamp(r, "led answers");
	if (rank_window(db, &p, &u, r, &c, &nc) != 0) {
		rc = fail_db(db, err);
		goto out;
	}
	/* The deadline holds between stages too, not only inside SQL. */
	if (kb_db_timed_out(db)) {
		rc = fail_db(db, err);
		goto out;
	}
	r->total = estimate_total(&p, nc);
	hit_tags = kb_xcalloc(r->limit, sizeof(*hit_tags));
	for (i = r->offset; i < nc && r->nhits < r->limit; i++) {
		struct kb_hit *h = add_hit(r, c[i].id, c[i].score);

		h->relax = c[i].cover < 0.999;
		hit_tags[r->nhits - 1] = c[i].feat.tags;
	}
	start = r->offset + r->nhits;
	if (r->nhits < r->limit && nc == WINDOW && start >= WINDOW &&
	    fetch_tail(db, &p, c, nc, start, r->limit - r->nhits, r) != 0) {
		rc = fail_db(db, err);
		goto out;
	}
	matcher_init(&m, &p);
	for (i = 0; i < r->nhits; i++) {
		if (fill_hit(db, &m, &r->hits[i], hit_tags[i]) != 0) {
			matcher_free(&m);
			rc = fail_db(db, err);
			goto out;
		}
	}
	matcher_free(&m);
	stamp(r, "hits filled");
	r->relax = (nc > 0 && c[0].cover < 0.999) || p.dropped > 0;
	for (i = 0; i < r->nhits && p.dropped > 0; i++)
		r->hits[i].relax = 1;
done:
	r->ms = (kb_now() - t0) * 1000.0;
out:
	if (own_txn)
		sqlite3_exec(kb_db_handle(db), "COMMIT", NULL, NULL, NULL);
	/* The deadline was this search's; whatever runs next is not bound. */
	kb_db_deadline_stop(db);
	free(hit_tags);
	cands_free(c, nc);
	plan_free(&p);
	kb_understood_free(&u);
	if (rc != KB_OK) {
		kb_result_free(r);
		r = NULL;
	}
	*out = r;
	return rc;
}

void
kb_result_free(struct kb_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nhits; i++) {
		struct kb_hit *h = &r->hits[i];

		free(h->title);
		free(h->heading);
		free(h->anchor);
		free(h->snippet);
		free(h->path);
		kb_strv_free(&h->models);
		kb_strv_free(&h->symptoms);
	}
	for (i = 0; i < r->nleds; i++) {
		free(r->leds[i].model);
		free(r->leds[i].color);
		free(r->leds[i].pattern);
		free(r->leds[i].meaning);
		free(r->leds[i].path);
		free(r->leds[i].heading);
		free(r->leds[i].anchor);
	}
	free(r->leds);
	free(r->understood.model);
	free(r->understood.brand);
	free(r->understood.color);
	free(r->understood.pattern);
	kb_strv_free(&r->understood.symptoms);
	kb_strv_free(&r->understood.terms);
	kb_counts_free(r->facet_models, r->nfacet_models);
	kb_counts_free(r->facet_symptoms, r->nfacet_symptoms);
	free(r->did_you_mean);
	free(r->hits);
	free(r->query);
	free(r->match);
	free(r->model);
	free(r->symptom);
	free(r);
}

static int
base_fill(struct kb_db *db)
{
	const struct kb_taxonomy *t = kb_db_taxonomy(db);
	sqlite3_stmt *get = NULL, *put = NULL;
	int rc = SQLITE_OK, i;

	if (sqlite3_prepare_v2(kb_db_handle(db), base_text_sql, -1, &get,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(kb_db_handle(db), base_put_sql, -1, &put,
			       NULL) != SQLITE_OK)
		rc = SQLITE_ERROR;
	while (rc == SQLITE_OK && sqlite3_step(get) == SQLITE_ROW) {
		struct kbx_owned_feat f;
		struct kb_strv v;
		struct kb_buf tags;
		size_t k;

		kb_buf_init(&tags);
		kb_buf_add(&tags, "", 0);
		kb_strv_init(&v);
		if (kbx_section_feat(db, sqlite3_column_int64(get, 0), &f) > 0) {
			kb_tag_items(f.tags, KB_TAG_MODEL, &v);
			kb_tag_items(f.tags, KB_TAG_SYMPTOM, &v);
			for (k = 0; k < v.n; k++) {
				const struct kb_symptom *sy =
					kb_taxonomy_symptom(t, v.v[k]);

				kb_buf_printf(&tags, "%s%s", k ? "; " : "",
					      sy ? sy->label : v.v[k]);
			}
			free(f.tags);
			free(f.article_tags);
		}
		kb_strv_free(&v);
		for (i = 0; i < 3; i++)
			sqlite3_bind_value(put, i + 1,
					   sqlite3_column_value(get, i));
		sqlite3_bind_text(put, 4,
				  kb_packer_text(kb_db_packer(db), get, 3), -1,
				  free);
		sqlite3_bind_text(put, 5, tags.data, -1, SQLITE_STATIC);
		if (sqlite3_step(put) != SQLITE_DONE)
			rc = SQLITE_ERROR;
		sqlite3_reset(put);
		kb_buf_free(&tags);
	}
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	return rc;
}

int
kb_search_baseline(struct kb_db *db, const char *text, int op, int64_t *ids,
		   size_t max, size_t *n, struct kb_error *err)
{
	struct kb_query *q = NULL;
	sqlite3_stmt *st;
	char *expr;
	int rc;

	*n = 0;
	rc = kb_query_parse(text, &q, err);
	if (rc != KB_OK)
		return rc;
	expr = kb_query_fts(q, NULL, op == KB_FTS_ANY ? KB_FTS_ANY : KB_FTS_ALL);
	kb_query_free(q);
	if (expr == NULL)
		return KB_OK;
	/* Readers are query_only; the table is temporary, the file untouched. */
	sqlite3_exec(kb_db_handle(db), "PRAGMA query_only = 0", NULL, NULL,
		     NULL);
	rc = sqlite3_exec(kb_db_handle(db), base_make_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = base_fill(db);
	else
		rc = SQLITE_OK; /* made by an earlier call */
	sqlite3_exec(kb_db_handle(db), "PRAGMA query_only = 1", NULL, NULL,
		     NULL);
	if (rc != SQLITE_OK) {
		free(expr);
		return fail(err);
	}
	st = kb_db_stmt(db, base_all_sql);
	if (st == NULL) {
		free(expr);
		return fail(err);
	}
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	free(expr);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? KB_OK : fail(err);
}
