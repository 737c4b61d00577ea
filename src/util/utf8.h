/* UTF-8 validation (utf8.c). */
#ifndef WHIRL_UTIL_UTF8_H
#define WHIRL_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Well-formed UTF-8 per the Unicode standard: shortest form only, no
 * surrogates, nothing above U+10FFFF, no truncated sequences. */
bool utf8_valid(const uint8_t *s, size_t len);

#endif
