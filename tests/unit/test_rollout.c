/*
 * test_rollout.c - rollouts: the step arithmetic of rollout.h with made-up
 * ReplicaSet states, then the Deployment controller rolling, rolling back,
 * recreating, pausing and stalling on a real store and API with the
 * ReplicaSet controller, the scheduler and three hollow nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/valid/codec.h"
#include "engine/controllers/deployctl.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/controllers/rollout.h"
#include "engine/controllers/rsctl.h"
#include "engine/sched/sched.h"
#include "fs/view_deploy.h"
#include "runtime/hollow/hollow.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

/* The arithmetic */

static struct rollout_params params(const char *surge, const char *unavail, int64_t replicas)
{
	struct rollout_params p = {0};
	json_t *s =
	    surge[strlen(surge) - 1] == '%' ? json_string(surge) : json_integer(atoi(surge));
	json_t *u = unavail[strlen(unavail) - 1] == '%' ? json_string(unavail)
							: json_integer(atoi(unavail));
	if (rollout_resolve(s, u, replicas, &p, NULL) < 0)
		p.replicas = -1;
	json_decref(s);
	json_decref(u);
	return p;
}

static void test_resolve(void)
{
	struct rollout_params p = params("25%", "25%", 10);
	CHECK(p.max_surge == 3 && p.max_unavailable == 2); /* 2.5 up, 2.5 down */
	p = params("25%", "25%", 3);
	CHECK(p.max_surge == 1 && p.max_unavailable == 0);
	p = params("25%", "25%", 1); /* 0.25 up = 1, down = 0 */
	CHECK(p.max_surge == 1 && p.max_unavailable == 0);
	p = params("0%", "10%", 5); /* both round to 0: unavailable becomes 1 */
	CHECK(p.max_surge == 0 && p.max_unavailable == 1);
	p = params("0", "0", 4);
	CHECK(p.max_surge == 0 && p.max_unavailable == 1);
	p = params("1", "0", 10);
	CHECK(p.max_surge == 1 && p.max_unavailable == 0);
	p = params("50%", "100%", 3);
	CHECK(p.max_surge == 2 && p.max_unavailable == 3);
	p = params("2", "7", 3); /* unavailable at most replicas */
	CHECK(p.max_surge == 2 && p.max_unavailable == 3);
	p = params("0", "0", 0);
	CHECK(p.max_unavailable == 0);
	struct rollout_params q;
	json_t *bad = json_string("ten%");
	struct err *e = NULL;
	CHECK(rollout_resolve(bad, NULL, 10, &q, &e) == -EINVAL && e);
	err_free(e);
	json_decref(bad);
	CHECK(rollout_resolve(NULL, NULL, 8, &q, NULL) == 0 && q.max_surge == 2 &&
	      q.max_unavailable == 2); /* the 25% defaults */
}

static struct rollout_rs rs(int64_t rev, int64_t spec, int64_t actual, int64_t avail)
{
	struct rollout_rs r = {rev, rev, spec, actual, avail, true, spec, NULL};
	return r;
}

static void test_new_replicas(void)
{
	struct rollout_params p = params("1", "0", 10);
	struct rollout_rs nw = rs(2, 0, 0, 0), old = rs(1, 10, 10, 10);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 1);
	nw = rs(2, 1, 1, 0);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 1); /* at 11: no more */
	old = rs(1, 9, 10, 10);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 1); /* old pod still there */
	old = rs(1, 9, 9, 9);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 2);
	p = params("25%", "25%", 10);
	nw = rs(2, 0, 0, 0);
	old = rs(1, 10, 10, 10);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 3);
	old = rs(1, 2, 2, 2);
	nw = rs(2, 8, 8, 8);
	CHECK(rollout_new_replicas(&p, &nw, &old, 1) == 10); /* never above replicas */
}

