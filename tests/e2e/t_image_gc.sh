#!/bin/bash
# t_image_gc.sh - where images came from, which pods use them, and image
# garbage collection on a real small disk: the data dir is a 48 MiB tmpfs
# (unmounted by lib.sh's cleanup), holding busybox (imported) and three
# images of 4 MiB of random bytes each (big1..3, made "old" in refs.json,
# big1 the least recently used):
#   - `clusterfs image gc` with thresholds just under the usage removes
#     one image, the least recently used (big1), and frees its blob and
#     layer (df shows it);
#   - with the server (its agent, --image-gc-high-threshold 1
#     --image-gc-low-threshold 0): a pod of busybox:latest shows in `image
#     ls` (USED BY default/user1), `image rm busybox` is refused naming the
#     pod; a pod of an image from a local registry makes a pull, before
#     which the GC removes big2 then big3 (LRU) but not busybox (in use)
#     nor fails the pull: a FreeDiskSpaceFailed event says it could not
#     get under 0 %; the pulled image's ORIGIN is "pulled", busybox's
#     "imported"; `image rm --force busybox` removes the reference while
#     the pod keeps its layers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_ctl.sh"

TAR=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
[ -f "$TAR" ] || cfs_abort "busybox image at $TAR"
for t in docker-registry skopeo curl; do
	command -v $t >/dev/null || cfs_abort "$t is installed (scripts/deps.sh)"
done
P=$MNT/pods
IMG() { "$CLUSTERFS" image "$@" --data-dir "$DATA"; }

mount -t tmpfs -o size=48m,mode=0700 cfs-t-image-gc "$DATA" || cfs_abort "a tmpfs on $DATA"

# mkimage NAME: an OCI layout in $WORK/NAME, one layer of 4 MiB of random bytes
MKIMAGE='
import sys, json, hashlib, tarfile, io, gzip, os
out, name = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
M = "application/vnd.oci.image."
def put(data, mt):
    h = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + h, "wb").write(data)
    return {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}
