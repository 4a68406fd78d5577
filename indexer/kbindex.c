/* kbindex.c - files -> articles -> tagged sections -> the SQLite index. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "article.h"
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

struct file {
	char *path; /* as opened */
	char *rel;  /* as stored: relative to the folder given */
	enum file_action action;
};

struct files {
	struct file *v;
	size_t n, cap;
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

static void
add_file(struct files *fs, const char *path, const char *rel,
	 enum file_action action)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 64;
		fs->v = kb_xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	fs->v[fs->n].path = kb_xstrdup(path);
	fs->v[fs->n].rel = kb_xstrdup(rel);
	fs->v[fs->n].action = action;
	fs->n++;
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
walk(struct files *fs, const char *dir, const char *rel, struct dirid *seen,
     int depth)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int i;

	if (stat(dir, &sb) != 0) {
		warnx_file(dir, 0, stat_error(dir));
		add_file(fs, dir, rel, F_KEEP_FOLDER);
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
		add_file(fs, dir, rel, F_KEEP_FOLDER);
		return;
	}
	seen[depth].dev = sb.st_dev;
	seen[depth].ino = sb.st_ino;
	d = opendir(dir);
	if (d == NULL) {
		warnx_file(dir, 0, strerror(errno));
		add_file(fs, dir, rel, F_KEEP_FOLDER);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *path, *r;

		if (de->d_name[0] == '.')
			continue;
		path = kb_xasprintf("%s/%s", dir, de->d_name);
		r = *rel ? kb_xasprintf("%s/%s", rel, de->d_name)
			 : kb_xstrdup(de->d_name);
		if (stat(path, &sb) != 0) {
			if (kb_article_format_of(path) != KB_FORMAT_UNKNOWN) {
				warnx_file(path, 0, stat_error(path));
				add_file(fs, path, r, F_KEEP);
			}
		} else if (S_ISDIR(sb.st_mode)) {
			walk(fs, path, r, seen, depth + 1);
		} else if (kb_article_format_of(path) != KB_FORMAT_UNKNOWN) {
			if (S_ISREG(sb.st_mode)) {
				add_file(fs, path, r, F_INDEX);
			} else {
				warnx_file(path, 0,
					   "not a regular file, skipped");
				add_file(fs, path, r, F_KEEP);
			}
		}
		free(path);
		free(r);
	}
	closedir(d);
}

static int
cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->rel,
		      ((const struct file *)b)->rel);
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
			add_file(fs, p, "", F_KEEP_FOLDER);
		} else if (S_ISDIR(sb.st_mode)) {
			walk(fs, p, "", seen, 0);
		} else if (!S_ISREG(sb.st_mode)) {
			warnx_file(p, 0, "not a regular file, skipped");
			add_file(fs, p, base, F_KEEP);
		} else if (kb_article_format_of(p) == KB_FORMAT_UNKNOWN) {
			warnx_file(p, 0,
				   "not an article (.md, .txt or .html), "
				   "skipped");
		} else {
			add_file(fs, p, base, F_INDEX);
		}
		free(p);
	}
	qsort(fs->v, fs->n, sizeof(*fs->v), cmp_rel);
	/* Two folders holding the same relative path: the first one wins. */
	for (i = 1; i < fs->n; i++) {
		if (fs->v[i].action == F_INDEX &&
		    strcmp(fs->v[i].rel, fs->v[i - 1].rel) == 0) {
			warnx_file(fs->v[i].path, 0,
				   "same relative path as an earlier file, "
				   "skipped");
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

static int
index_one(struct kb_index *ix, const struct file *f)
{
	struct kb_article *a = NULL;
	struct kb_error err;
	char *data = NULL, hash[17];
	size_t len;
	int rc;

	kb_error_clear(&err);
	rc = kb_read_file(f->path, MAX_FILE_BYTES, &data, &len, &err);
	if (rc != KB_OK) {
		/* kb_read_file names the file itself. */
		fprintf(stderr, "kbindex: %s\n", err.msg);
		failures++;
		kb_index_unchanged(ix, f->rel, NULL);
		return 0;
	}
	kb_hash_hex(data, len, hash);
	if (kb_index_unchanged(ix, f->rel, hash))
		goto out;
	rc = kb_article_parse(kb_article_format_of(f->path), f->path, data,
			      len, &a, &err);
	if (rc != KB_OK) {
		warnx_lib(f->path, &err);
		goto out;
	}
	rc = kb_index_put(ix, f->rel, hash, a, &err);
	if (rc != KB_OK) {
		fprintf(stderr, "kbindex: %s\n", err.msg);
		failures++;
		free(data);
		kb_article_free(a);
		return -1;
	}
out:
	free(data);
	kb_article_free(a);
	return 0;
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
	struct kb_error err;
	struct sigaction sa;
	const char *db = getenv("KBSEARCH_DB");
	char *taxpath = NULL;
	bool full = false, bar;
	double t0 = kb_now();
	int c, status = 0;
	size_t i;

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
	for (i = 0; i < fs.n && !interrupted; i++) {
		switch (fs.v[i].action) {
		case F_SKIP:
			continue;
		case F_KEEP:
			kb_index_unchanged(ix, fs.v[i].rel, NULL);
			continue;
		case F_KEEP_FOLDER:
			if (kb_index_keep_folder(ix, fs.v[i].rel, &err) == KB_OK)
				continue;
			fprintf(stderr, "kbindex: %s\n", err.msg);
			kb_index_abort(ix);
			ix = NULL;
			status = 1;
			goto out;
		case F_INDEX:
			break;
		}
		if (index_one(ix, &fs.v[i]) != 0) {
			kb_index_abort(ix);
			ix = NULL;
			status = 1;
			goto out;
		}
		if (bar && (i % 16 == 0 || i + 1 == fs.n))
			progress(i + 1, fs.n);
	}
	if (interrupted) {
		fprintf(stderr,
			"kbindex: interrupted; %s is unchanged\n", db);
		kb_index_abort(ix);
		ix = NULL;
		status = 130;
		goto out;
	}
	if (kb_index_finish(ix, &st, &err) != KB_OK) {
		ix = NULL;
		fprintf(stderr, "kbindex: %s\n", err.msg);
		status = 1;
		goto out;
	}
	ix = NULL;
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
	for (i = 0; i < fs.n; i++) {
		free(fs.v[i].path);
		free(fs.v[i].rel);
	}
	free(fs.v);
	return status;
}
