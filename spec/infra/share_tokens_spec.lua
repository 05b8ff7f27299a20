local ids = require("infra.ids")
local share_tokens = require("infra.share_tokens")

describe("infra.share_tokens", function()
  local id = ids.uuid()

  it("derives a 256-bit base64url token from the id and salt, the same each time", function()
    local salt = share_tokens.new_salt()
    assert.equal(22, #salt)   -- 128 random bits
    local token = share_tokens.token(id, salt)
    assert.equal(43, #token)
    assert.matches("^[%w%-_]+$", token)
    assert.equal(token, share_tokens.token(id, salt))
    assert.not_equal(token, share_tokens.token(id, share_tokens.new_salt()))
    assert.not_equal(token, share_tokens.token(ids.uuid(), salt))
  end)

  it("needs the server secret: the stored salt and id alone do not give the token", function()
    local salt = share_tokens.new_salt()
    local token = share_tokens.token(id, salt)
    assert.not_equal(core.crypto.base64url_encode(core.crypto.hmac_sha256(salt, id .. "\n" .. salt)), token)
    assert.not_equal(core.crypto.base64url_encode(core.crypto.sha256(id .. "\n" .. salt)), token)
  end)

  it("stores a token as its SHA-256, and hashes anything without raising", function()
    assert.equal(core.crypto.sha256_hex("abc"), share_tokens.hash("abc"))
    assert.equal(64, #share_tokens.hash(string.rep("x", 5000)))
    assert.equal(64, #share_tokens.hash(""))
  end)

  describe("sessions", function()
    local now = 1700000000

    it("are valid for their share and password version until they expire", function()
      local session, ttl = share_tokens.issue_session(id, 3, now)
      assert.equal(share_tokens.SESSION_TTL_SECONDS, ttl)
      assert.is_true(share_tokens.session_valid(session, id, 3, now))
      assert.is_true(share_tokens.session_valid(session, id, 3, now + ttl - 1))
      assert.is_false(share_tokens.session_valid(session, id, 3, now + ttl))
      assert.is_false(share_tokens.session_valid(session, id, 4, now))
      assert.is_false(share_tokens.session_valid(session, ids.uuid(), 3, now))
    end)

    it("refuse tampering and garbage without raising", function()
      local session = share_tokens.issue_session(id, 0, now)
      local payload, mac = session:match("^(.-)%.(.*)$")
      local forged_payload = core.crypto.base64url_encode(core.json.encode({ s = id, v = 0, e = now + 10 ^ 9 }))
      for _, bad in ipairs({ nil, 42, "", ".", payload, payload .. ".", "." .. mac,
        forged_payload .. "." .. mac, payload .. "." .. mac:sub(2), session .. "x",
        string.rep("A", 600) .. "." .. mac, "e30." .. mac }) do
        assert.is_false(share_tokens.session_valid(bad, id, 0, now), tostring(bad))
      end
    end)
  end)
end)
