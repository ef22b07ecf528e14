#!/bin/bash
# t_names.sh - manifests whose file name is not their object's name (the
# Kubernetes docs' exec-liveness.yaml holds Pod liveness-exec), copied
# into the kind folders as a newcomer would; namespaces/NS/apply and
# namespaces/NS/events; a deleted namespace listed as Terminating until
# its pods are gone; and the promises a first hour tries: a shell
# redirect is not a refused write, mv NAME.yaml NAME.yaml~ keeps every
# listed name stat-able, reading a failed rollout is not a refused write,
# NAME/events shows only the object's own events (by uid), and messages
# name the real mount point.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_start --hollow-nodes 1 || cfs_abort "server starts with --hollow-nodes 1"
P=$MNT/pods
W=$WORK

# The Kubernetes docs' manifests, named after what they show.
cat >"$W/exec-liveness.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      initialDelaySeconds: 5
      periodSeconds: 5
EOF
cat >"$W/envars.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: envar-demo
  labels:
    purpose: demonstrate-envars
spec:
  containers:
  - name: envar-demo-container
    image: gcr.io/google-samples/hello-app:2.0
    env:
    - name: DEMO_GREETING
      value: "Hello from the environment"
EOF
cat >"$W/nginx-deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
EOF
cat >"$W/configmap-multikeys.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: special-config
  namespace: default
data:
  SPECIAL_LEVEL: very
  SPECIAL_TYPE: charm
EOF
cat >"$W/service.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
EOF

# listed DIR: the names ls shows in DIR, space-separated.
listed() { ls "$1" | tr '\n' ' ' | sed 's/ $//'; }
# bare_pods: the names in pods/ but the Deployment's pods (nginx-*).
bare_pods() { ls "$P" | grep -v '^nginx-' | tr '\n' ' ' | sed 's/ $//'; }
# all_statable DIR: every name ls lists in DIR can be stat'ed.
all_statable() {
	local f bad=""
	for f in $(ls "$1"); do
		stat "$1/$f" >/dev/null 2>&1 || bad="$bad $f"
	done
	[ -z "$bad" ] || { echo "not stat-able:$bad"; return 1; }
}
# refused_count: the number in status's "warnings: N refused writes", or 0.
refused_count() {
	sed -n 's/^warnings: *\([0-9]*\) refused write.*/\1/p' "$MNT/status" | grep . || echo 0
}

# --- 1. cp FILE KIND/: applied under metadata.name, as kubectl apply -f ------

n0=$(errors_lines)
check "cp exec-liveness.yaml pods/ (Pod liveness-exec)" cp "$W/exec-liveness.yaml" "$P/"
check "cp envars.yaml pods/ (Pod envar-demo), written with open/write/close" cfs_write "$P/envars.yaml" "$W/envars.yaml"
check "cp nginx-deployment.yaml deployments/ (Deployment nginx)" cp "$W/nginx-deployment.yaml" "$MNT/deployments/"
check "cp configmap-multikeys.yaml configmaps/ (ConfigMap special-config)" cp "$W/configmap-multikeys.yaml" "$MNT/configmaps/"
check "cp service.yaml services/ (Service my-service)" cp "$W/service.yaml" "$MNT/services/"
check_eq "nothing was refused" "" "$(errors_since "$n0")"
check_eq "ls pods: the objects' names, not the files'" "envar-demo envar-demo.yaml liveness-exec liveness-exec.yaml" "$(bare_pods)"
check_eq "ls deployments" "nginx nginx.yaml" "$(listed "$MNT/deployments")"
check_eq "ls configmaps" "special-config special-config.yaml" "$(listed "$MNT/configmaps")"
check_eq "ls services" "my-service my-service.yaml" "$(listed "$MNT/services")"
for f in pods/exec-liveness.yaml pods/envars.yaml deployments/nginx-deployment.yaml configmaps/configmap-multikeys.yaml services/service.yaml; do
	check_not "stat $f: the written name is not there" stat "$MNT/$f"
	check_not "cat $f: the written name is not there" cat "$MNT/$f"
