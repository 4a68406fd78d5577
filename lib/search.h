/* search.h - free text in, understood, ranked sections and answers out. */
#ifndef KB_SEARCH_H
#define KB_SEARCH_H

#include <stdbool.h>
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
	double score; /* higher is better */
	int relax;    /* 0 when the section has every word of the query */
};

/* What the query was read as (see understand.h). */
struct kb_understanding {
	char *model; /* display name, or NULL */
	char *brand; /* brand named without a model, or NULL */
	char *color; /* LED colour id, or NULL */
	char *pattern;
	struct kb_strv symptoms; /* ids */
	struct kb_strv terms;	 /* the remaining words */
};

/* An LED fact that answers the query's LED state. */
struct kb_led_answer {
	char *model; /* NULL when it holds for any model */
	char *color;
	char *pattern;
	char *meaning;
	int64_t article;
	int64_t section;
	char *path;
	char *heading;
	char *anchor;
};

struct kb_result {
	char *query;
	struct kb_hit *hits;
	size_t nhits;
	size_t total; /* sections matching any of the query's words or tags */
	size_t limit;
	size_t offset;
	double ms;
	int relax;   /* nonzero when the best hit lacks some of the words */
	char *match; /* the FTS5 expression used, or NULL */
	char *model;   /* resolved filters, or NULL */
	char *symptom;
	struct kb_understanding understood;
	struct kb_led_answer *leds;
	size_t nleds;
	char *did_you_mean; /* the query with typos corrected, or NULL */
	struct kb_count *facet_models; /* over every match */
	size_t nfacet_models;
	struct kb_count *facet_symptoms;
	size_t nfacet_symptoms;
};

int kb_search(struct kb_db *db, const struct kb_search_opts *opts,
	      struct kb_result **out, struct kb_error *err);
void kb_result_free(struct kb_result *r);

/*
 * Plain FTS5 bm25 over the same text, for comparison (a temporary FTS5
 * table, built on the first call): every word of text (KB_FTS_ALL) or
 * any word (KB_FTS_ANY), best first.  Fills ids[0..*n) with section ids,
 * at most max.
 */
int kb_search_baseline(struct kb_db *db, const char *text, int op,
		       int64_t *ids, size_t max, size_t *n,
		       struct kb_error *err);

#endif
