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

#define REVISION_ANN	 "deployment.kubernetes.io/revision"
#define HASH_LABEL	 "pod-template-hash"
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
	struct set_int_arg a = {"replicas", to, NULL, NULL};
	struct err *e = NULL;
	int r = api_patch(d->api, KIND_REPLICASET, rs->ns, rs->name, set_int_mutate, &a, &e);
	if (r < 0) {
		log_debug("deployment", "%s/%s: scaling %s: %s", dep->ns, dep->name, rs->name,
			  e ? e->msg : "?");
		err_free(e);
		return r;
	}
	api_event(d->api, "Normal", "ScalingReplicaSet", "Deployment", dep->ns, dep->name,
		  "Scaled %s replica set %s to %" PRId64 " from %" PRId64,
		  to > from ? "up" : "down", rs->name, to, from);
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
	snprintf(maxreps, sizeof(maxreps), "%" PRId64,
		 obj_int(dobj, "spec.replicas", 1) + max_surge);
	char *name = xasprintf("%s-%s", dep->name, hash);
	json_t *refs = json_array();
	json_array_append_new(refs, obj_owner_ref(dobj));
	json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:{s:s, s:s, s:s}, s:o}, "
			       "s:{s:I, s:I, s:o, s:o}}",
			       "apiVersion", "apps/v1", "kind", "ReplicaSet", "metadata", "name",
			       name, "namespace", dep->ns, "labels", tlabels, "annotations",
			       REVISION_ANN, rev, "deployment.kubernetes.io/desired-replicas", reps,
			       "deployment.kubernetes.io/max-replicas", maxreps, "ownerReferences",
			       refs, "spec", "replicas", (json_int_t)replicas, "minReadySeconds",
			       (json_int_t)obj_int(dobj, "spec.minReadySeconds", 0), "selector",
			       sel, "template", tpl);
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

/* What the steps of sync_status share. */
struct status_ctx {
	struct deployctl *d;
	struct sobj *dep;
	const json_t *old; /* dep's status as read (may be NULL) */
	json_t *st;	   /* the status being made (owned) */
	struct sobj *cur;  /* the new ReplicaSet, or NULL */
	int64_t want;	   /* spec.replicas */
	bool paused;	   /* spec.paused */
	char now[32];
	/* Sums over the ReplicaSets; updated counts the new one's pods only. */
	int64_t replicas, ready, avail, updated, total_spec;
};

/* Sums the ReplicaSets' counts into s and writes them into s->st. */
static void status_counts(struct status_ctx *s, struct sobj **rss, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->replicas += obj_int(rss[i]->obj, "status.replicas", 0);
		s->ready += obj_int(rss[i]->obj, "status.readyReplicas", 0);
		s->avail += obj_int(rss[i]->obj, "status.availableReplicas", 0);
		s->total_spec += obj_int(rss[i]->obj, "spec.replicas", 0);
	}
	if (s->cur)
		s->updated = obj_int(s->cur->obj, "status.replicas", 0);
	int64_t unavail = s->total_spec - s->avail;
	json_t *st = s->st;
	json_object_set_new(st, "observedGeneration",
			    json_integer(obj_int(s->dep->obj, "metadata.generation", 1)));
	json_object_set_new(st, "replicas", json_integer(s->replicas));
	json_object_set_new(st, "updatedReplicas", json_integer(s->updated));
	json_object_set_new(st, "readyReplicas", json_integer(s->ready));
	json_object_set_new(st, "availableReplicas", json_integer(s->avail));
	json_object_set_new(st, "unavailableReplicas", json_integer(unavail > 0 ? unavail : 0));
}

/* Available: at least replicas - maxUnavailable pods are available. */
static void status_available(struct status_ctx *s, int64_t max_unavail)
{
	bool available = s->avail >= s->want - max_unavail;
	obj_set_condition(s->st, "Available", available ? "True" : "False",
			  available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
			  available ? "Deployment has minimum availability."
				    : "Deployment does not have minimum availability.",
			  s->now);
}

/* Progressing as the sync step noted it (noted: NewReplicaSetCreated or
 * FoundNewReplicaSet, or NULL) and as checkPausedConditions sets it. */
static void progressing_noted(struct status_ctx *s, const char *noted)
{
	char msg[600];
	const char *reason = obj_str(status_cond(s->old, PROGRESSING), "reason");
	bool timed_out_before = reason && !strcmp(reason, "ProgressDeadlineExceeded");
	if (noted && s->cur) {
		snprintf(msg, sizeof(msg), "%s replica set \"%s\"",
			 !strcmp(noted, "NewReplicaSetCreated") ? "Created new" : "Found new",
			 s->cur->name);
		set_progressing(s->st, "True", noted, msg, s->now, true);
	}
	if (s->paused) {
		if (!timed_out_before)
			set_progressing(s->st, "Unknown", "DeploymentPaused",
					"Deployment is paused", s->now, false);
	} else if (reason && !strcmp(reason, "DeploymentPaused")) {
		set_progressing(s->st, "Unknown", "DeploymentResumed", "Deployment is resumed",
				s->now, true);
	}
}

/* No progress since the condition's lastUpdateTime: past the deadline,
 * Progressing turns False (with a Warning event).  Returns when to look
 * again (ms), or 0. */
static int64_t progress_deadline(struct status_ctx *s, const json_t *cond, int64_t deadline)
{
	time_t from = obj_time(obj_str(cond, "lastUpdateTime"));
	time_t t = time(NULL);
	if (from < 0)
		return 0;
	if (from + deadline >= t)
		return ((int64_t)(from + deadline - t) + 1) * 1000 + 100;
	char msg[600];
	snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has timed out progressing.", s->cur->name);
	set_progressing(s->st, "False", "ProgressDeadlineExceeded", msg, s->now, false);
	api_event(s->d->api, "Warning", "ProgressDeadlineExceeded", "Deployment", s->dep->ns,
		  s->dep->name, "%s", msg);
	return 0;
}

/* Progressing as syncRolloutStatus sets it from the rollout's progress:
 * complete, progressing, or timed out.  Returns when to look again for the
 * progress deadline (ms), or 0. */
static int64_t progressing_rollout(struct status_ctx *s)
{
	const json_t *old = s->old;
	int64_t deadline = obj_int(s->dep->obj, "spec.progressDeadlineSeconds", 600);
	json_t *cond = status_cond(s->st, PROGRESSING);
	const char *reason = obj_str(cond, "reason");
	bool complete = s->updated == s->want && s->replicas == s->want && s->avail == s->want;
	bool was_complete =
	    s->replicas == s->updated && reason && !strcmp(reason, "NewReplicaSetAvailable");
	bool progressing = s->updated > obj_int(old, "updatedReplicas", 0) ||
			   s->replicas - s->updated <
			       obj_int(old, "replicas", 0) - obj_int(old, "updatedReplicas", 0) ||
			   s->ready > obj_int(old, "readyReplicas", 0) ||
			   s->avail > obj_int(old, "availableReplicas", 0);
	if (s->paused || was_complete || !s->cur)
		return 0;
	char msg[600];
	if (complete) {
		snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has successfully progressed.",
			 s->cur->name);
		set_progressing(s->st, "True", "NewReplicaSetAvailable", msg, s->now, false);
		return 0;
	}
	if (!progressing && cond) {
		if (reason && strcmp(reason, "ProgressDeadlineExceeded"))
			return progress_deadline(s, cond, deadline);
		return 0;
	}
	snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.", s->cur->name);
	set_progressing(s->st, "True", "ReplicaSetUpdated", msg, s->now, true);
	return deadline * 1000 + 100;
}

/*
 * Writes dep's status from its ReplicaSets (fresh copies) and the new one
 * (cur, may be NULL), with the Available and Progressing conditions as
 * syncRolloutStatus sets them.  noted, when set, is the Progressing reason
 * the sync step itself noted (NewReplicaSetCreated, FoundNewReplicaSet).
 * Returns 0 or -1, and *requeue_ms: when to look again for the progress
 * deadline (0: no need).
 */
