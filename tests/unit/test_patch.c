/*
 * test_patch.c - engine/valid/patch.h: JSON merge patch (RFC 7386's
 * appendix), JSON patch (RFC 6902's appendix and pointer escapes),
 * strategic merge patch (merge keys, directives, kubectl's three-way
 * patches) and server-side apply (field sets, conflicts, force, removal).
 */
#include <errno.h>
#include <jansson.h>

#include "engine/api/api_patch.h"
#include "engine/mem.h"
#include "engine/store/store.h"
#include "engine/kind.h"
#include "engine/valid/patch.h"
#include "engine/valid/schema.h"
#include "tests/unit/unit.h"

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
	if (!v)
		fprintf(stderr, "  bad JSON in a test: %s: %s\n", s, je.text);
	return v;
}

/* Checks got (stolen) against the JSON text want; prints both on a miss. */
static int same(json_t *got, const char *want, const char *what)
{
	json_t *w = J(want);
	int ok = w && got && patch_equal(got, w);
	if (!ok) {
		char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		fprintf(stderr, "  %s:\n    got  %s\n    want %s\n", what, g ? g : "(null)", want);
		free(g);
	}
	json_decref(w);
	json_decref(got);
	return ok;
}

struct pcase {
	const char *doc, *patch, *want; /* want NULL: an error */
	int err;			/* the error wanted */
};

/* RFC 7386, Appendix A, and a few more. */
static void test_merge(void)
{
	static const struct pcase c[] = {
	    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0},
	    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}", 0},
	    {"{\"a\":\"b\"}", "{\"a\":null}", "{}", 0},
	    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}", 0},
	    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0},
	    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}", 0},
	    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}",
	     0},
	    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}", 0},
	    {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]", 0},
	    {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]", 0},
	    {"{\"a\":\"foo\"}", "null", "null", 0},
	    {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\"", 0},
	    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}", 0},
	    {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}", 0},
	    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}", 0},
	    /* lists are replaced whole, even keyed ones */
	    {"{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	     "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"x\"}]}}",
	     "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"x\"}]}}", 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		json_t *d = J(c[i].doc), *p = J(c[i].patch);
		char what[32];
		snprintf(what, sizeof(what), "merge case %zu", i);
		CHECK(same(patch_merge(d, p), c[i].want, what));
		json_decref(d);
		json_decref(p);
	}
}

static void run_cases(const struct pcase *c, size_t n, const char *name,
		      int (*fn)(const json_t *, const json_t *, json_t **, struct err **))
{
	for (size_t i = 0; i < n; i++) {
		json_t *d = J(c[i].doc), *p = J(c[i].patch), *out = NULL;
		struct err *e = NULL;
		char what[64];
		snprintf(what, sizeof(what), "%s case %zu", name, i);
		int r = fn(d, p, &out, &e);
		if (c[i].want) {
			if (r != 0)
				fprintf(stderr, "  %s: %s\n", what, e ? e->msg : "?");
			CHECK(r == 0);
			CHECK(same(out, c[i].want, what));
		} else {
			if (r != -c[i].err)
				fprintf(stderr, "  %s: got %d, want %d\n", what, r, -c[i].err);
			CHECK(r == -c[i].err);
			CHECK(e && e->msg[0]);
			json_decref(out);
		}
		err_free(e);
		json_decref(d);
		json_decref(p);
	}
}

