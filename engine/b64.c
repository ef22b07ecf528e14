/* b64.c - see b64.h. */
#include "engine/b64.h"

#include <nettle/base64.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"

#define ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

char *b64_encode(const void *p, size_t n)
{
	char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);

	base64_encode_raw(out, n, p);
	out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
	return out;
}

long b64_len(const char *s)
{
	size_t n = strlen(s), pad = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return -1;
			pad++;
		} else if (!ch || !strchr(ALPHABET, ch)) {
			return -1;
		}
	}
	return (long)(n / 4 * 3 - pad);
}

char *b64_decode(const char *s, size_t *n)
{
	long want = b64_len(s);
	struct base64_decode_ctx ctx;
	size_t got = 0;
	char *out;

	if (want < 0)
		return NULL;
	out = xmalloc(BASE64_DECODE_LENGTH(strlen(s)) + 1);
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &got, (uint8_t *)out, strlen(s), s) ||
	    !base64_decode_final(&ctx) || got != (size_t)want) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*n = got;
	return out;
}
