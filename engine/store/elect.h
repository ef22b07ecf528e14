/*
 * elect.h - leader election among the servers of one etcd store, as
 * kube-controller-manager's leader election on a Lease: one key (e.g.
 * PREFIX/leader/controllers) holds the leader's name, created in a
 * transaction only if it is absent (version 0) and attached to an etcd
 * lease of lease_s seconds that the leader keeps alive every lease_s/3.
 *
 *     elect_start(&(struct elect_opts){.st = st, .key = "/clusterfs/leader/controllers",
 *                 .name = "srv-a", .lease_s = 15, .lead = up, .lose = down}, &el, &e);
 *
 * From the start the store's fenced threads cannot write (store_fence_set
 * with NULL).  Winning: the store's fence is set to the key and its create revision
 * (store_fence_set: the fenced threads' writes commit only while the key
 * is this one), the store is synced (the index shows every write the old
 * leader made), then lead() starts the leader's loops.  Losing: when a
 * keep-alive says the lease is gone, when the key is no longer ours, or
 * when no keep-alive succeeded for 2/3 of the lease (the server does not
 * wait for etcd to tell it: a watchdog thread does this even while a
 * request to etcd hangs), the fence is closed (store_fence_set(st, NULL,
 * 0)) and then lose() stops the loops; the server campaigns again.
 * Others watch the key and campaign as soon as it is deleted (the
 * leader's lease expired or was revoked); holder() tells every server who
 * leads now (NULL: nobody known), for /cluster/status.
 *
 * Callbacks run on the election's threads, one at a time, never two at
 * once.  lead() returning < 0 resigns (the term is given up and the
 * server campaigns again after a pause).
 */
#ifndef CFS_ELECT_H
#define CFS_ELECT_H

#include <stdint.h>

#include "engine/err.h"
#include "engine/store/store.h"

#define ELECT_LEASE_DEFAULT_S 15 /* as Kubernetes' --leader-elect-lease-duration */

struct elect_opts {
	struct store *st; /* an etcd store (store_etcd(st) != NULL); borrowed */
	const char *key;
	const char *name; /* this server's name: the key's value while it leads */
	int lease_s;	  /* >= 2; <= 0: ELECT_LEASE_DEFAULT_S */
	int (*lead)(void *arg);
	void (*lose)(void *arg);
	void (*holder)(void *arg, const char *name); /* may be NULL */
	void *arg;
};

struct elect;

/* Starts campaigning (on threads of its own).  0, or a negative errno with *e. */
int elect_start(const struct elect_opts *o, struct elect **out, struct err **e);

/* Stops: a leader stops leading (fence closed, lose()) and revokes its
 * lease, so that another server takes over at once.  NULL is fine. */
void elect_stop(struct elect *el);

/* Whether this server leads now; the terms it won so far. */
bool elect_leading(struct elect *el);
int elect_terms(struct elect *el);

#endif
