local users = require("repositories.users")
local ids = require("infra.ids")

describe("repositories.users", function()
  local created = {}

  local function new_user(email)
    local user = {
      id = ids.uuid(),
      email = email or ("repo-users-" .. ids.uuid() .. "@example.com"),
      password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
      created_at = core.time.iso8601(),
    }
    created[#created + 1] = user.id
    return user
  end

  teardown(function()
    for _, id in ipairs(created) do
      core.db.exec("DELETE FROM users WHERE id = ?", id)
    end
  end)

  it("inserts a user and finds it by email and by id", function()
    local user = new_user()
    assert.is_true(users.insert(user))
    local found = users.find_by_email(user.email)
    assert.equal(user.id, found.id)
    assert.equal(user.email, found.email)
    assert.equal(user.password_hash, found.password_hash)
    assert.equal(1, found.is_active)
    assert.equal(0, found.token_epoch)
    assert.equal("integer", math.type(found.token_epoch))
    assert.equal(user.created_at, found.created_at)
    assert.equal(user.created_at, found.updated_at)
    assert.same(found, users.find_active(user.id))
  end)

  it("finds by email whatever the case stored (the service passes it lower-case)", function()
    local user = new_user("Repo-Mixed-" .. ids.uuid() .. "@Example.com")
    assert.is_true(users.insert(user))
    assert.equal(user.id, users.find_by_email(user.email:lower()).id)
  end)

  it("returns a bare nil for an absent user", function()
    local found, err = users.find_by_email("nobody-" .. ids.uuid() .. "@example.com")
    assert.is_nil(found)
    assert.is_nil(err)
    found, err = users.find_active(ids.uuid())
    assert.is_nil(found)
    assert.is_nil(err)
  end)

  it("refuses a second account for the same email in another case, code unique", function()
    local user = new_user()
    assert.is_true(users.insert(user))
    local twin = new_user(user.email:upper())
    local ok, err, code = users.insert(twin)
    assert.is_nil(ok)
    assert.is_string(err)
    assert.equal("unique", code)
    assert.is_nil(users.find_active(twin.id))
  end)

  it("refuses a duplicate id, code unique", function()
    local user = new_user()
    assert.is_true(users.insert(user))
    local again = new_user()
    again.id = user.id
    local ok, _, code = users.insert(again)
    assert.is_nil(ok)
    assert.equal("unique", code)
  end)

  it("returns nil, err, constraint when a required value is missing", function()
    local user = new_user()
    user.password_hash = nil
    local ok, err, code = users.insert(user)
    assert.is_nil(ok)
    assert.matches("NOT NULL", err)
    assert.equal("constraint", code)
  end)

  it("find_active skips inactive users, find_by_email does not", function()
    local user = new_user()
    assert.is_true(users.insert(user))
    core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", user.id)
    assert.is_nil(users.find_active(user.id))
    assert.equal(0, users.find_by_email(user.email).is_active)
  end)

  it("treats SQL in values as data", function()
    local probe = "' OR 1=1--@example.com"
    assert.is_nil(users.find_by_email(probe))
    assert.is_nil(users.find_by_email("%"))
    assert.is_nil(users.find_active("' OR '1'='1"))
  end)

  it("updates the password hash and updated_at", function()
    local user = new_user()
    assert.is_true(users.insert(user))
    local later = core.time.iso8601(core.time.unix() + 60)
    assert.is_true(users.update_password_hash(user.id, "$argon2id$new", later))
    local found = users.find_active(user.id)
    assert.equal("$argon2id$new", found.password_hash)
    assert.equal(later, found.updated_at)
    assert.equal(user.created_at, found.created_at)
  end)

  it("bumps the token epoch by one each time, for that user only", function()
    local user, other = new_user(), new_user()
    assert.is_true(users.insert(user))
    assert.is_true(users.insert(other))
    assert.is_true(users.bump_token_epoch(user.id, core.time.iso8601()))
    assert.is_true(users.bump_token_epoch(user.id, core.time.iso8601()))
    assert.equal(2, users.find_active(user.id).token_epoch)
    assert.equal(0, users.find_active(other.id).token_epoch)
  end)

  it("succeeds quietly when updating an absent user", function()
    assert.is_true(users.bump_token_epoch(ids.uuid(), core.time.iso8601()))
    assert.is_true(users.update_password_hash(ids.uuid(), "x", core.time.iso8601()))
  end)
end)
