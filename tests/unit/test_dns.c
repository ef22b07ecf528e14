/*
 * test_dns.c - runtime/dns.c: a real dnsmasq answering real queries, and
 * the pure functions (resolv.conf, service environment variables).
 *
 * The test runs in a network namespace of its own (unshare at the start):
 * dnsmasq listens on 10.231.1.1:53 there, and a second dnsmasq on
 * 10.231.1.2:53 stands for the node's resolver, so forwarding is tested
 * without the internet.  Queries are hand-made UDP packets.  A pod's view
 * (search list, ndots) is checked with glibc's own resolver in a child
 * whose /etc/resolv.conf is the one dns_resolv_conf wrote (a private
 * mount namespace).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/net/dns.h"
#include "tests/unit/unit.h"

#define DNS_IP "10.231.1.1"
#define UP_IP  "10.231.1.2"

static char *data_dir, *up_dir;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a tiny resolver ---- */

struct answer {
	int rcode; /* -1: no reply */
	int n;
	char ips[8][INET_ADDRSTRLEN];
};

/* Skips a (possibly compressed) name at p; NULL past end. */
static const unsigned char *skip_name(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		if (*p == 0)
			return p + 1;
		if ((*p & 0xc0) == 0xc0)
			return p + 2;
		p += *p + 1;
	}
	return NULL;
}

/* Asks server:53 for the A records of name (one UDP try, 500 ms). */
static struct answer query(const char *server, const char *name)
{
	struct answer a = {.rcode = -1};
	unsigned char q[512], r[1500];
	size_t len = 12;
	static unsigned short id = 1;

	memset(q, 0, 12);
	q[0] = (unsigned char)(++id >> 8), q[1] = (unsigned char)id;
	q[2] = 0x01; /* recursion desired */
	q[5] = 1;    /* one question */
	for (const char *l = name; *l;) {
		size_t n = strcspn(l, ".");
		q[len++] = (unsigned char)n;
		memcpy(q + len, l, n);
		len += n;
		l += n + (l[n] == '.');
	}
	q[len++] = 0;
	q[len++] = 0, q[len++] = 1; /* A */
	q[len++] = 0, q[len++] = 1; /* IN */

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_usec = 500000};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, server, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t got = -1;
	if (sendto(fd, q, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len)
		got = recv(fd, r, sizeof(r), 0);
	close(fd);
	if (got < 12 || r[0] != q[0] || r[1] != q[1])
		return a;
	a.rcode = r[3] & 0x0f;
	int qd = r[4] << 8 | r[5], an = r[6] << 8 | r[7];
	const unsigned char *p = r + 12, *end = r + got;
	for (int i = 0; i < qd && p; i++)
		p = skip_name(p, end) ? skip_name(p, end) + 4 : NULL;
	for (int i = 0; i < an && p && p < end; i++) {
		p = skip_name(p, end);
		if (!p || p + 10 > end)
			break;
		int type = p[0] << 8 | p[1], rdlen = p[8] << 8 | p[9];
		p += 10;
		if (type == 1 && rdlen == 4 && a.n < 8 && p + 4 <= end)
			inet_ntop(AF_INET, p, a.ips[a.n++], INET_ADDRSTRLEN);
		p += rdlen;
	}
	return a;
}

static bool has_ip(const struct answer *a, const char *ip)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->ips[i], ip))
			return true;
	return false;
}

/* Polls until name resolves to exactly ip (NULL: NXDOMAIN) or ms pass;
 * returns the ms it took, or -1. */
static int wait_answer(const char *name, const char *ip, int ms)
{
	int64_t t0 = now_ms();
	do {
		struct answer a = query(DNS_IP, name);
		if (ip ? (a.rcode == 0 && a.n == 1 && has_ip(&a, ip)) : a.rcode == 3)
			return (int)(now_ms() - t0);
		usleep(2000);
	} while (now_ms() - t0 < ms);
	return -1;
}

/* ---- dnsmasq ---- */

static struct dns *up, *dns;

