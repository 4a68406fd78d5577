/* kbserver.c - the JSON API and the web search page, over libmicrohttpd and libkb. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "cache.h"
#include "db.h"
#include "escape.h"
#include "html.h"
#include "json.h"
#include "kbserver.h"
#include "search.h"
#include "suggest.h"
#include "util.h"

/* Limits: every one explicit, every one small. */
#define MAX_QUERY_BYTES 4096	  /* q= longer than this is refused */
#define MAX_BODY_BYTES 65536	  /* a body (none is ever needed) past this: 413 */
#define CONN_TIMEOUT_S 10	  /* idle or slow connections are closed */
#define REQUEST_DEADLINE_S 10	  /* to send a whole request, however slowly */
#define CONN_LIMIT 512		  /* connections in all */
#define PER_IP_LIMIT 64		  /* connections from one address */
#define CONN_MEMORY (36 * 1024)	  /* request line + headers per connection */
#define QUERY_TIMEOUT_MS 2000.0	  /* SQLite is interrupted past this */
#define INFLIGHT_PER_THREAD 32	  /* queued requests per worker before 503 */
#define RELOAD_CHECK_MS 250	  /* how often the index file is checked */
#define SHUTDOWN_GRACE_S 10	  /* in-flight requests get this long */

/*
 * How these meet floods.  A connection holds its slot at most
 * REQUEST_DEADLINE_S without having sent a request, so a slowloris or a
 * flood of idle connections ties slots up for seconds, not hours.  One
 * address gets at most PER_IP_LIMIT of the CONN_LIMIT slots, so a flood
 * from one address leaves the rest to everyone else.  On the default
 * loopback bind, though, every client is 127.0.0.1 (a reverse proxy on
 * the same host too): there PER_IP_LIMIT is the working limit, and a
 * local client holding 64 idle connections keeps other local clients out
 * for up to REQUEST_DEADLINE_S at a time.  Exempting loopback would not
 * help (the same client would then hold all 512); a proxy's upstream
 * pool should stay below 64.  tests/check_attack.c floods from 127.0.0.1
 * and checks that a client on 127.0.0.2 is served all the while.
 *
 * CONN_MEMORY is over 32 KB on purpose: libmicrohttpd takes a pool that
 * large from mmap and unmaps it at close, where one of 32 KB or less
 * comes from malloc and stays in its arenas.  So the memory a flood
 * takes goes back when it ends (measured after 7,200 connections of
 * churn: 4-5 MB less resident, and steady to within 0.2 MB).
 */

struct config {
	const char *db;
	const char *bind;
	unsigned port;
	unsigned threads;
	bool quiet;
	const char *web; /* serve assets from here instead (development) */
	unsigned cache_mb; /* search responses kept, 0 for none */
};

static struct config cfg;
#ifndef KB_SERVER_NO_MAIN
static struct MHD_Daemon *daemon_;
static atomic_int open_conns;
static atomic_bool stopped; /* the daemon is gone: the reaper may go */
#endif
static unsigned bound_port;
static atomic_uint_fast64_t generation = 1; /* bumped when the index changes */
static atomic_int inflight;
static volatile sig_atomic_t got_stop, got_hup;
static pthread_key_t db_key;
static struct resp_cache *cache;

/*
 * Slow and departed clients.  libmicrohttpd's timeout counts idle time
 * only, so a client that sends a header byte every second (slowloris), or
 * drips a body, would hold its connection for hours, and enough of them
 * would hold every one.  Each connection gets REQUEST_DEADLINE_S, from
 * when it opened or its last response went out, to deliver a whole
 * request; past that, reap_slow shuts its socket down and libmicrohttpd
 * closes it as a client gone.
 *
 * A client that shuts down its sending side after its request (a script
 * piping into nc, say) gets its answer, but libmicrohttpd 0.9.75 has
 * already read that end of file and keeps the connection as if it were
 * kept alive: a few dozen of those a second would fill the per-address
 * limit.  A connection with no request under way whose client has gone
 * (end of file, seen by peeking, twice in a row) is shut down too.
 *
 * libmicrohttpd sends the close notice (which unlinks the connection
 * here, under the lock) before it closes the descriptor, so a descriptor
 * shut down here is never one already reused.
 */
