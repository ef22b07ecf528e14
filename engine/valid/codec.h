/*
 * codec.h - YAML (and JSON, which is YAML) to jansson values and back.
 *
 * Objects are jansson values throughout clusterfs.  This module turns a
 * user's bytes into them, with hard limits so that hostile input costs
 * bounded time and memory, and renders them back as block YAML that
 * round-trips: anything codec_yaml() writes, codec_decode() reads back
 * as an equal value.
 *
 * Scalars follow the YAML 1.2 core schema: plain null/~/empty -> null,
 * true/false (any case form the schema allows) -> boolean, integers
 * (decimal, 0o octal, 0x hex) -> integer, floats (.inf, .nan too) -> real,
 * anything else or any quoted scalar -> string.  Tags !!str, !!int, ...
 * are honoured.  Mapping keys must be scalars and are kept as strings.
 * Key order is kept as written.  Anchors and aliases are supported within
 * the limits below; merge keys (<<) are not expanded (kept as a key).
 *
 * Thread-safe: no shared state.
 */
#ifndef CFS_CODEC_H
#define CFS_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "engine/err.h"

#define CODEC_MAX_BYTES (1024 * 1024) /* larger input: -EFBIG */
#define CODEC_MAX_DEPTH 100	      /* nesting of mappings/sequences */
#define CODEC_MAX_NODES 200000	      /* values produced per stream, aliases expanded */
#define CODEC_MAX_DOCS	1000

/*
 * The byte budget: what a stream decodes to, counted as CODEC_NODE_BYTES
 * per value plus the bytes of each string and key, aliases expanded, may
 * be at most CODEC_EXPAND_RATIO times the input plus CODEC_EXPAND_SLACK.
 * Input without aliases never reaches it (a value takes at least one byte
 * of input, so it costs at most 3x the input); past it is -EFBIG with a
 * message naming the budget, before the expansion is made.
 */
#define CODEC_NODE_BYTES   2
#define CODEC_EXPAND_RATIO 4
#define CODEC_EXPAND_SLACK (64 * 1024)

/*
 * Decodes every document of a YAML stream.  Empty documents (nothing, or
 * only comments, or a null) are skipped.  On success *docs is a new array
 * of *ndocs new references (free with codec_docs_free) and 0 is returned.
 * Fails with -EFBIG when len > CODEC_MAX_BYTES or when aliases expand
 * past CODEC_MAX_NODES or the byte budget, -EINVAL for malformed YAML
 * (message with line and column), for input with NUL bytes or invalid
 * UTF-8, and when another limit above is passed (message names the
 * limit); -ENOMEM when memory runs out (never a shortened document).  A
 * failed decode frees everything it made.  Never reads past buf + len.
 */
int codec_decode(const char *buf, size_t len, json_t ***docs, size_t *ndocs, struct err **e);
void codec_docs_free(json_t **docs, size_t ndocs);

/*
 * Renders v as one block-style YAML document (no leading "---"), with
 * strings quoted whenever a plain scalar would read back as something
 * else (numbers, booleans, null, yes/no/on/off, leading/trailing spaces,
 * indicators, empty string).  Multi-line strings use literal block style
 * where that round-trips.  Returns a new NUL-terminated string; sets *len
 * if len is non-NULL.  Can't fail.
 */
char *codec_yaml(const json_t *v, size_t *len);

#endif
