#!/bin/bash
# t_http_pb.sh - protobuf request bodies (http/pb.c, pb_numbers.c): the
# typed-client commands of kubectl 1.32, which send their objects as
# application/vnd.kubernetes.protobuf (kubectl 1.27 sends JSON: the same
# commands, the same results), each checked in the filesystem:
# create deployment (--replicas=0 stays 0), run (its args), create service
# clusterip, expose, create configmap, create namespace, drain (the
# Eviction; with --disable-eviction the DELETE's DeleteOptions).  Then
# hand-made protobuf bodies with curl: an unknown field
# number (Strict refuses it, Warn warns), a kind not decoded (415), a
# malformed body (400), an Eviction naming another pod (400).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"

http_env
NS=/api/v1/namespaces/default

PB=(-H "Content-Type: application/vnd.kubernetes.protobuf")

# wait_for CMD...: up to 10 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 1 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

for v in 1.32 1.27; do
	K=$(kubectl_bin "$v")
	[ -n "$K" ] || {
		echo "# no kubectl.$v here: its checks skipped"
		continue
	}
	s=${v/./-}
	# create deployment: replicas 0 is a pointer's 0, not "unset"
	out=$("$K" create deployment "web-$s" --image=busybox --replicas=0 -v=8 2>&1)
	check_eq "kubectl.$v create deployment --replicas=0 exits 0" 0 "$?"
	if [ "$v" = 1.32 ]; then
		check_contains "kubectl.$v sends the Deployment as protobuf" "$out" \
			"Content-Type: application/vnd.kubernetes.protobuf"
	fi
	check_contains "deployments/web-$s.yaml: replicas: 0" "$(cat "$MNT/deployments/web-$s.yaml" 2>&1)" "replicas: 0"
	check_eq "deployments/web-$s/replicas reads 0" 0 "$(cat "$MNT/deployments/web-$s/replicas" 2>&1)"
	check_contains "the template's container" "$(cat "$MNT/deployments/web-$s.yaml" 2>&1)" "image: busybox"
	check_contains "the selector" "$(cat "$MNT/deployments/web-$s.yaml" 2>&1)" "app: web-$s"
	# run: a Pod with its args
	check "kubectl.$v run" "$K" run "p-$s" --image=busybox -- sleep 1000
	pod=$(cat "$MNT/pods/p-$s.yaml" 2>&1)
	check_contains "pods/p-$s.yaml: the image" "$pod" "image: busybox"
	check_eq "pods/p-$s: the args" "sleep 1000" \
		"$(printf %s "$pod" | "$PY" -c 'import yaml,sys; print(" ".join(yaml.safe_load(sys.stdin)["spec"]["containers"][0]["args"]))')"
	check_contains "pods/p-$s: the run label" "$pod" "run: p-$s"
	# create service clusterip: ports with an IntOrString targetPort
	check "kubectl.$v create service clusterip --tcp=80:8080" "$K" create service clusterip "s-$s" --tcp=80:8080
	svc=$(cat "$MNT/services/s-$s.yaml" 2>&1)
	check_eq "services/s-$s: port 80 to targetPort 8080" "80 8080" \
		"$(printf %s "$svc" | "$PY" -c 'import yaml,sys; p=yaml.safe_load(sys.stdin)["spec"]["ports"][0]; print(p["port"], p["targetPort"])')"
	check_contains "services/s-$s: its selector" "$svc" "app: s-$s"
	# expose: a Service from the deployment's selector
	check "kubectl.$v expose deployment --port=80" "$K" expose deployment "web-$s" --port=80
	svc=$(cat "$MNT/services/web-$s.yaml" 2>&1)
	check_eq "services/web-$s: port 80, the deployment's selector" "80 web-$s" \
		"$(printf %s "$svc" | "$PY" -c 'import yaml,sys; s=yaml.safe_load(sys.stdin)["spec"]; print(s["ports"][0]["port"], s["selector"]["app"])')"
	# create configmap, create namespace
	check "kubectl.$v create configmap --from-literal" "$K" create configmap "c-$s" --from-literal=a=b
	check_eq "configmaps/c-$s/data/a reads b" b "$(cat "$MNT/configmaps/c-$s/data/a" 2>&1)"
	check "kubectl.$v create namespace" "$K" create namespace "n-$s"
	check_eq "namespaces/n-$s/status: Active" Active "$(cat "$MNT/namespaces/n-$s/status" 2>&1)"
	# the refused writes kubectl makes read the same as JSON's
	out=$("$K" create deployment "web-$s" --image=busybox 2>&1)
	check_contains "kubectl.$v create deployment again: AlreadyExists" "$out" "already exists"