/* RFC 6902, Appendix A (A.13, a parser matter, aside), and pointers. */
static void test_json_patch(void)
{
	static const struct pcase c[] = {
	    /* A.1 - A.5 */
	    {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
	     "{\"baz\":\"qux\",\"foo\":\"bar\"}", 0},
	    {"{\"foo\":[\"bar\",\"baz\"]}",
	     "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
	     "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", 0},
	    {"{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
	     "{\"foo\":\"bar\"}", 0},
	    {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
	     "{\"foo\":[\"bar\",\"baz\"]}", 0},
	    {"{\"baz\":\"qux\",\"foo\":\"bar\"}",
	     "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
	     "{\"baz\":\"boo\",\"foo\":\"bar\"}", 0},
	    /* A.6, A.7: move */
	    {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
	     "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
	     "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}", 0},
	    {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
	     "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
	     "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", 0},
	    /* A.8, A.9: test */
	    {"{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
	     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":"
	     "\"/foo/1\",\"value\":2}]",
	     "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", 0},
	    {"{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
	     EINVAL},
	    /* A.10 - A.12 */
	    {"{\"foo\":\"bar\"}",
	     "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
	     "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", 0},
	    {"{\"foo\":\"bar\"}",
	     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
	     "{\"foo\":\"bar\",\"baz\":\"qux\"}", 0},
	    {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
	     NULL, EINVAL},
	    /* A.14, A.15: ~ escapes, strings are not numbers */
	    {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
	     "{\"/\":9,\"~1\":10}", 0},
	    {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL,
	     EINVAL},
	    /* A.16 */
	    {"{\"foo\":[\"bar\"]}",
	     "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
	     "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", 0},
	    /* more: ~1, copy, whole document, numbers by value, all or nothing */
	    {"{\"a/b\":1}", "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":2}]", "{\"a/b\":2}",
	     0},
	    {"{\"a\":{\"x\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
	     "{\"a\":{\"x\":[1]},\"b\":{\"x\":[1]}}", 0},
	    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}",
	     0},
	    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]", "{\"a\":1}", 0},
	    {"{\"a\":1}",
	     "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2},{\"op\":\"test\",\"path\":\"/a\","
	     "\"value\":1}]",
	     NULL, EINVAL},
	    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", NULL, EINVAL},
	    {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL, EINVAL},
	    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]", NULL, EINVAL},
	    {"{\"a\":null}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}",
	     0},
	    {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":2}]", NULL, EINVAL},
	    {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", NULL, EINVAL},
	    {"{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]", NULL,
	     EINVAL},
	    {"{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/b\"}]", NULL, EINVAL},
	    /* malformed */
	    {"{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL, EBADMSG},
	    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, EBADMSG},
	    {"{\"a\":1}", "[{\"op\":\"add\",\"value\":1}]", NULL, EBADMSG},
	    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL, EBADMSG},
	    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", NULL, EBADMSG},
	    {"{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\"}]", NULL, EBADMSG},
	    {"{\"a\":1}", "{\"op\":\"add\"}", NULL, EBADMSG},
	};
	run_cases(c, sizeof(c) / sizeof(c[0]), "json patch", patch_json);
}

#define POD(containers) "{\"spec\":{\"containers\":" containers "}}"

/* The definition the strategic cases patch objects of (the schema's). */
static const struct sch_def *smp_def;

static int smp(const json_t *doc, const json_t *patch, json_t **out, struct err **e)
{
	return patch_strategic(smp_def, doc, patch, out, e);
}

