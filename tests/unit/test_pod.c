/*
 * test_pod.c - a pod's sandbox and containers under real runc (root, runc,
 * umoci, skopeo and busybox-static required; missing ones fail the test):
 * exit codes and logs, the shared uts and net namespaces, stop with a
 * grace period, a missing image, an emptyDir shared by two containers,
 * and nothing left behind (mounts, runc state, children, files).
 */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/pause.h"
#include "runtime/kubelet/pod.h"
#include "tests/unit/unit.h"

static char tmp[64]; /* the test's data dir */
static char *pods_dir, *logs_dir, *runc_root;
static struct image_store *images;
static struct oci_runtime *rt;
static struct pod_env env;
static json_t *pod;
static struct pod_sandbox *sb;

static const char pod_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\","
    "\"namespace\":\"default\",\"uid\":\"6f1d2c3b-aaaa-4bbb-8ccc-000000000001\"},"
    "\"spec\":{\"volumes\":[{\"name\":\"shared\",\"emptyDir\":{}}],\"containers\":["
    "{\"name\":\"c1\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
    "\"echo one; hostname; sleep 100\"]},"
    "{\"name\":\"c2\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
    "\"echo two; cat /proc/net/dev | wc -l; exit 4\"]},"
    "{\"name\":\"c3\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
    "\"readlink /proc/self/ns/net\"]},"
    "{\"name\":\"w\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
    "\"echo hello-vol > /data/f\"],\"volumeMounts\":[{\"name\":\"shared\","
    "\"mountPath\":\"/data\"}]},"
    "{\"name\":\"r\",\"image\":\"busybox\",\"command\":[\"cat\",\"/in/f\"],"
    "\"volumeMounts\":[{\"name\":\"shared\",\"mountPath\":\"/in\",\"readOnly\":true}]},"
    "{\"name\":\"ghost\",\"image\":\"nosuch/image:1\",\"command\":[\"true\"]}]}}";

/* ---- helpers ---- */

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
	buf_puts(&b, "");
	return buf_steal(&b, NULL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Runs c to its end (10 s at most) and returns its log and exit code. */
static char *run_to_end(const char *name, int *code)
{
	struct pod_container *c = NULL;
	struct err *e = NULL;
	char *log = NULL;
	*code = -1;
	int r = pod_container_start(&env, sb, pod, name, NULL, 0, &c, &e);
	if (r < 0)
		fprintf(stderr, "  start %s: %s\n", name, e ? e->msg : "?");
	CHECK(r == 0);
	err_free(e), e = NULL;
	if (c) {
		CHECK(pod_container_wait(c, 10000, code) == 0);
		log = slurp(c->log);
		CHECK(pod_container_remove(&env, c, &e) == 0);
		err_free(e);
		pod_container_free(c);
	}
	return log ? log : xstrdup("");
}

static bool setup(void)
{
	char tmpl[] = "/tmp/cfs-test-pod.XXXXXX";
	if (!mkdtemp(tmpl))
		return false;
	strcpy(tmp, tmpl);
	pods_dir = xasprintf("%s/pods", tmp);
	logs_dir = xasprintf("%s/logs", tmp);
	runc_root = xasprintf("%s/runc", tmp);
	char *cmd = xasprintf("sh scripts/busybox-image.sh %s/bb >/dev/null", tmp);
	int rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		fprintf(stderr, "  busybox-image.sh failed\n");
		return false;
	}
	struct err *e = NULL;
	char *layout = xasprintf("%s/bb/busybox", tmp);
	bool ok = image_store_open(tmp, &images, &e) == 0 &&
		  image_import(images, layout, "busybox:latest", &e) == 0 &&
		  oci_runtime_new(runc_root, &rt, &e) == 0;
	if (!ok)
		fprintf(stderr, "  setup: %s\n", e ? e->msg : "?");
	err_free(e);
	free(layout);
	env = (struct pod_env){.images = images,
			       .rt = rt,
			       .pods_dir = pods_dir,
			       .logs_dir = logs_dir,
			       .cgroup_parent = "/clusterfs-test"};
	pod = json_loads(pod_json, 0, NULL);
	return ok && pod;
}

/* ---- tests ---- */

