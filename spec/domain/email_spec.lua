local email = require("domain.email")

local INVALID = "must be a valid email address"

local function refuses(raw)
  local normalized, err = email.normalize(raw)
  assert.is_nil(normalized, "accepted " .. string.format("%q", raw))
  assert.equal(INVALID, err)
end

describe("domain.email", function()
  describe("normalize", function()
    it("lower-cases and trims an address", function()
      assert.equal("alice@example.com", email.normalize("  Alice@Example.COM \t"))
      assert.equal("bob@mail.example.co.uk", email.normalize("bob@mail.example.co.uk"))
    end)

    it("keeps the special characters RFC 5322 allows in the local part", function()
      assert.equal("a.b+tag@example.com", email.normalize("a.b+tag@example.com"))
      assert.equal("o'brien@example.com", email.normalize("O'Brien@example.com"))
      assert.equal("x_y-z!#$&*/=?^`{|}~%@example.org",
        email.normalize("x_y-z!#$&*/=?^`{|}~%@example.org"))
    end)

    it("accepts hyphenated domains and numeric labels", function()
      assert.equal("me@my-host.example", email.normalize("me@my-host.example"))
      assert.equal("me@123.example", email.normalize("me@123.example"))
    end)

    it("refuses empty and blank input", function()
      refuses("")
      refuses("   ")
    end)

    it("refuses addresses without exactly one @ and a dotted domain", function()
      refuses("alice")
      refuses("alice@")
      refuses("@example.com")
      refuses("alice@localhost")
      refuses("alice@@example.com")
      refuses("alice@bob@example.com")
    end)

    it("refuses spaces, control characters and quotes", function()
      refuses("al ice@example.com")
      refuses("alice@exa mple.com")
      refuses("alice\0@example.com")
      refuses("alice\n@example.com")
      refuses("alice@example.com\0")
      refuses('"alice"@example.com')
      refuses("<alice@example.com>")
    end)

    it("refuses consecutive dots anywhere", function()
      refuses("a..b@example.com")
      refuses("alice@example..com")
    end)

    it("refuses domains that start or end badly", function()
      refuses("alice@-example.com")
      refuses("alice@example.com.")
      refuses("alice@example.")
    end)

    it("refuses non-ASCII letters rather than guessing a normal form", function()
      refuses("jos\xc3\xa9@example.com")
      refuses("alice@ex\xc3\xa4mple.com")
    end)

    it("allows 254 characters and refuses 255", function()
      local domain = "@" .. string.rep("d", 60) .. ".example.com"
      local at_limit = string.rep("a", 254 - #domain) .. domain
      assert.equal(254, #at_limit)
      assert.equal(at_limit, email.normalize(at_limit))
      refuses("a" .. at_limit)
    end)

    it("measures the length after trimming", function()
      local domain = "@example.com"
      local address = string.rep("a", 254 - #domain) .. domain
      assert.equal(address, email.normalize("   " .. address .. "   "))
    end)

    it("gives one answer for SQL and pattern metacharacters, never an error", function()
      refuses("' OR 1=1--@example.com")
      refuses("a%@example.com)")
      refuses("%@%")
      refuses("_@_")
    end)

    it("raises on a non-string (a programming error)", function()
      assert.has_error(function() email.normalize(nil) end)
      assert.has_error(function() email.normalize(42) end)
    end)
  end)
end)
