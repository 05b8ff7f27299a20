local errors = require("domain.errors")

describe("domain.errors", function()
  it("new builds { code, message } plus extra fields", function()
    assert.same({ code = "x", message = "y" }, errors.new("x", "y"))
    assert.same({ code = "x", message = "y", field = "f", retry_after = 3 },
      errors.new("x", "y", { field = "f", retry_after = 3 }))
  end)

  it("new does not let extra fields be shared with the caller's table", function()
    local extra = { field = "f" }
    local err = errors.new("x", "y", extra)
    err.field = "changed"
    assert.equal("f", extra.field)
  end)

  it("extra fields may override code and message (callers must not pass them)", function()
    assert.same({ code = "b", message = "m2" }, errors.new("a", "m1", { code = "b", message = "m2" }))
  end)

  it("not_found names the thing, with the same words whether it exists or not", function()
    assert.same({ code = "not_found", message = "asset not found" }, errors.not_found("asset"))
    assert.same({ code = "not_found", message = "resource not found" }, errors.not_found())
  end)

  it("validation carries the field", function()
    assert.same({ code = "validation_error", message = "must be short", field = "name" },
      errors.validation("name", "must be short"))
  end)

  it("unauthorized has a default message and code", function()
    assert.same({ code = "unauthorized", message = "authentication required" },
      errors.unauthorized())
    assert.same({ code = "invalid_token", message = "bad" }, errors.unauthorized("bad", "invalid_token"))
  end)

  it("forbidden and conflict take the code first", function()
    assert.same({ code = "csrf_failed", message = "m" }, errors.forbidden("csrf_failed", "m"))
    assert.same({ code = "email_taken", message = "m" }, errors.conflict("email_taken", "m"))
  end)

  it("rate_limited carries retry_after in whole seconds", function()
    local err = errors.rate_limited(17)
    assert.equal("rate_limited", err.code)
    assert.equal(17, err.retry_after)
    assert.is_string(err.message)
  end)

  it("unavailable hides details behind a generic message unless given one", function()
    assert.same({ code = "unavailable", message = "service temporarily unavailable" },
      errors.unavailable())
    assert.equal("try later", errors.unavailable("try later").message)
  end)

  it("returns a fresh table each time", function()
    assert.are_not.equal(errors.not_found("x"), errors.not_found("x"))
  end)

  it("every code it builds maps to a 4xx or 5xx status in api.respond", function()
    local respond = require("api.respond")
    local built = {
      errors.not_found(), errors.validation("f", "m"), errors.unauthorized(),
      errors.rate_limited(1), errors.unavailable(),
    }
    for _, err in ipairs(built) do
      local status = respond.status_for(err.code)
      assert.is_true(status >= 400 and status < 600 and status ~= 500, err.code)
    end
  end)
end)
