/* search.h - free text in, ranked sections out. */
#ifndef KB_SEARCH_H
#define KB_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"
#include "util.h"

#define KB_SEARCH_MAX_LIMIT 100

struct kb_search_opts {
	const char *query;
	const char *model;   /* filter: id, name or alias; NULL for none */
	const char *symptom; /* filter: id or label; NULL for none */
	size_t limit;	     /* 0 means 10; capped at KB_SEARCH_MAX_LIMIT */
	size_t offset;
};

struct kb_hit {
	int64_t id;	 /* section id */
	int64_t article; /* article id */
	char *title;	 /* article title */
	char *heading;	 /* section heading ("" for the lead-in) */
	char *anchor;
	char *snippet; /* marked with KB_HL_START / KB_HL_END */
	char *path;    /* indexed file, relative to the indexed folder */
	struct kb_strv models;
	struct kb_strv symptoms;
	double score; /* higher is better, within one relaxation level */
	int relax;    /* the relaxation level the hit was found at */
};

struct kb_result {
	char *query;
	struct kb_hit *hits;
	size_t nhits;
	size_t total; /* sections matching at the relaxation level used */
	size_t limit;
	size_t offset;
	double ms;
	/*
	 * How far the words had to be relaxed: 0 every word, 1 unknown words
	 * dropped, 2+ more words dropped, and "any" when any word sufficed.
	 */
	int relax;
	char *match; /* the last FTS5 expression used, or NULL */
	char *model;   /* resolved filters, or NULL */
	char *symptom;
};

int kb_search(struct kb_db *db, const struct kb_search_opts *opts,
	      struct kb_result **out, struct kb_error *err);
void kb_result_free(struct kb_result *r);

#endif
