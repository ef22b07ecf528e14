#!/bin/bash
# t_ctl_sched.sh - the scheduler on 5 hollow nodes (cpu 4, memory 16Gi):
# NodeResourcesFit (a pod of cpu 3 fits; 5 fit, one per node, the 6th
# stays Pending with PodScheduled=False and the FailedScheduling message
# "0/5 nodes are available: 5 Insufficient cpu."; it is bound once room
# is made; memory likewise), nodeSelector (hostname, and a label added
# with sed -i, which also unblocks a pending pod), required node affinity
# (In, NotIn), taints and tolerations (NoSchedule), cordon and uncordon
# with nodes/NAME/unschedulable.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
RSD=$MNT/replicasets
P=$MNT/pods

. "$(dirname "$0")/lib_ctl.sh"

# mkpod NAME REQUESTS [SPEC-LINES]: writes pods/NAME.yaml: one busybox
# container with resources.requests REQUESTS (a flow mapping, or "-" for
# none) and SPEC-LINES (YAML under spec, indented by 2) before it.
mkpod() {
	local name=$1 req=$2 extra=${3:-}
	{
		printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels:\n    test: sched\nspec:\n' "$name"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		printf '  containers:\n  - name: main\n    image: busybox:1.36\n'
		[ "$req" != "-" ] && printf '    resources:\n      requests: %s\n' "$req"
	} >"$WORK/$name.yaml"
	cp "$WORK/$name.yaml" "$P/$name.yaml"
}

# mkdeploy NAME REPLICAS [SPEC-LINES]: a Deployment of busybox pods
# labeled app: NAME; SPEC-LINES go under spec.template.spec, indented by 6.
mkdeploy() {
	local name=$1 n=$2 extra=${3:-}
	{
		printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  replicas: %s\n' "$name" "$n"
		printf '  selector:\n    matchLabels:\n      app: %s\n  template:\n    metadata:\n      labels:\n        app: %s\n    spec:\n' "$name" "$name"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		printf '      containers:\n      - name: main\n        image: busybox:1.36\n'
	} >"$WORK/$name.yaml"
	cp "$WORK/$name.yaml" "$D/$name.yaml"
}

# yedit PATH PYTHON: read-modify-write of an object's YAML (the object is
# `o` in PYTHON), written back with cp; retried on a conflict.
CTL_PYEDIT='
import sys, yaml
o = yaml.safe_load(open(sys.argv[1], "rb"))
exec(sys.argv[3], {"o": o})
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(o, f, sort_keys=False)
'
yedit() {
	local n=0
	while [ $n -lt 5 ]; do
		"$PY" -c "$CTL_PYEDIT" "$1" "$WORK/edit.yaml" "$2" || return 1
		cp "$WORK/edit.yaml" "$1" 2>"$WORK/edit.err" && return 0
		n=$((n + 1))
		sleep 0.2
	done
	cat "$WORK/edit.err" >&2
	return 1
}

node_of() {
	cat "$P/$1/node" 2>/dev/null
}
bound() {
	[ -n "$(node_of "$1")" ]
}
running() {
	[ "$(cat "$P/$1/phase" 2>/dev/null)" = Running ]
}
bound_running() {
	bound "$1" && running "$1"
}
# unsched NAME: the pod's PodScheduled condition is False.
unsched() {
	[ "$(yvals "$P/$1/status" conditions.cond=PodScheduled.status)" = False ]
}
sched_msg() {
	yvals "$P/$1/status" conditions.cond=PodScheduled.message
}
# nodes_of PREFIX: the nodes of the pods whose names start with PREFIX, as
# "NODE:COUNT " sorted.
nodes_of() {
	pods_table | awk -v p="$1" 'index($1, p) == 1 { print $3 }' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'
}
# all_bound_running PREFIX N: N pods named PREFIX*, all bound and Running.
all_bound_running() {
	[ "$(pods_table | awk -v p="$1" 'index($1, p) == 1 && $3 != "-" && $2 == "Running"' | grep -c .)" = "$2" ]
}
pod_state() {
	echo "pods/$1: node '$(node_of "$1")', phase $(cat "$P/$1/phase" 2>&1)"
	echo "status: $(cat "$P/$1/status" 2>&1)"
	echo "events: $(cat "$P/$1/events" 2>&1)"
}

