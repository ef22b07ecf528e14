/*
 * apic_int.h - the API client's vtable: what each implementation
 * (apic_local.c, apic_http.c) provides; apic.c dispatches to it.
 */
#ifndef CFS_APIC_INT_H
#define CFS_APIC_INT_H

#include "engine/client/apic.h"

struct apic_ops {
	const char *(*name)(const struct apic *c);
	void (*free)(struct apic *c);
	int (*get)(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		   struct sobj **out, struct err **e);
	int (*list)(struct apic *c, const struct kind_info *k, const struct apic_sel *sel,
		    struct sobj ***out, struct err **e);
	int (*create_many)(struct apic *c, json_t *const *objs, size_t n, int *results);
	int (*patch)(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		     api_mutate_fn mutate, void *arg, struct err **e);
	int (*update_status)(struct apic *c, const struct kind_info *k, const char *ns,
			     const char *name, const json_t *status, struct err **e);
	int (*status_many)(struct apic *c, const struct api_status *s, size_t n, int *results);
	int (*delete_many)(struct apic *c, const struct api_ref *r, size_t n, int grace,
			   int *results);
	/* msg is formatted already */
	void (*event)(struct apic *c, const char *type, const char *reason, const char *kind,
		      const char *ns, const char *name, const char *msg);
	int (*watch_open)(struct apic *c, const struct apic_watch_spec *sp, struct apic_watch **out,
			  struct err **e);
	int (*exec_register)(struct apic *c, const char *node, const struct api_exec_provider *p,
			     void *arg, struct err **e);
	void (*exec_unregister)(struct apic *c, const char *node);
	int (*metrics_report)(struct apic *c, const char *node, const json_t *report,
			      struct err **e);
};

/* Every implementation's struct starts with this. */
struct apic {
	const struct apic_ops *ops;
};

/* Every watch's struct starts with this. */
struct apic_watch_ops {
	int (*next)(struct apic_watch *w, struct store_event *evs, size_t max, int timeout_ms);
	void (*close)(struct apic_watch *w);
};
struct apic_watch {
	const struct apic_watch_ops *ops;
};

/* True when the watch spec wants events about kind (a kind name, "Pod"). */
bool apic_spec_wants(const struct apic_watch_spec *sp, const char *kind);

#endif
