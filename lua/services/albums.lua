--- Albums: create, rename, describe, delete (the assets stay in the library), add and
-- remove assets all or nothing, choose a cover, list with counts and cover thumbnails.
local config = require("core.config")
local log = require("core.log")
local albums_repo = require("repositories.albums")
local assets = require("services.assets")
local clock = require("infra.clock")
local errors = require("domain.errors")
local ids = require("infra.ids")
local names = require("domain.names")
local repositories = require("repositories")

local M = {}

local MAX_ALBUMS = 1000

local function db_failure(what, err)
  log.error(what, { mod = "services.albums", err = err })
  return nil, errors.unavailable()
end

-- The cover: its asset id, placeholder and a short-lived thumbnail URL (none while
-- the thumbnail is not made yet).
local function cover_of(row)
  if not row.cover_id then
    return nil
  end
  local thumb = row.cover_thumb_key and assets.url_for({ status = "ready",
    storage_key_thumb = row.cover_thumb_key, original_filename = row.cover_filename },
    "thumb", "inline", config.signed_url_ttl_seconds)
  return { asset_id = row.cover_id, placeholder = row.cover_placeholder,
    thumb_url = thumb and thumb.url }
end

--- The owner's view of an album row (from the repository's summary).
function M.present(row)
  return {
    id = row.id,
    title = row.title,
    description = row.description,
    asset_count = row.asset_count,
    cover = cover_of(row),
    cover_asset_id = row.cover_asset_id,
    created_at = row.created_at,
    updated_at = row.updated_at,
  }
end

--- An album of the user.
-- @return row | nil, err (not_found | unavailable)
function M.get(user, album_id)
  local album, err = albums_repo.find_owned(album_id, user.id)
  if err then
    return db_failure("album lookup failed", err)
  end
  if not album then
    return nil, errors.not_found("album")
  end
  return album
end

--- The user's albums, newest first.
-- @return list of rows | nil, err
function M.list(user)
  local rows, err = albums_repo.list_owned(user.id, MAX_ALBUMS)
  if not rows then
    return db_failure("album list failed", err)
  end
  return rows
end

--- Create an album.
-- @param input { title, description? }
-- @return row | nil, err (validation_error | unavailable)
function M.create(user, input)
  local title, problem = names.album_title(input.title)
  if not title then
    return nil, errors.validation("title", problem)
  end
  local album = { id = ids.uuid(), owner_id = user.id, title = title,
    description = input.description or "", created_at = clock.iso() }
  local ok, err = albums_repo.insert(album)
  if not ok then
    return db_failure("album insert failed", err)
  end
  return M.get(user, album.id)
end

--- Change title, description or cover. cover_asset_id must be an asset of the album;
-- `cover_cleared` goes back to the newest asset.
-- @param input { title?, description?, cover_asset_id?, cover_cleared? }
-- @return row | nil, err (not_found | validation_error | unavailable)
function M.update(user, album_id, input)
  local album, err = M.get(user, album_id)
  if not album then
    return nil, err
  end
  local fields = { description = input.description }
  if input.title then
    local problem
    fields.title, problem = names.album_title(input.title)
    if not fields.title then
      return nil, errors.validation("title", problem)
    end
  end
  if input.cover_asset_id then
    local found, find_err = albums_repo.has_visible_asset(album.id, input.cover_asset_id)
    if found == nil then
      return db_failure("cover lookup failed", find_err)
    end
    if not found then
      return nil, errors.not_found("asset")
    end
    fields.cover_asset_id = input.cover_asset_id
  elseif input.cover_cleared then
    fields.cover_asset_id = false
  end
  local count, update_err = albums_repo.update(album.id, user.id, fields, clock.iso())
  if not count then
    return db_failure("album update failed", update_err)
  end
  return M.get(user, album.id)
end

--- Delete an album; its assets stay in the library.
-- @return true | nil, err (not_found | unavailable)
function M.delete(user, album_id)
  local count, err = albums_repo.delete(album_id, user.id)
  if not count then
    return db_failure("album delete failed", err)
  end
  if count == 0 then
    return nil, errors.not_found("album")
  end
  return true
end

-- Adds ("add") or removes ("remove") assets, after checking every id.
local function change_assets(user, album_id, asset_ids, how)
  local album, err = M.get(user, album_id)
  if not album then
    return nil, err
  end
  local list
  list, err = assets.get_all(user, asset_ids)
  if not list then
    return nil, err
  end
  local checked = {}
  for i, asset in ipairs(list) do
    if how == "add" and asset.status ~= "ready" then
      return nil, errors.conflict("not_ready", "only stored assets can be added to an album")
    end
    checked[i] = asset.id
  end
  local now_iso = clock.iso()
  local count, change_err = repositories.transaction(function()
    local n, step_err
    if how == "add" then
      n, step_err = albums_repo.add_assets(album.id, user.id, checked, now_iso)
    else
      n, step_err = albums_repo.remove_assets(album.id, checked)
    end
    if not n then
      return nil, step_err
    end
    if n > 0 then
      local ok, touch_err = albums_repo.touch(album.id, user.id, now_iso)
      if not ok then
        return nil, touch_err
      end
    end
    return n
  end)
  if not count then
    return db_failure("album " .. how .. " failed", change_err)
  end
  return { changed = count }
end

--- Add assets to an album, all or nothing: every id must be one of the user's stored
-- assets. Assets already in the album stay.
-- @return { changed = n } | nil, err (not_found | not_ready | unavailable)
function M.add_assets(user, album_id, asset_ids)
  return change_assets(user, album_id, asset_ids, "add")
end

--- Take assets out of an album, all or nothing (every id must be the user's); the
-- assets stay in the library.
-- @return { changed = n } | nil, err (not_found | unavailable)
function M.remove_assets(user, album_id, asset_ids)
  return change_assets(user, album_id, asset_ids, "remove")
end

return M
