/*
 * clock.h - the clocks, each named for what it counts.
 *
 * mono_*: CLOCK_MONOTONIC, for deadlines, timeouts and intervals (never
 * jumps when the wall clock is set).  wall_*: CLOCK_REALTIME, for times a
 * person or another machine reads (timestamps, ages compared with stored
 * times).
 */
#ifndef CFS_CLOCK_H
#define CFS_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t mono_ms(void);
int64_t mono_ns(void);
int64_t wall_ms(void);
int64_t wall_ns(void);

/* ms from now as an absolute time on that clock: the deadline of a
 * pthread_cond_timedwait on a condition variable of that clock. */
struct timespec mono_deadline(int64_t ms);
struct timespec wall_deadline(int64_t ms);

#endif
