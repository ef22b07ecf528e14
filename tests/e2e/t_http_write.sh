#!/bin/bash
# t_http_write.sh - the HTTP API's writes (http/write.c, write_sub.c): with
# curl (JSON and YAML bodies) create, replace, delete, scale, status,
# eviction, dry runs, generateName, and every refusal (409 AlreadyExists,
# 409 Conflict, 404, 400 malformed / mismatched, 415, 422 with causes,
# 413, unknown fields: Strict and the Warning header), each with its line
# in $MNT/errors; then kubectl 1.32 and 1.27: create, replace, delete
# (default, --cascade=orphan, --wait), scale, and cordon/uncordon/drain
# when PATCH is served.  Every result is checked in the filesystem.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"

http_env
NS=/api/v1/namespaces/default

J=(-H "Content-Type: application/json")
Y=(-H "Content-Type: application/yaml")
# refused WHAT METHOD PATH: the newest line of errors names METHOD PATH.
refused() {
	check_contains "$1: a line in errors" "$(tail -n 3 "$MNT/errors")" "$2 $3"
}

cm() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"%s"}}' "$1" "$2"; }

# Create: JSON and YAML.
body=$(a $NS/configmaps -X POST "${J[@]}" -d "$(cm cm1 v1)")
check_eq "POST JSON: 201" 201 "$(code)"
check_eq "POST answers the object, with uid and resourceVersion" "ConfigMap cm1 True" \
	"$(printf %s "$body" | jv 'd["kind"], d["metadata"]["name"], bool(d["metadata"]["uid"] and d["metadata"]["resourceVersion"])' | tr -d "(),'")"
check_contains "cm1 is in the mount" "$(cat "$MNT/configmaps/cm1.yaml" 2>&1)" "k: v1"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\ndata:\n  k: yaml\n' >"$WORK/cm2.yaml"
a $NS/configmaps -X POST "${Y[@]}" --data-binary @"$WORK/cm2.yaml" >/dev/null
check_eq "POST YAML: 201" 201 "$(code)"
check_contains "cm2 is in the mount" "$(cat "$MNT/configmaps/cm2.yaml" 2>&1)" "k: yaml"
body=$(a $NS/configmaps -X POST "${J[@]}" -d '{"metadata":{"generateName":"gen-"},"data":{"a":"b"}}')
gen=$(printf %s "$body" | jv 'd["metadata"]["name"]')
check_eq "generateName: 201, named gen-XXXXX" "201 9" "$(code) ${#gen}"
check "the generated name is in the mount" test -e "$MNT/configmaps/$gen.yaml"
a "$NS/configmaps?dryRun=All" -X POST "${J[@]}" -d "$(cm dry v)" >/dev/null
check_eq "dryRun=All create: 201" 201 "$(code)"
check_not "dryRun=All created nothing" test -e "$MNT/configmaps/dry.yaml"

# Refused creates.
body=$(a $NS/configmaps -X POST "${J[@]}" -d "$(cm cm1 v1)")
check_eq "POST an existing name: 409 AlreadyExists" "409 AlreadyExists" \
	"$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_eq "AlreadyExists: Kubernetes' message" 'configmaps "cm1" already exists' \
	"$(printf %s "$body" | jv 'd["message"]')"
refused "409 AlreadyExists" POST $NS/configmaps
check_contains "the errors line has the engine's wording" "$(tail -n 1 "$MNT/errors")" \
	'EEXIST: ConfigMap "cm1" already exists'
a $NS/configmaps -X POST "${J[@]}" -d '{"metadata":{"name":"x","namespace":"kube-system"}}' >/dev/null
check_eq "a namespace other than the path's: 400" 400 "$(code)"
refused "namespace mismatch" POST $NS/configmaps
a $NS/configmaps -X POST "${J[@]}" -d '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"}}' >/dev/null
check_eq "a kind other than the path's: 400" 400 "$(code)"
a $NS/configmaps -X POST "${J[@]}" -d '{"metadata": {"name": "x"' >/dev/null
check_eq "malformed JSON: 400 BadRequest" "400 BadRequest" "$(code) $(jv 'd["reason"]' <"$WORK/body")"
refused "400 malformed" POST $NS/configmaps
a $NS/configmaps -X POST -H "Content-Type: text/plain" -d "$(cm x v)" >/dev/null
check_eq "text/plain: 415 UnsupportedMediaType" "415 UnsupportedMediaType" \
	"$(code) $(jv 'd["reason"]' <"$WORK/body")"
