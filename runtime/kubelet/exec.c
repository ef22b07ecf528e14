/*
 * exec.c - see exec.h.
 *
 * Without a terminal, `runc exec --pid-file F ID ARGV` runs in the
 * foreground with pipes for its stdio: runc's exit status is the
 * command's.  With one, `runc exec -t -d --console-socket S` makes a pty
 * in the container, hands its master to us over the socket (SCM_RIGHTS)
 * and returns; the command, orphaned, is reparented to this process (the
 * agent made it a child subreaper, see oci.h), which waits for it by pid.
 * Port-forward: a short-lived thread enters the pod's network namespace
 * (that of a running container of the pod, which is the sandbox's) and
 * connects to 127.0.0.1:PORT; the socket stays in that namespace.
 */
#include "runtime/kubelet/exec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "engine/api/api_exec.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/client/kubelet_auth.h"
#include "engine/kind.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/kubelet/kserver.h"
#include "runtime/kubelet/oci.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define EXEC_ARGS_MAX 200

static atomic_uint exec_seq;

struct rsess {
	struct api_exec_sess s;
	bool tty;
	pid_t runc;    /* without tty: the foreground runc */
	pid_t pid;     /* with tty: the command */
	char *pidfile; /* the command's pid (runc --pid-file) */
	struct proc p; /* without tty */
	int log;       /* without tty: runc's JSON log (a memfd), or -1 */
	bool waited;
	int code;
};

/* runc's absolute path from PATH, or NULL. */
static char *runc_path(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *p = dirs, *d;
	while ((d = strsep(&p, ":"))) {
		char *f = xasprintf("%s/runc", d);
		if (d[0] == '/' && access(f, X_OK) == 0)
			return f;
		free(f);
	}
	return NULL;
}

/* The runc id of the latest instance of container name of pod uid
 * (name NULL: any container), running, and its init's pid. */
static int find_container(struct agent *ag, const char *uid, const char *name, char id[256],
			  pid_t *pid, struct err **e)
{
	char **ids = NULL;
	size_t n = 0, pre_len;
	char pre[160];
	snprintf(pre, sizeof(pre), "%.12s-%s", uid, name ? name : "");
	pre_len = strlen(pre);
	int r = oci_list(ag->rt, &ids, &n, e), best = -1;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *rest = ids[i] + pre_len, *dash = strrchr(ids[i], '-');
		if (strncmp(ids[i], pre, pre_len) || !dash || dash < rest ||
		    (name && dash != rest) || !isdigit((unsigned char)dash[1]))
			continue;
		struct oci_state st;
		if (oci_state(ag->rt, ids[i], &st, NULL) < 0 || st.status != OCI_RUNNING)
			continue;
		int a = atoi(dash + 1);
		if (a > best) {
			best = a;
			snprintf(id, 256, "%s", ids[i]);
			*pid = st.pid;
		}
	}
	oci_ids_free(ids, n);
	if (r == 0 && best < 0)
		r = err_make(e, EAGAIN, "container not found (\"%s\")", name ? name : "");
	return r;
}

/* runc's last error in its JSON log (fd), or NULL: the exec itself
 * failed (no such executable, ...), not the command. */
static char *runc_error(int fd)
{
	char b[16384];
	ssize_t n = fd >= 0 ? pread(fd, b, sizeof(b) - 1, 0) : -1;
	if (n <= 0)
		return NULL;
	b[n] = '\0';
	char *msg = NULL;
	for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		const char *lvl = json_string_value(json_object_get(j, "level"));
		const char *m = json_string_value(json_object_get(j, "msg"));
		if (lvl && m && (!strcmp(lvl, "error") || !strcmp(lvl, "fatal"))) {
			free(msg);
			msg = xstrdup(m);
		}
		json_decref(j);
	}
	return msg;
}

