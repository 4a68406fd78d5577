/* http.c - fuzz target "http": one request through kbserver's handler, with
 * libmicrohttpd's part played here. */
#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "kbserver.h"
#include "util.h"

/*
 * The input is a request as a client writes it, lines ending in LF or
 * CR LF:
 *
 *   GET /api/search?q=red+light&limit=5
 *   Host: 127.0.0.1:8080
 *
 *   body
 *
 * A first line without a space is a GET of that target.  The handler
 * gets what libmicrohttpd would give it: the path and each query
 * argument percent-decoded by kbserver's own decoder, the headers, the
 * body in one piece.  Requests libmicrohttpd itself refuses (control
 * bytes in the head, a header line without a colon) are skipped.
 */

struct value {
	enum MHD_ValueKind kind;
	char *key;
	char *value; /* NULL for an argument without '=' */
};

struct MHD_Response {
	char *data;
	size_t len;
	bool own;
	struct kb_strv headers; /* "name", "value", ... */
	int refs;
	bool bad_header;
};

struct MHD_Connection {
	struct value *v;
	size_t nv;
	struct MHD_Response *resp;
	unsigned status;
	int queued;
};

const char *
MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
			    const char *key)
{
	size_t i;

	for (i = 0; i < c->nv; i++)
		if ((c->v[i].kind & kind) && key != NULL &&
		    strcasecmp(c->v[i].key, key) == 0)
			return c->v[i].value;
	return NULL;
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer,
				enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = kb_xcalloc(1, sizeof(*r));

	r->len = size;
	r->refs = 1;
	kb_strv_init(&r->headers);
	if (mode == MHD_RESPMEM_MUST_COPY) {
		r->data = kb_xmalloc(size + 1);
		if (size > 0)
			memcpy(r->data, buffer, size);
		r->own = true;
	} else {
		r->data = buffer;
		r->own = mode == MHD_RESPMEM_MUST_FREE;
	}
	return r;
}

enum MHD_Result
MHD_add_response_header(struct MHD_Response *r, const char *name,
			const char *value)
{
	/* libmicrohttpd refuses these; a caller that ignores it loses it. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		r->bad_header = true;
		return MHD_NO;
	}
	kb_strv_push(&r->headers, name);
	kb_strv_push(&r->headers, value);
	return MHD_YES;
}

/* No per-connection state: kbserver's slow-client tracking is the daemon's. */
const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *c,
			enum MHD_ConnectionInfoType info, ...)
{
	(void)c;
	(void)info;
	return NULL;
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *c, unsigned int status,
		   struct MHD_Response *r)
{
	c->queued++;
	if (c->resp != NULL)
		return MHD_NO;
	c->resp = r;
	c->status = status;
	r->refs++;
	return MHD_YES;
}

void
MHD_destroy_response(struct MHD_Response *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	if (r->own)
		free(r->data);
	kb_strv_free(&r->headers);
	free(r);
}

static const char *
resp_header(const struct MHD_Response *r, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < r->headers.n; i += 2)
		if (strcasecmp(r->headers.v[i], name) == 0)
			return r->headers.v[i + 1];
	return NULL;
}

static void
add_value(struct MHD_Connection *c, enum MHD_ValueKind kind, char *key,
	  char *value)
{
	c->v = kb_xrealloc(c->v, (c->nv + 1) * sizeof(*c->v));
	c->v[c->nv].kind = kind;
	c->v[c->nv].key = key;
	c->v[c->nv].value = value;
	c->nv++;
}

/* "a=1&b&c=%41" as libmicrohttpd splits and decodes it. */
static void
add_arguments(struct MHD_Connection *c, const char *query)
{
	while (*query) {
		size_t n = strcspn(query, "&");
		char *piece = kb_xstrndup(query, n), *eq = strchr(piece, '=');
		char *value = NULL;

		query += n + (query[n] == '&');
		if (*piece == '\0') {
			free(piece);
			continue;
		}
		if (eq != NULL) {
			*eq = '\0';
			value = kb_xstrdup(eq + 1);
			kb_server_unescape(NULL, c, value);
		}
		kb_server_unescape(NULL, c, piece);
		add_value(c, MHD_GET_ARGUMENT_KIND, piece, value);
	}
}

static bool
head_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ||
		    ch == 0x7f)
			return false;
	}
	return true;
}

static void
check_json(const struct MHD_Connection *c)
{
	const struct MHD_Response *r = c->resp;
	json_error_t jerr;
	json_t *doc = json_loadb(r->data, r->len, 0, &jerr);

	KB_FUZZ_CHECK(doc != NULL, "%u: body is not JSON (%s): %.*s", c->status,
		      jerr.text, (int)r->len, r->data);
	if (c->status >= 400) {
		json_t *e = json_object_get(doc, "error");

		KB_FUZZ_CHECK(json_is_string(json_object_get(e, "code")) &&
				  json_is_string(json_object_get(e, "message")),
			      "%u without an error code and message",
			      c->status);
	}
	json_decref(doc);
}

