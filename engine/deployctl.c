/*
 * deployctl.c - the Deployment controller.  See deployctl.h.
 */
#include "deployctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl.h"
#include "log.h"
#include "mem.h"
#include "obj.h"
#include "rsctl.h"
#include "valid.h"

#define REVISION_ANN "deployment.kubernetes.io/revision"
#define HASH_LABEL "pod-template-hash"

struct deployctl {
	struct api *api;
	struct ctrl *ctrl;
};

static const struct kind_info *K_DEPLOY, *K_RS;

void deployctl_template_hash(const json_t *template, int64_t collisions, char out[16])
{
	char *s = json_dumps(template, JSON_COMPACT | JSON_SORT_KEYS);
	uint32_t h = 2166136261u;
	for (const char *c = s ? s : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	free(s);
	if (collisions > 0)
		for (int i = 0; i < 8; i++)
			h = (h ^ (unsigned char)(collisions >> (8 * i))) * 16777619u;
	char dec[16];
	snprintf(dec, sizeof(dec), "%" PRIu32, h);
	size_t n = strlen(dec);
	for (size_t i = 0; i < n; i++)
		out[i] = rsctl_alphabet[(unsigned char)dec[i] % RSCTL_ALPHABET_LEN];
	out[n] = '\0';
}

/* Keys */

static void d_resync(void *arg, struct ctrl *c)
{
	struct deployctl *d = arg;
	struct sobj **v;
	int n = api_list(d->api, K_DEPLOY, NULL, NULL, &v, NULL);
	for (int i = 0; i < n; i++)
		ctrl_enqueue_obj(c, v[i]);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
}

static void d_event(void *arg, struct ctrl *c, const struct store_event *ev)
{
	if (!strcmp(ev->obj->kind, "Deployment")) {
		ctrl_enqueue_obj(c, ev->obj);
	} else if (!strcmp(ev->obj->kind, "ReplicaSet")) {
		json_t *ref = obj_controller_ref(ev->obj->obj);
		const char *kind = obj_str(ref, "kind"), *name = obj_str(ref, "name");
		if (kind && name && !strcmp(kind, "Deployment")) {
			char key[512];
			snprintf(key, sizeof(key), "%s/%s", ev->obj->ns, name);
			ctrl_enqueue(c, key);
		}
	}
}

/* Helpers */

static int64_t revision_of(const json_t *o)
{
	const char *s = json_string_value(
		json_object_get(obj_at(o, "metadata.annotations"), REVISION_ANN));
	return s ? strtoll(s, NULL, 10) : 0;
}

/* The template without the pod-template-hash label, for comparing. */
static json_t *template_sans_hash(const json_t *tpl)
{
	json_t *t = json_deep_copy(tpl);
	json_t *labels = obj_at(t, "metadata.labels");
	if (json_is_object(labels))
		json_object_del(labels, HASH_LABEL);
	return t;
}

struct set_int_arg {
	const char *field; /* in spec */
	int64_t value;
	const char *ann_key;
	const char *ann_value;
};

static int set_int_mutate(json_t *obj, void *varg, struct err **e)
{
	struct set_int_arg *a = varg;
	if (a->field)
		json_object_set_new(json_object_get(obj, "spec"), a->field, json_integer(a->value));
	if (a->ann_key) {
		json_t *md = json_object_get(obj, "metadata");
		json_t *ann = json_object_get(md, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(md, "annotations", ann);
		}
		json_object_set_new(ann, a->ann_key, json_string(a->ann_value));
	}
	return 0;
}

static int scale_rs(struct deployctl *d, struct sobj *dep, struct sobj *rs, int64_t to)
{
	int64_t from = obj_int(rs->obj, "spec.replicas", 1);
	if (from == to)
		return 0;
	struct set_int_arg a = { "replicas", to, NULL, NULL };
	struct err *e = NULL;
	int r = api_patch(d->api, K_RS, rs->ns, rs->name, set_int_mutate, &a, &e);
	if (r < 0) {
		log_debug("deployment", "%s/%s: scaling %s: %s", dep->ns, dep->name, rs->name,
			  e ? e->msg : "?");
		err_free(e);
		return r;
	}
	api_event(d->api, "Normal", "ScalingReplicaSet", "Deployment", dep->ns, dep->name,
		  "Scaled %s replica set %s to %" PRId64 " from %" PRId64, to > from ? "up" : "down",
		  rs->name, to, from);
	return 0;
}

/* Creates the ReplicaSet for dep's current template.  Returns 0 or -errno. */
static int create_rs(struct deployctl *d, struct sobj *dep, const char *hash, int64_t revision,
		     int64_t replicas)
{
	const json_t *dobj = dep->obj;
	json_t *tpl = json_deep_copy(obj_at(dobj, "spec.template"));
	json_t *tmeta = json_object_get(tpl, "metadata");
	if (!json_is_object(tmeta)) {
		tmeta = json_object();
		json_object_set_new(tpl, "metadata", tmeta);
	}
	json_t *tlabels = json_object_get(tmeta, "labels");
	if (!json_is_object(tlabels)) {
		tlabels = json_object();
		json_object_set_new(tmeta, "labels", tlabels);
	}
	json_object_set_new(tlabels, HASH_LABEL, json_string(hash));
	json_t *sel = json_deep_copy(obj_at(dobj, "spec.selector"));
	json_t *ml = json_object_get(sel, "matchLabels");
	if (!json_is_object(ml)) {
		ml = json_object();
		json_object_set_new(sel, "matchLabels", ml);
	}
	json_object_set_new(ml, HASH_LABEL, json_string(hash));
	char rev[32], reps[32];
	snprintf(rev, sizeof(rev), "%" PRId64, revision);
	snprintf(reps, sizeof(reps), "%" PRId64, obj_int(dobj, "spec.replicas", 1));
	char *name = xasprintf("%s-%s", dep->name, hash);
	json_t *refs = json_array();
	json_array_append_new(refs, obj_owner_ref(dobj));
	json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:{s:s, s:s, s:s}, s:o}, "
			       "s:{s:I, s:I, s:o, s:o}}",
			       "apiVersion", "apps/v1", "kind", "ReplicaSet", "metadata", "name",
			       name, "namespace", dep->ns, "labels", tlabels, "annotations",
			       REVISION_ANN, rev, "deployment.kubernetes.io/desired-replicas", reps,
			       "deployment.kubernetes.io/max-replicas", reps, "ownerReferences", refs,
			       "spec", "replicas", (json_int_t)replicas, "minReadySeconds",
			       (json_int_t)obj_int(dobj, "spec.minReadySeconds", 0), "selector", sel,
			       "template", tpl);
	int res = 0;
	int ok = api_create_many(d->api, &rs, 1, &res);
	if (ok == 1)
		api_event(d->api, "Normal", "ScalingReplicaSet", "Deployment", dep->ns, dep->name,
			  "Scaled up replica set %s to %" PRId64, name, replicas);
	json_decref(rs);
	free(name);
	return ok == 1 ? 0 : (res ? res : -EIO);
}

