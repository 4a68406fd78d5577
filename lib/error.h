/* error.h - the one error type every fallible libkb function fills. */
#ifndef KB_ERROR_H
#define KB_ERROR_H

#include <stddef.h>

/*
 * Status codes returned by every libkb function that can fail.  The message
 * in struct kb_error is what a person reads: it names the file, line or
 * parameter that was wrong and never contains an SQLite message verbatim
 * when the cause was user input.
 */
enum kb_status {
	KB_OK = 0,
	KB_ERR_IO,	/* a file could not be read or written */
	KB_ERR_PARSE,	/* input was malformed */
	KB_ERR_DB,	/* the index could not be opened or queried */
	KB_ERR_NOMEM,
	KB_ERR_ARG,	/* a caller-supplied value was out of range */
	KB_ERR_MISSING, /* the index (or a named item) does not exist */
	KB_ERR_BUSY,	/* another process holds the index lock */
	KB_ERR_TIMEOUT, /* a query ran past its deadline */
};

struct kb_error {
	enum kb_status status;
	int line; /* 1-based input line, 0 when not applicable */
	char msg[512];
};

/* Fill err (which may be NULL) and return status. */
int kb_error_set(struct kb_error *err, enum kb_status status, int line,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void kb_error_clear(struct kb_error *err);

#endif
