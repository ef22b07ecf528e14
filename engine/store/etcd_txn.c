/*
 * etcd_txn.c - the etcd client's transactions, compaction and leases
 * (etcd.h), as JSON bodies for etcd_call (etcd.c):
 *
 *     POST /v3/kv/txn  {"compare":[{"key":"L2s=","target":"MOD","result":"EQUAL",
 *                                   "mod_revision":7}],
 *                       "success":[{"request_put":{"key":"L2s=","value":"dg=="}}],
 *                       "failure":[{"request_range":{"key":"L2s="}}]}
 *     -> {"header":{"revision":"8"},"succeeded":true,"responses":[{"response_put":{}}]}
 */
#include <errno.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/store/etcd_int.h"

static const char *const targets[] = {
    [ETCD_CMP_VERSION] = "VERSION", [ETCD_CMP_CREATE] = "CREATE", [ETCD_CMP_MOD] = "MOD",
    [ETCD_CMP_VALUE] = "VALUE",	    [ETCD_CMP_LEASE] = "LEASE",
};
static const char *const fields[] = {
    [ETCD_CMP_VERSION] = "version",  [ETCD_CMP_CREATE] = "create_revision",
    [ETCD_CMP_MOD] = "mod_revision", [ETCD_CMP_VALUE] = "value",
    [ETCD_CMP_LEASE] = "lease",
};
static const char *const results[] = {
    [ETCD_EQ] = "EQUAL", [ETCD_NE] = "NOT_EQUAL", [ETCD_LT] = "LESS", [ETCD_GT] = "GREATER"};

static json_t *cmp_json(const struct etcd_cmp *k)
{
	json_t *j = json_object();
	json_object_set_new(j, "key", etcd_jb64(k->key, k->key_len));
	json_object_set_new(j, "target", json_string(targets[k->target]));
	json_object_set_new(j, "result", json_string(results[k->op]));
	if (k->range_end)
		json_object_set_new(j, "range_end", etcd_jb64(k->range_end, k->range_end_len));
	if (k->target == ETCD_CMP_VALUE)
		json_object_set_new(j, "value", etcd_jb64(k->value, k->value_len));
	else
		json_object_set_new(j, fields[k->target], json_integer(k->num));
	return j;
}

static json_t *op_json(const struct etcd_op *o)
{
	json_t *r = json_object();
	json_object_set_new(r, "key", etcd_jb64(o->key, o->key_len));
	const char *name = "request_range";
	if (o->type == ETCD_PUT) {
		name = "request_put";
		json_object_set_new(r, "value", etcd_jb64(o->value, o->value_len));
		if (o->lease)
			json_object_set_new(r, "lease", json_integer(o->lease));
	} else if (o->type == ETCD_DELETE) {
		name = "request_delete_range";
	}
	json_t *j = json_object();
	json_object_set_new(j, name, r);
	return j;
}

static json_t *txn_json(const struct etcd_cmp *cmps, size_t ncmp, const struct etcd_op *ok,
			size_t nok, const struct etcd_op *fail, size_t nfail)
{
	json_t *cmp = json_array(), *s = json_array(), *f = json_array();
	for (size_t i = 0; i < ncmp; i++)
		json_array_append_new(cmp, cmp_json(&cmps[i]));
	for (size_t i = 0; i < nok; i++)
		json_array_append_new(s, op_json(&ok[i]));
	for (size_t i = 0; i < nfail; i++)
		json_array_append_new(f, op_json(&fail[i]));
	json_t *j = json_object();
	json_object_set_new(j, "compare", cmp);
	json_object_set_new(j, "success", s);
	json_object_set_new(j, "failure", f);
	return j;
}

