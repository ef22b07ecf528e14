/*
 * test_http_pb.c - protobuf request bodies (http/pb.h): messages built by
 * hand, field by field, decoded to the JSON Kubernetes would have sent;
 * and the number tables checked against the schema, both ways.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/schema.h"
#include "http/pb.h"
#include "unit.h"

/* --- a small encoder ------------------------------------------------------ */

static void put_varint(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		buf_add(b, &c, 1);
	} while (v);
}

/* Field num, varint. */
static void pv(struct buf *b, int num, uint64_t v)
{
	put_varint(b, (uint64_t)num << 3);
	put_varint(b, v);
}

/* Field num, bytes. */
static void pbytes(struct buf *b, int num, const void *p, size_t n)
{
	put_varint(b, (uint64_t)num << 3 | 2);
	put_varint(b, n);
	buf_add(b, p, n);
}

static void ps(struct buf *b, int num, const char *s)
{
	pbytes(b, num, s, strlen(s));
}

/* Field num, a message; frees m. */
static void pm(struct buf *b, int num, struct buf *m)
{
	pbytes(b, num, m->s ? m->s : "", m->len);
	buf_free(m);
	*m = (struct buf){0};
}

/* A map entry {key 1, value 2 (string)}. */
static void pmap(struct buf *b, int num, const char *k, const char *v)
{
	struct buf e = {0};
	ps(&e, 1, k);
	ps(&e, 2, v);
	pm(b, num, &e);
}

/* A map entry whose value is a Quantity {string 1}. */
static void pquant(struct buf *b, int num, const char *k, const char *q)
{
	struct buf e = {0}, v = {0};
	ps(&e, 1, k);
	ps(&v, 1, q);
	pm(&e, 2, &v);
	pm(b, num, &e);
}

/* The envelope: "k8s\0", Unknown {typeMeta {apiVersion, kind}, raw}. */
static void envelope(struct buf *out, const char *av, const char *kind, struct buf *raw)
{
	struct buf tm = {0};
	buf_add(out, "k8s\0", 4);
	ps(&tm, 1, av);
	ps(&tm, 2, kind);
	pm(out, 1, &tm);
	pm(out, 2, raw);
}

/* Decodes body and compares with the JSON want; collects unknown paths. */
struct seen {
	size_t n;
	char paths[4][128];
};

static void on_unknown(void *arg, const char *path)
{
	struct seen *s = arg;
	if (s->n < 4)
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
	s->n++;
}

static int same(const struct buf *body, const char *want, struct seen *s)
{
	json_t *got = NULL, *w = json_loads(want, 0, NULL);
	_cleanup_err_ struct err *e = NULL;
	int rc = pb_decode_object(body->s, body->len, &got, on_unknown, s, &e);
	int ok = rc == 0 && w && json_equal(got, w);
	if (!ok) {
		char *g = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
		fprintf(stderr, "  rc %d (%s)\n  got  %s\n  want %s\n", rc, e ? e->msg : "",
			g ? g : "-", want);
		free(g);
	}
	json_decref(got);
	json_decref(w);
	return ok;
}

/* ObjectMeta {name, labels app=name, creationTimestamp {} (Go's zero time)} */
static void meta(struct buf *b, const char *name)
{
	struct buf m = {0}, t = {0};
	if (name)
		ps(&m, 1, name);
	ps(&m, 2, "");
	ps(&m, 3, "");
	pv(&m, 7, 0);
	pm(&m, 8, &t);
	pmap(&m, 11, "app", "web");
	pm(b, 1, &m);
}

/* --- the tests ------------------------------------------------------------ */

/* kubectl create deployment web --image=busybox --replicas=0, as gogo
 * encodes it: every non-pointer field, zero or not. */
