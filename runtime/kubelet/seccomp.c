/*
 * seccomp.c - see seccomp.h: the RuntimeDefault profile as a table.
 */
#include "runtime/kubelet/seccomp.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "engine/obj.h"

/* The namespace flags clone may not carry without CAP_SYS_ADMIN:
 * NEWNS 0x20000, NEWCGROUP 0x2000000, NEWUTS 0x4000000, NEWIPC 0x8000000,
 * NEWUSER 0x10000000, NEWPID 0x20000000, NEWNET 0x40000000. */
#define CLONE_NS_FLAGS UINT64_C(0x7E020000)
#define ERRNO_EPERM    1
#define ERRNO_ENOSYS   38
#define AF_VSOCK_      40

/* Allowed for every container, whatever its capabilities.  Names the
 * kernel has on only some architectures (the *32, *64 and *_time64 forms
 * for 32-bit callers) are harmless elsewhere: runc skips what it does not
 * know. */
/* clang-format off */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm",
	"bind", "brk",
	"cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32",
	"clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
	"clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
	"close", "close_range", "connect", "copy_file_range", "creat",
	"dup", "dup2", "dup3",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown",
	"fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
	"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
	"fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
	"futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	"futex_wake", "futimesat",
	"getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
	"geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
	"getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
	"getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
	"getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
	"getuid", "getuid32", "getxattr",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
	"ipc",
	"kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
	"lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
	"llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
	"madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
	"mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
	"mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
	"msgsnd", "msync", "munlock", "munlockall", "munmap",
	"name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
	"open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
	"pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
	"process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64",
	"ptrace", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
	"recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
	"rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
	"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
	"rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
	"sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
	"setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
	"setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
	"setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
	"setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
	"set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
	"stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo",
	"tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
	"timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64",
	"ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
	"utimensat_time64", "utimes",
	"vfork", "vmsplice",
	"wait4", "waitid", "waitpid", "write", "writev",
	NULL};

/* Per architecture family: the host's machine, the seccomp architectures
 * the filter covers, and the calls only that family has. */
