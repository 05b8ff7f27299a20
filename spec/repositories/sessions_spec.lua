local sessions = require("repositories.sessions")
local users = require("repositories.users")
local ids = require("infra.ids")
local tokens = require("infra.tokens")

local function iso(offset)
  return core.time.iso8601(core.time.unix() + (offset or 0))
end

describe("repositories.sessions", function()
  local user_ids = {}

  local function new_user()
    local user = {
      id = ids.uuid(),
      email = "repo-sessions-" .. ids.uuid() .. "@example.com",
      password_hash = "x",
      created_at = iso(),
    }
    assert(users.insert(user))
    user_ids[#user_ids + 1] = user.id
    return user
  end

  -- Inserts a token row; returns the row as inserted and the raw token.
  local function new_session(user, fields)
    local raw, hash = tokens.new_refresh()
    local id = ids.uuid()
    local row = {
      id = id, family_id = id, user_id = user.id, token_hash = hash,
      user_agent = "spec", created_at = iso(), expires_at = iso(3600),
    }
    for key, value in pairs(fields or {}) do
      row[key] = value
    end
    assert.is_true(sessions.insert(row))
    return row, raw
  end

  teardown(function()
    for _, id in ipairs(user_ids) do
      core.db.exec("DELETE FROM sessions WHERE user_id = ?", id)
      core.db.exec("DELETE FROM users WHERE id = ?", id)
    end
  end)

  it("inserts a token row and finds it by the hash of the raw token", function()
    local user = new_user()
    local row, raw = new_session(user)
    local found = sessions.find_by_token_hash(tokens.hash_refresh(raw))
    assert.same({
      id = row.id, family_id = row.id, user_id = user.id,
      created_at = row.created_at, expires_at = row.expires_at,
    }, found)   -- used_at and revoked_at are NULL, so absent
  end)

  it("returns a bare nil for an unknown hash, and never matches the raw token", function()
    local user = new_user()
    local _, raw = new_session(user)
    local found, err = sessions.find_by_token_hash(tokens.hash_refresh("unknown"))
    assert.is_nil(found)
    assert.is_nil(err)
    assert.is_nil(sessions.find_by_token_hash(raw))
  end)

  it("refuses a second row with the same token hash", function()
    local user = new_user()
    local row = new_session(user)
    local ok, err = sessions.insert({
      id = ids.uuid(), family_id = row.family_id, user_id = user.id, token_hash = row.token_hash,
      created_at = iso(), expires_at = iso(60),
    })
    assert.is_nil(ok)
    assert.is_string(err)
  end)

  it("refuses a row for a user that does not exist (foreign key)", function()
    local ok, err = sessions.insert({
      id = ids.uuid(), family_id = ids.uuid(), user_id = ids.uuid(), token_hash = ids.uuid(),
      created_at = iso(), expires_at = iso(60),
    })
    assert.is_nil(ok)
    assert.matches("FOREIGN KEY", err)
  end)

  it("marks a token used once: true the first time, false after", function()
    local user = new_user()
    local row, raw = new_session(user)
    local now = iso()
    assert.is_true(sessions.mark_used(row.id, now))
    assert.is_false(sessions.mark_used(row.id, iso(5)))
    local found = sessions.find_by_token_hash(tokens.hash_refresh(raw))
    assert.equal(now, found.used_at)
    assert.is_false(sessions.mark_used(ids.uuid(), now))
  end)

  it("revokes a whole family and nothing else", function()
    local user = new_user()
    local first, first_raw = new_session(user)
    local _, second_raw = new_session(user, { family_id = first.family_id, parent_id = first.id })
    local _, other_raw = new_session(user)
    local now = iso()
    assert.is_true(sessions.revoke_family(first.family_id, now))
    assert.equal(now, sessions.find_by_token_hash(tokens.hash_refresh(first_raw)).revoked_at)
    assert.equal(now, sessions.find_by_token_hash(tokens.hash_refresh(second_raw)).revoked_at)
    assert.is_nil(sessions.find_by_token_hash(tokens.hash_refresh(other_raw)).revoked_at)
  end)

  it("keeps the first revocation time when a family is revoked again", function()
    local user = new_user()
    local row, raw = new_session(user)
    local first = iso()
    assert.is_true(sessions.revoke_family(row.family_id, first))
    assert.is_true(sessions.revoke_family(row.family_id, iso(100)))
    assert.equal(first, sessions.find_by_token_hash(tokens.hash_refresh(raw)).revoked_at)
  end)

  it("revokes every token of one user only", function()
    local user, other = new_user(), new_user()
    local _, a = new_session(user)
    local _, b = new_session(user)
    local _, c = new_session(other)
    assert.is_true(sessions.revoke_all_for_user(user.id, iso()))
    assert.is_string(sessions.find_by_token_hash(tokens.hash_refresh(a)).revoked_at)
    assert.is_string(sessions.find_by_token_hash(tokens.hash_refresh(b)).revoked_at)
    assert.is_nil(sessions.find_by_token_hash(tokens.hash_refresh(c)).revoked_at)
  end)

  describe("list_active_families", function()
    it("lists one row per live family, newest activity first", function()
      local user = new_user()
      local old = new_session(user, { created_at = iso(-300) })
      local old_used = iso(-200)
      core.db.exec("UPDATE sessions SET last_used_at = ? WHERE id = ?", old_used, old.id)
      local newer = new_session(user, { created_at = iso(-100) })
      local rotated = new_session(user, {
        family_id = newer.family_id, parent_id = newer.id, created_at = iso(-10),
      })
      local rows = assert(sessions.list_active_families(user.id, iso()))
      assert.equal(2, #rows)
      assert.equal(newer.family_id, rows[1].family_id)
      assert.equal(newer.created_at, rows[1].created_at)          -- when the family began
      assert.equal(rotated.created_at, rows[1].last_used_at)
      assert.equal(old.family_id, rows[2].family_id)
      assert.equal(old_used, rows[2].last_used_at)
    end)

    it("shows the user agent of the family's newest token", function()
      local user = new_user()
      local first = new_session(user, { user_agent = "Zeta Browser", created_at = iso(-60) })
      new_session(user, {
        family_id = first.family_id, parent_id = first.id, user_agent = "Alpha Browser",
        created_at = iso(-1),
      })
      local rows = sessions.list_active_families(user.id, iso())
      assert.equal(1, #rows)
      assert.equal("Alpha Browser", rows[1].user_agent)
    end)

    it("leaves out revoked and expired families and other users' sessions", function()
      local user, other = new_user(), new_user()
      local revoked = new_session(user)
      sessions.revoke_family(revoked.family_id, iso())
      new_session(user, { expires_at = iso(-1) })
      new_session(other)
      local live = new_session(user)
      local rows = sessions.list_active_families(user.id, iso())
      assert.equal(1, #rows)
      assert.equal(live.family_id, rows[1].family_id)
    end)

    it("returns an empty list for a user without sessions", function()
      assert.same({}, sessions.list_active_families(ids.uuid(), iso()))
    end)
  end)

  it("goes away with its user (ON DELETE CASCADE)", function()
    local user = new_user()
    local _, raw = new_session(user)
    core.db.exec("DELETE FROM users WHERE id = ?", user.id)
    assert.is_nil(sessions.find_by_token_hash(tokens.hash_refresh(raw)))
  end)

  it("deletes rows past their expiry and keeps live ones", function()
    local user = new_user()
    local _, old_raw = new_session(user, { expires_at = iso(-60) })
    local _, live_raw = new_session(user)
    assert.is_true(sessions.delete_expired(iso()) >= 1)
    assert.is_nil(sessions.find_by_token_hash(tokens.hash_refresh(old_raw)))
    assert.is_table(sessions.find_by_token_hash(tokens.hash_refresh(live_raw)))
  end)
end)
