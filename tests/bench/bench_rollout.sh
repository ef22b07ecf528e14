#!/bin/sh
# bench_rollout.sh CLUSTERFS [IMAGE_TAR] - the rolling update benchmark
# (issue 6): how long a rolling update of a Deployment takes, with real
# containers that become ready after 1 s, and on hollow nodes at 1,000
# replicas.
#
#   real     One server with the node agent (--pod-cidr 10.84.0.0/16,
#            --service-cidr 10.94.0.0/16).  A Deployment of 10 busybox
#            httpd replicas with an httpGet readinessProbe on :8080,
#            initialDelaySeconds 1, periodSeconds 1, and an env var ROLL.
#            For each strategy (maxSurge/maxUnavailable 25%/25%, the
#            default; then 1/0): create it and wait for its first rollout,
#            then BENCH_RUNS (3) times: `sed -i` of the env var's value in
#            deployments/NAME.yaml (a template change), and the time from
#            just before the sed until `cat deployments/NAME/rollout` (which
#            blocks until the rollout is complete) returns 0.  Then rm and a
#            wait until no pod or runc container is left.
#   hollow   One server with --no-agent --hollow-nodes BENCH_HOLLOW_NODES
#            (100): a Deployment of BENCH_HOLLOW_REPLICAS (1000) replicas
#            (hollow pods are Ready as soon as they are bound), default
#            strategy; minReadySeconds 0, then 1 (the 1 s readiness delay
#            in the form the controller itself counts); the same sed and
#            clock, BENCH_RUNS times each.
#
# Peer: no Kubernetes here; the summary prints a model (see
# docs/benchmarks.md), not a measurement.
#
# It runs a private copy of CLUSTERFS; the trap stops only the server it
# started (by PID), runs `clusterfs reset --data-dir`, unmounts and
# removes its temporary dir; at the end it checks nothing of ours is left.
# Not root: skipped.  Knobs: BENCH_RUNS (3), BENCH_HOLLOW_NODES (100),
# BENCH_HOLLOW_REPLICAS (1000), BENCH_PARTS ("real hollow").
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_rollout.sh CLUSTERFS [IMAGE_TAR]" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFS_ORIG=$(realpath "$1")
TAR=$(realpath -m "${2:-$SRC/build/images/busybox.tar}")
RUNS=${BENCH_RUNS:-3}
HN=${BENCH_HOLLOW_NODES:-100}
HR=${BENCH_HOLLOW_REPLICAS:-1000}
PARTS=${BENCH_PARTS:-real hollow}
POD_CIDR=10.84.0.0/16
SVC_CIDR=10.94.0.0/16
GW=10.84.0.1/16

echo "== rollout: rolling update time, 10 real replicas and $HR hollow ones"
if [ "$(id -u)" != 0 ]; then
	echo "bench_rollout.sh: not root; runc and the agent need root: skipped"
	exit 0
fi
if ip -o -4 addr show | awk -v g="$GW" '$4 == g { f = 1 } END { exit !f }'; then
	echo "bench_rollout.sh: $GW is already on a bridge (another server with this pod CIDR?); skipped" >&2
	exit 1
fi
if [ ! -s "$TAR" ]; then
	sh "$SRC/scripts/busybox-image.sh" "$(dirname "$TAR")" >/dev/null || exit 1
fi

BENCH_NAME=bench_rollout.sh
BENCH_STOP_GRACE=30
BENCH_RESET=1
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-rollout "$CFS_ORIG"
res=$tmp/results
: >"$res"

now_ms() { date +%s%3N; }
bg() { bench_bg "$@"; }
wait_for() { bench_wait_for "$@"; }
# start_server DATA_DIR ARGS...: a server on $mnt; waits until it is mounted.
start_server() {
	bench_start_server "$@"
	bench_wait_ready 15
}
no_pods() { ! ls "$mnt/pods" | grep -q "^$1-"; }

# manifest NAME REPLICAS SURGE UNAVAIL MINREADY REAL(1|0)
manifest() {
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n' "$1"
	printf '  replicas: %s\n  minReadySeconds: %s\n' "$2" "$5"
	printf '  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n'
	printf '      maxSurge: %s\n      maxUnavailable: %s\n' "$3" "$4"
	printf '  selector:\n    matchLabels: {app: %s}\n' "$1"
	printf '  template:\n    metadata:\n      labels: {app: %s}\n    spec:\n' "$1"
	printf '      terminationGracePeriodSeconds: 1\n      containers:\n      - name: c\n'
	printf '        image: busybox\n        imagePullPolicy: Never\n'
	printf '        env:\n        - {name: ROLL, value: rev-0}\n'
	if [ "$6" = 1 ]; then
		printf '        command: ["httpd", "-f", "-p", "8080", "-h", "/"]\n'
		printf '        readinessProbe:\n          tcpSocket: {port: 8080}\n'
		printf '          initialDelaySeconds: 1\n          periodSeconds: 1\n'
	fi
}

# roll KIND LABEL NAME: RUNS template changes of NAME, each timed to the
# end of `cat rollout`.
roll() {
	r=1
	while [ $r -le "$RUNS" ]; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(now_ms)
		if ! sed -i -E "s/rev-[0-9]+/rev-$r/" "$mnt/deployments/$3.yaml"; then
			echo "bench_rollout.sh: sed -i on $3.yaml failed" >&2
			failed=1
			return
		fi
		if ! bg timeout 300 cat "$mnt/deployments/$3/rollout" >"$tmp/rollout.out" 2>&1; then
			echo "bench_rollout.sh: $1 $2 run $r: cat rollout failed:" >&2
			tail -3 "$tmp/rollout.out" >&2
			failed=1
		else
			ms=$(($(now_ms) - t0))
			echo "$1 $2 $r $ms" >>"$res"
			printf '   %-6s %-22s run %s: %6d ms  (%s progress lines; load %s; revision %s)\n' "$1" "$2" "$r" "$ms" \
				"$(grep -c . "$tmp/rollout.out")" "$load" "$(cat "$mnt/deployments/$3/revision")"
		fi
		r=$((r + 1))
	done
}

