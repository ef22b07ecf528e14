# tests/e2e/lib.sh - sourced by every tests/e2e/t_*.sh (bash).
#
#     . "$(dirname "$0")/lib.sh"
#     cfs_start || cfs_abort "server did not start"
#     check "README is there" test -s "$MNT/README"
#     expect_errno EROFS "status is read-only" sh -c "echo x > $MNT/status"
#     cfs_done
#
# Each test gets its own temporary mount point ($MNT), data dir ($DATA) and
# work dir for input files ($WORK), all under one base dir made with mktemp.
# A trap on EXIT (INT and TERM exit, which runs it) tears down everything
# the test made: the server it started (by recorded PID, never by name),
# the mount, background helpers (by recorded PID), the temp dirs.
#
# The server runs its node agent only when the test sets CFS_AGENT=1
# before cfs_start (tests of the control plane alone get --no-agent, so that
# the machine's own node never takes their pods).  cfs_import_busybox
# imports the test image into $DATA.  At cleanup, `clusterfs reset` removes
# every container, pause process and mount the agents of a data dir made.
#
# Environment: CLUSTERFS (absolute path of the binary, required),
# CFS_E2E_RUN (set by run.sh: a directory where the base dirs are made and
# the PIDs of started servers are recorded, for its leak check).

set -u

: "${CLUSTERFS:?set CLUSTERFS to the absolute path of the clusterfs binary}"

T_NAME=$(basename "$0" .sh)
T_PASSED=0
T_FAILED=0
T_BASE=$(mktemp -d "${CFS_E2E_RUN:-/tmp}/cfs-e2e.$T_NAME.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
CFS_SRC=$(cd "$(dirname "$0")/../.." && pwd)
MNT=$T_BASE/mnt
DATA=$T_BASE/data
WORK=$T_BASE/work
mkdir -p "$MNT" "$DATA" "$WORK"
CFS_PID=""        # the server started by cfs_start, while it may run
CFS_STATUS=""     # its exit status, once reaped by cfs_stop / cfs_kill9
CFS_BG_PIDS=""    # other background processes to kill at cleanup
CFS_EXTRA_PIDS="" # other servers (e.g. a second one that should have failed)

# A fast python3 with PyYAML (Debian's), else whatever python3 is on PATH.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
if ! "$PY" -c 'import yaml' 2>/dev/null; then
	echo "Bail out! the end-to-end tests need python3 and python3-yaml (PyYAML)"
	rm -rf "$T_BASE"
	exit 1
fi

# Reporting

ok() {
	T_PASSED=$((T_PASSED + 1))
	echo "ok - $1"
}

# fail DESCRIPTION [DETAIL...]: the details are printed indented.
fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $1"
	shift
	local d
	for d in "$@"; do
		printf '%s\n' "$d" | head -c 2000 | sed 's/^/#   /'
	done
}

# check DESCRIPTION CMD...: ok if CMD exits 0.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc" "command: $*" "exit $rc: $out"
	fi
	return $rc
}

# check_not DESCRIPTION CMD...: ok if CMD exits non-zero.
check_not() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		ok "$desc"
		return 0
	fi
	fail "$desc" "command succeeded but should not have: $*" "output: $out"
	return 1
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
		return 0
	fi
	fail "$1" "expected: $(printf '%q' "$2")" "actual:   $(printf '%q' "$3")"
	return 1
}

# check_contains DESCRIPTION HAYSTACK NEEDLE (fixed string)
check_contains() {
	case "$2" in
	*"$3"*)
		ok "$1"
		return 0
		;;
	esac
	fail "$1" "expected to contain: $3" "actual: $2"
	return 1
}

# check_not_contains DESCRIPTION HAYSTACK NEEDLE (fixed string)
check_not_contains() {
	case "$2" in
	*"$3"*)
		fail "$1" "expected NOT to contain: $3" "actual: $2"
		return 1
		;;
	esac
	ok "$1"
	return 0
}

# check_quiet DESCRIPTION CMD...: ok if CMD exits 0 AND prints nothing (on
# stdout or stderr).  Unlike check_eq "" "$(CMD 2>/dev/null)", a CMD that
# fails (and so prints nothing on stdout) is a failure.
check_quiet() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "$desc"
		return 0
	fi
	fail "$desc" "command: $*" "exit $rc, output: $out"
	return 1
}

