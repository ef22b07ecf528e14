#!/bin/bash
# t_net.sh - pod network, Services and DNS with real containers: a
# 3-replica busybox httpd behind a Service, reached from the node and from
# another pod by ClusterIP and by name; DNS names of every form; service
# environment variables; endpoints following scaling and readiness;
# NodePort; a headless Service; a Service with no endpoints; a Service of
# another namespace (web.NS); enableServiceLinks: false; and nothing
# left after `clusterfs reset`.  Traffic goes only to the addresses this
# test's server made (its bridge, its pods, its service range).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
D=$MNT/deployments
S=$MNT/services
POD_CIDR=10.87.0.0/16
SVC_CIDR=10.97.0.0/16

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-net --pod-cidr "$POD_CIDR" --service-cidr "$SVC_CIDR" ||
	cfs_abort "server did not start"

expect_in() { check_contains "$1" "$3" "$2"; }
is_phase() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
nlines() { grep -c . "$1" 2>/dev/null || true; }
# http HOST PORT: the body of GET / from the node (busybox nc; its wget
# cannot resolve names in a static build)
http() { printf 'GET / HTTP/1.0\r\n\r\n' | timeout 3 busybox nc "$1" "$2" 2>/dev/null | tail -n 1; }
# in_pod POD CMD: runs CMD with sh in the pod's first container
in_pod() {
	local uid id
	uid=$(yvals "$P/$1.yaml" metadata.uid)
	id=$(runc --root "$DATA/runc" list | awk -v u="${uid:0:12}" 'index($1, u) == 1 && $3 == "running" { print $1; exit }')
	runc --root "$DATA/runc" exec "$id" sh -c "$2"
}
# spread OUTPUT: how many different pods answered
spread() { printf '%s\n' "$1" | grep '^web-' | sort -u | grep -c .; }

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        command: ["sh", "-c", "mkdir -p /www; hostname > /www/index.html; touch /www/ready; exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: web-np
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080, nodePort: 30555}
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: nobody
spec:
  selector: {app: nobody}
  ports:
  - {port: 80}
EOF
check "a Deployment and its Services are applied" sh -c "cat '$WORK/web.yaml' > '$MNT/apply'"
check "3 endpoints, all ready" wait_until 20 sh -c "[ \$(grep -c . '$S/web/endpoints') = 3 ]"
CIP=$(cat "$S/web/clusterip")
expect_in "the ClusterIP is in the service range" "10.97." "$CIP"

# --- the pod network -----------------------------------------------------
first=$(ls "$P" | grep '^web-.*\.yaml$' | head -1)
first=${first%.yaml}
ip1=$(cat "$P/$first/ip")
expect_in "pods/NAME/ip is in the pod CIDR" "10.87." "$ip1"
check_eq "status.podIP is the same" "$ip1" "$(yvals "$P/$first.yaml" status.podIP)"
check_eq "Node spec.podCIDR" "$POD_CIDR" "$(yvals "$MNT/nodes/t-net.yaml" spec.podCIDR)"
check_eq "the node reaches a pod" "$first" "$(http "$ip1" 8080)"
ips=$(cat "$S/web/endpoints" | cut -d: -f1 | sort -u | wc -l)
check_eq "every pod has its own IP" "3" "$ips"

# --- from the node ----------------------------------------------------------
out=""
for i in $(seq 30); do out="$out
$(http "$CIP" 80)"; done
n=$(spread "$out")
check "from the node, ClusterIP:80 is spread over >= 2 pods ($n)" test "$n" -ge 2
out=""
for i in $(seq 20); do out="$out
$(http 10.87.0.1 30555)"; done
check "NodePort 30555 answers on the node's address" test "$(spread "$out")" -ge 1
expect_in "two Services on one port: both answer" "web-" "$(http "$(cat "$S/web-np/clusterip")" 80)"

# --- from another pod ---------------------------------------------------------
cat >"$WORK/client.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "env | grep '^WEB_' | sort; cat /etc/resolv.conf; exec sleep 100000"]
EOF
cp "$WORK/client.yaml" "$P/client.yaml"
check "a client pod runs" wait_until 10 is_phase client Running
check "its log has the environment and resolv.conf" wait_until 20 grep -q '^options ndots' "$P/client/logs"
logs=$(cat "$P/client/logs")
expect_in "service env: WEB_SERVICE_HOST" "WEB_SERVICE_HOST=$CIP" "$logs"
expect_in "service env: WEB_SERVICE_PORT" "WEB_SERVICE_PORT=80" "$logs"
expect_in "service env: WEB_PORT_80_TCP" "WEB_PORT_80_TCP=tcp://$CIP:80" "$logs"
expect_in "resolv.conf: the cluster DNS on the gateway" "nameserver 10.87.0.1" "$logs"
expect_in "resolv.conf: the search list" "search default.svc.cluster.local svc.cluster.local cluster.local" "$logs"
expect_in "resolv.conf: ndots:5" "options ndots:5" "$logs"
expect_in "/etc/hosts has the pod's own name" "client" "$(in_pod client 'cat /etc/hosts')"
cat >"$WORK/nolinks.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nolinks
spec:
  enableServiceLinks: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo web-vars=$(env | grep -c '^WEB_'); exec sleep 100000"]
EOF
cp "$WORK/nolinks.yaml" "$P/nolinks.yaml"
check "a pod with enableServiceLinks: false runs" wait_until 20 grep -q '^web-vars=' "$P/nolinks/logs"
check_eq "it has no WEB_* variables (the client above has them)" "web-vars=0" "$(grep '^web-vars=' "$P/nolinks/logs")"
expect_in "DNS: nslookup web gives the ClusterIP" "$CIP" "$(in_pod client "nslookup web" 2>&1)"
# every form through the C library's resolver (search list, ndots), as
# programs resolve names: busybox nc
for name in web web.default web.default.svc web.default.svc.cluster.local; do
	out=$(in_pod client "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $name 80 | tail -n 1")
	expect_in "DNS: http://$name/ answers" "web-" "$out"
