#!/bin/bash
# t_churn.sh - no growth under pod churn (issue 16): CHURN_CYCLES (60)
# create/delete cycles of a 10-pod Deployment of real busybox containers
# on the local node.  Once the last cycle's pods are gone, with the server
# still running: no runc container, pause process, zombie child of the
# server, mount under the data dir, veth on the pod bridge, file under pods/ or logs/, or pod cgroup is
# left of any pod the cycles made, and the server holds no more fds than
# after the warm-up cycles (CHURN_WARM, 45: the watch ring full, the
# Events of deleted pods expiring as fast as they come, some 90 s), and no
# more threads but the idle FUSE workers libfuse may keep (16, fs.c).  Its
# VmRSS grows by at most CHURN_RSS_KIB (5120) over the last 15 cycles:
# about 2 MiB now; before the watch ring was bounded in bytes and the
# Events of deleted pods expired, every cycle added about 0.9 MiB (some
# 14 MiB here).
# (tests/bench/bench_soak.sh runs 1,000 such cycles.)
# e2e-time-limit: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

CYCLES=${CHURN_CYCLES:-60}
WARM=${CHURN_WARM:-45}
RSS_MAX=${CHURN_RSS_KIB:-5120}
P=$MNT/pods
NODE=t-churn

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name "$NODE" --pod-cidr 10.86.0.0/16 || cfs_abort "server did not start"
check "the node is Ready" wait_until 20 grep -q "^nodes: *1 ready" "$MNT/status"

cat >"$WORK/churn.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn
spec:
  replicas: 10
  selector:
    matchLabels:
      app: churn
  template:
    metadata:
      labels:
        app: churn
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        imagePullPolicy: Never
        command: ["sleep", "100000"]
EOF

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$CFS_PID/status"; }
fds() { ls "/proc/$CFS_PID/fd" | wc -l; }
threads() { awk '$1 == "Threads:" { print $2 }' "/proc/$CFS_PID/status"; }
running() { [ "$(grep -lx Running "$P"/churn-*/phase 2>/dev/null | wc -l)" -ge 10 ]; }
runc_left() { runc --root "$DATA/runc" list -q 2>/dev/null | grep -c .; }
gone() {
	! ls "$P" "$MNT/replicasets" 2>/dev/null | grep -q '^churn' && [ "$(runc_left)" = 0 ]
}

: >"$WORK/uids"
c=1
ok_cycles=0
while [ $c -le "$CYCLES" ]; do
	cp "$WORK/churn.yaml" "$MNT/deployments/churn.yaml" || break
	wait_until 60 running || { fail "cycle $c: 10 pods Running" "$(ls "$P")"; break; }
	ls "$DATA/logs" >>"$WORK/uids" # a folder per pod (its uid) while it runs
	rm -f "$MNT/deployments/churn.yaml"
	wait_until 60 gone || { fail "cycle $c: the pods and containers are gone" "$(ls "$P")"; break; }
	if [ $c = "$WARM" ]; then
		rss_w=$(rss)
		fds_w=$(fds)
		thr_w=$(threads)
	fi
	ok_cycles=$c
	c=$((c + 1))
done
check_eq "$CYCLES create/delete cycles of 10 pods" "$CYCLES" "$ok_cycles"
[ -n "${rss_w:-}" ] || cfs_abort "the warm-up cycles did not complete"
check_eq "$((CYCLES * 10)) pods were made" "$((CYCLES * 10))" "$(sort -u "$WORK/uids" | grep -c .)"

# What is left, with the server running.
check_eq "no runc container" 0 "$(runc_left)"
check_eq "no pause process" "" "$(for d in /proc/[0-9]*; do
	{ tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep -q "^CLUSTERFS_POD_DIR=$DATA/" && echo "${d#/proc/}"
done)"
# a child the server started and never reaped (a pause or a log relay;
# pause_kill once left one now and then): given 3 s for one just ended
zombies() { ps --ppid "$CFS_PID" -o pid=,stat=,comm= 2>/dev/null | awk '$2 ~ /^Z/'; }
no_zombie() { [ -z "$(zombies)" ]; }
wait_until 3 no_zombie
check_eq "no zombie under the server" "" "$(zombies)"
check_eq "no mount under the data dir" "" "$(awk -v d="$DATA/" 'index($2, d) == 1 { print $2 }' /proc/mounts)"
check_eq "no file under pods/ or logs/" "" "$(find "$DATA/pods" "$DATA/logs" -mindepth 1 2>/dev/null | head -5)"
cg=""
while read -r u; do
	[ -d "/sys/fs/cgroup/clusterfs/pod$u" ] && cg="$cg pod$u"
done < <(sort -u "$WORK/uids")
check_eq "no pod cgroup" "" "$cg"
br=$(ip -o link show type bridge | awk -F': ' '{ print $2 }' | while read -r b; do
	ip -o addr show dev "$b" 2>/dev/null | grep -q ' 10\.86\.' && echo "$b"
done)
check "the pod bridge is there" test -n "$br"
check_eq "no veth on the pod bridge ($br)" "" "$(ip -o link show master "$br" 2>/dev/null | head -3)"

# The server: fds and threads back to their count after the warm-up (a
# thread or fd that ends a moment after its pod is given 5 s), VmRSS.
FUSE_IDLE=16
settled() { [ "$(fds)" -le "$fds_w" ] && [ "$(threads)" -le $((thr_w + FUSE_IDLE)) ]; }
wait_until 5 settled
check "fds: $(fds) now, $fds_w after cycle $WARM" test "$(fds)" -le "$fds_w"
check "threads: $(threads) now, $thr_w after cycle $WARM (+ up to $FUSE_IDLE idle FUSE workers)" \
	test "$(threads)" -le $((thr_w + FUSE_IDLE))
rss_e=$(rss)
check "VmRSS grew by at most $RSS_MAX KiB from cycle $WARM to $CYCLES ($rss_w -> $rss_e KiB)" \
	test $((rss_e - rss_w)) -le "$RSS_MAX"

check_stop
cfs_done
