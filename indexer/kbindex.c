/* kbindex.c - files -> articles -> tagged sections -> the SQLite index. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "article.h"
#include "db.h"
#include "index.h"
#include "taxonomy.h"
#include "util.h"

/*
 * No help article is this large, and the text stored from one must stay
 * under SQLite's 64 MiB value limit (lib/db.c) after transcoding: Latin-1
 * doubles in UTF-8, UTF-16 grows by half.
 */
#define MAX_FILE_BYTES (16u * 1024 * 1024)
#define MAX_DEPTH 64

/*
 * What a run does with a path it found.  One it could not read keeps its
 * previous version in the index, like a file that fails to parse: a
 * folder that vanished or lost its permissions must not empty the index.
 */
enum file_action {
	F_INDEX,       /* read, parse, store */
	F_SKIP,	       /* a second file with the same relative path */
	F_KEEP,	       /* unreadable: keep the article at rel */
	F_KEEP_FOLDER, /* unreadable folder: keep every article under rel */
};

/*
 * A path found: 8 bytes and its relative path's, so a folder of a
 * million articles lists in ~18 MB.  The path opened is its root's
 * prefix (the folder given, with a slash) followed by the relative path.
 */
struct file {
	uint64_t rel : 40;  /* in names: as stored, relative to the folder */
	uint64_t root : 22; /* in roots: one per path given, and Linux caps
			       a command line at 6 MB, far below 2^22 paths */
	uint64_t action : 2; /* enum file_action */
};

struct files {
	struct file *v;
	size_t n, cap;
	struct kb_buf names; /* every relative path, each ending in NUL */
	char **roots;
	size_t nroots;
};

struct dirid {
	dev_t dev;
	ino_t ino;
};

static volatile sig_atomic_t interrupted;
static int quiet;
static int failures;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Every message about input goes through here: it names the file. */
static void
warnx_file(const char *path, int line, const char *msg)
{
	if (line > 0)
		fprintf(stderr, "kbindex: %s:%d: %s\n", path, line, msg);
	else
		fprintf(stderr, "kbindex: %s: %s\n", path, msg);
	failures++;
}

/* libkb's messages name the file already: put the line beside it, once. */
static void
warnx_lib(const char *path, const struct kb_error *err)
{
	size_t n = strlen(path);
	const char *msg = err->msg;

	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		msg += n + 2;
	warnx_file(path, err->line, msg);
}

static void
usage(FILE *fp)
{
	fputs("usage: kbindex [--db PATH] [--full] [--quiet] [--taxonomy FILE] "
	      "PATH...\n"
	      "\n"
	      "Index troubleshooting articles (.md, .txt, .html) found in "
	      "each PATH\n"
	      "(folders are read recursively) into an SQLite index.\n"
	      "\n"
	      "  --db PATH        index file (default $KBSEARCH_DB, else "
	      "./kb.db)\n"
	      "  --full           rebuild from scratch instead of updating\n"
	      "  --quiet          print nothing but errors\n"
	      "  --taxonomy FILE  models and symptoms (default: taxonomy.json "
	      "in or\n"
	      "                   above the first PATH, else the installed "
	      "one,\n"
	      "                   else the one stored in the index)\n"
	      "  --help, --version\n",
	      fp);
}

/*
 * jemalloc's mallctl, when kbindex is linked with it (see the Makefile);
 * weak, so a build with glibc's malloc links too.
 */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
		   size_t newlen) __attribute__((weak));

/*
 * Give back what is free now.  jemalloc keeps freed pages ten seconds
 * for reuse; the list of files outgrows its arrays by doubling, and the
 * copies it left would stay in the peak (~17 MB at a million files).
 */
static void
purge_freed(void)
{
	if (mallctl != NULL)
		mallctl("arena.4096.purge", NULL, NULL, NULL, 0); /* every arena */
}

/* A new root, whose prefix is the first n bytes of path. */
static uint32_t
add_root(struct files *fs, const char *path, size_t n)
{
	fs->roots = kb_xrealloc(fs->roots,
				(fs->nroots + 1) * sizeof(*fs->roots));
	fs->roots[fs->nroots] = kb_xstrndup(path, n);
	return (uint32_t)fs->nroots++;
}