static int sess_wait(struct api_exec_sess *s, int *code, struct err **e)
{
	struct rsess *rs = (struct rsess *)s;
	_cleanup_free_ char *failed = NULL;
	if (!rs->waited) {
		int st = 0, r = proc_wait(rs->tty ? rs->pid : rs->runc, -1, &st);
		if (r == -ECHILD) { /* not ours after all: wait for it to go */
			while (kill(rs->pid, 0) == 0)
				usleep(50000);
			st = 0;
		} else if (r < 0) {
			return err_make(e, -r, "exec: wait: %s", strerror(-r));
		}
		rs->waited = true;
		rs->code = proc_exit_code(st);
		if (!rs->tty && rs->code == 255 && (failed = runc_error(rs->log)))
			rs->code = -1;
	}
	if (rs->code < 0)
		return err_make(e, EIO, "OCI runtime exec failed: %s: unknown",
				failed ? failed : "runc exec failed");
	*code = rs->code;
	return 0;
}

static void sess_resize(struct api_exec_sess *s, unsigned w, unsigned h)
{
	struct rsess *rs = (struct rsess *)s;
	struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
	if (rs->tty && rs->s.out >= 0)
		ioctl(rs->s.out, TIOCSWINSZ, &ws);
}

static void sess_kill(struct api_exec_sess *s)
{
	struct rsess *rs = (struct rsess *)s;
	if (rs->waited)
		return;
	pid_t pid = rs->tty ? rs->pid : pid_file_read(rs->pidfile);
	if (pid > 1)
		kill(pid, SIGKILL);
	else if (!rs->tty && rs->runc > 1)
		kill(rs->runc, SIGKILL);
}

static void sess_free(struct api_exec_sess *s)
{
	struct rsess *rs = (struct rsess *)s;
	if (!rs)
		return;
	if (!rs->waited) {
		int code;
		sess_kill(s);
		sess_wait(s, &code, NULL);
	}
	for (int *fd = &rs->s.in; fd <= &rs->s.err; fd++)
		if (*fd >= 0)
			close(*fd);
	if (!rs->tty)
		proc_free(&rs->p);
	if (rs->log >= 0)
		close(rs->log);
	unlink(rs->pidfile);
	free(rs->pidfile);
	free(rs);
}

static const struct api_exec_sess_ops sess_ops = {
    .wait = sess_wait, .resize = sess_resize, .kill = sess_kill, .free = sess_free};

/* argv of `runc --root R exec OPTS... ID CMD...` into out (EXEC_ARGS_MAX). */
static int build_argv(struct agent *ag, const char *runc, bool log, const char *const *opts,
		      const char *id, char *const *cmd, const char **out, struct err **e)
{
	size_t n = 0;
	out[n++] = runc;
	out[n++] = "--root";
	out[n++] = ag->runc_dir;
	if (log) {
		out[n++] = "--log";
		out[n++] = "/proc/self/fd/3";
		out[n++] = "--log-format";
		out[n++] = "json";
	}
	out[n++] = "exec";
	for (size_t i = 0; opts[i]; i++)
		out[n++] = opts[i];
	out[n++] = id;
	for (size_t i = 0; cmd[i]; i++) {
		if (n >= EXEC_ARGS_MAX - 1)
			return err_make(e, E2BIG, "exec: too many arguments");
		out[n++] = cmd[i];
	}
	out[n] = NULL;
	return 0;
}

/* Without a terminal: runc in the foreground, pipes for what is wanted. */
static int exec_pipes(struct agent *ag, struct rsess *rs, const char *runc, const char *id,
		      const struct api_exec_opts *o, struct err **e)
{
	const char *opts[] = {"--pid-file", rs->pidfile, NULL};
	const char *argv[EXEC_ARGS_MAX];
	int r = build_argv(ag, runc, true, opts, id, o->argv, argv, e);
	if (r < 0)
		return r;
	if ((rs->log = memfd_create("runc-exec-log", MFD_CLOEXEC)) < 0)
		return err_make(e, errno, "exec: memfd: %s", strerror(errno));
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	if ((o->in && pipe2(pin, O_CLOEXEC) < 0) || (o->out && pipe2(pout, O_CLOEXEC) < 0) ||
	    (o->err && pipe2(perr, O_CLOEXEC) < 0))
		r = err_make(e, errno, "exec: pipe: %s", strerror(errno));
	rs->p = (struct proc){.path = runc,
			      .argv = (char *const *)argv,
			      .name = "runc exec",
			      .nfd = 4,
			      .io = {o->in ? PROC_FD : PROC_NULL, o->out ? PROC_FD : PROC_NULL,
				     o->err ? PROC_FD : PROC_NULL, PROC_FD},
			      .fd = {pin[0], pout[1], perr[1], rs->log},
			      .setsid = true};
	if (r == 0)
		r = proc_start(&rs->p, e);
	for (int i = 0; i < 2; i++) {
		int *child = i ? &pin[0] : &pout[1];
		if (*child >= 0)
			close(*child);
	}
	if (perr[1] >= 0)
		close(perr[1]);
	rs->s.in = pin[1];
	rs->s.out = pout[0];
	rs->s.err = perr[0];
	rs->runc = rs->p.pid;
	return r;
}

