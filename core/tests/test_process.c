/* test_process.c -- core.process through a real lua_State: the allowlist, output
 * capture and its cap, exit status, and the wall-clock limit (using ffmpeg and
 * ffprobe, which the media worker runs). */
#include "harness.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The pid of a running process whose command line holds `marker`, or 0. */
static pid_t find_process_with(const char *marker) {
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (proc && !found && (e = readdir(proc))) {
        char path[300], cmdline[4096];
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (cmdline[i] == '\0')
                cmdline[i] = ' ';
        cmdline[n] = '\0';
        if (strstr(cmdline, marker))
            found = (pid_t)atoi(e->d_name);
    }
    if (proc)
        closedir(proc);
    return found;
}

/* A process running a long ffmpeg through core.process is killed with SIGKILL: the
 * ffmpeg must end with it (checked for up to 5 s). */
static int child_dies_with_parent(void) {
    char marker[64];
    snprintf(marker, sizeof(marker), "itcloud-orphan-check-%d", (int)getpid());
    pid_t runner = fork();
    if (runner == 0) {
        lua_State *L = harness_state();
        char code[512];
        snprintf(code, sizeof(code),
                 "core.process.run({'ffmpeg', '-v', 'error', '-nostdin', '-re', '-f', 'lavfi',"
                 " '-i', 'testsrc', '-metadata', 'title=%s', '-f', 'null', '-'},"
                 " {timeout_ms = 60000}) return true", marker);
        run_lua(L, code);
        _exit(0);
    }
    pid_t ffmpeg = 0;
    for (int i = 0; i < 100 && !ffmpeg; i++) {
        usleep(50000);
        ffmpeg = find_process_with(marker);
    }
    kill(runner, SIGKILL);
    waitpid(runner, NULL, 0);
    if (!ffmpeg)
        return 0;
    for (int i = 0; i < 100; i++) {
        if (kill(ffmpeg, 0) != 0 || !find_process_with(marker))
            return 1;
        usleep(50000);
    }
    kill(ffmpeg, SIGKILL);
    return 0;
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(run_lua(L, "local ok, err = pcall(core.process.run, {'sh', '-c', 'echo hi'})\n"
                     "return not ok and err:find('program not allowed', 1, true) ~= nil"),
          "programs outside the allowlist are refused (no shell)");
    CHECK(run_lua(L, "local ok = pcall(core.process.run, {'/usr/bin/ffmpeg', '-version'})\n"
                     "return not ok"),
          "a path to an allowed name is not the allowed name");
    CHECK(run_lua(L, "local ok = pcall(core.process.run, {'ffmpeg', 'a\\0b'})\n"
                     "return not ok"),
          "an argument with a NUL inside raises");
    CHECK(run_lua(L, "local r = core.process.run({'ffprobe', '-version'})\n"
                     "return r.status == 0 and r.stdout:find('ffprobe version', 1, true) == 1"
                     " and r.timed_out == false"),
          "stdout and the exit status come back");
    CHECK(run_lua(L, "local r = core.process.run({'ffprobe', '-v', 'error', '/nonexistent.mp4'})\n"
                     "return r.status ~= 0 and #r.stderr > 0"),
          "a failing program gives its status and stderr");
    CHECK(run_lua(L, "local r = core.process.run({'ffprobe', '-version'}, {max_output = 10})\n"
                     "return #r.stdout == 10"),
          "stdout is cut at max_output");
    CHECK(run_lua(L, "local t = core.time.monotonic_ms()\n"
                     "local r = core.process.run({'ffmpeg', '-v', 'error', '-nostdin', '-f', 'lavfi',"
                     " '-i', 'testsrc', '-f', 'null', '-'}, {timeout_ms = 500})\n"
                     "local took = core.time.monotonic_ms() - t\n"
                     "return r.timed_out == true and r.status == 128 + 9 and took < 5000"),
          "a program that runs on is killed at the time limit");
    CHECK(run_lua(L, "local ok = pcall(core.process.run, {'ffprobe'}, {timeout_ms = 0})\n"
                     "return not ok"),
          "limits must be positive");
    CHECK(child_dies_with_parent(), "a program ends when the process that ran it is killed");
    lua_close(L);
    return harness_done();
}
