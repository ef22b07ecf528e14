/*
 * curlpool.h - idle libcurl easy handles kept for reuse.
 *
 * A handle given back keeps its connections (curl_easy_reset drops only the
 * options), so the next request to the same server skips the TCP and TLS
 * handshakes.  The etcd client and the HTTP API client each keep one pool.
 *
 *     CURL *h = curlpool_take(&p);
 *     ... set options, curl_easy_perform(h) ...
 *     curlpool_give(&p, h);
 */
#ifndef CFS_CURLPOOL_H
#define CFS_CURLPOOL_H

#include <curl/curl.h>
#include <pthread.h>

#define CURLPOOL_MAX 16

struct curlpool {
	pthread_mutex_t mu;
	int max; /* idle handles kept: at most CURLPOOL_MAX */
	int n;
	CURL *idle[CURLPOOL_MAX];
};

void curlpool_init(struct curlpool *p, int max);
/* An idle handle, or a new one; never NULL (aborts when out of memory). */
CURL *curlpool_take(struct curlpool *p);
/* Back to the pool, reset; cleaned up when the pool is full. */
void curlpool_give(struct curlpool *p, CURL *h);
void curlpool_free(struct curlpool *p);

#endif
