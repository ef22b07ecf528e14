#!/bin/bash
# t_cluster.sh - a real multi-node cluster on one machine, made by
# scripts/cluster.sh (what `make cluster` runs) with settings of its own
# (CLUSTER_DIR under the test's base dir, MOUNT=$MNT, prefix cfst, net
# 172.30.93.0/24, port 16443), so that it never meets a user's cluster:
# a server with no local pods and three agents (T_CLUSTER_NODES; at least
# 2), each in a network namespace of its own, joined with the node token
# alone, with host-gw routes (T_CLUSTER_ROUTE_MODE=vxlan for the overlay).
#
# Checked: a wrong join token is refused; a Deployment of 6 replicas
# spreads over the agents and runs; a Service's ClusterIP answers from a
# pod on every node and balances over pods on both nodes; DNS resolves in
# pods on every node; the NodePort answers on each node's address (from
# the root namespace); pod to pod across nodes keeps the source address;
# an agent killed with SIGKILL -> its node NotReady and its pods Running
# on the other node within node-grace + toleration + 5 s, with no request
# to the Service (its NodePort on node1, every ~100 ms) failing for longer
# than the grace; the agent
# started again -> its node Ready, the containers of its deleted pods
# removed (never two copies); the server restarted -> no container
# restarted; a node cut off (its link down) -> NotReady within the grace,
# and the Service (NodePort on node1) no longer failing from NotReady +
# 1.5 s on; a node's credential cannot change another node (403); logs
# (the mount, kubectl) and kubectl exec of pods on the agents.
# Commands in pods run with `runc exec` on the node's runc root (the
# test's own containers, on this machine).
# e2e-time-limit: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_http.sh"

export CLUSTER_DIR=$T_BASE/cluster MOUNT=$MNT CLUSTER_PREFIX=cfst CLUSTER_NET=172.30.93
export CLUSTER_PORT=16443 NODES=${T_CLUSTER_NODES:-3} CLUSTERFS
export CLUSTER_SERVER_ARGS="--node-grace 4 --default-toleration-seconds 4"
export CLUSTER_AGENT_ARGS="--node-grace 4 --route-mode ${T_CLUSTER_ROUTE_MODE:-host-gw}"
export CLUSTER_JOIN_WAIT=30
export CFS_BUSYBOX_TAR=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
GRACE=4
TOLERATION=4
P=$MNT/pods
URL=https://$CLUSTER_NET.1:$CLUSTER_PORT

cluster() { sh "$CFS_SRC/scripts/cluster.sh" "$@"; }
t_cleanup() {
	local rc=$?
	[ -n "${probe_pid:-}" ] && kill "$probe_pid" 2>/dev/null
	cluster down >/dev/null 2>&1
	(exit $rc)
	cfs_cleanup
}
trap t_cleanup EXIT

[ -f "$CFS_BUSYBOX_TAR" ] || cfs_abort "no busybox image at $CFS_BUSYBOX_TAR"
command -v nsenter >/dev/null || cfs_abort "nsenter (util-linux) is missing"
if ! cluster up >"$WORK/up.log" 2>&1; then
	sed 's/^/# /' "$WORK/up.log"
	tail -n 20 "$CLUSTER_DIR"/node1.log 2>/dev/null | sed 's/^/#   /'
	cfs_abort "cluster up failed"
fi
ok "cluster up: a server and $NODES agents in their own network namespaces"

node_ready() { [ "$(yvals "$MNT/nodes/$1.yaml" status.conditions.cond=Ready.status 2>/dev/null)" = True ]; }
node_not_ready() { ! node_ready "$1"; }
for i in $(seq 1 "$NODES"); do
	check "node$i joined and is Ready" node_ready "node$i"
done
check "the agents joined with the token alone: node1's credential is kept in its data dir" \
	test -s "$CLUSTER_DIR/node1/join/token"
