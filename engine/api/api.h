/*
 * api.h - the API layer: the only way anything reads or changes objects.
 *
 * Like the Kubernetes API server it validates, defaults, sets server
 * metadata (uid, creationTimestamp, resourceVersion, generation), checks
 * optimistic concurrency, cascades deletes along ownerReferences and
 * namespaces, and records Events.  The filesystem and every controller use
 * only this module; none of them touches the store directly.
 *
 * Every call is atomic: it runs in one store transaction and is durable
 * when it returns 0.  A refused call changes nothing.  Errors carry an
 * errno: EINVAL (invalid), ENOENT (no such object), EEXIST, EBUSY
 * (conflict: the spec changed since the resourceVersion the caller had),
 * EPERM (not allowed), EFBIG (too large).
 *
 * Objects returned are frozen snapshots (struct sobj, engine/sobj.h):
 * never modify them.
 *
 * Thread-safe.
 */
#ifndef CFS_API_H
#define CFS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/err.h"
#include "engine/kind.h"
#include "engine/obj.h"
#include "engine/sobj.h"

struct api;
struct store;

/* Opens the API on a store (borrowed; must outlive the api).  Ensures the
 * "default" namespace exists. */
int api_new(struct store *st, struct api **out, struct err **e);
void api_free(struct api *a);

/*
 * Callers: who makes a call, and what they may do.
 *
 * The api that api_new() returns is the root: its caller is the system
 * (root, uid 0), which may do everything; controllers, the scheduler and
 * the in-process agent use it.  A face that serves someone else (the HTTP
 * API for a node's credential or a token's user; the filesystem for the
 * FUSE request's uid, gid and groups) calls through a view, api_as(root, who): the same
 * store, settings and event recorder, with a caller.  Every api_* call on
 * a view is authorized, once, here, for every face: a refused call is
 * -EACCES with Kubernetes' wording (api_authorize()) and changes nothing.
 * So no face and no controller has to pass a caller around: each keeps
 * using a struct api *, and only the face that knows the caller makes the
 * view.
 *
 * The rules (api_authz.c):
 *  - root (the root api, or a view whose caller is uid 0 and no node, or in
 *    the group "system:masters") may do everything;
 *  - a node (who.node set: user "system:node:NAME", group "system:nodes",
 *    Kubernetes' node authorizer) may read (get, list, watch) pods,
 *    services, endpoints, nodes, namespaces and leases, and get a
 *    configmap or secret that a pod bound to it uses (volume, projected
 *    source, env, envFrom; a secret also as an imagePullSecret); create,
 *    update and patch its own Node (and its status) and its own Lease
 *    (kube-node-lease/NAME; any kind named "Lease"); update and patch the
 *    status of pods bound to it (spec.nodeName == NAME) and delete them;
 *    create, update and patch events; nothing else;
 *  - any other user (uid, gid, supplementary gids: a FUSE request's
 *    caller, an HTTP token's user) is judged by Unix permissions on the
 *    namespace, as on a folder (api_ns_perm() below): in a namespace whose
 *    owner, group and mode grant them r (as the owner when uid == owner,
 *    else as the group when gid or a supplementary gid == group, else as
 *    other: Unix's order) they may read (get, list, watch, and read
 *    subresources such as pods/log); with w they may change (create,
 *    update, patch, delete, deletecollection, and subresources: status,
 *    exec, eviction, binding).  Secrets are never granted to "other",
 *    whatever the mode.  Cluster-scoped kinds (nodes, namespaces, ...):
 *    anyone reads, only root writes.  A list or watch across all
 *    namespaces is allowed and sees only the objects of namespaces the
 *    caller may read (api_list() filters; a watching face filters each
 *    event with api_may_read()), as `kubectl get pods -A` should not show
 *    another team's pods; a write across all namespaces is refused.
 *    Refusals name the namespace's owner, group and mode:
 *      pods "x" is forbidden: User "bob" cannot create resource "pods" in
 *      API group "" in the namespace "team-a": namespace "team-a" is
 *      owned by alice:dev mode 2770
 *
 * What a view does not check: api_watch(), api_rev() and api_kind_mtime()
 * (kind-agnostic or metadata only: the face checks the kind it serves with
 * api_authorize() first), api_dependents() and api_deployment_history()
 * (reads by uid, for the faces' own views), api_event() (the system's own
 * recorder), the refusal log, and helpers that take no api.  Batches
 * (api_*_many) on a view are refused whole (-EACCES, nothing written) when
 * any item is; api_get() of something the caller may not read is NULL with
 * errno EACCES.
 */
struct api_who {
	const char *user;  /* "root", "system:node:n1", "alice" */
	uid_t uid;	   /* the Unix user; (uid_t)-1: none (a node) */
	gid_t gid;	   /* its group; (gid_t)-1: none */
	const gid_t *gids; /* supplementary groups (ngids of them) */
	size_t ngids;
	const char *const *groups; /* Kubernetes' group names, NULL-ended ("system:nodes") */
	const char *node;	   /* a node's credential: the node's name; else NULL */
};

/*
 * A view of root (or of the root of a view) for the caller who (copied:
 * the view owns its copy).  who NULL gives root itself.  The view shares
 * everything with root and must not outlive it; api_free() frees a view
 * (and only the view).  Faces keep one view per caller for as long as its
 * requests (streams included) may run.  Can't fail.
 */
struct api *api_as(struct api *root, const struct api_who *who);

/* The caller of a (the root's: user "root", uid 0). */
const struct api_who *api_caller(const struct api *a);

/*
 * What a request asks, as Kubernetes' authorizers see it: verb ("get",
 * "list", "watch", "create", "update", "patch", "delete",
 * "deletecollection"), the kind, the namespace ("" or NULL: cluster scope
 * or all namespaces), the name ("" or NULL: a collection, or a create whose
 * name is not known yet: then the kind alone is checked and the API checks
 * the name when the object is written), the subresource ("" or NULL,
 * "status", "log", "exec", "eviction", ...).
 */
struct api_request {
	const char *verb;
	const struct kind_info *kind;
	const char *ns, *name, *sub;
};

/*
 * 0 when a's caller may do r, else -EACCES with *e in Kubernetes' words:
 *   nodes "n1" is forbidden: User "system:node:n2" cannot patch resource
 *   "nodes" in API group "" at the cluster scope: node "n2" may change
 *   only its own Node
 * A rule that depends on an object (a pod's node) reads it.  Thread-safe.
 */
int api_authorize(struct api *a, const struct api_request *r, struct err **e);

/*
 * Namespace ownership (api_nsperm.c): a namespace's owner, group and mode,
 * kept as annotations on the Namespace object, numeric, so that they
 * survive restarts and read the same on every face:
 *   clusterfs.io/owner: "1000"    (uid)
 *   clusterfs.io/group: "1000"    (gid)
 *   clusterfs.io/mode:  "2770"    (octal; permission bits and setgid)
 * Absent or unreadable values are root (0), root (0) and 0755.  The
 * annotations change with api_ns_chown/api_ns_chmod (or, by root, by
 * writing the Namespace as any object).
 */
#define API_NS_OWNER	    "clusterfs.io/owner"
#define API_NS_GROUP	    "clusterfs.io/group"
#define API_NS_MODE	    "clusterfs.io/mode"
#define API_NS_DEFAULT_MODE 0755

struct api_ns_perm {
	uid_t uid;
	gid_t gid;
	mode_t mode; /* 07777 at most */
};

/* ns's ownership: 0, or -ENOENT (no such namespace: *out gets the defaults). */
int api_ns_perm(struct api *a, const char *ns, struct api_ns_perm *out);
/* The ownership a Namespace object (JSON) carries. */
void api_ns_perm_of(const json_t *ns_obj, struct api_ns_perm *out);

/* Does perm grant who want (4 read, 2 write)?  Unix's order: owner, then
 * group (gid or a supplementary gid), then other; secret: never other. */
bool api_ns_grants(const struct api_who *who, const struct api_ns_perm *perm, int want,
		   bool secret);

/*
 * chown: sets ns's owner (uid (uid_t)-1: unchanged) and group ((gid_t)-1:
 * unchanged), as Unix does: only root changes the owner; the owner may
 * change the group to one of their own groups.  chmod: sets the mode
 * (07777 & mode; setuid and sticky are dropped), by the owner or root; a
 * non-root owner not in the group loses setgid, as on Unix.  One
 * transaction; a refusal is -EACCES (EPERM's meaning, Forbidden's words)
 * and changes nothing; -ENOENT when ns does not exist.
 */
