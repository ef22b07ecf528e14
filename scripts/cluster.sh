#!/bin/sh
# scripts/cluster.sh - a multi-node cluster on one machine, as kind and k3d
# give one to Kubernetes users: a server and N agents, each agent in a
# network namespace of its own with its own address on a shared bridge.
#
#     $ make cluster NODES=3            (sh scripts/cluster.sh up)
#     cluster: server on https://172.30.88.1:6443, /cluster mounted
#     cluster: node1 172.30.88.11 (netns cfsc-node1) ... Ready
#     $ ls /cluster/nodes
#     node1  node2  node3
#     $ make cluster-down               (sh scripts/cluster.sh down)
#     $ sh scripts/cluster.sh start-agent 2   (node2's agent again, after a kill)
#     $ sh scripts/cluster.sh restart-server  (the agents run on)
#
# What `up` makes (all of it named with $CLUSTER_PREFIX, default "cfsc"):
#
#   bridge   cfsc0 in the root network namespace, $CLUSTER_NET.1/24
#            (default 172.30.88.1/24, a private range; the script touches
#            no other address or route of the machine)
#   server   `clusterfs server --no-agent`, listening on the bridge
#            address (port $CLUSTER_PORT, 6443), data dir
#            $CLUSTER_DIR/server, mounted on $MOUNT (/cluster)
#   node I   network namespace cfsc-nodeI: a veth cfsc-vI on the bridge
#            (eth0 inside, $CLUSTER_NET.(10+I)/24, default route via the
#            bridge address, IP forwarding on), data dir
#            $CLUSTER_DIR/nodeI with the busybox image imported, and
#            `clusterfs agent --server https://BRIDGE:PORT --token TOKEN
#            --node-name nodeI --node-ip ADDR --data-dir DIR` run in it
#            with nsenter --net (TOKEN: the server's join token,
#            $CLUSTER_DIR/server/node-token; $CLUSTER_AGENT_ARGS added)
#
# Each process's PID is in $CLUSTER_DIR/NAME.pid and its output in
# $CLUSTER_DIR/NAME.log; the settings `up` used are in
# $CLUSTER_DIR/cluster.env, which `down` reads back.  `down` stops the
# agents then the server by PID (TERM, then KILL after 10 s), runs
# `clusterfs reset --data-dir` for each node inside its namespace (its
# containers, pod bridge, nftables table) and for the server, unmounts
# $MOUNT if still mounted, ends whatever still runs in a node's namespace,
# deletes the veths, the namespaces (their routes go with them) and the
# bridge, and removes $CLUSTER_DIR.  Nothing else of
# the machine is touched.  A failed `up` runs `down`.
#
# Settings (environment): NODES (3), CLUSTERFS (bin/clusterfs), MOUNT
# (/cluster), CLUSTER_DIR (/var/lib/clusterfs-cluster), CLUSTER_PREFIX
# (cfsc: at most 6 characters), CLUSTER_NET (172.30.88: the first three
# octets of a /24), CLUSTER_PORT (6443), CFS_BUSYBOX_TAR (the image to
# import into each node; build/images/busybox.tar when there), and
# CLUSTER_SERVER_ARGS (more options for the server, e.g.
# "--node-grace 5"), CLUSTER_JOIN_WAIT (seconds to wait for each node to
# show in $MOUNT/nodes, 60).  Needs root, iproute2 and FUSE.

set -u

usage() {
	echo "usage: sh scripts/cluster.sh up|down|status|start-agent I|restart-server" >&2
	exit 2
}

die() {
	echo "cluster: $*" >&2
	exit 1
}

# ---- settings ----