static void test_start(void)
{
	struct err *e = NULL;
	const char *none[] = {NULL}, *to_up[] = {UP_IP, NULL};

	/* the node's resolver stand-in */
	struct dns_opts uo = {.listen_ip = UP_IP, .data_dir = up_dir, .upstream = none};
	int rc = dns_start(&uo, &up, &e);
	if (rc < 0)
		fprintf(stderr, "  upstream: %s\n", e->msg);
	CHECK(rc == 0);
	err_free(e), e = NULL;
	struct dns_record ur[] = {{"upstream.example", "192.0.2.7"},
				  {"leak.cluster.local", "192.0.2.9"}};
	CHECK(up && dns_update(up, ur, 2, &e) == 0);

	/* the cluster's, started before its address exists (as before the
	 * bridge is made) */
	struct dns_opts o = {.listen_ip = DNS_IP, .data_dir = data_dir, .upstream = to_up};
	rc = dns_start(&o, &dns, &e);
	if (rc < 0)
		fprintf(stderr, "  dns: %s\n", e->msg);
	CHECK(rc == 0 && dns_pid(dns) > 0);
	err_free(e), e = NULL;
	CHECK(query(DNS_IP, "upstream.example").rcode == -1); /* nothing there yet */
	CHECK(system("ip addr add " DNS_IP "/32 dev lo") == 0);
	struct dns_record r[] = {{"web.default.svc.cluster.local", "10.96.0.10"}};
	CHECK(dns_update(dns, r, 1, &e) == 0);
	int ms = wait_answer("web.default.svc.cluster.local", "10.96.0.10", 2000);
	printf("  answering on %s %d ms after the address appeared\n", DNS_IP, ms);
	CHECK(ms >= 0);

	/* only that address: nothing on the loopback's 127.0.0.1:53 */
	CHECK(query("127.0.0.1", "web.default.svc.cluster.local").rcode == -1);

	/* bad options and records */
	struct dns *x = NULL;
	o.listen_ip = "not-an-ip";
	CHECK(dns_start(&o, &x, &e) == -EINVAL && !x);
	err_free(e), e = NULL;
	struct dns_record bad[] = {{"a b.example", "10.0.0.1"}};
	CHECK(dns_update(dns, bad, 1, &e) == -EINVAL);
	err_free(e), e = NULL;
	struct dns_record bad2[] = {{"ok.example", "10.0.0.300"}};
	CHECK(dns_update(dns, bad2, 1, &e) == -EINVAL);
	err_free(e);
}

static void test_updates(void)
{
	struct err *e = NULL;
	const char *web = "web.default.svc.cluster.local", *db = "db.prod.svc.cluster.local";
	int ms;
	if (!dns) {
		CHECK(0);
		return;
	}

	/* add */
	struct dns_record r1[] = {{web, "10.96.0.10"}, {db, "10.96.0.20"}};
	CHECK(dns_update(dns, r1, 2, &e) == 0);
	CHECK((ms = wait_answer(db, "10.96.0.20", 100)) >= 0);
	printf("  add visible after %d ms\n", ms);
	/* change */
	struct dns_record r2[] = {{web, "10.96.0.11"}, {db, "10.96.0.20"}};
	CHECK(dns_update(dns, r2, 2, &e) == 0);
	CHECK((ms = wait_answer(web, "10.96.0.11", 100)) >= 0);
	printf("  change visible after %d ms\n", ms);
	/* remove */
	struct dns_record r3[] = {{web, "10.96.0.11"}};
	CHECK(dns_update(dns, r3, 1, &e) == 0);
	CHECK((ms = wait_answer(db, NULL, 100)) >= 0);
	printf("  removal visible after %d ms\n", ms);
	CHECK(wait_answer(web, "10.96.0.11", 100) >= 0);

	/* headless: one record per pod */
	const char *hl = "hl.default.svc.cluster.local";
	struct dns_record r4[] = {{hl, "10.88.0.5"}, {hl, "10.88.0.6"}, {hl, "10.88.0.7"}};
	CHECK(dns_update(dns, r4, 3, &e) == 0);
	usleep(20000);
	struct answer a = query(DNS_IP, hl);
	CHECK(a.rcode == 0 && a.n == 3 && has_ip(&a, "10.88.0.5") && has_ip(&a, "10.88.0.6") &&
	      has_ip(&a, "10.88.0.7"));

	/* other names go to the node's resolver; cluster names never do */
	a = query(DNS_IP, "upstream.example");
	CHECK(a.rcode == 0 && a.n == 1 && has_ip(&a, "192.0.2.7"));
	a = query(DNS_IP, "leak.cluster.local");
	CHECK(a.rcode == 3 && a.n == 0);
	a = query(DNS_IP, "nothere.example"); /* the upstream's failure, passed on */
	CHECK(a.rcode > 0 && a.n == 0);
	err_free(e);
}

/* Resolves names with glibc in a child whose /etc/resolv.conf is conf;
 * writes "name=ip" or "name=-" lines into out. */
