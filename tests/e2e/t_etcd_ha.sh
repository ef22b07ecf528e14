#!/bin/bash
# t_etcd_ha.sh - several servers on one etcd (issue 15): a 3-member etcd
# cluster on loopback ports of the test's own and two servers, ha-a and
# ha-b, each with its own data dir and mount (--no-agent), on it.
#
# Hollow nodes: only ha-b runs them (--hollow-nodes: hollow-ha-b-1..12,
# named after --server-name), so that killing ha-a leaves every node up.
# ha-a starts first and leads; it is the one killed.
#
#  - both status files say `leader: ha-a`; a write through one mount is
#    readable through the other at once;
#  - kill -9 of the leader during a scale-up: ha-b leads within the lease
#    (3 s here) and the Deployment reaches exactly its replicas, one
#    ReplicaSet;
#  - ha-a back; the leader ha-b SIGSTOPped past its lease: ha-a leads;
#    ha-b resumed does not act (its loops' writes are fenced off) and
#    nothing is duplicated;
#  - kill -9 of one etcd member during writes: the writes go on, and every
#    acknowledged one is there, object by object;
#  - two of three members down: a write fails with EIO and a line in
#    /cluster/errors; everything works again when they return (reads
#    without a quorum: t_etcd_stale.sh).
#
# e2e-time-limit: 420
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

PODS=${CFS_HA_PODS:-1000}
LEASE=3
PREFIX=/t_etcd_ha
MNT2=$T_BASE/mnt2
DATA2=$T_BASE/data2
mkdir -p "$MNT2" "$DATA2"
B_PID=""

# At cleanup (before the members go): a stopped server would never see
# the TERM; CFS_HA_LOGS=DIR keeps the servers' and members' logs there.
ha_cleanup() {
	kill -CONT $B_PID $CFS_PID 2>/dev/null
	if [ -n "${CFS_HA_LOGS:-}" ]; then
		mkdir -p "$CFS_HA_LOGS"
		cp "$DATA/server.log" "$CFS_HA_LOGS/ha-a.log"
		cp "$DATA2/server.log" "$CFS_HA_LOGS/ha-b.log"
		cp "$ETCD_BASE"/m*.log "$CFS_HA_LOGS/"
	fi
}
cfs_on_cleanup ha_cleanup
. "$(dirname "$0")/lib_etcd.sh"

etcd_up 3 || cfs_abort "a 3-member etcd cluster starts"
ok "a 3-member etcd cluster runs on loopback"

# ---- the servers ----

HA_ARGS=(--etcd "$ETCD_ENDPOINTS" --etcd-prefix "$PREFIX" --leader-elect-lease-duration "$LEASE")

# leader_of MNT: the name on status's leader line.
leader_of() {
	sed -n 's/^leader: *//p' "$1/status" 2>/dev/null
}

# leads MNT NAME: status on MNT names NAME the leader.
leads() {
	[ "$(leader_of "$1")" = "$2" ]
}

# b_start: ha-b on MNT2 and DATA2, with 12 hollow nodes (110 pods each).
b_start() {
	"$CLUSTERFS" server --no-agent --listen 127.0.0.1:0 --mount "$MNT2" --data-dir "$DATA2" \
		--server-name ha-b --hollow-nodes 12 "${HA_ARGS[@]}" >>"$DATA2/server.log" 2>&1 &
	B_PID=$!
	_cfs_record_pid "$B_PID"
	CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $B_PID"
	wait_until 20 test -e "$MNT2/README"
}

# A stopped server would never see the TERM of the cleanup.

