# tests/bench/lib.sh - what the benchmark scripts share: sourced (POSIX sh)
# by run.sh, bench_cluster.sh, bench_runtime.sh, bench_services.sh and
# bench_rollout.sh, as tests/e2e/lib.sh is by the end-to-end tests.
#
#     BENCH_NAME=bench_x.sh
#     . "$(dirname "$0")/lib.sh"
#     bench_init /tmp/cfs-x "$1"        # $tmp, $mnt, $CFS (a private copy), traps
#     bench_start_server "$tmp/data" --no-agent
#     bench_wait_ready 15               # mounted (and, with a count, nodes Ready)
#     ...
#     bench_verdict "bare Pod, write -> Running" 104 "<=" 150 ms
#     bench_end                         # total time; exit 1 if a step failed
#
# The server is started by this shell and stopped by its PID only (SIGTERM,
# then SIGKILL after BENCH_STOP_GRACE seconds), never by name.  The EXIT
# trap (INT, TERM and HUP exit, which runs it) stops a background step
# ($tpid) and the server, runs `clusterfs reset` on $data when the script
# set BENCH_RESET=1, calls the script's bench_on_cleanup, unmounts whatever
# is still mounted under $tmp and removes $tmp (unless a mount is left).
#
# Variables: tmp, mnt, CFS (the private copy), CFS_ID (the original's name,
# time and checksum), pid (the server), tpid (a background step), data (the
# server's data dir), log (its stderr), failed (1: exit 1 at the end),
# cpu and mem (after bench_machine), T_START.  Knobs a script sets before
# bench_init: BENCH_STOP_GRACE (10 s), BENCH_RESET (0), BENCH_KEEP_LOG (a
# path to copy the server's log to at the end).
#
# Verdicts: bench_verdict prints one line per target, `PASS target ≤150 ms:
# 104 ms  (...)` or `MISS ...`, and appends it to $BENCH_VERDICTS when that
# is set (make bench sets it and prints them all at the end).

BENCH_NAME=${BENCH_NAME:-bench}
BENCH_STOP_GRACE=${BENCH_STOP_GRACE:-10}
BENCH_RESET=${BENCH_RESET:-0}
BENCH_KEEP_LOG=${BENCH_KEEP_LOG:-}
tmp=""
mnt=""
data=""
log=/dev/null
pid=""
tpid=""
failed=0
T_START=$(date +%s)

# The script's own cleanup, called by bench_cleanup after the server has
# stopped (and its data dir was reset) and before the unmounts.
bench_on_cleanup() { :; }

# bench_init PREFIX CLUSTERFS: makes $tmp (mktemp -d PREFIX.XXXXXX) and
# $mnt, copies CLUSTERFS to $tmp/clusterfs ($CFS: a rebuild of the original
# during the runs must not mix binaries), sets CFS_ID, installs the traps.
bench_init() {
	tmp=$(mktemp -d "$1.XXXXXX") || exit 1
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	mnt=$tmp/mnt
	log=$tmp/server.log
	mkdir -p "$mnt"
	cp "$2" "$tmp/clusterfs" || exit 1
	CFS_ID="$(basename "$2") $(date -u -r "$2" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$2" | cut -c1-12)"
	CFS=$tmp/clusterfs
}

# bench_mounted DIR: a FUSE mount is at DIR.
bench_mounted() { grep -q " $1 fuse" /proc/mounts; }

# bench_start_server DATA_DIR ARGS...: starts `clusterfs server` on $mnt
# with DATA_DIR (made if missing; it becomes $data) and ARGS, its stderr in
# $log; sets $pid.  bench_wait_ready then waits for it.  The HTTP API
# listens on a free loopback port (in $data/kubeconfig) unless ARGS say.
bench_start_server() {
	data=$1
	shift
	mkdir -p "$data"
	"$CFS" server --listen 127.0.0.1:0 --mount "$mnt" --data-dir "$data" "$@" 2>"$log" &
	pid=$!
}

# bench_wait_ready SECONDS [NODES]: until $mnt is mounted and (with NODES)
# /cluster/status counts NODES ready nodes.  If the server dies or the
# time runs out: its log's end, and exit 1.  Sets BENCH_READY_S ("1.3").
bench_wait_ready() {
	_bw_max=$(($1 * 10))
	_bw_n=${2:-}
	_bw_i=0
	until bench_mounted "$mnt" && [ -e "$mnt/status" ] &&
		{ [ -z "$_bw_n" ] || grep -q "^nodes: *$_bw_n ready" "$mnt/status" 2>/dev/null; }; do
		if ! kill -0 "$pid" 2>/dev/null || [ $_bw_i -ge $_bw_max ]; then
			echo "$BENCH_NAME: no server on $mnt${_bw_n:+ with $_bw_n Ready nodes}; its log:" >&2
			tail -20 "$log" >&2
			exit 1
		fi
		sleep 0.1
		_bw_i=$((_bw_i + 1))
	done
	BENCH_READY_S="$((_bw_i / 10)).$((_bw_i % 10))"
}

