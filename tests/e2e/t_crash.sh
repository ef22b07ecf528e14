#!/bin/bash
# t_crash.sh - durability: every write acknowledged before a kill -9 is
# there after a restart on the same data dir; the dead mount a crash leaves
# is cleared by the next start; one server per data dir.
. "$(dirname "$0")/lib.sh"

cfs_start || cfs_abort "server starts and mounts $MNT"

# The writer: cp of distinct ConfigMaps cm-1, cm-2, ... in a loop; after
# each cp that returned 0 it records the name.  It stops at the first
# failure (the server is gone) or after 5000.
cat >"$WORK/writer.sh" <<'EOF'
mnt=$1 work=$2
i=1
while [ $i -le 5000 ]; do
	f=$work/in/cm-$i.yaml
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  value: "value-%d"\n  note: |\n    written %d\n    second line\n' $i $i $i >"$f"
	if cp "$f" "$mnt/configmaps/cm-$i.yaml" 2>>"$work/writer.err"; then
		echo "cm-$i" >>"$work/acked"
	else
		echo "cm-$i" >"$work/failed-at"
		exit 0
	fi
	i=$((i + 1))
done
EOF
mkdir -p "$WORK/in"
: >"$WORK/acked"
bash "$WORK/writer.sh" "$MNT" "$WORK" &
WRITER=$!
cfs_bg "$WRITER"
# until the writer has had some writes acknowledged (10 s at most)
for _ in $(seq 100); do
	[ "$(grep -c . "$WORK/acked")" -ge 5 ] && break
	sleep 0.1
done
pid_before=$CFS_PID
cfs_kill9
check_eq "kill -9 ends the server" "" "$CFS_PID"
# The writer notices on its next cp.
i=0
while kill -0 "$WRITER" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_not "the writer stopped after the crash" kill -0 "$WRITER"
wait "$WRITER" 2>/dev/null
acked=$(wc -l <"$WORK/acked")
if [ "$acked" -gt 0 ]; then ok "the writer had $acked writes acknowledged before the crash"; else fail "some writes were acknowledged before the crash" "writer.err: $(cat "$WORK/writer.err")"; fi
check "the writer's last cp failed (the crash happened mid-stream)" test -s "$WORK/failed-at"

# The dead mount is still there.
check "after kill -9 the mount is still in /proc/mounts" cfs_is_mounted
expect_errno ENOTCONN "stat of the dead mount" stat "$MNT/README"

# Restart on the same data dir and mount point.
cfs_start || cfs_abort "the server restarts on the dead mount"
ok "the server restarts on the same data dir and mount point"
check_eq "exactly one mount at $MNT (the dead one was cleared)" 1 "$(awk -v m="$MNT" '$2 == m' /proc/mounts | wc -l)"
check_not "the new server is a new process" test "$CFS_PID" = "$pid_before"
grep -q 'stale' "$DATA/server.log" && ok "the server log says it cleared the stale mount" ||
	fail "the server log says it cleared the stale mount" "$(tail -n 5 "$DATA/server.log")"

