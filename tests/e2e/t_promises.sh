#!/bin/bash
# t_promises.sh - promises of README.md and docs/filesystem.md that no
# other test kept to account, each against a real server (one hollow
# node, no containers): rmdir KIND/NAME; rm namespaces/NS.yaml; kind and
# apiVersion taken from the folder; EEXIST on an O_EXCL create; the scratch
# file kept after a refused rename; a rollout reader's ENOENT when its
# Deployment is deleted; the size cap of errors; events and
# nodes/N/pods naming NS/... objects; publishNotReadyAddresses;
# allocateLoadBalancerNodePorts: false; unschedulable accepting true and
# false; `clusterfs image ls`; two servers side by side.  (A Service of
# another namespace resolving as web.NS, and enableServiceLinks: false,
# need real containers: t_net.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
D=$MNT/deployments
RSD=$MNT/replicasets
S=$MNT/services
N=$MNT/nodes
C=$MNT/configmaps

cfs_import_busybox || cfs_abort "importing the busybox image failed"
cfs_start --hollow-nodes 1 || cfs_abort "server starts with one hollow node"
wait_until 10 test -f "$N/hollow-1.yaml" || cfs_abort "hollow-1 registers"

cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: %s\n' "$1" "${2:-v}"; }
not_alive() { ! cfs_alive "$1"; }

# --- rmdir KIND/NAME deletes the object as rm NAME.yaml does -------------------
cm gone >"$WORK/gone.yaml"
check "a ConfigMap to rmdir" cp "$WORK/gone.yaml" "$C/"
check "rmdir configmaps/gone" rmdir "$C/gone"
check_not "configmaps/gone.yaml is gone" test -e "$C/gone.yaml"
check_not "configmaps/gone/ is gone" test -e "$C/gone"
web_deployment web 2 >"$WORK/web.yaml"
check "a Deployment with 2 pods" cp "$WORK/web.yaml" "$D/"
check "its ReplicaSet and 2 pods are made" wait_until 20 sh -c "[ \$(ls '$P' | grep -c '^web-.*\.yaml\$') = 2 ] && ls '$RSD' | grep -q '^web-'"
check "rmdir deployments/web" rmdir "$D/web"
check_not "deployments/web.yaml is gone" test -e "$D/web.yaml"
check "its ReplicaSet and pods go with it (ownerReferences)" wait_until 20 sh -c "! ls '$RSD' '$P' | grep -q '^web-'"

# --- rm namespaces/NS.yaml deletes the namespace and all in it -----------------
check "mkdir namespaces/doomed" mkdir "$MNT/namespaces/doomed"
check "a ConfigMap in it" cp "$WORK/gone.yaml" "$MNT/namespaces/doomed/configmaps/"
check "rm namespaces/doomed.yaml" rm "$MNT/namespaces/doomed.yaml"
check "the namespace goes" wait_until 20 sh -c "! test -e '$MNT/namespaces/doomed.yaml' && ! test -e '$MNT/namespaces/doomed'"

# --- kind and apiVersion taken from the folder ----------------------------------
printf 'metadata:\n  name: bare\ndata:\n  k: v\n' >"$WORK/bare.yaml"
check "a manifest with no kind and no apiVersion in configmaps/" cp "$WORK/bare.yaml" "$C/bare.yaml"
check_eq "it is a ConfigMap of v1" '"ConfigMap" "v1"' "$(yget "$C/bare.yaml" kind) $(yget "$C/bare.yaml" apiVersion)"
web_deployment bare 1 | sed '/^apiVersion:/d; /^kind:/d' >"$WORK/bare-deploy.yaml"
check "control: bare-deploy.yaml has no kind" sh -c "! grep -q '^kind:' '$WORK/bare-deploy.yaml'"
check "the same in deployments/" cp "$WORK/bare-deploy.yaml" "$D/bare.yaml"
check_eq "it is a Deployment of apps/v1" '"Deployment" "apps/v1"' "$(yget "$D/bare.yaml" kind) $(yget "$D/bare.yaml" apiVersion)"
check "rm deployments/bare.yaml" rm "$D/bare.yaml"

