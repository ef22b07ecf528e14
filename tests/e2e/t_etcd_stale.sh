#!/bin/bash
# t_etcd_stale.sh - reads and writes when etcd loses its quorum (issue 15,
# docs/etcd.md "When etcd is unavailable"): one server on a 3-member etcd
# cluster of the test's own, with its mount and HTTPS API.
#
#  - two of three members killed -9: reading an object file or listing a
#    folder fails with EIO, and /cluster/errors says why once (not once
#    per read); /cluster/status stays readable and says reads may be
#    stale; a write fails with EIO and its own line;
#  - over HTTP: a LIST and a GET without resourceVersion answer 503
#    ServiceUnavailable with a Status; kubectl get says so; with
#    resourceVersion=0 they are served from the server's copy (200); a
#    write answers 503 and its line is in /cluster/errors;
#  - the members back: reads, writes, status and kubectl work again.
#  - the cost of the sync on open: N cats of one file on etcd (printed);
#  - first, a second server: each one's --hollow-nodes are named after its
#    --server-name (hollow-st-a-1, hollow-st-b-1), none collide.
#
# e2e-time-limit: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_http.sh"
. "$(dirname "$0")/lib_etcd.sh"

MNT2=$T_BASE/mnt2
DATA2=$T_BASE/data2
mkdir -p "$MNT2" "$DATA2"
etcd_up 3 || cfs_abort "a 3-member etcd cluster starts"
ARGS=(--etcd "$ETCD_ENDPOINTS" --etcd-prefix /t_etcd_stale --hollow-nodes 2)
cfs_start --server-name St-A "${ARGS[@]}" || cfs_abort "the server starts on etcd"
http_env
check_contains "status names the store" "$(cat "$MNT/status")" "store:        etcd"

# Two servers, each with hollow nodes of its own names (--server-name).
"$CLUSTERFS" server --no-agent --listen 127.0.0.1:0 --mount "$MNT2" --data-dir "$DATA2" \
	--server-name st-b "${ARGS[@]}" >>"$DATA2/server.log" 2>&1 &
B_PID=$!
_cfs_record_pid "$B_PID"
CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $B_PID"
wait_until 20 test -e "$MNT2/README" || cfs_abort "the second server starts ($(tail -n 5 "$DATA2/server.log"))"
wait_until 20 grep -q 'nodes: *4 ready' "$MNT/status"
check_eq "each server's hollow nodes have names of their own" \
	"hollow-st-a-1.yaml hollow-st-a-2.yaml hollow-st-b-1.yaml hollow-st-b-2.yaml" \
	"$(ls "$MNT/nodes" | grep '\.yaml$' | tr '\n' ' ' | sed 's/ $//')"
check_contains "all 4 ready" "$(cat "$MNT/status")" "nodes:        4 ready, 0 not ready"
kill -TERM "$B_PID"
wait "$B_PID"
check_eq "the second server stops with status 0" 0 "$?"

cm() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  n: "%s"\n' "$1" "$1"
}
check_eq "a ConfigMap written" OK "$(cm one | cfs_write "$MNT/configmaps/one.yaml")"

# The cost of the sync on open: one etcd round trip per cat.
N=200
t0=$(now_ms)
for i in $(seq 1 $N); do cat "$MNT/configmaps/one.yaml" >/dev/null; done
t1=$(now_ms)
cm one >"$WORK/local.yaml"
for i in $(seq 1 $N); do cat "$WORK/local.yaml" >/dev/null; done
t2=$(now_ms)
echo "# $N cats of one file on etcd: $((t1 - t0)) ms ($(((t1 - t0) * 1000 / N)) us each;" \
	"$(((t2 - t1) * 1000 / N)) us each for a local file)"

# and over HTTP, where only the sync differs: GETs with and without resourceVersion=0.
get_n() {
	local i
	for i in $(seq 1 100); do a "/api/v1/namespaces/default/configmaps/one$1" >/dev/null; done
}
t0=$(now_ms)
get_n ""
t1=$(now_ms)
get_n "?resourceVersion=0"
t2=$(now_ms)
echo "# 100 HTTP GETs: $(((t1 - t0) * 10)) us each synced, $(((t2 - t1) * 10)) us each with resourceVersion=0"

# ---- two of three members down ----

etcd_kill_member 2
etcd_kill_member 3
before=$(errors_lines)
expect_errno EIO "without a quorum, reading an object file fails" cat "$MNT/configmaps/one.yaml"
expect_errno EIO "and so does listing a folder" ls "$MNT/configmaps"
expect_errno EIO "and a second read" cat "$MNT/configmaps/one.yaml"
lines=$(errors_since "$before")
check_eq "/cluster/errors says why, once" 1 "$(printf '%s\n' "$lines" | grep -c 'reads fail')"
check_contains "naming the store's error" "$lines" "etcd"
st=$(cat "$MNT/status")
check_contains "status stays readable and says reads may be stale" "$st" "reads may be stale since"
check "errors stays readable" cat "$MNT/errors"
before=$(errors_lines)
out=$(cm one | sed 's/n: "one"/n: "changed"/' | cfs_write "$MNT/configmaps/one.yaml")
check_contains "a write fails with EIO" "$out" "EIO"
check_contains "with its own line in /cluster/errors" "$(errors_since "$before")" "configmaps/one.yaml: EIO"

body=$(a /api/v1/namespaces/default/configmaps)
check_eq "HTTP LIST without resourceVersion: 503" 503 "$(code)"
check_eq "with a Status ServiceUnavailable" "Status ServiceUnavailable" \
	"$(printf %s "$body" | jv 'd["kind"] + " " + d["reason"]')"
a /api/v1/namespaces/default/configmaps/one >/dev/null
check_eq "HTTP GET without resourceVersion: 503" 503 "$(code)"
body=$(a '/api/v1/namespaces/default/configmaps?resourceVersion=0')
check_eq "HTTP LIST with resourceVersion=0: 200 from the server's copy" 200 "$(code)"
check_contains "and it has the ConfigMap" "$body" '"one"'
before=$(errors_lines)
a /api/v1/namespaces/default/configmaps -X POST -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"posted"}}' >/dev/null
check_eq "HTTP write: 503" 503 "$(code)"
check_contains "and its line in /cluster/errors" "$(errors_since "$before")" "POST /api/v1/namespaces/default/configmaps: EIO"
K=$(kubectl_bin 1.32)
[ -n "$K" ] || K=$(command -v kubectl)
if [ -n "$K" ]; then
	out=$("$K" get configmaps 2>&1)
	check_contains "kubectl get says the server is unavailable" "$out" "ServiceUnavailable"
	echo "# kubectl: $(printf '%s\n' "$out" | tail -n 1 | cut -c1-200)"
fi

# ---- the members back ----

etcd_start_member 2
etcd_start_member 3
etcd_wait_member 2
etcd_wait_member 3
read_ok() { cat "$MNT/configmaps/one.yaml" >/dev/null 2>&1; }
wait_until 30 read_ok
check "the members back: reads work again" cat "$MNT/configmaps/one.yaml"
check_not_contains "status no longer says stale" "$(cat "$MNT/status")" "may be stale"
write_ok() { [ "$(cm three | cfs_write "$MNT/configmaps/three.yaml")" = OK ]; }
wait_until 30 write_ok
check "writes work again" write_ok
a /api/v1/namespaces/default/configmaps >/dev/null
check_eq "HTTP LIST: 200 again" 200 "$(code)"
if [ -n "$K" ]; then
	check_contains "kubectl get works again" "$("$K" get configmaps 2>&1)" "three"
fi
check_stop "the server stops"
cfs_done