# The server, with 5 hollow nodes.

cfs_start --hollow-nodes 5 || cfs_abort "server starts with --hollow-nodes 5"
if ! wait_until 10 test -f "$MNT/nodes/hollow-5.yaml"; then
	cfs_abort "the hollow nodes are registered (nodes/: $(ls "$MNT/nodes" | tr '\n' ' '))"
fi
wait_until 10 grep -q 'nodes: *5 ready, 0 not ready' "$MNT/status"
check_contains "cluster status: 5 nodes ready" "$(cat "$MNT/status")" "5 ready, 0 not ready"
check_eq "hollow-1 allocatable: cpu 4, memory 16Gi, pods 110" "4 16Gi 110" \
	"$(yvals "$MNT/nodes/hollow-1.yaml" status.allocatable.cpu status.allocatable.memory status.allocatable.pods)"
HOLLOW_RE='^hollow-[1-5]$'
# A pod that fits nowhere is retried when something changes (a pod deleted,
# a node relabeled, untainted, uncordoned; at most once a second) and every
# 10 s regardless.  The waits for those retries are 5 s: each passes on the
# 10 s timer alone half the time at best, all four of them rarely.

# NodeResourcesFit: cpu.

mkpod p-big-1 '{cpu: "3"}'
if wait_until 10 bound_running p-big-1; then ok "a pod requesting cpu 3 is bound and Running"; else fail "a pod requesting cpu 3 is bound and Running" "$(pod_state p-big-1)"; fi
n1=$(node_of p-big-1)
if [[ $n1 =~ $HOLLOW_RE ]]; then ok "pods/p-big-1/node names a hollow node ($n1)"; else fail "pods/p-big-1/node names a hollow node" "got '$n1'"; fi
check_eq "p-big-1 spec.nodeName = pods/p-big-1/node" "\"$n1\"" "$(yget "$P/p-big-1.yaml" spec.nodeName)"
check_eq "p-big-1: PodScheduled True, Ready True" "True True" "$(yvals "$P/p-big-1/status" conditions.cond=PodScheduled.status conditions.cond=Ready.status)"
check_contains "pods/p-big-1/events: Scheduled to $n1" "$(cat "$P/p-big-1/events")" "Normal Scheduled pod/p-big-1 Successfully assigned default/p-big-1 to $n1"
check_contains "nodes/$n1/pods lists p-big-1" "$(cat "$MNT/nodes/$n1/pods")" "p-big-1"

for i in 2 3 4 5; do mkpod p-big-$i '{cpu: "3"}'; done
if wait_until 15 all_bound_running p-big- 5; then ok "5 pods of cpu 3 are bound and Running"; else fail "5 pods of cpu 3 are bound and Running" "$(pods_table)"; fi
check_eq "the 5 pods of cpu 3 are on 5 different nodes" "hollow-1:1 hollow-2:1 hollow-3:1 hollow-4:1 hollow-5:1 " "$(nodes_of p-big-)"

mkpod p-big-6 '{cpu: "3"}'
if wait_until 10 unsched p-big-6; then ok "the 6th pod of cpu 3 gets PodScheduled=False"; else fail "the 6th pod of cpu 3 gets PodScheduled=False" "$(pod_state p-big-6)"; fi
check_eq "p-big-6: message 0/5 nodes are available: 5 Insufficient cpu." "0/5 nodes are available: 5 Insufficient cpu." "$(sched_msg p-big-6)"
check_eq "p-big-6: reason Unschedulable" Unschedulable "$(yvals "$P/p-big-6/status" conditions.cond=PodScheduled.reason)"
check_eq "p-big-6: phase Pending" Pending "$(cat "$P/p-big-6/phase")"
check_eq "p-big-6: pods/p-big-6/node is empty" "" "$(node_of p-big-6)"
check_contains "pods/p-big-6/events: FailedScheduling with the message" "$(cat "$P/p-big-6/events")" \
	"Warning FailedScheduling pod/p-big-6 0/5 nodes are available: 5 Insufficient cpu."
check_contains "/cluster/events: FailedScheduling with the message" "$(cat "$MNT/events")" \
	"Warning FailedScheduling pod/p-big-6 0/5 nodes are available: 5 Insufficient cpu."
sleep 1
check_eq "1 s later p-big-6 is still not bound" "" "$(node_of p-big-6)"

