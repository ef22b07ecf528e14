/*
 * test_valid_pod.c - validation and defaulting of pod specs (engine/valid_pod.c),
 * as tables: see valid_cases.h for how a case reads.
 */
#include "tests/unit/valid_cases.h"

/* --- pods ----------------------------------------------------------------- */

static const struct vcase container_cases[] = {
    {"Pod.spec", "{'containers':[]}", "Pod \"p\": spec.containers: Required value"},
    {"Pod.spec", "{'containers':null}", "spec.containers: Required value"},
    {"Pod.spec", "{'containers':{'name':'c'}}",
     "spec.containers: Invalid value: {\"name\":\"c\"}: must be a list"},
    {"Pod.spec", "{'containers':['nginx']}",
     "spec.containers[0]: Invalid value: \"nginx\": must be a mapping"},
    {"Pod.ctr", "{'name':null}", "spec.containers[0].name: Required value"},
    {"Pod.ctr", "{'name':'Web'}",
     "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label"},
    {"Pod.spec", "{'containers':[{'name':'a','image':'x'},{'name':'a','image':'y'}]}",
     "spec.containers[1].name: Duplicate value: \"a\""},
    {"Pod.spec", "{'initContainers':[{'name':'c','image':'x'}]}",
     "spec.containers[0].name: Duplicate value: \"c\""},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'busybox','command':['true']}]}", NULL},
    {"Pod.spec", "{'initContainers':[{'name':'init'}]}",
     "spec.initContainers[0].image: Required value"},
    {"Pod.spec",
     "{'initContainers':[{'name':'init','image':'x','livenessProbe':{'exec':{'command':['true']}}}]"
     "}",
     "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers"},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'x','restartPolicy':'Always'}]}",
     "spec.initContainers[0].restartPolicy: Unsupported value: \"Always\": clusterfs does not run "
     "sidecar containers yet"},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'x','restartPolicy':'Never'}]}",
     "spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: "
     "\"Always\""},
    {"Pod.ctr", "{'restartPolicy':'Always'}", "spec.containers[0].restartPolicy: Forbidden"},
    {"Pod.ctr", "{'image':null}", "spec.containers[0].image: Required value"},
    {"Pod.ctr", "{'image':''}", "spec.containers[0].image: Required value"},
    {"Pod.ctr", "{'image':' nginx'}",
     "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing "
     "whitespace"},
    {"Pod.ctr", "{'image':['nginx']}",
     "spec.containers[0].image: Invalid value: [\"nginx\"]: must be a string"},
    {"Pod.ctr", "{'image':'registry.k8s.io/busybox:1.27.2'}", NULL},
    {"Pod.ctr", "{'command':['sh','-c','echo hi'],'args':['x'],'workingDir':'/tmp'}", NULL},
    {"Pod.ctr", "{'command':'sh -c true'}",
     "spec.containers[0].command: Invalid value: \"sh -c true\": must be a list"},
    {"Pod.ctr", "{'args':['a',1]}",
     "spec.containers[0].args[1]: Invalid value: 1: must be a string"},
    {"Pod.ctr", "{'imagePullPolicy':'Sometimes'}",
     "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
     "\"Always\", \"IfNotPresent\", \"Never\""},
    {"Pod.ctr", "{'imagePullPolicy':'Never'}", NULL},
    {"Pod.ctr", "{'securityContext':{'procMount':'Unmasked'}}",
     "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` "
     "must be false to use `Unmasked`"},
    {"Pod.spec",
     "{'hostUsers':false,'containers':[{'name':'c','image':'x','securityContext':"
     "{'procMount':'Unmasked'}}]}",
     NULL},
    {"Pod.ctr", "{'securityContext':{'procMount':'Other'}}",
     "spec.containers[0].securityContext.procMount: Unsupported value: \"Other\": supported "
     "values: \"Default\", \"Unmasked\""},
    {"Pod.ctr", "{'securityContext':{'allowPrivilegeEscalation':false,'privileged':true}}",
     "spec.containers[0].securityContext: Invalid value: "
     "{\"allowPrivilegeEscalation\":false,\"privileged\":true}: cannot set "
     "`allowPrivilegeEscalation` to false and `privileged` to true"},
    {"Pod.ctr",
     "{'securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'add':['CAP_SYS_"
     "ADMIN']}}}",
     "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"},
    {"Pod.ctr", "{'lifecycle':{'preStop':{'exec':{'command':['sleep','5']}}}}",
     "spec.containers[0].lifecycle: Unsupported value: clusterfs does not run postStart and "
     "preStop hooks yet"},
    {"Pod.ctr", "{'volumeDevices':[{'name':'d','devicePath':'/dev/x'}]}",
     "spec.containers[0].volumeDevices: Unsupported value"},
    {"Pod.ctr", "{'terminationMessagePolicy':'Never'}",
     "spec.containers[0].terminationMessagePolicy: Unsupported value"},
    {"Pod.ctr", "{'tty':'yes'}",
     "spec.containers[0].tty: Invalid value: \"yes\": must be a boolean"},
    {"Pod.ctr", "{'securityContext':{'runAsUser':1000},'stdin':true,'tty':true}", NULL},
};

