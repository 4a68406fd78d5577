/* article.c - parse one file (Markdown, plain text, HTML) into an article. */
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <yaml.h>

#include "article.h"
#include "error.h"
#include "util.h"

void
kb_article_init(void)
{
	xmlInitParser();
}

/*
 * Bounds that keep hostile input from costing more than it is worth.  No
 * real article has thousands of sections or a heading longer than a line;
 * past MAX_SECTIONS further headings stay in the last section as text.
 */
#define MAX_SECTIONS 2000
#define MAX_HEADING  200 /* bytes */
#define MAX_TITLE    300 /* bytes */
#define MAX_INDENT   8	 /* list levels shown by indentation */
/*
 * cmark and libxml2 build a whole tree first, at 150-250 bytes a node, so
 * a file of nothing but markup costs gigabytes.  Refuse input that would
 * need more than 1-2 GB of tree; 50 MB of real prose is about 5 M units.
 */
#define MAX_MD_COST   8000000 /* 2 per line + inline markers */
#define MAX_HTML_TAGS 3000000 /* '<' characters */
/* libyaml is quadratic in flow nesting; real front matter is tiny. */
#define MAX_FM_BYTES 65536
#define MAX_FM_DEPTH 100

/* ---------------------------------------------------------------------
 * Text helpers shared by the three formats.
 */

/*
 * Byte length of the whitespace character at s, or 0 when it is not one.
 * Other C0 controls count as space too: kb_text_clean has removed them
 * from the file, but decoding can bring them back (YAML "\f" or "\0" in
 * front matter, "&#1;" in Markdown or HTML, a control byte in a file
 * name), and indexed text must never hold them.
 */
static size_t
space_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0)
		return 0;
	if (u[0] <= ' ')
		return 1;
	/* Saved web pages are full of no-break and typographic spaces. */
	if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
		return 2;
	if (n >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8B) || u[2] == 0xAF))
		return 3;
	if (n >= 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	return 0;
}

