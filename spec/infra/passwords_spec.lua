local passwords = require("infra.passwords")

describe("infra.passwords", function()
  local hash

  setup(function()
    hash = assert(passwords.hash("correct horse battery"))
  end)

  it("hashes to an argon2id PHC string that does not contain the password", function()
    assert.matches("^%$argon2id%$v=19%$m=%d+,t=%d+,p=%d+%$[%w+/]+%$[%w+/]+$", hash)
    assert.is_nil(hash:find("correct horse", 1, true))
  end)

  it("salts every hash", function()
    assert.are_not.equal(hash, passwords.hash("correct horse battery"))
  end)

  it("verifies the right password and refuses others", function()
    assert.is_true(passwords.verify(hash, "correct horse battery"))
    assert.is_false(passwords.verify(hash, "correct horse battery "))
    assert.is_false(passwords.verify(hash, "Correct horse battery"))
    assert.is_false(passwords.verify(hash, ""))
  end)

  -- the work done (an argon2id verify with the current parameters, through the same
  -- slots) is core.crypto's: its dummy hash is written from the parameters themselves
  it("answers false for a missing hash (unknown account), as for a wrong password", function()
    for _, password in ipairs({ "correct horse battery", "wrong password", "", "a\0b" }) do
      assert.is_false(passwords.verify(nil, password))
    end
  end)

  it("answers nil, err for a malformed stored hash instead of raising", function()
    for _, bad in ipairs({ "", "plaintext", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
      "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA" }) do
      local ok, err = passwords.verify(bad, "x")
      assert.is_nil(ok, bad)
      assert.equal("invalid password hash", err)
    end
  end)

  it("refuses passwords over 4096 bytes without hashing them", function()
    local ok, err = passwords.hash(string.rep("x", 4097))
    assert.is_nil(ok)
    assert.equal("password too long", err)
    ok, err = passwords.verify(hash, string.rep("x", 4097))
    assert.is_nil(ok)
    assert.equal("password too long", err)
  end)

  it("handles NUL bytes and non-UTF-8 in passwords as plain bytes", function()
    local odd = assert(passwords.hash("a\0b\255c"))
    assert.is_true(passwords.verify(odd, "a\0b\255c"))
    assert.is_false(passwords.verify(odd, "a"))
  end)

  it("says a fresh hash needs no rehash, and other parameters do", function()
    assert.is_false(passwords.needs_rehash(hash))
    local weaker = hash:gsub("m=%d+", "m=4096")
    assert.is_true(passwords.needs_rehash(weaker))
    assert.is_true(passwords.needs_rehash("garbage"))
  end)
end)
