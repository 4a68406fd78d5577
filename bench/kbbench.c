/* kbbench.c - in-process kb_search latency per query class, and one-shot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "search.h"
#include "stats.h"

static void
usage(FILE *fp)
{
	fputs(
	    "usage: kbbench latency DB QUERIES.tsv [REPS]\n"
	    "       kbbench oneshot DB QUERY [RUNS]\n"
	    "\n"
	    "latency: every query once to warm up, then REPS (default 5)\n"
	    "rounds over all of them, each kb_search timed; prints per class\n"
	    "lat kbsearch CLASS QUERIES SAMPLES EMPTY P50 P95 P99 MAX MEAN "
	    "(ms)\n"
	    "oneshot: kb_db_open + kb_search + close, RUNS (default 20) times\n"
	    "after one warm-up; prints oneshot kbsearch-inproc MEDIAN MIN "
	    "MAX\n",
	    fp);
}

/* Run one search with limit 10; returns the hit count, or -1 on error. */
static long
search_once(struct kb_db *db, const char *text, double *ms)
{
	struct kb_search_opts opts;
	struct kb_result *r = NULL;
	struct kb_error err;
	double t0;
	long n;

	memset(&opts, 0, sizeof(opts));
	memset(&err, 0, sizeof(err));
	opts.query = text;
	opts.limit = 10;
	t0 = bench_now_ms();
	if (kb_search(db, &opts, &r, &err) != KB_OK) {
		*ms = bench_now_ms() - t0;
		fprintf(stderr, "kbbench: \"%.60s\": %s\n", text, err.msg);
		return -1;
	}
	*ms = bench_now_ms() - t0;
	n = (long)r->nhits;
	kb_result_free(r);
	return n;
}

static int
run_latency(const char *dbpath, const char *qpath, size_t reps)
{
	struct bench_queries q;
	struct bench_samples s;
	struct kb_db *db = NULL;
	struct kb_error err;
	size_t i, r, errors = 0;
	double ms;
	long n;
	int rc = 1;

	memset(&err, 0, sizeof(err));
	if (bench_queries_load(qpath, &q) != 0)
		return 1;
	if (bench_samples_init(&s, q.n, reps) != 0) {
		fprintf(stderr, "kbbench: out of memory\n");
		bench_queries_free(&q);
		return 1;
	}
	if (kb_db_open(dbpath, &db, &err) != KB_OK) {
		fprintf(stderr, "kbbench: %s\n", err.msg);
		goto out;
	}
	fprintf(stderr, "kbbench: %zu queries, warm-up + %zu timed rounds\n",
		q.n, reps);
	for (i = 0; i < q.n; i++) {
		n = search_once(db, q.v[i].text, &ms);
		errors += n < 0;
		s.empty[i] = n <= 0;
	}
	for (r = 0; r < reps; r++) {
		fprintf(stderr, "kbbench: round %zu/%zu\n", r + 1, reps);
		for (i = 0; i < q.n; i++) {
			n = search_once(db, q.v[i].text, &s.ms[i * reps + r]);
			errors += n < 0;
		}
	}
	bench_samples_print(&s, &q, "kbsearch");
	if (errors)
		fprintf(stderr, "kbbench: %zu searches failed\n", errors);
	rc = errors ? 1 : 0;
out:
	kb_db_close(db);
	bench_samples_free(&s);
	bench_queries_free(&q);
	return rc;
}

static int
run_oneshot(const char *dbpath, const char *text, size_t runs)
{
	struct kb_db *db;
	struct kb_error err;
	double *v, t0, ms, median;
	size_t i;
	int rc = 1;

	v = calloc(runs, sizeof(*v));
	if (v == NULL)
		return 1;
	/* Run 0 warms the page cache and is not counted. */
	for (i = 0; i <= runs; i++) {
		memset(&err, 0, sizeof(err));
		db = NULL;
		t0 = bench_now_ms();
		if (kb_db_open(dbpath, &db, &err) != KB_OK) {
			fprintf(stderr, "kbbench: %s\n", err.msg);
			goto out;
		}
		if (search_once(db, text, &ms) < 0) {
			kb_db_close(db);
			goto out;
		}
		kb_db_close(db);
		if (i > 0)
			v[i - 1] = bench_now_ms() - t0;
	}
	median = bench_percentile(v, runs, 50); /* sorts v */
	printf("oneshot\tkbsearch-inproc\t%.4f\t%.4f\t%.4f\n", median, v[0],
	       v[runs - 1]);
	rc = 0;
out:
	free(v);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count;

	if (argc < 4 || argc > 5) {
		usage(stderr);
		return 2;
	}
	if (argc == 5 && bench_parse_count(argv[4], &count) != 0) {
		fprintf(stderr, "kbbench: bad count '%s'\n", argv[4]);
		return 2;
	}
	if (strcmp(argv[1], "latency") == 0)
		return run_latency(argv[2], argv[3], argc == 5 ? count : 5);
	if (strcmp(argv[1], "oneshot") == 0)
		return run_oneshot(argv[2], argv[3], argc == 5 ? count : 20);
	usage(stderr);
	return 2;
}