done

# Hand-made protobuf bodies.  pb KIND APIVERSION FIELDS...: the envelope
# around a message whose fields are NUM=STRING, NUM:VARINT or NUM{...}.
pb() {
	"$PY" - "$@" <<'EOF'
import sys

def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out

def field(num, wire, payload):
    return varint(num << 3 | wire) + payload

def msg(spec):
    # spec: list of (num, value): str -> bytes, int -> varint, list -> message
    out = b""
    for num, val in spec:
        if isinstance(val, int):
            out += field(num, 0, varint(val))
        else:
            b = val.encode() if isinstance(val, str) else msg(val)
            out += field(num, 2, varint(len(b)) + b)
    return out

av, kind, body = sys.argv[1], sys.argv[2], eval(sys.argv[3])
env = b"k8s\0" + msg([(1, [(1, av), (2, kind)]), (2, body)])
sys.stdout.buffer.write(env)
EOF
}

# a Namespace {metadata {name}, field 99}
pb v1 Namespace '[(1, [(1, "pbx")]), (99, 7)]' >"$WORK/ns.pb"
a "/api/v1/namespaces?fieldValidation=Strict" -X POST "${PB[@]}" --data-binary @"$WORK/ns.pb" >/dev/null
check_eq "an unknown field number, Strict: 400" 400 "$(code)"
check_contains "Strict names it" "$(cat "$WORK/body")" "unknown field \\\"(protobuf field 99)\\\""
check_not "Strict created nothing" test -e "$MNT/namespaces/pbx.yaml"
check_contains "Strict: a line in errors" "$(tail -n 3 "$MNT/errors")" "POST /api/v1/namespaces"
a "/api/v1/namespaces" -X POST "${PB[@]}" --data-binary @"$WORK/ns.pb" >/dev/null
check_eq "an unknown field number, Warn (the default): 201" 201 "$(code)"
check_contains "Warn: a Warning header" "$(cat "$WORK/headers")" "unknown field"
check_eq "the namespace is there" Active "$(cat "$MNT/namespaces/pbx/status" 2>&1)"

# a ConfigMap with immutable: false (a pointer: kept) and data
pb v1 ConfigMap '[(1, [(1, "pbc")]), (2, [(1, "k"), (2, "v")]), (4, 0)]' >"$WORK/cm.pb"
a $NS/configmaps -X POST "${PB[@]}" --data-binary @"$WORK/cm.pb" >/dev/null
check_eq "a protobuf ConfigMap: 201" 201 "$(code)"
check_eq "configmaps/pbc/data/k reads v" v "$(cat "$MNT/configmaps/pbc/data/k" 2>&1)"
check_contains "immutable: false is kept" "$(cat "$MNT/configmaps/pbc.yaml" 2>&1)" "immutable: false"

pb v1 Secret '[(1, [(1, "pbs")]), (2, [(1, "password"), (2, "s3cret")]), (3, "Opaque")]' >"$WORK/secret.pb"
a $NS/secrets -X POST "${PB[@]}" --data-binary @"$WORK/secret.pb" >/dev/null
check_eq "a protobuf Secret: 201" 201 "$(code)"
check_eq "secrets/pbs/password reads the bytes" s3cret "$(cat "$MNT/secrets/pbs/password" 2>&1)"
pb v1 ServiceAccount '[(1, [(1, "x")])]' >"$WORK/sa.pb"
a $NS/configmaps -X POST "${PB[@]}" --data-binary @"$WORK/sa.pb" >/dev/null
check_eq "a kind not decoded: 415" 415 "$(code)"
printf 'k8s\0\x0a\x7f' >"$WORK/bad.pb"
a $NS/configmaps -X POST "${PB[@]}" --data-binary @"$WORK/bad.pb" >/dev/null
check_eq "a malformed protobuf body: 400" 400 "$(code)"

