--- Fixtures for unit specs on the shared spec database: users, asset rows in any state,
-- objects written straight into the local store (DATA_DIR/media/<key> is its layout),
-- and modules loaded over stand-ins. What is made here is recorded, and cleanup()
-- removes it: call it from each spec file's teardown.
local lfs = require("lfs")
local assets_repo = require("repositories.assets")
local users_repo = require("repositories.users")
local clock = require("infra.clock")
local ids = require("infra.ids")
local storage_keys = require("domain.storage_keys")

local M = {}

local users_made = {}

-- Columns a fresh row gets only through an UPDATE (insert always starts 'uploading').
local LATER_COLUMNS = { "status", "deleted_at", "storage_key_thumb", "storage_key_preview",
  "storage_key_poster", "failure_reason", "updated_at", "width", "height", "duration_ms",
  "placeholder" }

--- The local store's root directory.
function M.media_root()
  return core.config.data_dir .. "/media"
end

--- A new active user (inserted through the repository, no password hashing).
-- @return the user row
function M.user(prefix)
  local user = {
    id = ids.uuid(),
    email = string.format("%s-%s@example.com", prefix or "fixture", ids.uuid()),
    password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    created_at = clock.iso(),
  }
  assert(users_repo.insert(user))
  users_made[#users_made + 1] = user.id
  return assert(users_repo.find_active(user.id))
end

--- A random lower-case sha256 hex string.
function M.sha256()
  return core.crypto.sha256_hex(core.crypto.random_bytes(32))
end

--- An asset row of `owner` in any state. fields override the defaults: status
-- ("uploading" by default; "ready" and "failed" drop the upload bookkeeping unless
-- given), deleted_at, storage_key_* and any column repositories.assets.insert takes.
-- @return the row as stored
function M.asset(owner, fields)
  fields = fields or {}
  local id = fields.id or ids.uuid()
  local now = clock.iso()
  local status = fields.status or "uploading"
  local row = {
    id = id,
    owner_id = owner.id,
    type = "photo",
    original_filename = "photo.jpg",
    content_type = "image/jpeg",
    size_bytes = 100,
    sha256 = M.sha256(),
    sort_at = now,
    created_at = now,
    storage_key_original = storage_keys.original(owner.id, id, now, ".jpg"),
  }
  if status == "uploading" then
    row.staging_key = storage_keys.staging(owner.id, id)
    row.upload_expires_at = clock.iso(clock.now() + 3600)
  end
  for key, value in pairs(fields) do
    row[key] = value
  end
  if fields.captured_at and not fields.sort_at then
    row.sort_at = fields.captured_at
  end
  assert(assets_repo.insert(row))
  for _, column in ipairs(LATER_COLUMNS) do
    if row[column] ~= nil and column ~= "status" then
      assert(core.db.exec("UPDATE assets SET " .. column .. " = ? WHERE id = ?", row[column], id))
    end
  end
  if status ~= "uploading" then
    assert(core.db.exec("UPDATE assets SET status = ? WHERE id = ?", status, id))
  end
  return assert(assets_repo.find_owned(id, owner.id))
end

-- mkdir -p under the media root.
local function make_dirs(path)
  local dir = ""
  for part in path:gmatch("[^/]+") do
    dir = dir .. "/" .. part
    lfs.mkdir(dir)
  end
end

--- The bytes of spec/fixtures/<name> (the shipped images, videos and the media corpus).
function M.file(name)
  local f = assert(io.open("spec/fixtures/" .. name, "rb"))
  local bytes = f:read("a")
  f:close()
  return bytes
end

--- Write an object into the local store, as a finished PUT would leave it.
function M.put(key, bytes)
  local path = M.media_root() .. "/" .. key
  make_dirs(path:match("^(.*)/[^/]*$"))
  local f = assert(io.open(path, "wb"))
  assert(f:write(bytes))
  assert(f:close())
end

--- The bytes stored under `key`, or nil when there is no such object.
function M.stored(key)
  local f = io.open(M.media_root() .. "/" .. key, "rb")
  if not f then
    return nil
  end
  local bytes = f:read("a")
  f:close()
  return bytes
end

local function remove_tree(path)
  local mode = lfs.symlinkattributes(path, "mode")
  if mode == "directory" then
    for name in lfs.dir(path) do
      if name ~= "." and name ~= ".." then
        remove_tree(path .. "/" .. name)
      end
    end
    lfs.rmdir(path)
  elseif mode then
    os.remove(path)
  end
end

--- Load module `name` afresh over stand-ins: overrides maps a module name to a table
-- whose functions replace the real module's (the rest stay real). package.loaded is
-- restored afterwards, so only the returned copy sees the stand-ins.
function M.load_with(name, overrides)
  local saved = { [name] = package.loaded[name] }
  for dep, replacement in pairs(overrides) do
    saved[dep] = package.loaded[dep]
    if getmetatable(replacement) == nil then
      setmetatable(replacement, { __index = require(dep) })
    end
    package.loaded[dep] = replacement
  end
  package.loaded[name] = nil
  local ok, loaded = pcall(require, name)
  for dep, module in pairs(saved) do
    package.loaded[dep] = module
  end
  assert(ok, loaded)
  return loaded
end

--- Remove every user made here, their assets and their objects.
function M.cleanup()
  for _, id in ipairs(users_made) do
    core.db.exec("DELETE FROM assets WHERE owner_id = ?", id)
    core.db.exec("DELETE FROM users WHERE id = ?", id)
    remove_tree(M.media_root() .. "/u/" .. id)
    remove_tree(M.media_root() .. "/staging/" .. id)
  end
  users_made = {}
end

return M
