/*
 * log.h - leveled logging to stderr, one line per event:
 *
 *     2026-11-26T01:07:11.123Z info store /var/lib/clusterfs/state.db: opened at revision 42
 *
 * The macros skip formatting entirely when the level is off.  Thread-safe
 * (each line is one fprintf to an unbuffered stderr).
 */
#ifndef CFS_LOG_H
#define CFS_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_line(enum log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(lvl, comp, ...)                                                                     \
	do {                                                                                       \
		if ((lvl) <= log_level)                                                            \
			log_line((lvl), (comp), __VA_ARGS__);                                      \
	} while (0)

#define log_error(comp, ...) log_at(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_at(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_at(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_at(LOG_DEBUG, comp, __VA_ARGS__)

#endif
