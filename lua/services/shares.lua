--- Share links: made by an owner for one asset or one album, optionally with an
-- expiry and a password; opened without an account. Every public call checks, on
-- every request, that the share is live (not revoked, not expired, its owner active,
-- what it covers not in the trash) and unlocked; every failure of that kind answers
-- the same not_found, whatever the token looked like.
local config = require("core.config")
local json = require("core.json")
local log = require("core.log")
local albums = require("services.albums")
local albums_repo = require("repositories.albums")
local assets = require("services.assets")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local errors = require("domain.errors")
local ids = require("infra.ids")
local page_cache = require("infra.page_cache")
local passwords = require("infra.passwords")
local policy = require("infra.policy")
local share_tokens = require("infra.share_tokens")
local shares_repo = require("repositories.shares")
local throttle = require("domain.throttle")
local throttling = require("services.throttle")

local M = {}

local MAX_SHARES = 1000
-- Signed URLs handed out through a share live at most this long (SECURITY.md: a URL
-- cannot be revoked, so revoking a share ends its URLs within this time).
local SHARE_URL_TTL_SECONDS = 300

-- Visitors already counted in this VM: one view per share and address per half hour,
-- so a visitor paging back and forth, or a busy share, is not a database write per
-- request. A cache safe to lose: at worst a visitor is counted twice.
local VIEW_WINDOW_SECONDS = 1800
local VIEWERS_MAX = 10000
local viewers, viewers_count = {}, 0

local function db_failure(what, err)
  log.error(what, { mod = "services.shares", err = err })
  return nil, errors.unavailable()
end

local function not_found()
  return nil, errors.not_found("share")
end

local function state_of(share, now_iso)
  if share.revoked_at then
    return "revoked"
  end
  if share.expires_at and share.expires_at <= now_iso then
    return "expired"
  end
  return "active"
end

--- The owner's view of a share row.
function M.present(share)
  return {
    id = share.id,
    token = share_tokens.token(share.id, share.token_salt),
    type = share.album_id and "album" or "asset",
    asset_id = share.asset_id,
    album_id = share.album_id,
    album_title = share.album_title,
    asset_filename = share.asset_filename,
    state = state_of(share, clock.iso()),
    expires_at = share.expires_at,
    revoked_at = share.revoked_at,
    password_protected = share.password_hash ~= nil,
    allow_download = share.allow_download == 1,
    include_location = share.include_location == 1,
    view_count = share.view_count,
    last_viewed_at = share.last_viewed_at,
    created_at = share.created_at,
    updated_at = share.updated_at,
  }
end

-- The expiry to store: nil (never), or RFC 3339 text within the policy's limit.
-- `raw` is the input (nil: none given).
local function expiry(user, raw)
  local max_days = policy.share_max_expiry_days(user)
  if raw == nil then
    return max_days and clock.iso(clock.now() + max_days * 86400) or nil
  end
  local seconds = clock.parse(raw)
  local now = clock.now()
  if not seconds then
    return nil, errors.validation("expires_at", "must be an RFC 3339 date-time")
  end
  if seconds <= now then
    return nil, errors.validation("expires_at", "must be in the future")
  end
  if max_days and seconds > now + max_days * 86400 then
    return nil, errors.validation("expires_at", "must be at most " .. max_days
      .. " days from now")
  end
  return clock.iso(seconds)
end

-- The argon2id hash of a share password that follows the password rules.
local function password_hash(user, password)
  local problem = policy.password_problem(password, user.email)
  if problem then
    return nil, errors.validation("password", "password " .. problem)
  end
  local hash = passwords.hash(password)
  if not hash then
    return nil, errors.unavailable("cannot hash the password now, try again")
  end
  return hash
end

local function check_download(user, allow_download)
  if allow_download and not policy.share_downloads_allowed(user) then
    return nil, errors.forbidden("download_not_allowed",
      "this server does not let shares offer original downloads")
  end
  return true
end

--- Make a share of one asset or one album of the user.
-- @param input { asset_id? | album_id?, expires_at?, password?, allow_download?,
--   include_location? }
-- @return share row | nil, err (validation_error | not_found | shares_disabled |
--   download_not_allowed | unavailable)
function M.create(user, input)
  if (input.asset_id == nil) == (input.album_id == nil) then
    return nil, errors.validation("asset_id", "give either asset_id or album_id")
  end
  if not policy.shares_allowed(user) then
    return nil, errors.forbidden("shares_disabled", "this server does not allow public shares")
  end
  local ok, err = check_download(user, input.allow_download)
  if not ok then
    return nil, err
  end
  local target
  if input.asset_id then
    target, err = assets.get(user, input.asset_id)
    if target and (target.status ~= "ready" or target.deleted_at) then
      target, err = nil, errors.not_found("asset")
    end
  else
    target, err = albums.get(user, input.album_id)
  end
  if not target then
    return nil, err
  end
  local expires_at
  expires_at, err = expiry(user, input.expires_at)
  if err then
    return nil, err
  end
  if not input.password and policy.share_password_required(user) then
    return nil, errors.validation("password", "shares on this server need a password")
  end
  local hash
  if input.password then
    hash, err = password_hash(user, input.password)
    if not hash then
      return nil, err
    end
  end
  local id, salt = ids.uuid(), share_tokens.new_salt()
  local inserted, insert_err = shares_repo.insert({
    id = id, owner_id = user.id, token_salt = salt,
    token_hash = share_tokens.hash(share_tokens.token(id, salt)),
    asset_id = input.asset_id, album_id = input.album_id, expires_at = expires_at,
    password_hash = hash, allow_download = input.allow_download == true,
    include_location = input.include_location == true, created_at = clock.iso(),
  })
  if not inserted then
    return db_failure("share insert failed", insert_err)
  end
  log.info("share created", { mod = "services.shares", share_id = id, user_id = user.id })
  return shares_repo.find_owned(id, user.id)
end

--- The user's shares, newest first, in every state.
-- @return rows | nil, err
function M.list(user)
  local rows, err = shares_repo.list_owned(user.id, MAX_SHARES)
  if not rows then
    return db_failure("share list failed", err)
  end
  return rows
end

-- A share of the user named by its id or its token.
local function owned(user, ref)
  local share, err
  if #ref == 36 and ref:match("^%x+%-%x+%-%x+%-%x+%-%x+$") then
    share, err = shares_repo.find_owned(ref, user.id)
  else
    share, err = shares_repo.find_owned_by_token_hash(share_tokens.hash(ref), user.id)
  end
  if err then
    return db_failure("share lookup failed", err)
  end
  if not share then
    return not_found()
  end
  return share
end

--- Change a share's expiry, password, downloads or location (owner only). A new or
-- removed password ends every unlocked session.
-- @param ref the share's id or token
-- @param input { expires_at?, expires_cleared?, password?, password_cleared?,
--   allow_download?, include_location? }
-- @return share row | nil, err (not_found | share_revoked | validation_error |
--   download_not_allowed | unavailable)
function M.update(user, ref, input)
  local share, err = owned(user, ref)
  if not share then
    return nil, err
  end
  if share.revoked_at then
    return nil, errors.conflict("share_revoked", "a revoked share cannot change")
  end
  local ok
  ok, err = check_download(user, input.allow_download)
  if not ok then
    return nil, err
  end
  local fields = { allow_download = input.allow_download, include_location = input.include_location }
  if input.expires_at then
    fields.expires_at, err = expiry(user, input.expires_at)
    if err then
      return nil, err
    end
  elseif input.expires_cleared then
    if policy.share_max_expiry_days(user) then
      return nil, errors.validation("expires_at", "shares on this server must expire")
    end
    fields.expires_at = false
  end
  if input.password then
    fields.password_hash, err = password_hash(user, input.password)
    if err then
      return nil, err
    end
  elseif input.password_cleared then
    if policy.share_password_required(user) then
      return nil, errors.validation("password", "shares on this server need a password")
    end
    fields.password_hash = false
  end
  local count, update_err = shares_repo.update(share.id, user.id, fields, clock.iso())
  if not count then
    return db_failure("share update failed", update_err)
  end
  return shares_repo.find_owned(share.id, user.id)
end

--- Revoke a share: from the very next request it answers not_found. Revoking again
-- is harmless.
-- @param ref the share's id or token
-- @return true | nil, err (not_found | unavailable)
function M.revoke(user, ref)
  local share, err = owned(user, ref)
  if not share then
    return nil, err
  end
  local count, revoke_err = shares_repo.revoke(share.id, user.id, clock.iso())
  if not count then
    return db_failure("share revoke failed", revoke_err)
  end
  log.info("share revoked", { mod = "services.shares", share_id = share.id, user_id = user.id })
  return true
