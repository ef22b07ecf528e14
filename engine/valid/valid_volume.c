/*
 * valid_volume.c - a pod's spec.volumes, as Kubernetes validates them:
 * emptyDir, configMap, secret, downwardAPI and projected (its secret,
 * configMap and downwardAPI sources); any other source is refused by
 * name, so that a manifest never silently loses meaning.  Paths inside a
 * volume are relative, without a '..' element, not starting with '..',
 * and unique across a projected volume's items.
 */
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"
#include "engine/valid/valid_int.h"

const char *vpod_relpath_rule(const char *s)
{
	if (s[0] == '/')
		return "must be a relative path";
	for (const char *p = s; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			return "must not contain '..'";
	}
	return NULL;
}

/* A file's path inside a volume (Kubernetes' local non-reserved path). */
static int check_file_path(struct vc *c, const json_t *parent, const char **out)
{
	const char *s, *why;
	TRY(vc_str(c, parent, "path", true, &s));
	if (!*s)
		return vc_required(c, "path", NULL);
	if ((why = vpod_relpath_rule(s)))
		return vc_invalid(c, "path", vget(parent, "path"), "%s", why);
	if (!strncmp(s, "..", 2))
		return vc_invalid(c, "path", vget(parent, "path"), "must not start with '..'");
	if (out)
		*out = s;
	return 0;
}

/* parent[key], if set, is a file mode 0-0777. */
static int check_mode(struct vc *c, const json_t *parent, const char *key)
{
	json_t *v = vget(parent, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0777)
		return vc_invalid(c, key, v,
				  "must be a number between 0 and 0777 (octal), both inclusive");
	return 0;
}

/* The volume sources of core/v1, so that an unsupported one is named. */
const char *const vpod_volume_sources[] = {"emptyDir",
					   "configMap",
					   "hostPath",
					   "persistentVolumeClaim",
					   "secret",
					   "nfs",
					   "downwardAPI",
					   "projected",
					   "csi",
					   "ephemeral",
					   "image",
					   "gitRepo",
					   "iscsi",
					   "glusterfs",
					   "rbd",
					   "flexVolume",
					   "cinder",
					   "cephfs",
					   "flocker",
					   "fc",
					   "azureFile",
					   "azureDisk",
					   "vsphereVolume",
					   "quobyte",
					   "photonPersistentDisk",
					   "portworxVolume",
					   "scaleIO",
					   "storageos",
					   "gcePersistentDisk",
					   "awsElasticBlockStore",
					   NULL};

static const char *const emptydir_media[] = {"", "Memory", NULL};

/* A path seen twice in one projected volume (paths: a set, or NULL). */
static int check_unique(struct vc *c, json_t *paths, const json_t *parent, const char *path)
{
	if (!paths)
		return 0;
	if (json_object_get(paths, path))
		return vc_invalid(c, "path", vget(parent, "path"), "conflicting duplicate paths");
	json_object_set_new(paths, path, json_true());
	return 0;
}

/* A configMap or secret (its name in name_field) volume or projected
 * source; c is at it. */
static int check_object_source(struct vc *c, const json_t *src, const char *name_field,
			       json_t *paths)
{
	json_t *items, *it;
	const char *s, *why;
	size_t i;

	TRY(vc_dns(c, src, name_field, true, NAME_DNS1123_SUBDOMAIN, NULL));
	TRY(check_mode(c, src, "defaultMode"));
	TRY(vc_bool(c, src, "optional", NULL));
	TRY(vc_list(c, src, "items", false, &items));
	json_array_foreach(items, i, it)
	{
		size_t mark = vc_push(c, "items");
		vc_pushi(c, i);
		if (!json_is_object(it))
			return vc_invalid(c, NULL, it, "must be a mapping");
		TRY(vc_str(c, it, "key", true, &s));
		if ((why = vrule_config_key(s)))
			return vc_invalid(c, "key", vget(it, "key"), "%s", why);
		TRY(check_file_path(c, it, &s));
		TRY(check_unique(c, paths, it, s));
		TRY(check_mode(c, it, "mode"));
		vc_pop(c, mark);
	}
	return 0;
}