cfs_start --server-name ha-a "${HA_ARGS[@]}" || cfs_abort "ha-a starts on etcd"
wait_until 10 leads "$MNT" ha-a || cfs_abort "ha-a leads (status: $(leader_of "$MNT"))"
b_start || cfs_abort "ha-b starts on etcd ($(tail -n 5 "$DATA2/server.log"))"
wait_until 10 leads "$MNT2" ha-a
check_eq "status on ha-a names the leader ha-a" ha-a "$(leader_of "$MNT")"
check_eq "status on ha-b names the leader ha-a" ha-a "$(leader_of "$MNT2")"
wait_until 20 grep -q 'nodes: *12 ready' "$MNT/status"
check_contains "ha-a sees ha-b's 12 hollow nodes ready" "$(cat "$MNT/status")" "12 ready, 0 not ready"

# A write through one mount, read through the other at once.

cat >"$WORK/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: hello
data:
  greeting: written through ha-a
EOF
check_eq "a ConfigMap written through ha-a's mount" OK "$(cfs_write "$MNT/configmaps/hello.yaml" "$WORK/cm.yaml")"
check_eq "read through ha-b's mount at once" '"written through ha-a"' "$(yget "$MNT2/configmaps/hello.yaml" data.greeting)"
sed 's/through ha-a/through ha-b/' "$WORK/cm.yaml" >"$WORK/cm2.yaml"
check_eq "changed through ha-b's mount" OK "$(cfs_write "$MNT2/configmaps/hello.yaml" "$WORK/cm2.yaml")"
check_eq "the change read through ha-a's mount at once" '"written through ha-b"' "$(yget "$MNT/configmaps/hello.yaml" data.greeting)"

# ---- kill -9 of the leader during a scale-up ----

P=$MNT2/pods
D=$MNT2/deployments
RSD=$MNT2/replicasets
npods_in() { ls "$1/pods" | grep -c '\.yaml$'; }
running_in() { sed -n 's/^pods: .*, \([0-9]*\) Running,.*/\1/p' "$1/status"; }
nrs() { ls "$RSD" | grep -c '\.yaml$'; }
# exactly N: N pods, all Running, one ReplicaSet, and the Deployment's
# status says N, for 3 s running.
exactly() {
	local i
	for i in 1 2 3; do
		[ "$(npods_in "$MNT2")" = "$1" ] && [ "$(running_in "$MNT2")" = "$1" ] &&
			[ "$(nrs)" = 1 ] && [ "$(yvals "$D/web/status" replicas)" = "$1" ] || return 1
		sleep 1
	done
}

web_deployment web "$PODS" >"$WORK/web.yaml"
t0=$(now_ms)
check "a Deployment of $PODS written through ha-b's mount" cp "$WORK/web.yaml" "$D/web.yaml"
some_pods() { [ "$(npods_in "$MNT2")" -gt 0 ]; }
wait_until 60 some_pods || {
	fail "the scale-up starts" "pods: $(npods_in "$MNT2")"
	cfs_done
}
running=$(running_in "$MNT2")
cfs_kill9
t_kill=$(now_ms)
if [ "$running" -lt "$PODS" ]; then
	ok "ha-a killed -9 during the scale-up ($(npods_in "$MNT2") pods made, $running of $PODS Running)"
else
	fail "ha-a killed -9 during the scale-up" "all $PODS pods were Running already"
fi
if wait_until $((LEASE + 5)) leads "$MNT2" ha-b; then
	ok "ha-b leads $(($(now_ms) - t_kill)) ms after the kill (lease ${LEASE}s)"
else
	fail "ha-b leads within the lease" "leader: $(leader_of "$MNT2")" "$(grep elect "$DATA2/server.log" | tail -n 5)"
fi
if wait_until 180 exactly "$PODS"; then
	ok "the Deployment reaches exactly $PODS pods, all Running, and one ReplicaSet ($(($(now_ms) - t0)) ms)"
else
	fail "the Deployment reaches exactly $PODS pods and one ReplicaSet" \
		"pods: $(npods_in "$MNT2"), replicasets: $(ls "$RSD" | tr '\n' ' ')" "status: $(yvals "$D/web/status" replicas)"
fi

# ---- a paused leader does not act after losing the lease ----