settings() {
	CLUSTER_DIR=${CLUSTER_DIR:-/var/lib/clusterfs-cluster}
	if [ -f "$CLUSTER_DIR/cluster.env" ]; then
		# shellcheck disable=SC1091
		. "$CLUSTER_DIR/cluster.env"
	fi
	NODES=${NODES:-3}
	CLUSTERFS=${CLUSTERFS:-bin/clusterfs}
	MOUNT=${MOUNT:-/cluster}
	CLUSTER_PREFIX=${CLUSTER_PREFIX:-cfsc}
	CLUSTER_NET=${CLUSTER_NET:-172.30.88}
	CLUSTER_PORT=${CLUSTER_PORT:-6443}
	CLUSTER_SERVER_ARGS=${CLUSTER_SERVER_ARGS:-}
	CLUSTER_AGENT_ARGS=${CLUSTER_AGENT_ARGS:-}
	CLUSTER_JOIN_WAIT=${CLUSTER_JOIN_WAIT:-60}
	case "$CLUSTERFS" in
	/*) ;;
	*) CLUSTERFS=$(pwd)/$CLUSTERFS ;;
	esac
	BR=${CLUSTER_PREFIX}0
	SERVER_IP=$CLUSTER_NET.1
	SERVER_URL=https://$SERVER_IP:$CLUSTER_PORT
}

save_settings() {
	cat >"$CLUSTER_DIR/cluster.env" <<EOF
NODES='$NODES'
CLUSTERFS='$CLUSTERFS'
MOUNT='$MOUNT'
CLUSTER_PREFIX='$CLUSTER_PREFIX'
CLUSTER_NET='$CLUSTER_NET'
CLUSTER_PORT='$CLUSTER_PORT'
CLUSTER_SERVER_ARGS='$CLUSTER_SERVER_ARGS'
CLUSTER_AGENT_ARGS='$CLUSTER_AGENT_ARGS'
EOF
}

ns_of() { echo "$CLUSTER_PREFIX-node$1"; }

# in_ns NS CMD...: CMD in the network namespace NS only.  Not `ip netns
# exec`, which also gives CMD a mount namespace of its own with /sys
# remounted, where runc finds no cgroup mount.
in_ns() {
	_netns=$1
	shift
	nsenter --net="/run/netns/$_netns" "$@"
}
ip_of() { echo "$CLUSTER_NET.$((10 + $1))"; }

check_settings() {
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, FUSE mounts, runc)"
	case "$NODES" in
	'' | *[!0-9]*) die "NODES=$NODES: a number from 1 to 99" ;;
	esac
	[ "$NODES" -ge 1 ] && [ "$NODES" -le 99 ] || die "NODES=$NODES: a number from 1 to 99"
	[ ${#CLUSTER_PREFIX} -le 6 ] || die "CLUSTER_PREFIX=$CLUSTER_PREFIX: at most 6 characters"
	echo "$CLUSTER_NET" | grep -Eq '^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$' ||
		die "CLUSTER_NET=$CLUSTER_NET: the first three octets of a /24 (172.30.88)"
	command -v ip >/dev/null || die "ip (iproute2) is missing"
	[ -x "$CLUSTERFS" ] || die "$CLUSTERFS: no such executable (make, or set CLUSTERFS)"
	if ! "$CLUSTERFS" agent --help >/dev/null 2>&1; then
		die "$CLUSTERFS has no 'agent' command yet (the node agent of issue 12):" \
			"a multi-node cluster cannot start without it"
	fi
}

# ---- up ----

# wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds.
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# start NAME CMD...: CMD in the background, its PID in NAME.pid.
start() {
	name=$1
	shift
	nohup "$@" >>"$CLUSTER_DIR/$name.log" 2>&1 &
	echo $! >"$CLUSTER_DIR/$name.pid"
}

up_network() {
	ip link add "$BR" type bridge || return 1
	ip addr add "$SERVER_IP/24" dev "$BR" && ip link set "$BR" up || return 1
	i=1
	while [ "$i" -le "$NODES" ]; do
		ns=$(ns_of "$i")
		ip netns add "$ns" || return 1
		ip link add "${CLUSTER_PREFIX}-v$i" type veth peer name eth0 netns "$ns" &&
			ip link set "${CLUSTER_PREFIX}-v$i" master "$BR" up &&
			ip -n "$ns" addr add "$(ip_of "$i")/24" dev eth0 &&
			ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up &&
			ip -n "$ns" route add default via "$SERVER_IP" &&
			ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' || return 1
		i=$((i + 1))
	done
}

# server_ready: the token is there, or the server has ended (no use waiting).
server_ready() {
	test -s "$CLUSTER_DIR/server/node-token" || ! kill -0 "$(cat "$CLUSTER_DIR/server.pid")" 2>/dev/null
}

up_server() {
	mkdir -p "$CLUSTER_DIR/server" "$MOUNT" || return 1
	# shellcheck disable=SC2086
	start server "$CLUSTERFS" server --no-agent --listen "$SERVER_IP:$CLUSTER_PORT" \
		--tls-san "$SERVER_IP" --mount "$MOUNT" --data-dir "$CLUSTER_DIR/server" \
		$CLUSTER_SERVER_ARGS
	if ! wait_for 30 server_ready || [ ! -s "$CLUSTER_DIR/server/node-token" ]; then
		echo "cluster: the server wrote no $CLUSTER_DIR/server/node-token" >&2
		tail -n 20 "$CLUSTER_DIR/server.log" >&2
		return 1
	fi
	if ! wait_for 30 test -d "$MOUNT/nodes"; then
		echo "cluster: $MOUNT was not mounted; see $CLUSTER_DIR/server.log" >&2
		return 1
	fi
	echo "cluster: server on $SERVER_URL, $MOUNT mounted"
}

# node_ready I: node I's Ready condition is True.
node_ready() {
	awk '/type: Ready/ { r = 1; next } r && /status:/ { print $2; exit }' \
		"$MOUNT/nodes/node$1/status" 2>/dev/null | grep -q True
}

# start_agent I: node I's agent, in its namespace (also for `restart-agent I`).
start_agent() {
	# shellcheck disable=SC2086
	start "node$1" nsenter --net="/run/netns/$(ns_of "$1")" "$CLUSTERFS" agent \
		--server "$SERVER_URL" --token "$(cat "$CLUSTER_DIR/server/node-token")" \
		--node-name "node$1" --node-ip "$(ip_of "$1")" --data-dir "$CLUSTER_DIR/node$1" \
		$CLUSTER_AGENT_ARGS
}

up_agents() {
	tar=${CFS_BUSYBOX_TAR:-build/images/busybox.tar}
	i=1
	while [ "$i" -le "$NODES" ]; do
		dir=$CLUSTER_DIR/node$i
		mkdir -p "$dir" || return 1
		if [ -f "$tar" ]; then
			"$CLUSTERFS" image import --data-dir "$dir" "$tar" busybox:latest \
				>"$CLUSTER_DIR/import.log" 2>&1 || {
				cat "$CLUSTER_DIR/import.log" >&2
				return 1
			}
		fi
		start_agent "$i"
		i=$((i + 1))
	done
	i=1
	while [ "$i" -le "$NODES" ]; do
		if wait_for "$CLUSTER_JOIN_WAIT" node_ready "$i"; then
			echo "cluster: node$i $(ip_of "$i") (netns $(ns_of "$i")) joined: Ready"
		else
			echo "cluster: node$i has not joined in $CLUSTER_JOIN_WAIT s;" \
				"see $CLUSTER_DIR/node$i.log" >&2
		fi
		i=$((i + 1))
	done
}

cmd_up() {
	settings
	check_settings
	[ -e "$CLUSTER_DIR/cluster.env" ] && die "a cluster is up in $CLUSTER_DIR: make cluster-down first"
	ip link show "$BR" >/dev/null 2>&1 && die "bridge $BR exists already: make cluster-down first"
	mkdir -p "$CLUSTER_DIR" || die "mkdir $CLUSTER_DIR"
	save_settings
	if ! up_network || ! up_server || ! up_agents; then
		echo "cluster: up failed; taking down what was made" >&2
		cmd_down
		exit 1
	fi
	echo "cluster: $NODES nodes; logs and PIDs in $CLUSTER_DIR; make cluster-down removes it all"
}

# ---- down ----

# stop NAME: ends the process of NAME.pid (if it still is ours).
stop() {
	f=$CLUSTER_DIR/$1.pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$CLUSTER_DIR/"; then
		kill -TERM "$pid" 2>/dev/null
		wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
}

cmd_down() {
	settings
	i=1
	while [ "$i" -le "$NODES" ]; do
		stop "node$i"
		i=$((i + 1))
	done
	stop server
	i=1
	while [ "$i" -le "$NODES" ]; do
		ns=$(ns_of "$i")
		if [ -d "$CLUSTER_DIR/node$i" ] && ip netns list | grep -q "^$ns\b"; then
			in_ns "$ns" "$CLUSTERFS" reset --data-dir "$CLUSTER_DIR/node$i" >/dev/null
		fi
		# whatever still runs in the namespace is ours: ended by PID
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip link del "${CLUSTER_PREFIX}-v$i" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		i=$((i + 1))
	done
	[ -d "$CLUSTER_DIR/server" ] && "$CLUSTERFS" reset --data-dir "$CLUSTER_DIR/server" >/dev/null
	if awk -v m="$MOUNT" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
		fusermount3 -u "$MOUNT" 2>/dev/null || umount -l "$MOUNT"
	fi
	ip link del "$BR" 2>/dev/null
	if [ -f "$CLUSTER_DIR/cluster.env" ]; then
		rm -rf --one-file-system "$CLUSTER_DIR"
	fi
	echo "cluster: down"
}

cmd_status() {
	settings
	[ -f "$CLUSTER_DIR/cluster.env" ] || die "no cluster in $CLUSTER_DIR"
	for name in server $(i=1; while [ "$i" -le "$NODES" ]; do echo "node$i"; i=$((i + 1)); done); do
		pid=$(cat "$CLUSTER_DIR/$name.pid" 2>/dev/null)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			echo "$name: running (pid $pid)"
		else
			echo "$name: not running (see $CLUSTER_DIR/$name.log)"
		fi
	done
}

# start-agent I: starts node I's agent again (after it was stopped or killed).
cmd_start_agent() {
	settings
	[ -f "$CLUSTER_DIR/cluster.env" ] || die "no cluster in $CLUSTER_DIR"
	case "${1:-}" in
	'' | *[!0-9]*) die "usage: sh scripts/cluster.sh start-agent I" ;;
	esac
	[ "$1" -ge 1 ] && [ "$1" -le "$NODES" ] || die "no node$1 (NODES=$NODES)"
	pid=$(cat "$CLUSTER_DIR/node$1.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && die "node$1's agent runs already (pid $pid)"
	start_agent "$1"
	echo "cluster: node$1's agent started (pid $(cat "$CLUSTER_DIR/node$1.pid"))"
}

# restart-server: stops the server and starts it again (the agents stay).
cmd_restart_server() {
	settings
	[ -f "$CLUSTER_DIR/cluster.env" ] || die "no cluster in $CLUSTER_DIR"
	stop server
	up_server || die "the server did not start again; see $CLUSTER_DIR/server.log"
}

case "${1:-}" in
up) cmd_up ;;
restart-server) cmd_restart_server ;;
start-agent) cmd_start_agent "${2:-}" ;;
down) cmd_down ;;
status) cmd_status ;;
*) usage ;;
esac
