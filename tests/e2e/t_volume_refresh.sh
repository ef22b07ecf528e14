#!/bin/bash
# t_volume_refresh.sh - volumes that follow their source (issue 14), with
# a node agent: a busybox pod mounting
#   - a configMap volume (and one of its keys again through a subPath),
#   - a projected volume of a Secret's item, a ConfigMap's item and the
#     downward API (name, labels, a label, limits.memory) with defaultMode,
#   - a downwardAPI volume, an emptyDir, a subPath of that emptyDir and a
#     subPathExpr (logs/$(POD_NAME), the variable from the downward API);
# the files hold the values, ..data is a link into the swapped folder, the
# projected volume is a tmpfs; then the ConfigMap, the Secret and a label
# change, and within 60 s the running pod sees every new value, but for
# the subPath mount, which keeps the value it started with (as in
# Kubernetes).  A subPath through a symlink an init container made to /etc
# is refused (the pod does not start with the host's /etc).  Projected
# validation (duplicate paths, serviceAccountToken) is refused through the
# filesystem.
# e2e-time-limit: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
trap cfs_cleanup EXIT

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-volref || cfs_abort "server with an agent starts"
http_env
K=$(kubectl_newest)

"$K" create configmap cfg --from-literal=color=red --from-literal=size=small >/dev/null 2>&1
"$K" create secret generic sec --from-literal=token=one >/dev/null 2>&1
cat >"$WORK/vr.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: vr
  labels: {tier: a, app: vr}
spec:
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    resources: {limits: {memory: 64Mi}}
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts:
    - {name: cm, mountPath: /cm}
    - {name: cm, mountPath: /cm-sub/color, subPath: color}
    - {name: proj, mountPath: /p}
    - {name: dapi, mountPath: /d}
    - {name: scratch, mountPath: /e}
    - {name: scratch, mountPath: /e2, subPath: sub/dir}
    - {name: scratch, mountPath: /e3, subPathExpr: "logs/$(POD_NAME)"}
  volumes:
  - name: cm
    configMap: {name: cfg}
  - name: proj
    projected:
      defaultMode: 0440
      sources:
      - secret: {name: sec, items: [{key: token, path: s/token}]}
      - configMap: {name: cfg, items: [{key: color, path: c/color, mode: 0400}]}
      - configMap: {name: nosuch, optional: true}
      - downwardAPI:
          items:
          - {path: name, fieldRef: {fieldPath: metadata.name}}
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: tier, fieldRef: {fieldPath: "metadata.labels['tier']"}}
          - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
  - name: dapi
    downwardAPI:
      items:
      - {path: ns, fieldRef: {fieldPath: metadata.namespace}}
  - name: scratch
    emptyDir: {}
Y
cfs_write "$MNT/pods/vr.yaml" "$WORK/vr.yaml" >/dev/null
out=$("$K" wait --for=condition=Ready pod/vr --timeout=90s 2>&1)
check_contains "the pod with configMap, projected and downwardAPI volumes runs" "$out" "condition met"
x() { "$K" exec vr -- "$@" 2>&1; }
check_eq "configMap volume: color" "red" "$(x cat /cm/color)"
check_eq "configMap volume: ..data is a link" "l" "$(x stat -c %A /cm/..data | cut -c1)"
check_eq "configMap volume: a key is a link into ..data" "..data/color" "$(x readlink /cm/color)"
check_eq "subPath of the configMap volume" "red" "$(x cat /cm-sub/color)"
check_eq "projected: the Secret's item" "one" "$(x cat /p/s/token)"
check_eq "projected: the ConfigMap's item" "red" "$(x cat /p/c/color)"
check_eq "projected: metadata.name" "vr" "$(x cat /p/name)"
check_eq "projected: metadata.labels, sorted, quoted" 'app="vr"
tier="a"' "$(x cat /p/labels)"
check_eq "projected: a label" "a" "$(x cat /p/tier)"
check_eq "projected: limits.memory in Mi" "64" "$(x cat /p/mem)"
check_eq "projected: defaultMode" "440" "$(x stat -L -c %a /p/s/token)"
check_eq "projected: an item's mode" "400" "$(x stat -L -c %a /p/c/color)"
check_contains "projected: a tmpfs" "$(x grep ' /p ' /proc/mounts)" "tmpfs"
check_eq "downwardAPI volume: metadata.namespace" "default" "$(x cat /d/ns)"
check_eq "emptyDir subPath: a write shows in the volume" "hi" \
	"$(x sh -c 'echo hi >/e2/f && cat /e/sub/dir/f')"
