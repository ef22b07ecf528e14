/*
 * test_svc.c - Services: cluster IP and node port allocation at admission
 * (range, honoured, taken, None, out of range, immutable, freed on delete,
 * rebuilt from the store, --service-cidr), and the endpoints controller
 * with the Deployment and ReplicaSet controllers, the scheduler and
 * hollow nodes (a Deployment of 3 behind a Service, named and numeric
 * targetPorts, a port no container declares, scale down, a pod that
 * becomes not ready, label changes, a selector that matches nothing,
 * user-kept Endpoints of a Service without a selector, deletion).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/valid/codec.h"
#include "engine/controllers/deployctl.h"
#include "engine/controllers/epctl.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/controllers/rsctl.h"
#include "engine/sched/sched.h"
#include "engine/api/svc.h"
#include "runtime/hollow/hollow.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct err *last_err;

/* Applies yaml; returns the API's result and keeps its error in last_err. */
static int apply(const char *yaml)
{
	json_t **docs;
	size_t n;
	err_free(last_err);
	last_err = NULL;
	int r = codec_decode(yaml, strlen(yaml), &docs, &n, &last_err);
	if (r >= 0)
		r = api_apply(api, docs, n, NULL, &last_err);
	codec_docs_free(docs, n);
	return r;
}

static int applyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int applyf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	int r = apply(s);
	free(s);
	return r;
}

static bool err_has(const char *what)
{
	return last_err && strstr(last_err->msg, what);
}

/* spec.PATH of Service name (a string), copied into a static buffer. */
static const char *svc_str(const char *name, const char *path)
{
	static char out[64];
	struct sobj *o = api_get(api, K("Service"), "default", name);
	const char *s = o ? obj_str(o->obj, path) : NULL;
	snprintf(out, sizeof(out), "%s", s ? s : "<none>");
	sobj_unref(o);
	return out;
}

static int64_t svc_node_port(const char *name, size_t i)
{
	struct sobj *o = api_get(api, K("Service"), "default", name);
	int64_t np =
	    o ? obj_int(json_array_get(obj_at(o->obj, "spec.ports"), i), "nodePort", 0) : -1;
	sobj_unref(o);
	return np;
}

static int mk_svc(const char *name, const char *extra)
{
	return applyf("apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
		      "spec:\n  selector: {app: %s}\n  ports: [{port: 80}]\n%s",
		      name, name, extra ? extra : "");
}

static int del_svc(const char *name)
{
	return api_delete(api, K("Service"), "default", name, NULL);
}

/* Allocation */

/* True when ip is in 10.96.0.0/16's upper band (10.96.1.0 and up, not the
 * broadcast address), where dynamic allocation takes from. */
