/*
 * gc.c - the garbage collector.  See gc.h.
 */
#include "engine/clock.h"
#include "engine/controllers/gc.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define DELETE_BATCH 1000
/* An Event whose involved object is gone lives this long at most: an
 * hour's worth of pods that came and went was the store's growth under
 * churn (issue 16, no growth). */
#define EVENT_GONE_TTL_S 60
#define GC_NS_PERIOD_S                                                                             \
	1 /* how often Terminating namespaces and foreground deletions are looked at */

struct gc {
	struct api *api;
	struct gc_opts o;
	pthread_t thread;
	pthread_mutex_t lock; /* guards stop */
	pthread_cond_t cond;
	bool stop;
};

struct refs {
	struct api_ref *v;
	size_t n;
	struct sobj **hold; /* keeps names alive */
};

static void refs_add(struct refs *r, struct sobj *o)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->hold = xrealloc(r->hold, (r->n + 1) * sizeof(*r->hold));
	r->v[r->n].k = kind_by_kind(o->kind);
	r->v[r->n].ns = o->ns;
	r->v[r->n].name = o->name;
	r->v[r->n].uid = obj_str(o->obj, "metadata.uid");
	r->hold[r->n] = sobj_ref(o);
	r->n++;
}

static int refs_delete(struct api *a, struct refs *r, int grace)
{
	int done = 0;
	for (size_t i = 0; i < r->n; i += DELETE_BATCH) {
		size_t b = r->n - i < DELETE_BATCH ? r->n - i : DELETE_BATCH;
		int ok = api_delete_many(a, r->v + i, b, grace, NULL);
		if (ok > 0)
			done += ok;
	}
	sobj_list_free(r->hold, r->n);
	free(r->v);
	memset(r, 0, sizeof(*r));
	return done;
}

/* Is Event o past its time to live: ttl_s, or EVENT_GONE_TTL_S once the
 * object it is about (by uid) is not among uids any more? */
static bool event_expired(const struct sobj *o, const struct hmap *uids, time_t now, int ttl_s)
{
	const char *ts = obj_str(o->obj, "lastTimestamp");
	time_t t = obj_time(ts ? ts : obj_str(o->obj, "metadata.creationTimestamp"));
	const char *about = obj_str(o->obj, "involvedObject.uid");
	if (about && !hmap_get(uids, about) && ttl_s > EVENT_GONE_TTL_S)
		ttl_s = EVENT_GONE_TTL_S;
	return t >= 0 && now - t > ttl_s;
}

int gc_sweep(struct api *a, int event_ttl_s)
{
	struct hmap uids = {0};
	struct sobj **all[16];
	int counts[16] = {0};
	for (int i = 0; i < kind_count && i < 16; i++) {
		counts[i] = api_list(a, &kind_table[i], NULL, NULL, &all[i], NULL);
		for (int j = 0; j < counts[i]; j++) {
			const char *uid = obj_str(all[i][j]->obj, "metadata.uid");
			if (uid)
				hmap_set(&uids, uid, all[i][j]);
		}
	}
	struct refs orphans = {0}, old_events = {0};
	time_t now = time(NULL);
	for (int i = 0; i < kind_count && i < 16; i++) {
		for (int j = 0; j < counts[i]; j++) {
			struct sobj *o = all[i][j];
			json_t *owners = obj_at(o->obj, "metadata.ownerReferences");
			if (json_array_size(owners) > 0) {
				bool alive = false;
				size_t k;
				json_t *ref;
				json_array_foreach(owners, k, ref)
				{
					const char *u = obj_str(ref, "uid");
					if (u && hmap_get(&uids, u))
						alive = true;
				}
				if (!alive) {
					refs_add(&orphans, o);
					continue;
				}
			}
			if (!strcmp(o->kind, "Event") && event_expired(o, &uids, now, event_ttl_s))
				refs_add(&old_events, o);
		}
	}
	hmap_clear(&uids, NULL);
	int deleted = 0;
	if (orphans.n)
		log_info("gc", "deleting %zu objects whose owners are gone", orphans.n);
	deleted += refs_delete(a, &orphans, -1);
	deleted += refs_delete(a, &old_events, 0);
	for (int i = 0; i < kind_count && i < 16; i++)
		if (counts[i] > 0)
			sobj_list_free(all[i], (size_t)counts[i]);
	return deleted;
}

/*
 * Terminating namespaces (api.c marks a deleted namespace whose pods are
 * still stopping): deleted again, which removes the namespace once nothing
 * is left in it.  Returns how many were looked at.
 */
int gc_namespaces(struct api *a)
{
	struct sobj **l;
	int n = api_list(a, KIND_NAMESPACE, NULL, NULL, &l, NULL);
	int seen = 0;
	for (int i = 0; i < n; i++) {
		if (!obj_at(l[i]->obj, "metadata.deletionTimestamp"))
			continue;
		seen++;
		struct err *e = NULL;
		if (api_delete(a, KIND_NAMESPACE, "", l[i]->name, &e) < 0 && e && e->code != ENOENT)
			log_warn("gc", "namespace %s: %s", l[i]->name, e->msg);
		err_free(e);
	}
	if (n > 0)
		sobj_list_free(l, (size_t)n);
	return seen;
}

/* Does o carry the finalizer API_FOREGROUND? */
static bool in_foreground_deletion(const json_t *o)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(json_object_get(o, "metadata"), "finalizers"), i, f)
	{
		if (json_is_string(f) && !strcmp(json_string_value(f), API_FOREGROUND))
			return true;
	}
	return false;
}

int gc_foreground(struct api *a)
{
	int seen = 0;
	for (int k = 0; k < kind_count; k++) {
		const struct kind_info *ki = &kind_table[k];
		/* pods, events and namespaces own nothing this waits for */
		if (ki == KIND_POD || ki == KIND_EVENT || ki == KIND_NAMESPACE)
			continue;
		struct sobj **l;
		int n = api_list(a, ki, NULL, NULL, &l, NULL);
		for (int i = 0; i < n; i++) {
			if (!in_foreground_deletion(l[i]->obj))
				continue;
			seen++;
			struct err *e = NULL;
			if (api_delete_foreground(a, ki, l[i]->ns, l[i]->name, -1, &e) < 0 && e &&
			    e->code != ENOENT)
				log_warn("gc", "%s %s: %s", ki->kind, l[i]->name, e->msg);
			err_free(e);
		}
		if (n > 0)
			sobj_list_free(l, (size_t)n);
	}
	return seen;
}

static void *gc_main(void *arg)
{
	struct gc *g = arg;
	api_fence_thread(true); /* the leader's writes (leading.h) */
	time_t last = time(NULL);
	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec ts = wall_deadline((int64_t)GC_NS_PERIOD_S * 1000);
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->lock);
		gc_namespaces(g->api);
		gc_foreground(g->api);
		if (time(NULL) - last >= g->o.period_s) {
			gc_sweep(g->api, g->o.event_ttl_s);
			last = time(NULL);
		}
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int gc_start(struct api *a, const struct gc_opts *o, struct gc **out, struct err **e)
{
	struct gc *g = xcalloc(1, sizeof(*g));
	g->api = a;
	g->o.period_s = o && o->period_s > 0 ? o->period_s : 30;
	g->o.event_ttl_s = o && o->event_ttl_s > 0 ? o->event_ttl_s : 3600;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	int r = pthread_create(&g->thread, NULL, gc_main, g);
	if (r) {
		free(g);
		return err_make(e, r, "starting the garbage collector: %s", strerror(r));
	}
	*out = g;
	return 0;
}

void gc_stop(struct gc *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
