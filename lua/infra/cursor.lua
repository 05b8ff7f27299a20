--- Opaque page cursors: the position of the last row served, signed with a key of
-- their own and bound to the user and the listing they came from, so a cursor can be
-- neither forged, altered, nor replayed by someone else or on another listing.
local crypto = require("core.crypto")
local json = require("core.json")

local M = {}

local MAX_LENGTH = 512

local function mac(user_id, scope, payload)
  return crypto.base64url_encode(crypto.keyed_hmac("cursor", user_id .. "\n" .. scope .. "\n"
    .. payload):sub(1, 16))
end

--- Encode a position for `user_id` in the listing named `scope`.
-- @param position plain table of strings and numbers
function M.encode(user_id, scope, position)
  local payload = crypto.base64url_encode(json.encode(position))
  return payload .. "." .. mac(user_id, scope, payload)
end

--- Decode a cursor, checking its signature.
-- @return position | nil when the cursor is not valid for this user and scope
function M.decode(user_id, scope, cursor)
  if type(cursor) ~= "string" or #cursor > MAX_LENGTH then
    return nil
  end
  local payload, signature = cursor:match("^([%w%-_]+)%.([%w%-_]+)$")
  if not payload or not crypto.constant_time_equal(signature, mac(user_id, scope, payload)) then
    return nil
  end
  local text = crypto.base64url_decode(payload)
  local position = text and json.decode(text)
  if type(position) ~= "table" then
    return nil
  end
  return position
end

return M
