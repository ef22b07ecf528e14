#!/bin/bash
# t_bounds.sh - bad input, bounded (docs/security.md, "Bad input"):
#   - 1 MiB YAML alias bombs (tests/bench/alias_bomb.py), through the
#     filesystem and through the HTTP API: each refused (EFBIG / 413) in
#     under a second, the server's peak RSS growing by less than 64 MiB;
#   - --store-quota: writes past it refused with ENOSPC and a line in
#     errors, deletes still work, and writes resume once deletes made room;
#   - a full disk (the data dir on a small tmpfs): writes refused with
#     ENOSPC, deletes still work, writes resume once there is room.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

BOMB=$CFS_SRC/tests/bench/alias_bomb.py
W=$WORK

# rss_kib FIELD: the server's VmRSS or VmHWM in KiB.
rss_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$CFS_PID/status"; }

# bomb_check DESC SHAPE CMD...: runs CMD (which must fail), then checks the
# time it took and the server's peak RSS growth; prints the figures.
bomb_check() {
	local desc=$1 shape=$2 rss0 t0 t1 ms grew
	shift 2
	echo 5 >"/proc/$CFS_PID/clear_refs" # VmHWM := VmRSS
	rss0=$(rss_kib VmRSS)
	t0=$(now_ms)
	"$@" >"$W/out" 2>&1 && fail "$desc: refused" "$(cat "$W/out")"
	t1=$(now_ms)
	ms=$((t1 - t0))
	grew=$(($(rss_kib VmHWM) - rss0))
	echo "# alias bomb $shape $desc: refused in $ms ms, server peak RSS +$grew KiB"
	echo "$shape $desc $ms $grew" >>"$W/figures"
	check "$desc ($shape): refused in under a second ($ms ms)" test "$ms" -lt 1000
	check "$desc ($shape): RSS grew by less than 64 MiB ($grew KiB)" test "$grew" -lt 65536
}

# post_yaml FILE: POSTs FILE as a Pod; fails unless the answer is 2xx.
post_yaml() {
	a /api/v1/namespaces/default/pods -X POST -H "Content-Type: application/yaml" \
		--data-binary "@$1" >/dev/null
	echo "HTTP $(code): $(cat "$WORK/body")"
	case $(code) in 2*) return 0 ;; esac
	return 1
}

# cm NAME BYTES: a ConfigMap manifest with BYTES of data.
cm() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  d: "' "$1"
	head -c "$2" /dev/zero | tr '\0' 'q'
	printf '"\n'
}

# ---- alias bombs ----

cfs_start || cfs_abort "server starts"
http_env
for shape in long wide deep small; do
	"$PY" "$BOMB" "$shape" >"$W/bomb-$shape.yaml"
done
check "the bombs are 1 MiB (less 4 KiB)" test "$(stat -c %s "$W/bomb-long.yaml")" -gt 1040000
for shape in long wide deep small; do
	n=$(errors_lines)
	bomb_check "cp into pods/" "$shape" cp "$W/bomb-$shape.yaml" "$MNT/pods/bomb.yaml"
	check_contains "cp ($shape): errors names EFBIG and the reason" "$(errors_since "$n")" \
		"EFBIG: "
	check "cp ($shape): the reason names the alias expansion" \
		grep -qE "aliases expand past|too many nodes" "$MNT/errors"
	bomb_check "POST over HTTP" "$shape" post_yaml "$W/bomb-$shape.yaml"
	check_eq "POST ($shape): 413" 413 "$(code)"
	check_contains "POST ($shape): the Status says why" "$(cat "$WORK/body")" "alias"
done
check_eq "no pod was made" "" "$(ls "$MNT/pods")"
check "the server is alive and serving" cat "$MNT/status"

# ---- scratch files and write handles, per caller ----

C=$MNT/configmaps
for i in $(seq 1 64); do
	: >"$C/.s$i.yaml.swp" || fail "scratch file $i"
done
check_eq "64 scratch files are made" 64 "$(ls -a "$C" | grep -c '^\.s[0-9]*\.yaml\.swp$')"
expect_refusal EMFILE "scratch files" "a 65th scratch file" sh -c ": >'$C/.s65.yaml.swp'"
check "a scratch file removed" rm "$C/.s64.yaml.swp"
check "makes room for another" sh -c ": >'$C/.s65.yaml.swp'"
rm -f "$C"/.s*.yaml.swp
check_eq "the scratch files are gone" 0 "$(ls -a "$C" | grep -c '\.swp$')"
# bytes: 16 MiB a file (the most one may hold), 64 MiB a caller
rss0=$(rss_kib VmRSS)
for i in 1 2 3 4; do
	dd if=/dev/zero of="$C/big$i.yaml~" bs=1M count=16 2>/dev/null || fail "16 MiB scratch file $i"
