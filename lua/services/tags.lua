--- Tags: made the first time a name is attached (case-insensitive, trimmed, at most
-- 64 characters), attached and detached in bulk all or nothing, listed with counts,
-- renamed and deleted (the assets stay).
local log = require("core.log")
local assets = require("services.assets")
local clock = require("infra.clock")
local errors = require("domain.errors")
local ids = require("infra.ids")
local names = require("domain.names")
local repositories = require("repositories")
local tags_repo = require("repositories.tags")

local M = {}

local MAX_TAGS = 5000

local function db_failure(what, err)
  log.error(what, { mod = "services.tags", err = err })
  return nil, errors.unavailable()
end

--- The public view of a tag row.
function M.present(row)
  return { id = row.id, name = row.name, asset_count = row.asset_count,
    created_at = row.created_at, updated_at = row.updated_at }
end

--- The user's tags by name, with counts.
-- @return rows | nil, err
function M.list(user)
  local rows, err = tags_repo.list_owned(user.id, MAX_TAGS)
  if not rows then
    return db_failure("tag list failed", err)
  end
  return rows
end

-- Every name cleaned, each key once; nil, err on the first bad one.
local function clean_names(raw_names)
  local list, seen = {}, {}
  for i, raw in ipairs(raw_names) do
    local name, key = names.tag(raw)
    if not name then
      return nil, errors.validation("names[" .. (i - 1) .. "]", key)
    end
    if not seen[key] then
      seen[key] = true
      list[#list + 1] = { name = name, key = key }
    end
  end
  return list
end

--- Attach (how = "attach", making tags that do not exist yet) or detach ("detach")
-- tags by name on assets, all or nothing: every asset id must be the user's.
-- @return { changed = n } | nil, err (validation_error | not_found | unavailable)
function M.change(user, how, raw_names, asset_ids)
  local list, err = clean_names(raw_names)
  if not list then
    return nil, err
  end
  local owned
  owned, err = assets.get_all(user, asset_ids)
  if not owned then
    return nil, err
  end
  local checked = {}
  for i, asset in ipairs(owned) do
    checked[i] = asset.id
  end
  local now_iso = clock.iso()
  local count, change_err = repositories.transaction(function()
    local total = 0
    for _, tag in ipairs(list) do
      local tag_id, step_err
      if how == "attach" then
        tag_id, step_err = tags_repo.ensure(user.id, tag.name, tag.key, ids.uuid(), now_iso)
      else
        tag_id, step_err = tags_repo.find_id_by_key(user.id, tag.key)
      end
      if step_err then
        return nil, step_err
      end
      if tag_id then
        local n
        if how == "attach" then
          n, step_err = tags_repo.attach(tag_id, user.id, checked)
        else
          n, step_err = tags_repo.detach(tag_id, checked)
        end
        if not n then
          return nil, step_err
        end
        total = total + n
      end
    end
    return total
  end)
  if not count then
    return db_failure("tag " .. how .. " failed", change_err)
  end
  return { changed = count }
end

--- Rename a tag; a name another of the user's tags has is a conflict.
-- @return row | nil, err (not_found | validation_error | tag_exists | unavailable)
function M.rename(user, tag_id, raw_name)
  local name, key = names.tag(raw_name)
  if not name then
    return nil, errors.validation("name", key)
  end
  local count, err, code = tags_repo.rename(tag_id, user.id, name, key, clock.iso())
  if not count then
    if code == "unique" then
      return nil, errors.conflict("tag_exists", "another tag already has this name")
    end
    return db_failure("tag rename failed", err)
  end
  if count == 0 then
    return nil, errors.not_found("tag")
  end
  local row
  row, err = tags_repo.find_owned(tag_id, user.id)
  if not row then
    return db_failure("tag lookup failed", err)
  end
  return row
end

--- Delete a tag; its assets stay.
-- @return true | nil, err (not_found | unavailable)
function M.delete(user, tag_id)
  local count, err = tags_repo.delete(tag_id, user.id)
  if not count then
    return db_failure("tag delete failed", err)
  end
  if count == 0 then
    return nil, errors.not_found("tag")
  end
  return true
end

return M
