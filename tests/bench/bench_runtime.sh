#!/bin/sh
# bench_runtime.sh CLUSTERFS [IMAGE_TAR] - the node runtime benchmark: how
# long from one write to real runc containers Running, beside podman.
#
#   clusterfs  One server (a temporary mount point and data dir, the node
#              agent on, --node-name bench), the busybox image imported
#              from IMAGE_TAR.  Per scenario: `cp` of the manifest into
#              the mount, and the time from just before the cp until every
#              pod's pods/NAME/phase reads Running.  Scenarios: a bare Pod
#              (pods/solo.yaml), and a Deployment (deployments/web.yaml) of
#              1, 3 and 30 replicas of busybox `sleep 100000`.  Then `rm` of
#              the manifest and a wait until no pod, runc container
#              (`runc --root DATA/runc list`) or pause process is left.
#              After each 30-replica run: the server's VmRSS and VmHWM (the
#              agent runs in the server process), the runc containers and
#              the pause processes with their RSS.
#   podman     The same YAML files, `podman kube play --network none`, in a
#              private podman store under the temporary dir (--root,
#              --runroot, --tmpdir; a containers.conf of our own through
#              CONTAINERS_CONF; the image loaded from the same IMAGE_TAR
#              and tagged docker.io/library/busybox:latest; imagePullPolicy
#              Never: no registry is contacted).  The time from just before
#              kube play until `podman ps` lists all N containers running,
#              and kube play's own wall time; then `podman kube down`.
#
# The clock is a small python3 poller ($tmp/poll.py): it starts the cp (or
# kube play) itself and then polls every BENCH_POLL_MS (5) ms.  The time of
# "all Running" is the start of the poll round that saw it, so it errs by at
# most one round early and one interval late; the cost of a full round
# (reading every pod's phase) is measured after each run (10 more rounds)
# and printed.  A round lists pods/ until all N pods are there, then reads
# the phase of the first pod (in name order) not yet seen Running, and of
# the next while it reads Running: all are seen Running in the same round
# as by reading every phase every round, for one read a round instead of
# up to N (each read is served by the server: at 30 pods the full rounds
# took a third of its CPU).  BENCH_POLL_ALL=1: every phase every round, as
# before.  A pod once seen Running is not read again (it runs `sleep`).
# A `podman ps` costs 30-80 ms, so podman's side is polled only after kube
# play has returned (it returns once it has started every container).
#
# Each side gets one warm-up of the bare Pod first (podman builds its pause
# image on first use), printed as "cold" and not in the medians.  Then
# BENCH_RUNS (5) rounds, each running every scenario on clusterfs and then
# on podman, alternating, so that load from other work on this 2-core
# machine hits both sides alike; the load average is printed before each.
# The summary prints every run and the median.
#
# It runs a private copy of CLUSTERFS (others may rebuild it meanwhile).
# The trap stops only the server it started (by PID), deletes what it made
# in podman's private store, runs `clusterfs reset` on the data dir,
# unmounts and removes its temporary dir; at the end it checks that no
# runc container, pause process or podman container of ours is left.
# Without podman (scripts/deps-bench.sh installs it) the podman side is
# skipped.  Not root: skipped entirely (runc and the agent need root).
#
# The pod start, step by step: the server runs with CFS_POD_TRACE (see
# runtime/kubelet/podtrace.h), which logs each pod's steps with monotonic
# times (seen by the agent, picked up by a worker, pause process, network,
# bundle, runc run, status committed); the poller adds when it first
# listed the pod and first read it Running.  Each run prints, per step,
# the median over its pods of the time since the write and of the time
# since the step before; the summary gives their medians over the runs,
# and the server's CPU per pod started.  The private copy gets the helper
# executable beside it (clusterfs-logrelay: log relays and pause
# processes), as `make` builds it.
#
# Knobs (environment): BENCH_RUNS (5), BENCH_SCENARIOS ("pod 1 3 30"),
# BENCH_TIMEOUT seconds per wait (60), BENCH_POLL_MS (5), BENCH_VERBOSE=1
# (server -v: the agent's steps in the log, which is then kept in
# /tmp/cfs-runtime-server.log), BENCH_PODMAN=0 (skip podman),
# BENCH_TRACE=0 (no step trace).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_runtime.sh CLUSTERFS [IMAGE_TAR]" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFS_ORIG=$(realpath "$1")
TAR=$(realpath -m "${2:-$SRC/build/images/busybox.tar}")
RUNS=${BENCH_RUNS:-5}
SCENARIOS=${BENCH_SCENARIOS:-pod 1 3 30}
TIMEOUT=${BENCH_TIMEOUT:-60}
POLL_MS=${BENCH_POLL_MS:-5}
VERBOSE=${BENCH_VERBOSE:-0}
TRACE=${BENCH_TRACE:-1}
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

