/* Prints its arguments and environment exactly, so that the driver can
 * compare them with what it passed (--env, --inherit-env, program args). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    size_t n = 0;
    while (environ[n])
        n++;
    char **sorted = malloc((n + 1) * sizeof *sorted);
    memcpy(sorted, environ, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp);
    /* --inherit-env brings the host's whole environment: print only ours. */
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(sorted[i], "WT_", 3) == 0) {
            printf("env[%s]\n", sorted[i]);
            shown++;
        }
    }
    printf("envc_other=%zu\n", n - shown);
    const char *v = getenv("WT_SPACES");
    printf("getenv(WT_SPACES)=%s\n", v ? v : "(unset)");

    /* The sizes calls agree with the strings. */
    int32_t count = -1, size = -1;
    CHECK(raw_args_sizes_get(P(&count), P(&size)) == 0, "args_sizes_get");
    size_t want = 0;
    for (int i = 0; i < argc; i++)
        want += strlen(argv[i]) + 1;
    CHECK(count == argc && (size_t)size == want, "args sizes %d %d", count, size);
    CHECK(raw_environ_sizes_get(P(&count), P(&size)) == 0, "environ_sizes_get");
    CHECK((size_t)count == n, "environ count %d vs %zu", count, n);
    free(sorted);
    return done("args_env");
}
