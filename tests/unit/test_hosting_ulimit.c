/* The address-space probe and the on-demand fallback under a limited
 * address space, as `ulimit -v` sets it (RLIMIT_AS).
 *
 * Run as is, the test lowers its own limit to what the process maps already
 * plus 3 GiB (so it also works under a sanitizer, whose shadow memory is
 * mapped before main), which `ulimit -v` would do for a shell's children;
 * run under a limit already set (bash -c 'ulimit -v 4000000; ...') it keeps
 * that one. Either way there is room for a few GiB but not for the probe's
 * 2^42 bytes or one 8 GiB memory reservation. */
#include <sys/resource.h>

#include "hosting_common.h"
#include "runtime/runtime.h"

static unsigned long long vm_size_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static bool limit_address_space(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0)
        return false;
    if (rl.rlim_cur != RLIM_INFINITY) {
        printf("address space already limited to %llu bytes\n",
               (unsigned long long)rl.rlim_cur);
        return true;
    }
    unsigned long long vm = vm_size_bytes();
    if (!vm)
        return false;
    rl.rlim_cur = vm + (3ull << 30);
    printf("limiting the address space to %llu bytes (%llu mapped + 3 GiB)\n",
           (unsigned long long)rl.rlim_cur, vm);
    return setrlimit(RLIMIT_AS, &rl) == 0;
}

int main(void)
{
    clear_env();
    if (!limit_address_space()) {
        fprintf(stderr, "cannot limit the address space\n");
        failed++;
        return report();
    }

    /* The probe fails, so pooling is off, and says where that came from. */
    whirl_config_t *c = whirl_config_new();
    whirl_config_item_t it = {0};
    for (size_t i = 0; i < whirl_config_item_count(); i++)
        if (whirl_config_item(c, i, &it) && strcmp(it.name, "pooling") == 0)
            break;
    CHECK(strcmp(it.value, "n") == 0 && strcmp(it.source, "probe") == 0);
    whirl_config_delete(c);
    whirl_engine_t *e = NULL;
    CHECK_OK(whirl_engine_new(NULL, &e)); /* ticker included */
    CHECK(e && !whirl_engine_pooling(e));

    /* On-demand memories still work, with smaller reservations: a few
     * stores at once, each growing its memory. */
    whirl_module_t *m = e ? LOAD(e, M_MAIN) : NULL;
    whirl_store_t *stores[4] = {0};
    for (int k = 0; m && k < 4; k++) {
        whirl_store_t *s = stores[k] = whirl_store_new(e, NULL, NULL);
        whirl_instance_t *inst = instantiate(s, m);
        if (!inst)
            continue;
        CHECK(whirl_store_memory_consumed(s) == 65536);
        CHECK(call_i32(s, inst, "grow", 1, 15, 0) == 1);
        call_i32(s, inst, "store", 2, 16 * 65536 - 4, 42);
        CHECK(call_i32(s, inst, "load", 1, 16 * 65536 - 4, 0) == 42);
        CHECK(whirl_store_memory_consumed(s) == 16 * 65536);
        whirl_memory_t *mem = export_of(inst, "mem").of.memory;
        CHECK(mem && mem->reserved < ((size_t)8 << 30) && mem->cap_bytes >= 16 * 65536);
        /* Growth past the reservation fails like growth past a maximum. */
        CHECK(call_i32(s, inst, "grow", 1, 65000, 0) == -1);
    }
    for (int k = 0; k < 4; k++)
        whirl_store_delete(stores[k]);

    /* Forced on, pooling cannot be had: a clear error, not a crash. */
    c = whirl_config_new();
    whirl_config_pooling_set(c, true);
    whirl_engine_t *e2 = NULL;
    CHECK_ERR(whirl_engine_new(c, &e2), false, "pooling is on", "total_memories",
              "cannot reserve");
    setenv("WHIRL_POOLING", "1", 1);
    CHECK_ERR(whirl_engine_new(NULL, &e2), false, "set in the environment");
    unsetenv("WHIRL_POOLING");
    /* A pool small enough for the limit works. */
    c = whirl_config_new();
    whirl_config_pooling_set(c, true);
    whirl_config_pool_limit_set(c, WHIRL_POOL_MAX_INSTANCE_COUNT, 0);
    whirl_config_pool_limit_set(c, WHIRL_POOL_TOTAL_CORE_INSTANCES, 4);
    whirl_config_pool_limit_set(c, WHIRL_POOL_INSTANCE_COUNT, 4);
    whirl_config_pool_limit_set(c, WHIRL_POOL_TOTAL_STACKS, 4);
    CHECK_OK(whirl_engine_new(c, &e2));
    if (e2) {
        whirl_module_t *empty = LOAD(e2, M_EMPTY);
        whirl_store_t *s = whirl_store_new(e2, NULL, NULL);
        instantiate(s, empty);
        whirl_store_delete(s);
        whirl_module_delete(empty);
    }
    whirl_engine_delete(e2);
    whirl_module_delete(m);
    whirl_engine_delete(e);
    return report();
}
