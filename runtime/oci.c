/*
 * oci.c - see oci.h.  The config half first (pure functions over jansson
 * values), then the runc driver (posix_spawn, memfds, pidfd waits).
 */
#include "oci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid.h"

extern char **environ;

static inline void cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD 100000 /* the kubelet's CFS period, microseconds */
#define RUNC_TIMEOUT_MS 60000 /* any runc command but exec */

/* ---- $(VAR) expansion and env ---- */

/*
 * Expands $(NAME) in `in` from vars (name -> string), as Kubernetes does
 * for command, args and env values: "$$" is "$", an unknown or unclosed
 * reference and a "$" before any other character stay as written.
 */
static char *expand(const char *in, const json_t *vars)
{
	struct buf b = {0};
	const char *p = in;

	while (*p) {
		if (p[0] != '$' || !p[1]) {
			buf_add(&b, p++, 1);
		} else if (p[1] == '$') {
			buf_add(&b, "$", 1);
			p += 2;
		} else if (p[1] != '(') {
			buf_add(&b, p, 2);
			p += 2;
		} else {
			const char *close = strchr(p + 2, ')');
			if (!close) {
				buf_puts(&b, p);
				break;
			}
			_cleanup_free_ char *name = xstrndup(p + 2, (size_t)(close - p - 2));
			const char *v = json_string_value(json_object_get(vars, name));
			if (v)
				buf_puts(&b, v);
			else
				buf_add(&b, p, (size_t)(close + 1 - p));
			p = close + 1;
		}
	}
	return buf_steal(&b, NULL);
}

/* Sets NAME=value in env (an array of "K=V"), replacing an entry of that
 * name in place or appending. */
