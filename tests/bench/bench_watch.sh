#!/bin/sh
# bench_watch.sh CLUSTERFS - the watch benchmark (issue 11): how soon a
# write made through the filesystem reaches a watcher over HTTPS, and what
# idle watches cost the server.
#
#   (a) One server (control plane only, --listen 127.0.0.1:0).  A client
#       (bench_watch.py latency) holds one watch on configmaps asking for
#       Table rows, as `kubectl get -w` does, and BENCH_WRITES (300) times
#       writes a ConfigMap file into the mount and waits for its ADDED
#       event: p50/p99 from the start of the write to the event's arrival
#       (the write's own commit, fsync included, is inside the figure), and
#       from close()'s return to the event.
#   (b) bench_watch.py idle opens BENCH_IDLE (1000) watches on pods, each on
#       its own TLS connection, and reads the server's VmRSS before and with
#       them open.
#
# The trap (lib.sh) stops only the server it started and removes its dir.
set -u
if [ $# -ne 1 ]; then
	echo "usage: sh tests/bench/bench_watch.sh CLUSTERFS" >&2
	exit 2
fi
WRITES=${BENCH_WRITES:-300}
IDLE=${BENCH_IDLE:-1000}
BENCH_NAME=bench_watch.sh
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
bench_init /tmp/cfs-watch "$1"
bench_machine
bench_start_server "$tmp/data" --no-agent --listen 127.0.0.1:0
bench_wait_ready 15
i=0
while [ ! -s "$data/kubeconfig" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
url=$(sed -n 's/^ *server: //p' "$data/kubeconfig")
token=$(cat "$data/pki/token")
ca=$data/pki/ca.crt

echo "== (a) write -> watch event, $WRITES ConfigMaps written into $mnt/configmaps"
if python3 "$here/bench_watch.py" latency "$url" "$token" "$ca" "$mnt" "$WRITES" >"$tmp/lat"; then
	sed 's/^/  /' "$tmp/lat"
	p50=$(awk '$1 == "event_ms" { print $2 }' "$tmp/lat")
	p99=$(awk '$1 == "event_ms" { print $3 }' "$tmp/lat")
else
	failed=1
	p50="" p99=""
fi
bench_verdict "write -> watch event over HTTPS, p99 of $WRITES; p50 $p50 ms" "$p99" "<=" 20 ms

echo "== (b) $IDLE idle watches"
if python3 "$here/bench_watch.py" idle "$url" "$token" "$ca" "$pid" "$IDLE" >"$tmp/idle"; then
	sed 's/^/  /' "$tmp/idle"
	b=$(awk '$1 == "rss_kb_before" { print $2 }' "$tmp/idle")
	a=$(awk '$1 == "rss_kb_with" { print $2 }' "$tmp/idle")
	echo "  server RSS $((b / 1024)) MiB -> $((a / 1024)) MiB: $(((a - b) / IDLE)) KiB a watch"
else
	failed=1
fi
bench_end