done
check "every listed name in pods/ is stat-able" all_statable "$P"
check_eq "cat pods/liveness-exec.yaml: its name" '"liveness-exec"' "$(yget "$P/liveness-exec.yaml" metadata.name)"
check_eq "...its command, as written" '"cat"' "$(yget "$P/liveness-exec.yaml" spec.containers.0.livenessProbe.exec.command.0)"
check_eq "configmaps/special-config/data/SPECIAL_LEVEL" very "$(cat "$MNT/configmaps/special-config/data/SPECIAL_LEVEL")"
check "pods/liveness-exec/phase is readable" cat "$P/liveness-exec/phase"
ev=$(cat "$MNT/events")
check_contains "events: the apply of exec-liveness.yaml as liveness-exec" "$ev" "pod/liveness-exec pods/exec-liveness.yaml applied as liveness-exec"
check_contains "events: the apply of service.yaml as my-service" "$ev" "service/my-service services/service.yaml applied as my-service"
check_contains "pods/liveness-exec/events has it too" "$(cat "$P/liveness-exec/events")" "exec-liveness.yaml"
# Applied again under the other name: an update of the same object.
sed 's/test: liveness/test: liveness2/' "$W/exec-liveness.yaml" >"$W/exec-liveness2.yaml"
check "cp again (changed label) under the file name: updates liveness-exec" cp "$W/exec-liveness2.yaml" "$P/exec-liveness.yaml"
check_eq "...the label changed" '"liveness2"' "$(yget "$P/liveness-exec.yaml" metadata.labels.test)"
check_eq "...still one pod of that name, no exec-liveness" "envar-demo envar-demo.yaml liveness-exec liveness-exec.yaml" "$(bare_pods)"
# In a namespace's folder too.
check "mkdir namespaces/prod" mkdir "$MNT/namespaces/prod"
sed '/namespace: default/d' "$W/configmap-multikeys.yaml" >"$W/cm-nons.yaml"
check "cp configmap-multikeys.yaml (no namespace) namespaces/prod/configmaps/" cp "$W/cm-nons.yaml" "$MNT/namespaces/prod/configmaps/configmap-multikeys.yaml"
check_eq "ls namespaces/prod/configmaps" "special-config special-config.yaml" "$(listed "$MNT/namespaces/prod/configmaps")"

# --- 1. refusals: a rename is not an update; the wrong kind --------------------

n0=$(errors_lines)
expect_errno EINVAL "cp exec-liveness.yaml over pods/envar-demo.yaml (an existing object)" cp "$W/exec-liveness.yaml" "$P/envar-demo.yaml"
new=$(errors_since "$n0")
check_contains "errors: names the path and EINVAL" "$new" "$MNT/pods/envar-demo.yaml: EINVAL: "
check_contains "errors: says a rename is not an update" "$new" "metadata.name does not match the file name"
check_contains "errors: says to cp it as a new file" "$new" "cp it as a new file"
check_contains "errors: or to write it to apply, at the real mount" "$new" "$MNT/apply"
check_eq "envar-demo is unchanged" '"envar-demo-container"' "$(yget "$P/envar-demo.yaml" spec.containers.0.name)"
check_eq "and no pod was added" "envar-demo envar-demo.yaml liveness-exec liveness-exec.yaml" "$(bare_pods)"
n0=$(errors_lines)
expect_errno EINVAL "cp nginx-deployment.yaml pods/ (a Deployment in pods/)" cp "$W/nginx-deployment.yaml" "$P/"
new=$(errors_since "$n0")
check_contains "errors: names the right folder, at the real mount" "$new" "$MNT/deployments/"
check_contains "errors: and apply" "$new" "$MNT/apply"
check_not "no pods/nginx-deployment.yaml" stat "$P/nginx-deployment.yaml"
n0=$(errors_lines)
expect_errno EINVAL "a Deployment in namespaces/prod/pods/" cp "$W/nginx-deployment.yaml" "$MNT/namespaces/prod/pods/"
check_contains "errors: names namespaces/prod/deployments/" "$(errors_since "$n0")" "$MNT/namespaces/prod/deployments/"
# No metadata.name: the file's name.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\ndata:\n  k: v\n' >"$W/noname.yaml"
check_eq "control: noname.yaml has no metadata.name" "<missing>" "$(yget "$W/noname.yaml" metadata.name)"
check "cp noname.yaml configmaps/from-file.yaml" cp "$W/noname.yaml" "$MNT/configmaps/from-file.yaml"
check_eq "...takes the file's name" '"from-file"' "$(yget "$MNT/configmaps/from-file.yaml" metadata.name)"
# Messages name the real mount point, never /cluster.
n0=$(errors_lines)
{ cat "$W/cm-nons.yaml"; echo ---; cat "$W/noname.yaml"; } >"$W/two.yaml"
expect_errno EINVAL "two documents in one NAME.yaml" cp "$W/two.yaml" "$MNT/configmaps/two.yaml"
check_contains "errors: write several to apply, at the real mount" "$(errors_since "$n0")" "write several to $MNT/apply"
check_contains "README's examples use the real mount" "$(cat "$MNT/README")" "cp web.yaml $MNT/deployments/"
if [ "$MNT" != /cluster ]; then
	check_not_contains "errors never names /cluster/" "$(cat "$MNT/errors")" "/cluster/"
