/* The x86-64 (System V) context switch of fibers (fiber.h). A context is
 * what a callee must preserve: rbx, rbp, r12-r15, the stack pointer, and
 * the floating-point control state (MXCSR, the x87 control word), pushed
 * on the context's own stack, so switching is a handful of moves and
 * never a system call (unlike ucontext, which saves the signal mask). */
#include "runtime/fiber.h"

#if defined(__x86_64__)

/* fiber_arch_switch(save = rdi, to = rsi, arg = rdx) -> rax */
__asm__(".text\n"
        ".globl fiber_arch_switch\n"
        ".hidden fiber_arch_switch\n"
        ".type fiber_arch_switch,@function\n"
        ".p2align 4\n"
        "fiber_arch_switch:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    movq %rdx, %rax\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size fiber_arch_switch, .-fiber_arch_switch\n"
        /* A fresh context returns here: r12 = entry, r13 = start_arg,
         * rax = the switch's arg. rbp = 0 ends frame-pointer walks. */
        ".type fiber_arch_start,@function\n"
        ".p2align 4\n"
        "fiber_arch_start:\n"
        "    .cfi_startproc\n"
        "    .cfi_undefined rip\n"
        "    xorl %ebp, %ebp\n"
        "    movq %rax, %rdi\n"
        "    movq %r13, %rsi\n"
        "    callq *%r12\n"
        "    ud2\n"
        "    .cfi_endproc\n"
        ".size fiber_arch_start, .-fiber_arch_start\n");

extern char fiber_arch_start[];

void *fiber_arch_init(void *top, void (*entry)(void *arg, void *start_arg), void *start_arg)
{
    /* From the returned pointer up: the control words, r15, r14, r13, r12,
     * rbx, rbp, the return address, then 8 bytes of padding so that rsp
     * is 16-byte aligned after `ret`, as a `call` expects. */
    uint64_t *sp = (uint64_t *)top - 10;
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    sp[0] = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
    sp[1] = 0;                       /* r15 */
    sp[2] = 0;                       /* r14 */
    sp[3] = (uint64_t)start_arg;     /* r13 */
    sp[4] = (uint64_t)entry;         /* r12 */
    sp[5] = 0;                       /* rbx */
    sp[6] = 0;                       /* rbp */
    sp[7] = (uint64_t)fiber_arch_start;
    sp[8] = 0;
    sp[9] = 0;
    return sp;
}

#endif
