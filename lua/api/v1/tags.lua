--- /api/v1/tags: the user's tags with counts; attach and detach by name in bulk
-- (attaching makes missing tags); rename; delete.
local respond = require("api.respond")
local s = require("api.schema")
local tags = require("services.tags")

local tag_id = { tag_id = s.string({ format = "uuid" }) }
local MAX_BULK = 500

local change_body = s.object({
  names = s.array(s.string({ max = 200 }), { min_items = 1, max_items = 50 }),
  asset_ids = s.array(s.string({ format = "uuid" }), { min_items = 1, max_items = MAX_BULK }),
}, { required = { "names", "asset_ids" } })

local function change_route(how, summary)
  return {
    method = "POST",
    path = "/api/v1/tags/" .. how,
    auth = "user",
    tag = "tags",
    summary = summary,
    body = change_body,
    responses = {
      [200] = { description = "`changed`: how many asset-tag pairs changed" },
      [404] = { description = "An asset id is not one of yours; nothing changed" },
    },
    handler = function(req)
      return respond.outcome(tags.change(req.user, how, req.input.names, req.input.asset_ids))
    end,
  }
end

return {
  {
    method = "GET",
    path = "/api/v1/tags",
    auth = "user",
    tag = "tags",
    summary = "The user's tags by name, with asset counts",
    responses = { [200] = { description = "`items`: tags" } },
    handler = function(req)
      local rows, err = tags.list(req.user)
      return respond.items(rows, err, tags.present)
    end,
  },
  change_route("attach", "Tag assets by name (case-insensitive; new names make tags), all or none"),
  change_route("detach", "Untag assets by name, all or none"),
  {
    method = "PATCH",
    path = "/api/v1/tags/{tag_id}",
    params = tag_id,
    auth = "user",
    tag = "tags",
    summary = "Rename a tag",
    body = s.object({ name = s.string({ max = 200 }) }, { required = { "name" } }),
    responses = {
      [200] = { description = "`tag`" },
      [404] = { description = "No such tag" },
      [409] = { description = "Another tag has this name" },
    },
    handler = function(req)
      local tag, err = tags.rename(req.user, req.params.tag_id, req.input.name)
      if not tag then
        return respond.error(err)
      end
      return respond.json(200, { tag = tags.present(tag) })
    end,
  },
  {
    method = "DELETE",
    path = "/api/v1/tags/{tag_id}",
    params = tag_id,
    auth = "user",
    tag = "tags",
    summary = "Delete a tag (its assets stay)",
    responses = { [204] = { description = "Deleted" }, [404] = { description = "No such tag" } },
    handler = function(req)
      return respond.outcome(tags.delete(req.user, req.params.tag_id))
    end,
  },
}
