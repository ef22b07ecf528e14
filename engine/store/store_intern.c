/*
 * store_intern.c - one copy of each value the store's objects hold
 * (hash-consing of frozen jansson trees).
 *
 * Why: a pod is about 2 KB of JSON but about 17 KB as a jansson tree, and
 * most of it is the same in every pod of a Deployment (containers,
 * tolerations, labels, owner references, conditions) and in every version
 * of one pod (a status write changes a few fields, the watch history
 * holds the older versions).  Objects in the store are frozen (sobj.h), so
 * equal subtrees can be one shared, reference-counted jansson value.
 *
 * How: store_intern() walks a new object bottom-up.  A node's children
 * are made canonical first, so two nodes are equal exactly when they have
 * the same type and scalar value, or the same keys in the same order with
 * the same child pointers: hashing and comparing a node looks at one
 * level only.  The table holds a reference to each canonical node; when it
 * has doubled since the last sweep, nodes only the table still holds
 * (refcount 1) are dropped.
 *
 * Where: a new canonical node is copied into the store's own memory (a
 * slab of exact size classes, below), apart from glibc's heap: the bytes
 * that stay are packed together instead of left between the transient
 * copies a burst of writes makes and frees, and they carry no malloc
 * header.  jansson's free function is ours (installed at the first call):
 * slab pointers go back to their class, every other pointer to free().
 * jansson's malloc is glibc's except on the thread copying a node, so
 * what jansson hands out elsewhere (json_dumps text) is free()d as usual.
 *
 * Safety: only nodes with a refcount of 1 (the new object's own, reached
 * through nodes that are also its own) are changed, by replacing a child
 * with an equal one; a shared node (refcount > 1: frozen, maybe read by
 * other threads) is never changed: a copy of it is made canonical.
 * jansson's reference counts are atomic.  One mutex guards the table;
 * the slab has one too, and a small cache of free blocks per thread.
 */
#include <malloc.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_int.h"

#define INTERN_MIN_CAP	 4096
#define INTERN_MAX_DEPTH 64
#define INTERN_MAX_STR	 4096 /* longer strings stay as they are */

/* A slot: a reference to a node in the low 48 bits (user-space pointers
 * fit), the top 16 bits of its hash above them; 0: empty. */
typedef uint64_t ient;
#define IENT_PTR_BITS 48
#define IENT_V(e)     ((json_t *)(uintptr_t)((e) & ((1ULL << IENT_PTR_BITS) - 1)))
#define IENT_TAG(h)   ((h) >> IENT_PTR_BITS)
#define IENT_GONE     ((ient)1) /* during a sweep only: a dropped slot */

static struct {
	pthread_mutex_t mu;
	ient *t;
	size_t cap;  /* a power of two, or 0 */
	size_t n;    /* entries */
	size_t gone; /* dropped slots (IENT_GONE) until the next rebuild */
	size_t keep; /* entries after the last sweep */
} tab = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t refs(const json_t *v)
{
	return __atomic_load_n(&v->refcount, __ATOMIC_RELAXED);
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	while (n >= 8) {
		uint64_t x;
		memcpy(&x, s, 8);
		h = mix(h, x);
		s += 8;
		n -= 8;
	}
	uint64_t x = 0;
	memcpy(&x, s, n);
	return mix(h, x ^ ((uint64_t)n << 56));
}

/* The hash of v, whose children are canonical (compared by pointer). */
static uint64_t node_hash(json_t *v)
{
	uint64_t h = mix(0x243f6a8885a308d3ULL, (uint64_t)json_typeof(v));
	switch (json_typeof(v)) {
	case JSON_STRING:
		return hash_bytes(h, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return mix(h, (uint64_t)json_integer_value(v));
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t x;
		memcpy(&x, &d, 8);
		return mix(h, x);
	}
	case JSON_OBJECT:
		for (void *i = json_object_iter(v); i; i = json_object_iter_next(v, i))
			h = mix(hash_bytes(h, json_object_iter_key(i), json_object_iter_key_len(i)),
				(uintptr_t)json_object_iter_value(i));
		return h;
	case JSON_ARRAY: {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c) h = mix(h, (uintptr_t)c);
		return mix(h, json_array_size(v));
	}
	default:
		return h;
	}
}

