/* check_server.c - end to end: a real kbserver on 127.0.0.1, a real HTTP client. */
#include <check.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"
#include "testutil.h"
#include "util.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define HTML_TYPE "text/html; charset=utf-8"
#define ALLOWED	  "GET, HEAD, OPTIONS"
#define ZD	  "/api/v2/help_center/articles/search.json"

/*
 * The "api" case shares one server over kb/ (started before its tests
 * fork, stopped after them); the "lifecycle" case starts its own per test
 * because its tests reindex, signal and stop it.
 */
static char *dir;
static char *dbpath;
static struct kb_test_server srv;
static long kb_articles; /* what kbindex said it indexed */
static long kb_sections;

/* Articles only in one of the two folders the reindex tests swap. */
static const char zebra_md[] =
	"---\ntitle: Zebrafoo pairing trick\n---\n"
	"## Pair with the zebrafoo method\n\n"
	"Hold the zebrafoo button while the speaker is charging.\n";
static const char zebra2_md[] =
	"---\ntitle: Second zebra note\n---\n"
	"## Another zebrafoo step\n\nThe battery warms up while charging.\n";
static const char quokka_md[] =
	"---\ntitle: Quokkabar charging dock\n---\n"
	"## Seat the quokkabar dock\n\n"
	"Press the speaker into the quokkabar dock until it clicks.\n";

/* Run kbindex --full on db over kb/ and, when given, one more folder. */
static int
reindex(const char *db, const char *extra, char **err)
{
	const char *argv[] = { kb_test_prog("kbindex"),
			       "--full",
			       "--db",
			       db,
			       "kb/",
			       extra,
			       NULL };
	struct kb_test_run r;
	int st;

	kb_test_run(&r, argv, NULL);
	st = r.status;
	if (err != NULL)
		*err = kb_xasprintf("%s%s", r.out, r.err);
	kb_test_run_free(&r);
	return st;
}

static void
make_dir_and_index(void)
{
	const char *argv[] = { kb_test_prog("kbindex"), "--db", NULL, "kb/",
			       NULL };
	struct kb_test_run r;

	dir = kb_test_tmpdir();
	dbpath = kb_test_path(dir, "kb.db");
	argv[2] = dbpath;
	kb_test_run(&r, argv, NULL);
	ck_assert_msg(r.status == 0, "kbindex kb/: %s", r.err);
	ck_assert_msg(sscanf(r.out, "indexed %ld articles (%*[^)]), %ld",
			     &kb_articles, &kb_sections) == 2,
		      "kbindex said: %s", r.out);
	kb_test_run_free(&r);
	kb_test_write(dir, "extra-a/zebra-a.md", zebra_md);
	kb_test_write(dir, "extra-a/zebra-a2.md", zebra2_md);
	kb_test_write(dir, "extra-b/quokka-b.md", quokka_md);
}

/* Set when the shared server of the "api" case did not exit cleanly. */
static bool shared_server_failed;

static void
setup(void)
{
	make_dir_and_index();
	kb_test_server_start(&srv, dbpath, NULL);
}

static void
cleanup(void)
{
	kb_test_rmtree(dir);
	free(dbpath);
	free(dir);
	dir = dbpath = NULL;
}

/* A test that stopped the server itself has checked how it exited. */
static void
teardown(void)
{
	int st = kb_test_server_stop(&srv);

	cleanup();
	ck_assert_msg(st == 0 || st == -1, "kbserver exited with %d", st);
}

/*
 * The shared server is stopped in the runner's own process, where a
 * failed ck_assert would end the whole run without a word: the exit
 * status goes to main() instead (the server's stderr is already shown).
 */
static void
shared_teardown(void)
{
	int st = kb_test_server_stop(&srv);

	if (st != 0) {
		fprintf(stderr, "the shared kbserver exited with %d\n", st);
		shared_server_failed = true;
	}
	cleanup();
}

/* Percent-encode everything but unreserved characters. */
static char *
urlenc(const char *s)
{
	struct kb_buf b;

	kb_buf_init(&b);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			kb_buf_addc(&b, (char)c);
		else
			kb_buf_printf(&b, "%%%02X", c);
	}
	return kb_buf_steal(&b);
}

/* GET (or another method) that must reach the server and get a reply. */
static void
request(const char *method, const char *path, struct kb_test_http *r)
{
	int rc = kb_test_http(srv.port, method, path, NULL, NULL, 0, r);

	ck_assert_msg(rc == 0, "%s %s: no response (%d)", method, path, rc);
	ck_assert_msg(r->complete, "%s %s: truncated body", method, path);
}

static void
assert_header(const struct kb_test_http *r, const char *what, const char *name,
	      const char *want)
{
	char *v = kb_test_http_header(r, name);

	ck_assert_msg(v != NULL && strcmp(v, want) == 0,
		      "%s: %s is \"%s\", want \"%s\"", what, name,
		      v ? v : "(none)", want);
	free(v);
}

/* No response may leak the storage engine's messages. */
static void
assert_no_sqlite(const struct kb_test_http *r, const char *what)
{
	ck_assert_msg(r->body == NULL ||
			      (strcasestr(r->body, "sqlite") == NULL &&
			       strcasestr(r->body, "fts5") == NULL),
		      "%s: body mentions the database: %.300s", what, r->body);
	ck_assert_msg(r->body == NULL || strstr(r->body, "root:x:0:0") == NULL,
		      "%s: served /etc/passwd", what);
}

static json_t *
parse(const struct kb_test_http *r, const char *what)
{
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, 0, &e);

	ck_assert_msg(j != NULL, "%s: not JSON (%s): %.300s", what, e.text,
		      r->body);
	return j;
}

