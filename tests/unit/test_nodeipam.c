/*
 * test_nodeipam.c - the node IPAM controller against a real store and API
 * in a temporary dir, on a small range (10.90.0.0/22 cut in four /24s):
 * allocation order, a registered podCIDR kept, one outside the range or
 * overlapping another node's warned about and never handed out again,
 * exhaustion (CIDRNotAvailable) and retry when a node goes, reuse after a
 * delete, the allocator rebuilt at restart, hollow nodes skipped, podCIDR
 * immutable, and the options checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/controllers/nodeipam.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

#define RANGE "10.90.0.0/22"

static struct nodeipam *start(void)
{
	struct nodeipam_opts o = {RANGE, 24};
	struct nodeipam *n = NULL;
	struct err *e = NULL;
	CHECK(nodeipam_start(api, &o, &n, &e) == 0);
	if (e)
		fprintf(stderr, "  nodeipam_start: %s\n", e->msg);
	err_free(e);
	return n;
}

/* Creates Node name with podCIDR cidr (NULL: none); hollow labels it so. */
static void make_node(const char *name, const char *cidr, bool hollow)
{
	json_t *n = json_pack("{s:s, s:s, s:{s:s, s:{}}, s:{}}", "apiVersion", "v1", "kind", "Node",
			      "metadata", "name", name, "labels", "spec");
	if (cidr) {
		json_object_set_new(json_object_get(n, "spec"), "podCIDR", json_string(cidr));
		json_object_set_new(json_object_get(n, "spec"), "podCIDRs", json_pack("[s]", cidr));
	}
	if (hollow)
		json_object_set_new(obj_at(n, "metadata.labels"), "type", json_string("hollow"));
	struct err *e = NULL;
	CHECK(api_create(api, n, NULL, &e) == 0);
	if (e)
		fprintf(stderr, "  make_node %s: %s\n", name, e->msg);
	err_free(e);
	json_decref(n);
}

/* The node's podCIDR ("" when none, "-" when no node). */
static const char *cidr_of(const char *name)
{
	static char buf[32];
	struct sobj *o = api_get(api, K("Node"), NULL, name);
	const char *c = o ? obj_str(o->obj, "spec.podCIDR") : "-";
	snprintf(buf, sizeof(buf), "%s", c ? c : "");
	const json_t *l = o ? obj_at(o->obj, "spec.podCIDRs") : NULL;
	if (o && c &&
	    (json_array_size(l) != 1 ||
	     !json_equal(json_array_get(l, 0), obj_at(o->obj, "spec.podCIDR"))))
		snprintf(buf, sizeof(buf), "podCIDRs differ");
	sobj_unref(o);
	return buf;
}

static bool has_cidr(const char *name, const char *want)
{
	return !strcmp(cidr_of(name), want);
}

