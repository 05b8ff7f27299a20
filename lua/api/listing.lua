--- The query of every asset listing (the library, an album, an album share): cursor,
-- limit and the filters, which combine.
local s = require("api.schema")

local M = {}

--- A query schema with the listing fields plus `extra` ({ name = schema }).
function M.query(extra)
  local fields = {
    cursor = s.string({ max = 512 }),
    limit = s.integer({ min = 1, max = 500 }),
    type = s.string({ enum = { "photo", "video" } }),
    trashed = s.boolean({}),
    from = s.string({ max = 40, description = "Date or RFC 3339 date-time, inclusive" }),
    to = s.string({ max = 40, description = "Date or RFC 3339 date-time, exclusive" }),
    tag = s.string({ max = 200, description = "A tag name (case-insensitive)" }),
    favorite = s.boolean({ description = "true: favourites only" }),
  }
  for name, field in pairs(extra or {}) do
    fields[name] = field
  end
  return s.object(fields, {})
end

return M
