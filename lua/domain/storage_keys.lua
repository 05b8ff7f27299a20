--- Storage keys: server-generated, never from a client's filename (ARCHITECTURE.md
-- section 5). Originals u/{user}/o/{yyyy}/{mm}/{asset}{ext}; thumbnails t/, previews
-- v/, posters p/; uploads land under staging/ until finalize moves them.
local M = {}

-- The year and month of an RFC 3339 time; raises (at the caller of the public
-- function) on anything else, so no key is ever filed under "nil/".
local function year_month(iso)
  local year, month = tostring(iso):match("^(%d%d%d%d)%-(%d%d)%-%d%dT")
  if not year then
    error("storage_keys: created_at must be RFC 3339, got " .. tostring(iso), 3)
  end
  return year, month
end

--- The key of an original. `created_at` is the upload time (RFC 3339).
function M.original(user_id, asset_id, created_at, ext)
  local year, month = year_month(created_at)
  return string.format("u/%s/o/%s/%s/%s%s", user_id, year, month, asset_id, ext)
end

--- The key a single-PUT upload is written to before finalize.
function M.staging(user_id, asset_id)
  return string.format("staging/%s/%s", user_id, asset_id)
end

--- The key of a derivative: kind "thumb" (t/), "preview" (v/) or "poster" (p/).
function M.derivative(kind, user_id, asset_id, created_at)
  local folder = ({ thumb = "t", preview = "v", poster = "p" })[kind]
  if not folder then
    error("storage_keys.derivative: unknown kind " .. tostring(kind), 2)
  end
  local year, month = year_month(created_at)
  return string.format("u/%s/%s/%s/%s/%s.jpg", user_id, folder, year, month, asset_id)
end

return M
