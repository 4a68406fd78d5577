/* escape.h - the one place text is made safe for HTML and for terminals. */
#ifndef KB_ESCAPE_H
#define KB_ESCAPE_H

#include <stdbool.h>

#include "util.h"

/*
 * Snippets come out of the index with highlights marked by these two
 * bytes, which indexed text can never contain (kb_text_clean drops C0
 * controls); each renderer turns them into its own markup.
 */
#define KB_HL_START '\x01'
#define KB_HL_END '\x02'

/* Append s to b with & < > " ' escaped. */
void kb_html_escape(struct kb_buf *b, const char *s);
/* A marked snippet as HTML: text escaped, highlights as <mark>..</mark>. */
char *kb_snippet_html(const char *marked);
/* A marked snippet as plain text: markers removed. */
char *kb_snippet_plain(const char *marked);
/*
 * Append s to b for a terminal: control characters (C0, DEL, C1, and the
 * bidirectional overrides) removed, so article text cannot move the
 * cursor or recolour the screen; with color, highlights become bold
 * yellow ANSI sequences.
 */
void kb_term_text(struct kb_buf *b, const char *s, bool color);

#endif
