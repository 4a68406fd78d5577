/* html.h - the web pages kbserver renders: search (also without JavaScript), article, error. */
#ifndef KB_HTML_H
#define KB_HTML_H

#include "db.h"
#include "search.h"
#include "util.h"

/*
 * Every page is a complete HTML5 document appended to out.  All text from
 * articles, the index or the request goes through kb_html_escape (the one
 * escaping function); the only markup taken from elsewhere is a snippet
 * already made HTML-safe by kb_snippet_html.  Pages load /static/style.css
 * and /static/app.js only: no inline script or style, so the server's
 * Content-Security-Policy ("default-src 'self'") holds.
 */

/*
 * The search page.  r is NULL for the empty page (no query yet); q, model
 * and symptom are the request's values (may be NULL).  With r, results are
 * rendered on the server, so the page works without JavaScript.
 */
void kb_html_search_page(struct kb_buf *out, const char *q, const char *model,
			 const char *symptom, const struct kb_result *r);

/*
 * One article: title, models and symptoms, its LED facts, and its body.
 * Markdown articles are rendered from their Markdown by cmark with raw HTML
 * suppressed; others from their sections' text.  Every section heading is
 * an <h2> whose id is the section's anchor, so /articles/{id}#anchor lands
 * on it.  q (may be NULL) is put back in the search box.
 */
void kb_html_article_page(struct kb_buf *out, const struct kb_db_article *a,
			  const char *q);

/* A page for 404 and other errors: status line and a short message. */
void kb_html_error_page(struct kb_buf *out, int status, const char *message);

#endif
