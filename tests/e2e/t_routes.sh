#!/bin/bash
# t_routes.sh - the pod network across nodes (runtime/net/routes.h), with
# no server: three "nodes" (network namespaces with a veth on a bridge
# this test makes, 10.210.0.1N/24), each with a "pod" (a namespace behind
# the node's own bridge, 10.211.N.5 in the node's pod CIDR 10.211.N.0/24)
# that runs busybox httpd with a CGI printing the client's address.
# build/tests/routes_tool syncs the routes inside each node namespace, and
# opens the proxy's nftables table there for the cluster's pod range
# 10.211.0.0/16 (its masquerade of what leaves the range).  Checked, in
# host-gw then vxlan mode: pod to pod across nodes, with the pod's own
# source address; pod to a node address, masqueraded; a peer removed
# loses its routes (and neighbour and FDB entries); a route deleted behind
# our back comes back; a sync that changes nothing runs no command;
# switching back to host-gw removes the VXLAN device; reset removes all.
# Traffic stays inside the namespaces and the bridge this test made.
. "$(dirname "$0")/lib.sh"

TOOL=${CFS_ROUTES_TOOL:-$CFS_SRC/build/tests/routes_tool}
[ -x "$TOOL" ] || cfs_abort "$TOOL is missing (make build/tests/routes_tool)"
command -v busybox >/dev/null || cfs_abort "busybox is missing (Debian's busybox-static)"

P=rtx$$ # prefix of every name made here
BR=${P}br
NODES="1 2 3"
CLUSTER=10.211.0.0/16
TABLE=${P}t
node_ip() { echo "10.210.0.1$1"; }
pod_ip() { echo "10.211.$1.5"; }
cidr() { echo "10.211.$1.0/24"; }
ns() { echo "$P-n$1"; }
podns() { echo "$P-p$1"; }

rt_cleanup() {
	local i
	for i in $NODES; do
		ip netns exec "$(ns "$i")" "$TOOL" --reset --masq "$TABLE,$CLUSTER" >/dev/null 2>&1
	done
	for p in $CFS_BG_PIDS; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	CFS_BG_PIDS=""
	for i in $NODES; do
		ip netns del "$(podns "$i")" 2>/dev/null
		ip netns del "$(ns "$i")" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
}
rt_exit() {
	local rc=$?
	rt_cleanup
	(exit $rc)
	cfs_cleanup
}
trap rt_exit EXIT

# The web root: /cgi-bin/ip prints the client's address.
mkdir -p "$WORK/www/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
	>"$WORK/www/cgi-bin/ip"
chmod 755 "$WORK/www/cgi-bin/ip"

# setup_node I: the node namespace on the bridge, its pod behind it, and
# an httpd in the pod and one on the node's address.
setup_node() {
	local i=$1 n p
	n=$(ns "$i")
	p=$(podns "$i")
	ip netns add "$n" && ip netns add "$p" || return 1
	ip link add "${P}v$i" type veth peer name eth0 netns "$n" &&
		ip link set "${P}v$i" master "$BR" up &&
		ip -n "$n" addr add "$(node_ip "$i")/24" dev eth0 &&
		ip -n "$n" link set eth0 up && ip -n "$n" link set lo up || return 1
	ip -n "$n" link add pbr type bridge &&
		ip -n "$n" addr add "10.211.$i.1/24" dev pbr && ip -n "$n" link set pbr up &&
		ip -n "$n" link add vpod type veth peer name eth0 netns "$p" &&
		ip -n "$n" link set vpod master pbr up || return 1
	ip -n "$p" addr add "$(pod_ip "$i")/24" dev eth0 && ip -n "$p" link set eth0 up &&
		ip -n "$p" link set lo up && ip -n "$p" route add default via "10.211.$i.1" || return 1
	ip netns exec "$p" busybox httpd -f -p "$(pod_ip "$i"):8080" -h "$WORK/www" &
	cfs_bg $!
	ip netns exec "$n" busybox httpd -f -p "$(node_ip "$i"):8080" -h "$WORK/www" &
	cfs_bg $!
}

ip link add "$BR" type bridge && ip link set "$BR" up || cfs_abort "bridge $BR"
for i in $NODES; do
	setup_node "$i" || cfs_abort "node $i could not be set up"
done
sleep 0.3 # the httpds