static void test_deployment_replicas_zero(void)
{
	struct buf c = {0}, ps_ = {0}, tmpl = {0}, spec = {0}, sel = {0}, d = {0}, body = {0};
	struct buf res = {0}, strat = {0}, status = {0};
	ps(&c, 1, "busybox");
	ps(&c, 2, "busybox");
	ps(&c, 5, "");
	pm(&c, 8, &res);
	ps(&c, 13, "");
	ps(&c, 14, "");
	pv(&c, 16, 0);
	pv(&c, 17, 0);
	pv(&c, 18, 0);
	pm(&ps_, 2, &c);
	ps(&ps_, 3, "");
	ps(&ps_, 6, "");
	pv(&ps_, 11, 0);
	meta(&tmpl, NULL);
	pm(&tmpl, 2, &ps_);
	pv(&spec, 1, 0); /* replicas: a pointer, sent as 0 */
	pmap(&sel, 1, "app", "web");
	pm(&spec, 2, &sel);
	pm(&spec, 3, &tmpl);
	pm(&spec, 4, &strat);
	pv(&spec, 5, 0);
	pv(&spec, 7, 0);
	meta(&d, "web");
	pm(&d, 2, &spec);
	pv(&status, 1, 0);
	pm(&d, 3, &status);
	envelope(&body, "apps/v1", "Deployment", &d);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		   "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
		   "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"containers\":[{\"name\":\"busybox\",\"image\":\"busybox\","
		   "\"resources\":{}}]}},\"strategy\":{}},\"status\":{}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* IntOrString {type 1, intVal 2, strVal 3}. */
static void intstr(struct buf *b, int num, int ival, const char *sval)
{
	struct buf m = {0};
	pv(&m, 1, sval ? 1 : 0);
	pv(&m, 2, (uint64_t)ival);
	ps(&m, 3, sval ? sval : "");
	pm(b, num, &m);
}

/* A container with ports, resources, env and probes. */
static void container(struct buf *c)
{
	struct buf port = {0}, res = {0}, env = {0}, from = {0}, fref = {0};
	struct buf probe = {0}, handler = {0}, get = {0}, ready = {0}, rh = {0}, tcp = {0};
	ps(c, 1, "web");
	ps(c, 2, "nginx:1.25");
	ps(c, 3, "sh");
	ps(c, 3, "-c");
	ps(&port, 1, "http");
	pv(&port, 2, 0);
	pv(&port, 3, 80);
	ps(&port, 4, "TCP");
	ps(&port, 5, "");
	pm(c, 6, &port);
	ps(&env, 1, "A");
	ps(&env, 2, "b");
	pm(c, 7, &env);
	ps(&env, 1, "POD");
	ps(&env, 2, "");
	ps(&fref, 1, "v1");
	ps(&fref, 2, "metadata.name");
	pm(&from, 1, &fref);
	pm(&env, 3, &from);
	pm(c, 7, &env);
	pquant(&res, 1, "cpu", "500m");
	pquant(&res, 2, "memory", "64Mi");
	pm(c, 8, &res);
	ps(&get, 1, "/healthz");
	intstr(&get, 2, 8080, NULL);
	ps(&get, 3, "");
	ps(&get, 4, "HTTP");
	pm(&handler, 2, &get);
	pm(&probe, 1, &handler);
	pv(&probe, 2, 0);
	pv(&probe, 4, 5);
	pm(c, 10, &probe);
	intstr(&tcp, 1, 0, "http");
	pm(&rh, 3, &tcp);
	pm(&ready, 1, &rh);
	pm(c, 11, &ready);
}

static void test_pod_container(void)
{
	struct buf c = {0}, spec = {0}, vol = {0}, src = {0}, ed = {0}, sc = {0}, pod = {0};
	struct buf body = {0};
	container(&c);
	ps(&vol, 1, "scratch");
	ps(&ed, 1, "");
	pm(&src, 2, &ed);
	pm(&vol, 2, &src);
	pm(&spec, 1, &vol);
	pm(&spec, 2, &c);
	pv(&spec, 4, 0);	    /* terminationGracePeriodSeconds: a pointer */
	pv(&sc, 2, 0);		    /* runAsUser 0: a pointer */
	ps(&sc, 4, "\x0a\x01\x02"); /* supplementalGroups, packed: 10, 1, 2 */
	pm(&spec, 14, &sc);
	meta(&pod, "p");
	pm(&pod, 2, &spec);
	envelope(&body, "v1", "Pod", &pod);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		   "\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{}}],"
		   "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
		   "\"command\":[\"sh\",\"-c\"],"
		   "\"ports\":[{\"name\":\"http\",\"containerPort\":80,\"protocol\":\"TCP\"}],"
		   "\"env\":[{\"name\":\"A\",\"value\":\"b\"},{\"name\":\"POD\",\"valueFrom\":"
		   "{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
		   "\"resources\":{\"limits\":{\"cpu\":\"500m\"},"
		   "\"requests\":{\"memory\":\"64Mi\"}},"
		   "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080,"
		   "\"scheme\":\"HTTP\"},\"periodSeconds\":5},"
		   "\"readinessProbe\":{\"tcpSocket\":{\"port\":\"http\"}}}],"
		   "\"terminationGracePeriodSeconds\":0,"
		   "\"securityContext\":{\"runAsUser\":0,\"supplementalGroups\":[10,1,2]}}}",
		   &s));
	CHECK(s.n == 0);
	/* Cut anywhere, or with a byte changed: decoded or refused, never a crash. */
	for (size_t n = 0; n < body.len; n++) {
		json_t *o = NULL;
		_cleanup_err_ struct err *e = NULL;
		int r = pb_decode_object(body.s, n, &o, NULL, NULL, &e);
		CHECK(r == 0 || r == -EINVAL || r == -ENOTSUP);
		json_decref(o);
		char save = body.s[n];
		body.s[n] = (char)(save ^ 0x5a);
		o = NULL;
		err_free(e);
		e = NULL;
		r = pb_decode_object(body.s, body.len, &o, NULL, NULL, &e);
		CHECK(r == 0 || r == -EINVAL || r == -ENOTSUP);
		json_decref(o);
		body.s[n] = save;
	}
	buf_free(&body);
}