/* How many Events with reason about node name there are (their counts summed). */
static int events(const char *reason, const char *name)
{
	api_flush_events(api);
	struct sobj **v;
	int n = api_list(api, K("Event"), NULL, NULL, &v, NULL), found = 0;
	for (int i = 0; i < n; i++) {
		const char *r = obj_str(v[i]->obj, "reason"),
			   *who = obj_str(v[i]->obj, "involvedObject.name");
		if (r && who && !strcmp(r, reason) && !strcmp(who, name))
			found++;
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return found;
}

static void del_node(const char *name)
{
	CHECK(api_delete(api, K("Node"), NULL, name, NULL) >= 0);
}

static void test_allocate_and_reuse(void)
{
	env_up("nodeipam");
	struct nodeipam *n = start();
	/* in order, lowest first */
	make_node("a", NULL, false);
	CHECK(WAIT_FOR(has_cidr("a", "10.90.0.0/24"), 2000));
	make_node("b", NULL, false);
	CHECK(WAIT_FOR(has_cidr("b", "10.90.1.0/24"), 2000));
	/* a registered one in the range and free: kept, and skipped over */
	make_node("r", "10.90.2.0/24", false);
	make_node("c", NULL, false);
	CHECK(WAIT_FOR(has_cidr("c", "10.90.3.0/24"), 2000));
	CHECK(has_cidr("r", "10.90.2.0/24") && events("PodCIDROverlap", "r") == 0);
	/* hollow nodes get none */
	make_node("hollow-1", NULL, true);
	/* full: CIDRNotAvailable, then the subnet of a deleted node */
	make_node("d", NULL, false);
	CHECK(WAIT_FOR(events("CIDRNotAvailable", "d") == 1, 2000));
	CHECK(has_cidr("d", ""));
	del_node("b");
	CHECK(WAIT_FOR(has_cidr("d", "10.90.1.0/24"), 2000));
	CHECK(has_cidr("hollow-1", ""));
	CHECK(events("CIDRNotAvailable", "hollow-1") == 0);
	nodeipam_stop(n);
	env_down();
}

static void test_registered_conflicts(void)
{
	env_up("nodeipam");
	struct nodeipam *n = start();
	make_node("a", NULL, false);
	CHECK(WAIT_FOR(has_cidr("a", "10.90.0.0/24"), 2000));
	/* outside the range: kept, warned about */
	make_node("out", "10.1.0.0/24", false);
	CHECK(WAIT_FOR(events("PodCIDROutOfRange", "out") == 1, 2000));
	CHECK(has_cidr("out", "10.1.0.0/24"));
	/* a's: warned about; the subnet stays taken while either holds it */
	make_node("twin", "10.90.0.0/24", false);
	CHECK(WAIT_FOR(events("PodCIDROverlap", "twin") == 1, 2000));
	/* a /23 covering two subnets, one of them twin's */
	make_node("wide", "10.90.0.0/23", false);
	CHECK(WAIT_FOR(events("PodCIDROverlap", "wide") == 1, 2000));
	make_node("b", NULL, false);
	CHECK(WAIT_FOR(has_cidr("b", "10.90.2.0/24"), 2000));
	del_node("a");
	del_node("twin");
	make_node("c", NULL, false);
	CHECK(WAIT_FOR(has_cidr("c", "10.90.3.0/24"), 2000));
	make_node("d", NULL, false); /* wide still holds .0 and .1 */
	CHECK(WAIT_FOR(events("CIDRNotAvailable", "d") == 1, 2000));
	del_node("wide");
	CHECK(WAIT_FOR(has_cidr("d", "10.90.0.0/24"), 2000));
	nodeipam_stop(n);
	env_down();
}

/* The used set comes from the store: nodes made, given subnets and
 * deleted while no controller ran are seen at the next start. */
static void test_restart_rebuild(void)
{
	env_up("nodeipam");
	struct nodeipam *n = start();
	make_node("a", NULL, false);
	make_node("b", NULL, false);
	make_node("c", NULL, false);
	CHECK(WAIT_FOR(has_cidr("c", "10.90.2.0/24"), 2000));
	CHECK(has_cidr("a", "10.90.0.0/24") && has_cidr("b", "10.90.1.0/24"));
	nodeipam_stop(n);
	del_node("a");
	make_node("d", NULL, false);
	make_node("e", NULL, false);
	make_node("f", NULL, false);
	n = start();
	CHECK(WAIT_FOR(!has_cidr("d", "") && !has_cidr("e", "") && events("CIDRNotAvailable", "f"),
		       2000));
	/* d and e took .0 and .3 between them; b and c kept theirs */
	const char *want[] = {"10.90.0.0/24", "10.90.3.0/24"};
	char d[32];
	snprintf(d, sizeof(d), "%s", cidr_of("d"));
	CHECK((!strcmp(d, want[0]) && has_cidr("e", want[1])) ||
	      (!strcmp(d, want[1]) && has_cidr("e", want[0])));
	CHECK(has_cidr("b", "10.90.1.0/24") && has_cidr("c", "10.90.2.0/24") && has_cidr("f", ""));
	nodeipam_stop(n);
	env_down();
}

/* A node registered with spec.podCIDRs only: that one is its podCIDR. */
static void test_podcidrs_only(void)
{
	env_up("nodeipam");
	json_t *n = json_pack("{s:s, s:s, s:{s:s}, s:{s:[s]}}", "apiVersion", "v1", "kind", "Node",
			      "metadata", "name", "lst", "spec", "podCIDRs", "10.90.0.0/24");
	CHECK(api_create(api, n, NULL, NULL) == 0);
	json_decref(n);
	struct nodeipam *ip = start();
	make_node("a", NULL, false);
	CHECK(WAIT_FOR(has_cidr("a", "10.90.1.0/24"), 2000));
	usleep(100 * 1000);
	struct sobj *o = api_get(api, K("Node"), NULL, "lst");
	CHECK(o && !obj_str(o->obj, "spec.podCIDR"));
	sobj_unref(o);
	nodeipam_stop(ip);
	env_down();
}

/* An api_mutate_fn: sets spec.podCIDR to arg. */
static int change_cidr(json_t *node, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(node, "spec"), "podCIDR", json_string(arg));
	json_object_set_new(json_object_get(node, "spec"), "podCIDRs", json_pack("[s]", arg));
	return 0;
}

