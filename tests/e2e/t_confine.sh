#!/bin/bash
# t_confine.sh - a container's default confinement, proved from inside real
# runc containers: under RuntimeDefault seccomp (an allow-list), Docker's
# capabilities, masked and read-only /proc paths and no_new_privs, the
# escapes a container must not have fail (unshare -U, clone(CLONE_NEWUSER),
# clone3, io_uring_setup, keyctl, bpf, mount, writing /proc/sys and
# /proc/sysrq-trigger, reading /proc/kcore); the same probes succeed in a
# privileged pod (so the test cannot pass vacuously) and a container given
# CAP_SYS_ADMIN gets exactly the calls Docker's profile ties to it; a fork
# bomb is stopped by the pod's pids limit while the node stays healthy and
# the pod can be deleted.
#
# The probes are tests/e2e/probe.c, built static (CFS_PROBE, or built here
# with gcc) and layered onto the busybox image as cfs-probe:latest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

P=$MNT/pods
NODE=t-confine-node
PIDS_LIMIT=64

# probe_image: the busybox image plus /bin/probe, imported as cfs-probe:latest.
probe_image() {
	local probe=${CFS_PROBE:-} tar=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
	if [ -z "$probe" ] || [ ! -x "$probe" ]; then
		probe=$WORK/probe.bin
		gcc -static -O2 -o "$probe" "$CFS_SRC/tests/e2e/probe.c" || return 1
	fi
	# the layer made by tar (umoci insert's own writer leaves the last
	# file's padding out), added verbatim
	mkdir -p "$WORK/probe-root/bin" && cp "$probe" "$WORK/probe-root/bin/probe" &&
		tar -C "$WORK/probe-root" --owner=0 --group=0 -cf "$WORK/probe-layer.tar" bin/probe &&
		skopeo --insecure-policy copy -q "oci-archive:$tar:latest" "oci:$WORK/probe-layout:latest" &&
		umoci raw add-layer --image "$WORK/probe-layout:latest" "$WORK/probe-layer.tar" >/dev/null &&
		"$CLUSTERFS" image import --data-dir "$DATA" "$WORK/probe-layout" cfs-probe:latest >/dev/null
}

cfs_import_busybox || cfs_abort "importing the busybox image failed"
probe_image || cfs_abort "building the probe image failed"
CFS_AGENT=1
cfs_start --node-name "$NODE" --pod-pids-limit "$PIDS_LIMIT" || cfs_abort "server did not start"
check "the agent registers its node" wait_until 10 test -e "$MNT/nodes/$NODE.yaml"

# The probes, one line each ("NAME ok" or "NAME ERRNO"), then busybox's
# own unshare and mount, /proc files, and the process's status lines.
SCRIPT='probe
unshare -U true; echo "unshare_cli $?"
mount -t tmpfs none /tmp; echo "mount_cli $?"
echo x 2>/dev/null >/proc/sys/kernel/domainname; echo "procsys_write $?"
echo "timer_list_bytes $(wc -c </proc/timer_list)"
echo "keys_bytes $(wc -c </proc/keys)"
grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status
echo done'

# probe_pod NAME NAMESPACE SECURITYCONTEXT(YAML flow)
probe_pod() {
	cat <<EOF
---
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $2
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: cfs-probe:latest
    securityContext: $3
    command: ["sh", "-c", $(printf '%s' "$SCRIPT" | "$PY" -c 'import json, sys; print(json.dumps(sys.stdin.read()))')]
EOF
}

{
	cat <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: confine-priv
  labels:
    pod-security.kubernetes.io/enforce: privileged
EOF
	probe_pod confined default '{}'
	probe_pod escalate default '{allowPrivilegeEscalation: true, runAsUser: 1000}'
	probe_pod priv confine-priv '{privileged: true}'
	probe_pod sysadmin confine-priv '{capabilities: {add: [SYS_ADMIN]}}'
} >"$WORK/probes.yaml"
check "the probe pods are created" cfs_write "$MNT/apply" "$WORK/probes.yaml"