echo "== node runtime: write -> pods Running, clusterfs beside podman kube play"
if [ "$(id -u)" != 0 ]; then
	echo "bench_runtime.sh: not root; runc and the node agent need root: skipped"
	exit 0
fi
for t in runc "$PY"; do
	if ! command -v "$t" >/dev/null; then
		echo "bench_runtime.sh: $t is missing (scripts/deps.sh); skipped" >&2
		exit 0
	fi
done
PODMAN=1
if [ "${BENCH_PODMAN:-1}" = 0 ]; then
	PODMAN=0
	echo "   BENCH_PODMAN=0: the podman side is skipped"
elif ! command -v podman >/dev/null; then
	PODMAN=0
	echo "   podman is not installed (sh scripts/deps-bench.sh installs it): the podman side is skipped"
fi
if [ ! -s "$TAR" ]; then
	sh "$SRC/scripts/busybox-image.sh" "$(dirname "$TAR")" >/dev/null || exit 1
fi

BENCH_NAME=bench_runtime.sh
BENCH_STOP_GRACE=15
BENCH_RESET=1
[ "$VERBOSE" = 1 ] && BENCH_KEEP_LOG=/tmp/cfs-runtime-server.log
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-runtime "$CFS_ORIG"
# the small helper beside it (containers' log relays, pods' pause
# processes), as make builds it; without it clusterfs runs itself for both
HELPER=$tmp/clusterfs-logrelay
if [ -x "$(dirname "$CFS_ORIG")/clusterfs-logrelay" ]; then
	cp "$(dirname "$CFS_ORIG")/clusterfs-logrelay" "$HELPER" || exit 1
fi
data=$tmp/data
res=$tmp/results
pm=$tmp/podman
TCK=$(getconf CLK_TCK)
# podman's netavark makes /run/containers/networks even with --network none;
# removed at the end if it was not there before and is empty.
RUNC_NETDIR_NEW=0
[ -d /run/containers ] || RUNC_NETDIR_NEW=1
mkdir -p "$data" "$pm"
: >"$res"

P() {
	podman --root "$pm/root" --runroot "$pm/run" --tmpdir "$pm/tmp" --storage-driver overlay "$@"
}
export CONTAINERS_CONF="$pm/containers.conf"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$pm/events.log"
volume_path = "$pm/volumes"

[network]
network_config_dir = "$pm/networks"
EOF

now_ms() { date +%s%3N; }

# PIDs of the pause processes of our data dir: our private binary or its
# helper, "clusterfs pause".
pause_pids() {
	for d in /proc/[0-9]*; do
		case $(readlink "$d/exe" 2>/dev/null) in "$CFS" | "$HELPER") ;; *) continue ;; esac
		{ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q '^clusterfs pause ' && echo "${d#/proc/}"
	done
}
runc_count() { runc --root "$data/runc" list -q 2>/dev/null | grep -c .; }
# conmon processes of our podman store.
conmon_pids() {
	for d in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q "^/usr/bin/conmon .*$pm/" &&
			echo "${d#/proc/}"
	done
}
# pss_sum PID...: the sum of their proportional set sizes (Pss: a page
# shared by K processes counts 1/K in each), in MiB.
pss_sum() {
	for p in "$@"; do
		awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.1f", s / 1024 }'
}
srv_mib() { awk -v k="${1:-VmRSS}:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
# "BUSY TOTAL" jiffies of all CPUs (/proc/stat): how busy the machine was.
machine_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
srv_cpu_ms() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000 / t }' "/proc/$pid/stat"; }

