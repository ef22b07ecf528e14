/*
 * test_cni.c - runtime/cni.c against Debian's real CNI plugins, in real
 * network namespaces.
 *
 * The whole test runs in a network namespace of its own (unshare at the
 * start), which stands for the node: the bridge, the veths and the
 * iptables rules the plugins make live and die there, and the host's
 * network is never touched.  "Pods" are child processes in namespaces of
 * their own, killed by pid at the end.  Traffic goes only to addresses the
 * test made: the pods' and the bridge's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/net/cni.h"
#include "runtime/sys.h"
#include "tests/unit/unit.h"

#define CIDR "10.231.0.0/24"
#define GW   "10.231.0.1"

static char *data_dir;
static char bridge[16];
static bool native; /* the second round: cni_opts.native (veth.h) */

/* ---- pods: a child in a new network namespace ---- */

struct netns {
	pid_t pid;
	int hold; /* the write end the child waits on */
	char path[64];
};

static void netns_make(struct netns *n)
{
	int ready[2], hold[2];
	char c;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		abort();
	n->pid = fork();
	if (n->pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0) /* until the parent closes it */
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (read(ready[0], &c, 1) != 1)
		abort();
	close(ready[0]);
	n->hold = hold[1];
	snprintf(n->path, sizeof(n->path), "/proc/%d/ns/net", (int)n->pid);
}

static void netns_gone(struct netns *n)
{
	if (n->pid <= 0)
		return;
	kill(n->pid, SIGKILL);
	waitpid(n->pid, NULL, 0);
	close(n->hold);
	n->pid = 0;
}

/* A socket made in the namespace path (a thread's setns; the socket stays
 * in that namespace), or -1. */
struct sock_req {
	const char *path;
	int type, fd;
};

static void *sock_thread(void *arg)
{
	struct sock_req *r = arg;
	int ns = open(r->path, O_RDONLY | O_CLOEXEC);
	r->fd = -1;
	if (ns >= 0 && setns(ns, CLONE_NEWNET) == 0)
		r->fd = socket(AF_INET, r->type | SOCK_CLOEXEC, 0);
	if (ns >= 0)
		close(ns);
	return NULL;
}

static int socket_in(const char *path, int type)
{
	struct sock_req r = {path, type, -1};
	pthread_t t;
	if (!path)
		return socket(AF_INET, type | SOCK_CLOEXEC, 0);
	pthread_create(&t, NULL, sock_thread, &r);
	pthread_join(t, NULL);
	return r.fd;
}

/* A TCP listener on port in namespace path (NULL: the test's). */
static int listen_in(const char *path, int port)
{
	int fd = socket_in(path, SOCK_STREAM), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		perror("listen_in");
		return -1;
	}
	return fd;
}