static int cmp_revision(const void *a, const void *b)
{
	int64_t x = revision_of((*(struct sobj *const *)a)->obj);
	int64_t y = revision_of((*(struct sobj *const *)b)->obj);
	return x < y ? -1 : x > y;
}

/* Status */

static int sync_status(struct deployctl *d, struct sobj *dep, struct sobj **rss, size_t n,
		       struct sobj *cur)
{
	const json_t *dobj = dep->obj;
	int64_t want = obj_int(dobj, "spec.replicas", 1);
	int64_t replicas = 0, ready = 0, avail = 0, updated = 0;
	for (size_t i = 0; i < n; i++) {
		replicas += obj_int(rss[i]->obj, "status.replicas", 0);
		ready += obj_int(rss[i]->obj, "status.readyReplicas", 0);
		avail += obj_int(rss[i]->obj, "status.availableReplicas", 0);
	}
	if (cur)
		updated = obj_int(cur->obj, "status.replicas", 0);
	int64_t max_unavail = 0;
	json_t *mu = obj_at(dobj, "spec.strategy.rollingUpdate.maxUnavailable");
	const char *stype = obj_str(dobj, "spec.strategy.type");
	if (mu && (!stype || !strcmp(stype, "RollingUpdate")))
		intorpercent(mu, want, false, &max_unavail, NULL);

