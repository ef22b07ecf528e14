#!/bin/sh
# bench_services.sh CLUSTERFS [IMAGE_TAR] - the Services benchmark (issue
# 5): how fast a pod stops getting traffic through a Service after it
# turns unready or is scaled away, and requests/s through a ClusterIP
# beside the same pod reached directly.
#
#   (a) One server with the node agent (--pod-cidr 10.86.0.0/16,
#       --service-cidr 10.98.0.0/16), a Deployment "web" of BENCH_PODS (4)
#       busybox httpd pods with an httpGet readinessProbe on /ready
#       (periodSeconds 1, failureThreshold 1), behind a Service "web".
#       Per event, three clocks (python3, $tmp/svc.py): t0 just before the
#       change; t_ep the start of the 1 ms poll round of
#       services/web/endpoints that no longer lists the pod; t_rule the
#       arrival, through `nft monitor`, of the nftables transaction (our
#       table only, recognised by the generation trailer) that rewrote the
#       service chain with exactly the endpoints left.  After it, one
#       `nft -j list chain` checks the IP is gone from the service chain.
#       readiness events: `runc exec ID rm /www/ready` (the runc exec is
#       inside the figure); scale events: `echo N-1 > replicas`.  A random
#       pause of 0.2-1.2 s before each event spreads it over the probe
#       period.  Between events: readiness back (touch /www/ready) or scale
#       back to N, until the endpoints and the rules hold N pods again; the
#       same clocks give the add direction (endpoints -> rules) too.
#   (b) wrk (Debian's; scripts/deps-bench.sh) from the node, -t2 -c16,
#       BENCH_WRK_SECONDS (3) a run, BENCH_WRK_RUNS (5) rounds, each on
#       fresh backends (conntrack TIME_WAIT, see below), alternating the
#       targets: the ClusterIP of a Service with one endpoint (Pod sa-R)
#       and an identical Pod's IP:8080 (sb-R); the ClusterIP of a Service
#       with BENCH_PODS endpoints (Deployment rps-R, no probe) and an
#       identical Pod's IP:8080 (rb-R).  Medians, ratios.  Traffic goes only to addresses
#       this server made.
#
# It runs a private copy of CLUSTERFS.  The trap stops only the server it
# started (by PID), runs `clusterfs reset --data-dir`, unmounts and removes
# its temporary dir; at the end it checks that no runc container, bridge,
# nftables table or dnsmasq of ours is left.  Not root: skipped.
#
# Knobs (environment): BENCH_EVENTS (30 of each kind), BENCH_PODS (4),
# BENCH_WRK_SECONDS (3), BENCH_WRK_RUNS (5), BENCH_VERBOSE=1 (server -v,
# log kept in /tmp/cfs-services-server.log).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench_services.sh CLUSTERFS [IMAGE_TAR]" >&2
	exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFS_ORIG=$(realpath "$1")
TAR=$(realpath -m "${2:-$SRC/build/images/busybox.tar}")
EVENTS=${BENCH_EVENTS:-30}
NPODS=${BENCH_PODS:-4}
WRK_S=${BENCH_WRK_SECONDS:-3}
WRK_RUNS=${BENCH_WRK_RUNS:-5}
VERBOSE=${BENCH_VERBOSE:-0}
POD_CIDR=10.86.0.0/16
SVC_CIDR=10.98.0.0/16
GW=10.86.0.1/16
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

echo "== services: readiness/scale-down -> nftables rules, and rps through a ClusterIP"
if [ "$(id -u)" != 0 ]; then
	echo "bench_services.sh: not root; runc, the agent and nftables need root: skipped"
	exit 0
fi
for t in runc nft stdbuf "$PY"; do
	if ! command -v "$t" >/dev/null; then
		echo "bench_services.sh: $t is missing (scripts/deps.sh); skipped" >&2
		exit 0
	fi
