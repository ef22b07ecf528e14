#!/bin/bash
# t_http_watch.sh - Table responses and watch over HTTPS (http/table.c,
# http/watch.c, http/stream.c): kubectl 1.32 and 1.27 print Kubernetes'
# columns for every kind (default and -o wide) for objects written through
# the filesystem; `kubectl get pods -w` sees a pod added and deleted through
# the filesystem; curl watches: WatchEvent lines, Table watches (column
# definitions in the first event only), a label selector that stops
# matching gives DELETED, timeoutSeconds, 410 Expired from a compacted
# resourceVersion (a short history: CFS_STORE_LOG_KEEP_FOR_TEST), 429 past
# the bound on watches (CFS_HTTP_MAX_WATCHES), BOOKMARK events where asked
# (every CFS_HTTP_BOOKMARK_MS).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

export CFS_STORE_LOG_KEEP_FOR_TEST=40 CFS_HTTP_MAX_WATCHES=6 CFS_HTTP_BOOKMARK_MS=400
cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"
unset CFS_STORE_LOG_KEEP_FOR_TEST CFS_HTTP_MAX_WATCHES CFS_HTTP_BOOKMARK_MS
export KUBECONFIG=$DATA/kubeconfig
TOKEN=$(cat "$DATA/pki/token")
URL=$(sed -n 's/^ *server: //p' "$DATA/kubeconfig")
KS=$(kubectl_versions | tr "\n" " ")
[ -n "$KS" ] || cfs_abort "no kubectl here"
k() {
	local v=$1
	shift
	"$(kubectl_bin "$v")" "$@" 2>&1
}
# w ARGS...: a curl of $URL with the token (-N: as it arrives).
w() { curl -sS -N --cacert "$DATA/pki/ca.crt" -H "Authorization: Bearer $TOKEN" "$@"; }
hdr() { head -1 | tr -s ' ' | sed 's/ $//'; }
pod_yaml() { # NAME APP
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels:\n    app: %s\nspec:\n  containers:\n  - name: c\n    image: busybox\n' "$1" "$2"
}

# Objects of every kind through the filesystem.
web_deployment web 2 >"$WORK/web.yaml"
check "cp a Deployment" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"
pod_yaml p1 one >"$MNT/pods/p1.yaml"
cat >"$MNT/services/web.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
YAML
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: "1"\n  b: "2"\n' >"$MNT/configmaps/cm.yaml"
v1=${KS%% *}
v1=${v1:-1.32}
for i in $(seq 1 100); do
	[ "$(k "$v1" get pods --no-headers | grep -c ' 1/1 *Running ')" = 3 ] && break
	sleep 0.1
done

