/* stats.h - query files, timers and latency percentiles for the bench tools. */
#ifndef KB_BENCH_STATS_H
#define KB_BENCH_STATS_H

#include <stddef.h>

/* One line of a queries.tsv: class<TAB>query. */
struct bench_query {
	char *cls;
	char *text;
};

struct bench_queries {
	struct bench_query *v;
	size_t n;
	char **classes; /* distinct classes, in order of first appearance */
	size_t nclasses;
};

/* Read path; returns 0, or -1 after printing why to stderr. */
int bench_queries_load(const char *path, struct bench_queries *q);
void bench_queries_free(struct bench_queries *q);

/* Milliseconds on the monotonic clock. */
double bench_now_ms(void);

/* Latency samples of one system, kept per query. */
struct bench_samples {
	double *ms; /* [query * reps + rep] */
	int *empty; /* per query: 1 when the query found nothing */
	size_t nqueries;
	size_t reps;
};

int bench_samples_init(struct bench_samples *s, size_t nqueries, size_t reps);
void bench_samples_free(struct bench_samples *s);

/*
 * Print one line per class and one for "all":
 * lat SYSTEM CLASS QUERIES SAMPLES EMPTY P50 P95 P99 MAX MEAN (ms, tabs).
 * Every timed run of every query of the class is one sample.  Then the
 * samples themselves, a line per query of the file, in its order:
 * smp SYSTEM QUERY EMPTY MS,MS,... (QUERY counts from 0; EMPTY is 1 when
 * the query found nothing).
 */
void bench_samples_print(const struct bench_samples *s,
			 const struct bench_queries *q, const char *system);

/* The p-th percentile (nearest rank) of v[0..n), which is sorted in place. */
double bench_percentile(double *v, size_t n, double p);

/* Parse a positive count argument; returns 0 or -1. */
int bench_parse_count(const char *s, size_t *out);

#endif