# What the trap does besides lib.sh's cleanup: podman's private store
# emptied, and /run/containers/networks removed if podman made it.
bench_on_cleanup() {
	if [ "$PODMAN" = 1 ] && [ -d "$pm/root" ]; then
		P pod rm -a -f -t 0 >/dev/null 2>&1
		P rm -a -f -t 0 >/dev/null 2>&1
		P rmi -a -f >/dev/null 2>&1
	fi
	if [ "$RUNC_NETDIR_NEW" = 1 ]; then
		rmdir /run/containers/networks /run/containers 2>/dev/null
	fi
}

# The clock: poll.py cfs PODS_DIR NAME_RE N TIMEOUT POLL_MS SRC DEST
#            poll.py podman N TIMEOUT POLL_MS NAME_RE YAML -- PODMAN...
# prints "result KEY VALUE" lines; exit 1 on a timeout or a failed step.
cat >"$tmp/poll.py" <<'EOF'
import os, re, subprocess, sys, time

def med(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

def ms(s):
    return "%.1f" % (s * 1000)

def poll(look, n, t0, timeout, interval):
    """Rounds of look() until it counts n; the start of that round."""
    rounds = 0
    while True:
        ts = time.monotonic()
        k = look()
        rounds += 1
        if k >= n:
            return ts, rounds
        if ts - t0 > timeout:
            print("poll.py: %d of %d running after %d s" % (k, n, timeout), file=sys.stderr)
            sys.exit(1)
        time.sleep(interval)

def overhead(look):
    ds = []
    for _ in range(10):
        a = time.monotonic()
        look()
        ds.append(time.monotonic() - a)
    return med(ds)

# The pod start trace (CFS_POD_TRACE, runtime/kubelet/podtrace.h): the
# steps in order; "listed" (the pod's folder first seen by the poller) and
# "visible" (its phase first read Running) are the poller's own.
STEPS = ["listed", "seen", "sync", "got", "pause", "cni", "bundle", "create", "start",
         "posted", "visible"]

def trace_summary(path, t0, rx, listed, visible):
    """Per step: the median over the pods of the time after the write and
    of the time since the step before, in ms."""
    at = {}
    for d, t in listed.items():
        at.setdefault(d, {})["listed"] = t
    for d, t in visible.items():
        at.setdefault(d, {})["visible"] = t
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) != 3:
                    continue
                t, pod, step = int(w[0]) / 1e6, w[1].split("/")[-1], w[2]
                if t >= t0 and rx.fullmatch(pod):
                    at.setdefault(pod, {}).setdefault(step, t)
    except OSError:
        return
    for i, s in enumerate(STEPS):
        abs_ = [p[s] - t0 for p in at.values() if s in p]
        if not abs_:
            continue
        prev = []
        for p in at.values():
            before = [k for k in STEPS[:i] if k in p]
            if s in p and before:
                prev.append(p[s] - p[before[-1]])
        print("result trace_%s %s %s %d" % (s, ms(med(abs_)), ms(med(prev)) if prev else "-",
                                             len(abs_)))

