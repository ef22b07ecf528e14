/*
 * apic_http.c - the API client over HTTP(S) with libcurl (apic.h): the
 * Kubernetes-shaped API of http/ (docs/http-api.md), a bearer token, the
 * server verified against a CA file.  Easy handles are pooled, so that
 * each keeps its connection open for the next request.  Watches are in
 * apic_http_watch.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/clock.h"
#include "engine/client/apic_http_int.h"
#include "engine/log.h"
#include "engine/obj.h"

struct http_event {
	struct http_event *next;
	char *key, *ns, *ts;
	json_t *ev;
};

static struct apic_http *hc(struct apic *c)
{
	return (struct apic_http *)c;
}

/* ---- requests ---- */

void apic_http_setup(struct apic_http *c, CURL *h, const char *url)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(c->timeout_ms < 5000 ? c->timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
}

void apic_http_reached(struct apic_http *c, bool ok, const char *why)
{
	pthread_mutex_lock(&c->lock);
	bool was = c->down;
	c->down = !ok;
	pthread_mutex_unlock(&c->lock);
	if (!ok && !was)
		log_warn("apic", "%s: server unreachable (%s); retrying", c->names, why);
	else if (ok && was)
		log_info("apic", "%s: server reachable again", c->names);
}

char *apic_http_current(struct apic_http *c, size_t *idx)
{
	pthread_mutex_lock(&c->lock);
	size_t i = c->cur;
	char *s = xstrdup(c->servers[i]);
	pthread_mutex_unlock(&c->lock);
	if (idx)
		*idx = i;
	return s;
}

bool apic_http_failover(struct apic_http *c, size_t idx, const char *why)
{
	if (c->nservers < 2)
		return false;
	pthread_mutex_lock(&c->lock);
	bool moved = c->cur == idx;
	if (moved)
		c->cur = (idx + 1) % c->nservers;
	size_t to = c->cur;
	pthread_mutex_unlock(&c->lock);
	if (moved)
		log_warn("apic", "%s did not answer (%s): trying %s", c->servers[idx], why,
			 c->servers[to]);
	return true;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	buf_add(arg, p, size * n);
	return size * n;
}

/* One try of apic_http_do on server base: CURLE_OK with *a, or the
 * failure with why. */