static void
add_file(struct files *fs, uint32_t root, const char *rel,
	 enum file_action action)
{
	size_t had = fs->cap * sizeof(*fs->v) + fs->names.cap;

	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 64;
		fs->v = kb_xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	fs->v[fs->n].rel = fs->names.len;
	fs->v[fs->n].root = root;
	fs->v[fs->n].action = action;
	kb_buf_add(&fs->names, rel, strlen(rel) + 1);
	fs->n++;
	/* An array of a megabyte or more has moved: let its old pages go. */
	if (had >= (1 << 20) &&
	    fs->cap * sizeof(*fs->v) + fs->names.cap != had)
		purge_freed();
}

static const char *
file_rel(const struct files *fs, const struct file *f)
{
	return fs->names.data + f->rel;
}

/* The path to open f by, malloc'd. */
static char *
file_path(const struct files *fs, const struct file *f)
{
	return kb_xasprintf("%s%s", fs->roots[f->root], file_rel(fs, f));
}

static void
files_free(struct files *fs)
{
	size_t i;

	for (i = 0; i < fs->nroots; i++)
		free(fs->roots[i]);
	free(fs->roots);
	kb_buf_free(&fs->names);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* Why stat(path) failed, errno still set: a dangling link says so. */
static const char *
stat_error(const char *path)
{
	struct stat sb;
	int e = errno;

	if (e == ENOENT && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
		return "broken symbolic link: No such file or directory";
	return strerror(e);
}

static void
walk(struct files *fs, uint32_t root, const char *dir, const char *rel,
     struct dirid *seen, int depth)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int i;

	if (stat(dir, &sb) != 0) {
		warnx_file(dir, 0, stat_error(dir));
		add_file(fs, root, rel, F_KEEP_FOLDER);
		return;
	}
	/* A folder already on the path is a symlink loop. */
	for (i = 0; i < depth; i++) {
		if (seen[i].dev == sb.st_dev && seen[i].ino == sb.st_ino) {
			warnx_file(dir, 0, "symbolic link loop, not followed");
			return;
		}
	}
	if (depth >= MAX_DEPTH) {
		warnx_file(dir, 0, "folders nested too deeply, not read");
		add_file(fs, root, rel, F_KEEP_FOLDER);
		return;
	}
	seen[depth].dev = sb.st_dev;
	seen[depth].ino = sb.st_ino;
	d = opendir(dir);
	if (d == NULL) {
		warnx_file(dir, 0, strerror(errno));
		add_file(fs, root, rel, F_KEEP_FOLDER);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *path, *r;

		if (de->d_name[0] == '.')
			continue;
		/* Only folders and articles matter; most entries are files. */
		if (de->d_type == DT_REG &&
		    kb_article_format_of(de->d_name) == KB_FORMAT_UNKNOWN)
			continue;
		path = kb_xasprintf("%s/%s", dir, de->d_name);
		r = *rel ? kb_xasprintf("%s/%s", rel, de->d_name)
			 : kb_xstrdup(de->d_name);
		if (de->d_type == DT_REG) {
			/* a regular file itself, not a link: no stat needed */
			add_file(fs, root, r, F_INDEX);
		} else if (stat(path, &sb) != 0) {
			if (kb_article_format_of(path) != KB_FORMAT_UNKNOWN) {
				warnx_file(path, 0, stat_error(path));
				add_file(fs, root, r, F_KEEP);
			}
		} else if (S_ISDIR(sb.st_mode)) {
			walk(fs, root, path, r, seen, depth + 1);
		} else if (kb_article_format_of(path) != KB_FORMAT_UNKNOWN) {
			if (S_ISREG(sb.st_mode)) {
				add_file(fs, root, r, F_INDEX);
			} else {
				warnx_file(path, 0,
					   "not a regular file, skipped");
				add_file(fs, root, r, F_KEEP);
			}
		}
		free(path);
		free(r);
	}
	closedir(d);
}

/* Relative paths, then the order found: the first of two equal ones wins. */
static int
cmp_rel(const void *a, const void *b, void *names)
{
	const struct file *x = a, *y = b;
	int c = strcmp((const char *)names + x->rel,
		       (const char *)names + y->rel);

	return c != 0 ? c : (x->rel > y->rel) - (x->rel < y->rel);
}

static char *
strip_slashes(const char *p)
{
	char *s = kb_xstrdup(p);
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static void
collect(struct files *fs, char **paths, int npaths)
{
	struct dirid seen[MAX_DEPTH + 1];
	struct stat sb;
	size_t i;
	int k;

	for (k = 0; k < npaths; k++) {
		char *p = strip_slashes(paths[k]);
		const char *base = strrchr(p, '/');

		base = base ? base + 1 : p;
		if (stat(p, &sb) != 0) {
			/*
			 * Whether it was a folder or a file, what was
			 * indexed from it is unknown: keep everything.
			 */
			warnx_file(p, 0, stat_error(p));
			add_file(fs, add_root(fs, p, 0), "", F_KEEP_FOLDER);
		} else if (S_ISDIR(sb.st_mode)) {
			char *prefix = kb_xasprintf("%s/", p);

			walk(fs, add_root(fs, prefix, strlen(prefix)), p, "",
			     seen, 0);
			free(prefix);
		} else if (!S_ISREG(sb.st_mode)) {
			warnx_file(p, 0, "not a regular file, skipped");
			add_file(fs, add_root(fs, p, (size_t)(base - p)), base,
				 F_KEEP);
		} else if (kb_article_format_of(p) == KB_FORMAT_UNKNOWN) {
			warnx_file(p, 0,
				   "not an article (.md, .txt or .html), "
				   "skipped");
		} else {
			add_file(fs, add_root(fs, p, (size_t)(base - p)), base,
				 F_INDEX);
		}
		free(p);
	}
	qsort_r(fs->v, fs->n, sizeof(*fs->v), cmp_rel, fs->names.data);
	/* Two folders holding the same relative path: the first one wins. */
	for (i = 1; i < fs->n; i++) {
		if (fs->v[i].action == F_INDEX &&
		    strcmp(file_rel(fs, &fs->v[i]),
			   file_rel(fs, &fs->v[i - 1])) == 0) {
			char *path = file_path(fs, &fs->v[i]);

			warnx_file(path, 0,
				   "same relative path as an earlier file, "
				   "skipped");
			free(path);
			fs->v[i].action = F_SKIP;
		}
	}
}

static char *
find_taxonomy(char **paths, int npaths)
{
	const char *cands[3];
	struct stat sb;
	char *root, *p;
	int k;
	size_t i;

	for (k = 0; k < npaths; k++) {
		root = strip_slashes(paths[k]);
		if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			free(root);
			continue;
		}
		cands[0] = "taxonomy.json";
		cands[1] = "../taxonomy.json";
		for (i = 0; i < 2; i++) {
			p = kb_xasprintf("%s/%s", root, cands[i]);
			if (access(p, R_OK) == 0) {
				free(root);
				return p;
			}
			free(p);
		}
		free(root);
	}
	p = kb_xstrdup(KB_DATADIR "/taxonomy.json");
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static void
progress(size_t done, size_t total)
{
	char bar[31];
	size_t i, fill = total ? done * 30 / total : 30;

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu files", bar, done, total);
	if (done == total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/*
 * Files are read and checked against the index on the main thread, which
 * also stores them (SQLite); parsing threads parse and prepare them (tags,
 * LED facts, terms: kb_index_prepare; packing once the index has its
 * dictionary) up to AHEAD files ahead, and read them too when the index
 * is new.  Files are stored, and their problems reported, in the order
 * found, so the index is the same whatever the threads do.
 */
#define AHEAD 32
/* jobs the storing thread waits for at once when parsing is behind */
#define WAIT_JOBS 8
#define MAX_PARSERS 4

struct job {
	char *path;	 /* the file's, to open */
	const char *rel; /* as stored */
	bool unread;	  /* the parsing thread reads the file */
	bool read_failed; /* ... and could not: err says why */
	char *data;
	size_t len;
	char hash[17];
	const struct kb_packer *packer; /* pack with this (may be NULL) */
	struct kb_article *a;
	struct kb_prepared *p;
	struct kb_error err;
	int rc;
	/* set by the parsing thread (with pl->mu held) when it is done; the
	 * storing thread may look without the lock */
	atomic_bool done;
	int parser; /* the parsing thread that parsed it, -1 for none */
};

/*
 * What a stored job leaves to free, handed back to the thread that
 * allocated it: glibc's allocator keeps an arena per thread, and freeing
 * into another thread's arena fought that thread's allocations for the
 * arena's lock (a futex wait or wake on ~4% of the samples of a build).
 */
struct trash {
	struct kb_article *a;
	struct kb_prepared *p;
	char *data;
};

struct pipeline;

struct parser {
	struct pipeline *pl;
	int index; /* in pl->thread */
};

struct pipeline {
	pthread_t thread[MAX_PARSERS];
	struct parser arg[MAX_PARSERS];
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	const struct kb_taxonomy *tax;
	struct job ring[AHEAD];
	size_t head; /* the next job to store */
	size_t take; /* the next job to parse */
	size_t tail; /* jobs before this are queued */
	/* the storing thread waits for jobs wait_first and wait - 1; 0 none */
	size_t wait, wait_first;
	bool stop;
	double parse_cpu; /* seconds, summed over the parsing threads */
	/* per parsing thread: what it allocated, stored, left to free */
	struct trash trash[MAX_PARSERS][AHEAD];
	size_t ntrash[MAX_PARSERS];
	/* the same on the storing thread's side (no lock), until it next
	 * takes the lock anyway */
	struct trash give[MAX_PARSERS][AHEAD];
	size_t ngive[MAX_PARSERS];
};

/* CPU seconds the calling thread has used. */
static double
thread_cpu(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse and prepare; ctx (NULL on the storing thread) packs too. */
static void
parse_job(const struct kb_taxonomy *tax, struct job *j,
	  struct kb_pack_ctx *ctx)
{
	kb_error_clear(&j->err);
	if (j->unread) {
		j->rc = kb_read_file(j->path, MAX_FILE_BYTES, &j->data,
				     &j->len, &j->err);
		if (j->rc != KB_OK) {
			j->read_failed = true;
			return;
		}
		kb_hash_hex(j->data, j->len, j->hash);
	}
	j->rc = kb_article_parse(kb_article_format_of(j->path), j->path,
				 j->data, j->len, &j->a, &j->err);
	if (j->rc != KB_OK)
		return;
	j->p = kb_index_prepare(tax, j->a);
	if (ctx != NULL)
		kb_prepared_pack(j->p, j->packer, ctx);
}

static void
trash_free(struct trash *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		kb_prepared_free(t[i].p);
		kb_article_free(t[i].a);
		free(t[i].data);
	}
}

static void *
parse_thread(void *arg)
{
	struct parser *self = arg;
	struct pipeline *pl = self->pl;
	const int me = self->index;
	struct kb_pack_ctx *ctx = kb_pack_ctx_new();
	struct trash mine[AHEAD];
	size_t nmine = 0;

	/*
	 * The storing thread is the one the run waits for: parsers take
	 * what CPU it leaves (a thread's nice value is its own on Linux).
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		struct job *j;
		size_t n;

		if (pl->ntrash[me] > 0) {
			nmine = pl->ntrash[me];
			memcpy(mine, pl->trash[me], nmine * sizeof(*mine));
			pl->ntrash[me] = 0;
			pthread_mutex_unlock(&pl->mu);
			trash_free(mine, nmine);
			pthread_mutex_lock(&pl->mu);
			continue;
		}
		while (pl->take == pl->tail && !pl->stop &&
		       pl->ntrash[me] == 0)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop)
			break;
		if (pl->take == pl->tail)
			continue; /* woken to free */
		n = pl->take++;
		j = &pl->ring[n % AHEAD];
		j->parser = me;
		pthread_mutex_unlock(&pl->mu);
		parse_job(pl->tax, j, ctx);
		pthread_mutex_lock(&pl->mu);
		atomic_store_explicit(&j->done, true, memory_order_release);
		/* The storing thread waits for the next jobs in order. */
		if (pl->wait != 0 && (n + 1 == pl->wait || n == pl->wait_first))
			pthread_cond_signal(&pl->done);
	}
	pl->parse_cpu += thread_cpu();
	pthread_mutex_unlock(&pl->mu);
	kb_pack_ctx_free(ctx);
	return NULL;
}

static void
job_clear(struct job *j)
{
	struct trash t = { j->a, j->p, j->data };

	trash_free(&t, 1);
	free(j->path);
	memset(j, 0, sizeof(*j));
}

/*
 * Set what j holds aside for the thread that allocated it, and empty j;
 * give_flush hands it over.
 */
static void
job_give_back(struct pipeline *pl, struct job *j)
{
	int t = j->parser;

	if (t >= 0 && t < pl->nthreads && pl->ngive[t] < AHEAD) {
		struct trash *x = &pl->give[t][pl->ngive[t]++];

		x->a = j->a;
		x->p = j->p;
		x->data = j->data;
		j->a = NULL;
		j->p = NULL;
		j->data = NULL;
	}
	job_clear(j);
}

/* Hand what job_give_back set aside to the parsing threads (pl->mu held). */
static void
give_flush(struct pipeline *pl)
{
	int t;

	for (t = 0; t < pl->nthreads; t++) {
		size_t room = AHEAD - pl->ntrash[t];
		size_t n = pl->ngive[t] < room ? pl->ngive[t] : room;

		memcpy(&pl->trash[t][pl->ntrash[t]], pl->give[t],
		       n * sizeof(pl->give[t][0]));
		pl->ntrash[t] += n;
		memmove(pl->give[t], pl->give[t] + n,
			(pl->ngive[t] - n) * sizeof(pl->give[t][0]));
		pl->ngive[t] -= n;
	}
}

/* One parsing thread per core, while the main thread stores. */
static void
pipeline_start(struct pipeline *pl, const struct kb_taxonomy *tax)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t all, old;
	int want, i;

	memset(pl, 0, sizeof(*pl));
	pl->tax = tax;
	kb_article_init();
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work, NULL);
	pthread_cond_init(&pl->done, NULL);
	want = cores < 1 ? 1 : cores > MAX_PARSERS ? MAX_PARSERS : (int)cores;
	/* Signals stay with this thread, which checks for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < want; i++) {
		pl->arg[pl->nthreads].pl = pl;
		pl->arg[pl->nthreads].index = pl->nthreads;
		if (pthread_create(&pl->thread[pl->nthreads], NULL,
				   parse_thread, &pl->arg[pl->nthreads]) == 0)
			pl->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* With no thread at all, every job is parsed on this one. */
}

/* Stop the parsing threads and drop every job not stored. */
static void
pipeline_stop(struct pipeline *pl)
{
	size_t i;
	int t;

	pthread_mutex_lock(&pl->mu);
	pl->stop = true;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	for (t = 0; t < pl->nthreads; t++) {
		pthread_join(pl->thread[t], NULL);
		trash_free(pl->trash[t], pl->ntrash[t]);
		trash_free(pl->give[t], pl->ngive[t]);
	}
	for (i = pl->head; i < pl->tail; i++)
		job_clear(&pl->ring[i % AHEAD]);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->work);
	pthread_cond_destroy(&pl->done);
}

