/*
 * test_psa.c - the Pod Security Standards (engine/valid/psa.c): a table,
 * one row per check of Kubernetes' baseline and restricted levels, each a
 * pod that breaks it and the exact words Kubernetes' Pod Security
 * admission gives; pods that pass; versions; namespace labels.
 * Pods are written with ' for ".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/psa.h"
#include "tests/unit/unit.h"

static json_t *load(const char *text)
{
	_cleanup_free_ char *s = xstrdup(text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON (%s): %s\n", je.text, s);
	return j;
}

/* A container that passes restricted, with more fields (X) inside its
 * securityContext. */
#define SC_OK	      "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}"
#define CTR(name, sc) "{'name':'" name "','image':'x','securityContext':{" sc "}}"
#define RPOD(ctrs)                                                                                 \
	"{'spec':{'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'"               \
	"RuntimeDefault'}},'containers':[" ctrs "]}}"

struct pcase {
	const char *policy; /* "baseline", "restricted:v1.22", ... */
	const char *pod;    /* {metadata, spec} */
	const char *want;   /* the whole message, or NULL: complies */
};

static const struct pcase cases[] = {
    /* baseline */
    {"baseline", "{'spec':{'containers':[{'name':'c','image':'x'}]}}", NULL},
    {"baseline",
     "{'spec':{'securityContext':{'windowsOptions':{'hostProcess':true}},'containers':[{'name':'c',"
     "'image':'x','securityContext':{'windowsOptions':{'hostProcess':true}}}]}}",
     "hostProcess (pod and container \"c\" must not set "
     "securityContext.windowsOptions.hostProcess=true)"},
    {"baseline", "{'spec':{'hostNetwork':true,'hostPID':true,'containers':[{'name':'c'}]}}",
     "host namespaces (hostNetwork, hostPID)"},
    {"baseline", "{'spec':{'hostIPC':true,'containers':[{'name':'c'}]}}",
     "host namespaces (hostIPC)"},
    {"baseline",
     "{'spec':{'containers':[{'name':'a','securityContext':{'privileged':true}},{'name':'b',"
     "'securityContext':{'privileged':false}}]}}",
     "privileged (container \"a\" must not set securityContext.privileged=true)"},
    {"baseline",
     "{'spec':{'initContainers':[{'name':'i','securityContext':{'privileged':true}}],"
     "'containers':[{'name':'c','securityContext':{'privileged':true}}]}}",
     "privileged (containers \"i\", \"c\" must not set securityContext.privileged=true)"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'capabilities':{'add':['NET_ADMIN',"
     "'CHOWN','SYS_ADMIN']}}}]}}",
     "non-default capabilities (container \"c\" must not include \"NET_ADMIN\", \"SYS_ADMIN\" in "
     "securityContext.capabilities.add)"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'capabilities':{'add':['AUDIT_WRITE',"
     "'CHOWN','DAC_OVERRIDE','FOWNER','FSETID','KILL','MKNOD','NET_BIND_SERVICE','SETFCAP',"
     "'SETGID','SETPCAP','SETUID','SYS_CHROOT']}}}]}}",
     NULL},
    {"baseline",
     "{'spec':{'volumes':[{'name':'v','hostPath':{'path':'/'}},{'name':'e','emptyDir':{}}],"
     "'containers':[{'name':'c'}]}}",
     "hostPath volumes (volume \"v\")"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080},"
     "{'containerPort':81,'hostPort':81}]}]}}",
     "hostPort (container \"c\" uses hostPorts 8080, 81)"}, /* sorted as strings, as Kubernetes does
							     */
    {"baseline",
     "{'metadata':{'annotations':{'container.apparmor.security.beta.kubernetes.io/c':"
     "'unconfined'}},'spec':{'containers':[{'name':'c'}]}}",
     "forbidden AppArmor profile (annotation must not set AppArmor profile type to "
     "\"container.apparmor.security.beta.kubernetes.io/c=\\\"unconfined\\\"\")"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'appArmorProfile':{'type':"
     "'Unconfined'}}}]}}",
     "forbidden AppArmor profile (container \"c\" must not set AppArmor profile type to "
     "\"Unconfined\")"},
    {"baseline",
     "{'spec':{'securityContext':{'appArmorProfile':{'type':'RuntimeDefault'}},'containers':[{"
     "'name':'c','securityContext':{'appArmorProfile':{'type':'Localhost'}}}]}}",
     NULL},
    {"baseline",
     "{'spec':{'securityContext':{'seLinuxOptions':{'type':'spc_t'}},'containers':[{'name':'c'}]"
     "}}",
     "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\")"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'seLinuxOptions':{'user':'u',"
     "'type':'container_t'}}}]}}",
     "seLinuxOptions (container \"c\" set forbidden securityContext.seLinuxOptions: user may not "
     "be set)"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'procMount':'Unmasked'}}]}}",
     "procMount (container \"c\" must not set securityContext.procMount to \"Unmasked\")"},
    {"baseline",
     "{'spec':{'hostUsers':false,'containers':[{'name':'c','securityContext':{'procMount':"
     "'Unmasked'}}]}}",
     NULL},
    {"baseline",
     "{'spec':{'securityContext':{'seccompProfile':{'type':'Unconfined'}},'containers':[{'name':"
     "'c'}]}}",
     "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','securityContext':{'seccompProfile':{'type':"
     "'Unconfined'}}}]}}",
     "seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to "
     "\"Unconfined\")"},
    {"baseline",
     "{'spec':{'securityContext':{'sysctls':[{'name':'kernel.shm_rmid_forced','value':'0'},"
     "{'name':'kernel.msgmax','value':'1'},{'name':'net.core.somaxconn','value':'1'}]},"
     "'containers':[{'name':'c'}]}}",
     "forbidden sysctls (kernel.msgmax, net.core.somaxconn)"},
    {"baseline",
     "{'spec':{'containers':[{'name':'c','livenessProbe':{'httpGet':{'host':'10.0.0.1','port':"
     "80}}}]}}",
     "probe or lifecycle host (container \"c\" uses probe or lifecycle host \"10.0.0.1\")"},
    {"baseline:v1.33",
     "{'spec':{'containers':[{'name':'c','livenessProbe':{'httpGet':{'host':'10.0.0.1','port':"
     "80}}}]}}",
     NULL},
    {"baseline:v1.18",
     "{'metadata':{'annotations':{'seccomp.security.alpha.kubernetes.io/pod':'unconfined'}},"
     "'spec':{'containers':[{'name':'c'}]}}",
     "seccompProfile (forbidden annotation "
     "seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"},
    /* the brief's example: two checks, Kubernetes' order */
    {"baseline",
     "{'spec':{'volumes':[{'name':'v','hostPath':{'path':'/'}}],'containers':[{'name':'c',"
     "'securityContext':{'privileged':true}}]}}",
     "privileged (container \"c\" must not set securityContext.privileged=true), hostPath "
     "volumes (volume \"v\")"},
    {"privileged",
     "{'spec':{'hostNetwork':true,'containers':[{'name':'c','securityContext':{'privileged':"
     "true}}]}}",
     NULL},

    /* restricted */
    {"restricted", RPOD(CTR("c", SC_OK)), NULL},
    {"restricted", "{'spec':{'containers':[{'name':'c','image':'x'}]}}",
     "allowPrivilegeEscalation != false (container \"c\" must set "
     "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" "
     "must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or "
     "container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or "
     "container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
     "\"Localhost\")"},
    {"restricted",
     RPOD(CTR("c", "'allowPrivilegeEscalation':true,'capabilities':{'drop':['ALL']}")),
     "allowPrivilegeEscalation != false (container \"c\" must set "
     "securityContext.allowPrivilegeEscalation=false)"},
    {"restricted",
     RPOD(CTR("c", "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL'],'add':["
		   "'NET_BIND_SERVICE','CHOWN']}")),
     "unrestricted capabilities (container \"c\" must not include \"CHOWN\" in "
     "securityContext.capabilities.add)"},
    {"restricted",
     RPOD(CTR("c", "'allowPrivilegeEscalation':false,'capabilities':{'drop':['NET_RAW']}")),
     "unrestricted capabilities (container \"c\" must set "
     "securityContext.capabilities.drop=[\"ALL\"])"},
    {"restricted",
     "{'spec':{'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}"
     "},'volumes':[{'name':'h','hostPath':{'path':'/'}},{'name':'n','nfs':{'server':'s','path':"
     "'/'}},{'name':'s','secret':{'secretName':'x'}}],'containers':[" CTR("c", SC_OK) "]}}",
     "restricted volume types (volumes \"h\", \"n\" use restricted volume types \"hostPath\", "
     "\"nfs\")"},
    {"restricted",
     "{'spec':{'securityContext':{'runAsNonRoot':false,'seccompProfile':{'type':"
     "'RuntimeDefault'}},'containers':[" CTR("c", SC_OK) "]}}",
     "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"},
    {"restricted",
     "{'spec':{'securityContext':{'seccompProfile':{'type':'RuntimeDefault'}},'containers':[" CTR(
	 "a", SC_OK ",'runAsNonRoot':true") "," CTR("b", SC_OK) "]}}",
     "runAsNonRoot != true (pod or container \"b\" must set securityContext.runAsNonRoot=true)"},
    {"restricted",
     "{'spec':{'hostUsers':false,'securityContext':{'seccompProfile':{'type':'RuntimeDefault'}},"
     "'containers':[" CTR("c", SC_OK) "]}}",
     NULL},
    {"restricted",
     "{'spec':{'securityContext':{'runAsNonRoot':true,'runAsUser':0,'seccompProfile':{'type':"
     "'RuntimeDefault'}},'containers':[" CTR("c", SC_OK ",'runAsUser':0") "]}}",
     "runAsUser=0 (pod and container \"c\" must not set runAsUser=0)"},
    {"restricted:v1.22",
     "{'spec':{'securityContext':{'runAsNonRoot':true,'runAsUser':0,'seccompProfile':{'type':"
     "'RuntimeDefault'}},'containers':[" CTR("c", SC_OK) "]}}",
     NULL},
    {"restricted",
     "{'spec':{'securityContext':{'runAsNonRoot':true},'containers':[" CTR(
	 "c", SC_OK ",'seccompProfile':{'type':'Localhost','localhostProfile':'p.json'}") "]}}",
     NULL},
    {"restricted",
     "{'spec':{'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'Unconfined'}},"
     "'containers':[" CTR("c", SC_OK) "]}}",
     "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"},
    /* restricted includes baseline */
    {"restricted", RPOD(CTR("c", SC_OK ",'privileged':true")),
     "privileged (container \"c\" must not set securityContext.privileged=true)"},
    /* before v1.22 restricted did not ask for drop ALL, and checked baseline's capabilities */
    {"restricted:v1.21",
     RPOD("{'name':'c','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{"
	  "'add':['SYS_ADMIN']}}}"),
     "non-default capabilities (container \"c\" must not include \"SYS_ADMIN\" in "
     "securityContext.capabilities.add)"},
    /* a version newer than the checks know is latest */
    {"baseline:v1.99",
     "{'spec':{'containers':[{'name':'c','livenessProbe':{'tcpSocket':{'host':'h','port':80}}}]}"
     "}",
     "probe or lifecycle host (container \"c\" uses probe or lifecycle host \"h\")"},
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct psa_policy p;
		json_t *pod = load(c->pod);
		CHECK(pod);
		CHECK(psa_parse_policy(c->policy, &p, NULL) == 0);
		_cleanup_free_ char *got = psa_evaluate(json_object_get(pod, "metadata"),
							json_object_get(pod, "spec"), &p);
		bool ok = (!got && !c->want) || (got && c->want && !strcmp(got, c->want));
		if (!ok)
			fprintf(stderr, "  case %zu (%s):\n    got  %s\n    want %s\n", i,
				c->policy, got ? got : "(complies)",
				c->want ? c->want : "(complies)");
		CHECK(ok);
		json_decref(pod);
	}
}