done
expect_refusal ENOSPC "bytes held in scratch files" "a byte past 64 MiB of scratch files" \
	cfs_write "$C/big5.yaml~" /etc/hostname
check "truncating one makes room" sh -c ": >'$C/big4.yaml~' && echo x >'$C/big5.yaml~'"
rm -f "$C"/big*.yaml~
echo "# scratch files: server RSS +$(($(rss_kib VmRSS) - rss0)) KiB after 64 MiB written and removed"
# open write handles: 1024 a caller (the shell's own limit raised past it)
cat >"$W/handles.py" <<'PYEOF'
import errno, os, sys
fds = []
try:
    for i in range(int(sys.argv[2])):
        fds.append(os.open(sys.argv[1], os.O_WRONLY))
except OSError as e:
    print("%s after %d" % (errno.errorcode.get(e.errno), len(fds)))
    sys.exit(1)
print("OK %d" % len(fds))
PYEOF
: >"$C/.h.yaml.swp"
n=$(errors_lines)
out=$(ulimit -n 4096 && "$PY" "$W/handles.py" "$C/.h.yaml.swp" 1100)
check_eq "the 1025th write handle is refused" "EMFILE after 1024" "$out"
check "errors says why" sh -c "tail -n +$((n + 1)) '$MNT/errors' | grep -q 'files open for writing'"
out=$(ulimit -n 4096 && "$PY" "$W/handles.py" "$C/.h.yaml.swp" 1024)
check_eq "closed handles are given back" "OK 1024" "$out"
rm -f "$C/.h.yaml.swp"
check "the server is alive and serving" cat "$MNT/status"
cfs_stop

# ---- the store quota ----

cfs_start --store-quota 4M || cfs_abort "server starts with --store-quota 4M"
n=0
for i in $(seq 1 400); do
	cm "cm$i" 16384 >"$W/cm.yaml"
	if ! cp "$W/cm.yaml" "$MNT/configmaps/cm$i.yaml" 2>"$W/cp.err"; then
		n=$i
		break
	fi
done
echo "# the quota refused configmap $n (16 KiB each)"
check "the quota refuses a write at last" test "$n" -gt 10
check_contains "cp past the quota: ENOSPC" "$(cat "$W/cp.err")" "No space left on device"
check "errors says database space exceeded" \
	grep -qE "configmaps/cm$n.yaml: ENOSPC: .*database space exceeded" "$MNT/errors"
check "rm works over the quota" rm "$MNT/configmaps/cm1.yaml"
check "rm works over the quota, twice" rm "$MNT/configmaps/cm2.yaml"
# the refusal made the log keep only its newest revisions: room again
check "cp works again after the deletes" cp "$W/cm.yaml" "$MNT/configmaps/cm$n.yaml"
check_eq "the objects are what was written" "$((n - 2))" "$(ls "$MNT/configmaps" | grep -c '^cm[0-9]*\.yaml$')"
cfs_stop

# ---- a full disk ----

DISK=$T_BASE/disk
mkdir -p "$DISK"
if mount -t tmpfs -o size=48m cfs-bounds "$DISK" 2>"$W/mount.err"; then
	DATA=$DISK/data
	mkdir -p "$DATA"
	cfs_start || cfs_abort "server starts on a 48 MiB tmpfs"
	check "the reserve is kept" test -s "$DATA/state.db.reserve"
	for i in 1 2 3; do
		cm "d$i" 1000 >"$W/d.yaml"
		cp "$W/d.yaml" "$MNT/configmaps/d$i.yaml" || fail "cp d$i"
	done
	# everything else on the disk fills it
	dd if=/dev/zero of="$DISK/filler" bs=1M 2>/dev/null
	cm d4 1000 >"$W/d.yaml"
	expect_refusal ENOSPC "the disk is full" "cp on a full disk" \
		cp "$W/d.yaml" "$MNT/configmaps/d4.yaml"
	check "rm works on a full disk" rm "$MNT/configmaps/d1.yaml"
	check "rm works on a full disk, twice" rm "$MNT/configmaps/d2.yaml"
	check "d1 and d2 are gone" test ! -e "$MNT/configmaps/d1.yaml" -a ! -e "$MNT/configmaps/d2.yaml"
	rm -f "$DISK/filler"
	check "cp works once there is room" cp "$W/d.yaml" "$MNT/configmaps/d4.yaml"
	check "the reserve is back" test -s "$DATA/state.db.reserve"
	cfs_stop
	umount "$DISK" || umount -l "$DISK"
else
	fail "mount a tmpfs for the full-disk test" "$(cat "$W/mount.err")"
fi

cfs_done
