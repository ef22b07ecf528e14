#!/bin/bash
# t_ctl_deploy.sh - the Deployment and ReplicaSet controllers and the
# scheduler on 3 hollow nodes: a Deployment of 6 reaches 6 Running, Ready
# pods spread 2 per node; its ReplicaSet is web-HASH with the
# pod-template-hash label and a controller ownerReference; scaling with
# `echo 9 > replicas` and with sed -i on web.yaml; a deleted pod is
# replaced; a template change rolls out to a new ReplicaSet (old one at
# 0, revision 2); rm web.yaml takes the ReplicaSets and pods with it; the
# events of all that are in /cluster/events and in NAME/events.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
RSD=$MNT/replicasets
P=$MNT/pods

. "$(dirname "$0")/lib_ctl.sh"

# The server, with 3 hollow nodes.

cfs_start --hollow-nodes 3 || cfs_abort "server starts with --hollow-nodes 3"
if ! wait_until 10 test -f "$MNT/nodes/hollow-3.yaml"; then
	cfs_abort "the hollow nodes are registered (nodes/: $(ls "$MNT/nodes" | tr '\n' ' '))"
fi
check_eq "ls nodes shows hollow-1..3" "hollow-1 hollow-1.yaml hollow-2 hollow-2.yaml hollow-3 hollow-3.yaml" \
	"$(ls "$MNT/nodes" | tr '\n' ' ' | sed 's/ $//')"
wait_until 10 grep -q 'nodes: *3 ready, 0 not ready' "$MNT/status"
check_contains "cluster status: 3 nodes ready" "$(cat "$MNT/status")" "3 ready, 0 not ready"
check_eq "hollow-2 allocatable: cpu 4, memory 16Gi, pods 110" "4 16Gi 110" \
	"$(yvals "$MNT/nodes/hollow-2.yaml" status.allocatable.cpu status.allocatable.memory status.allocatable.pods)"
check_eq "hollow-2 labels: type hollow, hostname hollow-2" "hollow hollow-2" \
	"$(yvals "$MNT/nodes/hollow-2.yaml" metadata.labels.type 'metadata.labels.kubernetes\.io/hostname')"

# A Deployment of 6.

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 6
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
EOF
check "cp web.yaml (6 replicas) to deployments/" cp "$WORK/web.yaml" "$D/"
if wait_until 20 deploy_ok web 6; then
	ok "the Deployment reaches 6 Running, Ready pods and readyReplicas 6"
else
	fail "the Deployment reaches 6 Running, Ready pods and readyReplicas 6" "$(state web)"