static int sync_status(struct deployctl *d, struct sobj *dep, struct sobj **rss, size_t n,
		       struct sobj *cur, int64_t max_unavail, const char *noted,
		       int64_t *requeue_ms)
{
	struct status_ctx s = {.d = d, .dep = dep, .cur = cur};
	s.old = obj_at(dep->obj, "status");
	s.st = json_is_object(s.old) ? json_deep_copy(s.old) : json_object();
	s.want = obj_int(dep->obj, "spec.replicas", 1);
	s.paused = json_is_true(obj_at(dep->obj, "spec.paused"));
	api_timestamp(s.now);

	status_counts(&s, rss, n);
	status_available(&s, max_unavail);
	progressing_noted(&s, noted);
	*requeue_ms = progressing_rollout(&s);

	int rc = 0;
	if (!json_equal(s.old, s.st)) {
		struct err *e = NULL;
		if (api_update_status(d->api, KIND_DEPLOYMENT, dep->ns, dep->name, s.st, &e) < 0)
			rc = -1;
		err_free(e);
	}
	json_decref(s.st);
	return rc;
}

/* Sync */

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
	out->revision = api_revision(rs->obj);
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
static void refresh_current(struct deployctl *d, struct sobj *dep, struct sobj *cur, int64_t maxold)
{
	if (api_revision(cur->obj) <= maxold) {
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
		api_annotate(d->api, KIND_REPLICASET, cur->ns, cur->name, CHANGE_CAUSE_ANN, cause,
			     NULL);
	int64_t mrs = obj_int(dep->obj, "spec.minReadySeconds", 0);
	if (obj_int(cur->obj, "spec.minReadySeconds", 0) != mrs) {
		struct set_int_arg a = {"minReadySeconds", mrs, NULL, NULL};
		api_patch(d->api, KIND_REPLICASET, cur->ns, cur->name, set_int_mutate, &a, NULL);
	}
}

/*
 * One reconcile of a Deployment: what plan_read found (its ReplicaSets and
 * strategy) and what the steps decided.  Lives for one d_sync.
 */
struct d_plan {
	struct sobj *dep;  /* the Deployment (d_sync's reference) */
	struct sobj **rss; /* the ReplicaSets it controls, by revision (owned) */
	size_t n;
	struct sobj *cur; /* the one with dep's template (in rss), or NULL */
	int64_t want;	  /* spec.replicas */
	bool recreate;	  /* strategy Recreate; else RollingUpdate */
	bool paused;	  /* spec.paused */
	struct rollout_params p;
	struct rollout_rs *old; /* the other ReplicaSets, oldest first (owned) */
	size_t nold;
	int64_t maxold;	      /* their highest revision */
	struct rollout_rs nw; /* cur's state, or the one to make */
	bool make;	      /* decided: create the new ReplicaSet ... */
	int64_t make_size;    /* ... with this many replicas */
	bool complete;	      /* decided: the rollout is done (prune history) */
	const char *noted;    /* the Progressing reason a step noted, or NULL */
	int64_t wait_ms;      /* look again after this long (0: no need) */
	bool failed;	      /* a write failed: retry with backoff */
};

/* Reads dep's ReplicaSets and strategy into pl; plan_free releases them. */
static void plan_read(struct deployctl *d, struct sobj *dep, struct d_plan *pl)
{
	const json_t *dobj = dep->obj;
	memset(pl, 0, sizeof(*pl));
	pl->dep = dep;
	pl->n = api_deployment_history(d->api, obj_str(dobj, "metadata.uid"), &pl->rss);
	pl->cur = find_current(dobj, pl->rss, pl->n);
	pl->want = obj_int(dobj, "spec.replicas", 1);
	const char *stype = obj_str(dobj, "spec.strategy.type");
	pl->recreate = stype && !strcmp(stype, "Recreate");
	pl->paused = json_is_true(obj_at(dobj, "spec.paused"));
	pl->p = (struct rollout_params){pl->want, 0, 0};
	if (!pl->recreate &&
	    rollout_resolve(obj_at(dobj, "spec.strategy.rollingUpdate.maxSurge"),
			    obj_at(dobj, "spec.strategy.rollingUpdate.maxUnavailable"), pl->want,
			    &pl->p, NULL) < 0) {
		pl->p.max_surge = 0;
		pl->p.max_unavailable = 1;
	}
	/* The old ReplicaSets, oldest first, and the new one (maybe not made yet). */
	pl->old = xcalloc(pl->n ? pl->n : 1, sizeof(*pl->old));
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->rss[i] == pl->cur)
			continue;
		rs_state(pl->rss[i], &pl->old[pl->nold++]);
		if (api_revision(pl->rss[i]->obj) > pl->maxold)
			pl->maxold = api_revision(pl->rss[i]->obj);
	}
	rollout_sort_oldest_first(pl->old, pl->nold);
	if (pl->cur)
		rs_state(pl->cur, &pl->nw);
	else
		pl->nw.revision = pl->maxold + 1;
}

