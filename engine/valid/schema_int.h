/*
 * schema_int.h - private to engine/valid/schema*.c: the macros the
 * tables are written with, and each file's share of the definitions.
 *
 * A row names one field:
 *   FS string      FI int32     FL int64     FB bool      FN number
 *   FT time        FQ quantity  FX int-or-string          FANY any value
 *   FE string with allowed values (a NULL-ended array)
 *   FO object of a definition        FA list of a definition's objects
 *   FAK list merged by keys (a NULL-ended array; the first is the patch
 *       merge key)                   FAS list of strings  FAI list of int64
 *   FAKANY list of any values merged by keys (elements not described)
 *   FAKRET list merged by keys whose patches may $retainKeys (volumes)
 *   FASET list of strings merged as a set (finalizers)
 *   FM map of strings                FMQ map of quantities
 * The R suffix (FSR, FOR, FAR, FIR, FER, FXR) marks a required field.
 */
#ifndef CFS_VALID_SCHEMA_INT_H
#define CFS_VALID_SCHEMA_INT_H

#include "engine/valid/schema.h"

#define META  "io.k8s.apimachinery.pkg.apis.meta.v1."
#define CORE  "io.k8s.api.core.v1."
#define APPS  "io.k8s.api.apps.v1."
#define ASCL  "io.k8s.api.autoscaling.v1."
#define ASCL2 "io.k8s.api.autoscaling.v2."
#define COORD "io.k8s.api.coordination.v1."

#define F_(n, t, i, r, d, fl, e, k)                                                                \
	{                                                                                          \
		n, t, i, r, d, fl, e, k                                                            \
	}
#define FS(n, d)	   F_(n, SCH_STRING, 0, NULL, d, 0, NULL, NULL)
#define FSR(n, d)	   F_(n, SCH_STRING, 0, NULL, d, SCH_REQUIRED, NULL, NULL)
#define FSRO(n, d)	   F_(n, SCH_STRING, 0, NULL, d, SCH_READONLY, NULL, NULL)
#define FE(n, e, d)	   F_(n, SCH_STRING, 0, NULL, d, 0, e, NULL)
#define FER(n, e, d)	   F_(n, SCH_STRING, 0, NULL, d, SCH_REQUIRED, e, NULL)
#define FI(n, d)	   F_(n, SCH_INT32, 0, NULL, d, 0, NULL, NULL)
#define FIR(n, d)	   F_(n, SCH_INT32, 0, NULL, d, SCH_REQUIRED, NULL, NULL)
#define FL(n, d)	   F_(n, SCH_INT64, 0, NULL, d, 0, NULL, NULL)
#define FB(n, d)	   F_(n, SCH_BOOL, 0, NULL, d, 0, NULL, NULL)
#define FN(n, d)	   F_(n, SCH_NUMBER, 0, NULL, d, 0, NULL, NULL)
#define FT(n, d)	   F_(n, SCH_TIME, 0, NULL, d, 0, NULL, NULL)
#define FQ(n, d)	   F_(n, SCH_QUANTITY, 0, NULL, d, 0, NULL, NULL)
#define FX(n, d)	   F_(n, SCH_INT_OR_STRING, 0, NULL, d, 0, NULL, NULL)
#define FXR(n, d)	   F_(n, SCH_INT_OR_STRING, 0, NULL, d, SCH_REQUIRED, NULL, NULL)
#define FANY(n, d)	   F_(n, SCH_ANY, 0, NULL, d, 0, NULL, NULL)
#define FO(n, r, d)	   F_(n, SCH_OBJECT, 0, r, d, 0, NULL, NULL)
#define FOR(n, r, d)	   F_(n, SCH_OBJECT, 0, r, d, SCH_REQUIRED, NULL, NULL)
#define FA(n, r, d)	   F_(n, SCH_ARRAY, SCH_OBJECT, r, d, 0, NULL, NULL)
#define FAR(n, r, d)	   F_(n, SCH_ARRAY, SCH_OBJECT, r, d, SCH_REQUIRED, NULL, NULL)
#define FAK(n, r, k, d)	   F_(n, SCH_ARRAY, SCH_OBJECT, r, d, 0, NULL, k)
#define FAKR(n, r, k, d)   F_(n, SCH_ARRAY, SCH_OBJECT, r, d, SCH_REQUIRED, NULL, k)
#define FAKANY(n, k, d)	   F_(n, SCH_ARRAY, SCH_ANY, NULL, d, 0, NULL, k)
#define FAKRET(n, r, k, d) F_(n, SCH_ARRAY, SCH_OBJECT, r, d, SCH_RETAIN, NULL, k)
#define FAS(n, d)	   F_(n, SCH_ARRAY, SCH_STRING, NULL, d, 0, NULL, NULL)
#define FASET(n, d)	   F_(n, SCH_ARRAY, SCH_STRING, NULL, d, SCH_SET, NULL, NULL)
#define FASR(n, d)	   F_(n, SCH_ARRAY, SCH_STRING, NULL, d, SCH_REQUIRED, NULL, NULL)
#define FAI(n, d)	   F_(n, SCH_ARRAY, SCH_INT64, NULL, d, 0, NULL, NULL)
#define FAANY(n, d)	   F_(n, SCH_ARRAY, SCH_ANY, NULL, d, 0, NULL, NULL)
#define FM(n, d)	   F_(n, SCH_MAP, SCH_STRING, NULL, d, 0, NULL, NULL)
#define FMQ(n, d)	   F_(n, SCH_MAP, SCH_QUANTITY, NULL, d, 0, NULL, NULL)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DEF(n, d, f)                                                                               \
	{                                                                                          \
		n, d, f, NELEM(f), NULL, NULL, NULL                                                \
	}
#define KIND(n, d, f, g, v, k)                                                                     \
	{                                                                                          \
		n, d, f, NELEM(f), g, v, k                                                         \
	}

/* apiVersion, kind and metadata: the first rows of every kind. */
#define TYPE_META                                                                                  \
	FS("apiVersion", "The versioned schema of this representation of an object: v1, "          \
			 "apps/v1, ..."),                                                          \
	    FS("kind", "The REST resource this object represents, in CamelCase: Pod, "             \
		       "Deployment, ...")
#define OBJ_META                                                                                   \
	TYPE_META, FO("metadata", META "ObjectMeta",                                               \
		      "Standard object metadata: name, namespace, "                                \
		      "labels, annotations, ...")
#define LIST_META                                                                                  \
	TYPE_META, FO("metadata", META "ListMeta",                                                 \
		      "Standard list metadata: the resourceVersion the list was read at.")

extern const char *const schema_k_name[]; /* {"name", NULL} */
extern const char *const schema_k_type[]; /* {"type", NULL} */
extern const char *const schema_k_ip[];	  /* {"ip", NULL} */

/* schema_pod.c: pods, pod templates and what they hold. */
extern const struct sch_def schema_pod_defs[];
extern const size_t schema_pod_ndefs;
/* schema_kinds.c: metadata, the other kinds, lists and API objects. */
extern const struct sch_def schema_kind_defs[];
extern const size_t schema_kind_ndefs;
/* schema_hpa.c: HorizontalPodAutoscaler, autoscaling/v2 and v1. */
extern const struct sch_def schema_hpa_defs[];
extern const size_t schema_hpa_ndefs;

#endif
