-- The web app's files as the core serves them from STATIC_DIR: index.html for the SPA's
-- routes (revalidated), hashed assets cached for good, /api/docs left to the app.
local server_helper = require("helpers.server")

describe("static files and the SPA fallback", function()
  local server, dir

  local function write(path, text)
    local f = assert(io.open(dir .. path, "w"))
    f:write(text)
    f:close()
  end

  setup(function()
    dir = server_helper.temp_dir()
    assert(os.execute("mkdir -p " .. dir .. "/assets"))
    write("/index.html", "<!doctype html><title>app</title>")
    write("/assets/index-Ab3_x9Zq.js", "console.log(1)")
    server = server_helper.start({ env = { STATIC_DIR = dir } })
  end)

  teardown(function()
    server.stop()
    os.execute("rm -rf " .. dir)
  end)

  it("answers the app's routes with index.html, revalidated each time", function()
    for _, path in ipairs({ "/", "/albums/0190f5c8-0000-7000-8000-000000000000", "/s/token" }) do
      local res = server.request("GET", path)
      assert.equal(200, res.status, path)
      assert.equal("<!doctype html><title>app</title>", res.body)
      assert.equal("no-cache", res.headers["cache-control"])
    end
  end)

  it("caches hashed assets for good", function()
    local res = server.request("GET", "/assets/index-Ab3_x9Zq.js")
    assert.equal(200, res.status)
    assert.matches("^text/javascript", res.headers["content-type"])
    assert.matches("immutable", res.headers["cache-control"])
  end)

  it("leaves /api/docs to the app and everything else under /api to the API", function()
    local docs = server.request("GET", "/api/docs")
    assert.equal(200, docs.status)
    assert.matches("^text/html", docs.headers["content-type"])
    local api = server.request("GET", "/api/docsx")
    assert.equal(404, api.status)
    assert.matches("^application/json", api.headers["content-type"])
  end)

  it("lets the app compile WebAssembly (upload hashing) but not evaluate strings", function()
    local csp = server.request("GET", "/").headers["content-security-policy"]
    assert.matches("script%-src 'self' 'wasm%-unsafe%-eval';", csp)
    assert.is_nil(csp:find("'unsafe-eval'", 1, true))
  end)
end)