# --- EEXIST on an O_EXCL create -------------------------------------------------
# excl PATH FILE: open(O_WRONLY|O_CREAT|O_EXCL), write FILE, close; prints
# OK or the errno's name.
excl() {
	"$PY" -c '
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, open(sys.argv[2], "rb").read())
    os.close(fd)
except OSError as e:
    print(errno.errorcode.get(e.errno, "E?")); sys.exit(1)
print("OK")' "$@"
}
cm excl v1 >"$WORK/excl.yaml"
check_eq "O_EXCL create of a new name: applied" OK "$(excl "$C/excl.yaml" "$WORK/excl.yaml")"
check_eq "... as written" v1 "$(cat "$C/excl/data/k")"
cm excl v2 >"$WORK/excl2.yaml"
check_eq "O_EXCL create of an existing object's file: EEXIST" EEXIST "$(excl "$C/excl.yaml" "$WORK/excl2.yaml")"
check_eq "... and the object is as it was" v1 "$(cat "$C/excl/data/k")"

# --- a refused rename keeps the scratch file ------------------------------------
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: excl\ndata: [unclosed\n' >"$WORK/bad.yaml"
check "write a bad manifest to a scratch file (excl.yaml.tmp)" cp "$WORK/bad.yaml" "$C/excl.yaml.tmp"
check_eq "control: the scratch file is not applied" v1 "$(cat "$C/excl/data/k")"
n=$(errors_lines)
out=$(cfs_rename "$C/excl.yaml.tmp" "$C/excl.yaml")
check_contains "renaming it onto excl.yaml is refused with EINVAL" "$out" "EINVAL"
check_contains "errors says why" "$(errors_since "$n")" "$C/excl.yaml: EINVAL: "
check "the scratch file stays" test -f "$C/excl.yaml.tmp"
check "with its content" cmp "$WORK/bad.yaml" "$C/excl.yaml.tmp"
check_eq "excl is as it was" v1 "$(cat "$C/excl/data/k")"
check "control: a good scratch file renamed onto excl.yaml applies" sh -c "cp '$WORK/excl2.yaml' '$C/excl.yaml.tmp' && mv '$C/excl.yaml.tmp' '$C/excl.yaml'"
check_eq "control: ... v2" v2 "$(cat "$C/excl/data/k")"
check_not "control: ... and the scratch file is gone" test -e "$C/excl.yaml.tmp"

# --- a rollout reader gets ENOENT when its Deployment is deleted ----------------
# A Deployment whose pods never turn Ready: its rollout never completes.
web_deployment slow 1 | sed 's/^      labels:$/      annotations: {hollow.clusterfs.io\/ready: "false"}\n      labels:/' >"$WORK/slow.yaml"
check_eq "control: slow's pods are annotated never-ready" '"false"' "$(yget "$WORK/slow.yaml" 'spec.template.metadata.annotations.hollow\.clusterfs\.io/ready')"
check "cp slow.yaml" cp "$WORK/slow.yaml" "$D/"
"$PY" -c '
import errno, os, sys
f = open(sys.argv[1], "rb", buffering=0)
out = open(sys.argv[2], "w", buffering=1)
try:
    while True:
        b = f.read(4096)
        if not b:
            out.write("EOF\n"); break
        out.write(b.decode())
except OSError as e:
    out.write("%s\n" % errno.errorcode.get(e.errno, "E?"))
' "$D/slow/rollout" "$WORK/rollout.out" &
reader=$!
cfs_bg $reader
check "the reader prints progress and waits" wait_until 20 grep -q 'Waiting for deployment "slow"' "$WORK/rollout.out"
check "the reader is still waiting" kill -0 $reader
check "rm deployments/slow.yaml" rm "$D/slow.yaml"
check "the reader ends" wait_until 20 not_alive $reader
check_eq "its read failed with ENOENT" ENOENT "$(tail -n 1 "$WORK/rollout.out")"

# --- events and nodes/N/pods name objects outside default as NS/... -------------
check "mkdir namespaces/prod" mkdir "$MNT/namespaces/prod"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\nspec:\n  containers:\n  - name: c\n    image: busybox\n' >"$WORK/p1.yaml"
check "a pod in prod" cp "$WORK/p1.yaml" "$MNT/namespaces/prod/pods/"
check "it is bound to hollow-1" wait_until 20 sh -c "[ \"\$(cat '$MNT/namespaces/prod/pods/p1/node')\" = hollow-1 ]"
check "nodes/hollow-1/pods names it prod/p1" wait_until 10 grep -qx 'prod/p1' "$N/hollow-1/pods"
check "events name it prod/pod/p1" wait_until 10 grep -q ' Scheduled prod/pod/p1 ' "$MNT/events"
check_not "events never name it pod/p1 alone" grep -q ' pod/p1 ' "$MNT/events"

# --- publishNotReadyAddresses ---------------------------------------------------
cat >"$WORK/nr.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nr
  labels: {app: nr}
  annotations: {hollow.clusterfs.io/ready: "false"}
spec:
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: pub}
spec:
  publishNotReadyAddresses: true
  selector: {app: nr}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nopub}