end

-- The owner of a share row from the public lookup, as the policy sees a user.
local function owner_of(share)
  return { id = share.owner_id, email = share.owner_email, created_at = share.owner_created_at,
    is_active = 1, library_version = share.library_version }
end

-- Whether the policy lets this share's visitors download originals, now.
local function downloads_allowed(share)
  return share.allow_download == 1 and policy.share_downloads_allowed(owner_of(share))
end

-- The live share of a token: not revoked, not expired, its owner active, and allowed by
-- the policy as it is now (shares allowed for the owner, a password when one is
-- required), so a stricter policy holds for links made before it; else the one
-- not_found every bad token gets.
local function live(token)
  local share, err = shares_repo.find_by_token_hash(share_tokens.hash(token))
  if err then
    return db_failure("share lookup failed", err)
  end
  if not share or state_of(share, clock.iso()) ~= "active" then
    return not_found()
  end
  local owner = owner_of(share)
  if not policy.shares_allowed(owner)
      or (not share.password_hash and policy.share_password_required(owner)) then
    return not_found()
  end
  return share
end

-- The live share of a token, unlocked by `session` when it has a password.
local function unlocked(token, session)
  local share, err = live(token)
  if not share then
    return nil, err
  end
  if share.password_hash and not share_tokens.session_valid(session, share.id,
      share.password_version, clock.now()) then
    return nil, errors.unauthorized("this share is protected by a password", "share_locked")
  end
  return share
end

local function view_of(share)
  return share.include_location == 1 and "shared_with_location" or "shared"
end

-- Counts a view of the share from `ip`, unless this VM counted one in the window.
local function count_view(share_id, ip, now)
  local key = share_id .. "|" .. ip
  local last = viewers[key]
  if last and now - last < VIEW_WINDOW_SECONDS then
    return
  end
  if viewers_count >= VIEWERS_MAX then
    viewers, viewers_count = {}, 0
  end
  if not viewers[key] then
    viewers_count = viewers_count + 1
  end
  viewers[key] = now
  local counted, err = shares_repo.record_view(share_id, clock.iso())
  if not counted then
    log.warn("share view not counted", { mod = "services.shares", err = err })
  end
end