PRIV=$MNT/namespaces/confine-priv/pods
for p in "$P/confined" "$P/escalate" "$PRIV/priv" "$PRIV/sysadmin"; do
	if wait_until 60 grep -q '^done' "$p/logs"; then
		ok "$(basename "$p") ran its probes"
	else
		fail "$(basename "$p") ran its probes" "logs: $(cat "$p/logs" 2>&1)" \
			"status: $(yvals "$p.yaml" status.phase status.containerStatuses.0.state)" \
			"events: $(grep -i "$(basename "$p")" "$MNT/events" 2>&1 | tail -n 3)"
	fi
done
C=$(cat "$P/confined/logs" 2>/dev/null)
V=$(cat "$PRIV/priv/logs" 2>/dev/null)
A=$(cat "$PRIV/sysadmin/logs" 2>/dev/null)
# line LOGS NAME: the value after NAME on its line
line() { printf '%s\n' "$1" | awk -v n="$2" '$1 == n || $1 == n ":" { print $2; exit }'; }

# --- the default: confined ----------------------------------------------------
check_eq "confined: the seccomp filter is on (Seccomp: 2)" 2 "$(line "$C" Seccomp)"
check_eq "confined: no_new_privs" 1 "$(line "$C" NoNewPrivs)"
# Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
check_eq "confined: Docker's default capabilities" 00000000a80425fb "$(line "$C" CapEff)"
for n in clone_newuser clone_newns unshare_user setns io_uring_setup keyctl add_key bpf \
	perf_event_open userfaultfd mount_tmpfs fsopen mount_setattr kexec_load init_module; do
	check_eq "confined: $n is refused (EPERM)" EPERM "$(line "$C" $n)"
done
check_eq "confined: clone3 answers ENOSYS (libc falls back to clone)" ENOSYS "$(line "$C" clone3)"
check_eq "confined: fork still works (clone without namespace flags)" ok "$(line "$C" fork)"
check_not "confined: busybox unshare -U fails" test "$(line "$C" unshare_cli)" = 0
check_not "confined: busybox mount -t tmpfs fails" test "$(line "$C" mount_cli)" = 0
check_not "confined: writing /proc/sys fails (read-only path)" test "$(line "$C" procsys_write)" = 0
check_eq "confined: /proc/timer_list is masked (reads empty)" 0 "$(line "$C" timer_list_bytes)"
check_eq "confined: /proc/keys is masked (reads empty)" 0 "$(line "$C" keys_bytes)"
check_not "confined: writing /proc/sysrq-trigger fails" test "$(line "$C" sysrq_trigger)" = ok
check_not "confined: reading /proc/kcore fails" test "$(line "$C" kcore)" = ok
[ -e /proc/kcore ] || echo "# note: this kernel has no /proc/kcore (the probe reads ENOENT everywhere)"
[ -e /proc/sysrq-trigger ] || echo "# note: this kernel has no /proc/sysrq-trigger; /proc/sys shows the read-only rule"

# without no_new_privs runc loads the filter before it drops to the user:
# the calls it makes from then on must be in the allow-list
E=$(cat "$P/escalate/logs" 2>/dev/null)
check_eq "allowPrivilegeEscalation, runAsUser 1000: filtered, without no_new_privs" "2 0" \
	"$(line "$E" Seccomp) $(line "$E" NoNewPrivs)"
check_eq "and as refused" "EPERM ENOSYS" "$(line "$E" unshare_user) $(line "$E" clone3)"

# --- the positive control: privileged ------------------------------------------
check_eq "privileged: no seccomp filter" 0 "$(line "$V" Seccomp)"
for n in clone_newuser unshare_user mount_tmpfs fork; do
	check_eq "privileged: $n succeeds" ok "$(line "$V" $n)"
