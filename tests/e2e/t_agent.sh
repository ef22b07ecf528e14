#!/bin/bash
# t_agent.sh - `clusterfs agent`: the node roles over the HTTP API, beside
# a `clusterfs server --no-agent` on the same machine (root network
# namespace, its own data dir; the admin token from the server's
# kubeconfig, the CA from DATA/pki).  A Deployment's pods run to Running
# with real containers, status and restarts show in the server's /cluster;
# the agent killed with -9 and started again adopts its containers (none
# restarted); a server restart restarts no container, the agent logs the
# outage once and goes on; an agent started before its server waits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
NODE=t-agent
AG=$T_BASE/agent
mkdir -p "$AG"
cfs_import_busybox "$AG" || cfs_abort "importing the busybox image failed"
cfs_start --node-grace 40 || cfs_abort "server did not start"

PORT=$(awk '/server: https:/ { n = split($2, a, ":"); print a[n] }' "$DATA/kubeconfig")
TOKEN=$(awk '/token:/ { print $2 }' "$DATA/kubeconfig")
[ -n "$PORT" ] && [ -n "$TOKEN" ] || cfs_abort "no server address or token in $DATA/kubeconfig"
CFS_LISTEN=127.0.0.1:$PORT # the server comes back where the agent looks for it
AGENT_PID=""

agent_start() {
	"$CLUSTERFS" agent --server "https://127.0.0.1:$PORT" --token "$TOKEN" \
		--ca "$DATA/pki/ca.crt" --node-name "$NODE" --data-dir "$AG" "$@" >>"$AG/agent.log" 2>&1 &
	AGENT_PID=$!
	_cfs_record_pid "$AGENT_PID"
	CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $AGENT_PID"
}
agent_kill9() {
	kill -KILL "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
}

node_ready() { [ "$(yvals "$MNT/nodes/$NODE.yaml" status.conditions.cond=Ready.status 2>/dev/null)" = True ]; }
running() { [ "$(grep -lx Running "$P"/web-*/phase 2>/dev/null | wc -l)" -ge "$1" ]; }
is_phase() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
restarts_ge() { [ "$(yvals "$P/$1.yaml" status.containerStatuses.0.restartCount)" -ge "$2" ] 2>/dev/null; }
runc_pids() { runc --root "$AG/runc" list 2>/dev/null | awk 'NR > 1 && $3 == "running" { print $1, $2 }' | sort; }
crash_pref() { yvals "$P/crash.yaml" metadata.uid | cut -c1-12; }
web_pids() { runc_pids | grep -v "^$CRASH-"; }
web_restarts() {
	for f in "$P"/web-*.yaml; do yvals "$f" status.containerStatuses.0.restartCount; done | sort | uniq -c | tr -s ' '
}

# --- join --------------------------------------------------------------------
out=$(timeout 20 "$CLUSTERFS" agent --server "https://127.0.0.1:$PORT" --token wrong \
	--ca "$DATA/pki/ca.crt" --node-name t-bad --data-dir "$T_BASE/bad" 2>&1)
rc=$?
check "a wrong token is refused: the agent exits" test "$rc" -ne 0 -a "$rc" -ne 124
check_contains "with a clear message" "$out" "refused the token"
check_not "and it touched nothing on the host" test -d "$T_BASE/bad/runc"
agent_start
check "the agent registers its node through the API" wait_until 15 test -e "$MNT/nodes/$NODE.yaml"
check "the node is Ready" wait_until 15 node_ready
check_eq "its capacity is the machine's" "\"$(nproc)\"" "$(yget "$MNT/nodes/$NODE/capacity" cpu)"

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
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
        command: ["sh", "-c", "echo started; exec sleep 100000"]
