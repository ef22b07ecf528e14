/*
 * deployctl.c - the Deployment controller.  See deployctl.h.
 */
#include "engine/controllers/deployctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/controllers/ctrl.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/controllers/rollout.h"
#include "engine/controllers/rsctl.h"
#include "engine/valid/valid.h"

#define REVISION_ANN "deployment.kubernetes.io/revision"
#define HASH_LABEL "pod-template-hash"
#define CHANGE_CAUSE_ANN "kubernetes.io/change-cause"
#define RECREATE_POLL_MS 200 /* Recreate waiting for old pods to be gone */

struct deployctl {
	struct api *api;
	struct ctrl *ctrl;
};


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
	int n = api_list(d->api, KIND_DEPLOYMENT, NULL, NULL, &v, NULL);
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
	int r = api_patch(d->api, KIND_REPLICASET, rs->ns, rs->name, set_int_mutate, &a, &e);
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
		     int64_t replicas, int64_t max_surge)
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
	char rev[32], reps[32], maxreps[32];
	snprintf(rev, sizeof(rev), "%" PRId64, revision);
	snprintf(reps, sizeof(reps), "%" PRId64, obj_int(dobj, "spec.replicas", 1));
	snprintf(maxreps, sizeof(maxreps), "%" PRId64, obj_int(dobj, "spec.replicas", 1) + max_surge);
	char *name = xasprintf("%s-%s", dep->name, hash);
	json_t *refs = json_array();
	json_array_append_new(refs, obj_owner_ref(dobj));
	json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:{s:s, s:s, s:s}, s:o}, "
			       "s:{s:I, s:I, s:o, s:o}}",
			       "apiVersion", "apps/v1", "kind", "ReplicaSet", "metadata", "name",
			       name, "namespace", dep->ns, "labels", tlabels, "annotations",
			       REVISION_ANN, rev, "deployment.kubernetes.io/desired-replicas", reps,
			       "deployment.kubernetes.io/max-replicas", maxreps, "ownerReferences", refs,
			       "spec", "replicas", (json_int_t)replicas, "minReadySeconds",
			       (json_int_t)obj_int(dobj, "spec.minReadySeconds", 0), "selector", sel,
			       "template", tpl);
	const char *cause = json_string_value(
		json_object_get(obj_at(dobj, "metadata.annotations"), CHANGE_CAUSE_ANN));
	if (cause)
		json_object_set_new(obj_at(rs, "metadata.annotations"), CHANGE_CAUSE_ANN,
				    json_string(cause));
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

#define PROGRESSING "Progressing"

/* The condition of type in a status (a mapping), or NULL. */
static json_t *status_cond(const json_t *st, const char *type)
{
	json_t *c = NULL, *x;
	size_t i;
	json_array_foreach(json_object_get(st, "conditions"), i, x)
	{
		const char *t = obj_str(x, "type");
		if (t && !strcmp(t, type))
			c = x;
	}
	return c;
}

/* Sets the Progressing condition; with touch, lastUpdateTime is now even
 * when nothing else changes (progress was made). */
static void set_progressing(json_t *st, const char *value, const char *reason, const char *msg,
			    const char *now, bool touch)
{
	obj_set_condition(st, PROGRESSING, value, reason, msg, now);
	json_t *c = status_cond(st, PROGRESSING);
	if (touch && c)
		json_object_set_new(c, "lastUpdateTime", json_string(now));
}

/*
 * Writes dep's status from its ReplicaSets (fresh copies) and the new one
 * (cur, may be NULL), with the Available and Progressing conditions as
 * syncRolloutStatus sets them.  *first_reason, when set, is a condition the
 * step itself noted (NewReplicaSetCreated, FoundNewReplicaSet).  Returns 0
 * or -1, and *requeue_ms: when to look again for the progress deadline.
 */
static int sync_status(struct deployctl *d, struct sobj *dep, struct sobj **rss, size_t n,
		       struct sobj *cur, int64_t max_unavail, const char *noted,
		       int64_t *requeue_ms)
{
	const json_t *dobj = dep->obj;
	int64_t want = obj_int(dobj, "spec.replicas", 1);
	int64_t replicas = 0, ready = 0, avail = 0, updated = 0, total_spec = 0;
	for (size_t i = 0; i < n; i++) {
		replicas += obj_int(rss[i]->obj, "status.replicas", 0);
		ready += obj_int(rss[i]->obj, "status.readyReplicas", 0);
		avail += obj_int(rss[i]->obj, "status.availableReplicas", 0);
		total_spec += obj_int(rss[i]->obj, "spec.replicas", 0);
	}
	if (cur)
		updated = obj_int(cur->obj, "status.replicas", 0);
	int64_t gen = obj_int(dobj, "metadata.generation", 1);

	json_t *old = obj_at(dobj, "status");
	json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_object_set_new(st, "observedGeneration", json_integer(gen));
	json_object_set_new(st, "replicas", json_integer(replicas));
	json_object_set_new(st, "updatedReplicas", json_integer(updated));
	json_object_set_new(st, "readyReplicas", json_integer(ready));
	json_object_set_new(st, "availableReplicas", json_integer(avail));
	json_object_set_new(st, "unavailableReplicas",
			    json_integer(total_spec - avail > 0 ? total_spec - avail : 0));
	char now[32];
	api_timestamp(now);
	bool available = avail >= want - max_unavail;
	obj_set_condition(st, "Available", available ? "True" : "False",
			  available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
			  available ? "Deployment has minimum availability."
				    : "Deployment does not have minimum availability.",
			  now);

	/* Progressing, as syncRolloutStatus and checkPausedConditions set it. */
	char msg[600];
	json_t *cond = status_cond(old, PROGRESSING);
	const char *reason = obj_str(cond, "reason");
	bool paused = json_is_true(obj_at(dobj, "spec.paused"));
	int64_t deadline = obj_int(dobj, "spec.progressDeadlineSeconds", 600);
	bool timed_out_before = reason && !strcmp(reason, "ProgressDeadlineExceeded");
	if (noted && cur) {
		snprintf(msg, sizeof(msg), "%s replica set \"%s\"",
			 !strcmp(noted, "NewReplicaSetCreated") ? "Created new" : "Found new",
			 cur->name);
		set_progressing(st, "True", noted, msg, now, true);
	}
	if (paused) {
		if (!timed_out_before)
			set_progressing(st, "Unknown", "DeploymentPaused", "Deployment is paused",
					now, false);
	} else if (reason && !strcmp(reason, "DeploymentPaused")) {
		set_progressing(st, "Unknown", "DeploymentResumed", "Deployment is resumed", now,
				true);
	}
	json_t *ncond = status_cond(st, PROGRESSING);
	const char *nreason = obj_str(ncond, "reason");
	bool complete = updated == want && replicas == want && avail == want;
	bool was_complete = replicas == updated && nreason &&
			    !strcmp(nreason, "NewReplicaSetAvailable");
	bool progressing =
		updated > obj_int(old, "updatedReplicas", 0) ||
		replicas - updated <
			obj_int(old, "replicas", 0) - obj_int(old, "updatedReplicas", 0) ||
		ready > obj_int(old, "readyReplicas", 0) ||
		avail > obj_int(old, "availableReplicas", 0);
	*requeue_ms = 0;
	if (!paused && !was_complete && cur) {
		if (complete) {
			snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has successfully progressed.",
				 cur->name);
			set_progressing(st, "True", "NewReplicaSetAvailable", msg, now, false);
		} else if (progressing) {
			snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.", cur->name);
			set_progressing(st, "True", "ReplicaSetUpdated", msg, now, true);
			*requeue_ms = deadline * 1000 + 100;
		} else if (ncond && nreason && strcmp(nreason, "ProgressDeadlineExceeded")) {
			time_t from = obj_time(obj_str(ncond, "lastUpdateTime"));
			time_t t = time(NULL);
			if (from >= 0 && from + deadline < t) {
				snprintf(msg, sizeof(msg),
					 "ReplicaSet \"%s\" has timed out progressing.", cur->name);
				set_progressing(st, "False", "ProgressDeadlineExceeded", msg, now,
						false);
				api_event(d->api, "Warning", "ProgressDeadlineExceeded",
					  "Deployment", dep->ns, dep->name, "%s", msg);
			} else if (from >= 0) {
				*requeue_ms = ((int64_t)(from + deadline - t) + 1) * 1000 + 100;
			}
		} else if (!ncond) {
			snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.", cur->name);
			set_progressing(st, "True", "ReplicaSetUpdated", msg, now, true);
			*requeue_ms = deadline * 1000 + 100;
		}
	}
	int rc = 0;
	if (!json_equal(old, st)) {
		struct err *e = NULL;
		if (api_update_status(d->api, KIND_DEPLOYMENT, dep->ns, dep->name, st, &e) < 0)
			rc = -1;
		err_free(e);
	}
	json_decref(st);
	return rc;
}

