/*
 * bench_peer.c - the peers clusterfs's durable writes are compared with,
 * on the same disk in the same session.
 *
 *     $ build/bench/bench_peer fsync /var/tmp/x
 *     append 4 KiB + fdatasync: n=200 p50 0.328 ms p90 0.543 ms p99 1.613 ms
 *     result fsync_p50 0.328 ms
 *     $ build/bench/bench_peer sqlite -w 1,8 /var/tmp/x
 *     sqlite w=8 run 1: 14786 inserts in 3.54 s = 4180.8/s, 0 failed
 *     result sqlite_insert_w8 5540 inserts/s
 *
 * fsync: the disk's commit latency, what one durable write costs at the
 * least: append 4 KiB to a file and fdatasync it (the size changes, so
 * the journal commits too, as for SQLite's WAL), 200 times.
 *
 * sqlite: N threads, each with its own connection to one database in WAL
 * mode with synchronous=FULL (clusterfs's store settings), each inserting
 * single rows of a ConfigMap-sized text, one transaction per row; waiting
 * for the write lock is SQLite's busy handler (busy_timeout 10 s).  No
 * group commit: this is the store without clusterfs's batching, API and
 * filesystem.
 *
 * The third peer, files written and fsync'd on ext4, is bench_apply -s.
 */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "tests/bench/bench.h"

#define PROG	    "bench_peer"
#define MAX_WRITERS 256

/* fsync */

/* Times n appends of 4 KiB + fdatasync to a new file in dir. */
static void bench_fsync(const char *dir, int n)
{
	char path[4096], block[4096];
	snprintf(path, sizeof(path), "%s/fsync-probe.%d", dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die(PROG, "%s: %s", path, strerror(errno));
	memset(block, 'x', sizeof(block));
	struct samples ms = {0};
	for (int i = -10; i < n; i++) {
		int64_t t0 = bench_ns();
		if (bench_write_all(fd, block, sizeof(block)) < 0 || fdatasync(fd) < 0)
			bench_die(PROG, "%s: %s", path, strerror(errno));
		if (i >= 0)
			samples_add(&ms, (double)(bench_ns() - t0) / 1e6);
	}
	close(fd);
	unlink(path);
	samples_sort(&ms);
	printf("append 4 KiB + fdatasync: n=%zu p50 %.3f ms p90 %.3f ms p99 %.3f ms\n", ms.n,
	       samples_pct(&ms, 50), samples_pct(&ms, 90), samples_pct(&ms, 99));
	bench_result("fsync_p50", samples_pct(&ms, 50), "ms");
	samples_free(&ms);
}

/* sqlite */

struct sq_writer {
	const char *db;
	int id;
	pthread_barrier_t *start;
	int64_t deadline_ns;
	long done, failed;
	char first_error[256];
	int64_t end_ns;
};

/* Opens db with the store's settings; exits on failure. */
static sqlite3 *sq_open(const char *db)
{
	sqlite3 *h;
	if (sqlite3_open(db, &h) != SQLITE_OK)
		bench_die(PROG, "%s: %s", db, sqlite3_errmsg(h));
	sqlite3_busy_timeout(h, 10000);
	char *msg = NULL;
	if (sqlite3_exec(h,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, w INTEGER, "
			 "body TEXT)",
			 NULL, NULL, &msg) != SQLITE_OK)
		bench_die(PROG, "%s: %s", db, msg ? msg : "setup failed");
	return h;
}

/* A writer: single-row inserts, each its own transaction, until the deadline. */
static void *sq_writer_main(void *arg)
{
	struct sq_writer *w = arg;
	sqlite3 *h = sq_open(w->db);
	sqlite3_stmt *ins;
	if (sqlite3_prepare_v2(h, "INSERT INTO kv (w, body) VALUES (?, ?)", -1, &ins, NULL) !=
	    SQLITE_OK)
		bench_die(PROG, "prepare: %s", sqlite3_errmsg(h));
	char body[512];
	pthread_barrier_wait(w->start);
	for (long i = 0; bench_ns() < w->deadline_ns; i++) {
		int len =
		    snprintf(body, sizeof(body),
			     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-%d-%ld\n"
			     "data:\n  writer: \"%d\"\n  seq: \"%ld\"\n",
			     w->id, i, w->id, i);
		sqlite3_bind_int(ins, 1, w->id);
		sqlite3_bind_text(ins, 2, body, len, SQLITE_STATIC);
		int rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc == SQLITE_DONE) {
			w->done++;
		} else if (!w->failed++) {
			snprintf(w->first_error, sizeof(w->first_error), "%s", sqlite3_errstr(rc));
		}
	}
	w->end_ns = bench_ns();
	sqlite3_finalize(ins);
	sqlite3_close(h);
	return NULL;
}

