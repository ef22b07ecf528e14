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

int64_t mono_ms(void);
int64_t mono_ns(void);
int64_t wall_ms(void);
int64_t wall_ns(void);

#endif
