#!/bin/bash
# t_run_crash.sh - the node agent across restarts: init containers and a
# shared emptyDir first, then kill -9 of the server with pods running
# (adopted, none restarted, restart counts kept), a pod deleted while the
# agent is down, SIGTERM leaving containers running, and `clusterfs reset`
# leaving no process, mount or runc state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-crash || cfs_abort "server did not start"

cstat() { yvals "$P/$1.yaml" "status.containerStatuses.0.$2"; }
restarts_ge() { [ "$(cstat "$1" restartCount)" -ge "$2" ] 2>/dev/null; }
is_phase() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
runc_ids() { runc --root "$DATA/runc" list -q 2>/dev/null | sort; }
# the pid of each running container, "ID PID" a line
runc_pids() { runc --root "$DATA/runc" list 2>/dev/null | awk 'NR > 1 && $3 == "running" { print $1, $2 }' | sort; }

# --- init containers and an emptyDir shared by two containers ---------------
cat >"$WORK/init.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: first
    image: busybox
    command: ["sh", "-c", "echo one > /work/order; sleep 1"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: busybox
    command: ["sh", "-c", "echo two >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "cat /work/order; echo main >> /work/order; exec sleep 100000"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: side
    image: busybox
    command: ["sh", "-c", "sleep 1; cat /shared/order; exec sleep 100000"]
    volumeMounts: [{name: work, mountPath: /shared}]
  volumes:
  - name: work
    emptyDir: {}
EOF
cp "$WORK/init.yaml" "$P/init.yaml"
check "Pending (PodInitializing) while init containers run" wait_until 5 is_phase init Pending
check "then Running" wait_until 15 is_phase init Running
check_eq "init containers ran in order, before the containers" "one two" "$(head -2 "$P/init/containers/main/logs" | tr '\n' ' ' | sed 's/ $//')"
check "the emptyDir is shared with the other container" wait_until 5 grep -q main "$P/init/containers/side/logs"
check_eq "initContainerStatuses: both Completed" "Completed Completed" \
	"$(yvals "$P/init.yaml" status.initContainerStatuses.0.state.terminated.reason status.initContainerStatuses.1.state.terminated.reason)"
check_eq "containers/ lists init containers first" "first second main side" "$(ls -U "$P/init/containers" | tr '\n' ' ' | sed 's/ $//')"

# --- pods for the crash ---------------------------------------------------------
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
      - name: c
        image: busybox
        command: ["sh", "-c", "while :; do date +%s; sleep 1; done"]
EOF
cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
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
    command: ["sh", "-c", "exit 1"]
EOF
cp "$WORK/crash.yaml" "$P/crash.yaml"
cat >"$WORK/doomed.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: doomed
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "100000"]
EOF
cp "$WORK/doomed.yaml" "$P/doomed.yaml"
check "3 replicas run" wait_until 15 sh -c "[ \$(grep -l Running $P/web-*/phase 2>/dev/null | wc -l) = 3 ]"
check "the crashing pod has restarted" wait_until 10 restarts_ge crash 1
check "doomed runs" wait_until 10 is_phase doomed Running
crash_restarts=$(cstat crash restartCount)
before=$(runc_pids)
doomed_uid=$(yvals "$P/doomed.yaml" metadata.uid)

# --- kill -9 ---------------------------------------------------------------------
cfs_kill9
cfs_unmount "$MNT"
check_eq "kill -9 of the server leaves every container running" "$before" "$(runc_pids)"
# doomed goes while nobody watches: straight from the store
CFS_AGENT=0
cfs_start || cfs_abort "server (no agent) did not start"
check "doomed is deleted while the agent is down" rm "$P/doomed.yaml"
check "it waits for its node's agent (deletionTimestamp set)" wait_until 5 sh -c \
	"grep -q deletionTimestamp '$P/doomed.yaml'"
cfs_stop
CFS_AGENT=1
cfs_start --node-name t-crash || cfs_abort "server did not start again"
check "the agent adopts: the same containers, the same pids" wait_until 10 sh -c \
	"[ \"\$(runc --root '$DATA/runc' list | awk 'NR > 1 && \$3 == \"running\" && \$1 !~ /^${doomed_uid:0:12}/ { print \$1, \$2 }' | sort)\" = \"$(echo "$before" | grep -v "^${doomed_uid:0:12}")\" ]"
check "the deleted pod's container is stopped and removed" wait_until 10 sh -c "! runc --root '$DATA/runc' list -q | grep -q '^${doomed_uid:0:12}'"
check "and the pod with it" wait_until 10 sh -c "[ ! -e '$P/doomed.yaml' ]"
check_not "and its files" test -e "$DATA/pods/$doomed_uid"
sleep 2
restarted=0
for f in "$P"/web-*.yaml; do
	[ "$(yvals "$f" status.containerStatuses.0.restartCount)" = 0 ] || restarted=$((restarted + 1))
done
check_eq "no replica was restarted" "0" "$restarted"
check_eq "all still Running and Ready" "3" "$(grep -l Running "$P"/web-*/phase | wc -l)"
check "the crashing pod keeps its restart count and goes on" wait_until 30 restarts_ge crash $((crash_restarts + 1))
first=$(ls "$P" | grep '^web-.*\.yaml$' | head -1)
n1=$(wc -l <"$P/${first%.yaml}/logs")
sleep 2.5
check "the adopted containers keep logging" test "$(wc -l <"$P/${first%.yaml}/logs")" -gt "$n1"

# --- an adopted container that exits is still seen ------------------------------
cid=$(runc --root "$DATA/runc" list | awk -v u="$(yvals "$P/$first" metadata.uid | cut -c1-12)" 'index($1, u) == 1 && $3 == "running" { print $1 }')
check "an adopted container killed from outside" runc --root "$DATA/runc" kill "$cid" KILL
check "is restarted by the agent" wait_until 10 restarts_ge "${first%.yaml}" 1

# --- SIGTERM leaves containers running; reset removes everything ------------------
check_stop "SIGTERM stops the server"
check "containers keep running after a clean stop" sh -c "[ \$(runc --root '$DATA/runc' list | grep -c running) -ge 4 ]"
pause_pids=$(for f in /proc/[0-9]*/environ; do { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -q "^CLUSTERFS_POD_DIR=$DATA/" && { p=${f#/proc/}; echo "${p%/environ}"; }; done)
check "the pods' pause processes are found" test -n "$pause_pids"
check "clusterfs reset" "$CLUSTERFS" reset --data-dir "$DATA"
check_quiet "no runc container is left (runc list succeeds and lists none)" runc --root "$DATA/runc" list -q
alive=0
for p in $pause_pids; do cfs_alive "$p" && alive=$((alive + 1)); done
check_eq "no pause process is left" "0" "$alive"
check_eq "no mount under the data dir" "" "$(awk -v d="$DATA/" 'index($2, d) == 1' /proc/mounts)"
check_not "no pods dir" test -e "$DATA/pods"
check_not "no logs dir" test -e "$DATA/logs"
cfs_done