static const struct vcase env_cases[] = {
    {"Pod.ctr",
     "{'env':[{'name':'FOO','value':'bar'},{'name':'my.var-x','value':''},{'name':'EMPTY'}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'1FOO','value':'x'}]}",
     "spec.containers[0].env[0].name: Invalid value: \"1FOO\": a valid environment variable name "
     "must consist"},
    {"Pod.ctr", "{'env':[{'name':'A B'}]}", "a valid environment variable name"},
    {"Pod.ctr", "{'env':[{'name':'..'}]}",
     "spec.containers[0].env[0].name: Invalid value: \"..\": must not be '..'"},
    {"Pod.ctr", "{'env':[{'value':'x'}]}", "spec.containers[0].env[0].name: Required value"},
    {"Pod.ctr", "{'env':[{'name':'N','value':5}]}",
     "spec.containers[0].env[0].value: Invalid value: 5: must be a string"},
    {"Pod.ctr", "{'env':{'FOO':'bar'}}",
     "spec.containers[0].env: Invalid value: {\"FOO\":\"bar\"}: must be a list"},
    {"Pod.ctr",
     "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'log.level'}}}]}",
     NULL},
    {"Pod.ctr",
     "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'k','optional':true}}}"
     "]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg'}}}]}",
     "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'key':'k'}}}]}",
     "spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Required value"},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'a b'}}}]}",
     "valueFrom.configMapKeyRef.key: Invalid value: \"a b\": a valid config key"},
    {"Pod.ctr",
     "{'env':[{'name':'N','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}},"
     "{'name':'IP','valueFrom':{'fieldRef':{'apiVersion':'v1','fieldPath':'status.podIP'}}},"
     "{'name':'L','valueFrom':{'fieldRef':{'fieldPath':'metadata.labels[`app`]'}}},"
     "{'name':'NODE','valueFrom':{'fieldRef':{'fieldPath':'spec.nodeName'}}}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'X','valueFrom':{'fieldRef':{'fieldPath':'spec.containers'}}}]}",
     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
     "\"spec.containers\": supported values: \"metadata.name\""},
    {"Pod.ctr",
     "{'env':[{'name':'X','valueFrom':{'fieldRef':{'fieldPath':'metadata.labels[`a b`]'}}}]}",
     "valueFrom.fieldRef.fieldPath: Invalid value"},
    {"Pod.ctr", "{'env':[{'name':'X','valueFrom':{'fieldRef':{}}}]}",
     "valueFrom.fieldRef.fieldPath: Required value"},
    {"Pod.ctr",
     "{'env':[{'name':'X','valueFrom':{'fieldRef':{'apiVersion':'v2','fieldPath':'metadata.name'}}}"
     "]}",
     "valueFrom.fieldRef.apiVersion: Unsupported value: \"v2\""},
    {"Pod.ctr",
     "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.memory','divisor':'"
     "1Mi'}}}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.gpu'}}}]}",
     "valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\""},
    {"Pod.ctr",
     "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.cpu','divisor':'0'}}}"
     "]}",
     "valueFrom.resourceFieldRef.divisor: Invalid value: \"0\": must be greater than 0"},
    {"Pod.ctr",
     "{'env':[{'name':'S','valueFrom':{'secretKeyRef':{'name':'s','key':'k','optional':true}}}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'S','valueFrom':{'secretKeyRef':{'name':'s'}}}]}",
     "spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value"},
    {"Pod.ctr",
     "{'env':[{'name':'T','valueFrom':{'configMapKeyRef':{'name':'a','key':'b'},"
     "'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "spec.containers[0].env[0].valueFrom: Invalid value: {\"configMapKeyRef\""},
    {"Pod.ctr",
     "{'env':[{'name':'T','valueFrom':{'configMapKeyRef':{'name':'a','key':'b'},"
     "'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "may not have more than one field specified at a time"},
    {"Pod.ctr", "{'env':[{'name':'T','valueFrom':{}}]}",
     "spec.containers[0].env[0].valueFrom: Invalid value: {}: must specify one of: "
     "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"},
    {"Pod.ctr",
     "{'env':[{'name':'T','value':'v','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "spec.containers[0].env[0].valueFrom: Forbidden: may not be specified when `value` is not "
     "empty"},
    {"Pod.ctr",
     "{'envFrom':[{'configMapRef':{'name':'cfg'}},{'prefix':'APP_','configMapRef':{'name':'other','"
     "optional':true}}]}",
     NULL},
    {"Pod.ctr", "{'envFrom':[{'prefix':'DB_','secretRef':{'name':'s','optional':true}}]}", NULL},
    {"Pod.ctr", "{'envFrom':[{'secretRef':{}}]}",
     "spec.containers[0].envFrom[0].secretRef.name: Required value"},
    {"Pod.ctr", "{'envFrom':[{'secretRef':{'name':'s'},'configMapRef':{'name':'c'}}]}",
     "may not have more than one field specified at a time"},
    {"Pod.ctr", "{'envFrom':[{'prefix':'1X','configMapRef':{'name':'cfg'}}]}",
     "spec.containers[0].envFrom[0].prefix: Invalid value: \"1X\""},
    {"Pod.ctr", "{'envFrom':[{'prefix':'X'}]}",
     "spec.containers[0].envFrom[0]: Invalid value: {\"prefix\":\"X\"}: must specify one of: "
     "`configMapRef` or `secretRef`"},
    {"Pod.ctr", "{'envFrom':[{'configMapRef':{}}]}",
     "spec.containers[0].envFrom[0].configMapRef.name: Required value"},
};

static const struct vcase port_cases[] = {
    {"Pod.ctr",
     "{'ports':[{'containerPort':80,'name':'http'},{'containerPort':53,'protocol':'UDP','name':'"
     "dns'}]}",
     NULL},
    {"Pod.ctr", "{'ports':[{'containerPort':70000}]}",
     "Pod \"p\": spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between "
     "1 and 65535, inclusive"},
    {"Pod.ctr", "{'ports':[{'containerPort':0}]}",
     "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535"},
    {"Pod.ctr", "{'ports':[{'name':'http'}]}",
     "spec.containers[0].ports[0].containerPort: Required value"},
    {"Pod.ctr", "{'ports':[{'containerPort':'80'}]}",
     "containerPort: Invalid value: \"80\": must be an integer"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'verylongportname'}]}",
     "spec.containers[0].ports[0].name: Invalid value: \"verylongportname\": must be no more than "
     "15 characters"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'HTTP'}]}",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'a--b'}]}",
     "must not contain consecutive hyphens"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'8080'}]}",
     "must contain at least one letter (a-z)"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'-web'}]}",
     "must not begin or end with a hyphen"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'http'},{'containerPort':81,'name':'http'}]}",
     "spec.containers[0].ports[1].name: Duplicate value: \"http\""},
    {"Pod.spec",
     "{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'name':'m'}]},"
     "{'name':'b','image':'x','ports':[{'containerPort':81,'name':'m'}]}]}",
     "spec.containers[1].ports[0].name: Duplicate value: \"m\""},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'protocol':'HTTP'}]}",
     "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
     "\"SCTP\", \"TCP\", \"UDP\""},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostPort':8080}]}",
     "spec.containers[0].ports[0].hostPort: Unsupported value: 8080: clusterfs does not map host "
     "ports yet"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostPort':0}]}", NULL},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostIP':'1.2.3'}]}",
     "ports[0].hostIP: Invalid value: \"1.2.3\": must be a valid IPv4 address"},
};