struct conn {
	struct conn *prev, *next;
	int fd;
	double since;	/* opened, or its last response completed */
	bool busy;	/* a request line has come, its answer not gone out */
	bool answering; /* a response is queued: waiting on us, not on it */
	double gone;	/* when the client was first seen gone, or 0 */
	double gone_since; /* since, then */
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn conns = { .prev = &conns, .next = &conns, .fd = -1 };

/* Each worker thread keeps its own read-only connection. */
struct thread_db {
	struct kb_db *db;
	uint_fast64_t gen;
};

/* One request, from the first callback to the completion notice. */
struct request {
	double start;
	int status;
	size_t body;
	char method[16];
	char path[256];
};

typedef int (*handler_fn)(struct MHD_Connection *c, struct request *rq,
			  const char *url);

enum { ROUTE_EXACT, ROUTE_PREFIX };
enum { KIND_HTML, KIND_API };

struct route {
	const char *path;
	int match;
	int kind;
	handler_fn fn;
};

static void
logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kbserver: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
close_thread_db(void *p)
{
	struct thread_db *t = p;

	if (t == NULL)
		return;
	kb_db_close(t->db);
	free(t);
}

/*
 * This thread's connection to the current index.  When the file has been
 * replaced, a new connection is opened before the old one is closed: a
 * request never finds no index, and the old file stays readable until
 * the last request on it is done.
 */
static struct kb_db *
thread_db(void)
{
	struct thread_db *t = pthread_getspecific(db_key);
	uint_fast64_t gen = atomic_load(&generation);
	struct kb_db *db = NULL;
	struct kb_error err;

	if (t == NULL) {
		t = kb_xcalloc(1, sizeof(*t));
		pthread_setspecific(db_key, t);
	}
	if (t->db == NULL || t->gen != gen) {
		if (kb_db_open(cfg.db, &db, &err) == KB_OK) {
			kb_db_set_timeout(db, QUERY_TIMEOUT_MS);
			kb_db_close(t->db);
			t->db = db;
			t->gen = gen;
		} else if (t->db == NULL) {
			logmsg("%s", err.msg);
		} /* else keep serving from the old index */
	}
	/*
	 * Every request gets the query time afresh, whatever it reads: a
	 * deadline left armed by this thread's last search would otherwise
	 * interrupt the statements of any later request (/api/symptoms
	 * failed with 503 once a search on its thread was 2 s old).
	 */
	if (t->db != NULL)
		kb_db_deadline_start(t->db);
	return t->db;
}

#ifndef KB_SERVER_NO_MAIN
/* Watches the index file and SIGHUP; bumps the generation on change. */
static void *
watch_index(void *arg)
{
	struct stat last, now;
	bool have = stat(cfg.db, &last) == 0;
	struct timespec ts = { 0, RELOAD_CHECK_MS * 1000000L };

	(void)arg;
	while (!got_stop) {
		nanosleep(&ts, NULL);
		if (got_hup) {
			got_hup = 0;
			atomic_fetch_add(&generation, 1);
			logmsg("SIGHUP: reopening %s", cfg.db);
		}
		if (stat(cfg.db, &now) != 0)
			continue;
		if (!have || now.st_ino != last.st_ino ||
		    now.st_dev != last.st_dev ||
		    now.st_mtim.tv_sec != last.st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != last.st_mtim.tv_nsec ||
		    now.st_size != last.st_size) {
			if (have)
				atomic_fetch_add(&generation, 1);
			last = now;
			have = true;
		}
	}
	return NULL;
}
#endif

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* The request is in; what is left is ours to send. */
static void
conn_answering(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	k->answering = true;
	pthread_mutex_unlock(&conns_lock);
}

static void
add_common_headers(struct MHD_Response *resp, int kind)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (kind == KIND_API) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin",
					"*");
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	} else {
		MHD_add_response_header(
			resp, "Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; "
			"object-src 'none'; base-uri 'none'; "
			"frame-ancestors 'none'; form-action 'self'");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
}

/* Queue body (malloc'd, taken over) with status and type. */
static int
respond(struct MHD_Connection *c, struct request *rq, int status,
	const char *type, char *body, size_t len, int kind)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	add_common_headers(resp, kind);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE ||
	    status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, "Retry-After", "1");
	ok = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	rq->status = status;
	conn_answering(c);
	return ok;
}

/* doc as the API sends it (doc is released); NULL when out of memory. */
static char *
dump_json(json_t *doc, size_t *len)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII |
				  JSON_REAL_PRECISION(6));

	json_decref(doc);
	*len = s ? strlen(s) : 0;
	return s;
}

static int
respond_json(struct MHD_Connection *c, struct request *rq, int status,
	     json_t *doc)
{
	size_t len;
	char *s = dump_json(doc, &len);

	if (s == NULL)
		return MHD_NO;
	return respond(c, rq, status, "application/json; charset=utf-8", s,
		       len, KIND_API);
}

static int
api_error(struct MHD_Connection *c, struct request *rq, int status,
	  const char *code, const char *message)
{
	return respond_json(c, rq, status, kb_json_error(code, message));
}

static int
html_error(struct MHD_Connection *c, struct request *rq, int status,
	   const char *message)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_error_page(&b, status, message);
	return respond(c, rq, status, "text/html; charset=utf-8", b.data,
		       b.len, KIND_HTML);
}

static int
error_for(struct MHD_Connection *c, struct request *rq, int kind, int status,
	  const char *code, const char *message)
{
	if (kind == KIND_API)
		return api_error(c, rq, status, code, message);
	return html_error(c, rq, status, message);
}

/*
 * A query-string parameter, checked: NULL when absent; *bad set (and a
 * message given) when present but unusable.  Percent-decoding turns %00
 * into a control byte (see unescape below), so NUL is caught here too.
 * A query's text (text true) may hold tabs and line breaks, which a
 * pasted ticket has and search reads as spaces; no other value may.
 */
static const char *
param_of(struct MHD_Connection *c, const char *name, size_t max, bool text,
	 const char **bad)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    name);
	const unsigned char *p;
	size_t n;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	if (n > max) {
		*bad = "is too long";
		return NULL;
	}
	if (!kb_utf8_valid(v, n)) {
		*bad = "is not valid UTF-8";
		return NULL;
	}
	for (p = (const unsigned char *)v; *p; p++) {
		if (text && (*p == '\t' || *p == '\n' || *p == '\r'))
			continue;
		if (*p < 0x20 || *p == 0x7f) {
			*bad = "contains a control character or NUL";
			return NULL;
		}
	}
	return v;
}

static const char *
param(struct MHD_Connection *c, const char *name, size_t max,
      const char **bad)
{
	return param_of(c, name, max, false, bad);
}

/* A query's text: see param_of. */
static const char *
query_param(struct MHD_Connection *c, const char *name, const char **bad)
{
	return param_of(c, name, MAX_QUERY_BYTES, true, bad);
}

/* Nothing but spaces, tabs and line breaks. */
static bool
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

static int
number_param(struct MHD_Connection *c, const char *name, long min, long max,
	     long dflt, long *out, const char **bad)
{
	const char *v = param(c, name, 32, bad);
	char *end;
	long n;

	*out = dflt;
	if (*bad != NULL)
		return -1;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || errno != 0 || n < min) {
		*bad = "must be a whole number in range";
		return -1;
	}
	*out = n > max ? max : n;
	return 0;
}

static int
bad_param(struct MHD_Connection *c, struct request *rq, int kind,
	  const char *name, const char *why)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "parameter '%s' %s", name, why);
	return error_for(c, rq, kind, MHD_HTTP_BAD_REQUEST, "bad_parameter",
			 msg);
}

