/*
 * probe.c - system calls a confined container must not make, tried from
 * inside one (built static into the probe image by tests/e2e/t_confine.sh).
 *
 *     / # probe
 *     clone_newuser EPERM
 *     clone3 ENOSYS
 *     io_uring_setup EPERM
 *     ...
 *     fork ok
 *
 * One line per probe: its name and "ok" when the call succeeded, else the
 * errno's name.  With names as arguments, only those.  Each call is made so
 * that success does nothing lasting (a child that exits at once, a file
 * descriptor closed); the process exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif

/* A child made with clone(flags): 0 when it ran (and exited), -errno. */
static long clone_with(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static long p_clone_newuser(void)
{
	return clone_with(CLONE_NEWUSER);
}

static long p_clone_newns(void)
{
	return clone_with(CLONE_NEWNS);
}

static long p_fork(void)
{
	return clone_with(0);
}

static long p_clone3(void)
{
	/* a zeroed struct clone_args of the first size (64 bytes): a plain fork */
	unsigned long long args[8] = {0};
	args[4] = SIGCHLD; /* exit_signal */
	long pid = syscall(SYS_clone3, args, sizeof(args));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static long p_unshare_user(void)
{
	/* in a child, so that a success leaves this process as it was */
	pid_t pid = fork();
	int st = 0;
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) < 0 ? errno : 0);
	if (pid < 0)
		return -errno;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -EINTR;
}

static long fd_result(long fd)
{
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

static long p_io_uring_setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	return fd_result(syscall(SYS_io_uring_setup, 4, &p));
}

static long p_keyctl(void)
{
	/* KEYCTL_GET_KEYRING_ID of the session keyring, no create */
	return syscall(SYS_keyctl, 0, -3, 0) < 0 ? -errno : 0;
}

static long p_add_key(void)
{
	return syscall(SYS_add_key, "user", "cfs-probe", "x", 1, -3) < 0 ? -errno : 0;
}

static long p_bpf(void)
{
	/* BPF_PROG_LOAD with a zero attr: EINVAL past seccomp, EPERM before */
	char attr[128] = {0};
	return fd_result(syscall(SYS_bpf, 5, attr, sizeof(attr)));
}

static long p_perf_event_open(void)
{
	char attr[128] = {0};
	return fd_result(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

static long p_userfaultfd(void)
{
	return fd_result(syscall(SYS_userfaultfd, O_CLOEXEC));
}

static long p_mount_tmpfs(void)
{
	return mount("none", "/tmp", "tmpfs", 0, NULL) < 0 ? -errno : (umount("/tmp"), 0);
}

static long p_fsopen(void)
{
	return fd_result(syscall(SYS_fsopen, "tmpfs", 0));
}

static long p_mount_setattr(void)
{
	char attr[32] = {0};
	return syscall(SYS_mount_setattr, -1, "", 0, attr, sizeof(attr)) < 0 ? -errno : 0;
}

static long p_kexec_load(void)
{
	return syscall(SYS_kexec_load, 0, 0, NULL, 0) < 0 ? -errno : 0;
}

static long p_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0, "") < 0 ? -errno : 0;
}

static long p_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	long r = setns(fd, 0) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static long p_sysrq_trigger(void)
{
	/* "h" (help) only prints to the kernel log, should it get through */
	int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	long r = fd < 0 ? -errno : write(fd, "h", 1) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

static long p_kcore(void)
{
	char b[16];
	int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
	long r = fd < 0 ? -errno : read(fd, b, sizeof(b)) <= 0 ? -(errno ? errno : EIO) : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

static const struct probe {
	const char *name;
	long (*fn)(void);
} probes[] = {
    {"clone_newuser", p_clone_newuser},
    {"clone_newns", p_clone_newns},
    {"clone3", p_clone3},
    {"unshare_user", p_unshare_user},
    {"setns", p_setns},
    {"io_uring_setup", p_io_uring_setup},
    {"keyctl", p_keyctl},
    {"add_key", p_add_key},
    {"bpf", p_bpf},
    {"perf_event_open", p_perf_event_open},
    {"userfaultfd", p_userfaultfd},
    {"mount_tmpfs", p_mount_tmpfs},
    {"fsopen", p_fsopen},
    {"mount_setattr", p_mount_setattr},
    {"kexec_load", p_kexec_load},
    {"init_module", p_init_module},
    {"sysrq_trigger", p_sysrq_trigger},
    {"kcore", p_kcore},
    {"fork", p_fork},
};

static void run(const struct probe *p)
{
	long r;
	errno = 0;
	r = p->fn();
	if (r == 0)
		printf("%s ok\n", p->name);
	else
		printf("%s %s\n", p->name, strerrorname_np((int)-r) ? strerrorname_np((int)-r) : "E?");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t n = sizeof(probes) / sizeof(probes[0]);
	for (size_t i = 0; i < n; i++) {
		int want = argc < 2;
		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], probes[i].name);
		if (want)
			run(&probes[i]);
	}
	return 0;
}
