/*
 * valid_rules.c - the pieces every validator is built from: the walk that
 * keeps the field path and words errors as the Kubernetes API server does
 * (see valid_int.h), typed getters for manifest fields, and the value
 * rules: DNS names, label keys and values, port names, config keys,
 * environment variable names, IPv4 addresses, resource quantities and
 * int-or-percent values.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"
#include "engine/valid/valid_int.h"

/* Longest value shown in a message before it is cut. */
#define SHOW_MAX 200

/* --- the walk and its messages ------------------------------------------- */

void vc_init(struct vc *c, const json_t *obj, const struct kind_info *k, struct err **e)
{
	json_t *name = json_object_get(vget(obj, "metadata"), "name");

	c->kind = k->kind;
	c->name = json_string_length(name) ? json_string_value(name) : NULL;
	c->e = e;
	c->len = 0;
	c->path[0] = '\0';
}

/* Appends n bytes of s to the path, cutting what does not fit. */
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
	char *s =
	    v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	if (!s)
		return xstrdup(v ? "<value>" : "null");
	if (strlen(s) > SHOW_MAX) {
		char *cut = xasprintf("%.*s...", SHOW_MAX, s);
		free(s);
		return cut;
	}
	return s;
}

/* A C string as vshow() shows it. */
static char *vshow_str(const char *str)
{
	_cleanup_json_ json_t *j = json_string(str);

	return j ? vshow(j) : xasprintf("\"%s\"", str);
}

/* Formats "KIND \"NAME\": PATH.field: MSG" into *c->e. */
static int vc_vfail(struct vc *c, const char *field, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	struct buf where = {0};
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
	struct buf list = {0};
	int r;

	for (size_t i = 0; allowed[i]; i++)
		buf_printf(&list, "%s\"%s\"", i ? ", " : "", allowed[i]);
	r = vc_fail(c, field, "Unsupported value: %s: supported values: %s", shown,
		    list.s ? list.s : "");
	buf_free(&list);
	return r;
}

/* "PATH.field: prefix: detail". */
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

int vc_range(struct vc *c, const char *field, const json_t *v, int64_t n, int64_t min, int64_t max)
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

int vc_int(struct vc *c, const json_t *parent, const char *key, bool req, int64_t min, int64_t max,
	   int64_t *out)
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
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "  \
	"or '.', and must start and end with an alphanumeric character"
#define MSG_DNS_LABEL                                                                              \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "   \
	"and must start and end with an alphanumeric character"
#define MSG_DNS1035                                                                                \
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "  \
	"an alphabetic character, and end with an alphanumeric character"
#define MSG_QNAME_PART                                                                             \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end "        \
	"with an alphanumeric character"

/* ASCII classes, whatever the locale. */
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
const char *vrule_path_segment(const char *s)
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
		return "a valid label must be an empty string or consist of alphanumeric "
		       "characters, "
		       "'-', '_' or '.', and must start and end with an alphanumeric character";
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
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens "
			       "(-)";
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
const char *vrule_cidr(const char *s)
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

#define MSG_QUANTITY                                                                               \
	"must be a quantity: a number with an optional suffix (n, u, m, k, M, G, T, P, E, Ki, "    \
	"Mi, "                                                                                     \
	"Gi, Ti, Pi, Ei) or exponent (e3)"
#define QTY_DIGITS 128

/* A quantity string as read: its significant digits, sign and scale. */
struct qty {
	char digits[QTY_DIGITS]; /* most significant first, no leading zeros */
	size_t nd;
	long nfrac; /* digits after the point, zeros included */
	long e10;   /* the suffix's (or exponent's) power of 10 */
	int e2;	    /* the suffix's power of 2 */
	bool neg;
};

/* Reads the sign and the number ("-1.50") at the start of s into q, and
 * sets *end to what follows. */
static const char *qty_number(const char *s, struct qty *q, const char **end)
{
	bool dot = false, any = false;
	const char *p = s;

	if (*p == '+' || *p == '-')
		q->neg = *p++ == '-';
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (dot)
				return MSG_QUANTITY;
			dot = true;
			continue;
		}
		any = true;
		if (dot)
			q->nfrac++;
		if (q->nd == 0 && *p == '0')
			continue; /* leading zeros carry no value */
		if (q->nd == QTY_DIGITS)
			return "has too many digits";
		q->digits[q->nd++] = *p;
	}
	if (!any)
		return MSG_QUANTITY;
	*end = p;
	return NULL;
}

