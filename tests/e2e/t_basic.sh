#!/bin/bash
# t_basic.sh - the filesystem contract (DESIGN.md §2) with plain tools:
# ls, cat, cp, echo, stat, find, grep, rm, mkdir, rmdir.
. "$(dirname "$0")/lib.sh"

# check_size DESC FILE: stat's size equals the bytes a read returns.  The
# controllers write the object's status on their own, so a change between
# the stat and the read is possible: a read between two equal stats must
# match.  Retries for up to 3 s while the object is changing.
check_size() {
	local i s1 b s2
	for i in $(seq 1 30); do
		s1=$(stat -c %s "$2")
		b=$(wc -c <"$2")
		s2=$(stat -c %s "$2")
		if [ "$s1" = "$s2" ]; then
			check_eq "$1" "$s1" "$b"
			return
		fi
		sleep 0.1
	done
	fail "$1" "the size never settled ($s1 / $b / $s2)"
}

cfs_start || cfs_abort "server starts and mounts $MNT"
D=$MNT/deployments

# The root

got=$(ls "$MNT" | tr '\n' ' ')
check_eq "ls shows the top-level entries" \
	"README apply configmaps deployments endpoints errors events horizontalpodautoscalers leases namespaces nodes pods replicasets secrets services status top " "$got"
readme=$(cat "$MNT/README")
check_contains "cat README explains the folders" "$readme" "deployments/"
status=$(cat "$MNT/status")
check_contains "cat status shows nodes" "$status" "nodes:"
check_contains "cat status shows pods by phase" "$status" "Running"
check_contains "cat status counts namespaces (default, kube-node-lease)" "$status" "namespaces:   2"
check_quiet "a new cluster has no deployments" ls "$D"
check_eq "a new cluster has namespaces default and kube-node-lease only" \
	"default default.yaml kube-node-lease kube-node-lease.yaml" "$(ls "$MNT/namespaces" | tr '\n' ' ' | sed 's/ $//')"

# A Deployment, as written for a real cluster, with fields clusterfs does
# not know (kept as written).

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
      annotations:
        example.com/owner: team-a
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        fooBar: baz
        ports:
        - containerPort: 80
          name: http
