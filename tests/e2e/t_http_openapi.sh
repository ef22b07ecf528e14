#!/bin/bash
# t_http_openapi.sh - the OpenAPI documents (http/openapi.c) over HTTPS:
# /openapi/v2 as JSON and as protobuf, the /openapi/v3 index and its
# group-version documents, then what kubectl does with them: explain (1.27
# and 1.32 read v3; --output plaintext-openapiv2 reads the v2 protobuf),
# apply --dry-run=client (1.27 and 1.28 download the v2 protobuf to decide
# on validation, 1.32 the v3 documents) and api-resources.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 1 || cfs_abort "server starts and mounts $MNT"
http_env


# /openapi/v2.
out=$(a /openapi/v2 -H "Accept: application/json")
check_eq "/openapi/v2 (JSON): 200" 200 "$(code)"
check_eq "/openapi/v2 (JSON): swagger 2.0, Pod and Deployment defined" "2.0 True True" \
	"$(printf %s "$out" | jv 'd["swagger"], "io.k8s.api.core.v1.Pod" in d["definitions"], "io.k8s.api.apps.v1.Deployment" in d["definitions"]' | tr -d "(),'")"
check_eq "/openapi/v2: a patch operation lists fieldValidation" "True" \
	"$(printf %s "$out" | jv 'any(p["name"] == "fieldValidation" for p in d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["parameters"])')"
a /openapi/v2 -H "Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json" >/dev/null
check_eq "/openapi/v2 (protobuf): 200" 200 "$(code)"
check_contains "/openapi/v2 (protobuf): its content type" "$(cat "$WORK/headers")" \
	"application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
check_eq "/openapi/v2 (protobuf): field 1 is \"2.0\"" "0a03322e30" "$(head -c 5 "$WORK/body" | od -An -tx1 | tr -d ' \n')"
curl -sS --cacert "$DATA/pki/ca.crt" -o /dev/null -w '%{http_code}' "$URL/openapi/v2" >"$WORK/code"
check_eq "/openapi/v2 without a token: 401" 401 "$(code)"

# /openapi/v3.
idx=$(a /openapi/v3)
check_eq "/openapi/v3: 200" 200 "$(code)"
check_eq "/openapi/v3: api/v1, apps/v1, autoscaling/v1 and v2, coordination.k8s.io/v1" \
	"api/v1 apis/apps/v1 apis/autoscaling/v1 apis/autoscaling/v2 apis/coordination.k8s.io/v1" \
	"$(printf %s "$idx" | jv '" ".join(sorted(d["paths"]))')"
u=$(printf %s "$idx" | jv 'd["paths"]["api/v1"]["serverRelativeURL"]')
case "$u" in
/openapi/v3/api/v1\?hash=*) ok "the index names /openapi/v3/api/v1?hash=..." ;;
*) fail "the index names /openapi/v3/api/v1?hash=... (got \"$u\")" ;;
esac
doc=$(a "$u")
check_eq "/openapi/v3/api/v1: 200" 200 "$(code)"
check_eq "/openapi/v3/api/v1: openapi 3.0.0, Pod's GVK" "3.0.0 Pod" \
	"$(printf %s "$doc" | jv 'd["openapi"], d["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"][0]["kind"]' | tr -d "(),'")"
check_contains "/openapi/v3/apis/apps/v1: the scale path" "$(a /openapi/v3/apis/apps/v1)" \
	'/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'
check_contains "/openapi/v3/apis/autoscaling/v1: the HPA's v1 paths" \
	"$(a /openapi/v3/apis/autoscaling/v1)" \
	'/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/{name}/status'
check_contains "/openapi/v3/apis/autoscaling/v2: the HPA's v2 schema" \
	"$(a /openapi/v3/apis/autoscaling/v2)" '"io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec"'
a /openapi/v3/apis/batch/v1 >/dev/null
check_eq "/openapi/v3/apis/batch/v1: 404" 404 "$(code)"

# Every field of every object the server itself writes (metadata, status,
# events, endpoints, nodes) is in the schema: kubectl replace and edit send
# them back, and fieldValidation=Strict refuses unknown fields.
web_deployment web 2 >"$WORK/web.yaml"
check "cp a Deployment into the mount" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
cat >"$WORK/svc.yaml" <<-YAML
	apiVersion: v1
	kind: Service
	metadata: {name: web}
	spec:
	  selector: {app: web}
	  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
check "cp a Service into the mount" cp "$WORK/svc.yaml" "$MNT/services/web.yaml"
for i in $(seq 50); do
	a /api/v1/namespaces/default/endpoints/web | grep -q '"ip"' && break
	sleep 0.2
done
a /openapi/v3/api/v1 >"$WORK/core.json"
a /openapi/v3/apis/apps/v1 >"$WORK/apps.json"
cat >"$WORK/unknown.py" <<-'PY'
	import json, sys
	schemas = {}
	for f in sys.argv[1:3]:
	    schemas.update(json.load(open(f))["components"]["schemas"])
	def res(s):
	    while "$ref" in s or "allOf" in s:
	        s = schemas[s["$ref"].split("/")[-1]] if "$ref" in s else s["allOf"][0]
	    return s
	def walk(v, s, path, out):
	    s = res(s)
	    if isinstance(v, dict) and "properties" in s:
	        for k, x in v.items():
	            if k in s["properties"]:
	                walk(x, s["properties"][k], path + k + ".", out)
	            else:
	                out.append(path + k)
	    elif isinstance(v, dict) and "additionalProperties" in s:
	        for k, x in v.items():
	            walk(x, s["additionalProperties"], path + k + ".", out)
	    elif isinstance(v, list) and "items" in s:
	        for i, x in enumerate(v):
	            walk(x, s["items"], path[:-1] + "[%d]." % i, out)
	doc = json.load(sys.stdin)
	out = []
	walk(doc, schemas[sys.argv[3]], "", out)
	print(" ".join(sorted(set(out))) or "none")
