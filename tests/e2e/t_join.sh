#!/bin/bash
# t_join.sh - a node joins over HTTPS and is held to the node authorizer:
# DATA/node-token (0600) carries the CA's hash and a secret; the CA is
# served anonymously at /cacerts and its sha256 is the token's; the join
# secret is exchanged for a node credential (POST /v1-clusterfs/join), a
# wrong one is 401; with the credential the node reads pods, changes its
# own Node and the status of its pods, and is 403 (Kubernetes' Status and
# wording) for another node, another node's pods, creating pods and
# reading Deployments; `clusterfs token revoke` and `token rotate` take
# effect at once on the running server; the admin token and kubectl still
# work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

K=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"
http_env

# The join token.
check_eq "node-token is mode 600" 600 "$(stat -c %a "$DATA/node-token" 2>&1)"
JT=$(cat "$DATA/node-token")
case "$JT" in
cfs1.*.*) ok "the join token reads cfs1.HASH.SECRET" ;;
*) cfs_abort "the join token reads cfs1.HASH.SECRET (got \"$JT\")" ;;
esac
HASH=${JT#cfs1.}
HASH=${HASH%%.*}
SECRET=${JT##*.}
check_eq "the hash and the secret are 64 hex digits each" "64 64" \
	"$(printf %s "$HASH" | tr -cd 0-9a-f | wc -c) $(printf %s "$SECRET" | tr -cd 0-9a-f | wc -c)"

# What an agent does: fetch the CA without verifying, check it, pin it.
curl -sSk "$URL/cacerts" -o "$WORK/ca.pem"
check_eq "/cacerts is anonymous, its sha256 is the token's hash" "$HASH" \
	"$(sha256sum "$WORK/ca.pem" | cut -d' ' -f1)"
check "/cacerts is the server's CA" cmp -s "$WORK/ca.pem" "$DATA/pki/ca.crt"
check "the pinned CA verifies the server" \
	curl -sS --cacert "$WORK/ca.pem" "$URL/healthz" -o /dev/null

# No token, a wrong one.
c /api/v1/pods >/dev/null
check_eq "no token: 401" 401 "$(code)"
c /api/v1/pods -H "Authorization: Bearer cfsn1.0000" >/dev/null
check_eq "an unknown node credential: 401" 401 "$(code)"
c /api/v1/pods -H "Authorization: Bearer $SECRET" >/dev/null
check_eq "the join secret is not a credential: 401" 401 "$(code)"

# join SECRET NODE: the exchange; prints the body, $WORK/code the status.
join() {
	curl -sS --cacert "$WORK/ca.pem" -o "$WORK/body" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		-d "{\"node\": \"$2\"}" "$URL/v1-clusterfs/join" >"$WORK/code"
	cat "$WORK/body"
}
body=$(join "${SECRET%?}0" hollow-1)
[ "${SECRET: -1}" = 0 ] && body=$(join "${SECRET%?}1" hollow-1)
check_eq "a wrong join secret: 401" 401 "$(code)"
check_contains "a wrong join secret: says so" "$body" "the join token was refused"
body=$(join "$SECRET" hollow-1)
check_eq "the join: 200" 200 "$(code)"
NT=$(printf %s "$body" | jv 'd["token"]')
check_eq "the join: a node credential for hollow-1" "NodeCredential hollow-1 cfsn1." \
	"$(printf %s "$body" | jv 'd["kind"], d["node"], d["token"][:6]' | tr -d "(),'")"
check_eq "node-credentials is mode 600" 600 "$(stat -c %a "$DATA/node-credentials" 2>&1)"
check_not "node-credentials keeps no credential in clear" grep -q "$NT" "$DATA/node-credentials"

# n PATH [CURL ARGS...]: as a, with the node's credential.
n() {
	local p=$1
	shift
	c "$p" -H "Authorization: Bearer $NT" "$@"
}
forbidden() { # forbidden NAME MESSAGE: the last answer is a 403 Status with MESSAGE
	check_eq "$1: 403 Forbidden Status" "403 Status Forbidden 403" \
		"$(code) $(jv 'd["kind"], d["reason"], d["code"]' <"$WORK/body" | tr -d "(),'")"
	check_eq "$1: the message" "$2" "$(jv 'd["message"]' <"$WORK/body")"
}

# Pods bound to each node (the admin creates them).
for p in mine:hollow-1 theirs:hollow-2; do
	cat >"$WORK/pod.json" <<EOF
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "${p%%:*}"},
 "spec": {"nodeName": "${p#*:}", "containers": [{"name": "c", "image": "busybox:latest"}]}}
EOF
	a /api/v1/namespaces/default/pods -X POST -H 'Content-Type: application/json' \
		--data-binary @"$WORK/pod.json" >/dev/null
	check_eq "admin creates pod ${p%%:*} on ${p#*:}" 201 "$(code)"
done

n /api/v1/pods >/dev/null
check_eq "node: GET pods: 200" 200 "$(code)"
n /api/v1/namespaces/default/services >/dev/null
check_eq "node: GET services: 200" 200 "$(code)"
n /apis/apps/v1/namespaces/default/deployments >/dev/null
forbidden "node: GET deployments" "deployments is forbidden: User \"system:node:hollow-1\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"default\": a node may read only pods, services, endpoints, nodes, namespaces, leases and the configmaps and secrets its pods use"
n /api/v1/namespaces/default/configmaps >/dev/null
check_eq "node: list configmaps: 403" 403 "$(code)"
a /api/v1/namespaces/default/configmaps -X POST -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nobodys"}}' >/dev/null
n /api/v1/namespaces/default/configmaps/nobodys >/dev/null
forbidden "node: GET a configmap no pod of its uses" "configmaps \"nobodys\" is forbidden: User \"system:node:hollow-1\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\": no pod bound to node \"hollow-1\" uses configmap \"default/nobodys\""

