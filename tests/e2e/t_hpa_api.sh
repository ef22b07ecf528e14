#!/bin/bash
# t_hpa_api.sh - the HorizontalPodAutoscaler kind everywhere but its
# controller: kubectl autoscale (each kubectl here: 1.32, 1.27 and 1.20 all
# post autoscaling/v1, 1.32 in protobuf), kubectl get hpa's columns, the same
# object read as autoscaling/v1 and v2, discovery, the one-value files
# (min, max, current, desired, target, metrics, status), refusals (EINVAL
# and a line in errors), a status write as the controller makes it, cp of
# the Kubernetes docs' php-apache HPA (v2) and of a v1 manifest, kubectl
# describe / -o yaml / patch / edit / delete, a merge patch through v1.
# e2e-time-limit: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 1 || cfs_abort "server starts and mounts $MNT"
http_env
H=$MNT/horizontalpodautoscalers
V1=/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers
V2=/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers
K=$(kubectl_newest)

check "the folder is there" test -d "$H"
web_deployment web 1 >"$WORK/web.yaml"
check "a Deployment to scale" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"

# Discovery: v2 preferred, v1 served.
out=$(a /apis/autoscaling)
check_eq "autoscaling: v2 preferred" "autoscaling/v2" \
	"$(printf %s "$out" | jv 'd["preferredVersion"]["groupVersion"]')"
check_eq "autoscaling: v2 and v1" "v2 v1" \
	"$(printf %s "$out" | jv '" ".join(v["version"] for v in d["versions"])')"
out=$(a /apis/autoscaling/v1)
check_contains "autoscaling/v1 lists horizontalpodautoscalers" "$out" '"horizontalpodautoscalers"'
out=$("$K" api-resources --api-group=autoscaling 2>&1)
check_contains "kubectl api-resources: hpa" "$out" "hpa"

# kubectl autoscale with each kubectl here.
for v in $(kubectl_versions); do
	k=$(kubectl_bin "$v")
	n=web${v//./}
	out=$("$k" autoscale deployment web --cpu-percent=50 --min=1 --max=10 --name="$n" 2>&1)
	check_contains "$v: kubectl autoscale" "$out" "$n autoscaled"
	check "$v: NAME.yaml is there" test -e "$H/$n.yaml"
	check_eq "$v: stored as autoscaling/v2" '"autoscaling/v2"' "$(yget "$H/$n.yaml" apiVersion)"
	check_eq "$v: the CPU target" 50 "$(yget "$H/$n.yaml" spec.metrics.0.resource.target.averageUtilization)"
	out=$("$k" get hpa "$n" 2>&1)
	check "$v: get hpa, Kubernetes' columns" sh -c "printf '%s\n' \"\$1\" | head -n 1 | grep -Eq '^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE\$'" sh "$out"
	check "$v: get hpa's row" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^$n +Deployment/web +cpu: <unknown>/50% +1 +10 +[0-9]+ +[0-9]+s\$'" sh "$out"
done

# One object, both versions.
out=$(a $V1/web132)
check_eq "v1 GET: 200" 200 "$(code)"
check_eq "v1 GET: apiVersion and CPU target" "autoscaling/v1 50 None" \
	"$(printf %s "$out" | jv 'd["apiVersion"], d["spec"]["targetCPUUtilizationPercentage"], d["spec"].get("metrics")' | tr -d "(),'")"
out=$(a $V2/web132)
check_eq "v2 GET: apiVersion and CPU target" "autoscaling/v2 50" \
	"$(printf %s "$out" | jv 'd["apiVersion"], d["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]' | tr -d "(),'")"
out=$(a "$V1?watch=true&timeoutSeconds=1")
check_eq "v1 WATCH: v1 objects" "True" \
	"$(printf '%s\n' "$out" | "$PY" -c 'import json,sys; e=[json.loads(l) for l in sys.stdin if l.strip()]; print(bool(e) and all(x["object"]["apiVersion"] == "autoscaling/v1" and "targetCPUUtilizationPercentage" in x["object"]["spec"] for x in e))')"
out=$(a "$V1/web132?includeObject=Object" -H "Accept: application/json;as=Table;v=v1;g=meta.k8s.io")
check_eq "v1 Table: the row's object is v1" "Table autoscaling/v1" \
	"$(printf %s "$out" | jv 'd["kind"], d["rows"][0]["object"]["apiVersion"]' | tr -d "(),'")"
