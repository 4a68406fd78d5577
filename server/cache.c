/* cache.c - finished search responses, kept for the index they came from. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "util.h"

struct entry {
	struct entry *next_hash;
	struct entry *prev, *next; /* recency: head is the newest */
	uint64_t hash;
	size_t keylen, len;
	char *key, *body;
};

struct resp_cache {
	pthread_mutex_t lock;
	size_t max_bytes, bytes;
	uint64_t gen, hits, misses;
	struct entry **slot;
	size_t nslot;
	struct entry *head, *tail;
};

/* Bodies larger than this share of the budget are not kept. */
#define MAX_SHARE 8

struct resp_cache *
resp_cache_new(size_t max_bytes)
{
	struct resp_cache *rc;

	if (max_bytes == 0)
		return NULL;
	rc = kb_xcalloc(1, sizeof(*rc));
	pthread_mutex_init(&rc->lock, NULL);
	rc->max_bytes = max_bytes;
	rc->nslot = 4096;
	rc->slot = kb_xcalloc(rc->nslot, sizeof(*rc->slot));
	return rc;
}

static void
unlink_entry(struct resp_cache *rc, struct entry *e)
{
	struct entry **p = &rc->slot[e->hash % rc->nslot];

	while (*p != e)
		p = &(*p)->next_hash;
	*p = e->next_hash;
	if (e->prev)
		e->prev->next = e->next;
	else
		rc->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		rc->tail = e->prev;
	rc->bytes -= e->keylen + e->len + sizeof(*e);
	free(e->key);
	free(e->body);
	free(e);
}

static void
clear(struct resp_cache *rc)
{
	while (rc->head != NULL)
		unlink_entry(rc, rc->head);
}

void
resp_cache_free(struct resp_cache *rc)
{
	if (rc == NULL)
		return;
	clear(rc);
	free(rc->slot);
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}

static struct entry *
find(struct resp_cache *rc, uint64_t h, const char *key, size_t keylen)
{
	struct entry *e;

	for (e = rc->slot[h % rc->nslot]; e != NULL; e = e->next_hash)
		if (e->hash == h && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0)
			return e;
	return NULL;
}

/* Called with the lock held: a new index makes every entry stale. */
static void
check_gen(struct resp_cache *rc, uint64_t gen)
{
	if (rc->gen != gen) {
		clear(rc);
		rc->gen = gen;
	}
}

char *
resp_cache_get(struct resp_cache *rc, uint64_t gen, const char *key,
	       size_t keylen, size_t *len)
{
	uint64_t h = kb_fnv1a(key, keylen);
	struct entry *e;
	char *body = NULL;

	if (rc == NULL)
		return NULL;
	pthread_mutex_lock(&rc->lock);
	check_gen(rc, gen);
	e = find(rc, h, key, keylen);
	if (e != NULL) {
		body = kb_xmalloc(e->len + 1);
		memcpy(body, e->body, e->len);
		body[e->len] = '\0';
		*len = e->len;
		/* Move to the front. */
		if (e->prev != NULL) {
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				rc->tail = e->prev;
			e->prev = NULL;
			e->next = rc->head;
			rc->head->prev = e;
			rc->head = e;
		}
		rc->hits++;
	} else {
		rc->misses++;
	}
	pthread_mutex_unlock(&rc->lock);
	return body;
}

void
resp_cache_put(struct resp_cache *rc, uint64_t gen, const char *key,
	       size_t keylen, const char *body, size_t len)
{
	uint64_t h = kb_fnv1a(key, keylen);
	size_t cost = keylen + len + sizeof(struct entry);
	struct entry *e;

	if (rc == NULL || cost > rc->max_bytes / MAX_SHARE)
		return;
	pthread_mutex_lock(&rc->lock);
	if (gen < rc->gen) {
		/* Made from an index already replaced. */
		pthread_mutex_unlock(&rc->lock);
		return;
	}
	check_gen(rc, gen);
	if (find(rc, h, key, keylen) == NULL) {
		while (rc->bytes + cost > rc->max_bytes && rc->tail != NULL)
			unlink_entry(rc, rc->tail);
		e = kb_xcalloc(1, sizeof(*e));
		e->hash = h;
		e->keylen = keylen;
		e->len = len;
		e->key = kb_xmalloc(keylen ? keylen : 1);
		memcpy(e->key, key, keylen);
		e->body = kb_xmalloc(len ? len : 1);
		memcpy(e->body, body, len);
		e->next_hash = rc->slot[h % rc->nslot];
		rc->slot[h % rc->nslot] = e;
		e->next = rc->head;
		if (rc->head)
			rc->head->prev = e;
		rc->head = e;
		if (rc->tail == NULL)
			rc->tail = e;
		rc->bytes += cost;
	}
	pthread_mutex_unlock(&rc->lock);
}

void
resp_cache_stats(struct resp_cache *rc, uint64_t *hits, uint64_t *misses)
{
	*hits = *misses = 0;
	if (rc == NULL)
		return;
	pthread_mutex_lock(&rc->lock);
	*hits = rc->hits;
	*misses = rc->misses;
	pthread_mutex_unlock(&rc->lock);
}
