/* The component-model async ABI's run time (CanonicalABI.md), first part:
 * tasks of stackless (callback) async lifts called from the host, and the
 * built-ins that need no other waitables: task.return, task.cancel,
 * context.get/set, thread.yield, backpressure.inc/dec, waitable-set.new/
 * wait/poll/drop and waitable.join. Subtasks, streams, futures and error
 * contexts do not exist yet (instantiation refuses their built-ins), so a
 * waitable set never has a member and no event can ever arrive: polling
 * reports none, and waiting would wait forever, which traps instead. */
#include <stdlib.h>
#include <string.h>

#include "component/component.h"

enum { CALLBACK_EXIT = 0, CALLBACK_YIELD = 1, CALLBACK_WAIT = 2 };
enum { EVENT_NONE = 0 };

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
    default: return false;
    }
}

void task_inst_free(cinst_t *inst) { vec_free(&inst->waitable_sets); }

/* The live waitable set `handle`, or a trap. */
static whirl_error_t *waitable_set(cinst_t *inst, uint32_t handle, const char *what)
{
    if (handle == 0 || handle > inst->waitable_sets.len || !inst->waitable_sets.data[handle - 1])
        return canon_trap("%s: %u is not a waitable set handle", what, handle);
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
    case 0x1f:
        for (size_t i = 0; i < inst->waitable_sets.len; i++) {
            if (!inst->waitable_sets.data[i]) {
                inst->waitable_sets.data[i] = true;
                results[0].of.i32 = (int32_t)(i + 1);
                return NULL;
            }
        }
        if (inst->waitable_sets.len >= CANON_TABLE_MAX)
            return canon_trap("waitable-set.new: too many waitable sets");
        if (!vec_push(&inst->waitable_sets, true))
            return error_oom();
        results[0].of.i32 = (int32_t)inst->waitable_sets.len;
        return NULL;
    case 0x22:
        if ((e = waitable_set(inst, (uint32_t)args[0].of.i32, name)))
            return e;
        inst->waitable_sets.data[(uint32_t)args[0].of.i32 - 1] = false;
        return NULL;
    case 0x21: /* poll: no member, so no event; the event record is untouched */
        if ((e = waitable_set(inst, (uint32_t)args[0].of.i32, name)))
            return e;
        results[0].of.i32 = EVENT_NONE;
        return NULL;
    case 0x20:
        if ((e = waitable_set(inst, (uint32_t)args[0].of.i32, name)))
            return e;
        return canon_trap("waitable-set.wait: the set has no member, so the task would "
                          "wait forever");
    case 0x23: {
        uint32_t set = (uint32_t)args[1].of.i32;
        if (set && (e = waitable_set(inst, set, name)))
            return e;
        return canon_trap("waitable.join: %u is not a waitable handle (subtasks, streams "
                          "and futures are not implemented yet)", (uint32_t)args[0].of.i32);
    }
    case 0x06:
    case 0x0d:
        /* Async lowers complete before they return (call.c), so no
         * subtask handle is ever handed out. */
        return canon_trap("%s: %u is not a subtask handle", name, (uint32_t)args[0].of.i32);
    default: return canon_trap("%s is not implemented yet", name);
    }
}

whirl_error_t *task_call_async(whirl_component_func_t *f, ctask_t *task, whirl_val_t *flat,
                               size_t nflat, whirl_cval_t *results, size_t nresults)
{
    cinst_t *ci = f->inst;
    if (!f->callback)
        return canon_trap("stackful async lifts are not implemented yet");
    task->is_async = true;
    task->result_type = f->type->result;
    task->encoding = f->encoding;
    task->memory = f->memory;
    task->outer = ci->current_task;
    ci->current_task = task;
    whirl_val_t code = {.kind = WHIRL_I32};
    whirl_error_t *e = whirl_func_call(ci->store, f->core, flat, nflat, &code, 1);
    /* The callback loop. Every event source is a subtask, stream or
     * future, none of which exists yet, so the only event is "none". */
    while (!e) {
        uint32_t packed = (uint32_t)code.of.i32;
        uint32_t op = packed & 0xf;
        if (op == CALLBACK_EXIT)
            break;
        if (op > CALLBACK_WAIT) {
            e = canon_trap("async callback returned the unknown code %u", op);
            break;
        }
        if (op == CALLBACK_WAIT) {
            if (!(e = waitable_set(ci, packed >> 4, "async callback WAIT")))
                e = canon_trap("async callback waits on waitable set %u, which has no "
                               "member: the task would wait forever", packed >> 4);
            break;
        }
        whirl_val_t ev[3] = {{.kind = WHIRL_I32}, {.kind = WHIRL_I32}, {.kind = WHIRL_I32}};
        e = whirl_func_call(ci->store, f->callback, ev, 3, &code, 1);
    }
    if (!e && !task->returned)
        e = canon_trap("async export `%s` exited without calling task.return",
                       f->name ? f->name : "(anonymous)");
    ci->current_task = task->outer;
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
