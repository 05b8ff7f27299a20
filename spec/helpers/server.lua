--- Starts a real `itcloud serve` for API specs: a free port, a fresh DATA_DIR, the
-- binary named by ITCLOUD_BIN (default bin/itcloud), and a stop() that drains it.
local socket = require("socket")
local http = require("helpers.http")
local api = require("helpers.api")

local M = {}

local function free_port()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  server:close()
  return tonumber(port)
end

local function shell_quote(value)
  return "'" .. tostring(value):gsub("'", "'\\''") .. "'"
end

--- A fresh temporary directory.
function M.temp_dir()
  local handle = assert(io.popen("mktemp -d /tmp/itcloud-spec.XXXXXX"))
  local dir = handle:read("*l")
  handle:close()
  return dir
end

-- Runs `binary command` in the background with `env` added, output to log_path.
-- Returns its pid.
local function launch(command, env, log_path)
  local assignments = {}
  for key, value in pairs(env) do
    assignments[#assignments + 1] = key .. "=" .. shell_quote(value)
  end
  local binary = os.getenv("ITCLOUD_BIN") or "bin/itcloud"
  local handle = assert(io.popen(string.format("env %s %s %s >%s 2>&1 & echo $!",
    table.concat(assignments, " "), shell_quote(binary), command, shell_quote(log_path))))
  local pid = tonumber(handle:read("*l"))
  handle:close()
  return pid
end

local function read_file(path)
  local file = io.open(path, "r")
  if not file then
    return ""
  end
  local text = file:read("*a")
  file:close()
  return text
end

-- Under the AddressSanitizer build, a report in a process's log fails the spec.
local function check_sanitizer_report(who, log)
  local report = log:find("==%d+==ERROR: %w+Sanitizer") or log:find("runtime error:", 1, true)
  if report then
    error("the " .. who .. " reported a sanitizer error:\n" .. log:sub(report, report + 3000))
  end
end

local function alive(pid)
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

-- Sends SIGTERM and waits up to 10 s for the process to end, then SIGKILL.
local function terminate(pid)
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 200 do
    if not alive(pid) then
      break
    end
    socket.sleep(0.05)
  end
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
end

--- Start an `itcloud worker` next to a server (same database and DATA_DIR, so the
-- same local store); env adds or overrides environment variables.
-- @return worker { pid, log(), stop() }
function M.start_worker(server, env)
  -- like a spec server's, the scrub stays off unless the spec turns it on
  local merged = { APP_ENV = "test", DATA_DIR = server.data_dir, LOG_LEVEL = "info",
    SCRUB_PERCENT = 0, SCRUB_MIN_ORIGINALS = 0 }
  for key, value in pairs(env or {}) do
    merged[key] = value
  end
  local log_path = string.format("%s/worker-%d.log", server.data_dir, free_port())
  local worker = { pid = launch("worker", merged, log_path) }

  function worker.log()
    return read_file(log_path)
  end

  function worker.stop()
    if not worker.stopped then
      worker.stopped = true
      terminate(worker.pid)
      check_sanitizer_report("worker", worker.log())
    end
  end

  return worker
end

--- Start a server. opts.env adds or overrides environment variables; opts.cwd runs
-- it from another directory (with LUA_DIR etc. pointing back here).
-- @return server { port, pid, data_dir, log_path, url(path), request(...), log(), stop() }
function M.start(opts)
  opts = opts or {}
  local data_dir = M.temp_dir()
  local port = free_port()
  local env = {
    APP_ENV = "test",
    PORT = port,
    DATA_DIR = data_dir,
    HTTP_THREADS = 2,
    LOG_LEVEL = "info",
    SHUTDOWN_GRACE_SECONDS = 5,
    -- specs share one database: only specs about jobs run a worker on it, and only
    -- the scrub's own specs let the integrity scrub read what the others stored
    WORKER_PROCESSES = 0,
    SCRUB_PERCENT = 0,
    SCRUB_MIN_ORIGINALS = 0,
  }
  for key, value in pairs(opts.env or {}) do
    env[key] = value
  end
  local log_path = data_dir .. "/server.log"
  local pid = launch("serve", env, log_path)
  local server = { port = port, pid = pid, data_dir = data_dir, log_path = log_path }

  function server.url(path)
    return "http://127.0.0.1:" .. port .. path
  end

  function server.request(method, path, options)
    return http.request(port, method, path, options)
  end

  function server.log()
    return read_file(log_path)
  end

  function server.signal(name)
    os.execute("kill -" .. name .. " " .. pid)
  end

  --- The pids of the server's worker processes (its children).
  function server.worker_pids()
    local handle = io.popen("pgrep -P " .. pid)
    local pids = {}
    for line in handle:lines() do
      pids[#pids + 1] = tonumber(line)
    end
    handle:close()
    return pids
  end

  function server.alive()
    return alive(pid)
  end

  function server.stop()
    if server.stopped then
      return
    end
    server.stopped = true
    terminate(pid)
    local log = server.log()
    os.execute("rm -rf " .. shell_quote(data_dir))
    check_sanitizer_report("server", log)
  end

  function server.start_worker(env)
    return M.start_worker(server, env)
  end

  for _ = 1, 200 do
    local ok, res = pcall(http.request, port, "GET", "/healthz")
    if ok and res.status == 200 then
      return server
    end
    if not server.alive() then
      break
    end
    socket.sleep(0.025)
  end
  local log = server.log()
  server.stop()
  error("itcloud serve did not start:\n" .. log)
end

--- Start a server with WORKER_PROCESSES workers (1 unless opts.env says otherwise)
-- on the shared spec database. The jobs table is emptied first (other specs' leftovers
-- are not ours to run) and again by stop().
function M.start_with_workers(opts)
  opts = opts or {}
  local env = { WORKER_PROCESSES = 1 }
  for key, value in pairs(opts.env or {}) do
    env[key] = value
  end
  core.db.exec("DELETE FROM jobs")
  local server = M.start({ env = env })
  local stop = server.stop
  function server.stop()
    stop()
    core.db.exec("DELETE FROM jobs")
  end
  return server
end

--- Start a server whose policy names one operator: it runs on a copy of lua/ and
-- config/ with its own config/policy.lua, listing the email in capitals (operators are
-- matched without regard to case). opts as for start().
-- @return server (its stop() also removes the copy), the operator's email
function M.start_with_operator(opts)
  local copy = M.temp_dir()
  assert(os.execute("cp -r lua config " .. copy .. "/"))
  local email = api.unique_email("operator")
  local file = assert(io.open(copy .. "/config/policy.lua", "w"))
  file:write(string.format("return { operators = { %q } }", email:upper()))
  file:close()
  opts = opts or {}
  local env = { LUA_DIR = copy .. "/lua", CONFIG_DIR = copy .. "/config" }
  for key, value in pairs(opts.env or {}) do
    env[key] = value
  end
  local server = M.start({ env = env })
  local stop = server.stop
  function server.stop()
    stop()
    os.execute("rm -rf " .. shell_quote(copy))
  end
  return server, email
end

return M