done
# A Service of another namespace: "web" in "other" (no selector; its
# Endpoints, written by hand, name the first web pod) and "api" there only.
cat >"$WORK/other.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: other}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: other}
subsets: [{addresses: [{ip: $ip1}], ports: [{port: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: other}
spec:
  ports: [{port: 80}]
EOF
check "namespace other with Services web and api" cfs_write "$MNT/apply" "$WORK/other.yaml"
OCIP=$(cat "$MNT/namespaces/other/services/web/clusterip")
check "other's web has a ClusterIP of its own" test -n "$OCIP" -a "$OCIP" != "$CIP"
# (busybox nslookup does not use the search list: the full name here)
out=$(in_pod client "nslookup web.other.svc.cluster.local" 2>&1)
expect_in "DNS: web.other.svc.cluster.local is other's web" "$OCIP" "$out"
# through the C library's resolver and the search list: other's web
# answers from its one endpoint every time (default's web is spread over 3)
out=$(in_pod client 'for i in 1 2 3 4 5; do printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 web.other 80 | tail -n 1; done')
check_eq "DNS: http://web.other/ is other's web (its Endpoints: $first, 5 of 5)" "$first $first $first $first $first" "$(echo $out)"
out=$(in_pod client "nc -w 2 api.other 80 </dev/null" 2>&1)
expect_in "DNS: api.other resolves (to a Service without endpoints: refused)" "Connection refused" "$out"
out=$(in_pod client "nc -w 2 api 80 </dev/null" 2>&1)
expect_in "DNS: another namespace's short name (api) does not resolve" "bad address 'api'" "$out"
hl=$(in_pod client "nslookup web-headless" 2>&1)
n=$(printf '%s\n' "$hl" | grep -c '^Address: 10\.87\.')
check_eq "DNS: a headless Service resolves to its 3 pod IPs" "3" "$n"
out=$(in_pod client 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do printf "GET / HTTP/1.0\r\n\r\n" | nc web 80 | tail -n 1; done')
n=$(spread "$out")
check "from a pod, http://web/ is spread over >= 2 pods ($n)" test "$n" -ge 2
out=$(in_pod client "printf 'GET / HTTP/1.0\r\n\r\n' | nc $ip1 8080 | tail -n 1")
check_eq "a pod reaches another pod by its IP" "$first" "$out"
out=$(in_pod client "nc -w 5 $(cat "$S/nobody/clusterip") 80 </dev/null" 2>&1)
expect_in "a Service with no endpoints refuses (not a timeout)" "Connection refused" "$out"

# --- endpoints follow readiness and scaling ------------------------------------
check "a pod failing its readiness probe" in_pod "$first" "rm /www/ready"
check "leaves the endpoints" wait_until 10 sh -c "! grep -q '^$ip1:' '$S/web/endpoints'"
out=""
for i in $(seq 30); do out="$out
$(http "$CIP" 80)"; done
check_eq "every request is answered" 30 "$(printf '%s\n' "$out" | grep -c '^web-')"
check_not "and none by the unready pod" sh -c "printf '%s\n' \"$out\" | grep -qx '$first'"
check "it comes back when ready again" in_pod "$first" "touch /www/ready"
check "into the endpoints" wait_until 10 sh -c "grep -q '^$ip1:' '$S/web/endpoints'"
check "scale to 1" sh -c "echo 1 > '$D/web/replicas'"
check "the endpoints follow (1 line)" wait_until 20 sh -c "[ \$(grep -c . '$S/web/endpoints') = 1 ]"
last=$(cut -d: -f1 "$S/web/endpoints")
out=""
for i in $(seq 10); do out="$out
$(http "$CIP" 80)"; done
check_eq "all traffic goes to the one left" "1" "$(spread "$out")"

# --- a server restart keeps pod IPs and rules -------------------------------------
ip_before=$(cat "$P/client/ip")
check_stop "SIGTERM stops the server"
check_eq "the Service rules stay while it is down" "1" "$(spread "$(http "$CIP" 80)")"
cfs_start --node-name t-net --pod-cidr "$POD_CIDR" --service-cidr "$SVC_CIDR" || cfs_abort "restart failed"
check "the pod keeps its IP after the restart" wait_until 10 sh -c "[ \"\$(cat '$P/client/ip')\" = '$ip_before' ]"
check_eq "the Service still answers" "1" "$(spread "$(http "$CIP" 80)")"

# --- reset leaves nothing -----------------------------------------------------------
bridge=$(ip -o -4 addr show | awk '$4 == "10.87.0.1/16" { print $2 }')
check "the bridge exists" test -n "$bridge"
table=$(nft list tables | awk '$2 == "ip" && $3 ~ /^clusterfs_/ { print $3 }' | while read -r t; do
	nft list table ip "$t" | grep -q "10.97.0.0/16" && echo "$t"; done | head -1)
check "the nftables table exists" test -n "$table"
dnspid=$(cat "$DATA/dns/dnsmasq.pid" 2>/dev/null)
check_stop "stop"
check "clusterfs reset" "$CLUSTERFS" reset --data-dir "$DATA"
check_not "no bridge" ip link show "$bridge"
check_not "no nftables table" nft list table ip "$table"
check_not "no dnsmasq" sh -c "[ -n '$dnspid' ] && kill -0 '$dnspid' 2>/dev/null"
check_quiet "no container (runc list succeeds and lists none)" runc --root "$DATA/runc" list -q
check_not "no IP allocations" test -e "$DATA/cni"
cfs_done
