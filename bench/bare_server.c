/* bare_server.c -- the benchmark's baseline: libmicrohttpd with the same daemon flags and
 * options as core/server.c, answering every request with one fixed body read from a file.
 * No Lua, no SQLite, no extra headers: what the HTTP layer alone costs on this machine.
 *
 * Usage: bare_server PORT BODY_FILE [CONTENT_TYPE]    (CONTENT_TYPE defaults to
 * application/json). Listens on 127.0.0.1 until SIGTERM or SIGINT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 2   /* the bench runs itcloud with HTTP_THREADS=2 */

static char *body;
static size_t body_len;
static const char *content_type = "application/json";

/* Reads the whole file into a malloc'd buffer; returns NULL on failure (errno set). */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Answers the fixed body. Like the real server's Lua path, it waits for the whole request
 * (first call only marks the request as seen, later calls drain any upload) before queueing,
 * and builds a fresh response object per request, as core/server.c does. */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls) {
    static int seen;
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;   /* discard request bodies */
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", content_type);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s PORT BODY_FILE [CONTENT_TYPE]\n", argv[0]);
        return 2;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "bare_server: bad port %s\n", argv[1]);
        return 2;
    }
    body = read_file(argv[2], &body_len);
    if (!body) {
        fprintf(stderr, "bare_server: cannot read %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    if (argc == 4)
        content_type = argv[3];

    /* Block the stop signals before MHD starts its threads so only sigwait sees them. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Same flags and limits as core/server.c with its defaults (MAX_CONNECTIONS=1024,
     * MAX_CONNECTIONS_PER_IP=128, IDLE_TIMEOUT_SECONDS=60), so the comparison isolates
     * what itcloud does per request, not a different MHD configuration. MHD_USE_ITC is
     * there because the real server sets it (it needs it to quiesce on shutdown). */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO, 0, NULL,
        NULL, handle_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1024, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)128,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)64 * 1024, MHD_OPTION_THREAD_STACK_SIZE, (size_t)2 * 1024 * 1024,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare_server: cannot listen on 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        free(body);
        return 1;
    }

    int sig = 0;
    sigwait(&signals, &sig);
    MHD_stop_daemon(d);
    free(body);
    return 0;
}