merge='Content-Type: application/merge-patch+json'
n /api/v1/nodes/hollow-1 -X PATCH -H "$merge" -d '{"metadata":{"labels":{"joined":"yes"}}}' >/dev/null
check_eq "node: PATCH its own Node: 200" 200 "$(code)"
check_eq "node: the label is there" yes \
	"$(a /api/v1/nodes/hollow-1 | jv 'd["metadata"]["labels"]["joined"]')"
n /api/v1/nodes/hollow-2 -X PATCH -H "$merge" -d '{"metadata":{"labels":{"joined":"yes"}}}' >/dev/null
forbidden "node: PATCH another Node" "nodes \"hollow-2\" is forbidden: User \"system:node:hollow-1\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope: node \"hollow-1\" may change only its own Node"
n /api/v1/nodes/hollow-2/status -X PATCH -H "$merge" -d '{"status":{"phase":"x"}}' >/dev/null
check_eq "node: PATCH another Node's status: 403" 403 "$(code)"

sed 's/"name": "mine"/"name": "new"/' "$WORK/pod.json" >"$WORK/new.json"
n /api/v1/namespaces/default/pods -X POST -H 'Content-Type: application/json' \
	--data-binary @"$WORK/new.json" >/dev/null
forbidden "node: create a pod" "pods is forbidden: User \"system:node:hollow-1\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\": a node may change only its own Node and Lease, the status of its pods, and events"

# The status of its pods, not of others'.
for p in mine theirs; do
	a /api/v1/namespaces/default/pods/$p |
		"$PY" -c 'import json,sys; d=json.load(sys.stdin); d.setdefault("status",{})["message"]="from the node"; print(json.dumps(d))' >"$WORK/$p.json"
done
n /api/v1/namespaces/default/pods/mine/status -X PUT -H 'Content-Type: application/json' \
	--data-binary @"$WORK/mine.json" >/dev/null
check_eq "node: PUT the status of its pod: 200" 200 "$(code)"
n /api/v1/namespaces/default/pods/mine/status -X PATCH -H "$merge" \
	-d '{"status":{"message":"patched"}}' >/dev/null
check_eq "node: PATCH the status of its pod: 200" 200 "$(code)"
n /api/v1/namespaces/default/pods/theirs/status -X PUT -H 'Content-Type: application/json' \
	--data-binary @"$WORK/theirs.json" >/dev/null
forbidden "node: PUT the status of another node's pod" "pods \"theirs\" is forbidden: User \"system:node:hollow-1\" cannot update resource \"pods/status\" in API group \"\" in the namespace \"default\": pod \"default/theirs\" is not bound to node \"hollow-1\""
n /api/v1/namespaces/default/pods/mine -X PATCH -H "$merge" \
	-d '{"metadata":{"labels":{"x":"y"}}}' >/dev/null
check_eq "node: PATCH its pod's spec or metadata: 403" 403 "$(code)"
n /api/v1/namespaces/default/pods/theirs -X DELETE >/dev/null
check_eq "node: DELETE another node's pod: 403" 403 "$(code)"
n /api/v1/namespaces/default/pods/mine -X DELETE >/dev/null
check_eq "node: DELETE its own pod: 200" 200 "$(code)"

# kubectl with the node's credential says what the API says.
if [ -x "$K" ]; then
	out=$("$K" --token "$NT" label node hollow-2 x=y 2>&1)
	check_contains "kubectl as the node: label another node: Forbidden" "$out" \
		"Error from server (Forbidden): nodes \"hollow-2\" is forbidden: User \"system:node:hollow-1\" cannot patch resource \"nodes\""
	check "kubectl as the node: get pods" "$K" --token "$NT" get pods
else
	fail "kubectl 1.32 is installed ($K)"
fi

# Revocation: at once, on the running server.
check "clusterfs token revoke hollow-1" "$CLUSTERFS" token revoke --data-dir "$DATA" hollow-1
n /api/v1/pods >/dev/null
check_eq "revoked: the node's credential is refused: 401" 401 "$(code)"
body=$(join "$SECRET" hollow-1)
check_eq "revoked: the node joins again: 200" 200 "$(code)"
NT=$(printf %s "$body" | jv 'd["token"]')
n /api/v1/pods >/dev/null
check_eq "the new credential works" 200 "$(code)"

# Rotation: the old join token is refused at once, the new one joins.
NEW=$("$CLUSTERFS" token rotate --data-dir "$DATA")
check_eq "token rotate prints the new token, as node-token" "$NEW" "$(cat "$DATA/node-token")"
check_eq "rotate: the CA hash is the same" "$HASH" "$(printf %s "$NEW" | cut -d. -f2)"
join "$SECRET" hollow-2 >/dev/null
check_eq "rotate: the old join token is refused: 401" 401 "$(code)"
join "$NEW" hollow-2 >/dev/null
check_eq "rotate: the new token (whole) joins: 200" 200 "$(code)"
n /api/v1/pods >/dev/null
check_eq "rotate: issued credentials keep working" 200 "$(code)"

# The admin: everything, as before.
a /api/v1/namespaces/default/pods/theirs -X DELETE >/dev/null
check_eq "admin: DELETE a pod: 200" 200 "$(code)"
if [ -x "$K" ]; then
	check_contains "admin: kubectl get nodes" "$("$K" get nodes 2>&1)" "hollow-2"
	check "admin: kubectl label node" "$K" label node hollow-2 by=admin
fi
check_stop
cfs_done