static CURLcode do_once(struct apic_http *c, const char *base, const char *method, const char *path,
			const char *ctype, const json_t *body, struct http_answer *a,
			char why[CURL_ERROR_SIZE])
{
	*a = (struct http_answer){0};
	CURL *h = curlpool_take(&c->pool);
	_cleanup_free_ char *url = xasprintf("%s%s", base, path);
	_cleanup_free_ char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *ct = xasprintf("Content-Type: %s", ctype ? ctype : "application/json");
	struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");
	if (c->auth)
		hd = curl_slist_append(hd, c->auth);
	if (data)
		hd = curl_slist_append(hd, ct);
	struct buf out = {0};
	char ebuf[CURL_ERROR_SIZE] = "";
	apic_http_setup(c, h, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	if (data) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->code);
	curl_slist_free_all(hd);
	curlpool_give(&c->pool, h);
	if (rc != CURLE_OK)
		snprintf(why, CURL_ERROR_SIZE, "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
	else if (out.len)
		a->body = json_loadb(out.s, out.len, 0, NULL);
	buf_free(&out);
	return rc;
}

/* Each server in turn, from the current one, until one answers. */
int apic_http_do(struct apic_http *c, const char *method, const char *path, const char *ctype,
		 const json_t *body, struct http_answer *a, struct err **e)
{
	char why[CURL_ERROR_SIZE] = "";
	for (size_t t = 0; t < c->nservers; t++) {
		size_t idx;
		_cleanup_free_ char *base = apic_http_current(c, &idx);
		CURLcode rc = do_once(c, base, method, path, ctype, body, a, why);
		if (rc == CURLE_OK) {
			apic_http_reached(c, true, NULL);
			return 0;
		}
		if (rc == CURLE_OUT_OF_MEMORY || !apic_http_failover(c, idx, why))
			break;
	}
	apic_http_reached(c, false, why);
	return err_make(e, ENOTCONN, "%s %s: %s", method, path, why);
}

int apic_http_errno(const struct http_answer *a, const char *what, struct err **e)
{
	if (a->code >= 200 && a->code < 300)
		return 0;
	const char *reason = obj_str(a->body, "reason");
	const char *msg = obj_str(a->body, "message");
	int err;
	switch (a->code) {
	case 400:
	case 422:
		err = EINVAL;
		break;
	case 401:
		err = EACCES;
		break;
	case 403:
		err = EPERM;
		break;
	case 404:
		err = ENOENT;
		break;
	case 409:
		err = reason && !strcmp(reason, "AlreadyExists") ? EEXIST : EBUSY;
		break;
	case 410:
		err = ERANGE;
		break;
	case 413:
		err = EFBIG;
		break;
	default:
		err = a->code >= 500 || a->code == 429 ? EAGAIN : EIO;
	}
	return err_make(e, err, "%s: %ld %s", what, a->code, msg ? msg : (reason ? reason : ""));
}

char *apic_http_path(const struct kind_info *k, const char *ns, const char *name, const char *sub)
{
	struct buf b = {0};
	buf_printf(&b, "%s/%s", strchr(k->api_version, '/') ? "/apis" : "/api", k->api_version);
	if (k->namespaced && ns && *ns)
		buf_printf(&b, "/namespaces/%s", ns);
	buf_printf(&b, "/%s", k->plural);
	if (name)
		buf_printf(&b, "/%s", name);
	if (sub)
		buf_printf(&b, "/%s", sub);
	return buf_steal(&b, NULL);
}

struct sobj *apic_http_sobj(const struct kind_info *k, json_t *obj)
{
	if (!obj_str(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(k->kind));
	if (!obj_str(obj, "apiVersion"))
		json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	const char *rvs = obj_str(obj, "metadata.resourceVersion");
	int64_t rv = rvs ? strtoll(rvs, NULL, 10) : 0;
	const char *ns = k->namespaced ? obj_str(obj, "metadata.namespace") : NULL;
	const char *name = obj_str(obj, "metadata.name");
	return sobj_new(k->kind, ns ? ns : "", name ? name : "", obj, rv, rv, 0);
}

int apic_http_rev(struct apic_http *c, int64_t *rev, struct err **e)
{
	struct http_answer a;
	int r =
	    apic_http_do(c, "GET", "/api/v1/namespaces?labelSelector=clusterfs.io%2Fnone%3Dnone",
			 NULL, NULL, &a, e);
	if (r == 0 && (r = apic_http_errno(&a, "reading the revision", e)) == 0) {
		const char *rvs = obj_str(a.body, "metadata.resourceVersion");
		*rev = rvs ? strtoll(rvs, NULL, 10) : 0;
		if (!rvs)
			r = err_make(e, EPROTO, "reading the revision: no resourceVersion");
	}
	json_decref(a.body);
	return r;
}

/* ---- reading ---- */

static const char *h_name(const struct apic *c)
{
	return ((const struct apic_http *)c)->names;
}

static int h_get(struct apic *ac, const struct kind_info *k, const char *ns, const char *name,
		 struct sobj **out, struct err **e)
{
	_cleanup_free_ char *path = apic_http_path(k, ns, name, NULL);
	struct http_answer a;
	int r = apic_http_do(hc(ac), "GET", path, NULL, NULL, &a, e);
	if (r == 0 && (r = apic_http_errno(&a, path, e)) == 0) {
		if (!json_is_object(a.body))
			r = err_make(e, EPROTO, "GET %s: not a JSON object", path);
		else
			*out = apic_http_sobj(k, json_incref(a.body));
	}
	json_decref(a.body);
	return r;
}

static void add_query(CURL *h, struct buf *b, const char *key, const char *v)
{
	if (!v || !*v)
		return;
	char *x = curl_easy_escape(h, v, 0);
	buf_printf(b, "%s%s=%s", strchr(b->s, '?') ? "&" : "?", key, x ? x : "");
	curl_free(x);
}

static int h_list(struct apic *ac, const struct kind_info *k, const struct apic_sel *sel,
		  struct sobj ***out, struct err **e)
{
	struct buf path = {0};
	char *base = apic_http_path(k, sel->ns, NULL, NULL);
	buf_puts(&path, base);
	free(base);
	CURL *h = curl_easy_init();
	add_query(h, &path, "labelSelector", sel->labels);
	add_query(h, &path, "fieldSelector", sel->fields);
	curl_easy_cleanup(h);
	struct http_answer a;
	int r = apic_http_do(hc(ac), "GET", path.s, NULL, NULL, &a, e);
	if (r == 0)
		r = apic_http_errno(&a, path.s, e);
	json_t *items = json_object_get(a.body, "items");
	if (r == 0 && !json_is_array(items))
		r = err_make(e, EPROTO, "GET %s: no items", path.s);
	if (r == 0) {
		size_t n = json_array_size(items), i;
		json_t *it;
		*out = xcalloc(n + 1, sizeof(**out));
		json_array_foreach(items, i, it)(*out)[i] = apic_http_sobj(k, json_incref(it));
		r = (int)n;
	}
	json_decref(a.body);
	buf_free(&path);
	return r;
}

/* ---- writing ---- */

static int put_status(struct apic_http *c, const struct kind_info *k, const char *ns,
		      const char *name, const json_t *status, struct err **e)
{
	_cleanup_free_ char *path = apic_http_path(k, ns, name, "status");
	json_t *body = json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", k->kind, "apiVersion",
				 k->api_version, "metadata", "name", name, "status", status);
	if (k->namespaced && ns)
		json_object_set_new(json_object_get(body, "metadata"), "namespace",
				    json_string(ns));
	struct http_answer a;
	int r = apic_http_do(c, "PUT", path, NULL, body, &a, e);
	if (r == 0)
		r = apic_http_errno(&a, path, e);
	json_decref(a.body);
	json_decref(body);
	return r;
}

/* One object created; its status (which a create drops) put after. */
static int create_one(struct apic_http *c, json_t *obj)
{
	const struct kind_info *k = kind_by_kind(obj_str(obj, "kind") ?: "");
	if (!k)
		return -EINVAL;
	const char *ns = k->namespaced ? obj_str(obj, "metadata.namespace") : NULL;
	_cleanup_free_ char *path = apic_http_path(k, ns ? ns : "default", NULL, NULL);
	struct http_answer a;
	struct err *e = NULL;
	int r = apic_http_do(c, "POST", path, NULL, obj, &a, &e);
	if (r == 0)
		r = apic_http_errno(&a, path, &e);
	json_t *st = json_object_get(obj, "status");
	if (r == 0 && json_is_object(st) && json_object_size(st) &&
	    !json_equal(st, json_object_get(a.body, "status")))
		r = put_status(c, k, ns, obj_str(a.body, "metadata.name"), st, &e);
	if (r < 0 && r != -EEXIST && r != -ENOTCONN)
		log_warn("apic", "%s", e->msg);
	err_free(e);
	json_decref(a.body);
	return r;
}

/* Counts the items that succeeded; -ENOTCONN when none was answered. */
static int batch_result(const int *res, size_t n)
{
	int ok = 0, unanswered = 0;
	for (size_t i = 0; i < n; i++) {
		ok += res[i] == 0;
		unanswered += res[i] == -ENOTCONN;
	}
	return n && (size_t)unanswered == n ? -ENOTCONN : ok;
}

static int h_create_many(struct apic *ac, json_t *const *objs, size_t n, int *results)
{
	int *res = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++)
		res[i] = create_one(hc(ac), objs[i]);
	int r = batch_result(res, n);
	if (results)
		memcpy(results, res, n * sizeof(int));
	free(res);
	return r;
}

