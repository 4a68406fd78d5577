/* textnorm.c - word tokens, ASCII folding, stop words, the Porter stemmer. */
#include <assert.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "textnorm.h"
#include "util.h"

enum cp_class {
	CP_SEP,	 /* separates words */
	CP_WORD, /* part of a word, contributes to the norm */
	CP_MARK, /* combining accent: part of a word, dropped from the norm */
	CP_APOS, /* apostrophe: inside a word it is dropped, else separates */
};

/* Latin-1 Supplement U+00C0..U+00FF folded to ASCII; NULL: not a letter. */
static const char *const latin1_fold[64] = {
	"a",  "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i",
	"i",  "i", "i", "d", "n", "o", "o",  "o", "o", "o", NULL, "o", "u",
	"u",  "u", "u", "y", "th", "ss", "a", "a", "a", "a", "a", "a", "ae",
	"c",  "e", "e", "e", "e", "i", "i",  "i", "i", "d", "n", "o", "o",
	"o",  "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Latin Extended-A U+0100..U+017F folded to ASCII, by range. */
static const struct {
	uint16_t lo, hi;
	const char *ascii;
} latin_ext_fold[] = {
	{0x100, 0x105, "a"},  {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"},
	{0x112, 0x11B, "e"},  {0x11C, 0x123, "g"},  {0x124, 0x127, "h"},
	{0x128, 0x131, "i"},  {0x132, 0x133, "ij"}, {0x134, 0x135, "j"},
	{0x136, 0x138, "k"},  {0x139, 0x142, "l"},  {0x143, 0x14B, "n"},
	{0x14C, 0x151, "o"},  {0x152, 0x153, "oe"}, {0x154, 0x159, "r"},
	{0x15A, 0x161, "s"},  {0x162, 0x167, "t"},  {0x168, 0x173, "u"},
	{0x174, 0x175, "w"},  {0x176, 0x178, "y"},  {0x179, 0x17E, "z"},
	{0x17F, 0x17F, "s"},
};

#define N_FOLDS (sizeof(latin_ext_fold) / sizeof(*latin_ext_fold))

static enum cp_class
classify_cp(uint32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9'))
			return CP_WORD;
		return cp == '\'' ? CP_APOS : CP_SEP;
	}
	/* Typographic apostrophes, and the acute accent typed for one. */
	if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0x00B4)
		return CP_APOS;
	if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7)
		return CP_SEP;
	if (cp >= 0x300 && cp <= 0x36F)
		return CP_MARK;
	if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
	    (cp >= 0xD800 && cp <= 0xF8FF) || (cp >= 0xFE00 && cp <= 0xFE1F) ||
	    (cp >= 0xFE30 && cp <= 0xFE6F) || cp == 0xFEFF ||
	    (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
	    (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
	    (cp >= 0xFFF0 && cp <= 0xFFFF) ||
	    (cp >= 0x1F000 && cp <= 0x1FAFF) || cp >= 0xE0000)
		return CP_SEP;
	return CP_WORD;
}

/* Copy a short ASCII string; returns its length. */
static size_t
put_str(char *dst, const char *s)
{
	size_t n = strlen(s);

	memcpy(dst, s, n);
	return n;
}

/*
 * Write the normalised form of a word character at dst; returns the
 * number of bytes, never more than the character takes in UTF-8.
 */