/* GET path, expect 200 JSON, return the document. */
static json_t *
get_json(const char *path)
{
	struct kb_test_http r;
	json_t *j;

	request("GET", path, &r);
	ck_assert_msg(r.status == 200, "GET %s: %d %.300s", path, r.status,
		      r.body);
	assert_header(&r, path, "Content-Type", JSON_TYPE);
	j = parse(&r, path);
	kb_test_http_free(&r);
	return j;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t
jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static bool
strs_contain(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if (json_is_string(v) &&
					  strcmp(json_string_value(v), s) ==
						  0) return true;
	return false;
}

/* The count kbsearch --list-models/--list-symptoms printed for id. */
static long
cli_count(const char *out, const char *id)
{
	const char *line;
	long n = -1;

	for (line = out; line != NULL && *line;) {
		const char *nl = strchr(line, '\n');
		char *l = kb_xstrndup(line,
				      nl ? (size_t)(nl - line) : strlen(line));
		char *at = strstr(l, id);

		if (at != NULL && at > l && at[-1] == ' ' &&
		    at[strlen(id)] == ' ')
			sscanf(at + strlen(id), "%ld", &n);
		free(l);
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* ---- every endpoint ---------------------------------------------------- */

enum shape {
	SEARCH,
	SEARCH_CAPPED,
	SEARCH_FILTERED,
	ARTICLE,
	MODELS,
	SYMPTOMS,
	LEDS_MODEL,
	LEDS_ALL,
	SUGGEST,
	HEALTH,
	ZENDESK,
	PAGE,
	PAGE_RESULTS,
	PAGE_ARTICLE,
	SCRIPT,
	STYLESHEET,
	OPENSEARCH,
};

struct endpoint {
	const char *path;
	const char *type[2]; /* Content-Type begins with one of these */
	enum shape shape;
};

static const struct endpoint endpoints[] = {
	{ "/api/search?q=battery", { JSON_TYPE }, SEARCH },
	{ "/api/search?q=battery&limit=1000", { JSON_TYPE }, SEARCH_CAPPED },
	{ "/api/search?q=charging&model=Anker%20Soundcore%202"
	  "&symptom=wont-charge&limit=5&offset=1",
	  { JSON_TYPE },
	  SEARCH_FILTERED },
	{ "/api/articles/1", { JSON_TYPE }, ARTICLE },
	{ "/api/models", { JSON_TYPE }, MODELS },
	{ "/api/symptoms", { JSON_TYPE }, SYMPTOMS },
	{ "/api/leds?model=Anker%20Soundcore%202", { JSON_TYPE }, LEDS_MODEL },
	{ "/api/leds", { JSON_TYPE }, LEDS_ALL },
	{ "/api/suggest?q=sound", { JSON_TYPE }, SUGGEST },
	{ "/healthz", { JSON_TYPE }, HEALTH },
	{ "/api/v2/help_center/articles/search.json?query=battery",
	  { JSON_TYPE },
	  ZENDESK },
	{ "/", { HTML_TYPE }, PAGE },
	{ "/?q=battery", { HTML_TYPE }, PAGE_RESULTS },
	{ "/articles/1", { HTML_TYPE }, PAGE_ARTICLE },
	{ "/static/app.js",
	  { "text/javascript", "application/javascript" },
	  SCRIPT },
	{ "/static/style.css", { "text/css" }, STYLESHEET },
	{ "/opensearch.xml",
	  { "application/opensearchdescription+xml" },
	  OPENSEARCH },
};

static void
check_search_doc(const json_t *j, const char *q)
{
	static const char *const keys[] = { "hits",
					    "understood",
					    "answers",
					    "didYouMean",
					    "facetDistribution",
					    "estimatedTotalHits",
					    "limit",
					    "offset",
					    "processingTimeMs",
					    "query" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(j, keys[i]) != NULL,
			      "search document has no \"%s\"", keys[i]);
	ck_assert(json_is_array(json_object_get(j, "hits")));
	ck_assert(json_is_object(json_object_get(j, "understood")));
	ck_assert(json_is_object(json_object_get(j, "answers")));
	ck_assert(json_is_object(json_object_get(j, "facetDistribution")));
	ck_assert(jint(j, "estimatedTotalHits") >= 0);
	ck_assert(jint(j, "processingTimeMs") >= 0);
	ck_assert_str_eq(jstr(j, "query"), q);
}

static void
check_article(const json_t *j)
{
	json_t *secs = json_object_get(j, "sections"), *s;
	size_t i;

	ck_assert_int_eq(jint(j, "id"), 1);
	ck_assert(jstr(j, "title") != NULL && *jstr(j, "title"));
	ck_assert(jstr(j, "path") != NULL && *jstr(j, "path"));
	ck_assert(json_is_array(json_object_get(j, "leds")));
	ck_assert_uint_ge(json_array_size(secs), 1);
	json_array_foreach(secs, i, s)
	{
		ck_assert(jstr(s, "heading") != NULL);
		ck_assert(jstr(s, "anchor") != NULL && *jstr(s, "anchor"));
		ck_assert(jstr(s, "text") != NULL);
	}
}

/* models and symptoms: id, name (or label), the same counts as the CLI. */
static void
check_tag_list(const json_t *j, const char *name_key, const char *list_opt,
	       const char *must)
{
	const char *argv[] = { kb_test_prog("kbsearch"), "--db", dbpath,
			       list_opt, NULL };
	struct kb_test_run r;
	bool found = false;
	size_t i;
	json_t *e;

	kb_test_run(&r, argv, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_ge(json_array_size(j), 1);
	json_array_foreach(j, i, e)
	{
		const char *id = jstr(e, "id");

		ck_assert_msg(id != NULL && jstr(e, name_key) != NULL,
			      "entry %zu has no id or %s", i, name_key);
		ck_assert_msg(jint(e, "sections") == cli_count(r.out, id),
			      "%s: %lld sections, kbsearch %s says %ld", id,
			      (long long)jint(e, "sections"), list_opt,
			      cli_count(r.out, id));
		found |= strcmp(jstr(e, name_key), must) == 0 ||
			 strcmp(id, must) == 0;
	}
	ck_assert_msg(found, "%s is not listed", must);
	kb_test_run_free(&r);
}

static size_t
check_leds(const json_t *j, const char *model)
{
	bool solid_red = false;
	size_t i;
	json_t *f;

	json_array_foreach(j, i, f)
	{
		json_t *src = json_object_get(f, "source");
		const char *m = jstr(f, "model");

		ck_assert(jstr(f, "color") && jstr(f, "pattern") &&
			  jstr(f, "meaning"));
		/* the source as answers.led[] gives it, so it can be linked */
		ck_assert_msg(
			json_is_integer(json_object_get(src, "article")) &&
				json_is_integer(
					json_object_get(src, "section")) &&
				jstr(src, "path") && jstr(src, "heading") &&
				jstr(src, "anchor"),
			"fact %zu: source is not {article, section, "
			"path, heading, anchor} as in answers.led[]: %s",
			i, json_dumps(src, JSON_COMPACT));
		if (model != NULL)
			ck_assert_msg(m == NULL || strcmp(m, model) == 0,
				      "fact for %s in the %s list", m, model);
		solid_red |= m != NULL && strcmp(m, "Anker Soundcore 2") == 0 &&
			     strcmp(jstr(f, "color"), "red") == 0 &&
			     strcmp(jstr(f, "pattern"), "solid") == 0 &&
			     strstr(jstr(f, "meaning"), "charging") != NULL;
	}
	ck_assert_msg(solid_red, "no \"solid red: charging\" fact");
	/* The source article is the one that says so. */
	{
		json_t *src = json_object_get(json_array_get(j, 0), "source");
		char *p = kb_xasprintf("/api/articles/%lld",
				       (long long)jint(src, "article"));
		json_t *a = get_json(p);

		ck_assert_uint_ge(json_array_size(json_object_get(a, "leds")),
				  1);
		json_decref(a);
		free(p);
	}
	return json_array_size(j);
}

static void
check_suggest(const json_t *j)
{
	json_t *sug = json_object_get(j, "suggestions"), *s;
	bool model = false;
	size_t i;

	ck_assert_str_eq(jstr(j, "query"), "sound");
	ck_assert_uint_ge(json_array_size(sug), 1);
	json_array_foreach(sug, i, s)
	{
		const char *t = jstr(s, "type");

		ck_assert(jstr(s, "text") != NULL && t != NULL);
		ck_assert_msg(strcmp(t, "model") == 0 ||
				      strcmp(t, "symptom") == 0 ||
				      strcmp(t, "title") == 0 ||
				      strcmp(t, "word") == 0,
			      "suggestion type %s", t);
		model |= strcmp(jstr(s, "text"), "Anker Soundcore 2") == 0 &&
			 strcmp(t, "model") == 0;
	}
	ck_assert_msg(model, "\"sound\" does not suggest Anker Soundcore 2");
}

static void
check_zendesk_result(const json_t *res)
{
	json_t *labels = json_object_get(res, "label_names");

	ck_assert(json_is_integer(json_object_get(res, "id")));
	ck_assert(jstr(res, "title") != NULL && *jstr(res, "title"));
	ck_assert(jstr(res, "snippet") != NULL);
	ck_assert(json_is_array(labels));
	ck_assert_str_eq(jstr(res, "result_type"), "article");
	ck_assert_msg(strncmp(jstr(res, "html_url"), "http://127.0.0.1:", 17) ==
				      0 &&
			      strstr(jstr(res, "html_url"), "/articles/"),
		      "html_url %s", jstr(res, "html_url"));
}

static void
check_json_shape(const struct endpoint *e, const json_t *j)
{
	static size_t led_count;
	size_t i;
	json_t *h;

	switch (e->shape) {
	case SEARCH:
		check_search_doc(j, "battery");
		ck_assert_int_eq(jint(j, "limit"), 10);
		ck_assert_int_eq(jint(j, "offset"), 0);
		ck_assert_uint_ge(json_array_size(json_object_get(j, "hits")),
				  1);
		break;
	case SEARCH_CAPPED:
		check_search_doc(j, "battery");
		ck_assert_int_eq(jint(j, "limit"), 100);
		break;
	case SEARCH_FILTERED:
		check_search_doc(j, "charging");
		ck_assert_int_eq(jint(j, "limit"), 5);
		ck_assert_int_eq(jint(j, "offset"), 1);
		ck_assert_str_eq(jstr(json_object_get(j, "filters"), "model"),
				 "Anker Soundcore 2");
		ck_assert_str_eq(jstr(json_object_get(j, "filters"), "symptom"),
				 "wont-charge");
		ck_assert_uint_ge(json_array_size(json_object_get(j, "hits")),
				  1);
		json_array_foreach(json_object_get(j, "hits"), i, h)
		{
			ck_assert(strs_contain(json_object_get(h, "models"),
					       "Anker Soundcore 2"));
			ck_assert(strs_contain(json_object_get(h, "symptoms"),
					       "wont-charge"));
		}
		break;
	case ARTICLE:
		check_article(j);
		break;
	case MODELS:
		check_tag_list(j, "name", "--list-models", "Anker Soundcore 2");
		break;
	case SYMPTOMS:
		check_tag_list(j, "label", "--list-symptoms",
			       "wont-hold-charge");
		break;
	case LEDS_MODEL:
		led_count = check_leds(j, "Anker Soundcore 2");
		break;
	case LEDS_ALL:
		/* Every fact: at least those of one model, and 7 in kb/. */
		ck_assert_uint_ge(check_leds(j, NULL), led_count);
		break;
	case SUGGEST:
		check_suggest(j);
		break;
	case HEALTH:
		ck_assert_str_eq(jstr(j, "status"), "ok");
		ck_assert_int_eq(jint(j, "articles"), kb_articles);
		ck_assert_int_eq(jint(j, "sections"), kb_sections);
		ck_assert_msg(jstr(j, "builtAt") &&
				      strlen(jstr(j, "builtAt")) >= 19 &&
				      jstr(j, "builtAt")[10] == 'T',
			      "builtAt is not ISO 8601: %s",
			      jstr(j, "builtAt"));
		break;
	case ZENDESK:
		ck_assert_uint_ge(
			json_array_size(json_object_get(j, "results")), 1);
		json_array_foreach(json_object_get(j, "results"), i, h)
			check_zendesk_result(h);
		ck_assert(jint(j, "count") >= 1);
		ck_assert_int_eq(jint(j, "page"), 1);
		ck_assert(jint(j, "per_page") >= 1);
		ck_assert(jint(j, "page_count") >= 1);
		ck_assert(json_is_null(json_object_get(j, "previous_page")));
		ck_assert(json_is_string(json_object_get(j, "next_page")) ||
			  json_is_null(json_object_get(j, "next_page")));
		break;
	default:
		ck_abort_msg("%s is not JSON", e->path);
	}
}

/* An article's title as the page must show it. */
static char *
escaped_title(int id)
{
	char *p = kb_xasprintf("/api/articles/%d", id);
	json_t *a = get_json(p);
	struct kb_buf b;

	kb_buf_init(&b);
	kb_html_escape(&b, jstr(a, "title"));
	json_decref(a);
	free(p);
	return kb_buf_steal(&b);
}

static void
check_other_shape(const struct endpoint *e, const struct kb_test_http *r)
{
	char *csp, *title;

	if (e->shape == PAGE || e->shape == PAGE_RESULTS ||
	    e->shape == PAGE_ARTICLE) {
		csp = kb_test_http_header(r, "Content-Security-Policy");
		ck_assert_msg(csp != NULL &&
				      strstr(csp, "default-src 'self'") &&
				      !strstr(csp, "unsafe-inline"),
			      "%s: Content-Security-Policy %s", e->path, csp);
		free(csp);
		ck_assert_msg(strcasestr(r->body, "<!doctype html") != NULL,
			      "%s: not an HTML page", e->path);
	}
	switch (e->shape) {
	case PAGE:
		ck_assert_ptr_null(strstr(r->body, "class=\"result\""));
		break;
	case PAGE_RESULTS:
		ck_assert_msg(strstr(r->body, "class=\"result\"") != NULL,
			      "/?q=battery renders no result");
		break;
	case PAGE_ARTICLE:
		title = escaped_title(1);
		ck_assert_msg(strstr(r->body, title) != NULL,
			      "the article page lacks its title %s", title);
		free(title);
		break;
	case SCRIPT:
	case STYLESHEET:
		ck_assert_uint_ge(r->body_len, 1);
		break;
	case OPENSEARCH:
		ck_assert_ptr_nonnull(strstr(r->body, "OpenSearchDescription"));
		ck_assert_ptr_nonnull(strstr(r->body, "{searchTerms}"));
		break;
	default:
		break;
	}
}

START_TEST(every_endpoint_answers_with_the_right_status_type_and_shape)
{
	const struct endpoint *e = &endpoints[_i];
	struct kb_test_http r;
	char *type;
	json_t *j;

	request("GET", e->path, &r);
	ck_assert_msg(r.status == 200, "GET %s: %d %.300s", e->path, r.status,
		      r.body);
	type = kb_test_http_header(&r, "Content-Type");
	ck_assert_msg(
		type != NULL &&
			((e->type[0] &&
			  strncmp(type, e->type[0], strlen(e->type[0])) == 0) ||
			 (e->type[1] &&
			  strncmp(type, e->type[1], strlen(e->type[1])) == 0)),
		"GET %s: Content-Type %s, want %s", e->path, type, e->type[0]);
	free(type);
	assert_header(&r, e->path, "X-Content-Type-Options", "nosniff");
	if (strncmp(e->path, "/api/", 5) == 0)
		assert_header(&r, e->path, "Access-Control-Allow-Origin", "*");
	assert_no_sqlite(&r, e->path);
	if (strcmp(e->type[0], JSON_TYPE) == 0) {
		j = parse(&r, e->path);
		if (e->shape == LEDS_ALL) {
			/* compares with the model's own list */
			json_t *m = get_json(endpoints[_i - 1].path);

			check_json_shape(&endpoints[_i - 1], m);
			json_decref(m);
		}
		check_json_shape(e, j);
		json_decref(j);
	} else {
		check_other_shape(e, &r);
	}
	kb_test_http_free(&r);
}
END_TEST

/* ---- every error ------------------------------------------------------- */

struct bad_request {
	const char *method;
	const char *path;
	size_t body_len; /* a body of this many bytes */
	bool chunked;	 /* sent in chunks, its size not declared */
	size_t q_len;	 /* path + q= of this many bytes */
	size_t line_len; /* a raw request line this long */
	const char *raw; /* the request exactly */
	int status[2];	 /* one of these; 0 in [0]: any 4xx */
	bool error_json; /* {"error":{"code","message"}} */
	/*
	 * libmicrohttpd answers these itself, before kbserver sees them:
	 * may_drop, it closes on a request line that is not one at all;
	 * loose, its 400 for a malformed Content-Length (0.9.75) sends the
	 * header block twice, so the body does not match its length.
	 */
	bool may_drop;
	bool loose;
};

static const struct bad_request bad[] = {
	{ "GET", "/api/search", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=%FF", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=a%00b", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=a%01b", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=a%1Bb", .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=a%7Fb", .status = { 400 }, .error_json = true },
	/* tabs and line breaks are spaces in a query: this one is blank */
	{ "GET", "/api/search?q=%09%0D%0A%20", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/v2/help_center/articles/search.json?query=%0A%09",
	  .status = { 400 }, .error_json = true },
	{ "GET", "/api/search?q=battery&model=a%09b", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/search?q=battery&limit=abc", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/search?q=battery&limit=-1", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/search?q=battery&offset=abc", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/search?limit=5&q=", .q_len = 4097, .status = { 400 },
	  .error_json = true },
	/* the limit itself is fine */
	{ "GET", "/api/search?limit=5&q=", .q_len = 4096, .status = { 200 } },
	{ "GET", "/api/v2/help_center/articles/search.json", .status = { 400 },
	  .error_json = true },
	{ "GET", "/api/articles/999999", .status = { 404 },
	  .error_json = true },
	{ "GET", "/nope", .status = { 404 } },
	{ "GET", "/api/nope", .status = { 404 }, .error_json = true },
	{ "GET", "/../etc/passwd", .status = { 404 } },
	{ "GET", "/static/../../etc/passwd", .status = { 404 } },
	{ "GET", "/%2e%2e/%2e%2e/etc/passwd", .status = { 404 } },
	{ "GET", "/static/%252e%252e/x", .status = { 404 } },
	{ "GET", "/static/app.js%00.png", .status = { 404 } },
	{ "POST", "/api/search?q=battery", .status = { 405 },
	  .error_json = true },
	{ "PUT", "/api/search?q=battery", .status = { 405 },
	  .error_json = true },
	{ "DELETE", "/api/articles/1", .status = { 405 }, .error_json = true },
	{ "PUT", "/healthz", .status = { 405 }, .error_json = true },
	{ "DELETE", "/", .status = { 405 } },
	/*
	 * A body where none belongs: a GET with 2 MB must be refused as too
	 * large; a POST of 10 MB may be refused for its method before its
	 * size is looked at, so either answer is right there.
	 */
	{ "GET", "/api/search?q=battery", .body_len = 2 << 20,
	  .status = { 413 }, .error_json = true },
	{ "POST", "/api/search?q=battery", .body_len = 10 << 20,
	  .status = { 405, 413 }, .error_json = true },
	/* a body too large that only shows as it arrives */
	{ "GET", "/api/search?q=battery", .body_len = 2 << 20, .chunked = true,
	  .status = { 413 }, .error_json = true },
	/* libmicrohttpd answers these itself: any 4xx, then it closes */
	{ .line_len = 40 * 1024 },
	{ .raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ",
	  .line_len = 40 * 1024 },
	{ .raw = "NONSENSE\r\n\r\n", .may_drop = true },
	{ .raw = "GET /x\r\n\r\n" },
	{ .raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
		 "\r\n",
	  .loose = true },
};

/* Build the request of a table row as raw bytes. */
static char *
bad_raw(const struct bad_request *b, size_t *len)
{
	struct kb_buf req;
	size_t i;

	kb_buf_init(&req);
	if (b->raw != NULL && b->line_len == 0) {
		kb_buf_adds(&req, b->raw);
	} else if (b->line_len != 0) {
		/* an oversized request line, or header when raw gives one */
		kb_buf_adds(&req, b->raw ? b->raw : "GET /api/search?q=");
		for (i = 0; i < b->line_len; i++)
			kb_buf_addc(&req, 'a');
		kb_buf_adds(&req, b->raw ? "\r\n\r\n"
					 : " HTTP/1.1\r\nHost: x\r\n\r\n");
	} else {
		kb_buf_printf(&req, "%s %s", b->method, b->path);
		/* "battery battery ...", q_len bytes once decoded */
		for (i = 0; i < b->q_len; i++)
			if (i % 8 == 7)
				kb_buf_adds(&req, "%20");
			else
				kb_buf_addc(&req, "battery"[i % 8]);
		kb_buf_adds(&req, " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: close\r\n");
		if (b->chunked)
			kb_buf_adds(&req, "Transfer-Encoding: chunked\r\n");
		else if (b->body_len != 0)
			kb_buf_printf(&req, "Content-Length: %zu\r\n",
				      b->body_len);
		kb_buf_adds(&req, "\r\n");
		if (b->body_len != 0) {
			size_t step = b->chunked ? 65536 : b->body_len;
			char *body = kb_xmalloc(step);

			memset(body, 'x', step);
			for (i = 0; i < b->body_len; i += step) {
				if (b->chunked)
					kb_buf_printf(&req, "%zx\r\n", step);
				kb_buf_add(&req, body, step);
				if (b->chunked)
					kb_buf_adds(&req, "\r\n");
			}
			if (b->chunked)
				kb_buf_adds(&req, "0\r\n\r\n");
			free(body);
		}
	}
	*len = req.len;
	return kb_buf_steal(&req);
}

START_TEST(every_bad_request_gets_its_4xx_and_never_a_5xx)
{
	const struct bad_request *b = &bad[_i];
	struct kb_test_http r;
	size_t len;
	char *raw = bad_raw(b, &len), *what;
	double t0;
	int rc;

	what = kb_xasprintf("%.80s", raw);
	*strchrnul(what, '\r') = '\0';
	t0 = kb_now();
	rc = kb_test_http_raw(srv.port, raw, len, &r);
	if (b->may_drop && rc == -2) {
		/* closed at once, without an answer */
		ck_assert_msg(kb_now() - t0 < 5, "%s: hung", what);
		goto still_serving;
	}
	ck_assert_msg(rc == 0,
		      "%s: no response (%d), want %d; the server should "
		      "answer and close",
		      what, rc, b->status[0]);
	ck_assert_msg(r.complete || b->loose, "%s: truncated response", what);
	ck_assert_msg(r.status < 500, "%s: %d", what, r.status);
	if (b->status[0] == 0)
		ck_assert_msg(r.status >= 400 && r.status < 500, "%s: %d", what,
			      r.status);
	else
		ck_assert_msg(r.status == b->status[0] ||
				      r.status == b->status[1],
			      "%s: %d, want %d: %.300s", what, r.status,
			      b->status[0], r.body);
	assert_no_sqlite(&r, what);
	if (b->method != NULL)
		assert_header(&r, what, "X-Content-Type-Options", "nosniff");
	if (r.status == 405)
		assert_header(&r, what, "Allow", ALLOWED);
	if (b->error_json) {
		json_t *j, *err;

		assert_header(&r, what, "Content-Type", JSON_TYPE);
		j = parse(&r, what);
		err = json_object_get(j, "error");
		ck_assert_msg(jstr(err, "code") && *jstr(err, "code") &&
				      jstr(err, "message") &&
				      *jstr(err, "message"),
			      "%s: error document %.300s", what, r.body);
		json_decref(j);
	}
still_serving:
	kb_test_http_free(&r);
	/* and it still answers */
	request("GET", "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	kb_test_http_free(&r);
	free(what);
	free(raw);
}
END_TEST

/* ---- CORS and HEAD ----------------------------------------------------- */

START_TEST(cors_preflight_is_answered_and_api_responses_allow_any_origin)
{
	static const char *const paths[] = { "/api/search?q=battery",
					     "/api/articles/1", "/api/models",
					     "/api/suggest?q=so",
					     "/api/v2/help_center/articles/"
					     "search.json?query=battery" };
	struct kb_test_http r;
	char *v;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(
			kb_test_http(srv.port, "OPTIONS", paths[i],
				     "Origin: http://example.com\r\n"
				     "Access-Control-Request-Method: GET\r\n"
				     "Access-Control-Request-Headers: "
				     "content-type\r\n",
				     NULL, 0, &r),
			0);
		ck_assert_msg(r.status == 204, "OPTIONS %s: %d", paths[i],
			      r.status);
		ck_assert_uint_eq(r.body_len, 0);
		assert_header(&r, paths[i], "Access-Control-Allow-Origin", "*");
		assert_header(&r, paths[i], "Access-Control-Allow-Methods",
			      ALLOWED);
		v = kb_test_http_header(&r, "Access-Control-Allow-Headers");
		ck_assert_msg(v != NULL && strcasestr(v, "content-type"),
			      "OPTIONS %s: Access-Control-Allow-Headers %s",
			      paths[i], v);
		free(v);
		assert_header(&r, paths[i], "X-Content-Type-Options",
			      "nosniff");
		kb_test_http_free(&r);

		request("GET", paths[i], &r);
		ck_assert_int_eq(r.status, 200);
		assert_header(&r, paths[i], "Access-Control-Allow-Origin", "*");
		kb_test_http_free(&r);
	}
	/* errors under /api/ too, or a browser cannot read them */
	request("GET", "/api/search?q=", &r);
	ck_assert_int_eq(r.status, 400);
	assert_header(&r, "400", "Access-Control-Allow-Origin", "*");
	kb_test_http_free(&r);
}
END_TEST

START_TEST(head_is_get_without_the_body)
{
	static const struct {
		const char *path;
		bool same_length; /* not when the body holds a timing */
	} paths[] = {
		{ "/", true },
		{ "/?q=battery", false },
		{ "/api/search?q=battery", false },
		{ "/api/articles/1", true },
		{ "/api/models", true },
		{ "/api/leds", true },
		{ "/api/suggest?q=sound", true },
		{ "/healthz", true },
		{ "/articles/1", true },
		{ "/static/app.js", true },
		{ "/static/style.css", true },
		{ "/opensearch.xml", true },
		{ "/nope", true },
		{ "/api/nope", true },
		{ "/api/search?q=", true },
	};
	static const char *const same[] = { "Content-Type",
					    "X-Content-Type-Options",
					    "Access-Control-Allow-Origin",
					    "Content-Security-Policy" };
	struct kb_test_http g, h;
	size_t i, k;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *p = paths[i].path;

		request("GET", p, &g);
		request("HEAD", p, &h);
		ck_assert_msg(g.status == h.status, "%s: GET %d, HEAD %d", p,
			      g.status, h.status);
		ck_assert_msg(h.body_len == 0, "HEAD %s sent a body", p);
		for (k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
			char *a = kb_test_http_header(&g, same[k]);
			char *b = kb_test_http_header(&h, same[k]);

			ck_assert_msg((a == NULL && b == NULL) ||
					      (a && b && strcmp(a, b) == 0),
				      "%s: %s is \"%s\" for GET, \"%s\" for "
				      "HEAD",
				      p, same[k], a, b);
			free(a);
			free(b);
		}
		if (paths[i].same_length) {
			char *a = kb_test_http_header(&g, "Content-Length");
			char *b = kb_test_http_header(&h, "Content-Length");

			ck_assert_msg(b == NULL || (a && strcmp(a, b) == 0),
				      "%s: Content-Length %s for GET, %s for "
				      "HEAD",
				      p, a, b);
			free(a);
			free(b);
		}
		kb_test_http_free(&g);
		kb_test_http_free(&h);
	}
}
END_TEST

/* ---- the Zendesk-shaped endpoint --------------------------------------- */


/* What a client requests for an absolute URL: path and query, no #. */
static char *
url_path(const char *url)
{
	const char *p;

	ck_assert_msg(url != NULL && strncmp(url, "http://127.0.0.1:", 17) == 0,
		      "not an absolute URL to this server: %s", url);
	p = strchr(url + 7, '/');
	ck_assert_ptr_nonnull(p);
	return kb_xstrndup(p, strcspn(p, "#"));
}

static json_t *
get_url(const char *url)
{
	char *p = url_path(url);
	json_t *j = get_json(p);

	free(p);
	return j;
}

START_TEST(the_zendesk_endpoint_pages_and_filters_by_label)
{
	json_t *p1, *p2, *all, *lab, *v, *r;
	struct kb_strv ids;
	const char *label;
	char *path;
	json_int_t count, pages, page, n = 0;
	size_t i;

	p1 = get_json(ZD "?query=battery&per_page=2");
	p2 = get_json(ZD "?query=battery&per_page=2&page=2");
	count = jint(p1, "count");
	ck_assert_msg(count >= 5, "count %lld", (long long)count);
	ck_assert_int_eq(jint(p2, "count"), count);
	ck_assert_int_eq(jint(p2, "page"), 2);
	ck_assert_int_eq(jint(p2, "per_page"), 2);
	ck_assert_int_eq(jint(p2, "page_count"), (count + 1) / 2);
	ck_assert_uint_eq(json_array_size(json_object_get(p2, "results")), 2);
	ck_assert(json_is_null(json_object_get(p1, "previous_page")));
	/* next_page of 1 is page 2; previous_page of 2 is page 1 */
	v = get_url(jstr(p1, "next_page"));
	ck_assert_msg(json_equal(json_object_get(v, "results"),
				 json_object_get(p2, "results")),
		      "next_page of page 1 is not page 2");
	json_decref(v);
	v = get_url(jstr(p2, "previous_page"));
	ck_assert_msg(json_equal(json_object_get(v, "results"),
				 json_object_get(p1, "results")),
		      "previous_page of page 2 is not page 1");
	json_decref(v);
	ck_assert_msg(strstr(jstr(p2, "next_page"), "page=3") &&
			      strstr(jstr(p2, "next_page"), "per_page=2"),
		      "next_page %s", jstr(p2, "next_page"));

	/* Walking every page yields count distinct articles, then stops. */
	kb_strv_init(&ids);
	pages = jint(p1, "page_count");
	for (page = 1; page <= pages; page++) {
		path = kb_xasprintf(ZD "?query=battery&per_page=3&page=%lld",
				    (long long)page);
		all = get_json(path);
		ck_assert_uint_ge(
			json_array_size(json_object_get(all, "results")), 1);
		json_array_foreach(json_object_get(all, "results"), i, r)
		{
			char *id =
				kb_xasprintf("%lld", (long long)jint(r, "id"));

			check_zendesk_result(r);
			ck_assert_msg(kb_strv_add_unique(&ids, id),
				      "result %s twice", id);
			free(id);
			n++;
		}
		ck_assert_int_eq(jint(all, "page_count"), (count + 2) / 3);
		if (page == (count + 2) / 3)
			ck_assert(json_is_null(
				json_object_get(all, "next_page")));
		json_decref(all);
		free(path);
		if (page == (count + 2) / 3)
			break;
	}
	ck_assert_int_eq(n, count);
	kb_strv_free(&ids);

	/* html_url leads to the article's page */
	{
		struct kb_test_http h;
		const char *url =
			jstr(json_array_get(json_object_get(p1, "results"), 0),
			     "html_url");
		char *up = url_path(url);

		request("GET", up, &h);
		ck_assert_msg(h.status == 200, "%s: %d", url, h.status);
		assert_header(&h, url, "Content-Type", HTML_TYPE);
		kb_test_http_free(&h);
		free(up);
	}

	/* label_names keeps the articles that carry the label */
	label = json_string_value(json_array_get(
		json_object_get(
			json_array_get(json_object_get(p1, "results"), 0),
			"label_names"),
		0));
	ck_assert_msg(label != NULL, "the first result has no label_names");
	{
		char *enc = urlenc(label);

		path = kb_xasprintf(ZD "?query=battery&per_page=100"
				       "&label_names=%s",
				    enc);
		free(enc);
	}
	lab = get_json(path);
	free(path);
	ck_assert(jint(lab, "count") >= 1 && jint(lab, "count") <= count);
	json_array_foreach(json_object_get(lab, "results"), i, r) ck_assert_msg(
		strs_contain(json_object_get(r, "label_names"), label),
		"result %lld lacks label %s", (long long)jint(r, "id"), label);
	json_decref(lab);
	lab = get_json(ZD "?query=battery&label_names=no-such-label-xyz");
	ck_assert_int_eq(jint(lab, "count"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(lab, "results")), 0);
	json_decref(lab);
	json_decref(p1);
	json_decref(p2);
}
END_TEST

/* ---- the same answers as kbsearch -------------------------------------- */

static const struct {
	const char *q;
	const char *params; /* added to the URL */
	const char *opt[4]; /* the same for kbsearch */
} same_queries[] = {
	{ "won't hold charge", "", { NULL } },
	{ "soundcore 2 solid red not full", "", { NULL } },
	{ "soundcor 2 not chargng", "", { NULL } },
	{ "battery", "&limit=3&offset=2", { "--limit", "3", "--offset", "2" } },
	{ "charging", "&model=soundcore2", { "--model", "soundcore2" } },
	{ "speaker",
	  "&symptom=wont-hold-charge",
	  { "--symptom", "wont-hold-charge" } },
	{ "usb-c \"AND\" * foo:bar", "", { NULL } },
	/* a ticket pasted with its tabs and line breaks */
	{ "Customer writes:\r\n\tmy Soundcore 2 light\nstays solid red,\r\n"
	  "never full",
	  "",
	  { NULL } },
};

START_TEST(api_search_answers_exactly_what_kbsearch_json_prints)
{
	const char *argv[10] = { kb_test_prog("kbsearch"), "--json", "--db",
				 dbpath };
	struct kb_test_run cli;
	json_t *a, *b;
	char *enc, *path;
	size_t n = 4, k;

	for (k = 0; k < 4 && same_queries[_i].opt[k]; k++)
		argv[n++] = same_queries[_i].opt[k];
	argv[n++] = same_queries[_i].q;
	argv[n] = NULL;
	kb_test_run(&cli, argv, NULL);
	ck_assert_msg(cli.status == 0 || cli.status == 1, "kbsearch: %s",
		      cli.err);
	b = json_loads(cli.out, 0, NULL);
	ck_assert_ptr_nonnull(b);
	enc = urlenc(same_queries[_i].q);
	path = kb_xasprintf("/api/search?q=%s%s", enc, same_queries[_i].params);
	a = get_json(path);
	ck_assert_uint_ge(json_array_size(json_object_get(b, "hits")), 1);
	/* The timing is the only thing allowed to differ. */
	json_object_del(a, "processingTimeMs");
	json_object_del(b, "processingTimeMs");
	if (!json_equal(a, b)) {
		const char *key;
		json_t *v;

		json_object_foreach(b, key, v) ck_assert_msg(
			json_equal(v, json_object_get(a, key)),
			"%s: \"%s\" differs from kbsearch's", path, key);
		ck_abort_msg("%s: the server adds fields", path);
	}
	json_decref(a);
	json_decref(b);
	free(path);
	free(enc);
	kb_test_run_free(&cli);
}
END_TEST

/* What FTS5 would choke on, were it passed through. */
static const char *const hostile[] = {
	"usb-c", "\"", "AND", "*", "foo:bar", "NOT", "\"\"\"", "(", ")",
	"NEAR(", "a OR", "^*", "\xF0\x9F\x94\x8B", "-", "'", "\\", "%",
};

START_TEST(hostile_queries_are_searched_and_never_reach_sqlite_as_written)
{
	static const char *const fmt[] = { "/api/search?q=", "/api/suggest?q=",
					   ZD "?query=", "/?q=" };
	struct kb_test_http r;
	size_t i, k;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *enc = urlenc(hostile[i]);

		for (k = 0; k < sizeof(fmt) / sizeof(fmt[0]); k++) {
			char *path = kb_xasprintf("%s%s", fmt[k], enc);

			request("GET", path, &r);
			ck_assert_msg(r.status == 200, "GET %s: %d %.300s",
				      path, r.status, r.body);
			assert_no_sqlite(&r, path);
			kb_test_http_free(&r);
			free(path);
		}
		free(enc);
	}
}
END_TEST

/* ---- load while the index changes, and shutdown ------------------------ */

static const char *const load_queries[] = {
	"battery",
	"zebrafoo",
	"won't hold charge",
	"quokkabar",
	"soundcore 2 solid red",
};

struct load {
	int port;
	unsigned id;
	atomic_bool *stop;
	bool until_refused; /* stop at the first refused connection */
	atomic_uint ok; /* the test watches it to know the load is on */
	/* results, read after join */
	unsigned failed, refused, dropped, flips;
	char first_failure[512];
};

static bool
has_path(const json_t *doc, const char *suffix)
{
	size_t i, n = strlen(suffix);
	json_t *h;

	json_array_foreach(json_object_get(doc, "hits"), i, h)
	{
		const char *p = jstr(h, "path");

		if (p && strlen(p) >= n &&
		    strcmp(p + strlen(p) - n, suffix) == 0)
			return true;
	}
	return false;
}

/* A client thread: searches until told to stop.  No ck_assert here. */
static void *
load_worker(void *arg)
{
	struct load *w = arg;
	int last = -1;
	unsigned i;

	for (i = w->id; !atomic_load(w->stop); i++) {
		const char *q = load_queries[i % 5];
		char *enc = urlenc(q);
		char *path = kb_xasprintf("/api/search?q=%s&limit=100", enc);
		struct kb_test_http r;
		json_t *j = NULL;
		int rc = kb_test_http(w->port, "GET", path, NULL, NULL, 0, &r);

		if (rc == -1 && w->until_refused) {
			w->refused++;
			free(path);
			free(enc);
			kb_test_http_free(&r);
			break;
		}
		if (rc == -2 && w->until_refused) {
			/* queued but never accepted: not in flight */
			w->dropped++;
		} else if (rc != 0 || r.status != 200 || !r.complete ||
			   (j = json_loadb(r.body, r.body_len, 0, NULL)) ==
				   NULL ||
			   !json_is_array(json_object_get(j, "hits"))) {
			if (w->failed++ == 0)
				snprintf(w->first_failure,
					 sizeof(w->first_failure),
					 "GET %s: rc %d, status %d, %s, %zu "
					 "bytes: %.200s",
					 path, rc, r.status,
					 r.complete ? "complete" : "truncated",
					 r.body_len, r.body ? r.body : "");
		} else {
			atomic_fetch_add(&w->ok, 1);
			if (strcmp(q, "zebrafoo") == 0) {
				int found = has_path(j, "zebra-a.md");

				w->flips += last >= 0 && found != last;
				last = found;
			}
		}
		json_decref(j);
		kb_test_http_free(&r);
		free(path);
		free(enc);
	}
	return NULL;
}

#define NWORKERS 4

static void
load_start(struct load *w, pthread_t *t, atomic_bool *stop, bool until_refused)
{
	unsigned i;

	atomic_store(stop, false);
	for (i = 0; i < NWORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].port = srv.port;
		w[i].id = i;
		w[i].stop = stop;
		w[i].until_refused = until_refused;
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, load_worker, &w[i]), 0);
	}
}

