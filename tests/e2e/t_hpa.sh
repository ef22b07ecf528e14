#!/bin/bash
# t_hpa.sh - the HorizontalPodAutoscaler with real containers (issue 17):
# a Deployment `web` of a busybox loop that burns CPU while the file
# /load/on (a ConfigMap volume) says 1, requests cpu 100m, limit 200m; an
# HPA of 50 % CPU, min 1, max 4, behavior.scaleDown.stabilizationWindowSeconds
# 6; a server with --horizontal-pod-autoscaler-sync-period 2s and a metrics
# period of 2 s (CFS_METRICS_PERIOD_MS).
#
#   load on  -> 4 replicas within a minute; /cluster/top and `kubectl top
#               pods` show the pods' usage; the SuccessfulRescale event
#               gives Kubernetes' reason;
#   echo 2 > deployments/web/replicas -> the autoscaler puts 4 back;
#   the HPA's files (current, desired, status) and `kubectl get hpa` agree;
#   load off -> back to 1, not before the scale-down window.
# e2e-time-limit: 280
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
trap cfs_cleanup EXIT

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
export CFS_METRICS_PERIOD_MS=2000
cfs_start --node-name t-hpa --horizontal-pod-autoscaler-sync-period 2s ||
	cfs_abort "server with an agent starts"
http_env
K=$(kubectl_newest)
H=$MNT/horizontalpodautoscalers/web

# replicas: the Deployment's spec.replicas.
replicas() { cat "$MNT/deployments/web/replicas" 2>/dev/null; }

# wait_replicas N SECONDS: until spec.replicas is N and N pods run; prints
# the seconds it took, or fails (1) at the end of the time.
wait_replicas() {
	local n=$1 t0 now
	t0=$(date +%s)
	while :; do
		now=$(date +%s)
		if [ "$(replicas)" = "$n" ] &&
			[ "$(grep -c . "$MNT/deployments/web/pods" 2>/dev/null)" = "$n" ]; then
			echo $((now - t0))
			return 0
		fi
		[ $((now - t0)) -lt "$2" ] || return 1
		sleep 0.5
	done
}

# set_load 0|1: the ConfigMap the pods read their load switch from.
set_load() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: load}\ndata: {on: "%s"}\n' "$1" \
		>"$MNT/configmaps/load.yaml"
}

set_load 0
check "ConfigMap load written" test -e "$MNT/configmaps/load.yaml"
cat >"$WORK/web.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: burn
        image: busybox:latest
        command: ["sh", "-c", "while :; do if [ \"$(cat /load/on)\" = 1 ]; then i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; else sleep 1; fi; done"]
        resources:
          requests: {cpu: 100m}
          limits: {cpu: 200m}
        volumeMounts: [{name: load, mountPath: /load}]
      volumes: [{name: load, configMap: {name: load}}]
Y
check "Deployment web written" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
check "web runs 1 pod" wait_replicas 1 60

cat >"$WORK/hpa.yaml" <<'Y'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 6}
Y
check "HPA web written" cp "$WORK/hpa.yaml" "$MNT/horizontalpodautoscalers/web.yaml"
sleep 6
check_eq "idle: still 1 replica" 1 "$(replicas)"

# Load on.
set_load 1
if s=$(wait_replicas 4 60); then
	ok "load on: 4 replicas within a minute ($s s)"
else
	fail "load on: 4 replicas within a minute" "replicas $(replicas)" \
		"log: $(grep -E ' hpa ' "$DATA/server.log" | tail -5)" \
		"hpa: $(cat "$MNT/horizontalpodautoscalers/web.yaml" 2>&1)" \
		"events: $(grep -i horizontal "$MNT/events" | tail -5)"
fi
ev=$(grep SuccessfulRescale "$MNT/events")
check_contains "event SuccessfulRescale with Kubernetes' reason" "$ev" \
	"New size: 4; reason: cpu resource utilization (percentage of request) above target"

# The usage shows while it runs.
top=$(cat "$MNT/top" 2>&1)
check_contains "/cluster/top lists the web pods" "$top" "web-"
busy=$(awk '/web-/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+m$/) { sub(/m$/, "", $i); if ($i + 0 >= 50) { print "busy"; exit } } }' <<<"$top")
check_eq "/cluster/top shows a web pod burning CPU (>= 50m)" busy "$busy"
kt=$("$K" top pods -l app=web 2>&1)
check_contains "kubectl top pods shows the web pods" "$kt" "web-"
check_contains "kubectl top pods has a CPU column" "$kt" "CPU"

# The HPA's files and kubectl agree.  Right after a rescale the status
# still says the replicas it scaled from (as Kubernetes' does): the next
# sync, 2 s later, says 4.
for _ in $(seq 20); do
	[ "$(cat "$H/current" 2>/dev/null)" = 4 ] && break
	sleep 0.5
done
check_eq "horizontalpodautoscalers/web/current is 4" 4 "$(cat "$H/current" 2>&1)"
check_eq "horizontalpodautoscalers/web/desired is 4" 4 "$(cat "$H/desired" 2>&1)"
check "horizontalpodautoscalers/web/status is not empty" test -s "$H/status"
kc=$("$K" get hpa web -o jsonpath='{.status.currentReplicas}/{.status.desiredReplicas}' 2>&1)
check_eq "kubectl get hpa agrees (current/desired)" "4/4" "$kc"
kg=$("$K" get hpa 2>&1)
check_contains "kubectl get hpa lists web" "$kg" "web"
check_contains "kubectl get hpa shows the target" "$kg" "/50%"

# A manual scale is corrected by the autoscaler.  Kubernetes' default
# scale-up policy (4 pods or 100 % per 15 s) counts the HPA's own scale-up
# of a moment ago, so the way back may take two steps, 15 s apart.
check "echo 2 > deployments/web/replicas" sh -c "echo 2 > '$MNT/deployments/web/replicas'"
if s=$(wait_replicas 4 50); then
	ok "the autoscaler puts 4 back ($s s)"
else
	fail "the autoscaler puts 4 back" "replicas $(replicas)" \
		"log: $(grep -E ' hpa ' "$DATA/server.log" | tail -5)"
fi

# Load off: back to 1 after the scale-down window.
t0=$(date +%s)
set_load 0
if s=$(wait_replicas 1 90); then
	ok "load off: back to 1 replica ($(($(date +%s) - t0)) s)"
	check "not before the 6 s window" test $(($(date +%s) - t0)) -ge 6
else
	fail "load off: back to 1 replica" "replicas $(replicas)" \
		"hpa: $(cat "$MNT/horizontalpodautoscalers/web.yaml" 2>&1)"
fi
ev=$(grep SuccessfulRescale "$MNT/events")
check_contains "event SuccessfulRescale down: All metrics below target" "$ev" \
	"reason: All metrics below target"
check "rm the HPA" rm "$MNT/horizontalpodautoscalers/web.yaml"
check "rm the Deployment" rm "$MNT/deployments/web.yaml"
cfs_done