static const struct vcase resource_cases[] = {
    {"Pod.ctr",
     "{'resources':{'limits':{'cpu':'500m','memory':'128Mi'},'requests':{'cpu':0.25,'memory':'64Mi'"
     "}}}",
     NULL},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':1,'ephemeral-storage':'1Gi'}}}", NULL},
    {"Pod.ctr", "{'resources':{}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':'12x'}}}",
     "spec.containers[0].resources.limits[cpu]: Invalid value: \"12x\": must be a quantity"},
    {"Pod.ctr", "{'resources':{'requests':{'memory':'-1'}}}",
     "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than "
     "or equal to 0"},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':'1'},'requests':{'cpu':'2'}}}",
     "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal "
     "to cpu limit of 1"},
    {"Pod.ctr", "{'resources':{'limits':{'memory':'1Gi'},'requests':{'memory':'1025Mi'}}}",
     "must be less than or equal to memory limit of 1Gi"},
    {"Pod.ctr", "{'resources':{'limits':{'memory':'1Gi'},'requests':{'memory':'1024Mi'}}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'pods':'1'}}}",
     "spec.containers[0].resources.limits[pods]: Invalid value: \"pods\": must be a standard "
     "resource for containers"},
    {"Pod.ctr", "{'resources':{'limits':{'storage':'1Gi'}}}",
     "must be a standard resource for containers"},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':1}}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':'500m'}}}",
     "spec.containers[0].resources.limits[nvidia.com/gpu]: Invalid value: \"500m\": must be an "
     "integer"},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':2},'requests':{'nvidia.com/gpu':1}}}",
     "resources.requests[nvidia.com/gpu]: Invalid value: 1: must be equal to nvidia.com/gpu limit "
     "of 2"},
    {"Pod.ctr", "{'resources':{'requests':{'example.com/foo':1}}}",
     "resources.requests[example.com/foo]: Forbidden: limit must be set for non overcommitable "
     "resources"},
    {"Pod.ctr", "{'resources':{'limits':{'hugepages-2Mi':'1Gi'}}}",
     "spec.containers[0].resources.limits[hugepages-2Mi]: Unsupported value: clusterfs does not "
     "manage huge pages"},
    {"Pod.ctr", "{'resources':{'claims':[{'name':'gpu'}]}}",
     "spec.containers[0].resources.claims: Unsupported value"},
    {"Pod.ctr", "{'resources':{'limits':['cpu']}}",
     "spec.containers[0].resources.limits: Invalid value: [\"cpu\"]: must be a mapping"},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':true}}}",
     "resources.limits[cpu]: Invalid value: true: must be a quantity"},
};

