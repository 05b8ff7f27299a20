--- Names people give things: album titles and tag names. Pure rules: surrounding
-- space is trimmed and runs of space inside become one, control characters are
-- refused, and tags compare case-insensitively (ASCII letters; other scripts compare
-- as written).
local M = {}

M.TITLE_MAX = 200
M.DESCRIPTION_MAX = 2000
M.TAG_MAX = 64

-- Trimmed, inner whitespace collapsed; nil, problem when empty, too long or holding
-- control characters.
local function clean(raw, max, what)
  if type(raw) ~= "string" then
    return nil, what .. " must be a string"
  end
  if raw:find("[%z\1-\8\11-\31\127]") then
    return nil, what .. " must not contain control characters"
  end
  local text = raw:gsub("%s+", " "):match("^ ?(.-) ?$")
  local length = utf8.len(text)
  if not length then
    return nil, what .. " must be valid UTF-8"
  end
  if length == 0 then
    return nil, what .. " must not be empty"
  end
  if length > max then
    return nil, string.format("%s must be at most %d characters long", what, max)
  end
  return text
end

--- An album title as stored.
-- @return title | nil, problem
function M.album_title(raw)
  return clean(raw, M.TITLE_MAX, "title")
end

--- A tag name as stored and the key it is found by ("Beach " and "beach" share one).
-- @return name, key | nil, problem
function M.tag(raw)
  local name, problem = clean(raw, M.TAG_MAX, "tag name")
  if not name then
    return nil, problem
  end
  return name, name:lower()
end

return M
