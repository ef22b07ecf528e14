#!/bin/bash
# t_etcd.sh - the store on etcd: a server with --etcd (a one-member etcd
# from lib_etcd.sh), --no-agent and hollow nodes;
# no state.db in the data dir; a Deployment reaches its replicas; the
# objects are etcd's keys; kill -9 of the server during writes and a
# restart on the same etcd keeps every acknowledged write (checked object
# by object), and a scale-up cut by the kill ends at exactly its replicas; an object over etcd's request limit is
# refused with E2BIG.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_etcd.sh"

D=$MNT/deployments
P=$MNT/pods
etcd_up 1 || cfs_abort "a one-member etcd starts"
EURL=$ETCD_ENDPOINTS
ok "etcd runs on $EURL"

npods() {
	ls "$P" | grep -c '\.yaml$'
}
converged() {
	grep -q "^pods: *$1 (0 Pending, $1 Running, 0 Succeeded, 0 Failed, 0 Unknown)" "$MNT/status" &&
		[ "$(npods)" = "$1" ]
}

cfs_start --etcd "$EURL" --hollow-nodes 3 || cfs_abort "server starts with --etcd $EURL"
wait_until 10 test -f "$MNT/nodes/hollow-3.yaml" || cfs_abort "the hollow nodes are registered"
check_not "no state.db in the data dir" test -e "$DATA/state.db"
keys=$(etcd_ctl get --prefix --keys-only /clusterfs/ | grep -c .)
if [ "$keys" -gt 3 ]; then ok "the objects are keys under /clusterfs/ in etcd ($keys)"; else fail "the objects are keys under /clusterfs/ in etcd" "$keys keys"; fi
check_contains "namespace default is in etcd" "$(etcd_ctl get --keys-only /clusterfs/Namespace//default)" default

cat >"$WORK/web.yaml" <<'EOF2'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 150
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: busybox:1.36
        command: ["sleep", "3600"]
EOF2
check "cp web.yaml (150 replicas)" cp "$WORK/web.yaml" "$D/"
if wait_until 60 converged 150; then
	ok "the Deployment reaches 150 pods, all Running"
else
	fail "the Deployment reaches 150 pods, all Running" "$(grep '^pods:' "$MNT/status")" "pod files: $(npods)"
fi
# (status writes may move it between the two reads: a few tries)
rv_is_mod_rev() {
	rv=$(yget "$D/web.yaml" metadata.resourceVersion | tr -d '"')
	erev=$(etcd_ctl get /clusterfs/Deployment/default/web -w json |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
	[ -n "$rv" ] && [ "$rv" = "$erev" ]
}
if wait_until 5 rv_is_mod_rev; then
	ok "resourceVersion is the key's mod revision in etcd ($rv)"
else
	fail "resourceVersion is the key's mod revision in etcd" "file $rv, etcd $erev"
fi

# The writer: ConfigMaps cm-1, cm-2, ... through the mount; each cp that
# returned 0 is recorded; it stops at the first failure.
cat >"$WORK/writer.sh" <<'EOF2'
mnt=$1 work=$2
i=1
while [ $i -le 5000 ]; do
	f=$work/in/cm-$i.yaml
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  value: "value-%d"\n' $i $i >"$f"
	if cp "$f" "$mnt/configmaps/cm-$i.yaml" 2>>"$work/writer.err"; then
		echo "cm-$i" >>"$work/acked"
	else
		echo "cm-$i" >"$work/failed-at"
		exit 0
	fi
	i=$((i + 1))
done
EOF2
mkdir -p "$WORK/in"
: >"$WORK/acked"
# and a scale-up to 300 in flight when the server dies
check "scale web to 300" sh -c "echo 300 >'$D/web/replicas'"
bash "$WORK/writer.sh" "$MNT" "$WORK" &
WRITER=$!
cfs_bg "$WRITER"
for _ in $(seq 100); do
	[ "$(grep -c . "$WORK/acked")" -ge 20 ] && break
	sleep 0.1
done
cfs_kill9
check_eq "kill -9 ends the server" "" "$CFS_PID"
i=0
while kill -0 "$WRITER" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$WRITER" 2>/dev/null
acked=$(grep -c . "$WORK/acked")
if [ "$acked" -gt 0 ]; then ok "$acked writes were acknowledged before the crash"; else fail "writes were acknowledged before the crash" "$(cat "$WORK/writer.err")"; fi

cfs_start --etcd "$EURL" --hollow-nodes 3 || cfs_abort "the server restarts on the same etcd"
ok "the server restarts on the same etcd"
missing=""
wrong=""
for name in $(cat "$WORK/acked"); do
	i=${name#cm-}
	v=$(cat "$MNT/configmaps/$name/data/value" 2>/dev/null)
	if [ $? -ne 0 ]; then
		missing="$missing $name"
	elif [ "$v" != "value-$i" ]; then
		wrong="$wrong $name"
	fi
done
check_eq "every acknowledged ConfigMap survived the crash" "" "$missing"
check_eq "every acknowledged ConfigMap has its content" "" "$wrong"
check_eq "Deployment web survived (replicas 300)" 300 "$(cat "$D/web/replicas")"
if wait_until 60 converged 300; then
	ok "it converges to exactly 300 pods, all Running"
else
	fail "it converges to exactly 300 pods, all Running" "$(grep '^pods:' "$MNT/status")" "pod files: $(npods)"
fi
check_eq "one ReplicaSet" 1 "$(ls "$MNT/replicasets" | grep -c '\.yaml$')"
check_not "still no state.db in the data dir" test -e "$DATA/state.db"

# A cascade larger than one etcd transaction: the Deployment, its
# ReplicaSet and 300 pods.
check "rm deployments/web.yaml (300 pods under it)" rm "$D/web.yaml"
check_not "the Deployment is gone" test -e "$D/web.yaml"
no_pods() { [ "$(npods)" = 0 ]; }
if wait_until 60 no_pods; then ok "its 300 pods go"; else fail "its 300 pods go" "$(npods) left"; fi
check_eq "no ReplicaSet left" 0 "$(ls "$MNT/replicasets" | grep -c '\.yaml$')"

# An object over etcd's request limit (1.5 MiB) is refused, not hung.
"$PY" -c 'print("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  v: " + "a" * 1700000)' >"$WORK/huge.yaml"
t0=$(now_ms)
out=$(cfs_write "$MNT/configmaps/huge.yaml" "$WORK/huge.yaml")
t1=$(now_ms)
case "$out" in
E2BIG* | EFBIG*) ok "an object over etcd's request limit is refused ($out)" ;;
*) fail "an object over etcd's request limit is refused with E2BIG" "$out" ;;
esac
if [ $((t1 - t0)) -lt 5000 ]; then ok "at once ($((t1 - t0)) ms)"; else fail "the refusal comes at once" "$((t1 - t0)) ms"; fi
check_contains "a line in /cluster/errors says why" "$(cat "$MNT/errors")" "huge"

check_stop
cfs_done