	json_t *old = obj_at(dobj, "status");
	json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_object_set_new(st, "observedGeneration",
			    json_integer(obj_int(dobj, "metadata.generation", 1)));
	json_object_set_new(st, "replicas", json_integer(replicas));
	json_object_set_new(st, "updatedReplicas", json_integer(updated));
	json_object_set_new(st, "readyReplicas", json_integer(ready));
	json_object_set_new(st, "availableReplicas", json_integer(avail));
	json_object_set_new(st, "unavailableReplicas",
			    json_integer(want - avail > 0 ? want - avail : 0));
	char now[32];
	api_timestamp(now);
	bool available = avail >= want - max_unavail;
	obj_set_condition(st, "Available", available ? "True" : "False",
			  available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
			  available ? "Deployment has minimum availability."
				    : "Deployment does not have minimum availability.",
			  now);
	char msg[600];
	if (json_is_true(obj_at(dobj, "spec.paused"))) {
		obj_set_condition(st, "Progressing", "Unknown", "DeploymentPaused",
				  "Deployment is paused", now);
	} else if (cur && updated == want && replicas == want && avail == want) {
		snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has successfully progressed.",
			 cur->name);
		obj_set_condition(st, "Progressing", "True", "NewReplicaSetAvailable", msg, now);
	} else if (cur) {
		snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.", cur->name);
		obj_set_condition(st, "Progressing", "True", "ReplicaSetUpdated", msg, now);
	}
	/* lastUpdateTime moves only with a real change; don't rewrite for it alone. */
	int rc = 0;
	json_t *cmp_old = old ? json_deep_copy(old) : json_object();
	json_t *cmp_new = json_deep_copy(st);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(cmp_old, "conditions"), i, c)
		json_object_del(c, "lastUpdateTime");
	json_array_foreach(json_object_get(cmp_new, "conditions"), i, c)
		json_object_del(c, "lastUpdateTime");
	if (!json_equal(cmp_old, cmp_new)) {
		struct err *e = NULL;
		if (api_update_status(d->api, K_DEPLOY, dep->ns, dep->name, st, &e) < 0)
			rc = -1;
		err_free(e);
	}
	json_decref(cmp_old);
	json_decref(cmp_new);
	json_decref(st);
	return rc;
}

/* Sync */