# A smaller pod still fits (each node has cpu 1 left); memory is counted too.
mkpod p-small '{cpu: "500m"}'
if wait_until 10 bound_running p-small; then ok "a pod of cpu 500m still fits"; else fail "a pod of cpu 500m still fits" "$(pod_state p-small)"; fi
mkpod p-mem '{memory: "17Gi"}'
if wait_until 10 unsched p-mem; then ok "a pod of memory 17Gi gets PodScheduled=False"; else fail "a pod of memory 17Gi gets PodScheduled=False" "$(pod_state p-mem)"; fi
check_eq "p-mem: message 0/5 nodes are available: 5 Insufficient memory." "0/5 nodes are available: 5 Insufficient memory." "$(sched_msg p-mem)"
mkpod p-both '{cpu: "3", memory: "17Gi"}'
wait_until 10 unsched p-both
check_eq "p-both (cpu 3, memory 17Gi): both reasons, sorted" \
	"0/5 nodes are available: 5 Insufficient cpu, 5 Insufficient memory." "$(sched_msg p-both)"

# Room made: p-big-1 goes, p-big-6 takes its place.
check "rm pods/p-big-1.yaml" rm "$P/p-big-1.yaml"
if wait_until 5 bound_running p-big-6; then ok "once p-big-1 is deleted, p-big-6 is bound and Running"; else fail "once p-big-1 is deleted, p-big-6 is bound and Running" "$(pod_state p-big-6)"; fi
check_eq "p-big-6 went to p-big-1's node, the only one with cpu 3 free" "$n1" "$(node_of p-big-6)"
check_eq "p-big-6: PodScheduled True now" True "$(yvals "$P/p-big-6/status" conditions.cond=PodScheduled.status)"
check_eq "p-mem is still not bound" "" "$(node_of p-mem)"

