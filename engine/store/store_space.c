/*
 * store_space.c - room on the disk and the store quota (see store.h).
 *
 * A full disk must not lock users out of deleting: a delete writes too
 * (the object's row goes, a DELETED row with its last state enters the
 * log, the WAL grows), so deletes need room exactly when there is none.
 * Two things keep it for them, as etcd keeps deletes working under its
 * space alarm:
 *
 * - puts are refused with ENOSPC once the disk holding the store has less
 *   than STORE_DISK_LOW bytes free, so the store itself never fills it;
 * - a reserve file, PATH.reserve (STORE_DISK_RESERVE bytes, allocated at
 *   open), holds room against everything else on the disk (pod logs,
 *   images, other programs).  When free space falls under half of
 *   STORE_DISK_LOW, the next batch gives the reserve back, and deletes
 *   run in it; puts stay refused until free space is back above
 *   STORE_DISK_RESERVE + STORE_DISK_LOW and the reserve is taken again.
 *
 * The quota (--store-quota) counts the database's pages in use, page_count
 * minus freelist_count: a put that would take it past the quota is refused
 * with ENOSPC and etcd's words ("database space exceeded").  Deleting
 * objects alone frees little, because the log keeps each deleted object's
 * last state; so after a refusal, compaction keeps only the newest
 * STORE_TIGHT_LOG_KEEP revisions of the log (watchers further behind
 * relist), the freed pages go to SQLite's freelist and count as free, and
 * puts resume once the usage is back under the quota.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_int.h"

int64_t store_disk_free_for_test = -1;

static const char used_sql[] = "SELECT (SELECT page_count FROM pragma_page_count)"
			       " - (SELECT freelist_count FROM pragma_freelist_count)";

/* Bytes free on the disk holding the store (for unprivileged users, the
 * conservative figure); INT64_MAX when statvfs fails. */
static int64_t disk_free(struct store *st)
{
	struct statvfs sv;

	int64_t t = __atomic_load_n(&store_disk_free_for_test, __ATOMIC_RELAXED);
	if (t >= 0)
		return t;
	if (statvfs(st->reserve_path, &sv) < 0 && statvfs(st->path, &sv) < 0)
		return INT64_MAX;
	return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

/* Allocates the reserve file; true once it is in place. */
static bool reserve_take(struct store *st)
{
	int fd = open(st->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	int r = posix_fallocate(fd, 0, STORE_DISK_RESERVE);
	if (r == 0 && fdatasync(fd) < 0)
		r = errno;
	close(fd);
	if (r) {
		unlink(st->reserve_path);
		log_warn("store", "%s: can't keep a reserve of %d bytes: %s", st->reserve_path,
			 STORE_DISK_RESERVE, strerror(r));
		return false;
	}
	return true;
}

static void reserve_give_back(struct store *st)
{
	if (unlink(st->reserve_path) < 0 && errno != ENOENT)
		log_warn("store", "%s: can't give the reserve back: %s", st->reserve_path,
			 strerror(errno));
	st->reserve_held = false;
	log_warn("store",
		 "%s: the disk is nearly full: reserve given back for deletes; "
		 "writes are refused until there is room",
		 st->path);
}

int space_open(struct store *st, struct err **e)
{
	int64_t ps = 0;
	sqlite3_stmt *s;

	st->reserve_path = xasprintf("%s.reserve", st->path);
	if (sqlite3_prepare_v2(st->wdb, "PRAGMA page_size", -1, &s, NULL) != SQLITE_OK)
		return err_make(e, EIO, "store %s: page_size: %s", st->path,
				sqlite3_errmsg(st->wdb));
	if (sqlite3_step(s) == SQLITE_ROW)
		ps = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	st->page_size = ps > 0 ? ps : 4096;
	if (sqlite3_prepare_v3(st->wdb, used_sql, -1, SQLITE_PREPARE_PERSISTENT, &st->s_used,
			       NULL) != SQLITE_OK)
		return err_make(e, EIO, "store %s: %s: %s", st->path, used_sql,
				sqlite3_errmsg(st->wdb));
	struct stat sb;
	if (stat(st->reserve_path, &sb) == 0 && sb.st_size >= STORE_DISK_RESERVE)
		st->reserve_held = true;
	else if (disk_free(st) >= STORE_DISK_RESERVE + STORE_DISK_LOW)
		st->reserve_held = reserve_take(st);
	return 0;
}

void space_close(struct store *st)
{
	sqlite3_finalize(st->s_used);
	free(st->reserve_path);
}

void space_batch_start(struct store *st)
{
	int64_t avail = disk_free(st);

	if (st->reserve_held && avail < STORE_DISK_LOW / 2)
		reserve_give_back(st);
	else if (!st->reserve_held && avail >= STORE_DISK_RESERVE + STORE_DISK_LOW &&
		 (st->reserve_held = reserve_take(st)))
		log_info("store", "%s: room on the disk again: reserve taken back", st->path);
}

/* Bytes of the database's pages in use, or -1. */
static int64_t used_bytes(struct store *st)
{
	int64_t pages = -1;

	if (sqlite3_step(st->s_used) == SQLITE_ROW)
		pages = sqlite3_column_int64(st->s_used, 0);
	sqlite3_reset(st->s_used);
	return pages < 0 ? -1 : pages * st->page_size;
}

int space_check_put(struct store *st, size_t add, struct err **e)
{
	int64_t avail = disk_free(st);

	if (avail < STORE_DISK_LOW || !st->reserve_held) {
		st->tight = true;
		return err_make(e, ENOSPC,
				"store %s: the disk is full (%" PRId64 " bytes free; writes need "
				"%d, and a reserve of %d is kept for deletes): delete objects "
				"or free disk space",
				st->path, avail, STORE_DISK_LOW, STORE_DISK_RESERVE);
	}
	int64_t quota = __atomic_load_n(&st->quota, __ATOMIC_RELAXED);
	if (quota <= 0) {
		st->tight = false;
		return 0;
	}
	int64_t used = used_bytes(st);
	if (used >= 0 && used + (int64_t)add > quota) {
		st->tight = true;
		return err_make(e, ENOSPC,
				"store %s: database space exceeded: %" PRId64 " bytes in use, "
				"this write needs about %zu more, quota %" PRId64
				" (--store-quota): delete objects; deletes still work",
				st->path, used, add, quota);
	}
	if (used + (int64_t)add <= quota / 4 * 3)
		st->tight = false;
	return 0;
}

int64_t space_log_keep(struct store *st, int64_t keep)
{
	return st->tight && keep > STORE_TIGHT_LOG_KEEP ? STORE_TIGHT_LOG_KEEP : keep;
}

/* "1048576", "512K", "64Mi", "2G": bytes (powers of 1024). */
static int64_t parse_bytes(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	int shift = 0;

	if (errno || end == s || v < 0)
		return -1;
	if (*end && strchr("KMGT", *end)) {
		shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 40;
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end || v > (INT64_MAX >> shift))
		return -1;
	return (int64_t)v << shift;
}

int store_set_quota(struct store *st, const char *bytes, struct err **e)
{
	int64_t q = parse_bytes(bytes);

	if (q < 0 || (q > 0 && q < STORE_QUOTA_MIN))
		return err_make(e, EINVAL,
				"--store-quota: want a size in bytes (K, M, G suffixes) of at "
				"least %d, or 0 for none; got \"%s\"",
				STORE_QUOTA_MIN, bytes);
	__atomic_store_n(&st->quota, q, __ATOMIC_RELAXED);
	return 0;
}
