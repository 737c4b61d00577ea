/* Durations and sizes from text (units.c): the reasons alone, for callers
 * that name the value themselves (the knobs); whirl_parse_duration and
 * whirl_parse_size in whirl.h wrap these for hosts. */
#ifndef WHIRL_UTIL_UNITS_H
#define WHIRL_UTIL_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* On failure return false with the accepted forms (or "too large") in
 * *why, a static string. */
bool units_parse_duration(const char *text, uint64_t *nanos, const char **why);
bool units_parse_size(const char *text, uint64_t *bytes, const char **why);

#endif