for v in $KS; do
	out=$(k "$v" get pods)
	check_eq "$v: get pods: Kubernetes' columns" "NAME READY STATUS RESTARTS AGE" "$(printf %s "$out" | hdr)"
	check_eq "$v: get pods: p1's row" "p1 1/1 Running 0" \
		"$(printf %s "$out" | grep '^p1 ' | tr -s ' ' | cut -d' ' -f1-4)"
	check "$v: get pods: an age in the AGE column" sh -c "printf %s '$out' | grep -Eq '^p1 .* [0-9]+s$'"
	check_eq "$v: get pods -o wide" "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" \
		"$(k "$v" get pods -o wide | hdr)"
	check_contains "$v: -o wide: p1 on a hollow node" "$(k "$v" get pods -o wide | grep '^p1 ')" " hollow-"
	check_eq "$v: get pod p1 (one object)" "p1 1/1 Running" \
		"$(k "$v" get pod p1 --no-headers | tr -s ' ' | cut -d' ' -f1-3)"
	check_eq "$v: deployments" "NAME READY UP-TO-DATE AVAILABLE AGE" "$(k "$v" get deployments | hdr)"
	check_eq "$v: deployment web's row" "web 2/2 2 2" \
		"$(k "$v" get deploy web --no-headers | tr -s ' ' | cut -d' ' -f1-4)"
	check_eq "$v: deployments -o wide" "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR" \
		"$(k "$v" get deployments -o wide | hdr)"
	check_eq "$v: replicasets" "NAME DESIRED CURRENT READY AGE" "$(k "$v" get rs | hdr)"
	check_eq "$v: replicasets -o wide" "NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR" \
		"$(k "$v" get rs -o wide | hdr)"
	check_eq "$v: services" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" "$(k "$v" get svc | hdr)"
	check_contains "$v: service web's row" "$(k "$v" get svc web --no-headers | tr -s ' ')" "ClusterIP"
	check_contains "$v: service web's port" "$(k "$v" get svc web --no-headers | tr -s ' ')" " 80/TCP "
	check_eq "$v: services -o wide" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR" \
		"$(k "$v" get svc -o wide | hdr)"
	check_eq "$v: endpoints" "NAME ENDPOINTS AGE" "$(k "$v" get endpoints | hdr)"
	check_eq "$v: configmaps" "NAME DATA AGE" "$(k "$v" get configmaps | hdr)"
	check_eq "$v: configmap cm has 2 keys" "cm 2" "$(k "$v" get cm cm --no-headers | tr -s ' ' | cut -d' ' -f1-2)"
	check_eq "$v: namespaces" "NAME STATUS AGE" "$(k "$v" get ns | hdr)"
	check_eq "$v: namespace default is Active" "default Active" \
		"$(k "$v" get ns default --no-headers | tr -s ' ' | cut -d' ' -f1-2)"
	check_eq "$v: nodes" "NAME STATUS ROLES AGE VERSION" "$(k "$v" get nodes | hdr)"
	check_eq "$v: nodes -o wide" "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME" \
		"$(k "$v" get nodes -o wide | hdr)"
	check_eq "$v: node hollow-1 Ready" "hollow-1 Ready" "$(k "$v" get node hollow-1 --no-headers | tr -s ' ' | cut -d' ' -f1-2)"
	check_eq "$v: events" "LAST SEEN TYPE REASON OBJECT MESSAGE" "$(k "$v" get events | hdr)"
	check_contains "$v: a Scheduled event about pod/p1" "$(k "$v" get events | tr -s ' ')" "Normal Scheduled pod/p1"
	check_contains "$v: get pods -A adds NAMESPACE" "$(k "$v" get pods -A | hdr)" "NAMESPACE NAME READY STATUS"
	check_contains "$v: --sort-by (includeObject=Object)" "$(k "$v" get pods --sort-by=.metadata.name | tail -1)" "web-"
	check_contains "$v: --show-labels" "$(k "$v" get pod p1 --show-labels)" "app=one"
done

# kubectl get pods -w: a pod added and deleted through the filesystem.
for v in $KS; do
	"$(kubectl_bin "$v")" get pods -w --output-watch-events >"$WORK/w$v.out" 2>&1 &
	cfs_bg $!
	eval "wpid_${v%.*}_${v#*.}=$!"
done
sleep 1
pod_yaml p2 two >"$MNT/pods/p2.yaml"
sleep 1
check "rm the pod p2" rm "$MNT/pods/p2.yaml"
for i in $(seq 1 50); do
	grep -q 'DELETED *p2 ' "$WORK/w${v1}.out" && break
	sleep 0.1
done
for v in $KS; do
	out=$(cat "$WORK/w$v.out")
	check_contains "$v: get -w: the list first" "$(printf %s "$out" | tr -s " " | sed -n 2p)" "ADDED p1 1/1 Running"
	check_contains "$v: get -w: p2 ADDED" "$(printf %s "$out" | tr -s ' ')" "ADDED p2 0/1 Pending"
	check_contains "$v: get -w: p2 Running" "$(printf %s "$out" | tr -s ' ')" "MODIFIED p2 1/1 Running"
	check_contains "$v: get -w: p2 DELETED" "$(printf %s "$out" | tr -s ' ')" "DELETED p2"
done
for v in $KS; do
	eval "p=\$wpid_${v%.*}_${v#*.}"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done

