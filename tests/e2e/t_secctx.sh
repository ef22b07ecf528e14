#!/bin/bash
# t_secctx.sh - securityContext and the node, with real containers (busybox
# under runc): runAsUser/runAsGroup/supplementalGroups/fsGroup seen by `id`
# and on a volume, readOnlyRootFilesystem, runAsNonRoot against the root
# busybox image (CreateContainerConfigError), sysctls (a safe one applied,
# an unsafe one SysctlForbidden), a medium: Memory emptyDir (tmpfs), an
# emptyDir over its sizeLimit (Evicted), hostUsers: false (a user
# namespace: root inside is not root on the host), and the node's modes:
# the data dir 0700, the DNS server not root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-secctx || cfs_abort "server did not start"

# a namespace that admits everything (Pod Security: privileged), so that the
# node's own refusals are what is tested here
cat >"$WORK/ns.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: secctx
  labels:
    pod-security.kubernetes.io/enforce: privileged
EOF
cp "$WORK/ns.yaml" "$MNT/namespaces/secctx.yaml" 2>/dev/null || mkdir "$MNT/namespaces/secctx"
P=$MNT/namespaces/secctx/pods
wait_until 5 test -d "$P" || cfs_abort "no namespace secctx"
check_contains "the namespace carries its Pod Security label" \
	"$(cat "$MNT/namespaces/secctx.yaml" 2>/dev/null)" "pod-security.kubernetes.io/enforce: privileged"

is_phase() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
logs_have() { grep -q -- "$2" "$P/$1/containers/c/logs" 2>/dev/null; }
logs() { cat "$P/$1/containers/c/logs" 2>/dev/null; }
# the host pid of container c of pod $1
ctr_pid() {
	local uid
	uid=$(yvals "$P/$1.yaml" metadata.uid | cut -c1-12)
	runc --root "$DATA/runc" list 2>/dev/null | awk -v id="$uid-c-0" '$1 == id && $3 == "running" { print $2 }'
}
pod() { # pod NAME: the manifest from stdin into the namespace
	cat >"$WORK/$1.yaml"
	cp "$WORK/$1.yaml" "$P/$1.yaml"
}

# --- ids: runAsUser, runAsGroup, supplementalGroups, fsGroup -----------------
pod ids <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ids}
spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    supplementalGroups: [4000]
    fsGroup: 2000
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "id; touch /vol/f; ls -ldn /vol /vol/f; echo done; exec sleep 100000"]
    volumeMounts: [{name: vol, mountPath: /vol}]
  volumes:
  - name: vol
    emptyDir: {}
EOF
check "ids: running" wait_until 20 logs_have ids done
check_contains "id: uid 1000 (runAsUser), gid 3000 (runAsGroup)" "$(logs ids)" "uid=1000 gid=3000"
check_contains "id: supplementalGroups and fsGroup among the groups" "$(logs ids | grep groups= | grep 4000)" "2000"
check "the emptyDir: group fsGroup, setgid (drwxrwsrwx)" sh -c "grep -- '^drwxrwsrwx .* 2000 .*/vol\$' '$P/ids/containers/c/logs'"
check "a file made in it: group fsGroup" sh -c "grep -- ' 1000 *2000 .*/vol/f\$' '$P/ids/containers/c/logs'"
pid=$(ctr_pid ids)
check_eq "on the host: the process runs as 1000:3000" "1000 3000" \
	"$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u, g }' "/proc/$pid/status" 2>/dev/null)"
check_eq "no_new_privs (allowPrivilegeEscalation unset)" "1" "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"

# --- readOnlyRootFilesystem, capabilities drop ALL + add ---------------------
pod ro <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ro}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "touch /x 2>&1; echo touch=$?; grep CapEff /proc/self/status; echo done; exec sleep 100000"]
    securityContext:
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
EOF
check "ro: running" wait_until 20 logs_have ro done
check_contains "readOnlyRootFilesystem: touch /x fails" "$(logs ro)" "Read-only file system"
check_contains "touch's exit status is not 0" "$(logs ro)" "touch=1"
check_contains "drop ALL + add NET_BIND_SERVICE: CapEff is bit 10 alone" "$(logs ro)" "0000000000000400"

# --- runAsNonRoot with the root busybox image --------------------------------
pod nonroot <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsNonRoot: true}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "100000"]
EOF
waiting_reason() { [ "$(yvals "$P/nonroot.yaml" status.containerStatuses.0.state.waiting.reason)" = CreateContainerConfigError ]; }
check "runAsNonRoot + a root image: CreateContainerConfigError" wait_until 20 waiting_reason
uid=$(yvals "$P/nonroot.yaml" metadata.uid)
msg="container has runAsNonRoot and image will run as root (pod: \"nonroot_secctx($uid)\", container: c)"
check_eq "with the kubelet's message" "$msg" "$(yvals "$P/nonroot.yaml" status.containerStatuses.0.state.waiting.message)"
check_contains "pods/nonroot/status says so" "$(cat "$P/nonroot/status" 2>/dev/null)" "CreateContainerConfigError"
check_contains "and an event" "$(cat "$MNT/namespaces/secctx/events" 2>/dev/null)" "Warning Failed secctx/pod/nonroot Error: $msg"
check_eq "the container never ran" "" "$(ctr_pid nonroot)"

# --- sysctls: a safe one applied, an unsafe one refused ----------------------
pod safe <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: safe}
spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); exec sleep 100000"]
EOF
check "a safe sysctl is set in the pod" wait_until 20 logs_have safe port_start=80
pod unsafe <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: unsafe}
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "65536"}]
  containers:
  - name: c
    image: busybox
    command: ["sleep", "100000"]
