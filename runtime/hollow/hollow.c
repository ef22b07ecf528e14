/*
 * hollow.c - hollow nodes, simulated kubelets (see hollow.h).
 *
 * This exists so that everything above the node agent (scheduler,
 * controllers, node lifecycle, the filesystem) can be exercised at cluster
 * scale on one machine: the hollow kubelets write exactly what a kubelet
 * writes, through the same API calls the real agent uses.
 *
 * The informer thread only notes pod keys: into `pending` when the pod's
 * node is alive, into that node's `deferred` set when it is paused or gone
 * (so that a revived node catches up without a relist).  The worker takes
 * the whole pending set after a short gather, re-reads each pod (the note
 * may be stale) and writes statuses and deletions in batches.  The
 * heartbeat thread posts node status; a revived node gets one at once.
 */
#include "runtime/hollow/hollow.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/hmap.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/hollow/hollow_usage.h"
#include "runtime/kubelet/kubelet.h"
#include "runtime/sys.h"

#define HOLLOW_MAX_NODES 65000
#define HOLLOW_BATCH	 2048	     /* pods per status or delete batch */
#define HOLLOW_KEY_MAX	 320	     /* "NS/NAME": 63 + 1 + 253, and a NUL */
#define HOLLOW_MARK	 ((void *)1) /* the value of a set member in an hmap */

struct hnode {
	char name[32];
	char ip[16];	      /* InternalIP, and every pod's hostIP */
	bool exists;	      /* lock: its Node object exists */
	bool paused;	      /* lock: annotated paused */
	struct hmap deferred; /* lock: keys of pods to look at once it is alive */
};

/*
 * Lock order: h->lock is a leaf; it is never held across an API call or
 * while waiting on anything but its own condition variables.
 */
struct hollow {
	struct apic *c;
	struct hollow_opts o;
	int n;
	struct hnode *nodes; /* n of them; names and ips fixed at start */
	struct hmap by_name; /* name -> struct hnode *; read-only after start */

	pthread_mutex_t lock;
	pthread_cond_t work; /* pending is not empty, or stop */
	pthread_cond_t beat; /* beat_now, or stop */
	struct hmap pending; /* lock: keys of pods to look at */
	bool beat_now;	     /* lock: post a heartbeat without waiting */
	bool stop;	     /* lock */
	uint32_t ip_next;    /* lock: sequence number of the next pod IP */

	struct informer *inf;
	pthread_t worker, heart;
	bool worker_on, heart_on;
	struct hollow_usage *usage; /* the synthetic load's reporter (hollow_usage.h) */
};

/* Names and addresses */

void hollow_node_name(int i, char out[32])
{
	snprintf(out, 32, "hollow-%d", i);
}

char *hollow_prefix_for(const char *given, const char *server_name)
{
	if (given)
		return xstrdup(given);
	if (!server_name || !*server_name)
		return xstrdup("hollow");
	char *p = xasprintf("hollow-%.*s", HOLLOW_PREFIX_MAX - 7, server_name);
	for (char *c = p + 7; *c; c++)
		*c = isalnum((unsigned char)*c) ? (char)tolower((unsigned char)*c) : '-';
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '-')
		p[--n] = '\0';
	return p;
}

int hollow_prefix_check(const char *p, struct err **e)
{
	size_t n = strlen(p);
	bool ok = n > 0 && n <= HOLLOW_PREFIX_MAX && isalnum((unsigned char)p[0]) &&
		  isalnum((unsigned char)p[n - 1]);
	for (size_t i = 0; ok && i < n; i++)
		ok = (isdigit((unsigned char)p[i]) || islower((unsigned char)p[i]) || p[i] == '-');
	if (ok)
		return 0;
	return err_make(e, EINVAL,
			"hollow nodes: prefix \"%s\": want lower-case letters, digits and '-' "
			"(a letter or digit first and last), %d characters at most",
			p, HOLLOW_PREFIX_MAX);
}

/* Pod IP number seq as text: 10.100.0.1 and up, skipping .0 and .255. */
static void pod_ip(uint32_t seq, char out[16])
{
	snprintf(out, 16, "10.%u.%u.%u", 100 + ((seq >> 16) % 156), (seq >> 8) & 255, seq & 255);
}

static bool ip_host_ok(uint32_t seq)
{
	return (seq & 255) != 0 && (seq & 255) != 255;
}

