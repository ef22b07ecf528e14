/*
 * test_valid_volume.c - downwardAPI and projected volumes
 * (engine/valid/valid_volume.c), as tables: see valid_cases.h.
 */
#include "tests/unit/valid_cases.h"

#define PROJ(sources) "{'volumes':[{'name':'p','projected':{'sources':[" sources "]}}]}"

static const struct vcase downward_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'defaultMode':292,'items':["
     "{'path':'name','fieldRef':{'fieldPath':'metadata.name'}},"
     "{'path':'labels','fieldRef':{'fieldPath':'metadata.labels'}},"
     "{'path':'tier','fieldRef':{'apiVersion':'v1','fieldPath':'metadata.labels[`tier`]'}},"
     "{'path':'mem','mode':256,'resourceFieldRef':{'containerName':'c',"
     "'resource':'limits.memory','divisor':'1Mi'}}]}}]}",
     NULL},
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'ip','fieldRef':{'fieldPath':"
     "'status.podIP'}}]}}]}",
     "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "
     "\"status.podIP\""},
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'m','resourceFieldRef':{"
     "'resource':'limits.memory'}}]}}]}",
     "downwardAPI.items[0].resourceFieldRef.containerName: Required value"},
    {"Pod.spec", "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'x'}]}}]}",
     "downwardAPI.items[0]: Required value: one of fieldRef and resourceFieldRef is required"},
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'x','fieldRef':{'fieldPath':"
     "'metadata.name'},'resourceFieldRef':{'containerName':'c','resource':'limits.cpu'}}]}}]}",
     "fieldRef and resourceFieldRef can not be specified simultaneously"},
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'..x','fieldRef':{'fieldPath':"
     "'metadata.name'}}]}}]}",
     "downwardAPI.items[0].path: Invalid value: \"..x\": must not start with '..'"},
    {"Pod.spec",
     "{'volumes':[{'name':'d','downwardAPI':{'items':[{'path':'/x','fieldRef':{'fieldPath':"
     "'metadata.name'}}]}}]}",
     "must be a relative path"},
};

static const struct vcase projected_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'p','projected':{'defaultMode':288,'sources':["
     "{'secret':{'name':'s','items':[{'key':'k','path':'s/k','mode':256}],'optional':true}},"
     "{'configMap':{'name':'c'}},"
     "{'downwardAPI':{'items':[{'path':'ns','fieldRef':{'fieldPath':'metadata.namespace'}}]}}"
     "]}}]}",
     NULL},
    {"Pod.spec", PROJ("{'secret':{'name':'s'},'configMap':{'name':'c'}}"),
     "spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 volume "
     "type per source"},
    {"Pod.spec", PROJ("{'serviceAccountToken':{'path':'token'}}"),
     "spec.volumes[0].projected.sources[0].serviceAccountToken: Unsupported value: clusterfs "
     "projects secret, configMap and downwardAPI sources (it issues no service account tokens)"},
    {"Pod.spec", PROJ("{'clusterTrustBundle':{'path':'b'}}"),
     "projected.sources[0].clusterTrustBundle: Unsupported value"},
    {"Pod.spec", PROJ("{'secret':{}}"), "projected.sources[0].secret.name: Required value"},
    {"Pod.spec", PROJ("{'configMap':{'name':'c','items':[{'key':'k','path':'a/../../b'}]}}"),
     "projected.sources[0].configMap.items[0].path: Invalid value: \"a/../../b\": must not "
     "contain '..'"},
    {"Pod.spec",
     PROJ("{'secret':{'name':'s','items':[{'key':'k','path':'same'}]}},"
	  "{'configMap':{'name':'c','items':[{'key':'k','path':'same'}]}}"),
     "projected.sources[1].configMap.items[0].path: Invalid value: \"same\": conflicting "
     "duplicate paths"},
    {"Pod.spec",
     PROJ("{'configMap':{'name':'c','items':[{'key':'k','path':'n'}]}},"
	  "{'downwardAPI':{'items':[{'path':'n','fieldRef':{'fieldPath':'metadata.name'}}]}}"),
     "projected.sources[1].downwardAPI.items[0].path: Invalid value: \"n\": conflicting "
     "duplicate paths"},
    {"Pod.spec", "{'volumes':[{'name':'p','projected':{'defaultMode':1000,'sources':[]}}]}",
     "spec.volumes[0].projected.defaultMode: Invalid value: 1000"},
    {"Pod.spec", PROJ("{'secret':{'name':'s','items':[{'key':'bad key','path':'p'}]}}"),
     "projected.sources[0].secret.items[0].key: Invalid value"},
};

static void test_downward(void)
{
	RUN_TABLE(downward_cases);
}

static void test_projected(void)
{
	RUN_TABLE(projected_cases);
}

int main(void)
{
	RUN(test_downward);
	RUN(test_projected);
	return unit_done();
}
