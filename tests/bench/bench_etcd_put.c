/*
 * bench_etcd_put.c - etcd's own put rate, the peer of durable applies on
 * a server with --etcd (tests/bench/bench_etcd.sh).
 *
 *     $ build/bench/bench_etcd_put -w 8 -t 3 -r 5 -s 600 http://127.0.0.1:2379
 *     etcd put w=8 run 1: 4100 puts in 3.00 s = 1366.7/s (p50 5.61 ms, p99 9.80 ms), 0 failed
 *     ...
 *     result etcd_put_w8 1380 puts/s
 *
 * N writer threads, each putting new keys PREFIX/W-I with a value of SIZE
 * bytes for a fixed time, one etcd transaction of one put per request and
 * nothing batched, through engine/store/etcd.h: the client the store on
 * etcd uses (the JSON gateway over HTTP/1.1, libcurl, kept-alive
 * connections).  A put counts once etcd answered it, which is once its
 * quorum committed it (fsync'd on a majority).  The figure is the median
 * rate over the runs; afterwards the prefix is deleted.
 *
 * It is the peer of bench_apply on a server with --etcd because it pays
 * the same transport and the same etcd commit per request, without what
 * clusterfs adds (FUSE, parsing and validating the manifest, the index,
 * the watch that must show the write before close() returns).  etcd's
 * `benchmark` tool is not packaged by Debian, and `etcdctl check perf`
 * puts at a fixed rate for 60 s and only says whether the cluster kept
 * up: it gives no put rate.
 *
 * Unlike the other benchmark programs, this one links the project's
 * objects (the Makefile has a rule of its own for it).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>

#include "engine/store/etcd.h"
#include "tests/bench/bench.h"

#define PROG	    "bench_etcd_put"
#define MAX_WRITERS 256

struct config {
	struct etcd *c;
	const char *prefix;
	const char *label;
	double seconds;
	int runs;
	size_t size;
};

struct writer {
	const struct config *cfg;
	int id, run;
	pthread_barrier_t *start;
	int64_t deadline_ns;
	long done, failed;
	char first_err[256];
	int64_t end_ns;
	struct samples lat_ms;
};

/* The writer thread: puts until the deadline. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	const struct config *c = w->cfg;
	char key[512];
	char *val = bench_alloc(c->size);
	memset(val, 'x', c->size);
	pthread_barrier_wait(w->start);
	for (long i = 0;; i++) {
		int64_t t0 = bench_ns();
		if (t0 >= w->deadline_ns)
			break;
		int kl = snprintf(key, sizeof(key), "%s/%d-%d-%ld", c->prefix, w->run, w->id, i);
		struct etcd_op put = {ETCD_PUT, key, (size_t)kl, val, c->size, 0};
		struct etcd_txn_res res = {0};
		struct err *e = NULL;
		int rc = etcd_txn(c->c, NULL, 0, &put, 1, NULL, 0, &res, &e);
		int64_t t1 = bench_ns();
		etcd_txn_res_free(&res);
		if (rc < 0) {
			if (!w->failed++)
				snprintf(w->first_err, sizeof(w->first_err), "%s",
					 e && e->msg ? e->msg : strerror(-rc));
			err_free(e);
			continue;
		}
		w->done++;
		samples_add(&w->lat_ms, (double)(t1 - t0) / 1e6);
	}
	w->end_ns = bench_ns();
	free(val);
	return NULL;
}

/* One timed run with n writers; returns puts/s, latencies added to lat. */
static double run_once(const struct config *c, int n, int run, struct samples *lat)
{
	static struct writer ws[MAX_WRITERS];
	pthread_t tid[MAX_WRITERS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	memset(ws, 0, sizeof(ws));
	int64_t deadline = bench_ns() + (int64_t)(c->seconds * 1e9);
	for (int i = 0; i < n; i++) {
		ws[i] = (struct writer){.cfg = c, .id = i, .run = run, .start = &start};
		ws[i].deadline_ns = deadline;
		if (pthread_create(&tid[i], NULL, writer_main, &ws[i]) != 0)
			bench_die(PROG, "pthread_create failed");
	}
	pthread_barrier_wait(&start);
	int64_t t0 = bench_ns(), end = t0;
	long done = 0, failed = 0;
	const char *first = NULL;
	struct samples runlat = {0};
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		done += ws[i].done;
		failed += ws[i].failed;
		if (!first && ws[i].failed)
			first = ws[i].first_err;
		if (ws[i].end_ns > end)
			end = ws[i].end_ns;
		samples_merge(&runlat, &ws[i].lat_ms);
		samples_free(&ws[i].lat_ms);
	}
	pthread_barrier_destroy(&start);
	double secs = (double)(end - t0) / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	samples_merge(lat, &runlat);
	samples_sort(&runlat);
	printf("%s w=%d run %d: %ld puts in %.2f s = %.1f/s (p50 %.2f ms, p99 %.2f ms), "
	       "%ld failed%s%s\n",
	       c->label, n, run, done, secs, rate, samples_pct(&runlat, 50),
	       samples_pct(&runlat, 99), failed, first ? ": first error " : "", first ? first : "");
	fflush(stdout);
	samples_free(&runlat);
	return failed ? -1 : rate;
}

