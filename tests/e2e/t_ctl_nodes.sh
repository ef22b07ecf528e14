#!/bin/bash
# t_ctl_nodes.sh - node lifecycle on 3 hollow nodes with --node-grace 6
# and --default-toleration-seconds 2: heartbeats keep nodes Ready; a
# paused node (a dead kubelet) becomes Ready=Unknown with the unreachable
# NoExecute taint, its pods are evicted once their toleration (2 s) runs
# out and are replaced on the other nodes; reviving it makes it Ready and
# untainted again.  Drain (nodes/NAME/drain) cordons and evicts; rm
# nodes/NAME.yaml deletes the node and its pods, which are replaced.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
RSD=$MNT/replicasets
P=$MNT/pods
N=$MNT/nodes

. "$(dirname "$0")/lib_ctl.sh"

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

# node_ready NAME: the status of the node's Ready condition.
node_ready() {
	yvals "$N/$1/status" conditions.cond=Ready.status
}
# taints NAME: the node's taints as "KEY:EFFECT" sorted, space-separated.
taints() {
	"$PY" -c '
import sys, yaml
o = yaml.safe_load(open(sys.argv[1], "rb")) or {}
print(" ".join(sorted("%s:%s" % (t.get("key"), t.get("effect")) for t in ((o.get("spec") or {}).get("taints") or []))))
' "$N/$1.yaml"
}
# on_node NAME: the pods bound to node NAME (pods_table), sorted.
on_node() {
	pods_table | awk -v n="$1" '$3 == n { print $1 }' | sort | tr '\n' ' '
}
node_state() {
	echo "nodes/$1/status: $(cat "$N/$1/status" 2>&1)"
	echo "taints: $(taints "$1" 2>&1)"
}

# The server, and a Deployment of 3.

cfs_start --hollow-nodes 3 --node-grace 6 --default-toleration-seconds 2 ||
	cfs_abort "server starts with --hollow-nodes 3 --node-grace 6 --default-toleration-seconds 2"
if ! wait_until 10 test -f "$N/hollow-3.yaml"; then
	cfs_abort "the hollow nodes are registered (nodes/: $(ls "$N" | tr '\n' ' '))"
fi

web_deployment >"$WORK/web.yaml"
check "cp web.yaml (3 replicas)" cp "$WORK/web.yaml" "$D/"
if wait_until 20 deploy_ok web 3; then ok "web reaches 3 Running, Ready pods"; else fail "web reaches 3 Running, Ready pods" "$(state web)"; fi
check_eq "one pod per node" "hollow-1:1 hollow-2:1 hollow-3:1 " \
	"$(pods_table | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')"
p0=$(pods_table | awk 'NR == 1 { print $1 }')
check_eq "the API gave $p0 the default tolerations (2 s)" "node.kubernetes.io/not-ready:NoExecute:2 node.kubernetes.io/unreachable:NoExecute:2" \
	"$("$PY" -c '
import sys, yaml
o = yaml.safe_load(open(sys.argv[1], "rb"))
print(" ".join(sorted("%s:%s:%s" % (t.get("key"), t.get("effect"), t.get("tolerationSeconds")) for t in o["spec"].get("tolerations") or [])))
' "$P/$p0.yaml")"

# Control: heartbeats keep every node Ready for longer than the grace.
# (Grace 6 s, heartbeats every second: a loaded machine has 5 s of slack.)
sleep 7.5
for n in 1 2 3; do
	check_eq "after 7.5 s (grace 6 s) hollow-$n is still Ready True, untainted" "True|" "$(node_ready hollow-$n)|$(taints hollow-$n)"
done
check_contains "cluster status: 3 ready" "$(cat "$MNT/status")" "nodes:        3 ready, 0 not ready"
check "web still has 3 ready pods" deploy_ok web 3

# A dead kubelet: pause hollow-1.

victim=$(on_node hollow-1 | awk '{ print $1 }')
check_eq "one pod on hollow-1 before the pause" 1 "$(on_node hollow-1 | wc -w)"
if yedit "$N/hollow-1.yaml" 'md = o["metadata"]
md["annotations"] = md.get("annotations") or {}
md["annotations"]["hollow.clusterfs.io/paused"] = "true"'; then
	ok "annotate hollow-1 hollow.clusterfs.io/paused: \"true\""
else
	fail "annotate hollow-1 hollow.clusterfs.io/paused: \"true\"" "$(tail -n 2 "$MNT/errors")"