static void pod_lookup(const char *conf, const char *const *names, char *out, size_t size)
{
	int p[2];
	out[0] = '\0';
	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char *file = xasprintf("%s/resolv.conf", data_dir);
		FILE *f = fopen(file, "w");
		if (!f || fputs(conf, f) < 0 || fclose(f) != 0 || unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(file, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
			_exit(1);
		FILE *w = fdopen(p[1], "w");
		for (const char *const *n = names; *n; n++) {
			struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
			struct addrinfo *res = NULL;
			char ip[INET_ADDRSTRLEN] = "-";
			if (getaddrinfo(*n, NULL, &hints, &res) == 0)
				inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr,
					  ip, sizeof(ip));
			if (res)
				freeaddrinfo(res);
			fprintf(w, "%s=%s\n", *n, ip);
		}
		fclose(w);
		_exit(0);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
}

static void test_pod_search_list(void)
{
	struct err *e = NULL;
	if (!dns) {
		CHECK(0);
		return;
	}
	struct dns_record r[] = {{"web.default.svc.cluster.local", "10.96.0.10"},
				 {"api.other.svc.cluster.local", "10.96.0.30"}};
	CHECK(dns_update(dns, r, 2, &e) == 0);
	CHECK(wait_answer("api.other.svc.cluster.local", "10.96.0.30", 200) >= 0);

	char *conf = dns_resolv_conf("default", DNS_IP);
	CHECK(!strcmp(conf, "nameserver " DNS_IP "\n"
			    "search default.svc.cluster.local svc.cluster.local cluster.local\n"
			    "options ndots:5\n"));
	const char *names[] = {
	    "web",	 "web.default", "web.default.svc",  "web.default.svc.cluster.local",
	    "api.other", "api",		"upstream.example", NULL};
	char out[1024];
	pod_lookup(conf, names, out, sizeof(out));
	printf("%s", out);
	CHECK(strstr(out, "web=10.96.0.10\n"));
	CHECK(strstr(out, "web.default=10.96.0.10\n"));
	CHECK(strstr(out, "web.default.svc=10.96.0.10\n"));
	CHECK(strstr(out, "web.default.svc.cluster.local=10.96.0.10\n"));
	CHECK(strstr(out, "api.other=10.96.0.30\n")); /* another namespace's, by SVC.NS */
	CHECK(strstr(out, "api=-\n"));		      /* ... but not by its short name */
	CHECK(strstr(out, "upstream.example=192.0.2.7\n"));
	free(conf);
	err_free(e);
}

static void test_stop(void)
{
	pid_t pid = dns_pid(dns), upid = dns_pid(up);
	dns_stop(dns);
	dns_stop(up);
	dns = up = NULL;
	CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);
	CHECK(upid > 0 && kill(upid, 0) < 0 && errno == ESRCH);
	CHECK(query(DNS_IP, "web.default.svc.cluster.local").rcode == -1);
}

static void test_stale_dnsmasq_replaced(void)
{
	struct err *e = NULL;
	const char *none[] = {NULL};
	struct dns_opts o = {.listen_ip = DNS_IP, .data_dir = data_dir, .upstream = none};
	struct dns *a = NULL, *b = NULL;
	CHECK(dns_start(&o, &a, &e) == 0);
	err_free(e), e = NULL;
	if (!a)
		return;
	pid_t old = dns_pid(a);
	/* a second start with the same data dir, as a restarted server */
	CHECK(dns_start(&o, &b, &e) == 0 && dns_pid(b) != old);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	err_free(e), e = NULL;
	int status;
	CHECK(waitpid(old, &status, WNOHANG) == old); /* the old one ended */
	struct dns_record r[] = {{"new.default.svc.cluster.local", "10.96.0.40"}};
	CHECK(b && dns_update(b, r, 1, &e) == 0);
	CHECK(wait_answer("new.default.svc.cluster.local", "10.96.0.40", 500) >= 0);
	err_free(e);
	/* a's process is gone and reaped: dns_stop only frees it */
	dns_stop(a);
	dns_stop(b);
}

/* ---- pure functions ---- */

static void test_hosts_file(void)
{
	char *h = dns_hosts_file("10.88.0.7", "web-1");
	CHECK(strstr(h, "127.0.0.1\tlocalhost\n") && strstr(h, "\n10.88.0.7\tweb-1\n"));
	free(h);
	h = dns_hosts_file(NULL, "web-1");
	CHECK(!strstr(h, "web-1"));
	free(h);
	char *f = dns_service_fqdn("web", "default");
	CHECK(!strcmp(f, "web.default.svc.cluster.local"));
	free(f);
}

static bool env_has(char **env, const char *kv)
{
	for (; env && *env; env++)
		if (!strcmp(*env, kv))
			return true;
	return false;
}

static size_t env_len(char **env)
{
	size_t n = 0;
	while (env && env[n])
		n++;
	return n;
}