refused "415" POST $NS/configmaps
head -c 4000000 /dev/zero | tr '\0' a >"$WORK/big"
a $NS/configmaps -X POST "${J[@]}" --data-binary @"$WORK/big" >/dev/null
check_eq "a body over 3 MiB: 413" 413 "$(code)"
refused "413" POST $NS/configmaps
web_deployment bad 2 | sed 's/replicas: 2/replicas: -1/' >"$WORK/bad.yaml"
body=$(a /apis/apps/v1/namespaces/default/deployments -X POST "${Y[@]}" --data-binary @"$WORK/bad.yaml")
check_eq "an invalid Deployment: 422 Invalid" "422 Invalid" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_eq "422: a cause naming spec.replicas" "spec.replicas FieldValueInvalid" \
	"$(printf %s "$body" | jv 'd["details"]["causes"][0]["field"], d["details"]["causes"][0]["reason"]' | tr -d "(),'")"
check_contains "422: Kubernetes' message" "$(printf %s "$body" | jv 'd["message"]')" \
	'Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1'
refused "422" POST /apis/apps/v1/namespaces/default/deployments
web_deployment uf 1 | sed 's/^  replicas: 1/  replicas: 1\n  foo: 1/' >"$WORK/uf.yaml"
body=$(a "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict" -X POST "${Y[@]}" --data-binary @"$WORK/uf.yaml")
check_eq "fieldValidation=Strict, spec.foo: 400" 400 "$(code)"
check_contains "Strict names the field" "$(printf %s "$body" | jv 'd["message"]')" 'unknown field "spec.foo"'
refused "Strict" POST /apis/apps/v1/namespaces/default/deployments
check_not "Strict created nothing" test -e "$MNT/deployments/uf.yaml"
a /apis/apps/v1/namespaces/default/deployments -X POST "${Y[@]}" --data-binary @"$WORK/uf.yaml" >/dev/null
check_eq "Warn (the default): 201" 201 "$(code)"
check_contains "Warn: a Warning header" "$(tr -d '\r' <"$WORK/headers")" \
	'Warning: 299 - "unknown field \"spec.foo\""'
a "/apis/apps/v1/namespaces/default/deployments/uf?fieldValidation=Ignore" -X PUT "${Y[@]}" --data-binary @"$WORK/uf.yaml" >/dev/null
check_eq "Ignore: 200, no warning" "200 0" "$(code) $(grep -c '^Warning' "$WORK/headers")"

# Replace.
rv=$(a $NS/configmaps/cm1 | jv 'd["metadata"]["resourceVersion"]')
body=$(a $NS/configmaps/cm1 -X PUT "${J[@]}" -d "{\"metadata\":{\"name\":\"cm1\",\"resourceVersion\":\"$rv\"},\"data\":{\"k\":\"v2\"}}")
check_eq "PUT with the current resourceVersion: 200" 200 "$(code)"
check_contains "the mount shows the replaced data" "$(cat "$MNT/configmaps/cm1.yaml" 2>&1)" "k: v2"
body=$(a $NS/configmaps/cm1 -X PUT "${J[@]}" -d "{\"metadata\":{\"name\":\"cm1\",\"resourceVersion\":\"$rv\"},\"data\":{\"k\":\"v3\"}}")
check_eq "PUT with a stale resourceVersion: 409 Conflict" "409 Conflict" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_contains "Conflict: Kubernetes' message" "$(printf %s "$body" | jv 'd["message"]')" \
	"the object has been modified; please apply your changes to the latest version and try again"
refused "409 Conflict" PUT $NS/configmaps/cm1
check_contains "the stale PUT changed nothing" "$(cat "$MNT/configmaps/cm1.yaml" 2>&1)" "k: v2"
a $NS/configmaps/nope -X PUT "${J[@]}" -d "$(cm nope v)" >/dev/null
check_eq "PUT of a missing object: 404" 404 "$(code)"
refused "PUT 404" PUT $NS/configmaps/nope
check_not "PUT created nothing" test -e "$MNT/configmaps/nope.yaml"
a $NS/configmaps/cm1 -X PUT "${J[@]}" -d "$(cm other v)" >/dev/null
check_eq "PUT with another name in the body: 400" 400 "$(code)"

