/*
 * agent.c - the node agent's threads, its Node, adoption and reset (see
 * agent.h; the pod sync is agent_sync.c).
 *
 * The informer notes every pod bound to this node by uid (a struct apod
 * in the table) and queues the uid.  Workers take uids from the queue,
 * one pod per worker at a time, and run agent_sync(), which returns when
 * it wants to look again (a back-off ending, a grace period running out).
 * The exit watcher turns a container's or sandbox's exit (its pidfd
 * becoming readable) into a queued uid.  The heartbeat thread posts the
 * Node's status; the log rotator keeps logs under 10 MiB.
 */
#include "runtime/kubelet/agent.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/fs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/podlog.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/kubelet/exec.h"
#include "runtime/net/dns.h"
#include "runtime/image/image.h"
#include "runtime/kubelet/kubelet.h"
#include "runtime/kubelet/oci.h"
#include "runtime/kubelet/pause.h"
#include "runtime/kubelet/podcg.h"
#include "runtime/kubelet/podtrace.h"

#define AGENT_KEY_MAX	    320
#define DEFAULT_CGROUP	    "/clusterfs"
#define POD_CIDR_WAIT_MS    30000
#define LOG_ROTATE_EVERY_MS 2000

/* ---- the pod table ---- */

static struct apod *apod_new(const char *uid, const char *ns, const char *name)
{
	struct apod *ap = xcalloc(1, sizeof(*ap));
	ap->uid = xstrdup(uid);
	ap->ns = xstrdup(ns ? ns : "default");
	ap->name = xstrdup(name);
	pthread_mutex_init(&ap->lock, NULL);
	return ap;
}

static void apod_free(struct apod *ap)
{
	for (size_t i = 0; i < ap->nc; i++)
		actr_clear(&ap->c[i]);
	free(ap->c);
	for (size_t i = 0; i < ap->nadopt; i++)
		pod_container_free(ap->adopt[i]);
	free(ap->adopt);
	pod_sandbox_free(ap->sb);
	json_decref(ap->posted);
	free(ap->fail_reason);
	free(ap->fail_msg);
	pthread_mutex_destroy(&ap->lock);
	free(ap->uid);
	free(ap->ns);
	free(ap->name);
	free(ap);
}

struct apod *agent_pod_get(struct agent *ag, const char *uid)
{
	pthread_mutex_lock(&ag->lock);
	struct apod *ap = hmap_get(&ag->pods, uid);
	pthread_mutex_unlock(&ag->lock);
	return ap;
}

void agent_pod_drop(struct agent *ag, struct apod *ap)
{
	pthread_mutex_lock(&ag->lock);
	if (hmap_get(&ag->pods, ap->uid) == ap)
		hmap_del(&ag->pods, ap->uid);
	pthread_mutex_unlock(&ag->lock);
	apod_free(ap);
}

/* Notes a pod of ours and queues it. */
static void note_pod(struct agent *ag, const char *uid, const char *ns, const char *name)
{
	pthread_mutex_lock(&ag->lock);
	bool is_new = !hmap_get(&ag->pods, uid);
	if (is_new)
		hmap_set(&ag->pods, uid, apod_new(uid, ns, name));
	pthread_mutex_unlock(&ag->lock);
	if (is_new)
		podtrace(ns, name, "seen");
	wq_add(ag->q, uid);
}

void agent_sync_later(struct agent *ag, const char *uid, int64_t delay_ms)
{
	wq_add_after(ag->q, uid, delay_ms);
}

/* ---- exit watches ---- */

void agent_watch_pid(struct agent *ag, pid_t pid, const char *uid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		/* gone already: have a look at once */
		wq_add(ag->q, uid);
		return;
	}
	char key[16];
	snprintf(key, sizeof(key), "%d", fd);
	pthread_mutex_lock(&ag->lock);
	char *old = hmap_get(&ag->watch, key);
	free(old);
	hmap_set(&ag->watch, key, xstrdup(uid));
	pthread_mutex_unlock(&ag->lock);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = fd};
	if (epoll_ctl(ag->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("agent", "watching pid %d: %s", (int)pid, strerror(errno));
		wq_add(ag->q, uid);
	}
}

