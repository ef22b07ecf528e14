#!/bin/bash
# t_run_probes.sh - the node agent's probes (exec, httpGet, tcpSocket as
# liveness, readiness and startup probes), CrashLoopBackOff timing and
# OOMKilled, with real runc containers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-probes || cfs_abort "server did not start"

expect_in() { check_contains "$1" "$3" "$2"; }
cstat() { yvals "$P/$1.yaml" "status.containerStatuses.0.$2"; }
cstat_is() { [ "$(cstat "$1" "$2")" = "$3" ]; }
restarts_ge() { [ "$(cstat "$1" restartCount)" -ge "$2" ] 2>/dev/null; }
pod_ready() { [ "$(yvals "$P/$1.yaml" status.conditions.cond=Ready.status)" = "$2" ]; }

# --- readiness: httpGet and tcpSocket, passing and failing -------------------
cat >"$WORK/web.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      httpGet: {path: /hostname, port: http}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
EOF
cp "$WORK/web.yaml" "$P/web.yaml"
check "httpGet readiness on a named port: the pod becomes Ready" wait_until 10 pod_ready web True
check_eq "the container is ready, never restarted" "True 0" "$(cstat web ready) $(cstat web restartCount)"

sed -e 's/name: web$/name: web404/' -e 's|path: /hostname|path: /no-such-file|' "$WORK/web.yaml" >"$WORK/web404.yaml"
cp "$WORK/web404.yaml" "$P/web404.yaml"
check "httpGet readiness failing (404): Running" wait_until 10 sh -c "[ \"\$(cat '$P/web404/phase')\" = Running ]"
sleep 3
check_eq "but not Ready" "False" "$(yvals "$P/web404.yaml" status.conditions.cond=Ready.status)"
expect_in "the condition names the container" "containers with unready status: [httpd]" \
	"$(yvals "$P/web404.yaml" status.conditions.cond=Ready.message)"
expect_in "a Warning event says why" "Readiness probe failed: HTTP probe failed with statuscode: 404" "$(cat "$MNT/events")"

cat >"$WORK/tcpbad.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: tcpbad
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["httpd", "-f", "-p", "8080"]
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
EOF
cp "$WORK/tcpbad.yaml" "$P/tcpbad.yaml"
check "tcpSocket readiness on a port nothing listens on: Running" wait_until 10 sh -c "[ \"\$(cat '$P/tcpbad/phase')\" = Running ]"
sleep 2
check_eq "not Ready, and the agent does not wedge" "False" "$(yvals "$P/tcpbad.yaml" status.conditions.cond=Ready.status)"
expect_in "the reason is the refused connection" "connection refused" "$(grep tcpbad "$MNT/events")"

# --- exec readiness that comes and goes ----------------------------------------
cat >"$WORK/flip.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: flip
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; sleep 4; rm /tmp/ready; exec sleep 100000"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
EOF
cp "$WORK/flip.yaml" "$P/flip.yaml"
check "exec readiness: not Ready at first" wait_until 5 pod_ready flip False
check "then Ready once the file exists" wait_until 10 pod_ready flip True
check "then not Ready when it goes" wait_until 10 pod_ready flip False
check_eq "readiness never restarts" "0" "$(cstat flip restartCount)"

# --- liveness: exec failing restarts the container ----------------------------
cat >"$WORK/live.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: live
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "touch /tmp/alive; echo started; sleep 2; rm /tmp/alive; exec sleep 100000"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/alive"]}
      periodSeconds: 1
      failureThreshold: 2
EOF
cp "$WORK/live.yaml" "$P/live.yaml"
check "exec liveness failing: the container is restarted" wait_until 15 restarts_ge live 1
expect_in "the event says so" "Container c failed liveness probe, will be restarted" "$(cat "$MNT/events")"
check_eq "lastState: killed (137)" "137" "$(cstat live lastState.terminated.exitCode)"

# --- startup probe holds liveness back ----------------------------------------
cat >"$WORK/slow.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 3; touch /tmp/up; exec sleep 100000"]
    startupProbe:
      exec: {command: ["cat", "/tmp/up"]}
      periodSeconds: 1
      failureThreshold: 10
    livenessProbe:
      exec: {command: ["cat", "/tmp/up"]}
      periodSeconds: 1
      failureThreshold: 1
EOF
cp "$WORK/slow.yaml" "$P/slow.yaml"
check "startup probe: not started at first" wait_until 5 cstat_is slow started False
check "started once it passes" wait_until 10 cstat_is slow started True
check_eq "liveness did not run before: no restart" "0" "$(cstat slow restartCount)"
check "and the pod is Ready" wait_until 5 pod_ready slow True

# --- CrashLoopBackOff timing ---------------------------------------------------
cat >"$WORK/crash.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo crash; exit 1"]
EOF
t0=$(now_ms)
cp "$WORK/crash.yaml" "$P/crash.yaml"
check "first restart at once" wait_until 5 restarts_ge crash 1
t1=$(now_ms)
check "CrashLoopBackOff while it waits" wait_until 5 cstat_is crash state.waiting.reason CrashLoopBackOff
expect_in "back-off 10s" "back-off 10s restarting failed container=c pod=crash_default" "$(cstat crash state.waiting.message)"
check "second restart" wait_until 15 restarts_ge crash 2
t2=$(now_ms)
gap=$((t2 - t1))
echo "# restart 1 after $((t1 - t0)) ms, restart 2 after $gap ms more"
check "first restart within 3 s" test $((t1 - t0)) -lt 3000
check "second restart 10 s later (9-13 s: $gap ms)" test "$gap" -ge 9000 -a "$gap" -le 13000
check "then back-off 20s" wait_until 5 sh -c "grep -q 'back-off 20s' '$P/crash.yaml'"

# --- OOMKilled ------------------------------------------------------------------
cat >"$WORK/oom.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: oom
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo filling; exec dd if=/dev/zero of=/dev/null bs=64M count=1"]
    resources:
      limits: {memory: 16Mi}
EOF
cp "$WORK/oom.yaml" "$P/oom.yaml"
check "a memory limit below the need: OOMKilled" wait_until 15 cstat_is oom state.terminated.reason OOMKilled
check_eq "exit code 137, phase Failed" "137 Failed" "$(cstat oom state.terminated.exitCode) $(cat "$P/oom/phase")"
expect_in "its log has what it wrote before" "filling" "$(cat "$P/oom/logs")"

check_stop
cfs_done
