/*
 * test_routes.c - runtime/net/routes.c against the kernel, through the
 * real `ip` and `bridge`.
 *
 * The whole test runs in a network namespace of its own (unshare at the
 * start), which stands for the node: a veth pair holds the node's address
 * 10.220.0.11/24 (its peers 10.220.0.12 and .13 are on that link; nobody
 * answers there, and no packet is sent: only the routing state is
 * checked).  The host's network is never touched.  Traffic between pods
 * of different nodes is tests/e2e/t_routes.sh's.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/mem.h"
#include "runtime/net/routes.h"
#include "tests/unit/unit.h"

#define NODE_IP "10.220.0.11"
#define POD	"10.221.1.0/24"

static const struct routes_peer two[] = {
    {"n2", "10.220.0.12", "10.221.2.0/24"},
    {"n3", "10.220.0.13", "10.221.3.0/24"},
};

/* What a shell command prints, trailing newlines cut (never NULL). */
static char *sh_out(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	struct buf b = {0};
	char chunk[512];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (f)
		pclose(f);
	char *s = b.s ? buf_steal(&b, NULL) : xstrdup("");
	for (size_t len = strlen(s); len && s[len - 1] == '\n'; len--)
		s[len - 1] = '\0';
	return s;
}

static bool out_is(const char *cmd, const char *want)
{
	char *got = sh_out(cmd);
	bool same = !strcmp(got, want);
	if (!same)
		fprintf(stderr, "  %s:\n    got:  %s\n    want: %s\n", cmd, got, want);
	free(got);
	return same;
}

static struct routes *open_mode(enum routes_mode m)
{
	struct routes_opts o = {.mode = m, .node_ip = NODE_IP, .pod_cidr = POD};
	struct routes *r = NULL;
	struct err *e = NULL;
	if (routes_open(&o, &r, &e) < 0) {
		fprintf(stderr, "  routes_open: %s\n", e->msg);
		err_free(e);
	}
	return r;
}

static void test_modes_and_options(void)
{
	enum routes_mode m = ROUTES_VXLAN;
	CHECK(routes_mode_parse("host-gw", &m) == 0 && m == ROUTES_HOST_GW);
	CHECK(routes_mode_parse("vxlan", &m) == 0 && m == ROUTES_VXLAN);
	CHECK(routes_mode_parse("gre", &m) == -EINVAL && m == ROUTES_VXLAN);
	CHECK(!strcmp(routes_mode_name(ROUTES_HOST_GW), "host-gw"));

	const struct routes_opts bad[] = {
	    {.node_ip = "10.220.0", .pod_cidr = POD},
	    {.node_ip = NODE_IP, .pod_cidr = "10.221.1.0"},
	    {.node_ip = NODE_IP, .pod_cidr = "10.221.1.0/33"},
	    {.node_ip = NODE_IP, .pod_cidr = POD, .vxlan_dev = "a/b"},
	    {.node_ip = NODE_IP, .pod_cidr = POD, .vxlan_dev = "sixteen-chars-xx"},
	    {.node_ip = NODE_IP, .pod_cidr = POD, .vxlan_vni = 1 << 24},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct routes *r = NULL;
		struct err *e = NULL;
		CHECK(routes_open(&bad[i], &r, &e) == -EINVAL && !r);
		err_free(e);
	}
	/* vxlan needs a device holding the node IP */
	struct routes_opts o = {.mode = ROUTES_VXLAN, .node_ip = "10.220.0.99", .pod_cidr = POD};
	struct routes *r = NULL;
	struct err *e = NULL;
	CHECK(routes_open(&o, &r, &e) == -ENOENT && !r);
	err_free(e);
}