check_eq "emptyDir subPathExpr logs/\$(POD_NAME): logs/vr" "x" \
	"$(x sh -c 'echo x >/e3/f && cat /e/logs/vr/f')"
check_contains "a read-only volume" "$(x sh -c 'echo x >/cm/new' 2>&1)" "Read-only"

# the sources change; the running pod follows (but for the subPath)
wait_values() { # FILES WANT: polls until the files read WANT (60 s at most)
	local t0 i=0
	t0=$(date +%s)
	got=""
	while [ $i -lt 60 ]; do
		got=$(x sh -c "for f in $1; do cat \$f; echo; done" | tr '\n' ' ')
		[ "$got" = "$2" ] && break
		sleep 2
		i=$(($(date +%s) - t0))
	done
	waited=$i
}
"$K" patch configmap cfg -p '{"data":{"color":"blue"}}' >/dev/null 2>&1
printf %s two >"$MNT/secrets/sec/token"
wait_values "/cm/color /p/c/color /p/s/token" "blue blue two "
check_eq "within 60 s the pod sees the ConfigMap's and the Secret's new values (${waited} s)" \
	"blue blue two " "$got"
"$K" label pod vr tier=b --overwrite >/dev/null 2>&1
wait_values "/p/tier" "b "
check_eq "and a new label in its downward API files (${waited} s)" "b " "$got"
check_contains "projected labels follow too" "$(x cat /p/labels)" 'tier="b"'
check_eq "the subPath mount keeps the value it started with" "red" "$(x cat /cm-sub/color)"
vol=$(ls -d "$DATA"/pods/*/volumes/cm 2>/dev/null | head -n 1)
check_eq "one ..HASH folder left in the configMap volume" "1" \
	"$(ls -a "$vol" | grep -c '^\.\.[0-9a-f]\{16\}$')" || ls -laR "$vol" | sed 's/^/# /'

check_eq "on the node the projected volume is a tmpfs" "tmpfs" \
	"$(stat -f -c %T "$(dirname "$vol")/proj" 2>&1)"

# a subPath through a symlink out of the volume: refused
cat >"$WORK/esc.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: esc}
spec:
  initContainers:
  - {name: i, image: "busybox:latest", command: ["ln", "-s", "/etc", "/e/link"], volumeMounts: [{name: e, mountPath: /e}]}
  containers:
  - {name: c, image: "busybox:latest", command: ["sleep", "3600"], volumeMounts: [{name: e, mountPath: /x, subPath: link}]}
  volumes:
  - {name: e, emptyDir: {}}
Y
cfs_write "$MNT/pods/esc.yaml" "$WORK/esc.yaml" >/dev/null
ev="" i=0
while [ $i -lt 40 ]; do
	ev=$(cat "$MNT/pods/esc/events" 2>&1)
	case "$ev" in *"outside the volume"*) break ;; esac
	sleep 1
	i=$((i + 1))
done
check_contains "a subPath through a link to /etc: outside the volume" "$ev" "outside the volume"
check_not_contains "the container never ran" \
	"$("$K" get pod esc -o jsonpath='{.status.containerStatuses[0].state}' 2>&1)" "running"

# validation through the filesystem
sed -e 's/name: vr$/name: dup/' -e 's|path: c/color|path: s/token|' "$WORK/vr.yaml" >"$WORK/dup.yaml"
expect_refusal EINVAL 'conflicting duplicate paths' "a projected volume with a duplicate path" \
	cfs_write "$MNT/pods/dup.yaml" "$WORK/dup.yaml"
sed -e 's/name: vr$/name: sat/' -e 's|- secret: {name: sec, items: \[{key: token, path: s/token}\]}|- serviceAccountToken: {path: token}|' \
	"$WORK/vr.yaml" >"$WORK/sat.yaml"
expect_refusal EINVAL 'it issues no service account tokens' "serviceAccountToken refused" \
	cfs_write "$MNT/pods/sat.yaml" "$WORK/sat.yaml"

cfs_done
