#!/bin/bash
# t_layer.sh - what the engine's API operations and the kept log of refused
# writes promise, on 2 hollow nodes:
#   - a refused write's line in errors, and the refused count in status,
#     are still there after the server restarts (they are kept in the
#     store);
#   - echo 1 > nodes/N/drain refuses (EBUSY) when a pod that no controller
#     manages would be deleted for good, names it in errors and changes
#     nothing (the node is not cordoned, every pod stays);
#   - echo force > nodes/N/drain evicts it too, and cordons;
#   - a drain of a node that holds only ReplicaSet-owned pods evicts them,
#     and their Deployment replaces them on the other node.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
RSD=$MNT/replicasets
P=$MNT/pods
N=$MNT/nodes

. "$(dirname "$0")/lib_ctl.sh"

start() {
	cfs_start --hollow-nodes 2 || cfs_abort "server starts with --hollow-nodes 2"
	wait_until 10 test -f "$N/hollow-2.yaml" || cfs_abort "the hollow nodes are registered"
}

# on_node NAME: web's pods (namespace default) bound to node NAME, sorted.
on_node() {
	pods_table | awk -v n="$1" '$3 == n { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}

# warnings: the warnings line of status.
warnings() {
	grep '^warnings:' "$MNT/status"
}

start

# A refused write survives a restart.

expect_errno EINVAL "a manifest that is not YAML" cfs_write "$MNT/configmaps/bad.yaml" <<<'a: [b'
errs_before=$(cat "$MNT/errors")
warn_before=$(warnings)
check_contains "errors names the refused path" "$errs_before" "configmaps/bad.yaml: EINVAL"
check_contains "status counts 1 refused write" "$warn_before" "warnings:     1 refused write "
check_stop "the server stops"
start
check_eq "after a restart errors holds the same line" "$errs_before" "$(cat "$MNT/errors")"
check_eq "after a restart status counts the same refused write" "$warn_before" "$(warnings)"
expect_errno EINVAL "another refusal after the restart" cfs_write "$MNT/configmaps/bad2.yaml" <<<'a: [b'
check_contains "status counts both" "$(warnings)" "warnings:     2 refused writes"
check_eq "errors holds both, oldest first" "configmaps/bad.yaml configmaps/bad2.yaml" \
	"$(sed 's|.*/\(configmaps/[a-z0-9]*\.yaml\): .*|\1|' "$MNT/errors" | tr '\n' ' ' | sed 's/ $//')"

# Drain: a pod that no controller manages.

web_deployment web 2 >"$WORK/web.yaml"
check "cp web.yaml (2 replicas)" cp "$WORK/web.yaml" "$D/"
if wait_until 20 deploy_ok web 2; then ok "web reaches 2 Ready pods"; else fail "web reaches 2 Ready pods" "$(state web)"; fi
check_eq "one web pod per node" "hollow-1 hollow-2" "$(pods_table | awk '{ print $3 }' | sort | tr '\n' ' ' | sed 's/ $//')"
check "mkdir namespaces/side" mkdir "$MNT/namespaces/side"
cat >"$WORK/solo.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: side
spec:
  nodeName: hollow-1
  containers:
  - name: c
    image: busybox:1.36
EOF
SP=$MNT/namespaces/side/pods
check "cp solo.yaml (a bare pod on hollow-1)" cp "$WORK/solo.yaml" "$SP/"
solo_running() {
	[ "$(yvals "$SP/solo.yaml" status.phase metadata.deletionTimestamp)" = "Running -" ]
}
if wait_until 10 solo_running; then ok "side/solo runs on hollow-1"; else fail "side/solo runs on hollow-1" "$(cat "$SP/solo.yaml")"; fi
web1=$(on_node hollow-1)
if [ -n "$web1" ]; then ok "web has a pod on hollow-1 ($web1)"; else fail "web has a pod on hollow-1" "$(state web)"; fi
n0=$(errors_lines)
expect_errno EBUSY "write 1 to nodes/hollow-1/drain with an unmanaged pod" cfs_write "$N/hollow-1/drain" <<<1
new=$(errors_since "$n0")
check_contains "errors: the refusal names nodes/hollow-1/drain and EBUSY" "$new" "nodes/hollow-1/drain: EBUSY"
check_contains "errors: the refusal names side/solo" "$new" "side/solo"
check_not_contains "errors: the refusal does not name the managed pod" "$new" "$web1"
check_eq "nothing changed: hollow-1 is not cordoned" 0 "$(cat "$N/hollow-1/unschedulable")"
check_eq "nothing changed: side/solo is there and not terminating" "Running -" \
	"$(yvals "$SP/solo.yaml" status.phase metadata.deletionTimestamp)"
check_eq "nothing changed: web's pod on hollow-1 is there" "$web1" "$(on_node hollow-1)"
check "nothing changed: web has 2 Ready pods" deploy_ok web 2
check_not_contains "no Evicted event" "$(cat "$MNT/events")" "Evicted"

# force evicts it too.

if echo force >"$N/hollow-1/drain"; then ok "echo force > nodes/hollow-1/drain"; else fail "echo force > nodes/hollow-1/drain" "$(tail -n 2 "$MNT/errors")"; fi
check_eq "hollow-1 is cordoned" 1 "$(cat "$N/hollow-1/unschedulable")"
forced() {
	[ ! -e "$SP/solo.yaml" ] && [ -z "$(on_node hollow-1)" ] && deploy_ok web 2
}
if wait_until 15 forced; then
	ok "after the forced drain: side/solo is gone, web has 2 Ready pods, none on hollow-1"
else
	fail "after the forced drain: side/solo is gone, web has 2 Ready pods, none on hollow-1" \
		"solo: $(ls "$SP")" "$(state web)"
fi
check_contains "events: Evicted for side/solo" "$(cat "$MNT/events")" "Evicted side/pod/solo"
check_contains "events: Evicted for $web1" "$(cat "$MNT/events")" "Evicted pod/$web1"
if wait_until 5 test "$(cat "$N/hollow-1/drain")" = 1; then ok "nodes/hollow-1/drain reads 1"; else fail "nodes/hollow-1/drain reads 1" "$(cat "$N/hollow-1/drain")"; fi

# A drain of managed pods only goes through, as before.

check "uncordon hollow-1" sh -c "echo 0 > $N/hollow-1/unschedulable"
web2=$(on_node hollow-2)
if [ -n "$web2" ]; then ok "hollow-2 holds web's pods ($web2)"; else fail "hollow-2 holds web's pods" "$(state web)"; fi
if echo 1 >"$N/hollow-2/drain"; then ok "echo 1 > nodes/hollow-2/drain (only managed pods)"; else fail "echo 1 > nodes/hollow-2/drain (only managed pods)" "$(tail -n 2 "$MNT/errors")"; fi
moved() {
	[ -z "$(on_node hollow-2)" ] && deploy_ok web 2
}
if wait_until 15 moved; then
	ok "web's pods are evicted from hollow-2 and replaced on hollow-1"
else
	fail "web's pods are evicted from hollow-2 and replaced on hollow-1" "$(state web)"
fi
for p in $web2; do
	check_not "the drained pod $p is gone" test -e "$P/$p.yaml"
done
check_eq "hollow-2 is cordoned" 1 "$(cat "$N/hollow-2/unschedulable")"
check_contains "the refused drain and the writes are the only refusals" "$(warnings)" "warnings:     3 refused writes"

check_stop
cfs_done