static int
no_index(struct MHD_Connection *c, struct request *rq, int kind)
{
	return error_for(c, rq, kind, MHD_HTTP_SERVICE_UNAVAILABLE,
			 "no_index",
			 "the index is not available; run kbindex");
}

static int
search_failed(struct MHD_Connection *c, struct request *rq, int kind,
	      const struct kb_error *err)
{
	if (err->status == KB_ERR_TIMEOUT)
		return error_for(c, rq, kind, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "timeout", "the query took too long");
	logmsg("search failed: %s", err->msg);
	return error_for(c, rq, kind, MHD_HTTP_SERVICE_UNAVAILABLE,
			 "unavailable", "the index could not be searched");
}

/* Shared by /api/search and the page: q, model, symptom, limit, offset. */
struct search_args {
	const char *q, *model, *symptom;
	long limit, offset;
};

static int
read_search_args(struct MHD_Connection *c, struct search_args *a,
		 const char **badname, const char **why, bool need_q)
{
	*why = NULL;
	memset(a, 0, sizeof(*a));
	a->q = query_param(c, "q", why);
	if (*why) {
		*badname = "q";
		return -1;
	}
	if (need_q && (a->q == NULL || blank(a->q))) {
		*badname = "q";
		*why = "is required and must not be empty";
		return -1;
	}
	a->model = param(c, "model", 200, why);
	if (*why) {
		*badname = "model";
		return -1;
	}
	a->symptom = param(c, "symptom", 200, why);
	if (*why) {
		*badname = "symptom";
		return -1;
	}
	if (number_param(c, "limit", 1, KB_SEARCH_MAX_LIMIT, 10, &a->limit,
			 why) != 0) {
		*badname = "limit";
		return -1;
	}
	if (number_param(c, "offset", 0, 100000, 0, &a->offset, why) != 0) {
		*badname = "offset";
		return -1;
	}
	return 0;
}

/*
 * Run the search a request asks for.  0 with *r set, or the queued error
 * response's return value (no index, timeout) with *r NULL.
 */
static int
run_search(struct MHD_Connection *c, struct request *rq, int kind,
	   const struct search_args *a, struct kb_result **r, int *ret)
{
	struct kb_search_opts o = { 0 };
	struct kb_error err;
	struct kb_db *db = thread_db();

	*r = NULL;
	if (db == NULL) {
		*ret = no_index(c, rq, kind);
		return -1;
	}
	o.query = a->q;
	o.model = a->model;
	o.symptom = a->symptom;
	o.limit = (size_t)a->limit;
	o.offset = (size_t)a->offset;
	if (kb_search(db, &o, r, &err) != KB_OK) {
		*ret = search_failed(c, rq, kind, &err);
		return -1;
	}
	return 0;
}

static int
route_search(struct MHD_Connection *c, struct request *rq, const char *url)
{
	struct search_args a;
	struct kb_result *r = NULL;
	const char *name = NULL, *why = NULL;
	int ret;

	struct kb_buf key;
	uint_fast64_t gen = atomic_load(&generation);
	char *body;
	size_t len = 0;

	(void)url;
	if (read_search_args(c, &a, &name, &why, true) != 0)
		return bad_param(c, rq, KIND_API, name, why);
	kb_buf_init(&key);
	kb_buf_printf(&key, "%s\x1f%s\x1f%s\x1f%ld\x1f%ld", a.q ? a.q : "",
		      a.model ? a.model : "\x1e", a.symptom ? a.symptom : "\x1e",
		      a.limit, a.offset);
	body = resp_cache_get(cache, gen, key.data, key.len, &len);
	if (body == NULL) {
		if (run_search(c, rq, KIND_API, &a, &r, &ret) != 0) {
			kb_buf_free(&key);
			return ret;
		}
		body = dump_json(kb_json_result(r), &len);
		kb_result_free(r);
		if (body == NULL) {
			kb_buf_free(&key);
			return MHD_NO;
		}
		resp_cache_put(cache, gen, key.data, key.len, body, len);
	}
	kb_buf_free(&key);
	return respond(c, rq, MHD_HTTP_OK, "application/json; charset=utf-8",
		       body, len, KIND_API);
}

static int
parse_id(const char *s, long long *id)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return (*end == '\0' && errno == 0) ? 0 : -1;
}

static int
route_article_json(struct MHD_Connection *c, struct request *rq,
		   const char *url)
{
	const char *rest = url + strlen("/api/articles/");
	struct kb_db_article *a = NULL;
	struct kb_error err;
	struct kb_db *db;
	long long id;
	char key[32];
	int ret;

	if (parse_id(rest, &id) != 0)
		return api_error(c, rq, MHD_HTTP_NOT_FOUND, "not_found",
				 "no such article");
	db = thread_db();
	if (db == NULL)
		return no_index(c, rq, KIND_API);
	snprintf(key, sizeof(key), "%lld", id);
	if (kb_db_article(db, key, &a, &err) != KB_OK)
		return api_error(c, rq, MHD_HTTP_NOT_FOUND, "not_found",
				 "no such article");
	ret = respond_json(c, rq, MHD_HTTP_OK, kb_json_article(a));
	kb_db_article_free(a);
	return ret;
}

static int
route_tags(struct MHD_Connection *c, struct request *rq, int kind_tag)
{
	struct kb_error err;
	struct kb_db *db = thread_db();
	json_t *arr;

	if (db == NULL)
		return no_index(c, rq, KIND_API);
	arr = kb_json_tags(db, kind_tag, &err);
	if (arr == NULL)
		return search_failed(c, rq, KIND_API, &err);
	return respond_json(c, rq, MHD_HTTP_OK, arr);
}

static int
route_models(struct MHD_Connection *c, struct request *rq, const char *url)
{
	(void)url;
	return route_tags(c, rq, KB_TAG_MODEL);
}

static int
route_symptoms(struct MHD_Connection *c, struct request *rq, const char *url)
{
	(void)url;
	return route_tags(c, rq, KB_TAG_SYMPTOM);
}

