/*
 * rsctl.c - the ReplicaSet controller.  See rsctl.h.
 */
#include "engine/controllers/rsctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/controllers/ctrl.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define CREATE_BATCH	   1000
#define POD_EVENT_DELAY_MS 100 /* coalescing of pod events into one sync */

const char rsctl_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

struct rsctl {
	struct api *api;
	struct ctrl *ctrl;
	pthread_mutex_t lock; /* guards memos (not what they hold) */
	struct hmap memos;    /* "NS/NAME" of a ReplicaSet -> struct rs_memo */
};

/*
 * What a sync needs to know of one pod version, worked out once: a stored
 * object never changes, so (name, resourceVersion) names its facts.  A sync
 * of a ReplicaSet of 30,000 pods, run after every wave of bindings and
 * status changes, then costs a hash lookup per pod instead of a dozen JSON
 * lookups.
 */
struct pod_facts {
	int64_t rv;
	uint64_t sweep; /* the memo's sweep that last saw it */
	bool controlled, terminating, finished, labeled, ready;
	time_t ready_since; /* Ready's lastTransitionTime, or -1 */
};

/* A ReplicaSet's pod facts; used by the one worker syncing its key at a
 * time (the work queue's promise), so without a lock. */
struct rs_memo {
	char uid[64];	  /* the ReplicaSet's */
	int64_t gen;	  /* its metadata.generation: its template labels */
	uint64_t sweep;	  /* bumped by each scan */
	struct hmap pods; /* name -> struct pod_facts */
};

static void memo_free(void *v)
{
	struct rs_memo *m = v;
	hmap_clear(&m->pods, free);
	free(m);
}

/* key's memo, made (or emptied) for rs as it is now. */
static struct rs_memo *memo_for(struct rsctl *r, const char *key, const struct sobj *rs)
{
	const char *uid = obj_str(rs->obj, "metadata.uid");
	int64_t gen = obj_int(rs->obj, "metadata.generation", 1);
	pthread_mutex_lock(&r->lock);
	struct rs_memo *m = hmap_get(&r->memos, key);
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		hmap_set(&r->memos, key, m);
	}
	pthread_mutex_unlock(&r->lock);
	if (strcmp(m->uid, uid ? uid : "") || m->gen != gen) {
		hmap_clear(&m->pods, free);
		snprintf(m->uid, sizeof(m->uid), "%s", uid ? uid : "");
		m->gen = gen;
	}
	return m;
}

static void memo_drop(struct rsctl *r, const char *key)
{
	pthread_mutex_lock(&r->lock);
	struct rs_memo *m = hmap_del(&r->memos, key);
	pthread_mutex_unlock(&r->lock);
	if (m)
		memo_free(m);
}

/* Does pod carry every label of the ReplicaSet's template? */
static bool fully_labeled(const json_t *pod, const json_t *labels)
{
	const json_t *have = obj_at(pod, "metadata.labels");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)labels, k, v)
	{
		const char *h = json_string_value(json_object_get(have, k));
		if (!h || !json_is_string(v) || strcmp(h, json_string_value(v)))
			return false;
	}
	return true;
}

/* The facts of pod p (a Pod) for rs: from the memo, or worked out now. */
static const struct pod_facts *facts_of(struct rs_memo *m, const struct sobj *rs,
					const struct sobj *p)
{
	struct pod_facts *f = hmap_get(&m->pods, p->name);
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		hmap_set(&m->pods, p->name, f);
	} else if (f->rv == p->rv) {
		f->sweep = m->sweep;
		return f;
	}
	f->rv = p->rv;
	f->sweep = m->sweep;
	f->controlled = obj_controlled_by(p->obj, m->uid);
	f->terminating = pod_is_terminating(p->obj);
	f->finished = pod_is_finished(p->obj);
	f->labeled = fully_labeled(p->obj, obj_at(rs->obj, "spec.template.metadata.labels"));
	f->ready = pod_is_ready(p->obj);
	f->ready_since =
	    f->ready ? obj_time(obj_str(obj_condition(p->obj, "Ready"), "lastTransitionTime")) : -1;
	return f;
}