/* The sequence number of a pod IP that pod_ip() could have made, or 0. */
static uint32_t pod_ip_seq(const char *ip)
{
	unsigned a, b, c;
	char end;
	if (!ip || sscanf(ip, "10.%u.%u.%u%c", &a, &b, &c, &end) != 3)
		return 0;
	if (a < 100 || a > 255 || b > 255 || c > 255)
		return 0;
	return ((a - 100) << 16) | (b << 8) | c;
}

/* Takes the next pod IP.  Takes the lock. */
static void alloc_pod_ip(struct hollow *h, char out[16])
{
	pthread_mutex_lock(&h->lock);
	while (!ip_host_ok(h->ip_next))
		h->ip_next++;
	pod_ip(h->ip_next++, out);
	pthread_mutex_unlock(&h->lock);
}

/* Makes later pod IPs differ from ip, which a pod holds already.  Lock held. */
static void note_pod_ip(struct hollow *h, const char *ip)
{
	uint32_t seq = pod_ip_seq(ip);
	if (seq && seq >= h->ip_next)
		h->ip_next = seq + 1;
}

static bool node_paused(const json_t *node)
{
	const char *v = json_string_value(
	    json_object_get(obj_at(node, "metadata.annotations"), HOLLOW_PAUSED_ANNOTATION));
	return v && !strcmp(v, "true");
}

/* Node status */

/* The status a kubelet posts for hn (see kubelet_node_status). */
static json_t *node_status(const struct hnode *hn, const json_t *old, const char *now)
{
	const struct kubelet_node n = {.name = hn->name,
				       .ip = hn->ip,
				       .cpu = "4",
				       .memory = "16Gi",
				       .pods = "110",
				       .kernel = "",
				       .os_image = "clusterfs hollow node",
				       .runtime = "hollow://0",
				       .kubelet = "clusterfs-hollow",
				       .arch = "amd64",
				       .machine_id = hn->name,
				       .boot_id = ""};
	return kubelet_node_status(&n, old, now);
}

static json_t *node_labels(const struct hnode *hn)
{
	return json_pack("{s:s, s:s, s:s}", "kubernetes.io/hostname", hn->name, "kubernetes.io/os",
			 "linux", "type", "hollow");
}

/* Pod status */

