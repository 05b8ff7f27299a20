-- Which address a request comes from, behind a trusted proxy (SECURITY.md H7): the
-- address login throttling counts against, read back from its counters.
local server_helper = require("helpers.server")
local http = require("helpers.http")

describe("client address", function()
  local server

  setup(function()
    core.db.exec("DELETE FROM auth_throttle")
    server = server_helper.start({ env = { TRUSTED_PROXIES = "127.0.0.1, 10.9.9.9" } })
  end)

  teardown(function()
    server.stop()
    core.db.exec("DELETE FROM auth_throttle")
  end)

  -- A failed login with these extra header lines; returns the ip:... throttle keys made.
  local function counted_as(header_lines)
    core.db.exec("DELETE FROM auth_throttle")
    local body = '{"email":"nobody@example.com","password":"wrong password"}'
    http.parse(http.raw(server.port, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
      .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\n"
      .. header_lines .. "\r\n" .. body))
    local keys = {}
    for _, row in ipairs(core.db.query("SELECT key FROM auth_throttle WHERE key LIKE 'ip:%'")) do
      keys[#keys + 1] = row.key
    end
    return keys
  end

  it("is the peer when there is no X-Forwarded-For", function()
    assert.same({ "ip:127.0.0.1" }, counted_as(""))
  end)

  it("is the nearest untrusted hop, across several header lines", function()
    assert.same({ "ip:5.6.7.8" }, counted_as("X-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"))
    assert.same({ "ip:5.6.7.8" }, counted_as("X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8, 10.9.9.9\r\n"))
  end)

  it("cannot be pushed out of reach with a long or forged header", function()
    local long = string.rep("9.9.9.9, ", 600) .. "5.6.7.8"
    assert.same({ "ip:127.0.0.1" }, counted_as("X-Forwarded-For: " .. long .. "\r\n"))
    assert.same({ "ip:127.0.0.1" }, counted_as("X-Forwarded-For: 1.2.3.4, not-an-ip\r\n"))
  end)
end)
