--- A small HTTP/1.1 client over LuaSocket for specs: one connection per request
-- (Connection: close), and raw access for malformed-request specs.
local socket = require("socket")

local M = {}

--- Send raw bytes and read one response: its head line by line, then Content-Length
-- bytes of body (or everything until the server closes when there is no length).
-- @return the response bytes (possibly empty), and why reading stopped
function M.raw(port, bytes, timeout)
  local conn = assert(socket.tcp())
  conn:settimeout(timeout or 5)
  assert(conn:connect("127.0.0.1", port))
  if bytes and #bytes > 0 then
    conn:send(bytes)
  end
  local lines, length = {}, nil
  while true do
    local line, err, partial = conn:receive("*l")
    if not line then
      conn:close()
      lines[#lines + 1] = partial
      return table.concat(lines, "\r\n"), err
    end
    lines[#lines + 1] = line
    length = length or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
    if line == "" then
      break
    end
  end
  local body, err, partial = conn:receive(length or "*a")
  conn:close()
  return table.concat(lines, "\r\n") .. "\r\n" .. (body or partial or ""), err or "complete"
end

--- Parse a raw HTTP response.
-- @return { status, headers (lower-case names; repeated ones joined by "\n"), body, json() }
function M.parse(raw)
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  if not head then
    return { status = 0, headers = {}, body = raw }
  end
  local status = tonumber(head:match("^HTTP/1%.%d (%d%d%d)"))
  local headers = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
    name = name:lower()
    headers[name] = headers[name] and (headers[name] .. "\n" .. value) or value
  end
  local res = { status = status, headers = headers, body = body }
  function res.json()
    return core.json.decode(body)
  end
  return res
end

-- The bytes of one request (options as for M.request).
local function encode_request(port, method, path, options)
  local headers = { Host = "127.0.0.1:" .. port, Connection = "close" }
  local body = options.body
  if options.json ~= nil then
    body = core.json.encode(options.json)
    headers["Content-Type"] = "application/json"
  end
  for name, value in pairs(options.headers or {}) do
    headers[name] = value
  end
  if body then
    headers["Content-Length"] = tostring(#body)
  end
  local lines = { method .. " " .. path .. " HTTP/1.1" }
  for name, value in pairs(headers) do
    if value ~= false then
      lines[#lines + 1] = name .. ": " .. value
    end
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

--- Make a request. options: headers (table), body (string), json (table, encoded
-- with Content-Type application/json), timeout.
-- @return response (see parse)
function M.request(port, method, path, options)
  options = options or {}
  return M.parse(M.raw(port, encode_request(port, method, path, options), options.timeout))
end

--- Send `count` copies of one request at once, each on its own connection, all sent
-- before any answer is read, so the server handles them side by side.
-- @return the status of each (0 when none came)
function M.burst(port, count, method, path, options)
  options = options or {}
  local bytes = encode_request(port, method, path, options)
  local conns = {}
  for i = 1, count do
    conns[i] = assert(socket.tcp())
    conns[i]:settimeout(options.timeout or 30)
    assert(conns[i]:connect("127.0.0.1", port))
  end
  for _, conn in ipairs(conns) do
    conn:send(bytes)
  end
  local statuses = {}
  for i, conn in ipairs(conns) do
    local line = conn:receive("*l")
    statuses[i] = tonumber(line and line:match("^HTTP/1%.%d (%d%d%d)")) or 0
    conn:close()
  end
  return statuses
end

return M