/* Join the workers; the sums go to total. */
static void
load_join(struct load *w, pthread_t *t, atomic_bool *stop, struct load *total)
{
	unsigned i;

	atomic_store(stop, true);
	memset(total, 0, sizeof(*total));
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(t[i], NULL);
		total->ok += atomic_load(&w[i].ok);
		total->failed += w[i].failed;
		total->refused += w[i].refused;
		total->dropped += w[i].dropped;
		if (w[i].flips > total->flips)
			total->flips = w[i].flips;
		if (w[i].failed && !total->first_failure[0])
			memcpy(total->first_failure, w[i].first_failure,
			       sizeof(total->first_failure));
	}
}

/* Wait (at most 10 s) until every worker has had n answers. */
static void
load_running(struct load *w, unsigned n)
{
	double deadline = kb_now() + 10;
	unsigned i = 0;

	while (i < NWORKERS && kb_now() < deadline) {
		if (atomic_load(&w[i].ok) >= n)
			i++;
		else
			usleep(5000);
	}
	ck_assert_msg(i == NWORKERS, "the clients got no answers");
}

static void
sleep_until(double t)
{
	double now = kb_now();

	if (t > now)
		usleep((useconds_t)((t - now) * 1e6));
}

/* Poll (the server checks the file every so often) until q finds suffix. */
static bool
eventually_finds(const char *q, const char *suffix, bool want)
{
	double deadline = kb_now() + 3;
	char *path = kb_xasprintf("/api/search?q=%s&limit=100", q);
	bool found;

	do {
		json_t *j = get_json(path);

		found = has_path(j, suffix);
		json_decref(j);
		if (found == want)
			break;
		usleep(20000);
	} while (kb_now() < deadline);
	free(path);
	return found == want;
}

