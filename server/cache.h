/* cache.h - finished search responses, kept for the index they came from. */
#ifndef KB_SERVER_CACHE_H
#define KB_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Help desks ask the same questions all day, and a page that searches as
 * people type asks each prefix again when they go back.  The cache keeps
 * whole response bodies by request (least recently used go first, within
 * a byte budget) and forgets everything when the index changes.  It is
 * shared by the worker threads.
 */
struct resp_cache;

/* max_bytes 0: no cache (every call below is then a no-op or a miss). */
struct resp_cache *resp_cache_new(size_t max_bytes);
void resp_cache_free(struct resp_cache *rc);

/* A malloc'd copy of the body stored for key under index generation gen. */
char *resp_cache_get(struct resp_cache *rc, uint64_t gen, const char *key,
		     size_t keylen, size_t *len);
void resp_cache_put(struct resp_cache *rc, uint64_t gen, const char *key,
		    size_t keylen, const char *body, size_t len);

/* Lookups answered and missed since the start. */
void resp_cache_stats(struct resp_cache *rc, uint64_t *hits,
		      uint64_t *misses);

#endif
