/*
 * mem.h - allocation that cannot fail, and cleanup helpers.
 *
 * Allocation failure aborts the process (the daemon cannot do anything
 * useful without memory), so callers never check for NULL.  Names say
 * ownership: x*dup and x*printf give a string the caller frees.
 *
 * The cleanup attributes free a local when it leaves scope; STEAL_POINTER
 * hands ownership out of such a local.
 */
#ifndef CFS_MEM_H
#define CFS_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))

#define STEAL_POINTER(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) steal_tmp_ = *(pp);                                              \
		*(pp) = NULL;                                                                      \
		steal_tmp_;                                                                        \
	})

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *s;
	size_t len;
	size_t cap;
};

void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives the string to the caller and leaves b empty. */
char *buf_steal(struct buf *b, size_t *len);

/* The whole of file path, NUL-terminated (caller frees), or NULL with
 * errno when it cannot be opened. */
char *file_slurp(const char *path);
void buf_free(struct buf *b);

/*
 * The allocator's policy for a long-running server, set once at its
 * start: blocks of MEM_MMAP_MIN bytes and more get pages of their own,
 * given back when freed.  glibc's default raises that threshold to the
 * size of the largest such block freed so far (nftables' 2 MiB batches
 * at the start), after which every large transient buffer (SQLite's
 * 64 KiB ones, a body, a listing) is carved from a thread's heap, where
 * the long-lived blocks allocated around it keep the heap from shrinking
 * back: a server that churns pods would grow that way without end.
 */
#define MEM_MMAP_MIN (64 << 10)
void mem_server_policy(void);

#endif
