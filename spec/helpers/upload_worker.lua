-- One client of the concurrent-upload spec: uploads COUNT small JPEGs to the server on
-- PORT with TOKEN and prints "ready=N". Run with `itcloud run`.
package.path = "spec/?.lua;" .. package.path
local library = require("helpers.library")
local http = require("helpers.http")

local port = tonumber(os.getenv("PORT"))
local server = {
  request = function(method, path, options)
    return http.request(port, method, path, options)
  end,
}
local account = { token = os.getenv("TOKEN") }
local ready = 0
for i = 1, tonumber(os.getenv("COUNT")) do
  local ok, asset = pcall(library.upload, server, account,
    library.jpeg(3000 + i, os.getenv("WORKER") .. ":" .. i))
  if ok and asset.status == "ready" then
    ready = ready + 1
  elseif not ok then
    io.stderr:write(tostring(asset), "\n")
  end
end
print("ready=" .. ready)
