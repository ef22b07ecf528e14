#!/bin/bash
# t_registry.sh - `clusterfs image pull|rm|ls` against Debian's
# docker-registry run by the test on 127.0.0.1, into a data dir of its own
# (no server):
#   - a plain-HTTP registry, reached only when listed --insecure-registry;
#     busybox pushed there with skopeo (OCI manifest) is pulled, its
#     digest the registry's; a second pull downloads only the manifest;
#   - a moved tag (the same image re-pushed as a Docker v2 schema 2
#     manifest) pulled again gives the new digest, and ls shows it;
#   - a two-platform index (crafted, PUT with curl) gives linux/amd64's
#     manifest: that one's blob is fetched, the other's not;
#   - a blob corrupted in the registry's storage is refused (digest
#     mismatch) and nothing is recorded; a partial blob left by a broken
#     pull is continued (a Range request): less than the layer is fetched;
#   - rm removes the tag and the layers only it used;
#   - a TLS registry (a CA the test makes, in a certs dir with Docker's
#     layout) with htpasswd authentication: without credentials
#     "unauthorized", with --creds or a docker config (--auth-file) it
#     pulls; without the CA the TLS check fails.
# The registries are killed by PID at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

TAR=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
[ -f "$TAR" ] || cfs_abort "busybox image at $TAR"
for t in docker-registry skopeo htpasswd openssl curl; do
	command -v $t >/dev/null || cfs_abort "$t is installed (scripts/deps.sh)"
done
IMG() {
	local sub=$1
	shift
	"$CLUSTERFS" image "$sub" --data-dir "$DATA" "$@"
}

# ---- plain HTTP, insecure ----
P1=$(free_port)
H1=127.0.0.1:$P1
start_registry plain "$P1"
check "skopeo pushes busybox (OCI) to the plain registry" \
	skopeo copy -q --dest-tls-verify=false "oci-archive:$TAR" "docker://$H1/busybox:1"
D1=$(digest_of "http://$H1/v2/busybox/manifests/1")

out=$(IMG pull "$H1/busybox:1" 2>&1)
check_contains "a plain-HTTP registry not listed insecure is refused (TLS)" "$out" "tls"
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:1" 2>&1)
check_contains "pulled from the insecure registry, the registry's digest" "$out" "pulled $H1/busybox:1 $D1"
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:1" 2>&1)
size=$(echo "$out" | sed -n 's/.* \([0-9]*\) bytes in .*/\1/p' | head -n 1)
dl=$(echo "$out" | sed -n 's/.*(\([0-9]*\) downloaded).*/\1/p' | head -n 1)
check "a second pull fetches only the manifest ($dl of $size bytes)" test "${dl:-0}" -lt 10000 -a "${size:-0}" -gt 100000
out=$(IMG pull --insecure-registry "$H1" "$H1/nosuch:1" 2>&1)
check_contains "an unknown repository: manifest unknown" "$out" "manifest unknown"

# ---- a moved tag ----
check "skopeo re-pushes busybox:1 as Docker v2 schema 2" \
	skopeo copy -q --format v2s2 --dest-tls-verify=false "oci-archive:$TAR" "docker://$H1/busybox:1"
D2=$(digest_of "http://$H1/v2/busybox/manifests/1")
check "the tag moved ($D1 -> $D2)" test -n "$D2" -a "$D2" != "$D1"
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:1" 2>&1)
check_contains "the moved tag pulled again gives the new digest" "$out" "pulled $H1/busybox:1 $D2"
check_contains "image ls shows the new digest" "$(IMG ls)" "${D2:7:12}"

# ---- a two-platform index ----
sz() { curl -s -H "Accept: $MT_ALL" "http://$H1/v2/busybox/manifests/$1" | wc -c; }
S1=$(sz "$D1")
S2=$(sz "$D2")
INDEX='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"'$D2'","size":'$S2',"platform":{"os":"linux","architecture":"arm64"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$D1'","size":'$S1',"platform":{"os":"linux","architecture":"amd64"}}]}'
check "an index of two platforms is pushed" \
	curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
	--data-binary "$INDEX" "http://$H1/v2/busybox/manifests/multi"
DI=$(digest_of "http://$H1/v2/busybox/manifests/multi")
rm -rf "$DATA/images"
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:multi" 2>&1)
check_contains "the index is pulled (its digest)" "$out" "pulled $H1/busybox:multi $DI"
check "linux/amd64's manifest was taken" test -f "$DATA/images/blobs/sha256/${D1#sha256:}"
check_not "linux/arm64's was not fetched" test -f "$DATA/images/blobs/sha256/${D2#sha256:}"
check_contains "image ls shows the index's image" "$(IMG ls)" "$H1/busybox:multi"

