/*
 * sched.h - the scheduler: gives every pending Pod a Node, the way
 * kube-scheduler's default profile does, fast enough for 30,000 pods.
 *
 * Two layers, one header:
 *
 *   The algorithm (sched_plugins.c).  Pods and Nodes are parsed once,
 *   when they arrive, into plain structs (struct sched_pod, struct
 *   sched_node); from then on nothing touches JSON.  Filter plugins
 *   (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
 *   NodeResourcesFit) are pure functions of (pod, node) returning
 *   Kubernetes' reasons; score plugins (LeastAllocated, BalancedAllocation,
 *   spreading of an owner's pods, TaintToleration's PreferNoSchedule) are
 *   pure functions too, 0-100 each, weight 1.  A struct sched_cache holds
 *   the nodes with the requests of the pods on them and the per-owner
 *   per-node pod counts, and picks a node for one pod at a time.  The
 *   cache is single-threaded; its owner serializes access.
 *
 *   The service (sched.c).  An informer thread keeps the cache and a FIFO
 *   of pending pods; a scheduling thread takes up to SCHED_BATCH_PODS pods at
 *   a time and picks a node for each (assuming it at once: the next pod sees
 *   its requests), then hands the batch to a binding thread, which binds it
 *   with one api_bind_many() (one transaction), records a Scheduled event
 *   per pod, and for pods that fit nowhere writes PodScheduled=False/
 *   Unschedulable with Kubernetes' message and a FailedScheduling event when
 *   that message changes.  The two are a pipeline: the next batch is picked
 *   while this one commits (at most two batches out, one binding, one
 *   waiting; a refused binding un-assumes its pod).
 *   Unschedulable pods are retried when a node is added or changes in a
 *   way the plugins see, or when a bound pod is deleted or finishes (at
 *   most once a second), and every 10 s regardless.
 *
 * Threads and locks: struct sched has one mutex, sched->lock, which
 * guards its cache, pod records, queues, the batch handed over and stats.
 * The informer's callbacks take it per event; the scheduling thread holds
 * it while it picks nodes for a batch; the binding thread drops it for
 * every API call (bind, status, events), so the informer and the picking
 * keep up while a batch commits.  No other lock
 * is taken while holding it (api_event is only called without it).
 */
#ifndef CFS_SCHED_H
#define CFS_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/api/api.h"
#include "engine/err.h"

#define SCHED_BATCH_PODS   1000	       /* pods picked and bound per transaction */
#define SCHED_MAX_SCORE	   100	       /* each score plugin gives 0..100 */
#define SCHED_DEFAULT_CPU  100	       /* millicores a request-less container counts for scoring */
#define SCHED_DEFAULT_MEM  (200 << 20) /* bytes, likewise */
#define SCHED_DEFAULT_PODS 110	       /* a node that states no pods capacity (kubelet's maxPods) */

/* Parsed objects */

/* Taint effects, as bits; a toleration's effect 0 means every effect. */
enum sched_effect {
	SCHED_NO_SCHEDULE = 1,
	SCHED_PREFER_NO_SCHEDULE = 2,
	SCHED_NO_EXECUTE = 4,
};

struct sched_taint {
	char *key, *value; /* value "" when absent */
	int effect;	   /* one enum sched_effect */
};

struct sched_toleration {
	char *key;   /* "" matches every key (with exists) */
	char *value; /* "" when absent */
	bool exists; /* operator Exists; else Equal */
	int effect;  /* enum sched_effect, or 0 for all */
};

struct sched_label {
	char *key, *value;
};

enum sched_op { SCHED_IN, SCHED_NOT_IN, SCHED_EXISTS, SCHED_DOES_NOT_EXIST, SCHED_GT, SCHED_LT };

/* One NodeSelectorRequirement: of matchExpressions, or of matchFields (field). */
struct sched_req {
	char *key;
	enum sched_op op;
	bool field; /* matchFields: key is metadata.name */
	char **values;
	size_t nvalues;
	int64_t num; /* Gt/Lt: values[0] as an integer */
};

/* A NodeSelectorTerm: its requirements ANDed.  An empty term matches nothing. */
struct sched_term {
	struct sched_req *reqs;
	size_t nreqs;
};

struct sched_res {
	int64_t cpu; /* millicores */
	int64_t mem; /* bytes */
};

