#!/bin/bash
# t_tail.sh - tail -f follows /cluster/events (and /cluster/errors): a
# refused write makes a Warning event with reason FailedWrite, and a
# running `tail -f` prints it within seconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_start || cfs_abort "server starts and mounts $MNT"
D=$MNT/deployments

# wait_for FILE NEEDLE SECONDS [E]: polls until FILE contains NEEDLE (a
# fixed string, or with E an extended regular expression).
wait_for() {
	local i=0 max=$(($3 * 10))
	while [ $i -lt $max ]; do
		grep -q${4:-F} -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

cat >"$WORK/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: tailprobe-one
spec:
  ports:
  - port: 80
EOF
sed 's/tailprobe-one/tailprobe-two/' "$WORK/svc.yaml" >"$WORK/svc2.yaml"

tail -n +1 -f "$MNT/events" >"$WORK/events.out" 2>"$WORK/events.err" &
TAIL=$!
cfs_bg "$TAIL"
tail -n +1 -f "$MNT/errors" >"$WORK/errors.out" 2>"$WORK/errors.err" &
TAIL2=$!
cfs_bg "$TAIL2"
# until both have opened their file (tail -f of a FUSE file polls it)
tail_opened() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"; }
check "tail -f events has opened events" wait_until 10 tail_opened "$TAIL" "$MNT/events"
check "tail -f errors has opened errors" wait_until 10 tail_opened "$TAIL2" "$MNT/errors"

# Negative control: nothing about the probes before they are written.
check "tail -f events is running" kill -0 "$TAIL"
check_not "events has no tailprobe-one before the write (control)" grep -q tailprobe-one "$WORK/events.out"
check_not "errors has no tailprobe-one before the write (control)" grep -q tailprobe-one "$WORK/errors.out"

# A refused write: a Service written as a Deployment.
check_not "a Service written as deployments/tailprobe-one.yaml is refused" cp "$WORK/svc.yaml" "$D/tailprobe-one.yaml"
t0=$(now_ms)
if wait_for "$WORK/events.out" "tailprobe-one" 5; then
	ok "tail -f events shows the refusal within 5 s ($(($(now_ms) - t0)) ms)"
else
	fail "tail -f events shows the refusal within 5 s" "tail output: $(tail -n 5 "$WORK/events.out")" "cat events: $(grep tailprobe "$MNT/events")" "stderr: $(cat "$WORK/events.err")"
fi
line=$(grep -F tailprobe-one "$WORK/events.out" | tail -n 1)
check_contains "the event is a Warning with reason FailedWrite" "$line" "Warning FailedWrite"
check_contains "the event names the object" "$line" "deployment/tailprobe-one"
if [[ $line =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\  ]]; then ok "the event line starts with its time"; else fail "the event line starts with its time" "$line"; fi
check_eq "the event is one line" 1 "$(grep -cF tailprobe-one "$WORK/events.out")"
if wait_for "$WORK/errors.out" "deployments/tailprobe-one.yaml: EINVAL" 5; then
	ok "tail -f errors shows the refusal"
else
	fail "tail -f errors shows the refusal" "$(tail -n 3 "$WORK/errors.out")"
fi

# A second one, a different kind of refusal, later.
sleep 0.5
check_not "echo x > status is refused" bash -c "echo x > '$MNT/status'"
cp "$WORK/svc2.yaml" "$D/tailprobe-two.yaml" 2>/dev/null
if wait_for "$WORK/events.out" "tailprobe-two" 5; then
	ok "tail -f events shows a second refusal"
else
	fail "tail -f events shows a second refusal" "$(tail -n 5 "$WORK/events.out")"
fi
# Repeats of the same refusal are counted on one event (x2), like Kubernetes.
cp "$WORK/svc2.yaml" "$D/tailprobe-two.yaml" 2>/dev/null
if wait_for "$WORK/events.out" 'Warning FailedWrite deployment/tailprobe-two .*\(x2\)$' 5 E; then
	ok "a repeated refusal shows as (x2)"
else
	fail "a repeated refusal shows as (x2)" "$(grep tailprobe-two "$WORK/events.out")"
fi

# What tail printed is what cat prints (no lost or doubled bytes): a
# prefix at any moment, so no wait.
check "tail -f's output is a prefix of cat events" bash -c "cmp -s <(head -c \$(wc -c <'$WORK/events.out') '$MNT/events') '$WORK/events.out'"
check_eq "stat size of events = bytes read" "$(cat "$MNT/events" | wc -c)" "$(stat -c %s "$MNT/events")"

# Events of a successful write: none is Warning (control for the reason).
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tailprobe-ok\ndata:\n  k: v\n' >"$WORK/ok.yaml"
check "a good write succeeds" cp "$WORK/ok.yaml" "$MNT/configmaps/tailprobe-ok.yaml"
# a refusal after it: once tail shows that one, it has shown everything
# recorded before it
check_not "a refusal after the good write" cp "$WORK/svc.yaml" "$D/tailprobe-three.yaml"
check "tail -f events shows that refusal" wait_until 10 grep -q 'deployment/tailprobe-three' "$WORK/events.out"
check_not "no Warning for the good write" grep -q 'Warning FailedWrite configmap/tailprobe-ok' "$WORK/events.out"

kill "$TAIL" "$TAIL2"
wait "$TAIL" 2>/dev/null
wait "$TAIL2" 2>/dev/null
check_not "tail is gone after kill" kill -0 "$TAIL"
CFS_BG_PIDS=""
check_stop
cfs_done
