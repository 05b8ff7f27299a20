-- lua/app.lua's handle(req), called directly with hand-built requests: routing,
-- CORS preflight, authentication, body and query validation, and the handlers.
local api = require("helpers.api")

local ORIGIN = "https://app.example.com"

-- Loads a fresh copy of the app and everything under lua/ over `config`, so that
-- api.http sees a CORS_ORIGINS setting the spec process does not have.
local function load_app(config)
  local saved = {}
  for name, module in pairs(package.loaded) do
    if name == "app" or name:match("^api%.") or name:match("^services%.")
      or name:match("^infra%.") or name:match("^repositories") or name:match("^domain%.") then
      saved[name] = module
      package.loaded[name] = nil
    end
  end
  local saved_config = package.loaded["core.config"]
  package.loaded["core.config"] = config
  local ok, app = pcall(require, "app")
  package.loaded["core.config"] = saved_config
  for name in pairs(package.loaded) do
    if name == "app" or name:match("^api%.") or name:match("^services%.")
      or name:match("^infra%.") or name:match("^repositories") or name:match("^domain%.") then
      package.loaded[name] = nil
    end
  end
  for name, module in pairs(saved) do
    package.loaded[name] = module
  end
  assert(ok, app)
  return app
end

local function request(method, path, opts)
  opts = opts or {}
  local headers = { host = "127.0.0.1:8080" }
  for name, value in pairs(opts.headers or {}) do
    headers[name] = value
  end
  local body = opts.body
  if opts.json ~= nil then
    body = core.json.encode(opts.json)
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  return {
    method = method,
    path = path,
    headers = headers,
    query = opts.query or {},
    body = body,
    remote_addr = opts.remote_addr or "192.0.2.10",
    request_id = "spec",
    ctx = {},
  }
end

local function call(app, req)
  local status, body, headers = app.handle(req)
  local decoded = body ~= "" and core.json.decode(body) or nil
  return status, decoded, headers, body
end

