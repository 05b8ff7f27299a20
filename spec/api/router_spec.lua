local router = require("api.router")

local function handler() end

local function route(method, path)
  return { method = method, path = path, handler = handler, name = method .. " " .. path }
end

describe("api.router", function()
  local compiled

  before_each(function()
    compiled = router.compile({
      route("GET", "/readyz"),
      route("GET", "/api/v1/albums"),
      route("POST", "/api/v1/albums"),
      route("GET", "/api/v1/albums/{album_id}"),
      route("DELETE", "/api/v1/albums/{album_id}"),
      route("GET", "/api/v1/albums/{album_id}/assets/{asset_id}"),
      route("GET", "/api/v1/albums/shared"),
    })
  end)

  describe("match", function()
    it("finds a static route with empty params", function()
      local found, params = router.match(compiled, "GET", "/api/v1/albums")
      assert.equal("GET /api/v1/albums", found.name)
      assert.same({}, params)
      assert.equal("POST /api/v1/albums", router.match(compiled, "POST", "/api/v1/albums").name)
    end)

    it("prefers a static route over a template that also fits", function()
      local found, params = router.match(compiled, "GET", "/api/v1/albums/shared")
      assert.equal("GET /api/v1/albums/shared", found.name)
      assert.same({}, params)
    end)

    it("fills template parameters by name", function()
      local found, params = router.match(compiled, "GET", "/api/v1/albums/abc-123")
      assert.equal("GET /api/v1/albums/{album_id}", found.name)
      assert.same({ album_id = "abc-123" }, params)
      found, params = router.match(compiled, "GET", "/api/v1/albums/a1/assets/b2")
      assert.equal("GET /api/v1/albums/{album_id}/assets/{asset_id}", found.name)
      assert.same({ album_id = "a1", asset_id = "b2" }, params)
    end)

    it("passes parameter text through untouched (handlers validate it)", function()
      local _, params = router.match(compiled, "DELETE", "/api/v1/albums/' OR 1=1--")
      assert.same({ album_id = "' OR 1=1--" }, params)
    end)

    it("answers HEAD with the GET route", function()
      assert.equal("GET /readyz", router.match(compiled, "HEAD", "/readyz").name)
    end)

    it("says not_found for unknown paths", function()
      local found, why = router.match(compiled, "GET", "/api/v1/nothing")
      assert.is_nil(found)
      assert.equal("not_found", why)
      assert.equal("not_found", select(2, router.match(compiled, "GET", "/api/v1/albums/a/b")))
      assert.equal("not_found", select(2, router.match(compiled, "GET", "/")))
      assert.equal("not_found", select(2, router.match(compiled, "GET", "")))
    end)

    it("does not match a template segment against a missing segment", function()
      assert.equal("not_found", select(2, router.match(compiled, "GET", "/api/v1/albums/x/assets")))
    end)

    it("says method_not_allowed with the sorted Allow list for a known static path", function()
      local found, why, allowed = router.match(compiled, "PUT", "/api/v1/albums")
      assert.is_nil(found)
      assert.equal("method_not_allowed", why)
      assert.equal("GET, POST", allowed)
    end)

    it("says method_not_allowed for a known templated path", function()
      local found, why, allowed = router.match(compiled, "POST", "/api/v1/albums/abc")
      assert.is_nil(found)
      assert.equal("method_not_allowed", why)
      assert.equal("DELETE, GET", allowed)
    end)

    it("falls back to a template for a method the static path lacks", function()
      local found, params = router.match(compiled, "DELETE", "/api/v1/albums/shared")
      assert.equal("DELETE /api/v1/albums/{album_id}", found.name)
      assert.same({ album_id = "shared" }, params)
    end)

    it("merges static and templated methods for the Allow list", function()
      local found, why, allowed = router.match(compiled, "POST", "/api/v1/albums/shared")
      assert.is_nil(found)
      assert.equal("method_not_allowed", why)
      assert.equal("DELETE, GET", allowed)
    end)

    it("is case-sensitive in methods and paths", function()
      assert.equal("method_not_allowed", select(2, router.match(compiled, "get", "/readyz")))
      assert.equal("not_found", select(2, router.match(compiled, "GET", "/READYZ")))
    end)

    it("treats repeated and trailing slashes as the same segments in templates", function()
      local found, params = router.match(compiled, "GET", "/api/v1/albums/x/")
      assert.equal("GET /api/v1/albums/{album_id}", found.name)
      assert.same({ album_id = "x" }, params)
    end)
  end)

  describe("compile", function()
    it("raises on a route without method, path or handler", function()
      assert.has_error(function() router.compile({ { path = "/a", handler = handler } }) end,
        "route 1 needs method, path and handler")
      assert.has_error(function()
        router.compile({ route("GET", "/a"), { method = "GET", path = "/b" } })
      end, "route 2 needs method, path and handler")
    end)

    it("raises on a route declared twice", function()
      assert.has_error(function() router.compile({ route("GET", "/a"), route("GET", "/a") }) end,
        "route declared twice: GET /a")
      assert.has_error(function()
        router.compile({ route("GET", "/a/{id}"), route("GET", "/a/{id}") })
      end, "route declared twice: GET /a/{id}")
    end)

    it("raises on malformed templates", function()
      for _, path in ipairs({ "/a/{id", "/a/id}", "/a/x{id}", "/a/{i-d}", "/a/{}" }) do
        assert.has_error(function() router.compile({ route("GET", path) }) end,
          "bad path template: " .. path)
      end
    end)

    it("compiles an empty list to a router that matches nothing", function()
      assert.equal("not_found", select(2, router.match(router.compile({}), "GET", "/")))
    end)
  end)
end)
