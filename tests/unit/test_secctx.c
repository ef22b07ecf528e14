/*
 * test_secctx.c - a pod's and a container's securityContext merged into
 * the OCI config (oci_config), as the kubelet merges them: the
 * container's field over the pod's, runAsNonRoot refused with the
 * kubelet's messages, the safe sysctls only, no_new_privs, procMount and
 * the user namespace.  Pure: no container runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/oci.h"
#include "tests/unit/unit.h"

static json_t *js(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON: %s: %s\n", je.text, text);
	return j;
}

/* A pod with pod-level securityContext psc and one container "c" with
 * securityContext csc (JSON texts, "" for none). */
static json_t *pod(const char *psc, const char *csc)
{
	json_t *p = js("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u1\"},"
		       "\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"sh\"]}]}}");
	if (*psc)
		json_object_set_new(obj_at(p, "spec"), "securityContext", js(psc));
	if (*csc)
		json_object_set_new(json_array_get(obj_at(p, "spec.containers"), 0),
				    "securityContext", js(csc));
	return p;
}

/* oci_config of p with the image user iu; *e gets the error. */
static json_t *config(const json_t *p, const char *iu, uint32_t userns, struct err **e)
{
	struct oci_spec s = {.rootfs = "/r",
			     .pod = p,
			     .container = json_array_get(obj_at(p, "spec.containers"), 0),
			     .image_user = iu,
			     .userns_base = userns};
	return oci_config(&s, e);
}

static int64_t num(const json_t *c, const char *path)
{
	return json_integer_value(obj_at(c, path));
}

static void test_user_merge(void)
{
	json_t *p = pod("{\"runAsUser\":1000,\"runAsGroup\":3000,\"supplementalGroups\":[4000],"
			"\"fsGroup\":2000}",
			"{\"runAsUser\":1001}");
	json_t *c = config(p, "5:6", 0, NULL);
	CHECK(num(c, "process.user.uid") == 1001); /* the container's wins */
	CHECK(num(c, "process.user.gid") == 3000); /* the pod's, not the image's */
	json_t *g = obj_at(c, "process.user.additionalGids");
	CHECK(json_array_size(g) == 2 && json_integer_value(json_array_get(g, 0)) == 4000 &&
	      json_integer_value(json_array_get(g, 1)) == 2000);
	json_decref(c);
	json_decref(p);
	/* no runAsUser: the image's "uid:gid" */
	p = pod("", "");
	c = config(p, "5:6", 0, NULL);
	CHECK(num(c, "process.user.uid") == 5 && num(c, "process.user.gid") == 6);
	json_decref(c);
	json_decref(p);
}

static void test_run_as_non_root(void)
{
	struct err *e = NULL;
	json_t *p = pod("{\"runAsNonRoot\":true}", "");
	const char *root_users[] = {NULL, "", "0", "0:5"};
	for (size_t i = 0; i < 4; i++) {
		CHECK(config(p, root_users[i], 0, &e) == NULL && e && e->code == EPERM);
		CHECK(e && strstr(e->msg, "container has runAsNonRoot and image will run as root "
					  "(pod: \"p_ns(u1)\", container: c)"));
		err_free(e), e = NULL;
	}
	CHECK(config(p, "www", 0, &e) == NULL && e &&
	      strstr(e->msg, "container has runAsNonRoot and image has non-numeric user (www), "
			     "cannot verify user is non-root (pod: \"p_ns(u1)\", container: c)"));
	err_free(e), e = NULL;
	json_t *c = config(p, "65534", 0, NULL);
	CHECK(c && num(c, "process.user.uid") == 65534);
	json_decref(c);
	CHECK(oci_check_user(p, json_array_get(obj_at(p, "spec.containers"), 0), "0", NULL) ==
	      -EPERM);
	json_decref(p);

	/* runAsUser set: that decides, whatever the image says */
	p = pod("{\"runAsNonRoot\":true}", "{\"runAsUser\":0}");
	CHECK(config(p, "1000", 0, &e) == NULL && e &&
	      strstr(e->msg, "container's runAsUser breaks non-root policy"));
	err_free(e), e = NULL;
	json_decref(p);
	p = pod("{\"runAsNonRoot\":true,\"runAsUser\":7}", "");
	c = config(p, NULL, 0, NULL);
	CHECK(c && num(c, "process.user.uid") == 7);
	json_decref(c);
	json_decref(p);
	/* the container's false over the pod's true */
	p = pod("{\"runAsNonRoot\":true}", "{\"runAsNonRoot\":false}");
	c = config(p, NULL, 0, NULL);
	CHECK(c && num(c, "process.user.uid") == 0);
	json_decref(c);
	json_decref(p);
}