static void test_cleanup_unhealthy(void)
{
	struct rollout_rs old[2] = {rs(1, 5, 5, 2), rs(2, 3, 3, 3)};
	CHECK(rollout_cleanup_unhealthy(old, 2, 2) == 2);
	CHECK(old[0].to == 3 && old[1].to == 3);
	old[0] = rs(1, 5, 5, 2);
	old[1] = rs(2, 3, 3, 1);
	CHECK(rollout_cleanup_unhealthy(old, 2, 10) == 5);
	CHECK(old[0].to == 2 && old[1].to == 1);
}

/* A stuck old ReplicaSet's unready pods go first, within maxScaledDown. */
static void test_step_unhealthy_old(void)
{
	struct rollout_params p = params("1", "1", 4);
	struct rollout_rs nw = rs(2, 1, 1, 0), old = rs(1, 4, 4, 2);
	CHECK(rollout_rolling_step(&p, &nw, &old, 1) == 1);
	CHECK(nw.to == 1 && old.to == 3); /* 1 unhealthy cleaned; available 2 < 3: no more */
}

/*
 * A world where pods start at once: after each step the ReplicaSets reach
 * their sizes, and new pods become available only when avail_new is true.
 * Returns the steps taken; checks the bounds at every step.
 */
static int simulate(struct rollout_params *p, struct rollout_rs *nw, struct rollout_rs *old,
		    size_t nold, bool avail_new, int64_t *max_pods, int64_t *min_avail)
{
	int steps = 0;
	*max_pods = 0;
	*min_avail = INT64_MAX;
	for (; steps < 100; steps++) {
		if (rollout_rolling_step(p, nw, old, nold) == 0)
			break;
		/* The world catches up: down first (deletes), then up. */
		int64_t pods = 0, avail = 0;
		for (size_t i = 0; i < nold; i++) {
			old[i].replicas = old[i].to;
			if (old[i].actual > old[i].to)
				old[i].actual = old[i].to;
			if (old[i].available > old[i].to)
				old[i].available = old[i].to;
			pods += old[i].actual;
			avail += old[i].available;
		}
		nw->replicas = nw->to;
		nw->actual = nw->to;
		nw->available = avail_new ? nw->to : 0;
		pods += nw->actual;
		avail += nw->available;
		if (pods > *max_pods)
			*max_pods = pods;
		if (avail < *min_avail)
			*min_avail = avail;
	}
	return steps;
}

static void test_rolling_sequence(void)
{
	struct rollout_params p = params("1", "0", 10);
	struct rollout_rs nw = rs(2, 0, 0, 0), old = rs(1, 10, 10, 10);
	int64_t max_pods, min_avail;
	int steps = simulate(&p, &nw, &old, 1, true, &max_pods, &min_avail);
	CHECK(nw.replicas == 10 && old.replicas == 0);
	CHECK(max_pods <= 11 && min_avail >= 10);
	CHECK(steps == 20); /* one up, one down, ten times */
	printf("  maxSurge 1, maxUnavailable 0, 10 replicas: %d steps, at most %lld pods, "
	       "at least %lld available\n",
	       steps, (long long)max_pods, (long long)min_avail);

	p = params("25%", "25%", 10);
	nw = rs(2, 0, 0, 0);
	old = rs(1, 10, 10, 10);
	steps = simulate(&p, &nw, &old, 1, true, &max_pods, &min_avail);
	CHECK(nw.replicas == 10 && old.replicas == 0);
	CHECK(max_pods <= 13 && min_avail >= 8);
	printf("  25%%/25%%, 10 replicas: %d steps, at most %lld pods, at least %lld available\n",
	       steps, (long long)max_pods, (long long)min_avail);

	/* Two old ReplicaSets (a rollout over a rollout): the oldest shrinks first. */
	p = params("0", "2", 6);
	struct rollout_rs olds[2] = {rs(1, 3, 3, 3), rs(2, 3, 3, 3)};
	nw = rs(3, 0, 0, 0);
	CHECK(rollout_rolling_step(&p, &nw, olds, 2) == 1);
	CHECK(olds[0].to == 1 && olds[1].to == 3 && nw.to == 0);
	simulate(&p, &nw, olds, 2, true, &max_pods, &min_avail);
	CHECK(nw.replicas == 6 && olds[0].replicas == 0 && olds[1].replicas == 0);
	CHECK(max_pods <= 6 && min_avail >= 4);
}

