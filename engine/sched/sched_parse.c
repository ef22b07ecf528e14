/*
 * sched_parse.c - Pods and Nodes parsed once into the plain structs the
 * scheduling plugins read (sched_plugins.c): requests, labels, taints,
 * tolerations, node selectors and affinity.  See sched.h.
 */
#include "engine/sched/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hmap.h"
#include "engine/mem.h"
#include "engine/sched/sched_int.h"
#include "engine/valid/valid.h"

/* --- parsing ------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

/* An effect name as a bit; 0 for none, -1 for a name we don't know (it
 * then matches no taint). */
static int parse_effect(const char *s)
{
	if (!s || !*s)
		return 0;
	if (!strcmp(s, "NoSchedule"))
		return SCHED_NO_SCHEDULE;
	if (!strcmp(s, "PreferNoSchedule"))
		return SCHED_PREFER_NO_SCHEDULE;
	if (!strcmp(s, "NoExecute"))
		return SCHED_NO_EXECUTE;
	return -1;
}

/* Strict decimal int64, as Kubernetes' Gt/Lt read labels. */
bool sched_parse_int(const char *s, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

/* Quantities (a resource list) */

#define HAS_CPU	 1u
#define HAS_MEM	 2u
#define HAS_PODS 4u

/* Reads cpu (millicores), memory (bytes) and pods of a ResourceList;
 * *has gets the HAS_* bits of those present.  0 or -EINVAL. */
static int parse_res(const json_t *list, struct sched_res *r, int64_t *pods, unsigned *has,
		     struct err **e)
{
	json_t *q;
	int64_t m;

	r->cpu = r->mem = 0;
	*has = 0;
	if ((q = json_object_get(list, "cpu"))) {
		if (quantity_parse(q, &m, e) < 0)
			return err_wrap(e, "cpu");
		r->cpu = m;
		*has |= HAS_CPU;
	}
	if ((q = json_object_get(list, "memory"))) {
		if (quantity_parse(q, &m, e) < 0)
			return err_wrap(e, "memory");
		r->mem = m / 1000 + (m % 1000 != 0);
		*has |= HAS_MEM;
	}
	if (pods && (q = json_object_get(list, "pods"))) {
		if (quantity_parse(q, &m, e) < 0)
			return err_wrap(e, "pods");
		*pods = m / 1000;
		*has |= HAS_PODS;
	}
	return 0;
}

/* A container's requests, actual and with the scoring defaults. */
static int container_requests(const json_t *c, struct sched_res *req, struct sched_res *nz,
			      struct err **e)
{
	unsigned has;
	int r = parse_res(json_object_get(json_object_get(c, "resources"), "requests"), req, NULL,
			  &has, e);
	if (r < 0)
		return r;
	nz->cpu = has & HAS_CPU ? req->cpu : SCHED_DEFAULT_CPU;
	nz->mem = has & HAS_MEM ? req->mem : SCHED_DEFAULT_MEM;
	return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Sum of the containers' requests; each init container runs alone
 * before them, so the pod needs the larger of that sum and each. */
static int pod_requests(struct sched_pod *p, const json_t *spec, struct err **e)
{
	struct sched_res req, nz;
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(spec, "containers"), i, c)
	{
		if (container_requests(c, &req, &nz, e) < 0)
			return err_wrap(e, "containers[%zu]", i);
		p->req.cpu += req.cpu;
		p->req.mem += req.mem;
		p->nz.cpu += nz.cpu;
		p->nz.mem += nz.mem;
	}
	json_array_foreach(json_object_get(spec, "initContainers"), i, c)
	{
		if (container_requests(c, &req, &nz, e) < 0)
			return err_wrap(e, "initContainers[%zu]", i);
		p->req.cpu = max64(p->req.cpu, req.cpu);
		p->req.mem = max64(p->req.mem, req.mem);
		p->nz.cpu = max64(p->nz.cpu, nz.cpu);
		p->nz.mem = max64(p->nz.mem, nz.mem);
	}
	return 0;
}

/* Labels and selectors */

static void parse_labels(const json_t *map, struct sched_label **out, size_t *n)
{
	const char *k;
	json_t *v;

	*n = 0;
	*out = NULL;
	if (!json_object_size(map))
		return;
	*out = xcalloc(json_object_size(map), sizeof(**out));
	json_object_foreach((json_t *)map, k, v)
	{
		if (!json_is_string(v))
			continue;
		(*out)[*n].key = xstrdup(k);
		(*out)[*n].value = xstrdup(json_string_value(v));
		(*n)++;
	}
}

static void free_labels(struct sched_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static int parse_op(const char *s, enum sched_op *op)
{
	static const char *const names[] = {
	    [SCHED_IN] = "In",	       [SCHED_NOT_IN] = "NotIn",
	    [SCHED_EXISTS] = "Exists", [SCHED_DOES_NOT_EXIST] = "DoesNotExist",
	    [SCHED_GT] = "Gt",	       [SCHED_LT] = "Lt",
	};
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*op = (enum sched_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One NodeSelectorRequirement into r (zeroed by the caller). */
static int parse_req(const json_t *j, bool field, struct sched_req *r, struct err **e)
{
	json_t *vals = json_object_get(j, "values"), *v;
	size_t i;

	r->key = dup_or_empty(jstr(j, "key"));
	r->field = field;
	if (parse_op(jstr(j, "operator"), &r->op) < 0)
		return err_make(e, EINVAL, "%s: unknown operator", r->key);
	if (field && strcmp(r->key, "metadata.name"))
		return err_make(e, EINVAL, "matchFields: unsupported key %s", r->key);
	r->values = xcalloc(json_array_size(vals) + 1, sizeof(char *));
	json_array_foreach(vals, i, v)
	{
		if (json_is_string(v))
			r->values[r->nvalues++] = xstrdup(json_string_value(v));
	}
	if ((r->op == SCHED_GT || r->op == SCHED_LT) &&
	    (r->nvalues != 1 || !sched_parse_int(r->values[0], &r->num)))
		return err_make(e, EINVAL, "%s: Gt and Lt take one integer value", r->key);
	return 0;
}

static void free_term(struct sched_term *t)
{
	for (size_t i = 0; i < t->nreqs; i++) {
		struct sched_req *r = &t->reqs[i];
		for (size_t j = 0; j < r->nvalues; j++)
			free(r->values[j]);
		free(r->values);
		free(r->key);
	}
	free(t->reqs);
}

/* A NodeSelectorTerm into t (zeroed by the caller). */
static int parse_term(const json_t *j, struct sched_term *t, struct err **e)
{
	json_t *exprs = json_object_get(j, "matchExpressions");
	json_t *fields = json_object_get(j, "matchFields");
	size_t n = json_array_size(exprs) + json_array_size(fields), i;
	json_t *r;

	t->reqs = xcalloc(n ? n : 1, sizeof(*t->reqs));
	json_array_foreach(exprs, i, r)
	{
		if (parse_req(r, false, &t->reqs[t->nreqs++], e) < 0)
			return err_wrap(e, "matchExpressions[%zu]", i);
	}
	json_array_foreach(fields, i, r)
	{
		if (parse_req(r, true, &t->reqs[t->nreqs++], e) < 0)
			return err_wrap(e, "matchFields[%zu]", i);
	}
	return 0;
}

static void free_tols(struct sched_toleration *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].key);
		free(t[i].value);
	}
	free(t);
}

static const struct sched_taint unschedulable_taint = {
    .key = (char *)"node.kubernetes.io/unschedulable",
    .value = (char *)"",
    .effect = SCHED_NO_SCHEDULE,
};

bool sched_pod_tolerates(const struct sched_pod *p, const struct sched_taint *taint)
{
	for (size_t i = 0; i < p->ntols; i++)
		if (sched_tolerates(&p->tols[i], taint))
			return true;
	return false;
}

/* spec.tolerations, spec.nodeSelector, required node affinity. */
static int pod_constraints(struct sched_pod *p, const json_t *spec, struct err **e)
{
	json_t *tols = json_object_get(spec, "tolerations"), *t;
	size_t i;

	p->tols = xcalloc(json_array_size(tols) + 1, sizeof(*p->tols));
	json_array_foreach(tols, i, t)
	{
		struct sched_toleration *x = &p->tols[p->ntols++];
		const char *op = jstr(t, "operator");
		x->key = dup_or_empty(jstr(t, "key"));
		x->value = dup_or_empty(jstr(t, "value"));
		x->exists = op && !strcmp(op, "Exists");
		x->effect = parse_effect(jstr(t, "effect"));
	}
	p->tol_unsched = sched_pod_tolerates(p, &unschedulable_taint);

	parse_labels(json_object_get(spec, "nodeSelector"), &p->selector, &p->nselector);

	json_t *na = json_object_get(json_object_get(spec, "affinity"), "nodeAffinity");
	json_t *terms =
	    json_object_get(json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution"),
			    "nodeSelectorTerms");
	p->terms = xcalloc(json_array_size(terms) + 1, sizeof(*p->terms));
	json_array_foreach(terms, i, t)
	{
		if (parse_term(t, &p->terms[p->nterms++], e) < 0)
			return err_wrap(e,
					"spec.affinity.nodeAffinity."
					"requiredDuringSchedulingIgnoredDuringExecution."
					"nodeSelectorTerms[%zu]",
					i);
	}
	return 0;
}

/* The controller ownerReference's uid, or NULL. */
static const char *controller_uid(const json_t *md)
{
	json_t *ref;
	size_t i;

	json_array_foreach(json_object_get(md, "ownerReferences"), i, ref)
	{
		if (json_is_true(json_object_get(ref, "controller")))
			return jstr(ref, "uid");
	}
	return NULL;
}

/* The message of a PodScheduled=False condition, or NULL. */
static const char *unschedulable_message(const json_t *status)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(status, "conditions"), i, c)
	{
		const char *type = jstr(c, "type"), *st = jstr(c, "status");
		if (type && !strcmp(type, "PodScheduled"))
			return st && !strcmp(st, "False") ? jstr(c, "message") : NULL;
	}
	return NULL;
}

