/*
 * valid_pod_defaults.c - pod specs: the defaults Kubernetes fills in
 * (vpod_default) and what an update of a running pod may change
 * (vpod_update); validation is valid_pod.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"
#include "engine/valid/valid_int.h"

/* --- defaults ------------------------------------------------------------- */

/* Kubernetes: Always for ":latest" or an untagged, undigested image. */
static const char *pull_policy(const char *image)
{
	size_t n = strcspn(image, "@");
	size_t base = 0;

	for (size_t i = 0; i < n; i++)
		if (image[i] == '/')
			base = i + 1;
	const char *colon = memchr(image + base, ':', n - base);
	if (colon)
		return (size_t)(image + n - colon - 1) == 6 && !strncmp(colon + 1, "latest", 6)
			   ? "Always"
			   : "IfNotPresent";
	return image[n] == '@' ? "IfNotPresent" : "Always";
}

/* Probe counts where Kubernetes takes 0 as unset. */
static void default_nonzero(json_t *m, const char *key, int64_t v)
{
	json_t *old = vget(m, key);

	if (!old || (json_is_integer(old) && json_integer_value(old) == 0))
		json_object_set_new(m, key, json_integer(v));
}

/* Defaults of one container; a Pod's (is_pod) also requests its limits. */
static void default_container(json_t *ctr, bool is_pod)
{
	json_t *image = vget(ctr, "image"), *p, *probe, *h;
	size_t i;

	if (!json_is_object(ctr))
		return;
	if (json_is_string(image))
		vdefault(ctr, "imagePullPolicy",
			 json_string(pull_policy(json_string_value(image))));
	vdefault(ctr, "terminationMessagePath", json_string("/dev/termination-log"));
	vdefault(ctr, "terminationMessagePolicy", json_string("File"));
	json_array_foreach(vget(ctr, "ports"), i, p)
	{
		if (json_is_object(p))
			vdefault(p, "protocol", json_string("TCP"));
	}
	for (i = 0; vpod_probe_names[i]; i++) {
		probe = vget(ctr, vpod_probe_names[i]);
		if (!json_is_object(probe))
			continue;
		default_nonzero(probe, "timeoutSeconds", 1);
		default_nonzero(probe, "periodSeconds", 10);
		default_nonzero(probe, "successThreshold", 1);
		default_nonzero(probe, "failureThreshold", 3);
		h = vget(probe, "httpGet");
		if (json_is_object(h)) {
			vdefault(h, "path", json_string("/"));
			vdefault(h, "scheme", json_string("HTTP"));
		}
	}

	/* A Pod (not a template) requests what it limits, unless it says otherwise. */
	json_t *res = vget(ctr, "resources"), *lim = vget(res, "limits"), *req, *v;
	const char *k;
	if (!is_pod || !json_is_object(lim) || !json_object_size(lim))
		return;
	vdefault(res, "requests", json_object());
	req = vget(res, "requests");
	if (!json_is_object(req))
		return;
	json_object_foreach(lim, k, v)
	{
		vdefault(req, k, json_deep_copy(v));
	}
}

void vpod_default(json_t *spec, bool is_pod)
{
	json_t *ctr, *vol, *src;
	size_t i;

	if (!json_is_object(spec))
		return;
	vdefault(spec, "restartPolicy", json_string("Always"));
	vdefault(spec, "terminationGracePeriodSeconds", json_integer(30));
	vdefault(spec, "dnsPolicy", json_string("ClusterFirst"));
	vdefault(spec, "schedulerName", json_string("default-scheduler"));
	vdefault(spec, "securityContext", json_object());
	json_array_foreach(vget(spec, "containers"), i, ctr)
	{
		default_container(ctr, is_pod);
	}
	json_array_foreach(vget(spec, "initContainers"), i, ctr)
	{
		default_container(ctr, is_pod);
	}
	json_array_foreach(vget(spec, "volumes"), i, vol)
	{
		size_t s;

		if (!json_is_object(vol))
			continue;
		for (s = 0; vpod_volume_sources[s]; s++)
			if (vget(vol, vpod_volume_sources[s]))
				break;
		if (!vpod_volume_sources[s])
			json_object_set_new(vol, "emptyDir", json_object());
		src = vget(vol, "configMap");
		if (!json_is_object(src))
			src = vget(vol, "secret");
		if (json_is_object(src))
			vdefault(src, "defaultMode", json_integer(0644));
	}
}

