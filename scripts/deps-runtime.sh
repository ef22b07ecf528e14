#!/bin/sh
# deps-runtime.sh - the Debian packages the image store (runtime/image.c)
# and scripts/busybox-image.sh need beyond scripts/deps.sh; to be merged
# into deps.sh's PKGS.  Installs what is missing, like deps.sh; safe to
# run again.
#
#   libarchive-dev  reads OCI archives and unpacks layers (pkg-config libarchive)
#   nettle-dev      SHA-256 of blobs (pkg-config nettle)
#   busybox-static  the binary of the test and demo image
#   umoci, skopeo   build that image as an OCI layout and an oci-archive
set -e

PKGS="libarchive-dev nettle-dev busybox-static umoci skopeo"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps-runtime.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps-runtime.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }
