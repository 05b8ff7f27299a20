-- The sandbox of the server's Lua VMs (STYLE.md section 6), seen from inside: a real
-- server runs from a copy of lua/ with an extra route module that probes it. The
-- instruction budget and the memory cap are kept low so the limits trip quickly.
local server_helper = require("helpers.server")

local PROBE = [==[
local respond = require("api.respond")

local function route(path, handler)
  return {
    method = "GET", path = "/api/v1/probe/" .. path, auth = "none",
    responses = { [200] = { description = "probe" } }, handler = handler,
  }
end

local function outcome(fn, ...)
  local ok, err = pcall(fn, ...)
  return { ok = ok, err = not ok and tostring(err) or nil }
end

return {
  route("globals", function()
    local kinds = {}
    for _, name in ipairs({ "io", "os", "load", "dofile", "loadfile", "package", "debug",
      "collectgarbage", "loadstring", "module", "setfenv", "getfenv", "require", "core",
      "string", "pcall" }) do
      kinds[name] = type(rawget(_G, name))
    end
    kinds["string.dump"] = type(string.dump)
    kinds["(\"\").dump"] = type(("").dump)
    kinds["package.loadlib"] = type(rawget(_G, "package") and package.loadlib)
    return respond.json(200, kinds)
  end),
  route("strict", function()
    return respond.json(200, {
      read_undeclared = outcome(function() return undeclared_thing end),
      write_undeclared = outcome(function() new_global_from_probe = 1 end),
      read_io = outcome(function() return io end),
    })
  end),
  route("require", function()
    local results = {}
    for _, name in ipairs({ "os", "io", "debug", "package", "ffi", "socket", "lfs",
      "../../etc/passwd", "api/respond", "core.nothing" }) do
      results[name] = outcome(require, name)
    end
    results["core.json"] = outcome(require, "core.json")
    results["config.policy"] = outcome(require, "config.policy")
    return respond.json(200, results)
  end),
  route("config", function()
    return respond.json(200, {
      assign = outcome(function() core.config.port = 1 end),
      rawset = outcome(rawset, core.config, "port", 1),
      port_type = math.type(core.config.port),
    })
  end),
  route("loop", function()
    while true do end
  end),
  route("loop-in-pcall", function()
    while true do
      pcall(function() while true do end end)
    end
  end),
  route("recursion", function()
    local function deeper(n) return deeper(n + 1) + 1 end
    return respond.json(200, { n = deeper(1) })
  end),
  route("big-string", function()
    local huge = string.rep("x", 256 * 1024 * 1024)
    return respond.json(200, { len = #huge })
  end),
  route("big-table", function()
    local t = {}
    for i = 1, math.maxinteger do
      t[i] = { i, i, i }
    end
    return respond.json(200, { n = #t })
  end),
  route("raise", function()
    error("secret detail from /srv/itcloud/lua/api/v1/probe.lua")
  end),
  route("bad-status", function()
    return "not a status", "body", {}
  end),
  route("work", function()
    local sum = 0
    for i = 1, 1000 do
      sum = sum + i
    end
    return respond.json(200, { sum = sum })
  end),
}
]==]

local function write(path, text)
  local file = assert(io.open(path, "w"))
  file:write(text)
  file:close()
end

local function read(path)
  local file = assert(io.open(path))
  local text = file:read("*a")
  file:close()
  return text
end

describe("the server sandbox", function()
  local server, copy

  setup(function()
    copy = server_helper.temp_dir()
    assert(os.execute("cp -r lua config " .. copy .. "/"))
    write(copy .. "/lua/api/v1/sandbox_probe.lua", PROBE)
    local app_path = copy .. "/lua/app.lua"
    local app, replaced = read(app_path):gsub("local ROUTE_MODULES = {",
      'local ROUTE_MODULES = { "api.v1.sandbox_probe",', 1)
    assert(replaced == 1, "ROUTE_MODULES not found in lua/app.lua")
    write(app_path, app)
    server = server_helper.start({
      env = {
        LUA_DIR = copy .. "/lua",
        CONFIG_DIR = copy .. "/config",
        LUA_INSTRUCTION_LIMIT = 2000000,
        LUA_MEMORY_LIMIT_BYTES = 16 * 1024 * 1024,
      },
    })
  end)

  teardown(function()
    if server then
      server.stop()
    end
    os.execute("rm -rf " .. copy)
  end)

  local function get(path)
    return server.request("GET", "/api/v1/probe/" .. path)
  end

  -- A failed request answers the generic 500, with nothing of the error in it.
  local function assert_internal_error(res, ...)
    assert.equal(500, res.status, res.body)
    assert.matches("^application/json", res.headers["content-type"])
    assert.same({ error = { code = "internal", message = "internal server error" } }, res.json())
    for _, leak in ipairs({ "traceback", ".lua", "stack", "budget", "memory", ... }) do
      assert.is_nil(res.body:find(leak, 1, true), "the body shows " .. leak)
    end
  end

  local function assert_still_serving()
    for _ = 1, 4 do   -- more requests than threads, so every VM answers
      local res = get("work")
      assert.equal(200, res.status)
      assert.equal(500500, res.json().sum)
    end
    assert.equal(200, server.request("GET", "/readyz").status)
  end

  it("has no io, os, load, dofile, loadfile, string.dump, package, debug or collectgarbage", function()
    local res = get("globals")
    assert.equal(200, res.status, res.body)
    local kinds = res.json()
    for _, name in ipairs({ "io", "os", "load", "dofile", "loadfile", "package", "debug",
      "collectgarbage", "loadstring", "module", "setfenv", "getfenv", "string.dump",
      "(\"\").dump", "package.loadlib" }) do
      assert.equal("nil", kinds[name], name)
    end
    assert.equal("function", kinds.require)
    assert.equal("table", kinds.core)
    assert.equal("function", kinds.pcall)
  end)

  it("raises on reading or assigning an undeclared global", function()
    local res = get("strict")
    assert.equal(200, res.status, res.body)
    local probe = res.json()
    assert.is_false(probe.write_undeclared.ok)
    assert.matches("undeclared global 'new_global_from_probe'", probe.write_undeclared.err)
    assert.is_false(probe.read_undeclared.ok)
    assert.matches("undeclared global 'undeclared_thing'", probe.read_undeclared.err)
    assert.is_false(probe.read_io.ok)
  end)

  it("lets require reach only lua/, config/ and core.*", function()
    local res = get("require")
    assert.equal(200, res.status, res.body)
    local results = res.json()
    for _, name in ipairs({ "os", "io", "debug", "package", "ffi", "socket", "lfs",
      "core.nothing" }) do
      assert.is_false(results[name].ok, name)
      assert.matches("module '" .. name:gsub("%p", "%%%0") .. "' not found", results[name].err)
    end
    for _, name in ipairs({ "../../etc/passwd", "api/respond" }) do
      assert.is_false(results[name].ok, name)
      assert.matches("invalid name", results[name].err)
    end
    assert.is_true(results["core.json"].ok)
    assert.is_true(results["config.policy"].ok)
  end)

  it("keeps core.config read-only", function()
    local res = get("config")
    assert.equal(200, res.status, res.body)
    local probe = res.json()
    assert.is_false(probe.assign.ok)
    assert.matches("core.config is read-only", probe.assign.err, 1, true)
    assert.is_false(probe.rawset.ok)
    assert.equal("integer", probe.port_type)
  end)

  it("stops an infinite loop with the instruction budget, answers 500, keeps serving", function()
    local started = core.time.monotonic_ms()
    local res = get("loop")
    assert_internal_error(res)
    assert.is_true(core.time.monotonic_ms() - started < 5000)
    assert.matches("instruction budget exceeded", server.log())
    assert_still_serving()
    -- and again, on whichever thread answers
    assert_internal_error(get("loop"))
    assert_still_serving()
  end)

  it("stops a loop that catches the budget error with pcall and carries on", function()
    local started = core.time.monotonic_ms()
    assert_internal_error(get("loop-in-pcall"))
    assert.is_true(core.time.monotonic_ms() - started < 5000)
    assert_still_serving()
  end)

  it("stops runaway recursion with a 500", function()
    assert_internal_error(get("recursion"))
    assert_still_serving()
  end)

  it("refuses a huge string with the memory cap and answers 500", function()
    assert_internal_error(get("big-string"))
    assert.matches("not enough memory", server.log())
    assert_still_serving()
  end)

  it("stops a table growing without end (memory cap or budget) with a 500", function()
    assert_internal_error(get("big-table"))
    assert_still_serving()
  end)

  it("answers a raised error with a 500 that does not show the message", function()
    assert_internal_error(get("raise"), "secret detail", "/srv/itcloud")
    assert.matches("secret detail", server.log())
    assert_still_serving()
  end)

  it("answers 500 when a handler returns no valid status", function()
    assert_internal_error(get("bad-status"))
    assert_still_serving()
  end)
end)