START_TEST(reindexing_under_load_fails_nothing_and_ends_on_the_new_index)
{
	struct load w[NWORKERS], total;
	pthread_t t[NWORKERS];
	atomic_bool stop;
	double t0 = kb_now();
	int st[5], k;
	char *err[5];
	json_t *h;

	load_start(w, t, &stop, false);
	/* kb/ + A, + B, + A, + B, + A: the index really changes each time */
	for (k = 0; k < 5; k++) {
		char *extra = kb_test_path(dir, k % 2 ? "extra-b" : "extra-a");

		sleep_until(t0 + 0.2 + 0.55 * k);
		st[k] = reindex(dbpath, extra, &err[k]);
		free(extra);
	}
	sleep_until(t0 + 3.0);
	load_join(w, t, &stop, &total);
	for (k = 0; k < 5; k++) {
		ck_assert_msg(st[k] == 0, "kbindex run %d: %s", k, err[k]);
		free(err[k]);
	}
	ck_assert_msg(total.failed == 0, "%u of %u requests failed; first: %s",
		      total.failed, total.failed + total.ok,
		      total.first_failure);
	ck_assert_msg(total.ok >= 20, "only %u requests in 3 s", total.ok);
	/* the clients saw the index change under them, more than once */
	ck_assert_msg(total.flips >= 2,
		      "zebrafoo results changed only %u times in 5 reindexes",
		      total.flips);
	ck_assert(eventually_finds("zebrafoo", "zebra-a.md", true));
	ck_assert(eventually_finds("quokkabar", "quokka-b.md", false));
	h = get_json("/healthz");
	ck_assert_int_eq(jint(h, "articles"), kb_articles + 2);
	json_decref(h);
}
END_TEST

