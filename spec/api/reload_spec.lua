-- Hot reload against a real server running from a copy of lua/ and config/: an
-- edit is served on the next request; a broken edit keeps the old code serving.
local server_helper = require("helpers.server")
local socket = require("socket")

local function read(path)
  local f = assert(io.open(path))
  local text = f:read("*a")
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

local function wait_for(fn)
  for _ = 1, 100 do
    if fn() then
      return true
    end
    socket.sleep(0.05)
  end
  return false
end

for _, mode in ipairs({ "inotify", "sighup" }) do
  describe("hot reload (" .. mode .. ")", function()
    local server, copy

    setup(function()
      copy = server_helper.temp_dir()
      assert(os.execute("cp -r lua config " .. copy .. "/"))
      server = server_helper.start({
        env = {
          APP_ENV = mode == "inotify" and "dev" or "test",
          LUA_DIR = copy .. "/lua",
          CONFIG_DIR = copy .. "/config",
        },
      })
    end)

    teardown(function()
      server.stop()
      os.execute("rm -rf " .. copy)
    end)

    local function readyz_status()
      local res = server.request("GET", "/readyz")
      return res.status == 200 and res.json().status
    end

    local function poke()
      if mode == "sighup" then
        server.signal("HUP")
      end
    end

    it("serves an edited route file without a restart, and keeps it when an edit breaks", function()
      local path = copy .. "/lua/api/health.lua"
      local original = read(path)
      assert.equal("ready", readyz_status())

      write(path, (original:gsub('status = "ready"', 'status = "ready-v2"')))
      poke()
      assert.is_true(wait_for(function() return readyz_status() == "ready-v2" end), server.log())

      write(path, original .. "\nthis is not lua(")
      poke()
      assert.is_true(wait_for(function() return server.log():find("reload failed", 1, true) ~= nil end))
      for _ = 1, 10 do
        assert.equal("ready-v2", readyz_status())
      end

      write(path, original)
      poke()
      assert.is_true(wait_for(function() return readyz_status() == "ready" end))
    end)

    it("keeps serving the old policy when config/policy.lua breaks", function()
      local path = copy .. "/config/policy.lua"
      local original = read(path)
      write(path, 'return { registration = "sometimes" }')
      poke()
      assert.is_true(wait_for(function()
        local _, count = server.log():gsub("policy.registration must be", "")
        return count > 0
      end))
      assert.equal("ready", readyz_status())
      write(path, original)
    end)
  end)
end
