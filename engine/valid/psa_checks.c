/*
 * psa_checks.c - the checks of the Pod Security Standards, one function
 * each, worded as Kubernetes' Pod Security admission words them (reason,
 * then the detail in parentheses).  See psa.h and psa_int.h.
 *
 * Lists of containers keep the pod's order (init containers, containers,
 * ephemeral containers); sets of values are sorted and unique, as
 * Kubernetes prints them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/psa_int.h"

/* --- helpers -------------------------------------------------------------- */

struct names {
	char **v;
	size_t n;
};

static void names_add(struct names *s, const char *x)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = xstrdup(x ? x : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds x to the set s (kept unique; sorted by names_sorted). */
static void set_add(struct names *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x ? x : ""))
			return;
	names_add(s, x);
}

static void names_sort(struct names *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static const char *plural(const char *one, const char *many, size_t n)
{
	return n == 1 ? one : many;
}

/* s in double quotes, quotes and backslashes escaped. */
static void quote(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_puts(b, "\\");
		buf_add(b, s, 1);
	}
	buf_puts(b, "\"");
}

/* "a", "b" */
static void join_quote(struct buf *b, const struct names *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_puts(b, ", ");
		quote(b, s->v[i]);
	}
}

static void join(struct buf *b, const struct names *s, const char *sep)
{
	for (size_t i = 0; i < s->n; i++)
		buf_printf(b, "%s%s", i ? sep : "", s->v[i]);
}

/* The i-th container of the pod across its init, regular and ephemeral
 * containers, or NULL past the last. */
static const json_t *ctr_at(const json_t *spec, size_t i)
{
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	for (size_t l = 0; l < 3; l++) {
		const json_t *a = json_object_get(spec, lists[l]);
		size_t n = json_array_size(a);
		if (i < n)
			return json_array_get(a, i);
		i -= n;
	}
	return NULL;
}

static const char *ctr_name(const json_t *c)
{
	const char *s = json_string_value(json_object_get(c, "name"));
	return s ? s : "";
}

