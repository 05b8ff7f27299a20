--- /api/v1/assets: the library and the trash (filtered by type, dates, album, tag,
-- favourites), the change feed, one asset, trash/restore/purge and favourites (one or
-- in bulk), signed download and stream URLs; /api/v1/me/usage.
local listing = require("api.listing")
local respond = require("api.respond")
local s = require("api.schema")
local assets = require("services.assets")

local asset_id = { asset_id = s.string({ format = "uuid" }) }
local MAX_BULK = 500

local answer = respond.outcome

local function favorite_route(method, summary, action)
  return {
    method = method,
    path = "/api/v1/assets/{asset_id}/favorite",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = summary,
    responses = { [204] = { description = "Done" }, [404] = { description = "No such asset" } },
    handler = function(req)
      local result, err = assets.bulk(req.user, action, { req.params.asset_id })
      return answer(result and true, err)
    end,
  }
end

return {
  {
    method = "GET",
    path = "/api/v1/assets",
    auth = "user",
    tag = "assets",
    summary = "The library (or the trash with trashed=true), newest first, by cursor;"
      .. " filters combine",
    query = listing.query({ album_id = s.string({ format = "uuid", description = "An album's assets" }) }),
    responses = { [200] = { description = "`items` and `next_cursor` (absent on the last page)" } },
    handler = function(req)
      return answer(assets.list(req.user, req.args))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/assets/changes",
    auth = "user",
    tag = "assets",
    summary = "What was added, changed, trashed, restored or purged since a position",
    query = s.object({
      since = s.string({ max = 512, description = "next_since of the previous call;"
        .. " without it: no changes, the position of now" }),
      limit = s.integer({ min = 1, max = 500 }),
    }, {}),
    responses = {
      [200] = { description = "`changes` (oldest first: kind, asset_id, at, asset unless"
        .. " purged), `next_since`, `has_more`" },
      [410] = { description = "The position is older than the feed keeps: reload the library" },
    },
    handler = function(req)
      return answer(assets.changes(req.user, req.args))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/assets/{asset_id}",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "One asset, with the names of its tags and the ids of its albums",
    responses = { [200] = { description = "`asset` (with `tags` and `album_ids`)" },
      [404] = { description = "No such asset" } },
    handler = function(req)
      return answer(assets.describe(req.user, req.params.asset_id))
    end,
  },
  {
    method = "DELETE",
    path = "/api/v1/assets/{asset_id}",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "Move to the trash",
    responses = { [204] = { description = "In the trash" } },
    handler = function(req)
      local result, err = assets.bulk(req.user, "trash", { req.params.asset_id })
      return answer(result and true, err)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/assets/{asset_id}/restore",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "Bring back from the trash",
    responses = { [204] = { description = "Restored" } },
    handler = function(req)
      local result, err = assets.bulk(req.user, "restore", { req.params.asset_id })
      return answer(result and true, err)
    end,
  },
  {
    method = "DELETE",
    path = "/api/v1/assets/{asset_id}/purge",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "Delete forever (from the trash): the bytes, then the row; repeatable",
    responses = { [204] = { description = "Gone" }, [409] = { description = "Not in the trash" } },
    handler = function(req)
      return answer(assets.purge(req.user, req.params.asset_id))
    end,
  },
  {
    method = "POST",
    path = "/api/v1/assets/trash/empty",
    auth = "user",
    tag = "assets",
    summary = "Delete forever everything in the trash",
    responses = { [200] = { description = "`changed`: how many went" } },
    handler = function(req)
      return answer(assets.empty_trash(req.user))
    end,
  },
  {
    method = "POST",
    path = "/api/v1/assets/bulk",
    auth = "user",
    tag = "assets",
    summary = "Trash, restore, purge, favourite or unfavourite several assets, all or none",
    body = s.object({
      action = s.string({ enum = { "trash", "restore", "purge", "favorite", "unfavorite" } }),
      ids = s.array(s.string({ format = "uuid" }), { min_items = 1, max_items = MAX_BULK }),
    }, { required = { "action", "ids" } }),
    responses = {
      [200] = { description = "`changed`: how many changed" },
      [404] = { description = "An id is not one of yours; nothing changed" },
    },
    handler = function(req)
      return answer(assets.bulk(req.user, req.input.action, req.input.ids))
    end,
  },
  favorite_route("PUT", "Mark as a favourite", "favorite"),
  favorite_route("DELETE", "No longer a favourite", "unfavorite"),
  {
    method = "GET",
    path = "/api/v1/assets/{asset_id}/download-url",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "A short-lived URL that downloads the original (or a thumbnail, preview, poster)",
    query = s.object({ kind = s.string({ enum = { "original", "thumb", "preview", "poster" } }) }, {}),
    responses = { [200] = { description = "`url` and `expires_in`" } },
    handler = function(req)
      return answer(assets.signed_url(req.user, req.params.asset_id, req.args.kind or "original",
        "attachment"))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/assets/{asset_id}/stream-url",
    params = asset_id,
    auth = "user",
    tag = "assets",
    summary = "A short-lived URL to show or stream the original (Range-capable)",
    responses = { [200] = { description = "`url` and `expires_in`" } },
    handler = function(req)
      return answer(assets.signed_url(req.user, req.params.asset_id, "original", "inline"))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/me/usage",
    auth = "user",
    tag = "assets",
    summary = "Bytes and counts used, and the quota",
    responses = { [200] = { description = "Usage" } },
    handler = function(req)
      return answer(assets.usage(req.user))
    end,
  },
}
