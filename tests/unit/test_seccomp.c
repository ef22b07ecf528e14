/*
 * test_seccomp.c - the RuntimeDefault profile (seccomp.h) as runc reads
 * it: an allow-list whose default is EPERM, clone without namespace flags,
 * clone3 ENOSYS, Docker's denials absent from every allow rule, the
 * capability-conditional calls, and which securityContext gets which
 * profile.  The in-container proof is tests/e2e/t_confine.sh.
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "engine/err.h"
#include "engine/obj.h"
#include "runtime/kubelet/seccomp.h"
#include "tests/unit/unit.h"

/* Docker's 14 default capabilities, as oci_config writes them. */
static json_t *default_caps(void)
{
	return json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
			 "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
			 "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
			 "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP");
}

static bool has_str(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (json_is_string(v) &&
					!strcmp(json_string_value(v), s)) return true;
	return false;
}

/* The rules naming call, and how many; *allow_plain: one allows it with
 * no argument test. */
static size_t rules_for(const json_t *prof, const char *call, bool *allow_plain)
{
	size_t i, n = 0;
	json_t *r;
	*allow_plain = false;
	json_array_foreach(json_object_get(prof, "syscalls"), i, r)
	{
		if (!has_str(json_object_get(r, "names"), call))
			continue;
		n++;
		*allow_plain |= !strcmp(obj_str(r, "action"), "SCMP_ACT_ALLOW") &&
				!json_array_size(json_object_get(r, "args"));
	}
	return n;
}

/* The one rule naming call (NULL unless exactly one). */
static json_t *only_rule(const json_t *prof, const char *call)
{
	size_t i;
	json_t *r, *found = NULL;
	json_array_foreach(json_object_get(prof, "syscalls"), i, r)
	{
		if (has_str(json_object_get(r, "names"), call)) {
			if (found)
				return NULL;
			found = r;
		}
	}
	return found;
}

static void test_allow_list(void)
{
	json_t *caps = default_caps(), *p = seccomp_default(caps);
	struct utsname u;
	bool plain;

	CHECK(!strcmp(obj_str(p, "defaultAction"), "SCMP_ACT_ERRNO"));
	CHECK(json_integer_value(json_object_get(p, "defaultErrnoRet")) == EPERM);
	/* everyday calls, and chroot with Docker's default CAP_SYS_CHROOT */
	static const char *const ok[] = {"read",  "write",	 "openat", "execve", "mmap",
					 "futex", "fork",	 "wait4",  "ptrace", "chroot",
					 "statx", "epoll_pwait", "rseq",   "setuid", "capset"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(rules_for(p, ok[i], &plain) >= 1 && plain);
		if (!plain)
			fprintf(stderr, "  not allowed: %s\n", ok[i]);
	}
	if (uname(&u) == 0 && !strcmp(u.machine, "x86_64")) {
		json_t *a = json_object_get(p, "architectures");
		CHECK(json_array_size(a) == 3 && has_str(a, "SCMP_ARCH_X86_64") &&
		      has_str(a, "SCMP_ARCH_X86") && has_str(a, "SCMP_ARCH_X32"));
		CHECK(rules_for(p, "arch_prctl", &plain) == 1 && plain);
	}
	json_decref(p);
	json_decref(caps);
}

static void test_denied(void)
{
	json_t *caps = default_caps(), *p = seccomp_default(caps);
	bool plain;
	/* named by no rule at all: the default action, EPERM */
	static const char *const no[] = {"unshare",
					 "setns",
					 "mount",
					 "umount2",
					 "pivot_root",
					 "io_uring_setup",
					 "io_uring_enter",
					 "io_uring_register",
					 "keyctl",
					 "add_key",
					 "request_key",
					 "bpf",
					 "perf_event_open",
					 "userfaultfd",
					 "mount_setattr",
					 "open_tree",
					 "move_mount",
					 "fsopen",
					 "fsmount",
					 "fsconfig",
					 "fspick",
					 "kexec_load",
					 "kexec_file_load",
					 "init_module",
					 "finit_module",
					 "delete_module",
					 "reboot",
					 "swapon",
					 "swapoff",
					 "acct",
					 "settimeofday",
					 "clock_settime",
					 "iopl",
					 "ioperm",
					 "open_by_handle_at",
					 "quotactl",
					 "syslog",
					 "sethostname",
					 "kcmp",
					 "pidfd_getfd",
					 "vhangup",
					 "lookup_dcookie",
					 "nfsservctl",
					 "uselib",
					 "_sysctl"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		size_t n = rules_for(p, no[i], &plain);
		CHECK(n == 0);
		if (n)
			fprintf(stderr, "  named by a rule: %s\n", no[i]);
	}
	json_decref(p);
	json_decref(caps);
}

