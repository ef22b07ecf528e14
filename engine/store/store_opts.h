/*
 * store_opts.h - `clusterfs server`'s choice of store backend: the flags
 * --etcd URL[,URL...] (with --etcd-cafile, --etcd-certfile,
 * --etcd-keyfile, --etcd-prefix) put the store on etcd; without them it
 * is DATA_DIR/state.db (SQLite), as always.
 */
#ifndef CFS_STORE_OPTS_H
#define CFS_STORE_OPTS_H

#include "engine/err.h"
#include "engine/store/store.h"

/* getopt_long values of the flags (0x110-0x11f are the store's). */
#define STORE_OPT_ETCD	 0x110
#define STORE_OPT_CAFILE 0x111
#define STORE_OPT_CERT	 0x112
#define STORE_OPT_KEY	 0x113
#define STORE_OPT_PREFIX 0x114

#define STORE_LONGOPTS                                                                             \
	{"etcd", required_argument, NULL, STORE_OPT_ETCD},                                         \
	    {"etcd-cafile", required_argument, NULL, STORE_OPT_CAFILE},                            \
	    {"etcd-certfile", required_argument, NULL, STORE_OPT_CERT},                            \
	    {"etcd-keyfile", required_argument, NULL, STORE_OPT_KEY},                              \
	{                                                                                          \
		"etcd-prefix", required_argument, NULL, STORE_OPT_PREFIX                           \
	}

#define STORE_USAGE                                                                                \
	"  --etcd URL[,URL...]\n"                                                                  \
	"                   keep the objects in etcd (its client URLs) instead of\n"               \
	"                   DATA_DIR/state.db; --etcd-cafile, --etcd-certfile,\n"                  \
	"                   --etcd-keyfile FILE: TLS to etcd; --etcd-prefix P: the\n"              \
	"                   keys' prefix (default /clusterfs)\n"

/* The flags' values, borrowed from argv. */
struct store_opts {
	const char *etcd, *ca_file, *cert_file, *key_file, *prefix;
};

/* 1 if c is one of the flags (recorded), 0 if not. */
int store_opts_add(struct store_opts *o, int c, const char *arg);

/* Opens the store the flags name: etcd, or SQLite at DATA_DIR/state.db. */
int store_opts_open(const struct store_opts *o, const char *data_dir, struct store **out,
		    struct err **e);

#endif
