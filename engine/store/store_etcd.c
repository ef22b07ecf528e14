/*
 * store_etcd.c - the store on etcd (store.h, "The etcd backend").
 *
 * Why it is built this way:
 *
 * The index (store_index.c) serves every read, as on SQLite; only its
 * feed differs.  It is filled at open by a range over the prefix and kept
 * by a watch (store_etcd_watch.c), so it shows every server's writes in
 * etcd's order, and an object's revision is its mod revision in etcd.
 *
 * Writes keep SQLite's group commit: store_update() queues a request; the
 * first caller to find no batch in flight leads and runs the queued
 * functions on an overlay of the index (the same overlay as SQLite's,
 * store.c).  Each function's reads of single objects (store_txn_get) and
 * its writes become compares on the keys' mod revisions (0 for a key that
 * was absent); the batch is one etcd txn holding the compares of all of
 * them and the last write of each key.  When the compares hold, etcd
 * committed the whole batch at one revision R; the leader gives the
 * batch's objects that revision and waits until the watch brought the
 * index to R, so that the callers read their own writes.  When a compare
 * failed, another writer got there first: the leader waits until the
 * index shows the txn's revision and the requests run again, each in a
 * batch of its own, at most ESTORE_TRIES times (then -EAGAIN).  A txn
 * function may therefore run more than once: it must only read the store
 * and its argument.
 *
 * Lists (store_txn_list, store_txn_dependents) make no compares: etcd
 * caps a txn's compares at max ops, and a listing may be long.
 *
 * A value is "USER_RV MTIME_NS\n" and the object's JSON (sealed for
 * Secrets as on SQLite): USER_RV -1 means "this write's own revision".
 * The JSON's resourceVersion is replaced by the mod revision when the
 * object enters the index.
 *
 * Fencing: a batch holding a request of a fenced thread compares the
 * election key's create revision too; when that compare fails, the fenced
 * requests fail with -EPERM and the others run again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_etcd.h"

int estore_compact_every_ms_for_test;
int64_t estore_keep_revs_for_test;

#define SYNC_WAIT_MS 300 /* store_sync: then a write of its own */
#define CMP_BYTES    160 /* a compare's share of a txn request, at most */

static __thread bool tls_fenced;

/* Keys and values */

char *estore_key(struct estore *es, const char *kind, const char *ns, const char *name, size_t *len)
{
	char *k = xasprintf("%s%s/%s/%s", es->prefix, kind, ns, name);
	if (len)
		*len = strlen(k);
	return k;
}

/* Splits KIND/NS/NAME after the prefix into three new strings; false if
 * the key is not an object's (e.g. the election's PREFIX/leader/NAME). */
bool estore_key_split(struct estore *es, const struct etcd_kv *kv, char **kind, char **ns,
		      char **name)
{
	if (kv->key_len <= es->plen || memcmp(kv->key, es->prefix, es->plen))
		return false;
	const char *k = kv->key + es->plen, *end = kv->key + kv->key_len;
	const char *s1 = memchr(k, '/', (size_t)(end - k));
	const char *s2 = s1 ? memchr(s1 + 1, '/', (size_t)(end - s1 - 1)) : NULL;
	if (!s2 || s1 == k || s2 + 1 == end || memchr(s2 + 1, '/', (size_t)(end - s2 - 1)))
		return false;
	*kind = xstrndup(k, (size_t)(s1 - k));
	*ns = xstrndup(s1 + 1, (size_t)(s2 - s1 - 1));
	*name = xstrndup(s2 + 1, (size_t)(end - s2 - 1));
	return true;
}