static bool
only_space(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = space_at(s + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static size_t
count_cps(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* Append s[0..n) with whitespace runs collapsed to one space and trimmed. */
static void
add_squeezed(struct kb_buf *b, const char *s, size_t n)
{
	size_t i = 0, j, k;
	bool space = false, any = false;

	while (i < n) {
		k = space_at(s + i, n - i);
		if (k > 0) {
			space = true;
			i += k;
			continue;
		}
		for (j = i + 1; j < n && space_at(s + j, n - j) == 0; j++)
			;
		if (space && any)
			kb_buf_addc(b, ' ');
		kb_buf_add(b, s + i, j - i);
		space = false;
		any = true;
		i = j;
	}
}

static char *
squeeze_dup(const char *s, size_t n)
{
	struct kb_buf b;

	kb_buf_init(&b);
	add_squeezed(&b, s, n);
	return kb_buf_steal(&b);
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void
clip_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	while (max > 0 && s[max - 1] == ' ')
		max--;
	s[max] = '\0';
}

static void
buf_truncate(struct kb_buf *b, size_t len)
{
	if (b->data != NULL && len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Ensure b ends with level newlines (1 or 2), unless it is empty. */
static void
buf_sep(struct kb_buf *b, int level)
{
	int have = 0;

	if (b->len == 0)
		return;
	while (b->len > 0 &&
	       (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		buf_truncate(b, b->len - 1);
	if (b->len > 0 && b->data[b->len - 1] == '\n')
		have++;
	if (have && b->len > 1 && b->data[b->len - 2] == '\n')
		have++;
	for (; have < level; have++)
		kb_buf_addc(b, '\n');
}

static void
buf_indent(struct kb_buf *b, int depth)
{
	int i;

	if (depth > MAX_INDENT)
		depth = MAX_INDENT;
	for (i = 0; i < depth; i++)
		kb_buf_add(b, "  ", 2);
}

/*
 * The marker of a list item at nesting depth (1 = outermost): "- " for
 * bullets (*counter < 0), else the item's number, which counts on.
 */
static void
list_marker(char *dst, size_t size, int depth, long *counter)
{
	int indent = depth - 1 < MAX_INDENT ? depth - 1 : MAX_INDENT;

	char digits[24], *d = digits + sizeof(digits);
	size_t at = 0, need;
	unsigned long v;

	if (indent < 0)
		indent = 0;
	/* written by hand: every list item of every article comes here */
	if (counter == NULL || *counter < 0) {
		*--d = '-';
	} else {
		v = (unsigned long)*counter;
		*--d = '.';
		do
			*--d = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		if (*counter < LONG_MAX)
			(*counter)++;
	}
	need = 2 * (size_t)indent + (size_t)(digits + sizeof(digits) - d) + 2;
	if (size == 0)
		return;
	if (need > size) /* cannot happen with the callers' 64 bytes */
		need = size;
	while (at < 2 * (size_t)indent && at + 1 < need)
		dst[at++] = ' ';
	while (d < digits + sizeof(digits) && at + 1 < need)
		dst[at++] = *d++;
	if (at + 1 < need)
		dst[at++] = ' ';
	dst[at] = '\0';
}

/*
 * Split s on commas and add each trimmed, non-empty piece to sv: front
 * matter and <meta name="keywords"> both write lists that way.
 */
static void
add_comma_list(struct kb_strv *sv, const char *s, size_t n)
{
	const char *end = s + n, *p;
	char *item;

	while (s < end) {
		p = memchr(s, ',', (size_t)(end - s));
		if (p == NULL)
			p = end;
		item = squeeze_dup(s, (size_t)(p - s));
		if (item[0] != '\0')
			kb_strv_add_unique(sv, item);
		free(item);
		s = p + 1;
	}
}

/* The file name without directory and extension: the title of last resort. */
static char *
title_from_name(const char *name)
{
	const char *base, *dot;
	char *t;

	if (name == NULL || name[0] == '\0')
		return kb_xstrdup("untitled");
	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		dot = base + strlen(base);
	t = squeeze_dup(base, (size_t)(dot - base));
	if (t[0] == '\0') {
		free(t);
		return kb_xstrdup("untitled");
	}
	return t;
}

/* ---------------------------------------------------------------------
 * Sections under construction, and the clean-up every format shares.
 */

struct sections {
	struct kb_article *a;
	size_t cap;
	struct kb_buf body; /* body of the open (last) section */
	bool open;
};

static void
sect_close(struct sections *ss)
{
	if (!ss->open)
		return;
	ss->a->sections[ss->a->nsections - 1].body = kb_buf_steal(&ss->body);
	ss->open = false;
}

/* Start a section; the lead-in is opened with heading "" before parsing. */
static void
sect_open(struct sections *ss, const char *heading, int line)
{
	struct kb_article *a = ss->a;
	struct kb_section *s;

	sect_close(ss);
	if (a->nsections == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 8;
		a->sections =
		    kb_xrealloc(a->sections, ss->cap * sizeof(*a->sections));
	}
	s = &a->sections[a->nsections++];
	memset(s, 0, sizeof(*s));
	s->heading = squeeze_dup(heading, strlen(heading));
	clip_utf8(s->heading, MAX_HEADING);
	s->line = line > 0 ? line : 0;
	kb_strv_init(&s->models);
	kb_strv_init(&s->symptoms);
	kb_buf_reset(&ss->body);
	ss->open = true;
}

static bool
sect_full(const struct sections *ss)
{
	return ss->a->nsections >= MAX_SECTIONS;
}

static void
sect_init(struct sections *ss, struct kb_article *a)
{
	ss->a = a;
	ss->cap = 0;
	ss->open = false;
	kb_buf_init(&ss->body);
	sect_open(ss, "", 0);
}

/*
 * Strip trailing blanks from every line, collapse runs of blank lines into
 * one and drop blank lines at both ends, so every format's body follows
 * the same shape whatever the renderer left behind.
 */
static char *
tidy_body(const char *s)
{
	struct kb_buf b;
	const char *nl;
	size_t n;
	bool blank = false;

	kb_buf_init(&b);
	while (*s != '\0') {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		while (n > 0 && space_at(s + n - 1, 1) > 0)
			n--;
		if (n == 0 || only_space(s, n)) {
			blank = b.len > 0;
		} else {
			if (b.len > 0)
				kb_buf_adds(&b, blank ? "\n\n" : "\n");
			kb_buf_add(&b, s, n);
			blank = false;
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	return kb_buf_steal(&b);
}

static void
section_free(struct kb_section *s)
{
	free(s->heading);
	free(s->anchor);
	free(s->body);
	kb_strv_free(&s->models);
	kb_strv_free(&s->symptoms);
}

/*
 * Anchors must be unique within the article; an open-addressing set keeps
 * that linear even for an article with a great many equal headings.
 */
struct anchor_slot {
	char *key;
	unsigned next; /* next suffix to try for this base */
};

struct anchor_set {
	struct anchor_slot *slots;
	size_t mask;
};

static struct anchor_slot *
anchor_find(struct anchor_set *set, const char *key)
{
	size_t i = (size_t)kb_fnv1a(key, strlen(key)) & set->mask;

	while (set->slots[i].key != NULL && strcmp(set->slots[i].key, key))
		i = (i + 1) & set->mask;
	return &set->slots[i];
}

static void
assign_anchors(struct kb_article *a)
{
	struct anchor_set set;
	struct anchor_slot *slot, *other;
	size_t size = 16, i;
	char *base, *cand;

	/* Each section inserts at most two keys; keep the load under half. */
	while (size < a->nsections * 4 + 16)
		size *= 2;
	set.slots = kb_xcalloc(size, sizeof(*set.slots));
	set.mask = size - 1;
	for (i = 0; i < a->nsections; i++) {
		if (a->sections[i].heading[0] == '\0') {
			base = kb_xstrdup("intro");
		} else {
			base = kb_slugify(a->sections[i].heading);
			if (base[0] == '\0') {
				free(base);
				base = kb_xstrdup("section");
			}
		}
		/* The set's keys are the sections' anchors, not copies. */
		slot = anchor_find(&set, base);
		if (slot->key == NULL) {
			slot->key = base;
			slot->next = 2;
			a->sections[i].anchor = base;
			continue;
		}
		for (;;) {
			cand = kb_xasprintf("%s-%u", base, slot->next++);
			other = anchor_find(&set, cand);
			if (other->key == NULL) {
				other->key = cand;
				other->next = 2;
				break;
			}
			free(cand);
		}
		a->sections[i].anchor = cand;
		free(base);
	}
	free(set.slots);
}

/*
 * Tidy bodies, drop what carries nothing (an empty lead-in, a bodiless
 * heading repeated by the next one), name anchors and make sure some text
 * is left.
 */
static int
finish_sections(struct kb_article *a, const char *name, struct kb_error *err)
{
	struct kb_section *s;
	size_t i, w = 0;
	char *body;

	for (i = 0; i < a->nsections; i++) {
		s = &a->sections[i];
		body = tidy_body(s->body != NULL ? s->body : "");
		free(s->body);
		s->body = body;
	}
	for (i = 0; i < a->nsections; i++) {
		s = &a->sections[i];
		if (s->body[0] == '\0' &&
		    (s->heading[0] == '\0' ||
		     (i + 1 < a->nsections &&
		      strcmp(s->heading, a->sections[i + 1].heading) == 0))) {
			section_free(s);
			continue;
		}
		a->sections[w++] = *s;
	}
	a->nsections = w;
	if (a->nsections == 0)
		return kb_error_set(err, KB_ERR_PARSE, 0, "%s: no text", name);
	assign_anchors(a);
	return KB_OK;
}

/* ---------------------------------------------------------------------
 * Markdown: YAML front matter (libyaml), body (cmark).
 */

/* True when the line s[0..n) is fence followed only by blanks. */
static bool
is_fence(const char *s, size_t n, const char *fence)
{
	size_t k = strlen(fence), i;

	if (n < k || memcmp(s, fence, k) != 0)
		return false;
	for (i = k; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

static size_t
line_len(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);

	return nl != NULL ? (size_t)(nl - s) : n;
}

static bool plain_is_null(const char *s, size_t n);

static bool
yaml_is_null(const yaml_node_t *v)
{
	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return plain_is_null((const char *)v->data.scalar.value,
			     v->data.scalar.length);
}

/* Is the plain scalar s[0..n) YAML's null? */
static bool
plain_is_null(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 &&
		(memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
		 memcmp(s, "NULL", 4) == 0));
}

/* One item of a list key's sequence, squeezed. */
static void
fm_list_item(struct kb_strv *sv, const char *v, size_t n)
{
	char *s = squeeze_dup(v, n);

	if (s[0] != '\0')
		kb_strv_add_unique(sv, s);
	free(s);
}

/* A text key's value, squeezed and clipped, unless one was set. */
static void
fm_text(char **dst, const char *v, size_t n, size_t max)
{
	char *s;

	if (*dst != NULL)
		return;
	s = squeeze_dup(v, n);
	if (s[0] == '\0') {
		free(s);
		return;
	}
	clip_utf8(s, max);
	*dst = s;
}

enum fm_key { FM_OTHER, FM_TITLE, FM_SUMMARY, FM_MODELS, FM_SYMPTOMS, FM_TAGS };

static enum fm_key
fm_key_of(const char *key)
{
	if (strcasecmp(key, "title") == 0)
		return FM_TITLE;
	if (strcasecmp(key, "summary") == 0 ||
	    strcasecmp(key, "description") == 0)
		return FM_SUMMARY;
	if (strcasecmp(key, "models") == 0 || strcasecmp(key, "model") == 0)
		return FM_MODELS;
	if (strcasecmp(key, "symptoms") == 0 ||
	    strcasecmp(key, "symptom") == 0)
		return FM_SYMPTOMS;
	if (strcasecmp(key, "tags") == 0 || strcasecmp(key, "tag") == 0 ||
	    strcasecmp(key, "keywords") == 0)
		return FM_TAGS;
	return FM_OTHER;
}

/* The list a list key fills, or NULL for a text key or another key. */
static struct kb_strv *
fm_list_of(struct kb_article *a, enum fm_key k)
{
	switch (k) {
	case FM_MODELS:
		return &a->fm_models;
	case FM_SYMPTOMS:
		return &a->fm_symptoms;
	case FM_TAGS:
		return &a->fm_tags;
	default:
		return NULL;
	}
}

/* A list key: a sequence of scalars, or one scalar holding a comma list. */
static void
fm_add_list(struct kb_strv *sv, yaml_document_t *doc, yaml_node_t *v)
{
	yaml_node_item_t *it;
	yaml_node_t *item;

	if (v->type == YAML_SCALAR_NODE) {
		if (!yaml_is_null(v))
			add_comma_list(sv, (const char *)v->data.scalar.value,
				       v->data.scalar.length);
		return;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		item = yaml_document_get_node(doc, *it);
		if (item == NULL || item->type != YAML_SCALAR_NODE ||
		    yaml_is_null(item))
			continue;
		fm_list_item(sv, (const char *)item->data.scalar.value,
			     item->data.scalar.length);
	}
}

/* A text key (title, summary): a non-null scalar, squeezed. */
static void
fm_set_text(char **dst, yaml_node_t *v, size_t max)
{
	if (v->type != YAML_SCALAR_NODE || yaml_is_null(v))
		return;
	fm_text(dst, (const char *)v->data.scalar.value, v->data.scalar.length,
		max);
}

static void
fm_apply(struct kb_article *a, yaml_document_t *doc, const char *key,
	 yaml_node_t *v)
{
	enum fm_key k = fm_key_of(key);

	if (k == FM_TITLE)
		fm_set_text(&a->title, v, MAX_TITLE);
	else if (k == FM_SUMMARY)
		fm_set_text(&a->summary, v, SIZE_MAX);
	else if (k != FM_OTHER)
		fm_add_list(fm_list_of(a, k), doc, v);
}

/*
 * Front matter as kbindex's own knowledge base writes it, read without
 * libyaml (which takes ~14 us for four lines, most of an article's
 * parsing after the Markdown): lines "key: value" or "key: [a, b]",
 * every value a plain scalar of letters, digits and a few marks that
 * YAML gives no meaning there (no ':', '#', ',', quotes at the start,
 * brackets or braces inside, no tabs, nothing beyond ASCII).  Anything
 * else is libyaml's: then fm_fast gives false before changing a.
 */
static bool
fm_plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' ||
	       c == '\'' || c == '(' || c == ')' || c == '/' || c == '_' ||
	       c == '+';
}

/* The length of a plain scalar at s[0..n), stopping at stop, or 0. */
static size_t
fm_plain(const char *s, size_t n, char stop)
{
	size_t i = 0;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
			(s[0] >= 'A' && s[0] <= 'Z') ||
			(s[0] >= '0' && s[0] <= '9')))
		return 0;
	while (i < n && s[i] != stop && fm_plain_char((unsigned char)s[i]))
		i++;
	/* YAML would drop trailing blanks: leave those to it */
	if (s[i - 1] == ' ')
		return 0;
	return i;
}

/* Check (apply false) or read (apply true) the block yaml[0..n). */
static bool
fm_fast_pass(struct kb_article *a, const char *yaml, size_t n, bool apply)
{
	const char *p = yaml, *end = yaml + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *v;
		size_t len, klen;
		enum fm_key k = FM_OTHER;
		char key[16];

		if (eol == NULL)
			eol = end;
		while (q < eol && ((*q >= 'a' && *q <= 'z') ||
				   (*q >= 'A' && *q <= 'Z') || *q == '_'))
			q++;
		klen = (size_t)(q - p);
		if (klen == 0 || klen >= sizeof(key) || q + 2 > eol ||
		    q[0] != ':' || q[1] != ' ')
			return false;
		if (apply) {
			memcpy(key, p, klen);
			key[klen] = '\0';
			k = fm_key_of(key);
		}
		v = q + 2;
		if (v < eol && *v == '[') {
			v++;
			while (v < eol && *v != ']') {
				len = fm_plain(v, (size_t)(eol - v), ',');
				if (len == 0)
					return false;
				if (apply && fm_list_of(a, k) != NULL &&
				    !plain_is_null(v, len))
					fm_list_item(fm_list_of(a, k), v, len);
				v += len;
				if (v + 2 < eol && v[0] == ',' && v[1] == ' ')
					v += 2;
				else if (v >= eol || *v != ']')
					return false;
			}
			if (v >= eol || *v != ']' || v + 1 != eol)
				return false;
		} else {
			len = fm_plain(v, (size_t)(eol - v), '\n');
			if (len == 0 || v + len != eol)
				return false;
			if (apply && !plain_is_null(v, len)) {
				if (k == FM_TITLE)
					fm_text(&a->title, v, len, MAX_TITLE);
				else if (k == FM_SUMMARY)
					fm_text(&a->summary, v, len, SIZE_MAX);
				else if (k != FM_OTHER)
					add_comma_list(fm_list_of(a, k), v,
						       len);
			}
		}
		p = eol + 1;
	}
	return true;
}

static bool
fm_fast(struct kb_article *a, const char *yaml, size_t n)
{
	if (!fm_fast_pass(a, yaml, n, false))
		return false;
	fm_fast_pass(a, yaml, n, true);
	return true;
}

/* libyaml counts lines from 0 and the YAML starts on the file's line 2. */
static int
yaml_file_line(size_t line)
{
	return line < (size_t)INT_MAX - 2 ? (int)line + 2 : INT_MAX;
}

/* The file line where [ and { nest too deep, or 0. */
static int
fm_too_deep(const char *s, size_t n)
{
	size_t i, lines = 0;
	int depth = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			lines++;
		else if (s[i] == '[' || s[i] == '{')
			depth++;
		else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
		if (depth > MAX_FM_DEPTH)
			return yaml_file_line(lines);
	}
	return 0;
}

/* Parse the YAML between the fences into a's front matter fields. */
static int
parse_front_matter(struct kb_article *a, const char *name, const char *yaml,
		   size_t n, struct kb_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *k, *v;
	yaml_node_pair_t *pair;
	bool have_doc = false;
	char *key, *ctx;
	int rc = KB_OK, line;

	if (n > MAX_FM_BYTES)
		return kb_error_set(err, KB_ERR_PARSE, 1,
				    "%s: front matter: larger than %d bytes "
				    "at line 1",
				    name, MAX_FM_BYTES);
	line = fm_too_deep(yaml, n);
	if (line > 0)
		return kb_error_set(err, KB_ERR_PARSE, line,
				    "%s: front matter: lists nested more than "
				    "%d deep at line %d",
				    name, MAX_FM_DEPTH, line);
	if (fm_fast(a, yaml, n))
		return KB_OK;
	if (!yaml_parser_initialize(&parser))
		return kb_error_set(err, KB_ERR_NOMEM, 0,
				    "%s: front matter: out of memory", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, n);
	if (!yaml_parser_load(&parser, &doc)) {
		line = yaml_file_line(parser.problem_mark.line);
		/* "... at line 5 (while parsing a flow sequence at line 3)" */
		ctx = parser.context == NULL
			  ? kb_xstrdup("")
			  : kb_xasprintf(
				" (%s at line %d)", parser.context,
				yaml_file_line(parser.context_mark.line));
		rc = kb_error_set(err, KB_ERR_PARSE, line,
				  "%s: front matter: %s at line %d%s", name,
				  parser.problem != NULL ? parser.problem
							 : "invalid YAML",
				  line, ctx);
		free(ctx);
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		goto out; /* an empty block */
	if (root->type != YAML_MAPPING_NODE) {
		line = yaml_file_line(root->start_mark.line);
		rc = kb_error_set(err, KB_ERR_PARSE, line,
				  "%s: front matter: expected 'key: value' "
				  "lines at line %d",
				  name, line);
		goto out;
	}
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&doc, pair->key);
		v = yaml_document_get_node(&doc, pair->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			continue;
		key = kb_xstrndup((const char *)k->data.scalar.value,
				  k->data.scalar.length);
		fm_apply(a, &doc, key, v);
		free(key);
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/*
 * Find the front matter: a first line "---" and a closing "---" or "...".
 * On return *body is where the Markdown starts and *body_line the number
 * of file lines before it.
 */
static int
split_front_matter(struct kb_article *a, const char *name, const char *text,
		   size_t len, size_t *body, int *body_line,
		   struct kb_error *err)
{
	size_t off, n, first = line_len(text, len);
	int line = 2;

	*body = 0;
	*body_line = 0;
	if (!is_fence(text, first, "---"))
		return KB_OK;
	for (off = first + 1; off < len; off += n + 1, line++) {
		n = line_len(text + off, len - off);
		if (is_fence(text + off, n, "---") ||
		    is_fence(text + off, n, "...")) {
			*body = off + n < len ? off + n + 1 : len;
			*body_line = line;
			return parse_front_matter(a, name, text + first + 1,
						  off - first - 1, err);
		}
		if (line == INT_MAX)
			break;
	}
	return kb_error_set(err, KB_ERR_PARSE, 1,
			    "%s: front matter: the block opened at line 1 "
			    "has no closing '---' line",
			    name);
}

/*
 * Append a cmark literal.  Entities are decoded by then ("&#1;"), so
 * control characters are spaced out here, as kb_text_clean would have.
 */
static void
add_literal(struct kb_buf *out, const char *lit)
{
	const char *run = lit;

	/* Runs without control characters are copied whole. */
	for (; *lit; lit++) {
		if ((unsigned char)*lit >= ' ' || *lit == '\t' || *lit == '\n')
			continue;
		if (lit > run)
			kb_buf_add(out, run, (size_t)(lit - run));
		kb_buf_addc(out, ' ');
		run = lit + 1;
	}
	if (lit > run)
		kb_buf_add(out, run, (size_t)(lit - run));
}

/* Plain text of an inline container; soft and hard line breaks as given. */
static void
md_inline(cmark_node *node, struct kb_buf *out, char soft, char hard)
{
	cmark_iter *it = cmark_iter_new(node);
	cmark_event_type ev;
	cmark_node *n;
	const char *lit;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		n = cmark_iter_get_node(it);
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(n);
			if (lit != NULL)
				add_literal(out, lit);
			break;
		case CMARK_NODE_SOFTBREAK:
			kb_buf_addc(out, soft);
			break;
		case CMARK_NODE_LINEBREAK:
			kb_buf_addc(out, hard);
			break;
		default:
			/* Raw HTML is dropped; links and emphasis keep text. */
			break;
		}
	}
	cmark_iter_free(it);
}

static char *
md_heading_text(cmark_node *node)
{
	struct kb_buf b;
	char *s;

	kb_buf_init(&b);
	md_inline(node, &b, ' ', ' ');
	s = squeeze_dup(b.data != NULL ? b.data : "", b.len);
	kb_buf_free(&b);
	return s;
}

/* "|---|:--:|": the line under a pipe table's header. */
static bool
is_delim_row(const char *s, size_t n)
{
	bool dash = false, pipe = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = true;
		else if (s[i] == '|')
			pipe = true;
		else if (s[i] != ':' && s[i] != ' ' && s[i] != '\t')
			return false;
	}
	return dash && pipe;
}

/* Cells of a "|"- or tab-separated row, squeezed, joined by " | ". */
static void
add_row(struct kb_buf *b, const char *s, size_t n, char delim)
{
	size_t i = 0, j, start;
	bool first = true;

	while (i <= n) {
		for (j = i; j < n && s[j] != delim; j++)
			;
		start = b->len;
		if (!first)
			kb_buf_add(b, " | ", 3);
		add_squeezed(b, s + i, j - i);
		if (b->len == start + (first ? 0 : 3)) {
			buf_truncate(b, start); /* an empty cell, or a border */
		} else {
			first = false;
		}
		i = j + 1;
	}
}

/*
 * CommonMark has no tables, so a pipe table arrives as a paragraph with
 * one row per line.  Write it the way the other formats write rows.
 */
static void
md_add_paragraph(struct kb_buf *out, const char *s, size_t n)
{
	size_t l0 = line_len(s, n), l1, off, k;

	if (l0 == n || memchr(s, '|', l0) == NULL) {
		kb_buf_add(out, s, n);
		return;
	}
	l1 = line_len(s + l0 + 1, n - l0 - 1);
	if (!is_delim_row(s + l0 + 1, l1)) {
		kb_buf_add(out, s, n);
		return;
	}
	add_row(out, s, l0, '|');
	for (off = l0 + 1 + l1 + 1; off < n; off += k + 1) {
		k = line_len(s + off, n - off);
		kb_buf_addc(out, '\n');
		if (memchr(s + off, '|', k) != NULL)
			add_row(out, s + off, k, '|');
		else
			kb_buf_add(out, s + off, k);
	}
}

struct md_state {
	struct sections *ss;
	cmark_node *doc;
	cmark_node *title_node; /* the H1 taken as title, not a section */
	int sect_level;		/* headings up to this level open sections */
	int line_offset;	/* file lines before the Markdown body */
	int depth;		/* open lists */
	long *counters;		/* per open list: next number, -1 bullets */
	size_t ncounters;
	char marker[64]; /* "  - " or "3. " waiting for the item's text */
	bool marker_pending;
	int marker_sep;
};

/* Put a block's text into the body with the separation its place wants. */
static void
md_emit(struct md_state *md, const char *s, size_t n, bool para)
{
	struct kb_buf *b = &md->ss->body;

	if (n == 0)
		return;
	if (md->marker_pending) {
		buf_sep(b, md->marker_sep);
		kb_buf_adds(b, md->marker);
		md->marker_pending = false;
	} else if (md->depth > 0) {
		buf_sep(b, 1);
		buf_indent(b, md->depth);
	} else {
		buf_sep(b, 2);
	}
	if (para)
		md_add_paragraph(b, s, n);
	else
		kb_buf_add(b, s, n);
}

/*
 * Collapse runs of blanks inside each line and trim the line ends, in
 * place: dropping inline HTML and markup leaves doubled spaces behind.
 */
#define ONES64 0x0101010101010101ULL

/* The bytes of x equal to c, each as its top bit. */
static inline uint64_t
bytes_eq(uint64_t x, unsigned char c)
{
	uint64_t v = x ^ (ONES64 * c);

	return ~(((v & ONES64 * 0x7F) + ONES64 * 0x7F) | v) & ONES64 * 0x80;
}

static void
squeeze_lines(struct kb_buf *t)
{
	char *d = t->data;
	size_t r = 0, w = 0, n = t->len;

	while (r < n) {
		/*
		 * Eight bytes at a time while they hold no tab and each space
		 * stands alone between two bytes that are neither blank nor a
		 * line end: those bytes stay as they are.  A byte at a time
		 * cost a mispredicted branch at every word's end.
		 */
		if (n - r > 8 && w > 0) {
			unsigned char p = (unsigned char)d[w - 1],
				      next = (unsigned char)d[r + 8];
			uint64_t x, sp, nl, tb, left, right;

			memcpy(&x, d + r, 8);
			sp = bytes_eq(x, ' ');
			nl = bytes_eq(x, '\n');
			tb = bytes_eq(x, '\t');
			left = (sp | nl) << 8 | (p == ' ' || p == '\n' ? 0x80 : 0);
			right = (sp | nl | tb) >> 8 |
				(next == ' ' || next == '\t' || next == '\n'
					 ? 0x80ULL << 56
					 : 0);
			if ((tb | (sp & (left | right))) == 0) {
				if (w != r)
					memcpy(d + w, &x, 8);
				w += 8;
				r += 8;
				continue;
			}
		}
		if (d[r] != ' ' && d[r] != '\t') {
			d[w++] = d[r++];
			continue;
		}
		/* a run of blanks: one space, if a word follows on the line */
		while (r < n && (d[r] == ' ' || d[r] == '\t'))
			r++;
		if (r < n && d[r] != '\n' && w > 0 && d[w - 1] != '\n')
			d[w++] = ' ';
	}
	buf_truncate(t, w);
}

static void
md_block(struct md_state *md, cmark_node *node)
{
	struct kb_buf t;
	char soft = md->depth > 0 ? ' ' : '\n';

	kb_buf_init(&t);
	md_inline(node, &t, soft, soft);
	squeeze_lines(&t);
	/* A paragraph of nothing but raw HTML leaves only blanks. */
	if (t.len > 0 && !only_space(t.data, t.len))
		md_emit(md, t.data, t.len, md->depth == 0);
	kb_buf_free(&t);
}

static void
md_item(struct md_state *md, cmark_node *item)
{
	list_marker(md->marker, sizeof(md->marker), md->depth,
		    &md->counters[md->depth - 1]);
	md->marker_pending = true;
	/* A list is a paragraph of its own; its items are lines. */
	md->marker_sep =
	    md->depth == 1 && cmark_node_previous(item) == NULL ? 2 : 1;
}

static void
md_heading(struct md_state *md, cmark_node *node)
{
	char *text;
	int line;

	if (node == md->title_node)
		return;
	if (cmark_node_parent(node) == md->doc &&
	    cmark_node_get_heading_level(node) <= md->sect_level &&
	    !sect_full(md->ss)) {
		text = md_heading_text(node);
		if (text[0] != '\0') {
			line = cmark_node_get_start_line(node);
			if (line > 0 && line <= INT_MAX - md->line_offset)
				line += md->line_offset;
			sect_open(md->ss, text, line);
			md->marker_pending = false;
			free(text);
			return;
		}
		free(text);
	}
	md_block(md, node);
}

static void
md_walk(struct md_state *md)
{
	cmark_iter *it = cmark_iter_new(md->doc);
	cmark_event_type ev;
	cmark_node *n;
	const char *lit;
	size_t len;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_EXIT) {
			if (cmark_node_get_type(n) == CMARK_NODE_LIST)
				md->depth--;
			else if (cmark_node_get_type(n) == CMARK_NODE_ITEM)
				md->marker_pending = false;
			continue;
		}
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_LIST:
			if ((size_t)md->depth == md->ncounters) {
				md->ncounters = md->ncounters * 2 + 8;
				md->counters = kb_xrealloc(
				    md->counters,
				    md->ncounters * sizeof(*md->counters));
			}
			md->counters[md->depth++] =
			    cmark_node_get_list_type(n) == CMARK_ORDERED_LIST
				? cmark_node_get_list_start(n)
				: -1;
			break;
		case CMARK_NODE_ITEM:
			md_item(md, n);
			break;
		case CMARK_NODE_HEADING:
			md_heading(md, n);
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			break;
		case CMARK_NODE_PARAGRAPH:
			md_block(md, n);
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			break;
		case CMARK_NODE_CODE_BLOCK:
			lit = cmark_node_get_literal(n);
			len = lit != NULL ? strlen(lit) : 0;
			while (len > 0 && lit[len - 1] == '\n')
				len--;
			md_emit(md, lit, len, false);
			break;
		default:
			/* HTML blocks are dropped; containers need nothing. */
			break;
		}
	}
	cmark_iter_free(it);
}