out=$(a $V1)
check_eq "v1 LIST: a v1 list of v1 objects" "autoscaling/v1 HorizontalPodAutoscalerList True" \
	"$(printf %s "$out" | jv 'd["apiVersion"], d["kind"], all(i["apiVersion"] == "autoscaling/v1" for i in d["items"])' | tr -d "(),'")"

# The one-value files.
check_eq "min" 1 "$(cat "$H/web132/min")"
check_eq "max" 10 "$(cat "$H/web132/max")"
check_eq "target" "Deployment/web" "$(cat "$H/web132/target")"
check_eq "metrics" "cpu: <unknown>/50%" "$(cat "$H/web132/metrics")"
# (empty until the controller's first sync, then web's replicas)
check "current: empty, or a count once the controller synced" \
	sh -c '[ -z "$1" ] || [ "$1" -ge 0 ]' sh "$(cat "$H/web132/current")"
check "echo 4 > max" sh -c "echo 4 > '$H/web132/max'"
check_eq "max is 4 in the v2 object" 4 "$(a $V2/web132 | jv 'd["spec"]["maxReplicas"]')"
expect_refusal EINVAL "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1" \
	"echo 0 > min" bash -c "echo 0 > '$H/web132/min'"
expect_refusal EINVAL "spec.maxReplicas: Invalid value: 1: must be greater than or equal to .minReplicas." \
	"max below min" bash -c "echo 2 > '$H/web132/min' && echo 1 > '$H/web132/max'"
check_eq "min stays 2, max 4" "2 4" "$(cat "$H/web132/min") $(cat "$H/web132/max")"
check_eq "min and max are writable" "644 644" "$(stat -c %a "$H/web132/min" "$H/web132/max" | tr '\n' ' ' | sed 's/ $//')"
check_eq "current is read-only" 444 "$(stat -c %a "$H/web132/current")"

# The controller's write: the status subresource.
st='{"status":{"currentReplicas":2,"desiredReplicas":3,"currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":120,"averageValue":"120m"}}}],"conditions":[{"type":"AbleToScale","status":"True","reason":"SucceededRescale","message":"the HPA controller was able to update the target scale to 3"}]}}'
a $V2/web132/status -X PATCH -H "Content-Type: application/merge-patch+json" -d "$st" >/dev/null
check_eq "status PATCH: 200" 200 "$(code)"
check_eq "current" 2 "$(cat "$H/web132/current")"
check_eq "desired" 3 "$(cat "$H/web132/desired")"
check_eq "metrics now" "cpu: 120%/50%" "$(cat "$H/web132/metrics")"
out=$(cat "$H/web132/status")
check_contains "status: reference" "$out" "Deployment/web"
check_contains "status: replicas" "$out" "2 current / 3 desired"
check_contains "status: a condition a line" "$out" "AbleToScale     True    SucceededRescale"
out=$("$K" get hpa web132 2>&1)
check_contains "get hpa: the metric over its target" "$out" "cpu: 120%/50%"
out=$(a $V1/web132)
check_eq "v1: currentCPUUtilizationPercentage and the conditions annotation" "120 True" \
	"$(printf %s "$out" | jv 'd["status"]["currentCPUUtilizationPercentage"], "autoscaling.alpha.kubernetes.io/conditions" in d["metadata"]["annotations"]' | tr -d "(),'")"

# kubectl describe, -o yaml, patch, edit.
out=$("$K" describe hpa web132 2>&1)
check_contains "describe: the reference" "$out" "Deployment/web"
check_contains "describe: min replicas" "$out" "Min replicas:"
out=$("$K" get hpa web132 -o yaml 2>&1)
check_contains "-o yaml: v2" "$out" "apiVersion: autoscaling/v2"
check "kubectl patch" "$K" patch hpa web132 -p '{"spec":{"maxReplicas":7}}'
check_eq "patch: max" 7 "$(cat "$H/web132/max")"
check "kubectl edit" env EDITOR="sed -i s/maxReplicas:\ 7/maxReplicas:\ 8/" "$K" edit hpa web132
check_eq "edit: max" 8 "$(cat "$H/web132/max")"
a $V1/web132 -X PATCH -H "Content-Type: application/merge-patch+json" \
	-d '{"spec":{"targetCPUUtilizationPercentage":70}}' >/dev/null