struct sobj *estore_kv_sobj(struct estore *es, const struct etcd_kv *kv)
{
	char *kind, *ns, *name;
	if (!estore_key_split(es, kv, &kind, &ns, &name))
		return NULL;
	long long user = 0, mtime = 0;
	int off = 0;
	json_t *obj = NULL;
	if (kv->value && sscanf(kv->value, "%lld %lld\n%n", &user, &mtime, &off) == 2 && off > 0)
		obj = store_unseal(kind, ns, name, kv->value + off);
	struct sobj *o = NULL;
	if (json_is_object(obj) && json_is_object(json_object_get(obj, "metadata"))) {
		char rvs[24];
		snprintf(rvs, sizeof(rvs), "%" PRId64, kv->mod_rev);
		json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
				    json_string(rvs));
		o = sobj_new(kind, ns, name, store_intern(STEAL_POINTER(&obj)), kv->mod_rev,
			     user < 0 ? kv->mod_rev : user, mtime);
		o->size = kv->value_len - (size_t)off;
	} else {
		log_error("store",
			  "etcd key %.*s: not an object (corrupt, or sealed with "
			  "another key); ignored",
			  (int)kv->key_len, kv->key);
	}
	json_decref(obj);
	free(kind);
	free(ns);
	free(name);
	return o;
}

/* A batch's etcd side: compares and operations, per etcd key */

struct eop {
	char *val; /* PUT: the value; NULL: DELETE */
	size_t vlen;
};

struct etx {
	struct hmap cmp, cmp_cur; /* key -> int64_t * mod revision seen */
	struct hmap ops, ops_cur; /* key -> struct eop * */
	size_t bytes, bytes_cur;  /* about the request's size */
	int64_t guess;		  /* revision handed out before the commit */
};

static void eop_free(void *p)
{
	struct eop *op = p;
	free(op->val);
	free(op);
}

static void etx_clear(struct etx *x)
{
	hmap_clear(&x->cmp, free);
	hmap_clear(&x->cmp_cur, free);
	hmap_clear(&x->ops, eop_free);
	hmap_clear(&x->ops_cur, eop_free);
}

/* Bytes a key-value adds to a txn request (base64 and JSON around it). */
static size_t req_bytes(size_t klen, size_t vlen)
{
	return (klen + vlen) * 4 / 3 + 64;
}

void estore_txn_read(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		     const struct sobj *o)
{
	struct etx *x = tx->et;
	size_t klen;
	char *k = estore_key(tx->st->etcd, kind, ns, name, &klen);
	if (!hmap_get(&x->cmp_cur, k) && !hmap_get(&x->cmp, k)) {
		int64_t *rev = xmalloc(sizeof(*rev));
		*rev = o ? o->rv : 0;
		hmap_set(&x->cmp_cur, k, rev); /* its bytes: CMP_BYTES, below */
	}
	free(k);
}

void estore_txn_list_read(struct store_txn *tx, const char *kind, const char *ns, int64_t rev)
{
	struct etx *x = tx->et;
	/* A key ending in '/' is a range (an object's key never does); its
	 * value is the revision, then the range's end: the key, '/' + 1 */
	char *k = ns ? estore_key(tx->st->etcd, kind, ns, "", NULL)
		     : xasprintf("%s%s/", tx->st->etcd->prefix, kind);
	if (!hmap_get(&x->cmp_cur, k) && !hmap_get(&x->cmp, k)) {
		size_t kl = strlen(k);
		int64_t *r = xmalloc(sizeof(*r) + kl + 1);
		*r = rev;
		char *end = memcpy(r + 1, k, kl + 1);
		end[kl - 1] = '/' + 1;
		hmap_set(&x->cmp_cur, k, r);
	}
	free(k);
}

static void op_add(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		   char *val, size_t vlen)
{
	struct etx *x = tx->et;
	size_t klen;
	char *k = estore_key(tx->st->etcd, kind, ns, name, &klen);
	struct eop *op = xmalloc(sizeof(*op));
	op->val = val;
	op->vlen = vlen;
	x->bytes_cur += req_bytes(klen, vlen);
	struct eop *old = hmap_set(&x->ops_cur, k, op);
	if (old)
		eop_free(old);
	free(k);
}