fi

# --- 1. namespaces/NS/apply and namespaces/NS/events ---------------------------

check_contains "ls namespaces/prod shows apply" " $(listed "$MNT/namespaces/prod") " " apply "
check_contains "ls namespaces/prod shows events" " $(listed "$MNT/namespaces/prod") " " events "
{
	sed 's/name: nginx$/name: web/; s/app: nginx/app: web/' "$W/nginx-deployment.yaml"
	echo ---
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bundle-cfg\ndata:\n  a: b\n'
} >"$W/bundle.yaml"
check "cat bundle.yaml > namespaces/prod/apply" sh -c "cat '$W/bundle.yaml' > '$MNT/namespaces/prod/apply'"
check "...the Deployment is in prod" test -f "$MNT/namespaces/prod/deployments/web.yaml"
check "...the ConfigMap is in prod" test -f "$MNT/namespaces/prod/configmaps/bundle-cfg.yaml"
check_not "...and not in default" test -e "$MNT/deployments/web.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: default\ndata:\n  a: b\n' >"$W/elsewhere.yaml"
n0=$(errors_lines)
expect_errno EINVAL "a document naming namespace default, to namespaces/prod/apply" cfs_write "$MNT/namespaces/prod/apply" "$W/elsewhere.yaml"
check_contains "errors: names the path" "$(errors_since "$n0")" "$MNT/namespaces/prod/apply: EINVAL: "
check_not "...elsewhere was not made in default" test -e "$MNT/configmaps/elsewhere.yaml"
expect_errno EACCES "cat namespaces/prod/apply (write-only)" cat "$MNT/namespaces/prod/apply"
check "namespaces/prod/events shows prod's events" wait_until 20 grep -q 'prod/deployment/web ' "$MNT/namespaces/prod/events"
check_not "...and none of default's" grep -q ' pod/liveness-exec ' "$MNT/namespaces/prod/events"
check_eq "namespaces/prod/status: Active" Active "$(cat "$MNT/namespaces/prod/status")"

# --- 6. a shell redirect is not a refused write --------------------------------

n0=$(errors_lines)
c0=$(refused_count)
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: redir\ndata:\n  k: v1\n' >"$W/redir.yaml"
check "cat redir.yaml > configmaps/redir.yaml (new)" sh -c "cat '$W/redir.yaml' > '$MNT/configmaps/redir.yaml'"
check_eq "...applied" v1 "$(cat "$MNT/configmaps/redir/data/k")"
check "sed s/k: v1/k: v2/ redir.yaml > configmaps/redir.yaml (existing)" sh -c "sed 's/k: v1/k: v2/' '$W/redir.yaml' > '$MNT/configmaps/redir.yaml'"
check_eq "...applied" v2 "$(cat "$MNT/configmaps/redir/data/k")"
check "sh -c 'cat > configmaps/redir.yaml' < redir.yaml" sh -c "sh -c 'cat > \"$MNT/configmaps/redir.yaml\"' < '$W/redir.yaml'"
check_eq "...applied" v1 "$(cat "$MNT/configmaps/redir/data/k")"
sleep 0.5
check_eq "errors: nothing added by the redirects" "" "$(errors_since "$n0")"
check_eq "status: the refused count did not move" "$c0" "$(refused_count)"
check_not "no FailedWrite event about redir" grep -q 'FailedWrite configmap/redir ' "$MNT/events"

# --- 6. mv NAME.yaml NAME.yaml~ keeps every listed name stat-able -------------

check "mv configmaps/redir.yaml configmaps/redir.yaml~" mv "$MNT/configmaps/redir.yaml" "$MNT/configmaps/redir.yaml~"
check "every name ls lists in configmaps/ is stat-able" all_statable "$MNT/configmaps"
check_not "ls -l shows no ?????????" grep -q '?' <(ls -l "$MNT/configmaps" 2>&1)
check_eq "the object stays as it is" v1 "$(cat "$MNT/configmaps/redir/data/k")"
check_eq "redir.yaml~ holds the manifest" '"redir"' "$(yget "$MNT/configmaps/redir.yaml~" metadata.name)"
check "rm redir.yaml~" rm "$MNT/configmaps/redir.yaml~"
check "redir.yaml is there after" stat "$MNT/configmaps/redir.yaml"
check "every name ls lists in configmaps/ is stat-able after" all_statable "$MNT/configmaps"

# --- 6. NAME/events: only this object's, by uid -------------------------------

