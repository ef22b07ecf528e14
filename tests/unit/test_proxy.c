/*
 * test_proxy.c - the kube-proxy role against real nftables and real
 * network namespaces.
 *
 * The whole test runs in a network namespace of its own (unshare at
 * start), which plays the node: a bridge cfst-br0 10.232.0.1/24 with three
 * "pods" (network namespaces of forked children, veths with hairpin on,
 * each serving its name on TCP port 80 and 8080), and a veth "uplink"
 * 10.240.0.1/24 with the default route.  Services take ClusterIPs from
 * 10.233.0.0/24.  Nothing is made outside that namespace, so nothing
 * outlives the test: the pods die with it (PDEATHSIG, and killed by pid at
 * the end), and the namespace with its bridge, veths and nftables table
 * goes when its last process exits.  Needs root; skipped otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "runtime/net/proxy.h"
#include "tests/unit/unit.h"

#define NPODS	  3
#define TABLE	  "cfstest"
#define BRIDGE	  "cfst-br0"
#define NODE_IP	  "10.232.0.1" /* the bridge's address */
#define UPLINK_IP "10.240.0.1"

static pid_t pods[NPODS];
static char pod_ip[NPODS][24];
static struct proxy *px;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	char cmd[512];
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "  command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

/* ---- pods ---- */

static void serve(int port, const char *name)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0)
		_exit(1);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (write(c, name, strlen(name)) < 0) {
		}
		close(c);
	}
}

/* Forks pod i: its own network namespace, eth0 on the bridge, servers on
 * ports 80 and 8080 answering "podI". */
static int pod_start(int i)
{
	int ready[2], go[2];
	char c = 0, name[16];

	snprintf(name, sizeof(name), "pod%d", i);
	snprintf(pod_ip[i], sizeof(pod_ip[i]), "10.232.0.%d", 11 + i);
	if (pipe(ready) < 0 || pipe(go) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		if (sh("ip link set lo up && ip link set eth0 up && ip addr add %s/24 dev eth0 && "
		       "ip route add default via " NODE_IP,
		       pod_ip[i]))
			_exit(1);
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			serve(8080, name);
		}
		serve(80, name);
	}
	pods[i] = pid;
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		return -1;
	int rc =
	    sh("ip link add cfst-veth%d type veth peer name eth0 netns %d && "
	       "ip link set cfst-veth%d master " BRIDGE " && "
	       "ip link set cfst-veth%d type bridge_slave hairpin on && ip link set cfst-veth%d up",
	       i, pid, i, i, i);
	if (write(go[1], &c, 1) != 1)
		rc = -1;
	close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
	return rc;
}

/* ---- clients ---- */

/* Connects to ip:port from this namespace and reads the answer.  0, or
 * -errno (-ETIMEDOUT after 2 s). */
static int dial_here(const char *ip, int port, char *out, size_t cap)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p = {.fd = s, .events = POLLOUT};

	inet_pton(AF_INET, ip, &a.sin_addr);
	*out = '\0';
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		err = errno;
	} else if (poll(&p, 1, 2000) != 1) {
		err = ETIMEDOUT;
	} else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err) {
		p.events = POLLIN;
		ssize_t n = poll(&p, 1, 2000) == 1 ? read(s, out, cap - 1) : -1;
		out[n > 0 ? n : 0] = '\0';
		err = n > 0 ? 0 : EIO;
	}
	close(s);
	return -err;
}

/* dial_here from the host (pod < 0) or from inside pod's namespace. */
static int dial(int pod, const char *ip, int port, char *out, size_t cap)
{
	if (pod < 0)
		return dial_here(ip, port, out, cap);
	int fds[2];
	if (pipe(fds) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		char path[64], buf[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pods[pod]);
		int ns = open(path, O_RDONLY | O_CLOEXEC);
		int rc = ns >= 0 && setns(ns, CLONE_NEWNET) == 0
			     ? dial_here(ip, port, buf, sizeof(buf))
			     : -EBADF;
		char msg[80];
		int n = snprintf(msg, sizeof(msg), "%d %s", rc, buf);
		_exit(write(fds[1], msg, (size_t)n) == n ? 0 : 1);
	}
	close(fds[1]);
	char msg[80] = "";
	ssize_t n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	int rc = -EIO;
	msg[n > 0 ? n : 0] = '\0';
	if (n > 0 && sscanf(msg, "%d", &rc) == 1 && strchr(msg, ' '))
		snprintf(out, cap, "%s", strchr(msg, ' ') + 1);
	return rc;
}