fi
check_eq "hollow-1.yaml carries the annotation" '"true"' "$(yget "$N/hollow-1.yaml" 'metadata.annotations.hollow\.clusterfs\.io/paused')"
t0=$(now_ms)
t_unknown="" t_taint="" t_gone=""
end=$((t0 + 30000))
while [ "$(now_ms)" -lt "$end" ]; do
	if [ -z "$t_unknown" ] && [ "$(node_ready hollow-1)" = Unknown ]; then t_unknown=$(now_ms); fi
	if [ -z "$t_taint" ] && taints hollow-1 | grep -q 'node.kubernetes.io/unreachable:NoExecute'; then t_taint=$(now_ms); fi
	if [ -z "$t_gone" ] && [ ! -e "$P/$victim.yaml" ]; then t_gone=$(now_ms); fi
	[ -n "$t_unknown" ] && [ -n "$t_taint" ] && [ -n "$t_gone" ] && break
	sleep 0.1
done
if [ -n "$t_unknown" ] && [ $((t_unknown - t0)) -le 20000 ]; then
	ok "hollow-1's Ready condition is Unknown within 20 s ($((t_unknown - t0)) ms)"
else
	fail "hollow-1's Ready condition is Unknown within 20 s" "$(node_state hollow-1)"
fi
check_eq "hollow-1 Ready: reason NodeStatusUnknown" NodeStatusUnknown "$(yvals "$N/hollow-1/status" conditions.cond=Ready.reason)"
if [ -n "$t_taint" ] && [ $((t_taint - t0)) -le 20000 ]; then
	ok "hollow-1 carries node.kubernetes.io/unreachable:NoExecute within 20 s ($((t_taint - t0)) ms)"
else
	fail "hollow-1 carries node.kubernetes.io/unreachable:NoExecute within 20 s" "$(node_state hollow-1)"
fi
check_contains "hollow-1 also carries unreachable:NoSchedule (keeps new pods off)" "$(taints hollow-1)" "node.kubernetes.io/unreachable:NoSchedule"
check_eq "the unreachable NoExecute taint has a timeAdded" 1 \
	"$("$PY" -c '
import sys, yaml
o = yaml.safe_load(open(sys.argv[1], "rb"))
print(sum(1 for t in o["spec"]["taints"] if t.get("effect") == "NoExecute" and t.get("timeAdded")))
' "$N/hollow-1.yaml" 2>&1)"
check_contains "cluster status: 2 ready, 1 not ready" "$(cat "$MNT/status")" "nodes:        2 ready, 1 not ready"
if [ -n "$t_gone" ]; then
	ok "the pod on hollow-1 ($victim) is evicted ($((t_gone - t0)) ms after the pause)"
	if [ -n "$t_taint" ] && [ $((t_gone - t_taint)) -ge 900 ]; then
		ok "it was evicted only after its toleration of 2 s ($((t_gone - t_taint)) ms after the taint was seen)"
	else
		fail "it was evicted only after its toleration of 2 s" \
			"after the pause: taint seen at +$([ -n "$t_taint" ] && echo $((t_taint - t0)) || echo never) ms, pod gone at +$((t_gone - t0)) ms"
	fi
else
	fail "the pod on hollow-1 ($victim) is evicted" "$(pods_table)" "$(node_state hollow-1)"
fi
healed() {
	deploy_ok web 3 && [ -z "$(on_node hollow-1)" ]
}
if wait_until 15 healed; then
	ok "web is back to 3 Ready pods, none on hollow-1"
else
	fail "web is back to 3 Ready pods, none on hollow-1" "$(state web)"
fi
check_eq "the pods are on hollow-2 and hollow-3" "hollow-2 hollow-3" \
	"$(pods_table | awk '{ print $3 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"
ev=$(cat "$MNT/events")
check_contains "events: NodeNotReady for hollow-1" "$ev" "NodeNotReady node/hollow-1"
check_contains "events: TaintManagerEviction of $victim" "$ev" "TaintManagerEviction pod/$victim"
check_contains "nodes/hollow-1/events has NodeNotReady" "$(cat "$N/hollow-1/events")" "NodeNotReady node/hollow-1"
sleep 1
check_eq "1 s later still nothing on hollow-1 (no pod scheduled there and evicted again)" "" "$(on_node hollow-1)"

# Revive it.

if yedit "$N/hollow-1.yaml" 'del o["metadata"]["annotations"]["hollow.clusterfs.io/paused"]'; then
	ok "remove the paused annotation from hollow-1"
else
	fail "remove the paused annotation from hollow-1" "$(tail -n 2 "$MNT/errors")"
fi
revived() {
	[ "$(node_ready hollow-1)" = True ] && [ -z "$(taints hollow-1)" ]
}
if wait_until 10 revived; then
	ok "hollow-1 is Ready True again and its taints are gone"
