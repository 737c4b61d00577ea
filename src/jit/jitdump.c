/* perf's jitdump file (`-D jitdump`, WHIRL_JITDUMP=1, the "jitdump" knob):
 * /tmp/jit-PID.dump, in the format of perf's jitdump specification
 * (tools/perf/Documentation/jitdump-specification.txt): a header, then one
 * JIT_CODE_LOAD record per compiled function (and per entry trampoline,
 * "NAME (entry)", as perf-PID.map names them) carrying its name, address
 * and a copy of its code bytes.
 *
 * Unlike the perf map, the records keep the code itself and a timestamp,
 * so `perf inject --jit` can write an ELF file per function and `perf
 * annotate` can disassemble guest functions even after their memory was
 * reused. perf finds the file through the marker the specification asks
 * for: the file's first page mapped executable for the life of the
 * process, which `perf record` sees as an mmap event. Timestamps are
 * CLOCK_MONOTONIC (record with `perf record -k mono`).
 *
 * Failures only lose records: the file helps a profiler and is never an
 * error of the run. */
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "jit/jit_debuginfo.h"

#define JITDUMP_MAGIC 0x4A695444u /* "JiTD" as a little-endian word */
#define JITDUMP_VERSION 1
#define JIT_CODE_LOAD 0

struct jitdump_header {
    uint32_t magic, version, total_size, elf_mach, pad1, pid;
    uint64_t timestamp, flags;
};

struct jitdump_record {
    uint32_t id, total_size;
    uint64_t timestamp;
};

struct jitdump_code_load {
    struct jitdump_record p;
    uint32_t pid, tid;
    uint64_t vma, code_addr, code_size, code_index;
    /* then the name (NUL-terminated) and code_size bytes of code */
};

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static int dump_fd = -1;
static long dump_pid;      /* the process the file is for (a fork starts its own) */
static uint64_t code_index; /* unique per record, as perf wants */

static uint64_t timestamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static uint32_t host_machine_id(void)
{
#if defined(__x86_64__)
    return EM_X86_64;
#elif defined(__aarch64__)
    return EM_AARCH64;
#else
    return EM_NONE;
#endif
}

/* Opens the file, writes the header and maps the marker; under dump_lock. */
static bool open_dump(void)
{
    long pid = (long)getpid();
    if (dump_fd >= 0 && dump_pid == pid)
        return true;
    if (dump_fd >= 0) /* inherited across fork: the child writes its own */
        close(dump_fd);
    dump_fd = -1;
    char path[64];
    snprintf(path, sizeof path, "/tmp/jit-%ld.dump", pid);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return false;
    struct jitdump_header h = {.magic = JITDUMP_MAGIC, .version = JITDUMP_VERSION,
                               .total_size = sizeof h, .elf_mach = host_machine_id(),
                               .pid = (uint32_t)pid, .timestamp = timestamp()};
    /* The marker: perf recognises jit-PID.dump in an executable mapping. */
    long page = sysconf(_SC_PAGESIZE);
    void *marker = MAP_FAILED;
    if (write_all(fd, &h, sizeof h))
        marker = mmap(NULL, page > 0 ? (size_t)page : 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE,
                      fd, 0);
    if (marker == MAP_FAILED) {
        close(fd);
        return false;
    }
    /* The mapping stays for the life of the process, as the format asks. */
    dump_fd = fd;
    dump_pid = pid;
    return true;
}

static bool add_record(const wasm_module_t *m, uint32_t i, const void *start, uint64_t size,
                       bool entry, uint32_t tid)
{
    char name[160];
    const char *src = m->func_names && m->func_names[i] ? m->func_names[i] : NULL;
    int n = src ? snprintf(name, sizeof name, "%.120s%s", src, entry ? " (entry)" : "")
                : snprintf(name, sizeof name, "wasm-function[%u]%s", i, entry ? " (entry)" : "");
    size_t name_len = n < 0 ? 0 : (size_t)n < sizeof name ? (size_t)n : sizeof name - 1;
    struct jitdump_code_load r = {
        .p = {.id = JIT_CODE_LOAD,
              .total_size = (uint32_t)(sizeof r + name_len + 1 + size),
              .timestamp = timestamp()},
        .pid = (uint32_t)dump_pid,
        .tid = tid,
        .vma = (uintptr_t)start,
        .code_addr = (uintptr_t)start,
        .code_size = size,
        .code_index = code_index++,
    };
    return write_all(dump_fd, &r, sizeof r) && write_all(dump_fd, name, name_len) &&
           write_all(dump_fd, "", 1) && write_all(dump_fd, start, size);
}

void jit_jitdump_write(const jit_code_t *code)
{
    uint64_t *sizes = calloc((size_t)code->nfuncs * 2 + 1, sizeof *sizes);
    if (!sizes)
        return;
    jit_code_sizes(code, sizes);
    uint32_t tid = (uint32_t)syscall(SYS_gettid);
    /* Records of modules compiled on several threads do not interleave. */
    pthread_mutex_lock(&dump_lock);
    bool ok = open_dump();
    for (uint32_t i = 0; i < code->nfuncs && ok; i++) {
        if (!code->native[i])
            continue;
        uint64_t size = sizes[i], entry_size = sizes[code->nfuncs + i];
        if (size > UINT32_MAX / 2 || entry_size > UINT32_MAX / 2)
            continue; /* cannot be: records are 32-bit sized */
        ok = add_record(code->wasm, i, code->native[i], size, false, tid) &&
             add_record(code->wasm, i, code->entry[i], entry_size, true, tid);
    }
    pthread_mutex_unlock(&dump_lock);
    free(sizes);
}
