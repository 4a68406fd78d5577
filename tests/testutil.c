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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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
	kb_test_run_ex(r, argv, env_extra, NULL, NULL);
}

void
kb_test_run_ex(struct kb_test_run *r, const char *const *argv,
	       const char *const *env_extra, void (*child_setup)(void *),
	       void *arg)
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
		if (child_setup != NULL)
			child_setup(arg);
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

/* A real kbserver and a small HTTP client for the end-to-end suites. */

void
kb_test_server_start(struct kb_test_server *s, const char *db,
		     const char *const *extra_args)
{
	const char *argv[40] = { kb_test_prog("kbserver"), "--db", db,
				 "--port", "0" };
	const char *base = getenv("TMPDIR");
	char *errpath, line[256], want[256] = "";
	size_t n = 5, len = 0;
	double deadline;
	pid_t parent = getpid();
	int out[2], devnull, port = 0;

	for (; extra_args != NULL && *extra_args != NULL; extra_args++) {
		ck_assert(n + 1 < sizeof(argv) / sizeof(argv[0]));
		argv[n++] = *extra_args;
	}
	argv[n] = NULL;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	errpath = kb_xasprintf("%s/kbserver-log.XXXXXX", base);
	s->err_fd = mkostemp(errpath, O_CLOEXEC | O_APPEND);
	ck_assert_msg(s->err_fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(errpath);
	free(errpath);
	ck_assert(pipe2(out, O_CLOEXEC) == 0);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert(devnull >= 0);
	s->pid = fork();
	ck_assert(s->pid >= 0);
	if (s->pid == 0) {
		/* Die with the test, even when it fails half-way. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(s->err_fd, 2);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(devnull);
	close(out[1]);
	s->out_fd = out[0];
	/* Byte by byte: whatever follows the first line stays in the pipe. */
	deadline = kb_now() + 10;
	while (len + 1 < sizeof(line)) {
		struct pollfd p = { s->out_fd, POLLIN, 0 };
		int ms = (int)((deadline - kb_now()) * 1000);
		ssize_t r;

		if (ms <= 0 || poll(&p, 1, ms) == 0)
			break;
		r = read(s->out_fd, line + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (sscanf(line, "listening on http://127.0.0.1:%d/", &port) == 1)
		snprintf(want, sizeof(want),
			 "listening on http://127.0.0.1:%d/\n", port);
	if (port <= 0 || port > 65535 || strcmp(line, want) != 0) {
		char *log = kb_test_server_log(s);

		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		ck_abort_msg("kbserver did not say where it listens within "
			     "10 s; stdout: \"%s\"; stderr: %s",
			     line, log);
	}
	s->port = port;
}

int
kb_test_server_stop(struct kb_test_server *s)
{
	/*
	 * kbserver gives what is in flight 10 s (SHUTDOWN_GRACE_S) after
	 * SIGTERM, then stops its workers: it is killed only if it is still
	 * there 5 s after that.
	 */
	double deadline = kb_now() + 15;
	int st = 0;
	pid_t r;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	while ((r = waitpid(s->pid, &st, WNOHANG)) == 0 &&
	       kb_now() < deadline)
		usleep(5000);
	if (r == 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (st != 0) {
		/* Whatever it said (a sanitizer report) explains it. */
		char *log = kb_test_server_log(s);

		fprintf(stderr, "kbserver %d exited with %d; its stderr:\n%s\n",
			(int)s->pid, st, log);
		free(log);
	}
	s->pid = 0;
	close(s->out_fd);
	close(s->err_fd);
	s->out_fd = s->err_fd = -1;
	return st;
}

char *
kb_test_server_log(const struct kb_test_server *s)
{
	struct kb_buf b;
	char chunk[8192];
	off_t off = 0;
	ssize_t n;

	kb_buf_init(&b);
	while ((n = pread(s->err_fd, chunk, sizeof(chunk), off)) > 0) {
		kb_buf_add(&b, chunk, (size_t)n);
		off += n;
	}
	return kb_buf_steal(&b);
}

/*
 * Write raw and read until EOF, both at once, so a server that answers
 * (413, 414) and closes before it has read the whole request is seen.
 * Returns -1 when the connection cannot be made, else 0 with whatever
 * arrived; *reset tells whether the connection ended in an error or a
 * timeout rather than a clean close.
 */
static int
http_exchange(const char *src, int port, const char *raw, size_t len,
	      struct kb_buf *in, bool *reset)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	double deadline = kb_now() + 10;
	size_t sent = 0;
	int fd;

	*reset = false;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (src != NULL) {
		struct sockaddr_in from = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int ms = (int)((deadline - kb_now()) * 1000);
		char chunk[16384];
		ssize_t n;

		if (sent < len)
			p.events |= POLLOUT;
		if (ms <= 0) {
			*reset = true;
			break;
		}
		n = poll(&p, 1, ms);
		if (n < 0 && errno != EINTR) {
			*reset = true;
			break;
		}
		if (n <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < len) {
			n = send(fd, raw + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (errno != EAGAIN && errno != EINTR)
				sent = len; /* it stopped reading: listen */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, chunk, sizeof(chunk), 0);
			if (n > 0) {
				kb_buf_add(in, chunk, (size_t)n);
			} else if (n == 0) {
				break;
			} else if (errno != EAGAIN && errno != EINTR) {
				*reset = true;
				break;
			}
		}
	}
	close(fd);
	return 0;
}

/* Undo chunked transfer coding; true when the last chunk was seen. */
static bool
unchunk(const char *p, size_t n, struct kb_buf *out)
{
	const char *end = p + n;

	for (;;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		unsigned long size;
		char *stop;

		if (eol == NULL)
			return false;
		size = strtoul(p, &stop, 16);
		if (stop == p)
			return false;
		p = eol + 2;
		if (size == 0)
			return true;
		if ((size_t)(end - p) < size + 2) {
			kb_buf_add(out, p, (size_t)(end - p));
			return false;
		}
		kb_buf_add(out, p, size);
		p += size + 2;
	}
}

static int
http_parse(const char *raw, size_t len, const char *in, size_t n, bool reset,
	   struct kb_test_http *resp)
{
	const char *hend = memmem(in, n, "\r\n\r\n", 4);
	const char *body;
	size_t have;
	struct kb_buf b;
	char *te, *cl;
	bool head;

	if (hend == NULL || n < 12 || memcmp(in, "HTTP/1.", 7) != 0)
		return -2;
	resp->status = (int)strtol(in + 9, NULL, 10);
	resp->headers = kb_xstrndup(in, (size_t)(hend - in) + 2);
	body = hend + 4;
	have = n - (size_t)(body - in);
	head = len >= 5 && memcmp(raw, "HEAD ", 5) == 0;
	te = kb_test_http_header(resp, "Transfer-Encoding");
	cl = kb_test_http_header(resp, "Content-Length");
	kb_buf_init(&b);
	if (head || resp->status == 204 || resp->status == 304 ||
	    resp->status < 200) {
		resp->complete = have == 0;
	} else if (te != NULL && strcasecmp(te, "chunked") == 0) {
		resp->complete = unchunk(body, have, &b);
	} else if (cl != NULL) {
		unsigned long long want = strtoull(cl, NULL, 10);

		kb_buf_add(&b, body, have < want ? have : (size_t)want);
		resp->complete = have == want;
	} else {
		kb_buf_add(&b, body, have);
		resp->complete = !reset;
	}
	resp->body_len = b.len;
	resp->body = kb_buf_steal(&b);
	free(te);
	free(cl);
	return 0;
}

int
kb_test_http_raw(int port, const char *raw, size_t len,
		 struct kb_test_http *resp)
{
	return kb_test_http_raw_from(NULL, port, raw, len, resp);
}

int
kb_test_http_raw_from(const char *src, int port, const char *raw, size_t len,
		      struct kb_test_http *resp)
{
	struct kb_buf in;
	bool reset;
	int rc;

	memset(resp, 0, sizeof(*resp));
	kb_buf_init(&in);
	rc = http_exchange(src, port, raw, len, &in, &reset);
	if (rc == 0)
		rc = http_parse(raw, len, in.data ? in.data : "", in.len,
				reset, resp);
	kb_buf_free(&in);
	return rc;
}

int
kb_test_http(int port, const char *method, const char *path,
	     const char *extra_headers, const char *body, size_t body_len,
	     struct kb_test_http *resp)
{
	struct kb_buf req;
	int rc;

	kb_buf_init(&req);
	kb_buf_printf(&req,
		      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		      "Connection: close\r\n",
		      method, path, port);
	if (body != NULL)
		kb_buf_printf(&req, "Content-Length: %zu\r\n", body_len);
	if (extra_headers != NULL)
		kb_buf_adds(&req, extra_headers);
	kb_buf_adds(&req, "\r\n");
	if (body != NULL)
		kb_buf_add(&req, body, body_len);
	rc = kb_test_http_raw(port, req.data, req.len, resp);
	kb_buf_free(&req);
	return rc;
}

char *
kb_test_http_header(const struct kb_test_http *r, const char *name)
{
	size_t nlen = strlen(name);
	const char *p;

	if (r->headers == NULL)
		return NULL;
	for (p = strstr(r->headers, "\r\n"); p != NULL;
	     p = strstr(p, "\r\n")) {
		const char *v, *end;

		p += 2;
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
			continue;
		v = p + nlen + 1;
		end = strstr(v, "\r\n");
		if (end == NULL)
			end = v + strlen(v);
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		return kb_xstrndup(v, (size_t)(end - v));
	}
	return NULL;
}

void
kb_test_http_free(struct kb_test_http *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
