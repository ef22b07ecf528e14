/*
 * table.c - Table columns and cells per kind (see table.h).
 *
 * Each kind has a column list (name, type, priority, description) and a
 * function that appends its cells to a row, in the same order.  The
 * column names, their order and priorities, and the way each cell is
 * derived follow Kubernetes' printers (pkg/printers/internalversion);
 * the code and the descriptions are this project's own.
 */
#include "http/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/valid/hpa.h"

struct col {
	const char *name, *type, *format;
	int priority;
	const char *desc;
};

#define NAME_COL                                                                                   \
	{                                                                                          \
		"Name", "string", "name", 0, "The object's name, unique in its namespace."         \
	}
#define AGE_COL                                                                                    \
	{                                                                                          \
		"Age", "string", "", 0, "Time since the object was created."                       \
	}
#define TPL_COLS                                                                                   \
	{"Containers", "string", "", 1, "The template's container names."},                        \
	    {"Images", "string", "", 1, "The template's container images."},                       \
	{                                                                                          \
		"Selector", "string", "", 1, "The label selector of the pods it manages."          \
	}

static const struct col pod_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "Ready containers out of all containers."},
    {"Status", "string", "", 0, "The pod's aggregate state, from its containers."},
    {"Restarts", "string", "", 0, "Container restarts, and when the last one happened."},
    AGE_COL,
    {"IP", "string", "", 1, "The pod's IP address."},
    {"Node", "string", "", 1, "The node the pod is bound to."},
    {"Nominated Node", "string", "", 1, "The node preemption nominated."},
    {"Readiness Gates", "string", "", 1, "Readiness gates that are true, of all."},
    {0}};
static const struct col deploy_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "Ready pods out of the desired count."},
    {"Up-to-date", "string", "", 0, "Pods of the current template."},
    {"Available", "string", "", 0, "Pods available for at least minReadySeconds."},
    AGE_COL,
    TPL_COLS,
    {0}};
static const struct col rs_cols[] = {NAME_COL,
				     {"Desired", "integer", "", 0, "The desired number of pods."},
				     {"Current", "integer", "", 0, "The pods it has."},
				     {"Ready", "integer", "", 0, "Its ready pods."},
				     AGE_COL,
				     TPL_COLS,
				     {0}};
static const struct col svc_cols[] = {
    NAME_COL,
    {"Type", "string", "", 0, "How the service is exposed."},
    {"Cluster-IP", "string", "", 0, "The service's virtual IP in the cluster."},
    {"External-IP", "string", "", 0, "Addresses outside the cluster, if any."},
    {"Port(s)", "string", "", 0, "The ports the service serves."},
    AGE_COL,
    {"Selector", "string", "", 1, "The labels of the pods it routes to."},
    {0}};
static const struct col ep_cols[] = {
    NAME_COL, {"Endpoints", "string", "", 0, "Ready addresses and ports."}, AGE_COL, {0}};
static const struct col cm_cols[] = {
    NAME_COL, {"Data", "string", "", 0, "The number of keys."}, AGE_COL, {0}};
static const struct col secret_cols[] = {NAME_COL,
					 {"Type", "string", "", 0, "What the data holds."},
					 {"Data", "string", "", 0, "The number of keys."},
					 AGE_COL,
					 {0}};
static const struct col ns_cols[] = {
    NAME_COL, {"Status", "string", "", 0, "The namespace's phase."}, AGE_COL, {0}};
static const struct col node_cols[] = {
    NAME_COL,
    {"Status", "string", "", 0, "Whether the node is ready and schedulable."},
    {"Roles", "string", "", 0, "The node's roles, from its labels."},
    AGE_COL,
    {"Version", "string", "", 0, "The node agent's version."},
    {"Internal-IP", "string", "", 1, "The node's internal address."},
    {"External-IP", "string", "", 1, "The node's external address."},
    {"OS-Image", "string", "", 1, "The node's operating system."},
    {"Kernel-Version", "string", "", 1, "The node's kernel."},
    {"Container-Runtime", "string", "", 1, "The node's container runtime."},
    {0}};