static const json_t *sc_of(const json_t *o)
{
	return json_object_get(o, "securityContext");
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

/* "pod and containers "a", "b"" from the pod's flag and the containers. */
static void setters(struct buf *b, bool pod, const struct names *ctrs)
{
	if (pod)
		buf_puts(b, "pod");
	if (ctrs->n) {
		buf_printf(b, "%s%s ", pod ? " and " : "",
			   plural("container", "containers", ctrs->n));
		join_quote(b, ctrs);
	}
}

/* Pods that ask for a user namespace (hostUsers: false) are relaxed. */
static bool userns_pod(const struct psa_pod *p)
{
	return p->minor >= 34 && json_is_false(json_object_get(p->spec, "hostUsers"));
}

/* "reason (detail)" from the buffer holding the detail. */
static char *result(const char *reason, struct buf *detail)
{
	char *r = xasprintf("%s (%s)", reason, detail->s ? detail->s : "");
	buf_free(detail);
	return r;
}

/* "REASON (container(s) "a" DETAIL)" for a list of containers, or NULL. */
static char *ctr_result(const char *reason, struct names *bad, const char *detail)
{
	if (!bad->n)
		return NULL;
	struct buf b = {0};
	buf_printf(&b, "%s ", plural("container", "containers", bad->n));
	join_quote(&b, bad);
	buf_printf(&b, " %s", detail);
	names_free(bad);
	return result(reason, &b);
}

/* --- baseline ------------------------------------------------------------- */

static bool apparmor_type_ok(const json_t *sc)
{
	const json_t *prof = json_object_get(sc, "appArmorProfile");
	const char *t = json_string_value(json_object_get(prof, "type"));
	return !prof || (t && (!strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost")));
}

static char *check_apparmor(const struct psa_pod *p)
{
	struct names ctrs = {0}, values = {0}, anns = {0};
	bool pod = !apparmor_type_ok(sc_of(p->spec));
	if (pod)
		set_add(&values, str_at(sc_of(p->spec), "appArmorProfile", "type"));
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (!apparmor_type_ok(sc_of(c))) {
			names_add(&ctrs, ctr_name(c));
			set_add(&values, str_at(sc_of(c), "appArmorProfile", "type"));
		}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(p->meta, "annotations"), k, v)
	{
		const char *s = json_string_value(v);
		if (strncmp(k, "container.apparmor.security.beta.kubernetes.io/", 47) || !s ||
		    !*s || !strcmp(s, "runtime/default") || !strncmp(s, "localhost/", 10))
			continue;
		struct buf a = {0};
		buf_printf(&a, "%s=", k);
		quote(&a, s);
		names_add(&anns, a.s);
		buf_free(&a);
	}
	if (!pod && !ctrs.n && !anns.n)
		return NULL;
	names_sort(&values);
	names_sort(&anns);
	for (size_t i = 0; i < anns.n; i++)
		names_add(&values, anns.v[i]);
	struct buf b = {0};
	setters(&b, pod, &ctrs);
	if (anns.n)
		buf_printf(&b, "%s%s", pod || ctrs.n ? " and " : "",
			   plural("annotation", "annotations", anns.n));
	buf_puts(&b, " must not set AppArmor profile type to ");
	join_quote(&b, &values);
	char *r = result(
	    plural("forbidden AppArmor profile", "forbidden AppArmor profiles", values.n), &b);
	names_free(&ctrs);
	names_free(&values);
	names_free(&anns);
	return r;
}

static char *check_host_namespaces(const struct psa_pod *p)
{
	/* Sorted, as Kubernetes lists them. */
	static const char *const keys[] = {"hostIPC", "hostNetwork", "hostPID"};
	struct names set = {0};
	for (size_t i = 0; i < 3; i++)
		if (json_is_true(json_object_get(p->spec, keys[i])))
			names_add(&set, keys[i]);
	if (!set.n)
		return NULL;
	struct buf b = {0};
	join(&b, &set, ", ");
	names_free(&set);
	return result("host namespaces", &b);
}

static char *check_host_ports(const struct psa_pod *p)
{
	struct names ctrs = {0}, ports = {0};
	const json_t *c, *port;
	size_t j;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		bool bad = false;
		json_array_foreach(json_object_get(c, "ports"), j, port)
		{
			json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
			if (!hp)
				continue;
			char s[24];
			snprintf(s, sizeof(s), "%lld", (long long)hp);
			set_add(&ports, s);
			bad = true;
		}
		if (bad)
			names_add(&ctrs, ctr_name(c));
	}
	if (!ctrs.n)
		return NULL;
	names_sort(&ports);
	struct buf b = {0};
	buf_printf(&b, "%s ", plural("container", "containers", ctrs.n));
	join_quote(&b, &ctrs);
	buf_printf(&b, " %s %s ", plural("uses", "use", ctrs.n),
		   plural("hostPort", "hostPorts", ports.n));
	join(&b, &ports, ", ");
	names_free(&ctrs);
	names_free(&ports);
	return result("hostPort", &b);
}

/* Adds the host of a probe or handler's httpGet and tcpSocket to hosts. */
static bool probe_hosts(const json_t *h, struct names *hosts)
{
	bool bad = false;
	static const char *const kinds[] = {"httpGet", "tcpSocket"};
	for (size_t i = 0; i < 2; i++) {
		const char *host = str_at(h, kinds[i], "host");
		if (host && *host) {
			set_add(hosts, host);
			bad = true;
		}
	}
	return bad;
}

static char *check_host_probes(const struct psa_pod *p)
{
	static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
	struct names ctrs = {0}, hosts = {0};
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		bool bad = false;
		for (size_t k = 0; k < 3; k++)
			bad |= probe_hosts(json_object_get(c, probes[k]), &hosts);
		const json_t *lc = json_object_get(c, "lifecycle");
		bad |= probe_hosts(json_object_get(lc, "postStart"), &hosts);
		bad |= probe_hosts(json_object_get(lc, "preStop"), &hosts);
		if (bad)
			set_add(&ctrs, ctr_name(c));
	}
	if (!ctrs.n)
		return NULL;
	names_sort(&ctrs);
	names_sort(&hosts);
	struct buf b = {0};
	buf_printf(&b, "%s ", plural("container", "containers", ctrs.n));
	join_quote(&b, &ctrs);
	buf_printf(&b, " %s %s ", plural("uses", "use", ctrs.n),
		   plural("probe or lifecycle host", "probe or lifecycle hosts", hosts.n));
	join_quote(&b, &hosts);
	names_free(&ctrs);
	names_free(&hosts);
	return result("probe or lifecycle host", &b);
}

