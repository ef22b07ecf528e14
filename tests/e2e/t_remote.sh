#!/bin/bash
# t_remote.sh - logs of a pod on a remote agent, read through the agent's
# own endpoint (runtime/kubelet/kserver.h), never a shared disk: a
# `clusterfs server --no-agent` and one `clusterfs agent` in the root
# network namespace, each with its own data dir (the server never looks
# at the agent's).  kubectl logs (--tail, --timestamps, -f, --previous),
# cat and tail -f of /cluster/pods/P/logs; the agent's port refuses a
# request without the server's token (401).  kubectl exec (-i, -it, exit
# codes) and port-forward through the agent too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
NODE=t-remote
AG=$T_BASE/agent
KPORT=10351
KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$KUBECTL" ] || KUBECTL=kubectl
k() { KUBECONFIG=$DATA/kubeconfig "$KUBECTL" "$@"; }
mkdir -p "$AG"
cfs_import_busybox "$AG" || cfs_abort "importing the busybox image failed"
cfs_start --no-agent || cfs_abort "server did not start"
PORT=$(awk '/server: https:/ { n = split($2, a, ":"); print a[n] }' "$DATA/kubeconfig")
TOKEN=$(awk '/token:/ { print $2 }' "$DATA/kubeconfig")
"$CLUSTERFS" agent --server "https://127.0.0.1:$PORT" --token "$TOKEN" --ca "$DATA/pki/ca.crt" \
	--node-name "$NODE" --data-dir "$AG" --kubelet-port $KPORT >>"$AG/agent.log" 2>&1 &
AGENT_PID=$!
_cfs_record_pid "$AGENT_PID"
CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $AGENT_PID"

check "the agent's node is registered" wait_until 20 test -e "$MNT/nodes/$NODE.yaml"
check "it publishes its endpoint's key" wait_until 10 grep -q serving-key-sha256 "$MNT/nodes/$NODE.yaml"
NIP=$(yvals "$MNT/nodes/$NODE.yaml" status.addresses.0.address)

cat >"$WORK/talk.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: talk
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; done"]
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
    command: ["sh", "-c", "echo run-$(date +%s%N); sleep 1; exit 3"]
EOF
cat >"$WORK/web.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-remote >/www/index.html && head -c 3000000 /dev/zero >/www/big && httpd -f -p 8080 -h /www"]
EOF
cp "$WORK/talk.yaml" "$P/talk.yaml"
cp "$WORK/web.yaml" "$P/web.yaml"
cp "$WORK/crash.yaml" "$P/crash.yaml"
check "the pod runs on the remote node" wait_until 30 sh -c "grep -qx Running '$P/talk/phase'"
check_eq "bound to $NODE" "$NODE" "$(cat "$P/talk/node")"
check_not "its logs are not on the server's disk" test -d "$DATA/logs/$(yvals "$P/talk.yaml" metadata.uid)"
has_line() { k logs talk 2>/dev/null | grep -q "$1"; }

# (1) kubectl logs
check "kubectl logs reads it through the agent" wait_until 15 has_line tick-2
check_eq "--tail=2: the last two lines" "2" "$(k logs talk --tail=2 | wc -l)"
out=$(k logs talk --timestamps | head -1)
check "--timestamps: RFC 3339 and the line" sh -c "echo '$out' | grep -Eq '^20[0-9-]+T[0-9:.]+Z line-1\$'"
out=$(timeout 4 "$KUBECTL" --kubeconfig "$DATA/kubeconfig" logs -f talk --tail=1)
check "-f follows: new ticks arrive" test "$(echo "$out" | grep -c tick)" -ge 3
restarted() { [ "$(yvals "$P/crash.yaml" status.containerStatuses.0.restartCount)" -ge 1 ] 2>/dev/null; }
check "a crashing container restarts" wait_until 30 restarted
check "--previous: the last instance's log" sh -c "KUBECONFIG=$DATA/kubeconfig $KUBECTL logs crash --previous | grep -q run-"
check_eq "--since=1h: from the first line" "line-1" "$(k logs talk --since=1h | head -1)"
check_eq "--limit-bytes=4" "line" "$(k logs talk --limit-bytes=4)"
check "/cluster: containers/main/logs.previous" grep -q run- "$P/crash/containers/main/logs.previous"
out=$(k logs talk --previous 2>&1)
check_contains "--previous of a container that never restarted: refused" "$out" "previous terminated container"

# (2) the filesystem
check "cat /cluster/pods/talk/logs" grep -q line-3 "$P/talk/logs"
check "containers/main/logs too" grep -q line-1 "$P/talk/containers/main/logs"
size=$(stat -c %s "$P/talk/logs")
check "stat: the size of the agent's file" test "$size" -gt 30
timeout 4 tail -n 1 -f "$P/talk/logs" >"$WORK/tail.out" 2>/dev/null
check "tail -f: new lines arrive" test "$(grep -c tick "$WORK/tail.out")" -ge 3

# (3) kubectl exec
kx() { timeout 60 "$KUBECTL" --kubeconfig "$DATA/kubeconfig" "$@"; }
check "pod web runs" wait_until 30 sh -c "grep -qx Running '$P/web/phase'"
out=$(kx exec web -- echo hi 2>&1)
check_eq "kubectl exec web -- echo hi" "hi" "$out"
kx exec web -- sh -c 'echo err >&2; exit 3' >"$WORK/out" 2>"$WORK/err"
rc=$?
check_eq "the exit code comes back" 3 "$rc"
check_contains "and stderr" "$(cat "$WORK/err")" "err"
out=$(echo abc | kx exec -i web -- cat 2>&1)
check_eq "kubectl exec -i: stdin" "abc" "$out"
out=$(head -c 2000000 /dev/zero | kx exec -i web -- cat | wc -c)
check_eq "kubectl exec -i: 2 MB through cat" 2000000 "$out"
out=$(timeout 30 script -qc "$KUBECTL --kubeconfig $DATA/kubeconfig exec -it web -- sh -c 'tty; exit 5'" /dev/null </dev/null 2>&1)
check_contains "kubectl exec -it: a terminal" "$out" "/dev/pts/"
out=$(kx exec web -c nope -- true 2>&1)
check_contains "a bad container: the apiserver's error" "$out" "not valid for pod"

# (4) kubectl port-forward
FPORT=18351
kx port-forward pod/web $FPORT:8080 >"$WORK/pf.out" 2>&1 &
pf=$!
check "kubectl port-forward listens" wait_until 15 grep -q Forwarding "$WORK/pf.out"
out=$(curl -s --max-time 10 http://127.0.0.1:$FPORT/index.html)
check_eq "port-forward: the page" "hello-remote" "$out"
out=$(curl -s --max-time 10 http://127.0.0.1:$FPORT/index.html)
check_eq "port-forward: a second connection" "hello-remote" "$out"
out=$(curl -s --max-time 20 http://127.0.0.1:$FPORT/big | wc -c)
check_eq "port-forward: a 3 MB file" 3000000 "$out"
kill "$pf" 2>/dev/null
wait "$pf" 2>/dev/null

# the agent's endpoint
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://$NIP:$KPORT/podlog/x/y?op=stat")
check_eq "the agent's port without a token: 401" 401 "$code"
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "https://$NIP:$KPORT/podlog/x/y?op=stat")
check_eq "with the admin's bearer token: 401 too (only the CA's signature counts)" 401 "$code"

# the server pins the key the node published: another key is refused
PIN=$(k get node "$NODE" -o 'jsonpath={.metadata.annotations.kubelet\.clusterfs\.io/serving-key-sha256}')
check "the pin is a sha256" test "${PIN#sha256//}" != "$PIN"
k annotate node "$NODE" --overwrite kubelet.clusterfs.io/serving-key-sha256=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= >/dev/null
sleep 2
check_not "a key other than the one published: the server refuses the agent" has_line line-1
k annotate node "$NODE" --overwrite "kubelet.clusterfs.io/serving-key-sha256=$PIN" >/dev/null
check "the published key again: logs read" wait_until 5 has_line line-1

cfs_done