/* What the scheduler needs of a Pod. */
struct sched_pod {
	char *ns, *name, *uid;
	char *key;	      /* "ns/name" */
	char *node_name;      /* spec.nodeName, or NULL */
	char *owner;	      /* uid of the controller ownerReference, or NULL */
	struct sched_res req; /* requests (init containers: the max rule), for fit */
	struct sched_res nz;  /* the same with SCHED_DEFAULT_* for absent requests, for scores */
	struct sched_toleration *tols;
	size_t ntols;
	bool tol_unsched;	      /* tolerates node.kubernetes.io/unschedulable:NoSchedule */
	struct sched_label *selector; /* spec.nodeSelector */
	size_t nselector;
	struct sched_term *terms; /* required node affinity, ORed; none: no constraint */
	size_t nterms;
	bool ours;	   /* spec.schedulerName is default-scheduler or unset */
	bool deleting;	   /* metadata.deletionTimestamp is set */
	bool finished;	   /* status.phase is Succeeded or Failed */
	char *unsched_msg; /* message of its PodScheduled=False condition, or NULL */
};

/* What the scheduler needs of a Node, and what the cache adds up on it. */
struct sched_node {
	char *name;
	struct sched_res alloc; /* status.allocatable, else status.capacity */
	int64_t alloc_pods;
	bool unschedulable; /* spec.unschedulable */
	struct sched_taint *taints;
	size_t ntaints;
	size_t nprefer; /* taints with effect PreferNoSchedule */
	struct sched_label *labels;
	size_t nlabels;

	/* Kept by the cache: the pods accounted on this node. */
	struct sched_res used;	  /* sum of their req */
	struct sched_res used_nz; /* sum of their nz */
	int64_t npods;
	int idx;      /* index in the cache */
	bool present; /* false: a placeholder for pods bound to an unknown node */
};

/*
 * Parse a Pod or Node (a frozen API object, only read) into a new struct
 * the caller frees with the matching _free (NULL is fine).  Returns 0, or
 * -EINVAL naming the object when a field the scheduler reads is malformed
 * (a bad quantity, a Gt value that is not an integer).
 */
int sched_pod_parse(const json_t *pod, struct sched_pod **out, struct err **e);
void sched_pod_free(struct sched_pod *p);
int sched_node_parse(const json_t *node, struct sched_node **out, struct err **e);
void sched_node_free(struct sched_node *n);

/* Filter plugins */

/*
 * Why a node was filtered out, as bits; several only from NodeResourcesFit
 * (a node can lack both cpu and memory).  Each filter returns 0 when the
 * pod passes, else its bits.  Pure; can't fail.
 */
enum sched_reason {
	SCHED_R_UNSCHEDULABLE = 1 << 0, /* node(s) were unschedulable */
	SCHED_R_NODE_NAME = 1 << 1,	/* node(s) didn't match the requested node name */
	SCHED_R_TAINT = 1 << 2,		/* node(s) had untolerated taint {KEY: VALUE} */
	SCHED_R_AFFINITY = 1 << 3,	/* node(s) didn't match Pod's node affinity/selector */
	SCHED_R_PODS = 1 << 4,		/* Too many pods */
	SCHED_R_CPU = 1 << 5,		/* Insufficient cpu */
	SCHED_R_MEMORY = 1 << 6,	/* Insufficient memory */
};

/* Kubernetes' text for one reason bit other than SCHED_R_TAINT. */
const char *sched_reason_text(unsigned bit);

/* Does t tolerate taint?  Kubernetes' rules: an effect and a key, when
 * set, must be equal; Exists matches any value, Equal the same value. */
bool sched_tolerates(const struct sched_toleration *t, const struct sched_taint *taint);

unsigned sched_filter_unschedulable(const struct sched_pod *p, const struct sched_node *n);
unsigned sched_filter_node_name(const struct sched_pod *p, const struct sched_node *n);
/* NoSchedule and NoExecute taints; *taint (if non-NULL) gets the index
 * of the first untolerated one. */
unsigned sched_filter_taints(const struct sched_pod *p, const struct sched_node *n, int *taint);
/* spec.nodeSelector and the required node affinity terms. */
unsigned sched_filter_affinity(const struct sched_pod *p, const struct sched_node *n);
/* Requests against allocatable minus what the node's pods use. */
unsigned sched_filter_fit(const struct sched_pod *p, const struct sched_node *n);
/* All of the above in Kubernetes' order, stopping at the first that fails. */
unsigned sched_filter(const struct sched_pod *p, const struct sched_node *n, int *taint);

/* Why a pod fits nowhere: Kubernetes' FitError */

struct sched_diag_reason {
	char *text;
	int count;
};

struct sched_diag {
	int nnodes; /* the N of "0/N nodes are available" */
	struct sched_diag_reason *r;
	size_t n, cap;
};

/* Starts a diagnosis over nnodes nodes.  Can't fail. */
void sched_diag_init(struct sched_diag *d, int nnodes);
/* Counts node n's reasons (a sched_filter() result and its taint index). */
void sched_diag_add(struct sched_diag *d, const struct sched_node *n, unsigned reasons, int taint);
/*
 * The message, as a new string: "0/5 nodes are available: 2 node(s) had
 * untolerated taint {dedicated: gpu}, 3 Insufficient cpu." - each reason
 * with its count, the "COUNT REASON" strings sorted as strings (as
 * Kubernetes does), joined by ", ".  With no nodes at all Kubernetes'
 * "no nodes available to schedule pods".
 */
