#!/bin/bash
# bench_etcd.sh CLUSTERFS [BENCHDIR] - clusterfs on etcd (issue 15) against
# clusterfs on SQLite and against etcd alone, in the same run.
#
#   apply     durable applies/s through the filesystem, 8 writers creating
#             ConfigMaps (bench_apply, as run.sh runs it), on a server with
#             SQLite, then on a server with --etcd on a 1-member etcd and
#             on a 3-member etcd; after each etcd server, etcd's own put
#             rate on the same cluster with the server stopped: 8 threads of
#             single-put transactions of the size the store writes for such
#             a ConfigMap, through the store's own client
#             (bench_etcd_put: why it is the fair peer is in its header).
#   failover  two servers (--server-name fo-a, fo-b, control plane only) on
#             the 3-member etcd; fo-a leads; kill -9 of fo-a after a random
#             part of its renewal period; the time until fo-b's
#             /cluster/status says `leader: fo-b`.  With the default lease
#             (15 s) and a short one (3 s); the target is "within the lease".
#   cluster   bench_cluster.sh's end-to-end scenario (1,000 hollow nodes, one
#             write of a Deployment of 30,000) on SQLite, then on a 1-member
#             etcd (BENCH_ETCD), with the server's and etcd's RSS.
#
# etcd's data dirs are under this script's temporary dir in /tmp, on the
# same disk as the servers' SQLite data dirs (not tmpfs): both fsync there.
# etcd members come from tests/e2e/lib_etcd.sh (fast heartbeats, started
# and killed by PID); the trap stops every server and member it started,
# by PID, unmounts and removes the temporary dir.
#
# Knobs (environment): BENCH_SECONDS per apply run (3), BENCH_RUNS apply
# runs (5), BENCH_FAILOVER_RUNS per lease (3), BENCH_FAILOVER_LEASES
# ("15 3"), BENCH_ETCD_PARTS ("apply failover cluster"), BENCH_NODES and
# BENCH_PODS for the cluster part (1000, 30000), BENCH_ETCD_TIMEOUT seconds
# per wait of the cluster part on etcd (900), BENCH_CLUSTER_MEMBERS etcd's
# members in the cluster part (1).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: bash tests/bench/bench_etcd.sh CLUSTERFS [BENCHDIR]" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
CFS_ORIG=$(realpath "$1")
BD=$(realpath "${2:-$HERE/../../build/bench}")
SECS=${BENCH_SECONDS:-3}
RUNS=${BENCH_RUNS:-5}
FO_RUNS=${BENCH_FAILOVER_RUNS:-3}
FO_LEASES=${BENCH_FAILOVER_LEASES:-15 3}
PARTS=${BENCH_ETCD_PARTS:-apply failover cluster}
NODES=${BENCH_NODES:-1000}
PODS=${BENCH_PODS:-30000}
ETIMEOUT=${BENCH_ETCD_TIMEOUT:-900}
for b in bench_apply bench_etcd_put bench_sched; do
	if [ ! -x "$BD/$b" ]; then
		echo "bench_etcd.sh: $BD/$b is missing; make $BD/$b" >&2
		exit 2
	fi
done

BENCH_NAME=bench_etcd.sh
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
bench_init /tmp/cfs-etcd "$CFS_ORIG"
ETCD_BASE=$tmp/etcd
# shellcheck source=tests/e2e/lib_etcd.sh
. "$HERE/../e2e/lib_etcd.sh"
out=$tmp/results
: >"$out"
fo_pids=""
# shellcheck disable=SC2317 # (called by lib.sh's trap)
bench_on_cleanup() {
	for p in $fo_pids; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	etcd_down
}

# The value of result KEY ("" if none).
val() {
	awk -v k="$1" '$1 == "result" && $2 == k { v = $3 } END { print v }' "$out"
}

# rss PID: its VmRSS in MiB ("-" when gone).
rss() {
	awk '/^VmRSS/ { printf "%.0f", $2 / 1024; f = 1 } END { if (!f) print "-" }' \
		"/proc/$1/status" 2>/dev/null || echo -
}

# etcd_rss: the members' VmRSS, summed, in MiB.
etcd_rss() {
	local t=0 i
	for i in $(seq 1 "$ETCD_N"); do
		[ -n "${ETCD_PIDS[$i]:-}" ] && t=$((t + $(rss "${ETCD_PIDS[$i]}")))
	done
	echo "$t"
}