int api_ns_chown(struct api *a, const char *ns, uid_t uid, gid_t gid, struct err **e);
int api_ns_chmod(struct api *a, const char *ns, mode_t mode, struct err **e);

/* May a's caller read objects of kind k in namespace ns (a watch's
 * filter)?  Cheap: one store read. */
bool api_may_read(struct api *a, const struct kind_info *k, const char *ns);

/*
 * Where a manifest was written, to check it against: the kind folder, its
 * namespace and the file's name.  NULL fields check nothing; a manifest
 * without metadata.name takes name, without kind/apiVersion takes kind's,
 * without metadata.namespace takes ns.  A different kind, name or
 * namespace is -EINVAL.
 */
struct api_target {
	const struct kind_info *kind;
	const char *ns;
	const char *name;
};

/*
 * Creates or updates (like kubectl apply) each of docs, all or nothing: if
 * any document is refused none is applied, and *e names the document
 * ("document 2 (Deployment default/web): ...").  Documents are taken as the
 * user's intent: status is ignored, server metadata is kept.  A document
 * carrying metadata.resourceVersion older than the object's last spec
 * change is refused with -EBUSY; status-only changes since then are not a
 * conflict.  Namespaced objects default to namespace "default"; the
 * namespace must exist or be created earlier in the same call.  t may be
 * NULL.  Returns the number of objects changed (unchanged documents are
 * not written).
 */
int api_apply(struct api *a, json_t *const *docs, size_t ndocs, const struct api_target *t,
	      struct err **e);

/* Creates obj (borrowed); -EEXIST if it exists.  *out (if non-NULL) gets the stored object. */
int api_create(struct api *a, const json_t *obj, struct sobj **out, struct err **e);

/*
 * Changes kind/ns/name atomically: mutate(copy, arg, e) edits a deep copy of
 * the current object (it may change anything but server metadata and
 * status); the result is validated and written as a user change.  -ENOENT
 * if absent.  A mutate that changes nothing writes nothing.
 */
typedef int (*api_mutate_fn)(json_t *obj, void *arg, struct err **e);
int api_patch(struct api *a, const struct kind_info *k, const char *ns, const char *name,
	      api_mutate_fn mutate, void *arg, struct err **e);

/*
 * Sets (value non-NULL) or removes an annotation of kind/ns/name, as a
 * controller's bookkeeping: not a user change, so it never makes a user's
 * later write of an older copy a conflict.  -ENOENT if absent.
 */
int api_annotate(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		 const char *key, const char *value, struct err **e);

/*
 * Replaces .status of kind/ns/name with status (borrowed).  Never a
 * conflict; not a user change.  -ENOENT if absent.
 */
int api_update_status(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		      const json_t *status, struct err **e);

/*
 * Deletes kind/ns/name and, in the same transaction, every object that
 * names it in ownerReferences, recursively; a Namespace takes everything
 * in it.  -ENOENT if absent; -EPERM for the namespace "default".
 * Returns the number of objects deleted.
 */
int api_delete(struct api *a, const struct kind_info *k, const char *ns, const char *name,
	       struct err **e);

/*
 * Deletes with a grace period: a Pod bound to a Ready node is only marked
 * (metadata.deletionTimestamp, deletionGracePeriodSeconds) for its node
 * agent to stop, and deleted by the agent with grace 0.  grace < 0 takes
 * the pod's terminationGracePeriodSeconds; 0 deletes at once.  api_delete()
 * is api_delete_opts(grace -1).  Other kinds go at once.
 */
int api_delete_opts(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		    int grace, struct err **e);

/*
 * Deletes as api_delete_opts(), but orphans the dependents (Kubernetes'
 * propagationPolicy Orphan): in the same transaction, the ownerReferences
 * naming the object are removed from every object that has them, and they
 * stay.  A Namespace always takes what is in it.
 */
int api_delete_orphan(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		      int grace, struct err **e);

