/*
 * valid.c - validation and defaulting of objects, as the Kubernetes API
 * server does them, so that a manifest written for a real cluster is
 * accepted or refused here for the same reasons and with the same words.
 *
 * This file holds the walk helpers (see valid_int.h), the value rules
 * (names, label keys, quantities, int-or-percent), metadata, and every kind
 * but Pod; pod specs and pod templates are in valid_pod.c.
 */
#include "valid.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "valid_int.h"

/* The API server's limits, in bytes. */
#define ANNOTATIONS_MAX (256 * 1024)
#define CONFIGMAP_MAX	(1024 * 1024)

/* Longest value shown in a message before it is cut. */
#define SHOW_MAX 200

/* --- the walk and its messages ------------------------------------------- */

void vc_init(struct vc *c, const json_t *obj, const struct kind_info *k, struct err **e)
{
	json_t *name = json_object_get(vget(obj, "metadata"), "name");

	c->kind = k->kind;
	c->name = json_is_string(name) ? json_string_value(name) : NULL;
	c->e = e;
	c->len = 0;
	c->path[0] = '\0';
}

static void vc_add(struct vc *c, const char *s, size_t n)
{
	size_t room = sizeof(c->path) - 1 - c->len;

	if (n > room)
		n = room;
	memcpy(c->path + c->len, s, n);
	c->len += n;
	c->path[c->len] = '\0';
}

size_t vc_push(struct vc *c, const char *field)
{
	size_t mark = c->len;

	if (c->len)
		vc_add(c, ".", 1);
	vc_add(c, field, strlen(field));
	return mark;
}

size_t vc_pushi(struct vc *c, size_t i)
{
	size_t mark = c->len;
	char b[32];
	int n = snprintf(b, sizeof(b), "[%zu]", i);

	vc_add(c, b, (size_t)n);
	return mark;
}

size_t vc_pushk(struct vc *c, const char *key)
{
	size_t mark = c->len;

	vc_add(c, "[", 1);
	vc_add(c, key, strlen(key));
	vc_add(c, "]", 1);
	return mark;
}

void vc_pop(struct vc *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

/* A value as a message shows it: strings quoted, containers as compact JSON. */
static char *vshow(const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15))
		    : NULL;

	if (!s)
		return xstrdup(v ? "<value>" : "null");
	if (strlen(s) > SHOW_MAX) {
		char *cut = xasprintf("%.*s...", SHOW_MAX, s);
		free(s);
		return cut;
	}
	return s;
}

static char *vshow_str(const char *str)
{
	_cleanup_json_ json_t *j = json_string(str);

	return j ? vshow(j) : xasprintf("\"%s\"", str);
}

static int vc_vfail(struct vc *c, const char *field, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	struct buf where = { 0 };
	int r;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	buf_puts(&where, c->path);
	if (field) {
		if (c->len && field[0] != '[')
			buf_puts(&where, ".");
		buf_puts(&where, field);
	}
	const char *w = where.s ? where.s : "";
	const char *sep = *w ? ": " : "";
	if (c->name)
		r = err_make(c->e, EINVAL, "%s \"%s\": %s%s%s", c->kind, c->name, w, sep,
			     msg ? msg : fmt);
	else
		r = err_make(c->e, EINVAL, "%s: %s%s%s", c->kind, w, sep, msg ? msg : fmt);
	buf_free(&where);
	return r;
}

int vc_fail(struct vc *c, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vc_vfail(c, field, fmt, ap);
	va_end(ap);
	return r;
}

int vc_invalid(struct vc *c, const char *field, const json_t *v, const char *fmt, ...)
{
	_cleanup_free_ char *shown = vshow(v);
	_cleanup_free_ char *detail = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	va_end(ap);
	return vc_fail(c, field, "Invalid value: %s: %s", shown, detail ? detail : fmt);
}

int vc_required(struct vc *c, const char *field, const char *detail)
{
	if (detail)
		return vc_fail(c, field, "Required value: %s", detail);
	return vc_fail(c, field, "Required value");
}

int vc_unsupported(struct vc *c, const char *field, const json_t *v, const char *const *allowed)
{
	_cleanup_free_ char *shown = vshow(v);
	struct buf list = { 0 };
	int r;

	for (size_t i = 0; allowed[i]; i++)
		buf_printf(&list, "%s\"%s\"", i ? ", " : "", allowed[i]);
	r = vc_fail(c, field, "Unsupported value: %s: supported values: %s", shown,
		    list.s ? list.s : "");
	buf_free(&list);
	return r;
}

static int vc_prefixed(struct vc *c, const char *field, const char *prefix, const char *fmt,
		       va_list ap)
{
	_cleanup_free_ char *detail = NULL;

	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	return vc_fail(c, field, "%s: %s", prefix, detail ? detail : fmt);
}

int vc_notsup(struct vc *c, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vc_prefixed(c, field, "Unsupported value", fmt, ap);
	va_end(ap);
	return r;
}

int vc_forbidden(struct vc *c, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vc_prefixed(c, field, "Forbidden", fmt, ap);
	va_end(ap);
	return r;
}

int vc_duplicate(struct vc *c, const char *field, const json_t *v)
{
	_cleanup_free_ char *shown = vshow(v);

	return vc_fail(c, field, "Duplicate value: %s", shown);
}

int vc_notfound(struct vc *c, const char *field, const json_t *v)
{
	_cleanup_free_ char *shown = vshow(v);

	return vc_fail(c, field, "Not found: %s", shown);
}

/* --- typed getters -------------------------------------------------------- */