done
check_eq "privileged: busybox unshare -U succeeds" 0 "$(line "$V" unshare_cli)"
check_eq "privileged: busybox mount -t tmpfs succeeds" 0 "$(line "$V" mount_cli)"
check_eq "privileged: /proc/sys is writable" 0 "$(line "$V" procsys_write)"
check "privileged: /proc/timer_list is not masked" test "$(line "$V" timer_list_bytes)" -gt 0

# --- CAP_SYS_ADMIN added: Docker's cap-conditional rules ------------------------
check_eq "SYS_ADMIN: filtered still" 2 "$(line "$A" Seccomp)"
check_eq "SYS_ADMIN: mount is allowed" ok "$(line "$A" mount_tmpfs)"
check_eq "SYS_ADMIN: clone with namespace flags is allowed" ok "$(line "$A" clone_newns)"
for n in io_uring_setup keyctl kexec_load init_module; do
	check_eq "SYS_ADMIN: $n stays refused" EPERM "$(line "$A" $n)"
done

# --- the pids limit: a fork bomb ---------------------------------------------
cat >"$WORK/bomb.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bomb
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    resources: {limits: {cpu: 500m}}
    command: ["sh", "-c", "(b() { b | b & }; b); exec sleep 3600"]
EOF
check "the fork bomb pod is created" cp "$WORK/bomb.yaml" "$P/bomb.yaml"
check "the bomb runs" wait_until 30 grep -qx Running "$P/bomb/phase"
UID_=$(yvals "$P/bomb.yaml" metadata.uid)
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then CG=/sys/fs/cgroup/clusterfs/pod$UID_; else CG=/sys/fs/cgroup/pids/clusterfs/pod$UID_; fi
check_eq "the pod's cgroup has pids.max = --pod-pids-limit" "$PIDS_LIMIT" "$(cat "$CG/pids.max" 2>&1)"
# pids.events "max N": forks the limit refused (counted in the pod's cgroup,
# or on cgroup v1 in the container's, below it)
refused() { [ "$(cat "$CG/pids.events" "$CG"/*/pids.events 2>/dev/null | awk '$1 == "max" { n += $2 } END { print n + 0 }')" -gt 0 ]; }
check "the bomb hits the limit (pids.events max > 0)" wait_until 30 refused
check "the pod never holds more than the limit" test "$(cat "$CG/pids.current")" -le "$PIDS_LIMIT"
echo "# the bomb: pids.current $(cat "$CG/pids.current"), refused forks: $(cat "$CG/pids.events" "$CG"/*/pids.events 2>/dev/null | tr '\n' ' ')"
cat >"$WORK/after.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: after
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo alive; exec sleep 600"]
EOF
check "while it runs, another pod is created" cp "$WORK/after.yaml" "$P/after.yaml"
check "and runs on the same node" wait_until 30 grep -q alive "$P/after/logs"
check_eq "in a cgroup of its own, with the same limit" "$PIDS_LIMIT" \
	"$(cat "${CG%/pod*}/pod$(yvals "$P/after.yaml" metadata.uid)/pids.max" 2>&1)"
check "which the bomb does not touch (pids.current 1)" test "$(cat "${CG%/pod*}/pod$(yvals "$P/after.yaml" metadata.uid)/pids.current" 2>&1)" -le 2
check_eq "the node stays Ready" True "$(yvals "$MNT/nodes/$NODE.yaml" status.conditions.cond=Ready.status)"
check "the bomb pod can be deleted" rm "$P/bomb.yaml"
check "it is gone" wait_until 30 test ! -e "$P/bomb.yaml"
check "its cgroup is removed" wait_until 10 test ! -d "$CG"

check "the other pod is deleted too" rm "$P/after.yaml"
check_contains "the default is 4096 (clusterfs --help)" "$("$CLUSTERFS" --help)" "per pod on this node (4096"

cfs_done