static void test_sysctls(void)
{
	struct err *e = NULL;
	json_t *p = pod("{\"sysctls\":[{\"name\":\"net.ipv4.ip_unprivileged_port_start\","
			"\"value\":\"80\"},{\"name\":\"kernel/shm_rmid_forced\",\"value\":\"1\"}]}",
			"");
	json_t *c = config(p, NULL, 0, NULL);
	const char *v = json_string_value(
	    json_object_get(obj_at(c, "linux.sysctl"), "net.ipv4.ip_unprivileged_port_start"));
	CHECK(v && !strcmp(v, "80"));
	CHECK(c && json_string_value(
		       json_object_get(obj_at(c, "linux.sysctl"), "kernel.shm_rmid_forced")));
	CHECK(oci_check_sysctls(p, NULL) == 0);
	json_decref(c);
	json_decref(p);
	p = pod("{\"sysctls\":[{\"name\":\"kernel.msgmax\",\"value\":\"1\"}]}", "");
	CHECK(oci_check_sysctls(p, &e) == -EPERM && e &&
	      !strcmp(e->msg, "forbidden sysctl: \"kernel.msgmax\" not allowlisted"));
	err_free(e), e = NULL;
	CHECK(config(p, NULL, 0, &e) == NULL && e && e->code == EPERM);
	err_free(e), e = NULL;
	json_decref(p);
	/* in a user namespace: set by the agent in the pod's namespaces */
	p = pod("{\"sysctls\":[{\"name\":\"kernel.shm_rmid_forced\",\"value\":\"1\"}]}", "");
	c = config(p, NULL, 65536, NULL);
	CHECK(c && !obj_at(c, "linux.sysctl"));
	json_decref(c);
	json_decref(p);
	p = pod("", "");
	c = config(p, NULL, 0, NULL);
	CHECK(c && !obj_at(c, "linux.sysctl"));
	json_decref(c);
	json_decref(p);
}

static bool has(const json_t *a, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x) if (!strcmp(json_string_value(x), s)) return true;
	return false;
}

static void test_escalation_and_mounts(void)
{
	const char *cases[][2] = {
	    {"", "true"},				      /* the default: no_new_privs */
	    {"{\"allowPrivilegeEscalation\":false}", "true"}, /* explicit */
	    {"{\"allowPrivilegeEscalation\":true}", "false"},
	    {"{\"privileged\":true}", "false"},
	    {"{\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}", "false"},
	    {"{\"capabilities\":{\"add\":[\"CAP_SYS_ADMIN\"]},\"allowPrivilegeEscalation\":false}",
	     "true"},
	    {"{\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]}}", "true"},
	};
	struct oci_mount vol = {.host_path = "/h", .container_path = "/v"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = pod("", cases[i][0]);
		struct oci_spec s = {.rootfs = "/r",
				     .pod = p,
				     .container = json_array_get(obj_at(p, "spec.containers"), 0),
				     .mounts = &vol,
				     .n_mounts = 1};
		json_t *c = oci_config(&s, NULL);
		bool nnp = !strcmp(cases[i][1], "true");
		CHECK(c && json_is_true(obj_at(c, "process.noNewPrivileges")) == nnp);
		json_t *m = json_object_get(
		    json_array_get(obj_at(c, "mounts"), json_array_size(obj_at(c, "mounts")) - 1),
		    "options");
		/* a volume: never devices; setuid only where it can work */
		CHECK(has(m, "nodev") && has(m, "nosuid") == nnp);
		if (!(c && json_is_true(obj_at(c, "process.noNewPrivileges")) == nnp))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i][0]);
		json_decref(c);
		json_decref(p);
	}
	/* drop ALL + add one: just that one */
	json_t *p =
	    pod("", "{\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]}}");
	json_t *c = config(p, NULL, 0, NULL);
	json_t *eff = obj_at(c, "process.capabilities.effective");
	CHECK(json_array_size(eff) == 1 && has(eff, "CAP_NET_BIND_SERVICE"));
	CHECK(json_equal(eff, obj_at(c, "process.capabilities.bounding")));
	json_decref(c);
	json_decref(p);
	/* readOnlyRootFilesystem */
	p = pod("", "{\"readOnlyRootFilesystem\":true}");
	c = config(p, NULL, 0, NULL);
	CHECK(json_is_true(obj_at(c, "root.readonly")));
	json_decref(c);
	json_decref(p);
}

static void test_userns_procmount(void)
{
	struct err *e = NULL;
	json_t *p = pod("", "{\"procMount\":\"Unmasked\"}");
	CHECK(config(p, NULL, 0, &e) == NULL && e && e->code == EINVAL);
	err_free(e), e = NULL;
	json_t *c = config(p, NULL, 131072, NULL);
	CHECK(c && !obj_at(c, "linux.maskedPaths") && !obj_at(c, "linux.readonlyPaths"));
	json_t *ns = obj_at(c, "linux.namespaces");
	bool user = false;
	size_t i;
	json_t *x;
	json_array_foreach(ns, i, x) user |= !strcmp(obj_str(x, "type"), "user");
	CHECK(user);
	json_t *want = js("[{\"containerID\":0,\"hostID\":131072,\"size\":65536}]");
	CHECK(json_equal(obj_at(c, "linux.uidMappings"), want));
	CHECK(json_equal(obj_at(c, "linux.gidMappings"), want));
	json_decref(want);
	json_decref(c);
	json_decref(p);
	/* Default: masked as ever; no userns without a base */
	p = pod("", "{\"procMount\":\"Default\"}");
	c = config(p, NULL, 0, NULL);
	CHECK(c && obj_at(c, "linux.maskedPaths") && !obj_at(c, "linux.uidMappings"));
	json_decref(c);
	json_decref(p);
}

int main(void)
{
	RUN(test_user_merge);
	RUN(test_run_as_non_root);
	RUN(test_sysctls);
	RUN(test_escalation_and_mounts);
	RUN(test_userns_procmount);
	return unit_done();
}
