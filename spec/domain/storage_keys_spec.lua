local ids = require("infra.ids")
local media_types = require("domain.media_types")
local storage_keys = require("domain.storage_keys")

local USER = "0190b4c2-7a1e-7abc-8def-0123456789ab"
local ASSET = "0190b4c2-7a1f-7123-9456-abcdef012345"
local CREATED = "2024-05-17T10:11:12.345Z"

-- The characters a storage key may hold (core.storage refuses others).
local KEY_CHARSET = "^[a-z0-9/%._%-]+$"

describe("domain.storage_keys", function()
  describe("layout", function()
    it("puts originals under u/{user}/o/{yyyy}/{mm}/{asset}{ext}", function()
      assert.equal("u/" .. USER .. "/o/2024/05/" .. ASSET .. ".jpg",
        storage_keys.original(USER, ASSET, CREATED, ".jpg"))
      assert.equal("u/" .. USER .. "/o/1999/12/" .. ASSET .. ".mov",
        storage_keys.original(USER, ASSET, "1999-12-31T23:59:59.999Z", ".mov"))
    end)

    it("files by the upload's month, in UTC as written", function()
      assert.equal("u/" .. USER .. "/o/2025/01/" .. ASSET .. ".png",
        storage_keys.original(USER, ASSET, "2025-01-01T00:00:00.000Z", ".png"))
    end)

    it("puts single-PUT uploads under staging/{user}/{asset}, with no extension", function()
      assert.equal("staging/" .. USER .. "/" .. ASSET, storage_keys.staging(USER, ASSET))
    end)

    it("puts thumbnails under t/, previews under v/ and posters under p/, all JPEG", function()
      assert.equal("u/" .. USER .. "/t/2024/05/" .. ASSET .. ".jpg",
        storage_keys.derivative("thumb", USER, ASSET, CREATED))
      assert.equal("u/" .. USER .. "/v/2024/05/" .. ASSET .. ".jpg",
        storage_keys.derivative("preview", USER, ASSET, CREATED))
      assert.equal("u/" .. USER .. "/p/2024/05/" .. ASSET .. ".jpg",
        storage_keys.derivative("poster", USER, ASSET, CREATED))
    end)

    it("never gives two forms of one asset the same key", function()
      local keys = {
        storage_keys.original(USER, ASSET, CREATED, ".jpg"),
        storage_keys.staging(USER, ASSET),
        storage_keys.derivative("thumb", USER, ASSET, CREATED),
        storage_keys.derivative("preview", USER, ASSET, CREATED),
        storage_keys.derivative("poster", USER, ASSET, CREATED),
      }
      local seen = {}
      for _, key in ipairs(keys) do
        assert.is_nil(seen[key], key)
        seen[key] = true
      end
    end)

    it("keeps each user's objects under a prefix no other user's key starts with", function()
      local other = "0190b4c2-7a1e-7abc-8def-0123456789ac"
      local mine = storage_keys.original(USER, ASSET, CREATED, ".jpg")
      local theirs = storage_keys.original(other, ASSET, CREATED, ".jpg")
      assert.not_equal(mine, theirs)
      assert.equal(1, mine:find("u/" .. USER .. "/", 1, true))
      assert.is_nil(theirs:find("u/" .. USER .. "/", 1, true))
      assert.is_nil(storage_keys.staging(other, ASSET):find("staging/" .. USER .. "/", 1, true))
    end)
  end)

  describe("charset", function()
    it("gives keys of [a-z0-9/._-] only, which core.storage accepts, for UUID ids", function()
      local exts = {}
      for _, content_type in ipairs(media_types.all()) do
        exts[#exts + 1] = media_types.describe(content_type).ext
      end
      for i = 1, 200 do
        local user, asset = ids.uuid(), ids.uuid()
        local created = core.time.iso8601(i * 15778463)   -- spread over five decades
        local keys = {
          storage_keys.original(user, asset, created, exts[i % #exts + 1]),
          storage_keys.staging(user, asset),
          storage_keys.derivative("thumb", user, asset, created),
          storage_keys.derivative("preview", user, asset, created),
          storage_keys.derivative("poster", user, asset, created),
        }
        for _, key in ipairs(keys) do
          assert.matches(KEY_CHARSET, key)
          assert.is_nil(key:find("..", 1, true), key)
          assert.is_nil(key:find("//", 1, true), key)
          assert.is_nil(key:find("/.", 1, true), key)
          assert.is_true(#key <= 512, key)
          -- core.storage signs it rather than raising "invalid storage key"; the URL
          -- carries the key as it is (local: /blobs/KEY?..., S3: .../BUCKET/KEY?...)
          assert.matches("/" .. key:gsub("%p", "%%%0") .. "%?",
            core.storage.presign_put(key, "image/jpeg", 1, 60))
        end
      end
    end)
  end)

  describe("programming errors", function()
    it("raises on an unknown derivative kind, naming it, at the caller's line", function()
      for _, kind in ipairs({ "original", "thumbnail", "THUMB", "", 1 }) do
        local ok, err = pcall(storage_keys.derivative, kind, USER, ASSET, CREATED)
        assert.is_false(ok)
        assert.matches("storage_keys.derivative: unknown kind " .. tostring(kind), err, 1, true)
      end
      local ok, err = pcall(storage_keys.derivative, nil, USER, ASSET, CREATED)
      assert.is_false(ok)
      assert.matches("unknown kind nil", err, 1, true)
      -- level 2: the message points at the line that called derivative
      local _, located = pcall(function()
        storage_keys.derivative("bogus", USER, ASSET, CREATED)
      end)
      assert.matches("storage_keys_spec%.lua:%d+: storage_keys%.derivative: unknown kind bogus",
        located)
    end)

    it("raises on a creation time that is not RFC 3339, rather than filing under nil/", function()
      for _, created in ipairs({ "yesterday", "", "17/05/2024", "24-05-17T10:00:00Z" }) do
        local ok, err = pcall(storage_keys.original, USER, ASSET, created, ".jpg")
        assert.is_false(ok, created)
        assert.matches("storage_keys: created_at must be RFC 3339", err, 1, true)
        ok, err = pcall(storage_keys.derivative, "thumb", USER, ASSET, created)
        assert.is_false(ok, created)
        assert.matches("storage_keys: created_at must be RFC 3339", err, 1, true)
      end
      assert.is_false((pcall(storage_keys.original, USER, ASSET, nil, ".jpg")))
      local _, located = pcall(function()
        storage_keys.original(USER, ASSET, "soon", ".jpg")
      end)
      assert.matches("storage_keys_spec%.lua:%d+: storage_keys: created_at must be RFC 3339, got soon",
        located)
    end)
  end)
end)