/* New pods that never become available: progress stops, availability holds. */
static void test_rolling_stall(void)
{
	struct rollout_params p = params("25%", "25%", 4); /* surge 1, unavailable 1 */
	struct rollout_rs nw = rs(2, 0, 0, 0), old = rs(1, 4, 4, 4);
	int64_t max_pods, min_avail;
	int steps = simulate(&p, &nw, &old, 1, false, &max_pods, &min_avail);
	CHECK(steps < 100); /* it stops */
	CHECK(nw.replicas == 2 && old.replicas == 3);
	CHECK(max_pods <= 5 && min_avail >= 3);
	/* Scaling down while stuck: the new ReplicaSet shrinks first. */
	p = params("25%", "25%", 2);
	CHECK(rollout_rolling_step(&p, &nw, &old, 1) == 1 && nw.to == 2);
}

static void test_scale_only(void)
{
	struct rollout_params p = params("25%", "25%", 9);
	struct rollout_rs nw = rs(1, 6, 6, 6);
	CHECK(rollout_rolling_step(&p, &nw, NULL, 0) == 1 && nw.to == 9);
	p = params("25%", "25%", 2);
	nw = rs(1, 9, 9, 9);
	CHECK(rollout_rolling_step(&p, &nw, NULL, 0) == 1 && nw.to == 2);
	nw = rs(1, 2, 2, 2);
	CHECK(rollout_rolling_step(&p, &nw, NULL, 0) == 0);
}

static void test_recreate(void)
{
	struct rollout_params p = {3, 0, 0};
	struct rollout_rs nw = {0}, old[2] = {rs(1, 3, 3, 3), rs(2, 0, 0, 0)};
	CHECK(rollout_recreate_step(&p, &nw, old, 2, true) == ROLLOUT_SCALE_DOWN_OLD);
	CHECK(old[0].to == 0 && old[1].to == 0);
	old[0] = rs(1, 0, 0, 0);
	CHECK(rollout_recreate_step(&p, &nw, old, 2, true) == ROLLOUT_WAIT_OLD_PODS);
	CHECK(nw.to == 0);
	CHECK(rollout_recreate_step(&p, &nw, old, 2, false) == ROLLOUT_SCALE_UP_NEW);
	CHECK(nw.to == 3);
	nw = rs(3, 3, 3, 3);
	CHECK(rollout_recreate_step(&p, &nw, old, 2, false) == ROLLOUT_DONE);
}

static void test_prune(void)
{
	struct rollout_rs old[5] = {rs(4, 0, 0, 0), rs(1, 0, 0, 0), rs(5, 0, 0, 0), rs(2, 0, 0, 0),
				    rs(3, 0, 0, 0)};
	size_t del[5];
	CHECK(rollout_prune(old, 5, 2, del) == 3);
	CHECK(old[del[0]].revision == 1 && old[del[1]].revision == 2 && old[del[2]].revision == 3);
	old[3].actual = 1; /* revision 2 still has a pod: spared, not replaced */
	CHECK(rollout_prune(old, 5, 2, del) == 2);
	CHECK(old[del[0]].revision == 1 && old[del[1]].revision == 3);
	CHECK(rollout_prune(old, 5, 5, del) == 0);
	CHECK(rollout_prune(old, 5, 10, del) == 0);
	old[3].actual = 0;
	CHECK(rollout_prune(old, 5, 0, del) == 5);
}