static void test_strategic(void)
{
	static const struct pcase c[] = {
	    /* containers merge by name: the other container and fields stay */
	    {POD("[{\"name\":\"a\",\"image\":\"a:1\",\"args\":[\"x\"]},{\"name\":\"b\",\"image\":"
		 "\"b:1\"}]"),
	     POD("[{\"name\":\"b\",\"image\":\"b:2\"}]"),
	     POD("[{\"name\":\"a\",\"image\":\"a:1\",\"args\":[\"x\"]},{\"name\":\"b\",\"image\":"
		 "\"b:2\"}]"),
	     0},
	    /* a new element is appended */
	    {POD("[{\"name\":\"a\"}]"), POD("[{\"name\":\"c\",\"image\":\"c\"}]"),
	     POD("[{\"name\":\"a\"},{\"name\":\"c\",\"image\":\"c\"}]"), 0},
	    /* env by name, ports by containerPort, volumeMounts by mountPath */
	    {POD("[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"}],\"ports\":[{"
		 "\"containerPort\":80,\"name\":\"http\"}],\"volumeMounts\":[{\"mountPath\":\"/"
		 "d\",\"name\":\"v\"}]}]"),
	     POD("[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"2\"},{\"name\":\"Y\","
		 "\"value\":\"3\"}],\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
		 "\"volumeMounts\":[{\"mountPath\":\"/d\",\"readOnly\":true}]}]"),
	     POD("[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"2\"},{\"name\":\"Y\","
		 "\"value\":\"3\"}],\"ports\":[{\"containerPort\":80,\"name\":\"http\","
		 "\"protocol\":\"TCP\"}],\"volumeMounts\":[{\"mountPath\":\"/d\",\"name\":\"v\","
		 "\"readOnly\":true}]}]"),
	     0},
	    /* volumes, imagePullSecrets by name; tolerations replaced */
	    {"{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],\"imagePullSecrets\":[{"
	     "\"name\":\"s\"}],\"tolerations\":[{\"key\":\"a\"}]}}",
	     "{\"spec\":{\"volumes\":[{\"name\":\"w\",\"emptyDir\":{}}],\"imagePullSecrets\":[{"
	     "\"name\":\"t\"}],\"tolerations\":[{\"key\":\"b\"}]}}",
	     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"w\","
	     "\"emptyDir\":{}}],\"imagePullSecrets\":[{\"name\":\"s\"},{\"name\":\"t\"}],"
	     "\"tolerations\":[{\"key\":\"b\"}]}}",
	     0},
	    /* a volume's source changed, as kubectl apply sends it (volumes are
	     * merge,retainKeys): the old source goes */
	    {"{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}",
	     "{\"spec\":{\"volumes\":[{\"$retainKeys\":[\"configMap\",\"name\"],\"name\":"
	     "\"v\",\"configMap\":{\"name\":\"c\"}}]}}",
	     "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"c\"}}]}}", 0},
	    /* conditions by type */
	    {"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":"
	     "\"A\",\"status\":\"True\"}]}}",
	     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	     "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":"
	     "\"A\",\"status\":\"True\"}]}}",
	     0},
	    /* null deletes; maps merge */
	    {"{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
	     "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}}}",
	     "{\"metadata\":{\"labels\":{\"b\":\"2\",\"c\":\"3\"}}}", 0},
	    /* $patch: delete in a list */
	    {POD("[{\"name\":\"a\"},{\"name\":\"b\"}]"),
	     POD("[{\"$patch\":\"delete\",\"name\":\"a\"}]"), POD("[{\"name\":\"b\"}]"), 0},
	    /* $patch: replace in a list */
	    {POD("[{\"name\":\"a\"},{\"name\":\"b\"}]"),
	     POD("[{\"name\":\"c\"},{\"$patch\":\"replace\"}]"), POD("[{\"name\":\"c\"}]"), 0},
	    /* $patch: replace of a map; $patch: delete of a map */
	    {"{\"spec\":{\"selector\":{\"a\":\"1\",\"b\":\"2\"}}}",
	     "{\"spec\":{\"selector\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
	     "{\"spec\":{\"selector\":{\"c\":\"3\"}}}", 0},
	    {"{\"spec\":{\"selector\":{\"a\":\"1\"},\"x\":1}}",
	     "{\"spec\":{\"selector\":{\"$patch\":\"delete\"}}}", "{\"spec\":{\"x\":1}}", 0},
	    {"{\"a\":1}", "{\"$patch\":\"merge\",\"b\":2}", "{\"a\":1,\"b\":2}", 0},
	    /* finalizers: a set; $deleteFromPrimitiveList */
	    {"{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	     "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}",
	     "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}", 0},
	    {"{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	     "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
	     "{\"metadata\":{\"finalizers\":[\"b\"]}}", 0},
	    /* args (no strategy) replaced */
	    {POD("[{\"name\":\"a\",\"args\":[\"1\",\"2\"]}]"),
	     POD("[{\"name\":\"a\",\"args\":[\"3\"]}]"), POD("[{\"name\":\"a\",\"args\":[\"3\"]}]"),
	     0},
	    /* $setElementOrder */
	    {"{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
	     "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}", 0},
	    /* the others keep their place relative to the listed ones */
	    {"{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":"
	     "\"c\"}]}}",
	     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"}]}}",
	     "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":"
	     "\"a\"}]}}",
	     0},
	    {"{\"spec\":{\"containers\":[{\"name\":\"k\"},{\"name\":\"x\"}]}}",
	     "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"k\"},{\"name\":\"n\"}],"
	     "\"containers\":[{\"name\":\"n\"}]}}",
	     "{\"spec\":{\"containers\":[{\"name\":\"k\"},{\"name\":\"n\"},{\"name\":"
	     "\"x\"}]}}",
	     0},
	    {"{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	     "{\"metadata\":{\"$setElementOrder/finalizers\":[\"b\",\"a\"]}}",
	     "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}", 0},
	    /* a new list under a missing key: directives stripped */
	    {"{}", POD("[{\"name\":\"a\",\"env\":[{\"$patch\":\"delete\",\"name\":\"X\"}]}]"),
	     POD("[{\"name\":\"a\",\"env\":[]}]"), 0},
	    /* errors */
	    {POD("[{\"name\":\"a\"}]"), POD("[{\"image\":\"x\"}]"), NULL, EBADMSG},
	    {"{}", "{\"$patch\":\"frob\"}", NULL, EBADMSG},
	    {"{}", "{\"a\":{\"$retainKeys\":\"x\"}}", NULL, EBADMSG},
	    {"{}", "[1]", NULL, EINVAL},
	    {POD("[{\"name\":\"a\"}]"), POD("[{\"name\":\"a\",\"$patch\":\"frob\"}]"), NULL,
	     EBADMSG},
	};
	smp_def = schema_for_kind(KIND_POD, false);
	run_cases(c, sizeof(c) / sizeof(c[0]), "strategic", smp);
}

