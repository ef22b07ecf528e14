/*
 * api_refusal.c - the kept log of refused writes.  See api.h.
 *
 * Why objects: the store keeps objects and nothing else, durably, in one
 * transaction per change; events are kept the same way.  Each line is an
 * object of the internal kind API_REFUSAL_KIND (cluster-scoped; no
 * kind_info, so no folder shows it and no manifest can name it), named by
 * a sequence number written with 20 digits, so that the store's order by
 * name is the order of recording.  Recording one line deletes the oldest
 * beyond the cap in the same transaction, so the log never grows past it.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"

int api_refusals_keep_for_test;

/* line as a JSON string; bytes that are not UTF-8 become '?'. */
static json_t *line_string(const char *line)
{
	json_t *s = json_string(line);
	if (s)
		return s;
	char *copy = xstrdup(line);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	s = json_string(copy);
	free(copy);
	return s ? s : json_string("?");
}

static int record_txn(struct store_txn *tx, void *arg, struct err **e)
{
	const char *line = arg;
	struct sobj **v;
	size_t n = store_txn_list(tx, API_REFUSAL_KIND, "", &v);
	int64_t seq = n ? strtoll(v[n - 1]->name, NULL, 10) + 1 : 1;
	char name[24];
	snprintf(name, sizeof(name), "%020" PRId64, seq);
	json_t *obj =
	    json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "v1", "kind", API_REFUSAL_KIND,
		      "metadata", "name", name, "line", line_string(line));
	int64_t rc = store_txn_put(tx, API_REFUSAL_KIND, "", name, obj, false, e);
	size_t keep =
	    api_refusals_keep_for_test > 0 ? (size_t)api_refusals_keep_for_test : API_REFUSALS_KEEP;
	/* n + 1 lines now: drop the oldest beyond keep. */
	for (size_t i = 0; rc >= 0 && i + keep < n + 1; i++)
		rc = store_txn_delete(tx, API_REFUSAL_KIND, "", v[i]->name, e);
	sobj_list_free(v, n);
	return rc < 0 ? (int)rc : 0;
}

int api_refusal_record(struct api *a, const char *line, struct err **e)
{
	return store_update(a->st, record_txn, (void *)line, e);
}

size_t api_refusals(struct api *a, char ***out)
{
	struct sobj **v;
	size_t n = store_list(a->st, API_REFUSAL_KIND, "", &v), m = 0;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(v[i]->obj, "line"));
		if (s)
			lines[m++] = xstrdup(s);
	}
	sobj_list_free(v, n);
	*out = lines;
	return m;
}

/* Unkept lines: a ring in the root api, under this lock. */
static pthread_mutex_t unkept_lock = PTHREAD_MUTEX_INITIALIZER;

void api_refusal_unkept_add(struct api *a, const char *line)
{
	struct api *r = a->root;
	pthread_mutex_lock(&unkept_lock);
	char **slot = &r->unkept[r->unkept_n++ % API_UNKEPT_MAX];
	free(*slot);
	*slot = xstrdup(line);
	pthread_mutex_unlock(&unkept_lock);
}

size_t api_refusals_unkept(struct api *a, uint64_t *seq, char ***out)
{
	struct api *r = a->root;
	pthread_mutex_lock(&unkept_lock);
	uint64_t from = *seq;
	if (r->unkept_n > API_UNKEPT_MAX && from < r->unkept_n - API_UNKEPT_MAX)
		from = r->unkept_n - API_UNKEPT_MAX;
	size_t n = from < r->unkept_n ? (size_t)(r->unkept_n - from) : 0;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++)
		lines[i] = xstrdup(r->unkept[(from + i) % API_UNKEPT_MAX]);
	*seq = r->unkept_n > *seq ? r->unkept_n : *seq;
	pthread_mutex_unlock(&unkept_lock);
	*out = lines;
	return n;
}

void api_refusals_unkept_free(struct api *a)
{
	for (size_t i = 0; i < API_UNKEPT_MAX; i++)
		free(a->unkept[i]);
	free(a->stale_msg);
}
