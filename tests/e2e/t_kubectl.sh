#!/bin/bash
# t_kubectl.sh - the tour of README.md with the real kubectl (1.32, 1.27
# and Debian's 1.20, those that are here) against a server with its local
# node, real runc containers and a Service: apply, get (tables, -o wide,
# -w), scale, set image/env, rollout status/history/undo/restart/pause/
# resume, logs, exec, port-forward, describe, events, cordon/uncordon/
# drain, delete; each result checked in the filesystem as well as in
# kubectl's output.
# e2e-time-limit: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_http.sh"

NODE=t-kubectl
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name "$NODE" || cfs_abort "server did not start"
export KUBECONFIG=$DATA/kubeconfig
D=$MNT/deployments

# tour VERSION BINARY
tour() {
	local v=$1 K=$2 n=web${1//./} out pf
	cat >"$WORK/$n.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $n
spec:
  replicas: 2
  selector:
    matchLabels: {app: $n}
  template:
    metadata:
      labels: {app: $n}
    spec:
      containers:
      - name: web
        image: busybox:latest
        command: ["sh", "-c", "echo hello-$n; mkdir -p /www; echo page-$n > /www/index.html; exec httpd -f -p 8080 -h /www"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: $n
spec:
  selector: {app: $n}
  ports:
  - port: 80
    targetPort: 8080
EOF
	out=$("$K" apply -f "$WORK/$n.yaml" 2>&1)
	check_contains "$v: apply creates the Deployment" "$out" "deployment.apps/$n created"
	check_contains "$v: apply creates the Service" "$out" "service/$n created"
	check "$v: the Deployment is a file" test -e "$D/$n.yaml"
	check "$v: rollout status ends" "$K" rollout status "deployment/$n" --timeout=60s
	out=$("$K" get pods -l "app=$n" 2>&1)
	check "$v: get pods, Kubernetes' columns" sh -c "printf '%s\n' \"\$1\" | head -n 1 | grep -Eq '^NAME +READY +STATUS +RESTARTS +AGE\$'" sh "$out"
	check_contains "$v: get pods shows READY and Running" "$out" "1/1     Running"
	check_eq "$v: two pods Running in the mount too" 2 \
		"$(for p in $(ls "$MNT/pods" | grep "^$n-.*\.yaml$"); do cat "$MNT/pods/${p%.yaml}/phase"; echo; done | grep -c Running)"
	out=$("$K" get pods -o wide -l "app=$n" 2>&1)
	check_contains "$v: -o wide names the node" "$out" "$NODE"
	out=$("$K" get endpoints "$n" 2>&1)
	check_contains "$v: the Service has endpoints on 8080" "$out" ":8080"
	check_eq "$v: services/NAME/endpoints has both" 2 "$(grep -c 8080 "$MNT/services/$n/endpoints")"

	"$K" get pods -w -l "app=$n" >"$WORK/watch-$v.out" 2>&1 &
	local wpid=$!
	CFS_BG_PIDS="$CFS_BG_PIDS $wpid"
	echo 3 >"$D/$n/replicas"
	check "$v: get -w sees the pod a write to replicas made" wait_until 20 \
		sh -c "[ \$(grep -c '^$n-' '$WORK/watch-$v.out') -ge 3 ]"
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null

	check "$v: scale --replicas=1" "$K" scale "deployment/$n" --replicas=1
	check_eq "$v: scale: replicas in the mount" 1 "$(cat "$D/$n/replicas")"
	check "$v: set env" "$K" set env "deployment/$n" FOO=bar
	check "$v: rollout status after set env" "$K" rollout status "deployment/$n" --timeout=60s
	check_contains "$v: the env is in the mount" "$(cat "$D/$n.yaml")" "FOO"
	out=$("$K" rollout history "deployment/$n" 2>&1)
	check_contains "$v: rollout history lists revision 2" "$out" "2 "
	check "$v: rollout undo" "$K" rollout undo "deployment/$n"
	check "$v: rollout status after undo" "$K" rollout status "deployment/$n" --timeout=60s
	check_not_contains "$v: undo removed FOO from the mount's template" "$(cat "$D/$n.yaml")" "FOO"
	check_eq "$v: revision 3 in the mount" 3 "$(cat "$D/$n/revision")"
	check "$v: rollout pause" "$K" rollout pause "deployment/$n"
	check_contains "$v: paused in the mount" "$(cat "$D/$n.yaml")" "paused: true"
	check "$v: rollout resume" "$K" rollout resume "deployment/$n"
	check "$v: rollout restart" "$K" rollout restart "deployment/$n"
	check "$v: rollout status after restart" "$K" rollout status "deployment/$n" --timeout=60s
	check "$v: set image" "$K" set image "deployment/$n" web=busybox
	check_contains "$v: set image in the mount" "$(cat "$D/$n.yaml")" "image: busybox"$'\n'
	check "$v: rollout status after set image" "$K" rollout status "deployment/$n" --timeout=60s

	out=$("$K" logs "deployment/$n" 2>&1)
	check_contains "$v: logs deployment/NAME" "$out" "hello-$n"
	out=$("$K" exec "deploy/$n" -- cat /www/index.html 2>&1)
	check_eq "$v: exec prints the page" "page-$n" "$out"
	"$K" exec "deploy/$n" -- sh -c 'exit 4' >/dev/null 2>&1
	check_eq "$v: exec's exit code" 4 "$?"

	local port=$((18000 + ${v//./} % 1000))
	"$K" port-forward "deploy/$n" "$port:8080" >"$WORK/pf-$v.out" 2>&1 &
	pf=$!
	CFS_BG_PIDS="$CFS_BG_PIDS $pf"
	check "$v: port-forward answers" wait_until 20 sh -c "curl -s http://127.0.0.1:$port/ | grep -q page-$n"
	kill "$pf" 2>/dev/null
	wait "$pf" 2>/dev/null

	out=$("$K" describe "deployment/$n" 2>&1)
	check_contains "$v: describe shows the events" "$out" "ScalingReplicaSet"
	out=$("$K" get events --sort-by=.lastTimestamp 2>&1)
	check_contains "$v: get events --sort-by" "$out" "deployment/$n"

	check "$v: cordon" "$K" cordon "$NODE"
	check_eq "$v: cordon in the mount" 1 "$(cat "$MNT/nodes/$NODE/unschedulable")"
	check "$v: uncordon" "$K" uncordon "$NODE"
	check_eq "$v: uncordon in the mount" 0 "$(cat "$MNT/nodes/$NODE/unschedulable")"

	out=$("$K" delete -f "$WORK/$n.yaml" 2>&1)
	check_contains "$v: delete -f" "$out" "deployment.apps \"$n\" deleted"
	check_not "$v: the Deployment's file is gone" test -e "$D/$n.yaml"
	check "$v: its pods go" wait_until 60 sh -c "! ls '$MNT/pods' | grep -q '^$n-'"
}

# Every kubectl there is: gcloud's 1.32 and 1.27 where installed, and
# Debian's own (kubernetes-client, 1.20), which scripts/deps.sh installs on
# a machine with no kubectl or extracts into build/tools.
K=
for v in $(kubectl_versions); do
	tour "$v" "$(kubectl_bin "$v")"
	K=${K:-$(kubectl_bin "$v")}
done
[ -n "$K" ] || cfs_abort "no kubectl found"

# drain last: it evicts what runs on the node.
web_deployment drainme 1 >"$WORK/drainme.yaml"
sed -i 's/image: nginx:1.25/image: busybox:latest\n        command: ["sleep", "3600"]/' "$WORK/drainme.yaml"
cp "$WORK/drainme.yaml" "$D/" || fail "drainme written"
check "drainme runs" wait_until 30 sh -c "grep -q Running $MNT/pods/drainme-*/phase"
out=$("$K" drain "$NODE" --ignore-daemonsets --timeout=60s 2>&1)
check_contains "drain evicts the pod" "$out" "evicting pod"
check_eq "drain: cordoned in the mount" 1 "$(cat "$MNT/nodes/$NODE/unschedulable")"
check "$K uncordon after drain" "$K" uncordon "$NODE"

cfs_done
