#!/bin/sh
# bench_pull.sh CLUSTERFS [IMAGE_TAR] - pulling a 50 MB image from a
# registry on this machine: `clusterfs image pull` beside `podman pull`,
# in the same run (issue 14).
#
#   image      The busybox base (IMAGE_TAR, an OCI archive) and BENCH_LAYERS
#              (5) more layers, each one file of BENCH_LAYER_MB (10) MiB from
#              /dev/urandom (incompressible: gzip gains nothing and both
#              sides pay the same decompression), built as an OCI layout
#              with umoci, pushed with skopeo to Debian's docker-registry,
#              run by this script on 127.0.0.1 (plain HTTP, its storage
#              under the temporary dir) as 127.0.0.1:PORT/big:1.
#   clusterfs  `clusterfs image pull --data-dir FRESH --insecure-registry
#              127.0.0.1:PORT 127.0.0.1:PORT/big:1`, a new empty data dir
#              each round: every blob downloaded, verified, written
#              (fsync) and every layer unpacked.  Wall time of the command.
#   podman     `podman pull --tls-verify=false 127.0.0.1:PORT/big:1` in a
#              private podman store under the temporary dir (--root,
#              --runroot, --tmpdir, overlay; a containers.conf of our own
#              through CONTAINERS_CONF), the image removed with `podman rmi`
#              before each round.  Wall time of the command.
#
# BENCH_RUNS (5) rounds, clusterfs then podman in each (alternating, so that
# load from other work hits both alike); the load average before each.
# A `sync` (not timed) before each pull: both sides fsync what they write,
# and on ext4 an fsync also waits for the other side's writes still in
# writeback (the journal commit), which without it cost the second of
# each pair ~250 ms.
# Then medians, ranges and the ratio podman/clusterfs, and a target:
# clusterfs at least as fast (ratio >= 1).  Then, for information, where
# clusterfs's time goes: the registry's blobs fetched with curl alone (the
# transfer), `clusterfs image import` of the same OCI layout into a fresh
# data dir (the store's work without the network: verify, write, fsync,
# unpack), and one more pull under `strace -c -f` (the system calls).
#
# Then five pods of one new image (BENCH_FIVE=1): BENCH_RUNS rounds of
#   clusterfs  a server with its node agent (--insecure-registry
#              127.0.0.1:PORT) on a fresh data dir each round (an empty
#              image store: the image is only in the registry), started and
#              Ready before the clock; then `cp` of a Deployment of 5
#              replicas of 127.0.0.1:PORT/big:1 (IfNotPresent, `sleep`)
#              into deployments/, and the time until every pods/*/phase
#              reads Running (polled every 20 ms).  The agent pulls once
#              for the five; its Pulled event's time is printed too.  Then
#              the Deployment removed, the pods and their runc containers
#              gone, the server stopped, `clusterfs reset` of the data dir.
#   podman     after `podman rmi`: `podman pull` then 5 x `podman run -d
#              --network none big:1 sleep 100000` one after another (each
#              returns once its container runs), timed together; then the
#              containers removed.  The nearest fair equivalent: podman has
#              no controller, so it pulls once and starts five.
#
# The trap kills the registry by its PID, removes the podman image and the
# private store, and the temporary dir.  Not root: skipped (podman's store
# and the layers' owners need root).  Knobs: BENCH_RUNS (5), BENCH_LAYERS
# (5), BENCH_LAYER_MB (10), BENCH_PODMAN=0 (skip podman), BENCH_STRACE=0
# (skip the strace profile), BENCH_FIVE=0 (skip the five pods).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_pull.sh CLUSTERFS [IMAGE_TAR]" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFS_ORIG=$(realpath "$1")
TAR=$(realpath -m "${2:-$SRC/build/images/busybox.tar}")
RUNS=${BENCH_RUNS:-5}
LAYERS=${BENCH_LAYERS:-5}
LAYER_MB=${BENCH_LAYER_MB:-10}
PODMAN=${BENCH_PODMAN:-1}
STRACE=${BENCH_STRACE:-1}
FIVE=${BENCH_FIVE:-1}

echo "== pulling a $((LAYERS * LAYER_MB)) MiB image from a local registry: clusterfs beside podman pull"
if [ "$(id -u)" != 0 ]; then
	echo "bench_pull.sh: not root: skipped"
	exit 0
fi
for t in docker-registry skopeo umoci curl; do
	if ! command -v $t >/dev/null; then
		echo "bench_pull.sh: $t is missing (scripts/deps.sh): skipped" >&2
		exit 0
	fi
