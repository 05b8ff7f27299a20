local respond = require("api.respond")
local errors = require("domain.errors")

describe("api.respond", function()
  describe("json", function()
    it("encodes the body and sets JSON, no-store headers", function()
      local status, body, headers = respond.json(200, { status = "ready" })
      assert.equal(200, status)
      assert.same({ status = "ready" }, core.json.decode(body))
      assert.equal("application/json", headers["Content-Type"])
      assert.equal("no-store", headers["Cache-Control"])
    end)

    it("adds extra headers, which may override the defaults and hold lists", function()
      local _, _, headers = respond.json(201, {}, {
        ["Set-Cookie"] = { "a=1", "b=2" },
        ["Cache-Control"] = "private",
      })
      assert.same({ "a=1", "b=2" }, headers["Set-Cookie"])
      assert.equal("private", headers["Cache-Control"])
      assert.equal("application/json", headers["Content-Type"])
    end)

    it("does not share its header table between responses", function()
      local _, _, first = respond.json(200, {})
      first["X-Mutated"] = "yes"
      local _, _, second = respond.json(200, {})
      assert.is_nil(second["X-Mutated"])
    end)

    it("raises on data JSON cannot hold (a bug in the handler, caught as a 500)", function()
      assert.has_error(function() respond.json(200, { f = function() end }) end)
    end)
  end)

  describe("empty", function()
    it("answers an empty body with no-store and the extra headers", function()
      local status, body, headers = respond.empty(204, { Vary = "Origin" })
      assert.equal(204, status)
      assert.equal("", body)
      assert.same({ ["Cache-Control"] = "no-store", Vary = "Origin" }, headers)
    end)

    it("works without extra headers", function()
      local _, _, headers = respond.empty(204)
      assert.same({ ["Cache-Control"] = "no-store" }, headers)
    end)
  end)

  describe("status_for", function()
    it("maps each known code to its status", function()
      local expected = {
        validation_error = 400, invalid_json = 400, bad_request = 400,
        unauthorized = 401, invalid_token = 401, invalid_credentials = 401, invalid_session = 401,
        forbidden = 403, csrf_failed = 403, origin_not_allowed = 403, registration_closed = 403,
        not_found = 404, method_not_allowed = 405, email_taken = 409, conflict = 409,
        payload_too_large = 413, unsupported_media_type = 415, rate_limited = 429,
        unavailable = 503,
      }
      for code, status in pairs(expected) do
        assert.equal(status, respond.status_for(code), code)
      end
    end)

    it("answers 500 for codes nobody mapped, and for nil", function()
      assert.equal(500, respond.status_for("made_up"))
      assert.equal(500, respond.status_for(nil))
    end)
  end)

  describe("error", function()
    it("wraps code, message and field under error", function()
      local status, body, headers = respond.error(errors.validation("email", "must be set"))
      assert.equal(400, status)
      assert.same({ error = { code = "validation_error", message = "must be set", field = "email" } },
        core.json.decode(body))
      assert.equal("application/json", headers["Content-Type"])
      assert.is_nil(headers["Retry-After"])
      assert.is_nil(headers["WWW-Authenticate"])
    end)

    it("leaves out everything but code, message and field", function()
      local err = errors.new("not_found", "asset not found", { sql = "SELECT secret", trace = "x" })
      local _, body = respond.error(err)
      assert.same({ error = { code = "not_found", message = "asset not found" } },
        core.json.decode(body))
    end)

    it("sets Retry-After from retry_after", function()
      local status, _, headers = respond.error(errors.rate_limited(42))
      assert.equal(429, status)
      assert.equal("42", headers["Retry-After"])
    end)

    it("sets WWW-Authenticate: Bearer on 401 unless one was given", function()
      local status, _, headers = respond.error(errors.unauthorized())
      assert.equal(401, status)
      assert.equal("Bearer", headers["WWW-Authenticate"])
      _, _, headers = respond.error(errors.unauthorized("x", "invalid_token"),
        { ["WWW-Authenticate"] = 'Bearer error="invalid_token"' })
      assert.equal('Bearer error="invalid_token"', headers["WWW-Authenticate"])
    end)

    it("keeps extra headers such as Allow and Set-Cookie", function()
      local status, _, headers = respond.error(errors.new("method_not_allowed", "no"),
        { Allow = "GET, POST" })
      assert.equal(405, status)
      assert.equal("GET, POST", headers.Allow)
      _, _, headers = respond.error(errors.unauthorized(), { ["Set-Cookie"] = "c=; Max-Age=0" })
      assert.equal("c=; Max-Age=0", headers["Set-Cookie"])
    end)

    it("does not modify the headers table it was given", function()
      local extra = { Allow = "GET" }
      respond.error(errors.rate_limited(5), extra)
      assert.same({ Allow = "GET" }, extra)
    end)

    it("answers 500 with the code for an unmapped error", function()
      local status, body = respond.error(errors.new("oops", "internal"))
      assert.equal(500, status)
      assert.equal("oops", core.json.decode(body).error.code)
    end)
  end)
end)
