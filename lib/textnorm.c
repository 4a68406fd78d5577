/* textnorm.c - word tokens, ASCII folding, stop words and the Porter stemmer. */
#include <stdint.h>
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

static enum cp_class
classify_cp(uint32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9'))
			return CP_WORD;
		return cp == '\'' ? CP_APOS : CP_SEP;
	}
	/* Typographic apostrophes, and the acute accent typed in their place. */
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

/* Append the normalised form of a word character. */
static void
fold_cp(struct kb_buf *b, uint32_t cp)
{
	size_t i;

	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		kb_buf_addc(b, (char)cp);
		return;
	}
	if (cp >= 0xC0 && cp <= 0xFF) {
		kb_buf_adds(b, latin1_fold[cp - 0xC0]);
		return;
	}
	if (cp >= 0x100 && cp <= 0x17F) {
		for (i = 0; i < sizeof(latin_ext_fold) / sizeof(*latin_ext_fold);
		     i++)
			if (cp >= latin_ext_fold[i].lo &&
			    cp <= latin_ext_fold[i].hi) {
				kb_buf_adds(b, latin_ext_fold[i].ascii);
				return;
			}
	}
	/* Fullwidth ASCII letters and digits, as typed with CJK keyboards. */
	if (cp >= 0xFF10 && cp <= 0xFF19) {
		kb_buf_addc(b, (char)('0' + (cp - 0xFF10)));
		return;
	}
	if (cp >= 0xFF21 && cp <= 0xFF3A) {
		kb_buf_addc(b, (char)('a' + (cp - 0xFF21)));
		return;
	}
	if (cp >= 0xFF41 && cp <= 0xFF5A) {
		kb_buf_addc(b, (char)('a' + (cp - 0xFF41)));
		return;
	}
	/* Greek and Cyrillic capitals: lowercase without a locale. */
	if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
		cp += 0x20;
	else if (cp >= 0x410 && cp <= 0x42F)
		cp += 0x20;
	else if (cp >= 0x400 && cp <= 0x40F)
		cp += 0x50;
	kb_utf8_encode(b, cp);
}

struct raw_token {
	size_t start, end; /* in the text */
	size_t off;	   /* of the norm in the norm buffer */
};