static void test_clone_rules(void)
{
	json_t *caps = default_caps(), *p = seccomp_default(caps);
	json_t *clone = only_rule(p, "clone"), *clone3 = only_rule(p, "clone3");
	json_t *arg = json_array_get(json_object_get(clone, "args"), 0);

	/* clone: allowed when flags & the seven CLONE_NEW* bits == 0 */
	CHECK(clone && !strcmp(obj_str(clone, "action"), "SCMP_ACT_ALLOW"));
	CHECK(json_array_size(json_object_get(clone, "args")) == 1);
	CHECK(json_integer_value(json_object_get(arg, "index")) == 0);
	CHECK(!strcmp(obj_str(arg, "op") ? obj_str(arg, "op") : "", "SCMP_CMP_MASKED_EQ"));
	CHECK(json_integer_value(json_object_get(arg, "value")) == 0x7E020000);
	CHECK(json_integer_value(json_object_get(arg, "valueTwo")) == 0);
	/* clone3: ENOSYS, so that libc falls back to clone */
	CHECK(clone3 && !strcmp(obj_str(clone3, "action"), "SCMP_ACT_ERRNO"));
	CHECK(json_integer_value(json_object_get(clone3, "errnoRet")) == ENOSYS);
	/* socket: all but AF_VSOCK; personality: five values */
	json_t *sock = only_rule(p, "socket");
	CHECK(sock && !strcmp(obj_str(json_array_get(json_object_get(sock, "args"), 0), "op"),
			      "SCMP_CMP_NE"));
	bool plain;
	CHECK(rules_for(p, "personality", &plain) == 5 && !plain);
	json_decref(p);
	json_decref(caps);
}

/* A capability added to the container widens the profile as Docker's
 * includes.caps: each row, the calls it allows. */
static void test_cap_conditional(void)
{
	static const struct {
		const char *cap, *calls[4];
	} rows[] = {
	    {"CAP_SYS_ADMIN", {"mount", "unshare", "setns", "clone3"}},
	    {"SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
	    {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
	    {"CAP_SYS_TIME", {"settimeofday", "clock_settime"}},
	    {"cap_sys_boot", {"reboot"}},
	    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
	    {"CAP_BPF", {"bpf"}},
	    {"CAP_PERFMON", {"perf_event_open"}},
	    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
	};
	bool plain;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *caps = default_caps();
		json_array_append_new(caps, json_string(rows[i].cap));
		json_t *p = seccomp_default(caps);
		for (size_t k = 0; k < 4 && rows[i].calls[k]; k++) {
			CHECK(rules_for(p, rows[i].calls[k], &plain) >= 1 && plain);
			if (!plain)
				fprintf(stderr, "  %s: not allowed: %s\n", rows[i].cap,
					rows[i].calls[k]);
		}
		/* never, whatever the caps */
		CHECK(rules_for(p, "io_uring_setup", &plain) == 0);
		CHECK(rules_for(p, "keyctl", &plain) == 0);
		json_decref(p);
		json_decref(caps);
	}
	/* SYS_ADMIN: clone plain, no masked rule and no clone3 ENOSYS */
	json_t *caps = default_caps();
	json_array_append_new(caps, json_string("CAP_SYS_ADMIN"));
	json_t *p = seccomp_default(caps);
	CHECK(rules_for(p, "clone", &plain) == 1 && plain);
	CHECK(rules_for(p, "clone3", &plain) == 1 && plain);
	json_decref(p);
	json_decref(caps);
	/* dropping CAP_SYS_CHROOT takes chroot away */
	caps = json_pack("[s]", "CAP_CHOWN");
	p = seccomp_default(caps);
	CHECK(rules_for(p, "chroot", &plain) == 0);
	json_decref(p);
	json_decref(caps);
}

static json_t *pod_sc(const char *pod_type, const char *ctr_type)
{
	json_t *pod = json_pack("{s:{s:{}, s:[]}}", "spec", "securityContext", "containers");
	json_t *ctr = json_pack("{s:s, s:{}}", "name", "c", "securityContext");
	if (pod_type)
		json_object_set_new(obj_at(pod, "spec.securityContext"), "seccompProfile",
				    json_pack("{s:s}", "type", pod_type));
	if (ctr_type)
		json_object_set_new(
		    json_object_get(ctr, "securityContext"), "seccompProfile",
		    json_pack("{s:s, s:s}", "type", ctr_type, "localhostProfile", "p.json"));
	json_array_append_new(obj_at(pod, "spec.containers"), ctr);
	return pod;
}

static void test_for(void)
{
	static const struct {
		const char *pod, *ctr;
		bool privileged;
		int rc;
		bool profile;
	} rows[] = {
	    {NULL, NULL, false, 0, true},		      /* nothing said: confined */
	    {"RuntimeDefault", NULL, false, 0, true},	      /* the pod's */
	    {"Unconfined", NULL, false, 0, false},	      /* the pod's */
	    {"Unconfined", "RuntimeDefault", false, 0, true}, /* the container's wins */
	    {"RuntimeDefault", "Unconfined", false, 0, false},
	    {NULL, NULL, true, 0, false},		/* privileged */
	    {NULL, "Localhost", false, -EINVAL, false}, /* refused, clearly */
	    {"Bogus", NULL, false, -EINVAL, false},
	};
	json_t *caps = default_caps();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *pod = pod_sc(rows[i].pod, rows[i].ctr), *out = NULL;
		struct err *e = NULL;
		int rc = seccomp_for(pod, json_array_get(obj_at(pod, "spec.containers"), 0),
				     rows[i].privileged, caps, &out, &e);
		CHECK(rc == rows[i].rc);
		CHECK(!!out == rows[i].profile);
		if (rc != rows[i].rc || !!out != rows[i].profile)
			fprintf(stderr, "  row %zu: rc %d, profile %d\n", i, rc, !!out);
		if (rows[i].ctr && !strcmp(rows[i].ctr, "Localhost"))
			CHECK(e && strstr(e->msg, "Localhost") && strstr(e->msg, "p.json"));
		err_free(e);
		json_decref(out);
		json_decref(pod);
	}
	json_decref(caps);
}

int main(void)
{
	RUN(test_allow_list);
	RUN(test_denied);
	RUN(test_clone_rules);
	RUN(test_cap_conditional);
	RUN(test_for);
	return unit_done();
}