/* The RANGE ops' first keys, from the responses of the branch that ran. */
static int txn_ranges(const json_t *resps, const struct etcd_op *ops, size_t nops,
		      struct etcd_txn_res *res, struct err **e)
{
	size_t nr = 0;
	for (size_t i = 0; i < nops; i++)
		nr += ops[i].type == ETCD_RANGE;
	res->kvs = nr ? xcalloc(nr, sizeof(*res->kvs)) : NULL;
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].type != ETCD_RANGE)
			continue;
		json_t *rr = json_object_get(json_array_get(resps, i), "response_range");
		json_t *kv = json_array_get(json_object_get(rr, "kvs"), 0);
		struct etcd_kv *dst = &res->kvs[res->n++];
		if (kv) {
			int r = etcd_kv_parse(kv, dst, e);
			if (r < 0)
				return r;
			continue;
		}
		/* absent: its key, version 0 */
		dst->key = xstrndup(ops[i].key, ops[i].key_len);
		dst->key_len = ops[i].key_len;
		dst->value = xstrdup("");
	}
	return 0;
}

int etcd_txn(struct etcd *c, const struct etcd_cmp *cmps, size_t ncmp, const struct etcd_op *ok,
	     size_t nok, const struct etcd_op *fail, size_t nfail, struct etcd_txn_res *res,
	     struct err **e)
{
	*res = (struct etcd_txn_res){0};
	bool write = false;
	for (size_t i = 0; i < nok && !write; i++)
		write = ok[i].type != ETCD_RANGE;
	for (size_t i = 0; i < nfail && !write; i++)
		write = fail[i].type != ETCD_RANGE;
	json_t *j;
	int r =
	    etcd_call(c, "/v3/kv/txn", txn_json(cmps, ncmp, ok, nok, fail, nfail), write, &j, e);
	if (r < 0)
		return r;
	res->succeeded = json_is_true(json_object_get(j, "succeeded"));
	res->rev = etcd_jint(json_object_get(j, "header"), "revision");
	json_t *resps = json_object_get(j, "responses");
	if (res->succeeded)
		r = txn_ranges(resps, ok, nok, res, e);
	else
		r = txn_ranges(resps, fail, nfail, res, e);
	json_decref(j);
	if (r < 0)
		etcd_txn_res_free(res);
	return r;
}

void etcd_txn_res_free(struct etcd_txn_res *r)
{
	if (!r)
		return;
	etcd_kvs_free(r->kvs, r->n);
	r->kvs = NULL;
	r->n = 0;
}

int etcd_compact(struct etcd *c, int64_t rev, struct err **e)
{
	json_t *b = json_pack("{s:I, s:b}", "revision", (json_int_t)rev, "physical", 1);
	json_t *j;
	int r = etcd_call(c, "/v3/kv/compaction", b, true, &j, e); /* not twice */
	json_decref(j);
	return r;
}

/* ---- leases ---- */

int etcd_lease_grant(struct etcd *c, int64_t ttl, int64_t *id, struct err **e)
{
	json_t *j;
	int r = etcd_call(c, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t)ttl), false,
			  &j, e);
	if (r < 0)
		return r;
	const char *why = json_string_value(json_object_get(j, "error"));
	*id = etcd_jint(j, "ID");
	if (why && *why)
		r = err_make(e, EIO, "etcd %s: lease grant: %s", etcd_endpoint(c), why);
	else if (*id <= 0)
		r = err_make(e, EIO, "etcd %s: lease grant: no ID in the answer", etcd_endpoint(c));
	json_decref(j);
	return r;
}

int etcd_lease_keepalive(struct etcd *c, int64_t id, int64_t *ttl, struct err **e)
{
	json_t *j;
	*ttl = 0;
	int r = etcd_call(c, "/v3/lease/keepalive", json_pack("{s:I}", "ID", (json_int_t)id), false,
			  &j, e);
	if (r < 0)
		return r;
	*ttl = etcd_jint(j, "TTL");
	json_decref(j);
	if (*ttl <= 0)
		return err_make(e, ENOENT, "etcd %s: lease %lld has expired", etcd_endpoint(c),
				(long long)id);
	return 0;
}

int etcd_lease_revoke(struct etcd *c, int64_t id, struct err **e)
{
	json_t *j;
	int r = etcd_call(c, "/v3/lease/revoke", json_pack("{s:I}", "ID", (json_int_t)id), false,
			  &j, e);
	json_decref(j);
	return r;
}