/* Sync */

/* The ReplicaSets dep controls (new references), sorted by revision. */
static size_t owned_rs(struct deployctl *d, const char *uid, struct sobj ***out)
{
	struct sobj **v;
	size_t nd = api_dependents(d->api, uid, &v), n = 0;
	for (size_t i = 0; i < nd; i++) {
		if (!strcmp(v[i]->kind, "ReplicaSet") && obj_controlled_by(v[i]->obj, uid) &&
		    !obj_at(v[i]->obj, "metadata.deletionTimestamp"))
			v[n++] = v[i];
		else
			sobj_unref(v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_revision);
	*out = v;
	return n;
}

/* The ReplicaSet whose template is dep's, or NULL (borrowed from rss). */
static struct sobj *find_current(const json_t *dobj, struct sobj **rss, size_t n)
{
	json_t *want = template_sans_hash(obj_at(dobj, "spec.template"));
	struct sobj *cur = NULL;
	for (size_t i = 0; i < n && !cur; i++) {
		json_t *t = template_sans_hash(obj_at(rss[i]->obj, "spec.template"));
		if (json_equal(t, want))
			cur = rss[i];
		json_decref(t);
	}
	json_decref(want);
	return cur;
}

static void rs_state(struct sobj *rs, struct rollout_rs *out)
{
	memset(out, 0, sizeof(*out));
	out->revision = revision_of(rs->obj);
	out->created = obj_time(obj_str(rs->obj, "metadata.creationTimestamp"));
	out->replicas = obj_int(rs->obj, "spec.replicas", 1);
	out->actual = obj_int(rs->obj, "status.replicas", 0);
	out->available = obj_int(rs->obj, "status.availableReplicas", 0);
	out->exists = true;
	out->to = out->replicas;
	out->ref = rs;
}

/* True when a pod of any of the ReplicaSets exists and has not finished. */
static bool pods_exist(struct deployctl *d, struct rollout_rs *old, size_t n)
{
	bool any = false;
	for (size_t i = 0; i < n && !any; i++) {
		struct sobj *rs = old[i].ref, **pods;
		size_t np = api_dependents(d->api, obj_str(rs->obj, "metadata.uid"), &pods);
		for (size_t j = 0; j < np; j++)
			any |= !strcmp(pods[j]->kind, "Pod") && !pod_is_finished(pods[j]->obj);
		sobj_list_free(pods, np);
	}
	return any;
}

/* Writes the sizes a step decided.  Returns 0 or -1. */
static int apply_sizes(struct deployctl *d, struct sobj *dep, struct rollout_rs *v, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].exists && v[i].to != v[i].replicas &&
		    scale_rs(d, dep, v[i].ref, v[i].to) < 0)
			rc = -1;
	return rc;
}