static bool upper_band(const char *ip)
{
	unsigned a, b, c, d;
	char end;
	if (!ip || sscanf(ip, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4)
		return false;
	return a == 10 && b == 96 && c >= 1 && c <= 255 && d <= 255 && !(c == 255 && d == 255);
}

static void test_cluster_ip_dynamic(void)
{
	env_up("svc");
	CHECK(mk_svc("a", NULL) == 1);
	/* The upper band (KEP-3070): 10.96.0.0/16 keeps 256 low addresses. */
	char ipa[64];
	snprintf(ipa, sizeof(ipa), "%s", svc_str("a", "spec.clusterIP"));
	CHECK(upper_band(ipa));
	struct sobj *o = api_get(api, K("Service"), "default", "a");
	CHECK(
	    o && json_array_size(obj_at(o->obj, "spec.clusterIPs")) == 1 &&
	    !strcmp(json_string_value(json_array_get(obj_at(o->obj, "spec.clusterIPs"), 0)), ipa));
	sobj_unref(o);
	CHECK(mk_svc("b", "  clusterIP: \"\"\n") == 1);
	CHECK(upper_band(svc_str("b", "spec.clusterIP")));
	/* Picked at random: a deleted Service's IP is seldom given again at
	 * once (one in ~65,000 here). */
	CHECK(del_svc("a") == 1);
	CHECK(mk_svc("a2", NULL) == 1);
	CHECK(strcmp(ipa, svc_str("a2", "spec.clusterIP")) != 0);
	CHECK(mk_svc("a", NULL) == 1);
	/* Two Services on one port both work, each with its own IP. */
	snprintf(ipa, sizeof(ipa), "%s", svc_str("a", "spec.clusterIP"));
	CHECK(strcmp(ipa, svc_str("b", "spec.clusterIP")) != 0);
	env_down();
}

static void test_cluster_ip_requested(void)
{
	env_up("svc");
	CHECK(mk_svc("dns", "  clusterIP: 10.96.0.10\n") == 1);
	CHECK(!strcmp(svc_str("dns", "spec.clusterIP"), "10.96.0.10"));
	/* Taken. */
	CHECK(mk_svc("other", "  clusterIP: 10.96.0.10\n") == -EEXIST);
	CHECK(err_has(
	    "spec.clusterIP: Invalid value: \"10.96.0.10\": provided IP is already allocated"));
	CHECK(api_get(api, K("Service"), "default", "other") == NULL);
	/* Outside the range, the network and the broadcast address. */
	static const char *const bad[] = {"10.97.0.1", "10.96.0.0", "10.96.255.255", "192.168.1.1"};
	for (size_t i = 0; i < 4; i++) {
		char extra[64];
		snprintf(extra, sizeof(extra), "  clusterIP: %s\n", bad[i]);
		CHECK(mk_svc("other", extra) == -EINVAL);
		CHECK(err_has("provided IP is not in the valid range. The range of valid IPs is "
			      "10.96.0.0/16"));
	}
	/* Headless. */
	CHECK(mk_svc("hl", "  clusterIP: None\n") == 1);
	CHECK(!strcmp(svc_str("hl", "spec.clusterIP"), "None"));
	env_down();
}

/* A dynamic allocation never takes a requested IP: in a /27 (upper band
 * .16 to .30, fifteen addresses) with .20 asked for, the next fourteen
 * dynamic ones fill the rest of the upper band, each once, never .20; the
 * one after comes from the lower band. */
static void test_cluster_ip_requested_kept(void)
{
	env_up("svc");
	CHECK(api_set_service_cidr(api, "10.96.0.0/27", NULL) == 0);
	CHECK(mk_svc("x", "  clusterIP: 10.96.0.20\n") == 1);
	bool seen[32] = {false};
	seen[20] = true;
	for (int i = 0; i < 14; i++) {
		char name[16];
		unsigned d = 0;
		snprintf(name, sizeof(name), "y%d", i);
		CHECK(mk_svc(name, NULL) == 1);
		CHECK(sscanf(svc_str(name, "spec.clusterIP"), "10.96.0.%u", &d) == 1);
		CHECK(d >= 16 && d <= 30 && !seen[d]);
		if (d < 32)
			seen[d] = true;
	}
	unsigned d = 0;
	CHECK(mk_svc("low", NULL) == 1);
	CHECK(sscanf(svc_str("low", "spec.clusterIP"), "10.96.0.%u", &d) == 1 && d >= 2 && d < 16);
	CHECK(!strcmp(svc_str("x", "spec.clusterIP"), "10.96.0.20"));
	env_down();
}

static void test_cluster_ip_update_and_delete(void)
{
	env_up("svc");
	CHECK(mk_svc("a", NULL) == 1);
	char ipa[64], want[96];
	snprintf(ipa, sizeof(ipa), "%s", svc_str("a", "spec.clusterIP"));
	/* An update that omits clusterIP keeps it. */
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {x: y}}\n"
		     "spec:\n  selector: {app: a}\n  ports: [{port: 80}]\n") == 1);
	CHECK(!strcmp(svc_str("a", "spec.clusterIP"), ipa));
	CHECK(!strcmp(svc_str("a", "metadata.labels.x"), "y"));
	/* Changing it is refused. */
	CHECK(mk_svc("a", strcmp(ipa, "10.96.1.5") ? "  clusterIP: 10.96.1.5\n"
						   : "  clusterIP: 10.96.1.6\n") == -EINVAL);
	CHECK(err_has("field is immutable"));
	/* Freed on delete: another Service may ask for it. */
	CHECK(del_svc("a") == 1);
	snprintf(want, sizeof(want), "  clusterIP: %s\n", ipa);
	CHECK(mk_svc("b", want) == 1);
	env_down();
}