/* Other kinds: the lists' strategies are those of the kind's schema. */
static void test_strategic_kinds(void)
{
	static const struct pcase svc[] = {
	    /* Service ports merge by port */
	    {"{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080},{\"port\":443}]}}",
	     "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
	     "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}]}}", 0},
	    /* a Service's ports are not a container's: containerPort is no key */
	    {"{\"spec\":{\"ports\":[{\"port\":80}]}}",
	     "{\"spec\":{\"ports\":[{\"containerPort\":80}]}}", NULL, EBADMSG},
	};
	smp_def = schema_for_kind(KIND_SERVICE, false);
	run_cases(svc, sizeof(svc) / sizeof(svc[0]), "service", smp);
	static const struct pcase deploy[] = {
	    /* $retainKeys (a Deployment's strategy) */
	    {"{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
	     "\"maxSurge\":1}}}}",
	     "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
	     "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}", 0},
	    /* kubectl apply's three-way patch: image changed, an env var and a label removed */
	    {"{\"metadata\":{\"labels\":{\"keep\":\"y\",\"drop\":\"y\"}},\"spec\":{\"template\":{"
	     "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"env\":[{"
	     "\"name\":\"KEEP\",\"value\":\"1\"},{\"name\":\"DROP\",\"value\":\"2\"}]}]}}}}",
	     "{\"metadata\":{\"labels\":{\"drop\":null}},\"spec\":{\"template\":{\"spec\":{\"$"
	     "setElementOrder/containers\":[{\"name\":\"nginx\"}],\"containers\":[{\"$"
	     "setElementOrder/env\":[{\"name\":\"KEEP\"}],\"env\":[{\"$patch\":\"delete\","
	     "\"name\":\"DROP\"}],\"image\":\"nginx:1.27\",\"name\":\"nginx\"}]}}}}",
	     "{\"metadata\":{\"labels\":{\"keep\":\"y\"}},\"spec\":{\"template\":{\"spec\":{"
	     "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27\",\"env\":[{\"name\":"
	     "\"KEEP\",\"value\":\"1\"}]}]}}}}",
	     0},
	    /* the template's containers and their ports merge as a pod's do */
	    {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":"
	     "[{\"containerPort\":80}]}]}}}}",
	     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":"
	     "[{\"containerPort\":81}]}]}}}}",
	     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":"
	     "[{\"containerPort\":80},{\"containerPort\":81}]}]}}}}",
	     0},
	    /* a list the schema does not describe is replaced whole */
	    {"{\"spec\":{\"extra\":{\"containers\":[{\"name\":\"a\"}]}}}",
	     "{\"spec\":{\"extra\":{\"containers\":[{\"name\":\"b\"}]}}}",
	     "{\"spec\":{\"extra\":{\"containers\":[{\"name\":\"b\"}]}}}", 0},
	};
	smp_def = schema_for_kind(KIND_DEPLOYMENT, false);
	run_cases(deploy, sizeof(deploy) / sizeof(deploy[0]), "deployment", smp);
	static const struct pcase node[] = {
	    /* podCIDRs: a set; addresses by type */
	    {"{\"spec\":{\"podCIDRs\":[\"10.0.0.0/24\"]},\"status\":{\"addresses\":[{"
	     "\"type\":\"Hostname\",\"address\":\"a\"}]}}",
	     "{\"spec\":{\"podCIDRs\":[\"10.0.1.0/24\",\"10.0.0.0/24\"]},\"status\":{"
	     "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"1.2.3.4\"}]}}",
	     "{\"spec\":{\"podCIDRs\":[\"10.0.0.0/24\",\"10.0.1.0/24\"]},\"status\":{"
	     "\"addresses\":[{\"type\":\"Hostname\",\"address\":\"a\"},{\"type\":"
	     "\"InternalIP\",\"address\":\"1.2.3.4\"}]}}",
	     0},
	    /* taints: atomic */
	    {"{\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}}",
	     "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoSchedule\"}]}}",
	     "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoSchedule\"}]}}", 0},
	};
	smp_def = schema_for_kind(KIND_NODE, false);
	run_cases(node, sizeof(node) / sizeof(node[0]), "node", smp);
	/* without a definition every list is atomic */
	static const struct pcase none[] = {
	    {POD("[{\"name\":\"a\"}]"), POD("[{\"name\":\"b\"}]"), POD("[{\"name\":\"b\"}]"), 0},
	};
	smp_def = NULL;
	run_cases(none, sizeof(none) / sizeof(none[0]), "no schema", smp);
}