static void test_svc_env(void)
{
	/* Kubernetes' documented example (concepts/services-networking/service,
	 * "Environment variables") */
	json_t *redis = json_loads("{\"metadata\":{\"name\":\"redis-primary\"},"
				   "\"spec\":{\"clusterIP\":\"10.0.0.11\","
				   "\"ports\":[{\"port\":6379,\"protocol\":\"TCP\"}]}}",
				   0, NULL);
	const json_t *one[] = {redis};
	char **env = svc_env(one, 1);
	const char *want[] = {"REDIS_PRIMARY_SERVICE_HOST=10.0.0.11",
			      "REDIS_PRIMARY_SERVICE_PORT=6379",
			      "REDIS_PRIMARY_PORT=tcp://10.0.0.11:6379",
			      "REDIS_PRIMARY_PORT_6379_TCP=tcp://10.0.0.11:6379",
			      "REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp",
			      "REDIS_PRIMARY_PORT_6379_TCP_PORT=6379",
			      "REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.0.0.11"};
	CHECK(env_len(env) == 7);
	for (size_t i = 0; i < 7; i++)
		CHECK(env && env[i] && !strcmp(env[i], want[i]));
	svc_env_free(env);

	/* named ports, UDP, a default protocol; headless and IP-less skipped */
	json_t *multi =
	    json_loads("{\"metadata\":{\"name\":\"my-dns\"},\"spec\":{\"clusterIP\":\"10.0.0.10\","
		       "\"ports\":[{\"name\":\"dns-udp\",\"port\":53,\"protocol\":\"UDP\"},"
		       "{\"name\":\"metrics\",\"port\":9153}]}}",
		       0, NULL);
	json_t *headless = json_loads("{\"metadata\":{\"name\":\"hl\"},\"spec\":{\"clusterIP\":"
				      "\"None\",\"ports\":[{\"port\":80}]}}",
				      0, NULL);
	json_t *noip = json_loads("{\"metadata\":{\"name\":\"pending\"},\"spec\":{\"ports\":[{"
				  "\"port\":80}]}}",
				  0, NULL);
	const json_t *three[] = {multi, headless, noip};
	env = svc_env(three, 3);
	CHECK(env_has(env, "MY_DNS_SERVICE_HOST=10.0.0.10"));
	CHECK(env_has(env, "MY_DNS_SERVICE_PORT=53"));
	CHECK(env_has(env, "MY_DNS_SERVICE_PORT_DNS_UDP=53"));
	CHECK(env_has(env, "MY_DNS_SERVICE_PORT_METRICS=9153"));
	CHECK(env_has(env, "MY_DNS_PORT=udp://10.0.0.10:53"));
	CHECK(env_has(env, "MY_DNS_PORT_53_UDP=udp://10.0.0.10:53"));
	CHECK(env_has(env, "MY_DNS_PORT_53_UDP_PROTO=udp"));
	CHECK(env_has(env, "MY_DNS_PORT_9153_TCP=tcp://10.0.0.10:9153"));
	CHECK(env_has(env, "MY_DNS_PORT_9153_TCP_ADDR=10.0.0.10"));
	CHECK(env_len(env) == 4 + 5 + 4);
	for (char **p = env; p && *p; p++)
		CHECK(strncmp(*p, "HL_", 3) && strncmp(*p, "PENDING_", 8));
	svc_env_free(env);

	env = svc_env(NULL, 0);
	CHECK(env && env[0] == NULL);
	svc_env_free(env);
	json_decref(redis);
	json_decref(multi);
	json_decref(headless);
	json_decref(noip);
}

int main(void)
{
	RUN(test_hosts_file);
	RUN(test_svc_env);
	if (geteuid() != 0 || access("/usr/sbin/dnsmasq", X_OK) != 0) {
		unit_skip("the dnsmasq tests need root and dnsmasq-base");
		return unit_done();
	}
	/* the node of this test: a network namespace of its own */
	if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0 ||
	    system("ip addr add " UP_IP "/32 dev lo") != 0) {
		perror("unshare");
		return 1;
	}
	char t1[] = "/tmp/cfs-test-dns.XXXXXX", t2[] = "/tmp/cfs-test-dnsup.XXXXXX";
	if (!mkdtemp(t1) || !mkdtemp(t2))
		return 1;
	data_dir = t1;
	up_dir = t2;

	RUN(test_start);
	RUN(test_updates);
	RUN(test_pod_search_list);
	RUN(test_stop);
	RUN(test_stale_dnsmasq_replaced);

	dns_stop(dns); /* after a failed test: no dnsmasq survives */
	dns_stop(up);
	char *cmd = xasprintf("rm -rf %s %s", data_dir, up_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", cmd);
	free(cmd);
	return unit_done();
}
