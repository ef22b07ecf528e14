/*
 * store_crypt.c - Secrets encrypted at rest (store.h, "Encryption"):
 * AES-256-GCM through nettle, as Kubernetes' aesgcm provider.  A sealed
 * row's text is
 *
 *     k8s:enc:aesgcm:v1:key1:BASE64(nonce[12] ciphertext tag[16])
 *
 * with "KIND/NS/NAME" as the additional data, so that a row moved to
 * another object does not open.  The key is set once, before the store
 * opens, and only read after: no lock.
 */
#include <errno.h>
#include <nettle/gcm.h>
#include <nettle/memops.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "engine/b64.h"
#include "engine/mem.h"
#include "engine/store/store.h"

#define PREFIX	  "k8s:enc:aesgcm:v1:key1:"
#define NONCE_LEN 12

static uint8_t key[32];
static bool have_key;

int store_crypt_key(const char *b64, struct err **e)
{
	size_t n = 0;
	char *k = b64_decode(b64, &n);
	if (!k || n != sizeof(key)) {
		free(k);
		return err_make(e, EINVAL, "the encryption key must be 32 bytes, base64-encoded");
	}
	memcpy(key, k, sizeof(key));
	explicit_bzero(k, n);
	free(k);
	have_key = true;
	return 0;
}

int store_crypt_key_file(const char *path, struct err **e)
{
	char *text = file_slurp(path);
	if (!text)
		return err_make(e, errno, "--encryption-key-file %s: %s", path, strerror(errno));
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = '\0';
	int r = store_crypt_key(text, e);
	explicit_bzero(text, n);
	free(text);
	if (r < 0)
		err_wrap(e, "--encryption-key-file %s", path);
	return r;
}

static bool sealed_kind(const char *kind)
{
	return have_key && !strcmp(kind, "Secret");
}

static char *aad(const char *kind, const char *ns, const char *name)
{
	return xasprintf("%s/%s/%s", kind, ns, name);
}

char *store_seal(const char *kind, const char *ns, const char *name, char *text)
{
	if (!sealed_kind(kind))
		return text;
	size_t n = strlen(text);
	uint8_t *box = xmalloc(NONCE_LEN + n + GCM_DIGEST_SIZE);
	if (getrandom(box, NONCE_LEN, 0) != NONCE_LEN)
		abort(); /* never reuse a nonce */
	struct gcm_aes256_ctx ctx;
	char *ad = aad(kind, ns, name);
	gcm_aes256_set_key(&ctx, key);
	gcm_aes256_set_iv(&ctx, NONCE_LEN, box);
	gcm_aes256_update(&ctx, strlen(ad), (const uint8_t *)ad);
	gcm_aes256_encrypt(&ctx, n, box + NONCE_LEN, (const uint8_t *)text);
	gcm_aes256_digest(&ctx, GCM_DIGEST_SIZE, box + NONCE_LEN + n);
	char *b = b64_encode(box, NONCE_LEN + n + GCM_DIGEST_SIZE);
	char *out = xasprintf(PREFIX "%s", b);
	explicit_bzero(text, n);
	free(text);
	free(b);
	free(box);
	free(ad);
	return out;
}

json_t *store_unseal(const char *kind, const char *ns, const char *name, const char *text)
{
	if (!text)
		return NULL;
	if (strncmp(text, PREFIX, strlen(PREFIX)))
		return json_loads(text, 0, NULL);
	size_t n = 0;
	uint8_t *box = (uint8_t *)(have_key ? b64_decode(text + strlen(PREFIX), &n) : NULL);
	if (!box || n < NONCE_LEN + GCM_DIGEST_SIZE) {
		free(box);
		return NULL;
	}
	size_t len = n - NONCE_LEN - GCM_DIGEST_SIZE;
	char *plain = xmalloc(len + 1);
	uint8_t tag[GCM_DIGEST_SIZE];
	struct gcm_aes256_ctx ctx;
	char *ad = aad(kind, ns, name);
	gcm_aes256_set_key(&ctx, key);
	gcm_aes256_set_iv(&ctx, NONCE_LEN, box);
	gcm_aes256_update(&ctx, strlen(ad), (const uint8_t *)ad);
	gcm_aes256_decrypt(&ctx, len, (uint8_t *)plain, box + NONCE_LEN);
	gcm_aes256_digest(&ctx, GCM_DIGEST_SIZE, tag);
	plain[len] = '\0';
	json_t *obj = NULL;
	if (memeql_sec(tag, box + NONCE_LEN + len, GCM_DIGEST_SIZE))
		obj = json_loads(plain, 0, NULL);
	explicit_bzero(plain, len);
	free(plain);
	free(box);
	free(ad);
	return obj;
}
