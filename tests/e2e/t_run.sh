#!/bin/bash
# t_run.sh - the node agent runs pods as real runc containers: the Node,
# run and logs, env (ConfigMap valueFrom/envFrom, fieldRef), exit codes
# and each restartPolicy, a missing image, a missing command, graceful
# deletion, and a Deployment's pods.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
D=$MNT/deployments
RSD=$MNT/replicasets
NODE=t-run-node

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name "$NODE" || cfs_abort "server did not start"

# --- the Node ---------------------------------------------------------------
check "the agent registers its node" wait_until 5 test -e "$MNT/nodes/$NODE.yaml"
check_eq "node capacity: the machine's cpus" "\"$(nproc)\"" "$(yget "$MNT/nodes/$NODE/capacity" cpu)"
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
check_eq "node capacity: the machine's memory" "\"${mem_kb}Ki\"" "$(yget "$MNT/nodes/$NODE/capacity" memory)"
check_eq "node capacity: 110 pods" '"110"' "$(yget "$MNT/nodes/$NODE/capacity" pods)"
check_eq "the node is Ready" '"True"' "$(yvals "$MNT/nodes/$NODE.yaml" status.conditions.cond=Ready.status | sed 's/.*/"&"/')"

# expect_in DESCRIPTION NEEDLE HAYSTACK
expect_in() { check_contains "$1" "$3" "$2"; }
pod_phase() { cat "$P/$1/phase" 2>/dev/null; }
is_phase() { [ "$(pod_phase "$1")" = "$2" ]; }
cstat() { yvals "$P/$1.yaml" "status.containerStatuses.0.$2"; }
# cstat_has POD PATH REGEX: the container status field (any of PATH,PATH2)
# matches REGEX.
cstat_has() {
	local pod=$1 paths=$2 re=$3 p out=""
	for p in ${paths//,/ }; do
		out="$out $(cstat "$pod" "$p")"
	done
	printf '%s\n' "$out" | grep -Eq -- "$re"
}
restarts_ge() { [ "$(cstat "$1" restartCount)" -ge "$2" ] 2>/dev/null; }

# --- run, logs, env ----------------------------------------------------------
cat >"$WORK/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
  size: large
EOF
check "a ConfigMap is created" cp "$WORK/cm.yaml" "$MNT/configmaps/settings.yaml"
cat >"$WORK/hello.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels: {tier: front}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c"]
    args:
    - echo "hello from $(hostname)"; echo "color=$COLOR greeting=$GREETING pod=$POD_NAME ns=$POD_NS tier=$TIER";
      echo "size=$CFG_size"; echo "to stderr" >&2; id -u; grep -E "NoNewPrivs|Seccomp:" /proc/self/status; exec sleep 100000
    env:
    - name: GREETING
      value: hi
    - name: COLOR
      valueFrom:
        configMapKeyRef: {name: settings, key: color}
    - name: POD_NAME
      valueFrom:
        fieldRef: {fieldPath: metadata.name}
    - name: POD_NS
      valueFrom:
        fieldRef: {fieldPath: metadata.namespace}
    - name: TIER
      valueFrom:
        fieldRef: {fieldPath: "metadata.labels['tier']"}
    envFrom:
    - prefix: CFG_
      configMapRef: {name: settings}
EOF
t0=$(now_ms)
check "a pod is written" cp "$WORK/hello.yaml" "$P/hello.yaml"
check "the pod runs" wait_until 10 is_phase hello Running
echo "# Running after $(($(now_ms) - t0)) ms"
check "the log has the container's stdout" wait_until 5 grep -q "hello from hello" "$P/hello/logs"
expect_in "env: value, configMapKeyRef, fieldRef, labels" \
	"color=blue greeting=hi pod=hello ns=default tier=front" "$(cat "$P/hello/logs")"