/*
 * Decide which headings open sections.  The first H1 is the title unless
 * front matter named a different one.  "##" opens sections; without any
 * H2 the highest level present does, so an article written with H1s (or
 * only H3s) under its title still gets sections.
 */
static void
md_plan(struct md_state *md, struct kb_article *a)
{
	cmark_node *n;
	char *text;
	int level, min_level = INT_MAX;
	bool h2 = false;

	for (n = cmark_node_first_child(md->doc); n != NULL;
	     n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_HEADING)
			continue;
		level = cmark_node_get_heading_level(n);
		if (level == 1 && md->title_node == NULL) {
			text = md_heading_text(n);
			if (text[0] != '\0' &&
			    (a->title == NULL ||
			     strcasecmp(a->title, text) == 0)) {
				md->title_node = n;
				if (a->title == NULL) {
					clip_utf8(text, MAX_TITLE);
					a->title = text;
					text = NULL;
				}
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
	md->sect_level = h2 ? 2 : (min_level == INT_MAX ? 0 : min_level);
}

/* Roughly how many cmark nodes s makes: see MAX_MD_COST. */
static size_t
md_cost(const char *s, size_t n)
{
	/* a table, not a switch: no branch to mispredict on every byte */
	static const unsigned char weight[256] = {
		['\n'] = 2, ['*'] = 1, ['_'] = 1,  ['`'] = 1,
		['['] = 1,  ['<'] = 1, ['&'] = 1, ['\\'] = 1,
	};
	const unsigned char *u = (const unsigned char *)s;
	size_t i, cost = 0;

	for (i = 0; i < n; i++)
		cost += weight[u[i]];
	return cost;
}

/*
 * cmark allocates each node, and each piece of a node's text, on its own:
 * a typical article makes some 80 allocations, freed again node by node
 * when the tree goes.  A document's allocations instead come from one
 * region per thread, handed out in order and dropped together once the
 * tree has been walked.  Blocks carry their size for realloc; the last
 * block grows in place (cmark's strings mostly grow while they are the
 * newest).
 */
#define MD_CHUNK (48 * 1024)

struct md_chunk {
	struct md_chunk *next; /* an older, fuller chunk */
	size_t cap, used;
	max_align_t data[];
};

struct md_arena {
	struct md_chunk *top;
	void *last; /* the newest block, which may grow in place */
};

static pthread_key_t md_arena_key;
static pthread_once_t md_arena_once = PTHREAD_ONCE_INIT;
static _Thread_local struct md_arena *md_arena;

#define MD_ALIGN sizeof(max_align_t)
#define MD_HEAD	 MD_ALIGN /* the block's size, kept before it */

static size_t
md_round(size_t n)
{
	return (n + MD_ALIGN - 1) & ~(MD_ALIGN - 1);
}

/* Empty the region: every chunk goes but one of the usual size, kept. */
static void
md_arena_drop(struct md_arena *ar, bool all)
{
	struct md_chunk *c = ar->top, *next;

	while (c != NULL &&
	       (all || c->next != NULL || c->cap != MD_CHUNK)) {
		next = c->next;
		free(c);
		c = next;
	}
	ar->top = c;
	if (c != NULL)
		c->used = 0;
	ar->last = NULL;
}

static void
md_arena_free(void *p)
{
	md_arena_drop(p, true);
	free(p);
}

static void
make_md_arena_key(void)
{
	/* The region goes with its thread. */
	pthread_key_create(&md_arena_key, md_arena_free);
}

static struct md_arena *
md_arena_get(void)
{
	if (md_arena == NULL) {
		pthread_once(&md_arena_once, make_md_arena_key);
		md_arena = kb_xcalloc(1, sizeof(*md_arena));
		pthread_setspecific(md_arena_key, md_arena);
	}
	return md_arena;
}

static void *
md_alloc(size_t size)
{
	struct md_arena *ar = md_arena;
	struct md_chunk *c = ar->top;
	size_t need;
	char *p;

	if (size > SIZE_MAX / 2 - MD_CHUNK)
		kb_die_nomem();
	need = MD_HEAD + md_round(size ? size : 1);
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > MD_CHUNK ? need * 2 : MD_CHUNK;

		c = kb_xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = ar->top;
		ar->top = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	memcpy(p, &size, sizeof(size));
	ar->last = p + MD_HEAD;
	return ar->last;
}

static void *
md_calloc(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		kb_die_nomem();
	p = md_alloc(n * size);
	memset(p, 0, n * size);
	return p;
}

static void *
md_realloc(void *old, size_t size)
{
	struct md_arena *ar = md_arena;
	struct md_chunk *c = ar->top;
	size_t had, room;
	void *p;

	if (old == NULL)
		return md_alloc(size);
	memcpy(&had, (char *)old - MD_HEAD, sizeof(had));
	if (old == ar->last && size <= SIZE_MAX / 2) {
		/* the newest block: grow (or shrink) it where it is */
		room = c->cap - (size_t)((char *)old - (char *)c->data);
		if (md_round(size ? size : 1) <= room) {
			c->used = (size_t)((char *)old - (char *)c->data) +
				  md_round(size ? size : 1);
			memcpy((char *)old - MD_HEAD, &size, sizeof(size));
			return old;
		}
	}
	p = md_alloc(size);
	memcpy(p, old, had < size ? had : size);
	return p;
}

static void
md_free(void *p)
{
	(void)p; /* the region goes as a whole */
}

static cmark_mem md_mem = {md_calloc, md_realloc, md_free};

static cmark_node *
md_parse(const char *text, size_t len)
{
	cmark_parser *parser;
	cmark_node *doc;

	md_arena_get();
	parser = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, &md_mem);
	cmark_parser_feed(parser, text, len);
	doc = cmark_parser_finish(parser);
	cmark_parser_free(parser);
	return doc;
}

static int
parse_markdown(struct kb_article *a, struct sections *ss, const char *name,
	       const char *text, size_t len, struct kb_error *err)
{
	struct md_state md;
	size_t body;
	int rc;

	memset(&md, 0, sizeof(md));
	rc =
	    split_front_matter(a, name, text, len, &body, &md.line_offset, err);
	if (rc != KB_OK)
		return rc;
	if (md_cost(text + body, len - body) > MAX_MD_COST)
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "%s: too much Markdown markup to parse "
				    "safely",
				    name);
	a->markdown = kb_xstrndup(text + body, len - body);
	md.doc = md_parse(text + body, len - body);
	if (md.doc == NULL) {
		md_arena_drop(md_arena, false);
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "%s: cannot parse the Markdown", name);
	}
	md.ss = ss;
	md_plan(&md, a);
	md_walk(&md);
	/* the tree, with everything cmark made for it */
	md_arena_drop(md_arena, false);
	free(md.counters);
	return KB_OK;
}