int64_t estore_txn_put(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		       json_t *obj, bool user_change, struct err **e)
{
	struct estore *es = tx->st->etcd;
	json_t *md = json_object_get(obj, "metadata");
	if (!json_is_object(obj) || (md && !json_is_object(md))) {
		json_decref(obj);
		return err_make(e, EINVAL, "%s %s/%s: not an object with a metadata object", kind,
				ns, name);
	}
	if (!md) {
		md = json_object();
		json_object_set_new(obj, "metadata", md);
	}
	struct sobj *prev = store_txn_get(tx, kind, ns, name);
	int64_t rv = tx->et->guess;
	char rvs[24];
	snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
	json_object_set_new(md, "resourceVersion", json_string(rvs));
	/* -1: this commit's revision, fixed once it is known */
	int64_t user_rv = user_change ? -1 : prev ? prev->user_rv : 0;
	enum store_event_type type = prev ? STORE_MODIFIED : STORE_ADDED;
	sobj_unref(prev);
	struct sobj *o = sobj_new(kind, ns, name, obj, rv, user_rv, store_now_ns());
	char *text = json_dumps(obj, JSON_COMPACT);
	if (text)
		text = store_seal(kind, ns, name, text);
	if (!text) {
		sobj_unref(o);
		return err_make(e, EINVAL, "%s %s/%s: can't encode as JSON", kind, ns, name);
	}
	char *val = xasprintf("%" PRId64 " %" PRId64 "\n%s", user_rv, o->mtime_ns, text);
	free(text);
	size_t vlen = strlen(val);
	if (req_bytes(0, vlen) > es->max_bytes) {
		struct err *le = NULL;
		err_make(&le, E2BIG,
			 "%s %s/%s: %zu bytes, over etcd's request limit of %zu bytes "
			 "(--max-request-bytes)",
			 kind, ns, name, vlen, es->max_bytes);
		free(val);
		sobj_unref(o);
		return txn_fail(tx, -E2BIG, &le, e);
	}
	op_add(tx, kind, ns, name, val, vlen);
	char *key = okey(kind, ns, name);
	txn_record(tx, key, type, rv, sobj_ref(o), o);
	free(key);
	return rv;
}

int64_t estore_txn_delete(struct store_txn *tx, const char *kind, const char *ns, const char *name,
			  struct err **e)
{
	struct sobj *prev = store_txn_get(tx, kind, ns, name);
	if (!prev)
		return err_make(e, ENOENT, "%s %s/%s: not found", kind, ns, name);
	op_add(tx, kind, ns, name, NULL, 0);
	char *key = okey(kind, ns, name);
	txn_record(tx, key, STORE_DELETED, tx->et->guess, prev, TOMB);
	free(key);
	return tx->et->guess;
}

/* Moves the running request's compares and operations into the batch. */
static void etx_keep(struct etx *x)
{
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&x->cmp_cur, &it));) {
		if (hmap_get(&x->cmp, ent->key))
			free(ent->val); /* an earlier request saw it first */
		else
			hmap_set(&x->cmp, ent->key, ent->val);
	}
	hmap_clear(&x->cmp_cur, NULL);
	it = (struct hmap_iter){0};
	for (struct hmap_ent *ent; (ent = hmap_next(&x->ops_cur, &it));) {
		struct eop *old = hmap_set(&x->ops, ent->key, ent->val);
		if (old)
			eop_free(old);
	}
	hmap_clear(&x->ops_cur, NULL);
	x->bytes += x->bytes_cur;
	x->bytes_cur = 0;
}

/* Whether the batch with the running request kept stays in etcd's limits. */
static bool etx_fits(struct estore *es, struct etx *x)
{
	size_t nops = hmap_len(&x->ops);
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&x->ops_cur, &it));)
		nops += !hmap_get(&x->ops, ent->key);
	/* + the compares (one per written key, the fence, reads as fit) */
	return nops + 1 <= (size_t)es->max_ops &&
	       x->bytes + x->bytes_cur + 256 + (size_t)es->max_ops * CMP_BYTES <= es->max_bytes;
}

/* Forgets the running request's reads and writes. */
static void req_undo(struct store_txn *tx, size_t nw0)
{
	hmap_clear(&tx->cur, sobj_unref_void);
	txn_truncate(tx, nw0);
	hmap_clear(&tx->et->cmp_cur, free);
	hmap_clear(&tx->et->ops_cur, eop_free);
	tx->et->bytes_cur = 0;
}

/*
 * Runs one request on the batch's overlay.  Returns false when it does
 * not fit in the batch (it is undone and waits for the next).
 */
