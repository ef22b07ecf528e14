/*
 * clock.c - see clock.h.
 */
#include "engine/clock.h"

#include <time.h>

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mono_ms(void)
{
	return ns_of(CLOCK_MONOTONIC) / 1000000;
}

int64_t mono_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

int64_t wall_ms(void)
{
	return ns_of(CLOCK_REALTIME) / 1000000;
}

int64_t wall_ns(void)
{
	return ns_of(CLOCK_REALTIME);
}

static struct timespec deadline(clockid_t id, int64_t ms)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	return ts;
}

struct timespec mono_deadline(int64_t ms)
{
	return deadline(CLOCK_MONOTONIC, ms);
}

struct timespec wall_deadline(int64_t ms)
{
	return deadline(CLOCK_REALTIME, ms);
}