static const struct col ev_cols[] = {
    {"Last Seen", "string", "", 0, "Time since the event last happened."},
    {"Type", "string", "", 0, "Normal or Warning."},
    {"Reason", "string", "", 0, "Why the event happened, in one word."},
    {"Object", "string", "", 0, "The object the event is about."},
    {"Subobject", "string", "", 1, "The part of the object, if any."},
    {"Source", "string", "", 1, "The component that reported it."},
    {"Message", "string", "", 0, "What happened."},
    {"First Seen", "string", "", 1, "Time since the event first happened."},
    {"Count", "string", "", 1, "How many times it happened."},
    {"Name", "string", "name", 1, "The event's name."},
    {0}};
static const struct col hpa_cols[] = {
    NAME_COL,
    {"Reference", "string", "", 0, "The object scaled: Kind/Name."},
    {"Targets", "string", "", 0, "Each metric now, over its target."},
    {"MinPods", "string", "", 0, "The fewest replicas."},
    {"MaxPods", "integer", "", 0, "The most replicas."},
    {"Replicas", "integer", "", 0, "The replicas the target has now."},
    AGE_COL,
    {0}};
static const struct col default_cols[] = {NAME_COL, AGE_COL, {0}};

/* Small JSON readers (absent: "" or 0) */

static const json_t *at(const json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

static const char *str(const json_t *o, const char *path)
{
	const char *s = json_string_value(at(o, path));
	return s ? s : "";
}

static json_int_t num(const json_t *o, const char *path)
{
	return json_integer_value(at(o, path));
}

static const char *or_none(const char *s)
{
	return *s ? s : "<none>";
}

int64_t table_parse_time(const char *s)
{
	struct tm tm = {0};
	if (!s || !*s)
		return -1;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return (int64_t)timegm(&tm);
}

void table_duration(int64_t s, char out[32])
{
	int64_t m = s / 60, h = s / 3600, d = h / 24;
	if (s < -1)
		snprintf(out, 32, "<invalid>");
	else if (s < 0)
		snprintf(out, 32, "0s");
	else if (s < 120)
		snprintf(out, 32, "%llds", (long long)s);
	else if (m < 10)
		snprintf(out, 32, s % 60 ? "%lldm%llds" : "%lldm", (long long)m,
			 (long long)(s % 60));
	else if (m < 180)
		snprintf(out, 32, "%lldm", (long long)m);
	else if (h < 8)
		snprintf(out, 32, m % 60 ? "%lldh%lldm" : "%lldh", (long long)h,
			 (long long)(m % 60));
	else if (h < 48)
		snprintf(out, 32, "%lldh", (long long)h);
	else if (h < 24 * 8)
		snprintf(out, 32, h % 24 ? "%lldd%lldh" : "%lldd", (long long)d,
			 (long long)(h % 24));
	else if (h < 24 * 365 * 2)
		snprintf(out, 32, "%lldd", (long long)d);
	else if (h < 24 * 365 * 8)
		snprintf(out, 32, d % 365 ? "%lldy%lldd" : "%lldy", (long long)(d / 365),
			 (long long)(d % 365));
	else
		snprintf(out, 32, "%lldy", (long long)(d / 365));
}

/* The age of a timestamp as a string cell ("<unknown>" when absent). */
static json_t *since(const char *ts, int64_t now)
{
	int64_t t = table_parse_time(ts);
	if (t < 0)
		return json_string("<unknown>");
	char d[32];
	table_duration(now - t, d);
	return json_string(d);
}

static void add_s(json_t *cells, const char *s)
{
	json_array_append_new(cells, json_string(s));
}

static void add_i(json_t *cells, json_int_t v)
{
	json_array_append_new(cells, json_integer(v));
}

/* Pods */

static bool cond_true(const json_t *conds, const char *type)
{
	size_t i;
	const json_t *c;
	json_array_foreach(conds, i, c) if (!strcmp(str(c, "type"), type)) return !strcmp(
	    str(c, "status"), "True");
	return false;
}

struct pod_acc {
	int restarts, ready;
	int64_t last; /* the latest restart's finish time, or 0 */
};

static void count_restart(struct pod_acc *a, const json_t *cs)
{
	a->restarts += (int)num(cs, "restartCount");
	int64_t t = table_parse_time(str(cs, "lastState.terminated.finishedAt"));
	if (t > a->last)
		a->last = t;
}

/* The reason a terminated state shows: its reason, else Signal:N / ExitCode:N. */
static void terminated_reason(const json_t *term, const char *prefix, char *out, size_t n)
{
	if (*str(term, "reason"))
		snprintf(out, n, "%s%s", prefix, str(term, "reason"));
	else if (num(term, "signal"))
		snprintf(out, n, "%sSignal:%lld", prefix, (long long)num(term, "signal"));
	else
		snprintf(out, n, "%sExitCode:%lld", prefix, (long long)num(term, "exitCode"));
}

static const json_t *spec_init(const json_t *pod, const char *name)
{
	size_t i;
	const json_t *c;
	json_array_foreach(at(pod, "spec.initContainers"), i,
			   c) if (!strcmp(str(c, "name"), name)) return c;
	return NULL;
}

static bool restartable(const json_t *c)
{
	return c && !strcmp(str(c, "restartPolicy"), "Always");
}

/* Init containers: sets status while initializing; returns whether it is. */
static bool pod_init(const json_t *pod, struct pod_acc *all, struct pod_acc *side, char *status,
		     size_t n)
{
	size_t i;
	const json_t *cs;
	size_t ninit = json_array_size(at(pod, "spec.initContainers"));
	json_array_foreach(at(pod, "status.initContainerStatuses"), i, cs)
	{
		const json_t *spec = spec_init(pod, str(cs, "name"));
		count_restart(all, cs);
		if (restartable(spec))
			count_restart(side, cs);
		const json_t *term = at(cs, "state.terminated");
		const char *wait = str(cs, "state.waiting.reason");
		if (term && num(term, "exitCode") == 0)
			continue;
		if (restartable(spec) && json_is_true(json_object_get(cs, "started"))) {
			if (json_is_true(json_object_get(cs, "ready")))
				side->ready++;
			continue;
		}
		if (term)
			terminated_reason(term, "Init:", status, n);
		else if (*wait && strcmp(wait, "PodInitializing"))
			snprintf(status, n, "Init:%s", wait);
		else
			snprintf(status, n, "Init:%zu/%zu", i, ninit);
		return true;
	}
	return false;
}

/* Regular containers, last first (the first container's reason wins). */
static void pod_main(const json_t *pod, struct pod_acc *a, char *status, size_t n)
{
	const json_t *v = at(pod, "status.containerStatuses");
	bool running = false;
	for (size_t i = json_array_size(v); i-- > 0;) {
		const json_t *cs = json_array_get(v, i);
		count_restart(a, cs);
		const json_t *term = at(cs, "state.terminated");
		if (*str(cs, "state.waiting.reason"))
			snprintf(status, n, "%s", str(cs, "state.waiting.reason"));
		else if (term)
			terminated_reason(term, "", status, n);
		else if (json_is_true(json_object_get(cs, "ready")) && at(cs, "state.running")) {
			running = true;
			a->ready++;
		}
	}
	if (!strcmp(status, "Completed") && running)
		snprintf(status, n, "%s",
			 cond_true(at(pod, "status.conditions"), "Ready") ? "Running" : "NotReady");
}

void table_pod_cells(const json_t *pod, int64_t now, struct table_pod_cells *out)
{
	char *st = out->status;
	size_t n = sizeof(out->status);
	const char *phase = str(pod, "status.phase");
	snprintf(st, n, "%s", *str(pod, "status.reason") ? str(pod, "status.reason") : phase);
	size_t i;
	const json_t *c;
	json_array_foreach(at(pod, "status.conditions"), i,
			   c) if (!strcmp(str(c, "type"), "PodScheduled") &&
				  !strcmp(str(c, "reason"), "SchedulingGated"))
	    snprintf(st, n, "SchedulingGated");
	int total = (int)json_array_size(at(pod, "spec.containers"));
	json_array_foreach(at(pod, "spec.initContainers"), i, c) total += restartable(c);
	struct pod_acc all = {0}, side = {0};
	bool initializing = pod_init(pod, &all, &side, st, n);
	struct pod_acc *a = &all;
	if (!initializing || cond_true(at(pod, "status.conditions"), "Initialized")) {
		a = &side;
		pod_main(pod, a, st, n);
	}
	bool terminal = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
	if (*str(pod, "metadata.deletionTimestamp")) {
		if (!strcmp(str(pod, "status.reason"), "NodeLost"))
			snprintf(st, n, "Unknown");
		else if (!terminal)
			snprintf(st, n, "Terminating");
	}
	snprintf(out->ready, sizeof(out->ready), "%d/%d", a->ready + (a == &side ? 0 : side.ready),
		 total);
	char d[32];
	table_duration(now - a->last, d);
	if (a->restarts && a->last > 0)
		snprintf(out->restarts, sizeof(out->restarts), "%d (%s ago)", a->restarts, d);
	else
		snprintf(out->restarts, sizeof(out->restarts), "%d", a->restarts);
}

static void pod_row(const json_t *o, json_t *cells, int64_t now)
{
	struct table_pod_cells pc;
	table_pod_cells(o, now, &pc);
	add_s(cells, str(o, "metadata.name"));
	add_s(cells, pc.ready);
	add_s(cells, pc.status);
	add_s(cells, pc.restarts);
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
	const char *ip = str(json_array_get(at(o, "status.podIPs"), 0), "ip");
	add_s(cells, or_none(*ip ? ip : str(o, "status.podIP")));
	add_s(cells, or_none(str(o, "spec.nodeName")));
	add_s(cells, or_none(str(o, "status.nominatedNodeName")));
	const json_t *gates = at(o, "spec.readinessGates");
	if (!json_array_size(gates)) {
		add_s(cells, "<none>");
		return;
	}
	size_t i, t = 0;
	const json_t *g;
	json_array_foreach(gates, i, g) t +=
	    cond_true(at(o, "status.conditions"), str(g, "conditionType"));
	char b[48];
	snprintf(b, sizeof(b), "%zu/%zu", t, json_array_size(gates));
	add_s(cells, b);
}

/* Selectors and templates */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the n strings of v and joins them with sep into a new string. */
static char *join_sorted(char **v, size_t n, const char *sep)
{
	qsort(v, n, sizeof(*v), cmp_str);
	struct buf b = {0};
	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i ? sep : "", v[i]);
		free(v[i]);
	}
	free(v);
	return buf_steal(&b, NULL);
}