PY
for l in api/v1/pods:core.v1.PodList api/v1/nodes:core.v1.NodeList \
	api/v1/services:core.v1.ServiceList api/v1/endpoints:core.v1.EndpointsList \
	api/v1/events:core.v1.EventList api/v1/namespaces:core.v1.NamespaceList \
	api/v1/configmaps:core.v1.ConfigMapList apis/apps/v1/deployments:apps.v1.DeploymentList \
	apis/apps/v1/replicasets:apps.v1.ReplicaSetList; do
	body=$(a "/${l%%:*}")
	check_eq "/${l%%:*}: every field is in the schema" none \
		"$(printf %s "$body" | "$PY" "$WORK/unknown.py" "$WORK/core.json" "$WORK/apps.json" "io.k8s.api.${l#*:}" 2>&1)"
done
check_contains "the pods have a status to check" "$(a /api/v1/pods)" '"containerStatuses"'

# kubectl.
export KUBECONFIG=$DATA/kubeconfig
kubectls=""
[ -x "$KUBECTL_GCB/kubectl.1.28" ] && kubectls=$KUBECTL_GCB/kubectl.1.28
for v in $(kubectl_versions); do kubectls="$kubectls $(kubectl_bin "$v")"; done
K132=$(kubectl_bin 1.32)
K127=$(kubectl_bin 1.27)
K120=$(kubectl_bin 1.20)

if [ -n "$kubectls" ]; then
	if [ -n "$K132" ]; then
		out=$("$K132" explain pods.spec.containers 2>&1)
		check_contains "kubectl explain pods.spec.containers: the field" "$out" "containers <[]Container>"
		check_contains "kubectl explain pods.spec.containers: its description" "$out" "names are unique in the pod"
		check_contains "kubectl explain pods.spec.containers: imagePullPolicy" "$out" "imagePullPolicy"
		out=$("$K132" explain deployments.spec --output plaintext-openapiv2 2>&1)
		check_contains "kubectl explain from the v2 protobuf: the field" "$out" "RESOURCE: spec <Object>"
		check_contains "kubectl explain from the v2 protobuf: selector required" "$out" "selector	<Object> -required-"
		check_contains "kubectl explain svc.spec.ports.targetPort" \
			"$("$K132" explain svc.spec.ports.targetPort 2>&1)" "a number or a container port's name"
	fi
	if [ -n "$K127" ]; then
		out=$("$K127" explain deployments.spec 2>&1)
		check_contains "kubectl 1.27 explain deployments.spec: the field" "$out" "spec <DeploymentSpec>"
		check_contains "kubectl 1.27 explain deployments.spec: selector required" "$out" "selector	<LabelSelector> -required-"
		check_contains "kubectl 1.27 explain deployments.spec: strategy" "$out" "strategy	<DeploymentStrategy>"
		check_contains "kubectl 1.27 explain pods" "$("$K127" explain pods 2>&1)" "KIND:       Pod"
	fi
	if [ -n "$K120" ]; then
		out=$("$K120" explain deployments.spec 2>&1)
		check_contains "kubectl 1.20 explain deployments.spec: the field" "$out" "spec <Object>"
		check_contains "kubectl 1.20 explain deployments.spec: selector required" "$out" "selector	<Object> -required-"
		check_contains "kubectl 1.20 explain pods" "$("$K120" explain pods 2>&1)" "KIND:     Pod"
	fi

	cat >"$WORK/cm.yaml" <<-EOF
		apiVersion: v1
		kind: ConfigMap
		metadata:
		  name: oa
		data:
		  a: b
		---
		apiVersion: apps/v1
		kind: Deployment
		metadata:
		  name: oa
		spec:
		  selector:
		    matchLabels: {app: oa}
		  template:
		    metadata:
		      labels: {app: oa}
		    spec:
		      containers:
		      - name: c
		        image: busybox:1.36
		        resources:
		          limits: {cpu: 1, memory: 64Mi}
	EOF
	for k in $kubectls; do
		v=${k##*/}
		out=$("$k" apply -f "$WORK/cm.yaml" --dry-run=client 2>&1)
		check_contains "$v apply --dry-run=client: the ConfigMap" "$out" "configmap/oa created (dry run)"
		check_contains "$v apply --dry-run=client: the Deployment" "$out" "deployment.apps/oa created (dry run)"
		check_contains "$v api-resources" "$("$k" api-resources 2>&1)" "deployments"
	done
	if [ -n "$K132" ]; then
		out=$("$K132" apply -f "$WORK/cm.yaml" --dry-run=client -v=6 2>&1)
		check_contains "kubectl 1.32 reads /openapi/v3/api/v1" "$out" "GET $URL/openapi/v3/api/v1?hash="
		check_not_contains "kubectl 1.32 does not fall back to v2" "$out" "falling back"
	fi
else
	echo "# no kubectl here: its checks skipped"
fi
cfs_done
