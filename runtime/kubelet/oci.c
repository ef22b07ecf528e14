/*
 * oci.c - see oci.h.  The config half first (pure functions over jansson
 * values), then the runc driver (each runc run by proc_run, runtime/proc.h).
 */
#include "runtime/kubelet/oci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

extern char **environ;

#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD	100000 /* the kubelet's CFS period, microseconds */
#define RUNC_TIMEOUT_MS 60000  /* any runc command but exec */

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
	json_t *v = json_object_get(json_object_get(s->container, "securityContext"), field);
	return v ? v : json_object_get(obj_at(s->pod, "spec.securityContext"), field);
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

static int build_caps(const struct oci_spec *s, bool privileged, json_t *process, struct err **e)
{
	uint64_t caps = privileged ? ALL_CAPS : DEFAULT_CAPS;
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

static json_t *build_mounts(const struct oci_spec *s, bool privileged)
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
	add_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	add_mount(m, "/sys", "sysfs", "sysfs", sys);
	add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup", sys);
	for (size_t i = 0; i < 3; i++)
		if (files[i][0])
			add_mount(m, files[i][1], "bind", files[i][0], "rbind,rprivate");
	for (size_t i = 0; i < s->n_mounts; i++)
		add_mount(m, s->mounts[i].container_path, "bind", s->mounts[i].host_path,
			  s->mounts[i].readonly ? "rbind,rprivate,ro" : "rbind,rprivate");
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

/*
 * The default seccomp profile: everything allowed but the system calls a
 * container has no business making (the ones Docker's default profile
 * leaves out for containers without CAP_SYS_ADMIN and friends): they fail
 * with EPERM.  A deny list rather than Docker's ~400-entry allow list, so
 * that a new system call the kernel adds works at once.
 */
static const char *const seccomp_denied[] = {"acct",
					     "add_key",
					     "bpf",
					     "clock_adjtime",
					     "clock_settime",
					     "create_module",
					     "delete_module",
					     "finit_module",
					     "fsconfig",
					     "fsmount",
					     "fsopen",
					     "fspick",
					     "get_kernel_syms",
					     "init_module",
					     "ioperm",
					     "iopl",
					     "kcmp",
					     "kexec_file_load",
					     "kexec_load",
					     "keyctl",
					     "lookup_dcookie",
					     "mount",
					     "move_mount",
					     "name_to_handle_at",
					     "nfsservctl",
					     "open_by_handle_at",
					     "open_tree",
					     "perf_event_open",
					     "pivot_root",
					     "process_vm_readv",
					     "process_vm_writev",
					     "ptrace",
					     "query_module",
					     "quotactl",
					     "reboot",
					     "request_key",
					     "setns",
					     "settimeofday",
					     "swapoff",
					     "swapon",
					     "sysfs",
					     "_sysctl",
					     "umount2",
					     "unshare",
					     "uselib",
					     "userfaultfd",
					     "ustat",
					     NULL};

/* linux.seccomp for the container, or NULL: none for privileged ones and
 * for seccompProfile type Unconfined (the container's over the pod's). */
static json_t *build_seccomp(const struct oci_spec *s, bool privileged)
{
	const char *type = obj_str(s->container, "securityContext.seccompProfile.type");
	if (!type)
		type = obj_str(s->pod, "spec.securityContext.seccompProfile.type");
	if (privileged || s->sandbox || (type && !strcmp(type, "Unconfined")))
		return NULL;
	return json_pack("{s:s, s:[s, s, s], s:[{s:o, s:s, s:i}]}", "defaultAction",
			 "SCMP_ACT_ALLOW", "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
			 "SCMP_ARCH_X32", "syscalls", "names", strs(seccomp_denied), "action",
			 "SCMP_ACT_ERRNO", "errnoRet", 1);
}

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
	bool escalate = privileged || json_is_true(json_object_get(sc, "allowPrivilegeEscalation"));
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
	    build_resources(s, privileged, linux_, e) < 0)
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
	json_t *seccomp = build_seccomp(s, privileged);
	if (seccomp)
		json_object_set_new(linux_, "seccomp", seccomp);
	if (!privileged) {
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
	json_object_set_new(config, "mounts", build_mounts(s, privileged));
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

/* ---- running runc ---- */

struct oci_runtime {
	char *root; /* runc --root */
	char *runc; /* absolute path of the executable */
	atomic_uint seq;
};

/* One runc invocation.  in/out/err: fds for the child's stdio; -1 for
 * /dev/null (in) or a capture (out, err). */
struct run {
	const char *const *args; /* after runc's global options, NULL-ended */
	int in, out, err;
	int timeout_ms;	     /* <= 0: RUNC_TIMEOUT_MS */
	const char *pidfile; /* at the timeout, SIGKILL the pid in it first */
	int status;	     /* waitpid() status */
	char *out_text;	     /* what a captured stdout held */
	char *msg;	     /* runc's error message (its log, else stderr), or NULL */
};

/* runc's last "error" in its JSON log, with the first "fatal" (what its
 * init said) when that adds something; NULL when none. */
static char *runc_log_msg(const char *log)
{
	_cleanup_free_ char *err = NULL, *fatal = NULL;
	for (const char *p = log; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0')) {
		json_t *j = json_loadb(p, strcspn(p, "\n"), 0, NULL);
		const char *lvl = obj_str(j, "level"), *m = obj_str(j, "msg");
		if (lvl && m && !strcmp(lvl, "error"))
			free(err), err = xstrdup(m);
		else if (lvl && m && !strcmp(lvl, "fatal") && !fatal)
			fatal = xstrdup(m);
		json_decref(j);
	}
	if (err && fatal && !strstr(err, fatal))
		return xasprintf("%s (%s)", err, fatal);
	return err ? STEAL_POINTER(&err) : STEAL_POINTER(&fatal);
}

/* At a runc command's deadline: SIGKILL the process its pid file names
 * (runc then exits with it), and give runc 2 s to do so. */
static int runc_on_timeout(struct proc *p)
{
	const struct run *r = p->arg;
	FILE *f = r->pidfile ? fopen(r->pidfile, "re") : NULL;
	int victim = 0;
	if (f && fscanf(f, "%d", &victim) == 1 && victim > 1)
		kill(victim, SIGKILL);
	if (f)
		fclose(f);
	return victim > 1 ? 2000 : 0;
}

/*
 * Runs runc with r->args through proc_run (runtime/proc.h): in a session
 * of its own (a Ctrl-C at the server's terminal must not reach the
 * containers runc starts), with only fds 0-3 (3 is runc's --log, a
 * memfd).  Returns 0 when runc ran to its end (r->status, r->msg,
 * r->out_text set), or a negative errno with *e when it could not be
 * started or timed out (then it has been killed and reaped).
 */
static int run_runc(struct oci_runtime *rt, struct run *r, struct err **e)
{
	const char *argv[64] = {rt->runc,	   "--root",	   rt->root, "--log",
				"/proc/self/fd/3", "--log-format", "json"};
	size_t argc = 7;

	for (size_t i = 0; r->args[i]; i++)
		if (argc == 63)
			return err_make(e, E2BIG, "runc %s: too many arguments", r->args[0]);
		else
			argv[argc++] = r->args[i];
	_cleanup_free_ char *name = xasprintf("runc %s", r->args[0]);
	struct proc p = {.path = rt->runc,
			 .argv = (char *const *)argv,
			 .name = name,
			 .nfd = 4,
			 .io = {r->in < 0 ? PROC_NULL : PROC_FD,
				r->out < 0 ? PROC_CAPTURE : PROC_FD,
				r->err < 0 ? PROC_CAPTURE : PROC_FD, PROC_CAPTURE},
			 .fd = {r->in, r->out, r->err, -1},
			 .setsid = true,
			 .timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : RUNC_TIMEOUT_MS,
			 .on_timeout = runc_on_timeout,
			 .arg = r};
	int rc = proc_run(&p, e);
	r->status = p.status;
	if (rc == 0) {
		r->msg = runc_log_msg(p.out[3]);
		if (!r->msg && r->err < 0 && *p.out[2])
			r->msg = STEAL_POINTER(&p.out[2]);
		r->out_text = r->out < 0 ? STEAL_POINTER(&p.out[1]) : NULL;
	}
	proc_free(&p);
	return rc;
}

/* The error of a runc command that ran and failed, its errno read from the
 * message: runc has no other way of saying what went wrong. */
static int run_fail(const struct run *r, const char *id, struct err **e)
{
	const char *m = r->msg, *cmd = r->args[0];
	int code = EIO;

	if (m && strstr(m, "does not exist"))
		code = ENOENT;
	else if (m && strstr(m, "already exists"))
		code = EEXIST;
	else if (m && (strstr(m, "not running") || strstr(m, "in a stopped")))
		code = ESRCH;
	bool pre = m && strncmp(m, "runc ", 5) != 0; /* most say "runc create failed: ..." */
	if (m)
		return err_make(e, code, "container %s: %s%s%s%s", id, pre ? "runc " : "",
				pre ? cmd : "", pre ? ": " : "", m);
	if (WIFSIGNALED(r->status))
		return err_make(e, code, "container %s: runc %s: killed by signal %d", id, cmd,
				WTERMSIG(r->status));
	return err_make(e, code, "container %s: runc %s: exit status %d", id, cmd,
			WEXITSTATUS(r->status));
}

static int check_id(const char *id, struct err **e)
{
	size_t n = id ? strlen(id) : 0;
	if (!n || n > 250 || !strcmp(id, ".") || !strcmp(id, "..") ||
	    id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")])
		return err_make(e, EINVAL, "container id \"%s\": 1-250 letters, digits, _+-.",
				id ? id : "");
	return 0;
}

/* Runs r for container id (NULL: none): 0, or the failure mapped; the
 * caller frees r's texts. */
static int run_checked(struct oci_runtime *rt, const char *id, struct run *r, struct err **e)
{
	int rc = id ? check_id(id, e) : 0;
	if (rc == 0)
		rc = run_runc(rt, r, e);
	if (rc == 0 && !(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0))
		rc = run_fail(r, id ? id : rt->root, e);
	return rc;
}

/* Runs a command with no output to read. */
static int run_simple(struct oci_runtime *rt, const char *id, const char *const *args,
		      struct err **e)
{
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = run_checked(rt, id, &r, e);
	free(r.out_text);
	free(r.msg);
	return rc;
}

/* ---- the API ---- */

int oci_runtime_new(const char *root_dir, struct oci_runtime **out, struct err **e)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xstrdup(path && *path ? path : DEFAULT_PATH), *runc = NULL;
	char *p = dirs, *d;

	while (!runc && (d = strsep(&p, ":"))) {
		runc = xasprintf("%s/runc", d);
		if (d[0] != '/' || access(runc, X_OK) < 0)
			free(STEAL_POINTER(&runc));
	}
	if (!runc)
		return err_make(e, ENOENT, "runc: not found on PATH (apt-get install runc)");
	if (!root_dir || root_dir[0] != '/')
		return err_make(e, EINVAL, "runc root %s: not an absolute path",
				root_dir ? root_dir : "(null)");
	if (mkdir(root_dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, errno, "runc root %s: mkdir: %s", root_dir, strerror(errno));
	struct oci_runtime *rt = xcalloc(1, sizeof(*rt));
	rt->root = xstrdup(root_dir);
	rt->runc = STEAL_POINTER(&runc);
	*out = rt;
	return 0;
}

void oci_runtime_free(struct oci_runtime *rt)
{
	if (!rt)
		return;
	free(rt->root);
	free(rt->runc);
	free(rt);
}

int oci_create(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
	       const char *stdout_log, struct err **e)
{
	return oci_create_pid(rt, id, bundle, config, stdout_log, NULL, e);
}

/* The pid runc wrote to path, or 0. */
static pid_t read_pid_file(const char *path)
{
	char text[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	long v = n > 0 ? strtol(text, NULL, 10) : 0;
	return v > 0 && v < INT32_MAX ? (pid_t)v : 0;
}

int oci_create_pid(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
		   const char *stdout_log, pid_t *pid, struct err **e)
{
	_cleanup_free_ char *tmp = xasprintf("%s/config.json.tmp", bundle);
	_cleanup_free_ char *dst = xasprintf("%s/config.json", bundle);
	int rc = check_id(id, e), fd;

	if (rc < 0)
		return rc;
	errno = 0;
	if (config && (json_dump_file(config, tmp, JSON_INDENT(1)) < 0 || rename(tmp, dst) < 0)) {
		rc = err_make(e, errno ? errno : EIO, "bundle %s: writing config.json: %s", bundle,
			      strerror(errno ? errno : EIO));
		unlink(tmp);
		return rc;
	}
	fd = open(stdout_log ? stdout_log : "/dev/null",
		  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return err_make(e, errno, "container %s: log %s: %s", id, stdout_log,
				strerror(errno));
	_cleanup_free_ char *pidfile = xasprintf("%s/init.pid", bundle);
	const char *args[] = {"create", "--bundle", bundle, "--pid-file", pidfile, id, NULL};
	if (!pid)
		args[3] = id, args[4] = NULL;
	struct run r = {.args = args, .in = -1, .out = fd, .err = fd};
	rc = run_checked(rt, id, &r, e);
	close(fd);
	if (pid) {
		*pid = rc == 0 ? read_pid_file(pidfile) : 0;
		unlink(pidfile);
		if (rc == 0 && *pid == 0) {
			struct oci_state st;
			if (oci_state(rt, id, &st, NULL) == 0)
				*pid = st.pid;
		}
	}
	if (rc == 0)
		log_debug("oci", "%s: created from %s", id, bundle);
	free(r.msg);
	return rc;
}

int oci_start(struct oci_runtime *rt, const char *id, struct err **e)
{
	const char *args[] = {"start", id, NULL};
	return run_simple(rt, id, args, e);
}

int oci_kill(struct oci_runtime *rt, const char *id, int sig, struct err **e)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", sig);
	const char *args[] = {"kill", id, num, NULL};
	return run_simple(rt, id, args, e);
}

int oci_delete(struct oci_runtime *rt, const char *id, bool force, struct err **e)
{
	const char *args[] = {"delete", force ? "--force" : id, force ? id : NULL, NULL};
	_cleanup_free_ char *dir = xasprintf("%s/%s", rt->root, id);
	/* runc delete --force says nothing of an unknown id */
	if (check_id(id, NULL) == 0 && access(dir, F_OK) < 0 && errno == ENOENT)
		return err_make(e, ENOENT, "container %s: runc delete: container does not exist",
				id);
	return run_simple(rt, id, args, e);
}

int oci_state(struct oci_runtime *rt, const char *id, struct oci_state *out, struct err **e)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
	const char *args[] = {"state", id, NULL};
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = run_checked(rt, id, &r, e);
	json_t *j = rc == 0 ? json_loads(r.out_text, 0, NULL) : NULL;
	const char *status = obj_str(j, "status");

	if (rc == 0 && !status)
		rc = err_make(e, EIO, "container %s: runc state: %.80s", id, r.out_text);
	out->status = OCI_UNKNOWN;
	for (int i = 0; status && i < OCI_UNKNOWN; i++)
		if (!strcmp(status, names[i]))
			out->status = (enum oci_status)i;
	out->pid = (pid_t)obj_int(j, "pid", 0);
	json_decref(j);
	free(r.out_text);
	free(r.msg);
	return rc;
}

int oci_list(struct oci_runtime *rt, char ***ids, size_t *n, struct err **e)
{
	const char *args[] = {"list", "--format", "json", NULL};
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = run_checked(rt, NULL, &r, e);
	json_t *j = rc == 0 ? json_loads(r.out_text, JSON_DECODE_ANY, NULL) : NULL, *c;
	size_t i;

	if (rc == 0 && !json_is_array(j) && !json_is_null(j)) /* none: "null" */
		rc = err_make(e, EIO, "runc list: %.80s", r.out_text);
	*n = 0;
	*ids = rc == 0 ? xcalloc(json_array_size(j) + 1, sizeof(char *)) : NULL;
	json_array_foreach(rc == 0 ? j : NULL, i, c)
	{
		if (obj_str(c, "id"))
			(*ids)[(*n)++] = xstrdup(obj_str(c, "id"));
	}
	if (*ids)
		qsort(*ids, *n, sizeof(char *), cmp_strp);
	json_decref(j);
	free(r.out_text);
	free(r.msg);
	return rc;
}

void oci_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int oci_exec(struct oci_runtime *rt, const char *id, char *const argv[], int timeout_ms,
	     int *exit_code, struct err **e)
{
	/* runc skips files in its root, and no id has a '@' */
	_cleanup_free_ char *pidfile =
	    xasprintf("%s/exec@%d.%u.pid", rt->root, (int)getpid(), atomic_fetch_add(&rt->seq, 1));
	const char *args[56] = {"exec", "--pid-file", pidfile, id};
	size_t n = 4;
	int rc = check_id(id, e), devnull;

	while (rc == 0 && argv && argv[n - 4] && n < 55)
		args[n] = argv[n - 4], n++;
	if (rc < 0 || n == 4 || n == 55)
		return rc < 0 ? rc
			      : err_make(e, EINVAL, "container %s: exec: no or too many args", id);
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return err_make(e, errno, "/dev/null: %s", strerror(errno));
	struct run r = {.args = args,
			.in = -1,
			.out = devnull,
			.err = devnull,
			.pidfile = pidfile,
			.timeout_ms = timeout_ms > 0 ? timeout_ms : INT32_MAX};
	rc = run_runc(rt, &r, e);
	close(devnull);
	unlink(pidfile);
	if (rc == -ETIMEDOUT)
		err_wrap(e, "container %s: exec %s", id, argv[0]);
	else if (rc == 0 && r.msg) /* runc's own failure, not the command's status */
		rc = run_fail(&r, id, e);
	else if (rc == 0)
		*exit_code = proc_exit_code(r.status);
	free(r.msg);
	return rc;
}

int oci_wait_exit(pid_t pid, int *status)
{
	int st, rc = proc_wait(pid, -1, &st);
	if (rc == 0)
		*status = proc_exit_code(st);
	return rc;
}