/* a and b are equal, their children compared by pointer, keys in order. */
static bool node_same(json_t *a, json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL: {
		double x = json_real_value(a), y = json_real_value(b);
		return !memcmp(&x, &y, sizeof(x));
	}
	case JSON_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return false;
		void *i = json_object_iter(a), *j = json_object_iter(b);
		for (; i && j; i = json_object_iter_next(a, i), j = json_object_iter_next(b, j))
			if (json_object_iter_value(i) != json_object_iter_value(j) ||
			    json_object_iter_key_len(i) != json_object_iter_key_len(j) ||
			    memcmp(json_object_iter_key(i), json_object_iter_key(j),
				   json_object_iter_key_len(i)))
				return false;
		return !i && !j;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (json_array_get(a, i) != json_array_get(b, i))
				return false;
		return true;
	}
	default:
		return false;
	}
}

/* The slab: size classes of 8 bytes up to SLAB_MAX, in 64 KiB chunks
 * taken from one reserved range of address space.  Each chunk has a bitmap
 * of its free blocks, and a class hands out the lowest free block of its
 * lowest chunk that has one (address-ordered first fit): what stays
 * gathers at the low addresses and the high ones drain.  After a sweep
 * (store_slab_release) a chunk whose blocks are all free (none in use,
 * none in a thread's cache) is given back to the system and is the next
 * chunk any class needs, and so is every page (4 KiB) of the others that
 * only free blocks touch: a free block is only a bit, so its page may read
 * as zeros.  Without that, the slab would hold its high-water mark for
 * good, and what it holds follows the watch history, whose window is in
 * time, so a faster minute than any before would raise it once more. */

#define SLAB_MAX     512
#define SLAB_CLASSES (SLAB_MAX / 8)
#define SLAB_CHUNK   (64 * 1024)
#define SLAB_PAGE    4096
#define SLAB_PAGES   (SLAB_CHUNK / SLAB_PAGE)
#define SLAB_WORDS   (SLAB_CHUNK / 8 / 64) /* bitmap words of a chunk */
#define SLAB_RANGE   ((size_t)16 << 30)	   /* address space, not memory */
#define SLAB_NCHUNK  (SLAB_RANGE / SLAB_CHUNK)
#define CHUNK_FREE   0xff /* cls[] of a chunk given back */
#define CHUNK_OF(p)  ((size_t)((char *)(p)-slab.base) / SLAB_CHUNK)
#define AVAIL(k, c)  slab.avail[(k) / 64 * SLAB_CLASSES + (c)]
#define AVAIL_BIT(k) (1ULL << ((k) % 64))
#define BITS(k)	     (slab.bits + (k)*SLAB_WORDS)

static struct {
	pthread_mutex_t mu;
	char *base, *end;	  /* the range (set once, before any use) */
	bool pages;		  /* the system's pages are SLAB_PAGE: free pages go back */
	unsigned char *cls;	  /* per chunk of the range: its class, or CHUNK_FREE */
	uint16_t *used;		  /* mu: per chunk: its blocks handed out */
	uint16_t *low_word;	  /* mu: per chunk: no free bit in a word below this one */
	uint16_t *gone;		  /* mu: per chunk: its pages given back since last touched */
	uint64_t *bits;		  /* mu: BITS(k): chunk k's free blocks, a bit each */
	uint64_t *avail;	  /* mu: AVAIL: chunk k (of class c) has free blocks */
	size_t low[SLAB_CLASSES]; /* mu: no word of AVAIL(., c) below this one is set */
	uint32_t *spare;	  /* mu: chunks given back, to be used again */
	size_t nspare;		  /* mu */
	size_t top;		  /* mu: chunks of the range used so far */
	size_t given_back;	  /* mu: bytes of chunks and pages given back, ever */
	size_t bytes;		  /* mu: in blocks handed out */
} slab = {.mu = PTHREAD_MUTEX_INITIALIZER};

