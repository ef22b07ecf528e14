#!/bin/bash
# t_http.sh - the Kubernetes HTTPS API (http/): the PKI and kubeconfig a
# first start makes, bearer-token authentication (401 Status without or
# with a wrong token; /healthz anonymous), GET and LIST of objects written
# through the filesystem with label and field selectors, 404 Status,
# discovery, kubectl against DATA/kubeconfig, and a restart that reuses
# the CA and the token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"

# The PKI and the kubeconfig.
for f in ca.crt ca.key server.crt server.key token; do
	check_eq "pki/$f is mode 600" 600 "$(stat -c %a "$DATA/pki/$f" 2>&1)"
done
check_eq "pki/ is mode 700" 700 "$(stat -c %a "$DATA/pki" 2>&1)"
check_eq "kubeconfig is mode 600" 600 "$(stat -c %a "$DATA/kubeconfig" 2>&1)"
KC=$(cat "$DATA/kubeconfig")
check_contains "kubeconfig: current context clusterfs" "$KC" "current-context: clusterfs"
TOKEN=$(cat "$DATA/pki/token")
check_eq "the token is 64 hex digits" 64 "$(printf %s "$TOKEN" | tr -cd 0-9a-f | wc -c)"
check_contains "kubeconfig carries the token" "$KC" "token: $TOKEN"
URL=$(sed -n 's/^ *server: //p' "$DATA/kubeconfig")
case "$URL" in
https://127.0.0.1:[0-9]*) ok "kubeconfig names https://127.0.0.1:PORT ($URL)" ;;
*) cfs_abort "kubeconfig names https://127.0.0.1:PORT (got \"$URL\")" ;;
esac
sed -n 's/^ *certificate-authority-data: //p' "$DATA/kubeconfig" | base64 -d >"$WORK/ca.pem"
check "the embedded CA is pki/ca.crt" cmp -s "$WORK/ca.pem" "$DATA/pki/ca.crt"
check_contains "server.log names the kubeconfig" "$(cat "$DATA/server.log")" "$DATA/kubeconfig"


# Authentication.
body=$(c /api/v1/pods)
check_eq "no token: 401" 401 "$(code)"
check_eq "no token: a Status, reason Unauthorized" "Status Failure Unauthorized 401 v1" \
	"$(printf %s "$body" | jv 'd["kind"], d["status"], d["reason"], d["code"], d["apiVersion"]' | tr -d "(),'")"
c /api/v1/pods -H "Authorization: Bearer 0123" >/dev/null
check_eq "a wrong token: 401" 401 "$(code)"
c /api/v1/pods -H "Authorization: Bearer ${TOKEN%?}x" >/dev/null
check_eq "a token wrong in its last digit: 401" 401 "$(code)"
c /version >/dev/null
check_eq "/version needs the token too" 401 "$(code)"
for p in /healthz /readyz /livez; do
	check_eq "$p is anonymous: ok" ok "$(c $p)"
done
check "TLS verifies against the CA with the name localhost" \
	curl -sS --cacert "$DATA/pki/ca.crt" "https://localhost:${URL##*:}/healthz" -o /dev/null

# Objects written through the filesystem, read over HTTPS.
web_deployment web 2 >"$WORK/web.yaml"
check "cp a Deployment into the mount" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
for n in p1 p2; do
	app=web
	[ $n = p2 ] && app=db
	cat >"$WORK/$n.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $n
  labels:
    app: $app
    tier: t-$n
spec:
  containers:
  - name: main
    image: busybox:latest
YAML
	check "cp Pod $n into the mount" cp "$WORK/$n.yaml" "$MNT/pods/$n.yaml"
done

body=$(a /apis/apps/v1/namespaces/default/deployments/web)
check_eq "GET a deployment: 200" 200 "$(code)"
check_eq "GET a deployment: kind, apiVersion, name, replicas" "Deployment apps/v1 web 2" \
	"$(printf %s "$body" | jv 'd["kind"], d["apiVersion"], d["metadata"]["name"], d["spec"]["replicas"]' | tr -d "(),'")"
body=$(a /api/v1/namespaces/default/pods/p1)
check_eq "GET a pod: 200, its labels" "200 web" "$(code) $(printf %s "$body" | jv 'd["metadata"]["labels"]["app"]')"
check_eq "GET a pod: resourceVersion is a number" ok \
	"$(printf %s "$body" | jv '"ok" if int(d["metadata"]["resourceVersion"]) > 0 else "no"')"

# n: the item names of a list on stdin, sorted, space-separated.
n() { jv '" ".join(sorted(i["metadata"]["name"] for i in d["items"]))'; }
body=$(a /api/v1/namespaces/default/pods)
check_eq "LIST pods: a PodList" "PodList v1" "$(printf %s "$body" | jv 'd["kind"], d["apiVersion"]' | tr -d "(),'")"
check_contains "LIST pods: p1 and p2 among the items" "$(printf %s "$body" | n)" "p1 p2"
check_eq "LIST: metadata.resourceVersion is set" ok \
	"$(printf %s "$body" | jv '"ok" if int(d["metadata"]["resourceVersion"]) > 0 else "no"')"
check_eq "LIST -l app=db" "p2" "$(a '/api/v1/namespaces/default/pods?labelSelector=app%3Ddb' | n)"
check_eq "LIST -l 'tier in (t-p1,t-p2)'" "p1 p2" \
	"$(a '/api/v1/pods?labelSelector=tier%20in%20(t-p1%2Ct-p2)' | n)"
check_eq "LIST --field-selector metadata.name=p1" "p1" \
	"$(a '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dp1' | n)"
