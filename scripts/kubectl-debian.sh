#!/bin/sh
# kubectl-debian.sh OUT - puts Debian's own kubectl (package
# kubernetes-client, 1.20 on Debian 12) at OUT, so that the tests drive it
# beside whatever newer kubectl the machine has.  On a machine whose kubectl
# is Debian's (what scripts/deps.sh installs when there is none), OUT links
# to it; otherwise the package is downloaded and unpacked, not installed
# (it would replace the machine's kubectl).  Exits 0 without OUT when the
# package cannot be had: the tests then say that 1.20 was not tried.
set -u
out=$1
mkdir -p "$(dirname "$out")"
if dpkg-query -W -f='${Status}' kubernetes-client 2>/dev/null | grep -q "install ok installed"; then
	ln -sf /usr/bin/kubectl "$out"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if (cd "$tmp" && apt-get download -q kubernetes-client >/dev/null 2>&1) &&
	dpkg -x "$tmp"/kubernetes-client_*.deb "$tmp/x" && [ -x "$tmp/x/usr/bin/kubectl" ]; then
	cp "$tmp/x/usr/bin/kubectl" "$out.tmp" && mv "$out.tmp" "$out"
else
	echo "kubectl-debian.sh: could not download kubernetes-client; kubectl 1.20 not tested" >&2
fi
exit 0