/* --- server-side apply ----------------------------------------------------- */

static json_t *apply(const json_t *live, const char *config, const char *mgr, bool force, int *r,
		     json_t **conflicts)
{
	struct patch_apply_opts o = {mgr, "v1", "2026-01-01T00:00:00Z", force,
				     schema_for_kind(KIND_POD, false)};
	json_t *c = J(config), *out = NULL;
	struct err *e = NULL;
	*r = patch_apply(live, c, &o, &out, conflicts, &e);
	err_free(e);
	json_decref(c);
	return out;
}

static const char *entry_manager(const json_t *obj, size_t i)
{
	json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
	return json_string_value(json_object_get(json_array_get(mf, i), "manager"));
}

static void test_fieldset(void)
{
	json_t *c =
	    J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
	      "\"w\",\"labels\":{\"a\":\"1\"},\"finalizers\":[\"f\"]},\"spec\":{\"replicas\":"
	      "2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"n\",\"image\":\"i\","
	      "\"ports\":[{\"containerPort\":80},{\"containerPort\":53,\"protocol\":\"UDP\"}],"
	      "\"args\":[\"x\"]}]}}}}");
	CHECK(same(
	    patch_fieldset(schema_for_kind(KIND_DEPLOYMENT, false), c),
	    "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}},\"f:finalizers\":{\"v:\\\"f\\\"\":{}}},"
	    "\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{"
	    "\"k:{\\\"name\\\":\\\"n\\\"}\":{\".\":{},\"f:name\":{},\"f:image\":{},\"f:"
	    "ports\":{\"k:{\\\"containerPort\\\":80}\":{\".\":{},\"f:containerPort\":{}},"
	    "\"k:{\\\"containerPort\\\":53,\\\"protocol\\\":\\\"UDP\\\"}\":{\".\":{},"
	    "\"f:containerPort\":{},\"f:protocol\":{}}},"
	    "\"f:args\":{}}}}}}}",
	    "field set"));
	json_decref(c);
}