static int
route_leds(struct MHD_Connection *c, struct request *rq, const char *url)
{
	const char *why = NULL, *model = param(c, "model", 200, &why);
	struct kb_db_led *l = NULL;
	struct kb_error err;
	struct kb_db *db;
	json_t *arr;
	size_t n = 0, i;

	(void)url;
	if (why)
		return bad_param(c, rq, KIND_API, "model", why);
	db = thread_db();
	if (db == NULL)
		return no_index(c, rq, KIND_API);
	if (model != NULL && *model) {
		const struct kb_model *m =
			kb_taxonomy_model(kb_db_taxonomy(db), model);

		if (m != NULL)
			model = m->name;
	} else {
		model = NULL;
	}
	if (kb_db_leds(db, model, &l, &n, &err) != KB_OK)
		return search_failed(c, rq, KIND_API, &err);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(
			arr,
			json_pack("{s:s?, s:s, s:s, s:s, s:{s:I, s:I, s:s, s:s,"
				  " s:s}}",
				  "model", l[i].model, "color", l[i].color,
				  "pattern", l[i].pattern, "meaning",
				  l[i].meaning, "source", "article",
				  (json_int_t)l[i].article, "section",
				  (json_int_t)l[i].section, "path", l[i].path,
				  "heading", l[i].heading, "anchor",
				  l[i].anchor));
	kb_db_leds_free(l, n);
	return respond_json(c, rq, MHD_HTTP_OK, arr);
}

static int
route_suggest(struct MHD_Connection *c, struct request *rq, const char *url)
{
	const char *why = NULL, *q = query_param(c, "q", &why);
	struct kb_suggestion *v = NULL;
	struct kb_error err;
	struct kb_db *db;
	json_t *doc, *arr;
	size_t n = 0, i;

	(void)url;
	if (why)
		return bad_param(c, rq, KIND_API, "q", why);
	if (q == NULL)
		return bad_param(c, rq, KIND_API, "q", "is required");
	db = thread_db();
	if (db == NULL)
		return no_index(c, rq, KIND_API);
	if (kb_suggest(db, q, 10, &v, &n, &err) != KB_OK)
		return search_failed(c, rq, KIND_API, &err);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s?}", "text", v[i].text,
				       "type", kb_suggest_type_name(v[i].type),
				       "value", v[i].value));
	kb_suggestions_free(v, n);
	doc = json_pack("{s:s, s:o}", "query", q, "suggestions", arr);
	return respond_json(c, rq, MHD_HTTP_OK, doc);
}

static int
route_healthz(struct MHD_Connection *c, struct request *rq, const char *url)
{
	struct kb_db_stats st;
	struct kb_error err;
	struct kb_db *db = thread_db();

	(void)url;
	if (db == NULL || kb_db_stats(db, &st, &err) != KB_OK)
		return respond_json(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
				    json_pack("{s:s}", "status",
					      "no index"));
	return respond_json(
		c, rq, MHD_HTTP_OK,
		json_pack("{s:s, s:I, s:I, s:I, s:s}", "status", "ok",
			  "articles", (json_int_t)st.articles, "sections",
			  (json_int_t)st.sections, "leds",
			  (json_int_t)st.leds, "builtAt", st.built_at));
}

/* Host: header, if it is a plain host[:port]; else our own address. */
static char *
origin_of(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "Host");
	size_t i;

	if (h != NULL && *h && strlen(h) < 200) {
		for (i = 0; h[i]; i++) {
			char ch = h[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' ||
			      ch == '-' || ch == ':' || ch == '[' || ch == ']'))
				break;
		}
		if (h[i] == '\0')
			return kb_xasprintf("http://%s", h);
	}
	return kb_xasprintf("http://%s:%u", cfg.bind, bound_port);
}

static void
url_encode(struct kb_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			kb_buf_addc(b, (char)ch);
		} else {
			kb_buf_addc(b, '%');
			kb_buf_addc(b, hex[ch >> 4]);
			kb_buf_addc(b, hex[ch & 15]);
		}
	}
}

/* Zendesk snippets mark matches with <em>, not <mark>. */
static char *
zendesk_snippet(const char *marked)
{
	char *h = kb_snippet_html(marked);
	struct kb_buf b;
	const char *p;

	kb_buf_init(&b);
	kb_buf_add(&b, "", 0);
	for (p = h; *p;) {
		if (strncmp(p, "<mark>", 6) == 0) {
			kb_buf_adds(&b, "<em>");
			p += 6;
		} else if (strncmp(p, "</mark>", 7) == 0) {
			kb_buf_adds(&b, "</em>");
			p += 7;
		} else {
			kb_buf_addc(&b, *p++);
		}
	}
	free(h);
	return kb_buf_steal(&b);
}

static char *
zendesk_page_url(const char *origin, const char *query, long page,
		 long per_page, const char *labels)
{
	struct kb_buf b;

	kb_buf_init(&b);
	kb_buf_printf(&b, "%s/api/v2/help_center/articles/search.json?query=",
		      origin);
	url_encode(&b, query);
	kb_buf_printf(&b, "&page=%ld&per_page=%ld", page, per_page);
	if (labels != NULL && *labels) {
		kb_buf_adds(&b, "&label_names=");
		url_encode(&b, labels);
	}
	return kb_buf_steal(&b);
}

/*
 * Zendesk Guide's article search, so help-desk integrations written for it
 * work unchanged.  Results are sections (each links to its place in the
 * article); label_names filter by model and symptom.
 */
