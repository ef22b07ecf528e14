/*
 * test_container.c - unit tests of fs/container: container names (init
 * first), existence, status lookup, and the text of containers/C/status
 * and containers/C/restarts for each state a node agent reports (running,
 * waiting in CrashLoopBackOff, terminated, none), multi-line messages made
 * one line, and the spec's image when the status has none.
 */
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "fs/container.h"
#include "tests/unit/unit.h"

static json_t *pod_new(void)
{
	json_error_t je;
	json_t *p = json_loads(
	    "{\"metadata\": {\"name\": \"web-1\", \"uid\": \"u1\"},"
	    " \"spec\": {"
	    "  \"initContainers\": [{\"name\": \"setup\", \"image\": \"busybox:1.36\"}],"
	    "  \"containers\": [{\"name\": \"web\", \"image\": \"nginx:1.25\"},"
	    "                   {\"name\": \"side\", \"image\": \"busybox:1.36\"}]},"
	    " \"status\": {"
	    "  \"initContainerStatuses\": [{\"name\": \"setup\", \"ready\": true,"
	    "    \"restartCount\": 0, \"image\": \"busybox:1.36\","
	    "    \"state\": {\"terminated\": {\"exitCode\": 0, \"reason\": \"Completed\","
	    "      \"startedAt\": \"2026-01-01T00:00:00Z\", \"finishedAt\": "
	    "\"2026-01-01T00:00:01Z\"}}}],"
	    "  \"containerStatuses\": ["
	    "   {\"name\": \"web\", \"ready\": false, \"restartCount\": 3, \"image\": "
	    "\"nginx:1.25\","
	    "    \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\","
	    "      \"message\": \"back-off 20s restarting failed container=web pod=web-1\"}},"
	    "    \"lastState\": {\"terminated\": {\"exitCode\": 1, \"reason\": \"Error\","
	    "      \"message\": \"boom\\nat line 2\\n\"}}},"
	    "   {\"name\": \"side\", \"ready\": true, \"restartCount\": 0,"
	    "    \"state\": {\"running\": {\"startedAt\": \"2026-01-01T00:00:02Z\"}},"
	    "    \"lastState\": {}}]}}",
	    0, &je);
	if (!p)
		fprintf(stderr, "bad JSON: %s\n", je.text);
	return p;
}

static char *status_of(const json_t *pod, const char *name)
{
	struct buf b = {0};
	container_render_status(pod, name, &b);
	return buf_steal(&b, NULL);
}

#define CHECK_TEXT(got, want)                                                                      \
	do {                                                                                       \
		CHECK(!strcmp((got), (want)));                                                     \
		if (strcmp((got), (want)))                                                         \
			fprintf(stderr, "    got:\n%s    want:\n%s", (got), (want));               \
	} while (0)

static void test_names(void)
{
	json_t *p = pod_new();
	CHECK(!strcmp(container_name_at(p, 0), "setup"));
	CHECK(!strcmp(container_name_at(p, 1), "web"));
	CHECK(!strcmp(container_name_at(p, 2), "side"));
	CHECK(container_name_at(p, 3) == NULL);
	CHECK(!strcmp(container_first(p), "web"));
	CHECK(container_exists(p, "setup") && container_exists(p, "side"));
	CHECK(!container_exists(p, "nope"));
	CHECK(container_status(p, "setup") != NULL);
	CHECK(container_status(p, "nope") == NULL);
	json_t *empty = json_object();
	CHECK(container_name_at(empty, 0) == NULL);
	CHECK(container_first(empty) == NULL);
	json_decref(empty);
	json_decref(p);
}

static void test_status_waiting(void)
{
	json_t *p = pod_new();
	char *s = status_of(p, "web");
	CHECK_TEXT(s, "state: waiting: CrashLoopBackOff: back-off 20s restarting failed "
		      "container=web pod=web-1\n"
		      "ready: false\n"
		      "restarts: 3\n"
		      "last: terminated: Error (exit code 1): boom at line 2\n"
		      "image: nginx:1.25\n");
	free(s);
	json_decref(p);
}

static void test_status_running_and_done(void)
{
	json_t *p = pod_new();
	char *s = status_of(p, "side");
	/* No image in this status: the spec's. */
	CHECK_TEXT(s, "state: running since 2026-01-01T00:00:02Z\n"
		      "ready: true\n"
		      "restarts: 0\n"
		      "last: none\n"
		      "image: busybox:1.36\n");
	free(s);
	s = status_of(p, "setup");
	CHECK_TEXT(s, "state: terminated: Completed (exit code 0)\n"
		      "ready: true\n"
		      "restarts: 0\n"
		      "last: none\n"
		      "image: busybox:1.36\n");
	free(s);
	json_decref(p);
}

static void test_status_unreported(void)
{
	json_t *p = pod_new();
	json_object_del(p, "status");
	char *s = status_of(p, "web");
	CHECK_TEXT(s, "state: unknown\nready: false\nrestarts: 0\nlast: none\nimage: nginx:1.25\n");
	free(s);
	/* A waiting state with no reason; a terminated one with no reason. */
	json_t *st = json_loads("{\"containerStatuses\": ["
				"{\"name\": \"web\", \"state\": {\"waiting\": {}},"
				" \"lastState\": {\"terminated\": {\"exitCode\": 137}}}]}",
				0, NULL);
	json_object_set_new(p, "status", st);
	s = status_of(p, "web");
	CHECK_TEXT(s, "state: waiting\nready: false\nrestarts: 0\n"
		      "last: terminated (exit code 137)\nimage: nginx:1.25\n");
	free(s);
	json_decref(p);
}

static void test_restarts(void)
{
	json_t *p = pod_new();
	struct buf b = {0};
	container_render_restarts(p, "web", &b);
	CHECK(b.s && !strcmp(b.s, "3\n"));
	b.len = 0;
	container_render_restarts(p, "setup", &b);
	CHECK(b.s && !strcmp(b.s, "0\n"));
	buf_free(&b);
	json_decref(p);
}

int main(void)
{
	RUN(test_names);
	RUN(test_status_waiting);
	RUN(test_status_running_and_done);
	RUN(test_status_unreported);
	RUN(test_restarts);
	return unit_done();
}