/* Releases what plan_read read; the decisions stay. */
static void plan_free(struct d_plan *pl)
{
	free(pl->old);
	sobj_list_free(pl->rss, pl->n);
	pl->old = NULL;
	pl->rss = NULL;
	pl->cur = NULL;
	pl->n = pl->nold = 0;
}

/* Recreate (rolloutRecreate): the old ReplicaSets to 0, then, once their
 * pods are gone, the new one up to replicas. */
static void step_recreate(struct deployctl *d, struct d_plan *pl)
{
	bool old_pods = pl->nold && pods_exist(d, pl->old, pl->nold);
	switch (rollout_recreate_step(&pl->p, &pl->nw, pl->old, pl->nold, old_pods)) {
	case ROLLOUT_SCALE_DOWN_OLD:
		pl->failed |= apply_sizes(d, pl->dep, pl->old, pl->nold) < 0;
		break;
	case ROLLOUT_SCALE_UP_NEW:
		pl->make = !pl->cur;
		pl->make_size = pl->nw.to;
		if (pl->cur)
			pl->failed |= apply_sizes(d, pl->dep, &pl->nw, 1) < 0;
		break;
	case ROLLOUT_WAIT_OLD_PODS:
		/* Pod deletions are not watched here: look again shortly. */
		pl->wait_ms = RECREATE_POLL_MS;
		break;
	case ROLLOUT_DONE:
		pl->complete = true;
		break;
	}
}

/* RollingUpdate (rolloutRolling): make the new ReplicaSet as large as the
 * surge allows, or take one step scaling it up and the old ones down. */
static void step_rolling(struct deployctl *d, struct d_plan *pl)
{
	if (!pl->cur) {
		pl->make = true;
		pl->make_size = rollout_new_replicas(&pl->p, &pl->nw, pl->old, pl->nold);
		return;
	}
	bool stepped = rollout_rolling_step(&pl->p, &pl->nw, pl->old, pl->nold) > 0;
	pl->failed |= apply_sizes(d, pl->dep, &pl->nw, 1) < 0;
	pl->failed |= apply_sizes(d, pl->dep, pl->old, pl->nold) < 0;
	pl->complete = !stepped && pl->nw.replicas == pl->want && pl->nw.actual == pl->want &&
		       pl->nw.available == pl->want;
	for (size_t i = 0; i < pl->nold; i++)
		pl->complete &= pl->old[i].actual == 0 && pl->old[i].replicas == 0;
}

/* A ReplicaSet of another template holds the new one's name (a hash
 * collision): status.collisionCount to count, so that the next sync hashes
 * the template to another name. */
static void note_collision(struct deployctl *d, struct sobj *dep, int64_t count)
{
	json_t *st = json_deep_copy(obj_at(dep->obj, "status"));
	if (!json_is_object(st)) {
		json_decref(st);
		st = json_object();
	}
	json_object_set_new(st, "collisionCount", json_integer(count));
	api_update_status(d->api, KIND_DEPLOYMENT, dep->ns, dep->name, st, NULL);
	json_decref(st);
}

/* Creates the new ReplicaSet (NAME-HASH, of pl->make_size replicas). */
static void create_new_rs(struct deployctl *d, struct d_plan *pl)
{
	const json_t *dobj = pl->dep->obj;
	int64_t collisions = obj_int(dobj, "status.collisionCount", 0);
	char hash[16];
	deployctl_template_hash(obj_at(dobj, "spec.template"), collisions, hash);
	int r = create_rs(d, pl->dep, hash, pl->maxold + 1, pl->make_size, pl->p.max_surge);
	if (r == -EEXIST)
		note_collision(d, pl->dep, collisions + 1);
	if (r < 0)
		pl->failed = true;
	else
		pl->noted = "NewReplicaSetCreated";
}

