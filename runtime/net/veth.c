/*
 * veth.c - see veth.h.  host-local's address store, a few rtnetlink
 * requests, and the pod's side done from inside its namespace.
 */
#include "runtime/net/veth.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "runtime/sys.h"

#define IFNAME	   "eth0"
#define LOCK_FILE  "lock"
#define LAST_IP	   "last_reserved_ip.0"
#define NL_BUF	   2048
#define VETH_TRIES 4

/* ---- host-local's store ---- */

static uint32_t host_of(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static void ip_text(uint32_t ip, char out[INET_ADDRSTRLEN])
{
	struct in_addr a = {htonl(ip)};
	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

/* Whether a file of dirfd holds what host-local writes for id on eth0. */
static bool held_by(int dirfd, const char *name, const char *want)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return !strcmp(buf, want);
}

/* The address after the last one taken (or the first of the range). */
static uint32_t first_try(int dirfd, uint32_t lo, uint32_t hi)
{
	char buf[64] = "";
	int fd = openat(dirfd, LAST_IP, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	struct in_addr last;
	buf[strcspn(buf, " \r\n")] = 0;
	if (!*buf || inet_pton(AF_INET, buf, &last) != 1)
		return lo;
	uint32_t l = host_of(last);
	return l >= lo && l < hi ? l + 1 : lo;
}

/* Takes a free address of the range for id, as host-local does, under
 * its lock on the network's folder. */
static int ipam_take(const struct veth_conf *c, const char *id, uint32_t *out, struct err **e)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", c->ipam_dir, c->net);
	int r = mkdir_p(dir, 0755, e);
	if (r < 0)
		return r;
	/* host-local's lock: flock on the file "lock" in the folder */
	_cleanup_free_ char *lpath = xasprintf("%s/%s", dir, LOCK_FILE);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lfd = dfd < 0 ? -1 : open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (dfd < 0 || lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		r = err_make(e, errno, "ipam %s: %s", lfd < 0 && dfd >= 0 ? lpath : dir,
			     strerror(errno));
		if (lfd >= 0)
			close(lfd);
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	_cleanup_free_ char *want = xasprintf("%s\r\n%s", id, IFNAME);
	/* one address per container and interface, as host-local insists */
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	while (d && r == 0 && (de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, LAST_IP) &&
		    strcmp(de->d_name, LOCK_FILE) && held_by(dfd, de->d_name, want))
			r = err_make(e, EEXIST, "ipam: %s has an address already (%s)", id,
				     de->d_name);
	if (d)
		closedir(d);
	uint32_t net = host_of(c->subnet), mask = c->prefix ? ~0u << (32 - c->prefix) : 0;
	uint32_t lo = net + 1, hi = (net | ~mask) - 1, gw = host_of(c->gateway);
	uint32_t ip = first_try(dfd, lo, hi), n = hi >= lo ? hi - lo + 1 : 0;
	bool got = false;
	for (uint32_t i = 0; r == 0 && i < n && !got; i++, ip = ip >= hi ? lo : ip + 1) {
		char name[INET_ADDRSTRLEN];
		if (ip == gw)
			continue;
		ip_text(ip, name);
		int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0 || write(fd, want, strlen(want)) != (ssize_t)strlen(want)) {
			r = err_make(e, errno ? errno : EIO, "ipam %s/%s: %s", dir, name,
				     strerror(errno ? errno : EIO));
			if (fd >= 0)
				close(fd), unlinkat(dfd, name, 0);
			break;
		}
		close(fd);
		fd = openat(dfd, LAST_IP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, name, strlen(name)) < 0)
				log_warn("veth", "ipam %s/%s: %s", dir, LAST_IP, strerror(errno));
			close(fd);
		}
		*out = ip;
		got = true;
	}
	if (r == 0 && !got)
		r = err_make(e, ENOSPC, "ipam: no free address in %s", dir);
	close(dfd);
	close(lfd); /* and the lock */
	return r;
}

static void ipam_give_back(const struct veth_conf *c, uint32_t ip)
{
	char name[INET_ADDRSTRLEN];
	ip_text(ip, name);
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", c->ipam_dir, c->net, name);
	unlink(path);
}

/* ---- rtnetlink ---- */

