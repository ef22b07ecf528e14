/*
 * api_lead.c - what the API knows of several servers (api.h): the leader's
 * name for the faces, and the fencing of the leader's loops' writes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"
#include "engine/store/store.h"

static pthread_mutex_t lead_lock = PTHREAD_MUTEX_INITIALIZER; /* every api's leader */

void api_fence_thread(bool on)
{
	store_fence_thread(on);
}

void api_set_leader(struct api *a, const char *name)
{
	struct api *r = a->root;
	char *copy = name && *name ? xstrdup(name) : NULL;
	pthread_mutex_lock(&lead_lock);
	char *old = r->leader;
	bool same = (!old && !copy) || (old && copy && !strcmp(old, copy));
	r->leader = copy;
	if (!same)
		r->leader_seq++;
	pthread_mutex_unlock(&lead_lock);
	free(old);
}

char *api_leader(struct api *a)
{
	pthread_mutex_lock(&lead_lock);
	char *s = a->root->leader ? xstrdup(a->root->leader) : NULL;
	pthread_mutex_unlock(&lead_lock);
	return s;
}

uint64_t api_leader_seq(struct api *a)
{
	pthread_mutex_lock(&lead_lock);
	uint64_t n = a->root->leader_seq;
	pthread_mutex_unlock(&lead_lock);
	return n;
}
