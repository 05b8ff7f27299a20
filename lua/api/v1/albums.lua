--- /api/v1/albums: the user's albums with counts and covers; create, change, delete;
-- an album's assets (paged and filtered like the library); add and remove assets.
local listing = require("api.listing")
local respond = require("api.respond")
local s = require("api.schema")
local albums = require("services.albums")
local assets = require("services.assets")

local album_id = { album_id = s.string({ format = "uuid" }) }
local MAX_BULK = 500

local asset_ids_body = s.object({
  asset_ids = s.array(s.string({ format = "uuid" }), { min_items = 1, max_items = MAX_BULK }),
}, { required = { "asset_ids" } })

local function album_answer(status, album, err)
  if not album then
    return respond.error(err)
  end
  return respond.json(status, { album = albums.present(album) })
end

return {
  {
    method = "GET",
    path = "/api/v1/albums",
    auth = "user",
    tag = "albums",
    summary = "The user's albums, newest first, with asset counts and cover thumbnails",
    responses = { [200] = { description = "`items`: albums" } },
    handler = function(req)
      local rows, err = albums.list(req.user)
      return respond.items(rows, err, albums.present)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/albums",
    auth = "user",
    tag = "albums",
    summary = "Create an album",
    body = s.object({
      title = s.string({ max = 1000 }),
      description = s.string({ max = 2000 }),
    }, { required = { "title" } }),
    responses = { [201] = { description = "`album`" } },
    handler = function(req)
      local album, err = albums.create(req.user, req.input)
      return album_answer(201, album, err)
    end,
  },
  {
    method = "GET",
    path = "/api/v1/albums/{album_id}",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "One album",
    responses = { [200] = { description = "`album`" }, [404] = { description = "No such album" } },
    handler = function(req)
      local album, err = albums.get(req.user, req.params.album_id)
      return album_answer(200, album, err)
    end,
  },
  {
    method = "PATCH",
    path = "/api/v1/albums/{album_id}",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "Rename, describe, or choose the cover (null: the newest asset)",
    body = s.object({
      title = s.string({ max = 1000 }),
      description = s.string({ max = 2000 }),
      cover_asset_id = s.string({ format = "uuid", nullable = true }),
    }, {}),
    responses = { [200] = { description = "`album`" }, [404] = { description = "No such album,"
      .. " or the cover is not in it" } },
    handler = function(req)
      local input = req.input
      input.cover_cleared = req.cleared.cover_asset_id
      local album, err = albums.update(req.user, req.params.album_id, input)
      return album_answer(200, album, err)
    end,
  },
  {
    method = "DELETE",
    path = "/api/v1/albums/{album_id}",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "Delete an album (its assets stay in the library; its shares end)",
    responses = { [204] = { description = "Deleted" }, [404] = { description = "No such album" } },
    handler = function(req)
      return respond.outcome(albums.delete(req.user, req.params.album_id))
    end,
  },
  {
    method = "GET",
    path = "/api/v1/albums/{album_id}/assets",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "The album's assets, newest first, by cursor, with the library's filters",
    query = listing.query(),
    responses = { [200] = { description = "`items` and `next_cursor`" } },
    handler = function(req)
      local args = req.args
      args.album_id = req.params.album_id
      return respond.outcome(assets.list(req.user, args))
    end,
  },
  {
    method = "POST",
    path = "/api/v1/albums/{album_id}/assets",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "Add assets, all or none (one foreign or missing id: 404, nothing added)",
    body = asset_ids_body,
    responses = { [200] = { description = "`changed`: how many were added" } },
    handler = function(req)
      return respond.outcome(albums.add_assets(req.user, req.params.album_id, req.input.asset_ids))
    end,
  },
  {
    method = "POST",
    path = "/api/v1/albums/{album_id}/assets/remove",
    params = album_id,
    auth = "user",
    tag = "albums",
    summary = "Take assets out of the album, all or none; they stay in the library",
    body = asset_ids_body,
    responses = { [200] = { description = "`changed`: how many were taken out" } },
    handler = function(req)
      return respond.outcome(albums.remove_assets(req.user, req.params.album_id,
        req.input.asset_ids))
    end,
  },
}