expect_in "env: envFrom with a prefix" "size=large" "$(cat "$P/hello/logs")"
expect_in "stderr goes to the log too" "to stderr" "$(cat "$P/hello/logs")"
expect_in "no_new_privs is set" "NoNewPrivs:	1" "$(cat "$P/hello/logs")"
expect_in "a seccomp filter is on by default" "Seccomp:	2" "$(cat "$P/hello/logs")"
check_eq "containers/main/logs is the same log" "$(cat "$P/hello/logs")" "$(cat "$P/hello/containers/main/logs")"
check_eq "the container is ready" "True" "$(cstat hello ready)"
check_eq "restartCount 0" "0" "$(cstat hello restartCount)"
expect_in "containerID is runc's" "runc://" "$(cstat hello containerID)"
expect_in "imageID names the digest" "docker.io/library/busybox@sha256:" "$(cstat hello imageID)"
check_eq "conditions Initialized, Ready, ContainersReady, PodScheduled are True" "True True True True" \
	"$(yvals "$P/hello.yaml" status.conditions.cond=Initialized.status status.conditions.cond=Ready.status \
		status.conditions.cond=ContainersReady.status status.conditions.cond=PodScheduled.status)"
check_eq "hostIP is set" "1" "$(yvals "$P/hello.yaml" status.hostIP | grep -c '^[0-9.]*$')"
expect_in "containers/main/status says running" "state: running" "$(cat "$P/hello/containers/main/status")"
check "the container is a runc container" sh -c "runc --root '$DATA/runc' list | grep -q running"

cat >"$WORK/unconfined.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: unconfined
spec:
  restartPolicy: Never
  securityContext:
    seccompProfile: {type: Unconfined}
  containers:
  - name: c
    image: busybox
    command: ["grep", "Seccomp:", "/proc/self/status"]
EOF
# Unconfined breaks Pod Security's baseline: the namespace allows it.
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n' >"$WORK/ns-default.yaml"
cfs_write "$MNT/apply" "$WORK/ns-default.yaml" >/dev/null
cp "$WORK/unconfined.yaml" "$P/unconfined.yaml"
check "seccompProfile Unconfined: no filter" wait_until 10 grep -q "Seccomp:.0" "$P/unconfined/logs"
check "a Localhost seccomp profile is refused at write" sh -c \
	"! sed 's/{type: Unconfined}/{type: Localhost, localhostProfile: x.json}/; s/name: unconfined/name: localprof/' '$WORK/unconfined.yaml' > '$P/localprof.yaml'"
check_contains "with a reason in errors" "$(tail -n 3 "$MNT/errors")" "Localhost"

# --- exit codes and restart policies ----------------------------------------
mkpod() { # NAME POLICY SCRIPT
	cat >"$WORK/$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "$3"]
EOF
	cp "$WORK/$1.yaml" "$P/$1.yaml"
}
mkpod never-ok Never "echo done; exit 0"
mkpod never-fail Never "echo bad; exit 3"
mkpod onfail-ok OnFailure "exit 0"
mkpod onfail-fail OnFailure "echo attempt; exit 2"
mkpod always-exit Always "echo attempt; exit 0"
check "Never + exit 0: Succeeded" wait_until 10 is_phase never-ok Succeeded
check_eq "reason Completed, exit code 0" "Completed 0" "$(cstat never-ok state.terminated.reason) $(cstat never-ok state.terminated.exitCode)"
check "Never + exit 3: Failed" wait_until 10 is_phase never-fail Failed
check_eq "reason Error, exit code 3, no restart" "Error 3 0" \
	"$(cstat never-fail state.terminated.reason) $(cstat never-fail state.terminated.exitCode) $(cstat never-fail restartCount)"
check_eq "the log of a finished pod stays readable" "bad" "$(cat "$P/never-fail/logs")"
check "OnFailure + exit 0: Succeeded" wait_until 10 is_phase onfail-ok Succeeded
check "OnFailure + exit 2: restarted" wait_until 10 restarts_ge onfail-fail 1
check_eq "OnFailure + exit 2: phase stays Running" "Running" "$(pod_phase onfail-fail)"
check "Always + exit 0: restarted too" wait_until 10 restarts_ge always-exit 1
check "then CrashLoopBackOff" wait_until 10 cstat_has always-exit state.waiting.reason CrashLoopBackOff
check_eq "lastState keeps the exit" "Completed 0" \
	"$(cstat always-exit lastState.terminated.reason) $(cstat always-exit lastState.terminated.exitCode)"
