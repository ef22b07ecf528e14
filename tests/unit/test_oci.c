/*
 * test_oci.c - the OCI driver: config.json rules as a table, then real
 * containers under runc (root, runc and /bin/busybox from busybox-static
 * required): exit codes through the subreaper, logs, signals, a shared
 * network namespace, cgroup limits seen from inside, exec probes, and a
 * clean slate at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/oci.h"
#include "tests/unit/unit.h"

static char tmp[64];	 /* the test's temporary dir */
static char rootfs[128]; /* TMP/rootfs: busybox */
static char runc_root[128];
static struct oci_runtime *rt;

/* ---- helpers ---- */

static json_t *js(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON: %s: %s\n", je.text, text);
	return j;
}

/* A Pod named name whose one container is ctr (JSON, without a name). */
static json_t *pod_with(const char *name, const char *ctr)
{
	json_t *pod =
	    js("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
	       "\"namespace\":\"default\",\"uid\":\"u-1\"},\"spec\":{\"containers\":[]}}");
	json_t *c = js(ctr);
	json_object_set_new(c, "name", json_string("c"));
	json_array_append_new(obj_at(pod, "spec.containers"), c);
	json_object_set_new(obj_at(pod, "metadata"), "name", json_string(name));
	return pod;
}

static struct oci_spec spec_for(const json_t *pod)
{
	return (struct oci_spec){.rootfs = rootfs,
				 .pod = pod,
				 .container = json_array_get(obj_at(pod, "spec.containers"), 0)};
}

/* True when a (JSON) equals the JSON text want. */
static bool json_is(const json_t *a, const char *want)
{
	json_t *w = js(want);
	bool eq = a && w && json_equal(a, w);
	if (!eq) {
		char *got = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		fprintf(stderr, "  got  %s\n  want %s\n", got ? got : "(null)", want);
		free(got);
	}
	json_decref(w);
	return eq;
}

static bool has_str(const json_t *a, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x) if (!strcmp(json_string_value(x), s)) return true;
	return false;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = {0};
	char chunk[512];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (f)
		fclose(f);
	return buf_steal(&b, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reaps pid within ms: its Kubernetes exit code, or -1. */
static int reap_within(pid_t pid, int ms)
{
	int64_t end = now_ms() + ms;
	int st;
	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(5000);
	} while (now_ms() < end);
	return -1;
}

/* What runc can set here: without CAP_SYS_RESOURCE oomScoreAdj cannot go
 * below this process's own (oci.c clamps to it). */
static int oom_min(int want)
{
	char *st = slurp("/proc/self/status"), *own = slurp("/proc/self/oom_score_adj");
	char *cap = strstr(st, "CapEff:");
	bool sys_resource = cap && (strtoull(cap + 7, NULL, 16) >> 24) & 1;
	int floor = sys_resource ? -1000 : atoi(own);
	free(st);
	free(own);
	return want < floor ? floor : want;
}

/* ---- config rules ---- */

static void test_args_rules(void)
{
	static char *ep[] = {"/ep", "-x", NULL}, *cmd[] = {"c1", "c2", NULL};
	static const struct {
		const char *ctr;
		bool no_ep;
		const char *want;
	} cases[] = {
	    {"{}", false, "[\"/ep\",\"-x\",\"c1\",\"c2\"]"},
	    {"{\"command\":[\"run\"]}", false, "[\"run\"]"}, /* Cmd dropped */
	    {"{\"args\":[\"a\"]}", false, "[\"/ep\",\"-x\",\"a\"]"},
	    {"{\"command\":[\"run\"],\"args\":[\"a\",\"b\"]}", false, "[\"run\",\"a\",\"b\"]"},
	    {"{\"command\":[],\"args\":[]}", false, "[\"/ep\",\"-x\",\"c1\",\"c2\"]"},
	    {"{}", true, "[\"c1\",\"c2\"]"},
	    {"{\"args\":[\"a\"]}", true, "[\"a\"]"},
	    /* $(VAR): known, escaped, unknown, unclosed, other $, trailing $ */
	    {"{\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"command\":[\"echo\",\"$(A)\","
	     "\"$$(A)\",\"$(NOPE)\",\"x$(A\",\"$y\",\"a$\",\"$$$(A)\",\"<$(A)$(A)>\"]}",
	     false, "[\"echo\",\"1\",\"$(A)\",\"$(NOPE)\",\"x$(A\",\"$y\",\"a$\",\"$1\",\"<11>\"]"},
	    /* an env value sees the entries before it, not those after */
	    {"{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"$(A)-$(C)\"},"
	     "{\"name\":\"C\",\"value\":\"3\"}],\"args\":[\"$(B)\",\"$(C)\"]}",
	     false, "[\"/ep\",\"-x\",\"1-$(C)\",\"3\"]"},
	    /* the image's Env is not for $(VAR); extra env (envFrom) is */
	    {"{\"command\":[\"$(IMG)\",\"$(FROM)\"]}", false, "[\"$(IMG)\",\"cm\"]"},
	};
	char *image_env[] = {"IMG=image", NULL}, *extra[] = {"FROM=cm", NULL};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *pod = pod_with("p", cases[i].ctr);
		struct oci_spec s = spec_for(pod);
		s.entrypoint = cases[i].no_ep ? NULL : ep;
		s.cmd = cmd;
		s.image_env = image_env;
		s.extra_env = extra;
		struct err *e = NULL;
		json_t *c = oci_config(&s, &e);
		if (!json_is(obj_at(c, "process.args"), cases[i].want))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].ctr);
		CHECK(c != NULL);
		json_decref(c);
		json_decref(pod);
		err_free(e);
	}

	/* nothing to run at all */
	json_t *pod = pod_with("p", "{\"args\":[]}");
	struct oci_spec s = spec_for(pod);
	struct err *e = NULL;
	CHECK(oci_config(&s, &e) == NULL && e && e->code == EINVAL && strstr(e->msg, "no command"));
	err_free(e);
	json_decref(pod);
	printf("  %zu command/args/Entrypoint/Cmd/$(VAR) cases\n",
	       sizeof(cases) / sizeof(cases[0]));
}