spec:
  selector: {app: nr}
  ports: [{port: 80}]
EOF
check "a never-ready pod and two Services" cfs_write "$MNT/apply" "$WORK/nr.yaml"
check "the pod runs with an IP" wait_until 20 sh -c "[ \"\$(cat '$P/nr/phase')\" = Running ] && [ -n \"\$(cat '$P/nr/ip')\" ]"
nrip=$(cat "$P/nr/ip")
check_eq "control: the pod is not Ready" False "$(yvals "$P/nr.yaml" status.conditions.cond=Ready.status)"
check "control: without publishNotReadyAddresses it is in notReadyAddresses" \
	wait_until 10 sh -c "grep -q '$nrip' '$MNT/endpoints/nopub.yaml'"
check_eq "control: ... and not in nopub's ready endpoints" "- $nrip" \
	"$(yvals "$MNT/endpoints/nopub.yaml" subsets.0.addresses subsets.0.notReadyAddresses.0.ip)"
check "with publishNotReadyAddresses: true it is a ready endpoint" \
	wait_until 10 grep -qx "$nrip:80" "$S/pub/endpoints"
check_eq "... in addresses" "$nrip -" \
	"$(yvals "$MNT/endpoints/pub.yaml" subsets.0.addresses.0.ip subsets.0.notReadyAddresses)"

# --- allocateLoadBalancerNodePorts: false ---------------------------------------
cat >"$WORK/lb.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: nr}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: lb-noport}
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  selector: {app: nr}
  ports: [{port: 80}]
EOF
check "two LoadBalancer Services" cfs_write "$MNT/apply" "$WORK/lb.yaml"
np=$(yvals "$S/lb.yaml" spec.ports.0.nodePort)
check "control: a LoadBalancer gets a nodePort ($np)" test "$np" -ge 30000 -a "$np" -le 32767
check_eq "with allocateLoadBalancerNodePorts: false, none" "-" "$(yvals "$S/lb-noport.yaml" spec.ports.0.nodePort)"

