/*
 * sys.h - the file-system and small system helpers the runtime's modules
 * share: each is defined here once.
 *
 * Errors follow engine/err.h: a negative errno, with *e set when e is not
 * NULL.  Processes are started by runtime/proc.h.
 */
#ifndef CFS_RUNTIME_SYS_H
#define CFS_RUNTIME_SYS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/err.h"

/* The PATH a program gets when none is set (the host's, a container's). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static inline void cleanup_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
/* Closes an fd local (when >= 0) as it leaves scope. */
#define _cleanup_fd_ __attribute__((cleanup(cleanup_fdp)))

/* Replaces path with text: written to PATH.tmp (mode 0644), then renamed
 * over path, so that a reader sees the old or the new text, never a part. */
int write_atomic(const char *path, const char *text, struct err **e);

/* Everything in fd from offset 0, trailing white space trimmed: a string
 * the caller frees (never NULL). */
char *fd_slurp(int fd);

/* mkdir -p: path and each missing parent, with mode.  An existing
 * directory is success. */
int mkdir_p(const char *path, mode_t mode, struct err **e);

/* rm -rf that never follows a symlink nor descends into another mount
 * (one that unmounting left behind).  0 when path is gone (or was never
 * there); else the first errno met, or EBUSY when only a mount stayed. */
int rm_rf(const char *path, struct err **e);

/* The pid a pid file holds (its first number), or 0 when the file is
 * missing or holds no pid above 1. */
pid_t pid_file_read(const char *path);

/* Sleeps ms milliseconds, signals or not. */
void sleep_ms(int ms);

/* qsort comparison of two char * elements, by strcmp. */
int cmp_strp(const void *a, const void *b);

/* The canonical dotted form of the IPv4 address in into out; false when
 * in is not one. */
bool ipv4_canon(const char *in, char out[INET_ADDRSTRLEN]);

#endif