/* Dials n times; counts answers per pod in hits; returns the failures. */
static int spread(int from, const char *ip, int port, int n, int hits[NPODS])
{
	int failed = 0;
	memset(hits, 0, NPODS * sizeof(int));
	for (int i = 0; i < n; i++) {
		char out[32];
		int k;
		if (dial(from, ip, port, out, sizeof(out)) < 0 || sscanf(out, "pod%d", &k) != 1 ||
		    k < 0 || k >= NPODS)
			failed++;
		else
			hits[k]++;
	}
	return failed;
}

static int distinct(const int hits[NPODS])
{
	int d = 0;
	for (int i = 0; i < NPODS; i++)
		d += hits[i] > 0;
	return d;
}

/* ---- services ---- */

static struct proxy_endpoint all_eps[NPODS];

/* A one-port TCP service over the pods in mask (bit i: pod i). */
static int sync_svc(const char *name, const char *cip, int port, int node_port, unsigned mask,
		    bool affinity)
{
	struct proxy_endpoint eps[NPODS];
	struct proxy_port pt = {.proto = "TCP", .port = port, .node_port = node_port, .eps = eps};
	struct proxy_service s = {.ns = "test",
				  .affinity_client_ip = affinity,
				  .affinity_timeout_s = 60,
				  .ports = &pt,
				  .nports = 1};
	struct err *e = NULL;

	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.cluster_ip, sizeof(s.cluster_ip), "%s", cip);
	for (int i = 0; i < NPODS; i++)
		if (mask & (1u << i))
			eps[pt.neps++] = all_eps[i];
	int rc = proxy_sync_service(px, &s, &e);
	if (rc < 0)
		fprintf(stderr, "  sync %s: %s\n", name, e->msg);
	err_free(e);
	return rc;
}

static void test_clusterip_from_host(void)
{
	int hits[NPODS];
	CHECK(sync_svc("web", "10.233.0.10", 80, 0, 7, false) == 0);
	CHECK(spread(-1, "10.233.0.10", 80, 30, hits) == 0);
	printf("  host -> 10.233.0.10:80: pod0 %d, pod1 %d, pod2 %d\n", hits[0], hits[1], hits[2]);
	CHECK(distinct(hits) >= 2);
}

static void test_clusterip_from_pod(void)
{
	int hits[NPODS];
	CHECK(spread(1, "10.233.0.10", 80, 30, hits) == 0); /* pod1 lands on itself too */
	printf("  pod1 -> 10.233.0.10:80: pod0 %d, pod1 %d, pod2 %d\n", hits[0], hits[1], hits[2]);
	CHECK(distinct(hits) >= 2);
	CHECK(hits[1] > 0); /* hairpin: the answer came back through the bridge */
}

static void test_hairpin(void)
{
	char out[32];
	CHECK(sync_svc("self", "10.233.0.12", 80, 0, 1, false) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(dial(0, "10.233.0.12", 80, out, sizeof(out)) == 0);
		CHECK(!strcmp(out, "pod0"));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_scale_down(void)
{
	int hits[NPODS];
	double t[100];

	CHECK(sync_svc("web", "10.233.0.10", 80, 0, 3, false) == 0); /* pod2 leaves */
	CHECK(spread(-1, "10.233.0.10", 80, 30, hits) == 0);
	CHECK(hits[2] == 0 && hits[0] > 0 && hits[1] > 0);
	CHECK(spread(0, "10.233.0.10", 80, 20, hits) == 0);
	CHECK(hits[2] == 0);

	for (int i = 0; i < 100; i++) { /* readiness flapping: 3, 2, 3, 2 ... endpoints */
		double t0 = now_ms();
		CHECK(sync_svc("web", "10.233.0.10", 80, 0, i % 2 ? 3 : 7, false) == 0);
		t[i] = now_ms() - t0;
	}
	qsort(t, 100, sizeof(t[0]), cmp_double);
	printf("  proxy_sync_service, 100 updates of one service (3 <-> 2 endpoints): "
	       "median %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       t[49], t[98], t[99]);
	/* the p99 target (50 ms) is measured by tests/bench/bench_services.sh */
	CHECK(spread(-1, "10.233.0.10", 80, 30, hits) == 0); /* the last one had 2 */
	CHECK(hits[2] == 0);
}

static void test_no_endpoints(void)
{
	char out[32];
	CHECK(sync_svc("empty", "10.233.0.13", 80, 30081, 0, false) == 0);
	for (int from = -1; from < 1; from++) {
		double t0 = now_ms();
		int rc = dial(from, "10.233.0.13", 80, out, sizeof(out));
		double dt = now_ms() - t0;
		printf("  %s -> service without endpoints: %s in %.1f ms\n",
		       from < 0 ? "host" : "pod0", strerror(-rc), dt);
		CHECK(rc == -ECONNREFUSED); /* refused, not dropped (a timeout) */
	}
	CHECK(dial(-1, NODE_IP, 30081, out, sizeof(out)) == -ECONNREFUSED);
	/* a port no service has, in the cluster CIDR: refused as well */
	CHECK(dial(-1, "10.233.0.10", 81, out, sizeof(out)) == -ECONNREFUSED);
	CHECK(dial(-1, "10.233.0.99", 80, out, sizeof(out)) == -ECONNREFUSED);
	/* and it comes back with an endpoint */
	CHECK(sync_svc("empty", "10.233.0.13", 80, 30081, 4, false) == 0);
	CHECK(dial(-1, "10.233.0.13", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod2"));
	CHECK(dial(-1, NODE_IP, 30081, out, sizeof(out)) == 0 && !strcmp(out, "pod2"));
}

static void test_node_port(void)
{
	int hits[NPODS];
	char out[32];
	CHECK(sync_svc("np", "10.233.0.14", 8080, 30080, 7, false) == 0);
	CHECK(spread(-1, NODE_IP, 30080, 10, hits) == 0);
	CHECK(spread(-1, UPLINK_IP, 30080, 10, hits) == 0);
	CHECK(spread(2, NODE_IP, 30080, 10, hits) == 0);
	CHECK(dial(-1, "10.233.0.14", 8080, out, sizeof(out)) == 0);
	/* not on loopback (no route_localnet), and not on other ports */
	CHECK(dial(-1, "127.0.0.1", 30080, out, sizeof(out)) == -ECONNREFUSED);
	CHECK(dial(-1, NODE_IP, 30079, out, sizeof(out)) == -ECONNREFUSED);
}

static void test_affinity(void)
{
	char first[32] = "", out[32];
	int same = 0, hits[NPODS];
	CHECK(sync_svc("sticky", "10.233.0.11", 80, 0, 7, true) == 0);
	for (int i = 0; i < 10; i++) {
		CHECK(dial(-1, "10.233.0.11", 80, out, sizeof(out)) == 0);
		if (!i)
			snprintf(first, sizeof(first), "%s", out);
		same += !strcmp(out, first);
	}
	printf("  affinity: %d of 10 to %s\n", same, first);
	CHECK(same == 10);
	/* negative control: without affinity the same client is spread */
	CHECK(sync_svc("sticky", "10.233.0.11", 80, 0, 7, false) == 0);
	CHECK(spread(-1, "10.233.0.11", 80, 30, hits) == 0);
	CHECK(distinct(hits) >= 2);
}

static void test_same_port_two_services(void)
{
	char out[32];
	CHECK(sync_svc("a", "10.233.0.20", 80, 0, 1, false) == 0);
	CHECK(sync_svc("b", "10.233.0.21", 80, 0, 2, false) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(dial(-1, "10.233.0.20", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod0"));
		CHECK(dial(-1, "10.233.0.21", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod1"));
	}
}

static bool listed(const char *key)
{
	char **keys;
	size_t n;
	bool found = false;
	proxy_list_services(px, &keys, &n);
	for (size_t i = 0; i < n; i++) {
		found |= !strcmp(keys[i], key);
		free(keys[i]);
	}
	free(keys);
	return found;
}

static void test_reopen_delete_reset(void)
{
	struct proxy_opts o = {
	    .table = TABLE, .pod_cidr = "10.232.0.0/24", .cluster_cidr = "10.233.0.0/24"};
	struct err *e = NULL;
	int hits[NPODS];
	char out[32];

	proxy_close(px);
	px = NULL;
	CHECK(spread(-1, "10.233.0.10", 80, 10, hits) == 0); /* rules stay after close */
	CHECK(proxy_open(&o, &px, &e) == 0);
	/* pods' packets leaving the pod range are masqueraded, not those
	 * between pods (the CNI bridge masquerades nothing) */
	CHECK(system("nft list chain ip " TABLE " masquerading | grep -qF 'ip saddr 10.232.0.0/24 "
		     "ip daddr != { 10.232.0.0/24, 224.0.0.0/4 } masquerade'") == 0);
	CHECK(listed("test/web") && listed("test/empty") && listed("test/sticky") &&
	      listed("test/a") && listed("test/b") && listed("test/np") && listed("test/self"));
	CHECK(spread(-1, "10.233.0.10", 80, 20, hits) == 0);
	CHECK(hits[2] == 0 && distinct(hits) == 2);
	/* state read back: an update after the restart is incremental too */
	CHECK(sync_svc("web", "10.233.0.10", 80, 0, 1, false) == 0);
	CHECK(spread(-1, "10.233.0.10", 80, 10, hits) == 0);
	CHECK(hits[0] == 10);

	CHECK(proxy_delete_service(px, "test", "a", &e) == 0);
	CHECK(!listed("test/a") && listed("test/b"));
	CHECK(dial(-1, "10.233.0.20", 80, out, sizeof(out)) == -ECONNREFUSED);
	CHECK(dial(-1, "10.233.0.21", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod1"));
	CHECK(proxy_delete_service(px, "test", "a", &e) == 0); /* not found is done */

	/* a service whose table objects were removed behind its back */
	CHECK(system("nft flush map ip " TABLE " service-ips") == 0);
	CHECK(sync_svc("b", "10.233.0.21", 80, 0, 4, false) == 0);
	CHECK(dial(-1, "10.233.0.21", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod2"));

	/* one that makes the transaction fail: the state is read again */
	CHECK(sync_svc("empty", "10.233.0.13", 80, 30081, 0, false) == 0);
	CHECK(system("nft flush map ip " TABLE " no-endpoint-services") == 0);
	CHECK(sync_svc("empty", "10.233.0.13", 80, 30081, 1, false) == 0);
	CHECK(dial(-1, "10.233.0.13", 80, out, sizeof(out)) == 0 && !strcmp(out, "pod0"));
	if (getenv("CFS_PROXY_DUMP"))
		CHECK(system("nft list table ip " TABLE) == 0);

	proxy_close(px);
	px = NULL;
	CHECK(proxy_reset(TABLE, &e) == 0);
	CHECK(system("nft list table ip " TABLE " >/dev/null 2>&1") != 0);
	CHECK(proxy_reset(TABLE, &e) == 0);
	CHECK(dial(-1, "10.233.0.21", 80, out, sizeof(out)) < 0); /* no DNAT any more */
	err_free(e);
}

static void test_bad_input(void)
{
	struct proxy_opts o = {.table = "bad name"};
	struct proxy *p = NULL;
	struct err *e = NULL;
	CHECK(proxy_open(&o, &p, &e) == -EINVAL && !p);
	o = (struct proxy_opts){.table = TABLE "2", .pod_cidr = "10.0.0.0/33"};
	CHECK(proxy_open(&o, &p, &e) == -EINVAL && !p);
	o.pod_cidr = NULL;
	CHECK(proxy_open(&o, &p, &e) == 0);
	struct proxy_endpoint ep = {.ip = "10.0.0.1; flush ruleset", .port = 80};
	struct proxy_port pt = {.proto = "tcp", .port = 80, .eps = &ep, .neps = 1};
	struct proxy_service s = {
	    .ns = "x", .name = "y", .cluster_ip = "10.233.0.50", .ports = &pt, .nports = 1};
	CHECK(proxy_sync_service(p, &s, &e) == -EINVAL);
	snprintf(ep.ip, sizeof(ep.ip), "10.0.0.1");
	snprintf(pt.proto, sizeof(pt.proto), "icmp");
	CHECK(proxy_sync_service(p, &s, &e) == -EINVAL);
	snprintf(pt.proto, sizeof(pt.proto), "UDP");
	snprintf(s.name, sizeof(s.name), "y z");
	CHECK(proxy_sync_service(p, &s, &e) == -EINVAL);
	snprintf(s.name, sizeof(s.name), "dns");
	CHECK(proxy_sync_service(p, &s, &e) == 0); /* UDP is fine */
	proxy_close(p);
	CHECK(proxy_reset(TABLE "2", &e) == 0);
	err_free(e);
}

static void test_from_json(void)
{
	json_t *svc =
	    json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s,s:[{s:s,s:i,s:i,s:i},{s:s,s:s,s:i,s:i}]}}",
		      "metadata", "name", "web", "namespace", "prod", "spec", "type", "NodePort",
		      "clusterIP", "10.96.0.7", "sessionAffinity", "ClientIP", "ports", "name",
		      "http", "port", 80, "targetPort", 8080, "nodePort", 30123, "name", "dns",
		      "protocol", "UDP", "port", 53, "nodePort", 30053);
	json_t *eps = json_pack(
	    "{s:[{s:[{s:s},{s:s}],s:[{s:s}],s:[{s:s,s:i},{s:s,s:i,s:s}]},{s:[{s:s}],s:[{s:s,s:i}]}]"
	    "}",
	    "subsets", "addresses", "ip", "10.88.0.5", "ip", "10.88.0.6", "notReadyAddresses", "ip",
	    "10.88.0.7", "ports", "name", "http", "port", 8080, "name", "dns", "port", 5353,
	    "protocol", "UDP", "addresses", "ip", "10.88.1.9", "ports", "name", "other", "port", 9);
	struct proxy_service s;

	CHECK(proxy_service_from_json(svc, eps, &s) == 0);
	CHECK(!strcmp(s.ns, "prod") && !strcmp(s.name, "web") &&
	      !strcmp(s.cluster_ip, "10.96.0.7"));
	CHECK(s.affinity_client_ip && s.affinity_timeout_s == 10800 && s.nports == 2);
	CHECK(s.nports == 2 && !strcmp(s.ports[0].proto, "tcp") && s.ports[0].port == 80 &&
	      s.ports[0].node_port == 30123 && s.ports[0].neps == 2);
	CHECK(s.nports == 2 && s.ports[0].neps == 2 && !strcmp(s.ports[0].eps[1].ip, "10.88.0.6") &&
	      s.ports[0].eps[1].port == 8080);
	CHECK(s.nports == 2 && !strcmp(s.ports[1].proto, "udp") && s.ports[1].neps == 2 &&
	      s.ports[1].eps[0].port == 5353);
	proxy_service_free(&s);

	CHECK(proxy_service_from_json(svc, NULL, &s) == 0 && s.nports == 2 && !s.ports[0].neps);
	proxy_service_free(&s);
	json_object_set_new(json_object_get(svc, "spec"), "type", json_string("ClusterIP"));
	CHECK(proxy_service_from_json(svc, eps, &s) == 0 && s.ports[0].node_port == 0);
	proxy_service_free(&s);
	json_object_set_new(json_object_get(svc, "spec"), "type", json_string("ExternalName"));
	CHECK(proxy_service_from_json(svc, eps, &s) == 0 && s.nports == 0 && !*s.cluster_ip);
	proxy_service_free(&s);
	json_object_del(json_object_get(svc, "metadata"), "name");
	CHECK(proxy_service_from_json(svc, eps, &s) == -EINVAL);
	json_decref(svc);
	json_decref(eps);
}

static int setup(void)
{
	struct proxy_opts o = {
	    .table = TABLE, .pod_cidr = "10.232.0.0/24", .cluster_cidr = "10.233.0.0/24"};
	struct err *e = NULL;

	write_file("/proc/sys/net/ipv4/ip_forward", "1");
	write_file("/proc/sys/net/bridge/bridge-nf-call-iptables", "1");
	if (sh("ip link set lo up && ip link add " BRIDGE " type bridge && "
	       "ip addr add " NODE_IP "/24 dev " BRIDGE " && ip link set " BRIDGE " up && "
	       "ip link add cfst-up type veth peer name cfst-up-peer && ip link set cfst-up-peer "
	       "up && ip addr add " UPLINK_IP "/24 dev cfst-up && "
	       "ip link set cfst-up up && ip route add default dev cfst-up"))
		return -1;
	for (int i = 0; i < NPODS; i++) {
		if (pod_start(i) < 0)
			return -1;
		snprintf(all_eps[i].ip, sizeof(all_eps[i].ip), "%s", pod_ip[i]);
		all_eps[i].port = 80;
	}
	for (int i = 0; i < NPODS; i++) { /* servers up, directly */
		char out[32];
		int ok = 0;
		for (int t = 0; t < 200 && !ok; t++)
			ok = dial(-1, pod_ip[i], 80, out, sizeof(out)) == 0 || (usleep(10000), 0);
		if (!ok)
			return -1;
	}
	if (proxy_open(&o, &px, &e) < 0) {
		fprintf(stderr, "proxy_open: %s\n", e->msg);
		err_free(e);
		return -1;
	}
	return 0;
}

int main(void)
{
	if (getenv("CFS_PROXY_DUMP"))
		log_level = LOG_DEBUG;
	RUN(test_from_json);
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		unit_skip("the nftables tests need root and network namespaces");
		return unit_done();
	}
	if (setup() < 0) {
		unit_failed++;
		printf("FAIL setup\n");
	} else {
		RUN(test_clusterip_from_host);
		RUN(test_clusterip_from_pod);
		RUN(test_hairpin);
		RUN(test_scale_down);
		RUN(test_no_endpoints);
		RUN(test_node_port);
		RUN(test_affinity);
		RUN(test_same_port_two_services);
		RUN(test_reopen_delete_reset);
		RUN(test_bad_input);
	}
	proxy_close(px);
	for (int i = 0; i < NPODS; i++)
		if (pods[i] > 0) {
			kill(pods[i], SIGKILL);
			waitpid(pods[i], NULL, 0);
		}
	return unit_done();
}
