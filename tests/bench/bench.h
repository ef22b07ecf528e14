/*
 * bench.h - the few helpers every benchmark program shares: a monotonic
 * clock, sample arrays with order statistics, whole writes, and the
 * "result KEY VALUE UNIT" line that run.sh collects into its summary.
 *
 * Each benchmark (tests/bench/NAME.c) is compiled alone, with no project
 * objects, so this header is the only code they share; everything in it
 * is static inline.
 * Nothing here is thread-safe unless it says so.
 */
#ifndef CFS_BENCH_H
#define CFS_BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Clock */

/* Nanoseconds on the monotonic clock.  Can't fail. */
static inline int64_t bench_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Errors */

/* Prints "PROG: message" on stderr and exits 1. */
static inline void __attribute__((noreturn, format(printf, 2, 3)))
bench_die(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* malloc that exits on failure. */
static inline void *bench_alloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("bench: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* Samples */

/* A growable array of doubles (latencies, rates); zero-initialise it. */
struct samples {
	double *v;
	size_t n, cap;
};

/* Appends x, growing the array (exits when out of memory). */
static inline void samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		double *v = realloc(s->v, s->cap * sizeof(*v));
		if (!v) {
			fputs("bench: out of memory\n", stderr);
			exit(1);
		}
		s->v = v;
	}
	s->v[s->n++] = x;
}

/* Appends every sample of src to dst. */
static inline void samples_merge(struct samples *dst, const struct samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		samples_add(dst, src->v[i]);
}

/* Frees the samples and leaves s empty and reusable. */
static inline void samples_free(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* qsort order of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts the samples in place; call before samples_pct. */
static inline void samples_sort(struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), bench_cmp_double);
}

/*
 * The p-th percentile (0 < p <= 100) of sorted samples, by nearest rank;
 * the median (p = 50) of an even count is the mean of the two middle
 * ones.  0 when there are none.
 */
static inline double samples_pct(const struct samples *s, double p)
{
	if (s->n == 0)
		return 0;
	if (p == 50 && s->n % 2 == 0)
		return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	double rank = p / 100 * (double)s->n;
	size_t i = (size_t)rank;
	if ((double)i < rank)
		i++;
	return s->v[i > 0 ? (i <= s->n ? i - 1 : s->n - 1) : 0];
}

/* The arithmetic mean; 0 when there are none. */
static inline double samples_mean(const struct samples *s)
{
	double t = 0;
	for (size_t i = 0; i < s->n; i++)
		t += s->v[i];
	return s->n ? t / (double)s->n : 0;
}

/* Output */

/* One figure for run.sh's summary: "result KEY VALUE UNIT". */
static inline void bench_result(const char *key, double value, const char *unit)
{
	int prec = value >= 100 ? 0 : value >= 1 ? 2 : 3;
	printf("result %s %.*f %s\n", key, prec, value, unit);
	fflush(stdout);
}

/* I/O */

/* Writes all of buf to fd.  Returns 0, or -1 with errno set. */
static inline int bench_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