/* Makes cur's bookkeeping match dep: revision, change cause, minReadySeconds. */
static void refresh_current(struct deployctl *d, struct sobj *dep, struct sobj *cur,
			    int64_t maxold)
{
	if (revision_of(cur->obj) <= maxold) {
		/* A rollback to an older template makes it the newest revision. */
		char rev[32];
		snprintf(rev, sizeof(rev), "%" PRId64, maxold + 1);
		api_annotate(d->api, KIND_REPLICASET, cur->ns, cur->name, REVISION_ANN, rev, NULL);
	}
	const char *cause = json_string_value(
		json_object_get(obj_at(dep->obj, "metadata.annotations"), CHANGE_CAUSE_ANN));
	const char *had = json_string_value(
		json_object_get(obj_at(cur->obj, "metadata.annotations"), CHANGE_CAUSE_ANN));
	if (cause && (!had || strcmp(had, cause)))
		api_annotate(d->api, KIND_REPLICASET, cur->ns, cur->name, CHANGE_CAUSE_ANN, cause, NULL);
	int64_t mrs = obj_int(dep->obj, "spec.minReadySeconds", 0);
	if (obj_int(cur->obj, "spec.minReadySeconds", 0) != mrs) {
		struct set_int_arg a = { "minReadySeconds", mrs, NULL, NULL };
		api_patch(d->api, KIND_REPLICASET, cur->ns, cur->name, set_int_mutate, &a, NULL);
	}
}

