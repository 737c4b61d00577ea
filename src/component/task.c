/* The component-model async ABI's run time (CanonicalABI.md): tasks of
 * stackless (callback) async lifts called from the host, and the built-ins
 * task.return, task.cancel, context.get/set, thread.yield,
 * backpressure.inc/dec, waitable-set.new/wait/poll/drop and waitable.join
 * (the waitables themselves, streams and futures are in stream.c).
 * Everything runs on the caller's thread, one guest at a time: a wait with
 * no pending event in its set runs the event loop of pending host calls
 * (subtask.c) until one arrives; with no host call pending it could never
 * end, so it traps instead of hanging. */
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

enum { CALLBACK_EXIT = 0, CALLBACK_YIELD = 1, CALLBACK_WAIT = 2 };

bool task_builtin_supported(uint8_t op)
{
    switch (op) {
    case 0x05: /* task.cancel */
    case 0x06: /* subtask.cancel */
    case 0x09: /* task.return */
    case 0x0a: /* context.get */
    case 0x0b: /* context.set */
    case 0x0c: /* thread.yield */
    case 0x0d: /* subtask.drop */
    case 0x1f: /* waitable-set.new */
    case 0x20: /* waitable-set.wait */
    case 0x21: /* waitable-set.poll */
    case 0x22: /* waitable-set.drop */
    case 0x23: /* waitable.join */
    case 0x24: /* backpressure.inc */
    case 0x25: /* backpressure.dec */
        return true;
    default: return op >= 0x0e && op <= 0x1e; /* stream.*, future.*, error-context.* */
    }
}

void task_inst_free(cinst_t *inst) { waitables_free(inst); }

/* Takes a pending event of `set`, running the subtasks' event loop until
 * one comes (`block`) or once without waiting. *got false: none (without
 * `block`), or nothing could ever produce one (with it). */
static whirl_error_t *next_event(cinst_t *inst, uint32_t set, bool block, bool *got,
                                 uint32_t *code, uint32_t *index, uint32_t *payload)
{
    bool ran = false;
    for (;;) {
        if ((*got = wset_take_event(inst, set, code, index, payload)))
            return NULL;
        if (ran && !block)
            return NULL;
        bool none;
        whirl_error_t *e = subtasks_run(inst, block, &none);
        if (e || none)
            return e;
        ran = true;
    }
}

/* Writes an event's (index, payload) at `ptr` (waitable-set.wait/poll). */
static whirl_error_t *store_event(ctask_env_t *te, uint32_t ptr, uint32_t index,
                                  uint32_t payload)
{
    const char *name = canon_async_name(te->builtin);
    if (!te->memory)
        return canon_trap("%s: no memory", name);
    if (ptr % 4)
        return canon_trap("%s: event pointer 0x%x is not aligned to 4", name, ptr);
    if ((uint64_t)ptr + 8 > whirl_memory_data_size(te->memory))
        return canon_trap("%s: event pointer 0x%x is out of bounds", name, ptr);
    uint8_t *p = whirl_memory_data(te->memory) + ptr;
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(index >> (8 * i));
        p[4 + i] = (uint8_t)(payload >> (8 * i));
    }
    return NULL;
}

static whirl_error_t *task_return(ctask_env_t *te, ctask_t *task, const whirl_val_t *args,
                                  size_t nargs)
{
    if (!task->is_async)
        return canon_trap("task.return called by a task that was not lifted async");
    if (task->returned)
        return canon_trap("task.return called twice");
    if (!(te->type ? task->result_type && ctype_equal(te->type, task->result_type)
                   : !task->result_type))
        return canon_trap("task.return's result type does not match the lifted function's");
    if (te->memory != task->memory || te->encoding != task->encoding)
        return canon_trap("task.return's options do not match the lifted function's");
    task->returned = true;
    if (!te->type)
        return NULL;
    ccx_t cx = {.store = te->inst->store, .inst = te->inst, .encoding = te->encoding,
                .memory = te->memory};
    cfield_t rf = {NULL, te->type};
    return canon_lift_values(&cx, CANON_MAX_FLAT_PARAMS, &rf, 1, args, nargs, &task->result);
}

whirl_error_t *task_builtin_trampoline(void *env, whirl_caller_t *caller,
                                       const whirl_val_t *args, size_t nargs,
                                       whirl_val_t *results, size_t nresults)
{
    (void)caller;
    (void)nresults;
    ctask_env_t *te = env;
    cinst_t *inst = te->inst;
    ctask_t *task = inst->current_task;
    const char *name = canon_async_name(te->builtin);
    if (!inst->may_leave)
        return canon_trap("cannot call %s from realloc or post-return", name);
    if (!task && te->builtin != 0x1f && te->builtin != 0x22 && te->builtin != 0x24 &&
        te->builtin != 0x25)
        return canon_trap("%s called outside of a task", name);
    whirl_error_t *e;
    switch (te->builtin) {
    case 0x09: return task_return(te, task, args, nargs);
    case 0x05:
        /* Only a task that was asked to cancel may acknowledge it; nothing
         * cancels tasks yet. */
        return canon_trap("task.cancel called by a task that was not cancelled");
    case 0x0a: results[0].of.i32 = (int32_t)task->context[te->index]; return NULL;
    case 0x0b: task->context[te->index] = (uint32_t)args[0].of.i32; return NULL;
    case 0x0c: results[0].of.i32 = 0; return NULL; /* not cancelled */
    case 0x24:
        if (inst->backpressure == UINT16_MAX)
            return canon_trap("backpressure.inc: counter overflow");
        inst->backpressure++;
        return NULL;
    case 0x25:
        if (inst->backpressure == 0)
            return canon_trap("backpressure.dec: counter underflow");
        inst->backpressure--;
        return NULL;
    case 0x1f: {
        uint32_t h;
        if ((e = wset_new(inst, &h)))
            return e;
        results[0].of.i32 = (int32_t)h;
        return NULL;
    }
    case 0x22: return wset_drop(inst, (uint32_t)args[0].of.i32);
    case 0x20:
    case 0x21: {
        uint32_t set = (uint32_t)args[0].of.i32, code, index, payload;
        bool got;
        if ((e = wset_check(inst, set, name)) ||
            (e = next_event(inst, set, te->builtin == 0x20, &got, &code, &index, &payload)))
            return e;
        if (!got) {
            if (te->builtin == 0x20)
                return canon_trap("waitable-set.wait: no member of set %u has an event and "
                                  "nothing else can run, so the task would wait forever",
                                  set);
            results[0].of.i32 = EVENT_NONE; /* the event record is untouched */
            return NULL;
        }
        if ((e = store_event(te, (uint32_t)args[1].of.i32, index, payload)))
            return e;
        results[0].of.i32 = (int32_t)code;
        return NULL;
    }
    case 0x23: return waitable_join(inst, (uint32_t)args[0].of.i32, (uint32_t)args[1].of.i32);
    case 0x06:
    case 0x0d: return subtask_builtin(te, args, results);
    default: return stream_builtin(te, args, nargs, results);
    }
}