static bool req_run(struct store *st, struct store_txn *tx, struct req *r, bool alone)
{
	size_t nw0 = tx->nw;
	tx->failed = 0;
	err_free(STEAL_POINTER(&r->err));
	tls_txn_store = st;
	r->rc = r->fn(tx, r->arg, &r->err);
	tls_txn_store = NULL;
	r->ran = true;
	if (r->rc >= 0 && tx->failed) {
		r->rc = tx->failed;
		err_free(r->err);
		r->err = STEAL_POINTER(&tx->fail_err);
	}
	err_free(STEAL_POINTER(&tx->fail_err));
	if (r->rc >= 0 && !etx_fits(st->etcd, tx->et)) {
		req_undo(tx, nw0);
		if (!alone) {
			r->ran = false;
			err_free(STEAL_POINTER(&r->err));
			return false;
		}
		r->rc = err_make(&r->err, E2BIG,
				 "one update of more than etcd allows in a transaction (%d "
				 "operations, %zu bytes: --max-txn-ops, --max-request-bytes)",
				 st->etcd->max_ops, st->etcd->max_bytes);
		return true;
	}
	if (r->rc < 0) {
		req_undo(tx, nw0);
		return true;
	}
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&tx->cur, &it));)
		sobj_unref_void(hmap_set(&tx->done, ent->key, ent->val));
	hmap_clear(&tx->cur, NULL);
	etx_keep(tx->et);
	return true;
}

/* The committed batch's objects take their revision R. */
static void batch_fix(struct store_txn *tx, int64_t R)
{
	char rvs[24];
	snprintf(rvs, sizeof(rvs), "%" PRId64, R);
	for (size_t i = 0; i < tx->nw; i++) {
		struct sobj *o = tx->w[i].obj;
		tx->w[i].rv = R;
		if (tx->w[i].type == STORE_DELETED)
			continue;
		o->rv = R;
		if (o->user_rv < 0)
			o->user_rv = R;
		json_object_set_new(json_object_get(o->obj, "metadata"), "resourceVersion",
				    json_string(rvs));
	}
}

/* The fence of a batch: its key (NULL: none) and create revision. */
struct fence {
	char *key;
	int64_t rev;
	bool lost; /* fenced requests fail at once */
};

static void fence_get(struct estore *es, struct fence *f)
{
	pthread_mutex_lock(&es->fence_mu);
	f->key = es->fence_key ? xstrdup(es->fence_key) : NULL;
	f->rev = es->fence_rev;
	f->lost = !f->key;
	pthread_mutex_unlock(&es->fence_mu);
}

static int fence_err(struct err **e)
{
	return err_make(e, EPERM, "this server no longer leads: the write is fenced off");
}

/* The ops of the batch, in an array pointing into x. */
static size_t batch_ops(struct etx *x, struct etcd_op *ops)
{
	size_t n = 0;
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&x->ops, &it));) {
		struct eop *op = ent->val;
		ops[n++] = (struct etcd_op){op->val ? ETCD_PUT : ETCD_DELETE,
					    ent->key,
					    strlen(ent->key),
					    op->val,
					    op->vlen,
					    0};
	}
	return n;
}

/*
 * The compares of the batch: every written key's, then the keys only read
 * as long as etcd takes them (max in all, the fence's included): a txn
 * that read more objects than that keeps Kubernetes' guarantee, a write
 * conditional on the state the writer saw of the object it writes.
 */
static size_t batch_cmps(struct etx *x, const struct fence *f, size_t max, struct etcd_cmp *c)
{
	size_t n = 0;
	if (f && f->key)
		max--;
	for (int pass = 0; pass < 2; pass++) {
		struct hmap_iter it = {0};
		for (struct hmap_ent *ent; n < max && (ent = hmap_next(&x->cmp, &it));) {
			if ((hmap_get(&x->ops, ent->key) == NULL) != (pass == 1))
				continue; /* pass 0: the written keys; 1: the others */
			size_t kl = strlen(ent->key);
			c[n++] = (struct etcd_cmp){.key = ent->key,
						   .key_len = kl,
						   .target = ETCD_CMP_MOD,
						   .op = ETCD_EQ,
						   .num = *(int64_t *)ent->val};
			if (ent->key[kl - 1] == '/') { /* a list: nothing newer */
				c[n - 1].op = ETCD_LT;
				c[n - 1].num++;
				c[n - 1].range_end = (const char *)((int64_t *)ent->val + 1);
				c[n - 1].range_end_len = kl;
			}
		}
	}
	if (f && f->key)
		c[n++] = (struct etcd_cmp){.key = f->key,
					   .key_len = strlen(f->key),
					   .target = ETCD_CMP_CREATE,
					   .op = ETCD_EQ,
					   .num = f->rev};
	return n;
}

