--- /api/v1/shares: the owner makes, lists, changes and revokes share links; anyone
-- with a link opens it, gets signed URLs for what it covers, and unlocks it with its
-- password. Owner calls name a share by its token or its id (the list gives both);
-- public calls by its token. Every bad token -- unknown, expired, revoked, cut short,
-- in other letter case -- answers the same 404, so the {token} segment has no schema.
local respond = require("api.respond")
local s = require("api.schema")
local share_tokens = require("infra.share_tokens")
local shares = require("services.shares")

local LOCKED = { ["WWW-Authenticate"] = 'ShareSession realm="share"' }

local function share_answer(status, share, err)
  if not share then
    return respond.error(err)
  end
  return respond.json(status, { share = shares.present(share) })
end

local function public_answer(result, err)
  if not result then
    return respond.error(err, err.code == "share_locked" and LOCKED or nil)
  end
  return respond.json(200, result)
end

local function session_of(req)
  return req.headers[share_tokens.SESSION_HEADER]
end

local options = {
  allow_download = s.boolean({ description = "Visitors may download originals (policy permitting)" }),
  include_location = s.boolean({ description = "Show GPS positions and serve originals that may hold them" }),
}

return {
  {
    method = "POST",
    path = "/api/v1/shares",
    auth = "user",
    tag = "shares",
    summary = "Share one asset or one album by a link, optionally with expiry and password",
    body = s.object({
      asset_id = s.string({ format = "uuid" }),
      album_id = s.string({ format = "uuid" }),
      expires_at = s.string({ format = "date-time" }),
      password = s.string({ min = 1, max = 1024 }),
      allow_download = options.allow_download,
      include_location = options.include_location,
    }, {}),
    responses = {
      [201] = { description = "`share` with its `token`" },
      [403] = { description = "The policy allows no shares, or no downloads" },
      [404] = { description = "No such asset or album" },
    },
    handler = function(req)
      local share, err = shares.create(req.user, req.input)
      return share_answer(201, share, err)
    end,
  },
  {
    method = "GET",
    path = "/api/v1/shares",
    auth = "user",
    tag = "shares",
    summary = "The user's shares, newest first, with their state, views and tokens",
    responses = { [200] = { description = "`items`: shares (state active, expired or revoked)" } },
    handler = function(req)
      local rows, err = shares.list(req.user)
      return respond.items(rows, err, shares.present)
    end,
  },
  {
    method = "PATCH",
    path = "/api/v1/shares/{token}",
    auth = "user",
    tag = "shares",
    summary = "Change expiry (null: none), password (null: none; a change ends unlocked"
      .. " sessions), downloads or location; owner only, by token or id",
    body = s.object({
      expires_at = s.string({ format = "date-time", nullable = true }),
      password = s.string({ min = 1, max = 1024, nullable = true }),
      allow_download = options.allow_download,
      include_location = options.include_location,
    }, {}),
    responses = {
      [200] = { description = "`share`" },
      [404] = { description = "Not one of your shares" },
      [409] = { description = "The share is revoked" },
    },
    handler = function(req)
      local input = req.input
      input.expires_cleared = req.cleared.expires_at
      input.password_cleared = req.cleared.password
      local share, err = shares.update(req.user, req.params.token, input)
      return share_answer(200, share, err)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/shares/{token}/revoke",
    auth = "user",
    tag = "shares",
    summary = "Revoke a share, by token or id: it ends with the very next request",
    responses = { [204] = { description = "Revoked" }, [404] = { description = "Not one of your shares" } },
    handler = function(req)
      return respond.outcome(shares.revoke(req.user, req.params.token))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/shares/{token}",
    auth = "share",
    tag = "shares",
    summary = "What a share covers: one asset, or a page of an album's assets (no account;"
      .. " X-Share-Session when it has a password)",
    query = s.object({
      cursor = s.string({ max = 512 }),
      limit = s.integer({ min = 1, max = 500 }),
    }, {}),
    responses = {
      [200] = { description = "`share`, then `asset`, or `album`, `items` and `next_cursor`" },
      [401] = { description = "The share has a password: unlock it first (nothing else is said)" },
      [404] = { description = "No such live share" },
    },
    handler = function(req)
      return public_answer(shares.open(req.params.token, session_of(req), req.args,
        { ip = req.remote_addr }))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/shares/{token}/download-url",
    auth = "share",
    tag = "shares",
    summary = "A short-lived URL for an asset the share covers (originals only with downloads allowed)",
    query = s.object({
      asset_id = s.string({ format = "uuid", description = "Required for album shares" }),
      kind = s.string({ enum = { "original", "stream", "thumb", "preview", "poster" },
        description = "stream: the original inline, for a player (same conditions as original)" }),
    }, {}),
    responses = {
      [200] = { description = "`url` and `expires_in` (at most 300 s)" },
      [401] = { description = "The share has a password: unlock it first" },
      [403] = { description = "No downloads (original, stream), or the original may hold a location"
        .. " the share does not include" },
      [404] = { description = "No such live share, or the asset is not in it" },
    },
    handler = function(req)
      return public_answer(shares.download_url(req.params.token, session_of(req), req.args))
    end,
  },
  {
    method = "POST",
    path = "/api/v1/shares/{token}/unlock",
    auth = "none",
    tag = "shares",
    summary = "Unlock a share with its password (in the body only): a session for"
      .. " X-Share-Session, bound to the share and its password",
    body = s.object({ password = s.string({ min = 1, max = 1024 }) }, { required = { "password" } }),
    responses = {
      [200] = { description = "`share_session` and `expires_in`" },
      [401] = { description = "Wrong password" },
      [404] = { description = "No such live share" },
      [429] = { description = "Too many attempts for this share or from this address; see Retry-After" },
    },
    handler = function(req)
      local result, err = shares.unlock(req.params.token, req.input.password,
        { ip = req.remote_addr })
      if not result then
        return respond.error(err, err.code == "invalid_share_password" and LOCKED or nil)
      end
      return respond.json(200, result)
    end,
  },
}
