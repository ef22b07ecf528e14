# lib_etcd.sh - an etcd cluster of the test's own (Debian's etcd-server,
# 3.4) for the tests that run clusterfs on etcd.  Sourced after lib.sh
# (or, in a bench script, on its own: then call etcd_down in your trap).
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/lib_etcd.sh"
#     etcd_up 3 || cfs_abort "etcd did not start"
#     cfs_start --etcd "$ETCD_ENDPOINTS"
#     etcd_kill_member 2          # kill -9 of member 2 (1-based)
#     etcd_start_member 2         # again, on its data
#     etcd_ctl get --prefix /clusterfs --keys-only
#
# Members listen on free ports of 127.0.0.1 (a client and a peer port
# each), keep their data in $ETCD_BASE/mI ($T_BASE/etcd by default) and
# log to $ETCD_BASE/mI.log.  Fast heartbeats (50 ms, election after
# 500 ms), and a watch progress notification every second (etcd's default
# is 10 minutes).  ETCD_EXTRA_ARGS adds flags to every member.  Every
# member is killed by PID at cleanup (etcd_down, registered with
# cfs_on_cleanup) and recorded for run.sh's leak check.
#
# Exported: ETCD_N (the members), ETCD_ENDPOINTS ("http://127.0.0.1:P,...",
# member 1 first), ETCDCTL_API=3.

ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
ETCD_BASE=${ETCD_BASE:-${T_BASE:-/tmp}/etcd}
ETCD_N=0
ETCD_ENDPOINTS=""
ETCD_CLUSTER=""
ETCD_PIDS=()
ETCD_CPORTS=()
ETCD_PPORTS=()
export ETCDCTL_API=3
export ETCD_N ETCD_ENDPOINTS

# _etcd_port: a free port of 127.0.0.1 that no member of this cluster has.
_etcd_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		case " ${ETCD_CPORTS[*]} ${ETCD_PPORTS[*]} " in *" $p "*) continue ;; esac
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# etcd_endpoint I: member I's client URL.
etcd_endpoint() {
	echo "http://127.0.0.1:${ETCD_CPORTS[$1]}"
}

# etcd_healthy I: member I answers and its cluster has a leader.
etcd_healthy() {
	curl -s -m 2 "$(etcd_endpoint "$1")/health" 2>/dev/null | grep -q '"health":"true"'
}

# etcd_start_member I: starts member I (again, on its data if it has some)
# and returns at once; etcd_wait_member waits for it.
etcd_start_member() {
	local i=$1
	if [ -n "${ETCD_PIDS[$i]:-}" ] && kill -0 "${ETCD_PIDS[$i]}" 2>/dev/null; then
		echo "# etcd_start_member $i: member $i is running (${ETCD_PIDS[$i]})"
		return 1
	fi
	local c="http://127.0.0.1:${ETCD_CPORTS[$i]}" p="http://127.0.0.1:${ETCD_PPORTS[$i]}"
	# (etcd reads ETCD_* variables as flags: not ours)
	# shellcheck disable=SC2086
	env -u ETCD_N -u ETCD_ENDPOINTS "$ETCD_BIN" --name "m$i" --data-dir "$ETCD_BASE/m$i" \
		--listen-client-urls "$c" --advertise-client-urls "$c" \
		--listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
		--initial-cluster "$ETCD_CLUSTER" --initial-cluster-token "cfs-$$" \
		--initial-cluster-state new \
		--heartbeat-interval 50 --election-timeout 500 \
		--experimental-watch-progress-notify-interval 1s \
		--log-level warn ${ETCD_EXTRA_ARGS:-} >>"$ETCD_BASE/m$i.log" 2>&1 &
	ETCD_PIDS[$i]=$!
	if command -v _cfs_record_pid >/dev/null 2>&1; then
		_cfs_record_pid "${ETCD_PIDS[$i]}"
	fi
}

# etcd_wait_member I [SECONDS]: until member I is healthy (default 20 s).
etcd_wait_member() {
	local n=$((${2:-20} * 10))
	while [ $n -gt 0 ]; do
		etcd_healthy "$1" && return 0
		if ! kill -0 "${ETCD_PIDS[$1]:-0}" 2>/dev/null; then
			echo "# etcd member $1 exited; its log:"
			tail -n 15 "$ETCD_BASE/m$1.log" | sed 's/^/#   /'
			return 1
		fi
		sleep 0.1
		n=$((n - 1))
	done
	echo "# etcd member $1 not healthy after ${2:-20} s; its log:"
	tail -n 15 "$ETCD_BASE/m$1.log" | sed 's/^/#   /'
	return 1
}

# etcd_up N: starts an N-member cluster (1 or 3, or any N) and waits until
# every member is healthy; sets ETCD_N and ETCD_ENDPOINTS.
etcd_up() {
	local n=$1 i
	if [ "$ETCD_N" -gt 0 ]; then
		echo "# etcd_up: a cluster is up already"
		return 1
	fi
	if [ ! -x "$ETCD_BIN" ]; then
		echo "# etcd_up: $ETCD_BIN is missing (Debian's etcd-server: sh scripts/deps.sh)"
		return 1
	fi
	mkdir -p "$ETCD_BASE"
	ETCD_CLUSTER=""
	ETCD_ENDPOINTS=""
	for i in $(seq 1 "$n"); do
		ETCD_CPORTS[$i]=$(_etcd_port)
		ETCD_PPORTS[$i]=$(_etcd_port)
		ETCD_CLUSTER="${ETCD_CLUSTER:+$ETCD_CLUSTER,}m$i=http://127.0.0.1:${ETCD_PPORTS[$i]}"
		ETCD_ENDPOINTS="${ETCD_ENDPOINTS:+$ETCD_ENDPOINTS,}$(etcd_endpoint "$i")"
	done
	ETCD_N=$n
	export ETCD_N ETCD_ENDPOINTS
	for i in $(seq 1 "$n"); do
		etcd_start_member "$i"
	done
	for i in $(seq 1 "$n"); do
		etcd_wait_member "$i" || return 1
	done
}

# etcd_kill_member I: kill -9 of member I (by PID), reaped.
etcd_kill_member() {
	local pid=${ETCD_PIDS[$1]:-}
	[ -n "$pid" ] || return 1
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ETCD_PIDS[$1]=""
	return 0
}

# etcd_leader: the number of the member that leads now (empty if none).
etcd_leader() {
	local i st
	for i in $(seq 1 "$ETCD_N"); do
		[ -n "${ETCD_PIDS[$i]:-}" ] || continue
		st=$(etcdctl --endpoints "$(etcd_endpoint "$i")" --command-timeout 2s \
			endpoint status -w json 2>/dev/null) || continue
		if printf '%s' "$st" | "${PY:-python3}" -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
sys.exit(0 if s["header"]["member_id"] == s["leader"] else 1)'; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

# etcd_ctl ARGS...: etcdctl on the cluster's endpoints.
etcd_ctl() {
	etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout 5s "$@"
}

# etcd_down: kills every member (by PID) and removes their data.
etcd_down() {
	local i
	for i in $(seq 1 "$ETCD_N"); do
		etcd_kill_member "$i"
	done
	ETCD_N=0
	ETCD_PIDS=()
	rm -rf "$ETCD_BASE"
}

if command -v cfs_on_cleanup >/dev/null 2>&1; then
	cfs_on_cleanup etcd_down
fi
