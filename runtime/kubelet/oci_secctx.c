/*
 * oci_secctx.c - see oci.h: the securityContext checks the kubelet makes
 * before it creates a container (runAsNonRoot, sysctls), and the rules
 * oci_config() shares with the pod plumbing (privilege escalation, user
 * namespaces).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/oci.h"

/* Kubernetes' safe sysctls (the kubelet's default allow list): namespaced
 * by the kernel and isolated from other pods. */
static const char *const safe_sysctls[] = {"kernel.shm_rmid_forced",
					   "net.ipv4.ip_local_port_range",
					   "net.ipv4.tcp_syncookies",
					   "net.ipv4.ping_group_range",
					   "net.ipv4.ip_unprivileged_port_start",
					   "net.ipv4.ip_local_reserved_ports",
					   "net.ipv4.tcp_keepalive_time",
					   "net.ipv4.tcp_fin_timeout",
					   "net.ipv4.tcp_keepalive_intvl",
					   "net.ipv4.tcp_keepalive_probes",
					   "net.ipv4.tcp_rmem",
					   "net.ipv4.tcp_wmem",
					   NULL};

json_t *oci_sc_get(const json_t *pod, const json_t *ctr, const char *field)
{
	json_t *v = json_object_get(json_object_get(ctr, "securityContext"), field);
	return v ? v : json_object_get(obj_at(pod, "spec.securityContext"), field);
}

/* "name_namespace(uid)", as the kubelet names a pod in its messages. */
static char *pod_label(const json_t *pod)
{
	const char *n = obj_str(pod, "metadata.name"), *ns = obj_str(pod, "metadata.namespace");
	const char *uid = obj_str(pod, "metadata.uid");
	return xasprintf("%s_%s(%s)", n ? n : "", ns ? ns : "", uid ? uid : "");
}

int oci_check_user(const json_t *pod, const json_t *ctr, const char *image_user, struct err **e)
{
	const json_t *uid = oci_sc_get(pod, ctr, "runAsUser");
	const char *cname = obj_str(ctr, "name");
	if (!json_is_true(oci_sc_get(pod, ctr, "runAsNonRoot")))
		return 0;
	_cleanup_free_ char *who = pod_label(pod);
	if (json_is_integer(uid))
		return json_integer_value(uid) != 0
			   ? 0
			   : err_make(e, EPERM,
				      "container's runAsUser breaks non-root policy (pod: \"%s\", "
				      "container: %s)",
				      who, cname ? cname : "");
	/* the image's user: "uid[:gid]" or a name; none is root */
	char user[256];
	snprintf(user, sizeof(user), "%s", image_user ? image_user : "");
	user[strcspn(user, ":")] = 0;
	if (*user && user[strspn(user, "0123456789")])
		return err_make(e, EPERM,
				"container has runAsNonRoot and image has non-numeric user (%s), "
				"cannot verify user is non-root (pod: \"%s\", container: %s)",
				user, who, cname ? cname : "");
	if (strtoll(user, NULL, 10) == 0)
		return err_make(e, EPERM,
				"container has runAsNonRoot and image will run as root (pod: "
				"\"%s\", container: %s)",
				who, cname ? cname : "");
	return 0;
}

/* name with '/' separators as '.' (the kubelet's NormalizeName) into out. */
static void sysctl_name(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", name);
	size_t dot = strcspn(out, "."), slash = strcspn(out, "/");
	if (slash < dot)
		for (char *p = out; *p; p++)
			*p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
}

int oci_check_sysctls(const json_t *pod, struct err **e)
{
	size_t i;
	json_t *s;

	json_array_foreach(obj_at(pod, "spec.securityContext.sysctls"), i, s)
	{
		const char *name = obj_str(s, "name");
		char n[256];
		bool ok = false;
		sysctl_name(name ? name : "", n, sizeof(n));
		for (size_t k = 0; safe_sysctls[k] && !ok; k++)
			ok = !strcmp(n, safe_sysctls[k]);
		if (!ok)
			return err_make(e, EPERM, "forbidden sysctl: \"%s\" not allowlisted", n);
		if (!json_is_string(json_object_get(s, "value")))
			return err_make(e, EINVAL, "sysctl \"%s\": no value", n);
	}
	return 0;
}

json_t *oci_sysctls(const json_t *pod)
{
	json_t *out = json_object();
	size_t i;
	json_t *s;

	json_array_foreach(obj_at(pod, "spec.securityContext.sysctls"), i, s)
	{
		char n[256];
		sysctl_name(obj_str(s, "name") ? obj_str(s, "name") : "", n, sizeof(n));
		if (obj_str(s, "value"))
			json_object_set_new(out, n, json_string(obj_str(s, "value")));
	}
	return out;
}

/* True when the capability list (securityContext.capabilities.add or
 * drop) names SYS_ADMIN or ALL. */
static bool names_sys_admin(const json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		const char *n = json_string_value(v);
		n = n && !strncasecmp(n, "CAP_", 4) ? n + 4 : n;
		if (n && (!strcasecmp(n, "SYS_ADMIN") || !strcasecmp(n, "ALL")))
			return true;
	}
	return false;
}

bool oci_may_escalate(const json_t *pod, const json_t *ctr)
{
	const json_t *sc = json_object_get(ctr, "securityContext");
	(void)pod;
	if (json_is_true(json_object_get(sc, "privileged")) ||
	    json_is_true(json_object_get(sc, "allowPrivilegeEscalation")))
		return true;
	/* CAP_SYS_ADMIN makes no_new_privs moot (Kubernetes forbids false with
	 * it); only an explicit false then still sets it */
	return names_sys_admin(obj_at(sc, "capabilities.add")) &&
	       !json_is_false(json_object_get(sc, "allowPrivilegeEscalation"));
}

bool oci_host_users(const json_t *pod)
{
	return !json_is_false(obj_at(pod, "spec.hostUsers"));
}

bool oci_proc_unmasked(const json_t *ctr)
{
	const char *pm = obj_str(ctr, "securityContext.procMount");
	return pm && !strcmp(pm, "Unmasked");
}
