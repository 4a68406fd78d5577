/* assets.h - the web page's files, compiled into kbserver. */
#ifndef KB_ASSETS_H
#define KB_ASSETS_H

#include <stddef.h>

struct kb_asset {
	const char *name; /* file name under server/web/ */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct kb_asset kb_assets[];
extern const size_t kb_nassets;

#endif