static void test_sandbox(void)
{
	struct err *e = NULL;
	int r = pod_sandbox_create(&env, pod, &sb, &e);
	if (r < 0)
		fprintf(stderr, "  sandbox: %s\n", e->msg);
	CHECK(r == 0 && sb && sb->pid > 0);
	err_free(e);
	if (!sb)
		return;
	char *p = xasprintf("%s/hostname", sb->dir);
	char *s = slurp(p);
	CHECK(!strcmp(s, "web-1\n"));
	free(s), free(p);
	p = xasprintf("%s/hosts", sb->dir);
	s = slurp(p);
	CHECK(strstr(s, "localhost") && strstr(s, "web-1"));
	free(s), free(p);
	p = xasprintf("%s/resolv.conf", sb->dir);
	CHECK(access(p, F_OK) == 0);
	free(p);
	/* a pause process in namespaces of its own, recorded for adoption */
	CHECK(pod_sandbox_alive(sb));
	char *mine = xasprintf("/proc/self/ns/net"), *its = xasprintf("/proc/%d/ns/net", sb->pid);
	struct stat a, b;
	CHECK(stat(mine, &a) == 0 && stat(its, &b) == 0 && a.st_ino != b.st_ino);
	free(mine), free(its);
	struct pod_sandbox *again = NULL;
	CHECK(pod_sandbox_create(&env, pod, &again, NULL) == -EEXIST && !again);
	CHECK(pod_sandbox_adopt(&env, sb->uid, &again, NULL) == 0 && again->pid == sb->pid &&
	      again->start == sb->start && !strcmp(again->name, "web-1") && again->adopted);
	pod_sandbox_free(again);
	printf("  sandbox pid %d\n", (int)sb->pid);
}

static void test_exit_code_and_log(void)
{
	int code;
	char *log = run_to_end("c2", &code);
	CHECK(code == 4);
	CHECK(strstr(log, "two\n") != NULL);
	/* the sandbox's fresh net namespace has only lo: 2 header lines + 1 */
	CHECK(strstr(log, "3\n") != NULL);
	printf("  c2 exit %d, log: %s", code, log);
	free(log);
}

static void test_shared_netns(void)
{
	int code;
	char *log = run_to_end("c3", &code);
	char *p = xasprintf("/proc/%d/ns/net", (int)sb->pid), want[128] = "";
	ssize_t n = readlink(p, want, sizeof(want) - 1);
	CHECK(n > 0);
	CHECK(code == 0 && strstr(log, want) != NULL);
	char self[128] = "";
	CHECK(readlink("/proc/self/ns/net", self, sizeof(self) - 1) > 0 && strcmp(self, want));
	printf("  c3 net %s (sandbox %s)\n", strtok(log, "\n") ? log : "", want);
	free(p);
	free(log);
}

static void test_stop_with_grace(void)
{
	struct pod_container *c = NULL;
	struct err *e = NULL;
	CHECK(pod_container_start(&env, sb, pod, "c1", NULL, 0, &c, &e) == 0);
	err_free(e), e = NULL;
	if (!c)
		return;
	int code = -1;
	CHECK(pod_container_wait(c, 0, &code) == -ETIMEDOUT); /* still running */
	/* until echo and hostname have run (their lines are in the log) */
	for (int i = 0; i < 1000; i++) {
		char *l = slurp(c->log);
		bool both = l && strstr(l, "one\n") && strstr(l, "web-1\n");
		free(l);
		if (both)
			break;
		usleep(10 * 1000);
	}
	/* sh as its pid namespace's init has no SIGTERM handler, so the kernel
	 * drops SIGTERM; SIGKILL after the 1 s grace ends it: 137 */
	CHECK(pod_container_stop(&env, c, 1, &e) == 0);
	CHECK(c->reaped && c->exit_code == 137);
	CHECK(pod_container_wait(c, 0, &code) == 0 && code == 137);
	char *log = slurp(c->log);
	CHECK(strstr(log, "one\n") && strstr(log, "web-1\n"));
	printf("  c1 stopped: %d, log: %s", code, log);
	free(log);
	CHECK(pod_container_remove(&env, c, &e) == 0);
	/* the log stays, the rootfs and the attempt's layer go */
	CHECK(access(c->log, F_OK) == 0 && access(c->rootfs, F_OK) < 0 &&
	      access(c->attempt_dir, F_OK) < 0);
	/* removing twice is harmless */
	CHECK(pod_container_remove(&env, c, &e) == 0);
	err_free(e);
	pod_container_free(c);
}

static void test_missing_image(void)
{
	struct pod_container *c = NULL;
	struct err *e = NULL;
	CHECK(pod_container_start(&env, sb, pod, "ghost", NULL, 0, &c, &e) == -ENOENT && !c);
	CHECK(e && strstr(e->msg, "image nosuch/image:1 not found"));
	if (e)
		printf("  %s\n", e->msg);
	err_free(e), e = NULL;
	CHECK(pod_container_start(&env, sb, pod, "nobody", NULL, 0, &c, &e) == -ENOENT && !c);
	err_free(e);
}

static void test_empty_dir(void)
{
	int code;
	char *log = run_to_end("w", &code);
	CHECK(code == 0);
	free(log);
	log = run_to_end("r", &code);
	CHECK(code == 0 && !strcmp(log, "hello-vol\n"));
	free(log);
	char *p = xasprintf("%s/volumes/shared/f", sb->dir);
	CHECK(access(p, F_OK) == 0);
	free(p);
}