static int
route_zendesk(struct MHD_Connection *c, struct request *rq, const char *url)
{
	const char *why = NULL, *query, *labels;
	struct kb_search_opts o = { 0 };
	struct kb_result *r = NULL;
	struct kb_error err;
	struct kb_strv model_l, sym_l;
	struct kb_db *db;
	long page, per_page, count, page_count;
	char *origin = NULL;
	json_t *doc, *results;
	size_t i;
	int ret;

	(void)url;
	query = query_param(c, "query", &why);
	if (why)
		return bad_param(c, rq, KIND_API, "query", why);
	if (query == NULL || blank(query))
		return bad_param(c, rq, KIND_API, "query",
				 "is required and must not be empty");
	labels = param(c, "label_names", 1000, &why);
	if (why)
		return bad_param(c, rq, KIND_API, "label_names", why);
	if (number_param(c, "page", 1, 100000, 1, &page, &why) != 0)
		return bad_param(c, rq, KIND_API, "page", why);
	if (number_param(c, "per_page", 1, 100, 25, &per_page, &why) != 0)
		return bad_param(c, rq, KIND_API, "per_page", why);
	db = thread_db();
	if (db == NULL)
		return no_index(c, rq, KIND_API);

	kb_strv_init(&model_l);
	kb_strv_init(&sym_l);
	if (labels != NULL) {
		const struct kb_taxonomy *t = kb_db_taxonomy(db);
		char *copy = kb_xstrdup(labels), *save = NULL, *tok;

		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			const struct kb_model *m;
			const struct kb_symptom *s;

			kb_squeeze_space(tok);
			if (*tok == '\0')
				continue;
			if ((m = kb_taxonomy_model(t, tok)) != NULL)
				kb_strv_add_unique(&model_l, m->name);
			else if ((s = kb_taxonomy_symptom(t, tok)) != NULL)
				kb_strv_add_unique(&sym_l, s->id);
			else
				kb_strv_add_unique(&sym_l, tok);
		}
		free(copy);
	}
	o.query = query;
	o.model = model_l.n ? model_l.v[0] : NULL;
	o.symptom = sym_l.n ? sym_l.v[0] : NULL;
	o.limit = (size_t)per_page;
	o.offset = (size_t)((page - 1) * per_page);
	/* Two different models or symptoms at once: nothing has both. */
	if (model_l.n > 1 || sym_l.n > 1)
		o.symptom = "\x01no-such-label";
	if (kb_search(db, &o, &r, &err) != KB_OK) {
		kb_strv_free(&model_l);
		kb_strv_free(&sym_l);
		return search_failed(c, rq, KIND_API, &err);
	}
	origin = origin_of(c);
	results = json_array();
	for (i = 0; i < r->nhits; i++) {
		const struct kb_hit *h = &r->hits[i];
		json_t *lab = json_array();
		char *snip = zendesk_snippet(h->snippet ? h->snippet : "");
		char *link = kb_xasprintf("%s/articles/%lld#%s", origin,
					  (long long)h->article, h->anchor);
		size_t k;

		for (k = 0; k < h->models.n; k++)
			json_array_append_new(lab, json_string(h->models.v[k]));
		for (k = 0; k < h->symptoms.n; k++)
			json_array_append_new(lab,
					      json_string(h->symptoms.v[k]));
		json_array_append_new(
			results,
			json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:o, s:s,"
				  " s:f}",
				  "id", (json_int_t)h->id, "article_id",
				  (json_int_t)h->article, "title", h->title,
				  "section_title", h->heading, "html_url",
				  link, "snippet", snip, "label_names", lab,
				  "result_type", "article", "score",
				  h->score));
		free(snip);
		free(link);
	}
	count = (long)r->total;
	page_count = count > 0 ? (count + per_page - 1) / per_page : 0;
	doc = json_pack("{s:o, s:I, s:I, s:I, s:I}", "results", results,
			"count", (json_int_t)count, "page", (json_int_t)page,
			"per_page", (json_int_t)per_page, "page_count",
			(json_int_t)page_count);
	if (page < page_count) {
		char *u = zendesk_page_url(origin, query, page + 1, per_page,
					   labels);

		json_object_set_new(doc, "next_page", json_string(u));
		free(u);
	} else {
		json_object_set_new(doc, "next_page", json_null());
	}
	if (page > 1) {
		char *u = zendesk_page_url(origin, query, page - 1, per_page,
					   labels);

		json_object_set_new(doc, "previous_page", json_string(u));
		free(u);
	} else {
		json_object_set_new(doc, "previous_page", json_null());
	}
	kb_result_free(r);
	kb_strv_free(&model_l);
	kb_strv_free(&sym_l);
	free(origin);
	ret = respond_json(c, rq, MHD_HTTP_OK, doc);
	return ret;
}

static int
route_page(struct MHD_Connection *c, struct request *rq, const char *url)
{
	struct search_args a;
	struct kb_result *r = NULL;
	const char *name = NULL, *why = NULL;
	struct kb_buf b;
	int ret;

	(void)url;
	if (read_search_args(c, &a, &name, &why, false) != 0)
		return bad_param(c, rq, KIND_HTML, name, why);
	if (a.q != NULL && !blank(a.q) &&
	    run_search(c, rq, KIND_HTML, &a, &r, &ret) != 0)
		return ret;
	kb_buf_init(&b);
	kb_html_search_page(&b, a.q, a.model, a.symptom, r);
	kb_result_free(r);
	return respond(c, rq, MHD_HTTP_OK, "text/html; charset=utf-8", b.data,
		       b.len, KIND_HTML);
}

static int
route_article_page(struct MHD_Connection *c, struct request *rq,
		   const char *url)
{
	const char *rest = url + strlen("/articles/"), *why = NULL, *q;
	struct kb_db_article *a = NULL;
	struct kb_error err;
	struct kb_db *db;
	struct kb_buf b;
	long long id;
	char key[32];

	if (parse_id(rest, &id) != 0)
		return html_error(c, rq, MHD_HTTP_NOT_FOUND, "No such article.");
	q = query_param(c, "q", &why);
	if (why)
		q = NULL;
	db = thread_db();
	if (db == NULL)
		return no_index(c, rq, KIND_HTML);
	snprintf(key, sizeof(key), "%lld", id);
	if (kb_db_article(db, key, &a, &err) != KB_OK)
		return html_error(c, rq, MHD_HTTP_NOT_FOUND, "No such article.");
	kb_buf_init(&b);
	kb_html_article_page(&b, a, q);
	kb_db_article_free(a);
	return respond(c, rq, MHD_HTTP_OK, "text/html; charset=utf-8", b.data,
		       b.len, KIND_HTML);
}