static void test_rebuilt_from_store(void)
{
	env_up("svc");
	CHECK(mk_svc("a", NULL) == 1);
	char want[96];
	snprintf(want, sizeof(want), "  clusterIP: %s\n", svc_str("a", "spec.clusterIP"));
	CHECK(mk_svc("b", "  type: NodePort\n") == 1);
	int64_t np = svc_node_port("b", 0);
	/* Restart: a new store and API on the same file. */
	char *db = xasprintf("%s/state.db", dir);
	api_free(api);
	store_close(st);
	struct err *e = NULL;
	CHECK(store_open(db, &st, &e) == 0 && api_new(st, &api, &e) == 0);
	apic_free(apic);
	apic = apic_local_new(api);
	free(db);
	CHECK(mk_svc("c", "  type: NodePort\n") == 1);
	CHECK(upper_band(svc_str("c", "spec.clusterIP")));
	CHECK(svc_node_port("c", 0) == np + 1);
	/* what a had before the restart is still taken */
	CHECK(mk_svc("d", want) == -EEXIST);
	env_down();
}

static void test_node_ports(void)
{
	env_up("svc");
	CHECK(mk_svc("a", "  type: NodePort\n") == 1);
	int64_t first = svc_node_port("a", 0);
	CHECK(first == 30086); /* the upper band of 30000-32767 first (KEP-3668) */
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec:\n  type: NodePort\n"
		     "  selector: {app: b}\n  ports: [{name: h, port: 80, nodePort: 30080}, "
		     "{name: m, port: 81}]\n") == 1);
	CHECK(svc_node_port("b", 0) == 30080);
	CHECK(svc_node_port("b", 1) == 30087);
	/* Taken, out of range. */
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec:\n  type: NodePort\n"
		     "  ports: [{port: 80, nodePort: 30080}]\n") == -EEXIST);
	CHECK(err_has(
	    "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"));
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec:\n  type: NodePort\n"
		     "  ports: [{port: 80, nodePort: 40000}]\n") == -EINVAL);
	CHECK(err_has("provided port is not in the valid range"));
	/* An update that omits it keeps it. */
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: b, labels: {v: '2'}}\nspec:\n"
		     "  type: NodePort\n  selector: {app: b}\n  ports: [{name: h, port: 80}, "
		     "{name: m, port: 81}]\n") == 1);
	CHECK(svc_node_port("b", 0) == 30080 && svc_node_port("b", 1) == 30087);
	/* LoadBalancer gets node ports too (no cloud provider). */
	CHECK(mk_svc("lb", "  type: LoadBalancer\n") == 1);
	CHECK(svc_node_port("lb", 0) == 30088);
	/* ClusterIP Services get none. */
	CHECK(svc_node_port("lb", 0) > 0 && mk_svc("plain", NULL) == 1 &&
	      svc_node_port("plain", 0) == 0);
	/* Freed on delete. */
	CHECK(del_svc("b") == 1);
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec:\n  type: NodePort\n"
		     "  ports: [{port: 80, nodePort: 30080}]\n") == 1);
	env_down();
}

static void test_service_cidr(void)
{
	env_up("svc");
	struct err *e = NULL;
	CHECK(api_set_service_cidr(api, "10.96.0.0", &e) == -EINVAL);
	CHECK(api_set_service_cidr(api, "10.96.0.1/24", &e) == -EINVAL);
	CHECK(api_set_service_cidr(api, "10.0.0.0/8", &e) == -EINVAL); /* too large */
	err_free(e);
	char out[20];
	api_service_cidr(api, out);
	CHECK(!strcmp(out, "10.96.0.0/16"));
	CHECK(api_set_service_cidr(api, "172.30.0.0/28", NULL) == 0);
	api_service_cidr(api, out);
	CHECK(!strcmp(out, "172.30.0.0/28"));
	/* 16 addresses: not .0 (network), .1 (kubernetes), .15 (broadcast): 13. */
	int made = 0;
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		if (mk_svc(name, NULL) == 1)
			made++;
	}
	CHECK(made == 13);
	CHECK(err_has("range is full"));
	/* a /28 has no upper band: .2 to .14, all given */
	CHECK(!strncmp(svc_str("s0", "spec.clusterIP"), "172.30.0.", 9));
	CHECK(mk_svc("z", "  clusterIP: 10.96.1.0\n") == -EINVAL);
	CHECK(err_has("The range of valid IPs is 172.30.0.0/28"));
	CHECK(mk_svc("k", "  clusterIP: 172.30.0.1\n") == 1); /* asked for: allowed */
	env_down();
}

/* The endpoints controller */

static struct deployctl *dc;
static struct rsctl *rc;
static struct sched *sc;
static struct epctl *ec;
static struct hollow *hw;

static void cluster_up(void)
{
	env_up("svcctl");
	struct err *e = NULL;
	if (hollow_start(apic, 2, NULL, &hw, &e) < 0 || deployctl_start(api, &dc, &e) < 0 ||
	    rsctl_start(api, &rc, &e) < 0 || sched_start(api, &sc, &e) < 0 ||
	    epctl_start(api, &ec, &e) < 0) {
		fprintf(stderr, "cluster: %s\n", e ? e->msg : "?");
		exit(1);
	}
}