static char *check_privileged(const struct psa_pod *p)
{
	struct names bad = {0};
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (json_is_true(json_object_get(sc_of(c), "privileged")))
			names_add(&bad, ctr_name(c));
	return ctr_result("privileged", &bad, "must not set securityContext.privileged=true");
}

static char *check_proc_mount(const struct psa_pod *p)
{
	if (userns_pod(p))
		return NULL;
	struct names bad = {0}, types = {0};
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		const json_t *pm = json_object_get(sc_of(c), "procMount");
		const char *s = json_string_value(pm);
		if (!pm || json_is_null(pm) || (s && !strcmp(s, "Default")))
			continue;
		names_add(&bad, ctr_name(c));
		set_add(&types, s ? s : "");
	}
	if (!bad.n)
		return NULL;
	names_sort(&types);
	struct buf d = {0};
	buf_puts(&d, "must not set securityContext.procMount to ");
	join_quote(&d, &types);
	char *r = ctr_result("procMount", &bad, d.s);
	buf_free(&d);
	names_free(&types);
	return r;
}

struct selinux_bad {
	struct names types;
	bool user, role;
};

static bool selinux_ok(const json_t *sc, struct selinux_bad *sb)
{
	const json_t *o = json_object_get(sc, "seLinuxOptions");
	if (!o)
		return true;
	bool ok = true;
	const char *t = json_string_value(json_object_get(o, "type"));
	t = t ? t : "";
	if (*t && strcmp(t, "container_t") && strcmp(t, "container_init_t") &&
	    strcmp(t, "container_kvm_t")) {
		set_add(&sb->types, t);
		ok = false;
	}
	const char *u = json_string_value(json_object_get(o, "user"));
	const char *r = json_string_value(json_object_get(o, "role"));
	if (u && *u) {
		sb->user = true;
		ok = false;
	}
	if (r && *r) {
		sb->role = true;
		ok = false;
	}
	return ok;
}

static char *check_selinux(const struct psa_pod *p)
{
	struct selinux_bad sb = {{0}, false, false};
	struct names ctrs = {0};
	bool pod = !selinux_ok(sc_of(p->spec), &sb);
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (!selinux_ok(sc_of(c), &sb))
			names_add(&ctrs, ctr_name(c));
	if (!pod && !ctrs.n)
		return NULL;
	struct buf b = {0};
	setters(&b, pod, &ctrs);
	buf_puts(&b, " set forbidden securityContext.seLinuxOptions: ");
	const char *sep = "";
	if (sb.types.n) {
		names_sort(&sb.types);
		buf_printf(&b, "%s ", plural("type", "types", sb.types.n));
		join_quote(&b, &sb.types);
		sep = "; ";
	}
	if (sb.user) {
		buf_printf(&b, "%suser may not be set", sep);
		sep = "; ";
	}
	if (sb.role)
		buf_printf(&b, "%srole may not be set", sep);
	names_free(&ctrs);
	names_free(&sb.types);
	return result("seLinuxOptions", &b);
}

static char *check_sysctls(const struct psa_pod *p)
{
	static const char *const safe[] = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
					   "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
					   "net.ipv4.ip_unprivileged_port_start"};
	struct names bad = {0};
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(sc_of(p->spec), "sysctls"), i, s)
	{
		const char *n = json_string_value(json_object_get(s, "name"));
		bool ok = false;
		for (size_t k = 0; n && k < sizeof(safe) / sizeof(safe[0]); k++)
			ok |= !strcmp(n, safe[k]);
		if (!ok)
			names_add(&bad, n ? n : "");
	}
	if (!bad.n)
		return NULL;
	struct buf b = {0};
	join(&b, &bad, ", ");
	names_free(&bad);
	return result("forbidden sysctls", &b);
}

static char *check_host_process(const struct psa_pod *p)
{
	struct names ctrs = {0};
	bool pod = json_is_true(
	    json_object_get(json_object_get(sc_of(p->spec), "windowsOptions"), "hostProcess"));
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (json_is_true(json_object_get(json_object_get(sc_of(c), "windowsOptions"),
						 "hostProcess")))
			names_add(&ctrs, ctr_name(c));
	if (!pod && !ctrs.n)
		return NULL;
	struct buf b = {0};
	setters(&b, pod, &ctrs);
	buf_puts(&b, " must not set securityContext.windowsOptions.hostProcess=true");
	names_free(&ctrs);
	return result("hostProcess", &b);
}

