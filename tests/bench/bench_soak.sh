#!/bin/sh
# bench_soak.sh CLUSTERFS [IMAGE_TAR] - the soak benchmark (issue 16, "no
# growth"): CYCLES create/delete cycles of a 10-pod Deployment of real
# busybox containers on the local node, and the server's footprint along
# the way.
#
# One server (a temporary mount point and data dir, the node agent on,
# --node-name soak), the busybox image imported from IMAGE_TAR.  A cycle:
# `cp` of deployments/soak.yaml (10 replicas of busybox `sleep 100000`,
# terminationGracePeriodSeconds 1), a wait until the 10 pods read Running,
# `rm` of the manifest, and a wait until no pod, ReplicaSet, runc container
# or pause process of it is left.  After each cycle the server's VmRSS, its
# open fds (/proc/PID/fd) and threads are recorded; every tenth of the run
# prints a line.
#
# The targets, as the issue words them: the RSS at the end within 5 % of
# its value after the first 100 cycles (the first tenth of the run when
# BENCH_SOAK_CYCLES is smaller), and nothing left behind once the last
# cycle is gone, with the server still running: no runc container, no pause
# process, no zombie child of the server, no mount under the data dir, no
# veth on the pod bridge, no file in the data dir's pods/ or logs/ folder,
# no pod cgroup under /sys/fs/cgroup/clusterfs,
# and the server's fds back to their count after the baseline cycle, its
# threads too but for the idle FUSE workers libfuse may keep (16, fs.c).
#
# It runs a private copy of CLUSTERFS; the trap stops only the server it
# started (by PID), runs `clusterfs reset` on the data dir, unmounts and
# removes its temporary dir.  Not root: skipped (runc needs root).
#
# Knobs (environment): BENCH_SOAK_CYCLES (1000), BENCH_SOAK_BASE (the
# baseline cycle: a tenth of the cycles), BENCH_SOAK_REPLICAS (10),
# BENCH_TIMEOUT seconds per wait (60), BENCH_SOAK_CSV (a path: every
# cycle's "cycle ms rss_kib fds threads" is copied there at the end),
# BENCH_SOAK_PACE_MS (0: off; else a cycle starts that long after the one
# before started, for a diagnosis: what the server holds follows windows
# of time (the watch history's 75 s, the Events of deleted pods' 60 s),
# so cycles that get faster raise it, which a fixed pace tells apart
# from growth with the number of cycles).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_soak.sh CLUSTERFS [IMAGE_TAR]" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFS_ORIG=$(realpath "$1")
TAR=$(realpath -m "${2:-$SRC/build/images/busybox.tar}")
CYCLES=${BENCH_SOAK_CYCLES:-1000}
REPLICAS=${BENCH_SOAK_REPLICAS:-10}
TIMEOUT=${BENCH_TIMEOUT:-60}
BASE=${BENCH_SOAK_BASE:-$((CYCLES / 10))}
[ "$BASE" -ge 1 ] && [ "$BASE" -le "$CYCLES" ] || BASE=1

echo "== soak: $CYCLES create/delete cycles of a $REPLICAS-pod Deployment on the local node"
if [ "$(id -u)" != 0 ]; then
	echo "bench_soak.sh: not root; runc and the node agent need root: skipped"
	exit 0
fi
if ! command -v runc >/dev/null; then
	echo "bench_soak.sh: runc is missing (scripts/deps.sh); skipped" >&2
	exit 0
fi
if [ ! -s "$TAR" ]; then
	sh "$SRC/scripts/busybox-image.sh" "$(dirname "$TAR")" >/dev/null || exit 1
fi

BENCH_NAME=bench_soak.sh
BENCH_STOP_GRACE=15
BENCH_RESET=1
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-soak "$CFS_ORIG"
# the containers' log relay beside the private copy, as beside the original
relay=$(dirname "$CFS_ORIG")/clusterfs-logrelay
[ -x "$relay" ] && cp "$relay" "$tmp/"
data=$tmp/data
rec=$tmp/cycles
mkdir -p "$data"
: >"$rec"