/* What became of a batch's txn */
enum outcome { OUT_DONE, OUT_CONFLICT, OUT_FENCED };

/*
 * Sends the batch's txn.  OUT_DONE with rc 0: committed (the index shows
 * it) or nothing to commit; OUT_DONE with rc < 0 and *be: etcd failed;
 * OUT_CONFLICT: a compare failed, the index has caught up; OUT_FENCED: the
 * fence's compare failed.
 */
static enum outcome batch_send(struct store *st, struct store_txn *tx, const struct fence *f,
			       int *rc, struct err **be)
{
	struct estore *es = st->etcd;
	struct etx *x = tx->et;
	*rc = 0;
	if (!hmap_len(&x->ops))
		return OUT_DONE; /* reads only: nothing to commit */
	int n = __atomic_load_n(&store_fail_commit_for_test, __ATOMIC_RELAXED);
	while (n > 0 && !__atomic_compare_exchange_n(&store_fail_commit_for_test, &n, n - 1, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (n > 0) {
		*rc = err_make(be, EIO, "%s: commit: injected failure", st->path);
		return OUT_DONE;
	}
	struct etcd_op *ops = xmalloc(hmap_len(&x->ops) * sizeof(*ops));
	struct etcd_cmp *cmps = xmalloc((hmap_len(&x->cmp) + 1) * sizeof(*cmps));
	size_t nops = batch_ops(x, ops), ncmp = batch_cmps(x, f, (size_t)es->max_ops, cmps);
	struct etcd_op fail = {ETCD_RANGE, f->key, f->key ? strlen(f->key) : 0, NULL, 0, 0};
	struct etcd_txn_res res = {0};
	__atomic_add_fetch(&store_batches_for_test, 1, __ATOMIC_RELAXED);
	*rc = etcd_txn(es->c, cmps, ncmp, ops, nops, &fail, f->key ? 1 : 0, &res, be);
	free(ops);
	free(cmps);
	enum outcome out = OUT_DONE;
	if (*rc == -ETIMEDOUT) { /* no quorum, most often: a clear EIO */
		_cleanup_err_ struct err *te = STEAL_POINTER(be);
		*rc = err_make(be, EIO, "%s: commit: %s (the write may or may not be applied)",
			       st->path, te ? te->msg : "etcd did not answer in time");
	} else if (*rc < 0) {
		err_wrap(be, "%s: commit", st->path);
	} else if (res.succeeded) {
		batch_fix(tx, res.rev);
		_cleanup_err_ struct err *we = NULL;
		if (estore_wait_rev(st, res.rev, ESTORE_WAIT_MS, &we) < 0)
			log_warn("store", "%s; the write is committed", we->msg);
	} else if (f->key && (!res.n || res.kvs[0].create_rev != f->rev)) {
		out = OUT_FENCED;
	} else if (estore_wait_rev(st, res.rev, ESTORE_WAIT_MS, be) < 0) {
		*rc = -EIO; /* running again on a stale index would only conflict */
		(*be)->code = EIO;
	} else {
		out = OUT_CONFLICT;
	}
	etcd_txn_res_free(&res);
	return out;
}

/*
 * The leader's work: runs the requests of batch (alone: only the first)
 * and commits them as one txn.  Sets over on each request that is over;
 * the others go back to the queue.
 */
static void batch_run(struct store *st, struct req *batch, bool alone)
{
	if (alone && batch->tries > 1) {
		/* another server keeps winning the same keys: back off a
		 * random while, longer each time, so that both get through */
		int cap = 1000 << (batch->tries < 6 ? batch->tries : 6);
		usleep((useconds_t)(random() % cap));
	}
	struct etx x = {.guess = store_rev(st) + 1};
	struct store_txn tx = {.st = st, .et = &x};
	struct fence f;
	fence_get(st->etcd, &f);
	bool any_fenced = false;
	size_t nreq = 0;
	for (struct req *r = batch; r; r = r->next)
		r->ran = false; /* those left out of this batch too */
	for (struct req *r = batch; r; r = r->next) {
		if (r->fenced && f.lost) {
			r->rc = fence_err(&r->err);
			r->over = true;
			continue;
		}
		if ((alone && nreq) || !req_run(st, &tx, r, !nreq))
			break; /* the rest waits for the next batch */
		nreq++;
		any_fenced |= r->fenced && r->rc >= 0;
	}
	if (!any_fenced) {
		free(f.key);
		f.key = NULL;
	}
	_cleanup_err_ struct err *be = NULL;
	int rc;
	enum outcome out = batch_send(st, &tx, &f, &rc, &be);
	for (struct req *r = batch; r; r = r->next) {
		if (!r->ran || r->rc < 0) {
			r->over = r->over || r->ran; /* failed on its own */
			continue;
		}
		if (out == OUT_DONE && rc < 0) {
			r->rc = rc;
			err_make(&r->err, -rc, "%s", be ? be->msg : "etcd: commit failed");
		} else if (out == OUT_FENCED && r->fenced) {
			r->rc = fence_err(&r->err);
		} else if (out != OUT_DONE && ++r->tries >= ESTORE_TRIES) {
			r->rc = err_make(&r->err, EAGAIN,
					 "%s: %d conflicting writes in a row; try again", st->path,
					 r->tries);
		} else if (out != OUT_DONE) {
			continue; /* runs again */
		}
		r->over = true;
	}
	free(f.key);
	txn_free(&tx);
	etx_clear(&x);
}

/*
 * Under q_mu: marks the batch's requests that are over done (their owners
 * may return once q_mu is unlocked) and puts the others back at the head
 * of the queue, in order.
 */
static void queue_requeue(struct store *st, struct req *batch)
{
	struct req *keep = NULL, **tail = &keep;
	for (struct req *r = batch, *next; r; r = next) {
		next = r->next;
		if (r->over) {
			r->done = true;
			continue;
		}
		*tail = r;
		tail = &r->next;
	}
	*tail = st->q_head;
	if (!st->q_head)
		st->q_tail = keep ? tail : &st->q_head;
	st->q_head = keep;
}

int estore_update(struct store *st, store_txn_fn fn, void *arg, struct err **e)
{
	struct req r = {.fn = fn, .arg = arg};
	pthread_mutex_lock(&st->etcd->fence_mu);
	r.fenced = tls_fenced && st->etcd->fence_on;
	pthread_mutex_unlock(&st->etcd->fence_mu);
	pthread_mutex_lock(&st->q_mu);
	if (st->closing) {
		pthread_mutex_unlock(&st->q_mu);
		return err_make(e, ESHUTDOWN, "%s: closing", st->path);
	}
	*st->q_tail = &r;
	st->q_tail = &r.next;
	while (!r.done) {
		if (st->committing) {
			pthread_cond_wait(&st->q_cond, &st->q_mu);
			continue;
		}
		struct req *batch = st->q_head;
		st->q_head = NULL;
		st->q_tail = &st->q_head;
		for (struct req *q = batch; q; q = q->next)
			q->over = false;
		st->committing = true;
		pthread_mutex_unlock(&st->q_mu);
		batch_run(st, batch, batch->tries > 0);
		pthread_mutex_lock(&st->q_mu);
		queue_requeue(st, batch);
		st->committing = false;
		pthread_cond_broadcast(&st->q_cond);
	}
	pthread_mutex_unlock(&st->q_mu);
	if (r.rc < 0 && e) {
		err_free(*e);
		*e = r.err;
	} else {
		err_free(r.err);
	}
	return r.rc;
}

/* Waiting for the index */

int estore_wait_rev(struct store *st, int64_t rev, int ms, struct err **e)
{
	struct estore *es = st->etcd;
	if (store_rev(st) >= rev)
		return 0;
	struct timespec deadline = mono_deadline(ms);
	int rc = 0;
	pthread_mutex_lock(&es->ev_mu);
	while (store_rev(st) < rev && !es->closing && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&es->ev_cond, &es->ev_mu, &deadline);
	bool late = store_rev(st) < rev;
	pthread_mutex_unlock(&es->ev_mu);
	if (!late)
		return 0;
	return err_make(e, ETIMEDOUT,
			"%s: the index is at revision %" PRId64 ", not yet %" PRId64
			" (the watch on etcd is behind or down)",
			st->path, store_rev(st), rev);
}

/*
 * One quorum read of etcd's revision: *rev.  It reads one key (the prefix
 * itself, which no object has): the header's revision is the store's
 * either way, and counting the whole prefix would make etcd walk every
 * key of it (O(objects)) on each sync.
 */
static int read_rev(struct store *st, int64_t *rev, struct err **e)
{
	struct estore *es = st->etcd;
	struct etcd_range r = {.key = es->prefix, .key_len = es->plen, .count_only = true};
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	bool more = false;
	int rc = etcd_get(es->c, &r, &kvs, &n, &more, rev, e);
	etcd_kvs_free(kvs, n);
	return rc;
}

/* A write of PREFIX.sync (no object's key): *rev, its revision. */
static int sync_mark(struct store *st, int64_t *rev, struct err **e)
{
	struct estore *es = st->etcd;
	char *k = xasprintf("%s.sync", es->prefix);
	struct etcd_op op = {ETCD_PUT, k, strlen(k), "", 0, 0};
	struct etcd_txn_res res = {0};
	int rc = etcd_txn(es->c, NULL, 0, &op, 1, NULL, 0, &res, e);
	*rev = res.rev;
	etcd_txn_res_free(&res);
	free(k);
	return rc;
}

int store_sync(struct store *st, struct err **e)
{
	struct estore *es = st ? st->etcd : NULL;
	if (!es)
		return 0;
	pthread_mutex_lock(&es->sync_mu);
	/* a read that began before this call would not do */
	uint64_t want = es->sync_started + 1;
	while (es->sync_done < want) {
		if (es->sync_busy) {
			pthread_cond_wait(&es->sync_cond, &es->sync_mu);
			continue;
		}
		es->sync_busy = true;
		uint64_t gen = ++es->sync_started;
		pthread_mutex_unlock(&es->sync_mu);
		_cleanup_err_ struct err *re = NULL;
		int64_t rev = 0;
		int rc = read_rev(st, &rev, &re);
		pthread_mutex_lock(&es->sync_mu);
		es->sync_rc = rc;
		es->sync_rev = rev;
		free(es->sync_msg);
		es->sync_msg = rc < 0 && re ? xstrdup(re->msg) : NULL;
		es->sync_done = gen;
		es->sync_busy = false;
		pthread_cond_broadcast(&es->sync_cond);
	}
	int rc = es->sync_rc;
	int64_t rev = es->sync_rev;
	if (rc < 0)
		err_make(e, -rc, "%s: can't read etcd's revision: %s", st->path,
			 es->sync_msg ? es->sync_msg : "?");
	pthread_mutex_unlock(&es->sync_mu);
	if (rc < 0)
		return rc;
	/* The revision may be another prefix's, which this watch never shows
	 * (until etcd's progress notification): a write of our own then
	 * brings the index past it. */
	if (estore_wait_rev(st, rev, SYNC_WAIT_MS, NULL) == 0)
		return 0;
	rc = sync_mark(st, &rev, e);
	return rc < 0 ? rc : estore_wait_rev(st, rev, ESTORE_WAIT_MS, e);
}

/* Fencing */

void store_fence_set(struct store *st, const char *key, int64_t create_rev)
{
	struct estore *es = st ? st->etcd : NULL;
	if (!es)
		return;
	pthread_mutex_lock(&es->fence_mu);
	free(es->fence_key);
	es->fence_key = key ? xstrdup(key) : NULL;
	es->fence_rev = create_rev;
	es->fence_on = true;
	pthread_mutex_unlock(&es->fence_mu);
}

void store_fence_thread(bool on)
{
	tls_fenced = on;
}

size_t store_max_writes(struct store *st)
{
	if (!st->etcd)
		return SIZE_MAX;
	int n = st->etcd->max_ops;
	return (size_t)(n > 56 ? n - 28 : n > 1 ? n / 2 : 1); /* room for the reads' compares */
}

struct etcd *store_etcd(struct store *st)
{
	return st && st->etcd ? st->etcd->c : NULL;
}

/* Opening and closing */

static void estore_free(struct store *st)
{
	struct estore *es = st->etcd;
	etcd_close(es->c);
	free(es->ring);
	free(es->ring_at);
	free(es->prefix);
	free(es->pend);
	free(es->fence_key);
	free(es->sync_msg);
	pthread_mutex_destroy(&es->ev_mu);
	pthread_cond_destroy(&es->ev_cond);
	pthread_mutex_destroy(&es->fence_mu);
	pthread_mutex_destroy(&es->sync_mu);
	pthread_cond_destroy(&es->sync_cond);
	free(es);
	hmap_clear(&st->owners, deplist_free);
	hmap_clear(&st->mtimes, free);
	hmap_clear(&st->kinds, kindidx_free);
	pthread_mutex_destroy(&st->q_mu);
	pthread_cond_destroy(&st->q_cond);
	pthread_rwlock_destroy(&st->idx_lock);
	free(st->path);
	free(st);
	store_intern_release();
}

static struct estore *estore_new(const char *prefix)
{
	struct estore *es = xcalloc(1, sizeof(*es));
	size_t n = strlen(prefix);
	while (n > 1 && prefix[n - 1] == '/')
		n--;
	es->prefix = xasprintf("%.*s/", (int)n, prefix);
	es->plen = strlen(es->prefix);
	es->pend = xstrdup(es->prefix);
	es->pend[es->plen - 1]++; /* '/' + 1: the end of every key under the prefix */
	const char *v = getenv("CFS_ETCD_MAX_TXN_OPS");
	es->max_ops = v && atoi(v) > 0 ? atoi(v) : ESTORE_MAX_OPS;
	v = getenv("CFS_ETCD_MAX_REQUEST_BYTES");
	es->max_bytes = v && atoll(v) > 0 ? (size_t)atoll(v) : ESTORE_MAX_BYTES;
	es->ring = xcalloc(ESTORE_RING_CAP, sizeof(*es->ring));
	es->ring_at = xcalloc(ESTORE_RING_CAP, sizeof(*es->ring_at));
	pthread_mutex_init(&es->ev_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&es->ev_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&es->fence_mu, NULL);
	pthread_mutex_init(&es->sync_mu, NULL);
	pthread_cond_init(&es->sync_cond, NULL);
	return es;
}

int store_open_etcd(const struct etcd_opts *o, const char *prefix, struct store **out,
		    struct err **e)
{
	if (!prefix || !*prefix)
		prefix = "/clusterfs";
	struct store *st = xcalloc(1, sizeof(*st));
	st->path = xasprintf("etcd %s%s", o->endpoints, prefix);
	st->q_tail = &st->q_head;
	pthread_mutex_init(&st->q_mu, NULL);
	pthread_cond_init(&st->q_cond, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->idx_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	st->etcd = estore_new(prefix);
	store_intern_hold();
	int rc = etcd_open(o, &st->etcd->c, e);
	if (!rc)
		rc = estore_feed_start(st, e);
	if (rc) {
		err_wrap(e, "%s", st->path);
		estore_free(st);
		return rc;
	}
	log_info("store", "%s: opened at revision %" PRId64, st->path, store_rev(st));
	*out = st;
	return 0;
}

void estore_close(struct store *st)
{
	pthread_mutex_lock(&st->q_mu);
	st->closing = true;
	while (st->committing || st->q_head)
		pthread_cond_wait(&st->q_cond, &st->q_mu);
	pthread_mutex_unlock(&st->q_mu);
	estore_feed_stop(st);
	estore_free(st);
}