static size_t
fold_cp(char *dst, uint32_t cp)
{
	size_t i;

	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		*dst = (char)cp;
		return 1;
	}
	if (cp >= 0xC0 && cp <= 0xFF)
		return put_str(dst, latin1_fold[cp - 0xC0]);
	if (cp >= 0x100 && cp <= 0x17F) {
		for (i = 0; i < N_FOLDS; i++)
			if (cp >= latin_ext_fold[i].lo &&
			    cp <= latin_ext_fold[i].hi)
				return put_str(dst, latin_ext_fold[i].ascii);
	}
	/* Fullwidth ASCII letters and digits, as typed with CJK keyboards. */
	if (cp >= 0xFF10 && cp <= 0xFF19) {
		*dst = (char)('0' + (cp - 0xFF10));
		return 1;
	}
	if (cp >= 0xFF21 && cp <= 0xFF3A) {
		*dst = (char)('a' + (cp - 0xFF21));
		return 1;
	}
	if (cp >= 0xFF41 && cp <= 0xFF5A) {
		*dst = (char)('a' + (cp - 0xFF41));
		return 1;
	}
	/* Greek and Cyrillic capitals: lowercase without a locale. */
	if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
		cp += 0x20;
	else if (cp >= 0x410 && cp <= 0x42F)
		cp += 0x20;
	else if (cp >= 0x400 && cp <= 0x40F)
		cp += 0x50;
	/* Same length as the input: capitals and their lowercase agree. */
	if (cp < 0x800) {
		dst[0] = (char)(0xC0 | (cp >> 6));
		dst[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xE0 | (cp >> 12));
		dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		dst[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	dst[0] = (char)(0xF0 | (cp >> 18));
	dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	dst[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * ASCII letters and digits, the word characters below U+0080, each to its
 * norm (capitals lowercased); 0 for every other byte, U+0080 up included.
 */
static const unsigned char ascii_fold[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e',
    ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j',
    ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o',
    ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
    ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd',
    ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i',
    ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n',
    ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's',
    ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
    ['y'] = 'y', ['z'] = 'z',
};

struct raw_token {
	size_t start, end; /* in the text */
	size_t off;	   /* of the norm in the norm buffer */
	uint32_t hash;	   /* djb2 of the norm */
};

/* Class of the code point at text[i], with its length in *k. */
static enum cp_class
class_at(const char *text, size_t len, size_t i, uint32_t *cp, size_t *k)
{
	if ((unsigned char)text[i] < 0x80) {
		*cp = (unsigned char)text[i];
		*k = 1;
		return classify_cp(*cp);
	}
	*k = kb_utf8_decode(text + i, len - i, cp);
	if (*cp == 0xFFFD && *k == 1)
		return CP_SEP; /* invalid UTF-8 */
	return classify_cp(*cp);
}

/*
 * At an apostrophe inside a word (at text[i], k bytes): is it followed by
 * a possessive "s" that ends the word?  *after gets the end of the "s".
 */
static bool
is_possessive(const char *text, size_t len, size_t i, size_t *after)
{
	size_t j, k2;
	uint32_t cp;
	enum cp_class c;

	if (i >= len || (text[i] != 's' && text[i] != 'S'))
		return false;
	j = i + 1;
	if (j >= len)
		goto yes;
	c = class_at(text, len, j, &cp, &k2);
	if (c == CP_WORD || c == CP_MARK)
		return false;
yes:
	*after = j;
	return true;
}

/*
 * Working space of the tokeniser, kept by each thread from one call to
 * the next: every section of every article is tokenised, and allocating
 * these afresh each time cost more than filling them.
 */
struct tok_scratch {
	struct raw_token *raw;
	size_t capraw;
	char *norms;
	size_t capnorms;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local struct tok_scratch *scratch;

static void
scratch_free(void *p)
{
	struct tok_scratch *sc = p;

	free(sc->raw);
	free(sc->norms);
	free(sc);
}

static void
make_scratch_key(void)
{
	/* The space goes with its thread. */
	pthread_key_create(&scratch_key, scratch_free);
}

static struct tok_scratch *
scratch_get(void)
{
	if (scratch == NULL) {
		pthread_once(&scratch_once, make_scratch_key);
		scratch = kb_xcalloc(1, sizeof(*scratch));
		if (pthread_setspecific(scratch_key, scratch) != 0)
			kb_die_nomem();
	}
	return scratch;
}

void
kb_tokenize_n(const char *text, size_t len, struct kb_token **out,
	      size_t *n)
{
	struct tok_scratch *sc = scratch_get();
	struct raw_token *raw = sc->raw;
	size_t nraw = 0, capraw = sc->capraw, i = 0, k, k2, after, t, used = 0;
	uint32_t cp, cp2, h;
	enum cp_class c, c2;
	struct kb_token *tok;
	char *norms, *pool;

	*out = NULL;
	*n = 0;
	/*
	 * A norm is never longer than the word it comes from, and words do
	 * not overlap, so norms plus their NULs fit in 2 * len bytes.
	 */
	if (sc->capnorms < 2 * len + 1) {
		free(sc->norms);
		sc->capnorms = 2 * len + 1 > 4096 ? 2 * len + 1 : 4096;
		sc->norms = kb_xmalloc(sc->capnorms);
	}
	norms = sc->norms;
	while (i < len) {
		/* Most text is ASCII: its bytes are classed by a table. */
		if ((unsigned char)text[i] < 0x80) {
			if (ascii_fold[(unsigned char)text[i]] == 0) {
				i++;
				continue;
			}
		} else if (class_at(text, len, i, &cp, &k) != CP_WORD) {
			i += k;
			continue;
		}
		/* A word starts here: collect it. */
		if (nraw == capraw) {
			capraw = capraw ? capraw * 2 : 256;
			raw = kb_xrealloc(raw, capraw * sizeof(*raw));
			sc->raw = raw;
			sc->capraw = capraw;
		}
		raw[nraw].start = i;
		raw[nraw].off = used;
		/* the norm's hash as it is written (kb_token.hash) */
		h = 5381;
		for (;;) {
			const unsigned char *p = (const unsigned char *)text + i,
					    *e = (const unsigned char *)text + len;
			unsigned char *o = (unsigned char *)norms + used, f;

			/* a run of ASCII letters and digits */
			while (p < e && (f = ascii_fold[*p]) != 0) {
				*o++ = f;
				h = h * 33 + f;
				p++;
			}
			i = (size_t)(p - (const unsigned char *)text);
			used = (size_t)(o - (unsigned char *)norms);
			if (i >= len)
				break;
			/* any other ASCII byte but an apostrophe ends it */
			if (*p < 0x80 && *p != '\'')
				break;
			c = class_at(text, len, i, &cp, &k);
			if (c == CP_WORD) {
				size_t from = used;

				used += fold_cp(norms + used, cp);
				for (; from < used; from++)
					h = h * 33 + (unsigned char)norms[from];
			} else if (c == CP_APOS) {
				if (i + k >= len)
					break;
				c2 = class_at(text, len, i + k, &cp2, &k2);
				if (c2 != CP_WORD)
					break;
				if (is_possessive(text, len, i + k, &after)) {
					i = after;
					break;
				}
			} else if (c != CP_MARK) {
				break;
			}
			i += k;
		}
		raw[nraw].end = i;
		raw[nraw].hash = h;
		norms[used++] = '\0';
		nraw++;
	}
	if (nraw == 0)
		return;
	/* One block: the token array, then the norm strings it points at. */
	tok = kb_xmalloc(nraw * sizeof(*tok) + used);
	pool = (char *)(tok + nraw);
	memcpy(pool, norms, used);
	for (t = 0; t < nraw; t++) {
		size_t next = t + 1 < nraw ? raw[t + 1].off : used;

		tok[t].norm = pool + raw[t].off;
		tok[t].start = raw[t].start;
		tok[t].end = raw[t].end;
		tok[t].len = (uint32_t)(next - raw[t].off - 1);
		tok[t].hash = raw[t].hash;
	}
	*out = tok;
	*n = nraw;
}

void
kb_tokenize(const char *text, struct kb_token **out, size_t *n)
{
	kb_tokenize_n(text, strlen(text), out, n);
}

void
kb_tokens_free(struct kb_token *tokens)
{
	free(tokens);
}

char *
kb_normalize(const char *text)
{
	struct kb_token *tok;
	struct kb_buf b;
	size_t n, i;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	kb_tokenize(text, &tok, &n);
	for (i = 0; i < n; i++) {
		if (i > 0)
			kb_buf_addc(&b, ' ');
		kb_buf_adds(&b, tok[i].norm);
	}
	kb_tokens_free(tok);
	return kb_buf_steal(&b);
}

/* In alphabetical order, for the reader: lookups go through word_set. */
static const char *const stopwords[] = {
	"a",	    "about",	  "again",	"all",	     "also",
	"am",	    "an",	  "and",	"any",	     "are",
	"as",	    "at",	  "be",		"because",   "been",
	"being",    "both",	  "but",	"by",	     "can",
	"could",    "did",	  "do",		"does",	     "doing",
	"each",	    "either",	  "else",	"etc",	     "even",
	"ever",	    "every",	  "for",	"from",	     "further",
	"get",	    "gets",	  "got",	"had",	     "has",
	"have",	    "having",	  "he",		"her",	     "here",
	"hers",	    "herself",	  "him",	"himself",   "his",
	"how",	    "however",	  "i",		"id",	     "if",
	"im",	    "in",	  "into",	"is",	     "it",
	"its",	    "itself",	  "ive",	"just",	     "let",
	"lets",	    "may",	  "me",		"might",     "more",
	"most",	    "much",	  "must",	"my",	     "myself",
	"of",	    "or",	  "other",	"others",    "our",
	"ours",	    "ourselves",  "own",	"please",    "quite",
	"rather",   "really",	  "same",	"shall",     "she",
	"should",   "so",	  "some",	"such",	     "than",
	"that",	    "thats",	  "the",	"their",     "theirs",
	"them",	    "themselves", "then",	"there",     "these",
	"they",	    "theyre",	  "this",	"those",     "though",
	"through",  "thus",	  "to",		"too",	     "until",
	"very",	    "via",	  "was",	"we",	     "were",
	"what",	    "whats",	  "when",	"where",     "which",
	"while",    "who",	  "whom",	"whose",     "why",
	"will",	    "with",	  "would",	"yet",	     "you",
	"youd",	    "youll",	  "your",	"youre",     "yours",
	"yourself", "yourselves", "youve",
};

static const char *const negations[] = {
	"aint",	   "arent", "cannot", "cant",	 "couldnt", "didnt",
	"doesnt",  "dont",  "hadnt",  "hasnt",	 "havent",  "isnt",
	"mustnt",  "neednt", "not",   "shouldnt", "wasnt",  "werent",
	"wont",	   "wouldnt",
};

/*
 * Every token of every section is looked up in both lists, so each list
 * is also kept grouped by length and first letter (all its words are
 * lowercase ASCII): a lookup measures the norm, up to the longest word,
 * and compares it only with the few words of its group.
 */
#define WORD_SET_LEN 12 /* longer than any word in either list */

struct word_set {
	const char *const *list;
	size_t n;
	const char *word[256];			       /* the list, grouped */
	unsigned char at[(WORD_SET_LEN + 1) * 26 + 1]; /* group starts */
	size_t maxlen;
};

static struct word_set stopword_set = {
    stopwords, sizeof(stopwords) / sizeof(*stopwords), {0}, {0}, 0};
static struct word_set negation_set = {
    negations, sizeof(negations) / sizeof(*negations), {0}, {0}, 0};
static pthread_once_t word_sets_once = PTHREAD_ONCE_INIT;

static size_t
group_of(const char *w, size_t len)
{
	return len * 26 + (size_t)(w[0] - 'a');
}

static void
word_set_fill(struct word_set *s)
{
	size_t count[(WORD_SET_LEN + 1) * 26 + 1] = {0}, i, g, len;

	assert(s->n <= sizeof(s->word) / sizeof(*s->word));
	for (i = 0; i < s->n; i++) {
		len = strlen(s->list[i]);
		assert(len > 0 && len <= WORD_SET_LEN);
		assert(s->list[i][0] >= 'a' && s->list[i][0] <= 'z');
		count[group_of(s->list[i], len)]++;
		if (len > s->maxlen)
			s->maxlen = len;
	}
	for (g = 1; g < sizeof(s->at); g++)
		s->at[g] = (unsigned char)(s->at[g - 1] + count[g - 1]);
	memset(count, 0, sizeof(count));
	for (i = 0; i < s->n; i++) {
		g = group_of(s->list[i], strlen(s->list[i]));
		s->word[s->at[g] + count[g]++] = s->list[i];
	}
}

static void
word_sets_build(void)
{
	word_set_fill(&stopword_set);
	word_set_fill(&negation_set);
}

static bool
word_set_has(const struct word_set *s, const char *w)
{
	size_t n, g, i;

	for (n = 0; w[n] != '\0'; n++)
		if (n >= s->maxlen)
			return false;
	if (w[0] < 'a' || w[0] > 'z')
		return false;
	g = group_of(w, n);
	for (i = s->at[g]; i < s->at[g + 1]; i++) {
		const char *v = s->word[i];
		size_t k;

		/* The last letter first: it tells most of a group apart. */
		if (v[n - 1] != w[n - 1])
			continue;
		for (k = 1; k + 1 < n && v[k] == w[k]; k++)
			;
		if (k + 1 >= n)
			return true;
	}
	return false;
}

bool
kb_is_stopword(const char *norm)
{
	pthread_once(&word_sets_once, word_sets_build);
	return word_set_has(&stopword_set, norm);
}

bool
kb_is_negation(const char *norm)
{
	pthread_once(&word_sets_once, word_sets_build);
	return word_set_has(&negation_set, norm);
}

/*
 * The Porter stemmer (M.F. Porter, 1980, with the "logi" and "bli" rules
 * of his reference implementation), written to give the same stems as
 * SQLite FTS5's porter tokenizer so that words we stem line up with the
 * terms in the index.  b[0..k) is the word; cons[i] caches whether b[i]
 * is a consonant (which for 'y' depends on what precedes it) since every
 * token of every article is stemmed.
 */
#define STEM_MAX 64

struct stem {
	char b[STEM_MAX + 2]; /* step 1b may add an 'e' */
	bool cons[STEM_MAX + 2];
	int k;
};

/* Recompute cons[] from position from, after b changed there. */
static void
stem_recons(struct stem *s, int from)
{
	int i;

	for (i = from; i < s->k; i++) {
		switch (s->b[i]) {
		case 'a':
		case 'e':
		case 'i':
		case 'o':
		case 'u':
			s->cons[i] = false;
			break;
		case 'y':
			s->cons[i] = i == 0 ? true : !s->cons[i - 1];
			break;
		default:
			s->cons[i] = true;
		}
	}
}

/* m, the number of vowel-consonant sequences in b[0..j). */
static int
measure(const struct stem *s, int j)
{
	int m = 0, i = 0;

	while (i < j && s->cons[i])
		i++;
	while (i < j) {
		while (i < j && !s->cons[i])
			i++;
		if (i >= j)
			break;
		while (i < j && s->cons[i])
			i++;
		m++;
	}
	return m;
}

static bool
has_vowel(const struct stem *s, int j)
{
	int i;

	for (i = 0; i < j; i++)
		if (!s->cons[i])
			return true;
	return false;
}

/* b[0..j) ends with a double consonant ("yy" counts, as in FTS5). */
static bool
double_cons(const struct stem *s, int j)
{
	char c;

	if (j < 2 || s->b[j - 1] != s->b[j - 2])
		return false;
	c = s->b[j - 1];
	return c != 'a' && c != 'e' && c != 'i' && c != 'o' && c != 'u';
}

/* b[0..j) ends consonant-vowel-consonant, the last not w, x or y. */
static bool
ends_cvc(const struct stem *s, int j)
{
	char c;

	if (j < 3 || !s->cons[j - 1] || s->cons[j - 2] || !s->cons[j - 3])
		return false;
	c = s->b[j - 1];
	return c != 'w' && c != 'x' && c != 'y';
}

/* b[0..k) is a non-empty stem followed by suffix[0..n). */
static bool
ends_with(const struct stem *s, const char *suffix, int n)
{
	return s->k > n && s->b[s->k - 1] == suffix[n - 1] &&
	       memcmp(s->b + s->k - n, suffix, (size_t)n) == 0;
}

#define ENDS(s, lit) ends_with(s, lit, (int)sizeof(lit) - 1)

/* Replace the last n bytes by to[0..tn). */
static void
stem_replace(struct stem *s, int n, const char *to, int tn)
{
	int at = s->k - n;

	memcpy(s->b + at, to, (size_t)tn);
	s->k = at + tn;
	stem_recons(s, at);
}

struct suffix_rule {
	const char *from;
	int from_len;
	const char *to;
	int to_len;
};

#define RULE(from, to) {from, (int)sizeof(from) - 1, to, (int)sizeof(to) - 1}

static const struct suffix_rule step2_rules[] = {
	RULE("ational", "ate"), RULE("tional", "tion"), RULE("enci", "ence"),
	RULE("anci", "ance"),	RULE("izer", "ize"),	RULE("bli", "ble"),
	RULE("alli", "al"),	RULE("entli", "ent"),	RULE("eli", "e"),
	RULE("ousli", "ous"),	RULE("ization", "ize"), RULE("ation", "ate"),
	RULE("ator", "ate"),	RULE("alism", "al"),	RULE("iveness", "ive"),
	RULE("fulness", "ful"), RULE("ousness", "ous"), RULE("aliti", "al"),
	RULE("iviti", "ive"),	RULE("biliti", "ble"),	RULE("logi", "log"),
};

static const struct suffix_rule step3_rules[] = {
	RULE("icate", "ic"), RULE("ative", ""), RULE("alize", "al"),
	RULE("iciti", "ic"), RULE("ical", "ic"), RULE("ful", ""),
	RULE("ness", ""),
};

/* "ion" also needs an 's' or 't' before it: see apply_rules. */
static const struct suffix_rule step4_rules[] = {
	RULE("al", ""),	  RULE("ance", ""), RULE("ence", ""), RULE("er", ""),
	RULE("ic", ""),	  RULE("able", ""), RULE("ible", ""), RULE("ant", ""),
	RULE("ement", ""), RULE("ment", ""), RULE("ent", ""), RULE("ion", ""),
	RULE("ou", ""),	  RULE("ism", ""),  RULE("ate", ""),  RULE("iti", ""),
	RULE("ous", ""),  RULE("ive", ""),  RULE("ize", ""),
};

/*
 * Replace the first suffix of rules that b ends with, when what precedes
 * it has a measure above min_m.  Only the first matching suffix is
 * considered, as in Porter's reference code.  lasts holds the last letter
 * of every suffix: most words end in none of them.
 */
static void
apply_rules(struct stem *s, const struct suffix_rule *rules, size_t n,
	    const char *lasts, int min_m)
{
	size_t i;
	int stem;

	if (strchr(lasts, s->b[s->k - 1]) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (!ends_with(s, rules[i].from, rules[i].from_len))
			continue;
		stem = s->k - rules[i].from_len;
		if (measure(s, stem) <= min_m)
			return;
		if (rules == step4_rules && strcmp(rules[i].from, "ion") == 0 &&
		    s->b[stem - 1] != 's' && s->b[stem - 1] != 't')
			return;
		stem_replace(s, rules[i].from_len, rules[i].to,
			     rules[i].to_len);
		return;
	}
}

static void
step1(struct stem *s)
{
	bool removed = false;

	if (s->b[s->k - 1] == 's') {
		if (ENDS(s, "sses") || ENDS(s, "ies"))
			s->k -= 2;
		else if (s->b[s->k - 2] != 's')
			s->k--;
	}
	if (ENDS(s, "eed")) {
		if (measure(s, s->k - 3) > 0)
			s->k--;
	} else if (ENDS(s, "ed") && has_vowel(s, s->k - 2)) {
		s->k -= 2;
		removed = true;
	} else if (ENDS(s, "ing") && has_vowel(s, s->k - 3)) {
		s->k -= 3;
		removed = true;
	}
	if (removed) {
		if (ENDS(s, "at") || ENDS(s, "bl") || ENDS(s, "iz")) {
			stem_replace(s, 0, "e", 1);
		} else if (double_cons(s, s->k) && s->b[s->k - 1] != 'l' &&
			   s->b[s->k - 1] != 's' && s->b[s->k - 1] != 'z') {
			s->k--;
		} else if (measure(s, s->k) == 1 && ends_cvc(s, s->k)) {
			stem_replace(s, 0, "e", 1);
		}
	}
	if (s->k > 0 && s->b[s->k - 1] == 'y' && has_vowel(s, s->k - 1))
		stem_replace(s, 1, "i", 1);
}

static void
step5(struct stem *s)
{
	int m;

	if (s->b[s->k - 1] == 'e') {
		m = measure(s, s->k - 1);
		if (m > 1 || (m == 1 && !ends_cvc(s, s->k - 1)))
			s->k--;
	}
	if (s->k >= 2 && s->b[s->k - 1] == 'l' && s->b[s->k - 2] == 'l' &&
	    measure(s, s->k - 1) > 1)
		s->k--;
}

/* Copy src[0..n) into out as a string cut to outsz; returns n. */
static size_t
put_stem(const char *src, size_t n, char *out, size_t outsz)
{
	size_t c;

	if (outsz > 0) {
		c = n < outsz - 1 ? n : outsz - 1;
		memcpy(out, src, c);
		out[c] = '\0';
	}
	return n;
}

/*
 * Words repeat: every thread keeps the stems it computed last, in a small
 * direct-mapped table, so indexing stems each distinct word about once.
 */
#define STEM_CACHE 4096
#define STEM_WORD 24

struct stem_slot {
	/* a slot to a cache line: a lookup reads one line */
	_Alignas(64) char word[STEM_WORD];
	char stem[STEM_WORD];
	uint32_t word_hash, stem_hash; /* kb_fnv1a of word and stem, low bits */
	unsigned char stemlen;
	bool stop, neg; /* kb_is_stopword, kb_is_negation of word */
};
_Static_assert(sizeof(struct stem_slot) == 64, "a slot to a line");

static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
/* The thread's table, kept at hand: the key is only for freeing it. */
static _Thread_local struct stem_slot *stem_cache;

static void
make_stem_key(void)
{
	/* The table goes with its thread. */
	pthread_key_create(&stem_key, free);
}

static size_t porter(const char *norm, size_t len, char *out, size_t outsz);

/*
 * kb_stem; when stop is not NULL kb_is_stopword and kb_is_negation too,
 * and when hash is not NULL the low 32 bits of the kb_fnv1a of norm and
 * of the stem.
 */
static size_t
stem_cached_n(const char *norm, size_t len, uint32_t h, char *out,
	      size_t outsz, bool *stop, bool *neg, uint32_t hash[2])
{
	size_t n;
	struct stem_slot *slot;

	if (len == 0 || len >= STEM_WORD)
		goto uncached;
	if (stem_cache == NULL) {
		/*
		 * calloc, not aligned_alloc and memset: a block this large
		 * is fresh zeroed pages, and only the slots a thread uses
		 * ever become resident (a server thread stems a few words).
		 * Aligned by hand; the key frees the block itself.
		 */
		void *raw = calloc(STEM_CACHE + 1, sizeof(*stem_cache));

		pthread_once(&stem_once, make_stem_key);
		if (raw == NULL || pthread_setspecific(stem_key, raw) != 0) {
			free(raw);
			goto uncached;
		}
		stem_cache = (struct stem_slot *)(void *)(
		    ((uintptr_t)raw + (_Alignof(struct stem_slot) - 1)) &
		    ~(uintptr_t)(_Alignof(struct stem_slot) - 1));
	}
	slot = &stem_cache[h % STEM_CACHE];
	if (slot->word[len] != '\0' || memcmp(slot->word, norm, len) != 0) {
		n = porter(norm, len, slot->stem, sizeof(slot->stem));
		if (n >= sizeof(slot->stem)) {
			slot->word[0] = '\0'; /* its stem was cut short */
			goto uncached;
		}
		memcpy(slot->word, norm, len + 1);
		slot->stemlen = (unsigned char)n;
		slot->stop = kb_is_stopword(norm);
		slot->neg = kb_is_negation(norm);
		slot->word_hash = (uint32_t)kb_fnv1a(norm, len);
		slot->stem_hash = (uint32_t)kb_fnv1a(slot->stem, n);
	}
	if (stop != NULL) {
		*stop = slot->stop;
		*neg = slot->neg;
	}
	if (hash != NULL) {
		hash[0] = slot->word_hash;
		hash[1] = slot->stem_hash;
	}
	return put_stem(slot->stem, slot->stemlen, out, outsz);
uncached:
	if (stop != NULL) {
		*stop = kb_is_stopword(norm);
		*neg = kb_is_negation(norm);
	}
	n = porter(norm, len, out, outsz);
	if (hash != NULL) {
		hash[0] = (uint32_t)kb_fnv1a(norm, len);
		hash[1] = n < outsz ? (uint32_t)kb_fnv1a(out, n) : 0;
	}
	return n;
}

/* stem_cached_n of norm, its length and djb2 hash taken in one pass. */
static size_t
stem_cached(const char *norm, char *out, size_t outsz, bool *stop, bool *neg,
	    uint32_t hash[2])
{
	size_t len;
	uint32_t h = 5381;

	for (len = 0; norm[len] != '\0'; len++)
		h = h * 33 + (unsigned char)norm[len];
	return stem_cached_n(norm, len, h, out, outsz, stop, neg, hash);
}

size_t
kb_stem(const char *norm, char *out, size_t outsz)
{
	return stem_cached(norm, out, outsz, NULL, NULL, NULL);
}

size_t
kb_stem_info(const char *norm, char *out, size_t outsz, bool *stop, bool *neg)
{
	return stem_cached(norm, out, outsz, stop, neg, NULL);
}

size_t
kb_stem_hashed(const char *norm, char *out, size_t outsz, bool *stop,
	       bool *neg, uint32_t *norm_hash, uint32_t *stem_hash)
{
	uint32_t h[2];
	size_t n = stem_cached(norm, out, outsz, stop, neg, h);

	*norm_hash = h[0];
	*stem_hash = h[1];
	return n;
}

size_t
kb_stem_token(const struct kb_token *t, char *out, size_t outsz, bool *stop,
	      bool *neg, uint32_t *norm_hash, uint32_t *stem_hash)
{
	uint32_t h[2];
	size_t n = stem_cached_n(t->norm, t->len, t->hash, out, outsz, stop,
				 neg, h);

	*norm_hash = h[0];
	*stem_hash = h[1];
	return n;
}

static size_t
porter(const char *norm, size_t len, char *out, size_t outsz)
{
	struct stem s;

	if (len < 3 || len > STEM_MAX)
		return put_stem(norm, len, out, outsz);
	memcpy(s.b, norm, len);
	s.k = (int)len;
	stem_recons(&s, 0);
	step1(&s);
	if (s.k > 0)
		apply_rules(&s, step2_rules,
			    sizeof(step2_rules) / sizeof(*step2_rules),
			    "ilmnrs", 0);
	if (s.k > 0)
		apply_rules(&s, step3_rules,
			    sizeof(step3_rules) / sizeof(*step3_rules), "eils",
			    0);
	if (s.k > 0)
		apply_rules(&s, step4_rules,
			    sizeof(step4_rules) / sizeof(*step4_rules),
			    "ceilmnrstu", 1);
	if (s.k > 0)
		step5(&s);
	return put_stem(s.b, (size_t)s.k, out, outsz);
}