/* Reads the suffix p (a unit such as "Mi" or "m", or an exponent such as
 * "e3") into q's scale; it must be all that is left. */
static const char *qty_suffix(const char *p, struct qty *q)
{
	static const struct {
		const char *sfx;
		int e10, e2;
	} sfx[] = {
	    {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40},
	    {"Pi", 0, 50}, {"Ei", 0, 60}, {"n", -9, 0},	 {"u", -6, 0},
	    {"m", -3, 0},  {"", 0, 0},	  {"k", 3, 0},	 {"M", 6, 0},
	    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},
	};
	bool eneg = false;

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(p, sfx[i].sfx) == 0) {
			q->e10 = sfx[i].e10;
			q->e2 = sfx[i].e2;
			return NULL;
		}
	}
	if (*p != 'e' && *p != 'E')
		return MSG_QUANTITY;
	p++;
	if (*p == '+' || *p == '-')
		eneg = *p++ == '-';
	if (!*p)
		return MSG_QUANTITY;
	for (; *p >= '0' && *p <= '9'; p++)
		if (q->e10 < 100000)
			q->e10 = q->e10 * 10 + (*p - '0');
	if (*p)
		return MSG_QUANTITY;
	if (eneg)
		q->e10 = -q->e10;
	return NULL;
}

/* Writes q's digits times 2^e2 into d, in decimal, least significant
 * first (d has room for QTY_DIGITS + 24).  Returns how many there are. */
static size_t qty_times_pow2(const struct qty *q, uint8_t *d)
{
	size_t nd = q->nd;

	for (size_t i = 0; i < nd; i++)
		d[i] = (uint8_t)(q->digits[nd - 1 - i] - '0');
	for (int k = 0; k < q->e2; k++) {
		int carry = 0;

		for (size_t i = 0; i < nd; i++) {
			int x = d[i] * 2 + carry;
			d[i] = (uint8_t)(x % 10);
			carry = x / 10;
		}
		if (carry)
			d[nd++] = (uint8_t)carry;
	}
	return nd;
}

/* The value d (nd decimal digits, least significant first) times 10^a as
 * an integer, rounded up (away from zero), negated with neg. */
static const char *qty_round_up(const uint8_t *d, size_t nd, long a, bool neg, int64_t *out)
{
	size_t lo = 0;

	while (lo < nd && d[lo] == 0)
		lo++, a++;
	if (lo == nd) {
		*out = 0;
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
	*out = neg ? -(int64_t)v : (int64_t)v;
	return NULL;
}

/*
 * Parses a quantity string into milli-units, rounded up (away from zero).
 * The digits are kept in decimal, least significant first, so that a
 * binary suffix and any number of fraction digits stay exact.
 */
static const char *qty_string(const char *s, int64_t *milli)
{
	struct qty q = {0};
	uint8_t d[QTY_DIGITS + 24]; /* room for the digits times 2^60 */
	const char *p = s, *err;

	err = qty_number(s, &q, &p);
	if (!err)
		err = qty_suffix(p, &q);
	if (err)
		return err;
	size_t nd = qty_times_pow2(&q, d);
	/* value = digits * 10^(e10 - nfrac) * 2^e2, in milli-units (10^3 more) */
	return qty_round_up(d, nd, q.e10 - q.nfrac + 3, q.neg, milli);
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
const char *vrule_intorpercent(const json_t *v, int64_t total, bool round_up, int64_t *out,
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
	const char *why = vrule_intorpercent(v, total, round_up, &x, &raw, &pct);

	if (why) {
		_cleanup_free_ char *shown = vshow(v);
		return err_make(e, EINVAL, "Invalid value: %s: %s", shown, why);
	}
	*out = x;
	return 0;
}

/* --- names and labels ----------------------------------------------------- */

/* The message of the public rule checks: "Invalid value: \"s\": why". */
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
	why = vrule_path_segment(name);
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

int vc_dns(struct vc *c, const json_t *parent, const char *key, bool req, enum kind_name_rule rule,
	   const char **out)
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