EOF
check "cp web.yaml deployments/ succeeds" cp "$WORK/web.yaml" "$D/"
check_eq "ls deployments shows web and web.yaml" "web web.yaml" "$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"
cat "$D/web.yaml" >"$WORK/got.yaml"
check_eq "web.yaml: metadata.name" '"web"' "$(yget "$WORK/got.yaml" metadata.name)"
check_eq "web.yaml: metadata.namespace" '"default"' "$(yget "$WORK/got.yaml" metadata.namespace)"
uid=$(yget "$WORK/got.yaml" metadata.uid)
if [[ $uid =~ ^\"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\"$ ]]; then
	ok "web.yaml: metadata.uid is a UUID ($uid)"
else
	fail "web.yaml: metadata.uid is a UUID" "got $uid"
fi
ts=$(yget "$WORK/got.yaml" metadata.creationTimestamp)
if [[ $ts =~ ^\"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z\"$ ]]; then
	ok "web.yaml: metadata.creationTimestamp is RFC 3339 ($ts)"
else
	fail "web.yaml: metadata.creationTimestamp is RFC 3339" "got $ts"
fi
rv1=$(yget "$WORK/got.yaml" metadata.resourceVersion)
if [[ $rv1 =~ ^\"[1-9][0-9]*\"$ ]]; then
	ok "web.yaml: metadata.resourceVersion is a quoted number ($rv1)"
else
	fail "web.yaml: metadata.resourceVersion is a quoted number (as Kubernetes)" "got $rv1"
fi
check_eq "web.yaml: metadata.generation 1" 1 "$(yget "$WORK/got.yaml" metadata.generation)"
check_eq "web.yaml: spec.replicas 3" 3 "$(yget "$WORK/got.yaml" spec.replicas)"
check_eq "default: strategy.type RollingUpdate" '"RollingUpdate"' "$(yget "$WORK/got.yaml" spec.strategy.type)"
check_eq "default: rollingUpdate.maxSurge 25%" '"25%"' "$(yget "$WORK/got.yaml" spec.strategy.rollingUpdate.maxSurge)"
check_eq "default: rollingUpdate.maxUnavailable 25%" '"25%"' "$(yget "$WORK/got.yaml" spec.strategy.rollingUpdate.maxUnavailable)"
check_eq "default: revisionHistoryLimit 10" 10 "$(yget "$WORK/got.yaml" spec.revisionHistoryLimit)"
check_eq "default: progressDeadlineSeconds 600" 600 "$(yget "$WORK/got.yaml" spec.progressDeadlineSeconds)"
check_eq "default: template restartPolicy Always" '"Always"' "$(yget "$WORK/got.yaml" spec.template.spec.restartPolicy)"
check_eq "default: template terminationGracePeriodSeconds 30" 30 "$(yget "$WORK/got.yaml" spec.template.spec.terminationGracePeriodSeconds)"
check_eq "default: ports[].protocol TCP" '"TCP"' "$(yget "$WORK/got.yaml" spec.template.spec.containers.0.ports.0.protocol)"
check_eq "default: imagePullPolicy IfNotPresent for a tagged image" '"IfNotPresent"' "$(yget "$WORK/got.yaml" spec.template.spec.containers.0.imagePullPolicy)"
check_eq "unknown field containers[0].fooBar kept" '"baz"' "$(yget "$WORK/got.yaml" spec.template.spec.containers.0.fooBar)"
check_eq "template annotations kept" '"team-a"' "$(yget "$WORK/got.yaml" 'spec.template.metadata.annotations.example\.com/owner')"
head3=$(head -n 3 "$WORK/got.yaml" | cut -d: -f1 | tr '\n' ' ')
check_eq "web.yaml starts with apiVersion, kind, metadata" "apiVersion kind metadata " "$head3"
check_eq "the YAML ends with a newline" "" "$(tail -c 1 "$WORK/got.yaml" | tr -d '\n')"

# The one-value files, and scaling with echo.

check_eq "cat deployments/web/replicas" 3 "$(cat "$D/web/replicas")"
check_eq "ls deployments/web lists its files" "events history pods replicas revision rollback rollout status" "$(ls "$D/web" | tr '\n' ' ' | sed 's/ $//')"
m1=$(stat -c %y "$D/web.yaml")
m1b=$(stat -c %y "$D/web.yaml")
check_eq "mtime is stable without a write (control)" "$m1" "$m1b"
sleep 0.05
if echo 5 >"$D/web/replicas"; then ok "echo 5 > replicas succeeds"; else fail "echo 5 > replicas succeeds"; fi
check_eq "cat replicas shows 5 right after the write" 5 "$(cat "$D/web/replicas")"
cat "$D/web.yaml" >"$WORK/got.yaml"
check_eq "web.yaml shows replicas: 5" 5 "$(yget "$WORK/got.yaml" spec.replicas)"
check_eq "a spec change bumps generation to 2" 2 "$(yget "$WORK/got.yaml" metadata.generation)"
rv2=$(yget "$WORK/got.yaml" metadata.resourceVersion)
if [ "${rv2//\"/}" -gt "${rv1//\"/}" ] 2>/dev/null; then
	ok "resourceVersion grows on update ($rv1 -> $rv2)"
else
	fail "resourceVersion grows on update" "before $rv1, after $rv2"
fi
check_eq "uid unchanged by an update" "$uid" "$(yget "$WORK/got.yaml" metadata.uid)"
m2=$(stat -c %y "$D/web.yaml")
if [ "$m1" != "$m2" ]; then ok "mtime of web.yaml changes after a write"; else fail "mtime of web.yaml changes after a write" "before $m1, after $m2"; fi
# The controllers may write status meanwhile: compare two stats taken together.
for i in $(seq 1 30); do
	ma=$(stat -c %y "$D/web.yaml"); mb=$(stat -c %y "$D/web/replicas"); mc=$(stat -c %y "$D/web.yaml")
	[ "$ma" = "$mc" ] && break
	sleep 0.1
done
check_eq "web/replicas mtime is the object's" "$ma" "$mb"
check_size "stat size of web.yaml = bytes read (after scaling)" "$D/web.yaml"
echo 12 >"$D/web/replicas"
check_eq "stat size of replicas = bytes read (\"12\\n\")" 3 "$(stat -c %s "$D/web/replicas")"
check_eq "cat replicas shows 12" 12 "$(cat "$D/web/replicas")"
check_size "stat size of web.yaml = bytes read (after a second scale)" "$D/web.yaml"
echo 5 >"$D/web/replicas"

# Modes and sizes as ls -l shows them.

check_eq "web.yaml is 0644" "644 regular file" "$(stat -c '%a %F' "$D/web.yaml")"
check_eq "web/replicas is 0644" "644 regular file" "$(stat -c '%a %F' "$D/web/replicas")"
check_eq "web/status is 0444" "444 regular file" "$(stat -c '%a %F' "$D/web/status")"
check_eq "/status is 0444" "444 regular file" "$(stat -c '%a %F' "$MNT/status")"
check_eq "web/ is a folder" "755 directory" "$(stat -c '%a %F' "$D/web")"
lsl=$(ls -l "$D" | awk '$NF == "web.yaml" { print $1, $5 }')
check_eq "ls -l shows -rw-r--r-- and the true size for web.yaml" "-rw-r--r-- $(cat "$D/web.yaml" | wc -c)" "$lsl"
lsl=$(ls -l "$D/web" | awk '{ print $1, $NF }' | tr '\n' ' ')
check_contains "ls -l shows -r--r--r-- for web/status" "$lsl" "-r--r--r-- status"
check_contains "ls -l shows -rw-r--r-- for web/replicas" "$lsl" "-rw-r--r-- replicas"
for f in "$D/web.yaml" "$D/web/replicas" "$D/web/status" "$D/web/revision" "$MNT/status" "$MNT/README"; do
	check_size "size of ${f#$MNT/} = wc -c" "$f"
done

# A manifest without metadata.name takes the file's name.

sed '/^  name: web$/d' "$WORK/web.yaml" >"$WORK/noname.yaml"
check_not "the nameless manifest really has no name (control)" grep -q '^  name: web$' "$WORK/noname.yaml"
check "cp a nameless manifest to deployments/api.yaml" cp "$WORK/noname.yaml" "$D/api.yaml"
check_eq "it takes the name api" '"api"' "$(yget "$D/api.yaml" metadata.name)"
check_eq "api/replicas" 3 "$(cat "$D/api/replicas")"

# A Service: type and targetPort defaults.

cat >"$WORK/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    name: http
EOF
check "cp a Service to services/web.yaml" cp "$WORK/svc.yaml" "$MNT/services/web.yaml"
cat "$MNT/services/web.yaml" >"$WORK/got.yaml"
check_eq "service: type defaults to ClusterIP" '"ClusterIP"' "$(yget "$WORK/got.yaml" spec.type)"
check_eq "service: targetPort defaults to port" 80 "$(yget "$WORK/got.yaml" spec.ports.0.targetPort)"
check_eq "service: protocol defaults to TCP" '"TCP"' "$(yget "$WORK/got.yaml" spec.ports.0.protocol)"
check_eq "service: sessionAffinity defaults to None" '"None"' "$(yget "$WORK/got.yaml" spec.sessionAffinity)"
check "services/web/clusterip is readable" cat "$MNT/services/web/clusterip"

# A ConfigMap with a multi-line value.

cat >"$WORK/cfg.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  KEY: |
    line one
      indented: "quoted"
    last line
  other: plain
EOF
check "cp a ConfigMap" cp "$WORK/cfg.yaml" "$MNT/configmaps/"
printf 'line one\n  indented: "quoted"\nlast line\n' >"$WORK/expect"
if cmp -s "$WORK/expect" "$MNT/configmaps/cfg/data/KEY"; then
	ok "configmaps/cfg/data/KEY is the value, byte for byte"
else
	fail "configmaps/cfg/data/KEY is the value, byte for byte" "got: $(od -c "$MNT/configmaps/cfg/data/KEY" | head -5)"
fi
check_eq "ls configmaps/cfg/data lists the keys" "KEY other" "$(ls "$MNT/configmaps/cfg/data" | tr '\n' ' ' | sed 's/ $//')"
check_eq "data/KEY is 0644" 644 "$(stat -c %a "$MNT/configmaps/cfg/data/KEY")"
check_eq "size of data/KEY = its bytes" "$(wc -c <"$WORK/expect")" "$(stat -c %s "$MNT/configmaps/cfg/data/KEY")"
if echo new >"$MNT/configmaps/cfg/data/KEY"; then ok "echo new > data/KEY succeeds"; else fail "echo new > data/KEY succeeds"; fi
check_eq "data/KEY reads back new" "new" "$(cat "$MNT/configmaps/cfg/data/KEY")"
check_eq "cfg.yaml shows data.KEY \"new\\n\"" '"new\n"' "$(yget "$MNT/configmaps/cfg.yaml" data.KEY)"
check_eq "the other key is untouched" '"plain"' "$(yget "$MNT/configmaps/cfg.yaml" data.other)"
check_eq "size of data/KEY after the write" 4 "$(stat -c %s "$MNT/configmaps/cfg/data/KEY")"

# A Pod.

cat >"$WORK/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels:
    app: solo
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
EOF
check "cp a Pod" cp "$WORK/pod.yaml" "$MNT/pods/p1.yaml"
check_eq "pods/p1/phase is Pending" Pending "$(cat "$MNT/pods/p1/phase")"
check_eq "pod: restartPolicy defaults to Always" '"Always"' "$(yget "$MNT/pods/p1.yaml" spec.restartPolicy)"
check_eq "pod: command kept" '["sleep", "3600"]' "$(yget "$MNT/pods/p1.yaml" spec.containers.0.command)"
check_eq "ls pods/p1" "containers events ip logs node phase status usage" "$(ls "$MNT/pods/p1" | tr '\n' ' ' | sed 's/ $//')"

# find and grep -r.

found=$(cd "$MNT" && find . -name '*.yaml' | sort | tr '\n' ' ')
for want in ./deployments/web.yaml ./deployments/api.yaml ./services/web.yaml ./configmaps/cfg.yaml ./pods/p1.yaml ./namespaces/default.yaml; do
	check_contains "find -name '*.yaml' finds $want" "$found" "$want"
done
g=$(grep -rl nginx "$D" | sort | tr '\n' ' ')
check_eq "grep -rl nginx deployments (manifests and their history; rollout never blocks grep)" \
	"$D/api.yaml $D/api/history/1.yaml $D/web.yaml $D/web/history/1.yaml " "$g"
check "grep -r finds the replicas value" grep -rqx 5 "$D/web"

# JSON and flow-style YAML.

echo '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fromjson"}, "data": {"a": "1", "b": "two"}}' >"$WORK/j.json"
check "cp a JSON manifest" cp "$WORK/j.json" "$MNT/configmaps/fromjson.yaml"
check_eq "JSON manifest applied" "two" "$(cat "$MNT/configmaps/fromjson/data/b")"
check_eq "a JSON string \"1\" stays a string" '"1"' "$(yget "$MNT/configmaps/fromjson.yaml" data.a)"
echo '{apiVersion: v1, kind: ConfigMap, metadata: {name: flow, labels: {x: y}}, data: {k: v}}' >"$WORK/flow.yaml"
check "cp a flow-style manifest" cp "$WORK/flow.yaml" "$MNT/configmaps/flow.yaml"
check_eq "flow-style manifest applied" "v" "$(cat "$MNT/configmaps/flow/data/k")"

# Multi-document apply: a namespace and objects in it.

cat >"$WORK/multi.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  namespace: team
spec:
  replicas: 2
  selector:
    matchLabels: {app: backend}
  template:
    metadata:
      labels: {app: backend}
    spec:
      containers:
      - name: app
        image: busybox:1.36
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team
data:
  mode: fast
...
EOF
check "cat multi.yaml > apply (cfs_write, close checked)" cfs_write "$MNT/apply" "$WORK/multi.yaml"
check "namespaces/team.yaml exists" test -f "$MNT/namespaces/team.yaml"
check_eq "namespaces/team/status" Active "$(cat "$MNT/namespaces/team/status")"
check_eq "namespaces/team/deployments/backend/replicas" 2 "$(cat "$MNT/namespaces/team/deployments/backend/replicas")"
check_eq "namespaces/team/configmaps/settings/data/mode" fast "$(cat "$MNT/namespaces/team/configmaps/settings/data/mode")"
check_not "backend is not in namespace default" test -e "$D/backend.yaml"
check "the apply file reads empty" test ! -s "$MNT/apply"
check_eq "apply is write-only, for anyone (0222: the API judges each document)" 222 "$(stat -c %a "$MNT/apply")"
if echo 4 >"$MNT/namespaces/team/deployments/backend/replicas"; then ok "scale in namespace team"; else fail "scale in namespace team"; fi
check_eq "namespaced scale applied" 4 "$(yget "$MNT/namespaces/team/deployments/backend.yaml" spec.replicas)"
check_eq "ls namespaces/team" "apply configmaps deployments endpoints events horizontalpodautoscalers leases pods replicasets secrets services status" "$(ls "$MNT/namespaces/team" | tr '\n' ' ' | sed 's/ $//')"

# mkdir / rmdir of namespaces.

check "mkdir namespaces/prod" mkdir "$MNT/namespaces/prod"
check "namespaces/prod.yaml exists" test -f "$MNT/namespaces/prod.yaml"
check_eq "prod is a Namespace" '"Namespace"' "$(yget "$MNT/namespaces/prod.yaml" kind)"
check "cp web.yaml into namespaces/prod/deployments/" cp "$WORK/web.yaml" "$MNT/namespaces/prod/deployments/"
check_eq "namespaces/prod/deployments/web.yaml is in namespace prod" '"prod"' "$(yget "$MNT/namespaces/prod/deployments/web.yaml" metadata.namespace)"
check_eq "prod's web has its own replicas (3), default's stays 5" "3 5" "$(cat "$MNT/namespaces/prod/deployments/web/replicas") $(cat "$D/web/replicas")"
cp "$WORK/cfg.yaml" "$MNT/namespaces/prod/configmaps/"
check "rmdir namespaces/prod" rmdir "$MNT/namespaces/prod"
check_not "namespaces/prod.yaml is gone" test -e "$MNT/namespaces/prod.yaml"
check_not "namespaces/prod/ is gone" test -e "$MNT/namespaces/prod"
check "default's web is still there" test -f "$D/web.yaml"
check "mkdir namespaces/prod again" mkdir "$MNT/namespaces/prod"
check_quiet "the new prod has no deployments (all deleted)" ls "$MNT/namespaces/prod/deployments"
check_quiet "the new prod has no configmaps (all deleted)" ls "$MNT/namespaces/prod/configmaps"
expect_errno EPERM "rmdir namespaces/default" rmdir "$MNT/namespaces/default"
check "namespace default survives" test -f "$MNT/namespaces/default.yaml"
expect_errno EEXIST "mkdir namespaces/team (exists)" mkdir "$MNT/namespaces/team"

# rm deletes.

check "rm deployments/api.yaml" rm "$D/api.yaml"
expect_errno ENOENT "cat deployments/api.yaml after rm" cat "$D/api.yaml"
check_not "api/ is gone too" test -e "$D/api"
check_eq "ls deployments after rm" "web web.yaml" "$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"
check "rm deployments/web.yaml" rm "$D/web.yaml"
expect_errno ENOENT "cat deployments/web.yaml after rm" cat "$D/web.yaml"
expect_errno ENOENT "rm of a missing object" rm "$D/web.yaml"

check "the server is still running" cfs_alive
check_stop
cfs_done