/* Class of the code point at text[i], with its length in *k. */
static enum cp_class
class_at(const char *text, size_t len, size_t i, uint32_t *cp, size_t *k)
{
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

void
kb_tokenize_n(const char *text, size_t len, struct kb_token **out,
	      size_t *n)
{
	struct kb_buf norms;
	struct raw_token *raw = NULL;
	size_t nraw = 0, capraw = 0, i = 0, k, k2, after, t, normoff;
	uint32_t cp, cp2;
	enum cp_class c, c2;
	struct kb_token *tok;
	char *pool;

	*out = NULL;
	*n = 0;
	kb_buf_init(&norms);
	while (i < len) {
		c = class_at(text, len, i, &cp, &k);
		if (c != CP_WORD) {
			i += k;
			continue;
		}
		/* A word starts here: collect it. */
		normoff = norms.len;
		if (nraw == capraw) {
			capraw = capraw ? capraw * 2 : 32;
			raw = kb_xrealloc(raw, capraw * sizeof(*raw));
		}
		raw[nraw].start = i;
		while (i < len) {
			c = class_at(text, len, i, &cp, &k);
			if (c == CP_WORD) {
				fold_cp(&norms, cp);
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
		raw[nraw].off = normoff;
		if (norms.len > normoff) {
			kb_buf_addc(&norms, '\0');
			nraw++;
		}
	}
	if (nraw == 0)
		goto out;
	/* One block: the token array, then the norm strings it points at. */
	tok = kb_xmalloc(nraw * sizeof(*tok) + norms.len);
	pool = (char *)(tok + nraw);
	memcpy(pool, norms.data, norms.len);
	for (t = 0; t < nraw; t++) {
		tok[t].norm = pool + raw[t].off;
		tok[t].start = raw[t].start;
		tok[t].end = raw[t].end;
	}
	*out = tok;
	*n = nraw;
out:
	free(raw);
	kb_buf_free(&norms);
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

/* Sorted (strcmp order): searched with bsearch. */
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

static int
cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool
kb_is_stopword(const char *norm)
{
	return bsearch(norm, stopwords, sizeof(stopwords) / sizeof(*stopwords),
		       sizeof(*stopwords), cmp_word) != NULL;
}

bool
kb_is_negation(const char *norm)
{
	return bsearch(norm, negations, sizeof(negations) / sizeof(*negations),
		       sizeof(*negations), cmp_word) != NULL;
}

/*
 * The Porter stemmer (M.F. Porter, 1980, with the "logi" and "bli" rules
 * of his reference implementation), written to give the same stems as
 * SQLite FTS5's porter tokenizer so that words we stem line up with the
 * terms in the index.  b[0..k) is the word; m(j) measures b[0..j).
 */
#define STEM_MAX 64

static bool
is_cons(const char *b, int i)
{
	switch (b[i]) {
	case 'a':
	case 'e':
	case 'i':
	case 'o':
	case 'u':
		return false;
	case 'y':
		return i == 0 ? true : !is_cons(b, i - 1);
	default:
		return true;
	}
}

static int
measure(const char *b, int j)
{
	int m = 0, i = 0;

	while (i < j && is_cons(b, i))
		i++;
	while (i < j) {
		while (i < j && !is_cons(b, i))
			i++;
		if (i >= j)
			break;
		while (i < j && is_cons(b, i))
			i++;
		m++;
	}
	return m;
}

static bool
has_vowel(const char *b, int j)
{
	int i;

	for (i = 0; i < j; i++)
		if (!is_cons(b, i))
			return true;
	return false;
}

/* b[0..j) ends with a double consonant ("yy" counts, as in FTS5). */
static bool
double_cons(const char *b, int j)
{
	return j >= 2 && b[j - 1] == b[j - 2] &&
	       strchr("aeiou", b[j - 1]) == NULL;
}

/* b[0..j) ends consonant-vowel-consonant, the last not w, x or y. */
static bool
ends_cvc(const char *b, int j)
{
	if (j < 3 || !is_cons(b, j - 1) || is_cons(b, j - 2) ||
	    !is_cons(b, j - 3))
		return false;
	return b[j - 1] != 'w' && b[j - 1] != 'x' && b[j - 1] != 'y';
}

/* b[0..k) is a non-empty stem followed by s. */
static bool
ends_with(const char *b, int k, const char *s)
{
	int n = (int)strlen(s);

	return k > n && memcmp(b + k - n, s, (size_t)n) == 0;
}

struct suffix_rule {
	const char *from;
	const char *to;
};

static const struct suffix_rule step2_rules[] = {
	{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"},
	{"anci", "ance"},   {"izer", "ize"},	{"bli", "ble"},
	{"alli", "al"},	    {"entli", "ent"},	{"eli", "e"},
	{"ousli", "ous"},   {"ization", "ize"}, {"ation", "ate"},
	{"ator", "ate"},    {"alism", "al"},	{"iveness", "ive"},
	{"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"},
	{"iviti", "ive"},   {"biliti", "ble"},	{"logi", "log"},
};

static const struct suffix_rule step3_rules[] = {
	{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
	{"ical", "ic"},	 {"ful", ""},	{"ness", ""},
};

static const char *const step4_suffixes[] = {
	"al",  "ance", "ence", "er",  "ic",  "able", "ible",
	"ant", "ement", "ment", "ent", "ion", "ou",   "ism",
	"ate", "iti",  "ous",  "ive", "ize",
};

/*
 * Replace the first suffix of rules that b ends with, when what precedes
 * it has a measure above min_m.  Only the first matching suffix is
 * considered, as in Porter's reference code.
 */
static void
apply_rules(char *b, int *k, const struct suffix_rule *rules, size_t n,
	    int min_m)
{
	size_t i;
	int stem, tolen;

	for (i = 0; i < n; i++) {
		if (!ends_with(b, *k, rules[i].from))
			continue;
		stem = *k - (int)strlen(rules[i].from);
		if (measure(b, stem) > min_m) {
			tolen = (int)strlen(rules[i].to);
			memcpy(b + stem, rules[i].to, (size_t)tolen);
			*k = stem + tolen;
		}
		return;
	}
}

static void
step1(char *b, int *pk)
{
	int k = *pk;
	bool removed = false;

	if (b[k - 1] == 's') {
		if (ends_with(b, k, "sses") || ends_with(b, k, "ies"))
			k -= 2;
		else if (b[k - 2] != 's')
			k--;
	}
	if (ends_with(b, k, "eed")) {
		if (measure(b, k - 3) > 0)
			k--;
	} else if (ends_with(b, k, "ed") && has_vowel(b, k - 2)) {
		k -= 2;
		removed = true;
	} else if (ends_with(b, k, "ing") && has_vowel(b, k - 3)) {
		k -= 3;
		removed = true;
	}
	if (removed) {
		if (ends_with(b, k, "at") || ends_with(b, k, "bl") ||
		    ends_with(b, k, "iz")) {
			b[k++] = 'e';
		} else if (double_cons(b, k) && b[k - 1] != 'l' &&
			   b[k - 1] != 's' && b[k - 1] != 'z') {
			k--;
		} else if (measure(b, k) == 1 && ends_cvc(b, k)) {
			b[k++] = 'e';
		}
	}
	if (k > 0 && b[k - 1] == 'y' && has_vowel(b, k - 1))
		b[k - 1] = 'i';
	*pk = k;
}

static void
step4(char *b, int *k)
{
	size_t i;
	int stem;

	for (i = 0; i < sizeof(step4_suffixes) / sizeof(*step4_suffixes);
	     i++) {
		if (!ends_with(b, *k, step4_suffixes[i]))
			continue;
		stem = *k - (int)strlen(step4_suffixes[i]);
		if (measure(b, stem) <= 1)
			return;
		if (strcmp(step4_suffixes[i], "ion") == 0 &&
		    (stem < 1 || (b[stem - 1] != 's' && b[stem - 1] != 't')))
			return;
		*k = stem;
		return;
	}
}

static void
step5(char *b, int *k)
{
	int m;

	if (b[*k - 1] == 'e') {
		m = measure(b, *k - 1);
		if (m > 1 || (m == 1 && !ends_cvc(b, *k - 1)))
			(*k)--;
	}
	if (*k >= 2 && b[*k - 1] == 'l' && b[*k - 2] == 'l' &&
	    measure(b, *k - 1) > 1)
		(*k)--;
}

size_t
kb_stem(const char *norm, char *out, size_t outsz)
{
	char b[STEM_MAX + 2]; /* step 1b may add an 'e' */
	size_t len = strlen(norm);
	int k;

	if (len < 3 || len > STEM_MAX) {
		if (outsz > 0) {
			size_t c = len < outsz - 1 ? len : outsz - 1;

			memcpy(out, norm, c);
			out[c] = '\0';
		}
		return len;
	}
	memcpy(b, norm, len);
	k = (int)len;
	step1(b, &k);
	if (k > 0)
		apply_rules(b, &k, step2_rules,
			    sizeof(step2_rules) / sizeof(*step2_rules), 0);
	if (k > 0)
		apply_rules(b, &k, step3_rules,
			    sizeof(step3_rules) / sizeof(*step3_rules), 0);
	if (k > 0)
		step4(b, &k);
	if (k > 0)
		step5(b, &k);
	if (outsz > 0) {
		size_t c = (size_t)k < outsz - 1 ? (size_t)k : outsz - 1;

		memcpy(out, b, c);
		out[c] = '\0';
	}
	return (size_t)k;
}