/* "a=b,c=d" of a label map, keys sorted (empty: ""). */
static char *format_labels(const json_t *m)
{
	char **v = xcalloc(json_object_size(m) + 1, sizeof(*v));
	size_t n = 0;
	const char *k;
	const json_t *val;
	json_object_foreach((json_t *)m, k, val) v[n++] =
	    xasprintf("%s=%s", k, json_string_value(val) ? json_string_value(val) : "");
	return join_sorted(v, n, ",");
}

static char *format_expr(const json_t *e)
{
	const char *op = str(e, "operator"), *key = str(e, "key");
	if (!strcmp(op, "Exists"))
		return xstrdup(key);
	if (!strcmp(op, "DoesNotExist"))
		return xasprintf("!%s", key);
	const json_t *vals = json_object_get(e, "values");
	char **v = xcalloc(json_array_size(vals) + 1, sizeof(*v));
	size_t i;
	const json_t *x;
	json_array_foreach(vals, i, x) v[i] =
	    xstrdup(json_string_value(x) ? json_string_value(x) : "");
	char *list = join_sorted(v, json_array_size(vals), ",");
	char *s = xasprintf("%s %s (%s)", key, !strcmp(op, "NotIn") ? "notin" : "in", list);
	free(list);
	return s;
}

/* A LabelSelector object as Kubernetes writes it: requirements by key. */
static char *format_selector(const json_t *sel)
{
	const json_t *ml = json_object_get(sel, "matchLabels");
	const json_t *me = json_object_get(sel, "matchExpressions");
	char **v = xcalloc(json_object_size(ml) + json_array_size(me) + 1, sizeof(*v));
	size_t n = 0, i;
	const char *k;
	const json_t *val;
	json_object_foreach((json_t *)ml, k, val) v[n++] =
	    xasprintf("%s=%s", k, json_string_value(val) ? json_string_value(val) : "");
	json_array_foreach(me, i, val) v[n++] = format_expr(val);
	return join_sorted(v, n, ",");
}