static void test_host_gw(void)
{
	struct routes *r = open_mode(ROUTES_HOST_GW);
	struct err *e = NULL;
	const char *cmd = "ip route show proto 207";
	if (!r) {
		CHECK(0);
		return;
	}
	CHECK(routes_pod_mtu(r) == 1500);
	CHECK(routes_sync(r, two, 2, &e) == 0);
	CHECK(out_is(cmd, "10.221.2.0/24 via 10.220.0.12 dev veth0 \n"
			  "10.221.3.0/24 via 10.220.0.13 dev veth0 "));
	CHECK(routes_sync(r, two, 2, &e) == 0); /* again: the same */
	CHECK(out_is(cmd, "10.221.2.0/24 via 10.220.0.12 dev veth0 \n"
			  "10.221.3.0/24 via 10.220.0.13 dev veth0 "));

	/* a peer gone; this node, a duplicate CIDR and host bits are skipped */
	const struct routes_peer some[] = {
	    {"n1", NODE_IP, POD},
	    {"n3", "10.220.0.13", "10.221.3.7/24"},
	    {"n3b", "10.220.0.12", "10.221.3.0/24"},
	};
	CHECK(routes_sync(r, some, 3, &e) == 0);
	CHECK(out_is(cmd, "10.221.3.0/24 via 10.220.0.13 dev veth0 "));

	/* changed behind our back: put right */
	CHECK(system("ip route replace 10.221.3.0/24 via 10.220.0.12 proto 207") == 0);
	CHECK(system("ip route add 10.221.9.0/24 via 10.220.0.12 proto 207") == 0);
	CHECK(routes_sync(r, some, 3, &e) == 0);
	CHECK(out_is(cmd, "10.221.3.0/24 via 10.220.0.13 dev veth0 "));

	/* a bad peer is named; the good one is synced */
	const struct routes_peer badp[] = {{"nbad", "10.220.0.300", "10.221.4.0/24"}, two[0]};
	CHECK(routes_sync(r, badp, 2, &e) == -EINVAL && e && strstr(e->msg, "nbad"));
	err_free(e), e = NULL;
	CHECK(out_is(cmd, "10.221.2.0/24 via 10.220.0.12 dev veth0 "));

	/* off the link: the kernel's refusal, naming the node */
	const struct routes_peer far[] = {{"nfar", "192.0.2.9", "10.221.5.0/24"}};
	CHECK(routes_sync(r, far, 1, &e) == -EIO && e && strstr(e->msg, "nfar") &&
	      strstr(e->msg, "gateway"));
	if (e)
		printf("  off the link: %s\n", e->msg);
	err_free(e), e = NULL;

	/* a route that is not ours stays */
	CHECK(system("ip route add 10.221.8.0/24 via 10.220.0.12") == 0);
	CHECK(routes_sync(r, NULL, 0, &e) == 0);
	CHECK(out_is(cmd, ""));
	CHECK(out_is("ip route show 10.221.8.0/24", "10.221.8.0/24 via 10.220.0.12 dev veth0 "));
	CHECK(system("ip route del 10.221.8.0/24") == 0);
	routes_close(r);
}

static void test_vxlan(void)
{
	struct routes *r = open_mode(ROUTES_VXLAN);
	struct err *e = NULL;
	if (!r) {
		CHECK(0);
		return;
	}
	CHECK(routes_pod_mtu(r) == 1450);
	char *link = sh_out("ip -d link show cfs-vxlan");
	CHECK(strstr(link, "mtu 1450") && strstr(link, "0a:cf:0a:dc:00:0b") &&
	      strstr(link, "vxlan id 1 local 10.220.0.11 dev veth0") &&
	      strstr(link, "dstport 8472 nolearning"));
	free(link);
	CHECK(out_is("ip -4 -o addr show dev cfs-vxlan | awk '{ print $4 }'", "10.221.1.0/32"));

	CHECK(routes_sync(r, two, 2, &e) == 0);
	CHECK(out_is("ip route show proto 207",
		     "10.221.2.0/24 via 10.221.2.0 dev cfs-vxlan onlink \n"
		     "10.221.3.0/24 via 10.221.3.0 dev cfs-vxlan onlink "));
	CHECK(out_is("ip neigh show dev cfs-vxlan | sort",
		     "10.221.2.0 lladdr 0a:cf:0a:dc:00:0c PERMANENT \n"
		     "10.221.3.0 lladdr 0a:cf:0a:dc:00:0d PERMANENT "));
	CHECK(out_is("bridge fdb show dev cfs-vxlan | grep dst | sort",
		     "0a:cf:0a:dc:00:0c dst 10.220.0.12 self permanent\n"
		     "0a:cf:0a:dc:00:0d dst 10.220.0.13 self permanent"));

	/* the device remade when removed behind our back; a peer gone */
	CHECK(system("ip link del cfs-vxlan") == 0);
	CHECK(routes_sync(r, two + 1, 1, &e) == 0);
	CHECK(out_is("ip route show proto 207",
		     "10.221.3.0/24 via 10.221.3.0 dev cfs-vxlan onlink "));
	CHECK(out_is("ip neigh show dev cfs-vxlan",
		     "10.221.3.0 lladdr 0a:cf:0a:dc:00:0d PERMANENT "));
	CHECK(out_is("bridge fdb show dev cfs-vxlan | grep dst",
		     "0a:cf:0a:dc:00:0d dst 10.220.0.13 self permanent"));
	routes_close(r);

	/* host-gw again: the device goes, the routes follow the mode */
	r = open_mode(ROUTES_HOST_GW);
	CHECK(r && if_nametoindex("cfs-vxlan") == 0);
	CHECK(r && routes_sync(r, two, 2, &e) == 0);
	CHECK(out_is("ip route show proto 207", "10.221.2.0/24 via 10.220.0.12 dev veth0 \n"
						"10.221.3.0/24 via 10.220.0.13 dev veth0 "));
	routes_close(r);
	err_free(e);
}