if sys.argv[1] == "cfs":
    pods, rx, n, timeout, interval, src, dest, trace = sys.argv[2:10]
    rx, n, timeout, interval = re.compile(rx), int(n), float(timeout), int(interval) / 1000
    running = set()  # a pod seen Running is not read again (sleep: it stays)
    listed, visible, names = {}, {}, []
    def look(full=False):
        now = time.monotonic()
        for d in os.listdir(pods):
            if d.endswith(".yaml") or not rx.fullmatch(d) or (d in running and not full):
                continue
            listed.setdefault(d, now)
            try:
                with open(os.path.join(pods, d, "phase")) as f:
                    if f.read().strip() == "Running":
                        running.add(d)
                        visible.setdefault(d, now)
            except OSError:
                pass
        return len(running)
    def look_one():
        """Lists pods/ until all n are there, then reads the phase of the
        first pod not yet seen Running, and of the next while one is: all
        are Running at the same round as with look(), for one read a round."""
        now = time.monotonic()
        if len(names) < n:
            for d in sorted(os.listdir(pods)):
                if not d.endswith(".yaml") and rx.fullmatch(d) and d not in listed:
                    listed[d] = now
                    names.append(d)
        for d in names:
            if d in running:
                continue
            try:
                with open(os.path.join(pods, d, "phase")) as f:
                    if f.read().strip() == "Running":
                        running.add(d)
                        continue
            except OSError:
                pass
            break
        return len(running)
    one = os.environ.get("BENCH_POLL_ALL", "0") != "1"
    t0 = time.monotonic()
    if subprocess.call(["cp", src, dest]) != 0:
        sys.exit(1)
    t_cp = time.monotonic()
    ts, rounds = poll(look_one if one else look, n, t0, timeout, interval)
    print("result running_ms", ms(ts - t0))
    print("result cp_ms", ms(t_cp - t0))
    print("result rounds", rounds)
    print("result round_ms", "%.2f" % (overhead(lambda: look(True)) * 1000))
    if trace != "-":
        # read one at a time, later pods are seen Running late: no "visible"
        trace_summary(trace, t0, rx, listed, {} if one else visible)
else:
    n, timeout, interval, rx, yaml = sys.argv[2:7]
    n, timeout, interval, rx = int(n), float(timeout), int(interval) / 1000, re.compile(rx)
    base = sys.argv[8:]
    def look():
        out = subprocess.run(base + ["ps", "--format", "{{.Names}}"], capture_output=True,
                             text=True).stdout
        return sum(1 for l in out.split() if rx.fullmatch(l))
    t0 = time.monotonic()
    p = subprocess.run(base + ["kube", "play", "--network", "none", yaml], capture_output=True,
                       text=True)
    t_play = time.monotonic()
    if p.returncode != 0:
        print("poll.py: kube play failed: " + p.stderr.strip()[-500:], file=sys.stderr)
        sys.exit(1)
    ts, rounds = poll(look, n, t0, timeout, interval)
    print("result running_ms", ms(ts - t0))
    print("result play_ms", ms(t_play - t0))
    print("result rounds", rounds)
    print("result round_ms", "%.2f" % (overhead(look) * 1000))
EOF

# clock ARGS...: runs poll.py ARGS into $tmp/step, in the background so
# that a signal reaches the trap at once; returns its exit status.
clock() {
	bench_bg "$PY" "$tmp/poll.py" "$@" >"$tmp/step" 2>&1
}

# The manifests: a bare Pod, and Deployments of 1, 3, 30.  The same files
# go to clusterfs and to podman.
podspec() {
	printf '%sterminationGracePeriodSeconds: 1\n' "$1"
	printf '%scontainers:\n%s- name: main\n' "$1" "$1"
	printf '%s  image: busybox\n%s  imagePullPolicy: Never\n' "$1" "$1"
	printf '%s  command: ["sleep", "100000"]\n' "$1"
}
{
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\n  labels:\n    app: solo\nspec:\n'
	podspec '  '
} >"$tmp/solo.yaml"
for n in 1 3 30; do
	{
		printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n'
		printf '  replicas: %s\n  selector:\n    matchLabels:\n      app: web\n' "$n"
		printf '  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n'
		podspec '      '
	} >"$tmp/web-$n.yaml"
done