/*
 * Deletes as api_delete_opts(), in the foreground (Kubernetes'
 * propagationPolicy Foreground): the dependents first, recursively; an
 * object whose dependents are not all gone yet (pods stopping on their
 * nodes) stays, marked with metadata.deletionTimestamp and the finalizer
 * API_FOREGROUND, until the garbage collector (gc_foreground) finds them
 * gone and deletes it.  A Namespace is deleted as by api_delete_opts().
 */
#define API_FOREGROUND "foregroundDeletion"
int api_delete_foreground(struct api *a, const struct kind_info *k, const char *ns,
			  const char *name, int grace, struct err **e);

/*
 * Kubernetes' generateName: an object with metadata.generateName and no
 * metadata.name gets the name generateName + 5 random characters (obj is
 * changed in place).  Nothing to do is 0.  0 or -EIO.
 */
int api_generate_name(json_t *obj, struct err **e);

/* Objects whose ownerReferences name uid (any kind), in no particular order. */
size_t api_dependents(struct api *a, const char *uid, struct sobj ***out);

/* The object, or NULL.  Caller unrefs. */
struct sobj *api_get(struct api *a, const struct kind_info *k, const char *ns, const char *name);

/*
 * Objects of kind k in ns (NULL: all namespaces) whose labels match the
 * selector (NULL or "": all), in the syntax of kubectl -l: "a=b,c!=d,e,!f,
 * g in (x,y), h notin (z)".  Returns the count, or -EINVAL for a bad selector.
 */
int api_list(struct api *a, const struct kind_info *k, const char *ns, const char *selector,
	     struct sobj ***out, struct err **e);

/*
 * How many objects of kind k there are in every namespace the caller may
 * read and, when cls is not NULL, how many in each class of obj_class()
 * (engine/obj.h): what /cluster/status shows.  For a caller who may read
 * everything it costs no walk over the objects (the store counts them).
 * Returns the count, or a negative errno with *e.
 */
int api_count(struct api *a, const struct kind_info *k, size_t cls[OBJ_CLASSES], struct err **e);

/*
 * A label selector in the syntax of api_list(), parsed once to match many
 * objects (a watch filters each event with it).  *out is NULL for an empty
 * selector, which matches everything; -EINVAL with *e for bad syntax.
 */
struct api_labelsel;
int api_labelsel_parse(const char *s, struct api_labelsel **out, struct err **e);
bool api_labelsel_matches(const struct api_labelsel *ls, const json_t *labels);
void api_labelsel_free(struct api_labelsel *ls);

/* When an object of kind k in ns (ignored for cluster-scoped kinds) last
 * changed, as far as this process has seen: ns since the epoch, 0 when
 * nothing changed since the store was opened.  Cheap; can't fail. */
int64_t api_kind_mtime(struct api *a, const struct kind_info *k, const char *ns);

/* True when obj's labels match selector (a LabelSelector object with
 * matchLabels / matchExpressions). An empty selector matches everything. */
bool api_selector_matches(const json_t *label_selector, const json_t *labels);

/*
 * Records an Event about an object (type "Normal" or "Warning"), as
 * Kubernetes' event recorder does: a repeat of the same reason and message
 * for the same object bumps count and lastTimestamp.  Asynchronous and
 * best effort: a recorder thread writes queued events in batches; failure
 * is logged, not returned.  Never blocks on the store.
 */
void api_event(struct api *a, const char *type, const char *reason, const char *kind,
	       const char *ns, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Batches: many independent changes in one transaction (one fsync), for
 * controllers, the scheduler and node agents.  Each item succeeds or fails
 * on its own: results[i] (if results is non-NULL) gets 0 or a negative
 * errno; an item that fails changes nothing.  Return the count of items
 * that succeeded, or a negative errno if the transaction failed (nothing
 * changed).
 */

/* Creates objs[i] as api_create() does (status kept as given). */
int api_create_many(struct api *a, json_t *const *objs, size_t n, int *results);

/* Binds pods to nodes: sets spec.nodeName and a PodScheduled=True condition.
 * -ENOENT if the pod is gone, -ESTALE if its uid differs (uid NULL: no
 * check), -EEXIST if it is bound already or terminating. */
struct api_binding {
	const char *ns, *name, *uid, *node;
};
int api_bind_many(struct api *a, const struct api_binding *b, size_t n, int *results);

/* Replaces .status of objects (as api_update_status()).  uid, if non-NULL,
 * must match (-ESTALE).  give: the call takes the caller's reference to
 * status (the caller must not use it after the call), which spares a deep
 * copy of it; otherwise status is the caller's and copied. */
struct api_status {
	const struct kind_info *k;
	const char *ns, *name, *uid;
	const json_t *status;
	bool give;
};
int api_status_many(struct api *a, const struct api_status *s, size_t n, int *results);

/* Deletes objects (with their dependents) as api_delete_opts(grace). */
struct api_ref {
	const struct kind_info *k;
	const char *ns, *name, *uid;
};
int api_delete_many(struct api *a, const struct api_ref *r, size_t n, int grace, int *results);

/* Admission setting: tolerationSeconds of the default not-ready and
 * unreachable tolerations added to every new Pod (default 300). */
void api_set_default_toleration(struct api *a, int seconds);

/* Admission setting: the range Services' cluster IPs come from, an IPv4
 * CIDR between /12 and /28 (default 10.96.0.0/16, svc.h).  Set it before
 * serving.  0, or -EINVAL with *e for a bad CIDR (nothing changes). */
int api_set_service_cidr(struct api *a, const char *cidr, struct err **e);
/* The service range as "10.96.0.0/16". */
void api_service_cidr(struct api *a, char out[20]);

/* Waits until every event recorded so far is written (tests, shutdown). */
void api_flush_events(struct api *a);

/*
 * Operations (api_ops.c): what kubectl does in several calls, done once
 * here so that every face (the filesystem, HTTP) runs the same code.
 */

/*
 * Evicts a pod, as Kubernetes' Eviction subresource does: deletes it
 * gracefully, as api_delete() of a pod does (marked for its node agent to
 * stop when its node is Ready).  0, or -ENOENT if there is no such pod.
 */
int api_evict(struct api *a, const char *ns, const char *name, struct err **e);

/*
 * Drains a node, as kubectl drain does: cordons it (spec.unschedulable:
 * true) and evicts every pod bound to it that is not terminating already,
 * recording an Evicted event for each.  A pod that declares no controller
 * (no ownerReference with controller: true) and has not finished would be
 * gone for good: unless force, the drain is refused with -EBUSY, *e naming
 * those pods, and nothing changes (the node is not cordoned either).
 * Returns the number of pods evicted (a pod gone meanwhile is not
 * counted), or a negative errno with *e (-ENOENT: no such node).
 */
int api_node_drain(struct api *a, const char *node, bool force, struct err **e);

/* The deployment.kubernetes.io/revision of a Deployment or ReplicaSet, or 0. */
int64_t api_revision(const json_t *o);

/*
 * A Deployment's revision history: the ReplicaSets it controls (by uid),
 * not being deleted, lowest revision first.  Free with sobj_list_free.
 */
size_t api_deployment_history(struct api *a, const char *uid, struct sobj ***out);

/*
 * Rolls the Deployment ns/name back to revision rev (0: the one before the
 * current), as kubectl rollout undo does: copies that ReplicaSet's template
 * (less its pod-template-hash label) and change cause into the Deployment,
 * as a user change, and records a DeploymentRollback event; the Deployment
 * controller then rolls it out as a new revision.  Rolling back to the
 * current revision changes nothing.  Returns the revision rolled back to,
 * or -ENOENT with *e when the Deployment or the revision does not exist
 * (or another API error).
 */
int64_t api_deployment_rollback(struct api *a, const char *ns, const char *name, int64_t rev,
				struct err **e);

/*
 * Refused writes (api_refusal.c): the faces' log of what they refused
 * (the filesystem's /cluster/errors), kept in the store so that it
 * survives a restart.  Only the newest API_REFUSALS_KEEP lines are kept.
 * They are objects of an internal kind (API_REFUSAL_KIND, cluster-scoped,
 * never in a folder and never applicable), named by time.
 */
#define API_REFUSALS_KEEP 1000
#define API_REFUSAL_KIND  "RefusedWrite"

/* Appends one line (without its newline) and drops the oldest beyond the
 * cap, in one transaction.  0, or a negative errno with *e. */
int api_refusal_record(struct api *a, const char *line, struct err **e);

/* The kept lines, oldest first: *out is a new array of new strings (free
 * each, then the array).  Returns the count.  Can't fail. */
size_t api_refusals(struct api *a, char ***out);

/*
 * Records that a face refused a write (api_write.c): one line
 * "TIME FACE_PATH: ERRNAME: msg" (newlines in msg become spaces) through
 * api_refusal_record, the one wording every face shares.  face_path names
 * what was written: "/cluster/pods/web.yaml", "POST /api/v1/namespaces/
 * default/pods".  err is a positive errno.  0, or a negative errno (logged).
 */
int api_refused(struct api *a, const char *face_path, int err, const char *msg);

/*
 * The lines api_refused could not keep in the store (etcd unavailable),
 * kept in this server's memory instead (the newest API_UNKEPT_MAX of them),
 * so that its errors log still shows them: those added after *seq (0 at
 * first), oldest first, as a new array of new strings; *seq gets the
 * newest's number.  Returns the count.
 */
size_t api_refusals_unkept(struct api *a, uint64_t *seq, char ***out);

/* The kept lines recorded after the line named after (NULL: all), oldest
 * first, as api_refusals(); last gets the newest line's name (unchanged if
 * there is none). */
size_t api_refusals_since(struct api *a, const char *after, char ***out, char last[24]);

/* Testing: > 0 keeps this many lines instead of API_REFUSALS_KEEP. */
extern int api_refusals_keep_for_test;

/* Watch: see store_watch(); api_rev() is the newest committed revision. */
int api_watch(struct api *a, int64_t after, struct store_event *evs, size_t max, int timeout_ms,
	      struct err **e);
int64_t api_rev(struct api *a);

/* The current time as Kubernetes writes it: "2026-11-26T01:07:11Z". */
void api_timestamp(char out[32]);

/*
 * Pod Security admission (api_psa.c), Kubernetes' PodSecurity plugin: a
 * namespace's labels pod-security.kubernetes.io/{enforce,warn,audit}
 * (and -version) choose a level of the Pod Security Standards
 * (engine/valid/psa.h) for each mode; a mode without a label takes the
 * cluster default, baseline:latest unless set here.
 *  - enforce: a Pod create, or an update Kubernetes deems significant (a
 *    container's image, the containers, a seccomp annotation:
 *    psa_significant_update), that breaks the level is refused, -EACCES:
 *      pods "web" is forbidden: violates PodSecurity "baseline:latest":
 *      privileged (container "c" must not set securityContext.privileged=true)
 *    Pods their controllers make (api_create_many) are refused the same
 *    way.  Deployments and ReplicaSets are not enforced, as in Kubernetes.
 *  - warn: a Pod, Deployment or ReplicaSet (its template) written by
 *    api_apply(), api_create() or api_patch_ex() that breaks the level is
 *    written, with a warning (below): would violate PodSecurity
 *    "baseline:latest": ...
 *  - audit: the same evaluation, logged (component "psa").
 * A Namespace whose labels do not parse is refused, -EINVAL:
 *   metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value:
 *   "strict": must be one of privileged, baseline, restricted
 * No exemptions (Kubernetes has none by default either).
 */
/* The default for namespaces without labels (all three modes):
 * "LEVEL[:VERSION]" ("baseline", "restricted:v1.30").  Set it before
 * serving.  0, or -EINVAL with *e (nothing changes). */
int api_set_pod_security_default(struct api *a, const char *level_version, struct err **e);

/*
 * Warnings: what a call admitted but warns about (Kubernetes' Warning
 * response headers).  A face that can show them collects them for the
 * calls its thread makes: api_warnings_collect(&w) before, then
 * api_warnings_collect(NULL) and show w.v[0..n) (distinct messages).  A
 * call made while nothing collects records each warning as a Warning
 * Event on the object instead (reason "PodSecurity"), so that a face
 * without headers (the filesystem) still shows it.
 */
struct api_warnings {
	char **v;
	size_t n;
};
void api_warnings_collect(struct api_warnings *w);
void api_warnings_free(struct api_warnings *w);

/*
 * As api_create_many(), and why[i] (why may be NULL) gets a new string
 * saying why item i was refused (NULL when it was not), for the
 * controller's FailedCreate event.
 */
int api_create_many_ex(struct api *a, json_t *const *objs, size_t n, int *results, char **why);

/*
 * Several servers (issue 15; api_lead.c).  api_fence_thread(true) marks
 * the calling thread as one of the leader's loops (controllers,
 * scheduler, node lifecycle, GC): on etcd its writes commit only while
 * this server holds the leader election (they fail with -EPERM once it
 * lost it), so that a paused old leader cannot race the new one.
 * Nothing is fenced on SQLite.
 *
 * The leader's name, for /cluster/status: set by whoever knows it (main,
 * the election); api_leader() gives a copy (free it), or NULL when no
 * server is known to lead; api_leader_seq() changes whenever it does.
 */
void api_fence_thread(bool on);

/*
 * Leading: on etcd, the leader election of engine/store/elect.h among the
 * servers (lead() once this server won, lose() once it no longer leads,
 * api_leader() kept to whoever leads); on SQLite this server leads at
 * once: lead() is called before api_elect_start returns.  Stopping a
 * leader calls lose() and lets another server take over at once.
 */
struct api_elect_opts {
	const char *name; /* this server's (--server-name) */
	const char *key;  /* etcd: the election's key (PREFIX/leader/controllers) */
	int lease_s;	  /* etcd: --leader-elect-lease-duration; <= 0: 15 */
	int (*lead)(void *arg);
	void (*lose)(void *arg);
	void *arg;
};
struct api_elect;
int api_elect_start(struct api *a, const struct api_elect_opts *o, struct api_elect **out,
		    struct err **e);
void api_elect_stop(struct api_elect *x); /* NULL is fine */
void api_set_leader(struct api *a, const char *name);
char *api_leader(struct api *a);
uint64_t api_leader_seq(struct api *a);

/*
 * Reads across servers (store_sync): waits until this server's index
 * shows every write committed anywhere before the call, so that what was
 * written through another server is seen here.  0 at once on SQLite;
 * -EIO/-ETIMEDOUT with *e (e may be NULL) when etcd cannot say (reads
 * may then be stale).  A failure begins an outage (api_stale) that the
 * next success ends; within a second of a failure the call fails again
 * at once, without asking etcd, so that a burst of reads during an
 * outage does not wait for etcd once each.
 */
int api_sync(struct api *a, struct err **e);

/*
 * The one rule for reads when the store cannot be synced (etcd without a
 * quorum), as kube-apiserver has it: a read of the latest state (a GET or
 * LIST without resourceVersion, a file or folder opened for reading)
 * syncs first and fails when it can't (-EIO, with *e naming the store's
 * error and since when the copy here may be stale); a read that accepts
 * what this server has (resourceVersion=0, a watch, the server's own
 * files: /cluster/status, /cluster/errors) does not sync.
 * API_READ_AT_LEAST reads at least as new as min_rev: from this server's
 * copy when it is that new, else as API_READ_LATEST.
 *
 * The first failure of an outage is also recorded once (api_refused with
 * face_path, EIO) so that the errors log says why reads fail, not once
 * per read.  face_path may be NULL (nothing recorded).
 */
enum api_read { API_READ_LATEST, API_READ_CACHED, API_READ_AT_LEAST };
int api_read_sync(struct api *a, enum api_read how, int64_t min_rev, const char *face_path,
		  struct err **e);

/* The reading of a resourceVersion query parameter (NULL: absent) for
 * api_read_sync: absent or empty -> LATEST, "0" -> CACHED, else
 * AT_LEAST that revision (*min_rev). */
enum api_read api_read_of_rv(const char *rv, int64_t *min_rev);

/*
 * Since when reads may be stale: the wall time (ns) the current outage
 * began, or 0 when the last sync succeeded (always on SQLite).  *msg (may
 * be NULL) gets a copy of the store's last error (free it) or NULL.
 * api_stale_seq() changes whenever this does.
 */
int64_t api_stale(struct api *a, char **msg);
uint64_t api_stale_seq(struct api *a);

/* "sqlite" or "etcd": the store's backend, for /cluster/status. */
const char *api_store_kind(struct api *a);

#endif