char *sched_diag_message(const struct sched_diag *d);
void sched_diag_free(struct sched_diag *d);

/* Score plugins: 0..SCHED_MAX_SCORE, higher is better.  Pure. */

/* NodeResourcesFit LeastAllocated: free share of cpu and memory after p,
 * counting SCHED_DEFAULT_* for absent requests, averaged. */
int sched_score_least(const struct sched_pod *p, const struct sched_node *n);
/* NodeResourcesBalancedAllocation: 100 * (1 - |cpu share - memory share| / 2)
 * with p's requests added; 0 for a pod that requests nothing. */
int sched_score_balanced(const struct sched_pod *p, const struct sched_node *n);
/* The number of n's PreferNoSchedule taints that p does not tolerate. */
int sched_prefer_taints(const struct sched_pod *p, const struct sched_node *n);
/* Kubernetes' reversed normalization of a count: 100 - 100 * v / max, or
 * 100 when max is 0.  Spreading and TaintToleration scores. */
int sched_normalize_reverse(int64_t v, int64_t max);

/* The cache: nodes, what their pods use, and picking a node */

struct sched_cache;

/* A new empty cache; seed drives the random choice among equal best
 * nodes.  Can't fail. */
struct sched_cache *sched_cache_new(uint64_t seed);
void sched_cache_free(struct sched_cache *c); /* NULL is fine */

/*
 * Adds node n (taken) or replaces the node of that name, keeping what its
 * pods use.  Returns true when the node is new or something the filters
 * or scores read changed (allocatable, labels, taints, unschedulable).
 */
bool sched_cache_put_node(struct sched_cache *c, struct sched_node *n);
/* The node is gone: no longer a candidate (its accounting stays until its
 * pods are removed).  Unknown names are ignored. */
void sched_cache_del_node(struct sched_cache *c, const char *name);
/* The index of node name, adding a placeholder (not a candidate) if unknown. */
int sched_cache_index(struct sched_cache *c, const char *name);
/* The node at idx (lent), or NULL. */
struct sched_node *sched_cache_node(const struct sched_cache *c, int idx);
/* Nodes that are candidates (not deleted, not placeholders). */
size_t sched_cache_nodes(const struct sched_cache *c);

/* Accounts p's requests and owner on node idx; remove undoes exactly
 * that (call it with the same p).  Can't fail. */
void sched_cache_add_pod(struct sched_cache *c, const struct sched_pod *p, int idx);
void sched_cache_remove_pod(struct sched_cache *c, const struct sched_pod *p, int idx);
/* Pods of owner accounted on node idx. */
int sched_cache_siblings(const struct sched_cache *c, const char *owner, int idx);

/*
 * Percentage of nodes to find feasible before scoring, as kube-scheduler's
 * percentageOfNodesToScore: 0 (default) adapts to the cluster size
 * (50% - 1% per 125 nodes, at least 5%, at least 100 nodes); 100 scores
 * every node.
 */
void sched_cache_set_percentage(struct sched_cache *c, int pct);

/*
 * Picks the node for p: the feasible node with the highest summed score,
 * a random one among equals.  Does not account p (the caller does, with
 * sched_cache_add_pod, when it assumes the pod).  Returns the node index,
 * or -1 with *msg (a new string, Kubernetes' FitError message).
 */
int sched_cache_pick(struct sched_cache *c, const struct sched_pod *p, char **msg);

/* The service */

struct sched;

struct sched_stats {
	uint64_t bound;		/* pods bound by this scheduler */
	uint64_t unschedulable; /* attempts that found no node */
	uint64_t bind_failures; /* bindings refused (pod gone, bound, terminating) */
	uint64_t batches;	/* bind transactions */
	uint64_t pending;	/* pods waiting now, active or unschedulable */
	uint64_t busy_ns;	/* scheduling and binding threads: working, not waiting */
	uint64_t pick_ns;	/* of which picking nodes (filters, scores) */
	uint64_t bind_ns;	/* of which in api_bind_many */
	uint64_t status_ns;	/* of which writing Unschedulable conditions */
	uint64_t informer_ns;	/* informer thread: in its callbacks */
};

/*
 * Starts the scheduler on a (borrowed; must outlive it): an informer and
 * a scheduling thread.  Returns 0 and *out, or a negative errno with *e
 * when a thread cannot start.
 */
int sched_start(struct api *a, struct sched **out, struct err **e);
/* Stops both threads (a batch in flight completes) and frees.  NULL is fine. */
void sched_stop(struct sched *s);
/* A snapshot of the counters.  Can't fail. */
void sched_stats(struct sched *s, struct sched_stats *out);

#endif