bench_machine
echo "== $($CFS version) ($CFS_ID); $RUNS runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- real containers ----------------------------------------------------------
case " $PARTS " in *" real "*)
	"$CFS" image import --data-dir "$tmp/real" "$TAR" busybox:latest >"$tmp/import.out" 2>&1 ||
		{ cat "$tmp/import.out" >&2; exit 1; }
	start_server "$tmp/real" --node-name bench --pod-cidr "$POD_CIDR" --service-cidr "$SVC_CIDR"
	wait_for 15 grep -q "^nodes: *1 ready" "$mnt/status" || { echo "bench_rollout.sh: node not Ready" >&2; exit 1; }
	echo "== real: 10 replicas, readiness initialDelaySeconds 1 (server pid $pid)"
	for st in "25%:25%" "1:0"; do
		s=${st%%:*} u=${st#*:}
		name=r$(echo "$st" | tr -d '%:')
		manifest "$name" 10 "$s" "$u" 0 1 >"$tmp/$name.yaml"
		cp "$tmp/$name.yaml" "$mnt/deployments/" || exit 1
		t0=$(now_ms)
		bg timeout 120 cat "$mnt/deployments/$name/rollout" >/dev/null ||
			{ echo "bench_rollout.sh: $name: first rollout did not finish" >&2; exit 1; }
		echo "   $name: created, 10 Ready after $(($(now_ms) - t0)) ms"
		roll real "surge $s unavail $u" "$name"
		rm -f "$mnt/deployments/$name.yaml"
		wait_for 60 no_pods "$name" || { echo "bench_rollout.sh: $name: pods left" >&2; failed=1; }
	done
	wait_for 30 sh -c "[ -z \"\$(runc --root '$tmp/real/runc' list -q)\" ]" ||
		{ echo "bench_rollout.sh: runc containers left" >&2; failed=1; }
	bridge=$(ip -o -4 addr show | awk -v g="$GW" '$4 == g { print $2 }')
	table=$(nft list tables | awk '$2 == "ip" && $3 ~ /^clusterfs_/ { print $3 }' | while read -r t; do
		nft list table ip "$t" | grep -q "$SVC_CIDR" && echo "$t"; done | head -1)
	bench_stop_server
	bench_reset_data
	left=""
	[ -n "$(runc --root "$tmp/real/runc" list -q 2>/dev/null)" ] && left="$left runc"
	[ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1 && left="$left bridge:$bridge"
	[ -n "$table" ] && nft list table ip "$table" >/dev/null 2>&1 && left="$left nft:$table"
	[ -n "$left" ] && { echo "bench_rollout.sh: LEFT after reset:$left" >&2; failed=1; }
	[ -z "$left" ] && echo "   after reset: no runc container, bridge ($bridge) or nftables table ($table) of ours"
	;;
esac

# --- hollow nodes ---------------------------------------------------------------
case " $PARTS " in *" hollow "*)
	start_server "$tmp/hollow" --no-agent --hollow-nodes "$HN"
	wait_for 30 test -f "$mnt/nodes/hollow-$HN.yaml" || { echo "bench_rollout.sh: hollow nodes missing" >&2; exit 1; }
	echo "== hollow: $HR replicas on $HN hollow nodes, default strategy (server pid $pid)"
	for mr in 0 1; do
		name=h$mr
		manifest "$name" "$HR" "25%" "25%" "$mr" 0 >"$tmp/$name.yaml"
		cp "$tmp/$name.yaml" "$mnt/deployments/" || exit 1
		t0=$(now_ms)
		bg timeout 300 cat "$mnt/deployments/$name/rollout" >/dev/null ||
			{ echo "bench_rollout.sh: $name: first rollout did not finish" >&2; exit 1; }
		echo "   $name: created, $HR Ready after $(($(now_ms) - t0)) ms"
		roll hollow "minReadySeconds $mr" "$name"
		rm -f "$mnt/deployments/$name.yaml"
		wait_for 120 no_pods "$name" || { echo "bench_rollout.sh: $name: pods left" >&2; failed=1; }
	done
	rss=$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
	echo "   server VmHWM $rss MiB"
	bench_stop_server
	bench_reset_data
	;;
esac

median() { bench_median; }
echo
echo "clusterfs rolling updates, $(date -u '+%Y-%m-%d %H:%M UTC'), medians of $RUNS"
echo "binary:  $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '  %-7s %-24s %10s   %s\n' "nodes" "strategy" "median ms" "every run (ms)"
for key in "real surge 25% unavail 25%" "real surge 1 unavail 0" "hollow minReadySeconds 0" "hollow minReadySeconds 1"; do
	kind=${key%% *} lab=${key#* }
	vals=$(awk -v k="$kind" -v l="$lab" '$1 == k && index($0, k " " l " ") == 1 { print $NF }' "$res")
	[ -n "$vals" ] || continue
	printf '  %-7s %-24s %10s   %s\n' "$kind" "$lab" "$(echo "$vals" | median)" "$(echo $vals)"
done
echo
echo "  (no target: the model beside each figure is in docs/benchmarks.md)"
bench_end
