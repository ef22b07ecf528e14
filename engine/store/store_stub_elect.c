/*
 * store_stub_elect.c - TEMPORARY (branch elect only): no-op stand-ins for
 * the etcd backend's functions (estore's store_etcd.c), so that this
 * branch builds before estore is merged.  Delete at that merge.
 */
#include "engine/store/store.h"

void store_fence_thread(bool on)
{
	(void)on;
}

void store_fence_set(struct store *st, const char *key, int64_t create_rev)
{
	(void)st;
	(void)key;
	(void)create_rev;
}

int store_sync(struct store *st, struct err **e)
{
	return 0;
}

struct etcd *store_etcd(struct store *st)
{
	return NULL;
}
