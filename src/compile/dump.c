#include "compile/dump.h"

#include <inttypes.h>

#include "compile/ops.h"

static const char *const op_names[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = #name,
    IOPS
#undef IOP_X
};

static const uint8_t op_words[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = words,
    IOPS
#undef IOP_X
};

/* Length of the instruction at `pc` whose op is `op`. */
static uint32_t instr_words(iop_t op, const code_word_t *pc)
{
    if (op_words[op])
        return op_words[op];
    if (op == IOP_BR_TABLE)
        return 3 + pc[2] + 1;
    if (op == IOP_BR_TABLE_LOAD_AS)
        return 6 + pc[5] + 1;
    /* Fused compare-branch with an immediate: i64 forms carry two words. */
    const char *name = op_names[op];
    return name[4] == '6' ? 5 : 4; /* "BR_I64_..." vs "BR_I32_..." */
}

static int op_of(const code_word_t *handlers, code_word_t w)
{
    for (int i = 0; i < IOP_COUNT; i++)
        if (handlers[i] == w)
            return i;
    return -1;
}

void compiled_func_dump(FILE *out, const compiled_func_t *f, const code_word_t *handlers)
{
    fprintf(out, "func %u: %u param slots, %u local slots, %u frame slots, %u words\n",
            f->func_index, f->param_slots, f->local_slots, f->frame_slots, f->code_len);
    for (uint32_t pc = 0; pc < f->code_len;) {
        int op = op_of(handlers, f->code[pc]);
        if (op < 0) {
            fprintf(out, "  %5u  ??? %#x\n", pc, f->code[pc]);
            return;
        }
        uint32_t n = instr_words((iop_t)op, &f->code[pc]);
        fprintf(out, "  %5u  %-22s", pc, op_names[op]);
        for (uint32_t i = 1; i < n && pc + i < f->code_len; i++)
            fprintf(out, " %" PRId32, (int32_t)f->code[pc + i]);
        fprintf(out, "   ; @0x%x\n", compiled_func_offset(f, pc));
        pc += n;
    }
}
