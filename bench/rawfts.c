/* rawfts.c - the raw SQLite FTS5 baseline: bulk load, bm25 query latency. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "stats.h"

static void
usage(FILE *fp)
{
	fputs(
	    "usage: rawfts load DB PATH...\n"
	    "       rawfts optimize DB\n"
	    "       rawfts latency DB QUERIES.tsv [REPS]\n"
	    "       rawfts version\n"
	    "\n"
	    "load: every .md, .markdown and .txt file under PATH becomes one\n"
	    "row (title, body) of docs USING fts5(title, body,\n"
	    "tokenize='porter unicode61'), all in one transaction.\n"
	    "latency: each query as every word (\"a\" \"b\") and any word\n"
	    "(\"a\" OR \"b\"), ORDER BY bm25(docs) LIMIT 10; warm-up, then\n"
	    "REPS (default 5) timed rounds; lat lines as kbbench prints.\n",
	    fp);
}

/* Files collected by the tree walk. */
static char **files;
static size_t nfiles, afiles;

static int
wanted(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot != NULL &&
	       (strcmp(dot, ".md") == 0 || strcmp(dot, ".markdown") == 0 ||
		strcmp(dot, ".txt") == 0);
}

static int
collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_F || !wanted(path))
		return 0;
	if (nfiles == afiles) {
		char **nv;

		afiles = afiles ? afiles * 2 : 1024;
		nv = realloc(files, afiles * sizeof(*nv));
		if (nv == NULL)
			return -1;
		files = nv;
	}
	files[nfiles] = strdup(path);
	if (files[nfiles] == NULL)
		return -1;
	nfiles++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '#')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
			  (*s)[*n - 1] == '\r'))
		(*n)--;
}

/*
 * Title and body as xapian_bench.py reads them: with YAML front matter the
 * title is its title: value and the body what follows it; otherwise the
 * title is the first non-empty line and the body the whole text.
 */
static void
split_article(const char *text, size_t len, const char **title, size_t *tlen,
	      const char **body, size_t *blen)
{
	const char *p, *eol, *end = text + len;

	*title = "";
	*tlen = 0;
	*body = text;
	*blen = len;
	if (len >= 4 && strncmp(text, "---\n", 4) == 0) {
		for (p = text + 4; p < end; p = eol + 1) {
			eol = memchr(p, '\n', (size_t)(end - p));
			if (eol == NULL)
				eol = end;
			if (eol - p == 3 && strncmp(p, "---", 3) == 0) {
				*body = eol < end ? eol + 1 : end;
				*blen = (size_t)(end - *body);
				break;
			}
			if (eol - p > 6 && strncmp(p, "title:", 6) == 0) {
				*title = p + 6;
				*tlen = (size_t)(eol - p - 6);
				trim(title, tlen);
				if (*tlen >= 2 &&
				    ((*title)[0] == '"' ||
				     (*title)[0] == '\'') &&
				    (*title)[*tlen - 1] == (*title)[0]) {
					(*title)++;
					*tlen -= 2;
				}
			}
			if (eol == end)
				break;
		}
		return;
	}
	for (p = text; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		*title = p;
		*tlen = (size_t)(eol - p);
		trim(title, tlen);
		if (*tlen > 0 || eol == end)
			break;
	}
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "rawfts: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
run_load(const char *dbpath, char **paths, int npaths)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *title, *body;
	size_t i, len, tlen, blen, bytes = 0;
	char *text;
	double t0;
	int k, rc = 1;

	t0 = bench_now_ms();
	for (k = 0; k < npaths; k++) {
		if (nftw(paths[k], collect, 64, FTW_PHYS) != 0) {
			fprintf(stderr, "rawfts: %s: %s\n", paths[k],
				strerror(errno));
			return 1;
		}
	}
	qsort(files, nfiles, sizeof(*files), cmp_str);
	fprintf(stderr, "rawfts: loading %zu files into %s\n", nfiles, dbpath);
	remove(dbpath);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK) {
		fprintf(stderr, "rawfts: %s: %s\n", dbpath, sqlite3_errmsg(db));
		goto out;
	}
	/* The usual bulk-load settings; kbindex uses the same two. */
	if (exec_sql(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
			 "BEGIN;"
			 "CREATE VIRTUAL TABLE docs USING fts5(title, body, "
			 "tokenize='porter unicode61');") != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO docs(title, body) VALUES (?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "rawfts: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		text = read_file(files[i], &len);
		if (text == NULL) {
			fprintf(stderr, "rawfts: %s: %s\n", files[i],
				strerror(errno));
			goto out;
		}
		bytes += len;
		split_article(text, len, &title, &tlen, &body, &blen);
		sqlite3_bind_text(st, 1, title, (int)tlen, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, body, (int)blen, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "rawfts: %s: %s\n", files[i],
				sqlite3_errmsg(db));
			free(text);
			goto out;
		}
		sqlite3_reset(st);
		free(text);
		if ((i + 1) % 10000 == 0)
			fprintf(stderr, "rawfts: %zu/%zu\n", i + 1, nfiles);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (exec_sql(db, "COMMIT") != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK)
		rc = 1;
	if (rc == 0)
		printf("load\tarticles\t%zu\nload\tbytes\t%zu\n"
		       "load\tseconds\t%.4f\n",
		       nfiles, bytes, (bench_now_ms() - t0) / 1e3);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return rc;
}

static int
run_optimize(const char *dbpath)
{
	sqlite3 *db = NULL;
	double t0 = bench_now_ms();
	int rc = 1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "rawfts: %s: %s\n", dbpath, sqlite3_errmsg(db));
		goto out;
	}
	fprintf(stderr, "rawfts: optimize %s\n", dbpath);
	if (exec_sql(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
			 "INSERT INTO docs(docs) VALUES ('optimize');") != 0)
		goto out;
	rc = 0;