int sched_pod_parse(const json_t *pod, struct sched_pod **out, struct err **e)
{
	const json_t *md = json_object_get(pod, "metadata");
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *status = json_object_get(pod, "status");
	struct sched_pod *p = xcalloc(1, sizeof(*p));
	const char *s;

	p->ns = dup_or_empty(jstr(md, "namespace"));
	p->name = dup_or_empty(jstr(md, "name"));
	p->uid = dup_or_empty(jstr(md, "uid"));
	p->key = xasprintf("%s/%s", p->ns, p->name);
	if ((s = jstr(spec, "nodeName")) && *s)
		p->node_name = xstrdup(s);
	if ((s = controller_uid(md)))
		p->owner = xstrdup(s);
	s = jstr(spec, "schedulerName");
	p->ours = !s || !*s || !strcmp(s, "default-scheduler");
	p->deleting = json_object_get(md, "deletionTimestamp") != NULL;
	s = jstr(status, "phase");
	p->finished = s && (!strcmp(s, "Succeeded") || !strcmp(s, "Failed"));
	if ((s = unschedulable_message(status)))
		p->unsched_msg = xstrdup(s);
	if (pod_requests(p, spec, e) < 0 || pod_constraints(p, spec, e) < 0) {
		int r = err_wrap(e, "pod %s", p->key);
		sched_pod_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void sched_pod_free(struct sched_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->key);
	free(p->node_name);
	free(p->owner);
	free_tols(p->tols, p->ntols);
	free_labels(p->selector, p->nselector);
	for (size_t i = 0; i < p->nterms; i++)
		free_term(&p->terms[i]);
	free(p->terms);
	free(p->unsched_msg);
	free(p);
}

int sched_node_parse(const json_t *node, struct sched_node **out, struct err **e)
{
	const json_t *md = json_object_get(node, "metadata");
	const json_t *spec = json_object_get(node, "spec");
	const json_t *status = json_object_get(node, "status");
	struct sched_node *n = xcalloc(1, sizeof(*n));
	struct sched_res alloc, cap;
	int64_t apods = 0, cpods = 0;
	unsigned ahas, chas;
	json_t *t;
	size_t i;

	n->name = dup_or_empty(jstr(md, "name"));
	n->present = true;
	n->idx = -1;
	if (parse_res(json_object_get(status, "allocatable"), &alloc, &apods, &ahas, e) < 0 ||
	    parse_res(json_object_get(status, "capacity"), &cap, &cpods, &chas, e) < 0) {
		int r = err_wrap(e, "node %s: status", n->name);
		sched_node_free(n);
		return r;
	}
	n->alloc.cpu = ahas & HAS_CPU ? alloc.cpu : cap.cpu;
	n->alloc.mem = ahas & HAS_MEM ? alloc.mem : cap.mem;
	n->alloc_pods = ahas & HAS_PODS ? apods : chas & HAS_PODS ? cpods : SCHED_DEFAULT_PODS;
	n->unschedulable = json_is_true(json_object_get(spec, "unschedulable"));
	parse_labels(json_object_get(md, "labels"), &n->labels, &n->nlabels);
	json_t *taints = json_object_get(spec, "taints");
	n->taints = xcalloc(json_array_size(taints) + 1, sizeof(*n->taints));
	json_array_foreach(taints, i, t)
	{
		struct sched_taint *x = &n->taints[n->ntaints++];
		x->key = dup_or_empty(jstr(t, "key"));
		x->value = dup_or_empty(jstr(t, "value"));
		x->effect = parse_effect(jstr(t, "effect"));
		if (x->effect < 0)
			x->effect = 0;
		if (x->effect == SCHED_PREFER_NO_SCHEDULE)
			n->nprefer++;
	}
	*out = n;
	return 0;
}

void sched_node_free(struct sched_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->ntaints; i++) {
		free(n->taints[i].key);
		free(n->taints[i].value);
	}
	free(n->taints);
	free_labels(n->labels, n->nlabels);
	free(n->name);
	free(n);
}