-- The album part of an album share's answer, cached under the owner's library_version.
local function album_summary(share)
  local key = "share-album|" .. share.id .. "|" .. share.library_version
  local cached = page_cache.get(key)
  if cached then
    return cached
  end
  local album, err = albums_repo.find_owned(share.album_id, share.owner_id)
  if not album then
    return nil, err
  end
  local summary = { title = album.title, description = album.description,
    asset_count = album.asset_count, cover_asset_id = album.cover_id }
  page_cache.put(key, summary, #album.title + #album.description + 64)
  return summary
end

--- What a share covers, for anyone holding its token (and its session, when it has a
-- password): one asset, or a page of an album's assets (newest first, by cursor).
-- Opening it (the first page) counts a view, once per visitor address and half hour.
-- Never the owner's email or ids beyond the assets', never a location unless the
-- owner included it.
-- @param q { cursor?, limit? }
-- @param meta { ip }
-- @return { share, asset? | album?, items?, next_cursor? } | nil, err (not_found |
--   share_locked | invalid_cursor | unavailable)
function M.open(token, session, q, meta)
  local share, err = unlocked(token, session)
  if not share then
    return nil, err
  end
  local result = { share = {
    type = share.album_id and "album" or "asset",
    expires_at = share.expires_at,
    allow_download = downloads_allowed(share),
    include_location = share.include_location == 1,
    password_protected = share.password_hash ~= nil,
  } }
  if share.asset_id then
    local row, find_err = assets_repo.find_visible_json(share.asset_id, share.owner_id,
      view_of(share))
    if find_err then
      return db_failure("shared asset lookup failed", find_err)
    end
    if not row then
      return not_found()   -- in the trash: hidden until restored
    end
    result.asset = json.raw(row.json)
  else
    local album, album_err = album_summary(share)
    if not album then
      if album_err then
        return db_failure("shared album lookup failed", album_err)
      end
      return not_found()
    end
    local query = { owner_id = share.owner_id, trashed = false, album_id = share.album_id,
      view = view_of(share), limit = q.limit or 100 }
    local page, page_err = assets.page("share:" .. share.id, share.library_version, query, q.cursor)
    if not page then
      return nil, page_err
    end
    result.album, result.items, result.next_cursor = album, page.items, page.next_cursor
  end
  if not q.cursor then
    count_view(share.id, meta.ip, clock.now())
  end
  return result
end

-- Whether the share covers a visible asset of its owner.
local function covers(share, asset_id)
  if share.asset_id then
    return share.asset_id == asset_id
  end
  return albums_repo.has_visible_asset(share.album_id, asset_id)
end

--- A short-lived URL for one form of an asset the share covers. Originals only when
-- the owner allowed downloads, and, unless the owner included locations, only for
-- photos and videos whose metadata was read and holds no GPS position: an original is
-- the file as uploaded, EXIF and container tags included (thumbnails, previews and
-- posters are re-encoded without them). "stream" is the original too, inline, for a
-- player: a video plays through a share under the same conditions as its download.
-- @param q { asset_id? (an album share needs it), kind? ("original" by default, or
--   "stream", "thumb", "preview", "poster") }
-- @return { url, expires_in } | nil, err (not_found | share_locked |
--   download_not_allowed | location_withheld | validation_error | unavailable)
function M.download_url(token, session, q)
  local share, err = unlocked(token, session)
  if not share then
    return nil, err
  end
  local asset_id = q.asset_id or share.asset_id
  if not asset_id then
    return nil, errors.validation("asset_id", "name the asset of the album")
  end
  local covered, cover_err = covers(share, asset_id)
  if cover_err then
    return db_failure("share coverage lookup failed", cover_err)
  end
  local asset, find_err
  if covered then
    asset, find_err = assets_repo.find_owned(asset_id, share.owner_id)
    if find_err then
      return db_failure("shared asset lookup failed", find_err)
    end
  end
  if not asset or asset.status ~= "ready" or asset.deleted_at then
    return nil, errors.not_found("asset")
  end
  local kind = q.kind or "original"
  local original = kind == "original" or kind == "stream"
  if original then
    if not downloads_allowed(share) then
      return nil, errors.forbidden("download_not_allowed", "this share does not offer downloads")
    end
    local location_free = asset.media_status == "ready" and asset.location_read == 1
      and asset.gps_latitude == nil
    if share.include_location ~= 1 and not location_free then
      return nil, errors.forbidden("location_withheld",
        "the original file may hold its location, which this share does not include")
    end
  end
  return assets.url_for(asset, original and "original" or kind,
    kind == "original" and "attachment" or "inline",
    math.min(config.signed_url_ttl_seconds, SHARE_URL_TTL_SECONDS))
end

--- Unlock a password-protected share: a short-lived session bound to the share and
-- its password version. Attempts are throttled per share and per IP (no hard
-- lockout), each counted before its password is checked, so guesses sent at once
-- cannot slip past the count; while throttled even the right password waits.
-- @param meta { ip }
-- @return { share_session, expires_in } | nil, err (not_found | no_password |
--   rate_limited | invalid_share_password | unavailable)
function M.unlock(token, password, meta)
  local share, err = live(token)
  if not share then
    return nil, err
  end
  if not share.password_hash then
    return nil, errors.conflict("no_password", "this share has no password")
  end
  local now = clock.now()
  local keys = { share = "share:" .. share.id, ip = "share_ip:" .. throttle.address_key(meta.ip) }
  local rules = policy.share_throttle()
  local wait, wait_err = throttling.begin(keys, rules, now)
  if not wait then
    return throttling.unavailable("unlocking", "throttle update failed", wait_err)
  end
  if wait > 0 then
    return nil, errors.rate_limited(wait)
  end
  local verified = passwords.verify(share.password_hash, password)
  if verified == false then
    return nil, errors.unauthorized("the password is not right", "invalid_share_password")
  end
  local forgiven, forgive_err = throttling.forgive(keys)
  if not forgiven then
    log.warn("share unlock not forgiven", { mod = "services.shares", err = forgive_err })
  end
  if verified == nil then
    return nil, errors.unavailable("cannot check the password now, try again")
  end
  local session, expires_in = share_tokens.issue_session(share.id, share.password_version, now)
  return { share_session = session, expires_in = expires_in }
end

return M