static void test_policy_parse(void)
{
	struct psa_policy p;
	char s[32];
	struct err *e = NULL;
	CHECK(psa_parse_policy("restricted:v1.30", &p, NULL) == 0);
	psa_policy_string(&p, s);
	CHECK(!strcmp(s, "restricted:v1.30"));
	CHECK(psa_parse_policy("privileged", &p, NULL) == 0);
	psa_policy_string(&p, s);
	CHECK(!strcmp(s, "privileged:latest"));
	CHECK(psa_parse_policy("strict", &p, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "must be one of privileged, baseline, restricted"));
	err_free(e);
	e = NULL;
	CHECK(psa_parse_policy("baseline:1.30", &p, &e) == -EINVAL);
	err_free(e);
	CHECK(psa_parse_policy("baseline:v1.030", &p, NULL) == -EINVAL);
	CHECK(psa_parse_policy("baseline:v2.1", &p, NULL) == -EINVAL);
}

static void test_ns_labels(void)
{
	struct psa_ns ns;
	struct psa_policy dflt = {PSA_BASELINE, PSA_LATEST};
	char s[32];
	json_t *l = load("{'pod-security.kubernetes.io/enforce':'restricted',"
			 "'pod-security.kubernetes.io/enforce-version':'v1.25',"
			 "'pod-security.kubernetes.io/warn':'privileged'}");
	CHECK(psa_ns_policy(l, &dflt, &ns, NULL) == 0);
	psa_policy_string(&ns.enforce, s);
	CHECK(!strcmp(s, "restricted:v1.25"));
	psa_policy_string(&ns.warn, s);
	CHECK(!strcmp(s, "privileged:latest"));
	psa_policy_string(&ns.audit, s);
	CHECK(!strcmp(s, "baseline:latest")); /* the default */
	json_decref(l);

	struct err *e = NULL;
	l = load("{'pod-security.kubernetes.io/enforce':'strict'}");
	CHECK(psa_ns_policy(l, &dflt, &ns, &e) == -EINVAL);
	CHECK(e && !strcmp(e->msg, "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid "
				   "value: \"strict\": must be one of privileged, baseline, "
				   "restricted"));
	err_free(e);
	e = NULL;
	json_decref(l);
	l = load("{'pod-security.kubernetes.io/audit-version':'1.2'}");
	CHECK(psa_ns_policy(l, &dflt, &ns, &e) == -EINVAL);
	CHECK(e && !strcmp(e->msg, "metadata.labels[pod-security.kubernetes.io/audit-version]: "
				   "Invalid value: \"1.2\": must be \"latest\" or of the form "
				   "\"v1.x\""));
	err_free(e);
	json_decref(l);
	CHECK(psa_ns_policy(NULL, NULL, &ns, NULL) == 0 && ns.enforce.level == PSA_BASELINE);
}

