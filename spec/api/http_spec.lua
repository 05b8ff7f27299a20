-- api.http reads core.config once when it loads, so each configuration is tried by
-- loading a fresh copy of the module over a stand-in config table.
local function load_http(config)
  local saved_config, saved_http = package.loaded["core.config"], package.loaded["api.http"]
  package.loaded["core.config"] = config
  package.loaded["api.http"] = nil
  local ok, http = pcall(require, "api.http")
  package.loaded["core.config"] = saved_config
  package.loaded["api.http"] = saved_http
  assert(ok, http)
  return http
end

local function req(headers)
  return { headers = headers or {} }
end

describe("api.http", function()
  local http = load_http({
    cors_origins = " https://app.example.com/, https://photos.example.org ,,http://localhost:5173",
    cookie_secure = true,
  })
  local plain = load_http({ cors_origins = "", cookie_secure = false })

  describe("cookie", function()
    it("finds a cookie among several, trimming spaces", function()
      local r = req({ cookie = "a=1;  itcloud_refresh = tok-EN_123 ; b=2" })
      assert.equal("tok-EN_123", http.cookie(r, "itcloud_refresh"))
      assert.equal("1", http.cookie(r, "a"))
      assert.equal("2", http.cookie(r, "b"))
    end)

    it("returns nil without a Cookie header or without that cookie", function()
      assert.is_nil(http.cookie(req(), "a"))
      assert.is_nil(http.cookie(req({ cookie = "b=1" }), "a"))
      assert.is_nil(http.cookie(req({ cookie = "" }), "a"))
      assert.is_nil(http.cookie(req({ cookie = ";;; ;" }), "a"))
    end)

    it("matches whole names only", function()
      local r = req({ cookie = "xitcloud_refresh=bad; itcloud_refresh_old=bad2" })
      assert.is_nil(http.cookie(r, "itcloud_refresh"))
    end)

    it("keeps = inside a value and returns an empty value as empty", function()
      assert.equal("a=b==", http.cookie(req({ cookie = "k=a=b==" }), "k"))
      assert.equal("", http.cookie(req({ cookie = "k=; j=2" }), "k"))
    end)

    it("takes the first of repeated cookies", function()
      assert.equal("one", http.cookie(req({ cookie = "k=one; k=two" }), "k"))
    end)

    it("ignores pairs without =", function()
      assert.equal("2", http.cookie(req({ cookie = "k; k=2" }), "k"))
    end)

    it("treats pattern characters in the name literally", function()
      assert.is_nil(http.cookie(req({ cookie = "a=1" }), "."))
      assert.equal("v", http.cookie(req({ cookie = "a.b=v" }), "a.b"))
    end)
  end)

  describe("refresh_cookie", function()
    local function attributes(value)
      local parts = {}
      for part in value:gmatch("[^;]+") do
        parts[#parts + 1] = part:match("^%s*(.-)%s*$")
      end
      return parts
    end

    it("stores the token HttpOnly, SameSite=Strict, on the auth path, with Max-Age", function()
      local parts = attributes(plain.refresh_cookie("TOKEN123", 2592000))
      assert.same({ "itcloud_refresh=TOKEN123", "Path=/api/v1/auth", "HttpOnly",
        "SameSite=Strict", "Max-Age=2592000" }, parts)
    end)

    it("adds Secure when COOKIE_SECURE is on", function()
      local parts = attributes(http.refresh_cookie("TOKEN123", 60))
      assert.equal("Secure", parts[#parts])
      assert.equal("Max-Age=60", parts[#parts - 1])
    end)

    it("clears the cookie when the token is nil", function()
      assert.equal("itcloud_refresh=; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age=0",
        plain.refresh_cookie(nil))
      assert.equal("itcloud_refresh=; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age=0;"
        .. " Secure", http.refresh_cookie(nil, 500))
    end)

    it("round-trips through cookie()", function()
      local set = plain.refresh_cookie("abc_DEF-123", 10)
      local sent = set:match("^([^;]+)")
      assert.equal("abc_DEF-123", plain.cookie(req({ cookie = sent }), plain.REFRESH_COOKIE))
    end)
  end)

  describe("bearer_token", function()
    it("reads the token of an Authorization: Bearer header", function()
      local token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_nature"
      assert.equal(token, http.bearer_token(req({ authorization = "Bearer " .. token })))
      assert.equal(token, http.bearer_token(req({ authorization = "bearer   " .. token .. "  " })))
    end)

    it("takes the scheme name in any case (RFC 7235)", function()
      assert.equal("abc", http.bearer_token(req({ authorization = "BEARER abc" })))
      assert.equal("abc", http.bearer_token(req({ authorization = "bEaReR abc" })))
    end)

    it("returns nil without the header or for other schemes", function()
      assert.is_nil(http.bearer_token(req()))
      assert.is_nil(http.bearer_token(req({ authorization = "Basic dXNlcjpwYXNz" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Token abc" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearerabc" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer " })))
      assert.is_nil(http.bearer_token(req({ authorization = "" })))
    end)

    it("refuses characters a JWT cannot hold, and two tokens", function()
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer a b" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer a+b/c=" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer a\0b" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer a\r\nX-Evil: 1" })))
      assert.is_nil(http.bearer_token(req({ authorization = "Bearer a, Bearer b" })))
    end)
  end)

  describe("is_cors_origin", function()
    it("accepts configured origins, with trailing slashes of the setting ignored", function()
      assert.is_true(http.is_cors_origin("https://app.example.com"))
      assert.is_true(http.is_cors_origin("https://photos.example.org"))
      assert.is_true(http.is_cors_origin("http://localhost:5173"))
    end)

    it("refuses everything else, exactly", function()
      assert.is_false(http.is_cors_origin(nil))
      assert.is_false(http.is_cors_origin(""))
      assert.is_false(http.is_cors_origin("null"))
      assert.is_false(http.is_cors_origin("https://app.example.com/"))
      assert.is_false(http.is_cors_origin("http://app.example.com"))
      assert.is_false(http.is_cors_origin("https://app.example.com.evil.com"))
      assert.is_false(http.is_cors_origin("https://evil.com"))
      assert.is_false(http.is_cors_origin("HTTPS://APP.EXAMPLE.COM"))
    end)

    it("allows nothing cross-origin when CORS_ORIGINS is empty", function()
      assert.is_false(plain.is_cors_origin("https://app.example.com"))
      assert.is_false(plain.is_cors_origin(""))
    end)
  end)

  describe("origin_allowed", function()
    it("accepts the server's own origin (Origin host equals Host)", function()
      local r = req({ origin = "http://127.0.0.1:8080", host = "127.0.0.1:8080" })
      assert.is_true(plain.origin_allowed(r))
      r = req({ origin = "https://photos.local", host = "photos.local" })
      assert.is_true(plain.origin_allowed(r))
    end)

    it("accepts a configured CORS origin whatever the Host", function()
      assert.is_true(http.origin_allowed(req({ origin = "https://app.example.com", host = "api" })))
    end)

    it("refuses a missing, foreign or malformed Origin", function()
      assert.is_false(plain.origin_allowed(req({ host = "127.0.0.1:8080" })))
      assert.is_false(plain.origin_allowed(req({ origin = "https://evil.com", host = "127.0.0.1" })))
      assert.is_false(plain.origin_allowed(req({ origin = "null", host = "null" })))
      assert.is_false(plain.origin_allowed(req({ origin = "http://h/path", host = "h" })))
      assert.is_false(plain.origin_allowed(req({ origin = "ftp://h", host = "h" })))
      assert.is_false(plain.origin_allowed(req({ origin = "http://h:81", host = "h" })))
      assert.is_false(plain.origin_allowed(req({ origin = "http://h" })))
      assert.is_false(plain.origin_allowed(req({ origin = "http://", host = "" })))
    end)
  end)

  describe("csrf_ok", function()
    local same = { origin = "http://127.0.0.1:8080", host = "127.0.0.1:8080" }

    it("needs an allowed Origin and a non-empty X-Requested-With", function()
      local r = req({ origin = same.origin, host = same.host, ["x-requested-with"] = "itcloud" })
      assert.is_true(plain.csrf_ok(r))
    end)

    it("fails without X-Requested-With, or with an empty one", function()
      assert.is_false(plain.csrf_ok(req({ origin = same.origin, host = same.host })))
      assert.is_false(plain.csrf_ok(req({ origin = same.origin, host = same.host,
        ["x-requested-with"] = "" })))
    end)

    it("fails for a cross-site Origin even with the header", function()
      assert.is_false(plain.csrf_ok(req({ origin = "https://evil.com", host = same.host,
        ["x-requested-with"] = "XMLHttpRequest" })))
      assert.is_false(plain.csrf_ok(req({ host = same.host, ["x-requested-with"] = "x" })))
    end)
  end)

  describe("cors_headers", function()
    it("lets an allowed origin read the answer, with credentials and Vary", function()
      assert.same({
        ["Access-Control-Allow-Origin"] = "https://app.example.com",
        ["Access-Control-Allow-Credentials"] = "true",
        ["Vary"] = "Origin",
      }, http.cors_headers(req({ origin = "https://app.example.com" })))
    end)

    it("gives nothing for other origins or none, never a wildcard", function()
      assert.is_nil(http.cors_headers(req({ origin = "https://evil.com" })))
      assert.is_nil(http.cors_headers(req()))
      assert.is_nil(plain.cors_headers(req({ origin = "https://app.example.com" })))
    end)
  end)

  it("the module loaded with the real core.config refuses every cross-origin caller", function()
    local real = require("api.http")
    assert.equal(core.config.cookie_secure, real.refresh_cookie("t", 1):find("Secure", 1, true) ~= nil)
    if core.config.cors_origins == "" then
      assert.is_nil(real.cors_headers(req({ origin = "https://evil.com" })))
    end
  end)
end)