json_t *vget(const json_t *m, const char *key)
{
	json_t *v = json_is_object(m) ? json_object_get(m, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

int vc_map(struct vc *c, const json_t *parent, const char *key, bool req, json_t **out)
{
	json_t *v = vget(parent, key);

	*out = NULL;
	if (!v)
		return req ? vc_required(c, key, NULL) : 0;
	if (!json_is_object(v))
		return vc_invalid(c, key, v, "must be a mapping");
	*out = v;
	return 0;
}

int vc_list(struct vc *c, const json_t *parent, const char *key, bool req, json_t **out)
{
	json_t *v = vget(parent, key);

	*out = NULL;
	if (!v)
		return req ? vc_required(c, key, NULL) : 0;
	if (!json_is_array(v))
		return vc_invalid(c, key, v, "must be a list");
	if (req && json_array_size(v) == 0)
		return vc_required(c, key, NULL);
	*out = v;
	return 0;
}

int vc_str(struct vc *c, const json_t *parent, const char *key, bool req, const char **out)
{
	json_t *v = vget(parent, key);

	if (out)
		*out = NULL;
	if (!v)
		return req ? vc_required(c, key, NULL) : 0;
	if (!json_is_string(v))
		return vc_invalid(c, key, v, "must be a string");
	if (req && !*json_string_value(v))
		return vc_required(c, key, NULL);
	if (out)
		*out = json_string_value(v);
	return 0;
}

int vc_range(struct vc *c, const char *field, const json_t *v, int64_t n, int64_t min,
	     int64_t max)
{
	if (n >= min && n <= max)
		return 0;
	if (max >= INT32_MAX) {
		if (n < min)
			return vc_invalid(c, field, v, "must be greater than or equal to %" PRId64,
					  min);
		return vc_invalid(c, field, v, "must be less than or equal to %" PRId64, max);
	}
	return vc_invalid(c, field, v, "must be between %" PRId64 " and %" PRId64 ", inclusive",
			  min, max);
}

int vc_int(struct vc *c, const json_t *parent, const char *key, bool req, int64_t min,
	   int64_t max, int64_t *out)
{
	json_t *v = vget(parent, key);

	if (!v)
		return req ? vc_required(c, key, NULL) : 0;
	if (!json_is_integer(v))
		return vc_invalid(c, key, v, "must be an integer");
	int64_t n = json_integer_value(v);
	TRY(vc_range(c, key, v, n, min, max));
	if (out)
		*out = n;
	return 1;
}

int vc_bool(struct vc *c, const json_t *parent, const char *key, bool *out)
{
	json_t *v = vget(parent, key);

	if (out)
		*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return vc_invalid(c, key, v, "must be a boolean");
	if (out)
		*out = json_is_true(v);
	return 0;
}

int vc_enum(struct vc *c, const json_t *parent, const char *key, bool req,
	    const char *const *allowed, const char **out)
{
	const char *s;

	if (out)
		*out = NULL;
	TRY(vc_str(c, parent, key, req, &s));
	if (!s || !*s)
		return 0;
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(s, allowed[i]) == 0) {
			if (out)
				*out = s;
			return 0;
		}
	return vc_unsupported(c, key, vget(parent, key), allowed);
}

void vdefault(json_t *m, const char *key, json_t *v)
{
	json_t *old = json_object_get(m, key);

	if (!old || json_is_null(old) ||
	    (json_is_string(v) && json_is_string(old) && !*json_string_value(old)))
		json_object_set_new(m, key, v);
	else
		json_decref(v);
}

/* --- value rules ---------------------------------------------------------- */

#define MSG_SUBDOMAIN                                                                              \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
	"or '.', and must start and end with an alphanumeric character"
#define MSG_DNS_LABEL                                                                         \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
	"and must start and end with an alphanumeric character"
#define MSG_DNS1035                                                                            \
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with " \
	"an alphabetic character, and end with an alphanumeric character"
#define MSG_QNAME_PART                                                                   \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end " \
	"with an alphanumeric character"

static bool is_lower_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alnum(int ch)
{
	return is_lower_alnum(ch) || (ch >= 'A' && ch <= 'Z');
}

static bool is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* s[0..n) is [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static bool dns_label_shape(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* s[0..n) is dot-separated DNS labels. */
static bool dns_subdomain_shape(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!dns_label_shape(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* s[0..n) is [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? */
static bool qname_shape(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

const char *vrule_name(const char *s, enum kind_name_rule rule)
{
	size_t n = strlen(s);

	switch (rule) {
	case NAME_DNS1123_SUBDOMAIN:
		if (n > 253)
			return "must be no more than 253 characters";
		return dns_subdomain_shape(s, n) ? NULL : MSG_SUBDOMAIN;
	case NAME_DNS1123_LABEL:
		if (n > 63)
			return "must be no more than 63 characters";
		return dns_label_shape(s, n) ? NULL : MSG_DNS_LABEL;
	case NAME_DNS1035_LABEL:
		if (n > 63)
			return "must be no more than 63 characters";
		return dns_label_shape(s, n) && is_alpha(s[0]) ? NULL : MSG_DNS1035;
	}
	return MSG_SUBDOMAIN;
}

/* What an object name may not be whatever its kind: it becomes a file name. */
static const char *path_segment_rule(const char *s)
{
	if (strcmp(s, ".") == 0)
		return "may not be '.'";
	if (strcmp(s, "..") == 0)
		return "may not be '..'";
	if (strchr(s, '/'))
		return "may not contain '/'";
	if (strchr(s, '%'))
		return "may not contain '%'";
	return NULL;
}

const char *vrule_label_key(const char *s)
{
	const char *name = s;
	const char *slash = strchr(s, '/');

	if (slash) {
		size_t plen = (size_t)(slash - s);

		if (strchr(slash + 1, '/'))
			return "a qualified name " MSG_QNAME_PART
			       ", with an optional DNS subdomain prefix and '/' (e.g. "
			       "'example.com/MyName')";
		if (plen == 0)
			return "prefix part must be non-empty";
		if (plen > 253)
			return "prefix part must be no more than 253 characters";
		if (!dns_subdomain_shape(s, plen))
			return "prefix part " MSG_SUBDOMAIN;
		name = slash + 1;
	}
	size_t n = strlen(name);
	if (n == 0)
		return "name part must be non-empty";
	if (n > 63)
		return "name part must be no more than 63 characters";
	return qname_shape(name, n) ? NULL : "name part " MSG_QNAME_PART;
}

const char *vrule_label_value(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	if (n && !qname_shape(s, n))
		return "a valid label must be an empty string or " MSG_QNAME_PART;
	return NULL;
}

const char *vrule_svc_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n > 15)
		return "must be no more than 15 characters";
	for (size_t i = 0; i < n; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (strstr(s, "--"))
		return "must not contain consecutive hyphens";
	if (!letter)
		return "must contain at least one letter (a-z)";
	if (s[0] == '-' || s[n - 1] == '-')
		return "must not begin or end with a hyphen";
	return NULL;
}

/* Keys that would name "." or ".." or climb out of a directory. */
static const char *chdir_rule(const char *s)
{
	if (strcmp(s, ".") == 0)
		return "must not be '.'";
	if (strcmp(s, "..") == 0)
		return "must not be '..'";
	if (strncmp(s, "..", 2) == 0)
		return "must not start with '..'";
	return NULL;
}

const char *vrule_config_key(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return n ? "must be no more than 253 characters" : "must be non-empty";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("-._", s[i]))
			return "a valid config key must consist of alphanumeric characters, '-', "
			       "'_' or '.'";
	return chdir_rule(s);
}

const char *vrule_env_name(const char *s)
{
	if (!*s || (s[0] >= '0' && s[0] <= '9'))
		goto bad;
	for (const char *p = s; *p; p++)
		if (!is_alnum(*p) && !strchr("-._", *p))
			goto bad;
	return chdir_rule(s);
bad:
	return "a valid environment variable name must consist of alphabetic characters, digits, "
	       "'_', '-', or '.', and must not start with a digit";
}

const char *vrule_ipv4(const char *s)
{
	const char *p = s;

	for (int part = 0; part < 4; part++) {
		int v = 0, digits = 0;

		if (part && *p++ != '.')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 1 && v == 0)
				goto bad; /* a leading zero reads as octal elsewhere */
			v = v * 10 + (*p - '0');
			if (v > 255)
				goto bad;
		}
		if (!digits)
			goto bad;
	}
	if (!*p)
		return NULL;
bad:
	return "must be a valid IPv4 address (e.g. 10.9.8.7)";
}

/* An IPv4 CIDR such as 10.244.0.0/24. */
static const char *vrule_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	char ip[16];
	char *end;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		goto bad;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	long bits = strtol(slash + 1, &end, 10);
	if (*end || bits < 0 || bits > 32 || !(slash[1] >= '0' && slash[1] <= '9') ||
	    vrule_ipv4(ip))
		goto bad;
	return NULL;
bad:
	return "must be a valid IPv4 CIDR (e.g. 10.244.0.0/24)";
}

/* --- quantities ----------------------------------------------------------- */

#define MSG_QUANTITY                                                                             \
	"must be a quantity: a number with an optional suffix (n, u, m, k, M, G, T, P, E, Ki, Mi, " \
	"Gi, Ti, Pi, Ei) or exponent (e3)"
#define QTY_DIGITS 128

/*
 * Parses a quantity string into milli-units, rounded up (away from zero).
 * The digits are kept in decimal, least significant first, so that a
 * binary suffix and any number of fraction digits stay exact.
 */
static const char *qty_string(const char *s, int64_t *milli)
{
	static const struct {
		const char *sfx;
		int e10, e2;
	} sfx[] = {
		{ "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 }, { "Pi", 0, 50 },
		{ "Ei", 0, 60 }, { "n", -9, 0 },  { "u", -6, 0 },  { "m", -3, 0 },  { "", 0, 0 },
		{ "k", 3, 0 },	 { "M", 6, 0 },	  { "G", 9, 0 },   { "T", 12, 0 },  { "P", 15, 0 },
		{ "E", 18, 0 },
	};
	uint8_t d[QTY_DIGITS + 24]; /* room for the digits times 2^60 */
	char digits[QTY_DIGITS];
	size_t nd = 0;
	long nfrac = 0, e10 = 0;
	int e2 = 0;
	bool neg = false, dot = false, any = false;
	const char *p = s;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (dot)
				return MSG_QUANTITY;
			dot = true;
			continue;
		}
		any = true;
		if (dot)
			nfrac++;
		if (nd == 0 && *p == '0')
			continue; /* leading zeros carry no value */
		if (nd == QTY_DIGITS)
			return "has too many digits";
		digits[nd++] = *p;
	}
	if (!any)
		return MSG_QUANTITY;

	size_t i;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (strcmp(p, sfx[i].sfx) == 0)
			break;
	if (i < sizeof(sfx) / sizeof(sfx[0])) {
		e10 = sfx[i].e10;
		e2 = sfx[i].e2;
	} else if (*p == 'e' || *p == 'E') {
		bool eneg = false;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (!*p)
			return MSG_QUANTITY;
		for (; *p >= '0' && *p <= '9'; p++)
			if (e10 < 100000)
				e10 = e10 * 10 + (*p - '0');
		if (*p)
			return MSG_QUANTITY;
		if (eneg)
			e10 = -e10;
	} else {
		return MSG_QUANTITY;
	}

	/* value = digits * 10^a * 2^e2, in milli-units */
	long a = e10 - nfrac + 3;
	for (i = 0; i < nd; i++)
		d[i] = (uint8_t)(digits[nd - 1 - i] - '0');
	for (int k = 0; k < e2; k++) {
		int carry = 0;
		for (i = 0; i < nd; i++) {
			int x = d[i] * 2 + carry;
			d[i] = (uint8_t)(x % 10);
			carry = x / 10;
		}
		if (carry)
			d[nd++] = (uint8_t)carry;
	}
	size_t lo = 0;
	while (lo < nd && d[lo] == 0)
		lo++, a++;
	if (lo == nd) {
		*milli = 0;
		return NULL;
	}

	/* Digits at or above 10^0 make the integer part; anything below rounds up. */
	long skip = a < 0 ? -a : 0;
	uint64_t v = 0;
	bool frac = skip > 0;
	if ((long)(nd - lo) - skip + (a > 0 ? a : 0) > 19)
		return "is too large";
	for (size_t j = nd; j-- > lo;) {
		if ((long)(j - lo) < skip)
			break;
		v = v * 10 + d[j];
	}
	for (long k = 0; k < a; k++)
		if (__builtin_mul_overflow(v, 10, &v))
			return "is too large";
	if (frac && __builtin_add_overflow(v, 1, &v))
		return "is too large";
	if (v > INT64_MAX)
		return "is too large";
	*milli = neg ? -(int64_t)v : (int64_t)v;
	return NULL;
}

const char *vrule_quantity(const json_t *q, int64_t *milli)
{
	char buf[64];

	if (json_is_integer(q)) {
		if (__builtin_mul_overflow(json_integer_value(q), 1000, milli))
			return "is too large";
		return NULL;
	}
	if (json_is_real(q)) {
		double x = json_real_value(q);

		if (!isfinite(x))
			return MSG_QUANTITY;
		/* the shortest form that reads back the same: 0.1, not 0.1000...01 */
		snprintf(buf, sizeof(buf), "%.15g", x);
		if (strtod(buf, NULL) != x)
			snprintf(buf, sizeof(buf), "%.17g", x);
		return qty_string(buf, milli);
	}
	if (json_is_string(q))
		return qty_string(json_string_value(q), milli);
	return MSG_QUANTITY;
}

int quantity_parse(const json_t *q, int64_t *milli, struct err **e)
{
	int64_t v = 0;
	const char *why = vrule_quantity(q, &v);

	if (why) {
		_cleanup_free_ char *shown = vshow(q);
		return err_make(e, EINVAL, "Invalid value: %s: %s", shown, why);
	}
	*milli = v;
	return 0;
}

/* --- int-or-percent ------------------------------------------------------- */

/*
 * Parses v as an int >= 0 or "N%".  *raw gets the number as written
 * (N for a percent), *pct whether it was a percent.
 */
static const char *iop_rule(const json_t *v, int64_t total, bool round_up, int64_t *out,
			    int64_t *raw, bool *pct)
{
	*pct = false;
	if (json_is_integer(v)) {
		*raw = *out = json_integer_value(v);
		return *raw < 0 ? "must be greater than or equal to 0" : NULL;
	}
	if (!json_is_string(v))
		return "must be an integer or a percentage";

	const char *s = json_string_value(v);
	size_t n = strlen(s);
	int64_t x = 0;
	if (n < 2 || s[n - 1] != '%')
		goto bad;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, s[i] - '0', &x))
			return "is too large";
	}
	__int128 scaled = (__int128)total * x;
	scaled = round_up ? (scaled + 99) / 100 : scaled / 100;
	if (scaled > INT64_MAX || scaled < INT64_MIN)
		return "is too large";
	*out = (int64_t)scaled;
	*raw = x;
	*pct = true;
	return NULL;
