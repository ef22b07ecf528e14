/*
 * svcnet.c - Services on the node: nftables rules and DNS records from the
 * API (see svcnet.h).
 */
#include "runtime/net/svcnet.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/hmap.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent.h"
#include "runtime/net/dns.h"
#include "runtime/net/proxy.h"
#include "runtime/sys.h"

#define SVCNET_MARK ((void *)1)
#define GATHER_MS   1
#define RETRY_MS    1000

struct svcnet {
	struct apic *c;
	struct proxy *proxy;
	struct dns *dns;
	struct informer *inf;

	pthread_mutex_t lock;
	pthread_cond_t work;
	struct hmap pending; /* lock: "NS/NAME" of Services to sync */
	bool all;	     /* lock: resync every Service */
	bool stop;	     /* lock */
	pthread_t worker;
	bool worker_on;

	char *dns_text; /* worker: the records last given to dnsmasq, as text */
	bool failed;	/* worker: the API did not answer during this pass */
};

void svcnet_table_name(const char *data_dir, char out[32])
{
	char bridge[16];
	agent_bridge_name(data_dir, bridge);
	snprintf(out, 32, "clusterfs_%s", bridge + 3);
}

/* ---- noting changes (informer thread) ---- */

static void note(struct svcnet *s, const char *ns, const char *name)
{
	char key[320];
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&s->lock);
	hmap_set(&s->pending, key, SVCNET_MARK);
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct svcnet *s = arg;
	if (!strcmp(ev->obj->kind, "Service") || !strcmp(ev->obj->kind, "Endpoints"))
		note(s, ev->obj->ns, ev->obj->name);
}

static void on_resync(void *arg)
{
	struct svcnet *s = arg;
	pthread_mutex_lock(&s->lock);
	s->all = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

/* ---- syncing (worker thread) ---- */

/* Rewrites the rules of Service key ("NS/NAME"), or deletes them. */
static void sync_one(struct svcnet *s, const char *key)
{
	const char *slash = strchr(key, '/');
	if (!slash)
		return;
	char ns[256];
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
	const char *name = slash + 1;
	struct err *e = NULL;
	struct sobj *svc = NULL, *ep = NULL;
	int r = apic_get(s->c, KIND_SERVICE, ns, name, &svc, NULL);
	if (r == 0)
		r = apic_get(s->c, KIND_ENDPOINTS, ns, name, &ep, NULL);
	if (r < 0 && r != -ENOENT) {
		s->failed = true; /* unknown: the rules stay as they are */
		sobj_unref(svc);
		return;
	}
	if (!svc) {
		if (proxy_delete_service(s->proxy, ns, name, &e) < 0) {
			log_warn("svcnet", "%s: deleting rules: %s", key, e->msg);
			err_free(e);
		}
		return;
	}
	struct proxy_service ps;
	r = proxy_service_from_json(svc->obj, ep ? ep->obj : NULL, &ps);
	if (r == 0) {
		if (proxy_sync_service(s->proxy, &ps, &e) < 0) {
			log_warn("svcnet", "%s: rules: %s", key, e->msg);
			err_free(e);
		}
		proxy_service_free(&ps);
	} else {
		log_warn("svcnet", "%s: cannot program it: %s", key, strerror(-r));
	}
	sobj_unref(ep);
	sobj_unref(svc);
}

/* Every Service again, and the rules of those that are gone deleted. */
static void sync_all(struct svcnet *s)
{
	struct sobj **v;
	int n = apic_list(s->c, KIND_SERVICE, NULL, &v, NULL);
	if (n < 0)
		s->failed = true;
	struct hmap have = {0};
	char key[320];
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s/%s", v[i]->ns, v[i]->name);
		hmap_set(&have, key, SVCNET_MARK);
		sync_one(s, key);
	}
	if (n >= 0)
		sobj_list_free(v, (size_t)n);
	char **keys = NULL;
	size_t nk = 0;
	if (proxy_list_services(s->proxy, &keys, &nk) == 0) {
		for (size_t i = 0; i < nk; i++) {
			if (n >= 0 && !hmap_get(&have, keys[i]))
				sync_one(s, keys[i]); /* gone: deletes its rules */
			free(keys[i]);
		}
		free(keys);
	}
	hmap_clear(&have, NULL);
}

/* The DNS records of every Service: "IP FQDN" lines, sorted by the API's
 * listing order (stable), into a text that tells whether they changed. */