static int h_patch(struct apic *ac, const struct kind_info *k, const char *ns, const char *name,
		   api_mutate_fn mutate, void *arg, struct err **e)
{
	struct apic_http *c = hc(ac);
	_cleanup_free_ char *path = apic_http_path(k, ns, name, NULL);
	for (int attempt = 0;; attempt++) {
		struct sobj *o = NULL;
		int r = h_get(ac, k, ns, name, &o, e);
		if (r < 0)
			return r;
		json_t *copy = json_deep_copy(o->obj);
		r = mutate(copy, arg, e);
		if (r >= 0 && !json_equal(copy, o->obj)) {
			struct http_answer a;
			r = apic_http_do(c, "PUT", path, NULL, copy, &a, e);
			if (r == 0)
				r = apic_http_errno(&a, path, e);
			if (r == 0)
				r = 1;
			json_decref(a.body);
		} else if (r > 0) {
			r = 0;
		}
		json_decref(copy);
		sobj_unref(o);
		if (r != -EBUSY || attempt + 1 >= APIC_PATCH_RETRIES)
			return r;
		if (e)
			err_free(STEAL_POINTER(e));
	}
}

static int h_update_status(struct apic *ac, const struct kind_info *k, const char *ns,
			   const char *name, const json_t *status, struct err **e)
{
	int r = put_status(hc(ac), k, ns, name, status, e);
	return r < 0 ? r : 1;
}

