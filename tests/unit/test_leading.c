/*
 * test_leading.c - the leader's loops (engine/controllers/leading.h)
 * started and stopped again and again in one process, against a real
 * store and API in a temporary dir: a Deployment scaled while they are
 * stopped is caught up when they start again, and nothing is duplicated.
 * Also the leader's name the API keeps for /cluster/status.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/controllers/leading.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/sched/sched.h"
#include "engine/store/store.h"
#include "engine/valid/codec.h"
#include "tests/unit/apply.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/cfs-test-leading.XXXXXX";
static struct store *st;
static struct api *api;
static int extra_up, extra_starts;

static int extra_start(struct api *a, void **h, struct err **e)
{
	struct sched *s = NULL;
	int r = sched_start(a, &s, e);
	*h = s;
	if (r == 0) {
		extra_up++;
		extra_starts++;
	}
	return r;
}

static void extra_stop(void *h)
{
	sched_stop(h);
	extra_up--;
}

static int count(const char *kind)
{
	struct sobj **v;
	int n = api_list(api, kind_by_kind(kind), "default", NULL, &v, NULL);
	int c = 0;
	for (int i = 0; i < n; i++)
		c += !pod_is_terminating(v[i]->obj);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return c;
}

static bool wait_pods(int want, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (count("Pod") == want)
			return true;
		usleep(20000);
	}
	return count("Pod") == want;
}

static void web(int replicas)
{
	char *y = xasprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
			    "spec:\n  replicas: %d\n  selector: {matchLabels: {app: web}}\n"
			    "  template:\n    metadata: {labels: {app: web}}\n"
			    "    spec: {containers: [{name: c, image: 'busybox:1.36'}]}\n",
			    replicas);
	CHECK(apply_yaml(api, y) >= 0);
	free(y);
}

static void test_start_stop_again(void)
{
	struct leading_opts o = {.api = api, .extra_start = extra_start, .extra_stop = extra_stop};
	struct leading *l = NULL;
	struct err *e = NULL;
	CHECK(leading_new(&o, &l, &e) == 0);
	CHECK(!leading_running(l));
	CHECK(leading_start(l, &e) == 0);
	CHECK(leading_start(l, &e) == 0); /* already: nothing */
	CHECK(leading_running(l) && leading_starts(l) == 1 && extra_up == 1);
	web(3);
	CHECK(wait_pods(3, 10000));

	leading_stop(l);
	leading_stop(l); /* already: nothing */
	CHECK(!leading_running(l) && extra_up == 0);
	web(5);
	usleep(500000);
	CHECK(count("Pod") == 3); /* nobody leads: nothing happens */

	for (int i = 0; i < 5; i++) { /* quickly, over and over */
		CHECK(leading_start(l, &e) == 0);
		leading_stop(l);
	}
	CHECK(leading_start(l, &e) == 0);
	CHECK(wait_pods(5, 10000));
	CHECK(count("ReplicaSet") == 1);
	CHECK(leading_starts(l) == 7 && extra_starts == 7 && extra_up == 1);
	usleep(300000);
	CHECK(count("Pod") == 5 && count("ReplicaSet") == 1);
	leading_free(l);
	CHECK(extra_up == 0);
	err_free(e);
}

static void test_bad_opts(void)
{
	struct leading_opts o = {.api = api, .nodeipam = {"10.0.0.0/33", 0}};
	struct leading *l = NULL;
	struct err *e = NULL;
	CHECK(leading_new(&o, &l, &e) < 0 && e && !l);
	err_free(e);
}

static void test_leader_name(void)
{
	CHECK(api_leader(api) == NULL);
	uint64_t s0 = api_leader_seq(api);
	api_set_leader(api, "a");
	char *n = api_leader(api);
	CHECK(n && !strcmp(n, "a") && api_leader_seq(api) == s0 + 1);
	free(n);
	api_set_leader(api, "a");
	CHECK(api_leader_seq(api) == s0 + 1); /* unchanged */
	api_set_leader(api, NULL);
	CHECK(api_leader(api) == NULL && api_leader_seq(api) == s0 + 2);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char *db = xasprintf("%s/state.db", dir);
	struct err *e = NULL;
	if (store_open(db, &st, &e) < 0 || api_new(st, &api, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_start_stop_again);
	RUN(test_bad_opts);
	RUN(test_leader_name);
	store_wake_watchers(st);
	api_free(api);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(db);
	return unit_done();
}
