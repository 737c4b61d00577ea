/* perf's map of JIT code (`-D perfmap`, WHIRL_PERFMAP=1, the "perfmap"
 * knob): one line "START SIZE NAME" (hex) per compiled function, appended
 * to /tmp/perf-PID.map, which `perf report` reads to name addresses in
 * code it found no ELF file for. Names come from the name section, else
 * "wasm-function[N]"; a function's slot-entry adapter is "NAME (entry)".
 * Sizes follow from the code's layout (functions have no symbols).
 * The file is never removed (perf reads it after the process is gone);
 * lines of modules freed later may name reused addresses, as with any JIT. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit/jit_debuginfo.h" /* jit_code_sizes */
#include "jit/jit_internal.h"

static pthread_mutex_t perfmap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Appends "START SIZE NAME\n" for function `i` to buf (grown). */
static bool add_line(char **buf, size_t *len, size_t *cap, const wasm_module_t *m, uint32_t i,
                     const void *start, uint64_t size, bool entry)
{
    char name[160];
    const char *src = m->func_names && m->func_names[i] ? m->func_names[i] : NULL;
    int n;
    if (src)
        n = snprintf(name, sizeof name, "%.120s%s", src, entry ? " (entry)" : "");
    else
        n = snprintf(name, sizeof name, "wasm-function[%u]%s", i, entry ? " (entry)" : "");
    /* A line is one name: newlines from a name section would forge lines. */
    for (int k = 0; k < n && k < (int)sizeof name; k++)
        if (name[k] == '\n' || name[k] == '\r')
            name[k] = '?';
    if (*cap - *len < 200) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        char *p = realloc(*buf, ncap);
        if (!p)
            return false;
        *buf = p;
        *cap = ncap;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%llx %llx %s\n",
                             (unsigned long long)(uintptr_t)start, (unsigned long long)size,
                             name);
    return true;
}

typedef struct code_start {
    uintptr_t at;
    uint32_t slot; /* index into the sizes: function i's native code at i, entry at n + i */
} code_start_t;

static int by_address(const void *pa, const void *pb)
{
    const code_start_t *a = pa, *b = pb;
    return (a->at > b->at) - (a->at < b->at);
}

/* Sizes from the layout: functions lie one after another in the object's
 * code section, in module order, and an empty function follows the last
 * one (jit_object.c), so each ends where the next starts. */
void jit_code_sizes(const jit_code_t *code, uint64_t *sizes)
{
    uint32_t n = code->nfuncs, count = 0;
    code_start_t *starts = calloc((size_t)n * 2 + 1, sizeof *starts);
    if (!starts)
        return;
    for (uint32_t i = 0; i < n; i++)
        if (code->native[i]) {
            starts[count++] = (code_start_t){(uintptr_t)code->native[i], i};
            starts[count++] = (code_start_t){(uintptr_t)code->entry[i], n + i};
        }
    qsort(starts, count, sizeof *starts, by_address);
    for (uint32_t k = 0; k < count; k++) {
        uintptr_t end = k + 1 < count ? starts[k + 1].at : (uintptr_t)code->code_end;
        sizes[starts[k].slot] = end > starts[k].at ? end - starts[k].at : 0;
    }
    free(starts);
}

void jit_perfmap_write(const jit_code_t *code)
{
    const wasm_module_t *m = code->wasm;
    uint64_t *sizes = calloc((size_t)code->nfuncs * 2 + 1, sizeof *sizes);
    if (!sizes)
        return;
    jit_code_sizes(code, sizes);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (uint32_t i = 0; i < code->nfuncs && ok; i++) {
        if (!code->native[i])
            continue;
        ok = add_line(&buf, &len, &cap, m, i, code->native[i], sizes[i], false) &&
             add_line(&buf, &len, &cap, m, i, code->entry[i], sizes[code->nfuncs + i], true);
    }
    free(sizes);
    if (ok && len) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
        /* One write per module under a lock: lines of modules compiled on
         * several threads do not interleave. Failure is not an error: the
         * map only helps a profiler. */
        pthread_mutex_lock(&perfmap_lock);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) {
            for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, buf + off, len - off);
                if (n <= 0)
                    break;
                off += (size_t)n;
            }
            close(fd);
        }
        pthread_mutex_unlock(&perfmap_lock);
    }
    free(buf);
}