static __thread bool tls_slab; /* this thread's jansson allocations go to the slab */

static bool in_slab(const void *p)
{
	return (const char *)p >= slab.base && (const char *)p < slab.end;
}

/* The pages that block b of size sz touches, as a mask. */
static uint16_t block_pages(size_t b, size_t sz)
{
	size_t p0 = b * sz / SLAB_PAGE, p1 = ((b + 1) * sz - 1) / SLAB_PAGE;
	return (uint16_t)(((2u << p1) - 1) & ~((1u << p0) - 1));
}

/* Block p of class c free again.  (slab.mu) */
static void block_put(size_t c, void *p)
{
	size_t k = CHUNK_OF(p), sz = (c + 1) * 8;
	size_t b = (size_t)((char *)p - (slab.base + k * SLAB_CHUNK)) / sz;
	BITS(k)[b / 64] |= 1ULL << (b % 64);
	if (b / 64 < slab.low_word[k])
		slab.low_word[k] = (uint16_t)(b / 64);
	slab.used[k]--;
	AVAIL(k, c) |= AVAIL_BIT(k);
	if (k / 64 < slab.low[c])
		slab.low[c] = k / 64;
}

/* The lowest free block of class c, or NULL.  (slab.mu) */
static void *block_get(size_t c)
{
	size_t words = (slab.top + 63) / 64, sz = (c + 1) * 8;
	for (size_t w = slab.low[c]; w < words; w++) {
		uint64_t m = slab.avail[w * SLAB_CLASSES + c];
		if (!m)
			continue;
		slab.low[c] = w;
		size_t k = w * 64 + (size_t)__builtin_ctzll(m);
		uint64_t *bits = BITS(k);
		size_t i = slab.low_word[k];
		while (!bits[i]) /* there is one: the chunk is in avail */
			i++;
		slab.low_word[k] = (uint16_t)i;
		size_t b = i * 64 + (size_t)__builtin_ctzll(bits[i]);
		bits[i] &= bits[i] - 1;
		if (++slab.used[k] == SLAB_CHUNK / sz)
			AVAIL(k, c) &= ~AVAIL_BIT(k);
		slab.gone[k] &= (uint16_t)~block_pages(b, sz);
		return slab.base + k * SLAB_CHUNK + b * sz;
	}
	slab.low[c] = words;
	return NULL;
}

/* A chunk for class c, all free: the lowest given back, or the next of
 * the range; false when the range is used up.  (slab.mu) */
static bool new_chunk(size_t c)
{
	size_t sz = (c + 1) * 8, nb = SLAB_CHUNK / sz, k = slab.top;
	if (slab.nspare) {
		size_t j = 0;
		for (size_t i = 1; i < slab.nspare; i++)
			if (slab.spare[i] < slab.spare[j])
				j = i;
		k = slab.spare[j];
		slab.spare[j] = slab.spare[--slab.nspare];
	} else {
		if ((k + 1) * SLAB_CHUNK > SLAB_RANGE)
			return false;
		slab.top++;
	}
	uint64_t *bits = BITS(k);
	memset(bits, 0, SLAB_WORDS * sizeof(*bits));
	memset(bits, 0xff, nb / 64 * sizeof(*bits));
	if (nb % 64)
		bits[nb / 64] = (1ULL << (nb % 64)) - 1;
	slab.cls[k] = (unsigned char)c;
	slab.used[k] = 0;
	slab.low_word[k] = 0;
	slab.gone[k] = (uint16_t)~0u; /* not touched yet */
	AVAIL(k, c) |= AVAIL_BIT(k);
	if (k / 64 < slab.low[c])
		slab.low[c] = k / 64;
	return true;
}

/*
 * Each thread keeps a few free blocks of each class (SLAB_TC at most: more
 * held by the threads that only free, 32, cost 0.3 KiB a pod at 30,000) and
 * takes or gives back half of that at a time under the mutex: a put's
 * values are copied into the slab block by block by several writers'
 * threads at once, and frozen values are freed on whichever thread drops
 * the last reference.  A thread's blocks go back when it ends.
 */
