/* `whirl run -S threads`: wasi-threads (the "wasi" "thread-spawn" import).
 *
 * The module imports a shared memory; whirl run makes it in the main store
 * and each thread-spawn makes a new instance of the same module in a store
 * of its own, over a view of that memory (whirl_shared_memory_import), and
 * calls its export `wasi_thread_start(tid, start_arg)` on a new OS thread.
 * All stores share the program's one deadline (the -W timeout, fixed when
 * the main store was set up) and its one WASI context (its calls are
 * serialised by the context's lock, see src/wasi/internal.h).
 *
 * As the wasi-threads proposal says, the program ends when the main
 * thread's _start returns, or when any thread calls proc_exit or traps; the
 * other threads are not waited for. A thread cannot be stopped from outside
 * while it runs guest code, so whirl run ends the process there and then
 * (after the report, with the status a single-threaded run would have). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "whirl/wasi.h"

/* At most this many spawned threads run at once (each has a store, an
 * instance and an OS thread); thread-spawn past it returns -1, as it does
 * once the ids (1 to WHIRL_WASI_MAX_TID, the range wasi-threads allows)
 * are used up. */
#define WHIRL_WASI_MAX_THREADS 64
#define WHIRL_WASI_MAX_TID 0x1FFFFFFF

static const char spawn_module[] = "wasi";
static const char spawn_name[] = "thread-spawn";

struct cli_wasi_threads {
    const run_opts_t *opts;
    whirl_engine_t *engine;
    whirl_module_t *module;
    whirl_wasi_t *wasi;
    whirl_memory_t *memory; /* the shared memory, in the main store */
    char memory_module[256], memory_name[256];
    uint64_t deadline_ns; /* UINT64_MAX: none */
    pthread_mutex_t lock; /* guards live and next_tid */
    unsigned live;        /* spawned threads not yet finished */
    int32_t next_tid;
    atomic_bool spawned;
    /* Taken, and never released, by whichever thread ends the program
     * first, so that only one reports. */
    pthread_mutex_t ending;
};

/* One spawned thread's instance. */
typedef struct spawned {
    cli_wasi_threads_t *t;
    whirl_store_t *store;
    whirl_linker_t *linker;
    whirl_func_t *start;
    int32_t tid, arg;
} spawned_t;

bool cli_is_thread_spawn_import(const whirl_import_info_t *imp)
{
    return imp->kind == WHIRL_EXTERN_FUNC && imp->module_len == sizeof spawn_module - 1 &&
           memcmp(imp->module, spawn_module, sizeof spawn_module - 1) == 0 &&
           imp->name_len == sizeof spawn_name - 1 &&
           memcmp(imp->name, spawn_name, sizeof spawn_name - 1) == 0;
}

bool cli_imports_thread_spawn(const whirl_module_t *m)
{
    whirl_import_info_t imp;
    for (size_t i = 0, n = whirl_module_import_count(m); i < n; i++)
        if (whirl_module_import(m, i, &imp) && cli_is_thread_spawn_import(&imp))
            return true;
    return false;
}

static whirl_error_t *thread_spawn(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                   size_t nargs, whirl_val_t *results, size_t nresults);

/* Defines WASI, thread-spawn and the shared memory (`memory`, a store's
 * view of it) in `linker`. */
static whirl_error_t *define_imports(cli_wasi_threads_t *t, whirl_linker_t *linker,
                                     whirl_memory_t *memory, bool with_wasi)
{
    whirl_error_t *err;
    if (with_wasi && (err = whirl_linker_define_wasi(linker, t->wasi)))
        return err;
    whirl_valkind_t i32 = WHIRL_I32;
    whirl_functype_t *type = whirl_functype_new(&i32, 1, &i32, 1);
    if (!type)
        return whirl_error_new("out of memory");
    err = whirl_linker_define_func(linker, spawn_module, spawn_name, type, thread_spawn, t, NULL);
    whirl_functype_delete(type);
    if (err)
        return err;
    whirl_extern_t ext = {.kind = WHIRL_EXTERN_MEMORY, .of.memory = memory};
    return whirl_linker_define(linker, t->memory_module, t->memory_name, &ext);
}