/* A Service as kubectl create service clusterip s --tcp=80:8080 sends it. */
static void test_service(void)
{
	struct buf port = {0}, spec = {0}, st = {0}, lb = {0}, svc = {0}, body = {0};
	ps(&port, 1, "80-8080");
	ps(&port, 2, "TCP");
	pv(&port, 3, 80);
	intstr(&port, 4, 8080, NULL);
	pv(&port, 5, 0);
	pm(&spec, 1, &port);
	pmap(&spec, 2, "app", "s");
	ps(&spec, 3, "");
	ps(&spec, 4, "ClusterIP");
	pm(&st, 1, &lb);
	meta(&svc, "s");
	pm(&svc, 2, &spec);
	pm(&svc, 3, &st);
	envelope(&body, "v1", "Service", &svc);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
		   "\"metadata\":{\"name\":\"s\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,"
		   "\"targetPort\":8080}],\"selector\":{\"app\":\"s\"},\"type\":\"ClusterIP\"},"
		   "\"status\":{\"loadBalancer\":{}}}",
		   &s));
	buf_free(&body);
}

/* A ConfigMap: binaryData in base64, immutable false kept (a pointer). */
static void test_configmap(void)
{
	struct buf cm = {0}, body = {0};
	meta(&cm, "c");
	pmap(&cm, 2, "a", "b");
	pmap(&cm, 3, "bin", "\x01\x02\x03\x04");
	pv(&cm, 4, 0);
	envelope(&body, "v1", "ConfigMap", &cm);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		   "\"metadata\":{\"name\":\"c\",\"labels\":{\"app\":\"web\"}},"
		   "\"data\":{\"a\":\"b\"},\"binaryData\":{\"bin\":\"AQIDBA==\"},"
		   "\"immutable\":false}",
		   &s));
	buf_free(&body);
}