/* A listening unix socket at a fresh short path (into path). */
static int console_listen(char path[108], struct err **e)
{
	snprintf(path, 108, "/tmp/cfs-console-%d-%u.sock", (int)getpid(),
		 atomic_fetch_add(&exec_seq, 1));
	unlink(path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 2) < 0) {
		int r = err_make(e, errno, "exec: console socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	chmod(path, 0600);
	return fd;
}

/* The fd runc sent over the console socket (within 5 s), or -errno. */
static int console_receive(int lfd, struct err **e)
{
	struct pollfd pf = {.fd = lfd, .events = POLLIN};
	if (poll(&pf, 1, 5000) <= 0)
		return err_make(e, ETIMEDOUT, "exec: runc sent no terminal");
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return err_make(e, errno, "exec: console socket: %s", strerror(errno));
	char name[256];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
	close(c);
	struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
		return err_make(e, EIO, "exec: runc sent no terminal");
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(fd));
	return fd;
}

/* With a terminal: runc -t -d, the pty's master from the console socket. */
static int exec_tty(struct agent *ag, struct rsess *rs, const char *runc, const char *id,
		    const struct api_exec_opts *o, struct err **e)
{
	char sock[108];
	int lfd = console_listen(sock, e);
	if (lfd < 0)
		return lfd;
	const char *opts[] = {"-t",	   "-d", "--console-socket", sock, "--pid-file",
			      rs->pidfile, NULL};
	const char *argv[EXEC_ARGS_MAX];
	int r = build_argv(ag, runc, false, opts, id, o->argv, argv, e);
	struct proc p = {.path = runc,
			 .argv = (char *const *)argv,
			 .name = "runc exec",
			 .io = {PROC_NULL, PROC_CAPTURE, PROC_CAPTURE},
			 .setsid = true,
			 .timeout_ms = 30000};
	if (r == 0 && (r = proc_run(&p, e)) == 0 && proc_exit_code(p.status) != 0)
		r = err_make(e, EIO, "runc exec: %s", p.out[2] && *p.out[2] ? p.out[2] : "failed");
	proc_free(&p);
	int fd = r < 0 ? r : console_receive(lfd, e);
	close(lfd);
	unlink(sock);
	if (fd < 0)
		return fd;
	rs->pid = pid_file_read(rs->pidfile);
	rs->s.out = fd;
	rs->s.in = o->in ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (rs->pid <= 1) {
		rs->waited = true;
		return err_make(e, EIO, "exec: runc wrote no pid");
	}
	return 0;
}