/* With a uid: a JSON patch that names the uid the caller had, so that a
 * successor of the same name is refused (409, as the API's -ESTALE). */
static int status_one(struct apic_http *c, const struct api_status *s)
{
	struct err *e = NULL;
	int r;
	if (!s->uid) {
		r = put_status(c, s->k, s->ns, s->name, s->status, &e);
	} else {
		_cleanup_free_ char *path = apic_http_path(s->k, s->ns, s->name, "status");
		json_t *p = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:O}]", "op", "replace", "path",
				      "/metadata/uid", "value", s->uid, "op", "add", "path",
				      "/status", "value", s->status);
		struct http_answer a;
		r = apic_http_do(c, "PATCH", path, "application/json-patch+json", p, &a, &e);
		if (r == 0)
			r = apic_http_errno(&a, path, &e);
		if (r == -EBUSY)
			r = -ESTALE;
		json_decref(a.body);
		json_decref(p);
	}
	if (r < 0 && r != -ENOENT && r != -ESTALE && r != -ENOTCONN)
		log_warn("apic", "%s", e->msg);
	err_free(e);
	return r;
}

static int h_status_many(struct apic *ac, const struct api_status *s, size_t n, int *results)
{
	int *res = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		res[i] = status_one(hc(ac), &s[i]);
		if (s[i].give)
			json_decref((json_t *)s[i].status);
	}
	int r = batch_result(res, n);
	if (results)
		memcpy(results, res, n * sizeof(int));
	free(res);
	return r;
}

static int delete_one(struct apic_http *c, const struct api_ref *ref, int grace)
{
	struct buf path = {0};
	char *base = apic_http_path(ref->k, ref->ns, ref->name, NULL);
	buf_puts(&path, base);
	free(base);
	if (grace >= 0)
		buf_printf(&path, "?gracePeriodSeconds=%d", grace);
	json_t *body = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
	if (ref->uid)
		json_object_set_new(body, "preconditions", json_pack("{s:s}", "uid", ref->uid));
	struct http_answer a;
	struct err *e = NULL;
	int r = apic_http_do(c, "DELETE", path.s, NULL, body, &a, &e);
	if (r == 0)
		r = apic_http_errno(&a, path.s, &e);
	if (r == -EBUSY && ref->uid)
		r = -ESTALE;
	if (r < 0 && r != -ENOENT && r != -ESTALE && r != -ENOTCONN)
		log_warn("apic", "%s", e->msg);
	err_free(e);
	json_decref(a.body);
	json_decref(body);
	buf_free(&path);
	return r;
}

