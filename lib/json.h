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

/*
 * The taxonomy's models (kind KB_TAG_MODEL: id, name, brand, aliases) or
 * symptoms (KB_TAG_SYMPTOM: id, label), each with the number of sections
 * tagged with it: what --list-models and /api/models show.  NULL (err
 * filled) when the index cannot be read.
 */
json_t *kb_json_tags(struct kb_db *db, int kind, struct kb_error *err);

#endif
