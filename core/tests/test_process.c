/* test_process.c -- core.process through a real lua_State: the allowlist, output
 * capture and its cap, exit status, and the wall-clock limit (using ffmpeg and
 * ffprobe, which the media worker runs). */
#include "harness.h"

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
    lua_close(L);
    return harness_done();
}
