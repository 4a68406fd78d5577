/* error.c - filling struct kb_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int
kb_error_set(struct kb_error *err, enum kb_status status, int line,
	     const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return status;
	err->status = status;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return status;
}

void
kb_error_clear(struct kb_error *err)
{
	if (err == NULL)
		return;
	err->status = KB_OK;
	err->line = 0;
	err->msg[0] = '\0';
}