static void *reaper_main(void *arg)
{
	struct agent *ag = arg;
	struct epoll_event evs[64];
	for (;;) {
		pthread_mutex_lock(&ag->lock);
		bool stop = ag->stop;
		pthread_mutex_unlock(&ag->lock);
		if (stop)
			break;
		int n = epoll_wait(ag->epfd, evs, 64, 250);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char key[16];
			snprintf(key, sizeof(key), "%d", fd);
			pthread_mutex_lock(&ag->lock);
			char *uid = hmap_get(&ag->watch, key);
			hmap_del(&ag->watch, key);
			pthread_mutex_unlock(&ag->lock);
			epoll_ctl(ag->epfd, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			if (uid)
				wq_add(ag->q, uid);
			free(uid);
		}
	}
	return NULL;
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct agent *ag = arg;
	char *uid;
	while ((uid = wq_get(ag->q))) {
		struct apod *ap = agent_pod_get(ag, uid);
		if (ap) {
			int64_t again = agent_sync(ag, ap);
			if (again < 0)
				agent_pod_drop(ag, ap);
			else if (again > 0)
				wq_add_after(ag->q, uid, again);
		}
		wq_done(ag->q, uid);
		free(uid);
	}
	return NULL;
}

/* ---- informer ---- */

static bool ours(struct agent *ag, const json_t *pod)
{
	const char *node = obj_str(pod, "spec.nodeName");
	return node && !strcmp(node, ag->node);
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct agent *ag = arg;
	if (strcmp(ev->obj->kind, "Pod"))
		return;
	const json_t *pod = ev->obj->obj;
	const char *uid = obj_str(pod, "metadata.uid");
	if (!uid || !ours(ag, pod))
		return;
	if (ev->type == STORE_DELETED) {
		if (agent_pod_get(ag, uid))
			wq_add(ag->q, uid);
		return;
	}
	note_pod(ag, uid, ev->obj->ns, ev->obj->name);
}

static void on_resync(void *arg)
{
	struct agent *ag = arg;
	struct sobj **v;
	char fields[300];
	snprintf(fields, sizeof(fields), "spec.nodeName=%s", ag->node);
	struct err *e = NULL;
	int n = apic_list(ag->c, KIND_POD, &(struct apic_sel){.fields = fields}, &v, &e);
	if (n < 0)
		log_warn("agent", "listing pods: %s", e ? e->msg : strerror(-n));
	err_free(e);
	for (int i = 0; i < n; i++) {
		const char *uid = obj_str(v[i]->obj, "metadata.uid");
		if (uid && ours(ag, v[i]->obj))
			note_pod(ag, uid, v[i]->ns, v[i]->name);
	}
	if (n >= 0)
		sobj_list_free(v, (size_t)n);
	/* and every pod we hold: those gone meanwhile are removed */
	pthread_mutex_lock(&ag->lock);
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&ag->pods, &it)))
		wq_add(ag->q, ent->key);
	pthread_mutex_unlock(&ag->lock);
}

/* ---- the Node ---- */

static char *read_line(const char *path)
{
	char buf[512] = "";
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return xstrdup(buf);
}

/* PRETTY_NAME of /etc/os-release, unquoted. */
static char *os_image(void)
{
	char line[512];
	FILE *f = fopen("/etc/os-release", "re");
	char *out = NULL;
	while (f && !out && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "PRETTY_NAME=", 12))
			continue;
		char *v = line + 12;
		v[strcspn(v, "\n")] = 0;
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
			v[n - 1] = 0, v++;
		out = xstrdup(v);
	}
	if (f)
		fclose(f);
	return out ? out : xstrdup("Linux");
}

/* MemTotal as a quantity: "24634868Ki". */
static char *mem_total(void)
{
	char line[256];
	long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return xasprintf("%lldKi", kb);
}

/* The first IPv4 address of an interface that is up and not loopback. */
static void host_ip(char out[64])
{
	struct ifaddrs *ifs = NULL, *i;
	snprintf(out, 64, "127.0.0.1");
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, 64);
		break;
	}
	freeifaddrs(ifs);
}

