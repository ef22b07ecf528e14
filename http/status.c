/* status.c - see status.h. */
#include "http/status.h"

#include <errno.h>
#include <string.h>

#include "engine/mem.h"

int status_of_errno(int err, const char **reason)
{
	static const struct {
		int err, code;
		const char *reason;
	} map[] = {
	    {ENOENT, 404, "NotFound"},
	    {EEXIST, 409, "AlreadyExists"},
	    {EBUSY, 409, "Conflict"},
	    {ESTALE, 409, "Conflict"},
	    {EINVAL, 422, "Invalid"},
	    {EPERM, 403, "Forbidden"},
	    {EACCES, 403, "Forbidden"},
	    {EFBIG, 413, "RequestEntityTooLarge"},
	    {ERANGE, 410, "Expired"},
	    {EAGAIN, 429, "TooManyRequests"},
	    {ETIMEDOUT, 504, "Timeout"},
	    {EIO, 503, "ServiceUnavailable"},
	    {E2BIG, 413, "RequestEntityTooLarge"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].err == err) {
			*reason = map[i].reason;
			return map[i].code;
		}
	}
	*reason = "InternalError";
	return 500;
}

json_t *status_new(int code, const char *reason, const char *msg)
{
	return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
			 "v1", "metadata", "status", "Failure", "message", msg ? msg : "", "reason",
			 reason, "code", code);
}

json_t *status_details(json_t *st, const struct kind_info *k, const char *name)
{
	json_t *d = json_object();
	if (name && *name)
		json_object_set_new(d, "name", json_string(name));
	if (k) {
		const char *slash = strchr(k->api_version, '/');
		if (slash)
			json_object_set_new(
			    d, "group",
			    json_stringn(k->api_version, (size_t)(slash - k->api_version)));
		json_object_set_new(d, "kind", json_string(k->plural));
	}
	json_object_set_new(st, "details", d);
	return st;
}

json_t *status_from_err(const struct err *e, const struct kind_info *k, const char *name)
{
	const char *reason;
	int code = status_of_errno(e ? e->code : EIO, &reason);
	json_t *st = status_new(code, reason, e && e->msg ? e->msg : "internal error");
	if (k || name)
		status_details(st, k, name);
	return st;
}

json_t *status_not_found(const struct kind_info *k, const char *name)
{
	char *msg = xasprintf("%s \"%s\" not found", k->plural, name);
	json_t *st = status_details(status_new(404, "NotFound", msg), k, name);
	free(msg);
	return st;
}

int status_code(const json_t *st)
{
	json_int_t c = json_integer_value(json_object_get(st, "code"));
	return c >= 100 && c <= 599 ? (int)c : 500;
}
