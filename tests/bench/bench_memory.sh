#!/bin/sh
# bench_memory.sh CLUSTERFS [BENCHDIR] - the server's memory and the cost
# of /cluster/status at scale (issue 16): 1,000 hollow nodes, 30,000 pods.
#
# Each run starts a fresh server (control plane only, --hollow-nodes),
# notes its VmRSS once the nodes are Ready, writes one Deployment of
# BENCH_PODS replicas and waits until all are Running (bench_sched run),
# waits until the server's log says it gave memory back after the burst
# (at most BENCH_SETTLE_MAX seconds) and BENCH_SETTLE more, then records:
#
#   - VmRSS, VmHWM and smaps_rollup's Anonymous of the server, and the
#     VmRSS per pod (VmRSS / pods: the server's whole memory, store,
#     caches, watch history and the hollow nodes together, as the issue
#     counts it) and the growth per pod over the idle server's VmRSS;
#   - the CPU one `cat /cluster/status` costs the server after a change
#     (its text is cached while nothing changes): utime + stime
#     (/proc/PID/stat) over BENCH_CATS rounds of (a ConfigMap write, a
#     read), less BENCH_CATS rounds of the write alone (interleaved),
#     divided by the reads.
#
# Knobs: BENCH_RUNS (3), BENCH_NODES (1000), BENCH_PODS (30000),
# BENCH_TIMEOUT (120 s per wait), BENCH_SETTLE (2 s), BENCH_SETTLE_MAX (30 s),
# BENCH_CATS (40).
# The verdicts are for 1,000 nodes and 30,000 pods.  Runs alone under
# `flock /work/e2e.lock` when others share the machine.  It stops only the
# server it started (by PID).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_memory.sh CLUSTERFS [BENCHDIR]" >&2
	exit 2
fi
BD=$(realpath "${2:-$(dirname "$0")/../../build/bench}")
RUNS=${BENCH_RUNS:-3}
NODES=${BENCH_NODES:-1000}
PODS=${BENCH_PODS:-30000}
TIMEOUT=${BENCH_TIMEOUT:-120}
SETTLE=${BENCH_SETTLE:-2}
SETTLE_MAX=${BENCH_SETTLE_MAX:-30}
CATS=${BENCH_CATS:-40}
SCHED=$BD/bench_sched
if [ ! -x "$SCHED" ]; then
	echo "bench_memory.sh: $SCHED is missing; make build/bench/bench_sched" >&2
	exit 2
fi

BENCH_NAME=bench_memory.sh
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-memory "$1"
TCK=$(getconf CLK_TCK)

# The server's CPU time so far, in clock ticks.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"; }
now_ms() { date +%s%3N; }
# KiB of a /proc/PID/status (or smaps_rollup, with a second argument) field.
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/${2:-status}"; }

printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mem\nspec:\n' >"$tmp/mem.yaml"
printf '  replicas: %s\n  selector:\n    matchLabels:\n      app: mem\n' "$PODS" >>"$tmp/mem.yaml"
printf '  template:\n    metadata:\n      labels:\n        app: mem\n    spec:\n' >>"$tmp/mem.yaml"
printf '      containers:\n      - name: main\n        image: busybox:1.36\n' >>"$tmp/mem.yaml"
printf '        resources:\n          requests:\n            cpu: 10m\n' >>"$tmp/mem.yaml"
printf '            memory: 16Mi\n' >>"$tmp/mem.yaml"

# touch I: a small write (a ConfigMap's value), so that the next read of
# /cluster/status cannot be served from the text rendered before.
touch_cm() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mem-touch\ndata:\n  i: "%s"\n' \
		"$1" >"$mnt/configmaps/mem-touch.yaml"
}

# status_cpu: the server's CPU ms per read of /cluster/status after a
# change: CATS rounds of (write, pause) and of (write, read, pause),
# interleaved so that background work weighs on both alike; the
# difference divided by the reads.
status_cpu() {
	a=0 b=0 i=0
	while [ $i -lt "$CATS" ]; do
		t0=$(ticks)
		touch_cm "a$i"
		sleep 0.1
		t1=$(ticks)
		touch_cm "b$i"
		cat "$mnt/status" >/dev/null
		sleep 0.1
		t2=$(ticks)
		a=$((a + t1 - t0)) b=$((b + t2 - t1))
		i=$((i + 1))
	done
	awk -v a="$a" -v b="$b" -v n="$CATS" -v hz="$TCK" 'BEGIN {
		v = (b - a) * 1000 / hz / n
		printf "%.2f", v < 0 ? 0 : v }'
}

