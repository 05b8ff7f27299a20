-- Share links end to end against a real server, on the storage backend the environment
-- names: the owner's calls, public access without an account, passwords and share
-- sessions, throttling, expiry and revoke, GPS, and the policy hooks. Covers
-- SECURITY.md A1-A10, F6 and X1 for shares.
local api = require("helpers.api")
local http = require("helpers.http")
local library = require("helpers.library")
local server_helper = require("helpers.server")

local backend = os.getenv("STORAGE_BACKEND") or "local"

local SHARE_PASSWORD = "open sesame please"

describe("shares on " .. backend .. " storage #storage", function()
  local server, alice, bob

  setup(function()
    -- X-Forwarded-For from loopback is believed, so specs can speak from many addresses
    server = server_helper.start({ env = { TRUSTED_PROXIES = "127.0.0.1" } })
    alice = api.signup(server)
    bob = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  local function call(account, method, path, json)
    return server.request(method, path, { headers = api.bearer(account.token), json = json })
  end

  -- A request without an account; headers may carry a share session or an address.
  local function visit(method, path, options)
    return server.request(method, path, options)
  end

  local function ok_json(res, status)
    assert.equal(status or 200, res.status, res.body)
    return res.json()
  end

  local function share(account, fields)
    return ok_json(call(account, "POST", "/api/v1/shares", fields), 201).share
  end

  local function photo(account, fields)
    return library.upload(server, account, library.jpeg(900 + math.random(1, 100000)), fields)
  end

  local function album_of(account, assets, title)
    local album = ok_json(call(account, "POST", "/api/v1/albums", { title = title or "Holiday" }), 201).album
    local ids = {}
    for i, a in ipairs(assets) do
      ids[i] = a.id
    end
    ok_json(call(account, "POST", "/api/v1/albums/" .. album.id .. "/assets", { asset_ids = ids }))
    return album
  end

  local function unlock(token, password, headers)
    return visit("POST", "/api/v1/shares/" .. token .. "/unlock",
      { json = { password = password }, headers = headers })
  end

  local function with_session(session)
    return { headers = { ["X-Share-Session"] = session } }
  end

  -- A second server on the same database, with its own policy.
  local function server_with(policy)
    local copy = server_helper.temp_dir()
    assert(os.execute("cp -r lua config " .. copy .. "/"))
    local f = assert(io.open(copy .. "/config/policy.lua", "w"))
    f:write(policy)
    f:close()
    return server_helper.start({ env = { LUA_DIR = copy .. "/lua", CONFIG_DIR = copy .. "/config" } })
  end

  local function set_column(share_id, column, value)
    assert(core.db.exec("UPDATE shares SET " .. column .. " = ? WHERE id = ?", value, share_id))
  end

  describe("the owner", function()
    it("shares an asset and lists the share with its state, token and views", function()
      local p = photo(alice)
      local s = share(alice, { asset_id = p.id })
      assert.equal("asset", s.type)
      assert.equal("active", s.state)
      assert.is_true(#s.token >= 43)   -- 256 bits in base64url
      assert.is_false(s.password_protected)
      assert.equal(0, s.view_count)
      -- two visitors (one visitor coming back is counted once per half hour: the
      -- services spec shows it, within one server thread)
      ok_json(visit("GET", "/api/v1/shares/" .. s.token, { headers = { ["X-Forwarded-For"] = "10.9.0.1" } }))
      ok_json(visit("GET", "/api/v1/shares/" .. s.token, { headers = { ["X-Forwarded-For"] = "10.9.0.2" } }))
      local listed
      for _, item in ipairs(ok_json(call(alice, "GET", "/api/v1/shares")).items) do
        if item.id == s.id then
          listed = item
        end
      end
      assert.equal(2, listed.view_count)
      assert.is_string(listed.last_viewed_at)
      assert.equal(s.token, listed.token)
      assert.equal("photo.jpg", listed.asset_filename)
    end)

    it("stores no token: only its hash, so the database alone opens nothing", function()
      local s = share(alice, { asset_id = photo(alice).id })
      local row = core.db.query("SELECT * FROM shares WHERE id = ?", s.id)[1]
      for _, value in pairs(row) do
        assert.not_equal(s.token, value)
      end
      assert.equal(core.crypto.sha256_hex(s.token), row.token_hash)
    end)

    it("refuses a share of nothing, of both, or of what is not theirs (A1)", function()
      local p = photo(alice)
      local album = album_of(alice, { p })
      assert.equal(400, call(alice, "POST", "/api/v1/shares", {}).status)
      assert.equal(400, call(alice, "POST", "/api/v1/shares", { asset_id = p.id, album_id = album.id }).status)
      assert.equal(404, call(bob, "POST", "/api/v1/shares", { asset_id = p.id }).status)
      assert.equal(404, call(bob, "POST", "/api/v1/shares", { album_id = album.id }).status)
      assert.equal(400, call(alice, "POST", "/api/v1/shares", { asset_id = p.id,
        expires_at = "2001-01-01T00:00:00Z" }).status)
      assert.equal(400, call(alice, "POST", "/api/v1/shares", { asset_id = p.id, password = "short" }).status)
    end)

    it("changes expiry and password, owner only, by token or id (A1, A9)", function()
      local s = share(alice, { asset_id = photo(alice).id })
      local later = core.time.iso8601(os.time() + 86400)
      local changed = ok_json(call(alice, "PATCH", "/api/v1/shares/" .. s.id,
        { expires_at = later, password = SHARE_PASSWORD }))
      assert.is_true(changed.share.password_protected)
      assert.equal(later, changed.share.expires_at)
      changed = ok_json(call(alice, "PATCH", "/api/v1/shares/" .. s.token,
        { expires_at = core.json.null, password = core.json.null }))
      assert.is_nil(changed.share.expires_at)
      assert.is_false(changed.share.password_protected)
      -- a visitor or another user cannot extend it or turn on downloads
      assert.equal(401, visit("PATCH", "/api/v1/shares/" .. s.token,
        { json = { allow_download = true } }).status)
      assert.equal(404, call(bob, "PATCH", "/api/v1/shares/" .. s.token, { allow_download = true }).status)
      assert.equal(404, call(bob, "PATCH", "/api/v1/shares/" .. s.id, { expires_at = later }).status)
      assert.equal(404, call(bob, "POST", "/api/v1/shares/" .. s.token .. "/revoke").status)
      local row = core.db.query("SELECT allow_download, expires_at, revoked_at FROM shares WHERE id = ?", s.id)[1]
      assert.equal(0, row.allow_download)
      assert.is_nil(row.expires_at)
      assert.is_nil(row.revoked_at)
      -- nothing else can be assigned (A3)
      assert.equal(400, call(alice, "PATCH", "/api/v1/shares/" .. s.id, { owner_id = bob.user.id }).status)
      assert.equal(400, call(alice, "PATCH", "/api/v1/shares/" .. s.id, { view_count = 0 }).status)
    end)

    it("never lists another user's shares (A1)", function()
      local s = share(alice, { asset_id = photo(alice).id })
      for _, item in ipairs(ok_json(call(bob, "GET", "/api/v1/shares")).items) do
        assert.not_equal(s.id, item.id)
      end
    end)
  end)

  describe("a visitor", function()
    it("sees one shared asset without the owner's email, ids or location", function()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET gps_latitude = 48.8584, gps_longitude = 2.2945,"
        .. " camera_model = 'X100' WHERE id = ?", p.id))
      local s = share(alice, { asset_id = p.id })
      local res = visit("GET", "/api/v1/shares/" .. s.token)
      local body = ok_json(res)
      assert.equal(p.id, body.asset.id)
      assert.equal("X100", body.asset.camera_model)
      assert.is_nil(body.asset.gps_latitude)
      assert.is_nil(body.asset.gps_longitude)
      assert.is_nil(body.asset.sha256)
      assert.is_nil(body.asset.owner_id)
      assert.is_nil(res.body:find(alice.email, 1, true))
      assert.is_nil(res.body:find(alice.user.id, 1, true))
      assert.is_nil(res.body:find("48.8584", 1, true))
      -- unless the owner includes it (F6 on the API representation)
      local with_gps = share(alice, { asset_id = p.id, include_location = true })
      assert.equal(48.8584, ok_json(visit("GET", "/api/v1/shares/" .. with_gps.token)).asset.gps_latitude)
    end)

    it("pages a shared album and sees only its assets, without locations", function()
      local inside = { photo(alice), photo(alice), photo(alice) }
      local outside = photo(alice)
      assert(core.db.exec("UPDATE assets SET gps_latitude = 1.5, gps_longitude = 2.5 WHERE id = ?",
        inside[1].id))
      local album = album_of(alice, inside, "Shared album")
      local s = share(alice, { album_id = album.id })
      local seen, cursor = {}, nil
      repeat
        local page = ok_json(visit("GET", "/api/v1/shares/" .. s.token .. "?limit=2"
          .. (cursor and ("&cursor=" .. cursor) or "")))
        assert.equal("Shared album", page.album.title)
        assert.equal(3, page.album.asset_count)
        for _, item in ipairs(page.items) do
          seen[item.id] = true
          assert.is_nil(item.gps_latitude)
        end
        cursor = page.next_cursor
      until not cursor
      for _, a in ipairs(inside) do
        assert.is_true(seen[a.id])
      end
      assert.is_nil(seen[outside.id])
      -- the owner's own cursor is not the share's (I6)
      local owner_page = ok_json(call(alice, "GET", "/api/v1/albums/" .. album.id .. "/assets?limit=1"))
      assert.equal(400, visit("GET", "/api/v1/shares/" .. s.token .. "?cursor=" .. owner_page.next_cursor).status)
      -- an album share keeps up with the album
      ok_json(call(alice, "POST", "/api/v1/albums/" .. album.id .. "/assets/remove",
        { asset_ids = { inside[3].id } }))
      assert.equal(2, #ok_json(visit("GET", "/api/v1/shares/" .. s.token)).items)
    end)

    it("gets signed URLs only for what the share covers", function()
      local inside = photo(alice)
      local outside = photo(alice)
      local foreign = photo(bob)
      local album = album_of(alice, { inside })
      local s = share(alice, { album_id = album.id, allow_download = true })
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1 WHERE id = ?", inside.id))
      local base = "/api/v1/shares/" .. s.token .. "/download-url?kind=original&asset_id="
      local got = ok_json(visit("GET", base .. inside.id))
      assert.is_true(got.expires_in <= 300)
      local file = library.fetch(server, "GET", got.url)
      assert.equal(200, file.status)
      assert.equal(inside.size_bytes, #file.body)
      assert.equal(404, visit("GET", base .. outside.id).status)
      assert.equal(404, visit("GET", base .. foreign.id).status)
      assert.equal(400, visit("GET", "/api/v1/shares/" .. s.token .. "/download-url").status)
      -- a single-asset share covers that asset only
      local single = share(alice, { asset_id = inside.id })
      assert.equal(404, visit("GET", "/api/v1/shares/" .. single.token .. "/download-url?kind=thumb&asset_id="
        .. outside.id).status)
    end)

    it("gets originals only when the owner allows downloads (A9)", function()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1 WHERE id = ?", p.id))
      local s = share(alice, { asset_id = p.id })
      local res = visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original")
      assert.equal(403, res.status)
      assert.equal("download_not_allowed", res.json().error.code)
      -- a visitor cannot turn it on
      assert.equal(400, visit("GET", "/api/v1/shares/" .. s.token
        .. "/download-url?kind=original&allow_download=true").status)
      assert.equal(403, visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original").status)
    end)

    it("gets no original that may hold a location unless the owner included it (F6)", function()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1, gps_latitude = 10.0,"
        .. " gps_longitude = 20.0 WHERE id = ?", p.id))
      local s = share(alice, { asset_id = p.id, allow_download = true })
      local res = visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original")
      assert.equal(403, res.status)
      assert.equal("location_withheld", res.json().error.code)
      -- metadata not read yet: the file might hold one
      local pending = photo(alice)
      local s2 = share(alice, { asset_id = pending.id, allow_download = true })
      assert.equal(403, visit("GET", "/api/v1/shares/" .. s2.token .. "/download-url?kind=original").status)
      local located = share(alice, { asset_id = p.id, allow_download = true, include_location = true })
      assert.equal(200, visit("GET", "/api/v1/shares/" .. located.token .. "/download-url?kind=original").status)
    end)

    it("answers the same 404 for unknown, truncated, case-changed, revoked and expired tokens (A4)", function()
      local p = photo(alice)
      local live = share(alice, { asset_id = p.id })
      local revoked = share(alice, { asset_id = p.id })
      assert.equal(204, call(alice, "POST", "/api/v1/shares/" .. revoked.token .. "/revoke").status)
      local expired = share(alice, { asset_id = p.id })
      set_column(expired.id, "expires_at", "2020-01-01T00:00:00.000Z")
      local album = album_of(alice, { p }, "Gone")
      local deleted_album = share(alice, { album_id = album.id })
      assert.equal(204, call(alice, "DELETE", "/api/v1/albums/" .. album.id).status)
      local swapped = live.token:gsub("%a", function(c)
        return c == c:lower() and c:upper() or c:lower()
      end)
      local bad = { "nope", live.token:sub(1, -2), live.token .. "A", swapped, revoked.token,
        expired.token, deleted_album.token, string.rep("A", 43), "%27%20OR%201%3D1--",
        string.rep("x", 3000), "%FF%FE", "%E2%80%AE" }
      local reference = visit("GET", "/api/v1/shares/" .. bad[1])
      assert.equal(404, reference.status)
      for _, token in ipairs(bad) do
        for _, suffix in ipairs({ "", "/download-url?kind=thumb" }) do
          local res = visit("GET", "/api/v1/shares/" .. token .. suffix)
          assert.equal(404, res.status, token .. suffix)
          assert.same(reference.json(), res.json())
        end
        local res = unlock(token, "whatever it is")
        assert.equal(404, res.status)
        assert.same(reference.json(), res.json())
      end
      assert.equal(200, visit("GET", "/api/v1/shares/" .. live.token).status)
    end)

    it("loses access on the very next request after revoke or expiry (A7, A10)", function()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1 WHERE id = ?", p.id))
      local s = share(alice, { asset_id = p.id, allow_download = true })
      local minted = ok_json(visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original"))
      assert.equal(204, call(alice, "POST", "/api/v1/shares/" .. s.id .. "/revoke").status)
      assert.equal(404, visit("GET", "/api/v1/shares/" .. s.token).status)
      assert.equal(404, visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original").status)
      assert.equal("revoked", ok_json(call(alice, "GET", "/api/v1/shares")).items[1].state)
      assert.equal(409, call(alice, "PATCH", "/api/v1/shares/" .. s.id, { allow_download = true }).status)
      -- a URL minted before lives at most its short TTL; deleting the asset ends it now
      assert.is_true(minted.expires_in <= 300)
      call(alice, "DELETE", "/api/v1/assets/" .. p.id)
      assert.equal(204, call(alice, "DELETE", "/api/v1/assets/" .. p.id .. "/purge").status)
      local dead = library.fetch(server, "GET", minted.url)
      assert.equal(404, dead.status)
      -- expiry
      local q = photo(alice)
      local e = share(alice, { asset_id = q.id })
      assert.equal(200, visit("GET", "/api/v1/shares/" .. e.token).status)
      set_column(e.id, "expires_at", core.time.iso8601(os.time() - 1))
      assert.equal(404, visit("GET", "/api/v1/shares/" .. e.token).status)
    end)

    it("loses a shared asset while it is in the trash (and gets it back with it)", function()
      local p = photo(alice)
      local q = photo(alice)
      local single = share(alice, { asset_id = p.id })
      local album = album_of(alice, { p, q })
      local s = share(alice, { album_id = album.id })
      call(alice, "DELETE", "/api/v1/assets/" .. p.id)
      assert.equal(404, visit("GET", "/api/v1/shares/" .. single.token).status)
      local page = ok_json(visit("GET", "/api/v1/shares/" .. s.token))
      assert.equal(1, #page.items)
      assert.equal(q.id, page.items[1].id)
      assert.equal(1, page.album.asset_count)
      assert.equal(404, visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=thumb&asset_id="
        .. p.id).status)
      call(alice, "POST", "/api/v1/assets/" .. p.id .. "/restore")
      assert.equal(200, visit("GET", "/api/v1/shares/" .. single.token).status)
      assert.equal(2, #ok_json(visit("GET", "/api/v1/shares/" .. s.token)).items)
    end)

    it("ends with the owner's account", function()
      local carol = api.signup(server)
      local s = share(carol, { asset_id = photo(carol).id })
      assert(core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", carol.user.id))
      assert.equal(404, visit("GET", "/api/v1/shares/" .. s.token).status)
    end)
  end)

  describe("a password", function()
    local function protected_album()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1 WHERE id = ?", p.id))
      local album = album_of(alice, { p }, "Secret <b>album</b>")
      return share(alice, { album_id = album.id, password = SHARE_PASSWORD, allow_download = true }), p
    end

    it("is stored as argon2id", function()
      local s = protected_album()
      local row = core.db.query("SELECT password_hash FROM shares WHERE id = ?", s.id)[1]
      assert.equal("$argon2id$", row.password_hash:sub(1, 10))
      assert.is_nil(row.password_hash:find(SHARE_PASSWORD, 1, true))
    end)

    it("locks every route and leaks nothing before unlock (A5)", function()
      local s, p = protected_album()
      for _, path in ipairs({ "", "?limit=1", "/download-url?kind=thumb&asset_id=" .. p.id,
        "/download-url?kind=original&asset_id=" .. p.id,
        "/download-url?kind=preview&asset_id=" .. p.id }) do
        local res = visit("GET", "/api/v1/shares/" .. s.token .. path)
        assert.equal(401, res.status, path)
        assert.same({ error = { code = "share_locked", message = "this share is protected by a password" } },
          res.json())
        assert.is_nil(res.body:find("Secret", 1, true))
        assert.is_nil(res.body:find(p.id, 1, true))
        -- a forged session does not help
        local forged = visit("GET", "/api/v1/shares/" .. s.token .. path, with_session("e30.AAAA"))
        assert.equal(401, forged.status)
      end
      assert.equal(0, core.db.query("SELECT view_count FROM shares WHERE id = ?", s.id)[1].view_count)
    end)

    it("unlocks with the password in the body for a session bound to the share", function()
      local s, p = protected_album()
      local wrong = unlock(s.token, "not the password", { ["X-Forwarded-For"] = "10.1.0.1" })
      assert.equal(401, wrong.status)
      assert.equal("invalid_share_password", wrong.json().error.code)
      local res = unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.1.0.2" })
      local session = ok_json(res).share_session
      assert.is_string(session)
      local page = ok_json(visit("GET", "/api/v1/shares/" .. s.token, with_session(session)))
      assert.equal(p.id, page.items[1].id)
      assert.equal(200, visit("GET", "/api/v1/shares/" .. s.token .. "/download-url?kind=original&asset_id="
        .. p.id, with_session(session)).status)
      -- the session opens this share only
      local other = protected_album()
      assert.equal(401, visit("GET", "/api/v1/shares/" .. other.token, with_session(session)).status)
    end)

    it("is refused in the query string (A8)", function()
      local s = protected_album()
      local res = visit("GET", "/api/v1/shares/" .. s.token .. "?password=" .. SHARE_PASSWORD:gsub(" ", "+"))
      assert.equal(400, res.status)
      local post = visit("POST", "/api/v1/shares/" .. s.token .. "/unlock?password=x",
        { json = { password = SHARE_PASSWORD } })
      assert.equal(400, post.status)
      assert.is_nil(server.log():find(SHARE_PASSWORD, 1, true))
    end)

    it("ends unlocked sessions when it changes, is removed, or the share is revoked (A7)", function()
      local s = protected_album()
      local function session()
        return ok_json(unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.2.0." .. math.random(1, 250) }))
          .share_session
      end
      local before = session()
      ok_json(call(alice, "PATCH", "/api/v1/shares/" .. s.id, { password = SHARE_PASSWORD }))
      assert.equal(401, visit("GET", "/api/v1/shares/" .. s.token, with_session(before)).status)
      local again = session()
      assert.equal(200, visit("GET", "/api/v1/shares/" .. s.token, with_session(again)).status)
      ok_json(call(alice, "PATCH", "/api/v1/shares/" .. s.id, { expires_at = core.time.iso8601(os.time() + 600) }))
      assert.equal(200, visit("GET", "/api/v1/shares/" .. s.token, with_session(again)).status)
      assert.equal(204, call(alice, "POST", "/api/v1/shares/" .. s.token .. "/revoke").status)
      assert.equal(404, visit("GET", "/api/v1/shares/" .. s.token, with_session(again)).status)
    end)

    it("is throttled per address: 401s, then 429 with Retry-After, even for the right one (A6)", function()
      local s = protected_album()
      local from = { ["X-Forwarded-For"] = "10.3.0.1" }
      local statuses = {}
      for i = 1, 8 do
        statuses[i] = unlock(s.token, "wrong guess " .. i, from).status
      end
      assert.equal(401, statuses[1])
      assert.equal(429, statuses[8])
      local limited = unlock(s.token, SHARE_PASSWORD, from)
      assert.equal(429, limited.status)
      assert.truthy(tonumber(limited.headers["retry-after"]))
      -- another address is not held back by this one's failures
      assert.equal(200, unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.3.0.2" }).status)
    end)

    it("is throttled per share when guesses come from many addresses (A6)", function()
      local s = protected_album()
      local statuses = {}
      for i = 1, 14 do
        statuses[i] = unlock(s.token, "spread guess " .. i, { ["X-Forwarded-For"] = "10.4.0." .. i }).status
      end
      assert.equal(401, statuses[1])
      assert.equal(429, statuses[14])
      assert.equal(429, unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.4.1.1" }).status)
      -- the counters live in the database, like the login throttle's
      assert.truthy(core.db.query("SELECT failures FROM auth_throttle WHERE key = ?", "share:" .. s.id)[1])
    end)

    it("ignores X-Forwarded-For from a peer that is not a trusted proxy (H7)", function()
      local direct = server_helper.start()
      local ok, err = pcall(function()
        local s = protected_album()
        local statuses = {}
        for i = 1, 8 do
          statuses[i] = direct.request("POST", "/api/v1/shares/" .. s.token .. "/unlock",
            { json = { password = "spoofed guess " .. i }, headers = { ["X-Forwarded-For"] = "10.9.9." .. i } }).status
        end
        -- one address's 5 free guesses, then waits (the one-second wait may lapse once)
        assert.equal(401, statuses[1])
        assert.is_truthy(table.concat(statuses, " "):find("429", 1, true))
        assert.truthy(core.db.query("SELECT 1 AS found FROM auth_throttle WHERE key = ?", "share_ip:127.0.0.1")[1])
      end)
      direct.stop()
      assert(ok, err)
    end)

    it("throttles an IPv6 visitor by the /64, however many of its addresses it uses (A6)", function()
      local s = protected_album()
      local statuses = {}
      for i = 1, 8 do
        statuses[i] = unlock(s.token, "ipv6 guess " .. i,
          { ["X-Forwarded-For"] = string.format("2001:db8:5:6:%x::1", i) }).status
      end
      -- one network's 5 free guesses, then waits (the one-second wait may lapse once)
      assert.equal(401, statuses[1])
      assert.is_truthy(table.concat(statuses, " "):find("429", 1, true))
      -- another network is not held back by this one's failures
      assert.equal(200, unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "2001:db8:5:7::1" }).status)
    end)

    it("counts guesses sent at once before checking any of them (A6)", function()
      -- many server threads, each taking a guess at the same moment
      local busy = server_helper.start({ env = { TRUSTED_PROXIES = "127.0.0.1", HTTP_THREADS = "16" } })
      local ok, err = pcall(function()
        local owner = api.signup(busy)
        local p = library.upload(busy, owner, library.jpeg(4321))
        local s = busy.request("POST", "/api/v1/shares", { headers = api.bearer(owner.token),
          json = { asset_id = p.id, password = SHARE_PASSWORD } }).json().share
        -- the guesses checked (401) from one address, sent 40 at once; each second the
        -- burst spans lets the throttle's one-second delay allow one more
        local function checked(from)
          local counts, started = { [401] = 0, [429] = 0 }, os.time()
          for _, status in ipairs(http.burst(busy.port, 40, "POST", "/api/v1/shares/" .. s.token .. "/unlock",
            { json = { password = "wrong guess" }, headers = { ["X-Forwarded-For"] = from } })) do
            counts[status] = (counts[status] or 0) + 1
          end
          assert.equal(40, counts[401] + counts[429])
          return counts[401], os.time() - started
        end
        -- one address gets its 5 free guesses checked, no more
        local first, spanned = checked("10.6.0.1")
        assert.is_true(first >= 1 and first <= 5 + spanned, first .. " checked")
        -- and the share as a whole its 10, from however many addresses
        local second
        second, spanned = checked("10.6.0.2")
        assert.is_true(second >= 1 and first + second <= 10 + spanned, second .. " checked")
      end)
      busy.stop()
      assert(ok, err)
    end)

    it("escapes the album title in JSON once unlocked (X1)", function()
      local s = protected_album()
      local session = ok_json(unlock(s.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.5.0.1" })).share_session
      local res = visit("GET", "/api/v1/shares/" .. s.token, with_session(session))
      assert.equal(200, res.status)
      assert.is_nil(res.body:find("<b>", 1, true))
      assert.equal("Secret <b>album</b>", res.json().album.title)
    end)
  end)

  describe("the policy", function()
    it("can forbid shares, cap expiry, require passwords and forbid downloads", function()
      local strict = server_with("return { share_max_expiry_days = 7, share_password_required = true,"
        .. " share_downloads_allowed = false, shares_allowed = function(user)"
        .. " return not user.email:find('^nobody') end }")
      local carol = api.signup(strict)
      local nobody = api.signup(strict, api.unique_email("nobody"))
      local p = library.upload(strict, carol, library.jpeg(1234))
      local function create(account, fields)
        return strict.request("POST", "/api/v1/shares", { headers = api.bearer(account.token), json = fields })
      end
      local ok, err = pcall(function()
        assert.equal(400, create(carol, { asset_id = p.id }).status)
        assert.equal(403, create(carol, { asset_id = p.id, password = SHARE_PASSWORD, allow_download = true }).status)
        assert.equal(400, create(carol, { asset_id = p.id, password = SHARE_PASSWORD,
          expires_at = core.time.iso8601(os.time() + 8 * 86400) }).status)
        local made = create(carol, { asset_id = p.id, password = SHARE_PASSWORD })
        assert.equal(201, made.status)
        local expires = core.time.parse_iso8601(made.json().share.expires_at)
        assert.is_true(expires > os.time() + 6 * 86400 and expires <= os.time() + 7 * 86400 + 5)
        local id = made.json().share.id
        local patch = strict.request("PATCH", "/api/v1/shares/" .. id, { headers = api.bearer(carol.token),
          json = { expires_at = core.json.null } })
        assert.equal(400, patch.status)
        patch = strict.request("PATCH", "/api/v1/shares/" .. id, { headers = api.bearer(carol.token),
          json = { password = core.json.null } })
        assert.equal(400, patch.status)
        local q = library.upload(strict, nobody, library.jpeg(1235))
        local refused = create(nobody, { asset_id = q.id, password = SHARE_PASSWORD })
        assert.equal(403, refused.status)
        assert.equal("shares_disabled", refused.json().error.code)
      end)
      strict.stop()
      assert(ok, err)
    end)
  end)

  describe("a policy made stricter after the links", function()
    it("holds for links made before it, on the very next request", function()
      local p = photo(alice)
      assert(core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 1 WHERE id = ?", p.id))
      local open_share = share(alice, { asset_id = p.id, allow_download = true })
      local locked = share(alice, { asset_id = p.id, allow_download = true, password = SHARE_PASSWORD })
      local session = ok_json(unlock(locked.token, SHARE_PASSWORD, { ["X-Forwarded-For"] = "10.8.0.1" })).share_session
      local strict = server_with("return { share_downloads_allowed = false, share_password_required = true,"
        .. " shares_allowed = function(user) return user.email ~= '" .. alice.email .. "' end }")
      local function get(path, options)
        return strict.request("GET", path, options)
      end
      local ok, err = pcall(function()
        -- public links of an owner who may no longer share answer like unknown ones
        for _, path in ipairs({ "/api/v1/shares/" .. open_share.token,
          "/api/v1/shares/" .. open_share.token .. "/download-url?kind=thumb" }) do
          local res = get(path)
          assert.equal(404, res.status, path)
          assert.same(get("/api/v1/shares/nope").json(), res.json())
        end
        assert.equal(404, get("/api/v1/shares/" .. locked.token, with_session(session)).status)
      end)
      strict.stop()
      assert(ok, err)
      strict = server_with("return { share_downloads_allowed = false, share_password_required = true }")
      ok, err = pcall(function()
        -- no downloads any more, and a link without a password is no longer served
        local res = get("/api/v1/shares/" .. locked.token .. "/download-url?kind=original", with_session(session))
        assert.equal(403, res.status)
        assert.equal("download_not_allowed", res.json().error.code)
        assert.is_false(ok_json(get("/api/v1/shares/" .. locked.token, with_session(session))).share.allow_download)
        assert.equal(404, get("/api/v1/shares/" .. open_share.token).status)
      end)
      strict.stop()
      assert(ok, err)
    end)
  end)

  it("describes every share route in the OpenAPI document", function()
    local doc = ok_json(visit("GET", "/api/v1/openapi.json"))
    for path, methods in pairs({
      ["/api/v1/shares"] = { "get", "post" }, ["/api/v1/shares/{token}"] = { "get", "patch" },
      ["/api/v1/shares/{token}/revoke"] = { "post" }, ["/api/v1/shares/{token}/unlock"] = { "post" },
      ["/api/v1/shares/{token}/download-url"] = { "get" }, ["/api/v1/albums"] = { "get", "post" },
      ["/api/v1/albums/{album_id}"] = { "get", "patch", "delete" },
      ["/api/v1/albums/{album_id}/assets"] = { "get", "post" },
      ["/api/v1/albums/{album_id}/assets/remove"] = { "post" }, ["/api/v1/tags"] = { "get" },
      ["/api/v1/tags/attach"] = { "post" }, ["/api/v1/tags/detach"] = { "post" },
      ["/api/v1/tags/{tag_id}"] = { "patch", "delete" }, ["/api/v1/assets/changes"] = { "get" },
      ["/api/v1/assets/{asset_id}/favorite"] = { "put", "delete" },
    }) do
      for _, method in ipairs(methods) do
        assert.is_table(doc.paths[path] and doc.paths[path][method], method .. " " .. path)
      end
    end
    assert.equal("X-Share-Session", doc.components.securitySchemes.shareSession.name)
  end)
end)