EOF
cat >"$WORK/crash.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 3"]
EOF
cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
cp "$WORK/crash.yaml" "$P/crash.yaml"
check "the Deployment's 2 pods run on the agent's node" wait_until 30 running 2
check_eq "they are bound to $NODE" "$NODE $NODE" "$(cat "$P"/web-*/node | tr '\n' ' ' | sed 's/ $//')"
check "they are real runc containers" test "$(runc_pids | wc -l)" -ge 2
first=$(ls "$P" | grep '^web-.*\.yaml$' | head -1)
first=${first%.yaml}
check "pod IP in /cluster" grep -q '^10\.88\.' "$P/$first/ip"
check_eq "ready in /cluster" "True" "$(yvals "$P/$first.yaml" status.containerStatuses.0.ready)"
check "logs are written on the agent's node" wait_until 5 grep -q started "$AG"/logs/*/main/0.log
check "the Started event reaches the server" wait_until 10 grep -q Started "$P/$first/events"
# the Services' node role runs on the agent too
cat >"$WORK/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
EOF
cp "$WORK/svc.yaml" "$MNT/services/web.yaml"
CIP=$(cat "$MNT/services/web/clusterip")
TABLE=$(sed -n 's/.*nftables table \(clusterfs_[0-9a-f]*\).*/\1/p' "$AG/agent.log" | head -1)
check "the agent programs the Service's ClusterIP ($CIP) in $TABLE" wait_until 10 sh -c "nft list table ip '$TABLE' | grep -qF '$CIP'"
check "and its DNS name" wait_until 10 grep -q "web.default.svc.cluster.local" "$AG/dns/hosts"
check "a crashing container's restarts show in /cluster" wait_until 30 restarts_ge crash 1
check_eq "with its exit code" "3" "$(yvals "$P/crash.yaml" status.containerStatuses.0.lastState.terminated.exitCode)"

# --- kill -9 of the agent ------------------------------------------------------
CRASH=$(crash_pref)
before=$(web_pids)
web_before=$(web_restarts)
crash_before=$(yvals "$P/crash.yaml" status.containerStatuses.0.restartCount)
agent_kill9
check "kill -9 of the agent leaves the web containers running" sh -c "[ \"\$(runc --root '$AG/runc' list | grep -c running)\" -ge 2 ]"
agent_start
check "the agent comes back: node Ready" wait_until 15 node_ready
sleep 3
check_eq "it adopts the web containers: same ids, same pids" "$before" "$(web_pids)"
check_eq "no web container restarted" "$web_before" "$(web_restarts)"
check "the crashing pod keeps its restart count and goes on" wait_until 40 restarts_ge crash $((crash_before + 1))

# --- server restart ------------------------------------------------------------
before=$(web_pids)
web_before=$(web_restarts)
outages=$(grep -c "server unreachable" "$AG/agent.log")
check_stop "the server stops (SIGTERM)"
sleep 3
check "the agent keeps running while the server is away" cfs_alive "$AGENT_PID"
cfs_start --node-grace 40 || cfs_abort "server did not start again"
check "the node is Ready again" wait_until 20 node_ready
check_eq "no container restarted: same ids, same pids" "$before" "$(web_pids)"
check_eq "no web restart counted" "$web_before" "$(web_restarts)"
check_eq "the outage is logged once" "$((outages + 1))" "$(grep -c "server unreachable" "$AG/agent.log")"
echo 3 >"$MNT/deployments/web/replicas"
check "after the restart the agent still follows: a 3rd pod runs" wait_until 30 running 3
rm "$P/crash.yaml"
check "a deleted pod is stopped and gone" wait_until 20 sh -c "! test -e '$P/crash.yaml'"

# --- an agent started before its server waits for it --------------------------
agent_kill9
check_stop "the server stops again"
agent_start
sleep 2
check "the agent waits (does not exit) while the server is down" cfs_alive "$AGENT_PID"
cfs_start --node-grace 40 || cfs_abort "server did not start a third time"
check "and joins once it is up" wait_until 30 node_ready
check "its pods are still running" running 3

kill -TERM "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null
check_eq "SIGTERM stops the agent, containers stay" "3" "$(runc --root "$AG/runc" list | grep -c -- '-main-.*running')"
if [ "$T_FAILED" -gt 0 ]; then
	echo "# agent.log (last lines):"
	tail -n 30 "$AG/agent.log" | sed 's/^/#   /'
fi
cfs_done
