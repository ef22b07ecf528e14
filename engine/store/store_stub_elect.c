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

/* etcdc's client (etcd.c), until merged */
#include <errno.h>

#include "engine/store/etcd.h"

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
}
int etcd_get(struct etcd *c, const struct etcd_range *r, struct etcd_kv **kvs, size_t *n,
	     bool *more, int64_t *hdr_rev, struct err **e)
{
	return -ENOSYS;
}
void etcd_txn_res_free(struct etcd_txn_res *r)
{
}
int etcd_txn(struct etcd *c, const struct etcd_cmp *cmps, size_t ncmp, const struct etcd_op *ok,
	     size_t nok, const struct etcd_op *fail, size_t nfail, struct etcd_txn_res *res,
	     struct err **e)
{
	return -ENOSYS;
}
int etcd_lease_grant(struct etcd *c, int64_t ttl, int64_t *id, struct err **e)
{
	return -ENOSYS;
}
int etcd_lease_keepalive(struct etcd *c, int64_t id, int64_t *ttl, struct err **e)
{
	return -ENOSYS;
}
int etcd_lease_revoke(struct etcd *c, int64_t id, struct err **e)
{
	return -ENOSYS;
}
int etcd_watch_start(struct etcd *c, const struct etcd_range *r, int64_t start, etcd_watch_fn fn,
		     void *arg, struct etcd_watch **out, struct err **e)
{
	return -ENOSYS;
}
void etcd_watch_stop(struct etcd_watch *w)
{
}
