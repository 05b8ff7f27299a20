-- infra.storage over core.storage's local backend (files under DATA_DIR/media). Objects
-- are written straight into that directory, as a finished PUT to /blobs/ leaves them.
local blobs = require("helpers.blobs")
local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")
local storage = require("infra.storage")

if storage.backend() ~= "local" then
  pending("infra.storage specs need STORAGE_BACKEND=local")
  return
end

local INVALID_KEYS = { "", "/abs/key", "../escape", "a/../b", "a/./b", "a//b", "a/", "a/.hidden",
  "Upper/case", "a b", "a\nb", "a\\b", "a?b", "a%2fb", "é", "-lead", ".lead", "_lead",
  "a/..", string.rep("a", 513) }

-- The URL as the local backend signs it at `now` (nil when `now` is not `at`).
local function url_at(method, key, opts, at)
  opts.now = at
  return blobs.presign(method, key, opts)
end

-- Asserts that `make()` gives the URL helpers.blobs computes for the same second.
local function assert_signed(method, key, opts, make)
  local before = os.time()
  local url = make()
  local after = os.time()
  local expected = {}
  for at = before, after do
    expected[url_at(method, key, opts, at)] = true
  end
  assert.is_true(expected[url] ~= nil, url)
  return url
end

describe("infra.storage on the local backend", function()
  local prefix

  before_each(function()
    prefix = "spec-storage/" .. ids.uuid()
  end)

  teardown(function()
    os.execute("rm -rf '" .. fixtures.media_root() .. "/spec-storage'")
  end)

  it("names the backend and has no multipart uploads", function()
    assert.equal("local", storage.backend())
    assert.is_false(storage.supports_multipart())
  end)

  describe("presign_put", function()
    it("gives a /blobs/ URL signed for exactly that type and length", function()
      local key = prefix .. "/a.jpg"
      local url = assert_signed("PUT", key, { ttl = 300, content_type = "image/jpeg",
        content_length = 1234 }, function()
        return storage.presign_put(key, "image/jpeg", 1234, 300)
      end)
      assert.equal(1, url:find("/blobs/" .. key .. "?", 1, true))
      assert.matches("[?&]ct=image%%2Fjpeg&", url)
      assert.matches("&cl=1234&", url)
      assert.matches("&sig=[%w_-]+$", url)
      local exp = tonumber(url:match("exp=(%d+)"))
      assert.is_true(math.abs(exp - (os.time() + 300)) <= 1)
    end)

    it("signs the type and length, so a URL for one is no URL for another", function()
      local key = prefix .. "/b.jpg"
      local a = storage.presign_put(key, "image/jpeg", 10, 600)
      local function sig(url)
        return url:match("sig=(.*)$")
      end
      assert.not_equal(sig(a), sig(storage.presign_put(key, "image/png", 10, 600)))
      assert.not_equal(sig(a), sig(storage.presign_put(key, "image/jpeg", 11, 600)))
      assert.not_equal(sig(a), sig(storage.presign_put(prefix .. "/c.jpg", "image/jpeg", 10, 600)))
      assert.equal(sig(a), sig(storage.presign_put(key, "image/jpeg", 10, 600)))
    end)

    it("raises on expiries outside 1 second to 7 days and on bad content types", function()
      for _, ttl in ipairs({ 0, -1, 604801 }) do
        local ok, err = pcall(storage.presign_put, prefix .. "/x", "image/jpeg", 1, ttl)
        assert.is_false(ok)
        assert.matches("ttl must be 1 to 604800 seconds", err, 1, true)
      end
      assert.is_false((pcall(storage.presign_put, prefix .. "/x", "image/jpeg\r\nX-Evil: 1", 1, 60)))
      assert.is_false((pcall(storage.presign_put, prefix .. "/x", "image/jpeg", -1, 60)))
    end)
  end)

  describe("presign_get", function()
    it("downloads as an attachment with the type and filename signed", function()
      local key = prefix .. "/d.jpg"
      local opts = { ttl = 120, content_type = "image/jpeg", filename = "Holiday 1.jpg" }
      local url = assert_signed("GET", key, opts, function()
        return storage.presign_get(key, { ttl = 120, content_type = "image/jpeg",
          filename = "Holiday 1.jpg" })
      end)
      assert.matches("&disp=attachment&", url)
      assert.matches("&fn=Holiday%%201%.jpg&", url)
    end)

    it("shows inline when asked, and defaults the type to application/octet-stream", function()
      local key = prefix .. "/e.bin"
      local url = assert_signed("GET", key, { ttl = 60, disposition = "inline" }, function()
        return storage.presign_get(key, { ttl = 60, disposition = "inline" })
      end)
      assert.matches("ct=application%%2Foctet%-stream", url)
      assert.matches("&disp=inline&", url)
      -- anything other than "inline" downloads
      assert.matches("&disp=attachment&", storage.presign_get(key, { ttl = 60, disposition = "x" }))
    end)

    it("raises without a ttl table or with a filename over 1024 bytes", function()
      assert.is_false((pcall(storage.presign_get, prefix .. "/f", nil)))
      assert.is_false((pcall(storage.presign_get, prefix .. "/f", {})))
      assert.is_false((pcall(storage.presign_get, prefix .. "/f",
        { ttl = 60, filename = string.rep("n", 1025) })))
    end)
  end)

  describe("objects", function()
    it("heads, reads, moves and deletes an object", function()
      local key, moved = prefix .. "/one/photo.jpg", prefix .. "/two/deeper/photo.jpg"
      local bytes = "\xff\xd8\xff" .. string.rep("\1\2\3", 100)
      fixtures.put(key, bytes)

      local head = assert(storage.head(key))
      assert.equal(#bytes, head.size)
      assert.equal("integer", math.type(head.size))
      assert.matches('^"%x+%-%x+%-%x+"$', head.etag)

      assert.equal(bytes:sub(1, 32), storage.read(key, 0, 32))
      assert.equal(bytes:sub(11, 20), storage.read(key, 10, 10))
      assert.equal(bytes:sub(#bytes - 4), storage.read(key, #bytes - 5, 1000))
      assert.equal("", storage.read(key, #bytes, 10))
      assert.equal("", storage.read(key, #bytes + 100, 10))

      assert.is_true(storage.move(key, moved))
      assert.is_nil(storage.head(key))
      assert.is_nil(fixtures.stored(key))
      assert.equal(bytes, fixtures.stored(moved))
      assert.equal(#bytes, storage.head(moved).size)

      assert.is_true(storage.delete(moved))
      assert.is_nil(storage.head(moved))
      assert.is_nil(fixtures.stored(moved))
      assert.is_true(storage.delete(moved))
    end)

    it("replaces the target of a move", function()
      local from, to = prefix .. "/from", prefix .. "/to"
      fixtures.put(from, "new bytes")
      fixtures.put(to, "old")
      assert.is_true(storage.move(from, to))
      assert.equal("new bytes", fixtures.stored(to))
      assert.equal(9, storage.head(to).size)
    end)

    it("changes the etag when the object changes", function()
      local key = prefix .. "/etag"
      fixtures.put(key, "one")
      local first = storage.head(key).etag
      fixtures.put(key, "three")
      assert.not_equal(first, storage.head(key).etag)
    end)

    it("answers a bare nil for the head of a missing object", function()
      local head, err = storage.head(prefix .. "/missing")
      assert.is_nil(head)
      assert.is_nil(err)
    end)

    it("treats a key prefix (a directory) as no object", function()
      fixtures.put(prefix .. "/dir/inside", "x")
      local head, err = storage.head(prefix .. "/dir")
      assert.is_nil(head)
      assert.is_nil(err)
      local moved, move_err = storage.move(prefix .. "/dir", prefix .. "/elsewhere")
      assert.is_nil(moved)
      assert.matches("not found", move_err)
      assert.equal("x", fixtures.stored(prefix .. "/dir/inside"))
    end)

    it("deletes a missing object successfully, and a nil key too", function()
      assert.is_true(storage.delete(prefix .. "/missing"))
      assert.is_true(storage.delete(prefix .. "/missing/below/it"))
      assert.is_true(storage.delete(nil))
    end)

    it("answers nil, err when moving or reading a missing object", function()
      local ok, err = storage.move(prefix .. "/missing", prefix .. "/target")
      assert.is_nil(ok)
      assert.equal("storage move failed: not found", err)
      assert.is_nil(storage.head(prefix .. "/target"))
      local bytes, read_err = storage.read(prefix .. "/missing", 0, 10)
      assert.is_nil(bytes)
      assert.equal("storage read failed: not found", read_err)
    end)

    it("raises on a negative offset or a length outside 1 byte to 64 MB", function()
      local key = prefix .. "/r"
      fixtures.put(key, "abc")
      assert.is_false((pcall(storage.read, key, -1, 1)))
      assert.is_false((pcall(storage.read, key, 0, 0)))
      assert.is_false((pcall(storage.read, key, 0, 64 * 1024 * 1024 + 1)))
      assert.equal("abc", storage.read(key, 0, 64 * 1024 * 1024))
    end)
  end)

  describe("multipart on the local backend", function()
    it("answers nil, err for create, list, complete and abort", function()
      local key = prefix .. "/big.mp4"
      local calls = {
        function() return storage.multipart_create(key, "video/mp4") end,
        function() return storage.list_parts(key, "upload-1") end,
        function()
          return storage.multipart_complete(key, "upload-1", { { part_number = 1, etag = "e" } })
        end,
        function() return storage.multipart_abort(key, "upload-1") end,
      }
      for _, call in ipairs(calls) do
        local ok, err = call()
        assert.is_nil(ok)
        assert.equal("multipart uploads need the s3 backend", err)
      end
      assert.is_nil(storage.head(key))
    end)

    it("raises when asked to sign a part URL", function()
      local ok, err = pcall(storage.presign_part, prefix .. "/big.mp4", "upload-1", 1, 100, 60)
      assert.is_false(ok)
      assert.matches("multipart uploads need the s3 backend", err, 1, true)
    end)
  end)

  describe("invalid keys", function()
    it("raise in every call that takes a key", function()
      local good = prefix .. "/good"
      fixtures.put(good, "keep me")
      for _, key in ipairs(INVALID_KEYS) do
        local calls = {
          head = function() return storage.head(key) end,
          read = function() return storage.read(key, 0, 1) end,
          delete = function() return storage.delete(key) end,
          move_from = function() return storage.move(key, prefix .. "/target") end,
          move_to = function() return storage.move(good, key) end,
          presign_put = function() return storage.presign_put(key, "image/jpeg", 1, 60) end,
          presign_get = function() return storage.presign_get(key, { ttl = 60 }) end,
          multipart_create = function() return storage.multipart_create(key, "video/mp4") end,
        }
        for name, call in pairs(calls) do
          local ok, err = pcall(call)
          assert.is_false(ok, name .. " " .. string.format("%q", key))
          assert.matches("invalid storage key", err, 1, true)
        end
      end
      assert.equal("keep me", fixtures.stored(good))
    end)

    it("raise for keys that are not strings", function()
      assert.is_false((pcall(storage.head, nil)))
      assert.is_false((pcall(storage.head, {})))
      assert.is_false((pcall(storage.move, nil, prefix .. "/x")))
      assert.is_false((pcall(storage.presign_put, nil, "image/jpeg", 1, 60)))
    end)
  end)
end)