/* The lines of deployments/NAME/rollout, as kubectl rollout status prints them. */
static enum vd_rollout line_of(const char *status, int64_t gen, char *out, size_t cap)
{
	json_t *d = json_pack("{s:{s:s, s:I}, s:{s:i}}", "metadata", "name", "web", "generation",
			      (json_int_t)gen, "spec", "replicas", 4);
	json_t *st = json_loads(status, 0, NULL);
	json_object_set_new(d, "status", st ? st : json_object());
	struct buf b = {0};
	enum vd_rollout r = vd_rollout_line(d, &b);
	snprintf(out, cap, "%s", b.s ? b.s : "");
	buf_free(&b);
	json_decref(d);
	return r;
}

static void test_rollout_lines(void)
{
	char l[300];
	CHECK(line_of("{\"observedGeneration\": 1}", 2, l, sizeof(l)) == VD_ROLLING);
	CHECK(!strcmp(l, "Waiting for deployment spec update to be observed...\n"));
	CHECK(line_of("{\"observedGeneration\": 2, \"replicas\": 5, \"updatedReplicas\": 1}", 2, l,
		      sizeof(l)) == VD_ROLLING);
	CHECK(!strcmp(l, "Waiting for deployment \"web\" rollout to finish: 1 out of 4 new "
			 "replicas have been updated...\n"));
	CHECK(line_of("{\"observedGeneration\": 2, \"replicas\": 5, \"updatedReplicas\": 4}", 2, l,
		      sizeof(l)) == VD_ROLLING);
	CHECK(!strcmp(l, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are "
			 "pending termination...\n"));
	CHECK(line_of("{\"observedGeneration\": 2, \"replicas\": 4, \"updatedReplicas\": 4, "
		      "\"availableReplicas\": 2}",
		      2, l, sizeof(l)) == VD_ROLLING);
	CHECK(!strcmp(l, "Waiting for deployment \"web\" rollout to finish: 2 of 4 updated "
			 "replicas are available...\n"));
	CHECK(line_of("{\"observedGeneration\": 2, \"replicas\": 4, \"updatedReplicas\": 4, "
		      "\"availableReplicas\": 4}",
		      2, l, sizeof(l)) == VD_DONE);
	CHECK(!strcmp(l, "deployment \"web\" successfully rolled out\n"));
	CHECK(line_of("{\"observedGeneration\": 2, \"replicas\": 5, \"updatedReplicas\": 2, "
		      "\"conditions\": [{\"type\": \"Progressing\", \"status\": \"False\", "
		      "\"reason\": \"ProgressDeadlineExceeded\"}]}",
		      2, l, sizeof(l)) == VD_FAILED);
	CHECK(!strcmp(l, "error: deployment \"web\" exceeded its progress deadline\n"));
}

/* The controller with hollow nodes */

static struct deployctl *dc;
static struct rsctl *rc;
static struct sched *sc;
static struct hollow *hw;

/* Pods of the Deployment NAME: live ones, ready live ones, and, for
 * owner (a ReplicaSet name, or NULL), live ones owned by it; all pods
 * (terminating too) of owner into *any_of_owner. */
struct census {
	int live, ready, of_owner, any_of_owner;
};

