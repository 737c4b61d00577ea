/* A WAGI handler for the end-to-end tests of `whirl serve`: what it does
 * depends on PATH_INFO (the path after its route).
 *   /echo      the body back, with the request's CGI variables as headers
 *   /env       every environment variable, one per line
 *   /args      argv, one per line
 *   /status    Status: 404 with a body
 *   /redirect  Location only (302)
 *   /big       QUERY_STRING KiB of 'x', in 1 KiB writes
 *   /trap      traps (unreachable)
 *   /loop      never returns (the deadline must end it)
 *   /sleep     sleeps QUERY_STRING milliseconds, then answers
 *   (/echo?mark, /loop and /sleep say "started ..." on stderr first, which
 *   the server logs at once: tests wait for that line, not for a while)
 *   /exit3     exits with status 3 before writing anything
 *   /badhead   a header line without a colon
 *   /grow      allocates QUERY_STRING MiB and says whether it could
 *   /file      the contents of the file at path QUERY_STRING, or 404
 *   anything else: "hello from wagi_test" and PATH_INFO */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v ? v : "";
}

static void echo(void)
{
    if (strcmp(env("QUERY_STRING"), "mark") == 0)
        fprintf(stderr, "started echo\n");
    printf("Content-Type: application/octet-stream\n");
    printf("X-Method: %s\n", env("REQUEST_METHOD"));
    printf("X-Path-Info: %s\n", env("PATH_INFO"));
    printf("X-Script-Name: %s\n", env("SCRIPT_NAME"));
    printf("X-Query: %s\n", env("QUERY_STRING"));
    printf("X-Content-Length: %s\n", getenv("CONTENT_LENGTH") ? env("CONTENT_LENGTH") : "none");
    printf("X-Content-Type: %s\n", env("CONTENT_TYPE"));
    printf("X-Server-Name: %s\n", env("SERVER_NAME"));
    printf("X-Server-Port: %s\n", env("SERVER_PORT"));
    printf("X-Matched-Route: %s\n", env("X_MATCHED_ROUTE"));
    /* Request headers X-Test-* come back as X-Echo-* (the CGI names). */
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "HTTP_X_TEST_", 12) == 0) {
            const char *eq = strchr(*e, '=');
            if (eq)
                printf("X-Echo-%.*s: %s\n", (int)(eq - *e - 12), *e + 12, eq + 1);
        }
    printf("\n");
    fflush(stdout);
    static char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, stdout);
}

int main(int argc, char **argv)
{
    const char *p = env("PATH_INFO");
    const char *q = env("QUERY_STRING");
    if (strcmp(p, "/echo") == 0) {
        echo();
    } else if (strcmp(p, "/env") == 0) {
        printf("Content-Type: text/plain\n\n");
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
    } else if (strcmp(p, "/args") == 0) {
        printf("Content-Type: text/plain\n\n");
        for (int i = 0; i < argc; i++)
            printf("%s\n", argv[i]);
    } else if (strcmp(p, "/status") == 0) {
        printf("Status: 404 Not Found\nContent-Type: text/plain\n\nnothing here\n");
    } else if (strcmp(p, "/redirect") == 0) {
        printf("Location: /elsewhere\n\n");
    } else if (strcmp(p, "/big") == 0) {
        long kib = atol(q);
        char block[1024];
        memset(block, 'x', sizeof block);
        printf("Content-Type: text/plain\n\n");
        for (long i = 0; i < kib; i++)
            fwrite(block, 1, sizeof block, stdout);
    } else if (strcmp(p, "/trap") == 0) {
        printf("Content-Type: text/plain\n\nthis must not be seen\n");
        __builtin_trap();
    } else if (strcmp(p, "/loop") == 0) {
        volatile unsigned long n = 0;
        fprintf(stderr, "started loop\n");
        for (;;)
            n++;
    } else if (strcmp(p, "/sleep") == 0) {
        long ms = atol(q);
        fprintf(stderr, "started sleep %ld\n", ms);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        printf("Content-Type: text/plain\n\nslept %ld ms\n", ms);
    } else if (strcmp(p, "/exit3") == 0) {
        return 3;
    } else if (strcmp(p, "/badhead") == 0) {
        printf("this is not a header\n\nbody\n");
    } else if (strcmp(p, "/file") == 0) {
        FILE *f = fopen(q, "r");
        if (!f) {
            printf("Status: 404\nContent-Type: text/plain\n\nno such file: %s\n", q);
            return 0;
        }
        printf("Content-Type: text/plain\n\n");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(f);
    } else if (strcmp(p, "/grow") == 0) {
        long mib = atol(q);
        /* volatile: an allocation only compared with NULL may be elided. */
        char *volatile m = malloc((size_t)mib << 20);
        if (m)
            m[((size_t)mib << 20) - 1] = 1;
        printf("Content-Type: text/plain\n\n%s\n", m ? "allocated" : "refused");
    } else {
        printf("Content-Type: text/plain\n\nhello from wagi_test at '%s'\n", p);
    }
    return 0;
}
