/* join_token.c - the join token's format.  See join.h. */
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "engine/client/join.h"
#include "engine/mem.h"

void join_sha256_hex(const void *data, size_t n, char out[65])
{
	struct sha256_ctx c;
	unsigned char d[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, n, data);
	sha256_digest(&c, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int join_random_hex(char out[65], struct err **e)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_make(e, EIO, "making a secret: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

char *join_token_make(const char *ca_pem, const char *secret)
{
	char h[65];
	join_sha256_hex(ca_pem, strlen(ca_pem), h);
	return xasprintf("%s%s.%s", JOIN_TOKEN_PREFIX, h, secret);
}

static bool hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	return true;
}

int join_token_parse(const char *token, char ca_hash[65], char secret[65], struct err **e)
{
	size_t plen = strlen(JOIN_TOKEN_PREFIX);
	if (!token || strncmp(token, JOIN_TOKEN_PREFIX, plen))
		return err_make(e, EINVAL,
				"the join token does not start with \"%s\" (it is the server's "
				"DATA_DIR/node-token)",
				JOIN_TOKEN_PREFIX);
	const char *h = token + plen, *dot = strchr(h, '.');
	size_t tail = dot ? strcspn(dot + 1, "\r\n") : 0;
	if (!dot || !hex64(h, (size_t)(dot - h)) || !hex64(dot + 1, tail) ||
	    dot[1 + tail + strspn(dot + 1 + tail, "\r\n ")] != '\0')
		return err_make(e, EINVAL,
				"the join token is malformed: want %s<64 hex digits>.<64 hex "
				"digits> (the server's DATA_DIR/node-token)",
				JOIN_TOKEN_PREFIX);
	memcpy(ca_hash, h, 64);
	ca_hash[64] = '\0';
	memcpy(secret, dot + 1, 64);
	secret[64] = '\0';
	return 0;
}

bool join_secret_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	if (strlen(b) != n)
		return false;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool join_node_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '.')
			return false;
		if (!alnum && (i == 0 || i == n - 1))
			return false;
	}
	return true;
}
