-- services.media: the hand-off point from finalize to media processing. Until the
-- pipeline exists it accepts every asset and changes nothing; finalize's side of the
-- contract (called once per asset that became ready, a failure rolls finalize back)
-- is in spec/services/uploads_spec.lua.
local fixtures = require("helpers.fixtures")
local media = require("services.media")

local function copy(t)
  local c = {}
  for k, v in pairs(t) do
    c[k] = v
  end
  return c
end

describe("services.media", function()
  teardown(function()
    fixtures.cleanup()
  end)

  it("accepts a ready photo and a ready video with exactly true", function()
    local owner = fixtures.user("svc-media")
    for _, fields in ipairs({
      { status = "ready" },
      { status = "ready", type = "video", content_type = "video/mp4" },
    }) do
      local asset = fixtures.asset(owner, fields)
      local results = table.pack(media.asset_ready(asset))
      assert.equal(1, results.n)
      assert.is_true(results[1])
    end
  end)

  it("leaves the asset it is handed, and its row, as they were", function()
    local owner = fixtures.user("svc-media")
    local asset = fixtures.asset(owner, { status = "ready" })
    local before = copy(asset)
    media.asset_ready(asset)
    assert.same(before, asset)
    assert.same(before, require("repositories.assets").find_owned(asset.id, owner.id))
  end)
end)