/* Deletes every key under the prefix. */
static void cleanup(const struct config *c)
{
	char key[512], end[512];
	int kl = snprintf(key, sizeof(key), "%s/", c->prefix);
	memcpy(end, key, (size_t)kl);
	end[kl - 1]++; /* '/' + 1 = '0': the end of the range */
	struct etcd_op del = {ETCD_DELETE, key, (size_t)kl, end, (size_t)kl, 0};
	struct etcd_txn_res res = {0};
	struct err *e = NULL;
	if (etcd_txn(c->c, NULL, 0, &del, 1, NULL, 0, &res, &e) < 0)
		fprintf(stderr, PROG ": deleting %s: %s\n", key, e ? e->msg : "?");
	etcd_txn_res_free(&res);
	err_free(e);
}

static void usage(void)
{
	fputs("usage: " PROG " [-w N] [-t SECONDS] [-r RUNS] [-s SIZE] [-l LABEL] [-p PREFIX]\n"
	      "                      ENDPOINTS\n"
	      "  ENDPOINTS  etcd's client URLs, comma-separated\n"
	      "  -w writers (8)  -t seconds a run (3)  -r runs (5)  -s value bytes (600)\n"
	      "  -l label of the result lines (etcd_put)  -p key prefix (/cfs-bench-put)\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct config c = {
	    .prefix = "/cfs-bench-put", .label = "etcd_put", .seconds = 3, .runs = 5, .size = 600};
	int n = 8, opt;
	while ((opt = getopt(argc, argv, "w:t:r:s:l:p:h")) != -1) {
		switch (opt) {
		case 'w':
			n = atoi(optarg);
			break;
		case 't':
			c.seconds = atof(optarg);
			break;
		case 'r':
			c.runs = atoi(optarg);
			break;
		case 's':
			c.size = (size_t)atol(optarg);
			break;
		case 'l':
			c.label = optarg;
			break;
		case 'p':
			c.prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || n < 1 || n > MAX_WRITERS || c.seconds <= 0 || c.runs < 1 ||
	    c.size < 1 || c.size > 1000000)
		usage();
	struct err *e = NULL;
	if (etcd_open(&(struct etcd_opts){.endpoints = argv[optind]}, &c.c, &e) < 0)
		bench_die(PROG, "%s", e ? e->msg : "etcd_open failed");
	struct samples rates = {0}, lat = {0};
	int bad = 0;
	for (int r = 1; r <= c.runs; r++) {
		double rate = run_once(&c, n, r, &lat);
		if (rate < 0)
			bad = 1;
		else
			samples_add(&rates, rate);
	}
	cleanup(&c);
	etcd_close(c.c);
	samples_sort(&rates);
	samples_sort(&lat);
	char key[256];
	if (rates.n) {
		printf("%s w=%d: median %.1f puts/s (min %.1f, max %.1f over %zu runs); "
		       "latency p50 %.2f ms p90 %.2f ms p99 %.2f ms\n",
		       c.label, n, samples_pct(&rates, 50), rates.v[0], rates.v[rates.n - 1],
		       rates.n, samples_pct(&lat, 50), samples_pct(&lat, 90),
		       samples_pct(&lat, 99));
		snprintf(key, sizeof(key), "%s_w%d", c.label, n);
		bench_result(key, samples_pct(&rates, 50), "puts/s");
		snprintf(key, sizeof(key), "%s_w%d_p50", c.label, n);
		bench_result(key, samples_pct(&lat, 50), "ms");
	}
	samples_free(&rates);
	samples_free(&lat);
	return bad;
}
