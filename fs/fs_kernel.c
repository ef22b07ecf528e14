/*
 * fs_kernel.c - the kernel's FUSE module parameters clusterfs sets.
 *
 * A FUSE request is a round trip: the caller's thread sleeps, a server
 * thread blocked in read(/dev/fuse) is woken, answers, and wakes the
 * caller.  An unchanged file costs one such trip at open (the rest comes
 * from the page cache: fs_cache.c), and on a VM the cost of the trip is
 * mostly the wake-ups crossing CPUs (an interrupt between vCPUs each way).
 *
 * Some kernels have the FUSE module parameter `wake_here`
 * (/sys/module/fuse/parameters/wake_here; not in upstream Linux as of
 * 6.18).  On, it has the server thread woken for a request run on the
 * CPU of the caller that queued it (as its name says; the figures agree:
 * the caller sleeps anyway, so its CPU is free for the server).  It halves
 * the open round trip here (docs/benchmarks.md, "cached reads").  Like the sysctls a kubelet sets
 * for itself, it is machine-wide (every FUSE mount), changes no
 * filesystem's behaviour, only where its threads run, and is left as set
 * when the server stops.  `--fuse-wake-here off` leaves it as found.
 * Kernels without the parameter are left alone, silently.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"

#define WAKE_HERE_PARAM "/sys/module/fuse/parameters/wake_here"

void fs_kernel_tune(bool wake_here)
{
	if (!wake_here)
		return;
	int fd = open(WAKE_HERE_PARAM, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("fs", "%s: %s: FUSE wake-ups left as they are", WAKE_HERE_PARAM,
				 strerror(errno));
		return;
	}
	char now[8] = "";
	ssize_t n = pread(fd, now, sizeof(now) - 1, 0);
	if (n > 0 && now[0] == 'Y') {
		close(fd);
		return;
	}
	if (pwrite(fd, "Y\n", 2, 0) != 2)
		log_warn("fs", "%s: cannot set it: %s", WAKE_HERE_PARAM, strerror(errno));
	else
		log_info("fs",
			 "%s set to Y: FUSE requests are served on the caller's CPU "
			 "(--fuse-wake-here off leaves it)",
			 WAKE_HERE_PARAM);
	close(fd);
}

/*
 * The FUSE threads run as SCHED_BATCH (set on the thread that starts
 * libfuse's loop; the workers libfuse makes inherit it).  The fair
 * scheduler lets only a SCHED_NORMAL task preempt the running one when it
 * wakes, and most wake-ups of a FUSE thread need no preemption: a caller
 * waiting for an answer (an OPEN) sleeps at once, so the woken thread runs
 * then anyway; a RELEASE or a FORGET, which the kernel queues at close()
 * without waiting, would otherwise switch the caller out and back in
 * again, where now the thread takes the request when the caller next
 * sleeps (often with the next OPEN).  A `cat` of an unchanged file: 36.4
 * -> 32.6 µs here, medians of alternating runs (docs/benchmarks.md,
 * "every target again, on a slower day").  The CPU share of the threads
 * is not changed: SCHED_BATCH is the fair class with the same nice value.
 */
void fs_kernel_batch_threads(void)
{
	struct sched_param sp = {.sched_priority = 0};
	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		log_warn("fs", "FUSE threads as SCHED_BATCH: %s: left as they are",
			 strerror(errno));
}