/* Assets: compiled in, or read from --web DIR by exact name only. */
static int
send_asset(struct MHD_Connection *c, struct request *rq, const char *name)
{
	const struct kb_asset *a = NULL;
	char *body = NULL;
	size_t len = 0, i;

	for (i = 0; i < kb_nassets; i++)
		if (strcmp(kb_assets[i].name, name) == 0)
			a = &kb_assets[i];
	if (a == NULL)
		return html_error(c, rq, MHD_HTTP_NOT_FOUND, "No such file.");
	if (cfg.web != NULL) {
		char *path = kb_xasprintf("%s/%s", cfg.web, a->name);
		struct kb_error err;

		if (kb_read_file(path, 1 << 20, &body, &len, &err) != KB_OK)
			body = NULL;
		free(path);
	}
	if (body == NULL) {
		len = a->len;
		body = kb_xmalloc(len + 1);
		memcpy(body, a->data, len);
	}
	if (strcmp(name, "opensearch.xml") == 0) {
		/* The description names this server's own address. */
		char *origin = origin_of(c), *p;
		struct kb_buf b;

		body[len] = '\0';
		kb_buf_init(&b);
		kb_buf_add(&b, "", 0);
		for (p = body; *p;) {
			if (strncmp(p, "{origin}", 8) == 0) {
				kb_html_escape(&b, origin);
				p += 8;
			} else {
				kb_buf_addc(&b, *p++);
			}
		}
		free(body);
		free(origin);
		len = b.len;
		body = kb_buf_steal(&b);
	}
	return respond(c, rq, MHD_HTTP_OK, a->type, body, len, KIND_HTML);
}

static int
route_static(struct MHD_Connection *c, struct request *rq, const char *url)
{
	return send_asset(c, rq, url + strlen("/static/"));
}

static int
route_opensearch(struct MHD_Connection *c, struct request *rq,
		 const char *url)
{
	(void)url;
	return send_asset(c, rq, "opensearch.xml");
}

/* One table maps each path to its handler. */
static const struct route routes[] = {
	{ "/", ROUTE_EXACT, KIND_HTML, route_page },
	{ "/articles/", ROUTE_PREFIX, KIND_HTML, route_article_page },
	{ "/static/", ROUTE_PREFIX, KIND_HTML, route_static },
	{ "/opensearch.xml", ROUTE_EXACT, KIND_HTML, route_opensearch },
	{ "/healthz", ROUTE_EXACT, KIND_API, route_healthz },
	{ "/api/search", ROUTE_EXACT, KIND_API, route_search },
	{ "/api/articles/", ROUTE_PREFIX, KIND_API, route_article_json },
	{ "/api/models", ROUTE_EXACT, KIND_API, route_models },
	{ "/api/symptoms", ROUTE_EXACT, KIND_API, route_symptoms },
	{ "/api/leds", ROUTE_EXACT, KIND_API, route_leds },
	{ "/api/suggest", ROUTE_EXACT, KIND_API, route_suggest },
	{ "/api/v2/help_center/articles/search.json", ROUTE_EXACT, KIND_API,
	  route_zendesk },
};

static const struct route *
find_route(const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->match == ROUTE_EXACT ? strcmp(url, r->path) == 0
					    : strncmp(url, r->path,
						      strlen(r->path)) == 0)
			return r;
	}
	return NULL;
}

static int
preflight(struct MHD_Connection *c, struct request *rq, int kind)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (resp == NULL)
		return MHD_NO;
	add_common_headers(resp, kind);
	MHD_add_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
	if (kind == KIND_API) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods",
					"GET, HEAD, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Accept, Content-Type");
		MHD_add_response_header(resp, "Access-Control-Max-Age",
					"86400");
	}
	ok = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	rq->status = MHD_HTTP_NO_CONTENT;
	conn_answering(c);
	return ok;
}

enum MHD_Result
kb_server_handle(void *cls, struct MHD_Connection *c, const char *url,
		 const char *method, const char *version, const char *upload,
		 size_t *upload_size, void **req_cls)
{
	struct request *rq = *req_cls;
	const struct route *route;
	int kind, ret;
	bool get, head;

	(void)cls;
	(void)version;
	(void)upload;
	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		rq = kb_xcalloc(1, sizeof(*rq));
		rq->start = kb_now();
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		snprintf(rq->path, sizeof(rq->path), "%s", url);
		*req_cls = rq;
		/* Refuse a large body before reading any of it. */
		if (cl != NULL && strtoull(cl, NULL, 10) > MAX_BODY_BYTES) {
			rq->body = MAX_BODY_BYTES + 1;
			return (enum MHD_Result)error_for(
				c, rq,
				strncmp(url, "/api/", 5) == 0 ? KIND_API
							      : KIND_HTML,
				MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				"request body too large");
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/*
		 * No route takes a body: count it and drop it; the answer
		 * (405 or 413) goes out once the upload has been read, as
		 * libmicrohttpd wants, within the connection timeout.
		 */
		rq->body += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->status != 0)
		return MHD_YES;
	route = find_route(url);
	kind = (route ? route->kind
		      : (strncmp(url, "/api/", 5) == 0 ? KIND_API : KIND_HTML));
	get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && route != NULL)
		return (enum MHD_Result)preflight(c, rq, kind);
	if (!get && !head)
		return (enum MHD_Result)error_for(
			c, rq, kind, MHD_HTTP_METHOD_NOT_ALLOWED,
			"method_not_allowed", "use GET, HEAD or OPTIONS");
	if (rq->body > MAX_BODY_BYTES)
		return (enum MHD_Result)error_for(
			c, rq, kind, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			"request body too large");
	if (route == NULL)
		return (enum MHD_Result)error_for(c, rq, kind,
						  MHD_HTTP_NOT_FOUND,
						  "not_found", "no such page");
	if (atomic_fetch_add(&inflight, 1) >=
	    (int)(cfg.threads * INFLIGHT_PER_THREAD)) {
		atomic_fetch_sub(&inflight, 1);
		return (enum MHD_Result)error_for(
			c, rq, kind, MHD_HTTP_SERVICE_UNAVAILABLE, "overloaded",
			"too many requests at once; try again");
	}
	ret = route->fn(c, rq, url);
	atomic_fetch_sub(&inflight, 1);
	return (enum MHD_Result)ret;
}

