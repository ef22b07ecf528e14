/*
 * agent_images.c - the node agent's side of image use and garbage
 * collection (agent_int.h; the store's side is image.h and image_gc.h):
 *
 *   - each pod's images are recorded in PODS/UID/images as soon as its
 *     sandbox dir exists (before any pull, so that a GC never takes an
 *     image a starting pod is about to run), with the digests its
 *     containers run once resolved; the record goes with the pod's dir;
 *   - image GC every minute (from the heartbeat, in a thread of its own)
 *     and before each pull, with the flags' thresholds; a pass that could
 *     not get under the low threshold posts a Warning FreeDiskSpaceFailed
 *     event on the Node, as the kubelet does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_gc.h"
#include "runtime/kubelet/agent_int.h"

/* The digest container name of ap runs, or NULL. */
static const char *ctr_digest(const struct apod *ap, const char *name)
{
	for (size_t i = 0; name && i < ap->nc; i++)
		if (!strcmp(ap->c[i].name, name) && ap->c[i].image_id[0])
			return ap->c[i].image_id;
	return NULL;
}

void agent_images_record(struct agent *ag, struct apod *ap, const json_t *pod)
{
	static const char *const lists[] = {"spec.initContainers", "spec.containers"};
	size_t n = json_array_size(obj_at(pod, lists[0])) + json_array_size(obj_at(pod, lists[1]));
	const char **refs = xcalloc(n + 1, sizeof(char *));
	const char **digests = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(obj_at(pod, lists[l]), i, c)
		{
			const char *image = obj_str(c, "image");
			if (!image || k == n)
				continue;
			refs[k] = image;
			digests[k++] = ctr_digest(ap, obj_str(c, "name"));
		}
	}
	char who[512];
	snprintf(who, sizeof(who), "%s/%s", ap->ns, ap->name);
	struct err *e = NULL;
	if (image_uses_record(ag->images, ap->uid, who, refs, digests, k, &e) < 0 &&
	    e->code != ENOENT)
		log_warn("agent", "%s: %s", who, e->msg);
	err_free(e);
	free(refs);
	free(digests);
}

void agent_image_gc(struct agent *ag)
{
	pthread_mutex_lock(&ag->lock);
	bool busy = ag->gc_busy;
	ag->gc_busy = true;
	ag->gc_at = mono_ms();
	pthread_mutex_unlock(&ag->lock);
	if (busy)
		return;
	struct image_gc_result r;
	struct err *e = NULL;
	if (image_gc(ag->images, &ag->o.gc, &r, &e) < 0) {
		log_warn("agent", "image garbage collection failed: %s", e->msg);
		if (e->code == ENOSPC)
			apic_event(ag->c, "Warning", "FreeDiskSpaceFailed", "Node", "", ag->node,
				   "%s", e->msg);
		else
			apic_event(ag->c, "Warning", "ImageGCFailed", "Node", "", ag->node, "%s",
				   e->msg);
	}
	err_free(e);
	pthread_mutex_lock(&ag->lock);
	ag->gc_busy = false;
	pthread_mutex_unlock(&ag->lock);
}

static void *gc_thread(void *arg)
{
	struct agent *ag = arg;
	agent_image_gc(ag);
	pthread_mutex_lock(&ag->lock);
	ag->pulls--;
	pthread_mutex_unlock(&ag->lock);
	return NULL;
}

void agent_image_gc_tick(struct agent *ag)
{
	pthread_mutex_lock(&ag->lock);
	if (!ag->gc_at) /* the first pass a period after the start: every
			   adopted pod has recorded its images by then */
		ag->gc_at = mono_ms();
	bool due = !ag->gc_busy && !ag->stop && mono_ms() - ag->gc_at >= IMAGE_GC_PERIOD_MS;
	if (due)
		ag->pulls++; /* agent_pulls_wait waits for it too */
	pthread_mutex_unlock(&ag->lock);
	if (!due)
		return;
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &at, gc_thread, ag);
	pthread_attr_destroy(&at);
	if (r) {
		log_warn("agent", "image gc: thread: %s", strerror(r));
		pthread_mutex_lock(&ag->lock);
		ag->pulls--;
		pthread_mutex_unlock(&ag->lock);
	}
}