static void test_restart_attempt(void)
{
	/* attempt 1 of c2 after attempt 0: a new id, a new log, old log kept */
	struct pod_container *c = NULL;
	struct err *e = NULL;
	int code = -1;
	CHECK(pod_container_start(&env, sb, pod, "c2", NULL, 1, &c, &e) == 0);
	err_free(e), e = NULL;
	if (!c)
		return;
	CHECK(strstr(c->id, "-c2-1") && strlen(c->id) < 32);
	CHECK(pod_container_wait(c, 10000, &code) == 0 && code == 4);
	/* logs live apart from the bundle: LOGS/UID/C/ATTEMPT.log */
	char *old = xasprintf("%s/%s/c2/0.log", logs_dir, sb->uid);
	CHECK(access(old, F_OK) == 0 && access(c->log, F_OK) == 0);
	CHECK(strstr(c->log, logs_dir) == c->log && strstr(c->log, "/c2/1.log"));
	free(old);
	CHECK(pod_container_remove(&env, c, &e) == 0);
	err_free(e);
	pod_container_free(c);
}

static void test_sandbox_needs_no_image(void)
{
	/* the pause process is ours, not an image's: an empty store works */
	struct image_store *empty = NULL;
	struct pod_sandbox *x = NULL;
	struct err *e = NULL;
	char *d = xasprintf("%s/empty", tmp), *pods = xasprintf("%s/pods2", tmp);
	mkdir(d, 0755);
	CHECK(image_store_open(d, &empty, NULL) == 0);
	struct pod_env env2 = {.images = empty, .rt = rt, .pods_dir = pods, .logs_dir = logs_dir};
	CHECK(pod_sandbox_create(&env2, pod, &x, &e) == 0 && x && pod_sandbox_alive(x));
	char *uid_dir =
	    xasprintf("%s/%s", pods,
		      json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid")));
	CHECK(access(uid_dir, F_OK) == 0);
	pid_t pid = x ? x->pid : 0;
	CHECK(pod_sandbox_remove(&env2, x, NULL) == 0);
	CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);
	CHECK(access(uid_dir, F_OK) < 0);
	pod_sandbox_free(x);
	err_free(e);
	image_store_close(empty);
	free(uid_dir);
	free(pods);
	free(d);
}

static void test_cleanup(void)
{
	struct err *e = NULL;
	char *dir = sb ? xstrdup(sb->dir) : NULL;
	CHECK(pod_sandbox_remove(&env, sb, &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	err_free(e), e = NULL;
	CHECK(sb && !pod_sandbox_alive(sb));
	CHECK(!dir || access(dir, F_OK) < 0);
	free(dir);
	pod_sandbox_free(sb);
	sb = NULL;
	CHECK(pod_sandbox_remove(&env, NULL, NULL) == 0);

	/* no runc container */
	char **ids = NULL;
	size_t n = 99;
	CHECK(oci_list(rt, &ids, &n, NULL) == 0 && n == 0);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "  left over: %s\n", ids[i]);
		oci_delete(rt, ids[i], true, NULL);
	}
	oci_ids_free(ids, n);
	char *cmd = xasprintf("runc --root %s list -q | grep -q .", runc_root);
	CHECK(system(cmd) != 0);
	free(cmd);
	/* no child */
	usleep(50 * 1000);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	/* no mount under tmp */
	char *mounts = slurp("/proc/mounts");
	CHECK(strstr(mounts, tmp) == NULL);
	free(mounts);
	/* the cgroup parent the containers had */
	static const char *const ctl[] = {"",	    "/memory",	"/cpu",	    "/cpuacct", "/pids",
					  "/blkio", "/devices", "/freezer", "/cpuset",	"/systemd"};
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		char *cg = xasprintf("/sys/fs/cgroup%s/clusterfs-test", ctl[i]);
		rmdir(cg);
		free(cg);
	}
	oci_runtime_free(rt);
	image_store_close(images);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	CHECK(access(tmp, F_OK) < 0);
}

int main(int argc, char **argv)
{
	/* pod_sandbox_create runs /proc/self/exe pause NAME: this binary */
	if (argc == 3 && !strcmp(argv[1], "pause"))
		return pause_main(argc, argv);
	alarm(60); /* a hung runc must not hang the run */
	/* container inits are reparented to us when runc create exits */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (geteuid() != 0 || !setup()) {
		fprintf(stderr, "test_pod: needs root, runc, umoci, skopeo and busybox-static\n");
		if (*tmp)
			nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(test_sandbox);
	if (sb) {
		RUN(test_exit_code_and_log);
		RUN(test_shared_netns);
		RUN(test_stop_with_grace);
		RUN(test_missing_image);
		RUN(test_empty_dir);
		RUN(test_restart_attempt);
	}
	RUN(test_sandbox_needs_no_image);
	RUN(test_cleanup);
	json_decref(pod);
	free(pods_dir);
	free(logs_dir);
	free(runc_root);
	return unit_done();
}