expect_in "logs.previous is the last instance's" "attempt" "$(cat "$P/onfail-fail/containers/c/logs.previous")"
expect_in "containers/c/status shows the back-off" "CrashLoopBackOff" "$(cat "$P/always-exit/containers/c/status")"
check_eq "restarts file = restartCount" "$(cstat always-exit restartCount)" "$(cat "$P/always-exit/containers/c/restarts")"

# --- bad input: missing image, missing command, missing ConfigMap -------------
cat >"$WORK/noimg.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: noimg
spec:
  containers:
  - name: c
    image: 127.0.0.1:9/nothing:1.0
    command: ["sh", "-c", "echo image-is-here; exec sleep 100000"]
EOF
cp "$WORK/noimg.yaml" "$P/noimg.yaml"
check "a missing image: ErrImagePull first" wait_until 10 cstat_has noimg state.waiting.reason ErrImagePull
check "its message names the image" wait_until 10 sh -c "grep -q '127.0.0.1:9/nothing:1.0.*connection refused' '$P/noimg.yaml'"
check "then ImagePullBackOff" wait_until 10 cstat_has noimg state.waiting.reason ImagePullBackOff
check_eq "the pod stays Pending" "Pending" "$(pod_phase noimg)"
expect_in "an event says why" "Failed to pull image" "$(grep noimg "$MNT/events")"
check "the image is imported under that name" "$CLUSTERFS" image import --data-dir "$DATA" \
	"$CFS_BUSYBOX_TAR" 127.0.0.1:9/nothing:1.0
check "the agent retries: once the image is there, its command runs" wait_until 30 grep -q image-is-here "$P/noimg/logs"
check_eq "and the pod is Running" "Running" "$(pod_phase noimg)"
check_eq "with no restart" "0" "$(cstat noimg restartCount)"

cat >"$WORK/nocmd.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nocmd
spec:
  containers:
  - name: c
    image: busybox
    command: ["/no/such/program"]
EOF
cp "$WORK/nocmd.yaml" "$P/nocmd.yaml"
check "a missing command: StartError, not a hang" wait_until 10 \
	cstat_has nocmd lastState.terminated.reason,state.terminated.reason StartError
expect_in "its message is runc's" "no/such/program" "$(yvals "$P/nocmd.yaml" status.containerStatuses.0.lastState.terminated.message status.containerStatuses.0.state.terminated.message)"

cat >"$WORK/nocm.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nocm
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo v=$V; exec sleep 100000"]
    env:
    - name: V
      valueFrom:
        configMapKeyRef: {name: later, key: v}
EOF
cp "$WORK/nocm.yaml" "$P/nocm.yaml"
check "a missing ConfigMap: CreateContainerConfigError" wait_until 10 \
	cstat_has nocm state.waiting.reason CreateContainerConfigError
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: later\ndata:\n  v: "42"\n' >"$WORK/later.yaml"
cp "$WORK/later.yaml" "$MNT/configmaps/later.yaml"
check "once it exists, the pod starts" wait_until 10 is_phase nocm Running
check "with its value" wait_until 5 grep -q "v=42" "$P/nocm/logs"
sed 's/image: busybox/image: busybox\n    resources: {limits: {memory: lots}}/; s/name: nocm/name: badres/' "$WORK/nocm.yaml" >"$WORK/badres.yaml"
check_eq "control: badres.yaml asks for memory: lots" '"lots"' "$(yget "$WORK/badres.yaml" spec.containers.0.resources.limits.memory)"
expect_refusal EINVAL 'memory.*lots' "bad resource values are refused at write" cfs_write "$P/badres.yaml" "$WORK/badres.yaml"
check_not "and no pod is made" test -e "$P/badres.yaml"

# --- log rotation -----------------------------------------------------------------
mkpod chatty Always "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c 11000000; echo after; exec sleep 100000"
check "a log past 10 MiB is rotated" wait_until 15 test -s "$DATA/logs/$(yvals "$P/chatty.yaml" metadata.uid)/c/0.log.1"
check "the current log is small again" wait_until 5 sh -c "[ \$(stat -c %s '$P/chatty/logs') -lt 1000000 ]"

