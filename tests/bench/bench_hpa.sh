#!/bin/sh
# bench_hpa.sh CLUSTERFS - the HorizontalPodAutoscaler at scale (issue 17):
# 1,000 HPAs over hollow nodes, the controller's cost per HPA sync and the
# memory the HPAs and their controller add.
#
#   setup    a server with --no-agent --hollow-nodes 100 (BENCH_HPA_NODES)
#            and --horizontal-pod-autoscaler-sync-period 15s (BENCH_HPA_SYNC);
#            writes to /cluster/apply of the ConfigMap hollow-usage (the
#            hollow nodes' synthetic load: 20m of CPU per pod by default,
#            150m for every 10th app, BENCH_HPA_HOT) and 1,000 Deployments
#            (BENCH_HPAS) app-1..1000 of 1 to 3 pods requesting 100m (500 a
#            write); a wait
#            until every pod is Running.
#   idle     the server's CPU (utime + stime of /proc/PID/stat) over
#            BENCH_HPA_WINDOW (30) seconds and its VmRSS: the peer.
#   hpas     two writes of 500 HPAs each (50 % CPU target, min 1, max 4), one
#            sync period for the first round, then the same window: the
#            server's CPU and VmRSS again.
#
# Figures: the cost of one HPA sync measured two ways: (a) the server's
# CPU over the window less the idle window's, divided by the syncs due in
# it (HPAs x window / sync period); (b) the controller's own measurement,
# the worker thread's CPU time per sync (CLOCK_THREAD_CPUTIME_ID), which
# it logs every sync period when CFS_HPA_STATS_MS is set: the median of
# the lines after the HPAs were written.  (a) includes what the syncs cost
# elsewhere (the status writes, the events, the watchers they wake); (b)
# is the controller's thread alone.  Memory: VmRSS after less before, per
# HPA (the stored objects, the watch caches and the controller's state).
# How many HPAs rescaled is printed (the hot apps should go to 4 replicas).
#
# Issue 17 fixes no number: INFO lines print the figures (and go to
# $BENCH_VERDICTS).  Not root: it still runs (hollow nodes need no root).
# The trap stops the server by PID, unmounts and removes the temporary dir.
set -u

if [ $# -ne 1 ]; then
	echo "usage: sh tests/bench/bench_hpa.sh CLUSTERFS" >&2
	exit 2
fi
CFS_ORIG=$(realpath "$1")
NODES=${BENCH_HPA_NODES:-100}
HPAS=${BENCH_HPAS:-1000}
SYNC=${BENCH_HPA_SYNC:-15}
WINDOW=${BENCH_HPA_WINDOW:-30}
HOT=${BENCH_HPA_HOT:-10}
TCK=$(getconf CLK_TCK)

BENCH_NAME=bench_hpa.sh
BENCH_STOP_GRACE=20
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-hpa "$CFS_ORIG"

# CPU seconds the server used so far; its VmRSS in KiB.
cpu_s() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$pid/stat"; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
running() { sed -n 's/^pods: .* \([0-9]*\) Running.*/\1/p' "$mnt/status"; }

info() {
	_in="INFO no target: $2 $3  ($1)"
	echo "  $_in"
	[ -n "${BENCH_VERDICTS:-}" ] && echo "$_in" >>"$BENCH_VERDICTS"
	return 0
}

echo "== HorizontalPodAutoscaler: $HPAS HPAs over $NODES hollow nodes, sync period ${SYNC}s," \
	"windows of ${WINDOW}s ($($CFS_ORIG version 2>/dev/null | head -1), $CFS_ID)"
bench_machine
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

CFS_HPA_STATS_MS=$((SYNC * 1000)) CFS_METRICS_PERIOD_MS=5000 \
	bench_start_server "$tmp/data" --no-agent --hollow-nodes "$NODES" \
	--horizontal-pod-autoscaler-sync-period "${SYNC}s"
bench_wait_ready 60 "$NODES"

# The load, then the Deployments and later the HPAs, 500 documents a write
# (an apply takes up to 1,000).
awk -v n="$HPAS" -v hot="$HOT" 'BEGIN {
	print "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hollow-usage}\ndata:"
	print "  default: cpu=20m,memory=20Mi"
	for (i = hot; i <= n; i += hot) printf "  app-%d: cpu=150m,memory=30Mi\n", i
}' >"$tmp/load.yaml"
awk -v n="$HPAS" -v d="$tmp/apps" 'BEGIN {
	for (i = 1; i <= n; i++) {
		f = d "." int((i - 1) / 500) ".yaml"
		print "---\napiVersion: apps/v1\nkind: Deployment" >f
		printf "metadata: {name: app-%d}\nspec:\n  replicas: %d\n", i, i % 3 + 1 >f
		printf "  selector: {matchLabels: {app: app-%d}}\n  template:\n", i >f
		printf "    metadata: {labels: {app: app-%d}}\n    spec:\n      containers:\n", i >f
		print "      - {name: c, image: busybox, resources: {requests: {cpu: 100m, memory: 32Mi}}}" >f
	}
}'
# apply FILE...: each file written to /cluster/apply; exits on a refusal.
apply() {
	for _f in "$@"; do
		cp "$_f" "$mnt/apply" ||
			{ echo "bench_hpa.sh: apply of $_f: $(tail -1 "$mnt/errors")" >&2; exit 1; }
	done
}
pods=$(awk -v n="$HPAS" 'BEGIN { for (i = 1; i <= n; i++) s += i % 3 + 1; print s }')
t0=$(date +%s)
apply "$tmp/load.yaml" "$tmp"/apps.*.yaml
all_running() { _ar=$(running); [ -n "$_ar" ] && [ "$_ar" -ge "$pods" ]; }
if ! bench_wait_for 150 all_running; then
	echo "bench_hpa.sh: $(running) of $pods pods Running after 150 s" >&2
	exit 1
