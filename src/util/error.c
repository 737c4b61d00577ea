#include "error.h"

#include "debug/dwarf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct error_frame {
    uint32_t func_index;
    char *name;
    size_t offset;
    debug_info_t *debug; /* the module's DWARF (a reference), or NULL */
} error_frame_t;

struct whirl_error {
    char *message;
    bool is_trap;
    bool is_exit;
    bool is_exhausted; /* a pool limit reached for now (whirl_error_is_resource_exhausted) */
    whirl_exn_t *exn;  /* an exception crossing the host boundary, or NULL */
    int exit_status;
    whirl_trap_code_t code;
    error_frame_t *frames;
    size_t nframes, frames_cap;
};

static whirl_error_t oom_error = {.message = "out of memory"};

whirl_error_t *error_oom(void) { return &oom_error; }

const char *whirl_trap_code_name(whirl_trap_code_t code)
{
    switch (code) {
    case WHIRL_TRAP_UNREACHABLE: return "unreachable";
    case WHIRL_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case WHIRL_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case WHIRL_TRAP_INDIRECT_CALL_NULL: return "uninitialized element";
    case WHIRL_TRAP_INDIRECT_CALL_TYPE: return "indirect call type mismatch";
    case WHIRL_TRAP_INTEGER_DIVIDE_BY_ZERO: return "integer divide by zero";
    case WHIRL_TRAP_INTEGER_OVERFLOW: return "integer overflow";
    case WHIRL_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WHIRL_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WHIRL_TRAP_INTERRUPT: return "interrupt";
    case WHIRL_TRAP_HOST: return "host error";
    case WHIRL_TRAP_NULL_EXCEPTION: return "null exception reference";
    case WHIRL_TRAP_EXCEPTIONS_EXHAUSTED: return "resource exhausted: exception objects";
    case WHIRL_TRAP_NULL_REFERENCE: return "null reference";
    case WHIRL_TRAP_UNALIGNED_ATOMIC: return "unaligned atomic";
    case WHIRL_TRAP_WAIT_UNSHARED: return "expected shared memory";
    }
    return "unknown trap";
}

whirl_error_t *error_vfmt(const char *fmt, va_list ap)
{
    whirl_error_t *e = calloc(1, sizeof *e);
    if (!e)
        return &oom_error;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        n = 0;
    e->message = malloc((size_t)n + 1);
    if (!e->message) {
        free(e);
        return &oom_error;
    }
    vsnprintf(e->message, (size_t)n + 1, fmt, ap);
    return e;
}

whirl_error_t *error_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    whirl_error_t *e = error_vfmt(fmt, ap);
    va_end(ap);
    return e;
}

whirl_error_t *whirl_error_new(const char *message)
{
    return error_fmt("%s", message ? message : "");
}

whirl_error_t *whirl_error_vnewf(const char *format, va_list args)
{
    return format ? error_vfmt(format, args) : error_fmt("%s", "");
}

whirl_error_t *whirl_error_newf(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    whirl_error_t *e = whirl_error_vnewf(format, ap);
    va_end(ap);
    return e;
}

whirl_error_t *error_trap(whirl_trap_code_t code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    whirl_error_t *e = detail[0] ? error_fmt("%s: %s", whirl_trap_code_name(code), detail)
                                 : error_fmt("%s", whirl_trap_code_name(code));
    if (e != &oom_error) {
        e->is_trap = true;
        e->code = code;
    }
    return e;
}

whirl_error_t *error_prefix(whirl_error_t *error, const char *fmt, ...)
{
    if (error == &oom_error)
        return error;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t a = strlen(prefix), b = strlen(error->message);
    char *m = malloc(a + b + 1);
    if (!m)
        return error;
    memcpy(m, prefix, a);
    memcpy(m + a, error->message, b + 1);
    free(error->message);
    error->message = m;
    return error;
}

void error_add_frame(whirl_error_t *error, uint32_t func_index, const char *name,
                     size_t offset)
{
    error_add_frame_in(error, NULL, func_index, name, offset);
}