struct nlreq {
	struct nlmsghdr *n;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void *nl_start(struct nlreq *q, int type, int flags, size_t hdr)
{
	memset(q->buf, 0, sizeof(q->buf));
	q->n = (struct nlmsghdr *)q->buf;
	q->n->nlmsg_len = NLMSG_LENGTH(hdr);
	q->n->nlmsg_type = (unsigned short)type;
	q->n->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	return NLMSG_DATA(q->n);
}

static struct rtattr *nl_attr(struct nlreq *q, int type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->n->nlmsg_len);
	struct rtattr *a = (struct rtattr *)(q->buf + at);
	if (at + RTA_SPACE(len) > sizeof(q->buf))
		abort(); /* the requests here are small and fixed */
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	q->n->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
	return a;
}

static void nl_str(struct nlreq *q, int type, const char *s)
{
	nl_attr(q, type, s, strlen(s) + 1);
}

static void nl_u32(struct nlreq *q, int type, uint32_t v)
{
	nl_attr(q, type, &v, sizeof(v));
}

static void nl_end(struct nlreq *q, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)(q->buf + q->n->nlmsg_len - (char *)nest);
}

/* Sends q and reads its ack: 0 or -errno. */
static int nl_talk(int fd, struct nlreq *q)
{
	static _Atomic uint32_t seq;
	q->n->nlmsg_seq = ++seq;
	if (send(fd, q->n, q->n->nlmsg_len, 0) < 0)
		return -errno;
	char ans[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (;;) {
		ssize_t n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != q->n->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void mac_random(unsigned char mac[6], char text[18])
{
	if (getrandom(mac, 6, 0) != 6)
		for (int i = 0; i < 6; i++)
			mac[i] = (unsigned char)rand();
	mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02); /* unicast, local */
	snprintf(text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* The veth pair: host on the bridge, eth0 in the namespace netns_fd. */
static int veth_make(int nl, const struct veth_conf *c, const char *host,
		     const unsigned char hmac[6], const unsigned char pmac[6], int netns_fd)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nl_start(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nl_str(&q, IFLA_IFNAME, host);
	nl_attr(&q, IFLA_ADDRESS, hmac, 6);
	if (c->mtu > 0)
		nl_u32(&q, IFLA_MTU, (uint32_t)c->mtu);
	struct rtattr *info = nl_attr(&q, IFLA_LINKINFO, NULL, 0);
	nl_str(&q, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nl_attr(&q, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *peer = nl_attr(&q, VETH_INFO_PEER, NULL, 0);
	struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};
	size_t at = NLMSG_ALIGN(q.n->nlmsg_len);
	memcpy(q.buf + at, &pi, sizeof(pi));
	q.n->nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(sizeof(pi)));
	nl_str(&q, IFLA_IFNAME, IFNAME);
	nl_attr(&q, IFLA_ADDRESS, pmac, 6);
	if (c->mtu > 0)
		nl_u32(&q, IFLA_MTU, (uint32_t)c->mtu);
	nl_u32(&q, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	nl_end(&q, peer);
	nl_end(&q, data);
	nl_end(&q, info);
	return nl_talk(nl, &q);
}

/* Link index up, with master (0: none). */
static int link_up(int nl, int index, int master)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nl_start(&q, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master)
		nl_u32(&q, IFLA_MASTER, (uint32_t)master);
	return nl_talk(nl, &q);
}

static int link_del(int nl, int index)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nl_start(&q, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return nl_talk(nl, &q);
}

static int addr_add(int nl, int index, uint32_t ip, int prefix)
{
	struct nlreq q;
	struct ifaddrmsg *ifa = nl_start(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)index;
	uint32_t a = htonl(ip);
	nl_attr(&q, IFA_LOCAL, &a, 4);
	nl_attr(&q, IFA_ADDRESS, &a, 4);
	return nl_talk(nl, &q);
}

static int route_default(int nl, int index, uint32_t gw)
{
	struct nlreq q;
	struct rtmsg *rt = nl_start(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	uint32_t g = htonl(gw);
	nl_attr(&q, RTA_GATEWAY, &g, 4);
	nl_u32(&q, RTA_OIF, (uint32_t)index);
	return nl_talk(nl, &q);
}

/* ---- the pod's side ---- */

static void sysctl_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0)
			log_debug("veth", "%s: %s", path, strerror(errno));
		close(fd);
	}
}

/* In the pod's namespace (the calling thread is there): eth0 up with its
 * address and the default route, as the plugin's ConfigureIface does. */
static int pod_side(const struct veth_conf *c, uint32_t ip, const char **step)
{
	int nl = nl_open();
	if (nl < 0)
		return *step = "netlink", nl;
	int r, index = (int)if_nametoindex(IFNAME);
	sysctl_write("/proc/sys/net/ipv4/conf/" IFNAME "/arp_notify", "1");
	if (index <= 0)
		r = -errno, *step = "eth0";
	else if ((r = addr_add(nl, index, ip, c->prefix)) < 0)
		*step = "address";
	else if ((r = link_up(nl, index, 0)) < 0)
		*step = "up";
	else if ((r = route_default(nl, index, host_of(c->gateway))) < 0)
		*step = "default route";
	close(nl);
	return r;
}

/* pod_side from inside netns_fd; back to our own namespace after. */
static int in_pod(const struct veth_conf *c, int netns_fd, uint32_t ip, const char **step)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return *step = "own namespace", -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int r = -errno;
		close(self);
		return *step = "setns", r;
	}
	int r = pod_side(c, ip, step);
	if (setns(self, CLONE_NEWNET) < 0) {
		log_error("veth", "cannot return to the node's network namespace: %s",
			  strerror(errno));
		abort();
	}
	close(self);
	return r;
}

