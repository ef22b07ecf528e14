/*
 * agent_volume.c - the volumes the agent writes (secret, configMap,
 * downwardAPI, projected), as the kubelet makes them: the files in a
 * folder ..HASH that the symlink ..data names, and each key (or item's
 * first path component) a symlink into ..data/.  A change of the source
 * writes a new folder and swaps ..data with one rename, so a reader sees
 * the old files or the new ones, never half of each; a subPath mount
 * holds the file it was given and does not follow.  Volumes that may hold
 * a Secret (secret, projected) are each on their own tmpfs, so that the
 * values never reach the node's disk.  What each source puts in a volume
 * is in agent_volsrc.c.
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

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"

#define TMPFS_OPTS "mode=0755,size=16m"

static void hash_in(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ s[i]) * 1099511628211ULL;
}

void vfiles_add(struct vfiles *f, const char *path, const char *val, size_t len, int mode)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, val, len);
	copy[len] = 0;
	if (!f->n && !f->hash)
		f->hash = 1469598103934665603ULL;
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = (struct vfile){xstrdup(path), copy, len, mode};
	hash_in(&f->hash, path, strlen(path) + 1);
	hash_in(&f->hash, &mode, sizeof(mode));
	hash_in(&f->hash, val, len);
}

void vfiles_free(struct vfiles *f)
{
	for (size_t i = 0; i < f->n; i++) {
		explicit_bzero(f->v[i].val, f->v[i].len);
		free(f->v[i].val);
		free(f->v[i].path);
	}
	free(f->v);
	*f = (struct vfiles){0};
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
static bool wanted(const struct vfiles *f, const char *name)
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
static void prune(const char *dir, const char *keep, const struct vfiles *f)
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
static int publish(const char *dir, const struct vfiles *f)
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
		struct stat st;
		if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode))
			unlink(link); /* a file of an older layout */
		if (symlink(to, link) < 0 && errno != EEXIST)
			r = -errno;
		free(link), free(to), free(top);
	}
	if (!r)
		prune(dir, name, f);
	free(ndir), free(tmp), free(data);
	return r;
}

int agent_volumes(struct agent *ag, struct apod *ap, const json_t *pod, struct err **e)
{
	size_t i;
	json_t *vol;
	json_array_foreach(obj_at(pod, "spec.volumes"), i, vol)
	{
		const char *vname = obj_str(vol, "name");
		struct vfiles f = {0};
		bool tmpfs = false;
		if (!vname || !ap->sb)
			continue;
		int r = agent_volume_files(ag, ap, pod, vol, &f, &tmpfs, e);
		if (r <= 0) {
			vfiles_free(&f);
			if (r < 0)
				return r;
			continue; /* not one of ours (emptyDir) */
		}
		char *dir = xasprintf("%s/volumes/%s", ap->sb->dir, vname);
		if (tmpfs && (r = ensure_tmpfs(dir)) < 0)
			err_make(e, -r, "volume %s: mounting a tmpfs on %s: %s", vname, dir,
				 strerror(-r));
		else if (!tmpfs && mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = err_make(e, errno, "volume %s: %s: %s", vname, dir, strerror(errno));
		else if ((r = publish(dir, &f)) < 0)
			err_make(e, -r, "volume %s: writing %s: %s", vname, dir, strerror(-r));
		vfiles_free(&f);
		free(dir);
		if (r < 0)
			return r;
	}
	return 0;
}

void agent_volume_unmount(struct apod *ap)
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
