-- The /blobs/ endpoint against a real server: signed PUT, GET and HEAD of local-store
-- objects, ranges, ETags, every way a signed URL can be bent (SECURITY.md A11, F1, F4,
-- H6), uploads streamed to disk with flat memory, and no partial file when a client
-- goes away. URLs are signed here with the shared JWT_SECRET (helpers/blobs.lua).
local blobs = require("helpers.blobs")
local http = require("helpers.http")
local server_helper = require("helpers.server")
local socket = require("socket")

-- Deterministic bytes: a 64 KB random block, each 64 KB piece stamped with its index so
-- that misplaced pieces show.
local BLOCK = (function()
  local parts = {}
  for i = 1, 64 do
    parts[i] = core.crypto.random_bytes(1024)
  end
  return table.concat(parts)
end)()

local function bytes_at(offset, n)
  local parts, done = {}, 0
  while done < n do
    local at = offset + done
    local piece = at // #BLOCK
    local within = at % #BLOCK
    local stamped = string.pack(">I4", piece) .. BLOCK:sub(5)
    local take = math.min(#BLOCK - within, n - done)
    parts[#parts + 1] = stamped:sub(within + 1, within + take)
    done = done + take
  end
  return table.concat(parts)
end

local function shell_quote(value)
  return "'" .. tostring(value):gsub("'", "'\\''") .. "'"
end

local function list_dir(path)
  local handle = assert(io.popen("ls -A " .. shell_quote(path) .. " 2>/dev/null"))
  local names = {}
  for line in handle:lines() do
    names[#names + 1] = line
  end
  handle:close()
  return names
end

local function temp_files(path)
  local found = {}
  for _, name in ipairs(list_dir(path)) do
    if name:find("^%.tmp%-") then
      found[#found + 1] = name
    end
  end
  return found
end

local function rss_kb(pid)
  local file = io.open("/proc/" .. pid .. "/status", "r")
  if not file then
    return nil
  end
  local text = file:read("*a")
  file:close()
  return tonumber(text:match("VmRSS:%s*(%d+)"))
end

describe("/blobs/ (local store)", function()
  local server, media

  setup(function()
    assert(os.getenv("JWT_SECRET"), "blobs_spec signs URLs with JWT_SECRET: export it (scripts/test-all does)")
    server = server_helper.start({
      -- a blob PUT must outlive the absolute body deadline; the idle timeout still applies
      env = { BODY_TIMEOUT_SECONDS = 1, IDLE_TIMEOUT_SECONDS = 2, LOG_LEVEL = "warn" },
    })
    media = server.data_dir .. "/media"
  end)

  teardown(function()
    server.stop()
  end)

  local function put(key, body, content_type, headers)
    content_type = content_type or "application/octet-stream"
    local url = blobs.presign("PUT", key, { content_type = content_type, content_length = #body })
    local all = { ["Content-Type"] = content_type }
    for name, value in pairs(headers or {}) do
      all[name] = value
    end
    return server.request("PUT", url, { headers = all, body = body })
  end

  local function get(key, opts, headers, method)
    return server.request(method or "GET", blobs.presign("GET", key, opts), { headers = headers })
  end

  local function assert_blob_headers(res)
    assert.equal("nosniff", res.headers["x-content-type-options"])
    assert.equal("sandbox; default-src 'none'", res.headers["content-security-policy"])
  end

  local function assert_json_error(res, status, code)
    assert.equal(status, res.status, res.body)
    local body = res.json()
    assert.is_table(body, "not JSON: " .. res.body)
    assert.equal(code, body.error.code)
    assert.is_string(body.error.message)
    assert_blob_headers(res)
  end

  describe("round trips", function()
    for _, case in ipairs({ { "0 B", 0 }, { "1 B", 1 }, { "1 MB", 1024 * 1024 } }) do
      it("PUT then GET gives back identical bytes (" .. case[1] .. ")", function()
        local body = bytes_at(7, case[2])
        local key = "rt/" .. case[2] .. ".bin"
        local res = put(key, body, "image/jpeg")
        assert.equal(200, res.status, res.body)
        assert.equal("", res.body)
        local etag = res.headers["etag"]
        assert.matches('^"[0-9a-f]+%-[0-9a-f]+%-[0-9a-f]+"$', etag)
        assert_blob_headers(res)

        local got = get(key, { content_type = "image/jpeg" })
        assert.equal(200, got.status)
        assert.equal(#body, #got.body)
        assert.is_true(got.body == body, "bytes differ")
        assert.equal(tostring(case[2]), got.headers["content-length"])
        assert.equal("image/jpeg", got.headers["content-type"])
        assert.equal(etag, got.headers["etag"])
        assert.equal("bytes", got.headers["accept-ranges"])
        assert_blob_headers(got)
      end)
    end

    it("streams a 20 MB body to disk as it arrives, past the absolute body deadline", function()
      local total = 20 * 1024 * 1024
      local url = blobs.presign("PUT", "big/twenty", { content_type = "video/mp4", content_length = total })
      local saw_temp_file, started = false, socket.gettime()
      local res = blobs.stream_put(server.port, url, "video/mp4", total, bytes_at, {
        chunk_size = 1024 * 1024,
        pause = 0.08,           -- about 1.7 s in all, longer than BODY_TIMEOUT_SECONDS = 1
        on_progress = function(sent)
          if sent == 10 * 1024 * 1024 then
            socket.sleep(0.1)
            saw_temp_file = #temp_files(media .. "/big") == 1
          end
        end,
      })
      assert.is_true(socket.gettime() - started > 1.2)
      assert.equal(200, res.status, res.body)
      assert.is_true(saw_temp_file, "no temp file while the body was arriving")
      assert.same({}, temp_files(media .. "/big"))

      local got = get("big/twenty", { content_type = "video/mp4" })
      assert.equal(200, got.status)
      assert.equal(total, #got.body)
      assert.equal(core.crypto.sha256_hex(bytes_at(0, total)), core.crypto.sha256_hex(got.body))
    end)

    it("answers HEAD with the headers of a GET and no body", function()
      local body = bytes_at(0, 1000)
      assert.equal(200, put("head/one", body).status)
      local res = get("head/one", { content_type = "image/png" }, nil, "HEAD")
      assert.equal(200, res.status)
      assert.equal("1000", res.headers["content-length"])
      assert.equal("image/png", res.headers["content-type"])
      assert.equal("", res.body)
      assert_blob_headers(res)
      local own = server.request("HEAD", blobs.presign("HEAD", "head/one"))
      assert.equal(200, own.status)
    end)

    it("answers 404 for a key that does not exist, with a valid signature", function()
      assert_json_error(get("nothing/here"), 404, "not_found")
      assert_json_error(get("head"), 404, "not_found") -- a directory is no object
    end)

    it("replaces an object on a second PUT, with a new ETag", function()
      local first = put("again/x", "one")
      local second = put("again/x", "second")
      assert.equal(200, second.status)
      assert.are_not.equal(first.headers["etag"], second.headers["etag"])
      assert.equal("second", get("again/x").body)
    end)
  end)

  describe("ranges and validators (H6)", function()
    local body = bytes_at(0, 10000)

    setup(function()
      assert.equal(200, put("range/obj", body).status)
    end)

    it("serves bytes=a-b, a- and -n as 206 with Content-Range", function()
      local res = get("range/obj", nil, { Range = "bytes=10-19" })
      assert.equal(206, res.status)
      assert.equal("bytes 10-19/10000", res.headers["content-range"])
      assert.equal(body:sub(11, 20), res.body)

      res = get("range/obj", nil, { Range = "bytes=9990-" })
      assert.equal(206, res.status)
      assert.equal("bytes 9990-9999/10000", res.headers["content-range"])
      assert.equal(body:sub(9991), res.body)

      res = get("range/obj", nil, { Range = "bytes=-25" })
      assert.equal(206, res.status)
      assert.equal("bytes 9975-9999/10000", res.headers["content-range"])
      assert.equal(body:sub(-25), res.body)

      res = get("range/obj", nil, { Range = "bytes=9000-999999999999999999999" })
      assert.equal(206, res.status)
      assert.equal("bytes 9000-9999/10000", res.headers["content-range"])

      res = get("range/obj", nil, { Range = "bytes=-999999" })
      assert.equal(206, res.status)
      assert.equal("bytes 0-9999/10000", res.headers["content-range"])
      assert_blob_headers(res)
    end)

    it("answers 416 with bytes */size to an unsatisfiable range", function()
      for _, range in ipairs({ "bytes=10000-", "bytes=20000-30000", "bytes=-0", "bytes=50-10" }) do
        local res = get("range/obj", nil, { Range = range })
        assert.equal(416, res.status, range)
        assert.equal("bytes */10000", res.headers["content-range"])
        assert_blob_headers(res)
      end
    end)

    it("serves the whole object (200) to multi-range and malformed Range headers", function()
      for _, range in ipairs({ "bytes=0-1,5-6", "bytes=0-9999,0-9999,0-9999", "items=0-1", "bytes=abc",
        "bytes=1-2-3", "bytes=" }) do
        local res = get("range/obj", nil, { Range = range })
        assert.equal(200, res.status, range)
        assert.equal(10000, #res.body)
        assert.is_nil(res.headers["content-range"])
      end
    end)

    it("answers 304 to a matching If-None-Match and 200 otherwise", function()
      local etag = get("range/obj").headers["etag"]
      local res = get("range/obj", nil, { ["If-None-Match"] = etag })
      assert.equal(304, res.status)
      assert.equal("", res.body)
      assert.equal(etag, res.headers["etag"])
      assert_blob_headers(res)
      assert.equal(304, get("range/obj", nil, { ["If-None-Match"] = '"x", W/' .. etag }).status)
      assert.equal(304, get("range/obj", nil, { ["If-None-Match"] = "*" }).status)
      assert.equal(200, get("range/obj", nil, { ["If-None-Match"] = '"nope"' }).status)
    end)

    it("ignores Range when If-Range names another version", function()
      local res = get("range/obj", nil, { Range = "bytes=0-1", ["If-Range"] = '"old"' })
      assert.equal(200, res.status)
      local etag = get("range/obj").headers["etag"]
      res = get("range/obj", nil, { Range = "bytes=0-1", ["If-Range"] = etag })
      assert.equal(206, res.status)
    end)

    it("sets Cache-Control private with the remaining validity", function()
      local res = get("range/obj", { ttl = 120 })
      local age = tonumber(res.headers["cache-control"]:match("^private, max%-age=(%d+)$"))
      assert.is_true(age ~= nil and age <= 120 and age >= 115, res.headers["cache-control"])
    end)
  end)

  describe("signed URLs (A11)", function()
    setup(function()
      assert.equal(200, put("signed/obj", "payload", "text/plain").status)
    end)

    it("refuses an expired URL with 403", function()
      local url = blobs.url(blobs.fields("GET", "signed/obj", { now = os.time() - 600, ttl = 60 }))
      assert_json_error(server.request("GET", url), 403, "forbidden")
      local put_url = blobs.url(blobs.fields("PUT", "signed/obj",
        { now = os.time() - 600, ttl = 60, content_type = "text/plain", content_length = 3 }))
      assert_json_error(server.request("PUT", put_url,
        { headers = { ["Content-Type"] = "text/plain" }, body = "new" }), 403, "forbidden")
      assert.equal("payload", get("signed/obj").body)
    end)

    it("refuses every tampered, added, repeated or dropped parameter with 403", function()
      local fields = blobs.fields("GET", "signed/obj", { content_type = "image/jpeg", filename = "a.jpg" })
      assert.equal(200, server.request("GET", blobs.url(fields)).status)
      local cases = {
        { key = "signed/other" },
        { key = "signed/obj/" },
        { key = "signed/./obj" },
        { key = "signed/../signed/obj" },
        { key = "signed/ob%00j" },
        { exp = tostring(tonumber(fields.exp) + 3600) },
        { exp = "0" .. fields.exp },
        { ct = "text/html" },
        { fn = "a.html" },
        { disp = "inline" },
        { sig = (blobs.sign(fields):sub(1, 1) == "A" and "B" or "A") .. blobs.sign(fields):sub(2) },
        { sig = blobs.sign(fields):sub(1, 42) },
        { sig = false },
        { ct = false },
        { fn = false },
        { disp = false },
        { extra = "cl=5" },
        { extra = "foo=bar" },
        { extra = "ct=text%2Fhtml" },
        { extra = "sig=" .. blobs.sign(fields) },
        { extra = "fn%00=x" },
        { fn = "a.jpg\0.html" },
      }
      for i, overrides in ipairs(cases) do
        local res = server.request("GET", blobs.url(fields, overrides))
        assert.equal(403, res.status, "case " .. i .. " answered " .. res.status)
        assert_blob_headers(res)
      end
      local res = server.request("GET", "/blobs/signed/obj")
      assert_json_error(res, 403, "forbidden")
    end)

    it("lets a %00 in the path only end the key at the signed one (MHD decodes the path)", function()
      assert.equal(200, put("signed/other", "other", "text/plain").status)
      local fields = blobs.fields("GET", "signed/obj")
      local res = server.request("GET", blobs.url(fields, { key = "signed/obj%00/../other" }))
      assert.equal(200, res.status)
      assert.equal("payload", res.body)
    end)

    it("does not depend on the order of the parameters", function()
      local fields = blobs.fields("GET", "signed/obj", { filename = "x.txt" })
      local query = { "sig=" .. blobs.sign(fields), "disp=attachment", "fn=x.txt", "ct=application%2Foctet-stream",
        "exp=" .. fields.exp }
      assert.equal(200, server.request("GET", "/blobs/signed/obj?" .. table.concat(query, "&")).status)
    end)

    it("binds the method: GET URLs cannot PUT, PUT URLs cannot GET", function()
      local get_url = blobs.presign("GET", "signed/obj", { content_type = "text/plain" })
      assert_json_error(server.request("PUT", get_url,
        { headers = { ["Content-Type"] = "text/plain" }, body = "evil" }), 403, "forbidden")
      local put_url = blobs.presign("PUT", "signed/obj", { content_type = "text/plain", content_length = 4 })
      assert_json_error(server.request("GET", put_url), 403, "forbidden")
      assert.equal(403, server.request("HEAD", put_url).status)
      local head_url = blobs.presign("HEAD", "signed/obj")
      assert_json_error(server.request("GET", head_url), 403, "forbidden")
      local res = server.request("DELETE", get_url)
      assert.equal(405, res.status)
      assert.equal("payload", get("signed/obj").body)
    end)

    it("refuses a PUT with another Content-Type or length than signed (403), or chunked (411)", function()
      local url = blobs.presign("PUT", "signed/up", { content_type = "image/png", content_length = 5 })
      local function attempt(headers, body)
        return server.request("PUT", url, { headers = headers, body = body })
      end
      assert_json_error(attempt({ ["Content-Type"] = "text/html" }, "hello"), 403, "forbidden")
      assert_json_error(attempt({ ["Content-Type"] = "image/png; charset=x" }, "hello"), 403, "forbidden")
      assert_json_error(attempt({}, "hello"), 403, "forbidden")
      assert_json_error(attempt({ ["Content-Type"] = "image/png" }, "hell"), 403, "forbidden")
      assert_json_error(attempt({ ["Content-Type"] = "image/png" }, "hello!"), 403, "forbidden")
      local chunked = http.parse((http.raw(server.port, "PUT " .. url .. " HTTP/1.1\r\nHost: x\r\n"
        .. "Content-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .. "5\r\nhello\r\n0\r\n\r\n")))
      assert_json_error(chunked, 411, "length_required")
      assert.equal(404, get("signed/up").status)
      assert.same({}, temp_files(media .. "/signed"))
      assert.equal(200, attempt({ ["Content-Type"] = "image/png" }, "hello").status)
      assert.equal("hello", get("signed/up").body)
    end)
  end)

  describe("serving user content (F1, F4)", function()
    it("builds a safe Content-Disposition from a hostile filename", function()
      assert.equal(200, put("hostile/file", "<script>alert(1)</script>", "text/html").status)
      local name = '../../etc/passwd"\r\nSet-Cookie: pwned=1\r\n\\x\u{202E}gpj.exe'
      local res = get("hostile/file", { content_type = "text/html", filename = name })
      assert.equal(200, res.status)
      assert.equal("attachment; filename=\"etcpasswdSet-Cookie: pwned=1xgpj.exe\"; "
        .. "filename*=UTF-8''etcpasswdSet-Cookie%3A%20pwned%3D1xgpj.exe", res.headers["content-disposition"])
      assert.is_nil(res.headers["set-cookie"])
      assert_blob_headers(res)

      local long = string.rep("\u{6587}", 300) .. ".jpg"
      res = get("hostile/file", { filename = long, disposition = "inline" })
      assert.equal(200, res.status)
      local disposition = res.headers["content-disposition"]
      assert.matches("^inline; filename=\"_+%.jpg\"; filename%*=UTF%-8''[%%0-9A-F]+%.jpg$", disposition)
      assert.is_true(#disposition < 1024)
    end)

    it("serves HTML as the signed type, sandboxed and never sniffed", function()
      local res = get("hostile/file", { content_type = "text/html", disposition = "inline" })
      assert.equal(200, res.status)
      assert.equal("text/html", res.headers["content-type"])
      assert.equal("inline", res.headers["content-disposition"])
      assert_blob_headers(res)
      assert.equal("no-referrer", res.headers["referrer-policy"])
      assert.is_string(res.headers["x-request-id"])
    end)
  end)

  describe("failures leave nothing behind", function()
    it("removes the temp file when a client disconnects mid-upload", function()
      local total = 4 * 1024 * 1024
      local url = blobs.presign("PUT", "gone/half", { content_type = "video/mp4", content_length = total })
      local res = blobs.stream_put(server.port, url, "video/mp4", total, bytes_at,
        { chunk_size = 64 * 1024, stop_after = 1024 * 1024 })
      assert.is_nil(res)
      local left
      for _ = 1, 100 do
        left = temp_files(media .. "/gone")
        if #left == 0 then
          break
        end
        socket.sleep(0.02)
      end
      assert.same({}, left)
      assert.equal(404, get("gone/half").status)
    end)

    it("lets the idle timeout cut a stalled upload, and removes its temp file", function()
      local total = 1024 * 1024
      local url = blobs.presign("PUT", "stall/one", { content_type = "video/mp4", content_length = total })
      local conn = assert(socket.tcp())
      conn:settimeout(10)
      assert(conn:connect("127.0.0.1", server.port))
      conn:send("PUT " .. url .. " HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\nContent-Length: "
        .. total .. "\r\n\r\n" .. bytes_at(0, 1000))
      socket.sleep(0.3)
      assert.equal(1, #temp_files(media .. "/stall"))
      local data, err = conn:receive("*a")   -- the server closes after IDLE_TIMEOUT_SECONDS = 2
      conn:close()
      assert.equal("", data or "")
      assert.is_true(err == nil or err == "closed", tostring(err))
      local left
      for _ = 1, 100 do
        left = temp_files(media .. "/stall")
        if #left == 0 then
          break
        end
        socket.sleep(0.02)
      end
      assert.same({}, left)
      assert.equal(200, server.request("GET", "/healthz").status)
    end)
  end)

  describe("memory", function()
    it("keeps the server's RSS flat during a 200 MB PUT", function()
      local total = 200 * 1024 * 1024
      local url = blobs.presign("PUT", "mem/huge", { content_type = "video/mp4", content_length = total })
      local chunk = bytes_at(0, 1024 * 1024)
      local before = assert(rss_kb(server.pid), "cannot read the server's VmRSS")
      local peak = before
      local res = blobs.stream_put(server.port, url, "video/mp4", total, function(_, n)
        return n == #chunk and chunk or chunk:sub(1, n)
      end, {
        chunk_size = 1024 * 1024,
        on_progress = function(sent)
          if sent % (8 * 1024 * 1024) == 0 then
            peak = math.max(peak, rss_kb(server.pid) or 0)
          end
        end,
      })
      assert.equal(200, res.status, res.body)
      peak = math.max(peak, rss_kb(server.pid) or 0)
      print(string.format("# server VmRSS %d kB before, %d kB peak during a 200 MB PUT", before, peak))
      assert.is_true(peak - before < 16 * 1024,
        string.format("RSS grew by %d kB", peak - before))
      local head = server.request("HEAD", blobs.presign("GET", "mem/huge"))
      assert.equal(tostring(total), head.headers["content-length"])
      local tail = get("mem/huge", nil, { Range = "bytes=-16" })
      assert.equal(chunk:sub(-16), tail.body)
    end)
  end)
end)
