local tokens = require("infra.tokens")

local USER = { id = "0190b4c2-7a1e-7000-8000-000000000001", token_epoch = 3 }

describe("infra.tokens", function()
  describe("access tokens", function()
    it("issues a JWT that verifies to the user's claims", function()
      local now = core.time.unix()
      local token, expires_in = tokens.issue_access(USER, now)
      assert.equal(core.config.jwt_access_ttl_seconds, expires_in)
      assert.matches("^[%w_%-]+%.[%w_%-]+%.[%w_%-]+$", token)
      local claims = assert(tokens.verify_access(token))
      assert.equal(USER.id, claims.sub)
      assert.equal(3, claims.ep)
      assert.equal("access", claims.typ)
      assert.equal(core.config.jwt_issuer, claims.iss)
      assert.equal(core.config.jwt_audience, claims.aud)
      assert.equal(now, claims.iat)
      assert.equal(now + expires_in, claims.exp)
      assert.equal("integer", math.type(claims.exp))
    end)

    it("refuses an expired token", function()
      local long_ago = core.time.unix() - 2 * core.config.jwt_access_ttl_seconds - 60
      local token = tokens.issue_access(USER, long_ago)
      local claims, err = tokens.verify_access(token)
      assert.is_nil(claims)
      assert.equal("token expired", err)
    end)

    it("refuses a tampered token", function()
      local token = tokens.issue_access(USER, core.time.unix())
      local head, body, sig = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
      local payload = core.json.decode(core.crypto.base64url_decode(body))
      payload.sub = "someone-else"
      local forged = head .. "." .. core.crypto.base64url_encode(core.json.encode(payload)) .. "." .. sig
      assert.is_nil(tokens.verify_access(forged))
      local flipped = token:sub(1, -2) .. (token:sub(-1) == "A" and "B" or "A")
      assert.is_nil(tokens.verify_access(flipped))
    end)

    it("refuses a token of another type, issuer or audience signed with the same secret", function()
      local now = core.time.unix()
      local base = {
        iss = core.config.jwt_issuer, aud = core.config.jwt_audience, sub = USER.id,
        typ = "access", ep = 0, iat = now, exp = now + 60,
      }
      local function variant(key, value)
        local claims = {}
        for k, v in pairs(base) do
          claims[k] = v
        end
        claims[key] = value
        return core.jwt.sign(claims)
      end
      assert.is_table(tokens.verify_access(core.jwt.sign(base)))
      assert.equal("wrong token type", select(2, tokens.verify_access(variant("typ", "refresh"))))
      assert.equal("wrong token type", select(2, tokens.verify_access(variant("typ", "share"))))
      assert.equal("wrong issuer", select(2, tokens.verify_access(variant("iss", "other"))))
      assert.equal("wrong audience", select(2, tokens.verify_access(variant("aud", "other"))))
    end)

    it("refuses garbage without raising", function()
      for _, garbage in ipairs({ "", "x", "a.b.c", string.rep("A", 100000), "\0\0\0" }) do
        assert.is_nil(tokens.verify_access(garbage))
      end
    end)
  end)

  describe("refresh tokens", function()
    it("are 256 random bits as unpadded base64url, stored as their SHA-256 hex", function()
      local raw, hash = tokens.new_refresh()
      assert.matches("^[%w_%-]+$", raw)
      assert.equal(43, #raw)
      assert.equal(32, #core.crypto.base64url_decode(raw))
      assert.matches("^%x+$", hash)
      assert.equal(64, #hash)
      assert.equal(core.crypto.sha256_hex(raw), hash)
    end)

    it("never repeat", function()
      local seen = {}
      for _ = 1, 1000 do
        local raw, hash = tokens.new_refresh()
        assert.is_nil(seen[raw])
        assert.is_nil(seen[hash])
        seen[raw], seen[hash] = true, true
      end
    end)

    it("hash deterministically, and differently for different tokens", function()
      assert.equal(tokens.hash_refresh("abc"), tokens.hash_refresh("abc"))
      assert.are_not.equal(tokens.hash_refresh("abc"), tokens.hash_refresh("abd"))
      assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        tokens.hash_refresh("abc"))
    end)
  end)
end)