run_one() {
	out=$tmp/run.$1
	: >"$out"
	echo "== run $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	bench_start_server "$tmp/data.$1" --no-agent --listen none --hollow-nodes "$NODES"
	bench_wait_ready "$TIMEOUT" "$NODES"
	sleep 2
	rss0=$(kib VmRSS)
	echo "   $NODES nodes Ready after $BENCH_READY_S s; VmRSS $((rss0 / 1024)) MiB"
	given0=$(grep -c 'memory given back' "$log")
	bench_bg "$SCHED" run -n "$PODS" -t "$TIMEOUT" -d mem -k mem "$mnt" "$tmp/mem.yaml" \
		"$mnt/deployments/mem.yaml" >"$tmp/step" 2>&1 ||
		{ tail -3 "$tmp/step"; echo "bench_memory.sh: run $1: the pods did not all run" >&2; failed=1; return; }
	grep '^result mem_running_s' "$tmp/step" | sed 's/^/   /'
	# steady state: the store gives memory back once the burst calms
	# (its log says so), at most BENCH_SETTLE_MAX seconds
	i=0
	while [ "$(grep -c 'memory given back' "$log")" -le "$given0" ] &&
		[ $i -lt $((SETTLE_MAX * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep 'memory given back' "$log" | tail -1 | sed 's/^.*store /   /'
	sleep "$SETTLE"
	rss=$(kib VmRSS) hwm=$(kib VmHWM) anon=$(kib Anonymous smaps_rollup)
	st=$(status_cpu)
	grep '^pods:' "$mnt/status" | sed 's/^/   /'
	awk -v r="$rss" -v h="$hwm" -v a="$anon" -v r0="$rss0" -v n="$PODS" -v s="$st" 'BEGIN {
		printf "result rss_mib %.0f\nresult hwm_mib %.0f\nresult anon_mib %.0f\n", r / 1024, h / 1024, a / 1024
		printf "result idle_rss_mib %.0f\n", r0 / 1024
		printf "result kib_per_pod %.1f\nresult growth_kib_per_pod %.1f\n", r / n, (r - r0) / n
		printf "result status_cpu_ms %s\n", s }' >>"$out"
	sed 's/^result /   /' "$out"
	bench_stop_server
}

bench_machine
echo "== $($CFS version) ($CFS_ID), $NODES hollow nodes, $PODS pods, $RUNS runs"
r=1
while [ $r -le "$RUNS" ]; do
	run_one $r
	r=$((r + 1))
done

med() {
	cat "$tmp"/run.* 2>/dev/null | awk -v k="$1" '$1 == "result" && $2 == k { print $3 }' |
		bench_median
}
runs() {
	cat "$tmp"/run.* 2>/dev/null | awk -v k="$1" '$1 == "result" && $2 == k { printf " %s", $3 }'
}
echo
echo "clusterfs memory and status, $(date -u '+%Y-%m-%d %H:%M UTC'): $NODES hollow nodes, $PODS pods"
echo "binary:  $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r);" \
	"load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '  %-44s %8s %-7s %s\n' figure median unit runs
for f in "idle server VmRSS (nodes Ready, no pods):idle_rss_mib:MiB" \
	"server VmRSS, all pods Running:rss_mib:MiB" \
	"server VmHWM (peak):hwm_mib:MiB" \
	"server anonymous memory (smaps_rollup):anon_mib:MiB" \
	"VmRSS per pod:kib_per_pod:KiB" \
	"VmRSS growth per pod over the idle server:growth_kib_per_pod:KiB" \
	"server CPU per cat /cluster/status:status_cpu_ms:ms"; do
	label=${f%%:*} rest=${f#*:}
	printf '  %-44s %8s %-7s%s\n' "$label" "$(med "${rest%%:*}")" "${rest#*:}" "$(runs "${rest%%:*}")"
done
echo
echo "  verdicts (issue 16: memory and status)"
if [ "$NODES" = 1000 ] && [ "$PODS" = 30000 ]; then
	bench_verdict "server memory (VmRSS / pods) at 30,000 pods on 1,000 hollow nodes, median" \
		"$(med kib_per_pod)" "<=" 12 KiB
	bench_verdict "server CPU of one cat /cluster/status at 30,000 pods, median" \
		"$(med status_cpu_ms)" "<=" 5 ms
else
	echo "  (the targets are for 1,000 nodes and 30,000 pods: no verdict)"
fi
bench_end