static const struct arch {
	const char *machine;
	const char *scmp[4];
	const char *calls[8];
} arches[] = {
	{"x86_64", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
	 {"arch_prctl", "modify_ldt"}},
	{"aarch64", {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"},
	 {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
	  "cacheflush", "set_tls"}},
};

/* Allowed when the container's effective set holds cap (Docker's
 * includes.caps). */
static const struct cap_rule {
	const char *cap;
	const char *calls[24];
} cap_rules[] = {
	{"SYS_ADMIN", {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount",
		       "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr",
		       "move_mount", "open_tree", "perf_event_open", "quotactl",
		       "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
		       "umount", "umount2", "unshare"}},
	{"DAC_READ_SEARCH", {"open_by_handle_at"}},
	{"SYS_BOOT", {"reboot"}},
	{"SYS_CHROOT", {"chroot"}},
	{"SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
	{"SYS_PACCT", {"acct"}},
	{"SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
	{"SYS_RAWIO", {"iopl", "ioperm"}},
	{"SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
	{"SYS_TTY_CONFIG", {"vhangup"}},
	{"SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
	{"SYSLOG", {"syslog"}},
	{"BPF", {"bpf"}},
	{"PERFMON", {"perf_event_open"}},
};
/* clang-format on */

/* The personality(2) values Docker allows: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (a query). */
static const uint64_t personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Whether caps (names, with or without CAP_, any case) holds cap. */
static bool has_cap(const json_t *caps, const char *cap)
{
	size_t i;
	json_t *v;

	json_array_foreach(caps, i, v)
	{
		const char *n = json_string_value(v);
		if (!n)
			continue;
		n += strncasecmp(n, "CAP_", 4) ? 0 : 4;
		if (!strcasecmp(n, cap))
			return true;
	}
	return false;
}

static void add_names(json_t *names, const char *const *v, size_t max)
{
	for (size_t i = 0; i < max && v[i]; i++)
		json_array_append_new(names, json_string(v[i]));
}

/* One rule: names, an action, and an argument test (op NULL: none). */
static json_t *rule(json_t *names, const char *action, int errno_ret, const char *op, unsigned idx,
		    uint64_t value)
{
	json_t *r = json_pack("{s:o, s:s}", "names", names, "action", action);
	if (errno_ret)
		json_object_set_new(r, "errnoRet", json_integer(errno_ret));
	if (op)
		json_object_set_new(r, "args",
				    json_pack("[{s:I, s:I, s:I, s:s}]", "index", (json_int_t)idx,
					      "value", (json_int_t)value, "valueTwo", (json_int_t)0,
					      "op", op));
	return r;
}

static const struct arch *host_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return NULL;
	for (size_t i = 0; i < N_OF(arches); i++)
		if (!strcmp(u.machine, arches[i].machine))
			return &arches[i];
	return NULL;
}

json_t *seccomp_default(const json_t *caps)
{
	const struct arch *a = host_arch();
	json_t *names = json_array(), *rules = json_array(), *scmp = json_array();
	bool admin = has_cap(caps, "SYS_ADMIN");

	add_names(names, allowed, N_OF(allowed));
	if (a) {
		add_names(scmp, a->scmp, N_OF(a->scmp));
		add_names(names, a->calls, N_OF(a->calls));
	}
	for (size_t i = 0; i < N_OF(cap_rules); i++)
		if (has_cap(caps, cap_rules[i].cap))
			add_names(names, cap_rules[i].calls, N_OF(cap_rules[i].calls));
	json_array_append_new(rules, rule(names, "SCMP_ACT_ALLOW", 0, NULL, 0, 0));
	if (!admin) {
		/* flags & CLONE_NS_FLAGS == 0: threads and fork, no namespaces */
		json_array_append_new(rules, rule(json_pack("[s]", "clone"), "SCMP_ACT_ALLOW", 0,
						  "SCMP_CMP_MASKED_EQ", 0, CLONE_NS_FLAGS));
		json_array_append_new(rules, rule(json_pack("[s]", "clone3"), "SCMP_ACT_ERRNO",
						  ERRNO_ENOSYS, NULL, 0, 0));
	}
	json_array_append_new(rules, rule(json_pack("[s]", "socket"), "SCMP_ACT_ALLOW", 0,
					  "SCMP_CMP_NE", 0, AF_VSOCK_));
	for (size_t i = 0; i < N_OF(personalities); i++)
		json_array_append_new(rules, rule(json_pack("[s]", "personality"), "SCMP_ACT_ALLOW",
						  0, "SCMP_CMP_EQ", 0, personalities[i]));
	return json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO",
			 "defaultErrnoRet", ERRNO_EPERM, "architectures", scmp, "syscalls", rules);
}

int seccomp_for(const json_t *pod, const json_t *container, bool privileged, const json_t *caps,
		json_t **out, struct err **e)
{
	const json_t *p = obj_at(container, "securityContext.seccompProfile");
	const char *type;

	*out = NULL;
	if (!p)
		p = obj_at(pod, "spec.securityContext.seccompProfile");
	type = obj_str(p, "type");
	if (privileged || (type && !strcmp(type, "Unconfined")))
		return 0;
	if (type && !strcmp(type, "Localhost"))
		return err_make(e, EINVAL,
				"seccompProfile type Localhost (%s): profiles on the node are not "
				"supported; use RuntimeDefault or Unconfined",
				obj_str(p, "localhostProfile") ? obj_str(p, "localhostProfile")
							       : "no localhostProfile");
	if (type && strcmp(type, "RuntimeDefault"))
		return err_make(e, EINVAL, "seccompProfile type %s: unknown", type);
	*out = seccomp_default(caps);
	return 0;
}