sed 's/replicas: 2/replicas: 1/; s/nginx:1.14.2/nginx:1.16.1/' "$W/nginx-deployment.yaml" >"$W/nginx-1.yaml"
check "deployments/nginx/events: its scaling" wait_until 20 grep -q 'to 2' "$MNT/deployments/nginx/events"
check "rm deployments/nginx.yaml" rm "$MNT/deployments/nginx.yaml"
check "...gone" wait_until 20 test ! -e "$MNT/deployments/nginx.yaml"
check "cp it again (1 replica, another image) as nginx-deployment.yaml" cp "$W/nginx-1.yaml" "$MNT/deployments/nginx-deployment.yaml"
check "deployments/nginx/events: the new one's scaling" wait_until 20 grep -q 'to 1' "$MNT/deployments/nginx/events"
check_not "...and none of its predecessor's" grep -q 'to 2' "$MNT/deployments/nginx/events"

# --- 6. reading a failed rollout is not a refused write ------------------------

cat >"$W/stall.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: stall
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels:
      app: stall
  template:
    metadata:
      labels:
        app: stall
      annotations:
        hollow.clusterfs.io/ready: "false"
    spec:
      containers:
      - name: c
        image: busybox:1.36
EOF
check "cp stall.yaml (never ready, progressDeadlineSeconds 2)" cp "$W/stall.yaml" "$MNT/deployments/"
n0=$(errors_lines)
c0=$(refused_count)
for i in 1 2; do
	out=$(timeout 30 cat "$MNT/deployments/stall/rollout" 2>&1)
	check_contains "cat deployments/stall/rollout fails with ETIMEDOUT (read $i)" "$out" "Connection timed out"
done
check_eq "errors: no line for the reads" "" "$(errors_since "$n0")"
check_eq "status: the refused count did not move" "$c0" "$(refused_count)"

# --- 1. a deleted namespace stays, Terminating, until its pods are gone -------

printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: slow\nspec:\n  nodeName: hollow-1\n  terminationGracePeriodSeconds: 60\n  containers:\n  - name: c\n    image: busybox:1.36\n' >"$W/slow.yaml"
check "a pod on hollow-1 in prod" cp "$W/slow.yaml" "$MNT/namespaces/prod/pods/"
check "...Running" wait_until 20 grep -qx Running "$MNT/namespaces/prod/pods/slow/phase"
# A paused hollow node is a kubelet that does not answer: its pods are
# marked for deletion and stay until it comes back.
"$PY" -c '
import sys, yaml
o = yaml.safe_load(open(sys.argv[1]))
md = o["metadata"]
md["annotations"] = md.get("annotations") or {}
md["annotations"]["hollow.clusterfs.io/paused"] = sys.argv[3]
o.pop("status", None)
yaml.safe_dump(o, open(sys.argv[2], "w"))' "$MNT/nodes/hollow-1.yaml" "$W/paused.yaml" true
check "pause hollow-1" cp "$W/paused.yaml" "$MNT/nodes/hollow-1.yaml"
check "rmdir namespaces/prod" rmdir "$MNT/namespaces/prod"
check_contains "ls namespaces: prod is still listed" " $(listed "$MNT/namespaces") " " prod "
check_eq "namespaces/prod/status: Terminating" Terminating "$(cat "$MNT/namespaces/prod/status")"
check_eq "prod.yaml: status.phase Terminating" '"Terminating"' "$(yget "$MNT/namespaces/prod.yaml" status.phase)"
check_not "prod.yaml: a deletionTimestamp" test "<missing>" = "$(yget "$MNT/namespaces/prod.yaml" metadata.deletionTimestamp)"
check "the pod is still there, being deleted" test -f "$MNT/namespaces/prod/pods/slow.yaml"
check_not "...the rest of prod is gone" test -e "$MNT/namespaces/prod/deployments/web.yaml"
expect_errno EPERM "nothing new in a Terminating namespace" cfs_write "$MNT/namespaces/prod/configmaps/late.yaml" "$W/noname.yaml"
sleep 3
check_eq "3 s later prod is still Terminating" Terminating "$(cat "$MNT/namespaces/prod/status")"
"$PY" -c '
import sys, yaml
o = yaml.safe_load(open(sys.argv[1]))
o["metadata"]["annotations"].pop("hollow.clusterfs.io/paused", None)
o.pop("status", None)
yaml.safe_dump(o, open(sys.argv[2], "w"))' "$MNT/nodes/hollow-1.yaml" "$W/resumed.yaml"
check "resume hollow-1" cp "$W/resumed.yaml" "$MNT/nodes/hollow-1.yaml"
check "the pod goes" wait_until 20 test ! -e "$MNT/namespaces/prod/pods/slow.yaml"
check "then prod goes" wait_until 20 test ! -e "$MNT/namespaces/prod.yaml"
check_not_contains "ls namespaces: prod is not listed" " $(listed "$MNT/namespaces") " " prod "

cfs_done