# whoami FROM_NS ADDR: the client address ADDR's httpd saw ("" when none)
whoami() {
	printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' |
		timeout 3 ip netns exec "$1" busybox nc "$2" 8080 2>/dev/null | tail -n 1 | tr -d '\r'
	# (busybox nc: the static busybox's wget crashes here)
}
# peers_of I [J...]: the routes_tool peer arguments of nodes J...
peers() {
	local j
	for j in "$@"; do
		printf 'n%s,%s,%s ' "$j" "$(node_ip "$j")" "$(cidr "$j")"
	done
}
# sync I MODE J...: node I's routes for peers J...
sync_node() {
	local i=$1 mode=$2
	shift 2
	# shellcheck disable=SC2046
	ip netns exec "$(ns "$i")" "$TOOL" --mode "$mode" --masq "$TABLE,$CLUSTER" \
		"$(node_ip "$i")" "$(cidr "$i")" $(peers "$@")
}
sync_all() {
	local mode=$1 i j others
	for i in $NODES; do
		others=""
		for j in $NODES; do [ "$j" = "$i" ] || others="$others $j"; done
		# shellcheck disable=SC2086
		sync_node "$i" "$mode" $others >/dev/null || return 1
	done
}
routes_of() { ip -n "$(ns "$1")" route show proto 207; }
# has DESC NEEDLE HAYSTACK / lacks DESC NEEDLE HAYSTACK
has() { check_contains "$1" "$3" "$2"; }
lacks() { check_not_contains "$1" "$3" "$2"; }

# ---- before any route ----
check_eq "before: pod 1 -> its own node's address keeps its address" "$(pod_ip 1)" \
	"$(whoami "$(podns 1)" "$(node_ip 1)")"
check_eq "before: pod 1 does not reach pod 2 (no route)" "" "$(whoami "$(podns 1)" "$(pod_ip 2)")"

# ---- host-gw ----
check "host-gw: every node synced" sync_all host-gw
check_eq "host-gw: node 1 routes to both peers via their node IPs" \
	"10.211.2.0/24 via 10.210.0.12 dev eth0 
10.211.3.0/24 via 10.210.0.13 dev eth0 " "$(routes_of 1)"
check_eq "host-gw: pod 1 -> pod 2 sees pod 1's address" "$(pod_ip 1)" \
	"$(whoami "$(podns 1)" "$(pod_ip 2)")"
check_eq "host-gw: pod 3 -> pod 1 sees pod 3's address" "$(pod_ip 3)" \
	"$(whoami "$(podns 3)" "$(pod_ip 1)")"
check_eq "host-gw: pod 1 -> node 3's address is masqueraded (node 1's)" "$(node_ip 1)" \
	"$(whoami "$(podns 1)" "$(node_ip 3)")"
check_eq "host-gw: node 2 itself -> pod 3" "$(node_ip 2)" \
	"$(whoami "$(ns 2)" "$(pod_ip 3)")"
lacks "host-gw: a sync that changes nothing runs no command" "changes" \
	"$(CFS_LOG=1 sync_node 1 host-gw 2 3 2>&1)"

# a peer removed loses its route; the others stay
check "host-gw: node 1 synced without node 3" sync_node 1 host-gw 2
check_eq "host-gw: node 1 keeps only node 2's route" \
	"10.211.2.0/24 via 10.210.0.12 dev eth0 " "$(routes_of 1)"
check_eq "host-gw: pod 1 no longer reaches pod 3" "" "$(whoami "$(podns 1)" "$(pod_ip 3)")"
check_eq "host-gw: pod 1 still reaches pod 2" "$(pod_ip 1)" \
	"$(whoami "$(podns 1)" "$(pod_ip 2)")"
# removed behind our back: back at the next sync
ip -n "$(ns 1)" route del 10.211.2.0/24
check "host-gw: node 1 synced again with both" sync_node 1 host-gw 2 3
check_eq "host-gw: the deleted route is back" \
	"10.211.2.0/24 via 10.210.0.12 dev eth0 
10.211.3.0/24 via 10.210.0.13 dev eth0 " "$(routes_of 1)"
# a bad peer is refused by name, the good ones are synced
out=$(ip netns exec "$(ns 1)" "$TOOL" "$(node_ip 1)" "$(cidr 1)" nbad,10.210.0.99,10.300.0.0/24 \
	"n2,$(node_ip 2),$(cidr 2)" 2>&1)
has "host-gw: a bad peer is named" "nbad" "$out"
check_eq "host-gw: ... and the good one kept" "10.211.2.0/24 via 10.210.0.12 dev eth0 " \
	"$(routes_of 1)"
# a gateway not on a shared link: host-gw cannot do it, and says so
out=$(ip netns exec "$(ns 1)" "$TOOL" "$(node_ip 1)" "$(cidr 1)" n9,192.0.2.9,10.211.9.0/24 2>&1)
has "host-gw: a peer off the link is refused with the kernel's reason" \
	"n9" "$out"

# ---- vxlan ----
check "vxlan: every node synced" sync_all vxlan
check_eq "vxlan: node 1 routes onlink through the VXLAN device" \
	"10.211.2.0/24 via 10.211.2.0 dev cfs-vxlan onlink 
