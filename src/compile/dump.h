/* A readable listing of compiled internal code, for debugging the compiler
 * and studying what the interpreter runs (`whirl dump`). */
#ifndef WHIRL_COMPILE_DUMP_H
#define WHIRL_COMPILE_DUMP_H

#include <stdio.h>

#include "compile/code.h"

/* Prints `f`'s code to `out`, one instruction per line: word index, op name,
 * operand words. */
void compiled_func_dump(FILE *out, const compiled_func_t *f);

#endif
