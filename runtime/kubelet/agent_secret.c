/*
 * agent_secret.c - secret volumes, as the kubelet makes them: each on its
 * own tmpfs (the values never reach the node's disk), the files in a
 * folder ..NAME that the symlink ..data names, and each key (or item's
 * first path component) a symlink into ..data/.  A change of the Secret
 * writes a new folder and swaps ..data with one rename, so a reader sees
 * the old files or the new ones, never half of each.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "engine/b64.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"

#define TMPFS_OPTS "mode=0755,size=16m"

/* One file to write: path (relative), value, mode. */
struct sfile {
	char *path, *val;
	size_t len;
	int mode;
};

struct sfiles {
	struct sfile *v;
	size_t n;
	uint64_t hash; /* FNV-1a of every path, mode and value */
};

static void hash_in(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ s[i]) * 1099511628211ULL;
}

static void sfiles_add(struct sfiles *f, const char *path, const char *b64, int mode)
{
	size_t len = 0;
	char *val = b64_decode(b64, &len);
	if (!val)
		return;
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = (struct sfile){xstrdup(path), val, len, mode};
	hash_in(&f->hash, path, strlen(path) + 1);
	hash_in(&f->hash, &mode, sizeof(mode));
	hash_in(&f->hash, val, len);
}

static void sfiles_free(struct sfiles *f)
{
	for (size_t i = 0; i < f->n; i++) {
		explicit_bzero(f->v[i].val, f->v[i].len);
		free(f->v[i].val);
		free(f->v[i].path);
	}
	free(f->v);
}

/* The files of Secret sec for volume source src (items or every key);
 * -ENOENT with *e for an item's missing key. */
static int secret_files(const json_t *src, const json_t *sec, const char *vname, struct sfiles *f,
			struct err **e)
{
	const json_t *data = obj_at(sec, "data"), *items = json_object_get(src, "items");
	json_t *dm = json_object_get(src, "defaultMode"), *it;
	int mode = json_is_integer(dm) ? (int)json_integer_value(dm) : 0644;
	size_t k;
	f->hash = 1469598103934665603ULL;
	if (!json_array_size(items)) {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)data, key, val)
		    sfiles_add(f, key, json_string_value(val) ? json_string_value(val) : "", mode);
		return 0;
	}
	json_array_foreach(items, k, it)
	{
		const char *key = obj_str(it, "key"), *path = obj_str(it, "path");
		const char *val = json_string_value(json_object_get(data, key ? key : ""));
		json_t *m = json_object_get(it, "mode");
		if (!val)
			return err_make(e, ENOENT,
					"MountVolume.SetUp failed for volume \"%s\": references "
					"non-existent secret key: %s",
					vname, key ? key : "");
		if (path)
			sfiles_add(f, path, val,
				   json_is_integer(m) ? (int)json_integer_value(m) : mode);
	}
	return 0;
}

/* dir is a tmpfs, mounted now if it was not. */
static int ensure_tmpfs(const char *dir)
{
	struct statfs sf;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (statfs(dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
		return 0;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, TMPFS_OPTS) < 0)
		return -errno;
	return 0;
}

/* Writes len bytes of val to dir/rel (its folders made) with mode. */
static int write_file(const char *dir, const char *rel, const char *val, size_t len, int mode)
{
	char *path = xasprintf("%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	int r = 0, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, val, len) != (ssize_t)len || fchmod(fd, (mode_t)(mode & 07777)) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && !r)
		r = -errno;
	free(path);
	return r;
}

/* Is name (a top-level entry of the volume) one of f's first components? */
static bool wanted(const struct sfiles *f, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < f->n; i++)
		if (!strncmp(f->v[i].path, name, n) &&
		    (f->v[i].path[n] == 0 || f->v[i].path[n] == '/'))
			return true;
	return false;
}

/* Removes the entries of dir that are neither ..data, keep (a ..folder)
 * nor a wanted link. */
static void prune(const char *dir, const char *keep, const struct sfiles *f)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "..data") || !strcmp(n, keep))
			continue;
		char *p = xasprintf("%s/%s", dir, n);
		if (!strncmp(n, "..", 2)) {
			char *cmd = NULL; /* an old ..folder: its files, then it */
			DIR *sub = opendir(p);
			struct dirent *se;
			while (sub && (se = readdir(sub)))
				if (strcmp(se->d_name, ".") && strcmp(se->d_name, "..")) {
					cmd = xasprintf("%s/%s", p, se->d_name);
					unlink(cmd);
					rmdir(cmd); /* an item's folder (one level) */
					free(cmd);
				}
			if (sub)
				closedir(sub);
			rmdir(p);
		} else if (!wanted(f, n)) {
			unlink(p);
		}
		free(p);
	}
	closedir(d);
}

/* The ownership pod.c gave the volume (fsGroup, user namespace: its root
 * folder's owner, group and setgid bit) given to path and what it holds. */
static void own_like(const char *path, const struct stat *root)
{
	struct stat st;
	if (lstat(path, &st) < 0 || S_ISLNK(st.st_mode))
		return;
	if (lchown(path, root->st_uid, root->st_gid) < 0)
		return;
	if (root->st_mode & S_ISGID)
		chmod(path, (st.st_mode & 07777) | (S_ISDIR(st.st_mode) ? 02050 : 0040));
	DIR *d = S_ISDIR(st.st_mode) ? opendir(path) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			char *p = xasprintf("%s/%s", path, de->d_name);
			own_like(p, root);
			free(p);
		}
	if (d)
		closedir(d);
}

/* Puts f in dir (a tmpfs) unless it is there already: a new ..folder,
 * ..data swapped to it, the key links, the old folder removed. */
static int publish(const char *dir, const struct sfiles *f)
{
	char name[40], cur[64];
	snprintf(name, sizeof(name), "..%016llx", (unsigned long long)f->hash);
	char *data = xasprintf("%s/..data", dir);
	ssize_t n = readlink(data, cur, sizeof(cur) - 1);
	int r = 0;
	if (n > 0 && (size_t)n == strlen(name) && !memcmp(cur, name, (size_t)n)) {
		free(data);
		return 0; /* unchanged */
	}
	char *ndir = xasprintf("%s/%s", dir, name), *tmp = xasprintf("%s/..data_tmp", dir);
	mkdir(ndir, 0755);
	for (size_t i = 0; i < f->n && !r; i++)
		r = write_file(ndir, f->v[i].path, f->v[i].val, f->v[i].len, f->v[i].mode);
	struct stat root;
	if (!r && stat(dir, &root) == 0 && (root.st_uid || root.st_gid))
		own_like(ndir, &root); /* a refresh: as pod.c set the volume */
	unlink(tmp);
	if (!r && (symlink(name, tmp) < 0 || rename(tmp, data) < 0))
		r = -errno;
	for (size_t i = 0; i < f->n && !r; i++) {
		char *top = xstrdup(f->v[i].path), *slash = strchr(top, '/');
		if (slash)
			*slash = 0;
		char *link = xasprintf("%s/%s", dir, top), *to = xasprintf("..data/%s", top);
		if (symlink(to, link) < 0 && errno != EEXIST)
			r = -errno;
		free(link), free(to), free(top);
	}
	if (!r)
		prune(dir, name, f);
	free(ndir), free(tmp), free(data);
	return r;
}

int agent_secret_volumes(struct agent *ag, struct apod *ap, const json_t *pod, struct err **e)
{
	const char *ns = obj_str(pod, "metadata.namespace");
	size_t i;
	json_t *vol;
	json_array_foreach(obj_at(pod, "spec.volumes"), i, vol)
	{
		const json_t *src = obj_at(vol, "secret");
		const char *vname = obj_str(vol, "name"), *sname = obj_str(src, "secretName");
		if (!src || !vname || !ap->sb)
			continue;
		struct sobj *o = NULL;
		int g = sname ? apic_get(ag->c, KIND_SECRET, ns, sname, &o, NULL) : -ENOENT;
		if (g < 0 && (g != -ENOENT || !json_is_true(json_object_get(src, "optional"))))
			return err_make(e, -g,
					"MountVolume.SetUp failed for volume \"%s\": secret \"%s\" "
					"%s",
					vname, sname ? sname : "",
					g == -ENOENT ? "not found" : strerror(-g));
		struct sfiles f = {0};
		char *dir = xasprintf("%s/volumes/%s", ap->sb->dir, vname);
		int r = secret_files(src, o ? o->obj : NULL, vname, &f, e);
		if (r == 0 && (r = ensure_tmpfs(dir)) < 0)
			err_make(e, -r, "volume %s: mounting a tmpfs on %s: %s", vname, dir,
				 strerror(-r));
		else if (r == 0 && (r = publish(dir, &f)) < 0)
			err_make(e, -r, "volume %s: writing %s: %s", vname, dir, strerror(-r));
		sfiles_free(&f);
		sobj_unref(o);
		free(dir);
		if (r < 0)
			return r;
	}
	return 0;
}

void agent_secret_unmount(struct apod *ap)
{
	if (!ap->sb || !ap->sb->dir)
		return;
	char *vdir = xasprintf("%s/volumes", ap->sb->dir);
	DIR *d = opendir(vdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct statfs sf;
		char *p = xasprintf("%s/%s", vdir, de->d_name);
		if (de->d_name[0] != '.' && statfs(p, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
			umount2(p, MNT_DETACH);
		free(p);
	}
	if (d)
		closedir(d);
	free(vdir);
}