static void test_significant_update(void)
{
	json_t *a = load("{'metadata':{'labels':{'x':'1'}},'spec':{'containers':[{'name':'c',"
			 "'image':'a'}]}}");
	json_t *b = load("{'metadata':{'labels':{'x':'2'}},'spec':{'containers':[{'name':'c',"
			 "'image':'b'}]}}");
	json_t *c = load("{'spec':{'containers':[{'name':'c','image':'a','securityContext':{"
			 "'privileged':true}}]}}");
	json_t *d = load("{'metadata':{'labels':{'x':'2'}},'spec':{'tolerations':[{'key':'k',"
			 "'operator':'Exists'}],'containers':[{'name':'c','image':'a'}]}}");
	json_t *f = load("{'metadata':{'annotations':{'container.seccomp.security.alpha."
			 "kubernetes.io/c':'unconfined'}},'spec':{'containers':[{'name':'c',"
			 "'image':'a'}]}}");
	CHECK(psa_significant_update(a, b));  /* an image */
	CHECK(!psa_significant_update(a, c)); /* not a field updates may change */
	CHECK(!psa_significant_update(a, d)); /* labels, tolerations */
	CHECK(psa_significant_update(a, f));  /* a seccomp annotation */
	json_decref(d);
	json_decref(f);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

static void test_templates(void)
{
	json_t *d = load("{'spec':{'template':{'spec':{'containers':[{'name':'c'}]}}}}");
	const json_t *meta, *spec;
	CHECK(psa_pod_of(d, KIND_DEPLOYMENT, &meta, &spec) && spec);
	CHECK(psa_pod_of(d, KIND_REPLICASET, &meta, &spec));
	CHECK(!psa_pod_of(d, KIND_SERVICE, &meta, &spec));
	json_decref(d);
}

int main(void)
{
	RUN(test_table);
	RUN(test_policy_parse);
	RUN(test_ns_labels);
	RUN(test_significant_update);
	RUN(test_templates);
	return unit_done();
}
