/* test_redis.c -- core.redis through a real lua_State against a real redis-server that
 * this test starts on a free loopback port and stops by PID: replies of each type,
 * binary-safe arguments, error replies, time limits, and reconnecting after the
 * connection or the server went away. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../config.h"
#include "harness.h"

static int port;
static pid_t server_pid;

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    close(fd);
    return ntohs(addr.sin_port);
}

/* Starts redis-server in the foreground of a child process, without persistence. */
static void start_server(void) {
    char port_text[16];
    snprintf(port_text, sizeof(port_text), "%d", port);
    fflush(stdout);   /* or the child would print our buffered lines again */
    server_pid = fork();
    if (server_pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", port_text, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
}

static void stop_server(void) {
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

/* Waits until the server answers PING (up to 5 s). */
static int server_ready(lua_State *L) {
    for (int i = 0; i < 250; i++) {
        if (run_lua(L, "local c = core.redis.connect({timeout_ms = 200})\n"
                       "return c ~= nil and c:command({'PING'}) == 'PONG'"))
            return 1;
        usleep(20 * 1000);
    }
    return 0;
}

int main(void) {
    static char url[64];
    port = free_port();
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/2", port);
    lua_State *L = harness_state();

    cfg.redis_url = "";
    CHECK(run_lua(L, "return core.redis.configured() == false"),
          "without REDIS_URL: not configured");
    CHECK(run_lua(L, "local ok, err = pcall(core.redis.connect)\n"
                     "return not ok and err:find('REDIS_URL is not set', 1, true) ~= nil"),
          "connect without REDIS_URL raises");

    cfg.redis_url = url;
    CHECK(run_lua(L, "local c, err = core.redis.connect({timeout_ms = 300})\n"
                     "return c == nil and err:find('^redis: ') ~= nil"),
          "a server that is not there: nil, err");

    start_server();
    CHECK(server_ready(L), "redis-server started");
    CHECK(run_lua(L, "client = assert(core.redis.connect())\n"
                     "return core.redis.configured() and client:command({'PING'}) == 'PONG'"),
          "connect and PING");
    CHECK(run_lua(L, "return client:command({'SET', 'k', 'a\\0b c\\r\\n'}) == 'OK'\n"
                     " and client:command({'GET', 'k'}) == 'a\\0b c\\r\\n'"),
          "arguments are binary-safe bytes, never a command line");
    CHECK(run_lua(L, "return client:command({'SET', 'k2', 'x'}) == 'OK'\n"
                     " and client:command({'CLIENT', 'INFO'}):find(' db=2 ', 1, true) ~= nil"),
          "the database from the URL is selected");
    CHECK(run_lua(L, "return client:command({'INCRBY', 'n', 41}) == 41\n"
                     " and math.type(client:command({'INCR', 'n'})) == 'integer'"),
          "integers come back as integers; numbers are sent as text");
    CHECK(run_lua(L, "local v, err = client:command({'GET', 'missing'})\n"
                     "return v == nil and err == nil"),
          "a nil reply is a bare nil");
    CHECK(run_lua(L, "client:command({'RPUSH', 'l', 'a', 'b'})\n"
                     "local r = client:command({'MGET', 'k2', 'missing', 'k2'})\n"
                     "local l = client:command({'LRANGE', 'l', 0, -1})\n"
                     "return r[1] == 'x' and r[2] == false and r[3] == 'x'\n"
                     " and #l == 2 and l[2] == 'b'"),
          "arrays are sequences, a nil inside one is false");
    CHECK(run_lua(L, "local v, err = client:command({'INCR', 'k'})\n"
                     "return v == nil and err:find('^redis: ERR') ~= nil\n"
                     " and client:command({'PING'}) == 'PONG'"),
          "an error reply is nil, err and the connection stays usable");
    CHECK(run_lua(L, "local ok = pcall(client.command, client, {'SET', 'k', {}})\n"
                     "local ok2 = pcall(client.command, client, {})\n"
                     "local ok3 = pcall(client.command, client, {'PING'}, 0)\n"
                     "return not ok and not ok2 and not ok3"),
          "bad arguments raise");
    CHECK(run_lua(L, "local v, err = client:command({'BLPOP', 'empty', '1'}, 200)\n"
                     "return v == nil and err == 'redis: timed out'"),
          "a command past its time limit fails");
    CHECK(run_lua(L, "local v, err = client:command({'BLPOP', 'empty', '0.05'}, 2000)\n"
                     "return v == nil and err == nil and client:command({'PING'}) == 'PONG'"),
          "after a time-out the next command connects again; a longer limit lets BLPOP wait");
    CHECK(run_lua(L, "local other = assert(core.redis.connect())\n"
                     "other:command({'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'})\n"
                     "other:close()\n"
                     "return client:command({'PING'}) == 'PONG'"),
          "a connection the server closed is made again before the next command");

    CHECK(run_lua(L, "idle = core.redis.connect() return idle ~= nil"),
          "a second client, to sit idle while the server restarts");
    stop_server();
    CHECK(run_lua(L, "local v, err = client:command({'PING'})\n"
                     "local v2, err2 = client:command({'PING'})\n"
                     "return v == nil and err ~= nil and v2 == nil and err2 ~= nil"),
          "with the server down every command fails with nil, err");
    start_server();
    CHECK(server_ready(L), "redis-server started again");
    CHECK(run_lua(L, "return client:command({'PING'}) == 'PONG'"),
          "the same client works again once the server is back");
    CHECK(run_lua(L, "return idle:command({'PING'}) == 'PONG'"),
          "a client idle while the server restarted works at its first command");

    CHECK(run_lua(L, "client:close(); client:close()\n"
                     "local ok, err = pcall(client.command, client, {'PING'})\n"
                     "return not ok and err:find('closed', 1, true) ~= nil"),
          "close is idempotent and a closed client raises");
    CHECK(run_lua(L, "do local c <close> = assert(core.redis.connect()) end\n"
                     "collectgarbage() return true"),
          "clients close as to-be-closed variables");

    char err[256];
    CHECK(core_redis_check_url("redis://:p%40ss@[::1]:7000/3", err, sizeof(err)) == 0,
          "a URL with a %-encoded password, an IPv6 host, a port and a database parses");
    CHECK(core_redis_check_url("redis://user:pw@host", err, sizeof(err)) == 0,
          "a URL with an ACL user parses");
    CHECK(core_redis_check_url("rediss://host", err, sizeof(err)) != 0 &&
              strstr(err, "REDIS_URL") && strstr(err, "TLS"),
          "TLS URLs are refused with a message naming REDIS_URL");
    CHECK(core_redis_check_url("redis://host:0", err, sizeof(err)) != 0 &&
              core_redis_check_url("redis://host:99999", err, sizeof(err)) != 0 &&
              core_redis_check_url("redis://host/x", err, sizeof(err)) != 0 &&
              core_redis_check_url("redis://", err, sizeof(err)) != 0 &&
              core_redis_check_url("redis://:%zz@host", err, sizeof(err)) != 0 &&
              core_redis_check_url("redis://:a%00b@host", err, sizeof(err)) != 0 &&
              core_redis_check_url("http://host", err, sizeof(err)) != 0,
          "bad ports, databases, hosts, encodings and schemes are refused");

    stop_server();
    lua_close(L);
    return harness_done();
}
