/*
 * pod.c - a pod's directory, sandbox and container bundles (see pod.h).
 *
 * Each step records what it made in the object (made_dir, mounted,
 * created, pid/reaped), and the remove functions undo exactly those, so a
 * failed create cleans up by calling them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/kubelet/pause.h"
#include "runtime/kubelet/podcg.h"
#include "runtime/kubelet/pod.h"
#include "runtime/kubelet/podtrace.h"
#include "runtime/kubelet/subpath.h"
#include "runtime/kubelet/userns.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define UID_PREFIX	   12
#define REAP_AFTER_KILL_MS 10000

/* ---- small helpers ---- */

/* A DNS label or a uid: [A-Za-z0-9-], 1..max bytes, no leading '-'. */
static bool valid_label(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	return true;
}

/* mkdir that accepts an existing dir; sets *made when it made it. */
static int make_dir(const char *path, bool *made, struct err **e)
{
	if (mkdir(path, 0755) == 0) {
		if (made)
			*made = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return err_make(e, errno, "mkdir %s: %s", path, strerror(errno));
}

/* The host's resolv.conf, or "" when it has none. */
static char *read_host_resolv(void)
{
	struct buf b = {0};
	char chunk[1024];
	size_t n;
	FILE *f = fopen("/etc/resolv.conf", "re");
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (f)
		fclose(f);
	buf_puts(&b, "");
	return buf_steal(&b, NULL);
}

/* True when path is the root of a mount (its device differs from its
 * parent's, or mountinfo lists it: a bind of the same fs). */
static bool is_mountpoint(const char *path)
{
	struct stat a, b;
	_cleanup_free_ char *parent = xasprintf("%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	if (a.st_dev != b.st_dev)
		return true;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	while (f && !found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strcmp(mnt, path))
			found = true;
	if (f)
		fclose(f);
	return found;
}

/* Unmounts path, lazily when it is busy.  0 when nothing is mounted there
 * any more. */
static int unmount(const char *path, struct err **e)
{
	for (int i = 0; i < 8 && is_mountpoint(path); i++) {
		if (umount2(path, 0) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			break;
		if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
			return err_make(e, errno, "umount %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Unmounts every mount at or below dir, deepest first (mountinfo lists
 * children after their parents; octal escapes in paths are not decoded,
 * so such paths are skipped: this module makes none). */
static int unmount_under(const char *dir, struct err **e)
{
	size_t dl = strlen(dir), n = 0, cap = 0;
	char **list = NULL;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (strncmp(mnt, dir, dl) || (mnt[dl] != '/' && mnt[dl] != 0))
			continue;
		if (n == cap)
			list = xrealloc(list, (cap = cap ? 2 * cap : 8) * sizeof(*list));
		list[n++] = xstrdup(mnt);
	}
	if (f)
		fclose(f);
	int rc = 0;
	while (n > 0) {
		char *m = list[--n];
		if (umount2(m, 0) < 0 && errno != EINVAL && umount2(m, MNT_DETACH) < 0 &&
		    errno != EINVAL && rc == 0)
			rc = err_make(e, errno, "umount %s: %s", m, strerror(errno));
		free(m);
	}
	free(list);
	return rc;
}

/* Mounts an overlay of info's layers on rootfs, with upper and work in
 * rw_dir (made here). */
static int mount_overlay(const struct image_info *info, const char *rootfs, const char *rw_dir,
			 unsigned long flags, uint32_t userns_base, struct err **e)
{
	_cleanup_free_ char *upper = xasprintf("%s/upper", rw_dir);
	_cleanup_free_ char *work = xasprintf("%s/work", rw_dir);
	_cleanup_free_ char *ldir = xasprintf("%s/lower", rw_dir);
	_cleanup_free_ char *lower = NULL;
	int r;
	if ((r = make_dir(rw_dir, NULL, e)) < 0 || (r = make_dir(upper, NULL, e)) < 0 ||
	    (r = make_dir(work, NULL, e)) < 0 || (r = make_dir(rootfs, NULL, e)) < 0)
		return r;
	if (!userns_base) {
		lower = image_info_lowerdir(info);
	} else if ((r = userns_mount_layers(info, userns_base, ldir, &lower, e)) < 0) {
		return r;
	} else if (chown(upper, userns_base, userns_base) < 0) {
		/* the rootfs' top directory is the upper one: the container's root's */
		return err_make(e, errno, "chown %s: %s", upper, strerror(errno));
	}
	_cleanup_free_ char *opts =
	    xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (strlen(opts) >= 4096)
		return err_make(e, E2BIG, "%s: %zu layers: overlay options too long", info->ref,
				info->n_layers);
	if (mount("overlay", rootfs, "overlay", flags, opts) < 0)
		return err_make(e, errno, "mount overlay on %s: %s", rootfs, strerror(errno));
	return 0;
}

/*
 * Reaps pid within timeout_ms (0: look once; < 0: forever).  0 and the
 * Kubernetes exit code, -ETIMEDOUT, or -ECHILD.
 */
static int reap(pid_t pid, int timeout_ms, int *code)
{
	int st, rc = proc_wait(pid, timeout_ms, &st);
	if (rc == 0)
		*code = proc_exit_code(st);
	return rc;
}

/* Keeps the first failure of a multi-step removal: its code in *rc and
 * its error in *e; frees the later ones. */
static void keep_first(int *rc, int r, struct err **e, struct err **e2)
{
	if (r < 0 && *rc == 0) {
		*rc = r;
		if (e)
			*e = STEAL_POINTER(e2);
	}
	err_free(*e2);
	*e2 = NULL;
}

/* ---- the sandbox ---- */

static int write_pod_files(const struct pod_sandbox *sb, struct err **e)
{
	_cleanup_free_ char *p_host = xasprintf("%s/hostname", sb->dir);
	_cleanup_free_ char *p_hosts = xasprintf("%s/hosts", sb->dir);
	_cleanup_free_ char *p_resolv = xasprintf("%s/resolv.conf", sb->dir);
	_cleanup_free_ char *hostname = xasprintf("%s\n", sb->name);
	/* No pod IP yet (no CNI): the pod's name resolves to a loopback
	 * address, as Debian does for the machine's own name. */
	_cleanup_free_ char *hosts = xasprintf("# Kubernetes-managed hosts file (clusterfs).\n"
					       "127.0.0.1\tlocalhost\n"
					       "::1\tlocalhost ip6-localhost ip6-loopback\n"
					       "127.0.1.1\t%s\n",
					       sb->name);
	_cleanup_free_ char *resolv = read_host_resolv();
	int r;
	if ((r = write_atomic(p_host, hostname, e)) < 0 ||
	    (r = write_atomic(p_hosts, hosts, e)) < 0 ||
	    (r = write_atomic(p_resolv, resolv, e)) < 0)
		return r;
	return 0;
}

/* Rewrites path in place (no new inode, no deleted one: each costs an
 * inode allocation that, on an ext4 with many recent deletions, scans
 * past them all); a missing file is written anew. */
static int rewrite(const char *path, const char *text, struct err **e)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return write_atomic(path, text, e);
	if (fd < 0)
		return err_make(e, errno, "write %s: %s", path, strerror(errno));
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int err = w == (ssize_t)n ? 0 : w < 0 ? errno : EIO;
	if (close(fd) < 0 && !err)
		err = errno;
	return err ? err_make(e, err, "write %s: %s", path, strerror(err)) : 0;
}

int pod_sandbox_set_net(const struct pod_sandbox *sb, const char *ip, const char *resolv,
			struct err **e)
{
	_cleanup_free_ char *p_hosts = xasprintf("%s/hosts", sb->dir);
	_cleanup_free_ char *p_resolv = xasprintf("%s/resolv.conf", sb->dir);
	/* as the kubelet writes it: the pod's own address and name last */
	_cleanup_free_ char *hosts = xasprintf("# Kubernetes-managed hosts file (clusterfs).\n"
					       "127.0.0.1\tlocalhost\n"
					       "::1\tlocalhost ip6-localhost ip6-loopback\n"
					       "fe00::0\tip6-localnet\n"
					       "fe00::1\tip6-allnodes\n"
					       "fe00::2\tip6-allrouters\n"
					       "%s\t%s\n",
					       ip && *ip ? ip : "127.0.1.1", sb->name);
	int r = rewrite(p_hosts, hosts, e);
	if (r == 0 && resolv)
		r = rewrite(p_resolv, resolv, e);
	return r;
}

/* PODS/UID/sandbox: "PID START\nNAMESPACE\nNAME\n", what adoption reads. */
static int write_sandbox_record(const struct pod_sandbox *sb, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/sandbox", sb->dir);
	_cleanup_free_ char *text = xasprintf("%d %llu\n%s\n%s\n", (int)sb->pid,
					      (unsigned long long)sb->start, sb->ns, sb->name);
	return write_atomic(path, text, e);
}

static struct pod_sandbox *sandbox_new(const struct pod_env *env, const char *uid, const char *ns,
				       const char *name)
{
	struct pod_sandbox *sb = xcalloc(1, sizeof(*sb));
	sb->uid = xstrdup(uid);
	sb->ns = xstrdup(ns);
	sb->name = xstrdup(name);
	sb->dir = xasprintf("%s/%s", env->pods_dir, uid);
	return sb;
}

static int sandbox_sysctls(const struct pod_sandbox *sb, const json_t *pod, struct err **e)
{
	_cleanup_json_ json_t *sysctls = oci_sysctls(pod);
	if (oci_check_sysctls(pod, e) < 0)
		return -EPERM;
	return userns_sysctls(sb->pid, sysctls, e);
}

int pod_sandbox_create(const struct pod_env *env, const json_t *pod, struct pod_sandbox **out,
		       struct err **e)
{
	const char *uid = obj_str(pod, "metadata.uid"), *name = obj_str(pod, "metadata.name");
	const char *ns = obj_str(pod, "metadata.namespace");
	*out = NULL;
	if (!valid_label(uid, 128))
		return err_make(e, EINVAL, "pod %s: bad or missing metadata.uid",
				name ? name : "?");
	if (!valid_label(name, 253))
		return err_make(e, EINVAL, "pod %s: bad or missing metadata.name", uid);

	struct pod_sandbox *sb = sandbox_new(env, uid, ns ? ns : "default", name);
	/* the hostname is the pod's name, cut to a DNS label as the kubelet
	 * does (63 bytes, no trailing '-' or '.') */
	char host[64];
	snprintf(host, sizeof(host), "%s", name);
	for (size_t n = strlen(host); n > 0 && (host[n - 1] == '-' || host[n - 1] == '.'); n--)
		host[n - 1] = 0;

	int r;
	_cleanup_free_ char *vols = xasprintf("%s/volumes", sb->dir);
	_cleanup_free_ char *rec = xasprintf("%s/sandbox", sb->dir);
	if (access(rec, F_OK) == 0) {
		r = err_make(e, EEXIST, "pod %s: a sandbox exists already (adopt it)", name);
		pod_sandbox_free(sb);
		return r;
	}
	if ((r = make_dir(env->pods_dir, NULL, e)) < 0 ||
	    (r = make_dir(sb->dir, &sb->made_dir, e)) < 0 ||
	    (!oci_host_users(pod) &&
	     (r = userns_alloc(env->pods_dir, sb->dir, &sb->userns_base, e)) < 0) ||
	    (r = write_pod_files(sb, e)) < 0 ||
	    (r = podcg_create(env->cgroup_parent, uid, env->pids_limit, e)) < 0 ||
	    (r = make_dir(vols, NULL, e)) < 0 ||
	    (r = pause_spawn(host, sb->dir, &sb->pid, &sb->start, e)) < 0 ||
	    (sb->userns_base && (r = sandbox_sysctls(sb, pod, e)) < 0) ||
	    (r = write_sandbox_record(sb, e)) < 0) {
		pod_sandbox_remove(env, sb, NULL);
		pod_sandbox_free(sb);
		return r;
	}
	log_info("pod", "%s/%s: sandbox running, pid %d", sb->ns, sb->name, (int)sb->pid);
	*out = sb;
	return 0;
}

int pod_sandbox_adopt(const struct pod_env *env, const char *uid, struct pod_sandbox **out,
		      struct err **e)
{
	*out = NULL;
	if (!valid_label(uid, 128))
		return err_make(e, EINVAL, "adopt: bad pod uid");
	_cleanup_free_ char *path = xasprintf("%s/%s/sandbox", env->pods_dir, uid);
	FILE *f = fopen(path, "re");
	if (!f)
		return err_make(e, errno, "adopt pod %s: %s: %s", uid, path, strerror(errno));
	int pid = 0;
	unsigned long long start = 0;
	char ns[256] = "", name[256] = "";
	int got = fscanf(f, "%d %llu %255s %255s", &pid, &start, ns, name);
	fclose(f);
	if (got != 4 || pid <= 0)
		return err_make(e, EINVAL, "adopt pod %s: %s is not a sandbox record", uid, path);
	struct pod_sandbox *sb = sandbox_new(env, uid, ns, name);
	sb->pid = pid;
	sb->start = start;
	sb->made_dir = true; /* ours: a removal may drop it */
	sb->adopted = true;
	sb->userns_base = userns_read(sb->dir);
	*out = sb;
	return 0;
}

bool pod_sandbox_alive(const struct pod_sandbox *sb)
{
	return sb && pause_alive(sb->pid, sb->start);
}

/* The userns views of sb's containers (USERNS_VIEW_DIR/UID12-*), a
 * crashed agent's too: unmounted and removed. */
static void views_remove(const struct pod_sandbox *sb)
{
	DIR *d = opendir(USERNS_VIEW_DIR);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, sb->uid, UID_PREFIX) || de->d_name[UID_PREFIX] != '-')
			continue;
		_cleanup_free_ char *v = xasprintf("%s/%s", USERNS_VIEW_DIR, de->d_name);
		_cleanup_free_ char *r = xasprintf("%s/rootfs", v);
		if (unmount_under(v, NULL) == 0) {
			rmdir(r);
			rmdir(v);
		}
	}
	if (d)
		closedir(d);
}

