--- /api/v1/uploads: create an upload, list stored parts, abort, finalize.
local respond = require("api.respond")
local s = require("api.schema")
local media_types = require("domain.media_types")
local uploads = require("services.uploads")

local asset_id = { asset_id = s.string({ format = "uuid" }) }

local create_body = s.object({
  filename = s.string({ min = 1, max = 255, description = "Original file name (metadata only)" }),
  content_type = s.string({ enum = media_types.all() }),
  size_bytes = s.integer({ min = 1 }),
  sha256 = s.string({ pattern = "[0-9a-fA-F]+", min = 64, max = 64 }),
  captured_at = s.string({ format = "date-time", nullable = true }),
}, { required = { "filename", "content_type", "size_bytes", "sha256" } })

local finalize_body = s.object({
  parts = s.array(s.object({
    part_number = s.integer({ min = 1, max = 10000 }),
    etag = s.string({ min = 1, max = 128 }),
  }, { required = { "part_number", "etag" } }), { max_items = 10000 }),
}, {})

return {
  {
    method = "POST",
    path = "/api/v1/uploads/create",
    auth = "user",
    tag = "uploads",
    summary = "Start an upload: a signed PUT URL, or signed part URLs for large files",
    body = create_body,
    responses = {
      [201] = { description = "Upload started; send the bytes as `upload` says" },
      [200] = { description = "Already in the library (`duplicate: true`); nothing to send" },
      [413] = { description = "Too large, or over the quota" },
      [422] = { description = "Refused by the server's policy" },
    },
    handler = function(req)
      local result, err_or_created = uploads.create(req.user, req.input)
      if not result then
        return respond.error(err_or_created)
      end
      return respond.json(err_or_created and 201 or 200, result)
    end,
  },
  {
    method = "GET",
    path = "/api/v1/uploads/{asset_id}/parts",
    params = asset_id,
    auth = "user",
    tag = "uploads",
    summary = "Parts already stored, to resume a multipart upload",
    responses = { [200] = { description = "Stored parts and fresh part URLs" } },
    handler = function(req)
      local result, err = uploads.parts(req.user, req.params.asset_id)
      if not result then
        return respond.error(err)
      end
      return respond.json(200, result)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/uploads/{asset_id}/abort",
    params = asset_id,
    auth = "user",
    tag = "uploads",
    summary = "Cancel an upload and drop its bytes",
    responses = { [204] = { description = "Cancelled" } },
    handler = function(req)
      local ok, err = uploads.abort(req.user, req.params.asset_id)
      if not ok then
        return respond.error(err)
      end
      return respond.empty(204)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/uploads/{asset_id}/finalize",
    params = asset_id,
    auth = "user",
    tag = "uploads",
    summary = "Check the stored bytes and add the asset to the library (idempotent)",
    body = finalize_body,
    responses = {
      [200] = { description = "The asset is ready" },
      [409] = { description = "The bytes are not all there yet" },
      [422] = { description = "The bytes are not what was announced; the asset failed" },
    },
    handler = function(req)
      local result, err = uploads.finalize(req.user, req.params.asset_id, req.input.parts)
      if not result then
        return respond.error(err)
      end
      return respond.json(200, result)
    end,
  },
}
