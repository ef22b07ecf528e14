/*
 * api_ops.c - operations that kubectl makes of several API calls: the
 * Eviction subresource, drain (cordon, then evict), a Deployment's
 * revision history and rollback.  Every face calls these, so that the
 * filesystem and the HTTP API behave the same.  See api.h.
 *
 * None of them is one transaction: as with kubectl, each step is its own
 * API call, and a step that finds its object gone treats it as done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define REVISION_ANN	 "deployment.kubernetes.io/revision"
#define HASH_LABEL	 "pod-template-hash"
#define CHANGE_CAUSE_ANN "kubernetes.io/change-cause"
#define DRAIN_NAMES_MAX	 10 /* unmanaged pods named in a refusal */

/* Eviction */

int api_evict(struct api *a, const char *ns, const char *name, struct err **e)
{
	struct api_request rq = {"create", KIND_POD, ns, name, "eviction"};
	int r = api_authorize(a, &rq, e);
	if (r < 0)
		return r;
	r = api_delete_opts(a, KIND_POD, ns, name, -1, e);
	return r < 0 ? r : 0;
}

/* Drain */

/* The pods bound to node that are not terminating, sorted by namespace and name. */
static size_t pods_on(struct api *a, const char *node, struct sobj ***out)
{
	struct sobj **pods;
	int np = api_list(a, KIND_POD, NULL, NULL, &pods, NULL);
	size_t n = 0;
	for (int i = 0; i < np; i++) {
		const char *on = obj_str(pods[i]->obj, "spec.nodeName");
		if (on && !strcmp(on, node) && !pod_is_terminating(pods[i]->obj))
			pods[n++] = pods[i];
		else
			sobj_unref(pods[i]);
	}
	*out = np > 0 ? pods : NULL;
	return n;
}

/* A pod that kubectl drain deletes for good: no controller would make it again. */
static bool unmanaged(const struct sobj *pod)
{
	return !obj_controller_ref(pod->obj) && !pod_is_finished(pod->obj);
}

/* -EBUSY naming the unmanaged pods among pods, unless there are none. */
static int refuse_unmanaged(const char *node, struct sobj **pods, size_t n, struct err **e)
{
	struct buf names = {0};
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!unmanaged(pods[i]))
			continue;
		if (count++ < DRAIN_NAMES_MAX)
			buf_printf(&names, "%s%s/%s", count > 1 ? ", " : "", pods[i]->ns,
				   pods[i]->name);
	}
	if (count > DRAIN_NAMES_MAX)
		buf_printf(&names, " and %zu more", count - DRAIN_NAMES_MAX);
	int r = 0;
	if (count)
		r = err_make(e, EBUSY,
			     "cannot drain node \"%s\": %zu pod%s no controller and would be "
			     "deleted for good: %s",
			     node, count, count == 1 ? " declares" : "s declare", names.s);
	buf_free(&names);
	return r;
}

static int cordon_mutate(json_t *node, void *arg, struct err **e)
{
	json_t *spec = json_object_get(node, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(node, "spec", spec);
	}
	json_object_set_new(spec, "unschedulable", json_true());
	return 0;
}

static int cordon(struct api *a, const char *node, struct err **e)
{
	struct sobj *n = api_get(a, KIND_NODE, NULL, node);
	if (!n)
		return err_make(e, ENOENT, "node \"%s\" not found", node);
	bool cordoned = json_is_true(obj_at(n->obj, "spec.unschedulable"));
	sobj_unref(n);
	if (cordoned)
		return 0;
	int r = api_patch(a, KIND_NODE, NULL, node, cordon_mutate, NULL, e);
	if (r < 0)
		return r;
	api_event(a, "Normal", "NodeNotSchedulable", "Node", "", node,
		  "Node %s status is now: NodeNotSchedulable", node);
	return 0;
}

/* Evicts the pods (those that are unmanaged only if force); returns the count. */
static int evict_all(struct api *a, const char *node, struct sobj **pods, size_t n, bool force)
{
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!force && unmanaged(pods[i]))
			continue; /* bound since the check: left alone */
		if (api_evict(a, pods[i]->ns, pods[i]->name, NULL) < 0)
			continue; /* gone meanwhile */
		count++;
		api_event(a, "Normal", "Evicted", "Pod", pods[i]->ns, pods[i]->name,
			  "Evicted: node %s is being drained", node);
	}
	return count;
}

int api_node_drain(struct api *a, const char *node, bool force, struct err **e)
{
	struct sobj *n = api_get(a, KIND_NODE, NULL, node);
	if (!n)
		return err_make(e, ENOENT, "node \"%s\" not found", node);
	sobj_unref(n);
	/* Check before cordoning, so that a refused drain changes nothing. */
	struct sobj **pods;
	size_t np = pods_on(a, node, &pods);
	int r = force ? 0 : refuse_unmanaged(node, pods, np, e);
	sobj_list_free(pods, np);
	if (r < 0)
		return r;
	if (cordon(a, node, e) < 0)
		return err_wrap(e, "draining node %s", node);
	/* Cordoned: the scheduler binds nothing more to it.  List again, to
	 * take the pods bound since the check too. */
	np = pods_on(a, node, &pods);
	int count = evict_all(a, node, pods, np, force);
	sobj_list_free(pods, np);
	log_info("api", "%s: drained, %d pods evicted", node, count);
	return count;
}