/* ---------------------------------------------------------------------
 * Plain text saved from a help page: recover the structure from shape.
 */

enum tkind {
	T_BLANK,  /* empty, or no letters or digits at all ("-----") */
	T_MARK,	  /* a bullet marker alone; the item is on the next line */
	T_BULLET, /* "- item", "• item" */
	T_TABLE,  /* cells separated by tabs or pipes */
	T_TEXT,
};

struct tline {
	size_t off;  /* where the line starts in the text */
	size_t next; /* where the following line starts */
	int lineno;
	enum tkind kind;
	const char *s; /* the line without leading or trailing blanks */
	size_t len;
	const char *body; /* the text after a bullet marker, else s */
	size_t blen;
	size_t cps;	   /* code points in s */
	size_t first_word; /* code points in the first word */
	char delim;	   /* T_TABLE: '\t' or '|' */
	bool rule;	   /* "=====" or "-----": maybe a heading underline */
	bool nested;	   /* an indented or "◦" bullet */
	bool numbered;	   /* "2. Reset", "Step 3: Clean the port" */
	bool label;	   /* "Solid red: charging" */
	bool cand;	   /* shaped like a heading */
	bool colon_end;	   /* ends with ':' */
	bool term_end;	   /* ends like a sentence */
	bool lower;	   /* starts with a lowercase letter */
};

