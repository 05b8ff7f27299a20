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

--- Make a request. options: headers (table), body (string), json (table, encoded
-- with Content-Type application/json), timeout.
-- @return response (see parse)
function M.request(port, method, path, options)
  options = options or {}
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
  local raw = M.raw(port, table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""), options.timeout)
  return M.parse(raw)
end

return M
