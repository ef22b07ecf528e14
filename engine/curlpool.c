/*
 * curlpool.c - see curlpool.h.
 */
#include "engine/curlpool.h"

#include <stdlib.h>

void curlpool_init(struct curlpool *p, int max)
{
	pthread_mutex_init(&p->mu, NULL);
	p->max = max > 0 && max <= CURLPOOL_MAX ? max : CURLPOOL_MAX;
	p->n = 0;
}

CURL *curlpool_take(struct curlpool *p)
{
	CURL *h = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->n)
		h = p->idle[--p->n];
	pthread_mutex_unlock(&p->mu);
	if (!h)
		h = curl_easy_init();
	if (!h)
		abort(); /* out of memory */
	return h;
}

void curlpool_give(struct curlpool *p, CURL *h)
{
	curl_easy_reset(h);
	pthread_mutex_lock(&p->mu);
	if (p->n < p->max) {
		p->idle[p->n++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (h)
		curl_easy_cleanup(h);
}

void curlpool_free(struct curlpool *p)
{
	for (int i = 0; i < p->n; i++)
		curl_easy_cleanup(p->idle[i]);
	p->n = 0;
	pthread_mutex_destroy(&p->mu);
}