#define SLAB_TC 8

struct slab_tc {
	void *head[SLAB_CLASSES]; /* linked through their first word */
	unsigned n[SLAB_CLASSES];
	bool keyed;   /* the destructor below is set for this thread */
	unsigned gen; /* slab_gen when this thread last gave all its blocks back */
};
static __thread struct slab_tc tc;
static pthread_key_t tc_key;
/* Bumped by a release pass: each thread gives back all its cached blocks
 * at its next allocation or free, so that they pin no chunk at the next
 * pass. */
static unsigned slab_gen;

/* Gives back all but keep of this thread's blocks of class c. */
static void tc_flush(size_t c, unsigned keep)
{
	if (tc.n[c] <= keep)
		return;
	unsigned k = tc.n[c] - keep;
	void *p = tc.head[c];
	pthread_mutex_lock(&slab.mu);
	for (unsigned i = 0; i < k; i++) {
		void *next = *(void **)p;
		block_put(c, p);
		p = next;
	}
	slab.bytes -= (size_t)k * (c + 1) * 8;
	pthread_mutex_unlock(&slab.mu);
	tc.head[c] = p;
	tc.n[c] = keep;
}

static void tc_exit(void *arg)
{
	for (size_t c = 0; c < SLAB_CLASSES; c++)
		tc_flush(c, 0);
	tc.keyed = false;
}

/* Before a thread's allocation or free: its destructor set; its cache
 * given back if a release pass asked since it last did. */
static void tc_enter(void)
{
	if (!tc.keyed) {
		tc.keyed = true;
		pthread_setspecific(tc_key, &tc);
	}
	unsigned g = __atomic_load_n(&slab_gen, __ATOMIC_RELAXED);
	if (tc.gen != g) {
		tc.gen = g;
		for (size_t c = 0; c < SLAB_CLASSES; c++)
			tc_flush(c, 0);
	}
}

/* Up to SLAB_TC / 2 blocks of class c into this thread's cache; false
 * when the range is used up. */
static bool tc_fill(size_t c)
{
	unsigned got = 0;
	pthread_mutex_lock(&slab.mu);
	while (got < SLAB_TC / 2) {
		void *p = block_get(c);
		if (!p) {
			if (!new_chunk(c))
				break;
			continue;
		}
		*(void **)p = tc.head[c];
		tc.head[c] = p;
		got++;
	}
	slab.bytes += got * (c + 1) * 8;
	pthread_mutex_unlock(&slab.mu);
	tc.n[c] += got;
	return got > 0;
}

/* A block of size (<= SLAB_MAX) from the slab, or from glibc once the
 * range is used up. */
static void *slab_alloc(size_t size)
{
	size_t c = (size + 7) / 8 - 1;
	tc_enter();
	if (!tc.n[c] && !tc_fill(c))
		return malloc(size);
	void *p = tc.head[c];
	tc.head[c] = *(void **)p;
	tc.n[c]--;
	return p;
}

static void *j_malloc(size_t size)
{
	if (!tls_slab || size == 0 || size > SLAB_MAX)
		return malloc(size);
	return slab_alloc(size);
}

static void j_free(void *p)
{
	if (!in_slab(p)) {
		free(p);
		return;
	}
	tc_enter();
	size_t c = slab.cls[CHUNK_OF(p)]; /* stable: its chunk is in use */
	*(void **)p = tc.head[c];
	tc.head[c] = p;
	if (++tc.n[c] > SLAB_TC)
		tc_flush(c, SLAB_TC / 2);
}

static pthread_once_t slab_once = PTHREAD_ONCE_INIT;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STORE_HAS_ASAN 1
#endif
#endif
#ifndef STORE_HAS_ASAN
#define STORE_HAS_ASAN 0
#endif

