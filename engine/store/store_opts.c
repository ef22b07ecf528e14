/*
 * store_opts.c - the store backend flags of `clusterfs server` (see
 * store_opts.h).
 */
#include "engine/store/store_opts.h"

#include <stdlib.h>

#include "engine/mem.h"
#include "engine/store/etcd.h"

int store_opts_add(struct store_opts *o, int c, const char *arg)
{
	switch (c) {
	case STORE_OPT_ETCD:
		o->etcd = arg;
		return 1;
	case STORE_OPT_CAFILE:
		o->ca_file = arg;
		return 1;
	case STORE_OPT_CERT:
		o->cert_file = arg;
		return 1;
	case STORE_OPT_KEY:
		o->key_file = arg;
		return 1;
	case STORE_OPT_PREFIX:
		o->prefix = arg;
		return 1;
	default:
		return 0;
	}
}

int store_opts_open(const struct store_opts *o, const char *data_dir, struct store **out,
		    struct err **e)
{
	if (o->etcd) {
		struct etcd_opts eo = {.endpoints = o->etcd,
				       .ca_file = o->ca_file,
				       .cert_file = o->cert_file,
				       .key_file = o->key_file};
		return store_open_etcd(&eo, o->prefix ? o->prefix : "/clusterfs", out, e);
	}
	char *db = xasprintf("%s/state.db", data_dir);
	int r = store_open(db, out, e);
	free(db);
	return r;
}
