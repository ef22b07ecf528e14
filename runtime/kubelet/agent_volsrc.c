/*
 * agent_volsrc.c - what each volume source the agent writes puts in its
 * volume (agent_volume.c writes the files and swaps them in): a Secret's
 * or a ConfigMap's keys (or its items), the downward API's fields of the
 * pod, and a projected volume's sources side by side.  Each call reads
 * the sources afresh, so that a refresh sees their changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/b64.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/sys.h"

static int mode_of(const json_t *parent, const char *key, int dflt)
{
	json_t *m = json_object_get(parent, key);
	return json_is_integer(m) ? (int)json_integer_value(m) : dflt;
}

/* Adds obj's key (a Secret's data decoded; a ConfigMap's data, or its
 * binaryData decoded) as path; false when obj has no such key. */
static bool add_key(struct vfiles *f, const json_t *obj, bool secret, const char *key,
		    const char *path, int mode)
{
	const char *v = json_string_value(json_object_get(obj_at(obj, "data"), key));
	bool b64 = secret;
	if (!v && !secret) {
		v = json_string_value(json_object_get(obj_at(obj, "binaryData"), key));
		b64 = true;
	}
	if (!v)
		return false;
	if (!b64) {
		vfiles_add(f, path, v, strlen(v), mode);
		return true;
	}
	size_t len = 0;
	char *d = b64_decode(v, &len);
	if (d) {
		vfiles_add(f, path, d, len, mode);
		explicit_bzero(d, len);
		free(d);
	}
	return true;
}

/* Every key of obj's data (and a ConfigMap's binaryData). */
static void add_all(struct vfiles *f, const json_t *obj, bool secret, int mode)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj_at(obj, "data"), key, val) add_key(f, obj, secret, key, key, mode);
	if (!secret)
		json_object_foreach(obj_at(obj, "binaryData"), key, val)
		    add_key(f, obj, false, key, key, mode);
}

/* The files of the Secret or ConfigMap (k) that src names in name_field
 * (a secret or configMap volume, or such a projected source).  0, or < 0
 * with *e for a missing object or key that is not optional. */
static int object_files(struct agent *ag, const char *ns, const struct kind_info *k,
			const json_t *src, const char *name_field, const char *vname, int mode,
			struct vfiles *f, struct err **e)
{
	const char *name = obj_str(src, name_field);
	bool optional = json_is_true(json_object_get(src, "optional"));
	bool secret = k == KIND_SECRET;
	struct sobj *o = NULL;
	int g = name ? apic_get(ag->c, k, ns, name, &o, NULL) : -ENOENT;
	if (g == -ENOENT && optional)
		return 0;
	if (g < 0)
		return err_make(e, -g, "MountVolume.SetUp failed for volume \"%s\": %s \"%s\" %s",
				vname, secret ? "secret" : "configmap", name ? name : "",
				g == -ENOENT ? "not found" : strerror(-g));
	const json_t *items = json_object_get(src, "items");
	size_t i;
	json_t *it;
	int r = 0;
	if (!json_array_size(items))
		add_all(f, o->obj, secret, mode);
	json_array_foreach(items, i, it)
	{
		const char *key = obj_str(it, "key"), *path = obj_str(it, "path");
		if (!key || !path)
			continue;
		if (!add_key(f, o->obj, secret, key, path, mode_of(it, "mode", mode)) &&
		    !optional) {
			r = err_make(e, ENOENT,
				     "MountVolume.SetUp failed for volume \"%s\": %s references "
				     "non-existent %s key: %s",
				     vname, secret ? "secret" : "configmap",
				     secret ? "secret" : "config", key);
			break;
		}
	}
	sobj_unref(o);
	return r;
}

/* A map as the downward API writes it: key="value" lines, keys sorted,
 * values quoted with Go's escapes. */