out:
	if (sqlite3_close(db) != SQLITE_OK)
		rc = 1;
	if (rc == 0)
		printf("optimize\tseconds\t%.4f\n",
		       (bench_now_ms() - t0) / 1e3);
	return rc;
}

static int
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

/*
 * The MATCH string for text: every run of letters and digits, lowercased,
 * each once, quoted, joined by sep (" " or " OR ").  Nothing of the query
 * reaches FTS5 unquoted, so no query is a syntax error.  Returns the
 * number of words; 0 leaves out empty.
 */
static size_t
build_match(const char *text, const char *sep, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)text, *w;
	size_t n = 0, len = 0, wl, k, seplen = strlen(sep);
	char word[256], needle[sizeof(word) + 2];
	int dup;

	out[0] = '\0';
	while (*p) {
		if (!is_word_byte(*p)) {
			p++;
			continue;
		}
		for (w = p; is_word_byte(*p); p++)
			;
		wl = (size_t)(p - w);
		if (wl >= sizeof(word))
			wl = sizeof(word) - 1;
		for (k = 0; k < wl; k++)
			word[k] =
			    (char)(w[k] >= 'A' && w[k] <= 'Z' ? w[k] - 'A' + 'a'
							      : w[k]);
		word[wl] = '\0';
		/*
		 * Words never hold quotes or spaces, so "word" occurs in out
		 * only where that word was quoted before.
		 */
		needle[0] = '"';
		memcpy(needle + 1, word, wl);
		needle[wl + 1] = '"';
		needle[wl + 2] = '\0';
		dup = strstr(out, needle) != NULL;
		if (dup)
			continue;
		if (len + seplen + wl + 3 > cap)
			break;
		if (n > 0) {
			memcpy(out + len, sep, seplen);
			len += seplen;
		}
		out[len++] = '"';
		memcpy(out + len, word, wl);
		len += wl;
		out[len++] = '"';
		out[len] = '\0';
		n++;
	}
	return n;
}

/* Returns the number of rows, or -1 on error. */
static long
query_once(sqlite3 *db, sqlite3_stmt *st, const char *text, const char *sep,
	   char *buf, size_t cap, double *ms)
{
	double t0 = bench_now_ms();
	long rows = 0;
	int rc;

	if (build_match(text, sep, buf, cap) == 0) {
		*ms = bench_now_ms() - t0;
		return 0;
	}
	sqlite3_bind_text(st, 1, buf, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(void)sqlite3_column_int64(st, 0);
		(void)sqlite3_column_text(st, 1);
		rows++;
	}
	sqlite3_reset(st);
	*ms = bench_now_ms() - t0;
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "rawfts: %s: %s\n", buf, sqlite3_errmsg(db));
		return -1;
	}
	return rows;
}

static int
run_latency(const char *dbpath, const char *qpath, size_t reps)
{
	static const char *const names[2] = {"raw-every", "raw-any"};
	static const char *const seps[2] = {" ", " OR "};
	struct bench_queries q;
	struct bench_samples s;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t i, r, cap = 0, errors = 0;
	char *buf = NULL;
	double ms;
	long n;
	int m, rc = 1;

	if (bench_queries_load(qpath, &q) != 0)
		return 1;
	for (i = 0; i < q.n; i++)
		if (strlen(q.v[i].text) * 5 + 16 > cap)
			cap = strlen(q.v[i].text) * 5 + 16;
	buf = malloc(cap);
	if (buf == NULL)
		goto out;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "rawfts: %s: %s\n", dbpath, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(
		db,
		"SELECT rowid, title FROM docs WHERE docs MATCH ?1"
		" ORDER BY bm25(docs) LIMIT 10",
		-1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "rawfts: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	for (m = 0; m < 2; m++) {
		if (bench_samples_init(&s, q.n, reps) != 0)
			goto out;
		fprintf(stderr,
			"rawfts: %s: %zu queries, warm-up + %zu rounds\n",
			names[m], q.n, reps);
		for (i = 0; i < q.n; i++) {
			n = query_once(db, st, q.v[i].text, seps[m], buf, cap,
				       &ms);
			errors += n < 0;
			s.empty[i] = n <= 0;
		}
		for (r = 0; r < reps; r++) {
			fprintf(stderr, "rawfts: %s round %zu/%zu\n", names[m],
				r + 1, reps);
			for (i = 0; i < q.n; i++)
				errors += query_once(db, st, q.v[i].text,
						     seps[m], buf, cap,
						     &s.ms[i * reps + r]) < 0;
		}
		bench_samples_print(&s, &q, names[m]);
		bench_samples_free(&s);
	}
	if (errors)
		fprintf(stderr, "rawfts: %zu queries failed\n", errors);
	rc = errors ? 1 : 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(buf);
	bench_queries_free(&q);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t reps = 5;

	if (argc == 2 && strcmp(argv[1], "version") == 0) {
		printf("sqlite\t%s\n", sqlite3_libversion());
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "load") == 0)
		return run_load(argv[2], argv + 3, argc - 3);
	if (argc == 3 && strcmp(argv[1], "optimize") == 0)
		return run_optimize(argv[2]);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "latency") == 0) {
		if (argc == 5 && bench_parse_count(argv[4], &reps) != 0) {
			fprintf(stderr, "rawfts: bad count '%s'\n", argv[4]);
			return 2;
		}
		return run_latency(argv[2], argv[3], reps);
	}
	usage(stderr);
	return 2;
}