/* Reserves the range and makes jansson free through j_free.  Without the
 * range (or under AddressSanitizer, which must see every block) nothing
 * is copied and jansson keeps glibc's functions.  The per-chunk tables
 * are address space too until a chunk is used (the bitmaps: 1 KiB a
 * chunk). */
static void slab_init(void)
{
#if defined(__SANITIZE_ADDRESS__) || STORE_HAS_ASAN
	(void)j_malloc;
	(void)j_free;
#else
	void *b = mmap(NULL, SLAB_RANGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b == MAP_FAILED)
		return;
	if (pthread_key_create(&tc_key, tc_exit)) {
		munmap(b, SLAB_RANGE);
		return;
	}
	slab.cls = xcalloc(SLAB_NCHUNK, 1);
	slab.used = xcalloc(SLAB_NCHUNK, sizeof(*slab.used));
	slab.low_word = xcalloc(SLAB_NCHUNK, sizeof(*slab.low_word));
	slab.gone = xcalloc(SLAB_NCHUNK, sizeof(*slab.gone));
	slab.bits = xcalloc(SLAB_NCHUNK * SLAB_WORDS, sizeof(*slab.bits));
	slab.avail = xcalloc(SLAB_NCHUNK / 64 * SLAB_CLASSES, sizeof(*slab.avail));
	slab.spare = xcalloc(SLAB_NCHUNK, sizeof(*slab.spare));
	slab.pages = sysconf(_SC_PAGESIZE) == SLAB_PAGE;
	slab.base = b;
	slab.end = slab.base + SLAB_RANGE;
	json_set_alloc_funcs(j_malloc, j_free);
#endif
}

void store_slab_init(void)
{
	pthread_once(&slab_once, slab_init);
}

/* Gives back chunk k, all free.  (slab.mu) */
static void chunk_give(size_t k)
{
	madvise(slab.base + k * SLAB_CHUNK, SLAB_CHUNK, MADV_DONTNEED);
	AVAIL(k, slab.cls[k]) &= ~AVAIL_BIT(k);
	slab.cls[k] = CHUNK_FREE;
	slab.spare[slab.nspare++] = (uint32_t)k;
}

/* Are blocks first..last of chunk k all free?  (slab.mu) */
static bool blocks_free(size_t k, size_t first, size_t last)
{
	const uint64_t *bits = BITS(k);
	for (size_t w = first / 64; w <= last / 64; w++) {
		uint64_t m = ~0ULL;
		if (w == first / 64)
			m &= ~0ULL << (first % 64);
		if (w == last / 64 && last % 64 != 63)
			m &= (1ULL << (last % 64 + 1)) - 1;
		if ((bits[w] & m) != m)
			return false;
	}
	return true;
}

/* Gives back the pages of chunk k (in use) that only free blocks touch;
 * their bytes.  (slab.mu) */
static size_t chunk_pages(size_t k)
{
	size_t sz = (slab.cls[k] + 1) * 8, nb = SLAB_CHUNK / sz, n = 0;
	char *chunk = slab.base + k * SLAB_CHUNK;
	for (size_t i = 0; i < SLAB_PAGES; i++) {
		size_t first = i * SLAB_PAGE / sz, last = ((i + 1) * SLAB_PAGE - 1) / sz;
		if (first >= nb)
			break;
		if (last >= nb)
			last = nb - 1;
		if ((slab.gone[k] & (1u << i)) || !blocks_free(k, first, last))
			continue;
		madvise(chunk + i * SLAB_PAGE, SLAB_PAGE, MADV_DONTNEED);
		slab.gone[k] |= (uint16_t)(1u << i);
		n += SLAB_PAGE;
	}
	return n;
}

size_t store_slab_release(void)
{
	if (!slab.base)
		return 0;
	__atomic_add_fetch(&slab_gen, 1, __ATOMIC_RELAXED);
	tc_enter(); /* this thread's blocks (the sweep's frees) first */
	pthread_mutex_lock(&slab.mu);
	size_t n = 0;
	for (size_t k = slab.top; k-- > 0;) {
		if (slab.cls[k] == CHUNK_FREE)
			continue;
		if (slab.used[k] == 0) {
			n += (size_t)(SLAB_PAGES - __builtin_popcount(slab.gone[k])) * SLAB_PAGE;
			chunk_give(k);
		} else if (slab.pages) {
			n += chunk_pages(k);
		}
	}
	slab.given_back += n;
	pthread_mutex_unlock(&slab.mu);
	return n;
}