# scen S: sets yaml, n, dest (in the mount), the pod-name and the podman
# container-name patterns of scenario S.
scen() {
	case $1 in
	pod) yaml=$tmp/solo.yaml n=1 dest=$mnt/pods/solo.yaml cre=solo pre='solo-main' ;;
	1 | 3 | 30) yaml=$tmp/web-$1.yaml n=$1 dest=$mnt/deployments/web.yaml \
		cre='web-[0-9a-z]+-[0-9a-z]+' pre='web-pod-[0-9]+-main' ;;
	*) echo "bench_runtime.sh: unknown scenario $1" >&2; exit 2 ;;
	esac
}

# put SIDE S RUN KEY VALUE
put() { echo "$1 $2 $3 $4 $5" >>"$res"; }

# cfs_gone: no pod of ours in the mount, no runc container, no pause process.
cfs_gone() {
	! ls "$mnt/pods" 2>/dev/null | grep -Eq '^(web-|solo)' &&
		[ "$(runc_count)" = 0 ] && [ -z "$(pause_pids)" ]
}

# run_cfs S RUN: one clusterfs run of scenario S ("cold" RUN: not kept).
run_cfs() {
	scen "$1"
	c0=$(srv_cpu_ms)
	j0=$(machine_jiffies)
	if ! clock cfs "$mnt/pods" "$cre" "$n" "$TIMEOUT" "$POLL_MS" "$yaml" "$dest" "$trace"; then
		echo "bench_runtime.sh: clusterfs, $1, run $2 failed:" >&2
		sed 's/^/   /' "$tmp/step" >&2
		tail -5 "$log" >&2
		failed=1
	else
		c1=$(srv_cpu_ms)
		busy=$(echo "$j0 $(machine_jiffies)" | awk '{ t = $4 - $2; if (t > 0) printf "%.0f", 100 * ($3 - $1) / t }')
		put cfs "$1" "$2" busy_pct "$busy"
		v() { awk -v k="$1" '$1 == "result" && $2 == k { print $3 }' "$tmp/step"; }
		put cfs "$1" "$2" running_ms "$(v running_ms)"
		put cfs "$1" "$2" cpu_ms $((c1 - c0))
		extra=""
		if [ "$1" = 30 ]; then
			pp=$(pause_pids)
			put cfs 30 "$2" rss_mib "$(srv_mib)"
			put cfs 30 "$2" hwm_mib "$(srv_mib VmHWM)"
			put cfs 30 "$2" runc "$(runc_count)"
			put cfs 30 "$2" pause "$(echo $pp | wc -w)"
			# shellcheck disable=SC2086
			put cfs 30 "$2" pause_pss "$(pss_sum $pp)"
			extra="; server VmRSS $(srv_mib) MiB (peak $(srv_mib VmHWM)), $(runc_count) runc containers, $(echo $pp | wc -w) pause processes (Pss $(pss_sum $pp) MiB)"
		fi
		printf '   clusterfs %-4s %8s ms to Running (cp %s ms, %s poll rounds, a full one %s ms; server CPU %s ms; CPUs %s%% busy%s)\n' \
			"$1" "$(v running_ms)" "$(v cp_ms)" "$(v rounds)" "$(v round_ms)" $((c1 - c0)) "$busy" "$extra"
		put cfs "$1" "$2" cpu_per_pod "$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN { printf "%.1f", c / n }')"
		if [ "$trace" != - ]; then
			awk '$1 == "result" && $2 ~ /^trace_/ { sub(/^trace_/, "", $2); t = t " " $2 " " $3 "(+" $4 ")" }
				END { if (t != "") print "             trace, ms after the write (+ since the step before), median of the pods:" t }' "$tmp/step" | fold -s -w 110 | sed '2,$s/^/               /'
			awk -v s="$1" -v r="$2" '$1 == "result" && $2 ~ /^trace_/ { sub(/^trace_/, "", $2)
				print "cfs", s, r, "at_" $2, $3; print "cfs", s, r, "dt_" $2, $4 }' "$tmp/step" >>"$res"
		fi
	fi
	t0=$(now_ms)
	rm -f "$dest"
	i=0
	until cfs_gone; do
		if [ $i -ge $((TIMEOUT * 20)) ]; then
			echo "bench_runtime.sh: clusterfs, $1: pods or containers left after $TIMEOUT s" >&2
			failed=1
			return
		fi
		sleep 0.05
		i=$((i + 1))
	done
	put cfs "$1" "$2" down_ms $(($(now_ms) - t0))
}