bad:
	return "a valid percent string must be a numeric string followed by an ending '%' "
	       "(e.g. '1%', '93%')";
}

int intorpercent(const json_t *v, int64_t total, bool round_up, int64_t *out, struct err **e)
{
	int64_t x = 0, raw;
	bool pct;
	const char *why = iop_rule(v, total, round_up, &x, &raw, &pct);

	if (why) {
		_cleanup_free_ char *shown = vshow(v);
		return err_make(e, EINVAL, "Invalid value: %s: %s", shown, why);
	}
	*out = x;
	return 0;
}

/* --- names and labels ----------------------------------------------------- */

static int rule_error(struct err **e, const char *s, const char *why)
{
	_cleanup_free_ char *shown = vshow_str(s);

	return err_make(e, EINVAL, "Invalid value: %s: %s", shown, why);
}

int valid_name(const char *name, enum kind_name_rule rule, struct err **e)
{
	const char *why;

	if (!name || !*name)
		return err_make(e, EINVAL, "Required value");
	why = path_segment_rule(name);
	if (!why)
		why = vrule_name(name, rule);
	return why ? rule_error(e, name, why) : 0;
}

int valid_label_key(const char *key, struct err **e)
{
	const char *why = vrule_label_key(key);

	return why ? rule_error(e, key, why) : 0;
}