# errno_msg ENAME: the C library's message for an errno name.
errno_msg() {
	case "$1" in
	EPERM) echo "Operation not permitted" ;;
	ENOENT) echo "No such file or directory" ;;
	EIO) echo "Input/output error" ;;
	EACCES) echo "Permission denied" ;;
	EBUSY) echo "Device or resource busy" ;;
	EEXIST) echo "File exists" ;;
	ENOTDIR) echo "Not a directory" ;;
	EISDIR) echo "Is a directory" ;;
	EINVAL) echo "Invalid argument" ;;
	EFBIG) echo "File too large" ;;
	EROFS) echo "Read-only file system" ;;
	ENOTEMPTY) echo "Directory not empty" ;;
	ENOTCONN) echo "Transport endpoint is not connected" ;;
	ENAMETOOLONG) echo "File name too long" ;;
	ENOSPC) echo "No space left on device" ;;
	EMFILE) echo "Too many open files" ;;
	*) echo "$1" ;;
	esac
}

# expect_errno ENAME DESCRIPTION CMD...: CMD must fail, and what it prints
# must carry ENAME's message ("cp: ...: Invalid argument") or, for
# cfs_write, its name.  Sets LAST_OUT to what CMD printed.
LAST_OUT=""
expect_errno() {
	local ename=$1 desc=$2 msg rc
	shift 2
	msg=$(errno_msg "$ename")
	LAST_OUT=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$desc: fails with $ename" "command succeeded: $*" "output: $LAST_OUT"
		return 1
	fi
	case "$LAST_OUT" in
	*"$msg"* | *"$ename "*)
		ok "$desc: fails with $ename"
		return 0
		;;
	esac
	fail "$desc: fails with $ename" "command: $*" "exit $rc, output: $LAST_OUT"
	return 1
}

# expect_refusal ENAME REASON-REGEX DESCRIPTION CMD...: CMD (a write) must
# fail with ENAME (as expect_errno), and the one line it adds to
# $MNT/errors must read "... PATH: ENAME: REASON" with REASON matching
# REASON-REGEX (grep -E).  So a refusal for another reason, or one that
# is not logged, fails.
expect_refusal() {
	local ename=$1 re=$2 desc=$3 n line
	shift 3
	n=$(errors_lines)
	expect_errno "$ename" "$desc" "$@" || return 1
	line=$(errors_since "$n")
	if [ "$(printf '%s\n' "$line" | grep -c .)" != 1 ]; then
		fail "$desc: one line in errors" "lines added: $line"
		return 1
	fi
	if printf '%s\n' "$line" | grep -qE ": $ename: .*($re)"; then
		ok "$desc: the reason is logged"
		return 0
	fi
	fail "$desc: the reason is logged" "expected: $ename: ...$re..." "errors: $line"
	return 1
}

# Summary: prints the counts and exits (the EXIT trap cleans up).
cfs_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# cfs_abort MESSAGE: a failure the test cannot go on from.
cfs_abort() {
	fail "$1"
	if [ -s "$DATA/server.log" ]; then
		echo "# server.log (last lines):"
		tail -n 20 "$DATA/server.log" | sed 's/^/#   /'
	fi
	cfs_done
}

# Servers

# cfs_is_mounted [DIR]: DIR (default $MNT) is a mount point in
# /proc/mounts, even a dead one (stat on it would fail with ENOTCONN).
cfs_is_mounted() {
	awk -v m="${1:-$MNT}" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# cfs_alive [PID]: the process runs (and is not a zombie).
cfs_alive() {
	local pid=${1:-$CFS_PID} st
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# The process may be reaped between kill -0 and the read: unreadable is dead.
	st=$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != "Z" ]
}

_cfs_record_pid() {
	if [ -n "${CFS_E2E_RUN:-}" ]; then
		echo "$1" >>"$CFS_E2E_RUN/pids"
	fi
}

