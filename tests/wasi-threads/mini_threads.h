/* A minimal thread runtime for the wasi-threads test guests. Debian's
 * wasi-libc (2022) ships no wasm32-wasi-threads sysroot (its libpthread.a
 * is empty and there is no pthread.h), so `-pthread` cannot build a guest
 * here: threads are started with the "wasi" "thread-spawn" import directly
 * and joined with memory.atomic.wait32/notify. Natively the same calls map
 * to pthreads, so that the program's output can be compared with the
 * native build's.
 *
 * Only the main thread may use libc (wasi-libc's malloc and stdio are
 * built without atomics); a thread runs computation and atomics only. */
#ifndef MINI_THREADS_H
#define MINI_THREADS_H

#include <stdint.h>
#include <stdlib.h>

typedef struct mini_thread {
    uint32_t stack_top; /* first: thread_start.s loads it */
    void (*fn)(void *);
    void *arg;
    int done; /* set and notified when fn returns */
    void *stack;
    int32_t tid;
#ifndef __wasm__
    pthread_t handle;
#endif
} mini_thread_t;

#define MINI_STACK_SIZE (64 * 1024)

#ifdef __wasm__
__attribute__((import_module("wasi"), import_name("thread-spawn"))) int32_t
mini_wasi_thread_spawn(int32_t start_arg);

/* Called by thread_start.s on the new thread's own stack. */
void mini_thread_main(int32_t tid, mini_thread_t *t);
void mini_thread_main(int32_t tid, mini_thread_t *t)
{
    (void)tid;
    t->fn(t->arg);
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&t->done, 1);
}

/* Returns the thread id (> 0), or thread-spawn's negative error. */
static int32_t mini_thread_spawn(mini_thread_t *t, void (*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->done = 0;
    t->stack = malloc(MINI_STACK_SIZE);
    if (!t->stack)
        return -1;
    t->stack_top = ((uint32_t)(uintptr_t)t->stack + MINI_STACK_SIZE) & ~15u;
    t->tid = mini_wasi_thread_spawn((int32_t)(uintptr_t)t);
    return t->tid;
}

/* The module is linked as a reactor (-mexec-model=reactor) with this
 * `_start` of its own: in a command module wasm-ld wraps every export,
 * wasi_thread_start too, in a function that first runs the C constructors,
 * and a new thread would run them again, on the main thread's stack,
 * before thread_start.s switches stacks. */
void _initialize(void);
int __main_void(void);
__attribute__((export_name("_start"))) void mini_start_command(void);
void mini_start_command(void)
{
    _initialize();
    exit(__main_void());
}

static void mini_thread_join(mini_thread_t *t)
{
    while (!__atomic_load_n(&t->done, __ATOMIC_SEQ_CST))
        __builtin_wasm_memory_atomic_wait32(&t->done, 0, -1);
    free(t->stack);
}

/* Blocks until *word is no longer `value` (or forever). */
static void mini_wait(int *word, int value)
{
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == value)
        __builtin_wasm_memory_atomic_wait32(word, value, -1);
}
static void mini_wake_all(int *word) { __builtin_wasm_memory_atomic_notify(word, (unsigned)-1); }
#else
static void *mini_native_start(void *p)
{
    mini_thread_t *t = p;
    t->fn(t->arg);
    return NULL;
}
static int32_t mini_thread_spawn(mini_thread_t *t, void (*fn)(void *), void *arg)
{
    static int32_t next_tid = 1;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->handle, NULL, mini_native_start, t) != 0)
        return -1;
    return t->tid = next_tid++;
}
static void mini_thread_join(mini_thread_t *t) { pthread_join(t->handle, NULL); }
#endif

#endif
