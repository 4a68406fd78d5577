/* stats.c - query files, timers and latency percentiles for the bench tools. */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double
bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
add_class(struct bench_queries *q, const char *cls)
{
	char **nv;
	size_t i;

	for (i = 0; i < q->nclasses; i++)
		if (strcmp(q->classes[i], cls) == 0)
			return 0;
	nv = realloc(q->classes, (q->nclasses + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	q->classes = nv;
	q->classes[q->nclasses] = strdup(cls);
	if (q->classes[q->nclasses] == NULL)
		return -1;
	q->nclasses++;
	return 0;
}

int
bench_queries_load(const char *path, struct bench_queries *q)
{
	FILE *fp;
	char *line = NULL, *tab;
	size_t cap = 0, alloc = 0, lineno = 0;
	ssize_t len;
	int rc = -1;

	memset(q, 0, sizeof(*q));
	fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (tab == NULL) {
			fprintf(stderr, "%s:%zu: expected class<TAB>query\n",
				path, lineno);
			goto out;
		}
		*tab = '\0';
		if (q->n == alloc) {
			struct bench_query *nv;

			alloc = alloc ? alloc * 2 : 128;
			nv = realloc(q->v, alloc * sizeof(*nv));
			if (nv == NULL)
				goto nomem;
			q->v = nv;
		}
		q->v[q->n].cls = strdup(line);
		q->v[q->n].text = strdup(tab + 1);
		if (q->v[q->n].cls == NULL || q->v[q->n].text == NULL)
			goto nomem;
		q->n++;
		if (add_class(q, line) != 0)
			goto nomem;
	}
	if (q->n == 0) {
		fprintf(stderr, "%s: no queries\n", path);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	fprintf(stderr, "%s: out of memory\n", path);
out:
	free(line);
	fclose(fp);
	if (rc != 0)
		bench_queries_free(q);
	return rc;
}

void
bench_queries_free(struct bench_queries *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free(q->v[i].cls);
		free(q->v[i].text);
	}
	for (i = 0; i < q->nclasses; i++)
		free(q->classes[i]);
	free(q->v);
	free(q->classes);
	memset(q, 0, sizeof(*q));
}

int
bench_samples_init(struct bench_samples *s, size_t nqueries, size_t reps)
{
	s->ms = calloc(nqueries * reps, sizeof(*s->ms));
	s->empty = calloc(nqueries, sizeof(*s->empty));
	s->nqueries = nqueries;
	s->reps = reps;
	if (s->ms == NULL || s->empty == NULL) {
		bench_samples_free(s);
		return -1;
	}
	return 0;
}

void
bench_samples_free(struct bench_samples *s)
{
	free(s->ms);
	free(s->empty);
	s->ms = NULL;
	s->empty = NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static void
print_class(const struct bench_samples *s, const struct bench_queries *q,
	    const char *system, const char *cls, double *buf)
{
	size_t i, r, n = 0, nq = 0, empty = 0;
	double sum = 0, p50, p95, p99;

	for (i = 0; i < q->n; i++) {
		if (cls != NULL && strcmp(q->v[i].cls, cls) != 0)
			continue;
		nq++;
		empty += s->empty[i] != 0;
		for (r = 0; r < s->reps; r++) {
			buf[n] = s->ms[i * s->reps + r];
			sum += buf[n++];
		}
	}
	if (n == 0)
		return;
	p50 = bench_percentile(buf, n, 50); /* sorts buf */
	p95 = bench_percentile(buf, n, 95);
	p99 = bench_percentile(buf, n, 99);
	printf("lat\t%s\t%s\t%zu\t%zu\t%zu\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n",
	       system, cls ? cls : "all", nq, n, empty, p50, p95, p99,
	       buf[n - 1], sum / (double)n);
}

/*
 * Every sample as well, a line per query (smp SYSTEM QUERY EMPTY MS,MS,...),
 * so runs taken in turns with another engine can be pooled.
 */
static void
print_raw(const struct bench_samples *s, const char *system)
{
	size_t i, r;

	for (i = 0; i < s->nqueries; i++) {
		printf("smp\t%s\t%zu\t%d\t", system, i, s->empty[i] != 0);
		for (r = 0; r < s->reps; r++)
			printf("%s%.4f", r ? "," : "", s->ms[i * s->reps + r]);
		putchar('\n');
	}
}

void
bench_samples_print(const struct bench_samples *s,
		    const struct bench_queries *q, const char *system)
{
	double *buf;
	size_t c;

	buf = malloc(s->nqueries * s->reps * sizeof(*buf));
	if (buf == NULL) {
		fprintf(stderr, "out of memory\n");
		return;
	}
	for (c = 0; c < q->nclasses; c++)
		print_class(s, q, system, q->classes[c], buf);
	print_class(s, q, system, NULL, buf);
	free(buf);
	print_raw(s, system);
	fflush(stdout);
}

int
bench_parse_count(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}