START_TEST(sighup_reopens_the_index_without_failing_a_request)
{
	struct load w[NWORKERS], total;
	pthread_t t[NWORKERS];
	atomic_bool stop;
	char *extra = kb_test_path(dir, "extra-b"), *err = NULL;
	int k, st;
	json_t *h;

	ck_assert(eventually_finds("quokkabar", "quokka-b.md", false));
	load_start(w, t, &stop, false);
	load_running(w, 1);
	for (k = 0; k < 10; k++) {
		usleep(100000);
		kill(srv.pid, SIGHUP);
	}
	/* The index changes; SIGHUP says so at once. */
	st = reindex(dbpath, extra, &err);
	kill(srv.pid, SIGHUP);
	usleep(300000);
	load_join(w, t, &stop, &total);
	ck_assert_msg(st == 0, "kbindex: %s", err);
	ck_assert_msg(waitpid(srv.pid, NULL, WNOHANG) == 0,
		      "kbserver died of SIGHUP");
	ck_assert_msg(total.failed == 0, "%u of %u requests failed; first: %s",
		      total.failed, total.failed + total.ok,
		      total.first_failure);
	ck_assert_uint_ge(total.ok, 10);
	ck_assert(eventually_finds("quokkabar", "quokka-b.md", true));
	h = get_json("/healthz");
	ck_assert_int_eq(jint(h, "articles"), kb_articles + 1);
	json_decref(h);
	ck_assert_int_eq(kb_test_server_stop(&srv), 0);
	free(extra);
	free(err);
}
END_TEST