/* The old status of container name in list (an array), or NULL. */
static json_t *find_named(const json_t *list, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n && name && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static int by_name_cmp(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	return strcmp(x ? x : "", y ? y : "");
}

/* Sets key (a constant) to a string, or to "" if s is not UTF-8. */
static void set_str(json_t *o, const char *key, const char *s)
{
	json_t *v = json_string(s);
	json_object_set_new_nocheck(o, key, v ? v : json_string(""));
}

/* {"ip": ip} in an array of its own. */
static json_t *ip_list(const char *ip)
{
	json_t *e = json_object();
	set_str(e, "ip", ip);
	json_t *a = json_array();
	json_array_append_new(a, e);
	return a;
}

/* One pod condition, as the kubelet posts it. */
static json_t *condition(const char *type, const char *status, const char *since)
{
	json_t *c = json_object();
	set_str(c, "type", type);
	set_str(c, "status", status);
	json_object_set_new_nocheck(c, "lastProbeTime", json_null());
	set_str(c, "lastTransitionTime", since);
	return c;
}

/* A container's status: running since started, or terminated (Completed)
 * when it does not run.  (Made by hand, not by json_pack, which parses
 * its format for each of 30,000 pods.) */
static json_t *container_status(const char *name, const char *image, const char *pname,
				const char *started, bool runs, bool ready)
{
	json_t *st = json_object(), *state = json_object(), *c = json_object();
	json_object_set_new_nocheck(state, runs ? "running" : "terminated", st);
	if (!runs)
		json_object_set_new_nocheck(st, "exitCode", json_integer(0));
	if (!runs)
		set_str(st, "reason", "Completed");
	set_str(st, "startedAt", started);
	if (!runs)
		set_str(st, "finishedAt", started);
	set_str(c, "name", name);
	json_object_set_new_nocheck(c, "state", state);
	json_object_set_new_nocheck(c, "lastState", json_object());
	json_object_set_new_nocheck(c, "ready", json_boolean(ready));
	json_object_set_new_nocheck(c, "restartCount", json_integer(0));
	set_str(c, "image", image);
	char *s = xasprintf("hollow://%s", image);
	set_str(c, "imageID", s);
	free(s);
	s = xasprintf("hollow://%s/%s", pname, name);
	set_str(c, "containerID", s);
	free(s);
	json_object_set_new_nocheck(c, "started", json_boolean(runs));
	return c;
}

/*
 * Statuses for the containers of spec list `which` ("containers" or
 * "initContainers"), sorted by name as the kubelet sorts them; startedAt
 * taken from old statuses where they have one.  Init containers have run
 * to completion, but for restartable (sidecar) ones, which run.
 */
static json_t *container_statuses(const json_t *pod, const char *which, const json_t *old,
				  const char *now)
{
	char path[32];
	snprintf(path, sizeof(path), "spec.%s", which);
	json_t *spec = obj_at(pod, path);
	const char *pname = obj_str(pod, "metadata.name");
	bool init = !strcmp(which, "initContainers");
	size_t n = json_array_size(spec), i;
	json_t **v = xcalloc(n ? n : 1, sizeof(json_t *));
	json_t *c;
	json_array_foreach(spec, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *image = json_string_value(json_object_get(c, "image"));
		name = name ? name : "";
		image = image ? image : "";
		json_t *prev = find_named(old, name);
		const char *started = obj_str(prev, "state.running.startedAt");
		if (!started)
			started = obj_str(prev, "state.terminated.startedAt");
		if (!started)
			started = now;
		const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
		bool runs = !init || (rp && !strcmp(rp, "Always"));
		v[i] = container_status(name, image, pname ? pname : "", started, runs,
					!hollow_pod_never_ready(pod));
	}
	qsort(v, n, sizeof(json_t *), by_name_cmp);
	json_t *out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	return out;
}

/* A pod annotated hollow.clusterfs.io/ready: "false" runs but never turns Ready. */
bool hollow_pod_never_ready(const json_t *pod)
{
	const char *v = json_string_value(
	    json_object_get(obj_at(pod, "metadata.annotations"), HOLLOW_READY_ANNOTATION));
	return v && !strcmp(v, "false");
}

/*
 * The status a kubelet posts for a started pod on hn: the old status with
 * phase Running, the four lifecycle conditions True in the kubelet's order
 * (others' conditions kept after them), host and pod IPs, startTime,
 * qosClass and container statuses.  What the pod had already (podIP,
 * startTime, startedAt, transition times) is kept.  Returns a new value.
 */
static json_t *pod_status(struct hollow *h, const struct hnode *hn, const json_t *pod,
			  const char *now)
{
	static const char *const types[] = {"Initialized", "Ready", "ContainersReady",
					    "PodScheduled"};
	const json_t *old = obj_at(pod, "status");
	json_t *s = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_t *oldc = json_object_get(old, "conditions");
	json_t *cv = json_array();
	bool ready = !hollow_pod_never_ready(pod);
	for (size_t j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
		const char *v = ready || (j != 1 && j != 2) ? "True" : "False";
		const char *lt =
		    kubelet_transition_time(kubelet_find_condition(oldc, types[j]), v, now);
		json_array_append_new(cv, condition(types[j], v, lt));
	}
	size_t i;
	json_t *c;
	json_array_foreach(oldc, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		bool ours = false;
		for (size_t j = 0; t && j < sizeof(types) / sizeof(types[0]); j++)
			ours |= !strcmp(t, types[j]);
		if (!ours)
			json_array_append(cv, c);
	}
	json_object_set_new(s, "phase", json_string("Running"));
	json_object_set_new(s, "conditions", cv);
	json_object_set_new(s, "hostIP", json_string(hn->ip));
	json_object_set_new(s, "hostIPs", ip_list(hn->ip));
	const char *ip = json_string_value(json_object_get(old, "podIP"));
	char buf[16];
	if (!ip || !*ip) {
		alloc_pod_ip(h, buf);
		ip = buf;
	}
	json_object_set_new(s, "podIP", json_string(ip));
	json_object_set_new(s, "podIPs", ip_list(ip));
	if (!json_is_string(json_object_get(s, "startTime")))
		json_object_set_new(s, "startTime", json_string(now));
	json_object_set_new(s, "qosClass", json_string(kubelet_pod_qos(pod)));
	json_object_set_new(
	    s, "containerStatuses",
	    container_statuses(pod, "containers", json_object_get(old, "containerStatuses"), now));
	if (json_array_size(obj_at(pod, "spec.initContainers")))
		json_object_set_new(
		    s, "initContainerStatuses",
		    container_statuses(pod, "initContainers",
				       json_object_get(old, "initContainerStatuses"), now));
	return s;
}

enum pod_action { POD_NONE, POD_START, POD_FINALIZE };

/* What the kubelet of a pod's node has to do about it. */
static enum pod_action pod_action(const json_t *pod)
{
	if (pod_is_terminating(pod))
		return POD_FINALIZE;
	if (pod_is_finished(pod))
		return POD_NONE;
	const char *ph = obj_str(pod, "status.phase");
	if (!ph || strcmp(ph, "Running") ||
	    (!obj_condition_true(pod, "Ready") && !hollow_pod_never_ready(pod)))
		return POD_START;
	return POD_NONE;
}

/* Noting changes (informer thread) */

static bool node_alive(const struct hnode *hn)
{
	return hn->exists && !hn->paused;
}

/* Records what is known of hn's Node; a node coming alive hands its
 * deferred pods to the worker and gets a heartbeat at once.  Lock held. */
static void set_node_state(struct hollow *h, struct hnode *hn, bool exists, bool paused)
{
	bool was = node_alive(hn);
	hn->exists = exists;
	hn->paused = paused;
	if (was || !node_alive(hn))
		return;
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&hn->deferred, &it)))
		hmap_set(&h->pending, ent->key, HOLLOW_MARK);
	hmap_clear(&hn->deferred, NULL);
	if (hmap_len(&h->pending))
		pthread_cond_signal(&h->work);
	h->beat_now = true;
	pthread_cond_signal(&h->beat);
	log_info("hollow", "%s: alive", hn->name);
}