/* What a downward API file's fieldRef may name. */
static const char *const volume_field_paths[] = {"metadata.annotations",
						 "metadata.labels",
						 "metadata.name",
						 "metadata.namespace",
						 "metadata.uid",
						 "metadata.labels['KEY']",
						 "metadata.annotations['KEY']",
						 NULL};

static const char *const resource_fields[] = {"limits.cpu",
					      "limits.ephemeral-storage",
					      "limits.memory",
					      "requests.cpu",
					      "requests.ephemeral-storage",
					      "requests.memory",
					      NULL};

/* A downward API file's fieldRef; c is at it. */
static int check_field_ref(struct vc *c, const json_t *ref)
{
	static const char *const v1[] = {"v1", NULL};
	const char *s, *why;
	TRY(vc_enum(c, ref, "apiVersion", false, v1, NULL));
	TRY(vc_str(c, ref, "fieldPath", true, &s));
	for (size_t i = 0; volume_field_paths[i]; i++)
		if (!strchr(volume_field_paths[i], '[') && !strcmp(s, volume_field_paths[i]))
			return 0;
	const char *pre[] = {"metadata.labels['", "metadata.annotations['"};
	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(pre[i]), n = strlen(s);
		if (strncmp(s, pre[i], pl) || n < pl + 2 || strcmp(s + n - 2, "']"))
			continue;
		_cleanup_free_ char *key = xstrndup(s + pl, n - pl - 2);
		if ((why = vrule_label_key(key)))
			return vc_invalid(c, "fieldPath", vget(ref, "fieldPath"), "%s", why);
		return 0;
	}
	return vc_unsupported(c, "fieldPath", vget(ref, "fieldPath"), volume_field_paths);
}

/* A downward API file's resourceFieldRef (containerName required); c is
 * at it. */
static int check_resource_ref(struct vc *c, const json_t *ref)
{
	const char *why;
	int64_t milli;
	TRY(vc_str(c, ref, "containerName", true, NULL));
	TRY(vc_enum(c, ref, "resource", true, resource_fields, NULL));
	json_t *div = vget(ref, "divisor");
	if (div && (why = vrule_quantity(div, &milli)))
		return vc_invalid(c, "divisor", div, "%s", why);
	if (div && milli <= 0)
		return vc_invalid(c, "divisor", div, "must be greater than 0");
	return 0;
}

/* A downwardAPI volume or projected source; c is at it. */
static int check_downward(struct vc *c, const json_t *src, json_t *paths)
{
	json_t *items, *it, *fr, *rr;
	const char *path;
	size_t i;

	TRY(check_mode(c, src, "defaultMode"));
	TRY(vc_list(c, src, "items", false, &items));
	json_array_foreach(items, i, it)
	{
		size_t mark = vc_push(c, "items");
		vc_pushi(c, i);
		if (!json_is_object(it))
			return vc_invalid(c, NULL, it, "must be a mapping");
		TRY(check_file_path(c, it, &path));
		TRY(check_unique(c, paths, it, path));
		TRY(check_mode(c, it, "mode"));
		TRY(vc_map(c, it, "fieldRef", false, &fr));
		TRY(vc_map(c, it, "resourceFieldRef", false, &rr));
		if (fr && rr)
			return vc_invalid(c, NULL, it,
					  "fieldRef and resourceFieldRef can not be specified "
					  "simultaneously");
		if (!fr && !rr)
			return vc_required(c, NULL,
					   "one of fieldRef and resourceFieldRef is required");
		size_t at = vc_push(c, fr ? "fieldRef" : "resourceFieldRef");
		TRY(fr ? check_field_ref(c, fr) : check_resource_ref(c, rr));
		vc_pop(c, at);
		vc_pop(c, mark);
	}
	return 0;
}