# curl: WatchEvents, Table watches, selectors, timeoutSeconds.
rv=$(w "$URL/api/v1/namespaces/default/pods" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
w "$URL/api/v1/namespaces/default/pods?watch=true&resourceVersion=$rv&labelSelector=app%3Dx&timeoutSeconds=4" >"$WORK/sel.out" &
cfs_bg $!
selpid=$!
w -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json' \
	"$URL/api/v1/namespaces/default/pods?watch=1&resourceVersion=$rv&timeoutSeconds=4" >"$WORK/table.out" &
cfs_bg $!
tabpid=$!
sleep 0.5
pod_yaml p3 x >"$MNT/pods/p3.yaml"
sleep 0.5
pod_yaml p3 y >"$MNT/pods/p3.yaml"
wait $selpid $tabpid
types=$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    if l.strip():
        e = json.loads(l); print(e["type"], e["object"]["metadata"]["name"])' "$WORK/sel.out" | uniq | tr '\n' ' ')
check_eq "label selector: p3 ADDED, then DELETED when its label changes" "ADDED p3 MODIFIED p3 DELETED p3 " "$types"
check_eq "a Table watch: one-row Tables, columns in the first event only" "Table 1 9 0" \
	"$("$PY" -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(ev[0]["object"]["kind"], len(ev[0]["object"]["rows"]), len(ev[0]["object"]["columnDefinitions"]),
      len(ev[1]["object"].get("columnDefinitions") or []))' "$WORK/table.out" 2>&1)"
s0=$(date +%s%N)
w "$URL/api/v1/nodes?watch=true&resourceVersion=$rv&timeoutSeconds=1" >/dev/null
ms=$((($(date +%s%N) - s0) / 1000000))
check "timeoutSeconds=1 ends the watch within 1-3 s ($ms ms)" test $ms -ge 900 -a $ms -lt 3000

out=$(w "$URL/api/v1/namespaces/default/pods?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=1" 2>/dev/null |
	"$PY" -c 'import json,sys
for l in sys.stdin:
    if l.strip():
        e = json.loads(l)
        if e["type"] == "BOOKMARK": print(e["object"]["kind"], int(e["object"]["metadata"]["resourceVersion"]) > 0); break' 2>&1)
check_eq "allowWatchBookmarks: a BOOKMARK with a resourceVersion" "Pod True" "$out"

# 410 Expired from a compacted resourceVersion (history kept: 40 revisions).
for i in $(seq 1 60); do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%s\ndata:\n  a: "%s"\n' "$i" "$i" >"$MNT/configmaps/c$i.yaml"
done
out=$(w "$URL/api/v1/configmaps?watch=true&resourceVersion=2&timeoutSeconds=2")
check_eq "a compacted resourceVersion: ERROR 410 Expired" "ERROR Status Expired 410" \
	"$(printf %s "$out" | "$PY" -c 'import json,sys; e=json.loads(sys.stdin.readline()); o=e["object"]; print(e["type"], o["kind"], o["reason"], o["code"])' 2>&1)"
check_contains "410: the message names the revision" "$out" "too old resource version: 2"

# 429 past the bound (6 here), once the watches above are gone.
sleep 1
for i in 1 2 3 4 5 6; do
	w "$URL/api/v1/pods?watch=true&timeoutSeconds=20" >"$WORK/bound$i" &
	cfs_bg $!
	eval "bound_$i=$!"
done
for i in $(seq 1 100); do # until each has its first events (the machine may be slow)
	n=0
	for f in "$WORK"/bound?; do [ -s "$f" ] && n=$((n + 1)); done
	[ $n = 6 ] && break
	sleep 0.1
done
check_eq "6 watches open" 6 "$n"
out=$(w -w '\n%{http_code}' "$URL/api/v1/pods?watch=true&timeoutSeconds=20")
check_eq "the 7th watch: 429" 429 "$(printf %s "$out" | tail -1)"
check_contains "429: a Status TooManyRequests" "$out" '"reason":"TooManyRequests"'
for i in 1 2 3 4 5 6; do
	eval "p=\$bound_$i"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
check_contains "the server still serves" "$(k "$v1" get pod p1 --no-headers)" "Running"

cfs_done
