/*
 * oci_config.c - see oci.h: the config half, pure functions over jansson
 * values that make a runc config.json from a pod's container.
 */
#include "runtime/kubelet/oci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/kubelet/seccomp.h"
#include "runtime/sys.h"

#define CPU_PERIOD 100000 /* the kubelet's CFS period, microseconds */

/* By number: CAP_CHOWN is 0 ... CAP_CHECKPOINT_RESTORE is 40. */
/* clang-format off */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
	"SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"};
/* Docker's default masked and read-only paths. */
static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
/* clang-format on */
#define N_CAPS	   (sizeof(cap_names) / sizeof(cap_names[0]))
#define CAP_BIT(n) (UINT64_C(1) << (n))
#define ALL_CAPS   (CAP_BIT(N_CAPS) - 1)
/* Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
 * SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
#define DEFAULT_CAPS                                                                               \
	(CAP_BIT(0) | CAP_BIT(1) | CAP_BIT(3) | CAP_BIT(4) | CAP_BIT(5) | CAP_BIT(6) |             \
	 CAP_BIT(7) | CAP_BIT(8) | CAP_BIT(10) | CAP_BIT(13) | CAP_BIT(18) | CAP_BIT(27) |         \
	 CAP_BIT(29) | CAP_BIT(31))

/* ---- env and $(VAR) ---- */

/*
 * Expands $(NAME) in `in` from vars (name -> string), as Kubernetes does
 * for command, args and env values: "$$" is "$"; an unknown or unclosed
 * reference, and a "$" before any other character, stay as written.
 */
static char *expand(const char *in, const json_t *vars)
{
	struct buf b = {0};
	const char *p = in, *close, *v;

	while (*p) {
		if (p[0] != '$' || !p[1] || (p[1] != '$' && p[1] != '(')) {
			buf_add(&b, p, p[0] == '$' && p[1] ? 2 : 1);
			p += p[0] == '$' && p[1] ? 2 : 1;
		} else if (p[1] == '$') {
			buf_add(&b, "$", 1);
			p += 2;
		} else if (!(close = strchr(p + 2, ')'))) {
			buf_puts(&b, p);
			break;
		} else {
			v = json_string_value(
			    json_object_getn(vars, p + 2, (size_t)(close - p - 2)));
			buf_add(&b, v ? v : p, v ? strlen(v) : (size_t)(close + 1 - p));
			p = close + 1;
		}
	}
	return buf_steal(&b, NULL);
}

/* The index of NAME (n bytes) in env, an array of "K=V", or -1. */
static ssize_t env_index(const json_t *env, const char *name, size_t n)
{
	for (size_t i = 0; i < json_array_size(env); i++) {
		const char *s = json_string_value(json_array_get(env, i));
		if (!strncmp(s, name, n) && s[n] == '=')
			return (ssize_t)i;
	}
	return -1;
}

/* Sets NAME=value in env, in place of an entry of that name or at the end;
 * in vars too when vars is not NULL. */
static void env_set(json_t *env, json_t *vars, const char *name, size_t n, const char *value)
{
	ssize_t i = env_index(env, name, n);
	json_t *kv = json_sprintf("%.*s=%s", (int)n, name, value);
	if (i < 0)
		json_array_append_new(env, kv);
	else
		json_array_set_new(env, (size_t)i, kv);
	if (vars)
		json_object_setn_new(vars, name, n, json_string(value));
}

