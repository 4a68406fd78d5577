/* json.h - result structs to JSON: the document kbsearch --json and the API share. */
#ifndef KB_JSON_H
#define KB_JSON_H

#include <jansson.h>

#include "db.h"
#include "search.h"

/*
 * The search document:
 * { "query", "hits": [ { "id", "article", "title", "heading", "anchor",
 *   "snippet", "path", "models", "symptoms", "score" } ],
 *   "estimatedTotalHits", "limit", "offset", "processingTimeMs",
 *   "relaxed", "filters": { "model", "symptom" } }
 * snippet is HTML-safe: text escaped, highlights as <mark>..</mark>.
 * A new reference; the caller json_decref()s it.
 */
json_t *kb_json_result(const struct kb_result *r);
json_t *kb_json_article(const struct kb_db_article *a);
json_t *kb_json_error(const char *code, const char *message);

#endif
