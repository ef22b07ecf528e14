#!/bin/bash
# t_nodeipam.sh - the control plane's side of nodes joining, with the real
# kubectl 1.32 and the filesystem, on a server without a local node:
# namespace kube-node-lease from the start; Leases (coordination.k8s.io/v1)
# created, listed, explained, validated; node IPAM giving each node a /24
# of --cluster-cidr (a registered one kept), podCIDR immutable, a full
# range (CIDRNotAvailable) served again when a node goes; a node that
# renews only its Lease stays Ready while one that does not goes Unknown
# after --node-grace; a deleted node's Lease goes with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

K=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$K" ] || cfs_abort "kubectl 1.32 is installed ($K)"
N=$MNT/nodes

cfs_start --cluster-cidr 10.91.0.0/22 --node-cidr-mask-size 24 --node-grace 4 ||
	cfs_abort "server starts and mounts $MNT"
http_env

# kube-node-lease and Leases.
check_contains "kubectl get ns: kube-node-lease" "$("$K" get ns 2>&1)" "kube-node-lease"
check_contains "no leases yet" "$("$K" get leases -n kube-node-lease 2>&1)" "No resources found"
check_contains "api-resources: leases in coordination.k8s.io/v1" \
	"$("$K" api-resources 2>&1 | grep -w leases)" "coordination.k8s.io/v1"
check_contains "kubectl explain lease.spec" "$("$K" explain lease.spec 2>&1)" "renewTime"

now_micro() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }

lease() { # NAME: a Lease renewed now
	cat <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: $1
  namespace: kube-node-lease
spec:
  holderIdentity: $1
  leaseDurationSeconds: 40
  renewTime: "$(now_micro)"
EOF
}

node() { # NAME [PODCIDR]: a Node with Ready True posted now
	cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
${2:+spec:
  podCIDR: $2
  podCIDRs: [$2]}
EOF
}

ready_now() { # NAME: posts Ready=True with a heartbeat now
	local t
	t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	"$K" patch node "$1" --subresource=status --type=merge -p \
		"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"$t\",\"lastTransitionTime\":\"$t\"}]}}" >/dev/null
}

podcidr() { "$K" get node "$1" -o jsonpath='{.spec.podCIDR} {.spec.podCIDRs[0]}' 2>&1; }

wait_for() { # SECONDS COMMAND...: true once COMMAND succeeds
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

cidr_is() { [ "$(podcidr "$1")" = "$2 $2" ]; }
ready_is() { [ "$("$K" get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)" = "$2" ]; }

lease w1 | "$K" apply -f - >/dev/null 2>"$WORK/err"
check_eq "kubectl apply a Lease" "" "$(cat "$WORK/err")"
check_contains "kubectl get leases -n kube-node-lease" "$("$K" get leases -n kube-node-lease 2>&1)" "w1"
check_eq "the Lease's holder" w1 "$("$K" get lease w1 -n kube-node-lease -o jsonpath='{.spec.holderIdentity}' 2>&1)"
check "the Lease in the filesystem" test -f "$MNT/namespaces/kube-node-lease/leases/w1.yaml"
lease bad | sed 's/leaseDurationSeconds: 40/leaseDurationSeconds: 0/' >"$WORK/bad.yaml"
check_contains "leaseDurationSeconds 0 is refused" "$("$K" apply -f "$WORK/bad.yaml" 2>&1)" "leaseDurationSeconds"
lease bad | sed 's/holderIdentity:/holderIdentityy:/' >"$WORK/bad.yaml"
check_contains "an unknown Lease field is refused (strict)" \
	"$("$K" apply --validate=strict -f "$WORK/bad.yaml" 2>&1)" "holderIdentityy"

# Node IPAM.
node w1 | "$K" apply -f - >/dev/null
check "w1 gets the first /24" wait_for 5 cidr_is w1 10.91.0.0/24
node w2 10.91.2.0/24 >"$N/w2.yaml"
node w3 >"$N/w3.yaml"
check "w3 gets the next free one (w2 registered 10.91.2.0/24)" wait_for 5 cidr_is w3 10.91.1.0/24
check "w2 keeps its own" cidr_is w2 10.91.2.0/24
body=$(a /api/v1/nodes/w1 -X PATCH -H 'Content-Type: application/merge-patch+json' \
	-d '{"spec":{"podCIDR":"10.91.3.0/24","podCIDRs":["10.91.3.0/24"]}}')
check_eq "podCIDR cannot change: 422" 422 "$(code)"
check_contains "podCIDR cannot change: the reason" "$body" \
	'spec.podCIDR: Forbidden: node updates may not change podCIDR except from \"\" to valid'
check "w1 keeps its podCIDR" cidr_is w1 10.91.0.0/24
node w4 >"$N/w4.yaml"
check "w4 gets the last one" wait_for 5 cidr_is w4 10.91.3.0/24
node w5 >"$N/w5.yaml"
check "the range is full: w5 gets CIDRNotAvailable" wait_for 5 \
	grep -q CIDRNotAvailable <("$K" get events --field-selector involvedObject.name=w5 2>&1)
check_eq "w5 has no podCIDR" " " "$(podcidr w5)"
check "rm nodes/w3.yaml" rm "$N/w3.yaml"
check "w5 gets w3's subnet" wait_for 5 cidr_is w5 10.91.1.0/24

# Heartbeats: w1 renews its Lease only, w2 nothing.
ready_now w1
ready_now w2
check "w1 and w2 Ready" ready_is w1 True
end=$((SECONDS + 7))
while [ $SECONDS -lt $end ]; do
	lease w1 | "$K" apply -f - >/dev/null 2>&1
	sleep 0.5
done
check_eq "w2 (silent) is Unknown after the grace" Unknown \
	"$("$K" get node w2 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)"
check_eq "w1 (its Lease renewed) is still Ready" True \
	"$("$K" get node w1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)"
check_not_contains "w1 is not tainted unreachable" \
	"$("$K" get node w1 -o jsonpath='{.spec.taints}' 2>&1)" "unreachable"
check "w1 goes Unknown once its Lease is not renewed" wait_for 8 ready_is w1 Unknown

# A deleted node's Lease goes.
"$K" delete node w1 >/dev/null 2>&1
check "w1's Lease is deleted with it" wait_for 5 test ! -e "$MNT/namespaces/kube-node-lease/leases/w1.yaml"

check_contains "a bad --cluster-cidr is refused, named" \
	"$("$CLUSTERFS" server --no-agent --cluster-cidr 10.0.0.0 --mount "$WORK/m2" --data-dir "$WORK/d2" 2>&1)" \
	"--cluster-cidr"
cfs_done
