/*
 * api_int.h - what the api_*.c files share; not part of the API.
 *
 * struct api's fields are set at api_new() and read-only afterwards, but
 * for the event recorder's, which ev_lock guards.  A view (api_as()) copies
 * st and the settings, and uses its root's event recorder.
 */
#ifndef CFS_API_INT_H
#define CFS_API_INT_H

#include <pthread.h>

#include "engine/api/api.h"
#include "engine/api/svc.h"
#include "engine/hmap.h"
#include "engine/store/store.h"
#include "engine/valid/psa.h"

struct pending_event;

#define API_UNKEPT_MAX 1000 /* refused-write lines kept in memory (api_refusal.c) */

struct api {
	struct store *st;
	struct api *root;	  /* the root api: itself, or the one a view was made of */
	struct api_who *who;	  /* a view's caller (its own copy); NULL: the root */
	int default_toleration_s; /* not-ready/unreachable NoExecute tolerations */
	struct svc_cidr svc_cidr; /* the service IP range (api_svc.c) */

	/* Pod Security: the level of namespaces without labels (api_psa.c);
	 * the root's is used. */
	struct psa_policy psa_default;

	/* The event recorder (api_event.c). */
	pthread_mutex_t ev_lock; /* guards everything below */
	pthread_cond_t ev_cond;	 /* work for the recorder, or stop */
	pthread_cond_t ev_idle;	 /* the queue is empty and written */
	struct pending_event *ev_head, **ev_tail;
	size_t ev_len;
	bool ev_busy; /* the recorder is writing a batch */
	bool ev_stop;
	bool ev_running;
	pthread_t ev_thread;
	struct hmap ev_seen; /* dedupe key -> event name (char *) */
	struct hmap ev_agg;  /* aggregate key -> struct ev_agg (api_event.c) */
	uint64_t ev_seq;

	/* The leader's name (api_lead.c, under its lock); the root's is used. */
	char *leader;
	uint64_t leader_seq;

	/* Reads while the store cannot be synced (api_lead.c, under its
	 * lock); the root's are used. */
	int64_t stale_since_ns; /* wall time the outage began; 0: none */
	int64_t stale_at_ms;	/* mono_ms() of the last failed sync */
	int stale_code;		/* its errno */
	char *stale_msg;	/* its message */
	bool stale_reported;	/* the outage's line is in the errors log */
	uint64_t stale_seq;	/* changes whenever the state does */

	/* Refused-write lines the store could not keep (api_refusal.c,
	 * under its lock): a ring of the newest API_UNKEPT_MAX; the root's. */
	char *unkept[API_UNKEPT_MAX];
	uint64_t unkept_n; /* lines ever added; the newest is unkept[(n-1) % 64] */

	/* The latest usage samples (api_metrics.c, under their own lock); the root's. */
	struct api_mtab *mtab;
};

/* The metrics table of a root (api_new, api_free). */
void api_metrics_init(struct api *a);
void api_metrics_free(struct api *a);

/* The thread's mark of api_fence_thread (api_lead.c). */
bool api_thread_fenced(void);

/* Keeps a refused-write line the store could not keep (api_refused). */
void api_refusal_unkept_add(struct api *a, const char *line);

/* Frees a root's unkept lines and stale message (api_free). */
void api_refusals_unkept_free(struct api *a);

/* Is a's caller root (api_authz.c)? */
bool api_caller_is_root(const struct api *a);
/* "alice:dev mode 2770" (api_nsperm.c); the caller frees it. */
char *api_ns_perm_text(const struct api_ns_perm *p);
const char *api_jstr(const json_t *o, const char *key);
json_t *api_meta_of(json_t *obj);
const char *api_obj_name(const json_t *obj);
const char *api_obj_ns(const json_t *obj);
const char *api_scope_ns(const struct kind_info *k, const char *ns);
void api_new_uid(char out[37]);

/* Inside a store transaction */
int api_check_namespace(struct store_txn *tx, const struct kind_info *k, const char *ns,
			const char *name, struct err **e);
int64_t api_put_new(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		    json_t *obj, bool keep_status, struct err **e);
/* api_put_new in two steps, so that a batch does the first outside its
 * transaction: the server's metadata, defaults and key order (obj is
 * consumed; returns the object to put), then admission (unless the caller
 * admitted it in this transaction) and the write. */
json_t *api_new_fill(const struct api *a, const struct kind_info *k, json_t *obj, bool keep_status);
int64_t api_put_filled(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		       json_t *obj, bool admitted, struct err **e);
int api_put_update(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		   struct sobj *old, json_t *new, struct err **e);
/* Admission of a Service being written (old: its current state, or NULL
 * when new): gives or keeps its cluster IP and node ports; -EINVAL for a
 * requested IP or port outside the range, -EEXIST when it is taken,
 * -ENOSPC when the range is full.  a NULL: the default range. */
int api_admit_service(struct store_txn *tx, const struct api *a, const struct sobj *old,
		      json_t *obj, struct err **e);
int api_delete_tree(struct store_txn *tx, struct sobj *o, int grace, int depth, struct err **e);

/* The authorization of a call on a view (api_authz.c): 0 at once for the
 * root; else api_authorize() of {verb, k, ns, name, sub}. */
int api_check(struct api *a, const char *verb, const struct kind_info *k, const char *ns,
	      const char *name, const char *sub, struct err **e);

/* Frees a view (api_free() of one). */
void api_view_free(struct api *v);

int api_events_start(struct api *a, struct err **e);
void api_events_stop(struct api *a);

/* Pod Security admission (api_psa.c).  api_psa_admit: 0, -EINVAL for a
 * Namespace's bad labels, -EACCES for a Pod its namespace's enforce level
 * refuses (old: the current object of an update, or NULL).
 * api_psa_warning: the warn mode's message for a Pod, Deployment or
 * ReplicaSet (new string), or NULL; logs the audit mode's.  tx NULL: read
 * outside a transaction.  api_psa_emit hands a warning (freed; NULL:
 * nothing) to the caller's collector or records it as an Event. */
int api_psa_admit(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		  const json_t *old, const json_t *obj, struct err **e);
char *api_psa_warning(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		      const json_t *old, const json_t *obj);
void api_psa_emit(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		  char *warning);

#endif