/* --- updates -------------------------------------------------------------- */

/* Copies each old container's image into the same container of cp. */
static void take_images(json_t *cp, const json_t *old, const char *field)
{
	json_t *nl = vget(cp, field), *ol = vget(old, field);

	if (!json_is_array(nl) || !json_is_array(ol) || json_array_size(nl) != json_array_size(ol))
		return;
	for (size_t i = 0; i < json_array_size(nl); i++) {
		json_t *n = json_array_get(nl, i), *o = json_array_get(ol, i);

		if (json_is_object(n) && json_is_object(o) && vget(o, "image"))
			json_object_set(n, "image", vget(o, "image"));
	}
}

/*
 * Whether toleration o is kept in tols: as it was, or with other
 * tolerationSeconds.  The tolerations that DefaultTolerationSeconds admission
 * gives every pod (Exists/NoExecute for not-ready and unreachable nodes) count
 * as kept when tols says nothing of their key: Kubernetes admits updates too.
 */
static bool toleration_kept(const json_t *o, const json_t *tols)
{
	_cleanup_json_ json_t *oc = json_deep_copy(o);
	const char *key = json_string_value(vget(o, "key"));
	bool named = false;
	json_t *t;
	size_t i;

	json_array_foreach(tols, i, t)
	{
		named |= streq(key, json_string_value(vget(t, "key")));
	}
	if (!named &&
	    (streq(key, "node.kubernetes.io/not-ready") ||
	     streq(key, "node.kubernetes.io/unreachable")) &&
	    streq(json_string_value(vget(o, "operator")), "Exists") &&
	    streq(json_string_value(vget(o, "effect")), "NoExecute"))
		return true;
	json_object_del(oc, "tolerationSeconds");
	json_array_foreach(tols, i, t)
	{
		_cleanup_json_ json_t *tc = json_deep_copy(t);
		json_object_del(tc, "tolerationSeconds");
		if (json_equal(oc, tc))
			return true;
	}
	return false;
}

/* The first field of mapping a that b lacks or holds differently, or the
 * other way round; "" when none (or when either is not a mapping). */
static const char *first_change(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)a, k, v)
	{
		if (!json_equal(v, json_object_get(b, k)))
			return k;
	}
	json_object_foreach((json_t *)b, k, v)
	{
		if (!json_object_get(a, k))
			return k;
	}
	return "";
}

int vpod_update(struct vc *c, const json_t *os, const json_t *ns)
{
	_cleanup_json_ json_t *cp = ns ? json_deep_copy(ns) : NULL;
	json_t *ov, *nv, *t;
	size_t i;

	if (!json_is_object(os) || !json_is_object(cp))
		goto compare;
	take_images(cp, os, "containers");
	take_images(cp, os, "initContainers");

	ov = vget(os, "activeDeadlineSeconds");
	nv = vget(ns, "activeDeadlineSeconds");
	if (ov && !nv)
		return vc_invalid(c, "activeDeadlineSeconds", json_null(),
				  "must not update from a positive integer to nil value");
	if (ov && nv && json_integer_value(nv) > json_integer_value(ov))
		return vc_invalid(c, "activeDeadlineSeconds", nv,
				  "must be less than or equal to previous value");
	if (ov)
		json_object_set(cp, "activeDeadlineSeconds", ov);
	else
		json_object_del(cp, "activeDeadlineSeconds");

	json_array_foreach(vget(os, "tolerations"), i, t)
	{
		if (!toleration_kept(t, vget(ns, "tolerations")))
			return vc_forbidden(c, "tolerations",
					    "existing toleration can not be modified except its "
					    "tolerationSeconds");
	}
	if (vget(os, "tolerations"))
		json_object_set(cp, "tolerations", vget(os, "tolerations"));
	else
		json_object_del(cp, "tolerations");

compare:
	if ((!os && !cp) || (os && cp && json_equal(os, cp)))
		return 0;
	const char *what = first_change(os, cp);
	return vc_forbidden(c, NULL,
			    "pod updates may not change fields other than "
			    "`spec.containers[*].image`, `spec.initContainers[*].image`, "
			    "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to "
			    "existing tolerations)%s%s%s",
			    *what ? "; spec." : "", what, *what ? " changed" : "");
}
