/*
 * store_ckpt.c - WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past 1,000 pages, on the committing thread: in the store, that is the
 * leader of a group commit, whom every writer of the next batch waits
 * for.  With 30,000 pods arriving, those checkpoints (copying the WAL's
 * pages into the database and an fsync of it) were a sixth of that serial
 * path.  Here the write connection only notes the WAL's size after each
 * commit (sqlite3_wal_hook, which replaces the automatic checkpoint) and
 * wakes a thread with a connection of its own, which runs a PASSIVE
 * checkpoint (it never waits for, nor blocks, the writer) while the next
 * batch runs on the other core.  Should that thread fall far behind, the
 * commit checkpoints itself as before, so that the WAL stays bounded.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_int.h"

#define CKPT_PAGES     1000  /* WAL pages that call for a checkpoint (SQLite's default) */
#define CKPT_PAGES_MAX 20000 /* past this the committing thread does it itself */

struct ckpt {
	sqlite3 *db; /* the thread's own connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool want; /* mu: the WAL has grown past CKPT_PAGES */
	bool stop; /* mu */
};

/* After each commit on the write connection (its thread, the leader's). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct ckpt *c = arg;
	if (pages >= CKPT_PAGES_MAX) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (pages >= CKPT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->want = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		if (c->stop)
			break;
		c->want = false;
		pthread_mutex_unlock(&c->mu);
		int rc =
		    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("store", "checkpoint: %s", sqlite3_errmsg(c->db));
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void store_ckpt_start(struct store *st)
{
	struct ckpt *c = xcalloc(1, sizeof(*c));
	int rc =
	    sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(c->db, 1000);
		rc = sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (rc != SQLITE_OK || pthread_create(&c->thread, NULL, ckpt_main, c)) {
		/* SQLite's own checkpoints in the commit, as before */
		log_warn("store", "%s: checkpoints stay in the commits: %s", st->path,
			 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cond);
		free(c);
		return;
	}
	st->ckpt = c;
	sqlite3_wal_hook(st->wdb, wal_hook, c);
}

void store_ckpt_stop(struct store *st)
{
	struct ckpt *c = st->ckpt;
	if (!c)
		return;
	sqlite3_wal_autocheckpoint(st->wdb, CKPT_PAGES); /* the hook goes */
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cond);
	free(c);
	st->ckpt = NULL;
}