static void add_owned(json_t *cells, char *s, bool none)
{
	add_s(cells, none && !*s ? "<none>" : s);
	free(s);
}

/* The wide cells of a workload: containers, images, selector. */
static void template_cells(const json_t *o, json_t *cells, bool none)
{
	struct buf names = {0}, images = {0};
	buf_puts(&names, "");
	buf_puts(&images, "");
	size_t i;
	const json_t *c;
	json_array_foreach(at(o, "spec.template.spec.containers"), i, c)
	{
		buf_printf(&names, "%s%s", i ? "," : "", str(c, "name"));
		buf_printf(&images, "%s%s", i ? "," : "", str(c, "image"));
	}
	add_s(cells, names.s);
	add_s(cells, images.s);
	buf_free(&names);
	buf_free(&images);
	add_owned(cells, format_selector(at(o, "spec.selector")), none);
}

static json_int_t replicas(const json_t *o)
{
	const json_t *r = at(o, "spec.replicas");
	return r ? json_integer_value(r) : 1;
}

static void deploy_row(const json_t *o, json_t *cells, int64_t now)
{
	char b[64];
	add_s(cells, str(o, "metadata.name"));
	snprintf(b, sizeof(b), "%lld/%lld", (long long)num(o, "status.readyReplicas"),
		 (long long)replicas(o));
	add_s(cells, b);
	add_i(cells, num(o, "status.updatedReplicas"));
	add_i(cells, num(o, "status.availableReplicas"));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
	template_cells(o, cells, false);
}

