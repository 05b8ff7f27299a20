--- Library helpers for API specs: make media bytes, upload them the way a browser does
-- (create, PUT to the signed URL or the part URLs, finalize), and fetch signed URLs.
local http = require("helpers.http")
local api = require("helpers.api")

local M = {}

--- Bytes that sniff as a JPEG: the SOI/APP0 magic, then `size` bytes in all (random
-- tail, so each call gives a new sha256 unless `seed` repeats).
function M.jpeg(size, seed)
  size = size or 4096
  local head = "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
  local tail = core.crypto.random_bytes(math.min(1024, math.max(1, size - #head)))
  if seed then
    tail = core.crypto.sha256(seed)
  end
  local chunks = { head }
  local length = #head
  while length < size do
    local piece = tail:sub(1, size - length)
    chunks[#chunks + 1] = piece
    length = length + #piece
  end
  return table.concat(chunks):sub(1, size)
end

--- Send a request to a signed URL: relative ones go to the server itself.
function M.fetch(server, method, url, options)
  local host, port, path = url:match("^https?://([^/:]+):(%d+)(/.*)$")
  if not host then
    return server.request(method, url, options)
  end
  options = options or {}
  options.headers = options.headers or {}
  options.headers.Host = host .. ":" .. port
  return http.request(tonumber(port), method, path, options)
end

--- POST /uploads/create for `bytes`.
-- @return response
function M.create(server, account, bytes, fields)
  local body = {
    filename = "photo.jpg",
    content_type = "image/jpeg",
    size_bytes = #bytes,
    sha256 = core.crypto.sha256_hex(bytes),
  }
  for key, value in pairs(fields or {}) do
    body[key] = value
  end
  return server.request("POST", "/api/v1/uploads/create",
    { headers = api.bearer(account.token), json = body })
end

--- Send the bytes as the create answer says.
-- @return list of parts (for multipart), or nil
function M.send(server, upload, bytes, content_type)
  if upload.method == "PUT" then
    local res = M.fetch(server, "PUT", upload.url, { body = bytes,
      headers = { ["Content-Type"] = content_type or upload.headers["Content-Type"] } })
    assert(res.status == 200, "PUT failed: " .. res.status .. " " .. res.body)
    return nil
  end
  local parts = {}
  for _, part in ipairs(upload.parts) do
    local offset = (part.part_number - 1) * upload.part_size
    local res = M.fetch(server, "PUT", part.url, { body = bytes:sub(offset + 1, offset + part.size_bytes) })
    assert(res.status == 200, "part PUT failed: " .. res.status .. " " .. res.body)
    parts[#parts + 1] = { part_number = part.part_number, etag = res.headers.etag }
  end
  return parts
end

--- POST /uploads/{id}/finalize.
function M.finalize(server, account, asset_id, parts)
  return server.request("POST", "/api/v1/uploads/" .. asset_id .. "/finalize",
    { headers = api.bearer(account.token), json = { parts = parts } })
end

--- The whole flow; asserts success and returns the ready asset.
function M.upload(server, account, bytes, fields)
  local created = M.create(server, account, bytes, fields)
  assert(created.status == 201, "create failed: " .. created.status .. " " .. created.body)
  local body = created.json()
  local parts = M.send(server, body.upload, bytes, fields and fields.content_type)
  local done = M.finalize(server, account, body.asset.id, parts)
  assert(done.status == 200, "finalize failed: " .. done.status .. " " .. done.body)
  return done.json().asset
end

--- Download an asset's original through its signed URL.
-- @return bytes, response
function M.download(server, account, asset_id, kind)
  local res = server.request("GET", "/api/v1/assets/" .. asset_id .. "/download-url"
    .. (kind and ("?kind=" .. kind) or ""), { headers = api.bearer(account.token) })
  assert(res.status == 200, "download-url failed: " .. res.status .. " " .. res.body)
  local file = M.fetch(server, "GET", res.json().url, { timeout = 60 })
  return file.body, file
end

return M
