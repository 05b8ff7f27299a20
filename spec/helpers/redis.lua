--- The Redis server scripts/test-all starts for the #redis specs (REDIS_URL and
-- TESTBED_REDIS_DIR/PORT in the environment): whether it is there, a clean slate, and
-- stop()/start() to take it away in the middle of a spec.
local M = {}

local dir, port = os.getenv("TESTBED_REDIS_DIR"), os.getenv("TESTBED_REDIS_PORT")

--- Whether the specs have a Redis server of their own.
function M.available()
  return core.redis.configured() and dir ~= nil and port ~= nil
end

--- Empty the test database.
function M.flush()
  local client <close> = assert(core.redis.connect())
  assert(client:command({ "FLUSHDB" }))
end

--- Stop the server (by its PID), as an outage would.
function M.stop()
  assert(os.execute("scripts/testbed-redis stop '" .. dir .. "'"))
end

--- Start it again on the same port.
function M.start()
  assert(os.execute("scripts/testbed-redis start '" .. dir .. "' " .. port .. " >/dev/null"))
end

return M