int valid_label_value(const char *value, struct err **e)
{
	const char *why = vrule_label_value(value);

	return why ? rule_error(e, value, why) : 0;
}

int vc_dns(struct vc *c, const json_t *parent, const char *key, bool req,
	   enum kind_name_rule rule, const char **out)
{
	const char *s, *why;

	if (out)
		*out = NULL;
	TRY(vc_str(c, parent, key, req, &s));
	if (!s || !*s)
		return 0;
	why = vrule_name(s, rule);
	if (why)
		return vc_invalid(c, key, vget(parent, key), "%s", why);
	if (out)
		*out = s;
	return 0;
}

int vc_strmap(struct vc *c, const json_t *parent, const char *key)
{
	json_t *m, *v;
	const char *k;

	TRY(vc_map(c, parent, key, false, &m));
	json_object_foreach(m, k, v)
	{
		if (!json_is_string(v)) {
			vc_push(c, key);
			vc_pushk(c, k);
			return vc_invalid(c, NULL, v, "must be a string");
		}
	}
	return 0;
}

int vc_labels(struct vc *c, const json_t *parent, const char *key)
{
	json_t *m, *v;
	const char *k, *why;

	TRY(vc_strmap(c, parent, key));
	m = vget(parent, key);
	json_object_foreach(m, k, v)
	{
		why = vrule_label_key(k);
		if (why) {
			_cleanup_json_ json_t *jk = json_string(k);
			return vc_invalid(c, key, jk, "%s", why);
		}
		why = vrule_label_value(json_string_value(v));
		if (why)
			return vc_invalid(c, key, v, "%s", why);
	}
	return 0;
}

int vc_strlist(struct vc *c, const json_t *parent, const char *key)
{
	json_t *l, *v;
	size_t i;

	TRY(vc_list(c, parent, key, false, &l));
	json_array_foreach(l, i, v)
	{
		if (!json_is_string(v)) {
			vc_push(c, key);
			vc_pushi(c, i);
			return vc_invalid(c, NULL, v, "must be a string");
		}
	}
	return 0;
}

int vc_port_or_name(struct vc *c, const json_t *parent, const char *key, bool req)
{
	json_t *v = vget(parent, key);
	const char *why;

	if (!v)
		return req ? vc_required(c, key, NULL) : 0;
	if (json_is_integer(v))
		return vc_range(c, key, v, json_integer_value(v), 1, 65535);
	if (!json_is_string(v))
		return vc_invalid(c, key, v, "must be a port number or a port name");
	if (!*json_string_value(v))
		return req ? vc_required(c, key, NULL) : 0;
	why = vrule_svc_name(json_string_value(v));
	return why ? vc_invalid(c, key, v, "%s", why) : 0;
}

/* Object or template metadata's annotations: qualified keys, bounded size. */
static int check_annotations(struct vc *c, const json_t *md)
{
	json_t *m, *v;
	const char *k;
	size_t total = 0;

	TRY(vc_strmap(c, md, "annotations"));
	m = vget(md, "annotations");
	json_object_foreach(m, k, v)
	{
		_cleanup_free_ char *lower = xstrdup(k);
		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		const char *why = vrule_label_key(lower);
		if (why) {
			_cleanup_json_ json_t *jk = json_string(k);
			return vc_invalid(c, "annotations", jk, "%s", why);
		}
		total += strlen(k) + strlen(json_string_value(v));
	}
	if (total > ANNOTATIONS_MAX)
		return vc_fail(c, "annotations", "Too long: must have at most %d bytes",
			       ANNOTATIONS_MAX);
	return 0;
}

/* The metadata of a template: labels and annotations only. */
static int check_template_meta(struct vc *c, const json_t *md)
{
	TRY(vc_labels(c, md, "labels"));
	return check_annotations(c, md);
}