/* Bullet markers a browser's "save as text" or a person's typing leaves. */
static const struct {
	const char *mark;
	size_t len;
	bool need_space; /* "-5 degrees" and "–" as a dash are not bullets */
	bool nested;	 /* browsers use these for the second level */
} bullet_marks[] = {
    {"\xE2\x80\xA2", 3, false, false}, /* • */
    {"\xE2\x97\xA6", 3, false, true},  /* ◦ */
    {"\xE2\x97\x8B", 3, false, true},  /* ○ */
    {"\xE2\x96\xAA", 3, false, true},  /* ▪ */
    {"\xC2\xB7", 2, false, false},     /* · */
    {"\xE2\x97\x8F", 3, false, false}, /* ● */
    {"\xE2\x80\xA3", 3, false, false}, /* ‣ */
    {"\xE2\x96\xA0", 3, false, false}, /* ■ */
    {"\xE2\x80\x93", 3, true, false},  /* – */
    {"-", 1, true, false},
    {"*", 1, true, false},
};

/* Length of the bullet marker at the start of s, or 0. */
static size_t
bullet_len(const char *s, size_t n, bool *nested)
{
	size_t i, k;

	/* Every marker starts with one of these bytes; most lines do not. */
	if (n == 0 || strchr("-*\xC2\xE2", s[0]) == NULL || s[0] == '\0')
		return 0;
	for (i = 0; i < sizeof(bullet_marks) / sizeof(*bullet_marks); i++) {
		k = bullet_marks[i].len;
		if (n < k || memcmp(s, bullet_marks[i].mark, k) != 0)
			continue;
		if (k < n && bullet_marks[i].need_space &&
		    space_at(s + k, n - k) == 0)
			return 0;
		*nested = bullet_marks[i].nested;
		return k;
	}
	return 0;
}

static bool
is_alnum_cp(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	/* Letters of other scripts; not punctuation, symbols or shapes. */
	return cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 &&
	       !(cp >= 0x2000 && cp <= 0x2BFF) &&
	       !(cp >= 0x3000 && cp <= 0x303F) && cp != 0xFFFD;
}