# etcd_fresh N: a new N-member cluster (the old one, if any, removed).
etcd_fresh() {
	etcd_down
	mkdir -p "$ETCD_BASE"
	etcd_up "$1" || { echo "bench_etcd.sh: etcd ($1 members) did not start" >&2; exit 1; }
	echo "   etcd: $1 member(s), $ETCD_ENDPOINTS, data in $ETCD_BASE"
}

# step NAME CMD...: runs CMD, shows its output and keeps it for the summary.
step() {
	echo "== $1"
	shift
	"$@" >"$tmp/step" 2>&1
	st=$?
	sed 's/^/   /' "$tmp/step"
	cat "$tmp/step" >>"$out"
	[ $st = 0 ] || { echo "bench_etcd.sh: failed (exit $st)" >&2; failed=1; }
}

# apply_on LABEL ARGS...: a fresh server with ARGS, 8 writers creating.
apply_on() {
	local label=$1
	shift
	log=$tmp/server.$label.log
	bench_start_server "$tmp/data.$label" --no-agent --listen 127.0.0.1:0 "$@"
	bench_wait_ready 30
	step "durable applies, 8 writers, $label (server pid $pid)" \
		"$BD/bench_apply" -w 8 -t "$SECS" -r "$RUNS" -l "$label" "$mnt/configmaps"
	echo "result ${label}_rss $(rss "$pid") MiB" >>"$out"
}

# value_size: the bytes the store keeps in etcd for one bench ConfigMap.
value_size() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-0-0\ndata:\n  writer: "0"\n  seq: "0"\n' \
		>"$mnt/configmaps/bench-0-0.yaml"
	etcd_ctl get --print-value-only /clusterfs/ConfigMap/default/bench-0-0 | head -c -1 | wc -c
}

# put_peer LABEL SIZE: etcd's put rate, server stopped.
put_peer() {
	step "peer: etcd puts, 8 writers, $2-byte values, $1" \
		"$BD/bench_etcd_put" -w 8 -t "$SECS" -r "$RUNS" -s "$2" -l "$1" "$ETCD_ENDPOINTS"
}

part_apply() {
	apply_on sqlite
	bench_stop_server
	for n in 1 3; do
		etcd_fresh $n
		apply_on "etcd$n" --etcd "$ETCD_ENDPOINTS"
		size=$(value_size)
		echo "   one bench ConfigMap is $size bytes in etcd; etcd VmRSS $(etcd_rss) MiB"
		echo "result etcd${n}_value_bytes $size bytes" >>"$out"
		bench_stop_server
		put_peer "put$n" "${size:-600}"
	done
}

# status_leader MNT: the leader its /cluster/status names.
status_leader() {
	awk '$1 == "leader:" { print $2 }' "$1/status" 2>/dev/null
}

# leads MNT NAME: MNT's /cluster/status names NAME as the leader.
# shellcheck disable=SC2317 # (called by bench_wait_for)
leads() {
	[ "$(status_leader "$1")" = "$2" ]
}

# fo_start NAME LEASE PREFIX: a server fo-NAME on $tmp/fo-NAME; its PID in
# fo_pid (and fo_pids, for the trap).
fo_start() {
	mkdir -p "$tmp/fo-$1" "$tmp/fo-$1.data"
	"$CFS" server --no-agent --listen 127.0.0.1:0 --mount "$tmp/fo-$1" \
		--data-dir "$tmp/fo-$1.data" --server-name "fo-$1" --etcd "$ETCD_ENDPOINTS" \
		--etcd-prefix "$3" --leader-elect-lease-duration "$2" \
		>/dev/null 2>>"$tmp/fo-$1.log" &
	fo_pid=$!
	fo_pids="$fo_pids $fo_pid"
}

