#!/bin/bash
# t_http_log_ts.sh - line times in `kubectl logs` (1.32 and 1.27), from the
# node's log relay: --timestamps (RFC 3339, 9 digits, UTC), --since and
# --since-time (lines before are left out), combined with --tail,
# --limit-bytes and -f; the log file itself byte-identical to the text
# kubectl shows without timestamps; a tty: true container; the apiserver's
# 422/400 for bad since values; and a server stopped (SIGTERM) and killed
# (SIGKILL) while a container writes: its relay goes on, the same file
# grows with times, and the next server serves it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-http-log-ts || cfs_abort "server did not start"

http_env
KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$KUBECTL" ] || KUBECTL=kubectl
KUBECTL_OLD=/usr/lib/google-cloud-sdk/bin/kubectl.1.27
[ -x "$KUBECTL_OLD" ] || KUBECTL_OLD=$KUBECTL
k() { KUBECONFIG=$DATA/kubeconfig "$KUBECTL" "$@"; }
k_old() { KUBECONFIG=$DATA/kubeconfig "$KUBECTL_OLD" "$@"; }

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z'
# strip: the text without each line's time and space
strip() { sed -E "s/^$TS //"; }
# all_stamped TEXT: every line starts with a time and a space
all_stamped() { [ -n "$1" ] && ! printf '%s\n' "$1" | grep -qvE "^$TS "; }
# secs_of LINE: the time of a stamped line, in seconds since the epoch (float)
secs_of() { "$PY" -c 'import sys, datetime as d
t = sys.argv[1].split(" ")[0]
s = d.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=d.timezone.utc)
print("%.9f" % (s.timestamp() + int(t[20:29]) / 1e9))' "$1"; }
# relays: the pids of this test's log relays
relays() {
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qE "^clusterfs(-| )logrelay $DATA/" &&
			{ p=${f#/proc/}; echo "${p%/cmdline}"; }
	done | sort
}

cat >"$WORK/ts.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ts
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "echo early-1; echo early-2; sleep 4; echo late-1; echo late-2 >&2; sleep 3600"]
EOF
cp "$WORK/ts.yaml" "$MNT/pods/" || cfs_abort "pod ts written"
check "pod ts wrote its early lines" wait_until 30 grep -q early-2 "$MNT/pods/ts/logs"
check "... and its late ones" wait_until 30 grep -q late-2 "$MNT/pods/ts/logs"
uid=$(yvals "$MNT/pods/ts.yaml" metadata.uid)
file=$DATA/logs/$uid/main/0.log

# --timestamps: each line, its time; without, the file's bytes as they are.
out=$(k logs ts --timestamps 2>&1)
check "--timestamps: every line stamped (RFC 3339, 9 digits, Z)" all_stamped "$out"
check_eq "--timestamps, stripped: the lines" "$(printf 'early-1\nearly-2\nlate-1\nlate-2')" \
	"$(printf '%s\n' "$out" | strip)"
check_eq "without: the log file's bytes" "$(cat "$file")" "$(k logs ts 2>&1)"
check_eq "... and pods/ts/logs" "$(cat "$MNT/pods/ts/logs")" "$(cat "$file")"
check "an index beside the log" test -s "$DATA/logs/$uid/main/0.idx"
old=$(k_old logs ts --timestamps 2>&1)
check_eq "kubectl 1.27 --timestamps: the same" "$out" "$old"
t_early=$(secs_of "$(printf '%s\n' "$out" | sed -n 2p)")
t_late=$(secs_of "$(printf '%s\n' "$out" | sed -n 3p)")
check "late-1 is stamped ~4 s after early-2" "$PY" -c \
	"import sys; d = $t_late - $t_early; sys.exit(not 3.5 < d < 6)"
check "the times are now's (within 60 s)" "$PY" -c \
	"import sys, time; sys.exit(not 0 <= time.time() - $t_late < 60)"

# --since: a window that holds the late lines but not the early ones.
check_eq "--since=1h: every line" "$(printf 'early-1\nearly-2\nlate-1\nlate-2')" \
	"$(k logs ts --since=1h 2>&1)"
n=$("$PY" -c "import math, time; print(math.ceil(time.time() - $t_late) + 1)")
check_eq "--since=${n}s: the late lines only" "$(printf 'late-1\nlate-2')" \
	"$(k logs ts --since="${n}s" 2>&1)"
check_eq "kubectl 1.27 --since=${n}s: the same" "$(printf 'late-1\nlate-2')" \
	"$(k_old logs ts --since="${n}s" 2>&1)"
sleep 2
check_eq "--since=1s, nothing written since: nothing" "" "$(k logs ts --since=1s 2>&1; echo -n)"
since=$("$PY" -c "import datetime as d; print(d.datetime.fromtimestamp(int($t_late), d.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
check_eq "--since-time=$since (late-1's second): the late lines" \
	"$(printf 'late-1\nlate-2')" "$(k logs ts --since-time="$since" 2>&1)"
check_eq "--since-time in the future: nothing" "" \
	"$(k logs ts --since-time=2099-01-01T00:00:00Z 2>&1; echo -n)"
check_eq "--tail=3 --since-time: the tail, then the since" "$(printf 'late-1\nlate-2')" \
	"$(k logs ts --tail=3 --since-time="$since" 2>&1)"
out=$(k logs ts --tail=1 --timestamps 2>&1)
check "--tail=1 --timestamps: one stamped line" all_stamped "$out"
check_eq "... late-2" "late-2" "$(printf '%s\n' "$out" | strip)"
full=$(k logs ts --timestamps 2>&1)
check_eq "--limit-bytes=40 --timestamps: the first 40 bytes, times counted" \
	"${full:0:40}" "$(k logs ts --timestamps --limit-bytes=40 2>&1)"

# the apiserver's refusals
a "/api/v1/namespaces/default/pods/ts/log?sinceSeconds=0" >/dev/null
check_eq "sinceSeconds=0: 422" 422 "$(code)"
a "/api/v1/namespaces/default/pods/ts/log?sinceSeconds=5&sinceTime=2020-01-01T00:00:00Z" >/dev/null
check_eq "sinceSeconds and sinceTime: 422" 422 "$(code)"
a "/api/v1/namespaces/default/pods/ts/log?sinceTime=yesterday" >/dev/null
check_eq "sinceTime=yesterday: 400" 400 "$(code)"
body=$(a "/api/v1/namespaces/default/pods/ts/log?timestamps=true&tailLines=1")
check_eq "timestamps=true over curl: 200" 200 "$(code)"
check "... stamped" all_stamped "$body"

# A tty: true container: its output is logged and stamped as any other.
cat >"$WORK/tty.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: tty
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    tty: true
    stdin: true
    command: ["sh", "-c", "echo on-a-tty; sleep 3600"]
EOF
cp "$WORK/tty.yaml" "$MNT/pods/" || cfs_abort "pod tty written"
check "tty: true: its line in pods/tty/logs" wait_until 30 grep -q on-a-tty "$MNT/pods/tty/logs"
out=$(k logs tty --timestamps 2>&1)
check "... and stamped by kubectl logs --timestamps" all_stamped "$out"

# -f --timestamps, with --tail and --since.
cat >"$WORK/tick.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: tick
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: t
    image: busybox:latest
    command: ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo tick-$i; sleep 0.2; done"]
EOF
cp "$WORK/tick.yaml" "$MNT/pods/" || cfs_abort "pod tick written"
check "tick ticks" wait_until 30 grep -q tick-3 "$MNT/pods/tick/logs"
k logs -f tick --timestamps --tail=1 --since=1h >"$WORK/follow.out" 2>&1 &
fpid=$!
cfs_bg "$fpid"
k_old logs -f tick --timestamps >"$WORK/follow_old.out" 2>&1 &
fpid_old=$!
cfs_bg "$fpid_old"
sleep 2
check "-f --timestamps --tail=1: lines appended since" wait_until 10 sh -c \
	"[ \$(wc -l <'$WORK/follow.out') -ge 5 ]"
kill "$fpid" "$fpid_old" 2>/dev/null
wait "$fpid" "$fpid_old" 2>/dev/null
out=$(cat "$WORK/follow.out")
check "-f: every line stamped" all_stamped "$out"
first=$(printf '%s\n' "$out" | strip | sed -n 1p)
n1=${first#tick-}
check_eq "-f: one line of the past (--tail=1), then each tick in order" \
	"$(seq "$n1" $((n1 + $(printf '%s\n' "$out" | wc -l) - 1)) | sed 's/^/tick-/')" \
	"$(printf '%s\n' "$out" | strip)"
check "kubectl 1.27 -f --timestamps: every line stamped" all_stamped "$(cat "$WORK/follow_old.out")"
check_contains "... from the first tick" "$(cat "$WORK/follow_old.out")" " tick-1"

# The server stopped and killed while tick writes: the relay goes on.
tuid=$(yvals "$MNT/pods/tick.yaml" metadata.uid)
tfile=$DATA/logs/$tuid/t/0.log
r_before=$(relays)
check "one relay per running container (3)" test "$(printf '%s\n' "$r_before" | grep -c .)" -eq 3
ino=$(stat -c %i "$tfile")
for r in $r_before; do
	echo "# relay $r ($(cut -d ' ' -f 1 "/proc/$r/cmdline" | tr '\0' ' ' | cut -d ' ' -f 1)):" \
		"$(awk '/^(Rss|Pss|Private_Clean|Private_Dirty):/ { printf "%s %s kB  ", $1, $2 }' "/proc/$r/smaps_rollup")"
done
echo "# server: $(awk '/^(Rss|Pss):/ { printf "%s %s kB  ", $1, $2 }' "/proc/$CFS_PID/smaps_rollup")"
check_stop "SIGTERM stops the server"
check "the relays outlive the server" test "$(relays)" = "$r_before"
n_stop=$(grep -c . "$tfile")
check "tick's log grows while no server runs" wait_until 10 sh -c \
	"[ \$(grep -c . '$tfile') -ge $((n_stop + 5)) ]"
cfs_start --node-name t-http-log-ts || cfs_abort "server did not start again"
check_eq "the same log file (not restarted)" "$ino" "$(stat -c %i "$tfile")"
check "the same relays" test "$(relays)" = "$r_before"
out=$(k logs tick --timestamps --tail=3 2>&1)
check "after the restart: the last lines, stamped" all_stamped "$out"
last=$(printf '%s\n' "$out" | strip | tail -n 1)
check "... the ones written after the stop" test "${last#tick-}" -gt "$n_stop"
got=$(printf '%s\n' "$out" | strip)
check_eq "... the same lines as in pods/tick/logs" \
	"$(grep -x -A2 "$(printf '%s\n' "$got" | head -n 1)" "$MNT/pods/tick/logs")" "$got"
t_now=$(secs_of "$(printf '%s\n' "$out" | tail -n 1)")
check "... stamped now (within 5 s)" "$PY" -c \
	"import sys, time; sys.exit(not 0 <= time.time() - $t_now < 5)"
cfs_kill9
cfs_unmount "$MNT"
check "the relays outlive a SIGKILLed server" test "$(relays)" = "$r_before"
n_kill=$(grep -c . "$tfile")
check "tick's log grows after the kill" wait_until 10 sh -c \
	"[ \$(grep -c . '$tfile') -ge $((n_kill + 5)) ]"
cfs_start --node-name t-http-log-ts || cfs_abort "server did not start after the kill"
out=$(k logs tick --timestamps --since=2s 2>&1)
check "after the kill: --since=2s has recent stamped lines" all_stamped "$out"
check_eq "the same log file still" "$ino" "$(stat -c %i "$tfile")"
cp "$tfile" "$WORK/tick.snap"
check_eq "... and the file holds every tick, in order, once" \
	"$(seq 1 "$(grep -c . "$WORK/tick.snap")" | sed 's/^/tick-/')" "$(cat "$WORK/tick.snap")"

# The relays end with their containers.
rm "$MNT/pods/tick.yaml" "$MNT/pods/ts.yaml" "$MNT/pods/tty.yaml"
no_relays() { [ -z "$(relays)" ]; }
check "the pods are gone" wait_until 60 sh -c "! ls '$MNT/pods/' | grep -qE '^(ts|tty|tick)$'"
check "the relays end when their containers do" wait_until 30 no_relays
for r in $(relays); do echo "# left: $r $(tr '\0' ' ' <"/proc/$r/cmdline")"; done
check_eq "none is a zombie of the server" "" \
	"$(ps -o stat=,args= --ppid "$CFS_PID" 2>/dev/null | grep '^Z' || true)"

cfs_done
