#!/bin/bash
# t_metrics.sh - resource metrics end to end, with a report every second
# (CFS_METRICS_PERIOD_MS=1000): a real busybox pod burning CPU under a
# 500m limit and an idle one on the server's own node; their usage in
# pods/P/usage, /cluster/top, kubectl top pods (-A) and the raw
# metrics.k8s.io API; the node in nodes/N/usage and kubectl top nodes; a
# pod with no sample (pending) as an empty table; a hollow node's pod
# reporting what the hollow-usage ConfigMap says, following a change, and
# expiring once its node is paused; reports over HTTP, and a remote
# `clusterfs agent` (joined: a node credential) whose CPU-burning pod's
# usage arrives that way; a pod deleted.
# e2e-time-limit: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_http.sh"

NODE=t-metrics
export CFS_METRICS_PERIOD_MS=1000
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name "$NODE" --hollow-nodes 1 || cfs_abort "server did not start"
http_env
K=$(kubectl_newest)
P=$MNT/pods

# pod NAME NODE APP COMMAND [CPU LIMIT]
pod() {
	cat >"$WORK/$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $3}
spec:
  nodeName: $2
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "$4"]
    resources:
      limits: {cpu: "${5:-1}"}
EOF
	cp "$WORK/$1.yaml" "$P/" || fail "pod $1 written"
}