done
if [ "$PODMAN" = 1 ] && ! command -v podman >/dev/null; then
	PODMAN=0
	echo "   podman is not installed (sh scripts/deps-bench.sh installs it): the podman side is skipped"
fi
command -v strace >/dev/null || STRACE=0
if [ ! -s "$TAR" ]; then
	sh "$SRC/scripts/busybox-image.sh" "$(dirname "$TAR")" >/dev/null || exit 1
fi

BENCH_NAME=bench_pull.sh
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
BENCH_RESET=1 # the five pods' server: `clusterfs reset` of its data dir if the trap stops it
bench_init /tmp/cfs-pull "$CFS_ORIG"
res=$tmp/results
pm=$tmp/podman
reg_pid=""
REF=""
# podman makes /run/containers/networks even for a pull; removed at the
# end if it was not there before and is empty.
NETDIR_NEW=0
[ -d /run/containers ] || NETDIR_NEW=1
mkdir -p "$pm"
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

# What the trap does besides lib.sh's cleanup: the registry killed by its
# PID, the podman image and store removed (overlay mounts under $pm go with
# `podman system reset`).
bench_on_cleanup() {
	if [ -n "$reg_pid" ]; then
		kill -TERM "$reg_pid" 2>/dev/null
		wait "$reg_pid" 2>/dev/null
		reg_pid=""
	fi
	if [ "$PODMAN" = 1 ] && [ -d "$pm/root" ]; then
		P rm -f -t 0 five1 five2 five3 five4 five5 >/dev/null 2>&1
		[ -n "$REF" ] && P rmi -f "$REF" >/dev/null 2>&1
		P system reset -f >/dev/null 2>&1
	fi
	if [ "$NETDIR_NEW" = 1 ]; then
		rmdir /run/containers/networks /run/containers 2>/dev/null
	fi
}

now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# A free TCP port on 127.0.0.1.
free_port() {
	while :; do
		_fp=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
		ss -Htln "sport = :$_fp" | grep -q . || { echo $_fp; return; }
	done
}

# ---- the image ----
t0=$(now_ns)
lay=$tmp/layout
skopeo --insecure-policy copy -q "oci-archive:$TAR" "oci:$lay:big" || exit 1
i=1
while [ $i -le "$LAYERS" ]; do
	mkdir -p "$tmp/l$i/data"
	head -c $((LAYER_MB * 1048576)) /dev/urandom >"$tmp/l$i/data/blob$i"
	umoci insert --image "$lay:big" "$tmp/l$i" / >/dev/null || exit 1
	rm -rf "$tmp/l$i"
	i=$((i + 1))
done
umoci gc --layout "$lay"
echo "   image built in $(ms_since "$t0") ms: busybox + $LAYERS layers of $LAYER_MB MiB (urandom)"

# ---- the registry ----
PORT=$(free_port)
H=127.0.0.1:$PORT
REF=$H/big:1
mkdir -p "$tmp/reg/data"
cat >"$tmp/reg/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/reg/data
http:
  addr: $H