static char *check_caps_baseline(const struct psa_pod *p)
{
	static const char *const allowed[] = {
	    "AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE",	 "FOWNER",  "FSETID",
	    "KILL",	   "MKNOD",  "NET_BIND_SERVICE", "SETFCAP", "SETGID",
	    "SETPCAP",	   "SETUID", "SYS_CHROOT"};
	struct names ctrs = {0}, caps = {0};
	const json_t *c, *cap;
	size_t j;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		bool bad = false;
		json_array_foreach(
		    json_object_get(json_object_get(sc_of(c), "capabilities"), "add"), j, cap)
		{
			const char *s = json_string_value(cap);
			bool ok = false;
			for (size_t k = 0; s && k < sizeof(allowed) / sizeof(allowed[0]); k++)
				ok |= !strcmp(s, allowed[k]);
			if (!ok) {
				set_add(&caps, s ? s : "");
				bad = true;
			}
		}
		if (bad)
			names_add(&ctrs, ctr_name(c));
	}
	if (!ctrs.n)
		return NULL;
	names_sort(&caps);
	struct buf d = {0};
	buf_puts(&d, "must not include ");
	join_quote(&d, &caps);
	buf_puts(&d, " in securityContext.capabilities.add");
	char *r = ctr_result("non-default capabilities", &ctrs, d.s);
	buf_free(&d);
	names_free(&caps);
	return r;
}

static char *check_host_path(const struct psa_pod *p)
{
	struct names vols = {0};
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(p->spec, "volumes"), i, v)
	{
		if (json_object_get(v, "hostPath"))
			names_add(&vols, json_string_value(json_object_get(v, "name")));
	}
	if (!vols.n)
		return NULL;
	struct buf b = {0};
	buf_printf(&b, "%s ", plural("volume", "volumes", vols.n));
	join_quote(&b, &vols);
	names_free(&vols);
	return result("hostPath volumes", &b);
}

static bool seccomp_ok(const char *t)
{
	return t && (!strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost"));
}

/* The explicit seccomp profiles that are not allowed: "pod and container
 * "c" must not set securityContext.seccompProfile.type to "Unconfined"".
 * *pod_ok tells whether the pod sets an allowed one; implicit gets the
 * containers that set none. */
static char *seccomp_fields(const struct psa_pod *p, bool *pod_ok, struct names *implicit)
{
	struct names ctrs = {0}, values = {0};
	const json_t *psp = json_object_get(sc_of(p->spec), "seccompProfile");
	const char *pt = json_string_value(json_object_get(psp, "type"));
	bool pod = psp && !seccomp_ok(pt);
	*pod_ok = psp && !pod;
	if (pod)
		set_add(&values, pt ? pt : "");
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		const json_t *sp = json_object_get(sc_of(c), "seccompProfile");
		const char *t = json_string_value(json_object_get(sp, "type"));
		if (sp && !seccomp_ok(t)) {
			names_add(&ctrs, ctr_name(c));
			set_add(&values, t ? t : "");
		} else if (!sp && implicit) {
			names_add(implicit, ctr_name(c));
		}
	}
	if (!pod && !ctrs.n)
		return NULL;
	names_sort(&values);
	struct buf b = {0};
	setters(&b, pod, &ctrs);
	buf_puts(&b, " must not set securityContext.seccompProfile.type to ");
	join_quote(&b, &values);
	names_free(&ctrs);
	names_free(&values);
	return result("seccompProfile", &b);
}

/* Before v1.19: the alpha annotations. */
static char *seccomp_annotations(const struct psa_pod *p)
{
	const json_t *anns = json_object_get(p->meta, "annotations");
	struct names bad = {0};
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)anns, k, v)
	{
		const char *s = json_string_value(v);
		bool ours = !strcmp(k, "seccomp.security.alpha.kubernetes.io/pod") ||
			    !strncmp(k, "container.seccomp.security.alpha.kubernetes.io/", 47);
		if (!ours || (s && (!strcmp(s, "runtime/default") || !strcmp(s, "docker/default") ||
				    !strncmp(s, "localhost/", 10))))
			continue;
		struct buf a = {0};
		buf_printf(&a, "%s=", k);
		quote(&a, s ? s : "");
		names_add(&bad, a.s);
		buf_free(&a);
	}
	if (!bad.n)
		return NULL;
	names_sort(&bad);
	struct buf b = {0};
	buf_printf(&b, "forbidden %s ", plural("annotation", "annotations", bad.n));
	join(&b, &bad, ", ");
	names_free(&bad);
	return result("seccompProfile", &b);
}

