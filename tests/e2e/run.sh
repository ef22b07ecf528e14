#!/bin/sh
# tests/e2e/run.sh BIN [TEST...] - runs the end-to-end tests against BIN.
#
#     $ sh tests/e2e/run.sh bin/clusterfs
#     == t_basic
#     ok - ls shows the top-level entries
#     ...
#     PASS t_basic (4 s)
#     ...
#     e2e: 6 passed, 0 failed
#
# Runs every tests/e2e/t_*.sh (or the ones named) with bash, each with
# CLUSTERFS set to BIN's absolute path and a time limit, then checks that
# nothing leaked: no clusterfs mount left under the run's temp dir, no
# server the tests started still running, no temp dir left behind.
# Exits non-zero if a test failed or something leaked.

if [ $# -lt 1 ]; then
	echo "usage: sh tests/e2e/run.sh BIN [t_NAME...]" >&2
	exit 2
fi
case "$1" in
/*) CLUSTERFS=$1 ;;
*) CLUSTERFS=$(pwd)/$1 ;;
esac
shift
if [ ! -x "$CLUSTERFS" ]; then
	echo "run.sh: $CLUSTERFS: not an executable" >&2
	exit 2
fi
if [ ! -e /dev/fuse ]; then
	echo "run.sh: /dev/fuse is missing: the end-to-end tests need FUSE" >&2
	exit 2
fi
DIR=$(cd "$(dirname "$0")" && pwd)
TIME_LIMIT=${CFS_E2E_TIME_LIMIT:-120}

CFS_E2E_RUN=$(mktemp -d /tmp/cfs-e2e-run.XXXXXX) || exit 1
: >"$CFS_E2E_RUN/pids"
export CLUSTERFS CFS_E2E_RUN

if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do
		t=${t%.sh}
		t=${t##*/}
		tests="$tests $DIR/$t.sh"
	done
else
	tests=$(ls "$DIR"/t_*.sh)
fi

# The pod sandboxes' pause processes ("clusterfs pause NAME") of these
# tests: their environment names their pod's folder, under the run dir.
pause_pids() {
	for f in /proc/[0-9]*/environ; do
		if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -q "^CLUSTERFS_POD_DIR=$CFS_E2E_RUN/"; then
			p=${f#/proc/}
			echo "${p%/environ}"
		fi
	done | sort
}
pause_before=$(pause_pids)
# Pod bridges (cfs + 8 hex digits), service tables (clusterfs_ + 8 hex) and
# dnsmasq processes there now: any other one after the run is a leak.
net_state() {
	ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^cfs[0-9a-f]{8}$/ { print "bridge " $2 }'
	nft list tables 2>/dev/null | awk '$3 ~ /^clusterfs_[0-9a-f]{8}$/ { print "table " $3 }'
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q "^/usr/sbin/dnsmasq .*$CFS_E2E_RUN/" &&
			echo "dnsmasq ${p%/cmdline}"
	done
}
net_before=$(net_state | sort)

passed=0
failed=0
failed_names=""
for t in $tests; do
	name=$(basename "$t" .sh)
	echo "== $name"
	start=$(date +%s)
	# A test may need longer: a "# e2e-time-limit: SECONDS" line in it.
	limit=$(sed -n 's/^# e2e-time-limit: *\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	[ -z "$CFS_E2E_TIME_LIMIT" ] && [ -n "$limit" ] || limit=$TIME_LIMIT
	timeout -k 10 "$limit" bash "$t"
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name ($secs s)"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL $name (timed out after $limit s)"
		else
			echo "FAIL $name (exit $rc, $secs s)"
		fi
	fi
done

# Leak checks.
leaks=0
mounts=$(awk -v b="$CFS_E2E_RUN/" 'index($2, b) == 1 { print $2 " " $3 }' /proc/mounts)
if [ -n "$mounts" ]; then
	leaks=$((leaks + 1))
	echo "LEAK: mounts left by the tests:"
	echo "$mounts" | sed 's/^/  /'
fi
for pid in $(cat "$CFS_E2E_RUN/pids"); do
	if kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$CFS_E2E_RUN/"; then
		leaks=$((leaks + 1))
		echo "LEAK: server $pid still running: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
		kill -KILL "$pid" 2>/dev/null
	fi
done
# Log relays ("clusterfs-logrelay LOG") end with their containers: give
# those the cleanup killed a moment to drain.
relay_pids() {
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qE "^clusterfs(-| )logrelay $CFS_E2E_RUN/" &&
			{ p=${f#/proc/}; echo "${p%/cmdline}"; }
	done
}
i=0
while [ -n "$(relay_pids)" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
relays_left=$(relay_pids)
if [ -n "$relays_left" ]; then
	leaks=$((leaks + 1))
	echo "LEAK: log relays left by the tests:" $relays_left
fi
pause_left=$(pause_pids | grep -vxF "$pause_before")
if [ -n "$pause_left" ]; then
	leaks=$((leaks + 1))
	echo "LEAK: pod sandbox processes left by the tests:" $pause_left
fi
net_left=$(net_state | sort | grep -vxF "$net_before")
if [ -n "$net_left" ]; then
	leaks=$((leaks + 1))
	echo "LEAK: network state left by the tests:" $net_left
fi
left=$(cd "$CFS_E2E_RUN" && ls -A | grep -v '^pids$')
if [ -n "$left" ]; then
	leaks=$((leaks + 1))
	echo "LEAK: temp dirs left in $CFS_E2E_RUN:"
	echo "$left" | sed 's/^/  /'
fi
# Anything of the tests' mounts still there after the kill above: detach
# it so that the run dir can go.
for m in $(awk -v b="$CFS_E2E_RUN/" 'index($2, b) == 1 { print $2 }' /proc/mounts); do
	fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
if [ $leaks -eq 0 ]; then
	rm -rf --one-file-system "$CFS_E2E_RUN"
	echo "leaks: none (no clusterfs mount, server, pod process, log relay, bridge, nftables table, dnsmasq or temp dir left by the tests)"
else
	echo "leaks: $leaks (left $CFS_E2E_RUN for inspection)"
fi
other=$(grep clusterfs /proc/mounts)
if [ -n "$other" ]; then
	echo "note: other clusterfs mounts on this host (not made by these tests):"
	echo "$other" | sed 's/^/  /'
fi

echo "e2e: $passed passed, $failed failed${failed_names:+ (failed:$failed_names)}"
[ $failed -eq 0 ] && [ $leaks -eq 0 ]
