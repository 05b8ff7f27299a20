--- Uploads straight from the browser to storage: create (policy, quota, duplicate
-- check, signed URLs), parts (resume), abort, finalize (verify, sniff, move into
-- place, mark ready), and clean-up of uploads never finished.
local config = require("core.config")
local log = require("core.log")
local assets = require("services.assets")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local errors = require("domain.errors")
local ids = require("infra.ids")
local jobs = require("services.jobs")
local media = require("services.media")
local media_types = require("domain.media_types")
local policy = require("infra.policy")
local repositories = require("repositories")
local storage = require("infra.storage")
local storage_keys = require("domain.storage_keys")

local M = {}

local MAX_PARTS = 10000
local FAILED_KEPT_SECONDS = 86400   -- a failed upload's reason stays readable this long

local function db_failure(what, err)
  log.error(what, { mod = "services.uploads", err = err })
  return nil, errors.unavailable()
end

local function storage_failure(what, err)
  log.error(what, { mod = "services.uploads", err = err })
  return nil, errors.unavailable("storage is not answering, try again")
end

-- What the browser needs to send the bytes.
local function upload_instructions(asset)
  local ttl = config.signed_url_ttl_seconds
  if asset.multipart_upload_id then
    local part_size = config.multipart_part_size_bytes
    local parts = {}
    local count = math.max(1, (asset.size_bytes + part_size - 1) // part_size)
    for n = 1, count do
      local size = math.min(part_size, asset.size_bytes - (n - 1) * part_size)
      parts[n] = {
        part_number = n,
        size_bytes = size,
        url = storage.presign_part(asset.storage_key_original, asset.multipart_upload_id, n, size, ttl),
      }
    end
    return { method = "multipart", part_size = part_size, parts = parts, expires_in = ttl }
  end
  return {
    method = "PUT",
    url = storage.presign_put(asset.staging_key, asset.content_type, asset.size_bytes, ttl),
    headers = { ["Content-Type"] = asset.content_type },
    expires_in = ttl,
  }
end

--- Start an upload.
-- @param input { filename, content_type, size_bytes, sha256, captured_at? }
-- @return { asset, upload?, duplicate } , created (true when a new row was made)
--   | nil, err (validation_error | file_too_large | upload_refused | quota_exceeded | unavailable)
function M.create(user, input)
  local kind = media_types.describe(input.content_type)
  if not kind then
    return nil, errors.validation("content_type", "this type of file cannot be stored")
  end
  if input.size_bytes < 1 then
    return nil, errors.validation("size_bytes", "the file is empty")
  end
  if input.size_bytes > config.max_upload_size_bytes then
    return nil, errors.new("file_too_large", "the file is larger than this server accepts")
  end
  local refused = policy.upload_problem(user, input)
  if refused then
    return nil, errors.new("upload_refused", refused)
  end
  local captured_at
  if input.captured_at then
    local seconds = clock.parse(input.captured_at)
    if not seconds then
      return nil, errors.validation("captured_at", "must be an RFC 3339 date-time")
    end
    captured_at = clock.iso(seconds)
  end
  local sha256 = input.sha256:lower()
  local existing, err = assets_repo.find_ready_by_sha256(user.id, sha256)
  if err then
    return db_failure("duplicate lookup failed", err)
  end
  if existing then
    if existing.deleted_at then
      -- the same file sits in the trash: bring it back rather than let retention
      -- delete the only copy of something the user just chose to upload again
      local restored, restore_err = assets_repo.set_trashed({ existing.id }, user.id, false, clock.iso())
      if not restored then
        return db_failure("restore of a duplicate failed", restore_err)
      end
      existing = assets_repo.find_owned(existing.id, user.id) or existing
    end
    return { asset = assets.present(existing), duplicate = true }, false
  end
  local usage, usage_err = assets.usage(user)
  if not usage then
    return nil, usage_err
  end
  if usage.quota_bytes and usage.used_bytes + input.size_bytes > usage.quota_bytes then
    return nil, errors.new("quota_exceeded", "this upload would exceed your storage quota")
  end

  local now_iso = clock.iso()
  local id = ids.uuid()
  local asset = {
    id = id,
    owner_id = user.id,
    type = kind.kind,
    original_filename = input.filename,
    content_type = input.content_type,
    size_bytes = input.size_bytes,
    sha256 = sha256,
    captured_at = captured_at,
    sort_at = captured_at or now_iso,
    created_at = now_iso,
    storage_key_original = storage_keys.original(user.id, id, now_iso, kind.ext),
    upload_expires_at = clock.iso(clock.now() + config.upload_expiry_seconds),
    status = "uploading",
  }
  if storage.supports_multipart() and input.size_bytes > config.multipart_threshold_bytes then
    if (input.size_bytes + config.multipart_part_size_bytes - 1) // config.multipart_part_size_bytes
      > MAX_PARTS then
      return nil, errors.new("upload_refused", "the file needs more than 10000 parts")
    end
    -- parts go straight to the final key: once completed, the upload id is spent and
    -- its part URLs can no longer change the object
    local upload_id, create_err = storage.multipart_create(asset.storage_key_original, asset.content_type)
    if not upload_id then
      return storage_failure("multipart create failed", create_err)
    end
    asset.multipart_upload_id = upload_id
  else
    -- one PUT goes to a staging key; finalize moves it to a key no URL was given for
    asset.staging_key = storage_keys.staging(user.id, id)
  end
  local ok, insert_err = assets_repo.insert(asset)
  if not ok then
    if asset.multipart_upload_id then
      storage.multipart_abort(asset.storage_key_original, asset.multipart_upload_id)
    end
    return db_failure("asset insert failed", insert_err)
  end
  asset.updated_at = now_iso
  return { asset = assets.present(asset), upload = upload_instructions(asset), duplicate = false }, true
end

-- The user's upload still in progress.
local function find_uploading(user, asset_id)
  local asset, err = assets.get(user, asset_id)
  if not asset then
    return nil, err
  end
  if asset.status ~= "uploading" then
    return nil, errors.conflict("not_uploading", "this upload is already finished")
  end
  return asset
end

--- The parts already stored, to resume an interrupted multipart upload, with fresh
-- URLs for every part.
-- @return { parts = {{ part_number, etag, size_bytes }}, upload } | nil, err
function M.parts(user, asset_id)
  local asset, err = find_uploading(user, asset_id)
  if not asset then
    return nil, err
  end
  if not asset.multipart_upload_id then
    return { parts = {}, upload = upload_instructions(asset) }
  end
  local parts, list_err = storage.list_parts(asset.storage_key_original, asset.multipart_upload_id)
  if not parts then
    return storage_failure("list parts failed", list_err)
  end
  local stored = {}
  for i, part in ipairs(parts) do
    stored[i] = { part_number = part.part_number, etag = part.etag, size_bytes = part.size }
  end
  return { parts = stored, upload = upload_instructions(asset) }
end

--- Cancel an upload: its bytes and its row go.
-- @return true | nil, err
function M.abort(user, asset_id)
  local asset, err = find_uploading(user, asset_id)
  if not asset then
    return nil, err
  end
  local destroyed, destroy_err = assets.destroy(asset, "uploading")
  if destroyed == nil then
    return db_failure("abort failed", destroy_err)
  end
  if not destroyed then
    return nil, errors.conflict("not_uploading", "this upload is already finished")
  end
  return true
end

-- Marks the asset failed and removes its bytes; returns the failure to answer with.
-- (The row stays a day so the reason can be read; housekeeping removes it then.)
local function fail(asset, reason)
  assets_repo.mark_failed(asset.id, asset.owner_id, reason, clock.iso())
  storage.delete(asset.storage_key_original)
  if asset.staging_key then
    assets.sweep_later(asset.staging_key)
  end
  log.info("upload refused", { mod = "services.uploads", asset_id = asset.id, reason = reason })
  return nil, errors.new("upload_rejected", reason)
end

-- Puts the bytes at the original's key: completes the multipart upload or moves the
-- staged object. Returns the key the bytes are at now.
local function assemble(asset, parts)
  if asset.multipart_upload_id then
    if not parts or #parts == 0 then
      local listed, err = storage.list_parts(asset.storage_key_original, asset.multipart_upload_id)
      if not listed then
        return nil, err
      end
      parts = listed
    end
    local ok, err = storage.multipart_complete(asset.storage_key_original, asset.multipart_upload_id, parts)
    if not ok then
      return nil, err, "incomplete"
    end
  end
  return asset.storage_key_original
end

--- Finish an upload: the object must exist with the announced size, and its first
-- bytes must be of the declared type; then it becomes ready, and media processing is
-- handed the asset. Finalizing a ready asset answers the same asset again.
-- @param parts for multipart uploads: list of { part_number, etag } (optional)
-- @return { asset, duplicate } | nil, err
--   (not_found | upload_incomplete | upload_rejected | unavailable)
function M.finalize(user, asset_id, parts)
  local asset, err = assets.get(user, asset_id)
  if not asset then
    return nil, err
  end
  if asset.status == "ready" then
    return { asset = assets.present(asset), duplicate = false }
  end
  if asset.status == "failed" then
    return nil, errors.new("upload_rejected", asset.failure_reason or "the upload failed")
  end

  -- 1. the bytes are where they should be, with the announced size
  local source = asset.staging_key or asset.storage_key_original
  local head, head_err = storage.head(source)
  if head_err then
    return storage_failure("head failed", head_err)
  end
  if not head and asset.staging_key then
    -- a concurrent finalize may already have moved it
    head, head_err = storage.head(asset.storage_key_original)
    if head_err then
      return storage_failure("head failed", head_err)
    end
    source = asset.storage_key_original
  end
  if not head and asset.multipart_upload_id then
    local key, assemble_err, why = assemble(asset, parts)
    if not key then
      if why == "incomplete" then
        return nil, errors.new("upload_incomplete", "some parts are missing or do not match")
      end
      return storage_failure("multipart complete failed", assemble_err)
    end
    head, head_err = storage.head(key)
    if head_err then
      return storage_failure("head failed", head_err)
    end
  end
  if not head then
    return nil, errors.new("upload_incomplete", "the file has not been uploaded yet")
  end
  if head.size ~= asset.size_bytes then
    return fail(asset, string.format("the stored file has %d bytes, %d were announced",
      head.size, asset.size_bytes))
  end

  -- 2. into its final place, where no upload URL points (a concurrent finalize may
  -- have moved it already: then it is there)
  if source ~= asset.storage_key_original then
    local moved, move_err = storage.move(source, asset.storage_key_original)
    if not moved and not storage.head(asset.storage_key_original) then
      return storage_failure("move failed", move_err)
    end
  end
  if asset.staging_key then
    -- the upload URL stays valid for a while: a replay must not leave bytes behind
    assets.sweep_later(asset.staging_key)
  end

  -- 3. the content is what it claims to be (nothing links to it until it is ready)
  local first_bytes, read_err = storage.read(asset.storage_key_original, 0, media_types.SNIFF_BYTES)
  if not first_bytes then
    return storage_failure("read failed", read_err)
  end
  local matches, reason = media_types.content_matches(asset.content_type, first_bytes)
  if not matches then
    return fail(asset, reason)
  end

  -- 4. ready, exactly once
  local result, tx_err = repositories.transaction(function()
    local count, mark_err, code = assets_repo.mark_ready(asset.id, user.id, clock.iso())
    if not count then
      if code == "unique" then
        return { duplicate = true }
      end
      return nil, mark_err
    end
    local current, find_err = assets_repo.find_owned(asset.id, user.id)
    if not current then
      return nil, find_err or "the asset vanished during finalize"
    end
    if count == 1 then
      local handed, hand_err = media.asset_ready(current)
      if not handed then
        return nil, hand_err
      end
    end
    return { asset = current }
  end)
  if not result then
    return db_failure("finalize failed", tx_err)
  end
  if result.asset and result.asset.status == "ready" then
    jobs.wake_workers()
  end
  if result.duplicate then
    -- the same file finished first in another upload: keep that one
    local original = assets_repo.find_ready_by_sha256(user.id, asset.sha256)
    assets.destroy(asset, "uploading")
    if original then
      return { asset = assets.present(original), duplicate = true }
    end
    return nil, errors.unavailable()
  end
  if result.asset.status ~= "ready" then
    return nil, errors.new("upload_rejected", result.asset.failure_reason or "the upload failed")
  end
  log.info("upload stored", { mod = "services.uploads", asset_id = asset.id, bytes = asset.size_bytes })
  return { asset = assets.present(result.asset), duplicate = false }
end

--- Housekeeping: uploads never finalized past their deadline, and failed uploads
-- older than a day, lose their bytes and rows. Safe with several processes: a row is
-- destroyed only while still in that state, by whoever gets there first.
-- @return number cleaned
function M.clean_stale(now)
  local stale, err = assets_repo.find_stale_uploads(clock.iso(now), 100)
  local cleaned = assets.destroy_all(stale, err, "uploading", "stale uploads")
  local failed, failed_err = assets_repo.find_old_failures(clock.iso(now - FAILED_KEPT_SECONDS), 100)
  return cleaned + assets.destroy_all(failed, failed_err, "failed", "old failures")
end

return M
