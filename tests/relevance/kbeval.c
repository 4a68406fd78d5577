/* kbeval.c - relevance evaluation: kbsearch against plain FTS5 bm25 on judged queries. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "query.h"
#include "search.h"
#include "util.h"

#define K 10
#define MAX_JUDGED 64

struct judged {
	int64_t section;
	int grade;
};

struct qline {
	char *cls;
	char *text;
	struct judged j[MAX_JUDGED];
	size_t nj;
	int line;
};

struct metrics {
	size_t n;
	double s1, s3, mrr, ndcg;
	size_t zero;
	size_t known; /* queries with at least one word the index has */
};

enum system { SYS_KB, SYS_ALL, SYS_ANY, NSYS };

static const char *const sys_name[NSYS] = {
	"kbsearch", "fts5 bm25, every word", "fts5 bm25, any word"
};

struct thresholds {
	double s3, mrr, gain, zero;
	int set;
};

static void
usage(void)
{
	fputs("usage: kbeval [--db PATH] [--thresholds FILE] [--verbose] "
	      "QUERIES.tsv\n",
	      stderr);
}

/* The section a "path#anchor" judgement names, or -1. */
static int64_t
resolve(struct kb_db *db, const char *ref)
{
	struct kb_db_article *a = NULL;
	struct kb_error err;
	char *path = kb_xstrdup(ref), *hash = strchr(path, '#');
	int64_t id = -1;
	size_t i;

	if (hash == NULL) {
		free(path);
		return -1;
	}
	*hash++ = '\0';
	if (kb_db_article(db, path, &a, &err) == KB_OK) {
		for (i = 0; i < a->nsections; i++)
			if (strcmp(a->sections[i].anchor, hash) == 0)
				id = a->sections[i].id;
		kb_db_article_free(a);
	}
	free(path);
	return id;
}