/* The value of NAME in a "K=V" vector, or NULL. */
static const char *strv_get(char *const *v, const char *name, size_t n)
{
	for (; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

/* Fills env (see oci.h for the order) and vars, the variables $(VAR) may
 * name: the container's own, not the image's. */
static void build_env(const struct oci_spec *s, const char *hostname, json_t *env, json_t *vars)
{
	const json_t *pod_env = json_object_get(s->container, "env");
	char *const *v;
	size_t i;
	json_t *ev;

	for (v = s->image_env; v && *v; v++)
		if (strchr(*v, '=') > *v)
			env_set(env, NULL, *v, (size_t)(strchr(*v, '=') - *v), strchr(*v, '=') + 1);
	if (env_index(env, "PATH", 4) < 0)
		env_set(env, NULL, "PATH", 4, DEFAULT_PATH);
	env_set(env, NULL, "HOSTNAME", 8, hostname);

	for (v = s->extra_env; v && *v; v++) { /* envFrom: those the pod's env does not name */
		size_t n = strchr(*v, '=') ? (size_t)(strchr(*v, '=') - *v) : 0;
		bool named = false;
		json_array_foreach(pod_env, i, ev)
		{
			const char *name = obj_str(ev, "name");
			named |= name && strlen(name) == n && !strncmp(name, *v, n);
		}
		if (n && !named)
			env_set(env, vars, *v, n, *v + n + 1);
	}
	json_array_foreach(pod_env, i, ev)
	{
		const char *name = obj_str(ev, "name"), *x = obj_str(ev, "value");
		if (!name || !*name)
			continue;
		if (json_object_get(ev, "valueFrom")) {
			if ((x = strv_get(s->extra_env, name, strlen(name))))
				env_set(env, vars, name, strlen(name), x);
			continue; /* else an optional reference that resolved to nothing */
		}
		char *val = expand(x ? x : "", vars);
		env_set(env, vars, name, strlen(name), val);
		free(val);
	}
}

/* ---- process.args ---- */

/* Appends from (a JSON array, expanded) when it has items, else the vector
 * v; returns whether from had items. */
static bool append_args(json_t *args, const json_t *from, char *const *v, const json_t *vars)
{
	size_t i;
	json_t *x;

	json_array_foreach(from, i, x)
	{
		char *a = expand(json_is_string(x) ? json_string_value(x) : "", vars);
		json_array_append_new(args, json_string(a));
		free(a);
	}
	for (; !json_array_size(from) && v && *v; v++)
		json_array_append_new(args, json_string(*v));
	return json_array_size(from) > 0;
}

/* command replaces Entrypoint, args replace Cmd; a command alone drops Cmd. */
static json_t *build_args(const struct oci_spec *s, const json_t *vars)
{
	json_t *args = json_array();
	const json_t *ctr = s->sandbox ? NULL : s->container;
	bool command = append_args(args, json_object_get(ctr, "command"), s->entrypoint, vars);
	append_args(args, json_object_get(ctr, "args"), command ? NULL : s->cmd, vars);
	return args;
}

/* ---- process.user ---- */

static bool numeric(const char *s)
{
	return *s && !s[strspn(s, "0123456789")];
}

/* securityContext field: the container's, else the pod's. */
static json_t *sc_get(const struct oci_spec *s, const char *field)
{
	return oci_sc_get(s->pod, s->container, field);
}

/* runAsUser / runAsGroup, else the image's numeric User "uid[:gid]". */
static int build_user(const struct oci_spec *s, json_t *process, json_t *env, struct err **e)
{
	int64_t uid = 0, gid = 0;
	json_t *run_uid = sc_get(s, "runAsUser"), *run_gid = sc_get(s, "runAsGroup"), *x;
	/* runAsUser makes the image's User moot, group included */
	_cleanup_free_ char *user =
	    xstrdup(s->image_user && !json_is_integer(run_uid) ? s->image_user : "");
	char *group = strchr(user, ':');
	size_t i;

	if (group)
		*group++ = '\0';
	if (oci_check_user(s->pod, s->container, s->image_user, e) < 0)
		return -EPERM;
	if ((*user && !numeric(user)) || (group && !numeric(group)))
		return err_make(e, EINVAL,
				"image user %s: only numeric ones are supported (or set runAsUser)",
				s->image_user);
	uid = json_is_integer(run_uid) ? json_integer_value(run_uid) : strtoll(user, NULL, 10);
	gid = json_is_integer(run_gid) ? json_integer_value(run_gid)
	      : group		       ? strtoll(group, NULL, 10)
				       : 0;
	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		return err_make(e, EINVAL, "user %lld:%lld: out of range", (long long)uid,
				(long long)gid);

	json_t *u = json_pack("{s:I, s:I, s:[]}", "uid", (json_int_t)uid, "gid", (json_int_t)gid,
			      "additionalGids");
	json_t *gids = json_object_get(u, "additionalGids");
	json_array_foreach(obj_at(s->pod, "spec.securityContext.supplementalGroups"), i, x)
	    json_array_append(gids, x);
	if ((x = obj_at(s->pod, "spec.securityContext.fsGroup")))
		json_array_append(gids, x);
	if (!json_array_size(gids))
		json_object_del(u, "additionalGids");
	json_object_set_new(process, "user", u);
	if (env_index(env, "HOME", 4) < 0)
		env_set(env, NULL, "HOME", 4, uid == 0 ? "/root" : "/");
	return 0;
}

/* ---- process.capabilities ---- */

/* Sets (add) or clears the caps named in list: "ALL" alone when all, the
 * others when not, so that "drop ALL, add X" leaves X, as containerd does.
 * Names are "NET_ADMIN" or "CAP_NET_ADMIN", in any case. */
static int caps_apply(const json_t *list, bool all, bool add, uint64_t *caps, struct err **e)
{
	size_t i, c;
	json_t *v;

	json_array_foreach(list, i, v)
	{
		const char *n = json_is_string(v) ? json_string_value(v) : "(not a string)";
		uint64_t m = 0;
		n += strncasecmp(n, "CAP_", 4) ? 0 : 4;
		for (c = 0; c < N_CAPS && !m; c++)
			m = strcasecmp(n, cap_names[c]) ? 0 : CAP_BIT(c);
		m = strcasecmp(n, "ALL") ? m : ALL_CAPS;
		if (!m)
			return err_make(e, EINVAL, "capability %s: unknown", n);
		if ((m == ALL_CAPS) == all)
			*caps = add ? *caps | m : *caps & ~m;
	}
	return 0;
}

/* The agent's own bounding set: what a privileged container gets, as
 * containerd's WithAllCurrentCapabilities (runc cannot give more). */
static uint64_t own_bounding(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t bnd = ALL_CAPS;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapBnd:", 7))
			bnd = strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
	return bnd & ALL_CAPS;
}

static int build_caps(const struct oci_spec *s, bool privileged, json_t *process, struct err **e)
{
	uint64_t caps = privileged ? own_bounding() : DEFAULT_CAPS;
	const json_t *sc = json_object_get(s->container, "securityContext");
	const json_t *add = obj_at(sc, "capabilities.add"), *drop = obj_at(sc, "capabilities.drop");

	if (caps_apply(add, true, true, &caps, e) < 0 ||
	    caps_apply(drop, true, false, &caps, e) < 0 ||
	    caps_apply(add, false, true, &caps, e) < 0 ||
	    caps_apply(drop, false, false, &caps, e) < 0)
		return -EINVAL;
	json_t *list = json_array();
	for (size_t i = 0; i < N_CAPS; i++)
		if (caps & CAP_BIT(i))
			json_array_append_new(list, json_sprintf("CAP_%s", cap_names[i]));
	json_object_set_new(
	    process, "capabilities",
	    json_pack("{s:O, s:O, s:o}", "bounding", list, "effective", list, "permitted", list));
	return 0;
}

/* ---- resources and QoS ---- */

/* resources.<kind>.<name> of ctr in millis, 0 when unset. */
static int res_milli(const json_t *ctr, const char *kind, const char *name, int64_t *out,
		     struct err **e)
{
	json_t *q = json_object_get(json_object_get(obj_at(ctr, "resources"), kind), name);
	*out = 0;
	if (q && quantity_parse(q, out, e) < 0)
		return err_wrap(e, "resources.%s.%s", kind, name);
	return 0;
}

/* The pod's QoS class as Kubernetes computes it (status.qosClass if set):
 * BestEffort without any cpu or memory request or limit; Guaranteed when
 * every container limits both and requests (if it says) what it limits. */
static const char *pod_qos(const json_t *pod)
{
	static const char *const lists[] = {"spec.containers", "spec.initContainers"};
	static const char *const names[] = {"cpu", "memory"};
	bool any = false, guaranteed = true;
	size_t i;
	json_t *c;

	if (obj_str(pod, "status.qosClass"))
		return obj_str(pod, "status.qosClass");
	for (size_t l = 0; l < 2; l++) {
		json_array_foreach(obj_at(pod, lists[l]), i, c)
		{
			for (size_t r = 0; r < 2; r++) {
				int64_t req, lim;
				bool has_req =
				    json_object_get(obj_at(c, "resources.requests"), names[r]);
				res_milli(c, "requests", names[r], &req, NULL);
				res_milli(c, "limits", names[r], &lim, NULL);
				any |= req > 0 || lim > 0;
				guaranteed &= lim > 0 && (!has_req || req == lim);
			}
		}
	}
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

/* The lowest oomScoreAdj runc can set: lowering it needs CAP_SYS_RESOURCE;
 * without that (a confined or rootless agent), the agent's own value, as
 * containerd's restrict_oom_score_adj does. */
static int64_t oom_floor(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long long own = 0, eff = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			eff = strtoll(line + 7, NULL, 16);
	if (f)
		fclose(f);
	if (eff & CAP_BIT(24)) /* CAP_SYS_RESOURCE */
		return -1000;
	if ((f = fopen("/proc/self/oom_score_adj", "re")) && fscanf(f, "%lld", &own) != 1)
		own = 0;
	if (f)
		fclose(f);
	return own;
}

static int64_t oom_score_adj(const struct oci_spec *s)
{
	const char *qos = s->sandbox ? "" : pod_qos(s->pod);
	int64_t adj = 1000, req = 0, node = s->node_memory, floor = oom_floor();

	if (s->sandbox) {
		adj = -998;
	} else if (!strcmp(qos, "Guaranteed")) {
		adj = -997;
	} else if (strcmp(qos, "BestEffort")) {
		if (res_milli(s->container, "requests", "memory", &req, NULL) < 0 || req == 0)
			res_milli(s->container, "limits", "memory", &req, NULL);
		if (node <= 0)
			node = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
		adj = node > 0 ? 1000 - (1000 * (req / 1000)) / node : 1000;
		adj = adj < 3 ? 3 : adj > 999 ? 999 : adj;
	}
	return adj < floor ? floor : adj;
}

/* Whether the memory cgroup accounts swap (v1: memory.memsw.*; v2:
 * memory.swap.max), so that runc can set a swap limit. */
static bool swap_accounted(void)
{
	return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
	       access("/sys/fs/cgroup/init.scope/memory.swap.max", F_OK) == 0 ||
	       access("/sys/fs/cgroup/system.slice/memory.swap.max", F_OK) == 0;
}

static int build_resources(const struct oci_spec *s, bool privileged, json_t *linux_,
			   struct err **e)
{
	json_t *res =
	    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", privileged, "access", "rwm");
	int64_t mem = 0, cpu_lim = 0, cpu_req = 0;

	json_object_set_new(linux_, "resources", res);
	if (s->sandbox)
		return 0;
	if (res_milli(s->container, "limits", "memory", &mem, e) < 0 ||
	    res_milli(s->container, "limits", "cpu", &cpu_lim, e) < 0 ||
	    res_milli(s->container, "requests", "cpu", &cpu_req, e) < 0)
		return -EINVAL;
	if (mem > 0)
		json_object_set_new(res, "memory",
				    json_pack("{s:I}", "limit", (json_int_t)((mem + 999) / 1000)));
	/* as containerd: swap (memory + swap on v1) no more than the limit,
	 * so that the limit holds, where the kernel accounts swap */
	if (mem > 0 && swap_accounted())
		json_object_set(json_object_get(res, "memory"), "swap",
				obj_at(res, "memory.limit"));
	cpu_req = cpu_req ? cpu_req : cpu_lim; /* what API defaulting would have written */
	int64_t shares = cpu_req * 1024 / 1000, quota = cpu_lim * CPU_PERIOD / 1000;
	json_t *cpu = json_pack("{s:I}", "shares",
				(json_int_t)(shares < 2	       ? 2
					     : shares > 262144 ? 262144
							       : shares));
	if (cpu_lim > 0) {
		json_object_set_new(cpu, "quota", json_integer(quota < 1000 ? 1000 : quota));
		json_object_set_new(cpu, "period", json_integer(CPU_PERIOD));
	}
	json_object_set_new(res, "cpu", cpu);
	return 0;
}

/* ---- sysctls, procMount, the user namespace ---- */

static int build_secctx(const struct oci_spec *s, bool unmasked, json_t *linux_, struct err **e)
{
	if (s->sandbox)
		return 0;
	if (oci_check_sysctls(s->pod, e) < 0)
		return -EPERM;
	if (unmasked && !s->userns_base)
		return err_make(e, EINVAL, "procMount Unmasked: only with hostUsers: false");
	json_t *sysctl = oci_sysctls(s->pod);
	/* in a user namespace, the pod's net and ipc namespaces are not its
	 * own: the caller sets them there (userns_sysctls) */
	if (json_object_size(sysctl) && !s->userns_base)
		json_object_set_new(linux_, "sysctl", sysctl);
	else
		json_decref(sysctl);
	if (s->userns_base) {
		json_t *map = json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
					(json_int_t)s->userns_base, "size", OCI_USERNS_SIZE);
		json_object_set(linux_, "uidMappings", map);
		json_object_set_new(linux_, "gidMappings", map);
	}
	return 0;
}

/* ---- mounts and namespaces ---- */

static void add_mount(json_t *mounts, const char *dst, const char *type, const char *src,
		      const char *opts)
{
	json_t *o = json_array();
	char *all = xstrdup(opts), *p = all, *w;
	while ((w = strsep(&p, ",")))
		json_array_append_new(o, json_string(w));
	free(all);
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type",
						type, "source", src, "options", o));
}