10.211.3.0/24 via 10.211.3.0 dev cfs-vxlan onlink " "$(routes_of 1)"
has "vxlan: node 1's FDB has node 2's VTEP" \
	"0a:cf:0a:d2:00:0c dst 10.210.0.12 self permanent" \
	"$(ip netns exec "$(ns 1)" bridge fdb show dev cfs-vxlan)"
has "vxlan: node 1's neighbours have node 2's" \
	"10.211.2.0 lladdr 0a:cf:0a:d2:00:0c PERMANENT" \
	"$(ip -n "$(ns 1)" neigh show dev cfs-vxlan)"
has "vxlan: the device's MTU is the link's less 50" "mtu 1450" \
	"$(ip -n "$(ns 1)" link show cfs-vxlan)"
check_eq "vxlan: pod 1 -> pod 2 sees pod 1's address" "$(pod_ip 1)" \
	"$(whoami "$(podns 1)" "$(pod_ip 2)")"
check_eq "vxlan: pod 2 -> pod 3 sees pod 2's address" "$(pod_ip 2)" \
	"$(whoami "$(podns 2)" "$(pod_ip 3)")"
check_eq "vxlan: node 1 itself -> pod 3 (from its VXLAN address)" "10.211.1.0" \
	"$(whoami "$(ns 1)" "$(pod_ip 3)")"
check_eq "vxlan: pod 1 -> node 3's address is masqueraded" "$(node_ip 1)" \
	"$(whoami "$(podns 1)" "$(node_ip 3)")"
lacks "vxlan: a sync that changes nothing runs no command" "changes" \
	"$(CFS_LOG=1 sync_node 1 vxlan 2 3 2>&1)"
# the traffic really is encapsulated: UDP 8472 between the nodes
ip netns exec "$(ns 2)" nft add table ip ${P}c &&
	ip netns exec "$(ns 2)" nft add chain ip ${P}c in '{ type filter hook input priority 0 ; }' &&
	ip netns exec "$(ns 2)" nft add rule ip ${P}c in udp dport 8472 counter
whoami "$(podns 1)" "$(pod_ip 2)" >/dev/null
lacks "vxlan: node 2 received VXLAN packets" "packets 0 " \
	"$(ip netns exec "$(ns 2)" nft list table ip ${P}c)"
ip netns exec "$(ns 2)" nft delete table ip ${P}c

check "vxlan: node 1 synced without node 3" sync_node 1 vxlan 2
check_eq "vxlan: node 1 keeps only node 2's route" \
	"10.211.2.0/24 via 10.211.2.0 dev cfs-vxlan onlink " "$(routes_of 1)"
lacks "vxlan: node 3's FDB entry went" "10.210.0.13" \
	"$(ip netns exec "$(ns 1)" bridge fdb show dev cfs-vxlan)"
lacks "vxlan: node 3's neighbour went" "10.211.3.0" \
	"$(ip -n "$(ns 1)" neigh show dev cfs-vxlan)"
check_eq "vxlan: pod 1 no longer reaches pod 3" "" "$(whoami "$(podns 1)" "$(pod_ip 3)")"
check_eq "vxlan: pod 1 still reaches pod 2" "$(pod_ip 1)" "$(whoami "$(podns 1)" "$(pod_ip 2)")"
ip netns exec "$(ns 1)" bridge fdb del 0a:cf:0a:d2:00:0c dev cfs-vxlan dst 10.210.0.12 self
check "vxlan: node 1 synced again" sync_node 1 vxlan 2
has "vxlan: the FDB entry deleted behind our back is back" "dst 10.210.0.12" \
	"$(ip netns exec "$(ns 1)" bridge fdb show dev cfs-vxlan)"

# ---- back to host-gw, then reset ----
check "host-gw again: every node synced" sync_all host-gw
check_eq "host-gw again: the VXLAN device is gone" "" \
	"$(ip -n "$(ns 1)" link show cfs-vxlan 2>/dev/null)"
check_eq "host-gw again: pod 2 -> pod 1" "$(pod_ip 2)" "$(whoami "$(podns 2)" "$(pod_ip 1)")"
check "vxlan once more, to be reset" sync_all vxlan
for i in $NODES; do
	ip netns exec "$(ns "$i")" "$TOOL" --reset --masq "$TABLE,$CLUSTER" ||
		fail "reset of node $i"
done
left=""
for i in $NODES; do
	left="$left$(routes_of "$i")$(ip -n "$(ns "$i")" link show cfs-vxlan 2>/dev/null)"
	left="$left$(ip netns exec "$(ns "$i")" nft list tables | grep "$TABLE")"
done
check_eq "reset: no route, device or table left" "" "$left"
check_eq "reset: pod 1 no longer reaches pod 2" "" "$(whoami "$(podns 1)" "$(pod_ip 2)")"

cfs_done
