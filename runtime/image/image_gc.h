/*
 * image_gc.h - image garbage collection, as the kubelet's image manager
 * does it: when the disk holding DATA_DIR/images is more than the high
 * threshold full, the images no pod on the node uses (image_uses) are
 * removed, least recently used first, until usage is back under the low
 * threshold; the blobs and unpacked layers no remaining image (nor a
 * running container) uses go with them, and first those that no image
 * uses any more (left by a tag a pull moved).
 *
 *     $ clusterfs server --image-gc-high-threshold 90 --image-gc-low-threshold 70
 *     ... image: image gc: disk 93% used (high 90%): freeing 2147483648 bytes
 *         to reach 70%
 *     ... image: image gc: removed docker.io/library/nginx:1.25 (sha256:...,
 *         pulled, last used 2026-12-01T10:00:00Z): 70418432 bytes freed
 *     ... image: Image garbage collection succeeded: 2 images, 2202009600 bytes freed
 *
 * The node agent runs it every minute and before each pull; `clusterfs
 * image gc` runs it once.
 */
#ifndef CFS_IMAGE_GC_H
#define CFS_IMAGE_GC_H

#include <stdint.h>

#include "engine/err.h"
#include "runtime/image/image.h"

#define IMAGE_GC_HIGH_DEFAULT 85  /* --image-gc-high-threshold, percent */
#define IMAGE_GC_LOW_DEFAULT  80  /* --image-gc-low-threshold, percent */
#define IMAGE_GC_MIN_AGE_S    120 /* the kubelet's ImageMinimumGCAge */
#define IMAGE_GC_PERIOD_MS    60000

/* getopt_long values of the flags (after the registry flags', image_cli.h). */
#define IMAGE_GC_OPT_HIGH 0x103
#define IMAGE_GC_OPT_LOW  0x104

#define IMAGE_GC_LONGOPTS                                                                          \
	{"image-gc-high-threshold", required_argument, NULL, IMAGE_GC_OPT_HIGH},                   \
	{                                                                                          \
		"image-gc-low-threshold", required_argument, NULL, IMAGE_GC_OPT_LOW                \
	}

#define IMAGE_GC_USAGE                                                                             \
	"  --image-gc-high-threshold PERCENT\n"                                                    \
	"                   image disk usage that starts image garbage collection (85;\n"          \
	"                   100: never)\n"                                                         \
	"  --image-gc-low-threshold PERCENT\n"                                                     \
	"                   usage it removes unused images down to (80)\n"

struct image_gc_conf {
	int high, low;	      /* percent of the image disk used; 0: the defaults */
	int64_t min_age_s;    /* an image pulled or imported less long ago stays;
				 0: IMAGE_GC_MIN_AGE_S; < 0: none */
	int64_t orphan_age_s; /* so does a blob or layer no image uses (a pull
				 under way) written less long ago; 0:
				 IMAGE_GC_MIN_AGE_S; < 0: none */
};

/* Takes getopt's c and optarg: 1 when c is one of the flags (recorded), 0
 * when it is not, -1 (a message printed) when its value is bad. */
int image_gc_opts_add(struct image_gc_conf *c, int opt, const char *arg);

/* -EINVAL with *e unless 0 <= low < high <= 100 (after the defaults). */
int image_gc_conf_check(const struct image_gc_conf *c, struct err **e);

/* What one pass saw and did. */
struct image_gc_result {
	int usage;		     /* percent of the image disk used, before */
	int64_t capacity, available; /* bytes, before */
	int64_t wanted;		     /* bytes to free to reach low; 0: under high */
	int64_t freed;		     /* bytes of blobs and unpacked layers freed */
	size_t removed;		     /* images removed */
};

/*
 * One pass: nothing when usage is under high; else the blobs and layers
 * no image needs, then the unused images, least recently used first (then the oldest pulled or
 * imported), until freed reaches wanted.  The images in use get last_used now.  Returns 0 (nothing
 * to do, or done), or -ENOSPC with *e in the kubelet's words
 * ("Failed to garbage collect required amount of images. Attempted to
 * free N bytes, but only found M bytes eligible to free.") when not
 * enough could be removed, or the errno of reading the store.
 */
int image_gc(struct image_store *s, const struct image_gc_conf *c, struct image_gc_result *out,
	     struct err **e);

/* Testing knob: when capacity >= 0, the disk the GC sees has these
 * capacity and available bytes, less what it freed (instead of
 * statvfs of DATA_DIR/images). */
extern int64_t image_gc_capacity_for_test, image_gc_available_for_test;

#endif