static int d_sync(void *arg, const char *key)
{
	struct deployctl *d = arg;
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;
	struct sobj *dep = api_get(d->api, K_DEPLOY, ns, name);
	if (!dep || obj_at(dep->obj, "metadata.deletionTimestamp")) {
		sobj_unref(dep);
		return 0;
	}
	const json_t *dobj = dep->obj;
	const char *uid = obj_str(dobj, "metadata.uid");
	struct sobj **rss;
	size_t nd = api_dependents(d->api, uid, &rss);
	size_t n = 0;
	for (size_t i = 0; i < nd; i++) {
		if (!strcmp(rss[i]->kind, "ReplicaSet") && obj_controlled_by(rss[i]->obj, uid))
			rss[n++] = rss[i];
		else
			sobj_unref(rss[i]);
	}
	qsort(rss, n, sizeof(*rss), cmp_revision);

	/* The ReplicaSet of the current template. */
	int64_t collisions = obj_int(dobj, "status.collisionCount", 0);
	char hash[16];
	deployctl_template_hash(obj_at(dobj, "spec.template"), collisions, hash);
	json_t *want_tpl = template_sans_hash(obj_at(dobj, "spec.template"));
	struct sobj *cur = NULL;
	int64_t maxrev = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t rev = revision_of(rss[i]->obj);
		if (rev > maxrev)
			maxrev = rev;
		json_t *t = template_sans_hash(obj_at(rss[i]->obj, "spec.template"));
		if (json_equal(t, want_tpl))
			cur = rss[i];
		json_decref(t);
	}
	json_decref(want_tpl);
	bool paused = json_is_true(obj_at(dobj, "spec.paused"));
	int64_t want = obj_int(dobj, "spec.replicas", 1);
	int rc = 0;
	if (!paused) {
		if (!cur) {
			rc = create_rs(d, dep, hash, maxrev + 1, want);
			if (rc == -EEXIST) {
				/* A ReplicaSet of another template holds the name: a hash collision. */
				json_t *st = json_deep_copy(obj_at(dobj, "status"));
				if (!json_is_object(st)) {
					json_decref(st);
					st = json_object();
				}
				json_object_set_new(st, "collisionCount", json_integer(collisions + 1));
				api_update_status(d->api, K_DEPLOY, ns, name, st, NULL);
				json_decref(st);
			}
			rc = rc < 0 ? -1 : 0;
		} else {
			/* A rollback to an older template makes it the newest revision. */
			if (revision_of(cur->obj) < maxrev) {
				char rev[32];
				snprintf(rev, sizeof(rev), "%" PRId64, maxrev + 1);
				api_annotate(d->api, K_RS, cur->ns, cur->name, REVISION_ANN, rev, NULL);
			}
			if (scale_rs(d, dep, cur, want) < 0)
				rc = -1;
		}
		for (size_t i = 0; i < n; i++)
			if (rss[i] != cur && obj_int(rss[i]->obj, "spec.replicas", 0) > 0 &&
			    scale_rs(d, dep, rss[i], 0) < 0)
				rc = -1;
		/* The Deployment's revision is its current ReplicaSet's. */
		struct sobj *now_cur = cur ? api_get(d->api, K_RS, cur->ns, cur->name) : NULL;
		int64_t rev = now_cur ? revision_of(now_cur->obj) : maxrev + 1;
		sobj_unref(now_cur);
		if (revision_of(dobj) != rev) {
			char revs[32];
			snprintf(revs, sizeof(revs), "%" PRId64, rev);
			api_annotate(d->api, K_DEPLOY, ns, name, REVISION_ANN, revs, NULL);
		}
		/* History: keep revisionHistoryLimit old ReplicaSets that are scaled to zero. */
		int64_t limit = obj_int(dobj, "spec.revisionHistoryLimit", 10);
		size_t old = 0;
		for (size_t i = 0; i < n; i++)
			old += rss[i] != cur;
		for (size_t i = 0; i < n && (int64_t)old > limit; i++) {
			if (rss[i] == cur || obj_int(rss[i]->obj, "spec.replicas", 0) > 0 ||
			    obj_int(rss[i]->obj, "status.replicas", 0) > 0)
				continue;
			if (api_delete(d->api, K_RS, rss[i]->ns, rss[i]->name, NULL) >= 0)
				old--;
		}
	}
	/* Status from fresh copies of the ReplicaSets. */
	sobj_list_free(rss, n);
	nd = api_dependents(d->api, uid, &rss);
	n = 0;
	cur = NULL;
	for (size_t i = 0; i < nd; i++) {
		if (!strcmp(rss[i]->kind, "ReplicaSet") && obj_controlled_by(rss[i]->obj, uid)) {
			rss[n++] = rss[i];
			const char *h = json_string_value(
				json_object_get(obj_at(rss[i]->obj, "metadata.labels"), HASH_LABEL));
			if (h && !strcmp(h, hash))
				cur = rss[i];
		} else {
			sobj_unref(rss[i]);
		}
	}
	if (sync_status(d, dep, rss, n, cur) < 0)
		rc = -1;
	sobj_list_free(rss, n);
	sobj_unref(dep);
	return rc;
}

int deployctl_start(struct api *a, struct deployctl **out, struct err **e)
{
	K_DEPLOY = kind_by_kind("Deployment");
	K_RS = kind_by_kind("ReplicaSet");
	struct deployctl *d = xcalloc(1, sizeof(*d));
	d->api = a;
	static const struct ctrl_ops ops = { "deployment", 1, d_sync, d_resync, d_event };
	int r = ctrl_start(a, &ops, d, &d->ctrl, e);
	if (r < 0) {
		free(d);
		return r;
	}
	*out = d;
	return 0;
}

void deployctl_stop(struct deployctl *d)
{
	if (!d)
		return;
	ctrl_stop(d->ctrl);
	free(d);
}