static struct census census(const char *app, const char *owner)
{
	struct census c = {0};
	char sel[64];
	snprintf(sel, sizeof(sel), "app=%s", app);
	struct sobj **v;
	int n = api_list(api, K("Pod"), "default", sel, &v, NULL);
	for (int i = 0; i < n; i++) {
		const char *o = obj_str(obj_controller_ref(v[i]->obj), "name");
		bool mine = owner && o && !strcmp(o, owner);
		c.any_of_owner += mine;
		if (pod_is_terminating(v[i]->obj))
			continue;
		c.live++;
		c.ready += pod_is_ready(v[i]->obj);
		c.of_owner += mine;
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return c;
}

static int64_t revision(const char *kind, const char *name)
{
	struct sobj *o = api_get(api, K(kind), "default", name);
	int64_t r = o ? api_revision(o->obj) : -1;
	sobj_unref(o);
	return r;
}

/* The name of the ReplicaSet of app at revision rev, or NULL. */
static char *rs_of_revision(const char *app, int64_t rev)
{
	char sel[64];
	snprintf(sel, sizeof(sel), "app=%s", app);
	struct sobj **v;
	int n = api_list(api, K("ReplicaSet"), "default", sel, &v, NULL);
	char *r = NULL;
	for (int i = 0; i < n; i++)
		if (api_revision(v[i]->obj) == rev)
			r = xstrdup(v[i]->name);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return r;
}

static bool deploy_done(const char *name, int64_t replicas, int64_t rev)
{
	struct sobj *d = api_get(api, K("Deployment"), "default", name);
	bool ok = d && api_revision(d->obj) == rev &&
		  obj_int(d->obj, "status.updatedReplicas", -1) == replicas &&
		  obj_int(d->obj, "status.replicas", -1) == replicas &&
		  obj_int(d->obj, "status.availableReplicas", -1) == replicas;
	if (ok) {
		const char *r = obj_str(obj_condition(d->obj, "Progressing"), "reason");
		ok = r && !strcmp(r, "NewReplicaSetAvailable");
	}
	sobj_unref(d);
	return ok && census(name, NULL).live == replicas;
}

static char *manifest(const char *name, int replicas, const char *image, const char *extra,
		      const char *tmeta_extra)
{
	return xasprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s}\n"
			 "spec:\n  replicas: %d\n%s  selector: {matchLabels: {app: %s}}\n"
			 "  template:\n    metadata: {labels: {app: %s}%s}\n"
			 "    spec: {containers: [{name: c, image: '%s'}]}\n",
			 name, replicas, extra, name, name, tmeta_extra, image);
}

static void test_ctl_rolling_update(void)
{
	const char *strat = "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, "
			    "maxUnavailable: 0}}\n";
	char *v1 = manifest("web", 10, "busybox:1.36", strat, "");
	CHECK(env_apply(v1) == 1);
	CHECK(WAIT_FOR(deploy_done("web", 10, 1), 20000));
	char *rs1 = rs_of_revision("web", 1);
	char *v2 = manifest("web", 10, "busybox:1.37", strat, "");
	CHECK(env_apply(v2) == 1);
	/* Sample while it rolls. */
	int max_live = 0, min_ready = 1 << 30, samples = 0;
	for (int i = 0; i < 3000 && !deploy_done("web", 10, 2); i++, samples++) {
		struct census c = census("web", NULL);
		if (c.live > max_live)
			max_live = c.live;
		if (c.ready < min_ready)
			min_ready = c.ready;
		usleep(5000);
	}
	CHECK(deploy_done("web", 10, 2));
	printf("  10 replicas, maxSurge 1, maxUnavailable 0: %d samples, at most %d live pods, "
	       "at least %d ready\n",
	       samples, max_live, min_ready);
	CHECK(samples > 5);
	CHECK(max_live <= 11);
	CHECK(min_ready >= 10);
	char *rs2 = rs_of_revision("web", 2);
	CHECK(rs2 && census("web", rs2).live == 10 && census("web", rs2).of_owner == 10);
	CHECK(rs1 && census("web", rs1).live == 10 && census("web", rs1).of_owner == 0);
	/* Both ReplicaSets are kept: the old one at 0. */
	struct sobj *o = rs1 ? api_get(api, K("ReplicaSet"), "default", rs1) : NULL;
	CHECK(o && obj_int(o->obj, "spec.replicas", -1) == 0);
	sobj_unref(o);

	/* Rollback to revision 1: revision 3, the old ReplicaSet again. */
	struct err *e = NULL;
	CHECK(api_deployment_rollback(api, "default", "web", 1, &e) == 1);
	CHECK(WAIT_FOR(deploy_done("web", 10, 3), 20000));
	char *rs3 = rs_of_revision("web", 3);
	CHECK(rs3 && rs1 && !strcmp(rs3, rs1));
	CHECK(rs1 && census("web", rs1).of_owner == 10);
	struct sobj *d = api_get(api, K("Deployment"), "default", "web");
	json_t *c0 = json_array_get(obj_at(d->obj, "spec.template.spec.containers"), 0);
	CHECK(c0 && !strcmp(obj_str(c0, "image"), "busybox:1.36"));
	CHECK(json_object_get(obj_at(d->obj, "spec.template.metadata.labels"),
			      "pod-template-hash") == NULL);
	sobj_unref(d);
	/* An unknown revision is refused. */
	CHECK(api_deployment_rollback(api, "default", "web", 9, &e) == -ENOENT && e);
	err_free(e);
	e = NULL;
	/* Empty: the previous revision (2). */
	CHECK(api_deployment_rollback(api, "default", "web", 0, &e) == 2);
	CHECK(WAIT_FOR(deploy_done("web", 10, 4), 20000));
	char *rs4 = rs_of_revision("web", 4);
	CHECK(rs4 && rs2 && !strcmp(rs4, rs2));
	/* To the current revision: nothing to do. */
	struct sobj *before = api_get(api, K("Deployment"), "default", "web");
	CHECK(api_deployment_rollback(api, "default", "web", 4, NULL) == 4);
	struct sobj *after = api_get(api, K("Deployment"), "default", "web");
	CHECK(before && after &&
	      json_equal(obj_at(before->obj, "spec"), obj_at(after->obj, "spec")) &&
	      obj_int(before->obj, "metadata.generation", 0) ==
		  obj_int(after->obj, "metadata.generation", 0));
	sobj_unref(before);
	sobj_unref(after);
	CHECK(api_delete(api, K("Deployment"), "default", "web", NULL) > 0);
	free(v1);
	free(v2);
	free(rs1);
	free(rs2);
	free(rs3);
	free(rs4);
}