static char *check_seccomp_baseline(const struct psa_pod *p)
{
	bool pod_ok;
	return p->minor >= 19 ? seccomp_fields(p, &pod_ok, NULL) : seccomp_annotations(p);
}

/* --- restricted ----------------------------------------------------------- */

static char *check_priv_escalation(const struct psa_pod *p)
{
	struct names bad = {0};
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (!json_is_false(json_object_get(sc_of(c), "allowPrivilegeEscalation")))
			names_add(&bad, ctr_name(c));
	return ctr_result("allowPrivilegeEscalation != false", &bad,
			  "must set securityContext.allowPrivilegeEscalation=false");
}

static char *check_caps_restricted(const struct psa_pod *p)
{
	struct names nodrop = {0}, adding = {0}, caps = {0};
	const json_t *c, *cap;
	size_t j;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		const json_t *cs = json_object_get(sc_of(c), "capabilities");
		bool all = false, bad = false;
		json_array_foreach(json_object_get(cs, "drop"), j, cap) all |=
		    json_is_string(cap) && !strcmp(json_string_value(cap), "ALL");
		json_array_foreach(json_object_get(cs, "add"), j, cap)
		{
			const char *s = json_string_value(cap);
			if (!s || strcmp(s, "NET_BIND_SERVICE")) {
				set_add(&caps, s ? s : "");
				bad = true;
			}
		}
		if (!all)
			names_add(&nodrop, ctr_name(c));
		if (bad)
			names_add(&adding, ctr_name(c));
	}
	if (!nodrop.n && !adding.n)
		return NULL;
	struct buf b = {0};
	if (nodrop.n) {
		buf_printf(&b, "%s ", plural("container", "containers", nodrop.n));
		join_quote(&b, &nodrop);
		buf_puts(&b, " must set securityContext.capabilities.drop=[\"ALL\"]");
	}
	if (adding.n) {
		names_sort(&caps);
		buf_printf(&b, "%s%s ", nodrop.n ? "; " : "",
			   plural("container", "containers", adding.n));
		join_quote(&b, &adding);
		buf_puts(&b, " must not include ");
		join_quote(&b, &caps);
		buf_puts(&b, " in securityContext.capabilities.add");
	}
	names_free(&nodrop);
	names_free(&adding);
	names_free(&caps);
	return result("unrestricted capabilities", &b);
}

static char *check_restricted_volumes(const struct psa_pod *p)
{
	static const char *const allowed[] = {"configMap", "csi",	"downwardAPI",
					      "emptyDir",  "ephemeral", "persistentVolumeClaim",
					      "projected", "secret"};
	static const char *const known[] = {"hostPath",
					    "gcePersistentDisk",
					    "awsElasticBlockStore",
					    "gitRepo",
					    "nfs",
					    "iscsi",
					    "glusterfs",
					    "rbd",
					    "flexVolume",
					    "cinder",
					    "cephfs",
					    "flocker",
					    "fc",
					    "azureFile",
					    "vsphereVolume",
					    "quobyte",
					    "azureDisk",
					    "photonPersistentDisk",
					    "portworxVolume",
					    "scaleIO",
					    "storageos"};
	struct names vols = {0}, types = {0};
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(p->spec, "volumes"), i, v)
	{
		bool ok = false;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			ok |= json_object_get(v, allowed[k]) != NULL;
		if (ok)
			continue;
		names_add(&vols, json_string_value(json_object_get(v, "name")));
		const char *type = "unknown";
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (json_object_get(v, known[k])) {
				type = known[k];
				break;
			}
		set_add(&types, type);
	}
	if (!vols.n)
		return NULL;
	names_sort(&types);
	struct buf b = {0};
	buf_printf(&b, "%s ", plural("volume", "volumes", vols.n));
	join_quote(&b, &vols);
	buf_printf(&b, " %s %s ", plural("uses", "use", vols.n),
		   plural("restricted volume type", "restricted volume types", types.n));
	join_quote(&b, &types);
	names_free(&vols);
	names_free(&types);
	return result("restricted volume types", &b);
}

