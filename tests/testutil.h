/* testutil.h - helpers shared by the Check suites: temp dirs, files, running programs. */
#ifndef KB_TESTUTIL_H
#define KB_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Path of a built program, e.g. kb_test_prog("kbindex") -> "build/kbindex". */
const char *kb_test_prog(const char *name);

/* A fresh directory under $TMPDIR; removed by kb_test_rmtree. */
char *kb_test_tmpdir(void);
void kb_test_rmtree(const char *path);

/* Write data to dir/name, creating parent directories. */
void kb_test_write(const char *dir, const char *name, const char *data);
char *kb_test_path(const char *dir, const char *name);

struct kb_test_run {
	int status; /* exit status, or 128+signal */
	char *out;
	char *err;
};

/*
 * Run argv (NULL-terminated) with stdin from /dev/null, collect stdout and
 * stderr; env_extra (may be NULL) is a NULL-terminated list of "K=V" added
 * to the environment.  Fails the test when the program cannot be started.
 */
void kb_test_run(struct kb_test_run *r, const char *const *argv,
		 const char *const *env_extra);
void kb_test_run_free(struct kb_test_run *r);


/* An article given inline: relative path and file content. */
struct kb_test_doc {
	const char *path;
	const char *text;
};

struct kb_index_stats;

/*
 * Build (or update) the index at db from docs[0..n) through the library,
 * the way kbindex does; taxonomy_json may be NULL.  Returns the status of
 * kb_index_finish; parse failures keep the old version, like kbindex.
 */
int kb_test_index(const char *db, const struct kb_test_doc *docs, size_t n,
		  const char *taxonomy_json, bool full,
		  struct kb_index_stats *st);

/* A small taxonomy the suites share. */
extern const char kb_test_taxonomy[];

#endif