/* ---- ADD ---- */

static json_t *result_of(const struct veth_conf *c, const char *host, const char *hmac,
			 const char *pmac, const char *netns, uint32_t ip)
{
	char a[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	ip_text(ip, a);
	ip_text(host_of(c->gateway), gw);
	_cleanup_free_ char *cidr = xasprintf("%s/%d", a, c->prefix);
	return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s, s:s}],"
			 " s:[{s:i, s:s, s:s}], s:[{s:s}], s:{}}",
			 "cniVersion", c->cni_version, "interfaces", "name", c->bridge, "mac",
			 c->bridge_mac, "name", host, "mac", hmac, "name", IFNAME, "mac", pmac,
			 "sandbox", netns, "ips", "interface", 2, "address", cidr, "gateway", gw,
			 "routes", "dst", "0.0.0.0/0", "dns");
}

/* The host end: a new random name, on the bridge, hairpin, up. */
static int host_side(int nl, const struct veth_conf *c, int nsfd, char host[IFNAMSIZ],
		     unsigned char hmac[6], unsigned char pmac[6], const char **step)
{
	int r = -EEXIST;
	for (int i = 0; i < VETH_TRIES && r == -EEXIST; i++) {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)rand();
		snprintf(host, IFNAMSIZ, "veth%08x", rnd);
		r = veth_make(nl, c, host, hmac, pmac, nsfd);
	}
	if (r < 0)
		return *step = "veth", r;
	int index = (int)if_nametoindex(host), br = (int)if_nametoindex(c->bridge);
	if (index <= 0 || br <= 0)
		return *step = index <= 0 ? "veth" : "bridge", -ENODEV;
	if ((r = link_up(nl, index, br)) < 0)
		return *step = "veth on the bridge", r;
	_cleanup_free_ char *hp = xasprintf("/sys/class/net/%s/brport/hairpin_mode", host);
	sysctl_write(hp, "1");
	return 0;
}

int veth_add(const struct veth_conf *c, const char *pod_id, const char *netns_path, json_t **result,
	     struct err **e)
{
	*result = NULL;
	uint32_t ip = 0;
	int r = ipam_take(c, pod_id, &ip, e);
	if (r < 0)
		return r;
	int nsfd = open(netns_path, O_RDONLY | O_CLOEXEC), nl = nsfd < 0 ? -1 : nl_open();
	char host[IFNAMSIZ] = "", hm[18], pm[18];
	unsigned char hmac[6], pmac[6];
	const char *step = "netns";
	mac_random(hmac, hm);
	mac_random(pmac, pm);
	if (nsfd < 0)
		r = -errno;
	else if (nl < 0)
		r = nl, step = "netlink";
	else if ((r = host_side(nl, c, nsfd, host, hmac, pmac, &step)) == 0)
		r = in_pod(c, nsfd, ip, &step);
	if (r < 0) {
		int index = *host ? (int)if_nametoindex(host) : 0;
		if (nl >= 0 && index > 0)
			link_del(nl, index); /* and its peer */
		ipam_give_back(c, ip);
		err_make(e, -r, "pod %s: eth0 in %s: %s: %s", pod_id, netns_path, step,
			 strerror(-r));
	} else {
		*result = result_of(c, host, hm, pm, netns_path, ip);
	}
	if (nl >= 0)
		close(nl);
	if (nsfd >= 0)
		close(nsfd);
	return r;
}