EOF
check "an unsafe sysctl: the pod Failed" wait_until 20 is_phase unsafe Failed
check_eq "reason SysctlForbidden, the kubelet's message" \
	"SysctlForbidden|Pod was rejected: forbidden sysctl: \"kernel.msgmax\" not allowlisted" \
	"$(yvals "$P/unsafe.yaml" status.reason)|$(yvals "$P/unsafe.yaml" status.message)"
check_contains "and an event" "$(grep unsafe "$MNT/namespaces/secctx/events" 2>/dev/null)" "Warning SysctlForbidden secctx/pod/unsafe forbidden sysctl: \"kernel.msgmax\" not allowlisted"

# --- emptyDir: medium Memory is a tmpfs; over sizeLimit: Evicted ------------
pod mem <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: mem}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "grep ' /m ' /proc/mounts; echo done; exec sleep 100000"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: m, mountPath: /m}]
  volumes:
  - name: m
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
EOF
check "mem: running" wait_until 20 logs_have mem done
check "medium Memory: a tmpfs of sizeLimit, nosuid and nodev" sh -c "grep -E '^tmpfs /m tmpfs .*nosuid,nodev.*size=8192k' '$P/mem/containers/c/logs'"
pod full <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: full}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "dd if=/dev/zero of=/vol/big bs=1024 count=3072; sync; exec sleep 100000"]
    volumeMounts: [{name: x, mountPath: /vol}]
  volumes:
  - name: x
    emptyDir: {sizeLimit: 1Mi}
EOF
check "emptyDir over its sizeLimit: the pod is Failed" wait_until 30 is_phase full Failed
check_eq "reason Evicted, the kubelet's message" \
	"Evicted|Usage of EmptyDir volume \"x\" exceeds the limit \"1Mi\". " \
	"$(yvals "$P/full.yaml" status.reason)|$(yvals "$P/full.yaml" status.message)"
check "its container was stopped at once (no grace)" wait_until 10 sh -c "[ -z \"\$(runc --root '$DATA/runc' list -q | grep '$(yvals "$P/full.yaml" metadata.uid | cut -c1-12)')\" ]"

# --- hostUsers: false: a user namespace -------------------------------------
pod userns <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: userns}
spec:
  terminationGracePeriodSeconds: 0
  hostUsers: false
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "81"}]
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "cat /proc/self/uid_map; id -u; touch /etc/x && echo rootfs-writable; touch /vol/y && echo vol-writable; echo port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); echo done; exec sleep 100000"]
    volumeMounts: [{name: vol, mountPath: /vol}]
  volumes:
  - name: vol
    emptyDir: {}
EOF
check "userns: running" wait_until 20 logs_have userns done
map=$(logs userns | awk 'NF == 3 && $1 == 0 { print $2, $3 }' | head -1)
base=${map% *}
check "uid_map: 0 -> a base of 65536 ids, a multiple of 65536" sh -c "[ '${map#* }' = 65536 ] && [ $((base % 65536)) = 0 ] && [ $base -ge 65536 ]"
check_eq "root inside" "0" "$(logs userns | sed -n 2p)"
pid=$(ctr_pid userns)
uns_uid=$(yvals "$P/userns.yaml" metadata.uid | cut -c1-12)
check_eq "on the host: uid $base, not 0" "$base" "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
check_contains "root inside may write its rootfs" "$(logs userns)" "rootfs-writable"
check_contains "and its emptyDir" "$(logs userns)" "vol-writable"
check_contains "a safe sysctl, set in the pod's namespaces by the agent" "$(logs userns)" "port_start=81"

pod unmasked <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: unmasked}
spec:
  terminationGracePeriodSeconds: 0
  hostUsers: false
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo masked=$(grep -c ' /proc/keys ' /proc/mounts); echo done; exec sleep 100000"]
    securityContext: {procMount: Unmasked}
EOF
check "procMount Unmasked (hostUsers: false): running" wait_until 20 logs_have unmasked done
check_contains "nothing masked in its /proc" "$(logs unmasked)" "masked=0"
check_eq "where the default masks /proc/keys" "1" "$(grep -c ' /proc/keys ' "/proc/$(ctr_pid userns)/mounts" 2>/dev/null)"

# --- the node ----------------------------------------------------------------
check_eq "the data dir is 0700" "700" "$(stat -c %a "$DATA")"
check_eq "pods, logs and images are 0700" "700 700 700" "$(stat -c %a "$DATA/pods" "$DATA/logs" "$DATA/images" | tr '\n' ' ' | sed 's/ $//')"
check "rootfs overlays are mounted nodev (and nosuid under no_new_privs)" \
	sh -c "grep ' $DATA/pods/[^ ]*/c/rootfs overlay ' /proc/self/mounts | grep -q 'nosuid,nodev'"
dpid=$(cat "$DATA/dns/dnsmasq.pid" 2>/dev/null)
if [ -n "$dpid" ]; then
	check_eq "the DNS server (dnsmasq) runs as nobody, not root" "65534" "$(awk '/^Uid:/ { print $3 }' "/proc/$dpid/status" 2>/dev/null)"
else
	check "the DNS server runs (its pid file)" false
fi

for p in ids ro nonroot safe unsafe mem full userns unmasked; do rm -f "$P/$p.yaml"; done
check "the pods go" wait_until 30 sh -c "[ -z \"\$(ls '$P' | grep yaml)\" ]"
views_gone() { [ -z "$(grep " /run/clusterfs/userns/$uns_uid" /proc/self/mounts; ls /run/clusterfs/userns 2>/dev/null | grep "^$uns_uid")" ]; }
check "the userns pod's views under /run/clusterfs/userns go with it" wait_until 15 views_gone
cfs_done