/* Store the oldest job; -1 when the index cannot be written. */
static int
store_oldest(struct kb_index *ix, struct pipeline *pl)
{
	struct job *j = &pl->ring[pl->head % AHEAD];
	struct kb_error err;
	int rc;

	if (pl->nthreads == 0) {
		j->parser = -1;
		parse_job(pl->tax, j, NULL);
	} else if (!atomic_load_explicit(&j->done, memory_order_acquire)) {
		/*
		 * Parsing is behind: wait for the next few jobs, so that one
		 * wake-up (a futex call and a reschedule on the parser's
		 * core) serves several stores.
		 */
		size_t k = pl->tail - pl->head < WAIT_JOBS
				   ? pl->tail - pl->head
				   : WAIT_JOBS;
		const struct job *last = &pl->ring[(pl->head + k - 1) % AHEAD];

		pthread_mutex_lock(&pl->mu);
		give_flush(pl);
		pl->wait_first = pl->head;
		pl->wait = pl->head + k;
		while (!atomic_load_explicit(&j->done, memory_order_relaxed) ||
		       !atomic_load_explicit(&last->done, memory_order_relaxed))
			pthread_cond_wait(&pl->done, &pl->mu);
		pl->wait = 0;
		pthread_mutex_unlock(&pl->mu);
	}
	/* A new index has nothing to keep: this only marks the file seen. */
	if (j->unread)
		kb_index_unchanged(ix, j->rel,
				   j->read_failed ? NULL : j->hash);
	if (j->read_failed) {
		/* kb_read_file names the file itself. */
		fprintf(stderr, "kbindex: %s\n", j->err.msg);
		failures++;
		rc = 0;
	} else if (j->rc != KB_OK) {
		/* The old version stays: kb_index_unchanged marked it seen. */
		warnx_lib(j->path, &j->err);
		rc = 0;
	} else {
		kb_error_clear(&err);
		rc = kb_index_put_prepared(ix, j->rel, j->hash, j->p, &err);
		if (rc != KB_OK) {
			fprintf(stderr, "kbindex: %s\n", err.msg);
			failures++;
			rc = -1;
		}
	}
	job_give_back(pl, j);
	pl->head++;
	return rc;
}

