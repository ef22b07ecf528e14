/*
 * test_api_exec.c - the exec/port-forward provider registry
 * (engine/api/api_exec.h) against a real store: the pod's node picks the
 * provider, the container is checked and defaulted, and each refusal has
 * its errno and the apiserver's words.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/api/api_exec.h"
#include "engine/mem.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

/* What the fake provider was called with. */
static struct {
	int calls;
	char node[32], uid[64], container[32], argv0[32];
	int port;
	bool tty;
} seen;

static void fake_free(struct api_exec_sess *s)
{
	free(s);
}
static const struct api_exec_sess_ops fake_ops = {.free = fake_free};

static int fake_exec(void *arg, const struct api_exec_opts *o, struct api_exec_sess **out,
		     struct err **e)
{
	seen.calls++;
	snprintf(seen.node, sizeof(seen.node), "%s", (const char *)arg);
	snprintf(seen.uid, sizeof(seen.uid), "%s", o->uid ? o->uid : "");
	snprintf(seen.container, sizeof(seen.container), "%s", o->container);
	snprintf(seen.argv0, sizeof(seen.argv0), "%s", o->argv[0]);
	seen.tty = o->tty;
	*out = xcalloc(1, sizeof(**out));
	(*out)->ops = &fake_ops;
	return 0;
}

static int fake_pf(void *arg, const char *ns, const char *pod, const char *uid, int port, int *fd,
		   struct err **e)
{
	seen.calls++;
	snprintf(seen.node, sizeof(seen.node), "%s", (const char *)arg);
	seen.port = port;
	*fd = dup(0);
	return 0;
}

static const struct api_exec_provider fake = {.exec = fake_exec, .portforward = fake_pf};

static void make_pod(const char *name, const char *node, int ncontainers)
{
	json_t *cs = json_array();
	for (int i = 0; i < ncontainers; i++)
		json_array_append_new(cs, json_pack("{s:s, s:s}", "name", i ? "side" : "main",
						    "image", "busybox:1.36"));
	json_t *p = json_pack("{s:s, s:s, s:{s:s}, s:{s:o}}", "apiVersion", "v1", "kind", "Pod",
			      "metadata", "name", name, "spec", "containers", cs);
	if (node)
		json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
	struct err *e = NULL;
	CHECK(api_create(api, p, NULL, &e) == 0);
	err_free(e);
	json_decref(p);
}

static int start(const char *pod, const char *container, struct err **e)
{
	char *argv[] = {"ls", NULL};
	struct api_exec_opts o = {
	    .ns = "default", .pod = pod, .container = container, .argv = argv, .out = true};
	struct api_exec_sess *s = NULL;
	int r = api_exec_start(api, &o, &s, e);
	if (s)
		s->ops->free(s);
	return r;
}

static void test_exec(void)
{
	static char n1[] = "n1", n2[] = "n2";
	api_exec_register(api, "n1", &fake, n1);
	api_exec_register(api, "n2", &fake, n2);
	make_pod("one", "n2", 1);
	make_pod("two", "n1", 2);
	make_pod("pending", NULL, 1);
	make_pod("lost", "n9", 1);

	struct err *e = NULL;
	CHECK(start("one", NULL, &e) == 0);
	CHECK(seen.calls == 1 && !strcmp(seen.node, "n2"));
	CHECK(!strcmp(seen.container, "main") && !strcmp(seen.argv0, "ls") && seen.uid[0]);
	CHECK(start("two", "side", &e) == 0 && !strcmp(seen.node, "n1"));
	CHECK(!strcmp(seen.container, "side"));

	CHECK(start("two", NULL, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "a container name must be specified for pod two"));
	err_free(e), e = NULL;
	CHECK(start("one", "nosuch", &e) == -EINVAL);
	CHECK(e && !strcmp(e->msg, "container nosuch is not valid for pod one"));
	err_free(e), e = NULL;
	CHECK(start("nosuch", NULL, &e) == -ENOENT);
	CHECK(e && !strcmp(e->msg, "pods \"nosuch\" not found"));
	err_free(e), e = NULL;
	CHECK(start("pending", NULL, &e) == -EAGAIN);
	CHECK(e && !strcmp(e->msg, "pod pending does not have a host assigned"));
	err_free(e), e = NULL;
	CHECK(start("lost", NULL, &e) == -EHOSTUNREACH);
	err_free(e), e = NULL;
	char *none[] = {NULL};
	struct api_exec_opts o = {.ns = "default", .pod = "one", .argv = none};
	struct api_exec_sess *s = NULL;
	CHECK(api_exec_start(api, &o, &s, &e) == -EINVAL && !s);
	err_free(e), e = NULL;

	int fd = -1;
	CHECK(api_portforward(api, "default", "two", 8080, &fd, &e) == 0 && fd >= 0);
	CHECK(seen.port == 8080 && !strcmp(seen.node, "n1"));
	close(fd);
	CHECK(api_portforward(api, "default", "two", 0, &fd, &e) == -EINVAL);
	err_free(e), e = NULL;

	/* unregistered: the node is unreachable */
	int calls = seen.calls;
	api_exec_unregister(api, "n2");
	CHECK(start("one", NULL, &e) == -EHOSTUNREACH && seen.calls == calls);
	CHECK(e && strstr(e->msg, "n2"));
	err_free(e), e = NULL;
	api_exec_unregister(api, "n1");
}

int main(void)
{
	env_up("api-exec");
	RUN(test_exec);
	env_down();
	return unit_done();
}