fi
dep_uid=$(yvals "$D/web.yaml" metadata.uid)
rsl=$(ls "$RSD" | grep '\.yaml$' | sed 's/\.yaml$//')
check_eq "one ReplicaSet" 1 "$(printf '%s\n' "$rsl" | grep -c .)"
RS1=$(printf '%s\n' "$rsl" | head -n 1)
H1=${RS1#web-}
if [[ $RS1 =~ ^web-[a-z0-9]{1,10}$ ]]; then ok "the ReplicaSet is named web-HASH ($RS1)"; else fail "the ReplicaSet is named web-HASH" "got: $rsl"; fi
check_eq "$RS1 carries the label pod-template-hash: $H1" "$H1" "$(yvals "$RSD/$RS1.yaml" metadata.labels.pod-template-hash)"
check_eq "$RS1 selector has pod-template-hash" "$H1 web" \
	"$(yvals "$RSD/$RS1.yaml" spec.selector.matchLabels.pod-template-hash spec.selector.matchLabels.app)"
check_eq "$RS1 ownerReference: Deployment web, controller true, the Deployment's uid" \
	"Deployment web True $dep_uid" \
	"$(yvals "$RSD/$RS1.yaml" metadata.ownerReferences.0.kind metadata.ownerReferences.0.name metadata.ownerReferences.0.controller metadata.ownerReferences.0.uid)"
check_eq "$RS1 has revision annotation 1" 1 "$(yvals "$RSD/$RS1.yaml" 'metadata.annotations.deployment\.kubernetes\.io/revision')"
check_eq "replicasets/$RS1/replicas is 6" 6 "$(cat "$RSD/$RS1/replicas")"
check_eq "$RS1 status: replicas 6, readyReplicas 6, availableReplicas 6" "6 6 6" \
	"$(yvals "$RSD/$RS1/status" replicas readyReplicas availableReplicas)"
check_eq "deployments/web/revision is 1" 1 "$(cat "$D/web/revision")"
check_eq "web.yaml has annotation deployment.kubernetes.io/revision: \"1\"" '"1"' \
	"$(yget "$D/web.yaml" 'metadata.annotations.deployment\.kubernetes\.io/revision')"
st=$(yvals "$D/web/status" replicas readyReplicas updatedReplicas availableReplicas conditions.cond=Available.status conditions.cond=Progressing.status conditions.cond=Progressing.reason)
check_eq "web/status: replicas/ready/updated/available 6, Available True, Progressing True NewReplicaSetAvailable" \
	"6 6 6 6 True True NewReplicaSetAvailable" "$st"

t=$(pods_table)
g=0 n=0
while read -r name _ _ _ owner _ _ _ hash; do
	n=$((n + 1))
	[[ $name =~ ^$RS1-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]] && [ "$owner" = "$RS1" ] && [ "$hash" = "$H1" ] && g=$((g + 1))
done <<<"$t"
names_ok="$g/$n"
check_eq "the 6 pods are named $RS1-XXXXX, owned by $RS1, labeled with the hash" "6/6" "$names_ok"
spread=$(printf '%s\n' "$t" | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
check_eq "the 6 pods are spread 2 per node" "hollow-1:2 hollow-2:2 hollow-3:2 " "$spread"
for n in 1 2 3; do
	check_eq "nodes/hollow-$n/pods lists its 2 pods" \
		"$(printf '%s\n' "$t" | awk -v n="hollow-$n" '$3 == n { print $1 }' | sort | tr '\n' ' ')" \
		"$(sort "$MNT/nodes/hollow-$n/pods" | tr '\n' ' ')"
done
p0=$(printf '%s\n' "$t" | awk 'NR == 1 { print $1 }')
n0=$(printf '%s\n' "$t" | awk 'NR == 1 { print $3 }')
check_eq "pods/$p0/node is its spec.nodeName" "$n0" "$(cat "$P/$p0/node")"
check_eq "pods/$p0/phase is Running" Running "$(cat "$P/$p0/phase")"
check_eq "pods/$p0/status: Ready True, PodScheduled True" "True True" \
	"$(yvals "$P/$p0/status" conditions.cond=Ready.status conditions.cond=PodScheduled.status)"
ips=$(printf '%s\n' "$t" | awk '$7 != "-" { print $7 }' | sort -u | wc -l)
check_eq "the 6 pods have 6 distinct pod IPs" 6 "$ips"
check_eq "deployments/web/pods lists the 6 pods" "$(printf '%s\n' "$t" | awk '{ print $1 }' | sort | tr '\n' ' ')" \
	"$(sort "$D/web/pods" | tr '\n' ' ')"

# Scaling with the replicas file: up to 9.

printf '%s\n' "$t" | awk '{ print $1 }' >"$WORK/first6"

if echo 9 >"$D/web/replicas"; then ok "echo 9 > deployments/web/replicas"; else fail "echo 9 > deployments/web/replicas"; fi
if wait_until 20 deploy_ok web 9; then
	ok "scaled up: 9 Running, Ready pods and readyReplicas 9"
else
	fail "scaled up: 9 Running, Ready pods and readyReplicas 9" "$(state web)"
fi
check_eq "the ReplicaSet was scaled, not replaced: replicasets/$RS1/replicas is 9" 9 "$(cat "$RSD/$RS1/replicas" 2>&1)"
check_eq "still one ReplicaSet" "$RS1.yaml" "$(ls "$RSD" | grep '\.yaml$' | tr '\n' ' ' | sed 's/ $//')"
t=$(pods_table)
spread=$(printf '%s\n' "$t" | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
check_eq "the 9 pods are spread 3 per node" "hollow-1:3 hollow-2:3 hollow-3:3 " "$spread"
check_eq "the first 6 pods are still there (scale-up adds, keeps)" 6 \
	"$(printf '%s\n' "$t" | awk '{ print $1 }' | grep -cxF -f "$WORK/first6")"

# Scaling by editing the YAML: down to 2.

if sed -i 's/^  replicas: 9$/  replicas: 2/' "$D/web.yaml"; then ok "sed -i replicas: 9 -> 2 on web.yaml"; else fail "sed -i replicas: 9 -> 2 on web.yaml"; fi
check_eq "deployments/web/replicas reads 2" 2 "$(cat "$D/web/replicas")"
if wait_until 20 deploy_ok web 2; then
	ok "scaled down: exactly 2 pods, Running and Ready, readyReplicas 2"
else
	fail "scaled down: exactly 2 pods, Running and Ready, readyReplicas 2" "$(state web)"
fi
check_eq "replicasets/$RS1/replicas is 2" 2 "$(cat "$RSD/$RS1/replicas" 2>&1)"

# A deleted pod is replaced.

t=$(pods_table)
victim=$(printf '%s\n' "$t" | awk 'NR == 1 { print $1 }')
other=$(printf '%s\n' "$t" | awk 'NR == 2 { print $1 }')
check "rm pods/$victim.yaml" rm "$P/$victim.yaml"
gone_and_back() {
	[ ! -e "$P/$victim.yaml" ] && deploy_ok web 2
}
if wait_until 20 gone_and_back; then
	ok "the deleted pod is gone and the count is back to 2, all Running and Ready"
else
	fail "the deleted pod is gone and the count is back to 2, all Running and Ready" "$(state web)"
fi
t=$(pods_table)
new=$(printf '%s\n' "$t" | awk -v a="$victim" -v b="$other" '$1 != a && $1 != b { print $1 }')
check_eq "one new pod replaced it" 1 "$(printf '%s' "$new" | grep -c .)"
if [ -n "$new" ] && [ "$new" != "$victim" ] && [[ $new == "$RS1-"* ]]; then
	ok "the replacement has a new name of $RS1 ($victim -> $new)"
else
	fail "the replacement has a new name of $RS1" "victim $victim, now: $(printf '%s\n' "$t" | awk '{ print $1 }' | tr '\n' ' ')"
fi
check "the other pod $other was left alone" test -f "$P/$other.yaml"
new_node=$(cat "$P/$new/node" 2>/dev/null)

# A template change: a new ReplicaSet, the old one at 0, revision 2.

if sed -i 's/image: nginx:1.25/image: nginx:1.26/' "$D/web.yaml"; then ok "sed -i the image to nginx:1.26 on web.yaml"; else fail "sed -i the image to nginx:1.26 on web.yaml"; fi
check_eq "web.yaml shows the new image" '"nginx:1.26"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
rolled() {
	local t
	[ "$(ls "$RSD" | grep -c '\.yaml$')" = 2 ] || return 1
	[ "$(cat "$RSD/$RS1/replicas")" = 0 ] || return 1
	[ "$(cat "$D/web/revision")" = 2 ] || return 1
	deploy_ok web 2 || return 1
	t=$(pods_table)
	[ "$(printf '%s\n' "$t" | awk '$8 == "nginx:1.26"' | grep -c .)" = 2 ]
}
if wait_until 20 rolled; then
	ok "the rollout completes: 2 ReplicaSets, 2 Ready pods of nginx:1.26, revision 2"
else
	fail "the rollout completes: 2 ReplicaSets, 2 Ready pods of nginx:1.26, revision 2" "$(state web)" \
		"revision: $(cat "$D/web/revision")"
fi
RS2=$(ls "$RSD" | grep '\.yaml$' | sed 's/\.yaml$//' | grep -vxF "$RS1" | head -n 1)
H2=${RS2#web-}
if [[ $RS2 =~ ^web-[a-z0-9]{1,10}$ ]] && [ "$H2" != "$H1" ]; then
	ok "the new ReplicaSet is web-HASH with a new hash ($RS2)"
else
	fail "the new ReplicaSet is web-HASH with a new hash" "old $RS1, new '$RS2'"
fi
check_eq "$RS2: replicas 2, pod-template-hash $H2, revision 2, image nginx:1.26" "2 $H2 2 nginx:1.26" \
	"$(yvals "$RSD/$RS2.yaml" spec.replicas metadata.labels.pod-template-hash 'metadata.annotations.deployment\.kubernetes\.io/revision' spec.template.spec.containers.0.image)"
check_eq "$RS1 (old): replicas 0, status.replicas 0, revision 1, image nginx:1.25" "0 0 1 nginx:1.25" \
	"$(yvals "$RSD/$RS1.yaml" spec.replicas status.replicas 'metadata.annotations.deployment\.kubernetes\.io/revision' spec.template.spec.containers.0.image)"
check_eq "$RS2 is owned by the Deployment too" "Deployment web True" \
	"$(yvals "$RSD/$RS2.yaml" metadata.ownerReferences.0.kind metadata.ownerReferences.0.name metadata.ownerReferences.0.controller)"
t=$(pods_table)
check_eq "every pod now belongs to $RS2 and has its hash" 2 \
	"$(printf '%s\n' "$t" | awk -v rs="$RS2" -v h="$H2" '$5 == rs && $9 == h && index($1, rs "-") == 1' | grep -c .)"
check_eq "web.yaml: annotation revision \"2\"" '"2"' "$(yget "$D/web.yaml" 'metadata.annotations.deployment\.kubernetes\.io/revision')"
check_eq "web/status: updatedReplicas 2, Progressing NewReplicaSetAvailable" "2 NewReplicaSetAvailable" \
	"$(yvals "$D/web/status" updatedReplicas conditions.cond=Progressing.reason)"

# Events.

wait_until 5 grep -q "ScalingReplicaSet deployment/web Scaled up replica set $RS2" "$MNT/events"
ev=$(cat "$MNT/events")
check_contains "events: ScalingReplicaSet up of $RS1 to 6" "$ev" "Normal ScalingReplicaSet deployment/web Scaled up replica set $RS1 to 6"
check_contains "events: ScalingReplicaSet up of $RS1 to 9" "$ev" "Normal ScalingReplicaSet deployment/web Scaled up replica set $RS1 to 9 from 6"
check_contains "events: ScalingReplicaSet down of $RS1 to 2" "$ev" "Normal ScalingReplicaSet deployment/web Scaled down replica set $RS1 to 2 from 9"
check_contains "events: ScalingReplicaSet up of $RS2 (the rollout)" "$ev" "Normal ScalingReplicaSet deployment/web Scaled up replica set $RS2 to 2"
# A rolling update (25%/25% of 2: maxSurge 1, maxUnavailable 0): the old one goes 2 -> 1 -> 0.
check_contains "events: ScalingReplicaSet down of $RS1 to 1 (the rolling update)" "$ev" "Normal ScalingReplicaSet deployment/web Scaled down replica set $RS1 to 1 from 2"
check_contains "events: ScalingReplicaSet down of $RS1 to 0" "$ev" "Normal ScalingReplicaSet deployment/web Scaled down replica set $RS1 to 0 from 1"
check_contains "events: SuccessfulCreate of the replacement pod" "$ev" "Normal SuccessfulCreate replicaset/$RS1 Created pod: $new"
check_contains "events: SuccessfulDelete on scale-down" "$ev" "Normal SuccessfulDelete replicaset/$RS1 Deleted pod: "
check_contains "events: Scheduled for the replacement pod, to its node" "$ev" \
	"Normal Scheduled pod/$new Successfully assigned default/$new to $new_node"
check_eq "events: a Scheduled line per pod ever made (6 + 3 + 1 + 2 = 12)" 12 \
	"$(grep -c "Normal Scheduled pod/web-" "$MNT/events")"
check_contains "deployments/web/events has the scaling" "$(cat "$D/web/events")" "ScalingReplicaSet deployment/web Scaled up replica set $RS2 to 2"
check_not_contains "deployments/web/events has only web's events" "$(cat "$D/web/events")" "SuccessfulCreate"
check_contains "replicasets/$RS1/events has SuccessfulCreate" "$(cat "$RSD/$RS1/events")" "SuccessfulCreate replicaset/$RS1 Created pod: $new"
p2=$(pods_table | awk 'NR == 1 { print $1 }')
check_contains "pods/$p2/events has Scheduled" "$(cat "$P/$p2/events")" "Normal Scheduled pod/$p2 Successfully assigned default/$p2 to hollow-"

# rm deletes the ReplicaSets and the pods.

check "rm deployments/web.yaml" rm "$D/web.yaml"
all_gone() {
	[ -z "$(ls "$D")" ] && [ -z "$(ls "$RSD")" ] && [ -z "$(ls "$P")" ]
}
if wait_until 20 all_gone; then
	ok "rm web.yaml: the Deployment, both ReplicaSets and every pod are gone"
else
	fail "rm web.yaml: the Deployment, both ReplicaSets and every pod are gone" \
		"deployments: $(ls "$D" | tr '\n' ' ')" "$(state web)"
fi
# Nothing comes back (a controller re-creating from a stale cache).
sleep 1
check "1 s later, still no ReplicaSet and no pod" sh -c "ls '$RSD' '$P' >'$WORK/ls.out' && ! grep '\.yaml\$' '$WORK/ls.out'"
check_contains "the cluster status counts 0 pods" "$(cat "$MNT/status")" "pods:         0 ("
for n in 1 2 3; do
	check_quiet "nodes/hollow-$n/pods is empty (and readable)" cat "$MNT/nodes/hollow-$n/pods"
done

check "the server is still running" cfs_alive
check_stop
cfs_done
