/* testutil.c - helpers shared by the Check suites: temp dirs, files, running programs. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "article.h"
#include "index.h"
#include "taxonomy.h"
#include "util.h"

#ifndef KB_BUILD_DIR
#define KB_BUILD_DIR "build"
#endif

extern char **environ;

const char *
kb_test_prog(const char *name)
{
	static char path[4][512];
	static int slot;
	char *p = path[slot++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", KB_BUILD_DIR, name);
	return p;
}

char *
kb_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	tmpl = kb_xasprintf("%s/kbtest.XXXXXX", base);
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	return tmpl;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
kb_test_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *
kb_test_path(const char *dir, const char *name)
{
	return kb_xasprintf("%s/%s", dir, name);
}

static void
mkparents(char *path)
{
	char *s;

	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

void
kb_test_write(const char *dir, const char *name, const char *data)
{
	char *path = kb_test_path(dir, name);
	FILE *fp;

	mkparents(path);
	fp = fopen(path, "wb");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fwrite(data, 1, strlen(data), fp);
	fclose(fp);
	free(path);
}

static void
drain(int fd, struct kb_buf *b, int *open)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n > 0)
		kb_buf_add(b, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		*open = 0;
}

void
kb_test_run(struct kb_test_run *r, const char *const *argv,
	    const char *const *env_extra)
{
	int out[2], err[2], st, oopen = 1, eopen = 1;
	struct kb_buf bo, be;
	pid_t pid;
	size_t i;

	ck_assert(pipe(out) == 0 && pipe(err) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		for (i = 0; env_extra != NULL && env_extra[i] != NULL; i++)
			putenv((char *)env_extra[i]);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	kb_buf_init(&bo);
	kb_buf_init(&be);
	while (oopen || eopen) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 },
				       { err[0], POLLIN, 0 } };

		p[0].fd = oopen ? out[0] : -1;
		p[1].fd = eopen ? err[0] : -1;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain(out[0], &bo, &oopen);
		if (p[1].revents)
			drain(err[0], &be, &eopen);
	}
	close(out[0]);
	close(err[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = kb_buf_steal(&bo);
	r->err = kb_buf_steal(&be);
}

void
kb_test_run_free(struct kb_test_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const char kb_test_taxonomy[] =
	"{\"models\": ["
	" {\"id\": \"anker-soundcore-2\", \"brand\": \"Anker\","
	"  \"name\": \"Anker Soundcore 2\","
	"  \"aliases\": [\"soundcore 2\", \"sound core 2\"]},"
	" {\"id\": \"jbl-flip-5\", \"brand\": \"JBL\", \"name\": \"JBL Flip 5\","
	"  \"aliases\": [\"flip 5\"]}],"
	"\"symptoms\": ["
	" {\"id\": \"wont-charge\", \"label\": \"Won't charge\","
	"  \"phrases\": [\"won't charge\", \"not charging\"]},"
	" {\"id\": \"wont-hold-charge\", \"label\": \"Won't hold a charge\","
	"  \"phrases\": [\"won't hold a charge\", \"battery drains fast\"]},"
	" {\"id\": \"connection-drops\", \"label\": \"Connection drops\","
	"  \"phrases\": [\"connection keeps dropping\", \"keeps disconnecting\"]}],"
	"\"led\": {\"colors\": [{\"id\": \"red\", \"synonyms\": [\"red\"]},"
	"  {\"id\": \"white\", \"synonyms\": [\"white\"]}],"
	" \"patterns\": [{\"id\": \"solid\", \"synonyms\": [\"solid\", \"steady\"]},"
	"  {\"id\": \"blinking\", \"synonyms\": [\"blinking\", \"flashing\"]}]},"
	"\"synonyms\": [[\"cable\", \"cord\"]]}";

int
kb_test_index(const char *db, const struct kb_test_doc *docs, size_t n,
	      const char *taxonomy_json, bool full, struct kb_index_stats *st)
{
	struct kb_taxonomy *tax = NULL;
	struct kb_index *ix = NULL;
	struct kb_error err;
	size_t i;
	int rc;

	kb_error_clear(&err);
	if (taxonomy_json != NULL)
		ck_assert_int_eq(kb_taxonomy_parse("test", taxonomy_json,
						   strlen(taxonomy_json), &tax,
						   &err),
				 KB_OK);
	rc = kb_index_begin(db, full, tax, &ix, &err);
	if (rc != KB_OK) {
		kb_taxonomy_free(tax);
		return rc;
	}
	for (i = 0; i < n; i++) {
		struct kb_article *a = NULL;
		size_t len = strlen(docs[i].text);
		char hash[17];

		kb_hash_hex(docs[i].text, len, hash);
		if (kb_index_unchanged(ix, docs[i].path, hash))
			continue;
		if (kb_article_parse(kb_article_format_of(docs[i].path),
				     docs[i].path, docs[i].text, len, &a,
				     &err) != KB_OK)
			continue;
		rc = kb_index_put(ix, docs[i].path, hash, a, &err);
		kb_article_free(a);
		ck_assert_msg(rc == KB_OK, "put %s: %s", docs[i].path, err.msg);
	}
	rc = kb_index_finish(ix, st, &err);
	kb_taxonomy_free(tax);
	return rc;
}
