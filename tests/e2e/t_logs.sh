#!/bin/bash
# t_logs.sh - pods/NAME/logs and pods/NAME/containers/C/{logs,
# logs.previous,status,restarts}: log files are the real files under
# $DATA/logs/UID/C/ATTEMPT.log, read live (tail -f follows growth,
# truncation and a new attempt), sized as the real file, never copied
# whole; status and restarts render the pod's status; all are read-only.
#
# No container runs here (--no-agent when the server knows it; a Pod with
# no node stays Pending either way): the test writes the log files itself,
# as the node agent would.
. "$(dirname "$0")/lib.sh"

# Pass --no-agent when this server accepts it, and one hollow node (a
# simulated kubelet that reports containers running) for the status files.
OPTS=()
HELP=$("$CLUSTERFS" --help 2>&1)
case "$HELP" in *--no-agent*) OPTS+=(--no-agent) ;; esac
case "$HELP" in *--hollow-nodes*) OPTS+=(--hollow-nodes 1) ;; esac
cfs_start "${OPTS[@]}" || cfs_abort "server starts and mounts $MNT"

# wait_for FILE NEEDLE SECONDS: polls until FILE contains NEEDLE (fixed).
wait_for() {
	local i=0 max=$(($3 * 10))
	while [ $i -lt $max ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A pod with an init container and two containers; no node: it stays
# Pending and nothing but this test writes its logs.
cat >"$WORK/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: lg
spec:
  nodeSelector:
    clusterfs-test: nowhere
  initContainers:
  - name: setup
    image: busybox:1.36
    command: ["true"]
  containers:
  - name: web
    image: busybox:1.36
    command: ["sleep", "3600"]
  - name: side
    image: busybox:1.36
    command: ["sleep", "3600"]
EOF
check "cp a Pod" cp "$WORK/pod.yaml" "$MNT/pods/lg.yaml" || cfs_abort "the pod is created"
P=$MNT/pods/lg
UID_=$(yget "$MNT/pods/lg.yaml" metadata.uid | tr -d '"')
[[ $UID_ =~ ^[0-9a-f-]{36}$ ]] || cfs_abort "the pod has a uid (got $UID_)"
L=$DATA/logs/$UID_

# Layout.
check_eq "ls pods/lg" "containers events ip logs node phase status usage" "$(ls "$P" | tr '\n' ' ' | sed 's/ $//')"
check_eq "ls containers: init first, then the containers" "setup web side" "$(ls -U "$P/containers" | tr '\n' ' ' | sed 's/ $//')"
check_eq "ls containers/web" "logs logs.previous restarts status" "$(ls "$P/containers/web" | tr '\n' ' ' | sed 's/ $//')"
check "containers/web is a folder" test -d "$P/containers/web"
check_not "containers/nope does not exist" test -e "$P/containers/nope"
check_not "containers/web/nope does not exist" test -e "$P/containers/web/nope"
check_eq "logs is 0444" "444" "$(stat -c %a "$P/logs")"
check_eq "logs.previous is 0444" "444" "$(stat -c %a "$P/containers/web/logs.previous")"

# Before anything was written: empty files, not errors.
check_eq "logs of a pod not started: empty" "" "$(cat "$P/logs" 2>&1)"
check_eq "its size is 0" "0" "$(stat -c %s "$P/logs")"
check_eq "logs.previous with no previous instance: empty" "" "$(cat "$P/containers/web/logs.previous" 2>&1)"
check_eq "status of a container not reported yet" "state: unknown
ready: false
restarts: 0
last: none
image: busybox:1.36" "$(cat "$P/containers/web/status")"
check_eq "restarts of a container not started" "0" "$(cat "$P/containers/side/restarts")"
check_eq "stat size of status = bytes read" "$(cat "$P/containers/web/status" | wc -c)" "$(stat -c %s "$P/containers/web/status")"

# Attempts: the highest is logs, the one before is logs.previous; rotated
# parts (.log.1) are not shown.
mkdir -p "$L/web" "$L/side" "$L/setup"
printf 'web attempt 0\n' >"$L/web/0.log"
check_eq "one attempt: logs shows it" "web attempt 0" "$(cat "$P/containers/web/logs")"
check_eq "one attempt: pods/lg/logs is containers[0]'s" "web attempt 0" "$(cat "$P/logs")"
check_quiet "one attempt: logs.previous is empty" cat "$P/containers/web/logs.previous"
printf 'web attempt 1\n' >"$L/web/1.log"
printf 'web attempt 2 line 1\nweb attempt 2 line 2\n' >"$L/web/2.log"
printf 'rotated older part of 2\n' >"$L/web/2.log.1"
printf 'side says hi\n' >"$L/side/0.log"
printf 'setup done\n' >"$L/setup/0.log"
check_eq "logs: the highest attempt" "web attempt 2 line 1
web attempt 2 line 2" "$(cat "$P/containers/web/logs")"
check_eq "pods/lg/logs = containers/web/logs" "$(cat "$P/containers/web/logs")" "$(cat "$P/logs")"
check_eq "logs.previous: the attempt before" "web attempt 1" "$(cat "$P/containers/web/logs.previous")"
check_eq "another container's logs" "side says hi" "$(cat "$P/containers/side/logs")"
check_eq "an init container's logs" "setup done" "$(cat "$P/containers/setup/logs")"
check_eq "ls -l size of logs = the real file's" "$(stat -c %s "$L/web/2.log")" "$(stat -c %s "$P/logs")"
check_eq "ls -l size of logs.previous = the real file's" "$(stat -c %s "$L/web/1.log")" "$(stat -c %s "$P/containers/web/logs.previous")"
touch -d '2001-02-03 04:05:06' "$L/web/2.log"
check_eq "mtime of logs = the real file's" "$(stat -c %Y "$L/web/2.log")" "$(stat -c %Y "$P/logs")"
check_contains "ls -l lists logs with its size" "$(ls -l "$P" | grep ' logs$')" " $(stat -c %s "$L/web/2.log") "
# Negative control: a name that is not ATTEMPT.log changes nothing.
printf 'not an attempt\n' >"$L/web/09.log"
printf 'not an attempt\n' >"$L/web/99.txt"
check_eq "odd names (09.log, 99.txt) are not attempts" "web attempt 1" "$(cat "$P/containers/web/logs.previous")"
rm -f "$L/web/09.log" "$L/web/99.txt"

# tail -f follows a growing file.
tail -n +1 -f "$P/logs" >"$WORK/tail.out" 2>"$WORK/tail.err" &
TAIL=$!
cfs_bg "$TAIL"
wait_for "$WORK/tail.out" "web attempt 2 line 2" 3 && ok "tail -f prints what is there" || fail "tail -f prints what is there" "$(cat "$WORK/tail.out" "$WORK/tail.err")"
check_not "tail has not printed line 3 before it is written (control)" grep -q "line 3" "$WORK/tail.out"
printf 'web attempt 2 line 3\n' >>"$L/web/2.log"
t0=$(now_ms)
if wait_for "$WORK/tail.out" "web attempt 2 line 3" 3; then
	ok "tail -f shows an appended line within 3 s ($(($(now_ms) - t0)) ms)"
else
	fail "tail -f shows an appended line within 3 s" "$(cat "$WORK/tail.out" "$WORK/tail.err")"
fi
for i in 4 5 6; do printf 'web attempt 2 line %s\n' $i >>"$L/web/2.log"; sleep 0.3; done
wait_for "$WORK/tail.out" "web attempt 2 line 6" 3 && ok "tail -f keeps following" || fail "tail -f keeps following" "$(cat "$WORK/tail.out")"
check_eq "tail -f printed each line once, in order" "$(cat "$L/web/2.log")" "$(cat "$WORK/tail.out")"

# Copy-truncate rotation: the file shrinks in place; tail says so and goes on.
cp "$L/web/2.log" "$L/web/2.log.1"
: >"$L/web/2.log"
# until tail has seen the truncation (it polls once a second)
wait_for "$WORK/tail.err" "file truncated" 10
printf 'after rotation\n' >>"$L/web/2.log"
if wait_for "$WORK/tail.out" "after rotation" 4; then
	ok "tail -f goes on after a copy-truncate rotation"
else
	fail "tail -f goes on after a copy-truncate rotation" "$(cat "$WORK/tail.out" "$WORK/tail.err")"
fi
check_contains "tail reports the truncation" "$(cat "$WORK/tail.err")" "file truncated"
check_eq "after truncation cat shows only the new text" "after rotation" "$(cat "$P/logs")"
check_eq "size after truncation" "15" "$(stat -c %s "$P/logs")"

# A restart: a new attempt.  A new open shows it; the open tail -f moves to
# it once it has read the old one to its end (the new file, smaller than
# the old, looks like a truncation to tail, which reads it from its start).
printf 'the last words of attempt 2\n' >>"$L/web/2.log"
wait_for "$WORK/tail.out" "the last words" 4 || fail "tail -f shows the last words of attempt 2" "$(tail -n 3 "$WORK/tail.out")"
printf 'attempt 3\n' >"$L/web/3.log"
check_eq "after a restart, logs is the new attempt" "attempt 3" "$(cat "$P/logs")"
check_eq "and logs.previous the one before" "after rotation
the last words of attempt 2" "$(cat "$P/containers/web/logs.previous")"
if wait_for "$WORK/tail.out" "attempt 3" 4; then
	ok "an open tail -f follows into the new attempt"
else
	fail "an open tail -f follows into the new attempt" "$(tail -n 3 "$WORK/tail.out")" "$(cat "$WORK/tail.err")"
fi
check_eq "tail -f printed the new attempt whole, once" "attempt 3" "$(tail -n 1 "$WORK/tail.out")"
kill "$TAIL"
wait "$TAIL" 2>/dev/null
CFS_BG_PIDS=""
check_not "tail is gone after kill" kill -0 "$TAIL"

# A large log: read by offset, never copied whole; same bytes as the source.
head -c $((20 * 1024 * 1024)) /dev/urandom | base64 >"$L/side/1.log"
rss0=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CFS_PID/status")
check_eq "20 MiB log: ls -l size = the real file's" "$(stat -c %s "$L/side/1.log")" "$(stat -c %s "$P/containers/side/logs")"
check_eq "20 MiB log: cat matches the source (sha256)" "$(sha256sum <"$L/side/1.log")" "$(sha256sum <"$P/containers/side/logs")"
check_eq "20 MiB log: tail -n 2 matches" "$(tail -n 2 "$L/side/1.log")" "$(tail -n 2 "$P/containers/side/logs")"
rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CFS_PID/status")
# the log (27 MiB of text) is never held in memory: the server's peak grows
# by far less than its size (a measure that holds under sanitizers too)
# (an AddressSanitizer build keeps freed buffers in quarantine: no measure)
if grep -q __asan_init "$CLUSTERFS"; then
	ok "the server's peak RSS: not measured under AddressSanitizer"
elif [ $((${rss:-0} - ${rss0:-0})) -lt $((16 * 1024)) ]; then
	ok "the server's peak RSS stays small (VmHWM ${rss0} -> ${rss} KiB)"
else
	fail "the server's peak RSS stays small" "VmHWM ${rss0} -> ${rss} KiB"
fi
check_eq "logs.previous of side is the earlier attempt" "side says hi" "$(cat "$P/containers/side/logs.previous")"

# Read-only: writes are refused as on the other read-only files.
n=$(errors_lines)
expect_errno EROFS "echo > logs" bash -c "echo x > '$P/logs'"
expect_errno EROFS "echo >> containers/web/logs" bash -c "echo x >> '$P/containers/web/logs'"
expect_errno EROFS "echo > logs.previous" bash -c "echo x > '$P/containers/web/logs.previous'"
expect_errno EROFS "echo > containers/web/status" bash -c "echo x > '$P/containers/web/status'"
expect_errno EROFS "echo > containers/web/restarts" bash -c "echo 3 > '$P/containers/web/restarts'"
expect_errno EROFS "truncate logs" truncate -s 0 "$P/logs"
expect_errno EACCES "creating a file in containers/web/" bash -c "echo x > '$P/containers/web/new'"
expect_errno EACCES "creating a file in containers/" bash -c "echo x > '$P/containers/new'"
expect_errno EPERM "mkdir in containers/" mkdir "$P/containers/new"
expect_errno EPERM "rm logs" rm -f "$P/logs"
expect_errno EPERM "rmdir containers/web" rmdir "$P/containers/web"
check_eq "the real log is unchanged by the refused writes" "attempt 3" "$(cat "$L/web/3.log")"
check_contains "errors names the refused write" "$(errors_since "$n")" "pods/lg/logs: EROFS"

# The same files under namespaces/NS/pods/.
check "mkdir namespaces/lgns" mkdir "$MNT/namespaces/lgns"
sed 's/name: lg$/name: lg2/' "$WORK/pod.yaml" >"$WORK/pod2.yaml"
check "cp a Pod into lgns" cp "$WORK/pod2.yaml" "$MNT/namespaces/lgns/pods/lg2.yaml"
U2=$(yget "$MNT/namespaces/lgns/pods/lg2.yaml" metadata.uid | tr -d '"')
mkdir -p "$DATA/logs/$U2/web"
printf 'in lgns\n' >"$DATA/logs/$U2/web/0.log"
check_eq "namespaces/lgns/pods/lg2/logs" "in lgns" "$(cat "$MNT/namespaces/lgns/pods/lg2/logs")"
check_eq "namespaces/lgns/pods/lg2/containers/web/logs" "in lgns" "$(cat "$MNT/namespaces/lgns/pods/lg2/containers/web/logs")"
check_eq "...and its restarts" "0" "$(cat "$MNT/namespaces/lgns/pods/lg2/containers/web/restarts")"
check_not "another pod's logs are its own (control)" grep -q "in lgns" "$P/logs"

# status and restarts of containers a node reports (a hollow node: it
# reports every container running, init containers Completed).
if [[ " ${OPTS[*]} " == *" --hollow-nodes "* ]]; then
	sed -e 's/name: lg$/name: lgrun/' -e '/nodeSelector:/d' -e '/clusterfs-test:/d' "$WORK/pod.yaml" >"$WORK/podrun.yaml"
	check "cp a Pod a node will run" cp "$WORK/podrun.yaml" "$MNT/pods/lgrun.yaml"
	R=$MNT/pods/lgrun
	i=0
	while [ $i -lt 100 ] && [ "$(cat "$R/phase" 2>/dev/null)" != Running ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check_eq "the hollow node runs it" Running "$(cat "$R/phase")"
	st=$(cat "$R/containers/web/status")
	if [[ $(head -n 1 <<<"$st") =~ ^state:\ running\ since\ 20[0-9-]{8}T[0-9:]{8}Z$ ]]; then
		ok "status: state: running since TIME"
	else
		fail "status: state: running since TIME" "$st"
	fi
	check_eq "status: the other lines" "ready: true
restarts: 0
last: none
image: busybox:1.36" "$(tail -n +2 <<<"$st")"
	check_eq "status of the init container" "state: terminated: Completed (exit code 0)" "$(head -n 1 "$R/containers/setup/status")"
	check_eq "restarts of a running container" "0" "$(cat "$R/containers/web/restarts")"
	check_eq "stat size of status = bytes read" "$(cat "$R/containers/web/status" | wc -c)" "$(stat -c %s "$R/containers/web/status")"
	check "grep '^state: running' finds the running containers" grep -q '^state: running' "$R/containers/web/status" "$R/containers/side/status"
	check_not "...and not the pending pod's (control)" grep -q '^state: running' "$P/containers/web/status"
else
	ok "# SKIP no --hollow-nodes: status of a reported container is covered by test_container"
fi

# A deleted pod's files are gone.
check "rm the pod" rm "$MNT/pods/lg.yaml"
check_not "pods/lg/logs is gone with the pod" test -e "$P/logs"

check_stop
cfs_done