/* Queues key for the worker, or for later if hn is not alive.  Lock held. */
static void queue_pod(struct hollow *h, struct hnode *hn, const char *key)
{
	if (!node_alive(hn)) {
		hmap_set(&hn->deferred, key, HOLLOW_MARK);
		return;
	}
	if (!hmap_len(&h->pending))
		pthread_cond_signal(&h->work);
	hmap_set(&h->pending, key, HOLLOW_MARK);
}

/* The hollow node a pod is bound to, or NULL. */
static struct hnode *pod_node(struct hollow *h, const json_t *pod)
{
	const char *node = obj_str(pod, "spec.nodeName");
	return node && *node ? hmap_get(&h->by_name, node) : NULL;
}

static void pod_key(const struct sobj *o, char key[HOLLOW_KEY_MAX])
{
	snprintf(key, HOLLOW_KEY_MAX, "%s/%s", o->ns, o->name);
}

static void note_pod(struct hollow *h, const struct store_event *ev)
{
	struct hnode *hn = pod_node(h, ev->obj->obj);
	if (!hn)
		return;
	char key[HOLLOW_KEY_MAX];
	pod_key(ev->obj, key);
	pthread_mutex_lock(&h->lock);
	if (ev->type == STORE_DELETED)
		hmap_del(&hn->deferred, key);
	else if (pod_action(ev->obj->obj) != POD_NONE)
		queue_pod(h, hn, key);
	pthread_mutex_unlock(&h->lock);
}

static void note_node(struct hollow *h, const struct store_event *ev)
{
	struct hnode *hn = hmap_get(&h->by_name, ev->obj->name);
	if (!hn)
		return;
	bool exists = ev->type != STORE_DELETED;
	pthread_mutex_lock(&h->lock);
	set_node_state(h, hn, exists, exists && node_paused(ev->obj->obj));
	pthread_mutex_unlock(&h->lock);
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct hollow *h = arg;
	if (!strcmp(ev->obj->kind, "Pod"))
		note_pod(h, ev);
	else if (!strcmp(ev->obj->kind, "Node"))
		note_node(h, ev);
}

