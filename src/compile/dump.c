#include "compile/dump.h"

#include <inttypes.h>

#include "compile/ops.h"

static const char *const op_names[IOP_COUNT] = {
#define IOP_X(name, words) [IOP_##name] = #name,
    IOPS
#undef IOP_X
};

void compiled_func_dump(FILE *out, const compiled_func_t *f)
{
    fprintf(out, "func %u: %u param slots, %u local slots, %u frame slots, %u words\n",
            f->func_index, f->param_slots, f->local_slots, f->frame_slots, f->code_len);
    for (uint32_t pc = 0; pc < f->code_len;) {
        uint32_t n = code_instr_words(&f->code[pc], f->code_len - pc);
        if (n == 0) {
            fprintf(out, "  %5u  ??? %#x\n", pc, f->code[pc]);
            return;
        }
        code_word_t op = f->code[pc];
        fprintf(out, "  %5u  %-22s", pc, op_names[op]);
        for (uint32_t i = 1; i < n && pc + i < f->code_len; i++)
            fprintf(out, " %" PRId32, (int32_t)f->code[pc + i]);
        fprintf(out, "   ; @0x%x\n", compiled_func_offset(f, pc));
        pc += n;
    }
}
