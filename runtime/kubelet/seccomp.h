/*
 * seccomp.h - a container's seccomp profile: Kubernetes' RuntimeDefault,
 * written as runc's linux.seccomp, as strict as Docker's and containerd's
 * default profiles.
 *
 *     $ jq '.linux.seccomp | .defaultAction, (.syscalls | length)' config.json
 *     "SCMP_ACT_ERRNO"
 *     9
 *     $ kubectl exec web -- unshare -U true
 *     unshare: unshare(0x10000000): Operation not permitted
 *
 * An allow-list: every system call not named fails with EPERM.  The rules:
 *
 *   - ~355 system calls a process needs (file, memory, signal, socket,
 *     time, ... calls) are allowed outright; io_uring_* are not (as
 *     containerd and Docker since 2023: io_uring runs work outside seccomp).
 *   - clone is allowed only when its flags carry none of CLONE_NEWNS,
 *     NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP (a masked-equal
 *     rule on argument 0); clone3 answers ENOSYS, since its flags sit
 *     behind a pointer seccomp cannot read, so libc falls back to clone.
 *   - socket is allowed for every family but AF_VSOCK; personality for the
 *     five values Docker allows.
 *   - The rest depends on the container's effective capabilities, as
 *     Docker's includes.caps: CAP_SYS_ADMIN allows mount, umount2,
 *     unshare, setns, clone with namespace flags, clone3, bpf,
 *     perf_event_open, the new mount API (fsopen, fsmount, fsconfig,
 *     fspick, open_tree, move_mount, mount_setattr), quotactl,
 *     sethostname, syslog ...; CAP_SYS_PTRACE kcmp, pidfd_getfd,
 *     process_madvise; CAP_SYS_MODULE init_module, finit_module,
 *     delete_module; CAP_SYS_TIME settimeofday, clock_settime, stime;
 *     CAP_SYS_BOOT reboot; CAP_SYS_RAWIO iopl, ioperm; CAP_SYS_PACCT acct;
 *     CAP_SYS_NICE mbind, set_mempolicy ...; CAP_SYS_TTY_CONFIG vhangup;
 *     CAP_SYSLOG syslog; CAP_BPF bpf; CAP_PERFMON perf_event_open;
 *     CAP_DAC_READ_SEARCH open_by_handle_at; CAP_SYS_CHROOT chroot.
 *   - Never allowed: io_uring_*, keyctl, add_key, request_key, userfaultfd,
 *     kexec_load, kexec_file_load, swapon, swapoff, pivot_root, nfsservctl,
 *     uselib, ustat, sysfs, _sysctl, lookup_dcookie without SYS_ADMIN ...
 *     (anything the table does not name).
 *
 * Architectures: x86_64 with x86 and x32 on an x86_64 host, aarch64 with
 * arm on an arm64 host (so 32-bit binaries meet the same table).  runc
 * skips names its libseccomp does not know, and answers ENOSYS for system
 * calls newer than the newest one the table names.
 *
 * Pure functions over jansson values; they read only uname(2).
 */
#ifndef CFS_SECCOMP_H
#define CFS_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"

/*
 * The RuntimeDefault profile for a container whose effective capabilities
 * are caps (an array of names, "CAP_SYS_ADMIN" or "SYS_ADMIN"; NULL: none),
 * as a new linux.seccomp value the caller owns.  Can't fail.
 */
json_t *seccomp_default(const json_t *caps);

/*
 * The linux.seccomp of a container (securityContext.seccompProfile, the
 * container's over the pod's): *out is NULL for a privileged container and
 * for type Unconfined, else seccomp_default(caps) (RuntimeDefault, or no
 * seccompProfile at all: the default is confined, as since Kubernetes
 * 1.27 with SeccompDefault).  Returns 0, or -EINVAL with *e for type
 * Localhost (profiles on the node are not supported; the API refuses them
 * at write) or an unknown type.
 */
int seccomp_for(const json_t *pod, const json_t *container, bool privileged, const json_t *caps,
		json_t **out, struct err **e);

#endif
