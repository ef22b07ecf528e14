/*
 * kubelet_client.c - see kubelet_client.h.  One curl handle per reader
 * (its connection kept between requests); each request is a short GET
 * (kserver.h's protocol).
 */
#include "engine/client/kubelet_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api_exec.h"
#include "engine/client/kubelet_auth.h"
#include "engine/client/kubelet_client_int.h"
#include "engine/clock.h"
#include "engine/kind.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/sobj.h"

#define NODES_MAX     256
#define TIMES_SPAN    (1024 * 1024)
#define STAT_FRESH_MS 100

struct kubelet_client {
	struct api *api;
	struct kubelet_signer *signer;
	pthread_t th;
	atomic_bool stop;
	struct rnode *nodes[NODES_MAX]; /* registered by us */
};

char *kubelet_client_auth(struct rnode *rn)
{
	return kubelet_auth_sign(rn->kc->signer, rn->node, time(NULL));
}

/* A remote log reader. */
struct rec {
	off_t off;
	int64_t ns;
	int stream;
};

struct rlog {
	struct kubelet_client *kc;
	CURL *c;
	char node[254], pin[128];
	char *url;     /* .../podlog/UID/CTR?role=R */
	bool borrowed; /* c is the node's stat_c */
	off_t size;
	int attempt;
	int64_t mtime, since, last_ms;
	struct rec *recs; /* line times of [lo, hi) */
	size_t nrecs;
	off_t lo, hi;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	buf_add(arg, p, sz * n);
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct rlog *rl = arg;
	long long v;
	if (sscanf(p, "X-Size: %lld", &v) == 1)
		rl->size = (off_t)v;
	else if (sscanf(p, "X-Attempt: %lld", &v) == 1)
		rl->attempt = (int)v;
	else if (sscanf(p, "X-Mtime: %lld", &v) == 1)
		rl->mtime = v;
	else if (sscanf(p, "X-Since: %lld", &v) == 1)
		rl->since = v;
	return sz * n;
}