static void test_ctl_recreate(void)
{
	const char *strat = "  strategy: {type: Recreate}\n";
	char *v1 = manifest("rec", 4, "busybox:1.36", strat, "");
	CHECK(env_apply(v1) == 1);
	CHECK(WAIT_FOR(deploy_done("rec", 4, 1), 20000));
	char *rs1 = rs_of_revision("rec", 1);
	char *v2 = manifest("rec", 4, "busybox:1.37", strat, "");
	CHECK(env_apply(v2) == 1);
	bool overlap = false;
	int samples = 0;
	for (int i = 0; i < 3000 && !deploy_done("rec", 4, 2); i++, samples++) {
		struct census c = census("rec", rs1);
		/* any pod not of rs1 while a pod of rs1 exists (even terminating) */
		struct sobj **v;
		int n = api_list(api, K("Pod"), "default", "app=rec", &v, NULL);
		int others = n - c.any_of_owner;
		overlap |= c.any_of_owner > 0 && others > 0;
		if (n > 0)
			sobj_list_free(v, (size_t)n);
		usleep(2000);
	}
	CHECK(deploy_done("rec", 4, 2));
	CHECK(!overlap);
	printf("  Recreate: %d samples, old and new pods never together\n", samples);
	CHECK(api_delete(api, K("Deployment"), "default", "rec", NULL) > 0);
	free(v1);
	free(v2);
	free(rs1);
}

static int set_paused(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(obj, "spec"), "paused", json_boolean(*(bool *)arg));
	return 0;
}

static const char *progressing_reason(const char *name, char out[64])
{
	struct sobj *d = api_get(api, K("Deployment"), "default", name);
	const char *r = d ? obj_str(obj_condition(d->obj, "Progressing"), "reason") : NULL;
	snprintf(out, 64, "%s", r ? r : "-");
	sobj_unref(d);
	return out;
}