json_t *agent_node_status(struct agent *ag, const json_t *old)
{
	char now[32], cpu[24];
	agent_timestamp(now);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(cpu, sizeof(cpu), "%ld", ncpu > 0 ? ncpu : 1);
	struct utsname u;
	uname(&u);
	_cleanup_free_ char *mem = mem_total(), *osi = os_image();
	_cleanup_free_ char *mid = read_line("/etc/machine-id");
	_cleanup_free_ char *boot = read_line("/proc/sys/kernel/random/boot_id");
	const struct kubelet_node n = {
	    .name = ag->node,
	    .ip = ag->node_ip,
	    .cpu = cpu,
	    .memory = mem,
	    .pods = "110",
	    .kernel = u.release,
	    .os_image = osi,
	    .runtime = "runc://1",
	    .kubelet = "clusterfs",
	    .arch = strcmp(u.machine, "x86_64") ? u.machine : "amd64",
	    .machine_id = *mid ? mid : ag->node,
	    .boot_id = boot,
	};
	return kubelet_node_status(&n, old, now);
}

static json_t *node_labels(struct agent *ag)
{
	struct utsname u;
	uname(&u);
	return json_pack("{s:s, s:s, s:s}", "kubernetes.io/hostname", ag->node, "kubernetes.io/os",
			 "linux", "kubernetes.io/arch",
			 strcmp(u.machine, "x86_64") ? u.machine : "amd64");
}

/* Creates the Node, or takes it over (labels), and posts its status. */
int agent_register_node(struct agent *ag, struct err **e)
{
	json_t *labels = node_labels(ag);
	struct sobj *o = NULL;
	int r = apic_get(ag->c, KIND_NODE, NULL, ag->node, &o, e);
	if (r < 0 && r != -ENOENT) {
		json_decref(labels);
		return err_wrap(e, "registering node %s", ag->node);
	}
	r = 0;
	/* the podCIDR in use, else --pod-cidr, else none: the server gives one */
	const char *cidr = ag->pod_cidr[0] ? ag->pod_cidr : ag->o.pod_cidr;
	if (!o) {
		json_t *doc =
		    json_pack("{s:s, s:s, s:{s:s, s:O}, s:o, s:o}", "apiVersion", "v1", "kind",
			      "Node", "metadata", "name", ag->node, "labels", labels, "spec",
			      cidr ? json_pack("{s:s, s:[s]}", "podCIDR", cidr, "podCIDRs", cidr)
				   : json_object(),
			      "status", agent_node_status(ag, NULL));
		int res = 0;
		r = apic_create_many(ag->c, &doc, 1, &res);
		if (r >= 0 && res < 0 && res != -EEXIST)
			r = res;
		json_decref(doc);
		if (r < 0)
			r = err_make(e, -r, "registering node %s: %s", ag->node, strerror(-r));
		else
			log_info("agent", "registered node %s (%s)", ag->node, ag->node_ip);
		ag->status_at = r < 0 ? 0 : mono_ms();
	} else {
		/* a podCIDR, once set, is the Node's for good */
		const char *has = obj_str(o->obj, "spec.podCIDR");
		struct kubelet_node_meta m = {.labels = labels,
					      .pod_cidr = has && *has ? NULL : cidr};
		if (!kubelet_node_meta_ok(o->obj, &m))
			r = apic_patch(ag->c, KIND_NODE, NULL, ag->node, kubelet_node_patch, &m, e);
		if (r >= 0) {
			json_t *st = agent_node_status(ag, obj_at(o->obj, "status"));
			r = apic_update_status(ag->c, KIND_NODE, NULL, ag->node, st, e);
			json_decref(st);
		}
		sobj_unref(o);
		if (r < 0)
			r = err_wrap(e, "taking over node %s", ag->node);
		ag->status_at = r < 0 ? 0 : mono_ms();
	}
	json_decref(labels);
	return r < 0 ? r : 0;
}

/* Waits until the Node has a spec.podCIDR (given by the node IPAM
 * controller when it registered without one) and takes it as the pod
 * network's.  -ETIMEDOUT with *e after POD_CIDR_WAIT_MS. */
