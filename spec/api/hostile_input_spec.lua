-- Malformed and hostile HTTP and JSON against a real server (SECURITY.md H1-H4,
-- I1-I5, R1): every answer is a JSON error with the right status, nothing leaks,
-- and the server keeps serving.
local api = require("helpers.api")
local http = require("helpers.http")
local server_helper = require("helpers.server")
local socket = require("socket")

describe("hostile input", function()
  local server

  setup(function()
    core.db.exec("DELETE FROM auth_throttle")
    server = server_helper.start({
      env = { MAX_CONNECTIONS_PER_IP = 16, HEADER_TIMEOUT_SECONDS = 2, BODY_TIMEOUT_SECONDS = 2 },
    })
  end)

  teardown(function()
    server.stop()
  end)

  local function raw(bytes, timeout)
    return http.parse((http.raw(server.port, bytes, timeout)))
  end

  local function assert_still_serving()
    assert.equal(200, server.request("GET", "/healthz").status)
  end

  local function assert_json_error(res, status)
    assert.equal(status, res.status)
    local body = res.json()
    assert.is_table(body, "not JSON: " .. res.body)
    assert.is_string(body.error.code)
    assert.is_string(body.error.message)
    assert.is_nil(res.body:find("traceback", 1, true))
    assert.is_nil(res.body:find("sqlite", 1, true))
    assert.is_nil(res.body:find(".lua", 1, true))
  end

  describe("bodies and framing (H1, H4)", function()
    it("answers 413 to a declared Content-Length over the cap before reading it", function()
      local res = raw("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        .. "Content-Length: 5000000\r\n\r\n{")
      assert_json_error(res, 413)
      assert_still_serving()
    end)

    it("answers 413 to a chunked body that grows past the cap", function()
      local chunk = string.rep("a", 64 * 1024)
      local parts = { "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        .. "Transfer-Encoding: chunked\r\n\r\n" }
      for _ = 1, 20 do
        parts[#parts + 1] = string.format("%x\r\n%s\r\n", #chunk, chunk)
      end
      parts[#parts + 1] = "0\r\n\r\n"
      local res = raw(table.concat(parts))
      assert_json_error(res, 413)
      assert_still_serving()
    end)

    it("refuses Content-Length together with Transfer-Encoding, and odd codings (no smuggling)", function()
      for _, head in ipairs({
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Content-Length: 4\r\nContent-Length: 5\r\n",
      }) do
        local res = raw("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n" .. head .. "\r\n0\r\n\r\n")
        assert.is_true(res.status == 400 or res.status == 413 or res.status == 501,
          "status " .. tostring(res.status) .. " for " .. head)
      end
      assert_still_serving()
    end)
  end)

  describe("heads (H2)", function()
    it("answers 431 or 414 to a huge cookie, many headers and a 100 KB URI", function()
      local cookie = raw("GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nCookie: " .. string.rep("c", 65536) .. "\r\n\r\n")
      assert.is_true(cookie.status == 431 or cookie.status == 413, "cookie: " .. tostring(cookie.status))
      local many = {}
      for i = 1, 10000 do
        many[i] = "X-H" .. i .. ": v\r\n"
      end
      local headers = raw("GET / HTTP/1.1\r\nHost: x\r\n" .. table.concat(many) .. "\r\n")
      assert.is_true(headers.status == 431 or headers.status == 413, "headers: " .. tostring(headers.status))
      local uri = raw("GET /" .. string.rep("a", 100 * 1024) .. " HTTP/1.1\r\nHost: x\r\n\r\n")
      assert.is_true(uri.status == 414 or uri.status == 431, "uri: " .. tostring(uri.status))
      assert_still_serving()
    end)
  end)

  describe("slow clients (H3)", function()
    it("closes a connection that trickles its head past the header deadline", function()
      local conn = socket.tcp()
      conn:settimeout(1)
      assert(conn:connect("127.0.0.1", server.port))
      local started = socket.gettime()
      local closed = false
      local head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
      for i = 1, 40 do
        local ok = conn:send(head:sub(i, i) ~= "" and head:sub(i, i) or "a")
        if not ok then
          closed = true
          break
        end
        local _, err = conn:receive(1)
        if err == "closed" then
          closed = true
          break
        end
      end
      conn:close()
      assert.is_true(closed, "the slow connection was never closed")
      assert.is_true(socket.gettime() - started < 10)
      assert_still_serving()
    end)

    it("closes a slow body (R.U.D.Y.) at the body deadline", function()
      local conn = socket.tcp()
      conn:settimeout(0.5)
      assert(conn:connect("127.0.0.1", server.port))
      conn:send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        .. "Content-Length: 1000\r\n\r\n{")
      local closed = false
      for _ = 1, 20 do
        local ok = conn:send(" ")
        local data, err = conn:receive(1)
        if not ok or err == "closed" or data then
          closed = true
          break
        end
      end
      conn:close()
      assert.is_true(closed)
      assert_still_serving()
    end)

    it("keeps serving others while one address holds its whole per-IP quota", function()
      local idle = {}
      for i = 1, 16 do
        local conn = socket.tcp()
        conn:settimeout(1)
        if conn:connect("127.0.0.1", server.port) then
          idle[#idle + 1] = conn
        end
      end
      -- the 17th from the same address is refused...
      local extra = http.raw(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1)
      assert.is_nil(extra:match("^HTTP/1%.1 200"))
      for _, conn in ipairs(idle) do
        conn:close()
      end
      socket.sleep(0.2)
      -- ...and once they go, the address is served again
      assert_still_serving()
    end)
  end)

  describe("JSON (I1-I4)", function()
    local function post_login(body, content_type)
      return raw("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
        .. (content_type or "application/json") .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body)
    end

    it("answers 400 quickly to deeply nested arrays and objects", function()
      local started = socket.gettime()
      assert_json_error(post_login(string.rep("[", 100000)), 400)
      assert_json_error(post_login(string.rep('{"a":', 50000) .. "1" .. string.rep("}", 50000)), 400)
      assert.is_true(socket.gettime() - started < 2)
      assert_still_serving()
    end)

    it("answers 400 to invalid UTF-8, lone surrogates and NUL bytes, storing nothing", function()
      for _, email in ipairs({ '"a\xff@example.com"', '"a\xc0\xaf@example.com"', '"\\ud800@example.com"',
        '"a\\u0000b@example.com"', '"a\xed\xa0\x80@example.com"' }) do
        local body = '{"email":' .. email .. ',"password":"correct horse 1"}'
        local res = raw("POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          .. "Content-Length: " .. #body .. "\r\n\r\n" .. body)
        assert_json_error(res, 400)
      end
      local rows = core.db.query("SELECT count(*) AS n FROM users WHERE email LIKE '%b@example.com' OR email LIKE '%\xff%'")
      assert.equal(0, rows[1].n)
    end)

    it("answers 400 to NaN, Infinity, hex, huge numbers, null, true and objects where strings belong", function()
      for _, value in ipairs({ "NaN", "Infinity", "0x10", "1e400", "9007199254740993", "null", "true", "{}", "[]" }) do
        assert_json_error(post_login('{"email":' .. value .. ',"password":"x"}'), 400)
      end
    end)

    it("answers 400 to truncated JSON, a wrong content type, and an empty body", function()
      assert_json_error(post_login('{"email":"a@b.c",'), 400)
      assert_json_error(post_login('{"email":"a@b.c","password":"x"}', "text/plain"), 415)
      assert_json_error(post_login(""), 400)
    end)

    it("rejects duplicate keys' last-wins smuggling by refusing unknown fields", function()
      local res = post_login('{"email":"a@example.com","password":"x","role":"user","role":"admin"}')
      assert_json_error(res, 400)
    end)
  end)

  describe("SQL probes (I5)", function()
    it("treats injection strings as data and keeps the database intact", function()
      for _, probe in ipairs({ "' OR 1=1--@x.io", "a@x.io'; DROP TABLE users;--", '")@x.io', "%@x.io", "_@x.io", "\\@x.io" }) do
        local res = server.request("POST", "/api/v1/auth/login", { json = { email = probe, password = "x' OR '1'='1" } })
        assert.is_true(res.status == 401 or res.status == 400 or res.status == 429, tostring(res.status))
        assert.is_nil(res.body:lower():find("sql", 1, true))
      end
      assert.equal("ok", core.db.query("PRAGMA integrity_check")[1].integrity_check)
      assert.is_table(core.db.query("SELECT count(*) AS n FROM users")[1])
      core.db.exec("DELETE FROM auth_throttle")
    end)
  end)

  describe("routing", function()
    it("answers unknown API routes with 404 JSON and wrong methods with 405 and Allow", function()
      assert_json_error(server.request("GET", "/api/v1/nothing-here"), 404)
      local res = server.request("DELETE", "/api/v1/auth/login")
      assert_json_error(res, 405)
      assert.equal("POST", res.headers.allow)
    end)
  end)

  describe("argon2 flood (R1)", function()
    it("keeps /healthz responsive while logins queue for hashing slots", function()
      local account = api.signup(server)
      local conns = {}
      local body = core.json.encode({ email = account.email, password = "wrong but long enough" })
      for i = 1, 12 do
        local conn = socket.tcp()
        conn:settimeout(10)
        assert(conn:connect("127.0.0.1", server.port))
        conn:send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
          .. "X-Forwarded-For: 10.0.0." .. i .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body)
        conns[i] = conn
      end
      local started = socket.gettime()
      assert_still_serving()
      assert.is_true(socket.gettime() - started < 1)
      for _, conn in ipairs(conns) do
        conn:receive("*a")
        conn:close()
      end
      core.db.exec("DELETE FROM auth_throttle")
    end)
  end)
end)