/* A worker that tries one request: after SIGTERM it must be refused. */
static void *
late_request(void *arg)
{
	int *rc = arg;
	struct kb_test_http r;

	*rc = kb_test_http(srv.port, "GET", "/healthz", NULL, NULL, 0, &r);
	kb_test_http_free(&r);
	return NULL;
}

START_TEST(sigterm_finishes_requests_in_flight_and_exits_zero)
{
	static const char first[] = "GET /api/search?q=battery HTTP/1.1\r\n"
				    "Host: 127.0.0.1\r\n";
	static const char rest[] = "Connection: close\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct load w[NWORKERS], total;
	pthread_t t[NWORKERS], late;
	atomic_bool stop;
	struct kb_buf in;
	double t0;
	int fd, st, late_rc = 0;
	char chunk[4096], rest_out[256];
	ssize_t n;
	char *hend;
	json_t *doc;

	/* One request half sent: the connection is the server's already. */
	sa.sin_port = htons((uint16_t)srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	ck_assert(write(fd, first, strlen(first)) == (ssize_t)strlen(first));
	load_start(w, t, &stop, true);
	load_running(w, 3);
	t0 = kb_now();
	ck_assert(kill(srv.pid, SIGTERM) == 0);
	usleep(200000);
	pthread_create(&late, NULL, late_request, &late_rc);
	usleep(100000);
	/* The rest of the half-sent request, after the signal. */
	ck_assert(write(fd, rest, strlen(rest)) == (ssize_t)strlen(rest));
	kb_buf_init(&in);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		kb_buf_add(&in, chunk, (size_t)n);
	close(fd);
	while (waitpid(srv.pid, &st, WNOHANG) == 0 && kb_now() - t0 < 10)
		usleep(5000);
	pthread_join(late, NULL);
	load_join(w, t, &stop, &total);
	ck_assert_msg(kb_now() - t0 < 5, "kbserver took %.1f s to stop",
		      kb_now() - t0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *log = kb_test_server_log(&srv);
		size_t len = strlen(log);

		ck_abort_msg("kbserver ended with status %d after SIGTERM; "
			     "its stderr ends: %s",
			     st, log + (len > 600 ? len - 600 : 0));
	}
	/* It said nothing more on stdout. */
	n = read(srv.out_fd, rest_out, sizeof(rest_out));
	ck_assert_msg(n == 0, "more on stdout: %.*s", (int)n, rest_out);
	srv.pid = 0;
	close(srv.out_fd);
	close(srv.err_fd);

	ck_assert_msg(in.len > 0 && strncmp(in.data, "HTTP/1.1 200", 12) == 0,
		      "the request in flight got: %.200s",
		      in.data ? in.data : "nothing");
	hend = strstr(in.data, "\r\n\r\n");
	ck_assert_ptr_nonnull(hend);
	doc = json_loads(hend + 4, 0, NULL);
	ck_assert_msg(doc != NULL &&
			      json_is_array(json_object_get(doc, "hits")),
		      "the request in flight got a broken body");
	json_decref(doc);
	kb_buf_free(&in);
	ck_assert_msg(total.failed == 0,
		      "%u requests got a bad or cut response; first: %s",
		      total.failed, total.first_failure);
	ck_assert_uint_ge(total.ok, 3 * NWORKERS);
	ck_assert_msg(late_rc == -1,
		      "a connection made after SIGTERM was %s, not refused",
		      late_rc == 0 ? "answered" : "accepted and then dropped");
}
END_TEST

START_TEST(sigint_stops_it_cleanly_like_sigterm)
{
	struct kb_test_http r;
	double t0 = kb_now();
	int st = 0;

	request("GET", "/healthz", &r);
	kb_test_http_free(&r);
	ck_assert(kill(srv.pid, SIGINT) == 0);
	while (waitpid(srv.pid, &st, WNOHANG) == 0 && kb_now() - t0 < 10)
		usleep(5000);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "kbserver ended with status %d after SIGINT", st);
	ck_assert_msg(kb_now() - t0 < 5, "kbserver took %.1f s to stop",
		      kb_now() - t0);
	srv.pid = 0;
	close(srv.out_fd);
	close(srv.err_fd);
	ck_assert_int_eq(kb_test_http(srv.port, "GET", "/healthz", NULL, NULL,
				      0, &r),
			 -1);
	kb_test_http_free(&r);
}
END_TEST