/* Re-reads every hollow Node and every pod bound to one. */
static void on_resync(void *arg)
{
	struct hollow *h = arg;
	struct sobj **v;
	int n = apic_list(h->c, KIND_NODE, NULL, &v, NULL);
	bool *seen = xcalloc((size_t)h->n, sizeof(bool));
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < n; i++) {
		struct hnode *hn = hmap_get(&h->by_name, v[i]->name);
		if (!hn)
			continue;
		seen[hn - h->nodes] = true;
		set_node_state(h, hn, true, node_paused(v[i]->obj));
	}
	for (int i = 0; i < h->n; i++)
		if (!seen[i])
			set_node_state(h, &h->nodes[i], false, false);
	pthread_mutex_unlock(&h->lock);
	free(seen);
	if (n >= 0)
		sobj_list_free(v, (size_t)n);

	n = apic_list(h->c, KIND_POD, NULL, &v, NULL);
	char key[HOLLOW_KEY_MAX];
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < n; i++) {
		struct hnode *hn = pod_node(h, v[i]->obj);
		if (!hn)
			continue;
		note_pod_ip(h, obj_str(v[i]->obj, "status.podIP"));
		if (pod_action(v[i]->obj) == POD_NONE)
			continue;
		pod_key(v[i], key);
		queue_pod(h, hn, key);
	}
	pthread_mutex_unlock(&h->lock);
	if (n >= 0)
		sobj_list_free(v, (size_t)n);
}

/* Pod batches (worker thread) */

struct pod_batch {
	struct sobj *held[HOLLOW_BATCH]; /* the pods the refs point into */
	size_t nheld;
	struct api_status st[HOLLOW_BATCH];
	size_t nst;
	struct api_ref del[HOLLOW_BATCH];
	size_t ndel;
};

static void batch_flush(struct hollow *h, struct pod_batch *b)
{
	if (b->nst) {
		int r = apic_status_many(h->c, b->st, b->nst, NULL);
		if (r < 0)
			log_warn("hollow", "starting %zu pods: %s", b->nst, strerror(-r));
		else
			log_debug("hollow", "started %d of %zu pods", r, b->nst);
	}
	if (b->ndel) {
		int r = apic_delete_many(h->c, b->del, b->ndel, 0, NULL);
		if (r < 0)
			log_warn("hollow", "deleting %zu pods: %s", b->ndel, strerror(-r));
	}
	/* the statuses were given to the call */
	for (size_t i = 0; i < b->nheld; i++)
		sobj_unref(b->held[i]);
	b->nst = b->ndel = b->nheld = 0;
}

/* Looks at one noted pod again and adds what it needs to b. */
static void batch_add(struct hollow *h, struct pod_batch *b, const char *key, const char *now)
{
	const char *slash = strchr(key, '/');
	if (!slash)
		return;
	char ns[HOLLOW_KEY_MAX];
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
	struct sobj *o = NULL;
	apic_get(h->c, KIND_POD, ns, slash + 1, &o, NULL);
	if (!o)
		return;
	struct hnode *hn = pod_node(h, o->obj);
	enum pod_action act = hn ? pod_action(o->obj) : POD_NONE;
	if (act != POD_NONE) {
		pthread_mutex_lock(&h->lock);
		if (!node_alive(hn)) {
			hmap_set(&hn->deferred, key, HOLLOW_MARK);
			act = POD_NONE;
		}
		pthread_mutex_unlock(&h->lock);
	}
	if (act == POD_NONE) {
		sobj_unref(o);
		return;
	}
	const char *uid = obj_str(o->obj, "metadata.uid");
	if (act == POD_FINALIZE)
		b->del[b->ndel++] = (struct api_ref){KIND_POD, o->ns, o->name, uid};
	else
		b->st[b->nst++] = (struct api_status){
		    KIND_POD, o->ns, o->name, uid, pod_status(h, hn, o->obj, now), true};
	b->held[b->nheld++] = o;
	if (b->nheld == HOLLOW_BATCH)
		batch_flush(h, b);
}

/* Handles every key of set (taken from pending), in batches. */
static void work_on(struct hollow *h, struct hmap *set)
{
	struct pod_batch *b = xcalloc(1, sizeof(*b));
	char now[32];
	api_timestamp(now);
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(set, &it)))
		batch_add(h, b, ent->key, now);
	batch_flush(h, b);
	free(b);
}

