/*
 * view_usage.c - resource usage as files: pods/NAME/usage, nodes/NAME/usage
 * and /cluster/top, from the API's latest samples (api_metrics.h).
 *
 *     $ cat /cluster/pods/burn/usage
 *     CONTAINER   CPU(m)    MEMORY(bytes)
 *     loop        498       417792
 *     TOTAL       498       417792
 *     $ cat /cluster/nodes/n1/usage
 *     CPU(m)    CPU%      MEMORY(bytes)   MEMORY%
 *     1034      51        2863493120      35
 *     $ sort -k3 -h /cluster/top | tail -3
 *
 * Numbers in the usage files are plain integers (millicores, bytes) for
 * awk; /cluster/top prints what `kubectl top pods -A` prints (250m, 12Mi).
 * A pod or node without a sample (not running, or not reported in the last
 * three periods) shows the header line alone, as an empty table.  The
 * files are rendered at each read (never cached): watch cat works.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_metrics.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "fs/view_int.h"

/* Millicores as kubectl shows them: rounded up. */
static int64_t milli_of(int64_t nano)
{
	return (nano + 999999) / 1000000;
}

/* A table of rows of cells, printed with columns padded as kubectl's
 * tabwriter pads them (three spaces between columns). */
struct table {
	char **cells; /* row-major */
	size_t ncols, n;
};

static void cell(struct table *t, char *s)
{
	t->cells = xrealloc(t->cells, (t->n + 1) * sizeof(char *));
	t->cells[t->n++] = s;
}

static void table_print(struct table *t, struct buf *out)
{
	size_t w[8] = {0};
	for (size_t i = 0; i < t->n; i++) {
		size_t len = strlen(t->cells[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (size_t i = 0; i < t->n; i++) {
		bool last = i % t->ncols == t->ncols - 1;
		if (last)
			buf_printf(out, "%s\n", t->cells[i]);
		else /* tabwriter's: padding 3, minimal width 10 */
			buf_printf(out, "%-*s",
				   (int)(w[i % t->ncols] + 3 > 10 ? w[i % t->ncols] + 3 : 10),
				   t->cells[i]);
		free(t->cells[i]);
	}
	free(t->cells);
}

void view_usage_pod(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct table t = {.ncols = 3};
	cell(&t, xstrdup("CONTAINER"));
	cell(&t, xstrdup("CPU(m)"));
	cell(&t, xstrdup("MEMORY(bytes)"));
	json_t *pm = NULL;
	if (api_pod_metrics(view_api(v), o->ns, o->name, &pm) == 0) {
		struct api_usage sum = {0, 0};
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(pm, "containers"), i, c)
		{
			struct api_usage u;
			if (api_usage_parse(json_object_get(c, "usage"), &u) < 0)
				continue;
			cell(&t, xstrdup(obj_str(c, "name")));
			cell(&t, xasprintf("%" PRId64, milli_of(u.cpu_nano)));
			cell(&t, xasprintf("%" PRId64, u.mem_bytes));
			sum.cpu_nano += u.cpu_nano;
			sum.mem_bytes += u.mem_bytes;
		}
		cell(&t, xstrdup("TOTAL"));
		cell(&t, xasprintf("%" PRId64, milli_of(sum.cpu_nano)));
		cell(&t, xasprintf("%" PRId64, sum.mem_bytes));
		json_decref(pm);
	}
	table_print(&t, out);
}

/* 100 * used / of, "<unknown>" when of is not known. */
static char *percent(int64_t used, int64_t of)
{
	return of > 0 ? xasprintf("%" PRId64, used * 100 / of) : xstrdup("<unknown>");
}

void view_usage_node(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct table t = {.ncols = 4};
	cell(&t, xstrdup("CPU(m)"));
	cell(&t, xstrdup("CPU%"));
	cell(&t, xstrdup("MEMORY(bytes)"));
	cell(&t, xstrdup("MEMORY%"));
	json_t *nm = NULL;
	struct api_usage u;
	if (api_node_metrics(view_api(v), o->name, &nm) == 0 &&
	    api_usage_parse(json_object_get(nm, "usage"), &u) == 0) {
		const json_t *alloc = obj_at(o->obj, "status.allocatable");
		int64_t cpu_m = 0, mem_m = 0;
		quantity_parse(json_object_get(alloc, "cpu"), &cpu_m, NULL);
		quantity_parse(json_object_get(alloc, "memory"), &mem_m, NULL);
		cell(&t, xasprintf("%" PRId64, milli_of(u.cpu_nano)));
		cell(&t, percent(milli_of(u.cpu_nano), cpu_m));
		cell(&t, xasprintf("%" PRId64, u.mem_bytes));
		cell(&t, percent(u.mem_bytes, mem_m / 1000));
	}
	json_decref(nm);
	table_print(&t, out);
}

static int by_ns_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(obj_str(x, "metadata.namespace"), obj_str(y, "metadata.namespace"));
	return c ? c : strcmp(obj_str(x, "metadata.name"), obj_str(y, "metadata.name"));
}

void view_usage_top(struct view *v, struct buf *out)
{
	struct table t = {.ncols = 4};
	cell(&t, xstrdup("NAMESPACE"));
	cell(&t, xstrdup("NAME"));
	cell(&t, xstrdup("CPU(cores)"));
	cell(&t, xstrdup("MEMORY(bytes)"));
	json_t *list = api_pod_metrics_list(view_api(v), NULL, NULL, NULL);
	size_t n = json_array_size(list);
	json_t **items = xcalloc(n ? n : 1, sizeof(json_t *));
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(list, i);
	qsort(items, n, sizeof(json_t *), by_ns_name);
	for (size_t i = 0; i < n; i++) {
		struct api_usage sum = {0, 0}, u;
		size_t j;
		json_t *c;
		json_array_foreach(json_object_get(items[i], "containers"), j, c)
		{
			if (api_usage_parse(json_object_get(c, "usage"), &u) == 0) {
				sum.cpu_nano += u.cpu_nano;
				sum.mem_bytes += u.mem_bytes;
			}
		}
		cell(&t, xstrdup(obj_str(items[i], "metadata.namespace")));
		cell(&t, xstrdup(obj_str(items[i], "metadata.name")));
		cell(&t, xasprintf("%" PRId64 "m", milli_of(sum.cpu_nano)));
		cell(&t, xasprintf("%" PRId64 "Mi", sum.mem_bytes / (1024 * 1024)));
	}
	free(items);
	json_decref(list);
	table_print(&t, out);
}