static void test_reset(void)
{
	struct routes *r = open_mode(ROUTES_VXLAN);
	struct err *e = NULL;
	CHECK(r && routes_sync(r, two, 2, &e) == 0);
	routes_close(r); /* the routes stay */
	CHECK(if_nametoindex("cfs-vxlan") != 0);
	CHECK(out_is("ip route show proto 207 | wc -l", "2"));
	CHECK(routes_reset(NULL, &e) == 0);
	CHECK(if_nametoindex("cfs-vxlan") == 0);
	CHECK(out_is("ip route show proto 207", ""));
	CHECK(routes_reset(NULL, &e) == 0); /* again: nothing to do */
	CHECK(routes_reset("a/b", &e) == -EINVAL);
	err_free(e);
}

static void test_peer_from_node(void)
{
	struct routes_peer p;
	json_t *n = json_loads("{\"metadata\": {\"name\": \"n2\"}, \"spec\": {\"podCIDR\": "
			       "\"10.221.2.0/24\"}, \"status\": {\"addresses\": [{\"type\": "
			       "\"Hostname\", \"address\": \"n2\"}, {\"type\": \"InternalIP\", "
			       "\"address\": \"10.220.0.12\"}]}}",
			       0, NULL);
	CHECK(routes_peer_from_node(n, &p) == 0 && !strcmp(p.name, "n2") &&
	      !strcmp(p.node_ip, "10.220.0.12") && !strcmp(p.pod_cidr, "10.221.2.0/24"));
	json_object_del(json_object_get(n, "spec"), "podCIDR"); /* no range yet: no peer */
	CHECK(routes_peer_from_node(n, &p) == -ENOENT);
	json_decref(n);
	n = json_loads(
	    "{\"metadata\": {\"name\": \"h\"}, \"spec\": {\"podCIDR\": \"10.0.0.0/24\"}}", 0, NULL);
	CHECK(routes_peer_from_node(n, &p) == -ENOENT); /* no address */
	json_decref(n);
}

int main(void)
{
	if (geteuid() != 0) {
		unit_skip("test_routes needs root (network namespaces)");
		return unit_done();
	}
	/* the node of this test: a network namespace of its own */
	if (unshare(CLONE_NEWNET) < 0 ||
	    system("ip link set lo up && ip link add veth0 type veth peer name veth1 && "
		   "ip addr add " NODE_IP "/24 dev veth0 && ip link set veth0 up && "
		   "ip link set veth1 up") != 0) {
		perror("unshare");
		return 1;
	}
	RUN(test_modes_and_options);
	RUN(test_peer_from_node);
	RUN(test_host_gw);
	RUN(test_vxlan);
	RUN(test_reset);
	return unit_done();
}
