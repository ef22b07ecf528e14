/*
 * psa_int.h - what psa.c and psa_checks.c share; not part of the API.
 */
#ifndef CFS_PSA_INT_H
#define CFS_PSA_INT_H

#include "engine/valid/psa.h"

/* The pod a check looks at, and the version it is evaluated at. */
struct psa_pod {
	const json_t *meta; /* may be NULL */
	const json_t *spec;
	int minor; /* 0..PSA_MINOR_MAX */
};

/*
 * One check of the standards: NULL when the pod passes, else a new string
 * "reason (detail)" in Kubernetes' words.  A baseline check that overlaps
 * names no replacement; a restricted check that replaces a baseline one
 * names it in replaces (from its min_minor on).
 */
struct psa_check {
	const char *id;
	enum psa_level level;
	int min_minor;	      /* the first version it applies at */
	bool overlap;	      /* baseline: replaced at restricted by a check naming it */
	const char *replaces; /* restricted: the baseline check it replaces */
	char *(*fn)(const struct psa_pod *p);
};

/* Kubernetes' order: baseline checks, then (restricted only) restricted ones. */
extern const struct psa_check psa_checks[];
extern const size_t psa_nchecks;

#endif
