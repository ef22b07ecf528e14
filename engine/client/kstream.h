/*
 * kstream.h - the framed stream of an exec through a node agent's
 * endpoint (runtime/kubelet/kserver.h, engine/client/kubelet_client.h),
 * after an HTTP/1.1 upgrade ("Upgrade: cfs-exec"): frames of
 *
 *     1 byte channel, 4 bytes length (big endian), the bytes
 *
 * both ways.  Port-forward's upgrade ("cfs-portforward") carries the
 * connection's bytes as they are, unframed.
 */
#ifndef CFS_KSTREAM_H
#define CFS_KSTREAM_H

#include <stdint.h>

enum kstream_ch {
	KS_STDIN = 0,  /* server -> agent */
	KS_STDOUT = 1, /* agent -> server */
	KS_STDERR = 2, /* agent -> server */
	KS_EXIT = 3,   /* agent -> server: the exit code in decimal, then the end */
	KS_RESIZE = 4, /* server -> agent: "WIDTH HEIGHT" */
	KS_EOF = 5,    /* server -> agent: stdin's end */
	KS_KILL = 6,   /* server -> agent: SIGKILL the command */
	KS_ERROR = 7,  /* agent -> server: the exec failed to start: a message, then the end */
};

#define KS_HDR	     5
#define KS_FRAME_MAX (1024 * 1024)

static inline void ks_pack(unsigned char h[KS_HDR], int ch, uint32_t len)
{
	h[0] = (unsigned char)ch;
	h[1] = (unsigned char)(len >> 24);
	h[2] = (unsigned char)(len >> 16);
	h[3] = (unsigned char)(len >> 8);
	h[4] = (unsigned char)len;
}

static inline uint32_t ks_len(const unsigned char h[KS_HDR])
{
	return (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
}

#endif
