/*
 * podtrace.c - see podtrace.h.
 */
#include "runtime/kubelet/podtrace.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"

static atomic_int trace_fd = -1;

void podtrace_open(const char *data_dir)
{
	const char *v = getenv("CFS_POD_TRACE");
	if (!v || !*v || !strcmp(v, "0") || atomic_load(&trace_fd) >= 0)
		return;
	_cleanup_free_ char *path =
	    !strcmp(v, "1") ? xasprintf("%s/podtrace.log", data_dir) : xstrdup(v);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0)
		atomic_store(&trace_fd, fd);
}

void podtrace_close(void)
{
	int fd = atomic_exchange(&trace_fd, -1);
	if (fd >= 0)
		close(fd);
}

bool podtrace_on(void)
{
	return atomic_load_explicit(&trace_fd, memory_order_relaxed) >= 0;
}

void podtrace(const char *ns, const char *name, const char *step)
{
	int fd = atomic_load_explicit(&trace_fd, memory_order_relaxed);
	if (fd < 0)
		return;
	char line[512];
	int n = snprintf(line, sizeof(line), "%lld %s/%s %s\n", (long long)(mono_ns() / 1000),
			 ns ? ns : "default", name ? name : "?", step);
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) < 0)
		return;
}