static const struct vcase probe_cases[] = {
    {"Pod.ctr",
     "{'livenessProbe':{'httpGet':{'path':'/healthz','port':8080},'initialDelaySeconds':3}}", NULL},
    {"Pod.ctr",
     "{'ports':[{'containerPort':80,'name':'http'}],'readinessProbe':{'httpGet':{'port':'http','"
     "scheme':'HTTP',"
     "'httpHeaders':[{'name':'X-Probe','value':'1'}]}}}",
     NULL},
    {"Pod.ctr", "{'readinessProbe':{'httpGet':{'port':8443,'scheme':'HTTPS'}}}",
     "spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: clusterfs does not "
     "run HTTPS probes yet"},
    {"Pod.ctr",
     "{'startupProbe':{'exec':{'command':['cat','/tmp/"
     "ready']},'failureThreshold':30,'periodSeconds':2}}",
     NULL},
    {"Pod.ctr", "{'livenessProbe':{'tcpSocket':{'port':5432}}}", NULL},
    {"Pod.ctr", "{'securityContext':{'seccompProfile':{'type':'RuntimeDefault'}}}", NULL},
    {"Pod.ctr", "{'securityContext':{'seccompProfile':{'type':'Unconfined'}}}", NULL},
    {"Pod.ctr",
     "{'securityContext':{'seccompProfile':{'type':'Localhost','localhostProfile':'a.json'}}}",
     "spec.containers[0].securityContext.seccompProfile.type: Unsupported value: "
     "\"Localhost\": clusterfs runs RuntimeDefault"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':'Bad_Port'}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"Bad_Port\": must contain "
     "only alpha-numeric characters"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':0}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and "
     "65535, inclusive"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'path':'/'}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':80,'scheme':'FTP'}}}",
     "livenessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", "
     "\"HTTPS\""},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':80,'httpHeaders':[{'name':'Bad Header'}]}}}",
     "livenessProbe.httpGet.httpHeaders[0].name: Invalid value: \"Bad Header\": a valid HTTP "
     "header"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{}}}",
     "spec.containers[0].livenessProbe.exec.command: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':[]}}}",
     "livenessProbe.exec.command: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'tcpSocket':{}}}",
     "spec.containers[0].livenessProbe.tcpSocket.port: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'initialDelaySeconds':5}}",
     "spec.containers[0].livenessProbe: Required value: must specify a handler type"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'tcpSocket':{'port':80}}}",
     "spec.containers[0].livenessProbe: Forbidden: may not specify more than 1 handler type"},
    {"Pod.ctr", "{'livenessProbe':{'grpc':{'port':9090}}}",
     "spec.containers[0].livenessProbe.grpc: Unsupported value: clusterfs does not run gRPC probes "
     "yet"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'successThreshold':2}}",
     "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
    {"Pod.ctr", "{'startupProbe':{'exec':{'command':['true']},'successThreshold':3}}",
     "startupProbe.successThreshold: Invalid value: 3: must be 1"},
    {"Pod.ctr", "{'readinessProbe':{'exec':{'command':['true']},'successThreshold':2}}", NULL},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'initialDelaySeconds':-1}}",
     "livenessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'periodSeconds':-5}}",
     "livenessProbe.periodSeconds: Invalid value: -5: must be greater than or equal to 1"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'timeoutSeconds':-1}}",
     "livenessProbe.timeoutSeconds: Invalid value: -1"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'failureThreshold':'3'}}",
     "livenessProbe.failureThreshold: Invalid value: \"3\": must be an integer"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'periodSeconds':0}}",
     NULL}, /* 0 is unset: 10 */
    {"Pod.ctr",
     "{'readinessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':5}}",
     "readinessProbe.terminationGracePeriodSeconds: Forbidden: must not be set for "
     "readinessProbes"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':5}}",
     NULL},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':0}}",
     "livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than or equal "
     "to 1"},
    {"Pod.ctr", "{'livenessProbe':'yes'}",
     "spec.containers[0].livenessProbe: Invalid value: \"yes\": must be a mapping"},
};