static int wait_pod_cidr(struct agent *ag, struct err **e)
{
	for (int waited = 0;; waited += 50) {
		struct sobj *o = NULL;
		int r = apic_get(ag->c, KIND_NODE, NULL, ag->node, &o, e);
		if (r < 0 && r != -ENOENT && r != -ENOTCONN)
			return r;
		err_free(STEAL_POINTER(e));
		const char *c = o ? obj_str(o->obj, "spec.podCIDR") : NULL;
		if (c && *c)
			snprintf(ag->pod_cidr, sizeof(ag->pod_cidr), "%s", c);
		sobj_unref(o);
		if (ag->pod_cidr[0])
			break;
		if (waited >= POD_CIDR_WAIT_MS)
			return err_make(e, ETIMEDOUT,
					"node %s got no spec.podCIDR in %ds: is the cluster CIDR "
					"full? (see the node's events)",
					ag->node, POD_CIDR_WAIT_MS / 1000);
		usleep(50 * 1000);
	}
	if (ag->o.pod_cidr && strcmp(ag->o.pod_cidr, ag->pod_cidr))
		log_warn("agent", "node %s keeps its podCIDR %s (--pod-cidr %s ignored)", ag->node,
			 ag->pod_cidr, ag->o.pod_cidr);
	return 0;
}

/* Runs step(ag) every period_ms until the agent stops; ag->beat wakes
 * it early only to stop. */
static void every(struct agent *ag, int64_t period_ms, void (*step)(struct agent *))
{
	pthread_mutex_lock(&ag->lock);
	while (!ag->stop) {
		struct timespec due = mono_deadline(period_ms);
		while (!ag->stop)
			if (pthread_cond_timedwait(&ag->beat, &ag->lock, &due) == ETIMEDOUT)
				break;
		if (ag->stop)
			break;
		pthread_mutex_unlock(&ag->lock);
		step(ag);
		pthread_mutex_lock(&ag->lock);
	}
	pthread_mutex_unlock(&ag->lock);
}

static void *heart_main(void *arg)
{
	struct agent *ag = arg;
	agent_heartbeat(ag); /* the Lease at once */
	every(ag, (int64_t)ag->o.heartbeat_s * 1000, agent_heartbeat);
	return NULL;
}

/* ---- log rotation ---- */

/* Copies path to path.1 and truncates path: the container keeps writing
 * (O_APPEND) at the new end.  Lines written between the copy and the
 * truncation are lost, as with logrotate's copytruncate. */