START_TEST(each_request_is_logged_on_one_line_with_status_and_time)
{
	static const struct {
		const char *method, *path, *line;
	} reqs[] = {
		{ "GET", "/healthz", "^GET /healthz 200 [0-9]+(\\.[0-9]+)?$" },
		{ "GET", "/api/search?q=battery",
		  "^GET /api/search(\\?[^ ]*)? 200 [0-9]+(\\.[0-9]+)?$" },
		{ "GET", "/nope", "^GET /nope 404 [0-9]+(\\.[0-9]+)?$" },
		{ "HEAD", "/", "^HEAD / 200 [0-9]+(\\.[0-9]+)?$" },
		{ "POST", "/api/search?q=x",
		  "^POST /api/search(\\?[^ ]*)? 405 [0-9]+(\\.[0-9]+)?$" },
	};
	const size_t nreq = sizeof(reqs) / sizeof(reqs[0]);
	regex_t any, re;
	double deadline;
	size_t i, lines = 0;
	char *log = NULL;
	struct kb_test_http r;

	for (i = 0; i < nreq; i++) {
		request(reqs[i].method, reqs[i].path, &r);
		kb_test_http_free(&r);
	}
	ck_assert_int_eq(regcomp(&any,
				 "^[A-Z]+ /[^ ]* [0-9]{3} [0-9]+(\\.[0-9]+)?$",
				 REG_EXTENDED | REG_NEWLINE),
			 0);
	/* The line may follow the response by a moment. */
	deadline = kb_now() + 3;
	do {
		const char *p;
		regmatch_t m;

		free(log);
		log = kb_test_server_log(&srv);
		lines = 0;
		for (p = log;
		     regexec(&any, p, 1, &m, p == log ? 0 : REG_NOTBOL) == 0 &&
		     m.rm_eo > 0;
		     p += m.rm_eo)
			lines++;
		if (lines >= nreq)
			break;
		usleep(10000);
	} while (kb_now() < deadline);
	usleep(100000);
	free(log);
	log = kb_test_server_log(&srv);
	for (i = 0; i < nreq; i++) {
		ck_assert_int_eq(
			regcomp(&re, reqs[i].line,
				REG_EXTENDED | REG_NEWLINE | REG_NOSUB),
			0);
		ck_assert_msg(regexec(&re, log, 0, NULL, 0) == 0,
			      "no log line %s in:\n%s", reqs[i].line, log);
		regfree(&re);
	}
	ck_assert_msg(lines == nreq,
		      "%zu access log lines for %zu requests:\n%s", lines, nreq,
		      log);
	regfree(&any);
	free(log);
}
END_TEST