pb policy/v1 Eviction '[(1, [(1, "someone-else"), (3, "default")])]' >"$WORK/ev.pb"
a $NS/pods/p-1-32/eviction -X POST "${PB[@]}" --data-binary @"$WORK/ev.pb" >/dev/null
check_eq "a protobuf Eviction of another pod: 400" 400 "$(code)"
check "the pod stays" test -e "$MNT/pods/p-1-32.yaml"
pb policy/v1 Eviction '[(1, [(1, "p-1-32"), (3, "default")]), (2, [(1, 0)])]' >"$WORK/ev.pb"
a $NS/pods/p-1-32/eviction -X POST "${PB[@]}" --data-binary @"$WORK/ev.pb" >/dev/null
check_eq "a protobuf Eviction of the URL's pod: 201" 201 "$(code)"

# drain: kubectl 1.32 posts each Eviction as protobuf.
K=$(kubectl_bin 1.32)
if [ -z "$K" ]; then
	echo "# no kubectl 1.32 here: the protobuf drain checks skipped"
	cfs_done
fi
check "a deployment of 2 for drain" "$K" create deployment dr --image=busybox --replicas=2
node_of_dr() {
	grep -h "nodeName:" "$MNT"/pods/dr-*.yaml 2>/dev/null | sed 's/.*nodeName: *//' | head -n 1
}
wait_for test -n "$(node_of_dr)"
wait_for sh -c "[ \$(grep -l nodeName: $MNT/pods/dr-*.yaml 2>/dev/null | wc -l) -ge 2 ]"
node=$(node_of_dr)
check "a dr pod is scheduled" test -n "$node"
before=$(grep -l "nodeName: $node" "$MNT"/pods/dr-*.yaml 2>/dev/null | xargs -r -n1 basename | sed 's/\.yaml$//')
# --force: the bare pods of kubectl run are evicted too
out=$("$K" drain "$node" --ignore-daemonsets --force --timeout=30s 2>&1)
check_eq "kubectl.1.32 drain $node exits 0" 0 "$?"
for p in $before; do
	check_contains "drain evicted $p (a protobuf Eviction)" "$out" "pod/$p evicted"
done
check_not_contains "drain never falls back to deleting" "$out" " deleted"
left=$(a "/api/v1/pods?fieldSelector=spec.nodeName%3D$node" | jv 'len([p for p in d["items"] if p["metadata"]["name"].startswith("dr-") and not p["metadata"].get("deletionTimestamp")])')
check_eq "drain: no dr pod left on $node" 0 "$left"
check "kubectl.1.32 uncordon" "$K" uncordon "$node"
# --disable-eviction: DELETEs with a protobuf DeleteOptions body
wait_for sh -c "[ \$(grep -l nodeName: $MNT/pods/dr-*.yaml 2>/dev/null | wc -l) -ge 2 ]"
node=$(node_of_dr)
out=$("$K" drain "$node" --ignore-daemonsets --force --disable-eviction --grace-period=1 --timeout=30s -v=8 2>&1)
check_eq "kubectl.1.32 drain --disable-eviction exits 0" 0 "$?"
check_contains "drain --disable-eviction deletes" "$out" "deleted"
check_contains "drain --disable-eviction: DELETE with a protobuf DeleteOptions" \
	"$(printf %s "$out" | grep -A8 '"DELETE"\|DELETE https' | grep -i 'content-type')" "application/vnd.kubernetes.protobuf"
left=$(a "/api/v1/pods?fieldSelector=spec.nodeName%3D$node" | jv 'len([p for p in d["items"] if p["metadata"]["name"].startswith("dr-") and not p["metadata"].get("deletionTimestamp")])')
check_eq "drain --disable-eviction: no dr pod left on $node" 0 "$left"
check "kubectl.1.32 uncordon" "$K" uncordon "$node"

cfs_done