static void cluster_down(void)
{
	store_wake_watchers(st);
	epctl_stop(ec);
	sched_stop(sc);
	rsctl_stop(rc);
	deployctl_stop(dc);
	hollow_stop(hw);
	env_down();
}

static const char web[] = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
			  "spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n"
			  "  template:\n    metadata: {labels: {app: web}}\n"
			  "    spec: {containers: [{name: c, image: 'busybox:1.36', "
			  "ports: [{name: http, containerPort: 8080}]}]}\n";

/* services/NAME/endpoints of name, as the filesystem shows it. */
static char *ready_lines(const char *name)
{
	struct svc_info *s;
	if (svc_info_get(api, "default", name, &s) < 0)
		return xstrdup("<no service>");
	char *l = svc_ready_lines(s);
	svc_info_free(s);
	return l;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static bool ready_count_is(const char *name, int n)
{
	char *l = ready_lines(name);
	bool r = count_lines(l) == n;
	free(l);
	return r;
}

static bool all_lines_end(const char *name, const char *suffix)
{
	char *l = ready_lines(name);
	bool r = *l != '\0';
	for (char *p = strtok(l, "\n"); p; p = strtok(NULL, "\n"))
		r = r && strlen(p) > strlen(suffix) &&
		    !strcmp(p + strlen(p) - strlen(suffix), suffix);
	free(l);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_endpoints_follow_pods(void)
{
	cluster_up();
	CHECK(apply(web) == 1);
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {tier: front}}\n"
		     "spec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: http}]\n") ==
	      1);
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: num}\n"
		     "spec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 9000}]\n") ==
	      1);
	/* Port "metrics" is declared by no container: only http has endpoints. */
	CHECK(
	    applyf(
		"apiVersion: v1\nkind: Service\nmetadata: {name: multi}\n"
		"spec:\n  selector: {app: web}\n  ports: [{name: web, port: 80, targetPort: http},"
		" {name: metrics, port: 9100, targetPort: metrics}]\n") == 1);
	CHECK(mk_svc("nobody", NULL) == 1); /* selector app=nobody */

	CHECK(WAIT_FOR(ready_count_is("web", 3), 5000));
	CHECK(all_lines_end("web", ":8080\n") || all_lines_end("web", ":8080"));
	CHECK(WAIT_FOR(ready_count_is("num", 3), 5000));
	CHECK(all_lines_end("num", ":9000"));
	CHECK(WAIT_FOR(ready_count_is("multi", 3), 5000));
	CHECK(all_lines_end("multi", ":8080"));
	struct sobj *ep = api_get(api, K("Endpoints"), "default", "multi");
	CHECK(ep && json_array_size(json_object_get(ep->obj, "subsets")) == 1);
	json_t *ports = obj_at(json_array_get(json_object_get(ep->obj, "subsets"), 0), "ports");
	CHECK(json_array_size(ports) == 1 &&
	      !strcmp(obj_str(json_array_get(ports, 0), "name"), "web"));
	sobj_unref(ep);

	/* The Endpoints of web: owned by the Service, its labels, targetRefs. */
	ep = api_get(api, K("Endpoints"), "default", "web");
	CHECK(ep != NULL);
	if (ep) {
		const char *kind = obj_str(obj_controller_ref(ep->obj), "kind");
		CHECK(kind && !strcmp(kind, "Service"));
		CHECK(!strcmp(obj_str(ep->obj, "metadata.labels.tier"), "front"));
		json_t *a0 = json_array_get(
		    obj_at(json_array_get(json_object_get(ep->obj, "subsets"), 0), "addresses"), 0);
		CHECK(!strcmp(obj_str(a0, "targetRef.kind"), "Pod"));
		CHECK(!strncmp(obj_str(a0, "nodeName"), "hollow-", 7));
		CHECK(!strncmp(obj_str(a0, "ip"), "10.100.", 7));
	}
	sobj_unref(ep);

	/* A selector that matches nothing: an Endpoints with no subsets. */
	CHECK(WAIT_FOR((ep = api_get(api, K("Endpoints"), "default", "nobody")) != NULL, 2000));
	CHECK(ep && !json_object_get(ep->obj, "subsets"));
	sobj_unref(ep);
	CHECK(ready_count_is("nobody", 0));

	/* A pod that becomes not ready leaves the ready endpoints at once. */
	struct sobj **pods;
	int n = api_list(api, K("Pod"), "default", "app=web", &pods, NULL);
	CHECK(n == 3);
	if (n == 3) {
		/* Its node's kubelet is paused, or it would make it Ready again. */
		const char *node = obj_str(pods[0]->obj, "spec.nodeName");
		CHECK(api_annotate(api, K("Node"), NULL, node, HOLLOW_PAUSED_ANNOTATION, "true",
				   NULL) == 1);
		usleep(50000);
		json_t *status = json_deep_copy(obj_at(pods[0]->obj, "status"));
		obj_set_condition(status, "Ready", "False", "ContainersNotReady", "probe",
				  "2026-01-01T00:00:00Z");
		int64_t t0 = now_ms();
		CHECK(api_update_status(api, K("Pod"), "default", pods[0]->name, status, NULL) ==
		      1);
		CHECK(WAIT_FOR(ready_count_is("web", 2), 2000));
		printf("  readiness change -> endpoints updated: %lld ms\n",
		       (long long)(now_ms() - t0));
		ep = api_get(api, K("Endpoints"), "default", "web");
		json_t *nr = obj_at(json_array_get(json_object_get(ep->obj, "subsets"), 0),
				    "notReadyAddresses");
		CHECK(json_array_size(nr) == 1 &&
		      !strcmp(obj_str(json_array_get(nr, 0), "targetRef.name"), pods[0]->name));
		sobj_unref(ep);
		/* Ready again. */
		obj_set_condition(status, "Ready", "True", NULL, NULL, "2026-01-01T00:00:01Z");
		t0 = now_ms();
		CHECK(api_update_status(api, K("Pod"), "default", pods[0]->name, status, NULL) ==
		      1);
		CHECK(WAIT_FOR(ready_count_is("web", 3), 2000));
		printf("  ready again -> endpoints updated: %lld ms\n", (long long)(now_ms() - t0));
		CHECK(api_annotate(api, K("Node"), NULL, node, HOLLOW_PAUSED_ANNOTATION, NULL,
				   NULL) == 1);
		json_decref(status);
	}
	if (n > 0)
		sobj_list_free(pods, (size_t)n);

	/* Scale down: the endpoints follow. */
	CHECK(apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
		    "spec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n"
		    "  template:\n    metadata: {labels: {app: web}}\n"
		    "    spec: {containers: [{name: c, image: 'busybox:1.36', "
		    "ports: [{name: http, containerPort: 8080}]}]}\n") == 1);
	CHECK(WAIT_FOR(ready_count_is("web", 1), 5000));
	CHECK(WAIT_FOR(ready_count_is("multi", 1), 5000));

	/* Deleting the Service takes its Endpoints. */
	CHECK(del_svc("num") >= 1);
	CHECK(api_get(api, K("Endpoints"), "default", "num") == NULL);
	cluster_down();
}