static int check_owner_refs(struct vc *c, const json_t *md)
{
	static const char *const fields[] = { "apiVersion", "kind", "name", "uid" };
	json_t *l, *ref;
	size_t i;
	int controllers = 0;

	TRY(vc_list(c, md, "ownerReferences", false, &l));
	size_t mark = vc_push(c, "ownerReferences");
	json_array_foreach(l, i, ref)
	{
		size_t m = vc_pushi(c, i);
		bool ctl;

		if (!json_is_object(ref))
			return vc_invalid(c, NULL, ref, "must be a mapping");
		for (size_t f = 0; f < 4; f++)
			TRY(vc_str(c, ref, fields[f], true, NULL));
		TRY(vc_bool(c, ref, "controller", &ctl));
		TRY(vc_bool(c, ref, "blockOwnerDeletion", NULL));
		if (ctl && ++controllers > 1) {
			vc_pop(c, mark);
			return vc_invalid(c, "ownerReferences", l,
					  "only one reference can have controller set to true");
		}
		vc_pop(c, m);
	}
	vc_pop(c, mark);
	return 0;
}

static int check_meta(struct vc *c, const json_t *obj, const struct kind_info *k)
{
	json_t *md;
	const char *name, *ns, *why;

	TRY(vc_map(c, obj, "metadata", false, &md));
	if (!md)
		return vc_required(c, "metadata.name", NULL);
	size_t mark = vc_push(c, "metadata");
	TRY(vc_str(c, md, "name", true, &name));
	why = path_segment_rule(name);
	if (!why)
		why = vrule_name(name, k->name_rule);
	if (why)
		return vc_invalid(c, "name", vget(md, "name"), "%s", why);

	TRY(vc_str(c, md, "namespace", false, &ns));
	if (ns && *ns) {
		if (!k->namespaced)
			return vc_forbidden(c, "namespace", "not allowed on this type");
		why = vrule_name(ns, NAME_DNS1123_LABEL);
		if (why)
			return vc_invalid(c, "namespace", vget(md, "namespace"), "%s", why);
	}
	TRY(vc_labels(c, md, "labels"));
	TRY(check_annotations(c, md));
	TRY(check_owner_refs(c, md));
	TRY(vc_strlist(c, md, "finalizers"));
	vc_pop(c, mark);
	return 0;
}

/* --- label selectors ------------------------------------------------------ */

static const char *const selector_ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };

/* A LabelSelector: matchLabels and matchExpressions; c is at the selector. */
static int check_label_selector(struct vc *c, const json_t *sel)
{
	json_t *l, *req, *values;
	const char *key, *op, *why;
	size_t i;

	TRY(vc_labels(c, sel, "matchLabels"));
	TRY(vc_list(c, sel, "matchExpressions", false, &l));
	json_array_foreach(l, i, req)
	{
		size_t mark = vc_push(c, "matchExpressions");
		vc_pushi(c, i);
		if (!json_is_object(req))
			return vc_invalid(c, NULL, req, "must be a mapping");
		TRY(vc_str(c, req, "key", true, &key));
		why = vrule_label_key(key);
		if (why)
			return vc_invalid(c, "key", vget(req, "key"), "%s", why);
		TRY(vc_enum(c, req, "operator", true, selector_ops, &op));
		TRY(vc_strlist(c, req, "values"));
		values = vget(req, "values");
		size_t n = json_array_size(values);
		if ((!strcmp(op, "In") || !strcmp(op, "NotIn")) && n == 0)
			return vc_required(c, "values",
					   "must be specified when `operator` is 'In' or 'NotIn'");
		if ((!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) && n > 0)
			return vc_forbidden(c, "values",
					    "may not be specified when `operator` is 'Exists' or "
					    "'DoesNotExist'");
		for (size_t j = 0; j < n; j++) {
			json_t *v = json_array_get(values, j);
			why = vrule_label_value(json_string_value(v));
			if (why) {
				vc_push(c, "values");
				vc_pushi(c, j);
				return vc_invalid(c, NULL, v, "%s", why);
			}
		}
		vc_pop(c, mark);
	}
	return 0;
}

static bool selector_empty(const json_t *sel)
{
	return json_object_size(vget(sel, "matchLabels")) == 0 &&
	       json_array_size(vget(sel, "matchExpressions")) == 0;
}

