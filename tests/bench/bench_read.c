/*
 * bench_read.c - latency of reading a small generated file: open + read +
 * close of deployments/NAME/replicas, timed one iteration at a time.
 *
 *     $ build/bench/bench_read /cluster
 *     replicas (open+read+close): n=20000 p50 49.2 us p90 104.9 us p99 243.4 us ...
 *     result read_replicas_p50 49.17 us
 *     ...
 *
 * It creates one Deployment through the filesystem (replicas 0, so no
 * controller has pods to make), then, after a warm-up, times each of
 * 20,000 iterations of open(O_RDONLY), one read() into a 4 KiB buffer and
 * close() with clock_gettime around the three calls, and prints the
 * median, p90 and p99.  It also times the same file read the way cat
 * reads it (read until read() returns 0: one more request), the figure the
 * read target (60 us) is judged on, and the whole manifest
 * deployments/NAME.yaml (a bigger, rendered file).
 *
 * With -f FILE it times only FILE, one read per open, and then reading to
 * EOF as cat does (KEY_eof): the same loops on a plain file are the
 * kernel's floor for comparison (issue 16's peer).
 *
 * The files are unchanged between iterations, so from the second on the
 * kernel serves them from its cache (fs/fs_cache.c): what is timed is the
 * open (one request) and the close.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "tests/bench/bench.h"

#define PROG   "bench_read"
#define WARMUP 1000

static const char deployment_yaml[] = "apiVersion: apps/v1\n"
				      "kind: Deployment\n"
				      "metadata:\n"
				      "  name: bench-read\n"
				      "  labels:\n"
				      "    app: bench-read\n"
				      "spec:\n"
				      "  replicas: 0\n"
				      "  selector:\n"
				      "    matchLabels:\n"
				      "      app: bench-read\n"
				      "  template:\n"
				      "    metadata:\n"
				      "      labels:\n"
				      "        app: bench-read\n"
				      "    spec:\n"
				      "      containers:\n"
				      "      - name: web\n"
				      "        image: busybox:1.36\n"
				      "        command: [\"sleep\", \"3600\"]\n"
				      "        ports:\n"
				      "        - containerPort: 8080\n";

/*
 * Reads path once: open, read (once, or until EOF when to_eof), close.
 * Returns the bytes read, or -1 with errno set.
 */
static ssize_t read_file(const char *path, char *buf, size_t cap, bool to_eof)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t total = 0, n;
	do {
		n = read(fd, buf, cap);
		if (n > 0)
			total += n;
	} while (to_eof && n > 0);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	return total;
}

/*
 * Times iters reads of path (after a warm-up) and prints the order
 * statistics, with result lines KEY_p50, KEY_p90 and KEY_p99 in µs.
 * Exits if a read fails or returns nothing.
 */
static void time_reads(const char *key, const char *what, const char *path, long iters, size_t cap,
		       bool to_eof)
{
	char *buf = bench_alloc(cap);
	struct samples us = {0};
	for (long i = -WARMUP; i < iters; i++) {
		int64_t t0 = bench_ns();
		ssize_t n = read_file(path, buf, cap, to_eof);
		int64_t t1 = bench_ns();
		if (n <= 0)
			bench_die(PROG, "%s: %s", path, n < 0 ? strerror(errno) : "read nothing");
		if (i >= 0)
			samples_add(&us, (double)(t1 - t0) / 1e3);
	}
	samples_sort(&us);
	printf("%s: n=%zu p50 %.1f us p90 %.1f us p99 %.1f us mean %.1f us max %.1f us\n", what,
	       us.n, samples_pct(&us, 50), samples_pct(&us, 90), samples_pct(&us, 99),
	       samples_mean(&us), us.v[us.n - 1]);
	char k[256];
	static const double pcts[] = {50, 90, 99};
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		snprintf(k, sizeof(k), "%s_p%.0f", key, pcts[i]);
		bench_result(k, samples_pct(&us, pcts[i]), "us");
	}
	samples_free(&us);
	free(buf);
}

/* Writes the benchmark's Deployment through mnt; exits on failure. */
static void create_deployment(const char *mnt)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/deployments/bench-read.yaml", mnt);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die(PROG, "%s: %s", path, strerror(errno));
	if (bench_write_all(fd, deployment_yaml, sizeof(deployment_yaml) - 1) < 0)
		bench_die(PROG, "writing %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		bench_die(PROG, "applying %s: %s (see errors)", path, strerror(errno));
}

/* Prints the usage on stderr and exits 2. */
static void usage(void)
{
	fputs("usage: " PROG " [-n ITERATIONS] MOUNTPOINT\n"
	      "       " PROG " [-n ITERATIONS] [-l LABEL] -f FILE\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	long iters = 20000;
	const char *file = NULL, *label = "peer_read";
	int opt;
	while ((opt = getopt(argc, argv, "n:f:l:h")) != -1) {
		switch (opt) {
		case 'n':
			iters = atol(optarg);
			break;
		case 'f':
			file = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		default:
			usage();
		}
	}
	if (iters < 1 || (file ? optind != argc : optind != argc - 1))
		usage();
	if (file) {
		char key[256];
		time_reads(label, file, file, iters, 4096, false);
		snprintf(key, sizeof(key), "%s_eof", label);
		time_reads(key, "the same, to EOF as cat", file, iters, 4096, true);
		return 0;
	}
	const char *mnt = argv[optind];
	char path[4096], buf[64];
	create_deployment(mnt);
	snprintf(path, sizeof(path), "%s/deployments/bench-read/replicas", mnt);
	ssize_t n = read_file(path, buf, sizeof(buf) - 1, true);
	if (n < 0)
		bench_die(PROG, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	if (strcmp(buf, "0\n"))
		bench_die(PROG, "%s: want \"0\\n\", read \"%s\"", path, buf);
	time_reads("read_replicas", "replicas (open+read+close)", path, iters, 4096, false);
	time_reads("read_replicas_eof", "replicas (open+read to EOF+close, as cat)", path, iters,
		   4096, true);
	snprintf(path, sizeof(path), "%s/deployments/bench-read.yaml", mnt);
	struct stat st;
	if (stat(path, &st) == 0)
		printf("bench-read.yaml is %lld bytes\n", (long long)st.st_size);
	time_reads("read_yaml_eof", "bench-read.yaml (open+read to EOF+close)", path, iters, 65536,
		   true);
	return 0;
}