/* Forgets the pods the last scan (of seen pods) did not meet. */
static void memo_sweep(struct rs_memo *m, size_t seen)
{
	if (hmap_len(&m->pods) <= seen)
		return;
	size_t n = 0, cap = hmap_len(&m->pods) - seen;
	char **gone = xcalloc(cap, sizeof(*gone));
	struct hmap_iter it = {0};
	struct hmap_ent *e;
	while ((e = hmap_next(&m->pods, &it)) && n < cap)
		if (((struct pod_facts *)e->val)->sweep != m->sweep)
			gone[n++] = xstrdup(e->key);
	for (size_t i = 0; i < n; i++) {
		free(hmap_del(&m->pods, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

/* Keys */

static void rs_resync(void *arg, struct ctrl *c)
{
	struct rsctl *r = arg;
	struct sobj **v;
	int n = api_list(r->api, KIND_REPLICASET, NULL, NULL, &v, NULL);
	for (int i = 0; i < n; i++)
		ctrl_enqueue_obj(c, v[i]);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
}

static void rs_event(void *arg, struct ctrl *c, const struct store_event *ev)
{
	if (!strcmp(ev->obj->kind, "ReplicaSet")) {
		ctrl_enqueue_obj(c, ev->obj);
	} else if (!strcmp(ev->obj->kind, "Pod")) {
		json_t *ref = obj_controller_ref(ev->obj->obj);
		const char *kind = obj_str(ref, "kind"), *name = obj_str(ref, "name");
		if (kind && name && !strcmp(kind, "ReplicaSet")) {
			/* Pod changes come in waves (a scale-up binds thousands):
			 * gather them for a moment, one sync looks at them all. */
			char key[512];
			snprintf(key, sizeof(key), "%s/%s", ev->obj->ns, name);
			ctrl_enqueue_after(c, key, POD_EVENT_DELAY_MS);
		}
	}
}

/* Sync */

static void random_suffix(char out[6])
{
	unsigned char rnd[5];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		for (int i = 0; i < 5; i++)
			rnd[i] = (unsigned char)rand();
	for (int i = 0; i < 5; i++)
		out[i] = rsctl_alphabet[rnd[i] % RSCTL_ALPHABET_LEN];
	out[5] = '\0';
}

/* A new pod from rs's template. */
static json_t *pod_from_template(const json_t *rs, const char *ns, const char *rsname)
{
	json_t *tmeta = obj_at(rs, "spec.template.metadata");
	json_t *meta = json_is_object(tmeta) ? json_deep_copy(tmeta) : json_object();
	char suffix[6];
	random_suffix(suffix);
	char *name = xasprintf("%.*s-%s", 200, rsname, suffix);
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "namespace", json_string(ns));
	json_object_del(meta, "creationTimestamp");
	json_t *refs = json_array();
	json_array_append_new(refs, obj_owner_ref(rs));
	json_object_set_new(meta, "ownerReferences", refs);
	json_t *pod = json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", "v1", "kind", "Pod",
				"metadata", meta, "spec", obj_at(rs, "spec.template.spec"));
	free(name);
	return pod;
}

/* Orders pods so that the first ones are the best to delete. */
static int phase_rank(const json_t *p)
{
	const char *ph = obj_str(p, "status.phase");
	if (!ph || !strcmp(ph, "Pending"))
		return 0;
	if (!strcmp(ph, "Unknown"))
		return 1;
	return 2;
}

static int cmp_delete_first(const void *a, const void *b)
{
	const json_t *x = (*(struct sobj *const *)a)->obj, *y = (*(struct sobj *const *)b)->obj;
	const char *nx = obj_str(x, "spec.nodeName"), *ny = obj_str(y, "spec.nodeName");
	int ax = nx && *nx, ay = ny && *ny;
	if (ax != ay)
		return ax - ay;
	int px = phase_rank(x), py = phase_rank(y);
	if (px != py)
		return px - py;
	int rx = pod_is_ready(x), ry = pod_is_ready(y);
	if (rx != ry)
		return rx - ry;
	/* newer first */
	const char *cx = obj_str(x, "metadata.creationTimestamp");
	const char *cy = obj_str(y, "metadata.creationTimestamp");
	int c = strcmp(cy ? cy : "", cx ? cx : "");
	if (c)
		return c;
	return (*(struct sobj *const *)b)->rv < (*(struct sobj *const *)a)->rv ? -1 : 1;
}

/* Is a ready pod available (ready for at least minReady seconds)?  Sets *wait_ms if not yet. */
static bool pod_available(const struct pod_facts *f, int64_t min_ready, time_t now,
			  int64_t *wait_ms)
{
	if (!f->ready)
		return false;
	if (min_ready <= 0 || f->ready_since < 0)
		return true;
	if (now - f->ready_since >= min_ready)
		return true;
	int64_t w = (f->ready_since + min_ready - now) * 1000 + 50;
	if (*wait_ms == 0 || w < *wait_ms)
		*wait_ms = w;
	return false;
}

static int sync_status(struct rsctl *r, struct rs_memo *m, struct sobj *rs, struct sobj **pods,
		       size_t n, int64_t *wait_ms)
{
	int64_t min_ready = obj_int(rs->obj, "spec.minReadySeconds", 0);
	time_t now = time(NULL);
	int64_t replicas = 0, labeled = 0, ready = 0, avail = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pod_facts *f = facts_of(m, rs, pods[i]);
		replicas++;
		labeled += f->labeled;
		ready += f->ready;
		avail += pod_available(f, min_ready, now, wait_ms);
	}
	json_t *old = obj_at(rs->obj, "status");
	json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_object_set_new(st, "replicas", json_integer(replicas));
	json_object_set_new(st, "fullyLabeledReplicas", json_integer(labeled));
	json_object_set_new(st, "readyReplicas", json_integer(ready));
	json_object_set_new(st, "availableReplicas", json_integer(avail));
	json_object_set_new(st, "observedGeneration",
			    json_integer(obj_int(rs->obj, "metadata.generation", 1)));
	int rc = 0;
	if (!json_equal(st, old)) {
		struct err *e = NULL;
		if (api_update_status(r->api, KIND_REPLICASET, rs->ns, rs->name, st, &e) < 0) {
			log_debug("replicaset", "%s/%s: status: %s", rs->ns, rs->name,
				  e ? e->msg : "?");
			rc = -1;
		}
		err_free(e);
	}
	json_decref(st);
	return rc;
}

/* The pods rs controls that are active (neither terminating nor
 * finished), fresh from the API.  A scan: m's facts of pods gone are
 * forgotten. */
static size_t active_pods(struct rsctl *r, struct rs_memo *m, const struct sobj *rs,
			  struct sobj ***out)
{
	struct sobj **deps;
	size_t nd = api_dependents(r->api, m->uid, &deps), nact = 0, seen = 0;
	m->sweep++;
	for (size_t i = 0; i < nd; i++) {
		const struct pod_facts *f =
		    strcmp(deps[i]->kind, "Pod") ? NULL : (seen++, facts_of(m, rs, deps[i]));
		if (f && f->controlled && !f->terminating && !f->finished)
			deps[nact++] = deps[i];
		else
			sobj_unref(deps[i]);
	}
	memo_sweep(m, seen);
	*out = deps;
	return nact;
}

/* The FailedCreate event of a batch of b with ok made: the first refusal's
 * reason, as Kubernetes' "Error creating: pods "x" is forbidden: ...", or
 * the count. */
static void failed_create(struct rsctl *r, struct sobj *rs, size_t b, int ok, char **why)
{
	for (size_t i = 0; i < b; i++)
		if (why[i]) {
			api_event(r->api, "Warning", "FailedCreate", "ReplicaSet", rs->ns, rs->name,
				  "Error creating: %s", why[i]);
			return;
		}
	api_event(r->api, "Warning", "FailedCreate", "ReplicaSet", rs->ns, rs->name,
		  "Error creating: %zu of %zu pods were refused", b - (size_t)(ok < 0 ? 0 : ok), b);
}

/* One batch of creates, run on a thread of its own. */
struct create_job {
	struct rsctl *r;
	struct sobj *rs; /* borrowed: the sync holds it */
	size_t b;
	json_t **pods;
	int *res;
	char **why;
	int ok;
	pthread_t thread;
};

static void *create_main(void *arg)
{
	struct create_job *j = arg;
	api_fence_thread(true); /* as the worker that started it (ctrl.c) */
	j->ok = api_create_many_ex(j->r->api, j->pods, j->b, j->res, j->why);
	for (size_t i = 0; i < j->b; i++)
		if (j->res[i] == 0)
			api_event(j->r->api, "Normal", "SuccessfulCreate", "ReplicaSet", j->rs->ns,
				  j->rs->name, "Created pod: %s",
				  obj_str(j->pods[i], "metadata.name"));
	return NULL;
}

/* Starts a batch of b pods from rs's template. */
static struct create_job *create_start(struct rsctl *r, struct sobj *rs, size_t b)
{
	struct create_job *j = xcalloc(1, sizeof(*j));
	*j = (struct create_job){r,
				 rs,
				 b,
				 xcalloc(b, sizeof(json_t *)),
				 xcalloc(b, sizeof(int)),
				 xcalloc(b, sizeof(char *)),
				 0,
				 0};
	for (size_t i = 0; i < b; i++)
		j->pods[i] = pod_from_template(rs->obj, rs->ns, rs->name);
	if (pthread_create(&j->thread, NULL, create_main, j)) {
		create_main(j); /* no thread: here, then */
		j->thread = pthread_self();
	}
	return j;
}

/* Waits for j and frees it; adds what it made to *made; returns that, and
 * sets *rc to -1 when some were refused. */
static int create_end(struct create_job *j, size_t *made, int *rc)
{
	if (!pthread_equal(j->thread, pthread_self()))
		pthread_join(j->thread, NULL);
	int ok = j->ok;
	if (ok < 0 || (size_t)ok < j->b) {
		failed_create(j->r, j->rs, j->b, ok, j->why);
		*rc = -1;
	}
	for (size_t i = 0; i < j->b; i++) {
		json_decref(j->pods[i]);
		free(j->why[i]);
	}
	free(j->pods);
	free(j->res);
	free(j->why);
	free(j);
	*made += ok > 0 ? (size_t)ok : 0;
	return ok;
}

/*
 * Creates need pods from rs's template, CREATE_BATCH at a time, until a
 * batch makes none.  Two batches are in flight: while one commits (the
 * store's group commit, shared with every other writer), the next one is
 * made and checked on another thread, so that a scale-up of thousands
 * keeps both cores busy.  Returns 0, or -1 when some were refused.
 */
static int create_pods(struct rsctl *r, struct sobj *rs, size_t need)
{
	int rc = 0;
	size_t made = 0;
	bool stop = false;
	while (made < need && !stop) {
		size_t want = need - made, started = 0;
		struct create_job *prev = NULL;
		while (started < want && !stop) {
			size_t b = want - started < CREATE_BATCH ? want - started : CREATE_BATCH;
			struct create_job *j = create_start(r, rs, b);
			started += b;
			if (prev)
				stop = create_end(prev, &made, &rc) <= 0;
			prev = j;
		}
		if (prev)
			stop |= create_end(prev, &made, &rc) <= 0;
	}
	return rc;
}

/* Deletes surplus of rs's n active pods: those cmp_delete_first puts
 * first (pods is sorted in place).  Returns 0 or -1. */
static int delete_surplus(struct rsctl *r, struct sobj *rs, struct sobj **pods, size_t n,
			  size_t surplus)
{
	qsort(pods, n, sizeof(*pods), cmp_delete_first);
	struct api_ref *refs = xcalloc(surplus, sizeof(*refs));
	for (size_t i = 0; i < surplus; i++) {
		refs[i].k = KIND_POD;
		refs[i].ns = pods[i]->ns;
		refs[i].name = pods[i]->name;
		refs[i].uid = obj_str(pods[i]->obj, "metadata.uid");
	}
	int *res = xcalloc(surplus, sizeof(int));
	int ok = api_delete_many(r->api, refs, surplus, -1, res);
	for (size_t i = 0; i < surplus; i++)
		if (res[i] == 0)
			api_event(r->api, "Normal", "SuccessfulDelete", "ReplicaSet", rs->ns,
				  rs->name, "Deleted pod: %s", refs[i].name);
	free(refs);
	free(res);
	return ok < 0 ? -1 : 0;
}

/* The ReplicaSet reconcile: as many active pods as spec.replicas (created
 * or deleted), then the status from the pods there are now. */
static int rs_sync(void *arg, const char *key)
{
	struct rsctl *r = arg;
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;

	struct sobj *rs = api_get(r->api, KIND_REPLICASET, ns, name);
	if (!rs || obj_at(rs->obj, "metadata.deletionTimestamp")) {
		sobj_unref(rs);
		memo_drop(r, key);
		return 0; /* gone: its pods go with it (cascading delete) */
	}
	struct rs_memo *m = memo_for(r, key, rs);
	struct sobj **pods;
	size_t n = active_pods(r, m, rs, &pods);
	int64_t want = obj_int(rs->obj, "spec.replicas", 1);
	int rc = 0;
	if ((int64_t)n < want)
		rc = create_pods(r, rs, (size_t)(want - (int64_t)n));
	else if ((int64_t)n > want)
		rc = delete_surplus(r, rs, pods, n, n - (size_t)want);
	if ((int64_t)n != want) {
		/* Status from what is there now. */
		sobj_list_free(pods, n);
		n = active_pods(r, m, rs, &pods);
	}
	int64_t wait_ms = 0;
	if (sync_status(r, m, rs, pods, n, &wait_ms) < 0)
		rc = -1;
	sobj_list_free(pods, n);
	sobj_unref(rs);
	if (rc < 0)
		return rc;
	return ctrl_requeue_after(wait_ms);
}

int rsctl_start(struct api *a, struct rsctl **out, struct err **e)
{
	struct rsctl *r = xcalloc(1, sizeof(*r));
	r->api = a;
	pthread_mutex_init(&r->lock, NULL);
	static const struct ctrl_ops ops = {"replicaset", 2, rs_sync, rs_resync, rs_event};
	int rc = ctrl_start(a, &ops, r, &r->ctrl, e);
	if (rc < 0) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void rsctl_stop(struct rsctl *r)
{
	if (!r)
		return;
	ctrl_stop(r->ctrl);
	hmap_clear(&r->memos, memo_free);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