static const struct vcase pod_cases[] = {
    {"Pod", "{}", NULL},
    {"Pod", "{'spec':null}", "Pod \"p\": spec: Required value"},
    {"Pod.spec", "{'restartPolicy':'Never'}", NULL},
    {"Pod.spec", "{'restartPolicy':'OnFailure'}", NULL},
    {"Pod.spec", "{'restartPolicy':'Sometimes'}",
     "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
     "\"Never\", \"OnFailure\""},
    {"Pod.spec", "{'terminationGracePeriodSeconds':0}", NULL},
    {"Pod.spec", "{'terminationGracePeriodSeconds':-1}",
     "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"},
    {"Pod.spec", "{'activeDeadlineSeconds':30}", NULL},
    {"Pod.spec", "{'activeDeadlineSeconds':0}",
     "spec.activeDeadlineSeconds: Invalid value: 0: must be greater than or equal to 1"},
    {"Pod.spec", "{'nodeSelector':{'disktype':'ssd','kubernetes.io/hostname':'node1'}}", NULL},
    {"Pod.spec", "{'nodeSelector':{'disktype':1}}",
     "spec.nodeSelector[disktype]: Invalid value: 1: must be a string"},
    {"Pod.spec", "{'nodeSelector':{'bad key':'x'}}",
     "spec.nodeSelector: Invalid value: \"bad key\""},
    {"Pod.spec",
     "{'nodeName':'node1','serviceAccountName':'default','hostname':'db-0','subdomain':'db'}",
     NULL},
    {"Pod.spec", "{'nodeName':'Node_1'}", "spec.nodeName: Invalid value: \"Node_1\""},
    {"Pod.spec", "{'schedulerName':'my scheduler'}", "spec.schedulerName: Invalid value"},
    {"Pod.spec", "{'hostNetwork':false,'hostPID':false,'hostIPC':false}", NULL},
    {"Pod.spec", "{'hostNetwork':true}",
     "spec.hostNetwork: Unsupported value: true: clusterfs does not share host namespaces"},
    {"Pod.spec", "{'hostPID':true}", "spec.hostPID: Unsupported value: true"},
    {"Pod.spec", "{'hostIPC':true}", "spec.hostIPC: Unsupported value: true"},
    {"Pod.spec", "{'hostNetwork':'true'}",
     "spec.hostNetwork: Invalid value: \"true\": must be a boolean"},
    {"Pod.spec", "{'dnsPolicy':'Default'}", NULL},
    {"Pod.spec", "{'dnsPolicy':'Google'}", "spec.dnsPolicy: Unsupported value: \"Google\""},
    {"Pod.spec", "{'dnsPolicy':'None'}", "spec.dnsConfig.nameservers: Required value"},
    {"Pod.spec",
     "{'dnsPolicy':'None','dnsConfig':{'nameservers':['1.1.1.1'],'searches':['ns.svc.cluster.local'"
     "]}}",
     NULL},
    {"Pod.spec", "{'dnsConfig':{'nameservers':['dns.google']}}",
     "spec.dnsConfig.nameservers[0]: Invalid value: \"dns.google\": must be a valid IPv4 address"},
    {"Pod.spec", "{'ephemeralContainers':[{'name':'debug','image':'busybox'}]}",
     "spec.ephemeralContainers: Forbidden: cannot be set on create"},
    {"Pod.spec", "{'topologySpreadConstraints':[{'maxSkew':1}]}",
     "spec.topologySpreadConstraints: Unsupported value"},
    {"Pod.spec",
     "{'tolerations':[{'key':'dedicated','operator':'Equal','value':'db','effect':'NoSchedule'},"
     "{'operator':'Exists'},{'key':'node.kubernetes.io/unreachable','operator':'Exists',"
     "'effect':'NoExecute','tolerationSeconds':300}]}",
     NULL},
    {"Pod.spec", "{'tolerations':[{'key':'k','value':'v'}]}", NULL},
    {"Pod.spec", "{'tolerations':[{'key':'k','operator':'Like'}]}",
     "spec.tolerations[0].operator: Unsupported value: \"Like\": supported values: \"Equal\", "
     "\"Exists\""},
    {"Pod.spec", "{'tolerations':[{'key':'k','effect':'NoRun'}]}",
     "spec.tolerations[0].effect: Unsupported value: \"NoRun\": supported values: \"NoExecute\", "
     "\"NoSchedule\", \"PreferNoSchedule\""},
    {"Pod.spec", "{'tolerations':[{'operator':'Equal','value':'v'}]}",
     "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` "
     "is empty"},
    {"Pod.spec", "{'tolerations':[{'key':'k','operator':'Exists','value':'v'}]}",
     "spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` "
     "is 'Exists'"},
    {"Pod.spec",
     "{'tolerations':[{'key':'k','operator':'Exists','effect':'NoSchedule','tolerationSeconds':5}]"
     "}",
     "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
     "`tolerationSeconds` is set"},
    {"Pod.spec", "{'tolerations':[{'key':'bad key','operator':'Exists'}]}",
     "spec.tolerations[0].key: Invalid value: \"bad key\""},
    {"Pod.spec", "{'tolerations':[{'key':'k','value':'bad value'}]}",
     "spec.tolerations[0].value: Invalid value: \"bad value\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'disktype','operator':'In','values':['ssd']},"
     "{'key':'cores','operator':'Gt','values':['4']},{'key':'gpu','operator':'DoesNotExist'}]},"
     "{'matchFields':[{'key':'metadata.name','operator':'In','values':['node1']}]}]},"
     "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':50,'preference':"
     "{'matchExpressions':[{'key':'zone','operator':'NotIn','values':['a']}]}}]}}}",
     NULL},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':[]}}}}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
     "Required value: must have at least one node selector term"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['many']}]}]}}}}",
     "nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: \"many\": must be an "
     "integer"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'cores','operator':'Lt','values':['1','2']}]}]}}}}",
     "matchExpressions[0].values: Required value: must be specified single value when `operator` "
     "is 'Lt' or 'Gt'"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'Near','values':['a']}]}]}}}}",
     "matchExpressions[0].operator: Unsupported value: \"Near\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'In'}]}]}}}}",
     "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or "
     "'NotIn'"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'Exists','values':['a']}]}]}}}}",
     "matchExpressions[0].values: Forbidden"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchFields':[{'key':'metadata.labels','operator':'In','values':['x']}]}]}}}}",
     "matchFields[0].key: Unsupported value: \"metadata.labels\": supported values: "
     "\"metadata.name\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':0,"
     "'preference':{'matchExpressions':[{'key':'zone','operator':'Exists'}]}}]}}}",
     "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
     "Invalid value: 0: must be between 1 and 100, inclusive"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':1}]"
     "}}}",
     "preferredDuringSchedulingIgnoredDuringExecution[0].preference: Required value"},
    {"Pod.spec",
     "{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[]}}}",
     "spec.affinity.podAffinity: Unsupported value: clusterfs does not schedule by pod affinity "
     "yet"},
    {"Pod.spec", "{'affinity':{'podAntiAffinity':{}}}",
     "spec.affinity.podAntiAffinity: Unsupported value"},
    {"Deployment.tmpl", "{'affinity':{'podAntiAffinity':{}}}",
     "spec.template.spec.affinity.podAntiAffinity: Unsupported value"},
};