static bool
starts_with_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* "2. Reset", "10) Reset", "Step 3", "Method 2: ..." */
static bool
text_numbered(const char *s, size_t n, bool *step)
{
	static const char *const words[] = {
	    "step", "part",	"method", "option",
	    "fix",  "solution", "tip",	  "phase",
	};
	size_t i = 0, k, digits, wlen = 0;

	*step = false;
	if (n == 0 || !(strchr("spmoft", s[0] | 0x20) != NULL ||
			(s[0] >= '0' && s[0] <= '9')))
		return false;
	for (k = 0; k < sizeof(words) / sizeof(*words); k++) {
		wlen = strlen(words[k]);
		if (n >= wlen && strncasecmp(s, words[k], wlen) == 0) {
			for (i = wlen; i < n && s[i] == ' '; i++)
				;
			*step = true;
			break;
		}
	}
	for (digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	/* "Steps" and "Tip3" are words, not numbers. */
	if (digits == 0 || digits > 3 || (*step && i == wlen)) {
		*step = false;
		return false;
	}
	if (*step)
		return i == n || strchr(":.) -", s[i]) != NULL;
	return i + 1 < n && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ';
}

/* "Solid red: charging": a short label, a colon, and text after it. */
static bool
text_label(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t pre, i, words = 1;

	if (colon == NULL)
		return false;
	pre = (size_t)(colon - s);
	if (pre == 0 || pre + 2 > n || s[pre + 1] != ' ' ||
	    count_cps(s, pre) > 40)
		return false;
	for (i = 0; i < pre; i++)
		if (s[i] == ' ')
			words++;
	return words <= 5;
}

/*
 * Does t look like a heading on its own: short, starting like a title,
 * not ending like a sentence, not "Label: text", not a link?
 */
static bool
text_heading_shaped(const struct tline *t, bool step)
{
	const char *s = t->s;
	size_t n = t->len, i, words = 1, letters = 0, k;
	uint32_t cp = 0;
	unsigned char last;

	if (t->kind != T_TEXT || t->cps > 80)
		return false;
	for (i = 0; i < n; i += k) {
		k = kb_utf8_decode(s + i, n - i, &cp);
		if (cp == ' ')
			words++;
		else if (is_alnum_cp(cp) && !(cp >= '0' && cp <= '9'))
			letters++;
	}
	if (words > 10 || letters < 2)
		return false;
	/* "iPhone pairing" may be a heading; "and then it" is not. */
	if (t->lower && !(n > 1 && s[1] >= 'A' && s[1] <= 'Z'))
		return false;
	last = (unsigned char)s[n - 1];
	if (strchr(".,;:!", last) != NULL)
		return false;
	if (n >= 3 && memcmp(s + n - 3, "\xE2\x80\xA6", 3) == 0)
		return false; /* … */
	if (last == '?' && (t->cps > 60 || words > 8 || t->lower))
		return false;
	if (t->label && !step)
		return false;
	if (memmem(s, n, "://", 3) != NULL || starts_with_ci(s, n, "www."))
		return false;
	return true;
}

/* Read and classify the line at off. */
static void
text_read(const char *text, size_t len, size_t off, int lineno, struct tline *t)
{
	const char *s = text + off, *bar;
	size_t n = line_len(s, len - off), i, k, cols = 0;
	bool alnum = false, step;
	uint32_t cp;

	memset(t, 0, sizeof(*t));
	t->off = off;
	t->next = off + n < len ? off + n + 1 : len;
	t->lineno = lineno;
	while (n > 0 && (k = space_at(s, n)) > 0) {
		cols += s[0] == '\t' ? 8 : 1;
		s += k;
		n -= k;
	}
	while (n > 0) {
		for (k = 1; k <= 3 && k <= n; k++)
			if (space_at(s + n - k, k) == k)
				break;
		if (k > 3 || k > n)
			break;
		n -= k;
	}
	t->s = t->body = s;
	t->len = t->blen = n;
	t->kind = T_BLANK;
	for (i = 0; i < n && !alnum; i += k) {
		k = kb_utf8_decode(s + i, n - i, &cp);
		alnum = is_alnum_cp(cp);
	}
	k = bullet_len(s, n, &t->nested);
	if (!alnum) {
		t->rule =
		    n >= 3 && (strspn(s, "=") >= n || strspn(s, "-") >= n);
		if (k > 0 && k == n)
			t->kind = T_MARK;
		return;
	}
	t->cps = count_cps(s, n);
	if (k > 0) {
		t->kind = T_BULLET;
		t->nested = t->nested || cols >= 2;
		t->body = s + k;
		t->blen = n - k;
		while (t->blen > 0 && (k = space_at(t->body, t->blen)) > 0) {
			t->body += k;
			t->blen -= k;
		}
		return;
	}
	bar = memchr(s, '|', n);
	if (memchr(s, '\t', n) != NULL ||
	    (bar != NULL &&
	     memchr(bar + 1, '|', n - (size_t)(bar + 1 - s)) != NULL)) {
		t->kind = T_TABLE;
		t->delim = memchr(s, '\t', n) != NULL ? '\t' : '|';
		return;
	}
	t->kind = T_TEXT;
	t->lower = s[0] >= 'a' && s[0] <= 'z';
	for (k = 0; k < n && s[k] != ' '; k++)
		;
	t->first_word = count_cps(s, k);
	t->colon_end = s[n - 1] == ':';
	t->term_end = strchr(".!?\")", s[n - 1]) != NULL ||
		      (n >= 3 && memcmp(s + n - 3, "\xE2\x80\x9D", 3) == 0);
	t->numbered = text_numbered(s, n, &step);
	t->label = text_label(s, n);
	t->cand = text_heading_shaped(t, step);
}

enum tout { OUT_NONE, OUT_PARA, OUT_LINE, OUT_ITEM };

struct text_state {
	const char *text;
	size_t len;
	size_t width; /* the width the text seems to be wrapped at */
	struct sections *ss;
	struct tline prev; /* the last line with text, or the title */
	bool have_prev;
	bool blank_before; /* blank lines since prev */
	size_t skip;	   /* a repeated heading or underline, or SIZE_MAX */
	enum { COL_NONE, COL_EXPECT, COL_LIST } col; /* after "...:" */
	bool col_blank;
	bool pending_bullet; /* a lone bullet marker came last */
	enum tout last;	     /* what was last put into the body */
};

/*
 * Was the line break between a and b made by the writer (true) or by
 * wrapping (false)?  A wrapped line is one the next word would not have
 * fitted on; a line much longer than the wrap width was never wrapped.
 */
static bool
text_deliberate(const struct text_state *ts, const struct tline *a,
		const struct tline *b)
{
	size_t w = ts->width;

	return a->cps > w + w / 4 + 5 || a->cps + 1 + b->first_word <= w;
}

/* Does b carry on the sentence of line a? */
static bool
text_continues(const struct text_state *ts, const struct tline *a,
	       const struct tline *b)
{
	return b->kind == T_TEXT && !b->label && !b->numbered &&
	       (b->lower || !text_deliberate(ts, a, b));
}

/* The next line with text from off; false at the end. */
static bool
text_peek(const struct text_state *ts, size_t off, int lineno, struct tline *t)
{
	while (off < ts->len) {
		text_read(ts->text, ts->len, off, lineno, t);
		if (t->kind != T_BLANK)
			return true;
		off = t->next;
		if (lineno < INT_MAX)
			lineno++;
	}
	return false;
}

static bool
same_line(const struct tline *a, const struct tline *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/*
 * Would j read as body text after a heading?  A heading-shaped line that
 * the next line does not continue would be a heading itself, and a run of
 * short lines is a list or a table, not headings.
 */
static bool
text_is_body(const struct text_state *ts, const struct tline *j)
{
	struct tline k;

	if (j->kind != T_TEXT || !j->cand)
		return true;
	if (j->next >= ts->len)
		return false;
	text_read(ts->text, ts->len, j->next, j->lineno + 1, &k);
	return k.kind != T_BLANK && text_continues(ts, j, &k);
}

/* Is t a heading?  Sets ts->skip to a repeat or underline it consumes. */
static bool
text_heading(struct text_state *ts, const struct tline *t)
{
	const struct tline *p = &ts->prev;
	struct tline n, j;
	size_t dup = SIZE_MAX;
	bool boundary;

	if (t->kind != T_TEXT || t->next >= ts->len)
		return false;
	/*
	 * A break by the writer after a finished sentence or a list item is
	 * as good as a blank line; a run of short lines is not (a list).
	 */
	boundary =
	    !ts->have_prev || ts->blank_before ||
	    (text_deliberate(ts, p, t) && !p->cand && !p->colon_end &&
	     (p->term_end || p->kind != T_TEXT || p->label || p->numbered));
	if (!boundary)
		return false;
	text_read(ts->text, ts->len, t->next, t->lineno + 1, &n);
	/* "Title\n=====": a heading by its underline. */
	if (n.rule && n.next < ts->len && t->cps <= 80 &&
	    strchr(".,;:", t->s[t->len - 1]) == NULL) {
		ts->skip = n.off;
		return true;
	}
	if (!t->cand)
		return false;
	if (n.kind != T_BLANK && !same_line(&n, t) && text_continues(ts, t, &n))
		return false; /* the first line of a wrapped paragraph */
	if (!text_peek(ts, t->next, t->lineno + 1, &j))
		return false;
	/* Saved pages often repeat a heading on the next line. */
	if (same_line(&j, t)) {
		dup = j.off;
		if (!text_peek(ts, j.next, j.lineno + 1, &j))
			return false;
	}
	if (!text_is_body(ts, &j))
		return false;
	ts->skip = dup;
	return true;
}

/* Start the next piece of body text with sep, unless the body is empty. */
static void
text_put(struct text_state *ts, enum tout kind, const char *sep)
{
	struct kb_buf *b = &ts->ss->body;

	if (b->len > 0)
		kb_buf_adds(b, sep);
	ts->last = kind;
}

static void
text_item(struct text_state *ts, const struct tline *t, bool bullet)
{
	struct kb_buf *b = &ts->ss->body;

	text_put(ts, OUT_ITEM,
		 ts->blank_before && ts->last != OUT_ITEM ? "\n\n" : "\n");
	if (bullet) {
		if (t->nested)
			kb_buf_add(b, "  ", 2);
		kb_buf_add(b, "- ", 2);
		add_squeezed(b, t->body, t->blen);
	} else {
		add_squeezed(b, t->s, t->len);
	}
}

static bool
text_listish(const struct tline *t)
{
	return t->kind == T_TEXT && t->cps <= 100 && !t->colon_end;
}

/*
 * Is t an item of the list a line ending in ':' announced?  Right after
 * that line, yes; after a blank line only when a second short line
 * follows, because "Try these fixes:" is often followed by a heading.
 */
static bool
text_colon_item(const struct text_state *ts, const struct tline *t)
{
	struct tline n;

	if (ts->col == COL_NONE || !text_listish(t))
		return false;
	if (ts->col == COL_LIST || !ts->col_blank)
		return true;
	if (t->next >= ts->len)
		return false;
	text_read(ts->text, ts->len, t->next, t->lineno + 1, &n);
	return text_listish(&n);
}

/* Put one line with text into the article. */
static void
text_line(struct text_state *ts, const struct tline *t)
{
	struct kb_buf *b = &ts->ss->body;
	const struct tline *p = &ts->prev;
	char *s;

	if (t->kind == T_BULLET || ts->pending_bullet) {
		text_item(ts, t, true);
		ts->pending_bullet = false;
		if (ts->col != COL_NONE)
			ts->col = COL_LIST;
		return;
	}
	if (text_colon_item(ts, t)) {
		ts->col = COL_LIST;
		text_item(ts, t, !t->numbered);
		return;
	}
	ts->col = COL_NONE;
	if (!sect_full(ts->ss) && text_heading(ts, t)) {
		s = squeeze_dup(t->s, t->len);
		sect_open(ts->ss, s, t->lineno);
		free(s);
		ts->last = OUT_NONE;
		return;
	}
	if (t->kind == T_TABLE) {
		text_put(ts, OUT_LINE, ts->blank_before ? "\n\n" : "\n");
		add_row(b, t->s, t->len, t->delim);
		return;
	}
	if (t->numbered) {
		text_item(ts, t, false);
	} else if (t->label) {
		text_put(ts, OUT_LINE, ts->blank_before ? "\n\n" : "\n");
		add_squeezed(b, t->s, t->len);
	} else if (!ts->blank_before &&
		   (ts->last == OUT_PARA || ts->last == OUT_ITEM ||
		    (ts->last == OUT_LINE && p->label)) &&
		   text_continues(ts, p, t)) {
		/* A wrapped line: rejoin it to its paragraph or item. */
		text_put(ts, ts->last, " ");
		add_squeezed(b, t->s, t->len);
	} else {
		text_put(ts, OUT_PARA,
			 ts->blank_before ||
				 (ts->last == OUT_PARA && p->term_end)
			     ? "\n\n"
			     : "\n");
		add_squeezed(b, t->s, t->len);
	}
	if (t->colon_end) {
		ts->col = COL_EXPECT;
		ts->col_blank = false;
	}
}

/*
 * The wrap width: the 90th percentile of line lengths, at least 60.  A
 * percentile, so that one long URL does not make every wrapped line look
 * deliberately short.  Nobody wraps text wider than 100 columns, so a
 * wider percentile means the text is not wrapped at all (a saved page with
 * one paragraph a line) and every line break is deliberate.
 */
static size_t
text_width(const char *text, size_t len)
{
	size_t hist[257], total = 0, seen = 0, off = 0, i;
	struct tline t;

	memset(hist, 0, sizeof(hist));
	while (off < len) {
		text_read(text, len, off, 1, &t);
		off = t.next;
		if (t.kind == T_BLANK)
			continue;
		hist[t.cps < 256 ? t.cps : 256]++;
		total++;
	}
	for (i = 0; i < 256; i++) {
		seen += hist[i];
		if (seen * 10 >= total * 9)
			break;
	}
	if (i > 100)
		return SIZE_MAX / 4;
	return i < 60 ? 60 : i;
}

static void
parse_text(struct kb_article *a, struct sections *ss, const char *text,
	   size_t len)
{
	struct text_state ts;
	struct tline t;
	size_t off = 0;
	int lineno = 1;
	char *s;

	memset(&ts, 0, sizeof(ts));
	ts.text = text;
	ts.len = len;
	ts.ss = ss;
	ts.skip = SIZE_MAX;
	ts.width = text_width(text, len);

	/* The title is the first line with text in it. */
	if (!text_peek(&ts, 0, 1, &t))
		return;
	s = squeeze_dup(t.body, t.blen);
	if (t.cps > 150) {
		/* A paragraph, not a title: name the article by its start. */
		clip_utf8(s, 80);
		a->title = kb_xasprintf("%s\xE2\x80\xA6", s);
		free(s);
		off = t.off;
		lineno = t.lineno;
	} else {
		a->title = s;
		ts.prev = t;
		ts.have_prev = true;
		off = t.next;
		lineno = t.lineno + 1;
		if (text_peek(&ts, off, lineno, &t) && same_line(&t, &ts.prev))
			ts.skip = t.off;
	}

	for (; off < len; off = t.next) {
		text_read(text, len, off, lineno, &t);
		if (lineno < INT_MAX)
			lineno++;
		if (off == ts.skip) {
			ts.skip = SIZE_MAX;
			continue;
		}
		if (t.kind == T_BLANK) {
			ts.blank_before = true;
			if (ts.col == COL_EXPECT && !ts.col_blank)
				ts.col_blank = true;
			else
				ts.col = COL_NONE;
			continue;
		}
		if (t.kind == T_MARK) {
			ts.pending_bullet = true;
			continue;
		}
		text_line(&ts, &t);
		ts.prev = t;
		ts.have_prev = true;
		ts.blank_before = false;
	}
}

/* ---------------------------------------------------------------------
 * HTML, through libxml2's forgiving HTML parser.
 */

static const char *
html_name(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->name != NULL
		   ? (const char *)n->name
		   : "";
}

static bool
html_is(const xmlNode *n, const char *name)
{
	return strcmp(html_name(n), name) == 0;
}

static bool
html_attr_is(xmlNode *n, const char *attr, const char *value)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	bool r;

	if (v == NULL)
		return false;
	r = value == NULL || strcasecmp((const char *)v, value) == 0;
	xmlFree(v);
	return r;
}

enum html_kind {
	H_INLINE = 0,
	H_DROP,	  /* page furniture and machinery, never article text */
	H_HEADER, /* dropped unless it is an article's own header */
	H_LINE,	  /* starts a new line */
	H_PARA,	  /* starts a new paragraph */
};

/* Sorted by name for bsearch. */
static const struct html_tag {
	const char *name;
	enum html_kind kind;
} html_tags[] = {
    {"address", H_PARA},    {"article", H_LINE},  {"aside", H_DROP},
    {"blockquote", H_PARA}, {"body", H_LINE},	  {"br", H_LINE},
    {"button", H_DROP},	    {"caption", H_LINE},  {"center", H_LINE},
    {"dd", H_LINE},	    {"details", H_PARA},  {"div", H_LINE},
    {"dl", H_PARA},	    {"dt", H_LINE},	  {"fieldset", H_LINE},
    {"figcaption", H_LINE}, {"figure", H_PARA},	  {"footer", H_DROP},
    {"form", H_DROP},	    {"h1", H_PARA},	  {"h2", H_PARA},
    {"h3", H_PARA},	    {"h4", H_PARA},	  {"h5", H_PARA},
    {"h6", H_PARA},	    {"head", H_DROP},	  {"header", H_HEADER},
    {"hr", H_PARA},	    {"html", H_LINE},	  {"iframe", H_DROP},
    {"legend", H_LINE},	    {"li", H_LINE},	  {"main", H_LINE},
    {"nav", H_DROP},	    {"noscript", H_DROP}, {"object", H_DROP},
    {"ol", H_PARA},	    {"p", H_PARA},	  {"pre", H_PARA},
    {"script", H_DROP},	    {"section", H_LINE},  {"select", H_DROP},
    {"style", H_DROP},	    {"summary", H_LINE},  {"svg", H_DROP},
    {"table", H_PARA},	    {"tbody", H_LINE},	  {"template", H_DROP},
    {"tfoot", H_LINE},	    {"thead", H_LINE},	  {"tr", H_LINE},
    {"ul", H_PARA},
};

static int
html_tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_tag *)elem)->name);
}