static void test_env_order(void)
{
	char *image_env[] = {"PATH=/img/bin", "A=img", "Z=z", NULL};
	char *extra[] = {"E=envfrom", "S=secret", NULL};
	json_t *pod = pod_with("web", "{\"command\":[\"x\"],\"env\":["
				      "{\"name\":\"A\",\"value\":\"pod\"},"
				      "{\"name\":\"S\",\"valueFrom\":{\"secretKeyRef\":{}}},"
				      "{\"name\":\"M\",\"valueFrom\":{\"configMapKeyRef\":{}}},"
				      "{\"name\":\"B\",\"value\":\"$(E)/$(S)\"},"
				      "{\"name\":\"N\"}]}");
	struct oci_spec s = spec_for(pod);
	s.image_env = image_env;
	s.extra_env = extra;
	json_t *c = oci_config(&s, NULL);
	CHECK(json_is(obj_at(c, "process.env"),
		      "[\"PATH=/img/bin\",\"A=pod\",\"Z=z\",\"HOSTNAME=web\",\"E=envfrom\","
		      "\"S=secret\",\"B=envfrom/secret\",\"N=\",\"HOME=/root\"]"));
	json_decref(c);

	/* no PATH in the image: Docker's default */
	s.image_env = NULL;
	s.extra_env = NULL;
	c = oci_config(&s, NULL);
	CHECK(!strcmp(json_string_value(json_array_get(obj_at(c, "process.env"), 0)),
		      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	json_decref(c);
	json_decref(pod);
}

static void test_cwd_user(void)
{
	static const struct {
		const char *ctr, *image_wd, *image_user, *want_cwd, *want_user;
	} cases[] = {
	    {"{\"workingDir\":\"/w\"}", "/img", NULL, "/w", "{\"uid\":0,\"gid\":0}"},
	    {"{}", "/img", NULL, "/img", "{\"uid\":0,\"gid\":0}"},
	    {"{}", NULL, NULL, "/", "{\"uid\":0,\"gid\":0}"},
	    {"{}", NULL, "1000:50", "/", "{\"uid\":1000,\"gid\":50}"},
	    {"{}", NULL, "1001", "/", "{\"uid\":1001,\"gid\":0}"},
	    {"{\"securityContext\":{\"runAsUser\":7}}", NULL, "app:staff", "/",
	     "{\"uid\":7,\"gid\":0}"},
	    {"{\"securityContext\":{\"runAsUser\":7,\"runAsGroup\":8}}", NULL, NULL, "/",
	     "{\"uid\":7,\"gid\":8}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *pod = pod_with("p", cases[i].ctr);
		struct oci_spec s = spec_for(pod);
		char *cmd[] = {"x", NULL};
		s.cmd = cmd;
		s.working_dir = cases[i].image_wd;
		s.image_user = cases[i].image_user;
		struct err *e = NULL;
		json_t *c = oci_config(&s, &e);
		if (!c)
			fprintf(stderr, "  case %zu: %s\n", i, e ? e->msg : "?");
		CHECK(c && !strcmp(obj_str(c, "process.cwd"), cases[i].want_cwd));
		CHECK(json_is(obj_at(c, "process.user"), cases[i].want_user));
		json_decref(c);
		json_decref(pod);
		err_free(e);
	}

	/* pod-level runAsUser; groups; HOME */
	json_t *pod = pod_with("p", "{\"command\":[\"x\"]}");
	struct oci_spec s = spec_for(pod);
	json_t *c = oci_config(&s, NULL);
	CHECK(has_str(obj_at(c, "process.env"), "HOME=/root"));
	json_decref(c);
	json_object_set_new(obj_at(pod, "spec"), "securityContext",
			    js("{\"runAsUser\":5,\"fsGroup\":2000,\"supplementalGroups\":[4,6]}"));
	c = oci_config(&s, NULL);
	CHECK(json_is(obj_at(c, "process.user"),
		      "{\"uid\":5,\"gid\":0,\"additionalGids\":[4,6,2000]}"));
	CHECK(has_str(obj_at(c, "process.env"), "HOME=/"));
	json_decref(c);

	/* a named image user needs /etc/passwd: refused, unless runAsUser says */
	struct err *e = NULL;
	s.image_user = "app";
	c = oci_config(&s, NULL);
	CHECK(obj_int(c, "process.user.uid", -1) == 5);
	json_decref(c);
	json_object_del(obj_at(pod, "spec.securityContext"), "runAsUser");
	CHECK(oci_config(&s, &e) == NULL && e && e->code == EINVAL && strstr(e->msg, "app"));
	err_free(e);
	json_decref(pod);
}

static void test_caps(void)
{
	static const char *const dflt[] = {
	    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
	    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
	    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	    "CAP_KILL",	   "CAP_AUDIT_WRITE"};
	json_t *pod = pod_with("p", "{\"command\":[\"x\"]}");
	struct oci_spec s = spec_for(pod);
	json_t *ctr = (json_t *)s.container;
	json_t *c = oci_config(&s, NULL);
	json_t *b = obj_at(c, "process.capabilities.bounding");

	CHECK(json_array_size(b) == 14);
	for (size_t i = 0; i < 14; i++)
		CHECK(has_str(b, dflt[i]));
	CHECK(json_equal(b, obj_at(c, "process.capabilities.effective")));
	CHECK(json_equal(b, obj_at(c, "process.capabilities.permitted")));
	CHECK(!obj_at(c, "process.capabilities.ambient"));
	CHECK(!obj_at(c, "process.capabilities.inheritable"));
	CHECK(json_is_true(obj_at(c, "process.noNewPrivileges")));
	CHECK(has_str(obj_at(c, "linux.maskedPaths"), "/proc/kcore"));
	CHECK(has_str(obj_at(c, "linux.readonlyPaths"), "/proc/sys"));
	/* the default seccomp profile: an allow-list answering EPERM (test_seccomp) */
	json_t *sc = obj_at(c, "linux.seccomp");
	CHECK(!strcmp(obj_str(sc, "defaultAction") ? obj_str(sc, "defaultAction") : "",
		      "SCMP_ACT_ERRNO"));
	json_t *rule = json_array_get(obj_at(sc, "syscalls"), 0);
	CHECK(has_str(json_object_get(rule, "names"), "read") &&
	      !has_str(json_object_get(rule, "names"), "mount") &&
	      !has_str(json_object_get(rule, "names"), "unshare"));
	CHECK(json_integer_value(json_object_get(sc, "defaultErrnoRet")) == 1);
	json_decref(c);
	/* Unconfined (pod level) and privileged: none */
	json_t *psc = json_object_get(json_object_get(pod, "spec"), "securityContext");
	if (!psc) {
		psc = json_object();
		json_object_set_new(json_object_get(pod, "spec"), "securityContext", psc);
	}
	json_object_set_new(psc, "seccompProfile", js("{\"type\":\"Unconfined\"}"));
	c = oci_config(&s, NULL);
	CHECK(c && !obj_at(c, "linux.seccomp"));
	json_decref(c);
	json_object_del(psc, "seccompProfile");

	json_object_set_new(
	    ctr, "securityContext",
	    js("{\"capabilities\":{\"add\":[\"NET_ADMIN\",\"CAP_SYS_TIME\"],"
	       "\"drop\":[\"KILL\",\"cap_chown\"]},\"allowPrivilegeEscalation\":true}"));
	c = oci_config(&s, NULL);
	b = obj_at(c, "process.capabilities.bounding");
	CHECK(json_array_size(b) == 14);
	CHECK(has_str(b, "CAP_NET_ADMIN") && has_str(b, "CAP_SYS_TIME"));
	CHECK(!has_str(b, "CAP_KILL") && !has_str(b, "CAP_CHOWN"));
	CHECK(json_is_false(obj_at(c, "process.noNewPrivileges")));
	json_decref(c);

	json_object_set_new(
	    ctr, "securityContext",
	    js("{\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":[\"ALL\"]}}"));
	c = oci_config(&s, NULL);
	CHECK(json_is(obj_at(c, "process.capabilities.effective"), "[\"CAP_NET_BIND_SERVICE\"]"));
	json_decref(c);

	json_object_set_new(ctr, "securityContext", js("{\"privileged\":true}"));
	c = oci_config(&s, NULL);
	/* all 41 the project knows, those of this process's bounding set */
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long bnd = (1ULL << 41) - 1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapBnd:", 7))
			bnd &= strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
	CHECK(json_array_size(obj_at(c, "process.capabilities.bounding")) ==
	      (size_t)__builtin_popcountll(bnd));
	CHECK(!obj_at(c, "linux.maskedPaths") && !obj_at(c, "linux.readonlyPaths"));
	json_decref(c);

	struct err *e = NULL;
	json_object_set_new(ctr, "securityContext", js("{\"capabilities\":{\"add\":[\"BOGUS\"]}}"));
	CHECK(oci_config(&s, &e) == NULL && e && e->code == EINVAL && strstr(e->msg, "BOGUS"));
	err_free(e);
	json_decref(pod);
}

static void test_resources(void)
{
	static const struct {
		const char *res;
		const char *want_cpu, *want_mem;
		int oom;
	} cases[] = {
	    /* Burstable: memory request defaults to the limit, 1000 - 1000 * 128Mi / 4Gi */
	    {"{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"},\"requests\":{\"cpu\":\"250m\"}}",
	     "{\"shares\":256,\"quota\":50000,\"period\":100000}", "{\"limit\":134217728}", 969},
	    /* Burstable without memory: 1000 - 0 is kept below BestEffort's 1000 */
	    {"{\"limits\":{\"cpu\":\"2\"}}", "{\"shares\":2048,\"quota\":200000,\"period\":100000}",
	     NULL, 999},
	    {"{}", "{\"shares\":2}", NULL, 1000}, /* BestEffort */
	    {"{\"limits\":{\"cpu\":\"1m\"}}", "{\"shares\":2,\"quota\":1000,\"period\":100000}",
	     NULL, 999},
	    {"{\"requests\":{\"cpu\":\"100m\",\"memory\":\"1Gi\"}}", "{\"shares\":102}", NULL, 750},
	    {"{\"limits\":{\"cpu\":\"1\",\"memory\":\"1G\"},\"requests\":{\"cpu\":\"1\","
	     "\"memory\":\"1G\"}}",
	     "{\"shares\":1024,\"quota\":100000,\"period\":100000}", "{\"limit\":1000000000}",
	     -997}, /* Guaranteed */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *pod = pod_with("p", "{\"command\":[\"x\"]}");
		struct oci_spec s = spec_for(pod);
		json_object_set_new((json_t *)s.container, "resources", js(cases[i].res));
		s.node_memory = 4LL << 30;
		json_t *c = oci_config(&s, NULL);
		CHECK(json_is(obj_at(c, "linux.resources.cpu"), cases[i].want_cpu));
		json_t *mem = obj_at(c, "linux.resources.memory"), *swap = obj_at(mem, "swap");
		/* swap, where the kernel accounts it, is the limit (as containerd) */
		CHECK(!swap || json_equal(swap, obj_at(mem, "limit")));
		json_object_del(mem, "swap");
		if (cases[i].want_mem)
			CHECK(json_is(obj_at(c, "linux.resources.memory"), cases[i].want_mem));
		else
			CHECK(!obj_at(c, "linux.resources.memory"));
		CHECK(json_is(obj_at(c, "linux.resources.devices"),
			      "[{\"allow\":false,\"access\":\"rwm\"}]"));
		int64_t oom = obj_int(c, "process.oomScoreAdj", -1);
		if (oom != oom_min(cases[i].oom))
			fprintf(stderr, "  case %zu: oomScoreAdj %lld, want %d\n", i,
				(long long)oom, oom_min(cases[i].oom));
		CHECK(oom == oom_min(cases[i].oom));
		json_decref(c);
		json_decref(pod);
	}

	json_t *pod = pod_with("p", "{\"command\":[\"x\"],\"resources\":{\"limits\":{\"memory\":"
				    "\"lots\"}}}");
	struct oci_spec s = spec_for(pod);
	struct err *e = NULL;
	CHECK(oci_config(&s, &e) == NULL && e && e->code == EINVAL &&
	      strstr(e->msg, "limits.memory"));
	err_free(e);
	/* the sandbox: no container, no resources, -998 */
	s.container = NULL;
	s.sandbox = true;
	char *pause[] = {"/pause", NULL};
	s.entrypoint = pause;
	json_t *c = oci_config(&s, NULL);
	CHECK(c && obj_int(c, "process.oomScoreAdj", 0) == oom_min(-998));
	if (oom_min(-998) != -998)
		printf("  no CAP_SYS_RESOURCE here: oomScoreAdj floor %d\n", oom_min(-998));
	CHECK(c && !obj_at(c, "linux.resources.cpu"));
	CHECK(json_is(obj_at(c, "process.args"), "[\"/pause\"]"));
	json_decref(c);
	json_decref(pod);
}

static json_t *ns_of(const json_t *c, const char *type)
{
	size_t i;
	json_t *n;
	json_array_foreach(obj_at(c, "linux.namespaces"), i,
			   n) if (!strcmp(obj_str(n, "type"), type)) return n;
	return NULL;
}

static void test_namespaces_mounts(void)
{
	json_t *pod = pod_with("web-1", "{\"command\":[\"x\"]}");
	struct oci_spec s = spec_for(pod);
	json_t *c = oci_config(&s, NULL);
	struct statfs st;
	bool v2 = statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;

	for (const char *const *t =
		 (const char *const[]){"pid", "mount", "network", "ipc", "uts", NULL};
	     *t; t++)
		CHECK(ns_of(c, *t) && !json_object_get(ns_of(c, *t), "path"));
	CHECK(!ns_of(c, "user"));
	CHECK(!ns_of(c, "cgroup") == !v2);
	CHECK(!strcmp(obj_str(c, "hostname"), "web-1"));
	CHECK(!strcmp(obj_str(c, "ociVersion"), "1.0.2"));
	CHECK(!strcmp(obj_str(c, "root.path"), rootfs) &&
	      json_is_false(obj_at(c, "root.readonly")));
	json_decref(c);

	struct oci_mount vols[] = {{"/var/lib/x/empty", "/data", false},
				   {"/var/lib/x/conf", "/conf", true}};
	s.ns_path[OCI_NS_NET] = "/proc/42/ns/net";
	s.ns_path[OCI_NS_UTS] = "/proc/42/ns/uts";
	s.hosts_file = "/h/hosts";
	s.resolv_file = "/h/resolv.conf";
	s.mounts = vols;
	s.n_mounts = 2;
	s.cgroups_path = "/clusterfs/pod-u-1/c";
	c = oci_config(&s, NULL);
	CHECK(json_is(ns_of(c, "network"), "{\"type\":\"network\",\"path\":\"/proc/42/ns/net\"}"));
	CHECK(json_is(ns_of(c, "uts"), "{\"type\":\"uts\",\"path\":\"/proc/42/ns/uts\"}"));
	CHECK(json_is(ns_of(c, "ipc"), "{\"type\":\"ipc\"}"));
	CHECK(!obj_at(c, "hostname")); /* runc refuses a hostname in a joined uts */
	CHECK(!strcmp(obj_str(c, "linux.cgroupsPath"), "/clusterfs/pod-u-1/c"));

	json_t *m = obj_at(c, "mounts");
	const char *dests[] = {
	    "/proc",	      "/dev",	    "/dev/pts",		"/dev/shm", "/dev/mqueue", "/sys",
	    "/sys/fs/cgroup", "/etc/hosts", "/etc/resolv.conf", "/data",    "/conf"};
	CHECK(json_array_size(m) == 11);
	for (size_t i = 0; i < 11; i++)
		CHECK(!strcmp(obj_str(json_array_get(m, i), "destination"), dests[i]));
	CHECK(json_is(json_array_get(m, 5), "{\"destination\":\"/sys\",\"type\":\"sysfs\","
					    "\"source\":\"sysfs\",\"options\":[\"nosuid\","
					    "\"noexec\",\"nodev\",\"ro\"]}"));
	CHECK(json_is(json_array_get(m, 9), "{\"destination\":\"/data\",\"type\":\"bind\","
					    "\"source\":\"/var/lib/x/empty\",\"options\":["
					    "\"rbind\",\"rprivate\",\"nodev\",\"nosuid\"]}"));
	CHECK(has_str(obj_at(json_array_get(m, 10), "options"), "ro"));
	CHECK(!strcmp(
	    json_string_value(json_object_get(obj_at(c, "annotations"), "io.kubernetes.pod.name")),
	    "web-1"));
	json_decref(c);
	json_decref(pod);
}

/* ---- real containers ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static bool setup(void)
{
	static const char *const links[] = {"sh",	"echo",	 "sleep", "cat", "readlink",
					    "hostname", "false", "true",  "ls"};
	char path[256];
	snprintf(tmp, sizeof(tmp), "/tmp/test_oci.XXXXXX");
	if (!mkdtemp(tmp))
		return false;
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	snprintf(runc_root, sizeof(runc_root), "%s/runc", tmp);
	for (const char *const *d =
		 (const char *const[]){"", "/bin", "/etc", "/proc", "/dev", "/sys", "/tmp", NULL};
	     *d; d++) {
		snprintf(path, sizeof(path), "%s%s", rootfs, *d);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	int in = open("/bin/busybox", O_RDONLY), out = open(path, O_WRONLY | O_CREAT, 0755);
	char chunk[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, chunk, sizeof(chunk))) > 0)
		if (write(out, chunk, (size_t)n) != n)
			break;
	close(in);
	close(out);
	if (in < 0)
		return false;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", rootfs, links[i]);
		symlink("busybox", path);
	}
	struct err *e = NULL;
	int rc = oci_runtime_new(runc_root, &rt, &e);
	if (rc < 0)
		fprintf(stderr, "  %s\n", e->msg);
	err_free(e);
	return rc == 0;
}

/* Builds config, bundle and log for a container named name running ctr
 * (JSON), creates it and reads its init pid; starts it when start. */
static pid_t run(const char *name, const char *ctr, const struct oci_spec *tweak, bool start)
{
	char bundle[256], log[256], cg[128];
	json_t *pod = pod_with(name, ctr);
	struct oci_spec s = tweak ? *tweak : (struct oci_spec){0};
	struct err *e = NULL;
	struct oci_state st = {0};

	s.rootfs = rootfs;
	s.pod = pod;
	if (!s.sandbox)
		s.container = json_array_get(obj_at(pod, "spec.containers"), 0);
	snprintf(cg, sizeof(cg), "/test_oci-%d-%s", (int)getpid(), name);
	s.cgroups_path = cg;
	snprintf(bundle, sizeof(bundle), "%s/%s", tmp, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmp, name);
	mkdir(bundle, 0755);
	json_t *c = oci_config(&s, &e);
	int rc = c ? oci_create(rt, name, bundle, c, log, &e) : -EINVAL;
	if (rc == 0)
		rc = oci_state(rt, name, &st, &e);
	CHECK(rc == 0 && st.status == OCI_CREATED && st.pid > 1);
	if (rc == 0 && start)
		rc = oci_start(rt, name, &e);
	if (rc < 0)
		fprintf(stderr, "  %s: %s\n", name, e ? e->msg : "?");
	CHECK(rc == 0);
	err_free(e);
	json_decref(c);
	json_decref(pod);
	return rc == 0 ? st.pid : -1;
}

static char *log_of(const char *name)
{
	char log[256];
	snprintf(log, sizeof(log), "%s/%s.log", tmp, name);
	return slurp(log);
}

static enum oci_status status(const char *name)
{
	struct oci_state st = {.status = OCI_UNKNOWN};
	oci_state(rt, name, &st, NULL);
	return st.status;
}

static void test_run_exit_code(void)
{
	pid_t pid =
	    run("hello", "{\"command\":[\"sh\",\"-c\",\"echo hello; echo oops >&2; exit 3\"]}",
		NULL, true);
	int code = -1;
	CHECK(pid > 0 && oci_wait_exit(pid, &code) == 0 && code == 3);
	char *log = log_of("hello");
	CHECK(!strcmp(log, "hello\noops\n"));
	free(log);
	CHECK(status("hello") == OCI_STOPPED);
	struct err *e = NULL;
	CHECK(oci_kill(rt, "hello", SIGTERM, &e) == -ESRCH);
	err_free(e), e = NULL;
	CHECK(oci_delete(rt, "hello", false, &e) == 0);
	CHECK(oci_state(rt, "hello", &(struct oci_state){0}, &e) == -ENOENT && e &&
	      strstr(e->msg, "hello"));
	err_free(e);
	CHECK(oci_wait_exit(pid, &code) == -ECHILD); /* reaped once */
	printf("  exit code %d, log \"hello\\noops\\n\"\n", code);
}

static void test_signals(void)
{
	/* a shell with a TERM trap stops on SIGTERM with its own code */
	pid_t pid = run("trap",
			"{\"command\":[\"sh\",\"-c\",\"trap 'exit 7' TERM; echo ready; "
			"sleep 100 & wait\"]}",
			NULL, true);
	CHECK(status("trap") == OCI_RUNNING);
	char *log = NULL;
	for (int i = 0; i < 500 && (!log || !*log); i++) { /* the trap is set */
		free(log);
		usleep(5000);
		log = log_of("trap");
	}
	CHECK(!strcmp(log, "ready\n"));
	free(log);
	CHECK(oci_kill(rt, "trap", SIGTERM, NULL) == 0);
	CHECK(reap_within(pid, 5000) == 7);
	CHECK(status("trap") == OCI_STOPPED);
	CHECK(oci_delete(rt, "trap", false, NULL) == 0);

	/* a bare sleep is its namespace's init: SIGTERM is dropped, SIGKILL is not */
	pid = run("sleeper", "{\"command\":[\"sleep\",\"100\"]}", NULL, true);
	CHECK(status("sleeper") == OCI_RUNNING);
	char comm[64];
	snprintf(comm, sizeof(comm), "/proc/%d/comm", (int)pid);
	for (int i = 0; i < 500 && strcmp((log = slurp(comm)), "sleep\n"); i++) {
		free(log); /* until runc's init has become sleep */
		usleep(5000);
	}
	free(log);
	/* the init holds stdin, stdout, stderr and nothing else of ours */
	char fds[64];
	snprintf(fds, sizeof(fds), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(fds);
	int nfd = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		nfd += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(nfd == 3);
	CHECK(oci_kill(rt, "sleeper", SIGTERM, NULL) == 0);
	CHECK(reap_within(pid, 300) == -1);
	CHECK(status("sleeper") == OCI_RUNNING);
	struct err *e = NULL;
	CHECK(oci_delete(rt, "sleeper", false, &e) == -EIO); /* running, no force */
	err_free(e);
	CHECK(oci_kill(rt, "sleeper", SIGKILL, NULL) == 0);
	CHECK(reap_within(pid, 5000) == 137);
	CHECK(status("sleeper") == OCI_STOPPED);
	CHECK(oci_delete(rt, "sleeper", false, NULL) == 0);

	/* delete --force of a running container */
	pid = run("forced", "{\"command\":[\"sleep\",\"100\"]}", NULL, true);
	CHECK(oci_delete(rt, "forced", true, NULL) == 0);
	CHECK(reap_within(pid, 5000) == 137);
	CHECK(status("forced") == OCI_UNKNOWN);
}

static void test_shared_netns(void)
{
	char *pause[] = {"sleep", "100", NULL}, ns_net[64], ns_uts[64], want[128] = "";
	struct oci_spec sb = {.sandbox = true, .entrypoint = pause};
	pid_t sandbox = run("sandbox", "{}", &sb, true);

	snprintf(ns_net, sizeof(ns_net), "/proc/%d/ns/net", (int)sandbox);
	snprintf(ns_uts, sizeof(ns_uts), "/proc/%d/ns/uts", (int)sandbox);
	ssize_t n = readlink(ns_net, want, sizeof(want) - 1);
	CHECK(n > 0);
	char self[128] = "";
	readlink("/proc/self/ns/net", self, sizeof(self) - 1);
	CHECK(strcmp(self, want) != 0); /* the sandbox has a network namespace of its own */

	const char *show = "{\"command\":[\"sh\",\"-c\",\"readlink /proc/self/ns/net; hostname\"]}";
	struct oci_spec join = {0};
	join.ns_path[OCI_NS_NET] = ns_net;
	join.ns_path[OCI_NS_UTS] = ns_uts;
	pid_t a = run("joiner", show, &join, true);
	pid_t b = run("loner", show, NULL, true);
	int code = -1;
	CHECK(oci_wait_exit(a, &code) == 0 && code == 0);
	CHECK(oci_wait_exit(b, &code) == 0 && code == 0);

	char *la = log_of("joiner"), *lb = log_of("loner"), expect[256];
	snprintf(expect, sizeof(expect), "%s\nsandbox\n", want);
	CHECK(!strcmp(la, expect));
	CHECK(strncmp(lb, want, strlen(want)) != 0 && strstr(lb, "net:[") &&
	      strstr(lb, "\nloner\n"));
	printf("  sandbox %s; joiner: %.*s; loner: %.*s\n", want, (int)strcspn(la, "\n"), la,
	       (int)strcspn(lb, "\n"), lb);
	free(la);
	free(lb);
	CHECK(oci_delete(rt, "joiner", false, NULL) == 0);
	CHECK(oci_delete(rt, "loner", false, NULL) == 0);
	CHECK(oci_delete(rt, "sandbox", true, NULL) == 0);
	CHECK(reap_within(sandbox, 5000) == 137);
}

static void test_cgroup_limits(void)
{
	const char *ctr =
	    "{\"command\":[\"sh\",\"-c\",\"cat /sys/fs/cgroup/memory.max 2>/dev/null || cat "
	    "/sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/cpu.max "
	    "2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us\"],"
	    "\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":\"500m\"}}}";
	pid_t pid = run("limited", ctr, NULL, true);
	int code = -1;
	CHECK(pid > 0 && oci_wait_exit(pid, &code) == 0 && code == 0);
	char *log = log_of("limited");
	CHECK(!strncmp(log, "67108864\n", 9));
	CHECK(strstr(log, "\n50000") != NULL);
	for (char *p = log; (p = strchr(p, '\n'));)
		*p = ' ';
	printf("  inside the container: %s(memory limit, cpu quota)\n", log);
	free(log);

	char bundle_cfg[256];
	snprintf(bundle_cfg, sizeof(bundle_cfg), "%s/limited/config.json", tmp);
	json_t *c = json_load_file(bundle_cfg, 0, NULL);
	CHECK(obj_int(c, "linux.resources.memory.limit", 0) == 67108864);
	json_decref(c);
	CHECK(oci_delete(rt, "limited", false, NULL) == 0);
}

/* Where this machine keeps the memory cgroups runc makes. */
static const char *cgroup_base(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC
		   ? "/sys/fs/cgroup"
		   : "/sys/fs/cgroup/memory";
}

static void *exec_loop(void *arg)
{
	for (int i = 0; i < 5; i++) {
		int code = -1;
		char n[16];
		snprintf(n, sizeof(n), "%d", i);
		if (oci_exec(rt, "probe", (char *[]){"sh", "-c", "exit $0", n, NULL}, 5000, &code,
			     NULL) != 0 ||
		    code != i)
			return NULL;
	}
	return (void *)1;
}

static void test_exec(void)
{
	pid_t pid = run("probe", "{\"command\":[\"sleep\",\"100\"]}", NULL, true);
	int code = -1;
	struct err *e = NULL;

	CHECK(oci_exec(rt, "probe", (char *[]){"echo", "ok", NULL}, 5000, &code, &e) == 0 &&
	      code == 0);
	code = -1;
	CHECK(oci_exec(rt, "probe", (char *[]){"false", NULL}, 5000, &code, &e) == 0 && code == 1);
	CHECK(oci_exec(rt, "probe", (char *[]){"sh", "-c", "exit 42", NULL}, 5000, &code, &e) ==
		  0 &&
	      code == 42);

	int64_t t0 = now_ms();
	code = -1;
	CHECK(oci_exec(rt, "probe", (char *[]){"sleep", "10", NULL}, 300, &code, &e) == -ETIMEDOUT);
	int64_t took = now_ms() - t0;
	CHECK(took >= 300 && took < 3000 && code == -1);
	err_free(e), e = NULL;
	/* and the probe's process is gone: only the init is left in the cgroup */
	char procs[256];
	snprintf(procs, sizeof(procs), "%s/test_oci-%d-probe/cgroup.procs", cgroup_base(),
		 (int)getpid());
	char *left = slurp(procs), want[32];
	snprintf(want, sizeof(want), "%d\n", (int)pid);
	CHECK(!strcmp(left, want));
	free(left);

	/* from several threads at once */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, exec_loop, NULL);
	for (int i = 0; i < 4; i++) {
		void *ok;
		pthread_join(th[i], &ok);
		CHECK(ok == (void *)1);
	}

	/* runc's failures are errors, never exit codes */
	CHECK(oci_exec(rt, "probe", (char *[]){"/no/such", NULL}, 5000, &code, &e) < 0 && e);
	if (e)
		printf("  missing binary: %s\n", e->msg);
	err_free(e), e = NULL;
	CHECK(oci_exec(rt, "ghost", (char *[]){"true", NULL}, 5000, &code, &e) == -ENOENT);
	err_free(e), e = NULL;

	CHECK(oci_kill(rt, "probe", SIGKILL, NULL) == 0);
	CHECK(reap_within(pid, 5000) == 137);
	CHECK(oci_exec(rt, "probe", (char *[]){"true", NULL}, 5000, &code, &e) < 0);
	err_free(e);
	CHECK(oci_delete(rt, "probe", false, NULL) == 0);
	printf("  exec timeout returned after %lld ms\n", (long long)took);
}

static void test_errors(void)
{
	struct err *e = NULL;
	struct oci_state st;
	char bundle[256];

	CHECK(oci_state(rt, "ghost", &st, &e) == -ENOENT);
	err_free(e), e = NULL;
	CHECK(oci_kill(rt, "ghost", SIGKILL, &e) == -ENOENT);
	err_free(e), e = NULL;
	CHECK(oci_delete(rt, "ghost", true, &e) == -ENOENT);
	err_free(e), e = NULL;
	CHECK(oci_start(rt, "ghost", &e) == -ENOENT);
	err_free(e), e = NULL;
	CHECK(oci_create(rt, "a/b", tmp, NULL, NULL, &e) == -EINVAL);
	err_free(e), e = NULL;

	/* a command that is not in the image: runc says so, in *e and in the log */
	json_t *pod = pod_with("bad", "{\"command\":[\"/no/such/binary\"]}");
	struct oci_spec s = spec_for(pod);
	json_t *c = oci_config(&s, NULL);
	snprintf(bundle, sizeof(bundle), "%s/bad", tmp);
	mkdir(bundle, 0755);
	CHECK(oci_create(rt, "bad", bundle, c, NULL, &e) == -EIO && e &&
	      strstr(e->msg, "/no/such/binary"));
	if (e)
		printf("  bad command: %s\n", e->msg);
	err_free(e), e = NULL;
	CHECK(status("bad") == OCI_UNKNOWN);
	json_decref(c);
	json_decref(pod);

	/* an id in use */
	pid_t pid = run("twice", "{\"command\":[\"true\"]}", NULL, false);
	snprintf(bundle, sizeof(bundle), "%s/twice", tmp);
	CHECK(oci_create(rt, "twice", bundle, NULL, NULL, &e) == -EEXIST);
	err_free(e), e = NULL;
	char **ids;
	size_t n;
	CHECK(oci_list(rt, &ids, &n, &e) == 0 && n == 1 && !strcmp(ids[0], "twice"));
	oci_ids_free(ids, n);
	CHECK(oci_delete(rt, "twice", false, &e) == 0); /* created, never started */
	CHECK(reap_within(pid, 5000) == 137);
	err_free(e);
}

static void test_cleanup(void)
{
	char **ids;
	size_t n = 99;
	char cg[256];

	CHECK(oci_list(rt, &ids, &n, NULL) == 0 && n == 0);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "  left over: %s\n", ids[i]);
		oci_delete(rt, ids[i], true, NULL);
	}
	oci_ids_free(ids, n);
	/* every container init reaped, no other child left */
	usleep(50 * 1000);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	/* runc removed the cgroups */
	snprintf(cg, sizeof(cg), "%s/test_oci-%d-limited", cgroup_base(), (int)getpid());
	CHECK(access(cg, F_OK) < 0);
	snprintf(cg, sizeof(cg), "%s/test_oci-%d-probe", cgroup_base(), (int)getpid());
	CHECK(access(cg, F_OK) < 0);
	oci_runtime_free(rt);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(access(tmp, F_OK) < 0);
}

int main(void)
{
	alarm(60); /* a hung runc must not hang the test run */
	if (geteuid() != 0 || !setup()) {
		fprintf(stderr, "test_oci: needs root, runc and /bin/busybox (busybox-static)\n");
		if (*tmp)
			nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	/* container inits are reparented to us when runc create exits */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	RUN(test_args_rules);
	RUN(test_env_order);
	RUN(test_cwd_user);
	RUN(test_caps);
	RUN(test_resources);
	RUN(test_namespaces_mounts);
	int64_t t0 = now_ms();
	RUN(test_run_exit_code);
	RUN(test_signals);
	RUN(test_shared_netns);
	RUN(test_cgroup_limits);
	RUN(test_exec);
	RUN(test_errors);
	RUN(test_cleanup);
	printf("  containers: %lld ms\n", (long long)(now_ms() - t0));
	return unit_done();
}