static void rs_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	add_i(cells, replicas(o));
	add_i(cells, num(o, "status.replicas"));
	add_i(cells, num(o, "status.readyReplicas"));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
	template_cells(o, cells, true);
}

/* Services and endpoints */

static char *join_strings(const json_t *arr, struct buf *b)
{
	size_t i;
	const json_t *x;
	json_array_foreach(arr, i, x) buf_printf(b, "%s%s", b->len ? "," : "",
						 json_string_value(x) ? json_string_value(x) : "");
	return b->s ? b->s : "";
}

static void svc_external(const json_t *o, struct buf *b)
{
	const char *type = *str(o, "spec.type") ? str(o, "spec.type") : "ClusterIP";
	const json_t *ext = at(o, "spec.externalIPs");
	if (!strcmp(type, "ExternalName")) {
		buf_puts(b, str(o, "spec.externalName"));
	} else if (!strcmp(type, "LoadBalancer")) {
		size_t i;
		const json_t *in;
		json_array_foreach(at(o, "status.loadBalancer.ingress"), i, in)
		{
			const char *a = *str(in, "ip") ? str(in, "ip") : str(in, "hostname");
			if (*a)
				buf_printf(b, "%s%s", b->len ? "," : "", a);
		}
		join_strings(ext, b);
		if (!b->len)
			buf_puts(b, "<pending>");
	} else if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort")) {
		join_strings(ext, b);
		if (!b->len)
			buf_puts(b, "<none>");
	} else {
		buf_puts(b, "<unknown>");
	}
}

