/* mod_process.c -- `core.process`: runs an allowed helper program (ffprobe, ffmpeg)
 * as a child process with a wall-clock limit and capped output, for the media
 * worker. Only programs on the allowlist can be run; arguments never go through a
 * shell. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define MAX_ARGS 64
#define OWNED_MT "core.process.buffers"

static const char *const allowed_programs[] = {"ffprobe", "ffmpeg", NULL};

/* Output gathered from the child; freed by __gc if anything raises. */
typedef struct {
    char *out, *err;
    size_t out_len, err_len, out_cap, err_cap;
} buffers;

static int buffers_gc(lua_State *L) {
    buffers *b = luaL_checkudata(L, 1, OWNED_MT);
    free(b->out);
    free(b->err);
    b->out = b->err = NULL;
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends up to cap bytes from fd; returns 0 at EOF, 1 when more may come, -1 on error. */
static int drain(int fd, char **buf, size_t *len, size_t *cap, size_t limit) {
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    size_t keep = *len + (size_t)n > limit ? limit - *len : (size_t)n;
    if (keep > 0) {
        if (*len + keep > *cap) {
            size_t grown_cap = *cap ? *cap * 2 : 65536;
            while (grown_cap < *len + keep)
                grown_cap *= 2;
            char *grown = realloc(*buf, grown_cap);
            if (!grown)
                return -1;
            *buf = grown;
            *cap = grown_cap;
        }
        memcpy(*buf + *len, chunk, keep);
        *len += keep;
    }
    return 1;
}

/* process.run(argv, {timeout_ms, max_output}) -> {status, stdout, stderr, timed_out}
 *   | nil, err
 * argv[1] must be an allowed program name, found on PATH. status is the exit code, or
 * 128 + signal. The child is killed when it outlives timeout_ms (default 30000);
 * stdout is kept up to max_output bytes (default 64 MiB), stderr up to 64 KiB. */
static int process_run(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer argc = (lua_Integer)lua_rawlen(L, 1);
    luaL_argcheck(L, argc >= 1 && argc < MAX_ARGS, 1, "1 to 63 arguments");
    lua_Integer timeout_ms = 30000, max_output = 64 * 1024 * 1024;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "timeout_ms");
        lua_getfield(L, 2, "max_output");
        timeout_ms = luaL_optinteger(L, -2, timeout_ms);
        max_output = luaL_optinteger(L, -1, max_output);
        lua_pop(L, 2);
    }
    luaL_argcheck(L, timeout_ms > 0 && max_output > 0, 2, "limits must be positive");
    const char *argv[MAX_ARGS + 1];
    for (lua_Integer i = 1; i <= argc; i++) {
        lua_rawgeti(L, 1, i);
        size_t len;
        argv[i - 1] = luaL_checklstring(L, -1, &len);   /* anchored by the argv table */
        luaL_argcheck(L, strlen(argv[i - 1]) == len, 1, "NUL inside an argument");
        lua_pop(L, 1);
    }
    argv[argc] = NULL;
    int allowed = 0;
    for (const char *const *p = allowed_programs; *p; p++)
        allowed |= !strcmp(argv[0], *p);
    luaL_argcheck(L, allowed, 1, "program not allowed");

    buffers *b = lua_newuserdatauv(L, sizeof(*b), 0);
    memset(b, 0, sizeof(*b));
    luaL_setmetatable(L, OWNED_MT);
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0)
        return core_fail(L, "cannot run %s: %s", argv[0], strerror(errno));
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return core_fail(L, "cannot run %s: %s", argv[0], strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* the child dies with its parent: a worker killed mid-job (SIGKILL, its memory
         * or time limit) leaves no ffmpeg running on */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (pid < 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        return core_fail(L, "cannot run %s: %s", argv[0], strerror(errno));
    }
    long long deadline = now_ms() + timeout_ms;
    int timed_out = 0, open_fds = 2;
    struct pollfd fds[2] = {{.fd = out_pipe[0], .events = POLLIN}, {.fd = err_pipe[0], .events = POLLIN}};
    while (open_fds > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int more = i == 0 ? drain(fds[i].fd, &b->out, &b->out_len, &b->out_cap, (size_t)max_output)
                              : drain(fds[i].fd, &b->err, &b->err_len, &b->err_cap, 65536);
            if (more <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, b->out ? b->out : "", b->out_len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, b->err ? b->err : "", b->err_len);
    lua_setfield(L, -2, "stderr");
    lua_pushboolean(L, timed_out);
    lua_setfield(L, -2, "timed_out");
    free(b->out);
    free(b->err);
    b->out = b->err = NULL;
    return 1;
}

static const luaL_Reg process_funcs[] = {{"run", process_run}, {NULL, NULL}};

int luaopen_core_process(lua_State *L) {
    luaL_newmetatable(L, OWNED_MT);
    lua_pushcfunction(L, buffers_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, process_funcs);
    return 1;
}