/* History: deletes the old ReplicaSets beyond spec.revisionHistoryLimit. */
static void prune_history(struct deployctl *d, struct d_plan *pl)
{
	size_t *del = xcalloc(pl->nold ? pl->nold : 1, sizeof(*del));
	size_t nd = rollout_prune(pl->old, pl->nold,
				  obj_int(pl->dep->obj, "spec.revisionHistoryLimit", 10), del);
	for (size_t i = 0; i < nd; i++) {
		struct sobj *rs = pl->old[del[i]].ref;
		api_delete(d->api, KIND_REPLICASET, rs->ns, rs->name, NULL);
	}
	free(del);
}

/* Not paused: the current ReplicaSet's bookkeeping, one step of the
 * strategy, the new ReplicaSet if the step asks for it, and the history
 * pruned once the rollout is complete. */
static void sync_rollout(struct deployctl *d, struct d_plan *pl)
{
	if (pl->cur) {
		refresh_current(d, pl->dep, pl->cur, pl->maxold);
		if (!obj_condition(pl->dep->obj, PROGRESSING))
			pl->noted = "FoundNewReplicaSet";
	}
	if (pl->recreate)
		step_recreate(d, pl);
	else
		step_rolling(d, pl);
	if (pl->make)
		create_new_rs(d, pl);
	if (pl->complete)
		prune_history(d, pl);
}

/* Paused: no rollout, but a Deployment whose only active ReplicaSet is the
 * current one still scales (pl->cur is set). */
static void scale_paused(struct deployctl *d, struct d_plan *pl)
{
	bool others = false;
	for (size_t i = 0; i < pl->nold; i++)
		others |= pl->old[i].replicas > 0;
	if (!others && pl->nw.replicas != pl->want && scale_rs(d, pl->dep, pl->cur, pl->want) < 0)
		pl->failed = true;
}

/* Writes the Deployment's revision and status from fresh copies of its
 * ReplicaSets.  Returns 0 or -1, and *requeue_ms as sync_status does. */
static int report_status(struct deployctl *d, struct d_plan *pl, int64_t *requeue_ms)
{
	struct sobj *dep = pl->dep, **rss;
	size_t n = api_deployment_history(d->api, obj_str(dep->obj, "metadata.uid"), &rss);
	struct sobj *cur = find_current(dep->obj, rss, n);
	if (cur && api_revision(dep->obj) != api_revision(cur->obj)) {
		char revs[32];
		snprintf(revs, sizeof(revs), "%" PRId64, api_revision(cur->obj));
		api_annotate(d->api, KIND_DEPLOYMENT, dep->ns, dep->name, REVISION_ANN, revs, NULL);
	}
	int rc = sync_status(d, dep, rss, n, cur, pl->p.max_unavailable, pl->noted, requeue_ms);
	sobj_list_free(rss, n);
	return rc;
}

/*
 * The Deployment reconcile, as Kubernetes' syncDeployment: plan (read the
 * ReplicaSets), one step of the strategy (or, paused, only scaling), then
 * the revision and status.  Returns < 0 to retry, or when to look again.
 */
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
	struct d_plan pl;
	plan_read(d, dep, &pl);
	if (!pl.paused)
		sync_rollout(d, &pl);
	else if (pl.cur)
		scale_paused(d, &pl);
	plan_free(&pl);

	int64_t requeue = 0;
	if (report_status(d, &pl, &requeue) < 0)
		pl.failed = true;
	sobj_unref(dep);
	if (pl.failed)
		return -1;
	if (pl.wait_ms > 0 && (requeue == 0 || pl.wait_ms < requeue))
		requeue = pl.wait_ms;
	return ctrl_requeue_after(requeue);
}

int deployctl_start(struct api *a, struct deployctl **out, struct err **e)
{
	struct deployctl *d = xcalloc(1, sizeof(*d));
	d->api = a;
	static const struct ctrl_ops ops = {"deployment", 1, d_sync, d_resync, d_event};
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