done
WRK=1
command -v wrk >/dev/null || { WRK=0; echo "   wrk is not installed (sh scripts/deps-bench.sh): part (b) is skipped"; }
if ip -o -4 addr show | awk -v g="$GW" '$4 == g { f = 1 } END { exit !f }'; then
	echo "bench_services.sh: $GW is already on a bridge (another server with this pod CIDR?); skipped" >&2
	exit 1
fi
if [ ! -s "$TAR" ]; then
	sh "$SRC/scripts/busybox-image.sh" "$(dirname "$TAR")" >/dev/null || exit 1
fi

BENCH_NAME=bench_services.sh
BENCH_STOP_GRACE=15
BENCH_RESET=1
[ "$VERBOSE" = 1 ] && BENCH_KEEP_LOG=/tmp/cfs-services-server.log
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init /tmp/cfs-services "$CFS_ORIG"
data=$tmp/data
mkdir -p "$data"

# bg CMD...: in the background, so that a signal reaches the trap at once.
bg() { bench_bg "$@"; }

cat >"$tmp/svc.py" <<'EOF'
# svc.py MNT RUNC_ROOT TABLE MODE COUNT N: COUNT events of MODE (ready or
# scale) on Deployment/Service "web" with N pods; prints one line per
# event: "ev MODE I DIR t_ep_ms t_rule_ms proxy_ms IP" (DIR del or add).
import json, os, random, re, subprocess, sys, threading, time

mnt, rroot, table, mode, count, n = sys.argv[1:7]
count, n = int(count), int(n)
EP = os.path.join(mnt, "services/web/endpoints")
RX_IP = re.compile(r"__(\d+\.\d+\.\d+\.\d+)/\d+")
now = time.monotonic

def eps():
    try:
        with open(EP) as f:
            return frozenset(l.split(":")[0] for l in f.read().split())
    except OSError:
        return frozenset()

# The nft monitor reader: one entry (arrival time, set of endpoint IPs of
# the service chain) per transaction of our table that rewrote that chain.
txs, lock = [], threading.Lock()
mon = subprocess.Popen(["stdbuf", "-oL", "nft", "monitor"], stdout=subprocess.PIPE, text=True,
                       bufsize=1)
def reader():
    cur, touched = set(), False
    for line in mon.stdout:
        if line.startswith("# new generation"):
            if touched:
                with lock:
                    txs.append((now(), frozenset(cur)))
            cur, touched = set(), False
            continue
        w = line.split()
        if len(w) >= 5 and w[0] == "add" and w[1] == "rule" and w[3] == table and \
                w[4].startswith("service-") and "/web/" in w[4]:
            touched = True
            cur.update(RX_IP.findall(line))
threading.Thread(target=reader, daemon=True).start()
time.sleep(0.3)

def wait_eps(cond, t0, timeout=20):
    while True:
        ts = now()
        e = eps()
        if cond(e):
            return ts, e
        if ts - t0 > timeout:
            sys.exit("svc.py: endpoints %s after %d s" % (sorted(e), timeout))
        time.sleep(0.001)

def wait_tx(want, t0, timeout=10):
    while True:
        with lock:
            for t, s in txs:
                if t >= t0 and s == want:
                    return t
        if now() - t0 > timeout:
            with lock:
                seen = [sorted(s) for t, s in txs if t >= t0]
            sys.exit("svc.py: no rules with %s after %d s (saw %s)" % (sorted(want), timeout, seen))
        time.sleep(0.001)

def check_gone(ip):
    out = subprocess.run(["nft", "-j", "list", "table", "ip", table], capture_output=True,
                         text=True).stdout
    for o in json.loads(out)["nftables"]:
        r = o.get("rule")
        if r and r["chain"].startswith("service-") and "/web/" in r["chain"] and ip in json.dumps(r):
            sys.exit("svc.py: %s is still in the service chain after the transaction" % ip)

def containers():
    """pod IP -> runc container id."""
    out = subprocess.run(["runc", "--root", rroot, "list", "-f", "json"], capture_output=True,
                         text=True).stdout
    m = {}
    for c in json.loads(out or "[]"):
        name = (c.get("annotations") or {}).get("io.kubernetes.pod.name", "")
        if c["status"] == "running" and name.startswith("web-"):
            try:
                with open(os.path.join(mnt, "pods", name, "ip")) as f:
                    m[f.read().strip()] = c["id"]
            except OSError:
                pass
    return m

def ms(a, b):
    return "%.2f" % ((b - a) * 1000)

t, full = wait_eps(lambda e: len(e) == n, now())
time.sleep(0.5)  # the rules for them (applied before the monitor started)
ids = containers() if mode == "ready" else {}
for i in range(count):
    time.sleep(random.uniform(0.2, 1.2))
    before = eps()
    if mode == "ready":
        ip = sorted(before)[i % n]
        t0 = now()
        subprocess.run(["runc", "--root", rroot, "exec", ids[ip], "rm", "/www/ready"], check=True)
    else:
        t0 = now()
        with open(os.path.join(mnt, "deployments/web/replicas"), "w") as f:
            f.write("%d\n" % (n - 1))
    t_act = now()
    t_ep, left = wait_eps(lambda e: len(e) == n - 1, t0)
    gone = before - left
    ip = next(iter(gone))
    t_rule = wait_tx(left, t0)
    check_gone(ip)
    print("ev %s %d del %s %s %s %s act %s" % (mode, i, ms(t0, t_ep), ms(t0, t_rule),
                                             ms(t_ep, t_rule), ip, ms(t0, t_act)), flush=True)
    # back to N
    t0 = now()
    if mode == "ready":
        subprocess.run(["runc", "--root", rroot, "exec", ids[ip], "touch", "/www/ready"], check=True)
    else:
        with open(os.path.join(mnt, "deployments/web/replicas"), "w") as f:
            f.write("%d\n" % n)
    t_ep, full = wait_eps(lambda e: len(e) == n, t0, 30)
    new = next(iter(full - left))
    t_rule = wait_tx(full, t0)
    print("ev %s %d add %s %s %s %s" % (mode, i, ms(t0, t_ep), ms(t0, t_rule), ms(t_ep, t_rule), new),
          flush=True)
    if mode == "scale":
        # wait until the scaled-away pod's container is gone too
        dl = now() + 20
        while ip in containers() and now() < dl:
            time.sleep(0.05)
mon.terminate()
mon.wait()
EOF

# The summary helper: pct.py FILE [P99_FILE]: reads "ev MODE I DIR t_ep
# t_rule proxy" lines and prints percentiles per (MODE, DIR) and figure;
# writes the p99 of every endpoints -> rules time to P99_FILE.
cat >"$tmp/pct.py" <<'EOF'
import math, sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith("ev ")]
def pct(v, q):
    v = sorted(v)
    return v[max(0, math.ceil(q * len(v)) - 1)]
names = {"ready": "readiness", "scale": "scale-down"}
what = [(4, "change -> endpoints"), (5, "change -> rules"), (6, "endpoints -> rules (proxy)")]
print("  %-11s %-4s %-27s %4s %8s %8s %8s %8s" % ("event", "dir", "figure (ms)", "n", "p50", "p95",
                                                  "p99", "max"))
for mode in ("ready", "scale"):
    for d in ("del", "add"):
        sel = [r for r in rows if r[1] == mode and r[3] == d]
        if not sel:
            continue
        for col, label in what:
            v = [float(r[col]) for r in sel]
            print("  %-11s %-4s %-27s %4d %8.1f %8.1f %8.1f %8.1f" % (
                names[mode], "rm" if d == "del" else "back", label, len(v), pct(v, .5), pct(v, .95),
                pct(v, .99), max(v)))
act = [float(r[9]) for r in rows if r[3] == "del" and r[1] == "ready"]
if act:
    print("  (readiness: the `runc exec rm` itself, inside every readiness figure: p50 %.1f ms)"
          % pct(act, .5))
v = [float(r[6]) for r in rows]
if v:
    print("  all %d rule changes, endpoints -> rules: p50 %.1f p95 %.1f p99 %.1f max %.1f ms"
          % (len(v), pct(v, .5), pct(v, .95), pct(v, .99), max(v)))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("%.1f\n" % pct(v, .99))
EOF

bench_machine
echo "== $($CFS version) ($CFS_ID); $(nft --version); $(command -v wrk >/dev/null && wrk -v 2>&1 | head -1)"
echo "== $EVENTS events of each kind, $NPODS pods; load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$CFS" image import --data-dir "$data" "$TAR" busybox:latest >"$tmp/import.out" 2>&1 ||
	{ cat "$tmp/import.out" >&2; exit 1; }
vflag=""
[ "$VERBOSE" = 1 ] && vflag=-v
bench_start_server "$data" --node-name bench --pod-cidr "$POD_CIDR" \
	--service-cidr "$SVC_CIDR" $vflag
bench_wait_ready 15 1
echo "   server pid $pid, node Ready after $BENCH_READY_S s"

wait_for() { bench_wait_for "$@"; }
n_eps() { [ "$(grep -c . "$mnt/services/$1/endpoints" 2>/dev/null)" = "$2" ]; }

httpd_spec() {
	printf '%sterminationGracePeriodSeconds: 1\n%scontainers:\n' "$1" "$1"
	printf '%s- name: httpd\n%s  image: busybox\n%s  imagePullPolicy: Never\n' "$1" "$1" "$1"
	printf '%s  command: ["sh", "-c", "mkdir -p /www; hostname > /www/index.html; touch /www/ready; exec httpd -f -p 8080 -h /www"]\n' "$1"
	printf '%s  ports:\n%s  - {name: http, containerPort: 8080}\n' "$1" "$1"
}
svc() {
	printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n' "$1"
	printf '  selector: {app: %s}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n' "$1"
}
deploy() {
	printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n' "$1"
	printf '  replicas: %s\n  selector:\n    matchLabels: {app: %s}\n' "$NPODS" "$1"
	printf '  template:\n    metadata:\n      labels: {app: %s}\n    spec:\n' "$1"
	httpd_spec '      '
}
{
	deploy web
	printf '        readinessProbe:\n          httpGet: {path: /ready, port: http}\n'
	printf '          periodSeconds: 1\n          failureThreshold: 1\n'
	svc web
} >"$tmp/web.yaml"
# round_yaml R: the round's fresh backends (see (b) below).
round_yaml() {
	deploy "rps-$1"
	svc "rps-$1"
	for p in sa sb rb; do
		printf -- '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s-%s\n' "$p" "$1"
		printf '  labels: {app: %s-%s}\nspec:\n' "$p" "$1"
		httpd_spec '  '
	done
	svc "sa-$1"
}

# --- (a) readiness and scale-down -> rules -------------------------------------

cat "$tmp/web.yaml" >"$mnt/apply" || exit 1
wait_for 60 n_eps web "$NPODS" || { echo "bench_services.sh: web has no $NPODS endpoints" >&2; exit 1; }
table=$(nft list tables | awk '$2 == "ip" && $3 ~ /^clusterfs_/ { print $3 }' | while read -r t; do
	nft list table ip "$t" | grep -q "$SVC_CIDR" && echo "$t"; done | head -1)
[ -n "$table" ] || { echo "bench_services.sh: no nftables table with $SVC_CIDR" >&2; exit 1; }
echo "   web: $NPODS endpoints, ClusterIP $(cat "$mnt/services/web/clusterip"), table $table"
: >"$tmp/events"
for mode in ready scale; do
	echo "== (a) $EVENTS $mode events (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=$(date +%s)
	if ! bg "$PY" "$tmp/svc.py" "$mnt" "$data/runc" "$table" "$mode" "$EVENTS" "$NPODS" >>"$tmp/events"; then
		echo "bench_services.sh: the $mode events failed" >&2
		failed=1
	fi
	echo "   $(grep -c "^ev $mode .* del " "$tmp/events") events in $(($(date +%s) - t0)) s"
done
LOAD_A="$(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$mnt/deployments/web.yaml" "$mnt/services/web.yaml"
wait_for 30 sh -c "! ls '$mnt/pods' | grep -q '^web-'"

# --- (b) requests/s: ClusterIP vs pod IP ----------------------------------------
# Every connection is closed by httpd, and each leaves a conntrack entry in
# TIME_WAIT for 120 s; from one source address to one backend IP:port the
# node has ~28,000 ephemeral ports (and the masquerade 64,000), so after
# ~25,000 connections to a backend new ones start to wait for a free tuple
# (SYN retransmits).  So every round gets fresh backends, and a run stays
# below that (BENCH_WRK_SECONDS 3 at ~5,000 req/s).  Per round R: Pod sa-R
# behind Service sa-R (1 endpoint) beside Pod sb-R reached directly; a
# Deployment rps-R of BENCH_PODS behind Service rps-R beside Pod rb-R.
: >"$tmp/wrk"
if [ "$WRK" = 1 ]; then
	echo "== (b) wrk -t2 -c16 -d${WRK_S}s, $WRK_RUNS rounds, fresh backends each round"
	r=1
	while [ $r -le "$WRK_RUNS" ]; do
		round_yaml $r >"$tmp/round.yaml"
		cat "$tmp/round.yaml" >"$mnt/apply" || exit 1
		wait_for 60 n_eps "rps-$r" "$NPODS" && wait_for 30 n_eps "sa-$r" 1 &&
			wait_for 30 sh -c "grep -q . '$mnt/pods/sb-$r/ip' && grep -q . '$mnt/pods/rb-$r/ip'" ||
			{ echo "bench_services.sh: round $r: backends not ready" >&2; exit 1; }
		sleep 1
		sa_cip=$(cat "$mnt/services/sa-$r/clusterip")
		sa_ip=$(cat "$mnt/pods/sa-$r/ip")
		sb_ip=$(cat "$mnt/pods/sb-$r/ip")
		rps_cip=$(cat "$mnt/services/rps-$r/clusterip")
		rb_ip=$(cat "$mnt/pods/rb-$r/ip")
		echo "   round $r (load average $(cut -d' ' -f1-3 /proc/loadavg)): Service sa-$r $sa_cip -> $sa_ip;" \
			"pod sb-$r $sb_ip; Service rps-$r $rps_cip ($NPODS pods); pod rb-$r $rb_ip"
		for tg in "solo_svc http://$sa_cip:80/ $sa_ip" "solo_pod http://$sb_ip:8080/ $sb_ip" \
			"rps_svc http://$rps_cip:80/ -" "rps_pod http://$rb_ip:8080/ $rb_ip"; do
			set -- $tg
			bg wrk -t2 -c16 -d"${WRK_S}s" "$2" >"$tmp/wrk.out" 2>&1
			rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$tmp/wrk.out")
			errs=$(awk '/Socket errors|Non-2xx/ { $1 = $1; printf "%s; ", $0 }' "$tmp/wrk.out")
			lat=$(awk '$1 == "Latency" { print $2 }' "$tmp/wrk.out")
			echo "$1 $r ${rps:-0}" >>"$tmp/wrk"
			ct=-
			[ "$3" != - ] && ct=$(grep -c "src=$3 dst=[0-9.]* sport=8080 " /proc/net/nf_conntrack 2>/dev/null)
			printf '     %-9s %9s req/s  latency avg %-9s conntrack entries from the backend: %s %s\n' \
				"$1" "${rps:--}" "${lat:--}" "${ct:--}" "$errs"
		done
		n_eps "rps-$r" "$NPODS" && n_eps "sa-$r" 1 || echo "   (note: the endpoints changed during the round)"
		for f in deployments/rps-$r services/rps-$r services/sa-$r pods/sa-$r pods/sb-$r pods/rb-$r; do
			rm -f "$mnt/$f.yaml"
		done
		r=$((r + 1))
	done
	wait_for 60 sh -c "! ls '$mnt/pods' | grep -Eq '^(rps|sa|sb|rb)-'"
fi
LOAD_B="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the end -----------------------------------------------------------------
bridge=$(ip -o -4 addr show | awk -v g="$GW" '$4 == g { print $2 }')
dnspid=$(cat "$data/dns/dnsmasq.pid" 2>/dev/null)
bench_stop_server
bench_reset_data
left=""
[ -n "$(runc --root "$data/runc" list -q 2>/dev/null)" ] && left="$left runc-containers"
[ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1 && left="$left bridge:$bridge"
nft list table ip "$table" >/dev/null 2>&1 && left="$left nft:$table"
[ -n "$dnspid" ] && kill -0 "$dnspid" 2>/dev/null && left="$left dnsmasq:$dnspid"
if [ -n "$left" ]; then
	echo "bench_services.sh: LEFT after reset:$left" >&2
	failed=1
else
	echo "== after reset: no runc container, bridge ($bridge), nftables table ($table) or dnsmasq of ours"
fi

median() { bench_median; }
echo
echo "clusterfs Services, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "binary:  $CFS_ID"
echo "machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r); load average after (a) $LOAD_A, after (b) $LOAD_B"
echo
echo "(a) a pod leaving a Service: t0 = just before the change; endpoints = services/web/endpoints"
echo "    read without the pod (1 ms polls); rules = nft monitor delivered the transaction that"
echo "    rewrote the service chain without it.  'back' = the pod coming back (readiness restored,"
echo "    or scaled back up: a new pod), the same clocks."
"$PY" "$tmp/pct.py" "$tmp/events" "$tmp/p99"
if [ -s "$tmp/wrk" ]; then
	echo
	echo "(b) requests/s, wrk -t2 -c16 -d${WRK_S}s from the node, medians of $WRK_RUNS alternating runs:"
	for k in solo_svc solo_pod rps_svc rps_pod; do
		eval "m_$k=$(awk -v k=$k '$1 == k { print $3 }' "$tmp/wrk" | median)"
	done
	# shellcheck disable=SC2154
	awk -v a="$m_solo_svc" -v b="$m_solo_pod" -v c="$m_rps_svc" -v d="$m_rps_pod" -v n="$NPODS" 'BEGIN {
		printf "  1 endpoint:   ClusterIP %8.0f   pod IP %8.0f   ratio %5.1f%%\n", a, b, 100 * a / b
		printf "  %d endpoints:  ClusterIP %8.0f   one pod %7.0f   ratio %5.1f%%\n", n, c, d, 100 * c / d }'
	for k in solo_svc solo_pod rps_svc rps_pod; do
		printf '  %-9s every run:%s\n' "$k" "$(awk -v k=$k '$1 == k { printf " %s", $3 }' "$tmp/wrk")"
	done
fi
echo
echo "  verdicts (the Services' targets, docs/benchmarks.md)"
bench_verdict "endpoints -> nftables rules (the proxy), p99 of all rule changes" \
	"$(cat "$tmp/p99" 2>/dev/null)" "<=" 50 ms
if [ -s "$tmp/wrk" ]; then
	# shellcheck disable=SC2154
	bench_verdict "req/s through a ClusterIP (1 endpoint) / the same pod reached directly, medians" \
		"$(awk -v a="$m_solo_svc" -v b="$m_solo_pod" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b }')" \
		">=" 90 %
else
	bench_verdict "req/s through a ClusterIP / directly (no wrk here)" "" ">=" 90 %
fi
bench_end