/* The projection sources of core/v1 (one per entry), the supported first. */
static const char *const projections[] = {
    "secret",	      "configMap", "downwardAPI", "serviceAccountToken", "clusterTrustBundle",
    "podCertificate", NULL};

/* A projected volume; c is at it. */
static int check_projected(struct vc *c, const json_t *src)
{
	json_t *l, *s, *x;
	size_t i;
	_cleanup_json_ json_t *paths = json_object();

	TRY(check_mode(c, src, "defaultMode"));
	TRY(vc_list(c, src, "sources", false, &l));
	json_array_foreach(l, i, s)
	{
		const char *kind = NULL;
		int n = 0;
		size_t mark = vc_push(c, "sources");
		vc_pushi(c, i);
		if (!json_is_object(s))
			return vc_invalid(c, NULL, s, "must be a mapping");
		for (size_t k = 0; projections[k]; k++)
			if (vget(s, projections[k]) && !n++)
				kind = projections[k];
		if (n > 1)
			return vc_forbidden(c, NULL,
					    "may not specify more than 1 volume type per "
					    "source");
		if (n && !streq(kind, "secret") && !streq(kind, "configMap") &&
		    !streq(kind, "downwardAPI"))
			return vc_notsup(c, kind,
					 "clusterfs projects secret, configMap and downwardAPI "
					 "sources%s",
					 streq(kind, "serviceAccountToken")
					     ? " (it issues no service account tokens)"
					     : "");
		if (n) {
			TRY(vc_map(c, s, kind, true, &x));
			vc_push(c, kind);
			TRY(streq(kind, "downwardAPI") ? check_downward(c, x, paths)
						       : check_object_source(c, x, "name", paths));
		}
		vc_pop(c, mark);
	}
	return 0;
}

int vpod_volume(struct vc *c, json_t *vols, const json_t *vol)
{
	const char *name, *src = NULL;
	int64_t milli;
	int n = 0;

	if (!json_is_object(vol))
		return vc_invalid(c, NULL, vol, "must be a mapping");
	TRY(vc_dns(c, vol, "name", true, NAME_DNS1123_LABEL, &name));
	if (json_object_get(vols, name))
		return vc_duplicate(c, "name", vget(vol, "name"));
	json_object_set(vols, name, (json_t *)vol);

	for (size_t i = 0; vpod_volume_sources[i]; i++)
		if (vget(vol, vpod_volume_sources[i]) && !n++)
			src = vpod_volume_sources[i];
	if (n == 0)
		return vc_required(c, NULL, "must specify a volume type");
	if (n > 1)
		return vc_forbidden(c, NULL, "may not specify more than 1 volume type");
	static const char *const ok[] = {"emptyDir", "configMap", "secret", "downwardAPI",
					 "projected"};
	size_t k = 0;
	while (k < 5 && !streq(src, ok[k]))
		k++;
	if (k == 5)
		return vc_notsup(c, src,
				 "clusterfs supports emptyDir, configMap, secret, downwardAPI "
				 "and projected volumes");

	json_t *s;
	TRY(vc_map(c, vol, src, true, &s));
	size_t at = vc_push(c, src);
	if (streq(src, "configMap") || streq(src, "secret"))
		TRY(check_object_source(c, s, streq(src, "secret") ? "secretName" : "name", NULL));
	else if (streq(src, "downwardAPI"))
		TRY(check_downward(c, s, NULL));
	else if (streq(src, "projected"))
		TRY(check_projected(c, s));
	else
		TRY(vc_enum(c, s, "medium", false, emptydir_media, NULL));
	json_t *limit = streq(src, "emptyDir") ? vget(s, "sizeLimit") : NULL;
	if (limit) {
		const char *why = vrule_quantity(limit, &milli);
		if (why)
			return vc_invalid(c, "sizeLimit", limit, "%s", why);
		if (milli < 0)
			return vc_invalid(c, "sizeLimit", limit,
					  "must be greater than or equal to 0");
	}
	vc_pop(c, at);
	return 0;
}