# ---- rm ----
out=$(IMG rm "$H1/busybox:multi" 2>&1)
check_contains "image rm removes it" "$out" "removed $H1/busybox:multi"
check_not_contains "image ls no longer shows it" "$(IMG ls)" "busybox:multi"
check "its layers are gone" sh -c "[ -z \"\$(ls '$DATA/images/layers')\" ]"
check_not "rm of an unknown image fails" IMG rm "$H1/busybox:multi"

# ---- a corrupt blob, then a partial one resumed ----
LAYER=$(skopeo inspect --raw --tls-verify=false "docker://$H1/busybox:1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"][7:])')
BLOB=$(find "$WORK/plain/data" -path "*/blobs/sha256/*/$LAYER/data")
check "the layer blob is in the registry's storage" test -f "$BLOB"
cp "$BLOB" "$WORK/layer.good"
printf 'XXXXXXXX' | dd of="$BLOB" bs=1 seek=5000 conv=notrunc status=none
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:1" 2>&1)
check_contains "a corrupted blob is refused" "$out" "digest mismatch"
check_not_contains "and not recorded" "$(IMG ls)" "$H1/busybox:1"
check_not "and not kept" test -e "$DATA/images/blobs/sha256/$LAYER"
cp "$WORK/layer.good" "$BLOB"
LSIZE=$(stat -c %s "$BLOB")
head -c $((LSIZE / 2)) "$BLOB" >"$DATA/images/blobs/sha256/$LAYER.partial"
out=$(IMG pull --insecure-registry "$H1" "$H1/busybox:1" 2>&1)
check_contains "with a partial blob the pull succeeds" "$out" "pulled $H1/busybox:1 $D2"
dl=$(echo "$out" | sed -n 's/.*(\([0-9]*\) downloaded).*/\1/p' | head -n 1)
check "only the rest of the layer was fetched ($dl < $LSIZE)" test "${dl:-$LSIZE}" -lt "$LSIZE"

# ---- five pulls at once ----
IMG rm "$H1/busybox:1" >/dev/null 2>&1
PAR=""
for i in 1 2 3 4 5; do
	IMG pull --insecure-registry "$H1" "$H1/busybox:1" >"$WORK/par.$i" 2>&1 &
	PAR="$PAR $!"
done
for p in $PAR; do wait "$p"; done
check_eq "five pulls at once all succeed" 5 "$(grep -l "pulled $H1/busybox:1 $D2" "$WORK"/par.* | wc -l)"

# ---- TLS and htpasswd ----
P2=$(free_port)
H2=127.0.0.1:$P2
C=$WORK/pki
mkdir -p "$C" "$WORK/certs.d/$H2" "$WORK/empty"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.crt" -days 2 \
	-subj "/CN=cfs-test-ca" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$C/srv.key" -out "$C/srv.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$C/ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-out "$C/srv.crt" -days 2 -extfile "$C/ext" >/dev/null 2>&1
cp "$C/ca.crt" "$WORK/certs.d/$H2/ca.crt"
htpasswd -Bbc "$C/htpasswd" alice s3cret >/dev/null 2>&1
start_registry tls "$P2" "  tls:
    certificate: $C/srv.crt
    key: $C/srv.key
auth:
  htpasswd:
    realm: cfs-test
    path: $C/htpasswd"
check "skopeo pushes busybox to the TLS registry with credentials" \
	skopeo copy -q --dest-cert-dir "$WORK/certs.d/$H2" --dest-creds alice:s3cret \
	"oci-archive:$TAR" "docker://$H2/private/busybox:1"
CD="--registry-certs-dir $WORK/certs.d"
out=$(IMG pull $CD "$H2/private/busybox:1" 2>&1)
check_contains "without credentials: unauthorized" "$out" "unauthorized"
out=$(IMG pull $CD --creds alice:wrong "$H2/private/busybox:1" 2>&1)
check_contains "with a wrong password: unauthorized" "$out" "unauthorized"
out=$(IMG pull --registry-certs-dir "$WORK/empty" --creds alice:s3cret "$H2/private/busybox:1" 2>&1)
check_contains "without the registry's CA the TLS check fails" "$out" "tls"
out=$(IMG pull $CD --creds alice:s3cret "$H2/private/busybox:1" 2>&1)
check_contains "with --creds it pulls" "$out" "pulled $H2/private/busybox:1 sha256:"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$H2" "$(printf alice:s3cret | base64)" >"$WORK/auth.json"
IMG rm "$H2/private/busybox:1" >/dev/null 2>&1
out=$(IMG pull $CD --auth-file "$WORK/auth.json" "$H2/private/busybox:1" 2>&1)
check_contains "with a docker config (--auth-file) it pulls" "$out" "pulled $H2/private/busybox:1 sha256:"
check_contains "image ls shows it" "$(IMG ls)" "$H2/private/busybox:1"

cfs_done