static void test_apply_own(void)
{
	int r;
	json_t *conf = NULL;
	const char *cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
			 "\"c\",\"labels\":{\"l\":\"1\"}},\"data\":{\"k1\":\"v1\",\"k2\":\"v2\"}}";
	json_t *o1 = apply(NULL, cm, "alice", false, &r, NULL);
	CHECK(r == 0 && o1);
	CHECK(entry_manager(o1, 0) && !strcmp(entry_manager(o1, 0), "alice"));
	json_t *en =
	    json_array_get(json_object_get(json_object_get(o1, "metadata"), "managedFields"), 0);
	CHECK(!strcmp(json_string_value(json_object_get(en, "operation")), "Apply"));
	CHECK(!strcmp(json_string_value(json_object_get(en, "fieldsType")), "FieldsV1"));
	/* bob applies k1 with another value: a conflict naming field and manager */
	json_t *o2 = apply(o1, "{\"data\":{\"k1\":\"x\",\"k3\":\"v3\"}}", "bob", false, &r, &conf);
	CHECK(r == -EBUSY && !o2);
	CHECK(json_array_size(conf) == 1);
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(conf, 0), "field")),
		      ".data.k1"));
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(conf, 0), "manager")),
		      "alice"));
	json_decref(conf);
	conf = NULL;
	/* the same value: no conflict, both own it */
	o2 = apply(o1, "{\"data\":{\"k1\":\"v1\"}}", "bob", false, &r, &conf);
	CHECK(r == 0 && !conf);
	CHECK(entry_manager(o2, 1) && !strcmp(entry_manager(o2, 1), "bob"));
	/* alice stops applying k1: bob still owns it, it stays; k2 and the label go */
	json_t *o3 = apply(o2, "{\"data\":{}}", "alice", false, &r, NULL);
	CHECK(r == 0);
	CHECK(same(json_incref(json_object_get(o3, "data")), "{\"k1\":\"v1\"}", "shared kept"));
	CHECK(same(json_incref(json_object_get(json_object_get(o3, "metadata"), "labels")), "{}",
		   "label removed"));
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
}

static void test_apply_force(void)
{
	int r;
	json_t *o1 =
	    apply(NULL, "{\"spec\":{\"replicas\":1,\"paused\":false}}", "a", false, &r, NULL);
	json_t *o2 = apply(o1, "{\"spec\":{\"replicas\":3}}", "b", true, &r, NULL);
	CHECK(r == 0);
	CHECK(json_integer_value(json_object_get(json_object_get(o2, "spec"), "replicas")) == 3);
	/* a no longer owns replicas: its next apply without it keeps b's value */
	json_t *o3 = apply(o2, "{\"spec\":{\"paused\":false}}", "a", false, &r, NULL);
	CHECK(r == 0);
	CHECK(json_integer_value(json_object_get(json_object_get(o3, "spec"), "replicas")) == 3);
	/* and a applying it again now conflicts with b */
	json_t *conf = NULL;
	json_t *o4 = apply(o3, "{\"spec\":{\"replicas\":1}}", "a", false, &r, &conf);
	CHECK(r == -EBUSY && !o4);
	CHECK(conf && !strcmp(json_string_value(json_object_get(json_array_get(conf, 0), "field")),
			      ".spec.replicas"));
	json_decref(conf);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
}

static void test_apply_lists(void)
{
	int r;
	const char *two = "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a\"},{\"name\":"
			  "\"b\",\"image\":\"b\"}],\"finalizers\":[\"x\",\"y\"]}}";
	json_t *o1 = apply(NULL, two, "m", false, &r, NULL);
	CHECK(r == 0);
	/* container b no longer applied: removed; a's image changed */
	json_t *o2 = apply(o1, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a2\"}]}}",
			   "m", false, &r, NULL);
	CHECK(r == 0);
	CHECK(same(json_incref(json_object_get(json_object_get(o2, "spec"), "containers")),
		   "[{\"name\":\"a\",\"image\":\"a2\"}]", "keyed element removed"));
	/* a conflict inside a keyed element names it */
	json_t *conf = NULL;
	json_t *o3 = apply(o2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"z\"}]}}",
			   "other", false, &r, &conf);
	CHECK(r == -EBUSY && !o3);
	CHECK(conf && !strcmp(json_string_value(json_object_get(json_array_get(conf, 0), "field")),
			      ".spec.containers[name=\"a\"].image"));
	json_decref(conf);
	/* a config that is not a mapping */
	struct patch_apply_opts o = {"m", "v1", "t", false, NULL};
	json_t *arr = json_array(), *out = NULL;
	struct err *e = NULL;
	CHECK(patch_apply(o2, arr, &o, &out, NULL, &e) == -EBADMSG);
	err_free(e);
	json_decref(arr);
	json_decref(o1);
	json_decref(o2);
}