# run_podman S RUN
run_podman() {
	scen "$1"
	if ! clock podman "$n" "$TIMEOUT" "$POLL_MS" "$pre" "$yaml" -- podman --root "$pm/root" \
		--runroot "$pm/run" --tmpdir "$pm/tmp" --storage-driver overlay; then
		echo "bench_runtime.sh: podman, $1, run $2 failed:" >&2
		sed 's/^/   /' "$tmp/step" >&2
		failed=1
	else
		v() { awk -v k="$1" '$1 == "result" && $2 == k { print $3 }' "$tmp/step"; }
		put podman "$1" "$2" running_ms "$(v running_ms)"
		put podman "$1" "$2" play_ms "$(v play_ms)"
		extra=""
		if [ "$1" = 30 ]; then
			cp=$(conmon_pids)
			put podman 30 "$2" conmon "$(echo $cp | wc -w)"
			# shellcheck disable=SC2086
			put podman 30 "$2" conmon_pss "$(pss_sum $cp)"
			extra="; $(echo $cp | wc -w) conmon processes (Pss $(pss_sum $cp) MiB)"
		fi
		printf '   podman    %-4s %8s ms to Running (kube play %s ms, %s ps rounds of %s ms%s)\n' \
			"$1" "$(v running_ms)" "$(v play_ms)" "$(v rounds)" "$(v round_ms)" "$extra"
	fi
	t0=$(now_ms)
	P kube down "$yaml" >/dev/null 2>&1
	if [ -n "$(P ps -a -q)" ] || [ -n "$(P pod ps -q)" ]; then
		echo "bench_runtime.sh: podman, $1: containers left after kube down" >&2
		P pod rm -a -f -t 0 >/dev/null 2>&1
		failed=1
	fi
	put podman "$1" "$2" down_ms $(($(now_ms) - t0))
}

bench_machine
echo "== $($CFS version) ($CFS_ID); $(runc --version | head -1)"
[ "$PODMAN" = 1 ] && echo "== $(podman --version), $(/usr/bin/conmon --version 2>/dev/null | head -1), runtime $(P info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null)"
echo "== $RUNS runs, scenarios: $SCENARIOS; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The clusterfs server.
"$CFS" image import --data-dir "$data" "$TAR" busybox:latest >"$tmp/import.out" 2>&1 ||
	{ cat "$tmp/import.out" >&2; exit 1; }
vflag=""
[ "$VERBOSE" = 1 ] && vflag=-v
# the agent's per-step trace of each pod start (runtime/kubelet/podtrace.h)
trace=-
if [ "$TRACE" = 1 ]; then
	trace=$data/podtrace.log
	export CFS_POD_TRACE="$trace"
fi
# (the HTTPS API on a free loopback port: 6443 may be another server's)
bench_start_server "$data" --node-name bench --listen 127.0.0.1:0 $vflag
bench_wait_ready 15 1
echo "   server pid $pid, node bench Ready after $BENCH_READY_S s, VmRSS $(srv_mib) MiB"

if [ "$PODMAN" = 1 ]; then
	P load -q -i "$TAR" >"$tmp/load.out" 2>&1 || { cat "$tmp/load.out" >&2; exit 1; }
	id=$(sed -n 's/^Loaded image[^:]*: *//p' "$tmp/load.out" | tail -1)
	P tag "$id" docker.io/library/busybox:latest || exit 1
	[ "$id" != docker.io/library/busybox:latest ] && P rmi "$id" >/dev/null 2>&1
fi