size_t store_slab_given_back(void)
{
	pthread_mutex_lock(&slab.mu);
	size_t n = slab.given_back;
	pthread_mutex_unlock(&slab.mu);
	return n;
}

/* (blocks in threads' caches count as in use) */
size_t store_slab_bytes(void)
{
	pthread_mutex_lock(&slab.mu);
	size_t n = slab.bytes;
	pthread_mutex_unlock(&slab.mu);
	return n;
}

/* A copy of v (its reference taken) in the slab, sharing v's children;
 * v itself when there is no slab or the copy fails. */
static json_t *slab_copy(json_t *v)
{
	if (!slab.base)
		return v;
	tls_slab = true;
	json_t *c = json_copy(v);
	tls_slab = false;
	if (!c)
		return v;
	json_decref(v);
	return c;
}

void store_slab_begin(void)
{
	store_slab_init();
	tls_slab = slab.base != NULL;
}

void store_slab_end(void)
{
	tls_slab = false;
}

static void tab_put(ient *t, size_t cap, json_t *v, uint64_t h)
{
	size_t i = h & (cap - 1);
	while (t[i])
		i = (i + 1) & (cap - 1);
	t[i] = (uintptr_t)v | (IENT_TAG(h) << IENT_PTR_BITS);
}

static bool internable(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
	case JSON_INTEGER:
	case JSON_REAL:
		return true;
	case JSON_STRING:
		return json_string_length(v) <= INTERN_MAX_STR;
	default:
		return false; /* true, false, null: jansson's own singletons */
	}
}

/* Rebuilds the table with room for want entries (at most 3/4 full),
 * leaving out dropped slots. */
static void tab_rebuild(size_t want)
{
	size_t cap = INTERN_MIN_CAP;
	while (cap * 3 < want * 4)
		cap *= 2;
	ient *t = xcalloc(cap, sizeof(*t));
	size_t n = 0;
	for (size_t i = 0; i < tab.cap; i++) {
		if (tab.t[i] == 0 || tab.t[i] == IENT_GONE)
			continue;
		json_t *v = IENT_V(tab.t[i]);
		tab_put(t, cap, v, node_hash(v)); /* frozen: the hash it had */
		n++;
	}
	free(tab.t);
	tab.t = t;
	tab.cap = cap;
	tab.n = n;
	tab.gone = 0;
}

/* Marks the slot of v dropped; false when v is not in the table. */
static bool tab_forget(json_t *v)
{
	for (size_t i = node_hash(v) & (tab.cap - 1); tab.t[i]; i = (i + 1) & (tab.cap - 1))
		if (tab.t[i] != IENT_GONE && IENT_V(tab.t[i]) == v) {
			tab.t[i] = IENT_GONE;
			return true;
		}
	return false;
}

/*
 * Frees v, which only the table held (its slot already dropped), then
 * in the same way those of its children that only v and the table held.
 * Returns how many went.
 */
static size_t tab_drop(json_t *v, int depth)
{
	json_t *one[16], **kids = one;
	size_t nk = 0, cap = 16, n = json_is_array(v) ? json_array_size(v) : 0;
	void *it = json_is_object(v) ? json_object_iter(v) : NULL;
	for (size_t i = 0; it || i < n; i++) {
		json_t *c = it ? json_object_iter_value(it) : json_array_get(v, i);
		if (it)
			it = json_object_iter_next(v, it);
		if (!internable(c) || refs(c) != 2 || depth >= INTERN_MAX_DEPTH)
			continue;
		if (nk == cap) {
			cap *= 2;
			json_t **w = xmalloc(cap * sizeof(*w));
			memcpy(w, kids, nk * sizeof(*w));
			if (kids != one)
				free(kids);
			kids = w;
		}
		kids[nk++] = json_incref(c);
	}
	json_decref(v);
	size_t dropped = 1;
	for (size_t i = 0; i < nk; i++) {
		/* ours and the table's, if it is in the table (a child past the
		 * depth limit is not, and may be someone else's) */
		bool drop = refs(kids[i]) == 2 && tab_forget(kids[i]);
		json_decref(kids[i]);
		if (drop)
			dropped += tab_drop(kids[i], depth + 1);
	}
	if (kids != one)
		free(kids);
	return dropped;
}