void
kb_server_completed(void *cls, struct MHD_Connection *c, void **req_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *req_cls;
	struct conn *k = conn_of(c);

	(void)cls;
	if (k != NULL) {
		/* The next request's time starts now. */
		pthread_mutex_lock(&conns_lock);
		k->since = kb_now();
		k->busy = false;
		k->answering = false;
		pthread_mutex_unlock(&conns_lock);
	}
	if (rq == NULL)
		return;
	if (!cfg.quiet)
		fprintf(stderr, "%s %s %d %.1f%s\n", rq->method, rq->path,
			rq->status, (kb_now() - rq->start) * 1000.0,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
				? ""
				: " (connection closed early)");
	free(rq);
	*req_cls = NULL;
}

#ifndef KB_SERVER_NO_MAIN
static void
connection_note(void *cls, struct MHD_Connection *c, void **socket_ctx,
		enum MHD_ConnectionNotificationCode toe)
{
	struct conn *k = *socket_ctx;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_CONNECTION_FD);

		atomic_fetch_add(&open_conns, 1);
		k = kb_xcalloc(1, sizeof(*k));
		k->fd = ci != NULL ? ci->connect_fd : -1;
		k->since = kb_now();
		pthread_mutex_lock(&conns_lock);
		k->next = conns.next;
		k->prev = &conns;
		conns.next->prev = k;
		conns.next = k;
		pthread_mutex_unlock(&conns_lock);
		*socket_ctx = k;
		return;
	}
	atomic_fetch_sub(&open_conns, 1);
	if (k == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	k->prev->next = k->next;
	k->next->prev = k->prev;
	pthread_mutex_unlock(&conns_lock);
	free(k);
	*socket_ctx = NULL;
}

/* A request line has arrived (libmicrohttpd's URI log callback). */
static void *
request_begins(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	(void)cls;
	(void)uri;
	if (k != NULL) {
		pthread_mutex_lock(&conns_lock);
		k->busy = true;
		pthread_mutex_unlock(&conns_lock);
	}
	return NULL; /* handle() starts each request from NULL */
}

/*
 * Whether an idle connection's client has gone: end of file with nothing
 * before it.  Seen twice, a sweep apart, with no request begun or
 * finished in between, so bytes libmicrohttpd has read but not yet
 * parsed (a pipelined request) are always parsed first.
 */