void error_add_frame_in(whirl_error_t *error, whirl_module_t *module, uint32_t func_index,
                        const char *name, size_t offset)
{
    if (error == &oom_error)
        return;
    if (error->nframes == error->frames_cap) {
        size_t cap = error->frames_cap ? error->frames_cap * 2 : 8;
        error_frame_t *f = realloc(error->frames, cap * sizeof *f);
        if (!f)
            return;
        error->frames = f;
        error->frames_cap = cap;
    }
    error_frame_t *f = &error->frames[error->nframes];
    f->func_index = func_index;
    f->offset = offset;
    f->name = name ? strdup(name) : NULL;
    if (name && !f->name)
        return;
    f->debug = debug_info_of(module);
    debug_info_retain(f->debug);
    error->nframes++;
}

whirl_error_t *whirl_trap_new(whirl_trap_code_t code, const char *message)
{
    return error_trap(code, "%s", message ? message : "");
}

whirl_error_t *whirl_error_new_exit(int status)
{
    whirl_error_t *e = error_fmt("guest exited with status %d", status);
    if (e != &oom_error) {
        e->is_exit = true;
        e->exit_status = status;
    }
    return e;
}

bool whirl_error_exit_status(const whirl_error_t *error, int *status)
{
    if (!error || !error->is_exit)
        return false;
    if (status)
        *status = error->exit_status;
    return true;
}

whirl_error_t *error_as_trap(whirl_error_t *error)
{
    if (error != &oom_error && !error->is_trap && !error->is_exit && !error->exn) {
        error->is_trap = true;
        error->code = WHIRL_TRAP_HOST;
    }
    return error;
}

const char *whirl_error_message(const whirl_error_t *error)
{
    return error ? error->message : "";
}

whirl_error_t *error_mark_exhausted(whirl_error_t *error)
{
    if (error && error != &oom_error)
        error->is_exhausted = true;
    return error;
}

bool whirl_error_is_resource_exhausted(const whirl_error_t *error)
{
    return error && error->is_exhausted;
}

bool whirl_error_is_trap(const whirl_error_t *error, whirl_trap_code_t *code)
{
    if (!error || !error->is_trap)
        return false;
    if (code)
        *code = error->code;
    return true;
}

size_t whirl_error_frame_count(const whirl_error_t *error)
{
    return error ? error->nframes : 0;
}

bool whirl_error_frame(const whirl_error_t *error, size_t index, uint32_t *func_index,
                       const char **func_name, size_t *offset)
{
    if (!error || index >= error->nframes)
        return false;
    const error_frame_t *f = &error->frames[index];
    if (func_index)
        *func_index = f->func_index;
    if (func_name)
        *func_name = f->name;
    if (offset)
        *offset = f->offset;
    return true;
}

size_t whirl_error_frame_source(const whirl_error_t *error, size_t index,
                                whirl_source_location_t *out, size_t max)
{
    if (!error || index >= error->nframes || (max && !out))
        return 0;
    const error_frame_t *f = &error->frames[index];
    return debug_info_locate(f->debug, f->offset, out, max);
}

size_t whirl_module_source_locations(const whirl_module_t *module, size_t offset,
                                     whirl_source_location_t *out, size_t max)
{
    if (!module || (max && !out))
        return 0;
    return debug_info_locate(debug_info_of((whirl_module_t *)module), offset, out, max);
}

void whirl_error_delete(whirl_error_t *error)
{
    if (!error || error == &oom_error)
        return;
    for (size_t i = 0; i < error->nframes; i++) {
        free(error->frames[i].name);
        debug_info_release(error->frames[i].debug);
    }
    free(error->frames);
    free(error->message);
    free(error);
}

whirl_error_t *error_exception(whirl_exn_t *exn)
{
    whirl_error_t *e = error_fmt("uncaught exception");
    if (e != &oom_error)
        e->exn = exn;
    return e;
}

whirl_error_t *whirl_error_exception_new(whirl_exn_t *exn)
{
    if (!exn)
        return error_fmt("whirl_error_exception_new: exn is NULL");
    return error_exception(exn);
}

bool whirl_error_is_exception(const whirl_error_t *error, whirl_exn_t **exn)
{
    if (!error || !error->exn)
        return false;
    if (exn)
        *exn = error->exn;
    return true;
}