# Every acknowledged object is there, with its content.
missing=""
wrong=""
for name in $(cat "$WORK/acked"); do
	i=${name#cm-}
	v=$(cat "$MNT/configmaps/$name/data/value" 2>/dev/null)
	if [ $? -ne 0 ]; then
		missing="$missing $name"
	elif [ "$v" != "value-$i" ] || [ "$(cat "$MNT/configmaps/$name/data/note")" != "written $i
second line" ]; then
		wrong="$wrong $name"
	fi
done
check_eq "every acknowledged ConfigMap survived the crash" "" "$missing"
check_eq "every acknowledged ConfigMap has its content" "" "$wrong"
# No object but the acknowledged ones and, perhaps, the one in flight.
present=$(ls "$MNT/configmaps" | grep '\.yaml$' | sed 's/\.yaml$//' | sort -t- -k2 -n)
expected=$(cat "$WORK/acked")
inflight=$(cat "$WORK/failed-at" 2>/dev/null)
if [ "$present" = "$expected" ]; then
	ok "exactly the acknowledged ConfigMaps are present ($acked)"
elif [ "$present" = "$(printf '%s\n%s' "$expected" "$inflight")" ]; then
	ok "the acknowledged ConfigMaps are present, and the one in flight ($inflight) was committed"
else
	fail "exactly the acknowledged ConfigMaps (and perhaps the one in flight) are present" \
		"extra: $(comm -13 <(echo "$expected" | sort) <(echo "$present" | sort) | tr '\n' ' ')" \
		"missing: $(comm -23 <(echo "$expected" | sort) <(echo "$present" | sort) | tr '\n' ' ')"
fi
check_eq "namespace default survived" '"default"' "$(yget "$MNT/namespaces/default.yaml" metadata.name)"

# The store goes on: writes after the restart work and get higher revisions.
last=$(tail -n 1 "$WORK/acked")
rv_old=$(yget "$MNT/configmaps/$last.yaml" metadata.resourceVersion | tr -d '"')
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\ndata:\n  k: v\n' >"$WORK/after.yaml"
check "a write after the restart" cp "$WORK/after.yaml" "$MNT/configmaps/after.yaml"
rv_new=$(yget "$MNT/configmaps/after.yaml" metadata.resourceVersion | tr -d '"')
if [ "$rv_new" -gt "$rv_old" ] 2>/dev/null; then
	ok "revisions go on after the restart ($rv_old -> $rv_new)"
else
	fail "revisions go on after the restart" "last acked $rv_old, new $rv_new"
fi

# One server per data dir: a second one on the same data dir refuses.
MNT2=$T_BASE/mnt2
mkdir -p "$MNT2"
"$CLUSTERFS" server --mount "$MNT2" --data-dir "$DATA" >"$WORK/second.log" 2>&1 &
second=$!
CFS_EXTRA_PIDS="$second"
_cfs_record_pid "$second"
i=0
while cfs_alive "$second" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if cfs_alive "$second"; then
	fail "a second server on the same data dir exits" "it still runs after 5 s"
else
	wait "$second"
	rc=$?
	check_not "a second server on the same data dir exits non-zero (exit $rc)" test "$rc" -eq 0
fi
check_contains "it says the data dir is in use" "$(cat "$WORK/second.log")" "in use"
check_not "it did not mount $MNT2" cfs_is_mounted "$MNT2"
check "the first server still serves" test -f "$MNT/configmaps/after.yaml"
# A second server on the same mount point (another data dir) refuses too.
mkdir -p "$T_BASE/data2"
"$CLUSTERFS" server --mount "$MNT" --data-dir "$T_BASE/data2" >"$WORK/third.log" 2>&1 &
third=$!
CFS_EXTRA_PIDS="$second $third"
_cfs_record_pid "$third"
i=0
while cfs_alive "$third" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
mounts_now=$(awk -v m="$MNT" '$2 == m' /proc/mounts | wc -l)
if cfs_alive "$third"; then
	fail "a second server on a mount point in use exits" \
		"it still runs after 5 s, mounted over the first one ($mounts_now mounts at $MNT):" \
		"$(cat "$WORK/third.log")"
	kill -TERM "$third"
	wait "$third"
else
	wait "$third"
	rc=$?
	check_not "a second server on a mount point in use exits non-zero (exit $rc)" test "$rc" -eq 0
fi
check_eq "exactly one mount at $MNT while the second server tried" 1 "$mounts_now"
check_eq "exactly one mount at $MNT after it" 1 "$(awk -v m="$MNT" '$2 == m' /proc/mounts | wc -l)"
check "the first server still serves after that" test -f "$MNT/configmaps/after.yaml"

check_stop
# And a clean restart after a clean stop keeps everything too.
cfs_start || cfs_abort "the server restarts after a clean stop"
check "after a clean restart, the last acknowledged ConfigMap is there" test -f "$MNT/configmaps/$last.yaml"
check "after a clean restart, 'after' is there" test -f "$MNT/configmaps/after.yaml"
check_stop
cfs_done