# total POD COLUMN: the TOTAL line's column (2: millicores, 3: bytes) of pods/POD/usage.
total() { awk -v c="$2" '$1 == "TOTAL" { print $c }' "$P/$1/usage"; }
# over POD COLUMN MIN: the TOTAL column is at least MIN.
over() { local v; v=$(total "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
under() { local v; v=$(total "$1" "$2"); [ -n "$v" ] && [ "$v" -le "$3" ]; }

pod burn "$NODE" burn 'while :; do :; done' 500m
pod idle "$NODE" idle 'exec sleep 3600'
check "burn runs" wait_until 60 grep -q Running "$P/burn/phase"
check "idle runs" wait_until 60 grep -q Running "$P/idle/phase"

# The files
check "pods/burn/usage: the burning pod uses hundreds of millicores" wait_until 30 over burn 2 200
check "pods/burn/usage: within its 500m limit" under burn 2 650
check "pods/idle/usage: the idle pod near 0" wait_until 20 under idle 2 20
check_eq "pods/burn/usage: the header line" "CONTAINER CPU(m) MEMORY(bytes)" \
	"$(head -n 1 "$P/burn/usage" | tr -s ' ')"
check "pods/burn/usage: a line for container main" grep -Eq '^main +[0-9]+ +[0-9]+$' "$P/burn/usage"
check "pods/idle/usage: memory in bytes, above 0" over idle 3 1
top=$(cat "$MNT/top")
check_eq "/cluster/top: kubectl's header" "NAMESPACE NAME CPU(cores) MEMORY(bytes)" \
	"$(printf '%s\n' "$top" | head -n 1 | tr -s ' ')"
check "/cluster/top: burn with millicores and Mi" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^default +burn +[0-9]+m +[0-9]+Mi\$'" sh "$top"
check "/cluster/top: sort -k3 -n puts burn last" sh -c \
	"sort -k3 -n '$MNT/top' | tail -n 1 | grep -q burn"
check "/cluster/top: awk sums the CPU column" sh -c \
	"awk 'NR > 1 { s += \$3 } END { exit !(s >= 200) }' '$MNT/top'"

# kubectl top and the raw API
out=$("$K" top pods 2>&1)
check "kubectl top pods: burn in hundreds of millicores" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^burn +[2-6][0-9][0-9]m +[0-9]+Mi'" sh "$out" ||
	echo "# $out"
check_contains "kubectl top pods: idle" "$out" "idle"
out=$("$K" top pods -A 2>&1)
check "kubectl top pods -A: the namespace column" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^default +burn +[0-9]+m'" sh "$out" || echo "# $out"
out=$("$K" top pods -l app=idle 2>&1)
check_not_contains "kubectl top pods -l app=idle: burn is not selected" "$out" "burn"
check_contains "kubectl top pods -l app=idle: idle is" "$out" "idle"
out=$("$K" top pod burn --containers 2>&1)
check "kubectl top pod burn --containers: its container" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^burn +main +[0-9]+m'" sh "$out" || echo "# $out"
K27=$(kubectl_bin 1.27)
if [ -n "$K27" ]; then
	out=$("$K27" top pods 2>&1)
	check_contains "kubectl 1.27 top pods: burn" "$out" "burn"
fi
raw=$("$K" get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burn 2>&1)
check_eq "get --raw: a PodMetrics" "PodMetrics metrics.k8s.io/v1beta1 main" \
	"$(printf '%s' "$raw" | jv 'd["kind"] + " " + d["apiVersion"] + " " + d["containers"][0]["name"]')"
check "get --raw: cpu in nanocores" sh -c "printf '%s' \"\$1\" | grep -Eq '\"cpu\": *\"[0-9]+n\"'" sh "$raw"
a /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope >/dev/null
check_eq "a pod that does not exist: 404" 404 "$(code)"
a /apis >"$WORK/apis.json"
check_contains "/apis lists metrics.k8s.io" "$(cat "$WORK/apis.json")" "metrics.k8s.io/v1beta1"

# The node
check "nodes/$NODE/usage: CPU and memory of the machine" wait_until 10 sh -c \
	"awk 'NR == 2 && \$1 ~ /^[0-9]+\$/ && \$3 > 0 { ok = 1 } END { exit !ok }' '$MNT/nodes/$NODE/usage'"
out=$("$K" top nodes 2>&1)
check "kubectl top nodes: the node" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^$NODE +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+%'" sh "$out" ||
	echo "# $out"

# A pod with no sample: the header alone.
pod waits nowhere waits 'sleep 1'
check_eq "a pending pod's usage is an empty table" 1 "$(wc -l <"$P/waits/usage")"

# A hollow node's pod: the ConfigMap's load, and a change followed.
cat >"$WORK/cm.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: hollow-usage}
data:
  web: cpu=200m,memory=50Mi
  default: cpu=5m,memory=2Mi
EOF
cp "$WORK/cm.yaml" "$MNT/configmaps/" || fail "hollow-usage written"
pod hweb hollow-1 web 'true'
pod hother hollow-1 other 'true'
check "hollow pod: reports the ConfigMap's 200m" wait_until 10 sh -c \
	"[ \"\$(awk '\$1 == \"TOTAL\" { print \$2 }' '$P/hweb/usage')\" = 200 ]"
check_eq "hollow pod: and its 50Mi" 52428800 "$(total hweb 3)"
check_eq "hollow pod without a key of its own: the default" "5 2097152" \
	"$(total hother 2) $(total hother 3)"
echo "cpu=700m,memory=64Mi" >"$MNT/configmaps/hollow-usage/data/web"
check "hollow pod: follows the ConfigMap's change" wait_until 5 sh -c \
	"[ \"\$(awk '\$1 == \"TOTAL\" { print \$2 }' '$P/hweb/usage')\" = 700 ]"
out=$("$K" top nodes hollow-1 2>&1)
check "kubectl top nodes hollow-1: the sum of its pods" sh -c \
	"printf '%s\n' \"\$1\" | grep -Eq '^hollow-1 +705m'" sh "$out" || echo "# $out"

# A paused hollow node (a dead kubelet) reports nothing: its pods' samples
# expire after three periods.
check "kubectl annotate: pause hollow-1" "$K" annotate node hollow-1 hollow.clusterfs.io/paused=true
check "a paused hollow node's pod has no usage after 3 periods" wait_until 10 sh -c \
	"[ \"\$(wc -l <'$P/hweb/usage')\" = 1 ]"
check_not_contains "and is not in /cluster/top" "$(cat "$MNT/top")" "hweb"

# A report over HTTP: the admin may report, a bad one is refused.
a /apis/metrics.k8s.io/v1beta1/nodes/hollow-1/report -X POST -H 'Content-Type: application/json' \
	--data '{"pods": "no"}' >/dev/null
check_eq "a malformed report: 400" 400 "$(code)"
a /apis/metrics.k8s.io/v1beta1/nodes/hollow-1/report -X POST -H 'Content-Type: application/json' \
	--data '{"pods": []}' >/dev/null
check_eq "an empty report of the admin's: 200" 200 "$(code)"
a /apis/metrics.k8s.io/v1beta1/nodes/hollow-1/report >/dev/null
check_eq "GET on the report endpoint: 405" 405 "$(code)"
# With a node's credential (a join as n9): itself only, and only its pods.
secret=$(cut -d. -f3 "$DATA/node-token")
cred=$(c /v1-clusterfs/join -X POST -H "Authorization: Bearer $secret" --data '{"node": "n9"}' |
	jv 'd["token"]')
n9() {
	c "/apis/metrics.k8s.io/v1beta1/nodes/$1/report" -X POST -H "Authorization: Bearer $cred" \
		-H 'Content-Type: application/json' --data "$2" >/dev/null
	code
}
check_eq "node n9 reports itself: 200" 200 "$(n9 n9 '{"pods": []}')"
check_eq "node n9 reports hollow-1: 403" 403 "$(n9 hollow-1 '{"pods": []}')"
check_eq "node n9 reports a pod of hollow-1: 403" 403 "$(n9 n9 '{"pods": [{"namespace": "default", "name": "hweb", "window": "1s", "containers": []}]}')"
check_eq "a user's token may not report: 403" 403 "$(cred=$("$CLUSTERFS" token issue --data-dir "$DATA" nobody) n9 n9 '{"pods": []}')"

# A remote agent, joined with the node token: its reports go over HTTP
# with its own node credential.
AG=$T_BASE/agent
RNODE=t-metrics-remote
mkdir -p "$AG"
cfs_import_busybox "$AG" || fail "importing busybox for the remote agent"
"$CLUSTERFS" agent --server "$URL" --token "$(cat "$DATA/node-token")" --node-name "$RNODE" \
	--data-dir "$AG" --kubelet-port "$(free_port)" >>"$AG/agent.log" 2>&1 &
AGENT_PID=$!
_cfs_record_pid "$AGENT_PID"
CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $AGENT_PID"
check "the remote agent registers its node" wait_until 30 test -e "$MNT/nodes/$RNODE.yaml"
pod rburn "$RNODE" rburn 'while :; do :; done' 300m
check "rburn runs on the remote node" wait_until 60 grep -q Running "$P/rburn/phase"
check "the remote agent's pod: its usage came over HTTP" wait_until 20 over rburn 2 150
check "and is within its 300m limit" under rburn 2 400
out=$("$K" top nodes 2>&1)
check_contains "kubectl top nodes: the remote node too" "$out" "$RNODE"
check_not "the remote agent logged no refused report" grep -q "metrics report" "$AG/agent.log"

# A pod gone leaves the table (sh as PID 1 ignores SIGTERM: a short grace).
check "kubectl delete pod burn" "$K" delete pod burn --grace-period=1 --wait=false
check "a deleted pod leaves /cluster/top" wait_until 30 sh -c "! grep -q ' burn ' '$MNT/top'"
check_contains "the others stay" "$(cat "$MNT/top")" " idle "

cfs_done