cfs_unmount "$MNT"
cfs_start --server-name ha-a "${HA_ARGS[@]}" || cfs_abort "ha-a starts again"
wait_until 10 leads "$MNT" ha-b
check_eq "ha-a back: ha-b still leads" ha-b "$(leader_of "$MNT")"
N2=$((PODS + PODS / 10))
echo "$N2" >"$MNT/deployments/web/replicas"
kill -STOP "$B_PID"
t_stop=$(now_ms)
if wait_until $((LEASE + 8)) leads "$MNT" ha-a; then
	ok "ha-b paused: ha-a leads $(($(now_ms) - t_stop)) ms later"
else
	fail "ha-b paused: ha-a leads" "leader: $(leader_of "$MNT")" "$(grep elect "$DATA/server.log" | tail -n 5)"
fi
sleep 1
kill -CONT "$B_PID"
if wait_until 10 grep -q 'ha-b: no longer the leader' "$DATA2/server.log"; then
	ok "ha-b resumed knows it no longer leads"
else
	fail "ha-b resumed knows it no longer leads" "$(grep -E 'elect|leading' "$DATA2/server.log" | tail -n 5)"
fi
wait_until 10 leads "$MNT2" ha-a
check_eq "ha-b's status names ha-a" ha-a "$(leader_of "$MNT2")"
if wait_until 120 exactly "$N2"; then
	ok "scaled to exactly $N2 pods, all Running, one ReplicaSet: nothing duplicated"
else
	fail "scaled to exactly $N2 pods, one ReplicaSet" \
		"pods: $(npods_in "$MNT2"), replicasets: $(ls "$RSD" | tr '\n' ' ')"
fi
fenced=$(grep -c 'fenced off' "$DATA2/server.log")
echo "# ha-b's writes fenced off after it resumed: $fenced"

# ---- kill -9 of one etcd member during writes ----

cm() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  n: "%s"\n' "$1" "$1"
}
: >"$WORK/acked"
for i in $(seq 1 60); do
	[ "$i" = 20 ] && etcd_kill_member 1
	if [ "$(cm "cm-$i" | cfs_write "$MNT/configmaps/cm-$i.yaml")" = OK ]; then
		echo "cm-$i" >>"$WORK/acked"
	fi
done
acked=$(grep -c . "$WORK/acked")
if [ "$acked" -ge 55 ]; then
	ok "writes go on with member 1 killed -9 ($acked of 60 acknowledged)"
else
	fail "writes go on with member 1 killed -9" "$acked of 60 acknowledged"
fi
missing=""
while read -r name; do
	[ "$(yget "$MNT2/configmaps/$name.yaml" data.n)" = "\"$name\"" ] || missing="$missing $name"
done <"$WORK/acked"
check_eq "every acknowledged write is there, object by object (through ha-b)" "" "$missing"
etcd_start_member 1
etcd_wait_member 1 || fail "member 1 is back"

# ---- two of three members down ----

etcd_kill_member 2
etcd_kill_member 3
before=$(errors_lines)
out=$(cm quorum | cfs_write "$MNT/configmaps/quorum.yaml")
check_contains "without a quorum a write fails with EIO" "$out" "EIO"
check_contains "and /cluster/errors says so" "$(errors_since "$before")" "quorum"
etcd_start_member 2
etcd_start_member 3
etcd_wait_member 2
etcd_wait_member 3
write_quorum() { [ "$(cm quorum | cfs_write "$MNT/configmaps/quorum.yaml")" = OK ]; }
if wait_until 30 write_quorum; then
	ok "the members back: writes work again"
else
	fail "the members back: writes work again" "$(cm quorum | cfs_write "$MNT/configmaps/quorum.yaml")"
fi
wait_until 10 test -e "$MNT2/configmaps/quorum.yaml"
check "and the other server reads it" test -e "$MNT2/configmaps/quorum.yaml"

check_stop "ha-a stops"
kill -TERM "$B_PID"
wait "$B_PID"
check_eq "ha-b stops with status 0" 0 "$?"
cfs_done
