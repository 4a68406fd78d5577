/* db.h - the index file: schema, opening it read-only, reading articles back. */
#ifndef KB_DB_H
#define KB_DB_H

#include <stdint.h>

#include "error.h"
#include "taxonomy.h"
#include "util.h"

/* Bumped whenever the schema changes; kbindex rebuilds older indexes. */
#define KB_SCHEMA_VERSION 8

/* An open, read-only index.  One per thread. */
struct kb_db;

/*
 * Open the index at path read-only.  KB_ERR_MISSING when there is no file,
 * KB_ERR_DB when it is not a kbsearch index (the message says which).
 */
int kb_db_open(const char *path, struct kb_db **out, struct kb_error *err);
void kb_db_close(struct kb_db *db);
/*
 * For a process that opens an index, searches a few times and exits (the
 * kbsearch command): call before anything else uses SQLite.  Indexes
 * opened after it read their pages into a cache instead of mapping the
 * file, which costs such a process less (db.c says why).  A server keeps
 * the default.
 */
void kb_db_one_shot(void);
/*
 * For a process that only builds indexes (kbindex): SQLite keeps no
 * allocation statistics, which cost a global mutex on every allocation.
 * Call before anything else uses SQLite.
 */
void kb_db_builder(void);

/*
 * Bound the time of every query on this connection: a statement still
 * running ms milliseconds after kb_db_deadline_start is interrupted and
 * the search fails with KB_ERR_TIMEOUT.  0 turns the bound off.
 */
void kb_db_set_timeout(struct kb_db *db, double ms);
void kb_db_deadline_start(struct kb_db *db);
/*
 * End the bound kb_db_deadline_start began, so later statements on the
 * connection (another request's reads) are not stopped by an old deadline.
 */
void kb_db_deadline_stop(struct kb_db *db);

/* The taxonomy the index was built with (borrowed; never NULL). */
const struct kb_taxonomy *kb_db_taxonomy(const struct kb_db *db);

struct kb_db_stats {
	int64_t articles;
	int64_t sections;
	int64_t leds;
	char built_at[32]; /* ISO 8601 UTC, "" when unknown */
};
int kb_db_stats(struct kb_db *db, struct kb_db_stats *st,
		struct kb_error *err);

/* One section as stored. */
struct kb_db_section {
	int64_t id;
	char *heading;
	char *anchor;
	char *body;
	struct kb_strv models;
	struct kb_strv symptoms;
};

struct kb_db_led {
	int64_t article; /* article id */
	int64_t section; /* section id */
	char *model;	 /* NULL when generic */
	char *color;
	char *pattern;
	char *meaning;
	char *heading; /* heading of the source section */
	char *anchor;
	char *path;    /* the article's indexed file */
};

/* An article as stored, with its sections and LED facts. */
struct kb_db_article {
	int64_t id;
	char *path;
	char *format;
	char *title;
	char *summary; /* may be NULL */
	char *markdown; /* may be NULL */
	struct kb_strv models;
	struct kb_strv symptoms;
	struct kb_db_section *sections;
	size_t nsections;
	struct kb_db_led *leds;
	size_t nleds;
};

/*
 * Look an article up by numeric id or by indexed path.  KB_ERR_MISSING
 * when there is no such article.
 */
int kb_db_article(struct kb_db *db, const char *which,
		  struct kb_db_article **out, struct kb_error *err);
void kb_db_article_free(struct kb_db_article *a);

/* Every LED fact (model may be NULL: all models). */
int kb_db_leds(struct kb_db *db, const char *model, struct kb_db_led **out,
	       size_t *n, struct kb_error *err);
void kb_db_leds_free(struct kb_db_led *v, size_t n);

/* Tag counts over the whole index: value + number of sections. */
struct kb_count {
	char *value;
	int64_t count;
};
int kb_db_tag_counts(struct kb_db *db, int kind, struct kb_count **out,
		     size_t *n, struct kb_error *err);
void kb_counts_free(struct kb_count *v, size_t n);

/* Tag kinds in the index. */
#define KB_TAG_MODEL 1
#define KB_TAG_SYMPTOM 2
/* A symptom of the section's article (as a whole), on every section. */
#define KB_TAG_ARTICLE_SYMPTOM 3
/* A symptom the article's title names, on every section. */
#define KB_TAG_TITLE_SYMPTOM 4
/*
 * An LED state the section states a meaning of, "colour GS pattern"
 * (taxonomy ids): only in the section's features (kbx_feat), where
 * re-ranking reads it with the section's words.
 */
#define KB_TAG_LED 5

#endif
