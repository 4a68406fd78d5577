/* query.h - user text in, safe FTS5 expressions out. */
#ifndef KB_QUERY_H
#define KB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest query text looked at; the rest is ignored. */
#define KB_QUERY_MAX_BYTES 16384
/* Most distinct words a query keeps (the first ones typed). */
#define KB_QUERY_MAX_TERMS 32

struct kb_query_term {
	char *word;	/* normalised: lowercase, apostrophes dropped */
	bool stop;	/* a stop word */
	int64_t df;	/* sections containing it; -1 until looked up */
};

/*
 * A parsed query.  Raw user text never reaches FTS5: only the normalised
 * words, each written as a quoted string, do.
 */
struct kb_query {
	char *text; /* the text as given (truncated to the byte limit) */
	struct kb_query_term *terms;
	size_t nterms;
};

int kb_query_parse(const char *text, struct kb_query **out,
		   struct kb_error *err);
void kb_query_free(struct kb_query *q);

enum kb_fts_op {
	KB_FTS_ALL, /* every word */
	KB_FTS_ANY, /* any word */
};

/*
 * An FTS5 MATCH expression over the terms whose use[i] is true (every
 * term when use is NULL), or NULL when there are none.
 */
char *kb_query_fts(const struct kb_query *q, const bool *use,
		   enum kb_fts_op op);

/* Append one word to b as an FTS5 string literal. */
struct kb_buf;
void kb_fts_quote(struct kb_buf *b, const char *word);

#endif