echo "== cold: the first bare Pod on each side (not in the medians)"
run_cfs pod cold
[ "$PODMAN" = 1 ] && run_podman pod cold

r=1
while [ $r -le "$RUNS" ]; do
	echo "== run $r (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	put load - "$r" load1 "$(cut -d' ' -f1 /proc/loadavg)"
	for s in $SCENARIOS; do
		run_cfs "$s" $r
		[ "$PODMAN" = 1 ] && run_podman "$s" $r
	done
	r=$((r + 1))
done

# The end: stop, reset, and check that nothing of ours is left.
bench_stop_server
bench_reset_data
left_runc=$(runc_count)
left_pause=$(pause_pids)
left_pm=""
[ "$PODMAN" = 1 ] && left_pm="$(P ps -a -q)$(P pod ps -q)$(conmon_pids)"
if [ "$left_runc" != 0 ] || [ -n "$left_pause" ] || [ -n "$left_pm" ]; then
	echo "bench_runtime.sh: LEFT: $left_runc runc containers, pause processes: ${left_pause:-none}," \
		"podman: ${left_pm:-none}" >&2
	failed=1
else
	echo "== after reset: no runc container, no pause process, no podman container of ours"
fi

# The summary.
# vals SIDE S KEY: the values of every run, in order ("-" for a missing one).
vals() {
	r=1
	out=""
	while [ $r -le "$RUNS" ]; do
		v=$(awk -v a="$1" -v s="$2" -v r="$r" -v k="$3" \
			'$1 == a && $2 == s && $3 == r && $4 == k { v = $5 } END { print v }' "$res")
		out="$out ${v:--}"
		r=$((r + 1))
	done
	echo "$out"
}
# median VALUES...
median() { echo "$@" | bench_median; }
label() {
	case $1 in
	pod) echo "bare Pod" ;;
	*) echo "Deployment x$1" ;;
	esac
}
# verdict S CLUSTERFS_MS PODMAN_MS: the verdict line of scenario S's target.
verdict() {
	case $1 in
	pod) bench_verdict "bare Pod: write -> Running, median" "$2" "<=" 150 ms ;;
	1) bench_verdict "Deployment of 1: write -> Running, median" "$2" "<=" 150 ms ;;
	3) if [ -n "$2" ] && [ -n "$3" ]; then
		bench_verdict "Deployment of 3: podman kube play's time / clusterfs's, medians" \
			"$(awk -v c="$2" -v p="$3" 'BEGIN { printf "%.1f", p / c }')" ">=" 3 "×"
	   else
		bench_verdict "Deployment of 3 against podman (no podman here)" "" ">=" 3 "×"
	   fi ;;
	30) bench_verdict "Deployment of 30: write -> all Running, median" "$2" "<=" 2000 ms ;;
	esac
}
# verdict16 S CLUSTERFS_MS PODMAN_MS CPU_PER_POD: issue 16's targets (pod start).
verdict16() {
	case $1 in
	pod) bench_verdict "issue 16: 1 pod (bare Pod): write -> Running, median" "$2" "<=" 80 ms ;;
	30) bench_verdict "issue 16: 30 replicas: write -> all Running, median" "$2" "<=" 1200 ms
	    if [ -n "$2" ] && [ -n "$3" ]; then
		bench_verdict "issue 16: 30 replicas: podman kube play's time / clusterfs's, medians, same run" \
			"$(awk -v c="$2" -v p="$3" 'BEGIN { printf "%.1f", p / c }')" ">=" 5 "×"
	    else
		bench_verdict "issue 16: 30 replicas against podman (no podman here)" "" ">=" 5 "×"
	    fi
	    bench_verdict "issue 16: server CPU per pod started (30 replicas), median" "$4" "<=" 12 ms ;;
	esac
}

echo
echo "clusterfs node runtime, $(date -u '+%Y-%m-%d %H:%M UTC'): write -> all pods Running," \
	"medians of $RUNS runs"