static int d_sync(void *arg, const char *key)
{
	struct deployctl *d = arg;
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;
	struct sobj *dep = api_get(d->api, KIND_DEPLOYMENT, ns, name);
	if (!dep || obj_at(dep->obj, "metadata.deletionTimestamp")) {
		sobj_unref(dep);
		return 0;
	}
	const json_t *dobj = dep->obj;
	const char *uid = obj_str(dobj, "metadata.uid");
	struct sobj **rss;
	size_t n = owned_rs(d, uid, &rss);
	struct sobj *cur = find_current(dobj, rss, n);

	int64_t want = obj_int(dobj, "spec.replicas", 1);
	const char *stype = obj_str(dobj, "spec.strategy.type");
	bool recreate = stype && !strcmp(stype, "Recreate");
	bool paused = json_is_true(obj_at(dobj, "spec.paused"));
	struct rollout_params p = { want, 0, 0 };
	if (!recreate &&
	    rollout_resolve(obj_at(dobj, "spec.strategy.rollingUpdate.maxSurge"),
			    obj_at(dobj, "spec.strategy.rollingUpdate.maxUnavailable"), want, &p,
			    NULL) < 0) {
		p.max_surge = 0;
		p.max_unavailable = 1;
	}

	/* The old ReplicaSets, oldest first, and the new one (maybe not made yet). */
	struct rollout_rs *old = xcalloc(n ? n : 1, sizeof(*old)), nw;
	size_t nold = 0;
	int64_t maxold = 0;
	for (size_t i = 0; i < n; i++) {
		if (rss[i] == cur)
			continue;
		rs_state(rss[i], &old[nold++]);
		if (revision_of(rss[i]->obj) > maxold)
			maxold = revision_of(rss[i]->obj);
	}
	rollout_sort_oldest_first(old, nold);
	if (cur) {
		rs_state(cur, &nw);
	} else {
		memset(&nw, 0, sizeof(nw));
		nw.revision = maxold + 1;
	}

	int rc = 0;
	const char *noted = NULL;
	bool complete = false, stepped = false;
	int64_t wait_ms = 0;
	int64_t collisions = obj_int(dobj, "status.collisionCount", 0);
	char hash[16];
	deployctl_template_hash(obj_at(dobj, "spec.template"), collisions, hash);
	if (!paused) {
		bool make = false;
		int64_t make_size = 0;
		if (cur) {
			refresh_current(d, dep, cur, maxold);
			if (!obj_condition(dobj, PROGRESSING))
				noted = "FoundNewReplicaSet";
		}
		if (recreate) {
			enum rollout_recreate r = rollout_recreate_step(
				&p, &nw, old, nold, nold && pods_exist(d, old, nold));
			if (r == ROLLOUT_SCALE_DOWN_OLD) {
				rc |= apply_sizes(d, dep, old, nold);
				stepped = true;
			} else if (r == ROLLOUT_SCALE_UP_NEW) {
				make = !cur;
				make_size = nw.to;
				if (cur)
					rc |= apply_sizes(d, dep, &nw, 1);
				stepped = true;
			} else if (r == ROLLOUT_WAIT_OLD_PODS) {
				/* Pod deletions are not watched here: look again shortly. */
				wait_ms = RECREATE_POLL_MS;
			} else if (r == ROLLOUT_DONE) {
				complete = true;
			}
		} else if (!cur) {
			make = true;
			make_size = rollout_new_replicas(&p, &nw, old, nold);
			stepped = true;
		} else {
			stepped = rollout_rolling_step(&p, &nw, old, nold) > 0;
			rc |= apply_sizes(d, dep, &nw, 1);
			rc |= apply_sizes(d, dep, old, nold);
			complete = !stepped && nw.replicas == want && nw.actual == want &&
				   nw.available == want;
			for (size_t i = 0; i < nold; i++)
				complete &= old[i].actual == 0 && old[i].replicas == 0;
		}
		if (make) {
			int r = create_rs(d, dep, hash, maxold + 1, make_size, p.max_surge);
			if (r == -EEXIST) {
				/* A ReplicaSet of another template holds the name: a hash collision. */
				json_t *st = json_deep_copy(obj_at(dobj, "status"));
				if (!json_is_object(st)) {
					json_decref(st);
					st = json_object();
				}
				json_object_set_new(st, "collisionCount", json_integer(collisions + 1));
				api_update_status(d->api, KIND_DEPLOYMENT, ns, name, st, NULL);
				json_decref(st);
			}
			if (r < 0)
				rc = -1;
			else
				noted = "NewReplicaSetCreated";
		}
		/* History: at most revisionHistoryLimit old ReplicaSets, once complete. */
		if (complete) {
			size_t *del = xcalloc(nold ? nold : 1, sizeof(*del));
			size_t nd = rollout_prune(old, nold,
						  obj_int(dobj, "spec.revisionHistoryLimit", 10), del);
			for (size_t i = 0; i < nd; i++) {
				struct sobj *rs = old[del[i]].ref;
				api_delete(d->api, KIND_REPLICASET, rs->ns, rs->name, NULL);
			}
			free(del);
		}
	} else if (cur) {
		/* Paused: no rollout, but a Deployment with only its current
		 * ReplicaSet active still scales. */
		bool others = false;
		for (size_t i = 0; i < nold; i++)
			others |= old[i].replicas > 0;
		if (!others && nw.replicas != want)
			rc |= scale_rs(d, dep, cur, want) < 0 ? -1 : 0;
	}
	free(old);
	sobj_list_free(rss, n);

	/* Status, and the Deployment's revision, from fresh copies. */
	n = owned_rs(d, uid, &rss);
	cur = find_current(dobj, rss, n);
	if (cur && revision_of(dobj) != revision_of(cur->obj)) {
		char revs[32];
		snprintf(revs, sizeof(revs), "%" PRId64, revision_of(cur->obj));
		api_annotate(d->api, KIND_DEPLOYMENT, ns, name, REVISION_ANN, revs, NULL);
	}
	int64_t requeue = 0;
	if (sync_status(d, dep, rss, n, cur, p.max_unavailable, noted, &requeue) < 0)
		rc = -1;
	sobj_list_free(rss, n);
	sobj_unref(dep);
	if (rc < 0)
		return -1;
	if (wait_ms > 0 && (requeue == 0 || wait_ms < requeue))
		requeue = wait_ms;
	return requeue > 0 ? (int)(requeue > 600000 ? 600000 : requeue) : 0;
}

/* Rollback and history */

size_t deployctl_replicasets(struct api *a, const char *uid, struct sobj ***out)
{
	struct deployctl d = { a, NULL };
	return owned_rs(&d, uid, out);
}

int64_t deployctl_revision(const json_t *o)
{
	return revision_of(o);
}

int deployctl_start(struct api *a, struct deployctl **out, struct err **e)
{
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