/* Unknown numbers: skipped, reported with their paths. */
static void test_unknown_fields(void)
{
	struct buf ns = {0}, m = {0}, body = {0};
	ps(&m, 1, "n");
	ps(&m, 50, "x");
	pm(&ns, 1, &m);
	pv(&ns, 99, 7);
	envelope(&body, "v1", "Namespace", &ns);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\"}}",
		   &s));
	CHECK(s.n == 2);
	CHECK(!strcmp(s.paths[0], "metadata (protobuf field 50)"));
	CHECK(!strcmp(s.paths[1], "(protobuf field 99)"));
	buf_free(&body);
}

/* kubectl drain's Eviction, and a DeleteOptions with a grace period of 0. */
static void test_eviction_delete_options(void)
{
	struct buf ev = {0}, m = {0}, opts = {0}, body = {0};
	ps(&m, 1, "p");
	ps(&m, 3, "default");
	pm(&ev, 1, &m);
	pv(&opts, 1, 0);
	ps(&opts, 4, "Foreground");
	pm(&ev, 2, &opts);
	envelope(&body, "policy/v1", "Eviction", &ev);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\","
		   "\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
		   "\"deleteOptions\":{\"gracePeriodSeconds\":0,"
		   "\"propagationPolicy\":\"Foreground\"}}",
		   &s));
	buf_free(&body);
	pv(&opts, 1, 30);
	ps(&opts, 5, "All");
	envelope(&body, "meta.k8s.io/v1", "DeleteOptions", &opts);
	CHECK(same(&body,
		   "{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"DeleteOptions\","
		   "\"gracePeriodSeconds\":30,\"dryRun\":[\"All\"]}",
		   &s));
	buf_free(&body);
}

/* Malformed bodies, kinds not served, undescribed fields set. */
static void test_refusals(void)
{
	struct buf body = {0}, m = {0}, spec = {0}, c = {0}, lc = {0}, ps_ = {0};
	json_t *out = NULL;
	_cleanup_err_ struct err *e = NULL;
	CHECK(pb_decode_object("{}", 2, &out, NULL, NULL, &e) == -EINVAL);
	err_free(e);
	e = NULL;
	ps(&m, 1, "x");
	envelope(&body, "v1", "ServiceAccount", &m);
	CHECK(pb_decode_object(body.s, body.len, &out, NULL, NULL, &e) == -ENOTSUP);
	buf_free(&body);
	err_free(e);
	e = NULL;
	buf_add(&m,
		"\x0a\x05"
		"ab",
		4); /* a length past the end */
	envelope(&body, "v1", "Namespace", &m);
	CHECK(pb_decode_object(body.s, body.len, &out, NULL, NULL, &e) == -EINVAL);
	buf_free(&body);
	err_free(e);
	e = NULL;
	ps(&c, 1, "web");
	ps(&lc, 1, "x"); /* lifecycle: not described by the schema */
	pm(&c, 12, &lc);
	pm(&spec, 2, &c);
	pm(&ps_, 2, &spec);
	envelope(&body, "v1", "Pod", &ps_);
	CHECK(pb_decode_object(body.s, body.len, &out, NULL, NULL, &e) == -ENOTSUP);
	CHECK(e && strstr(e->msg, "spec.containers[0].lifecycle"));
	buf_free(&body);
}

/* --- numbers checked against Kubernetes' generated.proto ------------------ */

/* meta/v1 Time {seconds 1, nanos 2}. */
static void ptime(struct buf *b, int num, uint64_t secs)
{
	struct buf t = {0};
	pv(&t, 1, secs);
	pv(&t, 2, 0);
	pm(b, num, &t);
}

/* apps/v1 DeploymentStatus and DeploymentCondition, whose numbers are not
 * in order (readyReplicas 7, lastUpdateTime 6, lastTransitionTime 7), and
 * DeploymentSpec's revisionHistoryLimit 6 and progressDeadlineSeconds 9. */