echo "binary:  $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r);" \
	"load average before the runs: $(vals load - load1 | sed 's/^ //'), now $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '  %-16s %10s %10s %10s %8s\n' "scenario" "clusterfs" "podman" "kube play" "podman/"
printf '  %-16s %10s %10s %10s %8s\n' "" "ms" "ms" "ms" "clusterfs"
for s in $SCENARIOS; do
	c=$(median $(vals cfs "$s" running_ms))
	p=$(median $(vals podman "$s" running_ms))
	k=$(median $(vals podman "$s" play_ms))
	ratio=$( [ -n "$c" ] && [ -n "$p" ] && awk -v c="$c" -v p="$p" 'BEGIN { printf "%.1fx", p / c }')
	printf '  %-16s %10s %10s %10s %8s\n' "$(label "$s")" "${c:--}" "${p:--}" "${k:--}" "${ratio:--}"
done
echo
echo "  every run (ms), in order:"
for s in $SCENARIOS; do
	printf '  %-16s clusterfs%s\n' "$(label "$s")" "$(vals cfs "$s" running_ms)"
	[ "$PODMAN" = 1 ] && printf '  %-16s podman   %s\n' "" "$(vals podman "$s" running_ms)"
	printf '  %-16s server CPU%s\n' "" "$(vals cfs "$s" cpu_ms)"
	printf '  %-16s delete -> gone: clusterfs%s' "" "$(vals cfs "$s" down_ms)"
	[ "$PODMAN" = 1 ] && printf '; podman kube down%s' "$(vals podman "$s" down_ms)"
	echo
done
if [ "$trace" != - ]; then
	echo
	echo "  the pod start, step by step (runtime/kubelet/podtrace.h): ms after the write, and"
	echo "  (+ms) since the step before, each the median over a run's pods, then of the runs:"
	for s in $SCENARIOS; do
		line=""
		for st in listed seen sync got pause cni bundle create start posted visible; do
			a=$(median $(vals cfs "$s" "at_$st"))
			d=$(median $(vals cfs "$s" "dt_$st"))
			[ -n "$a" ] && line="$line $st $a${d:+ (+$d)}"
		done
		printf '  %-16s%s\n' "$(label "$s")" "$line" | fold -s -w 110 | sed '2,$s/^/                   /'
	done
fi
echo
echo "  server CPU per pod started (ms), and how busy the machine's CPUs were meanwhile, medians:"
for s in $SCENARIOS; do
	printf '  %-16s %s ms; %s %%\n' "$(label "$s")" "$(median $(vals cfs "$s" cpu_per_pod))" \
		"$(median $(vals cfs "$s" busy_pct))"
done
case " $SCENARIOS " in *" 30 "*)
	echo
	echo "  with 30 pods Running (median of $RUNS):"
	echo "    clusterfs server (store, controllers, agent) VmRSS $(median $(vals cfs 30 rss_mib)) MiB," \
		"VmHWM $(median $(vals cfs 30 hwm_mib)) MiB; $(median $(vals cfs 30 runc)) runc containers;" \
		"$(median $(vals cfs 30 pause)) pause processes, Pss $(median $(vals cfs 30 pause_pss)) MiB in all"
	[ "$PODMAN" = 1 ] && echo "    podman: no daemon; $(median $(vals podman 30 conmon)) conmon processes," \
		"Pss $(median $(vals podman 30 conmon_pss)) MiB in all (the infra containers' catatonit not counted)"
	;;
esac
echo
echo "  verdicts (the node runtime's targets, docs/benchmarks.md)"
for s in $SCENARIOS; do
	verdict "$s" "$(median $(vals cfs "$s" running_ms))" "$(median $(vals podman "$s" running_ms))"
done
for s in $SCENARIOS; do
	verdict16 "$s" "$(median $(vals cfs "$s" running_ms))" "$(median $(vals podman "$s" running_ms))" \
		"$(median $(vals cfs "$s" cpu_per_pod))"
done
bench_end
