#!/bin/sh
# deps.sh - installs the Debian packages clusterfs needs, if any is missing.
# Called by `make` (once per build dir); safe to run again.
set -e

PKGS="build-essential pkg-config libfuse3-dev fuse3 libyaml-dev libsqlite3-dev sqlite3
libjansson-dev uuid-dev vim-nox python3 python3-yaml
libarchive-dev nettle-dev busybox-static umoci skopeo runc
containernetworking-plugins iptables nftables libnftables-dev iproute2 dnsmasq-base
clang-format clang-14 libclang-rt-14-dev libmicrohttpd-dev libgnutls28-dev zlib1g-dev libcurl4-gnutls-dev
docker-registry apache2-utils etcd-server etcd-client openssl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The HTTP API's tests drive a real kubectl. A machine that has one (any
# version, from any package) keeps it; one without gets Debian's.
if ! command -v kubectl >/dev/null 2>&1; then
	missing="$missing kubernetes-client"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }
