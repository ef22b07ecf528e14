#!/bin/bash
# t_svc.sh - Services and endpoints on 2 hollow nodes: a Service gets a
# ClusterIP from 10.96.0.0/16 (clusterip, clusterIPs, status); a
# Deployment of 3 behind it gives 3 ready IP:PORT lines in
# services/NAME/endpoints (named targetPort), an Endpoints object in
# endpoints/; scaling follows; a headless Service shows None; a NodePort
# Service gets a port in 30000-32767; two Services on one port both work;
# a selector that matches nothing gives an empty file; a port no container
# declares gives no endpoint.  Refused, with a line in /cluster/errors: a
# clusterIP outside the range or taken, a changed clusterIP, a nodePort out
# of range or taken, a bad Endpoints.  Deleting a Service frees its IP and
# takes its Endpoints.
. "$(dirname "$0")/lib.sh"

D=$MNT/deployments
S=$MNT/services
P=$MNT/pods

. "$(dirname "$0")/lib_ctl.sh"

cfs_start --hollow-nodes 2 || cfs_abort "server starts with --hollow-nodes 2"
wait_until 10 test -f "$MNT/nodes/hollow-2.yaml" || cfs_abort "the hollow nodes are registered"
check "endpoints/ is a kind folder" test -d "$MNT/endpoints"
check "namespaces/default/endpoints/ too" test -d "$MNT/namespaces/default/endpoints"

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - name: http
          containerPort: 8080
EOF
cat >"$WORK/websvc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: metrics
    port: 9100
    targetPort: metrics
EOF
check "cp web.yaml (3 replicas) to deployments/" cp "$WORK/web.yaml" "$D/"
check "cp websvc.yaml to services/web.yaml" cp "$WORK/websvc.yaml" "$S/web.yaml"
check_eq "ls services/web" "clusterip endpoints events status" "$(ls "$S/web" | tr '\n' ' ' | sed 's/ $//')"
WEBIP=$(cat "$S/web/clusterip")
check "services/web/clusterip is in the dynamic band of 10.96.0.0/16 ($WEBIP)" \
	sh -c "echo '$WEBIP' | grep -Eq '^10\.96\.([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-5][0-9])\.[0-9]+$'"
check_eq "web.yaml: spec.clusterIPs mirrors it" "[\"$WEBIP\"]" "$(yget "$S/web.yaml" spec.clusterIPs)"

n_ready() { [ "$(grep -c . "$S/$1/endpoints")" = "$2" ]; }
if wait_until 20 n_ready web 3; then
	ok "services/web/endpoints lists 3 ready endpoints"
else
	fail "services/web/endpoints lists 3 ready endpoints" "got: $(cat "$S/web/endpoints")" "$(state web)"
fi
eps=$(cat "$S/web/endpoints")
check_eq "each line is IP:8080 (targetPort http resolved), none for metrics (no such container port)" 3 \
	"$(printf '%s\n' "$eps" | grep -cE '^10\.100\.[0-9]+\.[0-9]+:8080$')"
check_eq "the lines are sorted" "$(printf '%s\n' "$eps" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n)" "$eps"
check_eq "the IPs are the pods' IPs" "$(pods_table | awk '{ print $7 ":8080" }' | sort)" "$(printf '%s\n' "$eps" | sort)"
check_eq "size of endpoints = bytes read" "$(cat "$S/web/endpoints" | wc -c)" "$(stat -c %s "$S/web/endpoints")"
check "endpoints/web.yaml exists" test -f "$MNT/endpoints/web.yaml"
check_eq "endpoints/web.yaml: owned by Service web, 3 addresses, port http 8080" "Service web 8080 http TCP" \
	"$(yvals "$MNT/endpoints/web.yaml" metadata.ownerReferences.0.kind metadata.ownerReferences.0.name subsets.0.ports.0.port subsets.0.ports.0.name subsets.0.ports.0.protocol)"
check_eq "endpoints/web.yaml: addresses carry targetRef Pod and nodeName" "Pod hollow" \
	"$(yvals "$MNT/endpoints/web.yaml" subsets.0.addresses.0.targetRef.kind subsets.0.addresses.0.nodeName | sed 's/-[0-9]*$//')"
check_eq "services/web/status: type, clusterIP, 3 ready, 0 not ready" "ClusterIP $WEBIP 3 0" \
	"$(yvals "$S/web/status" type clusterIP endpoints.ready endpoints.notReady)"

# Scaling: the endpoints follow.
if echo 1 >"$D/web/replicas"; then ok "echo 1 > deployments/web/replicas"; else fail "echo 1 > deployments/web/replicas"; fi
if wait_until 20 n_ready web 1; then ok "scaled down: 1 endpoint"; else fail "scaled down: 1 endpoint" "got: $(cat "$S/web/endpoints")"; fi
echo 2 >"$D/web/replicas"
if wait_until 20 n_ready web 2; then ok "scaled up: 2 endpoints"; else fail "scaled up: 2 endpoints" "got: $(cat "$S/web/endpoints")"; fi

# An update that omits clusterIP keeps it.
sed 's/^  name: web$/  name: web\n  labels: {tier: front}/' "$WORK/websvc.yaml" >"$WORK/websvc2.yaml"
check "re-apply the Service without clusterIP (a label added)" cp "$WORK/websvc2.yaml" "$S/web.yaml"
check_eq "clusterip is unchanged" "$WEBIP" "$(cat "$S/web/clusterip")"
wait_until 5 test "$(yvals "$MNT/endpoints/web.yaml" metadata.labels.tier)" = front
check_eq "the Endpoints carry the Service's labels" front "$(yvals "$MNT/endpoints/web.yaml" metadata.labels.tier)"

# Two Services on one port, a requested IP, headless, NodePort, nothing selected.
cat >"$WORK/more.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web2
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: dns
spec:
  clusterIP: 10.96.0.10
  selector:
    app: dns
  ports:
  - port: 53
    protocol: UDP
---
apiVersion: v1
kind: Service
metadata:
  name: hl
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: np
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
EOF
check "apply four more Services" cp "$WORK/more.yaml" "$MNT/apply"
check "web2 (same port 80) gets an IP of its own" sh -c "[ -n \"\$(cat '$S/web2/clusterip')\" ] && [ \"\$(cat '$S/web2/clusterip')\" != '$WEBIP' ]"
if wait_until 10 n_ready web2 2; then ok "web2 has the same 2 endpoints (both Services work)"; else fail "web2 has 2 endpoints" "got: $(cat "$S/web2/endpoints")"; fi
check_eq "dns keeps the IP it asked for" "10.96.0.10" "$(cat "$S/dns/clusterip")"
check_eq "dns selects nothing: its endpoints file is empty" "0" "$(stat -c %s "$S/dns/endpoints")"
check "endpoints/dns.yaml exists (no subsets)" test -f "$MNT/endpoints/dns.yaml"
check_eq "hl/clusterip is None" None "$(cat "$S/hl/clusterip")"
if wait_until 10 n_ready hl 2; then ok "the headless Service has endpoints"; else fail "the headless Service has endpoints"; fi
check_eq "endpoints/hl.yaml is labeled headless" '""' "$(yget "$MNT/endpoints/hl.yaml" 'metadata.labels.service\.kubernetes\.io/headless')"
np=$(yvals "$S/np.yaml" spec.ports.0.nodePort)
if [ "$np" -ge 30000 ] && [ "$np" -le 32767 ]; then ok "np gets a nodePort in 30000-32767 ($np)"; else fail "np gets a nodePort in range" "got: $np"; fi
check_eq "np/status shows it" "NodePort $np" "$(yvals "$S/np/status" type ports.0.nodePort)"