static char *format_map(const json_t *m)
{
	const char **keys = xcalloc(json_object_size(m) + 1, sizeof(*keys));
	size_t n = 0;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)m, key, val) keys[n++] = key;
	qsort(keys, n, sizeof(*keys), cmp_strp);
	char *out = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&out, &len);
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(m, keys[i]));
		fprintf(s, "%s%s=\"", i ? "\n" : "", keys[i]);
		for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
			if (*p == '"' || *p == '\\')
				fprintf(s, "\\%c", *p);
			else if (*p == '\n')
				fputs("\\n", s);
			else if (*p == '\t')
				fputs("\\t", s);
			else if (*p < 0x20 || *p == 0x7f)
				fprintf(s, "\\x%02x", *p);
			else
				fputc(*p, s);
		}
		fputc('"', s);
	}
	fclose(s);
	free(keys);
	return out;
}

/* The downward API's items of src (a downwardAPI volume or projected
 * source): the pod's fields and its containers' resources. */
static void downward_files(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *src,
			   int mode, struct vfiles *f)
{
	size_t i;
	json_t *it, *ref;
	json_array_foreach(json_object_get(src, "items"), i, it)
	{
		const char *path = obj_str(it, "path");
		char *val = NULL;
		if (!path)
			continue;
		if ((ref = json_object_get(it, "fieldRef"))) {
			const char *fp = obj_str(ref, "fieldPath");
			fp = fp ? fp : "";
			if (!strcmp(fp, "metadata.labels") || !strcmp(fp, "metadata.annotations"))
				val = format_map(obj_at(pod, fp));
			else
				val = agent_field_ref(ag, ap, pod, fp);
		} else if ((ref = json_object_get(it, "resourceFieldRef"))) {
			val = agent_resource_ref(pod, NULL, ref);
		}
		if (val)
			vfiles_add(f, path, val, strlen(val), mode_of(it, "mode", mode));
		free(val);
	}
}

/* A projected volume: each source's files with the volume's defaultMode. */
static int projected_files(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *src,
			   const char *vname, struct vfiles *f, struct err **e)
{
	const char *ns = obj_str(pod, "metadata.namespace");
	int mode = mode_of(src, "defaultMode", 0644), r = 0;
	size_t i;
	json_t *s, *x;
	json_array_foreach(json_object_get(src, "sources"), i, s)
	{
		if ((x = json_object_get(s, "secret")))
			r = object_files(ag, ns, KIND_SECRET, x, "name", vname, mode, f, e);
		else if ((x = json_object_get(s, "configMap")))
			r = object_files(ag, ns, KIND_CONFIGMAP, x, "name", vname, mode, f, e);
		else if ((x = json_object_get(s, "downwardAPI")))
			downward_files(ag, ap, pod, x, mode, f);
		if (r < 0)
			return r;
	}
	return 0;
}

int agent_volume_files(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *vol,
		       struct vfiles *f, bool *tmpfs, struct err **e)
{
	const char *ns = obj_str(pod, "metadata.namespace"), *vname = obj_str(vol, "name");
	const json_t *src;
	int r = 0;
	if ((src = obj_at(vol, "secret"))) {
		*tmpfs = true;
		r = object_files(ag, ns, KIND_SECRET, src, "secretName", vname,
				 mode_of(src, "defaultMode", 0644), f, e);
	} else if ((src = obj_at(vol, "configMap"))) {
		r = object_files(ag, ns, KIND_CONFIGMAP, src, "name", vname,
				 mode_of(src, "defaultMode", 0644), f, e);
	} else if ((src = obj_at(vol, "downwardAPI"))) {
		downward_files(ag, ap, pod, src, mode_of(src, "defaultMode", 0644), f);
	} else if ((src = obj_at(vol, "projected"))) {
		*tmpfs = true; /* it may hold a Secret */
		r = projected_files(ag, ap, pod, src, vname, f, e);
	} else {
		return 0;
	}
	return r < 0 ? r : 1;
}
