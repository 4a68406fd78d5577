/* kbserver.h - kbserver's request handling, callable without a listening
 * daemon. */
#ifndef KB_KBSERVER_H
#define KB_KBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>

/*
 * Serve the index at db with threads workers' worth of queueing (quiet:
 * no access log).  main does the same from its options; a program that
 * drives the handlers below itself (the fuzzing harness) calls this once
 * first.
 */
void kb_server_setup(const char *db, unsigned threads, bool quiet);

/*
 * The callbacks libmicrohttpd is given: the access handler (called with
 * *req_cls NULL when the request line and headers are in, then once more
 * with *upload_size 0 to answer), the completion notice that frees what
 * the handler kept in *req_cls, and the percent-decoder for the path and
 * the query string.
 */
enum MHD_Result kb_server_handle(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **req_cls);
void kb_server_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe);
size_t kb_server_unescape(void *cls, struct MHD_Connection *c, char *s);

#endif