# cfs_start [SERVER OPTIONS...]: starts a server on $MNT and $DATA and
# waits (10 s at most) until the mount serves README.  With CFS_SIGINT_DFL
# set, the server starts with SIGINT's default action (not ignored).  Returns non-zero,
# with the server killed, if it does not come up.
cfs_start() {
	CFS_STATUS=""
	if cfs_alive; then
		echo "# cfs_start: server $CFS_PID is still running"
		return 1
	fi
	if cfs_is_mounted && [ -e "$MNT/README" ]; then
		echo "# cfs_start: a live mount is already at $MNT"
		return 1
	fi
	if [ "${CFS_AGENT:-0}" != 1 ]; then
		set -- --no-agent "$@"
	fi
	# HTTPS on a free port of 127.0.0.1 (servers run side by side); the
	# port is in $DATA/kubeconfig.  A later --listen in "$@" wins.
	set -- --listen "${CFS_LISTEN:-127.0.0.1:0}" "$@"
	if [ -n "${CFS_SIGINT_DFL:-}" ]; then
		# exec with SIGINT's default action (bash makes a background
		# job ignore it); the PID stays the server's.
		"$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$CLUSTERFS" server --mount "$MNT" --data-dir "$DATA" "$@" >>"$DATA/server.log" 2>&1 &
	else
		"$CLUSTERFS" server --mount "$MNT" --data-dir "$DATA" "$@" >>"$DATA/server.log" 2>&1 &
	fi
	CFS_PID=$!
	_cfs_record_pid "$CFS_PID"
	local i=0
	while [ $i -lt 200 ]; do
		if cfs_is_mounted && mountpoint -q "$MNT" 2>/dev/null && [ -e "$MNT/README" ]; then
			return 0
		fi
		if ! cfs_alive; then
			wait "$CFS_PID" 2>/dev/null
			CFS_STATUS=$?
			echo "# server exited with status $CFS_STATUS before mounting; server.log:"
			tail -n 20 "$DATA/server.log" | sed 's/^/#   /'
			CFS_PID=""
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "# server did not mount $MNT within 10 s; server.log:"
	tail -n 20 "$DATA/server.log" | sed 's/^/#   /'
	cfs_kill9
	return 1
}

# cfs_import_busybox [DATA_DIR]: imports the busybox test image (built by
# scripts/busybox-image.sh into build/images, or CFS_BUSYBOX_TAR) as
# busybox:latest.
cfs_import_busybox() {
	local tar=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
	if [ ! -s "$tar" ]; then
		sh "$CFS_SRC/scripts/busybox-image.sh" "$(dirname "$tar")" >/dev/null || return 1
	fi
	"$CLUSTERFS" image import --data-dir "${1:-$DATA}" "$tar" busybox:latest >/dev/null
}

# _cfs_reap TIMEOUT_TENTHS: waits for $CFS_PID to exit; sets CFS_STATUS.
_cfs_reap() {
	local i=0
	while cfs_alive && [ $i -lt "$1" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if cfs_alive; then
		return 1
	fi
	wait "$CFS_PID" 2>/dev/null
	CFS_STATUS=$?
	CFS_PID=""
	return 0
}

# cfs_stop: SIGTERM to the server; waits up to 10 s; returns 0 if it
# exited with status 0 and the mount is gone.  CFS_STATUS = exit status.
cfs_stop() {
	[ -n "$CFS_PID" ] || return 1
	kill -TERM "$CFS_PID" 2>/dev/null
	if ! _cfs_reap 100; then
		echo "# server $CFS_PID did not exit within 10 s of SIGTERM; killing it"
		cfs_kill9
		return 1
	fi
	if cfs_is_mounted; then
		echo "# $MNT is still mounted after the server exited"
		return 1
	fi
	[ "$CFS_STATUS" -eq 0 ]
}

# check_stop [DESCRIPTION]: cfs_stop as an assertion (never call cfs_stop,
# cfs_start or cfs_kill9 through check: in a subshell they cannot wait).
check_stop() {
	local desc=${1:-SIGTERM stops the server: exit 0, mount gone} rc
	cfs_stop >"$WORK/.stop.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc" "exit status: ${CFS_STATUS:-none}" "$(cat "$WORK/.stop.out")" \
			"server.log: $(tail -n 5 "$DATA/server.log")"
	fi
	return $rc
}

# cfs_kill9: SIGKILL to the server, as a crash; the mount stays (dead).
cfs_kill9() {
	[ -n "$CFS_PID" ] || return 1
	kill -KILL "$CFS_PID" 2>/dev/null
	_cfs_reap 100
}

# cfs_bg PID: a background helper to kill at cleanup.
cfs_bg() {
	CFS_BG_PIDS="$CFS_BG_PIDS $1"
}

# cfs_on_cleanup FUNCTION: runs FUNCTION first at cleanup (e.g. etcd_down,
# for processes whose PIDs change while the test runs).
CFS_CLEANUP_FNS=""
cfs_on_cleanup() {
	CFS_CLEANUP_FNS="$CFS_CLEANUP_FNS $1"
}

# wait_up SECONDS CMD...: until CMD succeeds.
wait_up() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# free_port: a TCP port nothing listens on at 127.0.0.1.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }
	done
}

cfs_unmount() {
	local m=$1
	if cfs_is_mounted "$m"; then
		fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	fi
}