/* Whether a TCP connection from namespace path to ip:port is made within 2 s. */
static bool connect_from(const char *path, const char *ip, int port)
{
	int fd = socket_in(path, SOCK_STREAM);
	struct timeval tv = {.tv_sec = 2};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---- helpers ---- */

static struct cni *open_cni(void)
{
	struct cni_opts o = {.data_dir = data_dir,
			     .pod_cidr = CIDR,
			     .bridge = bridge,
			     .native = native,
			     .lo_up = native /* a failing ADD then fails in veth_add */};
	struct cni *c = NULL;
	struct err *e = NULL;
	if (cni_open(&o, &c, &e) < 0) {
		fprintf(stderr, "  cni_open: %s\n", e->msg);
		err_free(e);
	}
	return c;
}

static bool ipam_has(const char *ip)
{
	char *p = xasprintf("%s/cni/ipam/%s/%s", data_dir, bridge, ip);
	bool has = access(p, F_OK) == 0;
	free(p);
	return has;
}

static int ipam_count(void)
{
	char *cmd = xasprintf("ls %s/cni/ipam/%s 2>/dev/null | grep -c '^10\\.'", data_dir, bridge);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	free(cmd);
	return n;
}

/* The number of iptables nat rules naming container id. */
static int rules_for(const char *id)
{
	char *cmd = xasprintf("iptables -w 5 -t nat -S | grep -c 'id: \\\\\"%s\\\\\"'", id);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	free(cmd);
	return n;
}

/* A masquerade rule for id as an earlier version's bridge (ipMasq true)
 * made it: a per-container chain jumped to from POSTROUTING, commented
 * with the network's name and the id. */
static void old_masq(const char *id)
{
	char *cmd = xasprintf("iptables -w 5 -t nat -N CNI-old-%s && "
			      "iptables -w 5 -t nat -A CNI-old-%s -j MASQUERADE && "
			      "iptables -w 5 -t nat -A POSTROUTING -s 10.231.0.250/32 -m comment "
			      "--comment 'name: \"%s\" id: \"%s\"' -j CNI-old-%s",
			      id, id, bridge, id, id);
	CHECK(system(cmd) == 0);
	free(cmd);
}

static bool in_cidr(const char *ip)
{
	return !strncmp(ip, "10.231.0.", 9) && strcmp(ip, GW) && strcmp(ip, "10.231.0.0");
}

static void report(const char *what, int rc, struct err **e)
{
	if (rc < 0)
		fprintf(stderr, "  %s: %d %s\n", what, rc, *e ? (*e)->msg : "");
	err_free(*e);
	*e = NULL;
}

/* ---- tests ---- */

static struct netns pa, pb;
static char ip_a[64], ip_b[64];

static void test_open(void)
{
	old_masq("pod-old"); /* left by an earlier version: open removes it */
	CHECK(rules_for("pod-old") == 1);
	struct cni *c = open_cni();
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(!strcmp(cni_gateway(c), GW));
	CHECK(rules_for("pod-old") == 0);
	char *conf = xasprintf("%s/cni/net.conflist", data_dir);
	int fd = open(conf, O_RDONLY | O_CLOEXEC);
	char *text = fd >= 0 ? fd_slurp(fd) : NULL;
	/* pods keep their address: the bridge does not masquerade */
	CHECK(text && strstr(text, "\"ipMasq\": false"));
	free(text);
	if (fd >= 0)
		close(fd);
	free(conf);
	cni_close(c);

	/* bad options */
	struct cni_opts o = {.data_dir = data_dir, .pod_cidr = "10.231.0.0", .bridge = bridge};
	struct err *e = NULL;
	CHECK(cni_open(&o, &c, &e) == -EINVAL && c == NULL);
	err_free(e), e = NULL;
	o.pod_cidr = CIDR;
	o.bridge = "a-bridge-name-too-long";
	CHECK(cni_open(&o, &c, &e) == -EINVAL);
	err_free(e), e = NULL;
	o.bridge = bridge;
	o.plugin_dir = "/nonexistent";
	CHECK(cni_open(&o, &c, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "bridge"));
	err_free(e);
}

static void test_add_two_pods(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	int rc;
	if (!c) {
		CHECK(0);
		return;
	}
	netns_make(&pa);
	netns_make(&pb);
	rc = cni_add(c, "pod-a", pa.path, "default", "a", ip_a, &e);
	report("add a", rc, &e);
	CHECK(rc == 0);
	rc = cni_add(c, "pod-b", pb.path, "default", "b", ip_b, &e);
	report("add b", rc, &e);
	CHECK(rc == 0);
	printf("  pod-a %s, pod-b %s, gateway %s on %s\n", ip_a, ip_b, cni_gateway(c), bridge);
	CHECK(in_cidr(ip_a) && in_cidr(ip_b) && strcmp(ip_a, ip_b));
	CHECK(ipam_has(ip_a) && ipam_has(ip_b));

	/* a second ADD of one pod is refused, the address unchanged */
	char again[64];
	CHECK(cni_add(c, "pod-a", pa.path, "default", "a", again, &e) == -EEXIST);
	err_free(e), e = NULL;

	/* pod to pod, pod to node, node to pod */
	int lb = listen_in(pb.path, 8080), lh = listen_in(NULL, 9090);
	CHECK(connect_from(pa.path, ip_b, 8080));
	CHECK(connect_from(pa.path, GW, 9090));
	CHECK(connect_from(NULL, ip_b, 8080));
	/* negative controls: nobody there, a closed port */
	CHECK(!connect_from(pa.path, "10.231.0.200", 8080));
	CHECK(!connect_from(pa.path, ip_b, 8081));
	close(lb);
	close(lh);

	/* no masquerade of a pod's own: its packets keep its address (the
	 * proxy's table masquerades what leaves the cluster's pod range) */
	CHECK(rules_for("pod-a") == 0 && rules_for("pod-b") == 0);

	rc = cni_check(c, "pod-a", pa.path, &e);
	report("check a", rc, &e);
	CHECK(rc == 0);
	CHECK(cni_check(c, "pod-x", pa.path, &e) == -ENOENT);
	err_free(e), e = NULL;
	cni_close(c);
}

static void test_check_finds_damage(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	if (!c) {
		CHECK(0);
		return;
	}
	char *cmd = xasprintf("nsenter --net=%s ip link del eth0", pb.path);
	CHECK(system(cmd) == 0);
	free(cmd);
	CHECK(cni_check(c, "pod-b", pb.path, &e) < 0);
	if (e)
		printf("  CHECK without eth0: %s\n", e->msg);
	err_free(e);
	cni_close(c);
}

static void test_restart_readopts(void)
{
	struct cni *c = open_cni(); /* a new agent: nothing in memory */
	char ip[64];
	if (!c) {
		CHECK(0);
		return;
	}
	CHECK(cni_get_ip(c, "pod-a", ip) == 0 && !strcmp(ip, ip_a));
	CHECK(cni_get_ip(c, "pod-b", ip) == 0 && !strcmp(ip, ip_b));
	CHECK(cni_get_ip(c, "pod-none", ip) == -ENOENT && ip[0] == '\0');
	CHECK(ipam_count() == 2); /* nothing allocated anew */
	cni_close(c);
}

static void test_del(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	char ip[64];
	int rc;
	if (!c) {
		CHECK(0);
		return;
	}
	rc = cni_del(c, "pod-a", pa.path, &e);
	report("del a", rc, &e);
	CHECK(rc == 0);
	CHECK(!ipam_has(ip_a) && ipam_has(ip_b));
	CHECK(cni_get_ip(c, "pod-a", ip) == -ENOENT);
	CHECK(rules_for("pod-a") == 0);
	CHECK(!connect_from(NULL, ip_a, 8080)); /* (nothing listened, but no route either) */
	rc = cni_del(c, "pod-a", pa.path, &e);	/* again */
	report("del a again", rc, &e);
	CHECK(rc == 0);
	rc = cni_del(c, "pod-never", NULL, &e);
	report("del never added", rc, &e);
	CHECK(rc == 0);

	/* the namespace is gone before DEL: the address and the masquerade
	 * rules an earlier version made still go */
	old_masq("pod-b");
	CHECK(rules_for("pod-b") >= 1);
	char path[64];
	snprintf(path, sizeof(path), "%s", pb.path);
	netns_gone(&pb);
	rc = cni_del(c, "pod-b", path, &e);
	report("del b, netns gone", rc, &e);
	CHECK(rc == 0);
	CHECK(!ipam_has(ip_b));
	CHECK(rules_for("pod-b") == 0);
	CHECK(ipam_count() == 0);

	/* a freed namespace can be plugged in again */
	rc = cni_add(c, "pod-a2", pa.path, "default", "a", ip, &e);
	report("add a2", rc, &e);
	CHECK(rc == 0 && in_cidr(ip));
	rc = cni_del(c, "pod-a2", pa.path, &e);
	report("del a2", rc, &e);
	CHECK(rc == 0 && ipam_count() == 0);
	cni_close(c);
}

static void test_add_fails_cleanly(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	char ip[64];
	if (!c) {
		CHECK(0);
		return;
	}
	int rc = cni_add(c, "pod-bad", "/proc/999999999/ns/net", "default", "bad", ip, &e);
	CHECK(rc < 0 && ip[0] == '\0');
	CHECK(e && strstr(e->msg, "pod-bad") && strstr(e->msg, "/proc/999999999/ns/net"));
	if (e)
		printf("  %s\n", e->msg);
	err_free(e);
	CHECK(ipam_count() == 0);
	cni_close(c);
}

static void test_host_port(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	struct netns pc;
	char ip[64];
	if (!c) {
		CHECK(0);
		return;
	}
	netns_make(&pc);
	struct cni_port port = {.host_port = 18080, .container_port = 8080};
	int rc = cni_add_ports(c, "pod-c", pc.path, "default", "c", &port, 1, ip, &e);
	report("add c with a hostPort", rc, &e);
	CHECK(rc == 0);
	int l = listen_in(pc.path, 8080);
	CHECK(connect_from(NULL, GW, 18080)); /* the node's address, DNAT'ed to the pod */
	CHECK(!connect_from(NULL, GW, 18081));
	close(l);
	rc = cni_del(c, "pod-c", pc.path, &e);
	report("del c", rc, &e);
	CHECK(rc == 0);
	CHECK(rules_for("pod-c") == 0);
	l = listen_in(pc.path, 8080);
	CHECK(!connect_from(NULL, GW, 18080)); /* the mapping is gone */
	close(l);
	netns_gone(&pc);
	cni_close(c);
}

static void test_reset(void)
{
	struct cni *c = open_cni();
	struct err *e = NULL;
	char ip[64];
	if (!c) {
		CHECK(0);
		return;
	}
	/* a pod left behind, as after a crash */
	int rc = cni_add(c, "pod-left", pa.path, "default", "left", ip, &e);
	report("add left", rc, &e);
	cni_close(c);
	netns_gone(&pa);
	CHECK(if_nametoindex(bridge) != 0);
	old_masq("pod-left");
	CHECK(rules_for("pod-left") >= 1);

	rc = cni_reset(data_dir, bridge, &e);
	report("reset", rc, &e);
	CHECK(rc == 0);
	CHECK(if_nametoindex(bridge) == 0);
	CHECK(rules_for("pod-left") == 0);
	char *ipam = xasprintf("%s/cni/ipam", data_dir);
	CHECK(access(ipam, F_OK) != 0);
	free(ipam);
	rc = cni_reset(data_dir, bridge, &e); /* again */
	report("reset again", rc, &e);
	CHECK(rc == 0);
}

int main(void)
{
	if (geteuid() != 0) {
		unit_skip("test_cni needs root (network namespaces)");
		return unit_done();
	}
	/* the node of this test: a network namespace of its own */
	if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
		perror("unshare");
		return 1;
	}
	char tmpl[] = "/tmp/cfs-test-cni.XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	data_dir = tmpl;
	snprintf(bridge, sizeof(bridge), "cfst%d", (int)getpid() % 100000);

	/* the plugins, then ADD's bridge step in this process (veth.h), whose
	 * pods the plugins CHECK and DEL */
	for (int round = 0; round < 2; round++) {
		native = round == 1;
		printf("-- %s\n", native ? "native ADD (veth.h)" : "the plugins");
		RUN(test_open);
		RUN(test_add_two_pods);
		RUN(test_check_finds_damage);
		RUN(test_restart_readopts);
		RUN(test_del);
		RUN(test_add_fails_cleanly);
		RUN(test_host_port);
		RUN(test_reset);
		netns_gone(&pa);
		netns_gone(&pb);
	}
	char *cmd = xasprintf("rm -rf %s", data_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", data_dir);
	free(cmd);
	return unit_done();
}