int pod_sandbox_stop(const struct pod_env *env, struct pod_sandbox *sb, struct err **e)
{
	(void)env;
	if (!sb)
		return 0;
	int rc = 0;
	if (sb->pid > 0 && pause_kill(sb->pid, sb->start) < 0)
		rc = err_make(e, ETIMEDOUT, "pod %s: sandbox pid %d does not die", sb->name,
			      (int)sb->pid);
	struct err *e2 = NULL;
	if (sb->userns_base)
		views_remove(sb);
	if (sb->dir && sb->made_dir)
		keep_first(&rc, unmount_under(sb->dir, &e2), e, &e2);
	return rc;
}

int pod_sandbox_remove(const struct pod_env *env, struct pod_sandbox *sb, struct err **e)
{
	if (!sb)
		return 0;
	struct err *e2 = NULL;
	int rc = pod_sandbox_stop(env, sb, e);
	podcg_remove(env ? env->cgroup_parent : NULL, sb->uid);
	/* only what this object made: never another sandbox's files */
	if (sb->dir && sb->made_dir)
		keep_first(&rc, rm_rf(sb->dir, &e2), e, &e2);
	return rc;
}

void pod_sandbox_free(struct pod_sandbox *sb)
{
	if (!sb)
		return;
	free(sb->uid);
	free(sb->ns);
	free(sb->name);
	free(sb->dir);
	free(sb);
}

