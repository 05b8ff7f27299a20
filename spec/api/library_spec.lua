-- Uploads and the library end to end against a real server, on the storage backend
-- the environment names (STORAGE_BACKEND=local by default; the test script runs this
-- file again against the real S3-compatible server). Tagged "storage".
local api = require("helpers.api")
local library = require("helpers.library")
local http = require("helpers.http")
local server_helper = require("helpers.server")
local socket = require("socket")

local backend = os.getenv("STORAGE_BACKEND") or "local"

describe("library on " .. backend .. " storage #storage", function()
  local server, alice, bob

  setup(function()
    server = server_helper.start({ env = { MULTIPART_THRESHOLD_BYTES = 5 * 1024 * 1024,
      MULTIPART_PART_SIZE_BYTES = 5 * 1024 * 1024 } })
    alice = api.signup(server)
    bob = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  local function get(account, path)
    return server.request("GET", path, { headers = api.bearer(account.token) })
  end

  local function call(account, method, path, json)
    return server.request(method, path, { headers = api.bearer(account.token), json = json })
  end

  describe("upload", function()
    it("stores small and 20 MB files and gives back identical bytes", function()
      for _, size in ipairs({ 16, 20 * 1024 * 1024 }) do
        local bytes = library.jpeg(size)
        local asset = library.upload(server, alice, bytes)
        assert.equal("ready", asset.status)
        assert.equal(size, asset.size_bytes)
        local downloaded, res = library.download(server, alice, asset.id)
        assert.equal(core.crypto.sha256_hex(bytes), core.crypto.sha256_hex(downloaded))
        assert.matches("attachment", res.headers["content-disposition"])
        assert.equal("image/jpeg", res.headers["content-type"])
        if backend == "local" then
          -- S3 cannot be told to send nosniff; its own origin and attachment stand in
          assert.equal("nosniff", res.headers["x-content-type-options"])
        end
      end
    end)

    if backend == "s3" then
      it("stores a 60 MB file in parts, resumes after an interruption, and reads back identical bytes", function()
        local bytes = library.jpeg(60 * 1024 * 1024)
        local created = library.create(server, alice, bytes).json()
        assert.equal("multipart", created.upload.method)
        assert.equal(12, #created.upload.parts)
        -- send part 1 only, then ask what is stored
        local first = created.upload.parts[1]
        library.fetch(server, "PUT", first.url, { body = bytes:sub(1, first.size_bytes) })
        local listed = get(alice, "/api/v1/uploads/" .. created.asset.id .. "/parts").json()
        assert.equal(1, #listed.parts)
        assert.equal(1, listed.parts[1].part_number)
        local parts = library.send(server, listed.upload, bytes)
        local done = library.finalize(server, alice, created.asset.id, parts)
        assert.equal(200, done.status)
        local downloaded = library.download(server, alice, created.asset.id)
        assert.equal(core.crypto.sha256_hex(bytes), core.crypto.sha256_hex(downloaded))
      end)
    end

    it("reports a file the user already has as a duplicate without storing it again", function()
      local bytes = library.jpeg(2048)
      local asset = library.upload(server, alice, bytes)
      local again = library.create(server, alice, bytes)
      assert.equal(200, again.status)
      local body = again.json()
      assert.is_true(body.duplicate)
      assert.equal(asset.id, body.asset.id)
      assert.is_nil(body.upload)
      -- another user uploading the same bytes is not a duplicate of alice's
      assert.equal(201, library.create(server, bob, bytes).status)
    end)

    it("brings a trashed copy back when the same file is uploaded again", function()
      local bytes = library.jpeg(2100)
      local asset = library.upload(server, alice, bytes)
      call(alice, "DELETE", "/api/v1/assets/" .. asset.id)
      local again = library.create(server, alice, bytes)
      assert.equal(200, again.status)
      assert.is_true(again.json().duplicate)
      assert.is_nil(again.json().asset.deleted_at)
      assert.is_nil(get(alice, "/api/v1/assets/" .. asset.id).json().asset.deleted_at)
    end)

    it("refuses a 1-byte file at finalize: it cannot be a photo or video", function()
      local created = library.create(server, alice, "\xff").json()
      library.send(server, created.upload, "\xff")
      local done = library.finalize(server, alice, created.asset.id)
      assert.equal(422, done.status)
      assert.equal("upload_rejected", done.json().error.code)
    end)

    it("refuses a claimed size over MAX_UPLOAD_SIZE_BYTES before anything is stored (F5)", function()
      local res = library.create(server, alice, "x", { size_bytes = 10 * 1024 * 1024 * 1024 * 1024 })
      assert.equal(413, res.status)
      assert.equal("file_too_large", res.json().error.code)
      assert.equal(0, core.db.query("SELECT count(*) AS n FROM assets WHERE size_bytes > ?",
        1024 * 1024 * 1024 * 1024)[1].n)
    end)

    it("refuses empty files, unknown types and bad hashes with 400", function()
      assert.equal(400, library.create(server, alice, "", {}).status)
      assert.equal(400, library.create(server, alice, "abc", { content_type = "text/html" }).status)
      assert.equal(400, library.create(server, alice, "abc", { sha256 = "zz" }).status)
      assert.equal(400, library.create(server, alice, "abc", { size_bytes = -1 }).status)
    end)

    it("marks an upload failed when its bytes are not the declared type (F4)", function()
      local html = "<html><script>alert(1)</script></html>" .. string.rep(" ", 100)
      local created = library.create(server, alice, html, { filename = "cat.jpg" }).json()
      library.send(server, created.upload, html)
      local done = library.finalize(server, alice, created.asset.id)
      assert.equal(422, done.status)
      assert.equal("upload_rejected", done.json().error.code)
      local asset = get(alice, "/api/v1/assets/" .. created.asset.id).json().asset
      assert.equal("failed", asset.status)
      assert.is_truthy(asset.failure_reason:find("does not match", 1, true)
        or asset.failure_reason:find("not a recognised", 1, true))
    end)

    it("answers 409 when finalize comes before the bytes, and the upload can still finish", function()
      local bytes = library.jpeg(1000)
      local created = library.create(server, alice, bytes).json()
      assert.equal(409, library.finalize(server, alice, created.asset.id).status)
      library.send(server, created.upload, bytes)
      assert.equal(200, library.finalize(server, alice, created.asset.id).status)
    end)

    it("refuses a PUT with another Content-Type or length than signed (A11)", function()
      local bytes = library.jpeg(1000)
      local created = library.create(server, alice, bytes).json()
      local wrong_type = library.fetch(server, "PUT", created.upload.url,
        { body = bytes, headers = { ["Content-Type"] = "image/png" } })
      assert.is_true(wrong_type.status == 403 or wrong_type.status == 400, tostring(wrong_type.status))
      local wrong_length = library.fetch(server, "PUT", created.upload.url,
        { body = bytes .. "x", headers = { ["Content-Type"] = "image/jpeg" } })
      assert.is_true(wrong_length.status == 403 or wrong_length.status == 400, tostring(wrong_length.status))
    end)

    it("keeps the finalized object when the upload URL is replayed (A11)", function()
      local bytes = library.jpeg(1000)
      local created = library.create(server, alice, bytes).json()
      library.send(server, created.upload, bytes)
      assert.equal(200, library.finalize(server, alice, created.asset.id).status)
      local other = library.jpeg(1000)
      library.fetch(server, "PUT", created.upload.url, { body = other,
        headers = { ["Content-Type"] = "image/jpeg" } })
      local downloaded = library.download(server, alice, created.asset.id)
      assert.equal(core.crypto.sha256_hex(bytes), core.crypto.sha256_hex(downloaded))
    end)

    it("answers two finalizes of one upload identically, with one ready asset", function()
      local bytes = library.jpeg(5000)
      local created = library.create(server, alice, bytes).json()
      library.send(server, created.upload, bytes)
      -- both requests are on the wire before either answer is read
      local body = core.json.encode({})
      local request = "POST /api/v1/uploads/" .. created.asset.id .. "/finalize HTTP/1.1\r\n"
        .. "Host: x\r\nAuthorization: Bearer " .. alice.token .. "\r\nContent-Type: application/json\r\n"
        .. "Connection: close\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
      local conns = {}
      for i = 1, 2 do
        conns[i] = socket.tcp()
        conns[i]:settimeout(10)
        assert(conns[i]:connect("127.0.0.1", server.port))
        conns[i]:send(request)
      end
      local a = http.parse(conns[1]:receive("*a"))
      local b = http.parse(conns[2]:receive("*a"))
      conns[1]:close()
      conns[2]:close()
      assert.equal(200, a.status)
      assert.equal(200, b.status)
      assert.same(a.json().asset, b.json().asset)
      local rows = core.db.query("SELECT count(*) AS n FROM assets WHERE sha256 = ?",
        core.crypto.sha256_hex(bytes))
      assert.equal(1, rows[1].n)
    end)

    it("enforces the quota from the policy", function()
      local copy = server_helper.temp_dir()
      assert(os.execute("cp -r lua config " .. copy .. "/"))
      local f = assert(io.open(copy .. "/config/policy.lua", "w"))
      f:write("return { quota_bytes = 10000 }")
      f:close()
      local small = server_helper.start({ env = { LUA_DIR = copy .. "/lua", CONFIG_DIR = copy .. "/config" } })
      local carol = api.signup(small)
      local ok = library.create(small, carol, library.jpeg(6000))
      assert.equal(201, ok.status)
      local over = library.create(small, carol, library.jpeg(6000))
      assert.equal(413, over.status)
      assert.equal("quota_exceeded", over.json().error.code)
      small.stop()
      os.execute("rm -rf " .. copy)
    end)
  end)

  describe("listing", function()
    local owner, ids

    setup(function()
      owner = api.signup(server)
      ids = {}
      for i = 1, 7 do
        local asset = library.upload(server, owner, library.jpeg(200 + i),
          { captured_at = string.format("2024-01-%02dT10:00:00Z", i) })
        ids[#ids + 1] = asset.id
      end
    end)

    it("pages newest first with an opaque cursor and no overlap", function()
      local seen, cursor = {}, nil
      repeat
        local res = get(owner, "/api/v1/assets?limit=3" .. (cursor and ("&cursor=" .. cursor) or ""))
        assert.equal(200, res.status)
        local body = res.json()
        for _, item in ipairs(body.items) do
          seen[#seen + 1] = item
        end
        cursor = body.next_cursor
      until not cursor
      assert.equal(7, #seen)
      for i = 2, #seen do
        assert.is_true(seen[i - 1].captured_at > seen[i].captured_at)
      end
      assert.equal(ids[7], seen[1].id)
    end)

    it("never serves a cached page after the library changed", function()
      local fresh = api.signup(server)
      local a = library.upload(server, fresh, library.jpeg(900))
      for _ = 1, 3 do   -- answered from the page cache after the first time
        assert.equal(1, #get(fresh, "/api/v1/assets").json().items)
      end
      local b = library.upload(server, fresh, library.jpeg(901))
      assert.equal(2, #get(fresh, "/api/v1/assets").json().items)
      call(fresh, "DELETE", "/api/v1/assets/" .. a.id)
      local items = get(fresh, "/api/v1/assets").json().items
      assert.equal(1, #items)
      assert.equal(b.id, items[1].id)
      -- a change made straight in the database is seen too (the triggers keep the version)
      core.db.exec("UPDATE assets SET original_filename = 'renamed.jpg' WHERE id = ?", b.id)
      assert.equal("renamed.jpg", get(fresh, "/api/v1/assets").json().items[1].original_filename)
    end)

    it("describes an asset the same way in a listing and on its own", function()
      local item = get(owner, "/api/v1/assets?limit=1").json().items[1]
      local alone = get(owner, "/api/v1/assets/" .. item.id).json().asset
      -- on its own it also names its tags and albums
      assert.same({ {}, {} }, { alone.tags, alone.album_ids })
      alone.tags, alone.album_ids = nil, nil
      assert.same(alone, item)
      -- HEAD answers like GET, without a body
      local head = server.request("HEAD", "/api/v1/assets/" .. item.id, { headers = api.bearer(owner.token) })
      assert.equal(200, head.status)
    end)

    it("takes photos from before 1970 (old scans) and dates that far back", function()
      local scan = library.upload(server, owner, library.jpeg(950), { captured_at = "1965-06-01T12:00:00Z" })
      assert.equal("1965-06-01T12:00:00.000Z", scan.captured_at)
      local res = get(owner, "/api/v1/assets?from=1960-01-01&to=1966-01-01")
      assert.equal(200, res.status)
      assert.equal(scan.id, res.json().items[1].id)
      call(owner, "DELETE", "/api/v1/assets/" .. scan.id)
      call(owner, "DELETE", "/api/v1/assets/" .. scan.id .. "/purge")
    end)

    it("filters by type and dates", function()
      local res = get(owner, "/api/v1/assets?type=video").json()
      assert.equal(0, #res.items)
      res = get(owner, "/api/v1/assets?from=2024-01-03&to=2024-01-05").json()
      assert.equal(2, #res.items)
    end)

    it("refuses tampered, foreign and garbage cursors with 400 invalid_cursor (I6)", function()
      local cursor = get(owner, "/api/v1/assets?limit=2").json().next_cursor
      local flipped = cursor:sub(1, 3) .. (cursor:sub(4, 4) == "A" and "B" or "A") .. cursor:sub(5)
      for _, bad in ipairs({ flipped, "garbage", string.rep("A", 400) .. ".x" }) do
        local res = get(owner, "/api/v1/assets?cursor=" .. bad)
        assert.equal(400, res.status)
        assert.equal("invalid_cursor", res.json().error.code)
      end
      -- alice cannot use the owner's cursor
      local res = get(alice, "/api/v1/assets?cursor=" .. cursor)
      assert.equal(400, res.status)
      -- nor on another listing of the same user
      assert.equal(400, get(owner, "/api/v1/assets?trashed=true&cursor=" .. cursor).status)
    end)

    it("rejects bad limits and unknown parameters", function()
      assert.equal(400, get(owner, "/api/v1/assets?limit=0").status)
      assert.equal(400, get(owner, "/api/v1/assets?limit=501").status)
      assert.equal(400, get(owner, "/api/v1/assets?sort=id;DROP").status)
    end)
  end)

  describe("trash", function()
    it("trashes, restores, purges and empties, and the trash lists what is in it", function()
      local a = library.upload(server, alice, library.jpeg(300))
      local b = library.upload(server, alice, library.jpeg(301))
      assert.equal(204, call(alice, "DELETE", "/api/v1/assets/" .. a.id).status)
      local trash = get(alice, "/api/v1/assets?trashed=true").json().items
      assert.equal(a.id, trash[1].id)
      assert.is_string(trash[1].deleted_at)
      for _, item in ipairs(get(alice, "/api/v1/assets?limit=500").json().items) do
        assert.not_equal(a.id, item.id)
      end
      assert.equal(204, call(alice, "POST", "/api/v1/assets/" .. a.id .. "/restore").status)
      -- purge needs the trash first
      assert.equal(409, call(alice, "DELETE", "/api/v1/assets/" .. b.id .. "/purge").status)
      call(alice, "DELETE", "/api/v1/assets/" .. b.id)
      assert.equal(204, call(alice, "DELETE", "/api/v1/assets/" .. b.id .. "/purge").status)
      assert.equal(204, call(alice, "DELETE", "/api/v1/assets/" .. b.id .. "/purge").status)
      assert.equal(404, get(alice, "/api/v1/assets/" .. b.id).status)
      call(alice, "DELETE", "/api/v1/assets/" .. a.id)
      local emptied = call(alice, "POST", "/api/v1/assets/trash/empty")
      assert.equal(200, emptied.status)
      assert.is_true(emptied.json().changed >= 1)
      assert.equal(0, #get(alice, "/api/v1/assets?trashed=true").json().items)
    end)

    it("applies bulk actions to all or none (A2)", function()
      local mine = library.upload(server, alice, library.jpeg(400))
      local theirs = library.upload(server, bob, library.jpeg(401))
      local res = call(alice, "POST", "/api/v1/assets/bulk", { action = "trash", ids = { mine.id, theirs.id } })
      assert.equal(404, res.status)
      assert.is_nil(get(alice, "/api/v1/assets/" .. mine.id).json().asset.deleted_at)
      assert.is_nil(get(bob, "/api/v1/assets/" .. theirs.id).json().asset.deleted_at)
      res = call(alice, "POST", "/api/v1/assets/bulk", { action = "trash", ids = { mine.id } })
      assert.equal(200, res.status)
      assert.equal(1, res.json().changed)
    end)
  end)

  describe("other users' objects (A1, A10)", function()
    it("answer 404 on every route, the same as a missing id, and change nothing", function()
      local asset = library.upload(server, alice, library.jpeg(500))
      local missing = "01900000-0000-7000-8000-000000000000"
      for _, id in ipairs({ asset.id, missing, "not-a-uuid", "../../etc/passwd" }) do
        for _, probe in ipairs({
          { "GET", "/api/v1/assets/" .. id },
          { "DELETE", "/api/v1/assets/" .. id },
          { "POST", "/api/v1/assets/" .. id .. "/restore" },
          { "GET", "/api/v1/assets/" .. id .. "/download-url" },
          { "GET", "/api/v1/assets/" .. id .. "/stream-url" },
          { "GET", "/api/v1/uploads/" .. id .. "/parts" },
          { "POST", "/api/v1/uploads/" .. id .. "/abort" },
          { "POST", "/api/v1/uploads/" .. id .. "/finalize" },
        }) do
          local res = call(bob, probe[1], probe[2], probe[1] == "POST" and probe[2]:find("finalize") and {} or nil)
          assert.equal(404, res.status, probe[1] .. " " .. probe[2])
        end
      end
      assert.equal("ready", get(alice, "/api/v1/assets/" .. asset.id).json().asset.status)
      assert.is_nil(get(alice, "/api/v1/assets/" .. asset.id).json().asset.deleted_at)
    end)

    it("stops serving a purged asset's bytes at once (A10)", function()
      local asset = library.upload(server, alice, library.jpeg(600))
      local url = get(alice, "/api/v1/assets/" .. asset.id .. "/download-url").json().url
      call(alice, "DELETE", "/api/v1/assets/" .. asset.id)
      call(alice, "DELETE", "/api/v1/assets/" .. asset.id .. "/purge")
      assert.equal(404, library.fetch(server, "GET", url).status)
      assert.equal(404, get(alice, "/api/v1/assets/" .. asset.id .. "/download-url").status)
    end)
  end)

  describe("signed URLs", function()
    it("carry the original filename safely in Content-Disposition (F1)", function()
      local asset = library.upload(server, alice, library.jpeg(700),
        { filename = '../../etc/pa"ss\r\nwd\u{202e}gpj.jpg' })
      local _, res = library.download(server, alice, asset.id)
      local disposition = res.headers["content-disposition"]
      assert.is_nil(disposition:find("\r", 1, true))
      assert.is_nil(disposition:find("/", 1, true))
      assert.matches("filename%*=UTF%-8''", disposition)
      assert.equal('../../etc/pa"ss\r\nwd\u{202e}gpj.jpg', get(alice, "/api/v1/assets/" .. asset.id).json().asset.original_filename)
    end)

    it("stream with Range (206) inline", function()
      local bytes = library.jpeg(10000)
      local asset = library.upload(server, alice, bytes)
      local url = get(alice, "/api/v1/assets/" .. asset.id .. "/stream-url").json().url
      local res = library.fetch(server, "GET", url, { headers = { Range = "bytes=100-199" } })
      assert.equal(206, res.status)
      assert.equal(bytes:sub(101, 200), res.body)
      assert.matches("inline", res.headers["content-disposition"])
    end)

    it("are refused when tampered with", function()
      local asset = library.upload(server, alice, library.jpeg(800))
      local url = get(alice, "/api/v1/assets/" .. asset.id .. "/download-url").json().url
      local tampered = url:gsub("([Ss]ignature=)(.)", function(prefix, c)
        return prefix .. (c == "a" and "b" or "a")
      end):gsub("(sig=)(.)", function(prefix, c)
        return prefix .. (c == "a" and "b" or "a")
      end)
      assert.equal(403, library.fetch(server, "GET", tampered).status)
    end)
  end)

  describe("usage", function()
    it("counts bytes and items per user", function()
      local fresh = api.signup(server)
      library.upload(server, fresh, library.jpeg(1234))
      local usage = get(fresh, "/api/v1/me/usage").json()
      assert.equal(1234, usage.used_bytes)
      assert.equal(1, usage.photos)
      assert.equal(0, usage.videos)
      assert.equal(30, usage.trash_retention_days)
    end)
  end)

  describe("many clients", function()
    it("finishes 150 uploads from 8 concurrent clients, all ready", function()
      local account = api.signup(server)
      local procs = {}
      for worker = 1, 8 do
        local command = string.format(
          "env PORT=%d TOKEN=%s COUNT=%d WORKER=%d %s run spec/helpers/upload_worker.lua 2>&1",
          server.port, account.token, worker <= 6 and 19 or 18, worker,
          os.getenv("ITCLOUD_RUNNER") or "bin/itcloud")
        procs[worker] = io.popen(command)
      end
      local outputs = {}
      for worker, proc in ipairs(procs) do
        outputs[worker] = proc:read("*a")
        proc:close()
      end
      local ready = 0
      for _, out in ipairs(outputs) do
        ready = ready + tonumber(out:match("ready=(%d+)") or 0)
      end
      assert.equal(150, ready, table.concat(outputs, "\n"))
      local usage = get(account, "/api/v1/me/usage").json()
      assert.equal(150, usage.photos)
    end)
  end)
end)