static json_t *build_mounts(const struct oci_spec *s, bool privileged, bool escalate)
{
	const char *sys = privileged ? "nosuid,noexec,nodev" : "nosuid,noexec,nodev,ro";
	const char *files[][2] = {{s->hostname_file, "/etc/hostname"},
				  {s->hosts_file, "/etc/hosts"},
				  {s->resolv_file, "/etc/resolv.conf"}};
	json_t *m = json_array();

	add_mount(m, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	add_mount(m, "/dev/pts", "devpts", "devpts",
		  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	if (s->shm_dir)
		add_mount(m, "/dev/shm", "bind", s->shm_dir, "rbind,rprivate,nosuid,noexec,nodev");
	else
		add_mount(m, "/dev/shm", "tmpfs", "shm",
			  "nosuid,noexec,nodev,mode=1777,size=65536k");
	if (s->userns_base) {
		/* a user namespace may mount neither the pod's mqueue nor a
		 * sysfs (their ipc and net namespaces are the pause process's,
		 * the host users'): no /dev/mqueue (mq_open works without it),
		 * and the host's /sys, read-only all through */
		add_mount(m, "/sys", "bind", "/sys", "rbind,nosuid,noexec,nodev,rro");
	} else {
		add_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
		add_mount(m, "/sys", "sysfs", "sysfs", sys);
		add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup", sys);
	}
	for (size_t i = 0; i < 3; i++)
		if (files[i][0])
			add_mount(m, files[i][1], "bind", files[i][0], "rbind,rprivate");
	/* a volume never holds a device; nor a setuid program that works,
	 * unless the container may gain privileges */
	for (size_t i = 0; i < s->n_mounts; i++) {
		_cleanup_free_ char *o =
		    xasprintf("rbind,rprivate,nodev%s%s", escalate ? "" : ",nosuid",
			      s->mounts[i].readonly ? ",ro" : "");
		add_mount(m, s->mounts[i].container_path, "bind", s->mounts[i].host_path, o);
	}
	return m;
}

static json_t *build_namespaces(const struct oci_spec *s)
{
	static const char *const types[OCI_NS_COUNT] = {"network", "ipc", "uts"};
	json_t *ns = json_pack("[{s:s}, {s:s}]", "type", "pid", "type", "mount");
	struct statfs st;

	for (int i = 0; i < OCI_NS_COUNT; i++)
		json_array_append_new(ns, s->ns_path[i] ? json_pack("{s:s, s:s}", "type", types[i],
								    "path", s->ns_path[i])
							: json_pack("{s:s}", "type", types[i]));
	if (s->userns_base)
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	/* as Docker and containerd: private on cgroup v2, the host's on v1 */
	if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
		json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	return ns;
}

static json_t *strs(const char *const *v)
{
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* ---- config.json ---- */

json_t *oci_config(const struct oci_spec *s, struct err **e)
{
	const char *ctr_name = s->sandbox ? "sandbox" : obj_str(s->container, "name");
	const char *pod_name = obj_str(s->pod, "metadata.name");
	const char *hostname = s->hostname ? s->hostname : pod_name;

	if (!pod_name || !s->rootfs || s->rootfs[0] != '/' || !ctr_name)
		return err_make(e, EINVAL, "pod %s: oci config: %s", pod_name ? pod_name : "?",
				!pod_name   ? "no pod or pod name"
				: !ctr_name ? "no container or container name"
					    : "the rootfs must be an absolute path"),
		       NULL;

	const json_t *sc = json_object_get(s->container, "securityContext");
	bool privileged = !s->sandbox && json_is_true(json_object_get(sc, "privileged"));
	bool escalate = !s->sandbox && oci_may_escalate(s->pod, s->container);
	bool unmasked = !s->sandbox && oci_proc_unmasked(s->container);
	_cleanup_json_ json_t *env = json_array(), *vars = json_object();
	_cleanup_json_ json_t *config = json_object(), *process = json_object();
	_cleanup_json_ json_t *linux_ = json_object();
	json_t *args;

	build_env(s, hostname, env, vars);
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(process, "args", (args = build_args(s, vars)));
	if (!json_array_size(args))
		return err_make(e, EINVAL,
				"pod %s: container %s: no command (none in the pod nor the image)",
				pod_name, ctr_name),
		       NULL;
	if (build_user(s, process, env, e) < 0 || build_caps(s, privileged, process, e) < 0 ||
	    build_resources(s, privileged, linux_, e) < 0 ||
	    build_secctx(s, unmasked, linux_, e) < 0)
		return err_wrap(e, "pod %s: container %s", pod_name, ctr_name), NULL;
	json_object_set(process, "env", env);
	const char *cwd = obj_str(s->container, "workingDir");
	if (!cwd || !*cwd)
		cwd = s->working_dir && *s->working_dir ? s->working_dir : "/";
	json_object_set_new(process, "cwd", json_string(cwd));
	json_object_set_new(process, "noNewPrivileges", json_boolean(!escalate));
	json_object_set_new(process, "oomScoreAdj", json_integer(oom_score_adj(s)));

	if (s->cgroups_path)
		json_object_set_new(linux_, "cgroupsPath", json_string(s->cgroups_path));
	json_object_set_new(linux_, "namespaces", build_namespaces(s));
	json_t *seccomp = NULL;
	if (!s->sandbox && seccomp_for(s->pod, s->container, privileged,
				       obj_at(process, "capabilities.effective"), &seccomp, e) < 0)
		return err_wrap(e, "pod %s: container %s", pod_name, ctr_name), NULL;
	if (seccomp)
		json_object_set_new(linux_, "seccomp", seccomp);
	if (!privileged && !unmasked) {
		json_object_set_new(linux_, "maskedPaths", strs(masked_paths));
		json_object_set_new(linux_, "readonlyPaths", strs(readonly_paths));
	}

	json_object_set_new(config, "ociVersion", json_string("1.0.2"));
	json_object_set(config, "process", process);
	json_object_set_new(config, "root",
			    json_pack("{s:s, s:b}", "path", s->rootfs, "readonly",
				      json_is_true(json_object_get(sc, "readOnlyRootFilesystem"))));
	if (!s->ns_path[OCI_NS_UTS]) /* runc sets a hostname only in a uts of its own */
		json_object_set_new(config, "hostname", json_string(hostname));
	json_object_set_new(config, "mounts", build_mounts(s, privileged, escalate));
	json_object_set(config, "linux", linux_);
	json_object_set_new(
	    config, "annotations",
	    json_pack("{s:s, s:s*, s:s*, s:s, s:s}", "io.kubernetes.pod.name", pod_name,
		      "io.kubernetes.pod.namespace", obj_str(s->pod, "metadata.namespace"),
		      "io.kubernetes.pod.uid", obj_str(s->pod, "metadata.uid"),
		      "io.kubernetes.container.name", ctr_name, "io.kubernetes.cri.container-type",
		      s->sandbox ? "sandbox" : "container"));
	return STEAL_POINTER(&config);
}