static bool in_values(const json_t *values, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(values, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* Whether a valid LabelSelector matches labels (NULL: no labels). */
static bool selector_matches(const json_t *sel, const json_t *labels)
{
	json_t *want, *req;
	const char *k;
	size_t i;

	json_object_foreach(vget(sel, "matchLabels"), k, want)
	{
		if (!json_equal(want, vget(labels, k)))
			return false;
	}
	json_array_foreach(vget(sel, "matchExpressions"), i, req)
	{
		const char *op = json_string_value(vget(req, "operator"));
		json_t *have = vget(labels, json_string_value(vget(req, "key")));
		const char *hs = json_string_value(have);
		bool ok;

		if (!op)
			return false;
		if (!strcmp(op, "In"))
			ok = hs && in_values(vget(req, "values"), hs);
		else if (!strcmp(op, "NotIn"))
			ok = !hs || !in_values(vget(req, "values"), hs);
		else if (!strcmp(op, "Exists"))
			ok = have != NULL;
		else
			ok = have == NULL;
		if (!ok)
			return false;
	}
	return true;
}

/* --- Deployment and ReplicaSet -------------------------------------------- */

static const char *const strategy_types[] = { "Recreate", "RollingUpdate", NULL };

/* spec.strategy; c is at spec. */
static int check_strategy(struct vc *c, const json_t *spec)
{
	json_t *st, *ru, *surge, *unav;
	const char *type, *why;
	int64_t x, sraw = -1, uraw = -1;
	bool pct;

	TRY(vc_map(c, spec, "strategy", false, &st));
	if (!st)
		return 0;
	vc_push(c, "strategy");
	TRY(vc_enum(c, st, "type", false, strategy_types, &type));
	TRY(vc_map(c, st, "rollingUpdate", false, &ru));
	if (type && !strcmp(type, "Recreate")) {
		if (ru)
			return vc_forbidden(c, "rollingUpdate",
					    "may not be specified when strategy `type` is 'Recreate'");
		return 0;
	}
	if (!ru)
		return 0;
	vc_push(c, "rollingUpdate");
	surge = vget(ru, "maxSurge");
	unav = vget(ru, "maxUnavailable");
	if (surge && (why = iop_rule(surge, 100, true, &x, &sraw, &pct)))
		return vc_invalid(c, "maxSurge", surge, "%s", why);
	if (unav && (why = iop_rule(unav, 100, false, &x, &uraw, &pct)))
		return vc_invalid(c, "maxUnavailable", unav, "%s", why);
	if (unav && pct && uraw > 100)
		return vc_invalid(c, "maxUnavailable", unav, "must not be greater than 100%%");
	if (sraw == 0 && uraw == 0)
		return vc_invalid(c, "maxUnavailable", unav, "may not be 0 when `maxSurge` is 0");
	return 0;
}

/* The spec of a Deployment (deploy) or a ReplicaSet; c is at the root. */
static int check_workload(struct vc *c, const json_t *obj, bool deploy)
{
	json_t *spec, *sel, *tmpl, *tmeta, *tspec;
	int64_t minready = 0, deadline;

	TRY(vc_map(c, obj, "spec", true, &spec));
	vc_push(c, "spec");
	TRY(vc_int(c, spec, "replicas", false, 0, INT32_MAX, NULL));
	TRY(vc_int(c, spec, "minReadySeconds", false, 0, INT32_MAX, &minready));

	TRY(vc_map(c, spec, "selector", true, &sel));
	size_t mark = vc_push(c, "selector");
	TRY(check_label_selector(c, sel));
	vc_pop(c, mark);
	if (selector_empty(sel))
		return vc_invalid(c, "selector", sel, "empty selector is invalid for %s",
				  deploy ? "deployment" : "replicaset");

	TRY(vc_map(c, spec, "template", true, &tmpl));
	vc_push(c, "template");
	TRY(vc_map(c, tmpl, "metadata", false, &tmeta));
	if (tmeta) {
		size_t m = vc_push(c, "metadata");
		TRY(check_template_meta(c, tmeta));
		vc_pop(c, m);
	}
	json_t *labels = vget(tmeta, "labels");
	if (!selector_matches(sel, labels)) {
		_cleanup_json_ json_t *none = json_object();
		return vc_invalid(c, "metadata.labels", labels ? labels : none,
				  "selector does not match template labels");
	}
	TRY(vc_map(c, tmpl, "spec", true, &tspec));
	vc_push(c, "spec");
	TRY(vpod_spec(c, tspec, true));
	vc_pop(c, mark); /* back at spec */

	if (!deploy)
		return 0;
	TRY(check_strategy(c, spec));
	TRY(vc_int(c, spec, "revisionHistoryLimit", false, 0, INT32_MAX, NULL));
	int has = vc_int(c, spec, "progressDeadlineSeconds", false, 0, INT32_MAX, &deadline);
	TRY(has);
	if (has && deadline <= minready)
		return vc_invalid(c, "progressDeadlineSeconds", vget(spec, "progressDeadlineSeconds"),
				  "must be greater than minReadySeconds");
	return vc_bool(c, spec, "paused", NULL);
}

/* --- Service -------------------------------------------------------------- */

static const char *const service_types[] = { "ClusterIP", "ExternalName", "LoadBalancer",
					     "NodePort", NULL };
static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
static const char *const affinities[] = { "ClientIP", "None", NULL };
static const char *const traffic_policies[] = { "Cluster", "Local", NULL };

static int check_service_port(struct vc *c, const json_t *ports, size_t i, const char *type)
{
	json_t *p = json_array_get(ports, i);
	const char *name, *proto;
	int64_t port = 0, node = 0;

	if (!json_is_object(p))
		return vc_invalid(c, NULL, p, "must be a mapping");
	TRY(vc_dns(c, p, "name", json_array_size(ports) > 1, NAME_DNS1123_LABEL, &name));
	TRY(vc_int(c, p, "port", true, 1, 65535, &port));
	TRY(vc_enum(c, p, "protocol", false, protocols, &proto));
	TRY(vc_port_or_name(c, p, "targetPort", false));
	TRY(vc_int(c, p, "nodePort", false, 0, INT32_MAX, &node));
	if (node) {
		if (strcmp(type, "NodePort") && strcmp(type, "LoadBalancer"))
			return vc_forbidden(c, "nodePort", "may not be used when `type` is '%s'",
					    type);
		if (node < 30000 || node > 32767)
			return vc_invalid(c, "nodePort", vget(p, "nodePort"),
					  "provided port is not in the valid range. The range of "
					  "valid ports is 30000-32767");
	}
	for (size_t j = 0; j < i; j++) {
		json_t *q = json_array_get(ports, j);
		const char *qname = json_string_value(vget(q, "name"));
		const char *qproto = json_string_value(vget(q, "protocol"));

		if (name && qname && !strcmp(name, qname))
			return vc_duplicate(c, "name", vget(p, "name"));
		if (json_integer_value(vget(q, "port")) == port &&
		    !strcmp(qproto ? qproto : "TCP", proto ? proto : "TCP")) {
			_cleanup_json_ json_t *pp =
				json_sprintf("%" PRId64 "/%s", port, proto ? proto : "TCP");
			return vc_duplicate(c, NULL, pp);
		}
		if (node && json_integer_value(vget(q, "nodePort")) == node)
			return vc_duplicate(c, "nodePort", vget(p, "nodePort"));
	}
	return 0;
}

static int check_service(struct vc *c, const json_t *obj)
{
	json_t *spec, *ports, *ips;
	const char *type, *ip, *why;
	size_t i;

	TRY(vc_map(c, obj, "spec", true, &spec));
	vc_push(c, "spec");
	TRY(vc_enum(c, spec, "type", false, service_types, &type));
	if (!type)
		type = "ClusterIP";
	if (!strcmp(type, "ExternalName"))
		return vc_notsup(c, "type", "\"ExternalName\": clusterfs does not support "
					    "ExternalName services yet");

	TRY(vc_str(c, spec, "clusterIP", false, &ip));
	bool headless = ip && !strcmp(ip, "None");
	if (ip && *ip && !headless && (why = vrule_ipv4(ip)))
		return vc_invalid(c, "clusterIP", vget(spec, "clusterIP"), "%s", why);
	if (headless && strcmp(type, "ClusterIP"))
		return vc_invalid(c, "clusterIP", vget(spec, "clusterIP"),
				  "may not be set to 'None' for %s services", type);
	TRY(vc_strlist(c, spec, "clusterIPs"));
	ips = vget(spec, "clusterIPs");
	if (json_array_size(ips) > 1)
		return vc_notsup(c, "clusterIPs",
				 "clusterfs gives a service one IPv4 cluster IP (no dual stack)");
	if (json_array_size(ips) == 1 && ip && *ip &&
	    strcmp(json_string_value(json_array_get(ips, 0)), ip))
		return vc_invalid(c, "clusterIPs[0]", json_array_get(ips, 0),
				  "must be the same as clusterIP");

	TRY(vc_list(c, spec, "ports", !headless, &ports));
	for (i = 0; i < json_array_size(ports); i++) {
		size_t mark = vc_push(c, "ports");
		vc_pushi(c, i);
		TRY(check_service_port(c, ports, i, type));
		vc_pop(c, mark);
	}
	TRY(vc_labels(c, spec, "selector"));
	TRY(vc_enum(c, spec, "sessionAffinity", false, affinities, NULL));
	TRY(vc_enum(c, spec, "internalTrafficPolicy", false, traffic_policies, NULL));
	TRY(vc_enum(c, spec, "externalTrafficPolicy", false, traffic_policies, NULL));
	if (vget(spec, "externalTrafficPolicy") && strcmp(type, "NodePort") &&
	    strcmp(type, "LoadBalancer"))
		return vc_forbidden(c, "externalTrafficPolicy",
				    "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
	TRY(vc_strlist(c, spec, "externalIPs"));
	json_t *eip;
	json_array_foreach(vget(spec, "externalIPs"), i, eip)
	{
		if ((why = vrule_ipv4(json_string_value(eip)))) {
			vc_push(c, "externalIPs");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, eip, "%s", why);
		}
	}
	return 0;
}

/* --- ConfigMap ------------------------------------------------------------ */

/* Length of the standard, padded base64 text s decodes to, or -1. */
static long base64_len(const char *s)
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
		} else if (!is_alnum(ch) && ch != '+' && ch != '/') {
			return -1;
		}
	}
	return (long)(n / 4 * 3 - pad);
}