static void rotate(const char *path)
{
	_cleanup_free_ char *old = xasprintf("%s.1", path);
	_cleanup_free_ char *tmp = xasprintf("%s.1.tmp", path);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	char buf[65536];
	ssize_t n;
	bool ok = in >= 0 && out >= 0;
	while (ok && (n = read(in, buf, sizeof(buf))) > 0)
		ok = write(out, buf, (size_t)n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		ok = false;
	if (ok && rename(tmp, old) == 0 && truncate(path, 0) == 0) {
		log_info("agent", "rotated %s", path);
		return;
	}
	unlink(tmp);
}

static void rotate_logs(struct agent *ag)
{
	DIR *d = opendir(ag->logs_dir);
	struct dirent *p, *c, *f;
	while (d && (p = readdir(d))) {
		if (p->d_name[0] == '.')
			continue;
		_cleanup_free_ char *pdir = xasprintf("%s/%s", ag->logs_dir, p->d_name);
		DIR *dp = opendir(pdir);
		while (dp && (c = readdir(dp))) {
			if (c->d_name[0] == '.')
				continue;
			_cleanup_free_ char *cdir = xasprintf("%s/%s", pdir, c->d_name);
			DIR *dc = opendir(cdir);
			while (dc && (f = readdir(dc))) {
				size_t n = strlen(f->d_name);
				if (n < 5 || strcmp(f->d_name + n - 4, ".log"))
					continue;
				_cleanup_free_ char *path = xasprintf("%s/%s", cdir, f->d_name);
				_cleanup_free_ char *idx = podlog_index_path(path);
				struct stat st;
				/* a log with an index is its relay's to rotate */
				if (stat(path, &st) == 0 && st.st_size > AGENT_LOG_MAX_BYTES &&
				    access(idx, F_OK) < 0)
					rotate(path);
			}
			if (dc)
				closedir(dc);
		}
		if (dp)
			closedir(dp);
	}
	if (d)
		closedir(d);
}

static void *logrot_main(void *arg)
{
	every(arg, LOG_ROTATE_EVERY_MS, rotate_logs);
	return NULL;
}

/* ---- adoption ---- */

/* Splits a runc id "UID12-NAME-ATTEMPT" of uid into name and attempt. */
static bool parse_id(const char *id, const char *uid, char name[64], int *attempt)
{
	size_t pre = strlen(uid) < 12 ? strlen(uid) : 12;
	if (strncmp(id, uid, pre) || id[pre] != '-')
		return false;
	const char *rest = id + pre + 1, *dash = strrchr(rest, '-');
	if (!dash || dash == rest || (size_t)(dash - rest) >= 64 ||
	    !isdigit((unsigned char)dash[1]))
		return false;
	char *end;
	long a = strtol(dash + 1, &end, 10);
	if (*end || a < 0 || a > 1000000)
		return false;
	snprintf(name, 64, "%.*s", (int)(dash - rest), rest);
	*attempt = (int)a;
	return true;
}

/* Takes over what a previous agent left: every sandbox in DATA/pods and
 * the containers runc knows; removes runc containers of no sandbox. */
static void adopt_all(struct agent *ag)
{
	char **uids = NULL, **ids = NULL;
	size_t nu = 0, ni = 0;
	struct err *e = NULL;
	pod_sandbox_list(&ag->env, &uids, &nu);
	if (oci_list(ag->rt, &ids, &ni, &e) < 0) {
		log_warn("agent", "adopting: %s", e->msg);
		err_free(e), e = NULL;
	}
	bool *claimed = xcalloc(ni + 1, sizeof(bool));
	for (size_t u = 0; u < nu; u++) {
		struct pod_sandbox *sb = NULL;
		if (pod_sandbox_adopt(&ag->env, uids[u], &sb, &e) < 0) {
			/* a create that crashed half-way: nothing runs in it */
			log_warn("agent", "%s: removing", e->msg);
			err_free(e), e = NULL;
			_cleanup_free_ char *dir = xasprintf("%s/%s", ag->pods_dir, uids[u]);
			struct pod_sandbox tmp = {
			    .dir = dir, .made_dir = true, .name = uids[u], .uid = uids[u]};
			for (size_t i = 0; i < ni; i++) {
				char name[64];
				int at;
				if (parse_id(ids[i], uids[u], name, &at)) {
					oci_delete(ag->rt, ids[i], true, NULL);
					claimed[i] = true;
				}
			}
			pod_sandbox_remove(&ag->env, &tmp, NULL);
			continue;
		}
		struct apod *ap = apod_new(sb->uid, sb->ns, sb->name);
		ap->sb = sb;
		ap->adopted = true;
		if (cni_get_ip(ag->cni, sb->uid, ap->pod_ip) < 0)
			ap->pod_ip[0] = 0;
		if (pod_sandbox_alive(sb))
			agent_watch_pid(ag, sb->pid, sb->uid);
		for (size_t i = 0; i < ni; i++) {
			char name[64];
			int at;
			if (!parse_id(ids[i], sb->uid, name, &at))
				continue;
			claimed[i] = true;
			struct pod_container *c = NULL;
			if (pod_container_adopt(&ag->env, sb, name, at, &c, &e) < 0) {
				log_warn("agent", "adopting %s: %s", ids[i], e->msg);
				err_free(e), e = NULL;
				continue;
			}
			ap->adopt = xrealloc(ap->adopt, (ap->nadopt + 1) * sizeof(*ap->adopt));
			ap->adopt[ap->nadopt++] = c;
			if (pod_container_alive(c))
				agent_watch_pid(ag, c->pid, sb->uid);
		}
		log_info("agent", "adopted pod %s/%s (%zu containers)", sb->ns, sb->name,
			 ap->nadopt);
		pthread_mutex_lock(&ag->lock);
		hmap_set(&ag->pods, ap->uid, ap);
		pthread_mutex_unlock(&ag->lock);
		wq_add(ag->q, ap->uid);
	}
	for (size_t i = 0; i < ni; i++) {
		if (claimed[i])
			continue;
		log_info("agent", "removing container %s: no pod", ids[i]);
		oci_delete(ag->rt, ids[i], true, NULL);
	}
	free(claimed);
	for (size_t u = 0; u < nu; u++)
		free(uids[u]);
	free(uids);
	oci_ids_free(ids, ni);
}

/* ---- lifecycle ---- */

/*
 * Asks the filesystem to spread dir's subdirectories over its block groups
 * (ext2/3/4's "top directory" flag, chattr +T; elsewhere a no-op).  Each
 * pod's folders are made and removed within seconds; on an ext4 without a
 * journal a new inode is taken only after scanning past every inode of its
 * group freed in the last dirty_expire interval (30 s), so that pods made
 * in the group their predecessors just left paid about a millisecond per
 * file (half the server's CPU for 30 pods started right after 30 deleted).
 */
static void spread_subdirs(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags = 0;
	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
			log_debug("agent", "%s: chattr +T: %s", dir, strerror(errno));
	}
	close(fd);
}

