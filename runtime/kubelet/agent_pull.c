/*
 * agent_pull.c - the node agent pulling its pods' images, as the kubelet's
 * image manager does (agent_int.h):
 *
 *   - imagePullPolicy (defaulted by the API: Always for ":latest" or no
 *     tag, IfNotPresent otherwise): Always pulls at each start (a digest
 *     the store already has is not downloaded again: registry.h), unless
 *     the reference is a digest the store has; IfNotPresent pulls only
 *     what the store lacks; Never waits with ErrImageNeverPull.
 *   - The pull runs in a thread of its own; the worker looks again every
 *     250 ms, the container Waiting with ContainerCreating meanwhile.
 *     Pulls of one reference by several pods are done once (registry.h).
 *     An image imported by hand is not re-pulled under Always: only the
 *     references the store records as pulled are (image_lookup).
 *   - Credentials: the pod's imagePullSecrets (kubernetes.io/dockerconfigjson
 *     or dockercfg, read through the API), then the node's, DATA_DIR/config.json (or .dockercfg),
 * the kubelet's convention for its root dir.
 *   - Events: Pulling, Pulled ("Successfully pulled image ..." or "...
 *     already present on machine"), Failed, BackOff, ErrImageNeverPull.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/b64.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/registry.h"
#include "runtime/kubelet/agent_int.h"

#define PULL_POLL_MS 250

/* One pull, shared by the container that wants it and the thread. */
struct apull {
	pthread_mutex_t lock;
	int refs;  /* lock */
	bool done; /* lock */
	int r;	   /* lock: the result, msg with it */
	char *msg;
	struct pull_info info;
	int64_t started; /* monotonic ms */
	char *ref;
	bool if_absent;		      /* IfNotPresent: look again before pulling */
	struct registry_creds *creds; /* the pod's imagePullSecrets, or NULL */
	struct agent *ag;
};

static void apull_unref(struct apull *p)
{
	pthread_mutex_lock(&p->lock);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->msg);
	free(p->ref);
	registry_creds_free(p->creds);
	free(p);
}

/* The node's credentials: DATA_DIR/config.json, else DATA_DIR/.dockercfg;
 * NULL when neither is there (or readable: logged). */
static struct registry_creds *node_creds(const char *data_dir)
{
	static const char *const names[] = {"config.json", ".dockercfg"};
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", data_dir, names[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		struct registry_creds *c = NULL;
		struct err *e = NULL;
		if (registry_creds_parse(buf, n, &c, &e) < 0) {
			log_warn("agent", "%s: %s", path, e->msg);
			err_free(e);
			continue;
		}
		return c;
	}
	return NULL;
}

/* 0 and info's digest and size when ref is in the store, else -1. */
static int stored(struct agent *ag, const char *ref, struct pull_info *info)
{
	struct image_info *ii = NULL;
	if (image_resolve(ag->images, ref, &ii, NULL) < 0)
		return -1;
	snprintf(info->digest, sizeof(info->digest), "%s", ii->digest);
	info->size = ii->size;
	image_info_free(ii);
	return 0;
}

static void *pull_thread(void *arg)
{
	struct apull *p = arg;
	struct agent *ag = p->ag;
	struct err *e = NULL;
	struct pull_info info = {0};
	int r;
	/* another pod's pull of it may have ended since the worker looked */
	if (!p->if_absent || (r = stored(ag, p->ref, &info)) < 0) {
		agent_image_gc(ag); /* room for it first, as the kubelet does */
		struct registry_creds *node = node_creds(ag->o.data_dir);
		if (p->creds && node)
			registry_creds_merge(p->creds, node); /* the pod's win */
		r = registry_pull(ag->images, p->ref, p->creds ? p->creds : node, &ag->o.reg, &info,
				  &e);
		registry_creds_free(node);
	}
	pthread_mutex_lock(&p->lock);
	p->r = r;
	p->info = info;
	p->msg = r < 0 ? xstrdup(e ? e->msg : strerror(-r)) : NULL;
	p->done = true;
	pthread_mutex_unlock(&p->lock);
	err_free(e);
	apull_unref(p);
	pthread_mutex_lock(&ag->lock);
	ag->pulls--;
	pthread_mutex_unlock(&ag->lock);
	return NULL;
}

/* Adds the docker config of Secret sec (kubernetes.io/dockerconfigjson or
 * dockercfg) to *all.  0, or -1 when it has none or it is malformed. */
static int secret_creds(const json_t *sec, struct registry_creds **all)
{
	const char *type = obj_str(sec, "type"), *key = NULL;
	if (type && !strcmp(type, "kubernetes.io/dockerconfigjson"))
		key = ".dockerconfigjson";
	else if (type && !strcmp(type, "kubernetes.io/dockercfg"))
		key = ".dockercfg";
	const char *b64 = key ? json_string_value(json_object_get(obj_at(sec, "data"), key)) : NULL;
	size_t len = 0;
	char *js = b64 ? b64_decode(b64, &len) : NULL;
	struct registry_creds *c = NULL;
	int r = js ? registry_creds_parse(js, len, &c, NULL) : -1;
	if (js) {
		explicit_bzero(js, len);
		free(js);
	}
	if (r < 0)
		return -1;
	if (*all) {
		registry_creds_merge(*all, c); /* the first Secret listed wins */
		registry_creds_free(c);
	} else {
		*all = c;
	}
	return 0;
}

/* The credentials of the pod's imagePullSecrets, NULL for none; a Secret
 * missing or unusable is named in a FailedToRetrieveImagePullSecret event
 * and the pull goes on without it, as the kubelet does. */
static struct registry_creds *pod_creds(struct agent *ag, struct apod *ap, const json_t *pod)
{
	struct registry_creds *all = NULL;
	char missing[512] = "";
	size_t i, off = 0;
	json_t *ref;
	json_array_foreach(obj_at(pod, "spec.imagePullSecrets"), i, ref)
	{
		const char *name = obj_str(ref, "name");
		struct sobj *o = NULL;
		if (!name)
			continue;
		if (apic_get(ag->c, KIND_SECRET, ap->ns, name, &o, NULL) < 0 ||
		    secret_creds(o->obj, &all) < 0)
			off += (size_t)snprintf(missing + off,
						off < sizeof(missing) ? sizeof(missing) - off : 0,
						"%s\"%s\"", off ? ", " : "", name);
		sobj_unref(o);
		if (off >= sizeof(missing))
			off = sizeof(missing) - 1;
	}
	if (*missing)
		apic_event(
		    ag->c, "Warning", "FailedToRetrieveImagePullSecret", "Pod", ap->ns, ap->name,
		    "Unable to retrieve some image pull secrets (%s); attempting to pull the "
		    "image may not succeed.",
		    missing);
	return all;
}

/* Starts the pull of image for c: 0, or -1 (thread refused: logged). */
static int pull_start(struct agent *ag, struct actr *c, const char *image, bool if_absent,
		      struct registry_creds *creds)
{
	struct apull *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->refs = 2;
	p->ref = xstrdup(image);
	p->if_absent = if_absent;
	p->creds = creds;
	p->ag = ag;
	p->started = mono_ms();
	pthread_mutex_lock(&ag->lock);
	ag->pulls++;
	pthread_mutex_unlock(&ag->lock);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &at, pull_thread, p);
	pthread_attr_destroy(&at);
	if (r) {
		log_warn("agent", "pull %s: thread: %s", image, strerror(r));
		pthread_mutex_lock(&ag->lock);
		ag->pulls--;
		pthread_mutex_unlock(&ag->lock);
		p->refs = 1;
		apull_unref(p);
		return -1;
	}
	c->pull = p;
	return 0;
}

void agent_pull_drop(struct actr *c)
{
	if (c->pull)
		apull_unref(c->pull);
	c->pull = NULL;
}

void agent_pulls_wait(struct agent *ag)
{
	for (;;) {
		pthread_mutex_lock(&ag->lock);
		int n = ag->pulls;
		pthread_mutex_unlock(&ag->lock);
		if (!n)
			return;
		usleep(50 * 1000);
	}
}

static void waiting(struct actr *c, const char *reason, const char *msg)
{
	c->st = CS_WAITING;
	free(c->reason);
	c->reason = reason ? xstrdup(reason) : NULL;
	free(c->message);
	c->message = msg ? xstrdup(msg) : NULL;
}

static void want_in(int64_t *next, int64_t ms)
{
	if (ms < 1)
		ms = 1;
	if (!*next || ms < *next)
		*next = ms;
}

/* The image pull back-off: AGENT_BACKOFF_START_MS doubling to
 * AGENT_BACKOFF_MAX_MS as the kubelet's, or, for tests only, the
 * environment's CFS_IMAGE_BACKOFF_MS="INITIAL,MAX" (milliseconds). */
static int64_t backoff_start = AGENT_BACKOFF_START_MS, backoff_max = AGENT_BACKOFF_MAX_MS;
static pthread_once_t backoff_once = PTHREAD_ONCE_INIT;

static void backoff_read(void)
{
	const char *v = getenv("CFS_IMAGE_BACKOFF_MS");
	long long a, b;
	char end;
	if (!v || !*v)
		return;
	if (sscanf(v, "%lld,%lld%c", &a, &b, &end) != 2 || a < 1 || b < a) {
		log_warn("agent",
			 "CFS_IMAGE_BACKOFF_MS=%s: not INITIAL,MAX (ms, 1 <= INITIAL <= "
			 "MAX): ignored",
			 v);
		return;
	}
	backoff_start = a;
	backoff_max = b;
	log_warn("agent",
		 "image pull back-off %lld ms doubling to %lld ms (CFS_IMAGE_BACKOFF_MS, "
		 "a testing knob)",
		 a, b);
}