static int check_config_keys(struct vc *c, const json_t *cm, const char *field, size_t *total)
{
	json_t *m, *v;
	const char *k, *why;

	TRY(vc_strmap(c, cm, field));
	m = vget(cm, field);
	json_object_foreach(m, k, v)
	{
		_cleanup_json_ json_t *jk = json_string(k);
		const char *s = json_string_value(v);

		if ((why = vrule_config_key(k)))
			return vc_invalid(c, field, jk, "%s", why);
		if (!strcmp(field, "data")) {
			*total += strlen(s);
			continue;
		}
		if (vget(vget(cm, "data"), k))
			return vc_invalid(c, field, jk, "duplicate of key present in data");
		long n = base64_len(s);
		if (n < 0) {
			vc_push(c, field);
			vc_pushk(c, k);
			return vc_invalid(c, NULL, v, "must be base64 encoded");
		}
		*total += (size_t)n;
	}
	return 0;
}

static int check_configmap(struct vc *c, const json_t *obj)
{
	size_t total = 0;

	TRY(check_config_keys(c, obj, "data", &total));
	TRY(check_config_keys(c, obj, "binaryData", &total));
	if (total > CONFIGMAP_MAX)
		return vc_fail(c, "data", "Too long: must have at most %d bytes", CONFIGMAP_MAX);
	return vc_bool(c, obj, "immutable", NULL);
}

/* --- Node, Namespace, Event ----------------------------------------------- */

static const char *const taint_effects[] = { "NoExecute", "NoSchedule", "PreferNoSchedule",
					     NULL };

static int check_node(struct vc *c, const json_t *obj)
{
	json_t *spec, *taints, *t;
	const char *key, *val, *effect, *cidr, *why;
	size_t i;

	TRY(vc_map(c, obj, "spec", false, &spec));
	if (!spec)
		return 0;
	vc_push(c, "spec");
	TRY(vc_bool(c, spec, "unschedulable", NULL));
	TRY(vc_str(c, spec, "providerID", false, NULL));
	TRY(vc_str(c, spec, "podCIDR", false, &cidr));
	if (cidr && *cidr && (why = vrule_cidr(cidr)))
		return vc_invalid(c, "podCIDR", vget(spec, "podCIDR"), "%s", why);
	TRY(vc_strlist(c, spec, "podCIDRs"));
	json_array_foreach(vget(spec, "podCIDRs"), i, t)
	{
		if ((why = vrule_cidr(json_string_value(t)))) {
			vc_push(c, "podCIDRs");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, t, "%s", why);
		}
	}
	TRY(vc_list(c, spec, "taints", false, &taints));
	json_array_foreach(taints, i, t)
	{
		size_t mark = vc_push(c, "taints");
		vc_pushi(c, i);
		if (!json_is_object(t))
			return vc_invalid(c, NULL, t, "must be a mapping");
		TRY(vc_str(c, t, "key", true, &key));
		if ((why = vrule_label_key(key)))
			return vc_invalid(c, "key", vget(t, "key"), "%s", why);
		TRY(vc_str(c, t, "value", false, &val));
		if (val && (why = vrule_label_value(val)))
			return vc_invalid(c, "value", vget(t, "value"), "%s", why);
		TRY(vc_enum(c, t, "effect", true, taint_effects, &effect));
		TRY(vc_str(c, t, "timeAdded", false, NULL));
		for (size_t j = 0; j < i; j++) {
			json_t *u = json_array_get(taints, j);
			if (json_equal(vget(u, "key"), vget(t, "key")) &&
			    json_equal(vget(u, "effect"), vget(t, "effect")))
				return vc_duplicate(c, NULL, t);
		}
		vc_pop(c, mark);
	}
	return 0;
}

static int check_namespace(struct vc *c, const json_t *obj)
{
	json_t *spec, *f;
	size_t i;

	TRY(vc_map(c, obj, "spec", false, &spec));
	if (!spec)
		return 0;
	vc_push(c, "spec");
	TRY(vc_strlist(c, spec, "finalizers"));
	json_array_foreach(vget(spec, "finalizers"), i, f)
	{
		const char *s = json_string_value(f);
		const char *why = vrule_label_key(s);

		if (!why && !strchr(s, '/') && strcmp(s, "kubernetes"))
			why = "name is neither a standard finalizer name nor is it fully qualified";
		if (why) {
			vc_push(c, "finalizers");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, f, "%s", why);
		}
	}
	return 0;
}

static const char *const event_types[] = { "Normal", "Warning", NULL };

static int check_event(struct vc *c, const json_t *obj)
{
	json_t *io;

	TRY(vc_map(c, obj, "involvedObject", true, &io));
	size_t mark = vc_push(c, "involvedObject");
	TRY(vc_str(c, io, "kind", true, NULL));
	TRY(vc_str(c, io, "name", true, NULL));
	TRY(vc_str(c, io, "namespace", false, NULL));
	TRY(vc_str(c, io, "apiVersion", false, NULL));
	TRY(vc_str(c, io, "uid", false, NULL));
	vc_pop(c, mark);
	TRY(vc_str(c, obj, "reason", false, NULL));
	TRY(vc_str(c, obj, "message", false, NULL));
	TRY(vc_enum(c, obj, "type", false, event_types, NULL));
	TRY(vc_int(c, obj, "count", false, 0, INT32_MAX, NULL));
	TRY(vc_str(c, obj, "firstTimestamp", false, NULL));
	TRY(vc_str(c, obj, "lastTimestamp", false, NULL));
	return vc_map(c, obj, "source", false, &io);
}