static char *check_run_as_non_root(const struct psa_pod *p)
{
	if (userns_pod(p))
		return NULL;
	struct names bad = {0}, implicit = {0};
	const json_t *pv = json_object_get(sc_of(p->spec), "runAsNonRoot");
	bool pod = json_is_false(pv), pod_ok = json_is_true(pv);
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++) {
		const json_t *v = json_object_get(sc_of(c), "runAsNonRoot");
		if (json_is_false(v))
			names_add(&bad, ctr_name(c));
		else if (!json_is_true(v) && !pod_ok)
			names_add(&implicit, ctr_name(c));
	}
	struct buf b = {0};
	if (pod || bad.n) {
		setters(&b, pod, &bad);
		buf_puts(&b, " must not set securityContext.runAsNonRoot=false");
	} else if (implicit.n) {
		buf_printf(&b, "pod or %s ", plural("container", "containers", implicit.n));
		join_quote(&b, &implicit);
		buf_puts(&b, " must set securityContext.runAsNonRoot=true");
	}
	names_free(&bad);
	names_free(&implicit);
	if (!b.s)
		return NULL;
	return result("runAsNonRoot != true", &b);
}

static bool is_zero(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) == 0;
}

static char *check_run_as_user(const struct psa_pod *p)
{
	struct names bad = {0};
	bool pod = is_zero(json_object_get(sc_of(p->spec), "runAsUser"));
	const json_t *c;
	for (size_t i = 0; (c = ctr_at(p->spec, i)); i++)
		if (is_zero(json_object_get(sc_of(c), "runAsUser")))
			names_add(&bad, ctr_name(c));
	if (!pod && !bad.n)
		return NULL;
	struct buf b = {0};
	setters(&b, pod, &bad);
	buf_puts(&b, " must not set runAsUser=0");
	names_free(&bad);
	return result("runAsUser=0", &b);
}

static char *check_seccomp_restricted(const struct psa_pod *p)
{
	bool pod_ok;
	struct names implicit = {0};
	char *r = seccomp_fields(p, &pod_ok, &implicit);
	if (!r && !pod_ok && implicit.n) {
		struct buf b = {0};
		buf_printf(&b, "pod or %s ", plural("container", "containers", implicit.n));
		join_quote(&b, &implicit);
		buf_puts(&b,
			 " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
			 "\"Localhost\"");
		r = result("seccompProfile", &b);
	}
	names_free(&implicit);
	return r;
}

/* --- the table ------------------------------------------------------------ */

const struct psa_check psa_checks[] = {
    {"appArmorProfile", PSA_BASELINE, 0, false, NULL, check_apparmor},
    {"hostNamespaces", PSA_BASELINE, 0, false, NULL, check_host_namespaces},
    {"hostPorts", PSA_BASELINE, 0, false, NULL, check_host_ports},
    {"hostProbesAndHostLifecycle", PSA_BASELINE, 34, false, NULL, check_host_probes},
    {"privileged", PSA_BASELINE, 0, false, NULL, check_privileged},
    {"procMount", PSA_BASELINE, 0, false, NULL, check_proc_mount},
    {"seLinuxOptions", PSA_BASELINE, 0, false, NULL, check_selinux},
    {"sysctls", PSA_BASELINE, 0, false, NULL, check_sysctls},
    {"windowsHostProcess", PSA_BASELINE, 0, false, NULL, check_host_process},
    {"capabilities_baseline", PSA_BASELINE, 0, true, NULL, check_caps_baseline},
    {"hostPathVolumes", PSA_BASELINE, 0, true, NULL, check_host_path},
    {"seccompProfile_baseline", PSA_BASELINE, 0, true, NULL, check_seccomp_baseline},
    {"allowPrivilegeEscalation", PSA_RESTRICTED, 8, false, NULL, check_priv_escalation},
    {"capabilities_restricted", PSA_RESTRICTED, 22, false, "capabilities_baseline",
     check_caps_restricted},
    {"restrictedVolumes", PSA_RESTRICTED, 0, false, "hostPathVolumes", check_restricted_volumes},
    {"runAsNonRoot", PSA_RESTRICTED, 0, false, NULL, check_run_as_non_root},
    {"runAsUser", PSA_RESTRICTED, 23, false, NULL, check_run_as_user},
    {"seccompProfile_restricted", PSA_RESTRICTED, 19, false, "seccompProfile_baseline",
     check_seccomp_restricted},
};
const size_t psa_nchecks = sizeof(psa_checks) / sizeof(psa_checks[0]);