int pod_sandbox_list(const struct pod_env *env, char ***uids, size_t *n)
{
	*uids = NULL;
	*n = 0;
	DIR *d = opendir(env->pods_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!valid_label(de->d_name, 128))
			continue;
		if (*n == cap)
			*uids = xrealloc(*uids, (cap = cap ? 2 * cap : 16) * sizeof(char *));
		(*uids)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return 0;
}

int pod_logs_remove(const struct pod_env *env, const char *uid)
{
	if (!valid_label(uid, 128))
		return -EINVAL;
	_cleanup_free_ char *dir = xasprintf("%s/%s", env->logs_dir, uid);
	return rm_rf(dir, NULL);
}

/* ---- containers ---- */

/* The entry of spec.containers or spec.initContainers named name. */
static const json_t *find_container(const json_t *pod, const char *name)
{
	const char *lists[] = {"spec.containers", "spec.initContainers"};
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(obj_at(pod, lists[l]), i, c)
		{
			const char *n = obj_str(c, "name");
			if (n && !strcmp(n, name))
				return c;
		}
	}
	return NULL;
}

/* The volume named name in spec.volumes, or NULL. */
static const json_t *find_volume(const json_t *pod, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(obj_at(pod, "spec.volumes"), i, v)
	{
		const char *n = obj_str(v, "name");
		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

/* The size of a medium: Memory emptyDir: its sizeLimit, else the pod's
 * memory limit (the sum of its containers' when each has one), else 0
 * (the tmpfs default). */
static int64_t memory_volume_size(const json_t *pod, const json_t *vol)
{
	int64_t sum = 0, m = 0;
	size_t i;
	json_t *c;
	if (quantity_parse(obj_at(vol, "emptyDir.sizeLimit"), &m, NULL) == 0 && m > 0)
		return (m + 999) / 1000;
	json_array_foreach(obj_at(pod, "spec.containers"), i, c)
	{
		if (quantity_parse(obj_at(c, "resources.limits.memory"), &m, NULL) < 0 || m <= 0)
			return 0;
		sum += (m + 999) / 1000;
	}
	return sum;
}

/* An emptyDir's dir: mode 0777 as the kubelet makes it (setgid with an
 * fsGroup: see volume_owner); medium Memory: a tmpfs (nosuid, nodev),
 * its pages charged to the memory cgroup of the container that writes
 * them, so that they count against the pod's memory. */
static int emptydir_setup(const struct pod_sandbox *sb, const json_t *pod, const json_t *vol,
			  const char *dir, struct err **e)
{
	const char *medium = obj_str(vol, "emptyDir.medium");
	if (medium && !strcmp(medium, "Memory") && !is_mountpoint(dir)) {
		int64_t size = memory_volume_size(pod, vol);
		_cleanup_free_ char *o = size > 0
					     ? xasprintf("mode=0777,size=%lld", (long long)size)
					     : xstrdup("mode=0777");
		if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, o) < 0)
			return err_make(e, errno, "pod %s: volume %s: mount tmpfs: %s", sb->name,
					obj_str(vol, "name"), strerror(errno));
	}
	if (chmod(dir, 0777) < 0)
		return err_make(e, errno, "chmod %s: %s", dir, strerror(errno));
	return 0;
}

static gid_t fs_group; /* for chown_walk (one walk at a time: walk_lock) */
static bool fs_group_add, fs_group_rw;
static uid_t fs_owner;
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static int chown_walk(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type != FTW_F && type != FTW_D && type != FTW_DP)
		return 0; /* symlinks (configMap's ..data links) are left as they are */
	mode_t mode = st->st_mode & 07777;
	if (fs_group_add)
		mode |= (fs_group_rw ? 0060 : 0040) | (S_ISDIR(st->st_mode) ? 02010 : 0);
	if (lchown(path, fs_owner, fs_group) < 0 || chmod(path, mode) < 0)
		return -1;
	return 0;
}

/* A volume's ownership as the kubelet sets it: with an fsGroup, group
 * fsGroup, group-readable (and writable for an emptyDir), directories
 * setgid so that new files inherit it; with a user namespace, owned by
 * the container's root. */
static int volume_owner(const struct pod_sandbox *sb, const json_t *pod, const char *dir, bool rw,
			struct err **e)
{
	const json_t *g = obj_at(pod, "spec.securityContext.fsGroup");
	if (!json_is_integer(g) && !sb->userns_base)
		return 0;
	pthread_mutex_lock(&walk_lock);
	fs_group = json_is_integer(g) ? (gid_t)json_integer_value(g) : (gid_t)-1;
	fs_owner = sb->userns_base ? (uid_t)sb->userns_base : (uid_t)-1;
	if (sb->userns_base && fs_group != (gid_t)-1)
		fs_group += sb->userns_base; /* the container's gid, seen from the host */
	else if (sb->userns_base)
		fs_group = sb->userns_base;
	fs_group_rw = rw;
	fs_group_add = json_is_integer(g);
	int r = nftw(dir, chown_walk, 16, FTW_PHYS);
	pthread_mutex_unlock(&walk_lock);
	if (r < 0)
		return err_make(e, errno, "pod %s: volume %s: ownership: %s", sb->name, dir,
				strerror(errno));
	return 0;
}

/* Fills mounts (n of them, paths in owned[]) from ctr's volumeMounts,
 * making each emptyDir's dir; a subPath (or subPathExpr expanded with
 * extra_env) bind-mounted under attempt_dir. */
static int volume_mounts(const struct pod_sandbox *sb, const json_t *pod, const json_t *ctr,
			 const char *attempt_dir, const char *const *extra_env,
			 struct oci_mount *mounts, char **owned, size_t *n, struct err **e)
{
	size_t i;
	json_t *vm;
	*n = 0;
	json_array_foreach(obj_at(ctr, "volumeMounts"), i, vm)
	{
		const char *vname = obj_str(vm, "name"), *path = obj_str(vm, "mountPath");
		const json_t *vol = vname ? find_volume(pod, vname) : NULL;
		if (!vol || !valid_label(vname, 63))
			return err_make(e, EINVAL, "pod %s: volumeMount %s: no such volume",
					sb->name, vname ? vname : "?");
		if (!path || path[0] != '/')
			return err_make(e, EINVAL,
					"pod %s: volumeMount %s: mountPath must be absolute",
					sb->name, vname);
		bool cm = obj_at(vol, "configMap") || obj_at(vol, "secret") ||
			  obj_at(vol, "downwardAPI") || obj_at(vol, "projected");
		if (!obj_at(vol, "emptyDir") && !cm)
			return err_make(e, EINVAL,
					"pod %s: volume %s: only emptyDir, configMap, secret, "
					"downwardAPI and projected are supported",
					sb->name, vname);
		owned[*n] = xasprintf("%s/volumes/%s", sb->dir, vname);
		/* a volume the agent writes (configMap, secret, ...): read-only */
		mounts[*n] = (struct oci_mount){
		    .host_path = owned[*n],
		    .container_path = path,
		    .readonly = cm || json_is_true(json_object_get(vm, "readOnly"))};
		(*n)++;
		int r = make_dir(owned[*n - 1], NULL, e);
		if (r == 0 && !cm)
			r = emptydir_setup(sb, pod, vol, owned[*n - 1], e);
		if (r == 0)
			r = volume_owner(sb, pod, owned[*n - 1], !cm, e);
		const char *sub = obj_str(vm, "subPath"), *expr = obj_str(vm, "subPathExpr");
		_cleanup_free_ char *x =
		    expr && *expr ? subpath_expand(expr, ctr, extra_env) : NULL;
		if (x)
			sub = x;
		if (r == 0 && sub && *sub) {
			char *stage = xasprintf("%s/subpaths/%zu", attempt_dir, i);
			r = subpath_mount(owned[*n - 1], sub, !cm, stage, e);
			free(owned[*n - 1]);
			owned[*n - 1] = stage;
			mounts[*n - 1].host_path = stage;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Resolves the image, mounts the rootfs, writes config.json, creates and
 * starts c.  Records each step in c. */
static int start_container(const struct pod_env *env, struct pod_sandbox *sb, const json_t *pod,
			   const json_t *ctr, const char **extra_env, struct pod_container *c,
			   struct err **e)
{
	const char *image = obj_str(ctr, "image");
	struct image_info *info = NULL;
	json_t *config = NULL;
	size_t nvm = json_array_size(obj_at(ctr, "volumeMounts")), n_mounts = 0;
	struct oci_mount *mounts = xcalloc(nvm + 1, sizeof(*mounts));
	char **owned = xcalloc(nvm + 1, sizeof(*owned));
	_cleanup_free_ char *ns_net = xasprintf("/proc/%d/ns/net", (int)sb->pid);
	_cleanup_free_ char *ns_ipc = xasprintf("/proc/%d/ns/ipc", (int)sb->pid);
	_cleanup_free_ char *ns_uts = xasprintf("/proc/%d/ns/uts", (int)sb->pid);
	_cleanup_free_ char *f_host = xasprintf("%s/hostname", sb->dir);
	_cleanup_free_ char *f_hosts = xasprintf("%s/hosts", sb->dir);
	_cleanup_free_ char *f_resolv = xasprintf("%s/resolv.conf", sb->dir);
	_cleanup_free_ char *view_rootfs = NULL;
	int r;

	if (!image || !*image) {
		r = err_make(e, EINVAL, "pod %s: container %s: no image", sb->name, c->name);
		goto out;
	}
	r = image_resolve(env->images, image, &info, e);
	if (r == -ENOENT) {
		r = err_make(e, ENOENT, "image %s not found", image);
		goto out;
	}
	if (r < 0) {
		r = err_wrap(e, "pod %s: container %s", sb->name, c->name);
		goto out;
	}
	if ((r = make_dir(c->dir, NULL, e)) < 0)
		goto out;
	if (is_mountpoint(c->rootfs)) {
		r = err_make(e, EBUSY, "pod %s: container %s: previous rootfs still mounted",
			     sb->name, c->name);
		goto out;
	}
	/* a fresh writable layer for this attempt */
	if ((r = rm_rf(c->attempt_dir, e)) < 0)
		goto out;
	/* nodev: a device node the container makes (it has CAP_MKNOD) is
	 * never one, not even reached through /proc/PID/root by a host user;
	 * nosuid too unless the container may gain privileges (setuid is
	 * inert under no_new_privs anyway) */
	if ((r = mount_overlay(info, c->rootfs, c->attempt_dir,
			       MS_NODEV | (oci_may_escalate(pod, ctr) ? 0 : MS_NOSUID),
			       sb->userns_base, e)) < 0)
		goto out;
	c->mounted = true;
	if (c->view && (r = userns_view(c->view, c->rootfs, sb->userns_base, e)) < 0)
		goto out;
	if ((r = volume_mounts(sb, pod, ctr, c->attempt_dir, extra_env, mounts, owned, &n_mounts,
			       e)) < 0)
		goto out;
	if (c->view)
		view_rootfs = xasprintf("%s/rootfs", c->view);

	struct oci_spec s = {
	    .rootfs = view_rootfs ? view_rootfs : c->rootfs,
	    .pod = pod,
	    .container = ctr,
	    .entrypoint = info->entrypoint,
	    .cmd = info->cmd,
	    .image_env = info->env,
	    .working_dir = info->working_dir,
	    .image_user = info->user,
	    .hostname = sb->name,
	    .extra_env = (char *const *)extra_env,
	    .mounts = mounts,
	    .n_mounts = n_mounts,
	    .ns_path = {[OCI_NS_NET] = ns_net, [OCI_NS_IPC] = ns_ipc, [OCI_NS_UTS] = ns_uts},
	    .hostname_file = f_host,
	    .hosts_file = f_hosts,
	    .resolv_file = f_resolv,
	    .cgroups_path = c->cgroup,
	    .userns_base = sb->userns_base,
	};
	if (!(config = oci_config(&s, e))) {
		r = err_wrap(e, "pod %s: container %s", sb->name, c->name);
		goto out;
	}
	podtrace(sb->ns, sb->name, "bundle");
	c->created = true; /* runc run: a failure's leftovers deleted as a create's */
	if ((r = oci_run_pid(env->rt, c->id, c->dir, config, c->log, &c->pid, e)) < 0) {
		c->created = r != -EEXIST; /* that one is not ours to delete */
		err_wrap(e, "pod %s: container %s", sb->name, c->name);
		goto out;
	}
	podtrace(sb->ns, sb->name, "start");
	log_info("pod", "%s: container %s (%s) running, pid %d", sb->name, c->name, c->id,
		 (int)c->pid);
out:
	for (size_t i = 0; i <= nvm; i++)
		free(owned[i]);
	free(owned);
	free(mounts);
	json_decref(config);
	image_info_free(info);
	return r;
}

static struct pod_container *container_new(const struct pod_env *env, const struct pod_sandbox *sb,
					   const char *container, int attempt)
{
	struct pod_container *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(container);
	c->attempt = attempt;
	c->id = xasprintf("%.*s-%s-%d", UID_PREFIX, sb->uid, container, attempt);
	c->dir = xasprintf("%s/%s", sb->dir, container);
	c->rootfs = xasprintf("%s/rootfs", c->dir);
	c->attempt_dir = xasprintf("%s/%d", c->dir, attempt);
	c->log = xasprintf("%s/%s/%s/%d.log", env->logs_dir, sb->uid, container, attempt);
	if (env->cgroup_parent)
		c->cgroup = xasprintf("%s/pod%s/%s", env->cgroup_parent, sb->uid, c->id);
	if (sb->userns_base)
		c->view = xasprintf("%s/%s", USERNS_VIEW_DIR, c->id);
	return c;
}

int pod_container_start(const struct pod_env *env, struct pod_sandbox *sb, const json_t *pod,
			const char *container, const char **extra_env, int attempt,
			struct pod_container **out, struct err **e)
{
	*out = NULL;
	if (!pod_sandbox_alive(sb))
		return err_make(e, ESRCH, "container %s: the pod's sandbox is not running",
				container ? container : "?");
	if (!valid_label(container, 63))
		return err_make(e, EINVAL, "pod %s: bad container name", sb->name);
	if (attempt < 0)
		return err_make(e, EINVAL, "pod %s: container %s: bad attempt %d", sb->name,
				container, attempt);
	const json_t *ctr = find_container(pod, container);
	if (!ctr)
		return err_make(e, ENOENT, "pod %s: no container %s", sb->name, container);

	struct pod_container *c = container_new(env, sb, container, attempt);
	_cleanup_free_ char *logs = xasprintf("%s/%s", env->logs_dir, sb->uid);
	_cleanup_free_ char *ldir = xasprintf("%s/%s", logs, container);
	int r;
	if ((r = make_dir(env->logs_dir, NULL, e)) < 0 || (r = make_dir(logs, NULL, e)) < 0 ||
	    (r = make_dir(ldir, NULL, e)) < 0) {
		pod_container_free(c);
		return r;
	}
	r = start_container(env, sb, pod, ctr, extra_env, c, e);
	if (r < 0) {
		pod_container_remove(env, c, NULL);
		pod_container_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int pod_container_wait(struct pod_container *c, int timeout_ms, int *exit_code)
{
	if (!c || c->pid <= 0 || (c->adopted && !c->reaped))
		return -ECHILD;
	if (!c->reaped) {
		int r = reap(c->pid, timeout_ms, &c->exit_code);
		if (r < 0)
			return r;
		c->reaped = true;
	}
	if (exit_code)
		*exit_code = c->exit_code;
	return 0;
}

/* Waits up to timeout_ms for c to end: reaped when it is our child,
 * else (adopted) until its process is gone, its exit code unknown (-1). */
static int wait_gone(struct pod_container *c, int timeout_ms)
{
	if (!c->adopted)
		return pod_container_wait(c, timeout_ms, NULL);
	int64_t end = mono_ms() + timeout_ms;
	while (pod_container_alive(c)) {
		if (mono_ms() >= end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	c->reaped = true;
	c->exit_code = -1;
	return 0;
}

int pod_container_stop(const struct pod_env *env, struct pod_container *c, int grace_s,
		       struct err **e)
{
	if (!c || c->pid <= 0 || c->reaped)
		return 0;
	int r = oci_kill(env->rt, c->id, SIGTERM, NULL);
	if (r == 0 && wait_gone(c, grace_s > 0 ? grace_s * 1000 : 0) == 0)
		return 0;
	struct err *e2 = NULL;
	r = oci_kill(env->rt, c->id, SIGKILL, &e2);
	if (r < 0 && r != -ESRCH && r != -ENOENT) {
		if (e)
			*e = e2;
		else
			err_free(e2);
		return r;
	}
	err_free(e2);
	r = wait_gone(c, REAP_AFTER_KILL_MS);
	if (r == -ETIMEDOUT)
		return err_make(e, ETIMEDOUT, "container %s: still running after SIGKILL", c->id);
	return 0;
}

int pod_container_remove(const struct pod_env *env, struct pod_container *c, struct err **e)
{
	int rc = 0, r;
	struct err *e2 = NULL;
	if (!c)
		return 0;
	if (c->created) {
		r = oci_delete(env->rt, c->id, true, &e2);
		if (r == 0 || r == -ENOENT)
			c->created = false, r = 0;
		keep_first(&rc, r, e, &e2);
	}
	if (c->pid > 0 && !c->reaped)
		pod_container_wait(c, REAP_AFTER_KILL_MS, NULL);
	/* a start that failed before mounting (no image, the previous attempt
	 * still mounted) made nothing to undo: leave those files alone */
	if (!c->mounted)
		return rc;
	if (c->view) {
		keep_first(&rc, unmount_under(c->view, &e2), e, &e2);
		_cleanup_free_ char *vr = xasprintf("%s/rootfs", c->view);
		rmdir(vr);
		rmdir(c->view);
	}
	r = unmount(c->rootfs, &e2);
	keep_first(&rc, r, e, &e2);
	if (r < 0)
		return rc; /* keep the layers a mount still uses */
	/* a user namespace's idmapped layers, before anything is removed */
	r = unmount_under(c->attempt_dir, &e2);
	keep_first(&rc, r, e, &e2);
	if (r < 0)
		return rc;
	c->mounted = false;
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", c->dir);
	unlink(cfg);
	rmdir(c->rootfs);
	r = rm_rf(c->attempt_dir, &e2);
	keep_first(&rc, r, e, &e2);
	return rc;
}

void pod_container_free(struct pod_container *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->id);
	free(c->dir);
	free(c->rootfs);
	free(c->attempt_dir);
	free(c->log);
	free(c->cgroup);
	free(c->view);
	free(c);
}

int pod_container_adopt(const struct pod_env *env, const struct pod_sandbox *sb,
			const char *container, int attempt, struct pod_container **out,
			struct err **e)
{
	*out = NULL;
	if (!sb || !valid_label(container, 63) || attempt < 0)
		return err_make(e, EINVAL, "adopt: bad container");
	struct pod_container *c = container_new(env, sb, container, attempt);
	struct oci_state st;
	int r = oci_state(env->rt, c->id, &st, e);
	if (r < 0) {
		pod_container_free(c);
		return r;
	}
	c->created = true;
	c->adopted = true;
	c->mounted = is_mountpoint(c->rootfs);
	c->pid = st.status == OCI_RUNNING || st.status == OCI_PAUSED ? st.pid : 0;
	c->start_time = c->pid > 0 ? proc_start_time(c->pid) : 0;
	if (c->pid <= 0 || !c->start_time)
		c->pid = 0, c->reaped = true, c->exit_code = -1;
	*out = c;
	return 0;
}

bool pod_container_alive(const struct pod_container *c)
{
	if (!c || c->pid <= 0 || c->reaped)
		return false;
	if (!c->adopted)
		return true; /* a child: until reaped, it is ours to wait for */
	return proc_start_time(c->pid) == c->start_time;
}

/* The "oom_kill N" count of a cgroup's memory file, or -1. */
static long oom_kills(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[128];
	long n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

bool pod_container_oom_killed(const struct pod_container *c)
{
	if (!c || !c->cgroup)
		return false;
	/* cgroup v2, then v1's memory controller */
	_cleanup_free_ char *v2 = xasprintf("/sys/fs/cgroup%s/memory.events", c->cgroup);
	_cleanup_free_ char *v1 =
	    xasprintf("/sys/fs/cgroup/memory%s/memory.oom_control", c->cgroup);
	long n = oom_kills(v2);
	if (n < 0)
		n = oom_kills(v1);
	return n > 0;
}
