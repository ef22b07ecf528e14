/*
 * sched_int.h - what the scheduler's parsing (sched_parse.c) and plugins
 * (sched_plugins.c) share, private to engine/sched.  No state.
 */
#ifndef CFS_SCHED_INT_H
#define CFS_SCHED_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/sched/sched.h"

/* Strict decimal int64, as Kubernetes' Gt/Lt read labels.  False (and *out
 * untouched) for anything else. */
bool sched_parse_int(const char *s, int64_t *out);

/* Does any of p's tolerations tolerate taint? */
bool sched_pod_tolerates(const struct sched_pod *p, const struct sched_taint *taint);

#endif