# --- unschedulable accepts 1/0 and true/false -----------------------------------
for v in true:1 false:0 1:1 0:0; do
	w=${v%:*} r=${v#*:}
	check "echo $w > nodes/hollow-1/unschedulable" sh -c "echo $w > '$N/hollow-1/unschedulable'"
	check_eq "... reads $r" "$r" "$(cat "$N/hollow-1/unschedulable")"
	if [ "$r" = 1 ]; then want=True; else want="-|False"; fi
	check "... spec.unschedulable is $want" sh -c "printf '%s\n' '$(yvals "$N/hollow-1.yaml" spec.unschedulable)' | grep -qxE -- '$want'"
done
# (bash: dash's echo reports every write error as EIO)
expect_refusal EINVAL 'unschedulable: want 1 or 0, got "maybe"' "echo maybe > unschedulable" \
	bash -c "echo maybe > '$N/hollow-1/unschedulable'"

# --- the size cap of errors (the last 256 KiB are kept) -------------------------
# 1,000 refused writes of about 400 bytes each: 0.4 MB of lines.
long=$(printf 'x%.0s' {1..230})
"$PY" -c '
import os, sys
d, long = sys.argv[1], sys.argv[2]
for i in range(1000):
    p = "%s/e%04d-%s.yaml" % (d, i, long)
    try:
        with open(p, "w") as f:
            f.write("not: [closed\n")
    except OSError:
        pass
' "$C" "$long"
size=$(stat -c %s "$MNT/errors")
check "errors is at most 256 KiB ($size bytes)" test "$size" -le 262144
# docs/filesystem.md: "the last 256 KiB are kept ... it holds 252 to 256
# KiB": so, once over it, no less than 252 KiB minus one line (a line here
# is under 1,000 bytes)
check "... and holds the last 252-256 KiB (not less than a line short)" test "$size" -ge $((262144 - 4096 - 1000))
check_eq "stat size = bytes read" "$size" "$(cat "$MNT/errors" | wc -c)"
check "the newest refusal is kept" grep -q "/e0999-x" "$MNT/errors"
check_not "the oldest ones are gone" grep -q "/e0000-x" "$MNT/errors"
check "errors starts with a whole line" sh -c "head -n 1 '$MNT/errors' | grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T'"

# --- clusterfs image ls ---------------------------------------------------------
out=$("$CLUSTERFS" image ls --data-dir "$DATA" 2>&1)
check_eq "image ls exits 0" 0 "$?"
check_contains "image ls lists busybox:latest" "$out" "busybox:latest"
check "image ls has a header line" sh -c "printf '%s\n' \"\$1\" | head -n 1 | grep -q '^IMAGE '" sh "$out"
mkdir -p "$T_BASE/empty"
out=$("$CLUSTERFS" image ls --data-dir "$T_BASE/empty" 2>&1)
check_not_contains "control: another data dir's image ls lists no busybox" "$out" "busybox"

# --- two servers side by side ---------------------------------------------------
MNT2=$T_BASE/mnt2
DATA2=$T_BASE/data2
mkdir -p "$MNT2" "$DATA2"
"$CLUSTERFS" server --no-agent --listen 127.0.0.1:0 --mount "$MNT2" --data-dir "$DATA2" >>"$DATA2/server.log" 2>&1 &
pid2=$!
CFS_EXTRA_PIDS="$CFS_EXTRA_PIDS $pid2"
_cfs_record_pid "$pid2"
check "a second server mounts $MNT2" wait_until 10 test -e "$MNT2/README"
cm side one >"$WORK/side.yaml"
check "a write to the first" cp "$WORK/side.yaml" "$C/"
cm side two >"$WORK/side2.yaml"
check "a write to the second" cp "$WORK/side2.yaml" "$MNT2/configmaps/side.yaml"
check_eq "each serves its own" "one two" "$(cat "$C/side/data/k") $(cat "$MNT2/configmaps/side/data/k")"
check_not "the second has nothing of the first" test -e "$MNT2/configmaps/excl.yaml"
out=$(timeout 20 "$CLUSTERFS" server --no-agent --listen 127.0.0.1:0 --mount "$T_BASE/mnt3" --data-dir "$DATA" 2>&1)
rc=$?
check "a third server on the first's data dir is refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check_contains "... because the data dir is locked" "$out" "in use by a running server"
check_not "... and mounts nothing" cfs_is_mounted "$T_BASE/mnt3"
kill -TERM "$pid2"
check "SIGTERM stops the second" wait_until 10 not_alive $pid2
wait "$pid2"
check_eq "... with exit 0" 0 "$?"
check_not "... and its mount is gone" cfs_is_mounted "$MNT2"
check "the first still serves" cat "$C/side/data/k"

check_stop
cfs_done