static void test_ctl_paused(void)
{
	char *v1 = manifest("pz", 3, "busybox:1.36", "", "");
	CHECK(env_apply(v1) == 1);
	CHECK(WAIT_FOR(deploy_done("pz", 3, 1), 20000));
	bool on = true;
	CHECK(api_patch(api, K("Deployment"), "default", "pz", set_paused, &on, NULL) == 1);
	char r[64];
	CHECK(WAIT_FOR(!strcmp(progressing_reason("pz", r), "DeploymentPaused"), 5000));
	char *v2 = manifest("pz", 3, "busybox:1.37", "  paused: true\n", "");
	CHECK(env_apply(v2) == 1);
	usleep(800000);
	char *rs2 = rs_of_revision("pz", 2);
	CHECK(rs2 == NULL); /* nothing rolled */
	CHECK(revision("Deployment", "pz") == 1);
	on = false;
	CHECK(api_patch(api, K("Deployment"), "default", "pz", set_paused, &on, NULL) == 1);
	CHECK(WAIT_FOR(deploy_done("pz", 3, 2), 20000));
	CHECK(api_delete(api, K("Deployment"), "default", "pz", NULL) > 0);
	free(v1);
	free(v2);
	free(rs2);
}

static void test_ctl_stall(void)
{
	char *v1 = manifest("st", 4, "busybox:1.36", "  progressDeadlineSeconds: 2\n", "");
	CHECK(env_apply(v1) == 1);
	CHECK(WAIT_FOR(deploy_done("st", 4, 1), 20000));
	char *rs1 = rs_of_revision("st", 1);
	char *v2 = manifest("st", 4, "broken:1", "  progressDeadlineSeconds: 2\n",
			    ", annotations: {hollow.clusterfs.io/ready: 'false'}");
	CHECK(env_apply(v2) == 1);
	char r[64];
	int min_ready = 1 << 30;
	for (int i = 0; i < 600 && strcmp(progressing_reason("st", r), "ProgressDeadlineExceeded");
	     i++) {
		struct census c = census("st", NULL);
		if (c.ready < min_ready)
			min_ready = c.ready;
		usleep(10000);
	}
	CHECK(!strcmp(progressing_reason("st", r), "ProgressDeadlineExceeded"));
	struct sobj *d = api_get(api, K("Deployment"), "default", "st");
	if (strcmp(progressing_reason("st", r), "ProgressDeadlineExceeded")) {
		char *y = codec_yaml(obj_at(d->obj, "status"), NULL);
		fprintf(stderr, "%s", y);
		free(y);
	}
	CHECK(d && !strcmp(obj_str(obj_condition(d->obj, "Progressing"), "status"), "False"));
	CHECK(d && !strcmp(obj_str(obj_condition(d->obj, "Available"), "status"), "True"));
	sobj_unref(d);
	struct census c = census("st", rs1);
	printf("  stalled rollout: %d of 4 old pods serve, at least %d ready throughout\n",
	       c.of_owner, min_ready);
	CHECK(c.of_owner == 3 && c.ready == 3 && c.live == 5);
	CHECK(min_ready >= 3);
	CHECK(api_delete(api, K("Deployment"), "default", "st", NULL) > 0);
	free(v1);
	free(v2);
	free(rs1);
}

int main(void)
{
	RUN(test_resolve);
	RUN(test_new_replicas);
	RUN(test_cleanup_unhealthy);
	RUN(test_step_unhealthy_old);
	RUN(test_rolling_sequence);
	RUN(test_rolling_stall);
	RUN(test_scale_only);
	RUN(test_recreate);
	RUN(test_prune);
	RUN(test_rollout_lines);

	env_up("rollout");
	struct err *e = NULL;
	struct hollow_opts ho = {.heartbeat_s = 1, .gather_ms = 2};
	if (deployctl_start(api, &dc, &e) < 0 || rsctl_start(api, &rc, &e) < 0 ||
	    sched_start(api, &sc, &e) < 0 || hollow_start(apic, 3, &ho, &hw, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_ctl_rolling_update);
	RUN(test_ctl_recreate);
	RUN(test_ctl_paused);
	RUN(test_ctl_stall);
	store_wake_watchers(st);
	hollow_stop(hw);
	sched_stop(sc);
	deployctl_stop(dc);
	rsctl_stop(rc);
	env_down();
	return unit_done();
}