static bool
client_gone(struct conn *k, double now)
{
	char c;

	if (k->busy || k->answering ||
	    recv(k->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0) {
		k->gone = 0;
		return false;
	}
	if (k->gone == 0 || k->gone_since != k->since) {
		k->gone = now;
		k->gone_since = k->since;
		return false;
	}
	return true;
}

/*
 * Shuts down connections that have not sent a request in time, whose
 * client has gone, or, once stopping, that have no request under way (a
 * browser's kept-alive connection would otherwise hold the exit up).
 */
static void *
reap_slow(void *arg)
{
	struct timespec ts = { 0, 250 * 1000000L };

	(void)arg;
	while (!atomic_load(&stopped)) {
		struct conn *k;
		double now;

		nanosleep(&ts, NULL);
		now = kb_now();
		pthread_mutex_lock(&conns_lock);
		for (k = conns.next; k != &conns; k = k->next) {
			if (k->fd < 0)
				continue;
			if ((!k->answering &&
			     now - k->since > REQUEST_DEADLINE_S) ||
			    (got_stop && !k->busy && !k->answering) ||
			    client_gone(k, now)) {
				shutdown(k->fd, SHUT_RDWR);
				k->fd = -1; /* once */
			}
		}
		pthread_mutex_unlock(&conns_lock);
	}
	return NULL;
}
#endif

/*
 * Percent-decoding for paths and parameters.  %00 becomes 0x01 instead of
 * cutting the string short, so "/static/app.js%00.png" is not app.js and
 * "q=a%00b" is refused instead of searched as "a".
 */
size_t
kb_server_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)c;
	while (*r) {
		if (r[0] == '%' && r[1] && r[2] &&
		    strchr("0123456789abcdefABCDEF", r[1]) &&
		    strchr("0123456789abcdefABCDEF", r[2])) {
			char hex[3] = { r[1], r[2], 0 };
			unsigned long v = strtoul(hex, NULL, 16);

			*w++ = v == 0 ? '\x01' : (char)v;
			r += 3;
		} else if (*r == '+') {
			*w++ = ' ';
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

void
kb_server_setup(const char *db, unsigned threads, bool quiet)
{
	cfg.db = db;
	if (cfg.bind == NULL)
		cfg.bind = "127.0.0.1";
	cfg.threads = threads == 0 ? 1 : threads;
	cfg.quiet = quiet;
	pthread_key_create(&db_key, close_thread_db);
}

/*
 * The daemon around the handler: signals, the index watcher, slow-client
 * reaper, options.  Left out (KB_SERVER_NO_MAIN) where the handler is
 * driven directly.
 */
#ifndef KB_SERVER_NO_MAIN
static void
usage(FILE *fp)
{
	fputs("usage: kbserver [--db PATH] [--bind ADDRESS] [--port N] "
	      "[--threads N] [--cache-mb N] [--quiet] [--web DIR]\n"
	      "\n"
	      "Serve the kbsearch JSON API and web search page.\n"
	      "\n"
	      "  --db PATH      index (default $KBSEARCH_DB, else ./kb.db)\n"
	      "  --bind ADDR    address to listen on (default 127.0.0.1)\n"
	      "  --port N       port (default 8080; 0 picks a free one)\n"
	      "  --threads N    worker threads (default: one per CPU, 2 to "
	      "16)\n"
	      "  --cache-mb N   memory for repeated /api/search answers "
	      "(default 16; 0: none)\n"
	      "  --quiet        no access log\n"
	      "  --web DIR      serve the page's files from DIR (development)\n"
	      "\n"
	      "SIGHUP, or kbindex replacing the index, switches to the new "
	      "index;\nSIGINT/SIGTERM finish in-flight requests and exit.\n",
	      fp);
}

static int
parse_uint(const char *what, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max ||
	    *s == '-') {
		fprintf(stderr, "kbserver: %s must be a number from 0 to %u, "
				"not '%s'\n",
			what, max, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "cache-mb", required_argument, NULL, 'c' },
		{ "web", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sin;
	sigset_t stop_sigs;
	MHD_socket ls;
	struct kb_db *probe = NULL;
	struct kb_error err;
	const union MHD_DaemonInfo *info;
	pthread_t watcher, reaper;
	double t0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c, sig;

	cfg.db = getenv("KBSEARCH_DB");
	if (cfg.db == NULL || *cfg.db == '\0')
		cfg.db = "kb.db";
	cfg.bind = "127.0.0.1";
	cfg.port = 8080;
	cfg.threads = ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
	cfg.cache_mb = 16;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.db = optarg;
			break;
		case 'b':
			cfg.bind = optarg;
			break;
		case 'p':
			if (parse_uint("--port", optarg, 65535, &cfg.port))
				return 2;
			break;
		case 't':
			if (parse_uint("--threads", optarg, 256, &cfg.threads))
				return 2;
			if (cfg.threads == 0)
				cfg.threads = 1;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'c':
			if (parse_uint("--cache-mb", optarg, 4096, &cfg.cache_mb))
				return 2;
			break;
		case 'w':
			cfg.web = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kbserver %s\n", KB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)cfg.port);
	if (inet_pton(AF_INET, cfg.bind, &sin.sin_addr) != 1) {
		fprintf(stderr, "kbserver: --bind must be an IPv4 address, not "
				"'%s'\n",
			cfg.bind);
		return 2;
	}
	/* Say now, not on the first request, if the index is unusable. */
	if (kb_db_open(cfg.db, &probe, &err) != KB_OK) {
		fprintf(stderr, "kbserver: %s%s\n", err.msg,
			err.status == KB_ERR_MISSING
				? ": run `kbindex kb/` first (or set --db)"
				: "");
		return 3;
	}
	kb_db_close(probe);

	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGINT, SIGTERM and SIGHUP are blocked before any thread starts
	 * (threads inherit the mask) and taken by this thread with sigwait.
	 * A signal sent to the process may go to any thread that does not
	 * block it; with a handler and pause(), one that went to a worker
	 * left this thread asleep and the server running.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	kb_server_setup(cfg.db, cfg.threads, cfg.quiet);
	cache = resp_cache_new((size_t)cfg.cache_mb * 1024 * 1024);

	daemon_ = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			MHD_USE_ERROR_LOG,
		(uint16_t)cfg.port, NULL, NULL, kb_server_handle, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_THREAD_POOL_SIZE, cfg.threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u,
		MHD_OPTION_NOTIFY_COMPLETED, kb_server_completed, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, connection_note, NULL,
		MHD_OPTION_UNESCAPE_CALLBACK, kb_server_unescape, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, request_begins, NULL,
		MHD_OPTION_END);
	if (daemon_ == NULL) {
		fprintf(stderr, "kbserver: cannot listen on %s:%u: %s\n",
			cfg.bind, cfg.port,
			errno ? strerror(errno) : "address in use?");
		return 1;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_LISTEN_FD);
	ls = info ? info->listen_fd : MHD_INVALID_SOCKET;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	bound_port = info ? info->port : cfg.port;
	printf("listening on http://%s:%u/\n", cfg.bind, bound_port);
	fflush(stdout);
	pthread_create(&watcher, NULL, watch_index, NULL);
	pthread_create(&reaper, NULL, reap_slow, NULL);

	while (!got_stop) {
		if (sigwait(&stop_sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			got_hup = 1;
		else
			got_stop = 1;
	}

	/*
	 * Stop accepting (new connections are refused, not dropped), let
	 * what is in flight finish, then stop.  MHD_quiesce_daemon is not
	 * used: libmicrohttpd 0.9.75 quiesces a pool of epoll workers by
	 * removing the listening socket from each worker's set while the
	 * worker may be removing it too, and the loser of that race aborts
	 * the process.  Instead the listening socket's descriptor is pointed
	 * at a fresh, unbound socket: the listening socket itself is closed
	 * (the kernel refuses new connections and drops it from every epoll
	 * set), while the descriptor libmicrohttpd holds stays valid for it
	 * to close in MHD_stop_daemon; a worker that still calls accept()
	 * on it gets EINVAL, which it ignores.
	 */
	if (ls != MHD_INVALID_SOCKET) {
		int fresh = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fresh < 0 || dup2(fresh, ls) < 0)
			shutdown(ls, SHUT_RDWR);
		if (fresh >= 0)
			close(fresh);
	}
	t0 = kb_now();
	while (atomic_load(&open_conns) > 0 &&
	       kb_now() - t0 < SHUTDOWN_GRACE_S) {
		struct timespec ts = { 0, 20000000L };

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(daemon_);
	atomic_store(&stopped, true);
	pthread_join(watcher, NULL);
	pthread_join(reaper, NULL);
	resp_cache_free(cache);
	if (!cfg.quiet)
		logmsg("stopped");
	return 0;
}
#endif /* KB_SERVER_NO_MAIN */