# Refusals.
row() {
	local ename=$1 path=$2 want=$3 desc=$4 n
	shift 4
	n=$(errors_lines)
	expect_errno "$ename" "$desc" "$@"
	check_contains "$desc: errors names the path, $ename and the reason" "$(errors_since "$n")" "$MNT/$path: $ename: "
	check_contains "$desc: the reason" "$(errors_since "$n")" "$want"
}
mk() { # mk NAME EXTRA-SPEC-LINES
	printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  selector:\n    app: x\n%s\n' "$1" "$2" >"$WORK/$1.yaml"
}
mk bad1 '  clusterIP: 10.97.0.1
  ports:
  - port: 80'
row EINVAL services/bad1.yaml "provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16" \
	"a clusterIP outside the range" cp "$WORK/bad1.yaml" "$S/"
mk bad2 '  clusterIP: 10.96.0.10
  ports:
  - port: 80'
row EEXIST services/bad2.yaml "provided IP is already allocated" "a clusterIP that is taken" cp "$WORK/bad2.yaml" "$S/"
check "bad1 and bad2 were not created" test ! -e "$S/bad1.yaml" -a ! -e "$S/bad2.yaml"
sed 's/^spec:$/spec:\n  clusterIP: 10.96.3.3/' "$WORK/websvc.yaml" >"$WORK/web-ip.yaml"
row EINVAL services/web.yaml "field is immutable" "changing web's clusterIP" cp "$WORK/web-ip.yaml" "$S/web.yaml"
check_eq "web's clusterip is unchanged" "$WEBIP" "$(cat "$S/web/clusterip")"
mk bad3 '  type: NodePort
  ports:
  - port: 80
    nodePort: 40000'
row EINVAL services/bad3.yaml "provided port is not in the valid range" "a nodePort out of range" cp "$WORK/bad3.yaml" "$S/"
mk bad4 "  type: NodePort
  ports:
  - port: 80
    nodePort: $np"
row EEXIST services/bad4.yaml "provided port is already allocated" "a nodePort that is taken" cp "$WORK/bad4.yaml" "$S/"
printf 'apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: ext\nsubsets:\n- addresses:\n  - ip: 127.0.0.1\n  ports:\n  - port: 80\n' >"$WORK/ext.yaml"
row EINVAL endpoints/ext.yaml "loopback" "an Endpoints with a loopback IP" cp "$WORK/ext.yaml" "$MNT/endpoints/"

# A Service without a selector keeps the Endpoints its user writes.
mk ext '  ports:
  - port: 5432'
sed -i '/selector:/d; /app: x/d' "$WORK/ext.yaml"
check "a Service without a selector" cp "$WORK/ext.yaml" "$S/"
printf 'apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: ext\nsubsets:\n- addresses:\n  - ip: 192.168.5.5\n  ports:\n  - port: 5432\n' >"$WORK/ext-ep.yaml"
check "its Endpoints, written by hand" cp "$WORK/ext-ep.yaml" "$MNT/endpoints/ext.yaml"
sleep 0.2
check_eq "services/ext/endpoints shows the hand-written one" "192.168.5.5:5432" "$(cat "$S/ext/endpoints")"

# Deletion frees the IP and takes the Endpoints.
WEB2IP=$(cat "$S/web2/clusterip")
check "control: web2 has an IP ($WEB2IP)" test -n "$WEB2IP"
mk reuse "  clusterIP: $WEB2IP
  ports:
  - port: 80"
row EEXIST services/reuse.yaml "provided IP is already allocated" "control: web2's IP, asked for while web2 holds it" cp "$WORK/reuse.yaml" "$S/"
check "rm services/web2.yaml" rm "$S/web2.yaml"
check "endpoints/web2.yaml went with it" test ! -e "$MNT/endpoints/web2.yaml"
check "web2's IP may be asked for again" cp "$WORK/reuse.yaml" "$S/"
check_eq "reuse/clusterip is web2's old IP" "$WEB2IP" "$(cat "$S/reuse/clusterip")"

cfs_done