else
	fail "hollow-1 is Ready True again and its taints are gone" "$(node_state hollow-1)"
fi
check_contains "cluster status: 3 ready again" "$(cat "$MNT/status")" "nodes:        3 ready, 0 not ready"
sleep 7
check_eq "7 s later (grace 6 s) hollow-1 is still Ready (heartbeats resumed)" "True|" "$(node_ready hollow-1)|$(taints hollow-1)"
check "web still has 3 ready pods" deploy_ok web 3

# Drain hollow-2.

drained=$(on_node hollow-2)
if [ -n "$drained" ]; then ok "hollow-2 has pods before the drain ($drained)"; else fail "hollow-2 has pods before the drain" "$(pods_table)"; fi
check "nodes/hollow-2/drain exists" test -e "$N/hollow-2/drain"
check_eq "nodes/hollow-2/drain reads 0 before the drain" 0 "$(cat "$N/hollow-2/drain" 2>&1)"
if echo 1 >"$N/hollow-2/drain"; then ok "echo 1 > nodes/hollow-2/drain"; else fail "echo 1 > nodes/hollow-2/drain" "$(tail -n 2 "$MNT/errors")"; fi
check_eq "hollow-2 is cordoned: unschedulable reads 1" 1 "$(cat "$N/hollow-2/unschedulable")"
drain_done() {
	deploy_ok web 3 && [ -z "$(on_node hollow-2)" ] && [ -z "$(cat "$N/hollow-2/pods")" ]
}
drain_reads() {
	[ "$(cat "$N/hollow-2/drain")" = 1 ]
}
if wait_until 15 drain_done; then
	ok "after the drain: no pod on hollow-2, web has 3 Ready pods elsewhere"
else
	fail "after the drain: no pod on hollow-2, web has 3 Ready pods elsewhere" "$(state web)"
fi
if wait_until 5 drain_reads; then ok "nodes/hollow-2/drain reads 1 once drained"; else fail "nodes/hollow-2/drain reads 1 once drained" "got $(cat "$N/hollow-2/drain" 2>&1)"; fi
for p in $drained; do
	check_not "the drained pod $p is gone" test -e "$P/$p.yaml"
	check_contains "events: Evicted for $p" "$(cat "$MNT/events")" "Evicted pod/$p"
done
sleep 1
check_eq "1 s later still nothing on hollow-2" "" "$(on_node hollow-2)"
check_eq "hollow-2 stays Ready (a drain is not a failure)" True "$(node_ready hollow-2)"
if echo 0 >"$N/hollow-2/unschedulable"; then ok "uncordon hollow-2"; else fail "uncordon hollow-2"; fi
check_eq "after the uncordon nodes/hollow-2/drain reads 0" 0 "$(cat "$N/hollow-2/drain" 2>&1)"

# rm a node.

if echo 6 >"$D/web/replicas"; then ok "scale web to 6"; else fail "scale web to 6"; fi
if wait_until 15 deploy_ok web 6; then ok "web has 6 Ready pods"; else fail "web has 6 Ready pods" "$(state web)"; fi
lost=$(on_node hollow-3)
if [ -n "$lost" ]; then ok "hollow-3 has pods ($lost)"; else fail "hollow-3 has pods" "$(pods_table)"; fi
check "rm nodes/hollow-3.yaml" rm "$N/hollow-3.yaml"
check_not "nodes/hollow-3.yaml is gone" test -e "$N/hollow-3.yaml"
replaced() {
	local p
	for p in $lost; do [ -e "$P/$p.yaml" ] && return 1; done
	deploy_ok web 6 && [ -z "$(on_node hollow-3)" ]
}
if wait_until 15 replaced; then
	ok "the pods of hollow-3 are deleted and replaced: 6 Ready pods on hollow-1 and hollow-2"
else
	fail "the pods of hollow-3 are deleted and replaced: 6 Ready pods on hollow-1 and hollow-2" "$(state web)"
fi
check_eq "the pods are on hollow-1 and hollow-2" "hollow-1 hollow-2" \
	"$(pods_table | awk '{ print $3 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"
sleep 2
check_eq "2 s later hollow-3 has not come back" "hollow-1 hollow-1.yaml hollow-2 hollow-2.yaml" "$(ls "$N" | tr '\n' ' ' | sed 's/ $//')"
check_contains "cluster status: 2 ready, 0 not ready" "$(cat "$MNT/status")" "nodes:        2 ready, 0 not ready"

check "the server is still running" cfs_alive
check_stop
cfs_done