fi
echo "   $HPAS Deployments, $pods pods Running in $(($(date +%s) - t0)) s"
sleep 5

c0=$(cpu_s)
r0=$(rss_kib)
sleep "$WINDOW"
c1=$(cpu_s)
echo "   idle: server CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') s" \
	"over ${WINDOW}s, VmRSS $((r0 / 1024)) MiB"

awk -v n="$HPAS" -v d="$tmp/hpas" 'BEGIN {
	for (i = 1; i <= n; i++) {
		f = d "." int((i - 1) / 500) ".yaml"
		print "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler" >f
		printf "metadata: {name: app-%d}\nspec:\n", i >f
		printf "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app-%d}\n", i >f
		print "  minReplicas: 1\n  maxReplicas: 4\n  metrics:\n  - type: Resource" >f
		print "    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}" >f
	}
}'
logmark=$(wc -l <"$log")
apply "$tmp"/hpas.*.yaml
sleep $((SYNC + 5))
c2=$(cpu_s)
sleep "$WINDOW"
c3=$(cpu_s)
r1=$(rss_kib)

syncs=$(awk -v n="$HPAS" -v w="$WINDOW" -v s="$SYNC" 'BEGIN { print n * w / s }')
per_sync=$(awk -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" -v n="$syncs" 'BEGIN {
	v = ((d - c) - (b - a)) / n * 1e6; printf "%.0f", v < 0 ? 0 : v }')
inside=$(tail -n +"$((logmark + 1))" "$log" | sed -n 's/.* stats: [0-9]* syncs, \([0-9]*\) ns CPU each.*/\1/p' |
	tail -n +2 | awk '{ printf "%.0f\n", $1 / 1000 }' | bench_median)
scaled=$(grep -c 'SuccessfulRescale' "$mnt/events" 2>/dev/null)
hot_at4=0
for i in $(seq "$HOT" "$HOT" "$HPAS"); do
	[ "$(cat "$mnt/deployments/app-$i/replicas" 2>/dev/null)" = 4 ] && hot_at4=$((hot_at4 + 1))
done
echo "   with HPAs: server CPU $(awk -v a="$c2" -v b="$c3" 'BEGIN { printf "%.2f", b - a }') s" \
	"over ${WINDOW}s ($syncs syncs due), VmRSS $((r1 / 1024)) MiB"
echo "   rescale events: $scaled; hot apps at 4 replicas: $hot_at4 of $((HPAS / HOT))"
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
info "HPA controller: CPU per HPA sync, server CPU less idle / syncs due, $HPAS HPAs, $NODES hollow nodes" \
	"$per_sync" "µs"
info "HPA controller: CPU per HPA sync, the worker thread's own measure (median of its log lines)" \
	"${inside:--}" "µs"
info "memory $HPAS HPAs and their controller add (server VmRSS after - before)" \
	"$(((r1 - r0) / 1024))" "MiB"
info "HPAs that rescaled their hot Deployment to 4 ($((HPAS / HOT)) hot apps at 150% of request)" \
	"$hot_at4" "HPAs"
bench_end