b = io.BytesIO()
data = os.urandom(4 << 20)
with tarfile.open(fileobj=b, mode="w") as t:
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))
raw = b.getvalue()
l = put(gzip.compress(raw, compresslevel=1, mtime=0), M + "layer.v1.tar+gzip")
conf = {"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}
c = put(json.dumps(conf).encode(), M + "config.v1+json")
m = put(json.dumps({"schemaVersion": 2, "mediaType": M + "manifest.v1+json", "config": c,
                    "layers": [l]}).encode(), M + "manifest.v1+json")
json.dump({"schemaVersion": 2, "manifests": [m]}, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
'
# usage: percent of the data dir's disk used, as the GC computes it
usage() {
	"$PY" -c 'import os, sys; v = os.statvfs(sys.argv[1]); print(100 - v.f_bavail * 100 // v.f_blocks)' "$DATA"
}
avail_kb() { df -k --output=avail "$DATA" | tail -n 1 | tr -d ' '; }
# age REF SECONDS: sets REF's "added" in refs.json (as if pulled long ago)
age() {
	"$PY" -c 'import json, sys
p = sys.argv[1]; r = json.load(open(p))
r[sys.argv[2]]["added"] = int(sys.argv[3])
json.dump(r, open(p, "w"), indent=2)' "$DATA/images/refs.json" "$1" "$2"
}

check "busybox is imported" cfs_import_busybox
for i in 1 2 3; do
	"$PY" -c "$MKIMAGE" "$WORK/big$i" "big$i" || cfs_abort "making big$i"
	check "big$i is imported" IMG import "$WORK/big$i" "big$i:1"
	age "docker.io/library/big$i:1" "$((i * 1000))"
done
out=$(IMG ls)
check_contains "image ls has an ORIGIN column" "$(echo "$out" | head -n 1)" "ORIGIN"
check "busybox is imported (ORIGIN)" sh -c "echo '$out' | grep -E 'busybox:latest .* imported +-$'"

# --- clusterfs image gc: thresholds just under the usage ----------------------
U=$(usage)
before=$(avail_kb)
check "the images fill the disk (> 40 %)" test "$U" -gt 40
out=$(IMG gc --image-gc-high-threshold $((U - 1)) --image-gc-low-threshold $((U - 5)) 2>&1)
check_eq "image gc exits 0" 0 "$?"
check_contains "it removed one image" "$out" "1 images removed"
out=$(IMG ls)
check_not_contains "the least recently used one: big1" "$out" "big1:1"
check_contains "big2 stays" "$out" "big2:1"
check_contains "big3 stays" "$out" "big3:1"
check_contains "busybox stays" "$out" "busybox:latest"
after=$(avail_kb)
check "df: its blob and layer freed (> 7 MiB)" test $((after - before)) -gt 7000

# --- the agent --------------------------------------------------------------------
PORT=$(free_port)
H=127.0.0.1:$PORT
start_registry reg "$PORT"
check "skopeo pushes busybox:1 to the registry" \
	skopeo copy -q --dest-tls-verify=false "oci-archive:$TAR" "docker://$H/busybox:1"

CFS_AGENT=1
cfs_start --node-name t-image-gc --insecure-registry "$H" \
	--image-gc-high-threshold 1 --image-gc-low-threshold 0 || cfs_abort "server did not start"
phase_is() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
events_have() { grep -qF -- "$1" "$MNT/events" 2>/dev/null; }
mkpod() {
	cat >"$WORK/$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $2
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "exec sleep 100000"]
EOF
	cp "$WORK/$1.yaml" "$P/$1.yaml"
}
mkpod user1 busybox:latest
check "a pod of busybox:latest runs" wait_until 60 phase_is user1 Running
check "image ls: busybox used by default/user1" \
	sh -c "'$CLUSTERFS' image ls --data-dir '$DATA' | grep -E 'busybox:latest .* default/user1$'"
out=$(IMG rm busybox 2>&1)
check_eq "image rm of an image in use exits 1" 1 "$?"
check_contains "naming the pod" "$out" "in use by pod default/user1"
check_contains "busybox is still there" "$(IMG ls)" "busybox:latest"

mkpod puller "$H/busybox:1"
check "a pod of an image from the registry runs" wait_until 60 phase_is puller Running
log=$DATA/server.log
l2=$(grep -n 'image gc: removed docker.io/library/big2:1' "$log" | cut -d: -f1 | head -n 1)
l3=$(grep -n 'image gc: removed docker.io/library/big3:1' "$log" | cut -d: -f1 | head -n 1)
check "the GC before the pull removed big2" test -n "$l2"
check "then big3 (least recently used first)" test -n "$l3" -a "${l2:-0}" -lt "${l3:-0}"
check_not_contains "not busybox (in use)" "$(grep 'image gc: removed' "$log")" "busybox"
check "event FreeDiskSpaceFailed" wait_until 10 events_have "Failed to garbage collect required amount of images"
check "with its reason" sh -c "grep -q FreeDiskSpaceFailed '$MNT/events'"
out=$(IMG ls)
check_not_contains "big2 and big3 are gone" "$out" "big"
check "the pulled image's ORIGIN is pulled" sh -c "echo '$out' | grep -E '$H/busybox:1 .* pulled .*default/puller'"

nlayers=$(ls "$DATA/images/layers" | wc -l)
out=$(IMG rm --force busybox 2>&1)
check_eq "image rm --force exits 0" 0 "$?"
check_contains "says the pods keep their layers" "$out" "though pods use it"
check_not_contains "busybox:latest is gone" "$(IMG ls)" "busybox:latest"
check_eq "no layer was removed" "$nlayers" "$(ls "$DATA/images/layers" | wc -l)"
check "the pod still runs" phase_is user1 Running

check_stop
cfs_done