EOF
docker-registry serve "$tmp/reg/config.yml" >"$tmp/reg/log" 2>&1 &
reg_pid=$!
bench_wait_for 10 curl -sf -o /dev/null "http://$H/v2/" || {
	echo "bench_pull.sh: the registry did not answer on $H" >&2
	exit 1
}
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$lay:big" "docker://$REF" || exit 1
MANIFEST=$(curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$H/v2/big/manifests/1")
BLOBS=$(echo "$MANIFEST" | python3 -c 'import json, sys
m = json.load(sys.stdin)
print(" ".join(d["digest"] for d in [m["config"]] + m["layers"]))')
SIZE=$(echo "$MANIFEST" | python3 -c 'import json, sys
m = json.load(sys.stdin)
print(sum(d["size"] for d in [m["config"]] + m["layers"]))')
echo "   pushed $REF: $(echo "$BLOBS" | wc -w) blobs, $SIZE bytes"

# ---- the rounds ----
run_cfs() {
	_d=$tmp/cfs.$1
	sync
	_t=$(now_ns)
	if ! "$CFS" image pull --data-dir "$_d" --insecure-registry "$H" "$REF" >"$tmp/out" 2>&1; then
		echo "bench_pull.sh: clusterfs pull, round $1, failed:" >&2
		cat "$tmp/out" >&2
		failed=1
		return
	fi
	_ms=$(ms_since "$_t")
	echo "cfs $1 $_ms" >>"$res"
	printf '   clusterfs  round %s: %6s ms   (%s)\n' "$1" "$_ms" "$(grep "^pulled" "$tmp/out" | cut -d" " -f3-)"
	rm -rf "$_d"
}
run_podman() {
	P rmi -f "$REF" >/dev/null 2>&1
	sync
	_t=$(now_ns)
	if ! P pull -q --tls-verify=false "$REF" >"$tmp/out" 2>&1; then
		echo "bench_pull.sh: podman pull, round $1, failed:" >&2
		cat "$tmp/out" >&2
		failed=1
		return
	fi
	_ms=$(ms_since "$_t")
	echo "podman $1 $_ms" >>"$res"
	printf '   podman     round %s: %6s ms\n' "$1" "$_ms"
}

[ "$PODMAN" = 1 ] && echo "== $(podman --version), storage driver overlay, private store"
r=1
while [ $r -le "$RUNS" ]; do
	echo "   load average $(load)"
	run_cfs $r
	[ "$PODMAN" = 1 ] && run_podman $r
	r=$((r + 1))
done
[ "$PODMAN" = 1 ] && P rmi -f "$REF" >/dev/null 2>&1

# ---- five pods of one new image ----
cat >"$tmp/five.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: five}
spec:
  replicas: 5
  selector: {matchLabels: {app: five}}
  template:
    metadata: {labels: {app: five}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: c, image: "$REF", imagePullPolicy: IfNotPresent, command: ["sleep", "100000"]}
EOF
running() {
	_n=0
	for _f in "$mnt"/pods/*/phase; do
		[ "$(cat "$_f" 2>/dev/null)" = Running ] && _n=$((_n + 1))
	done
	echo $_n
}
no_pods() { ! ls "$mnt/pods" 2>/dev/null | grep -q '\.yaml$'; }
no_runc() { ! runc --root "$data/runc" list -q 2>/dev/null | grep -q .; }
run_five_cfs() {
	bench_start_server "$tmp/five.$1" --node-name bench-five --insecure-registry "$H"
	bench_wait_ready 30 1
	sync
	_t=$(now_ns)
	cp "$tmp/five.yaml" "$mnt/deployments/five.yaml"
	until [ "$(running)" = 5 ]; do
		if [ "$(ms_since "$_t")" -gt 120000 ]; then
			echo "bench_pull.sh: five pods, round $1: not all Running after 120 s" >&2
			failed=1
			break
		fi
		sleep 0.02
	done
	_ms=$(ms_since "$_t")
	_pulled=$(grep -o 'Successfully pulled image [^ ]* in [0-9.]*s' "$mnt/events" 2>/dev/null)
	echo "five $1 $_ms" >>"$res"
	printf '   clusterfs  round %s: %6s ms to 5 Running   (%s download(s); the Pulled events: %s)\n' \
		"$1" "$_ms" "$(grep -c ': pulled sha256:' "$log")" \
		"$(echo "$_pulled" | sed 's/.* in //' | paste -sd' ' -)"
	rm -f "$mnt/deployments/five.yaml"
	bench_wait_for 60 no_pods && bench_wait_for 30 no_runc || {
		echo "bench_pull.sh: the five pods did not go" >&2
		failed=1
	}
	bench_stop_server
	"$CFS" reset --data-dir "$tmp/five.$1" >/dev/null 2>&1
	rm -rf "$tmp/five.$1"
}
run_five_podman() {
	P rmi -f "$REF" >/dev/null 2>&1
	sync
	_t=$(now_ns)
	_ok=1
	P pull -q --tls-verify=false "$REF" >"$tmp/out" 2>&1 || _ok=0
	for _i in 1 2 3 4 5; do
		[ $_ok = 1 ] || break
		P run -d --name "five$_i" --network none "$REF" sleep 100000 >>"$tmp/out" 2>&1 || _ok=0
	done
	_ms=$(ms_since "$_t")
	if [ $_ok = 1 ]; then
		echo "pfive $1 $_ms" >>"$res"
		printf '   podman     round %s: %6s ms to 5 running (pull, then 5 x run -d)\n' "$1" "$_ms"
	else
		echo "bench_pull.sh: podman pull + run, round $1, failed:" >&2
		tail -5 "$tmp/out" >&2
		failed=1
	fi
	P rm -f -t 0 five1 five2 five3 five4 five5 >/dev/null 2>&1
}
if [ "$FIVE" = 1 ]; then
	echo "== five pods of one new image (only in the registry): write -> all Running, $RUNS rounds"
	r=1
	while [ $r -le "$RUNS" ]; do
		echo "   load average $(load)"
		run_five_cfs $r
		[ "$PODMAN" = 1 ] && run_five_podman $r
		r=$((r + 1))
	done
	[ "$PODMAN" = 1 ] && P rmi -f "$REF" >/dev/null 2>&1
fi

# ---- where clusterfs's time goes ----
echo "== the transfer alone: every blob fetched with curl to /dev/null, $RUNS times"
r=1
while [ $r -le "$RUNS" ]; do
	_t=$(now_ns)
	for b in $BLOBS; do
		curl -s -o /dev/null "http://$H/v2/big/blobs/$b"
	done
	echo "curl $r $(ms_since "$_t")" >>"$res"
	r=$((r + 1))
done
echo "   curl: $(awk '$1 == "curl" { printf "%s ", $3 }' "$res")ms"
echo "== the store's work alone: clusterfs image import of the same OCI layout (no network), $RUNS times"
r=1
while [ $r -le "$RUNS" ]; do
	_t=$(now_ns)
	"$CFS" image import --data-dir "$tmp/imp" "$lay" big:1 >/dev/null 2>&1 || failed=1
	echo "import $r $(ms_since "$_t")" >>"$res"
	rm -rf "$tmp/imp"
	r=$((r + 1))
done
echo "   import: $(awk '$1 == "import" { printf "%s ", $3 }' "$res")ms"
if [ "$STRACE" = 1 ]; then
	echo "== one more clusterfs pull under strace -c -f (slower than without; for the shares)"
	strace -c -f -o "$tmp/strace" "$CFS" image pull --data-dir "$tmp/cfs.strace" \
		--insecure-registry "$H" "$REF" >/dev/null 2>&1
	head -n 14 "$tmp/strace" | sed 's/^/   /'
	rm -rf "$tmp/cfs.strace"
fi

# ---- the summary ----
vals() { awk -v k="$1" '$1 == k { printf "%s ", $3 }' "$res"; }
median() { echo "$@" | bench_median; }
range() { echo "$@" | tr ' ' '\n' | grep . | sort -n | sed -n '1p;$p' | paste -sd- -; }
mc=$(median $(vals cfs))
mp=$(median $(vals podman))
mt=$(median $(vals curl))
bench_machine
echo
echo "pulling $REF ($SIZE bytes, $(echo "$BLOBS" | wc -w) blobs), $(date -u '+%Y-%m-%d %H:%M UTC'), $RUNS rounds"
echo "binary:  $CFS_ID"
echo "load average now $(load)"
printf '  %-10s %10s %14s   %s\n' "" "median ms" "range ms" "every round (ms)"
printf '  %-10s %10s %14s   %s\n' clusterfs "${mc:--}" "$(range $(vals cfs))" "$(vals cfs)"
[ "$PODMAN" = 1 ] && printf '  %-10s %10s %14s   %s\n' podman "${mp:--}" "$(range $(vals podman))" "$(vals podman)"
printf '  %-10s %10s %14s   %s\n' "import" "$(median $(vals import))" "$(range $(vals import))" "$(vals import)"
printf '  %-10s %10s %14s   %s\n' "curl only" "${mt:--}" "$(range $(vals curl))" "$(vals curl)"
ratio=""
if [ -n "$mc" ] && [ -n "$mp" ]; then
	ratio=$(awk -v c="$mc" -v p="$mp" 'BEGIN { printf "%.2f", p / c }')
	echo "  podman / clusterfs, medians: $ratio"
fi
bench_verdict "pull of a 50 MB image: podman's time / clusterfs's, medians" "$ratio" ">=" 1 "×"
if [ "$FIVE" = 1 ]; then
	m5=$(median $(vals five))
	echo "five pods of one new image ($REF), write -> all Running"
	printf '  %-10s %10s %14s   %s\n' clusterfs "${m5:--}" "$(range $(vals five))" "$(vals five)"
	m5p=$(median $(vals pfive))
	[ "$PODMAN" = 1 ] && printf '  %-10s %10s %14s   %s\n' "podman" "${m5p:--}" \
		"$(range $(vals pfive))" "$(vals pfive)"
	[ -n "$m5" ] && [ -n "$m5p" ] &&
		echo "  podman / clusterfs, medians: $(awk -v c="$m5" -v p="$m5p" 'BEGIN { printf "%.2f", p / c }')"
fi
bench_end