/* --- entry points --------------------------------------------------------- */

static bool is_kind(const struct kind_info *k, const char *kind)
{
	return strcmp(k->kind, kind) == 0;
}

int valid_object(const json_t *obj, const struct kind_info *k, struct err **e)
{
	struct vc c;
	const char *s;

	if (!json_is_object(obj))
		return err_make(e, EINVAL, "%s: the manifest must be a mapping", k->kind);
	vc_init(&c, obj, k, e);

	TRY(vc_str(&c, obj, "apiVersion", true, &s));
	if (strcmp(s, k->api_version))
		return vc_fail(&c, NULL, "unknown apiVersion \"%s\" for %s (want %s)", s, k->kind,
			       k->api_version);
	TRY(vc_str(&c, obj, "kind", true, &s));
	if (strcmp(s, k->kind))
		return vc_fail(&c, NULL, "kind \"%s\" does not match %s", s, k->kind);
	TRY(check_meta(&c, obj, k));

	if (is_kind(k, "Deployment"))
		return check_workload(&c, obj, true);
	if (is_kind(k, "ReplicaSet"))
		return check_workload(&c, obj, false);
	if (is_kind(k, "Pod")) {
		json_t *spec;
		TRY(vc_map(&c, obj, "spec", true, &spec));
		vc_push(&c, "spec");
		return vpod_spec(&c, spec, false);
	}
	if (is_kind(k, "Service"))
		return check_service(&c, obj);
	if (is_kind(k, "ConfigMap"))
		return check_configmap(&c, obj);
	if (is_kind(k, "Node"))
		return check_node(&c, obj);
	if (is_kind(k, "Namespace"))
		return check_namespace(&c, obj);
	if (is_kind(k, "Event"))
		return check_event(&c, obj);
	return 0;
}

/* Defaults of a Deployment's spec (not its template). */
static void default_deployment(json_t *spec)
{
	json_t *st, *ru;

	vdefault(spec, "replicas", json_integer(1));
	vdefault(spec, "revisionHistoryLimit", json_integer(10));
	vdefault(spec, "progressDeadlineSeconds", json_integer(600));
	vdefault(spec, "minReadySeconds", json_integer(0));
	vdefault(spec, "strategy", json_object());
	st = vget(spec, "strategy");
	if (!json_is_object(st))
		return;
	vdefault(st, "type", json_string("RollingUpdate"));
	if (!json_is_string(vget(st, "type")) ||
	    strcmp(json_string_value(vget(st, "type")), "RollingUpdate"))
		return;
	vdefault(st, "rollingUpdate", json_object());
	ru = vget(st, "rollingUpdate");
	if (!json_is_object(ru))
		return;
	vdefault(ru, "maxSurge", json_string("25%"));
	vdefault(ru, "maxUnavailable", json_string("25%"));
}

void valid_default(json_t *obj, const struct kind_info *k)
{
	json_t *spec = vget(obj, "spec");
	json_t *md = vget(obj, "metadata");

	if (!json_is_object(obj) || !k)
		return;
	if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet")) {
		if (!json_is_object(spec))
			return;
		if (is_kind(k, "Deployment"))
			default_deployment(spec);
		else
			vdefault(spec, "replicas", json_integer(1));
		vpod_default(vget(vget(spec, "template"), "spec"), false);
	} else if (is_kind(k, "Pod")) {
		vpod_default(spec, true);
	} else if (is_kind(k, "Service") && json_is_object(spec)) {
		json_t *p;
		size_t i;

		vdefault(spec, "type", json_string("ClusterIP"));
		vdefault(spec, "sessionAffinity", json_string("None"));
		json_array_foreach(vget(spec, "ports"), i, p)
		{
			if (!json_is_object(p))
				continue;
			vdefault(p, "protocol", json_string("TCP"));
			if (json_is_integer(vget(p, "port")))
				vdefault(p, "targetPort", json_deep_copy(vget(p, "port")));
		}
	} else if (is_kind(k, "Namespace") && json_is_object(md) &&
		   json_is_string(vget(md, "name"))) {
		/* Kubernetes keeps this label equal to the name, whatever was written. */
		vdefault(md, "labels", json_object());
		if (json_is_object(vget(md, "labels")))
			json_object_set_new(vget(md, "labels"), "kubernetes.io/metadata.name",
					    json_deep_copy(vget(md, "name")));
	}
}

static bool same(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

int valid_update(const json_t *old, const json_t *new, const struct kind_info *k, struct err **e)
{
	json_t *os = vget(old, "spec"), *ns = vget(new, "spec");
	struct vc c;

	vc_init(&c, new, k, e);
	if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet")) {
		vc_push(&c, "spec");
		if (!same(vget(os, "selector"), vget(ns, "selector")))
			return vc_invalid(&c, "selector", vget(ns, "selector"),
					  "field is immutable");
	} else if (is_kind(k, "Service")) {
		const char *oip = json_string_value(vget(os, "clusterIP"));
		const char *nip = json_string_value(vget(ns, "clusterIP"));
		const char *ot = json_string_value(vget(os, "type"));
		const char *nt = json_string_value(vget(ns, "type"));

		vc_push(&c, "spec");
		/* An empty clusterIP keeps the allocated one (the API layer copies it). */
		if (oip && *oip && nip && *nip && strcmp(oip, nip))
			return vc_invalid(&c, "clusterIP", vget(ns, "clusterIP"),
					  "field is immutable");
		if ((ot && !strcmp(ot, "ExternalName")) != (nt && !strcmp(nt, "ExternalName")))
			return vc_invalid(&c, "type", vget(ns, "type"),
					  "may not change to or from ExternalName");
	} else if (is_kind(k, "Pod")) {
		vc_push(&c, "spec");
		return vpod_update(&c, os, ns);
	} else if (is_kind(k, "ConfigMap") && json_is_true(vget(old, "immutable"))) {
		static const char msg[] = "field is immutable when `immutable` is set";

		if (!json_is_true(vget(new, "immutable")))
			return vc_forbidden(&c, "immutable", msg);
		if (!same(vget(old, "data"), vget(new, "data")))
			return vc_forbidden(&c, "data", msg);
		if (!same(vget(old, "binaryData"), vget(new, "binaryData")))
			return vc_forbidden(&c, "binaryData", msg);
	}
	return 0;
}