static void *worker_main(void *arg)
{
	struct hollow *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		if (!hmap_len(&h->pending)) {
			pthread_cond_wait(&h->work, &h->lock);
			continue;
		}
		pthread_mutex_unlock(&h->lock);
		sleep_ms(h->o.gather_ms);
		pthread_mutex_lock(&h->lock);
		struct hmap set = h->pending;
		memset(&h->pending, 0, sizeof(h->pending));
		pthread_mutex_unlock(&h->lock);
		work_on(h, &set);
		hmap_clear(&set, NULL);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Heartbeats (heartbeat thread) */

/* Posts the status of every live hollow node in one batch. */
static void heartbeat(struct hollow *h)
{
	char now[32];
	api_timestamp(now);
	struct api_status *st = xcalloc((size_t)h->n, sizeof(*st));
	struct sobj **held = xcalloc((size_t)h->n, sizeof(*held));
	size_t k = 0;
	for (int i = 0; i < h->n; i++) {
		struct hnode *hn = &h->nodes[i];
		pthread_mutex_lock(&h->lock);
		bool alive = node_alive(hn);
		pthread_mutex_unlock(&h->lock);
		if (!alive)
			continue;
		/* Read again: the informer may not have seen a pause yet. */
		struct sobj *o = NULL;
		if (apic_get(h->c, KIND_NODE, NULL, hn->name, &o, NULL) < 0)
			continue;
		if (node_paused(o->obj)) {
			sobj_unref(o);
			continue;
		}
		held[k] = o;
		st[k] = (struct api_status){KIND_NODE,
					    NULL,
					    hn->name,
					    obj_str(o->obj, "metadata.uid"),
					    node_status(hn, obj_at(o->obj, "status"), now),
					    false};
		k++;
	}
	if (k) {
		int r = apic_status_many(h->c, st, k, NULL);
		if (r < 0)
			log_warn("hollow", "heartbeat of %zu nodes: %s", k, strerror(-r));
	}
	for (size_t i = 0; i < k; i++) {
		json_decref((json_t *)st[i].status);
		sobj_unref(held[i]);
	}
	free(st);
	free(held);
}

static void *heart_main(void *arg)
{
	struct hollow *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec due = mono_deadline((int64_t)h->o.heartbeat_s * 1000);
		while (!h->stop && !h->beat_now)
			if (pthread_cond_timedwait(&h->beat, &h->lock, &due) == ETIMEDOUT)
				break;
		if (h->stop)
			break;
		h->beat_now = false;
		pthread_mutex_unlock(&h->lock);
		heartbeat(h);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Registration */

/*
 * Creates the missing Nodes in one batch and labels the ones present.
 * Sets each node's exists and paused.  Returns 0 or a negative errno.
 */
static int register_nodes(struct hollow *h, struct err **e)
{
	json_t **docs = xcalloc((size_t)h->n, sizeof(json_t *));
	size_t ndocs = 0;
	char now[32];
	api_timestamp(now);
	int ret = 0;
	for (int i = 0; i < h->n && ret == 0; i++) {
		struct hnode *hn = &h->nodes[i];
		json_t *labels = node_labels(hn);
		struct sobj *o = NULL;
		int g = apic_get(h->c, KIND_NODE, NULL, hn->name, &o, NULL);
		if (g < 0 && g != -ENOENT) {
			ret = err_make(e, -g, "hollow node %s: %s", hn->name, strerror(-g));
		} else if (!o) {
			docs[ndocs++] =
			    json_pack("{s:s, s:s, s:{s:s, s:O}, s:{}, s:o}", "apiVersion", "v1",
				      "kind", "Node", "metadata", "name", hn->name, "labels",
				      labels, "spec", "status", node_status(hn, NULL, now));
		} else {
			hn->exists = true;
			hn->paused = node_paused(o->obj);
			struct kubelet_node_meta m = {.labels = labels};
			if (!kubelet_node_meta_ok(o->obj, &m) &&
			    apic_patch(h->c, KIND_NODE, NULL, hn->name, kubelet_node_patch, &m, e) <
				0)
				ret = err_wrap(e, "taking over hollow node %s", hn->name);
			sobj_unref(o);
		}
		json_decref(labels);
	}
	if (ret == 0 && ndocs) {
		int *res = xcalloc(ndocs, sizeof(int));
		int r = apic_create_many(h->c, docs, ndocs, res);
		if (r < 0)
			ret = err_make(e, -r, "registering %zu hollow nodes: %s", ndocs,
				       strerror(-r));
		for (size_t j = 0; j < ndocs && ret == 0; j++) {
			const char *name = obj_str(docs[j], "metadata.name");
			if (res[j] < 0 && res[j] != -EEXIST)
				ret = err_make(e, -res[j], "registering hollow node %s: %s", name,
					       strerror(-res[j]));
			struct hnode *hn = hmap_get(&h->by_name, name);
			hn->exists = true;
		}
		free(res);
	}
	for (size_t j = 0; j < ndocs; j++)
		json_decref(docs[j]);
	free(docs);
	return ret;
}

/* Lifecycle */

/* A node of ours that is alive: a paused one reports no usage either. */
static bool owns_node(void *arg, const char *node)
{
	struct hollow *h = arg;
	struct hnode *hn = hmap_get(&h->by_name, node);
	if (!hn)
		return false;
	pthread_mutex_lock(&h->lock);
	bool alive = node_alive(hn);
	pthread_mutex_unlock(&h->lock);
	return alive;
}

static void hollow_free(struct hollow *h)
{
	for (int i = 0; i < h->n; i++)
		hmap_clear(&h->nodes[i].deferred, NULL);
	hmap_clear(&h->by_name, NULL);
	hmap_clear(&h->pending, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->beat);
	free(h->nodes);
	free((char *)h->o.prefix);
	free(h);
}

int hollow_start(struct apic *c, int n, const struct hollow_opts *o, struct hollow **out,
		 struct err **e)
{
	if (n < 1 || n > HOLLOW_MAX_NODES)
		return err_make(e, EINVAL, "hollow nodes: count %d is not between 1 and %d", n,
				HOLLOW_MAX_NODES);
	if (o && o->prefix && hollow_prefix_check(o->prefix, e) < 0)
		return -EINVAL;
	struct hollow *h = xcalloc(1, sizeof(*h));
	h->c = c;
	h->n = n;
	if (o)
		h->o = *o;
	h->o.prefix = h->o.prefix ? xstrdup(h->o.prefix) : NULL; /* h's own */
	if (h->o.heartbeat_s <= 0)
		h->o.heartbeat_s = 10;
	if (h->o.gather_ms <= 0)
		h->o.gather_ms = 5;
	h->ip_next = 1;
	h->beat_now = true; /* taken-over nodes report at once */
	h->nodes = xcalloc((size_t)n, sizeof(*h->nodes));
	for (int i = 0; i < n; i++) {
		struct hnode *hn = &h->nodes[i];
		if (h->o.prefix)
			snprintf(hn->name, sizeof(hn->name), "%s-%d", h->o.prefix, i + 1);
		else
			hollow_node_name(i + 1, hn->name);
		snprintf(hn->ip, sizeof(hn->ip), "10.200.%u.%u", ((unsigned)(i + 1) >> 8) & 255,
			 (unsigned)(i + 1) & 255);
		hmap_set(&h->by_name, hn->name, hn);
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->beat, &ca);
	pthread_condattr_destroy(&ca);

	int r = register_nodes(h, e);
	if (r < 0) {
		hollow_free(h);
		return r;
	}
	r = pthread_create(&h->heart, NULL, heart_main, h);
	h->heart_on = r == 0;
	if (r == 0) {
		r = pthread_create(&h->worker, NULL, worker_main, h);
		h->worker_on = r == 0;
	}
	if (r) {
		r = err_make(e, r, "hollow nodes: starting a thread: %s", strerror(r));
		hollow_stop(h);
		return r;
	}
	static const struct informer_ops ops = {
	    .resync = on_resync, .event = on_event, .idle_ms = 250 /* how soon a stop is seen */};
	static const struct kind_info *const kinds[] = {KIND_POD, KIND_NODE};
	const struct apic_watch_spec sp = {kinds, 2, NULL};
	r = informer_start_apic(c, "hollow", &sp, &ops, h, &h->inf, e);
	if (r < 0) {
		hollow_stop(h);
		return r;
	}
	h->usage = hollow_usage_start(c, owns_node, h);
	log_info("hollow", "%d hollow nodes running (heartbeat every %ds)", n, h->o.heartbeat_s);
	*out = h;
	return 0;
}

void hollow_stop(struct hollow *h)
{
	if (!h)
		return;
	hollow_usage_stop(h->usage);
	informer_stop(h->inf);
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->work);
	pthread_cond_broadcast(&h->beat);
	pthread_mutex_unlock(&h->lock);
	if (h->worker_on)
		pthread_join(h->worker, NULL);
	if (h->heart_on)
		pthread_join(h->heart, NULL);
	hollow_free(h);
}