static const struct vcase volume_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'scratch','emptyDir':{}},{'name':'cfg','configMap':{'name':'app-config',"
     "'items':[{'key':'app.properties','path':'conf/"
     "app.properties','mode':420}],'defaultMode':292}},"
     "{'name':'ram','emptyDir':{'medium':'Memory','sizeLimit':'64Mi'}}],"
     "'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'scratch','mountPath':'/tmp'},"
     "{'name':'cfg','mountPath':'/etc/app','readOnly':true},{'name':'ram','mountPath':'/"
     "cache','subPath':'a/b'}]}]}",
     NULL},
    {"Pod.spec", "{'volumes':[{'name':'data','hostPath':{'path':'/srv'}}]}",
     "Pod \"p\": spec.volumes[0].hostPath: Unsupported value: clusterfs supports emptyDir, "
     "configMap, secret, downwardAPI and projected volumes"},
    {"Pod.spec", "{'volumes':[{'name':'data','persistentVolumeClaim':{'claimName':'pvc'}}]}",
     "spec.volumes[0].persistentVolumeClaim: Unsupported value: clusterfs supports emptyDir, "
     "configMap, secret, downwardAPI and projected volumes"},
    {"Pod.spec",
     "{'volumes':[{'name':'s','secret':{'secretName':'x','defaultMode':256,'optional':true,"
     "'items':[{'key':'k','path':'a/k','mode':384}]}}]}",
     NULL},
    {"Pod.spec", "{'volumes':[{'name':'s','secret':{}}]}",
     "spec.volumes[0].secret.secretName: Required value"},
    {"Pod.spec",
     "{'volumes':[{'name':'s','secret':{'secretName':'x','items':[{'key':'k','path':'../k'}]}}]}",
     "spec.volumes[0].secret.items[0].path: Invalid value"},
    {"Pod.spec", "{'volumes':[{'name':'n','nfs':{'server':'x','path':'/'}}]}",
     "spec.volumes[0].nfs: Unsupported value"},
    {"Pod.spec", "{'volumes':[{'name':'d','downwardAPI':{}}]}", NULL},
    {"Pod.spec", "{'volumes':[{'name':'p','projected':{'sources':[]}}]}", NULL},
    {"Pod.spec", "{'volumes':[{'name':'plain'}]}", NULL}, /* defaulted to emptyDir */
    {"Pod.spec", "{'volumes':[{'name':'two','emptyDir':{},'configMap':{'name':'x'}}]}",
     "spec.volumes[0]: Forbidden: may not specify more than 1 volume type"},
    {"Pod.spec", "{'volumes':[{'name':'a','emptyDir':{}},{'name':'a','emptyDir':{}}]}",
     "spec.volumes[1].name: Duplicate value: \"a\""},
    {"Pod.spec", "{'volumes':[{'name':'Data','emptyDir':{}}]}",
     "spec.volumes[0].name: Invalid value: \"Data\": a lowercase RFC 1123 label"},
    {"Pod.spec", "{'volumes':[{'emptyDir':{}}]}", "spec.volumes[0].name: Required value"},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':{'medium':'HugePages'}}]}",
     "spec.volumes[0].emptyDir.medium: Unsupported value: \"HugePages\""},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':{'sizeLimit':'lots'}}]}",
     "spec.volumes[0].emptyDir.sizeLimit: Invalid value: \"lots\""},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':'yes'}]}",
     "spec.volumes[0].emptyDir: Invalid value: \"yes\": must be a mapping"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{}}]}",
     "spec.volumes[0].configMap.name: Required value"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{'name':'x','defaultMode':512}}]}",
     "spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and "
     "0777 (octal), both inclusive"},
    {"Pod.spec",
     "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'key':'k','path':'../etc/"
     "passwd'}]}}]}",
     "spec.volumes[0].configMap.items[0].path: Invalid value: \"../etc/passwd\": must not contain "
     "'..'"},
    {"Pod.spec",
     "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'key':'k','path':'/abs'}]}}]}",
     "must be a relative path"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'path':'p'}]}}]}",
     "configMap.items[0].key: Required value"},
    {"Pod.ctr", "{'volumeMounts':[{'name':'data','mountPath':'/data'}]}",
     "spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v'}]}]}",
     "spec.containers[0].volumeMounts[0].mountPath: Required value"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v','mountPath':'/d'},{'name':'v','mountPath':'/d'}]}]}",
     "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v','mountPath':'/d','subPath':'a/../../b'}]}]}",
     "volumeMounts[0].subPath: Invalid value: \"a/../../b\": must not contain '..'"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'initContainers':[{'name':'i','image':'x','"
     "volumeMounts':"
     "[{'name':'v','mountPath':'/d'}]}]}",
     NULL},
    {"Deployment.tmpl", "{'volumes':[{'name':'h','hostPath':{'path':'/'}}]}",
     "spec.template.spec.volumes[0].hostPath: Unsupported value: clusterfs supports emptyDir, "
     "configMap, secret, downwardAPI and projected volumes"},
};

/* Each error names the right field after many valid siblings were walked. */
static const struct vcase path_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'v','configMap':{'name':'cfg','items':[{'key':'k','path':'p'}]}},"
     "{'name':'e','emptyDir':{'sizeLimit':'1Gi'}}],'containers':[{'name':'c','image':'x',"
     "'ports':[{'containerPort':80,'name':'http'}],'env':[{'name':'A','valueFrom':"
     "{'configMapKeyRef':{'name':'cfg','key':'k'}}},{'name':'B','valueFrom':{'fieldRef':"
     "{'fieldPath':'metadata.name'}}},{'name':'C','valueFrom':{'resourceFieldRef':"
     "{'resource':'limits.cpu'}}}],'envFrom':[{'configMapRef':{'name':'cfg'}}],"
     "'resources':{'limits':{'cpu':'1'},'requests':{'cpu':'1'}},'volumeMounts':"
     "[{'name':'v','mountPath':'/v'}],'livenessProbe':{'httpGet':{'port':80,'httpHeaders':"
     "[{'name':'X','value':'y'}]}},'readinessProbe':{'exec':{'command':['true']}},"
     "'startupProbe':{'tcpSocket':{'port':80}},'tty':'yes'}]}",
     "Pod \"p\": spec.containers[0].tty: Invalid value: \"yes\""},
    {"Pod.spec",
     "{'volumes':[{'name':'e','emptyDir':{}}],'initContainers':[{'name':'i','image':'x'}],"
     "'tolerations':[{'operator':'Exists'}],'affinity':{'nodeAffinity':{"
     "'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[{'matchExpressions':"
     "[{'key':'a','operator':'Exists'}]}]},'preferredDuringSchedulingIgnoredDuringExecution':"
     "[{'weight':1,'preference':{'matchExpressions':[{'key':'b','operator':'Exists'}]}}]}},"
     "'dnsConfig':{'nameservers':['1.1.1.1']},'nodeSelector':{'a':'b'},'securityContext':'x'}",
     "Pod \"p\": spec.securityContext: Invalid value: \"x\": must be a mapping"},
    {"Pod.spec", "{'affinity':{},'securityContext':'x'}",
     "Pod \"p\": spec.securityContext: Invalid"},
    {"Deployment",
     "{'metadata':{'labels':{'a':'b'},'annotations':{'c':'d'},'ownerReferences':[]},"
     "'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}},'paused':'x'}}",
     "Deployment \"web\": spec.paused: Invalid value"},
    {"ReplicaSet",
     "{'spec':{'template':{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}},'metadata':{'name':'X'"
     "}}",
     "ReplicaSet \"X\": metadata.name: Invalid value"},
};

static void test_paths(void)
{
	RUN_TABLE(path_cases);
}

static void test_pod_containers(void)
{
	RUN_TABLE(container_cases);
}

static void test_pod_env(void)
{
	RUN_TABLE(env_cases);
}

static void test_pod_ports(void)
{
	RUN_TABLE(port_cases);
}

static void test_pod_resources(void)
{
	RUN_TABLE(resource_cases);
}

static void test_pod_probes(void)
{
	RUN_TABLE(probe_cases);
}

static void test_pod_spec(void)
{
	RUN_TABLE(pod_cases);
}

static void test_pod_volumes(void)
{
	RUN_TABLE(volume_cases);
}

int main(void)
{
	RUN(test_paths);
	RUN(test_pod_containers);
	RUN(test_pod_env);
	RUN(test_pod_ports);
	RUN(test_pod_resources);
	RUN(test_pod_probes);
	RUN(test_pod_spec);
	RUN(test_pod_volumes);
	return unit_done();
}