/* Drops what only the table holds, and what only that held: one pass. */
static void tab_sweep(void)
{
	size_t dropped = 0;
	for (size_t i = 0; i < tab.cap; i++) {
		if (tab.t[i] == 0 || tab.t[i] == IENT_GONE || refs(IENT_V(tab.t[i])) != 1)
			continue;
		json_t *v = IENT_V(tab.t[i]);
		tab.t[i] = IENT_GONE;
		dropped += tab_drop(v, 0);
	}
	/* the dropped slots stay marked (lookups go past them) until the
	 * table grows: no rebuild while writers wait */
	tab.n -= dropped;
	tab.gone += dropped;
	tab.keep = tab.n;
}

/* The canonical node equal to v (borrowed), or NULL; *h is v's hash. */
static json_t *tab_lookup(json_t *v, uint64_t *h)
{
	*h = node_hash(v);
	if (tab.cap) {
		uint64_t tag = IENT_TAG(*h);
		for (size_t i = *h & (tab.cap - 1); tab.t[i]; i = (i + 1) & (tab.cap - 1)) {
			if (tab.t[i] == IENT_GONE)
				continue;
			json_t *k = IENT_V(tab.t[i]);
			if (tab.t[i] >> IENT_PTR_BITS == tag && (k == v || node_same(k, v)))
				return k;
		}
	}
	return NULL;
}

/* Makes v canonical; false when its address does not fit a slot. */
static bool tab_insert(json_t *v, uint64_t h)
{
	if ((uintptr_t)v >> IENT_PTR_BITS)
		return false;
	/* Full: twice the room, unless dropped slots are much of it (a
	 * rebuild to the same size for a few dropped slots would be followed
	 * by another at the next insert: each rehashes every entry) */
	if ((tab.n + tab.gone + 1) * 4 > tab.cap * 3)
		tab_rebuild(tab.gone > tab.n / 8 ? tab.n + 1 : tab.cap);
	tab_put(tab.t, tab.cap, json_incref(v), h);
	tab.n++;
	return true;
}

static void canon_children(json_t *v, int depth);

/*
 * A new reference to the canonical node equal to v (borrowed).  A new
 * value is made canonical in a copy in the slab; its children first: in
 * place when v is ours alone (refcount 1: only its parent, ours, holds
 * it), else in a copy, since a shared node may be read meanwhile.
 */
static json_t *canon_node(json_t *v, int depth)
{
	uint64_t h;
	bool own = refs(v) == 1, container = json_is_object(v) || json_is_array(v);
	/* (our own container's children are new: it can't be found before) */
	json_t *k = own && container ? NULL : tab_lookup(v, &h);
	if (k)
		return json_incref(k);
	if (depth >= INTERN_MAX_DEPTH)
		return json_incref(v);
	json_t *mine = own ? json_incref(v) : json_copy(v);
	if (!mine)
		return json_incref(v);
	if (container) {
		canon_children(mine, depth + 1);
		if ((k = tab_lookup(mine, &h))) {
			json_decref(mine);
			return json_incref(k);
		}
	}
	k = slab_copy(mine); /* same content, same hash */
	tab_insert(k, h);    /* (or not: k is then held once more, unshared) */
	return k;
}

