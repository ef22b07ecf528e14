/*
 * dns.c - see dns.h.  The dnsmasq process (spawn, wait for its pid file,
 * SIGHUP, stop), then the pure functions: resolv.conf, /etc/hosts and the
 * service environment variables.
 */
#include "runtime/net/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define DNSMASQ	      "/usr/sbin/dnsmasq"
#define START_TIMEOUT 5000 /* ms */
#define STOP_GRACE    2000 /* ms */
#define MAX_UPSTREAM  8
#define DNS_RUN_DIR   "/run/clusterfs"

struct dns {
	pid_t pid;
	char *dir;     /* DATA/dns */
	char *run;     /* RUN/dns-DEV-INO: what dnsmasq reads as nobody */
	char *hosts;   /* RUN/dns-DEV-INO/hosts */
	char *pidfile; /* DATA/dns/dnsmasq.pid */
	char *logfile; /* DATA/dns/dnsmasq.log */
};

static bool valid_ip4(const char *s)
{
	struct in_addr a;
	return s && inet_pton(AF_INET, s, &a) == 1;
}

/* A DNS name: labels of [A-Za-z0-9-_], 1-63 bytes each, 253 in all. */
static bool valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0, label = 0;
	if (!n || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* True when pid is a running (not zombie) process whose command line
 * holds needle. */
static bool proc_runs(pid_t pid, const char *needle)
{
	char path[64], buf[4096], state = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	if (state == 'Z' || state == 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Waits until our child pid is reaped or ms pass: true when reaped. */
static bool reap_within(pid_t pid, int ms)
{
	int rc = proc_wait(pid, ms, NULL);
	return rc == 0 || rc == -ECHILD;
}

/* Ends a dnsmasq a crashed server left (its pid file names it and its
 * command line names the pid file): not our child, so waited for by
 * polling /proc. */
static void kill_stale(const char *pidfile)
{
	_cleanup_free_ char *needle = xasprintf("--pid-file=%s", pidfile);
	pid_t pid = pid_file_read(pidfile);
	if (!pid || !proc_runs(pid, needle))
		return;
	log_warn("dns", "%s: stopping dnsmasq %d left by an earlier server", pidfile, (int)pid);
	kill(pid, SIGTERM);
	for (int i = 0; i < STOP_GRACE / 10 && proc_runs(pid, needle); i++)
		usleep(10000);
	if (proc_runs(pid, needle))
		kill(pid, SIGKILL);
	for (int i = 0; i < 100 && proc_runs(pid, needle); i++)
		usleep(10000);
}

/* The nameservers of /etc/resolv.conf but skip (at most max) into v. */
static size_t host_upstreams(const char *skip, char **v, size_t max)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], addr[256];
	size_t n = 0;
	while (f && n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %255s", addr) == 1 && strcmp(addr, skip))
			v[n++] = xstrdup(addr);
	if (f)
		fclose(f);
	return n;
}

/* The last lines of the log (at most ~600 bytes), for an error message. */
static char *log_tail(const char *path)
{
	char buf[600];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	ssize_t n = 0;
	if (fd >= 0) {
		off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
		n = pread(fd, buf, sizeof(buf) - 1, from);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf; *p; p++)
		*p = *p == '\n' ? ' ' : *p;
	return xstrdup(buf);
}

static int spawn_dnsmasq(struct dns *d, const struct dns_opts *o, const char *bin, struct err **e)
{
	char *up[MAX_UPSTREAM] = {0};
	size_t n_up = 0;
	if (o->upstream)
		for (; n_up < MAX_UPSTREAM && o->upstream[n_up]; n_up++)
			up[n_up] = xstrdup(o->upstream[n_up]);
	else
		n_up = host_upstreams(o->listen_ip, up, MAX_UPSTREAM);

	char *argv[32 + MAX_UPSTREAM];
	size_t argc = 0;
	argv[argc++] = xstrdup(bin);
	argv[argc++] = xstrdup("--keep-in-foreground");
	argv[argc++] = xstrdup("--conf-file=/dev/null"); /* not /etc/dnsmasq.conf */
	argv[argc++] = xstrdup("--no-hosts");		 /* not /etc/hosts */
	argv[argc++] = xstrdup("--no-resolv");		 /* only the --server given */
	argv[argc++] = xstrdup("--bind-dynamic");	 /* this address, also once it appears */
	argv[argc++] = xasprintf("--listen-address=%s", o->listen_ip);
	argv[argc++] = xasprintf("--port=%d", o->port ? o->port : 53);
	argv[argc++] = xasprintf("--addn-hosts=%s", d->hosts);
	argv[argc++] = xasprintf("--pid-file=%s", d->pidfile);
	/* binds as root, then runs as nobody (keeping only what binding a
	 * new address takes): the hosts file is in a dir nobody can reach */
	argv[argc++] = xstrdup("--user=nobody");
	argv[argc++] = xstrdup("--group=nogroup");
	argv[argc++] = xstrdup("--local=/" DNS_DOMAIN "/"); /* never forwarded */
	argv[argc++] = xstrdup("--log-facility=-");	    /* stderr: the log file */
	argv[argc++] = xstrdup("--no-ping");
	for (size_t i = 0; i < n_up; i++)
		argv[argc++] = xasprintf("--server=%s", up[i]);
	argv[argc] = NULL;

	int logfd = open(d->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int rc = 0;
	if (logfd < 0) {
		rc = err_make(e, errno, "dns: %s: %s", d->logfile, strerror(errno));
	} else {
		/* stdin /dev/null, stdout and stderr the log; a session of its own */
		struct proc p = {.path = bin,
				 .argv = argv,
				 .name = "dns",
				 .io = {PROC_NULL, PROC_FD, PROC_FD},
				 .fd = {-1, logfd, logfd},
				 .setsid = true};
		rc = proc_start(&p, e);
		d->pid = p.pid;
		proc_free(&p);
		close(logfd);
	}
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	for (size_t i = 0; i < n_up; i++)
		free(up[i]);
	return rc;
}

/* DATA/dns/hosts names the hosts file, for whoever looks there. */
static void hosts_link(const struct dns *d)
{
	_cleanup_free_ char *link = xasprintf("%s/hosts", d->dir);
	unlink(link);
	if (symlink(d->hosts, link) < 0)
		log_warn("dns", "symlink %s: %s", link, strerror(errno));
}

int dns_start(const struct dns_opts *o, struct dns **out, struct err **e)
{
	const char *bin = o->dnsmasq ? o->dnsmasq : DNSMASQ;
	int rc;

	*out = NULL;
	if (!valid_ip4(o->listen_ip))
		return err_make(e, EINVAL, "dns: listen address \"%s\": not IPv4",
				o->listen_ip ? o->listen_ip : "");
	if (o->port < 0 || o->port > 65535 || !o->data_dir || !*o->data_dir)
		return err_make(e, EINVAL, "dns: bad port %d or no data dir", o->port);
	for (size_t i = 0; o->upstream && o->upstream[i]; i++)
		if (!*o->upstream[i] || strpbrk(o->upstream[i], " \t\n,/"))
			return err_make(e, EINVAL, "dns: upstream \"%s\": not an address",
					o->upstream[i]);
	if (access(bin, X_OK) != 0)
		return err_make(e, ENOENT, "dns: %s: %s (install dnsmasq-base)", bin,
				strerror(errno));

	struct dns *d = xcalloc(1, sizeof(*d));
	d->dir = xasprintf("%s/dns", o->data_dir);
	d->pidfile = xasprintf("%s/dnsmasq.pid", d->dir);
	d->logfile = xasprintf("%s/dnsmasq.log", d->dir);
	struct stat st;
	if ((mkdir(d->dir, 0700) < 0 && errno != EEXIST) || stat(d->dir, &st) < 0) {
		rc = err_make(e, errno, "dns: mkdir %s: %s", d->dir, strerror(errno));
		goto fail;
	}
	/* the data dir is root's alone (0700): dnsmasq, once nobody, reads
	 * its hosts file (Service names and addresses, which it answers to
	 * anyone anyway) from a dir of its own under /run */
	d->run = xasprintf("%s/dns-%llx-%llx", DNS_RUN_DIR, (unsigned long long)st.st_dev,
			   (unsigned long long)st.st_ino);
	d->hosts = xasprintf("%s/hosts", d->run);
	if ((mkdir(DNS_RUN_DIR, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(d->run, 0755) < 0 && errno != EEXIST)) {
		rc = err_make(e, errno, "dns: mkdir %s: %s", d->run, strerror(errno));
		goto fail;
	}
	hosts_link(d);
	kill_stale(d->pidfile);
	unlink(d->pidfile);
	if ((rc = write_atomic(d->hosts, "", e)) < 0 || (rc = spawn_dnsmasq(d, o, bin, e)) < 0)
		goto fail;

	/* running once its pid file names it; an exit is a failed start */
	for (int64_t deadline = mono_ms() + START_TIMEOUT;;) {
		if (pid_file_read(d->pidfile) == d->pid)
			break;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid || mono_ms() >= deadline) {
			_cleanup_free_ char *tail = log_tail(d->logfile);
			rc = err_make(e, EIO, "dns: dnsmasq on %s:%d did not start: %s",
				      o->listen_ip, o->port ? o->port : 53, tail);
			goto fail;
		}
		usleep(5000);
	}
	log_info("dns", "dnsmasq %d serving on %s:%d", (int)d->pid, o->listen_ip,
		 o->port ? o->port : 53);
	*out = d;
	return 0;
fail:
	dns_stop(d);
	return rc;
}

int dns_update(struct dns *d, const struct dns_record *r, size_t n, struct err **e)
{
	struct buf b = {0};
	int rc;

	for (size_t i = 0; i < n; i++)
		if (!valid_name(r[i].fqdn) || !valid_ip4(r[i].ip))
			return err_make(e, EINVAL, "dns record %s -> %s: bad name or IPv4 address",
					r[i].fqdn ? r[i].fqdn : "(null)",
					r[i].ip ? r[i].ip : "(null)");
	if (!d->pid)
		return err_make(e, ESRCH, "dns: dnsmasq is not running");
	buf_puts(&b, "# clusterfs: Service records, rewritten on every change\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s\t%s\n", r[i].ip, r[i].fqdn);
	rc = write_atomic(d->hosts, b.s, e);
	buf_free(&b);
	if (rc < 0)
		return rc;
	if (kill(d->pid, SIGHUP) < 0)
		return err_make(e, errno == ESRCH ? ESRCH : errno, "dns: SIGHUP to dnsmasq %d: %s",
				(int)d->pid, strerror(errno));
	log_debug("dns", "%zu records", n);
	return 0;
}

pid_t dns_pid(const struct dns *d)
{
	return d ? d->pid : 0;
}

void dns_stop(struct dns *d)
{
	if (!d)
		return;
	/* only a child still ours: one already reaped (or replaced, see
	 * kill_stale) is not signalled, its pid may be another's now */
	pid_t w = d->pid > 0 ? waitpid(d->pid, NULL, WNOHANG) : 0;
	if (w != 0) {
		if (w == d->pid) /* it had ended: its pid file is stale */
			unlink(d->pidfile);
		d->pid = 0;
	}
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		if (!reap_within(d->pid, STOP_GRACE)) {
			kill(d->pid, SIGKILL);
			reap_within(d->pid, 5000);
		}
		unlink(d->pidfile);
		log_info("dns", "dnsmasq %d stopped", (int)d->pid);
	}
	if (d->hosts) {
		unlink(d->hosts);
		rmdir(d->run);
	}
	free(d->dir);
	free(d->run);
	free(d->hosts);
	free(d->pidfile);
	free(d->logfile);
	free(d);
}

/* ---- what a pod is given ---- */

char *dns_service_fqdn(const char *svc, const char *ns)
{
	return xasprintf("%s.%s.svc." DNS_DOMAIN, svc, ns);
}

char *dns_resolv_conf(const char *ns, const char *dns_ip)
{
	return xasprintf("nameserver %s\n"
			 "search %s.svc." DNS_DOMAIN " svc." DNS_DOMAIN " " DNS_DOMAIN "\n"
			 "options ndots:5\n",
			 dns_ip, ns);
}

char *dns_hosts_file(const char *pod_ip, const char *hostname)
{
	struct buf b = {0};
	buf_puts(&b, "# Kubernetes-managed hosts file (clusterfs).\n"
		     "127.0.0.1\tlocalhost\n"
		     "::1\tlocalhost ip6-localhost ip6-loopback\n"
		     "fe00::0\tip6-localnet\n"
		     "fe00::0\tip6-mcastprefix\n"
		     "fe00::1\tip6-allnodes\n"
		     "fe00::2\tip6-allrouters\n");
	if (pod_ip && *pod_ip)
		buf_printf(&b, "%s\t%s\n", pod_ip, hostname);
	return buf_steal(&b, NULL);
}

/* NAME upper-cased, '-' made '_', as Kubernetes does. */
static char *env_name(const char *s)
{
	char *n = xstrdup(s);
	for (char *p = n; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return n;
}

static void env_add(char ***v, size_t *n, char *kv)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = kv;
	(*v)[*n] = NULL;
}

char **svc_env(const json_t *const *services, size_t n)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = obj_str(services[i], "metadata.name");
		const char *ip = obj_str(services[i], "spec.clusterIP");
		const json_t *ports = obj_at(services[i], "spec.ports");
		if (!name || !ip || !*ip || !strcmp(ip, "None") || !json_array_size(ports))
			continue;
		_cleanup_free_ char *svc = env_name(name);
		int first = (int)json_integer_value(obj_at(json_array_get(ports, 0), "port"));

		env_add(&v, &len, xasprintf("%s_SERVICE_HOST=%s", svc, ip));
		env_add(&v, &len, xasprintf("%s_SERVICE_PORT=%d", svc, first));
		size_t j;
		json_t *p;
		json_array_foreach(ports, j, p)
		{
			const char *pname = obj_str(p, "name");
			if (pname && *pname) {
				_cleanup_free_ char *pn = env_name(pname);
				env_add(
				    &v, &len,
				    xasprintf("%s_SERVICE_PORT_%s=%d", svc, pn,
					      (int)json_integer_value(json_object_get(p, "port"))));
			}
		}
		/* Docker links: the first port as NAME_PORT, then each port */
		json_array_foreach(ports, j, p)
		{
			int port = (int)json_integer_value(json_object_get(p, "port"));
			const char *proto = obj_str(p, "protocol") ? obj_str(p, "protocol") : "TCP";
			_cleanup_free_ char *up = env_name(proto), *low = xstrdup(proto);
			for (char *c = low; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			_cleanup_free_ char *pre = xasprintf("%s_PORT_%d_%s", svc, port, up);
			if (j == 0)
				env_add(&v, &len,
					xasprintf("%s_PORT=%s://%s:%d", svc, low, ip, port));
			env_add(&v, &len, xasprintf("%s=%s://%s:%d", pre, low, ip, port));
			env_add(&v, &len, xasprintf("%s_PROTO=%s", pre, low));
			env_add(&v, &len, xasprintf("%s_PORT=%d", pre, port));
			env_add(&v, &len, xasprintf("%s_ADDR=%s", pre, ip));
		}
	}
	return v;
}

void svc_env_free(char **env)
{
	for (char **p = env; p && *p; p++)
		free(*p);
	free(env);
}

int dns_reset(const char *data_dir)
{
	_cleanup_free_ char *dir = xasprintf("%s/dns", data_dir);
	_cleanup_free_ char *pidfile = xasprintf("%s/dnsmasq.pid", dir);
	kill_stale(pidfile);
	struct stat st;
	if (stat(dir, &st) == 0) { /* the hosts file dnsmasq read, in /run */
		_cleanup_free_ char *run =
		    xasprintf("%s/dns-%llx-%llx", DNS_RUN_DIR, (unsigned long long)st.st_dev,
			      (unsigned long long)st.st_ino);
		_cleanup_free_ char *h = xasprintf("%s/hosts", run), *t = xasprintf("%s.tmp", h);
		unlink(h), unlink(t);
		rmdir(run);
	}
	static const char *const files[] = {"hosts", "hosts.tmp", "dnsmasq.pid", "dnsmasq.log"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