static enum html_kind
html_kind(const xmlNode *n)
{
	const struct html_tag *t;

	if (n->type != XML_ELEMENT_NODE || n->name == NULL)
		return H_INLINE;
	t = bsearch(n->name, html_tags, sizeof(html_tags) / sizeof(*html_tags),
		    sizeof(*html_tags), html_tag_cmp);
	return t != NULL ? t->kind : H_INLINE;
}

/* Is n (with everything in it) left out of the article's text? */
static bool
html_dropped(xmlNode *n)
{
	enum html_kind kind;
	xmlNode *p;
	int up;

	if (n->type != XML_ELEMENT_NODE)
		return n->type != XML_TEXT_NODE &&
		       n->type != XML_CDATA_SECTION_NODE &&
		       n->type != XML_ENTITY_REF_NODE;
	kind = html_kind(n);
	if (kind == H_DROP)
		return true;
	/* A site's banner goes; an article's own header holds its h1. */
	if (kind == H_HEADER) {
		for (p = n->parent, up = 0; p != NULL && up < 64;
		     p = p->parent, up++)
			if (html_is(p, "article") || html_is(p, "main"))
				return false;
		return true;
	}
	return n->properties != NULL &&
	       (html_attr_is(n, "role", "navigation") ||
		html_attr_is(n, "hidden", NULL) ||
		html_attr_is(n, "aria-hidden", "true"));
}

typedef bool (*html_enter_fn)(xmlNode *n, void *ctx);
typedef void (*html_leave_fn)(xmlNode *n, void *ctx);

/*
 * Walk top's subtree without recursion, so that no nesting depth in the
 * input can exhaust the stack.  enter returns whether to descend; leave
 * is called for the nodes descended into.
 */
static void
html_walk(xmlNode *top, html_enter_fn enter, html_leave_fn leave, void *ctx)
{
	xmlNode *n = top->children;

	while (n != NULL) {
		if (enter(n, ctx)) {
			if (n->children != NULL) {
				n = n->children;
				continue;
			}
			if (leave != NULL)
				leave(n, ctx);
		}
		while (n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == top)
				return;
			if (leave != NULL)
				leave(n, ctx);
		}
		n = n->next;
	}
}

static bool
collect_enter(xmlNode *n, void *ctx)
{
	struct kb_buf *b = ctx;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			kb_buf_adds(b, (const char *)n->content);
		return false;
	}
	if (html_is(n, "br"))
		kb_buf_addc(b, ' ');
	return !html_dropped(n);
}

/* The visible text of n, squeezed to one line. */
static char *
html_text(xmlNode *n)
{
	struct kb_buf b;
	char *s;

	kb_buf_init(&b);
	html_walk(n, collect_enter, NULL, &b);
	s = squeeze_dup(b.data != NULL ? b.data : "", b.len);
	kb_buf_free(&b);
	return s;
}

static int
html_heading_level(const xmlNode *n)
{
	const char *name = html_name(n);

	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' &&
	    name[2] == '\0')
		return name[1] - '0';
	return 0;
}

/* What a first pass finds: the title, whether h2/h3 exist, keywords. */
struct html_scan {
	struct kb_article *a;
	xmlNode *h1;
	char *h1_text;
	char *title;
	bool h23;
};

static bool
scan_enter(xmlNode *n, void *ctx)
{
	struct html_scan *sc = ctx;
	int level = html_heading_level(n);
	xmlChar *content;
	char *s;

	if (n->type != XML_ELEMENT_NODE)
		return false;
	if (html_is(n, "head"))
		return true; /* for <title> and <meta> */
	if (html_is(n, "title")) {
		if (sc->title == NULL)
			sc->title = html_text(n);
		return false;
	}
	if (html_is(n, "meta")) {
		content = xmlGetProp(n, (const xmlChar *)"content");
		if (content == NULL)
			return false;
		if (html_attr_is(n, "name", "keywords"))
			add_comma_list(&sc->a->fm_tags, (const char *)content,
				       strlen((const char *)content));
		else if (html_attr_is(n, "name", "description") &&
			 sc->a->summary == NULL)
			sc->a->summary =
			    squeeze_dup((const char *)content,
					strlen((const char *)content));
		xmlFree(content);
		return false;
	}
	if (html_dropped(n))
		return false;
	if (level >= 1 && level <= 3) {
		s = html_text(n);
		if (s[0] != '\0' && level == 1 && sc->h1 == NULL) {
			sc->h1 = n;
			sc->h1_text = s;
			return false;
		}
		if (s[0] != '\0' && level > 1)
			sc->h23 = true;
		free(s);
		return false;
	}
	return true;
}

struct html_out {
	struct sections *ss;
	struct kb_buf *b;
	xmlNode *title_h1; /* the h1 that is only the title, or NULL */
	int brk;	   /* pending break: 1 newline, 2 blank line */
	bool space;	   /* whitespace seen since the last word */
	bool cell_sep;	   /* a " | " is due before the next text */
	char marker[64];   /* a list item's "- " waiting for its text */
	bool marker_pending;
	long *counters; /* per open list: next number, -1 bullets */
	size_t ncounters;
	int depth; /* open lists */
	int rows;  /* open table rows: breaks inside become spaces */
	int pre;   /* open <pre>: whitespace is kept */
};

static void
hout_break(struct html_out *h, int level)
{
	if (h->rows > 0) {
		h->space = true;
		return;
	}
	if (level > h->brk)
		h->brk = level;
}

static bool
hout_at_line_start(const struct html_out *h)
{
	return h->b->len == 0 || h->b->data[h->b->len - 1] == '\n';
}

/* Settle pending breaks, markers and spaces before visible text. */
static void
hout_flush(struct html_out *h)
{
	if (h->brk > 0) {
		buf_sep(h->b, h->brk);
		h->brk = 0;
		h->space = false;
	}
	if (h->marker_pending) {
		if (!hout_at_line_start(h))
			buf_sep(h->b, 1);
		kb_buf_adds(h->b, h->marker);
		h->marker_pending = false;
		h->space = false;
	}
	if (h->cell_sep) {
		if (!hout_at_line_start(h))
			kb_buf_add(h->b, " | ", 3);
		h->cell_sep = false;
		h->space = false;
	}
	if (h->space && !hout_at_line_start(h) &&
	    h->b->data[h->b->len - 1] != ' ')
		kb_buf_addc(h->b, ' ');
	h->space = false;
}

static void
hout_text(struct html_out *h, const char *s)
{
	size_t n = strlen(s), i = 0, j, k;

	if (h->pre > 0) {
		if (n > 0 && !only_space(s, n)) {
			hout_flush(h);
			kb_buf_add(h->b, s, n);
		}
		return;
	}
	while (i < n) {
		k = space_at(s + i, n - i);
		if (k > 0) {
			h->space = true;
			i += k;
			continue;
		}
		for (j = i + 1; j < n && space_at(s + j, n - j) == 0; j++)
			;
		hout_flush(h);
		kb_buf_add(h->b, s + i, j - i);
		i = j;
	}
}

