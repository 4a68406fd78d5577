/* article.h - parse one file (Markdown, plain text, HTML) into an article. */
#ifndef KB_ARTICLE_H
#define KB_ARTICLE_H

#include <stddef.h>

#include "error.h"
#include "util.h"

enum kb_format {
	KB_FORMAT_UNKNOWN = 0,
	KB_FORMAT_MARKDOWN, /* .md, .markdown */
	KB_FORMAT_TEXT,	    /* .txt */
	KB_FORMAT_HTML,	    /* .html, .htm */
};

/*
 * One section: the unit a search result points at.  The text before the
 * first heading becomes a section with an empty heading (only when it has
 * text).  body is plain text: paragraphs separated by a blank line, each
 * list item on its own line starting "- ", each table row on its own line
 * with cells separated by " | ".  Inline markup is removed.
 */
struct kb_section {
	char *heading; /* "" for the lead-in section */
	char *anchor;  /* slug of heading, unique within the article */
	char *body;
	int line; /* 1-based line of the heading in the source, 0 unknown */
	/* Filled by the indexer's tagging step, empty after parsing. */
	struct kb_strv models;	 /* model display names */
	struct kb_strv symptoms; /* symptom ids */
	/* KB_COLOUR_NONE when tagging saw no word that starts a colour's
	 * name, which spares the LED extractor looking */
	int colour;
};

enum { KB_COLOUR_UNKNOWN = 0, KB_COLOUR_NONE, KB_COLOUR_MAYBE };

struct kb_article {
	enum kb_format format;
	char *title; /* never NULL; falls back to the file name */
	/* From front matter (Markdown) or <meta name="keywords"> (HTML). */
	struct kb_strv fm_models;
	struct kb_strv fm_symptoms;
	struct kb_strv fm_tags;
	char *summary; /* front matter "summary"/"description", or NULL */
	/*
	 * The Markdown source without its front matter (Markdown input only,
	 * else NULL): kept so article pages can be rendered later.
	 */
	char *markdown;
	struct kb_section *sections;
	size_t nsections;
};

/* Format from the file name's extension; KB_FORMAT_UNKNOWN otherwise. */
enum kb_format kb_article_format_of(const char *path);

/*
 * Call once before parsing on several threads at a time: it sets up the
 * HTML parser's shared tables, which would otherwise be set up by whichever
 * thread parses HTML first.
 */
void kb_article_init(void);

/*
 * Parse data[0..len) as format.  name is used in error messages and as the
 * title of last resort.  Input is cleaned with kb_text_clean first, so any
 * text is accepted; KB_ERR_PARSE is returned for input that cannot be
 * understood (broken front matter, an empty file, a file with no text,
 * binary data), with err->line set where there is a line to name.
 */
int kb_article_parse(enum kb_format format, const char *name,
		     const char *data, size_t len, struct kb_article **out,
		     struct kb_error *err);
void kb_article_free(struct kb_article *a);

#endif