static int relabel(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(obj_at(obj, "metadata.labels"), "app", json_string(arg));
	return 0;
}

static void test_labels_and_user_endpoints(void)
{
	cluster_up();
	CHECK(applyf("apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {app: a}}\n"
		     "spec: {containers: [{name: c, image: busybox}]}\n") == 1);
	CHECK(mk_svc("a", NULL) == 1);
	CHECK(mk_svc("b", NULL) == 1);
	CHECK(WAIT_FOR(ready_count_is("a", 1), 5000));
	CHECK(ready_count_is("b", 0));
	/* The pod moves from a to b: a loses it, b gains it. */
	CHECK(api_patch(api, K("Pod"), "default", "p1", relabel, "b", NULL) == 1);
	CHECK(WAIT_FOR(ready_count_is("b", 1) && ready_count_is("a", 0), 2000));
	/* Deleted: b loses it (hollow nodes finish graceful deletion). */
	CHECK(api_delete(api, K("Pod"), "default", "p1", NULL) == 1);
	CHECK(WAIT_FOR(ready_count_is("b", 0), 5000));

	/* A Service without a selector keeps the Endpoints its user writes. */
	CHECK(applyf("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\n"
		     "spec:\n  ports: [{name: db, port: 5432}]\n") == 1);
	CHECK(
	    applyf(
		"apiVersion: v1\nkind: Endpoints\nmetadata: {name: ext}\n"
		"subsets: [{addresses: [{ip: 192.168.7.7}], ports: [{name: db, port: 5433}]}]\n") ==
	    1);
	usleep(100000);
	CHECK(ready_count_is("ext", 1));
	char *l = ready_lines("ext");
	CHECK(!strcmp(l, "192.168.7.7:5433\n"));
	free(l);
	/* A bad Endpoints is refused. */
	CHECK(applyf("apiVersion: v1\nkind: Endpoints\nmetadata: {name: bad}\n"
		     "subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: 80}]}]\n") ==
	      -EINVAL);
	CHECK(err_has("loopback"));
	CHECK(applyf("apiVersion: v1\nkind: Endpoints\nmetadata: {name: bad}\n"
		     "subsets: [{addresses: [{ip: 10.1.1.1}], ports: [{port: 0}]}]\n") == -EINVAL);
	/* Someone else's write over a controlled Endpoints is undone. */
	CHECK(applyf("apiVersion: v1\nkind: Endpoints\nmetadata: {name: a}\n"
		     "subsets: [{addresses: [{ip: 10.9.9.9}], ports: [{port: 80}]}]\n") == 1);
	CHECK(WAIT_FOR(ready_count_is("a", 0), 2000));
	cluster_down();
}

