#!/bin/bash
# t_lifecycle.sh - the command line: version, --help, bad usage; SIGTERM and
# SIGINT unmount cleanly; data survives a restart; `clusterfs reset`
# removes the store and refuses while a server runs; --no-agent.
. "$(dirname "$0")/lib.sh"

# The command line.

out=$("$CLUSTERFS" version 2>&1)
rc=$?
check_eq "clusterfs version exits 0" 0 "$rc"
if [[ $out =~ ^clusterfs\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then ok "clusterfs version prints 'clusterfs X.Y.Z' ($out)"; else fail "clusterfs version prints 'clusterfs X.Y.Z'" "$out"; fi
out=$("$CLUSTERFS" --help 2>/dev/null)
rc=$?
check_eq "clusterfs --help exits 0" 0 "$rc"
for w in server reset version --mount --data-dir --no-agent; do
	check_contains "--help mentions $w" "$out" "$w"
done
out=$("$CLUSTERFS" server --help 2>/dev/null)
check_eq "clusterfs server --help exits 0 and prints the usage" 0 "$?"
check_contains "server --help prints the usage" "$out" "usage:"
"$CLUSTERFS" >/dev/null 2>&1
check_eq "no command: exit 2" 2 "$?"
out=$("$CLUSTERFS" frobnicate 2>&1)
check_eq "an unknown command: exit 2" 2 "$?"
check_contains "an unknown command is named" "$out" "frobnicate"
out=$("$CLUSTERFS" server --mount "$MNT" --data-dir "$DATA" --bogus 2>&1)
check_eq "an unknown option: exit 2" 2 "$?"
check_not "an unknown option mounts nothing" cfs_is_mounted
out=$("$CLUSTERFS" server --mount "$MNT" --data-dir "$DATA" extra 2>&1)
check_eq "an extra argument: exit 2" 2 "$?"

# SIGTERM unmounts cleanly; the data survives.

cfs_start || cfs_abort "server starts and mounts $MNT"
check "the mount is of type fuse.clusterfs" bash -c "awk -v m='$MNT' '\$2 == m { print \$3 }' /proc/mounts | grep -qx fuse.clusterfs"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  k: kept\n' >"$WORK/keep.yaml"
check "cp a ConfigMap" cp "$WORK/keep.yaml" "$MNT/configmaps/"
check "state.db is in the data dir" test -s "$DATA/state.db"
check_stop "SIGTERM: exit 0 and the mount is gone"
check_eq "the mount point is an empty folder again" "" "$(ls -A "$MNT")"
cfs_start || cfs_abort "server restarts"
check_eq "the ConfigMap survived a clean restart" kept "$(cat "$MNT/configmaps/keep/data/k")"
check_stop
# SIGINT too.  A background job of a script starts with SIGINT ignored
# (and libfuse leaves an ignored signal alone), so the server is started
# with SIGINT's default action, as from a terminal.
CFS_SIGINT_DFL=1 cfs_start || cfs_abort "server restarts"
kill -INT "$CFS_PID"
if _cfs_reap 100; then
	check_eq "SIGINT: exit 0" 0 "$CFS_STATUS"
	check_not "SIGINT: the mount is gone" cfs_is_mounted
else
	fail "SIGINT stops the server within 10 s"
	cfs_kill9
fi

# SIGTERM while a reader holds a file open and a writer has written half a
# manifest and not closed it.
cfs_start || cfs_abort "server restarts"
"$PY" -c '
import os, sys, time
r = os.open(sys.argv[1] + "/README", os.O_RDONLY)
w = os.open(sys.argv[1] + "/configmaps/halfway.yaml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.write(w, b"apiVersion: v1\nkind: ConfigMap\n")
print("open", flush=True)
time.sleep(30)
' "$MNT" >"$WORK/holder.out" 2>&1 &
HOLDER=$!
cfs_bg "$HOLDER"
i=0
while [ ! -s "$WORK/holder.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "a process holds README and a half-written manifest open" open "$(cat "$WORK/holder.out")"
kill -TERM "$CFS_PID"
if _cfs_reap 100; then
	check_eq "SIGTERM with open files: exit 0" 0 "$CFS_STATUS"
	check_not "SIGTERM with open files: the mount is gone from /proc/mounts" cfs_is_mounted
else
	fail "SIGTERM with open files: the server exits within 10 s"
	cfs_kill9
fi
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
CFS_BG_PIDS=""
cfs_unmount "$MNT"
cfs_start || cfs_abort "server restarts after a stop with open files"
check_not "a manifest never closed was not applied" test -e "$MNT/configmaps/halfway.yaml"
check "the ConfigMap is still there" test -f "$MNT/configmaps/keep.yaml"

# reset.

out=$("$CLUSTERFS" reset --data-dir "$DATA" 2>&1)
rc=$?
check_not "reset refuses while a server runs on the data dir (exit $rc)" test "$rc" -eq 0
check_contains "reset says the data dir is in use" "$out" "in use"
check "state.db is still there after the refused reset" test -s "$DATA/state.db"
check_eq "the running server still serves" kept "$(cat "$MNT/configmaps/keep/data/k")"
check_stop
out=$("$CLUSTERFS" reset --data-dir "$DATA" 2>&1)
check_eq "reset of a stopped data dir exits 0" 0 "$?"
check_contains "reset says what it reset" "$out" "reset"
check_not "state.db is gone after reset" test -e "$DATA/state.db"
check_not "state.db-wal is gone after reset" test -e "$DATA/state.db-wal"
cfs_start || cfs_abort "server starts after reset"
check_eq "after reset: namespaces has only default and kube-node-lease" \
	"default default.yaml kube-node-lease kube-node-lease.yaml" "$(ls "$MNT/namespaces" | tr '\n' ' ' | sed 's/ $//')"
check_quiet "after reset: no ConfigMaps" ls "$MNT/configmaps"
check_quiet "after reset: no Deployments" ls "$MNT/deployments"
check_stop
out=$("$CLUSTERFS" reset --data-dir "$T_BASE/never-made" 2>&1)
check_eq "reset of a missing data dir exits 0" 0 "$?"
check_not "reset did not make the missing data dir" test -e "$T_BASE/never-made"

# --no-agent.

# (CFS_AGENT=1: cfs_start adds no --no-agent of its own; the test gives it)
CFS_AGENT=1 cfs_start --no-agent || cfs_abort "server starts with --no-agent"
check_contains "--no-agent: the server says it runs the control plane only" \
	"$(cat "$DATA/server.log")" "control plane only (--no-agent)"
check_quiet "--no-agent: no node registers" ls "$MNT/nodes"
check "--no-agent: writes work" cp "$WORK/keep.yaml" "$MNT/configmaps/"
check_contains "--no-agent: status works" "$(cat "$MNT/status")" "nodes:"
check_stop
# --verbose is accepted too.
ndebug=$(grep -c 'Z debug ' "$DATA/server.log")
cfs_start -v || cfs_abort "server starts with -v"
check_stop
check "-v logs debug lines (none before)" test "$ndebug" -eq 0 -a "$(grep -c 'Z debug ' "$DATA/server.log")" -gt 0

cfs_done