static void svc_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	add_s(cells, *str(o, "spec.type") ? str(o, "spec.type") : "ClusterIP");
	const char *ip = json_string_value(json_array_get(at(o, "spec.clusterIPs"), 0));
	add_s(cells, or_none(ip ? ip : str(o, "spec.clusterIP")));
	struct buf b = {0};
	svc_external(o, &b);
	add_s(cells, b.s ? b.s : "");
	buf_free(&b);
	size_t i;
	const json_t *p;
	json_array_foreach(at(o, "spec.ports"), i, p)
	{
		const char *proto = *str(p, "protocol") ? str(p, "protocol") : "TCP";
		buf_printf(&b, "%s%lld", i ? "," : "", (long long)num(p, "port"));
		if (num(p, "nodePort") > 0)
			buf_printf(&b, ":%lld", (long long)num(p, "nodePort"));
		buf_printf(&b, "/%s", proto);
	}
	add_s(cells, b.len ? b.s : "<none>");
	buf_free(&b);
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
	add_owned(cells, format_labels(at(o, "spec.selector")), true);
}

/* "ip:port,..." for the first three, then " + N more...". */
static void ep_list(const json_t *o, struct buf *b)
{
	int shown = 0, count = 0;
	size_t i, j, k;
	const json_t *ss, *a, *p;
	json_array_foreach(at(o, "subsets"), i, ss)
	{
		const json_t *ports = json_object_get(ss, "ports");
		const json_t *addrs = json_object_get(ss, "addresses");
		size_t np = json_array_size(ports) ? json_array_size(ports) : 1;
		for (k = 0; k < np; k++) {
			p = json_array_get(ports, k);
			json_array_foreach(addrs, j, a)
			{
				count++;
				if (shown == 3)
					continue;
				const char *ip = str(a, "ip");
				const char *fmt = strchr(ip, ':') ? "[%s]" : "%s";
				buf_puts(b, shown++ ? "," : "");
				buf_printf(b, fmt, ip);
				if (p)
					buf_printf(b, ":%lld", (long long)num(p, "port"));
			}
		}
	}
	if (count > 3)
		buf_printf(b, " + %d more...", count - 3);
}

static void ep_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	struct buf b = {0};
	ep_list(o, &b);
	add_s(cells, b.len ? b.s : "<none>");
	buf_free(&b);
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

static void cm_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	add_i(cells, (json_int_t)(json_object_size(at(o, "data")) +
				  json_object_size(at(o, "binaryData"))));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

static void secret_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	add_s(cells, str(o, "type"));
	add_i(cells, (json_int_t)json_object_size(at(o, "data")));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

static void ns_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	add_s(cells, str(o, "status.phase"));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

/* Nodes and events */

static const char *node_addr(const json_t *o, const char *type)
{
	size_t i;
	const json_t *a;
	json_array_foreach(at(o, "status.addresses"), i,
			   a) if (!strcmp(str(a, "type"), type)) return str(a, "address");
	return "<none>";
}

static char *node_roles(const json_t *o)
{
	const json_t *labels = at(o, "metadata.labels");
	char **v = xcalloc(json_object_size(labels) + 1, sizeof(*v));
	size_t n = 0;
	const char *k;
	const json_t *val;
	json_object_foreach((json_t *)labels, k, val)
	{
		const char *role = NULL;
		if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24])
			role = k + 24;
		else if (!strcmp(k, "kubernetes.io/role") && *str(val, ""))
			role = json_string_value(val);
		bool dup = false;
		for (size_t i = 0; role && i < n; i++)
			dup |= !strcmp(v[i], role);
		if (role && !dup)
			v[n++] = xstrdup(role);
	}
	return join_sorted(v, n, ",");
}

static const char *or_unknown(const char *s)
{
	return *s ? s : "<unknown>";
}

static void node_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	const char *ready = "Unknown";
	size_t i;
	const json_t *c;
	json_array_foreach(at(o, "status.conditions"), i, c) if (!strcmp(str(c, "type"), "Ready"))
	    ready = strcmp(str(c, "status"), "True") ? "NotReady" : "Ready";
	char st[64];
	snprintf(st, sizeof(st), "%s%s", ready,
		 json_is_true(at(o, "spec.unschedulable")) ? ",SchedulingDisabled" : "");
	add_s(cells, st);
	add_owned(cells, node_roles(o), true);
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
	add_s(cells, str(o, "status.nodeInfo.kubeletVersion"));
	add_s(cells, node_addr(o, "InternalIP"));
	add_s(cells, node_addr(o, "ExternalIP"));
	add_s(cells, or_unknown(str(o, "status.nodeInfo.osImage")));
	add_s(cells, or_unknown(str(o, "status.nodeInfo.kernelVersion")));
	add_s(cells, or_unknown(str(o, "status.nodeInfo.containerRuntimeVersion")));
}

static void ev_row(const json_t *o, json_t *cells, int64_t now)
{
	const char *first = str(o, "firstTimestamp");
	if (!*first)
		first = str(o, "eventTime");
	const char *last = *str(o, "lastTimestamp") ? str(o, "lastTimestamp") : first;
	json_int_t count = num(o, "count");
	if (at(o, "series")) {
		last = str(o, "series.lastObservedTime");
		count = num(o, "series.count");
	} else if (!count) {
		count = 1;
	}
	json_array_append_new(cells, since(last, now));
	add_s(cells, str(o, "type"));
	add_s(cells, str(o, "reason"));
	char *kind = xstrdup(str(o, "involvedObject.kind"));
	for (char *p = kind; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	const char *name = str(o, "involvedObject.name");
	char *target = *name ? xasprintf("%s/%s", kind, name) : xstrdup(kind);
	add_owned(cells, target, false);
	free(kind);
	add_s(cells, str(o, "involvedObject.fieldPath"));
	const char *comp = str(o, "source.component"), *host = str(o, "source.host");
	comp = *comp ? comp : str(o, "reportingComponent");
	host = *host ? host : str(o, "reportingInstance");
	add_owned(cells, *host ? xasprintf("%s, %s", comp, host) : xstrdup(comp), false);
	char *msg = xstrdup(str(o, "message"));
	size_t n = strlen(msg);
	while (n && strchr(" \t\n\r", msg[n - 1]))
		msg[--n] = '\0';
	add_owned(cells, xstrdup(msg + strspn(msg, " \t\n\r")), false);
	free(msg);
	json_array_append_new(cells, since(first, now));
	add_i(cells, count);
	add_s(cells, str(o, "metadata.name"));
}

/* Dispatch */

typedef void (*row_fn)(const json_t *o, json_t *cells, int64_t now);

static void default_row(const json_t *o, json_t *cells, int64_t now)
{
	add_s(cells, str(o, "metadata.name"));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

/* kubectl get hpa: the reference, the metrics over their targets. */
static void hpa_row(const json_t *o, json_t *cells, int64_t now)
{
	char ref[512];
	add_s(cells, str(o, "metadata.name"));
	snprintf(ref, sizeof(ref), "%s/%s", str(o, "spec.scaleTargetRef.kind"),
		 str(o, "spec.scaleTargetRef.name"));
	add_s(cells, ref);
	char *t = hpa_targets(o);
	add_s(cells, t);
	free(t);
	if (json_is_integer(at(o, "spec.minReplicas"))) {
		char min[32];
		snprintf(min, sizeof(min), "%lld", (long long)num(o, "spec.minReplicas"));
		add_s(cells, min);
	} else {
		add_s(cells, "<unset>");
	}
	add_i(cells, num(o, "spec.maxReplicas"));
	add_i(cells, num(o, "status.currentReplicas"));
	json_array_append_new(cells, since(str(o, "metadata.creationTimestamp"), now));
}

static const struct {
	const struct col *cols;
	row_fn row;
} per_kind[KI_COUNT] = {
    [KI_NAMESPACE] = {ns_cols, ns_row},	 [KI_DEPLOYMENT] = {deploy_cols, deploy_row},
    [KI_REPLICASET] = {rs_cols, rs_row}, [KI_POD] = {pod_cols, pod_row},
    [KI_SERVICE] = {svc_cols, svc_row},	 [KI_ENDPOINTS] = {ep_cols, ep_row},
    [KI_CONFIGMAP] = {cm_cols, cm_row},	 [KI_NODE] = {node_cols, node_row},
    [KI_EVENT] = {ev_cols, ev_row},	 [KI_SECRET] = {secret_cols, secret_row},
    [KI_HPA] = {hpa_cols, hpa_row},
};

static int kind_index(const struct kind_info *k)
{
	long i = k - kind_table;
	return i >= 0 && i < KI_COUNT && per_kind[i].cols ? (int)i : -1;
}

json_t *table_columns(const struct kind_info *k)
{
	int i = kind_index(k);
	const struct col *c = i < 0 ? default_cols : per_kind[i].cols;
	json_t *a = json_array();
	for (; c->name; c++)
		json_array_append_new(a,
				      json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name,
						"type", c->type, "format", c->format, "description",
						c->desc, "priority", c->priority));
	return a;
}

/* The row's object: a PartialObjectMetadata, the object, or nothing. */
static json_t *row_object(const struct kind_info *k, const json_t *obj, enum table_include inc)
{
	if (inc == TABLE_INCLUDE_NONE)
		return NULL;
	if (inc == TABLE_INCLUDE_OBJECT) {
		json_t *c = json_copy((json_t *)obj);
		json_object_set_new(c, "apiVersion", json_string(k->api_version));
		json_object_set_new(c, "kind", json_string(k->kind));
		return c;
	}
	json_t *meta = json_copy(json_object_get(obj, "metadata"));
	if (!meta)
		meta = json_object();
	json_object_del(meta, "managedFields");
	return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
			 "meta.k8s.io/v1", "metadata", meta);
}

