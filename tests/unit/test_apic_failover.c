/*
 * test_apic_failover.c - the HTTP API client given several servers
 * (apic_http_opts.server "URL,URL,..."): two HTTP servers on one API
 * (one store, one data dir, so one CA and one token, as servers of one
 * cluster would share) behind a port where nothing listens.  Requests pass
 * the dead one and go on to a live one; when that one stops, requests and
 * a watch move to the other, resuming where the watch was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/client/apic.h"
#include "engine/clock.h"
#include "engine/client/join.h"
#include "http/http.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct http *srv[2];
static int port[2];

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 1;
	close(fd);
	return ntohs(a.sin_port);
}

static void serve(int i)
{
	struct http_opts o = {.api = api, .data_dir = dir, .listen = "127.0.0.1:0"};
	struct err *e = NULL;
	if (http_start(&o, &srv[i], &e) < 0) {
		fprintf(stderr, "http: %s\n", e ? e->msg : "?");
		exit(1);
	}
	port[i] = http_port(srv[i]);
}

static int put_cm(const char *name)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
			      "metadata", "name", name, "namespace", "default");
	struct err *e = NULL;
	int r = api_create(api, o, NULL, &e);
	json_decref(o);
	err_free(e);
	return r;
}

/* Waits up to ms for an event about ConfigMap name on w. */
static bool seen(struct apic_watch *w, const char *name, int ms)
{
	struct store_event evs[16];
	for (int t = 0; t < ms; t += 200) {
		int n = apic_watch_next(w, evs, 16, 200);
		bool hit = false;
		for (int i = 0; i < n; i++)
			hit |= !strcmp(evs[i].obj->name, name);
		if (n > 0)
			store_events_free(evs, (size_t)n);
		if (hit)
			return true;
	}
	return false;
}

static void test_failover(void)
{
	char *tokpath = xasprintf("%s/pki/token", dir), tok[128] = "";
	FILE *f = fopen(tokpath, "r");
	CHECK(f && fgets(tok, sizeof(tok), f));
	if (f)
		fclose(f);
	tok[strcspn(tok, "\n")] = 0;
	char *urls = xasprintf("https://127.0.0.1:%d,https://127.0.0.1:%d/,https://127.0.0.1:%d",
			       free_port(), port[0], port[1]);
	char *ca = xasprintf("%s/pki/ca.crt", dir);
	struct apic_http_opts ho = {
	    .server = urls, .ca_file = ca, .token = tok, .timeout_ms = 3000};
	struct apic *c = NULL;
	struct err *e = NULL;
	CHECK(apic_http_new(&ho, &c, &e) == 0);
	CHECK(!strcmp(apic_name(c), urls));

	/* the first does not answer: the second does */
	struct sobj *o = NULL;
	CHECK(apic_get(c, K("Namespace"), NULL, "default", &o, &e) == 0 && o);
	sobj_unref(o);
	const struct kind_info *cmk = K("ConfigMap");
	struct apic_watch_spec sp = {&cmk, 1, NULL};
	struct apic_watch *w = NULL;
	CHECK(apic_watch_open(c, &sp, &w, &e) == 0);
	CHECK(put_cm("one") >= 0);
	CHECK(seen(w, "one", 5000));

	/* the second goes away: requests and the watch go to the third */
	http_stop(srv[0]);
	srv[0] = NULL;
	CHECK(put_cm("two") >= 0);
	CHECK(seen(w, "two", 10000));
	o = NULL;
	CHECK(apic_get(c, cmk, "default", "two", &o, &e) == 0 && o);
	sobj_unref(o);
	CHECK(put_cm("three") >= 0);
	CHECK(seen(w, "three", 5000));
	apic_watch_close(w);
	apic_free(c);
	err_free(e);

	/* a bad URL among them is refused */
	char *bad = xasprintf("https://127.0.0.1:%d,ftp://x", port[1]);
	ho.server = bad;
	CHECK(apic_http_new(&ho, &c, &e) == -EINVAL && e);
	err_free(e);
	free(bad);
	free(urls);
	free(ca);
	free(tokpath);
}

/* join_retry goes on to the next server at once when one does not answer */
static void test_join_next_server(void)
{
	struct join_result r = {0};
	struct err *e = NULL;
	char *tokpath = xasprintf("%s/node-token", dir), tok[512] = "";
	FILE *f = fopen(tokpath, "r");
	CHECK(f && fgets(tok, sizeof(tok), f));
	if (f)
		fclose(f);
	tok[strcspn(tok, "\n")] = 0;
	char *adir = xasprintf("%s/agent", dir);
	char *urls = xasprintf("https://127.0.0.1:%d,https://127.0.0.1:%d", free_port(), port[1]);
	int64_t t0 = mono_ms();
	int rc = join_retry(urls, tok, "n1", adir, 2000, 5000, NULL, &r, &e);
	if (rc < 0)
		fprintf(stderr, "  join: %s\n", e ? e->msg : "?");
	CHECK(rc == 0 && r.token && r.ca_path);
	CHECK(mono_ms() - t0 < 900); /* no pause before the second server */
	join_result_free(&r);
	err_free(e);
	free(urls);
	free(adir);
	free(tokpath);
}

int main(void)
{
	env_up("apicfo");
	serve(0);
	serve(1);
	RUN(test_failover);
	RUN(test_join_next_server);
	http_stop(srv[0]);
	http_stop(srv[1]);
	env_down();
	return unit_done();
}
