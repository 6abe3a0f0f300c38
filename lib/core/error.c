/* error.c - the per-thread last-error message behind nk_error(). */
#include "core/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local so that OpenMP workers and callers on other threads never
 * read each other's messages. */
static _Thread_local char last_message[1024];

static const char *const error_names[] = {
	[NK_OK] = "success",
	[NK_ENOMEM] = "out of memory",
	[NK_EIO] = "input/output error",
	[NK_EFORMAT] = "bad format",
	[NK_EVERSION] = "unsupported version",
	[NK_ECHECKSUM] = "checksum mismatch",
	[NK_ERANGE] = "value out of range",
	[NK_EINVAL] = "invalid argument",
	[NK_ENOTFOUND] = "not found",
};
_Static_assert(sizeof error_names / sizeof error_names[0] == NK_ERR_COUNT,
	       "every error code needs a name");

int nk_error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_message, sizeof last_message, fmt, ap);
	va_end(ap);
	return code;
}

int nk_error_prefix(int code, const char *prefix)
{
	/* Room for the prefix too; the result is cut to the message size. */
	char tmp[2 * sizeof last_message + 4];
	/* A message that already starts with the prefix keeps its form. */
	size_t n = strlen(prefix);
	if (strncmp(last_message, prefix, n) == 0 && last_message[n] == ':')
		return code;
	snprintf(tmp, sizeof tmp, "%s: %s", prefix,
		 last_message[0] ? last_message : nk_strerror(code));
	memcpy(last_message, tmp, sizeof last_message - 1);
	last_message[sizeof last_message - 1] = '\0';
	return code;
}

const char *nk_last_error(void)
{
	return last_message;
}

const char *nk_strerror(int code)
{
	if (code < 0 || code >= NK_ERR_COUNT)
		return "unknown error";
	return error_names[code];
}

void nk_error_clear(void)
{
	last_message[0] = '\0';
}
