--- The hand-off from the library to media processing. Finalize calls asset_ready for
-- each asset that became ready; the media pipeline (thumbnails, previews, metadata)
-- plugs in here. Until it exists, nothing further happens to a ready asset.
local M = {}

--- Called once, after an asset became ready (inside finalize's transaction).
-- @return true | nil, err
function M.asset_ready(asset)
  return true
end

return M