/*
 * A worker's connection bounds each search with a deadline; a request
 * for something else, on the same worker long after that search, must
 * not be stopped by the old deadline.
 */
START_TEST(reads_long_after_a_search_are_not_cut_short_by_its_deadline)
{
	static const char *const paths[] = {
		"/api/symptoms", "/api/models",	      "/api/leds",
		"/api/articles/1", "/api/suggest?q=bat", "/healthz",
	};
	static const char *const one_worker[] = { "--threads", "1", NULL };
	struct kb_test_server one;
	struct kb_test_http r;
	size_t i;

	kb_test_server_start(&one, dbpath, one_worker);
	ck_assert_int_eq(kb_test_http(one.port, "GET", "/api/search?q=battery",
				      NULL, NULL, 0, &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	kb_test_http_free(&r);
	/* Past the search's 2 s. */
	usleep(2300 * 1000);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(kb_test_http(one.port, "GET", paths[i], NULL,
					      NULL, 0, &r),
				 0);
		ck_assert_msg(r.status == 200, "GET %s: %d %s", paths[i],
			      r.status, r.body);
		kb_test_http_free(&r);
	}
	ck_assert_int_eq(kb_test_server_stop(&one), 0);
}
END_TEST

static Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *api = tcase_create("api");
	TCase *life = tcase_create("lifecycle");

	tcase_set_timeout(api, 60);
	tcase_add_unchecked_fixture(api, setup, shared_teardown);
	tcase_add_loop_test(
		api,
		every_endpoint_answers_with_the_right_status_type_and_shape, 0,
		(int)(sizeof(endpoints) / sizeof(endpoints[0])));
	tcase_add_loop_test(api, every_bad_request_gets_its_4xx_and_never_a_5xx,
			    0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(
		api,
		cors_preflight_is_answered_and_api_responses_allow_any_origin);
	tcase_add_test(api, head_is_get_without_the_body);
	tcase_add_test(api, the_zendesk_endpoint_pages_and_filters_by_label);
	tcase_add_test(
		api,
		hostile_queries_are_searched_and_never_reach_sqlite_as_written);
	tcase_add_loop_test(
		api, api_search_answers_exactly_what_kbsearch_json_prints, 0,
		(int)(sizeof(same_queries) / sizeof(same_queries[0])));
	suite_add_tcase(s, api);

	tcase_set_timeout(life, 60);
	tcase_add_checked_fixture(life, setup, teardown);
	tcase_add_test(life,
		       each_request_is_logged_on_one_line_with_status_and_time);
	tcase_add_test(
		life,
		reindexing_under_load_fails_nothing_and_ends_on_the_new_index);
	tcase_add_test(life,
		       sighup_reopens_the_index_without_failing_a_request);
	tcase_add_test(life,
		       sigterm_finishes_requests_in_flight_and_exits_zero);
	tcase_add_test(life, sigint_stops_it_cleanly_like_sigterm);
	tcase_add_test(
		life, reads_long_after_a_search_are_not_cut_short_by_its_deadline);
	suite_add_tcase(s, life);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* Before any thread: Jansson seeds its hash tables once. */
	json_object_seed(0);
	sr = srunner_create(server_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed || shared_server_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
