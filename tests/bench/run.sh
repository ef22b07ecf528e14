#!/bin/sh
# run.sh CLUSTERFS BENCHDIR - runs clusterfs's benchmarks and prints their
# figures beside the targets and the peers; `make bench` calls it.
#
# It starts a server of its own (a temporary mount point and data dir
# under /tmp, control plane only), runs bench_apply, bench_read and
# bench_ls against it, records the server's memory, stops it, then runs
# the peers on the same disk: files written and fsync'd on ext4 (the same
# write loop) and SQLite single-row inserts with synchronous=FULL.  The
# summary ends with one verdict per target (PASS or MISS, and the figure
# the target's wording names: the read target is a read as cat does it,
# open, read to EOF, close).  The trap (tests/bench/lib.sh) removes
# everything it made and stops only the server it started.
#
# Knobs (environment): BENCH_SECONDS per apply run (3), BENCH_RUNS apply
# runs per figure (5), BENCH_OBJECTS in the listed folder (10000).
set -u

if [ $# -ne 2 ]; then
	echo "usage: sh tests/bench/run.sh CLUSTERFS BENCHDIR" >&2
	exit 2
fi
CFS=$(realpath "$1")
BD=$(realpath "$2")
SECS=${BENCH_SECONDS:-3}
RUNS=${BENCH_RUNS:-5}
OBJECTS=${BENCH_OBJECTS:-10000}

BENCH_NAME=run.sh
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-bench "$CFS"
peer=$(mktemp -d /var/tmp/cfs-bench-peer.XXXXXX) || exit 1
bench_on_cleanup() {
	rm -rf "$peer"
	# wake_here as found (the read steps below turn it off for a while)
	if [ "${wake:-}" = Y ]; then echo Y >/sys/module/fuse/parameters/wake_here; fi
}
out=$tmp/results
starts=0
crashes=""
: >"$out"

# The value of result KEY from the collected output ("" if none).
val() {
	awk -v k="$1" '$1 == "result" && $2 == k { v = $3 } END { print v }' "$out"
}

# Starts a server on $mnt with a fresh data dir ($tmp/data.N); exits if it
# does not mount within 10 s.
start_server() {
	starts=$((starts + 1))
	log=$tmp/server.$starts.log
	bench_start_server "$tmp/data.$starts" --no-agent
	bench_wait_ready 10
	rss0=$(awk '/^VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status")
	echo "== server pid $pid on $mnt, data dir $data, VmRSS $rss0"
}

# Runs a benchmark, showing its output and keeping it for the summary.
# If the server died meanwhile, says so and starts a new one, so that the
# other figures are still measured; the summary lists the crash.
step() {
	name=$1
	shift
	echo "== $name"
	{
		"$@" 2>&1
		echo "exit-status $?"
	} | tee "$tmp/step" | grep -v '^exit-status '
	cat "$tmp/step" >>"$out"
	st=$(sed -n 's/^exit-status //p' "$tmp/step")
	if [ "$st" != 0 ]; then
		echo "run.sh: $name failed (exit $st)" >&2
		failed=1
	fi
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		echo "run.sh: the server (pid $pid) died during \"$name\" (wait status $?);" \
			"the end of its log:" >&2
		tail -5 "$log" >&2
		crashes="$crashes \"$name\""
		failed=1
		pid=""
		if bench_mounted "$mnt"; then
			fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
		fi
		start_server
	fi
}

# The machine
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fstype=$(findmnt -n -o FSTYPE -T "$tmp" 2>/dev/null || stat -f -c %T "$tmp")
dev=$(df -P "$tmp" | awk 'NR == 2 { print $1 }')
journal=""
if [ "$fstype" = ext4 ] && [ -d /proc/fs/jbd2 ] &&
	! ls /proc/fs/jbd2 | grep -q "^$(basename "$dev")-"; then
	journal=", no journal"
fi
wcache=$(cat "/sys/block/$(basename "$dev")/queue/write_cache" 2>/dev/null || echo "?")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== machine"
echo "$(nproc) CPUs ($cpu), $mem, Linux $(uname -r)"
echo "/tmp and /var/tmp on $dev ($fstype$journal, write cache: $wcache)"
mkdir -p "$tmp/probe"
step "disk fsync latency" "$BD/bench_peer" fsync "$tmp/probe"

# The server
start_server

step "durable applies, create" "$BD/bench_apply" -w 1,8 -t "$SECS" -r "$RUNS" "$mnt/configmaps"
step "durable applies, update" "$BD/bench_apply" -u -w 1,8 -t "$SECS" -r "$RUNS" \
	"$mnt/configmaps"
step "small-file read" "$BD/bench_read" "$mnt"
# The same reads with the FUSE module's wake_here off (fs/fs_kernel.c: the
# server sets it on where the kernel has it; upstream kernels lack it), for
# the figure such a kernel gives; then it is put back as it was.
WAKE=/sys/module/fuse/parameters/wake_here
wake=$(cat "$WAKE" 2>/dev/null || echo absent)
if [ "$wake" = Y ]; then
	echo N >"$WAKE"
	step "small-file read, wake_here off" "$BD/bench_read" -l nowake_replicas \
		-f "$mnt/deployments/bench-read/replicas"
	step "NAME.yaml read, wake_here off" "$BD/bench_read" -l nowake_yaml \
		-f "$mnt/deployments/bench-read.yaml"
	echo Y >"$WAKE"
fi
step "ls of $OBJECTS objects" "$BD/bench_ls" -n "$OBJECTS" "$mnt"
step "durable applies beside $OBJECTS objects" "$BD/bench_apply" -w 8 -t "$SECS" -r 1 \
	-l crowded "$mnt/configmaps"
rss=$(awk '/^VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status")
echo "== server memory: VmRSS $rss (peak $hwm); $mnt/status:"
sed 's/^/  /' "$mnt/status"
revision=$(awk '/^revision:/ { print $2 }' "$mnt/status")
spid=$pid
bench_stop_server
if bench_mounted "$mnt"; then
	echo "run.sh: server $spid left $mnt mounted" >&2
	failed=1
fi
echo "== server $spid stopped"
logbytes=$(wc -c <"$log")

# The peers, on the same disk, with the server stopped
mkdir -p "$peer/files"
step "peer: ext4 files + fsync" "$BD/bench_apply" -s -w 1,8 -t "$SECS" -r "$RUNS" \
	-l peer_ext4 "$peer/files"
step "peer: sqlite inserts, synchronous=FULL" "$BD/bench_peer" sqlite -w 1,8 -t "$SECS" \
	-r "$RUNS" "$peer"
printf '0\n' >"$peer/replicas"
step "peer: plain file read" "$BD/bench_read" -l peer_read -f "$peer/replicas"
step "peer: ls of a plain folder" "$BD/bench_ls" -n "$OBJECTS" -P "$peer/ls"

# The summary
# row LABEL KEY UNIT: one line of the table (the verdicts come after it).
row() {
	v=$(val "$2")
	printf '  %-48s %10s %s\n' "$1" "${v:--}" "$3"
}

# ratio LABEL KEY_A KEY_B: A / B.
ratio() {
	a=$(val "$2")
	b=$(val "$3")
	r=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '  %-58s %s\n' "$1" "$r"
}

echo
echo "clusterfs benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r)"
echo "disk:    $dev ($fstype$journal, write cache: $wcache)," \
	"append 4 KiB + fdatasync p50 $(val fsync_p50) ms"
echo "runs:    $SECS s per apply run, median of $RUNS runs; load average $load0 at the" \
	"start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "server:  $($CFS version 2>/dev/null), --no-agent; VmRSS $rss0 at start, $rss (peak $hwm)" \
	"after the runs (revision ${revision:-?}); log $logbytes bytes"
echo
echo "  figure                                                value unit"
row "durable applies/s, 1 writer (create)" apply_create_w1 /s
row "durable applies/s, 8 writers (create)" apply_create_w8 /s
row "durable applies/s, 1 writer (update)" apply_update_w1 /s
row "durable applies/s, 8 writers (update)" apply_update_w8 /s
row "apply latency p50, 1 writer (create)" apply_create_w1_p50 ms
row "apply latency p50, 8 writers (create)" apply_create_w8_p50 ms
row "durable deletes/s, 8 writers (rm)" apply_delete_w8 /s
row "durable applies/s, 8 writers, $OBJECTS in folder" crowded_create_w8 /s
row "read replicas as cat (open, to EOF, close) p50" read_replicas_eof_p50 us
row "read replicas, one read (open+read+close) p50" read_replicas_p50 us
row "  the same, p90" read_replicas_p90 us
row "  the same, p99" read_replicas_p99 us
row "read NAME.yaml to EOF p50" read_yaml_eof_p50 us
row "create $OBJECTS via apply, 500 a write" ls_create_batched objects/s
row "ls of $OBJECTS objects p50" ls_p50 ms
row "opendir+readdir of $OBJECTS objects p50" readdir_p50 ms
row "ls -l of $OBJECTS objects p50" ls_l_p50 ms
row "ls -l of $OBJECTS objects, first run" ls_l_first ms
echo
echo "  peers (same disk, same session)"
row "ext4 file+fsync/s, 1 writer" peer_ext4_create_w1 /s
row "ext4 file+fsync/s, 8 writers" peer_ext4_create_w8 /s
row "sqlite insert/s (synchronous=FULL), 1 writer" sqlite_insert_w1 /s
row "sqlite insert/s (synchronous=FULL), 8 writers" sqlite_insert_w8 /s
row "plain file open+read+close p50" peer_read_p50 us
row "plain file as cat (open, to EOF, close) p50" peer_read_eof_p50 us
row "ls of a plain folder, same names, p50" peer_ls_p50 ms
ratio "clusterfs / ext4+fsync, 1 writer" apply_create_w1 peer_ext4_create_w1
ratio "clusterfs / ext4+fsync, 8 writers" apply_create_w8 peer_ext4_create_w8
ratio "clusterfs / sqlite, 1 writer" apply_create_w1 sqlite_insert_w1
ratio "clusterfs / sqlite, 8 writers" apply_create_w8 sqlite_insert_w8
ratio "read latency, clusterfs / plain file" read_replicas_p50 peer_read_p50
ratio "cat of replicas, clusterfs / plain file" read_replicas_eof_p50 peer_read_eof_p50
ratio "ls time, clusterfs / plain folder" ls_p50 peer_ls_p50
if [ -n "$crashes" ]; then
	echo
	echo "  THE SERVER CRASHED during:$crashes (restarted with an empty store;"
	echo "  figures after a crash and the memory line come from the new server)"
fi
echo
echo "  verdicts (the filesystem's targets, docs/benchmarks.md)"
bench_verdict "durable applies/s, 8 writers, create" "$(val apply_create_w8)" ">=" 2000 applies/s
bench_verdict "durable applies/s, 8 writers, update" "$(val apply_update_w8)" ">=" 2000 applies/s
bench_verdict "read of NAME/replicas as cat reads it: open, read to EOF, close; p50" \
	"$(val read_replicas_eof_p50)" "<=" 60 µs
peer_cat="plain file $(val peer_read_eof_p50) µs in the same run; FUSE wake_here $wake"
bench_verdict "cat of an unchanged one-value file (replicas), p50; $peer_cat" \
	"$(val read_replicas_eof_p50)" "<=" 20 µs
bench_verdict "cat NAME.yaml, unchanged, p50; $peer_cat" "$(val read_yaml_eof_p50)" "<=" 30 µs
if [ "$wake" = Y ]; then
	echo "  (with wake_here off, as on an upstream kernel: cat of replicas" \
		"$(val nowake_replicas_eof_p50) µs, NAME.yaml $(val nowake_yaml_eof_p50) µs)"
fi
if [ "$OBJECTS" = 10000 ]; then
	bench_verdict "ls of 10,000 objects (20,000 names), p50" "$(val ls_p50)" "<=" 100 ms
	bench_verdict "ls -l of 10,000 objects, p50; plain folder $(val peer_ls_l_p50) ms" \
		"$(val ls_l_p50)" "<=" 200 ms
else
	echo "  (the ls target is for 10,000 objects: no verdict with BENCH_OBJECTS=$OBJECTS)"
fi
bench_end
