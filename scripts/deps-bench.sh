#!/bin/sh
# deps-bench.sh - installs the Debian packages that only `make bench` needs,
# if any is missing: podman, the peer of tests/bench/bench_runtime.sh
# (`podman kube play` of the same Deployment), and wrk, the load generator
# of tests/bench/bench_services.sh.  The build and the tests do
# not need it, so scripts/deps.sh leaves it out.  Safe to run again; not
# root and something missing: says so and exits 1 (the benchmarks then
# skip the podman side or the wrk runs).
set -e

PKGS="podman wrk"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps-bench.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps-bench.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }
