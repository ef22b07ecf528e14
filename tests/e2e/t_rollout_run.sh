#!/bin/bash
# t_rollout_run.sh - rolling updates with real containers, readiness probes
# and a Service in front (issue 6): 4 busybox httpd replicas that become
# ready about 1 s after they start, maxSurge 1 / maxUnavailable 0.  While a
# client on the node sends ~10 requests/s to the ClusterIP, a template
# change by sed -i rolls out: sampled every ~100 ms, never more than
# replicas + maxSurge = 5 live pods, never fewer than replicas -
# maxUnavailable = 4 ready ones; all pods new at the end, revision 2,
# history 1 and 2; not one failed request.  A rollback (revision 3, the
# first template's pods, no failed request).  A broken image with
# progressDeadlineSeconds 5: `cat rollout` fails after about the deadline,
# the old pods keep serving (no failed request, 4 ready throughout).  A
# control: the same client against a Service with no endpoints records
# only failures.  Traffic goes only to the addresses this test's server made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
D=$MNT/deployments
RSD=$MNT/replicasets
S=$MNT/services
POD_CIDR=10.85.0.0/16
SVC_CIDR=10.99.0.0/16

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-rollrun --pod-cidr "$POD_CIDR" --service-cidr "$SVC_CIDR" ||
	cfs_abort "server did not start"

# The container writes its hostname and VERSION as the body, and /ready
# one second after it starts: a new pod is Running before it is Ready.
cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: busybox
        command: ["sh", "-c", "mkdir -p /www; echo \"$(hostname) v$VERSION\" > /www/index.html; (sleep 1; touch /www/ready) & exec httpd -f -p 8080 -h /www"]
        env:
        - name: VERSION
          value: "1"
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: nobody
spec:
  selector: {app: nobody}
  ports:
  - {port: 80}
EOF

# web_pods: "LIVE READY HASHES" of web's pods (not terminating), hashes
# sorted and comma-joined.
web_pods() {
	pods_table | awk '$6 == "-" && index($1, "web-") == 1 { n++; if ($4 == "True") r++; h[$9] = 1 }
		END { s = ""; for (k in h) s = s (s ? "," : "") k; printf "%d %d %s\n", n + 0, r + 0, s }'
}
rs_of_rev() {
	local f
	for f in "$RSD"/*.yaml; do
		[ "$(yvals "$f" 'metadata.annotations.deployment\.kubernetes\.io/revision')" = "$1" ] &&
			basename "$f" .yaml
	done
}
hist_ls() { ls "$D/web/history" | tr '\n' ' ' | sed 's/ $//'; }

# client_loop LOG STOPFILE [IP]: ~10 requests/s to IP (default web's
# ClusterIP) port 80 from the node until STOPFILE exists; one line per
# request: "MS BODY" or "MS FAIL".
client_loop() {
	local log=$1 stop=$2 ip=${3:-$CIP} body
	while [ ! -e "$stop" ]; do
		body=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 3 busybox nc "$ip" 80 2>/dev/null | tail -n 1)
		case "$body" in
		web-*) echo "$(now_ms) $body" ;;
		*) echo "$(now_ms) FAIL ${body}" ;;
		esac
		sleep 0.1
	done >>"$log"
}
CLIENT_PID=""
# client_start NAME [IP]: starts client_loop in the background.
client_start() {
	CLIENT_LOG=$WORK/client.$1.log
	rm -f "$WORK/client.stop"
	: >"$CLIENT_LOG"
	client_loop "$CLIENT_LOG" "$WORK/client.stop" "${2:-}" &
	CLIENT_PID=$!
	cfs_bg "$CLIENT_PID"
}
# client_stop DESCRIPTION: stops the loop (after its current request) and
# asserts that it made requests and none failed (but for "control").
client_stop() {
	touch "$WORK/client.stop"
	wait "$CLIENT_PID"
	CLIENT_PID=""
	local n f
	[ "$1" = control ] && return 0
	n=$(grep -c . "$CLIENT_LOG")
	f=$(grep -c ' FAIL' "$CLIENT_LOG")
	echo "# client ($1): $n requests, $f failed; answers by version: $(awk '{ print $3 }' "$CLIENT_LOG" | sort | uniq -c | tr '\n' ' ')"
	if [ "$n" -ge 20 ]; then ok "$1: the client made requests ($n)"; else fail "$1: the client made requests" "$n"; fi
	if [ "$f" -eq 0 ]; then
		ok "$1: no failed request ($n requests)"
	else
		fail "$1: no failed request" "$f of $n failed:" "$(grep ' FAIL' "$CLIENT_LOG" | head -n 10)"
	fi
}

# sample_until PID LOG: samples web's pods until PID exits; sets SAMPLES,
# MAX_LIVE, MIN_READY, MIXED; one line per sample in LOG.
sample_until() {
	local pid=$1 log=$2 live ready hs
	SAMPLES=0 MAX_LIVE=0 MIN_READY=99 MIXED=0
	: >"$log"
	while kill -0 "$pid" 2>/dev/null; do
		read -r live ready hs <<<"$(web_pods)"
		echo "$(now_ms) $live $ready $hs" >>"$log"
		[ "$live" -gt "$MAX_LIVE" ] && MAX_LIVE=$live
		[ "$ready" -lt "$MIN_READY" ] && MIN_READY=$ready
		case "$hs" in *,*) MIXED=$((MIXED + 1)) ;; esac
		SAMPLES=$((SAMPLES + 1))
		sleep 0.05
	done
}
check_bounds() {
	echo "# $1: $SAMPLES samples, at most $MAX_LIVE live pods, at least $MIN_READY ready, $MIXED with old and new pods"
	if [ "$SAMPLES" -ge 10 ]; then ok "$1: pods sampled during it ($SAMPLES samples)"; else fail "$1: pods sampled during it" "$SAMPLES samples"; fi
	if [ "$MAX_LIVE" -le 5 ]; then ok "$1: never more than replicas + maxSurge = 5 live pods (max $MAX_LIVE)"; else fail "$1: never more than 5 live pods" "max $MAX_LIVE" "$(awk '$2 > 5' "$2")"; fi
	if [ "$MIN_READY" -ge 4 ]; then ok "$1: never fewer than replicas - maxUnavailable = 4 ready pods (min $MIN_READY)"; else fail "$1: never fewer than 4 ready pods" "min $MIN_READY" "$(awk '$3 < 4' "$2")"; fi
}

# --- revision 1 ---------------------------------------------------------------
check "a Deployment (4 replicas, maxSurge 1, maxUnavailable 0) and its Service are applied" \
	sh -c "cat '$WORK/web.yaml' > '$MNT/apply'"
out=$(timeout 60 cat "$D/web/rollout")
check_eq "revision 1 rolls out" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check "4 Running and Ready pods" deploy_ok web 4
check "4 endpoints" wait_until 10 sh -c "[ \$(grep -c . '$S/web/endpoints') = 4 ]"
CIP=$(cat "$S/web/clusterip")
check_contains "the ClusterIP is in the service range" "$CIP" "10.99."
RS1=$(rs_of_rev 1)
H1=${RS1#web-}
check_contains "the Service answers (v1)" "$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 3 busybox nc "$CIP" 80 | tail -n 1)" " v1"

# Control: the client records failed requests (a Service with no
# endpoints refuses every connection).
client_start control "$(cat "$S/nobody/clusterip")"
wait_until 10 sh -c "[ \$(grep -c . '$CLIENT_LOG') -ge 3 ]"
client_stop control
n=$(grep -c . "$CLIENT_LOG")
check "control: against a Service with no endpoints the client records only failures ($n requests)" \
	test "$n" -ge 3 -a "$(grep -c ' FAIL' "$CLIENT_LOG")" = "$n"

# --- revision 2 by sed -i, under traffic -----------------------------------------
client_start update
check "the client is sending requests" wait_until 10 sh -c "[ \$(grep -c . '$CLIENT_LOG') -ge 3 ]"
if sed -i 's/value: "1"/value: "2"/' "$D/web.yaml"; then ok "sed -i: VERSION 2"; else fail "sed -i: VERSION 2"; fi
t0=$(now_ms)
timeout 90 cat "$D/web/rollout" >"$WORK/rollout.out" 2>&1 &
catpid=$!
cfs_bg $catpid
sample_until $catpid "$WORK/samples.update"
wait $catpid
rc=$?
echo "# the update took $(($(now_ms) - t0)) ms"
check_eq "cat rollout of the update ends with exit 0" 0 "$rc"
check_bounds "update" "$WORK/samples.update"
if [ "$MIXED" -gt 0 ]; then ok "old and new pods served side by side"; else fail "old and new pods served side by side"; fi
sleep 1
client_stop "update"
check "web is rolled out: 4 Ready pods, the old ones gone after their grace period" wait_until 10 deploy_ok web 4
RS2=$(rs_of_rev 2)
H2=${RS2#web-}
check "a second ReplicaSet" test -n "$RS2" -a "$RS2" != "$RS1"
check_eq "every pod is of the new ReplicaSet $RS2" "4 4 $H2" "$(web_pods)"
check_eq "revision is 2" 2 "$(cat "$D/web/revision")"
check_eq "history lists 1.yaml 2.yaml" "1.yaml 2.yaml" "$(hist_ls)"
check_eq "the old ReplicaSet is kept at 0" 0 "$(cat "$RSD/$RS1/replicas")"
check_eq "the client saw v1 then v2 (the last answers are v2)" "v2" "$(tail -n 3 "$CLIENT_LOG" | awk '{ print $3 }' | sort -u)"

# --- rollback: revision 3 is the first template again -------------------------------
client_start rollback
sleep 1
if echo >"$D/web/rollback"; then ok "echo > rollback"; else fail "echo > rollback"; fi
timeout 90 cat "$D/web/rollout" >"$WORK/rollback.out" 2>&1 &
catpid=$!
cfs_bg $catpid
sample_until $catpid "$WORK/samples.rollback"
wait $catpid
check_eq "cat rollout of the rollback ends with exit 0" 0 "$?"
check_bounds "rollback" "$WORK/samples.rollback"
sleep 1
client_stop "rollback"
check_eq "revision is 3" 3 "$(cat "$D/web/revision")"
check_eq "revision 3 is the first ReplicaSet ($RS1)" "$RS1" "$(rs_of_rev 3)"
check_eq "every pod is of $RS1" "4 4 $H1" "$(web_pods)"
check_eq "the template has VERSION 1 again" '"1"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.env.0.value)"
check_eq "the client's last answers are v1" "v1" "$(tail -n 3 "$CLIENT_LOG" | awk '{ print $3 }' | sort -u)"

# --- a broken image: the rollout stalls, the old pods keep serving -----------------
client_start broken
sleep 1
sed -i -e 's/progressDeadlineSeconds: 600/progressDeadlineSeconds: 5/' -e 's/image: busybox$/image: nosuch:1/' "$D/web.yaml"
check_eq "sed -i: image nosuch:1, progressDeadlineSeconds 5" '5 "nosuch:1"' \
	"$(yvals "$D/web.yaml" spec.progressDeadlineSeconds) $(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
t0=$(now_ms)
timeout 60 cat "$D/web/rollout" >"$WORK/stall.out" 2>"$WORK/stall.err" &
catpid=$!
cfs_bg $catpid
sample_until $catpid "$WORK/samples.broken"
wait $catpid
rc=$?
ms=$(($(now_ms) - t0))
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then ok "cat rollout fails (exit $rc) after $ms ms"; else fail "cat rollout fails" "exit $rc after $ms ms"; fi
if [ $ms -ge 4000 ] && [ $ms -le 15000 ]; then ok "... after about the 5 s deadline ($ms ms)"; else fail "... after about the 5 s deadline" "$ms ms"; fi
check_contains "... with ETIMEDOUT" "$(cat "$WORK/stall.err")" "Connection timed out"
check_contains "... after kubectl's error line" "$(cat "$WORK/stall.out")" 'error: deployment "web" exceeded its progress deadline'
check_eq "status: Progressing False ProgressDeadlineExceeded, Available True" "False ProgressDeadlineExceeded True" \
	"$(yvals "$D/web/status" conditions.cond=Progressing.status conditions.cond=Progressing.reason conditions.cond=Available.status)"
echo "# broken: $SAMPLES samples, at most $MAX_LIVE live pods, at least $MIN_READY ready"
if [ "$MIN_READY" -ge 4 ]; then ok "broken: never fewer than 4 ready pods (min $MIN_READY, $SAMPLES samples)"; else fail "broken: never fewer than 4 ready pods" "min $MIN_READY" "$(awk '$3 < 4' "$WORK/samples.broken")"; fi
if [ "$MAX_LIVE" -le 5 ]; then ok "broken: never more than 5 live pods (max $MAX_LIVE)"; else fail "broken: never more than 5 live pods" "max $MAX_LIVE"; fi
check_eq "the old pods keep serving: 5 live, 4 ready" "5 4" "$(web_pods | awk '{ print $1, $2 }')"
check_eq "$RS1 still has its 4 pods" 4 "$(cat "$RSD/$RS1/replicas")"
sleep 1
client_stop "broken image"
check_eq "every answer came from the old pods (v1)" "v1" "$(awk '{ print $3 }' "$CLIENT_LOG" | sort -u)"

# Recover, so that the end state is clean: back to revision 3's template.
if echo >"$D/web/rollback"; then ok "echo > rollback from the broken revision"; else fail "echo > rollback from the broken revision"; fi
out=$(timeout 60 cat "$D/web/rollout")
check_eq "it recovers" 'deployment "web" successfully rolled out' "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "revision 5 is $RS1 again, 4 pods of it" "5 $RS1 4 4 $H1" "$(cat "$D/web/revision") $(rs_of_rev 5) $(web_pods)"

# --- percentages: maxSurge 50%, maxUnavailable 25% of 4 (2 up, 1 down) ---------
sed -i -e 's/maxSurge: 1$/maxSurge: 50%/' -e 's/maxUnavailable: 0$/maxUnavailable: 25%/' \
	-e 's/value: "1"/value: "4"/' "$D/web.yaml"
check_eq "sed -i: maxSurge 50%, maxUnavailable 25%" '"50%" "25%"' \
	"$(yget "$D/web.yaml" spec.strategy.rollingUpdate.maxSurge) $(yget "$D/web.yaml" spec.strategy.rollingUpdate.maxUnavailable)"
timeout 90 cat "$D/web/rollout" >"$WORK/pct.out" 2>&1 &
catpid=$!
cfs_bg $catpid
sample_until $catpid "$WORK/samples.pct"
wait $catpid
check_eq "the rollout with percentages completes" 0 "$?"
echo "# percentages: $SAMPLES samples, at most $MAX_LIVE live pods, at least $MIN_READY ready"
if [ "$MAX_LIVE" -le 6 ]; then ok "percentages: never more than 4 + ceil(50%) = 6 live pods (max $MAX_LIVE)"; else fail "percentages: never more than 6 live pods" "max $MAX_LIVE"; fi
if [ "$MIN_READY" -ge 3 ]; then ok "percentages: never fewer than 4 - floor(25%) = 3 ready (min $MIN_READY)"; else fail "percentages: never fewer than 3 ready" "min $MIN_READY"; fi
check_eq "revision 6, 4 new pods" "6 4 4" "$(cat "$D/web/revision") $(web_pods | awk '{ print $1, $2 }')"

check "the server is still running" cfs_alive
check_stop
cfs_done