static int check_node_name(const char *n, struct err **e)
{
	size_t len = strlen(n);
	bool ok = len > 0 && len <= 253 && isalnum((unsigned char)n[0]) &&
		  isalnum((unsigned char)n[len - 1]);
	for (size_t i = 0; ok && i < len; i++)
		ok = (islower((unsigned char)n[i]) || isdigit((unsigned char)n[i]) || n[i] == '-' ||
		      n[i] == '.');
	if (!ok)
		return err_make(e, EINVAL,
				"node name \"%s\": want a DNS subdomain (lower case letters, "
				"digits, '-' and '.')",
				n);
	return 0;
}

static void agent_free(struct agent *ag)
{
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&ag->pods, &it)))
		apod_free(ent->val);
	hmap_clear(&ag->pods, NULL);
	memset(&it, 0, sizeof(it));
	while ((ent = hmap_next(&ag->watch, &it))) {
		close(atoi(ent->key));
		free(ent->val);
	}
	hmap_clear(&ag->watch, NULL);
	if (ag->epfd >= 0)
		close(ag->epfd);
	wq_free(ag->q);
	oci_runtime_free(ag->rt);
	agent_pulls_wait(ag);
	image_store_close(ag->images);
	cni_close(ag->cni);
	nodenet_close(ag->net);
	pthread_mutex_destroy(&ag->lock);
	pthread_cond_destroy(&ag->beat);
	free(ag->workers);
	free(ag->pods_dir);
	free(ag->logs_dir);
	free(ag->runc_dir);
	free(ag);
}

/* DATA/pods and DATA/logs: pods' filesystems and logs, root's alone;
 * those and DATA/runc spread (spread_subdirs). */
static void agent_dirs(struct agent *ag)
{
	mkdir(ag->pods_dir, 0700);
	mkdir(ag->logs_dir, 0700);
	chmod(ag->pods_dir, 0700);
	chmod(ag->logs_dir, 0700);
	spread_subdirs(ag->pods_dir);
	spread_subdirs(ag->logs_dir);
	spread_subdirs(ag->runc_dir);
}

/* The workers, the exit reaper, the heartbeat and the log rotator: 0 or
 * a positive errno (those started are marked on). */
static int start_threads(struct agent *ag)
{
	int r = 0;
	ag->workers = xcalloc((size_t)ag->o.workers, sizeof(pthread_t));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	for (int i = 0; i < ag->o.workers; i++) {
		if ((r = pthread_create(&ag->workers[i], &attr, worker_main, ag)))
			break;
		ag->nworkers++;
	}
	if (!r && !(r = pthread_create(&ag->reaper, &attr, reaper_main, ag)))
		ag->reaper_on = true;
	if (!r && !(r = pthread_create(&ag->heart, &attr, heart_main, ag)))
		ag->heart_on = true;
	if (!r && !(r = pthread_create(&ag->logrot, &attr, logrot_main, ag)))
		ag->logrot_on = true;
	pthread_attr_destroy(&attr);
	return r;
}

/* The routes to the other nodes' pods, then the pod network (its MTU
 * the routes' mode's). */
static int open_net(struct agent *ag, struct err **e)
{
	const struct nodenet_opts no = {.mode = ag->o.route_mode,
					.node = ag->node,
					.node_ip = ag->node_ip,
					.pod_cidr = ag->pod_cidr};
	int r = nodenet_open(&no, &ag->net, e);
	if (r < 0)
		return err_wrap(e, "node %s", ag->node);
	const struct cni_opts co = {.data_dir = ag->o.data_dir,
				    .pod_cidr = ag->pod_cidr,
				    .bridge = ag->bridge,
				    .mtu = nodenet_pod_mtu(ag->net),
				    .lo_up = true, /* the pause process does it */
				    .native = !getenv("CFS_CNI_EXEC")};
	return cni_open(&co, &ag->cni, e);
}