/* The callback loop from the callback code `packed` on: EXIT ends it,
 * YIELD calls back with no event, WAIT with a pending event of the set,
 * running the subtasks' event loop until one comes (none pending and no
 * host call running traps: with one guest running at a time, none could
 * arrive). With `can_suspend` (the task is a subtask of an async caller) a
 * WAIT with no event ready after one pass of the event loop suspends the
 * task instead: task->wait_code keeps the code and *suspended is set. */
static whirl_error_t *callback_loop(whirl_component_func_t *f, ctask_t *task, uint32_t packed,
                                    bool can_suspend, bool *suspended)
{
    cinst_t *ci = f->inst;
    *suspended = false;
    for (;;) {
        uint32_t op = packed & 0xf;
        if (op == CALLBACK_EXIT)
            return NULL;
        if (op > CALLBACK_WAIT)
            return canon_trap("async callback returned the unknown code %u", op);
        whirl_val_t ev[3] = {{.kind = WHIRL_I32}, {.kind = WHIRL_I32}, {.kind = WHIRL_I32}};
        whirl_error_t *e;
        if (op == CALLBACK_WAIT) {
            uint32_t set = packed >> 4, c, index, payload;
            bool got;
            if ((e = wset_check(ci, set, "async callback WAIT")) ||
                (e = next_event(ci, set, !can_suspend, &got, &c, &index, &payload)))
                return e;
            if (!got && can_suspend) {
                task->wait_code = packed;
                *suspended = true;
                return NULL;
            }
            if (!got)
                return canon_trap("async callback waits on waitable set %u, where no member "
                                  "has an event and nothing else can run: the task would wait "
                                  "forever", set);
            ev[0].of.i32 = (int32_t)c;
            ev[1].of.i32 = (int32_t)index;
            ev[2].of.i32 = (int32_t)payload;
        }
        whirl_val_t code = {.kind = WHIRL_I32};
        if ((e = whirl_func_call(ci->store, f->callback, ev, 3, &code, 1)))
            return e;
        packed = (uint32_t)code.of.i32;
    }
}

/* The task ended (e: how): its result, checked, goes to `results`. */
static whirl_error_t *task_end(whirl_component_func_t *f, ctask_t *task, whirl_error_t *e,
                               whirl_cval_t *results, size_t nresults)
{
    if (!e && !task->returned)
        e = canon_trap("async export `%s` exited without calling task.return",
                       f->name ? f->name : "(anonymous)");
    if (e) {
        whirl_cval_release(&task->result);
        return e;
    }
    if (nresults)
        results[0] = task->result;
    else
        whirl_cval_release(&task->result);
    memset(&task->result, 0, sizeof task->result);
    return NULL;
}

whirl_error_t *task_call_async(whirl_component_func_t *f, ctask_t *task, whirl_val_t *flat,
                               size_t nflat, whirl_cval_t *results, size_t nresults,
                               bool can_suspend, bool *suspended)
{
    cinst_t *ci = f->inst;
    *suspended = false;
    task->is_async = true;
    task->result_type = f->type->result;
    task->encoding = f->encoding;
    task->memory = f->memory;
    task->outer = ci->current_task;
    ci->current_task = task;
    whirl_val_t code = {.kind = WHIRL_I32};
    /* A stackful lift (no callback) runs on the caller's stack: its waits
     * (waitable-set.wait) block in the subtasks' event loop there, which
     * is all a fiber would give while only host calls run concurrently. */
    whirl_error_t *e = whirl_func_call(ci->store, f->core, flat, nflat, &code,
                                       f->callback ? 1 : 0);
    if (!e && f->callback)
        e = callback_loop(f, task, (uint32_t)code.of.i32, can_suspend, suspended);
    ci->current_task = task->outer;
    if (!e && *suspended)
        return NULL;
    return task_end(f, task, e, results, nresults);
}

whirl_error_t *task_resume_async(whirl_component_func_t *f, ctask_t *task,
                                 whirl_cval_t *results, size_t nresults, bool *suspended)
{
    cinst_t *ci = f->inst;
    task->outer = ci->current_task;
    ci->current_task = task;
    whirl_error_t *e = callback_loop(f, task, task->wait_code, true, suspended);
    ci->current_task = task->outer;
    if (!e && *suspended)
        return NULL;
    return task_end(f, task, e, results, nresults);
}