/* The program ends now: report `err` (NULL: none) as a single-threaded
 * run would and leave with its status. The first thread to get here wins;
 * any other waits here until the process is gone. */
static _Noreturn void end_program(cli_wasi_threads_t *t, int32_t tid, whirl_error_t *err)
{
    pthread_mutex_lock(&t->ending);
    int rc = EXIT_OK;
    if (err) {
        char what[64];
        snprintf(what, sizeof what, "thread %d", (int)tid);
        bool trap = whirl_error_is_trap(err, NULL);
        rc = cli_report_run_failure(t->opts, what, err);
        if (trap)
            fprintf(stderr, "note: in wasi-threads thread %d; the trap ends every thread\n",
                    (int)tid);
    }
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

static void spawned_free(spawned_t *s)
{
    /* The store goes first: its instance imports the linker's functions. */
    whirl_store_delete(s->store);
    whirl_linker_delete(s->linker);
    free(s);
}

static void *thread_main(void *p)
{
    spawned_t *s = p;
    cli_wasi_threads_t *t = s->t;
    whirl_val_t args[2] = {{.kind = WHIRL_I32, .of.i32 = s->tid},
                           {.kind = WHIRL_I32, .of.i32 = s->arg}};
    whirl_error_t *err = whirl_func_call(s->store, s->start, args, 2, NULL, 0);
    if (err)
        end_program(t, s->tid, err); /* a trap or proc_exit ends every thread */
    spawned_free(s);
    pthread_mutex_lock(&t->lock);
    t->live--;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Makes the new thread's store and instance; NULL error on success. */
static whirl_error_t *spawn_instance(cli_wasi_threads_t *t, spawned_t *s)
{
    whirl_error_t *err;
    if (!(s->store = whirl_store_new(t->engine, NULL, NULL)) ||
        !(s->linker = whirl_linker_new(t->engine)))
        return whirl_error_new("out of memory");
    whirl_store_limits_set(s->store, t->opts->hosting.max_memory_size,
                           t->opts->hosting.max_table_elements);
    if (t->deadline_ns != UINT64_MAX &&
        (err = whirl_store_set_deadline(s->store, t->deadline_ns)))
        return err;
    whirl_memory_t *view;
    if ((err = whirl_shared_memory_import(s->store, t->memory, &view)) ||
        (err = define_imports(t, s->linker, view, true)))
        return err;
    whirl_instance_t *instance;
    if ((err = whirl_linker_instantiate(s->linker, s->store, t->module, &instance)))
        return err;
    whirl_extern_t ext;
    if (!whirl_instance_export(instance, "wasi_thread_start", 17, &ext) ||
        ext.kind != WHIRL_EXTERN_FUNC)
        return whirl_error_new("the module exports no function wasi_thread_start");
    const whirl_functype_t *ft = whirl_func_type(ext.of.func);
    if (whirl_functype_param_count(ft) != 2 || whirl_functype_result_count(ft) != 0 ||
        whirl_functype_param(ft, 0) != WHIRL_I32 || whirl_functype_param(ft, 1) != WHIRL_I32)
        return whirl_error_new("wasi_thread_start must have type (param i32 i32)");
    s->start = ext.of.func;
    return NULL;
}

/* "wasi" "thread-spawn": (param i32 start_arg) (result i32). The result is
 * the new thread's id (1 and up, never reused) or -1 when no thread could
 * be made: WHIRL_WASI_MAX_THREADS are running, ids are used up, or the
 * instance could not be made (its reason goes to stderr). */
static whirl_error_t *thread_spawn(void *env, whirl_caller_t *caller, const whirl_val_t *args,
                                   size_t nargs, whirl_val_t *results, size_t nresults)
{
    (void)caller;
    cli_wasi_threads_t *t = env;
    if (nargs != 1 || nresults != 1)
        return whirl_error_new("thread-spawn: called with the wrong arity");
    results[0].kind = WHIRL_I32;
    results[0].of.i32 = -1;
    pthread_mutex_lock(&t->lock);
    if (t->live >= WHIRL_WASI_MAX_THREADS || t->next_tid >= WHIRL_WASI_MAX_TID) {
        pthread_mutex_unlock(&t->lock);
        return NULL;
    }
    int32_t tid = t->next_tid++;
    t->live++;
    pthread_mutex_unlock(&t->lock);

    spawned_t *s = calloc(1, sizeof *s);
    whirl_error_t *err = s ? NULL : whirl_error_new("out of memory");
    if (s) {
        s->t = t;
        s->tid = tid;
        s->arg = args[0].of.i32;
        err = spawn_instance(t, s);
    }
    pthread_t thread;
    pthread_attr_t attr;
    if (!err) {
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        atomic_store(&t->spawned, true);
        int e = pthread_create(&thread, &attr, thread_main, s);
        pthread_attr_destroy(&attr);
        if (e == 0) {
            results[0].of.i32 = tid;
            return NULL;
        }
        err = whirl_error_newf("cannot start a thread: %s", strerror(e));
    }
    fprintf(stderr, "whirl: thread-spawn: %s\n", whirl_error_message(err));
    whirl_error_delete(err);
    if (s)
        spawned_free(s);
    pthread_mutex_lock(&t->lock);
    t->live--;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int cli_wasi_threads_new(const run_opts_t *o, whirl_engine_t *engine, whirl_module_t *module,
                         whirl_wasi_t *wasi, whirl_linker_t *linker, whirl_store_t *store,
                         cli_wasi_threads_t **out)
{
    *out = NULL;
    size_t mem = SIZE_MAX, nmem = 0;
    whirl_import_info_t imp;
    for (size_t i = 0, n = whirl_module_import_count(module); i < n; i++)
        if (whirl_module_import(module, i, &imp) && imp.kind == WHIRL_EXTERN_MEMORY)
            mem = i, nmem++;
    uint64_t min = 0, max = 0;
    bool shared = false;
    if (nmem != 1 || !whirl_module_import_memory(module, mem, &min, &max, &shared) || !shared) {
        cli_error("%s: a wasi-threads program (it imports \"wasi\" \"thread-spawn\") must "
                  "import exactly one memory, a shared one (it has %zu memory import%s%s)",
                  o->file, nmem, nmem == 1 ? "" : "s", nmem == 1 ? ", not shared" : "");
        return EXIT_BAD_MODULE;
    }
    whirl_module_import(module, mem, &imp);
    cli_wasi_threads_t *t = calloc(1, sizeof *t);
    if (!t) {
        cli_error("out of memory");
        return EXIT_BAD_MODULE;
    }
    t->opts = o;
    t->engine = engine;
    t->module = module;
    t->wasi = wasi;
    /* Before any thread exists: from here on the context's calls lock. */
    whirl_wasi_set_threaded(wasi);
    t->next_tid = 1;
    t->deadline_ns = whirl_store_deadline_ns(store);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->ending, NULL);
    atomic_init(&t->spawned, false);
    snprintf(t->memory_module, sizeof t->memory_module, "%.*s",
             (int)(imp.module_len < 255 ? imp.module_len : 255), imp.module);
    snprintf(t->memory_name, sizeof t->memory_name, "%.*s",
             (int)(imp.name_len < 255 ? imp.name_len : 255), imp.name);
    *out = t;
    whirl_error_t *err;
    if ((err = whirl_shared_memory_new(store, min, max, &t->memory)) ||
        (err = define_imports(t, linker, t->memory, false))) {
        cli_error("%s: %s", o->file, whirl_error_message(err));
        whirl_error_delete(err);
        return EXIT_BAD_MODULE;
    }
    return EXIT_OK;
}

void cli_wasi_threads_main_done(cli_wasi_threads_t *t)
{
    if (t)
        pthread_mutex_lock(&t->ending);
}

void cli_wasi_threads_finish(cli_wasi_threads_t *t, int rc)
{
    if (!t)
        return;
    if (atomic_load(&t->spawned)) {
        /* Threads may still run guest code over the module, engine and WASI
         * context: the process ends without tearing them down. */
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    /* `ending` stays locked (cli_wasi_threads_main_done): not destroyed. */
    pthread_mutex_destroy(&t->lock);
    free(t);
}