# --- a configMap volume ---------------------------------------------------------
cat >"$WORK/cmvol.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: cmvol
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "cat /config/color /config/sub/sz; ls -l /config/sub/sz | cut -c1-10; touch /config/x || echo read-only; exec sleep 100000"]
    volumeMounts: [{name: cfg, mountPath: /config}]
  volumes:
  - name: cfg
    configMap:
      name: settings
      items:
      - {key: color, path: color}
      - {key: size, path: sub/sz, mode: 0600}
EOF
cp "$WORK/cmvol.yaml" "$P/cmvol.yaml"
check "a configMap volume: its keys are files" wait_until 10 grep -q "^blue" "$P/cmvol/logs"
expect_in "items map keys to paths, with their mode" "large" "$(cat "$P/cmvol/logs")"
expect_in "mode 0600" "-rw-------" "$(cat "$P/cmvol/logs")"
expect_in "mounted read-only" "read-only" "$(cat "$P/cmvol/logs")"
sed -e 's/name: cmvol/name: cmvol2/' -e 's/name: settings/name: absent/' "$WORK/cmvol.yaml" >"$WORK/cmvol2.yaml"
cp "$WORK/cmvol2.yaml" "$P/cmvol2.yaml"
check "a configMap volume whose ConfigMap is missing: ContainerCreating" wait_until 10 \
	cstat_has cmvol2 state.waiting.message 'configmap "absent" not found'
expect_in "and a FailedMount event" "FailedMount" "$(grep cmvol2 "$MNT/events")"

# --- graceful deletion ------------------------------------------------------
cat >"$WORK/graceful.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: graceful
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 0.1; done"]
EOF
cp "$WORK/graceful.yaml" "$P/graceful.yaml"
check "a pod that traps SIGTERM runs" wait_until 10 sh -c "grep -q up '$P/graceful/logs'"
uid=$(yvals "$P/graceful.yaml" metadata.uid)
t0=$(now_ms)
check "rm of the pod returns at once" rm "$P/graceful.yaml"
check "SIGTERM reaches it: it ends early and the pod goes" wait_until 10 sh -c "[ ! -e '$P/graceful.yaml' ]"
dt=$(($(now_ms) - t0))
check "well before the 20 s grace period ($dt ms)" test "$dt" -lt 8000
check_not "its runc container is gone" sh -c "runc --root '$DATA/runc' list | grep -q '^${uid:0:12}'"
check_not "its logs are gone" test -e "$DATA/logs/$uid"
check_not "its pod dir is gone" test -e "$DATA/pods/$uid"

cat >"$WORK/stubborn.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sleep", "100000"]
EOF
cp "$WORK/stubborn.yaml" "$P/stubborn.yaml"
check "a pod that ignores SIGTERM runs" wait_until 10 is_phase stubborn Running
t0=$(now_ms)
rm "$P/stubborn.yaml"
check "it is killed after its grace period" wait_until 10 sh -c "[ ! -e '$P/stubborn.yaml' ]"
dt=$(($(now_ms) - t0))
check "not before 2 s ($dt ms)" test "$dt" -ge 1900

# --- a Deployment -------------------------------------------------------------
cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        command: ["httpd", "-f", "-p", "8080"]
EOF
check "a Deployment is written" cp "$WORK/web.yaml" "$D/web.yaml"
check "its 3 pods run" wait_until 15 sh -c "[ \$(grep -l Running $P/web-*/phase 2>/dev/null | wc -l) = 3 ]"
dep_avail() { [ "$(yvals "$D/web/status" replicas readyReplicas availableReplicas)" = "$1 $1 $1" ]; }
check "and it is available" wait_until 10 dep_avail 3
check "scale to 1" sh -c "echo 1 > '$D/web/replicas'"
check "two pods go" wait_until 15 sh -c "[ \$(ls $P | grep -c '^web-.*\.yaml$') = 1 ]"
check "and their containers with them" wait_until 5 sh -c "[ \$(runc --root '$DATA/runc' list -q | grep -c httpd) = 1 ]"

check_stop
cfs_done