static int do_exec(void *arg, const struct api_exec_opts *o, struct api_exec_sess **out,
		   struct err **e)
{
	struct agent *ag = arg;
	char id[256];
	pid_t init;
	int r = find_container(ag, o->uid, o->container, id, &init, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *runc = runc_path();
	if (!runc)
		return err_make(e, ENOENT, "runc: not found on PATH");
	struct rsess *rs = xcalloc(1, sizeof(*rs));
	rs->s = (struct api_exec_sess){.in = -1, .out = -1, .err = -1, .ops = &sess_ops};
	rs->tty = o->tty;
	rs->log = -1;
	rs->pidfile = xasprintf("%s/exec@%d.x%u.pid", ag->runc_dir, (int)getpid(),
				atomic_fetch_add(&exec_seq, 1));
	r = o->tty ? exec_tty(ag, rs, runc, id, o, e) : exec_pipes(ag, rs, runc, id, o, e);
	if (r < 0) {
		if (!rs->runc && !rs->pid)
			rs->waited = true;
		sess_free(&rs->s);
		return r;
	}
	log_debug("exec", "%s/%s: exec in %s (%s)", o->ns, o->pod, id, o->tty ? "tty" : "pipes");
	*out = &rs->s;
	return 0;
}

struct pf_job {
	int netns, port, fd, err;
};

static void *pf_main(void *arg)
{
	struct pf_job *j = arg;
	if (setns(j->netns, CLONE_NEWNET) < 0) {
		j->err = errno;
		return NULL;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	j->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (j->fd < 0 || connect(j->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		j->err = errno;
		if (j->fd >= 0)
			close(j->fd);
		j->fd = -1;
	}
	return NULL;
}

static int do_portforward(void *arg, const char *ns, const char *pod, const char *uid, int port,
			  int *fd, struct err **e)
{
	struct agent *ag = arg;
	char id[256];
	pid_t init;
	int r = find_container(ag, uid, NULL, id, &init, e);
	if (r < 0)
		return r;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	struct pf_job j = {.netns = open(path, O_RDONLY | O_CLOEXEC), .port = port, .fd = -1};
	if (j.netns < 0)
		return err_make(e, errno, "pod %s/%s: %s: %s", ns, pod, path, strerror(errno));
	pthread_t t;
	if ((r = pthread_create(&t, NULL, pf_main, &j)) == 0)
		pthread_join(t, NULL);
	else
		j.err = r;
	close(j.netns);
	if (j.fd < 0)
		return err_make(e, j.err,
				"error forwarding port %d to pod %s, uid %s: failed to connect to "
				"localhost:%d inside namespace: %s",
				port, pod, uid, port, strerror(j.err));
	*fd = j.fd;
	return 0;
}

static const struct api_exec_provider provider = {.exec = do_exec, .portforward = do_portforward};

/* The endpoint of a remote agent (one per process). */
static struct kserver *kserver;

struct publish {
	const char *pin;
	int port;
};

/* Puts the endpoint's key pin and port in the Node's annotations. */
static int publish_mut(json_t *node, void *arg, struct err **e)
{
	const struct publish *p = arg;
	json_t *md = json_object_get(node, "metadata");
	json_t *an = json_object_get(md, "annotations");
	if (!json_is_object(an)) {
		an = json_object();
		json_object_set_new(md, "annotations", an);
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", p->port);
	json_object_set_new(an, KUBELET_PIN_ANNOTATION, json_string(p->pin));
	json_object_set_new(an, KUBELET_PORT_ANNOTATION, json_string(port));
	return 0;
}

/* A remote agent: serves its pods' logs on its own endpoint (kserver.h)
 * and says where in its Node. */
static int serve_remote(struct agent *ag, struct err **e)
{
	int port;
	const char *ca_file;
	kserver_config(&port, &ca_file);
	/* without --ca: the CA the join pinned (engine/client/join.h) */
	_cleanup_free_ char *joined = xasprintf("%s/join/ca.crt", ag->o.data_dir);
	if (!ca_file && access(joined, R_OK) == 0)
		ca_file = joined;
	if (!ca_file)
		return err_make(e, EINVAL, "kubelet endpoint: no CA to check the server with");
	struct kserver_opts ko = {.node = ag->node,
				  .ip = ag->node_ip,
				  .port = port,
				  .data_dir = ag->o.data_dir,
				  .logs_dir = ag->logs_dir,
				  .ca_file = ca_file,
				  .provider = &provider,
				  .provider_arg = ag};
	if (kserver_start(&ko, &kserver, e) < 0)
		return -1;
	struct publish p = {kserver_pin(kserver), kserver_port(kserver)};
	if (apic_patch(ag->c, KIND_NODE, NULL, ag->node, publish_mut, &p, e) < 0) {
		kserver_stop(STEAL_POINTER(&kserver));
		return -1;
	}
	log_info("agent", "kubelet endpoint on %s:%d", ag->node_ip, p.port);
	return 0;
}

void agent_exec_register(struct agent *ag)
{
	struct err *e = NULL;
	int r = apic_exec_register(ag->c, ag->node, &provider, ag, &e);
	if (r == -ENOTSUP) {
		err_free(STEAL_POINTER(&e));
		r = serve_remote(ag, &e);
	}
	if (r < 0)
		log_warn("agent", "%s", e ? e->msg : "exec: not registered");
	err_free(e);
}

void agent_exec_unregister(struct agent *ag)
{
	kserver_stop(STEAL_POINTER(&kserver));
	apic_exec_unregister(ag->c, ag->node);
}