/*
 * Read f, and queue it for parsing unless the index has it already; a new
 * index has nothing already, so there the parsing thread reads it.
 */
static int
queue_one(struct kb_index *ix, struct pipeline *pl, const struct files *fs,
	  const struct file *f)
{
	struct kb_error err;
	char *data = NULL, hash[17] = "", *path;
	const char *rel = file_rel(fs, f);
	size_t len = 0;
	bool unread = kb_index_fresh(ix);
	struct job *j;

	kb_error_clear(&err);
	path = file_path(fs, f);
	if (!unread) {
		if (kb_read_file(path, MAX_FILE_BYTES, &data, &len, &err) !=
		    KB_OK) {
			/* kb_read_file names the file itself. */
			fprintf(stderr, "kbindex: %s\n", err.msg);
			failures++;
			kb_index_unchanged(ix, rel, NULL);
			free(path);
			return 0;
		}
		kb_hash_hex(data, len, hash);
		if (kb_index_unchanged(ix, rel, hash)) {
			free(data);
			free(path);
			return 0;
		}
	}
	if (pl->tail - pl->head == AHEAD && store_oldest(ix, pl) != 0) {
		free(data);
		free(path);
		return -1;
	}
	j = &pl->ring[pl->tail % AHEAD];
	j->path = path;
	j->rel = rel;
	j->unread = unread;
	j->data = data;
	j->len = len;
	j->packer = kb_index_packing(ix);
	memcpy(j->hash, hash, sizeof(hash));
	pthread_mutex_lock(&pl->mu);
	pl->tail++;
	give_flush(pl);
	pthread_cond_signal(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	return 0;
}

/*
 * The articles are stored.  Finishing (the late indexes, the title index,
 * the postings) allocates and frees buffers of megabytes, and jemalloc
 * keeps freed pages ten seconds for reuse: from here on they go back to
 * the system when freed.  On the 100k bench corpus that takes kbindex's
 * peak RSS from ~49 to ~36 MiB, for under 0.1 s more CPU.  With glibc's
 * malloc, what the parsers freed is handed back once.
 */
static void
release_freed(void)
{
	ssize_t now = 0;
	unsigned n = 0, i;
	size_t len = sizeof(n);
	char name[48];

	if (mallctl == NULL) {
		malloc_trim(0);
		return;
	}
	/* Arenas made from now on, then those there are (some unused). */
	mallctl("arenas.dirty_decay_ms", NULL, NULL, &now, sizeof(now));
	if (mallctl("arenas.narenas", &n, &len, NULL, 0) == 0)
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms",
				 i);
			mallctl(name, NULL, NULL, &now, sizeof(now));
		}
	purge_freed();
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "full", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "taxonomy", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct files fs = { 0 };
	struct kb_taxonomy *tax = NULL;
	struct kb_index *ix = NULL;
	struct kb_index_stats st;
	struct pipeline pl;
	struct kb_error err;
	struct sigaction sa;
	const char *db = getenv("KBSEARCH_DB");
	char *taxpath = NULL;
	bool full = false, bar;
	double t0 = kb_now(), stored_at, stored_cpu;
	int c, status = 0;
	size_t i;

	kb_db_builder();
	if (db == NULL || *db == '\0')
		db = "kb.db";
	while ((c = getopt_long(argc, argv, "d:fqt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			full = true;
			break;
		case 'q':
			quiet = 1;
			break;
		case 't':
			free(taxpath);
			taxpath = kb_xstrdup(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kbindex %s\n", KB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("kbindex: no PATH given: name the folder of articles "
		      "to index, e.g. kbindex kb/\n",
		      stderr);
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	kb_error_clear(&err);
	if (taxpath == NULL)
		taxpath = find_taxonomy(argv + optind, argc - optind);
	if (taxpath != NULL &&
	    kb_taxonomy_load(taxpath, &tax, &err) != KB_OK) {
		/* Keep going with the taxonomy the index already has. */
		fprintf(stderr, "kbindex: %s\n", err.msg);
		failures++;
	}

	collect(&fs, argv + optind, argc - optind);
	if (kb_index_begin(db, full, tax, &ix, &err) != KB_OK) {
		fprintf(stderr, "kbindex: %s\n", err.msg);
		status = 1;
		goto out;
	}
	bar = !quiet && isatty(STDERR_FILENO);
	pipeline_start(&pl, kb_index_taxonomy(ix));
	for (i = 0; i < fs.n && !interrupted; i++) {
		switch (fs.v[i].action) {
		case F_SKIP:
			continue;
		case F_KEEP:
			kb_index_unchanged(ix, file_rel(&fs, &fs.v[i]), NULL);
			continue;
		case F_KEEP_FOLDER:
			if (kb_index_keep_folder(ix, file_rel(&fs, &fs.v[i]),
						 &err) == KB_OK)
				continue;
			fprintf(stderr, "kbindex: %s\n", err.msg);
			pipeline_stop(&pl);
			kb_index_abort(ix);
			ix = NULL;
			status = 1;
			goto out;
		case F_INDEX:
			break;
		}
		if (queue_one(ix, &pl, &fs, &fs.v[i]) != 0) {
			pipeline_stop(&pl);
			kb_index_abort(ix);
			ix = NULL;
			status = 1;
			goto out;
		}
		if (bar && (i % 16 == 0 || i + 1 == fs.n))
			progress(i + 1, fs.n);
	}
	while (pl.head < pl.tail && !interrupted) {
		if (store_oldest(ix, &pl) != 0) {
			pipeline_stop(&pl);
			kb_index_abort(ix);
			ix = NULL;
			status = 1;
			goto out;
		}
	}
	pipeline_stop(&pl);
	if (interrupted) {
		fprintf(stderr,
			"kbindex: interrupted; %s is unchanged\n", db);
		kb_index_abort(ix);
		ix = NULL;
		status = 130;
		goto out;
	}
	/* Every file is stored: the list goes before finishing needs room. */
	files_free(&fs);
	release_freed();
	stored_cpu = thread_cpu();
	stored_at = kb_now();
	if (kb_index_finish(ix, &st, &err) != KB_OK) {
		ix = NULL;
		fprintf(stderr, "kbindex: %s\n", err.msg);
		status = 1;
		goto out;
	}
	ix = NULL;
	/* KBSEARCH_DEBUG=1: where the run spent its time, on stderr. */
	if (getenv("KBSEARCH_DEBUG") != NULL)
		fprintf(stderr,
			"kbindex: %.2f s in all; storing %.2f s (CPU %.2f s),"
			" finishing %.2f s (CPU %.2f s); parsing threads: CPU"
			" %.2f s\n",
			kb_now() - t0, stored_at - t0, stored_cpu,
			kb_now() - stored_at, thread_cpu() - stored_cpu,
			pl.parse_cpu);
	if (!quiet)
		printf("indexed %zu article%s (%zu new, %zu changed, %zu "
		       "removed), %zu sections, %zu LED fact%s in %.2f s\n",
		       st.articles, st.articles == 1 ? "" : "s", st.added,
		       st.changed, st.removed, st.sections, st.leds,
		       st.leds == 1 ? "" : "s", kb_now() - t0);
	if (failures > 0)
		status = 1;
out:
	kb_index_abort(ix);
	kb_taxonomy_free(tax);
	free(taxpath);
	files_free(&fs);
	return status;
}