json_t *table_row(const struct kind_info *k, const json_t *obj, enum table_include inc, int64_t now)
{
	int i = kind_index(k);
	json_t *cells = json_array();
	(i < 0 ? default_row : per_kind[i].row)(obj, cells, now);
	json_t *row = json_pack("{s:o}", "cells", cells);
	json_t *o = row_object(k, obj, inc);
	if (o)
		json_object_set_new(row, "object", o);
	const char *phase = str(obj, "status.phase");
	if (k == KIND_POD && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
		json_object_set_new(row, "conditions",
				    json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed",
					      "status", "True", "reason", phase, "message",
					      *phase == 'S' ? "The pod has completed successfully."
							    : "The pod failed."));
	return row;
}

json_t *table_new(const char *version, const struct kind_info *k, bool headers, const char *rv,
		  json_t *rows)
{
	char av[32];
	snprintf(av, sizeof(av), "meta.k8s.io/%s", version);
	json_t *t = json_pack("{s:s, s:s, s:{}}", "kind", "Table", "apiVersion", av, "metadata");
	if (rv)
		json_object_set_new(json_object_get(t, "metadata"), "resourceVersion",
				    json_string(rv));
	json_object_set_new(t, "columnDefinitions", headers ? table_columns(k) : json_array());
	json_object_set_new(t, "rows", rows);
	return t;
}

/* True when the media range [p, end) names a Table of version v. */
static bool range_is_table(const char *p, const char *end, const char *v)
{
	char r[256];
	size_t n = (size_t)(end - p) < sizeof(r) - 1 ? (size_t)(end - p) : sizeof(r) - 1;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ')
			r[j++] = p[i];
	r[j] = '\0';
	char want[32];
	snprintf(want, sizeof(want), ";v=%s;", v);
	strcat(r, ";");
	return !strncmp(r, "application/json;", 17) && strstr(r, ";as=Table;") &&
	       strstr(r, ";g=meta.k8s.io;") && strstr(r, want);
}

const char *table_accept(const char *accept)
{
	for (const char *p = accept; p && *p;) {
		const char *end = p + strcspn(p, ",");
		if (range_is_table(p, end, "v1"))
			return "v1";
		if (range_is_table(p, end, "v1beta1"))
			return "v1beta1";
		p = *end ? end + 1 : end;
	}
	return NULL;
}

enum table_include table_include_parse(const char *s)
{
	if (s && !strcmp(s, "None"))
		return TABLE_INCLUDE_NONE;
	if (s && !strcmp(s, "Object"))
		return TABLE_INCLUDE_OBJECT;
	return TABLE_INCLUDE_METADATA;
}
