/*
 * nodenet.c - routes to the other nodes' pod ranges, from the Nodes the
 * API holds (see nodenet.h).
 */
#include "runtime/net/nodenet.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/sys.h"

#define NODENET_MIN_GAP_MS 200 /* between two syncs a burst of changes asks for */

struct nodenet {
	struct routes *r;
	struct apic *c;
	char *node;
	int resync_ms;
	struct informer *inf;

	pthread_mutex_t lock;
	pthread_cond_t work;
	bool dirty; /* lock: a peer may have changed */
	bool stop;  /* lock */
	pthread_t thread;
	bool thread_on;
	char *synced; /* the peers last synced, as text (sync thread only) */
};

int nodenet_open(const struct nodenet_opts *o, struct nodenet **out, struct err **e)
{
	struct routes_opts ro = {.mode = o->mode, .node_ip = o->node_ip, .pod_cidr = o->pod_cidr};
	struct routes *r = NULL;
	int rc = routes_open(&ro, &r, e);
	if (rc < 0)
		return rc;
	struct nodenet *n = xcalloc(1, sizeof(*n));
	n->r = r;
	n->node = xstrdup(o->node);
	n->resync_ms = o->resync_ms > 0 ? o->resync_ms : NODENET_RESYNC_MS;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->work, &ca);
	pthread_condattr_destroy(&ca);
	log_info("nodenet", "node %s: pod routes in %s mode (pod MTU %d)", o->node,
		 routes_mode_name(o->mode), routes_pod_mtu(r));
	*out = n;
	return 0;
}

int nodenet_pod_mtu(const struct nodenet *n)
{
	return routes_pod_mtu(n->r);
}

static void wake(struct nodenet *n)
{
	pthread_mutex_lock(&n->lock);
	n->dirty = true;
	pthread_cond_signal(&n->work);
	pthread_mutex_unlock(&n->lock);
}

static void on_resync(void *arg)
{
	wake(arg);
}

/* A Node that is (or was: deleted) a peer: routes may change. */
static void on_event(void *arg, const struct store_event *ev)
{
	struct routes_peer p;
	if (strcmp(ev->obj->kind, "Node"))
		return;
	if (ev->type == STORE_DELETED || routes_peer_from_node(ev->obj->obj, &p) == 0)
		wake(arg);
}

/* Lists the Nodes and syncs the routes with the peers among them; force:
 * even when the peers are those of the last sync. */
static void sync_once(struct nodenet *n, bool force)
{
	struct sobj **v = NULL;
	struct err *e = NULL;
	int cnt = apic_list(n->c, KIND_NODE, &(struct apic_sel){0}, &v, &e);
	if (cnt < 0) {
		if (cnt != -ENOTCONN)
			log_warn("nodenet", "listing nodes: %s", e ? e->msg : strerror(-cnt));
		err_free(e);
		return;
	}
	struct routes_peer *peers = xcalloc((size_t)cnt + 1, sizeof(*peers));
	size_t np = 0;
	char *text = xstrdup("");
	for (int i = 0; i < cnt; i++) {
		struct routes_peer p;
		if (routes_peer_from_node(v[i]->obj, &p) < 0 || !strcmp(p.name, n->node))
			continue;
		peers[np++] = p;
		char *t = xasprintf("%s%s %s %s\n", text, p.name, p.node_ip, p.pod_cidr);
		free(text);
		text = t;
	}
	if (force || !n->synced || strcmp(text, n->synced)) {
		if (routes_sync(n->r, peers, np, &e) < 0) {
			log_warn("nodenet", "routes: %s", e ? e->msg : "failed");
			free(text); /* try again at the next change or resync */
			text = NULL;
		} else if (!n->synced || strcmp(text, n->synced)) {
			log_info("nodenet", "node %s: routes to %zu peer%s", n->node, np,
				 np == 1 ? "" : "s");
		}
		free(n->synced);
		n->synced = text;
	} else {
		free(text);
	}
	err_free(e);
	free(peers);
	sobj_list_free(v, (size_t)cnt);
}

static void *sync_main(void *arg)
{
	struct nodenet *n = arg;
	int64_t next_full = mono_ms() + n->resync_ms;
	pthread_mutex_lock(&n->lock);
	while (!n->stop) {
		struct timespec due = mono_deadline(next_full - mono_ms());
		while (!n->stop && !n->dirty)
			if (pthread_cond_timedwait(&n->work, &n->lock, &due) == ETIMEDOUT)
				break;
		if (n->stop)
			break;
		bool force = mono_ms() >= next_full;
		n->dirty = false;
		pthread_mutex_unlock(&n->lock);
		sync_once(n, force);
		if (force)
			next_full = mono_ms() + n->resync_ms;
		sleep_ms(NODENET_MIN_GAP_MS);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int nodenet_start(struct nodenet *n, struct apic *c, struct err **e)
{
	n->c = c;
	int r = pthread_create(&n->thread, NULL, sync_main, n);
	if (r)
		return err_make(e, r, "nodenet: starting a thread: %s", strerror(r));
	n->thread_on = true;
	static const struct informer_ops ops = {.resync = on_resync, .event = on_event};
	static const struct kind_info *const kinds[] = {KIND_NODE};
	const struct apic_watch_spec sp = {kinds, 1, NULL};
	return informer_start_apic(c, "nodenet", &sp, &ops, n, &n->inf, e);
}

void nodenet_close(struct nodenet *n)
{
	if (!n)
		return;
	informer_stop(n->inf);
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_signal(&n->work);
	pthread_mutex_unlock(&n->lock);
	if (n->thread_on)
		pthread_join(n->thread, NULL);
	routes_close(n->r);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->work);
	free(n->synced);
	free(n->node);
	free(n);
}