/* Revision history and rollback */

int64_t api_revision(const json_t *o)
{
	const char *s =
	    json_string_value(json_object_get(obj_at(o, "metadata.annotations"), REVISION_ANN));
	return s ? strtoll(s, NULL, 10) : 0;
}

static int cmp_revision(const void *a, const void *b)
{
	int64_t x = api_revision((*(struct sobj *const *)a)->obj);
	int64_t y = api_revision((*(struct sobj *const *)b)->obj);
	return x < y ? -1 : x > y;
}

size_t api_deployment_history(struct api *a, const char *uid, struct sobj ***out)
{
	struct sobj **v;
	size_t nd = api_dependents(a, uid, &v), n = 0;
	for (size_t i = 0; i < nd; i++) {
		if (!strcmp(v[i]->kind, KIND_REPLICASET->kind) &&
		    obj_controlled_by(v[i]->obj, uid) &&
		    !obj_at(v[i]->obj, "metadata.deletionTimestamp"))
			v[n++] = v[i];
		else
			sobj_unref(v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_revision);
	*out = v;
	return n;
}

/* The ReplicaSet to roll back to among rss (borrowed), or NULL. */
static struct sobj *rollback_target(struct sobj **rss, size_t n, int64_t cur, int64_t rev)
{
	struct sobj *to = NULL;
	for (size_t i = 0; i < n; i++) {
		int64_t r = api_revision(rss[i]->obj);
		if (rev ? r == rev : r < cur && (!to || r > api_revision(to->obj)))
			to = rss[i];
	}
	return to;
}

struct rollback_arg {
	json_t *tpl;	   /* the template to restore */
	const char *cause; /* its change cause, or NULL */
};

static int rollback_mutate(json_t *obj, void *varg, struct err **e)
{
	struct rollback_arg *a = varg;
	json_object_set(json_object_get(obj, "spec"), "template", a->tpl);
	json_t *md = json_object_get(obj, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	if (a->cause) {
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(md, "annotations", ann);
		}
		json_object_set_new(ann, CHANGE_CAUSE_ANN, json_string(a->cause));
	} else if (json_is_object(ann)) {
		json_object_del(ann, CHANGE_CAUSE_ANN);
	}
	return 0;
}

/* Copies to's template (less its hash label) and change cause into ns/name. */
static int64_t rollback_to(struct api *a, const char *ns, const char *name, const struct sobj *to,
			   struct err **e)
{
	json_t *tpl = json_deep_copy(obj_at(to->obj, "spec.template"));
	json_t *labels = obj_at(tpl, "metadata.labels");
	if (json_is_object(labels))
		json_object_del(labels, HASH_LABEL);
	struct rollback_arg arg = {
	    tpl,
	    json_string_value(
		json_object_get(obj_at(to->obj, "metadata.annotations"), CHANGE_CAUSE_ANN)),
	};
	int r = api_patch(a, KIND_DEPLOYMENT, ns, name, rollback_mutate, &arg, e);
	json_decref(tpl);
	if (r < 0)
		return r;
	int64_t rev = api_revision(to->obj);
	api_event(a, "Normal", "DeploymentRollback", "Deployment", ns, name,
		  "Rolled back deployment \"%s\" to revision %" PRId64, name, rev);
	return rev;
}

int64_t api_deployment_rollback(struct api *a, const char *ns, const char *name, int64_t rev,
				struct err **e)
{
	struct sobj *dep = api_get(a, KIND_DEPLOYMENT, ns, name);
	if (!dep)
		return err_make(e, ENOENT, "Deployment \"%s\" not found", name);
	struct sobj **rss;
	size_t n = api_deployment_history(a, obj_str(dep->obj, "metadata.uid"), &rss);
	int64_t cur = api_revision(dep->obj);
	struct sobj *to = rollback_target(rss, n, cur, rev);
	int64_t r;
	if (!to && rev == 0)
		r = err_make(e, ENOENT,
			     "Deployment \"%s\": no rollout history found (no revision before "
			     "%" PRId64 ")",
			     name, cur);
	else if (!to)
		r = err_make(e, ENOENT,
			     "Deployment \"%s\": unable to find specified revision %" PRId64
			     " in history",
			     name, rev);
	else if (api_revision(to->obj) == cur)
		r = cur; /* kubectl: "skipped rollback (current template already matches)" */
	else
		r = rollback_to(a, ns, name, to, e);
	sobj_list_free(rss, n);
	sobj_unref(dep);
	return r;
}