/* GET url&query into body: 0, or -EIO / -EACCES. */
static int rl_get(struct rlog *rl, const char *query, struct buf *body)
{
	char *url = xasprintf("%s&%s", rl->url, query);
	char *tok = kubelet_auth_sign(rl->kc->signer, rl->node, time(NULL));
	char *hdr = xasprintf("Authorization: %s", tok ? tok : "");
	struct curl_slist *h = curl_slist_append(NULL, hdr);
	curl_easy_setopt(rl->c, CURLOPT_URL, url);
	curl_easy_setopt(rl->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(rl->c, CURLOPT_WRITEDATA, body);
	CURLcode cr = curl_easy_perform(rl->c);
	long code = 0;
	curl_easy_getinfo(rl->c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	free(hdr);
	free(tok);
	free(url);
	if (cr != CURLE_OK || code != 200) {
		log_warn("kubelet", "node %s: %s", rl->node,
			 cr != CURLE_OK ? curl_easy_strerror(cr) : "refused");
		return code == 401 ? -EACCES : -EIO;
	}
	rl->last_ms = mono_ms();
	return 0;
}

static int rl_stat(struct rlog *rl)
{
	struct buf b = {0};
	int r = rl_get(rl, "op=stat", &b);
	buf_free(&b);
	return r;
}

static ssize_t rl_read(void *arg, off_t off, char *out, size_t n)
{
	struct rlog *rl = arg;
	struct buf b = {0};
	char q[96];
	snprintf(q, sizeof(q), "op=read&off=%lld&n=%zu", (long long)off, n);
	int r = rl_get(rl, q, &b);
	size_t len = r == 0 ? (b.len < n ? b.len : n) : 0;
	if (len)
		memcpy(out, b.s, len);
	buf_free(&b);
	return r < 0 ? r : (ssize_t)len;
}

static off_t rl_size(void *arg)
{
	struct rlog *rl = arg;
	if (mono_ms() - rl->last_ms > STAT_FRESH_MS)
		rl_stat(rl);
	return rl->size;
}

/* Loads the times of the lines in [off, off + TIMES_SPAN). */
static void rl_load_times(struct rlog *rl, off_t off)
{
	struct buf b = {0};
	char q[96];
	snprintf(q, sizeof(q), "op=times&off=%lld&n=%d", (long long)off, TIMES_SPAN);
	rl->nrecs = 0;
	rl->lo = rl->hi = 0;
	if (rl_get(rl, q, &b) == 0 && b.len) {
		buf_add(&b, "", 1);
		size_t cap = 0;
		for (char *p = b.s, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
			long long o, t;
			int st;
			if (sscanf(p, "%lld %lld %d", &o, &t, &st) != 3)
				break;
			if (rl->nrecs == cap) {
				cap = cap ? cap * 2 : 256;
				rl->recs = xrealloc(rl->recs, cap * sizeof(*rl->recs));
			}
			rl->recs[rl->nrecs++] = (struct rec){(off_t)o, t, st};
		}
		rl->lo = off;
		rl->hi = off + TIMES_SPAN;
	}
	buf_free(&b);
}

static int64_t rl_line_time(void *arg, off_t off, int *stream)
{
	struct rlog *rl = arg;
	if (!rl->nrecs || off < rl->lo || off >= rl->hi)
		rl_load_times(rl, off);
	size_t lo = 0, hi = rl->nrecs; /* the last record at or before off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rl->recs[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return rl->mtime > 0 ? rl->mtime : 0;
	if (stream)
		*stream = rl->recs[lo - 1].stream;
	return rl->recs[lo - 1].ns;
}

static off_t rl_since(void *arg, int64_t ns)
{
	struct rlog *rl = arg;
	struct buf b = {0};
	char q[96];
	snprintf(q, sizeof(q), "op=since&ns=%" PRId64, ns);
	rl->since = 0;
	int r = rl_get(rl, q, &b);
	buf_free(&b);
	return r == 0 ? (off_t)rl->since : rl->size;
}

static int rl_attempt(void *arg)
{
	return ((struct rlog *)arg)->attempt;
}

static void rl_free(void *arg)
{
	struct rlog *rl = arg;
	if (!rl->borrowed)
		curl_easy_cleanup(rl->c);
	free(rl->recs);
	free(rl->url);
	free(rl);
}

static const struct podlog_ops rlog_ops = {rl_read,  rl_size,	 rl_line_time,
					   rl_since, rl_attempt, rl_free};

/* A reader; with its own curl handle, or borrow's (kept by the caller). */
static struct rlog *rl_new(struct rnode *rn, const char *uid, const char *ctr,
			   enum podlog_role role, CURL *borrow)
{
	struct rlog *rl = xcalloc(1, sizeof(*rl));
	rl->kc = rn->kc;
	snprintf(rl->node, sizeof(rl->node), "%s", rn->node);
	snprintf(rl->pin, sizeof(rl->pin), "%s", rn->pin);
	rl->url = xasprintf("%s/podlog/%s/%s?role=%s", rn->base, uid, ctr,
			    role == PODLOG_PREVIOUS ? "previous" : "current");
	rl->attempt = -1;
	rl->borrowed = borrow != NULL;
	rl->c = borrow ? borrow : curl_easy_init();
	curl_easy_setopt(rl->c, CURLOPT_NOSIGNAL, 1L);
	/* The agent's certificate is self-signed: its key is what we trust. */
	curl_easy_setopt(rl->c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(rl->c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(rl->c, CURLOPT_PINNEDPUBLICKEY, rl->pin);
	curl_easy_setopt(rl->c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(rl->c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(rl->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(rl->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(rl->c, CURLOPT_HEADERDATA, rl);
	return rl;
}

static struct podlog *log_open(void *arg, const char *uid, const char *ctr, enum podlog_role role)
{
	struct rlog *rl = rl_new(arg, uid, ctr, role, NULL);
	rl_stat(rl);
	return podlog_custom(&rlog_ops, rl, role);
}

static int log_stat(void *arg, const char *uid, const char *ctr, enum podlog_role role,
		    struct stat *st)
{
	struct rnode *rn = arg;
	pthread_mutex_lock(&rn->lock);
	if (!rn->stat_c)
		rn->stat_c = curl_easy_init();
	struct rlog *rl = rl_new(rn, uid, ctr, role, rn->stat_c);
	int r = rl_stat(rl);
	if (r == 0 && rl->attempt < 0)
		r = -ENOENT;
	if (r == 0) {
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFREG | 0444;
		st->st_size = rl->size;
		st->st_mtim.tv_sec = (time_t)(rl->mtime / 1000000000);
		st->st_mtim.tv_nsec = (long)(rl->mtime % 1000000000);
	}
	rl_free(rl);
	pthread_mutex_unlock(&rn->lock);
	return r;
}

static const struct api_exec_provider remote_provider = {.exec = kubelet_remote_exec,
							 .portforward = kubelet_remote_portforward,
							 .log_open = log_open,
							 .log_stat = log_stat};

/* Watcher */

/* Where node's agent serves, from its Node: false when it says nothing. */
static bool endpoint_of(const json_t *node, char base[128], char pin[128])
{
	const json_t *an = obj_at(node, "metadata.annotations");
	const char *p = json_string_value(json_object_get(an, KUBELET_PIN_ANNOTATION));
	const char *port = json_string_value(json_object_get(an, KUBELET_PORT_ANNOTATION));
	const char *ip = NULL;
	size_t i;
	json_t *a;
	json_array_foreach(obj_at(node, "status.addresses"), i, a)
	{
		const char *t = obj_str(a, "type");
		if (t && !strcmp(t, "InternalIP"))
			ip = obj_str(a, "address");
	}
	if (!p || !port || !ip || strlen(p) >= 128 || strchr(ip, ':'))
		return false;
	snprintf(base, 128, "https://%s:%d", ip, atoi(port));
	snprintf(pin, 128, "%s", p);
	return true;
}

static void rnode_free(struct rnode *rn)
{
	if (!rn)
		return;
	if (rn->stat_c)
		curl_easy_cleanup(rn->stat_c);
	pthread_mutex_destroy(&rn->lock);
	free(rn);
}

static int find_ours(struct kubelet_client *kc, const char *node)
{
	for (int i = 0; i < NODES_MAX; i++)
		if (kc->nodes[i] && !strcmp(kc->nodes[i]->node, node))
			return i;
	return -1;
}

/* Registers (or updates) node's remote provider when it publishes an
 * endpoint and no other provider serves it here. */
static void sync_node(struct kubelet_client *kc, const json_t *node, bool *seen)
{
	const char *name = obj_str(json_object_get(node, "metadata"), "name");
	char base[128], pin[128];
	if (!name || strlen(name) >= 254)
		return;
	if (!endpoint_of(node, base, pin))
		return;
	int i = find_ours(kc, name);
	const struct api_exec_provider *p = api_exec_provider_of(kc->api, name);
	if (p && p != &remote_provider)
		return; /* a local agent serves it */
	if (i >= 0) {
		seen[i] = true;
		if (!strcmp(kc->nodes[i]->base, base) && !strcmp(kc->nodes[i]->pin, pin))
			return;
	} else {
		for (int j = 0; j < NODES_MAX && i < 0; j++)
			if (!kc->nodes[j])
				i = j;
		if (i < 0)
			return;
		seen[i] = true;
	}
	struct rnode *rn = xcalloc(1, sizeof(*rn)), *old = kc->nodes[i];
	pthread_mutex_init(&rn->lock, NULL);
	rn->kc = kc;
	snprintf(rn->node, sizeof(rn->node), "%s", name);
	memcpy(rn->base, base, sizeof(base));
	memcpy(rn->pin, pin, sizeof(pin));
	api_exec_register(kc->api, name, &remote_provider, rn); /* waits for calls into old */
	kc->nodes[i] = rn;
	rnode_free(old);
	log_info("kubelet", "node %s: logs through its agent at %s", name, base);
}

static void *watch_main(void *arg)
{
	struct kubelet_client *kc = arg;
	while (!atomic_load(&kc->stop)) {
		struct sobj **v = NULL;
		int n = api_list(kc->api, KIND_NODE, NULL, NULL, &v, NULL);
		bool seen[NODES_MAX] = {0};
		for (int i = 0; i < n; i++)
			sync_node(kc, v[i]->obj, seen);
		if (n >= 0)
			sobj_list_free(v, (size_t)n);
		for (int i = 0; i < NODES_MAX && n >= 0; i++)
			if (kc->nodes[i] && !seen[i]) {
				api_exec_unregister(kc->api, kc->nodes[i]->node);
				rnode_free(STEAL_POINTER(&kc->nodes[i]));
			}
		for (int t = 0; t < 10 && !atomic_load(&kc->stop); t++)
			usleep(100000);
	}
	return NULL;
}

int kubelet_client_start(struct api *a, const char *ca_key_file, struct kubelet_client **out,
			 struct err **e)
{
	struct kubelet_client *kc = xcalloc(1, sizeof(*kc));
	kc->api = a;
	if (kubelet_signer_open(ca_key_file, &kc->signer, e) < 0) {
		free(kc);
		return -1;
	}
	if (pthread_create(&kc->th, NULL, watch_main, kc)) {
		kubelet_signer_free(kc->signer);
		free(kc);
		return err_make(e, EAGAIN, "kubelet client: no thread");
	}
	*out = kc;
	return 0;
}

void kubelet_client_stop(struct kubelet_client *kc)
{
	if (!kc)
		return;
	atomic_store(&kc->stop, true);
	pthread_join(kc->th, NULL);
	for (int i = 0; i < NODES_MAX; i++)
		if (kc->nodes[i]) {
			api_exec_unregister(kc->api, kc->nodes[i]->node);
			rnode_free(kc->nodes[i]);
		}
	kubelet_signer_free(kc->signer);
	free(kc);
}