/* The pure subsets function: grouping by resolved ports. */
static void test_subsets_grouping(void)
{
	json_t *svc =
	    json_pack("{s:{s:s, s:s}, s:{s:{s:s}, s:[{s:s, s:i, s:s, s:s}]}}", "metadata", "name",
		      "s", "namespace", "default", "spec", "selector", "app", "x", "ports", "name",
		      "p", "port", 80, "targetPort", "web", "protocol", "TCP");
	struct sobj pods[3] = {0};
	struct sobj *pv[3];
	const int cport[3] = {8080, 8081, 8080};
	for (int i = 0; i < 3; i++) {
		char name[16], ip[32];
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(ip, sizeof(ip), "10.100.0.%d", 3 - i);
		pods[i].kind = "Pod";
		pods[i].ns = "default";
		pods[i].name = xstrdup(name);
		pods[i].obj = json_pack(
		    "{s:{s:s, s:{s:s}}, s:{s:[{s:s, s:[{s:s, s:i}]}]}, s:{s:s, s:[{s:s, s:s}]}}",
		    "metadata", "name", name, "labels", "app", "x", "spec", "containers", "name",
		    "c", "ports", "name", "web", "containerPort", cport[i], "status", "podIP", ip,
		    "conditions", "type", "Ready", "status", i == 2 ? "False" : "True");
		pv[i] = &pods[i];
	}
	json_t *ss = epctl_subsets(svc, pv, 3);
	CHECK(json_array_size(ss) == 2);
	/* p1 (8081, 10.100.0.2) has a subset of its own; p0 (ready,
	 * 10.100.0.3) and p2 (not ready, 10.100.0.1) share the 8080 one.
	 * Subsets are ordered by their first ready address. */
	json_t *s0 = json_array_get(ss, 0), *s1 = json_array_get(ss, 1);
	CHECK(obj_int(json_array_get(obj_at(s0, "ports"), 0), "port", 0) == 8081);
	CHECK(!strcmp(obj_str(json_array_get(obj_at(s0, "addresses"), 0), "ip"), "10.100.0.2"));
	CHECK(!obj_at(s0, "notReadyAddresses"));
	CHECK(obj_int(json_array_get(obj_at(s1, "ports"), 0), "port", 0) == 8080);
	CHECK(!strcmp(obj_str(json_array_get(obj_at(s1, "addresses"), 0), "ip"), "10.100.0.3"));
	CHECK(!strcmp(obj_str(json_array_get(obj_at(s1, "notReadyAddresses"), 0), "ip"),
		      "10.100.0.1"));
	CHECK(!strcmp(obj_str(json_array_get(obj_at(s1, "ports"), 0), "name"), "p"));
	json_decref(ss);
	for (int i = 0; i < 3; i++) {
		free(pods[i].name);
		json_decref(pods[i].obj);
	}
	json_decref(svc);
}

int main(void)
{
	RUN(test_cluster_ip_dynamic);
	RUN(test_cluster_ip_requested);
	RUN(test_cluster_ip_requested_kept);
	RUN(test_cluster_ip_update_and_delete);
	RUN(test_rebuilt_from_store);
	RUN(test_node_ports);
	RUN(test_service_cidr);
	RUN(test_subsets_grouping);
	RUN(test_endpoints_follow_pods);
	RUN(test_labels_and_user_endpoints);
	err_free(last_err);
	return unit_done();
}