ncurl() {
	curl -s --cacert "$CLUSTER_DIR/node1/join/ca.crt" \
		-H "Authorization: Bearer $(cat "$CLUSTER_DIR/node1/join/token")" "$@"
}
LEASES=$URL/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases
renew_of() { ncurl "$LEASES/$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["spec"]["renewTime"])'; }
check "node1's Lease is there" wait_until 5 renew_of node1
r1=$(renew_of node1)
sleep 1.5
check_contains "node1 holds its Lease" "$(ncurl "$LEASES/node1")" '"holderIdentity":"node1"'
check "and renews it every heartbeat" test "$r1" != "$(renew_of node1)"
routes_n() { [ "$(ip -n "$CLUSTER_PREFIX-node1" route show proto 207 | wc -l)" -eq $((NODES - 1)) ]; }
check "node1 routes to the $((NODES - 1)) other nodes' pod ranges (${T_CLUSTER_ROUTE_MODE:-host-gw})" \
	wait_until 10 routes_n
check_eq "node1's InternalIP is its --node-ip" "$CLUSTER_NET.11" \
	"$(yvals "$MNT/nodes/node1.yaml" status.addresses.0.address)"

# --- a wrong token -----------------------------------------------------------
JT=$(cat "$CLUSTER_DIR/server/node-token")
BAD=${JT%.*}.$(printf '0%.0s' $(seq 1 64))
out=$(timeout 20 "$CLUSTERFS" agent --server "$URL" --token "$BAD" --node-name t-bad \
	--data-dir "$T_BASE/bad" 2>&1)
rc=$?
check "a wrong join token is refused: the agent exits" test "$rc" -ne 0 -a "$rc" -ne 124
check_contains "with a clear message" "$out" "refused the join token"
check_not "and it made no node" test -e "$MNT/nodes/t-bad.yaml"

# --- a Deployment over the agents -------------------------------------------
cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 6
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command:
        - sh
        - -c
        - |
          mkdir -p /tmp/w/cgi-bin
          hostname >/tmp/w/index.html
          printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$REMOTE_ADDR"\n' >/tmp/w/cgi-bin/ip
          chmod +x /tmp/w/cgi-bin/ip
          echo "hello from $(hostname)"
          exec httpd -f -p 8080 -h /tmp/w
EOF
cat >"$WORK/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
EOF
running() { [ "$(grep -lx Running "$P"/web-*/phase 2>/dev/null | wc -l)" -ge "$1" ]; }
t0=$(now_ms)
cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
cp "$WORK/svc.yaml" "$MNT/services/web.yaml"
check "6 replicas Running" wait_until 60 running 6
t_run=$(($(now_ms) - t0))
ready6() { [ "$(for f in "$P"/web-*.yaml; do yvals "$f" status.containerStatuses.0.ready; done | grep -cx True)" -ge 6 ]; }
check "and ready" wait_until 60 ready6
echo "# 6 replicas over $NODES agents: Running in $t_run ms, ready in $(($(now_ms) - t0)) ms"
on_node() { for d in "$P"/web-*/; do [ "$(cat "$d/node" 2>/dev/null)" = "$1" ] && basename "$d"; done; }
for i in $(seq 1 "$NODES"); do
	check "node$i runs some of them" test "$(on_node "node$i" | wc -l)" -ge 1
done

# pod_sh I CMD: CMD in a running container of node I (runc exec).
ctr_of() { runc --root "$CLUSTER_DIR/node$1/runc" list 2>/dev/null | awk 'NR > 1 && $3 == "running" { print $1; exit }'; }
pod_sh() { timeout 10 runc --root "$CLUSTER_DIR/node$1/runc" exec "$(ctr_of "$1")" sh -c "$2"; }
# get I HOST PORT PATH: the body of an HTTP GET from a pod of node I.
get() { pod_sh "$1" "printf 'GET $4 HTTP/1.0\r\n\r\n' | nc -w 3 $2 $3" | tail -n 1; }
pods_ok() { for i in $(seq 1 "$NODES"); do [ -n "$(ctr_of "$i")" ] || return 1; done; }
check "every node has a running container" wait_until 20 pods_ok

CIP=$(cat "$MNT/services/web/clusterip")
NP=$(yvals "$MNT/services/web.yaml" spec.ports.0.nodePort)
svc_ready() { [ "$(yvals "$MNT/endpoints/web.yaml" subsets.0.addresses | tr -cd '{' | wc -c)" -ge 6 ]; }
wait_until 20 svc_ready
for i in $(seq 1 "$NODES"); do
	: >"$WORK/seen$i"
	# 40 requests: the asking pod is one of the 6 and its own requests go to
	# the other 5, so its node's other pod is missed by 16 requests 2.8 %
	# of the time (a node's check failed so in CI), by 40 0.013 %.
	for _ in $(seq 1 40); do get "$i" "$CIP" 80 / >>"$WORK/seen$i"; done
	nodes=$(sort -u "$WORK/seen$i" | while read -r pod; do cat "$P/$pod/node" 2>/dev/null; echo; done | sort -u | grep -c .)
	check_eq "the ClusterIP answers from a pod on node$i, from pods on $NODES nodes" "$NODES" "$nodes"
	check_contains "DNS resolves in a pod on node$i" \
		"$(pod_sh "$i" "nslookup web.default.svc.cluster.local" 2>&1)" "$CIP"
	check "the Service by its short name from a pod on node$i" \
		test -n "$(get "$i" web 80 / | grep '^web-')"
	check "the NodePort answers on node$i's address ($CLUSTER_NET.$((10 + i)):$NP)" \
		sh -c "curl -s -m 3 http://$CLUSTER_NET.$((10 + i)):$NP/ | grep -q '^web-'"
done
# pod to pod across nodes: the answer is the client pod's own address
p2=$(on_node node2 | head -1)
ip2=$(cat "$P/$p2/ip")
client_ip=$(cat "$P/$(pod_sh 1 hostname)/ip")
check_eq "pod to pod across nodes keeps the source address" "$client_ip" \
	"$(get 1 "$ip2" 8080 /cgi-bin/ip | sed 's/^\[::ffff:\(.*\)\]$/\1/')"

# Logs and exec of pods on remote agents, through their agents (no shared
# disk): the mount and kubectl.
export KUBECONFIG=$CLUSTER_DIR/server/kubeconfig
K=$(kubectl_newest)
for i in 1 2; do
	pi=$(on_node "node$i" | head -1)
	check_contains "cat pods/POD/logs of a pod on node$i (through its agent)" \
		"$(cat "$P/$pi/logs" 2>&1)" "hello from $pi"
	check_contains "kubectl logs of a pod on node$i" "$("$K" --server "$URL" logs "$pi" 2>&1)" \
		"hello from $pi"
	check_eq "kubectl exec in a pod on node$i" "$pi" \
		"$("$K" --server "$URL" exec "$pi" -- hostname 2>&1)"
done

# --- an agent killed ---------------------------------------------------------
runc_all() { for i in $(seq 1 "$NODES"); do runc --root "$CLUSTER_DIR/node$i/runc" list 2>/dev/null | awk -v n="$i" 'NR > 1 && $3 == "running" { print n, $1, $2 }'; done | sort; }
all_elsewhere() {
	local n=0 d
	for d in "$P"/web-*/; do
		[ "$(cat "$d/node" 2>/dev/null)" != node2 ] && [ "$(cat "$d/phase" 2>/dev/null)" = Running ] && n=$((n + 1))
	done
	[ "$n" -ge 6 ]
}
# The Service probed through the failover: its NodePort on node1's address,
# from the root namespace, every ~100 ms (curl -m ${1:-1}); "MS ok|fail" lines, MS the request's start.
probe() {
	rm -f "$WORK/probe.stop"
	while [ ! -e "$WORK/probe.stop" ]; do
		t=$(now_ms)
		if curl -s -m "${1:-1}" -o /dev/null "http://$CLUSTER_NET.11:$NP/"; then
			echo "$t ok"
		else
			echo "$t fail"
		fi
		sleep 0.1
	done >"$WORK/probe.log"
}
# The longest failing stretch (ms): from a run's first failure to the next
# success (or the last probe).
longest_fail() {
	awk '$2 == "fail" && !s { s = $1 } $2 == "ok" && s { if ($1 - s > m) m = $1 - s; s = 0 }
		{ last = $1 } END { if (s && last - s > m) m = last - s; print m + 0 }' "$WORK/probe.log"
}
probe &
probe_pid=$!
sleep 1
kill -KILL "$(cat "$CLUSTER_DIR/node2.pid")"
t0=$(now_ms)
limit=$((GRACE + TOLERATION + 5))
check "node2 goes NotReady within the grace ($GRACE s) + 2 s" wait_until $((GRACE + 2)) node_not_ready node2
check "its pods Running again on the other nodes within $limit s" wait_until "$limit" all_elsewhere
echo "# failover: all 6 Running off node2 $(($(now_ms) - t0)) ms after SIGKILL (limit $limit s)"

cluster start-agent 2 >/dev/null
check "node2's agent started again: Ready" wait_until 20 node_ready node2
gone_removed() { [ -z "$(runc --root "$CLUSTER_DIR/node2/runc" list -q 2>/dev/null)" ]; }
check "the containers of node2's deleted pods are removed" wait_until 20 gone_removed
touch "$WORK/probe.stop"
wait "$probe_pid"
probe_pid=
lf=$(longest_fail)
echo "# Service probes through the failover and the agent's return: $(grep -c ok "$WORK/probe.log") ok, $(grep -c fail "$WORK/probe.log") failed, longest failing stretch $lf ms"
check "no request to the Service (NodePort on node1) failing for longer than the grace ($GRACE s), from the kill to the removal" \
	test "$lf" -le $((GRACE * 1000))
check_eq "never two copies: 6 containers run" 6 "$(runc_all | wc -l)"

# --- the server restarted ----------------------------------------------------
before=$(runc_all)
cluster restart-server >/dev/null 2>&1
check "the server is back" wait_until 20 test -e "$MNT/nodes/node1.yaml"
check "node2 Ready" wait_until 20 node_ready node2
sleep 2
check_eq "no container restarted (same runc containers and PIDs)" "$before" "$(runc_all)"
check_eq "restart counts 0" "0" "$(for f in "$P"/web-*.yaml; do yvals "$f" status.containerStatuses.0.restartCount; done | sort -u | tr '\n' ' ' | sed 's/ $//')"

# --- a node cut off (its link down) --------------------------------------------
# The Service must stop sending to the node's pods once it is NotReady: the
# probe (0.5 s timeout) through node1's NodePort has no failure from
# NotReady + 1.5 s on, and no failing stretch longer than the grace.  The
# link comes back before the toleration has run out.
cut=$NODES
probe 0.5 &
probe_pid=$!
sleep 1
ip link set "$CLUSTER_PREFIX-v$cut" down
check "node$cut cut off (its link down): NotReady within the grace ($GRACE s) + 2 s" \
	wait_until $((GRACE + 2)) node_not_ready "node$cut"
sleep 1.5
mark=$(now_ms)
sleep 2
touch "$WORK/probe.stop"
wait "$probe_pid"
probe_pid=
ip link set "$CLUSTER_PREFIX-v$cut" up
lf=$(longest_fail)
late=$(awk -v m="$mark" '$1 >= m && $2 == "fail"' "$WORK/probe.log" | wc -l)
echo "# Service probes, node$cut cut off: $(grep -c ok "$WORK/probe.log") ok, $(grep -c fail "$WORK/probe.log") failed, longest failing stretch $lf ms, $late failed from NotReady + 1.5 s"
check_eq "no request to the Service failing once node$cut is NotReady (+ 1.5 s)" 0 "$late"
check "no failing stretch longer than the grace ($GRACE s)" test "$lf" -le $((GRACE * 1000))
check "node$cut Ready again with its link back" wait_until 20 node_ready "node$cut"

# --- the node authorizer -----------------------------------------------------
code() { ncurl -o /dev/null -w '%{http_code}' "$@"; }
merge='Content-Type: application/merge-patch+json'
check_eq "node1's credential cannot change node2 (403)" 403 \
	"$(code -X PATCH -H "$merge" -d '{"metadata":{"labels":{"x":"y"}}}' "$URL/api/v1/nodes/node2")"
check_eq "nor node2's Lease (403)" 403 \
	"$(code -X DELETE "$LEASES/node2")"
check_eq "it reads its own Node (200)" 200 "$(code "$URL/api/v1/nodes/node1")"

cfs_done