# Delete.
body=$(a $NS/configmaps/cm2 -X DELETE)
check_eq "DELETE: 200 Success" "200 Success" "$(code) $(printf %s "$body" | jv 'd["status"]')"
check_not "cm2 is gone from the mount" test -e "$MNT/configmaps/cm2.yaml"
a $NS/configmaps/cm2 -X DELETE >/dev/null
check_eq "DELETE of a missing object: 404" 404 "$(code)"
refused "DELETE 404" DELETE $NS/configmaps/cm2
a "$NS/configmaps/cm1?dryRun=All" -X DELETE >/dev/null
check_eq "dryRun=All delete: 200" 200 "$(code)"
check "dryRun=All deleted nothing" test -e "$MNT/configmaps/cm1.yaml"
a $NS/configmaps/cm1 -X DELETE "${J[@]}" -d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}' >/dev/null
check_eq "DELETE with a DeleteOptions body: 200" 200 "$(code)"
check_not "cm1 is gone" test -e "$MNT/configmaps/cm1.yaml"
for n in l1 l2; do
	a $NS/configmaps -X POST "${J[@]}" -d "{\"metadata\":{\"name\":\"$n\",\"labels\":{\"grp\":\"x\"}}}" >/dev/null
done
a "$NS/configmaps?labelSelector=grp%3Dx" -X DELETE >/dev/null
check_eq "DELETE a collection by label: 200" 200 "$(code)"
check_not "l1 and l2 are gone" test -e "$MNT/configmaps/l1.yaml" -o -e "$MNT/configmaps/l2.yaml"

# Scale, status, eviction.
web_deployment sc 1 >"$WORK/sc.yaml"
a /apis/apps/v1/namespaces/default/deployments -X POST "${Y[@]}" --data-binary @"$WORK/sc.yaml" >/dev/null
check_eq "POST a Deployment: 201" 201 "$(code)"
body=$(a /apis/apps/v1/namespaces/default/deployments/sc/scale)
check_eq "GET scale: a Scale of 1, selector app=sc" "Scale autoscaling/v1 1 app=sc" \
	"$(printf %s "$body" | jv 'd["kind"], d["apiVersion"], d["spec"]["replicas"], d["status"]["selector"]' | tr -d "(),'")"
a /apis/apps/v1/namespaces/default/deployments/sc/scale -X PUT "${J[@]}" \
	-d '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"sc"},"spec":{"replicas":2}}' >/dev/null
check_eq "PUT scale: 200" 200 "$(code)"
check_eq "deployments/sc/replicas reads 2" 2 "$(cat "$MNT/deployments/sc/replicas" 2>&1)"
a /apis/apps/v1/namespaces/default/deployments/sc/scale -X PATCH -H "Content-Type: application/merge-patch+json" \
	-d '{"spec":{"replicas":3}}' >/dev/null
check_eq "PATCH scale (merge patch): 200" 200 "$(code)"
check_eq "deployments/sc/replicas reads 3" 3 "$(cat "$MNT/deployments/sc/replicas" 2>&1)"
a /apis/apps/v1/namespaces/default/deployments/sc/scale -X PUT "${J[@]}" -d '{"spec":{"replicas":-2}}' >/dev/null
check_eq "a negative scale: 422" 422 "$(code)"
refused "scale 422" PUT /apis/apps/v1/namespaces/default/deployments/sc/scale
a $NS/configmaps/cmx/scale >/dev/null
check_eq "configmaps have no scale: 404" 404 "$(code)"
body=$(a /api/v1/nodes/hollow-1/status -X PUT "${J[@]}" -d "$(a /api/v1/nodes/hollow-1)")
check_eq "PUT status of a node: 200" 200 "$(code)"
for i in $(seq 1 100); do
	pod=$(ls "$MNT/pods" 2>/dev/null | sed -n 's/^\(sc-[^.]*\)\.yaml$/\1/p' | head -n 1)
	[ -n "$pod" ] && break
	sleep 0.1
done
check "a pod of sc exists" test -n "$pod"
body=$(a $NS/pods/$pod/eviction -X POST "${J[@]}" \
	-d "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"$pod\",\"namespace\":\"default\"}}")
check_eq "POST eviction: 201 Success" "201 Success" "$(code) $(printf %s "$body" | jv 'd["status"]')"
for i in $(seq 1 100); do
	[ -e "$MNT/pods/$pod.yaml" ] || break
	sleep 0.1
done
check_not "the evicted pod is gone from the mount" test -e "$MNT/pods/$pod.yaml"
a $NS/pods/nope/eviction -X POST "${J[@]}" -d '{}' >/dev/null
check_eq "evicting a missing pod: 404" 404 "$(code)"
check_contains "status counts the refused writes" "$(cat "$MNT/status")" "refused writes (cat errors)"

# kubectl (1.32 and 1.27).
patch_served() {
	a /api/v1/nodes/hollow-2 -X PATCH -H "Content-Type: application/merge-patch+json" -d '{}' >/dev/null
	[ "$(code)" != 405 ]
}
# kubectl validates a manifest against /openapi/v2 or /v3 first (http/openapi.c);
# until those are served here, it is told not to.
a /openapi/v2 >/dev/null
if [ "$(code)" = 404 ]; then
	VAL=--validate=false
	ok "# /openapi/v2 is not served in this tree: kubectl create/replace run with $VAL"
else
	VAL=
fi
watch_served() {
	a "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1" >/dev/null
	[ "$(code)" = 200 ]
}
for v in $(kubectl_versions); do
	K=$(kubectl_bin "$v")
	n=kc-${v/./-}
	cm "$n" one | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >"$WORK/$n.json"
	check "kubectl.$v create -f" "$K" create $VAL -f "$WORK/$n.json"
	check_contains "kubectl.$v create: in the mount" "$(cat "$MNT/configmaps/$n.yaml" 2>&1)" "k: one"
	out=$("$K" create $VAL -f "$WORK/$n.json" 2>&1)
	check_contains "kubectl.$v create again: AlreadyExists" "$out" "AlreadyExists"
	cm "$n" two >"$WORK/$n.json"
	check "kubectl.$v replace -f" "$K" replace $VAL -f "$WORK/$n.json"
	check_contains "kubectl.$v replace: in the mount" "$(cat "$MNT/configmaps/$n.yaml" 2>&1)" "k: two"
	check "kubectl.$v delete (waits)" "$K" delete configmap "$n"
	check_not "kubectl.$v delete: gone from the mount" test -e "$MNT/configmaps/$n.yaml"
	# kubectl create namespace|configmap use the typed client: 1.27 sends
	# JSON, 1.32 protobuf (http/pb.c).
	check "kubectl.$v create namespace" "$K" create namespace "$n"
	check_eq "namespaces/$n/status" Active "$(cat "$MNT/namespaces/$n/status" 2>&1)"
	check "kubectl.$v create configmap -n" "$K" create configmap cfg -n "$n" --from-literal=mode=fast \
		--from-literal=other=x
	check_eq "namespaces/$n/configmaps/cfg/data/mode" fast "$(cat "$MNT/namespaces/$n/configmaps/cfg/data/mode" 2>&1)"
	check_eq "namespaces/$n/configmaps/cfg/data/other" x "$(cat "$MNT/namespaces/$n/configmaps/cfg/data/other" 2>&1)"
	check "kubectl.$v delete namespace" "$K" delete namespace "$n" --timeout=30s
	check_not "the namespace is gone" test -e "$MNT/namespaces/$n.yaml"
	# kubectl.1.32 sends it as protobuf (http/pb.c; more in t_http_pb)
	out=$("$K" create service clusterip "$n-s" --tcp=80 2>&1)
	check_contains "kubectl.$v create service" "$out" "created"
	check "the service is in the mount" test -e "$MNT/services/$n-s.yaml"
	web_deployment "$n" 1 >"$WORK/$n-d.yaml"
	check "kubectl.$v create -f a Deployment" "$K" create $VAL -f "$WORK/$n-d.yaml"
	check "kubectl.$v scale --replicas=3" "$K" scale "deployment/$n" --replicas=3
	check_eq "kubectl.$v scale: deployments/$n/replicas reads 3" 3 "$(cat "$MNT/deployments/$n/replicas" 2>&1)"
	for i in $(seq 1 100); do
		ls "$MNT/replicasets" 2>/dev/null | grep -q "^$n-" && break
		sleep 0.1
	done
	check "kubectl.$v delete --cascade=orphan" "$K" delete deployment "$n" --cascade=orphan
	check_not "orphan: the Deployment is gone" test -e "$MNT/deployments/$n.yaml"
	rs=$(ls "$MNT/replicasets" | sed -n "s/^\($n-[^.]*\)\.yaml\$/\1/p" | head -n 1)
	check "orphan: its ReplicaSet stays" test -n "$rs"
	check_not_contains "orphan: the ReplicaSet has no owner" "$(cat "$MNT/replicasets/$rs.yaml" 2>&1)" "ownerReferences"
	check "kubectl.$v delete --wait the ReplicaSet" "$K" delete replicaset "$rs" --wait=true
	check_not "the ReplicaSet is gone" test -e "$MNT/replicasets/$rs.yaml"
	check "kubectl.$v create -f a Deployment (foreground)" "$K" create $VAL -f "$WORK/$n-d.yaml"
	for i in $(seq 1 100); do
		ls "$MNT/replicasets" 2>/dev/null | grep -q "^$n-" && break
		sleep 0.1
	done
	check "kubectl.$v delete --cascade=foreground" "$K" delete deployment "$n" --cascade=foreground
	check_not "foreground: the Deployment is gone" test -e "$MNT/deployments/$n.yaml"
	check_eq "foreground: its ReplicaSets are gone" "" "$(ls "$MNT/replicasets" | grep "^$n-")"
	check_eq "foreground: its pods are gone (kubectl waited for them)" "" "$(ls "$MNT/pods" | grep "^$n-")"
	if watch_served; then
		printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s-p\nspec:\n  containers:\n  - name: c\n    image: busybox\n' "$n" >"$WORK/$n-p.yaml"
		check "kubectl.$v create -f a Pod" "$K" create $VAL -f "$WORK/$n-p.yaml"
		for i in $(seq 1 100); do
			grep -q "nodeName:" "$MNT/pods/$n-p.yaml" 2>/dev/null && break
			sleep 0.1
		done
		check "kubectl.$v delete pod (waits until the node agent deleted it)" "$K" delete pod "$n-p" --timeout=30s
		check_not "the pod is gone from the mount when kubectl returns" test -e "$MNT/pods/$n-p.yaml"
	else
		ok "# kubectl.$v delete pod --wait not run: watch is not served in this tree (http/watch.c)"
	fi
	if patch_served; then
		check "kubectl.$v cordon" "$K" cordon hollow-2
		check_contains "cordon: the node is unschedulable" "$(cat "$MNT/nodes/hollow-2.yaml")" "unschedulable: true"
		check "kubectl.$v uncordon" "$K" uncordon hollow-2
		out=$("$K" drain hollow-2 --ignore-daemonsets --timeout=30s 2>&1)
		check_eq "kubectl.$v drain --ignore-daemonsets exits 0" 0 "$?"
		check_not_contains "kubectl.$v drain evicts (the Eviction subresource), never deletes" "$out" " deleted"
		[ "$v" = 1.32 ] && check_contains "kubectl.$v drain: the pods it evicted" "$out" "evicting pod"
		left=$(a "/api/v1/pods?fieldSelector=spec.nodeName%3Dhollow-2" | jv 'len([p for p in d["items"] if not p["metadata"].get("deletionTimestamp")])')
		check_eq "drain: no pod left on hollow-2" 0 "$left"
		check_contains "drain: the node is cordoned" "$(cat "$MNT/nodes/hollow-2.yaml")" "unschedulable: true"
		check "kubectl.$v uncordon after drain" "$K" uncordon hollow-2
		check_not_contains "uncordon: schedulable again" "$(cat "$MNT/nodes/hollow-2.yaml")" "unschedulable: true"
	else
		ok "# kubectl.$v cordon/drain not run: PATCH on objects is not served in this tree (http/patch.c)"
	fi
done

cfs_done
