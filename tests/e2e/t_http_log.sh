#!/bin/bash
# t_http_log.sh - GET .../pods/NAME/log over HTTPS, as `kubectl logs`
# reads it, from real runc containers: the only container by default,
# -c with several, --tail, --limit-bytes, --previous after a restart,
# --timestamps and --since (in short: t_http_log_ts has them),
# and the apiserver's 400s (no container named, an unknown container, no
# previous instance) and 404 (no such pod).  The same text as the
# filesystem's pods/NAME/logs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-http-log || cfs_abort "server did not start"

http_env
KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$KUBECTL" ] || KUBECTL=kubectl
KUBECTL_OLD=/usr/lib/google-cloud-sdk/bin/kubectl.1.27
[ -x "$KUBECTL_OLD" ] || KUBECTL_OLD=$KUBECTL
k() { KUBECONFIG=$DATA/kubeconfig "$KUBECTL" "$@"; }
k_old() { KUBECONFIG=$DATA/kubeconfig "$KUBECTL_OLD" "$@"; }

cat >"$WORK/one.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: one
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; sleep 3600"]
EOF
cat >"$WORK/two.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  restartPolicy: Always
  containers:
  - name: a
    image: busybox:latest
    command: ["sh", "-c", "echo from-a; sleep 3600"]
  - name: b
    image: busybox:latest
    command: ["sh", "-c", "echo from-b-$(cat /proc/uptime | cut -d' ' -f1); sleep 1; exit 3"]
EOF
cp "$WORK/one.yaml" "$WORK/two.yaml" "$MNT/pods/" || cfs_abort "pods written"
check "pod one wrote its 5 lines" wait_until 30 grep -q line-5 "$MNT/pods/one/logs"
check "pod two's a wrote its line" wait_until 30 grep -q from-a "$MNT/pods/two/containers/a/logs"

# The only container, by default; the same text as the filesystem's.
out=$(k logs one 2>&1)
check_eq "kubectl logs one: the five lines" "$(printf 'line-%s\n' 1 2 3 4 5)" "$out"
check_eq "... the same text as pods/one/logs" "$(cat "$MNT/pods/one/logs")" "$out"
check_eq "kubectl 1.27 logs one: the same" "$out" "$(k_old logs one 2>&1)"
check_eq "--tail=2: the last two lines" "$(printf 'line-4\nline-5')" "$(k logs one --tail=2 2>&1)"
check_eq "--tail=0: nothing" "" "$(k logs one --tail=0 2>&1; echo -n)"
check_eq "--limit-bytes=7: the first 7 bytes" "line-1" "$(k logs one --limit-bytes=7 2>&1)"

# Several containers.
out=$(k logs two 2>&1)
check_contains "two containers, none named: kubectl picks the first" "$out" "from-a"
check_eq "-c a" "from-a" "$(k logs two -c a 2>&1)"
out=$(k logs two -c nosuch 2>&1)
check_contains "-c nosuch: not valid for the pod" "$out" "container nosuch is not valid for pod two"

# --previous: b exits and restarts.
check "b restarted at least once" wait_until 60 sh -c \
	"grep -q '^[1-9]' '$MNT/pods/two/containers/b/restarts'"
prev=$(k logs two -c b --previous 2>&1)
check_contains "--previous: the earlier instance's line" "$prev" "from-b-"
check_eq "--previous is the filesystem's logs.previous" \
	"$(cat "$MNT/pods/two/containers/b/logs.previous")" "$prev"
out=$(k logs one --previous 2>&1)
check_contains "--previous with no earlier instance: 400" "$out" \
	"previous terminated container \"main\" in pod \"one\" not found"

# -f: the text so far, then what is appended; it ends with the container.
cat >"$WORK/ticker.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  restartPolicy: Never
  containers:
  - name: t
    image: busybox:latest
    command: ["sh", "-c", "echo start; sleep 2; for i in 1 2 3; do echo tick-$i; sleep 1; done"]
EOF
cp "$WORK/ticker.yaml" "$MNT/pods/" || cfs_abort "pod ticker written"
check "ticker started" wait_until 30 grep -q start "$MNT/pods/ticker/logs"
k logs -f ticker >"$WORK/follow.out" 2>&1 &
fpid=$!
CFS_BG_PIDS="$CFS_BG_PIDS $fpid"
check "-f: the lines appended after it started" wait_until 20 grep -q tick-3 "$WORK/follow.out"
check "-f ends when the container exits" wait_until 10 sh -c "! kill -0 $fpid 2>/dev/null"
wait "$fpid"
check_eq "-f exits 0" 0 "$?"
check_eq "-f: every line once, in order" "$(printf 'start\ntick-1\ntick-2\ntick-3')" "$(cat "$WORK/follow.out")"
out=$(k logs -f ticker --tail=1 2>&1)
check_eq "-f on an exited container: the text, then the end" "tick-3" "$out"

# Line times (more in t_http_log_ts).
out=$(k logs one --timestamps --tail=1 2>&1)
check_contains "--timestamps: the line with its time" "$out" "Z line-5"
check_eq "--since=1h: every line" "$(printf 'line-%s\n' 1 2 3 4 5)" "$(k logs one --since=1h 2>&1)"

# curl: status codes.
a /api/v1/namespaces/default/pods/nosuch/log >/dev/null
check_eq "no such pod: 404" 404 "$(code)"
a "/api/v1/namespaces/default/pods/one/log?tailLines=x" >/dev/null
check_eq "tailLines=x: 400" 400 "$(code)"
body=$(a /api/v1/namespaces/default/pods/two/log)
check_eq "no container named: 400" 400 "$(code)"
check_contains "... with the apiserver's message" "$body" \
	"a container name must be specified for pod two, choose one of: [a b]"
body=$(a "/api/v1/namespaces/default/pods/one/log?tailLines=1")
check_eq "tailLines=1 over curl: 200" 200 "$(code)"
check_eq "tailLines=1 over curl: line-5" "line-5" "$body"

cfs_done
