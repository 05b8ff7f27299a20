--- Signed /blobs/ URLs for specs, built exactly as localstore_presign builds them (the
-- canonical string is documented at the top of core/localstore.c; keep both in step).
-- The key comes from core.crypto.keyed_hmac("blob-url", ...), so this process needs the
-- server's JWT_SECRET: the test script exports it and the spec server inherits it.
local socket = require("socket")
local http = require("helpers.http")

local M = {}

-- The order of the signed fields; the URL carries the same values by name.
local FIELDS = { "method", "key", "exp", "ct", "cl", "fn", "disp" }

--- Percent-encode every byte outside A-Za-z0-9-._~ (as localstore.c does).
function M.encode(value)
  return (value:gsub("[^A-Za-z0-9%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

--- The string that is signed: "itcloud-blob-v1" then "\n" .. #value .. ":" .. value
-- for each field in FIELDS order.
function M.canonical(fields)
  local parts = { "itcloud-blob-v1" }
  for _, name in ipairs(FIELDS) do
    local value = fields[name] or ""
    parts[#parts + 1] = "\n" .. #value .. ":" .. value
  end
  return table.concat(parts)
end

--- The unpadded base64url HMAC of the fields.
function M.sign(fields)
  return core.crypto.base64url_encode(core.crypto.keyed_hmac("blob-url", M.canonical(fields)))
end

--- The fields localstore_presign signs. opts: ttl (300), now (os.time()), content_type,
-- content_length (PUT), filename, disposition ("attachment" | "inline", GET/HEAD).
function M.fields(method, key, opts)
  opts = opts or {}
  local fields = {
    method = method,
    key = key,
    exp = tostring((opts.now or os.time()) + (opts.ttl or 300)),
  }
  if method == "PUT" then
    fields.ct = assert(opts.content_type, "a PUT needs content_type")
    fields.cl = tostring(assert(opts.content_length, "a PUT needs content_length"))
  else
    fields.ct = opts.content_type or "application/octet-stream"
    fields.fn = opts.filename or ""
    fields.disp = opts.disposition or "attachment"
  end
  return fields
end

--- The URL for signed fields. overrides: values put in the URL instead of the signed
-- ones (key, exp, ct, cl, fn, disp, sig; false drops a parameter), and `extra`, raw
-- text appended to the query -- for tampering specs.
function M.url(fields, overrides)
  overrides = overrides or {}
  local sig = M.sign(fields)
  local function value(name)
    if overrides[name] == false then
      return nil
    end
    if overrides[name] ~= nil then
      return overrides[name]
    end
    if name == "sig" then
      return sig
    end
    return fields[name]
  end
  local names = fields.method == "PUT" and { "exp", "ct", "cl", "sig" }
    or { "exp", "ct", "fn", "disp", "sig" }
  local query = {}
  for _, name in ipairs(names) do
    local v = value(name)
    if v ~= nil then
      query[#query + 1] = name .. "=" .. M.encode(v)
    end
  end
  if overrides.extra then
    query[#query + 1] = overrides.extra
  end
  return "/blobs/" .. (overrides.key or fields.key) .. "?" .. table.concat(query, "&")
end

--- A URL as localstore_presign makes it.
function M.presign(method, key, opts)
  return M.url(M.fields(method, key, opts))
end

--- PUT a body sent in pieces, without holding it whole: next_chunk(offset, n) returns the
-- n bytes at offset; on_progress(sent) runs after each piece; options.pause sleeps that
-- many seconds after each piece; options.stop_after closes the connection once that many
-- bytes are sent (a client that goes away).
-- @return response (helpers.http.parse), or nil when stopped early
function M.stream_put(port, path, content_type, total, next_chunk, options)
  options = options or {}
  local conn = assert(socket.tcp())
  conn:settimeout(options.timeout or 60)
  assert(conn:connect("127.0.0.1", port))
  assert(conn:send(string.format("PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
    .. "Content-Type: %s\r\nContent-Length: %d\r\n\r\n", path, port, content_type, total)))
  local sent, chunk_size = 0, options.chunk_size or 256 * 1024
  while sent < total do
    if options.stop_after and sent >= options.stop_after then
      conn:close()
      return nil
    end
    local n = math.min(chunk_size, total - sent)
    local ok, err = conn:send(next_chunk(sent, n))
    if not ok then
      conn:close()
      error("send failed after " .. sent .. " bytes: " .. tostring(err))
    end
    sent = sent + n
    if options.on_progress then
      options.on_progress(sent)
    end
    if options.pause then
      socket.sleep(options.pause)
    end
  end
  local raw, err, partial = conn:receive("*a")
  conn:close()
  return http.parse(raw or partial or ""), err
end

return M