check_eq "LIST -l and --field-selector together" "" \
	"$(a '/api/v1/pods?labelSelector=app%3Ddb&fieldSelector=metadata.name%3Dp1' | n)"
check_eq "LIST nodes --field-selector metadata.name!=hollow-1" "hollow-2" \
	"$(a '/api/v1/nodes?fieldSelector=metadata.name!%3Dhollow-1' | n)"
body=$(a '/api/v1/pods?fieldSelector=spec.bogus%3D1')
check_eq "an unsupported field: 400 BadRequest" "400 BadRequest" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
body=$(a '/api/v1/pods?labelSelector=a%20in%20(')
check_eq "a bad label selector: 400" 400 "$(code)"
check_eq "LIST deployments in all namespaces" "web" "$(a /apis/apps/v1/deployments | n)"
a /api/v1/namespaces/default/events >/dev/null
check_eq "LIST events: 200" 200 "$(code)"

# Errors.
body=$(a /api/v1/namespaces/default/pods/nope)
check_eq "GET a missing pod: 404 NotFound" "404 Status NotFound" \
	"$(code) $(printf %s "$body" | jv 'd["kind"], d["reason"]' | tr -d "(),'")"
check_eq "404: details name and kind" "nope pods" \
	"$(printf %s "$body" | jv 'd["details"]["name"], d["details"]["kind"]' | tr -d "(),'")"
a /api/v1/widgets >/dev/null
check_eq "an unknown resource: 404" 404 "$(code)"
a /api/v1/namespaces/default/pods/p1 -X POST -d "{}" >/dev/null
check_eq "POST on an object: 405" 405 "$(code)"
head -c 4000000 /dev/zero | tr '\0' a >"$WORK/big"
a /api/v1/namespaces/default/pods -X POST --data-binary @"$WORK/big" >/dev/null
check_eq "a body over 3 MiB: 413" 413 "$(code)"

# Discovery.
check_eq "/api lists v1" "APIVersions ['v1']" "$(a /api | jv 'd["kind"], d["versions"]' | tr -d "()," | sed "s/'APIVersions'/APIVersions/")"
check_contains "/apis lists apps" "$(a /apis)" '"name":"apps"'
check_contains "/api/v1 lists pods/log" "$(a /api/v1)" '"pods/log"'
check_eq "/version: minor 30" "1 30" "$(a /version | jv 'd["major"], d["minor"]' | tr -d "(),'")"

# kubectl.
export KUBECONFIG=$DATA/kubeconfig
if command -v kubectl >/dev/null; then
	check_contains "kubectl get --raw" "$(kubectl get --raw /api/v1/namespaces/default/pods 2>&1)" '"kind":"PodList"'
	check_eq "kubectl get nodes -o json" "hollow-1 hollow-2" "$(kubectl get nodes -o json 2>&1 | n)"
	out=$(kubectl get pods -o name 2>&1)
	check_contains "kubectl get pods -o name" "$out" "pod/p1"
	check_contains "kubectl get pods -o name: p2" "$out" "pod/p2"
	check_eq "kubectl get pods -l app=db -o name" "pod/p2" "$(kubectl get pods -l app=db -o name 2>&1)"
	check_eq "kubectl get pod p1 -o jsonpath" "web" \
		"$(kubectl get pod p1 -o jsonpath='{.metadata.labels.app}' 2>&1)"
	check_eq "kubectl get deploy --field-selector" "deployment.apps/web" \
		"$(kubectl get deploy --field-selector metadata.name=web -o name 2>&1)"
	check_contains "kubectl get pods -A" "$(kubectl get pods -A 2>&1)" "p1"
	check_contains "kubectl get nope: NotFound" "$(kubectl get pod nope 2>&1)" 'pods "nope" not found'
	check_contains "kubectl api-resources" "$(kubectl api-resources 2>&1)" "deploy"
	check_contains "kubectl version" "$(kubectl version 2>&1)" "Server Version: v1.30.0-clusterfs"
else
	echo "# no kubectl here: its checks skipped"
fi

# A restart reuses the CA and the token.
ca_before=$(cat "$DATA/pki/ca.crt")
cert_before=$(cat "$DATA/pki/server.crt")
check_stop
cfs_start --hollow-nodes 2 || cfs_abort "the server starts again"
check_eq "restart: same CA" "$ca_before" "$(cat "$DATA/pki/ca.crt")"
check_eq "restart: same serving certificate" "$cert_before" "$(cat "$DATA/pki/server.crt")"
check_eq "restart: same token" "$TOKEN" "$(cat "$DATA/pki/token")"
URL=$(sed -n 's/^ *server: //p' "$DATA/kubeconfig")
a /api/v1/namespaces/default/pods/p1 >/dev/null
check_eq "restart: the old token still works" 200 "$(code)"
check_stop

cfs_start --hollow-nodes 2 --tls-san api.example.test || cfs_abort "starts with --tls-san"
check_eq "a new SAN: same CA" "$ca_before" "$(cat "$DATA/pki/ca.crt")"
check_not "a new SAN: a new serving certificate" test "$cert_before" = "$(cat "$DATA/pki/server.crt")"
URL=$(sed -n 's/^ *server: //p' "$DATA/kubeconfig")
check "the new SAN verifies" curl -sS --cacert "$DATA/pki/ca.crt" \
	--resolve "api.example.test:${URL##*:}:127.0.0.1" "https://api.example.test:${URL##*:}/healthz" -o /dev/null
check_stop

check_contains "a malformed --listen is refused, named" \
	"$("$CLUSTERFS" server --listen bogus --mount "$MNT" --data-dir "$DATA" 2>&1)" "--listen bogus"
cfs_done
