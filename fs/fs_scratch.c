/*
 * fs_scratch.c - scratch files: editors' temporaries held in memory (never
 * applied), bounded per caller (fs_bounds.c), and the NAME.yaml a rename
 * moved onto one, hidden while it lives.  See fs_int.h.
 */
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "fs/fs_int.h"

struct scratch *scratch_find(struct fs *fs, const char *path)
{
	for (struct scratch *s = fs->scratch; s; s = s->next)
		if (!strcmp(s->path, path))
			return s;
	return NULL;
}

bool scratch_stat(struct fs *fs, const char *path, struct stat *st)
{
	pthread_mutex_lock(&fs->scratch_lock);
	struct scratch *s = scratch_find(fs, path);
	if (s) {
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFREG | (s->mode & 07777);
		st->st_uid = s->uid;
		st->st_gid = s->gid;
		st->st_nlink = 1;
		st->st_size = (off_t)s->data.len;
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)((s->data.len + 511) / 512);
		st->st_mtim.tv_sec = s->mtime_ns / 1000000000;
		st->st_mtim.tv_nsec = s->mtime_ns % 1000000000;
		st->st_ctim = st->st_atim = st->st_mtim;
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	return s != NULL;
}

int scratch_charge(struct fs *fs, struct scratch *s, size_t n, struct err **e)
{
	return fs_bounds_resize(fs->bounds, s->uid, &s->charged, n, e);
}

int scratch_new(struct fs *fs, const char *path, mode_t mode, const char *data, size_t len,
		uid_t uid, struct err **e)
{
	pthread_mutex_lock(&fs->scratch_lock);
	struct scratch *s = scratch_find(fs, path);
	bool made = false;
	int r = 0;
	if (!s && (r = fs_bounds_charge(fs->bounds, uid, FB_FILES, 1, e)) == 0) {
		s = xcalloc(1, sizeof(*s));
		s->path = xstrdup(path);
		fs_caller_ids(&s->uid, &s->gid); /* its maker's, as any new file */
		s->uid = uid;
		s->next = fs->scratch;
		fs->scratch = s;
		made = true;
	}
	if (r == 0 && (r = scratch_charge(fs, s, len, e)) == 0) {
		s->data.len = 0;
		if (len)
			buf_add(&s->data, data, len);
		s->mode = mode & 07777;
		s->mtime_ns = fs_now_ns();
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	if (r < 0 && made)
		scratch_remove(fs, path); /* refused: no empty file left behind */
	return r;
}

/* Is path (a NAME.yaml) hidden because it was renamed away (cp --backup, vim)? */
bool scratch_shadowed(struct fs *fs, const char *path)
{
	bool hit = false;
	pthread_mutex_lock(&fs->scratch_lock);
	for (struct scratch *s = fs->scratch; s && !hit; s = s->next)
		hit = s->shadows && !strcmp(s->shadows, path);
	pthread_mutex_unlock(&fs->scratch_lock);
	return hit;
}

/* Sets or clears (shadow NULL) what the scratch file at path hides; with
 * path NULL, stops hiding shadow wherever it is hidden. */
void fs_set_shadow(struct fs *fs, const char *path, const char *shadow)
{
	pthread_mutex_lock(&fs->scratch_lock);
	for (struct scratch *s = fs->scratch; s; s = s->next) {
		if (path ? !strcmp(s->path, path) : (s->shadows && !strcmp(s->shadows, shadow))) {
			free(s->shadows);
			s->shadows = path && shadow ? xstrdup(shadow) : NULL;
		}
	}
	pthread_mutex_unlock(&fs->scratch_lock);
}

bool scratch_remove(struct fs *fs, const char *path)
{
	pthread_mutex_lock(&fs->scratch_lock);
	struct scratch **pp = &fs->scratch;
	while (*pp && strcmp((*pp)->path, path))
		pp = &(*pp)->next;
	struct scratch *s = *pp;
	if (s) {
		*pp = s->next;
		fs_bounds_release(fs->bounds, s->uid, FB_FILES, 1);
		fs_bounds_release(fs->bounds, s->uid, FB_BYTES, s->charged);
		buf_free(&s->data);
		free(s->shadows);
		free(s->path);
		free(s);
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	return s != NULL;
}