cfs_cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in $CFS_CLEANUP_FNS; do
		"$p"
	done
	for p in $CFS_BG_PIDS; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for p in $CFS_EXTRA_PIDS $CFS_PID; do
		if cfs_alive "$p"; then
			kill -TERM "$p" 2>/dev/null
			local i=0
			while cfs_alive "$p" && [ $i -lt 50 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			cfs_alive "$p" && kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	# Containers, pause processes and their mounts, of every data dir.
	local d
	for d in "$T_BASE"/*/; do
		if [ -d "$d/runc" ] || [ -d "$d/pods" ]; then
			"$CLUSTERFS" reset --data-dir "${d%/}" >/dev/null 2>&1
		fi
	done
	# Every mount under the base dir (the test may make several).
	local m
	for m in $(awk -v b="$T_BASE/" 'index($2, b) == 1 { print $2 }' /proc/mounts); do
		cfs_unmount "$m"
	done
	if awk -v b="$T_BASE/" 'index($2, b) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
		echo "# cleanup: a mount under $T_BASE is still there; not removing it"
	else
		rm -rf --one-file-system "$T_BASE"
	fi
	exit $rc
}
trap cfs_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Helpers for files

# cfs_write PATH [SRC]: writes SRC's bytes (or stdin's) to PATH with one
# open(O_WRONLY|O_CREAT|O_TRUNC), write()s of at most 1 MiB until all is
# written, and close(), and prints "OK" or "ENAME (message) at STEP".
# Exits 0 only on success.  Unlike the shell, it reports close() errors.
CFS_PYWRITE='
import errno, os, sys
path = sys.argv[1]
src = sys.argv[2] if len(sys.argv) > 2 else None
data = open(src, "rb").read() if src else sys.stdin.buffer.read()
step = "open"
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    step = "write"
    off = 0
    while off < len(data):
        off += os.write(fd, data[off:off + (1 << 20)])
    step = "close"
    os.close(fd)
except OSError as e:
    print("%s (%s) at %s" % (errno.errorcode.get(e.errno, "E?"), os.strerror(e.errno), step))
    sys.exit(1)
print("OK")
'
cfs_write() {
	"$PY" -c "$CFS_PYWRITE" "$@"
}

# cfs_rename SRC DST: rename(2), printing "OK" or "ENAME (message)" (mv
# turns some errnos into other words: EINVAL reads "to a subdirectory of
# itself").
CFS_PYRENAME='
import errno, os, sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    print("%s (%s) at rename" % (errno.errorcode.get(e.errno, "E?"), os.strerror(e.errno)))
    sys.exit(1)
print("OK")
'
cfs_rename() {
	"$PY" -c "$CFS_PYRENAME" "$@"
}

# yget FILE PATH: the value at PATH (dots, "\." for a dot in a key; numbers
# index sequences) of the
# YAML in FILE, printed as JSON (strings too: "x"); "<missing>" if absent,
# "<unparsable: ...>" if FILE is not YAML.
CFS_PYYGET='
import json, re, sys, yaml
try:
    v = yaml.safe_load(open(sys.argv[1], "rb"))
except Exception as e:
    print("<unparsable: %s>" % str(e).replace("\n", " ")); sys.exit(0)
for part in [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", sys.argv[2]) if p]:
    try:
        v = v[int(part)] if isinstance(v, list) else v[part]
    except Exception:
        print("<missing>"); sys.exit(0)
print(json.dumps(v, sort_keys=True, default=str))
'
yget() {
	"$PY" -c "$CFS_PYYGET" "$1" "$2"
}

# web_deployment [NAME] [REPLICAS] [PORT]: the tests' Deployment manifest:
# NAME (default web) with REPLICAS (3) pods of nginx:1.25, selector and
# template labels app: NAME, and a containerPort PORT if one is given.
web_deployment() {
	local name=${1:-web}
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
spec:
  replicas: ${2:-3}
  selector:
    matchLabels:
      app: $name
  template:
    metadata:
      labels:
        app: $name
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
EOF
	if [ -n "${3:-}" ]; then
		printf '        ports:\n        - containerPort: %s\n' "$3"
	fi
}

# errors_lines: the number of lines in $MNT/errors now.
errors_lines() {
	wc -l <"$MNT/errors" 2>/dev/null || echo 0
}

# errors_since N: the lines of $MNT/errors after the first N.
errors_since() {
	tail -n +"$(($1 + 1))" "$MNT/errors" 2>/dev/null
}

# now_ms: milliseconds since the epoch.
now_ms() {
	date +%s%3N
}