/* One timed run of n writers; returns inserts per second. */
static double sq_run(const char *db, int n, double seconds, int run)
{
	struct sq_writer ws[MAX_WRITERS];
	pthread_t tid[MAX_WRITERS];
	pthread_barrier_t start;
	sqlite3_close(sq_open(db)); /* the schema, before the writers race for it */
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	memset(ws, 0, sizeof(ws));
	for (int i = 0; i < n; i++) {
		ws[i] = (struct sq_writer){.db = db, .id = i, .start = &start};
		if (pthread_create(&tid[i], NULL, sq_writer_main, &ws[i]) != 0)
			bench_die(PROG, "pthread_create failed");
	}
	/* The writers read their deadline after the barrier. */
	int64_t deadline = bench_ns() + (int64_t)(seconds * 1e9);
	for (int i = 0; i < n; i++)
		ws[i].deadline_ns = deadline;
	pthread_barrier_wait(&start);
	int64_t t0 = bench_ns();
	long done = 0, failed = 0;
	int64_t end = t0;
	const char *first = "";
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		done += ws[i].done;
		failed += ws[i].failed;
		if (!*first)
			first = ws[i].first_error;
		if (ws[i].end_ns > end)
			end = ws[i].end_ns;
	}
	pthread_barrier_destroy(&start);
	double secs = (double)(end - t0) / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	printf("sqlite w=%d run %d: %ld inserts in %.2f s = %.1f/s, %ld failed%s%s\n", n, run, done,
	       secs, rate, failed, failed ? ": " : "", failed ? first : "");
	fflush(stdout);
	return rate;
}

/* Runs the sqlite peer for each writer count of wlist; removes the database. */
static void bench_sqlite(const char *dir, const char *wlist, double seconds, int runs)
{
	char db[4096];
	snprintf(db, sizeof(db), "%s/peer.db", dir);
	for (const char *s = wlist; *s;) {
		char *end;
		long n = strtol(s, &end, 10);
		if (end == s || n < 1 || n > MAX_WRITERS || (*end && *end != ','))
			bench_die(PROG, "-w: bad writer list \"%s\"", wlist);
		struct samples rates = {0};
		for (int r = 1; r <= runs; r++)
			samples_add(&rates, sq_run(db, (int)n, seconds, r));
		samples_sort(&rates);
		printf("sqlite w=%ld: median %.1f inserts/s (min %.1f, max %.1f over %d runs)\n", n,
		       samples_pct(&rates, 50), rates.v[0], rates.v[rates.n - 1], runs);
		char key[64];
		snprintf(key, sizeof(key), "sqlite_insert_w%ld", n);
		bench_result(key, samples_pct(&rates, 50), "inserts/s");
		samples_free(&rates);
		s = *end == ',' ? end + 1 : end;
	}
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
		unlink(p);
	}
}

/* Prints the usage on stderr and exits 2. */
static void usage(void)
{
	fputs("usage: " PROG " fsync [-n COUNT] DIR\n"
	      "       " PROG " sqlite [-w N[,N...]] [-t SECONDS] [-r RUNS] DIR\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1], *wlist = "1,8";
	double seconds = 3;
	int runs = 3, count = 200, opt;
	optind = 2;
	while ((opt = getopt(argc, argv, "n:w:t:r:h")) != -1) {
		switch (opt) {
		case 'n':
			count = atoi(optarg);
			break;
		case 'w':
			wlist = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || count < 1 || runs < 1 || seconds <= 0)
		usage();
	const char *dir = argv[optind];
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		bench_die(PROG, "%s: not a directory", dir);
	if (!strcmp(cmd, "fsync"))
		bench_fsync(dir, count);
	else if (!strcmp(cmd, "sqlite"))
		bench_sqlite(dir, wlist, seconds, runs);
	else
		usage();
	return 0;
}
