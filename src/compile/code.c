/* What any reader of internal code needs besides the op list: the length
 * of each instruction, to walk code (the interpreter's translation to and
 * from its dispatch form, the dump). */
#include "compile/code.h"

#include "compile/ops.h"

const uint8_t iop_words[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = words,
    IOPS
#undef IOP_X
};

uint32_t code_instr_words(const code_word_t *pc, size_t avail)
{
    return iop_instr_words(pc, avail);
}