static void test_immutable(void)
{
	env_up("nodeipam");
	make_node("a", "10.90.0.0/24", false);
	struct err *e = NULL;
	CHECK(api_patch(api, K("Node"), NULL, "a", change_cidr, "10.90.1.0/24", &e) < 0);
	CHECK(e && strstr(e->msg, "spec.podCIDR") &&
	      strstr(e->msg, "may not change podCIDR except from \"\" to valid"));
	err_free(e);
	/* a whole manifest without it keeps it, as with a Service's clusterIP */
	json_t *doc = json_pack("{s:s, s:s, s:{s:s}, s:{s:b}}", "apiVersion", "v1", "kind", "Node",
				"metadata", "name", "a", "spec", "unschedulable", 1);
	e = NULL;
	CHECK(api_apply(api, &doc, 1, NULL, &e) >= 0);
	err_free(e);
	json_decref(doc);
	CHECK(has_cidr("a", "10.90.0.0/24"));
	/* from none to one is fine */
	make_node("b", NULL, false);
	CHECK(api_patch(api, K("Node"), NULL, "b", change_cidr, "10.90.1.0/24", NULL) >= 0);
	env_down();
}

static void test_opts(void)
{
	struct {
		const char *cidr;
		int mask;
		int ok;
		const char *msg;
	} cases[] = {
	    {NULL, 0, 1, NULL},
	    {"10.244.0.0/16", 24, 1, NULL},
	    {"10.0.0.0/8", 24, 1, NULL},
	    {"10.0.0.0/8", 25, 0, "at most 24"},
	    {"10.88.0.0/16", 16, 0, "--node-cidr-mask-size 16: must be longer"},
	    {"10.88.0.0/16", 31, 0, "at most 30"},
	    {"10.88.0.0", 24, 0, "--cluster-cidr \"10.88.0.0\""},
	    {"fd00::/64", 24, 0, "want an IPv4"},
	    {"10.88.0.0/33", 24, 0, "want an IPv4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nodeipam_opts o = {cases[i].cidr, cases[i].mask};
		struct err *e = NULL;
		int r = nodeipam_check_opts(&o, &e);
		bool good =
		    cases[i].ok ? r == 0 : r == -EINVAL && e && strstr(e->msg, cases[i].msg);
		if (!good)
			fprintf(stderr, "  case %zu: %d %s\n", i, r, e ? e->msg : "");
		CHECK(good);
		err_free(e);
	}
	CHECK(nodeipam_cidr_within("10.88.3.0/24", "10.88.0.0/16"));
	CHECK(nodeipam_cidr_within("10.88.0.0/16", "10.88.0.0/16"));
	CHECK(!nodeipam_cidr_within("10.87.0.0/16", "10.88.0.0/16"));
	CHECK(!nodeipam_cidr_within("10.0.0.0/8", "10.88.0.0/16"));
	CHECK(!nodeipam_cidr_within("bad", "10.88.0.0/16"));
}

int main(void)
{
	RUN(test_allocate_and_reuse);
	RUN(test_registered_conflicts);
	RUN(test_restart_rebuild);
	RUN(test_podcidrs_only);
	RUN(test_immutable);
	RUN(test_opts);
	return unit_done();
}
