/*
 * routes_tool.c - runtime/net/routes.h from the command line, for
 * tests/e2e/t_routes.sh: run inside a node's network namespace.
 *
 *     $ ip netns exec n1 build/tests/routes_tool --mode vxlan \
 *           10.210.0.11 10.211.1.0/24 n2,10.210.0.12,10.211.2.0/24
 *     routes: vxlan, 1 peers, pod MTU 1450
 *     $ ip netns exec n1 build/tests/routes_tool --reset
 *
 *   routes_tool [--mode host-gw|vxlan] [--dev NAME] [--masq TABLE,CIDR]
 *               NODE_IP POD_CIDR [NAME,IP,CIDR...]
 *       routes_open, then routes_sync with the peers given (none: every
 *       peer route goes), then routes_close.  --masq: also the proxy's
 *       table TABLE (proxy_open) for the cluster's pod range CIDR, with
 *       its masquerade of what leaves it.
 *   routes_tool --reset [--dev NAME] [--masq TABLE,CIDR]
 *       routes_reset (and proxy_reset).
 *
 * Exits 0, 1 when a call failed (its message on stderr), 2 for bad usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "runtime/net/proxy.h"
#include "runtime/net/routes.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: routes_tool [--mode host-gw|vxlan] [--dev NAME] [--masq TABLE,CIDR] "
		"NODE_IP POD_CIDR [NAME,IP,CIDR...]\n"
		"       routes_tool --reset [--dev NAME] [--masq TABLE,CIDR]\n");
	return 2;
}

/* "NAME,IP,CIDR" into p (pointing into s, which is cut): false when bad. */
static bool peer_parse(char *s, struct routes_peer *p)
{
	char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2)
		return false;
	*c1 = *c2 = '\0';
	*p = (struct routes_peer){.name = s, .node_ip = c1 + 1, .pod_cidr = c2 + 1};
	return true;
}

/* --masq TABLE,CIDR: the proxy's table, opened (or with reset deleted). */
static int masq(const char *arg, bool reset)
{
	_cleanup_free_ char *table = xstrdup(arg);
	_cleanup_err_ struct err *e = NULL;
	char *comma = strchr(table, ',');
	struct proxy *px;
	if (!comma)
		return usage();
	*comma = '\0';
	const struct proxy_opts po = {.table = table, .pod_cidr = comma + 1};
	if ((reset ? proxy_reset(table, &e) : proxy_open(&po, &px, &e)) < 0) {
		fprintf(stderr, "proxy: %s\n", e->msg);
		return 1;
	}
	if (!reset)
		proxy_close(px);
	return 0;
}

static int sync_peers(const struct routes_opts *o, char **args, int n)
{
	_cleanup_free_ struct routes_peer *peers = xcalloc((size_t)n + 1, sizeof(*peers));
	_cleanup_err_ struct err *e = NULL;
	struct routes *r;

	for (int i = 0; i < n; i++)
		if (!peer_parse(args[i], &peers[i]))
			return usage();
	if (routes_open(o, &r, &e) < 0) {
		fprintf(stderr, "routes_open: %s\n", e->msg);
		return 1;
	}
	int rc = routes_sync(r, peers, (size_t)n, &e);
	if (rc < 0)
		fprintf(stderr, "routes_sync: %s\n", e->msg);
	else
		printf("routes: %s, %d peers, pod MTU %d\n", routes_mode_name(o->mode), n,
		       routes_pod_mtu(r));
	routes_close(r);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct routes_opts o = {.mode = ROUTES_HOST_GW};
	_cleanup_err_ struct err *e = NULL;
	bool reset = false;
	const char *masq_arg = NULL;
	int i = 1, rc;

	log_level = getenv("CFS_LOG") ? LOG_DEBUG : LOG_WARN;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--reset"))
			reset = true;
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc &&
			 routes_mode_parse(argv[i + 1], &o.mode) == 0)
			i++;
		else if (!strcmp(argv[i], "--dev") && i + 1 < argc)
			o.vxlan_dev = argv[++i];
		else if (!strcmp(argv[i], "--masq") && i + 1 < argc)
			masq_arg = argv[++i];
		else
			return usage();
	}
	if (reset) {
		if (i != argc)
			return usage();
		if (routes_reset(o.vxlan_dev, &e) < 0) {
			fprintf(stderr, "routes_reset: %s\n", e->msg);
			return 1;
		}
		return masq_arg ? masq(masq_arg, true) : 0;
	}
	if (argc - i < 2)
		return usage();
	o.node_ip = argv[i];
	o.pod_cidr = argv[i + 1];
	if ((rc = sync_peers(&o, argv + i + 2, argc - i - 2)) != 0)
		return rc;
	return masq_arg ? masq(masq_arg, false) : 0;
}
