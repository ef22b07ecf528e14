/*
 * oci.c - see oci.h.  The runc driver: each runc command run by proc_run
 * (runtime/proc.h); the config half is oci_config.c.
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
#include "runtime/kubelet/logrelay.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define RUNC_TIMEOUT_MS 60000 /* any runc command but exec */

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

/* Whether pid runs (not gone, not a zombie waiting to be reaped). */
static bool running(pid_t pid)
{
	char path[32], buf[256], *close;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	close = strrchr(buf, ')');
	return close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';
}

/* At a runc command's deadline: SIGKILL the process its pid file names
 * (runc then exits with it), and give runc 2 s to do so.  A runc still
 * starting it (a loaded machine) has not written the file yet: wait for
 * it (2 s at most, while runc runs), or the process would outlive the
 * deadline, and its container's init with it. */
static int runc_on_timeout(struct proc *p)
{
	const struct run *r = p->arg;
	pid_t victim = pid_file_read(r->pidfile);
	for (int i = 0; r->pidfile && !victim && i < 200 && running(p->pid); i++) {
		usleep(10000);
		victim = pid_file_read(r->pidfile);
	}
	if (victim)
		kill(victim, SIGKILL);
	return victim ? 2000 : 0;
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

/* runc create, or runc run --detach (start): see oci_create_pid and
 * oci_run_pid. */
static int create_or_run(struct oci_runtime *rt, const char *id, const char *bundle,
			 const json_t *config, const char *stdout_log, pid_t *pid, bool start,
			 struct err **e)
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
	/* stdout and stderr: a pipe to the log relay; without a relay the
	 * log itself; /dev/null without a log */
	if (stdout_log && logrelay_available()) {
		if ((rc = logrelay_start(stdout_log, &fd, NULL, e)) < 0)
			return err_wrap(e, "container %s", id);
	} else if ((fd = open(stdout_log ? stdout_log : "/dev/null",
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640)) < 0) {
		return err_make(e, errno, "container %s: log %s: %s", id,
				stdout_log ? stdout_log : "/dev/null", strerror(errno));
	}
	_cleanup_free_ char *pidfile = xasprintf("%s/init.pid", bundle);
	const char *args[] = {"create", "--bundle", bundle, "--pid-file", pidfile, id, NULL, NULL};
	if (start) /* one runc process for both: run --detach */
		args[0] = "run", args[1] = "--detach", args[2] = "--bundle", args[3] = bundle,
		args[4] = "--pid-file", args[5] = pidfile, args[6] = id;
	else if (!pid)
		args[3] = id, args[4] = NULL;
	struct run r = {.args = args, .in = -1, .out = fd, .err = fd};
	rc = run_checked(rt, id, &r, e);
	close(fd);
	if (pid) {
		*pid = rc == 0 ? pid_file_read(pidfile) : 0;
		unlink(pidfile);
		if (rc == 0 && *pid == 0) {
			struct oci_state st;
			if (oci_state(rt, id, &st, NULL) == 0)
				*pid = st.pid;
		}
	}
	if (rc == 0)
		log_debug("oci", "%s: %s from %s", id, start ? "running" : "created", bundle);
	free(r.msg);
	return rc;
}

int oci_create_pid(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
		   const char *stdout_log, pid_t *pid, struct err **e)
{
	return create_or_run(rt, id, bundle, config, stdout_log, pid, false, e);
}

int oci_run_pid(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
		const char *stdout_log, pid_t *pid, struct err **e)
{
	return create_or_run(rt, id, bundle, config, stdout_log, pid, true, e);
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