check_eq "v1 merge patch: 200" 200 "$(code)"
check_eq "v1 patch: the v2 metric follows" 70 \
	"$(yget "$H/web132.yaml" spec.metrics.0.resource.target.averageUtilization)"
check_eq "v1 patch: status kept" 2 "$(cat "$H/web132/current")"

# cp of the Kubernetes docs' php-apache HPA (v2) and of a v1 manifest.
cat >"$WORK/hpa.yaml" <<'EOF'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
EOF
check "cp the docs' php-apache HPA" cp "$WORK/hpa.yaml" "$H/"
check_eq "php-apache: target" "Deployment/php-apache" "$(cat "$H/php-apache/target")"
# (Its target is not there: the controller then leaves the status written
# below as it is, but for the conditions.)
cat >"$WORK/old.yaml" <<'EOF'
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: old
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: gone
  minReplicas: 2
  maxReplicas: 5
  targetCPUUtilizationPercentage: 65
EOF
check "cp a v1 manifest" cp "$WORK/old.yaml" "$H/"
check_eq "v1 manifest stored as v2" '"autoscaling/v2"' "$(yget "$H/old.yaml" apiVersion)"
check_eq "v1's target as a v2 metric" 65 "$(yget "$H/old.yaml" spec.metrics.0.resource.target.averageUtilization)"
check_eq "v1 GET gives it back" 65 "$(a $V1/old | jv 'd["spec"]["targetCPUUtilizationPercentage"]')"
a $V1/old/status -X PUT -H "Content-Type: application/json" \
	-d '{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"old"},"status":{"currentReplicas":2,"desiredReplicas":2,"currentCPUUtilizationPercentage":30}}' >/dev/null
check_eq "v1 status PUT: 200" 200 "$(code)"
check_eq "v1 status stored as v2" "cpu: 30%/65%" "$(cat "$H/old/metrics")"
check "events can be read" cat "$H/old/events"
out=$("$K" explain hpa.spec.behavior 2>&1)
check_contains "kubectl explain hpa.spec.behavior" "$out" "scaleUp"
sed 's/minReplicas: 2/minReplicas: 0/' "$WORK/old.yaml" >"$WORK/bad.yaml"
expect_refusal EINVAL "spec.minReplicas: Invalid value: 0" "cp of minReplicas 0" cp "$WORK/bad.yaml" "$H/old.yaml"
check_eq "the refused cp changed nothing" 2 "$(cat "$H/old/min")"
sed 's/type: Utilization/type: Average/' "$WORK/hpa.yaml" >"$WORK/bad2.yaml"
expect_refusal EINVAL 'Unsupported value: "Average"' "a bad target type" cp "$WORK/bad2.yaml" "$H/php-apache.yaml"

# kubectl apply of a v1 manifest, twice (the second a strategic patch under v1).
sed 's/name: old/name: applied/' "$WORK/old.yaml" >"$WORK/applied.yaml"
check_contains "kubectl apply of a v1 manifest" "$("$K" apply -f "$WORK/applied.yaml" 2>&1)" "created"
sed -i 's/targetCPUUtilizationPercentage: 65/targetCPUUtilizationPercentage: 75/' "$WORK/applied.yaml"
check_contains "kubectl apply of it changed" "$("$K" apply -f "$WORK/applied.yaml" 2>&1)" "configured"
check_eq "the v2 metric follows the second apply" "cpu: <unknown>/75%" "$(cat "$H/applied/metrics")"

# HTTP refusals: 422 in Kubernetes' words.
out=$(a $V2 -X POST -H "Content-Type: application/json" \
	-d '{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"bad"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":0}}')
check_eq "POST maxReplicas 0: 422" 422 "$(code)"
check_contains "422 names the field" "$out" "spec.maxReplicas: Invalid value: 0: must be greater than 0"
check_contains "the 422 has its line in errors" "$(tail -n 2 "$MNT/errors")" \
	"POST $V2: EINVAL: HorizontalPodAutoscaler \"bad\": spec.maxReplicas"

check "rm NAME.yaml deletes it" rm "$H/applied.yaml"
check_contains "gone for kubectl too" "$("$K" get hpa applied 2>&1)" "NotFound"
check "kubectl delete hpa" "$K" delete hpa web132
check_not "deleted: NAME.yaml is gone" test -e "$H/web132.yaml"
cfs_done