void agent_pull_failed(struct agent *ag, struct apod *ap, struct actr *c, const char *image,
		       const char *msg, int64_t now, int64_t *next)
{
	pthread_once(&backoff_once, backoff_read);
	c->pull_fails++;
	int64_t delay = backoff_start;
	for (int i = 1; i < c->pull_fails && delay < backoff_max; i++)
		delay *= 2;
	if (delay > backoff_max)
		delay = backoff_max;
	waiting(c, "ErrImagePull", msg);
	apic_event(ag->c, "Warning", "Failed", "Pod", ap->ns, ap->name,
		   "Failed to pull image \"%s\": %s", image, msg);
	c->pull_failed_at = now;
	c->retry_at = now + delay;
	/* ErrImagePull is shown for a second, then ImagePullBackOff */
	want_in(next, 1000);
}

bool agent_pull_backoff(struct agent *ag, struct apod *ap, struct actr *c, const char *image,
			int64_t now, int64_t *next)
{
	if (!c->pull_fails || c->retry_at <= now)
		return false;
	bool err_shown = c->reason && !strcmp(c->reason, "ErrImagePull");
	if (err_shown && now - c->pull_failed_at < 1000) {
		want_in(next, c->pull_failed_at + 1000 - now);
		return true;
	}
	if (err_shown) {
		char msg[IMAGE_REF_MAX + 64];
		snprintf(msg, sizeof(msg), "Back-off pulling image \"%s\"", image);
		waiting(c, "ImagePullBackOff", msg);
		apic_event(ag->c, "Normal", "BackOff", "Pod", ap->ns, ap->name, "%s", msg);
	}
	want_in(next, c->retry_at - now);
	return true;
}

/* The pull under way: -1 while it runs; its result once done (the events
 * posted): 0 pulled, -1 failed. */
static int pull_poll(struct agent *ag, struct apod *ap, struct actr *c, const char *image,
		     int64_t now, int64_t *next)
{
	struct apull *p = c->pull;
	pthread_mutex_lock(&p->lock);
	bool done = p->done;
	pthread_mutex_unlock(&p->lock);
	if (!done) {
		waiting(c, "ContainerCreating", NULL);
		want_in(next, PULL_POLL_MS);
		return -1;
	}
	int r = p->r;
	if (r < 0) {
		agent_pull_failed(ag, ap, c, image, p->msg, now, next);
		agent_pull_drop(c);
		return -1;
	}
	apic_event(ag->c, "Normal", "Pulled", "Pod", ap->ns, ap->name,
		   "Successfully pulled image \"%s\" in %.3fs (%.3fs including waiting). Image "
		   "size: %lld bytes.",
		   image, p->info.seconds, (double)(now - p->started) / 1000.0,
		   (long long)p->info.size);
	agent_pull_drop(c);
	c->pull_fails = 0;
	return 0;
}

static bool in_store(struct agent *ag, const char *image)
{
	struct image_info *info = NULL;
	struct err *e = NULL;
	int r = image_resolve(ag->images, image, &info, &e);
	image_info_free(info);
	err_free(e);
	return r == 0;
}

int agent_ctr_pull(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
		   const json_t *spec, const char *image, int64_t now, int64_t *next)
{
	if (c->image_ok)
		return 0;
	if (c->pull) {
		if (pull_poll(ag, ap, c, image, now, next) < 0)
			return -1;
		c->image_ok = true;
		return 0;
	}
	const char *policy = obj_str(spec, "imagePullPolicy");
	bool present = in_store(ag, image);
	bool digest = strchr(image, '@') != NULL;
	if (policy && !strcmp(policy, "Never")) {
		if (present) {
			c->image_ok = true;
			return 0;
		}
		char msg[IMAGE_REF_MAX + 96];
		snprintf(msg, sizeof(msg),
			 "Container image \"%s\" is not present with pull policy of Never", image);
		if (!c->reason || strcmp(c->reason, "ErrImageNeverPull"))
			apic_event(ag->c, "Warning", "ErrImageNeverPull", "Pod", ap->ns, ap->name,
				   "%s", msg);
		waiting(c, "ErrImageNeverPull", msg);
		want_in(next, 5000);
		return -1;
	}
	bool always = !policy || !strcmp(policy, "Always");
	struct image_record rec;
	if (always && present && !digest && image_lookup(ag->images, image, &rec, NULL) == 0 &&
	    rec.origin == IMAGE_IMPORTED)
		always = false; /* imported by hand: nothing to pull it from */
	if (present && (digest || !always)) {
		apic_event(ag->c, "Normal", "Pulled", "Pod", ap->ns, ap->name,
			   "Container image \"%s\" already present on machine", image);
		c->image_ok = true;
		return 0;
	}
	if (pull_start(ag, c, image, !always, pod_creds(ag, ap, pod)) < 0) {
		agent_pull_failed(ag, ap, c, image, "could not start the pull", now, next);
		return -1;
	}
	apic_event(ag->c, "Normal", "Pulling", "Pod", ap->ns, ap->name, "Pulling image \"%s\"",
		   image);
	waiting(c, "ContainerCreating", NULL);
	want_in(next, PULL_POLL_MS);
	return -1;
}
