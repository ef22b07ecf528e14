/*
 * api_psa.c - Pod Security admission (Kubernetes' PodSecurity plugin) and
 * the warnings an API call hands back to its face.  See api.h ("Pod
 * Security admission", "Warnings").
 *
 * Where it runs: api_put_new() and api_put_update() (every create and
 * update of a Pod or a Namespace, in its transaction) call
 * api_psa_admit(): a Namespace's labels are validated, a Pod that breaks
 * its namespace's enforce level is refused.  api_create_many() calls it
 * per item first, so that one refused pod does not fail its batch.  The
 * warn and audit modes are evaluated by the calls that take a user's
 * intent (api_apply, api_create, api_patch_ex) with api_psa_warning(),
 * inside the transaction, and their warning is handed to the caller's
 * thread after the call succeeded (api_psa_emit()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/log.h"
#include "engine/mem.h"

/* Warnings */

static __thread struct api_warnings *tls_warnings;

void api_warnings_collect(struct api_warnings *w)
{
	tls_warnings = w;
}

void api_warnings_free(struct api_warnings *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static void warnings_add(struct api_warnings *w, const char *msg)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], msg))
			return;
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = xstrdup(msg);
}

void api_psa_emit(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		  char *warning)
{
	if (!warning)
		return;
	if (tls_warnings)
		warnings_add(tls_warnings, warning);
	else
		api_event(a, "Warning", "PodSecurity", k->kind, ns, name, "%s", warning);
	free(warning);
}

/* Settings */

int api_set_pod_security_default(struct api *a, const char *level_version, struct err **e)
{
	struct psa_policy p;
	if (psa_parse_policy(level_version, &p, e) < 0)
		return err_wrap(e, "the Pod Security default");
	a->root->psa_default = p;
	char s[32];
	psa_policy_string(&p, s);
	log_info("psa", "namespaces without labels: enforce, warn and audit %s", s);
	return 0;
}

/* Policy of a namespace */

/* The policy of namespace ns (read in tx, or outside a transaction when
 * tx is NULL).  Labels that do not parse (never written through the API)
 * enforce restricted, failing closed. */
static void ns_policy(struct store_txn *tx, const struct api *a, const char *ns, struct psa_ns *out)
{
	struct sobj *n =
	    tx ? store_txn_get(tx, "Namespace", "", ns) : store_get(a->st, "Namespace", "", ns);
	const json_t *labels =
	    n ? json_object_get(json_object_get(n->obj, "metadata"), "labels") : NULL;
	static const struct psa_policy base = {PSA_BASELINE, PSA_LATEST};
	const struct psa_policy *dflt = a ? &a->root->psa_default : &base;
	if (psa_ns_policy(labels, dflt, out, NULL) < 0) {
		struct psa_policy strict = {PSA_RESTRICTED, PSA_LATEST};
		out->enforce = out->warn = out->audit = strict;
	}
	sobj_unref(n);
}

static const char *obj_ns_name(const json_t *obj, const char **name)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	*name = json_string_value(json_object_get(md, "name"));
	if (!*name)
		*name = "";
	return ns && *ns ? ns : "default";
}

/* Admission */

static int admit_namespace(const json_t *obj, struct err **e)
{
	struct psa_ns pol;
	const json_t *md = json_object_get(obj, "metadata");
	int r = psa_ns_policy(json_object_get(md, "labels"), NULL, &pol, e);
	if (r < 0)
		return err_wrap(e, "Namespace \"%s\"",
				json_string_value(json_object_get(md, "name")) ?: "");
	return 0;
}

int api_psa_admit(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		  const json_t *old, const json_t *obj, struct err **e)
{
	if (k == KIND_NAMESPACE)
		return admit_namespace(obj, e);
	if (k != KIND_POD || (old && !psa_significant_update(old, obj)))
		return 0;
	const char *name, *ns = obj_ns_name(obj, &name);
	struct psa_ns pol;
	ns_policy(tx, a, ns, &pol);
	char *why = psa_evaluate(json_object_get(obj, "metadata"), json_object_get(obj, "spec"),
				 &pol.enforce);
	if (!why)
		return 0;
	char lv[32];
	psa_policy_string(&pol.enforce, lv);
	int r = err_make(e, EACCES, "pods \"%s\" is forbidden: violates PodSecurity \"%s\": %s",
			 name, lv, why);
	free(why);
	return r;
}

/* Warn and audit */

char *api_psa_warning(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		      const json_t *old, const json_t *obj)
{
	const json_t *meta, *spec;
	if (!psa_pod_of(obj, k, &meta, &spec))
		return NULL;
	if (k == KIND_POD && old && !psa_significant_update(old, obj))
		return NULL;
	const char *name, *ns = obj_ns_name(obj, &name);
	struct psa_ns pol;
	ns_policy(tx, a, ns, &pol);
	char lv[32];
	char *audit = psa_evaluate(meta, spec, &pol.audit);
	if (audit) {
		psa_policy_string(&pol.audit, lv);
		log_info("psa", "audit: %s %s/%s would violate PodSecurity \"%s\": %s", k->kind, ns,
			 name, lv, audit);
		free(audit);
	}
	char *why = psa_evaluate(meta, spec, &pol.warn);
	if (!why)
		return NULL;
	psa_policy_string(&pol.warn, lv);
	char *w = xasprintf("would violate PodSecurity \"%s\": %s", lv, why);
	free(why);
	return w;
}