static void
hout_reset(struct html_out *h)
{
	h->brk = 0;
	h->space = false;
	h->cell_sep = false;
	h->marker_pending = false;
}

/* How far apart a block element sets its neighbours: 0, 1 or 2 lines. */
static int
html_block_level(const xmlNode *n)
{
	switch (html_kind(n)) {
	case H_PARA:
		return 2;
	case H_LINE:
		return 1;
	default:
		return 0;
	}
}

static bool
html_prev_cell(const xmlNode *n)
{
	for (n = n->prev; n != NULL; n = n->prev)
		if (n->type == XML_ELEMENT_NODE)
			return html_is(n, "td") || html_is(n, "th");
	return false;
}

static void
hout_item(struct html_out *h)
{
	hout_break(h, 1);
	list_marker(h->marker, sizeof(h->marker), h->depth,
		    h->depth > 0 ? &h->counters[h->depth - 1] : NULL);
	/* Items inside a table row are cells' text, not lines. */
	h->marker_pending = h->rows == 0;
}

static bool
render_enter(xmlNode *n, void *ctx)
{
	struct html_out *h = ctx;
	int level;
	char *text;
	long line;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			hout_text(h, (const char *)n->content);
		return false;
	}
	if (n->type != XML_ELEMENT_NODE || html_dropped(n))
		return false;
	level = html_heading_level(n);
	if (level >= 1 && level <= 3) {
		text = html_text(n);
		if (text[0] == '\0' || n == h->title_h1) {
			free(text);
			return false;
		}
		if (!sect_full(h->ss)) {
			line = xmlGetLineNo(n);
			sect_open(h->ss, text,
				  line > 0 && line <= INT_MAX ? (int)line : 0);
			hout_reset(h);
			free(text);
			return false;
		}
		free(text);
	}
	if (html_is(n, "br")) {
		hout_break(h, 1);
		return false;
	}
	if (html_is(n, "img"))
		return false;
	if (html_is(n, "ul") || html_is(n, "ol")) {
		if ((size_t)h->depth == h->ncounters) {
			h->ncounters = h->ncounters * 2 + 8;
			h->counters = kb_xrealloc(
			    h->counters, h->ncounters * sizeof(*h->counters));
		}
		h->counters[h->depth++] = html_is(n, "ol") ? 1 : -1;
		hout_break(h, h->depth == 1 ? 2 : 1);
		return true;
	}
	if (html_is(n, "li")) {
		hout_item(h);
		return true;
	}
	if (html_is(n, "tr")) {
		if (h->rows == 0)
			hout_break(h, 1);
		h->rows++;
		return true;
	}
	if ((html_is(n, "td") || html_is(n, "th")) && html_prev_cell(n)) {
		h->cell_sep = h->rows > 0;
		h->space = true;
		return true;
	}
	if (html_is(n, "pre"))
		h->pre++;
	if ((level = html_block_level(n)) > 0)
		hout_break(h, level);
	return true;
}

static void
render_leave(xmlNode *n, void *ctx)
{
	struct html_out *h = ctx;
	int level;

	if (html_is(n, "ul") || html_is(n, "ol")) {
		h->depth--;
		hout_break(h, h->depth == 0 ? 2 : 1);
		return;
	}
	if (html_is(n, "li")) {
		h->marker_pending = false;
		hout_break(h, 1);
		return;
	}
	if (html_is(n, "tr")) {
		h->rows--;
		h->cell_sep = false;
		if (h->rows == 0)
			hout_break(h, 1);
		return;
	}
	if (html_is(n, "pre"))
		h->pre--;
	if ((level = html_block_level(n)) > 0)
		hout_break(h, level);
}

static int
parse_html(struct kb_article *a, struct sections *ss, const char *name,
	   const char *text, size_t len, struct kb_error *err)
{
	struct html_scan sc;
	struct html_out h;
	htmlDocPtr doc;
	size_t i, tags;

	for (i = 0, tags = 0; i < len; i++)
		tags += text[i] == '<';
	if (len > INT_MAX || tags > MAX_HTML_TAGS)
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "%s: too much HTML markup to parse safely",
				    name);
	/*
	 * The text is UTF-8 by now, whatever the page's <meta charset> said,
	 * hence IGNORE_ENC.  BIG_LINES keeps line numbers past 65535.
	 */
	doc = htmlReadMemory(text, (int)len, NULL, "UTF-8",
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
				 HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
				 HTML_PARSE_IGNORE_ENC | XML_PARSE_BIG_LINES |
				 XML_PARSE_HUGE);
	if (doc == NULL)
		return kb_error_set(err, KB_ERR_PARSE, 0,
				    "%s: cannot parse the HTML", name);
	memset(&sc, 0, sizeof(sc));
	sc.a = a;
	html_walk((xmlNode *)doc, scan_enter, NULL, &sc);
	if (sc.h1_text != NULL) {
		a->title = sc.h1_text;
		sc.h1_text = NULL;
	} else if (sc.title != NULL && sc.title[0] != '\0') {
		a->title = sc.title;
		sc.title = NULL;
	}
	if (a->title != NULL)
		clip_utf8(a->title, MAX_TITLE);

	memset(&h, 0, sizeof(h));
	h.ss = ss;
	h.b = &ss->body;
	/* The title's h1 opens a section only when nothing else would. */
	h.title_h1 = sc.h23 ? sc.h1 : NULL;
	html_walk((xmlNode *)doc, render_enter, render_leave, &h);
	free(h.counters);
	free(sc.h1_text);
	free(sc.title);
	xmlFreeDoc(doc);
	return KB_OK;
}

/* ---------------------------------------------------------------------
 * The public interface.
 */

/*
 * NUL bytes in data that is not UTF-8 mean an image, an archive or a
 * program saved under an article's name: read as Latin-1 it would index
 * noise.  UTF-16 with a byte-order mark is text, and so is UTF-8 with a
 * stray NUL (dropped by kb_text_clean).
 */
static bool
looks_binary(const char *data, size_t len)
{
	const unsigned char *u = (const unsigned char *)data;

	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) ||
			 (u[0] == 0xFE && u[1] == 0xFF)))
		return false;
	return memchr(data, '\0', len) != NULL && !kb_utf8_valid(data, len);
}

enum kb_format
kb_article_format_of(const char *path)
{
	const char *base, *dot;

	if (path == NULL)
		return KB_FORMAT_UNKNOWN;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return KB_FORMAT_UNKNOWN;
	dot++;
	if (strcasecmp(dot, "md") == 0 || strcasecmp(dot, "markdown") == 0)
		return KB_FORMAT_MARKDOWN;
	if (strcasecmp(dot, "txt") == 0)
		return KB_FORMAT_TEXT;
	if (strcasecmp(dot, "html") == 0 || strcasecmp(dot, "htm") == 0)
		return KB_FORMAT_HTML;
	return KB_FORMAT_UNKNOWN;
}

int
kb_article_parse(enum kb_format format, const char *name, const char *data,
		 size_t len, struct kb_article **out, struct kb_error *err)
{
	struct kb_article *a = NULL;
	struct sections ss;
	const char *who = name != NULL ? name : "(input)";
	char *text = NULL;
	size_t tlen;
	int rc;

	kb_buf_init(&ss.body);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || (data == NULL && len > 0)) {
		rc = kb_error_set(err, KB_ERR_ARG, 0,
				  "%s: kb_article_parse: no input or output",
				  who);
		goto out;
	}
	if (format != KB_FORMAT_MARKDOWN && format != KB_FORMAT_TEXT &&
	    format != KB_FORMAT_HTML) {
		rc = kb_error_set(err, KB_ERR_ARG, 0,
				  "%s: not a Markdown, text or HTML file", who);
		goto out;
	}
	if (data != NULL && looks_binary(data, len)) {
		rc = kb_error_set(err, KB_ERR_PARSE, 0,
				  "%s: binary data, not text (or UTF-16 "
				  "without a byte-order mark), skipped",
				  who);
		goto out;
	}
	text = kb_text_clean(data != NULL ? data : "", len);
	tlen = strlen(text);
	if (only_space(text, tlen)) {
		rc = kb_error_set(err, KB_ERR_PARSE, 0, "%s: empty file", who);
		goto out;
	}
	a = kb_xcalloc(1, sizeof(*a));
	a->format = format;
	kb_strv_init(&a->fm_models);
	kb_strv_init(&a->fm_symptoms);
	kb_strv_init(&a->fm_tags);
	sect_init(&ss, a);
	rc = KB_OK;
	if (format == KB_FORMAT_MARKDOWN)
		rc = parse_markdown(a, &ss, who, text, tlen, err);
	else if (format == KB_FORMAT_TEXT)
		parse_text(a, &ss, text, tlen);
	else
		rc = parse_html(a, &ss, who, text, tlen, err);
	sect_close(&ss);
	if (rc != KB_OK)
		goto out;
	rc = finish_sections(a, who, err);
	if (rc != KB_OK)
		goto out;
	if (a->title == NULL)
		a->title = title_from_name(name);
	clip_utf8(a->title, MAX_TITLE);
	*out = a;
	a = NULL;
out:
	kb_buf_free(&ss.body);
	kb_article_free(a);
	free(text);
	return rc;
}

void
kb_article_free(struct kb_article *a)
{
	size_t i;

	if (a == NULL)
		return;
	free(a->title);
	kb_strv_free(&a->fm_models);
	kb_strv_free(&a->fm_symptoms);
	kb_strv_free(&a->fm_tags);
	free(a->summary);
	free(a->markdown);
	for (i = 0; i < a->nsections; i++)
		section_free(&a->sections[i]);
	free(a->sections);
	free(a);
}
