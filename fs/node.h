/*
 * node.h - the inode table: a stable inode number for each path the kernel
 * has looked up, with FUSE lookup counts.
 *
 * clusterfs's files are generated, so an inode is only a name: the path
 * below the mount point ("deployments/web.yaml").  An inode lives while
 * the kernel holds lookups on it (node_ref on every entry reply,
 * node_forget on FUSE forget); the same path always maps to the same
 * inode while it lives.  The root is inode 1 and never goes away.
 *
 * A node can also carry a "pending" file: a manifest created with
 * O_CREAT and not yet applied, so that fstat on it works before close.
 *
 * Thread-safe: one mutex (node_lock) guards the whole table; it is a leaf
 * lock (nothing else is taken while holding it).
 */
#ifndef CFS_NODE_H
#define CFS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_table;

struct node_table *node_table_new(void);
void node_table_free(struct node_table *t);

/*
 * The inode for path, created if needed, with its lookup count raised by
 * one (the caller is about to reply an entry for it).  Can't fail.  okey
 * (NULL: none) names the object or kind folder whose changes change what
 * path shows ("Deployment/default/web", "Deployment/default/"): the
 * inodes to invalidate when it changes (node_inos_of).
 */
uint64_t node_ref(struct node_table *t, const char *path, const char *okey);

/* Lowers the lookup count of ino by n; frees it at zero (never the root). */
void node_forget(struct node_table *t, uint64_t ino, uint64_t n);

/*
 * Copies the path of ino into a new string (the caller frees), or NULL if
 * ino is unknown.  The root's path is "".
 */
char *node_path(struct node_table *t, uint64_t ino);

/*
 * Follows a rename as the kernel sees it: the inode of src is now named dst
 * (and shows okey); an inode that was named dst keeps that path for who
 * holds it (node_path) but is no longer found by it (until forgotten).
 */
void node_rename(struct node_table *t, const char *src, const char *dst, const char *okey);

/* The inode of path if the kernel holds it, else 0 (no reference taken). */
uint64_t node_find(struct node_table *t, const char *path);

/* Pending creates: counts open create-handles of a not-yet-applied file. */
void node_pending(struct node_table *t, const char *path, int delta, size_t size);
/* True (and *size) when path has a pending create open. */
bool node_is_pending(struct node_table *t, const char *path, size_t *size);

/* Files open for writing at path (+1 at open, -1 at release): while there
 * are, the kernel keeps no attributes of it (its local truncation at an
 * O_TRUNC open must not stay: fs_cache.c). */
void node_writers(struct node_table *t, const char *path, int delta);
bool node_has_writers(struct node_table *t, const char *path);

/* The inodes filed under okey (*out: a new array; the count). */
size_t node_inos_of(struct node_table *t, const char *okey, uint64_t **out);
/* Every inode (*out: a new array; the count). */
size_t node_all_inos(struct node_table *t, uint64_t **out);
/* The lookup count of ino (0: unknown). */
uint64_t node_lookups(struct node_table *t, uint64_t ino);

#endif
