-- Albums, tags, favourites, the library's album/tag/favourite filters and the change
-- feed, end to end against a real server on the storage backend the environment
-- names. Covers SECURITY.md A1 (another user's album or tag answers 404), A2 (bulk
-- calls mixing own and foreign ids change nothing), A3 and X1 for these routes.
local api = require("helpers.api")
local library = require("helpers.library")
local server_helper = require("helpers.server")

local backend = os.getenv("STORAGE_BACKEND") or "local"

describe("albums, tags and favourites on " .. backend .. " storage #storage", function()
  local server, alice, bob

  setup(function()
    server = server_helper.start()
    alice = api.signup(server)
    bob = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  local function call(account, method, path, json)
    return server.request(method, path, { headers = api.bearer(account.token), json = json })
  end

  local function ok_json(res, status)
    assert.equal(status or 200, res.status, res.body)
    return res.json()
  end

  local function upload(account, n, fields)
    local list = {}
    for i = 1, n do
      list[i] = library.upload(server, account, library.jpeg(600 + i), fields)
    end
    return list
  end

  local function ids_of(list)
    local ids = {}
    for i, item in ipairs(list) do
      ids[i] = item.id
    end
    return ids
  end

  local function listed(account, query)
    return ids_of(ok_json(call(account, "GET", "/api/v1/assets?" .. query)).items)
  end

  local function new_album(account, title)
    return ok_json(call(account, "POST", "/api/v1/albums", { title = title or "Trip" }), 201).album
  end

  describe("albums", function()
    it("creates, renames, describes and deletes an album; its assets stay", function()
      local photos = upload(alice, 2)
      local album = new_album(alice, "  Summer   2024 ")
      assert.equal("Summer 2024", album.title)
      assert.equal(0, album.asset_count)
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets",
        { asset_ids = ids_of(photos) }))
      local changed = ok_json(call(alice, "PATCH", "/api/v1/albums/" .. album.id,
        { title = "Summer", description = "by the sea" })).album
      assert.equal("Summer", changed.title)
      assert.equal("by the sea", changed.description)
      assert.equal(2, changed.asset_count)
      assert.same({ album.id }, ok_json(call(alice, "GET", "/api/v1/assets/" .. photos[1].id)).asset.album_ids)
      assert.equal(204, call(alice, "DELETE", "/api/v1/albums/" .. album.id).status)
      assert.equal(404, call(alice, "GET", "/api/v1/albums/" .. album.id).status)
      for _, photo in ipairs(photos) do
        assert.equal(200, call(alice, "GET", "/api/v1/assets/" .. photo.id).status)
      end
    end)

    it("refuses an empty or control-character title with 400", function()
      assert.equal(400, call(alice, "POST", "/api/v1/albums", { title = "   " }).status)
      assert.equal(400, call(alice, "POST", "/api/v1/albums", { title = "a\1b" }).status)
      assert.equal(400, call(alice, "POST", "/api/v1/albums", { title = string.rep("x", 201) }).status)
      assert.equal(400, call(alice, "POST", "/api/v1/albums", {}).status)
    end)

    it("lists albums with counts and the newest asset as cover, or the chosen one", function()
      local older = library.upload(server, alice, library.jpeg(700),
        { captured_at = "2020-01-01T00:00:00Z" })
      local newer = library.upload(server, alice, library.jpeg(701),
        { captured_at = "2021-01-01T00:00:00Z" })
      local album = new_album(alice, "Covers")
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets",
        { asset_ids = { older.id, newer.id } }))
      local function find()
        for _, item in ipairs(ok_json(call(alice, "GET", "/api/v1/albums")).items) do
          if item.id == album.id then
            return item
          end
        end
      end
      local item = find()
      assert.equal(2, item.asset_count)
      assert.equal(newer.id, item.cover.asset_id)
      ok_json(call(alice, "PATCH", "/api/v1/albums/" .. album.id, { cover_asset_id = older.id }))
      assert.equal(older.id, find().cover.asset_id)
      -- a trashed cover gives way to the newest visible asset; null goes back to the newest
      call(alice, "DELETE", "/api/v1/assets/" .. older.id)
      assert.equal(newer.id, find().cover.asset_id)
      assert.equal(1, find().asset_count)
      call(alice, "POST", "/api/v1/assets/" .. older.id .. "/restore")
      ok_json(call(alice, "PATCH", "/api/v1/albums/" .. album.id, { cover_asset_id = core.json.null }))
      assert.equal(newer.id, find().cover.asset_id)
      -- a cover must be in the album
      local outside = library.upload(server, alice, library.jpeg(702))
      assert.equal(404, call(alice, "PATCH", "/api/v1/albums/" .. album.id,
        { cover_asset_id = outside.id }).status)
    end)

    it("pages an album's contents with the library's cursor and filters", function()
      local photos = upload(alice, 5)
      local album = new_album(alice, "Paged")
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets",
        { asset_ids = ids_of(photos) }))
      local seen, cursor = {}, nil
      repeat
        local page = ok_json(call(alice, "GET", "/api/v1/albums/" .. album.id .. "/assets?limit=2"
          .. (cursor and ("&cursor=" .. cursor) or "")))
        for _, item in ipairs(page.items) do
          seen[#seen + 1] = item.id
        end
        cursor = page.next_cursor
      until not cursor
      assert.equal(5, #seen)
      assert.same(seen, listed(alice, "album_id=" .. album.id))
      assert.same({}, listed(alice, "album_id=" .. album.id .. "&type=video"))
      assert.equal(0, #listed(alice, "album_id=" .. album.id .. "&to=2000-01-01"))
    end)

    it("adds and removes in bulk, all or nothing (A2)", function()
      local mine = upload(alice, 2)
      local theirs = upload(bob, 1)
      local album = new_album(alice, "Bulk")
      local path = "/api/v1/albums/" .. album.id .. "/assets"
      local mixed = { mine[1].id, theirs[1].id }
      local res = call(alice, "POST", path, { asset_ids = mixed })
      assert.equal(404, res.status)
      assert.equal(0, ok_json(call(alice, "GET", "/api/v1/albums/" .. album.id)).album.asset_count)
      local missing = { mine[1].id, "00000000-0000-7000-8000-000000000000" }
      assert.equal(404, call(alice, "POST", path, { asset_ids = missing }).status)
      assert.equal(2, ok_json(call(alice, "POST", path, { asset_ids = ids_of(mine) })).changed)
      assert.equal(0, ok_json(call(alice, "POST", path, { asset_ids = ids_of(mine) })).changed)
      assert.equal(404, call(alice, "POST", path .. "/remove", { asset_ids = mixed }).status)
      assert.equal(2, ok_json(call(alice, "GET", "/api/v1/albums/" .. album.id)).album.asset_count)
      assert.equal(1, ok_json(call(alice, "POST", path .. "/remove",
        { asset_ids = { mine[1].id } })).changed)
      assert.same({ mine[2].id }, listed(alice, "album_id=" .. album.id))
    end)

    it("hides trashed assets from albums until they are restored", function()
      local photo = upload(alice, 1)[1]
      local album = new_album(alice, "Trash")
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets", { asset_ids = { photo.id } }))
      call(alice, "DELETE", "/api/v1/assets/" .. photo.id)
      assert.same({}, listed(alice, "album_id=" .. album.id))
      call(alice, "POST", "/api/v1/assets/" .. photo.id .. "/restore")
      assert.same({ photo.id }, listed(alice, "album_id=" .. album.id))
    end)

    it("answers 404 for another user's album on every route, and changes nothing (A1)", function()
      local album = new_album(alice, "Private")
      local photo = upload(bob, 1)[1]
      local base = "/api/v1/albums/" .. album.id
      -- the answer a missing album gets
      local missing = call(bob, "GET", "/api/v1/albums/00000000-0000-7000-8000-000000000000").json()
      assert.same({ code = "not_found", message = "album not found" }, missing.error)
      for _, c in ipairs({
        { "GET", base }, { "PATCH", base, { title = "mine now" } }, { "DELETE", base },
        { "GET", base .. "/assets" }, { "POST", base .. "/assets", { asset_ids = { photo.id } } },
        { "POST", base .. "/assets/remove", { asset_ids = { photo.id } } },
        { "GET", "/api/v1/assets?album_id=" .. album.id },
      }) do
        local res = call(bob, c[1], c[2], c[3])
        assert.equal(404, res.status, c[1] .. " " .. c[2])
        assert.same(missing, res.json())
      end
      assert.equal("Private", ok_json(call(alice, "GET", base)).album.title)
      for _, item in ipairs(ok_json(call(bob, "GET", "/api/v1/albums")).items) do
        assert.not_equal(album.id, item.id)
      end
    end)

    it("ignores fields it does not know instead of assigning them (A3)", function()
      local album = new_album(alice, "Mass")
      local res = call(alice, "PATCH", "/api/v1/albums/" .. album.id, { owner_id = bob.user.id })
      assert.equal(400, res.status)
      assert.equal(200, call(alice, "GET", "/api/v1/albums/" .. album.id).status)
    end)

    it("returns markup in titles as JSON-escaped text (X1)", function()
      local title = '<script>alert(1)</script>"><meta http-equiv=refresh content="0;url=javascript:x">'
      local res = call(alice, "POST", "/api/v1/albums", { title = title })
      assert.equal(201, res.status)
      assert.is_nil(res.body:find("<script>", 1, true))
      assert.is_nil(res.body:find("<meta", 1, true))
      assert.equal(title, res.json().album.title)
      assert.equal("application/json", res.headers["content-type"])
    end)
  end)

  describe("tags", function()
    local function tags_of(account)
      local by_name = {}
      for _, tag in ipairs(ok_json(call(account, "GET", "/api/v1/tags")).items) do
        by_name[tag.name] = tag
      end
      return by_name
    end

    it("makes tags by name, case-insensitively and trimmed, and lists counts", function()
      local photos = upload(alice, 3)
      ok_json(call(alice, "POST", "/api/v1/tags/attach",
        { names = { " Beach ", "beach", "Sunset" }, asset_ids = ids_of(photos) }))
      ok_json(call(alice, "POST", "/api/v1/tags/attach", { names = { "BEACH" }, asset_ids = { photos[1].id } }))
      local tags = tags_of(alice)
      assert.equal(3, tags.Beach.asset_count)
      assert.equal(3, tags.Sunset.asset_count)
      assert.is_nil(tags.BEACH)
      assert.same(ids_of(photos), (function()
        local list = listed(alice, "tag=bEACH")
        table.sort(list)
        local want = ids_of(photos)
        table.sort(want)
        assert.same(want, list)
        return ids_of(photos)
      end)())
      assert.same({ "Beach", "Sunset" }, ok_json(call(alice, "GET", "/api/v1/assets/" .. photos[1].id)).asset.tags)
      ok_json(call(alice, "POST", "/api/v1/tags/detach", { names = { "beach" }, asset_ids = { photos[1].id } }))
      assert.same({ "Sunset" }, ok_json(call(alice, "GET", "/api/v1/assets/" .. photos[1].id)).asset.tags)
      assert.equal(2, tags_of(alice).Beach.asset_count)
      -- a tag nobody has lists nothing; SQL probes are only names (I5)
      assert.same({}, listed(alice, "tag=nothing-like-this"))
      for _, probe in ipairs({ "%27%20OR%201%3D1--", "1%3BDROP%20TABLE%20tags", "%25", "_", "%5C" }) do
        assert.same({}, listed(alice, "tag=" .. probe))
      end
      assert.equal(400, call(alice, "GET", "/api/v1/assets?album_id=%27%20OR%201%3D1--").status)
      assert.equal("ok", core.db.query("PRAGMA integrity_check")[1].integrity_check)
    end)

    it("refuses empty, too long or control-character names with 400", function()
      local photo = upload(alice, 1)[1]
      for _, name in ipairs({ "  ", string.rep("t", 65), "a\1b", "a\rb" }) do
        assert.equal(400, call(alice, "POST", "/api/v1/tags/attach",
          { names = { name }, asset_ids = { photo.id } }).status)
      end
    end)

    it("renames (a taken name is a conflict) and deletes tags; the assets stay", function()
      local photo = upload(alice, 1)[1]
      ok_json(call(alice, "POST", "/api/v1/tags/attach", { names = { "Old", "Other" }, asset_ids = { photo.id } }))
      local tags = tags_of(alice)
      local renamed = ok_json(call(alice, "PATCH", "/api/v1/tags/" .. tags.Old.id, { name = "New" })).tag
      assert.equal("New", renamed.name)
      assert.equal(409, call(alice, "PATCH", "/api/v1/tags/" .. tags.Old.id, { name = "other" }).status)
      assert.equal(204, call(alice, "DELETE", "/api/v1/tags/" .. tags.Old.id).status)
      assert.is_nil(tags_of(alice).New)
      assert.equal(200, call(alice, "GET", "/api/v1/assets/" .. photo.id).status)
    end)

    it("tags all or nothing, and another user's tag answers 404 (A1, A2)", function()
      local mine = upload(alice, 1)[1]
      local theirs = upload(bob, 1)[1]
      local res = call(alice, "POST", "/api/v1/tags/attach",
        { names = { "Mixed" }, asset_ids = { mine.id, theirs.id } })
      assert.equal(404, res.status)
      assert.is_nil(tags_of(alice).Mixed)
      ok_json(call(alice, "POST", "/api/v1/tags/attach", { names = { "Secret" }, asset_ids = { mine.id } }))
      local secret = tags_of(alice).Secret
      assert.equal(404, call(bob, "PATCH", "/api/v1/tags/" .. secret.id, { name = "x" }).status)
      assert.equal(404, call(bob, "DELETE", "/api/v1/tags/" .. secret.id).status)
      assert.is_nil(tags_of(bob).Secret)
      assert.same({}, listed(bob, "tag=secret"))
      assert.equal(1, tags_of(alice).Secret.asset_count)
    end)

    it("hides trashed assets from tags until restored", function()
      local photo = upload(alice, 1)[1]
      ok_json(call(alice, "POST", "/api/v1/tags/attach", { names = { "Binned" }, asset_ids = { photo.id } }))
      call(alice, "DELETE", "/api/v1/assets/" .. photo.id)
      assert.same({}, listed(alice, "tag=binned"))
      assert.equal(0, tags_of(alice).Binned.asset_count)
      call(alice, "POST", "/api/v1/assets/" .. photo.id .. "/restore")
      assert.same({ photo.id }, listed(alice, "tag=binned"))
    end)
  end)

  describe("favourites", function()
    it("marks and unmarks one or many, and filters the library by them", function()
      local photos = upload(alice, 3)
      assert.equal(204, call(alice, "PUT", "/api/v1/assets/" .. photos[1].id .. "/favorite").status)
      assert.is_true(ok_json(call(alice, "GET", "/api/v1/assets/" .. photos[1].id)).asset.favorite)
      ok_json(call(alice, "POST", "/api/v1/assets/bulk", { action = "favorite",
        ids = { photos[2].id, photos[3].id } }))
      local favs = listed(alice, "favorite=true")
      for _, photo in ipairs(photos) do
        assert.truthy((function()
          for _, id in ipairs(favs) do
            if id == photo.id then
              return true
            end
          end
        end)())
      end
      assert.equal(204, call(alice, "DELETE", "/api/v1/assets/" .. photos[1].id .. "/favorite").status)
      assert.is_false(ok_json(call(alice, "GET", "/api/v1/assets/" .. photos[1].id)).asset.favorite)
      -- the filters combine: favourites in an album, photos only
      local album = new_album(alice, "Favs")
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets", { asset_ids = ids_of(photos) }))
      local combined = listed(alice, "album_id=" .. album.id .. "&favorite=true&type=photo")
      table.sort(combined)
      local want = { photos[2].id, photos[3].id }
      table.sort(want)
      assert.same(want, combined)
    end)

    it("marks nothing when one id is someone else's (A1, A2)", function()
      local mine = upload(alice, 1)[1]
      local theirs = upload(bob, 1)[1]
      assert.equal(404, call(alice, "POST", "/api/v1/assets/bulk", { action = "favorite",
        ids = { mine.id, theirs.id } }).status)
      assert.is_false(ok_json(call(alice, "GET", "/api/v1/assets/" .. mine.id)).asset.favorite)
      assert.equal(404, call(alice, "PUT", "/api/v1/assets/" .. theirs.id .. "/favorite").status)
      assert.is_false(ok_json(call(bob, "GET", "/api/v1/assets/" .. theirs.id)).asset.favorite)
    end)
  end)

  describe("the change feed", function()
    it("lists what was added, changed, trashed, restored and purged since a position", function()
      local carol = api.signup(server)
      local start = ok_json(call(carol, "GET", "/api/v1/assets/changes"))
      assert.same({}, start.changes)
      local photo = upload(carol, 1)[1]
      call(carol, "PUT", "/api/v1/assets/" .. photo.id .. "/favorite")
      call(carol, "DELETE", "/api/v1/assets/" .. photo.id)
      call(carol, "POST", "/api/v1/assets/" .. photo.id .. "/restore")
      local feed = ok_json(call(carol, "GET", "/api/v1/assets/changes?since=" .. start.next_since))
      local kinds = {}
      for i, change in ipairs(feed.changes) do
        kinds[i] = change.kind
        assert.equal(photo.id, change.asset_id)
        assert.equal(photo.id, change.asset.id)
      end
      assert.same({ "added", "changed", "trashed", "restored" }, kinds)
      assert.is_false(feed.has_more)
      call(carol, "DELETE", "/api/v1/assets/" .. photo.id)
      assert.equal(204, call(carol, "DELETE", "/api/v1/assets/" .. photo.id .. "/purge").status)
      local after = ok_json(call(carol, "GET", "/api/v1/assets/changes?since=" .. feed.next_since))
      assert.equal(2, #after.changes)
      assert.equal("trashed", after.changes[1].kind)
      assert.equal("purged", after.changes[2].kind)
      assert.is_nil(after.changes[2].asset)
      -- nothing new: an empty page and a position to come back with
      local idle = ok_json(call(carol, "GET", "/api/v1/assets/changes?since=" .. after.next_since))
      assert.same({}, idle.changes)
    end)

    it("pages with has_more, and refuses another user's or a forged position", function()
      local dave = api.signup(server)
      local start = ok_json(call(dave, "GET", "/api/v1/assets/changes")).next_since
      upload(dave, 3)
      local first = ok_json(call(dave, "GET", "/api/v1/assets/changes?limit=2&since=" .. start))
      assert.equal(2, #first.changes)
      assert.is_true(first.has_more)
      local rest = ok_json(call(dave, "GET", "/api/v1/assets/changes?limit=2&since=" .. first.next_since))
      assert.equal(1, #rest.changes)
      local res = call(bob, "GET", "/api/v1/assets/changes?since=" .. start)
      assert.equal(400, res.status)
      assert.equal("invalid_cursor", res.json().error.code)
      assert.equal(400, call(dave, "GET", "/api/v1/assets/changes?since=abc.def").status)
    end)
  end)
end)