/* An update takes the fields it changes from an applier, without conflict;
 * the applier then conflicts with the updater. */
static void test_managed_update(void)
{
	int r;
	json_t *o1 =
	    apply(NULL, "{\"spec\":{\"replicas\":1,\"paused\":false}}", "ssa", false, &r, NULL);
	json_t *o2 = json_deep_copy(o1);
	json_object_set_new(json_object_get(o2, "spec"), "replicas", json_integer(5));
	json_object_set_new(json_object_get(o2, "spec"), "minReadySeconds", json_integer(2));
	struct patch_apply_opts u = {"kubectl-scale", "apps/v1", "2026-01-01T00:00:01Z", false,
				     schema_for_kind(KIND_DEPLOYMENT, false)};
	json_t *mf = patch_managed_update(o1, o2, &u);
	CHECK(json_array_size(mf) == 2);
	json_t *ssa = json_array_get(mf, 0), *upd = json_array_get(mf, 1);
	CHECK(same(json_incref(json_object_get(ssa, "fieldsV1")), "{\"f:spec\":{\"f:paused\":{}}}",
		   "the applier lost replicas"));
	CHECK(same(json_incref(json_object_get(upd, "fieldsV1")),
		   "{\"f:spec\":{\"f:replicas\":{},\"f:minReadySeconds\":{}}}", "the updater's"));
	CHECK(!strcmp(json_string_value(json_object_get(upd, "operation")), "Update"));
	json_object_set_new(json_object_get(o2, "metadata"), "managedFields", mf);
	json_t *conf = NULL;
	json_t *o3 =
	    apply(o2, "{\"spec\":{\"replicas\":1,\"paused\":false}}", "ssa", false, &r, &conf);
	CHECK(r == -EBUSY && !o3);
	CHECK(conf &&
	      !strcmp(json_string_value(json_object_get(json_array_get(conf, 0), "manager")),
		      "kubectl-scale"));
	json_decref(conf);
	/* a field removed leaves every set; nothing changed adds no entry */
	json_t *o4 = json_deep_copy(o2);
	json_object_del(json_object_get(o4, "spec"), "minReadySeconds");
	u.manager = "other";
	mf = patch_managed_update(o2, o4, &u);
	CHECK(json_array_size(mf) == 2);
	CHECK(same(json_incref(json_object_get(json_array_get(mf, 1), "fieldsV1")),
		   "{\"f:spec\":{\"f:replicas\":{}}}", "removed field pruned"));
	json_decref(mf);
	json_decref(o4);
	json_decref(o1);
	json_decref(o2);
}

/* The strategies are the schema's rows, reached by walking from a kind. */
static const struct sch_field *field_at(const struct kind_info *k, const char *const *path)
{
	const struct sch_def *d = schema_for_kind(k, false);
	const struct sch_field *f = NULL;
	for (; *path; path++) {
		f = schema_field(d, *path);
		d = schema_field_def(f);
	}
	return f;
}