static void
check_response(const struct MHD_Connection *c, const char *method,
	       const char *url)
{
	const struct MHD_Response *r = c->resp;
	const char *type;

	KB_FUZZ_CHECK(c->queued == 1 && r != NULL, "%d responses queued",
		      c->queued);
	KB_FUZZ_CHECK(!r->bad_header, "a header value holds CR or LF");
	switch (c->status) {
	case 200:
	case 204:
	case 400:
	case 404:
	case 405:
	case 413:
		break;
	default:
		kb_fuzz_fail("%s %s: status %u", method, url, c->status);
	}
	if (c->status == 405)
		KB_FUZZ_CHECK(resp_header(r, "Allow") != NULL,
			      "405 without Allow");
	KB_FUZZ_CHECK(resp_header(r, "X-Content-Type-Options") != NULL,
		      "no nosniff");
	if (c->status == 204)
		return;
	type = resp_header(r, "Content-Type");
	KB_FUZZ_CHECK(type != NULL, "%u without a Content-Type", c->status);
	if (strncmp(type, "application/json", 16) == 0)
		check_json(c);
	else if (strncmp(type, "text/html", 9) == 0)
		kb_fuzz_check_html(url, r->data, r->len);
}

int
kb_fuzz_http(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *in = (const char *)data, *end = in + size, *p, *eol;
	const char *blank, *body = NULL;
	struct MHD_Connection c = {0};
	char *line, *method, *target, *q, *sp, *nl;
	void *req_cls = NULL;
	size_t body_len = 0, up, i;
	enum MHD_Result ret;

	if (!ready) {
		kb_server_setup(kb_fuzz_db_path(), 1, true);
		ready = true;
	}
	/* The head ends at the first empty line; the body follows it. */
	blank = NULL;
	for (p = in; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			blank = p;
			body = eol + 1;
			body_len = (size_t)(end - body);
			break;
		}
	}
	if (!head_ok(in, (size_t)((blank ? blank : end) - in)))
		return 0;
	line = kb_xstrndup(in, (size_t)((blank ? blank : end) - in));

	/* Request line. */
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	line[strcspn(line, "\r")] = '\0';
	sp = strchr(line, ' ');
	if (sp != NULL) {
		*sp = '\0';
		method = line;
		target = sp + 1 + strspn(sp + 1, " ");
		target[strcspn(target, " ")] = '\0';
	} else {
		method = "GET";
		target = line;
	}
	if (*method == '\0' || *target == '\0')
		goto out;

	/* Header lines. */
	for (p = nl ? nl + 1 : NULL; p != NULL && *p;) {
		const char *next = strchr(p, '\n'), *colon;
		size_t n = next ? (size_t)(next - p) : strlen(p);
		char *name, *value;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p)
			goto out;
		name = kb_xstrndup(p, (size_t)(colon - p));
		value = kb_xstrndup(colon + 1, n - (size_t)(colon - p) - 1);
		kb_squeeze_space(value);
		add_value(&c, MHD_HEADER_KIND, name, value);
		p = next ? next + 1 : NULL;
	}

	q = strchr(target, '?');
	if (q != NULL) {
		*q++ = '\0';
		add_arguments(&c, q);
	}
	kb_server_unescape(NULL, &c, target);

	/* The calls libmicrohttpd makes, in its order. */
	up = 0;
	ret = kb_server_handle(NULL, &c, target, method, "HTTP/1.1", NULL, &up,
			       &req_cls);
	KB_FUZZ_CHECK(ret == MHD_YES, "first call refused the request");
	if (c.resp == NULL && body_len > 0) {
		up = body_len;
		ret = kb_server_handle(NULL, &c, target, method, "HTTP/1.1",
				       body, &up, &req_cls);
		KB_FUZZ_CHECK(ret == MHD_YES && up == 0,
			      "body not taken (%zu bytes left)", up);
	}
	if (c.resp == NULL) {
		up = 0;
		ret = kb_server_handle(NULL, &c, target, method, "HTTP/1.1",
				       NULL, &up, &req_cls);
		KB_FUZZ_CHECK(ret == MHD_YES, "%s %s: handler said MHD_NO",
			      method, target);
	}
	check_response(&c, method, target);
	kb_server_completed(NULL, &c, &req_cls,
			    MHD_REQUEST_TERMINATED_COMPLETED_OK);
	KB_FUZZ_CHECK(req_cls == NULL, "request state left behind");
	MHD_destroy_response(c.resp);
out:
	for (i = 0; i < c.nv; i++) {
		free(c.v[i].key);
		free(c.v[i].value);
	}
	free(c.v);
	free(line);
	return 0;
}