# fo_stop PID MNT: SIGTERM (SIGKILL after 10 s), unmount.
fo_stop() {
	kill -TERM "$1" 2>/dev/null
	local i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	bench_mounted "$2" && { fusermount3 -uz "$2" 2>/dev/null || umount -l "$2"; }
	fo_pids=$(echo "$fo_pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# fo_once LEASE RUN: one failover; prints "result fo_LEASE_msN MS ms".
fo_once() {
	local lease=$1 r=$2 a b t0 t1 ms w
	fo_start a "$lease" "/fo-$lease-$r"
	a=$fo_pid
	bench_wait_for 30 leads "$tmp/fo-a" fo-a ||
		{ echo "   fo-a did not lead"; tail -5 "$tmp/fo-a.log"; fo_stop "$a" "$tmp/fo-a"; return 1; }
	fo_start b "$lease" "/fo-$lease-$r"
	b=$fo_pid
	bench_wait_for 30 leads "$tmp/fo-b" fo-a ||
		{ echo "   fo-b did not see fo-a lead"; fo_stop "$a" "$tmp/fo-a"; fo_stop "$b" "$tmp/fo-b"; return 1; }
	# kill at a random point of a renewal period (lease / 3)
	w=$(awk -v l="$lease" -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", rand() * l / 3 }')
	sleep "$w"
	t0=$(date +%s%N)
	kill -KILL "$a"
	wait "$a" 2>/dev/null
	if bench_wait_for $((lease * 2 + 10)) leads "$tmp/fo-b" fo-b; then
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		echo "   lease ${lease} s, run $r: kill -9 of fo-a $w s after fo-b saw it lead;" \
			"fo-b leads after $ms ms"
		echo "result fo_${lease}_ms$r $ms ms" >>"$out"
	else
		echo "   lease ${lease} s, run $r: fo-b does not lead ($(status_leader "$tmp/fo-b"))"
		failed=1
	fi
	fo_stop "$a" "$tmp/fo-a"
	fo_stop "$b" "$tmp/fo-b"
	rm -rf "$tmp/fo-a.data" "$tmp/fo-b.data"
}

part_failover() {
	[ "$ETCD_N" = 3 ] || etcd_fresh 3
	for lease in $FO_LEASES; do
		echo "== leader failover, lease $lease s, $FO_RUNS runs"
		for r in $(seq 1 "$FO_RUNS"); do
			fo_once "$lease" "$r"
		done
	done
}

# cluster_run LABEL ENV...: bench_cluster.sh's e2e scenario once, with ENV.
cluster_run() {
	local label=$1
	shift
	echo "== $PODS pods end to end: $label"
	env "$@" BENCH_RUNS=1 BENCH_SCENARIOS=e2e BENCH_NODES="$NODES" BENCH_PODS="$PODS" \
		BENCH_RESULTS="$tmp/cluster.$label" BENCH_KEEP_LOG="$tmp/cluster.$label.log" \
		sh "$HERE/bench_cluster.sh" "$CFS" "$BD" 2>&1 | sed 's/^/   /'
	sed "s/^result e2e_/result ${label}_/" "$tmp/cluster.$label" >>"$out" 2>/dev/null
	# Events the recorder dropped: queued past its limit, or in a batch
	# whose write failed ("writing N events: ...")
	lost=$(awk '/ warn events dropped / { n++ }
		/ warn events writing [0-9]+ events/ { for (i = 1; i < NF; i++)
			if ($i == "writing") { n += $(i + 1); break } }
		END { print n + 0 }' "$tmp/cluster.$label.log" 2>/dev/null)
	echo "result ${label}_dropped_events ${lost:-0} events" >>"$out"
	echo "   the server's log: ${lost:-0} Events dropped;" \
		"$(grep -c ' warn ' "$tmp/cluster.$label.log" 2>/dev/null) warnings, the most frequent:"
	grep ' warn ' "$tmp/cluster.$label.log" 2>/dev/null | cut -d' ' -f3- | cut -c1-100 |
		sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -5 | sed 's/^/     /'
}

part_cluster() {
	cluster_run sqlite BENCH_VERDICTS=
	etcd_fresh "${BENCH_CLUSTER_MEMBERS:-1}"
	cluster_run etcd BENCH_VERDICTS= BENCH_ETCD="$ETCD_ENDPOINTS" \
		BENCH_ETCD_PIDS="${ETCD_PIDS[1]}" BENCH_TIMEOUT="$ETIMEOUT" \
		BENCH_READY_TIMEOUT="$ETIMEOUT"
}

# ratio A B: A / B with two decimals ("-" when either is missing).
ratio() {
	awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'
}

# compare WHAT A B: a comparison line (no target: the ratio is the verdict).
compare() {
	local line
	line="RATIO $1: $(ratio "$2" "$3")x  ($2 vs $3)"
	echo "  $line"
	[ -n "${BENCH_VERDICTS:-}" ] && echo "$line" >>"$BENCH_VERDICTS"
	return 0
}

bench_machine
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $($CFS version) ($CFS_ID); $(etcd --version | head -1); load average $load0"
echo "   data dirs (SQLite and etcd) on $(df -P "$tmp" | awk 'NR == 2 { print $1 }')" \
	"($(findmnt -n -o FSTYPE -T "$tmp"))"
for p in $PARTS; do
	case $p in
	apply) part_apply ;;
	failover) part_failover ;;
	cluster) part_cluster ;;
	*) echo "bench_etcd.sh: unknown part $p" >&2; exit 2 ;;
	esac
