/*
 * b64.h - standard, padded base64 (RFC 4648 section 4), as Kubernetes
 * writes a Secret's data and a ConfigMap's binaryData.
 *
 * Decoding is strict: no whitespace, no missing padding, no other alphabet.
 * Thread-safe: no shared state.
 */
#ifndef CFS_B64_H
#define CFS_B64_H

#include <stddef.h>

/* The base64 text of n bytes at p; malloc'd, NUL-terminated; never NULL. */
char *b64_encode(const void *p, size_t n);

/* Length of the bytes the text s decodes to, or -1 when s is not strict
 * base64. */
long b64_len(const char *s);

/* The bytes s decodes to, malloc'd, with a NUL after them (so text reads
 * as a string); *n gets their length.  NULL when s is not strict base64. */
char *b64_decode(const char *s, size_t *n);

#endif
