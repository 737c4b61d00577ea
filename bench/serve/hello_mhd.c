/* The ceiling for bench/serve: libmicrohttpd's own hello-world, as fast as
 * it goes on this machine (a thread per core, epoll, one static response
 * queued from the first access-handler call). Usage: hello_mhd PORT */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *hello;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int seen;
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    /* A response queued at the first call (right after the headers) makes
     * MHD close the connection after it: answer at the second. */
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, hello);
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8080;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    static const char body[] = "Hello, world!\n";
    hello = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(hello, "Content-Type", "text/plain");
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, (uint16_t)port, NULL,
        NULL, answer, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 1 ? cores : 1),
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hello_mhd: cannot listen on port %u\n", port);
        return 1;
    }
    fprintf(stderr, "hello_mhd: listening on 127.0.0.1:%u\n", port);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int sig;
    sigwait(&s, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(hello);
    return 0;
}
