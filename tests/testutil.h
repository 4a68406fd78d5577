/* testutil.h - helpers shared by the Check suites: temp dirs, files, running programs. */
#ifndef KB_TESTUTIL_H
#define KB_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
/*
 * The same, calling child_setup(arg) in the child just before exec: to
 * set limits, ignore signals or drop privileges for that program only.
 */
void kb_test_run_ex(struct kb_test_run *r, const char *const *argv,
		    const char *const *env_extra, void (*child_setup)(void *),
		    void *arg);
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

/*
 * A real kbserver on 127.0.0.1 with an ephemeral port.  stdout is a pipe
 * (out_fd) the "listening on" line was read from; stderr (the access log)
 * goes to an unlinked temporary file (err_fd), so a busy server never
 * blocks on a full pipe.  The server gets SIGKILL when the process that
 * started it exits, so a failed test leaves no server behind.
 */
struct kb_test_server {
	pid_t pid;
	int port;
	int out_fd;
	int err_fd;
};

/*
 * Start kb_test_prog("kbserver") --db db --port 0 extra_args... (extra_args
 * NULL-terminated, may be NULL) and read the port from its first line.
 * Fails the test when it does not print "listening on
 * http://127.0.0.1:PORT/" within 10 s.  Call from the test's main thread.
 */
void kb_test_server_start(struct kb_test_server *s, const char *db,
			  const char *const *extra_args);
/*
 * SIGTERM, wait (SIGKILL after 10 s) and return the exit status, or
 * 128+signal; -1 when s is not running.  Closes the descriptors.  When
 * the status is not 0, the server's stderr is copied to ours.
 */
int kb_test_server_stop(struct kb_test_server *s);
/* Everything the server wrote to stderr so far (a new string). */
char *kb_test_server_log(const struct kb_test_server *s);

/* One HTTP response. */
struct kb_test_http {
	int status;	 /* from the status line */
	char *headers;	 /* the status line and header lines, as received */
	char *body;	 /* NUL-terminated; chunked encoding removed */
	size_t body_len; /* bytes in body */
	bool complete;	 /* the body is as long as its framing says */
};

/*
 * Send one HTTP/1.1 request with "Connection: close" to 127.0.0.1:port
 * and read the response until the server closes the connection (at most
 * 10 s).  extra_headers (may be NULL) are whole "Name: value\r\n" lines;
 * a body gets a Content-Length.  Returns 0 with a response in *resp, -1
 * when no connection could be made, -2 when the connection ended (or 10 s
 * passed) before a status line and headers arrived.  *resp is always safe
 * to pass to kb_test_http_free.  Thread-safe: calls no ck_assert.
 */
int kb_test_http(int port, const char *method, const char *path,
		 const char *extra_headers, const char *body, size_t body_len,
		 struct kb_test_http *resp);
/* The same with the request bytes given exactly, for malformed requests. */
int kb_test_http_raw(int port, const char *raw, size_t len,
		     struct kb_test_http *resp);
/*
 * The same from the local address src (NULL: any).  All of 127.0.0.0/8 is
 * loopback, so "127.0.0.2" is a second client address on one machine.
 */
int kb_test_http_raw_from(const char *src, int port, const char *raw,
			  size_t len, struct kb_test_http *resp);
/* A header's value (first one, case-insensitive name), trimmed; or NULL. */
char *kb_test_http_header(const struct kb_test_http *r, const char *name);
void kb_test_http_free(struct kb_test_http *r);

#endif