static void test_deployment_status(void)
{
	struct buf d = {0}, spec = {0}, st = {0}, cond = {0}, body = {0};
	pv(&spec, 6, 3);
	pv(&spec, 9, 600);
	pv(&st, 1, 4);
	pv(&st, 2, 2);
	pv(&st, 3, 2);
	pv(&st, 4, 1);
	pv(&st, 5, 1);
	ps(&cond, 1, "Available");
	ps(&cond, 2, "True");
	ps(&cond, 4, "MinimumReplicasAvailable");
	ps(&cond, 5, "ok");
	ptime(&cond, 6, 1700000000);
	ptime(&cond, 7, 1700000001);
	pm(&st, 6, &cond);
	pv(&st, 7, 2);
	pv(&st, 8, 0); /* collisionCount: a pointer */
	meta(&d, "web");
	pm(&d, 2, &spec);
	pm(&d, 3, &st);
	envelope(&body, "apps/v1", "Deployment", &d);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		   "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"revisionHistoryLimit\":3,\"progressDeadlineSeconds\":600},"
		   "\"status\":{\"observedGeneration\":4,\"replicas\":2,\"updatedReplicas\":2,"
		   "\"availableReplicas\":1,\"unavailableReplicas\":1,\"readyReplicas\":2,"
		   "\"collisionCount\":0,\"conditions\":[{\"type\":\"Available\","
		   "\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\","
		   "\"message\":\"ok\",\"lastUpdateTime\":\"2023-11-14T22:13:20Z\","
		   "\"lastTransitionTime\":\"2023-11-14T22:13:21Z\"}]}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* apps/v1 ReplicaSetSpec (minReadySeconds 4) and ReplicaSetStatus
 * (observedGeneration 3, readyReplicas 4, availableReplicas 5),
 * ReplicaSetCondition (lastTransitionTime 3, reason 4, message 5). */
static void test_replicaset_status(void)
{
	struct buf rs = {0}, spec = {0}, st = {0}, cond = {0}, body = {0};
	pv(&spec, 1, 2);
	pv(&spec, 4, 10);
	pv(&st, 1, 2);
	pv(&st, 2, 2);
	pv(&st, 3, 7);
	pv(&st, 4, 1);
	pv(&st, 5, 1);
	ps(&cond, 1, "ReplicaFailure");
	ps(&cond, 2, "False");
	ptime(&cond, 3, 1700000000);
	ps(&cond, 4, "r");
	ps(&cond, 5, "m");
	pm(&st, 6, &cond);
	meta(&rs, "web-1");
	pm(&rs, 2, &spec);
	pm(&rs, 3, &st);
	envelope(&body, "apps/v1", "ReplicaSet", &rs);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
		   "\"metadata\":{\"name\":\"web-1\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"replicas\":2,\"minReadySeconds\":10},"
		   "\"status\":{\"replicas\":2,\"fullyLabeledReplicas\":2,"
		   "\"observedGeneration\":7,\"readyReplicas\":1,\"availableReplicas\":1,"
		   "\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"False\","
		   "\"lastTransitionTime\":\"2023-11-14T22:13:20Z\",\"reason\":\"r\","
		   "\"message\":\"m\"}]}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* meta/v1 ObjectMeta's later fields (generateName 2, deletionTimestamp 9,
 * deletionGracePeriodSeconds 10, ownerReferences 13, finalizers 14,
 * managedFields 17), OwnerReference (kind 1, name 3, uid 4, apiVersion 5,
 * controller 6, blockOwnerDeletion 7) and ManagedFieldsEntry (time 4,
 * fieldsType 6, fieldsV1 7, subresource 8). */
static void test_meta_owners_managed(void)
{
	struct buf m = {0}, own = {0}, mf = {0}, fv = {0}, ns = {0}, body = {0};
	ps(&m, 1, "n");
	ps(&m, 2, "n-");
	ptime(&m, 9, 1700000000);
	pv(&m, 10, 0);
	ps(&own, 1, "Deployment");
	ps(&own, 3, "web");
	ps(&own, 4, "u-1");
	ps(&own, 5, "apps/v1");
	pv(&own, 6, 1);
	pv(&own, 7, 0);
	pm(&m, 13, &own);
	ps(&m, 14, "kubernetes");
	ps(&mf, 1, "kubectl");
	ps(&mf, 2, "Update");
	ps(&mf, 3, "v1");
	ptime(&mf, 4, 1700000000);
	ps(&mf, 6, "FieldsV1");
	ps(&fv, 1, "{\"f:metadata\":{}}");
	pm(&mf, 7, &fv);
	ps(&mf, 8, "status");
	pm(&m, 17, &mf);
	pm(&ns, 1, &m);
	envelope(&body, "v1", "Namespace", &ns);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\","
		   "\"generateName\":\"n-\",\"deletionTimestamp\":\"2023-11-14T22:13:20Z\","
		   "\"deletionGracePeriodSeconds\":0,\"ownerReferences\":[{\"kind\":"
		   "\"Deployment\",\"name\":\"web\",\"uid\":\"u-1\",\"apiVersion\":\"apps/v1\","
		   "\"controller\":true,\"blockOwnerDeletion\":false}],"
		   "\"finalizers\":[\"kubernetes\"],\"managedFields\":[{\"manager\":\"kubectl\","
		   "\"operation\":\"Update\",\"apiVersion\":\"v1\","
		   "\"time\":\"2023-11-14T22:13:20Z\",\"fieldsType\":\"FieldsV1\","
		   "\"fieldsV1\":{\"f:metadata\":{}},\"subresource\":\"status\"}]}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* autoscaling/v1 Scale: spec {replicas 1}, status {replicas 1, selector 2}. */
static void test_scale(void)
{
	struct buf sc = {0}, spec = {0}, st = {0}, body = {0};
	pv(&spec, 1, 0);
	pv(&st, 1, 3);
	ps(&st, 2, "app=web");
	meta(&sc, "web");
	pm(&sc, 2, &spec);
	pm(&sc, 3, &st);
	envelope(&body, "autoscaling/v1", "Scale", &sc);
	struct seen s = {0};
	CHECK(
	    same(&body,
		 "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\","
		 "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
		 "\"spec\":{\"replicas\":0},\"status\":{\"replicas\":3,\"selector\":\"app=web\"}}",
		 &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* core/v1 fields newer than the rest: Container.restartPolicy 24,
 * VolumeMount.recursiveReadOnly 7, PodSecurityContext
 * supplementalGroupsPolicy 12 and seLinuxChangePolicy 13, PodSpec
 * hostUsers 37; Service: ServicePort.appProtocol 6, ServiceSpec
 * ipFamilyPolicy 17, clusterIPs 18, internalTrafficPolicy 22,
 * trafficDistribution 23. */
static void test_newer_core_fields(void)
{
	struct buf c = {0}, vm = {0}, sc = {0}, spec = {0}, pod = {0}, body = {0};
	ps(&c, 1, "init");
	ps(&vm, 1, "v");
	pv(&vm, 2, 1);
	ps(&vm, 3, "/v");
	ps(&vm, 7, "IfPossible");
	pm(&c, 9, &vm);
	ps(&c, 24, "Always");
	pm(&spec, 20, &c);
	ps(&sc, 12, "Strict");
	ps(&sc, 13, "MountOption");
	pm(&spec, 14, &sc);
	pv(&spec, 37, 0);
	meta(&pod, "p");
	pm(&pod, 2, &spec);
	envelope(&body, "v1", "Pod", &pod);
	struct seen s = {0};
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		   "\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"initContainers\":[{\"name\":\"init\",\"volumeMounts\":[{"
		   "\"name\":\"v\",\"readOnly\":true,\"mountPath\":\"/v\","
		   "\"recursiveReadOnly\":\"IfPossible\"}],\"restartPolicy\":\"Always\"}],"
		   "\"securityContext\":{\"supplementalGroupsPolicy\":\"Strict\","
		   "\"seLinuxChangePolicy\":\"MountOption\"},\"hostUsers\":false}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
	s = (struct seen){0};
	struct buf port = {0}, sspec = {0}, svc = {0};
	ps(&port, 1, "web");
	ps(&port, 6, "kubernetes.io/h2c");
	pv(&port, 3, 80);
	pm(&sspec, 1, &port);
	ps(&sspec, 17, "SingleStack");
	ps(&sspec, 18, "10.96.0.10");
	ps(&sspec, 22, "Local");
	ps(&sspec, 23, "PreferClose");
	meta(&svc, "s");
	pm(&svc, 2, &sspec);
	envelope(&body, "v1", "Service", &svc);
	CHECK(same(&body,
		   "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
		   "\"metadata\":{\"name\":\"s\",\"labels\":{\"app\":\"web\"}},"
		   "\"spec\":{\"ports\":[{\"name\":\"web\",\"appProtocol\":\"kubernetes.io/h2c\","
		   "\"port\":80}],\"ipFamilyPolicy\":\"SingleStack\",\"clusterIPs\":"
		   "[\"10.96.0.10\"],\"internalTrafficPolicy\":\"Local\","
		   "\"trafficDistribution\":\"PreferClose\"}}",
		   &s));
	CHECK(s.n == 0);
	buf_free(&body);
}

/* Every numbered field is in the schema; every schema field is numbered
 * (but apiVersion and kind, which travel in the envelope); no number twice. */
static void test_tables_match_schema(void)
{
	const struct pb_nums *t;
	for (size_t i = 0; (t = pb_numbers_at(i)); i++) {
		const struct sch_def *d = pb_schema_def(t->def);
		const struct pb_num *n;
		for (n = t->nums; n->num; n++) {
			for (const struct pb_num *o = n + 1; o->num; o++)
				if (o->num == n->num)
					fprintf(stderr, "  %s: %d twice\n", t->def, n->num);
			if (n->flags & PBN_INLINE) {
				CHECK(pb_numbers(n->inl) != NULL);
				continue;
			}
			if (d && !schema_field(d, n->field))
				fprintf(stderr, "  %s.%s: not in the schema\n", t->def, n->field);
			CHECK(!d || schema_field(d, n->field));
		}
	}
	size_t missing = 0;
	for (size_t i = 0; i < schema_count(); i++) {
		const struct sch_def *d = schema_at(i);
		const struct pb_nums *nums = pb_numbers(d->name);
		if (!nums) {
			fprintf(stderr, "  %s: no numbers\n", d->name);
			missing++;
			continue;
		}
		for (size_t f = 0; f < d->nfields; f++) {
			const char *name = d->fields[f].name;
			if (!strcmp(name, "apiVersion") || !strcmp(name, "kind"))
				if (d->kind ||
				    !strcmp(d->name, "io.k8s.apimachinery.pkg.apis.meta.v1."
						     "DeleteOptions"))
					continue;
			/* the schema shares DeploymentCondition's rows; Kubernetes'
			 * ReplicaSetCondition has no lastUpdateTime */
			if (!strcmp(d->name, "io.k8s.api.apps.v1.ReplicaSetCondition") &&
			    !strcmp(name, "lastUpdateTime"))
				continue;
			bool found = false;
			for (const struct pb_num *n = nums->nums; n->num && !found; n++) {
				const struct pb_nums *in =
				    n->flags & PBN_INLINE ? pb_numbers(n->inl) : NULL;
				for (const struct pb_num *m = in ? in->nums : NULL; m && m->num;
				     m++)
					found |= !strcmp(m->field, name);
				found |= n->field && !strcmp(n->field, name);
			}
			if (!found) {
				fprintf(stderr, "  %s.%s: no number\n", d->name, name);
				missing++;
			}
		}
	}
	CHECK(missing == 0);
}

int main(void)
{
	RUN(test_deployment_replicas_zero);
	RUN(test_pod_container);
	RUN(test_service);
	RUN(test_configmap);
	RUN(test_unknown_fields);
	RUN(test_eviction_delete_options);
	RUN(test_refusals);
	RUN(test_deployment_status);
	RUN(test_replicaset_status);
	RUN(test_meta_owners_managed);
	RUN(test_scale);
	RUN(test_newer_core_fields);
	RUN(test_tables_match_schema);
	return unit_done();
}