static int h_delete_many(struct apic *ac, const struct api_ref *r, size_t n, int grace,
			 int *results)
{
	int *res = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++)
		res[i] = delete_one(hc(ac), &r[i], grace);
	int ret = batch_result(res, n);
	if (results)
		memcpy(results, res, n * sizeof(int));
	free(res);
	return ret;
}

/* ---- events: queued, sent by one thread ---- */

static void event_free(struct http_event *p)
{
	free(p->key);
	free(p->ns);
	free(p->ts);
	json_decref(p->ev);
	free(p);
}

static void h_event(struct apic *ac, const char *type, const char *reason, const char *kind,
		    const char *ns, const char *name, const char *msg)
{
	struct apic_http *c = hc(ac);
	const char *evns = ns && *ns ? ns : "default";
	char ts[32];
	api_timestamp(ts);
	char *evname = xasprintf("%.200s.%llx", name, (unsigned long long)wall_ns());
	struct http_event *p = xcalloc(1, sizeof(*p));
	p->ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:i, s:s, s:s, "
			  "s:{s:s}}",
			  "apiVersion", "v1", "kind", "Event", "metadata", "name", evname,
			  "namespace", evns, "involvedObject", "kind", kind, "name", name, "reason",
			  reason, "message", msg, "type", type, "count", 1, "firstTimestamp", ts,
			  "lastTimestamp", ts, "source", "component", "clusterfs");
	if (ns && *ns)
		json_object_set_new(json_object_get(p->ev, "involvedObject"), "namespace",
				    json_string(ns));
	p->key = xasprintf("%s/%s/%s/%s/%s/%s", kind, evns, name, type, reason, msg);
	p->ns = xstrdup(evns);
	p->ts = xstrdup(ts);
	free(evname);
	pthread_mutex_lock(&c->lock);
	bool drop = c->ev_len >= APIC_EV_QUEUE_MAX || c->ev_stop || !c->ev_on;
	if (!drop) {
		*c->ev_tail = p;
		c->ev_tail = &p->next;
		c->ev_len++;
		pthread_cond_signal(&c->ev_cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (drop) {
		log_debug("apic", "event dropped: %s %s/%s: %s", reason, kind, name, msg);
		event_free(p);
	}
}

/* A repeat bumps the earlier event (merge patch of count and
 * lastTimestamp); else, or if it is gone, a new one is posted. */
static void send_event(struct apic_http *c, struct http_event *p)
{
	struct http_answer a = {0};
	const char *prior = hmap_get(&c->ev_seen, p->key);
	if (prior) {
		char name[256];
		long long count = 1;
		if (sscanf(prior, "%255s %lld", name, &count) == 2) {
			_cleanup_free_ char *path = apic_http_path(KIND_EVENT, p->ns, name, NULL);
			json_t *m = json_pack("{s:I, s:s}", "count", (json_int_t)(count + 1),
					      "lastTimestamp", p->ts);
			if (apic_http_do(c, "PATCH", path, "application/merge-patch+json", m, &a,
					 NULL) == 0 &&
			    a.code == 200) {
				free(hmap_set(&c->ev_seen, p->key,
					      xasprintf("%s %lld", name, count + 1)));
				json_decref(m);
				json_decref(a.body);
				return;
			}
			json_decref(m);
			json_decref(a.body);
			if (a.code != 404)
				return; /* not answered: best effort */
		}
	}
	_cleanup_free_ char *path = apic_http_path(KIND_EVENT, p->ns, NULL, NULL);
	if (apic_http_do(c, "POST", path, NULL, p->ev, &a, NULL) == 0 && a.code == 201) {
		if (hmap_len(&c->ev_seen) >= APIC_EV_SEEN_MAX)
			hmap_clear(&c->ev_seen, free);
		free(hmap_set(&c->ev_seen, p->key,
			      xasprintf("%s 1", obj_str(p->ev, "metadata.name"))));
	}
	json_decref(a.body);
}

static void *event_main(void *arg)
{
	struct apic_http *c = arg;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->ev_head && !c->ev_stop)
			pthread_cond_wait(&c->ev_cond, &c->lock);
		struct http_event *p = c->ev_head;
		if (!p)
			break;
		c->ev_head = p->next;
		if (!c->ev_head)
			c->ev_tail = &c->ev_head;
		c->ev_len--;
		bool stop = c->ev_stop;
		pthread_mutex_unlock(&c->lock);
		if (!stop)
			send_event(c, p);
		event_free(p);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- exec (not over HTTP yet) ---- */

static int h_exec_register(struct apic *ac, const char *node, const struct api_exec_provider *p,
			   void *arg, struct err **e)
{
	return err_make(e, ENOTSUP,
			"node %s: exec, logs and port-forward of its pods through the server are "
			"not supported for a remote agent yet",
			node);
}

static void h_exec_unregister(struct apic *ac, const char *node)
{
}

/* ---- metrics ---- */

static int h_metrics_report(struct apic *ac, const char *node, const json_t *report, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/apis/metrics.k8s.io/v1beta1/nodes/%s/report", node);
	struct http_answer a;
	int r = apic_http_do(hc(ac), "POST", path, NULL, report, &a, e);
	if (r == 0)
		r = apic_http_errno(&a, path, e);
	json_decref(a.body);
	return r;
}

/* ---- lifecycle ---- */

static void h_free(struct apic *ac)
{
	struct apic_http *c = hc(ac);
	if (c->ev_on) {
		pthread_mutex_lock(&c->lock);
		c->ev_stop = true;
		pthread_cond_broadcast(&c->ev_cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->ev_thread, NULL);
	}
	hmap_clear(&c->ev_seen, free);
	curlpool_free(&c->pool);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->ev_cond);
	for (size_t i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->servers);
	free(c->names);
	free(c->ca_file);
	free(c->auth);
	free(c);
}

