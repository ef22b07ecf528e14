/*
 * view_deploy.c - a Deployment's revision history, rollback and rollout
 * status files.  See view_deploy.h.
 */
#include "fs/view_deploy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/valid/codec.h"
#include "engine/obj.h"

#define CHANGE_CAUSE_ANN "kubernetes.io/change-cause"

/* "REV.yaml" -> REV, or 0 when key is not of that form. */
static int64_t key_revision(const char *key)
{
	char *end;
	long long r = strtoll(key, &end, 10);
	if (end == key || strcmp(end, ".yaml") || r <= 0 || key[0] == '0' || key[0] == '+')
		return 0;
	return r;
}

void vd_history_list(struct view *v, const struct sobj *o, struct vdir *out)
{
	struct sobj **rss;
	size_t n = api_deployment_history(view_api(v), obj_str(o->obj, "metadata.uid"), &rss);
	for (size_t i = 0; i < n; i++) {
		int64_t rev = api_revision(rss[i]->obj);
		if (rev <= 0)
			continue;
		char name[40];
		snprintf(name, sizeof(name), "%" PRId64 ".yaml", rev);
		vdir_add(out, name, S_IFREG | 0444);
	}
	sobj_list_free(rss, n);
}

/* The ReplicaSet of revision rev (a new reference), or NULL. */
static struct sobj *rs_of(struct view *v, const struct sobj *dep, int64_t rev)
{
	struct sobj **rss, *hit = NULL;
	size_t n = api_deployment_history(view_api(v), obj_str(dep->obj, "metadata.uid"), &rss);
	for (size_t i = 0; i < n; i++) {
		if (!hit && rev > 0 && api_revision(rss[i]->obj) == rev)
			hit = rss[i];
		else
			sobj_unref(rss[i]);
	}
	free(rss);
	return hit;
}

bool vd_history_has(struct view *v, const struct sobj *o, const char *key)
{
	struct sobj *rs = rs_of(v, o, key_revision(key));
	sobj_unref(rs);
	return rs != NULL;
}

void vd_history_render(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	int64_t rev = key_revision(key);
	struct sobj *rs = rs_of(v, o, rev);
	if (!rs)
		return;
	json_t *tpl = json_deep_copy(obj_at(rs->obj, "spec.template"));
	json_t *labels = obj_at(tpl, "metadata.labels");
	if (json_is_object(labels))
		json_object_del(labels, "pod-template-hash");
	const char *cause = json_string_value(
	    json_object_get(obj_at(rs->obj, "metadata.annotations"), CHANGE_CAUSE_ANN));
	json_t *doc = json_pack("{s:I, s:s}", "revision", (json_int_t)rev, "replicaSet", rs->name);
	if (cause)
		json_object_set_new(doc, "changeCause", json_string(cause));
	json_object_set_new(doc, "template", tpl ? tpl : json_object());
	char *s = codec_yaml(doc, NULL);
	buf_puts(out, s);
	free(s);
	json_decref(doc);
	sobj_unref(rs);
}

void vd_rollback_render(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
}

int vd_rollback_write(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	char tmp[32];
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	while (len && (*data == ' ' || *data == '\t' || *data == '\n'))
		data++, len--;
	int64_t rev = 0;
	if (len) {
		if (len >= sizeof(tmp))
			return err_make(e, EINVAL,
					"Deployment \"%s\": rollback: want a revision number, got "
					"a long string",
					p->name);
		memcpy(tmp, data, len);
		tmp[len] = '\0';
		char *end;
		errno = 0;
		long long r = strtoll(tmp, &end, 10);
		if (*end || errno || r <= 0)
			return err_make(
			    e, EINVAL,
			    "Deployment \"%s\": rollback: want a revision number (1, 2, ...) "
			    "or nothing for the previous one, got \"%s\"",
			    p->name, tmp);
		rev = r;
	}
	int64_t r = api_deployment_rollback(view_api(v), p->ns, p->name, rev, e);
	return r < 0 ? (int)r : 0;
}

enum vd_rollout vd_rollout_line(const json_t *dep, struct buf *out)
{
	const char *name = obj_str(dep, "metadata.name");
	name = name ? name : "";
	int64_t gen = obj_int(dep, "metadata.generation", 1);
	int64_t observed = obj_int(dep, "status.observedGeneration", 0);
	if (gen > observed) {
		buf_puts(out, "Waiting for deployment spec update to be observed...\n");
		return VD_ROLLING;
	}
	const char *reason = obj_str(obj_condition(dep, "Progressing"), "reason");
	if (reason && !strcmp(reason, "ProgressDeadlineExceeded")) {
		buf_printf(out, "error: deployment \"%s\" exceeded its progress deadline\n", name);
		return VD_FAILED;
	}
	int64_t want = obj_int(dep, "spec.replicas", 1);
	int64_t replicas = obj_int(dep, "status.replicas", 0);
	int64_t updated = obj_int(dep, "status.updatedReplicas", 0);
	int64_t avail = obj_int(dep, "status.availableReplicas", 0);
	if (updated < want) {
		buf_printf(out,
			   "Waiting for deployment \"%s\" rollout to finish: %" PRId64
			   " out of %" PRId64 " new replicas have been updated...\n",
			   name, updated, want);
		return VD_ROLLING;
	}
	if (replicas > updated) {
		buf_printf(out,
			   "Waiting for deployment \"%s\" rollout to finish: %" PRId64
			   " old replicas are pending termination...\n",
			   name, replicas - updated);
		return VD_ROLLING;
	}
	if (avail < updated) {
		buf_printf(out,
			   "Waiting for deployment \"%s\" rollout to finish: %" PRId64
			   " of %" PRId64 " updated replicas are available...\n",
			   name, avail, updated);
		return VD_ROLLING;
	}
	buf_printf(out, "deployment \"%s\" successfully rolled out\n", name);
	return VD_DONE;
}

void vd_rollout_render(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	vd_rollout_line(o->obj, out);
}
