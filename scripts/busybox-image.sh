#!/bin/sh
# busybox-image.sh OUTDIR - builds a small busybox image with no network.
#
#   $ sh scripts/busybox-image.sh /tmp/img
#   busybox-image.sh: /tmp/img/busybox (OCI layout, tag latest) and /tmp/img/busybox.tar (OCI archive)
#   $ clusterfs image import /tmp/img/busybox.tar busybox:latest
#
# The one layer holds Debian's busybox-static as /bin/busybox, a symlink
# for each of its applets (/bin/sh, sleep, httpd, wget, nc, cat, ...),
# /etc/passwd and /etc/group with root and nobody, and /tmp.  The config
# runs `sh` with PATH=/usr/sbin:/usr/bin:/sbin:/bin.  umoci builds the OCI
# layout, skopeo turns it into an oci-archive.
#
# Every file time and the image's creation time are fixed, so the same
# busybox gives the same digests on every run; a run replaces what an
# earlier one left in OUTDIR.  Needs root (owners are kept as root) and the
# packages busybox-static, umoci and skopeo (scripts/deps.sh installs them).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
for t in umoci skopeo; do
	command -v $t >/dev/null || { echo "$0: $t is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "$0: /bin/busybox is missing (busybox-static)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.busybox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The root filesystem of the layer.
root=$work/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
	"$root/root" "$root/tmp" "$root/var/www" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
chown -R 0:0 "$root"
epoch=2024-01-01T00:00:00Z
find "$root" -exec touch -h -d "$epoch" {} +

# The OCI layout: an empty image, the layer, then the config.
img=$work/layout
umoci init --layout "$img"
umoci new --image "$img:latest"
umoci insert --image "$img:latest" --history.created "$epoch" \
	--history.created_by "scripts/busybox-image.sh" "$root" /
umoci config --image "$img:latest" --no-history --created "$epoch" \
	--os linux --architecture amd64 \
	--config.cmd sh --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin
umoci gc --layout "$img"

# The archive, written next to the layout, then both put in place.
rm -f "$work/busybox.tar"
skopeo --insecure-policy copy -q "oci:$img:latest" "oci-archive:$work/busybox.tar:latest"
rm -rf "$out/busybox"
mv "$img" "$out/busybox"
mv "$work/busybox.tar" "$out/busybox.tar"
echo "busybox-image.sh: $out/busybox (OCI layout, tag latest) and $out/busybox.tar (OCI archive)"
