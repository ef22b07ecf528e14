#!/bin/sh
# bench_http.sh CLUSTERFS - the HTTPS API's figures (issue 11).
#
#   get      single-object GET requests/s over HTTPS with keep-alive: wrk,
#            2 threads, 8 connections, 10 s, on one ConfigMap, with the
#            bearer token; BENCH_RUNS runs (3), the median.  Target
#            ≥ 5,000/s.
#   list     `kubectl get pods` of 1,000 pods (kubectl 1.32, the default
#            table) against `ls -l /cluster/pods` of the same pods, in the
#            same run: medians of BENCH_RUNS, and their ratio.  The pods
#            run on 10 hollow nodes (control plane only, no containers).
#
# The server listens on 127.0.0.1 with a port the kernel picks; the token
# and the port come from DATA/kubeconfig.  wrk comes from
# scripts/deps-bench.sh; without it the get figure is NONE.  The trap
# stops only the server this script started, by PID (tests/bench/lib.sh).
set -u

if [ $# -ne 1 ]; then
	echo "usage: sh tests/bench/bench_http.sh CLUSTERFS" >&2
	exit 2
fi
RUNS=${BENCH_RUNS:-3}
PODS=${BENCH_PODS:-1000}
KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl)

BENCH_NAME=bench_http.sh
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-http "$1"
bench_machine
echo "== $CFS_ID; kubectl: $KUBECTL"

bench_start_server "$tmp/data" --no-agent --hollow-nodes 10 --listen 127.0.0.1:0
bench_wait_ready 30 10
TOKEN=$(cat "$data/pki/token")
URL=$(sed -n 's/^ *server: //p' "$data/kubeconfig")

# --- get ---------------------------------------------------------------------
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v\n' >"$tmp/x.yaml"
cp "$tmp/x.yaml" "$mnt/configmaps/x.yaml"
echo "== GET $URL/api/v1/namespaces/default/configmaps/x, wrk -t2 -c8 -d10s, $RUNS runs"
rates=""
if command -v wrk >/dev/null 2>&1; then
	for i in $(seq 1 "$RUNS"); do
		r=$(wrk -t2 -c8 -d10s -H "Authorization: Bearer $TOKEN" \
			"$URL/api/v1/namespaces/default/configmaps/x" 2>&1 |
			awk '/^Requests\/sec:/ { printf "%d", $2 } /Non-2xx/ { print " non-2xx" }')
		echo "   run $i: $r requests/s"
		case "$r" in *non-2xx*) failed=1 ;; esac
		rates="$rates ${r%% *}"
	done
else
	echo "   wrk is missing (sh scripts/deps-bench.sh installs it)"
fi
get=$(echo "$rates" | bench_median)

# --- list ----------------------------------------------------------------------
i=0
while [ $i -lt "$PODS" ]; do
	printf -- '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p%04d\nspec:\n  containers:\n  - name: c\n    image: busybox\n' $i
	i=$((i + 1))
done >"$tmp/pods.yaml"
cp "$tmp/pods.yaml" "$mnt/apply"
bench_wait_for 120 sh -c "[ \$(ls '$mnt/pods' | grep -c '\\.yaml\$') -ge $PODS ]" ||
	{ echo "$BENCH_NAME: the $PODS pods did not all appear" >&2; failed=1; }
echo "== $PODS pods: kubectl get pods against ls -l $mnt/pods, $RUNS runs each"
kt="" lt=""
for i in $(seq 1 "$RUNS"); do
	t0=$(date +%s%N)
	n=$(KUBECONFIG=$data/kubeconfig "$KUBECTL" get pods 2>&1 | grep -c '^p[0-9]')
	t1=$(date +%s%N)
	m=$(ls -l "$mnt/pods" | grep -c 'p[0-9]*\.yaml$')
	t2=$(date +%s%N)
	k_ms=$(((t1 - t0) / 1000000))
	l_ms=$(((t2 - t1) / 1000000))
	echo "   run $i: kubectl get pods $k_ms ms ($n rows); ls -l $l_ms ms ($m files)"
	[ "$n" = "$PODS" ] && [ "$m" = "$PODS" ] || failed=1
	kt="$kt $k_ms"
	lt="$lt $l_ms"
done
km=$(echo "$kt" | bench_median)
lm=$(echo "$lt" | bench_median)
echo "   medians: kubectl get pods $km ms, ls -l $lm ms (kubectl/ls $(awk -v a="$km" -v b="$lm" 'BEGIN { printf "%.1f", b ? a / b : 0 }')x)"

echo
echo "== verdicts"
bench_verdict "single-object GET over HTTPS, keep-alive, 8 connections, median of $RUNS" "$get" ">=" 5000 "requests/s"
bench_end