int agent_start(struct apic *c, const struct agent_opts *o, struct agent **out, struct err **e)
{
	struct agent *ag = xcalloc(1, sizeof(*ag));
	ag->c = c;
	ag->o = *o;
	ag->epfd = -1;
	if (ag->o.heartbeat_s <= 0)
		ag->o.heartbeat_s = 10;
	if (ag->o.workers <= 0 && getenv("CFS_AGENT_WORKERS"))
		ag->o.workers = atoi(getenv("CFS_AGENT_WORKERS")); /* for experiments */
	if (ag->o.workers <= 0 || ag->o.workers > 256)
		ag->o.workers = 8;
	if (!ag->o.cgroup_parent)
		ag->o.cgroup_parent = DEFAULT_CGROUP;
	agent_bridge_name(o->data_dir, ag->bridge);
	pthread_mutex_init(&ag->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ag->beat, &ca);
	pthread_condattr_destroy(&ca);
	ag->q = wq_new("agent");

	int r;
	if (o->node_name) {
		snprintf(ag->node, sizeof(ag->node), "%s", o->node_name);
	} else {
		gethostname(ag->node, sizeof(ag->node) - 1);
		for (char *p = ag->node; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if (o->node_ip)
		snprintf(ag->node_ip, sizeof(ag->node_ip), "%s", o->node_ip);
	else
		host_ip(ag->node_ip);
	ag->pods_dir = xasprintf("%s/pods", o->data_dir);
	ag->logs_dir = xasprintf("%s/logs", o->data_dir);
	ag->runc_dir = xasprintf("%s/runc", o->data_dir);
	podtrace_open(o->data_dir);
	/* the Node first: an API that refuses us or does not answer fails the
	 * start before anything on the host is touched */
	if ((r = check_node_name(ag->node, e)) < 0 || (r = agent_register_node(ag, e)) < 0 ||
	    (r = image_store_open(o->data_dir, &ag->images, e)) < 0 ||
	    (r = oci_runtime_new(ag->runc_dir, &ag->rt, e)) < 0)
		goto fail;
	ag->env = (struct pod_env){.images = ag->images,
				   .rt = ag->rt,
				   .pods_dir = ag->pods_dir,
				   .logs_dir = ag->logs_dir,
				   .cgroup_parent = ag->o.cgroup_parent,
				   .pids_limit = o->pod_pids_limit ? o->pod_pids_limit
								   : AGENT_POD_PIDS_LIMIT};
	agent_dirs(ag);
	/* containers' inits become our children when runc exits */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		r = err_make(e, errno, "agent: PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		goto fail;
	}
	ag->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ag->epfd < 0) {
		r = err_make(e, errno, "agent: epoll: %s", strerror(errno));
		goto fail;
	}
	if ((r = wait_pod_cidr(ag, e)) < 0 || (r = open_net(ag, e)) < 0)
		goto fail;
	adopt_all(ag);

	r = start_threads(ag);
	if (r) {
		r = err_make(e, r, "agent: starting a thread: %s", strerror(r));
		agent_stop(ag);
		return r;
	}
	static const struct informer_ops ops = {
	    .resync = on_resync, .event = on_event, .idle_ms = 250};
	static const struct kind_info *const kinds[] = {KIND_POD};
	char fields[300];
	snprintf(fields, sizeof(fields), "spec.nodeName=%s", ag->node);
	const struct apic_watch_spec sp = {kinds, 1, fields};
	if ((r = informer_start_apic(c, "agent", &sp, &ops, ag, &ag->inf, e)) < 0) {
		agent_stop(ag);
		return r;
	}
	if ((r = nodenet_start(ag->net, c, e)) < 0) {
		agent_stop(ag);
		return r;
	}
	agent_exec_register(ag);
	agent_metrics_start(ag);
	log_info("agent", "node %s: agent running (%d workers, data in %s)", ag->node, ag->nworkers,
		 o->data_dir);
	*out = ag;
	return 0;
fail:
	agent_free(ag);
	return r;
}

void agent_stop(struct agent *ag)
{
	if (!ag)
		return;
	agent_metrics_stop(ag);
	agent_exec_unregister(ag);
	informer_stop(ag->inf);
	pthread_mutex_lock(&ag->lock);
	ag->stop = true;
	pthread_cond_broadcast(&ag->beat);
	pthread_mutex_unlock(&ag->lock);
	wq_shutdown(ag->q);
	for (int i = 0; i < ag->nworkers; i++)
		pthread_join(ag->workers[i], NULL);
	if (ag->reaper_on)
		pthread_join(ag->reaper, NULL);
	if (ag->heart_on)
		pthread_join(ag->heart, NULL);
	if (ag->logrot_on)
		pthread_join(ag->logrot, NULL);
	/* probers run until stopped: stop them, leave the containers */
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&ag->pods, &it))) {
		struct apod *ap = ent->val;
		for (size_t i = 0; i < ap->nc; i++)
			agent_probes_stop(&ap->c[i]);
	}
	agent_free(ag);
	podtrace_close();
}