static const struct apic_ops http_ops = {
    .name = h_name,
    .free = h_free,
    .get = h_get,
    .list = h_list,
    .create_many = h_create_many,
    .patch = h_patch,
    .update_status = h_update_status,
    .status_many = h_status_many,
    .delete_many = h_delete_many,
    .event = h_event,
    .watch_open = apic_http_watch_open,
    .exec_register = h_exec_register,
    .exec_unregister = h_exec_unregister,
    .metrics_report = h_metrics_report,
};

int apic_http_split(const char *list, char ***out, size_t *n, struct err **e)
{
	*out = NULL;
	*n = 0;
	const char *p = list ? list : "";
	do {
		size_t len = strcspn(p, ",");
		char *u = xstrndup(p, len);
		while (len && u[len - 1] == '/')
			u[--len] = 0;
		if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)) {
			int r =
			    err_make(e, EINVAL, "server \"%s\": want https://HOST:PORT[,...]", u);
			free(u);
			for (size_t i = 0; i < *n; i++)
				free((*out)[i]);
			free(*out);
			*out = NULL;
			*n = 0;
			return r;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = u;
		p += strcspn(p, ",");
	} while (*p++ == ',');
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int apic_http_new(const struct apic_http_opts *o, struct apic **out, struct err **e)
{
	char **urls = NULL;
	size_t nurls = 0;
	if (apic_http_split(o->server, &urls, &nurls, e) < 0)
		return -EINVAL;
	pthread_once(&curl_once, curl_init);
	struct apic_http *c = xcalloc(1, sizeof(*c));
	c->base.ops = &http_ops;
	c->names = xstrdup(o->server);
	c->servers = urls;
	c->nservers = nurls;
	c->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	c->auth = o->token ? xasprintf("Authorization: Bearer %s", o->token) : NULL;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 15000;
	pthread_mutex_init(&c->lock, NULL);
	curlpool_init(&c->pool, APIC_POOL_MAX);
	pthread_cond_init(&c->ev_cond, NULL);
	c->ev_tail = &c->ev_head;
	int r = pthread_create(&c->ev_thread, NULL, event_main, c);
	if (r) {
		h_free(&c->base);
		return err_make(e, r, "apic: event thread: %s", strerror(r));
	}
	c->ev_on = true;
	*out = &c->base;
	return 0;
}