describe("app.handle", function()
  local app = require("app")
  local cors_app = load_app(setmetatable({ cors_origins = ORIGIN }, { __index = core.config }))
  local created_emails = {}

  setup(function()
    core.db.exec("DELETE FROM auth_throttle")
  end)

  teardown(function()
    for _, email in ipairs(created_emails) do
      core.db.exec("DELETE FROM users WHERE email = ?", email)
    end
    core.db.exec("DELETE FROM auth_throttle")
  end)

  describe("routing", function()
    it("serves the OpenAPI document for GET and HEAD", function()
      for _, method in ipairs({ "GET", "HEAD" }) do
        local status, doc, headers = call(app, request(method, "/api/v1/openapi.json"))
        assert.equal(200, status)
        assert.equal("application/json", headers["Content-Type"])
        assert.equal("no-cache", headers["Cache-Control"])
        assert.equal("3.1.0", doc.openapi)
        assert.is_table(doc.paths["/api/v1/auth/login"].post)
        assert.is_table(doc.paths["/readyz"].get)
      end
    end)

    it("lists every declared route in the OpenAPI document", function()
      local _, doc = call(app, request("GET", "/api/v1/openapi.json"))
      for _, route in ipairs(app.routes) do
        local item = doc.paths[route.path]
        assert.is_table(item, route.path)
        assert.is_table(item[route.method:lower()], route.method .. " " .. route.path)
      end
    end)

    it("answers other methods on openapi.json like any unknown route", function()
      local status, body = call(app, request("POST", "/api/v1/openapi.json"))
      assert.equal(404, status)
      assert.equal("not_found", body.error.code)
    end)

    it("answers 404 JSON for an unknown path", function()
      local status, body, headers = call(app, request("GET", "/api/v1/nope"))
      assert.equal(404, status)
      assert.same({ error = { code = "not_found", message = "route not found" } }, body)
      assert.equal("application/json", headers["Content-Type"])
    end)

    it("answers 405 with Allow for a known path and another method", function()
      local status, body, headers = call(app, request("DELETE", "/api/v1/auth/login"))
      assert.equal(405, status)
      assert.equal("method_not_allowed", body.error.code)
      assert.equal("POST", headers.Allow)
      status, _, headers = call(app, request("PUT", "/readyz"))
      assert.equal(405, status)
      assert.equal("GET", headers.Allow)
    end)

    it("serves GET /readyz from the real database, and HEAD through the GET route", function()
      local status, body = call(app, request("GET", "/readyz"))
      assert.equal(200, status)
      assert.same({ status = "ready" }, body)
      assert.equal(200, (call(app, request("HEAD", "/readyz"))))
    end)
  end)

  describe("input validation", function()
    it("answers 415 when a body route gets no JSON content type", function()
      for _, content_type in ipairs({ false, "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x" }) do
        local req = request("POST", "/api/v1/auth/login", {
          body = '{"email":"a@example.com","password":"x"}',
          headers = { ["content-type"] = content_type or nil },
        })
        local status, body = call(app, req)
        assert.equal(415, status, tostring(content_type))
        assert.equal("unsupported_media_type", body.error.code)
      end
    end)

    it("accepts application/json with parameters and in any case", function()
      local req = request("POST", "/api/v1/auth/login", {
        json = { email = "nobody-app@example.com" },
        headers = { ["content-type"] = "Application/JSON; charset=utf-8" },
      })
      local status, body = call(app, req)
      assert.equal(400, status)   -- past the content type check, to the schema
      assert.equal("validation_error", body.error.code)
      assert.equal("password", body.error.field)
    end)

    it("answers 400 invalid_json for a body that is not JSON", function()
      for _, raw in ipairs({ "", "{", "not json", "{'a':1}", "[1,]", "NaN", "0x10",
        string.rep("[", 100000) }) do
        local req = request("POST", "/api/v1/auth/login",
          { body = raw, headers = { ["content-type"] = "application/json" } })
        local status, body = call(app, req)
        assert.equal(400, status, raw:sub(1, 20))
        assert.equal("invalid_json", body.error.code)
        assert.equal("the body is not valid JSON", body.error.message)
      end
    end)

    it("answers 400 validation_error naming the field for the wrong shape", function()
      local cases = {
        { json = { email = "a@example.com", password = "x", role = "admin" }, field = "?" },
        { json = { email = 1, password = "x" }, field = "email" },
        { json = { email = "a@example.com", password = core.json.null }, field = "password" },
        { json = { "not", "an", "object" }, field = "" },
        { body = "null", field = "" },
        { body = "true", field = "" },
      }
      for i, case in ipairs(cases) do
        local req = request("POST", "/api/v1/auth/login", {
          json = case.json, body = case.body, headers = { ["content-type"] = "application/json" },
        })
        local status, body = call(app, req)
        assert.equal(400, status, "case " .. i)
        assert.equal("validation_error", body.error.code, "case " .. i)
        if case.field ~= "?" then
          assert.equal(case.field, body.error.field, "case " .. i)
        else
          assert.is_string(body.error.field)
        end
      end
    end)

    it("answers 400 bad_request when a route without a body gets one", function()
      local status, body = call(app, request("GET", "/readyz", { body = "x" }))
      assert.equal(400, status)
      assert.equal("bad_request", body.error.code)
    end)

    it("treats an empty body as no body", function()
      assert.equal(200, (call(app, request("GET", "/readyz", { body = "" }))))
    end)

    it("answers 400 for unknown query parameters", function()
      local status, body = call(app, request("GET", "/readyz", { query = { debug = "1" } }))
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
    end)
  end)

  describe("authentication", function()
    it("answers 401 with WWW-Authenticate without a bearer token", function()
      local status, body, headers = call(app, request("GET", "/api/v1/auth/me"))
      assert.equal(401, status)
      assert.equal("unauthorized", body.error.code)
      assert.equal("Bearer", headers["WWW-Authenticate"])
    end)

    it("answers 401 invalid_token for a garbage or forged token", function()
      for _, token in ipairs({ "abc", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." }) do
        local req = request("GET", "/api/v1/auth/me",
          { headers = { authorization = "Bearer " .. token } })
        local status, body = call(app, req)
        assert.equal(401, status, token)
        assert.equal("invalid_token", body.error.code, token)
      end
    end)

    it("refuses cookie routes without Origin and X-Requested-With (CSRF)", function()
      local req = request("POST", "/api/v1/auth/refresh",
        { headers = { cookie = "itcloud_refresh=" .. string.rep("a", 43) } })
      local status, body = call(app, req)
      assert.equal(403, status)
      assert.equal("csrf_failed", body.error.code)
      req = request("POST", "/api/v1/auth/refresh", { headers = {
        cookie = "itcloud_refresh=x", origin = "https://evil.com", ["x-requested-with"] = "x",
      } })
      assert.equal(403, (call(app, req)))
    end)

    it("lets a same-origin cookie call through to the handler", function()
      local req = request("POST", "/api/v1/auth/refresh", { headers = {
        cookie = "itcloud_refresh=" .. string.rep("a", 43),
        origin = "http://127.0.0.1:8080", ["x-requested-with"] = "itcloud",
      } })
      local status, body, headers = call(app, req)
      assert.equal(401, status)
      assert.equal("invalid_session", body.error.code)
      assert.matches("^itcloud_refresh=;.*Max%-Age=0", headers["Set-Cookie"])
    end)

    it("registers, logs in and serves /me end to end through the handlers", function()
      local email = api.unique_email("app")
      created_emails[#created_emails + 1] = email
      local status, body = call(app, request("POST", "/api/v1/auth/register",
        { json = { email = email, password = api.PASSWORD } }))
      assert.equal(201, status)
      assert.equal(email, body.user.email)

      local headers
      status, body, headers = call(app, request("POST", "/api/v1/auth/login",
        { json = { email = email:upper(), password = api.PASSWORD } }))
      assert.equal(200, status)
      assert.equal("Bearer", body.token_type)
      assert.is_nil(body.refresh_token)
      assert.matches("^itcloud_refresh=[%w_%-]+; Path=/api/v1/auth; HttpOnly; SameSite=Strict",
        headers["Set-Cookie"])

      local me = request("GET", "/api/v1/auth/me",
        { headers = { authorization = "Bearer " .. body.access_token } })
      local me_status, me_body = call(app, me)
      assert.equal(200, me_status)
      assert.same(body.user, me_body.user)
      assert.equal(email, me.user.email)   -- handle() put the user on the request
    end)
  end)

  describe("CORS", function()
    it("refuses a preflight from an origin that is not allowed", function()
      for _, origin in ipairs({ "https://evil.com", false }) do
        local req = request("OPTIONS", "/api/v1/auth/login",
          { headers = { origin = origin or nil, ["access-control-request-method"] = "POST" } })
        local status, body, headers = call(cors_app, req)
        assert.equal(403, status)
        assert.equal("origin_not_allowed", body.error.code)
        assert.is_nil(headers["Access-Control-Allow-Origin"])
      end
    end)

    it("answers a preflight from an allowed origin with 204 and the allowed methods", function()
      local req = request("OPTIONS", "/api/v1/auth/login", { headers = { origin = ORIGIN } })
      local status, body, headers = cors_app.handle(req)
      assert.equal(204, status)
      assert.equal("", body)
      assert.equal(ORIGIN, headers["Access-Control-Allow-Origin"])
      assert.equal("true", headers["Access-Control-Allow-Credentials"])
      assert.matches("POST", headers["Access-Control-Allow-Methods"])
      assert.matches("Authorization", headers["Access-Control-Allow-Headers"])
      assert.matches("X%-Requested%-With", headers["Access-Control-Allow-Headers"])
      assert.equal("600", headers["Access-Control-Max-Age"])
      assert.equal("Origin", headers.Vary)
    end)

    it("refuses every preflight when no CORS origin is configured", function()
      local req = request("OPTIONS", "/readyz", { headers = { origin = ORIGIN } })
      assert.equal(403, (call(app, req)))
    end)

    it("adds CORS headers to answers for an allowed origin only", function()
      local _, _, headers = call(cors_app, request("GET", "/readyz", { headers = { origin = ORIGIN } }))
      assert.equal(ORIGIN, headers["Access-Control-Allow-Origin"])
      _, _, headers = call(cors_app, request("GET", "/readyz",
        { headers = { origin = "https://evil.com" } }))
      assert.is_nil(headers["Access-Control-Allow-Origin"])
    end)

    it("lets an allowed cross-origin page make cookie calls (CSRF check passes)", function()
      local req = request("POST", "/api/v1/auth/logout", { headers = {
        origin = ORIGIN, ["x-requested-with"] = "itcloud", cookie = "itcloud_refresh=short",
      } })
      local status, _, headers = call(cors_app, req)
      assert.equal(204, status)
      assert.equal(ORIGIN, headers["Access-Control-Allow-Origin"])
    end)
  end)
end)