static int
load(struct kb_db *db, const char *file, struct qline **out, size_t *n)
{
	FILE *fp = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, qcap = 0;
	ssize_t len;
	int lineno = 0, bad = 0;

	*out = NULL;
	*n = 0;
	if (fp == NULL) {
		fprintf(stderr, "kbeval: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *cls, *text, *judg, *save = NULL, *tok;
		struct qline *q;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		cls = line;
		text = strchr(cls, '\t');
		judg = text ? strchr(text + 1, '\t') : NULL;
		if (judg == NULL) {
			fprintf(stderr, "kbeval: %s:%d: expected three "
				"tab-separated fields\n", file, lineno);
			bad = 1;
			continue;
		}
		*text++ = '\0';
		*judg++ = '\0';
		if (*n == qcap) {
			qcap = qcap ? qcap * 2 : 64;
			*out = kb_xrealloc(*out, qcap * sizeof(**out));
		}
		q = &(*out)[(*n)++];
		memset(q, 0, sizeof(*q));
		q->cls = kb_xstrdup(cls);
		q->text = kb_xstrdup(text);
		q->line = lineno;
		for (tok = strtok_r(judg, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char *eq = strrchr(tok, '=');
			int64_t id;

			if (eq == NULL || q->nj == MAX_JUDGED)
				continue;
			*eq = '\0';
			id = resolve(db, tok);
			if (id < 0) {
				fprintf(stderr, "kbeval: %s:%d: no section %s "
					"in the index\n", file, lineno, tok);
				bad = 1;
				continue;
			}
			q->j[q->nj].section = id;
			q->j[q->nj].grade = (int)strtol(eq + 1, NULL, 10);
			q->nj++;
		}
	}
	free(line);
	fclose(fp);
	return bad ? -1 : 0;
}

static int
grade_of(const struct qline *q, int64_t id)
{
	size_t i;

	for (i = 0; i < q->nj; i++)
		if (q->j[i].section == id)
			return q->j[i].grade;
	return 0;
}

static int
cmp_int_desc(const void *a, const void *b)
{
	return *(const int *)b - *(const int *)a;
}

static void
score(const struct qline *q, const int64_t *ids, size_t n, struct metrics *m,
      double *rr_out)
{
	double dcg = 0, idcg = 0, rr = 0;
	int grades[MAX_JUDGED];
	size_t i;

	m->n++;
	if (n == 0)
		m->zero++;
	for (i = 0; i < n && i < K; i++) {
		int g = grade_of(q, ids[i]);

		if (g > 0 && rr == 0)
			rr = 1.0 / (double)(i + 1);
		if (g > 0 && i < 1)
			m->s1 += 1;
		dcg += (pow(2, g) - 1) / log2((double)i + 2);
	}
	for (i = 0; i < n && i < 3; i++)
		if (grade_of(q, ids[i]) > 0) {
			m->s3 += 1;
			break;
		}
	for (i = 0; i < q->nj; i++)
		grades[i] = q->j[i].grade;
	qsort(grades, q->nj, sizeof(grades[0]), cmp_int_desc);
	for (i = 0; i < q->nj && i < K; i++)
		idcg += (pow(2, grades[i]) - 1) / log2((double)i + 2);
	m->mrr += rr;
	m->ndcg += idcg > 0 ? dcg / idcg : 0;
	if (rr_out)
		*rr_out = rr;
}

static void
print_row(const char *name, const struct metrics *m)
{
	double n = m->n ? (double)m->n : 1.0;

	printf("| %-24s | %5zu | %9.3f | %9.3f | %6.3f | %7.3f | %9.3f |\n",
	       name, m->n, m->s1 / n, m->s3 / n, m->mrr / n, m->ndcg / n,
	       (double)m->zero / n);
}

static void
header(const char *first)
{
	printf("| %-24s | %5s | %9s | %9s | %6s | %7s | %9s |\n", first,
	       "n", "success@1", "success@3", "MRR@10", "nDCG@10",
	       "zero-rate");
	printf("|--------------------------|-------|-----------|-----------|"
	       "--------|---------|-----------|\n");
}

static int
read_thresholds(const char *file, struct thresholds *t)
{
	FILE *fp = fopen(file, "r");
	char line[256], key[64];
	double v;

	if (fp == NULL) {
		fprintf(stderr, "kbeval: %s: %s\n", file, strerror(errno));
		return -1;
	}
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || sscanf(line, "%63s %lf", key, &v) != 2)
			continue;
		if (!strcmp(key, "success@3"))
			t->s3 = v;
		else if (!strcmp(key, "mrr@10"))
			t->mrr = v;
		else if (!strcmp(key, "mrr_gain_over_bm25"))
			t->gain = v;
		else if (!strcmp(key, "zero_rate_max"))
			t->zero = v;
	}
	fclose(fp);
	t->set = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "thresholds", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct metrics m[NSYS], *cm = NULL;
	struct thresholds th = { 0 };
	struct qline *q = NULL;
	struct kb_db *db = NULL;
	struct kb_error err;
	const char *dbpath = "kb.db";
	char **classes = NULL;
	size_t nq = 0, ncls = 0, i, k, s;
	int c, verbose = 0, status = 0;

	while ((c = getopt_long(argc, argv, "d:t:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 't':
			if (read_thresholds(optarg, &th) != 0)
				return 2;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage();
		return 2;
	}
	if (kb_db_open(dbpath, &db, &err) != KB_OK) {
		fprintf(stderr, "kbeval: %s\n", err.msg);
		return 2;
	}
	if (load(db, argv[optind], &q, &nq) != 0) {
		status = 2;
		goto out;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < nq; i++) {
		for (k = 0; k < ncls; k++)
			if (!strcmp(classes[k], q[i].cls))
				break;
		if (k == ncls) {
			classes = kb_xrealloc(classes,
					      (ncls + 1) * sizeof(*classes));
			cm = kb_xrealloc(cm, (ncls + 1) * sizeof(*cm));
			memset(&cm[ncls], 0, sizeof(*cm));
			classes[ncls++] = q[i].cls;
		}
	}
	for (i = 0; i < nq; i++) {
		struct kb_search_opts o = { q[i].text, NULL, NULL, K, 0 };
		struct kb_result *r = NULL;
		int64_t ids[K];
		size_t n = 0;
		double rr = 0;

		if (kb_search(db, &o, &r, &err) != KB_OK) {
			fprintf(stderr, "kbeval: line %d: %s\n", q[i].line,
				err.msg);
			status = 2;
			goto out;
		}
		for (n = 0; n < r->nhits; n++)
			ids[n] = r->hits[n].id;
		score(&q[i], ids, n, &m[SYS_KB], &rr);
		for (k = 0; k < ncls; k++)
			if (!strcmp(classes[k], q[i].cls))
				score(&q[i], ids, n, &cm[k], NULL);
		if (verbose && rr < 1.0) {
			printf("rr=%.2f [%s] %.70s\n", rr, q[i].cls,
			       q[i].text);
			for (n = 0; n < r->nhits && n < 3; n++)
				printf("    %d %s#%s\n",
				       grade_of(&q[i], r->hits[n].id),
				       r->hits[n].path, r->hits[n].anchor);
		}
		kb_result_free(r);
		for (s = SYS_ALL; s <= SYS_ANY; s++) {
			if (kb_search_baseline(db, q[i].text,
					       s == SYS_ALL ? KB_FTS_ALL
							    : KB_FTS_ANY,
					       ids, K, &n, &err) != KB_OK) {
				fprintf(stderr, "kbeval: line %d: %s\n",
					q[i].line, err.msg);
				status = 2;
				goto out;
			}
			score(&q[i], ids, n, &m[s], NULL);
		}
	}

	printf("\n%zu judged queries, %s\n\n", nq, argv[optind]);
	header("system");
	for (s = 0; s < NSYS; s++)
		print_row(sys_name[s], &m[s]);
	printf("\nkbsearch by query class:\n\n");
	header("class");
	for (k = 0; k < ncls; k++)
		print_row(classes[k], &cm[k]);
	{
		double n = nq ? (double)nq : 1.0;
		double best_base = m[SYS_ALL].mrr > m[SYS_ANY].mrr
					   ? m[SYS_ALL].mrr
					   : m[SYS_ANY].mrr;
		double gain = (m[SYS_KB].mrr - best_base) / n;

		printf("\nMRR@10 gain over the better plain bm25: %+.3f\n", gain);
		if (th.set) {
			struct {
				const char *what;
				double got, want;
				int above;
			} chk[] = {
				{ "success@3", m[SYS_KB].s3 / n, th.s3, 1 },
				{ "MRR@10", m[SYS_KB].mrr / n, th.mrr, 1 },
				{ "MRR@10 gain over bm25", gain, th.gain, 1 },
				{ "zero-result rate",
				  (double)m[SYS_KB].zero / n, th.zero, 0 },
			};

			for (k = 0; k < sizeof(chk) / sizeof(chk[0]); k++) {
				int ok = chk[k].above
						 ? chk[k].got >= chk[k].want
						 : chk[k].got <= chk[k].want;

				printf("threshold %-22s %.3f %s %.3f: %s\n",
				       chk[k].what, chk[k].got,
				       chk[k].above ? ">=" : "<=",
				       chk[k].want, ok ? "ok" : "FAILED");
				if (!ok)
					status = 1;
			}
		}
	}
out:
	for (i = 0; i < nq; i++) {
		free(q[i].cls);
		free(q[i].text);
	}
	free(q);
	free(classes);
	free(cm);
	kb_db_close(db);
	return status;
}