const char *agent_dns_ip(const struct agent *ag)
{
	return cni_gateway(ag->cni);
}

const char *agent_pod_cidr(const struct agent *ag)
{
	return ag->pod_cidr;
}

void agent_bridge_name(const char *data_dir, char out[16])
{
	char *abs = realpath(data_dir, NULL);
	const char *p = abs ? abs : data_dir;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, 16, "cfs%08x", h);
	free(abs);
}

/* ---- reset ---- */

static int rm_tree(const char *dir)
{
	struct pod_sandbox tmp = {.dir = (char *)dir, .made_dir = true, .name = (char *)"reset"};
	return pod_sandbox_remove(NULL, &tmp, NULL);
}

int agent_reset(const char *data_dir, struct err **e)
{
	_cleanup_free_ char *runc_dir = xasprintf("%s/runc", data_dir);
	_cleanup_free_ char *pods_dir = xasprintf("%s/pods", data_dir);
	_cleanup_free_ char *logs_dir = xasprintf("%s/logs", data_dir);
	int rc = 0;
	struct oci_runtime *rt = NULL;
	struct stat st;
	if (stat(runc_dir, &st) == 0 && oci_runtime_new(runc_dir, &rt, NULL) == 0) {
		char **ids = NULL;
		size_t n = 0;
		if (oci_list(rt, &ids, &n, NULL) == 0) {
			for (size_t i = 0; i < n; i++) {
				struct err *e2 = NULL;
				int r = oci_delete(rt, ids[i], true, &e2);
				if (r < 0 && r != -ENOENT && rc == 0) {
					rc = r;
					if (e)
						*e = STEAL_POINTER(&e2);
				}
				err_free(e2);
			}
			oci_ids_free(ids, n);
		}
		oci_runtime_free(rt);
	}
	struct pod_env env = {.pods_dir = pods_dir, .logs_dir = logs_dir};
	char **uids = NULL;
	size_t nu = 0;
	pod_sandbox_list(&env, &uids, &nu);
	for (size_t u = 0; u < nu; u++) {
		struct pod_sandbox *sb = NULL;
		if (pod_sandbox_adopt(&env, uids[u], &sb, NULL) == 0) {
			pod_sandbox_stop(&env, sb, NULL);
			pod_sandbox_free(sb);
		}
		free(uids[u]);
	}
	free(uids);
	int r = rm_tree(pods_dir);
	if (r < 0 && rc == 0)
		rc = err_make(e, -r, "reset: %s: still mounted or busy", pods_dir);
	rm_tree(logs_dir);
	rm_tree(runc_dir);
	char bridge[16];
	agent_bridge_name(data_dir, bridge);
	struct err *e2 = NULL;
	if (cni_reset(data_dir, bridge, &e2) < 0 && rc == 0) {
		rc = -EIO;
		if (e)
			*e = STEAL_POINTER(&e2);
	}
	err_free(e2);
	_cleanup_free_ char *cni_dir = xasprintf("%s/cni", data_dir);
	rm_tree(cni_dir);
	/* the pods' cgroups and their parent, where they are empty now */
	podcg_remove_all(DEFAULT_CGROUP);
	return rc;
}
