#!/bin/bash
# t_rollout.sh - rolling updates and rollbacks on 3 hollow nodes: an image
# change by sed -i rolls out within maxSurge 1 / maxUnavailable 0 (pods
# sampled during it); revision and history/REV.yaml (with change causes);
# `cat rollout` streams kubectl's progress lines and ends at the finished
# line; rollback by number (1 from 2 gives 3, the old ReplicaSet again) and
# by an empty write; an unknown revision is refused (ENOENT + errors line,
# nothing changes); a template that never becomes ready stalls without
# taking availability down, and `cat rollout` fails (ETIMEDOUT) after
# progressDeadlineSeconds 3; pause/resume; Recreate (old and new pods
# never together); a server restart in the middle of a rollout finishes it.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
RSD=$MNT/replicasets
P=$MNT/pods

. "$(dirname "$0")/lib_ctl.sh"

cfs_start --hollow-nodes 3 || cfs_abort "server starts with --hollow-nodes 3"
wait_until 10 test -f "$MNT/nodes/hollow-3.yaml" || cfs_abort "the hollow nodes are registered"

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubernetes.io/change-cause: v1
spec:
  replicas: 4
  minReadySeconds: 1
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: c
        image: busybox:1.36
EOF

# web_pods: "LIVE READY HASHES" of web's pods (not terminating), hashes
# sorted and comma-joined.
web_pods() {
	pods_table | awk '$6 == "-" && index($1, "web-") == 1 { n++; if ($4 == "True") r++; h[$9] = 1 }
		END { s = ""; for (k in h) s = s (s ? "," : "") k; printf "%d %d %s\n", n, r + 0, s }'
}
rs_of_rev() {
	local f
	for f in "$RSD"/*.yaml; do
		[ "$(yvals "$f" 'metadata.annotations.deployment\.kubernetes\.io/revision')" = "$1" ] &&
			basename "$f" .yaml
	done
}

# Revision 1: cat rollout waits for the first rollout and ends.

check "cp web.yaml (4 replicas, maxSurge 1, maxUnavailable 0)" cp "$WORK/web.yaml" "$D/"
out=$(timeout 30 cat "$D/web/rollout")
rc=$?
check_eq "cat rollout ends (exit 0) once web is rolled out" 0 "$rc"
check_eq "its last line is kubectl's" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check "the Deployment is fully rolled out: 4 Ready pods" deploy_ok web 4
check_eq "revision is 1" 1 "$(cat "$D/web/revision")"
check_eq "history lists 1.yaml" "1.yaml" "$(ls "$D/web/history" | tr '\n' ' ' | sed 's/ $//')"
check_eq "history/1.yaml: revision 1, change cause v1, image busybox:1.36" "1 v1 busybox:1.36" \
	"$(yvals "$D/web/history/1.yaml" revision changeCause template.spec.containers.0.image)"
check_eq "history/1.yaml has no pod-template-hash label" "web -" \
	"$(yvals "$D/web/history/1.yaml" template.metadata.labels.app template.metadata.labels.pod-template-hash)"
RS1=$(rs_of_rev 1)
check_eq "history/1.yaml names its ReplicaSet" "$RS1" "$(yvals "$D/web/history/1.yaml" replicaSet)"
check_not "history/7.yaml does not exist" test -e "$D/web/history/7.yaml"
out=$(timeout 30 cat "$D/web/rollout")
rc=$?
check_eq "with nothing rolling out, cat rollout prints the finished line" 'deployment "web" successfully rolled out' "$out"
check_eq "... and ends (EOF, exit 0; not killed by the 30 s timeout)" 0 "$rc"

# Revision 2 by sed -i, watched by cat rollout and by sampling pods.

if sed -i -e 's/image: busybox:1.36/image: busybox:1.37/' -e 's|kubernetes.io/change-cause: v1|kubernetes.io/change-cause: v2|' "$D/web.yaml"; then
	ok "sed -i the image to busybox:1.37 (change cause v2)"
else
	fail "sed -i the image to busybox:1.37 (change cause v2)"
fi
timeout 60 cat "$D/web/rollout" >"$WORK/rollout.out" 2>&1 &
catpid=$!
cfs_bg $catpid
max_live=0 min_ready=99 samples=0 mixed=0
while kill -0 $catpid 2>/dev/null; do
	read -r live ready hs <<<"$(web_pods)"
	[ "$live" -gt "$max_live" ] && max_live=$live
	[ "$ready" -lt "$min_ready" ] && min_ready=$ready
	case "$hs" in *,*) mixed=$((mixed + 1)) ;; esac
	samples=$((samples + 1))
done
wait $catpid
rc=$?
check_eq "cat rollout of the update ends with exit 0" 0 "$rc"
echo "# $samples samples: at most $max_live live pods, at least $min_ready ready; $mixed with old and new pods"
if [ "$samples" -ge 3 ]; then ok "pods were sampled during the rollout ($samples samples)"; else fail "pods were sampled during the rollout" "$samples samples"; fi
if [ "$max_live" -le 5 ]; then ok "never more than replicas + maxSurge = 5 live pods (max $max_live)"; else fail "never more than 5 live pods" "max $max_live"; fi
if [ "$min_ready" -ge 4 ]; then ok "never fewer than replicas - maxUnavailable = 4 ready pods (min $min_ready)"; else fail "never fewer than 4 ready pods" "min $min_ready"; fi
if [ "$mixed" -gt 0 ]; then ok "old and new pods served side by side during the rollout"; else fail "old and new pods served side by side during the rollout"; fi
rout=$(cat "$WORK/rollout.out")
check_contains "cat rollout printed progress: N out of 4 new replicas have been updated" "$rout" \
	'Waiting for deployment "web" rollout to finish: 1 out of 4 new replicas have been updated...'
check_eq "and ended with the finished line" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$rout" | tail -n 1)"
check_eq "the lines are distinct (one per change)" "$(printf '%s\n' "$rout" | wc -l)" "$(printf '%s\n' "$rout" | uniq | wc -l)"
check "web is rolled out: 4 Ready pods" deploy_ok web 4
RS2=$(rs_of_rev 2)
H2=${RS2#web-}
check_eq "every pod is of the new ReplicaSet $RS2" "4 4 $H2" "$(web_pods)"
check_eq "revision is 2" 2 "$(cat "$D/web/revision")"
check_eq "history lists 1.yaml 2.yaml" "1.yaml 2.yaml" "$(ls "$D/web/history" | tr '\n' ' ' | sed 's/ $//')"
check_eq "history/2.yaml: change cause v2, image busybox:1.37" "v2 busybox:1.37" \
	"$(yvals "$D/web/history/2.yaml" changeCause template.spec.containers.0.image)"
check_eq "the old ReplicaSet $RS1 is kept at 0" 0 "$(cat "$RSD/$RS1/replicas")"
st=$(yvals "$D/web/status" replicas updatedReplicas readyReplicas availableReplicas unavailableReplicas conditions.cond=Available.reason conditions.cond=Progressing.reason)
check_eq "status: 4 4 4 4 0, MinimumReplicasAvailable, NewReplicaSetAvailable" \
	"4 4 4 4 0 MinimumReplicasAvailable NewReplicaSetAvailable" "$st"

# Rollback by number: to 1 gives revision 3 with the first ReplicaSet.

if echo 1 >"$D/web/rollback"; then ok "echo 1 > rollback"; else fail "echo 1 > rollback"; fi
check_eq "the Deployment's template is revision 1's again (busybox:1.36)" '"busybox:1.36"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
out=$(timeout 60 cat "$D/web/rollout")
check_eq "cat rollout follows the rollback to its end" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision is 3" 3 "$(cat "$D/web/revision")"
check_eq "revision 3 is the first ReplicaSet again ($RS1)" "$RS1" "$(rs_of_rev 3)"
check_eq "every pod is of $RS1" "4 4 ${RS1#web-}" "$(web_pods)"
check_eq "history lists 2.yaml 3.yaml" "2.yaml 3.yaml" "$(ls "$D/web/history" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the change cause came back with the template" '"v1"' "$(yget "$D/web.yaml" 'metadata.annotations.kubernetes\.io/change-cause')"

# Rollback by an empty write: the previous revision (2) as revision 4.

if echo >"$D/web/rollback"; then ok "echo > rollback (the previous revision)"; else fail "echo > rollback"; fi
out=$(timeout 60 cat "$D/web/rollout")
check_eq "it rolls out to the end" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision is 4, with $RS2" "4 $RS2" "$(cat "$D/web/revision") $(rs_of_rev 4)"
check_eq "the image is busybox:1.37 again" '"busybox:1.37"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"

# An unknown revision is refused and changes nothing.

n0=$(errors_lines)
rv0=$(yvals "$D/web.yaml" metadata.resourceVersion)
expect_errno ENOENT "echo 9 > rollback (no revision 9)" bash -c "echo 9 > $D/web/rollback"
check_contains "errors: the reason" "$(errors_since "$n0")" "rollback: ENOENT: Deployment \"web\": unable to find specified revision 9 in history"
sleep 0.5
check_eq "nothing changed: revision 4, same resourceVersion" "4 $rv0" "$(cat "$D/web/revision") $(yvals "$D/web.yaml" metadata.resourceVersion)"
expect_errno EINVAL "echo abc > rollback" bash -c "echo abc > $D/web/rollback"
expect_errno EROFS "history files are read-only" sh -c "echo x > $D/web/history/4.yaml"

# A template that never becomes ready: the rollout stalls, the old pods
# keep serving, and cat rollout fails after progressDeadlineSeconds 3.

sed -i -e 's/progressDeadlineSeconds: 600/progressDeadlineSeconds: 3/' -e 's/image: busybox:1.37/image: broken:1/' \
	-e 's/^    metadata:$/    metadata:\n      annotations:\n        hollow.clusterfs.io\/ready: "false"/' "$D/web.yaml"
check_eq "sed -i: a broken template with progressDeadlineSeconds 3" '3 "broken:1"' \
	"$(yvals "$D/web.yaml" spec.progressDeadlineSeconds) $(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
t0=$(now_ms)
timeout 30 cat "$D/web/rollout" >"$WORK/stall.out" 2>"$WORK/stall.err"
rc=$?
t1=$(now_ms)
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then ok "cat rollout fails (exit $rc) after $((t1 - t0)) ms"; else fail "cat rollout fails" "exit $rc"; fi
check_contains "... with ETIMEDOUT" "$(cat "$WORK/stall.err")" "Connection timed out"
check_contains "... after printing kubectl's error" "$(cat "$WORK/stall.out")" 'error: deployment "web" exceeded its progress deadline'
check_not_contains "errors: nothing (a read is not a refused write)" "$(cat "$MNT/errors")" "web/rollout"
check_eq "status: Progressing False ProgressDeadlineExceeded, Available True" "False ProgressDeadlineExceeded True" \
	"$(yvals "$D/web/status" conditions.cond=Progressing.status conditions.cond=Progressing.reason conditions.cond=Available.status)"
check_eq "the old pods keep serving: 5 live, 4 ready" "5 4" "$(web_pods | awk '{ print $1, $2 }')"
check_eq "$RS2 still has its 4 pods" 4 "$(cat "$RSD/$RS2/replicas")"
if echo >"$D/web/rollback"; then ok "echo > rollback from the broken revision"; else fail "echo > rollback from the broken revision"; fi
out=$(timeout 60 cat "$D/web/rollout")
check_eq "it recovers" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision 6 is $RS2 again, 4 pods of it" "6 $RS2 4 4 $H2" "$(cat "$D/web/revision") $(rs_of_rev 6) $(web_pods)"

sed -i 's/progressDeadlineSeconds: 3$/progressDeadlineSeconds: 600/' "$D/web.yaml"
check_eq "progressDeadlineSeconds back to 600 (not a template change: still revision 6)" "600 6" \
	"$(yvals "$D/web.yaml" spec.progressDeadlineSeconds) $(cat "$D/web/revision")"

# Pause and resume.

sed -i 's/^spec:$/spec:\n  paused: true/' "$D/web.yaml"
check_eq "sed -i: paused: true" True "$(yvals "$D/web.yaml" spec.paused)"
wait_until 5 sh -c "grep -q DeploymentPaused $D/web/status"
check_eq "status: Progressing Unknown DeploymentPaused" "Unknown DeploymentPaused" \
	"$(yvals "$D/web/status" conditions.cond=Progressing.status conditions.cond=Progressing.reason)"
nrs=$(ls "$RSD" | grep -c '\.yaml$')
sed -i 's/image: busybox:1.37/image: busybox:1.38/' "$D/web.yaml"
sleep 1.5
check_eq "a template edit while paused rolls nothing out: revision 6, no new ReplicaSet" "6 $nrs" \
	"$(cat "$D/web/revision") $(ls "$RSD" | grep -c '\.yaml$')"
check_eq "the pods are untouched" "4 4 $H2" "$(web_pods)"
g=$(timeout 5 grep -rh "Waiting for deployment" "$D/web")
check_eq "grep -r deployments/web does not hang on rollout (it opens O_NONBLOCK): the current line" \
	'Waiting for deployment "web" rollout to finish: 0 out of 4 new replicas have been updated...' "$g"
t0=$(now_ms)
timeout -s TERM 1 cat "$D/web/rollout" >/dev/null
rc=$?
t1=$(now_ms)
check_eq "while cat rollout waits (control): killed by timeout" 124 "$rc"
if [ $((t1 - t0)) -lt 3000 ]; then ok "a waiting reader killed by a signal goes at once ($((t1 - t0)) ms)"; else fail "a waiting reader killed by a signal goes at once" "took $((t1 - t0)) ms"; fi
pids=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	timeout 60 cat "$D/web/rollout" >"$WORK/many.$i" 2>&1 &
	pids="$pids $!"
	cfs_bg $!
done
sleep 0.5
sed -i 's/^  paused: true$/  paused: false/' "$D/web.yaml"
out=$(timeout 60 cat "$D/web/rollout")
check_eq "resumed: it rolls out" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision 7, busybox:1.38 everywhere" "7 4" \
	"$(cat "$D/web/revision") $(pods_table | awk '$8 == "busybox:1.38" && $6 == "-"' | grep -c .)"
good=0
for p in $pids; do wait "$p" && good=$((good + 1)); done
check_eq "20 readers waiting at once all end with exit 0" 20 "$good"
check_eq "... each with the finished line" 20 "$(tail -qn 1 "$WORK"/many.* | grep -c 'deployment "web" successfully rolled out')"

# Recreate: every old pod gone before a new one starts.

cat >"$WORK/rec.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rec
spec:
  replicas: 3
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app: rec
  template:
    metadata:
      labels:
        app: rec
    spec:
      containers:
      - name: c
        image: busybox:1.36
EOF
check "cp rec.yaml (Recreate, 3 replicas)" cp "$WORK/rec.yaml" "$D/"
out=$(timeout 30 cat "$D/rec/rollout")
check_eq "rec rolls out" 'deployment "rec" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
sed -i 's/image: busybox:1.36/image: busybox:1.37/' "$D/rec.yaml"
timeout 60 cat "$D/rec/rollout" >"$WORK/rec.out" 2>&1 &
catpid=$!
cfs_bg $catpid
mixed=0 samples=0
while kill -0 $catpid 2>/dev/null; do
	# every pod of rec, terminating ones too: how many distinct hashes
	n=$(pods_table | awk 'index($1, "rec-") == 1 { print $9 }' | sort -u | grep -c .)
	[ "$n" -gt 1 ] && mixed=$((mixed + 1))
	samples=$((samples + 1))
done
wait $catpid
check_eq "Recreate: cat rollout ends with exit 0" 0 "$?"
check_eq "old and new pods never existed together ($samples samples)" 0 "$mixed"
check_eq "3 pods of busybox:1.37" 3 "$(pods_table | awk 'index($1, "rec-") == 1 && $8 == "busybox:1.37" && $4 == "True"' | grep -c .)"

# A restart in the middle of a rollout.

sed -i -e 's/minReadySeconds: 1/minReadySeconds: 2/' -e 's/image: busybox:1.38/image: busybox:1.39/' "$D/web.yaml"
mid() {
	local u
	u=$(yvals "$D/web/status" updatedReplicas)
	[ "$u" -ge 1 ] && [ "$u" -lt 4 ]
}
if wait_until 20 mid; then ok "the rollout to busybox:1.39 is under way"; else fail "the rollout to busybox:1.39 is under way" "$(cat "$D/web/status")"; fi
echo "# at the restart: $(yvals "$D/web/status" replicas updatedReplicas availableReplicas)"
check_stop "SIGTERM mid-rollout: the server stops"
cfs_start --hollow-nodes 3 || cfs_abort "the server restarts"
out=$(timeout 60 cat "$D/web/rollout")
check_eq "after the restart, the rollout finishes" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision 8, 4 Ready pods of busybox:1.39, nothing else" "8 4 4" \
	"$(cat "$D/web/revision") $(pods_table | awk '$8 == "busybox:1.39" && $4 == "True" && $6 == "-"' | grep -c .) $(web_pods | awk '{ print $1 }')"

check "the server is still running" cfs_alive
check_stop
cfs_done