static void env_set(json_t *env, const char *name, size_t nlen, const char *value)
{
	size_t i;
	json_t *x;
	_cleanup_free_ char *kv = xasprintf("%.*s=%s", (int)nlen, name, value);

	json_array_foreach(env, i, x)
	{
		const char *s = json_string_value(x);
		if (s && !strncmp(s, name, nlen) && s[nlen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static const char *env_get(const json_t *env, const char *name)
{
	size_t i, n = strlen(name);
	json_t *x;
	json_array_foreach(env, i, x)
	{
		const char *s = json_string_value(x);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

/* The value of NAME in a "K=V" vector, or NULL. */
static const char *strv_get(char *const *v, const char *name)
{
	size_t n = strlen(name);
	for (; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static bool pod_env_names(const json_t *ctr, const char *name, size_t nlen)
{
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(ctr, "env"), i, ev)
	{
		const char *n = json_string_value(json_object_get(ev, "name"));
		if (n && strlen(n) == nlen && !strncmp(n, name, nlen))
			return true;
	}
	return false;
}

/* Fills env (see oci.h for the order) and vars, the container's own
 * variables that $(VAR) may name. */
static void build_env(const struct oci_spec *s, const char *hostname, json_t *env, json_t *vars)
{
	char *const *v;
	size_t i;
	json_t *ev;

	for (v = s->image_env; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		if (eq && eq != *v)
			env_set(env, *v, (size_t)(eq - *v), eq + 1);
	}
	if (!env_get(env, "PATH"))
		env_set(env, "PATH", 4, DEFAULT_PATH + 5);
	env_set(env, "HOSTNAME", 8, hostname);

	for (v = s->extra_env; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		if (!eq || eq == *v || pod_env_names(s->container, *v, (size_t)(eq - *v)))
			continue;
		env_set(env, *v, (size_t)(eq - *v), eq + 1);
		json_object_setn_new(vars, *v, (size_t)(eq - *v), json_string(eq + 1));
	}

	json_array_foreach(json_object_get(s->container, "env"), i, ev)
	{
		const char *name = json_string_value(json_object_get(ev, "name"));
		_cleanup_free_ char *val = NULL;
		if (!name || !*name)
			continue;
		if (json_object_get(ev, "valueFrom")) {
			const char *x = strv_get(s->extra_env, name);
			if (!x)
				continue; /* an optional reference that resolved to nothing */
			val = xstrdup(x);
		} else {
			const char *x = json_string_value(json_object_get(ev, "value"));
			val = expand(x ? x : "", vars);
		}
		env_set(env, name, strlen(name), val);
		json_object_set_new(vars, name, json_string(val));
	}
}

/* ---- process.args ---- */

static bool nonempty(const json_t *a)
{
	return json_is_array(a) && json_array_size(a) > 0;
}

static void append_strv(json_t *args, char *const *v)
{
	for (; v && *v; v++)
		json_array_append_new(args, json_string(*v));
}

static void append_expanded(json_t *args, const json_t *from, const json_t *vars)
{
	size_t i;
	json_t *x;
	json_array_foreach(from, i, x)
	{
		char *a = expand(json_is_string(x) ? json_string_value(x) : "", vars);
		json_array_append_new(args, json_string(a));
		free(a);
	}
}

/* command replaces Entrypoint, args replace Cmd; a command alone drops Cmd. */
static json_t *build_args(const struct oci_spec *s, const json_t *vars)
{
	json_t *args = json_array();
	const json_t *command = json_object_get(s->container, "command");
	const json_t *cargs = json_object_get(s->container, "args");

	if (s->sandbox)
		command = cargs = NULL;
	if (nonempty(command))
		append_expanded(args, command, vars);
	else
		append_strv(args, s->entrypoint);
	if (nonempty(cargs))
		append_expanded(args, cargs, vars);
	else if (!nonempty(command))
		append_strv(args, s->cmd);
	return args;
}

/* ---- process.user ---- */

/* Opens PATH inside the rootfs, symlinks resolved as if rootfs were "/". */
static FILE *rootfs_fopen(const char *rootfs, const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int dfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	close(dfd);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/*
 * Looks an entry up in the image's /etc/passwd or /etc/group: by name, or
 * by id when name is NULL.  Gives its id, and for passwd its primary gid
 * and home (the caller frees *home).  False when there is no such entry.
 */
static bool db_find(const char *rootfs, const char *file, const char *name, int64_t id,
		    int64_t *out_id, int64_t *out_gid, char **home)
{
	FILE *f = rootfs_fopen(rootfs, file);
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	while (f && !found && getline(&line, &cap, f) > 0) {
		char *fld[7] = {0}, *p = line;
		int n = 0;
		line[strcspn(line, "\n")] = '\0';
		while (n < 7 && p)
			fld[n++] = strsep(&p, ":");
		if (n < 3 || !*fld[2])
			continue;
		char *end;
		long long v = strtoll(fld[2], &end, 10);
		if (*end || (name ? strcmp(fld[0], name) != 0 : v != id))
			continue;
		found = true;
		*out_id = v;
		if (out_gid && n >= 4)
			*out_gid = strtoll(fld[3], NULL, 10);
		if (home && n >= 6 && *fld[5])
			*home = xstrdup(fld[5]);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* securityContext field: the container's, else the pod's. */
static json_t *sc_get(const struct oci_spec *s, const char *field)
{
	json_t *v = json_object_get(json_object_get(s->container, "securityContext"), field);
	return v ? v : json_object_get(obj_at(s->pod, "spec.securityContext"), field);
}

static int build_user(const struct oci_spec *s, json_t *process, json_t *env, struct err **e)
{
	int64_t uid = 0, gid = 0, ignored;
	_cleanup_free_ char *home = NULL, *user = NULL;
	json_t *run_uid = sc_get(s, "runAsUser"), *run_gid = sc_get(s, "runAsGroup");
	bool have_gid = false;

	if (s->image_user && *s->image_user && !json_is_integer(run_uid)) {
		user = xstrdup(s->image_user);
		char *group = strchr(user, ':');
		if (group)
			*group++ = '\0';
		if (all_digits(user))
			uid = strtoll(user, NULL, 10);
		else if (db_find(s->rootfs, "/etc/passwd", user, 0, &uid, &gid, &home))
			have_gid = true;
		else
			return err_make(e, EINVAL, "image user %s: no such user in /etc/passwd",
					s->image_user);
		if (group && all_digits(group)) {
			gid = strtoll(group, NULL, 10), have_gid = true;
		} else if (group && *group) {
			if (!db_find(s->rootfs, "/etc/group", group, 0, &gid, NULL, NULL))
				return err_make(e, EINVAL, "image user %s: no such group in /etc/group",
						s->image_user);
			have_gid = true;
		}
	}
	if (json_is_integer(run_uid))
		uid = json_integer_value(run_uid);
	if (!home) { /* the primary group and home of a numeric uid */
		int64_t g = 0;
		if (db_find(s->rootfs, "/etc/passwd", NULL, uid, &ignored, &g, &home) && !have_gid)
			gid = g;
	}
	if (json_is_integer(run_gid))
		gid = json_integer_value(run_gid);
	if (uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX)
		return err_make(e, EINVAL, "user %lld:%lld out of range", (long long)uid,
				(long long)gid);

	json_t *u = json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
	json_t *gids = json_array(), *g;
	size_t i;
	json_array_foreach(obj_at(s->pod, "spec.securityContext.supplementalGroups"), i, g)
		if (json_is_integer(g))
			json_array_append(gids, g);
	g = obj_at(s->pod, "spec.securityContext.fsGroup");
	if (json_is_integer(g))
		json_array_append(gids, g);
	if (json_array_size(gids))
		json_object_set_new(u, "additionalGids", gids);
	else
		json_decref(gids);
	json_object_set_new(process, "user", u);

	if (!env_get(env, "HOME"))
		env_set(env, "HOME", 4, home ? home : uid == 0 ? "/root" : "/");
	return 0;
}

/* ---- process.capabilities ---- */

/* By number: CAP_CHOWN is 0 ... CAP_CHECKPOINT_RESTORE is 40. */
static const char *const cap_names[] = {
	"CHOWN",	  "DAC_OVERRIDE",     "DAC_READ_SEARCH", "FOWNER",	  "FSETID",
	"KILL",		  "SETGID",	      "SETUID",		 "SETPCAP",	  "LINUX_IMMUTABLE",
	"NET_BIND_SERVICE", "NET_BROADCAST",  "NET_ADMIN",	 "NET_RAW",	  "IPC_LOCK",
	"IPC_OWNER",	  "SYS_MODULE",	      "SYS_RAWIO",	 "SYS_CHROOT",	  "SYS_PTRACE",
	"SYS_PACCT",	  "SYS_ADMIN",	      "SYS_BOOT",	 "SYS_NICE",	  "SYS_RESOURCE",
	"SYS_TIME",	  "SYS_TTY_CONFIG",   "MKNOD",		 "LEASE",	  "AUDIT_WRITE",
	"AUDIT_CONTROL",  "SETFCAP",	      "MAC_OVERRIDE",	 "MAC_ADMIN",	  "SYSLOG",
	"WAKE_ALARM",	  "BLOCK_SUSPEND",    "AUDIT_READ",	 "PERFMON",	  "BPF",
	"CHECKPOINT_RESTORE"};
#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))
#define CAP_BIT(n) (UINT64_C(1) << (n))
#define ALL_CAPS (CAP_BIT(N_CAPS) - 1)
/* Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
 * SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
#define DEFAULT_CAPS                                                                            \
	(CAP_BIT(0) | CAP_BIT(1) | CAP_BIT(3) | CAP_BIT(4) | CAP_BIT(5) | CAP_BIT(6) | CAP_BIT(7) | \
	 CAP_BIT(8) | CAP_BIT(10) | CAP_BIT(13) | CAP_BIT(18) | CAP_BIT(27) | CAP_BIT(29) |      \
	 CAP_BIT(31))

/* Mask of a securityContext capability name ("NET_ADMIN", "CAP_NET_ADMIN",
 * any case, "ALL"); 0 and *e when unknown. */
static uint64_t cap_mask(const json_t *v, struct err **e)
{
	const char *n = json_string_value(v);
	if (n && !strncasecmp(n, "CAP_", 4))
		n += 4;
	if (n && !strcasecmp(n, "ALL"))
		return ALL_CAPS;
	for (size_t i = 0; n && i < N_CAPS; i++)
		if (!strcasecmp(n, cap_names[i]))
			return CAP_BIT(i);
	err_make(e, EINVAL, "capability %s: unknown", n ? n : "(not a string)");
	return 0;
}

static int build_caps(const struct oci_spec *s, bool privileged, json_t *process, struct err **e)
{
	uint64_t caps = privileged ? ALL_CAPS : DEFAULT_CAPS, m;
	const json_t *sc = json_object_get(s->container, "securityContext");
	const json_t *add = obj_at(sc, "capabilities.add"), *drop = obj_at(sc, "capabilities.drop");
	size_t i;
	json_t *v;

	/* as containerd: ALL first, so that "drop ALL, add X" leaves X */
	json_array_foreach(add, i, v) if (json_is_string(v) && !strcasecmp(json_string_value(v), "ALL"))
		caps = ALL_CAPS;
	json_array_foreach(drop, i, v) if (json_is_string(v) && !strcasecmp(json_string_value(v), "ALL"))
		caps = 0;
	json_array_foreach(add, i, v)
	{
		if (!(m = cap_mask(v, e)))
			return -EINVAL;
		if (m != ALL_CAPS)
			caps |= m;
	}
	json_array_foreach(drop, i, v)
	{
		if (!(m = cap_mask(v, e)))
			return -EINVAL;
		if (m != ALL_CAPS)
			caps &= ~m;
	}
	json_t *list = json_array();
	for (i = 0; i < N_CAPS; i++)
		if (caps & CAP_BIT(i))
			json_array_append_new(list, json_sprintf("CAP_%s", cap_names[i]));
	json_object_set_new(process, "capabilities",
			    json_pack("{s:O, s:O, s:o}", "bounding", list, "effective", list,
				      "permitted", list));
	return 0;
}

/* ---- resources and QoS ---- */

/* resources.<kind>.<name> of ctr in millis, 0 when unset. */
static int res_milli(const json_t *ctr, const char *kind, const char *name, int64_t *out,
		     struct err **e)
{
	json_t *q = json_object_get(obj_at(ctr, "resources"), kind);
	*out = 0;
	q = json_object_get(q, name);
	if (!q)
		return 0;
	if (quantity_parse(q, out, e) < 0)
		return err_wrap(e, "resources.%s.%s", kind, name);
	return 0;
}

/* The pod's QoS class as Kubernetes computes it (status.qosClass if set). */
static const char *pod_qos(const json_t *pod)
{
	static const char *const lists[] = {"spec.containers", "spec.initContainers"};
	static const char *const names[] = {"cpu", "memory"};
	const char *q = obj_str(pod, "status.qosClass");
	bool any = false, guaranteed = true;
	if (q)
		return q;
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(obj_at(pod, lists[l]), i, c)
		{
			for (size_t r = 0; r < 2; r++) {
				int64_t req = 0, lim = 0;
				bool has_req =
					json_object_get(obj_at(c, "resources.requests"), names[r]);
				if (res_milli(c, "requests", names[r], &req, NULL) < 0 ||
				    res_milli(c, "limits", names[r], &lim, NULL) < 0)
					return "Burstable";
				any |= req > 0 || lim > 0;
				if (lim <= 0 || (has_req && req != lim))
					guaranteed = false;
			}
		}
	}
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

/*
 * The lowest oomScoreAdj runc can set: lowering it needs CAP_SYS_RESOURCE,
 * and without that (a restricted or rootless agent) the agent's own value
 * is the floor, as containerd's restrict_oom_score_adj does.
 */
static int64_t oom_floor(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = ~0ULL;
	long long own = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			eff = strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
	if (eff & CAP_BIT(24)) /* CAP_SYS_RESOURCE */
		return -1000;
	f = fopen("/proc/self/oom_score_adj", "re");
	if (!f || fscanf(f, "%lld", &own) != 1)
		own = 0;
	if (f)
		fclose(f);
	return own;
}

static int64_t oom_score_adj(const struct oci_spec *s)
{
	int64_t adj = 1000, req = 0, node = s->node_memory;
	const char *qos = s->sandbox ? "" : pod_qos(s->pod);

	if (s->sandbox) {
		adj = -998;
	} else if (!strcmp(qos, "Guaranteed")) {
		adj = -997;
	} else if (strcmp(qos, "BestEffort") != 0) {
		if (res_milli(s->container, "requests", "memory", &req, NULL) < 0 || req == 0)
			res_milli(s->container, "limits", "memory", &req, NULL);
		if (node <= 0)
			node = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
		adj = node > 0 ? 1000 - (1000 * (req / 1000)) / node : 1000;
		adj = adj < 3 ? 3 : adj > 999 ? 999 : adj;
	}
	int64_t floor = oom_floor();
	return adj < floor ? floor : adj;
}

static int build_resources(const struct oci_spec *s, bool privileged, json_t *linux_,
			   struct err **e)
{
	json_t *res = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", privileged, "access", "rwm");
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
	if (!cpu_req)
		cpu_req = cpu_lim; /* what API defaulting would have written */
	int64_t shares = cpu_req * 1024 / 1000;
	shares = shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
	json_t *cpu = json_pack("{s:I}", "shares", (json_int_t)shares);
	if (cpu_lim > 0) {
		int64_t quota = cpu_lim * CPU_PERIOD / 1000;
		json_object_set_new(cpu, "quota", json_integer(quota < 1000 ? 1000 : quota));
		json_object_set_new(cpu, "period", json_integer(CPU_PERIOD));
	}
	json_object_set_new(res, "cpu", cpu);
	return 0;
}

/* ---- mounts, namespaces, paths ---- */

static json_t *mount_new(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:[]}", "destination", dst, "type", type, "source",
			      src, "options");
	char *all = xstrdup(opts), *p = all, *o;
	while ((o = strsep(&p, ",")))
		if (*o)
			json_array_append_new(json_object_get(m, "options"), json_string(o));
	free(all);
	return m;
}

static json_t *build_mounts(const struct oci_spec *s, bool privileged)
{
	const char *sys = privileged ? "nosuid,noexec,nodev" : "nosuid,noexec,nodev,ro";
	json_t *m = json_array();

	json_array_append_new(m, mount_new("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount_new("/dev", "tmpfs", "tmpfs",
					   "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(m, mount_new("/dev/pts", "devpts", "devpts",
					   "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	if (s->shm_dir)
		json_array_append_new(m, mount_new("/dev/shm", "bind", s->shm_dir,
						   "rbind,rprivate,nosuid,noexec,nodev"));
	else
		json_array_append_new(m, mount_new("/dev/shm", "tmpfs", "shm",
						   "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(m, mount_new("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount_new("/sys", "sysfs", "sysfs", sys));
	json_array_append_new(m, mount_new("/sys/fs/cgroup", "cgroup", "cgroup", sys));

	const char *files[][2] = {{s->hostname_file, "/etc/hostname"},
				  {s->hosts_file, "/etc/hosts"},
				  {s->resolv_file, "/etc/resolv.conf"}};
	for (size_t i = 0; i < 3; i++)
		if (files[i][0])
			json_array_append_new(m, mount_new(files[i][1], "bind", files[i][0],
							   "rbind,rprivate"));
	for (size_t i = 0; i < s->n_mounts; i++)
		json_array_append_new(m, mount_new(s->mounts[i].container_path, "bind",
						   s->mounts[i].host_path,
						   s->mounts[i].readonly ? "rbind,rprivate,ro"
									 : "rbind,rprivate"));
	return m;
}

static bool cgroup2_host(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static json_t *build_namespaces(const struct oci_spec *s)
{
	static const char *const types[OCI_NS_COUNT] = {"network", "ipc", "uts"};
	json_t *ns = json_pack("[{s:s}, {s:s}]", "type", "pid", "type", "mount");
	for (int i = 0; i < OCI_NS_COUNT; i++) {
		json_t *n = json_pack("{s:s}", "type", types[i]);
		if (s->ns_path[i])
			json_object_set_new(n, "path", json_string(s->ns_path[i]));
		json_array_append_new(ns, n);
	}
	if (cgroup2_host()) /* as Docker and containerd: private on v2, host on v1 */
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

/* Docker's defaults. */
static const char *const masked_paths[] = {
	"/proc/asound",	   "/proc/acpi",	"/proc/interrupts", "/proc/kcore",
	"/proc/keys",	   "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi",	  "/sys/firmware",    "/sys/devices/virtual/powercap",
	NULL};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					      "/proc/sysrq-trigger", NULL};

/* ---- config.json ---- */

json_t *oci_config(const struct oci_spec *s, struct err **e)
{
	const char *ctr_name = s->sandbox ? "sandbox" : obj_str(s->container, "name");
	const char *pod_name = obj_str(s->pod, "metadata.name");
	const char *hostname = s->hostname ? s->hostname : pod_name;

	if (!json_is_object(s->pod) || !pod_name)
		return err_make(e, EINVAL, "oci config: no pod, or a pod without a name"), NULL;
	if (!s->rootfs || s->rootfs[0] != '/')
		return err_make(e, EINVAL, "pod %s: oci config: rootfs must be an absolute path",
				pod_name),
		       NULL;
	if (!s->sandbox && (!json_is_object(s->container) || !ctr_name))
		return err_make(e, EINVAL, "pod %s: oci config: no container", pod_name), NULL;

	const json_t *sc = json_object_get(s->container, "securityContext");
	bool privileged = !s->sandbox && json_is_true(json_object_get(sc, "privileged"));
	json_t *ape = json_object_get(sc, "allowPrivilegeEscalation");
	_cleanup_json_ json_t *env = json_array(), *vars = json_object();
	_cleanup_json_ json_t *config = json_object(), *process = json_object();
	_cleanup_json_ json_t *linux_ = json_object();

	build_env(s, hostname, env, vars);
	json_t *args = build_args(s, vars);
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(process, "args", args);
	if (!json_array_size(args))
		return err_make(e, EINVAL,
				"pod %s: container %s: no command specified (none in the pod nor "
				"the image)",
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
	json_object_set_new(process, "noNewPrivileges",
			    json_boolean(!privileged && !json_is_true(ape)));
	json_object_set_new(process, "oomScoreAdj", json_integer(oom_score_adj(s)));

	if (s->cgroups_path)
		json_object_set_new(linux_, "cgroupsPath", json_string(s->cgroups_path));
	json_object_set_new(linux_, "namespaces", build_namespaces(s));
	if (!privileged) {
		json_object_set_new(linux_, "maskedPaths", strs(masked_paths));
		json_object_set_new(linux_, "readonlyPaths", strs(readonly_paths));
	}
	size_t i;
	json_t *sysctl;
	json_array_foreach(s->sandbox ? obj_at(s->pod, "spec.securityContext.sysctls") : NULL, i,
			   sysctl)
	{
		const char *k = obj_str(sysctl, "name"), *v = obj_str(sysctl, "value");
		if (!json_object_get(linux_, "sysctl"))
			json_object_set_new(linux_, "sysctl", json_object());
		if (k && v)
			json_object_set_new(json_object_get(linux_, "sysctl"), k, json_string(v));
	}

	json_object_set_new(config, "ociVersion", json_string("1.0.2"));
	json_object_set(config, "process", process);
	json_object_set_new(config, "root",
			    json_pack("{s:s, s:b}", "path", s->rootfs, "readonly",
				      json_is_true(json_object_get(sc, "readOnlyRootFilesystem"))));
	if (!s->ns_path[OCI_NS_UTS])
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

/* One runc invocation.  in/out/err: fds for the child's stdio, -1 for
 * /dev/null (in) or a capture (out, err). */
struct run {
	const char *const *args; /* after runc's global options, NULL-ended */
	int in, out, err;
	int timeout_ms;	     /* <= 0: RUNC_TIMEOUT_MS */
	const char *pidfile; /* at the timeout, SIGKILL the pid in it first */
	int status;	     /* waitpid() status */
	char *out_text;	     /* what a captured stdout held */
	char *msg;	     /* runc's last error message, or stderr, or NULL */
};

static void run_free(struct run *r)
{
	free(r->out_text);
	free(r->msg);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for child pid until deadline (monotonic ms): 0, or -ETIMEDOUT. */
static int wait_until(pid_t pid, int pidfd, int64_t deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		} else {
			struct timespec ts = {0, 5 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

static char *fd_slurp(int fd)
{
	struct buf b = {0};
	char chunk[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			buf_add(&b, chunk, (size_t)n);
	return buf_steal(&b, NULL);
}

/* runc's last "error" message in its JSON log, with the first "fatal"
 * one (what runc's init said) when that differs; NULL when none. */
static char *runc_log_msg(const char *log)
{
	_cleanup_free_ char *err = NULL, *fatal = NULL;
	for (const char *p = log; *p;) {
		size_t n = strcspn(p, "\n");
		json_t *j = json_loadb(p, n, 0, NULL);
		const char *lvl = obj_str(j, "level"), *m = obj_str(j, "msg");
		if (lvl && m && !strcmp(lvl, "error"))
			free(err), err = xstrdup(m);
		else if (lvl && m && !strcmp(lvl, "fatal") && !fatal)
			fatal = xstrdup(m);
		json_decref(j);
		p += n + (p[n] ? 1 : 0);
	}
	if (err && fatal && !strstr(err, fatal))
		return xasprintf("%s (%s)", err, fatal);
	return err ? STEAL_POINTER(&err) : STEAL_POINTER(&fatal);
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/*
 * Runs runc with r->args: spawned with a clean signal state and only fds
 * 0-3 open (3 is runc's --log, a memfd), waited for by pid.  Returns 0
 * when runc ran to its end (r->status, r->msg, r->out_text set), or a
 * negative errno with *e when it could not be started or timed out (then
 * it has been killed and reaped).
 */
static int run_runc(struct oci_runtime *rt, struct run *r, struct err **e)
{
	int src[4] = {r->in, r->out, r->err, -1}, hi[4] = {-1, -1, -1, -1};
	int own[4] = {-1, -1, -1, -1}, rc = 0, pidfd = -1;
	const char *argv[64] = {rt->runc, "--root", rt->root, "--log", "/proc/self/fd/3",
				"--log-format", "json"};
	size_t argc = 7;
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;

	for (size_t i = 0; r->args[i]; i++) {
		if (argc + 1 >= sizeof(argv) / sizeof(argv[0]))
			return err_make(e, E2BIG, "runc %s: too many arguments", r->args[0]);
		argv[argc++] = r->args[i];
	}
	argv[argc] = NULL;

	for (int i = 0; i < 4; i++) {
		if (src[i] < 0) {
			own[i] = i == 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC)
					: memfd_create("runc-io", MFD_CLOEXEC);
			src[i] = own[i];
		}
		/* above 3, so that no dup2 below overwrites another's source */
		hi[i] = src[i] < 0 ? -1 : fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		if (hi[i] < 0) {
			rc = err_make(e, errno, "runc %s: fds: %s", r->args[0], strerror(errno));
			goto out;
		}
	}

	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 4; i++)
		posix_spawn_file_actions_adddup2(&fa, hi[i], i);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int err = posix_spawn(&pid, rt->runc, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		rc = err_make(e, err, "runc %s: spawn %s: %s", r->args[0], rt->runc, strerror(err));
		goto out;
	}

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int64_t t0 = now_ms();
	rc = wait_until(pid, pidfd, t0 + (r->timeout_ms > 0 ? r->timeout_ms : RUNC_TIMEOUT_MS),
			&r->status);
	if (rc == -ETIMEDOUT) {
		FILE *f = r->pidfile ? fopen(r->pidfile, "re") : NULL;
		int victim = 0;
		if (f && fscanf(f, "%d", &victim) == 1 && victim > 1)
			kill(victim, SIGKILL); /* runc then exits with the process */
		if (f)
			fclose(f);
		if (!victim || wait_until(pid, pidfd, now_ms() + 2000, &r->status) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &r->status, 0);
		}
		rc = err_make(e, ETIMEDOUT, "runc %s: timed out after %lld ms", r->args[0],
			      (long long)(now_ms() - t0));
	} else if (rc < 0) {
		rc = err_make(e, -rc, "runc %s: waitpid: %s", r->args[0], strerror(-rc));
	}
	if (pidfd >= 0)
		close(pidfd);
	if (rc == 0) {
		_cleanup_free_ char *log = fd_slurp(hi[3]);
		r->msg = runc_log_msg(log);
		if (!r->msg && own[2] >= 0) {
			r->msg = fd_slurp(hi[2]);
			trim(r->msg);
			if (!*r->msg)
				free(STEAL_POINTER(&r->msg));
		}
		if (own[1] >= 0)
			r->out_text = fd_slurp(hi[1]);
	}
out:
	for (int i = 0; i < 4; i++) {
		if (hi[i] >= 0)
			close(hi[i]);
		if (own[i] >= 0)
			close(own[i]);
	}
	return rc;
}

static bool run_ok(const struct run *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* The error of a runc command that ran and failed, its errno from the
 * message: runc has no other way of saying what went wrong. */
static int run_fail(const struct run *r, const char *id, struct err **e)
{
	const char *m = r->msg;
	int code = EIO;
	if (m && strstr(m, "does not exist"))
		code = ENOENT;
	else if (m && (strstr(m, "already exists") || strstr(m, "exists:")))
		code = EEXIST;
	else if (m && (strstr(m, "not running") || strstr(m, "in a stopped")))
		code = ESRCH;
	if (m)
		return err_make(e, code, "container %s: runc %s: %s", id, r->args[0], m);
	if (WIFSIGNALED(r->status))
		return err_make(e, code, "container %s: runc %s: killed by signal %d", id,
				r->args[0], WTERMSIG(r->status));
	return err_make(e, code, "container %s: runc %s: exit status %d", id, r->args[0],
			WEXITSTATUS(r->status));
}

static int check_id(const char *id, struct err **e)
{
	size_t n = id ? strlen(id) : 0;
	if (!n || n > 250 || !strcmp(id, ".") || !strcmp(id, ".."))
		return err_make(e, EINVAL, "container id \"%s\": must be 1-250 characters",
				id ? id : "");
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
			return err_make(e, EINVAL, "container id %s: only letters, digits, _+-.", id);
	return 0;
}

/* Runs a command that prints nothing: 0 or the mapped failure. */
static int run_simple(struct oci_runtime *rt, const char *id, const char *const *args,
		      struct err **e)
{
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = check_id(id, e);
	if (rc == 0)
		rc = run_runc(rt, &r, e);
	if (rc == 0 && !run_ok(&r))
		rc = run_fail(&r, id, e);
	run_free(&r);
	return rc;
}

/* ---- the API ---- */

int oci_runtime_new(const char *root_dir, struct oci_runtime **out, struct err **e)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xstrdup(path && *path ? path : DEFAULT_PATH + 5);
	_cleanup_free_ char *runc = NULL, *root = NULL;
	char *p = dirs, *d;

	while (!runc && (d = strsep(&p, ":"))) {
		char *cand = xasprintf("%s/runc", *d ? d : ".");
		if (access(cand, X_OK) == 0 && cand[0] == '/')
			runc = cand;
		else
			free(cand);
	}
	if (!runc)
		return err_make(e, ENOENT, "runc: not found on PATH (apt-get install runc)");
	if (!root_dir || root_dir[0] != '/')
		return err_make(e, EINVAL, "runc root %s: must be an absolute path",
				root_dir ? root_dir : "(null)");
	root = xstrdup(root_dir);
	for (char *s = root + 1;; s++) { /* mkdir -p */
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(root, 0700) < 0 && errno != EEXIST)
			return err_make(e, errno, "runc root %s: mkdir %s: %s", root_dir, root,
					strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	struct oci_runtime *rt = xcalloc(1, sizeof(*rt));
	rt->root = STEAL_POINTER(&root);
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

static int write_config(const char *bundle, const json_t *config, struct err **e)
{
	_cleanup_free_ char *tmp = xasprintf("%s/config.json.tmp", bundle);
	_cleanup_free_ char *dst = xasprintf("%s/config.json", bundle);
	FILE *f = fopen(tmp, "we");
	int err = 0;

	if (!f)
		return err_make(e, errno, "bundle %s: %s: %s", bundle, tmp, strerror(errno));
	if (json_dumpf(config, f, JSON_INDENT(1)) < 0 || fputc('\n', f) == EOF)
		err = errno ? errno : EIO;
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, dst) < 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return err_make(e, err, "bundle %s: writing config.json: %s", bundle, strerror(err));
	}
	return 0;
}

int oci_create(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
	       const char *stdout_log, struct err **e)
{
	int rc = check_id(id, e), fd;
	if (rc < 0)
		return rc;
	if (config && (rc = write_config(bundle, config, e)) < 0)
		return rc;
	fd = open(stdout_log ? stdout_log : "/dev/null",
		  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return err_make(e, errno, "container %s: log %s: %s", id, stdout_log,
				strerror(errno));

	const char *args[] = {"create", "--bundle", bundle, id, NULL};
	struct run r = {.args = args, .in = -1, .out = fd, .err = fd};
	rc = run_runc(rt, &r, e);
	close(fd);
	if (rc == 0 && !run_ok(&r))
		rc = run_fail(&r, id, e);
	if (rc == 0)
		log_debug("oci", "%s: created from %s", id, bundle);
	run_free(&r);
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

static enum oci_status status_of(const char *s)
{
	static const char *const names[] = {"creating", "created", "running", "paused",
					    "stopped"};
	for (int i = 0; s && i < OCI_UNKNOWN; i++)
		if (!strcmp(s, names[i]))
			return (enum oci_status)i;
	return OCI_UNKNOWN;
}

int oci_state(struct oci_runtime *rt, const char *id, struct oci_state *out, struct err **e)
{
	const char *args[] = {"state", id, NULL};
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = check_id(id, e);

	if (rc == 0)
		rc = run_runc(rt, &r, e);
	if (rc == 0 && !run_ok(&r))
		rc = run_fail(&r, id, e);
	if (rc == 0) {
		json_t *j = json_loads(r.out_text, 0, NULL);
		if (!json_is_object(j))
			rc = err_make(e, EIO, "container %s: runc state: not JSON: %.80s", id,
				      r.out_text);
		out->status = status_of(obj_str(j, "status"));
		out->pid = (pid_t)obj_int(j, "pid", 0);
		json_decref(j);
	}
	run_free(&r);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_list(struct oci_runtime *rt, char ***ids, size_t *n, struct err **e)
{
	const char *args[] = {"list", "--format", "json", NULL};
	struct run r = {.args = args, .in = -1, .out = -1, .err = -1};
	int rc = run_runc(rt, &r, e);
	size_t i;
	json_t *c;

	*ids = NULL;
	*n = 0;
	if (rc == 0 && !run_ok(&r))
		rc = run_fail(&r, rt->root, e);
	if (rc == 0) {
		json_t *j = json_loads(r.out_text, JSON_DECODE_ANY, NULL);
		if (!json_is_array(j) && !json_is_null(j))
			rc = err_make(e, EIO, "runc list: not JSON: %.80s", r.out_text);
		*ids = xcalloc(json_array_size(j) + 1, sizeof(char *));
		json_array_foreach(j, i, c)
			if (obj_str(c, "id"))
				(*ids)[(*n)++] = xstrdup(obj_str(c, "id"));
		qsort(*ids, *n, sizeof(char *), cmp_str);
		json_decref(j);
	}
	run_free(&r);
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
	const char *args[48] = {"exec", "--pid-file"};
	size_t n = 2;
	int rc = check_id(id, e), devnull;
	/* runc skips files in its root: a '@' keeps this clear of every id */
	_cleanup_free_ char *pidfile = xasprintf("%s/exec@%d.%u.pid", rt->root, (int)getpid(),
						 atomic_fetch_add(&rt->seq, 1));

	if (rc < 0)
		return rc;
	if (!argv || !argv[0])
		return err_make(e, EINVAL, "container %s: exec: no command", id);
	args[n++] = pidfile;
	args[n++] = id;
	for (size_t i = 0; argv[i]; i++) {
		if (n + 1 >= sizeof(args) / sizeof(args[0]))
			return err_make(e, E2BIG, "container %s: exec: too many arguments", id);
		args[n++] = argv[i];
	}
	args[n] = NULL;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		return err_make(e, errno, "/dev/null: %s", strerror(errno));

	struct run r = {.args = args, .in = -1, .out = devnull, .err = devnull,
			.timeout_ms = timeout_ms > 0 ? timeout_ms : INT32_MAX,
			.pidfile = pidfile};
	rc = run_runc(rt, &r, e);
	close(devnull);
	unlink(pidfile);
	if (rc == -ETIMEDOUT)
		err_wrap(e, "container %s: exec %s", id, argv[0]);
	else if (rc == 0 && r.msg) /* runc's own error, not the command's status */
		rc = run_fail(&r, id, e);
	else if (rc == 0)
		*exit_code = WIFEXITED(r.status) ? WEXITSTATUS(r.status)
						 : 128 + WTERMSIG(r.status);
	run_free(&r);
	return rc;
}

int oci_wait_exit(pid_t pid, int *status)
{
	int st;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return -errno;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