now_ms() { date +%s%3N; }
srv_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
srv_fds() { ls "/proc/$pid/fd" | wc -l; }
srv_threads() { awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status"; }
runc_count() { runc --root "$data/runc" list -q 2>/dev/null | grep -c .; }
# PIDs of our pause processes: their environment names a pod folder of
# our data dir (pause.h; they run from clusterfs-logrelay, or from
# clusterfs when it has no relay beside it).
pause_pids() {
	for d in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep -q "^CLUSTERFS_POD_DIR=$data/" &&
			echo "${d#/proc/}"
	done
}
# Children of the server that ended and were never reaped.
zombies() { ps --ppid "$pid" -o pid=,stat= 2>/dev/null | awk '$2 ~ /^Z/ { print $1 }'; }
running() { grep -lx Running "$mnt"/pods/soak-*/phase 2>/dev/null | wc -l; }
gone() {
	! ls "$mnt/pods" "$mnt/replicasets" 2>/dev/null | grep -q '^soak' &&
		[ "$(runc_count)" = 0 ] && [ -z "$(pause_pids)" ]
}
# The pod bridge of our data dir: agent_bridge_name's FNV-1a of its path.
bridge=$(python3 -c '
import os, sys
h = 2166136261
for b in os.path.realpath(sys.argv[1]).encode():
    h = ((h ^ b) * 16777619) % 2**32
print("cfs%08x" % h)' "$data")

# What is left of the pods: one "WHAT: COUNT (details)" line per kind.
leftovers() {
	_m=$(awk -v d="$data/" 'index($2, d) == 1 { print $2 }' /proc/mounts)
	_v=$(ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{ print $2 }')
	_f=$(find "$data/pods" "$data/logs" -mindepth 1 2>/dev/null)
	_c=$(find /sys/fs/cgroup/clusterfs -mindepth 1 -maxdepth 1 -type d -name 'pod*' 2>/dev/null)
	_p=$(pause_pids)
	echo "runc containers: $(runc_count)"
	echo "pause processes: $(echo $_p | wc -w) $_p"
	_z=$(zombies)
	echo "zombies under the server: $(echo $_z | wc -w) $_z"
	echo "mounts under the data dir: $(echo $_m | wc -w) $(echo $_m | head -c 300)"
	echo "veths on $bridge: $(echo $_v | wc -w) $(echo $_v | head -c 300)"
	echo "files under pods/ and logs/: $(echo $_f | wc -w) $(echo $_f | head -c 300)"
	echo "pod cgroups: $(echo $_c | wc -w) $(echo $_c | head -c 300)"
}

{
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: soak\nspec:\n'
	printf '  replicas: %s\n  selector:\n    matchLabels:\n      app: soak\n' "$REPLICAS"
	printf '  template:\n    metadata:\n      labels:\n        app: soak\n    spec:\n'
	printf '      terminationGracePeriodSeconds: 1\n      containers:\n      - name: main\n'
	printf '        image: busybox\n        imagePullPolicy: Never\n'
	printf '        command: ["sleep", "100000"]\n'
} >"$tmp/soak.yaml"

# cycle N: one create/delete cycle; its record line, or exit 1.
cycle() {
	t0=$(now_ms)
	cp "$tmp/soak.yaml" "$mnt/deployments/soak.yaml" ||
		{ echo "bench_soak.sh: cycle $1: cp failed" >&2; exit 1; }
	w=0
	until [ "$(running)" -ge "$REPLICAS" ]; do
		if [ $w -ge $((TIMEOUT * 20)) ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "bench_soak.sh: cycle $1: $(running) of $REPLICAS Running after $TIMEOUT s" >&2
			tail -5 "$log" >&2
			exit 1
		fi
		sleep 0.05
		w=$((w + 1))
	done
	rm -f "$mnt/deployments/soak.yaml"
	w=0
	until gone; do
		if [ $w -ge $((TIMEOUT * 20)) ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "bench_soak.sh: cycle $1: pods or containers left after $TIMEOUT s" >&2
			leftovers >&2
			tail -5 "$log" >&2
			exit 1
		fi
		sleep 0.05
		w=$((w + 1))
	done
	echo "$1 $(($(now_ms) - t0)) $(srv_kib) $(srv_fds) $(srv_threads)" >>"$rec"
}

bench_machine
echo "== $($CFS version) ($CFS_ID); $(runc --version | head -1)"
echo "== load average $(cut -d' ' -f1-3 /proc/loadavg); baseline after cycle $BASE"
"$CFS" image import --data-dir "$data" "$TAR" busybox:latest >"$tmp/import.out" 2>&1 ||
	{ cat "$tmp/import.out" >&2; exit 1; }
# shellcheck disable=SC2086 # BENCH_SOAK_ARGS: extra server arguments, split on spaces
bench_start_server "$data" --node-name soak --listen 127.0.0.1:0 ${BENCH_SOAK_ARGS:-}
bench_wait_ready 15 1
rss0=$(srv_kib)
echo "   server pid $pid, node soak Ready after $BENCH_READY_S s: VmRSS $((rss0 / 1024)) MiB," \
	"$(srv_fds) fds, $(srv_threads) threads"
printf '   %7s %9s %11s %5s %8s  %s\n' cycle "cycle ms" "VmRSS KiB" fds threads "load average"
step=$((CYCLES / 10))
[ "$step" -ge 1 ] || step=1
PACE=${BENCH_SOAK_PACE_MS:-0}
c=1
while [ $c -le "$CYCLES" ]; do
	t_start=$(now_ms)
	cycle $c
	if [ $c = 1 ] || [ $((c % step)) = 0 ] || [ $c = "$CYCLES" ]; then
		set -- $(tail -1 "$rec")
		printf '   %7s %9s %11s %5s %8s  %s\n' "$1" "$2" "$3" "$4" "$5" "$(cut -d' ' -f1-3 /proc/loadavg)"
	fi
	c=$((c + 1))
	left=$((t_start + PACE - $(now_ms)))
	[ "$PACE" -gt 0 ] && [ "$left" -gt 0 ] && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
done

# at N FIELD: the record of cycle N (fields: 2 ms, 3 rss, 4 fds, 5 threads).
at() { awk -v c="$1" -v f="$2" '$1 == c { print $f }' "$rec"; }
rss_b=$(at "$BASE" 3)
rss_e=$(at "$CYCLES" 3)
growth=$(awk -v b="$rss_b" -v e="$rss_e" 'BEGIN { printf "%.1f", (e - b) * 100 / b }')
per=$(awk -v b="$rss_b" -v e="$rss_e" -v n=$((CYCLES - BASE)) \
	'BEGIN { if (n > 0) printf "%.1f", (e - b) / n; else print "-" }')
med=$(awk '{ print $2 }' "$rec" | bench_median)
left=$(leftovers)
nleft=$(echo "$left" | awk -F': ' '{ split($2, a, " "); s += a[1] } END { print s + 0 }')
fds_b=$(at "$BASE" 4)
fds_e=$(srv_fds)
thr_b=$(at "$BASE" 5)
thr_e=$(srv_threads)
[ -n "${BENCH_SOAK_CSV:-}" ] && cp "$rec" "$BENCH_SOAK_CSV"

echo
echo "clusterfs soak, $(date -u '+%Y-%m-%d %H:%M UTC'): $CYCLES cycles of a $REPLICAS-pod Deployment"
echo "binary:  $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  a cycle (create -> $REPLICAS Running -> delete -> all gone): median $med ms"
echo "  server VmRSS: $((rss0 / 1024)) MiB at the start, $rss_b KiB after cycle $BASE," \
	"$rss_e KiB after cycle $CYCLES: $growth % ($per KiB a cycle)"
echo "  server fds: $fds_b after cycle $BASE, $fds_e at the end; threads: $thr_b, $thr_e"
echo "  left behind with the server running:"
echo "$left" | sed 's/^/    /'
[ "$fds_e" -le "$fds_b" ] || nleft=$((nleft + fds_e - fds_b))
[ "$thr_e" -le $((thr_b + 16)) ] || nleft=$((nleft + thr_e - thr_b - 16))
echo
echo "  verdicts (no growth, docs/benchmarks.md)"
bench_verdict "server VmRSS after $CYCLES create/delete cycles of a $REPLICAS-pod Deployment against after $BASE" \
	"$growth" "<=" 5 "%"
bench_verdict "containers, mounts, veths, files, cgroups, fds and threads left after $CYCLES cycles" \
	"$nleft" "<=" 0 "left"
bench_end