# bench_stop_server: stops our server (that PID only): SIGTERM, then
# SIGKILL after BENCH_STOP_GRACE seconds (a failure).  Sets BENCH_STOP_S
# (the seconds it took; "" if it was not running).
bench_stop_server() {
	BENCH_STOP_S=""
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		_bs_i=0
		while kill -0 "$pid" 2>/dev/null && [ $_bs_i -lt $((BENCH_STOP_GRACE * 10)) ]; do
			sleep 0.1
			_bs_i=$((_bs_i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$BENCH_NAME: server $pid ignored SIGTERM for $BENCH_STOP_GRACE s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			failed=1
		fi
		BENCH_STOP_S="$((_bs_i / 10)).$((_bs_i % 10))"
	fi
	wait "$pid" 2>/dev/null
	pid=""
}

# bench_reset_data: `clusterfs reset` of $data (containers, network, files).
bench_reset_data() {
	[ -n "$data" ] || return 0
	"$CFS" reset --data-dir "$data" >/dev/null 2>&1 ||
		{ echo "$BENCH_NAME: reset of $data failed" >&2; failed=1; }
}

# bench_unmount_all: every mount under $tmp, deepest first.
bench_unmount_all() {
	for _bu_m in $(awk -v b="$tmp/" 'index($2, b) == 1 { print $2 }' /proc/mounts | sort -r); do
		fusermount3 -uz "$_bu_m" 2>/dev/null || umount -l "$_bu_m" 2>/dev/null
	done
}

# The EXIT trap.
bench_cleanup() {
	if [ -n "$tpid" ]; then
		kill -TERM "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
		tpid=""
	fi
	[ -n "$tmp" ] || return 0
	bench_stop_server
	if [ "$BENCH_RESET" = 1 ] && [ -n "$data" ]; then
		"$CFS" reset --data-dir "$data" >/dev/null 2>&1
	fi
	bench_on_cleanup
	bench_unmount_all
	[ -n "$BENCH_KEEP_LOG" ] && cp "$log" "$BENCH_KEEP_LOG" 2>/dev/null
	if awk -v b="$tmp/" 'index($2, b) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
		echo "$BENCH_NAME: a mount under $tmp is still there; not removing it" >&2
	else
		rm -rf --one-file-system "$tmp"
	fi
}

# bench_bg CMD...: runs CMD in the background, so that a signal reaches the
# trap at once (which then stops it), and returns its exit status.
bench_bg() {
	"$@" &
	tpid=$!
	wait "$tpid"
	_bg_st=$?
	tpid=""
	return $_bg_st
}

# bench_wait_for SECONDS CMD...: until CMD succeeds (every 0.1 s); 1 if
# the time runs out.
bench_wait_for() {
	_wf_w=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		_wf_w=$((_wf_w - 1))
		[ $_wf_w -gt 0 ] || return 1
		sleep 0.1
	done
}

# bench_median: the median of the numbers on stdin (whitespace-separated;
# "-" for a missing value is skipped); nothing when there are none.
bench_median() {
	tr -s ' \t' '\n\n' | grep -v '^-*$' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_machine: sets cpu and mem, and prints the machine line.
bench_machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "== machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r)"
}

# bench_verdict WHAT VALUE OP TARGET UNIT: the verdict on one target, e.g.
#     PASS target ≤150 ms: 104 ms  (bare Pod: write -> Running, median)
#     MISS target ≥5000 pods/s: 2166 pods/s  (scheduler on 1,000 hollow nodes ...)
# OP is "<=" or ">="; no VALUE (a step skipped or failed): NONE.  The line
# also goes to $BENCH_VERDICTS when that is set.
bench_verdict() {
	if [ "$3" = "<=" ]; then _bv_sym="≤"; else _bv_sym="≥"; fi
	if [ -z "$2" ] || [ "$2" = - ]; then
		_bv_line="NONE target $_bv_sym$4 $5: not measured  ($1)"
	else
		_bv_ok=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
			print (op == ">=" ? v + 0 >= t + 0 : v + 0 <= t + 0) ? "PASS" : "MISS" }')
		_bv_line="$_bv_ok target $_bv_sym$4 $5: $2 $5  ($1)"
	fi
	echo "  $_bv_line"
	[ -n "${BENCH_VERDICTS:-}" ] && echo "$_bv_line" >>"$BENCH_VERDICTS"
	return 0
}

# bench_end: the total time; exit 1 if a step failed, else 0.
bench_end() {
	echo
	echo "total time $(($(date +%s) - T_START)) s"
	if [ "$failed" != 0 ]; then
		echo "$BENCH_NAME: some steps failed (see above)" >&2
		exit 1
	fi
	exit 0
}