# Clean up for the next part.
rm -f "$P"/*.yaml
if wait_until 15 sh -c "[ -z \"\$(ls '$P')\" ]"; then ok "rm pods/*.yaml: every pod is gone"; else fail "rm pods/*.yaml: every pod is gone" "$(pods_table)"; fi

# nodeSelector.

mkpod p-host2 - '  nodeSelector:
    kubernetes.io/hostname: hollow-2'
if wait_until 10 bound_running p-host2; then ok "nodeSelector hostname hollow-2: bound and Running"; else fail "nodeSelector hostname hollow-2: bound and Running" "$(pod_state p-host2)"; fi
check_eq "nodeSelector hostname hollow-2: on hollow-2" hollow-2 "$(node_of p-host2)"

mkpod p-ssd - '  nodeSelector:
    disk: ssd'
if wait_until 10 unsched p-ssd; then ok "nodeSelector disk: ssd, which no node has: PodScheduled=False"; else fail "nodeSelector disk: ssd, which no node has: PodScheduled=False" "$(pod_state p-ssd)"; fi
check_eq "p-ssd: message names the selector" "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector." "$(sched_msg p-ssd)"
if sed -i '/^  labels:$/a\    disk: ssd' "$MNT/nodes/hollow-4.yaml"; then ok "sed -i adds the label disk: ssd to nodes/hollow-4.yaml"; else fail "sed -i adds the label disk: ssd to nodes/hollow-4.yaml" "$(tail -n 2 "$MNT/errors")"; fi
check_eq "hollow-4 has the label disk: ssd (and keeps its others)" "ssd hollow-4 hollow" \
	"$(yvals "$MNT/nodes/hollow-4.yaml" metadata.labels.disk 'metadata.labels.kubernetes\.io/hostname' metadata.labels.type)"
if wait_until 5 bound_running p-ssd; then ok "after the label is added, p-ssd is bound and Running"; else fail "after the label is added, p-ssd is bound and Running" "$(pod_state p-ssd)"; fi
check_eq "p-ssd is on hollow-4" hollow-4 "$(node_of p-ssd)"

# Required node affinity.

mkdeploy aff 4 '      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/hostname
                operator: In
                values: [hollow-3, hollow-5]'
if wait_until 15 all_bound_running aff- 4; then ok "Deployment aff (affinity In [hollow-3, hollow-5]): 4 pods bound and Running"; else fail "Deployment aff: 4 pods bound and Running" "$(pods_table)"; fi
check_eq "affinity In: the 4 pods are on hollow-3 and hollow-5 only, spread 2 and 2" "hollow-3:2 hollow-5:2 " "$(nodes_of aff-)"
mkpod p-notin - '  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: kubernetes.io/hostname
            operator: NotIn
            values: [hollow-1, hollow-2, hollow-3, hollow-4]'
if wait_until 10 bound_running p-notin; then ok "affinity NotIn [hollow-1..4]: bound"; else fail "affinity NotIn [hollow-1..4]: bound" "$(pod_state p-notin)"; fi
check_eq "affinity NotIn [hollow-1..4]: on hollow-5" hollow-5 "$(node_of p-notin)"
mkpod p-nowhere - '  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: kubernetes.io/hostname
            operator: In
            values: [hollow-9]'
if wait_until 10 unsched p-nowhere; then ok "affinity In [hollow-9]: PodScheduled=False"; else fail "affinity In [hollow-9]: PodScheduled=False" "$(pod_state p-nowhere)"; fi
check_eq "affinity In [hollow-9]: the message" "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector." "$(sched_msg p-nowhere)"
rm -f "$P/p-nowhere.yaml"

# Taints and tolerations.

if yedit "$MNT/nodes/hollow-3.yaml" 'o["spec"] = o.get("spec") or {}
o["spec"].setdefault("taints", []).append({"key": "dedicated", "value": "special", "effect": "NoSchedule"})'; then
	ok "taint hollow-3 with dedicated=special:NoSchedule (its YAML, written back)"
else
	fail "taint hollow-3 with dedicated=special:NoSchedule" "$(tail -n 2 "$MNT/errors")"
fi
check_eq "nodes/hollow-3.yaml shows the taint" "dedicated special NoSchedule" \
	"$(yvals "$MNT/nodes/hollow-3.yaml" spec.taints.0.key spec.taints.0.value spec.taints.0.effect)"
mkdeploy spread 12
if wait_until 15 all_bound_running spread- 12; then ok "Deployment spread (12, no toleration): all bound and Running"; else fail "Deployment spread (12, no toleration): all bound and Running" "$(pods_table)"; fi
got=$(nodes_of spread-)
check_not_contains "no pod of spread is on the tainted hollow-3 ($got)" "$got" "hollow-3"
check_eq "spread's 12 pods use the 4 other nodes" 4 "$(printf '%s' "$got" | wc -w)"
check_eq "the aff pods on hollow-3 stay (NoSchedule does not evict)" "hollow-3:2 hollow-5:2 " "$(nodes_of aff-)"

mkpod p-tol - '  nodeSelector:
    kubernetes.io/hostname: hollow-3
  tolerations:
  - key: dedicated
    operator: Equal
    value: special
    effect: NoSchedule'
if wait_until 10 bound_running p-tol; then ok "a pod tolerating dedicated=special lands on hollow-3"; else fail "a pod tolerating dedicated=special lands on hollow-3" "$(pod_state p-tol)"; fi
check_eq "p-tol is on hollow-3" hollow-3 "$(node_of p-tol)"
mkpod p-wrongtol - '  nodeSelector:
    kubernetes.io/hostname: hollow-3
  tolerations:
  - key: dedicated
    operator: Equal
    value: other
    effect: NoSchedule'
mkpod p-notol - '  nodeSelector:
    kubernetes.io/hostname: hollow-3'
if wait_until 10 unsched p-notol; then ok "a pod for hollow-3 without the toleration: PodScheduled=False"; else fail "a pod for hollow-3 without the toleration: PodScheduled=False" "$(pod_state p-notol)"; fi
check_eq "p-notol: the message names the taint" \
	"0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: special}, 4 node(s) didn't match Pod's node affinity/selector." \
	"$(sched_msg p-notol)"
if wait_until 5 unsched p-wrongtol; then ok "a toleration of another value (dedicated=other) does not tolerate it"; else fail "a toleration of another value (dedicated=other) does not tolerate it" "$(pod_state p-wrongtol)"; fi
if yedit "$MNT/nodes/hollow-3.yaml" 'o["spec"]["taints"] = [t for t in o["spec"].get("taints") or [] if t.get("key") != "dedicated"]'; then
	ok "remove the taint from hollow-3"
else
	fail "remove the taint from hollow-3" "$(tail -n 2 "$MNT/errors")"
fi
check_eq "nodes/hollow-3.yaml has no dedicated taint" 0 "$(grep -c 'key: dedicated' "$MNT/nodes/hollow-3.yaml")"
if wait_until 5 bound_running p-notol; then ok "once the taint is gone, p-notol is bound"; else fail "once the taint is gone, p-notol is bound" "$(pod_state p-notol)"; fi
check_eq "p-notol is on hollow-3" hollow-3 "$(node_of p-notol)"

# Cordon and uncordon.

before1=$(pods_table | awk '$3 == "hollow-1" { print $1 }' | sort | tr '\n' ' ')
if echo 1 >"$MNT/nodes/hollow-1/unschedulable"; then ok "echo 1 > nodes/hollow-1/unschedulable"; else fail "echo 1 > nodes/hollow-1/unschedulable"; fi
check_eq "nodes/hollow-1/unschedulable reads 1" 1 "$(cat "$MNT/nodes/hollow-1/unschedulable")"
check_eq "hollow-1.yaml: spec.unschedulable true" true "$(yget "$MNT/nodes/hollow-1.yaml" spec.unschedulable)"
has_unsched_taint() {
	grep -q 'node.kubernetes.io/unschedulable' "$MNT/nodes/hollow-1.yaml"
}
if wait_until 5 has_unsched_taint; then ok "the cordoned node gets the taint node.kubernetes.io/unschedulable"; else fail "the cordoned node gets the taint node.kubernetes.io/unschedulable" "$(yget "$MNT/nodes/hollow-1.yaml" spec)"; fi
mkdeploy cord 8
if wait_until 15 all_bound_running cord- 8; then ok "Deployment cord (8) after the cordon: all bound and Running"; else fail "Deployment cord (8) after the cordon: all bound and Running" "$(pods_table)"; fi
got=$(nodes_of cord-)
check_not_contains "no pod of cord is on the cordoned hollow-1 ($got)" "$got" "hollow-1"
check_eq "the pods already on hollow-1 stay (a cordon does not evict)" "$before1" \
	"$(pods_table | awk '$3 == "hollow-1" { print $1 }' | sort | tr '\n' ' ')"
mkpod p-h1 - '  nodeSelector:
    kubernetes.io/hostname: hollow-1'
if wait_until 10 unsched p-h1; then ok "a pod for hollow-1 while cordoned: PodScheduled=False"; else fail "a pod for hollow-1 while cordoned: PodScheduled=False" "$(pod_state p-h1)"; fi
check_eq "p-h1: the message says unschedulable" \
	"0/5 nodes are available: 1 node(s) were unschedulable, 4 node(s) didn't match Pod's node affinity/selector." \
	"$(sched_msg p-h1)"
if echo 0 >"$MNT/nodes/hollow-1/unschedulable"; then ok "echo 0 > nodes/hollow-1/unschedulable (uncordon)"; else fail "echo 0 > nodes/hollow-1/unschedulable (uncordon)"; fi
check_eq "nodes/hollow-1/unschedulable reads 0" 0 "$(cat "$MNT/nodes/hollow-1/unschedulable")"
if wait_until 5 bound_running p-h1; then ok "after the uncordon p-h1 is bound"; else fail "after the uncordon p-h1 is bound" "$(pod_state p-h1)"; fi
check_eq "p-h1 is on hollow-1" hollow-1 "$(node_of p-h1)"
if wait_until 5 eval '! has_unsched_taint'; then ok "the unschedulable taint is removed"; else fail "the unschedulable taint is removed" "$(yget "$MNT/nodes/hollow-1.yaml" spec)"; fi
if echo 12 >"$D/cord/replicas"; then ok "scale cord to 12"; else fail "scale cord to 12"; fi
if wait_until 15 all_bound_running cord- 12; then ok "cord: 12 pods bound and Running"; else fail "cord: 12 pods bound and Running" "$(pods_table)"; fi
got=$(nodes_of cord-)
check_contains "after the uncordon, new cord pods go to the emptiest node, hollow-1 ($got)" "$got" "hollow-1:"

check_eq "no pod is left unbound" "" "$(pods_table | awk '$3 == "-" { print $1 }')"
check "the server is still running" cfs_alive
check_stop
cfs_done