static void test_strategy_table(void)
{
	const char *const *k;
	const char *const cports[] = {"spec", "containers", "ports", NULL};
	const char *const sports[] = {"spec", "ports", NULL};
	const char *const tols[] = {"spec", "tolerations", NULL};
	const char *const mounts[] = {"spec",		"template",	"spec",
				      "initContainers", "volumeMounts", NULL};
	const char *const fins[] = {"metadata", "finalizers", NULL};
	const char *const conds[] = {"status", "conditions", NULL};
	const char *const nsfins[] = {"spec", "finalizers", NULL};
	CHECK(patch_list_strategy(field_at(KIND_POD, cports), &k) == PATCH_LIST_KEYED &&
	      !strcmp(k[0], "containerPort") && !strcmp(k[1], "protocol") && !k[2]);
	CHECK(patch_list_strategy(field_at(KIND_SERVICE, sports), &k) == PATCH_LIST_KEYED &&
	      !strcmp(k[0], "port"));
	CHECK(patch_list_strategy(field_at(KIND_POD, tols), &k) == PATCH_LIST_ATOMIC && !k);
	CHECK(patch_list_strategy(field_at(KIND_DEPLOYMENT, mounts), &k) == PATCH_LIST_KEYED &&
	      !strcmp(k[0], "mountPath"));
	CHECK(patch_list_strategy(field_at(KIND_CONFIGMAP, fins), &k) == PATCH_LIST_SET && !k);
	CHECK(patch_list_strategy(field_at(KIND_NODE, conds), &k) == PATCH_LIST_KEYED &&
	      !strcmp(k[0], "type"));
	CHECK(patch_list_strategy(field_at(KIND_NAMESPACE, nsfins), &k) == PATCH_LIST_ATOMIC);
	CHECK(patch_list_strategy(NULL, &k) == PATCH_LIST_ATOMIC && !k);
}

/* --- api_patch_ex --------------------------------------------------------- */

static int set_replicas(json_t *obj, void *arg, struct err **e)
{
	(void)e;
	json_object_set_new(json_object_get(obj, "spec"), "replicas", json_integer(*(int *)arg));
	json_object_set_new(obj, "status", json_pack("{s:i}", "replicas", 42));
	return 0;
}

static int refuse(json_t *obj, void *arg, struct err **e)
{
	(void)obj;
	(void)arg;
	return err_make(e, EBUSY, "no");
}

static void test_api_patch_ex(void)
{
	char dir[] = "/tmp/cfs-test-patch.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *db = xasprintf("%s/state.db", dir);
	struct store *st = NULL;
	struct api *a = NULL;
	struct err *e = NULL;
	CHECK(store_open(db, &st, &e) == 0 && api_new(st, &a, &e) == 0);
	json_t *d = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
		      "\"name\":\"w\",\"namespace\":\"default\"},\"spec\":{\"replicas\":1,"
		      "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":"
		      "{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		      "\"image\":\"i\"}]}}}}");
	CHECK(api_create(a, d, NULL, &e) == 0);
	json_decref(d);
	/* a user change: spec written, status dropped; *out is the stored object */
	int n = 4;
	struct sobj *o = NULL;
	CHECK(api_patch_ex(a, KIND_DEPLOYMENT, "default", "w", set_replicas, &n, 0, &o, &e) == 1);
	CHECK(o && json_integer_value(
		       json_object_get(json_object_get(o->obj, "spec"), "replicas")) == 4);
	CHECK(o && !json_object_get(json_object_get(o->obj, "status"), "replicas"));
	sobj_unref(o);
	o = NULL;
	/* the status mode writes only status */
	n = 9;
	CHECK(api_patch_ex(a, KIND_DEPLOYMENT, "default", "w", set_replicas, &n, API_PATCH_STATUS,
			   &o, &e) == 1);
	CHECK(o && json_integer_value(
		       json_object_get(json_object_get(o->obj, "spec"), "replicas")) == 4);
	CHECK(o && json_integer_value(
		       json_object_get(json_object_get(o->obj, "status"), "replicas")) == 42);
	sobj_unref(o);
	o = NULL;
	/* a refusing callback, a missing object */
	CHECK(api_patch_ex(a, KIND_DEPLOYMENT, "default", "w", refuse, NULL, 0, &o, &e) == -EBUSY);
	CHECK(o == NULL);
	err_free(e);
	e = NULL;
	CHECK(api_patch_ex(a, KIND_DEPLOYMENT, "default", "x", refuse, NULL, 0, &o, &e) == -ENOENT);
	err_free(e);
	api_free(a);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(db);
}

int main(void)
{
	RUN(test_merge);
	RUN(test_json_patch);
	RUN(test_strategic);
	RUN(test_strategic_kinds);
	RUN(test_strategy_table);
	RUN(test_fieldset);
	RUN(test_apply_own);
	RUN(test_apply_force);
	RUN(test_apply_lists);
	RUN(test_managed_update);
	RUN(test_api_patch_ex);
	return unit_done();
}