/* Puts canonical children in v, which is the caller's to change. */
static void canon_children(json_t *v, int depth)
{
	if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *c = json_object_iter_value(it);
			if (!internable(c))
				continue;
			json_t *k = canon_node(c, depth);
			if (k != c)
				json_object_iter_set(v, it, k);
			json_decref(k);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *c = json_array_get(v, i);
			if (!internable(c))
				continue;
			json_t *k = canon_node(c, depth);
			if (k != c)
				json_array_set(v, i, k);
			json_decref(k);
		}
	}
}

json_t *store_intern(json_t *obj)
{
	if (!obj)
		return NULL;
	store_slab_init();
	if (refs(obj) != 1) {
		/* shared with the caller: a root of our own */
		json_t *copy = json_copy(obj);
		json_decref(obj);
		if (!(obj = copy))
			return NULL;
	}
	pthread_mutex_lock(&tab.mu);
	canon_children(obj, 0);
	obj = slab_copy(obj); /* the root is the object's own: no lookup */
	if (tab.n > 2 * tab.keep + INTERN_MIN_CAP)
		tab_sweep();
	pthread_mutex_unlock(&tab.mu);
	return obj;
}

static int holders; /* tab.mu: open stores */

void store_intern_hold(void)
{
	pthread_mutex_lock(&tab.mu);
	holders++;
	pthread_mutex_unlock(&tab.mu);
}

void store_intern_release(void)
{
	pthread_mutex_lock(&tab.mu);
	if (--holders == 0) {
		/* no store left: values still in use elsewhere keep their references */
		for (size_t i = 0; i < tab.cap; i++)
			if (tab.t[i] != IENT_GONE)
				json_decref(IENT_V(tab.t[i]));
		free(tab.t);
		tab.t = NULL;
		tab.cap = tab.n = tab.gone = tab.keep = 0;
	}
	pthread_mutex_unlock(&tab.mu);
}

size_t store_intern_count(void)
{
	pthread_mutex_lock(&tab.mu);
	size_t n = tab.n;
	pthread_mutex_unlock(&tab.mu);
	return n;
}

/*
 * After a burst: glibc keeps the memory that a burst's transient copies
 * (parsed requests, old versions, encodings) used and freed; malloc_trim
 * gives back the whole pages of it.  A thread looks once a second: after
 * at least STORE_TRIM_BURST writes, the first second with fewer than
 * STORE_TRIM_CALM of them (the readers have caught up by then) sweeps the
 * table (values of objects gone), gives back the slab's chunks that held
 * only those, and trims.
 */
#define STORE_TRIM_BURST 2000
#define STORE_TRIM_CALM	 1000

static size_t trim_writes; /* atomic: since the trimmer last looked */
static pthread_once_t trim_once = PTHREAD_ONCE_INIT;

static void *trim_main(void *arg)
{
	size_t burst = 0;
	for (;;) {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		size_t n = __atomic_exchange_n(&trim_writes, 0, __ATOMIC_RELAXED);
		burst += n;
		if (burst >= STORE_TRIM_BURST && n < STORE_TRIM_CALM) {
			/* the values of objects gone since the last sweep first */
			int64_t t0 = store_now_ns();
			pthread_mutex_lock(&tab.mu);
			size_t before = tab.n;
			tab_sweep();
			size_t after = tab.n;
			pthread_mutex_unlock(&tab.mu);
			size_t back = store_slab_release();
			int64_t t1 = store_now_ns();
			malloc_trim(0);
			log_info("store",
				 "memory given back after %zu writes: %zu of %zu shared values "
				 "dropped, %zu KiB of the slab's chunks (%.0f ms), %zu MiB in the "
				 "slab; trim %.0f ms",
				 burst, before - after, before, back >> 10, (double)(t1 - t0) / 1e6,
				 store_slab_bytes() >> 20, (double)(store_now_ns() - t1) / 1e6);
			burst = 0;
		}
	}
	return arg;
}

static void trim_start(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, trim_main, NULL) == 0)
		pthread_detach(t);
}

void store_trim_note(size_t writes)
{
	__atomic_add_fetch(&trim_writes, writes, __ATOMIC_RELAXED);
	if (writes)
		pthread_once(&trim_once, trim_start);
}