done

# The summary
row() {
	printf '  %-58s %10s %s\n' "$1" "${2:--}" "$3"
}
fo_runs() {
	awk -v k="fo_$1_ms" '$1 == "result" && index($2, k) == 1 { printf "%s ", $3 }' "$out"
}
echo
echo "clusterfs on etcd, $(date -u '+%Y-%m-%d %H:%M UTC'); binary $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem; load average $load0 at the start," \
	"$(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
case $PARTS in *apply*)
	echo "  durable applies/s, 8 writers creating (median of $RUNS runs of $SECS s)"
	row "SQLite" "$(val sqlite_create_w8)" "/s (p50 $(val sqlite_create_w8_p50) ms)"
	row "etcd, 1 member" "$(val etcd1_create_w8)" "/s (p50 $(val etcd1_create_w8_p50) ms)"
	row "etcd, 3 members" "$(val etcd3_create_w8)" "/s (p50 $(val etcd3_create_w8_p50) ms)"
	row "peer: etcd puts, 8 threads, 1 member" "$(val put1_w8)" "/s (p50 $(val put1_w8_p50) ms)"
	row "peer: etcd puts, 8 threads, 3 members" "$(val put3_w8)" "/s (p50 $(val put3_w8_p50) ms)"
	row "durable deletes/s (rm), SQLite / etcd 1 / etcd 3" \
		"$(val sqlite_delete_w8) / $(val etcd1_delete_w8) / $(val etcd3_delete_w8)" ""
	;;
esac
case $PARTS in *failover*)
	echo "  leader failover: kill -9 of the leader -> the other's status names itself"
	for l in $FO_LEASES; do
		row "lease $l s, median (runs: $(fo_runs "$l"))" \
			"$(fo_runs "$l" | bench_median)" ms
	done
	;;
esac
case $PARTS in *cluster*)
	echo "  $PODS pods end to end on $NODES hollow nodes (one run each)"
	for s in sqlite etcd; do
		row "$s: all created / bound / Running" \
			"$(val ${s}_created_s) / $(val ${s}_bound_s) / $(val ${s}_running_s)" s
		row "$s: server CPU, VmRSS (peak)" \
			"$(val ${s}_cpu_s) s, $(val ${s}_rss_mib) ($(val ${s}_hwm_mib))" MiB
	done
	row "etcd: etcd's VmRSS after the run ($ETCD_N member(s))" "$(val etcd_etcd_rss_mib)" MiB
	row "Events dropped by the recorder, SQLite / etcd" \
		"$(val sqlite_dropped_events) / $(val etcd_dropped_events)" ""
	;;
esac
echo
echo "  verdicts (issue 15 has no numeric targets but the lease: the ratios are the verdict)"
case $PARTS in *apply*)
	compare "durable applies/s, 8 writers: etcd (1 member) / SQLite" \
		"$(val etcd1_create_w8)" "$(val sqlite_create_w8)"
	compare "durable applies/s, 8 writers: etcd (3 members) / SQLite" \
		"$(val etcd3_create_w8)" "$(val sqlite_create_w8)"
	compare "durable applies/s on etcd (1 member) / etcd's own puts/s, 8 threads" \
		"$(val etcd1_create_w8)" "$(val put1_w8)"
	compare "durable applies/s on etcd (3 members) / etcd's own puts/s, 8 threads" \
		"$(val etcd3_create_w8)" "$(val put3_w8)"
	;;
esac
case $PARTS in *failover*)
	for l in $FO_LEASES; do
		bench_verdict "kill -9 of the leader -> the other leads, lease $l s, median of $FO_RUNS" \
			"$(fo_runs "$l" | bench_median)" "<=" $((l * 1000)) ms
	done
	;;
esac
case $PARTS in *cluster*)
	compare "$PODS pods Running, time on etcd (${BENCH_CLUSTER_MEMBERS:-1} member(s)) / on SQLite" \
		"$(val etcd_running_s)" "$(val sqlite_running_s)"
	;;
esac
bench_end