static void sync_dns(struct svcnet *s)
{
	if (!s->dns)
		return;
	struct sobj **v;
	int n = apic_list(s->c, KIND_SERVICE, NULL, &v, NULL);
	if (n < 0) {
		s->failed = true;
		return;
	}
	struct buf text = {0};
	size_t cap = 16, nr = 0;
	struct dns_record *recs = xcalloc(cap, sizeof(*recs));
	char **owned = xcalloc(cap * 2, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const char *ip = obj_str(v[i]->obj, "spec.clusterIP");
		const char *ips[256];
		size_t nips = 0;
		struct sobj *ep = NULL;
		if (ip && strcmp(ip, "None") && *ip) {
			ips[nips++] = ip;
		} else if (ip && !strcmp(ip, "None")) {
			int r = apic_get(s->c, KIND_ENDPOINTS, v[i]->ns, v[i]->name, &ep, NULL);
			if (r < 0 && r != -ENOENT)
				s->failed = true;
			size_t a, b;
			json_t *sub, *addr;
			json_array_foreach(obj_at(ep ? ep->obj : NULL, "subsets"), a, sub)
			{
				json_array_foreach(json_object_get(sub, "addresses"), b, addr)
				{
					const char *x = obj_str(addr, "ip");
					if (x && nips < 256)
						ips[nips++] = x;
				}
			}
		}
		for (size_t k = 0; k < nips; k++) {
			if (nr == cap) {
				cap *= 2;
				recs = xrealloc(recs, cap * sizeof(*recs));
				owned = xrealloc(owned, cap * 2 * sizeof(char *));
			}
			owned[2 * nr] = dns_service_fqdn(v[i]->name, v[i]->ns);
			owned[2 * nr + 1] = xstrdup(ips[k]);
			recs[nr] = (struct dns_record){owned[2 * nr], owned[2 * nr + 1]};
			buf_printf(&text, "%s %s\n", recs[nr].ip, recs[nr].fqdn);
			nr++;
		}
		sobj_unref(ep);
	}
	sobj_list_free(v, (size_t)n);
	buf_puts(&text, "");
	if (!s->dns_text || strcmp(s->dns_text, text.s ? text.s : "")) {
		struct err *e = NULL;
		if (dns_update(s->dns, recs, nr, &e) < 0) {
			log_warn("svcnet", "dns: %s", e->msg);
			err_free(e);
		} else {
			free(s->dns_text);
			s->dns_text = buf_steal(&text, NULL);
		}
	}
	buf_free(&text);
	for (size_t i = 0; i < 2 * nr; i++)
		free(owned[i]);
	free(owned);
	free(recs);
}

static void *worker_main(void *arg)
{
	struct svcnet *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		if (!hmap_len(&s->pending) && !s->all) {
			pthread_cond_wait(&s->work, &s->lock);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		sleep_ms(GATHER_MS);
		pthread_mutex_lock(&s->lock);
		struct hmap set = s->pending;
		bool all = s->all;
		memset(&s->pending, 0, sizeof(s->pending));
		s->all = false;
		pthread_mutex_unlock(&s->lock);
		if (all) {
			sync_all(s);
		} else {
			struct hmap_iter it = {0};
			struct hmap_ent *ent;
			while ((ent = hmap_next(&set, &it)))
				sync_one(s, ent->key);
		}
		hmap_clear(&set, NULL);
		sync_dns(s);
		if (s->failed) {
			/* the API did not answer: everything again, a little later */
			s->failed = false;
			sleep_ms(RETRY_MS);
			pthread_mutex_lock(&s->lock);
			s->all = true;
			continue;
		}
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- lifecycle ---- */

/* Pod-to-ClusterIP-to-pod on one bridge needs bridged packets to pass
 * netfilter (br_netfilter), as kube-proxy needs. */
static void bridge_netfilter_on(void)
{
	FILE *f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "we");
	if (!f) {
		log_warn("svcnet", "br_netfilter is not loaded: a pod reaching a Service backed "
				   "by a pod of the same node may get no answer");
		return;
	}
	fputs("1\n", f);
	fclose(f);
}

int svcnet_start(struct apic *c, const struct svcnet_opts *o, struct svcnet **out, struct err **e)
{
	struct svcnet *s = xcalloc(1, sizeof(*s));
	s->c = c;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	char table[32];
	svcnet_table_name(o->data_dir, table);
	const struct proxy_opts po = {
	    .table = table, .pod_cidr = o->pod_cidr, .cluster_cidr = o->service_cidr};
	int r = proxy_open(&po, &s->proxy, e);
	if (r < 0)
		goto fail;
	bridge_netfilter_on();
	const struct dns_opts dopt = {
	    .listen_ip = o->dns_ip, .port = o->dns_port, .data_dir = o->data_dir};
	if ((r = dns_start(&dopt, &s->dns, e)) < 0)
		goto fail;
	s->all = true;
	if ((r = pthread_create(&s->worker, NULL, worker_main, s))) {
		r = err_make(e, r, "svcnet: thread: %s", strerror(r));
		goto fail;
	}
	s->worker_on = true;
	static const struct informer_ops ops = {.resync = on_resync, .event = on_event};
	static const struct kind_info *const kinds[] = {KIND_SERVICE, KIND_ENDPOINTS};
	const struct apic_watch_spec sp = {kinds, 2, NULL};
	if ((r = informer_start_apic(c, "svcnet", &sp, &ops, s, &s->inf, e)) < 0) {
		svcnet_stop(s);
		return r;
	}
	log_info("svcnet", "services: nftables table %s, DNS on %s", table, o->dns_ip);
	*out = s;
	return 0;
fail:
	svcnet_stop(s);
	return r;
}

void svcnet_stop(struct svcnet *s)
{
	if (!s)
		return;
	informer_stop(s->inf);
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	if (s->worker_on)
		pthread_join(s->worker, NULL);
	dns_stop(s->dns);
	proxy_close(s->proxy);
	hmap_clear(&s->pending, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->work);
	free(s->dns_text);
	free(s);
}

int svcnet_reset(const char *data_dir, struct err **e)
{
	char table[32];
	svcnet_table_name(data_dir, table);
	int r = proxy_reset(table, e);
	int r2 = dns_reset(data_dir);
	return r < 0 ? r : r2;
}
